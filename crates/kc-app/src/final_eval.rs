//! The final evaluation (终期评估) of a plan whose period has ended: every
//! target judged at its deadline (values of later periods shown beside it,
//! never used), tallied by level (工程, 行动…), by lead department and by
//! area against the area's own targets; the biggest shortfalls with the
//! causes people recorded in value notes and review comments; and what
//! carries over into the next plan. `assess` is pure; `final_evaluation`
//! gathers the approved values (a document of record, like the report).

use chrono::NaiveDate;
use kc_domain::plan::{Target, TargetValue, fmt_num};
use kc_domain::report::{Cell, Column, Report, Section, Table, chinese_date, chinese_ordinal};
use kc_domain::{Scope, Status};
use serde::Serialize;

use crate::Snapshot;
use crate::report::ReportError;

/// A target's verdict at its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Achieved,
    Missed,
    NoData,
}

impl Verdict {
    pub fn zh(self) -> &'static str {
        match self {
            Verdict::Achieved => "已完成",
            Verdict::Missed => "未完成",
            Verdict::NoData => "无数据",
        }
    }

    fn of(status: Status, value: Option<f64>) -> Verdict {
        match (status, value) {
            (Status::Achieved, _) => Verdict::Achieved,
            (_, None) => Verdict::NoData,
            _ => Verdict::Missed,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FinalTarget {
    pub code: String,
    pub name: String,
    pub node: Option<String>,
    /// Lead units (牵头单位) by name.
    pub lead: Vec<String>,
    pub describe: String,
    pub unit: String,
    pub deadline: NaiveDate,
    /// The value the target is judged on (the latest on or before the
    /// deadline) and its date.
    pub value: Option<f64>,
    pub value_date: Option<NaiveDate>,
    pub verdict: Verdict,
    pub completion: Option<f64>,
    /// How far the value is from the target (in the target's unit), when
    /// missed and the target is a number.
    pub gap: Option<f64>,
    /// The latest value of a period after the deadline (期后数据).
    pub after_deadline: Option<(NaiveDate, f64)>,
    /// Why, as people recorded it: value notes and review comments.
    pub causes: Vec<String>,
}

/// Achieved, missed and no-data counts of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub name: String,
    pub achieved: usize,
    pub missed: usize,
    pub no_data: usize,
}

impl Tally {
    fn new(name: &str) -> Tally {
        Tally {
            name: name.to_string(),
            ..Tally::default()
        }
    }

    fn add(&mut self, v: Verdict) {
        match v {
            Verdict::Achieved => self.achieved += 1,
            Verdict::Missed => self.missed += 1,
            Verdict::NoData => self.no_data += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.achieved + self.missed + self.no_data
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FinalEvaluation {
    pub plan_code: String,
    /// The scope as a whole (蚌埠市（全市）) and who signs the report.
    pub whole: String,
    pub issuer: String,
    pub plan_name: String,
    pub version: i64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The day the evaluation was drawn up (later values up to it are shown
    /// as after-deadline data).
    pub drawn_up: NaiveDate,
    pub overall: Tally,
    pub targets: Vec<FinalTarget>,
    /// Per level of the plan's tree (工程, 行动…): its name and one tally
    /// per node of that level.
    pub by_level: Vec<(String, Vec<Tally>)>,
    pub by_department: Vec<Tally>,
    /// Each area against its own targets.
    pub by_area: Vec<Tally>,
    /// Codes of missed targets, the furthest behind first.
    pub shortfalls: Vec<String>,
    /// Missed or unmeasured targets that carry over into the next plan.
    pub carry_over: Vec<String>,
}

fn causes(snap: &Snapshot, t: &Target) -> Vec<String> {
    let mut recs: Vec<&kc_store::ValueRecord> = snap
        .records
        .iter()
        .filter(|r| r.indicator == t.indicator.as_str() && r.period.end() <= t.deadline)
        .collect();
    recs.sort_by_key(|r| std::cmp::Reverse(r.period.end()));
    let mut out: Vec<String> = Vec::new();
    for r in recs {
        for text in [&r.note, &r.review_comment] {
            let text = text.trim();
            if text.is_empty() || out.iter().any(|o| o.ends_with(text)) {
                continue;
            }
            let who = match &r.scope {
                Scope::City => snap.plan.city.clone(),
                Scope::Area(a) | Scope::Department(a) => {
                    snap.plan.unit_name(a.as_str()).to_string()
                }
            };
            out.push(format!("{who}（{}）：{text}", r.period.zh()));
        }
        if out.len() >= 3 {
            break;
        }
    }
    out
}

/// The evaluation from the city's snapshot and each area's (all taken at
/// `drawn_up`, after the plan's end).
pub fn assess(city: &Snapshot, areas: &[&Snapshot], drawn_up: NaiveDate) -> FinalEvaluation {
    let plan = &city.plan;
    let mut overall = Tally::new(&plan.city);
    let mut targets = Vec::new();
    for t in &plan.targets {
        let Some(e) = city.eval(t.code.as_str()) else {
            continue;
        };
        let verdict = Verdict::of(e.status, e.value);
        overall.add(verdict);
        let gap = match (verdict, t.value, e.value) {
            (Verdict::Missed, TargetValue::Number { value }, Some(v)) => Some((value - v).abs()),
            _ => None,
        };
        let lead = t
            .node
            .as_ref()
            .and_then(|n| plan.node(n.as_str()))
            .map(|n| {
                n.lead
                    .iter()
                    .map(|c| plan.unit_name(c.as_str()).to_string())
                    .collect()
            })
            .unwrap_or_default();
        targets.push(FinalTarget {
            code: t.code.to_string(),
            name: t.name.clone(),
            node: t.node.as_ref().map(|n| n.to_string()),
            lead,
            describe: t.describe(),
            unit: t.unit.clone(),
            deadline: t.deadline,
            value: e.value,
            value_date: e.value_date,
            verdict,
            completion: e.completion,
            gap,
            after_deadline: e.after_deadline.last().map(|p| (p.date, p.value)),
            causes: if verdict == Verdict::Achieved {
                Vec::new()
            } else {
                causes(city, t)
            },
        });
    }
    // Each level's nodes, counting the targets anywhere below them.
    let under = |node: &str, t: &FinalTarget| {
        let mut at = t.node.clone();
        while let Some(n) = at {
            if n == node {
                return true;
            }
            at = plan
                .node(&n)
                .and_then(|x| x.parent.as_ref().map(|p| p.to_string()));
        }
        false
    };
    let by_level = plan
        .levels
        .iter()
        .map(|level| {
            let tallies = plan
                .nodes
                .iter()
                .filter(|n| &n.level == level)
                .map(|n| {
                    let mut tally = Tally::new(&format!("{} {}", n.code, n.name));
                    for t in targets.iter().filter(|t| under(n.code.as_str(), t)) {
                        tally.add(t.verdict);
                    }
                    tally
                })
                .filter(|t| t.total() > 0)
                .collect();
            (level.clone(), tallies)
        })
        .collect();
    let by_department = plan
        .departments
        .iter()
        .map(|d| {
            let mut tally = Tally::new(&d.name);
            for t in targets.iter().filter(|t| t.lead.contains(&d.name)) {
                tally.add(t.verdict);
            }
            tally
        })
        .filter(|t| t.total() > 0)
        .collect();
    let by_area = areas
        .iter()
        .map(|s| {
            let mut tally = Tally::new(s.scope.name(plan));
            for t in &s.plan.targets {
                if let Some(e) = s.eval(t.code.as_str()) {
                    tally.add(Verdict::of(e.status, e.value));
                }
            }
            tally
        })
        .collect();
    let mut missed: Vec<&FinalTarget> = targets
        .iter()
        .filter(|t| t.verdict == Verdict::Missed)
        .collect();
    missed.sort_by(|a, b| {
        a.completion
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&b.completion.unwrap_or(f64::NEG_INFINITY))
    });
    let shortfalls = missed.iter().map(|t| t.code.clone()).collect();
    let carry_over = targets
        .iter()
        .filter(|t| t.verdict != Verdict::Achieved)
        .map(|t| t.code.clone())
        .collect();
    FinalEvaluation {
        plan_code: plan.code.to_string(),
        whole: plan.whole_label(),
        issuer: plan.report_issuer(),
        plan_name: plan.name.clone(),
        version: city.version.version,
        start: plan.period.start,
        end: plan.period.end,
        drawn_up,
        overall,
        targets,
        by_level,
        by_department,
        by_area,
        shortfalls,
        carry_over,
    }
}

/// The final evaluation of `plan_code` from the approved values, drawn up
/// on `today`. Refused while the plan's period has not ended.
pub async fn final_evaluation(
    store: &kc_store::Store,
    engines: &crate::registries::Engines,
    plan_code: &str,
    today: NaiveDate,
) -> Result<FinalEvaluation, ReportError> {
    let stored = store
        .plan(plan_code)
        .await?
        .ok_or_else(|| ReportError::NoPlan(plan_code.to_string()))?;
    if today <= stored.plan.period.end {
        return Err(ReportError::Invalid(format!(
            "规划期到 {} 才结束，终期评估在规划期结束后进行；当前进度请看总览或进展报告",
            stored.plan.period.end
        )));
    }
    let engine = engines.get(store, &stored, today).await?;
    let records = crate::workflow::visible_records(store, &stored.plan, None).await?;
    let guard = engine.read().await;
    let snap = |scope: &Scope| {
        crate::evaluate_snapshot(
            stored.clone(),
            records.clone(),
            scope,
            Some(today),
            today,
            Some(&guard),
        )
    };
    let city = snap(&Scope::City);
    let areas: Vec<Snapshot> = stored
        .plan
        .areas
        .iter()
        .map(|a| snap(&Scope::Area(a.code.clone())))
        .collect();
    let refs: Vec<&Snapshot> = areas.iter().collect();
    Ok(assess(&city, &refs, today))
}

fn tally_table(title: &str, first: &str, rows: &[Tally]) -> Table {
    Table {
        title: title.to_string(),
        columns: vec![
            Column::new(first),
            Column::new("目标数"),
            Column::new("已完成"),
            Column::new("未完成"),
            Column::new("无数据"),
        ],
        rows: rows
            .iter()
            .map(|t| {
                let n = |v: usize| Cell::Number {
                    value: v as f64,
                    decimals: 0,
                };
                vec![
                    Cell::text(t.name.clone()),
                    n(t.total()),
                    n(t.achieved),
                    n(t.missed),
                    n(t.no_data),
                ]
            })
            .collect(),
    }
}

fn num(v: Option<f64>, decimals: u8) -> Cell {
    v.map(|value| Cell::Number { value, decimals })
        .unwrap_or(Cell::Empty)
}

/// The evaluation as a report document (Word, Excel, HTML by the writers).
pub fn report(fe: &FinalEvaluation, issued: NaiveDate) -> Report {
    let o = &fe.overall;
    let mut sections = vec![Section {
        heading: "总体情况".into(),
        paragraphs: vec![format!(
            "规划期 {} 至 {}，共 {} 项考核目标，各按截止日期的数据评估：已完成 {} 项，未完成 {} 项，无数据 {} 项。截止日期以后的数据作为期后数据列出，不计入评估。",
            chinese_date(fe.start),
            chinese_date(fe.end),
            o.total(),
            o.achieved,
            o.missed,
            o.no_data
        )],
        tables: Vec::new(),
        charts: Vec::new(),
    }];
    sections.push(Section {
        heading: "各项目标完成情况".into(),
        paragraphs: Vec::new(),
        tables: vec![Table {
            title: "目标完成情况".into(),
            columns: vec![
                Column::new("编号"),
                Column::new("目标"),
                Column::new("目标值"),
                Column::new("评估值"),
                Column::new("数据日期"),
                Column::new("完成进度（%）"),
                Column::new("评估结论"),
                Column::new("期后数据"),
            ],
            rows: fe
                .targets
                .iter()
                .map(|t| {
                    vec![
                        Cell::text(t.code.clone()),
                        Cell::text(t.name.clone()),
                        Cell::text(t.describe.clone()),
                        num(t.value, 2),
                        Cell::text(t.value_date.map(|d| d.to_string()).unwrap_or_default()),
                        num(t.completion, 1),
                        Cell::text(t.verdict.zh()),
                        Cell::text(
                            t.after_deadline
                                .map(|(d, v)| format!("{} {}", d, fmt_num(v, 2)))
                                .unwrap_or_default(),
                        ),
                    ]
                })
                .collect(),
        }],
        charts: Vec::new(),
    });
    let mut groups: Vec<Table> = fe
        .by_level
        .iter()
        .map(|(level, tallies)| tally_table(&format!("分{level}"), level, tallies))
        .collect();
    groups.push(tally_table("分牵头单位", "牵头单位", &fe.by_department));
    groups.push(tally_table("分地区（本地区目标）", "地区", &fe.by_area));
    sections.push(Section {
        heading: "分工程、行动、单位和地区的完成情况".into(),
        paragraphs: vec!["地区按目标任务分解表中本地区自己的目标评估。".into()],
        tables: groups,
        charts: Vec::new(),
    });
    let by_code = |c: &str| fe.targets.iter().find(|t| t.code == c);
    sections.push(Section {
        heading: "主要差距及原因".into(),
        paragraphs: if fe.shortfalls.is_empty() {
            vec!["全部有数据的目标均已完成。".into()]
        } else {
            vec!["按完成进度从低到高排列；原因摘自填报说明和审核意见。".into()]
        },
        tables: vec![Table {
            title: "主要差距".into(),
            columns: vec![
                Column::new("编号"),
                Column::new("目标"),
                Column::new("完成进度（%）"),
                Column::new("差距"),
                Column::new("原因（填报说明、审核意见）"),
            ],
            rows: fe
                .shortfalls
                .iter()
                .filter_map(|c| by_code(c))
                .take(10)
                .map(|t| {
                    vec![
                        Cell::text(t.code.clone()),
                        Cell::text(t.name.clone()),
                        num(t.completion, 1),
                        Cell::text(
                            t.gap
                                .map(|g| format!("{} {}", fmt_num(g, 2), t.unit))
                                .unwrap_or_default(),
                        ),
                        Cell::text(if t.causes.is_empty() {
                            "未记录".to_string()
                        } else {
                            t.causes.join("；")
                        }),
                    ]
                })
                .collect(),
        }],
        charts: Vec::new(),
    });
    sections.push(Section {
        heading: "结转事项".into(),
        paragraphs: vec![if fe.carry_over.is_empty() {
            "无。".to_string()
        } else {
            format!(
                "以下 {} 项目标未完成或无数据，建议纳入下一轮规划继续推进：{}。",
                fe.carry_over.len(),
                fe.carry_over
                    .iter()
                    .filter_map(|c| by_code(c))
                    .map(|t| format!("{} {}", t.code, t.name))
                    .collect::<Vec<_>>()
                    .join("；")
            )
        }],
        tables: Vec::new(),
        charts: Vec::new(),
    });
    for (i, s) in sections.iter_mut().enumerate() {
        s.heading = format!("{}、{}", chinese_ordinal(i + 1), s.heading);
    }
    Report {
        title: format!("{}终期评估报告", fe.plan_name),
        subtitle: format!(
            "（{}—{} · {}）",
            chinese_date(fe.start),
            chinese_date(fe.end),
            fe.whole
        ),
        issuer: fe.issuer.clone(),
        date: chinese_date(issued),
        basis: format!(
            "依据《{}》第 {} 版所列目标值；各目标按截止日期评估，只采用审核通过的正式数据。",
            fe.plan_name, fe.version
        ),
        sections,
    }
}

/// A drafted next plan: its text and what `plan check` says is still to
/// fill in.
#[derive(Debug, Clone)]
pub struct Draft {
    pub text: String,
    pub file: String,
    pub warnings: Vec<String>,
}

/// Drafts the plan that follows `plan_code` (`plan draft`): baselines from
/// the final evaluation (values at each old deadline), targets `"待定"`.
/// The draft is checked as `plan check` would; it is not stored.
pub async fn draft(
    store: &kc_store::Store,
    engines: &crate::registries::Engines,
    plan_code: &str,
    start: NaiveDate,
    end: NaiveDate,
    today: NaiveDate,
) -> Result<Draft, ReportError> {
    if start >= end {
        return Err(ReportError::Invalid(format!(
            "新规划期的结束日期 {end} 应晚于开始日期 {start}"
        )));
    }
    let fe = final_evaluation(store, engines, plan_code, today).await?;
    let stored = store
        .plan(plan_code)
        .await?
        .ok_or_else(|| ReportError::NoPlan(plan_code.to_string()))?;
    if start <= stored.plan.period.end {
        return Err(ReportError::Invalid(format!(
            "新规划期应在 {} 之后开始",
            stored.plan.period.end
        )));
    }
    let text = store
        .plan_source(plan_code, stored.version.version)
        .await?
        .ok_or_else(|| ReportError::NoPlan(plan_code.to_string()))?;
    let finals = fe
        .targets
        .iter()
        .filter_map(|t| {
            Some((
                t.code.clone(),
                kc_planfile::FinalValue {
                    value: t.value?,
                    date: t.value_date?,
                },
            ))
        })
        .collect();
    let file = format!("{plan_code}-next.toml");
    let source = format!("第 {} 版，终期评估于 {today}", stored.version.version);
    let text = kc_planfile::draft_next(&file, &text, &stored.plan, start, end, &finals, &source)
        .map_err(|e| ReportError::Invalid(e.to_string()))?;
    let checked =
        kc_planfile::check_plan(&file, &text).map_err(|e| ReportError::Invalid(e.to_string()))?;
    Ok(Draft {
        warnings: checked.warning_lines(&file),
        text,
        file,
    })
}
