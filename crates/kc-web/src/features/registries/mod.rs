//! Registry pages: list with filters and drill-down, record view, create and
//! edit forms, delete, import with a row-level report, templates and export.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use kc_domain::registry::{self, CellError, FieldType, Record, RegistryDef, Value};
use kc_engine::Engine;

use crate::auth::{Session, url_encode};
use crate::error::AppError;
use crate::extract::FormBody;
use crate::pages::Opt;
use crate::view::num;
use crate::{AppState, Params};

fn render<T: Template>(t: &T) -> Result<Html<String>, AppError> {
    Ok(Html(t.render()?))
}

pub(crate) fn def_of(code: &str) -> Result<&'static RegistryDef, AppError> {
    registry::by_code(code).ok_or_else(|| AppError::NotFound(format!("没有名为“{code}”的登记库")))
}

/// The page header shared by registry pages.
pub struct RegNav {
    pub plan_code: String,
    pub as_of: String,
    pub me: crate::account::Me,
}

impl RegNav {
    fn new(plan: &kc_domain::Plan, engine: &Engine, sess: &Session) -> RegNav {
        RegNav {
            me: crate::account::Me::new(sess, Some(plan)),
            plan_code: plan.code.to_string(),
            as_of: engine.as_of.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

/// The area a record counts for: its own area field, or its enterprise's.
/// Refuses showing the edit form of a record the user may not edit.
fn may_edit(sess: &Session, e: &Engine, def: &RegistryDef, rec: &Record) -> Result<(), AppError> {
    let area = kc_app::registries::record_area(e, def, rec);
    sess.require(
        sess.principal.can_edit_record(area.as_deref()),
        "修改其他地区（或全市统管）的登记记录",
    )
}

/// How a value is shown in a list or on a record page.
fn shown(
    def: &RegistryDef,
    field: usize,
    v: &Value,
    plan: &kc_domain::Plan,
    engine: &Engine,
) -> String {
    match (def.fields[field].ty, v) {
        (FieldType::Area, Value::Text(code)) if code == registry::OUTSIDE => "市外".into(),
        (FieldType::Area, Value::Text(code)) => plan
            .area(code)
            .map(|a| a.name.clone())
            .unwrap_or(code.clone()),
        (FieldType::QualKind, Value::Text(k)) => engine
            .catalogue()
            .get(k)
            .map(|q| q.name.clone())
            .unwrap_or(k.clone()),
        (FieldType::Amount | FieldType::Number, Value::Num(n)) => num(*n, 2),
        _ => v.display(),
    }
}

// ---- index ---------------------------------------------------------------------------

pub struct RegCard {
    pub code: &'static str,
    pub name: &'static str,
    pub count: usize,
}

#[derive(Template)]
#[template(path = "registries.html")]
pub struct IndexPage {
    pub nav: RegNav,
    pub cards: Vec<RegCard>,
}

pub async fn index(
    State(st): State<AppState>,
    sess: Session,
    Path(plan): Path<String>,
) -> Result<Html<String>, AppError> {
    sess.require_business()?;
    let (stored, engine) = st.plan_and_engine(&plan).await?;
    let e = engine.read().await;
    let cards = registry::all()
        .map(|d| RegCard {
            code: d.code,
            name: d.name,
            count: e.count(d.code),
        })
        .collect();
    render(&IndexPage {
        nav: RegNav::new(&stored.plan, &e, &sess),
        cards,
    })
}

// ---- list ------------------------------------------------------------------------------

pub struct Column {
    pub label: &'static str,
}

pub struct Row {
    pub href: String,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "registry_list.html")]
pub struct ListPage {
    pub nav: RegNav,
    pub code: &'static str,
    pub name: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub q: String,
    pub areas: Vec<Opt>,
    pub drill: String,
    pub query: String,
    pub prev: String,
    pub next: String,
}

const PAGE: usize = 50;
const LIST_COLUMNS: usize = 7;

/// What a list shows: a drill-down (the records behind one number) or a
/// search. Returns the rows and, for a drill-down, a sentence saying what
/// they make up.
pub(crate) fn select(
    engine: &Engine,
    plan: &kc_domain::Plan,
    def: &RegistryDef,
    q: &HashMap<String, String>,
) -> Result<(Vec<u32>, String), AppError> {
    if let Some(ind) = q.get("indicator").filter(|s| !s.is_empty()) {
        let indicator = plan
            .indicator(ind)
            .ok_or_else(|| AppError::NotFound(format!("指标“{ind}”不存在")))?;
        if engine.registry_of(ind).map(|d| d.code) != Some(def.code) {
            return Err(AppError::BadRequest(format!(
                "指标“{}”不由{}登记库计算",
                indicator.name, def.name
            )));
        }
        let date = |k: &str| -> Result<NaiveDate, AppError> {
            let s = q.get(k).map(String::as_str).unwrap_or("");
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| AppError::BadRequest(format!("参数 {k} 应为 YYYY-MM-DD 格式的日期")))
        };
        let to = date("to")?;
        let from = if q.contains_key("from") {
            date("from")?
        } else {
            to
        };
        let area = q
            .get("scope")
            .and_then(|s| s.strip_prefix("area:"))
            .map(str::to_string);
        if let Some(a) = &area
            && plan.area(a).is_none()
        {
            return Err(AppError::NotFound(format!("本规划中没有地区“{a}”")));
        }
        let drill = engine
            .drill_range(ind, area.as_deref(), from, to)
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        let where_ = area
            .as_deref()
            .and_then(|a| plan.area(a))
            .map_or_else(|| plan.city.clone(), |a| a.name.clone());
        let when = if engine.is_flow(ind) {
            if from == to {
                format!("截至 {to}")
            } else {
                format!("{from} 至 {to}")
            }
        } else {
            format!("{to} 时点")
        };
        let sentence = format!(
            "以下 {} 条记录构成“{}”{}{}的数值：{} {}。",
            drill.rows.len(),
            indicator.name,
            where_,
            when,
            num(drill.total, indicator.decimals.max(2)),
            indicator.unit
        );
        return Ok((drill.rows, sentence));
    }
    let text = q.get("q").map(String::as_str).unwrap_or("");
    let area = q.get("area").filter(|a| !a.is_empty()).map(String::as_str);
    Ok((engine.search(def.code, text, area), String::new()))
}

pub async fn list(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg)): Path<(String, String)>,
    q: Params,
) -> Result<Html<String>, AppError> {
    sess.require_business()?;
    let def = def_of(&reg)?;
    let (stored, engine) = st.plan_and_engine(&plan).await?;
    let e = engine.read().await;
    let (rows, drill) = select(&e, &stored.plan, def, &q)?;
    let total = rows.len();
    let pages = total.div_ceil(PAGE).max(1);
    let page = q
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let ncols = def.fields.len().min(LIST_COLUMNS);
    let title = def.index(def.title).unwrap_or(0);
    // What counts is shown: a drill-down into a sum lists the amount summed
    // even when it is not among the first columns.
    let mut cols: Vec<usize> = (0..ncols).collect();
    if let Some(kc_domain::plan::DataSource::Registry {
        compute: Some(c), ..
    }) = q
        .get("indicator")
        .and_then(|i| stored.plan.indicator(i))
        .map(|i| &i.source)
        && let kc_domain::plan::Aggregate::Sum { field } = &c.aggregate
        && let Some(i) = def.index(field)
        && !cols.contains(&i)
    {
        cols.push(i);
    }
    // Records of a firm (qualifications, yearly figures…) name the firm.
    let firm_field = def
        .enterprise
        .filter(|_| def.code != registry::ENTERPRISES.code)
        .and_then(|f| def.index(f));
    let is_qual = def.code == registry::QUALIFICATIONS.code;
    let valid_until = if is_qual {
        def.index("valid_until")
    } else {
        None
    };
    let list_rows = rows
        .iter()
        .skip((page - 1) * PAGE)
        .take(PAGE)
        .filter_map(|r| {
            let rec = e.record(def.code, *r)?;
            let key = e.key_of(def.code, *r)?.to_string();
            let mut cells: Vec<String> = cols
                .iter()
                .map(|&i| shown(def, i, &rec.values[i], &stored.plan, &e))
                .collect();
            if title >= ncols && !cols.contains(&title) {
                cells[0] = format!(
                    "{}（{}）",
                    cells[0],
                    shown(def, title, &rec.values[title], &stored.plan, &e)
                );
            }
            // A qualification's end of validity is the catalogue's rule
            // when the record does not state it.
            if let Some(vi) = valid_until
                && let Some(pos) = cols.iter().position(|&c| c == vi)
                && cells[pos].is_empty()
            {
                cells[pos] = e
                    .catalogue()
                    .validity(&rec)
                    .map(|(_, end)| end.map_or("长期有效".into(), |d| d.to_string()))
                    .unwrap_or_default();
            }
            if let Some(fi) = firm_field {
                let code = rec.values[fi].display();
                let name = e
                    .row_of(registry::ENTERPRISES.code, &code)
                    .and_then(|r| e.record(registry::ENTERPRISES.code, r))
                    .map(|x| x.values[1].display())
                    .unwrap_or_default();
                cells.insert(0, name);
            }
            Some(Row {
                href: format!(
                    "/plans/{plan}/registries/{reg}/record?key={}",
                    url_encode(&key)
                ),
                cells,
            })
        })
        .collect();
    let keep: Vec<String> = ["q", "area", "indicator", "scope", "from", "to"]
        .iter()
        .filter_map(|k| {
            q.get(*k)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", url_encode(v)))
        })
        .collect();
    let query = keep.join("&");
    let link = |p: usize| {
        format!(
            "?{}{}page={p}",
            query,
            if query.is_empty() { "" } else { "&" }
        )
    };
    let area = q.get("area").cloned().unwrap_or_default();
    let mut areas = vec![Opt {
        value: String::new(),
        label: "全部地区".into(),
        selected: area.is_empty(),
    }];
    areas.extend(stored.plan.areas.iter().map(|a| Opt {
        selected: a.code.as_str() == area,
        value: a.code.to_string(),
        label: a.name.clone(),
    }));
    render(&ListPage {
        nav: RegNav::new(&stored.plan, &e, &sess),
        code: def.code,
        name: def.name,
        columns: firm_field
            .map(|_| Column {
                label: "企业名称"
            })
            .into_iter()
            .chain(cols.iter().map(|&i| Column {
                label: def.fields[i].label,
            }))
            .collect(),
        rows: list_rows,
        total,
        page,
        pages,
        q: q.get("q").cloned().unwrap_or_default(),
        areas,
        drill,
        prev: if page > 1 {
            link(page - 1)
        } else {
            String::new()
        },
        next: if page < pages {
            link(page + 1)
        } else {
            String::new()
        },
        query,
    })
}

