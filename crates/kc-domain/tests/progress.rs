//! Progress, status and forecast rules: worked examples for each target kind,
//! and properties that must hold for any input.

use chrono::NaiveDate;
use kc_domain::period::DateRange;
use kc_domain::plan::*;
use kc_domain::progress::{Status, evaluate, meets};
use kc_domain::series::{Obs, ScopedObs, SeriesSet, flow_total, scope_set};
use kc_domain::{Code, Frequency, Period, Scope};
use proptest::prelude::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn code(s: &str) -> Code {
    Code::parse(s).unwrap()
}

fn indicator(c: &str, measure: Measure, additive: bool) -> Indicator {
    Indicator {
        code: code(c),
        name: c.to_string(),
        unit: "家".into(),
        definition: String::new(),
        department: None,
        source: DataSource::Reported,
        measure,
        frequency: Frequency::Quarterly,
        additive,
        decimals: 0,
        due_days: None,
        area_reports: None,
        resets_yearly: false,
        min: None,
        max: None,
    }
}

fn target(kind: TargetKind, value: TargetValue) -> Target {
    Target {
        code: code("T"),
        name: "t".into(),
        node: None,
        indicator: code("x"),
        kind,
        value,
        unit: "家".into(),
        deadline: d("2025-12-31"),
        direction: kind.default_direction(),
        strict: false,
        baseline: None,
        curve: Curve::Linear,
        checkpoints: vec![],
        forecast: ForecastMethod::Linear,
        compare: None,
        margin: 0.0,
        universe: None,
        peers: None,
        basis: GrowthBasis::Level,
        weight: 1.0,
        note: String::new(),
        revision: None,
        multiple: None,
        pending: false,
        allocations: Vec::new(),
        origin: Default::default(),
    }
}

fn plan_with(indicators: Vec<Indicator>, areas: usize) -> Plan {
    Plan {
        code: code("p"),
        name: "p".into(),
        short_name: None,
        city: "市".into(),
        level: None,
        issuer: None,
        follows: None,
        period: DateRange {
            start: d("2023-01-01"),
            end: d("2025-12-31"),
        },
        status: PlanStatus::Final,
        source: None,
        levels: vec!["工程".into()],
        areas: (0..areas)
            .map(|i| Area {
                code: code(&format!("a{i}")),
                name: format!("区{i}"),
                kind: "区".into(),
                aliases: Vec::new(),
            })
            .collect(),
        departments: vec![],
        every_node: EveryNodeRule::default(),
        indicators,
        goals: vec![],
        nodes: vec![],
        targets: vec![],
        status_rule: StatusRule::default(),
        reporting: Default::default(),
        ranking: None,
        market: Default::default(),
    }
}

fn num(v: f64) -> TargetValue {
    TargetValue::Number { value: v }
}

fn set(points: &[(&str, f64)]) -> SeriesSet {
    let mut s = SeriesSet::new();
    for (p, v) in points {
        s.insert("x", Obs::new(p.parse().unwrap(), *v));
    }
    s
}

fn baseline(value: f64, date: &str) -> Option<Baseline> {
    Some(Baseline {
        value,
        date: d(date),
        source: String::new(),
        reported: true,
    })
}

// ---- worked examples ------------------------------------------------------

#[test]
fn stock_on_track_at_risk_off_track() {
    let plan = plan_with(vec![indicator("x", Measure::Stock, true)], 0);
    let mut t = target(TargetKind::Stock, num(1200.0));
    t.baseline = baseline(700.0, "2022-12-31");
    // End of 2024: two thirds of the way in time, so 1033 expected.
    let cases = [
        (1040.0, Status::OnTrack),
        (1000.0, Status::AtRisk),
        (900.0, Status::OffTrack),
        (1250.0, Status::Achieved),
    ];
    for (v, want) in cases {
        let e = evaluate(&plan, &t, &set(&[("2024", v)]), d("2025-01-15"));
        assert_eq!(e.status, want, "value {v}: {e:?}");
        assert!((e.expected.unwrap() - 1033.3).abs() < 1.0);
        assert!((e.expected_completion.unwrap() - 66.7).abs() < 0.2);
    }
}

#[test]
fn lag_is_measured_at_the_data_date_not_today() {
    let plan = plan_with(vec![indicator("x", Measure::Stock, true)], 0);
    let mut t = target(TargetKind::Stock, num(1200.0));
    t.baseline = baseline(700.0, "2022-12-31");
    let e = evaluate(&plan, &t, &set(&[("2024", 1040.0)]), d("2025-06-30"));
    assert_eq!(e.value_date, Some(d("2024-12-31")));
    assert_eq!(e.status, Status::OnTrack);
    assert!(e.expected_now.unwrap() > e.expected.unwrap());
}

