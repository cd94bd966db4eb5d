//! The indicator engine.
//!
//! Registries are held in memory as columns ([`table`]). Each indicator with
//! a `[indicator.compute]` spec is compiled against its registry and
//! materialised as a matrix: one row per area plus one for the city, one
//! column per month of the [`horizon`]. A stock cell holds the value at the
//! month's end; a flow cell the amount within the month. A period's value is
//! read off the matrix: the last month of the period for stocks, the sum of
//! its months for flows.
//!
//! Every record contributes intervals of months to an area row (`[s, e)`
//! with a weight), kept in a difference array so that a change to one record
//! is applied by subtracting its old contribution, adding its new one and
//! re-summing the touched rows — no full recompute. Distinct counts (an
//! enterprise with two overlapping certificates counts once) merge the
//! intervals of each group first.

pub mod horizon;
pub mod table;

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use kc_domain::Period;
use kc_domain::plan::{Aggregate, ComputeSpec, DataSource, FilterTest, Plan, TimeRule};
use kc_domain::registry::{self, AreaRule, QualCatalogue, Record, RegistryDef, ValidityRule};

pub use horizon::Horizon;
use table::{Interner, NO_AREA, NO_DATE, NO_ROW, NO_SPAN, NONE, Table};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EngineError {
    #[error("没有名为“{0}”的登记库")]
    UnknownRegistry(String),
    #[error("指标“{0}”不由登记库计算")]
    UnknownIndicator(String),
    #[error("地区“{0}”不在本规划中")]
    UnknownArea(String),
    #[error("期间 {0} 不在可计算的范围内")]
    OutOfRange(String),
}

#[derive(Debug, Clone)]
pub struct AreaInfo {
    pub code: String,
    pub kind: String,
}

/// How a compiled filter reads its field.
#[derive(Debug, Clone)]
enum Src {
    Own(usize),
    Ent(usize),
}

#[derive(Debug, Clone)]
enum Test {
    In(Vec<u32>),
    NotIn(Vec<u32>),
    Bool(u8),
    Range(f64, f64),
    Present(bool),
}

#[derive(Debug, Clone)]
enum CFilter {
    Field(Src, Test),
    /// The record's area is one of these (by index).
    AreaIn(Vec<bool>),
}

#[derive(Debug, Clone, Copy)]
enum AreaSrc {
    Default,
    Enterprise,
    Field(usize),
}

#[derive(Debug, Clone)]
enum CTime {
    Valid,
    Within(usize),
    UntilEnd(usize, i32),
    Year(usize),
    Current,
}

#[derive(Debug, Clone)]
enum Distinct {
    None,
    Ent,
    Area,
    Cols(Vec<usize>),
}

#[derive(Debug, Clone)]
struct Compiled {
    table: usize,
    filters: Vec<CFilter>,
    area: AreaSrc,
    time: CTime,
    weight: Option<usize>,
    distinct: Distinct,
    qualified: Option<u32>,
    scale: f64,
    /// Whether the indicator depends on enterprise rows (area, filters,
    /// grouping or qualification), so enterprise changes reach it.
    uses_ent: bool,
}

/// One contribution: `weight` to area row `area` for months `[s, e)`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Item {
    group: u32,
    area: u16,
    s: u16,
    e: u16,
    w: f64,
}

#[derive(Debug)]
struct Ind {
    code: String,
    c: Compiled,
    flow: bool,
    /// Difference array and values, `(areas + 1) × (months + 1)` and
    /// `(areas + 1) × months`; the last area row is the city.
    diff: Vec<f64>,
    vals: Vec<f64>,
    /// Years present, for `year_of_period`.
    years: BTreeSet<i32>,
}

/// The month spans each data year stands for, indexed by year.
#[derive(Debug, Default)]
struct YearSpans {
    first: i32,
    by_year: Vec<Vec<(u16, u16)>>,
}

impl YearSpans {
    fn from(map: HashMap<i32, Vec<(u16, u16)>>) -> YearSpans {
        let (Some(lo), Some(hi)) = (map.keys().min().copied(), map.keys().max().copied()) else {
            return YearSpans::default();
        };
        let mut by_year = vec![Vec::new(); (hi - lo + 1) as usize];
        for (y, v) in map {
            by_year[(y - lo) as usize] = v;
        }
        YearSpans { first: lo, by_year }
    }

    fn get(&self, y: i32) -> &[(u16, u16)] {
        let i = i64::from(y) - i64::from(self.first);
        if i < 0 {
            return &[];
        }
        self.by_year.get(i as usize).map_or(&[], Vec::as_slice)
    }
}

/// ANDs one filter into `keep`, reading the column directly or, for
/// enterprise fields, through each row's enterprise.
fn filter_column(col: &table::Col, test: &Test, via: Option<&[u32]>, keep: &mut [bool]) {
    let at = |r: usize| -> Option<usize> {
        match via {
            None => Some(r),
            Some(ents) => (ents[r] != NO_ROW).then_some(ents[r] as usize),
        }
    };
    match test {
        Test::Range(lo, hi) => {
            let v = col.num_slice().unwrap_or(&[]);
            for (r, k) in keep.iter_mut().enumerate() {
                if *k {
                    *k = at(r)
                        .and_then(|i| v.get(i))
                        .is_some_and(|x| *x >= *lo && *x <= *hi);
                }
            }
        }
        Test::Bool(b) => {
            let v = col.bool_slice().unwrap_or(&[]);
            for (r, k) in keep.iter_mut().enumerate() {
                if *k {
                    *k = at(r).and_then(|i| v.get(i)) == Some(b);
                }
            }
        }
        Test::In(set) | Test::NotIn(set) => {
            let v = col.text_slice().unwrap_or(&[]);
            let want = matches!(test, Test::In(_));
            for (r, k) in keep.iter_mut().enumerate() {
                if *k {
                    *k = at(r).and_then(|i| v.get(i)).is_some_and(|x| {
                        if want {
                            set.contains(x)
                        } else {
                            *x != NONE && !set.contains(x)
                        }
                    });
                }
            }
        }
        Test::Present(p) => {
            for (r, k) in keep.iter_mut().enumerate() {
                if *k {
                    *k = at(r).is_some_and(|i| col.is_present(i) == *p);
                }
            }
        }
    }
}

/// The cached horizon month of a date or year field.
fn month_at(t: &Table, field: usize, r: usize) -> i32 {
    t.months[field].as_ref().map_or(i32::MIN, |c| c[r])
}

/// The result of computing one indicator in full.
struct Computed {
    diff: Vec<f64>,
    years: BTreeSet<i32>,
}

/// A few month spans on the stack: a record rarely contributes more than a
/// handful (one per data year at most).
#[derive(Debug, Clone, Copy)]
struct Spans {
    n: usize,
    v: [(u16, u16); 16],
}

impl Spans {
    fn new() -> Spans {
        Spans {
            n: 0,
            v: [(0, 0); 16],
        }
    }

    fn push(&mut self, s: (u16, u16)) {
        if self.n < self.v.len() {
            self.v[self.n] = s;
            self.n += 1;
        }
    }

    fn as_slice(&self) -> &[(u16, u16)] {
        &self.v[..self.n]
    }

    fn intersect(&self, other: &[(u16, u16)]) -> Spans {
        let mut out = Spans::new();
        for &(s1, e1) in self.as_slice() {
            for &(s2, e2) in other {
                let (s, e) = (s1.max(s2), e1.min(e2));
                if s < e {
                    out.push((s, e));
                }
            }
        }
        out
    }

    fn merged(mut self) -> Spans {
        let v = &mut self.v[..self.n];
        v.sort_unstable();
        let mut n = 0;
        for k in 0..self.n {
            let (s, e) = self.v[k];
            if n > 0 && s <= self.v[n - 1].1 {
                self.v[n - 1].1 = self.v[n - 1].1.max(e);
            } else {
                self.v[n] = (s, e);
                n += 1;
            }
        }
        self.n = n;
        self
    }
}

