//! Reports from the UI: a form to choose the period, scope and format, and
//! the download (the same documents as `kechuang report`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use kc_domain::Period;
use kc_domain::report::Report;

use crate::auth::Session;
use crate::error::AppError;
use crate::pages::{Nav, Opt};
use crate::{AppState, Params};

/// A section with its charts as inline SVG (title, picture): the same
/// drawing as the target pages and, rasterised, the Word report.
struct SectionView<'a> {
    s: &'a kc_domain::report::Section,
    charts: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportHtml<'a> {
    r: &'a Report,
    sections: Vec<SectionView<'a>>,
    legend: &'static str,
}

/// The report as a printable HTML page (A4, official-document fonts).
pub fn report_html(r: &Report) -> Result<String, askama::Error> {
    let sections = r
        .sections
        .iter()
        .map(|s| SectionView {
            s,
            charts: s
                .charts
                .iter()
                .map(|c| (c.title.clone(), kc_chart::svg(&kc_chart::Chart::from(c))))
                .collect(),
        })
        .collect();
    ReportHtml {
        r,
        sections,
        legend: kc_domain::report::CHART_LEGEND,
    }
    .render()
}

#[derive(Template)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    pub nav: crate::workflow::PlanHead,
    pub periods: Vec<Opt>,
    pub scopes: Vec<Opt>,
    /// The plan has mid-term revisions: offer the choice of targets.
    pub revised: bool,
}

/// `GET /plans/{plan}/reports`: choose a report.
pub async fn form(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
) -> Result<Html<String>, AppError> {
    let (plan, nav) = crate::workflow::plan_of(&st, &sess, &code).await?;
    let today = st.today();
    let mut periods: Vec<Period> = [
        kc_domain::Frequency::Yearly,
        kc_domain::Frequency::Quarterly,
    ]
    .into_iter()
    .flat_map(|f| Period::all_within(f, plan.period.start, plan.period.end.min(today)))
    .collect();
    periods.sort_by_key(|p| std::cmp::Reverse((p.end(), std::cmp::Reverse(p.frequency()))));
    let opt = |value: String, label: String| Opt {
        value,
        label,
        selected: false,
    };
    let mut scopes = vec![opt("city".into(), plan.whole_label())];
    scopes.extend(
        plan.areas
            .iter()
            .map(|a| opt(format!("area:{}", a.code), a.name.clone())),
    );
    scopes.extend(
        plan.departments
            .iter()
            .map(|d| opt(format!("dept:{}", d.code), d.name.clone())),
    );
    let page = ReportsPage {
        nav,
        periods: periods.iter().map(|p| opt(p.to_string(), p.zh())).collect(),
        scopes,
        revised: plan.has_revisions(),
    };
    Ok(Html(page.render()?))
}

pub(crate) fn report_error(e: kc_app::report::ReportError) -> AppError {
    match e {
        kc_app::report::ReportError::NoPlan(p) => AppError::NotFound(format!("规划“{p}”不存在")),
        kc_app::report::ReportError::Invalid(m) => AppError::BadRequest(m),
        kc_app::report::ReportError::Store(s) => AppError::Store(s),
    }
}

