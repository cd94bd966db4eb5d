//! Progress of a target as of a date: the value the target is judged on,
//! the expected value on the path, the status, the forecast to the deadline
//! and the pace still needed.
//!
//! ## Status rules (documented for users in docs/progress-rules.md)
//!
//! 1. No observation on or before the as-of date: **no data** (无数据).
//! 2. The target's condition holds for the latest value: **achieved** (已完成)
//!    — except growth-rate and relative targets, which can fall back, so
//!    before the deadline they are only **on track**.
//! 3. The latest value is dated on or after the deadline and the condition
//!    fails: **off track** (滞后, missed).
//! 4. Without a baseline and with a single observation there is no path to
//!    measure against: **insufficient data** (数据不足).
//! 5. Otherwise the lag is the expected completion (时序进度) minus the actual
//!    completion (完成进度), both in per cent of the way from the start value
//!    to the target, taken at the date of the latest value (so reporting
//!    delays do not count as lag). Lag ≤ `on_track_lag` (5 points by default):
//!    **on track**; ≤ `at_risk_lag` (15): **at risk**; more: **off track**.
//!
//! Yearly targets (`annual`, `yearly_total`) apply rule 5 within the latest
//! year that has data: the expected completion is the share of the year the
//! data covers. Growth-rate targets compare the average rate so far with the
//! target rate (completion = rate ÷ target).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::forecast::{self, Forecast, recent_pace_per_month};
use crate::path::Path;
use crate::period::{DAYS_PER_MONTH, DAYS_PER_YEAR, Period, days_between, ymd};
use crate::plan::{
    Binding, Curve, Direction, GrowthBasis, Measure, Plan, StatusRule, Target, TargetKind,
    TargetValue, Universe,
};
use crate::series::{Obs, SeriesSet, running_totals, stock_points};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Achieved,
    OnTrack,
    AtRisk,
    OffTrack,
    InsufficientData,
    NoData,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Achieved,
        Status::OnTrack,
        Status::AtRisk,
        Status::OffTrack,
        Status::InsufficientData,
        Status::NoData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Achieved => "achieved",
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::OffTrack => "off_track",
            Status::InsufficientData => "insufficient_data",
            Status::NoData => "no_data",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Status::Achieved => "已完成",
            Status::OnTrack => "进度正常",
            Status::AtRisk => "需关注",
            Status::OffTrack => "滞后",
            Status::InsufficientData => "数据不足",
            Status::NoData => "无数据",
        }
    }
}

/// A point of the series the target is judged on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub date: NaiveDate,
    pub value: f64,
    pub provisional: bool,
}

/// One calendar year of a yearly target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct YearResult {
    pub year: i32,
    pub total: f64,
    pub target: f64,
    /// Share of the year the data covers, 0–1.
    pub covered: f64,
    pub met: bool,
}

/// The pace still needed to reach the target, next to the recent pace.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pace {
    /// Change per month needed from the latest value to the target.
    pub needed_per_month: f64,
    /// Change per month over the recent observations, if known.
    pub recent_per_month: Option<f64>,
    /// For compound targets: growth per year (%) still needed.
    pub needed_rate: Option<f64>,
    pub months_left: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub target: String,
    pub as_of: NaiveDate,
    /// The value the target is judged on and its date.
    pub value: Option<f64>,
    pub value_date: Option<NaiveDate>,
    pub provisional: bool,
    /// The target's number (the near end of a range; 100 for done).
    pub target_value: f64,
    /// Start of the path (baseline, or the first observation).
    pub start: Option<Point>,
    /// Expected value at `value_date` (or at `as_of` when there is no value).
    pub expected: Option<f64>,
    /// Expected value at `as_of`.
    pub expected_now: Option<f64>,
    /// Completion (完成进度) and expected completion (时序进度), in per cent.
    pub completion: Option<f64>,
    pub expected_completion: Option<f64>,
    /// Expected minus actual completion, in percentage points.
    pub lag: Option<f64>,
    pub status: Status,
    /// Why the status is what it is, when that is not obvious (Chinese).
    pub reason: Option<String>,
    pub forecast: Option<Forecast>,
    /// Whether the forecast meets the target.
    pub forecast_meets: Option<bool>,
    pub pace: Option<Pace>,
    /// The series the target is judged on.
    pub points: Vec<Point>,
    /// The expected path, sampled for charts.
    pub path: Vec<(NaiveDate, f64)>,
    /// Yearly targets: one row per year.
    pub years: Vec<YearResult>,
    /// Relative targets: the latest value of the series compared with.
    pub compared_with: Option<f64>,
    /// When `as_of` is past the deadline: the date the target was judged at
    /// (its deadline) and the values reported for later periods (期后数据),
    /// shown beside the verdict and never used for it.
    #[serde(default)]
    pub judged_at: Option<NaiveDate>,
    #[serde(default)]
    pub after_deadline: Vec<Point>,
    /// Binding interim targets (阶段目标) whose date has come, each judged
    /// on the latest value on or before it.
    #[serde(default)]
    pub interim: Vec<Interim>,
}