#[test]
fn deadline_passed_and_missed_is_off_track() {
    let plan = plan_with(vec![indicator("x", Measure::Stock, true)], 0);
    let mut t = target(TargetKind::Stock, num(1200.0));
    t.baseline = baseline(700.0, "2022-12-31");
    let e = evaluate(&plan, &t, &set(&[("2025", 1190.0)]), d("2026-03-01"));
    assert_eq!(e.status, Status::OffTrack);
    assert!(
        e.forecast.is_none(),
        "no forecast once the deadline is in the data"
    );
}

#[test]
fn no_data_and_insufficient_data() {
    let plan = plan_with(vec![indicator("x", Measure::Stock, true)], 0);
    let t = target(TargetKind::Stock, num(1200.0));
    let e = evaluate(&plan, &t, &SeriesSet::new(), d("2024-01-01"));
    assert_eq!(e.status, Status::NoData);
    assert!(e.value.is_none() && e.forecast.is_none());
    // One point, no baseline.
    let e = evaluate(&plan, &t, &set(&[("2023", 800.0)]), d("2024-01-01"));
    assert_eq!(e.status, Status::InsufficientData);
    assert!(e.forecast.is_none());
    // Values after the as-of date are not seen.
    let e = evaluate(&plan, &t, &set(&[("2024", 800.0)]), d("2024-06-30"));
    assert_eq!(e.status, Status::NoData);
}

#[test]
fn cumulative_adds_flows_to_the_baseline() {
    let plan = plan_with(vec![indicator("x", Measure::Flow, true)], 0);
    let mut t = target(TargetKind::Cumulative, num(10000.0));
    t.strict = true;
    t.baseline = baseline(1000.0, "2022-12-31");
    let data = set(&[("2023", 3000.0), ("2024Q1", 700.0), ("2024Q2", 800.0)]);
    let e = evaluate(&plan, &t, &data, d("2024-07-10"));
    assert_eq!(e.value, Some(5500.0));
    assert_eq!(e.points.len(), 3);
    // Exactly 10000 does not satisfy "more than 10000".
    assert!(!meets(&t, 10000.0));
    assert!(meets(&t, 10000.5));
}

#[test]
fn period_count_starts_at_zero() {
    let plan = plan_with(vec![indicator("x", Measure::Flow, true)], 0);
    let t = target(TargetKind::PeriodCount, num(10.0));
    let e = evaluate(
        &plan,
        &t,
        &set(&[("2023", 3.0), ("2024", 4.0)]),
        d("2025-01-01"),
    );
    assert_eq!(e.value, Some(7.0));
    assert_eq!(e.start.unwrap().value, 0.0);
    // 7 of 10 at two thirds of the time: ahead of the path.
    assert_eq!(e.status, Status::OnTrack);
}

#[test]
fn annual_range_is_judged_within_the_year() {
    let plan = plan_with(vec![indicator("x", Measure::Flow, true)], 0);
    let t = target(
        TargetKind::Annual,
        TargetValue::Range { min: 3.0, max: 5.0 },
    );
    let e = evaluate(
        &plan,
        &t,
        &set(&[("2023", 4.0), ("2024Q1", 1.0), ("2024Q2", 1.0)]),
        d("2024-07-01"),
    );
    assert_eq!(e.years.len(), 2);
    assert!(e.years[0].met);
    // Half the year covered, 2 of at least 3: 66.7 % done against 50 % expected.
    assert_eq!(e.status, Status::OnTrack);
    // Pro rata: 2 in 182 of 366 days.
    assert!(
        (e.forecast.unwrap().value - 4.02).abs() < 0.01,
        "{:?}",
        e.forecast
    );
    let e = evaluate(&plan, &t, &set(&[("2024", 7.0)]), d("2025-01-01"));
    assert_eq!(e.status, Status::AtRisk, "above the range: {e:?}");
    let e = evaluate(&plan, &t, &set(&[("2024", 2.0)]), d("2025-01-01"));
    assert_eq!(e.status, Status::OffTrack);
}

#[test]
fn yearly_total_rises_from_the_baseline_year() {
    let plan = plan_with(vec![indicator("x", Measure::Flow, true)], 0);
    let mut t = target(TargetKind::YearlyTotal, num(300.0));
    t.baseline = baseline(180.0, "2023-12-31");
    let e = evaluate(&plan, &t, &set(&[("2024", 240.0)]), d("2025-01-10"));
    // 2024's target is half way from 180 to 300.
    assert!((e.years[0].target - 240.0).abs() < 1.0, "{:?}", e.years);
    assert_eq!(e.status, Status::OnTrack);
    let e = evaluate(
        &plan,
        &t,
        &set(&[("2024", 240.0), ("2025", 280.0)]),
        d("2026-01-10"),
    );
    assert_eq!(e.status, Status::OffTrack);
    let e = evaluate(
        &plan,
        &t,
        &set(&[("2024", 240.0), ("2025", 301.0)]),
        d("2026-01-10"),
    );
    assert_eq!(e.status, Status::Achieved);
}

