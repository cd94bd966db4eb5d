//! The target table (目标表) as a bureau lists its plan's targets in Excel:
//! one row per target with its task, indicator, kind, unit, baseline, yearly
//! targets, final target and deadline, and the lead and co-responsible units.
//! The same row is what the browser's target form edits, so a table imported
//! and a form saved are checked by one reader. Writing rows into a plan file
//! is kc-planfile's; reading the spreadsheet is kc-io's.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate};

use crate::allocation::{Cell, RowProblem};
use crate::code::Code;
use crate::entry::parse_number;
use crate::plan::{Plan, Target, TargetKind, TargetValue, Universe};
use crate::registry::parse_date;

pub const COL_CODE: &str = "目标编号";
pub const COL_NAME: &str = "目标名称";
pub const COL_NODE: &str = "所属任务编号";
pub const COL_NODE_NAME: &str = "所属任务名称";
pub const COL_INDICATOR: &str = "指标编号";
pub const COL_KIND: &str = "目标类型";
pub const COL_UNIT: &str = "计量单位";
pub const COL_BASELINE: &str = "基期值";
pub const COL_BASELINE_DATE: &str = "基期日期";
pub const COL_FINAL: &str = "期末目标";
pub const COL_DEADLINE: &str = "截止日期";
pub const COL_REQUIRE: &str = "要求";
pub const COL_LEAD: &str = "牵头单位";
pub const COL_CO: &str = "配合单位";
pub const COL_COMPARE: &str = "对比指标";
pub const COL_PEERS: &str = "比较范围";
pub const COL_UNIVERSE: &str = "覆盖对象";
pub const COL_NOTE: &str = "说明";

/// What the final-target cell asks for, as written: the plan reader checks
/// multiples and the like, so they pass through as text.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetCell {
    /// Left blank: the kind needs none (清零, 相对比较) or the plan's default.
    Empty,
    Number(f64),
    Range(f64, f64),
    /// 完成 (a milestone or task).
    Done,
    /// 待定: a drafted target the bureau has yet to set.
    Pending,
    /// A multiple of the baseline ("2×基期", "翻一番").
    Multiple(String),
}

/// One row of the table, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRow {
    pub code: Code,
    pub name: String,
    /// The task (node) the target belongs to, and its name when the row
    /// creates it.
    pub node: Option<Code>,
    pub node_name: String,
    /// The indicator's code; `None` to keep the target's or make one.
    pub indicator: Option<Code>,
    pub kind: TargetKind,
    pub unit: String,
    pub baseline: Option<(f64, NaiveDate)>,
    /// (year, the target at that year's end).
    pub years: Vec<(i32, f64)>,
    pub target: TargetCell,
    pub deadline: Option<NaiveDate>,
    /// 超过 rather than 达到.
    pub strict: bool,
    /// Lead and co-responsible units (areas or departments), by code.
    pub lead: Vec<Code>,
    pub co: Vec<Code>,
    pub compare: Option<Code>,
    pub peers: Option<String>,
    pub universe: Option<Universe>,
    pub note: String,
}

/// The years that get a column: the plan's first year to the year before
/// its end (the end year's value is the final target).
pub fn years(plan: &Plan) -> Vec<i32> {
    (plan.period.start.year()..plan.period.end.year()).collect()
}

/// The table's headers for `plan`.
pub fn headers(plan: &Plan) -> Vec<String> {
    let mut h: Vec<String> = [
        COL_CODE,
        COL_NAME,
        COL_NODE,
        COL_NODE_NAME,
        COL_INDICATOR,
        COL_KIND,
        COL_UNIT,
        COL_BASELINE,
        COL_BASELINE_DATE,
    ]
    .map(String::from)
    .to_vec();
    h.extend(years(plan).into_iter().map(|y| format!("{y}年目标")));
    h.extend(
        [
            COL_FINAL,
            COL_DEADLINE,
            COL_REQUIRE,
            COL_LEAD,
            COL_CO,
            COL_COMPARE,
            COL_PEERS,
            COL_UNIVERSE,
            COL_NOTE,
        ]
        .map(String::from),
    );
    h
}

