//! The administrators' pages, kept apart (三员分立): accounts for the
//! system administrator, roles, resets and locks for the security
//! administrator, the audit trail for the audit administrator.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use kc_app::auth::{UserSpec, local_time};
use kc_app::store::AuditFilter;

use crate::account::Me;
use crate::auth::Session;
use crate::error::AppError;
use crate::extract::FormBody;
use crate::pages::Opt;
use crate::{AppState, Params};

fn render<T: Template>(t: &T) -> Result<Html<String>, AppError> {
    Ok(Html(t.render()?))
}

pub struct UserRow {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub roles_zh: String,
    pub state: String,
    pub disabled: bool,
    /// Locked after failed logins (until a time).
    pub locked: bool,
    pub last_login: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub me: Me,
    pub users: Vec<UserRow>,
    pub message: String,
    pub error: String,
    pub can_create: bool,
    pub can_secure: bool,
}

async fn users_page(
    st: &AppState,
    sess: &Session,
    message: String,
    error: String,
) -> Result<UsersPage, AppError> {
    let plans = st.store.plans().await?;
    let plan = plans.first().map(|s| &s.plan);
    let now = kc_app::auth::now_text();
    let users = st
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| {
            let roles: Vec<kc_domain::auth::Role> =
                u.roles.iter().filter_map(|r| r.parse().ok()).collect();
            let locked = u
                .locked_until
                .as_ref()
                .filter(|t| t.as_str() > now.as_str());
            UserRow {
                state: if u.disabled {
                    "已停用".into()
                } else if let Some(t) = locked {
                    format!("锁定至 {}", local_time(t))
                } else if u.must_change {
                    "待修改初始密码".into()
                } else {
                    "正常".into()
                },
                disabled: u.disabled,
                locked: locked.is_some(),
                roles_zh: roles
                    .iter()
                    .map(|r| r.zh(plan))
                    .collect::<Vec<_>>()
                    .join("、"),
                last_login: u
                    .last_login_at
                    .as_deref()
                    .map(local_time)
                    .unwrap_or_default(),
                username: u.username,
                display_name: u.display_name,
                email: u.email,
            }
        })
        .collect();
    Ok(UsersPage {
        me: Me::new(sess, None),
        users,
        message,
        error,
        can_create: sess.principal.manages_accounts(),
        can_secure: sess.principal.manages_security(),
    })
}

fn require_accounts(sess: &Session) -> Result<(), AppError> {
    let p = &sess.principal;
    sess.require(p.manages_accounts() || p.manages_security(), "管理账号")
}

pub async fn users(State(st): State<AppState>, sess: Session) -> Result<Html<String>, AppError> {
    require_accounts(&sess)?;
    render(&users_page(&st, &sess, String::new(), String::new()).await?)
}