#[test]
fn growth_rate_from_levels_and_from_rates() {
    let plan = plan_with(vec![indicator("x", Measure::Stock, false)], 0);
    let mut t = target(TargetKind::GrowthRate, num(15.0));
    t.baseline = baseline(100.0, "2022-12-31");
    let e = evaluate(&plan, &t, &set(&[("2024", 132.25)]), d("2025-01-01"));
    assert!((e.value.unwrap() - 15.0).abs() < 0.1, "{e:?}");
    assert_eq!(
        e.status,
        Status::OnTrack,
        "met before the deadline is only on track"
    );
    let e = evaluate(&plan, &t, &set(&[("2025", 160.0)]), d("2026-01-01"));
    assert_eq!(e.status, Status::Achieved);
    // Rates: 10 % then 20 % average to about 14.9 %.
    let mut r = target(TargetKind::GrowthRate, num(15.0));
    r.basis = GrowthBasis::Rate;
    let e = evaluate(
        &plan,
        &r,
        &set(&[("2023", 10.0), ("2024", 20.0)]),
        d("2025-01-01"),
    );
    assert!((e.value.unwrap() - 14.89).abs() < 0.01, "{e:?}");
    // A non-positive baseline gives no rate rather than a made-up one.
    t.baseline = baseline(0.0, "2022-12-31");
    let e = evaluate(&plan, &t, &set(&[("2024", 10.0)]), d("2025-01-01"));
    assert_eq!(e.status, Status::NoData);
    assert!(e.value.is_none());
}

#[test]
fn rank_and_zero_count_go_down() {
    let plan = plan_with(vec![indicator("x", Measure::Stock, false)], 0);
    let mut t = target(TargetKind::Rank, num(5.0));
    t.baseline = baseline(9.0, "2022-12-31");
    let e = evaluate(&plan, &t, &set(&[("2024", 5.0)]), d("2025-01-01"));
    assert_eq!(e.status, Status::Achieved);
    let e = evaluate(&plan, &t, &set(&[("2024", 9.0)]), d("2025-01-01"));
    assert_eq!(e.status, Status::OffTrack);
    let mut z = target(TargetKind::ZeroCount, num(0.0));
    z.baseline = baseline(30.0, "2022-12-31");
    let e = evaluate(&plan, &z, &set(&[("2024", 10.0)]), d("2025-01-01"));
    assert_eq!(e.status, Status::OnTrack);
    let e = evaluate(&plan, &z, &set(&[("2025", 0.0)]), d("2026-01-01"));
    assert_eq!(e.status, Status::Achieved);
    // A rank forecast never goes above first place.
    let e = evaluate(
        &plan,
        &t,
        &set(&[("2023", 8.0), ("2024", 6.0)]),
        d("2025-01-01"),
    );
    assert!(e.forecast.unwrap().value >= 1.0);
}

#[test]
fn coverage_divides_by_the_universe() {
    let plan = plan_with(
        vec![
            indicator("x", Measure::Stock, false),
            indicator("villages", Measure::Stock, false),
        ],
        0,
    );
    let mut t = target(TargetKind::Coverage, num(100.0));
    t.universe = Some(Universe::Count {
        size: 7.0,
        what: "县区".into(),
    });
    let e = evaluate(
        &plan,
        &t,
        &set(&[("2023", 4.0), ("2024", 7.0)]),
        d("2025-01-01"),
    );
    assert_eq!(e.value, Some(100.0));
    assert_eq!(e.status, Status::Achieved);
    t.universe = Some(Universe::Indicator {
        indicator: code("villages"),
    });
    let mut s = set(&[("2024", 300.0)]);
    s.insert("villages", Obs::new(Period::Year(2024), 600.0));
    let e = evaluate(&plan, &t, &s, d("2025-01-01"));
    assert_eq!(e.value, Some(50.0));
    // A universe of zero gives no value, not a division by zero.
    s.insert("villages", Obs::new(Period::Year(2024), 0.0));
    let e = evaluate(&plan, &t, &s, d("2025-01-01"));
    assert_eq!(e.status, Status::NoData);
}

