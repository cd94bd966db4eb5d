//! Import and export: every registry round-trips through XLSX and CSV; bad
//! files and bad rows get a row-level report (data-driven cases below).

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use kc_domain::registry::{self, CellContext, Record, RegistryDef};
use kc_io::{FileKind, IoError, check_sheet, read, write_csv, write_xlsx};

fn plan() -> kc_domain::Plan {
    kc_planfile::parse_plan("b", include_str!("../../../plans/bengbu-2023-2025.toml")).unwrap()
}

fn demo() -> HashMap<&'static str, Vec<Record>> {
    let plan = plan();
    let mut by: HashMap<&'static str, Vec<Record>> = HashMap::new();
    kc_demo::registries::generate(
        &plan,
        kc_demo::registries::Scale::City,
        3,
        NaiveDate::from_ymd_opt(2025, 9, 30).unwrap(),
        |d, r| {
            let v = by.entry(d.code).or_default();
            if v.len() < 300 {
                v.push(r.clone());
            }
        },
    );
    by
}

fn check(def: &RegistryDef, kind: FileKind, bytes: &[u8]) -> Result<kc_io::Report, IoError> {
    let plan = plan();
    let cx = CellContext::new(&plan, kc_planfile::default_catalogue());
    let sheet = read(kind, bytes)?;
    check_sheet(def, &sheet, &cx, &|_| true)
}

#[test]
fn every_registry_round_trips_through_xlsx_and_csv() {
    let data = demo();
    for def in registry::all() {
        let Some(recs) = data.get(def.code) else {
            continue;
        };
        for kind in [FileKind::Xlsx, FileKind::Csv] {
            let bytes = match kind {
                FileKind::Xlsx => write_xlsx(def, recs).unwrap(),
                FileKind::Csv => write_csv(def, recs),
            };
            let report = check(def, kind, &bytes).unwrap();
            assert!(
                report.errors.is_empty(),
                "{} {kind:?}: {:?}",
                def.code,
                &report.errors[..report.errors.len().min(3)]
            );
            assert_eq!(&report.good, recs, "{} {kind:?}", def.code);
        }
    }
}

const HEADER: &str = "统一社会信用代码,企业名称,所在地区,规模以上,成立日期\n";

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

#[test]
fn gbk_and_bom_csv_are_read() {
    let body = format!("{HEADER}91110000802100433B,甲公司,龙子湖区,是,2020/5/1\n");
    for bytes in [
        gbk(&body),
        [b"\xEF\xBB\xBF".as_slice(), body.as_bytes()].concat(),
        body.clone().into_bytes(),
    ] {
        let r = check(&registry::ENTERPRISES, FileKind::Csv, &bytes).unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(
            r.good[0].get(&registry::ENTERPRISES, "name").display(),
            "甲公司"
        );
        assert_eq!(
            r.good[0].get(&registry::ENTERPRISES, "area").display(),
            "longzihu"
        );
    }
}

/// (what, CSV body after the header, row, column, reason fragment)
const BAD_ROWS: &[(&str, &str, usize, &str, &str)] = &[
    (
        "check character",
        "91110000802100433A,甲,龙子湖区,是,2020-05-01",
        2,
        "统一社会信用代码",
        "校验位错误",
    ),
    (
        "short code",
        "9111000080210043,甲,龙子湖区,是,2020-05-01",
        2,
        "统一社会信用代码",
        "应为 18 位",
    ),
    (
        "bad letter",
        "9111000080210043OB,甲,龙子湖区,是,2020-05-01",
        2,
        "统一社会信用代码",
        "不是有效字符",
    ),
    (
        "unknown area",
        "91110000802100433B,甲,合肥市,是,2020-05-01",
        2,
        "所在地区",
        "不是本市的地区",
    ),
    (
        "date out of range",
        "91110000802100433B,甲,龙子湖区,是,1800-01-01",
        2,
        "成立日期",
        "不是有效日期",
    ),
    (
        "impossible date",
        "91110000802100433B,甲,龙子湖区,是,2023-02-30",
        2,
        "成立日期",
        "不是有效日期",
    ),
    (
        "bad boolean",
        "91110000802100433B,甲,龙子湖区,也许,2020-05-01",
        2,
        "规模以上",
        "应为“是”或“否”",
    ),
    (
        "missing name",
        "91110000802100433B,,龙子湖区,是,2020-05-01",
        2,
        "企业名称",
        "必填项",
    ),
    (
        "control character",
        "91110000802100433B,甲\u{7}公司,龙子湖区,是,2020-05-01",
        2,
        "企业名称",
        "控制字符",
    ),
];

#[test]
fn bad_rows_are_reported_with_row_column_and_reason() {
    for (what, row, want_row, col, reason) in BAD_ROWS {
        let body = format!("{HEADER}{row}\n");
        let r = check(&registry::ENTERPRISES, FileKind::Csv, body.as_bytes()).unwrap();
        assert!(r.good.is_empty(), "{what}: accepted");
        assert_eq!(r.rejected, 1, "{what}");
        let e = &r.errors[0];
        assert_eq!(
            (e.row, e.column.as_str()),
            (*want_row, *col),
            "{what}: {e:?}"
        );
        assert!(e.reason.contains(reason), "{what}: {e:?}");
    }
}

