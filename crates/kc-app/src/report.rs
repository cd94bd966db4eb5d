//! Builds the progress report (进展报告) from a snapshot, the warnings and
//! the ranking: sentences written from the figures, the target table, the
//! lag list, the ranking and what each lagging target still needs. Pure:
//! writing it as Word, Excel or HTML is the writers' business.

use kc_domain::plan::{Target, fmt_num};
use kc_domain::report::{
    Cell, Chart, ChartForecast, Column, Report, Section, Table, chinese_date, chinese_ordinal,
};
use kc_domain::{Code, Scope, Status};

use crate::Snapshot;
use crate::analytics::{Level, Ranking, Warning};

/// Whose report it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Variant {
    City,
    Area(Code),
    Department(Code),
}

impl Variant {
    /// `city`, `area:CODE` or `dept:CODE`.
    pub fn parse(s: &str, plan: &kc_domain::Plan) -> Result<Variant, String> {
        match Scope::parse_in(s, plan).map_err(|e| e.to_string())? {
            Scope::City => Ok(Variant::City),
            Scope::Area(a) => Ok(Variant::Area(a)),
            Scope::Department(d) => Ok(Variant::Department(d)),
        }
    }

    /// The scope the snapshot must be evaluated for.
    pub fn scope(&self) -> Scope {
        match self {
            Variant::Area(a) => Scope::Area(a.clone()),
            _ => Scope::City,
        }
    }
}

fn lead_units<'p>(plan: &'p kc_domain::Plan, t: &Target) -> Vec<&'p Code> {
    t.node
        .as_ref()
        .and_then(|n| plan.node(n.as_str()))
        .map(|n| n.lead.iter().collect())
        .unwrap_or_default()
}

fn answers_for(plan: &kc_domain::Plan, t: &Target, dept: &Code) -> bool {
    let by_node = t
        .node
        .as_ref()
        .and_then(|n| plan.node(n.as_str()))
        .is_some_and(|n| n.lead.contains(dept) || n.co.contains(dept));
    let by_indicator = plan
        .indicator(t.indicator.as_str())
        .and_then(|i| i.department.as_ref())
        == Some(dept);
    by_node || by_indicator
}

/// The report for `variant` (the snapshot evaluated for its scope).
pub fn build(
    snap: &Snapshot,
    warnings: &[Warning],
    ranking: Option<&Ranking>,
    variant: &Variant,
    issued: chrono::NaiveDate,
) -> Report {
    let plan = &snap.plan;
    let targets: Vec<&Target> = plan
        .targets
        .iter()
        .filter(|t| match variant {
            Variant::Department(d) => answers_for(plan, t, d),
            _ => true,
        })
        .collect();
    let who = match variant {
        Variant::City => plan.whole_label(),
        Variant::Area(a) => plan.unit_name(a.as_str()).to_string(),
        Variant::Department(d) => format!("{}牵头或参与", plan.unit_name(d.as_str())),
    };
    let as_of = chinese_date(snap.as_of);
    let mut sections = vec![
        overview(snap, &targets, &who, &as_of),
        target_table(snap, &targets),
    ];
    let wanted: Vec<&Warning> = warnings
        .iter()
        .filter(|w| targets.iter().any(|t| t.code.as_str() == w.target))
        .collect();
    if !matches!(variant, Variant::Area(_)) {
        sections.push(lag_list(snap, &wanted));
    }
    if let (Some(r), false) = (ranking, matches!(variant, Variant::Department(_))) {
        sections.push(ranking_section(r, variant, plan));
    }
    sections.push(pace_section(snap, &targets));
    for (i, s) in sections.iter_mut().enumerate() {
        s.heading = format!("{}、{}", chinese_ordinal(i + 1), s.heading);
    }
    Report {
        title: format!(
            "{}实施进展报告",
            plan.short_name.as_deref().unwrap_or(&plan.name)
        ),
        subtitle: format!("（{} · {}）", period_label(snap), who),
        // The bureau that runs the plan; callers may name another.
        issuer: plan.report_issuer(),
        date: chinese_date(issued),
        basis: format!(
            "依据《{}》第 {} 版所列目标值；数据截至{}。",
            plan.name, snap.version.version, as_of
        ),
        sections,
    }
}

