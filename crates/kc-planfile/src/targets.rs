//! A plan edited by its owners: a target row (from the browser's form or a
//! line of an imported target table), a task (node) or an indicator written
//! into the plan file's text with everything else kept as written, and a new
//! plan made from a target table on the frame (areas, departments,
//! indicators) of an existing one. The results are not checked: read them
//! with [`crate::check_plan`], which gives the messages `plan check` gives.

use chrono::{Datelike, NaiveDate};
use kc_domain::code::Code;
use kc_domain::plan::{TargetKind, Universe};
use kc_domain::target_table::{TargetCell, TargetRow};
use toml_edit::{ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use crate::{Diagnostic, PlanErrors};

/// A task's (node's) fields the browser edits.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeEdit {
    pub code: Code,
    pub name: String,
    pub lead: Vec<Code>,
    pub co: Vec<Code>,
    pub summary: String,
}

/// An indicator's fields the browser edits.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorEdit {
    pub code: Code,
    pub name: String,
    pub unit: String,
    pub definition: String,
    pub department: Option<Code>,
    /// `monthly`, `quarterly` or `yearly`; `None` keeps the file's.
    pub frequency: Option<String>,
}

/// The header of a plan made from a target table.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlan {
    pub code: Code,
    pub name: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

fn parse(file: &str, text: &str) -> Result<DocumentMut, PlanErrors> {
    text.parse().map_err(|e: toml_edit::TomlError| PlanErrors {
        file: file.to_string(),
        errors: vec![Diagnostic {
            line: 1,
            column: 1,
            message: format!("TOML 语法错误：{}", e.message().trim()),
            expected: None,
        }],
    })
}

fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

fn date(d: NaiveDate) -> Value {
    Value::from(toml_edit::Datetime {
        date: Some(toml_edit::Date {
            year: d.year() as u16,
            month: d.month() as u8,
            day: d.day() as u8,
        }),
        time: None,
        offset: None,
    })
}

fn codes(list: &[Code]) -> Value {
    Value::Array(list.iter().map(|c| c.as_str()).collect())
}

/// Sets `key` unless it already holds the same value, so that an unchanged
/// field keeps its layout and trailing comment.
fn set(t: &mut Table, key: &str, v: Value) {
    let same = t.get(key).and_then(Item::as_value).is_some_and(|old| {
        let mut old = old.clone();
        old.decor_mut().clear();
        let mut new = v.clone();
        new.decor_mut().clear();
        old.to_string() == new.to_string()
    });
    if !same {
        t.insert(key, Item::Value(v));
    }
}

/// Sets a list of units keeping the file's order for those that stay (a
/// form lists units in the plan's order, which is not the order the plan
/// names a task's units in); new ones go at the end.
fn set_units(t: &mut Table, key: &str, units: &[Code]) {
    let old: Vec<String> = t
        .get(key)
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut list: Vec<Code> = old
        .iter()
        .filter_map(|o| units.iter().find(|u| u.as_str() == o).cloned())
        .collect();
    list.extend(
        units
            .iter()
            .filter(|u| !old.iter().any(|o| o == u.as_str()))
            .cloned(),
    );
    set(t, key, codes(&list));
}

fn set_or_remove(t: &mut Table, key: &str, v: Option<Value>) {
    match v {
        Some(v) => set(t, key, v),
        None => {
            t.remove(key);
        }
    }
}

/// The element of an array of tables whose `code` is `code`, made (at the
/// array's end) when there is none.
fn entry<'d>(doc: &'d mut DocumentMut, array: &str, code: &str) -> &'d mut Table {
    if doc.get(array).and_then(Item::as_array_of_tables).is_none() {
        doc.insert(array, Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let arr = doc[array]
        .as_array_of_tables_mut()
        .expect("made an array of tables above");
    let found = arr
        .iter()
        .position(|t| t.get("code").and_then(Item::as_str) == Some(code));
    let i = match found {
        Some(i) => i,
        None => {
            let mut t = Table::new();
            t.insert("code", Item::Value(Value::from(code)));
            arr.push(t);
            arr.len() - 1
        }
    };
    arr.get_mut(i).expect("index found or pushed")
}

fn has(doc: &DocumentMut, array: &str, code: &str) -> bool {
    doc.get(array)
        .and_then(Item::as_array_of_tables)
        .is_some_and(|a| {
            a.iter()
                .any(|t| t.get("code").and_then(Item::as_str) == Some(code))
        })
}

fn field<'d>(doc: &'d DocumentMut, array: &str, code: &str, key: &str) -> Option<&'d Item> {
    doc.get(array)?
        .as_array_of_tables()?
        .iter()
        .find(|t| t.get("code").and_then(Item::as_str) == Some(code))?
        .get(key)
}