async fn answer(
    st: &AppState,
    sess: &Session,
    r: Result<String, AppError>,
) -> Result<Response, AppError> {
    match r {
        Ok(message) => {
            Ok(render(&users_page(st, sess, message, String::new()).await?)?.into_response())
        }
        Err(AppError::BadRequest(m)) | Err(AppError::NotFound(m)) => {
            let page = users_page(st, sess, String::new(), m).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        // A refusal for this account (三员分立) is said on the page itself.
        Err(AppError::Forbidden(m)) => {
            let page = users_page(st, sess, String::new(), m).await?;
            Ok((StatusCode::FORBIDDEN, render(&page)?).into_response())
        }
        Err(e) => Err(e),
    }
}

fn role_list(text: &str) -> Vec<String> {
    text.split([' ', ',', '，', '、', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A new account: its name, the person's name and mail address.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    email: String,
}

/// A group of role check boxes: its heading and (value, label, ticked).
pub type RoleGroup = (&'static str, Vec<(String, String, bool)>);

/// One account's roles as check boxes with their names, grouped as people
/// think of them: administrators, plan-wide roles, departments, areas.
#[derive(Template)]
#[template(path = "admin_roles.html")]
pub struct RolesPage {
    pub me: Me,
    pub username: String,
    pub display_name: String,
    pub groups: Vec<RoleGroup>,
    pub error: String,
}

async fn roles_page(
    st: &AppState,
    sess: &Session,
    user: &str,
    chosen: Option<&[String]>,
    error: String,
) -> Result<RolesPage, AppError> {
    let plans = st.store.plans().await?;
    let plan = plans
        .first()
        .map(|s| &s.plan)
        .ok_or_else(|| AppError::BadRequest("还没有载入规划，无法按部门和地区分配角色".into()))?;
    let u = st
        .store
        .user(user)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("没有账号“{user}”")))?;
    let held: Vec<String> = match chosen {
        Some(c) => c.to_vec(),
        None => u.roles.clone(),
    };
    let mut groups: Vec<RoleGroup> = vec![
        ("管理员（三员分立，不能兼任其他角色）", Vec::new()),
        ("全局角色", Vec::new()),
        ("部门", Vec::new()),
        ("地区", Vec::new()),
    ];
    for r in kc_domain::auth::Role::every(plan) {
        let g = match r {
            kc_domain::auth::Role::SysAdmin
            | kc_domain::auth::Role::SecAdmin
            | kc_domain::auth::Role::AuditAdmin => 0,
            kc_domain::auth::Role::DeptReporter(_) | kc_domain::auth::Role::DeptReviewer(_) => 2,
            kc_domain::auth::Role::AreaReporter(_) | kc_domain::auth::Role::AreaReviewer(_) => 3,
            _ => 1,
        };
        let code = r.to_string();
        let on = held.contains(&code);
        groups[g].1.push((code, r.zh(Some(plan)), on));
    }
    Ok(RolesPage {
        me: Me::new(sess, None),
        username: u.username,
        display_name: u.display_name,
        groups,
        error,
    })
}

/// `GET /admin/users/{user}/roles`: the security administrator's picker.
pub async fn roles_form(
    State(st): State<AppState>,
    sess: Session,
    Path(user): Path<String>,
) -> Result<Response, AppError> {
    sess.require(sess.principal.manages_security(), "分配角色")?;
    Ok(render(&roles_page(&st, &sess, &user, None, String::new()).await?)?.into_response())
}

/// `POST /admin/users`: the system administrator creates an account without
/// roles; granting them is the security administrator's work (三员分立).
pub async fn create_user(
    State(st): State<AppState>,
    sess: Session,
    FormBody(f): FormBody<NewUserForm>,
) -> Result<Response, AppError> {
    sess.require(sess.principal.manages_accounts(), "新建账号")?;
    let r = async {
        let spec = UserSpec {
            username: f.username.trim().to_string(),
            display_name: f.display_name,
            email: f.email,
            roles: Vec::new(),
            password: None,
            must_change: true,
        };
        let (u, pw) = kc_app::auth::add_user(&st.store, &sess.actor(), &spec, &st.security.password).await?;
        Ok::<_, AppError>(format!(
            "已新建账号 {}，初始密码：{pw}（只显示这一次，请当面或以安全方式告知本人；首次登录须修改）。请安全管理员为其分配角色。",
            u.username
        ))
    }
    .await;
    answer(&st, &sess, r).await
}

/// `POST /admin/users/{user}/roles`: the picker's check boxes (`role`,
/// repeated) or a typed list (`roles`: names such as 龙子湖区填报员 or
/// codes, separated by spaces, commas or lines).
pub async fn set_roles(
    State(st): State<AppState>,
    sess: Session,
    Path(user): Path<String>,
    FormBody(f): FormBody<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    sess.require(sess.principal.manages_security(), "分配角色")?;
    let plans = st.store.plans().await?;
    let mut asked: Vec<String> = Vec::new();
    let mut picker = false;
    for (k, v) in &f {
        match k.as_str() {
            "role" => {
                picker = true;
                asked.push(v.trim().to_string());
            }
            "roles" => asked.extend(role_list(v)),
            "_csrf" | "picker" => picker |= k == "picker",
            other => {
                return Err(AppError::BadRequest(format!(
                    "表单中有不认识的字段“{other}”"
                )));
            }
        }
    }
    let r = async {
        let roles = kc_app::auth::parse_roles(&asked, plans.first().map(|s| &s.plan))?;
        kc_app::auth::admin_set_roles(&st.store, &sess.caller(), &user, &roles).await?;
        Ok(format!("已更新 {user} 的角色；其登录已失效，需重新登录。"))
    }
    .await;
    match r {
        // A refusal from the picker is shown on the picker, boxes as ticked.
        Err(AppError::BadRequest(m)) | Err(AppError::Forbidden(m)) if picker => {
            let page = roles_page(&st, &sess, &user, Some(&asked), m).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        r => answer(&st, &sess, r).await,
    }
}

pub async fn reset(
    State(st): State<AppState>,
    sess: Session,
    Path(user): Path<String>,
) -> Result<Response, AppError> {
    sess.require(sess.principal.manages_security(), "重置密码")?;
    let r = async {
        let pw = kc_app::auth::admin_reset_password(&st.store, &sess.caller(), &user).await?;
        Ok(format!(
            "已重置 {user} 的密码，临时密码：{pw}（只显示这一次；登录后须修改）"
        ))
    }
    .await;
    answer(&st, &sess, r).await
}

async fn set_lock(
    st: AppState,
    sess: Session,
    user: String,
    lock: bool,
) -> Result<Response, AppError> {
    sess.require(sess.principal.manages_security(), "停用或启用账号")?;
    let r = async {
        kc_app::auth::admin_set_locked(&st.store, &sess.caller(), &user, lock).await?;
        Ok(if lock {
            format!("已停用 {user}，其登录已全部失效。")
        } else {
            format!("已启用 {user}，并清除了登录失败锁定。")
        })
    }
    .await;
    answer(&st, &sess, r).await
}

pub async fn lock(
    State(st): State<AppState>,
    sess: Session,
    Path(user): Path<String>,
) -> Result<Response, AppError> {
    set_lock(st, sess, user, true).await
}

pub async fn unlock(
    State(st): State<AppState>,
    sess: Session,
    Path(user): Path<String>,
) -> Result<Response, AppError> {
    set_lock(st, sess, user, false).await
}

// ---- audit ------------------------------------------------------------------------------------------

pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    /// The person's name, and the account name beside it.
    pub actor_name: String,
    pub actor: String,
    pub ip: String,
    /// The action and object in words.
    pub action: String,
    pub object: String,
    pub detail: String,
    /// The entry as stored (code, object and JSON), for the auditor.
    pub raw: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
pub struct AuditPage {
    pub me: Me,
    pub rows: Vec<AuditRow>,
    pub pager: crate::paging::Pager,
    pub actor: String,
    pub from: String,
    pub to: String,
    pub query: String,
    pub verify: Option<(bool, String)>,
    pub retention_days: i64,
    pub actions: Vec<Opt>,
    /// A filter the page could not read, said beside it.
    pub error: String,
}

fn audit_filter(q: &HashMap<String, String>, limit: i64) -> Result<AuditFilter, AppError> {
    // Dates are days in Beijing time (UTC+8); the trail is stored in UTC, so
    // a day runs from 16:00 UTC the day before.
    let date = |k: &str| -> Result<Option<chrono::NaiveDate>, AppError> {
        match q.get(k).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => kc_domain::registry::parse_date(s).map(Some).ok_or_else(|| {
                AppError::BadRequest(format!("日期“{s}”不正确，应为如 2025-12-01 的日期"))
            }),
        }
    };
    let start_utc = |d: chrono::NaiveDate| format!("{}T16:00:00.000Z", d - chrono::Days::new(1));
    Ok(AuditFilter {
        actor: q.get("actor").map(|s| s.trim().to_string()),
        action: q.get("action").map(|s| s.trim().to_string()),
        from: date("from")?.map(start_utc),
        // The end of the day is the start of the next one, minus a moment.
        to: date("to")?.map(|d| format!("{}T15:59:59.999Z", d)),
        limit,
    })
}

fn audit_query(q: &HashMap<String, String>) -> String {
    ["actor", "action", "from", "to"]
        .iter()
        .filter_map(|k| {
            q.get(*k)
                .map(|v| format!("{k}={}", crate::auth::url_encode(v)))
        })
        .collect::<Vec<_>>()
        .join("&")
}

async fn audit_page(
    st: &AppState,
    sess: &Session,
    q: &HashMap<String, String>,
    verify: Option<(bool, String)>,
) -> Result<Response, AppError> {
    sess.require(
        sess.principal.reads_audit(),
        "查看审计日志（仅限审计管理员）",
    )?;
    // A filter that cannot be read is said on the page, the list empty.
    // The newest 5,000 matches, shown a page at a time; the CSV export has
    // every match.
    let (f, error) = match audit_filter(q, 5000) {
        Ok(f) => (Some(f), String::new()),
        Err(AppError::BadRequest(m)) => (None, m),
        Err(e) => return Err(e),
    };
    let entries = match &f {
        Some(f) => st.store.audit_entries(f).await?,
        None => Vec::new(),
    };
    let names: HashMap<String, String> = st
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.username, u.display_name))
        .collect();
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            seq: e.seq,
            at: local_time(&e.at),
            actor_name: names
                .get(&e.actor)
                .filter(|n| !n.is_empty())
                .cloned()
                .unwrap_or_default(),
            raw: format!("{} {} {}", e.action, e.object, e.detail),
            action: super::audit_words::action_zh(&e.action),
            object: super::audit_words::object_zh(&e.object),
            detail: super::audit_words::detail_zh(&e.detail),
            actor: e.actor,
            ip: e.ip,
        })
        .collect();
    let (rows, pager) = crate::paging::paginate(
        rows,
        &axum::extract::Query(q.clone()),
        "/admin/audit",
        "audit",
    );
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let chosen = get("action");
    let actions = std::iter::once(Opt {
        value: String::new(),
        label: "全部操作".into(),
        selected: chosen.is_empty(),
    })
    .chain(super::audit_words::ACTIONS.iter().map(|(c, n)| Opt {
        value: c.to_string(),
        label: n.to_string(),
        selected: *c == chosen,
    }))
    .collect();
    let page = AuditPage {
        me: Me::new(sess, None),
        rows,
        pager,
        actor: get("actor"),
        from: get("from"),
        to: get("to"),
        query: audit_query(q),
        verify,
        retention_days: st.security.audit_retention_days,
        actions,
        error,
    };
    let status = if page.error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, render(&page)?).into_response())
}

