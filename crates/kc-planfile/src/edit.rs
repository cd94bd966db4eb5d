//! Changes written back into a plan file's text, keeping everything else as
//! the bureau wrote it (comments, order, layout): toml_edit edits the
//! document in place.

use std::collections::{BTreeMap, HashSet};

use kc_domain::Plan;
use kc_domain::allocation::AllocationRow;
use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

use crate::{Diagnostic, PlanErrors};

fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

/// The plan text with the allocation of every target named in `rows`
/// replaced by the rows (a target not named keeps its allocation; a row
/// without a final target allocates nothing). The result is not checked:
/// read it with [`crate::check_plan`].
pub fn with_allocations(
    file: &str,
    text: &str,
    plan: &Plan,
    rows: &[AllocationRow],
) -> Result<String, PlanErrors> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| PlanErrors {
        file: file.to_string(),
        errors: vec![Diagnostic {
            line: 1,
            column: 1,
            message: format!("TOML 语法错误：{}", e.message().trim()),
            expected: None,
        }],
    })?;
    let named: HashSet<&str> = rows.iter().map(|r| r.target.as_str()).collect();
    let Some(targets) = doc.get_mut("target").and_then(Item::as_array_of_tables_mut) else {
        return Ok(text.to_string());
    };
    for t in targets.iter_mut() {
        let Some(code) = t.get("code").and_then(Item::as_str).map(str::to_string) else {
            continue;
        };
        if !named.contains(code.as_str()) || unchanged(plan, &code, rows) {
            continue;
        }
        // The table's comment and place stay as written.
        let decor = t
            .get("areas")
            .and_then(Item::as_table)
            .map(|t| t.decor().clone());
        t.remove("areas");
        t.remove("departments");
        let mut areas: BTreeMap<usize, (String, InlineTable)> = BTreeMap::new();
        let mut depts: BTreeMap<usize, (String, InlineTable)> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.target.as_str() == code) {
            let Some(value) = r.value else { continue };
            let mut it = InlineTable::new();
            if let Some(b) = r.baseline {
                it.insert("baseline", number(b));
            }
            it.insert("target", number(value));
            if !r.years.is_empty() {
                let mut ys = InlineTable::new();
                for (y, v) in &r.years {
                    ys.insert(y.to_string(), number(*v));
                }
                it.insert("years", Value::InlineTable(ys));
            }
            if let Some(who) = &r.responsible {
                it.insert("responsible", Value::from(who.as_str()));
            }
            // Rows keep the plan's order of units, whatever the sheet's.
            let unit = r.unit.to_string();
            if let Some(i) = plan.areas.iter().position(|a| a.code == r.unit) {
                areas.insert(i, (unit, it));
            } else if let Some(i) = plan.departments.iter().position(|d| d.code == r.unit) {
                depts.insert(i, (unit, it));
            }
        }
        for (key, units) in [("areas", areas), ("departments", depts)] {
            if units.is_empty() {
                continue;
            }
            let mut table = Table::new();
            if key == "areas"
                && let Some(d) = &decor
            {
                *table.decor_mut() = d.clone();
            }
            for (_, (unit, it)) in units {
                table.insert(&unit, Item::Value(Value::InlineTable(it)));
            }
            t.insert(key, Item::Table(table));
        }
    }
    Ok(doc.to_string())
}

/// Whether the rows of `code` say what the plan already says.
fn unchanged(plan: &Plan, code: &str, rows: &[AllocationRow]) -> bool {
    let Some(t) = plan.target(code) else {
        return false;
    };
    let mine: Vec<&AllocationRow> = rows
        .iter()
        .filter(|r| r.target.as_str() == code && r.value.is_some())
        .collect();
    mine.len() == t.allocations.len()
        && mine.iter().all(|r| {
            t.allocation(r.unit.as_str()).is_some_and(|a| {
                Some(a.value.path_end(t.direction)) == r.value
                    && a.baseline.as_ref().map(|b| b.value) == r.baseline
                    && a.responsible == r.responsible
                    && a.checkpoints.len() == r.years.len()
                    && a.checkpoints
                        .iter()
                        .zip(&r.years)
                        .all(|(c, (y, v))| chrono::Datelike::year(&c.date) == *y && c.value == *v)
            })
        })
}

/// A target's value at the old plan's deadline, from its final evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FinalValue {
    pub value: f64,
    pub date: chrono::NaiveDate,
}

/// Kinds whose final value is a level the next plan starts from.
fn starts_from_level(kind: kc_domain::plan::TargetKind) -> bool {
    use kc_domain::plan::TargetKind as K;
    matches!(
        kind,
        K::Stock | K::Share | K::PerCapita | K::ZeroCount | K::Range | K::Rank
    )
}

