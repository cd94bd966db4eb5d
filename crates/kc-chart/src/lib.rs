//! Kechuang's charts: one model, drawn once as SVG.
//!
//! A [`Chart`] is plain data (dates and numbers, no pixels). [`svg`] draws it
//! as a self-contained SVG string: the target pages and the HTML report show
//! it inline, and [`png`] (feature `png`) rasterises the same SVG with resvg
//! for the Word report, its labels set in the system's fonts (Noto Sans CJK
//! SC). One tick algorithm ([`ticks`]) and one escaper ([`escape`]) serve
//! every picture. Excel reports draw their own native charts from the data,
//! in the [colours](colour) used here.
//!
//! Builders: [`Chart::of_target`] from a target's evaluation (the page), and
//! `From<&kc_domain::report::Chart>` (the reports).

use chrono::{Datelike, NaiveDate};
use kc_domain::Evaluation;
use kc_domain::plan::{Target, TargetKind};

mod draw;
#[cfg(feature = "png")]
mod raster;

pub use draw::{SIZE, svg};
#[cfg(feature = "png")]
pub use raster::{Fonts, PngError, fonts, png};

/// The colours of the series, shared with the Excel report's native charts
/// (as `0xRRGGBB` and as SVG text).
pub mod colour {
    pub const ACTUAL: u32 = 0x1f5fbf;
    pub const EXPECTED: u32 = 0x6b7280;
    pub const TARGET: u32 = 0xc0392b;
    pub const FORECAST: u32 = 0xd9822b;

    /// `#rrggbb` for SVG.
    pub fn css(c: u32) -> String {
        format!("#{c:06x}")
    }
}

/// A chart: its title (the SVG's accessible name) and what it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    /// Decimals of the value labels (the indicator's); tick labels use as
    /// many as their step needs.
    pub decimals: u8,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A series over time with its expected path, target and forecast.
    Line(Line),
    /// One bar per year against that year's target.
    Yearly(Yearly),
}

/// A series over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub actual: Vec<Point>,
    pub expected: Vec<(NaiveDate, f64)>,
    pub target: Option<f64>,
    pub forecast: Option<Forecast>,
    /// The data date, drawn as a dotted vertical line (pages only).
    pub as_of: Option<NaiveDate>,
}

/// A point of the actual series; provisional values are drawn hollow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub date: NaiveDate,
    pub value: f64,
    pub provisional: bool,
}

/// The forecast at a date and its band, drawn from the last actual point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Forecast {
    pub date: NaiveDate,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// Yearly totals against yearly targets.
#[derive(Debug, Clone, PartialEq)]
pub struct Yearly {
    pub years: Vec<Year>,
    /// The whole-year forecast of the year in progress.
    pub forecast: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Year {
    pub year: i32,
    pub target: f64,
    /// The year's total so far, if there are data.
    pub total: Option<f64>,
    /// The data cover only part of the year.
    pub partial: bool,
}

impl Chart {
    /// The chart of a target on its page: yearly bars for annual and
    /// yearly-total targets, otherwise the series with its path, target,
    /// forecast and the data date.
    pub fn of_target(
        t: &Target,
        e: &Evaluation,
        decimals: u8,
        as_of: NaiveDate,
        period_start: NaiveDate,
    ) -> Chart {
        match t.kind {
            TargetKind::Annual | TargetKind::YearlyTotal => Chart {
                title: format!("{}：各年度完成情况", t.name),
                decimals,
                body: Body::Yearly(Yearly {
                    years: e
                        .path
                        .iter()
                        .map(|(d, target)| {
                            let row = e.years.iter().find(|r| r.year == d.year());
                            Year {
                                year: d.year(),
                                target: *target,
                                total: row.map(|r| r.total),
                                partial: row.is_some_and(|r| r.covered < 1.0),
                            }
                        })
                        .collect(),
                    forecast: e.forecast.map(|f| f.value),
                }),
            },
            _ => {
                let start = e
                    .start
                    .map(|s| s.date)
                    .into_iter()
                    .chain(e.points.first().map(|p| p.date))
                    .chain(std::iter::once(period_start))
                    .min()
                    .unwrap_or(period_start);
                let mut expected = e.path.clone();
                if expected.is_empty()
                    && let Some(s) = e.start
                {
                    expected.push((s.date, s.value));
                }
                Chart {
                    title: format!("{}：实际值、预期进度、目标值与预测", t.name),
                    decimals,
                    body: Body::Line(Line {
                        start,
                        end: t.deadline,
                        actual: e
                            .points
                            .iter()
                            .map(|p| Point {
                                date: p.date,
                                value: p.value,
                                provisional: p.provisional,
                            })
                            .collect(),
                        expected,
                        target: e.target_value.is_finite().then_some(e.target_value),
                        forecast: e.forecast.map(|f| Forecast {
                            date: f.date,
                            value: f.value,
                            low: f.low,
                            high: f.high,
                        }),
                        as_of: Some(as_of),
                    }),
                }
            }
        }
    }
}

impl From<&kc_domain::report::Chart> for Chart {
    fn from(c: &kc_domain::report::Chart) -> Chart {
        Chart {
            title: c.title.clone(),
            decimals: 2,
            body: Body::Line(Line {
                start: c.start,
                end: c.end,
                actual: c
                    .actual
                    .iter()
                    .map(|(date, value)| Point {
                        date: *date,
                        value: *value,
                        provisional: false,
                    })
                    .collect(),
                expected: c.expected.clone(),
                target: c.target,
                forecast: c.forecast.map(|f| Forecast {
                    date: f.date,
                    value: f.value,
                    low: f.low,
                    high: f.high,
                }),
                as_of: None,
            }),
        }
    }
}

/// Ticks of a value axis: the range rounded out to a "nice" step (1, 2,
/// 2.5 or 5 × 10ⁿ, about five steps) and the decimals its labels need.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticks {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
    /// The decimals a label needs to tell the ticks apart (0 for 250, 1 for 2.5).
    pub decimals: u8,
}

