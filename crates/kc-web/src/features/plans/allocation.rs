//! The allocation table (目标任务分解表): each target's shares by area, the
//! export and import of the table, and the coordinator's form for one
//! target's shares. Every change is kc-app's `allocation::save`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Datelike;
use kc_app::allocation::AllocationError;
use kc_domain::allocation::{
    self as table, COL_BASELINE, COL_FINAL, COL_RESPONSIBLE, COL_TARGET, COL_UNIT,
};
use kc_domain::plan::fmt_num;

use crate::auth::Session;
use crate::error::AppError;
use crate::extract::FormBody;
use crate::pages::Nav;
use crate::{AppState, Params, load_snapshot};

pub struct UnitRow {
    pub code: String,
    pub name: String,
    pub baseline: String,
    pub years: Vec<String>,
    pub value: String,
    pub responsible: String,
}

pub struct TargetBlock {
    pub code: String,
    pub name: String,
    pub city: String,
    pub unit: String,
    pub sum: String,
    pub rows: Vec<UnitRow>,
}

#[derive(Template)]
#[template(path = "allocation.html")]
pub struct AllocationPage {
    pub nav: Nav,
    pub years: Vec<i32>,
    pub blocks: Vec<TargetBlock>,
    /// Allocatable targets without shares: (code, name).
    pub open: Vec<(String, String)>,
    pub can_edit: bool,
    pub message: String,
    pub problems: Vec<String>,
}

#[derive(Template)]
#[template(path = "allocation_edit.html")]
pub struct EditPage {
    pub nav: Nav,
    pub code: String,
    pub name: String,
    pub describe: String,
    pub unit: String,
    pub years: Vec<i32>,
    pub rows: Vec<UnitRow>,
    pub errors: Vec<String>,
}

fn cell(v: Option<f64>) -> String {
    v.map(|v| fmt_num(v, 4)).unwrap_or_default()
}

/// The years of `t` that take a yearly target.
fn years_of(plan: &kc_domain::Plan, t: &kc_domain::plan::Target) -> Vec<i32> {
    let from = t
        .baseline
        .as_ref()
        .map(|b| b.date.year() + 1)
        .unwrap_or(plan.period.start.year());
    (from..t.deadline.year()).collect()
}

fn unit_rows(plan: &kc_domain::Plan, t: &kc_domain::plan::Target, years: &[i32]) -> Vec<UnitRow> {
    plan.areas
        .iter()
        .map(|a| (a.code.as_str(), a.name.as_str()))
        .chain(
            plan.departments
                .iter()
                .filter(|d| t.allocation(d.code.as_str()).is_some())
                .map(|d| (d.code.as_str(), d.name.as_str())),
        )
        .map(|(code, name)| {
            let a = t.allocation(code);
            UnitRow {
                code: code.to_string(),
                name: name.to_string(),
                baseline: cell(a.and_then(|a| a.baseline.as_ref().map(|b| b.value))),
                years: years
                    .iter()
                    .map(|y| {
                        cell(a.and_then(|a| {
                            a.checkpoints
                                .iter()
                                .find(|c| c.date.year() == *y)
                                .map(|c| c.value)
                        }))
                    })
                    .collect(),
                value: cell(a.map(|a| a.value.path_end(t.direction))),
                responsible: a.and_then(|a| a.responsible.clone()).unwrap_or_default(),
            }
        })
        .collect()
}

async fn page(
    st: &AppState,
    sess: &Session,
    code: &str,
    q: &Params,
    message: String,
    problems: Vec<String>,
) -> Result<AllocationPage, AppError> {
    let mut q = q.0.clone();
    q.remove("scope");
    let snap = load_snapshot(st, sess, code, &q).await?;
    let plan = &snap.plan;
    let nav = Nav::new(&snap, sess).at(format!("/plans/{}/allocation", plan.code));
    let years = table::years(plan);
    let mut blocks = Vec::new();
    let mut open = Vec::new();
    for t in plan.targets.iter().filter(|t| table::allocatable(t)) {
        if t.allocations.is_empty() {
            open.push((t.code.to_string(), t.name.clone()));
            continue;
        }
        let sum: f64 = t
            .allocations
            .iter()
            .filter(|a| plan.area(a.unit.as_str()).is_some())
            .map(|a| a.value.path_end(t.direction))
            .sum();
        blocks.push(TargetBlock {
            code: t.code.to_string(),
            name: t.name.clone(),
            city: t.describe(),
            unit: t.unit.clone(),
            sum: fmt_num(sum, 4),
            rows: unit_rows(plan, t, &years),
        });
    }
    Ok(AllocationPage {
        nav,
        years,
        blocks,
        open,
        can_edit: sess.principal.is_coordinator(),
        message,
        problems,
    })
}