#[test]
fn relative_compares_two_series_of_the_same_period() {
    let plan = plan_with(
        vec![
            indicator("x", Measure::Stock, false),
            indicator("y", Measure::Stock, false),
        ],
        0,
    );
    let mut t = target(TargetKind::Relative, num(0.0));
    t.compare = Some(code("y"));
    t.strict = true;
    let mut s = set(&[("2023", 12.0), ("2024", 9.0)]);
    s.insert("y", Obs::new(Period::Year(2023), 10.0));
    s.insert("y", Obs::new(Period::Year(2024), 10.0));
    let e = evaluate(&plan, &t, &s, d("2025-01-01"));
    assert_eq!(e.value, Some(-1.0));
    assert_eq!(e.compared_with, Some(10.0));
    assert_eq!(e.status, Status::AtRisk);
    s.insert("x", Obs::new(Period::Year(2025), 11.0));
    s.insert("y", Obs::new(Period::Year(2025), 10.0));
    assert_eq!(
        evaluate(&plan, &t, &s, d("2026-01-01")).status,
        Status::Achieved
    );
    // "Below": direction down.
    t.direction = Direction::Down;
    assert_eq!(
        evaluate(&plan, &t, &s, d("2026-01-01")).status,
        Status::OffTrack
    );
    // Only one series has data: nothing to compare.
    let e = evaluate(&plan, &t, &set(&[("2024", 9.0)]), d("2025-01-01"));
    assert_eq!(e.status, Status::NoData);
}

#[test]
fn tasks_need_evidence() {
    let plan = plan_with(vec![indicator("x", Measure::Stock, false)], 0);
    let t = target(TargetKind::Task, TargetValue::Done);
    let e = evaluate(&plan, &t, &set(&[("2024", 100.0)]), d("2025-01-01"));
    assert_eq!(e.status, Status::AtRisk);
    let mut s = SeriesSet::new();
    s.insert(
        "x",
        Obs {
            evidence: true,
            ..Obs::new(Period::Year(2024), 100.0)
        },
    );
    assert_eq!(
        evaluate(&plan, &t, &s, d("2025-01-01")).status,
        Status::Achieved
    );
    let m = target(TargetKind::Milestone, TargetValue::Done);
    assert_eq!(
        evaluate(&plan, &m, &set(&[("2024", 100.0)]), d("2025-01-01")).status,
        Status::Achieved
    );
}

#[test]
fn steps_curve_does_not_count_mid_year_lag() {
    let plan = plan_with(vec![indicator("x", Measure::Stock, false)], 0);
    let mut t = target(TargetKind::Share, num(3.0));
    t.baseline = baseline(2.52, "2021-12-31");
    t.curve = Curve::Steps;
    // 2022 expected 2.64 at its year end; a 2.6 reading lags by 8 points.
    let e = evaluate(&plan, &t, &set(&[("2022", 2.60)]), d("2023-06-30"));
    assert_eq!(e.status, Status::AtRisk, "{e:?}");
}

#[test]
fn city_totals_from_areas_and_formulas() {
    let mut rd = indicator("rd", Measure::Stock, true);
    rd.frequency = Frequency::Yearly;
    let gdp = indicator("gdp", Measure::Stock, true);
    let mut ratio = indicator("ratio", Measure::Stock, false);
    ratio.source = DataSource::Formula {
        expr: "rd / gdp * 100".into(),
    };
    let plan = plan_with(vec![rd, gdp, ratio], 2);
    let area = |a: &str| Scope::Area(code(a));
    let rec = |ind: &str, scope: Scope, p: &str, v: f64| ScopedObs {
        indicator: ind.into(),
        scope,
        obs: Obs::new(p.parse().unwrap(), v),
    };
    let values = vec![
        rec("rd", area("a0"), "2024", 10.0),
        rec("rd", area("a1"), "2024", 20.0),
        rec("rd", area("a0"), "2025", 5.0),
        rec("gdp", Scope::City, "2024", 1000.0),
        rec("gdp", Scope::City, "2025", 1000.0),
        rec("gdp", area("a0"), "2025", 1.0),
    ];
    let city = scope_set(&plan, &values, &Scope::City);
    let rd_city = city.get("rd");
    assert_eq!(rd_city[0].value, 30.0);
    assert!(!rd_city[0].provisional);
    assert!(rd_city[1].provisional, "one area missing in 2025");
    // The explicit city value wins over the area sum.
    assert_eq!(city.get("gdp")[1].value, 1000.0);
    assert_eq!(city.get("ratio")[0].value, 3.0);
    let a0 = scope_set(&plan, &values, &area("a0"));
    assert_eq!(a0.get("rd").len(), 2);
    assert_eq!(a0.get("ratio")[0].value, 500.0);
}

