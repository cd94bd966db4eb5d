//! The chart as SVG: no script, no external references, readable when
//! printed. Every label goes through [`escape`].

use std::fmt::Write;

use chrono::{Datelike, NaiveDate};

use crate::colour::{self, ACTUAL, EXPECTED, FORECAST, TARGET};
use crate::{Body, Chart, Line, Yearly, escape, num, ticks};

const W: f64 = 760.0;
const H: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 40.0;

/// Size of every chart in SVG user units (CSS pixels): width, height.
pub const SIZE: (u32, u32) = (W as u32, H as u32);

/// The families labels are set in: Noto Sans CJK SC (Debian's
/// `fonts-noto-cjk`, also what the PNG renderer looks for first), the same
/// face under its Adobe name, the Windows default, then any sans-serif.
const FONTS: &str = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif";

/// Maps a value range to pixels.
struct Scale {
    lo: f64,
    hi: f64,
    px_lo: f64,
    px_hi: f64,
}

impl Scale {
    fn map(&self, v: f64) -> f64 {
        if (self.hi - self.lo).abs() < f64::EPSILON {
            return (self.px_lo + self.px_hi) / 2.0;
        }
        self.px_lo + (v - self.lo) / (self.hi - self.lo) * (self.px_hi - self.px_lo)
    }
}

fn day(d: NaiveDate) -> f64 {
    f64::from(d.num_days_from_ce())
}

/// The chart as an SVG document (a `<svg>` element with a `<title>`).
pub fn svg(chart: &Chart) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" class="chart" role="img" aria-label="{t}" font-family="{FONTS}" font-size="12"><title>{t}</title><rect x="0" y="0" width="{W}" height="{H}" fill="#fff"/>"##,
        t = escape(&chart.title)
    );
    match &chart.body {
        Body::Line(l) => line_chart(&mut svg, l, chart.decimals),
        Body::Yearly(y) => yearly_bars(&mut svg, y, chart.decimals),
    }
    svg.push_str("</svg>");
    svg
}

/// Draws the value axis for `[lo, hi]` rounded out to nice steps and
/// returns its scale.
fn value_axis(svg: &mut String, lo: f64, hi: f64) -> Scale {
    let t = ticks(lo, hi);
    let y = Scale {
        lo: t.lo,
        hi: t.hi,
        px_lo: H - BOTTOM,
        px_hi: TOP,
    };
    for v in t.values() {
        let py = y.map(v);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{py:.1}" y2="{py:.1}" stroke="#e5e7eb"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#4b5563">{label}</text>"##,
            x2 = W - RIGHT,
            tx = LEFT - 6.0,
            ty = py + 4.0,
            label = escape(&num(v, t.decimals))
        );
    }
    y
}

fn legend(svg: &mut String, items: &[(&str, u32, &str)]) {
    let mut x = LEFT;
    for (label, color, dash) in items {
        let _ = write!(
            svg,
            r##"<line x1="{x}" x2="{x2}" y1="16" y2="16" stroke="{c}" stroke-width="2.5" stroke-dasharray="{dash}"/><text x="{tx}" y="20" fill="#111827">{label}</text>"##,
            c = colour::css(*color),
            x2 = x + 22.0,
            tx = x + 28.0,
            label = escape(label)
        );
        x += 40.0 + label.chars().count() as f64 * 12.0;
    }
}

