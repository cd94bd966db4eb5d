//! The allocation table (目标任务分解表) as people keep it in Excel: one row
//! per target and unit (area or department) with the unit's baseline, its
//! yearly targets and its final target. This module turns a plan into the
//! table and a typed-in table back into checked rows; writing the rows into
//! the plan file is kc-planfile's, reading the file kc-io's.

use std::collections::HashSet;

use chrono::Datelike;

use crate::code::Code;
use crate::entry::parse_number;
use crate::plan::{Plan, Target, TargetKind, TargetValue};

/// One row of the table, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AllocationRow {
    pub target: Code,
    pub unit: Code,
    pub baseline: Option<f64>,
    /// (year, the unit's target at that year's end).
    pub years: Vec<(i32, f64)>,
    /// The final target; `None` when the row is left blank (not allocated).
    pub value: Option<f64>,
    pub responsible: Option<String>,
}

/// A row the table refused, with its spreadsheet row number and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub row: usize,
    pub message: String,
}

/// The fixed columns; the yearly columns ("2023年目标") go between the
/// baseline and the final target.
pub const COL_TARGET: &str = "目标编号";
pub const COL_NAME: &str = "目标名称";
pub const COL_UNIT: &str = "责任地区或部门";
pub const COL_MEASURE: &str = "计量单位";
pub const COL_BASELINE: &str = "基期值";
pub const COL_FINAL: &str = "期末目标";
pub const COL_DEADLINE: &str = "截止日期";
pub const COL_RESPONSIBLE: &str = "责任单位";

/// Whether a target can be shared out: a rank or a comparison with another
/// series belongs to the whole city.
pub fn allocatable(t: &Target) -> bool {
    !matches!(t.kind, TargetKind::Rank | TargetKind::Relative)
        && matches!(t.value, TargetValue::Number { .. })
}

/// The years that get a column: from the plan's first year to the year
/// before the latest deadline (the deadline's year is the final target).
pub fn years(plan: &Plan) -> Vec<i32> {
    let last = plan
        .targets
        .iter()
        .map(|t| t.deadline.year())
        .max()
        .unwrap_or(plan.period.end.year());
    (plan.period.start.year()..last).collect()
}

/// The table's headers.
pub fn headers(plan: &Plan) -> Vec<String> {
    let mut h: Vec<String> = [COL_TARGET, COL_NAME, COL_UNIT, COL_MEASURE, COL_BASELINE]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(years(plan).into_iter().map(|y| format!("{y}年目标")));
    h.extend([COL_FINAL, COL_DEADLINE, COL_RESPONSIBLE].map(String::from));
    h
}

/// A cell of the exported table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

/// The table of a plan: every allocatable target × every area, then the
/// departments a target is allocated to; blank where nothing is allocated,
/// so that the bureau can fill the sheet in.
pub fn table(plan: &Plan) -> Vec<Vec<Cell>> {
    let ys = years(plan);
    let mut out = Vec::new();
    for t in plan.targets.iter().filter(|t| allocatable(t)) {
        let units = plan.areas.iter().map(|a| (&a.code, a.name.as_str())).chain(
            plan.departments
                .iter()
                .filter(|d| t.allocation(d.code.as_str()).is_some())
                .map(|d| (&d.code, d.name.as_str())),
        );
        for (code, name) in units {
            let a = t.allocation(code.as_str());
            let num = |v: Option<f64>| v.map(Cell::Number).unwrap_or(Cell::Empty);
            let mut row = vec![
                Cell::Text(t.code.to_string()),
                Cell::Text(t.name.clone()),
                Cell::Text(name.to_string()),
                Cell::Text(t.unit.clone()),
                num(a.and_then(|a| a.baseline.as_ref().map(|b| b.value))),
            ];
            for y in &ys {
                row.push(num(a.and_then(|a| {
                    a.checkpoints
                        .iter()
                        .find(|c| c.date.year() == *y)
                        .map(|c| c.value)
                })));
            }
            row.push(num(a.map(|a| a.value.path_end(t.direction))));
            row.push(Cell::Text(t.deadline.to_string()));
            row.push(
                a.and_then(|a| a.responsible.clone())
                    .map(Cell::Text)
                    .unwrap_or(Cell::Empty),
            );
            out.push(row);
        }
    }
    out
}

