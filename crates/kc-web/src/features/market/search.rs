//! Search over the technology market's listings (demands, achievements
//! offered, experts): the page, the API, and keeping the index in step with
//! registry changes.

use std::sync::atomic::Ordering;

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kc_search::{Hit, SearchQuery};
use serde_json::{Value, json};

use crate::auth::Session;
use crate::error::{ApiError, AppError};
use crate::pages::Opt;
use crate::{AppState, Params};

/// The plan for a market page: the market's users include brokers, who
/// see no other plan data.
pub(crate) async fn market_plan_of(
    st: &AppState,
    sess: &Session,
    code: &str,
) -> Result<(kc_domain::Plan, crate::workflow::PlanHead), AppError> {
    sess.require(sess.principal.reads_market(), "使用科技大市场")?;
    crate::workflow::plan_head(st, sess, code).await
}

/// Brings the index up to date if registry writes left it stale (imports,
/// rebuilt engines), from the plan's engine.
pub(crate) async fn fresh_index(st: &AppState, plan: &str) -> Result<(), AppError> {
    if !st.search_stale.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let (_, engine) = st.plan_and_engine(plan).await?;
    let listings = kc_app::market::listings(&*engine.read().await);
    let index = st.search.clone();
    tokio::task::spawn_blocking(move || index.rebuild(listings))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(())
}

/// After a save or delete of a record: the index follows at once for the
/// searched registries.
pub(crate) fn after_save(
    st: &AppState,
    def: &kc_domain::registry::RegistryDef,
    rec: &kc_domain::registry::Record,
) {
    if let Some(l) = kc_app::market::listing(def, rec)
        && let Err(e) = st.search.upsert(&l)
    {
        tracing::warn!(error = %e, "search index update failed; rebuilding on next search");
        st.search_stale.store(true, Ordering::SeqCst);
    }
}

pub(crate) fn after_delete(st: &AppState, registry: &str, key: &str) {
    if kc_app::market::SEARCHED.contains(&registry)
        && let Err(e) = st.search.remove(registry, key)
    {
        tracing::warn!(error = %e, "search index update failed; rebuilding on next search");
        st.search_stale.store(true, Ordering::SeqCst);
    }
}

