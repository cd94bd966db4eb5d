//! Kechuang's web server: server-rendered Simplified-Chinese pages, SVG
//! charts drawn on the server, and a JSON API under `/api/v1`. Assets are
//! compiled into the binary; nothing is fetched from a network at run time.
//! This is the only crate that knows HTML.

pub mod auth;
mod error;
mod extract;
mod features;
pub(crate) mod menu;
pub(crate) mod paging;
// Short paths (`crate::pages::…`) for the modules other features use.
use features::admin::account;
use features::cultivation::precheck as cultivation;
use features::market::search as market;
pub use features::plans::reports;
use features::plans::{chart, pages, view};
use features::public;
use features::registries;
use features::workflow;
mod rendered;

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use kc_app::store::Store;
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
    /// What pages read: plans, values and evaluated snapshots in memory.
    pub model: std::sync::Arc<kc_app::model::ReadModel>,
    /// Sessions read recently (see `auth::SessionCache`).
    pub sessions: std::sync::Arc<auth::SessionCache>,
    /// The clock session timeouts are judged by (tests move it forward).
    pub clock: std::sync::Arc<kc_app::time::Clock>,
    /// Pages and API answers rendered from a snapshot, kept with it.
    pub(crate) pages: std::sync::Arc<rendered::PageCache>,
    pub(crate) bytes: std::sync::Arc<rendered::BytesCache>,
    pub security: std::sync::Arc<kc_app::auth::SecurityConfig>,
    pub throttle: std::sync::Arc<kc_app::auth::Throttle>,
    /// Where reminder e-mails go; none means in-app reminders only.
    pub smtp: Option<kc_app::mail::SmtpConfig>,
    /// The technology market's search index, and whether it must be rebuilt
    /// before the next search (bulk imports, a fresh start).
    pub search: std::sync::Arc<kc_search::SearchIndex>,
    pub search_stale: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Recent public submissions per client address (spam limit).
    pub public_posts: std::sync::Arc<public::Recent>,
    /// People's names by account, for histories (read once, dropped when an
    /// account changes).
    pub(crate) names: std::sync::Arc<NameCache>,
}

/// Account name → the person's name, read from the store on first use.
#[derive(Default)]
pub(crate) struct NameCache(std::sync::RwLock<Option<std::sync::Arc<HashMap<String, String>>>>);

impl NameCache {
    fn clear(&self) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl AppState {
    pub fn new(store: Store) -> Self {
        let engines = std::sync::Arc::new(kc_app::registries::Engines::new());
        let model = std::sync::Arc::new(kc_app::model::ReadModel::new(
            store.clone(),
            engines.clone(),
        ));
        let sessions = std::sync::Arc::new(auth::SessionCache::default());
        let cache = sessions.clone();
        let names = std::sync::Arc::new(NameCache::default());
        let names_cache = names.clone();
        model.on_event(move |e| {
            if e.kind == kc_app::store::EventKind::User {
                cache.apply(&e.object);
                names_cache.clear();
            }
        });
        AppState {
            names,
            model,
            sessions,
            clock: Default::default(),
            pages: Default::default(),
            bytes: Default::default(),
            store,
            today: None,
            engines,
            security: std::sync::Arc::new(kc_app::auth::SecurityConfig::default()),
            throttle: std::sync::Arc::new(kc_app::auth::Throttle::default()),
            smtp: None,
            public_posts: Default::default(),
            search: std::sync::Arc::new(
                kc_search::SearchIndex::new().expect("an index in memory can always be made"),
            ),
            search_stale: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true)),
        }
    }

    pub fn with_security(mut self, cfg: kc_app::auth::SecurityConfig) -> Self {
        self.security = std::sync::Arc::new(cfg);
        self
    }

    pub fn with_smtp(mut self, smtp: Option<kc_app::mail::SmtpConfig>) -> Self {
        self.smtp = smtp;
        self
    }

    /// People's names by account name (an account without one keeps its
    /// account name).
    pub(crate) async fn names(&self) -> Result<std::sync::Arc<HashMap<String, String>>, AppError> {
        if let Some(n) = self
            .names
            .0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(n);
        }
        let map: HashMap<String, String> = self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| !u.display_name.trim().is_empty())
            .map(|u| (u.username, u.display_name))
            .collect();
        let map = std::sync::Arc::new(map);
        *self.names.0.write().unwrap_or_else(|e| e.into_inner()) = Some(map.clone());
        Ok(map)
    }

    pub fn with_today(mut self, today: NaiveDate) -> Self {
        self.today = Some(today);
        self
    }

    /// The plan and its engine, or 404.
    pub(crate) async fn plan_and_engine(
        &self,
        plan: &str,
    ) -> Result<
        (
            std::sync::Arc<kc_app::store::StoredPlan>,
            kc_app::registries::SharedEngine,
        ),
        AppError,
    > {
        let (view, engine) = self.view_and_engine(plan).await?;
        Ok((view.stored.clone(), engine))
    }

    /// The plan's read model and its engine, or 404.
    pub(crate) async fn view_and_engine(
        &self,
        plan: &str,
    ) -> Result<
        (
            std::sync::Arc<kc_app::model::PlanView>,
            kc_app::registries::SharedEngine,
        ),
        AppError,
    > {
        self.model
            .plan_and_engine(plan, self.today())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("规划“{plan}”不存在")))
    }

    /// Builds the engines of every loaded plan, so the first page is fast.
    pub async fn warm_up(&self) -> Result<(), kc_app::store::StoreError> {
        for stored in self.store.plans().await? {
            self.engines.get(&self.store, &stored, self.today()).await?;
        }
        Ok(())
    }

    pub fn today(&self) -> NaiveDate {
        self.today.unwrap_or_else(kc_app::time::today_beijing)
    }
}

