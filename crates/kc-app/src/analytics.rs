//! Analytics over a plan: the warning list (预警) with its history, and the
//! area ranking (争先进位) with the change against the previous quarter.

use chrono::NaiveDate;
use kc_domain::plan::Target;
use kc_domain::ranking::{self, RankingSpec};
use kc_domain::series::{SeriesSet, resolve_formulas, scope_set_reported};
use kc_domain::{Period, Plan, Scope, Status, evaluate};
use kc_engine::Engine;
use kc_store::ValueRecord;
use serde::Serialize;

use crate::{fill_computed, observations};

/// Every observation of a scope: reported values, engine-computed series,
/// formulas resolved. The input of every evaluation.
pub fn series_of(
    plan: &Plan,
    records: &[ValueRecord],
    scope: &Scope,
    engine: Option<&Engine>,
) -> SeriesSet {
    let mut set = scope_set_reported(plan, &observations(records), scope);
    if let Some(e) = engine {
        fill_computed(e, plan, scope, &mut set);
    }
    resolve_formulas(plan, &mut set);
    set
}

/// Every area's series, in the plan's area order (the input of rankings
/// and area comparisons).
pub fn area_series(
    plan: &Plan,
    records: &[ValueRecord],
    engine: Option<&Engine>,
) -> Vec<SeriesSet> {
    plan.areas
        .iter()
        .map(|a| series_of(plan, records, &Scope::Area(a.code.clone()), engine))
        .collect()
}

/// The three-colour warning level of a status (the common 红/黄/绿 practice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Red,
    Yellow,
    Green,
}

impl Level {
    pub fn of(status: Status) -> Option<Level> {
        match status {
            Status::OffTrack => Some(Level::Red),
            Status::AtRisk => Some(Level::Yellow),
            Status::OnTrack | Status::Achieved => Some(Level::Green),
            Status::InsufficientData | Status::NoData => None,
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Level::Red => "红色预警",
            Level::Yellow => "黄色预警",
            Level::Green => "正常",
        }
    }

    pub fn css(self) -> &'static str {
        match self {
            Level::Red => "st-bad",
            Level::Yellow => "st-warn",
            Level::Green => "st-ok",
        }
    }
}

/// One target behind its expected path.
#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub target: String,
    pub level: Level,
    /// Percentage points behind the expected path.
    pub lag: Option<f64>,
    /// The first quarter end of the present run of warnings.
    pub since: NaiveDate,
    /// Responsible units of the target's node (lead first).
    pub units: Vec<String>,
}

/// For every quarter end, the targets under warning then and their levels.
pub type History = Vec<(NaiveDate, Vec<(String, Level)>)>;

/// A ranking: the method, the areas best first, and the date compared with.
pub type Ranking = (RankingSpec, Vec<AreaRank>, NaiveDate);

/// Quarter ends from the plan's start up to `as_of` (inclusive when it is
/// one), oldest first.
pub fn quarter_ends(plan: &Plan, as_of: NaiveDate) -> Vec<NaiveDate> {
    Period::all_within(kc_domain::Frequency::Quarterly, plan.period.start, as_of)
        .into_iter()
        .map(|p| p.end())
        .collect()
}

/// The warning list at `as_of`, worst first (red before yellow, larger lag
/// first), and the history: for every quarter end the warnings in force
/// then. Both come from the same evaluations, so a warning that has
/// cleared still shows in the quarters it was raised.
pub fn warnings(plan: &Plan, set: &SeriesSet, as_of: NaiveDate) -> (Vec<Warning>, History) {
    let mut dates = quarter_ends(plan, as_of);
    if dates.last() != Some(&as_of) {
        dates.push(as_of);
    }
    // levels[t][d]: the level of target t at date d; lags[t]: its lag at
    // `as_of` (the last date), from the same evaluation.
    let mut lags: Vec<Option<f64>> = Vec::with_capacity(plan.targets.len());
    let levels: Vec<Vec<Option<Level>>> = plan
        .targets
        .iter()
        .map(|t| {
            let evals: Vec<_> = dates.iter().map(|d| evaluate(plan, t, set, *d)).collect();
            lags.push(evals.last().and_then(|e| e.lag));
            evals.iter().map(|e| Level::of(e.status)).collect()
        })
        .collect();
    let mut now: Vec<Warning> = Vec::new();
    for ((t, row), lag) in plan.targets.iter().zip(&levels).zip(&lags) {
        let Some(level @ (Level::Red | Level::Yellow)) = row.last().copied().flatten() else {
            continue;
        };
        let mut first = dates.len() - 1;
        while first > 0 && matches!(row[first - 1], Some(Level::Red | Level::Yellow)) {
            first -= 1;
        }
        let lag = *lag;
        now.push(Warning {
            target: t.code.to_string(),
            level,
            lag,
            since: dates[first],
            units: units_of(plan, t),
        });
    }
    now.sort_by(|a, b| {
        a.level
            .cmp(&b.level)
            .then(b.lag.unwrap_or(0.0).total_cmp(&a.lag.unwrap_or(0.0)))
    });
    let history = dates
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let list = plan
                .targets
                .iter()
                .zip(&levels)
                .filter_map(|(t, row)| match row[i] {
                    Some(l @ (Level::Red | Level::Yellow)) => Some((t.code.to_string(), l)),
                    _ => None,
                })
                .collect();
            (*d, list)
        })
        .collect();
    (now, history)
}

