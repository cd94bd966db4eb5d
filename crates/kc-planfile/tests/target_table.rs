//! The target table (目标表): a plan written out as a table and read back
//! into a new plan gives the same targets; an edited row gives the plan the
//! equivalent hand-edited TOML gives; a bad table is refused row by row.

use kc_domain::Plan;
use kc_domain::allocation::Cell;
use kc_domain::target_table::{self as table, TargetCell};
use kc_planfile::{NewPlan, check_plan, parse_plan, plan_from_table, with_target};
use serde_json::{Value, json};

fn plan_text(name: &str) -> String {
    let path = format!("{}/../../plans/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The table as a spreadsheet reader hands it over: text cells with row
/// numbers (the header is row 1).
fn as_sheet(plan: &Plan) -> (Vec<String>, Vec<(usize, Vec<String>)>) {
    let rows = table::table(plan)
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let cells = r
                .into_iter()
                .map(|c| match c {
                    Cell::Text(t) => t,
                    Cell::Number(n) => kc_domain::plan::fmt_num(n, 6),
                    Cell::Empty => String::new(),
                })
                .collect();
            (i + 2, cells)
        })
        .collect();
    (table::headers(plan), rows)
}

/// What the target table carries of a plan: every target's task,
/// indicator, kind, value, unit, deadline, baseline, year-end checkpoints
/// and comparison fields, and the tasks' names, units and places.
fn normalised(plan: &Plan) -> Value {
    let targets: Vec<Value> = plan
        .targets
        .iter()
        .map(|t| {
            json!({
                "code": t.code, "name": t.name, "node": t.node, "indicator": t.indicator,
                "kind": t.kind, "value": t.value, "unit": t.unit, "deadline": t.deadline,
                "strict": t.strict, "multiple": t.multiple, "pending": t.pending,
                "baseline": t.baseline.as_ref().map(|b| (b.value, b.date)),
                "checkpoints": t.checkpoints.iter().map(|c| (c.date, c.value)).collect::<Vec<_>>(),
                "compare": t.compare, "peers": t.peers, "universe": t.universe, "note": t.note,
            })
        })
        .collect();
    let nodes: Vec<Value> = plan
        .nodes
        .iter()
        .map(|n| json!({"code": n.code, "name": n.name, "parent": n.parent, "lead": n.lead, "co": n.co}))
        .collect();
    json!({ "targets": targets, "nodes": nodes })
}

fn same_header(plan: &Plan) -> NewPlan {
    NewPlan {
        code: plan.code.clone(),
        name: plan.name.clone(),
        start: plan.period.start,
        end: plan.period.end,
    }
}

