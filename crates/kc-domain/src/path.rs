//! The expected path of a target: where the value should be on a given day if
//! the plan is to be met, from the starting point through any checkpoints to
//! the target at the deadline.

use chrono::{Datelike, NaiveDate};

use crate::period::{days_between, ymd};
use crate::plan::Curve;

#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Dates strictly increase.
    knots: Vec<(NaiveDate, f64)>,
    curve: Curve,
}

impl Path {
    /// Builds a path from `start` to `end`. Checkpoints outside the open
    /// interval between them are ignored; the plan checker reports them.
    pub fn new(
        start: (NaiveDate, f64),
        checkpoints: impl IntoIterator<Item = (NaiveDate, f64)>,
        end: (NaiveDate, f64),
        curve: Curve,
    ) -> Path {
        let mut knots = vec![start];
        let mut cps: Vec<(NaiveDate, f64)> = checkpoints
            .into_iter()
            .filter(|(d, v)| *d > start.0 && *d < end.0 && v.is_finite())
            .collect();
        cps.sort_by_key(|(d, _)| *d);
        cps.dedup_by_key(|(d, _)| *d);
        knots.extend(cps);
        if end.0 > start.0 {
            knots.push(end);
        } else {
            // A deadline on or before the start: the target applies at once.
            knots = vec![(start.0, end.1)];
        }
        Path { knots, curve }
    }

    pub fn start(&self) -> (NaiveDate, f64) {
        self.knots[0]
    }

    pub fn end(&self) -> (NaiveDate, f64) {
        *self.knots.last().expect("a path has at least one knot")
    }

    /// The expected value on day `d`.
    pub fn at(&self, d: NaiveDate) -> f64 {
        match self.curve {
            Curve::Steps => {
                // Progress is only expected at year ends: use the smooth path
                // at the last 31 December on or before `d`.
                let year_end = if d.month() == 12 && d.day() == 31 {
                    d
                } else {
                    ymd(d.year() - 1, 12, 31)
                };
                self.smooth(year_end.max(self.start().0))
            }
            _ => self.smooth(d),
        }
    }

    fn smooth(&self, d: NaiveDate) -> f64 {
        let (first, last) = (self.start(), self.end());
        if d <= first.0 {
            return first.1;
        }
        if d >= last.0 {
            return last.1;
        }
        let i = self
            .knots
            .iter()
            .position(|(kd, _)| *kd >= d)
            .unwrap_or(self.knots.len() - 1);
        let (a, b) = (self.knots[i - 1], self.knots[i]);
        let f = days_between(a.0, d) / days_between(a.0, b.0);
        interpolate(a.1, b.1, f, self.curve)
    }

    /// The path sampled at each month end from start to end, for charts.
    pub fn samples(&self) -> Vec<(NaiveDate, f64)> {
        let (first, last) = (self.start(), self.end());
        let mut out = vec![(first.0, self.at(first.0))];
        let mut d = crate::period::last_day_of_month(first.0.year(), first.0.month());
        while d < last.0 && out.len() < 600 {
            if d > first.0 {
                out.push((d, self.at(d)));
            }
            let next = d.succ_opt().expect("date in range");
            d = crate::period::last_day_of_month(next.year(), next.month());
        }
        if last.0 > first.0 {
            out.push((last.0, self.at(last.0)));
        }
        out
    }
}

/// Interpolates between `a` and `b` at fraction `f` of the way. Compound
/// growth needs two positive values; otherwise the straight line is used.
pub fn interpolate(a: f64, b: f64, f: f64, curve: Curve) -> f64 {
    match curve {
        Curve::Compound if a > 0.0 && b > 0.0 => a * (b / a).powf(f),
        _ => a + (b - a) * f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_through_checkpoint() {
        let p = Path::new(
            (ymd(2022, 12, 31), 700.0),
            [(ymd(2023, 12, 31), 900.0)],
            (ymd(2025, 12, 31), 1200.0),
            Curve::Linear,
        );
        assert_eq!(p.at(ymd(2020, 1, 1)), 700.0);
        assert_eq!(p.at(ymd(2023, 12, 31)), 900.0);
        assert_eq!(p.at(ymd(2026, 5, 1)), 1200.0);
        let mid = p.at(ymd(2024, 12, 31));
        assert!((mid - 1050.0).abs() < 0.5, "{mid}");
    }

    #[test]
    fn compound_is_geometric() {
        let p = Path::new(
            (ymd(2020, 12, 31), 100.0),
            [],
            (ymd(2022, 12, 31), 400.0),
            Curve::Compound,
        );
        let mid = p.at(ymd(2021, 12, 31));
        assert!((mid - 200.0).abs() < 0.5, "{mid}");
    }

    #[test]
    fn steps_only_move_at_year_end() {
        let p = Path::new(
            (ymd(2022, 12, 31), 0.0),
            [],
            (ymd(2025, 12, 31), 30.0),
            Curve::Steps,
        );
        assert_eq!(p.at(ymd(2023, 6, 30)), 0.0);
        assert!((p.at(ymd(2023, 12, 31)) - 10.0).abs() < 0.1);
        assert!((p.at(ymd(2024, 3, 31)) - 10.0).abs() < 0.1);
    }

    #[test]
    fn deadline_before_start_applies_at_once() {
        let p = Path::new(
            (ymd(2025, 1, 1), 5.0),
            [],
            (ymd(2024, 1, 1), 9.0),
            Curve::Linear,
        );
        assert_eq!(p.at(ymd(2025, 6, 1)), 9.0);
        assert_eq!(p.samples().len(), 1);
    }
}
