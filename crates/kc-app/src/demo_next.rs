//! The demo's next plan: once the demo plan has ended (the date the demo is
//! loaded on says so), the database also holds the 2026–2030 plan drafted
//! from its final evaluation — what a bureau works on after 2025 — with
//! demo targets in place of the draft's 待定 and the quarters of 2026
//! reported so far.

use chrono::{Datelike, NaiveDate};
use kc_domain::Plan;
use kc_domain::plan::{TargetKind, TargetValue};
use kc_domain::target_table::{TargetCell, row_of};
use kc_store::{NewValue, Store};

use crate::LoadError;

/// The next plan's period.
pub fn period() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
        NaiveDate::from_ymd_opt(2030, 12, 31).expect("valid date"),
    )
}

/// What a drafted target is set to in the demo.
enum Demo {
    Number(f64),
    Range(f64, f64),
}

/// A demo target for a drafted one: the old plan's ambition carried over
/// five years instead of three (the same yearly rate of change from the new
/// baseline), counts over the period scaled by 5/3, yearly figures kept.
fn demo_value(old: &Plan, new: &Plan, code: &str) -> Option<Demo> {
    let o = old.target(code)?;
    let n = new.target(code)?;
    let old_target = match o.value {
        TargetValue::Number { value } => value,
        // A yearly band (每年 3—5 场) stays as it was.
        TargetValue::Range { min, max } => return Some(Demo::Range(min, max)),
        TargetValue::Done => return None,
    };
    let years = f64::from(new.period.end.year() - new.period.start.year() + 1);
    let old_years = f64::from((o.deadline.year() - old.period.start.year() + 1).max(1));
    let decimals = new
        .indicator(n.indicator.as_str())
        .map(|i| i.decimals)
        .unwrap_or(0);
    let round = |v: f64| {
        let f = 10f64.powi(i32::from(decimals));
        (v * f).round() / f
    };
    let v = match n.kind {
        TargetKind::PeriodCount | TargetKind::Cumulative => old_target * years / old_years,
        TargetKind::Stock | TargetKind::YearlyTotal | TargetKind::PerCapita | TargetKind::Share => {
            let (Some(ob), Some(nb)) = (&o.baseline, &n.baseline) else {
                return Some(Demo::Number(round(old_target)));
            };
            if ob.value <= 0.0 || nb.value <= 0.0 {
                return Some(Demo::Number(round(old_target)));
            }
            let rate = (old_target / ob.value).powf(1.0 / old_years);
            let v = nb.value * rate.powf(years);
            if n.kind == TargetKind::Share {
                v.min(95.0)
            } else {
                v
            }
        }
        TargetKind::Rank => match (&o.baseline, &n.baseline) {
            (Some(ob), Some(nb)) => (nb.value - (ob.value - old_target)).max(1.0),
            _ => old_target,
        },
        _ => old_target,
    };
    Some(Demo::Number(round(v)))
}

/// The next plan's text with every 待定 target given its demo value.
pub fn with_demo_targets(old: &Plan, file: &str, text: &str) -> Result<String, LoadError> {
    let new = kc_planfile::parse_plan(file, text)?;
    let mut text = text.to_string();
    for t in new.targets.iter().filter(|t| t.pending) {
        let Some(v) = demo_value(old, &new, t.code.as_str()) else {
            continue;
        };
        let mut row = row_of(&new, t);
        row.target = match v {
            Demo::Number(v) => TargetCell::Number(v),
            Demo::Range(a, b) => TargetCell::Range(a, b),
        };
        text = kc_planfile::with_target(file, &text, &row)?;
    }
    Ok(text)
}

/// Loads the next plan and its first reported quarters when the demo plan
/// (`old`, stored as `old_code`) has ended by `today`; nothing otherwise or
/// when it is there already. Returns the values loaded.
pub async fn load(store: &Store, old: &Plan, today: NaiveDate) -> Result<usize, LoadError> {
    let (start, end) = period();
    let due = chrono::Days::new(u64::from(old.reporting.due_days));
    if today < old.period.end + due {
        return Ok(0);
    }
    let engines = crate::registries::Engines::new();
    let draft =
        match crate::final_eval::draft(store, &engines, old.code.as_str(), start, end, today).await
        {
            Ok(d) => d,
            Err(crate::report::ReportError::Store(e)) => return Err(e.into()),
            // A demo plan that cannot be drafted (edited by hand) gets no
            // successor; the demo itself still loads.
            Err(e) => {
                tracing::warn!(error = %e, "demo: the next plan was not drafted");
                return Ok(0);
            }
        };
    let text = with_demo_targets(old, &draft.file, &draft.text)?;
    let text = text.replacen(
        "# 下一轮规划草稿",
        "# 演示数据：下一轮规划草稿（目标值为演示数字）",
        1,
    );
    let plan = kc_planfile::parse_plan(&draft.file, &text)?;
    if store.plan(plan.code.as_str()).await?.is_some() {
        return Ok(0);
    }
    store.save_plan(&plan, &text, "demo").await?;
    let through = crate::demo_through_for(&plan, today);
    if through < start {
        return Ok(0);
    }
    let code = plan.code.to_string();
    let values: Vec<NewValue> = kc_demo::generate(&plan, crate::DEMO_SEED + 1, through)
        .into_iter()
        .map(|v| crate::demo_value(&plan, &code, v))
        .collect();
    Ok(store.append_values(&values).await?)
}
