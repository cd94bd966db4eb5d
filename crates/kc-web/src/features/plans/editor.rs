//! The plan editor (规划编辑) for the coordinator: a target, a task or an
//! indicator changed in a form, the target table (目标表) exported and
//! imported as a new plan, and the differences between two versions. Every
//! change is kc-app's `plan_edit`; this module maps forms to its commands
//! and its refusals back to the fields they concern.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use kc_app::plan_edit::{PlanChange, PlanEditError, Problem};
use kc_domain::Plan;
use kc_domain::allocation::RowProblem;
use kc_domain::code::Code;
use kc_domain::plan::{TargetKind, fmt_num};
use kc_domain::target_table::{self as table, TargetCell, TargetRow};
use kc_planfile::{IndicatorEdit, NewPlan, NodeEdit};

use super::pages::{Nav, Opt};
use crate::auth::Session;
use crate::error::AppError;
use crate::extract::FormBody;
use crate::{AppState, Params, load_snapshot};

/// One form field with what was typed and its message.
pub struct Field {
    pub code: String,
    pub label: String,
    /// "text", "date", "number", "select", "textarea" or "checks".
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<Opt>,
    pub hint: String,
    pub error: String,
    pub required: bool,
}

impl Field {
    fn new(code: &str, label: &str, kind: &'static str, value: String) -> Field {
        Field {
            code: code.to_string(),
            label: label.to_string(),
            kind,
            value,
            options: Vec::new(),
            hint: String::new(),
            error: String::new(),
            required: false,
        }
    }
    fn hint(mut self, h: &str) -> Field {
        self.hint = h.to_string();
        self
    }
    fn required(mut self) -> Field {
        self.required = true;
        self
    }
    fn options(mut self, o: Vec<Opt>) -> Field {
        self.options = o;
        self
    }
}

#[derive(Template)]
#[template(path = "plan_edit.html")]
pub struct EditorPage {
    pub nav: Nav,
    pub targets: Vec<(String, String, String, String, String)>,
    pub nodes: Vec<(String, String, String, String)>,
    pub indicators: Vec<(String, String, String, String)>,
    pub message: String,
    pub problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "plan_edit_form.html")]
pub struct FormPage {
    pub nav: Nav,
    pub title: String,
    pub action: String,
    pub intro: String,
    pub fields: Vec<Field>,
    /// Messages that belong to no one field.
    pub errors: Vec<String>,
    pub version: i64,
}

fn coordinator(sess: &Session) -> Result<(), AppError> {
    sess.require_business()?;
    sess.require(sess.principal.is_coordinator(), "修改规划（仅限规划统筹）")
}

fn unit_list(plan: &Plan, codes: &[Code]) -> String {
    codes
        .iter()
        .map(|c| plan.unit_name(c.as_str()))
        .collect::<Vec<_>>()
        .join("、")
}

/// `GET /plans/{plan}/edit`: the plan's targets, tasks and indicators with
/// a link to each one's form, and what `plan check` says of the current
/// version (`?saved=N` after a save, `?unchanged=N` when nothing changed).
pub async fn index(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    coordinator(&sess)?;
    let message = match (q.0.get("saved"), q.0.get("unchanged")) {
        (Some(v), _) => format!("已保存，生成规划第 {} 版。", v.trim()),
        (None, Some(_)) => "没有改动，未生成新版本。".to_string(),
        _ => String::new(),
    };
    Ok(Html(editor(&st, &sess, &code, message).await?.render()?))
}

async fn editor(
    st: &AppState,
    sess: &Session,
    code: &str,
    message: String,
) -> Result<EditorPage, AppError> {
    let snap = load_snapshot(st, sess, code, &HashMap::new()).await?;
    let plan = &snap.plan;
    let nav = Nav::new(&snap, sess).at(format!("/plans/{}/edit", plan.code));
    // The editor is where the bureau finishes a plan: what `plan check`
    // still asks for (targets 待定, sums that do not add up) is listed here.
    let problems = match st.store.plan_source(code, snap.version.version).await? {
        Some(text) => match kc_planfile::check_plan(&format!("{code}.toml"), &text) {
            Ok(c) => c.warnings.into_iter().map(|d| d.message).collect(),
            Err(e) => e.errors.into_iter().map(|d| d.message).collect(),
        },
        None => Vec::new(),
    };
    Ok(EditorPage {
        targets: plan
            .targets
            .iter()
            .map(|t| {
                (
                    t.code.to_string(),
                    t.name.clone(),
                    t.kind.zh().to_string(),
                    table::target_text(t) + " " + &t.unit,
                    t.deadline.to_string(),
                )
            })
            .collect(),
        nodes: plan
            .nodes
            .iter()
            .map(|n| {
                (
                    n.code.to_string(),
                    n.name.clone(),
                    n.level.clone(),
                    unit_list(plan, &n.lead),
                )
            })
            .collect(),
        indicators: plan
            .indicators
            .iter()
            .map(|i| {
                (
                    i.code.to_string(),
                    i.name.clone(),
                    i.unit.clone(),
                    i.frequency.zh().to_string(),
                )
            })
            .collect(),
        nav,
        message,
        problems,
    })
}

// ---- targets ------------------------------------------------------------------------

fn opt(value: &str, label: String, selected: bool) -> Opt {
    Opt {
        value: value.to_string(),
        label,
        selected,
    }
}

