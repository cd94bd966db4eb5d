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
