//! Deterministic demo data. Pure: it turns a plan and a seed into values,
//! and the caller stores them.
//!
//! The history is plausible rather than real: every reported indicator moves
//! from its baseline (or a reasonable start) towards its target at a pace
//! chosen per indicator from the seed — some ahead, most on track, some
//! behind — so a first run shows a plan with green, amber and red targets.
//! Additive indicators are reported by the areas (the city total is their
//! sum); the others by the city.

pub mod market;
pub mod names;
pub mod registries;

use chrono::{Datelike, NaiveDate};
use kc_domain::period::{Frequency, Period};
use kc_domain::plan::{
    DataSource, Direction, GrowthBasis, Indicator, Plan, Target, TargetKind, TargetValue, Universe,
};
use kc_domain::{Scope, Vintage};

/// One demo value.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoValue {
    pub indicator: String,
    pub scope: Scope,
    pub period: Period,
    pub value: f64,
    pub note: String,
    pub vintage: Vintage,
}

/// A small, dependency-free generator (SplitMix64) so that the same seed
/// gives the same data on every machine and every version of every crate.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// A seeded child generator for one named stream, so adding an indicator
    /// does not change the others' data.
    pub fn fork(&self, name: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
        Rng::new(self.0 ^ h)
    }
}

/// How the demo history treats one indicator: the pace relative to plan.
fn pace(rng: &mut Rng) -> f64 {
    // Mostly on track, a few ahead and a few behind.
    match rng.unit() {
        x if x < 0.20 => rng.range(1.06, 1.15),
        x if x < 0.65 => rng.range(0.99, 1.04),
        x if x < 0.85 => rng.range(0.88, 0.95),
        _ => rng.range(0.70, 0.82),
    }
}

/// Generates values from the plan start through the end of `through` (the
/// last month with data).
pub fn generate(plan: &Plan, seed: u64, through: NaiveDate) -> Vec<DemoValue> {
    let root = Rng::new(seed);
    let mut out = Vec::new();
    let by_ind = plan.targets_by_indicator();
    // Indicators compared with by relative targets are generated with them.
    let compared: Vec<&str> = plan
        .targets
        .iter()
        .filter_map(|t| t.compare.as_ref().map(|c| c.as_str()))
        .collect();
    for ind in &plan.indicators {
        // Formulas and registry-computed indicators are not reported.
        let computed = matches!(
            ind.source,
            DataSource::Registry {
                compute: Some(_),
                ..
            }
        );
        if matches!(ind.source, DataSource::Formula { .. })
            || computed
            || compared.contains(&ind.code.as_str())
        {
            continue;
        }
        let mut rng = root.fork(ind.code.as_str());
        let target = by_ind
            .get(ind.code.as_str())
            .and_then(|ts| ts.first().copied());
        let series = match target {
            Some(t) => target_series(plan, ind, t, through, &mut rng),
            None => universe_series(plan, ind, through, &mut rng),
        };
        for (period, value, evidence) in series.city {
            let compare_value = series
                .compare
                .iter()
                .find(|(p, _)| *p == period)
                .map(|(_, v)| *v);
            emit(
                plan, ind, period, value, evidence, through, &mut rng, &mut out,
            );
            if let (Some(t), Some(cv)) = (target, compare_value)
                && let Some(c) = &t.compare
            {
                out.push(value_of(
                    c.as_str(),
                    Scope::City,
                    period,
                    round(cv, 2),
                    through,
                    None,
                ));
            }
        }
    }
    out
}

struct Series {
    /// City-level values (period, value, evidence note).
    city: Vec<(Period, f64, Option<String>)>,
    /// For relative targets: the compared series.
    compare: Vec<(Period, f64)>,
}

fn periods(ind: &Indicator, plan: &Plan, through: NaiveDate) -> Vec<Period> {
    Period::all_within(
        ind.frequency,
        plan.period.start,
        through.min(plan.period.end),
    )
}