/// `GET /plans/{plan}/reports/download?period=2024|final&scope=city&format=docx|xlsx|html`
pub async fn download(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    sess.require_business()?;
    let scope = q.get("scope").cloned().unwrap_or_else(|| "city".into());
    let format = q.get("format").cloned().unwrap_or_else(|| "docx".into());
    // `period=final`: the final evaluation (终期评估) of an ended plan.
    let (report, period) = if q.get("period").map(String::as_str) == Some("final") {
        if scope != "city" {
            return Err(AppError::BadRequest(
                "终期评估报告按全市出具，分地区的结果在报告的“分地区”表中".into(),
            ));
        }
        let fe = kc_app::final_eval::final_evaluation(&st.store, &st.engines, &code, st.today())
            .await
            .map_err(report_error)?;
        (
            kc_app::final_eval::report(&fe, st.today()),
            "final".to_string(),
        )
    } else {
        let period: Period = crate::period_param(&q, "period")?;
        let targets = match q.get("targets").map(String::as_str) {
            None | Some("") => kc_domain::plan::TargetSet::Revised,
            Some(t) => kc_domain::plan::TargetSet::parse(t).ok_or_else(|| {
                AppError::BadRequest(format!("目标值口径“{t}”不正确：应为 revised 或 original"))
            })?,
        };
        let request = kc_app::report::ReportRequest {
            period,
            scope: &scope,
            targets,
        };
        let report = kc_app::report::generate(&st.store, &st.engines, &code, &request, st.today())
            .await
            .map_err(report_error)?;
        (report, period.to_string())
    };
    let (bytes, mime, ext) = match format.as_str() {
        "docx" => (
            kc_io::report::report_docx(&report).map_err(|e| AppError::Internal(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
        ),
        "xlsx" => (
            kc_io::report::report_xlsx(&report).map_err(|e| AppError::Internal(e.to_string()))?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        "html" => (
            report_html(&report)?.into_bytes(),
            "text/html; charset=utf-8",
            "html",
        ),
        other => {
            return Err(AppError::BadRequest(format!(
                "报告格式“{other}”不支持：可选 docx、xlsx、html"
            )));
        }
    };
    kc_app::auth::audit(
        &st.store,
        &sess.actor(),
        "export",
        &format!("report:{code}/{period}/{scope}"),
        serde_json::json!({"format": ext}),
    )
    .await?;
    let name = format!(
        "{}-{}-{}.{ext}",
        report.title,
        period,
        scope.replace(':', "-")
    );
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    if format != "html"
        && let Ok(v) = HeaderValue::from_str(&format!(
            "attachment; filename=\"report.{ext}\"; filename*=UTF-8''{}",
            crate::auth::url_encode(&name)
        ))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/plans/{plan}/reports", get(self::form))
        .route("/plans/{plan}/reports/download", get(self::download))
        .route("/plans/{plan}/final", get(self::final_page))
        .route("/api/v1/plans/{plan}/final", get(self::final_api))
        .route("/plans/{plan}/draft", get(self::draft))
}

#[derive(Template)]
#[template(path = "final.html")]
pub struct FinalPage {
    pub nav: Nav,
    pub fe: kc_app::final_eval::FinalEvaluation,
    /// (code, name, completion, gap, causes) of the biggest shortfalls.
    pub shortfalls: Vec<(String, String, String, String, String)>,
    pub carry: Vec<String>,
    pub next_start: String,
    pub next_end: String,
}

impl FinalPage {
    fn fmt(v: &Option<f64>) -> String {
        v.map(|v| kc_domain::plan::fmt_num(v, 2))
            .unwrap_or_else(|| "—".into())
    }

    fn pct(v: &Option<f64>) -> String {
        v.map(|v| format!("{}%", kc_domain::plan::fmt_num(v, 1)))
            .unwrap_or_else(|| "—".into())
    }

    fn date(d: &Option<chrono::NaiveDate>) -> String {
        d.map(|d| d.to_string()).unwrap_or_else(|| "—".into())
    }

    fn after(a: &Option<(chrono::NaiveDate, f64)>) -> String {
        a.map(|(d, v)| format!("{d}：{}", kc_domain::plan::fmt_num(v, 2)))
            .unwrap_or_default()
    }
}

/// `GET /plans/{plan}/final`: the final evaluation (终期评估) of an ended plan.
pub async fn final_page(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
) -> Result<Html<String>, AppError> {
    let snap = crate::load_snapshot(&st, &sess, &code, &Default::default()).await?;
    let fe = kc_app::final_eval::final_evaluation(&st.store, &st.engines, &code, st.today())
        .await
        .map_err(report_error)?;
    let nav = Nav::new(&snap, &sess).at(format!("/plans/{code}/final"));
    let by_code = |c: &str| fe.targets.iter().find(|t| t.code == c);
    let shortfalls = fe
        .shortfalls
        .iter()
        .filter_map(|c| by_code(c))
        .take(10)
        .map(|t| {
            (
                t.code.clone(),
                t.name.clone(),
                t.completion
                    .map(|c| format!("{}%", kc_domain::plan::fmt_num(c, 1)))
                    .unwrap_or_else(|| "—".into()),
                t.gap
                    .map(|g| format!("{} {}", kc_domain::plan::fmt_num(g, 2), t.unit))
                    .unwrap_or_default(),
                if t.causes.is_empty() {
                    "未记录".into()
                } else {
                    t.causes.join("；")
                },
            )
        })
        .collect();
    let carry = fe
        .carry_over
        .iter()
        .filter_map(|c| by_code(c))
        .map(|t| format!("{} {}", t.code, t.name))
        .collect();
    Ok(Html(
        FinalPage {
            next_start: fe.end.succ_opt().map(|d| d.to_string()).unwrap_or_default(),
            next_end: chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&fe.end) + 5, 12, 31)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            nav,
            fe,
            shortfalls,
            carry,
        }
        .render()?,
    ))
}

/// `GET /api/v1/plans/{plan}/final`: the same evaluation as JSON.
pub async fn final_api(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
) -> Result<axum::Json<kc_app::final_eval::FinalEvaluation>, crate::error::ApiError> {
    sess.require_business()?;
    let fe = kc_app::final_eval::final_evaluation(&st.store, &st.engines, &code, st.today())
        .await
        .map_err(report_error)?;
    Ok(axum::Json(fe))
}

/// `GET /plans/{plan}/draft?start=2026-01-01&end=2030-12-31`: the next
/// plan's file (TOML) drafted from this one, for the coordinator.
pub async fn draft(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    sess.require_business()?;
    sess.require(
        sess.principal.is_coordinator(),
        "起草下一轮规划（仅限规划统筹）",
    )?;
    let date = |k: &str| -> Result<chrono::NaiveDate, AppError> {
        let s = q.get(k).map(String::as_str).unwrap_or("");
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| AppError::BadRequest(format!("{k} 应为日期，如 2026-01-01（收到“{s}”）")))
    };
    let (start, end) = (date("start")?, date("end")?);
    let d = kc_app::final_eval::draft(&st.store, &st.engines, &code, start, end, st.today())
        .await
        .map_err(report_error)?;
    let mut resp = d.text.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/toml; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", d.file)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
