//! The demo follows the date it is loaded on: in October 2025 a plan in its
//! last quarter; from 2026 the whole plan to its end, with 2025's yearly
//! figures reported early in 2026, and the next plan drafted from its final
//! evaluation with the quarters of 2026 reported so far.

use chrono::NaiveDate;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn the_history_ends_with_the_last_quarter_due() {
    assert_eq!(kc_app::demo_through_at(d("2025-10-20")), d("2025-09-30"));
    assert_eq!(kc_app::demo_through_at(d("2025-10-15")), d("2025-09-30"));
    assert_eq!(kc_app::demo_through_at(d("2025-10-14")), d("2025-06-30"));
    assert_eq!(kc_app::demo_through_at(d("2026-12-05")), d("2025-12-31"));
}

#[tokio::test]
async fn a_demo_loaded_in_2025_is_a_plan_in_progress() {
    let db = kc_store::testkit::sqlite().await;
    kc_app::load_demo_at(&db.store, d("2025-10-20"))
        .await
        .unwrap();
    assert_eq!(db.store.plans().await.unwrap().len(), 1);
    let values = db.store.approved_values("bengbu-2023-2025").await.unwrap();
    assert!(values.iter().all(|v| v.period.end() <= d("2025-09-30")));
    db.cleanup().await;
}

#[tokio::test]
async fn a_demo_loaded_in_december_2026_has_the_ended_plan_and_the_next() {
    let db = kc_store::testkit::sqlite().await;
    let today = d("2026-12-05");
    kc_app::load_demo_at(&db.store, today).await.unwrap();
    let values = db.store.approved_values("bengbu-2023-2025").await.unwrap();
    // The whole plan: 2025's last quarter and its yearly figures, reported
    // in 2026.
    assert!(values.iter().any(|v| v.period.to_string() == "2025Q4"));
    let yearly: Vec<_> = values
        .iter()
        .filter(|v| v.period.to_string() == "2025")
        .collect();
    assert!(!yearly.is_empty());
    assert!(yearly.iter().all(|v| v.entered_at.as_str() > "2026-01-01"));
    assert!(values.iter().all(|v| v.period.end() <= d("2025-12-31")));

    // The next plan: a draft with demo targets, nothing left 待定, valid,
    // and its first three quarters.
    let next = db
        .store
        .plan("bengbu-2026-2030")
        .await
        .unwrap()
        .expect("the next plan is in the demo");
    assert_eq!(next.plan.period.start, d("2026-01-01"));
    let pending: Vec<_> = next
        .plan
        .targets
        .iter()
        .filter(|t| t.pending)
        .map(|t| (t.code.as_str(), t.kind))
        .collect();
    assert!(pending.is_empty(), "{pending:?}");
    let text = db
        .store
        .plan_source("bengbu-2026-2030", next.version.version)
        .await
        .unwrap()
        .unwrap();
    let checked = kc_planfile::check_plan("next.toml", &text).expect("the next plan is valid");
    assert!(
        !checked.warnings.iter().any(|w| w.message.contains("待定")),
        "{:?}",
        checked.warnings
    );
    // Baselines are the final values at the old deadlines (for the targets
    // whose indicator is reported; registry counts are computed).
    let mut checked_baselines = 0;
    for t in &next.plan.targets {
        let Some(b) = &t.baseline else { continue };
        if !b.source.contains("终期评估") {
            continue;
        }
        if let Some(v) = values.iter().find(|v| {
            v.indicator == t.indicator.as_str()
                && v.scope == kc_domain::Scope::City
                && v.period.end() == b.date
        }) {
            assert_eq!(b.value, v.value, "{}", t.code);
            checked_baselines += 1;
        }
    }
    assert!(checked_baselines >= 5, "{checked_baselines}");
    let next_values = db.store.approved_values("bengbu-2026-2030").await.unwrap();
    assert!(!next_values.is_empty());
    assert!(
        next_values
            .iter()
            .all(|v| v.period.end() >= d("2026-01-01") && v.period.end() <= d("2026-09-30"))
    );
    // Loading again adds nothing.
    let again = kc_app::load_demo_at(&db.store, today).await.unwrap();
    assert_eq!(again.values_loaded, 0);
    assert_eq!(db.store.plans().await.unwrap().len(), 2);
    db.cleanup().await;
}