/// 截至2024年12月31日 reads best as 2024年 when the date closes a year.
fn period_label(snap: &Snapshot) -> String {
    use chrono::Datelike;
    let d = snap.as_of;
    if d.month() == 12 && d.day() == 31 {
        format!("{}年度", d.year())
    } else {
        format!("截至{}", chinese_date(d))
    }
}

fn name_list(items: &[String]) -> String {
    items.join("；")
}

fn overview(snap: &Snapshot, targets: &[&Target], who: &str, as_of: &str) -> Section {
    let plan = &snap.plan;
    let counts = snap.counts(targets.iter().map(|t| t.code.as_str()));
    let mut parts: Vec<String> = Vec::new();
    for (s, n) in Status::ALL.iter().zip(counts) {
        if n > 0
            || matches!(
                s,
                Status::Achieved | Status::OnTrack | Status::AtRisk | Status::OffTrack
            )
        {
            parts.push(format!("{}{n}项", s.zh()));
        }
    }
    let mut paragraphs = vec![format!(
        "截至{as_of}，《{}》{who}共有考核目标{}项，其中{}。",
        plan.name,
        targets.len(),
        parts.join("、")
    )];
    let lag_of = |t: &&Target| snap.eval(t.code.as_str()).and_then(|e| e.lag);
    let mut ahead: Vec<(&Target, f64)> = targets
        .iter()
        .filter_map(|t| Some((*t, lag_of(t)?)))
        .filter(|(t, l)| *l < 0.0 && snap.status(t.code.as_str()) != Status::Achieved)
        .collect();
    ahead.sort_by(|a, b| a.1.total_cmp(&b.1));
    let achieved: Vec<String> = targets
        .iter()
        .filter(|t| snap.status(t.code.as_str()) == Status::Achieved)
        .map(|t| format!("“{}”", t.name))
        .collect();
    if !achieved.is_empty() {
        paragraphs.push(format!(
            "已提前完成的目标{}项：{}。",
            achieved.len(),
            achieved.join("、")
        ));
    }
    if !ahead.is_empty() {
        let items: Vec<String> = ahead
            .iter()
            .take(3)
            .map(|(t, l)| {
                let e = snap.eval(t.code.as_str());
                format!(
                    "“{}”完成进度{}%，领先序时进度{}个百分点",
                    t.name,
                    fmt_num(e.and_then(|e| e.completion).unwrap_or(0.0), 1),
                    fmt_num(-l, 1)
                )
            })
            .collect();
        paragraphs.push(format!("进度领先的目标主要有：{}。", name_list(&items)));
    }
    let mut behind: Vec<(&Target, f64)> = targets
        .iter()
        .filter(|t| {
            matches!(
                snap.status(t.code.as_str()),
                Status::OffTrack | Status::AtRisk
            )
        })
        .filter_map(|t| Some((*t, lag_of(t)?)))
        .collect();
    behind.sort_by(|a, b| b.1.total_cmp(&a.1));
    if behind.is_empty() {
        paragraphs.push("没有落后于序时进度的目标。".to_string());
    } else {
        let items: Vec<String> = behind
            .iter()
            .take(5)
            .map(|(t, l)| {
                let e = snap.eval(t.code.as_str());
                let units: Vec<&str> = lead_units(plan, t)
                    .iter()
                    .map(|c| plan.unit_name(c.as_str()))
                    .collect();
                format!(
                    "“{}”完成进度{}%，落后序时进度{}个百分点{}",
                    t.name,
                    fmt_num(e.and_then(|e| e.completion).unwrap_or(0.0), 1),
                    fmt_num(*l, 1),
                    if units.is_empty() {
                        String::new()
                    } else {
                        format!("（牵头单位：{}）", units.join("、"))
                    }
                )
            })
            .collect();
        paragraphs.push(format!(
            "落后于序时进度的目标{}项，差距较大的有：{}。",
            behind.len(),
            name_list(&items)
        ));
    }
    let no_data: Vec<String> = targets
        .iter()
        .filter(|t| {
            matches!(
                snap.status(t.code.as_str()),
                Status::NoData | Status::InsufficientData
            )
        })
        .map(|t| format!("“{}”", t.name))
        .collect();
    if !no_data.is_empty() {
        paragraphs.push(format!(
            "{}项目标因数据不足未作评价：{}。",
            no_data.len(),
            no_data.join("、")
        ));
    }
    if targets
        .iter()
        .any(|t| snap.eval(t.code.as_str()).is_some_and(|e| e.provisional))
    {
        paragraphs.push(
            "表中标“暂定”的数值含统计暂定数或尚待审核的数据，以审核通过后的正式数据为准。"
                .to_string(),
        );
    }
    Section {
        heading: "总体情况".into(),
        paragraphs,
        tables: Vec::new(),
        charts: Vec::new(),
    }
}