// ---- properties -----------------------------------------------------------

fn any_kind() -> impl Strategy<Value = TargetKind> {
    proptest::sample::select(TargetKind::ALL.to_vec())
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(-1.0), -1.0e6..1.0e6f64, 0.0..10.0f64,]
}

fn any_period() -> impl Strategy<Value = Period> {
    prop_oneof![
        (2023..=2025i32).prop_map(Period::Year),
        (2023..=2025i32, 1..=4u8).prop_map(|(y, q)| Period::Quarter(y, q)),
        (2023..=2025i32, 1..=12u8).prop_map(|(y, m)| Period::Month(y, m)),
    ]
}

fn finite(v: Option<f64>) -> bool {
    v.is_none_or(f64::is_finite)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Whatever the data, the evaluation never contains NaN or infinity.
    #[test]
    fn evaluation_is_always_finite(
        kind in any_kind(),
        goal in any_value(),
        base in proptest::option::of((any_value(), 2021..=2024i32)),
        obs in proptest::collection::vec((any_period(), any_value()), 0..12),
        as_of_days in 0..1400i64,
        compound in any::<bool>(),
    ) {
        let measure = if kind.needs_flow() { Measure::Flow } else { Measure::Stock };
        let plan = plan_with(vec![indicator("x", measure, true), indicator("y", measure, true)], 0);
        let value = match kind {
            TargetKind::Range => TargetValue::Range { min: goal.min(goal + 3.0), max: goal + 3.0 },
            TargetKind::Milestone | TargetKind::Task => TargetValue::Done,
            _ => num(goal),
        };
        let mut t = target(kind, value);
        t.baseline = base.map(|(v, y)| Baseline { value: v, date: d(&format!("{y}-12-31")), source: String::new(), reported: true });
        t.curve = if compound { Curve::Compound } else { Curve::Linear };
        t.forecast = if compound { ForecastMethod::Compound } else { ForecastMethod::Linear };
        t.compare = Some(code("y"));
        t.universe = Some(Universe::Count { size: 5.0, what: String::new() });
        let mut s = SeriesSet::new();
        for (p, v) in &obs {
            s.insert("x", Obs::new(*p, *v));
            s.insert("y", Obs::new(*p, v / 2.0));
        }
        let as_of = d("2023-01-01") + chrono::Duration::days(as_of_days);
        let e = evaluate(&plan, &t, &s, as_of);
        prop_assert!(finite(e.value) && finite(e.expected) && finite(e.expected_now));
        prop_assert!(finite(e.completion) && finite(e.expected_completion) && finite(e.lag));
        if let Some(f) = e.forecast {
            prop_assert!(f.value.is_finite() && f.low.is_finite() && f.high.is_finite() && f.pace.is_finite());
            prop_assert!(f.low <= f.value + 1e-9 && f.value <= f.high + 1e-9);
        }
        if let Some(p) = e.pace {
            prop_assert!(p.needed_per_month.is_finite() && p.months_left > 0.0);
            prop_assert!(finite(p.recent_per_month) && finite(p.needed_rate));
        }
        for p in &e.points { prop_assert!(p.value.is_finite()); }
        for (_, v) in &e.path { prop_assert!(v.is_finite()); }
        // No value means no data (or insufficient data), never a status that
        // claims to know.
        if e.value.is_none() {
            prop_assert!(matches!(e.status, Status::NoData | Status::InsufficientData));
        }
    }

    /// For stock targets before the deadline, "achieved" means exactly that the
    /// latest value meets the target.
    #[test]
    fn achieved_iff_condition_met(goal in 1.0..2000.0f64, v in 0.0..3000.0f64, strict in any::<bool>()) {
        let plan = plan_with(vec![indicator("x", Measure::Stock, true)], 0);
        let mut t = target(TargetKind::Stock, num(goal));
        t.strict = strict;
        t.baseline = baseline(0.0, "2022-12-31");
        let e = evaluate(&plan, &t, &set(&[("2024", v)]), d("2025-01-01"));
        prop_assert_eq!(e.status == Status::Achieved, meets(&t, v));
    }

    /// A higher value never makes an upward target's status worse.
    #[test]
    fn status_is_monotone_in_the_value(a in 0.0..1200.0f64, b in 0.0..1200.0f64) {
        let plan = plan_with(vec![indicator("x", Measure::Stock, true)], 0);
        let mut t = target(TargetKind::Stock, num(1200.0));
        t.baseline = baseline(700.0, "2022-12-31");
        let (lo, hi) = (a.min(b), a.max(b));
        let s_lo = evaluate(&plan, &t, &set(&[("2024", lo)]), d("2025-01-01")).status;
        let s_hi = evaluate(&plan, &t, &set(&[("2024", hi)]), d("2025-01-01")).status;
        prop_assert!(s_hi <= s_lo, "{:?} for {} vs {:?} for {}", s_hi, hi, s_lo, lo);
    }

    /// The expected path starts at the baseline, ends at the target and, for
    /// a linear curve with no checkpoints, never leaves the band between them.
    #[test]
    fn path_stays_between_start_and_target(v0 in -100.0..100.0f64, v1 in -100.0..100.0f64, day in 0..2000i64) {
        let p = kc_domain::path::Path::new((d("2023-01-01"), v0), [], (d("2025-12-31"), v1), Curve::Linear);
        let x = p.at(d("2022-01-01") + chrono::Duration::days(day));
        prop_assert!(x >= v0.min(v1) - 1e-9 && x <= v0.max(v1) + 1e-9);
        prop_assert_eq!(p.at(d("2023-01-01")), v0);
        prop_assert_eq!(p.at(d("2025-12-31")), v1);
    }

    /// A straight line is forecast exactly.
    #[test]
    fn linear_data_is_forecast_exactly(a in -1000.0..1000.0f64, slope in -10.0..10.0f64, n in 2..10usize) {
        let pts: Vec<(NaiveDate, f64)> = (0..n)
            .map(|i| (d("2023-01-01") + chrono::Duration::days(30 * i as i64), a + slope * (30 * i) as f64))
            .collect();
        let f = kc_domain::forecast::forecast(&pts, ForecastMethod::Linear, d("2025-12-31")).unwrap();
        let days = (d("2025-12-31") - d("2023-01-01")).num_days() as f64;
        prop_assert!((f.value - (a + slope * days)).abs() < 1e-6 * (1.0 + (a + slope * days).abs()));
    }

    /// Months add up to their year, whatever mix of months is reported.
    #[test]
    fn monthly_flows_sum_to_the_year(vals in proptest::collection::vec(proptest::option::of(0.0..1000.0f64), 12)) {
        let obs: Vec<Obs> = vals.iter().enumerate()
            .filter_map(|(m, v)| v.map(|v| Obs::new(Period::Month(2024, m as u8 + 1), v)))
            .collect();
        let want: f64 = vals.iter().flatten().sum();
        let got = flow_total(&obs, d("2024-01-01"), d("2024-12-31")).map(|t| t.total).unwrap_or(0.0);
        prop_assert!((got - want).abs() < 1e-6);
    }
}

