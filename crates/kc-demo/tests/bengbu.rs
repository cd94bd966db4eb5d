//! The demo history of the Bengbu plan is complete, deterministic and
//! varied enough to show every status colour.

use chrono::NaiveDate;
use kc_domain::series::{Obs, ScopedObs, scope_set};
use kc_domain::{Scope, Status, evaluate};

const BENGBU: &str = include_str!("../../../plans/bengbu-2023-2025.toml");

fn through() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 9, 30).unwrap()
}

#[test]
fn demo_history_covers_every_target_and_varies() {
    let plan = kc_planfile::parse_plan("b.toml", BENGBU).unwrap();
    let values = kc_demo::generate(&plan, 2023, through());
    assert_eq!(
        values,
        kc_demo::generate(&plan, 2023, through()),
        "same seed, same data"
    );
    assert_ne!(values, kc_demo::generate(&plan, 2024, through()));
    assert!(values.iter().all(|v| v.value.is_finite()));
    assert!(values.iter().all(|v| v.period.end() <= through()));
    let obs: Vec<ScopedObs> = values
        .iter()
        .map(|v| ScopedObs {
            indicator: v.indicator.clone(),
            scope: v.scope.clone(),
            obs: Obs {
                period: v.period,
                value: v.value,
                provisional: v.vintage == kc_domain::Vintage::Provisional,
                evidence: !v.note.is_empty() && v.note != "演示数据",
            },
        })
        .collect();
    let city = scope_set(&plan, &obs, &Scope::City);
    let mut statuses = Vec::new();
    let computed = |code: &str| {
        matches!(
            plan.indicator(code).map(|i| &i.source),
            Some(kc_domain::plan::DataSource::Registry {
                compute: Some(_),
                ..
            })
        )
    };
    for t in plan
        .targets
        .iter()
        .filter(|t| !computed(t.indicator.as_str()))
    {
        let e = evaluate(&plan, t, &city, through());
        assert!(
            e.value.is_some(),
            "target {} has no demo value: {e:?}",
            t.code
        );
        statuses.push(e.status);
    }
    for s in [
        Status::Achieved,
        Status::OnTrack,
        Status::AtRisk,
        Status::OffTrack,
    ] {
        assert!(statuses.contains(&s), "no target is {s:?}: {statuses:?}");
    }
    // Registry-computed indicators are never typed in.
    assert!(!values.iter().any(|v| computed(&v.indicator)));
    assert!(
        values
            .iter()
            .any(|v| v.indicator == "rd_intensity" && v.scope == Scope::City)
    );
}
