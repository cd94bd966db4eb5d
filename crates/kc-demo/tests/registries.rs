//! The city-scale demo registries read like real ones: names without
//! digits or placeholders, universities never typed as enterprises, areas
//! with different shares, events with their deals, and insurance and fund
//! records.

use std::collections::HashMap;

use chrono::NaiveDate;
use kc_domain::registry::{self as reg, Record, RegistryDef, Value};

const BENGBU: &str = include_str!("../../../plans/bengbu-2023-2025.toml");

struct Demo {
    recs: HashMap<&'static str, Vec<Record>>,
}

impl Demo {
    fn new() -> Demo {
        let plan = kc_planfile::parse_plan("b.toml", BENGBU).unwrap();
        let mut recs: HashMap<&'static str, Vec<Record>> = HashMap::new();
        kc_demo::registries::generate(
            &plan,
            kc_demo::registries::Scale::City,
            2023,
            NaiveDate::from_ymd_opt(2025, 9, 30).unwrap(),
            |def, r| recs.entry(def.code).or_default().push(r.clone()),
        );
        Demo { recs }
    }

    fn of(&self, def: &RegistryDef) -> &[Record] {
        self.recs.get(def.code).map_or(&[], |v| v.as_slice())
    }

    fn text(&self, def: &RegistryDef, r: &Record, field: &str) -> String {
        match r.get(def, field) {
            Value::Null => String::new(),
            v => v.display(),
        }
    }
}

/// Fields that name something (people, firms, places, events); numbers
/// and codes are not among them.
const NAMED: [(&str, &[&str]); 20] = [
    ("enterprises", &["name"]),
    ("platforms", &["name", "host"]),
    ("projects", &["title", "poser", "solvers"]),
    ("contracts", &["seller_name", "buyer_name"]),
    ("achievements", &["title", "source_org", "receiver"]),
    ("teams", &["name", "leader", "host"]),
    ("specialists", &["name", "host"]),
    ("villages", &["name", "township"]),
    ("commissioners", &["name", "org", "village", "township"]),
    ("carriers", &["name"]),
    ("incubators", &["name"]),
    ("institutions", &["name"]),
    ("events", &["organizer"]),
    ("attracted_projects", &["name", "team"]),
    ("contests", &["project", "entrant"]),
    ("enclaves", &["name", "operator"]),
    ("loans", &["bank"]),
    ("insurance", &["insurer"]),
    ("funds", &["name", "manager"]),
    ("products", &["name"]),
];

#[test]
fn names_have_no_digits_or_placeholders() {
    let demo = Demo::new();
    for (code, fields) in NAMED {
        let def = reg::by_code(code).unwrap();
        let recs = demo.of(def);
        assert!(!recs.is_empty(), "{code} is empty");
        for r in recs {
            for f in fields {
                let v = demo.text(def, r, f);
                // A research institute's number is part of its name
                // (第四十一研究所), written in Chinese.
                assert!(!v.chars().any(|c| c.is_ascii_digit()), "{code}.{f}: {v}");
                for placeholder in [
                    "依托企业",
                    "买方",
                    "承接企业",
                    "招引项目",
                    "参赛项目",
                    "专员",
                    "某",
                ] {
                    if placeholder == "某" && v.contains("（演示）") {
                        // The demo bank account's own bank.
                        continue;
                    }
                    assert!(!v.contains(placeholder), "{code}.{f}: {v}");
                }
            }
        }
    }
    // Event names carry the year and a session number in Chinese only.
    let ev = demo.of(&reg::EVENTS);
    for r in ev {
        let name = demo.text(&reg::EVENTS, r, "name");
        let digits: String = name.chars().filter(|c| c.is_ascii_digit()).collect();
        assert_eq!(digits.len(), 4, "only the year: {name}");
    }
}

#[test]
fn universities_are_organisations_not_enterprises() {
    let demo = Demo::new();
    for r in demo.of(&reg::ENTERPRISES) {
        let name = demo.text(&reg::ENTERPRISES, r, "name");
        assert!(!kc_demo::names::is_organisation(&name), "{name}");
    }
    let c = &reg::CONTRACTS;
    let mut universities = 0;
    for r in demo.of(c) {
        for side in ["seller", "buyer"] {
            let name = demo.text(c, r, &format!("{side}_name"));
            let kind = demo.text(c, r, &format!("{side}_type"));
            let university = kc_demo::names::LOCAL_UNIVERSITIES
                .iter()
                .chain(&kc_demo::names::OUTSIDE_UNIVERSITIES)
                .any(|u| *u == name);
            if university {
                universities += 1;
                assert_eq!(kind, "高校", "{name}");
            }
            if kind == "企业" {
                assert!(!kc_demo::names::is_organisation(&name), "{name} as 企业");
            }
        }
    }
    assert!(universities > 1000, "{universities}");
}

