//! The warning list, the area ranking and the leader's one-screen
//! dashboard, as pages and as JSON.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Html;
use kc_app::Snapshot;
use kc_app::analytics::{self, AreaRank, Level, Warning};
use kc_domain::plan::fmt_num;
use kc_domain::ranking::RankingSpec;
use serde_json::{Value, json};

use crate::auth::Session;
use crate::error::{ApiError, AppError};
use crate::pages::Nav;
use crate::view::{StatusCount, TargetRow, status_counts};
use crate::{AppState, Params, load_snapshot};

fn render<T: Template>(t: &T) -> Result<Html<String>, AppError> {
    Ok(Html(t.render()?))
}

/// The snapshot (for the date and the navigation) and the warnings: the
/// city's, or with `scope=area:…` where `by_area` allows it, that area's
/// against its own targets.
async fn city_and_warnings(
    st: &AppState,
    sess: &Session,
    code: &str,
    q: &Params,
    by_area: bool,
) -> Result<
    (
        std::sync::Arc<Snapshot>,
        Vec<Warning>,
        Vec<(chrono::NaiveDate, Vec<(String, Level)>)>,
    ),
    AppError,
> {
    let mut q = q.0.clone();
    // Rankings are the city's; warnings are the city's or one area's (a
    // department's own figures have no warnings of their own).
    let area = q.get("scope").is_some_and(|s| s.starts_with("area:"));
    if !(by_area && area) {
        q.remove("scope");
    }
    let snap = load_snapshot(st, sess, code, &q).await?;
    let (now, history) = analytics::warnings(&snap.plan, &snap.set, snap.as_of);
    Ok((snap, now, history))
}

/// The ranking at the snapshot's date, from each area's series.
async fn ranking_of(
    st: &AppState,
    snap: &Snapshot,
) -> Result<Option<analytics::Ranking>, AppError> {
    if snap.plan.ranking.is_none() {
        return Ok(None);
    }
    let (_, engine) = st.plan_and_engine(snap.plan.code.as_str()).await?;
    let sets = analytics::area_series(&snap.plan, &snap.records, Some(&*engine.read().await));
    Ok(analytics::ranking(&snap.plan, &sets, snap.as_of))
}

// ---- warnings ------------------------------------------------------------------------------

pub struct WarningView {
    pub code: String,
    pub name: String,
    pub href: String,
    pub level: &'static str,
    pub class: &'static str,
    pub lag: String,
    pub since: String,
    pub units: String,
    pub target: String,
    pub value: String,
    pub provisional: bool,
}

fn warning_views(snap: &Snapshot, list: &[Warning], nav: &Nav) -> Vec<WarningView> {
    list.iter()
        .filter_map(|w| {
            let t = snap.plan.target(&w.target)?;
            let row = TargetRow::new(snap, t);
            Some(WarningView {
                code: w.target.clone(),
                name: t.name.clone(),
                href: format!("/plans/{}/targets/{}{}", snap.plan.code, t.code, nav.query),
                level: w.level.zh(),
                class: w.level.css(),
                lag: w
                    .lag
                    .map(|l| format!("{} 个百分点", fmt_num(l, 1)))
                    .unwrap_or_else(|| "—".into()),
                since: w.since.to_string(),
                units: w.units.join("、"),
                target: t.describe(),
                provisional: row.provisional,
                value: row.value,
            })
        })
        .collect()
}

/// One quarter end of the warning history.
pub struct HistoryRow {
    pub date: String,
    pub red: usize,
    pub yellow: usize,
    /// Target codes and their level's CSS class.
    pub targets: Vec<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "warnings.html")]
pub struct WarningsPage {
    pub nav: Nav,
    pub rows: Vec<WarningView>,
    pub history: Vec<HistoryRow>,
    pub rule: String,
}

/// `GET /plans/{plan}/warnings?as_of=`
pub async fn warnings(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let (snap, now, history) = city_and_warnings(&st, &sess, &code, &q, true).await?;
    let nav = Nav::new(&snap, &sess).at(format!("/plans/{}/warnings", snap.plan.code));
    let rows = warning_views(&snap, &now, &nav);
    let history = history
        .into_iter()
        .rev()
        .map(|(d, list)| {
            let red = list.iter().filter(|(_, l)| *l == Level::Red).count();
            HistoryRow {
                date: d.to_string(),
                red,
                yellow: list.len() - red,
                targets: list.into_iter().map(|(t, l)| (t, l.css())).collect(),
            }
        })
        .collect();
    let r = snap.plan.status_rule;
    render(&WarningsPage {
        rule: format!(
            "按目标状态分级：落后于序时进度超过 {} 个百分点为黄色预警（需关注），超过 {} 个百分点为红色预警（滞后）；数据不足的目标不预警。",
            fmt_num(r.on_track_lag, 1),
            fmt_num(r.at_risk_lag, 1)
        ),
        nav,
        rows,
        history,
    })
}

