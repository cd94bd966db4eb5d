//! Roll-ups: one completion figure for an action, a programme or the whole
//! plan, as the weighted mean of its targets' completion (each capped at
//! 100 %, so one target far ahead cannot hide another far behind) next to
//! the weighted mean of their expected completion. Weights are the targets'
//! `weight` in the plan file (1 unless it says otherwise); targets without
//! both figures (no data, or kinds without a path) are left out and counted.

use serde::Serialize;

use crate::plan::{StatusRule, Target};
use crate::progress::{Evaluation, Status};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rollup {
    /// Weighted completion, 0–100, of the targets counted.
    pub completion: Option<f64>,
    /// Weighted expected completion at the same date.
    pub expected: Option<f64>,
    /// Expected minus actual, in percentage points.
    pub lag: Option<f64>,
    pub status: Status,
    /// Targets counted and left out.
    pub counted: usize,
    pub left_out: usize,
}

/// Rolls `items` up with the plan's status thresholds.
pub fn rollup<'a>(
    items: impl IntoIterator<Item = (&'a Target, &'a Evaluation)>,
    rule: &StatusRule,
) -> Rollup {
    let (mut w_sum, mut c_sum, mut e_sum) = (0.0, 0.0, 0.0);
    let (mut counted, mut left_out, mut all_achieved) = (0usize, 0usize, true);
    for (t, e) in items {
        match (e.completion, e.expected_completion) {
            (Some(c), Some(x)) if c.is_finite() && x.is_finite() && t.weight > 0.0 => {
                let w = t.weight;
                w_sum += w;
                c_sum += w * c.clamp(0.0, 100.0);
                e_sum += w * x.clamp(0.0, 100.0);
                counted += 1;
                all_achieved &= e.status == Status::Achieved;
            }
            _ => left_out += 1,
        }
    }
    if counted == 0 {
        return Rollup {
            completion: None,
            expected: None,
            lag: None,
            status: Status::NoData,
            counted,
            left_out,
        };
    }
    // Means of numbers within 0–100 stay within it, but for the last place.
    let completion = (c_sum / w_sum).clamp(0.0, 100.0);
    let expected = (e_sum / w_sum).clamp(0.0, 100.0);
    let lag = expected - completion;
    let status = if all_achieved {
        Status::Achieved
    } else if lag <= rule.on_track_lag {
        Status::OnTrack
    } else if lag <= rule.at_risk_lag {
        Status::AtRisk
    } else {
        Status::OffTrack
    };
    Rollup {
        completion: Some(completion),
        expected: Some(expected),
        lag: Some(lag),
        status,
        counted,
        left_out,
    }
}