/// `GET /plans/{plan}/allocation`: the table; `?format=xlsx|csv` downloads it.
pub async fn show(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, AppError> {
    match q.0.get("format").map(String::as_str) {
        Some(f @ ("xlsx" | "csv")) => {
            sess.require_business()?;
            let (stored, _) = st.plan_and_engine(&code).await?;
            let (bytes, ext) = if f == "xlsx" {
                (
                    kc_app::allocation::export_xlsx(&stored.plan)
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                    "xlsx",
                )
            } else {
                (kc_app::allocation::export_csv(&stored.plan), "csv")
            };
            kc_app::auth::audit(
                &st.store,
                &sess.actor(),
                "export",
                &format!("plan:{code}:allocation"),
                serde_json::json!({"format": ext}),
            )
            .await?;
            Ok(crate::features::registries::download(
                &format!("{}目标任务分解表.{ext}", stored.plan.name),
                bytes,
            ))
        }
        Some(other) => Err(AppError::BadRequest(format!(
            "不支持的格式“{other}”：请选择 xlsx 或 csv"
        ))),
        None => Ok(Html(
            page(&st, &sess, &code, &q, String::new(), Vec::new())
                .await?
                .render()?,
        )
        .into_response()),
    }
}

fn refused(e: AllocationError) -> Result<Vec<String>, AppError> {
    match e {
        AllocationError::Forbidden => Err(AppError::Forbidden(e.to_string())),
        AllocationError::NoPlan(p) => Err(AppError::NotFound(format!("没有编号为“{p}”的规划"))),
        AllocationError::Store(s) => Err(AppError::Store(s)),
        AllocationError::File(f) => Ok(vec![f.to_string()]),
        AllocationError::Rows(rows) => Ok(rows
            .iter()
            .map(|p| format!("第 {} 行：{}", p.row, p.message))
            .collect()),
        AllocationError::Plan(p) => Ok(p.errors.iter().map(|d| d.message.clone()).collect()),
    }
}

/// `POST /plans/{plan}/allocation/import` (multipart `file`).
pub async fn import(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    sess.require_business()?;
    sess.require(
        sess.principal.is_coordinator(),
        "导入目标任务分解表（仅限规划统筹）",
    )?;
    let too_big = || AppError::BadRequest("上传失败：文件不能超过 20 MB".into());
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = mp.next_field().await.map_err(|_| too_big())? {
        if field.name() == Some("file") {
            let name = kc_domain::text::strip_forbidden(field.file_name().unwrap_or(""));
            let bytes = field.bytes().await.map_err(|_| too_big())?;
            file = Some((name, bytes.to_vec()));
        }
    }
    let (name, bytes) = file
        .filter(|(n, b)| !n.is_empty() && !b.is_empty())
        .ok_or_else(|| AppError::BadRequest("请选择要导入的文件".into()))?;
    let kind = kc_io::FileKind::from_name(&name)
        .ok_or_else(|| AppError::BadRequest(format!("“{name}”不是 .xlsx 或 .csv 文件")))?;
    match kc_app::allocation::import(&st.store, &sess.caller(), &code, kind, &bytes).await {
        Ok(saved) => {
            let mut msg = if saved.saved.created {
                format!(
                    "已导入“{name}”，生成规划第 {} 版。",
                    saved.saved.version.version
                )
            } else {
                format!("“{name}”与当前分解表相同，未生成新版本。")
            };
            if !saved.warnings.is_empty() {
                msg.push_str(&format!("另有 {} 处提醒：", saved.warnings.len()));
            }
            let warnings = saved
                .warnings
                .iter()
                .map(|w| {
                    w.split_once(": ")
                        .map(|(_, m)| m.to_string())
                        .unwrap_or(w.clone())
                })
                .collect();
            Ok(Html(page(&st, &sess, &code, &q, msg, warnings).await?.render()?).into_response())
        }
        Err(e) => {
            let problems = refused(e)?;
            let msg = format!("“{name}”有 {} 处错误，未写入任何数据：", problems.len());
            let p = page(&st, &sess, &code, &q, msg, problems).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(p.render()?)).into_response())
        }
    }
}