/// The search as asked, for `sess`: only the market's managers (the bureau,
/// area reporters) see demands still awaiting moderation; brokers and
/// readers see what is published.
fn query_of(
    q: &std::collections::HashMap<String, String>,
    sess: &Session,
) -> Result<SearchQuery, AppError> {
    let get = |k: &str| {
        q.get(k)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let day = |k: &str| -> Result<Option<i64>, AppError> {
        match get(k) {
            None => Ok(None),
            Some(s) => chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map(|d| {
                    Some(
                        (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date"))
                            .num_days(),
                    )
                })
                .map_err(|_| AppError::BadRequest(format!("日期“{s}”格式不正确，应为 YYYY-MM-DD"))),
        }
    };
    let kinds = match get("kind") {
        None => Vec::new(),
        Some(k) if kc_app::market::SEARCHED.contains(&k.as_str()) => vec![k],
        Some(k) => {
            return Err(AppError::BadRequest(format!(
                "类别“{k}”不正确：可选 demands、offers、experts"
            )));
        }
    };
    let min_readiness = match get("readiness") {
        None => None,
        Some(r) => Some(
            r.parse::<u64>()
                .ok()
                .filter(|n| (1..=9).contains(n))
                .ok_or_else(|| AppError::BadRequest(format!("成熟度“{r}”不正确：应为 1–9")))?,
        ),
    };
    Ok(SearchQuery {
        text: get("q").unwrap_or_default(),
        kinds,
        field: get("field"),
        cluster: get("cluster"),
        area: get("area"),
        status: get("status"),
        exclude_status: if sess.principal.edits_records() {
            Vec::new()
        } else {
            vec!["待审核".to_string()]
        },
        min_readiness,
        from: day("from")?,
        to: day("to")?,
        limit: get("limit").and_then(|l| l.parse().ok()).unwrap_or(50),
    })
}

fn search_error(e: kc_search::SearchError) -> AppError {
    match e {
        kc_search::SearchError::Index(i) => AppError::Internal(i.to_string()),
        other => AppError::BadRequest(other.to_string()),
    }
}

pub struct HitView {
    pub kind: &'static str,
    pub href: String,
    pub title: kc_search::Marked,
    pub body: kc_search::Marked,
    pub tags: String,
}

#[derive(Template)]
#[template(path = "market.html")]
pub struct MarketPage {
    pub nav: crate::workflow::PlanHead,
    pub q: String,
    pub kinds: Vec<Opt>,
    pub fields: Vec<Opt>,
    pub clusters: Vec<Opt>,
    pub areas: Vec<Opt>,
    pub readiness: String,
    pub total: usize,
    pub hits: Vec<HitView>,
    pub message: String,
    pub searched: bool,
    pub indexed: u64,
}

fn options(values: &[(&str, &str)], chosen: Option<&String>) -> Vec<Opt> {
    let mut out = vec![Opt {
        value: String::new(),
        label: "全部".into(),
        selected: chosen.is_none(),
    }];
    out.extend(values.iter().map(|(v, l)| Opt {
        value: v.to_string(),
        label: l.to_string(),
        selected: chosen.is_some_and(|c| c == v),
    }));
    out
}

fn choices(registry: &str, field: &str) -> Vec<(&'static str, &'static str)> {
    match kc_domain::registry::by_code(registry)
        .and_then(|d| d.field(field))
        .map(|f| f.ty)
    {
        Some(kc_domain::registry::FieldType::Choice(opts)) => {
            opts.iter().map(|o| (*o, *o)).collect()
        }
        _ => Vec::new(),
    }
}

/// `GET /plans/{plan}/market/search?q=&kind=&field=&cluster=&area=&readiness=&from=&to=`
pub async fn page(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    let (plan, nav) = crate::market::market_plan_of(&st, &sess, &code).await?;
    fresh_index(&st, &code).await?;
    let query = query_of(&q, &sess)?;
    let searched = q.contains_key("q");
    let (total, hits, message) = if searched {
        match st.search.search(&query) {
            Ok((n, hits)) => (n, hits, String::new()),
            Err(kc_search::SearchError::Index(e)) => return Err(AppError::Internal(e.to_string())),
            Err(e) => (0, Vec::new(), e.to_string()),
        }
    } else {
        (0, Vec::new(), String::new())
    };
    let hit_view = |h: Hit| HitView {
        kind: match h.kind.as_str() {
            "demands" => "技术需求",
            "offers" => "科技成果",
            _ => "专家",
        },
        // Only to a page the reader may open: the record for the bureau,
        // the listing's matches for a broker, nothing for an expert.
        href: if sess.principal.reads_business() {
            format!(
                "/plans/{}/registries/{}/record?key={}",
                plan.code,
                h.kind,
                crate::auth::url_encode(&h.key)
            )
        } else if h.kind == "demands" || h.kind == "offers" {
            format!(
                "/plans/{}/market/match?kind={}&key={}",
                plan.code,
                h.kind,
                crate::auth::url_encode(&h.key)
            )
        } else {
            String::new()
        },
        tags: [
            h.field.as_str(),
            h.cluster.as_str(),
            plan.unit_name(&h.area),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · "),
        title: h.title_marks,
        body: h.body_marks,
    };
    let areas: Vec<(String, String)> = plan
        .areas
        .iter()
        .map(|a| (a.code.to_string(), a.name.clone()))
        .collect();
    let area_refs: Vec<(&str, &str)> = areas
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let page = MarketPage {
        nav,
        q: query.text.clone(),
        kinds: options(
            &[
                ("demands", "技术需求"),
                ("offers", "科技成果"),
                ("experts", "专家"),
            ],
            query.kinds.first(),
        ),
        fields: options(&choices("offers", "field"), query.field.as_ref()),
        clusters: options(&choices("offers", "cluster"), query.cluster.as_ref()),
        areas: options(&area_refs, query.area.as_ref()),
        readiness: query
            .min_readiness
            .map(|r| r.to_string())
            .unwrap_or_default(),
        total,
        hits: hits.into_iter().map(hit_view).collect(),
        message,
        searched,
        indexed: st.search.len(),
    };
    let status = if page.message.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::BAD_REQUEST
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// `GET /api/v1/plans/{plan}/market/search?…`: the same as JSON.
pub async fn api(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    crate::market::market_plan_of(&st, &sess, &code).await?;
    fresh_index(&st, &code).await?;
    let query = query_of(&q, &sess)?;
    let (total, hits) = st.search.search(&query).map_err(search_error)?;
    Ok(Json(json!({ "total": total, "hits": hits })))
}

/// `POST /plans/{plan}/market/reindex`: rebuilds the index from the
/// registries (coordinator); the time it took is logged and audited.
pub async fn reindex(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    crate::market::market_plan_of(&st, &sess, &code).await?;
    sess.require(sess.principal.is_coordinator(), "重建检索索引")?;
    let started = std::time::Instant::now();
    st.search_stale.store(true, Ordering::SeqCst);
    fresh_index(&st, &code).await?;
    let ms = started.elapsed().as_millis();
    kc_app::auth::audit(
        &st.store,
        &sess.actor(),
        "search.reindex",
        "search",
        json!({"listings": st.search.len(), "ms": ms}),
    )
    .await?;
    Ok(Redirect::to(&format!("/plans/{code}/market/search?reindexed={ms}")).into_response())
}

// ---- matching ---------------------------------------------------------------------------------

#[derive(Clone)]
pub struct SuggestionView {
    pub kind: &'static str,
    /// Registry code and key of the suggestion.
    pub reg: String,
    pub key: String,
    pub href: String,
    pub title: String,
    pub why: String,
}

#[derive(Template)]
#[template(path = "match.html")]
pub struct MatchPage {
    pub nav: crate::workflow::PlanHead,
    pub title: String,
    pub kind: &'static str,
    pub back: String,
    pub rows: Vec<SuggestionView>,
    /// Experts suggested for a demand, in a list of their own.
    pub experts: Vec<SuggestionView>,
    /// The listing's key.
    pub key: String,
    /// Brokers to take a match (registry number, name).
    pub brokers: Vec<Opt>,
    /// The reader's own broker record, when they take deals as a broker.
    pub own_broker: String,
    /// Roadshows and matchmaking events a deal may come from.
    pub events: Vec<Opt>,
    pub takes_deals: bool,
    pub manages: bool,
    pub enterprises: Vec<kc_app::market::FittingEnterprise>,
    pub duplicates: Vec<SuggestionView>,
    /// Whether the semantic half of matching is on (the page says which).
    pub semantic: kc_search::SemanticStatus,
    pub min_listings: usize,
}

/// What a listing is matched against: a demand with achievements and
/// experts, an achievement with demands.
fn targets_of(kind: &str) -> Result<&'static [&'static str], AppError> {
    match kind {
        "demands" => Ok(&["offers", "experts"]),
        "offers" => Ok(&["demands"]),
        other => Err(AppError::BadRequest(format!(
            "只能为技术需求（demands）或科技成果（offers）推荐，收到“{other}”"
        ))),
    }
}

async fn suggestions(
    st: &AppState,
    code: &str,
    q: &std::collections::HashMap<String, String>,
) -> Result<(kc_search::Listing, Vec<kc_search::Suggestion>), AppError> {
    fresh_index(st, code).await?;
    let kind = q.get("kind").cloned().unwrap_or_default();
    let key = q.get("key").cloned().unwrap_or_default();
    let wanted = targets_of(&kind)?;
    let def = kc_domain::registry::by_code(&kind)
        .ok_or_else(|| AppError::NotFound("登记库不存在".into()))?;
    let (_, engine) = st.plan_and_engine(code).await?;
    let listing = {
        let e = engine.read().await;
        e.row_of(&kind, &key)
            .and_then(|row| e.record(&kind, row))
            .and_then(|r| kc_app::market::listing(def, &r))
            .ok_or_else(|| AppError::NotFound(format!("{}中没有“{key}”", def.name)))?
    };
    // Each kind ranked on its own (achievements and experts are separate
    // lists: an expert's short profile never competes with an abstract).
    let mut found = Vec::new();
    for kind in wanted {
        match st.search.similar(&listing, &[kind], 10) {
            Ok(f) => found.extend(f),
            Err(kc_search::SearchError::Empty) => {}
            Err(e) => return Err(search_error(e)),
        }
    }
    Ok((listing, found))
}

/// `GET /plans/{plan}/market/match?kind=demands|offers&key=…`: ranked
/// suggestions, each with why.
pub async fn match_page(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let (plan, nav) = crate::market::market_plan_of(&st, &sess, &code).await?;
    let (listing, found) = suggestions(&st, &code, &q).await?;
    let biz = sess.principal.reads_business();
    let href = |kind: &str, key: &str| {
        if biz {
            format!(
                "/plans/{}/registries/{}/record?key={}",
                plan.code,
                kind,
                crate::auth::url_encode(key)
            )
        } else {
            String::new()
        }
    };
    let kind_zh = |k: &str| match k {
        "demands" => "技术需求",
        "offers" => "科技成果",
        _ => "专家",
    };
    let rows: Vec<SuggestionView> = found
        .into_iter()
        .map(|s| {
            let mut why = Vec::new();
            if !s.terms.is_empty() {
                why.push(format!("共同词：{}", s.terms.join("、")));
            }
            if s.same_field {
                why.push(format!("同属{}领域", s.hit.field));
            }
            if s.same_cluster {
                why.push(format!("同属{}集群", s.hit.cluster));
            }
            // Below a quarter the model says little; the reason is left out
            // rather than shown as a weak number.
            if let Some(c) = s.similarity.filter(|c| *c >= 0.25) {
                why.push(format!("内容相近（语义相近度 {:.0}%）", c * 100.0));
            }
            SuggestionView {
                kind: kind_zh(&s.hit.kind),
                href: href(&s.hit.kind, &s.hit.key),
                reg: s.hit.kind.clone(),
                key: s.hit.key.clone(),
                title: s.hit.title,
                why: why.join("；"),
            }
        })
        .collect();
    let (_, engine) = st.plan_and_engine(&code).await?;
    let (brokers, enterprises, area, events, own_broker) = {
        let e = engine.read().await;
        let ev = &kc_domain::registry::EVENTS;
        let mut events: Vec<(String, Opt)> = e
            .search("events", "", None)
            .into_iter()
            .filter_map(|row| e.record("events", row))
            .filter(|r| {
                kc_app::cases::MARKET_EVENTS.contains(&r.get(ev, "type").display().as_str())
            })
            .map(|r| {
                let held = r.get(ev, "held_on").display();
                (
                    held.clone(),
                    Opt {
                        value: r.key(ev),
                        label: format!("{held} {}", r.get(ev, "name").display()),
                        selected: false,
                    },
                )
            })
            .collect();
        events.sort_by(|a, b| b.0.cmp(&a.0));
        let events: Vec<Opt> = events.into_iter().take(100).map(|(_, o)| o).collect();
        let mut brokers = Vec::new();
        for row in e.search("brokers", "", None).into_iter().take(500) {
            if let Some(r) = e.record("brokers", row) {
                let def = &kc_domain::registry::BROKERS;
                brokers.push(Opt {
                    value: r.key(def),
                    label: format!(
                        "{}（{}）",
                        r.get(def, "name").display(),
                        r.get(def, "agency").display()
                    ),
                    selected: false,
                });
            }
        }
        let own_broker = kc_app::cases::broker_of(&e, &sess.principal.username)
            .and_then(|k| {
                let def = &kc_domain::registry::BROKERS;
                e.row_of("brokers", &k)
                    .and_then(|r| e.record("brokers", r))
                    .map(|r| r.get(def, "name").display())
            })
            .unwrap_or_else(|| "账号尚未关联经纪人登记记录".into());
        let enterprises = if listing.kind == "offers" && biz {
            kc_app::market::fitting_enterprises(&e, &listing.cluster, 10)
        } else {
            Vec::new()
        };
        (
            brokers,
            enterprises,
            listing.area.clone(),
            events,
            own_broker,
        )
    };
    let duplicates = st
        .search
        .duplicates(&listing)
        .map_err(search_error)?
        .into_iter()
        .map(|h| SuggestionView {
            kind: kind_zh(&h.kind),
            href: href(&h.kind, &h.key),
            reg: h.kind.clone(),
            key: h.key.clone(),
            title: h.title,
            why: String::new(),
        })
        .collect();
    let page = MatchPage {
        nav,
        kind: kind_zh(&listing.kind),
        back: href(&listing.kind, &listing.key),
        title: listing.title,
        experts: rows
            .iter()
            .filter(|r| r.reg == "experts")
            .cloned()
            .collect(),
        rows: rows.into_iter().filter(|r| r.reg != "experts").collect(),
        key: listing.key.clone(),
        brokers,
        own_broker,
        events,
        takes_deals: listing.kind == "demands" && sess.principal.takes_deals(&area),
        manages: listing.kind == "demands" && sess.principal.manages_market(&area),
        enterprises,
        duplicates,
        semantic: st.search.semantic_status(),
        min_listings: kc_search::MIN_LISTINGS,
    };
    Ok(Html(page.render()?))
}

/// `GET /api/v1/plans/{plan}/market/match?kind=…&key=…`
pub async fn match_api(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    crate::market::market_plan_of(&st, &sess, &code).await?;
    let (listing, found) = suggestions(&st, &code, &q).await?;
    Ok(Json(json!({
        "kind": listing.kind,
        "key": listing.key,
        "semantic": st.search.semantic_status(),
        "suggestions": found
    })))
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/plans/{plan}/market/search", get(self::page))
        .route("/plans/{plan}/market/reindex", post(self::reindex))
        .route("/plans/{plan}/market/match", get(self::match_page))
        .route("/api/v1/plans/{plan}/market/match", get(self::match_api))
        .route("/api/v1/plans/{plan}/market/search", get(self::api))
}
