//! Registries: lists, records, forms, import and export, drill-down to the records behind a number.

pub(crate) mod registries;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new().merge(registries::routes())
}
