//! Reporting duties, review, the completion board, reminders, period locks
//! and evidence files.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kc_app::workflow::{self as wf, DutyRow};
use kc_domain::auth::ValueKey;
use kc_domain::duty::DutyState;
use kc_domain::{Period, Plan};

use crate::account::Me;
use crate::auth::Session;
use crate::error::AppError;
use crate::extract::FormBody;
use crate::{AppState, Params};

fn render<T: Template>(t: &T) -> Result<Html<String>, AppError> {
    Ok(Html(t.render()?))
}

/// Largest evidence file.
pub const UPLOAD_LIMIT: usize = 10 * 1024 * 1024;

/// The header of workflow pages.
pub struct PlanHead {
    pub plan_code: String,
    pub plan_name: String,
    pub me: Me,
}

pub(crate) async fn plan_of(
    st: &AppState,
    sess: &Session,
    code: &str,
) -> Result<(Plan, PlanHead), AppError> {
    sess.require_business()?;
    plan_head(st, sess, code).await
}

/// The plan and the page header, for a user already allowed the page.
pub(crate) async fn plan_head(
    st: &AppState,
    sess: &Session,
    code: &str,
) -> Result<(Plan, PlanHead), AppError> {
    let stored = st
        .store
        .plan(code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("规划“{code}”不存在")))?;
    let head = PlanHead {
        plan_code: stored.plan.code.to_string(),
        plan_name: stored.plan.name.clone(),
        me: Me::new(sess, Some(&stored.plan)),
    };
    Ok((stored.plan, head))
}

fn history_href(plan: &Plan, d: &DutyRow) -> String {
    format!(
        "/plans/{}/values/history?indicator={}&scope={}&period={}",
        plan.code, d.duty.indicator, d.duty.scope, d.duty.period
    )
}

// ---- duties ---------------------------------------------------------------------------------

pub struct DutyView {
    pub unit: String,
    pub indicator: String,
    pub scope: String,
    pub period: String,
    pub due: String,
    pub state: &'static str,
    pub state_code: String,
    pub late: bool,
    pub value: String,
    pub comment: String,
    pub href: String,
    pub entry_href: String,
}

#[derive(Template)]
#[template(path = "duties.html")]
pub struct DutiesPage {
    pub nav: PlanHead,
    pub rows: Vec<DutyView>,
    pub filter: String,
    pub counts: Vec<(&'static str, &'static str, usize)>,
    pub total: usize,
    pub pager: crate::paging::Pager,
    /// What the reader typed in the search box (unit, indicator, area).
    pub text: String,
}

fn state_code(s: DutyState) -> &'static str {
    match s {
        DutyState::Due => "due",
        DutyState::Overdue => "overdue",
        DutyState::Draft => "draft",
        DutyState::Submitted => "submitted",
        DutyState::Returned => "returned",
        DutyState::Approved => "approved",
    }
}