/// A binding checkpoint judged at its date.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interim {
    pub date: NaiveDate,
    pub target: f64,
    pub binding: Binding,
    pub value: Option<f64>,
    pub met: Option<bool>,
}

impl Evaluation {
    fn empty(target: &Target, as_of: NaiveDate) -> Evaluation {
        Evaluation {
            target: target.code.to_string(),
            as_of,
            value: None,
            value_date: None,
            provisional: false,
            target_value: target.value.path_end(target.direction),
            start: None,
            expected: None,
            expected_now: None,
            completion: None,
            expected_completion: None,
            lag: None,
            status: Status::NoData,
            reason: Some("截至统计日尚无数据".to_string()),
            forecast: None,
            forecast_meets: None,
            pace: None,
            points: Vec::new(),
            path: Vec::new(),
            years: Vec::new(),
            compared_with: None,
            judged_at: None,
            after_deadline: Vec::new(),
            interim: Vec::new(),
        }
    }
}

/// Evaluates `target` of `plan` on the observations in `data` as of `as_of`.
/// `data` must already hold formula indicators (see
/// [`crate::series::resolve_formulas`]).
///
/// A target is judged at its deadline (终期评估): once `as_of` is past it,
/// the verdict uses the values of periods ending on or before the deadline,
/// and the values of later periods are listed in `after_deadline` beside
/// it — a value reached a year late does not turn a missed target into an
/// achieved one, and a later dip does not undo an achieved one.
pub fn evaluate(plan: &Plan, target: &Target, data: &SeriesSet, as_of: NaiveDate) -> Evaluation {
    if target.pending {
        let mut ev = Evaluation::empty(target, as_of);
        ev.reason = Some("目标值待定".to_string());
        return ev;
    }
    if as_of <= target.deadline {
        let mut ev = evaluate_at(plan, target, data, as_of);
        judge_interim(target, &mut ev);
        return ev;
    }
    let mut ev = evaluate_at(plan, target, data, target.deadline);
    judge_interim(target, &mut ev);
    ev.as_of = as_of;
    ev.judged_at = Some(target.deadline);
    ev.after_deadline = data
        .get(target.indicator.as_str())
        .iter()
        .filter(|o| o.period.end() > target.deadline && o.period.end() <= as_of)
        .map(|o| Point {
            date: o.period.end(),
            value: o.value,
            provisional: o.provisional,
        })
        .collect();
    ev
}

fn evaluate_at(plan: &Plan, target: &Target, data: &SeriesSet, as_of: NaiveDate) -> Evaluation {
    let obs: Vec<Obs> = data
        .get(target.indicator.as_str())
        .iter()
        .filter(|o| o.period.end() <= as_of)
        .copied()
        .collect();
    let measure = plan
        .indicator(target.indicator.as_str())
        .map(|i| i.measure)
        .unwrap_or(Measure::Stock);
    let rule = plan.status_rule;
    match target.kind {
        TargetKind::Annual | TargetKind::YearlyTotal => yearly(plan, target, &obs, as_of, rule),
        TargetKind::GrowthRate => growth(plan, target, &obs, measure, as_of, rule),
        TargetKind::Relative => relative(target, &obs, data, measure, as_of),
        TargetKind::PeriodCount | TargetKind::Cumulative => {
            let (from, offset) = match (&target.baseline, target.kind) {
                (Some(b), TargetKind::Cumulative) => (b.date.succ_opt().unwrap_or(b.date), b.value),
                _ => (plan.period.start, 0.0),
            };
            let start = Point {
                date: from.pred_opt().unwrap_or(from),
                value: offset,
                provisional: false,
            };
            let points: Vec<Point> = running_totals(&obs, from, as_of)
                .into_iter()
                .map(|(d, t)| Point {
                    date: d,
                    value: offset + t.total,
                    provisional: t.provisional,
                })
                .collect();
            let evidence = false;
            along_path(target, Some(start), points, evidence, as_of, rule, false)
        }
        _ => {
            let mut points: Vec<Point> = stock_points(&obs)
                .into_iter()
                .map(|o| Point {
                    date: o.period.end(),
                    value: o.value,
                    provisional: o.provisional,
                })
                .collect();
            if target.kind == TargetKind::Coverage {
                points = coverage_points(target, points, data);
            }
            let evidence = stock_points(&obs).last().is_some_and(|o| o.evidence);
            let start = target.baseline.as_ref().map(|b| Point {
                date: b.date,
                value: b.value,
                provisional: false,
            });
            let yearly = plan
                .indicator(target.indicator.as_str())
                .is_some_and(|i| i.resets_yearly);
            along_path(target, start, points, evidence, as_of, rule, yearly)
        }
    }
}