/// `…/new`, `…/edit`, `…/export.xlsx|csv`, `…/template.xlsx|csv`.
pub async fn export_or_form(
    st: State<AppState>,
    sess: Session,
    Path((plan, reg, file)): Path<(String, String, String)>,
    q: Params,
) -> Result<Response, AppError> {
    match file.as_str() {
        "new" | "edit" => Ok(form(st, sess, Path((plan, reg, file)), q)
            .await?
            .into_response()),
        _ => export(st, sess, Path((plan, reg, file)), q).await,
    }
}

/// `…/export.xlsx` and `…/export.csv`: the list as filtered, all pages.
pub async fn export(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg, file)): Path<(String, String, String)>,
    q: Params,
) -> Result<Response, AppError> {
    sess.require_business()?;
    let def = def_of(&reg)?;
    let kind = match file.as_str() {
        "export.xlsx" => kc_io::FileKind::Xlsx,
        "export.csv" => kc_io::FileKind::Csv,
        "template.xlsx" | "template.csv" => return template(def, &file),
        _ => return Err(AppError::NotFound("页面不存在".into())),
    };
    let (stored, engine) = st.plan_and_engine(&plan).await?;
    let e = engine.read().await;
    let (rows, _) = select(&e, &stored.plan, def, &q)?;
    let recs: Vec<Record> = rows.iter().filter_map(|r| e.record(def.code, *r)).collect();
    // Areas and qualification kinds by name, as the lists show them.
    let recs = kc_app::registries::named_for_export(def, &recs, &stored.plan);
    let bytes = match kind {
        kc_io::FileKind::Xlsx if recs.len() > 1_048_575 => {
            return Err(AppError::BadRequest(
                "记录数超过 Excel 的行数上限，请导出为 CSV".into(),
            ));
        }
        kc_io::FileKind::Xlsx => {
            kc_io::write_xlsx(def, &recs).map_err(|e| AppError::Internal(e.to_string()))?
        }
        kc_io::FileKind::Csv => kc_io::write_csv(def, &recs),
    };
    kc_app::auth::audit(
        &st.store,
        &sess.actor(),
        "export",
        &format!("registry:{}", def.code),
        serde_json::json!({"file": file, "rows": recs.len(), "query": q.0.clone()}),
    )
    .await?;
    Ok(download(
        &format!(
            "{}.{}",
            def.name,
            if kind == kc_io::FileKind::Xlsx {
                "xlsx"
            } else {
                "csv"
            }
        ),
        bytes,
    ))
}

