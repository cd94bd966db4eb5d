//! The months an engine computes: from some years before the plan starts to
//! its end. Month `i` is the `i`-th calendar month from the start.

use chrono::{Datelike, NaiveDate};
use kc_domain::Period;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub start_year: i32,
    pub months: usize,
}

impl Horizon {
    /// From January of `from`'s year to December of `to`'s year.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Horizon {
        let years = (to.year() - from.year() + 1).max(1) as usize;
        Horizon {
            start_year: from.year(),
            months: years * 12,
        }
    }

    /// Month index of a date (may be negative or ≥ `months`).
    pub fn month_of(&self, d: NaiveDate) -> i64 {
        i64::from(d.year() - self.start_year) * 12 + i64::from(d.month0())
    }

    /// Month index of a count of days since the common era (`num_days_from_ce`).
    pub fn month_of_days(&self, days: i32) -> i64 {
        NaiveDate::from_num_days_from_ce_opt(days).map_or(i64::MIN / 4, |d| self.month_of(d))
    }

    pub fn year_of(&self, month: usize) -> i32 {
        self.start_year + (month / 12) as i32
    }

    /// Last day of month `i`.
    pub fn month_end(&self, i: usize) -> NaiveDate {
        let y = self.year_of(i);
        let m = (i % 12) as u32 + 1;
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        NaiveDate::from_ymd_opt(ny, nm, 1)
            .and_then(|d| d.pred_opt())
            .expect("valid month")
    }

    /// The months a period covers, if it lies within the horizon.
    pub fn period_months(&self, p: Period) -> Option<(usize, usize)> {
        let a = self.month_of(p.start());
        let b = self.month_of(p.end());
        (a >= 0 && b < self.months as i64).then_some((a as usize, b as usize + 1))
    }

    /// Clamps a month index into `[0, months]`.
    pub fn clamp(&self, m: i64) -> usize {
        m.clamp(0, self.months as i64) as usize
    }
}
