//! The market's cases on the web: brokers' deals (a match taken, contacts,
//! stages, signing into a technology contract, registration and reward)
//! and challenge projects (揭榜挂帅: publish, apply, panel, scores, award,
//! milestones, acceptance into a project record).

use std::collections::HashMap;

use crate::extract::FormBody;
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use kc_app::cases::{self, CaseError, Loaded};
use kc_domain::market::{ChallengeDraft, ContractTerms, Deal, FieldError, MarketError, Stage};
use kc_domain::registry;
use serde_json::json;

use crate::auth::Session;
use crate::error::{ApiError, AppError};
use crate::pages::Opt;
use crate::registries::Input;
use crate::workflow::PlanHead;
use crate::{AppState, Params};

impl From<CaseError> for AppError {
    fn from(e: CaseError) -> AppError {
        match e {
            CaseError::NotFound(m) => AppError::NotFound(m),
            CaseError::Conflict => AppError::State(e.to_string()),
            CaseError::Store(s) => AppError::Store(s),
            CaseError::Corrupt(c) => AppError::Internal(c.to_string()),
            CaseError::Forbidden(_) => AppError::Forbidden(e.to_string()),
            CaseError::Market(MarketError::Fields(f)) => AppError::BadRequest(
                f.iter()
                    .map(|e| e.message.clone())
                    .collect::<Vec<_>>()
                    .join("；"),
            ),
            CaseError::Market(m) => AppError::BadRequest(m.to_string()),
        }
    }
}

/// A refused form step as the page shows it: field messages beside their
/// fields under one line at the top, or the rule's message alone.
fn form_failure(m: MarketError) -> (String, Vec<FieldError>) {
    match m {
        MarketError::Fields(f) => ("请按提示修改后重新提交".to_string(), f),
        other => (other.to_string(), Vec::new()),
    }
}

fn day(s: Option<&String>, today: NaiveDate) -> Result<NaiveDate, String> {
    match s.map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(today),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| format!("日期“{s}”格式不正确，应为 YYYY-MM-DD")),
    }
}

fn get<'a>(f: &'a HashMap<String, String>, k: &str) -> &'a str {
    f.get(k).map(|s| s.as_str()).unwrap_or("")
}

fn input(
    code: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    options: &[&str],
    errors: &[FieldError],
) -> Input {
    Input {
        code,
        label,
        required: false,
        hint: String::new(),
        kind,
        options: options
            .iter()
            .map(|o| Opt {
                value: o.to_string(),
                label: if o.is_empty() {
                    "（请选择）".into()
                } else {
                    o.to_string()
                },
                selected: *o == value,
            })
            .collect(),
        value,
        error: errors
            .iter()
            .filter(|e| e.field == code)
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("；"),
    }
}

fn area_name(plan: &kc_domain::Plan, area: &str) -> String {
    if area.is_empty() {
        "市大市场".into()
    } else {
        plan.unit_name(area).to_string()
    }
}

// ---- deals --------------------------------------------------------------------------------------

pub struct DealRow {
    pub id: i64,
    pub title: String,
    pub market: String,
    pub broker: String,
    pub stage: &'static str,
    pub stage_code: &'static str,
    pub amount: String,
    pub reward: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "deals.html")]
pub struct DealsPage {
    pub nav: PlanHead,
    pub rows: Vec<DealRow>,
    pub stages: Vec<Opt>,
    pub rule: String,
    pub query: String,
}

fn deal_row(plan: &kc_domain::Plan, engine: &kc_engine::Engine, d: &Loaded<Deal>) -> DealRow {
    let broker = cases::cell(engine, "brokers", &d.doc.broker, "name");
    DealRow {
        id: d.case.id,
        title: d.case.title.clone(),
        market: area_name(plan, &d.doc.area),
        broker: if broker.is_empty() {
            d.doc.broker.clone()
        } else {
            format!("{broker}（{}）", d.doc.broker)
        },
        stage: d.doc.stage.zh(),
        stage_code: d.doc.stage.code(),
        amount: d
            .doc
            .contract
            .as_ref()
            .map(|c| crate::view::num(c.amount, 2))
            .unwrap_or_default(),
        reward: d.doc.reward.map(|r| format!("{r:.2}")).unwrap_or_default(),
        updated: kc_app::auth::local_time(&d.case.updated_at),
    }
}

async fn visible_deals(st: &AppState, sess: &Session) -> Result<Vec<Loaded<Deal>>, AppError> {
    Ok(cases::deals(&st.store)
        .await?
        .into_iter()
        .filter(|d| sess.principal.sees_case(&d.doc.area, &d.case.owner, false))
        .collect())
}

