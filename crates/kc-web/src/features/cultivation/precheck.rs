//! Enterprise cultivation pages: qualification pre-checks per area with
//! each firm's gaps, a firm's three checks condition by condition, the
//! 两清零 worklists and the 亩均 evaluation under two weightings. Every
//! table exports to Excel.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use kc_app::cultivation::{self, Registers};
use kc_domain::eligibility::{self, Outcome, Verdict};
use kc_io::Cell;

use crate::auth::Session;
use crate::error::AppError;
use crate::pages::Opt;
use crate::workflow::PlanHead;
use crate::{AppState, Params};

/// The plan, the registers gathered at the judgement date (`as_of`, default
/// today: certificates valid then, years since registration then), that
/// date and the figures year it implies (the last fiscal year closed by then,
/// unless `year` names one).
async fn gather(
    st: &AppState,
    sess: &Session,
    code: &str,
    q: &Params,
) -> Result<(kc_domain::Plan, PlanHead, Registers, NaiveDate, i32), AppError> {
    let (plan, nav) = crate::workflow::plan_of(st, sess, code).await?;
    let (_, engine) = st.plan_and_engine(code).await?;
    let e = engine.read().await;
    let on = match q.get("as_of").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => st.today(),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=2100).contains(&d.year()))
            .ok_or_else(|| {
                AppError::BadRequest(format!("判断日期“{s}”不正确，应为 YYYY-MM-DD 格式的日期"))
            })?,
    };
    let year = match q.get("year").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => cultivation::figures_year(on),
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (2000..=2100).contains(y))
            .ok_or_else(|| AppError::BadRequest(format!("年度“{y}”不正确，应为四位年份")))?,
    };
    let regs = Registers::gather(&e, on, year);
    Ok((plan, nav, regs, on, year))
}

/// Every firm's latest service record.
async fn followups(
    st: &AppState,
    code: &str,
) -> Result<std::collections::HashMap<String, cultivation::FollowUp>, AppError> {
    let (_, engine) = st.plan_and_engine(code).await?;
    let e = engine.read().await;
    Ok(cultivation::followups(&e))
}

pub(crate) fn area_param(plan: &kc_domain::Plan, q: &Params) -> Result<Option<String>, AppError> {
    match q.get("area").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(a) if plan.area(a).is_some() => Ok(Some(a.to_string())),
        Some(a) => Err(AppError::NotFound(format!("本规划中没有地区“{a}”"))),
    }
}

pub(crate) fn area_options(plan: &kc_domain::Plan, chosen: Option<&str>) -> Vec<Opt> {
    std::iter::once(Opt {
        value: String::new(),
        label: "全市".into(),
        selected: chosen.is_none(),
    })
    .chain(plan.areas.iter().map(|a| Opt {
        value: a.code.to_string(),
        label: a.name.clone(),
        selected: chosen == Some(a.code.as_str()),
    }))
    .collect()
}

