//! Boundary firms (issue 16): firms written at the exact edges of the
//! measures — the 高新技术企业 R&D intensity of each revenue band (5% up to
//! 5,000 万元, 4% up to 2 亿元, 3% above) and the band edges themselves, 10%
//! S&T staff, 60% high-tech income of 总收入 (not of 营业收入), 60% of R&D
//! spent in China, the score of 71, registration a year before the
//! judgement date; the 科技型中小企业 size caps (500 staff, 2 亿元 revenue and
//! assets), the S&T-staff score that must not be 0, 60 points, and its direct
//! routes; contradictory and missing figures. At least 30 firms on each edge,
//! each at the edge and just past it, imported through the registry import
//! on both backends and judged through the pre-check API at 2025-06-30.
//!
//! Every expectation is written from the measures' text (the rule book's
//! `sources`), not from the code: "at least 5%" is met by exactly 5% and
//! missed by 0.01 万元 less.

#[macro_use]
mod common;

use std::collections::HashMap;

use common::{PLAN, TestApp};
use kc_domain::eligibility::Decimal;

/// One boundary firm: its figures (the same three years 2022–2024) and what
/// the measures say of it.
struct Firm {
    code: String,
    edge: &'static str,
    registered_on: &'static str,
    year: HashMap<&'static str, String>,
    /// (rule, condition code or "verdict", expected outcome or verdict code).
    expect: Vec<(&'static str, &'static str, &'static str)>,
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A decimal as the import reads it.
fn t(x: Decimal) -> String {
    x.normalize().to_string()
}

/// A firm meeting every 高新技术企业 condition with room to spare, at
/// revenue `r` 万元: R&D 6%, all in China; 200 staff, 40 in S&T (20%);
/// high-tech income 70% of total income (= revenue); score 28 + 25 + 20 = 73
/// with no growth (flat years).
fn hte_base(r: Decimal) -> HashMap<&'static str, String> {
    let mut y = HashMap::new();
    let rd = r * d("0.06");
    for (k, v) in [
        ("revenue", r),
        ("total_income", r),
        ("rd_expense", rd),
        ("rd_domestic", rd),
        ("total_cost", r * d("0.9")),
        ("total_assets", r),
        ("net_assets", r * d("0.5")),
        ("staff", d("200")),
        ("st_staff", d("40")),
        ("hitech_income", r * d("0.7")),
        ("ip_class1", d("2")),
        ("ip_class2", d("5")),
        ("ip_score", d("28")),
        ("transfer_score", d("25")),
        ("mgmt_score", d("20")),
    ] {
        y.insert(k, t(v));
    }
    y.insert("major_accident", "否".into());
    y.insert("has_rd_activity", "是".into());
    y
}

/// A small firm for 科技型中小企业 at revenue `r`: 200 staff, 60 in S&T (30%:
/// 20 points), R&D 6% of sales (50), one class-I IP (30) = 100 points;
/// assets equal to revenue; costs 90% of revenue (R&D share of costs below
/// every band, so sales decide).
fn tsme_base(r: Decimal) -> HashMap<&'static str, String> {
    let mut y = hte_base(r);
    y.insert("staff", "200".into());
    y.insert("st_staff", "60".into());
    y.insert("ip_class1", "1".into());
    y.insert("ip_class2", "0".into());
    y
}