fn listed_by_goal(doc: &DocumentMut, code: &str) -> bool {
    doc.get("goal")
        .and_then(Item::as_array_of_tables)
        .is_some_and(|goals| {
            goals.iter().any(|g| {
                g.get("targets")
                    .and_then(Item::as_array)
                    .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(code)))
            })
        })
}

fn plan_end(doc: &DocumentMut) -> Option<NaiveDate> {
    let d = doc.get("plan")?.get("end")?.as_datetime()?.date?;
    NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())
}

/// The kinds whose indicator adds up over areas and periods (counts and
/// amounts) when the row makes a new indicator.
fn additive(kind: TargetKind, unit: &str) -> bool {
    unit != "%"
        && matches!(
            kind,
            TargetKind::Stock
                | TargetKind::PeriodCount
                | TargetKind::Cumulative
                | TargetKind::Annual
                | TargetKind::YearlyTotal
                | TargetKind::ZeroCount
        )
}

/// The plan text with the target `row.code` set to what the row says (made
/// when the plan has no such target), its task and indicator made when they
/// do not exist, and the task's lead and co-units set when the row names
/// them. Fields the row does not carry (curve, revision, the baseline's
/// source, checkpoints not at a year's end, allocations) keep their values.
pub fn with_target(file: &str, text: &str, row: &TargetRow) -> Result<String, PlanErrors> {
    let mut doc = parse(file, text)?;
    write_target(&mut doc, row);
    Ok(doc.to_string())
}