/// The area or department a cell names: by code, name or alias.
fn unit_named(plan: &Plan, s: &str) -> Option<Code> {
    let s = s.trim();
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

/// Checks a typed-in table (headers and rows with their spreadsheet row
/// numbers) against `plan`. Every problem is reported; any problem means no
/// row is used.
pub fn read(
    plan: &Plan,
    headers: &[String],
    rows: &[(usize, Vec<String>)],
) -> Result<Vec<AllocationRow>, Vec<RowProblem>> {
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let mut problems = Vec::new();
    let (Some(c_target), Some(c_unit), Some(c_final)) =
        (col(COL_TARGET), col(COL_UNIT), col(COL_FINAL))
    else {
        let missing: Vec<&str> = [COL_TARGET, COL_UNIT, COL_FINAL]
            .into_iter()
            .filter(|c| col(c).is_none())
            .collect();
        return Err(vec![RowProblem {
            row: 1,
            message: format!("表头缺少列：{}", missing.join("、")),
        }]);
    };
    let c_baseline = col(COL_BASELINE);
    let c_responsible = col(COL_RESPONSIBLE);
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
        let cell = |i: usize| cells.get(i).map(|s| s.trim()).unwrap_or("");
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let target = plan.target(cell(c_target));
        let Some(target) = target else {
            problems.push(RowProblem {
                row: *n,
                message: format!("目标编号“{}”不在本规划中", cell(c_target)),
            });
            continue;
        };
        if !allocatable(target) {
            problems.push(RowProblem {
                row: *n,
                message: format!("目标 {} 是{}，不能分解", target.code, target.kind.zh()),
            });
            continue;
        }
        let Some(unit) = unit_named(plan, cell(c_unit)) else {
            problems.push(RowProblem {
                row: *n,
                message: format!("“{}”不是本规划的地区或部门", cell(c_unit)),
            });
            continue;
        };
        if !seen.insert((target.code.clone(), unit.clone())) {
            problems.push(RowProblem {
                row: *n,
                message: format!(
                    "目标 {} 的“{}”重复出现",
                    target.code,
                    plan.unit_name(unit.as_str())
                ),
            });
            continue;
        }
        let mut number = |i: Option<usize>, what: &str| -> Result<Option<f64>, ()> {
            let Some(i) = i else { return Ok(None) };
            let s = cell(i);
            if s.is_empty() {
                return Ok(None);
            }
            match parse_number(s) {
                Some(v) => Ok(Some(v)),
                None => {
                    problems.push(RowProblem {
                        row: *n,
                        message: format!("{what}“{s}”不是数字"),
                    });
                    Err(())
                }
            }
        };
        let Ok(value) = number(Some(c_final), COL_FINAL) else {
            continue;
        };
        let Ok(baseline) = number(c_baseline, COL_BASELINE) else {
            continue;
        };
        let mut years = Vec::new();
        let mut ok = true;
        for (i, y) in &year_cols {
            match number(Some(*i), &format!("{y}年目标")) {
                Ok(Some(v)) => years.push((*y, v)),
                Ok(None) => {}
                Err(()) => ok = false,
            }
        }
        if !ok {
            continue;
        }
        let from = target
            .baseline
            .as_ref()
            .map(|b| b.date.year())
            .unwrap_or(plan.period.start.year() - 1);
        if let Some((y, _)) = years
            .iter()
            .find(|(y, _)| *y >= target.deadline.year() || *y <= from)
        {
            problems.push(RowProblem {
                row: *n,
                message: format!(
                    "目标 {} 的基期为 {from} 年、截止于 {}，{y}年目标不在两者之间（截止年份的目标填在{COL_FINAL}）",
                    target.code, target.deadline
                ),
            });
            continue;
        }
        if value.is_none() && (baseline.is_some() || !years.is_empty()) {
            problems.push(RowProblem {
                row: *n,
                message: format!("填了基期值或年度目标，但{COL_FINAL}为空"),
            });
            continue;
        }
        let responsible = c_responsible
            .map(cell)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        out.push(AllocationRow {
            target: target.code.clone(),
            unit,
            baseline,
            years,
            value,
            responsible,
        });
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}
