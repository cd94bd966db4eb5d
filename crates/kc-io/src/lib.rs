//! Registry tables in and out of the files Chinese offices use: XLSX and CSV
//! (UTF-8, with or without a byte-order mark, or GBK/GB18030 as Chinese
//! Excel writes it). Every row is checked; problems come back as a report of
//! row, column, value and reason, and nothing is written unless the caller
//! decides so.

pub mod limits;
pub mod report;
pub mod sniff;

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{Datelike, NaiveDate};
use kc_domain::registry::{self, CellContext, FieldType, Record, RegistryDef, Value};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use serde::Serialize;

/// File formats, from the file name's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Xlsx,
}

impl FileKind {
    pub fn from_name(name: &str) -> Option<FileKind> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(FileKind::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(FileKind::Xlsx)
        } else {
            None
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("不支持的文件类型：只能导入 .xlsx 或 .csv 文件")]
    Kind,
    #[error("文件不是有效的 Excel（.xlsx）文件")]
    Xlsx(#[source] calamine::XlsxError),
    #[error("文件不是有效的 Excel（.xlsx）文件：{0}")]
    NotXlsx(String),
    /// A limit of [`limits`] was passed; the message says which and what to do.
    #[error("{0}")]
    Limit(String),
    #[error("Excel 文件中没有工作表")]
    NoSheet,
    #[error("工作表为空：第一行应为列名")]
    Empty,
    #[error("CSV 文件第 {line} 行格式错误")]
    Csv {
        line: u64,
        #[source]
        source: csv::Error,
    },
    #[error("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV")]
    Encoding,
    #[error("缺少必填列：{0}")]
    MissingColumns(String),
    #[error("列名重复：{0}")]
    DuplicateColumns(String),
    #[error("生成 Excel 文件失败")]
    Write(#[from] XlsxError),
    #[error("无法生成文件")]
    Package(String),
    #[error("无法绘制图表")]
    Chart(#[from] kc_chart::PngError),
}

/// A sheet of text cells with their spreadsheet row numbers (the header is
/// row 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Decodes CSV bytes: UTF-8 (a byte-order mark is dropped) or, when the
/// bytes are not UTF-8, GB18030 (which covers GBK).
pub fn decode(bytes: &[u8]) -> Result<String, IoError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(s.to_string());
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    if had_errors {
        return Err(IoError::Encoding);
    }
    Ok(text.into_owned())
}

pub fn read_csv(bytes: &[u8]) -> Result<Sheet, IoError> {
    let text = decode(bytes)?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = rdr.records();
    let headers: Vec<String> = match records.next() {
        None => return Err(IoError::Empty),
        Some(r) => r
            .map_err(|source| IoError::Csv { line: 1, source })?
            .iter()
            .map(|h| h.trim().to_string())
            .collect(),
    };
    if headers.iter().all(|h| h.is_empty()) {
        return Err(IoError::Empty);
    }
    // Columns past the last named one are never read: not kept.
    let width = headers
        .iter()
        .rposition(|h| !h.is_empty())
        .map_or(0, |i| i + 1);
    if width > limits::MAX_COLUMNS {
        return Err(limits::too_many_columns());
    }
    let mut rows = Vec::new();
    for (i, r) in records.enumerate() {
        let line = i + 2;
        if line > limits::MAX_ROWS {
            return Err(limits::too_many_rows());
        }
        let r = r.map_err(|source| IoError::Csv {
            line: line as u64,
            source,
        })?;
        let mut cells: Vec<String> = Vec::with_capacity(r.len().min(width));
        for (c, cell) in r.iter().enumerate().take(width) {
            if cell.len() > limits::MAX_CELL_CHARS && cell.chars().count() > limits::MAX_CELL_CHARS
            {
                let name = headers.get(c).filter(|h| !h.is_empty());
                let col = match name {
                    Some(h) => format!("“{h}”列"),
                    None => format!("{} 列", limits::column_letters(c as u32)),
                };
                return Err(limits::cell_too_long(&format!("{line} 行{col}")));
            }
            cells.push(from_export(cell).to_string());
        }
        if let Some(last) = cells.iter().rposition(|c| !c.is_empty()) {
            cells.truncate(last + 1);
            rows.push((line, cells));
        }
    }
    Ok(Sheet { headers, rows })
}

/// Days from 1899-12-30 (Excel's day 0, which absorbs its 1900 leap-year
/// bug for every date after February 1900).
fn excel_date(serial: f64) -> Option<NaiveDate> {
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    base.checked_add_signed(chrono::Duration::days(serial.floor() as i64))
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        Data::DateTime(dt) => excel_date(dt.as_f64())
            .map(|d| d.to_string())
            .unwrap_or_default(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.chars().take(10).collect(),
        // An error value in a cell (e.g. a broken formula) is passed on as
        // text so that the row is rejected with what the cell showed.
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Reads the first worksheet, cell by cell (never the sheet as one dense
/// range, whose size a two-cell file can make enormous). The package is
/// first checked against [`limits`]. Formulas arrive as their cached values;
/// the other cells of a merged range arrive empty. Columns are counted from
/// A: a sheet whose header starts at B has an empty first column, which
/// the header map ignores.
pub fn read_xlsx(bytes: &[u8]) -> Result<Sheet, IoError> {
    limits::check_xlsx(bytes)?;
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(IoError::Xlsx)?;
    let name = wb.sheet_names().first().cloned().ok_or(IoError::NoSheet)?;
    let mut reader = wb.worksheet_cells_reader(&name).map_err(IoError::Xlsx)?;
    let mut headers: Option<Vec<String>> = None;
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    let mut current: Option<(u32, Vec<String>)> = None;
    let mut slots: usize = 0;
    let mut finish =
        |row: u32, cells: Vec<String>, headers: &mut Option<Vec<String>>| -> Result<(), IoError> {
            match headers {
                None => *headers = Some(cells.iter().map(|c| c.trim().to_string()).collect()),
                Some(_) => {
                    if rows.len() + 2 > limits::MAX_ROWS {
                        return Err(limits::too_many_rows());
                    }
                    rows.push((row as usize + 1, cells));
                }
            }
            Ok(())
        };
    while let Some(cell) = reader.next_cell().map_err(IoError::Xlsx)? {
        let (r, c) = cell.get_position();
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        if text.len() > limits::MAX_CELL_CHARS && text.chars().count() > limits::MAX_CELL_CHARS {
            return Err(limits::cell_too_long(&format!(
                "{} 行 {} 列",
                r as u64 + 1,
                limits::column_letters(c)
            )));
        }
        if current.as_ref().is_some_and(|(row, _)| *row != r) {
            let (row, cells) = current.take().unwrap_or_default();
            finish(row, cells, &mut headers)?;
        }
        let width = match &headers {
            None => limits::MAX_COLUMNS,
            Some(h) => h.len(),
        };
        let c = c as usize;
        if c >= width {
            if headers.is_none() {
                return Err(limits::too_many_columns());
            }
            continue;
        }
        let (_, cells) = current.get_or_insert_with(|| (r, Vec::new()));
        if c >= cells.len() {
            slots += c + 1 - cells.len();
            if slots > limits::MAX_CELLS {
                return Err(limits::too_many_cells());
            }
            cells.resize(c + 1, String::new());
        }
        cells[c] = from_export(&text).to_string();
    }
    if let Some((row, cells)) = current.take() {
        finish(row, cells, &mut headers)?;
    }
    let headers = headers.ok_or(IoError::Empty)?;
    if headers.iter().all(|h| h.is_empty()) {
        return Err(IoError::Empty);
    }
    Ok(Sheet { headers, rows })
}

pub fn read(kind: FileKind, bytes: &[u8]) -> Result<Sheet, IoError> {
    match kind {
        FileKind::Csv => read_csv(bytes),
        FileKind::Xlsx => read_xlsx(bytes),
    }
}

/// One rejected cell (or row, when `column` is empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// What an import would do.
#[derive(Debug, Default)]
pub struct Report {
    pub rows: usize,
    pub good: Vec<Record>,
    pub errors: Vec<RowError>,
    /// Columns the registry does not have (ignored).
    pub ignored_columns: Vec<String>,
    /// Rows rejected (each may have several errors).
    pub rejected: usize,
    /// Rows kept whose figures contradict each other (科技人员 above all
    /// staff…): saved, and said so.
    pub warnings: Vec<RowError>,
}

/// Maps headers to fields: by Chinese label or by field code, ignoring
/// spaces and a trailing unit in brackets.
fn header_map(
    def: &RegistryDef,
    headers: &[String],
) -> Result<(Vec<Option<usize>>, Vec<String>), IoError> {
    let norm = |s: &str| -> String {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();

        s.find(['（', '('])
            .map_or(s.as_str(), |i| &s[..i])
            .to_string()
    };
    let mut map = Vec::with_capacity(headers.len());
    let mut ignored = Vec::new();
    let mut seen: HashMap<usize, &str> = HashMap::new();
    let mut dupes = Vec::new();
    for h in headers {
        let found = def.fields.iter().position(|f| {
            f.label == h.as_str() || f.code == h.as_str() || norm(f.label) == norm(h)
        });
        if let Some(i) = found {
            if seen.insert(i, h).is_some() {
                dupes.push(h.clone());
            }
        } else if !h.is_empty() {
            ignored.push(h.clone());
        }
        map.push(found);
    }
    if !dupes.is_empty() {
        return Err(IoError::DuplicateColumns(dupes.join("、")));
    }
    let missing: Vec<&str> = def
        .fields
        .iter()
        .enumerate()
        .filter(|(i, f)| f.required && !seen.contains_key(i))
        .map(|(_, f)| f.label)
        .collect();
    if !missing.is_empty() {
        return Err(IoError::MissingColumns(missing.join("、")));
    }
    Ok((map, ignored))
}

/// Checks every row of a sheet against a registry. `known_enterprise`
/// answers whether a credit code is in the enterprise registry, for the
/// registries whose records belong to a registered enterprise.
pub fn check_sheet(
    def: &RegistryDef,
    sheet: &Sheet,
    cx: &CellContext<'_>,
    known_enterprise: &dyn Fn(&str) -> bool,
) -> Result<Report, IoError> {
    let (map, ignored_columns) = header_map(def, &sheet.headers)?;
    let owner_required = matches!(def.code, "qualifications" | "enterprise_figures");
    let mut report = Report {
        ignored_columns,
        ..Report::default()
    };
    let mut first_row_of_key: HashMap<String, usize> = HashMap::new();
    for (row_no, cells) in &sheet.rows {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        report.rows += 1;
        let mut by_field: HashMap<&str, &str> = HashMap::with_capacity(def.fields.len());
        for (i, c) in cells.iter().enumerate() {
            if let Some(Some(f)) = map.get(i) {
                by_field.insert(def.fields[*f].code, c.as_str());
            }
        }
        let before = report.errors.len();
        match registry::read_record(def, &by_field, cx) {
            Err(errs) => {
                for e in errs {
                    report.errors.push(RowError {
                        row: *row_no,
                        column: e.label,
                        value: e.value,
                        reason: e.reason,
                    });
                }
            }
            Ok(rec) => {
                let key = rec.key(def);
                if let Some(first) = first_row_of_key.get(&key) {
                    report.errors.push(RowError {
                        row: *row_no,
                        column: String::new(),
                        value: key.clone(),
                        reason: format!("与第 {first} 行是同一条记录（{}相同）", key_labels(def)),
                    });
                } else if owner_required
                    && !known_enterprise(&rec.get(def, "credit_code").display())
                {
                    report.errors.push(RowError {
                        row: *row_no,
                        column: "统一社会信用代码".into(),
                        value: rec.get(def, "credit_code").display(),
                        reason: "该企业不在企业登记库中，请先导入企业".into(),
                    });
                } else {
                    first_row_of_key.insert(key, *row_no);
                    for w in registry::warnings(def, &rec) {
                        report.warnings.push(RowError {
                            row: *row_no,
                            column: w.label,
                            value: w.value,
                            reason: w.reason,
                        });
                    }
                    report.good.push(rec);
                }
            }
        }
        if report.errors.len() > before {
            report.rejected += 1;
        }
    }
    Ok(report)
}

fn key_labels(def: &RegistryDef) -> String {
    def.key
        .iter()
        .filter_map(|k| def.field(k).map(|f| f.label))
        .collect::<Vec<_>>()
        .join("、")
}

// ---- writing ---------------------------------------------------------------------

// ---- CSV and formulas ----------------------------------------------------------------
//
// A spreadsheet opening a CSV file runs a cell that begins with `=`, `+`,
// `-` or `@` (and, in some, a tab or carriage return) as a formula:
// `=HYPERLINK("http://…")` typed into a public form would become a link in
// an officer's Excel. Every CSV we write therefore prefixes such a cell with
// `'` (OWASP's rule), which spreadsheets show as text. Plain numbers (`-5`,
// `+3.5`, `-1e3`) are left alone: a spreadsheet reads them as numbers, not
// formulas. Import undoes the prefix exactly: a cell `'` + X, where X would
// have been prefixed, comes back as X, so an export re-imports unchanged.
// A cell that begins with a formula character is always kept as text and
// never evaluated. XLSX needs none of this: its strings are typed strings.

/// Characters that make a spreadsheet read a CSV cell as a formula.
pub const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Whether a spreadsheet reads `s` as a plain decimal number: an optional
/// sign, digits with at most one point, an optional exponent.
fn plain_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let (mut digits, mut point) = (0, false);
    while i < b.len() {
        match b[i] {
            b'0'..=b'9' => digits += 1,
            b'.' if !point => point = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'+' | b'-') {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    i == b.len()
}

/// Whether `s`, leading `'` aside, would be read as a formula.
fn formula_like(s: &str) -> bool {
    let t = s.trim_start_matches('\'');
    t.starts_with(FORMULA_START) && !plain_number(t)
}

/// A cell as a CSV export writes it: `'` before a cell a spreadsheet would
/// run as a formula (and before one that already looks escaped, so the
/// import's undoing is exact).
pub fn for_export(s: &str) -> std::borrow::Cow<'_, str> {
    if formula_like(s) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// A cell as imported: the `'` of [`for_export`] removed, nothing else.
pub fn from_export(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => s,
    }
}

/// The one CSV writer of every export: UTF-8 with a byte-order mark (so
/// Excel opens it right), every cell through [`for_export`].
pub fn csv_table<R, C>(rows: impl IntoIterator<Item = R>) -> Vec<u8>
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        for r in rows {
            // Writing to memory cannot fail.
            let _ = w.write_record(r.into_iter().map(|c| for_export(c.as_ref()).into_owned()));
        }
        let _ = w.flush();
    }
    out
}

/// Records as CSV (see [`csv_table`]).
pub fn write_csv<'r>(def: &RegistryDef, records: impl IntoIterator<Item = &'r Record>) -> Vec<u8> {
    let header: Vec<String> = def.fields.iter().map(|f| f.label.to_string()).collect();
    csv_table(
        std::iter::once(header).chain(
            records
                .into_iter()
                .map(|r| r.values.iter().map(Value::display).collect()),
        ),
    )
}

fn column_width(def: &RegistryDef, i: usize) -> f64 {
    match def.fields[i].ty {
        FieldType::Credit => 22.0,
        FieldType::Date => 12.0,
        FieldType::Text(n) if n > 60 => 30.0,
        FieldType::LongText => 40.0,
        _ => (def.fields[i].label.chars().count() as f64 * 2.2).max(10.0),
    }
}

/// Records as an XLSX workbook: typed cells (numbers as numbers, dates as
/// dates), Chinese headers, frozen header row and filters.
pub fn write_xlsx<'r>(
    def: &RegistryDef,
    records: impl IntoIterator<Item = &'r Record>,
) -> Result<Vec<u8>, IoError> {
    let mut wb = Workbook::new();
    let header = Format::new().set_bold().set_background_color(0xF2F2F2);
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(def))?;
    for (c, f) in def.fields.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, f.label, &header)?;
        ws.set_column_width(c as u16, column_width(def, c))?;
    }
    let mut row = 1u32;
    for r in records {
        for (c, v) in r.values.iter().enumerate() {
            let c = c as u16;
            match v {
                Value::Null => {}
                Value::Int(i) => {
                    ws.write_number(row, c, *i as f64)?;
                }
                Value::Num(n) => {
                    ws.write_number(row, c, *n)?;
                }
                // Excel holds numbers as f64: an amount that survives the
                // trip is written as a number, any other as its exact text.
                Value::Dec(d) if kc_domain::money::fits_f64(*d) => {
                    ws.write_number(row, c, kc_domain::money::to_f64(*d))?;
                }
                Value::Dec(d) => {
                    ws.write_string(row, c, d.normalize().to_string())?;
                }
                Value::Date(d) => {
                    let dt =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)?;
                    ws.write_datetime_with_format(row, c, &dt, &date)?;
                }
                other => {
                    ws.write_string(row, c, other.display())?;
                }
            }
        }
        row += 1;
    }
    ws.set_freeze_panes(1, 0)?;
    if !def.fields.is_empty() {
        ws.autofilter(
            0,
            0,
            row.saturating_sub(1).max(1),
            def.fields.len() as u16 - 1,
        )?;
    }
    Ok(wb.save_to_buffer()?)
}