#[test]
fn a_plan_goes_through_its_target_table_unchanged() {
    for name in ["examples/chuzhou-2024-2027.toml", "bengbu-2023-2025.toml"] {
        let text = plan_text(name);
        let plan = parse_plan(name, &text).expect("the plan reads");
        let (headers, rows) = as_sheet(&plan);
        let read = table::read(&plan, &headers, &rows).expect("its own table reads");
        assert_eq!(read.len(), plan.targets.len(), "{name}: one row per target");
        let new_text = plan_from_table(name, &text, &same_header(&plan), &read).expect("writes");
        let again = check_plan(name, &new_text)
            .unwrap_or_else(|e| panic!("{name}: the plan from the table is valid:\n{e}"))
            .plan;
        let (a, b) = (normalised(&plan), normalised(&again));
        for (x, y) in a["targets"]
            .as_array()
            .unwrap()
            .iter()
            .zip(b["targets"].as_array().unwrap())
        {
            assert_eq!(
                x, y,
                "{name}: a target changed on the way through the table"
            );
        }
        // Tasks without targets of their own under them are not in the table.
        for n in b["nodes"].as_array().unwrap() {
            let before = a["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["code"] == n["code"])
                .unwrap_or_else(|| panic!("{name}: task {} was made up", n["code"]));
            assert_eq!(
                before, n,
                "{name}: a task changed on the way through the table"
            );
        }
    }
}

const HEAD: &str = r#"
[plan]
code = "demo-frame"
name = "示例"
city = "示例市"
start = 2026-01-01
end = 2028-12-31
levels = ["任务"]

[[area]]
code = "east"
name = "东区"

[[area]]
code = "west"
name = "西区"

[[department]]
code = "kjj"
name = "市科技局"

[[department]]
code = "tjj"
name = "市统计局"

[[indicator]]
code = "hte"
name = "高新技术企业数"
unit = "家"
department = "kjj"
measure = "stock"
frequency = "yearly"
additive = true
decimals = 0
"#;

/// The frame a table is imported on: a valid plan with a task and a
/// target of its own, which the new plan does not carry.
const OLD_TARGET: &str = r#"
[[node]]
code = "M0"
name = "旧任务"

[[target]]
code = "T0"
name = "旧目标"
node = "M0"
indicator = "hte"
kind = "stock"
target = 800
"#;

fn frame_text() -> String {
    format!("{HEAD}{OLD_TARGET}")
}

/// A table typed by hand, and the TOML a careful engineer would write for
/// the same plan: both read to the same targets and tasks.
#[test]
fn a_typed_table_equals_the_equivalent_toml() {
    let frame = parse_plan("frame.toml", &frame_text()).expect("frame reads");
    let headers: Vec<String> = "目标编号,目标名称,所属任务编号,所属任务名称,指标编号,目标类型,计量单位,基期值,基期日期,2026年目标,2027年目标,期末目标,截止日期,要求,牵头单位,配合单位,说明"
        .split(',')
        .map(String::from)
        .collect();
    let row = |n: usize, s: &str| (n, s.split(',').map(String::from).collect::<Vec<_>>());
    let rows = vec![
        row(
            2,
            "T1,高新技术企业数,M1,企业培育,hte,期末存量,家,500,2025-12-31,600,,翻一番,,超过,市科技局,东区、西区,",
        ),
        row(
            3,
            "T2,技术合同成交额,M1,,,年度总量,亿元,80,2025-12-31,,,120,2028-12-31,达到,市科技局,,按当年数",
        ),
        row(
            4,
            "T3,每年举办路演,M2,成果转化,,每年,场,,,,,4—6,,,市科技局、市统计局,,",
        ),
    ];
    let read = table::read(&frame, &headers, &rows).expect("the table reads");
    assert_eq!(read[0].target, TargetCell::Multiple("翻一番".into()));
    let new = NewPlan {
        code: kc_domain::code::Code::parse("demo-2026-2028").unwrap(),
        name: "示例规划".into(),
        start: frame.period.start,
        end: frame.period.end,
    };
    let from_table = plan_from_table("t.toml", &frame_text(), &new, &read).unwrap();
    let from_table = check_plan("t.toml", &from_table)
        .unwrap_or_else(|e| panic!("valid:\n{e}\n{from_table}"))
        .plan;
    let by_hand = format!(
        r#"{}
[[indicator]]
code = "i-t2"
name = "技术合同成交额"
unit = "亿元"
department = "kjj"
measure = "flow"
frequency = "yearly"
additive = true
decimals = 0

[[indicator]]
code = "i-t3"
name = "每年举办路演"
unit = "场"
department = "kjj"
measure = "flow"
frequency = "yearly"
additive = true
decimals = 0

[[node]]
code = "M1"
name = "企业培育"
lead = ["kjj"]
co = ["east", "west"]

[[node]]
code = "M2"
name = "成果转化"
lead = ["kjj", "tjj"]

[[target]]
code = "T1"
name = "高新技术企业数"
node = "M1"
indicator = "hte"
kind = "stock"
target = "翻一番"
strict = true
baseline = {{ value = 500, date = 2025-12-31 }}
checkpoints = [{{ date = 2026-12-31, value = 600 }}]

[[target]]
code = "T2"
name = "技术合同成交额"
node = "M1"
indicator = "i-t2"
kind = "yearly_total"
target = 120
baseline = {{ value = 80, date = 2025-12-31 }}
note = "按当年数"

[[target]]
code = "T3"
name = "每年举办路演"
node = "M2"
indicator = "i-t3"
kind = "annual"
target = {{ min = 4, max = 6 }}
"#,
        HEAD.replace("demo-frame", "demo-2026-2028")
            .replace("name = \"示例\"", "name = \"示例规划\"")
    );
    let by_hand = check_plan("h.toml", &by_hand)
        .unwrap_or_else(|e| panic!("hand-written plan valid:\n{e}"))
        .plan;
    assert_eq!(normalised(&from_table), normalised(&by_hand));
    assert_eq!(from_table.indicators.len(), by_hand.indicators.len());
    for (a, b) in from_table.indicators.iter().zip(&by_hand.indicators) {
        assert_eq!(
            (
                a.code.as_str(),
                &a.name,
                &a.unit,
                a.measure,
                a.frequency,
                a.additive
            ),
            (
                b.code.as_str(),
                &b.name,
                &b.unit,
                b.measure,
                b.frequency,
                b.additive
            )
        );
    }
}

/// An edited row gives the plan that the same change made by hand in the
/// TOML gives, and everything else in the file stays as written.
#[test]
fn an_edited_row_equals_the_hand_edited_file() {
    let name = "examples/chuzhou-2024-2027.toml";
    let text = plan_text(name);
    let plan = parse_plan(name, &text).unwrap();
    let mut row = table::row_of(&plan, plan.target("T1-1-1").unwrap());
    row.target = TargetCell::Number(1600.0);
    row.years = vec![(2025, 1150.0)];
    row.note = "中期调高".into();
    let edited = with_target(name, &text, &row).unwrap();
    let by_hand = text
        .replacen("target = 1500\n", "target = 1600\n", 1)
        .replacen(
            "checkpoints = [{ date = 2025-12-31, value = 1100 }]",
            "checkpoints = [{ date = 2025-12-31, value = 1150 }]\nnote = \"中期调高\"",
            1,
        );
    assert_ne!(by_hand, text, "the hand edit applies");
    let a = check_plan(name, &edited).unwrap().plan;
    let b = check_plan(name, &by_hand).unwrap().plan;
    assert_eq!(
        serde_json::to_value(&a.targets).unwrap(),
        serde_json::to_value(&b.targets).unwrap()
    );
    // Only the target's own lines changed: the comments and the other
    // targets are as the bureau wrote them.
    let new_lines: Vec<&str> = edited
        .lines()
        .filter(|l| !text.lines().any(|x| x == *l))
        .collect();
    assert_eq!(new_lines.len(), 3, "{new_lines:?}");
    assert_eq!(edited.lines().count(), text.lines().count() + 1);
    assert!(edited.contains("# 期末存量 + 中间节点：2025年1100家，2027年1500家"));
}

/// Bad tables: every problem reported with its row, nothing read.
#[test]
fn bad_rows_are_refused_with_their_row_numbers() {
    let frame = parse_plan("frame.toml", &frame_text()).unwrap();
    let headers: Vec<String> =
        "目标编号,目标名称,目标类型,计量单位,基期值,基期日期,期末目标,截止日期,牵头单位,覆盖对象"
            .split(',')
            .map(String::from)
            .collect();
    let cases: [(&str, &str); 10] = [
        ("T1,甲,存量,家,,,100,,,", "目标类型“存量”应为以下之一"),
        (
            "T1,甲,期末存量,家,五百,2025-12-31,100,,,",
            "基期值“五百”不是数字",
        ),
        ("T1,甲,期末存量,家,500,,100,,,", "基期日期不能为空"),
        (
            "T1,甲,期末存量,家,500,2025/13/40,100,,,",
            "基期日期“2025/13/40”不是日期",
        ),
        ("T1,甲,期末存量,家,,,很多,,,", "期末目标“很多”应为数字"),
        ("T1,甲,区间,%,,,6—4,,,", "区间“6—4”的下限大于上限"),
        ("T1,甲,期末存量,家,,,100,明年,,", "截止日期“明年”不是日期"),
        (
            "T1,甲,期末存量,家,,,100,,北区,",
            "牵头单位“北区”不是本规划的地区或部门",
        ),
        ("T 1,甲,期末存量,家,,,100,,,", "目标编号"),
        ("T1,甲,覆盖率,%,,,,,,两个县", "覆盖对象“两个县”既不是数目"),
    ];
    for (line, expected) in cases {
        let rows = vec![(7, line.split(',').map(String::from).collect::<Vec<_>>())];
        let problems = table::read(&frame, &headers, &rows).expect_err(line);
        assert!(
            problems
                .iter()
                .any(|p| p.row == 7 && p.message.contains(expected)),
            "{line}: {problems:?}"
        );
    }
    // A duplicate code, and a missing column.
    let dup = vec![
        (
            2,
            "T1,甲,期末存量,家,,,100,,,"
                .split(',')
                .map(String::from)
                .collect(),
        ),
        (
            3,
            "T1,乙,期末存量,家,,,100,,,"
                .split(',')
                .map(String::from)
                .collect(),
        ),
    ];
    let p = table::read(&frame, &headers, &dup).unwrap_err();
    assert_eq!(
        (p[0].row, p[0].message.as_str()),
        (3, "目标编号“T1”重复出现")
    );
    let p = table::read(&frame, &headers[..3], &dup).unwrap_err();
    assert!(p[0].message.contains("表头缺少列：计量单位"), "{p:?}");
}