impl Ticks {
    /// Every tick from `lo` to `hi`.
    pub fn values(&self) -> Vec<f64> {
        let n = ((self.hi - self.lo) / self.step).round() as usize;
        (0..=n.min(50))
            .map(|i| {
                let v = self.lo + self.step * i as f64;
                let k = 10f64.powi(i32::from(self.decimals));
                (v * k).round() / k
            })
            .collect()
    }
}

/// The one tick algorithm of every chart. A flat or empty range is widened
/// by one on each side; non-finite input gives 0–1.
pub fn ticks(lo: f64, hi: f64) -> Ticks {
    let (lo, hi) = if !lo.is_finite() || !hi.is_finite() {
        (0.0, 1.0)
    } else if (hi - lo).abs() < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo.min(hi), lo.max(hi))
    };
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    let decimals = (0..=6u8)
        .find(|d| {
            let scaled = step * 10f64.powi(i32::from(*d));
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(6);
    Ticks {
        lo: (lo / step + 1e-9).floor() * step,
        hi: (hi / step - 1e-9).ceil() * step,
        step,
        decimals,
    }
}

/// A number with at most `decimals` places (trailing zeros dropped) and
/// thousands separators: 1,250 and 2.5.
pub fn num(v: f64, decimals: u8) -> String {
    let s = kc_domain::plan::fmt_num(v, usize::from(decimals));
    if !v.is_finite() {
        return s;
    }
    let (sign, rest) = s
        .strip_prefix('-')
        .map(|r| ("-", r))
        .unwrap_or(("", s.as_str()));
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// Text for SVG (and HTML): the five special characters escaped and
/// control characters other than tab and newline dropped (XML 1.0 does not
/// allow them).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ranges() {
        let t = ticks(0.0, 1200.0);
        assert_eq!((t.lo, t.hi, t.step, t.decimals), (0.0, 1250.0, 250.0, 0));
        let t = ticks(0.0, 1000.0);
        assert_eq!((t.lo, t.hi, t.step), (0.0, 1000.0, 200.0));
        assert_eq!(t.values(), vec![0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]);
        let t = ticks(2.5, 3.0);
        assert!(t.lo <= 2.5 && t.hi >= 3.0 && t.step > 0.0);
        assert_eq!(t.step, 0.1);
        assert_eq!(t.decimals, 1);
        assert_eq!(t.values(), vec![2.5, 2.6, 2.7, 2.8, 2.9, 3.0]);
        let t = ticks(0.0, 12.0);
        assert_eq!((t.step, t.decimals), (2.5, 1));
        let t = ticks(5.0, 5.0);
        assert!(t.lo < 5.0 && t.hi > 5.0);
        let t = ticks(f64::NAN, 1.0);
        assert_eq!((t.lo, t.hi), (0.0, 1.0));
    }

    #[test]
    fn numbers_and_text() {
        assert_eq!(num(1250.0, 0), "1,250");
        assert_eq!(num(-1234567.5, 1), "-1,234,567.5");
        assert_eq!(num(2.50, 2), "2.5");
        assert_eq!(num(f64::NAN, 2), "—");
        assert_eq!(escape("<a&\"b'>\u{1}"), "&lt;a&amp;&quot;b&#39;&gt;");
    }
}
