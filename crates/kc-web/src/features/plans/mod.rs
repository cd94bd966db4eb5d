//! The plan itself: overview, the allocation table (`allocation`), the plan editor and target table (`editor`), nodes, targets, value entry and history, areas, warnings and ranking (`analytics`), the report page (`reports`), charts and view models.

pub(crate) mod allocation;
pub(crate) mod analytics;
pub(crate) mod chart;
pub(crate) mod editor;
pub(crate) mod pages;
pub mod reports;
pub(crate) mod view;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new()
        .merge(pages::routes())
        .merge(allocation::routes())
        .merge(editor::routes())
        .merge(analytics::routes())
        .merge(reports::routes())
}