/// Stock targets of 100 from a baseline of 0 at the start of 2023, each
/// with one observed value and a weight.
fn rolled(
    values_and_weights: &[(f64, f64)],
    as_of: NaiveDate,
) -> (Vec<Target>, Vec<kc_domain::Evaluation>) {
    let ind = indicator("x", Measure::Stock, true);
    let plan = plan_with(vec![ind], 0);
    let mut targets = Vec::new();
    let mut evals = Vec::new();
    for (v, w) in values_and_weights {
        let mut t = target(TargetKind::Stock, num(100.0));
        t.baseline = Some(Baseline {
            value: 0.0,
            date: d("2022-12-31"),
            source: String::new(),
            reported: true,
        });
        t.weight = *w;
        let mut set = SeriesSet::new();
        set.insert("x", Obs::new("2024Q4".parse().unwrap(), *v));
        evals.push(evaluate(&plan, &t, &set, as_of));
        targets.push(t);
    }
    (targets, evals)
}

proptest! {
    /// The roll-up stays within 0–100, does not depend on the scale of the
    /// weights, and of one target is that target's capped completion.
    #[test]
    fn rollups_are_weighted_means(items in prop::collection::vec((-50.0..250.0f64, 0.1..10.0f64), 1..8), k in 0.1..100.0f64) {
        let as_of = d("2024-12-31");
        let rule = StatusRule::default();
        let (targets, evals) = rolled(&items, as_of);
        let r = kc_domain::rollup::rollup(targets.iter().zip(&evals), &rule);
        let c = r.completion.unwrap();
        prop_assert!((0.0..=100.0).contains(&c), "{}", c);
        prop_assert!((0.0..=100.0).contains(&r.expected.unwrap()));
        let scaled: Vec<(f64, f64)> = items.iter().map(|(v, w)| (*v, w * k)).collect();
        let (t2, e2) = rolled(&scaled, as_of);
        let r2 = kc_domain::rollup::rollup(t2.iter().zip(&e2), &rule);
        prop_assert!((r2.completion.unwrap() - c).abs() < 1e-9);
        let one = kc_domain::rollup::rollup(targets.iter().zip(&evals).take(1), &rule);
        let own = evals[0].completion.unwrap().clamp(0.0, 100.0);
        prop_assert!((one.completion.unwrap() - own).abs() < 1e-9);
        // The mean lies between the smallest and largest capped completion.
        let caps: Vec<f64> = evals.iter().map(|e| e.completion.unwrap().clamp(0.0, 100.0)).collect();
        let lo = caps.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = caps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(c >= lo - 1e-9 && c <= hi + 1e-9);
    }
}

