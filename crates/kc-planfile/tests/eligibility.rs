//! The shipped eligibility rules at their boundaries, case by case: the R&D
//! bands (exactly 5%, 4%, 3% by revenue), the innovation score (71 vs 70),
//! the tech-SME score (60 with and without an S&T-staff score), the size
//! limits, shares at exactly their thresholds, missing figures and direct
//! routes. Each case names the condition and the outcome it must have.

use chrono::NaiveDate;
use kc_domain::eligibility::{
    Check, Decimal, FirmFacts, Outcome, Verdict, YearFigures, check_hte, check_tsme, check_zjtx,
};
use kc_domain::money;

/// A figure written as an f64 literal, as its exact decimal (every literal
/// here has at most 15 significant digits).
fn n(x: f64) -> Decimal {
    money::from_f64(x).unwrap()
}

/// A figure from its text, exactly.
fn dec(s: &str) -> Decimal {
    money::parse_decimal(s).unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A firm meeting every 高新技术企业 condition over three flat years.
fn good_year(year: i32) -> YearFigures {
    YearFigures {
        year,
        revenue: Some(n(10_000.0)),
        rd_expense: Some(n(500.0)),
        rd_domestic: Some(n(500.0)),
        total_cost: Some(n(8_000.0)),
        total_assets: Some(n(15_000.0)),
        net_assets: Some(n(8_000.0)),
        staff: Some(n(200.0)),
        st_staff: Some(n(40.0)),
        hitech_income: Some(n(7_000.0)),
        // No other income: 总收入 equals 营业收入 unless a test says so.
        total_income: Some(n(10_000.0)),
        ip_class1: Some(n(2.0)),
        ip_class2: Some(n(5.0)),
        ip_score: Some(n(28.0)),
        transfer_score: Some(n(25.0)),
        mgmt_score: Some(n(18.0)),
        major_accident: Some(false),
        has_rd_activity: Some(true),
        has_rd_institution: Some(false),
    }
}

fn firm(edit: impl Fn(&mut YearFigures)) -> FirmFacts {
    let mut years = vec![good_year(2024), good_year(2023), good_year(2022)];
    for y in &mut years {
        edit(y);
    }
    FirmFacts {
        registered_on: Some(d("2015-06-01")),
        tech_field: Some("新材料".into()),
        years,
        valid_hte: false,
        provincial_platform: false,
        national_award: false,
        leads_standard: false,
        held: Vec::new(),
    }
}

fn outcome(c: &Check, code: &str) -> Outcome {
    c.conditions
        .iter()
        .find(|x| x.code == code)
        .unwrap_or_else(|| panic!("no condition {code} in {c:?}"))
        .outcome
}

const ON: &str = "2025-06-30";

#[test]
fn the_good_firm_is_eligible_for_high_tech_and_names_the_rule_version() {
    let book = kc_planfile::default_rules();
    let c = check_hte(book, &firm(|_| {}), d(ON));
    assert_eq!(c.verdict, Verdict::Eligible, "{c:#?}");
    assert_eq!(c.version, "2023.1");
    // 28 + 25 + 18, no growth.
    assert_eq!(c.score, Some(n(71.0)));
}

#[test]
fn high_tech_boundaries() {
    let book = kc_planfile::default_rules();
    type Edit = fn(&mut YearFigures);
    let cases: &[(&str, Edit, &str, Outcome)] = &[
        // R&D intensity by revenue band, three-year sums.
        (
            "5% at 5000",
            |y| {
                y.revenue = Some(n(5_000.0));
                y.rd_expense = Some(n(250.0));
                y.rd_domestic = Some(n(250.0))
            },
            "rd_ratio",
            Outcome::Met,
        ),
        (
            "just under 5% at 5000",
            |y| {
                y.revenue = Some(n(5_000.0));
                y.rd_expense = Some(n(249.9));
                y.rd_domestic = Some(n(249.9))
            },
            "rd_ratio",
            Outcome::Near,
        ),
        (
            "3.3% at 3000 is far from 5%",
            |y| {
                y.revenue = Some(n(3_000.0));
                y.rd_expense = Some(n(100.0));
                y.rd_domestic = Some(n(100.0))
            },
            "rd_ratio",
            Outcome::NotMet,
        ),
        (
            "4% at 20000",
            |y| {
                y.revenue = Some(n(20_000.0));
                y.rd_expense = Some(n(800.0));
                y.rd_domestic = Some(n(800.0))
            },
            "rd_ratio",
            Outcome::Met,
        ),
        (
            "just under 4% at 20000",
            |y| {
                y.revenue = Some(n(20_000.0));
                y.rd_expense = Some(n(799.0));
                y.rd_domestic = Some(n(799.0))
            },
            "rd_ratio",
            Outcome::Near,
        ),
        (
            "3% above 20000",
            |y| {
                y.revenue = Some(n(30_000.0));
                y.rd_expense = Some(n(900.0));
                y.rd_domestic = Some(n(900.0))
            },
            "rd_ratio",
            Outcome::Met,
        ),
        (
            "just under 3% above 20000",
            |y| {
                y.revenue = Some(n(20_001.0));
                y.rd_expense = Some(n(600.0));
                y.rd_domestic = Some(n(600.0))
            },
            "rd_ratio",
            Outcome::Near,
        ),
        (
            "R&D missing",
            |y| y.rd_expense = None,
            "rd_ratio",
            Outcome::Missing,
        ),
        // Shares at exactly their thresholds.
        (
            "S&T staff exactly 10%",
            |y| y.st_staff = Some(n(20.0)),
            "st_staff",
            Outcome::Met,
        ),
        (
            "S&T staff 9.5%",
            |y| y.st_staff = Some(n(19.0)),
            "st_staff",
            Outcome::Near,
        ),
        (
            "S&T staff 5%",
            |y| y.st_staff = Some(n(10.0)),
            "st_staff",
            Outcome::NotMet,
        ),
        (
            "no staff figure",
            |y| y.staff = None,
            "st_staff",
            Outcome::Missing,
        ),
        (
            "zero staff",
            |y| {
                y.staff = Some(n(0.0));
                y.st_staff = Some(n(0.0));
            },
            "st_staff",
            Outcome::Missing,
        ),
        (
            "high-tech income exactly 60%",
            |y| y.hitech_income = Some(n(6_000.0)),
            "hitech_income",
            Outcome::Met,
        ),
        (
            "high-tech income 50%",
            |y| y.hitech_income = Some(n(5_000.0)),
            "hitech_income",
            Outcome::Near,
        ),
        (
            "R&D in China exactly 60%",
            |y| y.rd_domestic = Some(n(300.0)),
            "rd_domestic",
            Outcome::Met,
        ),
        (
            "R&D in China 40%",
            |y| y.rd_domestic = Some(n(200.0)),
            "rd_domestic",
            Outcome::NotMet,
        ),
        // The innovation score: 71 passes, 70 is near.
        (
            "score 71",
            |y| y.mgmt_score = Some(n(18.0)),
            "score",
            Outcome::Met,
        ),
        (
            "score 70",
            |y| y.mgmt_score = Some(n(17.0)),
            "score",
            Outcome::Near,
        ),
        (
            "score 50",
            |y| {
                y.mgmt_score = Some(n(0.0));
                y.transfer_score = Some(n(22.0))
            },
            "score",
            Outcome::NotMet,
        ),
        (
            "assessed score missing",
            |y| y.ip_score = None,
            "score",
            Outcome::Missing,
        ),
        (
            "no core IP",
            |y| {
                y.ip_class1 = Some(n(0.0));
                y.ip_class2 = Some(n(0.0))
            },
            "core_ip",
            Outcome::NotMet,
        ),
        (
            "IP unknown",
            |y| {
                y.ip_class1 = None;
                y.ip_class2 = None
            },
            "core_ip",
            Outcome::Missing,
        ),
        (
            "a major accident",
            |y| y.major_accident = Some(true),
            "accident",
            Outcome::NotMet,
        ),
        (
            "revenue of zero",
            |y| {
                y.revenue = Some(n(0.0));
                y.total_income = Some(n(0.0));
                y.hitech_income = Some(n(0.0))
            },
            "hitech_income",
            Outcome::Missing,
        ),
        // Contradictory figures are not computed with: they are reported.
        (
            "more S&T staff than staff",
            |y| y.st_staff = Some(n(250.0)),
            "st_staff",
            Outcome::Contradiction,
        ),
        (
            "high-tech income above total income",
            |y| y.hitech_income = Some(n(12_000.0)),
            "hitech_income",
            Outcome::Contradiction,
        ),
        (
            "revenue above total income",
            |y| y.total_income = Some(n(9_000.0)),
            "hitech_income",
            Outcome::Contradiction,
        ),
        (
            "R&D in China above all R&D",
            |y| y.rd_domestic = Some(n(600.0)),
            "rd_domestic",
            Outcome::Contradiction,
        ),
        // 总收入 is the denominator: 6,000 of 10,000 revenue is 60%, but of
        // 10,500 total income (500 other income) only 57.1%.
        (
            "60% of revenue but under 60% of total income",
            |y| {
                y.hitech_income = Some(n(6_000.0));
                y.total_income = Some(n(10_500.0));
            },
            "hitech_income",
            Outcome::Near,
        ),
        (
            "exactly 60% of total income",
            |y| {
                y.hitech_income = Some(n(6_300.0));
                y.total_income = Some(n(10_500.0));
            },
            "hitech_income",
            Outcome::Met,
        ),
        (
            "no total income",
            |y| y.total_income = None,
            "hitech_income",
            Outcome::Missing,
        ),
        // The in-China share needs R&D figures only: no revenue, still judged.
        (
            "no revenue, R&D in China judged",
            |y| y.revenue = None,
            "rd_domestic",
            Outcome::Met,
        ),
    ];
    for (name, edit, code, want) in cases {
        let c = check_hte(book, &firm(*edit), d(ON));
        assert_eq!(outcome(&c, code), *want, "{name}: {:#?}", c.conditions);
    }
}

#[test]
fn growth_adds_to_the_score() {
    let book = kc_planfile::default_rules();
    // Net assets and sales up 40% a year: 10 + 10 points.
    let mut f = firm(|y| y.mgmt_score = Some(n(0.0)));
    for (i, y) in f.years.iter_mut().enumerate() {
        let k = [dec("1.96"), dec("1.4"), Decimal::ONE][i];
        y.revenue = Some(dec("10000") * k);
        y.net_assets = Some(dec("8000") * k);
        y.rd_expense = Some(dec("500") * k);
        y.rd_domestic = Some(dec("500") * k);
    }
    let c = check_hte(book, &f, d(ON));
    assert_eq!(c.score, Some(n(28.0 + 25.0 + 20.0)));
    // Shrinking by 30% a year scores no growth points, and nothing breaks.
    for (i, y) in f.years.iter_mut().enumerate() {
        let k = [dec("0.49"), dec("0.7"), Decimal::ONE][i];
        y.revenue = Some(dec("10000") * k);
        y.net_assets = Some(dec("8000") * k);
    }
    assert_eq!(check_hte(book, &f, d(ON)).score, Some(n(28.0 + 25.0)));
    // Only two years: growth cannot be computed, the score is missing.
    f.years.truncate(2);
    assert_eq!(
        outcome(&check_hte(book, &f, d(ON)), "score"),
        Outcome::Missing
    );
}

#[test]
fn a_young_firm_or_another_field_is_not_eligible() {
    let book = kc_planfile::default_rules();
    let mut f = firm(|_| {});
    f.registered_on = Some(d("2024-12-31"));
    let c = check_hte(book, &f, d(ON));
    assert_eq!(outcome(&c, "registered"), Outcome::NotMet);
    assert_eq!(c.verdict, Verdict::NotEligible);
    f.registered_on = Some(d("2024-06-30"));
    assert_eq!(
        outcome(&check_hte(book, &f, d(ON)), "registered"),
        Outcome::Met
    );
    f.tech_field = Some("餐饮".into());
    assert_eq!(
        outcome(&check_hte(book, &f, d(ON)), "field"),
        Outcome::NotMet
    );
    // A registered firm outside the eight fields fails with its reason.
    f.tech_field = Some("不属于以上领域".into());
    let c = check_hte(book, &f, d(ON));
    let field = c.conditions.iter().find(|x| x.code == "field").unwrap();
    assert_eq!(field.outcome, Outcome::NotMet);
    assert!(field.gap.contains("不在八大领域内"), "{}", field.gap);
    f.tech_field = None;
    assert_eq!(
        outcome(&check_hte(book, &f, d(ON)), "field"),
        Outcome::Missing
    );
}

#[test]
fn gaps_are_given_in_money_and_people() {
    let book = kc_planfile::default_rules();
    // 3.2% over three years at 10,000 a year needs 4%: 0.8% of 30,000 = 240.
    let c = check_hte(
        book,
        &firm(|y| {
            y.rd_expense = Some(n(320.0));
            y.rd_domestic = Some(n(320.0));
            y.st_staff = Some(n(17.0));
        }),
        d(ON),
    );
    let gap = |code: &str| {
        c.conditions
            .iter()
            .find(|x| x.code == code)
            .unwrap()
            .gap
            .clone()
    };
    assert_eq!(gap("rd_ratio"), "还需研发投入约 240 万元");
    assert_eq!(gap("st_staff"), "还需科技人员约 3 人");
    // One rule for money (issue 15): 万元 with thousands separators, also
    // past 1 亿元 and in the band's edge — never 亿元 beside 万元.
    let rd = c.conditions.iter().find(|x| x.code == "rd_ratio").unwrap();
    assert!(
        rd.actual.contains("960 万元 / 30,000 万元"),
        "{}",
        rd.actual
    );
    assert!(rd.required.contains("20,000 万元"), "{}", rd.required);
    assert!(!format!("{}{}", rd.actual, rd.required).contains("亿元"));
}

/// A tech SME: 100 staff, 5,000 revenue.
fn sme(st: f64, rd: f64, ip1: f64, ip2: f64) -> FirmFacts {
    firm(|y| {
        y.staff = Some(n(100.0));
        y.st_staff = Some(n(st));
        y.revenue = Some(n(5_000.0));
        y.total_cost = Some(n(4_500.0));
        y.total_assets = Some(n(6_000.0));
        y.rd_expense = Some(n(rd));
        y.ip_class1 = Some(n(ip1));
        y.ip_class2 = Some(n(ip2));
    })
}

#[test]
fn tech_sme_boundaries() {
    let book = kc_planfile::default_rules();
    let cases: &[(&str, FirmFacts, Outcome, Option<Decimal>)] = &[
        // 4 (10% staff) + 50 (6%) + 6 (one class-II IP) = 60.
        (
            "exactly 60 points",
            sme(10.0, 300.0, 0.0, 1.0),
            Outcome::Met,
            Some(n(60.0)),
        ),
        // 0 (9% staff) + 50 + 30 = 80, but a zero S&T-staff score fails.
        (
            "80 points without S&T-staff points",
            sme(9.0, 300.0, 1.0, 0.0),
            Outcome::NotMet,
            Some(n(80.0)),
        ),
        // 4 + 40 (5%) + 12 (two class-II) = 56: near.
        (
            "56 points",
            sme(10.0, 250.0, 0.0, 2.0),
            Outcome::Near,
            Some(n(56.0)),
        ),
        // 4 + 10 (2%) + 0 = 14.
        (
            "14 points",
            sme(10.0, 100.0, 0.0, 0.0),
            Outcome::NotMet,
            Some(n(14.0)),
        ),
    ];
    for (name, f, want, score) in cases {
        let c = check_tsme(book, f);
        assert_eq!(outcome(&c, "score"), *want, "{name}: {:#?}", c.conditions);
        assert_eq!(c.score, *score, "{name}");
    }
    // R&D over total cost counts when it scores better: 300 / 1,000 = 30%.
    let mut f = sme(10.0, 300.0, 0.0, 1.0);
    f.years[0].revenue = Some(n(20_000.0));
    f.years[0].total_cost = Some(n(1_000.0));
    assert_eq!(check_tsme(book, &f).score, Some(n(4.0 + 50.0 + 6.0)));
    // Size limits at their edges.
    let mut f = sme(10.0, 300.0, 0.0, 1.0);
    f.years[0].staff = Some(n(500.0));
    f.years[0].st_staff = Some(n(50.0));
    assert_eq!(outcome(&check_tsme(book, &f), "staff"), Outcome::Met);
    f.years[0].staff = Some(n(501.0));
    assert_eq!(outcome(&check_tsme(book, &f), "staff"), Outcome::NotMet);
    let mut f = sme(10.0, 300.0, 0.0, 1.0);
    f.years[0].revenue = Some(n(20_000.0));
    assert_eq!(outcome(&check_tsme(book, &f), "revenue"), Outcome::Met);
    f.years[0].revenue = Some(n(20_000.5));
    assert_eq!(outcome(&check_tsme(book, &f), "revenue"), Outcome::NotMet);
}

#[test]
fn tech_sme_direct_routes_skip_the_score_but_not_the_size() {
    let book = kc_planfile::default_rules();
    let mut f = sme(0.0, 0.0, 0.0, 0.0);
    f.valid_hte = true;
    let c = check_tsme(book, &f);
    assert_eq!(c.verdict, Verdict::Eligible, "{c:#?}");
    assert!(c.direct.as_deref().unwrap().contains("高新技术企业"));
    f.years[0].staff = Some(n(800.0));
    assert_eq!(check_tsme(book, &f).verdict, Verdict::NotEligible);
    let mut f = sme(0.0, 0.0, 0.0, 0.0);
    f.provincial_platform = true;
    assert!(check_tsme(book, &f).direct.is_some());
    // The two routes no other registry holds: a national S&T award and a
    // standard the firm led.
    for (set, words) in [((true, false), "国家级科技奖励"), ((false, true), "标准")] {
        let mut f = sme(0.0, 0.0, 0.0, 0.0);
        (f.national_award, f.leads_standard) = set;
        let c = check_tsme(book, &f);
        assert_eq!(c.verdict, Verdict::Eligible, "{c:#?}");
        assert!(c.direct.as_deref().unwrap().contains(words));
    }
    assert!(check_tsme(book, &sme(0.0, 0.0, 0.0, 0.0)).direct.is_none());
}

#[test]
fn missing_figures_are_reported_never_guessed() {
    let book = kc_planfile::default_rules();
    let f = FirmFacts::default();
    for c in [
        check_hte(book, &f, d(ON)),
        check_tsme(book, &f),
        check_zjtx(book, &f, d(ON)),
    ] {
        assert_eq!(c.verdict, Verdict::Incomplete, "{c:#?}");
        assert!(c.conditions.iter().all(|x| x.outcome == Outcome::Missing));
        assert!(c.conditions.iter().all(|x| x.actual.starts_with("缺少")));
    }
}

#[test]
fn specialised_sme_thresholds() {
    let book = kc_planfile::default_rules();
    let z = |rev: f64, rd: f64| {
        check_zjtx(
            book,
            &firm(|y| {
                y.revenue = Some(n(rev));
                y.rd_expense = Some(n(rd));
            }),
            d(ON),
        )
    };
    assert_eq!(outcome(&z(3_000.0, 100.0), "rd_expense"), Outcome::Met);
    assert_eq!(outcome(&z(3_000.0, 99.0), "rd_expense"), Outcome::Near);
    assert_eq!(
        outcome(&z(3_000.0, 90.0), "rd_ratio"),
        Outcome::Met,
        "exactly 3%"
    );
    assert_eq!(outcome(&z(1_000.0, 100.0), "revenue"), Outcome::Met);
    assert_eq!(outcome(&z(700.0, 100.0), "revenue"), Outcome::NotMet);
}

#[test]
fn a_bad_rule_book_is_refused_with_a_message() {
    let bad =
        kc_planfile::DEFAULT_RULES.replace("min_st_staff_ratio = 0.10", "min_st_staff_ratio = 10");
    let e = kc_planfile::parse_rules("r.toml", &bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("hte.min_st_staff_ratio 是比例"), "{e}");
    let bad =
        kc_planfile::DEFAULT_RULES.replace("min_core_ip = 1", "min_core_ip = 1\nmin_cores = 2");
    let e = kc_planfile::parse_rules("r.toml", &bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("min_cores"), "{e}");
    let bad = kc_planfile::DEFAULT_RULES.replace("  { min_ratio = 0.03 },\n", "");
    let e = kc_planfile::parse_rules("r.toml", &bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("最后一档"), "{e}");
}

#[test]
fn tiers_pipeline_and_whitelist() {
    use Verdict::*;
    use kc_domain::eligibility::{Tier, pipeline, tier, whitelist};
    assert_eq!(
        tier(true, true, NotEligible, NotEligible),
        Some(Tier::HighToStrong)
    );
    assert_eq!(tier(false, true, Near, Eligible), Some(Tier::SmallToHigh));
    assert_eq!(
        tier(false, true, NotEligible, NotEligible),
        Some(Tier::MicroGrowth)
    );
    assert_eq!(
        tier(false, false, Incomplete, Near),
        Some(Tier::MicroGrowth)
    );
    assert_eq!(tier(false, false, NotEligible, Incomplete), None);

    let book = kc_planfile::default_rules();
    assert_eq!(pipeline(&book.pipeline, 10, 10), 8.0 + 3.0);

    let w = &book.whitelist;
    let year = good_year(2024);
    let held = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cat = kc_planfile::default_catalogue();
    let name = |k: &str| cat.find(k).map_or(k.to_string(), |x| x.name.clone());
    // R&D activity, two class-I IP, a valid tech-SME record: on the list.
    let (on, why) = whitelist(w, Some(&year), &held(&["tsme"]), &name);
    assert!(on, "{why:?}");
    // The qualification is named in words.
    assert_eq!(why.last().unwrap().detail, "科技型中小企业", "{why:?}");
    // No qualification: off, and it says which condition failed.
    let (on, why) = whitelist(w, Some(&year), &held(&["listing_reserve"]), &name);
    assert!(!on);
    assert_eq!(why.iter().filter(|r| r.met == Some(false)).count(), 1);
    // No IP and no institution.
    let mut y = good_year(2024);
    y.ip_class1 = Some(n(0.0));
    y.ip_class2 = Some(n(0.0));
    assert!(!whitelist(w, Some(&y), &held(&["hte"]), &name).0);
    y.has_rd_institution = Some(true);
    assert!(whitelist(w, Some(&y), &held(&["hte"]), &name).0);
    // Unknown R&D activity keeps a firm off and says 未填报.
    y.has_rd_activity = None;
    let (on, why) = whitelist(w, Some(&y), &held(&["hte"]), &name);
    assert!(!on);
    assert_eq!(why[0].detail, "未填报");
    assert!(
        !whitelist(w, None, &held(&["hte"]), &name).0,
        "no figures at all"
    );
}

#[test]
fn little_giant_thresholds() {
    use kc_domain::eligibility::check_little_giant;
    let book = kc_planfile::default_rules();
    // Two years of 20,000 revenue: 3% of 40,000 = 1,200 of R&D.
    let lg = |held: &[&str], rd: f64, rev: f64, st: f64, ip1: f64| {
        let mut f = firm(|y| {
            y.revenue = Some(n(rev));
            y.rd_expense = Some(n(rd));
            y.st_staff = Some(n(st));
            y.ip_class1 = Some(n(ip1));
        });
        f.held = held.iter().map(|s| s.to_string()).collect();
        check_little_giant(book, &f)
    };
    let ok = lg(&["zjtx"], 600.0, 20_000.0, 30.0, 2.0);
    assert_eq!(ok.verdict, Verdict::Eligible, "{ok:#?}");
    assert_eq!(
        outcome(&lg(&[], 600.0, 20_000.0, 30.0, 2.0), "zjtx"),
        Outcome::NotMet
    );
    assert_eq!(
        outcome(&lg(&["zjtx"], 599.0, 20_000.0, 30.0, 2.0), "rd"),
        Outcome::Near
    );
    // Exactly 1 亿元 of revenue is in the 3% band; just under it needs 6%.
    assert_eq!(
        outcome(&lg(&["zjtx"], 300.0, 10_000.0, 30.0, 2.0), "rd"),
        Outcome::Met
    );
    assert_eq!(
        outcome(&lg(&["zjtx"], 300.0, 9_999.0, 30.0, 2.0), "rd"),
        Outcome::NotMet
    );
    assert_eq!(
        outcome(&lg(&["zjtx"], 600.0, 9_999.0, 30.0, 2.0), "rd"),
        Outcome::Met
    );
    // Or 3,000 万元 of R&D over two years in the lower band.
    assert_eq!(
        outcome(
            &lg(&["zjtx"], 1_500.0, 9_000.0 * 4.0 / 4.0, 30.0, 2.0),
            "rd"
        ),
        Outcome::Met
    );
    // R&D staff exactly 15% (30 of 200), and class-I IP.
    assert_eq!(
        outcome(&lg(&["zjtx"], 600.0, 20_000.0, 30.0, 2.0), "rd_staff"),
        Outcome::Met
    );
    assert_eq!(
        outcome(&lg(&["zjtx"], 600.0, 20_000.0, 20.0, 2.0), "rd_staff"),
        Outcome::NotMet
    );
    assert_eq!(
        outcome(&lg(&["zjtx"], 600.0, 20_000.0, 30.0, 1.0), "ip"),
        Outcome::NotMet
    );
}

#[test]
fn innovative_sme_by_direct_route_or_incomplete() {
    use kc_domain::eligibility::check_innov_sme;
    let book = kc_planfile::default_rules();
    let mut f = sme(10.0, 300.0, 0.0, 1.0);
    let c = check_innov_sme(book, &f);
    assert_eq!(c.verdict, Verdict::Incomplete, "the sheet is not guessed");
    f.valid_hte = true;
    assert_eq!(check_innov_sme(book, &f).verdict, Verdict::Eligible);
    f.years[0].staff = Some(n(1_001.0));
    assert_eq!(check_innov_sme(book, &f).verdict, Verdict::NotEligible);
    f.years[0].staff = Some(n(1_000.0));
    f.years[0].st_staff = Some(n(100.0));
    assert_eq!(check_innov_sme(book, &f).verdict, Verdict::Eligible);
}

// ---- exact money at the boundaries (the issue: R&D 336.4 over sales 6,728) -------------

/// A firm whose three years each have `revenue` and `rd` (written as text,
/// read exactly).
fn rd_firm(revenue: &str, rd: &str) -> FirmFacts {
    let (rev, rd) = (dec(revenue), dec(rd));
    firm(move |y| {
        y.revenue = Some(rev);
        y.rd_expense = Some(rd);
        y.rd_domestic = Some(rd);
    })
}

fn condition<'a>(c: &'a Check, code: &str) -> &'a kc_domain::eligibility::Condition {
    c.conditions.iter().find(|x| x.code == code).unwrap()
}