fn units_of(plan: &Plan, t: &Target) -> Vec<String> {
    t.node
        .as_ref()
        .and_then(|n| plan.node(n.as_str()))
        .map(|n| {
            n.lead
                .iter()
                .chain(&n.co)
                .map(|c| plan.unit_name(c.as_str()).to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// One area's line of the ranking, with its rank a quarter earlier.
#[derive(Debug, Clone, Serialize)]
pub struct AreaRank {
    pub area: String,
    pub name: String,
    pub rank: usize,
    pub previous_rank: Option<usize>,
    pub composite: f64,
    pub raw: Vec<Option<f64>>,
    pub scores: Vec<f64>,
}

/// The plan's ranking at `as_of` and the quarter end before it; `None` when
/// the plan defines no ranking. `sets` holds each area's series, in the
/// plan's area order.
pub fn ranking(plan: &Plan, sets: &[SeriesSet], as_of: NaiveDate) -> Option<Ranking> {
    let spec = plan.ranking.clone()?;
    let at = |date: NaiveDate| -> Vec<ranking::RankRow> {
        let raw: Vec<Vec<Option<f64>>> = sets
            .iter()
            .map(|set| {
                spec.items
                    .iter()
                    .map(|it| {
                        let ind = plan.indicator(it.indicator.as_str())?;
                        ranking::raw_value(ind, set.get(it.indicator.as_str()), it.basis, date)
                    })
                    .collect()
            })
            .collect();
        ranking::rank(&spec, &raw)
    };
    let previous = previous_quarter_end(as_of);
    let before = at(previous);
    let rows = at(as_of)
        .into_iter()
        .map(|r| {
            let a = &plan.areas[r.area];
            AreaRank {
                area: a.code.to_string(),
                name: a.name.clone(),
                rank: r.rank,
                previous_rank: before.iter().find(|b| b.area == r.area).map(|b| b.rank),
                composite: r.composite,
                raw: r.raw,
                scores: r.scores,
            }
        })
        .collect();
    Some((spec, rows, previous))
}

/// The last quarter end strictly before `d`: the day before its quarter
/// starts (whether or not `d` closes that quarter).
pub fn previous_quarter_end(d: NaiveDate) -> NaiveDate {
    let start = kc_domain::Frequency::Quarterly.period_containing(d).start();
    start.pred_opt().unwrap_or(start)
}

/// One area's place when areas are ranked on their own targets.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OwnRank {
    pub area: String,
    pub name: String,
    pub rank: usize,
    /// The weighted mean completion of the area's own targets, each capped
    /// to 0–100 (an achieved target counts 100), in per cent.
    pub score: f64,
    pub achieved: usize,
    /// Targets with a completion (the others have no data or no path yet).
    pub judged: usize,
    pub targets: usize,
}

/// Areas ranked by "completion of own targets" (按本地区目标完成度): each
/// area's snapshot judges it on its allocated shares and the city's rates;
/// the score is the weighted mean of the capped completions. Areas with
/// equal scores share a rank (1, 1, 3).
pub fn own_target_ranking(snaps: &[&crate::Snapshot]) -> Vec<OwnRank> {
    let mut rows: Vec<OwnRank> = snaps
        .iter()
        .map(|s| {
            let (mut sum, mut weights, mut judged, mut achieved) = (0.0, 0.0, 0, 0);
            for t in &s.plan.targets {
                let Some(e) = s.eval(t.code.as_str()) else {
                    continue;
                };
                let done = if e.status == kc_domain::Status::Achieved {
                    achieved += 1;
                    Some(100.0)
                } else {
                    e.completion.map(|c| c.clamp(0.0, 100.0))
                };
                if let Some(c) = done.filter(|c| c.is_finite()) {
                    sum += c * t.weight;
                    weights += t.weight;
                    judged += 1;
                }
            }
            let area = match &s.scope {
                kc_domain::Scope::Area(a) => a.to_string(),
                other => other.to_string(),
            };
            OwnRank {
                name: s.scope.name(&s.plan).to_string(),
                area,
                rank: 0,
                score: if weights > 0.0 { sum / weights } else { 0.0 },
                achieved,
                judged,
                targets: s.plan.targets.len(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.area.cmp(&b.area)));
    for i in 0..rows.len() {
        rows[i].rank = if i > 0 && (rows[i].score - rows[i - 1].score).abs() < 1e-9 {
            rows[i - 1].rank
        } else {
            i + 1
        };
    }
    rows
}
