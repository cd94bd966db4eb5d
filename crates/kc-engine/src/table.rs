//! A registry held in memory as columns: text interned to `u32`, dates as
//! day numbers, numbers as `f64`. Records are rebuilt from the columns when
//! a page needs one, so nothing is held twice.

use std::collections::BTreeMap;
use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashMap, HashTable};

use chrono::{Datelike, NaiveDate};
use kc_domain::registry::{FieldType, Record, RegistryDef, Value};

/// Strings shared by every table: equal text has equal ids across tables
/// (so a qualification's credit code is the enterprise's).
#[derive(Debug, Default)]
pub struct Interner {
    /// Ids by the hash of their text (the text itself lives in `buf`).
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// Every string, one after another: millions of short texts in one
    /// allocation rather than one each (and not twice, as a map keyed by
    /// `String` would hold them).
    buf: String,
    /// End of string `i` in `buf`; string 0 is the empty text.
    ends: Vec<usize>,
}

/// The id of "no value".
pub const NONE: u32 = 0;

impl Interner {
    pub fn new() -> Interner {
        Interner {
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            buf: String::new(),
            ends: vec![0],
        }
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return NONE;
        }
        let Interner {
            table,
            hasher,
            buf,
            ends,
        } = self;
        let h = hasher.hash_one(s);
        let text = |id: u32| slice(buf, ends, id);
        if let Some(id) = table.find(h, |id| text(*id) == s) {
            return *id;
        }
        let id = ends.len() as u32;
        buf.push_str(s);
        ends.push(buf.len());
        table.insert_unique(h, id, |id| hasher.hash_one(slice(buf, ends, *id)));
        id
    }

    pub fn get(&self, s: &str) -> Option<u32> {
        if s.is_empty() {
            return Some(NONE);
        }
        let h = self.hasher.hash_one(s);
        self.table.find(h, |id| self.text(*id) == s).copied()
    }

    pub fn text(&self, id: u32) -> &str {
        slice(&self.buf, &self.ends, id)
    }
}

fn slice<'a>(buf: &'a str, ends: &[usize], id: u32) -> &'a str {
    let i = id as usize;
    if i == 0 || i >= ends.len() {
        return "";
    }
    &buf[ends[i - 1]..ends[i]]
}

/// Missing dates and numbers.
pub const NO_DATE: i32 = i32::MIN;

#[derive(Debug, Clone)]
pub enum Col {
    Text(Vec<u32>),
    Num(Vec<f64>),
    Date(Vec<i32>),
    /// 0 false, 1 true, 2 empty.
    Bool(Vec<u8>),
}

impl Col {
    fn for_type(ty: FieldType) -> Col {
        match ty {
            FieldType::Date => Col::Date(Vec::new()),
            FieldType::Bool => Col::Bool(Vec::new()),
            FieldType::Year | FieldType::Count | FieldType::Amount | FieldType::Number => {
                Col::Num(Vec::new())
            }
            _ => Col::Text(Vec::new()),
        }
    }

    pub fn text_slice(&self) -> Option<&[u32]> {
        match self {
            Col::Text(v) => Some(v),
            _ => None,
        }
    }

    pub fn num_slice(&self) -> Option<&[f64]> {
        match self {
            Col::Num(v) => Some(v),
            _ => None,
        }
    }

    pub fn bool_slice(&self) -> Option<&[u8]> {
        match self {
            Col::Bool(v) => Some(v),
            _ => None,
        }
    }

    pub fn text(&self, row: usize) -> u32 {
        match self {
            Col::Text(v) => v[row],
            _ => NONE,
        }
    }

    pub fn num(&self, row: usize) -> f64 {
        match self {
            Col::Num(v) => v[row],
            _ => f64::NAN,
        }
    }

    pub fn date(&self, row: usize) -> i32 {
        match self {
            Col::Date(v) => v[row],
            Col::Num(v) if v[row].is_finite() => {
                // A year field read as a date: 31 December of that year.
                NaiveDate::from_ymd_opt(v[row] as i32, 12, 31)
                    .map_or(NO_DATE, |d| d.num_days_from_ce())
            }
            _ => NO_DATE,
        }
    }

    pub fn boolean(&self, row: usize) -> u8 {
        match self {
            Col::Bool(v) => v[row],
            _ => 2,
        }
    }

    pub fn is_present(&self, row: usize) -> bool {
        match self {
            Col::Text(v) => v[row] != NONE,
            Col::Num(v) => v[row].is_finite(),
            Col::Date(v) => v[row] != NO_DATE,
            Col::Bool(v) => v[row] != 2,
        }
    }

    fn push(&mut self, v: &Value, strings: &mut Interner) {
        match self {
            Col::Text(c) => c.push(v.as_text().map_or(NONE, |s| strings.intern(s))),
            Col::Num(c) => c.push(column_number(v)),
            Col::Date(c) => c.push(v.as_date().map_or(NO_DATE, |d| d.num_days_from_ce())),
            Col::Bool(c) => c.push(v.as_bool().map_or(2, u8::from)),
        }
    }