#[test]
fn the_issue_336_4_over_6728_is_exactly_five_per_cent() {
    // In f64 it is 0.049999999999999996.
    assert!(std::hint::black_box(336.4f64) / 6728.0 < 0.05);
    let book = kc_planfile::default_rules();
    // A 5% rule (专精特新's R&D ratio set to 5% in a copy of the rule book,
    // the threshold read from its text).
    let five = kc_planfile::parse_rules(
        "r.toml",
        &kc_planfile::DEFAULT_RULES.replace("min_rd_ratio = 0.03", "min_rd_ratio = 0.05"),
    )
    .unwrap();
    assert_eq!(five.zjtx.min_rd_ratio, dec("0.05"));
    let cases = [
        ("336.4", Outcome::Met, "5%"),
        // 4.998…%: not met, near.
        ("336.3", Outcome::Near, "4.99%"),
        // Exactly 4.999%: near, and never shown as 5%.
        ("336.33272", Outcome::Near, "4.99%"),
        ("336.40001", Outcome::Met, "5%"),
        ("269.12", Outcome::Near, "4%"),
    ];
    for (rd, want, shown) in cases {
        let c = check_zjtx(&five, &rd_firm("6728", rd), d(ON));
        let x = condition(&c, "rd_ratio");
        assert_eq!(x.outcome, want, "{rd}: {x:?}");
        assert_eq!(x.actual, shown, "{rd}");
    }
    // The tech-SME evaluation: 5% of sales scores 40 points for R&D, just
    // under it 30 (R&D over total cost scores nothing here).
    for (rd, points) in [("336.4", "40"), ("336.3", "30"), ("336.33272", "30")] {
        let mut f = rd_firm("6728", rd);
        f.years[0].staff = Some(dec("100"));
        f.years[0].st_staff = Some(dec("10"));
        f.years[0].total_cost = Some(dec("100000"));
        f.years[0].total_assets = Some(dec("6000"));
        let c = check_tsme(book, &f);
        let x = condition(&c, "score");
        assert!(
            x.actual.contains(&format!("研发投入 {points}、")),
            "{rd}: {}",
            x.actual
        );
    }
}