fn num(v: f64) -> String {
    fmt_num(v, 6)
}

/// The target form's fields, filled from `row` (or from what was typed).
fn target_fields(plan: &Plan, row: Option<&TargetRow>, typed: Option<&Typed>) -> Vec<Field> {
    let years = table::years(plan);
    let get = |k: &str, stored: String| match typed {
        Some(t) => t.one(k),
        None => stored,
    };
    let r = row;
    let node = r.and_then(|r| r.node.as_ref()).map(|c| c.to_string());
    let node_now = get("node", node.clone().unwrap_or_default());
    let ind_now = get(
        "indicator",
        r.and_then(|r| r.indicator.as_ref())
            .map(|c| c.to_string())
            .unwrap_or_default(),
    );
    let kind_now = get(
        "kind",
        r.map(|r| r.kind.as_str().to_string()).unwrap_or_default(),
    );
    let mut nodes = vec![opt(
        "",
        "（新建任务：填写下面两项）".into(),
        node_now.is_empty(),
    )];
    nodes.extend(plan.nodes.iter().map(|n| {
        opt(
            n.code.as_str(),
            format!("{} {}", n.code, n.name),
            n.code.as_str() == node_now,
        )
    }));
    let mut indicators = vec![opt(
        "",
        "（新建指标：名称与单位同目标）".into(),
        ind_now.is_empty(),
    )];
    indicators.extend(plan.indicators.iter().map(|i| {
        opt(
            i.code.as_str(),
            format!("{}（{}）", i.name, i.unit),
            i.code.as_str() == ind_now,
        )
    }));
    let kinds = TargetKind::ALL
        .iter()
        .map(|k| opt(k.as_str(), k.zh().to_string(), k.as_str() == kind_now))
        .collect();
    let compare_now = get(
        "compare",
        r.and_then(|r| r.compare.as_ref())
            .map(|c| c.to_string())
            .unwrap_or_default(),
    );
    let mut compare = vec![opt("", "（无）".into(), compare_now.is_empty())];
    compare.extend(plan.indicators.iter().map(|i| {
        opt(
            i.code.as_str(),
            i.name.clone(),
            i.code.as_str() == compare_now,
        )
    }));
    let require_now = get(
        "require",
        if r.is_some_and(|r| r.strict) {
            "超过"
        } else {
            "达到"
        }
        .into(),
    );
    let units: Vec<(String, String)> = plan
        .departments
        .iter()
        .map(|d| (d.code.to_string(), d.name.clone()))
        .chain(
            plan.areas
                .iter()
                .map(|a| (a.code.to_string(), a.name.clone())),
        )
        .collect();
    let checks = |key: &str, stored: &[Code]| -> Vec<Opt> {
        let chosen: Vec<String> = match typed {
            Some(t) => t.all(key),
            None => stored.iter().map(|c| c.to_string()).collect(),
        };
        units
            .iter()
            .map(|(c, n)| opt(c, n.clone(), chosen.iter().any(|x| x == c)))
            .collect()
    };
    let empty: Vec<Code> = Vec::new();
    let mut f = vec![
        Field::new(
            "code",
            "目标编号",
            "text",
            get("code", r.map(|r| r.code.to_string()).unwrap_or_default()),
        )
        .required()
        .hint("英文字母、数字、点、下划线或连字符，如 T1-2"),
        Field::new(
            "name",
            "目标名称",
            "text",
            get("name", r.map(|r| r.name.clone()).unwrap_or_default()),
        )
        .required(),
        Field::new("node", "所属任务", "select", node_now.clone()).options(nodes),
        Field::new(
            "node_code",
            "新任务编号",
            "text",
            get("node_code", String::new()),
        )
        .hint("仅新建任务时填写"),
        Field::new(
            "node_name",
            "新任务名称",
            "text",
            get("node_name", String::new()),
        )
        .hint("仅新建任务时填写"),
        Field::new("indicator", "指标", "select", ind_now).options(indicators),
        Field::new("kind", "目标类型", "select", kind_now)
            .options(kinds)
            .required(),
        Field::new(
            "unit",
            "计量单位",
            "text",
            get("unit", r.map(|r| r.unit.clone()).unwrap_or_default()),
        )
        .required(),
        Field::new(
            "baseline",
            "基期值",
            "number",
            get(
                "baseline",
                r.and_then(|r| r.baseline)
                    .map(|b| num(b.0))
                    .unwrap_or_default(),
            ),
        ),
        Field::new(
            "baseline_date",
            "基期日期",
            "date",
            get(
                "baseline_date",
                r.and_then(|r| r.baseline)
                    .map(|b| b.1.to_string())
                    .unwrap_or_default(),
            ),
        ),
    ];
    for y in &years {
        let k = format!("y{y}");
        let stored = r
            .and_then(|r| r.years.iter().find(|(yy, _)| yy == y))
            .map(|(_, v)| num(*v))
            .unwrap_or_default();
        f.push(
            Field::new(&k, &format!("{y}年目标"), "number", get(&k, stored))
                .hint("年末应达到的值，可空"),
        );
    }
    f.extend([
        Field::new(
            "target",
            "期末目标",
            "text",
            get(
                "target",
                r.map(|r| match &r.target {
                    TargetCell::Empty => String::new(),
                    TargetCell::Number(v) => num(*v),
                    TargetCell::Range(a, b) => format!("{}—{}", num(*a), num(*b)),
                    TargetCell::Done => "完成".into(),
                    TargetCell::Pending => "待定".into(),
                    TargetCell::Multiple(s) => s.clone(),
                })
                .unwrap_or_default(),
            ),
        )
        .hint("数字；区间如 4—6；“完成”；“待定”；基期的倍数如 2×基期。清零、相对比较可空"),
        Field::new(
            "deadline",
            "截止日期",
            "date",
            get(
                "deadline",
                r.and_then(|r| r.deadline)
                    .unwrap_or(plan.period.end)
                    .to_string(),
            ),
        ),
        Field::new("require", "要求", "select", require_now.clone()).options(vec![
            opt("达到", "达到（不低于）".into(), require_now == "达到"),
            opt("超过", "超过（高于）".into(), require_now == "超过"),
        ]),
        Field::new("lead", "牵头单位", "checks", String::new())
            .options(checks(
                "lead",
                r.map(|r| r.lead.as_slice()).unwrap_or(&empty),
            ))
            .hint("所属任务的牵头单位：修改后对该任务下的所有目标生效"),
        Field::new("co", "配合单位", "checks", String::new())
            .options(checks("co", r.map(|r| r.co.as_slice()).unwrap_or(&empty))),
        Field::new("compare", "对比指标", "select", compare_now)
            .options(compare)
            .hint("仅相对比较目标"),
        Field::new(
            "peers",
            "比较范围",
            "text",
            get("peers", r.and_then(|r| r.peers.clone()).unwrap_or_default()),
        )
        .hint("仅排名目标，如 全省16个地级市"),
        Field::new(
            "universe",
            "覆盖对象",
            "text",
            get(
                "universe",
                r.and_then(|r| r.universe.as_ref())
                    .map(|u| table::universe_text(plan, u))
                    .unwrap_or_default(),
            ),
        )
        .hint("仅覆盖率目标，如 8个县（市、区）"),
        Field::new(
            "note",
            "说明",
            "textarea",
            get("note", r.map(|r| r.note.clone()).unwrap_or_default()),
        ),
    ]);
    f
}

