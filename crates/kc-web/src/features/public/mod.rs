//! The market's public face (no login): published demands and
//! achievements with search, and a form where an enterprise submits a
//! demand. A submission waits (待审核) until the market's manager
//! publishes or rejects it on the moderation page.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kc_domain::registry::{self, CellError};

use crate::auth::Session;
use crate::error::AppError;
use crate::extract::FormBody;
use crate::pages::Opt;
use crate::registries::Input;
use crate::{AppState, Params};

/// Submissions per address within an hour before the form refuses more.
const PER_HOUR: usize = 5;

/// Recent submission times per client address.
#[derive(Default)]
pub struct Recent(Mutex<HashMap<String, Vec<Instant>>>);

impl Recent {
    /// Records a submission unless the address already made [`PER_HOUR`]
    /// within the hour.
    fn allow(&self, ip: &str) -> bool {
        let mut m = self.0.lock().expect("the limiter's lock");
        let hour = Duration::from_secs(3600);
        m.retain(|_, v| {
            v.retain(|t| t.elapsed() < hour);
            !v.is_empty()
        });
        let v = m.entry(ip.to_string()).or_default();
        if v.len() >= PER_HOUR {
            return false;
        }
        v.push(Instant::now());
        true
    }
}

/// The plan the public pages belong to: the first one loaded.
async fn public_plan(st: &AppState) -> Result<kc_app::store::StoredPlan, AppError> {
    st.store
        .plans()
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::NotFound("尚未载入规划".into()))
}

pub struct PublicHit {
    pub kind: &'static str,
    pub title: kc_search::Marked,
    pub body: kc_search::Marked,
    pub tags: String,
}

#[derive(Template)]
#[template(path = "public_market.html")]
pub struct PublicMarket {
    pub city: String,
    pub q: String,
    pub kinds: Vec<Opt>,
    pub total: usize,
    pub hits: Vec<PublicHit>,
    pub message: String,
    pub submitted: bool,
}

/// `GET /public/market?q=&kind=`: published listings only.
pub async fn market(State(st): State<AppState>, q: Params) -> Result<Response, AppError> {
    let stored = public_plan(&st).await?;
    crate::market::fresh_index(&st, stored.plan.code.as_str()).await?;
    let text = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let kind = q.get("kind").cloned().unwrap_or_default();
    let kinds = match kind.as_str() {
        "demands" | "offers" => vec![kind.clone()],
        _ => vec!["demands".to_string(), "offers".to_string()],
    };
    let query = kc_search::SearchQuery {
        text: text.clone(),
        kinds,
        status: Some("已发布".into()),
        limit: 50,
        ..Default::default()
    };
    let (total, hits, message) = if text.is_empty() {
        (0, Vec::new(), String::new())
    } else {
        match st.search.search(&query) {
            Ok((n, h)) => (n, h, String::new()),
            Err(kc_search::SearchError::Index(e)) => return Err(AppError::Internal(e.to_string())),
            Err(e) => (0, Vec::new(), e.to_string()),
        }
    };
    let plan = &stored.plan;
    let page = PublicMarket {
        city: plan.city.clone(),
        q: text,
        kinds: [
            ("", "需求和成果"),
            ("demands", "技术需求"),
            ("offers", "科技成果"),
        ]
        .iter()
        .map(|(v, l)| Opt {
            value: v.to_string(),
            label: l.to_string(),
            selected: *v == kind,
        })
        .collect(),
        total,
        hits: hits
            .into_iter()
            .map(|h| PublicHit {
                kind: if h.kind == "demands" {
                    "技术需求"
                } else {
                    "科技成果"
                },
                tags: [
                    h.field.as_str(),
                    h.cluster.as_str(),
                    if h.area.is_empty() {
                        "市大市场"
                    } else {
                        plan.unit_name(&h.area)
                    },
                ]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
                title: h.title_marks,
                body: h.body_marks,
            })
            .collect(),
        submitted: q.contains_key("submitted"),
        message,
    };
    let status = if page.message.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, Html(page.render()?)).into_response())
}