/// The final-target cell as the table writes it.
pub fn target_text(t: &Target) -> String {
    if t.pending {
        return "待定".into();
    }
    if let Some(m) = t.multiple {
        return format!("{}×基期", crate::plan::fmt_num(m, 4));
    }
    match t.value {
        TargetValue::Number { value } => crate::plan::fmt_num(value, 6),
        TargetValue::Range { min, max } => format!(
            "{}—{}",
            crate::plan::fmt_num(min, 6),
            crate::plan::fmt_num(max, 6)
        ),
        TargetValue::Done => "完成".into(),
    }
}

fn names(plan: &Plan, codes: &[Code]) -> String {
    codes
        .iter()
        .map(|c| plan.unit_name(c.as_str()).to_string())
        .collect::<Vec<_>>()
        .join("、")
}

/// Whether a target's value cell is written by the kind rather than typed.
fn value_blank(t: &Target) -> bool {
    matches!(t.kind, TargetKind::Relative | TargetKind::ZeroCount)
        || (t.kind == TargetKind::Coverage && t.value == TargetValue::Number { value: 100.0 })
}

/// The universe cell: "8个县（市、区）" or the indicator's name.
pub fn universe_text(plan: &Plan, u: &Universe) -> String {
    match u {
        Universe::Count { size, what } => format!("{}个{what}", crate::plan::fmt_num(*size, 4))
            .trim_end_matches('个')
            .to_string(),
        Universe::Indicator { indicator } => plan
            .indicator(indicator.as_str())
            .map(|i| i.name.clone())
            .unwrap_or_else(|| indicator.to_string()),
    }
}

/// The table of `plan`: one row per target in the plan's order. Checkpoints
/// at a year's end fill that year's column; others are the plan file's.
pub fn table(plan: &Plan) -> Vec<Vec<Cell>> {
    let ys = years(plan);
    plan.targets
        .iter()
        .map(|t| {
            let node = t.node.as_ref().and_then(|n| plan.node(n.as_str()));
            let text = |s: String| {
                if s.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(s)
                }
            };
            let mut row = vec![
                Cell::Text(t.code.to_string()),
                Cell::Text(t.name.clone()),
                text(node.map(|n| n.code.to_string()).unwrap_or_default()),
                text(node.map(|n| n.name.clone()).unwrap_or_default()),
                Cell::Text(t.indicator.to_string()),
                Cell::Text(t.kind.zh().to_string()),
                Cell::Text(t.unit.clone()),
                t.baseline
                    .as_ref()
                    .map(|b| Cell::Number(b.value))
                    .unwrap_or(Cell::Empty),
                text(
                    t.baseline
                        .as_ref()
                        .map(|b| b.date.to_string())
                        .unwrap_or_default(),
                ),
            ];
            for y in &ys {
                row.push(
                    t.checkpoints
                        .iter()
                        .find(|c| c.date == year_end(*y))
                        .map(|c| Cell::Number(c.value))
                        .unwrap_or(Cell::Empty),
                );
            }
            row.push(if value_blank(t) {
                Cell::Empty
            } else {
                match (t.pending, t.multiple, t.value) {
                    (false, None, TargetValue::Number { value }) => Cell::Number(value),
                    _ => Cell::Text(target_text(t)),
                }
            });
            row.push(Cell::Text(t.deadline.to_string()));
            row.push(Cell::Text(if t.strict { "超过" } else { "达到" }.into()));
            row.push(text(node.map(|n| names(plan, &n.lead)).unwrap_or_default()));
            row.push(text(node.map(|n| names(plan, &n.co)).unwrap_or_default()));
            row.push(text(
                t.compare
                    .as_ref()
                    .map(|c| {
                        plan.indicator(c.as_str())
                            .map(|i| i.name.clone())
                            .unwrap_or_else(|| c.to_string())
                    })
                    .unwrap_or_default(),
            ));
            row.push(text(t.peers.clone().unwrap_or_default()));
            row.push(text(
                t.universe
                    .as_ref()
                    .map(|u| universe_text(plan, u))
                    .unwrap_or_default(),
            ));
            row.push(text(t.note.clone()));
            row
        })
        .collect()
}

