//! Reports as files: Excel (every table on its own sheet, numbers as
//! numbers, units in the headers; every chart as a native Excel chart beside
//! its data) and Word in the layout of Chinese official
//! documents (GB/T 9704-2012: A4, 37 mm top and 28 mm binding margins, a
//! 156 × 225 mm type area, title in 小标宋 二号, body 仿宋_GB2312 三号 at a
//! fixed 28-point line, headings in 黑体, page numbers "— 1 —" outside).
//!
//! The .docx is written directly as WordprocessingML into a zip: the format
//! is plain XML, and owning it keeps every layout rule in this file.

use std::io::{Cursor, Write};

use chrono::{Datelike, NaiveDate};
use kc_domain::report::{Cell, Chart, Report, Table};
use rust_xlsxwriter::{
    Chart as XlsxChart, ChartEmptyCells, ChartFormat, ChartLegendPosition, ChartLine,
    ChartLineDashType, ChartMarker, ChartMarkerType, ChartType, Format, FormatAlign, Workbook,
    Worksheet, XlsxError,
};
use zip::write::SimpleFileOptions;

use crate::IoError;

/// The fonts the Word report's chart pictures are drawn with (`cjk: None`
/// when the system has no Chinese font: the labels cannot be drawn).
pub use kc_chart::{Fonts as ChartFonts, fonts as chart_fonts};