fn template(def: &RegistryDef, file: &str) -> Result<Response, AppError> {
    let (bytes, ext) = if file.ends_with(".xlsx") {
        (
            kc_io::template_xlsx(def).map_err(|e| AppError::Internal(e.to_string()))?,
            "xlsx",
        )
    } else {
        (kc_io::template_csv(def), "csv")
    };
    Ok(download(&format!("{}导入模板.{ext}", def.name), bytes))
}

/// A page's table as the Excel file `name`.xlsx, with the export written
/// to the audit trail as an export of `object`.
pub(crate) async fn table_download(
    st: &AppState,
    sess: &Session,
    object: &str,
    name: &str,
    headers: &[&str],
    rows: &[Vec<kc_io::Cell>],
) -> Result<Response, AppError> {
    let bytes =
        kc_io::table_xlsx(name, headers, rows).map_err(|e| AppError::Internal(e.to_string()))?;
    kc_app::auth::audit(
        &st.store,
        &sess.actor(),
        "export",
        object,
        serde_json::json!({"file": format!("{name}.xlsx"), "rows": rows.len()}),
    )
    .await?;
    Ok(download(&format!("{name}.xlsx"), bytes))
}

/// A file download with a Chinese file name (RFC 5987).
pub fn download(name: &str, bytes: Vec<u8>) -> Response {
    let mime = if name.ends_with(".xlsx") {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/octet-stream"
    };
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"export\"; filename*=UTF-8''{}",
                    url_encode(name)
                ),
            ),
        ],
        bytes,
    )
        .into_response()
}

