//! The normalised plan as JSON, for `plan show --json` and the API: a tree of
//! nodes with their responsible units and targets, the headline goals, and a
//! flat list of every target.

use kc_domain::Plan;
use kc_domain::plan::{Node, Target, TargetValue, Universe};
use serde_json::{Value, json};

pub fn plan_json(plan: &Plan) -> Value {
    json!({
        "code": plan.code,
        "name": plan.name,
        "short_name": plan.short_name,
        "city": plan.city,
        "level": plan.level,
        "whole": plan.whole_label(),
        "issuer": plan.report_issuer(),
        "follows": plan.follows,
        "reporting": {
            "due_days": plan.reporting.due_days,
            "indicators": plan.indicators.iter().filter(|i| i.is_reported()).map(|i| json!({
                "code": i.code,
                "frequency": i.frequency,
                "due_days": i.due_days.unwrap_or(plan.reporting.due_days),
                "area_reports": i.areas_report(),
            })).collect::<Vec<_>>(),
        },
        "period": { "start": plan.period.start, "end": plan.period.end },
        "status": plan.status,
        "source": plan.source,
        "levels": plan.levels,
        "every_node": {
            "all_areas": plan.every_node.all_areas,
            "units": plan.every_node.units.iter().map(|c| unit(plan, c.as_str())).collect::<Vec<_>>(),
            "note": plan.every_node.note,
        },
        "status_rule": plan.status_rule,
        "areas": plan.areas,
        "departments": plan.departments,
        "indicators": plan.indicators,
        "goals": plan.goals.iter().map(|g| json!({
            "code": g.code,
            "name": g.name,
            "summary": g.summary,
            "targets": g.targets.iter().filter_map(|t| plan.target(t.as_str())).map(|t| target_json(plan, t)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "tree": plan.children(None).map(|n| node_json(plan, n)).collect::<Vec<_>>(),
        "targets": plan.targets.iter().map(|t| target_json(plan, t)).collect::<Vec<_>>(),
    })
}

fn unit(plan: &Plan, code: &str) -> Value {
    json!({ "code": code, "name": plan.unit_name(code) })
}

fn node_json(plan: &Plan, n: &Node) -> Value {
    json!({
        "level": n.level,
        "code": n.code,
        "name": n.name,
        "summary": n.summary,
        "lead": n.lead.iter().map(|c| unit(plan, c.as_str())).collect::<Vec<_>>(),
        "co": n.co.iter().map(|c| unit(plan, c.as_str())).collect::<Vec<_>>(),
        "responsible_units": plan.responsible_units(n).into_iter().map(|c| unit(plan, c.as_str())).collect::<Vec<_>>(),
        "targets": plan.targets_of(n.code.as_str()).map(|t| target_json(plan, t)).collect::<Vec<_>>(),
        "children": plan.children(Some(n.code.as_str())).map(|c| node_json(plan, c)).collect::<Vec<_>>(),
    })
}

pub fn target_json(plan: &Plan, t: &Target) -> Value {
    let target = match t.value {
        TargetValue::Number { value } => json!(value),
        TargetValue::Range { min, max } => json!({ "min": min, "max": max }),
        TargetValue::Done => json!("done"),
    };
    let universe = t.universe.as_ref().map(|u| match u {
        Universe::Count { size, what } => json!({ "size": size, "what": what }),
        Universe::Indicator { indicator } => json!({ "indicator": indicator }),
    });
    json!({
        "code": t.code,
        "name": t.name,
        "kind": t.kind,
        "kind_zh": t.kind.zh(),
        "target": target,
        "describe": t.describe(),
        "unit": t.unit,
        "deadline": t.deadline,
        "direction": t.direction,
        "strict": t.strict,
        "indicator": t.indicator,
        "node": t.node,
        "goals": plan.goals_of(t.code.as_str()).iter().map(|g| &g.code).collect::<Vec<_>>(),
        "baseline": t.baseline,
        "curve": t.curve,
        "checkpoints": t.checkpoints,
        "forecast": t.forecast,
        "compare": t.compare,
        "margin": t.margin,
        "universe": universe,
        "revision": t.revision.as_ref().map(|r| {
            let mut shown = t.clone();
            shown.value = r.original;
            json!({ "original": shown.describe(), "date": r.date, "note": r.note })
        }),
        "peers": t.peers,
        "basis": t.basis,
        "weight": t.weight,
        "note": t.note,
        "multiple": t.multiple,
        "origin": t.origin,
        "origin_zh": t.origin.zh(),
        "allocations": t.allocations.iter().map(|a| json!({
            "unit": a.unit,
            "unit_name": plan.unit_name(a.unit.as_str()),
            "target": a.value.path_end(t.direction),
            "baseline": a.baseline,
            "checkpoints": a.checkpoints,
            "responsible": a.responsible,
        })).collect::<Vec<_>>(),
    })
}
