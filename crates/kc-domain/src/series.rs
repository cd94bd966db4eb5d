//! Observations of an indicator and the arithmetic on them: the flow over a
//! date range when months, quarters and years are mixed; city totals from
//! areas; formula indicators.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::expr::Expr;
use crate::period::Period;
use crate::plan::{DataSource, Plan};
use crate::value::Scope;

/// One value of an indicator for one period, as used by the math: the latest
/// revision of what was reported (or computed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Obs {
    pub period: Period,
    pub value: f64,
    /// Not yet official: awaiting review, or a city total some areas have
    /// not reported into yet.
    pub provisional: bool,
    /// The value carries evidence (a note or attachment), which qualitative
    /// tasks need to count as done.
    pub evidence: bool,
}

impl Obs {
    pub fn new(period: Period, value: f64) -> Self {
        Obs {
            period,
            value,
            provisional: false,
            evidence: false,
        }
    }
}

/// Observations keyed by indicator code, for one scope (the city, an area or
/// a department). Each list is sorted by period and holds one value per
/// period.
#[derive(Debug, Clone, Default)]
pub struct SeriesSet {
    map: HashMap<String, Vec<Obs>>,
}

impl SeriesSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an observation, replacing any earlier one for the same period.
    pub fn insert(&mut self, indicator: &str, obs: Obs) {
        let list = self.map.entry(indicator.to_string()).or_default();
        match list.binary_search_by(|o| o.period.cmp(&obs.period)) {
            Ok(i) => list[i] = obs,
            Err(i) => list.insert(i, obs),
        }
    }

    /// Drops every observation of an indicator (before a computed series
    /// replaces them).
    pub fn clear(&mut self, indicator: &str) {
        self.map.remove(indicator);
    }

    pub fn get(&self, indicator: &str) -> &[Obs] {
        self.map.get(indicator).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn indicators(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.map.values().all(Vec::is_empty)
    }

    /// The end of the latest period with any value, if any.
    pub fn latest_end(&self) -> Option<NaiveDate> {
        self.map
            .values()
            .filter_map(|v| v.last())
            .map(|o| o.period.end())
            .max()
    }
}

/// Sum of a flow over the whole months of `[from, to]`, decomposing each year
/// into the coarsest periods that were reported: a year's value if present,
/// else its quarters, else its months. Partly covered periods are left out.
/// Returns the total, the end of the last period counted, and whether any
/// counted value is provisional; `None` when nothing was counted.
pub fn flow_total(obs: &[Obs], from: NaiveDate, to: NaiveDate) -> Option<FlowTotal> {
    if obs.is_empty() || from > to {
        return None;
    }
    let by_period: BTreeMap<Period, &Obs> = obs.iter().map(|o| (o.period, o)).collect();
    let mut acc = FlowTotal {
        total: 0.0,
        through: from,
        provisional: false,
        parts: 0,
    };
    for year in from.year()..=to.year() {
        add_period(&by_period, Period::Year(year), from, to, &mut acc);
    }
    (acc.parts > 0).then_some(acc)
}

