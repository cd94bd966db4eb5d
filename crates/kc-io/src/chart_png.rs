//! Charts as PNG images for the Word report: the same picture as the
//! target page's SVG (actual values, the expected path, the target line,
//! the forecast and its band), drawn into pixels here. Numbers and years on
//! the axes use a small built-in bitmap font; the Chinese caption and the
//! legend are text in the document, so no font file is needed.

use std::io::Write;

use chrono::{Datelike, NaiveDate};
use kc_domain::report::Chart;

const W: usize = 1200;
const H: usize = 560;
const LEFT: f64 = 130.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 70.0;

type Rgb = [u8; 3];
const WHITE: Rgb = [255, 255, 255];
const GRID: Rgb = [225, 228, 232];
const AXIS: Rgb = [90, 96, 104];
const ACTUAL: Rgb = [26, 95, 180];
const EXPECTED: Rgb = [140, 145, 150];
const TARGET: Rgb = [192, 28, 40];
const FORECAST: Rgb = [230, 97, 0];
const BAND: Rgb = [253, 226, 204];

struct Canvas {
    px: Vec<u8>,
}

impl Canvas {
    fn new() -> Canvas {
        Canvas {
            px: vec![255; W * H * 3],
        }
    }

    fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < W && (y as usize) < H {
            let i = (y as usize * W + x as usize) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, c: Rgb) {
        let (xa, xb) = (x0.min(x1).round() as i64, x0.max(x1).round() as i64);
        let (ya, yb) = (y0.min(y1).round() as i64, y0.max(y1).round() as i64);
        for y in ya..=yb {
            for x in xa..=xb {
                self.set(x, y, c);
            }
        }
    }

    /// A line `width` pixels thick; `dash` = (on, off) lengths in pixels.
    fn line(&mut self, a: (f64, f64), b: (f64, f64), width: f64, c: Rgb, dash: Option<(f64, f64)>) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        let steps = (len * 2.0).ceil().max(1.0) as usize;
        let r = width / 2.0;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            if let Some((on, off)) = dash
                && (t * len) % (on + off) > on
            {
                continue;
            }
            let (x, y) = (a.0 + dx * t, a.1 + dy * t);
            self.rect(x - r, y - r, x + r, y + r, c);
        }
    }

    fn dot(&mut self, x: f64, y: f64, radius: f64, c: Rgb) {
        let r2 = radius * radius;
        for oy in -(radius.ceil() as i64)..=radius.ceil() as i64 {
            for ox in -(radius.ceil() as i64)..=radius.ceil() as i64 {
                if (ox * ox + oy * oy) as f64 <= r2 {
                    self.set(x.round() as i64 + ox, y.round() as i64 + oy, c);
                }
            }
        }
    }

    /// Text in the built-in 5 × 7 font, `scale` pixels a dot; `anchor` 0
    /// left, 0.5 centre, 1 right.
    fn text(&mut self, s: &str, x: f64, y: f64, scale: i64, anchor: f64, c: Rgb) {
        let width = s.chars().count() as f64 * 6.0 * scale as f64;
        let mut cx = (x - width * anchor).round() as i64;
        let cy = (y - 3.5 * scale as f64).round() as i64;
        for ch in s.chars() {
            if let Some(rows) = glyph(ch) {
                for (ry, bits) in rows.iter().enumerate() {
                    for rx in 0..5 {
                        if bits & (0b10000 >> rx) != 0 {
                            for sy in 0..scale {
                                for sx in 0..scale {
                                    self.set(cx + rx * scale + sx, cy + ry as i64 * scale + sy, c);
                                }
                            }
                        }
                    }
                }
            }
            cx += 6 * scale;
        }
    }
}

/// The 5 × 7 dots of the characters axis labels use.
fn glyph(c: char) -> Option<[u8; 7]> {
    Some(match c {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '-' => [0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        ' ' => [0; 7],
        _ => return None,
    })
}

/// Round numbers for the value axis: 4–6 ticks at 1, 2 or 5 × 10ⁿ.
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * mag);
    let mut v = (lo / step).floor() * step;
    let mut out = Vec::new();
    while v <= hi + step * 1e-9 {
        out.push(v);
        v += step;
    }
    out
}

fn label(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10().floor()) as usize
    };
    kc_domain::plan::fmt_num(v, decimals)
}