#[test]
fn overlong_text_is_refused_and_markup_is_kept_as_text() {
    let long = format!(
        "{HEADER}91110000802100433B,{},龙子湖区,是,2020-05-01\n",
        "甲".repeat(101)
    );
    let r = check(&registry::ENTERPRISES, FileKind::Csv, long.as_bytes()).unwrap();
    assert!(r.errors[0].reason.contains("超过 100 字"), "{:?}", r.errors);
    // Markup is data like any other text; pages escape it when shown.
    let html =
        format!("{HEADER}91110000802100433B,<script>alert(1)</script>,龙子湖区,是,2020-05-01\n");
    let r = check(&registry::ENTERPRISES, FileKind::Csv, html.as_bytes()).unwrap();
    assert_eq!(
        r.good[0].get(&registry::ENTERPRISES, "name").display(),
        "<script>alert(1)</script>"
    );
}

#[test]
fn duplicates_negative_amounts_and_rules_between_fields() {
    let header = "登记编号,合同类型,卖方名称,卖方所在地区,卖方类型,买方名称,买方所在地区,买方类型,登记日期,合同金额（万元）,技术交易额（万元）\n";
    let good = "C1,技术开发,甲,市外,高校,乙,龙子湖区,企业,2024-03-01,100,80";
    let rows = [
        good,
        "C1,技术开发,甲,市外,高校,乙,龙子湖区,企业,2024-03-01,100,80",
        "C2,技术开发,甲,市外,高校,乙,龙子湖区,企业,2024-03-01,-5,0",
        "C3,技术开发,甲,市外,高校,乙,龙子湖区,企业,2024-03-01,100,120",
        "C4,技术买卖,甲,市外,高校,乙,龙子湖区,企业,2024-03-01,100,10",
        ",,,,,,,,,,",
    ];
    let body = format!("{header}{}\n", rows.join("\n"));
    let r = check(&registry::CONTRACTS, FileKind::Csv, body.as_bytes()).unwrap();
    assert_eq!(r.good.len(), 1);
    assert_eq!(r.rows, 5, "the blank row is skipped");
    let reasons: Vec<(usize, &str)> = r
        .errors
        .iter()
        .map(|e| (e.row, e.reason.as_str()))
        .collect();
    assert!(
        reasons
            .iter()
            .any(|(row, why)| *row == 3 && why.contains("与第 2 行是同一条记录")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(row, why)| *row == 4 && why.contains("不能为负数")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(row, why)| *row == 5 && why.contains("大于合同金额")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(row, why)| *row == 6 && why.contains("不是可选值")),
        "{reasons:?}"
    );
}

#[test]
fn qualifications_need_a_registered_enterprise_and_their_dates() {
    let plan = plan();
    let cx = CellContext::new(&plan, kc_planfile::default_catalogue());
    let body = "统一社会信用代码,资质类型,证书编号或入库登记编号,认定日期,评价年度\n\
                91110000802100433B,高新技术企业,GR1,2022-10-18,\n\
                91440300708461136T,高新技术企业,GR2,2022-10-18,\n\
                91110000802100433B,科技型中小企业,T1,,\n\
                91110000802100433B,瞪羚企业,X1,2022-10-18,\n";
    let sheet = read(FileKind::Csv, body.as_bytes()).unwrap();
    let known: HashSet<&str> = ["91110000802100433B"].into_iter().collect();
    let r = check_sheet(&registry::QUALIFICATIONS, &sheet, &cx, &|c| {
        known.contains(c)
    })
    .unwrap();
    assert_eq!(r.good.len(), 1);
    let why: Vec<&str> = r.errors.iter().map(|e| e.reason.as_str()).collect();
    assert!(why[0].contains("不在企业登记库中"), "{why:?}");
    assert!(why[1].contains("须填写评价年度"), "{why:?}");
    assert!(why[2].contains("不是已定义的资质类型"), "{why:?}");
}

#[test]
fn bad_files_are_refused_whole() {
    // Not a spreadsheet at all.
    assert!(matches!(
        read(FileKind::Xlsx, b"hello"),
        Err(IoError::Xlsx(_))
    ));
    // Neither UTF-8 nor GB18030.
    assert!(matches!(
        read(FileKind::Csv, &[0xFF, 0xFF, 0x41, 0xFF]),
        Err(IoError::Encoding)
    ));
    // Empty files and sheets.
    assert!(matches!(read(FileKind::Csv, b""), Err(IoError::Empty)));
    assert!(matches!(read(FileKind::Csv, b",,\n"), Err(IoError::Empty)));
    let mut wb = rust_xlsxwriter::Workbook::new();
    wb.add_worksheet();
    let empty = wb.save_to_buffer().unwrap();
    assert!(matches!(read(FileKind::Xlsx, &empty), Err(IoError::Empty)));
    // Required columns missing, or one column twice.
    let e = check(
        &registry::ENTERPRISES,
        FileKind::Csv,
        "企业名称\n甲\n".as_bytes(),
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("统一社会信用代码") && e.to_string().contains("所在地区"),
        "{e}"
    );
    let twice = HEADER.replace("企业名称", "所在地区");
    let e = check(&registry::ENTERPRISES, FileKind::Csv, twice.as_bytes()).unwrap_err();
    assert!(matches!(e, IoError::DuplicateColumns(_)), "{e}");
    assert_eq!(FileKind::from_name("a.xls"), None);
    assert_eq!(FileKind::from_name("企业.XLSX"), Some(FileKind::Xlsx));
}

