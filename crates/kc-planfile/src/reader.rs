//! A small checked reader over a parsed TOML document. Every accessor either
//! returns the value or records a diagnostic at the exact place in the file,
//! so one pass reports every problem at once instead of stopping at the first.

use std::cell::RefCell;
use std::ops::Range;

use chrono::NaiveDate;
use kc_domain::Code;
use toml_edit::{Item, Table, TableLike, Value};

use crate::Diagnostic;

/// Collects diagnostics and turns byte offsets into line and column.
pub struct Ctx<'s> {
    src: &'s str,
    errors: RefCell<Vec<Diagnostic>>,
    /// What a valid plan should still look at (area targets that do not add
    /// up to the city's, targets left to fill in).
    warnings: RefCell<Vec<Diagnostic>>,
}

impl<'s> Ctx<'s> {
    pub fn new(src: &'s str) -> Self {
        Ctx {
            src,
            errors: RefCell::new(Vec::new()),
            warnings: RefCell::new(Vec::new()),
        }
    }

    pub fn take_warnings(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut *self.warnings.borrow_mut())
    }

    /// Records a warning at `span`: the plan is valid, but someone should
    /// look.
    pub fn warn(&self, span: Option<Range<usize>>, message: impl Into<String>) {
        let (line, column) = self.locate(span.map(|s| s.start).unwrap_or(0));
        self.warnings.borrow_mut().push(Diagnostic {
            line,
            column,
            message: message.into(),
            expected: None,
        });
    }

    pub fn into_errors(self) -> Vec<Diagnostic> {
        self.errors.into_inner()
    }

    /// The errors collected so far, leaving them in place.
    pub fn errors_so_far(&self) -> Vec<Diagnostic> {
        self.errors.borrow().clone()
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.borrow().is_empty()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn locate(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.src.len());
        while offset > 0 && !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.src[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    /// Records an error at `span` (the start of the file when unknown).
    pub fn error(
        &self,
        span: Option<Range<usize>>,
        message: impl Into<String>,
        expected: Option<&str>,
    ) {
        let (line, column) = self.locate(span.map(|s| s.start).unwrap_or(0));
        self.errors.borrow_mut().push(Diagnostic {
            line,
            column,
            message: message.into(),
            expected: expected.map(str::to_string),
        });
    }
}

/// A TOML item, an array element, or a table of an array of tables.
#[derive(Clone, Copy)]
pub enum N<'a> {
    I(&'a Item),
    V(&'a Value),
    T(&'a Table),
}

impl<'a> N<'a> {
    pub fn span(&self) -> Option<Range<usize>> {
        match self {
            N::I(i) => i.span(),
            N::V(v) => v.span(),
            N::T(t) => t.span(),
        }
    }

    fn value(&self) -> Option<&'a Value> {
        match self {
            N::I(i) => i.as_value(),
            N::V(v) => Some(v),
            N::T(_) => None,
        }
    }

    pub fn as_str(&self) -> Option<&'a str> {
        self.value().and_then(Value::as_str)
    }

    pub fn as_f64(&self) -> Option<f64> {
        let v = self.value()?;
        v.as_float().or_else(|| v.as_integer().map(|i| i as f64))
    }

    pub fn as_bool(&self) -> Option<bool> {
        self.value().and_then(Value::as_bool)
    }

    pub fn as_table(&self) -> Option<&'a dyn TableLike> {
        match self {
            N::I(i) => i.as_table_like(),
            N::V(v) => v.as_inline_table().map(|t| t as &dyn TableLike),
            N::T(t) => Some(*t as &dyn TableLike),
        }
    }

    pub fn as_array(&self) -> Option<Vec<N<'a>>> {
        match self {
            N::I(Item::ArrayOfTables(a)) => Some(a.iter().map(N::T).collect()),
            _ => self
                .value()?
                .as_array()
                .map(|a| a.iter().map(N::V).collect()),
        }
    }

    /// A TOML local date (`2025-12-31`).
    pub fn as_toml_date(&self) -> Option<NaiveDate> {
        let dt = self.value()?.as_datetime()?;
        if dt.time.is_some() || dt.offset.is_some() {
            return None;
        }
        let d = dt.date?;
        NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            N::T(_) | N::I(Item::Table(_)) | N::I(Item::ArrayOfTables(_)) => "表",
            _ => match self.value() {
                Some(Value::String(_)) => "文本",
                Some(Value::Integer(_)) => "整数",
                Some(Value::Float(_)) => "数字",
                Some(Value::Boolean(_)) => "true/false",
                Some(Value::Datetime(_)) => "日期时间",
                Some(Value::Array(_)) => "数组",
                Some(Value::InlineTable(_)) => "表",
                None => "空",
            },
        }
    }
}