fn write_target(doc: &mut DocumentMut, row: &TargetRow) {
    let code = row.code.as_str();
    let end = plan_end(doc);
    let existing_indicator = field(doc, "target", code, "indicator")
        .and_then(Item::as_str)
        .map(str::to_string);
    let indicator = row
        .indicator
        .as_ref()
        .map(|c| c.to_string())
        .or(existing_indicator)
        .unwrap_or_else(|| format!("i-{}", code.to_lowercase()));
    let all_numbers = row
        .years
        .iter()
        .map(|(_, v)| *v)
        .chain(row.baseline.map(|(v, _)| v))
        .chain(match row.target {
            TargetCell::Number(v) => vec![v],
            TargetCell::Range(a, b) => vec![a, b],
            _ => vec![],
        });
    let whole = all_numbers.into_iter().all(|v| v.fract() == 0.0);
    if !has(doc, "indicator", &indicator) {
        let departments: Vec<String> = doc
            .get("department")
            .and_then(Item::as_array_of_tables)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.get("code").and_then(Item::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let unit = match row.kind {
            TargetKind::Milestone | TargetKind::Task | TargetKind::Coverage => "%".to_string(),
            _ => row.unit.clone(),
        };
        let t = entry(doc, "indicator", &indicator);
        t.insert("name", Item::Value(Value::from(row.name.as_str())));
        t.insert("unit", Item::Value(Value::from(unit.as_str())));
        if let Some(d) = row
            .lead
            .iter()
            .find(|c| departments.iter().any(|d| d == c.as_str()))
        {
            t.insert("department", Item::Value(Value::from(d.as_str())));
        }
        let flow = row.kind.needs_flow();
        t.insert(
            "measure",
            Item::Value(Value::from(if flow { "flow" } else { "stock" })),
        );
        t.insert("frequency", Item::Value(Value::from("yearly")));
        if additive(row.kind, &unit) {
            t.insert("additive", Item::Value(Value::from(true)));
        }
        t.insert(
            "decimals",
            Item::Value(Value::from(if whole { 0i64 } else { 2 })),
        );
    }
    let indicator_unit = field(doc, "indicator", &indicator, "unit")
        .and_then(Item::as_str)
        .map(str::to_string);
    let node = match &row.node {
        Some(n) => Some(n.to_string()),
        None if has(doc, "target", code) => field(doc, "target", code, "node")
            .and_then(Item::as_str)
            .map(str::to_string),
        // A new target only a goal lists needs no task; any other gets one
        // of its own.
        None if listed_by_goal(doc, code) => None,
        None => Some(format!("N-{code}")),
    };
    if let Some(n) = &node {
        let new = !has(doc, "node", n);
        let t = entry(doc, "node", n);
        let name = if !row.node_name.is_empty() {
            row.node_name.as_str()
        } else if new {
            row.name.as_str()
        } else {
            ""
        };
        if !name.is_empty() {
            set(t, "name", Value::from(name));
        }
        if !row.lead.is_empty() {
            set_units(t, "lead", &row.lead);
        }
        if !row.co.is_empty() {
            set_units(t, "co", &row.co);
        }
    }
    let t = entry(doc, "target", code);
    set(t, "name", Value::from(row.name.as_str()));
    set_or_remove(t, "node", node.as_deref().map(Value::from));
    set(t, "indicator", Value::from(indicator.as_str()));
    set(t, "kind", Value::from(row.kind.as_str()));
    let value = match &row.target {
        TargetCell::Empty => None,
        TargetCell::Number(v) => Some(number(*v)),
        TargetCell::Range(a, b) => {
            let mut it = InlineTable::new();
            it.insert("min", number(*a));
            it.insert("max", number(*b));
            Some(Value::InlineTable(it))
        }
        TargetCell::Done => Some(Value::from("done")),
        TargetCell::Pending => Some(Value::from("待定")),
        TargetCell::Multiple(s) => Some(Value::from(s.as_str())),
    };
    set_or_remove(t, "target", value);
    // The unit is the indicator's unless the row says otherwise; a unit the
    // file states stays stated.
    if t.contains_key("unit") || indicator_unit.as_deref() != Some(row.unit.as_str()) {
        set(t, "unit", Value::from(row.unit.as_str()));
    }
    match row.deadline {
        Some(d) if Some(d) != end || t.contains_key("deadline") => set(t, "deadline", date(d)),
        Some(_) => {}
        None => {
            t.remove("deadline");
        }
    }
    match row.baseline {
        Some((v, d)) => {
            // The baseline's source and the like stay as written.
            let mut b = t
                .get("baseline")
                .and_then(Item::as_inline_table)
                .cloned()
                .unwrap_or_default();
            let keep = |old: Option<&Value>, new: &Value| {
                old.is_some_and(|o| {
                    let mut o = o.clone();
                    o.decor_mut().clear();
                    o.to_string() == new.to_string()
                })
            };
            if !keep(b.get("value"), &number(v)) {
                b.insert("value", number(v));
            }
            if !keep(b.get("date"), &date(d)) {
                b.insert("date", date(d));
            }
            set(t, "baseline", Value::InlineTable(b));
        }
        None => {
            t.remove("baseline");
        }
    }
    // Year-end checkpoints are the row's; others, and the binding flags of
    // the year ends the row keeps, stay as written.
    let old: Vec<InlineTable> = t
        .get("checkpoints")
        .and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_inline_table)
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let date_of = |c: &InlineTable| {
        c.get("date")
            .and_then(Value::as_datetime)
            .and_then(|d| d.date)
            .and_then(|d| NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()))
    };
    let mut points: Vec<(NaiveDate, InlineTable)> = old
        .iter()
        .filter_map(|c| Some((date_of(c)?, c.clone())))
        .filter(|(d, _)| !(d.month() == 12 && d.day() == 31))
        .collect();
    for (y, v) in &row.years {
        let Some(d) = NaiveDate::from_ymd_opt(*y, 12, 31) else {
            continue;
        };
        let mut c = old
            .iter()
            .find(|c| date_of(c) == Some(d))
            .cloned()
            .unwrap_or_default();
        c.insert("date", date(d));
        c.insert("value", number(*v));
        points.push((d, c));
    }
    points.sort_by_key(|(d, _)| *d);
    if points.is_empty() {
        t.remove("checkpoints");
    } else {
        let mut arr = toml_edit::Array::new();
        for (_, mut c) in points {
            c.fmt();
            arr.push(Value::InlineTable(c));
        }
        arr.fmt();
        set(t, "checkpoints", Value::Array(arr));
    }
    set_or_remove(t, "strict", row.strict.then(|| Value::from(true)));
    set_or_remove(
        t,
        "compare",
        row.compare.as_ref().map(|c| Value::from(c.as_str())),
    );
    set_or_remove(t, "peers", row.peers.as_deref().map(Value::from));
    let universe = row.universe.as_ref().map(|u| match u {
        Universe::Count { size, what } => {
            let mut it = InlineTable::new();
            it.insert("size", number(*size));
            if !what.is_empty() {
                it.insert("what", Value::from(what.as_str()));
            }
            Value::InlineTable(it)
        }
        Universe::Indicator { indicator } => {
            let mut it = InlineTable::new();
            it.insert("indicator", Value::from(indicator.as_str()));
            Value::InlineTable(it)
        }
    });
    set_or_remove(t, "universe", universe);
    set_or_remove(
        t,
        "note",
        (!row.note.is_empty()).then(|| Value::from(row.note.as_str())),
    );
}