fn t(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

// ---- pre-checks ---------------------------------------------------------------------------------

pub struct PrecheckView {
    pub code: String,
    pub name: String,
    pub area: String,
    pub cluster: String,
    pub verdict: &'static str,
    pub verdict_code: &'static str,
    pub score: String,
    pub gaps: String,
}

#[derive(Template)]
#[template(path = "cultivation.html")]
pub struct PrecheckPage {
    pub nav: PlanHead,
    pub rules: Vec<Opt>,
    pub areas: Vec<Opt>,
    pub verdicts: Vec<Opt>,
    pub rule_name: String,
    pub version: String,
    pub sources: Vec<String>,
    pub on: String,
    pub year: i32,
    pub counts: Vec<(&'static str, usize)>,
    pub rows: Vec<PrecheckView>,
    pub query: String,
    pub pager: crate::paging::Pager,
    /// What the reader typed in the search box (name or credit code).
    pub text: String,
}

/// What a firm lacks, in one line: the conditions not met or near, with
/// their gaps; missing figures last.
fn gaps_of(c: &eligibility::Check) -> String {
    let mut parts: Vec<String> = c
        .conditions
        .iter()
        .filter(|x| matches!(x.outcome, Outcome::NotMet | Outcome::Near))
        .map(|x| {
            if x.gap.is_empty() {
                format!("{}：{}（要求{}）", x.label, x.actual, x.required)
            } else {
                format!("{}：{}，{}", x.label, x.actual, x.gap)
            }
        })
        .collect();
    let missing: Vec<&str> = c
        .conditions
        .iter()
        .filter(|x| x.outcome == Outcome::Missing)
        .map(|x| x.label)
        .collect();
    if !missing.is_empty() {
        parts.push(format!("缺数据：{}", missing.join("、")));
    }
    parts.join("；")
}

/// The qualification a pre-check list asks for (`rule`, default `hte`), by
/// code and name.
fn rule_of(q: &Params) -> Result<(&'static str, &'static str), AppError> {
    let rule = q.get("rule").map(String::as_str).unwrap_or("hte");
    eligibility::RULES
        .iter()
        .find(|(c, _)| *c == rule)
        .copied()
        .ok_or_else(|| {
            AppError::BadRequest(format!(
                "资质“{rule}”不正确：可选 {}",
                eligibility::RULES
                    .iter()
                    .map(|(c, n)| format!("{c}（{n}）"))
                    .collect::<Vec<_>>()
                    .join("、")
            ))
        })
}

/// `GET /plans/{plan}/cultivation?rule=hte|tsme|zjtx&area=&verdict=&year=&format=xlsx`
pub async fn prechecks(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    let (plan, nav, regs, on, year) = gather(&st, &sess, &code, &q).await?;
    let (rule, rule_name) = rule_of(&q)?;
    let area = area_param(&plan, &q)?;
    let verdict = q.get("verdict").cloned().unwrap_or_default();
    let book = kc_planfile::default_rules();
    let all = cultivation::precheck_list(&regs, book, rule, on, area.as_deref());
    let counts: Vec<(&'static str, usize)> = Verdict::ALL
        .iter()
        .map(|v| (v.zh(), all.iter().filter(|r| r.check.verdict == *v).count()))
        .collect();
    let text = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let rows: Vec<PrecheckView> = all
        .iter()
        .filter(|r| verdict.is_empty() || r.check.verdict.code() == verdict)
        .filter(|r| crate::paging::matches(&text, &[&r.firm.name, &r.firm.credit_code]))
        .map(|r| PrecheckView {
            code: r.firm.credit_code.clone(),
            name: r.firm.name.clone(),
            area: plan.unit_name(&r.firm.area).to_string(),
            cluster: r.firm.cluster.clone(),
            verdict: r.check.verdict.zh(),
            verdict_code: r.check.verdict.code(),
            score: r.check.score.map(|s| format!("{s}")).unwrap_or_default(),
            gaps: gaps_of(&r.check),
        })
        .collect();
    if q.get("format").map(String::as_str) == Some("xlsx") {
        let table: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| {
                vec![
                    t(&r.code),
                    t(&r.name),
                    t(&r.area),
                    t(&r.cluster),
                    t(r.verdict),
                    r.score.parse().map_or(Cell::Empty, Cell::Number),
                    t(&r.gaps),
                ]
            })
            .collect();
        return crate::registries::table_download(
            &st,
            &sess,
            &format!("cultivation:precheck:{rule}"),
            &format!("{rule_name}预审（判断日期 {on}）"),
            &[
                "统一社会信用代码",
                "企业名称",
                "地区",
                "产业集群",
                "结论",
                "得分",
                "差距",
            ],
            &table,
        )
        .await;
    }
    let query = format!(
        "rule={rule}&area={}&verdict={verdict}&year={year}&as_of={on}&q={}&",
        area.clone().unwrap_or_default(),
        crate::paging::encode(&text)
    );
    let (rows, pager) =
        crate::paging::paginate(rows, &q, &format!("/plans/{code}/cultivation"), "prechecks");
    let page = PrecheckPage {
        pager,
        text,
        nav,
        rules: eligibility::RULES
            .iter()
            .map(|(c, n)| Opt {
                value: c.to_string(),
                label: n.to_string(),
                selected: *c == rule,
            })
            .collect(),
        areas: area_options(&plan, area.as_deref()),
        verdicts: std::iter::once(("", "全部"))
            .chain(Verdict::ALL.iter().map(|v| (v.code(), v.zh())))
            .map(|(c, n)| Opt {
                value: c.into(),
                label: n.into(),
                selected: c == verdict,
            })
            .collect(),
        rule_name: rule_name.to_string(),
        version: book.version.clone(),
        sources: book.sources.clone(),
        on: on.to_string(),
        year,
        counts,
        rows,
        query,
    };
    Ok(Html(page.render()?).into_response())
}

/// `GET /api/v1/plans/{plan}/cultivation/precheck?rule=&as_of=&area=&verdict=&year=`:
/// the pre-check list as the page has it, judged at `as_of` (default
/// today), every condition with its outcome, figure, requirement and gap.
pub async fn precheck_api(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<axum::Json<serde_json::Value>, crate::error::ApiError> {
    let (plan, _, regs, on, year) = gather(&st, &sess, &code, &q).await?;
    let (rule_code, rule_name) = rule_of(&q)?;
    let area = area_param(&plan, &q)?;
    let verdict = q.get("verdict").cloned().unwrap_or_default();
    let book = kc_planfile::default_rules();
    let all = cultivation::precheck_list(&regs, book, rule_code, on, area.as_deref());
    let rows: Vec<serde_json::Value> = all
        .iter()
        .filter(|r| verdict.is_empty() || r.check.verdict.code() == verdict)
        .map(|r| {
            serde_json::json!({
                "credit_code": r.firm.credit_code,
                "name": r.firm.name,
                "area": r.firm.area,
                "area_name": plan.unit_name(&r.firm.area),
                "verdict": r.check.verdict.code(),
                "verdict_zh": r.check.verdict.zh(),
                "direct": r.check.direct,
                "score": r.check.score.map(|s| s.to_string()),
                "conditions": r.check.conditions.iter().map(|c| serde_json::json!({
                    "code": c.code,
                    "label": c.label,
                    "outcome": c.outcome,
                    "outcome_zh": c.outcome.zh(),
                    "actual": c.actual,
                    "required": c.required,
                    "gap": c.gap,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({
        "rule": rule_code,
        "rule_name": rule_name,
        "version": book.version,
        "as_of": on,
        "year": year,
        "total": rows.len(),
        "rows": rows,
    })))
}

pub struct ConditionView {
    pub label: &'static str,
    pub outcome: &'static str,
    pub outcome_code: Outcome,
    pub actual: String,
    pub required: String,
    pub gap: String,
}

pub struct CheckView {
    pub name: &'static str,
    pub held: bool,
    pub verdict: &'static str,
    pub verdict_code: &'static str,
    pub direct: String,
    pub score: String,
    pub conditions: Vec<ConditionView>,
}

#[derive(Template)]
#[template(path = "cultivation_firm.html")]
pub struct FirmPage {
    pub nav: PlanHead,
    pub code: String,
    pub name: String,
    pub area: String,
    pub on: String,
    pub years: String,
    pub version: String,
    pub checks: Vec<CheckView>,
}

/// `GET /plans/{plan}/cultivation/firm?code=…`
pub async fn firm(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let (plan, nav, regs, on, _) = gather(&st, &sess, &code, &q).await?;
    let credit = q.get("code").cloned().unwrap_or_default();
    let f = regs
        .firm(&credit)
        .ok_or_else(|| AppError::NotFound(format!("企业登记库中没有“{credit}”")))?;
    let facts = regs.facts(&credit).cloned().unwrap_or_default();
    let book = kc_planfile::default_rules();
    let checks = cultivation::checks(book, &facts, on);
    let page = FirmPage {
        nav,
        code: credit.clone(),
        name: f.name.clone(),
        area: plan.unit_name(&f.area).to_string(),
        on: on.to_string(),
        years: facts
            .years
            .iter()
            .map(|y| y.year.to_string())
            .collect::<Vec<_>>()
            .join("、"),
        version: book.version.clone(),
        checks: checks
            .iter()
            .zip(eligibility::RULES)
            .map(|(c, (rule, name))| CheckView {
                name,
                held: regs.holds(&credit, rule),
                verdict: c.verdict.zh(),
                verdict_code: c.verdict.code(),
                direct: c.direct.clone().unwrap_or_default(),
                score: c.score.map(|s| format!("{s}")).unwrap_or_default(),
                conditions: c
                    .conditions
                    .iter()
                    .map(|x| ConditionView {
                        label: x.label,
                        outcome: x.outcome.zh(),
                        outcome_code: x.outcome,
                        actual: x.actual.clone(),
                        required: x.required.clone(),
                        gap: x.gap.clone(),
                    })
                    .collect(),
            })
            .collect(),
    };
    Ok(Html(page.render()?))
}

// ---- 两清零 ---------------------------------------------------------------------------------------

pub struct WorkView {
    pub code: String,
    pub name: String,
    pub area: String,
    pub revenue: String,
    pub flag: &'static str,
    /// The latest service record: owner, date and status.
    pub follow: String,
}

#[derive(Template)]
#[template(path = "two_zero.html")]
pub struct TwoZeroPage {
    pub nav: PlanHead,
    pub areas: Vec<Opt>,
    pub year: i32,
    pub no_rd: Vec<WorkView>,
    pub no_inst: Vec<WorkView>,
    pub by_area: Vec<(String, usize, usize)>,
    pub query: String,
}

/// `GET /plans/{plan}/cultivation/two-zero?area=&year=&format=xlsx`
pub async fn two_zero(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    let (plan, nav, regs, _, year) = gather(&st, &sess, &code, &q).await?;
    let area = area_param(&plan, &q)?;
    let (no_rd, no_inst) = cultivation::two_zero(&regs, year, area.as_deref());
    let follow = followups(&st, &code).await?;
    let follow_of = |c: &str| {
        follow
            .get(c)
            .map(|f| {
                format!(
                    "{} {} {}",
                    f.owner,
                    f.last_on.map(|d| d.to_string()).unwrap_or_default(),
                    f.status
                )
            })
            .unwrap_or_default()
    };
    let view = |r: &cultivation::WorkRow| WorkView {
        follow: follow_of(&r.firm.credit_code),
        code: r.firm.credit_code.clone(),
        name: r.firm.name.clone(),
        area: plan.unit_name(&r.firm.area).to_string(),
        revenue: crate::view::num(r.revenue, 0),
        flag: if r.flag.is_none() { "未填报" } else { "无" },
    };
    if q.get("format").map(String::as_str) == Some("xlsx") {
        let mut table = Vec::new();
        for (list, rows) in [
            ("无研发活动（营收≥1亿元）", &no_rd),
            ("无研发机构（营收≥5亿元）", &no_inst),
        ] {
            for r in rows.iter() {
                table.push(vec![
                    t(list),
                    t(&r.firm.credit_code),
                    t(&r.firm.name),
                    t(plan.unit_name(&r.firm.area)),
                    Cell::Number(r.revenue),
                    t(if r.flag.is_none() { "未填报" } else { "无" }),
                    t(follow_of(&r.firm.credit_code)),
                ]);
            }
        }
        return crate::registries::table_download(
            &st,
            &sess,
            "cultivation:two_zero",
            "两清零工作清单",
            &[
                "清单",
                "统一社会信用代码",
                "企业名称",
                "地区",
                "营业收入（万元）",
                "研发活动/机构",
            ],
            &table,
        )
        .await;
    }
    // Per area (always the whole city, so an area sees where it stands).
    let (all_rd, all_inst) = cultivation::two_zero(&regs, year, None);
    let by_area = plan
        .areas
        .iter()
        .map(|a| {
            (
                a.name.clone(),
                all_rd
                    .iter()
                    .filter(|r| r.firm.area == a.code.as_str())
                    .count(),
                all_inst
                    .iter()
                    .filter(|r| r.firm.area == a.code.as_str())
                    .count(),
            )
        })
        .collect();
    let page = TwoZeroPage {
        nav,
        areas: area_options(&plan, area.as_deref()),
        year,
        no_rd: no_rd.iter().map(view).collect(),
        no_inst: no_inst.iter().map(view).collect(),
        by_area,
        query: format!("area={}&year={year}&", area.unwrap_or_default()),
    };
    Ok(Html(page.render()?).into_response())
}

// ---- 亩均 -----------------------------------------------------------------------------------------

pub struct MuView {
    pub code: String,
    pub name: String,
    pub area: String,
    pub values: Vec<String>,
    pub score_a: String,
    pub class_a: String,
    pub score_b: String,
    pub class_b: String,
    pub moved: &'static str,
    pub missing: String,
}

#[derive(Template)]
#[template(path = "mujun.html")]
pub struct MujunPage {
    pub nav: PlanHead,
    pub areas: Vec<Opt>,
    pub schemes: Vec<Opt>,
    pub year: i32,
    pub a_name: String,
    pub b_name: String,
    pub a_method: String,
    pub b_method: String,
    pub indicators: Vec<String>,
    pub classes: Vec<(String, usize, usize)>,
    pub up: usize,
    pub down: usize,
    pub rows: Vec<MuView>,
    pub query: String,
    pub version: String,
    pub pager: crate::paging::Pager,
    pub text: String,
}

fn method(s: &kc_domain::mujun::Scheme) -> String {
    format!(
        "{}；以参评企业的 {} 分位数为基准；分类：{}",
        s.indicators
            .iter()
            .map(|i| format!(
                "{} {}%{}",
                i.name,
                i.weight,
                if i.lower_is_better {
                    "（越低越好）"
                } else {
                    ""
                }
            ))
            .collect::<Vec<_>>()
            .join("、"),
        s.benchmark_quantile,
        s.cutoffs
            .iter()
            .map(|c| format!("{} ≥ {}", c.class, c.min))
            .collect::<Vec<_>>()
            .join("，")
    )
}

/// `GET /plans/{plan}/cultivation/mujun?area=&year=&a=&b=&format=xlsx`
pub async fn mujun(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    let (plan, nav, regs, _, year) = gather(&st, &sess, &code, &q).await?;
    let area = area_param(&plan, &q)?;
    let schemes = kc_planfile::default_mujun();
    let pick = |k: &str, default: usize| -> Result<&kc_domain::mujun::Scheme, AppError> {
        match q.get(k).filter(|s| !s.is_empty()) {
            None => schemes
                .schemes
                .get(default.min(schemes.schemes.len() - 1))
                .ok_or_else(|| AppError::Internal("没有评价方案".into())),
            Some(c) => schemes
                .schemes
                .iter()
                .find(|s| &s.code == c)
                .ok_or_else(|| AppError::BadRequest(format!("评价方案“{c}”不存在"))),
        }
    };
    let (a, b) = (pick("a", 0)?, pick("b", 1)?);
    let all = cultivation::mujun_rows(&regs, year, a, b);
    let text = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let rows: Vec<&cultivation::MuRow> = all
        .iter()
        .filter(|r| area.as_deref().is_none_or(|x| r.firm.area == x))
        .filter(|r| crate::paging::matches(&text, &[&r.firm.name, &r.firm.credit_code]))
        .collect();
    let rank = |c: &Option<String>| {
        c.as_ref()
            .and_then(|c| a.cutoffs.iter().position(|x| &x.class == c))
    };
    let moved = |r: &cultivation::MuRow| match (rank(&r.a.class), rank(&r.b.class)) {
        (Some(x), Some(y)) if y < x => "升",
        (Some(x), Some(y)) if y > x => "降",
        _ => "",
    };
    let fmt = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into());
    let views: Vec<MuView> = rows
        .iter()
        .map(|r| MuView {
            code: r.firm.credit_code.clone(),
            name: r.firm.name.clone(),
            area: plan.unit_name(&r.firm.area).to_string(),
            values: a
                .indicators
                .iter()
                .map(|i| fmt(r.input.get(&i.code)))
                .collect(),
            score_a: r.a.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
            class_a: r.a.class.clone().unwrap_or_default(),
            score_b: r.b.score.map(|s| format!("{s:.1}")).unwrap_or_default(),
            class_b: r.b.class.clone().unwrap_or_default(),
            moved: moved(r),
            missing: r.a.missing.join("、"),
        })
        .collect();
    if q.get("format").map(String::as_str) == Some("xlsx") {
        let mut headers: Vec<String> =
            vec!["统一社会信用代码".into(), "企业名称".into(), "地区".into()];
        headers.extend(
            a.indicators
                .iter()
                .map(|i| format!("{}（{}）", i.name, i.unit)),
        );
        headers.extend([
            format!("{}得分", a.name),
            format!("{}分类", a.name),
            format!("{}得分", b.name),
            format!("{}分类", b.name),
            "分类变化".into(),
            "缺少的数据".into(),
        ]);
        let table: Vec<Vec<Cell>> = rows
            .iter()
            .zip(&views)
            .map(|(r, v)| {
                let mut c = vec![t(&v.code), t(&v.name), t(&v.area)];
                c.extend(
                    a.indicators
                        .iter()
                        .map(|i| r.input.get(&i.code).map_or(Cell::Empty, Cell::Number)),
                );
                c.extend([
                    r.a.score.map_or(Cell::Empty, Cell::Number),
                    t(&v.class_a),
                    r.b.score.map_or(Cell::Empty, Cell::Number),
                    t(&v.class_b),
                    t(v.moved),
                    t(&v.missing),
                ]);
                c
            })
            .collect();
        let h: Vec<&str> = headers.iter().map(String::as_str).collect();
        return crate::registries::table_download(
            &st,
            &sess,
            "cultivation:mujun",
            "亩均效益评价",
            &h,
            &table,
        )
        .await;
    }
    let classes = a
        .cutoffs
        .iter()
        .map(|c| {
            (
                c.class.clone(),
                rows.iter()
                    .filter(|r| r.a.class.as_ref() == Some(&c.class))
                    .count(),
                rows.iter()
                    .filter(|r| r.b.class.as_ref() == Some(&c.class))
                    .count(),
            )
        })
        .collect();
    let scheme_opts = |chosen: &str| {
        schemes
            .schemes
            .iter()
            .map(|s| Opt {
                value: s.code.clone(),
                label: s.name.clone(),
                selected: s.code == chosen,
            })
            .collect::<Vec<_>>()
    };
    let up = views.iter().filter(|v| v.moved == "升").count();
    let down = views.iter().filter(|v| v.moved == "降").count();
    let (views, pager) = crate::paging::paginate(
        views,
        &q,
        &format!("/plans/{code}/cultivation/mujun"),
        "mujun",
    );
    let page = MujunPage {
        pager,
        nav,
        areas: area_options(&plan, area.as_deref()),
        schemes: scheme_opts(&b.code),
        year,
        a_name: a.name.clone(),
        b_name: b.name.clone(),
        a_method: method(a),
        b_method: method(b),
        indicators: a
            .indicators
            .iter()
            .map(|i| format!("{}（{}）", i.name, i.unit))
            .collect(),
        classes,
        up,
        down,
        rows: views,
        query: format!(
            "area={}&year={year}&a={}&b={}&q={}&",
            area.unwrap_or_default(),
            a.code,
            b.code,
            crate::paging::encode(&text)
        ),
        text,
        version: schemes.version.clone(),
    };
    Ok(Html(page.render()?).into_response())
}

// ---- pools ----------------------------------------------------------------------------------------

pub struct PoolView {
    pub code: String,
    pub name: String,
    pub area: String,
    pub cluster: String,
    pub tier: &'static str,
    pub hte: &'static str,
    pub tsme: &'static str,
    pub owner: String,
    pub last_on: String,
    pub status: String,
    pub count: usize,
}

pub struct PipelineView {
    pub target: String,
    pub name: String,
    pub href: String,
    pub value: String,
    pub goal: String,
    pub forecast: String,
    pub eligible: usize,
    pub near: usize,
    pub expected: String,
    pub with_pipeline: String,
    pub meets: &'static str,
    pub meets_with: &'static str,
}

#[derive(Template)]
#[template(path = "pools.html")]
pub struct PoolsPage {
    pub nav: PlanHead,
    pub areas: Vec<Opt>,
    pub tiers: Vec<Opt>,
    pub by_area: Vec<(String, [usize; 3])>,
    pub tier_names: [&'static str; 3],
    pub rows: Vec<PoolView>,
    pub pipeline: Vec<PipelineView>,
    pub rates: String,
    pub query: String,
    pub on: String,
    pub pager: crate::paging::Pager,
    pub text: String,
}

/// `GET /plans/{plan}/cultivation/pools?tier=&area=&format=xlsx`: the
/// cultivation pools by tier and area with each firm's latest service
/// record, and the high-tech and tech-SME forecasts with and without the
/// pipeline.
pub async fn pools(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    let (plan, nav, regs, on, _) = gather(&st, &sess, &code, &q).await?;
    let area = area_param(&plan, &q)?;
    let tier_q = q.get("tier").cloned().unwrap_or_default();
    let book = kc_planfile::default_rules();
    let follow = followups(&st, &code).await?;
    let all = cultivation::pools(&regs, book, on, &follow);
    let text = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    let views: Vec<PoolView> = all
        .iter()
        .filter(|r| area.as_deref().is_none_or(|a| r.firm.area == a))
        .filter(|r| tier_q.is_empty() || r.tier.code() == tier_q)
        .filter(|r| crate::paging::matches(&text, &[&r.firm.name, &r.firm.credit_code]))
        .map(|r| PoolView {
            code: r.firm.credit_code.clone(),
            name: r.firm.name.clone(),
            area: plan.unit_name(&r.firm.area).to_string(),
            cluster: r.firm.cluster.clone(),
            tier: r.tier.zh(),
            hte: r.hte.zh(),
            tsme: r.tsme.zh(),
            owner: r.follow.owner.clone(),
            last_on: r.follow.last_on.map(|d| d.to_string()).unwrap_or_default(),
            status: r.follow.status.clone(),
            count: r.follow.count,
        })
        .collect();
    if q.get("format").map(String::as_str) == Some("xlsx") {
        let table: Vec<Vec<Cell>> = views
            .iter()
            .map(|v| {
                vec![
                    t(&v.code),
                    t(&v.name),
                    t(&v.area),
                    t(&v.cluster),
                    t(v.tier),
                    t(v.hte),
                    t(v.tsme),
                    t(&v.owner),
                    t(&v.last_on),
                    t(&v.status),
                    Cell::Number(v.count as f64),
                ]
            })
            .collect();
        return crate::registries::table_download(
            &st,
            &sess,
            "cultivation:pools",
            "企业培育库",
            &[
                "统一社会信用代码",
                "企业名称",
                "地区",
                "产业集群",
                "梯次",
                "高企预审",
                "科小预审",
                "服务专员",
                "最近服务日期",
                "跟进状态",
                "服务次数",
            ],
            &table,
        )
        .await;
    }
    let tiers = eligibility::Tier::ALL;
    let by_area = plan
        .areas
        .iter()
        .map(|a| {
            let n = |t: eligibility::Tier| {
                all.iter()
                    .filter(|r| r.firm.area == a.code.as_str() && r.tier == t)
                    .count()
            };
            (a.name.clone(), [n(tiers[0]), n(tiers[1]), n(tiers[2])])
        })
        .collect();
    // The forecasts, city-wide, with and without the pipeline.
    let snap = crate::load_snapshot(&st, &sess, &code, &Default::default()).await?;
    let mut pipeline = Vec::new();
    for (indicator, rule) in [("hte_count", "hte"), ("tsme_count", "tsme")] {
        let Some(t) = plan
            .targets
            .iter()
            .find(|t| t.indicator.as_str() == indicator)
        else {
            continue;
        };
        let Some(ev) = snap.eval(t.code.as_str()) else {
            continue;
        };
        let (eligible, near) = cultivation::pipeline_counts(&all, rule);
        let expected = eligibility::pipeline(&book.pipeline, eligible, near);
        let f = ev.forecast.as_ref().map(|f| f.value);
        let fmt = |v: Option<f64>| {
            v.map(|v| crate::view::num(v, 0))
                .unwrap_or_else(|| "—".into())
        };
        let meets = |v: Option<f64>| match v {
            Some(v) if v >= ev.target_value => "能完成",
            Some(_) => "完不成",
            None => "—",
        };
        pipeline.push(PipelineView {
            target: t.code.to_string(),
            name: t.name.clone(),
            href: format!("/plans/{code}/targets/{}", t.code),
            value: fmt(ev.value),
            goal: crate::view::num(ev.target_value, 0),
            forecast: fmt(f),
            eligible,
            near,
            expected: crate::view::num(expected, 0),
            with_pipeline: fmt(f.map(|f| f + expected)),
            meets: meets(f),
            meets_with: meets(f.map(|f| f + expected)),
        });
    }
    let (views, pager) = crate::paging::paginate(
        views,
        &q,
        &format!("/plans/{code}/cultivation/pools"),
        "pools",
    );
    let page = PoolsPage {
        pager,
        nav,
        areas: area_options(&plan, area.as_deref()),
        tiers: std::iter::once(Opt {
            value: String::new(),
            label: "全部梯次".into(),
            selected: tier_q.is_empty(),
        })
        .chain(tiers.iter().map(|t| Opt {
            value: t.code().into(),
            label: t.zh().into(),
            selected: t.code() == tier_q,
        }))
        .collect(),
        by_area,
        tier_names: [tiers[0].zh(), tiers[1].zh(), tiers[2].zh()],
        rows: views,
        pipeline,
        rates: format!(
            "符合条件的企业按 {:.0}%、接近条件的按 {:.0}% 计入",
            book.pipeline.eligible_rate * 100.0,
            book.pipeline.near_rate * 100.0
        ),
        query: format!(
            "tier={tier_q}&area={}&q={}&",
            area.unwrap_or_default(),
            crate::paging::encode(&text)
        ),
        text,
        on: on.to_string(),
    };
    Ok(Html(page.render()?).into_response())
}

// ---- listing reserve ------------------------------------------------------------------------------

/// A listing-reserve firm: credit code, name, area, intended board.
type ReserveFirm = (String, String, String, String);

#[derive(Template)]
#[template(path = "listing_reserve.html")]
pub struct ListingPage {
    pub nav: PlanHead,
    pub clusters: Vec<(String, Vec<ReserveFirm>)>,
}

/// `GET /plans/{plan}/cultivation/listing`: the listing reserve pool
/// (上市后备) by industry cluster: firms marked 上市后备 in the enterprise
/// registry or holding a valid listing-reserve qualification.
pub async fn listing(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    let (plan, nav, regs, _, _) = gather(&st, &sess, &code, &q).await?;
    let (_, engine) = st.plan_and_engine(&code).await?;
    let e = engine.read().await;
    let ent = &kc_domain::registry::ENTERPRISES;
    let mut by: std::collections::BTreeMap<String, Vec<ReserveFirm>> = Default::default();
    for row in e.search("enterprises", "", None) {
        let Some(r) = e.record("enterprises", row) else {
            continue;
        };
        let c = r.get(ent, "credit_code").display();
        let status = r.get(ent, "listing_status").display();
        if status == "上市后备" || regs.holds(&c, "listing_reserve") {
            let cluster = Some(r.get(ent, "cluster").display())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "未标注".into());
            by.entry(cluster).or_default().push((
                c,
                r.get(ent, "name").display(),
                plan.unit_name(&r.get(ent, "area").display()).to_string(),
                r.get(ent, "listing_board").display(),
            ));
        }
    }
    drop(e);
    if q.get("format").map(String::as_str) == Some("xlsx") {
        let table: Vec<Vec<Cell>> = by
            .iter()
            .flat_map(|(cl, v)| {
                v.iter()
                    .map(move |(c, n, a, b)| vec![t(cl), t(c), t(n), t(a), t(b)])
            })
            .collect();
        return crate::registries::table_download(
            &st,
            &sess,
            "cultivation:listing_reserve",
            "上市后备企业库",
            &[
                "产业集群",
                "统一社会信用代码",
                "企业名称",
                "地区",
                "拟上市板块",
            ],
            &table,
        )
        .await;
    }
    Ok(Html(
        ListingPage {
            nav,
            clusters: by.into_iter().collect(),
        }
        .render()?,
    )
    .into_response())
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/plans/{plan}/cultivation", get(self::prechecks))
        .route(
            "/api/v1/plans/{plan}/cultivation/precheck",
            get(self::precheck_api),
        )
        .route("/plans/{plan}/cultivation/firm", get(self::firm))
        .route("/plans/{plan}/cultivation/two-zero", get(self::two_zero))
        .route("/plans/{plan}/cultivation/mujun", get(self::mujun))
        .route("/plans/{plan}/cultivation/pools", get(self::pools))
        .route("/plans/{plan}/cultivation/listing", get(self::listing))
}
