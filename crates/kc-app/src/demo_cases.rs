//! The demo market's cases: brokers' deals at every stage and challenges
//! (揭榜挂帅) from publication to acceptance, between the demo's own
//! demands, achievements, experts and brokers. They are made through the
//! same use cases as a user's clicks ([`crate::cases`]), so each step has
//! its audit entry and the contracts and projects they end in land in the
//! registries, dated in the months before the demo's "as of" day.

use chrono::{Datelike, Days, NaiveDate};
use kc_domain::Plan;
use kc_domain::auth::{Principal, Role};
use kc_domain::market::{ChallengeDraft, Stage};
use kc_domain::registry::{self, Value};
use kc_engine::Engine;
use kc_store::Store;

use crate::auth::Caller;
use crate::cases::{self, CaseError, ChallengeStep, DealStep, Match};
use crate::registries::SharedEngine;

/// Deals per stage (matched, contacted, negotiating, signed, registered).
const PER_STAGE: usize = 3;

fn caller(username: &str, display: &str, role: Role) -> Caller {
    Caller::new(
        Principal {
            username: username.into(),
            display_name: display.into(),
            roles: vec![role],
        },
        "127.0.0.1",
    )
}

fn day(from: NaiveDate, days: u64) -> NaiveDate {
    from.checked_add_days(Days::new(days)).unwrap_or(from)
}

/// Loads the demo deals and challenges into a database without cases whose
/// market has the demo listings (their numbers are the labelled set's:
/// XQ-tt-ii, CG-tt-ii); `through` is the demo's last day. Returns how many
/// cases were made.
pub async fn load(store: &Store, plan: &Plan, through: NaiveDate) -> Result<usize, CaseError> {
    if !cases::deals(store).await?.is_empty() || !cases::challenges(store).await?.is_empty() {
        return Ok(0);
    }
    let engine = crate::registries::build_engine(store, plan, through).await?;
    if engine.row_of("demands", "XQ-03-01").is_none() || engine.count("brokers") == 0 {
        return Ok(0);
    }
    let engine: SharedEngine = std::sync::Arc::new(tokio::sync::RwLock::new(engine));
    let mut made = deals(store, &engine, plan, through).await?;
    made += challenges(store, &engine, plan, through).await?;
    Ok(made)
}

/// A registered record's field, as text.
fn cell(e: &Engine, reg: &str, key: &str, field: &str) -> String {
    cases::cell(e, reg, key, field)
}

/// The registered broker of a market (the city's when the area has none).
fn broker_of(e: &Engine, area: &str) -> Option<String> {
    let def = &registry::BROKERS;
    let all: Vec<(String, String)> = e
        .search("brokers", "", None)
        .into_iter()
        .filter_map(|row| e.record("brokers", row))
        .map(|r| (r.key(def), r.get(def, "area").display()))
        .collect();
    all.iter()
        .find(|(_, a)| a == area)
        .or_else(|| all.iter().find(|(_, a)| a.is_empty()))
        .or(all.first())
        .map(|(k, _)| k.clone())
}