/// `GET /plans/{plan}/market/deals?stage=&format=xlsx`
pub async fn deals_page(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    let (plan, nav) = crate::market::market_plan_of(&st, &sess, &code).await?;
    let (_, engine) = st.plan_and_engine(&code).await?;
    let stage = q.get("stage").cloned().unwrap_or_default();
    let deals: Vec<Loaded<Deal>> = visible_deals(&st, &sess)
        .await?
        .into_iter()
        .filter(|d| stage.is_empty() || d.doc.stage.code() == stage)
        .collect();
    let e = engine.read().await;
    let rows: Vec<DealRow> = deals.iter().map(|d| deal_row(&plan, &e, d)).collect();
    if q.get("format").map(String::as_str) == Some("xlsx") {
        use kc_io::Cell;
        let num = |s: &str| s.parse().map_or(Cell::Empty, Cell::Number);
        let table: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Number(r.id as f64),
                    Cell::Text(r.title.clone()),
                    Cell::Text(r.market.clone()),
                    Cell::Text(r.broker.clone()),
                    Cell::Text(r.stage.into()),
                    num(&r.amount),
                    num(&r.reward),
                    Cell::Text(r.updated.clone()),
                ]
            })
            .collect();
        return crate::registries::table_download(
            &st,
            &sess,
            "market:deals",
            "技术对接事项",
            &[
                "编号",
                "对接内容",
                "所属市场",
                "技术经纪人",
                "阶段",
                "合同金额（万元）",
                "经纪人奖励（万元）",
                "更新时间",
            ],
            &table,
        )
        .await;
    }
    let mut stages = vec![Opt {
        value: String::new(),
        label: "全部阶段".into(),
        selected: stage.is_empty(),
    }];
    stages.extend(Stage::ALL.iter().map(|s| Opt {
        value: s.code().into(),
        label: s.zh().into(),
        selected: s.code() == stage,
    }));
    let page = DealsPage {
        nav,
        rows,
        stages,
        rule: plan.market.reward.describe(),
        query: if stage.is_empty() {
            String::new()
        } else {
            format!("stage={stage}&")
        },
    };
    Ok(Html(page.render()?).into_response())
}

/// A match taken as a deal: the demand, what answers it (an achievement or
/// an expert), the broker and the event where it was made.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct MatchForm {
    demand: String,
    offer: String,
    expert: String,
    broker: String,
    event: String,
}

/// `POST /plans/{plan}/market/deals`: a broker (or the market's manager)
/// takes a match: demand + achievement or expert + broker.
pub async fn open_deal(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    FormBody(f): FormBody<MatchForm>,
) -> Result<Response, AppError> {
    crate::market::market_plan_of(&st, &sess, &code).await?;
    let (_, engine) = st.plan_and_engine(&code).await?;
    let m = cases::Match {
        demand: &f.demand,
        offer: &f.offer,
        expert: &f.expert,
        broker: &f.broker,
        event: &f.event,
    };
    let id = cases::take_match(&st.store, &engine, &sess.caller(), &m, st.today()).await?;
    Ok(Redirect::to(&format!("/plans/{code}/market/deals/{id}")).into_response())
}

pub struct LogView {
    pub on: String,
    pub by: String,
    pub stage: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "deal.html")]
pub struct DealPage {
    pub nav: PlanHead,
    pub id: i64,
    pub title: String,
    pub stage: &'static str,
    pub stage_code: &'static str,
    pub demand: (String, String),
    pub counterpart: (String, String),
    pub broker: String,
    pub market: String,
    pub log: Vec<LogView>,
    pub may_work: bool,
    pub next: Vec<Opt>,
    pub sign: Vec<Input>,
    pub register_on: String,
    pub contract: Option<(String, String)>,
    pub reward: String,
    pub rule: String,
    pub message: String,
    pub errors: Vec<FieldError>,
}

impl DealPage {
    pub fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("；")
    }
}

/// The choices of a contracts registry field, so the signing form offers
/// exactly what the registry accepts.
fn contract_choices(field: &str, blank: bool) -> Vec<&'static str> {
    let mut out = if blank { vec![""] } else { Vec::new() };
    if let Some(registry::FieldType::Choice(c)) = registry::CONTRACTS.field(field).map(|f| f.ty) {
        out.extend_from_slice(c);
    }
    out
}

/// The seller's and buyer's areas picked by name (the plan's areas and
/// 市外), never typed as codes.
fn with_area_choices(mut inputs: Vec<Input>, plan: &kc_domain::Plan) -> Vec<Input> {
    for i in inputs
        .iter_mut()
        .filter(|i| i.code == "seller_area" || i.code == "buyer_area")
    {
        let chosen = i.value.clone();
        i.options = std::iter::once((String::new(), "（请选择）".to_string()))
            .chain(
                plan.areas
                    .iter()
                    .map(|a| (a.code.to_string(), a.name.clone())),
            )
            .chain(std::iter::once((
                registry::OUTSIDE.to_string(),
                "市外".to_string(),
            )))
            .map(|(value, label)| Opt {
                selected: value == chosen || label == chosen,
                value,
                label,
            })
            .collect();
    }
    inputs
}

