//! View models: the figures of a snapshot turned into the text pages show.
//! Templates only print these strings; all number formatting is here.

use kc_app::Snapshot;
use kc_domain::plan::{Target, TargetKind, TargetValue};
use kc_domain::{Evaluation, Plan, Status};

/// A number with thousands separators and at most `decimals` places.
pub fn num(v: f64, decimals: u8) -> String {
    if !v.is_finite() {
        return "—".to_string();
    }
    let s = kc_domain::plan::fmt_num(v, usize::from(decimals));
    let (sign, rest) = s
        .strip_prefix('-')
        .map(|r| ("-", r))
        .unwrap_or(("", s.as_str()));
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

pub fn status_class(s: Status) -> &'static str {
    match s {
        Status::Achieved => "st-done",
        Status::OnTrack => "st-ok",
        Status::AtRisk => "st-warn",
        Status::OffTrack => "st-bad",
        Status::InsufficientData | Status::NoData => "st-none",
    }
}

/// Decimal places for a target's values: the indicator's, but at least one
/// for per-cent kinds.
pub fn decimals(plan: &Plan, t: &Target) -> u8 {
    let d = plan
        .indicator(t.indicator.as_str())
        .map(|i| i.decimals)
        .unwrap_or(2);
    match t.kind {
        TargetKind::Coverage | TargetKind::GrowthRate | TargetKind::Relative => d.max(1),
        _ => d,
    }
}

/// One target as a row of a table.
pub struct TargetRow {
    pub code: String,
    pub name: String,
    pub href: String,
    pub kind: &'static str,
    pub goal: String,
    pub deadline: String,
    pub value: String,
    pub value_date: String,
    /// The records behind the value, for registry-computed indicators.
    pub value_href: String,
    pub provisional: bool,
    pub has_bar: bool,
    /// Bar fill and the expected-progress mark, 0–100.
    pub bar: String,
    pub mark: String,
    pub completion: String,
    pub expected: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub note: String,
}

impl TargetRow {
    pub fn new(snap: &Snapshot, t: &Target) -> TargetRow {
        let plan = &snap.plan;
        let e = snap.eval(t.code.as_str());
        let dec = decimals(plan, t);
        let status = e.map(|e| e.status).unwrap_or(Status::NoData);
        let clamp = |v: f64| v.clamp(0.0, 100.0);
        let completion = e.and_then(|e| e.completion);
        let expected = e.and_then(|e| e.expected_completion);
        TargetRow {
            code: t.code.to_string(),
            name: t.name.clone(),
            href: format!("/plans/{}/targets/{}", plan.code, t.code),
            kind: t.kind.zh(),
            goal: t.describe(),
            deadline: t.deadline.to_string(),
            value: e
                .map(|e| value_text(t, e, dec))
                .unwrap_or_else(|| "—".to_string()),
            value_date: e
                .and_then(|e| e.value_date)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            value_href: e
                .and_then(|e| e.value_date)
                .and_then(|d| drill_href(snap, t, d))
                .unwrap_or_default(),
            provisional: e.is_some_and(|e| e.provisional),
            has_bar: completion.is_some(),
            bar: format!("{:.1}", completion.map(clamp).unwrap_or(0.0)),
            mark: format!("{:.1}", expected.map(clamp).unwrap_or(0.0)),
            completion: completion
                .map(|c| format!("{}%", num(c, 1)))
                .unwrap_or_default(),
            expected: expected
                .map(|c| format!("{}%", num(c, 1)))
                .unwrap_or_default(),
            status: status.zh(),
            status_class: status_class(status),
            note: e
                .map(|e| with_after_deadline(lag_text(e), e))
                .unwrap_or_default(),
        }
    }
}