#[test]
fn rollup_by_hand_and_without_data() {
    let as_of = d("2024-12-31");
    // 40 % with weight 3 and 80 % with weight 1: (120 + 80) / 4 = 50 %.
    let (targets, evals) = rolled(&[(40.0, 3.0), (80.0, 1.0)], as_of);
    let r = kc_domain::rollup::rollup(targets.iter().zip(&evals), &StatusRule::default());
    assert!((r.completion.unwrap() - 50.0).abs() < 1e-9);
    assert_eq!((r.counted, r.left_out), (2, 0));
    // No evaluations: no data, never a number.
    let r = kc_domain::rollup::rollup(std::iter::empty(), &StatusRule::default());
    assert_eq!(r.status, Status::NoData);
    assert_eq!(r.completion, None);
}

// ---- area targets and the deadline -------------------------------------------

/// An area is judged on its own share: its baseline, its yearly targets and
/// its final target; a count that is not allocated is not the area's to
/// meet; a rate is held to the city's rate from the area's own start.
#[test]
fn an_area_is_judged_on_its_own_target() {
    let mut plan = plan_with(
        vec![
            indicator("x", Measure::Stock, true),
            indicator("r", Measure::Stock, false),
            indicator("y", Measure::Stock, true),
        ],
        2,
    );
    let mut t = target(TargetKind::Stock, num(1200.0));
    t.baseline = baseline(700.0, "2022-12-31");
    t.allocations = vec![Allocation {
        unit: code("a0"),
        value: num(300.0),
        baseline: baseline(150.0, "2022-12-31"),
        checkpoints: vec![Checkpoint {
            date: d("2023-12-31"),
            value: 250.0,
            binding: None,
        }],
        responsible: None,
    }];
    let mut rate = target(TargetKind::Share, num(3.0));
    rate.code = code("R");
    rate.indicator = code("r");
    rate.baseline = baseline(2.0, "2022-12-31");
    let mut count = target(TargetKind::Stock, num(50.0));
    count.code = code("C");
    count.indicator = code("y");
    plan.targets = vec![t, rate, count];

    let a0 = plan.for_scope(&Scope::Area(code("a0")));
    let codes: Vec<&str> = a0.targets.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(
        codes,
        vec!["T", "R"],
        "the unallocated count is not the area's"
    );
    let own = a0.target("T").unwrap();
    assert_eq!(
        (own.value, own.origin),
        (num(300.0), TargetOrigin::Allocated)
    );
    assert_eq!(own.baseline.as_ref().unwrap().value, 150.0);
    let r = a0.target("R").unwrap();
    assert_eq!((r.value, r.origin), (num(3.0), TargetOrigin::CityRate));
    assert!(
        r.baseline.is_none(),
        "the city's baseline is not the area's start"
    );
    // The other area has no share of T.
    let a1 = plan.for_scope(&Scope::Area(code("a1")));
    assert!(a1.target("T").is_none());
    // The city is the plan itself.
    assert_eq!(plan.for_scope(&Scope::City).targets.len(), 3);

    // 240 at the end of 2023 against the area's 250 checkpoint (from 150):
    // completion 60% vs 66.7% expected → on track; against the city's
    // 1,200 from 700 the same 240 would be negative completion.
    let data = set(&[("2023Q4", 240.0)]);
    let e = evaluate(&a0, own, &data, d("2023-12-31"));
    assert!(
        (e.completion.unwrap() - 60.0).abs() < 1e-9,
        "{:?}",
        e.completion
    );
    assert!((e.expected.unwrap() - 250.0).abs() < 1e-9);
    assert_eq!(e.status, Status::AtRisk);
    let city = evaluate(&plan, plan.target("T").unwrap(), &data, d("2023-12-31"));
    assert!(city.completion.unwrap() < 0.0);
}