use kc_app::market::PUBLIC_FIELDS;

#[derive(Template)]
#[template(path = "public_submit.html")]
pub struct PublicSubmit {
    pub city: String,
    pub inputs: Vec<Input>,
    pub message: String,
}

fn public_inputs(
    plan: &kc_domain::Plan,
    values: &HashMap<String, String>,
    errors: &[CellError],
) -> Vec<Input> {
    let mut inputs = crate::registries::inputs(
        &registry::DEMANDS,
        Some(&PUBLIC_FIELDS),
        plan,
        kc_app::registries::catalogue(),
        values,
        errors,
    );
    for i in &mut inputs {
        // An enterprise names its own county, and a contact is how brokers
        // reach it; both are optional in the registry itself.
        if matches!(i.code, "area" | "contact") {
            i.required = true;
        }
        if i.code == "area" {
            i.options.retain(|o| o.value != registry::OUTSIDE);
            i.hint.clear();
        }
    }
    inputs
}

/// `GET /public/market/submit`
pub async fn submit_form(State(st): State<AppState>) -> Result<Html<String>, AppError> {
    let stored = public_plan(&st).await?;
    Ok(Html(
        PublicSubmit {
            city: stored.plan.city.clone(),
            inputs: public_inputs(&stored.plan, &HashMap::new(), &[]),
            message: String::new(),
        }
        .render()?,
    ))
}

/// `POST /public/market/submit`: checks the demand like any registry
/// record, stores it as 待审核 under a generated number, and tells the
/// market's managers on the moderation page. A filled-in hidden field
/// (`website`) marks a robot; an address may submit a few per hour.
pub async fn submit(
    State(st): State<AppState>,
    ConnectInfo(addr): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    FormBody(f): FormBody<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let stored = public_plan(&st).await?;
    let plan = &stored.plan;
    let mut ext = axum::http::Extensions::new();
    ext.insert(ConnectInfo(addr));
    let ip = crate::auth::client_ip(&ext, &headers, &st.security.trusted_proxies);
    if f.get("website").is_some_and(|w| !w.is_empty()) {
        // Robots get the same answer as people and nothing is stored.
        return Ok(Redirect::to("/public/market?submitted=1").into_response());
    }
    let (_, engine) = st.plan_and_engine(plan.code.as_str()).await?;
    let rec = {
        let mut e = engine.write().await;
        let admit = || st.public_posts.allow(&ip);
        match kc_app::market::submit_public_demand(
            &st.store,
            &mut e,
            plan,
            &ip,
            &f,
            chrono::Utc::now(),
            admit,
        )
        .await
        {
            Ok(rec) => rec,
            Err(kc_app::registries::RecordCmdError::Invalid(errors)) => {
                return refuse(plan, &f, &errors);
            }
            Err(other) => return Err(other.into()),
        }
    };
    crate::market::after_save(&st, &registry::DEMANDS, &rec);
    Ok(Redirect::to("/public/market?submitted=1").into_response())
}

fn refuse(
    plan: &kc_domain::Plan,
    f: &HashMap<String, String>,
    errors: &[CellError],
) -> Result<Response, AppError> {
    let page = PublicSubmit {
        city: plan.city.clone(),
        inputs: public_inputs(plan, f, errors),
        message: "请按提示修改后重新提交，已填写的内容都保留着".into(),
    };
    Ok((StatusCode::BAD_REQUEST, Html(page.render()?)).into_response())
}

// ---- moderation -----------------------------------------------------------------------------------

pub struct PendingView {
    pub reg: &'static str,
    pub kind: &'static str,
    pub key: String,
    pub title: String,
    pub body: String,
    pub who: String,
    pub market: String,
    pub duplicates: Vec<String>,
}

#[derive(Template)]
#[template(path = "moderation.html")]
pub struct ModerationPage {
    pub nav: crate::workflow::PlanHead,
    pub rows: Vec<PendingView>,
}

