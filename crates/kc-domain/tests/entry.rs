//! Values typed in by people: every bad input is caught, field by field.

use chrono::NaiveDate;
use kc_domain::Code;
use kc_domain::entry::{RawEntry, check_entry};
use kc_domain::period::{DateRange, Frequency};
use kc_domain::plan::*;

fn plan() -> Plan {
    let ind = |code: &str, additive: bool, source: DataSource| Indicator {
        code: Code::parse(code).unwrap(),
        name: code.to_string(),
        unit: "家".into(),
        definition: String::new(),
        department: None,
        source,
        measure: Measure::Stock,
        frequency: Frequency::Quarterly,
        additive,
        decimals: 0,
        due_days: None,
        area_reports: None,
        resets_yearly: false,
        min: None,
        max: None,
    };
    Plan {
        code: Code::parse("p").unwrap(),
        name: "p".into(),
        short_name: None,
        city: "某市".into(),
        level: None,
        issuer: None,
        follows: None,
        period: DateRange {
            start: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            end: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        },
        status: PlanStatus::Final,
        source: None,
        levels: vec!["工程".into()],
        areas: vec![Area {
            code: Code::parse("a1").unwrap(),
            name: "甲区".into(),
            kind: "区".into(),
            aliases: Vec::new(),
        }],
        departments: vec![Department {
            code: Code::parse("kjj").unwrap(),
            name: "市科技局".into(),
        }],
        every_node: EveryNodeRule::default(),
        indicators: vec![
            ind("count", true, DataSource::Reported),
            ind("growth", false, DataSource::Reported),
            Indicator {
                unit: "%".into(),
                frequency: Frequency::Yearly,
                ..ind("share", false, DataSource::Reported)
            },
            Indicator {
                unit: "%".into(),
                min: Some((-100).into()),
                max: Some(1000.into()),
                ..ind("rate", false, DataSource::Reported)
            },
            ind(
                "ratio",
                false,
                DataSource::Formula {
                    expr: "count / 2".into(),
                },
            ),
        ],
        goals: vec![],
        nodes: vec![],
        targets: vec![],
        status_rule: StatusRule::default(),
        reporting: Default::default(),
        ranking: None,
        market: Default::default(),
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 10, 20).unwrap()
}

fn raw(indicator: &str, scope: &str, period: &str, value: &str) -> RawEntry {
    RawEntry {
        indicator: indicator.into(),
        scope: scope.into(),
        period: period.into(),
        value: value.into(),
        note: String::new(),
        vintage: String::new(),
    }
}

#[test]
fn good_entries() {
    let p = plan();
    for (r, value) in [
        (raw("count", "", "2025Q3", "1,200"), 1200.0),
        (raw("count", "area:a1", "2024", "１２"), 12.0),
        (raw("count", "dept:kjj", "2025Q2", " 7 "), 7.0),
        (raw("growth", "city", "2023", "-3.5"), -3.5),
        // A share's last allowed values, exactly.
        (raw("share", "city", "2024", "100"), 100.0),
        (raw("share", "city", "2024", "0"), 0.0),
        (raw("share", "city", "2024", "2.5%"), 2.5),
        // A rate the plan allows beyond a share's range.
        (raw("rate", "city", "2024", "-5"), -5.0),
        (raw("rate", "city", "2024", "250"), 250.0),
    ] {
        let e = check_entry(&p, &r, today()).unwrap_or_else(|e| panic!("{r:?}: {e:?}"));
        assert_eq!(e.value, value);
    }
}

#[test]
fn bad_entries_name_their_field() {
    let p = plan();
    let long_note = "长".repeat(2001);
    let cases: Vec<(RawEntry, &[&str])> = vec![
        (raw("", "city", "2025Q1", "1"), &["indicator"]),
        (raw("nope", "city", "2025Q1", "1"), &["indicator"]),
        (raw("ratio", "city", "2025Q1", "1"), &["indicator"]),
        (raw("count", "area:zz", "2025Q1", "1"), &["scope"]),
        (raw("count", "dept:zz", "2025Q1", "1"), &["scope"]),
        (raw("count", "province", "2025Q1", "1"), &["scope"]),
        (raw("count", "city", "", "1"), &["period"]),
        (raw("count", "city", "2025Q5", "1"), &["period"]),
        (raw("count", "city", "2022Q4", "1"), &["period"]),
        (raw("count", "city", "2026", "1"), &["period"]),
        (raw("count", "city", "2025Q4", "1"), &["period"]),
        (raw("count", "city", "2025Q1", ""), &["value"]),
        (raw("count", "city", "2025Q1", "abc"), &["value"]),
        (raw("count", "city", "2025Q1", "NaN"), &["value"]),
        (raw("count", "city", "2025Q1", "1e400"), &["value"]),
        (raw("count", "city", "2025Q1", "-1"), &["value"]),
        // Issue 13: a share of 250 % or −5 %, a yearly figure for a quarter
        // or a month, a quarterly one for a month.
        (raw("share", "city", "2024", "250"), &["value"]),
        (raw("share", "city", "2024", "-5"), &["value"]),
        (raw("share", "city", "2024", "100.000001"), &["value"]),
        (raw("share", "city", "2025Q2", "5"), &["period"]),
        (raw("share", "city", "2025-06", "5"), &["period"]),
        (raw("count", "city", "2025-06", "5"), &["period"]),
        (raw("rate", "city", "2024", "1000.5"), &["value"]),
        (raw("rate", "city", "2024", "-100.1"), &["value"]),
        (
            raw("nope", "area:zz", "x", "y"),
            &["indicator", "scope", "period", "value"],
        ),
        (
            RawEntry {
                note: long_note,
                ..raw("count", "city", "2025Q1", "1")
            },
            &["note"],
        ),
        (
            RawEntry {
                vintage: "final".into(),
                ..raw("count", "city", "2025Q1", "1")
            },
            &["vintage"],
        ),
    ];
    for (r, fields) in cases {
        let errs = check_entry(&p, &r, today()).expect_err(&format!("{r:?} accepted"));
        let got: Vec<&str> = errs.iter().map(|e| e.field).collect();
        assert_eq!(got, fields, "{r:?}");
        assert!(errs.iter().all(|e| !e.message.is_empty()));
    }
}