fn add_period(
    by_period: &BTreeMap<Period, &Obs>,
    p: Period,
    from: NaiveDate,
    to: NaiveDate,
    acc: &mut FlowTotal,
) {
    if p.end() < from || p.start() > to {
        return;
    }
    let whole = from <= p.start() && p.end() <= to;
    if whole && let Some(o) = by_period.get(&p) {
        acc.total += o.value;
        acc.provisional |= o.provisional;
        acc.parts += 1;
        acc.through = acc.through.max(p.end());
        return;
    }
    for part in p.parts() {
        add_period(by_period, part, from, to, acc);
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowTotal {
    pub total: f64,
    /// End of the latest period counted.
    pub through: NaiveDate,
    pub provisional: bool,
    pub parts: usize,
}

/// The running total of a flow from `from` at the end of every reported
/// period: the points of a cumulative chart.
pub fn running_totals(obs: &[Obs], from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, FlowTotal)> {
    let mut ends: Vec<NaiveDate> = obs
        .iter()
        .map(|o| o.period.end())
        .filter(|d| *d >= from && *d <= to)
        .collect();
    ends.sort();
    ends.dedup();
    let mut out: Vec<(NaiveDate, FlowTotal)> = Vec::new();
    for end in ends {
        if let Some(t) = flow_total(obs, from, end) {
            // Only keep a point when it counts something new.
            if out.last().is_none_or(|(_, prev)| prev.through < t.through) {
                out.push((t.through, t));
            }
        }
    }
    out
}

/// Stock observations reduced to one value per end date. When a year, its
/// fourth quarter and December all report a level for the same day, the
/// yearly figure wins: annual statistics are the authoritative release.
pub fn stock_points(obs: &[Obs]) -> Vec<Obs> {
    let mut by_end: BTreeMap<NaiveDate, Obs> = BTreeMap::new();
    for o in obs {
        let end = o.period.end();
        match by_end.get(&end) {
            Some(prev) if prev.period.frequency() >= o.period.frequency() => {}
            _ => {
                by_end.insert(end, *o);
            }
        }
    }
    by_end.into_values().collect()
}

/// Sums the areas' observations into city totals, period by period. A total
/// is provisional when any part is, or when fewer than `area_count` areas
/// reported for that period.
pub fn sum_areas<'a>(
    area_series: impl IntoIterator<Item = &'a [Obs]>,
    area_count: usize,
) -> Vec<Obs> {
    let mut sums: BTreeMap<Period, (Obs, usize)> = BTreeMap::new();
    for series in area_series {
        for o in series {
            let e = sums.entry(o.period).or_insert((
                Obs {
                    period: o.period,
                    value: 0.0,
                    provisional: false,
                    evidence: false,
                },
                0,
            ));
            e.0.value += o.value;
            e.0.provisional |= o.provisional;
            e.0.evidence |= o.evidence;
            e.1 += 1;
        }
    }
    sums.into_values()
        .map(|(mut o, n)| {
            o.provisional |= n < area_count;
            o
        })
        .collect()
}

/// One stored value, as the math needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopedObs {
    pub indicator: String,
    pub scope: Scope,
    pub obs: Obs,
}

/// The observations of one scope, ready for evaluation.
///
/// For the city, a period without a city-wide value of an additive indicator
/// takes the sum of the areas' values (provisional if some area is missing).
/// Formula indicators are computed last.
pub fn scope_set(plan: &Plan, values: &[ScopedObs], scope: &Scope) -> SeriesSet {
    let mut set = scope_set_reported(plan, values, scope);
    resolve_formulas(plan, &mut set);
    set
}

/// [`scope_set`] without the formula indicators, for callers that add
/// computed series first.
pub fn scope_set_reported(plan: &Plan, values: &[ScopedObs], scope: &Scope) -> SeriesSet {
    let mut set = SeriesSet::new();
    for v in values.iter().filter(|v| &v.scope == scope) {
        set.insert(&v.indicator, v.obs);
    }
    if *scope == Scope::City {
        for ind in plan.indicators.iter().filter(|i| i.additive) {
            let mut per_area: HashMap<&Scope, Vec<Obs>> = HashMap::new();
            for v in values
                .iter()
                .filter(|v| v.indicator == ind.code.as_str() && matches!(v.scope, Scope::Area(_)))
            {
                per_area.entry(&v.scope).or_default().push(v.obs);
            }
            if per_area.is_empty() {
                continue;
            }
            let sums = sum_areas(per_area.values().map(Vec::as_slice), plan.areas.len());
            let explicit: Vec<Period> = set
                .get(ind.code.as_str())
                .iter()
                .map(|o| o.period)
                .collect();
            for o in sums.into_iter().filter(|o| !explicit.contains(&o.period)) {
                set.insert(ind.code.as_str(), o);
            }
        }
    }
    set
}