#[test]
fn high_tech_rd_bands_at_exactly_and_just_under() {
    let book = kc_planfile::default_rules();
    // (revenue a year, R&D a year, outcome): three equal years, so the
    // three-year ratio is the yearly one.
    let cases = [
        // 5% band (latest revenue up to 5,000).
        ("3364", "168.2", Outcome::Met, "5%"),
        ("3000", "149.97", Outcome::Near, "4.99%"), // exactly 4.999%
        ("3364", "168.19", Outcome::Near, "4.99%"),
        // 4% band (up to 20,000).
        ("6728", "269.12", Outcome::Met, "4%"),
        ("6728", "269.05272", Outcome::Near, "3.99%"), // exactly 3.999%
        ("6728", "336.4", Outcome::Met, "5%"),
        // 3% band (above 20,000).
        ("33640", "1009.2", Outcome::Met, "3%"),
        ("33640", "1008.8636", Outcome::Near, "2.99%"), // exactly 2.999%
        ("33640", "700", Outcome::NotMet, "2.08%"),
    ];
    for (rev, rd, want, shown) in cases {
        let c = check_hte(book, &rd_firm(rev, rd), d(ON));
        let x = condition(&c, "rd_ratio");
        assert_eq!(x.outcome, want, "{rev} / {rd}: {x:?}");
        assert!(
            x.actual.starts_with(&format!("{shown}（")),
            "{rev} / {rd}: {}",
            x.actual
        );
    }
}

