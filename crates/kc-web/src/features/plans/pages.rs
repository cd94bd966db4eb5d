//! HTML pages.

use std::collections::HashMap;

use crate::extract::FormBody;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kc_app::{RecordError, Snapshot};
use kc_domain::duty::ValueStatus;
use kc_domain::entry::{FieldError, RawEntry};
use kc_domain::plan::{DataSource, Node, Target, TargetKind};
use kc_domain::{Period, Plan, Scope, Vintage};

use crate::auth::Session;
use crate::chart;
use crate::error::AppError;
use crate::view::{self, StatusCount, TargetRow, num, status_counts};
use crate::{AppState, Params, load_snapshot};

fn render<T: Template>(t: &T) -> Result<Html<String>, AppError> {
    Ok(Html(t.render()?))
}

// ---- shared parts -----------------------------------------------------------

pub struct Opt {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The plan header, the as-of and scope selector, and the query string that
/// keeps them on every link.
pub struct Nav {
    pub plan_code: String,
    pub plan_name: String,
    pub draft: bool,
    pub status_zh: &'static str,
    pub version: i64,
    pub as_of: String,
    pub latest_data: String,
    pub scope_name: String,
    pub scopes: Vec<Opt>,
    pub query: String,
    /// The page's own path, for the as-of form.
    pub here: String,
    pub me: crate::account::Me,
    /// The plan's period has ended: its final evaluation is open.
    pub ended: bool,
}

impl Nav {
    pub(crate) fn new(snap: &Snapshot, sess: &Session) -> Nav {
        let plan = &snap.plan;
        let scope = snap.scope.to_string();
        let mut scopes = vec![Opt {
            value: "city".into(),
            label: plan.whole_label(),
            selected: snap.scope == Scope::City,
        }];
        scopes.extend(plan.areas.iter().map(|a| {
            let v = format!("area:{}", a.code);
            Opt {
                selected: v == scope,
                value: v,
                label: a.name.clone(),
            }
        }));
        Nav {
            plan_code: plan.code.to_string(),
            plan_name: plan.name.clone(),
            draft: plan.status == kc_domain::plan::PlanStatus::Draft,
            status_zh: plan.status.zh(),
            version: snap.version.version,
            as_of: snap.as_of.to_string(),
            latest_data: snap
                .latest_data
                .map(|d| d.to_string())
                .unwrap_or_else(|| "无".into()),
            scope_name: snap.scope.name(plan).to_string(),
            scopes,
            query: format!("?as_of={}&scope={}", snap.as_of, scope),
            here: format!("/plans/{}", plan.code),
            me: crate::account::Me::new(sess, Some(plan)),
            ended: plan.period.end < kc_app::time::today_beijing(),
        }
    }

    pub(crate) fn at(mut self, here: String) -> Nav {
        self.here = here;
        self
    }
}

fn unit_names(plan: &Plan, codes: &[&kc_domain::Code]) -> String {
    codes
        .iter()
        .map(|c| plan.unit_name(c.as_str()))
        .collect::<Vec<_>>()
        .join("、")
}

// ---- error page ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
}

// ---- overview -----------------------------------------------------------------------

pub struct GoalView {
    pub code: String,
    pub name: String,
    pub rows: Vec<TargetRow>,
}

pub struct NodeView {
    pub code: String,
    pub name: String,
    pub level: String,
    pub href: String,
    pub lead: String,
    /// 0 for the node itself; 1, 2… for its descendants.
    pub depth: usize,
    pub counts: Vec<StatusCount>,
    pub rows: Vec<TargetRow>,
    /// Every node below this one, in tree order, whatever the depth.
    pub descendants: Vec<NodeView>,
    /// The weighted roll-up of the targets under the node, in words.
    pub rollup: String,
    pub rollup_class: &'static str,
}

/// A roll-up in words: 综合完成度 72.3%（序时 75.0%）.
pub(crate) fn rollup_text(snap: &Snapshot, targets: &[&Target]) -> (String, &'static str) {
    let items = targets
        .iter()
        .filter_map(|t| snap.eval(t.code.as_str()).map(|e| (*t, e)));
    let r = kc_domain::rollup::rollup(items, &snap.plan.status_rule);
    match (r.completion, r.expected) {
        (Some(c), Some(e)) => (
            format!(
                "加权综合完成度 {}%（序时 {}%，计入 {} 项{}）",
                num(c, 1),
                num(e, 1),
                r.counted,
                if r.left_out > 0 {
                    format!("，{} 项无进度数据未计入", r.left_out)
                } else {
                    String::new()
                }
            ),
            view::status_class(r.status),
        ),
        _ => ("暂无可汇总的进度数据".into(), view::status_class(r.status)),
    }
}

impl NodeView {
    fn new(snap: &Snapshot, n: &Node) -> NodeView {
        let mut view = NodeView::flat(snap, n, 0);
        NodeView::collect(snap, n.code.as_str(), 1, &mut view.descendants);
        view
    }

    /// The node's own figures, without descendants.
    fn flat(snap: &Snapshot, n: &Node, depth: usize) -> NodeView {
        let plan = &snap.plan;
        let targets = plan.targets_under(n.code.as_str());
        let under: Vec<&str> = targets.iter().map(|t| t.code.as_str()).collect();
        let (rollup, rollup_class) = rollup_text(snap, &targets);
        NodeView {
            rollup,
            rollup_class,
            code: n.code.to_string(),
            name: n.name.clone(),
            level: n.level.clone(),
            href: format!("/plans/{}/nodes/{}", plan.code, n.code),
            lead: n
                .lead
                .iter()
                .map(|c| plan.unit_name(c.as_str()))
                .collect::<Vec<_>>()
                .join("、"),
            depth,
            counts: status_counts(snap.counts(under)),
            rows: plan
                .targets_of(n.code.as_str())
                .map(|t| TargetRow::new(snap, t))
                .collect(),
            descendants: Vec::new(),
        }
    }