/// Excel sheet names: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(def: &RegistryDef) -> String {
    def.name
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect()
}

/// An empty template: the header row, and a second sheet explaining each
/// column (required or not, what to type).
pub fn template_xlsx(def: &RegistryDef) -> Result<Vec<u8>, IoError> {
    let mut wb = Workbook::new();
    let header = Format::new().set_bold().set_background_color(0xF2F2F2);
    let required = Format::new().set_bold().set_background_color(0xFDE9D9);
    let ws = wb.add_worksheet();
    ws.set_name(sheet_name(def))?;
    for (c, f) in def.fields.iter().enumerate() {
        ws.write_string_with_format(
            0,
            c as u16,
            f.label,
            if f.required { &required } else { &header },
        )?;
        ws.set_column_width(c as u16, column_width(def, c))?;
    }
    ws.set_freeze_panes(1, 0)?;
    let help = wb.add_worksheet();
    help.set_name("填写说明")?;
    for (c, h) in ["列名", "是否必填", "填写要求"].iter().enumerate() {
        help.write_string_with_format(0, c as u16, *h, &header)?;
    }
    help.set_column_width(0, 24)?;
    help.set_column_width(1, 10)?;
    help.set_column_width(2, 60)?;
    for (r, f) in def.fields.iter().enumerate() {
        let r = r as u32 + 1;
        help.write_string(r, 0, f.label)?;
        help.write_string(r, 1, if f.required { "必填" } else { "选填" })?;
        help.write_string(r, 2, f.ty.hint())?;
    }
    let n = def.fields.len() as u32 + 2;
    help.write_string(n, 0, "说明")?;
    help.write_string(
        n,
        2,
        format!(
            "以“{}”相同的行视为同一条记录：再次导入会更新原记录。第一行为列名，请勿修改；红色列为必填。",
            key_labels(def)
        ),
    )?;
    Ok(wb.save_to_buffer()?)
}