fn firms() -> Vec<Firm> {
    let mut out: Vec<Firm> = Vec::new();
    let mut add = |edge: &'static str,
                   year: HashMap<&'static str, String>,
                   expect: Vec<(&'static str, &'static str, &'static str)>| {
        let n = out.len();
        out.push(Firm {
            code: String::new(),
            edge,
            registered_on: "2015-06-01",
            year,
            expect: expect
                .into_iter()
                .chain([("", "", "")])
                .take_while(|e| !e.0.is_empty())
                .collect(),
        });
        n
    };
    let cent = d("0.01");
    // R&D intensity by the latest year's revenue band. The band edge belongs
    // to the lower band: 5,000 万元 exactly needs 5%, 20,000 exactly 4%.
    let bands: [(&str, Decimal, Vec<Decimal>); 3] = [
        (
            "研发费用占比 5%（收入 5,000 万元以下）",
            d("0.05"),
            (0..14)
                .map(|i| d("100") + Decimal::from(i * 340))
                .chain([d("5000")])
                .collect(),
        ),
        (
            "研发费用占比 4%（5,000 万–2 亿元）",
            d("0.04"),
            [d("5001")]
                .into_iter()
                .chain((6..20).map(|i| Decimal::from(i * 1000)))
                .chain([d("20000")])
                .collect(),
        ),
        (
            "研发费用占比 3%（2 亿元以上）",
            d("0.03"),
            [d("20001")]
                .into_iter()
                .chain((5..19).map(|i| Decimal::from(i * 5000)))
                .collect(),
        ),
    ];
    for (edge, ratio, revenues) in bands {
        for r in revenues {
            let mut y = hte_base(r);
            y.insert("rd_expense", t(r * ratio));
            y.insert("rd_domestic", t(r * ratio));
            add(edge, y, vec![("hte", "rd_ratio", "met")]);
            let mut y = hte_base(r);
            y.insert("rd_expense", t(r * ratio - cent));
            y.insert("rd_domestic", t(r * ratio - cent));
            add(edge, y, vec![("hte", "rd_ratio", "near")]);
        }
    }
    // S&T staff: at least 10% of all staff.
    for i in 0..15 {
        let n = Decimal::from(50 + 50 * i);
        let mut y = hte_base(d("8000"));
        y.insert("staff", t(n));
        y.insert("st_staff", t(n / d("10")));
        add(
            "科技人员占比 10%",
            y.clone(),
            vec![("hte", "st_staff", "met")],
        );
        y.insert("st_staff", t(n / d("10") - d("1")));
        add("科技人员占比 10%", y, vec![("hte", "st_staff", "near")]);
    }
    // High-tech income: at least 60% of 总收入 (revenue + 5% other income).
    // 60% of revenue alone is short of it.
    for i in 1..=15 {
        let r = Decimal::from(1000 * i);
        let total = r * d("1.05");
        let edge = "高新技术产品收入占总收入 60%";
        let mut y = hte_base(r);
        y.insert("total_income", t(total));
        y.insert("hitech_income", t(total * d("0.6")));
        add(edge, y.clone(), vec![("hte", "hitech_income", "met")]);
        y.insert("hitech_income", t(total * d("0.6") - cent));
        add(edge, y.clone(), vec![("hte", "hitech_income", "near")]);
        y.insert("hitech_income", t(r * d("0.6")));
        add(edge, y, vec![("hte", "hitech_income", "near")]);
    }
    // R&D in China: at least 60% of all R&D.
    for i in 1..=15 {
        let r = Decimal::from(1000 * i);
        let rd = r * d("0.06");
        let mut y = hte_base(r);
        y.insert("rd_domestic", t(rd * d("0.6")));
        add(
            "境内研发费用占比 60%",
            y.clone(),
            vec![("hte", "rd_domestic", "met")],
        );
        y.insert("rd_domestic", t(rd * d("0.6") - cent));
        add(
            "境内研发费用占比 60%",
            y,
            vec![("hte", "rd_domestic", "near")],
        );
    }
    // The innovation score: at least 71 (no growth points: flat years).
    for i in 0..15i64 {
        let (ip, mg) = (30 - i % 5, 20 - i % 6);
        let tr = 71 - ip - mg;
        assert!((0..=20).contains(&mg) && tr <= 30, "{ip} {tr} {mg}");
        let mut y = hte_base(d("8000"));
        y.insert("ip_score", ip.to_string());
        y.insert("transfer_score", tr.to_string());
        y.insert("mgmt_score", mg.to_string());
        add(
            "创新能力评价 71 分",
            y.clone(),
            vec![("hte", "score", "met"), ("hte", "verdict", "eligible")],
        );
        y.insert("mgmt_score", (mg - 1).to_string());
        add(
            "创新能力评价 71 分",
            y,
            vec![("hte", "score", "near"), ("hte", "verdict", "near")],
        );
    }
    // 科技型中小企业 size caps: at most 500 staff, 2 亿元 revenue and assets.
    for i in 0..10 {
        let r = Decimal::from(2000 + 1500 * i);
        let edge = "科技型中小企业规模上限";
        let mut y = tsme_base(r);
        y.insert("staff", "500".into());
        y.insert("st_staff", "150".into());
        add(
            edge,
            y.clone(),
            vec![("tsme", "staff", "met"), ("tsme", "verdict", "eligible")],
        );
        y.insert("staff", "501".into());
        add(
            edge,
            y,
            vec![("tsme", "staff", "not_met"), ("tsme", "verdict", "not")],
        );
        let mut y = tsme_base(d("20000"));
        y.insert("total_assets", t(r));
        add(edge, y.clone(), vec![("tsme", "revenue", "met")]);
        y.insert("revenue", "20000.01".into());
        add(edge, y, vec![("tsme", "revenue", "not_met")]);
        let mut y = tsme_base(r);
        y.insert("total_assets", "20000".into());
        add(edge, y.clone(), vec![("tsme", "assets", "met")]);
        y.insert("total_assets", "20000.01".into());
        add(edge, y, vec![("tsme", "assets", "not_met")]);
    }
    // The S&T-staff score must not be 0: under 10% of staff, 80 points from
    // R&D and IP do not qualify.
    for i in 0..15 {
        let n = Decimal::from(100 + 20 * i);
        let edge = "科技人员指标得分不为 0";
        let mut y = tsme_base(d("8000"));
        y.insert("staff", t(n));
        y.insert("st_staff", t(n / d("10")));
        add(
            edge,
            y.clone(),
            vec![("tsme", "score", "met"), ("tsme", "verdict", "eligible")],
        );
        y.insert("st_staff", t(n / d("10") - d("1")));
        add(
            edge,
            y,
            vec![("tsme", "score", "not_met"), ("tsme", "verdict", "not")],
        );
    }
    // 60 points: 25% S&T staff (16) + R&D 3% of sales (20) + four class-II
    // IP (24) = 60 qualifies; three class-II IP (18) make 54.
    for i in 0..15 {
        let r = Decimal::from(1000 + 500 * i);
        let edge = "科技型中小企业评价 60 分";
        let mut y = tsme_base(r);
        y.insert("staff", "200".into());
        y.insert("st_staff", "50".into());
        y.insert("rd_expense", t(r * d("0.03")));
        y.insert("rd_domestic", t(r * d("0.03")));
        y.insert("ip_class1", "0".into());
        y.insert("ip_class2", "4".into());
        add(
            edge,
            y.clone(),
            vec![("tsme", "score", "met"), ("tsme", "verdict", "eligible")],
        );
        y.insert("ip_class2", "3".into());
        add(
            edge,
            y,
            vec![("tsme", "score", "near"), ("tsme", "verdict", "near")],
        );
    }
    // Direct routes: a national S&T award or a standard led qualifies
    // without the score, but never past the size caps.
    for i in 0..8 {
        let r = Decimal::from(3000 + 1000 * i);
        let edge = "科技型中小企业直接认定";
        for route in ["national_award", "leads_standard"] {
            let mut y = tsme_base(r);
            y.insert("st_staff", "0".into());
            y.insert(route, "是".into());
            add(edge, y.clone(), vec![("tsme", "verdict", "eligible")]);
            y.insert("staff", "600".into());
            add(
                edge,
                y,
                vec![("tsme", "staff", "not_met"), ("tsme", "verdict", "not")],
            );
        }
    }
    // Contradictory figures are reported, never computed with; a missing
    // figure is missing, and a condition that does not need it is judged.
    for i in 0..8 {
        let r = Decimal::from(4000 + 1000 * i);
        let edge = "数据矛盾与缺数据";
        let mut y = hte_base(r);
        y.insert("st_staff", "201".into());
        add(
            edge,
            y,
            vec![
                ("hte", "st_staff", "contradiction"),
                ("hte", "verdict", "incomplete"),
            ],
        );
        let mut y = hte_base(r);
        y.insert("rd_domestic", t(r * d("0.06") + cent));
        add(edge, y, vec![("hte", "rd_domestic", "contradiction")]);
        let mut y = hte_base(r);
        y.insert("hitech_income", t(r + cent));
        add(edge, y, vec![("hte", "hitech_income", "contradiction")]);
        let mut y = hte_base(r);
        y.remove("total_income");
        add(
            edge,
            y,
            vec![
                ("hte", "hitech_income", "missing"),
                ("hte", "verdict", "incomplete"),
            ],
        );
        let mut y = hte_base(r);
        y.remove("revenue");
        add(
            edge,
            y,
            vec![
                ("hte", "rd_ratio", "missing"),
                ("hte", "rd_domestic", "met"),
            ],
        );
    }
    // Registration: a full year before the judgement date (2025-06-30).
    let mut regs: Vec<(usize, &str)> = Vec::new();
    for i in 0..10 {
        let r = Decimal::from(3000 + 700 * i);
        let edge = "注册成立满 1 年";
        regs.push((
            add(edge, hte_base(r), vec![("hte", "registered", "met")]),
            "2024-06-30",
        ));
        regs.push((
            add(edge, hte_base(r), vec![("hte", "registered", "not_met")]),
            "2024-07-01",
        ));
        regs.push((
            add(edge, hte_base(r), vec![("hte", "registered", "met")]),
            "2024-02-29",
        ));
    }
    for (i, on) in regs {
        out[i].registered_on = on;
    }
    for (i, f) in out.iter_mut().enumerate() {
        let first17 = format!("91340300BJ{i:07}");
        let check = kc_domain::credit::check_char(&first17).unwrap();
        f.code = format!("{first17}{check}");
    }
    out
}