/// The chart as PNG bytes.
pub fn render(chart: &Chart) -> Vec<u8> {
    let mut c = Canvas::new();
    let mut values: Vec<f64> = chart
        .actual
        .iter()
        .chain(&chart.expected)
        .map(|p| p.1)
        .collect();
    values.extend(chart.target);
    if let Some(f) = &chart.forecast {
        values.extend([f.value, f.low, f.high]);
    }
    let (mut lo, mut hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if lo > 0.0 && lo < hi * 0.6 {
        lo = 0.0;
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let ts = ticks(lo, hi);
    let (lo, hi) = (ts[0].min(lo), ts.last().copied().unwrap_or(hi).max(hi));
    let (t0, t1) = (
        chart.start,
        chart.end.max(chart.start.succ_opt().unwrap_or(chart.start)),
    );
    let days = (t1 - t0).num_days().max(1) as f64;
    let x = |d: NaiveDate| LEFT + (d - t0).num_days() as f64 / days * (W as f64 - LEFT - RIGHT);
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * (H as f64 - TOP - BOTTOM);
    c.rect(0.0, 0.0, W as f64 - 1.0, H as f64 - 1.0, WHITE);
    let step = if ts.len() > 1 { ts[1] - ts[0] } else { 1.0 };
    for t in &ts {
        c.line((LEFT, y(*t)), (W as f64 - RIGHT, y(*t)), 1.0, GRID, None);
        c.text(&label(*t, step), LEFT - 14.0, y(*t), 3, 1.0, AXIS);
    }
    for year in t0.year()..=t1.year() + 1 {
        if let Some(d) = NaiveDate::from_ymd_opt(year, 1, 1).filter(|d| *d >= t0 && *d <= t1) {
            c.line((x(d), TOP), (x(d), H as f64 - BOTTOM), 1.0, GRID, None);
            c.text(
                &year.to_string(),
                x(d),
                H as f64 - BOTTOM + 30.0,
                3,
                0.5,
                AXIS,
            );
        }
    }
    c.line(
        (LEFT, H as f64 - BOTTOM),
        (W as f64 - RIGHT, H as f64 - BOTTOM),
        2.0,
        AXIS,
        None,
    );
    c.line((LEFT, TOP), (LEFT, H as f64 - BOTTOM), 2.0, AXIS, None);
    // The forecast band first, under everything else.
    if let (Some(f), Some(last)) = (&chart.forecast, chart.actual.last()) {
        let steps = 60;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            let xx = x(last.0) + (x(f.date) - x(last.0)) * t;
            let low = last.1 + (f.low - last.1) * t;
            let high = last.1 + (f.high - last.1) * t;
            c.rect(
                xx,
                y(high),
                xx + (x(f.date) - x(last.0)) / steps as f64,
                y(low),
                BAND,
            );
        }
    }
    if let Some(tv) = chart.target {
        c.line(
            (LEFT, y(tv)),
            (W as f64 - RIGHT, y(tv)),
            3.0,
            TARGET,
            Some((18.0, 10.0)),
        );
    }
    for pair in chart.expected.windows(2) {
        c.line(
            (x(pair[0].0), y(pair[0].1)),
            (x(pair[1].0), y(pair[1].1)),
            3.0,
            EXPECTED,
            Some((12.0, 8.0)),
        );
    }
    if let (Some(f), Some(last)) = (&chart.forecast, chart.actual.last()) {
        c.line(
            (x(last.0), y(last.1)),
            (x(f.date), y(f.value)),
            3.0,
            FORECAST,
            Some((10.0, 6.0)),
        );
        c.dot(x(f.date), y(f.value), 6.0, FORECAST);
    }
    for pair in chart.actual.windows(2) {
        c.line(
            (x(pair[0].0), y(pair[0].1)),
            (x(pair[1].0), y(pair[1].1)),
            4.0,
            ACTUAL,
            None,
        );
    }
    for p in &chart.actual {
        c.dot(x(p.0), y(p.1), 6.0, ACTUAL);
    }
    encode_png(&c.px)
}

/// A minimal PNG: signature, IHDR (8-bit RGB), one zlib IDAT, IEND.
fn encode_png(rgb: &[u8]) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        out.extend(kind);
        out.extend(data);
        out.extend(crc.finalize().to_be_bytes());
    }
    let mut raw = Vec::with_capacity((W * 3 + 1) * H);
    for row in rgb.chunks(W * 3) {
        raw.push(0); // no filter
        raw.extend(row);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).expect("writing to memory");
    let compressed = z.finish().expect("writing to memory");
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend((W as u32).to_be_bytes());
    ihdr.extend((H as u32).to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &compressed);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Pixel size of every chart (for the document's layout).
pub const SIZE: (usize, usize) = (W, H);

#[cfg(test)]
mod tests {
    use super::*;
    use kc_domain::report::ChartForecast;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_chart_is_a_png_with_the_lines_drawn() {
        let chart = Chart {
            title: "高新技术企业数".into(),
            unit: "家".into(),
            start: d("2023-01-01"),
            end: d("2025-12-31"),
            actual: vec![
                (d("2023-03-31"), 720.0),
                (d("2024-03-31"), 850.0),
                (d("2025-06-30"), 975.0),
            ],
            expected: vec![(d("2023-01-01"), 700.0), (d("2025-12-31"), 1200.0)],
            target: Some(1200.0),
            forecast: Some(ChartForecast {
                date: d("2025-12-31"),
                value: 1040.0,
                low: 990.0,
                high: 1090.0,
            }),
        };
        let png = render(&chart);
        assert_eq!(&png[..8], &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        assert_eq!(
            crate::sniff::detect(&png),
            Some(crate::sniff::FileKind::Png)
        );
        // IHDR says 1200 × 560.
        assert_eq!(
            u32::from_be_bytes(png[16..20].try_into().unwrap()),
            W as u32
        );
        assert_eq!(
            u32::from_be_bytes(png[20..24].try_into().unwrap()),
            H as u32
        );
    }

    #[test]
    fn empty_and_flat_charts_do_not_panic() {
        let mut chart = Chart {
            title: String::new(),
            unit: String::new(),
            start: d("2023-01-01"),
            end: d("2023-01-01"),
            actual: vec![],
            expected: vec![],
            target: None,
            forecast: None,
        };
        assert!(!render(&chart).is_empty());
        chart.actual = vec![(d("2023-01-01"), 5.0)];
        chart.target = Some(5.0);
        assert!(!render(&chart).is_empty());
        assert_eq!(ticks(0.0, 1.0).first(), Some(&0.0));
        assert_eq!(label(0.5, 0.2), "0.5");
    }
}
