//! Pages without login: the public market and demand submission, and their moderation.

pub(crate) mod public;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new().merge(public::routes())
}