    fn collect(snap: &Snapshot, parent: &str, depth: usize, out: &mut Vec<NodeView>) {
        for c in snap.plan.children(Some(parent)) {
            out.push(NodeView::flat(snap, c, depth));
            NodeView::collect(snap, c.code.as_str(), depth + 1, out);
        }
    }
}

#[derive(Template)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    pub nav: Nav,
    pub counts: Vec<StatusCount>,
    pub total: usize,
    pub rollup: String,
    pub rollup_class: &'static str,
    pub goals: Vec<GoalView>,
    pub nodes: Vec<NodeView>,
    pub every_node_note: String,
    pub source: String,
}

pub async fn overview(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let snap = load_snapshot(&st, &sess, &code, &q).await?;
    let nav = Nav::new(&snap, &sess);
    let me = nav.me.clone();
    // Rendered once per snapshot and menu; each reader's name, roles and
    // token are spliced in (see `rendered`).
    let html = st.pages.page(snap.serial, "overview", &me, |marked| {
        overview_page(&snap, Nav { me: marked, ..nav }).render()
    })?;
    Ok(Html(html))
}

fn overview_page(snap: &kc_app::Snapshot, nav: Nav) -> OverviewPage {
    let plan = &snap.plan;
    let goals = plan
        .goals
        .iter()
        .map(|g| GoalView {
            code: g.code.to_string(),
            name: g.name.clone(),
            rows: g
                .targets
                .iter()
                .filter_map(|t| plan.target(t.as_str()))
                .map(|t| TargetRow::new(snap, t))
                .collect(),
        })
        .collect();
    let nodes = plan
        .children(None)
        .map(|n| NodeView::new(snap, n))
        .collect();
    let source = plan
        .source
        .as_ref()
        .map(|s| {
            let mut t = s.title.clone();
            if let Some(d) = &s.date {
                t.push_str(&format!("（{d}）"));
            }
            t
        })
        .unwrap_or_default();
    let all: Vec<&Target> = plan.targets.iter().collect();
    let (rollup, rollup_class) = rollup_text(snap, &all);
    OverviewPage {
        rollup,
        rollup_class,
        counts: status_counts(snap.all_counts()),
        total: plan.targets.len(),
        goals,
        nodes,
        every_node_note: plan.every_node.note.clone().unwrap_or_default(),
        source,
        nav,
    }
}

// ---- node page -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "node.html")]
pub struct NodePage {
    pub nav: Nav,
    pub crumbs: Vec<(String, String)>,
    pub node: NodeView,
    pub summary: String,
    pub lead: String,
    pub co: String,
    pub responsible: String,
}

pub async fn node(
    State(st): State<AppState>,
    sess: Session,
    Path((code, node)): Path<(String, String)>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let snap = load_snapshot(&st, &sess, &code, &q).await?;
    let plan = &snap.plan;
    let n = plan.node(&node).ok_or_else(|| {
        AppError::NotFound(format!(
            "规划中没有编号为“{node}”的{}",
            plan.levels.join("或")
        ))
    })?;
    let nav = Nav::new(&snap, &sess).at(format!("/plans/{}/nodes/{}", plan.code, n.code));
    let crumbs = plan
        .ancestry(n.code.as_str())
        .into_iter()
        .filter(|a| a.code != n.code)
        .map(|a| {
            (
                format!("/plans/{}/nodes/{}{}", plan.code, a.code, nav.query),
                a.name.clone(),
            )
        })
        .collect();
    render(&NodePage {
        crumbs,
        node: NodeView::new(&snap, n),
        summary: n.summary.clone(),
        lead: unit_names(plan, &n.lead.iter().collect::<Vec<_>>()),
        co: unit_names(plan, &n.co.iter().collect::<Vec<_>>()),
        responsible: unit_names(plan, &plan.responsible_units(n)),
        nav,
    })
}

// ---- target page -------------------------------------------------------------------------

pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

pub struct PointRow {
    pub date: String,
    pub value: String,
    pub href: String,
    pub expected: String,
    pub provisional: bool,
}

/// One area's share of a registry-computed indicator.
pub struct AreaRow {
    pub name: String,
    pub value: String,
    pub share: String,
    pub href: String,
}

pub struct ValueRow {
    pub period: String,
    pub period_zh: String,
    pub scope: String,
    pub scope_name: String,
    pub value: String,
    pub revision: i64,
    pub vintage: &'static str,
    pub provisional: bool,
    pub note: String,
    pub entered: String,
    pub edit_href: String,
    pub history_href: String,
    pub status: &'static str,
    /// CSS class of the status tag.
    pub status_class: &'static str,
    pub reviewed: String,
    pub correction: bool,
}

