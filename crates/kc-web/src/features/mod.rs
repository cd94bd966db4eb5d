//! kc-web by feature: each folder holds one feature's handlers, view models and routes;
//! `crate::router` merges each feature's `router()` behind the session guard. Shared parts
//! (the session guard, errors, typed bodies, rendered-page cache) stay at the crate root.

pub(crate) mod admin;
pub(crate) mod api;
pub(crate) mod cultivation;
pub(crate) mod market;
pub mod plans;
pub(crate) mod public;
pub(crate) mod registries;
pub(crate) mod workflow;
