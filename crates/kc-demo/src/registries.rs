//! Synthetic registries at three scales, deterministic for a seed.
//!
//! City scale is shaped like Bengbu: about 700 high-tech enterprises at the
//! end of 2022 growing towards the plan's 1,200, about 800 tech SMEs, tens of
//! billions of yuan of contract turnover a year, spread over the nine areas
//! with the two zones and the city districts carrying more. Province scale
//! repeats a city 16 times over 144 areas; nation scale 334 times over about
//! 3,000 areas (over 1 million enterprises, 3 million qualification records
//! and 2 million contracts).

use chrono::{Datelike, NaiveDate};
use kc_domain::plan::{Area, Plan};
use kc_domain::registry::{self as reg, Record, RegistryDef, Value};
use kc_domain::{Code, credit};

use crate::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    City,
    Province,
    Nation,
}

impl Scale {
    pub fn parse(s: &str) -> Option<Scale> {
        match s {
            "city" => Some(Scale::City),
            "province" => Some(Scale::Province),
            "nation" => Some(Scale::Nation),
            _ => None,
        }
    }

    /// How many cities' worth of data.
    pub fn cities(self) -> usize {
        match self {
            Scale::City => 1,
            Scale::Province => 16,
            Scale::Nation => 334,
        }
    }
}

/// The plan whose areas the registries use: the base plan at city scale,
/// else the same plan with the areas of every synthetic city.
pub fn scaled_plan(base: &Plan, scale: Scale) -> Plan {
    if scale == Scale::City {
        return base.clone();
    }
    let mut p = base.clone();
    p.code = Code::parse(&format!(
        "{}-{}",
        base.code,
        match scale {
            Scale::Province => "province",
            _ => "nation",
        }
    ))
    .expect("valid code");
    p.name = format!(
        "{}（{}规模测试）",
        base.name,
        if scale == Scale::Province {
            "省级"
        } else {
            "全国"
        }
    );
    p.areas = (0..scale.cities())
        .flat_map(|c| {
            base.areas.iter().map(move |a| Area {
                code: Code::parse(&format!("c{c:03}-{}", a.code)).expect("valid code"),
                name: format!("第{}市{}", c + 1, a.name),
                kind: a.kind.clone(),
                aliases: Vec::new(),
            })
        })
        .collect();
    p.every_node.units.clear();
    for n in &mut p.nodes {
        n.lead.retain(|u| base.department(u.as_str()).is_some());
        n.co.retain(|u| base.department(u.as_str()).is_some());
    }
    p
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day.min(28)).expect("valid date")
}

fn rec(def: &RegistryDef, pairs: &[(&str, Value)]) -> Record {
    let mut values = vec![Value::Null; def.fields.len()];
    for (k, v) in pairs {
        if let Some(i) = def.index(k) {
            values[i] = v.clone();
        }
    }
    Record { values }
}

/// Text, or empty (no value) for "".
fn t(s: &str) -> Value {
    if s.is_empty() {
        Value::Null
    } else {
        Value::Text(s.to_string())
    }
}

fn pick<'a>(rng: &mut Rng, xs: &[&'a str]) -> &'a str {
    xs[(rng.next_u64() % xs.len() as u64) as usize]
}

/// A random day of a year, optionally within a range of months.
fn day_in(rng: &mut Rng, year: i32, m0: u32, m1: u32) -> NaiveDate {
    let m = m0 + (rng.next_u64() % u64::from(m1 - m0 + 1)) as u32;
    d(year, m, 1 + (rng.next_u64() % 28) as u32)
}

/// A log-normal amount around `median`.
fn lognormal(rng: &mut Rng, median: f64, spread: f64) -> f64 {
    // Box–Muller from two uniforms.
    let (u1, u2) = (rng.unit().max(1e-12), rng.unit());
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    median * (spread * z).exp()
}

/// Generates the registries and hands each record to `emit`, so that even
/// nation scale never has to be held as records all at once.
pub fn generate(
    plan: &Plan,
    scale: Scale,
    seed: u64,
    through: NaiveDate,
    mut emit: impl FnMut(&'static RegistryDef, &Record),
) {
    let base_areas = plan.areas.len() / scale.cities();
    for city in 0..scale.cities() {
        let areas: Vec<&Area> = plan.areas[city * base_areas..(city + 1) * base_areas]
            .iter()
            .collect();
        let mut rng = Rng::new(seed.wrapping_mul(1_000_003).wrapping_add(city as u64));
        generate_city(&areas, city, through, &mut rng, &mut emit);
    }
}

/// An area's code without the synthetic city's prefix (c012-gaoxin → gaoxin).
fn base_code(a: &Area) -> &str {
    let c = a.code.as_str();
    match c.split_once('-') {
        Some((p, rest)) if p.len() == 4 && p.starts_with('c') => rest,
        _ => c,
    }
}

/// A number in [0, 1) fixed by an area's code, so that areas of one kind
/// still differ from each other.
fn area_hash(a: &Area) -> f64 {
    let h = base_code(a)
        .bytes()
        .fold(7u64, |x, b| x.wrapping_mul(131).wrapping_add(u64::from(b)));
    (h % 1000) as f64 / 1000.0
}

/// Weight of an area: the high-tech zone hosts the most firms, the other
/// zone and the central districts fewer, the counties fewest. Within a kind
/// the areas differ by a factor fixed by their code, so no two areas get
/// the same share. Only the area a firm falls in depends on the weights;
/// the random draws are the same whatever they are.
fn weight(a: &Area) -> f64 {
    let base = match a.kind.as_str() {
        "开发区" if a.name.contains("高新") => 3.2,
        "开发区" => 2.1,
        "区" => 1.2,
        _ => 0.8,
    };
    base * (0.8 + 0.4 * area_hash(a))
}

fn pick_area<'a>(rng: &mut Rng, areas: &[&'a Area], cum: &[f64]) -> &'a Area {
    let x = rng.unit() * cum.last().copied().unwrap_or(1.0);
    let i = cum.iter().position(|c| x < *c).unwrap_or(areas.len() - 1);
    areas[i]
}

/// Stock of high-tech enterprises (高企) at each year end, before scaling.
const HTE_PATH: [(i32, usize); 9] = [
    (2017, 300),
    (2018, 380),
    (2019, 450),
    (2020, 520),
    (2021, 610),
    (2022, 705),
    (2023, 840),
    (2024, 975),
    (2025, 1120),
];
const TSME_PATH: [(i32, usize); 6] = [
    (2020, 520),
    (2021, 640),
    (2022, 795),
    (2023, 1010),
    (2024, 1230),
    (2025, 1390),
];
const ZJTX_PATH: [(i32, usize); 6] = [
    (2020, 90),
    (2021, 120),
    (2022, 175),
    (2023, 230),
    (2024, 300),
    (2025, 345),
];
/// Enterprise-absorbed contract turnover per year, 亿元.
const TURNOVER: [(i32, f64); 5] = [
    (2021, 120.0),
    (2022, 150.0),
    (2023, 180.0),
    (2024, 236.0),
    (2025, 290.0),
];

struct Firm {
    code: String,
    name: String,
    cluster: String,
    area: usize,
    above_scale: bool,
    manufacturing: bool,
    /// Revenue in 2020, 万元.
    revenue: f64,
    /// Year R&D activity began (9999: never yet) and an R&D institution was set up.
    rd_from: i32,
    inst_from: i32,
    tech: f64,
}

