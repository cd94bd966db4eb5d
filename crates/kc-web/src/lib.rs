//! Kechuang's web server: server-rendered Simplified-Chinese pages, SVG
//! charts drawn on the server, and a JSON API under `/api/v1`. Assets are
//! compiled into the binary; nothing is fetched from a network at run time.
//! This is the only crate that knows HTML.

mod api;
mod chart;
mod error;
mod pages;
mod registries;
mod view;

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use kc_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use error::AppError;

/// Shared state of the server.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// A fixed "today" (tests and demos); the real date when `None`.
    pub today: Option<NaiveDate>,
    pub engines: std::sync::Arc<kc_app::registries::Engines>,
}

impl AppState {
    pub fn new(store: Store) -> Self {
        AppState {
            store,
            today: None,
            engines: std::sync::Arc::new(kc_app::registries::Engines::new()),
        }
    }

    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// The plan and its engine, or 404.
    pub(crate) async fn plan_and_engine(
        &self,
        plan: &str,
    ) -> Result<(kc_store::StoredPlan, kc_app::registries::SharedEngine), AppError> {
        let stored = self
            .store
            .plan(plan)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("规划“{plan}”不存在")))?;
        let engine = self.engines.get(&self.store, &stored, self.today()).await?;
        Ok((stored, engine))
    }

    /// Builds the engines of every loaded plan, so the first page is fast.
    pub async fn warm_up(&self) -> Result<(), kc_store::StoreError> {
        for stored in self.store.plans().await? {
            self.engines.get(&self.store, &stored, self.today()).await?;
        }
        Ok(())
    }

    pub fn today(&self) -> NaiveDate {
        self.today
            .unwrap_or_else(|| chrono::Local::now().date_naive())
    }
}

/// Largest request body accepted (forms and JSON).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::plans))
        .route("/plans/{plan}", get(pages::overview))
        .route("/plans/{plan}/nodes/{node}", get(pages::node))
        .route("/plans/{plan}/targets/{target}", get(pages::target))
        .route(
            "/plans/{plan}/values",
            axum::routing::post(pages::submit_value),
        )
        .route("/plans/{plan}/values/new", get(pages::entry_form))
        .route("/plans/{plan}/values/history", get(pages::history))
        .route("/plans/{plan}/versions", get(pages::versions))
        .route(
            "/plans/{plan}/versions/{version}/source",
            get(pages::version_source),
        )
        .route("/plans/{plan}/registries", get(registries::index))
        .route("/plans/{plan}/registries/{reg}", get(registries::list))
        .route(
            "/plans/{plan}/registries/{reg}/record",
            get(registries::record),
        )
        .route(
            "/plans/{plan}/registries/{reg}/save",
            axum::routing::post(registries::save),
        )
        .route(
            "/plans/{plan}/registries/{reg}/delete",
            axum::routing::post(registries::delete),
        )
        .route(
            "/plans/{plan}/registries/{reg}/import",
            axum::routing::post(registries::import)
                .layer(DefaultBodyLimit::max(registries::UPLOAD_LIMIT)),
        )
        .route(
            "/plans/{plan}/registries/{reg}/{file}",
            get(registries::export_or_form),
        )
        .route("/api/v1/plans", get(api::plans))
        .route("/api/v1/plans/{plan}", get(api::plan))
        .route("/api/v1/plans/{plan}/targets", get(api::targets))
        .route("/api/v1/plans/{plan}/targets/{target}", get(api::target))
        .route("/api/v1/values", get(api::values).post(api::post_value))
        .route(
            "/api/v1/plans/{plan}/registries/{reg}",
            get(api::registry_list)
                .post(api::registry_save)
                .delete(api::registry_delete),
        )
        .route(
            "/api/v1/plans/{plan}/registries/{reg}/record",
            get(api::registry_record),
        )
        .route("/healthz", get(healthz))
        .route("/static/{file}", get(asset))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves until the listener fails or Ctrl-C is pressed.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// Binds `addr` (port 0 picks a free port) and returns the listener and the
/// address actually bound.
pub async fn bind(addr: &str) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.ping().await {
        Ok(()) => axum::Json(serde_json::json!({
            "status": "ok",
            "database": st.store.backend().name(),
        }))
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "unavailable", "database": st.store.backend().name() })),
            )
                .into_response()
        }
    }
}

const STYLE: &str = include_str!("../assets/style.css");
const FAVICON: &str = include_str!("../assets/favicon.svg");

async fn asset(Path(file): Path<String>) -> Response {
    let (body, mime) = match file.as_str() {
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        "favicon.svg" => (FAVICON, "image/svg+xml"),
        _ => return not_found().await.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn not_found() -> AppError {
    AppError::NotFound("页面不存在".to_string())
}

/// Query parameters as a plain map: parsing them ourselves means a bad
/// parameter gets a Chinese message instead of the framework's rejection.
pub(crate) type Params = Query<HashMap<String, String>>;

/// Reads `as_of=YYYY-MM-DD` if present.
pub(crate) fn as_of_param(q: &HashMap<String, String>) -> Result<Option<NaiveDate>, AppError> {
    match q.get("as_of").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                AppError::BadRequest(format!(
                    "统计日期“{s}”格式不正确，应为 YYYY-MM-DD，例如 2025-06-30"
                ))
            }),
    }
}

/// Reads `scope=city|area:CODE|dept:CODE` (the city when absent).
pub(crate) fn scope_param(q: &HashMap<String, String>) -> Result<kc_domain::Scope, AppError> {
    match q.get("scope").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(kc_domain::Scope::City),
        Some(s) => s
            .parse()
            .map_err(|e: kc_domain::value::ScopeError| AppError::BadRequest(e.to_string())),
    }
}

/// Loads a snapshot, mapping a missing plan or unknown scope to 404.
pub(crate) async fn load_snapshot(
    st: &AppState,
    plan: &str,
    q: &HashMap<String, String>,
) -> Result<kc_app::Snapshot, AppError> {
    let as_of = as_of_param(q)?;
    let scope = scope_param(q)?;
    let (stored, engine) = st.plan_and_engine(plan).await?;
    let known = match &scope {
        kc_domain::Scope::City => true,
        kc_domain::Scope::Area(a) => stored.plan.area(a.as_str()).is_some(),
        kc_domain::Scope::Department(d) => stored.plan.department(d.as_str()).is_some(),
    };
    if !known {
        return Err(AppError::NotFound(format!("本规划中没有“{scope}”")));
    }
    let records = st.store.latest_values(plan).await?;
    let guard = engine.read().await;
    Ok(kc_app::evaluate_snapshot(
        stored,
        records,
        &scope,
        as_of,
        st.today(),
        Some(&guard),
    ))
}
