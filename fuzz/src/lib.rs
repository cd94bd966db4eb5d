//! Fuzz targets for every parser that reads what strangers type or upload
//! (docs/fuzzing.md): the plan file and the catalogues (kc-planfile), CSV and
//! XLSX import with the row check (kc-io), evidence-type detection
//! (kc_io::sniff), the search query and the highlighter (kc-search), periods,
//! numbers, amounts and dates (kc-domain).
//!
//! A target takes bytes and panics only on a bug: a refusal is an `Err`, and
//! the targets check properties as well (the highlight gives the text back,
//! a period prints as what it parses from). Two drivers share them: `afl`
//! (coverage-guided, AFL++ through cargo-afl) and `smoke` (a plain mutator
//! over real seeds, for CI and for machines without AFL).

use std::collections::HashSet;
use std::sync::LazyLock;

use kc_domain::registry::{self, CellContext};

pub type Target = fn(&[u8]);

/// Every target by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("planfile", planfile),
    ("csv", csv),
    ("xlsx", xlsx),
    ("sniff", sniff),
    ("search", search),
    ("highlight", highlight),
    ("matching", matching),
    ("period", period),
    ("number", number),
];

pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

pub fn names() -> Vec<&'static str> {
    TARGETS.iter().map(|(n, _)| *n).collect()
}

/// Loads what a target shares between runs (plan, index, dictionary), so
/// that the first execution is not slower than the others.
pub fn warm_up(name: &str) {
    match name {
        "csv" | "xlsx" => {
            LazyLock::force(&PLAN);
        }
        "search" | "highlight" | "matching" => {
            LazyLock::force(&INDEX);
        }
        _ => {}
    }
}

pub const PLAN_TEXT: &str = include_str!("../../plans/bengbu-2023-2025.toml");
pub const PLAN_EXAMPLE: &str = include_str!("../../plans/examples/chuzhou-2024-2027.toml");

/// Small valid plan files (a few KB at most), written for fuzzing from the
/// structure of the two real ones: AFL runs a plan-sized input hundreds of
/// times a second, the 43 KB plan about fifty (docs/fuzzing.md).
pub const SMALL_PLANS: &[(&str, &str)] = &[
    ("minimal", include_str!("../seeds/planfile/minimal.toml")),
    ("small", include_str!("../seeds/planfile/small.toml")),
    ("kinds", include_str!("../seeds/planfile/kinds.toml")),
    (
        "ranking-market",
        include_str!("../seeds/planfile/ranking-market.toml"),
    ),
];

/// The largest seed written for AFL (`smoke --write-seeds`), per target:
/// AFL works best on small inputs. For `planfile` this leaves out the two
/// real plans (18 and 43 KB), which the smoke driver still runs.
pub fn afl_seed_limit(name: &str) -> usize {
    match name {
        "planfile" => 8 * 1024,
        _ => 64 * 1024,
    }
}

static PLAN: LazyLock<kc_domain::Plan> =
    LazyLock::new(|| kc_planfile::parse_plan("plan.toml", PLAN_TEXT).expect("the plan"));

fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// The plan file reader and the three catalogues.
pub fn planfile(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(plan) = kc_planfile::parse_plan("fuzz.toml", s) {
        let _ = kc_planfile::plan_json(&plan);
        let _ = kc_planfile::summary(&plan);
    }
    let _ = kc_planfile::parse_catalogue("fuzz.toml", s);
    let _ = kc_planfile::parse_rules("fuzz.toml", s);
    let _ = kc_planfile::parse_mujun("fuzz.toml", s);
}

fn import(kind: kc_io::FileKind, data: &[u8]) {
    let Ok(sheet) = kc_io::read(kind, data) else {
        return;
    };
    let cx = CellContext::new(&PLAN, kc_planfile::default_catalogue());
    for def in [
        &registry::ENTERPRISES,
        &registry::FIGURES,
        &registry::CONTRACTS,
    ] {
        let _ = kc_io::check_sheet(def, &sheet, &cx, &|c| c.len() == 18);
    }
    // The plan's two tables read from the same files: the allocation table
    // (分解表) and the target table (目标表).
    let _ = kc_domain::allocation::read(&PLAN, &sheet.headers, &sheet.rows);
    let _ = kc_domain::target_table::read(&PLAN, &sheet.headers, &sheet.rows);
}

/// The plan's target table (目标表) as CSV, a seed for the import targets.
fn target_table_csv() -> Vec<u8> {
    use kc_domain::allocation::Cell;
    let rows = kc_domain::target_table::table(&PLAN).into_iter().map(|r| {
        r.into_iter()
            .map(|c| match c {
                Cell::Text(t) => t,
                Cell::Number(n) => kc_domain::plan::fmt_num(n, 6),
                Cell::Empty => String::new(),
            })
            .collect::<Vec<_>>()
    });
    kc_io::csv_table(std::iter::once(kc_domain::target_table::headers(&PLAN)).chain(rows))
}