// ---- record view -----------------------------------------------------------------------------

pub struct Related {
    pub title: String,
    pub href: String,
    pub items: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "registry_record.html")]
pub struct RecordPage {
    pub nav: RegNav,
    pub code: &'static str,
    pub name: &'static str,
    pub title: String,
    pub key: String,
    pub key_enc: String,
    pub fields: Vec<(&'static str, String)>,
    pub related: Vec<Related>,
    pub validity: String,
    /// Whether this reader may change this record (no link to a refusal).
    pub may_change: bool,
}

pub async fn record(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg)): Path<(String, String)>,
    q: Params,
) -> Result<Html<String>, AppError> {
    sess.require_business()?;
    let def = def_of(&reg)?;
    let key = q.get("key").cloned().unwrap_or_default();
    let (stored, engine) = st.plan_and_engine(&plan).await?;
    let e = engine.read().await;
    let row = e
        .row_of(def.code, &key)
        .ok_or_else(|| AppError::NotFound(format!("{}中没有这条记录", def.name)))?;
    let rec = e
        .record(def.code, row)
        .ok_or_else(|| AppError::NotFound("记录不存在".into()))?;
    let p = &stored.plan;
    let fields = def
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.label, shown(def, i, &rec.values[i], p, &e)))
        .collect();
    let mut related = Vec::new();
    if def.code == registry::ENTERPRISES.code {
        for other in [&registry::QUALIFICATIONS, &registry::FIGURES] {
            let rows = e.rows_of_enterprise(other.code, &key);
            let items = rows
                .iter()
                .filter_map(|r| {
                    let rr = e.record(other.code, *r)?;
                    let k = e.key_of(other.code, *r)?;
                    let label = if other.code == registry::QUALIFICATIONS.code {
                        let validity = e
                            .catalogue()
                            .validity(&rr)
                            .map(|(s, end)| {
                                format!("{s} 至 {}", end.map_or("长期".into(), |d| d.to_string()))
                            })
                            .unwrap_or_default();
                        format!(
                            "{} {}（有效期 {validity}）",
                            shown(other, 1, &rr.values[1], p, &e),
                            rr.values[2].display()
                        )
                    } else {
                        format!(
                            "{}年：营业收入 {} 万元",
                            rr.values[1].display(),
                            shown(other, 2, &rr.values[2], p, &e)
                        )
                    };
                    Some((
                        format!(
                            "/plans/{plan}/registries/{}/record?key={}",
                            other.code,
                            url_encode(k)
                        ),
                        label,
                    ))
                })
                .collect();
            related.push(Related {
                title: other.name.to_string(),
                href: format!(
                    "/plans/{plan}/registries/{}?q={}",
                    other.code,
                    url_encode(&key)
                ),
                items,
            });
        }
    } else if let Some(f) = def.enterprise {
        let code = rec.get(def, f).display();
        if let Some(r) = e.row_of(registry::ENTERPRISES.code, &code) {
            let ent = e.record(registry::ENTERPRISES.code, r);
            related.push(Related {
                title: "所属企业".into(),
                href: String::new(),
                items: vec![(
                    format!(
                        "/plans/{plan}/registries/enterprises/record?key={}",
                        url_encode(&code)
                    ),
                    ent.map(|x| x.values[1].display()).unwrap_or(code),
                )],
            });
        }
    }
    let validity = if def.code == registry::QUALIFICATIONS.code {
        e.catalogue()
            .validity(&rec)
            .map(|(s, end)| {
                format!(
                    "{s} 至 {}",
                    end.map_or("长期有效".into(), |d| d.to_string())
                )
            })
            .unwrap_or_else(|| "缺少计算有效期所需的日期".into())
    } else {
        String::new()
    };
    let title = rec.get(def, def.title).display();
    let may_change = may_edit(&sess, &e, def, &rec).is_ok() && sess.principal.edits_records();
    render(&RecordPage {
        may_change,
        nav: RegNav::new(p, &e, &sess),
        code: def.code,
        name: def.name,
        title,
        key_enc: url_encode(&key),
        key,
        fields,
        related,
        validity,
    })
}