    fn set(&mut self, row: usize, v: &Value, strings: &mut Interner) {
        match self {
            Col::Text(c) => c[row] = v.as_text().map_or(NONE, |s| strings.intern(s)),
            Col::Num(c) => c[row] = column_number(v),
            Col::Date(c) => c[row] = v.as_date().map_or(NO_DATE, |d| d.num_days_from_ce()),
            Col::Bool(c) => c[row] = v.as_bool().map_or(2, u8::from),
        }
    }

    fn value(&self, row: usize, ty: FieldType, strings: &Interner) -> Value {
        match self {
            Col::Text(c) if c[row] == NONE => Value::Null,
            Col::Text(c) => Value::Text(strings.text(c[row]).to_string()),
            Col::Num(c) if !c[row].is_finite() => Value::Null,
            Col::Num(c) => match ty {
                FieldType::Year | FieldType::Count => Value::Int(c[row] as i64),
                // An f64 again; `Value::as_decimal` gives its exact decimal.
                _ => Value::Num(c[row]),
            },
            Col::Date(c) => {
                NaiveDate::from_num_days_from_ce_opt(c[row]).map_or(Value::Null, Value::Date)
            }
            Col::Bool(c) => match c[row] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => Value::Null,
            },
        }
    }
}

/// The one place a registry number becomes `f64`. Amounts are exact
/// decimals up to here (`kc_domain::money`; `Value::Dec`); the engine's
/// columns hold `f64` because they are summed and counted (aggregations,
/// never a boundary). A rule that judges a boundary (the eligibility
/// pre-checks) reads a record's figure back with `Value::as_decimal`, which
/// gives the exact decimal again (`money::from_f64`: every figure of up to
/// 15 significant digits survives the trip), and compares in `Decimal`.
fn column_number(v: &Value) -> f64 {
    match v {
        Value::Dec(d) => kc_domain::money::to_f64(*d),
        other => other.as_f64().unwrap_or(f64::NAN),
    }
}

/// One registry's records.
#[derive(Debug)]
pub struct Table {
    pub def: &'static RegistryDef,
    pub cols: Vec<Col>,
    /// Natural key id per row.
    pub keys: Vec<u32>,
    pub by_key: HashMap<u32, u32>,
    pub alive: Vec<bool>,
    /// The enterprise each row belongs to (row in the enterprises table).
    pub ent: Vec<u32>,
    /// Rows of each enterprise.
    pub by_ent: HashMap<u32, Vec<u32>>,
    /// The row's area by the registry's own rule (`u16::MAX`: none or outside).
    pub area: Vec<u16>,
    /// First and last valid day (days from the common era; `i32::MAX` open),
    /// for registries with validity.
    pub valid: Vec<(i32, i32)>,
    /// The months `[s, e)` at whose end the record is valid (`NO_SPAN`: none).
    pub valid_m: Vec<(u16, u16)>,
    /// Per field: the area index of each row, for area fields.
    pub area_cols: Vec<Option<Vec<u16>>>,
    /// Per field: the horizon month of each row, for date and year fields
    /// (`i32::MIN` when empty).
    pub months: Vec<Option<Vec<i32>>>,
    /// Rows grouped by enterprise (offsets into the row list, one slot per
    /// enterprise row), for distinct counts by enterprise; rebuilt when a
    /// row's enterprise changes.
    pub ent_csr: Option<(Vec<u32>, Vec<u32>)>,
    /// With `ent_csr`: every enterprise's rows are consecutive row numbers
    /// (true after loading in key order), so a scan in row order meets each
    /// enterprise's rows as one run.
    pub ent_runs: bool,
    /// Per field: how many live rows hold each year, for year fields, so
    /// the data years an indicator reads are known without a scan.
    pub year_counts: Vec<Option<BTreeMap<i32, u32>>>,
    pub live: usize,
}

/// "Never valid" in `valid_m`.
pub const NO_SPAN: (u16, u16) = (u16::MAX, u16::MAX);

pub const NO_ROW: u32 = u32::MAX;
pub const NO_AREA: u16 = u16::MAX;