fn sign_inputs(t: &ContractTerms, amounts: (&str, &str), errors: &[FieldError]) -> Vec<Input> {
    let kinds = contract_choices("type", false);
    let org_types = contract_choices("seller_type", true);
    vec![
        input(
            "reg_number",
            "合同登记编号",
            "text",
            t.reg_number.clone(),
            &[],
            errors,
        ),
        input("kind", "合同类型", "select", t.kind.clone(), &kinds, errors),
        input(
            "seller_name",
            "卖方名称",
            "text",
            t.seller_name.clone(),
            &[],
            errors,
        ),
        input(
            "seller_credit_code",
            "卖方信用代码",
            "text",
            t.seller_credit_code.clone(),
            &[],
            errors,
        ),
        input(
            "seller_area",
            "卖方所在地区",
            "select",
            t.seller_area.clone(),
            &[],
            errors,
        ),
        input(
            "seller_type",
            "卖方类型",
            "select",
            t.seller_type.clone(),
            &org_types,
            errors,
        ),
        input(
            "buyer_name",
            "买方名称",
            "text",
            t.buyer_name.clone(),
            &[],
            errors,
        ),
        input(
            "buyer_credit_code",
            "买方信用代码",
            "text",
            t.buyer_credit_code.clone(),
            &[],
            errors,
        ),
        input(
            "buyer_area",
            "买方所在地区",
            "select",
            t.buyer_area.clone(),
            &[],
            errors,
        ),
        input(
            "buyer_type",
            "买方类型",
            "select",
            t.buyer_type.clone(),
            &org_types,
            errors,
        ),
        input(
            "amount",
            "合同金额（万元）",
            "text",
            amounts.0.to_string(),
            &[],
            errors,
        ),
        input(
            "tech_amount",
            "技术交易额（万元）",
            "text",
            amounts.1.to_string(),
            &[],
            errors,
        ),
        input(
            "signed_on",
            "签约日期",
            "date",
            t.signed_on.to_string(),
            &[],
            errors,
        ),
    ]
}

async fn deal_page_for(
    st: &AppState,
    sess: &Session,
    code: &str,
    id: i64,
    form: Option<&HashMap<String, String>>,
    message: String,
    errors: Vec<FieldError>,
) -> Result<DealPage, AppError> {
    let (plan, nav) = crate::market::market_plan_of(st, sess, code).await?;
    let d = cases::deal(&st.store, id).await?;
    if !sess.principal.sees_case(&d.doc.area, &d.case.owner, false) {
        return Err(AppError::NotFound(format!("没有编号为 {id} 的对接事项")));
    }
    let (_, engine) = st.plan_and_engine(code).await?;
    let e = engine.read().await;
    let title = |reg: &str, key: &str| {
        let field = registry::by_code(reg).map_or("title", |d| d.title);
        let t = cases::cell(&e, reg, key, field);
        let href = if sess.principal.reads_business() {
            format!(
                "/plans/{code}/registries/{reg}/record?key={}",
                crate::auth::url_encode(key)
            )
        } else {
            String::new()
        };
        (if t.is_empty() { key.to_string() } else { t }, href)
    };
    let may_work = sess.principal.works_deal(&d.doc.area, &d.doc.taken_by);
    let suggested = cases::suggested_terms(&e, &d.doc, st.today());
    let (terms, amounts) = match form {
        Some(f) => (
            ContractTerms {
                reg_number: get(f, "reg_number").into(),
                kind: get(f, "kind").into(),
                seller_name: get(f, "seller_name").into(),
                seller_credit_code: get(f, "seller_credit_code").into(),
                seller_area: get(f, "seller_area").into(),
                seller_type: get(f, "seller_type").into(),
                buyer_name: get(f, "buyer_name").into(),
                buyer_credit_code: get(f, "buyer_credit_code").into(),
                buyer_area: get(f, "buyer_area").into(),
                buyer_type: get(f, "buyer_type").into(),
                amount: 0.0,
                tech_amount: 0.0,
                signed_on: day(f.get("signed_on"), st.today()).unwrap_or(st.today()),
            },
            (
                get(f, "amount").to_string(),
                get(f, "tech_amount").to_string(),
            ),
        ),
        None => (suggested, (String::new(), String::new())),
    };
    let broker_name = cases::cell(&e, "brokers", &d.doc.broker, "name");
    Ok(DealPage {
        nav,
        id,
        title: d.case.title.clone(),
        stage: d.doc.stage.zh(),
        stage_code: d.doc.stage.code(),
        demand: title("demands", &d.doc.demand),
        counterpart: if d.doc.offer.is_empty() {
            title("experts", &d.doc.expert)
        } else {
            title("offers", &d.doc.offer)
        },
        broker: format!("{broker_name}（{}）", d.doc.broker),
        market: area_name(&plan, &d.doc.area),
        log: d
            .doc
            .log
            .iter()
            .map(|l| LogView {
                on: l.on.to_string(),
                by: l.by.clone(),
                stage: l
                    .stage
                    .map(|s| s.zh().to_string())
                    .unwrap_or_else(|| "联系".into()),
                note: l.note.clone(),
            })
            .collect(),
        may_work,
        next: d
            .doc
            .stage
            .next()
            .iter()
            .filter(|s| !matches!(s, Stage::Signed | Stage::Registered))
            .map(|s| Opt {
                value: s.code().into(),
                label: s.zh().into(),
                selected: false,
            })
            .collect(),
        sign: with_area_choices(
            sign_inputs(&terms, (&amounts.0, &amounts.1), &errors),
            &plan,
        ),
        register_on: form
            .map(|f| get(f, "registered_on").to_string())
            .unwrap_or_else(|| st.today().to_string()),
        contract: d.doc.contract.as_ref().map(|c| {
            (
                format!(
                    "{} · {} · 合同金额 {} 万元 · 技术交易额 {} 万元 · 签约 {}",
                    c.reg_number, c.kind, c.amount, c.tech_amount, c.signed_on
                ),
                if sess.principal.reads_business() {
                    format!(
                        "/plans/{code}/registries/contracts/record?key={}",
                        crate::auth::url_encode(&c.reg_number)
                    )
                } else {
                    String::new()
                },
            )
        }),
        reward: d.doc.reward.map(|r| format!("{r:.2}")).unwrap_or_default(),
        rule: plan.market.reward.describe(),
        message,
        errors,
    })
}