#[test]
fn merged_cells_and_formulas_in_xlsx() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["统一社会信用代码", "企业名称", "所在地区"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "91110000802100433B").unwrap();
    // A name merged over two rows: only the first row holds it.
    ws.merge_range(1, 1, 2, 1, "甲公司", &rust_xlsxwriter::Format::new())
        .unwrap();
    ws.write_string(1, 2, "龙子湖区").unwrap();
    ws.write_string(2, 0, "91440300708461136T").unwrap();
    ws.write_string(2, 2, "蚌山区").unwrap();
    // A formula with its cached result is read as the result.
    ws.write_formula(
        3,
        0,
        rust_xlsxwriter::Formula::new("=\"91110108551385082Q\"").set_result("91110108551385082Q"),
    )
    .unwrap();
    ws.write_string(3, 1, "丙公司").unwrap();
    ws.write_string(3, 2, "禹会区").unwrap();
    let bytes = wb.save_to_buffer().unwrap();
    let r = check(&registry::ENTERPRISES, FileKind::Xlsx, &bytes).unwrap();
    assert_eq!(r.good.len(), 2, "{:?}", r.errors);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(
        (r.errors[0].row, r.errors[0].column.as_str()),
        (3, "企业名称")
    );
}

/// docs/registries.md lists the fields exactly as the schema defines them.
/// `KECHUANG_UPDATE_DOCS=1 cargo test -p kc-io docs_` rewrites the section.
#[test]
fn docs_list_every_field() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/registries.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let (head, rest) = doc
        .split_once("<!-- fields:begin -->\n")
        .expect("begin marker");
    let (_, tail) = rest.split_once("<!-- fields:end -->").expect("end marker");
    let want = format!(
        "{head}<!-- fields:begin -->\n{}<!-- fields:end -->{tail}",
        kc_io::fields_markdown()
    );
    if std::env::var("KECHUANG_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        std::fs::write(path, &want).unwrap();
        return;
    }
    assert!(
        doc == want,
        "docs/registries.md is out of date: run KECHUANG_UPDATE_DOCS=1 cargo test -p kc-io docs_"
    );
}

/// Contradictory yearly figures are kept with a warning (issue 16): the
/// pre-check reports them as 数据矛盾, which it could not if the row were
/// refused. Row-level faults are still refused.
#[test]
fn contradictory_figures_are_kept_with_a_warning() {
    let header = "统一社会信用代码,年度,营业收入（万元）,研发费用（万元）,从业人员（人）,科技人员（人）,境内研发费用（万元）,高新技术产品收入（万元）,总收入（万元，营业收入与其他收入之和）\n";
    let rows = [
        // Consistent.
        "91340300MA2N0A0A1M,2024,10000,500,200,40,500,7000,10500",
        // S&T staff above all staff.
        "91340300MA2N0A0B3W,2024,10000,500,20,40,500,7000,10500",
        // In-China R&D above all R&D, and high-tech income above total income.
        "91340300MA2N0A0C54,2024,10000,500,200,40,600,11000,10500",
        // Revenue above total income.
        "91340300MA2N0A0D7B,2024,10000,500,200,40,500,7000,9000",
        // A text in a number cell is still refused.
        "91340300MA2N0A0E9J,2024,很多,500,200,40,500,7000,10500",
    ];
    let body = format!("{header}{}\n", rows.join("\n"));
    let r = check(&registry::FIGURES, FileKind::Csv, body.as_bytes()).unwrap();
    let refused: Vec<usize> = r.errors.iter().map(|e| e.row).collect();
    assert_eq!(refused, vec![6], "{:?}", r.errors);
    assert_eq!(r.good.len(), 4);
    let warned: Vec<(usize, &str)> = r
        .warnings
        .iter()
        .map(|w| (w.row, w.reason.as_str()))
        .collect();
    assert_eq!(warned.len(), 4, "{warned:?}");
    for (row, words) in [
        (3, "科技人员 40 大于从业人员 20"),
        (4, "境内研发费用 600 大于研发费用 500"),
        (4, "高新技术产品收入 11000 大于总收入 10500"),
        (5, "营业收入 10000 大于总收入 9000"),
    ] {
        assert!(
            warned.iter().any(|(r, w)| *r == row && w.contains(words)),
            "row {row} {words}: {warned:?}"
        );
    }
}