/// What a form sent, keeping repeated fields (check boxes).
struct Typed(Vec<(String, String)>);

impl Typed {
    fn one(&self, k: &str) -> String {
        self.0
            .iter()
            .rev()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    fn all(&self, k: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(kk, _)| kk == k)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The form's field for a table column (the messages name columns).
const FIELD_OF_COLUMN: [(&str, &str); 17] = [
    (table::COL_CODE, "code"),
    (table::COL_NAME, "name"),
    (table::COL_NODE_NAME, "node_name"),
    (table::COL_NODE, "node"),
    (table::COL_INDICATOR, "indicator"),
    (table::COL_KIND, "kind"),
    (table::COL_UNIT, "unit"),
    (table::COL_BASELINE_DATE, "baseline_date"),
    (table::COL_BASELINE, "baseline"),
    (table::COL_FINAL, "target"),
    (table::COL_DEADLINE, "deadline"),
    (table::COL_REQUIRE, "require"),
    (table::COL_LEAD, "lead"),
    (table::COL_CO, "co"),
    (table::COL_COMPARE, "compare"),
    (table::COL_PEERS, "peers"),
    (table::COL_UNIVERSE, "universe"),
];

/// The form's field for a key of the plan file (`plan check`'s messages
/// point at lines; the line's key names the field).
fn field_of_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "name" => "name",
        "node" => "node",
        "indicator" => "indicator",
        "kind" => "kind",
        "unit" => "unit",
        "baseline" => "baseline",
        "target" => "target",
        "deadline" => "deadline",
        "strict" => "require",
        "compare" | "margin" => "compare",
        "peers" => "peers",
        "universe" => "universe",
        "note" => "note",
        "lead" => "lead",
        "co" => "co",
        "summary" => "summary",
        "definition" => "definition",
        "department" => "department",
        "frequency" => "frequency",
        _ => return None,
    })
}

/// Puts each message beside its field; the rest go above the form.
fn place(fields: &mut [Field], messages: Vec<(Option<String>, String)>) -> Vec<String> {
    let mut rest = Vec::new();
    for (field, m) in messages {
        match field.and_then(|k| fields.iter_mut().find(|f| f.code == k)) {
            Some(f) if f.error.is_empty() => f.error = m,
            Some(f) => f.error = format!("{}；{m}", f.error),
            None => rest.push(m),
        }
    }
    rest
}

fn row_messages(problems: &[RowProblem]) -> Vec<(Option<String>, String)> {
    problems
        .iter()
        .map(|p| {
            let field = FIELD_OF_COLUMN
                .iter()
                .find(|(col, _)| p.message.starts_with(col))
                .map(|(_, f)| f.to_string())
                .or_else(|| {
                    p.message
                        .split_once("年目标")
                        .and_then(|(y, _)| y.parse::<i32>().ok())
                        .map(|y| format!("y{y}"))
                });
            (field, p.message.clone())
        })
        .collect()
}

fn plan_messages(problems: &[Problem]) -> Vec<(Option<String>, String)> {
    problems
        .iter()
        .map(|p| {
            (
                p.key.as_deref().and_then(field_of_key).map(str::to_string),
                p.message.clone(),
            )
        })
        .collect()
}