/// Turns covered counts into per cent of the universe.
fn coverage_points(target: &Target, points: Vec<Point>, data: &SeriesSet) -> Vec<Point> {
    points
        .into_iter()
        .filter_map(|p| {
            let size = match &target.universe {
                Some(Universe::Count { size, .. }) => Some(*size),
                Some(Universe::Indicator { indicator }) => {
                    stock_points(data.get(indicator.as_str()))
                        .into_iter()
                        .rfind(|o| o.period.end() <= p.date)
                        .map(|o| o.value)
                }
                None => Some(100.0),
            }?;
            (size > 0.0).then(|| Point {
                value: p.value / size * 100.0,
                ..p
            })
        })
        .collect()
}

/// Judges the binding checkpoints whose date the data have reached; a
/// missed one keeps a target that is otherwise on track at 需关注.
fn judge_interim(target: &Target, ev: &mut Evaluation) {
    let Some(last) = ev.value_date else { return };
    for c in target.checkpoints.iter().filter(|c| c.date <= last) {
        let Some(binding) = c.binding else { continue };
        let value = ev
            .points
            .iter()
            .rfind(|p| p.date <= c.date)
            .map(|p| p.value);
        let met = value.map(|v| match (target.direction, binding) {
            (Direction::Up, Binding::AtLeast) => v >= c.value,
            (Direction::Up, Binding::MoreThan) => v > c.value,
            (Direction::Down, Binding::AtLeast) => v <= c.value,
            (Direction::Down, Binding::MoreThan) => v < c.value,
        });
        ev.interim.push(Interim {
            date: c.date,
            target: c.value,
            binding,
            value,
            met,
        });
    }
    if let Some(missed) = ev.interim.iter().find(|i| i.met == Some(false))
        && ev.status == Status::OnTrack
    {
        ev.status = Status::AtRisk;
        let op = match (target.direction, missed.binding) {
            (Direction::Up, Binding::AtLeast) => "≥",
            (Direction::Up, Binding::MoreThan) => ">",
            (Direction::Down, Binding::AtLeast) => "≤",
            (Direction::Down, Binding::MoreThan) => "<",
        };
        ev.reason = Some(format!(
            "{} 的阶段目标 {op} {} 未达到（实为 {}）",
            missed.date,
            crate::plan::fmt_num(missed.target, 2),
            missed
                .value
                .map(|v| crate::plan::fmt_num(v, 2))
                .unwrap_or_else(|| "无数据".into())
        ));
    }
}

/// Whether `v` satisfies the target's condition.
pub fn meets(target: &Target, v: f64) -> bool {
    match target.value {
        TargetValue::Range { min, max } => v >= min && v <= max,
        TargetValue::Done => v >= 100.0,
        TargetValue::Number { value } => match (target.direction, target.strict) {
            (Direction::Up, false) => v >= value,
            (Direction::Up, true) => v > value,
            (Direction::Down, false) => v <= value,
            (Direction::Down, true) => v < value,
        },
    }
}

fn status_from_lag(lag: f64, rule: StatusRule) -> Status {
    if lag <= rule.on_track_lag {
        Status::OnTrack
    } else if lag <= rule.at_risk_lag {
        Status::AtRisk
    } else {
        Status::OffTrack
    }
}

