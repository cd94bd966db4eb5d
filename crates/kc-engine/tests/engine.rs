//! The engine against a plain reference interpreter of the same compute
//! specs, on random registries; incremental updates against full rebuilds;
//! drill-down totals against values.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use kc_demo::Rng;
use kc_domain::plan::{Aggregate, ComputeSpec, DataSource, FilterTest, Plan, TimeRule};
use kc_domain::registry::{self, AreaRule, QualCatalogue, Record, RegistryDef, Value};
use kc_domain::{Frequency, Period};
use kc_engine::Engine;

const BENGBU: &str = include_str!("../../../plans/bengbu-2023-2025.toml");

fn plan() -> Plan {
    kc_planfile::parse_plan("b.toml", BENGBU).unwrap()
}

fn quals() -> QualCatalogue {
    kc_planfile::default_catalogue().clone()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Random registries: a handful of enterprises so that overlaps, renewals
/// and revocations happen often.
struct Data {
    recs: HashMap<&'static str, Vec<Record>>,
}

fn rec(def: &RegistryDef, pairs: &[(&str, Value)]) -> Record {
    let mut values = vec![Value::Null; def.fields.len()];
    for (k, v) in pairs {
        values[def.index(k).unwrap_or_else(|| panic!("{}.{k}", def.code))] = v.clone();
    }
    Record { values }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn date_in(rng: &mut Rng, from: i32, to: i32) -> NaiveDate {
    let y = from + (rng.unit() * f64::from(to - from + 1)) as i32;
    let m = 1 + (rng.unit() * 12.0) as u32;
    let day = 1 + (rng.unit() * 28.0) as u32;
    // Month ends matter for validity: use them often.
    if rng.unit() < 0.3 {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        return d(ny, nm, 1).pred_opt().unwrap();
    }
    d(y, m, day)
}

fn pick<'a>(rng: &mut Rng, xs: &'a [&'a str]) -> &'a str {
    xs[(rng.unit() * xs.len() as f64) as usize % xs.len()]
}

fn random_data(plan: &Plan, seed: u64) -> Data {
    let mut rng = Rng::new(seed);
    let areas: Vec<String> = plan
        .areas
        .iter()
        .map(|a| a.code.to_string())
        .chain(["outside".into()])
        .collect();
    let area_refs: Vec<&str> = areas.iter().map(String::as_str).collect();
    let mut recs: HashMap<&'static str, Vec<Record>> = HashMap::new();
    let n_ent = 6 + (rng.unit() * 6.0) as usize;
    let codes: Vec<String> = (0..n_ent)
        .map(|i| {
            kc_domain::credit::complete(&format!("9134030000000{i:04}"))
                .unwrap()
                .to_string()
        })
        .collect();
    for c in &codes {
        recs.entry("enterprises").or_default().push(rec(
            &registry::ENTERPRISES,
            &[
                ("credit_code", text(c)),
                ("name", text(&format!("企业{c}"))),
                ("area", text(pick(&mut rng, &area_refs))),
                ("above_scale", Value::Bool(rng.unit() < 0.7)),
                ("manufacturing", Value::Bool(rng.unit() < 0.7)),
                (
                    "listing_status",
                    text(pick(&mut rng, &["未上市", "已上市"])),
                ),
                ("listed_on", Value::Date(date_in(&mut rng, 2021, 2025))),
            ],
        ));
    }
    for i in 0..(n_ent * 3) {
        let c = &codes[(rng.unit() * n_ent as f64) as usize % n_ent];
        let kind = pick(&mut rng, &["hte", "tsme", "zjtx", "little_giant"]);
        let issued = date_in(&mut rng, 2019, 2025);
        let mut pairs = vec![
            ("credit_code", text(c)),
            ("kind", text(kind)),
            ("number", text(&format!("N{i}"))),
            ("issued_on", Value::Date(issued)),
            ("year", Value::Int(i64::from(issued.year()))),
        ];
        if rng.unit() < 0.15 {
            pairs.push((
                "revoked_on",
                Value::Date(date_in(&mut rng, issued.year(), 2025)),
            ));
        }
        let r = rec(&registry::QUALIFICATIONS, &pairs);
        // Skip revocations before issue (the importer rejects them).
        let v = quals().validity(&r);
        if v.is_some_and(|(s, e)| e.is_none_or(|e| e >= s)) {
            recs.entry("qualifications").or_default().push(r);
        }
    }
    for c in &codes {
        for y in 2020..=2024 {
            if rng.unit() < 0.8 {
                recs.entry("enterprise_figures").or_default().push(rec(
                    &registry::FIGURES,
                    &[
                        ("credit_code", text(c)),
                        ("year", Value::Int(y)),
                        ("revenue", Value::Num((rng.unit() * 800_000.0).round())),
                        ("has_rd_activity", Value::Bool(rng.unit() < 0.5)),
                        ("has_rd_institution", Value::Bool(rng.unit() < 0.5)),
                    ],
                ));
            }
        }
    }
    for i in 0..30 {
        recs.entry("contracts").or_default().push(rec(
            &registry::CONTRACTS,
            &[
                ("reg_number", text(&format!("C{i}"))),
                ("type", text("技术开发")),
                ("seller_name", text("卖方")),
                ("seller_area", text(pick(&mut rng, &area_refs))),
                ("seller_type", text(pick(&mut rng, &["企业", "高校"]))),
                ("buyer_name", text("买方")),
                ("buyer_area", text(pick(&mut rng, &area_refs))),
                (
                    "buyer_type",
                    text(pick(&mut rng, &["企业", "高校", "其他"])),
                ),
                ("registered_on", Value::Date(date_in(&mut rng, 2021, 2025))),
                ("amount", Value::Num((rng.unit() * 5000.0).round())),
                ("tech_amount", Value::Num(0.0)),
            ],
        ));
    }
    for i in 0..12 {
        let approved = date_in(&mut rng, 2020, 2025);
        let mut pairs = vec![
            ("name", text(&format!("平台{i}"))),
            ("level", text(pick(&mut rng, &["国家级", "省级", "市级"]))),
            (
                "type",
                text(pick(
                    &mut rng,
                    &[
                        "重点实验室",
                        "院士工作站",
                        "博士后科研工作站",
                        "企业技术中心",
                    ],
                )),
            ),
            ("host", text("依托")),
            ("area", text(pick(&mut rng, &area_refs))),
            ("approved_on", Value::Date(approved)),
        ];
        if rng.unit() < 0.3 {
            pairs.push((
                "ended_on",
                Value::Date(date_in(&mut rng, approved.year(), 2025).max(approved)),
            ));
        }
        recs.entry("platforms")
            .or_default()
            .push(rec(&registry::PLATFORMS, &pairs));
    }
    for i in 0..10 {
        recs.entry("incubators").or_default().push(rec(
            &registry::INCUBATORS,
            &[
                ("name", text(&format!("孵化器{i}"))),
                ("type", text("孵化器")),
                ("level", text("市级")),
                ("area", text(pick(&mut rng, &area_refs))),
                ("recognized_on", Value::Date(date_in(&mut rng, 2020, 2025))),
            ],
        ));
    }
    for i in 0..14 {
        recs.entry("commissioners").or_default().push(rec(
            &registry::COMMISSIONERS,
            &[
                ("name", text(&format!("特派员{}", i % 5))),
                ("village", text(&format!("村{}", i % 4))),
                ("township", text("镇")),
                ("area", text(pick(&mut rng, &area_refs[..3]))),
                ("start_on", Value::Date(date_in(&mut rng, 2020, 2025))),
            ],
        ));
    }
    for i in 0..10 {
        recs.entry("teams").or_default().push(rec(
            &registry::TEAMS,
            &[
                ("name", text(&format!("团队{i}"))),
                ("year", Value::Int(2020 + (i % 6))),
                ("area", text(pick(&mut rng, &area_refs))),
                ("level", text("市级")),
                ("recommended", Value::Bool(i % 3 == 0)),
            ],
        ));
    }
    Data { recs }
}

// ---- the reference: a plain, row-by-row reading of the spec -----------------------

fn field<'a>(
    def: &RegistryDef,
    r: &'a Record,
    name: &str,
    ents: &'a HashMap<String, Record>,
) -> Option<&'a Value> {
    match name.strip_prefix("enterprise.") {
        Some(f) => {
            let code = r.get(def, def.enterprise?).as_text()?;
            ents.get(code).map(|e| e.get(&registry::ENTERPRISES, f))
        }
        None => Some(r.get(def, name)),
    }
}

fn area_of(
    plan: &Plan,
    def: &RegistryDef,
    spec: &ComputeSpec,
    r: &Record,
    ents: &HashMap<String, Record>,
) -> Option<String> {
    let a = match (spec.area.as_deref(), def.area) {
        (Some("enterprise"), _) | (None, AreaRule::Enterprise(_)) => {
            let code = r.get(def, def.enterprise?).as_text()?;
            ents.get(code)?
                .get(&registry::ENTERPRISES, "area")
                .as_text()?
                .to_string()
        }
        (Some(f), _) | (None, AreaRule::Field(f)) => r.get(def, f).as_text()?.to_string(),
    };
    plan.area(&a).map(|_| a)
}

fn validity(def: &RegistryDef, r: &Record) -> Option<(NaiveDate, Option<NaiveDate>)> {
    if def.code == "qualifications" {
        return quals().validity(r);
    }
    let v = def.validity?;
    Some((
        r.get(def, v.start).as_date()?,
        v.end.and_then(|e| r.get(def, e).as_date()),
    ))
}

fn date_of(def: &RegistryDef, r: &Record, f: &str) -> Option<NaiveDate> {
    match r.get(def, f) {
        Value::Date(d) => Some(*d),
        Value::Int(y) => NaiveDate::from_ymd_opt(*y as i32, 12, 31),
        _ => None,
    }
}

fn reference(
    plan: &Plan,
    data: &Data,
    spec: &ComputeSpec,
    def: &RegistryDef,
    area: Option<&str>,
    p: Period,
) -> f64 {
    let empty = Vec::new();
    let rows = data.recs.get(def.code).unwrap_or(&empty);
    let ents: HashMap<String, Record> = data
        .recs
        .get("enterprises")
        .unwrap_or(&empty)
        .iter()
        .map(|e| {
            (
                e.get(&registry::ENTERPRISES, "credit_code")
                    .as_text()
                    .unwrap()
                    .to_string(),
                e.clone(),
            )
        })
        .collect();
    let end = p.end();
    let years: BTreeSet<i32> = match &spec.time {
        TimeRule::YearOfPeriod { year } => rows
            .iter()
            .filter_map(|r| r.get(def, year).as_f64())
            .map(|y| y as i32)
            .collect(),
        _ => BTreeSet::new(),
    };
    let mut total = 0.0;
    let mut seen: HashSet<Vec<String>> = HashSet::new();
    for r in rows {
        let ok = spec.filters.iter().all(|f| {
            if f.field == "area.kind" {
                let FilterTest::In { values } = &f.test else {
                    return false;
                };
                return area_of(plan, def, spec, r, &ents)
                    .and_then(|a| plan.area(&a).map(|x| values.contains(&x.kind)))
                    .unwrap_or(false);
            }
            let Some(v) = field(def, r, &f.field, &ents) else {
                return false;
            };
            match &f.test {
                FilterTest::In { values } => {
                    v.as_text().is_some_and(|t| values.iter().any(|x| x == t))
                }
                FilterTest::NotIn { values } => {
                    v.as_text().is_some_and(|t| !values.iter().any(|x| x == t))
                }
                FilterTest::Bool { value } => v.as_bool() == Some(*value),
                FilterTest::Range { min, max } => v
                    .as_f64()
                    .is_some_and(|x| min.is_none_or(|m| x >= m) && max.is_none_or(|m| x <= m)),
                FilterTest::Present { value } => v.is_null() != *value,
            }
        });
        if !ok {
            continue;
        }
        let Some(a) = area_of(plan, def, spec, r, &ents) else {
            continue;
        };
        if area.is_some_and(|want| want != a) {
            continue;
        }
        let in_time = match &spec.time {
            TimeRule::ValidAtEnd => {
                validity(def, r).is_some_and(|(s, e)| s <= end && e.is_none_or(|e| e >= end))
            }
            TimeRule::Within { date } => {
                date_of(def, r, date).is_some_and(|x| x >= p.start() && x <= end)
            }
            TimeRule::UntilEnd { date, since } => {
                date_of(def, r, date).is_some_and(|x| x <= end && since.is_none_or(|s| x >= s))
            }
            TimeRule::YearOfPeriod { year } => {
                let fy = years.range(..=p.year()).next_back().copied();
                r.get(def, year).as_f64().map(|y| y as i32) == fy && fy.is_some()
            }
            TimeRule::Current => true,
        };
        if !in_time {
            continue;
        }
        if let Some(k) = &spec.qualified {
            let code = r.get(def, def.enterprise.unwrap()).as_text().unwrap_or("");
            let has = data
                .recs
                .get("qualifications")
                .unwrap_or(&empty)
                .iter()
                .any(|q| {
                    q.get(&registry::QUALIFICATIONS, "credit_code").as_text() == Some(code)
                        && q.get(&registry::QUALIFICATIONS, "kind").as_text() == Some(k)
                        && quals()
                            .validity(q)
                            .is_some_and(|(s, e)| s <= end && e.is_none_or(|e| e >= end))
                });
            if !has {
                continue;
            }
        }
        match &spec.aggregate {
            Aggregate::Count => total += 1.0,
            Aggregate::Sum { field } => total += r.get(def, field).as_f64().unwrap_or(0.0),
            Aggregate::Distinct { fields } => {
                let key: Vec<String> = fields.iter().map(|f| r.get(def, f).display()).collect();
                if seen.insert(key) {
                    total += 1.0;
                }
            }
        }
    }
    total * spec.scale
}

fn specs(plan: &Plan) -> Vec<(String, ComputeSpec, &'static RegistryDef, Frequency)> {
    plan.indicators
        .iter()
        .filter_map(|i| match &i.source {
            DataSource::Registry {
                registry,
                compute: Some(c),
                ..
            } => Some((
                i.code.to_string(),
                c.clone(),
                registry::by_code(registry).unwrap(),
                i.frequency,
            )),
            _ => None,
        })
        .collect()
}

fn periods() -> Vec<Period> {
    let mut v = Vec::new();
    for y in 2021..=2025 {
        v.push(Period::Year(y));
        for q in 1..=4 {
            v.push(Period::Quarter(y, q));
        }
        for m in [1, 6, 12] {
            v.push(Period::Month(y, m));
        }
    }
    v
}

fn build(plan: &Plan, data: &Data) -> Engine {
    let mut e = Engine::new(plan, quals());
    for def in registry::all() {
        if let Some(rs) = data.recs.get(def.code) {
            e.load(def.code, rs).unwrap();
        }
    }
    e.rebuild();
    e
}

fn assert_matches(plan: &Plan, data: &Data, e: &Engine, seed: u64) {
    let areas: Vec<Option<&str>> = std::iter::once(None)
        .chain(plan.areas.iter().map(|a| Some(a.code.as_str())))
        .collect();
    for (code, spec, def, _) in specs(plan) {
        for p in periods() {
            for a in &areas {
                let want = reference(plan, data, &spec, def, *a, p);
                let got = e.value(&code, *a, p).unwrap().unwrap();
                assert!(
                    (want - got).abs() < 1e-6,
                    "seed {seed} {code} {a:?} {p}: engine {got}, reference {want}"
                );
                let drill = e.drill(&code, *a, p).unwrap();
                assert!(
                    (drill.total - got).abs() < 1e-6,
                    "seed {seed} {code} {a:?} {p}: drill {} vs {got}",
                    drill.total
                );
            }
        }
    }
}

#[test]
fn engine_equals_the_reference_on_random_registries() {
    let plan = plan();
    assert!(
        specs(&plan).len() >= 20,
        "the Bengbu plan wires its registry indicators"
    );
    for seed in 0..12 {
        let data = random_data(&plan, seed);
        let e = build(&plan, &data);
        assert_matches(&plan, &data, &e, seed);
    }
}

/// Records grouped by enterprise (as the database returns them, in key
/// order) take the engine's sequential path; shuffled ones its grouped
/// path. Both must equal the reference.
#[test]
fn record_order_does_not_change_results() {
    let plan = plan();
    for seed in 20..26 {
        let mut data = random_data(&plan, seed);
        for (reg, rs) in data.recs.iter_mut() {
            let def = registry::by_code(reg).unwrap();
            if let Some(i) = def.enterprise.and_then(|f| def.index(f)) {
                rs.sort_by_key(|r| r.values[i].display());
            }
        }
        let e = build(&plan, &data);
        assert!(
            e.table("qualifications").unwrap().ent_runs,
            "sorted qualifications are seen as runs"
        );
        assert_matches(&plan, &data, &e, seed);
        let mut rng = Rng::new(seed);
        for rs in data.recs.values_mut() {
            let mut keyed: Vec<(u64, Record)> = rs.drain(..).map(|r| (rng.next_u64(), r)).collect();
            keyed.sort_by_key(|k| k.0);
            rs.extend(keyed.into_iter().map(|k| k.1));
        }
        let e = build(&plan, &data);
        assert_matches(&plan, &data, &e, seed);
    }
}

#[test]
fn incremental_updates_equal_a_rebuild() {
    let plan = plan();
    for seed in 100..106 {
        let data = random_data(&plan, seed);
        // Start from half the records, then write the rest one by one, in an
        // order that mixes registries (enterprises sometimes after the
        // records that name them).
        let mut first = Data {
            recs: HashMap::new(),
        };
        let mut rest: Vec<(&'static str, Record)> = Vec::new();
        let mut rng = Rng::new(seed);
        for (reg, rs) in &data.recs {
            for r in rs {
                if rng.unit() < 0.5 {
                    first.recs.entry(reg).or_default().push(r.clone());
                } else {
                    rest.push((reg, r.clone()));
                }
            }
        }
        let mut keyed: Vec<(u64, (&'static str, Record))> =
            rest.into_iter().map(|x| (rng.next_u64(), x)).collect();
        keyed.sort_by_key(|k| k.0);
        let rest: Vec<(&'static str, Record)> = keyed.into_iter().map(|k| k.1).collect();
        let mut e = build(&plan, &first);
        for (reg, r) in &rest {
            e.upsert(reg, r).unwrap();
            first.recs.entry(reg).or_default().push(r.clone());
        }
        assert_matches(&plan, &first, &e, seed);
        // Changes: move an enterprise to another area, revoke a
        // qualification, delete a contract.
        let ents = first.recs.get_mut("enterprises").unwrap();
        let moved = &mut ents[0];
        let other = plan.areas[3].code.to_string();
        moved.values[registry::ENTERPRISES.index("area").unwrap()] = Value::Text(other);
        let moved = moved.clone();
        e.upsert("enterprises", &moved).unwrap();
        if let Some(q) = first
            .recs
            .get_mut("qualifications")
            .and_then(|v| v.first_mut())
        {
            q.values[registry::QUALIFICATIONS.index("revoked_on").unwrap()] = Value::Null;
            q.values[registry::QUALIFICATIONS.index("valid_until").unwrap()] =
                Value::Date(d(2024, 6, 30));
            let q = q.clone();
            if quals()
                .validity(&q)
                .is_some_and(|(s, e)| e.is_none_or(|e| e >= s))
            {
                e.upsert("qualifications", &q).unwrap();
            } else {
                first.recs.get_mut("qualifications").unwrap().remove(0);
                e.remove("qualifications", &q.key(&registry::QUALIFICATIONS))
                    .unwrap();
            }
        }
        let c = first.recs.get_mut("contracts").unwrap().remove(0);
        assert!(e.remove("contracts", &c.key(&registry::CONTRACTS)).unwrap());
        assert_matches(&plan, &first, &e, seed);
    }
}

#[test]
fn worked_example_of_renewal_and_revocation() {
    let plan = plan();
    let code = kc_domain::credit::complete("91340300000000001")
        .unwrap()
        .to_string();
    let mut data = Data {
        recs: HashMap::new(),
    };
    data.recs.insert(
        "enterprises",
        vec![rec(
            &registry::ENTERPRISES,
            &[
                ("credit_code", text(&code)),
                ("name", text("甲")),
                ("area", text("gaoxin")),
            ],
        )],
    );
    let q = |n: &str, issued: NaiveDate, revoked: Option<NaiveDate>| {
        let mut p = vec![
            ("credit_code", text(&code)),
            ("kind", text("hte")),
            ("number", text(n)),
            ("issued_on", Value::Date(issued)),
        ];
        if let Some(r) = revoked {
            p.push(("revoked_on", Value::Date(r)));
        }
        rec(&registry::QUALIFICATIONS, &p)
    };
    // Certified 2021-11-03, renewed early on 2024-10-20 (overlap), the
    // renewal revoked on 2025-04-01.
    data.recs.insert(
        "qualifications",
        vec![
            q("A", d(2021, 11, 3), None),
            q("B", d(2024, 10, 20), Some(d(2025, 4, 1))),
        ],
    );
    let e = build(&plan, &data);
    let v = |p: &str, a: Option<&str>| {
        e.value("hte_count", a, p.parse().unwrap())
            .unwrap()
            .unwrap()
    };
    assert_eq!(v("2021Q3", None), 0.0);
    assert_eq!(v("2021Q4", None), 1.0);
    assert_eq!(v("2024Q4", None), 1.0, "the overlap counts once");
    assert_eq!(v("2024Q4", Some("gaoxin")), 1.0);
    assert_eq!(v("2024Q4", Some("jingkai")), 0.0);
    assert_eq!(
        v("2025Q1", None),
        1.0,
        "valid on 31 March, revoked from 1 April"
    );
    assert_eq!(v("2025Q2", None), 0.0);
    let drill = e
        .drill("hte_count", None, "2024Q4".parse().unwrap())
        .unwrap();
    assert_eq!(drill.rows.len(), 1);
}