// ---- Excel -----------------------------------------------------------------------------------

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`,
/// unique in the workbook.
fn sheet_name(title: &str, taken: &mut Vec<String>) -> String {
    let clean: String = title
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(28)
        .collect();
    let mut name = if clean.is_empty() {
        "表".to_string()
    } else {
        clean
    };
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{}{n}", name.chars().take(26).collect::<String>());
        n += 1;
    }
    taken.push(name.clone());
    name
}

/// The report as an .xlsx: a first sheet with the title, basis and text,
/// then one sheet per table, then one sheet per chart with its data and a
/// native Excel chart drawn from those cells.
pub fn report_xlsx(report: &Report) -> Result<Vec<u8>, IoError> {
    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let header = Format::new()
        .set_bold()
        .set_background_color(0xF2F2F2)
        .set_text_wrap()
        .set_align(FormatAlign::Center);
    let wrap = Format::new().set_text_wrap();
    let mut taken = Vec::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name("报告正文", &mut taken))?;
        ws.set_column_width(0, 110)?;
        let mut r = 0u32;
        ws.write_string_with_format(r, 0, &report.title, &title)?;
        r += 1;
        for line in [
            &report.subtitle,
            &report.basis,
            &format!("{} {}", report.issuer, report.date),
        ] {
            ws.write_string(r, 0, line)?;
            r += 1;
        }
        for s in &report.sections {
            r += 1;
            ws.write_string_with_format(r, 0, &s.heading, &header)?;
            r += 1;
            for p in &s.paragraphs {
                ws.write_string_with_format(r, 0, p, &wrap)?;
                r += 1;
            }
        }
    }
    for t in report.tables() {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(&t.title, &mut taken))?;
        for (c, col) in t.columns.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, col.header(), &header)?;
            ws.set_column_width(c as u16, column_width(t, c))?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Number { value, decimals } => {
                        let f = Format::new().set_num_format(number_format(*decimals));
                        ws.write_number_with_format(r, c, *value, &f)?;
                    }
                    Cell::Text(s) => {
                        ws.write_string(r, c, s)?;
                    }
                    Cell::Empty => {}
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
        if !t.columns.is_empty() {
            ws.autofilter(0, 0, t.rows.len() as u32, t.columns.len() as u16 - 1)?;
        }
    }
    for c in report.charts() {
        let ws = wb.add_worksheet();
        let name = sheet_name(&c.title, &mut taken);
        ws.set_name(&name)?;
        chart_sheet(ws, &name, c, &header)?;
    }
    Ok(wb.save_to_buffer()?)
}

/// Days since 1899-12-30: Excel's date serial number.
fn excel_date(d: NaiveDate) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date");
    (d - epoch).num_days() as f64
}

/// Columns of a chart's data table, after the date.
const CHART_COLUMNS: [&str; 6] = [
    "实际值",
    "序时进度",
    "目标值",
    "预测",
    "预测下限",
    "预测上限",
];

/// A chart's sheet: one row per date with the value of every line that has
/// a point there (the target as a line from the start to the end; the
/// forecast and its band from the last actual value to the forecast date),
/// and a scatter chart with straight lines over those cells, in the
/// colours of the SVG charts.
fn chart_sheet(
    ws: &mut Worksheet,
    sheet: &str,
    c: &Chart,
    header: &Format,
) -> Result<(), XlsxError> {
    use std::collections::BTreeMap;
    let mut rows: BTreeMap<NaiveDate, [Option<f64>; 6]> = BTreeMap::new();
    let mut put = |d: NaiveDate, col: usize, v: f64| {
        if v.is_finite() {
            rows.entry(d).or_default()[col] = Some(v);
        }
    };
    for (d, v) in &c.actual {
        put(*d, 0, *v);
    }
    for (d, v) in &c.expected {
        put(*d, 1, *v);
    }
    if let Some(t) = c.target {
        put(c.start, 2, t);
        put(c.end.max(c.start), 2, t);
    }
    if let (Some(f), Some((d0, v0))) = (c.forecast, c.actual.last()) {
        for col in 3..6 {
            put(*d0, col, *v0);
        }
        put(f.date, 3, f.value);
        put(f.date, 4, f.low);
        put(f.date, 5, f.high);
    }
    let date = Format::new().set_num_format("yyyy-mm-dd");
    ws.write_string_with_format(0, 0, "日期", header)?;
    ws.set_column_width(0, 12)?;
    for (i, title) in CHART_COLUMNS.iter().enumerate() {
        let head = if c.unit.is_empty() {
            title.to_string()
        } else {
            format!("{title}（{}）", c.unit)
        };
        ws.write_string_with_format(0, i as u16 + 1, head, header)?;
        ws.set_column_width(i as u16 + 1, 14)?;
    }
    for (r, (d, values)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_number_with_format(r, 0, excel_date(*d), &date)?;
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v {
                ws.write_number(r, i as u16 + 1, *v)?;
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if rows.is_empty() {
        return Ok(());
    }
    let last = rows.len() as u32;
    let mut chart = XlsxChart::new(ChartType::ScatterStraight);
    chart.title().set_name(&c.title);
    chart.show_empty_cells_as(ChartEmptyCells::Connected);
    chart.legend().set_position(ChartLegendPosition::Bottom);
    chart.set_width(760).set_height(380);
    let styles: [(u32, ChartLineDashType, f64); 6] = [
        (kc_chart::colour::ACTUAL, ChartLineDashType::Solid, 2.25),
        (kc_chart::colour::EXPECTED, ChartLineDashType::Dash, 1.5),
        (kc_chart::colour::TARGET, ChartLineDashType::LongDash, 1.5),
        (kc_chart::colour::FORECAST, ChartLineDashType::RoundDot, 2.0),
        (kc_chart::colour::FORECAST, ChartLineDashType::Solid, 0.75),
        (kc_chart::colour::FORECAST, ChartLineDashType::Solid, 0.75),
    ];
    for (i, (colour, dash, width)) in styles.iter().enumerate() {
        let col = i as u16 + 1;
        if !rows.values().any(|v| v[i].is_some()) {
            continue;
        }
        let mut line = ChartLine::new();
        line.set_color(*colour)
            .set_dash_type(*dash)
            .set_width(*width);
        if i >= 4 {
            line.set_transparency(50);
        }
        let mut marker = ChartMarker::new();
        if i == 0 {
            marker
                .set_type(ChartMarkerType::Circle)
                .set_size(5)
                .set_format(
                    ChartFormat::new()
                        .set_solid_fill(rust_xlsxwriter::ChartSolidFill::new().set_color(*colour))
                        .set_border(ChartLine::new().set_color(*colour)),
                );
        } else {
            marker.set_none();
        }
        chart
            .add_series()
            .set_name((sheet, 0, col))
            .set_categories((sheet, 1, 0, last, 0))
            .set_values((sheet, 1, col, last, col))
            .set_format(ChartFormat::new().set_line(&line))
            .set_marker(&marker);
    }
    // Gridlines at every 1 January: from noon of the start year's first day
    // in steps of 365.25 days every step lands on 1 January (leap years
    // included), and the "yyyy" labels name the year that begins there.
    let jan1 = NaiveDate::from_ymd_opt(c.start.year(), 1, 1).unwrap_or(c.start);
    chart
        .x_axis()
        .set_num_format("yyyy")
        .set_min(excel_date(jan1) + 0.5)
        .set_max(excel_date(c.end.max(c.start)))
        .set_major_unit(365.25)
        .set_major_gridlines(true);
    let y = chart.y_axis();
    y.set_num_format("#,##0.##");
    if !c.unit.is_empty() {
        y.set_name(&c.unit);
    }
    ws.insert_chart(1, 8, &chart)?;
    Ok(())
}

fn number_format(decimals: u8) -> String {
    if decimals == 0 {
        "#,##0".to_string()
    } else {
        format!("#,##0.{}", "0".repeat(decimals.min(6) as usize))
    }
}

/// Wide enough for the longest cell, counting a Chinese character as two.
fn column_width(t: &Table, c: usize) -> f64 {
    let w = |s: &str| {
        s.chars()
            .map(|ch| if ch.is_ascii() { 1.0 } else { 2.1 })
            .sum::<f64>()
    };
    let longest = t
        .rows
        .iter()
        .filter_map(|r| r.get(c))
        .map(|cell| w(&cell.display()))
        .fold(w(&t.columns[c].header()), f64::max);
    longest.clamp(6.0, 60.0) + 2.0
}

// ---- Word -------------------------------------------------------------------------------------

/// Twentieths of a point per millimetre.
const TWIPS_PER_MM: f64 = 56.692_913;

fn mm(v: f64) -> i64 {
    (v * TWIPS_PER_MM).round() as i64
}

/// XML text with the five special characters escaped; control characters
/// other than tab are dropped (they are not allowed in XML 1.0).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Font sizes of official documents, in half-points.
const SIZE_2: u32 = 44; // 二号 22 pt
const SIZE_3: u32 = 32; // 三号 16 pt
const SIZE_4: u32 = 28; // 四号 14 pt
const SIZE_5: u32 = 21; // 五号 10.5 pt

const TITLE_FONT: &str = "方正小标宋简体";
const BODY_FONT: &str = "仿宋_GB2312";
const HEADING_FONT: &str = "黑体";
const NUMBER_FONT: &str = "宋体";

fn run(text: &str, font: &str, half_points: u32, bold: bool) -> String {
    format!(
        r#"<w:r><w:rPr><w:rFonts w:ascii="{font}" w:hAnsi="{font}" w:eastAsia="{font}" w:cs="{font}"/>{}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr><w:t xml:space="preserve">{}</w:t></w:r>"#,
        if bold { "<w:b/>" } else { "" },
        esc(text)
    )
}

/// A paragraph: alignment, first-line indent in characters, and runs.
fn para(align: &str, indent_chars: u32, spacing: &str, runs: &str) -> String {
    paragraph(false, align, indent_chars, spacing, runs)
}

/// A paragraph that stays on the page of the one after it, and whole:
/// headings, table captions and chart pictures, which are meaningless
/// alone at the bottom of a page.
fn kept_para(align: &str, indent_chars: u32, spacing: &str, runs: &str) -> String {
    paragraph(true, align, indent_chars, spacing, runs)
}

fn paragraph(keep: bool, align: &str, indent_chars: u32, spacing: &str, runs: &str) -> String {
    let keep = if keep {
        "<w:keepNext/><w:keepLines/>"
    } else {
        ""
    };
    let indent = if indent_chars > 0 {
        format!(r#"<w:ind w:firstLineChars="{}"/>"#, indent_chars * 100)
    } else {
        String::new()
    };
    // The children of pPr in the order the schema requires.
    format!(r#"<w:p><w:pPr>{keep}{spacing}{indent}<w:jc w:val="{align}"/></w:pPr>{runs}</w:p>"#)
}

/// The fixed 28-point line of the body text.
const BODY_LINE: &str = r#"<w:spacing w:line="560" w:lineRule="exact" w:before="0" w:after="0"/>"#;

/// The type area's width in millimetres: A4 portrait (210 mm) less the 28 mm
/// binding and 26 mm outer margins. Every page of the report is portrait.
const TYPE_MM: f64 = 156.0;

/// What a cell adds to its text: 1 mm of cell margin on either side (the
/// 57-twip `tblCellMar`) and 1 mm so that rounding and font metrics never
/// push the last character onto a second line.
const CELL_PAD_MM: f64 = 3.0;

/// One Chinese character at 五号 (10.5 pt): a full em.
const CJK_MM: f64 = 3.7;

/// No column is narrower than two Chinese characters ("序号", "状态").
const MIN_COLUMN_MM: f64 = 2.0 * CJK_MM + CELL_PAD_MM;

/// The width of a character at 五号 in millimetres. A Chinese character is
/// a full em (two "display units"), a Latin one about half of one (one
/// unit). The Latin widths are those of a wide sans-serif, because where
/// 仿宋_GB2312 is missing (LibreOffice on Linux) Latin text falls back to
/// such a font (DejaVu Sans: digits 0.64 em, "%" 0.95 em), and the table
/// must fit there too.
fn char_mm(ch: char) -> f64 {
    match ch {
        ' ' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | 'i' | 'j' | 'l' | 'I' => 1.2,
        '-' | '/' | '(' | ')' | '[' | ']' | 'f' | 't' | 'r' => 1.4,
        '0'..='9' => 2.4,
        'A'..='Z' | '&' | '@' | 'm' | 'w' => 2.8,
        '%' => 3.5,
        c if c.is_ascii() => 2.3,
        _ => CJK_MM,
    }
}

/// The pieces a line of `s` may break between, as widths in millimetres,
/// each with whether it is a space (which may hang at a line's end). A
/// Chinese character is a piece of its own; a run of Latin letters, digits
/// and their punctuation is one piece, such as a code ("T10-1"), a number
/// ("12.04") or a ratio ("195.5/4"), because breaking after its hyphen or
/// slash would make it unreadable. Closing marks stay with the piece before
/// them and opening ones with the piece after, as Chinese typesetting
/// requires ("（%）" is one piece).
fn pieces(s: &str) -> Vec<(f64, bool)> {
    const CLOSING: &str = "）》」』】〕，、。；：！？%";
    const OPENING: &str = "（《「『【〔";
    let mut out: Vec<(f64, bool)> = Vec::new();
    let mut prev: Option<char> = None;
    for ch in s.chars() {
        let w = char_mm(ch);
        let space = ch.is_whitespace();
        let joins = match prev {
            None => false,
            Some(p) => {
                !space
                    && !p.is_whitespace()
                    && (CLOSING.contains(ch)
                        || OPENING.contains(p)
                        || (ch.is_ascii() && p.is_ascii()))
            }
        };
        match out.last_mut() {
            Some(last) if joins => last.0 += w,
            _ => out.push((w, space)),
        }
        prev = Some(ch);
    }
    out
}

/// How many lines a text of these pieces takes in a cell `width`
/// millimetres wide, breaking between pieces as Word and LibreOffice do.
fn lines(pieces: &[(f64, bool)], width: f64) -> usize {
    let room = width - CELL_PAD_MM;
    let (mut lines, mut x) = (1, 0.0);
    for &(w, space) in pieces {
        if !space && x > 0.0 && x + w > room + 1e-9 {
            lines += 1;
            x = 0.0;
        }
        if !(space && x == 0.0) {
            x += w;
        }
    }
    lines
}

/// The narrowest width from `from` up to `to` at which the pieces take at
/// most `most` lines, to a tenth of a millimetre; `None` when even `to` is
/// too narrow. More width never means more lines, so bisection finds it.
fn width_for(pieces: &[(f64, bool)], most: usize, from: f64, to: f64) -> Option<f64> {
    if lines(pieces, to) > most {
        return None;
    }
    let (mut low, mut high) = (from, to);
    while high - low > 0.1 {
        let mid = (low + high) / 2.0;
        if lines(pieces, mid) > most {
            low = mid;
        } else {
            high = mid;
        }
    }
    Some(high)
}

/// Each column's width in millimetres from its content, the header being
/// the first row.
///
/// Every column starts at what it needs: its widest piece (its longest code
/// or number, which must never break), and at least two Chinese characters.
/// The rest of the type area is then spent where it shortens the table
/// most per millimetre: a step makes one row a line shorter by widening
/// every cell that sets the row's height (and so every other row those
/// widths help), or widens one column until it saves a line anywhere. The
/// table's height counts each row's tallest cell, and the cells' lines a
/// little, so that a short status or department does not wrap when the
/// width is there. The column of long target names thus gets the most
/// width, codes and numbers stay whole, and what is left once nothing
/// wraps is shared in proportion so that the table fills the type area.
/// Should even the needs not fit, the table keeps them and reaches into
/// the margins.
fn column_widths_mm(rows: &[Vec<String>]) -> Vec<f64> {
    let n = rows.first().map_or(0, Vec::len);
    let cells: Vec<Vec<Vec<(f64, bool)>>> = rows
        .iter()
        .map(|r| {
            (0..n)
                .map(|c| pieces(r.get(c).map_or("", String::as_str)))
                .collect()
        })
        .collect();
    let mut width: Vec<f64> = (0..n)
        .map(|c| {
            cells
                .iter()
                .flat_map(|r| r[c].iter().filter(|(_, space)| !space))
                .map(|(w, _)| w + CELL_PAD_MM)
                .fold(MIN_COLUMN_MM, f64::max)
        })
        .collect();
    let height = |width: &[f64]| -> f64 {
        cells
            .iter()
            .map(|r| {
                let count = r.iter().zip(width).map(|(p, w)| lines(p, *w));
                let (tallest, all) = count.fold((0, 0), |(t, a), k| (t.max(k), a + k));
                tallest as f64 + 0.05 * all as f64
            })
            .sum()
    };
    loop {
        let left = TYPE_MM - width.iter().sum::<f64>();
        if left <= 0.1 {
            break;
        }
        let now = height(&width);
        let mut steps: Vec<Vec<f64>> = Vec::new();
        // One row a line shorter.
        for r in &cells {
            let count: Vec<usize> = r.iter().zip(&width).map(|(p, w)| lines(p, *w)).collect();
            let tallest = count.iter().copied().max().unwrap_or(1);
            if tallest < 2 {
                continue;
            }
            let mut step = width.clone();
            let fits = (0..n).filter(|c| count[*c] == tallest).all(|c| {
                width_for(&r[c], tallest - 1, width[c], width[c] + left)
                    .map(|w| step[c] = w)
                    .is_some()
            });
            if fits && step.iter().sum::<f64>() - TYPE_MM < 1e-9 {
                steps.push(step);
            }
        }
        // One column a line shorter somewhere.
        for c in 0..n {
            let wider = cells
                .iter()
                .filter_map(|r| {
                    let k = lines(&r[c], width[c]);
                    (k > 1)
                        .then(|| width_for(&r[c], k - 1, width[c], width[c] + left))
                        .flatten()
                })
                .fold(f64::INFINITY, f64::min);
            if wider.is_finite() {
                let mut step = width.clone();
                step[c] = wider;
                steps.push(step);
            }
        }
        let spent = |s: &[f64]| s.iter().sum::<f64>() - width.iter().sum::<f64>();
        let best = steps
            .into_iter()
            .filter(|s| spent(s) > 1e-9)
            .map(|s| ((now - height(&s)) / spent(&s), s))
            .filter(|(gain, _)| *gain > 1e-9)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((_, step)) => width = step,
            None => break,
        }
    }
    let total: f64 = width.iter().sum();
    if total >= TYPE_MM {
        return width;
    }
    width.iter().map(|w| w * TYPE_MM / total).collect()
}

/// The table's column widths in twips.
fn column_widths(t: &Table) -> Vec<i64> {
    let header: Vec<String> = t.columns.iter().map(|c| c.header()).collect();
    let rows: Vec<Vec<String>> = std::iter::once(header)
        .chain(t.rows.iter().map(|r| r.iter().map(Cell::display).collect()))
        .collect();
    column_widths_mm(&rows).iter().map(|w| mm(*w)).collect()
}

/// A table at 五号 with fixed column widths from its content. Every row
/// stays whole on one page (`cantSplit`), and the header row is repeated at
/// the top of every page the table runs onto (`tblHeader`). Numbers are
/// right-aligned, and so is the dash of an empty cell in a column of numbers.
fn table_xml(t: &Table) -> String {
    let widths = column_widths(t);
    let numeric: Vec<bool> = (0..t.columns.len())
        .map(|c| t.rows.iter().any(|r| r.get(c).is_some_and(Cell::is_number)))
        .collect();
    // Table text is off the body's 28-point grid, at single spacing.
    let cell = |text: &str, bold: bool, align: &str, width: i64| {
        format!(
            r#"<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr><w:p><w:pPr><w:snapToGrid w:val="0"/><w:spacing w:before="20" w:after="20" w:line="240" w:lineRule="auto"/><w:jc w:val="{align}"/></w:pPr>{}</w:p></w:tc>"#,
            run(text, BODY_FONT, SIZE_5, bold)
        )
    };
    let border = r#"<w:top w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:left w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:right w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="000000"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="000000"/>"#;
    // The children of tblPr in the order the schema requires.
    let mut x = format!(
        r#"<w:tbl><w:tblPr><w:tblW w:w="{}" w:type="dxa"/><w:jc w:val="center"/><w:tblBorders>{border}</w:tblBorders><w:tblLayout w:type="fixed"/><w:tblCellMar><w:left w:w="57" w:type="dxa"/><w:right w:w="57" w:type="dxa"/></w:tblCellMar></w:tblPr><w:tblGrid>{}</w:tblGrid>"#,
        widths.iter().sum::<i64>(),
        widths
            .iter()
            .map(|w| format!(r#"<w:gridCol w:w="{w}"/>"#))
            .collect::<String>()
    );
    x.push_str(r#"<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>"#);
    for (c, w) in t.columns.iter().zip(&widths) {
        x.push_str(&cell(&c.header(), true, "center", *w));
    }
    x.push_str("</w:tr>");
    for row in &t.rows {
        x.push_str("<w:tr><w:trPr><w:cantSplit/></w:trPr>");
        for ((c, w), numeric) in row.iter().zip(&widths).zip(&numeric) {
            let right = c.is_number() || (*numeric && matches!(c, Cell::Empty));
            x.push_str(&cell(
                &c.display(),
                false,
                if right { "right" } else { "left" },
                *w,
            ));
        }
        x.push_str("</w:tr>");
    }
    x.push_str("</w:tbl>");
    x
}

/// An inline picture, 150 mm wide, referring to relationship `rIdImg{n}`.
fn picture_xml(n: usize, title: &str) -> String {
    let (w, h) = kc_chart::SIZE;
    let cx: i64 = 150 * 36_000; // EMU per mm
    let cy = cx * h as i64 / w as i64;
    format!(
        r#"<w:p><w:pPr><w:keepNext/><w:snapToGrid w:val="0"/><w:spacing w:before="120" w:after="0" w:line="240" w:lineRule="auto"/><w:jc w:val="center"/></w:pPr><w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0"><wp:extent cx="{cx}" cy="{cy}"/><wp:docPr id="{n}" name="{}" descr="{}"/><a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:nvPicPr><pic:cNvPr id="{n}" name="chart{n}.png"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip r:embed="rIdImg{n}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>"#,
        esc(title),
        esc(title)
    )
}

fn document_xml(report: &Report) -> String {
    let mut body = String::new();
    let mut picture = 0usize;
    // Cover.
    let spaced = r#"<w:spacing w:before="0" w:after="0" w:line="560" w:lineRule="exact"/>"#;
    for _ in 0..6 {
        body.push_str(&para("center", 0, spaced, ""));
    }
    body.push_str(&para(
        "center",
        0,
        r#"<w:spacing w:before="0" w:after="240" w:line="700" w:lineRule="exact"/>"#,
        &run(&report.title, TITLE_FONT, SIZE_2, false),
    ));
    body.push_str(&para(
        "center",
        0,
        spaced,
        &run(&report.subtitle, BODY_FONT, SIZE_3, false),
    ));
    for _ in 0..8 {
        body.push_str(&para("center", 0, spaced, ""));
    }
    body.push_str(&para(
        "center",
        0,
        spaced,
        &run(&report.issuer, BODY_FONT, SIZE_3, false),
    ));
    // The cover is a section of its own, without a page number; the text
    // starts at page 1.
    body.push_str(&format!(
        r#"<w:p><w:pPr><w:jc w:val="center"/><w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="{}" w:right="{}" w:bottom="{}" w:left="{}" w:header="851" w:footer="{}" w:gutter="0"/></w:sectPr></w:pPr>{}</w:p>"#,
        mm(37.0),
        mm(26.0),
        mm(35.0),
        mm(28.0),
        mm(28.0) - mm(7.0),
        run(&report.date, BODY_FONT, SIZE_3, false)
    ));
    // Title of the text, then the body.
    body.push_str(&para(
        "center",
        0,
        r#"<w:spacing w:before="0" w:after="280" w:line="700" w:lineRule="exact"/>"#,
        &run(&report.title, TITLE_FONT, SIZE_2, false),
    ));
    body.push_str(&para(
        "left",
        2,
        BODY_LINE,
        &run(&report.basis, BODY_FONT, SIZE_3, false),
    ));
    for s in &report.sections {
        body.push_str(&kept_para(
            "left",
            2,
            BODY_LINE,
            &run(&s.heading, HEADING_FONT, SIZE_3, false),
        ));
        for p in &s.paragraphs {
            body.push_str(&para(
                "both",
                2,
                BODY_LINE,
                &run(p, BODY_FONT, SIZE_3, false),
            ));
        }
        for t in &s.tables {
            if t.rows.is_empty() {
                continue;
            }
            body.push_str(&kept_para(
                "center",
                0,
                r#"<w:spacing w:before="120" w:after="60"/>"#,
                &run(&t.title, HEADING_FONT, SIZE_4, false),
            ));
            body.push_str(&table_xml(t));
            body.push_str(&para("left", 0, BODY_LINE, ""));
        }
        for c in &s.charts {
            picture += 1;
            body.push_str(&picture_xml(picture, &c.title));
            body.push_str(&para(
                "center",
                0,
                r#"<w:spacing w:before="60" w:after="200"/>"#,
                &run(&c.title, HEADING_FONT, SIZE_5, false),
            ));
        }
        if !s.charts.is_empty() {
            body.push_str(&para(
                "left",
                2,
                BODY_LINE,
                &run(kc_domain::report::CHART_LEGEND, BODY_FONT, SIZE_3, false),
            ));
        }
    }
    // A4 with the official margins; odd and even footers for the page numbers.
    let sect = format!(
        r#"<w:sectPr><w:footerReference w:type="default" r:id="rIdFooterOdd"/><w:footerReference w:type="even" r:id="rIdFooterEven"/><w:type w:val="nextPage"/><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="{}" w:right="{}" w:bottom="{}" w:left="{}" w:header="851" w:footer="{}" w:gutter="0"/><w:pgNumType w:start="1"/><w:docGrid w:type="linesAndChars" w:linePitch="560" w:charSpace="0"/></w:sectPr>"#,
        mm(37.0),
        mm(26.0),
        mm(35.0),
        mm(28.0),
        mm(28.0) - mm(7.0),
    );
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"><w:body>{body}{sect}</w:body></w:document>"#
    )
}

/// "— 1 —" in 宋体 四号, right on odd pages and left on even ones.
fn footer_xml(align: &str) -> String {
    let f = |t: &str| run(t, NUMBER_FONT, SIZE_4, false);
    let field = format!(
        r#"<w:r><w:rPr><w:rFonts w:ascii="{NUMBER_FONT}" w:hAnsi="{NUMBER_FONT}" w:eastAsia="{NUMBER_FONT}"/><w:sz w:val="{SIZE_4}"/></w:rPr><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:rPr><w:sz w:val="{SIZE_4}"/></w:rPr><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>"#
    );
    let indent = if align == "right" {
        r#"<w:ind w:right="280"/>"#
    } else {
        r#"<w:ind w:left="280"/>"#
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:p><w:pPr><w:jc w:val="{align}"/>{indent}</w:pPr>{}{field}{}</w:p></w:ftr>"#,
        f("— "),
        f(" —")
    )
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/word/footer2.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"#;

const ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#;

/// The document's relationships: styles, settings, the two footers and one
/// image per chart.
fn doc_rels(images: usize) -> String {
    let pictures: String = (1..=images)
        .map(|n| format!(r#"<Relationship Id="rIdImg{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/chart{n}.png"/>"#))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rIdSettings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/><Relationship Id="rIdFooterOdd" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/><Relationship Id="rIdFooterEven" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer2.xml"/>{pictures}</Relationships>"#
    )
}

/// Odd and even pages get their own footers.
const SETTINGS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:evenAndOddHeaders/><w:defaultTabStop w:val="420"/></w:settings>"#;

fn styles_xml() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="{BODY_FONT}" w:hAnsi="{BODY_FONT}" w:eastAsia="{BODY_FONT}" w:cs="{BODY_FONT}"/><w:sz w:val="{SIZE_3}"/><w:szCs w:val="{SIZE_3}"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="560" w:lineRule="exact"/></w:pPr></w:pPrDefault></w:docDefaults><w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style></w:styles>"#
    )
}

fn core_xml(report: &Report) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{}</dc:title><dc:creator>{}</dc:creator></cp:coreProperties>"#,
        esc(&report.title),
        esc(&report.issuer)
    )
}

/// The report as a .docx in official-document layout.
pub fn report_docx(report: &Report) -> Result<Vec<u8>, IoError> {
    let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    // The charts' SVG (the drawing the pages use) at twice its size: 1520 ×
    // 640 pixels for a 150 mm wide picture, about 260 dpi.
    let images = report
        .charts()
        .map(|c| kc_chart::png(&kc_chart::svg(&kc_chart::Chart::from(c)), 2.0))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, png) in images.iter().enumerate() {
        z.start_file(format!("word/media/chart{}.png", i + 1), opts)
            .map_err(|e| IoError::Package(e.to_string()))?;
        z.write_all(png)
            .map_err(|e| IoError::Package(e.to_string()))?;
    }
    let parts: [(&str, String); 9] = [
        ("[Content_Types].xml", CONTENT_TYPES.to_string()),
        ("_rels/.rels", ROOT_RELS.to_string()),
        ("docProps/core.xml", core_xml(report)),
        ("word/_rels/document.xml.rels", doc_rels(images.len())),
        ("word/document.xml", document_xml(report)),
        ("word/styles.xml", styles_xml()),
        ("word/settings.xml", SETTINGS.to_string()),
        ("word/footer1.xml", footer_xml("right")),
        ("word/footer2.xml", footer_xml("left")),
    ];
    for (name, text) in parts {
        z.start_file(name, opts)
            .map_err(|e| IoError::Package(e.to_string()))?;
        z.write_all(text.as_bytes())
            .map_err(|e| IoError::Package(e.to_string()))?;
    }
    let cursor = z.finish().map_err(|e| IoError::Package(e.to_string()))?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kc_domain::report::{Column, Section};

    fn sample() -> Report {
        Report {
            title: "测试报告 <&>".into(),
            subtitle: "（2024年度）".into(),
            issuer: "某市科技局".into(),
            date: "2025年1月20日".into(),
            basis: "依据".into(),
            sections: vec![Section {
                heading: "一、总体情况".into(),
                paragraphs: vec!["有\u{1}控制字符与<script>".into()],
                tables: vec![Table {
                    title: "目标完成情况/表[1]".into(),
                    columns: vec![Column::new("目标"), Column::with_unit("完成进度", "%")],
                    rows: vec![vec![Cell::text("高企"), Cell::number(Some(81.25), 1)]],
                }],
                charts: Vec::new(),
            }],
        }
    }

    #[test]
    fn docx_is_a_zip_with_escaped_xml() {
        let bytes = report_docx(&sample()).unwrap();
        assert_eq!(
            crate::sniff::detect(&bytes),
            Some(crate::sniff::FileKind::Docx)
        );
        let doc = document_xml(&sample());
        assert!(doc.contains("测试报告 &lt;&amp;&gt;"));
        assert!(doc.contains("有控制字符与&lt;script&gt;"));
        assert!(doc.contains(r#"w:pgSz w:w="11906" w:h="16838""#), "A4");
        assert!(doc.contains(&format!(r#"w:top="{}""#, mm(37.0))));
    }

    fn with_chart() -> Report {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let mut r = sample();
        r.sections[0].charts.push(Chart {
            title: "图1 高新技术企业数（家）".into(),
            unit: "家".into(),
            start: d("2023-01-01"),
            end: d("2025-12-31"),
            actual: vec![(d("2023-03-31"), 720.0), (d("2024-12-31"), 930.0)],
            expected: vec![(d("2023-01-01"), 700.0), (d("2025-12-31"), 1200.0)],
            target: Some(1200.0),
            forecast: Some(kc_domain::report::ChartForecast {
                date: d("2025-12-31"),
                value: 1100.0,
                low: 1000.0,
                high: 1200.0,
            }),
        });
        r
    }

    /// The names of a zip's entries.
    fn entries(bytes: &[u8]) -> Vec<String> {
        let z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        z.file_names().map(|n| n.unwrap().to_string()).collect()
    }

    fn entry(bytes: &[u8], name: &str) -> Vec<u8> {
        use std::io::Read;
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut out = Vec::new();
        z.by_name(name).unwrap().read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn excel_has_a_native_chart_over_its_data() {
        let bytes = report_xlsx(&with_chart()).unwrap();
        let names = entries(&bytes);
        assert!(
            names.contains(&"xl/charts/chart1.xml".to_string()),
            "{names:?}"
        );
        let chart = String::from_utf8(entry(&bytes, "xl/charts/chart1.xml")).unwrap();
        assert!(chart.contains("<c:scatterChart>"));
        // Series refer to the cells of the chart's own sheet.
        assert!(
            chart.contains("'图1 高新技术企业数（家）'!$B$2:$B$"),
            "{chart}"
        );
        assert!(chart.contains("1F5FBF"), "the actual series' colour");
        // Its data: dates as numbers, one row per date.
        use calamine::{DataType, Reader};
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(Cursor::new(bytes)).unwrap();
        let sheets = wb.worksheet_range("图1 高新技术企业数（家）").unwrap();
        assert_eq!(sheets.get((0, 1)).unwrap().to_string(), "实际值（家）");
        // 2023-01-01, 2023-03-31, 2024-12-31, 2025-12-31.
        assert_eq!(sheets.height(), 5);
        assert!(
            matches!(sheets.get((1, 0)), Some(calamine::Data::DateTime(d)) if d.as_f64() == 44927.0),
            "2023-01-01 as an Excel date: {:?}",
            sheets.get((1, 0))
        );
        assert_eq!(sheets.get((4, 3)).unwrap().as_f64(), Some(1200.0));
        // Without charts there is no chart part.
        let plain = report_xlsx(&sample()).unwrap();
        assert!(!entries(&plain).iter().any(|n| n.starts_with("xl/charts/")));
    }

    #[test]
    fn word_has_the_chart_as_a_png() {
        let bytes = report_docx(&with_chart()).unwrap();
        let png = entry(&bytes, "word/media/chart1.png");
        assert_eq!(&png[..8], &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        let (w, h) = kc_chart::SIZE;
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 2 * w);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 2 * h);
        let doc = String::from_utf8(entry(&bytes, "word/document.xml")).unwrap();
        assert!(doc.contains(r#"r:embed="rIdImg1""#));
        // The picture keeps the PNG's proportions at 150 mm wide.
        let cy = 150 * 36_000 * i64::from(h) / i64::from(w);
        assert!(doc.contains(&format!(r#"<wp:extent cx="5400000" cy="{cy}"/>"#)));
    }

    /// A progress table like the quarterly report's: short codes, numbers,
    /// a long target name, and a ratio and a code that once wrapped.
    fn progress_table() -> Table {
        let row = |n: f64, code: &str, name: &str, target: &str, unit: &str, lead: &str| {
            vec![
                Cell::number(Some(n), 0),
                Cell::text(code),
                Cell::text(name),
                Cell::text(target),
                Cell::number(Some(12_345.67), 2),
                Cell::text(unit),
                Cell::number(Some(141.9), 1),
                Cell::number((n < 10.0).then_some(91.6), 1),
                Cell::text("已完成（暂定）"),
                Cell::text(lead),
            ]
        };
        Table {
            title: "目标完成情况".into(),
            columns: vec![
                Column::new("序号"),
                Column::new("编号"),
                Column::new("目标"),
                Column::new("目标值"),
                Column::new("最新值"),
                Column::new("单位"),
                Column::with_unit("完成进度", "%"),
                Column::with_unit("序时进度", "%"),
                Column::new("状态"),
                Column::new("牵头单位"),
            ],
            rows: vec![
                row(
                    1.0,
                    "T1-1",
                    "创建省级以上高水平研发平台",
                    "≥ 10 家",
                    "家",
                    "市科技局",
                ),
                row(
                    36.0,
                    "T10-1",
                    "营收5亿元以上规上制造业企业研发机构清零",
                    "195.5/4",
                    "件/万人",
                    "市发展改革委",
                ),
            ],
        }
    }

    /// The `w:w` of every `gridCol` of the first table in `xml`, in twips.
    fn grid(xml: &str) -> Vec<i64> {
        let grid = &xml[xml.find("<w:tblGrid>").unwrap()..xml.find("</w:tblGrid>").unwrap()];
        grid.split(r#"<w:gridCol w:w=""#)
            .skip(1)
            .map(|g| g[..g.find('"').unwrap()].parse().unwrap())
            .collect()
    }

    /// Twips of `chars` Latin characters at 五号 at 0.6 em each, plus the
    /// cells' 1 mm margins: a floor for a column that must hold them.
    fn latin_floor(chars: usize) -> i64 {
        mm(chars as f64 * 10.5 * 0.6 * 25.4 / 72.0 + 2.0)
    }

    #[test]
    fn column_widths_come_from_the_content() {
        let t = progress_table();
        let xml = table_xml(&t);
        let w = grid(&xml);
        assert_eq!(w.len(), t.columns.len());
        assert!(xml.contains(r#"<w:tblLayout w:type="fixed"/>"#));
        // Every cell states its column's width.
        for width in &w {
            assert_eq!(
                xml.matches(&format!(r#"<w:tcW w:w="{width}" w:type="dxa"/>"#))
                    .count(),
                (1 + t.rows.len()) * w.iter().filter(|x| *x == width).count(),
                "{w:?}"
            );
        }
        // The codes, the ratio and the number fit on one line.
        assert!(w[1] >= latin_floor("T10-1".len()), "code column {w:?}");
        assert!(w[3] >= latin_floor("195.5/4".len()), "target column {w:?}");
        // Numbers are shown with thousands separators ("12,345.67").
        assert!(
            w[4] >= latin_floor("12,345.67".len()),
            "number column {w:?}"
        );
        // The long target names get the most width of the columns that can
        // break (the number column holds one unbreakable piece), and the
        // table the type area.
        assert!(
            (0..w.len()).all(|c| c == 2 || c == 4 || w[2] > w[c]),
            "the target names' column is the widest: {w:?}"
        );
        let total: i64 = w.iter().sum();
        assert!((total - mm(156.0)).abs() <= w.len() as i64, "{total}");
    }

    #[test]
    fn lines_break_between_chinese_characters_but_not_inside_codes() {
        let n = |s: &str| pieces(s).len();
        assert_eq!(n("T10-1"), 1);
        assert_eq!(n("195.5/4"), 1);
        assert_eq!(n("完成进度（%）"), 5, "the unit is one piece");
        assert_eq!(n("≥ 10 家"), 5, "two spaces between three pieces");
        // "市科技局" on one line needs four characters and the padding.
        let w = 4.0 * CJK_MM + CELL_PAD_MM;
        assert_eq!(lines(&pieces("市科技局"), w), 1);
        assert_eq!(lines(&pieces("市科技局"), w - 0.5), 2);
        // A code wider than its cell overflows rather than breaks.
        assert_eq!(lines(&pieces("T10-1"), MIN_COLUMN_MM), 1);
        assert_eq!(
            width_for(&pieces("市发展改革委"), 2, 0.0, 50.0).map(|w| w.ceil()),
            Some((3.0 * CJK_MM + CELL_PAD_MM).ceil())
        );
    }

    #[test]
    fn a_table_of_short_columns_fills_the_type_area() {
        let t = Table {
            title: "分地区".into(),
            columns: vec![Column::new("地区"), Column::new("目标数")],
            rows: vec![vec![Cell::text("龙子湖区"), Cell::number(Some(12.0), 0)]],
        };
        let w = grid(&table_xml(&t));
        assert!((w.iter().sum::<i64>() - mm(156.0)).abs() <= 2, "{w:?}");
        assert!(w[0] > w[1], "{w:?}");
    }

    #[test]
    fn codes_and_numbers_never_wrap_even_when_the_table_is_too_wide() {
        let mut t = progress_table();
        for c in 0..8 {
            t.columns
                .push(Column::with_unit(&format!("R{c} 指标"), "得分"));
            for r in &mut t.rows {
                r.push(Cell::number(Some(1_234.56), 2));
            }
        }
        let w = grid(&table_xml(&t));
        assert!(w[1] >= latin_floor("T10-1".len()), "{w:?}");
        assert!(
            w[10..].iter().all(|x| *x >= latin_floor("1234.56".len())),
            "{w:?}"
        );
    }

    #[test]
    fn rows_never_break_and_the_header_repeats() {
        let doc = document_xml(&Report {
            sections: vec![Section {
                tables: vec![progress_table()],
                ..sample().sections[0].clone()
            }],
            ..sample()
        });
        let rows = doc.matches("<w:tr>").count();
        assert!(rows >= 3, "{rows}");
        assert_eq!(doc.matches("<w:cantSplit/>").count(), rows);
        assert_eq!(doc.matches("<w:tblHeader/>").count(), 1);
        // The header is the first row.
        let first = &doc[doc.find("<w:tr>").unwrap()..];
        assert!(first.starts_with("<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>"));
        // Numbers right, text left, the empty number's dash right.
        let row = &doc[doc.rfind("<w:tr>").unwrap()..];
        assert_eq!(row.matches(r#"<w:jc w:val="right"/>"#).count(), 4, "{row}");
    }

    /// The whole `<w:p>` element whose text contains `text`.
    fn paragraph_of<'a>(doc: &'a str, text: &str) -> &'a str {
        let at = doc
            .find(text)
            .unwrap_or_else(|| panic!("{text} not in the document"));
        let start = doc[..at].rfind("<w:p>").unwrap();
        let end = at + doc[at..].find("</w:p>").unwrap();
        &doc[start..end]
    }

    #[test]
    fn headings_and_captions_stay_with_what_follows() {
        let r = with_chart();
        let doc = document_xml(&r);
        for kept in [&r.sections[0].heading, &r.sections[0].tables[0].title] {
            let p = paragraph_of(&doc, &esc(kept));
            assert!(p.contains("<w:keepNext/><w:keepLines/>"), "{p}");
        }
        // The chart's picture stays with its caption below it.
        let picture = paragraph_of(&doc, "<w:drawing>");
        assert!(picture.contains("<w:keepNext/>"), "{picture}");
        // Body text does not: it may end a page.
        let body = paragraph_of(&doc, "有控制字符");
        assert!(!body.contains("keepNext"), "{body}");
    }

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut taken = Vec::new();
        assert_eq!(
            sheet_name("目标完成情况/表[1]", &mut taken),
            "目标完成情况表1"
        );
        assert_eq!(
            sheet_name("目标完成情况/表[1]", &mut taken),
            "目标完成情况表12"
        );
        let long = "很".repeat(40);
        assert!(sheet_name(&long, &mut taken).chars().count() <= 31);
        assert!(report_xlsx(&sample()).is_ok());
    }
}