/// `GET /plans/{plan}/market/deals/{id}`
pub async fn deal_page(
    State(st): State<AppState>,
    sess: Session,
    Path((code, id)): Path<(String, i64)>,
) -> Result<Html<String>, AppError> {
    let page = deal_page_for(&st, &sess, &code, id, None, String::new(), Vec::new()).await?;
    Ok(Html(page.render()?))
}

fn amount(
    f: &HashMap<String, String>,
    k: &'static str,
    label: &str,
    errs: &mut Vec<FieldError>,
) -> f64 {
    let s = get(f, k).trim();
    match s.parse::<f64>() {
        Ok(v) => v,
        Err(_) => {
            errs.push(FieldError {
                field: k,
                message: if s.is_empty() {
                    format!("请填写{label}")
                } else {
                    format!("{label}“{s}”不是数字")
                },
            });
            f64::NAN
        }
    }
}

/// `POST /plans/{plan}/market/deals/{id}/{action}`: `contact`, `advance`
/// (with `to`), `sign`, `register`.
pub async fn deal_action(
    State(st): State<AppState>,
    sess: Session,
    Path((code, id, action)): Path<(String, i64, String)>,
    FormBody(f): FormBody<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let (plan, _) = crate::market::market_plan_of(&st, &sess, &code).await?;
    let (_, engine) = st.plan_and_engine(&code).await?;
    let today = st.today();
    let result = match deal_step_of(&action, &f, today) {
        Ok(step) => {
            cases::deal_step(&st.store, &engine, &plan, &sess.caller(), id, step, today).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/plans/{code}/market/deals/{id}")).into_response()),
        Err(CaseError::Market(m)) => {
            let (message, errors) = form_failure(m);
            let page = deal_page_for(&st, &sess, &code, id, Some(&f), message, errors).await?;
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// A deal's form as its typed step (`contact`, `advance` with `to`, `sign`,
/// `register`); a bad field is a message beside it.
fn deal_step_of(
    action: &str,
    f: &HashMap<String, String>,
    today: chrono::NaiveDate,
) -> Result<cases::DealStep, CaseError> {
    let field = |field: &'static str, message: String| -> CaseError {
        MarketError::Fields(vec![FieldError { field, message }]).into()
    };
    Ok(match action {
        "contact" => cases::DealStep::Contact {
            on: day(f.get("on"), today).map_err(|m| field("on", m))?,
            note: get(f, "note").to_string(),
        },
        "advance" => cases::DealStep::Advance {
            to: Stage::parse(get(f, "to"))
                .ok_or_else(|| MarketError::Rule("请选择要转到的阶段".into()))?,
            note: get(f, "note").to_string(),
        },
        "sign" => {
            let mut errs = Vec::new();
            let amount_v = amount(f, "amount", "合同金额", &mut errs);
            let tech_v = amount(f, "tech_amount", "技术交易额", &mut errs);
            let signed_on = day(f.get("signed_on"), today).unwrap_or_else(|m| {
                errs.push(FieldError {
                    field: "signed_on",
                    message: m,
                });
                today
            });
            if !errs.is_empty() {
                return Err(MarketError::Fields(errs).into());
            }
            cases::DealStep::Sign(Box::new(ContractTerms {
                reg_number: get(f, "reg_number").trim().into(),
                kind: get(f, "kind").into(),
                seller_name: get(f, "seller_name").trim().into(),
                seller_credit_code: get(f, "seller_credit_code").trim().into(),
                seller_area: get(f, "seller_area").trim().into(),
                seller_type: get(f, "seller_type").into(),
                buyer_name: get(f, "buyer_name").trim().into(),
                buyer_credit_code: get(f, "buyer_credit_code").trim().into(),
                buyer_area: get(f, "buyer_area").trim().into(),
                buyer_type: get(f, "buyer_type").into(),
                amount: amount_v,
                tech_amount: tech_v,
                signed_on,
            }))
        }
        "register" => cases::DealStep::Register {
            on: day(f.get("registered_on"), today).map_err(|m| field("registered_on", m))?,
        },
        other => return Err(CaseError::NotFound(format!("没有“{other}”这个操作"))),
    })
}

/// `GET /api/v1/plans/{plan}/market/deals`: the deals the user may see.
pub async fn deals_api(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    crate::market::market_plan_of(&st, &sess, &code).await?;
    let deals = visible_deals(&st, &sess).await?;
    Ok(Json(json!({
        "deals": deals.iter().map(|d| json!({
            "id": d.case.id, "title": d.case.title, "updated_at": d.case.updated_at, "deal": d.doc,
        })).collect::<Vec<_>>()
    })))
}

// ---- challenges ---------------------------------------------------------------------------------

pub struct ChallengeRow {
    pub id: i64,
    pub title: String,
    pub enterprise: String,
    pub market: String,
    pub budget: String,
    pub deadline: String,
    pub stage: &'static str,
    pub applications: usize,
    pub winner: String,
}

#[derive(Template)]
#[template(path = "challenges.html")]
pub struct ChallengesPage {
    pub nav: PlanHead,
    pub rows: Vec<ChallengeRow>,
}

/// `GET /plans/{plan}/market/challenges?format=xlsx`
pub async fn challenges_page(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    let (plan, nav) = crate::market::market_plan_of(&st, &sess, &code).await?;
    let rows: Vec<ChallengeRow> = cases::challenges(&st.store)
        .await?
        .into_iter()
        .map(|c| ChallengeRow {
            id: c.case.id,
            title: c.doc.title.clone(),
            enterprise: c.doc.enterprise.clone(),
            market: area_name(&plan, &c.doc.area),
            budget: format!("{}", c.doc.budget),
            deadline: c.doc.deadline.to_string(),
            stage: c.doc.stage.zh(),
            applications: c.doc.applications.len(),
            winner: c
                .doc
                .winner()
                .map(|w| w.organization.clone())
                .unwrap_or_default(),
        })
        .collect();
    if q.get("format").map(String::as_str) == Some("xlsx") {
        use kc_io::Cell;
        let table: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Number(r.id as f64),
                    Cell::Text(r.title.clone()),
                    Cell::Text(r.enterprise.clone()),
                    Cell::Text(r.market.clone()),
                    r.budget.parse().map_or(Cell::Empty, Cell::Number),
                    Cell::Text(r.deadline.clone()),
                    Cell::Text(r.stage.into()),
                    Cell::Number(r.applications as f64),
                    Cell::Text(r.winner.clone()),
                ]
            })
            .collect();
        return crate::registries::table_download(
            &st,
            &sess,
            "market:challenges",
            "揭榜挂帅榜单",
            &[
                "编号",
                "榜单名称",
                "出题企业",
                "所属市场",
                "榜单金额（万元）",
                "揭榜截止",
                "阶段",
                "申请数",
                "揭榜单位",
            ],
            &table,
        )
        .await;
    }
    Ok(Html(ChallengesPage { nav, rows }.render()?).into_response())
}