/// `GET /plans/{plan}/duties?state=open|overdue|returned|all`: the user's
/// duties (the coordinator's: all), newest periods first.
pub async fn duties(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let (plan, head) = plan_of(&st, &sess, &code).await?;
    let p = &sess.principal;
    sess.require(p.reports_any() || p.reviews_any(), "查看填报任务")?;
    let rows = wf::duty_rows(&st.store, &plan, st.today()).await?;
    let mine = wf::duties_of(&rows, p);
    let filter = q.get("state").cloned().unwrap_or_else(|| "open".into());
    let mut counts: Vec<(&'static str, &'static str, usize)> = [
        DutyState::Overdue,
        DutyState::Due,
        DutyState::Draft,
        DutyState::Returned,
        DutyState::Submitted,
        DutyState::Approved,
    ]
    .into_iter()
    .map(|s| {
        (
            state_code(s),
            s.zh(),
            mine.iter().filter(|r| r.state == s).count(),
        )
    })
    .collect();
    counts.insert(
        0,
        (
            "open",
            "未完成",
            mine.iter().filter(|r| r.state.is_open()).count(),
        ),
    );
    let keep = |r: &&&DutyRow| match filter.as_str() {
        "all" => true,
        "open" => r.state.is_open(),
        f => state_code(r.state) == f,
    };
    let text = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let mut shown: Vec<&&DutyRow> = mine
        .iter()
        .filter(keep)
        .filter(|r| {
            crate::paging::matches(
                &text,
                &[
                    plan.unit_name(r.duty.unit.as_str()),
                    plan.indicator(r.duty.indicator.as_str())
                        .map_or("", |i| i.name.as_str()),
                    r.duty.scope.name(&plan),
                    &r.duty.period.zh(),
                ],
            )
        })
        .collect();
    shown.sort_by(|a, b| {
        b.duty
            .due
            .cmp(&a.duty.due)
            .then(a.duty.unit.cmp(&b.duty.unit))
    });
    let (shown, pager) =
        crate::paging::paginate(shown, &q, &format!("/plans/{code}/duties"), "duties");
    let views = shown
        .into_iter()
        .map(|r| {
            let ind = plan.indicator(r.duty.indicator.as_str());
            DutyView {
                unit: plan.unit_name(r.duty.unit.as_str()).to_string(),
                indicator: ind.map(|i| i.name.clone()).unwrap_or_default(),
                scope: r.duty.scope.name(&plan).to_string(),
                period: r.duty.period.zh(),
                due: r.duty.due.to_string(),
                state: r.state.zh(),
                state_code: state_code(r.state).to_string(),
                // "Late" describes a submission; an overdue duty says so itself.
                late: r.late && matches!(r.state, DutyState::Submitted | DutyState::Approved),
                value: r
                    .value
                    .as_ref()
                    .map(|v| format!("{} {}", crate::view::num(v.value, 4), v.unit))
                    .unwrap_or_default(),
                comment: r
                    .value
                    .as_ref()
                    .map(|v| v.review_comment.clone())
                    .unwrap_or_default(),
                href: history_href(&plan, r),
                entry_href: format!(
                    "/plans/{}/values/new?indicator={}&scope={}&period={}",
                    plan.code, r.duty.indicator, r.duty.scope, r.duty.period
                ),
            }
        })
        .collect();
    render(&DutiesPage {
        nav: head,
        rows: views,
        filter,
        counts,
        total: mine.len(),
        pager,
        text,
    })
}

// ---- review ---------------------------------------------------------------------------------

pub struct ReviewView {
    pub id: i64,
    pub indicator: String,
    pub scope: String,
    pub period: String,
    pub value: String,
    pub previous: String,
    pub note: String,
    pub entered: String,
    pub href: String,
    pub own: bool,
    pub correction: bool,
}

#[derive(Template)]
#[template(path = "review.html")]
pub struct ReviewPage {
    pub nav: PlanHead,
    pub rows: Vec<ReviewView>,
}

/// `GET /plans/{plan}/review`: submitted values the user may review.
pub async fn review_queue(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
) -> Result<Html<String>, AppError> {
    let (plan, head) = plan_of(&st, &sess, &code).await?;
    let p = &sess.principal;
    sess.require(p.reviews_any(), "审核数据")?;
    let approved: HashMap<(String, String, Period), f64> = st
        .store
        .approved_values(plan.code.as_str())
        .await?
        .into_iter()
        .map(|r| ((r.indicator, r.scope.to_string(), r.period), r.value))
        .collect();
    let names = st.names().await?;
    let mut rows = Vec::new();
    for (r, _) in st.store.newest_values(plan.code.as_str()).await? {
        if r.status != kc_domain::duty::ValueStatus::Submitted
            || !p.can_review(
                &plan,
                ValueKey {
                    indicator: &r.indicator,
                    scope: &r.scope,
                },
            )
        {
            continue;
        }
        let ind = plan.indicator(&r.indicator);
        let dec = ind.map(|i| i.decimals).unwrap_or(2).max(2);
        rows.push(ReviewView {
            id: r.id,
            indicator: ind
                .map(|i| i.name.clone())
                .unwrap_or_else(|| r.indicator.clone()),
            scope: r.scope.name(&plan).to_string(),
            period: r.period.zh(),
            value: format!("{} {}", crate::view::num(r.value, dec), r.unit),
            previous: approved
                .get(&(r.indicator.clone(), r.scope.to_string(), r.period))
                .map(|v| crate::view::num(*v, dec))
                .unwrap_or_else(|| "—".into()),
            note: r.note.clone(),
            entered: format!(
                "{} {}",
                names
                    .get(&r.entered_by)
                    .cloned()
                    .unwrap_or_else(|| r.entered_by.clone()),
                kc_app::auth::local_time(&r.entered_at)
            ),
            href: kc_app::workflow::history_href(&plan, &r),
            own: r.entered_by == p.username,
            correction: r.correction,
        });
    }
    render(&ReviewPage { nav: head, rows })
}