/// Past the deadline: the verdict is the deadline's, and later values are
/// shown beside it (期后数据), never used for it.
fn with_after_deadline(note: String, e: &kc_domain::Evaluation) -> String {
    let Some(at) = e.judged_at else { return note };
    let mut out = format!("按截止日期 {at} 判断");
    if let Some(p) = e.after_deadline.last() {
        out.push_str(&format!(
            "；期后数据 {} 为 {}（不计入）",
            p.date,
            kc_domain::plan::fmt_num(p.value, 2)
        ));
    }
    if note.is_empty() {
        out
    } else {
        format!("{note}；{out}")
    }
}

/// The registry list of the records behind a target's value at `date`,
/// for indicators the engine computes; `None` for others (and for kinds,
/// like growth rates, whose number is not a count or sum of records).
pub fn drill_href(snap: &Snapshot, t: &Target, date: chrono::NaiveDate) -> Option<String> {
    let plan = &snap.plan;
    let ind = plan.indicator(t.indicator.as_str())?;
    if !snap.is_computed(ind.code.as_str()) {
        return None;
    }
    let kc_domain::plan::DataSource::Registry { registry, .. } = &ind.source else {
        return None;
    };
    let from = match t.kind {
        TargetKind::GrowthRate | TargetKind::Relative => return None,
        TargetKind::PeriodCount => plan.period.start,
        TargetKind::Cumulative => t
            .baseline
            .as_ref()
            .and_then(|b| b.date.succ_opt())
            .unwrap_or(plan.period.start),
        TargetKind::Annual | TargetKind::YearlyTotal => {
            chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&date), 1, 1)?
        }
        _ => date,
    };
    Some(format!(
        "/plans/{}/registries/{}?indicator={}&scope={}&from={}&to={}",
        plan.code, registry, ind.code, snap.scope, from, date
    ))
}

/// The value a target is judged on, with its unit.
pub fn value_text(t: &Target, e: &Evaluation, dec: u8) -> String {
    let Some(v) = e.value else {
        return "—".to_string();
    };
    match t.kind {
        TargetKind::Relative => {
            let unit = if t.unit == "%" {
                "个百分点"
            } else {
                t.unit.as_str()
            };
            let sign = if v > 0.0 { "+" } else { "" };
            match e.compared_with {
                Some(c) => format!(
                    "{sign}{} {unit}（对比值 {}{}）",
                    num(v, dec),
                    num(c, dec),
                    t.unit
                ),
                None => format!("{sign}{} {unit}", num(v, dec)),
            }
        }
        TargetKind::Rank => format!("第{}名", num(v, 0)),
        TargetKind::Milestone | TargetKind::Task if matches!(t.value, TargetValue::Done) => {
            if v >= 100.0 {
                "已完成".to_string()
            } else {
                format!("完成 {}%", num(v, 0))
            }
        }
        _ => format!("{} {}", num(v, dec), t.unit),
    }
}

/// "Behind the expected path by 6.7 points", or the reason for the status.
pub fn lag_text(e: &Evaluation) -> String {
    if let Some(r) = &e.reason {
        return r.clone();
    }
    match e.lag {
        Some(l) if l > 0.05 => format!("落后序时进度 {} 个百分点", num(l, 1)),
        Some(l) if l < -0.05 => format!("领先序时进度 {} 个百分点", num(-l, 1)),
        Some(_) => "与序时进度持平".to_string(),
        None => String::new(),
    }
}

/// Counts per status with their labels, for the summary chips.
pub struct StatusCount {
    pub label: &'static str,
    pub class: &'static str,
    pub count: usize,
}

pub fn status_counts(counts: [usize; 6]) -> Vec<StatusCount> {
    Status::ALL
        .iter()
        .zip(counts)
        .map(|(s, count)| StatusCount {
            label: s.zh(),
            class: status_class(*s),
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped() {
        assert_eq!(num(1234567.0, 0), "1,234,567");
        assert_eq!(num(-1234.5, 1), "-1,234.5");
        assert_eq!(num(2.52, 2), "2.52");
        assert_eq!(num(100.0, 2), "100");
        assert_eq!(num(f64::NAN, 2), "—");
        assert_eq!(num(999.0, 0), "999");
    }
}