#[allow(clippy::too_many_lines)]
fn generate_city(
    areas: &[&Area],
    city: usize,
    through: NaiveDate,
    rng: &mut Rng,
    emit: &mut impl FnMut(&'static RegistryDef, &Record),
) {
    let mut cum = Vec::new();
    let mut acc = 0.0;
    for a in areas {
        acc += weight(a);
        cum.push(acc);
    }
    let last_year = through.year();
    let before = |dt: NaiveDate| dt <= through;

    // ---- enterprises ----
    let n_firms = 6000;
    let mut firms: Vec<Firm> = Vec::with_capacity(n_firms);
    for i in 0..n_firms {
        let ai = {
            let a = pick_area(rng, areas, &cum);
            areas.iter().position(|x| std::ptr::eq(*x, a)).unwrap_or(0)
        };
        // Division code 340300 (Bengbu) for the city, others for synthetic ones.
        let div = 340300 + (city as u32 % 600) * 100;
        let body = format!("91{div:06}{:09}", (city as u64) * 1_000_000 + i as u64);
        let code = credit::complete(&body)
            .map(|c| c.to_string())
            .unwrap_or(body);
        let above_scale = rng.unit() < 0.27;
        let manufacturing = rng.unit() < 0.62;
        let revenue = if above_scale {
            lognormal(rng, 12000.0, 1.1).max(2000.0)
        } else {
            lognormal(rng, 900.0, 1.0)
        };
        let tech = rng.unit();
        let rd_from = if rng.unit() < 0.35 + tech * 0.5 {
            2015 + (rng.next_u64() % 13) as i32
        } else {
            9999
        };
        let inst_from = if rng.unit() < 0.2 + tech * 0.5 {
            2016 + (rng.next_u64() % 12) as i32
        } else {
            9999
        };
        let registered = d(
            1995 + (rng.next_u64() % 29) as i32,
            1 + (rng.next_u64() % 12) as u32,
            1 + (rng.next_u64() % 28) as u32,
        );
        let (status, board, listed_on) = if i < 30 {
            let y = if i < 4 {
                2023 + (i as i32 % 3)
            } else {
                2005 + (rng.next_u64() % 17) as i32
            };
            let on = day_in(rng, y, 1, 9);
            if before(on) {
                (
                    "已上市",
                    pick(rng, &["主板", "科创板", "创业板", "北交所"]),
                    Value::Date(on),
                )
            } else {
                ("上市后备", "", Value::Null)
            }
        } else if i < 60 {
            ("上市后备", "", Value::Null)
        } else {
            ("未上市", "", Value::Null)
        };
        let clusters = ["新能源", "新型显示", "智能传感", "生物化工", "其他", "其他"];
        let mut firm = rec(
            &reg::ENTERPRISES,
            &[
                ("credit_code", t(&code)),
                (
                    "name",
                    // The draw stays (the stream after it is unchanged);
                    // the name itself reads as a firm's.
                    t(pick(rng, &["皖", "淮", "蚌", "华", "中", "新"])),
                ),
                ("area", t(areas[ai].code.as_str())),
                (
                    "industry_code",
                    t(&format!("C{}", 3000 + rng.next_u64() % 999)),
                ),
                ("cluster", t(pick(rng, &clusters))),
                // From a stream of its own, so the other fields stay as
                // they were before this one existed.
                (
                    "tech_field",
                    t(pick(&mut rng.fork(&code), reg::TECH_FIELDS)),
                ),
                ("above_scale", Value::Bool(above_scale)),
                ("manufacturing", Value::Bool(manufacturing)),
                ("registered_on", Value::Date(registered)),
                ("listing_status", t(status)),
                (
                    "listing_board",
                    if board.is_empty() {
                        Value::Null
                    } else {
                        t(board)
                    },
                ),
                ("listed_on", listed_on),
            ],
        );
        // The firm's name, from its place and cluster (the draw above only
        // keeps the random stream as it was).
        let cluster = firm.get(&reg::ENTERPRISES, "cluster").display();
        let name = crate::names::firm(i, &areas[ai].name, &cluster);
        if let Some(n) = reg::ENTERPRISES.index("name") {
            firm.values[n] = t(&name);
        }
        emit(&reg::ENTERPRISES, &firm);
        firms.push(Firm {
            code,
            name,
            cluster,
            area: ai,
            above_scale,
            manufacturing,
            revenue,
            rd_from,
            inst_from,
            tech,
        });
    }
    // A few very large firms (sales ≥ 50亿元) among the most technical.
    let mut by_tech: Vec<usize> = (0..firms.len()).collect();
    by_tech.sort_by(|a, b| {
        firms[*b]
            .tech
            .partial_cmp(&firms[*a].tech)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for (k, &i) in by_tech.iter().take(4).enumerate() {
        firms[i].above_scale = true;
        firms[i].revenue = 380000.0 + 60000.0 * k as f64;
    }
    // Each area's firms, most technical first: platforms, teams and
    // contracts name a real firm of the area they fall in.
    let mut in_area: Vec<Vec<usize>> = vec![Vec::new(); areas.len()];
    for &f in &by_tech {
        in_area[firms[f].area].push(f);
    }
    // A firm of area `ai` (the `k`-th, wrapping), for records whose area is
    // drawn first.
    let firm_in = |ai: usize, k: usize| -> Option<usize> {
        let list = &in_area[ai];
        (!list.is_empty()).then(|| list[k % list.len()])
    };
    // A firm of area `ai` in `cluster` (the `k`-th, wrapping), any firm
    // of the area when it has none of the cluster.
    let firm_of = |ai: usize, cluster: &str, k: usize| -> Option<usize> {
        let of: Vec<usize> = in_area[ai]
            .iter()
            .copied()
            .filter(|&f| firms[f].cluster == cluster)
            .collect();
        if of.is_empty() {
            firm_in(ai, k)
        } else {
            Some(of[k % of.len()])
        }
    };
    let area_index = |code: &str| areas.iter().position(|a| a.code.as_str() == code);
    // Keyed names repeat from one synthetic city to the next; at province
    // and nation scale the city's number keeps them apart.
    let tag = if city == 0 {
        String::new()
    } else {
        format!("（第{}市）", city + 1)
    };

    // ---- qualifications ----
    let mut seq = 0u64;
    // High-tech: three-year certificates; renewals and new firms keep the
    // year-end stock on the path. The most technical firms qualify first.
    let mut expiry: Vec<(usize, NaiveDate)> = Vec::new();
    let mut next_candidate = 0usize;
    for &(year, stock) in &HTE_PATH {
        // Certificates issued three years ago expire this year; most renew.
        let due: Vec<usize> = expiry
            .iter()
            .filter(|(_, e)| e.year() == year)
            .map(|(f, _)| *f)
            .collect();
        expiry.retain(|(_, e)| e.year() > year);
        let renewals: Vec<usize> = due.into_iter().filter(|_| rng.unit() < 0.82).collect();
        let held = expiry.len();
        let need_new = stock.saturating_sub(held + renewals.len());
        let mut news = Vec::new();
        while news.len() < need_new && next_candidate < by_tech.len() {
            news.push(by_tech[next_candidate]);
            next_candidate += 1;
        }
        for f in renewals.into_iter().chain(news) {
            let issued = day_in(rng, year, 10, 12);
            if !before(issued) {
                continue;
            }
            seq += 1;
            let mut pairs = vec![
                ("credit_code", t(&firms[f].code)),
                ("kind", t("hte")),
                ("number", t(&format!("GR{year}34{:06}", seq))),
                ("issued_on", Value::Date(issued)),
            ];
            // About 1 in 150 certificates is revoked a year later.
            if rng.unit() < 0.007 {
                let r = issued + chrono::Duration::days(300 + (rng.next_u64() % 200) as i64);
                if before(r) {
                    pairs.push(("revoked_on", Value::Date(r)));
                }
            }
            emit(&reg::QUALIFICATIONS, &rec(&reg::QUALIFICATIONS, &pairs));
            expiry.retain(|(x, _)| *x != f);
            expiry.push((
                f,
                d(year + 3, issued.month(), issued.day()) - chrono::Duration::days(1),
            ));
        }
    }
    // Tech SMEs: evaluated every year; mostly the same firms again.
    for &(year, count) in &TSME_PATH {
        let mut chosen = 0;
        let mut i = (year as usize * 37) % by_tech.len();
        while chosen < count {
            let f = by_tech[(i + firms.len() / 10) % by_tech.len()];
            i += 1;
            if firms[f].above_scale && firms[f].revenue > 20000.0 {
                continue;
            }
            let issued = day_in(rng, year, 3, 9);
            chosen += 1;
            if !before(issued) {
                continue;
            }
            seq += 1;
            emit(
                &reg::QUALIFICATIONS,
                &rec(
                    &reg::QUALIFICATIONS,
                    &[
                        ("credit_code", t(&firms[f].code)),
                        ("kind", t("tsme")),
                        (
                            "number",
                            t(&format!("{year}3403{:02}A0{:05}", city % 100, seq % 100000)),
                        ),
                        ("issued_on", Value::Date(issued)),
                        ("year", Value::Int(i64::from(year))),
                    ],
                ),
            );
        }
    }
    // 专精特新 and 小巨人: three-year titles, new ones each year.
    let mut held = 0usize;
    for &(year, stock) in &ZJTX_PATH {
        let new = stock.saturating_sub(held) + stock / 8;
        for k in 0..new {
            let f = by_tech[(200 + held + k + year as usize) % by_tech.len()];
            let kind = if k % 12 == 0 { "little_giant" } else { "zjtx" };
            let issued = day_in(rng, year, 5, 11);
            if !before(issued) {
                continue;
            }
            seq += 1;
            emit(
                &reg::QUALIFICATIONS,
                &rec(
                    &reg::QUALIFICATIONS,
                    &[
                        ("credit_code", t(&firms[f].code)),
                        ("kind", t(kind)),
                        ("number", t(&format!("ZJTX{year}{:06}", seq))),
                        ("issued_on", Value::Date(issued)),
                    ],
                ),
            );
        }
        held = stock;
    }
    // 创新型中小企业: a wide base of firms, three-year titles from 2022.
    for k in 0..1300usize {
        let f = by_tech[(600 + k * 3) % by_tech.len()];
        let issued = day_in(rng, 2022 + (k % 4) as i32, 4, 11);
        if !before(issued) {
            continue;
        }
        seq += 1;
        emit(
            &reg::QUALIFICATIONS,
            &rec(
                &reg::QUALIFICATIONS,
                &[
                    ("credit_code", t(&firms[f].code)),
                    ("kind", t("innov_sme")),
                    ("number", t(&format!("CX{:07}", seq))),
                    ("issued_on", Value::Date(issued)),
                ],
            ),
        );
    }
    for (k, &f) in by_tech.iter().take(25).enumerate() {
        let kind = pick(
            rng,
            &["st_leader", "chain_leader", "hidden_champion", "innov_sme"],
        );
        let issued = day_in(rng, 2021 + (k as i32 % 4), 3, 9);
        if before(issued) {
            seq += 1;
            emit(
                &reg::QUALIFICATIONS,
                &rec(
                    &reg::QUALIFICATIONS,
                    &[
                        ("credit_code", t(&firms[f].code)),
                        ("kind", t(kind)),
                        ("number", t(&format!("Q{:07}", seq))),
                        ("issued_on", Value::Date(issued)),
                    ],
                ),
            );
        }
    }

    // ---- yearly figures (published the following spring) ----
    let figures_to = if through.month() >= 4 {
        last_year - 1
    } else {
        last_year - 2
    };
    for f in firms.iter().filter(|f| f.above_scale || f.tech > 0.7) {
        for year in 2020..=figures_to {
            let growth = 1.0 + 0.08 * f64::from(year - 2020) + rng.range(-0.05, 0.05);
            let revenue = (f.revenue * growth).round();
            // The 两清零 drive: from 2023 more manufacturers start R&D.
            let has_rd = year >= f.rd_from
                || (year >= 2023 && f.manufacturing && f.tech > 0.3)
                || (year >= 2024 && f.manufacturing && f.tech > 0.15);
            let has_inst = year >= f.inst_from
                || (year >= 2024 && f.manufacturing && f.revenue > 30000.0 && f.tech > 0.25);
            let staff = (revenue / 80.0).clamp(8.0, 20000.0).round();
            let extra = extra_figures(
                &mut rng.fork(&format!("{}-{year}", f.code)),
                f,
                year,
                revenue,
            );
            // Other income (investment, subsidies…) and the rare direct
            // routes, from a stream of their own so that every figure above
            // and below keeps its value.
            let mut other = rng.fork(&format!("{}-{year}-other", f.code));
            let total_income = (revenue * (1.0 + other.range(0.0, 0.06))).round();
            let national_award = other.unit() < 0.01;
            let leads_standard = other.unit() < 0.02;
            // The first draw of the record, as it always was.
            let rd = if has_rd {
                (revenue * rng.range(0.01, 0.07)).round()
            } else {
                0.0
            };
            emit(
                &reg::FIGURES,
                &rec(
                    &reg::FIGURES,
                    &[
                        ("credit_code", t(&f.code)),
                        ("year", Value::Int(i64::from(year))),
                        ("revenue", Value::Num(revenue)),
                        ("rd_expense", Value::Num(rd)),
                        (
                            "total_cost",
                            Value::Num((revenue * rng.range(0.7, 0.95)).round()),
                        ),
                        (
                            "total_assets",
                            Value::Num((revenue * rng.range(0.8, 2.0)).round()),
                        ),
                        ("staff", Value::Int(staff as i64)),
                        (
                            "st_staff",
                            Value::Int((staff * rng.range(0.05, 0.3)).round() as i64),
                        ),
                        (
                            "hitech_income",
                            Value::Num((revenue * f.tech * 0.9).round()),
                        ),
                        ("has_rd_activity", Value::Bool(has_rd)),
                        ("has_rd_institution", Value::Bool(has_inst)),
                        (
                            "land_mu",
                            Value::Num((staff / 4.0 * extra.land_factor).round().max(5.0)),
                        ),
                        ("tax", Value::Num((revenue * rng.range(0.02, 0.06)).round())),
                        (
                            "rd_domestic",
                            Value::Num((rd * extra.domestic_share).round()),
                        ),
                        ("net_assets", Value::Num(extra.net_assets)),
                        ("ip_class1", Value::Int(extra.ip1)),
                        ("ip_class2", Value::Int(extra.ip2)),
                        ("ip_score", Value::Num(extra.ip_score)),
                        ("transfer_score", Value::Num(extra.transfer)),
                        ("mgmt_score", Value::Num(extra.mgmt)),
                        ("major_accident", Value::Bool(extra.accident)),
                        ("energy", Value::Num(extra.energy)),
                        ("total_income", Value::Num(total_income.max(revenue))),
                        ("national_award", Value::Bool(national_award)),
                        ("leads_standard", Value::Bool(leads_standard)),
                    ],
                ),
            );
        }
    }

    // ---- cultivation: service records, loans, catalogue products ----
    // From a stream of their own, so that the registries above keep their
    // data.
    {
        let mut x = rng.fork("cultivation");
        let owners = ["王科长", "李专员", "张专员", "刘科长", "陈专员"];
        let kinds = ["走访", "政策辅导", "申报指导", "问题协调"];
        let states = ["跟进中", "已申报", "已解决", "暂缓"];
        // The first bank is the demo bank account's own (its login sees
        // the loans it made); the others are the city's banks.
        let banks = [
            "某合作银行蚌埠分行（演示）",
            "徽商银行蚌埠分行",
            "蚌埠农商银行",
        ];
        let products = ["研发贷", "转化贷", "人才贷"];
        let mut n_loan = 0u64;
        for f in firms.iter().filter(|f| f.tech > 0.55) {
            // One firm in three has service records, one to three visits.
            if x.unit() < 0.33 {
                for _ in 0..(1 + (x.unit() * 3.0) as usize) {
                    let y = 2024 + i32::from(x.unit() < 0.5);
                    let on = day_in(&mut x, y, 1, 12);
                    if !before(on) {
                        continue;
                    }
                    emit(
                        &reg::FOLLOWUPS,
                        &rec(
                            &reg::FOLLOWUPS,
                            &[
                                ("credit_code", t(&f.code)),
                                ("visited_on", Value::Date(on)),
                                ("owner", t(pick(&mut x, &owners))),
                                ("kind", t(pick(&mut x, &kinds))),
                                (
                                    "content",
                                    t("了解研发投入和知识产权情况，讲解认定条件与申报时间"),
                                ),
                                ("status", t(pick(&mut x, &states))),
                            ],
                        ),
                    );
                }
            }
            if f.tech > 0.7 && x.unit() < 0.25 {
                let y = 2024 + i32::from(x.unit() < 0.5);
                let on = day_in(&mut x, y, 1, 12);
                if before(on) {
                    n_loan += 1;
                    emit(
                        &reg::LOANS,
                        &rec(
                            &reg::LOANS,
                            &[
                                ("number", t(&format!("KJD{n_loan:06}"))),
                                ("credit_code", t(&f.code)),
                                ("bank", t(pick(&mut x, &banks))),
                                ("product", t(pick(&mut x, &products))),
                                (
                                    "amount",
                                    Value::Num((x.range(100.0, 3000.0) / 10.0).round() * 10.0),
                                ),
                                ("lent_on", Value::Date(on)),
                            ],
                        ),
                    );
                }
            }
            if f.tech > 0.9 && x.unit() < 0.3 {
                emit(
                    &reg::PRODUCTS,
                    &rec(
                        &reg::PRODUCTS,
                        &[
                            ("name", t(&product_name(f))),
                            ("credit_code", t(&f.code)),
                            (
                                "category",
                                t(pick(&mut x, &["新技术", "新产品", "首台套", "首批次"])),
                            ),
                            ("batch", t("2024年第一批")),
                            (
                                "listed_on",
                                Value::Date(NaiveDate::from_ymd_opt(2024, 6, 30).expect("a date")),
                            ),
                        ],
                    ),
                );
            }
        }
    }

    // ---- technology contracts ----
    let mut n_contract = 0u64;
    for &(year, turnover) in &TURNOVER {
        // About 70 万元 a contract; most buyers are firms in the city.
        let per_contract = 680.0;
        let n = (turnover * 10000.0 / per_contract / 0.82) as usize;
        for _ in 0..n {
            let on = day_in(rng, year, 1, 12);
            if !before(on) {
                continue;
            }
            n_contract += 1;
            let amount = lognormal(rng, per_contract * 0.55, 1.0).round().max(1.0);
            let buyer_local = rng.unit() < 0.85;
            let buyer_ent = rng.unit() < 0.86;
            let seller_local = rng.unit() < 0.35;
            let buyer_area = if buyer_local {
                pick_area(rng, areas, &cum).code.as_str()
            } else {
                reg::OUTSIDE
            };
            let seller_area = if seller_local {
                pick_area(rng, areas, &cum).code.as_str()
            } else {
                reg::OUTSIDE
            };
            let kind = pick(
                rng,
                &[
                    "技术开发",
                    "技术开发",
                    "技术转让",
                    "技术许可",
                    "技术咨询",
                    "技术服务",
                    "技术服务",
                ],
            );
            // The seller's name and type come from the same draws as
            // before; the name now follows the type and where the seller
            // is, so a university is never typed as an enterprise.
            let seller_draw = rng.next_u64() as usize;
            let seller_type = pick(rng, &["高校", "科研院所", "企业", "企业"]);
            let buyer_type = if buyer_ent {
                "企业"
            } else {
                pick(rng, &["高校", "科研院所", "其他"])
            };
            let tech_amount = (amount * rng.range(0.6, 1.0)).round();
            let n = n_contract as usize;
            let (seller_name, seller_code) = party(
                seller_type,
                seller_area,
                seller_draw,
                &firms,
                area_index(seller_area).and_then(|ai| firm_in(ai, seller_draw)),
            );
            let (buyer_name, buyer_code) = party(
                buyer_type,
                buyer_area,
                n.wrapping_mul(7919),
                &firms,
                area_index(buyer_area).and_then(|ai| firm_in(ai, n.wrapping_mul(7919))),
            );
            emit(
                &reg::CONTRACTS,
                &rec(
                    &reg::CONTRACTS,
                    &[
                        (
                            "reg_number",
                            t(&format!("{year}3403{:03}{:07}", city % 1000, n_contract)),
                        ),
                        ("type", t(kind)),
                        ("seller_name", t(&seller_name)),
                        ("seller_credit_code", t(&seller_code)),
                        ("seller_area", t(seller_area)),
                        ("seller_type", t(seller_type)),
                        ("buyer_name", t(&buyer_name)),
                        ("buyer_credit_code", t(&buyer_code)),
                        ("buyer_area", t(buyer_area)),
                        ("buyer_type", t(buyer_type)),
                        ("registered_on", Value::Date(on)),
                        ("amount", Value::Num(amount)),
                        ("tech_amount", Value::Num(tech_amount)),
                    ],
                ),
            );
        }
    }

    // ---- smaller registries ----
    // Every record below draws from `rng` exactly as it did when the names
    // were placeholders, so counts, dates and amounts stay as they were;
    // the names come from the firms, the areas and a few word lists, and
    // the figures added since (participants, deals, hosts) from `nx`.
    let mut nx = rng.fork("names");
    let code_of =
        |rng: &mut Rng, areas: &[&Area], cum: &[f64]| pick_area(rng, areas, cum).code.to_string();
    let short_of = |code: &str| area_index(code).map_or(String::new(), |i| area_short(areas[i]));
    let mut k = 0u64;
    let achievement_themes = ["高效光伏", "显示面板", "MEMS传感", "聚乳酸", "储能电池"];
    let achievement_titles: [[&str; 4]; 5] = [
        [
            "高效光伏组件封装技术",
            "光伏电池片激光开槽工艺",
            "双面光伏组件可靠性提升技术",
            "光伏玻璃减反射镀膜技术",
        ],
        [
            "超薄显示玻璃化学强化工艺",
            "显示面板贴合良率提升技术",
            "柔性显示盖板减薄抛光技术",
            "触控模组光学胶贴合工艺",
        ],
        [
            "MEMS压力传感器温度补偿技术",
            "低功耗MEMS气体传感器设计",
            "传感器晶圆级封装工艺",
            "智能传感器在线标定系统",
        ],
        [
            "聚乳酸耐热改性技术",
            "丙交酯高效纯化工艺",
            "聚乳酸薄膜吹塑加工技术",
            "全生物降解地膜配方",
        ],
        [
            "储能电池液冷热管理技术",
            "磷酸铁锂正极碳包覆工艺",
            "电池管理系统主动均衡控制",
            "储能系统热失控预警技术",
        ],
    ];
    let project_themes = ["钙钛矿电池", "柔性显示", "MEMS芯片", "生物基材料"];
    let project_clusters = ["新能源", "新型显示", "智能传感", "生物化工"];
    let project_suffix = [
        "关键技术攻关",
        "中试验证及产业化",
        "核心装备研发",
        "关键材料国产化",
        "工艺优化与示范应用",
    ];
    let all_orgs: Vec<&str> = crate::names::LOCAL_UNIVERSITIES
        .iter()
        .chain(&crate::names::OUTSIDE_UNIVERSITIES)
        .chain(&crate::names::LOCAL_INSTITUTES)
        .chain(&crate::names::OUTSIDE_INSTITUTES)
        .copied()
        .collect();
    let mut people = 0usize;
    for year in 2021..=last_year {
        // Achievements transferred: about 3,300 a year.
        for _ in 0..3300 {
            let on = day_in(rng, year, 1, 12);
            if !before(on) {
                continue;
            }
            k += 1;
            let f = &firms[(rng.next_u64() % firms.len() as u64) as usize];
            let theme = (rng.next_u64() % achievement_themes.len() as u64) as usize;
            let source = pick(rng, &["高校", "科研院所", "企业研发中心"]);
            let mode = pick(rng, &["转让", "许可", "作价入股", "自行实施", "自行实施"]);
            let amount = lognormal(rng, 30.0, 1.0).round();
            let ku = k as usize;
            // A firm that carries out its own result is its own source.
            let source_org = match source {
                "高校" => all_orgs[ku % 10].to_string(),
                "科研院所" => all_orgs[10 + ku % 6].to_string(),
                _ if mode == "自行实施" => f.name.clone(),
                _ => firms[(ku * 31) % firms.len()].name.clone(),
            };
            emit(
                &reg::ACHIEVEMENTS,
                &rec(
                    &reg::ACHIEVEMENTS,
                    &[
                        ("number", t(&format!("CG{year}{city:03}{k:06}"))),
                        (
                            "title",
                            t(achievement_titles[theme_of(&f.cluster).unwrap_or(theme)][ku % 4]),
                        ),
                        ("source_org", t(&source_org)),
                        ("receiver", t(&f.name)),
                        ("receiver_credit_code", t(&f.code)),
                        ("area", t(areas[f.area].code.as_str())),
                        ("mode", t(mode)),
                        ("transferred_on", Value::Date(on)),
                        ("amount", Value::Num(amount)),
                    ],
                ),
            );
        }
        // Industrial technology projects: about 35 a year, each posed by a
        // firm of its area and carried out with a university or institute.
        for j in 0..36 {
            let on = day_in(rng, year, 3, 11);
            if !before(on) {
                continue;
            }
            k += 1;
            let cat = if j % 6 == 0 {
                "揭榜挂帅"
            } else if j % 3 == 0 {
                "重点研发"
            } else {
                "产业技术攻关"
            };
            let theme = (rng.next_u64() % project_themes.len() as u64) as usize;
            let area = code_of(rng, areas, &cum);
            let budget = (50 + rng.next_u64() % 450) as f64;
            let lump_sum = year >= 2024 && rng.unit() < 0.4;
            let ku = k as usize;
            let poser =
                area_index(&area).and_then(|ai| firm_of(ai, project_clusters[theme], ku * 13 + 1));
            let (poser_name, poser_code) = poser.map_or((String::new(), String::new()), |f| {
                (firms[f].name.clone(), firms[f].code.clone())
            });
            let solvers = if poser_name.is_empty() {
                all_orgs[ku % all_orgs.len()].to_string()
            } else {
                format!("{}、{}", poser_name, all_orgs[ku % all_orgs.len()])
            };
            emit(
                &reg::PROJECTS,
                &rec(
                    &reg::PROJECTS,
                    &[
                        ("number", t(&format!("XM{year}{city:03}{k:05}"))),
                        (
                            "title",
                            t(&format!(
                                "{}{}",
                                project_themes[theme],
                                project_suffix[(ku / 3) % project_suffix.len()]
                            )),
                        ),
                        ("category", t(cat)),
                        ("poser", t(&poser_name)),
                        ("poser_credit_code", t(&poser_code)),
                        ("solvers", t(&solvers)),
                        ("cluster", t(project_clusters[theme])),
                        ("area", t(&area)),
                        ("approved_on", Value::Date(on)),
                        ("budget", Value::Num(budget)),
                        ("lump_sum", Value::Bool(lump_sum)),
                        ("stage", t(if year < 2024 { "验收" } else { "实施" })),
                    ],
                ),
            );
        }
        // Teams: about 20 a year, six recommended to the province; most
        // led from a firm of their area, every fourth from a university.
        for j in 0..20 + (rng.next_u64() % 4) as i64 {
            if d(year, 6, 30) > through {
                continue;
            }
            let drawn = pick(rng, &["光伏", "显示", "传感", "材料", "医药"]);
            let area = code_of(rng, areas, &cum);
            people += 1;
            let leader = crate::names::person((people * 11 + 5) % 400);
            let ju = j as usize;
            let firm = area_index(&area).and_then(|ai| firm_in(ai, year as usize * 3 + ju));
            // A firm's team works on its own cluster's topic.
            let topic = firm
                .filter(|_| j % 4 != 3)
                .map_or(drawn, |f| cluster_topics(&firms[f].cluster)[ju % 3]);
            let (name, host) = match firm {
                Some(f) if j % 4 != 3 => (
                    format!(
                        "{}{topic}{}创新团队",
                        crate::names::short(&firms[f].name),
                        ["技术", "研发", "工艺"][ju % 3]
                    ),
                    firms[f].name.clone(),
                ),
                _ => {
                    let u = crate::names::LOCAL_UNIVERSITIES[ju % 4];
                    (format!("{u}{leader}{topic}创新团队"), u.to_string())
                }
            };
            emit(
                &reg::TEAMS,
                &rec(
                    &reg::TEAMS,
                    &[
                        ("name", t(&format!("{name}{tag}"))),
                        ("year", Value::Int(i64::from(year))),
                        ("leader", t(&leader)),
                        ("host", t(&host)),
                        ("area", t(&area)),
                        ("level", t("市级")),
                        ("recommended", Value::Bool(j < 6)),
                    ],
                ),
            );
        }
        // Bank-enterprise events: three to five a year, each on a theme of
        // its own; they sign more deals than roadshows do.
        let bank_themes = [
            "科技金融银企对接会",
            "“科技贷”政银企对接会",
            "知识产权质押融资对接会",
            "专精特新企业融资对接会",
            "科技型企业上市培育对接会",
        ];
        for j in 0..3 + (rng.next_u64() % 3) {
            let on = day_in(rng, year, 3, 12);
            if !before(on) {
                continue;
            }
            let area = code_of(rng, areas, &cum);
            let participants = (60 + rng.next_u64() % 200) as i64;
            let deals = (6 + rng.next_u64() % 25) as i64;
            let theme = bank_themes[(j as usize + year as usize) % bank_themes.len()];
            emit(
                &reg::EVENTS,
                &rec(
                    &reg::EVENTS,
                    &[
                        (
                            "name",
                            t(&format!("{year}年{theme}（{}）{tag}", short_of(&area))),
                        ),
                        ("type", t("银企对接")),
                        ("held_on", Value::Date(on)),
                        ("area", t(&area)),
                        ("organizer", t("蚌埠市地方金融监督管理局")),
                        ("participants", Value::Int(participants)),
                        ("deals", Value::Int(deals)),
                    ],
                ),
            );
        }
        // Roadshows, 双创汇 and supply-demand meetings: eight a year, named
        // by type, session and theme, with the deals signed there.
        // The draws come first; sessions are then numbered by date within
        // each type, so the year's first roadshow is 第一期.
        let kinds = ["成果路演", "双创汇", "供需对接"];
        let mut held = Vec::new();
        for _ in 0..8 {
            let on = day_in(rng, year, 1, 12);
            if before(on) {
                let ty = pick(rng, &kinds);
                let area = code_of(rng, areas, &cum);
                held.push((on, ty, area));
            }
        }
        let mut order: Vec<usize> = (0..held.len()).collect();
        order.sort_by_key(|&i| held[i].0);
        let mut sessions = [0usize; 3];
        let mut number = vec![0usize; held.len()];
        for &i in &order {
            let ti = kinds.iter().position(|x| *x == held[i].1).unwrap_or(0);
            sessions[ti] += 1;
            number[i] = sessions[ti];
        }
        for (i, (on, ty, area)) in held.into_iter().enumerate() {
            let n = zh_number(number[i]);
            let theme = EVENT_THEMES[(nx.next_u64() % EVENT_THEMES.len() as u64) as usize];
            let (name, deals) = match ty {
                "成果路演" => (
                    format!("{year}年第{n}期科技成果路演（{theme}专场）"),
                    2 + nx.next_u64() % 7,
                ),
                "双创汇" => (
                    format!("{year}年“创响蚌埠”双创汇第{n}期（{theme}）"),
                    1 + nx.next_u64() % 5,
                ),
                _ => (
                    format!("{year}年{theme}产业技术供需对接会（第{n}场）"),
                    3 + nx.next_u64() % 8,
                ),
            };
            emit(
                &reg::EVENTS,
                &rec(
                    &reg::EVENTS,
                    &[
                        ("name", t(&format!("{name}{tag}"))),
                        ("type", t(ty)),
                        ("held_on", Value::Date(on)),
                        ("area", t(&area)),
                        ("organizer", t("蚌埠市科学技术局")),
                        (
                            "participants",
                            Value::Int((40 + nx.next_u64() % 160) as i64),
                        ),
                        ("deals", Value::Int(deals as i64)),
                    ],
                ),
            );
        }
    }
    // Platforms: provincial and national ones, plus workstations.
    // The first 60 span 2012–2022; the rest are the plan years' new ones,
    // a few a year. Each is hosted by one of the most technical firms of
    // its area that hosts none yet.
    let mut hosted = vec![0usize; areas.len()];
    for j in 0..84 {
        let year = if j < 60 {
            2012 + (j % 11)
        } else {
            2023 + ((j - 60) % 3)
        };
        let on = day_in(rng, year, 1, 12);
        if !before(on) {
            continue;
        }
        let ty = if j % 3 == 0 {
            pick(rng, &["院士工作站", "博士后科研工作站"])
        } else {
            pick(
                rng,
                &[
                    "重点实验室",
                    "工程研究中心",
                    "企业技术中心",
                    "新型研发机构",
                    "产业研究院",
                ],
            )
        };
        let level = if ty.ends_with("工作站") {
            "省级"
        } else if j % 7 == 0 {
            "国家级"
        } else if j % 2 == 0 {
            "省级"
        } else {
            "市级"
        };
        let drawn = rng.next_u64() as usize % 4;
        let area = code_of(rng, areas, &cum);
        let ai = area_index(&area).unwrap_or(0);
        let host = firm_in(ai, hosted[ai]);
        hosted[ai] += 1;
        // A platform works in its host's field.
        let theme = host.map_or("新材料", |f| {
            cluster_topics(&firms[f].cluster)[drawn % 3]
        });
        let (host_name, host_code) = host.map_or((String::new(), String::new()), |f| {
            (firms[f].name.clone(), firms[f].code.clone())
        });
        let stem = crate::names::short(&host_name);
        let name = match ty {
            "企业技术中心" | "院士工作站" | "博士后科研工作站" => {
                format!("{stem}{ty}")
            }
            _ => format!("{stem}{theme}{ty}"),
        };
        emit(
            &reg::PLATFORMS,
            &rec(
                &reg::PLATFORMS,
                &[
                    ("name", t(&format!("{name}{tag}"))),
                    ("level", t(level)),
                    ("type", t(ty)),
                    ("host", t(&host_name)),
                    ("host_credit_code", t(&host_code)),
                    ("area", t(&area)),
                    ("approved_on", Value::Date(on)),
                    ("status", t("运行")),
                ],
            ),
        );
    }
    // Villages: counties have many, districts a few, zones fewest, and no
    // two areas the same number (the city's total as before).
    let mut villages: Vec<(String, String, String)> = Vec::new();
    for (a, n) in areas.iter().zip(village_counts(areas)) {
        let per_town = 12 + (area_hash(a) * 8.0) as usize;
        for v in 0..n {
            let town = crate::names::township(v / per_town);
            let name = crate::names::village(v);
            emit(
                &reg::VILLAGES,
                &rec(
                    &reg::VILLAGES,
                    &[
                        ("name", t(&name)),
                        ("township", t(&town)),
                        ("area", t(a.code.as_str())),
                    ],
                ),
            );
            villages.push((a.code.to_string(), town, name));
        }
    }
    // Commissioners: coverage rising from about 60 % to over 90 %.
    for (i, (area, town, village)) in villages.iter().enumerate() {
        let u = (i as f64 * 0.618_034).fract();
        let year = if u < 0.6 {
            2021
        } else if u < 0.75 {
            2022
        } else if u < 0.85 {
            2023
        } else if u < 0.93 {
            2024
        } else {
            2025
        };
        let on = day_in(rng, year, 1, 9);
        if !before(on) {
            continue;
        }
        emit(
            &reg::COMMISSIONERS,
            &rec(
                &reg::COMMISSIONERS,
                &[
                    ("name", t(&crate::names::person((i * 37 + 11) % 400))),
                    (
                        "org",
                        t(pick(rng, &["安徽农业大学", "安徽科技学院", "市农科院"])),
                    ),
                    ("village", t(village)),
                    ("township", t(town)),
                    ("area", t(area)),
                    ("start_on", Value::Date(on)),
                ],
            ),
        );
    }
    // Carriers, specialists, institutions, incubators: stocks growing each year.
    let stock_series = |base: usize, per_year: usize| {
        (2020..=last_year).map(move |y| (y, if y == 2020 { base } else { per_year }))
    };
    let crops = [
        "稻麦",
        "果蔬",
        "畜禽",
        "水产",
        "中药材",
        "石榴",
        "花卉",
        "农产品加工",
    ];
    let mut n = 0;
    for (year, add) in stock_series(90, 12) {
        for _ in 0..add {
            let on = day_in(rng, year, 1, 12);
            if !before(on) {
                continue;
            }
            n += 1;
            let ty = pick(rng, &["特派员工作站", "示范基地"]);
            let area = code_of(rng, areas, &cum);
            let town = crate::names::township(n / crops.len());
            let crop = crops[n % crops.len()];
            let name = if ty == "示范基地" {
                format!("{}{town}{crop}科技示范基地", short_of(&area))
            } else {
                format!("{}{town}{crop}科技特派员工作站", short_of(&area))
            };
            emit(
                &reg::CARRIERS,
                &rec(
                    &reg::CARRIERS,
                    &[
                        ("name", t(&format!("{name}{tag}"))),
                        ("type", t(ty)),
                        ("area", t(&area)),
                        ("established_on", Value::Date(on)),
                    ],
                ),
            );
        }
    }
    let parks = [
        "科技创业服务中心",
        "智能制造产业园",
        "科技企业孵化器",
        "双创示范基地",
        "产业服务中心",
    ];
    for (year, add) in stock_series(40, 18) {
        for _ in 0..add {
            let on = day_in(rng, year, 1, 12);
            if !before(on) {
                continue;
            }
            n += 1;
            let area = code_of(rng, areas, &cum);
            emit(
                &reg::SPECIALISTS,
                &rec(
                    &reg::SPECIALISTS,
                    &[
                        ("name", t(&crate::names::person(n % 400))),
                        (
                            "host",
                            t(&format!(
                                "{}{}{tag}",
                                short_of(&area),
                                parks[n % parks.len()]
                            )),
                        ),
                        ("area", t(&area)),
                        ("start_on", Value::Date(on)),
                    ],
                ),
            );
        }
    }
    let mut inst = 0usize;
    for (year, add) in stock_series(100, 13) {
        for _ in 0..add {
            let on = day_in(rng, year, 1, 12);
            if !before(on) {
                continue;
            }
            inst += 1;
            let ty = pick(
                rng,
                &[
                    "研发设计",
                    "知识产权",
                    "技术转移",
                    "科技咨询",
                    "检验检测",
                    "科技金融",
                ],
            );
            let area = code_of(rng, areas, &cum);
            let trade = match ty {
                "研发设计" => "工业设计有限公司",
                "知识产权" => "知识产权代理有限公司",
                "技术转移" => "技术转移服务有限公司",
                "科技咨询" => "科技咨询有限公司",
                "检验检测" => "检测技术有限公司",
                _ => "科技融资担保有限公司",
            };
            let place = area_index(&area).map_or("蚌埠".to_string(), |i| {
                crate::names::place(&areas[i].name)
            });
            emit(
                &reg::INSTITUTIONS,
                &rec(
                    &reg::INSTITUTIONS,
                    &[
                        (
                            "name",
                            t(&format!(
                                "{place}{}{trade}{tag}",
                                crate::names::brand_pair(inst)
                            )),
                        ),
                        ("type", t(ty)),
                        ("area", t(&area)),
                        ("registered_on", Value::Date(on)),
                    ],
                ),
            );
        }
    }
    let incubator_names = [
        "创新创业园",
        "青年创业园",
        "科创谷",
        "智造港",
        "创客工场",
        "双创基地",
    ];
    for (i, a) in areas.iter().enumerate() {
        // Most areas have incubators; a county gains its first in 2024.
        let year = if i % 4 == 3 {
            2024
        } else {
            2018 + (i % 4) as i32
        };
        for j in 0..2 {
            let on = day_in(rng, year + j, 1, 12);
            if before(on) {
                // The draw that once picked the name's word stays.
                let _ = pick(rng, &["科技企业孵化器", "众创空间", "中试基地"]);
                let ty = pick(rng, &["孵化器", "众创空间", "中试基地"]);
                let level = pick(rng, &["市级", "省级", "国家级"]);
                let noun = match ty {
                    "孵化器" => "科技企业孵化器",
                    other => other,
                };
                let word = incubator_names[(i * 2 + j as usize) % incubator_names.len()];
                emit(
                    &reg::INCUBATORS,
                    &rec(
                        &reg::INCUBATORS,
                        &[
                            ("name", t(&format!("{}{word}{noun}", a.name))),
                            ("type", t(ty)),
                            ("level", t(level)),
                            ("area", t(a.code.as_str())),
                            ("recognized_on", Value::Date(on)),
                        ],
                    ),
                );
            }
        }
    }
    let products: [(&str, [&str; 3]); 4] = [
        ("新能源", ["钙钛矿叠层组件", "钠离子电池", "储能变流器"]),
        (
            "新型显示",
            ["超薄柔性玻璃", "车载显示模组", "高世代玻璃基板"],
        ),
        (
            "智能传感",
            ["MEMS传感器芯片", "智能气体传感器", "工业视觉检测设备"],
        ),
        (
            "生物化工",
            ["聚乳酸新材料", "生物基丁二酸", "可降解包装材料"],
        ),
    ];
    for j in 0..40 {
        let on = day_in(rng, 2023 + (j % 3), 1, 12);
        if before(on) {
            let cluster = pick(rng, &["新能源", "新型显示", "智能传感", "生物化工"]);
            let investment = (5000 + rng.next_u64() % 200000) as f64;
            let stage = pick(rng, &["签约", "开工", "投产"]);
            let area = code_of(rng, areas, &cum);
            let ju = j as usize;
            let from = ["合肥市", "南京市", "上海市", "杭州市", "深圳市", "苏州市"][ju % 6];
            let investor = crate::names::firm(ju * 97 + 13, from, cluster);
            let product = products
                .iter()
                .find(|(c, _)| *c == cluster)
                .map_or("新材料", |(_, p)| p[ju % 3]);
            emit(
                &reg::ATTRACTED,
                &rec(
                    &reg::ATTRACTED,
                    &[
                        (
                            "name",
                            t(&format!(
                                "{}{product}{}项目{tag}",
                                crate::names::short(&investor),
                                ["生产基地", "研发及产业化", "智能工厂"][ju % 3]
                            )),
                        ),
                        ("cluster", t(cluster)),
                        ("investment", Value::Num(investment)),
                        ("stage", t(stage)),
                        (
                            "team",
                            t(&format!("{}博士团队", crate::names::person(300 + ju))),
                        ),
                        ("area", t(&area)),
                        ("signed_on", Value::Date(on)),
                    ],
                ),
            );
        }
    }
    for j in 0..60 {
        let area = code_of(rng, areas, &cum);
        let ju = j as usize;
        let topic = &crate::market::TOPICS[ju % crate::market::TOPICS.len()];
        let entrant = area_index(&area)
            .and_then(|ai| firm_of(ai, topic.cluster, 40 + ju))
            .map_or(String::new(), |f| firms[f].name.clone());
        emit(
            &reg::CONTESTS,
            &rec(
                &reg::CONTESTS,
                &[
                    ("contest", t("蚌埠市创新创业大赛")),
                    ("year", Value::Int(2023 + (j % 2))),
                    (
                        "project",
                        t(&format!(
                            "{}{}",
                            topic.name,
                            ["关键技术研发", "产业化项目", "应用示范"]
                                [(ju / crate::market::TOPICS.len()) % 3]
                        )),
                    ),
                    ("entrant", t(&entrant)),
                    ("area", t(&area)),
                    ("award", t(if j % 10 == 0 { "一等奖" } else { "" })),
                ],
            ),
        );
    }
    for (j, partner) in ["上海", "杭州", "南京"].iter().enumerate() {
        emit(
            &reg::ENCLAVES,
            &rec(
                &reg::ENCLAVES,
                &[
                    ("name", t(&format!("蚌埠（{partner}）科创飞地{tag}"))),
                    (
                        "type",
                        t(if j == 1 {
                            "研发飞地"
                        } else {
                            "孵化飞地"
                        }),
                    ),
                    ("partner_city", t(partner)),
                    ("operator", t("蚌埠高新投资集团有限公司")),
                    ("area", t(&code_of(rng, areas, &cum))),
                    ("established_on", Value::Date(d(2023, 6 + j as u32, 1))),
                    ("firms", Value::Int(5 + j as i64 * 3)),
                ],
            ),
        );
    }
    finance(
        &mut rng.fork("finance"),
        areas,
        &firms,
        &in_area,
        through,
        &tag,
        emit,
    );
}

/// A contract party of `kind` in `area` (an area code or 市外): a named
/// university or institute, a registered firm of the area (with its credit
/// code), an outside firm, or another local body. `draw` varies the choice.
fn party(
    kind: &str,
    area: &str,
    draw: usize,
    firms: &[Firm],
    local_firm: Option<usize>,
) -> (String, String) {
    use crate::names::*;
    let outside = area == reg::OUTSIDE;
    let one = |xs: &[&str]| xs[draw % xs.len()].to_string();
    match kind {
        "高校" if outside => (one(&OUTSIDE_UNIVERSITIES), String::new()),
        "高校" => (one(&LOCAL_UNIVERSITIES), String::new()),
        "科研院所" if outside => (one(&OUTSIDE_INSTITUTES), String::new()),
        "科研院所" => (one(&LOCAL_INSTITUTES), String::new()),
        "企业" => match local_firm {
            Some(f) if !outside => (firms[f].name.clone(), firms[f].code.clone()),
            _ => {
                let cities = ["合肥市", "南京市", "上海市", "杭州市", "苏州市", "无锡市"];
                let clusters = ["新能源", "新型显示", "智能传感", "生物化工", "其他"];
                (
                    firm(
                        draw % 7600,
                        cities[(draw / 7) % cities.len()],
                        clusters[(draw / 3) % clusters.len()],
                    ),
                    String::new(),
                )
            }
        },
        _ if outside => (
            one(&[
                "安徽省立医院",
                "江苏省特种设备安全监督检验研究院",
                "上海市政工程设计研究总院",
            ]),
            String::new(),
        ),
        _ => (
            one(&[
                "蚌埠市第一人民医院",
                "蚌埠市疾病预防控制中心",
                "蚌埠市自来水公司",
            ]),
            String::new(),
        ),
    }
}

/// The figures added for the pre-checks and the per-mu evaluation, drawn
/// from a stream of the firm and year so that the older fields keep their
/// values.
struct Extra {
    net_assets: f64,
    ip1: i64,
    ip2: i64,
    ip_score: f64,
    transfer: f64,
    mgmt: f64,
    accident: bool,
    energy: f64,
    domestic_share: f64,
    /// Land use differs a lot between firms of the same size.
    land_factor: f64,
}

fn extra_figures(rng: &mut Rng, f: &Firm, year: i32, revenue: f64) -> Extra {
    // Technology-minded firms hold more IP and score better; figures grow
    // with the years like revenue does.
    let ip1 = if f.tech > 0.5 {
        (rng.range(0.0, 4.0) * f.tech) as i64 + i64::from(year >= 2023)
    } else {
        0
    };
    let ip2 = (rng.range(0.0, 10.0) * f.tech) as i64;
    Extra {
        net_assets: (revenue * rng.range(0.35, 0.7)).round(),
        ip1,
        ip2,
        ip_score: (8.0 + 6.0 * ip1 as f64 + 1.5 * ip2 as f64)
            .min(30.0)
            .round(),
        transfer: (rng.range(10.0, 30.0) * (0.5 + f.tech / 2.0)).round(),
        mgmt: (rng.range(8.0, 20.0) * (0.6 + f.tech * 0.4)).round(),
        accident: rng.unit() < 0.01,
        energy: (revenue * rng.range(0.02, 0.15) * if f.manufacturing { 1.5 } else { 0.5 }).round(),
        domestic_share: rng.range(0.5, 1.0),
        land_factor: rng.range(0.4, 2.5),
    }
}

/// Themes roadshows and matchmaking meetings are held on.
const EVENT_THEMES: [&str; 8] = [
    "硅基新材料",
    "新型显示",
    "智能传感",
    "生物基材料",
    "新能源",
    "高端装备",
    "数字经济",
    "绿色低碳",
];

/// A session number in Chinese (第三期), as event names write it.
fn zh_number(n: usize) -> String {
    const D: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    match n {
        0..=9 => D[n].to_string(),
        10 => "十".to_string(),
        11..=19 => format!("十{}", D[n - 10]),
        _ => format!(
            "{}十{}",
            D[(n / 10) % 10],
            if n.is_multiple_of(10) { "" } else { D[n % 10] }
        ),
    }
}

/// The name an area goes by in event names: 高新区, 经开区, 怀远县.
fn area_short(a: &Area) -> String {
    if a.name.contains("高新") {
        "高新区".to_string()
    } else if a.name.contains("经济开发区") || a.name.contains("经济技术开发区") {
        "经开区".to_string()
    } else {
        a.name.clone()
    }
}

/// Administrative villages per area: about 180 a county, 30 a district and
/// 15 a zone, spread within each kind by a factor fixed by the area's code
/// so that no two areas have the same number, while each kind's total (and
/// so the city's) stays what it was.
fn village_counts(areas: &[&Area]) -> Vec<usize> {
    let base = |a: &Area| match a.kind.as_str() {
        "县" => 180.0,
        "区" => 30.0,
        _ => 15.0,
    };
    let mut out = vec![0usize; areas.len()];
    let mut kinds: Vec<&str> = areas.iter().map(|a| a.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        let members: Vec<usize> = (0..areas.len())
            .filter(|&i| areas[i].kind == kind)
            .collect();
        let total: f64 = members.iter().map(|&i| base(areas[i])).sum();
        let w: Vec<f64> = members
            .iter()
            .map(|&i| 0.6 + 0.8 * area_hash(areas[i]))
            .collect();
        let sum: f64 = w.iter().sum();
        // Cumulative rounding keeps the kind's total exact.
        let mut acc = 0.0;
        let mut given = 0usize;
        for (&i, wi) in members.iter().zip(&w) {
            acc += total * wi / sum;
            let upto = acc.round() as usize;
            out[i] = upto - given;
            given = upto;
        }
    }
    out
}

/// A fund of the demo: what it is, where, and what its investments look
/// like (amounts in 万元).
struct FundSpec {
    name: String,
    kind: &'static str,
    manager: &'static str,
    size: f64,
    area: Option<usize>,
    set_up: NaiveDate,
    cluster: Option<&'static str>,
    ticket: (f64, f64),
    deals: usize,
}

/// Technology insurance policies, funds and their investments, from a
/// stream of their own (`rng` is forked for them), so the registries above
/// keep their data.
fn finance(
    rng: &mut Rng,
    areas: &[&Area],
    firms: &[Firm],
    in_area: &[Vec<usize>],
    through: NaiveDate,
    tag: &str,
    emit: &mut impl FnMut(&'static RegistryDef, &Record),
) {
    let before = |dt: NaiveDate| dt <= through;
    // Insurance: about one technical firm in thirty takes out a policy a
    // year from 2022; R&D cost cover is the most common, first-set cover
    // the largest.
    let insurers = [
        ("人保财险蚌埠市分公司", "PICC"),
        ("太平洋财险蚌埠中心支公司", "CPIC"),
        ("平安财险蚌埠中心支公司", "PAIC"),
        ("国元保险蚌埠中心支公司", "GYIC"),
    ];
    let mut n = 0u64;
    for f in firms.iter().filter(|f| f.tech > 0.6) {
        for year in 2022..=through.year() {
            if rng.unit() >= 0.03 {
                continue;
            }
            let on = day_in(rng, year, 1, 12);
            if !before(on) {
                continue;
            }
            n += 1;
            // 其他科技保险 covers patents and key R&D equipment.
            let (kind, insured, rate) = match rng.next_u64() % 10 {
                0..=3 => (
                    "研发费用损失险",
                    rng.range(100.0, 600.0),
                    rng.range(0.02, 0.04),
                ),
                4 | 5 => (
                    "首台套保险",
                    if f.manufacturing {
                        rng.range(500.0, 3000.0)
                    } else {
                        rng.range(300.0, 1200.0)
                    },
                    rng.range(0.01, 0.03),
                ),
                6 | 7 => (
                    "成果转化险",
                    rng.range(50.0, 300.0),
                    rng.range(0.015, 0.035),
                ),
                _ => (
                    "其他科技保险",
                    rng.range(50.0, 500.0),
                    rng.range(0.015, 0.03),
                ),
            };
            let insured = (insured / 10.0).round() * 10.0;
            let premium = (insured * rate * 100.0).round() / 100.0;
            let (insurer, prefix) = insurers[(rng.next_u64() % insurers.len() as u64) as usize];
            emit(
                &reg::INSURANCE,
                &rec(
                    &reg::INSURANCE,
                    &[
                        ("policy", t(&format!("{prefix}{year}3403{n:08}"))),
                        ("credit_code", t(&f.code)),
                        ("insurer", t(insurer)),
                        ("kind", t(kind)),
                        ("insured", Value::Num(insured)),
                        ("premium", Value::Num(premium)),
                        ("start_on", Value::Date(on)),
                    ],
                ),
            );
        }
    }
    // Funds: the city's angel, transfer and two industry funds, a seed fund
    // of the high-tech zone and a county's guidance fund.
    let zone = areas.iter().position(|a| a.name.contains("高新"));
    let county = areas.iter().position(|a| a.kind == "县");
    let mut funds = vec![
        FundSpec {
            name: format!("蚌埠市天使投资基金{tag}"),
            kind: "天使基金",
            manager: "蚌埠市产业引导基金管理有限公司",
            size: 20000.0,
            area: None,
            set_up: d(2019, 6, 18),
            cluster: None,
            ticket: (100.0, 600.0),
            deals: 14,
        },
        FundSpec {
            name: format!("蚌埠市科技成果转化基金{tag}"),
            kind: "科技成果转化基金",
            manager: "蚌埠高新投资集团有限公司",
            size: 30000.0,
            area: None,
            set_up: d(2021, 9, 10),
            cluster: None,
            ticket: (300.0, 2000.0),
            deals: 10,
        },
        FundSpec {
            name: format!("蚌埠市新型显示产业基金{tag}"),
            kind: "产业基金",
            manager: "蚌埠投资集团有限公司",
            size: 100000.0,
            area: None,
            set_up: d(2020, 11, 25),
            cluster: Some("新型显示"),
            ticket: (2000.0, 8000.0),
            deals: 6,
        },
        FundSpec {
            name: format!("蚌埠市新能源产业基金{tag}"),
            kind: "产业基金",
            manager: "蚌埠投资集团有限公司",
            size: 150000.0,
            area: None,
            set_up: d(2022, 4, 20),
            cluster: Some("新能源"),
            ticket: (2000.0, 10000.0),
            deals: 7,
        },
    ];
    if let Some(z) = zone {
        funds.push(FundSpec {
            name: format!("{}科创种子基金", areas[z].name),
            kind: "天使基金",
            manager: "蚌埠高新投资集团有限公司",
            size: 5000.0,
            area: Some(z),
            set_up: d(2023, 3, 15),
            cluster: None,
            ticket: (50.0, 300.0),
            deals: 8,
        });
    }
    if let Some(c) = county {
        funds.push(FundSpec {
            name: format!("{}产业引导基金", areas[c].name),
            kind: "产业基金",
            manager: "县城市投资发展集团有限公司",
            size: 20000.0,
            area: Some(c),
            set_up: d(2022, 8, 1),
            cluster: None,
            ticket: (500.0, 3000.0),
            deals: 5,
        });
    }
    for fund in funds.iter().filter(|f| before(f.set_up)) {
        emit(
            &reg::FUNDS,
            &rec(
                &reg::FUNDS,
                &[
                    ("name", t(&fund.name)),
                    ("kind", t(fund.kind)),
                    ("manager", t(fund.manager)),
                    ("size", Value::Num(fund.size)),
                    (
                        "area",
                        fund.area.map_or(Value::Null, |a| t(areas[a].code.as_str())),
                    ),
                    ("set_up_on", Value::Date(fund.set_up)),
                ],
            ),
        );
        // Candidates: the most technical firms of the fund's area (or of
        // all areas) and cluster, best first.
        let candidates: Vec<usize> = match fund.area {
            Some(a) => in_area[a].iter().copied().take(200).collect(),
            None => in_area
                .iter()
                .flat_map(|l| l.iter().copied().take(150))
                .filter(|&f| fund.cluster.is_none_or(|c| firms[f].cluster == c))
                .collect(),
        };
        if candidates.is_empty() {
            continue;
        }
        let days = (through - fund.set_up).num_days().max(1) as u64;
        let mut taken = std::collections::HashSet::new();
        for _ in 0..fund.deals {
            let f = candidates[(rng.next_u64() % candidates.len() as u64) as usize];
            let on = fund.set_up + chrono::Duration::days((60 + rng.next_u64() % days) as i64);
            let amount = (rng.range(fund.ticket.0, fund.ticket.1) / 10.0).round() * 10.0;
            if !before(on) || !taken.insert(f) {
                continue;
            }
            emit(
                &reg::FUND_INVESTMENTS,
                &rec(
                    &reg::FUND_INVESTMENTS,
                    &[
                        ("fund", t(&fund.name)),
                        ("credit_code", t(&firms[f].code)),
                        ("amount", Value::Num(amount)),
                        ("invested_on", Value::Date(on)),
                    ],
                ),
            );
        }
    }
}

/// A catalogue product of a firm: its short name and a product of its
/// cluster (蚌埠瑞华光电超薄柔性玻璃).
fn product_name(f: &Firm) -> String {
    let products: &[&str] = match f.cluster.as_str() {
        "新能源" => &["钙钛矿叠层光伏组件", "钠离子储能电池", "储能变流器"],
        "新型显示" => &["超薄柔性玻璃", "车载触控显示模组", "高世代玻璃基板"],
        "智能传感" => &["MEMS压力传感器", "智能气体传感器", "工业视觉检测设备"],
        "生物化工" => &["耐热聚乳酸粒料", "生物基丁二酸", "全生物降解包装膜"],
        _ => &["智能数控装备", "精密减速器", "余热回收机组"],
    };
    let h = f
        .code
        .bytes()
        .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
    format!(
        "{}{}",
        crate::names::short(&f.name),
        products[h % products.len()]
    )
}

/// The topics platforms and teams of a cluster's firms work on.
fn cluster_topics(cluster: &str) -> [&'static str; 3] {
    match cluster {
        "新能源" => ["光伏新材料", "储能技术", "动力电池"],
        "新型显示" => ["玻璃新材料", "光电显示", "触控显示"],
        "智能传感" => ["智能传感", "MEMS传感器", "工业检测"],
        "生物化工" => ["生物基材料", "生物发酵", "绿色化工"],
        _ => ["智能装备", "精密制造", "节能环保"],
    }
}

/// Which of the achievement themes (高效光伏, 显示面板, MEMS传感, 聚乳酸,
/// 储能电池) a receiving firm's cluster takes up; other firms take any.
fn theme_of(cluster: &str) -> Option<usize> {
    match cluster {
        "新能源" => Some(4),
        "新型显示" => Some(1),
        "智能传感" => Some(2),
        "生物化工" => Some(3),
        _ => None,
    }
}