async fn edit_page(
    st: &AppState,
    sess: &Session,
    code: &str,
    target: &str,
    typed: Option<&HashMap<String, String>>,
    errors: Vec<String>,
) -> Result<EditPage, AppError> {
    sess.require(
        sess.principal.is_coordinator(),
        "修改目标任务分解表（仅限规划统筹）",
    )?;
    let snap = load_snapshot(st, sess, code, &HashMap::new()).await?;
    let plan = &snap.plan;
    let t = plan
        .target(target)
        .filter(|t| table::allocatable(t))
        .ok_or_else(|| AppError::NotFound(format!("规划中没有可分解的目标“{target}”")))?;
    let years = years_of(plan, t);
    let mut rows = unit_rows(plan, t, &years);
    if let Some(f) = typed {
        // After an error the form shows what was typed, not what is stored.
        let get = |k: String| f.get(&k).cloned().unwrap_or_default();
        for r in &mut rows {
            r.baseline = get(format!("baseline.{}", r.code));
            r.value = get(format!("target.{}", r.code));
            r.responsible = get(format!("responsible.{}", r.code));
            r.years = years
                .iter()
                .map(|y| get(format!("y{y}.{}", r.code)))
                .collect();
        }
    }
    let nav = Nav::new(&snap, sess).at(format!("/plans/{}/allocation/{}", plan.code, t.code));
    Ok(EditPage {
        nav,
        code: t.code.to_string(),
        name: t.name.clone(),
        describe: t.describe(),
        unit: t.unit.clone(),
        years,
        rows,
        errors,
    })
}

/// `GET /plans/{plan}/allocation/{target}`: the form for one target's shares.
pub async fn edit(
    State(st): State<AppState>,
    sess: Session,
    Path((code, target)): Path<(String, String)>,
) -> Result<Html<String>, AppError> {
    Ok(Html(
        edit_page(&st, &sess, &code, &target, None, Vec::new())
            .await?
            .render()?,
    ))
}

/// `POST /plans/{plan}/allocation/{target}`: fields `baseline.AREA`,
/// `yYEAR.AREA`, `target.AREA`, `responsible.AREA`. The form's cells are
/// read as the rows of an imported table, so both are checked alike.
pub async fn save(
    State(st): State<AppState>,
    sess: Session,
    Path((code, target)): Path<(String, String)>,
    FormBody(form): FormBody<HashMap<String, String>>,
) -> Result<Response, AppError> {
    sess.require_business()?;
    sess.require(
        sess.principal.is_coordinator(),
        "修改目标任务分解表（仅限规划统筹）",
    )?;
    let (stored, _) = st.plan_and_engine(&code).await?;
    let plan = &stored.plan;
    let t = plan
        .target(&target)
        .filter(|t| table::allocatable(t))
        .ok_or_else(|| AppError::NotFound(format!("规划中没有可分解的目标“{target}”")))?;
    let years = years_of(plan, t);
    let mut headers: Vec<String> = [COL_TARGET, COL_UNIT, COL_BASELINE]
        .map(String::from)
        .to_vec();
    headers.extend(years.iter().map(|y| format!("{y}年目标")));
    headers.extend([COL_FINAL, COL_RESPONSIBLE].map(String::from));
    let units: Vec<(String, String)> = plan
        .areas
        .iter()
        .map(|a| (a.code.to_string(), a.name.clone()))
        .chain(
            plan.departments
                .iter()
                .filter(|d| t.allocation(d.code.as_str()).is_some())
                .map(|d| (d.code.to_string(), d.name.clone())),
        )
        .collect();
    let get = |k: String| form.get(&k).cloned().unwrap_or_default();
    let rows: Vec<(usize, Vec<String>)> = units
        .iter()
        .enumerate()
        .map(|(i, (unit, _))| {
            let mut r = vec![
                t.code.to_string(),
                unit.clone(),
                get(format!("baseline.{unit}")),
            ];
            r.extend(years.iter().map(|y| get(format!("y{y}.{unit}"))));
            r.push(get(format!("target.{unit}")));
            r.push(get(format!("responsible.{unit}")));
            (i + 2, r)
        })
        .collect();
    // Rows are named by the unit, not the sheet's row number.
    let name_of = |row: usize| {
        units
            .get(row.wrapping_sub(2))
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let result = match table::read(plan, &headers, &rows) {
        Ok(rows) => kc_app::allocation::save(&st.store, &sess.caller(), &code, &rows).await,
        Err(problems) => Err(AllocationError::Rows(problems)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/plans/{code}/allocation#t-{target}")).into_response()),
        Err(AllocationError::Rows(problems)) => {
            let errors = problems
                .iter()
                .map(|p| format!("{}：{}", name_of(p.row), p.message))
                .collect();
            let p = edit_page(&st, &sess, &code, &target, Some(&form), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(p.render()?)).into_response())
        }
        Err(e) => {
            let errors = refused(e)?;
            let p = edit_page(&st, &sess, &code, &target, Some(&form), errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(p.render()?)).into_response())
        }
    }
}

/// This feature's routes.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/plans/{plan}/allocation", get(self::show))
        .route(
            "/plans/{plan}/allocation/import",
            post(self::import).layer(axum::extract::DefaultBodyLimit::max(
                crate::features::registries::UPLOAD_LIMIT,
            )),
        )
        .route(
            "/plans/{plan}/allocation/{target}",
            get(self::edit).post(self::save),
        )
}
