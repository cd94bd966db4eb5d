//! Forecasts to the deadline from an observed series.
//!
//! Two methods, chosen per target: a straight line fitted by least squares,
//! or constant growth (a straight line fitted to the logarithm). The band is
//! the 95 % prediction interval of the fit; with only two points it has no
//! width, because two points say nothing about scatter.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::period::{DAYS_PER_MONTH, DAYS_PER_YEAR, days_between};
use crate::plan::ForecastMethod;

/// How many of the latest points a forecast looks at: recent pace matters
/// more than the start of the plan.
pub const WINDOW: usize = 12;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// The method actually used (compound falls back to linear when a value
    /// is not positive).
    pub method: ForecastMethod,
    pub date: NaiveDate,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// The fitted pace: change per month (linear) or growth per year in per
    /// cent (compound).
    pub pace: f64,
    pub points_used: usize,
}

/// A least-squares line `y = a + b x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearFit {
    pub a: f64,
    pub b: f64,
    n: usize,
    x_mean: f64,
    sxx: f64,
    /// Residual standard error; zero when n ≤ 2.
    s: f64,
}

impl LinearFit {
    /// Fits a line; `None` with fewer than two distinct x values or any
    /// non-finite input.
    pub fn fit(points: &[(f64, f64)]) -> Option<LinearFit> {
        let n = points.len();
        if n < 2 || points.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()) {
            return None;
        }
        let nf = n as f64;
        let x_mean = points.iter().map(|p| p.0).sum::<f64>() / nf;
        let y_mean = points.iter().map(|p| p.1).sum::<f64>() / nf;
        let sxx: f64 = points.iter().map(|p| (p.0 - x_mean).powi(2)).sum();
        if sxx <= f64::EPSILON {
            return None;
        }
        let sxy: f64 = points.iter().map(|p| (p.0 - x_mean) * (p.1 - y_mean)).sum();
        let b = sxy / sxx;
        let a = y_mean - b * x_mean;
        let s = if n > 2 {
            let sse: f64 = points.iter().map(|p| (p.1 - a - b * p.0).powi(2)).sum();
            (sse / (nf - 2.0)).sqrt()
        } else {
            0.0
        };
        Some(LinearFit {
            a,
            b,
            n,
            x_mean,
            sxx,
            s,
        })
    }

    pub fn predict(&self, x: f64) -> f64 {
        self.a + self.b * x
    }

    /// Half-width of the 95 % prediction interval at `x`.
    pub fn half_width(&self, x: f64) -> f64 {
        if self.n <= 2 {
            return 0.0;
        }
        let nf = self.n as f64;
        let se = self.s * (1.0 + 1.0 / nf + (x - self.x_mean).powi(2) / self.sxx).sqrt();
        t95(self.n - 2) * se
    }
}

/// Two-sided 95 % Student t quantile for `df` degrees of freedom.
fn t95(df: usize) -> f64 {
    const TABLE: [f64; 10] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    ];
    match df {
        0 => 0.0,
        1..=10 => TABLE[df - 1],
        11..=20 => 2.1,
        21..=40 => 2.03,
        _ => 1.96,
    }
}

