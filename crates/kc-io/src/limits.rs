//! What an import reads at most, checked while reading.
//!
//! An .xlsx file is a ZIP of XML: 1.5 MB on disk can unpack to a
//! 1.5-billion-character cell, which calamine would inflate whole (4.6 GB for
//! the CLI). So before calamine opens a workbook, [`check_xlsx`] walks every
//! entry through a counting reader with a fixed buffer (constant memory,
//! never more than an entry's declared size plus one byte inflated) and a
//! small XML scanner that measures each cell, each shared string and the
//! rows while the bytes pass. Reading the first sheet afterwards
//! (`read_xlsx`) checks rows and cells again as it goes, and CSV is checked
//! row by row in `read_csv`.

use std::io::Read;

use crate::IoError;

/// Unpacked size of all entries of a workbook together. The web form takes
/// uploads of up to 20 MB and sheet XML compresses about ten to one, so
/// 200 MB is what the largest legitimate upload unpacks to; larger data go
/// in as CSV, which has no packing to undo.
pub const MAX_UNPACKED_BYTES: u64 = 200 * 1024 * 1024;
/// Characters in one cell: Excel's own limit, so nothing Excel saved is
/// refused (our longest field takes 2,000).
pub const MAX_CELL_CHARS: usize = 32_767;
/// Rows of a sheet or CSV file, header included: Excel's own limit per sheet;
/// the million-row import of the benchmarks fits.
pub const MAX_ROWS: usize = 1_048_576;
/// Columns read from a sheet or CSV file: the widest registry has about 30,
/// so 256 (Excel 2003's width) leaves room for one's own columns while
/// bounding what one row can cost in memory.
pub const MAX_COLUMNS: usize = 256;
/// Cells of a sheet, counting the empty ones between the filled cells of a
/// row: 200 MB of sheet XML holds about five million cells (some 40 bytes
/// each), and eight million cells cost at most 190 MB before their text.
pub const MAX_CELLS: usize = 8_000_000;
/// Entries of a workbook's package: a workbook has about ten, one with many
/// sheets and pictures a few hundred.
pub const MAX_ENTRIES: usize = 10_000;
/// One XML tag, or one run of text outside the cells, in any part of a
/// workbook: the parser holds such a token whole, and none of a real
/// workbook comes near 1 MB.
pub const MAX_XML_TOKEN_BYTES: usize = 1024 * 1024;

/// "1,048,576": numbers in messages as Chinese offices write them.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn too_big() -> IoError {
    IoError::Limit(format!(
        "文件解压后超过 {} MB：请拆分成几个文件，或另存为 CSV 后导入",
        MAX_UNPACKED_BYTES / 1024 / 1024
    ))
}

pub(crate) fn too_many_rows() -> IoError {
    IoError::Limit(format!(
        "超过 {} 行：请拆分成几个文件导入",
        thousands(MAX_ROWS as u64)
    ))
}

pub(crate) fn too_many_columns() -> IoError {
    IoError::Limit(format!(
        "超过 {} 列：请删去多余的列",
        thousands(MAX_COLUMNS as u64)
    ))
}

pub(crate) fn too_many_cells() -> IoError {
    IoError::Limit(format!(
        "工作表超过 {} 个单元格（含行中间的空单元格）：请拆分成几个文件导入",
        thousands(MAX_CELLS as u64)
    ))
}

/// "第 5 行 B 列超过 32,767 个字符" (`place` is "5 行 B 列" or the like).
pub(crate) fn cell_too_long(place: &str) -> IoError {
    IoError::Limit(format!(
        "第 {place}超过 {} 个字符（Excel 单元格的上限）",
        thousands(MAX_CELL_CHARS as u64)
    ))
}