/// The common case: a value compared with a path from a start point.
fn along_path(
    target: &Target,
    baseline: Option<Point>,
    points: Vec<Point>,
    evidence: bool,
    as_of: NaiveDate,
    rule: StatusRule,
    yearly: bool,
) -> Evaluation {
    let mut ev = Evaluation::empty(target, as_of);
    let goal = target.value.path_end(target.direction);
    let observed_start = baseline.is_none();
    let start = baseline.or_else(|| points.first().copied());
    let path = start.map(|s| {
        Path::new(
            (s.date, s.value),
            target.checkpoints.iter().map(|c| (c.date, c.value)),
            (target.deadline, goal),
            target.curve,
        )
    });
    ev.path = path.as_ref().map(Path::samples).unwrap_or_default();
    ev.expected_now = path.as_ref().map(|p| p.at(as_of));
    ev.start = start;
    let Some(last) = points.last().copied() else {
        ev.points = points;
        return ev;
    };
    ev.value = Some(last.value);
    ev.value_date = Some(last.date);
    ev.provisional = last.provisional;
    ev.reason = None;
    let path = path.expect("a start exists when there are points");
    let expected = path.at(last.date);
    ev.expected = Some(expected);
    let span = goal - path.start().1;
    if span.abs() > f64::EPSILON {
        ev.completion = Some((last.value - path.start().1) / span * 100.0);
        ev.expected_completion = Some((expected - path.start().1) / span * 100.0);
        ev.lag = Some(ev.expected_completion.unwrap_or(0.0) - ev.completion.unwrap_or(0.0));
    }

    let met = meets(target, last.value);
    let deadline_reached = last.date >= target.deadline;
    (ev.status, ev.reason) = if met && target.kind == TargetKind::Task && !evidence {
        (Status::AtRisk, Some("已报完成，但缺少佐证材料".to_string()))
    } else if met {
        (Status::Achieved, None)
    } else if let (TargetValue::Range { max, .. }, Direction::Up) = (target.value, target.direction)
        && last.value > max
    {
        (Status::AtRisk, Some("高于目标区间上限".to_string()))
    } else if deadline_reached {
        (Status::OffTrack, Some("已到截止期，目标未完成".to_string()))
    } else if observed_start && points.len() < 2 {
        (
            Status::InsufficientData,
            Some("无基期值且仅有一个数据点，无法判断进度".to_string()),
        )
    } else if let Some(lag) = ev.lag {
        (status_from_lag(lag, rule), None)
    } else {
        // Start equals target and the condition fails: moving away from it.
        (
            Status::OffTrack,
            Some("基期值已等于目标值，当前值偏离目标".to_string()),
        )
    };

    // Forecast and pace, only while the deadline is ahead of the data.
    if !deadline_reached {
        let mut series: Vec<(NaiveDate, f64)> = Vec::new();
        if !observed_start
            && let Some(s) = start
            && points.first().is_none_or(|p| p.date > s.date)
        {
            series.push((s.date, s.value));
        }
        // A stock that restarts each evaluation year is comparable only at
        // year-ends: a forecast through the saw-tooth would fall short.
        series.extend(
            points
                .iter()
                .filter(|p| !yearly || (p.date.month() == 12 && p.date.day() == 31))
                .map(|p| (p.date, p.value)),
        );
        ev.forecast = forecast::forecast(&series, target.forecast, target.deadline).map(|mut f| {
            clamp_forecast(target, &mut f);
            f
        });
        ev.forecast_meets = ev.forecast.map(|f| meets(target, f.value));
        let months_left = days_between(last.date, target.deadline) / DAYS_PER_MONTH;
        if months_left >= 0.5 && !met {
            let needed_rate = (target.curve == Curve::Compound && goal > 0.0 && last.value > 0.0)
                .then(|| ((goal / last.value).powf(1.0 / (months_left / 12.0)) - 1.0) * 100.0)
                .filter(|r| r.is_finite());
            ev.pace = Some(Pace {
                needed_per_month: (goal - last.value) / months_left,
                recent_per_month: recent_pace_per_month(&series),
                needed_rate,
                months_left,
            });
        }
    }
    ev.points = points;
    ev
}