/// `GET /plans/{plan}/market/moderation`: listings waiting (待审核) in the
/// markets the user manages, each with possible duplicates.
pub async fn moderation(
    State(st): State<AppState>,
    sess: Session,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Result<Html<String>, AppError> {
    let (plan, nav) = crate::market::market_plan_of(&st, &sess, &code).await?;
    sess.require(
        sess.principal.is_coordinator() || sess.principal.edits_records(),
        "审核技术市场发布",
    )?;
    crate::market::fresh_index(&st, &code).await?;
    let (_, engine) = st.plan_and_engine(&code).await?;
    let e = engine.read().await;
    let mut rows = Vec::new();
    for (def, kind) in [
        (&registry::DEMANDS, "技术需求"),
        (&registry::OFFERS, "科技成果"),
    ] {
        for row in e.search(def.code, "待审核", None) {
            let Some(r) = e.record(def.code, row) else {
                continue;
            };
            if r.get(def, "status").display() != "待审核" {
                continue;
            }
            let area = r.get(def, "area").display();
            if !sess.principal.manages_market(&area) {
                continue;
            }
            let duplicates = kc_app::market::listing(def, &r)
                .map(|l| st.search.duplicates(&l).unwrap_or_default())
                .unwrap_or_default()
                .into_iter()
                .map(|h| format!("{}（{}）", h.title, h.key))
                .collect();
            let (body, who) = if def.code == "demands" {
                (
                    r.get(def, "description").display(),
                    format!(
                        "{} {}",
                        r.get(def, "enterprise").display(),
                        r.get(def, "contact").display()
                    ),
                )
            } else {
                (
                    r.get(def, "abstract").display(),
                    r.get(def, "owner").display(),
                )
            };
            rows.push(PendingView {
                reg: def.code,
                kind,
                key: r.key(def),
                title: r.get(def, "title").display(),
                body,
                who,
                market: if area.is_empty() {
                    "市大市场".into()
                } else {
                    plan.unit_name(&area).to_string()
                },
                duplicates,
            });
        }
    }
    Ok(Html(ModerationPage { nav, rows }.render()?))
}

/// A moderation decision as the form sends it.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ModerationForm {
    reg: String,
    key: String,
    /// `publish` or `reject`, from the button pressed.
    decision: String,
    reason: String,
}

/// `POST /plans/{plan}/market/moderation` (`reg`, `key`, `decision` =
/// publish|reject, `reason`): publishing sets 已发布 and today's date;
/// rejecting closes the listing and needs a reason.
pub async fn moderate(
    State(st): State<AppState>,
    sess: Session,
    axum::extract::Path(code): axum::extract::Path<String>,
    FormBody(f): FormBody<ModerationForm>,
) -> Result<Response, AppError> {
    let (plan, _) = crate::market::market_plan_of(&st, &sess, &code).await?;
    let decision = match f.decision.as_str() {
        "publish" => kc_app::market::Decision::Publish,
        "reject" => kc_app::market::Decision::Reject,
        _ => return Err(AppError::BadRequest("请选择发布或不予发布".into())),
    };
    let (_, engine) = st.plan_and_engine(&code).await?;
    let mut e = engine.write().await;
    let (def, new) = kc_app::market::moderate(
        &st.store,
        &mut e,
        &plan,
        &sess.caller(),
        kc_app::market::Moderate {
            reg: &f.reg,
            key: &f.key,
            decision,
            reason: &f.reason,
        },
        st.today(),
    )
    .await?;
    drop(e);
    crate::market::after_save(&st, def, &new);
    Ok(Redirect::to(&format!("/plans/{code}/market/moderation")).into_response())
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/guide", get(crate::account::guide))
        .route("/public/market", get(self::market))
        .route(
            "/public/market/submit",
            get(self::submit_form).post(self::submit),
        )
        .route(
            "/plans/{plan}/market/moderation",
            get(self::moderation).post(self::moderate),
        )
}

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    routes()
}