/// Fraction of the plan period elapsed at `d` (0 at the start, 1 at the deadline).
fn progress(plan: &Plan, t: &Target, d: NaiveDate) -> f64 {
    let total = (t.deadline - plan.period.start).num_days().max(1) as f64;
    ((d - plan.period.start).num_days() as f64 / total).clamp(0.0, 1.5)
}

fn target_series(
    plan: &Plan,
    ind: &Indicator,
    t: &Target,
    through: NaiveDate,
    rng: &mut Rng,
) -> Series {
    let speed = pace(rng);
    let goal = t.value.path_end(t.direction);
    let ps = periods(ind, plan, through);
    let noise = |rng: &mut Rng, scale: f64| 1.0 + rng.range(-scale, scale);
    let mut city = Vec::new();
    let mut compare = Vec::new();
    match t.kind {
        TargetKind::PeriodCount
        | TargetKind::Cumulative
        | TargetKind::Annual
        | TargetKind::YearlyTotal => {
            // Flows: spread each year's expected amount over its periods.
            let per_year = |year: i32| -> f64 {
                match t.kind {
                    TargetKind::Annual => goal,
                    TargetKind::YearlyTotal => {
                        let base = t
                            .baseline
                            .as_ref()
                            .map(|b| (b.date.year(), b.value))
                            .unwrap_or((plan.period.start.year() - 1, goal * 0.6));
                        let span = (t.deadline.year() - base.0).max(1) as f64;
                        base.1 + (goal - base.1) * ((year - base.0) as f64 / span).clamp(0.0, 1.0)
                    }
                    _ => {
                        let start = match (t.kind, &t.baseline) {
                            (TargetKind::Cumulative, Some(b)) => b.value,
                            _ => 0.0,
                        };
                        let years =
                            (t.deadline.year() - plan.period.start.year() + 1).max(1) as f64;
                        (goal - start) / years
                    }
                }
            };
            let parts = match ind.frequency {
                Frequency::Monthly => 12.0,
                Frequency::Quarterly => 4.0,
                Frequency::Yearly => 1.0,
            };
            for p in ps {
                let v = per_year(p.year()) / parts * speed * noise(rng, 0.25);
                city.push((p, v.max(0.0), None));
            }
        }
        TargetKind::GrowthRate => {
            if t.basis == GrowthBasis::Rate {
                for p in ps {
                    city.push((p, goal * speed * noise(rng, 0.12), None));
                }
            } else {
                let mut level = t.baseline.as_ref().map(|b| b.value).unwrap_or(100.0);
                for p in ps {
                    level *= 1.0 + goal / 100.0 * speed * noise(rng, 0.2) * years_of(p);
                    city.push((p, level, None));
                }
            }
        }
        TargetKind::Relative => {
            for p in ps {
                let other = rng.range(8.0, 12.0);
                let gap = (speed - 0.95) * 20.0 + rng.range(-1.0, 1.0);
                compare.push((p, other));
                city.push((p, other + gap, None));
            }
        }
        TargetKind::Milestone | TargetKind::Task => {
            for p in ps {
                let f = progress(plan, t, p.end()) * speed * 1.1;
                let v = (f * 100.0 / 10.0).floor() * 10.0;
                let v = v.clamp(0.0, 100.0);
                let evidence = (t.kind == TargetKind::Task && v >= 100.0)
                    .then(|| "演示数据：已印发实施文件并完成验收".to_string());
                city.push((p, v, evidence));
            }
        }
        _ => {
            // Levels: from the baseline (or a start short of the goal) along
            // the plan, at this indicator's pace.
            let start =
                t.baseline
                    .as_ref()
                    .map(|b| b.value)
                    .unwrap_or(match (t.kind, t.direction) {
                        (TargetKind::ZeroCount, _) => rng.range(25.0, 60.0).round(),
                        (TargetKind::Rank, _) => goal + rng.range(3.0, 6.0).round(),
                        (TargetKind::Coverage, _) => rng.range(30.0, 60.0),
                        (_, Direction::Up) => goal * rng.range(0.55, 0.75),
                        (_, Direction::Down) => goal * rng.range(1.3, 1.6),
                    });
            let universe = coverage_size(plan, t);
            for p in ps {
                let f = progress(plan, t, p.end()) * speed;
                let mut v = start + (goal - start) * f;
                v *= noise(rng, 0.01);
                if t.kind == TargetKind::Rank {
                    v = v.round().max(1.0);
                }
                if t.kind == TargetKind::ZeroCount {
                    v = v.round().max(0.0);
                }
                if let TargetValue::Range { min, max } = t.value {
                    v = v.clamp(min * 0.9, max * 1.05);
                }
                if let Some(size) = universe {
                    // Coverage targets store the covered count.
                    v = (v.min(100.0) / 100.0 * size).round();
                }
                city.push((p, v, None));
            }
        }
    }
    Series { city, compare }
}