/// Largest request body accepted (forms and JSON).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Every feature's routes behind the session guard, plus health and assets.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(features::plans::router())
        .merge(features::registries::router())
        .merge(features::market::router())
        .merge(features::public::router())
        .merge(features::cultivation::router())
        .merge(features::workflow::router())
        .merge(features::admin::router())
        .merge(features::api::router())
        .route("/healthz", get(healthz))
        .route("/static/{file}", get(asset))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(refuse_control_characters))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Refuses an address whose path or query, once percent-decoded, holds a
/// character nobody types (`/plans/%00`, `?plan=%00`): PostgreSQL refuses
/// NUL in text, SQLite would store it, and no page or filter has a use for
/// it. One check here keeps every route and both databases alike.
async fn refuse_control_characters(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let uri = req.uri();
    let decoded = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    // `+` in a query is a space, never a control character, so plain
    // percent-decoding is enough here. Tabs and line breaks, allowed in
    // typed text, have no place in an address either (and would break the
    // `Location` of a redirect built from it).
    let bad = std::iter::once(uri.path()).chain(uri.query()).any(|part| {
        decoded(part)
            .chars()
            .any(|c| c.is_control() || kc_domain::text::is_forbidden(c))
    });
    if !bad {
        return next.run(req).await;
    }
    let e = AppError::BadRequest("网址中含有不可见的控制字符，请检查链接是否完整、正确".into());
    if uri.path().starts_with("/api/") {
        error::ApiError(e).into_response()
    } else {
        e.into_response()
    }
}

/// Headers every answer carries: no framing by other sites, no guessing of
/// content types, no referrer leaking query strings, and no caching of
/// pages that show data.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
    );
    if !is_static {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Serves until the listener fails or Ctrl-C is pressed. The client's
/// address is kept for the login throttle and the audit trail.
/// How often a server reads the events of other processes on the same
/// database: a change made through one is on every other's pages within
/// this (plus the time to apply it).
pub const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let _follower = state.model.follow(FOLLOW_EVERY);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves without a shutdown signal (tests abort the task).
pub async fn serve_forever(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let _follower = state.model.follow(FOLLOW_EVERY);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
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

/// Reads a period (`2024`, `2024Q2`, `2024-06`) from `key`; a bad or
/// missing one is a 400 with the format.
pub(crate) fn period_param(
    q: &HashMap<String, String>,
    key: &str,
) -> Result<kc_domain::Period, AppError> {
    q.get(key)
        .map(String::as_str)
        .unwrap_or("")
        .parse()
        .map_err(|e: kc_domain::period::PeriodError| AppError::BadRequest(e.to_string()))
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

/// The snapshot a page asks for, from the read model (built on first use),
/// mapping a missing plan or unknown scope to 404.
/// The answer for a target a snapshot does not judge: not in the plan, or
/// not the scope's to meet (a count not allocated to the area).
pub(crate) fn not_in_scope(snap: &kc_app::Snapshot, target: &str) -> AppError {
    if snap.scope != kc_domain::Scope::City {
        return AppError::NotFound(format!(
            "目标“{target}”不是{}的考核目标：规划中没有这个目标，或它是没有分解到本地区的数量类目标（见目标任务分解表）",
            snap.scope.name(&snap.plan)
        ));
    }
    AppError::NotFound(format!("规划中没有编号为“{target}”的目标"))
}

pub(crate) async fn load_snapshot(
    st: &AppState,
    sess: &auth::Session,
    plan: &str,
    q: &HashMap<String, String>,
) -> Result<std::sync::Arc<kc_app::Snapshot>, AppError> {
    sess.require_business()?;
    let as_of = as_of_param(q)?;
    let scope = scope_param(q)?;
    let (view, engine) = st.view_and_engine(plan).await?;
    // `targets=original` judges against the targets as first adopted,
    // before any mid-term revision.
    let targets = match q.get("targets").map(String::as_str) {
        None | Some("") | Some("revised") => kc_domain::plan::TargetSet::Revised,
        Some("original") => kc_domain::plan::TargetSet::Original,
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "目标值口径“{other}”不正确：应为 revised（中期调整后，默认）或 original（原定）"
            )));
        }
    };
    let p = &view.stored.plan;
    let known = match &scope {
        kc_domain::Scope::City => true,
        kc_domain::Scope::Area(a) => p.area(a.as_str()).is_some(),
        kc_domain::Scope::Department(d) => p.department(d.as_str()).is_some(),
    };
    if !known {
        return Err(AppError::NotFound(format!("本规划中没有“{scope}”")));
    }
    let guard = engine.read().await;
    Ok(view.snapshot(
        Some(&sess.principal),
        &scope,
        as_of,
        targets,
        &guard,
        st.today(),
    ))
}