/// The messages of a refused change, by field; or the error page for what
/// no form can mend.
fn refused(e: PlanEditError) -> Result<Vec<(Option<String>, String)>, AppError> {
    match e {
        PlanEditError::Forbidden => Err(AppError::Forbidden(e.to_string())),
        PlanEditError::NoPlan(p) => Err(AppError::NotFound(format!("没有编号为“{p}”的规划"))),
        PlanEditError::Store(s) => Err(AppError::Store(s)),
        PlanEditError::Rows(rows) => Ok(row_messages(&rows)),
        PlanEditError::Invalid(p) => Ok(plan_messages(&p)),
        e @ (PlanEditError::Stale { .. } | PlanEditError::Exists(_) | PlanEditError::File(_)) => {
            Ok(vec![(None, e.to_string())])
        }
    }
}

/// The form's fields read as one row of the target table, so that a form
/// and an imported table are checked by the same reader.
fn row_from_form(plan: &Plan, t: &Typed) -> Result<TargetRow, Vec<RowProblem>> {
    let names = |k: &str| {
        t.all(k)
            .iter()
            .map(|c| plan.unit_name(c).to_string())
            .collect::<Vec<_>>()
            .join("、")
    };
    let node = t.one("node");
    let (node, node_name) = if node.is_empty() {
        (t.one("node_code"), t.one("node_name"))
    } else {
        (node, String::new())
    };
    let universe = t.one("universe");
    let mut headers: Vec<String> = vec![
        table::COL_CODE,
        table::COL_NAME,
        table::COL_NODE,
        table::COL_NODE_NAME,
        table::COL_INDICATOR,
        table::COL_KIND,
        table::COL_UNIT,
        table::COL_BASELINE,
        table::COL_BASELINE_DATE,
    ]
    .into_iter()
    .map(String::from)
    .collect();
    let mut cells = vec![
        t.one("code"),
        t.one("name"),
        node,
        node_name,
        t.one("indicator"),
        t.one("kind"),
        t.one("unit"),
        t.one("baseline"),
        t.one("baseline_date"),
    ];
    for y in table::years(plan) {
        headers.push(format!("{y}年目标"));
        cells.push(t.one(&format!("y{y}")));
    }
    for (h, v) in [
        (table::COL_FINAL, t.one("target")),
        (table::COL_DEADLINE, t.one("deadline")),
        (table::COL_REQUIRE, t.one("require")),
        (table::COL_LEAD, names("lead")),
        (table::COL_CO, names("co")),
        (table::COL_COMPARE, t.one("compare")),
        (table::COL_PEERS, t.one("peers")),
        (table::COL_UNIVERSE, universe),
        (table::COL_NOTE, t.one("note")),
    ] {
        headers.push(h.to_string());
        cells.push(v);
    }
    // A form left wholly empty is a row the table reader skips: it is
    // refused here with the required fields named.
    let rows = table::read(plan, &headers, &[(2, cells)])?;
    rows.into_iter().next().ok_or_else(|| {
        [
            format!("{}：编码不能为空", table::COL_CODE),
            format!("{}不能为空", table::COL_NAME),
            format!("{}不能为空", table::COL_UNIT),
        ]
        .into_iter()
        .map(|message| RowProblem { row: 2, message })
        .collect()
    })
}

async fn target_form(
    st: &AppState,
    sess: &Session,
    code: &str,
    target: Option<&str>,
    typed: Option<&Typed>,
    messages: Vec<(Option<String>, String)>,
) -> Result<FormPage, AppError> {
    let snap = load_snapshot(st, sess, code, &HashMap::new()).await?;
    let plan = &snap.plan;
    let row = match target {
        Some(t) => Some(table::row_of(
            plan,
            plan.target(t)
                .ok_or_else(|| AppError::NotFound(format!("规划中没有目标“{t}”")))?,
        )),
        None => None,
    };
    let mut fields = target_fields(plan, row.as_ref(), typed);
    if target.is_some()
        && let Some(f) = fields.iter_mut().find(|f| f.code == "code")
    {
        f.kind = "readonly";
    }
    let errors = place(&mut fields, messages);
    let (title, action) = match target {
        Some(t) => (
            format!("修改目标 {t}"),
            format!("/plans/{}/edit/targets/{t}", plan.code),
        ),
        None => (
            "新增目标".to_string(),
            format!("/plans/{}/edit/new-target", plan.code),
        ),
    };
    Ok(FormPage {
        nav: Nav::new(&snap, sess).at(action.clone()),
        title,
        action,
        intro: "与导入目标表、plan check 使用同一套检查；保存后生成规划的新版本，旧版本保留，可在“规划版本”中比较。分解到各地区的目标在“分解表”中修改。".into(),
        fields,
        errors,
        version: snap.version.version,
    })
}

/// `GET /plans/{plan}/edit/targets/{target}`.
pub async fn edit_target(
    State(st): State<AppState>,
    sess: Session,
    Path((code, target)): Path<(String, String)>,
) -> Result<Html<String>, AppError> {
    coordinator(&sess)?;
    Ok(Html(
        target_form(&st, &sess, &code, Some(&target), None, Vec::new())
            .await?
            .render()?,
    ))
}

/// `GET /plans/{plan}/edit/new-target`.
pub async fn new_target(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
) -> Result<Html<String>, AppError> {
    coordinator(&sess)?;
    Ok(Html(
        target_form(&st, &sess, &code, None, None, Vec::new())
            .await?
            .render()?,
    ))
}