/// CSV import: decoding, the reader with its limits, every row's check.
pub fn csv(data: &[u8]) {
    import(kc_io::FileKind::Csv, data);
}

/// XLSX import: the package's pre-scan, calamine, every row's check.
pub fn xlsx(data: &[u8]) {
    import(kc_io::FileKind::Xlsx, data);
}

/// Evidence types by content, under each claimed extension.
pub fn sniff(data: &[u8]) {
    let found = kc_io::sniff::detect(data);
    for kind in kc_io::sniff::FileKind::ALL {
        let name = format!("佐证.{}", kind.extensions()[0]);
        if let Ok(k) = kc_io::sniff::check(&name, data, 1 << 20) {
            assert_eq!(Some(k), found, "check and detect disagree");
        }
    }
}

static INDEX: LazyLock<kc_search::SearchIndex> = LazyLock::new(|| {
    let ix = kc_search::SearchIndex::new().expect("index");
    let (offers, _) = kc_demo::market::labelled(3, 6);
    ix.rebuild(offers.iter().enumerate().map(|(i, o)| kc_search::Listing {
        kind: "offers".into(),
        key: format!("O{i}"),
        title: o.title.clone(),
        body: o.body.clone(),
        ..kc_search::Listing::default()
    }))
    .expect("rebuild");
    ix
});

/// A search with any text: a result or a refusal (empty, too long); every
/// hit's title comes back whole from its highlights.
pub fn search(data: &[u8]) {
    let q = kc_search::SearchQuery {
        text: text(data).into_owned(),
        limit: 20,
        ..kc_search::SearchQuery::default()
    };
    match INDEX.search(&q) {
        Ok((_, hits)) => {
            for h in hits {
                let joined: String = h.title_marks.iter().map(|(t, _)| t.as_str()).collect();
                assert_eq!(joined, h.title);
            }
        }
        Err(kc_search::SearchError::Empty | kc_search::SearchError::TooLong) => {}
        Err(e) => panic!("search failed: {e}"),
    }
}

/// Matching a listing of any text (`title\nbody`): suggestions or a
/// refusal (nothing to match on); scores ordered, similarities finite and
/// within cosine's range. The index holds 150 achievements, enough for the
/// semantic model, so both halves of the hybrid are exercised.
pub fn matching(data: &[u8]) {
    assert!(INDEX.semantic_status().enabled, "the fuzz index has a model");
    let s = text(data);
    let (title, body) = s.split_once('\n').unwrap_or((&s, ""));
    let l = kc_search::Listing {
        kind: "demands".into(),
        key: "fuzz".into(),
        title: title.into(),
        body: body.into(),
        ..kc_search::Listing::default()
    };
    match INDEX.similar(&l, &["offers"], 10) {
        Ok(found) => {
            assert!(found.len() <= 10);
            assert!(found.windows(2).all(|w| w[0].hit.score >= w[1].hit.score));
            for f in &found {
                if let Some(c) = f.similarity {
                    assert!(c.is_finite() && (-1.01..=1.01).contains(&c), "{c}");
                }
            }
        }
        Err(kc_search::SearchError::Empty) => {}
        Err(e) => panic!("matching failed: {e}"),
    }
}

/// Every character of `span` inside an occurrence of a term within it.
pub fn covered_by_terms(span: &str, terms: &HashSet<String>) -> bool {
    let lower = span.to_lowercase();
    let mut covered = vec![false; lower.len()];
    for (i, _) in lower.char_indices() {
        for t in terms {
            if !t.is_empty() && lower[i..].starts_with(t.as_str()) {
                covered[i..i + t.len()].iter_mut().for_each(|c| *c = true);
            }
        }
    }
    lower.char_indices().all(|(i, _)| covered[i])
}

/// The highlighter: `query\ntext`. The parts give the text back exactly,
/// alternate, and every highlighted part is made of query terms.
pub fn highlight(data: &[u8]) {
    let s = text(data);
    let (query, body) = s.split_once('\n').unwrap_or((&s, &s));
    let terms = kc_search::query_terms(query.trim()).all();
    let ranges = kc_search::match_ranges(body, &terms);
    for w in ranges.windows(2) {
        assert!(w[0].end < w[1].start, "ranges overlap or touch");
    }
    for max in [usize::MAX, 120, 3] {
        let parts = kc_search::mark(body, &ranges, max);
        let joined: String = parts.iter().map(|(t, _)| t.as_str()).collect();
        if max == usize::MAX {
            assert_eq!(joined, body, "the text changed");
        } else {
            assert!(body.contains(&joined), "not a window of the text");
        }
        for p in parts.windows(2) {
            assert_ne!(p[0].1, p[1].1, "neighbouring parts alike");
        }
        for (part, hit) in &parts {
            assert!(!part.is_empty(), "an empty part");
            assert!(
                !hit || covered_by_terms(part, &terms),
                "highlighted {part:?} is not made of query terms"
            );
        }
    }
}