/// The next plan's series start with the old plan's figures: a chart of a
/// 2026–2030 target shows 2023–2025 too, while the plan's own records (its
/// duties, its history) are its own.
#[tokio::test]
async fn an_indicator_series_runs_across_both_plans() {
    let db = kc_store::testkit::sqlite().await;
    let today = d("2026-12-05");
    kc_app::load_demo_at(&db.store, today).await.unwrap();
    let model = kc_app::model::ReadModel::new(
        db.store.clone(),
        std::sync::Arc::new(kc_app::registries::Engines::new()),
    );
    let (view, engine) = model
        .plan_and_engine("bengbu-2026-2030", today)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        view.stored.plan.follows.as_ref().map(|c| c.as_str()),
        Some("bengbu-2023-2025")
    );
    let engine = engine.read().await;
    let snap = view.snapshot(
        None,
        &kc_domain::Scope::City,
        None,
        kc_domain::plan::TargetSet::Revised,
        &engine,
        today,
    );
    assert!(
        snap.as_of >= d("2026-01-01"),
        "judged on its own data: {}",
        snap.as_of
    );
    let old = db.store.approved_values("bengbu-2023-2025").await.unwrap();
    let v = old
        .iter()
        .find(|v| v.scope == kc_domain::Scope::City && v.period.to_string() == "2024Q4")
        .expect("a reported city figure of 2024");
    let series = snap.set.get(&v.indicator);
    assert!(
        series
            .iter()
            .any(|o| o.period == v.period && o.value == v.value),
        "2024Q4 of {} is in the next plan's series",
        v.indicator
    );
    assert!(
        snap.records
            .iter()
            .all(|r| r.plan_code == "bengbu-2026-2030")
    );
    db.cleanup().await;
}

/// The demo market has brokers' deals at every stage, each between a
/// demand and an achievement with its broker, and challenges from open to
/// accepted; the registered deals' contracts and the accepted challenge's
/// project are in their registries, and each step left its audit entry.
#[tokio::test]
async fn the_demo_market_has_deals_and_challenges() {
    use kc_domain::market::{ChallengeStage, Stage};
    let db = kc_store::testkit::sqlite().await;
    kc_app::load_demo_at(&db.store, d("2025-10-20"))
        .await
        .unwrap();
    let deals = kc_app::cases::deals(&db.store).await.unwrap();
    for stage in [
        Stage::Matched,
        Stage::Contacted,
        Stage::Negotiating,
        Stage::Signed,
        Stage::Registered,
    ] {
        let n = deals.iter().filter(|d| d.doc.stage == stage).count();
        assert_eq!(n, 3, "{stage:?}");
    }
    let last = d("2025-09-30");
    assert!(deals.iter().all(|x| !x.doc.broker.is_empty()
        && !x.doc.offer.is_empty()
        && x.doc.log.iter().all(|e| e.on <= last)));
    assert!(deals.iter().filter(|d| !d.doc.event.is_empty()).count() >= 10);
    let challenges = kc_app::cases::challenges(&db.store).await.unwrap();
    let stages: Vec<ChallengeStage> = challenges.iter().map(|c| c.doc.stage).collect();
    for s in [
        ChallengeStage::Open,
        ChallengeStage::Reviewing,
        ChallengeStage::Awarded,
        ChallengeStage::Accepted,
    ] {
        assert!(stages.contains(&s), "{s:?}: {stages:?}");
    }
    let accepted = challenges
        .iter()
        .find(|c| c.doc.stage == ChallengeStage::Accepted)
        .unwrap();
    let project = accepted.doc.project.clone().expect("a project record");
    assert!(
        accepted.doc.panel.iter().any(|p| p.conflict.is_some()),
        "the demo shows an expert excluded for a conflict of interest"
    );
    assert!(db.store.count_records("projects").await.unwrap() > 0);
    let mut found = false;
    db.store
        .for_each_record("projects", |r| found |= r.key == project)
        .await
        .unwrap();
    assert!(found, "{project}");
    let mut contracts = 0;
    db.store
        .for_each_record("contracts", |r| {
            contracts += usize::from(r.data.contains("\"broker_number\""))
        })
        .await
        .unwrap();
    assert_eq!(contracts, 6, "signed and registered deals' contracts");
    // Loading again adds nothing.
    kc_app::load_demo_at(&db.store, d("2025-10-20"))
        .await
        .unwrap();
    assert_eq!(kc_app::cases::deals(&db.store).await.unwrap().len(), 15);
    db.cleanup().await;
}