/// Column letters of a 0-based column index: 0 → A, 27 → AB.
pub fn column_letters(mut col: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn damaged(what: impl std::fmt::Display) -> IoError {
    IoError::NotXlsx(what.to_string())
}

/// Checks a workbook's package before anything is parsed: number of entries,
/// declared and actual unpacked sizes, the length of every cell and shared
/// string, rows per sheet, and the size of every XML token. Constant memory.
pub fn check_xlsx(bytes: &[u8]) -> Result<(), IoError> {
    // Not a ZIP at all: calamine says so in its own words, inflating nothing.
    let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return Ok(());
    };
    if zip.len() > MAX_ENTRIES {
        return Err(damaged(format!("压缩包中有 {} 个条目", zip.len())));
    }
    let mut declared: u64 = 0;
    let mut names = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let f = zip.by_index_raw(i).map_err(damaged)?;
        declared = declared.saturating_add(f.size());
        names.push(f.name().map_err(damaged)?.to_string());
    }
    if declared > MAX_UNPACKED_BYTES {
        return Err(too_big());
    }
    // Shared strings first, so that a cell using an over-long one is named.
    let order = {
        let mut o: Vec<usize> = (0..names.len()).collect();
        o.sort_by_key(|&i| !names[i].ends_with("sharedStrings.xml"));
        o
    };
    let mut total: u64 = 0;
    let mut long_shared: Option<u64> = None;
    let mut buf = vec![0u8; 64 * 1024];
    for i in order {
        let name = &names[i];
        let kind = if name.ends_with("sharedStrings.xml") {
            Part::SharedStrings
        } else if name.contains("worksheets/") && name.ends_with(".xml") {
            Part::Sheet
        } else if name.ends_with(".xml") || name.ends_with(".rels") {
            Part::OtherXml
        } else {
            Part::Binary
        };
        let f = zip.by_index(i).map_err(damaged)?;
        let size = f.size();
        let mut r = f.take(size.saturating_add(1));
        let mut scan = Scanner::new(kind, long_shared);
        let mut seen: u64 = 0;
        loop {
            // The zip crate stops at the declared size itself; either way
            // the entry is refused without being inflated further.
            let n = r.read(&mut buf).map_err(|_| {
                damaged(format!("“{name}”无法解压（内容与声明的大小或校验值不符）"))
            })?;
            if n == 0 {
                break;
            }
            seen += n as u64;
            if seen > size {
                return Err(damaged(format!(
                    "“{name}”无法解压（内容与声明的大小或校验值不符）"
                )));
            }
            total += n as u64;
            if total > MAX_UNPACKED_BYTES {
                return Err(too_big());
            }
            scan.feed(&buf[..n])?;
            if scan.done {
                break;
            }
        }
        if kind == Part::SharedStrings {
            long_shared = scan.long_shared;
        }
    }
    if let Some(idx) = long_shared {
        return Err(cell_too_long(&format!("{} 个共享字符串", idx + 1)));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    SharedStrings,
    Sheet,
    OtherXml,
    Binary,
}

/// A streaming XML scanner: enough of XML to measure tags, text, cells,
/// shared strings and rows, byte by byte, holding at most a tag's first
/// 64 bytes.
struct Scanner {
    part: Part,
    in_tag: bool,
    in_entity: u8,
    /// Bytes of the current tag, or of the current text run.
    token: usize,
    /// The start of the current tag (name and the first attributes).
    head: Vec<u8>,
    /// Inside a cell (`<c>` of a sheet, `<si>` of the shared strings).
    in_cell: bool,
    cell_chars: usize,
    cell_ref: String,
    cell_is_shared: bool,
    /// Inside the `<v>` of a shared-string cell: its index so far.
    in_value: bool,
    value: u64,
    /// Rows seen, the row number of the last `<row>`.
    rows: usize,
    row: u64,
    /// Shared strings seen; the first one over the limit.
    shared: u64,
    long_shared: Option<u64>,
    /// Nothing more to learn from this part.
    done: bool,
}