// ---- forms ---------------------------------------------------------------------------------------

pub struct Input {
    pub code: &'static str,
    pub label: &'static str,
    pub required: bool,
    pub hint: String,
    /// "text", "date" or "select".
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<Opt>,
    pub error: String,
}

#[derive(Template)]
#[template(path = "registry_form.html")]
pub struct FormPage {
    pub nav: RegNav,
    pub code: &'static str,
    pub name: &'static str,
    pub old_key: String,
    pub inputs: Vec<Input>,
    pub message: String,
}

/// Form inputs for a registry's fields (all, or only those in `only`, in
/// that order), with the typed values and each field's errors.
pub(crate) fn inputs(
    def: &RegistryDef,
    only: Option<&[&str]>,
    plan: &kc_domain::Plan,
    catalogue: &registry::QualCatalogue,
    values: &HashMap<String, String>,
    errors: &[CellError],
) -> Vec<Input> {
    let fields: Vec<&registry::FieldDef> = match only {
        None => def.fields.iter().collect(),
        Some(codes) => codes.iter().filter_map(|c| def.field(c)).collect(),
    };
    fields
        .into_iter()
        .map(|f| {
            let value = values.get(f.code).cloned().unwrap_or_default();
            let choices: Option<Vec<(String, String)>> = match f.ty {
                FieldType::Choice(opts) => Some(
                    opts.iter()
                        .map(|o| (o.to_string(), o.to_string()))
                        .collect(),
                ),
                FieldType::Bool => {
                    Some(vec![("是".into(), "是".into()), ("否".into(), "否".into())])
                }
                FieldType::Area => Some(
                    plan.areas
                        .iter()
                        .map(|a| (a.code.to_string(), a.name.clone()))
                        .chain(std::iter::once((
                            registry::OUTSIDE.to_string(),
                            "市外".to_string(),
                        )))
                        .collect(),
                ),
                FieldType::QualKind => Some(
                    catalogue
                        .kinds
                        .iter()
                        .map(|k| (k.code.clone(), k.name.clone()))
                        .collect(),
                ),
                _ => None,
            };
            let (kind, options) = match choices {
                Some(c) => {
                    let mut opts = vec![Opt {
                        value: String::new(),
                        label: if f.required {
                            "请选择".into()
                        } else {
                            "（空）".into()
                        },
                        selected: value.is_empty(),
                    }];
                    opts.extend(c.into_iter().map(|(v, l)| Opt {
                        selected: v == value || l == value,
                        value: v,
                        label: l,
                    }));
                    ("select", opts)
                }
                None if f.ty == FieldType::Date => ("date", Vec::new()),
                None if f.ty == FieldType::LongText => ("textarea", Vec::new()),
                None => ("text", Vec::new()),
            };
            Input {
                code: f.code,
                label: f.label,
                required: f.required,
                hint: f.ty.hint(),
                kind,
                value,
                options,
                error: errors
                    .iter()
                    .filter(|e| e.field == f.code)
                    .map(|e| e.reason.clone())
                    .collect::<Vec<_>>()
                    .join("；"),
            }
        })
        .collect()
}