#[derive(Template)]
#[template(path = "challenge_new.html")]
pub struct ChallengeNewPage {
    pub nav: PlanHead,
    pub demand: String,
    pub demand_title: String,
    pub inputs: Vec<Input>,
    pub message: String,
}

fn challenge_inputs(f: &HashMap<String, String>, errors: &[FieldError]) -> Vec<Input> {
    let v = |k: &str| get(f, k).to_string();
    vec![
        input("title", "榜单名称", "text", v("title"), &[], errors),
        input(
            "goal",
            "攻关目标与技术指标",
            "textarea",
            v("goal"),
            &[],
            errors,
        ),
        input(
            "budget",
            "榜单金额（万元）",
            "text",
            v("budget"),
            &[],
            errors,
        ),
        input(
            "deadline",
            "揭榜截止日期",
            "date",
            v("deadline"),
            &[],
            errors,
        ),
        input(
            "conditions",
            "揭榜条件",
            "textarea",
            v("conditions"),
            &[],
            errors,
        ),
    ]
}

/// `GET /plans/{plan}/market/challenges/new?demand=KEY`
pub async fn challenge_new(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let (_, nav) = crate::market::market_plan_of(&st, &sess, &code).await?;
    let (_, engine) = st.plan_and_engine(&code).await?;
    let demand = q.get("demand").cloned().unwrap_or_default();
    let e = engine.read().await;
    let area = cases::cell(&e, "demands", &demand, "area");
    sess.require(sess.principal.manages_market(&area), "发布揭榜挂帅榜单")?;
    let title = cases::cell(&e, "demands", &demand, "title");
    if title.is_empty() {
        return Err(AppError::NotFound(format!("技术需求“{demand}”不存在")));
    }
    let mut f = HashMap::new();
    f.insert("title".to_string(), title.clone());
    f.insert(
        "goal".to_string(),
        cases::cell(&e, "demands", &demand, "description"),
    );
    f.insert(
        "budget".to_string(),
        cases::cell(&e, "demands", &demand, "budget"),
    );
    Ok(Html(
        ChallengeNewPage {
            nav,
            demand,
            demand_title: title,
            inputs: challenge_inputs(&f, &[]),
            message: String::new(),
        }
        .render()?,
    ))
}

