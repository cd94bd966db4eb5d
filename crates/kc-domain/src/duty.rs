//! Reporting duties: from the plan's indicators (frequency, due days,
//! responsible department, whether areas report) to the list of values each
//! unit owes, and the state of each duty given what has been reported.

use chrono::NaiveDate;
use serde::Serialize;

use crate::code::Code;
use crate::period::Period;
use crate::plan::Plan;
use crate::value::Scope;

/// Where a reported value is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueStatus {
    /// Saved by the reporter, not yet submitted; counted nowhere, seen in
    /// the value's history by those who may see unpublished values.
    Draft,
    /// Submitted, waiting for review; shown elsewhere as provisional (待审).
    Submitted,
    /// Approved by a reviewer: official.
    Approved,
    /// Sent back with a comment; the reporter corrects and resubmits.
    Returned,
}

impl ValueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueStatus::Draft => "draft",
            ValueStatus::Submitted => "submitted",
            ValueStatus::Approved => "approved",
            ValueStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<ValueStatus> {
        Some(match s {
            "draft" => ValueStatus::Draft,
            "submitted" => ValueStatus::Submitted,
            "approved" => ValueStatus::Approved,
            "returned" => ValueStatus::Returned,
            _ => return None,
        })
    }

    pub fn zh(self) -> &'static str {
        match self {
            ValueStatus::Draft => "草稿",
            ValueStatus::Submitted => "待审",
            ValueStatus::Approved => "已审核",
            ValueStatus::Returned => "已退回",
        }
    }

    /// Whether the value counts anywhere outside its unit (official or
    /// provisional).
    pub fn is_visible(self) -> bool {
        matches!(self, ValueStatus::Submitted | ValueStatus::Approved)
    }
}

/// One value a unit owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duty {
    pub indicator: Code,
    pub scope: Scope,
    pub period: Period,
    pub due: NaiveDate,
    /// The department or area that answers for it.
    pub unit: Code,
}

/// Every duty of `plan` for periods that have ended by `through`, ordered
/// by due date, unit and indicator. A department owes the city value of the
/// indicators it answers for; every area owes its own value of indicators
/// that areas report. Computed and formula indicators owe nothing.
pub fn duties(plan: &Plan, through: NaiveDate) -> Vec<Duty> {
    let last = through.min(plan.period.end);
    let mut out = Vec::new();
    for ind in plan.indicators.iter().filter(|i| i.is_reported()) {
        let due_days = ind.due_days.unwrap_or(plan.reporting.due_days);
        for period in Period::all_within(ind.frequency, plan.period.start, last) {
            let due = period.end() + chrono::Days::new(u64::from(due_days));
            if let Some(d) = &ind.department {
                out.push(Duty {
                    indicator: ind.code.clone(),
                    scope: Scope::City,
                    period,
                    due,
                    unit: d.clone(),
                });
            }
            if ind.areas_report() {
                for a in &plan.areas {
                    out.push(Duty {
                        indicator: ind.code.clone(),
                        scope: Scope::Area(a.code.clone()),
                        period,
                        due,
                        unit: a.code.clone(),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (a.due, &a.unit, &a.indicator, a.period).cmp(&(b.due, &b.unit, &b.indicator, b.period))
    });
    out
}

/// What has been done about a duty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyState {
    /// Nothing reported yet and the due date has not passed (待报).
    Due,
    /// Nothing submitted and the due date has passed (逾期未报).
    Overdue,
    /// Saved as a draft only.
    Draft,
    /// Submitted, waiting for review.
    Submitted,
    /// Returned for correction.
    Returned,
    /// Approved.
    Approved,
}

impl DutyState {
    pub fn zh(self) -> &'static str {
        match self {
            DutyState::Due => "待报",
            DutyState::Overdue => "逾期未报",
            DutyState::Draft => "草稿未提交",
            DutyState::Submitted => "待审核",
            DutyState::Returned => "被退回",
            DutyState::Approved => "已审核",
        }
    }

    /// Whether the unit still has something to do.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            DutyState::Due | DutyState::Overdue | DutyState::Draft | DutyState::Returned
        )
    }
}

/// The latest report of a duty's value: its status and the day it was
/// first submitted (if it ever was).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reported {
    pub status: ValueStatus,
    pub first_submitted: Option<NaiveDate>,
}

/// A duty's state on `today`, and whether it was (or is) late: submitted
/// after the due date, or still not submitted after it.
pub fn state(due: NaiveDate, today: NaiveDate, reported: Option<Reported>) -> (DutyState, bool) {
    let late_by = |d: Option<NaiveDate>| match d {
        Some(d) => d > due,
        None => today > due,
    };
    match reported {
        None => {
            if today > due {
                (DutyState::Overdue, true)
            } else {
                (DutyState::Due, false)
            }
        }
        Some(r) => {
            let late = late_by(r.first_submitted);
            let s = match r.status {
                ValueStatus::Draft if today > due => DutyState::Overdue,
                ValueStatus::Draft => DutyState::Draft,
                ValueStatus::Submitted => DutyState::Submitted,
                ValueStatus::Returned => DutyState::Returned,
                ValueStatus::Approved => DutyState::Approved,
            };
            (s, late)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn states() {
        let due = d("2025-04-15");
        assert_eq!(state(due, d("2025-04-10"), None), (DutyState::Due, false));
        assert_eq!(
            state(due, d("2025-04-16"), None),
            (DutyState::Overdue, true)
        );
        let sub = |s, on: Option<&str>| {
            Some(Reported {
                status: s,
                first_submitted: on.map(d),
            })
        };
        assert_eq!(
            state(
                due,
                d("2025-05-01"),
                sub(ValueStatus::Approved, Some("2025-04-15"))
            ),
            (DutyState::Approved, false)
        );
        assert_eq!(
            state(
                due,
                d("2025-05-01"),
                sub(ValueStatus::Submitted, Some("2025-04-20"))
            ),
            (DutyState::Submitted, true)
        );
        assert_eq!(
            state(due, d("2025-04-01"), sub(ValueStatus::Draft, None)),
            (DutyState::Draft, false)
        );
        assert_eq!(
            state(due, d("2025-05-01"), sub(ValueStatus::Draft, None)),
            (DutyState::Overdue, true)
        );
        assert_eq!(
            state(
                due,
                d("2025-05-01"),
                sub(ValueStatus::Returned, Some("2025-04-01"))
            ),
            (DutyState::Returned, false)
        );
    }
}