async fn import(app: &TestApp, registry: &str, csv: String) {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name(format!("{registry}.csv")),
    );
    let r = app
        .http
        .post(app.url(&format!("/plans/{PLAN}/registries/{registry}/import")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let page = r.text().await.unwrap();
    assert!(
        status == 200 && page.contains("已导入"),
        "{registry}: {status} {page}"
    );
}

const FIGURES: [&str; 18] = [
    "revenue",
    "total_income",
    "rd_expense",
    "rd_domestic",
    "total_cost",
    "total_assets",
    "net_assets",
    "staff",
    "st_staff",
    "hitech_income",
    "ip_class1",
    "ip_class2",
    "ip_score",
    "transfer_score",
    "mgmt_score",
    "major_accident",
    "national_award",
    "leads_standard",
];

async fn boundary_firms_are_judged_exactly(app: &TestApp) {
    let firms = firms();
    // At least 30 firms on each edge.
    let mut per_edge: HashMap<&str, usize> = HashMap::new();
    for f in &firms {
        *per_edge.entry(f.edge).or_default() += 1;
    }
    for (edge, n) in &per_edge {
        assert!(*n >= 30, "{edge}: {n} firms");
    }
    let mut ent = String::from("credit_code,name,area,cluster,registered_on,tech_field\n");
    let mut fig = format!("credit_code,year,has_rd_activity,{}\n", FIGURES.join(","));
    for (i, f) in firms.iter().enumerate() {
        ent.push_str(&format!(
            "{},边界企业{i}号科技有限公司,longzihu,其他,{},新材料\n",
            f.code, f.registered_on
        ));
        for year in 2022..=2024 {
            let cells: Vec<String> = FIGURES
                .iter()
                .map(|k| f.year.get(k).cloned().unwrap_or_default())
                .collect();
            fig.push_str(&format!("{},{year},是,{}\n", f.code, cells.join(",")));
        }
    }
    import(app, "enterprises", ent).await;
    import(app, "enterprise_figures", fig).await;
    let mut judged: HashMap<(&str, String), serde_json::Value> = HashMap::new();
    for rule in ["hte", "tsme"] {
        let j = app
            .get_json(&format!(
                "/api/v1/plans/{PLAN}/cultivation/precheck?rule={rule}&as_of=2025-06-30&area=longzihu"
            ))
            .await;
        for r in j["rows"].as_array().unwrap() {
            judged.insert(
                (rule, r["credit_code"].as_str().unwrap().to_string()),
                r.clone(),
            );
        }
    }
    let mut wrong = Vec::new();
    let mut checked = 0;
    for f in &firms {
        for (rule, what, want) in &f.expect {
            let Some(row) = judged.get(&(*rule, f.code.clone())) else {
                wrong.push(format!("{} {}: not in the {rule} list", f.edge, f.code));
                continue;
            };
            let got = if *what == "verdict" {
                row["verdict"].as_str().unwrap_or("").to_string()
            } else {
                row["conditions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["code"] == *what)
                    .map(|c| c["outcome"].as_str().unwrap_or("").to_string())
                    .unwrap_or_else(|| "absent".into())
            };
            checked += 1;
            if got != *want {
                wrong.push(format!(
                    "{} {} {rule}.{what}: want {want}, got {got} ({})",
                    f.edge, f.code, row["conditions"]
                ));
            }
        }
    }
    println!(
        "boundary firms: {} firms on {} edges, {checked} outcomes checked, {} wrong",
        firms.len(),
        per_edge.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

on_both_backends!(boundary_firms_are_judged_exactly);