/// `POST /plans/{plan}/market/challenges`: publishes a challenge.
pub async fn challenge_publish(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    FormBody(f): FormBody<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let (_, nav) = crate::market::market_plan_of(&st, &sess, &code).await?;
    let (_, engine) = st.plan_and_engine(&code).await?;
    let demand = get(&f, "demand").to_string();
    let draft = ChallengeDraft {
        title: get(&f, "title"),
        goal: get(&f, "goal"),
        budget: get(&f, "budget"),
        deadline: get(&f, "deadline"),
        conditions: get(&f, "conditions"),
    };
    match cases::publish(
        &st.store,
        &engine,
        &sess.caller(),
        &demand,
        &draft,
        st.today(),
    )
    .await
    {
        Ok(id) => {
            Ok(Redirect::to(&format!("/plans/{code}/market/challenges/{id}")).into_response())
        }
        Err(CaseError::Market(m)) => {
            let (message, errors) = form_failure(m);
            let e = engine.read().await;
            let page = ChallengeNewPage {
                nav,
                demand_title: cases::cell(&e, "demands", &demand, "title"),
                demand,
                inputs: challenge_inputs(&f, &errors),
                message,
            };
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub struct ApplicationView {
    pub id: u32,
    pub solver: String,
    pub organization: String,
    pub proposal: String,
    pub applied_on: String,
    pub score: String,
    pub sheets: usize,
    pub winner: bool,
}

pub struct PanelView {
    pub expert: String,
    pub name: String,
    pub organization: String,
    pub conflict: String,
}

pub struct MilestoneView {
    pub index: usize,
    pub title: String,
    pub due_on: String,
    pub done_on: String,
    pub note: String,
}

#[derive(Template)]
#[template(path = "challenge.html")]
pub struct ChallengePage {
    pub nav: PlanHead,
    pub id: i64,
    pub title: String,
    pub stage: &'static str,
    pub stage_code: &'static str,
    pub enterprise: String,
    pub market: String,
    pub demand: (String, String),
    pub goal: String,
    pub conditions: String,
    pub budget: String,
    pub deadline: String,
    pub applications: Vec<ApplicationView>,
    pub panel: Vec<PanelView>,
    pub scorers: Vec<Opt>,
    pub experts: Vec<Opt>,
    pub criteria: Vec<(usize, String, String)>,
    pub combine: &'static str,
    pub pass_score: String,
    pub min_panel: usize,
    pub milestones: Vec<MilestoneView>,
    pub acceptance: String,
    pub project: Option<(String, String)>,
    pub areas: Vec<Opt>,
    pub manages: bool,
    pub message: String,
    pub errors: Vec<FieldError>,
    pub values: HashMap<String, String>,
}

impl ChallengePage {
    pub fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|e| e.field == field)
            .map(|e| e.message.clone())
            .collect::<Vec<_>>()
            .join("；")
    }

    pub fn val(&self, field: &str) -> String {
        self.values.get(field).cloned().unwrap_or_default()
    }
}

#[allow(clippy::too_many_arguments)]
async fn challenge_page_for(
    st: &AppState,
    sess: &Session,
    code: &str,
    id: i64,
    values: HashMap<String, String>,
    message: String,
    errors: Vec<FieldError>,
) -> Result<ChallengePage, AppError> {
    let (plan, nav) = crate::market::market_plan_of(st, sess, code).await?;
    let c = cases::challenge(&st.store, id).await?;
    let (_, engine) = st.plan_and_engine(code).await?;
    let e = engine.read().await;
    let rules = &plan.market.challenge;
    let standings = c.doc.standings(rules);
    let doc = &c.doc;
    let experts: Vec<Opt> = {
        let mut out = vec![Opt {
            value: String::new(),
            label: "（请选择专家）".into(),
            selected: false,
        }];
        for row in e.search("experts", "", None).into_iter().take(500) {
            if let Some(r) = e.record("experts", row) {
                let key = r.key(&registry::EXPERTS);
                if doc.panel.iter().any(|p| p.expert == key) {
                    continue;
                }
                out.push(Opt {
                    label: format!(
                        "{}（{}，{}）",
                        r.get(&registry::EXPERTS, "name").display(),
                        r.get(&registry::EXPERTS, "organization").display(),
                        r.get(&registry::EXPERTS, "field").display()
                    ),
                    value: key,
                    selected: false,
                });
            }
        }
        out
    };
    let mut areas = vec![Opt {
        value: String::new(),
        label: "（请选择）".into(),
        selected: false,
    }];
    areas.extend(plan.areas.iter().map(|a| Opt {
        value: a.code.to_string(),
        label: a.name.clone(),
        selected: a.code.as_str() == doc.area,
    }));
    Ok(ChallengePage {
        nav,
        id,
        title: doc.title.clone(),
        stage: doc.stage.zh(),
        stage_code: doc.stage.code(),
        enterprise: doc.enterprise.clone(),
        market: area_name(&plan, &doc.area),
        demand: (
            cases::cell(&e, "demands", &doc.demand, "title"),
            if sess.principal.reads_business() {
                format!(
                    "/plans/{code}/registries/demands/record?key={}",
                    crate::auth::url_encode(&doc.demand)
                )
            } else {
                String::new()
            },
        ),
        goal: doc.goal.clone(),
        conditions: doc.conditions.clone(),
        budget: format!("{}", doc.budget),
        deadline: doc.deadline.to_string(),
        applications: doc
            .applications
            .iter()
            .map(|a| {
                let s = standings.iter().find(|s| s.application == a.id);
                ApplicationView {
                    id: a.id,
                    solver: a.solver.clone(),
                    organization: a.organization.clone(),
                    proposal: a.proposal.clone(),
                    applied_on: a.applied_on.to_string(),
                    score: s
                        .and_then(|s| s.score)
                        .map(|x| format!("{x:.1}"))
                        .unwrap_or_default(),
                    sheets: s.map_or(0, |s| s.sheets),
                    winner: doc.winner == Some(a.id),
                }
            })
            .collect(),
        panel: doc
            .panel
            .iter()
            .map(|p| PanelView {
                expert: p.expert.clone(),
                name: p.name.clone(),
                organization: p.organization.clone(),
                conflict: p.conflict.clone().unwrap_or_default(),
            })
            .collect(),
        scorers: doc
            .scorers()
            .map(|p| Opt {
                value: p.expert.clone(),
                label: format!("{}（{}）", p.name, p.organization),
                selected: false,
            })
            .collect(),
        experts,
        criteria: rules
            .criteria
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.name.clone(), format!("{}", c.max)))
            .collect(),
        combine: rules.combine.zh(),
        pass_score: format!("{}", rules.pass_score),
        min_panel: rules.min_panel,
        milestones: doc
            .milestones
            .iter()
            .enumerate()
            .map(|(i, m)| MilestoneView {
                index: i,
                title: m.title.clone(),
                due_on: m.due_on.to_string(),
                done_on: m.done_on.map(|d| d.to_string()).unwrap_or_default(),
                note: m.note.clone(),
            })
            .collect(),
        acceptance: doc
            .acceptance
            .as_ref()
            .map(|a| {
                format!(
                    "{} {}；出题企业意见：{}{}",
                    a.on,
                    if a.passed {
                        "验收通过"
                    } else {
                        "验收不通过"
                    },
                    a.enterprise_opinion,
                    if a.note.is_empty() {
                        String::new()
                    } else {
                        format!("；{}", a.note)
                    }
                )
            })
            .unwrap_or_default(),
        project: doc.project.as_ref().map(|p| {
            (
                p.clone(),
                if sess.principal.reads_business() {
                    format!(
                        "/plans/{code}/registries/projects/record?key={}",
                        crate::auth::url_encode(p)
                    )
                } else {
                    String::new()
                },
            )
        }),
        areas,
        manages: sess.principal.manages_market(&doc.area),
        message,
        errors,
        values,
    })
}