/// Form values of a stored record, as typed.
fn values_of(def: &RegistryDef, rec: &Record) -> HashMap<String, String> {
    def.fields
        .iter()
        .zip(&rec.values)
        .map(|(f, v)| (f.code.to_string(), v.display()))
        .collect()
}

pub async fn form(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg, action)): Path<(String, String, String)>,
    q: Params,
) -> Result<Html<String>, AppError> {
    sess.require_business()?;
    sess.require(sess.principal.edits_records(), "登记或修改记录")?;
    let def = def_of(&reg)?;
    let (stored, engine) = st.plan_and_engine(&plan).await?;
    let e = engine.read().await;
    let (values, old_key) = match action.as_str() {
        "new" => (HashMap::new(), String::new()),
        "edit" => {
            let key = q.get("key").cloned().unwrap_or_default();
            let row = e
                .row_of(def.code, &key)
                .ok_or_else(|| AppError::NotFound(format!("{}中没有这条记录", def.name)))?;
            let rec = e
                .record(def.code, row)
                .ok_or_else(|| AppError::NotFound("记录不存在".into()))?;
            may_edit(&sess, &e, def, &rec)?;
            (values_of(def, &rec), key)
        }
        _ => return Err(AppError::NotFound("页面不存在".into())),
    };
    render(&FormPage {
        nav: RegNav::new(&stored.plan, &e, &sess),
        code: def.code,
        name: def.name,
        old_key,
        inputs: inputs(def, None, &stored.plan, e.catalogue(), &values, &[]),
        message: String::new(),
    })
}