/// Records counted by one number, for drill-down.
#[derive(Debug, Clone, PartialEq)]
pub struct Drill {
    pub registry: &'static RegistryDef,
    pub rows: Vec<u32>,
    pub total: f64,
}

pub struct Engine {
    pub strings: Interner,
    pub horizon: Horizon,
    areas: Vec<AreaInfo>,
    area_of: HashMap<u32, u16>,
    area_ix: HashMap<String, usize>,
    quals: QualCatalogue,
    qual_rules: HashMap<u32, ValidityRule>,
    tables: Vec<Table>,
    table_ix: HashMap<&'static str, usize>,
    inds: Vec<Ind>,
    ind_ix: HashMap<String, usize>,
    /// Day number of the first day covered by `day_month`.
    day0: i32,
    /// Month index of each day of the horizon.
    day_month: Vec<u16>,
    /// Day number of the last day of each month.
    month_last: Vec<i32>,
    /// Registries are current up to this day; later periods have no value.
    pub as_of: Option<NaiveDate>,
}

fn registries() -> Vec<&'static RegistryDef> {
    registry::all().collect()
}

const ENT: usize = 0;

impl Engine {
    /// An empty engine for `plan`'s areas and computed indicators. The
    /// horizon starts three years before the plan so baselines can be
    /// computed too.
    pub fn new(plan: &Plan, quals: QualCatalogue) -> Engine {
        let defs = registries();
        debug_assert_eq!(defs[ENT].code, registry::ENTERPRISES.code);
        let from = NaiveDate::from_ymd_opt(plan.period.start.year() - 3, 1, 1).expect("valid");
        let horizon = Horizon::new(from, plan.period.end);
        let mut strings = Interner::new();
        let areas: Vec<AreaInfo> = plan
            .areas
            .iter()
            .map(|a| AreaInfo {
                code: a.code.to_string(),
                kind: a.kind.clone(),
            })
            .collect();
        let area_of = areas
            .iter()
            .enumerate()
            .map(|(i, a)| (strings.intern(&a.code), i as u16))
            .collect();
        let area_ix = areas
            .iter()
            .enumerate()
            .map(|(i, a)| (a.code.clone(), i))
            .collect();
        let qual_rules = quals
            .kinds
            .iter()
            .map(|k| (strings.intern(&k.code), k.rule))
            .collect();
        let day0 = from.num_days_from_ce();
        let mut day_month = Vec::new();
        let mut month_last = Vec::new();
        for m in 0..horizon.months {
            let last = horizon.month_end(m).num_days_from_ce();
            while day0 + (day_month.len() as i32) <= last {
                day_month.push(m as u16);
            }
            month_last.push(last);
        }
        let mut engine = Engine {
            strings,
            horizon,
            areas,
            area_of,
            area_ix,
            quals,
            qual_rules,
            tables: defs.iter().map(|d| Table::new(d)).collect(),
            table_ix: defs.iter().enumerate().map(|(i, d)| (d.code, i)).collect(),
            inds: Vec::new(),
            ind_ix: HashMap::new(),
            day0,
            day_month,
            month_last,
            as_of: None,
        };
        for ind in &plan.indicators {
            if let DataSource::Registry {
                registry,
                compute: Some(spec),
                ..
            } = &ind.source
                && let Some(&t) = engine.table_ix.get(registry.as_str())
            {
                let c = engine.compile(t, spec);
                // The time rule decides, whatever the indicator's measure says.
                let flow = matches!(spec.time, TimeRule::Within { .. });
                engine
                    .ind_ix
                    .insert(ind.code.to_string(), engine.inds.len());
                engine.inds.push(Ind {
                    code: ind.code.to_string(),
                    c,
                    flow,
                    diff: Vec::new(),
                    vals: Vec::new(),
                    years: BTreeSet::new(),
                });
            }
        }
        engine
    }

    pub fn catalogue(&self) -> &QualCatalogue {
        &self.quals
    }

    pub fn areas(&self) -> &[AreaInfo] {
        &self.areas
    }

    pub fn table(&self, registry: &str) -> Option<&Table> {
        self.table_ix.get(registry).map(|&i| &self.tables[i])
    }

    pub fn indicators(&self) -> impl Iterator<Item = &str> {
        self.inds.iter().map(|i| i.code.as_str())
    }

    pub fn computes(&self, indicator: &str) -> bool {
        self.ind_ix.contains_key(indicator)
    }

