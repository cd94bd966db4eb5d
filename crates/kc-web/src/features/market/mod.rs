//! The technology market: search, matching and reindex (`search`), deals, challenges and events (`cases`).

pub(crate) mod cases;
pub(crate) mod search;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new()
        .merge(search::routes())
        .merge(cases::routes())
}