fn opened(t: &Typed) -> Option<i64> {
    t.one("version").parse().ok()
}

fn after_save(code: &str, saved: kc_app::plan_edit::Saved) -> Response {
    let v = saved.saved.version.version;
    let q = if saved.saved.created {
        "saved"
    } else {
        "unchanged"
    };
    Redirect::to(&format!("/plans/{code}/edit?{q}={v}")).into_response()
}

async fn save_target_form(
    st: &AppState,
    sess: &Session,
    code: &str,
    target: Option<&str>,
    form: Vec<(String, String)>,
) -> Result<Response, AppError> {
    coordinator(sess)?;
    let typed = Typed(form);
    let (stored, _) = st.plan_and_engine(code).await?;
    let mut typed = typed;
    if let Some(t) = target {
        // The code of an existing target is not the form's to change.
        typed.0.retain(|(k, _)| k != "code");
        typed.0.push(("code".into(), t.to_string()));
    } else if stored.plan.target(&typed.one("code")).is_some() {
        let m = format!("已有编号为“{}”的目标：请换一个编号", typed.one("code"));
        let page = target_form(
            st,
            sess,
            code,
            None,
            Some(&typed),
            vec![(Some("code".into()), m)],
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let result = match row_from_form(&stored.plan, &typed) {
        Ok(row) => {
            kc_app::plan_edit::save(
                &st.store,
                &sess.caller(),
                code,
                opened(&typed),
                &PlanChange::Target(Box::new(row)),
            )
            .await
        }
        Err(rows) => Err(PlanEditError::Rows(rows)),
    };
    match result {
        Ok(saved) => Ok(after_save(code, saved)),
        Err(e) => {
            let messages = refused(e)?;
            let page = target_form(st, sess, code, target, Some(&typed), messages).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

/// `POST /plans/{plan}/edit/targets/{target}`.
pub async fn save_target(
    State(st): State<AppState>,
    sess: Session,
    Path((code, target)): Path<(String, String)>,
    FormBody(form): FormBody<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    save_target_form(&st, &sess, &code, Some(&target), form).await
}

/// `POST /plans/{plan}/edit/new-target`.
pub async fn create_target(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    FormBody(form): FormBody<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    save_target_form(&st, &sess, &code, None, form).await
}

// ---- tasks and indicators -------------------------------------------------------------

async fn node_form(
    st: &AppState,
    sess: &Session,
    code: &str,
    node: &str,
    typed: Option<&Typed>,
    messages: Vec<(Option<String>, String)>,
) -> Result<FormPage, AppError> {
    let snap = load_snapshot(st, sess, code, &HashMap::new()).await?;
    let plan = &snap.plan;
    let n = plan
        .node(node)
        .ok_or_else(|| AppError::NotFound(format!("规划中没有任务“{node}”")))?;
    let get = |k: &str, stored: String| match typed {
        Some(t) => t.one(k),
        None => stored,
    };
    let units: Vec<(String, String)> = plan
        .departments
        .iter()
        .map(|d| (d.code.to_string(), d.name.clone()))
        .chain(
            plan.areas
                .iter()
                .map(|a| (a.code.to_string(), a.name.clone())),
        )
        .collect();
    let checks = |key: &str, stored: &[Code]| -> Vec<Opt> {
        let chosen: Vec<String> = match typed {
            Some(t) => t.all(key),
            None => stored.iter().map(|c| c.to_string()).collect(),
        };
        units
            .iter()
            .map(|(c, nm)| opt(c, nm.clone(), chosen.iter().any(|x| x == c)))
            .collect()
    };
    let mut fields = vec![
        Field::new("code", "编号", "readonly", n.code.to_string()),
        Field::new("name", "名称", "text", get("name", n.name.clone())).required(),
        Field::new("lead", "牵头单位", "checks", String::new()).options(checks("lead", &n.lead)),
        Field::new("co", "配合单位", "checks", String::new()).options(checks("co", &n.co)),
        Field::new(
            "summary",
            "内容摘要",
            "textarea",
            get("summary", n.summary.clone()),
        ),
    ];
    let errors = place(&mut fields, messages);
    let action = format!("/plans/{}/edit/nodes/{}", plan.code, n.code);
    Ok(FormPage {
        nav: Nav::new(&snap, sess).at(action.clone()),
        title: format!("修改{} {}", n.level, n.code),
        action,
        intro: "牵头单位和配合单位对该任务下的所有目标生效。保存后生成规划的新版本，旧版本保留。"
            .into(),
        fields,
        errors,
        version: snap.version.version,
    })
}

/// `GET /plans/{plan}/edit/nodes/{node}`.
pub async fn edit_node(
    State(st): State<AppState>,
    sess: Session,
    Path((code, node)): Path<(String, String)>,
) -> Result<Html<String>, AppError> {
    coordinator(&sess)?;
    Ok(Html(
        node_form(&st, &sess, &code, &node, None, Vec::new())
            .await?
            .render()?,
    ))
}

fn codes_of(plan: &Plan, values: Vec<String>) -> Result<Vec<Code>, String> {
    values
        .iter()
        .map(|v| {
            plan.areas
                .iter()
                .map(|a| &a.code)
                .chain(plan.departments.iter().map(|d| &d.code))
                .find(|c| c.as_str() == v)
                .cloned()
                .ok_or_else(|| format!("“{v}”不是本规划的地区或部门"))
        })
        .collect()
}

/// `POST /plans/{plan}/edit/nodes/{node}`.
pub async fn save_node(
    State(st): State<AppState>,
    sess: Session,
    Path((code, node)): Path<(String, String)>,
    FormBody(form): FormBody<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    coordinator(&sess)?;
    let typed = Typed(form);
    let (stored, _) = st.plan_and_engine(&code).await?;
    let n = stored
        .plan
        .node(&node)
        .ok_or_else(|| AppError::NotFound(format!("规划中没有任务“{node}”")))?;
    let mut messages = Vec::new();
    let name = typed.one("name").trim().to_string();
    if name.is_empty() {
        messages.push((Some("name".to_string()), "名称不能为空".to_string()));
    }
    let lead = codes_of(&stored.plan, typed.all("lead"))
        .map_err(|m| messages.push((Some("lead".into()), m)))
        .unwrap_or_default();
    let co = codes_of(&stored.plan, typed.all("co"))
        .map_err(|m| messages.push((Some("co".into()), m)))
        .unwrap_or_default();
    if messages.is_empty() {
        let edit = NodeEdit {
            code: n.code.clone(),
            name,
            lead,
            co,
            summary: typed.one("summary").trim().to_string(),
        };
        match kc_app::plan_edit::save(
            &st.store,
            &sess.caller(),
            &code,
            opened(&typed),
            &PlanChange::Node(edit),
        )
        .await
        {
            Ok(saved) => return Ok(after_save(&code, saved)),
            Err(e) => messages = refused(e)?,
        }
    }
    let page = node_form(&st, &sess, &code, &node, Some(&typed), messages).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

async fn indicator_form(
    st: &AppState,
    sess: &Session,
    code: &str,
    indicator: &str,
    typed: Option<&Typed>,
    messages: Vec<(Option<String>, String)>,
) -> Result<FormPage, AppError> {
    let snap = load_snapshot(st, sess, code, &HashMap::new()).await?;
    let plan = &snap.plan;
    let i = plan
        .indicator(indicator)
        .ok_or_else(|| AppError::NotFound(format!("规划中没有指标“{indicator}”")))?;
    let get = |k: &str, stored: String| match typed {
        Some(t) => t.one(k),
        None => stored,
    };
    let dept_now = get(
        "department",
        i.department
            .as_ref()
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let mut depts = vec![opt("", "（未指定）".into(), dept_now.is_empty())];
    depts.extend(
        plan.departments
            .iter()
            .map(|d| opt(d.code.as_str(), d.name.clone(), d.code.as_str() == dept_now)),
    );
    let freq_now = get("frequency", i.frequency.as_str().to_string());
    let freqs = [
        ("monthly", "月报"),
        ("quarterly", "季报"),
        ("yearly", "年报"),
    ]
    .into_iter()
    .map(|(v, l)| opt(v, l.into(), v == freq_now))
    .collect();
    let mut fields = vec![
        Field::new("code", "编号", "readonly", i.code.to_string()),
        Field::new("name", "名称", "text", get("name", i.name.clone())).required(),
        Field::new("unit", "计量单位", "text", get("unit", i.unit.clone())).required(),
        Field::new("department", "数据来源部门", "select", dept_now).options(depts),
        Field::new("frequency", "报送频率", "select", freq_now).options(freqs),
        Field::new(
            "definition",
            "定义与口径",
            "textarea",
            get("definition", i.definition.clone()),
        ),
    ];
    let errors = place(&mut fields, messages);
    let action = format!("/plans/{}/edit/indicators/{}", plan.code, i.code);
    Ok(FormPage {
        nav: Nav::new(&snap, sess).at(action.clone()),
        title: format!("修改指标 {}", i.name),
        action,
        intro: "指标的名称、单位和口径对引用它的所有目标生效。保存后生成规划的新版本，旧版本保留。"
            .into(),
        fields,
        errors,
        version: snap.version.version,
    })
}

/// `GET /plans/{plan}/edit/indicators/{indicator}`.
pub async fn edit_indicator(
    State(st): State<AppState>,
    sess: Session,
    Path((code, indicator)): Path<(String, String)>,
) -> Result<Html<String>, AppError> {
    coordinator(&sess)?;
    Ok(Html(
        indicator_form(&st, &sess, &code, &indicator, None, Vec::new())
            .await?
            .render()?,
    ))
}

/// `POST /plans/{plan}/edit/indicators/{indicator}`.
pub async fn save_indicator(
    State(st): State<AppState>,
    sess: Session,
    Path((code, indicator)): Path<(String, String)>,
    FormBody(form): FormBody<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    coordinator(&sess)?;
    let typed = Typed(form);
    let (stored, _) = st.plan_and_engine(&code).await?;
    let i = stored
        .plan
        .indicator(&indicator)
        .ok_or_else(|| AppError::NotFound(format!("规划中没有指标“{indicator}”")))?;
    let mut messages = Vec::new();
    let name = typed.one("name").trim().to_string();
    if name.is_empty() {
        messages.push((Some("name".to_string()), "名称不能为空".to_string()));
    }
    let unit = typed.one("unit").trim().to_string();
    if unit.is_empty() {
        messages.push((Some("unit".to_string()), "计量单位不能为空".to_string()));
    }
    let department = match typed.one("department").as_str() {
        "" => None,
        d => match stored
            .plan
            .departments
            .iter()
            .find(|x| x.code.as_str() == d)
        {
            Some(x) => Some(x.code.clone()),
            None => {
                messages.push((Some("department".into()), format!("“{d}”不是本规划的部门")));
                None
            }
        },
    };
    let frequency = match typed.one("frequency").as_str() {
        f @ ("monthly" | "quarterly" | "yearly") => Some(f.to_string()),
        "" => None,
        f => {
            messages.push((
                Some("frequency".into()),
                format!("报送频率“{f}”应为月报、季报或年报"),
            ));
            None
        }
    };
    if messages.is_empty() {
        let edit = IndicatorEdit {
            code: i.code.clone(),
            name,
            unit,
            definition: typed.one("definition").trim().to_string(),
            department,
            frequency,
        };
        match kc_app::plan_edit::save(
            &st.store,
            &sess.caller(),
            &code,
            opened(&typed),
            &PlanChange::Indicator(edit),
        )
        .await
        {
            Ok(saved) => return Ok(after_save(&code, saved)),
            Err(e) => messages = refused(e)?,
        }
    }
    let page = indicator_form(&st, &sess, &code, &indicator, Some(&typed), messages).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

// ---- the target table ---------------------------------------------------------------------

/// `GET /plans/{plan}/table?format=xlsx|csv`: the target table.
pub async fn export_table(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    sess.require_business()?;
    let (stored, _) = st.plan_and_engine(&code).await?;
    let (bytes, ext) = match q.0.get("format").map(String::as_str) {
        None | Some("xlsx") => (
            kc_app::plan_edit::export_xlsx(&stored.plan)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            "xlsx",
        ),
        Some("csv") => (kc_app::plan_edit::export_csv(&stored.plan), "csv"),
        Some(other) => {
            return Err(AppError::BadRequest(format!(
                "不支持的格式“{other}”：请选择 xlsx 或 csv"
            )));
        }
    };
    kc_app::auth::audit(
        &st.store,
        &sess.actor(),
        "export",
        &format!("plan:{code}:targets"),
        serde_json::json!({"format": ext}),
    )
    .await?;
    Ok(crate::features::registries::download(
        &format!("{}目标表.{ext}", stored.plan.name),
        bytes,
    ))
}

#[derive(Template)]
#[template(path = "plan_import.html")]
pub struct ImportPage {
    pub me: crate::account::Me,
    pub bases: Vec<Opt>,
    pub fields: Vec<Field>,
    pub errors: Vec<String>,
}

async fn import_page(
    st: &AppState,
    sess: &Session,
    typed: Option<&HashMap<String, String>>,
    messages: Vec<(Option<String>, String)>,
) -> Result<ImportPage, AppError> {
    let get = |k: &str| typed.and_then(|t| t.get(k).cloned()).unwrap_or_default();
    let base_now = get("base");
    let bases = st
        .store
        .plans()
        .await?
        .into_iter()
        .map(|p| {
            opt(
                p.plan.code.as_str(),
                p.plan.name.clone(),
                p.plan.code.as_str() == base_now,
            )
        })
        .collect();
    let mut fields = vec![
        Field::new("code", "新规划编号", "text", get("code"))
            .required()
            .hint("英文字母、数字、点、下划线或连字符，如 bengbu-2026-2030"),
        Field::new("name", "新规划名称", "text", get("name")).required(),
        Field::new("start", "开始日期", "date", get("start")).required(),
        Field::new("end", "结束日期", "date", get("end")).required(),
    ];
    let errors = place(&mut fields, messages);
    Ok(ImportPage {
        me: crate::account::Me::new(sess, None),
        bases,
        fields,
        errors,
    })
}

/// `GET /plans/import`: the form that makes a plan from a target table.
pub async fn import_form(
    State(st): State<AppState>,
    sess: Session,
) -> Result<Html<String>, AppError> {
    coordinator(&sess)?;
    Ok(Html(
        import_page(&st, &sess, None, Vec::new()).await?.render()?,
    ))
}

/// `POST /plans/import` (multipart: `file`, `base`, `code`, `name`,
/// `start`, `end`): a new plan from the table, on the base plan's frame.
pub async fn import(
    State(st): State<AppState>,
    sess: Session,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    coordinator(&sess)?;
    let too_big = || AppError::BadRequest("上传失败：文件不能超过 20 MB".into());
    let mut typed = HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = mp.next_field().await.map_err(|_| too_big())? {
        let Some(name) = field.name().map(str::to_string) else {
            continue;
        };
        if name == "file" {
            let fname = kc_domain::text::strip_forbidden(field.file_name().unwrap_or(""));
            let bytes = field.bytes().await.map_err(|_| too_big())?;
            file = Some((fname, bytes.to_vec()));
        } else if ["base", "code", "name", "start", "end"].contains(&name.as_str()) {
            let v = field.text().await.map_err(|_| too_big())?;
            if let Some(c) = kc_domain::text::first_forbidden(&v) {
                return Err(AppError::BadRequest(kc_domain::text::message(c)));
            }
            typed.insert(name, v.trim().to_string());
        }
    }
    let get = |k: &str| typed.get(k).cloned().unwrap_or_default();
    let mut messages = Vec::new();
    let code = Code::parse(&get("code"))
        .map_err(|e| messages.push((Some("code".into()), format!("新规划编号：{e}"))))
        .ok();
    let name = get("name");
    if name.is_empty() {
        messages.push((Some("name".into()), "新规划名称不能为空".into()));
    }
    let date = |k: &str, label: &str, messages: &mut Vec<(Option<String>, String)>| {
        let v = get(k);
        kc_domain::registry::parse_date(&v).or_else(|| {
            messages.push((
                Some(k.into()),
                format!("{label}“{v}”不是日期（如 2026-01-01）"),
            ));
            None
        })
    };
    let start = date("start", "开始日期", &mut messages);
    let end = date("end", "结束日期", &mut messages);
    if let (Some(s), Some(e)) = (start, end)
        && s >= e
    {
        messages.push((Some("end".into()), "结束日期应晚于开始日期".into()));
    }
    let file = file.filter(|(n, b)| !n.is_empty() && !b.is_empty());
    let kind = match &file {
        None => {
            messages.push((None, "请选择要导入的目标表文件（.xlsx 或 .csv）".into()));
            None
        }
        Some((n, _)) => kc_io::FileKind::from_name(n).or_else(|| {
            messages.push((None, format!("“{n}”不是 .xlsx 或 .csv 文件")));
            None
        }),
    };
    if messages.is_empty()
        && let (Some(code), Some(start), Some(end), Some(kind), Some((_, bytes))) =
            (code, start, end, kind, &file)
    {
        let new = NewPlan {
            code: code.clone(),
            name,
            start,
            end,
        };
        match kc_app::plan_edit::import_table(
            &st.store,
            &sess.caller(),
            &get("base"),
            &new,
            kind,
            bytes,
        )
        .await
        {
            Ok(_) => {
                return Ok(Redirect::to(&format!("/plans/{code}/edit")).into_response());
            }
            Err(PlanEditError::Rows(rows)) => {
                messages = rows
                    .iter()
                    .map(|p| (None, format!("第 {} 行：{}", p.row, p.message)))
                    .collect();
            }
            Err(PlanEditError::Exists(c)) => {
                messages.push((
                    Some("code".into()),
                    format!("已有编号为“{c}”的规划：请换一个编号"),
                ));
            }
            Err(e) => messages = refused(e)?.into_iter().map(|(_, m)| (None, m)).collect(),
        }
    }
    let page = import_page(&st, &sess, Some(&typed), messages).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

// ---- differences between versions -------------------------------------------------------------

#[derive(Template)]
#[template(path = "versions_diff.html")]
pub struct DiffPage {
    pub nav: Nav,
    pub from: i64,
    pub to: i64,
    pub lines: Vec<kc_app::plan_edit::DiffLine>,
    pub added: usize,
    pub removed: usize,
    /// Said instead of a diff (a plan with one version).
    pub note: String,
}

/// `GET /plans/{plan}/versions/diff?from=A&to=B` (default: the newest
/// version against the one before).
pub async fn diff(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Html<String>, AppError> {
    let snap = load_snapshot(&st, &sess, &code, &HashMap::new()).await?;
    let newest = snap.version.version;
    let num = |k: &str, default: i64| -> Result<i64, AppError> {
        match q.0.get(k).map(|s| s.trim()) {
            None | Some("") => Ok(default),
            Some(s) => s
                .parse()
                .map_err(|_| AppError::BadRequest(format!("版本号“{s}”应为数字"))),
        }
    };
    let to = num("to", newest)?;
    let from = num("from", to - 1)?;
    let nav = Nav::new(&snap, &sess).at(format!("/plans/{code}/versions/diff"));
    if from < 1 && to == 1 {
        return Ok(Html(
            DiffPage {
                nav,
                from: 1,
                to: 1,
                lines: Vec::new(),
                added: 0,
                removed: 0,
                note: "本规划只有第 1 版，还没有可比较的版本。".into(),
            }
            .render()?,
        ));
    }
    let text = |v: i64| {
        let st = &st;
        let code = &code;
        async move {
            st.store
                .plan_source(code, v)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("规划“{code}”没有第 {v} 版")))
        }
    };
    let (old, new) = (text(from).await?, text(to).await?);
    let lines = kc_app::plan_edit::diff(&old, &new);
    Ok(Html(
        DiffPage {
            nav,
            note: String::new(),
            from,
            to,
            added: lines.iter().filter(|l| l.tag == '+').count(),
            removed: lines.iter().filter(|l| l.tag == '-').count(),
            lines,
        }
        .render()?,
    ))
}

/// This feature's routes.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/plans/import",
            get(self::import_form)
                .post(self::import)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::features::registries::UPLOAD_LIMIT,
                )),
        )
        .route("/plans/{plan}/edit", get(self::index))
        .route(
            "/plans/{plan}/edit/new-target",
            get(self::new_target).post(self::create_target),
        )
        .route(
            "/plans/{plan}/edit/targets/{target}",
            get(self::edit_target).post(self::save_target),
        )
        .route(
            "/plans/{plan}/edit/nodes/{node}",
            get(self::edit_node).post(self::save_node),
        )
        .route(
            "/plans/{plan}/edit/indicators/{indicator}",
            get(self::edit_indicator).post(self::save_indicator),
        )
        .route("/plans/{plan}/table", get(self::export_table))
        .route("/plans/{plan}/versions/diff", get(self::diff))
}