/// The chart of one target from its evaluation.
fn chart_of(snap: &Snapshot, t: &Target, number: usize) -> Option<Chart> {
    let e = snap.eval(t.code.as_str())?;
    if e.points.is_empty() {
        return None;
    }
    let plan = &snap.plan;
    Some(Chart {
        title: format!("图{number} {}（{}）", t.name, t.unit),
        unit: t.unit.clone(),
        start: e
            .path
            .first()
            .map(|p| p.0)
            .unwrap_or(plan.period.start)
            .min(plan.period.start),
        end: t.deadline.max(plan.period.end),
        actual: e.points.iter().map(|p| (p.date, p.value)).collect(),
        expected: e.path.clone(),
        target: e.target_value.is_finite().then_some(e.target_value),
        forecast: e.forecast.map(|f| ChartForecast {
            date: f.date,
            value: f.value,
            low: f.low,
            high: f.high,
        }),
    })
}

fn target_table(snap: &Snapshot, targets: &[&Target]) -> Section {
    let plan = &snap.plan;
    let rows = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let e = snap.eval(t.code.as_str());
            let dec = plan
                .indicator(t.indicator.as_str())
                .map(|i| i.decimals)
                .unwrap_or(2)
                .max(1);
            let units: Vec<&str> = lead_units(plan, t)
                .iter()
                .map(|c| plan.unit_name(c.as_str()))
                .collect();
            vec![
                Cell::Number {
                    value: (i + 1) as f64,
                    decimals: 0,
                },
                Cell::text(t.code.to_string()),
                Cell::text(t.name.clone()),
                Cell::text(t.describe()),
                Cell::number(e.and_then(|e| e.value), dec),
                Cell::text(t.unit.clone()),
                Cell::number(e.and_then(|e| e.completion), 1),
                Cell::number(e.and_then(|e| e.expected_completion), 1),
                Cell::text(format!(
                    "{}{}",
                    snap.status(t.code.as_str()).zh(),
                    if e.is_some_and(|e| e.provisional) {
                        "（暂定）"
                    } else {
                        ""
                    }
                )),
                Cell::text(units.join("、")),
            ]
        })
        .collect();
    Section {
        heading: "目标完成情况".into(),
        paragraphs: vec![format!(
            "下表列出各项目标的最新值、完成进度和序时进度（按目标的预期路径，从基期到目标值，统计日应达到的进度）。状态判定：落后序时进度不超过{}个百分点为进度正常，{}个百分点以内为需关注，超过为滞后。",
            fmt_num(plan.status_rule.on_track_lag, 1),
            fmt_num(plan.status_rule.at_risk_lag, 1)
        )],
        tables: vec![Table {
            title: "目标完成情况".into(),
            columns: vec![
                Column::new("序号"),
                Column::new("编号"),
                Column::new("目标"),
                Column::new("目标值"),
                Column::new("最新值"),
                Column::new("单位"),
                Column::with_unit("完成进度", "%"),
                Column::with_unit("序时进度", "%"),
                Column::new("状态"),
                Column::new("牵头单位"),
            ],
            rows,
        }],
        charts: Vec::new(),
    }
}