/// The universe size of a coverage target, when it is a fixed number or an
/// indicator whose demo value is known ahead.
fn coverage_size(plan: &Plan, t: &Target) -> Option<f64> {
    if t.kind != TargetKind::Coverage {
        return None;
    }
    match &t.universe {
        Some(Universe::Count { size, .. }) => Some(*size),
        Some(Universe::Indicator { indicator }) => {
            plan.indicator(indicator.as_str()).map(universe_total)
        }
        None => Some(100.0),
    }
}

/// A constant total for indicators no target measures (e.g. the number of
/// administrative villages a coverage target divides by).
fn universe_total(ind: &Indicator) -> f64 {
    let h = ind
        .code
        .as_str()
        .bytes()
        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
    (600 + h % 600) as f64
}

fn universe_series(plan: &Plan, ind: &Indicator, through: NaiveDate, _rng: &mut Rng) -> Series {
    let total = universe_total(ind);
    Series {
        city: periods(ind, plan, through)
            .into_iter()
            .map(|p| (p, total, None))
            .collect(),
        compare: Vec::new(),
    }
}

fn years_of(p: Period) -> f64 {
    match p.frequency() {
        Frequency::Yearly => 1.0,
        Frequency::Quarterly => 0.25,
        Frequency::Monthly => 1.0 / 12.0,
    }
}

fn round(v: f64, decimals: u8) -> f64 {
    let f = 10f64.powi(i32::from(decimals));
    (v * f).round() / f
}

/// Area weights: the two zones and the city districts carry more of the
/// city's firms than the counties. Deterministic per area code.
fn area_weights(plan: &Plan) -> Vec<f64> {
    let raw: Vec<f64> = plan
        .areas
        .iter()
        .map(|a| {
            let base = match a.kind.as_str() {
                "开发区" => 2.2,
                "区" => 1.2,
                _ => 0.8,
            };
            let h = a
                .code
                .as_str()
                .bytes()
                .fold(7u64, |x, b| x.wrapping_mul(131).wrapping_add(u64::from(b)));
            base * (0.8 + (h % 40) as f64 / 100.0)
        })
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.into_iter().map(|w| w / sum).collect()
}

/// Stores one city-level value: split over the areas for additive
/// indicators, else as the city's own value.
#[allow(clippy::too_many_arguments)]
fn emit(
    plan: &Plan,
    ind: &Indicator,
    period: Period,
    value: f64,
    evidence: Option<String>,
    through: NaiveDate,
    rng: &mut Rng,
    out: &mut Vec<DemoValue>,
) {
    let integer = ind.decimals == 0;
    if !ind.additive || plan.areas.is_empty() {
        let v = if integer {
            value.round()
        } else {
            round(value, ind.decimals.max(2))
        };
        if ind.areas_report() {
            emit_area_levels(plan, ind, period, v, through, out);
        }
        out.push(value_of(
            ind.code.as_str(),
            Scope::City,
            period,
            v,
            through,
            evidence,
        ));
        return;
    }
    let weights = area_weights(plan);
    let shares: Vec<f64> = if integer {
        // Hand out whole units one by one, each to an area drawn by weight,
        // so small counts land somewhere instead of rounding to zero.
        let total = value.round().max(0.0) as usize;
        let mut counts = vec![0.0; weights.len()];
        if total <= 200 {
            for _ in 0..total {
                counts[pick(&weights, rng)] += 1.0;
            }
        } else {
            for (c, w) in counts.iter_mut().zip(&weights) {
                *c = (value * w * (1.0 + rng.range(-0.05, 0.05))).round();
            }
        }
        counts
    } else {
        weights
            .iter()
            .map(|w| {
                round(
                    value * w * (1.0 + rng.range(-0.05, 0.05)),
                    ind.decimals.max(2),
                )
            })
            .collect()
    };
    for (area, v) in plan.areas.iter().zip(shares) {
        out.push(value_of(
            ind.code.as_str(),
            Scope::Area(area.code.clone()),
            period,
            v,
            through,
            evidence.clone(),
        ));
    }
}

