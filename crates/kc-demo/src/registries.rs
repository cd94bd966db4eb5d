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

/// Weight of an area: zones and districts host more firms than counties.
fn weight(a: &Area) -> f64 {
    match a.kind.as_str() {
        "开发区" => 2.4,
        "区" => 1.2,
        _ => 0.8,
    }
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
        if let Some(n) = reg::ENTERPRISES.index("name") {
            firm.values[n] = t(&crate::names::firm(i, &areas[ai].name, &cluster));
        }
        emit(&reg::ENTERPRISES, &firm);
        firms.push(Firm {
            code,
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
        let banks = [
            "某合作银行蚌埠分行（演示）",
            "某商业银行蚌埠分行",
            "某农商银行",
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
                            (
                                "name",
                                t(&format!("{}型智能装置", &f.code[f.code.len() - 4..])),
                            ),
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
            emit(
                &reg::CONTRACTS,
                &rec(
                    &reg::CONTRACTS,
                    &[
                        (
                            "reg_number",
                            t(&format!("{year}3403{:03}{:07}", city % 1000, n_contract)),
                        ),
                        (
                            "type",
                            t(pick(
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
                            )),
                        ),
                        (
                            "seller_name",
                            t(pick(
                                rng,
                                &[
                                    "合肥工业大学",
                                    "中国科学技术大学",
                                    "安徽理工大学",
                                    "蚌埠学院",
                                    "某研究院",
                                    "某科技公司",
                                ],
                            )),
                        ),
                        ("seller_area", t(seller_area)),
                        (
                            "seller_type",
                            t(pick(rng, &["高校", "科研院所", "企业", "企业"])),
                        ),
                        (
                            "buyer_name",
                            t(&crate::names::firm(
                                2000 + (n_contract % 5000) as usize,
                                "蚌埠",
                                "其他",
                            )),
                        ),
                        ("buyer_area", t(buyer_area)),
                        (
                            "buyer_type",
                            t(if buyer_ent {
                                "企业"
                            } else {
                                pick(rng, &["高校", "科研院所", "其他"])
                            }),
                        ),
                        ("registered_on", Value::Date(on)),
                        ("amount", Value::Num(amount)),
                        (
                            "tech_amount",
                            Value::Num((amount * rng.range(0.6, 1.0)).round()),
                        ),
                    ],
                ),
            );
        }
    }

    // ---- smaller registries ----
    let code_of =
        |rng: &mut Rng, areas: &[&Area], cum: &[f64]| pick_area(rng, areas, cum).code.to_string();
    let mut k = 0u64;
    for year in 2021..=last_year {
        // Achievements transferred: about 3,300 a year.
        for _ in 0..3300 {
            let on = day_in(rng, year, 1, 12);
            if !before(on) {
                continue;
            }
            k += 1;
            let f = &firms[(rng.next_u64() % firms.len() as u64) as usize];
            emit(
                &reg::ACHIEVEMENTS,
                &rec(
                    &reg::ACHIEVEMENTS,
                    &[
                        ("number", t(&format!("CG{year}{city:03}{k:06}"))),
                        (
                            "title",
                            t(&format!(
                                "{}技术成果{k}",
                                pick(
                                    rng,
                                    &["高效光伏", "显示面板", "MEMS传感", "聚乳酸", "储能电池"]
                                )
                            )),
                        ),
                        (
                            "source_org",
                            t(pick(rng, &["高校", "科研院所", "企业研发中心"])),
                        ),
                        ("receiver", t(&format!("承接企业{}", f.area))),
                        ("receiver_credit_code", t(&f.code)),
                        ("area", t(areas[f.area].code.as_str())),
                        (
                            "mode",
                            t(pick(
                                rng,
                                &["转让", "许可", "作价入股", "自行实施", "自行实施"],
                            )),
                        ),
                        ("transferred_on", Value::Date(on)),
                        ("amount", Value::Num(lognormal(rng, 30.0, 1.0).round())),
                    ],
                ),
            );
        }
        // Industrial technology projects: about 35 a year.
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
            emit(
                &reg::PROJECTS,
                &rec(
                    &reg::PROJECTS,
                    &[
                        ("number", t(&format!("XM{year}{city:03}{k:05}"))),
                        (
                            "title",
                            t(&format!(
                                "{}关键技术攻关{k}",
                                pick(rng, &["钙钛矿电池", "柔性显示", "MEMS芯片", "生物基材料"])
                            )),
                        ),
                        ("category", t(cat)),
                        ("area", t(&code_of(rng, areas, &cum))),
                        ("approved_on", Value::Date(on)),
                        ("budget", Value::Num((50 + rng.next_u64() % 450) as f64)),
                        ("lump_sum", Value::Bool(year >= 2024 && rng.unit() < 0.4)),
                        ("stage", t(if year < 2024 { "验收" } else { "实施" })),
                    ],
                ),
            );
        }
        // Teams: about 20 a year, six recommended to the province.
        for j in 0..20 + (rng.next_u64() % 4) as i64 {
            if d(year, 6, 30) > through {
                continue;
            }
            emit(
                &reg::TEAMS,
                &rec(
                    &reg::TEAMS,
                    &[
                        (
                            "name",
                            t(&format!(
                                "{}创新团队{year}-{j}",
                                pick(rng, &["光伏", "显示", "传感", "材料", "医药"])
                            )),
                        ),
                        ("year", Value::Int(i64::from(year))),
                        ("area", t(&code_of(rng, areas, &cum))),
                        ("level", t("市级")),
                        ("recommended", Value::Bool(j < 6)),
                    ],
                ),
            );
        }
        // Bank-enterprise events: three to five a year.
        for j in 0..3 + (rng.next_u64() % 3) {
            let on = day_in(rng, year, 3, 12);
            if !before(on) {
                continue;
            }
            emit(
                &reg::EVENTS,
                &rec(
                    &reg::EVENTS,
                    &[
                        (
                            "name",
                            t(&format!("{year}年科技金融银企对接会（第{}场）", j + 1)),
                        ),
                        ("type", t("银企对接")),
                        ("held_on", Value::Date(on)),
                        ("area", t(&code_of(rng, areas, &cum))),
                        (
                            "participants",
                            Value::Int((60 + rng.next_u64() % 200) as i64),
                        ),
                        ("deals", Value::Int((rng.next_u64() % 30) as i64)),
                    ],
                ),
            );
        }
        for j in 0..8 {
            let on = day_in(rng, year, 1, 12);
            if before(on) {
                emit(
                    &reg::EVENTS,
                    &rec(
                        &reg::EVENTS,
                        &[
                            ("name", t(&format!("{year}年成果路演第{}期", j + 1))),
                            ("type", t(pick(rng, &["成果路演", "双创汇", "供需对接"]))),
                            ("held_on", Value::Date(on)),
                            ("area", t(&code_of(rng, areas, &cum))),
                        ],
                    ),
                );
            }
        }
    }
    // Platforms: provincial and national ones, plus workstations.
    // The first 60 span 2012–2022; the rest are the plan years' new ones,
    // a few a year.
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
        emit(
            &reg::PLATFORMS,
            &rec(
                &reg::PLATFORMS,
                &[
                    (
                        "name",
                        t(&format!(
                            "{}{}{city}-{j}",
                            pick(rng, &["玻璃新材料", "光电", "传感", "生物基"]),
                            ty
                        )),
                    ),
                    ("level", t(level)),
                    ("type", t(ty)),
                    ("host", t(&format!("依托企业{j}"))),
                    ("area", t(&code_of(rng, areas, &cum))),
                    ("approved_on", Value::Date(on)),
                    ("status", t("运行")),
                ],
            ),
        );
    }
    // Villages: counties have many, districts a few, zones fewest.
    let mut villages: Vec<(String, String, String)> = Vec::new();
    for a in areas {
        let n = match a.kind.as_str() {
            "县" => 180,
            "区" => 30,
            _ => 15,
        };
        for v in 0..n {
            let town = format!("{}镇", v / 15 + 1);
            let name = format!("{}村", v + 1);
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
                    ("name", t(&format!("特派员{}", i % 400))),
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
    let mut n = 0;
    for (year, add) in stock_series(90, 12) {
        for _ in 0..add {
            let on = day_in(rng, year, 1, 12);
            if !before(on) {
                continue;
            }
            n += 1;
            emit(
                &reg::CARRIERS,
                &rec(
                    &reg::CARRIERS,
                    &[
                        ("name", t(&format!("特派员工作站{city}-{n}"))),
                        ("type", t(pick(rng, &["特派员工作站", "示范基地"]))),
                        ("area", t(&code_of(rng, areas, &cum))),
                        ("established_on", Value::Date(on)),
                    ],
                ),
            );
        }
    }
    for (year, add) in stock_series(40, 18) {
        for _ in 0..add {
            let on = day_in(rng, year, 1, 12);
            if !before(on) {
                continue;
            }
            n += 1;
            emit(
                &reg::SPECIALISTS,
                &rec(
                    &reg::SPECIALISTS,
                    &[
                        ("name", t(&format!("专员{n}"))),
                        ("host", t(&format!("园区{}", n % 30))),
                        ("area", t(&code_of(rng, areas, &cum))),
                        ("start_on", Value::Date(on)),
                    ],
                ),
            );
        }
    }
    for (year, add) in stock_series(100, 13) {
        for _ in 0..add {
            let on = day_in(rng, year, 1, 12);
            if !before(on) {
                continue;
            }
            n += 1;
            emit(
                &reg::INSTITUTIONS,
                &rec(
                    &reg::INSTITUTIONS,
                    &[
                        ("name", t(&format!("科技服务机构{city}-{n}"))),
                        (
                            "type",
                            t(pick(
                                rng,
                                &[
                                    "研发设计",
                                    "知识产权",
                                    "技术转移",
                                    "科技咨询",
                                    "检验检测",
                                    "科技金融",
                                ],
                            )),
                        ),
                        ("area", t(&code_of(rng, areas, &cum))),
                        ("registered_on", Value::Date(on)),
                    ],
                ),
            );
        }
    }
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
                emit(
                    &reg::INCUBATORS,
                    &rec(
                        &reg::INCUBATORS,
                        &[
                            (
                                "name",
                                t(&format!(
                                    "{}{}{}",
                                    a.name,
                                    pick(rng, &["科技企业孵化器", "众创空间", "中试基地"]),
                                    j + 1
                                )),
                            ),
                            ("type", t(pick(rng, &["孵化器", "众创空间", "中试基地"]))),
                            ("level", t(pick(rng, &["市级", "省级", "国家级"]))),
                            ("area", t(a.code.as_str())),
                            ("recognized_on", Value::Date(on)),
                        ],
                    ),
                );
            }
        }
    }
    for j in 0..40 {
        let on = day_in(rng, 2023 + (j % 3), 1, 12);
        if before(on) {
            emit(
                &reg::ATTRACTED,
                &rec(
                    &reg::ATTRACTED,
                    &[
                        ("name", t(&format!("招引项目{city}-{j}"))),
                        (
                            "cluster",
                            t(pick(rng, &["新能源", "新型显示", "智能传感", "生物化工"])),
                        ),
                        (
                            "investment",
                            Value::Num((5000 + rng.next_u64() % 200000) as f64),
                        ),
                        ("stage", t(pick(rng, &["签约", "开工", "投产"]))),
                        ("area", t(&code_of(rng, areas, &cum))),
                        ("signed_on", Value::Date(on)),
                    ],
                ),
            );
        }
    }
    for j in 0..60 {
        emit(
            &reg::CONTESTS,
            &rec(
                &reg::CONTESTS,
                &[
                    ("contest", t("蚌埠市创新创业大赛")),
                    ("year", Value::Int(2023 + (j % 2))),
                    ("project", t(&format!("参赛项目{j}"))),
                    ("area", t(&code_of(rng, areas, &cum))),
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
                    ("name", t(&format!("{partner}科创飞地{city}"))),
                    (
                        "type",
                        t(if j == 1 {
                            "研发飞地"
                        } else {
                            "孵化飞地"
                        }),
                    ),
                    ("partner_city", t(partner)),
                    ("area", t(&code_of(rng, areas, &cum))),
                    ("established_on", Value::Date(d(2023, 6 + j as u32, 1))),
                    ("firms", Value::Int(5 + j as i64 * 3)),
                ],
            ),
        );
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