/// Forecasts the value at `deadline` from dated points (any order). Uses the
/// latest `WINDOW` points. `None` when fewer than two distinct dates remain or
/// the result would not be a finite number.
pub fn forecast(
    points: &[(NaiveDate, f64)],
    method: ForecastMethod,
    deadline: NaiveDate,
) -> Option<Forecast> {
    let mut pts: Vec<(NaiveDate, f64)> =
        points.iter().copied().filter(|p| p.1.is_finite()).collect();
    pts.sort_by_key(|p| p.0);
    let pts = &pts[pts.len().saturating_sub(WINDOW)..];
    let origin = pts.first()?.0;
    let x_of = |d: NaiveDate| days_between(origin, d);
    let x_end = x_of(deadline);
    let use_log = method == ForecastMethod::Compound && pts.iter().all(|p| p.1 > 0.0);
    let xy: Vec<(f64, f64)> = pts
        .iter()
        .map(|p| (x_of(p.0), if use_log { p.1.ln() } else { p.1 }))
        .collect();
    let fit = LinearFit::fit(&xy)?;
    let centre = fit.predict(x_end);
    let hw = fit.half_width(x_end);
    let (value, low, high, pace, used) = if use_log {
        let pace = ((fit.b * DAYS_PER_YEAR).exp() - 1.0) * 100.0;
        (
            centre.exp(),
            (centre - hw).exp(),
            (centre + hw).exp(),
            pace,
            ForecastMethod::Compound,
        )
    } else {
        (
            centre,
            centre - hw,
            centre + hw,
            fit.b * DAYS_PER_MONTH,
            ForecastMethod::Linear,
        )
    };
    [value, low, high, pace]
        .iter()
        .all(|v| v.is_finite())
        .then_some(Forecast {
            method: used,
            date: deadline,
            value,
            low,
            high,
            pace,
            points_used: pts.len(),
        })
}

/// The recent pace per month from a straight-line fit, if there are at
/// least two distinct dates.
pub fn recent_pace_per_month(points: &[(NaiveDate, f64)]) -> Option<f64> {
    let mut pts: Vec<(NaiveDate, f64)> = points.to_vec();
    pts.sort_by_key(|p| p.0);
    let pts = &pts[pts.len().saturating_sub(WINDOW)..];
    let origin = pts.first()?.0;
    let xy: Vec<(f64, f64)> = pts
        .iter()
        .map(|p| (days_between(origin, p.0), p.1))
        .collect();
    LinearFit::fit(&xy)
        .map(|f| f.b * DAYS_PER_MONTH)
        .filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::ymd;

    #[test]
    fn linear_forecast_extends_a_straight_line() {
        let pts = [(ymd(2023, 12, 31), 10.0), (ymd(2024, 12, 31), 20.0)];
        let f = forecast(&pts, ForecastMethod::Linear, ymd(2025, 12, 31)).unwrap();
        assert!((f.value - 30.0).abs() < 0.1, "{f:?}");
        assert_eq!(f.low, f.value);
    }

    #[test]
    fn compound_falls_back_on_non_positive_values() {
        let pts = [(ymd(2023, 12, 31), 0.0), (ymd(2024, 12, 31), 20.0)];
        let f = forecast(&pts, ForecastMethod::Compound, ymd(2025, 12, 31)).unwrap();
        assert_eq!(f.method, ForecastMethod::Linear);
    }

    #[test]
    fn compound_doubles() {
        let pts = [(ymd(2023, 1, 1), 100.0), (ymd(2024, 1, 1), 200.0)];
        let f = forecast(&pts, ForecastMethod::Compound, ymd(2025, 1, 1)).unwrap();
        assert!((f.value - 400.0).abs() < 3.0, "{f:?}");
    }

    #[test]
    fn too_few_points() {
        assert!(forecast(&[], ForecastMethod::Linear, ymd(2025, 1, 1)).is_none());
        let one = [(ymd(2023, 1, 1), 1.0)];
        assert!(forecast(&one, ForecastMethod::Linear, ymd(2025, 1, 1)).is_none());
        let same_day = [(ymd(2023, 1, 1), 1.0), (ymd(2023, 1, 1), 2.0)];
        assert!(forecast(&same_day, ForecastMethod::Linear, ymd(2025, 1, 1)).is_none());
    }

    #[test]
    fn band_widens_with_scatter() {
        let pts = [
            (ymd(2023, 3, 31), 10.0),
            (ymd(2023, 6, 30), 25.0),
            (ymd(2023, 9, 30), 27.0),
            (ymd(2023, 12, 31), 45.0),
        ];
        let f = forecast(&pts, ForecastMethod::Linear, ymd(2025, 12, 31)).unwrap();
        assert!(f.low < f.value && f.value < f.high);
    }
}