#[test]
fn gaps_in_money_are_exact() {
    let book = kc_planfile::default_rules();
    // 4% of 3 × 6,728 = 807.36 against 3 × 269.05272 = 807.15816: 0.20184
    // short, which is "约 1 万元" (rounded up, never to 0).
    let c = check_hte(book, &rd_firm("6728", "269.05272"), d(ON));
    assert_eq!(condition(&c, "rd_ratio").gap, "还需研发投入约 1 万元");
    // 3% of 3,000 = 90 against 89.9: 0.1 short.
    let c = check_zjtx(book, &rd_firm("3000", "89.9"), d(ON));
    assert_eq!(condition(&c, "rd_ratio").gap, "还需研发投入约 1 万元");
    // Exactly at the threshold: met, no gap.
    let c = check_zjtx(book, &rd_firm("3000", "90"), d(ON));
    assert_eq!(condition(&c, "rd_ratio").outcome, Outcome::Met);
    assert_eq!(condition(&c, "rd_ratio").gap, "");
}

mod exact_ratios {
    use super::*;
    use proptest::prelude::*;

    /// A rule book whose 专精特新 R&D ratio is `t` (a fraction with four
    /// decimals), as its text.
    fn book_with(t: Decimal) -> kc_domain::eligibility::RuleBook {
        kc_planfile::parse_rules(
            "r.toml",
            &kc_planfile::DEFAULT_RULES
                .replace("min_rd_ratio = 0.03", &format!("min_rd_ratio = {t}")),
        )
        .unwrap()
    }