/// Back to the value's history page, saying what was done.
fn back_to_history(plan: &Plan, rec: &kc_app::store::ValueRecord, done: &str) -> Response {
    let href = kc_app::workflow::history_href(plan, rec);
    Redirect::to(&format!("{href}&done={done}")).into_response()
}

/// A review decision on one stored value.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewForm {
    id: i64,
    /// `approve` or `return`, from the button pressed.
    action: String,
    comment: String,
}

/// One stored value, by its number.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ValueIdForm {
    id: i64,
}

/// A reminder to one unit, or to every unit with open duties.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RemindForm {
    unit: String,
}

/// A period to lock.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LockForm {
    period: String,
}

/// `POST /plans/{plan}/values/review` with `id`, `action=approve|return`,
/// `comment`.
pub async fn review(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    FormBody(f): FormBody<ReviewForm>,
) -> Result<Response, AppError> {
    let (plan, _) = plan_of(&st, &sess, &code).await?;
    let approve = match f.action.as_str() {
        "approve" => true,
        "return" => false,
        _ => return Err(AppError::BadRequest("请选择“审核通过”或“退回修改”".into())),
    };
    let rec = match wf::review(&st.store, &plan, &sess.caller(), f.id, approve, &f.comment).await {
        Ok(rec) => rec,
        // A return without a reason goes back to the value's page with the
        // message beside the comment box, not to an error page.
        Err(kc_app::RecordError::Invalid(errs)) if errs.iter().any(|e| e.field == "comment") => {
            let Some(r) = st.store.value_by_id(f.id).await? else {
                return Err(AppError::NotFound("数据不存在".into()));
            };
            let href = kc_app::workflow::history_href(&plan, &r);
            return Ok(Redirect::to(&format!("{href}&problem=comment#review")).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    Ok(back_to_history(
        &plan,
        &rec,
        if approve { "approved" } else { "returned" },
    ))
}

/// `POST /plans/{plan}/values/submit` with `id`: a draft goes to review.
pub async fn submit(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    FormBody(f): FormBody<ValueIdForm>,
) -> Result<Response, AppError> {
    let (plan, _) = plan_of(&st, &sess, &code).await?;
    let rec = wf::submit(&st.store, &plan, &sess.caller(), f.id).await?;
    Ok(back_to_history(&plan, &rec, "submitted"))
}

// ---- board, reminders, locks ---------------------------------------------------------------------

pub struct BoardRow {
    pub unit: String,
    pub code: String,
    pub cells: Vec<(String, &'static str, String)>,
    pub open: usize,
}

#[derive(Template)]
#[template(path = "board.html")]
pub struct BoardPage {
    pub nav: PlanHead,
    pub periods: Vec<(String, String, bool)>,
    pub rows: Vec<BoardRow>,
    pub message: String,
    pub smtp: bool,
}

/// `GET /plans/{plan}/board`: unit × period, submitted on time, late,
/// missing. The coordinator and leaders see it.
pub async fn board(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let (plan, head) = plan_of(&st, &sess, &code).await?;
    sess.require(sess.principal.reads_all(), "查看报送看板")?;
    let rows = wf::duty_rows(&st.store, &plan, st.today()).await?;
    let cells = wf::board(&rows);
    let locks: BTreeSet<Period> = st
        .store
        .locked_periods(plan.code.as_str())
        .await?
        .into_iter()
        .map(|(p, _, _)| p)
        .collect();
    // The most recent periods that have duties, newest first.
    let mut periods: Vec<Period> = cells
        .keys()
        .map(|(_, p)| *p)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    periods.sort_by_key(|p| std::cmp::Reverse((p.end(), *p)));
    periods.truncate(8);
    // Departments, then areas, in the plan's order.
    let present: BTreeSet<&kc_domain::Code> = cells.keys().map(|(u, _)| u).collect();
    let units: Vec<&kc_domain::Code> = plan
        .departments
        .iter()
        .map(|d| &d.code)
        .chain(plan.areas.iter().map(|a| &a.code))
        .filter(|c| present.contains(c))
        .collect();
    let mut out: Vec<BoardRow> = Vec::new();
    for u in units {
        let mut open = 0;
        let row_cells = periods
            .iter()
            .map(|p| match cells.get(&(u.clone(), *p)) {
                None => (String::new(), "", String::new()),
                Some(c) => {
                    open += c.missing + c.pending + c.returned;
                    let class = if c.missing > 0 || c.returned > 0 {
                        "missing"
                    } else if c.late > 0 {
                        "late"
                    } else if c.pending > 0 {
                        ""
                    } else {
                        "done"
                    };
                    (
                        format!("{}/{}", c.on_time + c.late, c.total),
                        class,
                        format!(
                            "按时 {} · 迟报 {} · 未报 {} · 待报 {} · 退回 {}",
                            c.on_time, c.late, c.missing, c.pending, c.returned
                        ),
                    )
                }
            })
            .collect();
        out.push(BoardRow {
            unit: plan.unit_name(u.as_str()).to_string(),
            code: u.to_string(),
            cells: row_cells,
            open,
        });
    }
    let message = match q.get("done").map(String::as_str) {
        Some("reminded") => format!(
            "已向 {} 个单位的 {} 个账号发出催报提醒{}。",
            q.get("units").map(String::as_str).unwrap_or("0"),
            q.get("notified").map(String::as_str).unwrap_or("0"),
            q.get("mailed")
                .filter(|m| *m != "0")
                .map(|m| format!("，其中 {m} 封邮件"))
                .unwrap_or_default()
        ),
        Some("locked") => "期间已锁定。".to_string(),
        _ => String::new(),
    };
    render(&BoardPage {
        nav: head,
        periods: periods
            .iter()
            .map(|p| (p.to_string(), p.zh(), locks.contains(p)))
            .collect(),
        rows: out,
        message,
        smtp: st.smtp.is_some(),
    })
}

/// `POST /plans/{plan}/board/remind` with optional `unit` (all units with
/// open duties when absent).
pub async fn remind(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    FormBody(f): FormBody<RemindForm>,
) -> Result<Response, AppError> {
    let (plan, _) = plan_of(&st, &sess, &code).await?;
    sess.require(sess.principal.is_coordinator(), "发送催报提醒")?;
    let units: Vec<String> = Some(f.unit).filter(|u| !u.is_empty()).into_iter().collect();
    let out = wf::remind(
        &st.store,
        &plan,
        &sess.actor(),
        &units,
        st.today(),
        st.smtp.as_ref(),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/plans/{}/board?done=reminded&units={}&notified={}&mailed={}",
        plan.code, out.units, out.notified, out.mailed
    ))
    .into_response())
}

/// `POST /plans/{plan}/locks` with `period`.
pub async fn lock(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    FormBody(f): FormBody<LockForm>,
) -> Result<Response, AppError> {
    let (plan, _) = plan_of(&st, &sess, &code).await?;
    let period: Period = f
        .period
        .parse()
        .map_err(|e: kc_domain::period::PeriodError| AppError::BadRequest(e.to_string()))?;
    wf::lock_period(&st.store, &plan, &sess.caller(), period).await?;
    Ok(Redirect::to(&format!("/plans/{}/board?done=locked", plan.code)).into_response())
}

// ---- evidence ---------------------------------------------------------------------------------------

/// `POST /plans/{plan}/values/attachments?_csrf=…` (multipart: `id`,
/// `file`): the type is checked by content, the size by limit.
pub async fn upload(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    let (plan, _) = plan_of(&st, &sess, &code).await?;
    let too_big =
        || AppError::BadRequest(format!("文件不能超过 {} MB", UPLOAD_LIMIT / 1024 / 1024));
    let mut id: Option<i64> = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = mp.next_field().await.map_err(|_| too_big())? {
        match field.name() {
            Some("id") => id = field.text().await.ok().and_then(|t| t.trim().parse().ok()),
            Some("file") => {
                // A name is shown back on pages and in downloads; what
                // nobody types (a right-to-left override making
                // `gpj.exe` read `exe.jpg`) is dropped.
                let name = kc_domain::text::strip_forbidden(field.file_name().unwrap_or(""));
                let bytes = field.bytes().await.map_err(|_| too_big())?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let id = id.ok_or_else(|| {
        AppError::BadRequest("表单已损坏（缺少数据编号），请刷新页面后重试".into())
    })?;
    let (name, bytes) = file
        .filter(|(n, _)| !n.is_empty())
        .ok_or_else(|| AppError::BadRequest("请选择要上传的文件".into()))?;
    let rec = st
        .store
        .value_by_id(id)
        .await?
        .filter(|r| r.plan_code == plan.code.as_str())
        .ok_or_else(|| AppError::NotFound("数据不存在".into()))?;
    sess.require(
        sess.principal.can_report(
            &plan,
            ValueKey {
                indicator: &rec.indicator,
                scope: &rec.scope,
            },
        ),
        "为该数据上传佐证材料",
    )?;
    let kind = kc_io::sniff::check(&name, &bytes, UPLOAD_LIMIT)
        .map_err(|e| AppError::BadRequest(format!("“{name}”不能上传：{e}")))?;
    // Only the last part of a path some browsers send, and nothing that
    // could break a header.
    let clean: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(200)
        .collect();
    wf::attach(
        &st.store,
        &plan,
        &sess.caller(),
        &rec,
        &clean,
        kind.mime(),
        &bytes,
    )
    .await?;
    Ok(back_to_history(&plan, &rec, "uploaded"))
}

/// `GET /plans/{plan}/attachments/{id}`: only for those who may see the
/// value the file belongs to (its unpublished revisions included).
pub async fn download(
    State(st): State<AppState>,
    sess: Session,
    Path((code, id)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    let (plan, _) = plan_of(&st, &sess, &code).await?;
    let (a, bytes) = st
        .store
        .attachment(id)
        .await?
        .ok_or_else(|| AppError::NotFound("附件不存在".into()))?;
    let rec = st
        .store
        .value_by_id(a.value_id)
        .await?
        .filter(|r| r.plan_code == plan.code.as_str())
        .ok_or_else(|| AppError::NotFound("附件不存在".into()))?;
    let key = ValueKey {
        indicator: &rec.indicator,
        scope: &rec.scope,
    };
    let visible = rec.status == kc_domain::duty::ValueStatus::Approved
        || sess.principal.sees_unpublished(&plan, key);
    if !visible {
        // Not found rather than forbidden: the file's existence is not shown.
        return Err(AppError::NotFound("附件不存在".into()));
    }
    kc_app::auth::audit(
        &st.store,
        &sess.actor(),
        "export",
        &format!("attachment:{id}"),
        serde_json::json!({"file": a.filename}),
    )
    .await?;
    let disposition = format!(
        "attachment; filename=\"evidence-{id}\"; filename*=UTF-8''{}",
        crate::auth::url_encode(&a.filename)
    );
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&a.mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/plans/{plan}/duties", get(self::duties))
        .route("/plans/{plan}/review", get(self::review_queue))
        .route("/plans/{plan}/values/review", post(self::review))
        .route("/plans/{plan}/values/submit", post(self::submit))
        .route(
            "/plans/{plan}/values/attachments",
            post(self::upload).layer(axum::extract::DefaultBodyLimit::max(
                self::UPLOAD_LIMIT + 64 * 1024,
            )),
        )
        .route("/plans/{plan}/attachments/{id}", get(self::download))
        .route("/plans/{plan}/board", get(self::board))
        .route("/plans/{plan}/board/remind", post(self::remind))
        .route("/plans/{plan}/locks", post(self::lock))
}

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    routes()
}