fn lag_list(snap: &Snapshot, warnings: &[&Warning]) -> Section {
    // The charts of the worst six, so a reader sees how far behind they are.
    let charts = warnings
        .iter()
        .filter_map(|w| snap.plan.target(&w.target))
        .take(6)
        .enumerate()
        .filter_map(|(i, t)| chart_of(snap, t, i + 1))
        .collect();
    let plan = &snap.plan;
    let red = warnings.iter().filter(|w| w.level == Level::Red).count();
    let rows = warnings
        .iter()
        .filter_map(|w| {
            let t = plan.target(&w.target)?;
            Some(vec![
                Cell::text(w.level.zh()),
                Cell::text(t.code.to_string()),
                Cell::text(t.name.clone()),
                Cell::number(w.lag, 1),
                Cell::text(chinese_date(w.since)),
                Cell::text(w.units.join("、")),
            ])
        })
        .collect();
    Section {
        heading: "预警清单".into(),
        paragraphs: vec![if warnings.is_empty() {
            "截至统计日没有预警的目标。".to_string()
        } else {
            format!(
                "共{}项目标处于预警状态，其中红色预警{}项、黄色预警{}项，请责任单位对照分析原因、落实措施。",
                warnings.len(),
                red,
                warnings.len() - red
            )
        }],
        tables: vec![Table {
            title: "预警清单".into(),
            columns: vec![
                Column::new("级别"),
                Column::new("编号"),
                Column::new("目标"),
                Column::with_unit("落后序时进度", "个百分点"),
                Column::new("预警始于"),
                Column::new("责任单位"),
            ],
            rows,
        }],
        charts,
    }
}

fn ranking_section(r: &Ranking, variant: &Variant, plan: &kc_domain::Plan) -> Section {
    let (spec, rows, previous) = r;
    let mut paragraphs = vec![format!(
        "按{}方法计算（{}），与{}相比的位次变化见表。",
        spec.name,
        spec.normalization.zh(),
        chinese_date(*previous)
    )];
    if let Variant::Area(a) = variant
        && let Some(me) = rows.iter().find(|x| x.area == a.as_str())
    {
        let change = match me.previous_rank {
            Some(p) if p > me.rank => format!("比上季度末前移{}位", p - me.rank),
            Some(p) if p < me.rank => format!("比上季度末后退{}位", me.rank - p),
            Some(_) => "与上季度末持平".to_string(),
            None => String::new(),
        };
        paragraphs.push(format!(
            "{}综合得分{}分，在{}个县区中居第{}位，{}。",
            plan.unit_name(a.as_str()),
            fmt_num(me.composite, 2),
            rows.len(),
            me.rank,
            change
        ));
    }
    let mut columns = vec![
        Column::new("名次"),
        Column::new("上季度末名次"),
        Column::new("地区"),
        Column::with_unit("综合得分", "分"),
    ];
    for it in &spec.items {
        let name = plan
            .indicator(it.indicator.as_str())
            .map(|i| format!("{}{}", i.name, it.basis.zh(i.measure)))
            .unwrap_or_else(|| it.indicator.to_string());
        columns.push(Column::with_unit(&format!("{} {name}", it.code), "得分"));
    }
    let table_rows = rows
        .iter()
        .map(|x| {
            let mut row = vec![
                Cell::Number {
                    value: x.rank as f64,
                    decimals: 0,
                },
                Cell::number(x.previous_rank.map(|p| p as f64), 0),
                Cell::text(x.name.clone()),
                Cell::number(Some(x.composite), 2),
            ];
            row.extend(x.scores.iter().map(|s| Cell::number(Some(*s), 2)));
            row
        })
        .collect();
    Section {
        heading: "县区争先进位".into(),
        paragraphs,
        tables: vec![Table {
            title: "县区争先进位".into(),
            columns,
            rows: table_rows,
        }],
        charts: Vec::new(),
    }
}