    /// The outcome the exact rational comparison gives: R&D `a` over
    /// revenue `b` against `t` per cent, near within 20% of it.
    fn exact(a: Decimal, b: Decimal, t_pct: Decimal) -> Outcome {
        // All three as integers over 10⁸: compare a·100 with t·b in i128.
        let units = |x: Decimal| {
            let mut x = x;
            x.rescale(8);
            x.mantissa()
        };
        let (a, b, t) = (units(a), units(b), units(t_pct));
        let scale = 100_000_000i128;
        if a * 100 * scale >= t * b {
            Outcome::Met
        } else if a * 100 * scale * 10 >= t * 8 * b {
            Outcome::Near
        } else {
            Outcome::NotMet
        }
    }

    fn judged(book: &kc_domain::eligibility::RuleBook, a: Decimal, b: Decimal) -> Outcome {
        let f = firm(|y| {
            y.revenue = Some(b);
            y.rd_expense = Some(a);
        });
        outcome(&check_zjtx(book, &f, d(ON)), "rd_ratio")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Random amounts with up to four decimals.
        #[test]
        fn verdict_is_the_exact_comparison(
            a in 0i64..2_000_000_000,
            b in 1i64..2_000_000_000,
            t in 1i64..1_000,
        ) {
            let (a, b, t) = (Decimal::new(a, 4), Decimal::new(b, 4), Decimal::new(t, 4));
            let book = book_with(t);
            prop_assert_eq!(judged(&book, a, b), exact(a, b, t * Decimal::ONE_HUNDRED));
        }

        /// Amounts on the boundary and one unit either side of it.
        #[test]
        fn at_the_boundary_and_one_unit_off(
            b in 1i64..2_000_000_000,
            t in 1i64..1_000,
            delta in -1i64..=1,
        ) {
            let (b, t) = (Decimal::new(b, 4), Decimal::new(t, 4));
            let a = t * b + Decimal::new(delta, 8);
            let book = book_with(t);
            let want = exact(a, b, t * Decimal::ONE_HUNDRED);
            prop_assert_eq!(want == Outcome::Met, delta >= 0);
            prop_assert_eq!(judged(&book, a, b), want);
        }

        /// The tech-SME R&D points: the highest band whose share the firm
        /// reaches, exactly.
        #[test]
        fn tech_sme_rd_points_are_exact(
            b in 1i64..2_000_000_000,
            band in 0usize..5,
            delta in -1i64..=1,
        ) {
            let book = kc_planfile::default_rules();
            let bands = &book.tsme.rd_sales_bands;
            let b = Decimal::new(b, 4);
            let a = bands[band].min * b + Decimal::new(delta, 8);
            let mut f = sme(10.0, 0.0, 1.0, 0.0);
            f.years[0].revenue = Some(b);
            f.years[0].rd_expense = Some(a);
            f.years[0].total_cost = Some(Decimal::new(1, 10) + b * Decimal::from(1_000_000));
            let want = bands
                .iter()
                .filter(|x| exact(a, b, x.min * Decimal::ONE_HUNDRED) == Outcome::Met)
                .map(|x| x.points)
                .max()
                .unwrap_or_default();
            let c = check_tsme(book, &f);
            let x = condition(&c, "score");
            prop_assert!(x.actual.contains(&format!("研发投入 {want}、")), "{} {}", want, x.actual);
        }
    }
}
