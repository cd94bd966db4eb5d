//! Enterprise cultivation: pre-checks, pools, 两清零, 亩均, listing reserve (`cultivation`), the whitelist and loans (`finance`).

pub(crate) mod cultivation;
pub(crate) mod finance;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new()
        .merge(cultivation::routes())
        .merge(finance::routes())
}