fn line_chart(svg: &mut String, l: &Line, decimals: u8) {
    let (c_actual, c_path, c_target, c_forecast) = (
        colour::css(ACTUAL),
        colour::css(EXPECTED),
        colour::css(TARGET),
        colour::css(FORECAST),
    );
    let (start, end) = (l.start.min(l.end), l.end.max(l.start));
    let x = Scale {
        lo: day(start),
        hi: day(end),
        px_lo: LEFT,
        px_hi: W - RIGHT,
    };
    let mut values: Vec<f64> = l.target.into_iter().collect();
    values.extend(l.actual.iter().map(|p| p.value));
    values.extend(l.expected.iter().map(|(_, v)| *v));
    if let Some(f) = l.forecast {
        values.extend([f.value, f.low, f.high]);
    }
    values.retain(|v| v.is_finite());
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = if lo >= 0.0 && lo < hi * 0.5 { 0.0 } else { lo };
    let y = value_axis(svg, lo, hi);
    // Years on the time axis: a line where each year begins and the year's
    // name in the middle of its span, so that a year-end value (2024-12-31)
    // sits at the end of its own year, not on the next year's line.
    for year in start.year()..=end.year() + 1 {
        let Some(d) = NaiveDate::from_ymd_opt(year, 1, 1) else {
            continue;
        };
        if d >= start && d <= end {
            let px = x.map(day(d));
            let _ = write!(
                svg,
                r##"<line x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{yb}" stroke="#f3f4f6"/>"##,
                yb = H - BOTTOM,
            );
        }
        let (Some(a), Some(b)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            continue;
        };
        let (a, b) = (a.max(start), b.min(end));
        // A year shown for less than a quarter is left unnamed (no room).
        if (b - a).num_days() < 90 {
            continue;
        }
        let mid = a + (b - a) / 2;
        let px = x.map(day(mid));
        let _ = write!(
            svg,
            r##"<text x="{px:.1}" y="{ty}" text-anchor="middle" fill="#4b5563">{year}</text>"##,
            ty = H - BOTTOM + 18.0
        );
    }
    if let Some(goal) = l.target {
        let gy = y.map(goal);
        let _ = write!(
            svg,
            r#"<line x1="{LEFT}" x2="{x2}" y1="{gy:.1}" y2="{gy:.1}" stroke="{c_target}" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="{c_target}">目标 {label}</text>"#,
            x2 = W - RIGHT,
            tx = W - RIGHT - 4.0,
            ty = gy - 5.0,
            label = escape(&num(goal, decimals))
        );
    }
    if l.expected.len() > 1 {
        let pts: Vec<String> = l
            .expected
            .iter()
            .map(|(d, v)| format!("{:.1},{:.1}", x.map(day(*d)), y.map(*v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{c_path}" stroke-width="1.5" stroke-dasharray="4 3"/>"#,
            pts.join(" ")
        );
    }
    // The forecast band and line from the last point to the forecast date.
    if let (Some(f), Some(last)) = (l.forecast, l.actual.last()) {
        let (x0, y0) = (x.map(day(last.date)), y.map(last.value));
        let x1 = x.map(day(f.date));
        let _ = write!(
            svg,
            r#"<polygon points="{x0:.1},{y0:.1} {x1:.1},{yh:.1} {x1:.1},{yl:.1}" fill="{c_forecast}" fill-opacity="0.15"/><line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{yf:.1}" stroke="{c_forecast}" stroke-width="2" stroke-dasharray="2 3"/><circle cx="{x1:.1}" cy="{yf:.1}" r="3.5" fill="{c_forecast}"/>"#,
            yh = y.map(f.high),
            yl = y.map(f.low),
            yf = y.map(f.value)
        );
    }
    // The actual series; hollow circles for provisional values.
    if !l.actual.is_empty() {
        let pts: Vec<String> = l
            .actual
            .iter()
            .map(|p| format!("{:.1},{:.1}", x.map(day(p.date)), y.map(p.value)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{c_actual}" stroke-width="2.5"/>"#,
            pts.join(" ")
        );
        for p in &l.actual {
            let fill = if p.provisional { "#fff" } else { &c_actual };
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{fill}" stroke="{c_actual}" stroke-width="1.5"><title>{} {}</title></circle>"#,
                x.map(day(p.date)),
                y.map(p.value),
                p.date,
                escape(&num(p.value, decimals))
            );
        }
    }
    if let Some(as_of) = l.as_of
        && as_of >= start
        && as_of <= end
    {
        let px = x.map(day(as_of));
        let _ = write!(
            svg,
            r##"<line x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{yb}" stroke="#9ca3af" stroke-dasharray="1 3"/><text x="{tx:.1}" y="{ty}" fill="#6b7280">统计日</text>"##,
            yb = H - BOTTOM,
            tx = px + 3.0,
            ty = H - BOTTOM - 6.0
        );
    }
    legend(
        svg,
        &[
            ("实际值", ACTUAL, ""),
            ("预期进度", EXPECTED, "4 3"),
            ("目标值", TARGET, "6 4"),
            ("预测", FORECAST, "2 3"),
        ],
    );
    if l.actual.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#6b7280" font-size="14">暂无数据</text>"##,
            W / 2.0,
            H / 2.0
        );
    }
}

