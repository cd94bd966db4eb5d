//! The technology market's cases as use cases: a broker's deal from a match
//! to a registered contract (which lands in the contracts registry and so
//! in absorbed turnover), and a challenge project from a demand to an
//! accepted project (which lands in the projects registry and so in the
//! 攻关项目 count). The rules are `kc_domain::market`'s; this module loads
//! and saves the documents, checks them against the registries and writes
//! the records they produce.

use std::collections::HashMap;

use crate::work::Work;
use chrono::{Datelike, NaiveDate};
use kc_domain::Plan;
use kc_domain::market::{Challenge, ContractTerms, Deal, FieldError, MarketError, Reward, Stage};
use kc_domain::registry::{self, CellError};
use kc_engine::Engine;
use kc_store::{Case, CaseFields, Store, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub const DEAL: &str = "deal";
pub const CHALLENGE: &str = "challenge";

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{0}")]
    Market(#[from] MarketError),
    #[error("{0}")]
    NotFound(String),
    #[error("该事项刚被他人修改，请刷新页面后重试")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("存储的事项内容无法读取")]
    Corrupt(#[source] serde_json::Error),
    /// The user may not do this; the text says what was refused.
    #[error("您的角色无权{0}")]
    Forbidden(&'static str),
}

/// A case and its document.
#[derive(Debug, Clone)]
pub struct Loaded<T> {
    pub case: Case,
    pub doc: T,
}

async fn load<T: DeserializeOwned>(
    store: &Store,
    kind: &str,
    id: i64,
) -> Result<Loaded<T>, CaseError> {
    let case = store.case(kind, id).await?.ok_or_else(|| {
        CaseError::NotFound(format!(
            "没有编号为 {id} 的{}",
            if kind == DEAL {
                "对接事项"
            } else {
                "揭榜挂帅榜单"
            }
        ))
    })?;
    let doc = serde_json::from_str(&case.data).map_err(CaseError::Corrupt)?;
    Ok(Loaded { case, doc })
}

async fn all<T: DeserializeOwned>(store: &Store, kind: &str) -> Result<Vec<Loaded<T>>, CaseError> {
    store
        .cases(kind)
        .await?
        .into_iter()
        .map(|case| {
            serde_json::from_str(&case.data)
                .map(|doc| Loaded { case, doc })
                .map_err(CaseError::Corrupt)
        })
        .collect()
}

fn json<T: Serialize>(doc: &T) -> String {
    serde_json::to_string(doc).expect("market documents serialise")
}

/// Saves a changed document if nobody changed the case meanwhile.
async fn save<T: Serialize>(
    w: &mut Work,
    loaded: &Loaded<T>,
    doc: &T,
    stage: &str,
    area: &str,
    title: &str,
) -> Result<(), CaseError> {
    let data = json(doc);
    let fields = CaseFields {
        area,
        stage,
        title,
        data: &data,
    };
    if w.tx
        .update_case(loaded.case.id, loaded.case.version, fields)
        .await?
    {
        Ok(())
    } else {
        Err(CaseError::Conflict)
    }
}

// ---- deals --------------------------------------------------------------------------------------

pub async fn deal(store: &Store, id: i64) -> Result<Loaded<Deal>, CaseError> {
    load(store, DEAL, id).await
}

pub async fn deals(store: &Store) -> Result<Vec<Loaded<Deal>>, CaseError> {
    all(store, DEAL).await
}

fn deal_title(engine: &Engine, d: &Deal) -> String {
    let title = |reg: &str, key: &str| {
        let field = registry::by_code(reg).map_or("title", |def| def.title);
        Some(cell(engine, reg, key, field))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| key.to_string())
    };
    let other = if d.offer.is_empty() {
        title("experts", &d.expert)
    } else {
        title("offers", &d.offer)
    };
    format!("{} ↔ {}", title("demands", &d.demand), other)
}

/// What a broker takes: a demand with an achievement or an expert, the
/// broker, and the matchmaking event it came from (events registry key),
/// if any.
pub struct Match<'a> {
    pub demand: &'a str,
    pub offer: &'a str,
    pub expert: &'a str,
    pub broker: &'a str,
    pub event: &'a str,
}

/// Event types whose deals the market counts (roadshows and matchmaking).
pub const MARKET_EVENTS: [&str; 3] = ["成果路演", "供需对接", "双创汇"];

/// Opens a deal for a match after checking that its listings, broker and
/// event are registered; the deal belongs to the demand's market.
pub async fn open_deal(
    w: &mut Work,
    engine: &Engine,
    m: &Match<'_>,
    by: &str,
    today: NaiveDate,
) -> Result<(i64, Deal), CaseError> {
    // The deal belongs to its demand's market.
    let area = cell(engine, "demands", m.demand.trim(), "area");
    let mut deal = Deal::new(m.demand, m.offer, m.expert, m.broker, &area, by, today)?;
    deal.event = m.event.trim().to_string();
    let mut errs = Vec::new();
    let exists = |reg: &str, key: &str| engine.row_of(reg, key).is_some();
    if !exists("demands", &deal.demand) {
        errs.push(fe("demand", format!("技术需求“{}”不存在", deal.demand)));
    }
    if !deal.offer.is_empty() && !exists("offers", &deal.offer) {
        errs.push(fe("offer", format!("科技成果“{}”不存在", deal.offer)));
    }
    if !deal.expert.is_empty() && !exists("experts", &deal.expert) {
        errs.push(fe("expert", format!("专家“{}”不存在", deal.expert)));
    }
    if !deal.event.is_empty() && !exists("events", &deal.event) {
        errs.push(fe(
            "event",
            format!("活动“{}”不在对接活动登记库中", deal.event),
        ));
    }
    if !exists("brokers", &deal.broker) {
        errs.push(fe(
            "broker",
            format!("技术经纪人“{}”不在经纪人登记库中", deal.broker),
        ));
    }
    if !errs.is_empty() {
        return Err(MarketError::Fields(errs).into());
    }
    let title = deal_title(engine, &deal);
    let data = json(&deal);
    let id =
        w.tx.insert_case(
            DEAL,
            by,
            CaseFields {
                area: &deal.area,
                stage: deal.stage.code(),
                title: &title,
                data: &data,
            },
        )
        .await?;
    Ok((id, deal))
}

fn fe(field: &'static str, message: String) -> FieldError {
    FieldError { field, message }
}

/// One cell of a registered record, as text ("" when absent).
pub fn cell(engine: &Engine, reg: &str, key: &str, field: &str) -> String {
    let Some(def) = registry::by_code(reg) else {
        return String::new();
    };
    engine
        .row_of(reg, key)
        .and_then(|r| engine.record(reg, r))
        .filter(|_| def.index(field).is_some())
        .map(|r| r.get(def, field).display())
        .unwrap_or_default()
}

/// Saves a deal after a contact or a move that needs no record.
pub async fn update_deal(
    w: &mut Work,
    engine: &Engine,
    loaded: &Loaded<Deal>,
    doc: &Deal,
) -> Result<(), CaseError> {
    save(
        w,
        loaded,
        doc,
        doc.stage.code(),
        &doc.area,
        &deal_title(engine, doc),
    )
    .await
}

/// The contract terms a deal suggests before signing: the demand's
/// enterprise buys, the achievement's owner (or expert's organisation)
/// sells.
pub fn suggested_terms(engine: &Engine, d: &Deal, today: NaiveDate) -> ContractTerms {
    let (seller_name, seller_type, seller_area) = if d.offer.is_empty() {
        (
            cell(engine, "experts", &d.expert, "organization"),
            String::new(),
            cell(engine, "experts", &d.expert, "area"),
        )
    } else {
        (
            cell(engine, "offers", &d.offer, "owner"),
            cell(engine, "offers", &d.offer, "owner_type"),
            cell(engine, "offers", &d.offer, "area"),
        )
    };
    ContractTerms {
        reg_number: String::new(),
        kind: "技术开发".into(),
        seller_name,
        seller_credit_code: String::new(),
        seller_area,
        seller_type,
        buyer_name: cell(engine, "demands", &d.demand, "enterprise"),
        buyer_credit_code: cell(engine, "demands", &d.demand, "credit_code"),
        buyer_area: d.area.clone(),
        buyer_type: "企业".into(),
        amount: 0.0,
        tech_amount: 0.0,
        signed_on: today,
    }
}

fn contract_cells(
    d: &Deal,
    t: &ContractTerms,
    registered_on: NaiveDate,
) -> Vec<(&'static str, String)> {
    vec![
        ("reg_number", t.reg_number.trim().to_string()),
        ("type", t.kind.clone()),
        ("seller_name", t.seller_name.clone()),
        ("seller_credit_code", t.seller_credit_code.clone()),
        ("seller_area", t.seller_area.clone()),
        ("seller_type", t.seller_type.clone()),
        ("buyer_name", t.buyer_name.clone()),
        ("buyer_credit_code", t.buyer_credit_code.clone()),
        ("buyer_area", t.buyer_area.clone()),
        ("buyer_type", t.buyer_type.clone()),
        ("registered_on", registered_on.to_string()),
        ("amount", t.amount.to_string()),
        ("tech_amount", t.tech_amount.to_string()),
        ("demand_number", d.demand.clone()),
        ("broker_number", d.broker.clone()),
    ]
}

/// Checks a contract record against the registry's schema; cell errors
/// become field errors of the signing form.
fn contract_record(
    engine: &Engine,
    plan: &Plan,
    cells: &[(&'static str, String)],
) -> Result<registry::Record, CaseError> {
    let def = &registry::CONTRACTS;
    let map: HashMap<&str, &str> = cells.iter().map(|(k, v)| (*k, v.as_str())).collect();
    crate::registries::check_record(engine, plan, def, &map).map_err(|errs| {
        MarketError::Fields(
            errs.into_iter()
                .map(|CellError { field, reason, .. }| {
                    let f = def
                        .fields
                        .iter()
                        .find(|x| x.code == field)
                        .map_or("reg_number", |x| x.code);
                    fe(f, reason)
                })
                .collect(),
        )
        .into()
    })
}

/// Signs a deal: checks the terms (the domain's rules, then the contracts
/// registry's schema and that the number is new), saves the deal, then
/// writes the contract record so that it counts at once. Returns the
/// contract's key.
#[allow(clippy::too_many_arguments)]
pub async fn sign_deal(
    w: &mut Work,
    engine: &Engine,
    plan: &Plan,
    loaded: &Loaded<Deal>,
    terms: ContractTerms,
    today: NaiveDate,
    by: &str,
) -> Result<String, CaseError> {
    let mut doc = loaded.doc.clone();
    doc.sign(terms.clone(), today, by)?;
    let cells = contract_cells(&doc, &terms, terms.signed_on);
    let rec = contract_record(engine, plan, &cells)?;
    let key = rec.key(&registry::CONTRACTS);
    if engine.row_of("contracts", &key).is_some() {
        return Err(MarketError::Fields(vec![fe(
            "reg_number",
            format!("登记编号“{key}”已在技术合同登记库中"),
        )])
        .into());
    }
    // The deal is saved first: its version check decides a race between
    // two people signing, and only the winner writes the contract.
    update_deal(w, engine, loaded, &doc).await?;
    w.save_record(engine, &registry::CONTRACTS, &rec, by)
        .await?;
    Ok(key)
}

/// Registers a signed deal's contract on `on`: the contract record takes
/// the registration date (the date absorbed turnover counts by), and the
/// broker's reward is set by the plan's rule against what the broker
/// already earned that year.
#[allow(clippy::too_many_arguments)]
pub async fn register_deal(
    store: &Store,
    w: &mut Work,
    engine: &Engine,
    plan: &Plan,
    loaded: &Loaded<Deal>,
    on: NaiveDate,
    today: NaiveDate,
    by: &str,
) -> Result<Reward, CaseError> {
    let earned: f64 = deals(store)
        .await?
        .iter()
        .filter(|d| {
            d.case.id != loaded.case.id
                && d.doc.broker == loaded.doc.broker
                && d.doc.reward_year() == Some(on.year())
        })
        .filter_map(|d| d.doc.reward)
        .sum();
    let mut doc = loaded.doc.clone();
    let reward = doc.register(on, today, by, &plan.market.reward, earned)?;
    let terms = doc.contract.clone().expect("a signed deal has terms");
    let rec = contract_record(engine, plan, &contract_cells(&doc, &terms, on))?;
    update_deal(w, engine, loaded, &doc).await?;
    w.save_record(engine, &registry::CONTRACTS, &rec, by)
        .await?;
    Ok(reward)
}

/// A step of a deal, as a form or a client asks for it (parsed and typed at
/// the edge).
#[derive(Debug, Clone)]
pub enum DealStep {
    Contact { on: NaiveDate, note: String },
    Advance { to: Stage, note: String },
    Sign(Box<ContractTerms>),
    Register { on: NaiveDate },
}

impl DealStep {
    /// The step's name in the audit trail (`deal.<name>`) and the URL.
    pub fn name(&self) -> &'static str {
        match self {
            DealStep::Contact { .. } => "contact",
            DealStep::Advance { .. } => "advance",
            DealStep::Sign(_) => "sign",
            DealStep::Register { .. } => "register",
        }
    }
}

/// Takes a deal through one step for a user: who may see and work the deal,
/// the domain's rules for the step, then the deal (and the contract record a
/// signing or registration writes) with the audit entry in one transaction,
/// and the engine after it.
pub async fn deal_step(
    store: &Store,
    engine: &crate::registries::SharedEngine,
    plan: &Plan,
    caller: &crate::auth::Caller,
    id: i64,
    step: DealStep,
    today: NaiveDate,
) -> Result<(), CaseError> {
    let who = &caller.principal;
    let loaded = deal(store, id).await?;
    if !who.sees_case(&loaded.doc.area, &loaded.case.owner, false) {
        return Err(CaseError::NotFound(format!("没有编号为 {id} 的对接事项")));
    }
    if !who.works_deal(&loaded.doc.area, &loaded.doc.taken_by) {
        return Err(CaseError::Forbidden("跟进这个对接事项"));
    }
    let me = who.username.as_str();
    let action = format!("deal.{}", step.name());
    let mut w = Work::begin(store).await?;
    let detail = {
        let e = engine.read().await;
        match step {
            DealStep::Contact { on, note } => {
                let mut doc = loaded.doc.clone();
                doc.contact(on, me, &note)?;
                update_deal(&mut w, &e, &loaded, &doc).await?;
                serde_json::json!({"contact": note})
            }
            DealStep::Advance { to, note } => {
                let mut doc = loaded.doc.clone();
                doc.advance(to, today, me, &note)?;
                update_deal(&mut w, &e, &loaded, &doc).await?;
                serde_json::json!({"from": loaded.doc.stage, "to": to, "note": note})
            }
            DealStep::Sign(terms) => {
                let key = sign_deal(&mut w, &e, plan, &loaded, (*terms).clone(), today, me).await?;
                serde_json::json!({"contract": key, "terms": terms})
            }
            DealStep::Register { on } => {
                let reward = register_deal(store, &mut w, &e, plan, &loaded, on, today, me).await?;
                serde_json::json!({"registered_on": on, "reward": reward})
            }
        }
    };
    commit(w, engine, caller, &action, &format!("deal:{id}"), detail).await
}

/// Commits a case's work with its audit entry; the engine's write lock is
/// taken only when the work wrote registry records.
async fn commit(
    w: Work,
    engine: &crate::registries::SharedEngine,
    caller: &crate::auth::Caller,
    action: &str,
    object: &str,
    detail: serde_json::Value,
) -> Result<(), CaseError> {
    if w.touches_engine() {
        let mut e = engine.write().await;
        w.commit(&caller.actor, action, object, detail, Some(&mut e))
            .await?;
    } else {
        w.commit(&caller.actor, action, object, detail, None)
            .await?;
    }
    Ok(())
}

/// The broker record (its registration number) whose sign-in is `username`.
pub fn broker_of(engine: &Engine, username: &str) -> Option<String> {
    let def = &kc_domain::registry::BROKERS;
    engine
        .search("brokers", "", None)
        .into_iter()
        .filter_map(|row| engine.record("brokers", row))
        .find(|r| r.get(def, "account").display() == username)
        .map(|r| r.key(def))
}

/// A broker (or the market's manager) takes a match as a deal: the demand's
/// market decides who may; the deal and its audit entry in one transaction.
/// A broker's deal is always their own (their account's broker record),
/// whatever the request names; the manager names the broker.
pub async fn take_match(
    store: &Store,
    engine: &crate::registries::SharedEngine,
    caller: &crate::auth::Caller,
    m: &Match<'_>,
    today: NaiveDate,
) -> Result<i64, CaseError> {
    let mut w = Work::begin(store).await?;
    let (id, deal) = {
        let e = engine.read().await;
        let area = cell(&e, "demands", m.demand.trim(), "area");
        if !caller.principal.takes_deals(&area) {
            return Err(CaseError::Forbidden("承接对接事项"));
        }
        let own;
        let m = if caller.principal.manages_market(&area) {
            m
        } else {
            let Some(b) = broker_of(&e, &caller.principal.username) else {
                return Err(MarketError::Fields(vec![fe(
                    "broker",
                    "您的账号尚未关联技术经纪人登记记录，请市科技局在“技术经纪人”登记库中填写您的登录账号".into(),
                )])
                .into());
            };
            own = b;
            &Match { broker: &own, ..*m }
        };
        open_deal(&mut w, &e, m, &caller.principal.username, today).await?
    };
    let detail = serde_json::json!({ "deal": deal });
    commit(
        w,
        engine,
        caller,
        "deal.open",
        &format!("deal:{id}"),
        detail,
    )
    .await?;
    Ok(id)
}

/// The market's manager publishes a challenge (揭榜挂帅) made from a
/// registered demand of their market.
pub async fn publish(
    store: &Store,
    engine: &crate::registries::SharedEngine,
    caller: &crate::auth::Caller,
    demand: &str,
    draft: &kc_domain::market::ChallengeDraft<'_>,
    today: NaiveDate,
) -> Result<i64, CaseError> {
    let mut w = Work::begin(store).await?;
    let (id, doc) = {
        let e = engine.read().await;
        let area = cell(&e, "demands", demand, "area");
        if !caller.principal.manages_market(&area) {
            return Err(CaseError::Forbidden("发布揭榜挂帅榜单"));
        }
        publish_challenge(&mut w, &e, demand, draft, today, &caller.principal.username).await?
    };
    let detail = serde_json::json!({ "challenge": doc });
    commit(
        w,
        engine,
        caller,
        "challenge.publish",
        &format!("challenge:{id}"),
        detail,
    )
    .await?;
    Ok(id)
}

/// A step of a challenge, as a form or a client asks for it (parsed and
/// typed at the edge).
#[derive(Debug, Clone)]
pub enum ChallengeStep {
    Apply {
        solver: String,
        organization: String,
        proposal: String,
    },
    Panel {
        expert: String,
        declared: String,
    },
    Review,
    Score {
        application: u32,
        expert: String,
        points: Vec<f64>,
    },
    Award {
        on: NaiveDate,
    },
    Milestone {
        title: String,
        due_on: String,
    },
    MilestoneDone {
        index: usize,
        on: NaiveDate,
        note: String,
    },
    Accept {
        on: NaiveDate,
        passed: bool,
        enterprise_opinion: String,
        note: String,
        project_area: String,
    },
}

impl ChallengeStep {
    /// The step's name in the audit trail (`challenge.<name>`) and the URL.
    pub fn name(&self) -> &'static str {
        match self {
            ChallengeStep::Apply { .. } => "apply",
            ChallengeStep::Panel { .. } => "panel",
            ChallengeStep::Review => "review",
            ChallengeStep::Score { .. } => "score",
            ChallengeStep::Award { .. } => "award",
            ChallengeStep::Milestone { .. } => "milestone",
            ChallengeStep::MilestoneDone { .. } => "milestone_done",
            ChallengeStep::Accept { .. } => "accept",
        }
    }
}

/// Takes a challenge through one step for the market's manager: the
/// domain's rules for the step, then the challenge (and the project record
/// a passed acceptance writes) with the audit entry in one transaction.
pub async fn challenge_step(
    store: &Store,
    engine: &crate::registries::SharedEngine,
    plan: &Plan,
    caller: &crate::auth::Caller,
    id: i64,
    step: ChallengeStep,
    today: NaiveDate,
) -> Result<(), CaseError> {
    let loaded = challenge(store, id).await?;
    if !caller.principal.manages_market(&loaded.doc.area) {
        return Err(CaseError::Forbidden("管理这个揭榜挂帅榜单"));
    }
    let rules = &plan.market.challenge;
    let action = format!("challenge.{}", step.name());
    let mut w = Work::begin(store).await?;
    let mut doc = loaded.doc.clone();
    let detail = {
        let e = engine.read().await;
        match step {
            ChallengeStep::Apply {
                solver,
                organization,
                proposal,
            } => {
                let n = doc.apply(&solver, &organization, &proposal, today)?;
                serde_json::json!({"application": n, "organization": organization})
            }
            ChallengeStep::Panel { expert, declared } => {
                let name = cell(&e, "experts", &expert, "name");
                if name.is_empty() {
                    return Err(MarketError::Fields(vec![fe(
                        "expert",
                        "请从专家库中选择专家".into(),
                    )])
                    .into());
                }
                let org = cell(&e, "experts", &expert, "organization");
                doc.add_panelist(&expert, &name, &org, &declared)?;
                serde_json::json!({"expert": expert, "conflict": doc.panel.last().and_then(|p| p.conflict.clone())})
            }
            ChallengeStep::Review => {
                doc.start_review(rules)?;
                serde_json::json!({"panel": doc.scorers().count()})
            }
            ChallengeStep::Score {
                application,
                expert,
                points,
            } => {
                let total = doc.score(rules, application, &expert, &points)?;
                serde_json::json!({"application": application, "expert": expert, "points": points, "total": total})
            }
            ChallengeStep::Award { on } => {
                let winner = doc.award(rules, on)?;
                serde_json::json!({"winner": winner, "standings": doc.standings(rules)})
            }
            ChallengeStep::Milestone { title, due_on } => {
                doc.add_milestone(&title, &due_on)?;
                serde_json::json!({"milestone": title, "due_on": due_on})
            }
            ChallengeStep::MilestoneDone { index, on, note } => {
                doc.complete_milestone(index, on, &note)?;
                serde_json::json!({"milestone": index})
            }
            ChallengeStep::Accept {
                on,
                passed,
                enterprise_opinion,
                note,
                project_area,
            } => {
                // Acceptance writes the challenge itself (and the project).
                let project = accept_challenge(
                    &mut w,
                    &e,
                    plan,
                    &loaded,
                    on,
                    passed,
                    &enterprise_opinion,
                    &note,
                    &project_area,
                    &caller.principal.username,
                )
                .await?;
                drop(e);
                let detail = serde_json::json!({"passed": passed, "project": project});
                return commit(
                    w,
                    engine,
                    caller,
                    &action,
                    &format!("challenge:{id}"),
                    detail,
                )
                .await;
            }
        }
    };
    update_challenge(&mut w, &loaded, &doc).await?;
    commit(
        w,
        engine,
        caller,
        &action,
        &format!("challenge:{id}"),
        detail,
    )
    .await
}

// ---- challenges ---------------------------------------------------------------------------------

pub async fn challenge(store: &Store, id: i64) -> Result<Loaded<Challenge>, CaseError> {
    load(store, CHALLENGE, id).await
}

pub async fn challenges(store: &Store) -> Result<Vec<Loaded<Challenge>>, CaseError> {
    all(store, CHALLENGE).await
}

/// Publishes a challenge made from a registered demand.
pub async fn publish_challenge(
    w: &mut Work,
    engine: &Engine,
    demand: &str,
    draft: &kc_domain::market::ChallengeDraft<'_>,
    today: NaiveDate,
    by: &str,
) -> Result<(i64, Challenge), CaseError> {
    if engine.row_of("demands", demand).is_none() {
        return Err(
            MarketError::Fields(vec![fe("demand", format!("技术需求“{demand}”不存在"))]).into(),
        );
    }
    let c = |f: &str| cell(engine, "demands", demand, f);
    let doc = Challenge::publish(
        demand,
        &c("enterprise"),
        &c("credit_code"),
        &c("cluster"),
        &c("area"),
        draft,
        today,
    )?;
    let data = json(&doc);
    let id =
        w.tx.insert_case(
            CHALLENGE,
            by,
            CaseFields {
                area: &doc.area,
                stage: doc.stage.code(),
                title: &doc.title,
                data: &data,
            },
        )
        .await?;
    Ok((id, doc))
}

pub async fn update_challenge(
    w: &mut Work,
    loaded: &Loaded<Challenge>,
    doc: &Challenge,
) -> Result<(), CaseError> {
    save(w, loaded, doc, doc.stage.code(), &doc.area, &doc.title).await
}

/// Judges acceptance. A passed challenge becomes a project record of the
/// 揭榜挂帅 category (立项 on the award date) in `project_area`, which is
/// what the plan's 攻关项目 indicator counts.
#[allow(clippy::too_many_arguments)]
pub async fn accept_challenge(
    w: &mut Work,
    engine: &Engine,
    plan: &Plan,
    loaded: &Loaded<Challenge>,
    on: NaiveDate,
    passed: bool,
    opinion: &str,
    note: &str,
    project_area: &str,
    by: &str,
) -> Result<Option<String>, CaseError> {
    let mut doc = loaded.doc.clone();
    doc.accept(on, passed, opinion, note)?;
    if !passed {
        update_challenge(w, loaded, &doc).await?;
        return Ok(None);
    }
    let winner = doc
        .winner()
        .map(|w| w.organization.clone())
        .unwrap_or_default();
    let number = format!("JBGS-{:05}", loaded.case.id);
    let cells: Vec<(&str, String)> = vec![
        ("number", number.clone()),
        ("title", doc.title.clone()),
        ("category", "揭榜挂帅".into()),
        ("poser", doc.enterprise.clone()),
        ("poser_credit_code", doc.credit_code.clone()),
        ("solvers", winner),
        ("cluster", doc.cluster.clone()),
        ("area", project_area.to_string()),
        ("approved_on", doc.awarded_on.unwrap_or(on).to_string()),
        ("budget", doc.budget.to_string()),
        ("stage", "验收".into()),
        ("acceptance", "通过".into()),
    ];
    let def = &registry::PROJECTS;
    let map: HashMap<&str, &str> = cells.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let rec = crate::registries::check_record(engine, plan, def, &map).map_err(|errs| {
        MarketError::Fields(
            errs.into_iter()
                .map(|e| {
                    fe(
                        if e.field == "area" {
                            "project_area"
                        } else {
                            "note"
                        },
                        format!("{}：{}", e.label, e.reason),
                    )
                })
                .collect(),
        )
    })?;
    doc.project = Some(number.clone());
    update_challenge(w, loaded, &doc).await?;
    w.save_record(engine, def, &rec, by).await?;
    Ok(Some(number))
}