impl Table {
    pub fn new(def: &'static RegistryDef) -> Table {
        Table {
            def,
            cols: def.fields.iter().map(|f| Col::for_type(f.ty)).collect(),
            keys: Vec::new(),
            by_key: HashMap::new(),
            alive: Vec::new(),
            ent: Vec::new(),
            by_ent: HashMap::new(),
            area: Vec::new(),
            valid: Vec::new(),
            valid_m: Vec::new(),
            area_cols: def
                .fields
                .iter()
                .map(|f| (f.ty == FieldType::Area).then(Vec::new))
                .collect(),
            months: def
                .fields
                .iter()
                .map(|f| matches!(f.ty, FieldType::Date | FieldType::Year).then(Vec::new))
                .collect(),
            ent_csr: None,
            ent_runs: false,
            year_counts: def
                .fields
                .iter()
                .map(|f| (f.ty == FieldType::Year).then(BTreeMap::new))
                .collect(),
            live: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.alive.len()
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn col(&self, field: &str) -> Option<&Col> {
        self.def.index(field).map(|i| &self.cols[i])
    }

    pub fn row_of(&self, key: &str, strings: &Interner) -> Option<u32> {
        let id = strings.get(key)?;
        self.by_key
            .get(&id)
            .copied()
            .filter(|r| self.alive[*r as usize])
    }

    /// Appends or replaces (by natural key) a record; returns its row and
    /// whether it was new. Derived columns (enterprise, area, validity) are
    /// filled by the engine afterwards.
    pub fn put(&mut self, rec: &Record, strings: &mut Interner) -> (u32, bool) {
        let key = strings.intern(&rec.key(self.def));
        if let Some(&row) = self.by_key.get(&key) {
            if self.alive[row as usize] {
                self.count_years(row, false);
            }
            for (c, v) in self.cols.iter_mut().zip(&rec.values) {
                c.set(row as usize, v, strings);
            }
            if !self.alive[row as usize] {
                self.alive[row as usize] = true;
                self.live += 1;
            }
            self.count_years(row, true);
            return (row, false);
        }
        let row = self.alive.len() as u32;
        for (c, v) in self.cols.iter_mut().zip(&rec.values) {
            c.push(v, strings);
        }
        self.keys.push(key);
        self.by_key.insert(key, row);
        self.alive.push(true);
        self.ent.push(NO_ROW);
        self.area.push(NO_AREA);
        self.valid.push((i32::MIN, i32::MAX));
        self.valid_m.push(NO_SPAN);
        for c in self.area_cols.iter_mut().flatten() {
            c.push(NO_AREA);
        }
        for c in self.months.iter_mut().flatten() {
            c.push(i32::MIN);
        }
        self.live += 1;
        self.count_years(row, true);
        (row, true)
    }

    /// Marks a live row deleted.
    pub fn kill(&mut self, row: u32) {
        if self.alive[row as usize] {
            self.count_years(row, false);
            self.alive[row as usize] = false;
            self.live -= 1;
        }
    }

    /// Counts (`add`) or uncounts row `row`'s years in `year_counts`.
    fn count_years(&mut self, row: u32, add: bool) {
        for (col, counts) in self.cols.iter().zip(self.year_counts.iter_mut()) {
            let Some(counts) = counts else { continue };
            let y = col.num(row as usize);
            if !y.is_finite() {
                continue;
            }
            let y = y as i32;
            if add {
                *counts.entry(y).or_default() += 1;
            } else if let Some(n) = counts.get_mut(&y) {
                *n -= 1;
                if *n == 0 {
                    counts.remove(&y);
                }
            }
        }
    }

    /// Groups the rows by enterprise (`enterprises` rows in all), if needed.
    pub fn ensure_ent_csr(&mut self, enterprises: usize) {
        if self.ent_csr.is_some() {
            return;
        }
        let mut off = vec![0u32; enterprises + 1];
        for &e in &self.ent {
            if (e as usize) < enterprises {
                off[e as usize + 1] += 1;
            }
        }
        for i in 0..enterprises {
            off[i + 1] += off[i];
        }
        let mut next = off.clone();
        let mut rows = vec![0u32; off[enterprises] as usize];
        for (r, &e) in self.ent.iter().enumerate() {
            if (e as usize) < enterprises {
                rows[next[e as usize] as usize] = r as u32;
                next[e as usize] += 1;
            }
        }
        self.ent_runs = (0..enterprises).all(|e| {
            let (a, b) = (off[e] as usize, off[e + 1] as usize);
            a == b || (rows[b - 1] - rows[a]) as usize == b - a - 1
        });
        self.ent_csr = Some((off, rows));
    }

    pub fn record(&self, row: u32, strings: &Interner) -> Record {
        Record {
            values: self
                .cols
                .iter()
                .zip(self.def.fields)
                .map(|(c, f)| c.value(row as usize, f.ty, strings))
                .collect(),
        }
    }

    pub fn set_ent(&mut self, row: u32, ent: u32) {
        let old = self.ent[row as usize];
        if old == ent {
            return;
        }
        if old != NO_ROW
            && let Some(v) = self.by_ent.get_mut(&old)
        {
            v.retain(|r| *r != row);
        }
        if ent != NO_ROW {
            self.by_ent.entry(ent).or_default().push(row);
        }
        self.ent[row as usize] = ent;
        self.ent_csr = None;
        self.ent_runs = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Equal texts get equal ids, different texts different ids, and
        /// every id gives its text back (through growth of the table).
        #[test]
        fn interner_round_trips(words in proptest::collection::vec("[a-c中文]{0,4}", 0..400)) {
            let mut i = Interner::new();
            let ids: Vec<u32> = words.iter().map(|w| i.intern(w)).collect();
            for (w, id) in words.iter().zip(&ids) {
                prop_assert_eq!(i.text(*id), w.as_str());
                prop_assert_eq!(i.get(w), Some(*id));
                prop_assert_eq!(*id == NONE, w.is_empty());
            }
            for (a, ia) in words.iter().zip(&ids) {
                for (b, ib) in words.iter().zip(&ids) {
                    prop_assert_eq!(a == b, ia == ib);
                }
            }
            prop_assert_eq!(i.get("不在其中的字"), None);
        }
    }
}