    /// The registry an indicator is computed from.
    pub fn registry_of(&self, indicator: &str) -> Option<&'static RegistryDef> {
        let i = self.ind_ix.get(indicator)?;
        Some(self.tables[self.inds[*i].c.table].def)
    }

    /// Whether an indicator is a flow (summed over months) rather than a
    /// stock read at a month's end.
    pub fn is_flow(&self, indicator: &str) -> bool {
        self.ind_ix
            .get(indicator)
            .is_some_and(|i| self.inds[*i].flow)
    }

    /// Whether the registry behind an indicator holds any record.
    pub fn has_data(&self, indicator: &str) -> bool {
        self.ind_ix
            .get(indicator)
            .is_some_and(|i| !self.tables[self.inds[*i].c.table].is_empty())
    }

    pub fn record(&self, registry: &str, row: u32) -> Option<Record> {
        let t = self.table(registry)?;
        ((row as usize) < t.len() && t.alive[row as usize]).then(|| t.record(row, &self.strings))
    }

    /// The natural key of a row.
    pub fn key_of(&self, registry: &str, row: u32) -> Option<&str> {
        let t = self.table(registry)?;
        t.keys.get(row as usize).map(|k| self.strings.text(*k))
    }

    /// The row of a natural key.
    pub fn row_of(&self, registry: &str, key: &str) -> Option<u32> {
        self.table(registry)?.row_of(key, &self.strings)
    }

    /// Live rows whose text fields contain `q` (all rows when `q` is empty),
    /// in the record's area (by the registry's own rule) when `area` is
    /// given, in natural-key order.
    pub fn search(&self, registry: &str, q: &str, area: Option<&str>) -> Vec<u32> {
        let Some(t) = self.table(registry) else {
            return Vec::new();
        };
        let area_ix = area.map(|a| {
            self.areas
                .iter()
                .position(|x| x.code == a)
                .map_or(NO_AREA - 1, |i| i as u16)
        });
        let q = q.trim();
        let text_cols: Vec<&table::Col> = t
            .cols
            .iter()
            .filter(|c| matches!(c, table::Col::Text(_)))
            .collect();
        let mut rows: Vec<u32> = (0..t.len())
            .filter(|r| t.alive[*r])
            .filter(|r| area_ix.is_none_or(|a| t.area[*r] == a))
            .filter(|r| {
                q.is_empty()
                    || text_cols
                        .iter()
                        .any(|c| self.strings.text(c.text(*r)).contains(q))
            })
            .map(|r| r as u32)
            .collect();
        rows.sort_by(|a, b| {
            self.strings
                .text(t.keys[*a as usize])
                .cmp(self.strings.text(t.keys[*b as usize]))
        });
        rows
    }

    /// Rows of a registry that belong to the enterprise with this credit code.
    pub fn rows_of_enterprise(&self, registry: &str, credit_code: &str) -> Vec<u32> {
        let (Some(t), Some(ent)) = (
            self.table(registry),
            self.tables[ENT].row_of(credit_code, &self.strings),
        ) else {
            return Vec::new();
        };
        let mut rows: Vec<u32> = t.by_ent.get(&ent).cloned().unwrap_or_default();
        rows.retain(|r| t.alive[*r as usize]);
        rows.sort_unstable();
        rows
    }

    pub fn count(&self, registry: &str) -> usize {
        self.table(registry).map_or(0, |t| t.live)
    }

    // ---- compiling -------------------------------------------------------------

    fn compile(&mut self, t: usize, spec: &ComputeSpec) -> Compiled {
        let def = self.tables[t].def;
        let mut uses_ent = matches!(def.area, AreaRule::Enterprise(_));
        let mut filters = Vec::new();
        for f in &spec.filters {
            if f.field == "area.kind" {
                let values = match &f.test {
                    FilterTest::In { values } => values.clone(),
                    _ => Vec::new(),
                };
                filters.push(CFilter::AreaIn(
                    self.areas
                        .iter()
                        .map(|a| values.contains(&a.kind))
                        .collect(),
                ));
                continue;
            }
            let (src, ty) = match f.field.strip_prefix("enterprise.") {
                Some(ef) => {
                    uses_ent = true;
                    let i = registry::ENTERPRISES.index(ef).unwrap_or(0);
                    (Src::Ent(i), registry::ENTERPRISES.fields[i].ty)
                }
                None => {
                    let i = def.index(&f.field).unwrap_or(0);
                    (Src::Own(i), def.fields[i].ty)
                }
            };
            // Words are compared by interned id; qualification kinds are
            // stored (and written in specs) by code.
            let _ = ty;
            let intern = |s: &mut Interner, vals: &[String]| -> Vec<u32> {
                vals.iter().map(|v| s.intern(v)).collect()
            };
            let test = match &f.test {
                FilterTest::In { values } => Test::In(intern(&mut self.strings, values)),
                FilterTest::NotIn { values } => Test::NotIn(intern(&mut self.strings, values)),
                FilterTest::Bool { value } => Test::Bool(u8::from(*value)),
                FilterTest::Range { min, max } => Test::Range(
                    min.unwrap_or(f64::NEG_INFINITY),
                    max.unwrap_or(f64::INFINITY),
                ),
                FilterTest::Present { value } => Test::Present(*value),
            };
            filters.push(CFilter::Field(src, test));
        }
        let area = match spec.area.as_deref() {
            None => AreaSrc::Default,
            Some("enterprise") => {
                uses_ent = true;
                AreaSrc::Enterprise
            }
            Some(f) => AreaSrc::Field(def.index(f).unwrap_or(0)),
        };
        let time = match &spec.time {
            TimeRule::ValidAtEnd => CTime::Valid,
            TimeRule::Within { date } => CTime::Within(def.index(date).unwrap_or(0)),
            TimeRule::UntilEnd { date, since } => CTime::UntilEnd(
                def.index(date).unwrap_or(0),
                since.map_or(i32::MIN, |d| d.num_days_from_ce()),
            ),
            TimeRule::YearOfPeriod { year } => CTime::Year(def.index(year).unwrap_or(0)),
            TimeRule::Current => CTime::Current,
        };
        let (weight, distinct) = match &spec.aggregate {
            Aggregate::Count => (None, Distinct::None),
            Aggregate::Sum { field } => (def.index(field), Distinct::None),
            Aggregate::Distinct { fields } => {
                let d = if fields.len() == 1 && def.enterprise == Some(fields[0].as_str()) {
                    uses_ent = true;
                    Distinct::Ent
                } else if fields.len() == 1 && fields[0] == "area" {
                    Distinct::Area
                } else {
                    Distinct::Cols(fields.iter().filter_map(|f| def.index(f)).collect())
                };
                (None, d)
            }
        };
        let qualified = spec.qualified.as_ref().map(|q| self.strings.intern(q));
        uses_ent |= qualified.is_some();
        Compiled {
            table: t,
            filters,
            area,
            time,
            weight,
            distinct,
            qualified,
            scale: spec.scale,
            uses_ent,
        }
    }

    // ---- loading ---------------------------------------------------------------

    /// Adds or replaces records without recomputing; call [`Engine::rebuild`]
    /// once after loading.
    pub fn load<'r>(
        &mut self,
        registry: &str,
        records: impl IntoIterator<Item = &'r Record>,
    ) -> Result<usize, EngineError> {
        let t = *self
            .table_ix
            .get(registry)
            .ok_or_else(|| EngineError::UnknownRegistry(registry.to_string()))?;
        let mut n = 0;
        for r in records {
            self.tables[t].put(r, &mut self.strings);
            n += 1;
        }
        Ok(n)
    }

    /// Derives links, areas and validity for every row, then computes every
    /// indicator from scratch.
    pub fn rebuild(&mut self) {
        self.derive_all();
        self.evaluate_all();
    }

    /// Derives links, areas and validity for every row (after loading).
    pub fn derive_all(&mut self) {
        for t in 0..self.tables.len() {
            for row in 0..self.tables[t].len() as u32 {
                self.derive(t, row);
            }
        }
    }

    /// Recomputes every indicator from the loaded rows (links must be
    /// derived). This is the full computation the benchmark times.
    pub fn evaluate_all(&mut self) {
        let all: Vec<usize> = (0..self.inds.len()).collect();
        self.evaluate_set(&all);
    }

    /// Recomputes some indicators (by code) in full; for benchmarks.
    pub fn evaluate_only(&mut self, codes: &[&str]) {
        let set: Vec<usize> = codes
            .iter()
            .filter_map(|c| self.ind_ix.get(*c).copied())
            .collect();
        self.evaluate_set(&set);
    }

    /// Builds the enterprise grouping of the registries that distinct
    /// counts by enterprise read.
    fn prepare(&mut self, set: &[usize]) {
        let n_ent = self.tables[ENT].len();
        for &i in set {
            if matches!(self.inds[i].c.distinct, Distinct::Ent) {
                let t = self.inds[i].c.table;
                self.tables[t].ensure_ent_csr(n_ent);
            }
        }
    }

    fn evaluate_set(&mut self, set: &[usize]) {
        self.prepare(set);
        // Indicators are independent: compute them on every core, then store.
        // Each thread takes the next indicator when it is free, largest
        // registry first, so one slow indicator does not hold the others.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(set.len().max(1));
        let mut order: Vec<usize> = set.to_vec();
        order.sort_by_key(|i| std::cmp::Reverse(self.tables[self.inds[*i].c.table].len()));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let engine: &Engine = self;
        let mut results: Vec<(usize, Computed)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (order, next) = (&order, &next);
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        loop {
                            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(&i) = order.get(k) else { break };
                            mine.push((i, engine.compute(i)));
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("indicator computation"))
                .collect()
        });
        results.sort_by_key(|r| r.0);
        for (i, c) in results {
            self.store(i, c);
        }
    }

    fn derive(&mut self, t: usize, row: u32) {
        let def = self.tables[t].def;
        let r = row as usize;
        let ent = match def.enterprise {
            Some(f) => {
                let sym = self.tables[t].cols[def.index(f).unwrap_or(0)].text(r);
                if sym == NONE {
                    NO_ROW
                } else if t == ENT {
                    row
                } else {
                    self.tables[ENT].by_key.get(&sym).copied().unwrap_or(NO_ROW)
                }
            }
            None => NO_ROW,
        };
        self.tables[t].set_ent(row, ent);
        let area = match def.area {
            AreaRule::Field(f) => {
                let sym = self.tables[t].cols[def.index(f).unwrap_or(0)].text(r);
                self.area_of.get(&sym).copied().unwrap_or(NO_AREA)
            }
            AreaRule::Enterprise(_) => {
                if ent == NO_ROW || !self.tables[ENT].alive[ent as usize] {
                    NO_AREA
                } else {
                    self.tables[ENT].area[ent as usize]
                }
            }
        };
        self.tables[t].area[r] = area;
        let valid = if def.code == registry::QUALIFICATIONS.code {
            self.qual_validity(t, r)
        } else if let Some(v) = def.validity {
            let s = self.tables[t].cols[def.index(v.start).unwrap_or(0)].date(r);
            let e = v
                .end
                .map(|e| self.tables[t].cols[def.index(e).unwrap_or(0)].date(r))
                .filter(|d| *d != NO_DATE)
                .unwrap_or(i32::MAX);
            (s, e)
        } else {
            (i32::MIN, i32::MAX)
        };
        self.tables[t].valid[r] = valid;
        self.tables[t].valid_m[r] = self.valid_months(valid.0, valid.1).unwrap_or(NO_SPAN);
        // Per-row caches that evaluation reads instead of hashing or
        // converting dates for every record.
        for i in 0..def.fields.len() {
            if self.tables[t].area_cols[i].is_some() {
                let sym = self.tables[t].cols[i].text(r);
                let a = self.area_of.get(&sym).copied().unwrap_or(NO_AREA);
                if let Some(c) = self.tables[t].area_cols[i].as_mut() {
                    c[r] = a;
                }
            }
            if self.tables[t].months[i].is_some() {
                let d = self.tables[t].cols[i].date(r);
                let m = if d == NO_DATE {
                    i32::MIN
                } else {
                    self.month_of_day(d).clamp(-1, i64::from(i32::MAX)) as i32
                };
                if let Some(c) = self.tables[t].months[i].as_mut() {
                    c[r] = m;
                }
            }
        }
    }

    /// A qualification's first and last valid day from its columns, by its
    /// kind's rule (the same rule as [`QualCatalogue::validity`]).
    fn qual_validity(&self, t: usize, r: usize) -> (i32, i32) {
        let cols = &self.tables[t].cols;
        let def = self.tables[t].def;
        let c = |f: &str| &cols[def.index(f).unwrap_or(0)];
        let Some(rule) = self.qual_rules.get(&c("kind").text(r)) else {
            return (NO_DATE, NO_DATE);
        };
        let issued = c("issued_on").date(r);
        let year = c("year").num(r);
        let (start, mut end) = match *rule {
            ValidityRule::Years(n) => {
                let Some(s) = NaiveDate::from_num_days_from_ce_opt(issued) else {
                    return (NO_DATE, NO_DATE);
                };
                let y = s.year() + n as i32;
                let e = s
                    .with_year(y)
                    .or_else(|| NaiveDate::from_ymd_opt(y, 3, 1))
                    .and_then(|d| d.pred_opt())
                    .map_or(NO_DATE, |d| d.num_days_from_ce());
                (issued, e)
            }
            ValidityRule::EvaluationYear => {
                let y = if year.is_finite() {
                    year as i32
                } else if let Some(d) = NaiveDate::from_num_days_from_ce_opt(issued) {
                    d.year()
                } else {
                    return (NO_DATE, NO_DATE);
                };
                let jan1 =
                    NaiveDate::from_ymd_opt(y, 1, 1).map_or(NO_DATE, |d| d.num_days_from_ce());
                let dec31 =
                    NaiveDate::from_ymd_opt(y, 12, 31).map_or(NO_DATE, |d| d.num_days_from_ce());
                (if issued != NO_DATE { issued } else { jan1 }, dec31)
            }
            ValidityRule::UntilRevoked => (issued, i32::MAX),
        };
        let until = c("valid_until").date(r);
        if until != NO_DATE {
            end = until;
        }
        let revoked = c("revoked_on").date(r);
        if revoked != NO_DATE {
            end = end.min(revoked - 1);
        }
        (start, end)
    }

    // ---- contributions ---------------------------------------------------------

    fn month_of_day(&self, day: i32) -> i64 {
        if day == NO_DATE {
            return i64::MIN / 4;
        }
        let off = i64::from(day) - i64::from(self.day0);
        if off < 0 {
            -1
        } else if off as usize >= self.day_month.len() {
            self.horizon.months as i64
        } else {
            i64::from(self.day_month[off as usize])
        }
    }

    /// Months `[s, e)` at whose end a record valid from `vs` to `ve`
    /// (inclusive days) is valid.
    fn valid_months(&self, vs: i32, ve: i32) -> Option<(u16, u16)> {
        if vs == NO_DATE || ve == NO_DATE || ve < vs {
            return None;
        }
        let m = self.horizon.months as i64;
        let s = self.month_of_day(vs).max(0);
        let e = if ve == i32::MAX {
            m
        } else {
            let me = self.month_of_day(ve);
            let last = if (0..m).contains(&me) && ve >= self.month_last[me as usize] {
                me
            } else {
                me - 1
            };
            (last + 1).min(m)
        };
        (s < e).then_some((s as u16, e as u16))
    }

    fn passes(&self, c: &Compiled, t: &Table, r: usize) -> bool {
        for f in &c.filters {
            let ok = match f {
                CFilter::AreaIn(mask) => {
                    let a = self.row_area(c, t, r);
                    a != NO_AREA && mask[a as usize]
                }
                CFilter::Field(src, test) => {
                    let (col, row) = match src {
                        Src::Own(i) => (&t.cols[*i], r),
                        Src::Ent(i) => {
                            let e = t.ent[r];
                            if e == NO_ROW {
                                return false;
                            }
                            (&self.tables[ENT].cols[*i], e as usize)
                        }
                    };
                    match test {
                        Test::In(v) => v.contains(&col.text(row)),
                        Test::NotIn(v) => {
                            let x = col.text(row);
                            x != NONE && !v.contains(&x)
                        }
                        Test::Bool(b) => col.boolean(row) == *b,
                        Test::Range(lo, hi) => {
                            let x = col.num(row);
                            x >= *lo && x <= *hi
                        }
                        Test::Present(p) => col.is_present(row) == *p,
                    }
                }
            };
            if !ok {
                return false;
            }
        }
        true
    }

    fn row_area(&self, c: &Compiled, t: &Table, r: usize) -> u16 {
        match c.area {
            AreaSrc::Default => t.area[r],
            AreaSrc::Enterprise => {
                let e = t.ent[r];
                if e == NO_ROW {
                    NO_AREA
                } else {
                    self.tables[ENT].area[e as usize]
                }
            }
            AreaSrc::Field(i) => t.area_cols[i].as_ref().map_or(NO_AREA, |c| c[r]),
        }
    }

    /// The month ranges for `year_of_period`: which data year each horizon
    /// year reads (the latest year present at or before it).
    fn year_ranges(&self, years: &BTreeSet<i32>) -> YearSpans {
        let mut out: HashMap<i32, Vec<(u16, u16)>> = HashMap::new();
        for y in 0..self.horizon.months / 12 {
            let year = self.horizon.start_year + y as i32;
            if let Some(&data_year) = years.range(..=year).next_back() {
                let (s, e) = ((y * 12) as u16, (y * 12 + 12) as u16);
                let v = out.entry(data_year).or_default();
                match v.last_mut() {
                    Some(last) if last.1 == s => last.1 = e,
                    _ => v.push((s, e)),
                }
            }
        }
        YearSpans::from(out)
    }

    /// Merged month intervals in which an enterprise holds a valid
    /// qualification of kind `kind`.
    fn qual_months(&self, kind: u32, ent: u32) -> Vec<(u16, u16)> {
        let q = &self.tables[self.table_ix[registry::QUALIFICATIONS.code]];
        let kind_col = &q.cols[registry::QUALIFICATIONS.index("kind").unwrap_or(1)];
        let mut v: Vec<(u16, u16)> = q
            .by_ent
            .get(&ent)
            .into_iter()
            .flatten()
            .filter(|r| q.alive[**r as usize] && kind_col.text(**r as usize) == kind)
            .map(|r| q.valid_m[*r as usize])
            .filter(|span| *span != NO_SPAN)
            .collect();
        merge(&mut v);
        v
    }

    /// What row `r` contributes to an indicator: its group, area, weight and
    /// month spans; `None` when it contributes nothing. No allocation: this
    /// runs once per record per indicator.
    fn row_spans(
        &self,
        c: &Compiled,
        years: &YearSpans,
        r: usize,
    ) -> Option<(u32, u16, f64, Spans)> {
        let t = &self.tables[c.table];
        if !t.alive[r] || !self.passes(c, t, r) {
            return None;
        }
        self.row_spans_selected(c, years, r)
    }

    /// The month spans row `r` stands for under the indicator's time rule.
    fn time_spans(&self, c: &Compiled, t: &Table, years: &YearSpans, r: usize, spans: &mut Spans) {
        let m = self.horizon.months as i64;
        match &c.time {
            CTime::Valid => {
                let span = t.valid_m[r];
                if span != NO_SPAN {
                    spans.push(span);
                }
            }
            CTime::Within(i) => {
                let mi = i64::from(month_at(t, *i, r));
                if (0..m).contains(&mi) {
                    spans.push((mi as u16, mi as u16 + 1));
                }
            }
            CTime::UntilEnd(i, since) => {
                let mi = month_at(t, *i, r);
                if mi != i32::MIN && (*since == i32::MIN || t.cols[*i].date(r) >= *since) {
                    let mi = i64::from(mi).max(0);
                    if mi < m {
                        spans.push((mi as u16, m as u16));
                    }
                }
            }
            CTime::Year(i) => {
                let y = t.cols[*i].num(r);
                if y.is_finite() {
                    for span in years.get(y as i32) {
                        spans.push(*span);
                    }
                }
            }
            CTime::Current => spans.push((0, m as u16)),
        }
    }

    /// [`Engine::row_spans`] for a row already known to be alive and to pass
    /// the filters.
    fn row_spans_selected(
        &self,
        c: &Compiled,
        years: &YearSpans,
        r: usize,
    ) -> Option<(u32, u16, f64, Spans)> {
        let t = &self.tables[c.table];
        let area = self.row_area(c, t, r);
        if area == NO_AREA {
            return None;
        }
        let w = match c.weight {
            Some(i) => {
                let x = t.cols[i].num(r);
                if !x.is_finite() {
                    return None;
                }
                x
            }
            None => 1.0,
        };
        let mut spans = Spans::new();
        self.time_spans(c, t, years, r, &mut spans);
        if let Some(kind) = c.qualified {
            // Looked up per row: `qualified` follows filters that leave few
            // rows (large firms), so no per-indicator table is kept.
            let held = match t.ent[r] {
                NO_ROW => Vec::new(),
                e => self.qual_months(kind, e),
            };
            spans = spans.intersect(&held);
        }
        if spans.n == 0 {
            return None;
        }
        let group = match &c.distinct {
            Distinct::Ent => t.ent[r],
            Distinct::Area => u32::from(area),
            _ => r as u32,
        };
        if matches!(c.distinct, Distinct::Ent) && group == NO_ROW {
            return None;
        }
        Some((group, area, w, spans))
    }

    /// [`Engine::row_spans`] as items pushed onto `out`.
    fn row_items(&self, c: &Compiled, years: &YearSpans, r: usize, out: &mut Vec<Item>) {
        if let Some((group, area, w, spans)) = self.row_spans(c, years, r) {
            for (s, e) in spans.as_slice() {
                out.push(Item {
                    group,
                    area,
                    s: *s,
                    e: *e,
                    w,
                });
            }
        }
    }

    /// Applies one group's contributions (merged when counting distinct)
    /// with `sign` to the difference array; notes touched area rows.
    fn apply(
        &self,
        distinct: bool,
        diff: &mut [f64],
        items: &mut [Item],
        sign: f64,
        mut touched: Option<&mut Vec<u16>>,
    ) {
        let cols = self.horizon.months + 1;
        let city = self.areas.len();
        let mut add = |row: usize, s: u16, e: u16, w: f64| {
            diff[row * cols + s as usize] += sign * w;
            diff[row * cols + e as usize] -= sign * w;
            if let Some(t) = touched.as_deref_mut() {
                t.push(row as u16);
            }
        };
        if !distinct {
            for it in items.iter() {
                add(it.area as usize, it.s, it.e, it.w);
                add(city, it.s, it.e, it.w);
            }
            return;
        }
        // One contribution (the usual case): nothing to merge.
        if let [it] = items {
            add(it.area as usize, it.s, it.e, 1.0);
            add(city, it.s, it.e, 1.0);
            return;
        }
        // Per area: merged intervals count once.
        items.sort_unstable_by_key(|it| (it.area, it.s));
        let mut k = 0;
        while k < items.len() {
            let area = items[k].area;
            let mut spans = Spans::new();
            while k < items.len() && items[k].area == area {
                spans.push((items[k].s, items[k].e));
                k += 1;
            }
            for (s, e) in spans.merged().as_slice() {
                add(area as usize, *s, *e, 1.0);
            }
        }
        // The city: merged over all areas.
        if items.len() <= 16 {
            let mut spans = Spans::new();
            for it in items.iter() {
                spans.push((it.s, it.e));
            }
            for (s, e) in spans.merged().as_slice() {
                add(city, *s, *e, 1.0);
            }
        } else {
            let mut spans: Vec<(u16, u16)> = items.iter().map(|it| (it.s, it.e)).collect();
            merge(&mut spans);
            for (s, e) in spans {
                add(city, s, e, 1.0);
            }
        }
    }

    fn years_of(&self, c: &Compiled) -> BTreeSet<i32> {
        let CTime::Year(col) = c.time else {
            return BTreeSet::new();
        };
        let t = &self.tables[c.table];
        // Kept up to date by the table on every write: no scan.
        if let Some(Some(counts)) = t.year_counts.get(col) {
            return counts.keys().copied().collect();
        }
        // Not a year field (plans are checked for this; kept for plans built
        // in code): scan.
        (0..t.len())
            .filter(|r| t.alive[*r])
            .map(|r| t.cols[col].num(r))
            .filter(|y| y.is_finite())
            .map(|y| y as i32)
            .collect()
    }

    /// The live rows that pass an indicator's filters, as a mask by row,
    /// found column by column (a tight loop per filter rather than every
    /// filter per row).
    fn selection_mask(&self, c: &Compiled, t: &Table) -> Vec<bool> {
        let mut keep: Vec<bool> = t.alive.clone();
        // Filters on the record's own fields first, column by column.
        for f in &c.filters {
            match f {
                CFilter::AreaIn(mask) => {
                    for (r, k) in keep.iter_mut().enumerate() {
                        if *k {
                            let a = self.row_area(c, t, r);
                            *k = a != NO_AREA && mask[a as usize];
                        }
                    }
                }
                CFilter::Field(Src::Own(i), test) => {
                    filter_column(&t.cols[*i], test, None, &mut keep)
                }
                CFilter::Field(Src::Ent(_), _) => {}
            }
        }
        // Filters on the enterprise: judged once per enterprise, then one
        // lookup per remaining row.
        let ent_filters: Vec<(usize, &Test)> = c
            .filters
            .iter()
            .filter_map(|f| match f {
                CFilter::Field(Src::Ent(i), test) => Some((*i, test)),
                _ => None,
            })
            .collect();
        if !ent_filters.is_empty() {
            let ents = &self.tables[ENT];
            let mut ok: Vec<bool> = ents.alive.clone();
            for (i, test) in ent_filters {
                filter_column(&ents.cols[i], test, None, &mut ok);
            }
            for (r, k) in keep.iter_mut().enumerate() {
                if *k {
                    let e = t.ent[r];
                    *k = e != NO_ROW && ok[e as usize];
                }
            }
        }
        keep
    }

    /// Adds one enterprise's distinct contribution from its selected `rows`
    /// in the usual case: all of them count in one area (the enterprise's
    /// own), so their spans merge once, on the stack, for the area and the
    /// city alike. Returns false, having added nothing, when the group needs
    /// [`Engine::add_ent_general`] (rows in several areas, or many spans).
    fn add_ent_simple(
        &self,
        c: &Compiled,
        t: &Table,
        years: &YearSpans,
        rows: impl Iterator<Item = usize>,
        diff: &mut [f64],
    ) -> bool {
        let mut spans = Spans::new();
        let mut area = NO_AREA;
        for r in rows {
            let ra = self.row_area(c, t, r);
            if ra == NO_AREA {
                continue;
            }
            if spans.n > 8 || (area != NO_AREA && ra != area) {
                return false;
            }
            area = ra;
            self.time_spans(c, t, years, r, &mut spans);
        }
        if spans.n > 0 {
            let cols = self.horizon.months + 1;
            let (ar, cr) = (area as usize * cols, self.areas.len() * cols);
            for (s, en) in spans.merged().as_slice() {
                diff[ar + *s as usize] += 1.0;
                diff[ar + *en as usize] -= 1.0;
                diff[cr + *s as usize] += 1.0;
                diff[cr + *en as usize] -= 1.0;
            }
        }
        true
    }

    /// Adds one enterprise's distinct contribution from the selected ones of
    /// its `rows`, whatever their areas and spans.
    fn add_ent_general(
        &self,
        c: &Compiled,
        years: &YearSpans,
        rows: &[u32],
        keep: &[bool],
        diff: &mut [f64],
    ) {
        let mut group: Vec<Item> = Vec::new();
        for &r in rows {
            if !keep[r as usize] {
                continue;
            }
            if let Some((g, area, w, spans)) = self.row_spans_selected(c, years, r as usize) {
                for (s, en) in spans.as_slice() {
                    group.push(Item {
                        group: g,
                        area,
                        s: *s,
                        e: *en,
                        w,
                    });
                }
            }
        }
        if !group.is_empty() {
            self.apply(true, diff, &mut group, 1.0, None);
        }
    }

    /// Full computation of indicator `i`, without changing the engine (so
    /// indicators can be computed in parallel).
    fn compute(&self, i: usize) -> Computed {
        let c = &self.inds[i].c;
        let rows = self.areas.len() + 1;
        let cols = self.horizon.months + 1;
        let years = self.years_of(c);
        let ranges = self.year_ranges(&years);
        let t = &self.tables[c.table];
        let mut diff = vec![0.0; rows * cols];
        let city = self.areas.len();
        // The rows that pass the filters, found once, as a mask.
        let keep = if c.filters.is_empty() {
            t.alive.clone()
        } else {
            self.selection_mask(c, t)
        };
        // Distinct by enterprise: with each enterprise's rows together, one
        // pass in row order; otherwise, with many rows selected, a walk of
        // the grouping by enterprise; with few, the generic sort below.
        let simple = c.qualified.is_none() && c.weight.is_none();
        let by_ent = matches!(c.distinct, Distinct::Ent) && t.ent_csr.is_some();
        let runs = by_ent && simple && t.ent_runs;
        let dense = by_ent && (runs || keep.iter().filter(|k| **k).count() * 8 >= t.len());
        match &c.distinct {
            Distinct::Ent if dense => {
                let (off, rows) = t.ent_csr.as_ref().expect("checked above");
                if runs {
                    // Each enterprise's rows sit together (as loaded from the
                    // database, in key order): one sequential pass over the
                    // selected rows, a group per run.
                    let n = t.len();
                    let mut r = 0;
                    while r < n {
                        let e = t.ent[r];
                        if !keep[r] || e == NO_ROW {
                            r += 1;
                            continue;
                        }
                        let (a, b) = (off[e as usize] as usize, off[e as usize + 1] as usize);
                        let last = rows[b - 1] as usize;
                        let run = (r..=last).filter(|x| keep[*x]);
                        if !self.add_ent_simple(c, t, &ranges, run, &mut diff) {
                            self.add_ent_general(c, &ranges, &rows[a..b], &keep, &mut diff);
                        }
                        r = last + 1;
                    }
                } else {
                    // Enterprise by enterprise through the prebuilt grouping.
                    for e in 0..off.len() - 1 {
                        let (a, b) = (off[e] as usize, off[e + 1] as usize);
                        if a == b {
                            continue;
                        }
                        let group = &rows[a..b];
                        let run = group.iter().map(|r| *r as usize).filter(|r| keep[*r]);
                        if !(simple && self.add_ent_simple(c, t, &ranges, run, &mut diff)) {
                            self.add_ent_general(c, &ranges, group, &keep, &mut diff);
                        }
                    }
                }
            }
            Distinct::None => {
                // The mask rather than a row list: one less pass over memory.
                let sel = keep
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| **k)
                    .map(|(r, _)| r as u32);
                // Straight into the difference array: no items kept.
                let m = self.horizon.months as i32;
                let weights = c.weight.and_then(|w| t.cols[w].num_slice());
                let mut add = |area: u16, s: usize, e: usize, w: f64| {
                    for row in [area as usize, city] {
                        diff[row * cols + s] += w;
                        diff[row * cols + e] -= w;
                    }
                };
                match (&c.time, c.qualified) {
                    // The common flows and stocks, without building spans.
                    (CTime::Within(f), None) => {
                        let months = t.months[*f].as_deref().unwrap_or(&[]);
                        for r in sel {
                            let r = r as usize;
                            let (area, mi) = (self.row_area(c, t, r), months[r]);
                            let w = weights.map_or(1.0, |ws| ws[r]);
                            if area != NO_AREA && (0..m).contains(&mi) && w.is_finite() {
                                add(area, mi as usize, mi as usize + 1, w);
                            }
                        }
                    }
                    (CTime::Valid, None) => {
                        for r in sel {
                            let r = r as usize;
                            let (area, span) = (self.row_area(c, t, r), t.valid_m[r]);
                            let w = weights.map_or(1.0, |ws| ws[r]);
                            if area != NO_AREA && span != NO_SPAN && w.is_finite() {
                                add(area, span.0 as usize, span.1 as usize, w);
                            }
                        }
                    }
                    _ => {
                        for r in sel {
                            if let Some((_, area, w, spans)) =
                                self.row_spans_selected(c, &ranges, r as usize)
                            {
                                for (s, e) in spans.as_slice() {
                                    add(area, *s as usize, *e as usize, w);
                                }
                            }
                        }
                    }
                }
            }
            distinct => {
                let mut items = Vec::new();
                for r in keep.iter().enumerate().filter(|(_, k)| **k).map(|(r, _)| r) {
                    if let Some((group, area, w, spans)) = self.row_spans_selected(c, &ranges, r) {
                        for (s, e) in spans.as_slice() {
                            items.push(Item {
                                group,
                                area,
                                s: *s,
                                e: *e,
                                w,
                            });
                        }
                    }
                }
                if let Distinct::Cols(cs) = distinct {
                    // Give rows with equal key columns the same group id (the
                    // key is up to four interned texts, hashed without
                    // allocating).
                    let mut ids: HashMap<[u32; 4], u32> = HashMap::new();
                    for it in items.iter_mut() {
                        let mut key = [NONE; 4];
                        for (k, ci) in cs.iter().take(4).enumerate() {
                            key[k] = t.cols[*ci].text(it.group as usize);
                        }
                        let n = ids.len() as u32;
                        it.group = *ids.entry(key).or_insert(n);
                    }
                }
                let groups = items
                    .iter()
                    .map(|it| it.group as usize + 1)
                    .max()
                    .unwrap_or(0);
                if items.len() * 4 < groups {
                    // Few items over many groups (a filter left a handful of
                    // large firms): sorting beats a pass over every group.
                    items.sort_unstable_by_key(|it| it.group);
                    let mut k = 0;
                    while k < items.len() {
                        let start = k;
                        while k < items.len() && items[k].group == items[start].group {
                            k += 1;
                        }
                        self.apply(true, &mut diff, &mut items[start..k], 1.0, None);
                    }
                    return Computed { diff, years };
                }
                // Counting sort by group, then each group on its own.
                let mut start = vec![0usize; groups + 1];
                for it in &items {
                    start[it.group as usize + 1] += 1;
                }
                for g in 0..groups {
                    start[g + 1] += start[g];
                }
                let mut sorted = vec![
                    Item {
                        group: 0,
                        area: 0,
                        s: 0,
                        e: 0,
                        w: 0.0
                    };
                    items.len()
                ];
                let mut next = start.clone();
                for it in &items {
                    sorted[next[it.group as usize]] = *it;
                    next[it.group as usize] += 1;
                }
                for g in 0..groups {
                    let (a, b) = (start[g], start[g + 1]);
                    if a < b {
                        self.apply(true, &mut diff, &mut sorted[a..b], 1.0, None);
                    }
                }
            }
        }
        Computed { diff, years }
    }

    fn store(&mut self, i: usize, computed: Computed) {
        let rows = self.areas.len() + 1;
        let months = self.horizon.months;
        let ind = &mut self.inds[i];
        ind.diff = computed.diff;
        ind.years = computed.years;
        ind.vals = vec![0.0; rows * months];
        for row in 0..rows {
            resum(ind, row, months);
        }
    }

    /// Full computation of indicator `i`.
    fn evaluate(&mut self, i: usize) {
        self.prepare(&[i]);
        let c = self.compute(i);
        self.store(i, c);
    }

    // ---- reading -----------------------------------------------------------------

    fn area_row(&self, area: Option<&str>) -> Result<usize, EngineError> {
        match area {
            None => Ok(self.areas.len()),
            Some(code) => self
                .area_ix
                .get(code)
                .copied()
                .ok_or_else(|| EngineError::UnknownArea(code.to_string())),
        }
    }

    /// The value of an indicator for an area (`None`: the city) and period;
    /// `Ok(None)` when the period ends after the registries' as-of date.
    pub fn value(
        &self,
        indicator: &str,
        area: Option<&str>,
        period: Period,
    ) -> Result<Option<f64>, EngineError> {
        let i = *self
            .ind_ix
            .get(indicator)
            .ok_or_else(|| EngineError::UnknownIndicator(indicator.to_string()))?;
        let row = self.area_row(area)?;
        if self.as_of.is_some_and(|d| period.end() > d) {
            return Ok(None);
        }
        let (a, b) = self
            .horizon
            .period_months(period)
            .ok_or_else(|| EngineError::OutOfRange(period.to_string()))?;
        let ind = &self.inds[i];
        let m = self.horizon.months;
        let v = if ind.flow {
            ind.vals[row * m + a..row * m + b].iter().sum::<f64>()
        } else {
            ind.vals[row * m + b - 1]
        };
        Ok(Some(v * ind.c.scale))
    }

    /// The records behind a value: the rows counted (one per group for
    /// distinct counts) and their total, which equals [`Engine::value`].
    pub fn drill(
        &self,
        indicator: &str,
        area: Option<&str>,
        period: Period,
    ) -> Result<Drill, EngineError> {
        let (a, b) = self
            .horizon
            .period_months(period)
            .ok_or_else(|| EngineError::OutOfRange(period.to_string()))?;
        self.drill_months(indicator, area, a, b)
    }

    /// The records behind a flow summed over the whole months from `from` to
    /// `to`, or behind a stock at the end of `to`'s month (e.g. a cumulative
    /// total since a baseline).
    pub fn drill_range(
        &self,
        indicator: &str,
        area: Option<&str>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Drill, EngineError> {
        let a = self.horizon.clamp(self.horizon.month_of(from));
        let b = self.horizon.clamp(self.horizon.month_of(to) + 1);
        if a >= b {
            return Err(EngineError::OutOfRange(format!("{from}–{to}")));
        }
        self.drill_months(indicator, area, a, b)
    }

    fn drill_months(
        &self,
        indicator: &str,
        area: Option<&str>,
        a: usize,
        b: usize,
    ) -> Result<Drill, EngineError> {
        let i = *self
            .ind_ix
            .get(indicator)
            .ok_or_else(|| EngineError::UnknownIndicator(indicator.to_string()))?;
        let want = self.area_row(area)?;
        let ind = &self.inds[i];
        let c = &ind.c;
        let ranges = self.year_ranges(&ind.years);
        let t = &self.tables[c.table];
        let city = want == self.areas.len();
        let mut items = Vec::new();
        let mut picked: Vec<(u32, u32, f64)> = Vec::new(); // (group, row, weight)
        for r in 0..t.len() {
            items.clear();
            self.row_items(c, &ranges, r, &mut items);
            let hit = items.iter().find(|it| {
                (city || it.area as usize == want)
                    && if ind.flow {
                        it.s as usize >= a && (it.s as usize) < b
                    } else {
                        (it.s as usize) < b && it.e as usize >= b
                    }
            });
            if let Some(it) = hit {
                let group = match &c.distinct {
                    Distinct::Cols(cs) => {
                        // Hash the key columns into a group id.
                        let mut h: u64 = 1469598103934665603;
                        for ci in cs {
                            h = (h ^ u64::from(t.cols[*ci].text(r))).wrapping_mul(1099511628211);
                        }
                        h as u32
                    }
                    _ => it.group,
                };
                picked.push((group, r as u32, it.w));
            }
        }
        let distinct = !matches!(c.distinct, Distinct::None);
        if distinct {
            // One row per group: the latest.
            picked.sort_by_key(|p| (p.0, std::cmp::Reverse(p.1)));
            picked.dedup_by_key(|p| p.0);
        }
        let total = if distinct {
            picked.len() as f64
        } else {
            picked.iter().map(|p| p.2).sum::<f64>()
        } * c.scale;
        let mut rows: Vec<u32> = picked.into_iter().map(|p| p.1).collect();
        rows.sort_unstable();
        Ok(Drill {
            registry: t.def,
            rows,
            total,
        })
    }

    // ---- changes ---------------------------------------------------------------------

    /// The (indicator, rows) pairs whose contributions depend on row `r` of
    /// table `t` and, for a record about to be written, on enterprise `ent`.
    fn dependents(
        &self,
        t: usize,
        r: Option<u32>,
        ents: &[u32],
    ) -> (Vec<(usize, Vec<u32>)>, Vec<usize>) {
        let mut groups: Vec<(usize, Vec<u32>)> = Vec::new();
        let mut full: Vec<usize> = Vec::new();
        let is_ent = t == ENT;
        let is_qual = self.tables[t].def.code == registry::QUALIFICATIONS.code;
        for (i, ind) in self.inds.iter().enumerate() {
            let c = &ind.c;
            let own = c.table == t;
            let via_ent = c.uses_ent && (is_ent || (is_qual && c.qualified.is_some()));
            if !own && !via_ent {
                continue;
            }
            if ind.diff.is_empty() {
                // Never computed (an engine evaluated only in part): compute
                // it in full rather than patch nothing.
                full.push(i);
                continue;
            }
            match (&c.distinct, own) {
                (Distinct::Area | Distinct::Cols(_), _) => full.push(i),
                (Distinct::Ent, _) => {
                    let tab = &self.tables[c.table];
                    let mut rows: Vec<u32> = Vec::new();
                    for e in ents {
                        rows.extend(tab.by_ent.get(e).into_iter().flatten().copied());
                        if c.table == ENT {
                            rows.push(*e);
                        }
                    }
                    if own && let Some(r) = r {
                        rows.push(r);
                    }
                    rows.sort_unstable();
                    rows.dedup();
                    groups.push((i, rows));
                }
                (Distinct::None, true) if !via_ent => groups.push((i, r.into_iter().collect())),
                (Distinct::None, _) => {
                    let tab = &self.tables[c.table];
                    let mut rows: Vec<u32> = r.filter(|_| own).into_iter().collect();
                    for e in ents {
                        rows.extend(tab.by_ent.get(e).into_iter().flatten().copied());
                        if c.table == ENT {
                            rows.push(*e);
                        }
                    }
                    rows.sort_unstable();
                    rows.dedup();
                    groups.push((i, rows));
                }
            }
        }
        (groups, full)
    }

    /// Contributions of some rows of indicator `i`, grouped as the full
    /// computation groups them.
    fn contribute(
        &self,
        i: usize,
        rows: &[u32],
        sign: f64,
        diff: &mut [f64],
        touched: &mut Vec<u16>,
    ) {
        let c = &self.inds[i].c;
        let ranges = self.year_ranges(&self.inds[i].years);
        let mut items = Vec::new();
        for r in rows {
            if (*r as usize) < self.tables[c.table].len() {
                self.row_items(c, &ranges, *r as usize, &mut items);
            }
        }
        if matches!(c.distinct, Distinct::None) {
            self.apply(false, diff, &mut items, sign, Some(touched));
            return;
        }
        items.sort_unstable_by_key(|it| it.group);
        let mut k = 0;
        while k < items.len() {
            let g = items[k].group;
            let start = k;
            while k < items.len() && items[k].group == g {
                k += 1;
            }
            self.apply(true, diff, &mut items[start..k], sign, Some(&mut *touched));
        }
    }

    /// Writes one record (new or replacing the one with the same natural key)
    /// and brings every indicator up to date by its difference alone.
    pub fn upsert(&mut self, registry: &str, rec: &Record) -> Result<u32, EngineError> {
        let t = *self
            .table_ix
            .get(registry)
            .ok_or_else(|| EngineError::UnknownRegistry(registry.to_string()))?;
        let def = self.tables[t].def;
        let key = rec.key(def);
        let old = self.tables[t].row_of(&key, &self.strings);
        let new_ent = self.ent_of_record(t, rec);
        let mut ents: Vec<u32> = Vec::new();
        if let Some(r) = old {
            let e = if t == ENT {
                r
            } else {
                self.tables[t].ent[r as usize]
            };
            ents.push(e);
        }
        ents.extend(new_ent);
        ents.retain(|e| *e != NO_ROW);
        ents.sort_unstable();
        ents.dedup();
        self.change(t, old, &ents, |eng| {
            let (row, _) = eng.tables[t].put(rec, &mut eng.strings);
            row
        })
    }

    /// Removes the record with this natural key, if present.
    pub fn remove(&mut self, registry: &str, key: &str) -> Result<bool, EngineError> {
        let t = *self
            .table_ix
            .get(registry)
            .ok_or_else(|| EngineError::UnknownRegistry(registry.to_string()))?;
        let Some(row) = self.tables[t].row_of(key, &self.strings) else {
            return Ok(false);
        };
        let e = if t == ENT {
            row
        } else {
            self.tables[t].ent[row as usize]
        };
        let ents: Vec<u32> = [e].into_iter().filter(|e| *e != NO_ROW).collect();
        self.change(t, Some(row), &ents, |eng| {
            eng.tables[t].kill(row);
            row
        })?;
        Ok(true)
    }

    fn ent_of_record(&self, t: usize, rec: &Record) -> Option<u32> {
        let def = self.tables[t].def;
        let f = def.enterprise?;
        let code = rec.get(def, f).as_text()?;
        if t == ENT {
            return self.tables[ENT]
                .row_of(code, &self.strings)
                .or(Some(NO_ROW));
        }
        self.tables[ENT].row_of(code, &self.strings)
    }

    /// Subtracts the contributions that depend on the change, applies it,
    /// re-derives what it affects and adds the contributions back.
    fn change(
        &mut self,
        t: usize,
        old: Option<u32>,
        ents: &[u32],
        write: impl FnOnce(&mut Engine) -> u32,
    ) -> Result<u32, EngineError> {
        let (before, mut full) = self.dependents(t, old, ents);
        let mut touched: Vec<Vec<u16>> = vec![Vec::new(); self.inds.len()];
        for (i, rows) in &before {
            let mut diff = std::mem::take(&mut self.inds[*i].diff);
            self.contribute(*i, rows, -1.0, &mut diff, &mut touched[*i]);
            self.inds[*i].diff = diff;
        }
        let row = write(self);
        self.derive(t, row);
        if t == ENT {
            // The enterprise's area reaches every record linked to it.
            for u in 0..self.tables.len() {
                if u == ENT {
                    continue;
                }
                let linked: Vec<u32> = self.tables[u].by_ent.get(&row).cloned().unwrap_or_default();
                for r in linked {
                    self.derive(u, r);
                }
                // Records naming this credit code before the enterprise existed.
                if old.is_none()
                    && let Some(f) = self.tables[u].def.enterprise
                {
                    let sym = self.tables[ENT].keys[row as usize];
                    let col = self.tables[u].def.index(f).unwrap_or(0);
                    let orphans: Vec<u32> = (0..self.tables[u].len() as u32)
                        .filter(|r| {
                            self.tables[u].ent[*r as usize] == NO_ROW
                                && self.tables[u].cols[col].text(*r as usize) == sym
                        })
                        .collect();
                    for r in orphans {
                        self.derive(u, r);
                    }
                }
            }
        }
        let mut ents_after: Vec<u32> = ents.to_vec();
        let e_now = if t == ENT {
            row
        } else {
            self.tables[t].ent[row as usize]
        };
        if e_now != NO_ROW {
            ents_after.push(e_now);
        }
        ents_after.sort_unstable();
        ents_after.dedup();
        let (after, full_after) = self.dependents(t, Some(row), &ents_after);
        full.extend(full_after);
        // Years for `year_of_period` may have appeared or gone.
        for (i, _) in &after {
            // Only a write to the indicator's own registry can add or remove
            // a data year.
            if self.inds[*i].c.table == t
                && matches!(self.inds[*i].c.time, CTime::Year(_))
                && self.years_of(&self.inds[*i].c) != self.inds[*i].years
            {
                full.push(*i);
            }
        }
        // Groups seen before must be re-added even if no longer dependent.
        let mut union: HashMap<usize, Vec<u32>> = HashMap::new();
        for (i, rows) in before.into_iter().chain(after) {
            union.entry(i).or_default().extend(rows);
        }
        full.sort_unstable();
        full.dedup();
        for (i, mut rows) in union {
            if full.contains(&i) {
                continue;
            }
            rows.sort_unstable();
            rows.dedup();
            // Subtracted only `before` rows; add the current contribution of
            // the union, after removing what the `after`-only rows still hold.
            let mut diff = std::mem::take(&mut self.inds[i].diff);
            self.contribute(i, &rows, 1.0, &mut diff, &mut touched[i]);
            self.inds[i].diff = diff;
            let m = self.horizon.months;
            let mut rows_touched = std::mem::take(&mut touched[i]);
            rows_touched.sort_unstable();
            rows_touched.dedup();
            let ind = &mut self.inds[i];
            for r in rows_touched {
                resum(ind, r as usize, m);
            }
        }
        for i in full {
            self.evaluate(i);
        }
        Ok(row)
    }
}

/// Recomputes one area row's values from its difference array.
fn resum(ind: &mut Ind, row: usize, months: usize) {
    let cols = months + 1;
    let mut acc = 0.0;
    for m in 0..months {
        acc += ind.diff[row * cols + m];
        ind.vals[row * months + m] = acc;
    }
}

/// Sorts and merges overlapping or touching intervals in place.
fn merge(v: &mut Vec<(u16, u16)>) {
    if v.len() < 2 {
        return;
    }
    v.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(v.len());
    for &(s, e) in v.iter() {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    *v = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging() {
        let mut v = vec![(5, 8), (1, 3), (3, 4), (7, 9)];
        merge(&mut v);
        assert_eq!(v, vec![(1, 4), (5, 9)]);
        let mut a = Spans::new();
        a.push((0, 10));
        assert_eq!(
            a.intersect(&[(2, 4), (6, 12)]).as_slice(),
            &[(2, 4), (6, 10)]
        );
        let mut b = Spans::new();
        for s in [(5, 8), (1, 3), (3, 4), (7, 9)] {
            b.push(s);
        }
        assert_eq!(b.merged().as_slice(), &[(1, 4), (5, 9)]);
    }
}