/// Each area's own level of a non-additive indicator the areas report
/// (a share, a completion degree): the city's level varied by area. A third
/// of the areas have not reported the latest quarter yet, so the demo shows
/// overdue duties. A generator of its own keeps the rest of the demo data
/// as it was.
fn emit_area_levels(
    plan: &Plan,
    ind: &Indicator,
    period: Period,
    city: f64,
    through: NaiveDate,
    out: &mut Vec<DemoValue>,
) {
    let seed = ind
        .code
        .as_str()
        .bytes()
        .fold(period.end().num_days_from_ce() as u64, |h, b| {
            h.wrapping_mul(31).wrapping_add(u64::from(b))
        });
    let mut rng = Rng::new(seed);
    let latest = (through - period.end()).num_days() < 92;
    for (i, area) in plan.areas.iter().enumerate() {
        let varied = city * (1.0 + rng.range(-0.25, 0.25));
        if latest && i % 3 == 2 {
            continue;
        }
        let v = if ind.unit == "%" && ind.code.as_str().starts_with("task_") {
            varied.clamp(0.0, 100.0).round()
        } else {
            round(varied, ind.decimals.max(2))
        };
        out.push(value_of(
            ind.code.as_str(),
            Scope::Area(area.code.clone()),
            period,
            v,
            through,
            None,
        ));
    }
}

fn pick(weights: &[f64], rng: &mut Rng) -> usize {
    let mut x = rng.unit();
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

fn value_of(
    indicator: &str,
    scope: Scope,
    period: Period,
    value: f64,
    through: NaiveDate,
    evidence: Option<String>,
) -> DemoValue {
    // Values of the last two quarters are still provisional.
    let recent = (through - period.end()).num_days() < 180;
    DemoValue {
        indicator: indicator.to_string(),
        scope,
        period,
        value,
        note: evidence.unwrap_or_else(|| "演示数据".to_string()),
        vintage: if recent {
            Vintage::Provisional
        } else {
            Vintage::Official
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_stable() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(8).next_u64(), xs[0]);
        let u = Rng::new(1).unit();
        assert!((0.0..1.0).contains(&u));
    }

    #[test]
    fn weights_sum_to_one() {
        let plan = Plan {
            code: kc_domain::Code::parse("p").unwrap(),
            name: String::new(),
            short_name: None,
            city: String::new(),
            level: None,
            issuer: None,
            follows: None,
            period: kc_domain::DateRange {
                start: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
                end: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
            },
            status: kc_domain::plan::PlanStatus::Final,
            source: None,
            levels: vec![],
            areas: ["a", "b", "c"]
                .iter()
                .map(|c| kc_domain::plan::Area {
                    code: kc_domain::Code::parse(c).unwrap(),
                    name: c.to_string(),
                    kind: "区".into(),
                    aliases: Vec::new(),
                })
                .collect(),
            departments: vec![],
            every_node: Default::default(),
            indicators: vec![],
            goals: vec![],
            nodes: vec![],
            targets: vec![],
            status_rule: Default::default(),
            reporting: Default::default(),
            ranking: None,
            market: Default::default(),
        };
        let w = area_weights(&plan);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
