//! Charts drawn by the server as SVG: no script, no network, readable when
//! printed. A line chart shows the actual series, the expected path, the
//! target and the forecast with its band; yearly targets get a bar per year.

use std::fmt::Write;

use chrono::{Datelike, NaiveDate};
use kc_domain::Evaluation;
use kc_domain::plan::{Target, TargetKind};

use crate::view::num;

const W: f64 = 760.0;
const H: f64 = 320.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 40.0;

const C_ACTUAL: &str = "#1f5fbf";
const C_PATH: &str = "#6b7280";
const C_TARGET: &str = "#c0392b";
const C_FORECAST: &str = "#d9822b";

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Axis scale: maps a value range to pixels, with "nice" ticks.
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

/// Rounds a value range out to nice tick steps; returns (lo, hi, step).
fn nice(lo: f64, hi: f64) -> (f64, f64, f64) {
    let (lo, hi) = if (hi - lo).abs() < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let raw = (hi - lo) / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    ((lo / step).floor() * step, (hi / step).ceil() * step, step)
}

fn day(d: NaiveDate) -> f64 {
    f64::from(d.num_days_from_ce())
}

pub fn target_chart(
    t: &Target,
    e: &Evaluation,
    decimals: u8,
    as_of: NaiveDate,
    period_start: NaiveDate,
) -> String {
    match t.kind {
        TargetKind::Annual | TargetKind::YearlyTotal => yearly_bars(t, e, decimals),
        _ => line_chart(t, e, decimals, as_of, period_start),
    }
}

fn frame(svg: &mut String, title: &str) {
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" class="chart" role="img" aria-label="{t}" font-family="'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif" font-size="12"><title>{t}</title><rect x="0" y="0" width="{W}" height="{H}" fill="#fff"/>"##,
        t = escape(title)
    );
}

fn y_axis(svg: &mut String, y: &Scale, step: f64, decimals: u8) {
    let mut v = y.lo;
    let mut guard = 0;
    while v <= y.hi + step * 0.01 && guard < 20 {
        let py = y.map(v);
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{py:.1}" y2="{py:.1}" stroke="#e5e7eb"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#4b5563">{label}</text>"##,
            x2 = W - RIGHT,
            tx = LEFT - 6.0,
            ty = py + 4.0,
            label = escape(&num(v, decimals.max(if step < 1.0 { 1 } else { 0 })))
        );
        v += step;
        guard += 1;
    }
}

/// Draws the value axis for `[lo, hi]` rounded out to nice steps and
/// returns its scale.
fn value_axis(svg: &mut String, lo: f64, hi: f64, decimals: u8) -> Scale {
    let (ylo, yhi, step) = nice(lo, hi);
    let y = Scale {
        lo: ylo,
        hi: yhi,
        px_lo: H - BOTTOM,
        px_hi: TOP,
    };
    y_axis(svg, &y, step, decimals);
    y
}

fn legend(svg: &mut String, items: &[(&str, &str, &str)]) {
    let mut x = LEFT;
    for (label, color, dash) in items {
        let _ = write!(
            svg,
            r##"<line x1="{x}" x2="{x2}" y1="16" y2="16" stroke="{color}" stroke-width="2.5" stroke-dasharray="{dash}"/><text x="{tx}" y="20" fill="#111827">{label}</text>"##,
            x2 = x + 22.0,
            tx = x + 28.0,
            label = escape(label)
        );
        x += 40.0 + label.chars().count() as f64 * 12.0;
    }
}

