//! Formula injection in CSV (issue 13, item 7): every CSV export writes a
//! cell a spreadsheet would run as a formula with a leading `'`; import takes
//! exactly that `'` off again; plain numbers stay numbers. Data-driven.

use std::collections::HashMap;

use kc_domain::registry::{self, CellContext, Value};
use kc_io::{FileKind, check_sheet, csv_table, for_export, from_export, read, write_csv};

/// (cell, as the CSV export writes it)
const CASES: &[(&str, &str)] = &[
    ("=1+1", "'=1+1"),
    (
        "=HYPERLINK(\"http://evil.example\",\"点击\")",
        "'=HYPERLINK(\"http://evil.example\",\"点击\")",
    ),
    ("+86 138", "'+86 138"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-", "'-"),
    ("'=1+1", "''=1+1"),
    ("''@x", "'''@x"),
    // Plain numbers: a spreadsheet reads them as numbers, not formulas.
    ("-5", "-5"),
    ("+5", "+5"),
    ("-3.25", "-3.25"),
    ("-1e3", "-1e3"),
    ("-.5", "-.5"),
    // Nothing to do.
    ("'-5", "'-5"),
    ("'hello", "'hello"),
    ("蚌埠市=1", "蚌埠市=1"),
    (" =1", " =1"),
    ("", ""),
    ("2024-05-01", "2024-05-01"),
];

#[test]
fn cells_are_neutralised_and_come_back_exactly() {
    for (cell, exported) in CASES {
        assert_eq!(for_export(cell), *exported, "{cell:?}");
        assert_eq!(from_export(exported), *cell, "{exported:?}");
    }
}

#[test]
fn every_csv_export_goes_through_the_one_writer() {
    let bytes = csv_table([["=1+1", "-5", "@x"]]);
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text, "\u{feff}'=1+1,-5,'@x\n");
    // Read back: the same cells.
    let back = read(FileKind::Csv, format!("a,b,c\n{}", &text[3..]).as_bytes()).unwrap();
    assert_eq!(back.rows[0].1, ["=1+1", "-5", "@x"]);
}

fn plan() -> kc_domain::Plan {
    kc_planfile::parse_plan("b", include_str!("../../../plans/bengbu-2023-2025.toml")).unwrap()
}

/// An enterprise whose name is a formula, an enterprise's negative
/// net assets: CSV export, then import, gives the same records; the formula
/// is written with its `'`, the negative number bare (a number to a
/// spreadsheet) and it reads back as a number.
#[test]
fn registry_csv_round_trips_formula_text_and_negative_numbers() {
    let plan = plan();
    let cx = CellContext::new(&plan, kc_planfile::default_catalogue());
    let cases: [(&registry::RegistryDef, &str, Vec<Value>, &str); 2] = [
        (
            &registry::ENTERPRISES,
            "name",
            ["=HYPERLINK(\"http://evil.example\")", "@cmd", "'=1+1"]
                .map(|t| Value::Text(t.into()))
                .to_vec(),
            "\"'=HYPERLINK(\"\"http://evil.example\"\")\"",
        ),
        (
            &registry::FIGURES,
            "net_assets",
            ["-5", "-0.25", "-1200"]
                .map(|t| Value::Dec(t.parse().unwrap()))
                .to_vec(),
            ",-5,",
        ),
    ];
    for (def, field, values, written) in cases {
        let mut recs = Vec::new();
        kc_demo::registries::generate(
            &plan,
            kc_demo::registries::Scale::City,
            5,
            chrono::NaiveDate::from_ymd_opt(2025, 9, 30).unwrap(),
            |d, r| {
                if d.code == def.code && recs.len() < values.len() {
                    recs.push(r.clone());
                }
            },
        );
        assert_eq!(recs.len(), values.len(), "demo records of {}", def.code);
        let i = def.fields.iter().position(|f| f.code == field).unwrap();
        for (r, v) in recs.iter_mut().zip(&values) {
            r.values[i] = v.clone();
        }
        let bytes = write_csv(def, &recs);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains(written), "{written} in {text}");
        assert!(!text.contains(",=") && !text.contains(",@"), "{text}");
        assert!(!text.contains(",'-"), "numbers are not prefixed: {text}");
        let sheet = read(FileKind::Csv, &bytes).unwrap();
        let report = check_sheet(def, &sheet, &cx, &|_| true).unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.good, recs, "{}", def.code);
    }
}

/// What import keeps of a typed-in cell that starts with a formula
/// character: the text, trimmed as every cell is, never a computed value.
#[test]
fn formula_text_imports_as_text() {
    let plan = plan();
    let cx = CellContext::new(&plan, kc_planfile::default_catalogue());
    let def = &registry::ENTERPRISES;
    let cases: HashMap<&str, &str> = [
        ("\t=1+1", "=1+1"),
        ("'=1+1", "=1+1"),
        ("\"=1+1\"", "=1+1"),
        ("'\t=1+1", "=1+1"),
        ("''=1+1", "'=1+1"),
    ]
    .into_iter()
    .collect();
    for (typed, stored) in cases {
        let csv =
            format!("统一社会信用代码,企业名称,所在地区\n91110000802100433B,{typed},龙子湖区\n");
        let sheet = read(FileKind::Csv, csv.as_bytes()).unwrap();
        let report = check_sheet(def, &sheet, &cx, &|_| true).unwrap();
        assert!(report.errors.is_empty(), "{typed:?}: {:?}", report.errors);
        assert_eq!(
            report.good[0].get(def, "name").display(),
            stored,
            "{typed:?}"
        );
        // And exported again it is neutralised.
        let out = String::from_utf8(write_csv(def, &report.good)).unwrap();
        assert!(
            out.contains(&format!(",{},", for_export(stored))) || out.contains("\"'"),
            "{out}"
        );
    }
}