fn year_end(y: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, 12, 31).expect("31 December exists")
}

/// The kind a cell names: its Chinese name or the plan file's word.
pub fn kind_named(s: &str) -> Option<TargetKind> {
    let s = s.trim();
    TargetKind::ALL
        .into_iter()
        .find(|k| k.zh() == s || k.as_str() == s)
}

/// The area or department a name (or code) stands for.
fn unit_named(plan: &Plan, s: &str) -> Option<Code> {
    plan.areas
        .iter()
        .find(|a| a.code.as_str() == s || a.name == s || a.aliases.iter().any(|x| x == s))
        .map(|a| a.code.clone())
        .or_else(|| {
            plan.departments
                .iter()
                .find(|d| d.code.as_str() == s || d.name == s)
                .map(|d| d.code.clone())
        })
}

fn indicator_named(plan: &Plan, s: &str) -> Option<Code> {
    plan.indicators
        .iter()
        .find(|i| i.code.as_str() == s || i.name == s)
        .map(|i| i.code.clone())
}

/// The final-target cell: a number, a range ("4—6", "4-6", "4~6", "4至6"),
/// 完成, 待定, or a multiple of the baseline passed on to the plan reader.
pub fn parse_target(s: &str) -> Result<TargetCell, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(TargetCell::Empty);
    }
    if let Some(v) = parse_number(s) {
        return Ok(TargetCell::Number(v));
    }
    match s {
        "完成" | "done" | "已完成" => return Ok(TargetCell::Done),
        "待定" => return Ok(TargetCell::Pending),
        _ => {}
    }
    if s.contains("基期") || s.starts_with('翻') || s == "倍增" {
        return Ok(TargetCell::Multiple(s.to_string()));
    }
    for sep in ["—", "–", "～", "~", "至", "到", "-"] {
        if let Some((a, b)) = s.split_once(sep)
            && let (Some(a), Some(b)) = (parse_number(a), parse_number(b))
        {
            return if a <= b {
                Ok(TargetCell::Range(a, b))
            } else {
                Err(format!("区间“{s}”的下限大于上限"))
            };
        }
    }
    Err(format!(
        "{COL_FINAL}“{s}”应为数字、区间（如 4—6）、“完成”、“待定”或基期的倍数（如 2×基期）"
    ))
}

/// The universe cell: a count with what is counted ("8个县（市、区）", "8")
/// or an indicator (by name or code) whose latest value is the count.
fn parse_universe(plan: &Plan, s: &str) -> Result<Universe, String> {
    let digits: String = s
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    if !digits.is_empty() {
        let size = parse_number(&digits)
            .filter(|v| *v > 0.0)
            .ok_or_else(|| format!("{COL_UNIVERSE}“{s}”的数目应为正数"))?;
        let what = s[digits.len()..].trim();
        let what = what.strip_prefix('个').unwrap_or(what).trim();
        return Ok(Universe::Count {
            size,
            what: what.to_string(),
        });
    }
    indicator_named(plan, s)
        .map(|indicator| Universe::Indicator { indicator })
        .ok_or_else(|| format!("{COL_UNIVERSE}“{s}”既不是数目（如 8个县）也不是本规划的指标"))
}