fn line_chart(
    t: &Target,
    e: &Evaluation,
    decimals: u8,
    as_of: NaiveDate,
    period_start: NaiveDate,
) -> String {
    let mut svg = String::new();
    frame(
        &mut svg,
        &format!("{}：实际值、预期进度、目标值与预测", t.name),
    );
    let start = e
        .start
        .map(|s| s.date)
        .into_iter()
        .chain(e.points.first().map(|p| p.date))
        .chain(std::iter::once(period_start))
        .min()
        .unwrap_or(period_start);
    let end = t.deadline.max(as_of.min(t.deadline));
    let x = Scale {
        lo: day(start),
        hi: day(end),
        px_lo: LEFT,
        px_hi: W - RIGHT,
    };
    let goal = e.target_value;
    let mut values: Vec<f64> = vec![goal];
    values.extend(e.points.iter().map(|p| p.value));
    values.extend(e.path.iter().map(|(_, v)| *v));
    if let Some(f) = e.forecast {
        values.extend([f.low, f.high]);
    }
    if let Some(s) = e.start {
        values.push(s.value);
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = if lo >= 0.0 && lo < hi * 0.5 { 0.0 } else { lo };
    let y = value_axis(&mut svg, lo, hi, decimals);
    // Year ticks on the x axis.
    for year in start.year()..=end.year() + 1 {
        let Some(d) = NaiveDate::from_ymd_opt(year, 1, 1) else {
            continue;
        };
        if d < start || d > end {
            continue;
        }
        let px = x.map(day(d));
        let _ = write!(
            svg,
            r##"<line x1="{px:.1}" x2="{px:.1}" y1="{TOP}" y2="{yb}" stroke="#f3f4f6"/><text x="{px:.1}" y="{ty}" text-anchor="middle" fill="#4b5563">{year}</text>"##,
            yb = H - BOTTOM,
            ty = H - BOTTOM + 18.0
        );
    }
    // Target line.
    let gy = y.map(goal);
    let _ = write!(
        svg,
        r#"<line x1="{LEFT}" x2="{x2}" y1="{gy:.1}" y2="{gy:.1}" stroke="{C_TARGET}" stroke-width="1.5" stroke-dasharray="6 4"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="{C_TARGET}">目标 {label}</text>"#,
        x2 = W - RIGHT,
        tx = W - RIGHT - 4.0,
        ty = gy - 5.0,
        label = escape(&num(goal, decimals))
    );
    // Expected path.
    if e.path.len() > 1 {
        let pts: Vec<String> = e
            .path
            .iter()
            .map(|(d, v)| format!("{:.1},{:.1}", x.map(day(*d)), y.map(*v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{C_PATH}" stroke-width="1.5" stroke-dasharray="4 3"/>"#,
            pts.join(" ")
        );
    }
    // Forecast band and line from the last point to the deadline.
    if let (Some(f), Some(last)) = (e.forecast, e.points.last()) {
        let (x0, y0) = (x.map(day(last.date)), y.map(last.value));
        let x1 = x.map(day(f.date));
        let _ = write!(
            svg,
            r#"<polygon points="{x0:.1},{y0:.1} {x1:.1},{yh:.1} {x1:.1},{yl:.1}" fill="{C_FORECAST}" fill-opacity="0.15"/><line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{yf:.1}" stroke="{C_FORECAST}" stroke-width="2" stroke-dasharray="2 3"/><circle cx="{x1:.1}" cy="{yf:.1}" r="3.5" fill="{C_FORECAST}"/>"#,
            yh = y.map(f.high),
            yl = y.map(f.low),
            yf = y.map(f.value)
        );
    }
    // Actual series; hollow circles for provisional values.
    if !e.points.is_empty() {
        let pts: Vec<String> = e
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x.map(day(p.date)), y.map(p.value)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{C_ACTUAL}" stroke-width="2.5"/>"#,
            pts.join(" ")
        );
        for p in &e.points {
            let fill = if p.provisional { "#fff" } else { C_ACTUAL };
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3.5" fill="{fill}" stroke="{C_ACTUAL}" stroke-width="1.5"><title>{} {}</title></circle>"#,
                x.map(day(p.date)),
                y.map(p.value),
                p.date,
                escape(&num(p.value, decimals))
            );
        }
    }
    // As-of line.
    if as_of >= start && as_of <= end {
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
        &mut svg,
        &[
            ("实际值", C_ACTUAL, ""),
            ("预期进度", C_PATH, "4 3"),
            ("目标值", C_TARGET, "6 4"),
            ("预测", C_FORECAST, "2 3"),
        ],
    );
    if e.points.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#6b7280" font-size="14">暂无数据</text>"##,
            W / 2.0,
            H / 2.0
        );
    }
    svg.push_str("</svg>");
    svg
}