pub fn template_csv(def: &RegistryDef) -> Vec<u8> {
    write_csv(def, std::iter::empty())
}

/// The field tables of every registry, for `docs/registries.md` (kept in
/// step by a test).
pub fn fields_markdown() -> String {
    let mut out = String::new();
    for def in registry::all() {
        out.push_str(&format!("### {}（`{}`）\n\n", def.name, def.code));
        let key: Vec<&str> = def
            .key
            .iter()
            .filter_map(|k| def.field(k).map(|f| f.label))
            .collect();
        out.push_str(&format!(
            "- 同一条记录的判断依据（关键字段）：{}\n",
            key.join("、")
        ));
        let area = match def.area {
            registry::AreaRule::Field(f) => {
                format!("“{}”", def.field(f).map(|x| x.label).unwrap_or(f))
            }
            registry::AreaRule::Enterprise(_) => "所属企业的所在地区".to_string(),
        };
        out.push_str(&format!("- 计入地区：{area}\n"));
        if let Some(v) = def.validity {
            let start = def.field(v.start).map(|f| f.label).unwrap_or(v.start);
            let end = v
                .end
                .and_then(|e| def.field(e))
                .map(|f| f.label)
                .unwrap_or("—");
            if def.code == registry::QUALIFICATIONS.code {
                out.push_str("- 有效期：按资质目录中该类资质的规则（见下文），填写了“有效期至”的以其为准，撤销日期提前结束有效期\n");
            } else {
                out.push_str(&format!(
                    "- 有效期：自“{start}”起，至“{end}”止（未填写则持续有效）\n"
                ));
            }
        }
        out.push_str("\n| 列名 | 英文名 | 必填 | 填写要求 |\n|---|---|---|---|\n");
        for f in def.fields {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} |\n",
                f.label,
                f.code,
                if f.required { "是" } else { "" },
                f.ty.hint()
            ));
        }
        out.push('\n');
    }
    out
}

/// A cell of a plain table written to Excel: numbers stay numbers.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

/// A plain table (a page's list) as one Excel sheet: bold header, frozen
/// first row, filter on every column.
pub fn table_xlsx(name: &str, headers: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, IoError> {
    let mut wb = Workbook::new();
    let header = Format::new().set_bold().set_background_color(0xF2F2F2);
    let ws = wb.add_worksheet();
    let sheet: String = name
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(31)
        .collect();
    ws.set_name(sheet)?;
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &header)?;
        ws.set_column_width(c as u16, 16)?;
    }
    for (r, cells) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in cells.iter().enumerate() {
            match cell {
                Cell::Text(t) => {
                    ws.write_string(r, c as u16, t)?;
                }
                Cell::Number(n) if n.is_finite() => {
                    ws.write_number(r, c as u16, *n)?;
                }
                _ => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    if !headers.is_empty() {
        ws.autofilter(0, 0, rows.len().max(1) as u32, headers.len() as u16 - 1)?;
    }
    Ok(wb.save_to_buffer()?)
}
