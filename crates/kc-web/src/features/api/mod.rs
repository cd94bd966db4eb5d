//! The JSON API under `/api/v1` (plans, targets, values, review, registries).

pub(crate) mod api;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new().merge(api::routes())
}