impl Scanner {
    fn new(part: Part, long_shared: Option<u64>) -> Scanner {
        Scanner {
            part,
            in_tag: false,
            in_entity: 0,
            token: 0,
            head: Vec::with_capacity(64),
            in_cell: false,
            cell_chars: 0,
            cell_ref: String::new(),
            cell_is_shared: false,
            in_value: false,
            value: 0,
            rows: 0,
            row: 0,
            shared: 0,
            long_shared,
            done: false,
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        if self.part == Part::Binary {
            return Ok(());
        }
        for &b in bytes {
            self.token += 1;
            if self.done {
                return Ok(());
            }
            if self.token > MAX_XML_TOKEN_BYTES {
                return Err(damaged("其中有超过 1 MB 的单个 XML 片段"));
            }
            if self.in_tag {
                if b == b'>' {
                    self.in_tag = false;
                    self.token = 0;
                    self.tag()?;
                } else if self.head.len() < 64 {
                    self.head.push(b);
                }
                continue;
            }
            if b == b'<' {
                self.in_tag = true;
                self.in_entity = 0;
                self.token = 0;
                self.head.clear();
                continue;
            }
            if !self.in_cell {
                continue;
            }
            if self.in_value && b.is_ascii_digit() {
                self.value = self
                    .value
                    .saturating_mul(10)
                    .saturating_add(u64::from(b - b'0'));
            }
            // Characters: UTF-8 lead bytes; an entity (&amp;) is one.
            if self.in_entity > 0 {
                if b == b';' || self.in_entity > 12 {
                    self.in_entity = 0;
                } else {
                    self.in_entity += 1;
                }
                continue;
            }
            if b == b'&' {
                self.in_entity = 1;
            }
            if b & 0xC0 != 0x80 {
                self.cell_chars += 1;
                if self.cell_chars > MAX_CELL_CHARS {
                    return self.too_long();
                }
            }
        }
        Ok(())
    }

    fn too_long(&mut self) -> Result<(), IoError> {
        match self.part {
            Part::SharedStrings => {
                // Remember it and read no further: the sheets' scan names
                // the cell that uses it.
                self.long_shared
                    .get_or_insert(self.shared.saturating_sub(1));
                self.done = true;
                Ok(())
            }
            _ => Err(cell_too_long(&self.place())),
        }
    }

    fn place(&self) -> String {
        let (col, row) = split_ref(&self.cell_ref);
        match (col, row) {
            (Some(c), Some(r)) => format!("{r} 行 {c} 列"),
            _ => format!("{} 行有单元格", self.row.max(self.rows as u64)),
        }
    }

    /// A tag has ended: `head` holds its start.
    fn tag(&mut self) -> Result<(), IoError> {
        let head = std::mem::take(&mut self.head);
        let closing = head.first() == Some(&b'/');
        let self_closing = head.last() == Some(&b'/');
        let body = if closing { &head[1..] } else { &head[..] };
        let name_end = body
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(body.len());
        let name = &body[..name_end];
        // Local name: a prefix (x:c) is dropped.
        let local = name
            .iter()
            .rposition(|b| *b == b':')
            .map_or(name, |i| &name[i + 1..]);
        match (self.part, local) {
            (Part::SharedStrings, b"si") if !closing => {
                self.shared += 1;
                self.in_cell = !self_closing;
                self.cell_chars = 0;
            }
            (Part::SharedStrings, b"si") => self.in_cell = false,
            (Part::Sheet, b"row") if !closing => {
                self.rows += 1;
                if self.rows > MAX_ROWS {
                    return Err(too_many_rows());
                }
                self.row = attr(body, b"r")
                    .and_then(|r| std::str::from_utf8(r).ok()?.parse().ok())
                    .unwrap_or(self.row + 1);
            }
            (Part::Sheet, b"c") if !closing => {
                self.cell_ref = attr(body, b"r")
                    .and_then(|r| std::str::from_utf8(r).ok())
                    .unwrap_or("")
                    .to_string();
                self.cell_is_shared = attr(body, b"t") == Some(b"s");
                self.in_cell = !self_closing;
                self.cell_chars = 0;
            }
            (Part::Sheet, b"c") => self.in_cell = false,
            (Part::Sheet, b"v") if self.in_cell && self.cell_is_shared => {
                if closing {
                    self.in_value = false;
                    if self.long_shared == Some(self.value) {
                        return Err(cell_too_long(&self.place()));
                    }
                } else if !self_closing {
                    self.in_value = true;
                    self.value = 0;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The value of attribute `key` in a tag's start (`c r="B5" t="s"`), if the
/// first 64 bytes hold it.
fn attr<'a>(head: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    while i + key.len() + 2 <= head.len() {
        let before_ok = i > 0 && head[i - 1].is_ascii_whitespace();
        if before_ok && head[i..].starts_with(key) && head[i + key.len()] == b'=' {
            let q = head[i + key.len() + 1];
            if q == b'"' || q == b'\'' {
                let start = i + key.len() + 2;
                let end = head[start..].iter().position(|b| *b == q)? + start;
                return Some(&head[start..end]);
            }
        }
        i += 1;
    }
    None
}

/// "B5" → (B, 5).
fn split_ref(r: &str) -> (Option<&str>, Option<u64>) {
    let split = r.find(|c: char| c.is_ascii_digit()).unwrap_or(r.len());
    let (col, row) = r.split_at(split);
    (
        (!col.is_empty() && col.bytes().all(|b| b.is_ascii_uppercase())).then_some(col),
        row.parse().ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_numbers() {
        for (i, s) in [
            (0, "A"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (701, "ZZ"),
            (702, "AAA"),
        ] {
            assert_eq!(column_letters(i), s);
        }
        assert_eq!(thousands(1_048_576), "1,048,576");
        assert_eq!(thousands(32_767), "32,767");
        assert_eq!(thousands(200), "200");
        assert_eq!(split_ref("AB12"), (Some("AB"), Some(12)));
        assert_eq!(attr(b"c r=\"B5\" t=\"s\"", b"t"), Some(&b"s"[..]));
        assert_eq!(attr(b"c r=\"B5\" s=\"1\"", b"t"), None);
    }
}