fn pace_section(snap: &Snapshot, targets: &[&Target]) -> Section {
    let plan = &snap.plan;
    let rows: Vec<Vec<Cell>> = targets
        .iter()
        .filter(|t| {
            matches!(
                snap.status(t.code.as_str()),
                Status::OffTrack | Status::AtRisk
            )
        })
        .filter_map(|t| {
            let e = snap.eval(t.code.as_str())?;
            let p = e.pace?;
            let dec = plan
                .indicator(t.indicator.as_str())
                .map(|i| i.decimals)
                .unwrap_or(2)
                .max(1);
            Some(vec![
                Cell::text(t.code.to_string()),
                Cell::text(t.name.clone()),
                Cell::text(t.unit.clone()),
                Cell::number(Some(p.months_left), 1),
                Cell::number(Some(p.needed_per_month), dec),
                Cell::number(p.recent_per_month, dec),
                Cell::text(match p.recent_per_month {
                    Some(r) if r > 0.0 && p.needed_per_month > 0.0 => {
                        format!("需达到近期速度的{}倍", fmt_num(p.needed_per_month / r, 1))
                    }
                    _ => String::new(),
                }),
            ])
        })
        .collect();
    Section {
        heading: "完成目标所需进度".into(),
        paragraphs: vec![if rows.is_empty() {
            "各项目标按当前进度均可如期完成。".to_string()
        } else {
            format!(
                "对{}项落后目标，按剩余时间测算每月还需完成的量，并与近期实际速度比较。",
                rows.len()
            )
        }],
        tables: vec![Table {
            title: "完成目标所需进度".into(),
            columns: vec![
                Column::new("编号"),
                Column::new("目标"),
                Column::new("单位"),
                Column::with_unit("剩余时间", "月"),
                Column::new("每月还需"),
                Column::new("近期每月"),
                Column::new("说明"),
            ],
            rows,
        }],
        charts: Vec::new(),
    }
}

/// What report to make.
#[derive(Debug, Clone, Copy)]
pub struct ReportRequest<'a> {
    /// The period whose end is the data date.
    pub period: kc_domain::Period,
    /// `city`, `area:…` or `dept:…`.
    pub scope: &'a str,
    /// Revised (default) or original target values.
    pub targets: kc_domain::plan::TargetSet,
}

/// Why a report could not be made; the text is for the user.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("规划“{0}”不存在")]
    NoPlan(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] kc_store::StoreError),
}

/// The report of `plan_code` for `period` (its end is the data date), for
/// the city, an area or a department (`scope`: `city`, `area:…`, `dept:…`).
/// Only approved (official) values count: a report is a document of record.
pub async fn generate(
    store: &kc_store::Store,
    engines: &crate::registries::Engines,
    plan_code: &str,
    request: &ReportRequest<'_>,
    today: chrono::NaiveDate,
) -> Result<Report, ReportError> {
    let (period, scope) = (request.period, request.scope);
    let mut stored = store
        .plan(plan_code)
        .await?
        .ok_or_else(|| ReportError::NoPlan(plan_code.to_string()))?;
    let revised = stored.plan.has_revisions();
    stored.plan = stored.plan.with_targets(request.targets);
    let plan = &stored.plan;
    let variant = Variant::parse(scope, plan).map_err(ReportError::Invalid)?;
    let as_of = period.end();
    if as_of < plan.period.start || period.start() > plan.period.end {
        return Err(ReportError::Invalid(format!(
            "{}不在规划期（{} 至 {}）内",
            period.zh(),
            plan.period.start,
            plan.period.end
        )));
    }
    if as_of > today {
        return Err(ReportError::Invalid(format!(
            "{}尚未结束，不能出具报告",
            period.zh()
        )));
    }
    let engine = engines.get(store, &stored, today).await?;
    let targets_used = request.targets;
    let records = crate::workflow::visible_records(store, plan, None).await?;
    let guard = engine.read().await;
    let city = crate::evaluate_snapshot(
        stored.clone(),
        records.clone(),
        &Scope::City,
        Some(as_of),
        today,
        Some(&guard),
    );
    let (warnings, _) = crate::analytics::warnings(plan, &city.set, as_of);
    let sets = crate::analytics::area_series(plan, &records, Some(&guard));
    let ranking = crate::analytics::ranking(plan, &sets, as_of);
    let snap = match &variant {
        Variant::Area(a) => crate::evaluate_snapshot(
            stored.clone(),
            records,
            &Scope::Area(a.clone()),
            Some(as_of),
            today,
            Some(&guard),
        ),
        _ => city,
    };
    let mut report = build(&snap, &warnings, ranking.as_ref(), &variant, today);
    if revised {
        // Say which targets a revised plan's report is judged against.
        report.basis =
            report
                .basis
                .replacen("所列目标值", &format!("所列{}", targets_used.zh()), 1);
    }
    report.basis.push_str("只采用审核通过的正式数据。");
    Ok(report)
}
