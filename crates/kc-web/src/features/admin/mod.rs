//! Accounts and administration: sign-in, home, password (`account`), users and the audit trail (`users`, its words in `audit_words`).

pub(crate) mod account;
pub(crate) mod audit_words;
pub(crate) mod users;

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    axum::Router::new()
        .merge(users::routes())
        .merge(account::routes())
}
