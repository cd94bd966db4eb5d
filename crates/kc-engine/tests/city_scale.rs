//! The city-scale demo registries look like Bengbu when the engine reads
//! them: the public 2022 figures, growth towards the targets, the nine areas.

use chrono::NaiveDate;
use kc_demo::registries::{Scale, generate};
use kc_domain::registry::Record;
use kc_engine::Engine;

#[test]
fn city_scale_registries_are_plausible_for_bengbu() {
    let plan =
        kc_planfile::parse_plan("b", include_str!("../../../plans/bengbu-2023-2025.toml")).unwrap();
    let mut e = Engine::new(&plan, kc_planfile::default_catalogue().clone());
    let mut by_reg: std::collections::HashMap<&str, Vec<Record>> = Default::default();
    let through = NaiveDate::from_ymd_opt(2025, 9, 30).unwrap();
    generate(&plan, Scale::City, 7, through, |def, r| {
        by_reg.entry(def.code).or_default().push(r.clone())
    });
    for (reg, rs) in &by_reg {
        e.load(reg, rs).unwrap();
    }
    e.rebuild();
    let v = |ind: &str, p: &str| e.value(ind, None, p.parse().unwrap()).unwrap().unwrap();
    let hte22 = v("hte_count", "2022");
    assert!(
        (650.0..=760.0).contains(&hte22),
        "high-tech firms end 2022: {hte22}"
    );
    let tsme22 = v("tsme_count", "2022");
    assert!(
        (740.0..=850.0).contains(&tsme22),
        "tech SMEs 2022: {tsme22}"
    );
    assert!(v("hte_count", "2025Q3") > hte22 + 200.0);
    let turnover23 = v("contract_absorbed", "2023");
    assert!(
        (140.0..=230.0).contains(&turnover23),
        "absorbed turnover 2023 (亿元): {turnover23}"
    );
    assert!(v("achievement_count", "2024") > 2500.0);
    assert!(
        v("no_rd_activity_count", "2024") < v("no_rd_activity_count", "2021"),
        "两清零 progresses"
    );
    assert!(v("hte_5bn_count", "2024") >= 1.0);
    let villages = v("admin_villages", "2024");
    let covered = v("villages_covered", "2024");
    assert!(covered > 0.5 * villages && covered <= villages);
    // Every area has high-tech firms and the zones have the most.
    let by_area: Vec<f64> = plan
        .areas
        .iter()
        .map(|a| {
            e.value("hte_count", Some(a.code.as_str()), "2024".parse().unwrap())
                .unwrap()
                .unwrap()
        })
        .collect();
    assert!(by_area.iter().all(|x| *x > 0.0), "{by_area:?}");
    assert!((by_area.iter().sum::<f64>() - v("hte_count", "2024")).abs() < 1e-9);
    // Every registry-backed indicator has data.
    for ind in e.indicators() {
        assert!(e.has_data(ind), "{ind}");
    }
}
