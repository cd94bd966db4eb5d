//! Kechuang's domain: the plan as data and the math people must be able to
//! trust. This crate does no IO — no files, no network, no SQL, no HTML — so
//! everything in it can be tested with plain values and property tests.
//!
//! - [`period`]: months, quarters, years and their bounds.
//! - [`code`]: the validated codes that name plan objects.
//! - [`plan`]: the plan model (levels, nodes, targets, indicators, units).
//! - [`series`]: observations and their arithmetic (flows over mixed periods,
//!   city totals from areas, formula indicators).
//! - [`path`], [`forecast`], [`progress`]: expected paths, forecasts and the
//!   status rules.
//! - [`auth`]: roles, scopes and every permission rule; the password policy.
//! - [`duty`]: reporting duties from the plan, review states of values.
//! - [`eligibility`]: qualification pre-checks (高新技术企业, 科技型中小企业,
//!   专精特新) from a versioned rule book, with gaps in money and people.
//! - [`mujun`]: 亩均效益评价 (weighted per-mu scores, classes, two weightings).
//! - [`market`]: the technology market's deals (stages, contract terms,
//!   broker rewards) and challenge projects (panel, scores, award,
//!   acceptance).
//! - [`money`]: exact amounts (`Decimal`) and the two conversions to and
//!   from the engine's `f64`.
//! - [`time`]: Beijing time (UTC+8) for instants read elsewhere.

pub mod allocation;
pub mod auth;
pub mod code;
pub mod credit;
pub mod duty;
pub mod eligibility;
pub mod entry;
pub mod expr;
pub mod forecast;
pub mod market;
pub mod money;
pub mod mujun;
pub mod path;
pub mod period;
pub mod plan;
pub mod progress;
pub mod ranking;
pub mod registry;
pub mod report;
pub mod rollup;
pub mod series;
pub mod target_table;
pub mod text;
pub mod time;
pub mod value;

pub use code::Code;
pub use period::{DateRange, Frequency, Period};
pub use plan::Plan;
pub use progress::{Evaluation, Status, evaluate};
pub use series::{Obs, SeriesSet};
pub use value::{Scope, Vintage};