/// `GET /plans/{plan}/market/challenges/{id}`
pub async fn challenge_page(
    State(st): State<AppState>,
    sess: Session,
    Path((code, id)): Path<(String, i64)>,
) -> Result<Html<String>, AppError> {
    let page = challenge_page_for(
        &st,
        &sess,
        &code,
        id,
        HashMap::new(),
        String::new(),
        Vec::new(),
    )
    .await?;
    Ok(Html(page.render()?))
}

/// `POST /plans/{plan}/market/challenges/{id}/{action}`: `apply`, `panel`,
/// `review`, `score`, `award`, `milestone`, `milestone_done`, `accept`.
pub async fn challenge_action(
    State(st): State<AppState>,
    sess: Session,
    Path((code, id, action)): Path<(String, i64, String)>,
    FormBody(f): FormBody<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let (plan, _) = crate::market::market_plan_of(&st, &sess, &code).await?;
    let (_, engine) = st.plan_and_engine(&code).await?;
    let today = st.today();
    let result = match challenge_step_of(&action, &f, &plan, today) {
        Ok(step) => {
            cases::challenge_step(&st.store, &engine, &plan, &sess.caller(), id, step, today).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("/plans/{code}/market/challenges/{id}#{action}")).into_response(),
        ),
        Err(CaseError::Market(m)) => {
            let (message, errors) = form_failure(m);
            let page = challenge_page_for(&st, &sess, &code, id, f, message, errors).await?;
            Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// A challenge's form as its typed step; a bad field is a message beside it.
fn challenge_step_of(
    action: &str,
    f: &HashMap<String, String>,
    plan: &kc_domain::Plan,
    today: NaiveDate,
) -> Result<cases::ChallengeStep, CaseError> {
    use cases::ChallengeStep as S;
    let on = |k: &'static str| {
        day(f.get(k), today).map_err(|m| {
            CaseError::from(MarketError::Fields(vec![FieldError {
                field: k,
                message: m,
            }]))
        })
    };
    let text = |k: &str| get(f, k).to_string();
    Ok(match action {
        "apply" => S::Apply {
            solver: text("solver"),
            organization: text("organization"),
            proposal: text("proposal"),
        },
        "panel" => S::Panel {
            expert: text("expert"),
            declared: text("declared"),
        },
        "review" => S::Review,
        "score" => {
            let mut errs = Vec::new();
            let points: Vec<f64> = plan
                .market
                .challenge
                .criteria
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let raw = f.get(&format!("p{i}")).map(|s| s.trim()).unwrap_or("");
                    raw.parse::<f64>()
                        .ok()
                        .filter(|p| p.is_finite())
                        .unwrap_or_else(|| {
                            errs.push(FieldError {
                                field: "points",
                                message: format!("“{}”的得分“{raw}”不是数字", c.name),
                            });
                            f64::NAN
                        })
                })
                .collect();
            if !errs.is_empty() {
                return Err(MarketError::Fields(errs).into());
            }
            S::Score {
                application: get(f, "application").trim().parse().unwrap_or(0),
                expert: text("expert"),
                points,
            }
        }
        "award" => S::Award {
            on: on("awarded_on")?,
        },
        "milestone" => S::Milestone {
            title: text("milestone_title"),
            due_on: text("due_on"),
        },
        "milestone_done" => S::MilestoneDone {
            index: get(f, "index").trim().parse().unwrap_or(usize::MAX),
            on: on("done_on")?,
            note: text("note"),
        },
        "accept" => S::Accept {
            on: on("accepted_on")?,
            passed: get(f, "passed") == "1",
            enterprise_opinion: text("enterprise_opinion"),
            note: text("note"),
            project_area: text("project_area"),
        },
        other => return Err(CaseError::NotFound(format!("没有“{other}”这个操作"))),
    })
}