/// Resolves the series of every formula indicator of `plan` in `set`,
/// evaluating each formula for every period in which all its inputs have a
/// value. Formulas may use other formulas; the plan checker has rejected
/// cycles, so the iteration below terminates.
pub fn resolve_formulas(plan: &Plan, set: &mut SeriesSet) {
    let formulas: Vec<(&Code, Expr)> = plan
        .indicators
        .iter()
        .filter_map(|i| match &i.source {
            DataSource::Formula { expr } => Expr::parse(expr).ok().map(|e| (&i.code, e)),
            _ => None,
        })
        .collect();
    let mut done: Vec<bool> = vec![false; formulas.len()];
    // Each pass resolves formulas whose inputs are all resolved.
    for _ in 0..=formulas.len() {
        let mut progressed = false;
        for (i, (code, expr)) in formulas.iter().enumerate() {
            if done[i] {
                continue;
            }
            let pending_input = expr.variables().iter().any(|v| {
                formulas
                    .iter()
                    .enumerate()
                    .any(|(j, (c, _))| !done[j] && c.as_str() == v.as_str())
            });
            if pending_input {
                continue;
            }
            let series = eval_formula(expr, set);
            for o in series {
                set.insert(code.as_str(), o);
            }
            done[i] = true;
            progressed = true;
        }
        if !progressed {
            break;
        }
    }
}

fn eval_formula(expr: &Expr, set: &SeriesSet) -> Vec<Obs> {
    let vars = expr.variables();
    let Some(first) = vars.first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for o in set.get(first) {
        let mut provisional = false;
        let mut env: HashMap<&str, f64> = HashMap::new();
        let mut complete = true;
        for v in &vars {
            match set.get(v).iter().find(|x| x.period == o.period) {
                Some(x) => {
                    provisional |= x.provisional;
                    env.insert(v.as_str(), x.value);
                }
                None => {
                    complete = false;
                    break;
                }
            }
        }
        if !complete {
            continue;
        }
        if let Some(value) = expr.eval(&|name| env.get(name).copied()) {
            out.push(Obs {
                period: o.period,
                value,
                provisional,
                evidence: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::ymd;

    fn o(p: &str, v: f64) -> Obs {
        Obs::new(p.parse().unwrap(), v)
    }

    #[test]
    fn flow_prefers_coarse_periods_and_fills_from_finer() {
        let obs = [
            o("2023", 100.0),
            o("2023Q1", 20.0), // ignored: the year value covers it
            o("2024Q1", 30.0),
            o("2024-04", 5.0),
            o("2024-05", 6.0),
        ];
        let t = flow_total(&obs, ymd(2023, 1, 1), ymd(2024, 12, 31)).unwrap();
        assert_eq!(t.total, 141.0);
        assert_eq!(t.through, ymd(2024, 5, 31));
        // A range that cuts the year in two cannot use the year value.
        let t = flow_total(&obs, ymd(2023, 4, 1), ymd(2023, 12, 31));
        assert!(t.is_none());
    }

    #[test]
    fn running_totals_climb() {
        let obs = [o("2023", 10.0), o("2024Q1", 3.0), o("2024Q2", 4.0)];
        let pts = running_totals(&obs, ymd(2023, 1, 1), ymd(2025, 12, 31));
        let vals: Vec<f64> = pts.iter().map(|(_, t)| t.total).collect();
        assert_eq!(vals, vec![10.0, 13.0, 17.0]);
    }

    #[test]
    fn stock_points_prefer_yearly() {
        let pts = stock_points(&[
            o("2024-12", 11.0),
            o("2024", 12.0),
            o("2024Q4", 13.0),
            o("2025-01", 14.0),
        ]);
        assert_eq!(pts.len(), 2);
        assert_eq!(pts[0].value, 12.0);
    }

    #[test]
    fn city_total_is_partial_when_an_area_is_missing() {
        let a = [o("2024", 1.0), o("2025", 2.0)];
        let b = [o("2024", 3.0)];
        let sum = sum_areas([&a[..], &b[..]], 2);
        assert_eq!(sum[0].value, 4.0);
        assert!(!sum[0].provisional);
        assert_eq!(sum[1].value, 2.0);
        assert!(sum[1].provisional);
    }
}
