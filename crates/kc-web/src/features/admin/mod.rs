//! Accounts and administration: sign-in, home, password (`account`), users and the audit trail (`admin`).

pub(crate) mod account;
pub(crate) mod admin;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new()
        .merge(admin::routes())
        .merge(account::routes())
}