/// `GET /api/v1/plans/{plan}/market/challenges`
pub async fn challenges_api(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (plan, _) = crate::market::market_plan_of(&st, &sess, &code).await?;
    let list = cases::challenges(&st.store).await?;
    Ok(Json(json!({
        "rules": plan.market.challenge,
        "challenges": list.iter().map(|c| json!({
            "id": c.case.id,
            "standings": c.doc.standings(&plan.market.challenge),
            "challenge": c.doc,
        })).collect::<Vec<_>>()
    })))
}

// ---- events -------------------------------------------------------------------------------------

pub struct EventRow {
    pub key: String,
    pub name: String,
    pub kind: String,
    pub held_on: String,
    pub market: String,
    pub participants: String,
    pub intents: String,
    pub deals: usize,
    pub signed: usize,
    pub amount: String,
}

#[derive(Template)]
#[template(path = "events.html")]
pub struct EventsPage {
    pub nav: PlanHead,
    pub rows: Vec<EventRow>,
    pub year: String,
}

/// `GET /plans/{plan}/market/events?year=&format=xlsx`: roadshows and
/// matchmaking events from the events registry, with the deals brokers
/// took from each and the contracts those were signed into.
pub async fn events_page(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    let (plan, nav) = crate::market::market_plan_of(&st, &sess, &code).await?;
    let year = q.get("year").cloned().unwrap_or_default();
    let deals = cases::deals(&st.store).await?;
    let (_, engine) = st.plan_and_engine(&code).await?;
    let e = engine.read().await;
    let def = &registry::EVENTS;
    let mut rows: Vec<EventRow> = e
        .search("events", &year, None)
        .into_iter()
        .filter_map(|row| e.record("events", row))
        .filter(|r| cases::MARKET_EVENTS.contains(&r.get(def, "type").display().as_str()))
        .filter(|r| year.is_empty() || r.get(def, "held_on").display().starts_with(&year))
        .map(|r| {
            let key = r.key(def);
            let from: Vec<&Loaded<Deal>> = deals.iter().filter(|d| d.doc.event == key).collect();
            let signed: Vec<f64> = from
                .iter()
                .filter_map(|d| d.doc.contract.as_ref().map(|c| c.amount))
                .collect();
            EventRow {
                name: r.get(def, "name").display(),
                kind: r.get(def, "type").display(),
                held_on: r.get(def, "held_on").display(),
                market: area_name(&plan, &r.get(def, "area").display()),
                participants: r.get(def, "participants").display(),
                intents: r.get(def, "deals").display(),
                deals: from.len(),
                signed: signed.len(),
                amount: if signed.is_empty() {
                    String::new()
                } else {
                    crate::view::num(signed.iter().sum::<f64>(), 2)
                },
                key,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.held_on.cmp(&a.held_on).then(a.name.cmp(&b.name)));
    if q.get("format").map(String::as_str) == Some("xlsx") {
        use kc_io::Cell;
        let num = |s: &str| s.parse().map_or(Cell::Empty, Cell::Number);
        let table: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                vec![
                    Cell::Text(r.name.clone()),
                    Cell::Text(r.kind.clone()),
                    Cell::Text(r.held_on.clone()),
                    Cell::Text(r.market.clone()),
                    num(&r.participants),
                    num(&r.intents),
                    Cell::Number(r.deals as f64),
                    Cell::Number(r.signed as f64),
                    num(&r.amount),
                ]
            })
            .collect();
        return crate::registries::table_download(
            &st,
            &sess,
            "market:events",
            "路演与对接活动",
            &[
                "活动名称",
                "类型",
                "举办日期",
                "举办地区",
                "参加人数",
                "达成意向数",
                "经纪人承接对接",
                "签约",
                "签约金额（万元）",
            ],
            &table,
        )
        .await;
    }
    Ok(Html(EventsPage { nav, rows, year }.render()?).into_response())
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/plans/{plan}/market/deals",
            get(self::deals_page).post(self::open_deal),
        )
        .route("/plans/{plan}/market/deals/{id}", get(self::deal_page))
        .route("/plans/{plan}/market/events", get(self::events_page))
        .route(
            "/plans/{plan}/market/deals/{id}/{action}",
            post(self::deal_action),
        )
        .route("/api/v1/plans/{plan}/market/deals", get(self::deals_api))
        .route(
            "/plans/{plan}/market/challenges",
            get(self::challenges_page).post(self::challenge_publish),
        )
        .route(
            "/plans/{plan}/market/challenges/new",
            get(self::challenge_new),
        )
        .route(
            "/plans/{plan}/market/challenges/{id}",
            get(self::challenge_page),
        )
        .route(
            "/plans/{plan}/market/challenges/{id}/{action}",
            post(self::challenge_action),
        )
        .route(
            "/api/v1/plans/{plan}/market/challenges",
            get(self::challenges_api),
        )
}