/// Past the deadline a target is judged at the deadline: a later value is
/// shown beside the verdict and never used for it.
#[test]
fn a_target_is_judged_at_its_deadline() {
    let plan = plan_with(vec![indicator("x", Measure::Stock, true)], 0);
    let mut t = target(TargetKind::Stock, num(7000.0));
    t.strict = true;
    t.baseline = baseline(5000.0, "2022-12-31");
    let data = set(&[("2025Q3", 6500.0), ("2025Q4", 6900.0), ("2026Q3", 7100.0)]);
    let e = evaluate(&plan, &t, &data, d("2026-09-30"));
    assert_eq!(e.status, Status::OffTrack, "missed at the deadline");
    assert_eq!(e.value, Some(6900.0));
    assert_eq!(e.value_date, Some(d("2025-12-31")));
    assert_eq!(e.judged_at, Some(d("2025-12-31")));
    assert_eq!(e.as_of, d("2026-09-30"));
    assert_eq!(e.after_deadline.len(), 1);
    assert_eq!(
        (e.after_deadline[0].date, e.after_deadline[0].value),
        (d("2026-09-30"), 7100.0)
    );
    // At the deadline itself nothing is after it.
    let at = evaluate(&plan, &t, &data, d("2025-12-31"));
    assert_eq!((at.status, at.judged_at), (Status::OffTrack, None));
    assert!(at.after_deadline.is_empty());
    // Achieved at the deadline stays achieved after a later dip.
    let dip = set(&[("2025Q4", 7200.0), ("2026Q2", 6800.0)]);
    let e = evaluate(&plan, &t, &dip, d("2026-06-30"));
    assert_eq!(e.status, Status::Achieved);
    assert_eq!(e.after_deadline.len(), 1);
}

/// A stock valid one evaluation year at a time rises through each year and
/// falls at the next year's start: its forecast uses the year-ends, so it
/// is not dragged below the current value by the saw-tooth.
#[test]
fn a_yearly_resetting_stock_is_forecast_from_year_ends() {
    let mut plan = plan_with(vec![indicator("x", Measure::Stock, true)], 0);
    let mut t = target(TargetKind::Stock, num(1500.0));
    t.baseline = baseline(795.0, "2022-12-31");
    let data = set(&[
        ("2023Q1", 200.0),
        ("2023Q2", 500.0),
        ("2023Q3", 800.0),
        ("2023Q4", 1000.0),
        ("2024Q1", 250.0),
        ("2024Q2", 600.0),
        ("2024Q3", 950.0),
        ("2024Q4", 1200.0),
        ("2025Q1", 300.0),
        ("2025Q2", 800.0),
        ("2025Q3", 1390.0),
    ]);
    let saw = evaluate(&plan, &t, &data, d("2025-09-30"))
        .forecast
        .unwrap();
    assert!(saw.value < 1390.0, "through the saw-tooth: {}", saw.value);
    plan.indicators[0].resets_yearly = true;
    let yearly = evaluate(&plan, &t, &data, d("2025-09-30"))
        .forecast
        .unwrap();
    // 795 → 1000 → 1200: about 1,400 at the end of 2025.
    assert!((yearly.value - 1400.0).abs() < 20.0, "{}", yearly.value);
    assert_eq!(yearly.points_used, 3);
}

/// "超过 1000 家 by 2024" as a binding checkpoint: judged at its date; a
/// miss keeps a target that is otherwise on track at 需关注, with the reason.
#[test]
fn a_binding_checkpoint_is_judged_at_its_date() {
    let plan = plan_with(vec![indicator("x", Measure::Stock, true)], 0);
    let mut t = target(TargetKind::Stock, num(1500.0));
    t.baseline = baseline(795.0, "2022-12-31");
    t.checkpoints = vec![Checkpoint {
        date: d("2024-12-31"),
        value: 1000.0,
        binding: Some(Binding::MoreThan),
    }];
    let data = set(&[("2024Q4", 1000.0), ("2025Q1", 1140.0)]);
    let e = evaluate(&plan, &t, &data, d("2025-03-31"));
    assert_eq!(e.interim.len(), 1);
    assert_eq!(
        (e.interim[0].value, e.interim[0].met),
        (Some(1000.0), Some(false))
    );
    assert_eq!(e.status, Status::AtRisk, "{:?}", e.reason);
    assert!(
        e.reason
            .as_deref()
            .unwrap()
            .contains("2024-12-31 的阶段目标 > 1000 未达到（实为 1000）")
    );
    // 达到 (at least) is met by 1,000, and the target is on track again.
    t.checkpoints[0].binding = Some(Binding::AtLeast);
    let e = evaluate(&plan, &t, &data, d("2025-03-31"));
    assert_eq!(e.interim[0].met, Some(true));
    assert_eq!(e.status, Status::OnTrack);
    // A checkpoint that only shapes the path is not judged.
    t.checkpoints[0].binding = None;
    assert!(
        evaluate(&plan, &t, &data, d("2025-03-31"))
            .interim
            .is_empty()
    );
}