fn yearly_bars(t: &Target, e: &Evaluation, decimals: u8) -> String {
    let mut svg = String::new();
    frame(&mut svg, &format!("{}：各年度完成情况", t.name));
    let years: Vec<i32> = e.path.iter().map(|(d, _)| d.year()).collect();
    if years.is_empty() {
        svg.push_str("</svg>");
        return svg;
    }
    let hi = e
        .years
        .iter()
        .map(|y| y.total.max(y.target))
        .chain(e.path.iter().map(|(_, v)| *v))
        .chain(e.forecast.map(|f| f.value))
        .fold(0.0, f64::max);
    let y = value_axis(&mut svg, 0.0, hi.max(1.0), decimals);
    let slot = (W - LEFT - RIGHT) / years.len() as f64;
    let bw = (slot * 0.45).min(80.0);
    for (i, year) in years.iter().enumerate() {
        let cx = LEFT + slot * (i as f64 + 0.5);
        let yt = e.path[i].1;
        if let Some(r) = e.years.iter().find(|r| r.year == *year) {
            let top = y.map(r.total);
            let partial = r.covered < 1.0;
            let _ = write!(
                svg,
                r##"<rect x="{x:.1}" y="{top:.1}" width="{bw:.1}" height="{h:.1}" fill="{C_ACTUAL}" fill-opacity="{op}"><title>{year}年 {v}</title></rect><text x="{cx:.1}" y="{ty:.1}" text-anchor="middle" fill="#111827">{v}{p}</text>"##,
                x = cx - bw / 2.0,
                h = (H - BOTTOM - top).max(0.0),
                op = if partial { "0.45" } else { "0.9" },
                ty = top - 6.0,
                v = escape(&num(r.total, decimals)),
                p = if partial { "（截至目前）" } else { "" }
            );
            if partial && let Some(f) = e.forecast {
                let fy = y.map(f.value);
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{fy:.1}" width="{bw:.1}" height="{h:.1}" fill="none" stroke="{C_FORECAST}" stroke-dasharray="3 3"/>"#,
                    x = cx - bw / 2.0,
                    h = (top - fy).max(0.0)
                );
            }
        }
        let ty = y.map(yt);
        let _ = write!(
            svg,
            r##"<line x1="{x1:.1}" x2="{x2:.1}" y1="{ty:.1}" y2="{ty:.1}" stroke="{C_TARGET}" stroke-width="2" stroke-dasharray="6 4"/><text x="{cx:.1}" y="{yb}" text-anchor="middle" fill="#4b5563">{year}</text>"##,
            x1 = cx - bw / 2.0 - 8.0,
            x2 = cx + bw / 2.0 + 8.0,
            yb = H - BOTTOM + 18.0
        );
    }
    legend(
        &mut svg,
        &[
            ("年度实际值", C_ACTUAL, ""),
            ("年度目标", C_TARGET, "6 4"),
            ("全年预测", C_FORECAST, "3 3"),
        ],
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ranges() {
        assert_eq!(nice(0.0, 1200.0), (0.0, 1250.0, 250.0));
        assert_eq!(nice(0.0, 1000.0), (0.0, 1000.0, 200.0));
        let (lo, hi, step) = nice(2.5, 3.0);
        assert!(lo <= 2.5 && hi >= 3.0 && step > 0.0);
        let (lo, hi, _) = nice(5.0, 5.0);
        assert!(lo < 5.0 && hi > 5.0);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<a&\"b'>"), "&lt;a&amp;&quot;b&#39;&gt;");
    }
}