/// The plan text with the task `edit.code` set to the edit's fields.
pub fn with_node(file: &str, text: &str, edit: &NodeEdit) -> Result<String, PlanErrors> {
    let mut doc = parse(file, text)?;
    let t = entry(&mut doc, "node", edit.code.as_str());
    set(t, "name", Value::from(edit.name.as_str()));
    if edit.lead.is_empty() {
        t.remove("lead");
    } else {
        set_units(t, "lead", &edit.lead);
    }
    if edit.co.is_empty() {
        t.remove("co");
    } else {
        set_units(t, "co", &edit.co);
    }
    set_or_remove(
        t,
        "summary",
        (!edit.summary.is_empty()).then(|| Value::from(edit.summary.as_str())),
    );
    Ok(doc.to_string())
}

/// The plan text with the indicator `edit.code` set to the edit's fields.
pub fn with_indicator(file: &str, text: &str, edit: &IndicatorEdit) -> Result<String, PlanErrors> {
    let mut doc = parse(file, text)?;
    let t = entry(&mut doc, "indicator", edit.code.as_str());
    set(t, "name", Value::from(edit.name.as_str()));
    set(t, "unit", Value::from(edit.unit.as_str()));
    set_or_remove(
        t,
        "definition",
        (!edit.definition.is_empty()).then(|| Value::from(edit.definition.as_str())),
    );
    set_or_remove(
        t,
        "department",
        edit.department.as_ref().map(|d| Value::from(d.as_str())),
    );
    if let Some(f) = &edit.frequency {
        set(t, "frequency", Value::from(f.as_str()));
    }
    Ok(doc.to_string())
}

/// A new plan from a target table: the frame of `base_text` (areas,
/// departments, indicators, reporting, ranking and market rules) under the
/// new header, with the rows as its targets and tasks. The base's targets,
/// tasks and allocations are not carried; a goal is kept when every target
/// it lists is in the table.
pub fn plan_from_table(
    file: &str,
    base_text: &str,
    new: &NewPlan,
    rows: &[TargetRow],
) -> Result<String, PlanErrors> {
    let mut doc = parse(file, base_text)?;
    if let Some(p) = doc.get_mut("plan").and_then(Item::as_table_mut) {
        p.insert("code", Item::Value(Value::from(new.code.as_str())));
        p.insert("name", Item::Value(Value::from(new.name.as_str())));
        p.remove("short_name");
        p.insert("start", Item::Value(date(new.start)));
        p.insert("end", Item::Value(date(new.end)));
        p.insert("status", Item::Value(Value::from("draft")));
        p.remove("source");
        p.decor_mut().set_prefix(format!(
            "# 由目标表导入生成：{}。地区、部门和指标沿用所选规划。\n",
            new.name
        ));
    }
    let in_table = |c: &str| rows.iter().any(|r| r.code.as_str() == c);
    if let Some(goals) = doc.get_mut("goal").and_then(Item::as_array_of_tables_mut) {
        goals.retain(|g| {
            g.get("targets")
                .and_then(Item::as_array)
                .is_some_and(|a| a.iter().all(|v| v.as_str().is_some_and(in_table)))
        });
    }
    doc.remove("target");
    // The base's tasks that the rows name stay, with the tasks above them,
    // so that a table reusing the old structure keeps its hierarchy.
    let mut keep: Vec<String> = rows
        .iter()
        .filter_map(|r| r.node.as_ref().map(|n| n.to_string()))
        .collect();
    let mut i = 0;
    while i < keep.len() {
        if let Some(p) = field(&doc, "node", &keep[i], "parent")
            .and_then(Item::as_str)
            .map(str::to_string)
            && !keep.contains(&p)
        {
            keep.push(p);
        }
        i += 1;
    }
    if let Some(nodes) = doc.get_mut("node").and_then(Item::as_array_of_tables_mut) {
        nodes.retain(|n| {
            n.get("code")
                .and_then(Item::as_str)
                .is_some_and(|c| keep.iter().any(|k| k == c))
        });
    }
    for row in rows {
        write_target(&mut doc, row);
    }
    Ok(doc.to_string())
}