pub async fn warnings_api(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    let (snap, now, history) = city_and_warnings(&st, &sess, &code, &q, true).await?;
    Ok(Json(json!({
        "plan": snap.plan.code,
        "as_of": snap.as_of,
        "warnings": now,
        "history": history.iter().map(|(d, l)| json!({"date": d, "warnings": l.iter().map(|(t, lv)| json!({"target": t, "level": lv})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
    })))
}

// ---- ranking --------------------------------------------------------------------------------

pub struct ItemView {
    pub code: String,
    pub label: String,
    pub weight: String,
    pub direction: &'static str,
}

pub struct RankView {
    pub rank: usize,
    pub change: String,
    pub change_class: &'static str,
    pub name: String,
    pub area: String,
    pub composite: String,
    /// Raw value and score per item.
    pub cells: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "ranking.html")]
pub struct RankingPage {
    pub nav: Nav,
    pub name: String,
    pub method: String,
    pub tie_break: String,
    pub note: String,
    pub previous: String,
    pub items: Vec<ItemView>,
    pub rows: Vec<RankView>,
}

fn rank_views(rows: &[AreaRank]) -> Vec<RankView> {
    rows.iter()
        .map(|r| {
            let (change, class) = match r.previous_rank {
                Some(p) if p > r.rank => (format!("↑{}", p - r.rank), "up"),
                Some(p) if p < r.rank => (format!("↓{}", r.rank - p), "down"),
                Some(_) => ("—".to_string(), ""),
                None => ("新".to_string(), ""),
            };
            RankView {
                rank: r.rank,
                change,
                change_class: class,
                name: r.name.clone(),
                area: r.area.clone(),
                composite: fmt_num(r.composite, 2),
                cells: r
                    .raw
                    .iter()
                    .zip(&r.scores)
                    .map(|(v, s)| {
                        (
                            v.map(|x| fmt_num(x, 2)).unwrap_or_else(|| "无数据".into()),
                            fmt_num(*s, 2),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

fn item_views(snap: &Snapshot, spec: &RankingSpec) -> Vec<ItemView> {
    spec.items
        .iter()
        .map(|it| {
            let ind = snap.plan.indicator(it.indicator.as_str());
            ItemView {
                code: it.code.to_string(),
                label: match ind {
                    Some(i) => format!("{}（{}）", i.name, it.basis.zh(i.measure)),
                    None => it.indicator.to_string(),
                },
                weight: fmt_num(it.weight, 2),
                direction: if it.higher_is_better {
                    "越高越好"
                } else {
                    "越低越好"
                },
            }
        })
        .collect()
}

/// `GET /plans/{plan}/ranking?as_of=`
pub async fn ranking(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let (snap, _, _) = city_and_warnings(&st, &sess, &code, &q, false).await?;
    let Some((spec, rows, previous)) = ranking_of(&st, &snap).await? else {
        return Err(AppError::NotFound(
            "本规划没有规定县区排名（[ranking]）".into(),
        ));
    };
    let nav = Nav::new(&snap, &sess).at(format!("/plans/{}/ranking", snap.plan.code));
    let total: f64 = spec.items.iter().map(|i| i.weight).sum();
    render(&RankingPage {
        name: spec.name.clone(),
        method: format!(
            "{}。综合得分 = Σ（各项得分 × 权重）÷ 权重合计（{}）。",
            spec.normalization.zh(),
            fmt_num(total, 2)
        ),
        tie_break: if spec.tie_break.is_empty() {
            "综合得分相同者并列。".into()
        } else {
            format!(
                "综合得分相同时，依次比较 {} 的得分，仍相同者并列。",
                spec.tie_break
                    .iter()
                    .map(|c| c.to_string())
                    .collect::<Vec<_>>()
                    .join("、")
            )
        },
        note: spec.note.clone(),
        previous: previous.to_string(),
        items: item_views(&snap, &spec),
        rows: rank_views(&rows),
        nav,
    })
}

pub async fn ranking_api(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    let (snap, _, _) = city_and_warnings(&st, &sess, &code, &q, false).await?;
    let Some((spec, rows, previous)) = ranking_of(&st, &snap).await? else {
        return Err(AppError::NotFound("本规划没有规定县区排名（[ranking]）".into()).into());
    };
    Ok(Json(json!({
        "plan": snap.plan.code,
        "as_of": snap.as_of,
        "previous": previous,
        "method": spec,
        "rows": rows,
    })))
}

// ---- leader dashboard --------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub nav: Nav,
    pub counts: Vec<StatusCount>,
    pub total: usize,
    pub goals: Vec<TargetRow>,
    pub risks: Vec<WarningView>,
    pub red: usize,
    pub yellow: usize,
    pub ranking_name: String,
    pub rows: Vec<RankView>,
}

/// `GET /plans/{plan}/dashboard`: one screen for leaders — headline goals,
/// status counts, the biggest risks and the ranking.
pub async fn dashboard(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let (snap, now, _) = city_and_warnings(&st, &sess, &code, &q, true).await?;
    let nav = Nav::new(&snap, &sess).at(format!("/plans/{}/dashboard", snap.plan.code));
    let ranking = ranking_of(&st, &snap).await?;
    let plan = &snap.plan;
    let mut seen = std::collections::HashSet::new();
    let goals = plan
        .goals
        .iter()
        .flat_map(|g| g.targets.iter())
        .filter(|t| seen.insert(t.as_str().to_string()))
        .filter_map(|t| plan.target(t.as_str()))
        .map(|t| TargetRow::new(&snap, t))
        .collect();
    let red = now.iter().filter(|w| w.level == Level::Red).count();
    let yellow = now.len() - red;
    let risks = warning_views(&snap, &now[..now.len().min(6)], &nav);
    let (ranking_name, rows) = match &ranking {
        Some((spec, rows, _)) => (spec.name.clone(), rank_views(rows)),
        None => (String::new(), Vec::new()),
    };
    render(&DashboardPage {
        counts: status_counts(snap.all_counts()),
        total: plan.targets.len(),
        goals,
        risks,
        red,
        yellow,
        ranking_name,
        rows,
        nav,
    })
}

// ---- area page ----------------------------------------------------------------------------------

pub struct ShareRow {
    pub indicator: String,
    pub basis: &'static str,
    pub value: String,
    pub city: String,
    pub share: String,
    pub rank: String,
}

#[derive(Template)]
#[template(path = "area.html")]
pub struct AreaPage {
    pub nav: Nav,
    pub area: String,
    pub area_name: String,
    pub rank: String,
    pub composite: String,
    pub change: String,
    pub ranking_name: String,
    pub rows: Vec<ShareRow>,
    /// The area's own targets (allocated shares and the city's rates) as
    /// judged in the area's scope.
    pub own: Vec<TargetRow>,
    pub own_counts: Vec<StatusCount>,
    pub red: usize,
    pub yellow: usize,
}

/// `GET /plans/{plan}/areas/{area}`: one area — its place in the ranking,
/// and for every indicator counted by area its value, its share of the
/// city's total and its rank among the areas.
pub async fn area(
    State(st): State<AppState>,
    sess: Session,
    Path((code, area)): Path<(String, String)>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let (snap, _, _) = city_and_warnings(&st, &sess, &code, &q, false).await?;
    let plan = &snap.plan;
    let idx = plan
        .areas
        .iter()
        .position(|a| a.code.as_str() == area)
        .ok_or_else(|| AppError::NotFound(format!("本规划中没有地区“{area}”")))?;
    let (_, engine) = st.plan_and_engine(plan.code.as_str()).await?;
    let sets = analytics::area_series(plan, &snap.records, Some(&*engine.read().await));
    let by_indicator = plan.targets_by_indicator();
    let mut rows = Vec::new();
    for ind in plan.indicators.iter().filter(|i| i.additive) {
        let values: Vec<Option<f64>> = sets
            .iter()
            .map(|s| {
                kc_domain::ranking::raw_value(
                    ind,
                    s.get(ind.code.as_str()),
                    kc_domain::ranking::Basis::Value,
                    snap.as_of,
                )
            })
            .collect();
        let Some(mine) = values[idx] else { continue };
        let city = kc_domain::ranking::raw_value(
            ind,
            snap.set.get(ind.code.as_str()),
            kc_domain::ranking::Basis::Value,
            snap.as_of,
        );
        // Lower is better where the plan's target on it points down (清零).
        let down = by_indicator
            .get(ind.code.as_str())
            .and_then(|ts| ts.first())
            .is_some_and(|t| t.direction == kc_domain::plan::Direction::Down);
        let better = values
            .iter()
            .flatten()
            .filter(|v| if down { **v < mine } else { **v > mine })
            .count();
        let dec = ind.decimals as usize;
        rows.push(ShareRow {
            indicator: ind.name.clone(),
            basis: kc_domain::ranking::Basis::Value.zh(ind.measure),
            value: format!("{} {}", fmt_num(mine, dec), ind.unit),
            city: city
                .map(|c| format!("{} {}", fmt_num(c, dec), ind.unit))
                .unwrap_or_else(|| "—".into()),
            share: match city {
                Some(c) if c.abs() > f64::EPSILON => format!("{}%", fmt_num(mine / c * 100.0, 1)),
                _ => "—".into(),
            },
            rank: format!("{} / {}", better + 1, values.iter().flatten().count()),
        });
    }
    // The same series serve the ranking: computed once.
    let ranking = analytics::ranking(plan, &sets, snap.as_of);
    let (ranking_name, rank, composite, change) = match &ranking {
        Some((spec, rs, _)) => match rs.iter().find(|r| r.area == area) {
            Some(r) => (
                spec.name.clone(),
                format!("{} / {}", r.rank, rs.len()),
                fmt_num(r.composite, 2),
                match r.previous_rank {
                    Some(p) if p > r.rank => format!("比上季度末前移 {} 位", p - r.rank),
                    Some(p) if p < r.rank => format!("比上季度末后退 {} 位", r.rank - p),
                    Some(_) => "与上季度末持平".into(),
                    None => String::new(),
                },
            ),
            None => (spec.name.clone(), "—".into(), "—".into(), String::new()),
        },
        None => (String::new(), String::new(), String::new(), String::new()),
    };
    let a = &plan.areas[idx];
    // The area judged on its own targets, at the same date.
    let mut aq = q.0.clone();
    aq.insert("scope".into(), format!("area:{}", a.code));
    aq.insert("as_of".into(), snap.as_of.to_string());
    let own_snap = load_snapshot(&st, &sess, &code, &aq).await?;
    let own: Vec<TargetRow> = own_snap
        .plan
        .targets
        .iter()
        .map(|t| TargetRow::new(&own_snap, t))
        .collect();
    let (warned, _) = analytics::warnings(&own_snap.plan, &own_snap.set, own_snap.as_of);
    let red = warned.iter().filter(|w| w.level == Level::Red).count();
    let nav = Nav::new(&snap, &sess).at(format!("/plans/{}/areas/{}", plan.code, a.code));
    render(&AreaPage {
        own_counts: status_counts(own_snap.all_counts()),
        own,
        red,
        yellow: warned.len() - red,
        area: a.code.to_string(),
        area_name: a.name.clone(),
        rank,
        composite,
        change,
        ranking_name,
        rows,
        nav,
    })
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/plans/{plan}/dashboard", get(self::dashboard))
        .route("/plans/{plan}/warnings", get(self::warnings))
        .route("/plans/{plan}/ranking", get(self::ranking))
        .route("/plans/{plan}/ranking/own", get(self::own_ranking))
        .route(
            "/api/v1/plans/{plan}/ranking/own",
            get(self::own_ranking_api),
        )
        .route("/plans/{plan}/areas/{area}", get(self::area))
        .route("/api/v1/plans/{plan}/warnings", get(self::warnings_api))
        .route("/api/v1/plans/{plan}/ranking", get(self::ranking_api))
}

// ---- ranking on own targets ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "ranking_own.html")]
pub struct OwnRankingPage {
    pub nav: Nav,
    pub rows: Vec<analytics::OwnRank>,
}

impl OwnRankingPage {
    fn score(v: &f64) -> String {
        fmt_num(*v, 1)
    }
}

/// Every area's snapshot at the city's date.
async fn own_rows(
    st: &AppState,
    sess: &Session,
    code: &str,
    q: &Params,
) -> Result<(std::sync::Arc<Snapshot>, Vec<analytics::OwnRank>), AppError> {
    let (snap, _, _) = city_and_warnings(st, sess, code, q, false).await?;
    let mut snaps = Vec::new();
    for a in &snap.plan.areas {
        let mut aq = q.0.clone();
        aq.insert("scope".into(), format!("area:{}", a.code));
        aq.insert("as_of".into(), snap.as_of.to_string());
        snaps.push(load_snapshot(st, sess, code, &aq).await?);
    }
    let refs: Vec<&Snapshot> = snaps.iter().map(|s| &**s).collect();
    Ok((snap, analytics::own_target_ranking(&refs)))
}

/// `GET /plans/{plan}/ranking/own`: areas ranked on their own targets.
pub async fn own_ranking(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let (snap, rows) = own_rows(&st, &sess, &code, &q).await?;
    let nav = Nav::new(&snap, &sess).at(format!("/plans/{}/ranking/own", snap.plan.code));
    render(&OwnRankingPage { nav, rows })
}

pub async fn own_ranking_api(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    let (snap, rows) = own_rows(&st, &sess, &code, &q).await?;
    Ok(Json(json!({
        "as_of": snap.as_of,
        "method": "按本地区目标完成度：各项本地区目标完成进度（0–100%，已完成计 100%）按权重平均",
        "rows": rows,
    })))
}