/// Kinds whose number the bureau sets anew for the next plan.
fn set_anew(kind: kc_domain::plan::TargetKind) -> bool {
    use kc_domain::plan::TargetKind as K;
    !matches!(
        kind,
        K::Rank | K::Relative | K::Milestone | K::Task | K::ZeroCount
    )
}

/// The next plan drafted from `plan` (its text `text`): the same
/// indicators, units, areas, structure, ranking and market rules; the new
/// period; every target's deadline at the new end, its baseline the final
/// value at the old deadline (for levels), and its number left `"待定"` for
/// the bureau (so `plan check` lists what is missing). Allocations,
/// checkpoints and revisions belong to the old period and are dropped.
pub fn draft_next(
    file: &str,
    text: &str,
    plan: &Plan,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
    finals: &std::collections::HashMap<String, FinalValue>,
    source: &str,
) -> Result<String, PlanErrors> {
    use chrono::Datelike;
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| PlanErrors {
        file: file.to_string(),
        errors: vec![Diagnostic {
            line: 1,
            column: 1,
            message: format!("TOML 语法错误：{}", e.message().trim()),
            expected: None,
        }],
    })?;
    let date = |d: chrono::NaiveDate| -> Value {
        let dt = toml_edit::Datetime {
            date: Some(toml_edit::Date {
                year: d.year() as u16,
                month: d.month() as u8,
                day: d.day() as u8,
            }),
            time: None,
            offset: None,
        };
        Value::from(dt)
    };
    let (old_span, new_span) = (
        format!("{}-{}", plan.period.start.year(), plan.period.end.year()),
        format!("{}-{}", start.year(), end.year()),
    );
    if let Some(p) = doc.get_mut("plan").and_then(Item::as_table_like_mut) {
        let code = plan.code.as_str();
        let code = if code.contains(&old_span) {
            code.replace(&old_span, &new_span)
        } else {
            format!("{code}-{new_span}")
        };
        p.insert("code", Item::Value(Value::from(code)));
        p.insert(
            "name",
            Item::Value(Value::from(format!(
                "{}（{}—{}年）",
                plan.name,
                start.year(),
                end.year()
            ))),
        );
        p.insert("status", Item::Value(Value::from("draft")));
        // The old plan's figures are this one's history.
        p.insert("follows", Item::Value(Value::from(plan.code.as_str())));
        p.insert("start", Item::Value(date(start)));
        p.insert("end", Item::Value(date(end)));
        p.remove("source");
    }
    if let Some(p) = doc.get_mut("plan").and_then(Item::as_table_mut) {
        p.decor_mut().set_prefix(format!(
            "# 下一轮规划草稿：由 kechuang plan draft 从《{}》生成（{source}）。\n# 基期值为上一轮各目标截止日期的终期评估值；target = \"待定\" 的目标值请填写（plan check 会逐项提醒）。\n",
            plan.name
        ));
    }
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_array_of_tables_mut) {
        for t in targets.iter_mut() {
            let Some(code) = t.get("code").and_then(Item::as_str).map(str::to_string) else {
                continue;
            };
            let Some(old) = plan.target(&code) else {
                continue;
            };
            // A note explains the old period's numbers (its baseline, its
            // sources): the bureau writes the new plan's own.
            for key in [
                "deadline",
                "checkpoints",
                "revision",
                "areas",
                "departments",
                "note",
            ] {
                t.remove(key);
            }
            if set_anew(old.kind) {
                t.insert("target", Item::Value(Value::from("待定")));
            }
            match finals.get(&code) {
                Some(f) if starts_from_level(old.kind) => {
                    let mut b = InlineTable::new();
                    b.insert("value", number(f.value));
                    b.insert("date", date(f.date));
                    b.insert(
                        "source",
                        Value::from(format!("上一轮规划终期评估值（{}）", plan.code)),
                    );
                    b.insert("reported", Value::from(true));
                    t.insert("baseline", Item::Value(Value::InlineTable(b)));
                }
                // A flow, a rate of growth or a share of coverage restarts
                // with the new period: the old baseline is the old period's.
                _ if old.baseline.is_some() && !starts_from_level(old.kind) => {
                    t.remove("baseline");
                }
                _ => {}
            }
        }
    }
    // A goal's name states the old period's number (高新技术企业达到1200家):
    // the new plan states its own goals. Its targets stay; a goal stays
    // where it is the only home of a target without a task.
    let homeless: HashSet<&str> = plan
        .targets
        .iter()
        .filter(|t| t.node.is_none())
        .map(|t| t.code.as_str())
        .collect();
    if let Some(goals) = doc.get_mut("goal").and_then(Item::as_array_of_tables_mut) {
        goals.retain(|g| {
            g.get("targets").and_then(Item::as_array).is_some_and(|a| {
                a.iter()
                    .any(|v| v.as_str().is_some_and(|c| homeless.contains(c)))
            })
        });
        if goals.is_empty() {
            doc.remove("goal");
        }
    }
    Ok(doc.to_string())
}