/// Keeps forecasts inside what the kind allows: ranks start at 1, counts and
/// completions cannot go below zero, completion stops at 100 %.
fn clamp_forecast(target: &Target, f: &mut Forecast) {
    let (lo, hi) = match target.kind {
        TargetKind::Rank => (1.0, f64::INFINITY),
        TargetKind::Milestone | TargetKind::Task | TargetKind::Coverage | TargetKind::Share => {
            (0.0, 100.0)
        }
        TargetKind::Relative | TargetKind::GrowthRate => (f64::NEG_INFINITY, f64::INFINITY),
        _ => (0.0, f64::INFINITY),
    };
    f.value = f.value.clamp(lo, hi);
    f.low = f.low.clamp(lo, hi);
    f.high = f.high.clamp(lo, hi);
}

/// Yearly targets. `annual`: the same target each year. `yearly_total`: one
/// year's total must reach the target by the deadline year; the yearly target
/// rises along a path from the baseline year's total.
fn yearly(
    plan: &Plan,
    target: &Target,
    obs: &[Obs],
    as_of: NaiveDate,
    rule: StatusRule,
) -> Evaluation {
    let mut ev = Evaluation::empty(target, as_of);
    let goal = target.value.path_end(target.direction);
    let year_target = |year: i32| -> f64 {
        match (target.kind, &target.baseline) {
            (TargetKind::YearlyTotal, Some(b)) => {
                let end = ymd(year, 12, 31);
                let path = Path::new(
                    (b.date, b.value),
                    target.checkpoints.iter().map(|c| (c.date, c.value)),
                    (target.deadline, goal),
                    if target.curve == Curve::Compound {
                        Curve::Compound
                    } else {
                        Curve::Linear
                    },
                );
                path.at(end)
            }
            _ => goal,
        }
    };
    let first_year = plan.period.start.year();
    let last_year = target.deadline.year().max(first_year);
    let mut latest: Option<(i32, f64, NaiveDate, bool)> = None;
    let mut points = Vec::new();
    for year in first_year..=last_year {
        let ys = ymd(year, 1, 1);
        let ye = ymd(year, 12, 31).min(as_of);
        if ys > as_of {
            break;
        }
        let Some(t) = crate::series::flow_total(obs, ys, ye) else {
            continue;
        };
        let covered =
            (days_between(ys, t.through) + 1.0) / (days_between(ys, ymd(year, 12, 31)) + 1.0);
        let yt = year_target(year);
        ev.years.push(YearResult {
            year,
            total: t.total,
            target: yt,
            covered,
            met: meets_year(target, t.total, yt),
        });
        points.push(Point {
            date: t.through,
            value: t.total,
            provisional: t.provisional,
        });
        latest = Some((year, t.total, t.through, t.provisional));
    }
    ev.path = (first_year..=last_year)
        .map(|y| (ymd(y, 12, 31), year_target(y)))
        .collect();
    let Some((year, total, through, provisional)) = latest else {
        ev.points = points;
        return ev;
    };
    let yr = *ev.years.last().expect("latest year recorded");
    let yt = yr.target;
    let expected_share = match target.curve {
        Curve::Steps if yr.covered < 1.0 => 0.0,
        _ => yr.covered,
    };
    ev.reason = None;
    ev.value = Some(total);
    ev.value_date = Some(through);
    ev.provisional = provisional;
    ev.expected = Some(yt * expected_share);
    ev.expected_now = Some(yt * expected_share);
    ev.start = Some(Point {
        date: ymd(year, 1, 1),
        value: 0.0,
        provisional: false,
    });
    if yt.abs() > f64::EPSILON {
        ev.completion = Some(total / yt * 100.0);
        ev.expected_completion = Some(expected_share * 100.0);
        ev.lag = Some(expected_share * 100.0 - total / yt * 100.0);
    }
    let final_year = year >= target.deadline.year() && yr.covered >= 1.0;
    let met_final = meets(target, total);
    (ev.status, ev.reason) = if yr.met && (target.kind == TargetKind::Annual || met_final) {
        let why = (target.kind == TargetKind::Annual).then(|| format!("{year}年已完成"));
        (Status::Achieved, why)
    } else if total > target_max(target) {
        (Status::AtRisk, Some(format!("{year}年已高于目标区间上限")))
    } else if final_year || (yr.covered >= 1.0 && target.kind == TargetKind::Annual) {
        (Status::OffTrack, Some(format!("{year}年目标未完成")))
    } else if let Some(lag) = ev.lag {
        (status_from_lag(lag, rule), None)
    } else {
        (
            Status::InsufficientData,
            Some("年度目标为零，无法计算进度".to_string()),
        )
    };

    // Forecast of this year's total, pro rata, once a quarter of it is known.
    if yr.covered < 1.0 && yr.covered >= 0.25 {
        let projected = total / yr.covered;
        let fc = Forecast {
            method: crate::plan::ForecastMethod::Linear,
            date: ymd(year, 12, 31),
            value: projected,
            low: projected,
            high: projected,
            pace: total / (yr.covered * 12.0),
            points_used: 1,
        };
        ev.forecast_meets = Some(meets_year(target, projected, yt));
        ev.forecast = Some(fc);
        let months_left = (1.0 - yr.covered) * 12.0;
        if !yr.met {
            ev.pace = Some(Pace {
                needed_per_month: (yt - total) / months_left,
                recent_per_month: Some(total / (yr.covered * 12.0)),
                needed_rate: None,
                months_left,
            });
        }
    }
    ev.points = points;
    ev
}