impl ValueRow {
    fn new(
        plan: &Plan,
        r: &kc_app::store::ValueRecord,
        decimals: u8,
        names: &HashMap<String, String>,
    ) -> ValueRow {
        let who = |u: &str| names.get(u).cloned().unwrap_or_else(|| u.to_string());
        let key = format!(
            "?indicator={}&scope={}&period={}",
            r.indicator, r.scope, r.period
        );
        ValueRow {
            period: r.period.to_string(),
            period_zh: r.period.zh(),
            scope: r.scope.to_string(),
            scope_name: r.scope.name(plan).to_string(),
            value: format!("{} {}", num(r.value, decimals.max(2)), r.unit),
            revision: r.revision,
            vintage: r.vintage.zh(),
            provisional: r.vintage == Vintage::Provisional || r.status != ValueStatus::Approved,
            status: r.status.zh(),
            status_class: match r.status {
                ValueStatus::Approved => "tag-ok",
                ValueStatus::Returned => "tag-returned",
                _ => "tag-pending",
            },
            reviewed: if r.reviewed_by.is_empty() {
                String::new()
            } else {
                format!(
                    "{} {}{}",
                    who(&r.reviewed_by),
                    short_time(r.reviewed_at.as_deref().unwrap_or("")),
                    if r.review_comment.is_empty() {
                        String::new()
                    } else {
                        format!("：{}", r.review_comment)
                    }
                )
            },
            correction: r.correction,
            note: r.note.clone(),
            entered: format!("{} {}", who(&r.entered_by), short_time(&r.entered_at)),
            edit_href: format!("/plans/{}/values/new{key}", plan.code),
            history_href: format!("/plans/{}/values/history{key}", plan.code),
        }
    }
}

/// A stored RFC 3339 time as `YYYY-MM-DD HH:MM` in Beijing time (UTC+8).
fn short_time(t: &str) -> String {
    kc_app::auth::local_time(t)
}

#[derive(Template)]
#[template(path = "target.html")]
pub struct TargetPage {
    pub nav: Nav,
    pub crumbs: Vec<(String, String)>,
    pub row: TargetRow,
    pub facts: Vec<Fact>,
    pub chart: String,
    pub points: Vec<PointRow>,
    pub values: Vec<ValueRow>,
    pub reported: bool,
    pub form: EntryForm,
    pub saved: bool,
    pub forecast: String,
    pub pace: String,
    pub expected_now: String,
    pub years: Vec<(String, String, String, bool)>,
    /// Registry-computed indicators: the registry and each area's share.
    pub registry_name: String,
    pub registry_href: String,
    pub areas: Vec<AreaRow>,
}

fn target_facts(plan: &Plan, t: &Target) -> Vec<Fact> {
    let ind = plan.indicator(t.indicator.as_str());
    let mut facts = vec![Fact {
        label: "目标值",
        value: t.describe(),
    }];
    if let Some(r) = &t.revision {
        // The other value of a revised target, whichever is in use.
        let mut other = t.clone();
        other.value = r.original;
        let original = other.describe();
        facts.push(Fact {
            label: "中期调整",
            value: if original == t.describe() {
                format!(
                    "{} 调整{}（按原定目标值查看）",
                    r.date,
                    if r.note.is_empty() {
                        String::new()
                    } else {
                        format!("：{}", r.note)
                    }
                )
            } else {
                format!(
                    "原定 {original}，{} 调整{}",
                    r.date,
                    if r.note.is_empty() {
                        String::new()
                    } else {
                        format!("：{}", r.note)
                    }
                )
            },
        });
    }
    facts.extend([
        Fact {
            label: "目标类型",
            value: t.kind.zh().to_string(),
        },
        Fact {
            label: "截止日期",
            value: t.deadline.to_string(),
        },
        Fact {
            label: "衡量指标",
            value: ind
                .map(|i| format!("{}（{}，{}）", i.name, i.unit, i.frequency.zh()))
                .unwrap_or_else(|| t.indicator.to_string()),
        },
    ]);
    if let Some(i) = ind {
        if !i.definition.is_empty() {
            facts.push(Fact {
                label: "统计口径",
                value: i.definition.clone(),
            });
        }
        facts.push(Fact {
            label: "数据来源",
            value: match &i.source {
                DataSource::Reported => "各责任单位填报".to_string(),
                DataSource::Registry {
                    registry,
                    rule,
                    compute,
                } => {
                    let zh = kc_domain::registry::by_code(registry)
                        .map(|d| d.name)
                        .unwrap_or(registry.as_str());
                    match compute {
                        Some(_) => format!("由{zh}登记库计算：{rule}"),
                        None => format!("{zh}登记库（{rule}）；计算规则未配置，按填报值"),
                    }
                }
                DataSource::Formula { expr } => format!("按公式计算：{expr}"),
            },
        });
        if let Some(d) = &i.department {
            facts.push(Fact {
                label: "数据责任部门",
                value: plan.unit_name(d.as_str()).to_string(),
            });
        }
    }
    if let Some(b) = &t.baseline {
        facts.push(Fact {
            label: "基期值",
            value: format!(
                "{} {}（{}，{}{}）",
                num(b.value, 2),
                t.unit,
                b.date,
                if b.reported {
                    "公开发布数据"
                } else {
                    "估算值"
                },
                if b.source.is_empty() {
                    String::new()
                } else {
                    format!("：{}", b.source)
                }
            ),
        });
    }
    for c in &t.checkpoints {
        facts.push(Fact {
            label: "中间节点",
            value: format!("{}：{} {}", c.date, num(c.value, 2), t.unit),
        });
    }
    facts.push(Fact {
        label: "预期进度曲线",
        value: t.curve.zh().to_string(),
    });
    if let Some(n) = t.node.as_ref().and_then(|n| plan.node(n.as_str())) {
        facts.push(Fact {
            label: "牵头单位",
            value: unit_names(plan, &n.lead.iter().collect::<Vec<_>>()),
        });
        facts.push(Fact {
            label: "责任单位",
            value: unit_names(plan, &plan.responsible_units(n)),
        });
    }
    let goals = plan.goals_of(t.code.as_str());
    if !goals.is_empty() {
        facts.push(Fact {
            label: "对应发展目标",
            value: goals
                .iter()
                .map(|g| g.name.clone())
                .collect::<Vec<_>>()
                .join("；"),
        });
    }
    if !t.note.is_empty() {
        facts.push(Fact {
            label: "备注",
            value: t.note.clone(),
        });
    }
    facts
}