/// Periods (2025Q2, 2025-06, 2025): what parses prints as something that
/// parses back to the same period.
pub fn period(data: &[u8]) {
    let s = text(data);
    if let Ok(p) = s.parse::<kc_domain::Period>() {
        let again: kc_domain::Period = p
            .to_string()
            .parse()
            .unwrap_or_else(|e| panic!("{p} does not parse back: {e:?}"));
        assert_eq!(again, p);
    }
    let _ = kc_domain::period::Frequency::parse(&s);
}

/// Numbers as people type them, exact amounts, dates.
pub fn number(data: &[u8]) {
    let s = text(data);
    let f = kc_domain::entry::parse_number(&s);
    if let Some(v) = f {
        assert!(v.is_finite());
    }
    if let Some(d) = kc_domain::money::parse_decimal(&s) {
        let x = kc_domain::money::to_f64(d);
        assert!(x.is_finite(), "{d} as f64");
        let _ = kc_domain::money::from_f64(x);
        let _ = kc_domain::money::fits_f64(d);
    }
    let _ = kc_domain::registry::parse_date(&s);
}

// ---- seeds and the plain mutator --------------------------------------------------

/// Real inputs to start from, per target.
pub fn seeds(name: &str) -> Vec<Vec<u8>> {
    let strs = |v: &[&str]| v.iter().map(|s| s.as_bytes().to_vec()).collect::<Vec<_>>();
    match name {
        "planfile" => {
            let mut v = strs(&SMALL_PLANS.iter().map(|(_, p)| *p).collect::<Vec<_>>());
            v.extend(strs(&[
                kc_planfile::DEFAULT_CATALOGUE,
                kc_planfile::DEFAULT_RULES,
                kc_planfile::DEFAULT_MUJUN,
                "[plan]\ncode = \"x\"\n",
                PLAN_TEXT,
                PLAN_EXAMPLE,
            ]));
            v
        }
        "csv" => {
            let (csv, _) = demo_files();
            let mut v = csv;
            v.push(target_table_csv());
            v.push(
                "统一社会信用代码,企业名称,所在地区\n91110000802100433B,'=1+1,龙子湖区\n"
                    .as_bytes()
                    .to_vec(),
            );
            v
        }
        "xlsx" | "sniff" => {
            let (_, mut xlsx) = demo_files();
            if name == "sniff" {
                xlsx.extend(strs(&[
                    "%PDF-1.7\n1 0 obj\n",
                    "\u{89}PNG\r\n\u{1a}\n",
                    "GIF89a",
                ]));
                xlsx.push(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec());
            }
            xlsx
        }
        "search" | "highlight" | "matching" => strs(&[
            "新能源\n聚焦新能源、新型显示、智能传感、生物化工四大集群",
            "智能传感\n智能传感器产业园",
            "传感器\n传感器",
            "新型显示\n新型显示面板",
            "生物化工\n生物化工中试基地",
            "AI芯片 mems\nAI芯片与 MEMS 传感器",
            "😀e\u{301}\n😀新能源e\u{301}",
        ]),
        "period" => strs(&["2025Q2", "2025-06", "2025", " 2025q4 ", "2024-12"]),
        "number" => strs(&[
            "1,200",
            "-3.5",
            "１２００",
            "1e3",
            "2.52%",
            "12，345．5",
            "336.4",
            "2024-05-01",
            "2024年5月1日",
            "20240501",
        ]),
        _ => Vec::new(),
    }
}

/// CSV and XLSX files of several registries, written by kc-io itself from
/// demo records, and their templates.
fn demo_files() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut by: std::collections::HashMap<&str, Vec<registry::Record>> = Default::default();
    kc_demo::registries::generate(
        &PLAN,
        kc_demo::registries::Scale::City,
        3,
        chrono::NaiveDate::from_ymd_opt(2025, 9, 30).expect("date"),
        |d, r| {
            let v = by.entry(d.code).or_default();
            if v.len() < 4 {
                v.push(r.clone());
            }
        },
    );
    let (mut csv, mut xlsx) = (Vec::new(), Vec::new());
    for def in [
        &registry::ENTERPRISES,
        &registry::FIGURES,
        &registry::CONTRACTS,
    ] {
        let recs = by.get(def.code).cloned().unwrap_or_default();
        csv.push(kc_io::write_csv(def, &recs));
        csv.push(kc_io::template_csv(def));
        if let Ok(x) = kc_io::write_xlsx(def, &recs) {
            xlsx.push(x);
        }
        if let Ok(x) = kc_io::template_xlsx(def) {
            xlsx.push(x);
        }
    }
    (csv, xlsx)
}