fn target_max(target: &Target) -> f64 {
    match target.value {
        TargetValue::Range { max, .. } => max,
        _ => f64::INFINITY,
    }
}

/// A year's total against that year's target (a range keeps its bounds).
fn meets_year(target: &Target, total: f64, year_target: f64) -> bool {
    match target.value {
        TargetValue::Range { .. } => meets(target, total),
        _ => match target.strict {
            true => total > year_target,
            false => total >= year_target,
        },
    }
}

/// Level points of a series: stock values, or complete-year totals of a flow.
fn level_points(obs: &[Obs], measure: Measure) -> Vec<Point> {
    match measure {
        Measure::Stock => stock_points(obs)
            .into_iter()
            .map(|o| Point {
                date: o.period.end(),
                value: o.value,
                provisional: o.provisional,
            })
            .collect(),
        Measure::Flow => {
            let (Some(first), Some(last)) = (obs.first(), obs.last()) else {
                return Vec::new();
            };
            (first.period.year()..=last.period.year())
                .filter_map(|y| {
                    let p = Period::Year(y);
                    let t = crate::series::flow_total(obs, p.start(), p.end())?;
                    (t.through == p.end()).then_some(Point {
                        date: p.end(),
                        value: t.total,
                        provisional: t.provisional,
                    })
                })
                .collect()
        }
    }
}

/// Average annual growth rate, in per cent.
fn growth(
    plan: &Plan,
    target: &Target,
    obs: &[Obs],
    measure: Measure,
    as_of: NaiveDate,
    rule: StatusRule,
) -> Evaluation {
    let mut ev = Evaluation::empty(target, as_of);
    let goal = target.value.path_end(target.direction);
    let points: Vec<Point> = match target.basis {
        GrowthBasis::Rate => {
            // Values are yearly growth rates; the average is geometric.
            let yearly: Vec<Point> = level_points(obs, Measure::Stock)
                .into_iter()
                .filter(|p| p.date.year() >= plan.period.start.year())
                .collect();
            let mut product = 1.0;
            yearly
                .iter()
                .enumerate()
                .filter_map(|(i, p)| {
                    product *= 1.0 + p.value / 100.0;
                    let avg = (product.powf(1.0 / (i as f64 + 1.0)) - 1.0) * 100.0;
                    avg.is_finite().then_some(Point { value: avg, ..*p })
                })
                .collect()
        }
        GrowthBasis::Level => {
            let levels = level_points(obs, measure);
            let start = target
                .baseline
                .as_ref()
                .map(|b| (b.date, b.value))
                .or_else(|| levels.first().map(|p| (p.date, p.value)));
            match start {
                Some((d0, v0)) if v0 > 0.0 => levels
                    .iter()
                    .filter_map(|p| {
                        let years = days_between(d0, p.date) / DAYS_PER_YEAR;
                        if years < 0.99 || p.value <= 0.0 {
                            return None;
                        }
                        let rate = ((p.value / v0).powf(1.0 / years) - 1.0) * 100.0;
                        rate.is_finite().then_some(Point { value: rate, ..*p })
                    })
                    .collect(),
                Some(_) => {
                    ev.reason = Some("基期值不为正，无法计算年均增速".to_string());
                    return ev;
                }
                None => Vec::new(),
            }
        }
    };
    let Some(last) = points.last().copied() else {
        if !obs.is_empty() {
            ev.status = Status::InsufficientData;
            ev.reason = Some("不足一年的数据，无法计算年均增速".to_string());
        }
        return ev;
    };
    ev.value = Some(last.value);
    ev.value_date = Some(last.date);
    ev.provisional = last.provisional;
    ev.expected = Some(goal);
    ev.expected_now = Some(goal);
    ev.path = vec![(plan.period.start, goal), (target.deadline, goal)];
    ev.reason = None;
    if goal.abs() > f64::EPSILON {
        ev.completion = Some(last.value / goal * 100.0);
        ev.expected_completion = Some(100.0);
        ev.lag = Some(100.0 - last.value / goal * 100.0);
    }
    let met = meets(target, last.value);
    let final_data = last.date >= target.deadline;
    (ev.status, ev.reason) = match (met, final_data) {
        (true, true) => (Status::Achieved, None),
        (true, false) => (
            Status::OnTrack,
            Some("目前年均增速已达目标，需保持至截止期".to_string()),
        ),
        (false, true) => (
            Status::OffTrack,
            Some("已到截止期，年均增速未达目标".to_string()),
        ),
        (false, false) => match ev.lag {
            Some(lag) => (status_from_lag(lag, rule), None),
            None => (Status::InsufficientData, Some("目标增速为零".to_string())),
        },
    };
    ev.points = points;
    ev
}