/// `POST …/save`: checks the record; errors re-render the form with the
/// input kept and each message beside its field.
pub async fn save(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg)): Path<(String, String)>,
    FormBody(f): FormBody<HashMap<String, String>>,
) -> Result<Response, AppError> {
    sess.require_business()?;
    sess.require(sess.principal.edits_records(), "登记或修改记录")?;
    let def = def_of(&reg)?;
    let (stored, engine) = st.plan_and_engine(&plan).await?;
    let old_key = f.get("_old_key").cloned().filter(|k| !k.is_empty());
    let cells: HashMap<&str, &str> = def
        .fields
        .iter()
        .map(|fd| (fd.code, f.get(fd.code).map(String::as_str).unwrap_or("")))
        .collect();
    // The engine's write lock is held across the check and the write, so
    // that memory and database change together.
    let mut e = engine.write().await;
    let saved = kc_app::registries::save(
        &st.store,
        &mut e,
        &stored.plan,
        &sess.caller(),
        kc_app::registries::SaveRecord {
            def,
            cells,
            old_key: old_key.as_deref(),
            replace: false,
        },
    )
    .await;
    match saved {
        Ok(saved) => {
            drop(e);
            crate::market::after_save(&st, def, &saved.record);
            if let Some(old) = old_key.as_deref().filter(|o| *o != saved.key) {
                crate::market::after_delete(&st, def.code, old);
            }
            Ok(Redirect::to(&format!(
                "/plans/{plan}/registries/{reg}/record?key={}&saved=1",
                url_encode(&saved.key)
            ))
            .into_response())
        }
        Err(kc_app::registries::RecordCmdError::Invalid(errors)) => {
            let values: HashMap<String, String> = f.clone();
            let page = FormPage {
                nav: RegNav::new(&stored.plan, &e, &sess),
                code: def.code,
                name: def.name,
                old_key: old_key.unwrap_or_default(),
                inputs: inputs(def, None, &stored.plan, e.catalogue(), &values, &errors),
                message: "记录有误，请按提示修改后重新提交。".into(),
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// The record to delete, by its key.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DeleteForm {
    key: String,
}

pub async fn delete(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg)): Path<(String, String)>,
    FormBody(f): FormBody<DeleteForm>,
) -> Result<Response, AppError> {
    sess.require_business()?;
    sess.require(sess.principal.edits_records(), "删除登记记录")?;
    let def = def_of(&reg)?;
    let key = f.key;
    let (_, engine) = st.plan_and_engine(&plan).await?;
    let mut e = engine.write().await;
    kc_app::registries::delete(&st.store, &mut e, &sess.caller(), def, &key).await?;
    drop(e);
    crate::market::after_delete(&st, def.code, &key);
    Ok(Redirect::to(&format!("/plans/{plan}/registries/{reg}?deleted=1")).into_response())
}

// ---- import ------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "import_report.html")]
pub struct ImportPage {
    pub nav: RegNav,
    pub code: &'static str,
    pub name: &'static str,
    pub file: String,
    pub outcome: kc_app::registries::ImportOutcome,
    pub more: usize,
}

/// Largest upload accepted for an import.
pub const UPLOAD_LIMIT: usize = 20 * 1024 * 1024;

pub async fn import(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg)): Path<(String, String)>,
    mut mp: Multipart,
) -> Result<Response, AppError> {
    sess.require_business()?;
    sess.require(
        sess.principal.is_coordinator(),
        "批量导入登记记录（仅限规划统筹）",
    )?;
    let def = def_of(&reg)?;
    let (stored, engine) = st.plan_and_engine(&plan).await?;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut skip_invalid = false;
    while let Some(field) = mp.next_field().await.map_err(|_| {
        AppError::BadRequest(format!(
            "上传失败：文件不能超过 {} MB",
            UPLOAD_LIMIT / 1024 / 1024
        ))
    })? {
        match field.name() {
            Some("file") => {
                let name = kc_domain::text::strip_forbidden(field.file_name().unwrap_or(""));
                let bytes = field.bytes().await.map_err(|_| {
                    AppError::BadRequest(format!(
                        "上传失败：文件不能超过 {} MB",
                        UPLOAD_LIMIT / 1024 / 1024
                    ))
                })?;
                file = Some((name, bytes.to_vec()));
            }
            Some("skip_invalid") => skip_invalid = true,
            _ => {}
        }
    }
    let (name, bytes) = file
        .filter(|(n, b)| !n.is_empty() && !b.is_empty())
        .ok_or_else(|| AppError::BadRequest("请选择要导入的文件".into()))?;
    let kind = kc_io::FileKind::from_name(&name)
        .ok_or_else(|| AppError::BadRequest(format!("“{name}”不是 .xlsx 或 .csv 文件")))?;
    let outcome = kc_app::registries::import_registry(
        &st.store,
        &stored.plan,
        kc_app::registries::ImportRequest {
            def,
            kind,
            bytes: &bytes,
            skip_invalid,
            actor: &sess.actor(),
            file_name: &name,
            today: st.today(),
        },
        |_, _| {},
    )
    .await
    .map_err(|e| match e {
        kc_app::registries::ImportError::File(f) => AppError::BadRequest(f.to_string()),
        kc_app::registries::ImportError::Store(s) => AppError::Store(s),
    })?;
    if outcome.written > 0 {
        // Bulk changes: the engine is rebuilt from the database, and the
        // search index from the engine before the next search.
        st.engines.invalidate().await;
        st.search_stale
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }
    let e = engine.read().await;
    let status = if outcome.refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let more = outcome.rejected.saturating_sub(outcome.errors.len());
    let page = ImportPage {
        nav: RegNav::new(&stored.plan, &e, &sess),
        code: def.code,
        name: def.name,
        file: name,
        outcome,
        more,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/plans/{plan}/registries", get(self::index))
        .route("/plans/{plan}/registries/{reg}", get(self::list))
        .route("/plans/{plan}/registries/{reg}/record", get(self::record))
        .route("/plans/{plan}/registries/{reg}/save", post(self::save))
        .route("/plans/{plan}/registries/{reg}/delete", post(self::delete))
        .route(
            "/plans/{plan}/registries/{reg}/import",
            post(self::import).layer(axum::extract::DefaultBodyLimit::max(self::UPLOAD_LIMIT)),
        )
        .route(
            "/plans/{plan}/registries/{reg}/{file}",
            get(self::export_or_form),
        )
}

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    routes()
}
