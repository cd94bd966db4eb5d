//! The technology market: search, matching and reindex (`market`), deals, challenges and events (`cases`).

pub(crate) mod cases;
pub(crate) mod market;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new()
        .merge(market::routes())
        .merge(cases::routes())
}