/// Relative targets: the difference between this series and another.
fn relative(
    target: &Target,
    obs: &[Obs],
    data: &SeriesSet,
    measure: Measure,
    as_of: NaiveDate,
) -> Evaluation {
    let mut ev = Evaluation::empty(target, as_of);
    let Some(other) = target.compare.as_ref() else {
        ev.reason = Some("未指定对比指标".to_string());
        return ev;
    };
    let mine = level_points(obs, measure);
    let theirs: Vec<Obs> = data
        .get(other.as_str())
        .iter()
        .filter(|o| o.period.end() <= as_of)
        .copied()
        .collect();
    let theirs = level_points(&theirs, measure);
    let points: Vec<Point> = mine
        .iter()
        .filter_map(|m| {
            theirs.iter().find(|t| t.date == m.date).map(|t| Point {
                date: m.date,
                value: m.value - t.value,
                provisional: m.provisional || t.provisional,
            })
        })
        .collect();
    let Some(last) = points.last().copied() else {
        if !mine.is_empty() {
            ev.reason = Some("对比指标在同一期间无数据".to_string());
        }
        return ev;
    };
    ev.compared_with = theirs.iter().find(|t| t.date == last.date).map(|t| t.value);
    ev.value = Some(last.value);
    ev.value_date = Some(last.date);
    ev.provisional = last.provisional;
    ev.expected = Some(target.margin);
    ev.target_value = target.margin;
    ev.reason = None;
    // "Above" by at least the margin, or — for direction down — "below".
    let (met, word) = match (target.direction, target.strict) {
        (Direction::Up, true) => (last.value > target.margin, "高于"),
        (Direction::Up, false) => (last.value >= target.margin, "高于"),
        (Direction::Down, true) => (last.value < -target.margin, "低于"),
        (Direction::Down, false) => (last.value <= -target.margin, "低于"),
    };
    if target.direction == Direction::Down {
        ev.expected = Some(-target.margin);
        ev.target_value = -target.margin;
    }
    let final_data = last.date >= target.deadline;
    (ev.status, ev.reason) = match (met, final_data) {
        (true, true) => (Status::Achieved, None),
        (true, false) => (Status::OnTrack, Some(format!("目前{word}对比值"))),
        (false, true) => (
            Status::OffTrack,
            Some(format!("已到截止期，未{word}对比值")),
        ),
        (false, false) => (Status::AtRisk, Some(format!("目前未{word}对比值"))),
    };
    ev.points = points;
    ev
}

/// Counts of statuses, in the order of [`Status::ALL`].
pub fn status_counts<'a>(evals: impl IntoIterator<Item = &'a Evaluation>) -> [usize; 6] {
    let mut counts = [0usize; 6];
    for e in evals {
        let i = Status::ALL.iter().position(|s| *s == e.status).unwrap_or(5);
        counts[i] += 1;
    }
    counts
}