fn yearly_bars(svg: &mut String, yr: &Yearly, decimals: u8) {
    if yr.years.is_empty() {
        return;
    }
    let (c_actual, c_target, c_forecast) = (
        colour::css(ACTUAL),
        colour::css(TARGET),
        colour::css(FORECAST),
    );
    let hi = yr
        .years
        .iter()
        .flat_map(|y| [y.target, y.total.unwrap_or(0.0)])
        .chain(yr.forecast)
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let y = value_axis(svg, 0.0, hi.max(1.0));
    let slot = (W - LEFT - RIGHT) / yr.years.len() as f64;
    let bw = (slot * 0.45).min(80.0);
    for (i, year) in yr.years.iter().enumerate() {
        let cx = LEFT + slot * (i as f64 + 0.5);
        if let Some(total) = year.total {
            let top = y.map(total);
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{top:.1}" width="{bw:.1}" height="{h:.1}" fill="{c_actual}" fill-opacity="{op}"><title>{n}年 {v}</title></rect><text x="{cx:.1}" y="{ty:.1}" text-anchor="middle" fill="#111827">{v}{p}</text>"##,
                x = cx - bw / 2.0,
                h = (H - BOTTOM - top).max(0.0),
                op = if year.partial { "0.45" } else { "0.9" },
                ty = top - 6.0,
                n = year.year,
                v = escape(&num(total, decimals)),
                p = if year.partial {
                    "（截至目前）"
                } else {
                    ""
                }
            );
            if year.partial
                && let Some(f) = yr.forecast
            {
                let fy = y.map(f);
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{fy:.1}" width="{bw:.1}" height="{h:.1}" fill="none" stroke="{c_forecast}" stroke-dasharray="3 3"/>"#,
                    x = cx - bw / 2.0,
                    h = (top - fy).max(0.0)
                );
            }
        }
        let ty = y.map(year.target);
        let _ = write!(
            svg,
            r##"<line x1="{x1:.1}" x2="{x2:.1}" y1="{ty:.1}" y2="{ty:.1}" stroke="{c_target}" stroke-width="2" stroke-dasharray="6 4"/><text x="{cx:.1}" y="{yb}" text-anchor="middle" fill="#4b5563">{n}</text>"##,
            x1 = cx - bw / 2.0 - 8.0,
            x2 = cx + bw / 2.0 + 8.0,
            yb = H - BOTTOM + 18.0,
            n = year.year
        );
    }
    legend(
        svg,
        &[
            ("年度实际值", ACTUAL, ""),
            ("年度目标", TARGET, "6 4"),
            ("全年预测", FORECAST, "3 3"),
        ],
    );
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Forecast, Point, Year};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    pub(crate) fn sample() -> Chart {
        Chart {
            title: "高新技术企业数 <家> & \"在册\"".into(),
            decimals: 0,
            body: Body::Line(Line {
                start: d("2023-01-01"),
                end: d("2025-12-31"),
                actual: vec![
                    Point {
                        date: d("2023-03-31"),
                        value: 720.0,
                        provisional: false,
                    },
                    Point {
                        date: d("2024-03-31"),
                        value: 850.0,
                        provisional: false,
                    },
                    Point {
                        date: d("2025-06-30"),
                        value: 975.0,
                        provisional: true,
                    },
                ],
                expected: vec![(d("2023-01-01"), 700.0), (d("2025-12-31"), 1200.0)],
                target: Some(1200.0),
                forecast: Some(Forecast {
                    date: d("2025-12-31"),
                    value: 1040.0,
                    low: 990.0,
                    high: 1090.0,
                }),
                as_of: Some(d("2025-06-30")),
            }),
        }
    }

    /// The text of every `<text>` element, in order.
    fn texts(svg: &str) -> Vec<&str> {
        svg.split("<text")
            .skip(1)
            .filter_map(|s| s.split_once('>').and_then(|(_, r)| r.split_once("</text>")))
            .map(|(t, _)| t)
            .collect()
    }

    /// A year-end value sits inside its own year: after the year's name,
    /// before the next year's (issue 15: yearly values were drawn on the next
    /// year's line).
    #[test]
    fn a_year_end_value_sits_in_its_own_year() {
        let mut c = sample();
        if let Body::Line(l) = &mut c.body {
            l.actual = vec![Point {
                date: d("2024-12-31"),
                value: 900.0,
                provisional: false,
            }];
        }
        let s = svg(&c);
        let label_x = |year: &str| -> f64 {
            let i = s.find(&format!(">{year}</text>")).expect("the year's name");
            let open = s[..i].rfind("<text").unwrap();
            s[open..i]
                .split("x=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap()
                .parse()
                .unwrap()
        };
        let at = s.find("<title>2024-12-31").expect("the value's point");
        let open = s[..at].rfind("<circle cx=\"").unwrap();
        let point = s[open + 12..]
            .split('"')
            .next()
            .unwrap()
            .parse::<f64>()
            .unwrap();
        assert!(label_x("2024") < point && point < label_x("2025"), "{s}");
    }

    #[test]
    fn a_line_chart_has_its_ticks_labels_and_escaped_title() {
        let s = svg(&sample());
        assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(s.ends_with("</svg>"));
        let t = texts(&s);
        // 700 … 1,200 in steps of 100 (the axis starts at the data, as 700 is
        // more than half of 1,200).
        for tick in ["700", "800", "900", "1,000", "1,100", "1,200"] {
            assert!(t.contains(&tick), "tick {tick} missing in {t:?}");
        }
        for year in ["2023", "2024", "2025"] {
            assert!(t.contains(&year), "year {year} missing");
        }
        for label in [
            "目标 1,200",
            "统计日",
            "实际值",
            "预期进度",
            "目标值",
            "预测",
        ] {
            assert!(t.contains(&label), "label {label} missing");
        }
        assert!(s.contains("高新技术企业数 &lt;家&gt; &amp; &quot;在册&quot;"));
        assert!(!s.contains("<家>"));
        // The provisional point is hollow, the others filled.
        assert_eq!(s.matches(r##"fill="#fff" stroke="#1f5fbf""##).count(), 1);
        assert_eq!(s.matches("<circle").count(), 4);
    }

    #[test]
    fn yearly_bars_and_empty_charts() {
        let c = Chart {
            title: "研发投入".into(),
            decimals: 1,
            body: Body::Yearly(Yearly {
                years: vec![
                    Year {
                        year: 2024,
                        target: 10.0,
                        total: Some(11.5),
                        partial: false,
                    },
                    Year {
                        year: 2025,
                        target: 12.0,
                        total: Some(6.0),
                        partial: true,
                    },
                ],
                forecast: Some(12.5),
            }),
        };
        let s = svg(&c);
        let t = texts(&s);
        assert!(t.contains(&"11.5"));
        assert!(t.contains(&"6（截至目前）"));
        assert!(t.contains(&"2.5"), "tick step 2.5: {t:?}");
        assert!(t.contains(&"年度目标"));
        let empty = Chart {
            title: String::new(),
            decimals: 0,
            body: Body::Line(Line {
                start: d("2023-01-01"),
                end: d("2023-01-01"),
                actual: vec![],
                expected: vec![],
                target: None,
                forecast: None,
                as_of: None,
            }),
        };
        assert!(svg(&empty).contains("暂无数据"));
        assert!(svg(&empty).ends_with("</svg>"));
    }
}