/// Tokens worth inserting, per target.
fn dictionary(name: &str) -> &'static [&'static str] {
    match name {
        "planfile" => &[
            "[[",
            "]]",
            "=",
            "\"",
            "'''",
            "\n",
            "[plan]",
            "[[indicator]]",
            "[indicator.compute]",
            "[[target]]",
            "kind",
            "code",
            "1e400",
            "-0",
            "2025-13-01",
            "inf",
            "nan",
            "{}",
            "[]",
        ],
        "csv" | "xlsx" => &[
            ",",
            "\"",
            "\n",
            "\r\n",
            "'=",
            "=",
            "-",
            "\t",
            "\u{feff}",
            "<c r=\"XFD1048576\">",
            "<si><t>",
            "</t></si>",
            "<row r=\"1048577\">",
            "t=\"s\"",
            "<v>999999999</v>",
            "&amp;",
        ],
        "period" | "number" => &[
            "Q",
            "q",
            "-",
            "年",
            "月",
            "日",
            "%",
            "，",
            "．",
            "e",
            "E",
            "+",
            "0",
            "9",
            "13",
            "99999999999999999999999999999",
            "１",
            "－",
            " ",
        ],
        _ => &[
            "新能源",
            "传感器",
            "\n",
            "😀",
            "\u{301}",
            "İ",
            "ß",
            "能",
            " ",
            "，",
        ],
    }
}

/// A small, seedable generator (xorshift*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// One to four random edits of `input`: bit flips, byte changes, inserted
/// tokens, deleted, duplicated or spliced ranges.
pub fn mutate(name: &str, input: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut v = input.to_vec();
    let dict = dictionary(name);
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(8) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            2 | 3 => {
                let t = dict[rng.below(dict.len())].as_bytes();
                v.splice(at..at, t.iter().copied());
            }
            4 if !v.is_empty() => {
                let len = 1 + rng.below((v.len() - at.min(v.len() - 1)).min(64));
                let start = at.min(v.len() - 1);
                v.drain(start..(start + len).min(v.len()));
            }
            5 if !v.is_empty() => {
                let start = rng.below(v.len());
                let len = 1 + rng.below((v.len() - start).min(256));
                let chunk = v[start..start + len].to_vec();
                v.splice(at..at, chunk);
            }
            6 if !other.is_empty() => {
                let start = rng.below(other.len());
                let len = 1 + rng.below((other.len() - start).min(256));
                v.splice(at..at, other[start..start + len].iter().copied());
            }
            _ => {
                let b = [rng.next() as u8];
                v.splice(at..at, b);
            }
        }
    }
    v.truncate(1 << 20);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The small plan seeds are valid plans (so that AFL starts from deep in
    /// the checker, not from its first error), and small.
    #[test]
    fn small_plans_parse() {
        for (name, text) in SMALL_PLANS {
            assert!(
                text.len() <= afl_seed_limit("planfile"),
                "{name}: {} bytes",
                text.len()
            );
            let checked = kc_planfile::check_plan(name, text).unwrap_or_else(|e| panic!("{e}"));
            assert!(!checked.plan.targets.is_empty(), "{name}");
            let _ = kc_planfile::plan_json(&checked.plan);
            let _ = kc_planfile::summary(&checked.plan);
        }
        kc_planfile::parse_catalogue("c", kc_planfile::DEFAULT_CATALOGUE).expect("catalogue");
        kc_planfile::parse_rules("r", kc_planfile::DEFAULT_RULES).expect("rules");
        kc_planfile::parse_mujun("m", kc_planfile::DEFAULT_MUJUN).expect("mujun");
    }

    /// Every planfile seed AFL gets is small; the real plans are left out.
    #[test]
    fn afl_planfile_seeds_small() {
        let kept: Vec<_> = seeds("planfile")
            .into_iter()
            .filter(|s| s.len() <= afl_seed_limit("planfile"))
            .collect();
        assert_eq!(kept.len(), SMALL_PLANS.len() + 4);
        assert!(kept.iter().all(|s| s.len() <= 4 * 1024));
    }
}