#[test]
fn areas_differ() {
    let demo = Demo::new();
    let area_of: HashMap<String, String> = demo
        .of(&reg::ENTERPRISES)
        .iter()
        .map(|r| {
            (
                demo.text(&reg::ENTERPRISES, r, "credit_code"),
                demo.text(&reg::ENTERPRISES, r, "area"),
            )
        })
        .collect();
    let mut hte: HashMap<String, usize> = HashMap::new();
    let q = &reg::QUALIFICATIONS;
    let end_2024 = NaiveDate::from_ymd_opt(2024, 12, 31).unwrap();
    let mut held = std::collections::HashSet::new();
    for r in demo.of(q) {
        let issued = matches!(r.get(q, "issued_on"), Value::Date(d) if *d <= end_2024);
        if demo.text(q, r, "kind") == "hte" && issued {
            held.insert(demo.text(q, r, "credit_code"));
        }
    }
    for code in &held {
        *hte.entry(area_of[code].clone()).or_default() += 1;
    }
    let mut counts: Vec<usize> = hte.values().copied().collect();
    counts.sort_unstable();
    counts.dedup();
    assert_eq!(
        counts.len(),
        hte.len(),
        "two areas have as many 高企: {hte:?}"
    );
    let most = hte.iter().max_by_key(|(_, n)| **n).unwrap().0;
    assert_eq!(most, "gaoxin", "the high-tech zone leads: {hte:?}");

    let mut villages: HashMap<String, usize> = HashMap::new();
    for r in demo.of(&reg::VILLAGES) {
        *villages
            .entry(demo.text(&reg::VILLAGES, r, "area"))
            .or_default() += 1;
    }
    let mut v: Vec<usize> = villages.values().copied().collect();
    assert_eq!(v.iter().sum::<usize>(), 690, "the city's total as before");
    v.sort_unstable();
    v.dedup();
    assert_eq!(v.len(), villages.len(), "{villages:?}");
    assert!(
        villages["huaiyuan"] > villages["longzihu"] && villages["longzihu"] > villages["gaoxin"]
    );
}

#[test]
fn events_have_deals_and_finance_registries_are_filled() {
    let demo = Demo::new();
    let e = &reg::EVENTS;
    for r in demo.of(e) {
        let deals = demo.text(e, r, "deals").parse::<i64>().unwrap();
        let range = match demo.text(e, r, "type").as_str() {
            "成果路演" => 2..=8,
            "双创汇" => 1..=5,
            "供需对接" => 3..=10,
            _ => 6..=30,
        };
        assert!(
            range.contains(&deals),
            "{deals} deals at {}",
            demo.text(e, r, "name")
        );
        assert!(!demo.text(e, r, "participants").is_empty());
    }
    let ins = demo.of(&reg::INSURANCE);
    assert!(ins.len() > 50, "{}", ins.len());
    let kinds: std::collections::HashSet<String> = ins
        .iter()
        .map(|r| demo.text(&reg::INSURANCE, r, "kind"))
        .collect();
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert!(demo.of(&reg::FUNDS).len() >= 5);
    let inv = demo.of(&reg::FUND_INVESTMENTS);
    assert!(inv.len() >= 30, "{}", inv.len());
    // Every investment goes to a registered firm.
    let firms: std::collections::HashSet<String> = demo
        .of(&reg::ENTERPRISES)
        .iter()
        .map(|r| demo.text(&reg::ENTERPRISES, r, "credit_code"))
        .collect();
    assert!(inv.iter().all(|r| firms.contains(&demo.text(
        &reg::FUND_INVESTMENTS,
        r,
        "credit_code"
    ))));
}

#[test]
fn print_samples() {
    // Not an assertion: `cargo test -- --nocapture print_samples` shows a
    // few records of each registry to read.
    let demo = Demo::new();
    let mut codes: Vec<&&str> = demo.recs.keys().collect();
    codes.sort();
    for code in codes {
        let def = reg::by_code(code).unwrap();
        let recs = demo.of(def);
        println!("== {code}: {}", recs.len());
        for r in recs.iter().step_by((recs.len() / 4).max(1)).take(4) {
            println!("  {}", r.to_json(def));
        }
    }
}