pub async fn target(
    State(st): State<AppState>,
    sess: Session,
    Path((code, target)): Path<(String, String)>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let snap = load_snapshot(&st, &sess, &code, &q).await?;
    let t = snap
        .plan
        .target(&target)
        .ok_or_else(|| crate::not_in_scope(&snap, &target))?;
    let form = EntryForm::for_indicator(&snap.plan, t.indicator.as_str(), Some(t.code.as_str()))
        .for_user(&snap.plan, &sess);
    let names = st.names().await?;
    let mut page = target_page(&snap, &sess, t, form, q.contains_key("saved"), &names)?;
    if snap.is_computed(t.indicator.as_str()) && snap.scope == Scope::City {
        let (_, engine) = st.plan_and_engine(&code).await?;
        page.areas = area_rows(&snap, t, &*engine.read().await);
    }
    render(&page)
}

/// Each area's value of a computed indicator at the date of the city's
/// latest value, with its share of the city and the records behind it.
fn area_rows(snap: &Snapshot, t: &Target, engine: &kc_engine::Engine) -> Vec<AreaRow> {
    let plan = &snap.plan;
    let Some(date) = snap.eval(t.code.as_str()).and_then(|e| e.value_date) else {
        return Vec::new();
    };
    let Some(ind) = plan.indicator(t.indicator.as_str()) else {
        return Vec::new();
    };
    let period = kc_app::period_at(ind.frequency, date);
    let city = engine
        .value(ind.code.as_str(), None, period)
        .ok()
        .flatten()
        .unwrap_or(0.0);
    let dec = ind.decimals;
    plan.areas
        .iter()
        .map(|a| {
            let v = engine
                .value(ind.code.as_str(), Some(a.code.as_str()), period)
                .ok()
                .flatten()
                .unwrap_or(0.0);
            let area_snap_scope = format!("area:{}", a.code);
            AreaRow {
                name: a.name.clone(),
                value: format!("{} {}", num(v, dec), ind.unit),
                share: if city.abs() > f64::EPSILON {
                    format!("{}%", num(v / city * 100.0, 1))
                } else {
                    "—".into()
                },
                href: view::drill_href(snap, t, date)
                    .map(|h| h.replace("scope=city", &format!("scope={area_snap_scope}")))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

fn target_page(
    snap: &Snapshot,
    sess: &Session,
    t: &Target,
    form: EntryForm,
    saved: bool,
    names: &HashMap<String, String>,
) -> Result<TargetPage, AppError> {
    let plan = &snap.plan;
    let e = snap
        .eval(t.code.as_str())
        .ok_or_else(|| AppError::NotFound("目标不存在".into()))?;
    let dec = view::decimals(plan, t);
    let nav = Nav::new(snap, sess).at(format!("/plans/{}/targets/{}", plan.code, t.code));
    let mut crumbs: Vec<(String, String)> = t
        .node
        .as_ref()
        .map(|n| plan.ancestry(n.as_str()))
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            (
                format!("/plans/{}/nodes/{}{}", plan.code, a.code, nav.query),
                a.name.clone(),
            )
        })
        .collect();
    if crumbs.is_empty() {
        crumbs.push((
            format!("/plans/{}{}#goals", plan.code, nav.query),
            "发展目标".into(),
        ));
    }
    let path_at = |d: chrono::NaiveDate| -> String {
        e.path
            .iter()
            .find(|(pd, _)| *pd >= d)
            .map(|(_, v)| num(*v, dec))
            .unwrap_or_default()
    };
    let points = e
        .points
        .iter()
        .rev()
        .map(|p| PointRow {
            date: p.date.to_string(),
            value: num(p.value, dec),
            href: view::drill_href(snap, t, p.date).unwrap_or_default(),
            expected: path_at(p.date),
            provisional: p.provisional,
        })
        .collect();
    let computed = snap.is_computed(t.indicator.as_str());
    let reported = !computed
        && plan
            .indicator(t.indicator.as_str())
            .is_some_and(|i| i.is_reported());
    let registry = match plan.indicator(t.indicator.as_str()).map(|i| &i.source) {
        Some(DataSource::Registry { registry, .. }) if computed => {
            kc_domain::registry::by_code(registry)
        }
        _ => None,
    };
    let mut records: Vec<&kc_app::store::ValueRecord> = snap
        .records
        .iter()
        .filter(|r| {
            r.indicator == t.indicator.as_str()
                || t.compare
                    .as_ref()
                    .is_some_and(|c| c.as_str() == r.indicator)
        })
        .collect();
    records.sort_by(|a, b| b.period.cmp(&a.period).then(a.scope.cmp(&b.scope)));
    let ind_dec = plan
        .indicator(t.indicator.as_str())
        .map(|i| i.decimals)
        .unwrap_or(2);
    let values = records
        .into_iter()
        .take(200)
        .map(|r| {
            let mut row = ValueRow::new(plan, r, ind_dec, names);
            if r.indicator != t.indicator.as_str() {
                row.scope_name.push_str("（对比指标）");
            }
            row.edit_href.push_str(&format!("&target={}", t.code));
            row
        })
        .collect();
    let forecast = match (e.forecast, e.forecast_meets) {
        (Some(f), Some(meets)) => {
            let band = if (f.high - f.low).abs() > 1e-9 {
                format!("（95% 区间 {}–{}）", num(f.low, dec), num(f.high, dec))
            } else {
                String::new()
            };
            let when = if matches!(t.kind, TargetKind::Annual | TargetKind::YearlyTotal) {
                format!("{}年全年", chrono::Datelike::year(&f.date))
            } else {
                format!("截止日 {}", f.date)
            };
            let how = if matches!(t.kind, TargetKind::Annual | TargetKind::YearlyTotal) {
                "按当年已完成进度推算"
            } else if f.method == kc_domain::plan::ForecastMethod::Compound {
                "按复合增长趋势"
            } else {
                "按线性趋势"
            };
            format!(
                "{how}，预计{}达到 {} {}{}，{}",
                when,
                num(f.value, dec),
                t.unit,
                band,
                if meets {
                    "能够完成目标"
                } else {
                    "难以完成目标"
                }
            )
        }
        _ => match e.status {
            kc_domain::Status::NoData | kc_domain::Status::InsufficientData => {
                "数据不足，暂不预测".into()
            }
            _ => "已到截止期或无需预测".into(),
        },
    };
    let pace = e
        .pace
        .map(|p| {
            let mut s = format!(
                "距截止还有 {} 个月，每月需{} {} {}",
                num(p.months_left, 1),
                if p.needed_per_month >= 0.0 {
                    "增加"
                } else {
                    "减少"
                },
                num(p.needed_per_month.abs(), dec.max(1)),
                t.unit
            );
            if let Some(r) = p.recent_per_month {
                s.push_str(&format!(
                    "；近期实际每月{} {} {}",
                    if r >= 0.0 { "增加" } else { "减少" },
                    num(r.abs(), dec.max(1)),
                    t.unit
                ));
            }
            if let Some(rate) = p.needed_rate {
                s.push_str(&format!("；需年均增长 {}%", num(rate, 1)));
            }
            s
        })
        .unwrap_or_default();
    let years = e
        .years
        .iter()
        .map(|y| {
            (
                format!(
                    "{}年{}",
                    y.year,
                    if y.covered < 1.0 {
                        "（截至目前）"
                    } else {
                        ""
                    }
                ),
                num(y.total, dec),
                num(y.target, dec),
                y.met,
            )
        })
        .collect();
    Ok(TargetPage {
        crumbs,
        row: TargetRow::new(snap, t),
        facts: target_facts(plan, t),
        chart: chart::target_chart(t, e, dec, snap.as_of, plan.period.start),
        points,
        values,
        reported,
        form,
        saved,
        forecast,
        pace,
        expected_now: e
            .expected_now
            .map(|v| format!("{} {}", num(v, dec), t.unit))
            .unwrap_or_default(),
        years,
        registry_name: registry.map(|r| r.name.to_string()).unwrap_or_default(),
        registry_href: registry
            .map(|r| format!("/plans/{}/registries/{}", plan.code, r.code))
            .unwrap_or_default(),
        areas: Vec::new(),
        nav,
    })
}

// ---- value entry -------------------------------------------------------------------------------

/// The value-entry form, with the input kept and errors by field.
pub struct EntryForm {
    pub action: String,
    pub indicators: Vec<Opt>,
    pub fixed_indicator: Option<(String, String)>,
    pub scopes: Vec<Opt>,
    pub period: String,
    pub period_hint: String,
    pub value: String,
    pub unit: String,
    pub note: String,
    pub vintages: Vec<Opt>,
    pub expected_revision: String,
    pub target: String,
    pub errors: HashMap<&'static str, String>,
    pub message: String,
    pub csrf: String,
    /// What a reporter needs beside the number (label, text): the unit, the
    /// frequency, the allowed range, the last period's value, the targets
    /// on the indicator and what is expected by now.
    pub context: Vec<(String, String)>,
}

impl EntryForm {
    /// Keeps only the scopes the user may report for and adds the user's
    /// CSRF token.
    fn for_user(mut self, plan: &Plan, sess: &Session) -> EntryForm {
        let p = &sess.principal;
        self.scopes.retain(|o| {
            let Ok(scope) = o.value.parse::<Scope>() else {
                return false;
            };
            // Any indicator will do: a scope is offered if the user reports
            // something for it; the value itself is checked on submit.
            plan.indicators.iter().any(|i| {
                p.can_report(
                    plan,
                    kc_domain::auth::ValueKey {
                        indicator: i.code.as_str(),
                        scope: &scope,
                    },
                )
            })
        });
        self.csrf = sess.csrf.clone();
        self
    }

    fn for_indicator(plan: &Plan, indicator: &str, target: Option<&str>) -> EntryForm {
        let raw = RawEntry {
            indicator: indicator.to_string(),
            scope: "city".into(),
            ..RawEntry::default()
        };
        EntryForm::from_raw(plan, &raw, target, "", Vec::new(), String::new())
    }

    fn from_raw(
        plan: &Plan,
        raw: &RawEntry,
        target: Option<&str>,
        expected_revision: &str,
        errors: Vec<FieldError>,
        message: String,
    ) -> EntryForm {
        let ind = plan.indicator(raw.indicator.trim());
        // Only what people type: formula and registry-computed indicators
        // are not offered (they would be refused on saving).
        let reportable = plan.indicators.iter().filter(|i| i.is_reported());
        let scope = if raw.scope.trim().is_empty() {
            "city"
        } else {
            raw.scope.trim()
        };
        let mut scopes = vec![Opt {
            value: "city".into(),
            label: plan.whole_label(),
            selected: scope == "city",
        }];
        for a in &plan.areas {
            let v = format!("area:{}", a.code);
            scopes.push(Opt {
                selected: v == scope,
                value: v,
                label: a.name.clone(),
            });
        }
        for d in &plan.departments {
            let v = format!("dept:{}", d.code);
            scopes.push(Opt {
                selected: v == scope,
                value: v,
                label: d.name.clone(),
            });
        }
        let vintage = if raw.vintage.is_empty() {
            "provisional"
        } else {
            raw.vintage.as_str()
        };
        EntryForm {
            action: format!("/plans/{}/values", plan.code),
            indicators: reportable
                .map(|i| Opt {
                    value: i.code.to_string(),
                    label: format!("{}（{}）", i.name, i.unit),
                    selected: i.code.as_str() == raw.indicator.trim(),
                })
                .collect(),
            fixed_indicator: target
                .and(ind)
                .map(|i| (i.code.to_string(), i.name.clone())),
            scopes,
            period: raw.period.clone(),
            period_hint: ind
                .map(|i| match i.frequency {
                    kc_domain::Frequency::Monthly => "按月填报，例如 2025-06",
                    kc_domain::Frequency::Quarterly => "按季度填报，例如 2025Q2",
                    kc_domain::Frequency::Yearly => "按年填报，例如 2024",
                })
                .unwrap_or("例如 2024、2025Q2 或 2025-06")
                .to_string(),
            value: raw.value.clone(),
            unit: ind.map(|i| i.unit.clone()).unwrap_or_default(),
            note: raw.note.clone(),
            vintages: [Vintage::Provisional, Vintage::Official]
                .into_iter()
                .map(|v| Opt {
                    value: v.as_str().into(),
                    label: v.zh().into(),
                    selected: v.as_str() == vintage,
                })
                .collect(),
            expected_revision: expected_revision.to_string(),
            target: target.unwrap_or_default().to_string(),
            errors: errors.into_iter().map(|e| (e.field, e.message)).collect(),
            message,
            csrf: String::new(),
            context: Vec::new(),
        }
    }

    /// The error for a field, or "".
    pub fn err(&self, field: &str) -> &str {
        self.errors.get(field).map(String::as_str).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "entry.html")]
pub struct EntryPage {
    pub nav: Nav,
    pub form: EntryForm,
    pub history_href: String,
}

/// What a reporter sees beside the value form for `indicator` in `scope`
/// for `period`: unit, frequency, allowed range, the value of the period
/// before, and each target on the indicator with its expected value by now,
/// in that scope (an area's own targets for an area).
pub(crate) async fn entry_context(
    st: &AppState,
    sess: &Session,
    code: &str,
    indicator: &str,
    scope: &str,
    period: &str,
) -> Vec<(String, String)> {
    let Ok(scope_v) = scope.parse::<Scope>() else {
        return Vec::new();
    };
    let q = HashMap::from([("scope".to_string(), scope.to_string())]);
    let Ok(snap) = load_snapshot(st, sess, code, &q).await else {
        return Vec::new();
    };
    let plan = &snap.plan;
    let Some(ind) = plan.indicator(indicator) else {
        return Vec::new();
    };
    let unit = ind.unit.clone();
    let decimals = ind.decimals;
    let mut out = vec![
        ("计量单位".to_string(), unit.clone()),
        ("报送频率".to_string(), ind.frequency.zh().to_string()),
    ];
    let (lo, hi) = ind.value_range();
    let show = kc_domain::money::display;
    out.push((
        "允许范围".to_string(),
        match (lo, hi) {
            (Some(a), Some(b)) => format!("{} 至 {} {unit}", show(a), show(b)),
            (Some(a), None) => format!("不小于 {} {unit}", show(a)),
            (None, Some(b)) => format!("不大于 {} {unit}", show(b)),
            (None, None) => "不限".to_string(),
        },
    ));
    let this = period.parse::<Period>().ok();
    let last = snap
        .records
        .iter()
        .filter(|r| r.indicator == indicator && r.scope == scope_v)
        .filter(|r| this.is_none_or(|p| r.period.end() < p.end()))
        .max_by_key(|r| r.period.end());
    out.push((
        "上期数值".to_string(),
        match last {
            Some(r) => format!("{} {unit}（{}）", num(r.value, ind.decimals), r.period.zh()),
            None => "暂无".to_string(),
        },
    ));
    // The scope's own targets; where an area has none on the indicator, the
    // city's, said as such.
    let own = plan
        .targets
        .iter()
        .any(|t| t.indicator.as_str() == indicator);
    let city;
    let (snap, whose) = if own || scope_v == Scope::City {
        (&snap, "")
    } else {
        match load_snapshot(st, sess, code, &HashMap::new()).await {
            Ok(s) => {
                city = s;
                (&city, "（全市目标，本地区未分解）")
            }
            Err(_) => return out,
        }
    };
    for t in snap
        .plan
        .targets
        .iter()
        .filter(|t| t.indicator.as_str() == indicator)
    {
        let Some(ev) = snap.eval(t.code.as_str()) else {
            continue;
        };
        let expected = ev
            .expected_now
            .map(|e| format!("；{} 应达到 {} {unit}", snap.as_of, num(e, decimals)))
            .unwrap_or_default();
        out.push((
            format!("目标 {}", t.code),
            format!("{}{expected}{whose}", t.describe()),
        ));
    }
    out
}

/// `GET /plans/{plan}/values/new?indicator=&scope=&period=&target=`: the form,
/// prefilled with the current value (and its revision) when one exists.
pub async fn entry_form(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let snap = load_snapshot(&st, &sess, &code, &HashMap::new()).await?;
    sess.require(sess.principal.reports_any(), "填报数据")?;
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let mut raw = RawEntry {
        indicator: get("indicator"),
        scope: get("scope"),
        period: get("period"),
        ..RawEntry::default()
    };
    let mut expected = String::new();
    let mut history_href = String::new();
    if let (Ok(scope), Ok(period)) = (raw.scope.parse::<Scope>(), raw.period.parse::<Period>()) {
        // The reporter continues from the newest revision, a draft or a
        // returned one included.
        let key = kc_domain::auth::ValueKey {
            indicator: &raw.indicator,
            scope: &scope,
        };
        let current = if sess.principal.sees_unpublished(&snap.plan, key) {
            st.store
                .value_history(snap.plan.code.as_str(), &raw.indicator, &scope, period)
                .await?
                .into_iter()
                .next()
        } else {
            snap.records
                .iter()
                .find(|r| r.indicator == raw.indicator && r.scope == scope && r.period == period)
                .cloned()
        };
        if let Some(c) = current {
            raw.value = kc_domain::plan::fmt_num(c.value, 6);
            raw.note = c.note.clone();
            raw.vintage = c.vintage.as_str().to_string();
            expected = c.revision.to_string();
            history_href = format!(
                "/plans/{}/values/history?indicator={}&scope={}&period={}",
                snap.plan.code, c.indicator, c.scope, c.period
            );
        }
    }
    let target = q
        .get("target")
        .filter(|t| snap.plan.target(t).is_some())
        .cloned();
    let form = EntryForm::from_raw(
        &snap.plan,
        &raw,
        target.as_deref(),
        &expected,
        Vec::new(),
        String::new(),
    )
    .for_user(&snap.plan, &sess);
    let mut form = form;
    form.context = entry_context(&st, &sess, &code, &raw.indicator, &raw.scope, &raw.period).await;
    render(&EntryPage {
        nav: Nav::new(&snap, &sess),
        form,
        history_href,
    })
}

/// The value form: what a reporter typed, as text, so that a mistyped number
/// comes back beside its field rather than as a refused form.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ValueForm {
    target: String,
    indicator: String,
    scope: String,
    period: String,
    value: String,
    note: String,
    vintage: String,
    /// The revision the form was filled against; empty for a first value.
    #[serde(deserialize_with = "crate::extract::empty_as_none")]
    expected_revision: Option<i64>,
    /// `draft` keeps it as a draft; anything else submits it for review.
    action: String,
}

/// `POST /plans/{plan}/values`: checks and stores a value. Errors re-render
/// the form with the input kept and each message next to its field.
pub async fn submit_value(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    FormBody(f): FormBody<ValueForm>,
) -> Result<Response, AppError> {
    let snap = load_snapshot(&st, &sess, &code, &HashMap::new()).await?;
    let target = snap.plan.target(&f.target);
    let raw = RawEntry {
        indicator: target
            .map(|t| t.indicator.to_string())
            .unwrap_or_else(|| f.indicator.clone()),
        scope: f.scope,
        period: f.period,
        value: f.value,
        note: f.note,
        vintage: f.vintage,
    };
    let expected = f.expected_revision;
    let expected_text = expected.map(|r| r.to_string()).unwrap_or_default();
    let submit = f.action != "draft";
    let result = kc_app::workflow::record_value(
        &st.store,
        &snap.plan,
        &sess.caller(),
        &raw,
        expected,
        submit,
        st.today(),
    )
    .await;
    let (errors, message, expected_text) = match result {
        Ok(rec) => {
            let to = match target {
                Some(t) => format!(
                    "/plans/{}/targets/{}?saved={}",
                    snap.plan.code, t.code, rec.revision
                ),
                None => format!(
                    "/plans/{}/values/history?indicator={}&scope={}&period={}",
                    snap.plan.code, rec.indicator, rec.scope, rec.period
                ),
            };
            return Ok(Redirect::to(&to).into_response());
        }
        Err(RecordError::Invalid(errors)) => (
            errors,
            "填报内容有误，请按提示修改后重新提交。".to_string(),
            expected_text,
        ),
        Err(RecordError::Conflict(current)) => (
            Vec::new(),
            format!(
                "提交前该数据已被 {} 修改为 {}（第 {} 版）。请核对后决定是否仍以您的数值覆盖，再次提交即可。",
                st.names()
                    .await?
                    .get(&current.entered_by)
                    .cloned()
                    .unwrap_or_else(|| current.entered_by.clone()),
                num(current.value, 6),
                current.revision
            ),
            current.revision.to_string(),
        ),
        Err(other) => return Err(other.into()),
    };
    let form = EntryForm::from_raw(
        &snap.plan,
        &raw,
        target.map(|t| t.code.as_str()),
        &expected_text,
        errors,
        message,
    )
    .for_user(&snap.plan, &sess);
    let mut form = form;
    form.context = entry_context(&st, &sess, &code, &raw.indicator, &raw.scope, &raw.period).await;
    let status = if form.errors.is_empty() {
        axum::http::StatusCode::CONFLICT
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let body = match target {
        Some(t) => target_page(&snap, &sess, t, form, false, &*st.names().await?)?.render()?,
        None => EntryPage {
            nav: Nav::new(&snap, &sess),
            form,
            history_href: String::new(),
        }
        .render()?,
    };
    Ok((status, Html(body)).into_response())
}

// ---- value history ---------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "history.html")]
pub struct HistoryPage {
    pub nav: Nav,
    pub title: String,
    pub rows: Vec<ValueRow>,
    pub edit_href: String,
    pub can_report: bool,
    pub can_review: bool,
    /// The newest revision's id and status, for the action forms.
    pub newest_id: i64,
    pub newest_draft: bool,
    pub newest_submitted: bool,
    pub newest_by_me: bool,
    pub events: Vec<(String, String, String, String)>,
    pub files: Vec<(String, String, String, String)>,
    pub upload_limit_mb: usize,
    pub locked: bool,
    pub message: String,
    /// Said beside the review comment (a return without a reason).
    pub comment_error: String,
}

pub async fn history(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let snap = load_snapshot(&st, &sess, &code, &HashMap::new()).await?;
    let plan = &snap.plan;
    let indicator = q.get("indicator").cloned().unwrap_or_default();
    let ind = plan
        .indicator(&indicator)
        .ok_or_else(|| AppError::NotFound(format!("指标“{indicator}”不存在")))?;
    let scope: Scope = q
        .get("scope")
        .map(String::as_str)
        .unwrap_or("city")
        .parse()
        .map_err(|e: kc_domain::value::ScopeError| AppError::BadRequest(e.to_string()))?;
    let period: Period = crate::period_param(&q, "period")?;
    let key = kc_domain::auth::ValueKey {
        indicator: &indicator,
        scope: &scope,
    };
    let p = &sess.principal;
    let mut revisions = st
        .store
        .value_history(plan.code.as_str(), &indicator, &scope, period)
        .await?;
    // Others see the published revisions only.
    if !p.sees_unpublished(plan, key) {
        revisions.retain(|r| r.status == ValueStatus::Approved);
    }
    let names = st.names().await?;
    let who = |u: &str| names.get(u).cloned().unwrap_or_else(|| u.to_string());
    let ids: Vec<i64> = revisions.iter().map(|r| r.id).collect();
    let revision_of = |id: i64| {
        revisions
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.revision)
            .unwrap_or(0)
    };
    let events = st
        .store
        .value_events(&ids)
        .await?
        .into_iter()
        .rev()
        .map(|e| {
            let action = ValueStatus::parse(&e.action)
                .map(|s| match s {
                    ValueStatus::Draft => "保存草稿",
                    ValueStatus::Submitted => "提交审核",
                    ValueStatus::Approved => "审核通过",
                    ValueStatus::Returned => "退回修改",
                })
                .unwrap_or("其他");
            (
                format!("第 {} 版", revision_of(e.value_id)),
                format!("{} {}", who(&e.actor), short_time(&e.at)),
                action.to_string(),
                e.comment,
            )
        })
        .collect();
    let files = st
        .store
        .attachments_of(&ids)
        .await?
        .into_iter()
        .map(|a| {
            (
                format!("/plans/{}/attachments/{}", plan.code, a.id),
                a.filename,
                format!(
                    "第 {} 版 · {} KB",
                    revision_of(a.value_id),
                    (a.size + 1023) / 1024
                ),
                format!("{} {}", who(&a.uploaded_by), short_time(&a.uploaded_at)),
            )
        })
        .collect();
    let newest = revisions.first();
    let locked = st
        .store
        .locked_periods(plan.code.as_str())
        .await?
        .iter()
        .any(|(x, _, _)| *x == period);
    let message = match q.get("done").map(String::as_str) {
        Some("approved") => "已审核通过，该数据现为正式数据。",
        Some("returned") => "已退回，填报单位会收到提醒。",
        Some("submitted") => "已提交审核。",
        Some("uploaded") => "佐证材料已上传。",
        _ => "",
    };
    let rows = revisions
        .iter()
        .map(|r| ValueRow::new(plan, r, ind.decimals, &names))
        .collect();
    let comment_error = if q.get("problem").map(String::as_str) == Some("comment") {
        "退回时请写明原因，便于填报单位修改".to_string()
    } else {
        String::new()
    };
    render(&HistoryPage {
        comment_error,
        title: format!("{} · {} · {}", ind.name, scope.name(plan), period.zh()),
        edit_href: format!(
            "/plans/{}/values/new?indicator={}&scope={}&period={}",
            plan.code, indicator, scope, period
        ),
        rows,
        can_report: p.can_report(plan, key),
        can_review: p.can_review(plan, key),
        newest_id: newest.map(|r| r.id).unwrap_or(0),
        newest_draft: newest.is_some_and(|r| r.status == ValueStatus::Draft),
        newest_submitted: newest.is_some_and(|r| r.status == ValueStatus::Submitted),
        newest_by_me: newest.is_some_and(|r| r.entered_by == p.username),
        events,
        files,
        upload_limit_mb: crate::workflow::UPLOAD_LIMIT / 1024 / 1024,
        locked,
        message: message.to_string(),
        nav: Nav::new(&snap, &sess),
    })
}

// ---- plan versions ------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "versions.html")]
pub struct VersionsPage {
    pub nav: Nav,
    pub versions: Vec<(i64, String, String, String, String)>,
}

pub async fn versions(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
) -> Result<Html<String>, AppError> {
    let snap = load_snapshot(&st, &sess, &code, &HashMap::new()).await?;
    let versions = st
        .store
        .plan_versions(&code)
        .await?
        .into_iter()
        .map(|v| {
            (
                v.version,
                v.name,
                v.loaded_by,
                short_time(&v.loaded_at),
                v.source_sha256.chars().take(12).collect(),
            )
        })
        .collect();
    render(&VersionsPage {
        nav: Nav::new(&snap, &sess),
        versions,
    })
}

pub async fn version_source(
    State(st): State<AppState>,
    sess: Session,
    Path((code, version)): Path<(String, i64)>,
) -> Result<Response, AppError> {
    sess.require_business()?;
    let text = st
        .store
        .plan_source(&code, version)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("规划“{code}”没有第 {version} 版")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/plain; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{code}-v{version}.toml\""),
            ),
        ],
        text,
    )
        .into_response())
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/plans/{plan}", get(self::overview))
        .route("/plans/{plan}/nodes/{node}", get(self::node))
        .route("/plans/{plan}/targets/{target}", get(self::target))
        .route("/plans/{plan}/values", post(self::submit_value))
        .route("/plans/{plan}/values/new", get(self::entry_form))
        .route("/plans/{plan}/values/history", get(self::history))
        .route("/plans/{plan}/versions", get(self::versions))
        .route(
            "/plans/{plan}/versions/{version}/source",
            get(self::version_source),
        )
}
