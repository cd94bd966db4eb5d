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
use crate::pages::Opt;
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
    let mut scopes = vec![opt("city".into(), format!("{}（全市）", plan.city))];
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

/// `GET /plans/{plan}/reports/download?period=2024&scope=city&format=docx|xlsx|html`
pub async fn download(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    sess.require_business()?;
    let period: Period = crate::period_param(&q, "period")?;
    let scope = q.get("scope").cloned().unwrap_or_else(|| "city".into());
    let format = q.get("format").cloned().unwrap_or_else(|| "docx".into());
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
        .map_err(|e| match e {
            kc_app::report::ReportError::NoPlan(p) => {
                AppError::NotFound(format!("规划“{p}”不存在"))
            }
            kc_app::report::ReportError::Invalid(m) => AppError::BadRequest(m),
            kc_app::report::ReportError::Store(s) => AppError::Store(s),
        })?;
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
}