/// A table being read. Keys that were never asked for are reported by
/// [`Obj::finish`] as unknown, with the closest known key as a hint.
pub struct Obj<'a, 'c, 's> {
    pub ctx: &'c Ctx<'s>,
    table: &'a dyn TableLike,
    span: Option<Range<usize>>,
    /// Where the table is, for messages: e.g. `[[target]] T1-1`.
    pub what: String,
    known: RefCell<Vec<String>>,
}

impl<'a, 'c, 's> Obj<'a, 'c, 's> {
    pub fn new(ctx: &'c Ctx<'s>, node: N<'a>, what: impl Into<String>) -> Option<Self> {
        let what = what.into();
        match node.as_table() {
            Some(table) => Some(Obj {
                ctx,
                table,
                span: node.span(),
                what,
                known: RefCell::new(Vec::new()),
            }),
            None => {
                ctx.error(
                    node.span(),
                    format!("{what} 应为表，实际是{}", node.type_name()),
                    Some("表（[名称] 或 { 键 = 值 }）"),
                );
                None
            }
        }
    }

    pub fn span(&self) -> Option<Range<usize>> {
        self.span.clone()
    }

    /// The raw item under `key`, marking the key as known.
    pub fn get(&self, key: &str) -> Option<N<'a>> {
        self.known.borrow_mut().push(key.to_string());
        self.table.get(key).filter(|i| !i.is_none()).map(N::I)
    }

    pub fn has(&self, key: &'static str) -> bool {
        self.table.get(key).is_some_and(|i| !i.is_none())
    }

    fn wrong(&self, key: &str, node: N<'_>, expected: &str) {
        self.ctx.error(
            node.span(),
            format!(
                "{} 的 {key} 类型不对：实际是{}",
                self.what,
                node.type_name()
            ),
            Some(expected),
        );
    }

    fn missing(&self, key: &str, expected: &str) {
        self.ctx.error(
            self.span(),
            format!("{} 缺少必填字段 {key}", self.what),
            Some(expected),
        );
    }

    pub fn opt_str(&self, key: &'static str) -> Option<String> {
        let n = self.get(key)?;
        match n.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.wrong(key, n, "文本（用双引号括起）");
                None
            }
        }
    }

    pub fn req_str(&self, key: &'static str) -> Option<String> {
        if !self.has(key) {
            self.missing(key, "文本（用双引号括起）");
            self.get(key);
            return None;
        }
        let s = self.opt_str(key)?;
        if s.trim().is_empty() {
            self.ctx.error(
                self.get(key).and_then(|n| n.span()),
                format!("{} 的 {key} 不能为空", self.what),
                Some("非空文本"),
            );
            return None;
        }
        Some(s)
    }

    pub fn opt_f64(&self, key: &'static str) -> Option<f64> {
        let n = self.get(key)?;
        match n.as_f64() {
            Some(v) if v.is_finite() => Some(v),
            _ => {
                self.wrong(key, n, "数字（不带引号，例如 1200 或 2.52）");
                None
            }
        }
    }

    pub fn opt_bool(&self, key: &'static str) -> Option<bool> {
        let n = self.get(key)?;
        match n.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong(key, n, "true 或 false");
                None
            }
        }
    }

    /// A code (`[A-Za-z0-9._-]`), reported at its place when malformed.
    pub fn code_at(&self, n: N<'_>, key: &str) -> Option<Code> {
        let Some(s) = n.as_str() else {
            self.wrong(key, n, "编码文本，例如 \"kjj\"");
            return None;
        };
        match Code::parse(s) {
            Ok(c) => Some(c),
            Err(e) => {
                self.ctx
                    .error(n.span(), format!("{} 的 {key}：{e}", self.what), None);
                None
            }
        }
    }

    pub fn opt_code(&self, key: &'static str) -> Option<Code> {
        let n = self.get(key)?;
        self.code_at(n, key)
    }

    pub fn req_code(&self, key: &'static str) -> Option<Code> {
        if !self.has(key) {
            self.missing(key, "编码文本，例如 \"kjj\"");
            self.get(key);
            return None;
        }
        self.opt_code(key)
    }

    /// A list of codes, each with its own place; a single string is accepted
    /// as a list of one.
    pub fn code_list(&self, key: &'static str) -> Vec<(Code, Option<Range<usize>>)> {
        let Some(n) = self.get(key) else {
            return Vec::new();
        };
        if n.as_str().is_some() {
            return self
                .code_at(n, key)
                .map(|c| vec![(c, n.span())])
                .unwrap_or_default();
        }
        let Some(items) = n.as_array() else {
            self.wrong(key, n, "编码数组，例如 [\"kjj\", \"fgw\"]");
            return Vec::new();
        };
        items
            .into_iter()
            .filter_map(|i| self.code_at(i, key).map(|c| (c, i.span())))
            .collect()
    }

    pub fn str_list(&self, key: &'static str) -> Vec<String> {
        let Some(n) = self.get(key) else {
            return Vec::new();
        };
        let Some(items) = n.as_array() else {
            self.wrong(key, n, "文本数组，例如 [\"工程\", \"行动\"]");
            return Vec::new();
        };
        items
            .into_iter()
            .filter_map(|i| match i.as_str() {
                Some(s) => Some(s.to_string()),
                None => {
                    self.wrong(key, i, "文本");
                    None
                }
            })
            .collect()
    }

    /// A date written as a TOML date (`2025-12-31`) or as text: `"2025-12-31"`,
    /// `"2025-06"` (the month's last day) or `"2025"` (31 December).
    pub fn date_at(&self, n: N<'_>, key: &str) -> Option<NaiveDate> {
        if let Some(d) = n.as_toml_date() {
            return Some(d);
        }
        let parsed = n.as_str().and_then(parse_loose_date).or_else(|| {
            // A bare integer year, e.g. deadline = 2025.
            n.as_f64()
                .filter(|v| v.fract() == 0.0 && (1900.0..=2200.0).contains(v))
                .and_then(|y| NaiveDate::from_ymd_opt(y as i32, 12, 31))
        });
        if parsed.is_none() {
            self.ctx.error(
                n.span(),
                format!("{} 的 {key} 不是有效日期", self.what),
                Some("日期，例如 2025-12-31、\"2025-06\"（月末）或 2025（年末）"),
            );
        }
        parsed
    }

    pub fn opt_date(&self, key: &'static str) -> Option<NaiveDate> {
        let n = self.get(key)?;
        self.date_at(n, key)
    }

    pub fn req_date(&self, key: &'static str) -> Option<NaiveDate> {
        if !self.has(key) {
            self.missing(key, "日期，例如 2025-12-31");
            self.get(key);
            return None;
        }
        self.opt_date(key)
    }

    /// A choice among fixed words.
    pub fn opt_choice(&self, key: &'static str, choices: &[&str]) -> Option<String> {
        let n = self.get(key)?;
        let expected = choices.join(" | ");
        match n.as_str() {
            Some(s) if choices.contains(&s) => Some(s.to_string()),
            Some(s) => {
                self.ctx.error(
                    n.span(),
                    format!("{} 的 {key} 取值“{s}”无效", self.what),
                    Some(&expected),
                );
                None
            }
            None => {
                self.wrong(key, n, &expected);
                None
            }
        }
    }

    pub fn sub(&self, key: &'static str) -> Option<Obj<'a, 'c, 's>> {
        let n = self.get(key)?;
        Obj::new(self.ctx, n, format!("{} 的 {key}", self.what))
    }

    /// Every key with its item and the key's place, all marked as read (for
    /// tables whose keys are data, like `where`).
    pub fn entries(&self) -> Vec<(&'a str, N<'a>, Option<Range<usize>>)> {
        let table = self.table;
        table
            .iter()
            .map(|(k, item)| {
                self.known.borrow_mut().push(k.to_string());
                (k, N::I(item), table.key(k).and_then(|key| key.span()))
            })
            .collect()
    }

    /// Reports keys that were never read, with the closest known key.
    pub fn finish(&self) {
        let known = self.known.borrow();
        for (key, _) in self.table.iter() {
            if known.iter().any(|k| k == key) {
                continue;
            }
            let span = self.table.key(key).and_then(|k| k.span());
            let known_refs: Vec<&str> = known.iter().map(String::as_str).collect();
            let hint = closest(key, &known_refs);
            let message = match hint {
                Some(h) => format!("{} 中有未知字段 {key}（是否想写 {h}？）", self.what),
                None => format!("{} 中有未知字段 {key}", self.what),
            };
            let mut names: Vec<&str> = known_refs.clone();
            names.sort();
            names.dedup();
            self.ctx.error(span, message, Some(&names.join(", ")));
        }
    }
}

/// Parses the text date forms accepted in plan files.
pub fn parse_loose_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    let p: kc_domain::Period = s.parse().ok()?;
    Some(p.end())
}

/// The known key closest to `key` by edit distance, if close enough to be a
/// likely typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (levenshtein(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