/// `GET /admin/audit?actor=&action=&from=&to=&page=`: the newest 5,000
/// matches, 50 a page.
pub async fn audit(
    State(st): State<AppState>,
    sess: Session,
    q: Params,
) -> Result<Response, AppError> {
    audit_page(&st, &sess, &q, None).await
}

/// `GET /admin/audit/verify`: walks the hash chain.
pub async fn audit_verify(
    State(st): State<AppState>,
    sess: Session,
    q: Params,
) -> Result<Response, AppError> {
    sess.require(sess.principal.reads_audit(), "校验审计日志")?;
    let r = st.store.audit_verify().await?;
    kc_app::auth::audit(
        &st.store,
        &sess.actor(),
        "audit.verify",
        "audit",
        serde_json::json!({"ok": r.problems.is_empty()}),
    )
    .await?;
    let text = if r.problems.is_empty() {
        format!(
            "审计链完整：共 {} 条记录，链头第 {} 条，哈希 {}",
            r.entries, r.head_seq, r.head_hash
        )
    } else {
        format!(
            "发现 {} 处问题：{}",
            r.problems.len(),
            r.problems.join("；")
        )
    };
    audit_page(&st, &sess, &q, Some((r.problems.is_empty(), text))).await
}

/// `GET /admin/audit/export?…`: every match as CSV (UTF-8 with BOM, which
/// Excel opens correctly); the export is itself audited.
pub async fn audit_export(
    State(st): State<AppState>,
    sess: Session,
    q: Params,
) -> Result<Response, AppError> {
    sess.require(sess.principal.reads_audit(), "导出审计日志")?;
    let f = audit_filter(&q, i64::MAX)?;
    let entries = st.store.audit_entries(&f).await?;
    let times: Vec<(String, String)> = entries
        .iter()
        .map(|e| (e.seq.to_string(), local_time(&e.at)))
        .collect();
    let header = vec![
        "序号",
        "时间（北京时间）",
        "操作人",
        "来源地址",
        "操作",
        "操作说明",
        "对象",
        "详情",
        "前序哈希",
        "哈希",
    ];
    // kc-io's one CSV writer: a cell that would run as a formula (a failed
    // login's user name "=HYPERLINK(…)") is written as text.
    let words: Vec<String> = entries
        .iter()
        .map(|e| super::audit_words::action_zh(&e.action))
        .collect();
    let bytes = kc_io::csv_table(
        std::iter::once(header).chain(entries.iter().zip(&times).zip(&words).map(
            |((e, (seq, at)), w)| {
                vec![
                    seq.as_str(),
                    at.as_str(),
                    &e.actor,
                    &e.ip,
                    &e.action,
                    w.as_str(),
                    &e.object,
                    &e.detail,
                    &e.prev_hash,
                    &e.hash,
                ]
            },
        )),
    );
    kc_app::auth::audit(
        &st.store,
        &sess.actor(),
        "export",
        "audit",
        serde_json::json!({"rows": entries.len(), "query": q.0.clone()}),
    )
    .await?;
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit.csv\"; filename*=UTF-8''%E5%AE%A1%E8%AE%A1%E6%97%A5%E5%BF%97.csv"),
    );
    Ok(resp)
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/admin/users", get(self::users).post(self::create_user))
        .route(
            "/admin/users/{user}/roles",
            get(self::roles_form).post(self::set_roles),
        )
        .route("/admin/users/{user}/reset", post(self::reset))
        .route("/admin/users/{user}/lock", post(self::lock))
        .route("/admin/users/{user}/unlock", post(self::unlock))
        .route("/admin/audit", get(self::audit))
        .route("/admin/audit/export", get(self::audit_export))
        .route("/admin/audit/verify", get(self::audit_verify))
}