/// The market events (roadshows, matchmaking) held before `by`, latest
/// first.
fn market_events(e: &Engine, by: NaiveDate) -> Vec<(String, NaiveDate)> {
    let def = &registry::EVENTS;
    let mut out: Vec<(String, NaiveDate)> = e
        .search("events", "", None)
        .into_iter()
        .filter_map(|row| e.record("events", row))
        .filter(|r| cases::MARKET_EVENTS.contains(&r.get(def, "type").display().as_str()))
        .filter_map(|r| match r.get(def, "held_on") {
            Value::Date(d) if *d <= by => Some((r.key(def), *d)),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// Where a contract party is: outside the city for the universities and
/// institutes elsewhere, else `local`.
fn party_area(name: &str, local: &str) -> String {
    let outside = kc_demo::names::OUTSIDE_UNIVERSITIES
        .iter()
        .chain(&kc_demo::names::OUTSIDE_INSTITUTES)
        .any(|o| *o == name);
    if outside {
        registry::OUTSIDE.to_string()
    } else {
        local.to_string()
    }
}

/// Fifteen deals, three at each stage from matched to registered, each
/// between a demand and an achievement of the same topic, with the broker
/// of the demand's market, most from a roadshow or matchmaking event.
async fn deals(
    store: &Store,
    engine: &SharedEngine,
    plan: &Plan,
    through: NaiveDate,
) -> Result<usize, CaseError> {
    let broker = caller("broker", "技术经纪人（演示）", Role::Broker);
    let stages = [
        Stage::Matched,
        Stage::Contacted,
        Stage::Negotiating,
        Stage::Signed,
        Stage::Registered,
    ];
    let events = market_events(&*engine.read().await, day(through, 0) - Days::new(90));
    let mut made = 0;
    for (s, target) in stages.iter().enumerate() {
        for k in 0..PER_STAGE {
            let n = s * PER_STAGE + k;
            // Topics from the fourth on and demands after each topic's
            // first, so the demo's deals leave the listings the tests work
            // with (XQ-00-00 to XQ-02-00) as they were.
            let topic = 3 + n;
            let demand = format!("XQ-{topic:02}-{:02}", 1 + k % 3);
            let offer = format!("CG-{topic:02}-{:02}", (k + 2) % 4);
            let broker_no = {
                let e = engine.read().await;
                if e.row_of("demands", &demand).is_none() || e.row_of("offers", &offer).is_none() {
                    continue;
                }
                let area = cell(&e, "demands", &demand, "area");
                broker_of(&e, &area).unwrap_or_default()
            };
            // Later stages started earlier: a registered deal took about
            // three months, a fresh match is a few weeks old.
            let opened = through - Days::new(30 + 25 * s as u64 + 7 * k as u64);
            let event = events
                .iter()
                .find(|(_, held)| *held <= opened)
                .filter(|_| n % 4 != 3)
                .map(|(key, _)| key.clone())
                .unwrap_or_default();
            let m = Match {
                demand: &demand,
                offer: &offer,
                expert: "",
                broker: &broker_no,
                event: &event,
            };
            let id = cases::take_match(store, engine, &broker, &m, opened).await?;
            made += 1;
            let step = |step: DealStep, on: NaiveDate| {
                cases::deal_step(store, engine, plan, &broker, id, step, on)
            };
            if *target == Stage::Matched {
                continue;
            }
            let d1 = day(opened, 3);
            step(
                DealStep::Contact {
                    on: d1,
                    note: "电话联系企业技术负责人，确认需求指标和产线条件".into(),
                },
                d1,
            )
            .await?;
            step(
                DealStep::Advance {
                    to: Stage::Contacted,
                    note: "双方同意进一步交流".into(),
                },
                d1,
            )
            .await?;
            if *target == Stage::Contacted {
                continue;
            }
            let d2 = day(opened, 12);
            step(
                DealStep::Contact {
                    on: d2,
                    note: "组织成果持有方到企业现场调研，讨论合作方式和经费".into(),
                },
                d2,
            )
            .await?;
            step(
                DealStep::Advance {
                    to: Stage::Negotiating,
                    note: "进入合同条款洽谈".into(),
                },
                d2,
            )
            .await?;
            if *target == Stage::Negotiating {
                continue;
            }
            let signed_on = day(opened, 35);
            let terms = {
                let e = engine.read().await;
                let loaded = cases::deal(store, id).await?;
                let mut t = cases::suggested_terms(&e, &loaded.doc, signed_on);
                let buyer_code = t.buyer_credit_code.clone();
                let buyer_area = cell(&e, "enterprises", &buyer_code, "area");
                if !buyer_area.is_empty() {
                    t.buyer_area = buyer_area;
                }
                let local = if t.seller_area.is_empty() {
                    t.buyer_area.clone()
                } else {
                    t.seller_area.clone()
                };
                t.seller_area = party_area(&t.seller_name, &local);
                if t.seller_type.is_empty() {
                    t.seller_type = "高校".into();
                }
                t.reg_number = format!("{}3403000{:07}", signed_on.year(), 9_000_001 + n);
                t.kind = ["技术开发", "技术转让", "技术许可"][n % 3].into();
                t.amount = (80 + (n * 53) % 420) as f64;
                t.tech_amount = (t.amount * 0.85).round();
                t
            };
            step(DealStep::Sign(Box::new(terms)), signed_on).await?;
            if *target == Stage::Signed {
                continue;
            }
            let on = day(opened, 48);
            step(DealStep::Register { on }, on).await?;
        }
    }
    Ok(made)
}

/// One challenge: the demand it is made from, its title and goal, budget
/// (万元) and how far it gets.
struct Plot {
    demand: &'static str,
    title: &'static str,
    goal: &'static str,
    budget: &'static str,
    /// 0 open, 1 under review, 2 awarded with work under way, 3 accepted.
    reach: u8,
}

const PLOTS: [Plot; 4] = [
    Plot {
        demand: "XQ-06-03",
        title: "超薄电子玻璃化学强化关键技术攻关",
        goal: "0.1 毫米以下电子玻璃经化学强化后表面应力不低于 800 MPa，弯折半径不大于 3 毫米，良率达到 90%",
        budget: "300",
        reach: 3,
    },
    Plot {
        demand: "XQ-16-03",
        title: "耐热聚乳酸改性材料研发",
        goal: "聚乳酸制品热变形温度提高到 100 ℃ 以上，可用于热饮包装，成本增加不超过 15%",
        budget: "200",
        reach: 2,
    },
    Plot {
        demand: "XQ-12-03",
        title: "高精度 MEMS 压力传感器温漂补偿技术",
        goal: "全温区（-40 ℃ 至 125 ℃）综合精度优于 0.1%FS，形成可量产的标定方案",
        budget: "150",
        reach: 1,
    },
    Plot {
        demand: "XQ-00-03",
        title: "磷酸铁锂正极低温放电性能提升",
        goal: "-20 ℃ 放电容量保持率不低于 85%，压实密度不低于 2.5 g/cm³",
        budget: "180",
        reach: 0,
    },
];

/// Challenges published by the bureau: one taken through review, award and
/// milestones to a passed acceptance (which writes its project record), one
/// under way, one under review and one still open.
async fn challenges(
    store: &Store,
    engine: &SharedEngine,
    plan: &Plan,
    through: NaiveDate,
) -> Result<usize, CaseError> {
    use kc_demo::names::{LOCAL_INSTITUTES, LOCAL_UNIVERSITIES, OUTSIDE_UNIVERSITIES, person};
    let kjj = caller("kjj", "市科技局（规划统筹）", Role::Coordinator);
    let rules = &plan.market.challenge;
    let mut made = 0;
    for (p, plot) in PLOTS.iter().enumerate() {
        if engine.read().await.row_of("demands", plot.demand).is_none() {
            continue;
        }
        // The accepted one began about ten months before the demo's last
        // day; the open one a few weeks before it.
        let published = through - Days::new([300, 220, 120, 20][p]);
        let deadline = day(published, 45).to_string();
        let draft = ChallengeDraft {
            title: plot.title,
            goal: plot.goal,
            budget: plot.budget,
            deadline: &deadline,
            conditions: "揭榜单位须为依法设立的高校、科研院所或企业，具备相关研究基础和中试条件，可联合申报",
        };
        let id = cases::publish(store, engine, &kjj, plot.demand, &draft, published).await?;
        made += 1;
        let step = |s: ChallengeStep, on: NaiveDate| {
            cases::challenge_step(store, engine, plan, &kjj, id, s, on)
        };
        // Applications from universities and an institute.
        let solvers = [
            (OUTSIDE_UNIVERSITIES[p % 6], person(160 + p * 3)),
            (LOCAL_INSTITUTES[p % 3], person(161 + p * 3)),
            (LOCAL_UNIVERSITIES[p % 4], person(162 + p * 3)),
        ];
        let applying = if plot.reach == 0 { 1 } else { 3 };
        for (a, (org, solver)) in solvers.iter().take(applying).enumerate() {
            let on = day(published, 10 + 8 * a as u64);
            step(
                ChallengeStep::Apply {
                    solver: solver.clone(),
                    organization: org.to_string(),
                    proposal: format!("{org}牵头，围绕“{}”提出技术路线、试验方案和进度安排，依托已有中试线开展验证。", plot.title),
                },
                on,
            )
            .await?;
        }
        if plot.reach == 0 {
            continue;
        }
        // A panel of five experts; one from an applying organisation is
        // excluded by the conflict rule, which the demo shows.
        let panel_from = 3 * p;
        let experts: Vec<String> = {
            let e = engine.read().await;
            let def = &registry::EXPERTS;
            let mut all: Vec<(String, String)> = e
                .search("experts", "", None)
                .into_iter()
                .filter_map(|row| e.record("experts", row))
                .map(|r| (r.key(def), r.get(def, "organization").display()))
                .collect();
            all.sort();
            let enterprise = cell(&e, "demands", plot.demand, "enterprise");
            let clash = all
                .iter()
                .find(|(_, org)| solvers.iter().any(|(o, _)| o == org))
                .cloned();
            let mut picked: Vec<String> = all
                .iter()
                .cycle()
                .skip(panel_from)
                .take(all.len())
                .filter(|(_, org)| *org != enterprise && !solvers.iter().any(|(o, _)| o == org))
                .take(4)
                .map(|(k, _)| k.clone())
                .collect();
            picked.extend(clash.map(|(k, _)| k));
            picked
        };
        let review_on = day(published, 50);
        for ex in &experts {
            step(
                ChallengeStep::Panel {
                    expert: ex.clone(),
                    declared: String::new(),
                },
                review_on,
            )
            .await?;
        }
        step(ChallengeStep::Review, review_on).await?;
        let scorers: Vec<String> = cases::challenge(store, id)
            .await?
            .doc
            .scorers()
            .map(|s| s.expert.clone())
            .collect();
        // Every scorer scores every application, the first best; under
        // review, one sheet is still missing.
        let mut sheets = 0;
        let total = scorers.len() * applying;
        for (x, ex) in scorers.iter().enumerate() {
            for a in 0..applying {
                sheets += 1;
                if plot.reach == 1 && sheets == total {
                    break;
                }
                let share = 0.88 - 0.09 * a as f64 - 0.02 * ((x + a) % 3) as f64;
                let points: Vec<f64> = rules
                    .criteria
                    .iter()
                    .map(|c| (c.max * share).round())
                    .collect();
                step(
                    ChallengeStep::Score {
                        application: a as u32 + 1,
                        expert: ex.clone(),
                        points,
                    },
                    day(review_on, 7),
                )
                .await?;
            }
        }
        if plot.reach == 1 {
            continue;
        }
        let awarded = day(review_on, 14);
        step(ChallengeStep::Award { on: awarded }, awarded).await?;
        let milestones = [
            ("完成小试验证并提交阶段报告", day(awarded, 60)),
            ("完成中试并在出题企业产线试用", day(awarded, 150)),
        ];
        for (title, due) in &milestones {
            step(
                ChallengeStep::Milestone {
                    title: (*title).into(),
                    due_on: due.to_string(),
                },
                awarded,
            )
            .await?;
        }
        for (i, (_, due)) in milestones.iter().enumerate() {
            let done = day(*due, 0) - Days::new(5);
            if (plot.reach == 2 && i == 1) || done > through {
                break;
            }
            step(
                ChallengeStep::MilestoneDone {
                    index: i,
                    on: done,
                    note: "已提交测试报告，出题企业确认".into(),
                },
                done,
            )
            .await?;
        }
        if plot.reach == 2 {
            continue;
        }
        let accepted = day(milestones[1].1, 10).min(through);
        let project_area = {
            let e = engine.read().await;
            let area = cell(&e, "demands", plot.demand, "area");
            if area.is_empty() {
                let code = cell(&e, "demands", plot.demand, "credit_code");
                cell(&e, "enterprises", &code, "area")
            } else {
                area
            }
        };
        step(
            ChallengeStep::Accept {
                on: accepted,
                passed: true,
                enterprise_opinion: "各项指标经企业产线试用达到榜单要求，同意通过验收".into(),
                note: "专家组现场测试，出题企业参加".into(),
                project_area,
            },
            accepted,
        )
        .await?;
    }
    Ok(made)
}
