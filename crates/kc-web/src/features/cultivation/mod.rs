//! Enterprise cultivation: pre-checks, pools, 两清零, 亩均, listing reserve (`precheck`), the whitelist and loans (`finance`).

pub(crate) mod finance;
pub(crate) mod precheck;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new()
        .merge(precheck::routes())
        .merge(finance::routes())
}
