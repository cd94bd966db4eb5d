//! The reporting workflow: duties, review, board, reminders, locks, evidence files.

pub(crate) mod workflow;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new().merge(workflow::routes())
}