/// Checks a typed-in table (headers and rows with their spreadsheet row
/// numbers) against `plan`, whose areas, departments and indicators the
/// rows may name. Every problem is reported; any problem means no row is
/// used.
pub fn read(
    plan: &Plan,
    headers: &[String],
    rows: &[(usize, Vec<String>)],
) -> Result<Vec<TargetRow>, Vec<RowProblem>> {
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let required = [COL_CODE, COL_NAME, COL_KIND, COL_UNIT, COL_FINAL];
    let missing: Vec<&str> = required.into_iter().filter(|c| col(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(vec![RowProblem {
            row: 1,
            message: format!("表头缺少列：{}", missing.join("、")),
        }]);
    }
    let mut problems = Vec::new();
    let mut year_cols = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim();
        if let Some(y) = h.strip_suffix("年目标") {
            match y.parse::<i32>() {
                Ok(y) if (plan.period.start.year()..=plan.period.end.year()).contains(&y) => {
                    year_cols.push((i, y))
                }
                _ => problems.push(RowProblem {
                    row: 1,
                    message: format!("列“{h}”的年份不在规划期内"),
                }),
            }
        }
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (n, cells) in rows {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        match read_row(plan, &col, &year_cols, cells) {
            Ok(row) => {
                if !seen.insert(row.code.clone()) {
                    problems.push(RowProblem {
                        row: *n,
                        message: format!("目标编号“{}”重复出现", row.code),
                    });
                } else {
                    out.push(row);
                }
            }
            Err(errs) => problems.extend(
                errs.into_iter()
                    .map(|message| RowProblem { row: *n, message }),
            ),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// One row, or every problem in it.
fn read_row(
    plan: &Plan,
    col: &dyn Fn(&str) -> Option<usize>,
    year_cols: &[(usize, i32)],
    cells: &[String],
) -> Result<TargetRow, Vec<String>> {
    let cell = |name: &str| {
        col(name)
            .and_then(|i| cells.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    };
    let mut errs = Vec::new();
    let code = match Code::parse(cell(COL_CODE)) {
        Ok(c) => Some(c),
        Err(e) => {
            errs.push(format!("{COL_CODE}：{e}"));
            None
        }
    };
    let name = cell(COL_NAME).to_string();
    if name.is_empty() {
        errs.push(format!("{COL_NAME}不能为空"));
    }
    let optional_code = |what: &str, s: &str, errs: &mut Vec<String>| {
        if s.is_empty() {
            return None;
        }
        Code::parse(s)
            .map_err(|e| errs.push(format!("{what}：{e}")))
            .ok()
    };
    let node = optional_code(COL_NODE, cell(COL_NODE), &mut errs);
    let indicator = optional_code(COL_INDICATOR, cell(COL_INDICATOR), &mut errs);
    let kind = kind_named(cell(COL_KIND));
    if kind.is_none() {
        errs.push(format!(
            "{COL_KIND}“{}”应为以下之一：{}",
            cell(COL_KIND),
            TargetKind::ALL.map(|k| k.zh()).join("、")
        ));
    }
    let unit = cell(COL_UNIT).to_string();
    if unit.is_empty() {
        errs.push(format!("{COL_UNIT}不能为空"));
    }
    let number = |what: &str, s: &str, errs: &mut Vec<String>| {
        if s.is_empty() {
            return None;
        }
        parse_number(s).or_else(|| {
            errs.push(format!("{what}“{s}”不是数字"));
            None
        })
    };
    let base_value = number(COL_BASELINE, cell(COL_BASELINE), &mut errs);
    let base_date = match cell(COL_BASELINE_DATE) {
        "" => None,
        s => parse_date(s).or_else(|| {
            errs.push(format!("{COL_BASELINE_DATE}“{s}”不是日期（如 2022-12-31）"));
            None
        }),
    };
    let baseline = match (base_value, base_date) {
        (Some(v), Some(d)) => Some((v, d)),
        (Some(_), None) if cell(COL_BASELINE_DATE).is_empty() => {
            errs.push(format!("填了{COL_BASELINE}，{COL_BASELINE_DATE}不能为空"));
            None
        }
        (None, Some(_)) => {
            errs.push(format!("填了{COL_BASELINE_DATE}，{COL_BASELINE}不能为空"));
            None
        }
        _ => None,
    };
    let mut years = Vec::new();
    for (i, y) in year_cols {
        let s = cells.get(*i).map(|s| s.trim()).unwrap_or("");
        if let Some(v) = number(&format!("{y}年目标"), s, &mut errs) {
            years.push((*y, v));
        }
    }
    let target = parse_target(cell(COL_FINAL)).unwrap_or_else(|e| {
        errs.push(e);
        TargetCell::Empty
    });
    let deadline = match cell(COL_DEADLINE) {
        "" => None,
        s => parse_date(s).or_else(|| {
            errs.push(format!("{COL_DEADLINE}“{s}”不是日期（如 2025-12-31）"));
            None
        }),
    };
    let strict = match cell(COL_REQUIRE) {
        "" | "达到" | "不低于" | "不少于" => false,
        "超过" | "高于" | "多于" => true,
        s => {
            errs.push(format!("{COL_REQUIRE}“{s}”应为“达到”或“超过”"));
            false
        }
    };
    let units = |what: &str, s: &str, errs: &mut Vec<String>| -> Vec<Code> {
        s.split(['、', ',', '，', ';', '；', '/'])
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .filter_map(|x| {
                unit_named(plan, x).or_else(|| {
                    errs.push(format!("{what}“{x}”不是本规划的地区或部门"));
                    None
                })
            })
            .collect()
    };
    let lead = units(COL_LEAD, cell(COL_LEAD), &mut errs);
    let co = units(COL_CO, cell(COL_CO), &mut errs);
    let compare = match cell(COL_COMPARE) {
        "" => None,
        s => indicator_named(plan, s).or_else(|| {
            errs.push(format!("{COL_COMPARE}“{s}”不是本规划的指标"));
            None
        }),
    };
    let peers = Some(cell(COL_PEERS).to_string()).filter(|s| !s.is_empty());
    let universe = match cell(COL_UNIVERSE) {
        "" => None,
        s => parse_universe(plan, s).map_err(|e| errs.push(e)).ok(),
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(TargetRow {
        code: code.expect("checked above"),
        name,
        node,
        node_name: cell(COL_NODE_NAME).to_string(),
        indicator,
        kind: kind.expect("checked above"),
        unit,
        baseline,
        years,
        target,
        deadline,
        strict,
        lead,
        co,
        compare,
        peers,
        universe,
        note: cell(COL_NOTE).to_string(),
    })
}

/// The row of a target as it stands in `plan` (what the form starts from).
pub fn row_of(plan: &Plan, t: &Target) -> TargetRow {
    let node = t.node.as_ref().and_then(|n| plan.node(n.as_str()));
    TargetRow {
        code: t.code.clone(),
        name: t.name.clone(),
        node: t.node.clone(),
        node_name: node.map(|n| n.name.clone()).unwrap_or_default(),
        indicator: Some(t.indicator.clone()),
        kind: t.kind,
        unit: t.unit.clone(),
        baseline: t.baseline.as_ref().map(|b| (b.value, b.date)),
        years: t
            .checkpoints
            .iter()
            .filter(|c| c.date.month() == 12 && c.date.day() == 31)
            .map(|c| (c.date.year(), c.value))
            .collect(),
        target: if value_blank(t) {
            TargetCell::Empty
        } else if t.pending {
            TargetCell::Pending
        } else if t.multiple.is_some() {
            TargetCell::Multiple(target_text(t))
        } else {
            match t.value {
                TargetValue::Number { value } => TargetCell::Number(value),
                TargetValue::Range { min, max } => TargetCell::Range(min, max),
                TargetValue::Done => TargetCell::Done,
            }
        },
        deadline: Some(t.deadline),
        strict: t.strict,
        lead: node.map(|n| n.lead.clone()).unwrap_or_default(),
        co: node.map(|n| n.co.clone()).unwrap_or_default(),
        compare: t.compare.clone(),
        peers: t.peers.clone(),
        universe: t.universe.clone(),
        note: t.note.clone(),
    }
}
