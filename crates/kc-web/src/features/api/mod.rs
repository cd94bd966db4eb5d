//! The JSON API under `/api/v1`. Errors are JSON too:
//! `{"error": {"code", "message", "fields"?, "current"?}}`.

pub mod docs;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kc_app::Snapshot;
use kc_domain::entry::RawEntry;
use kc_domain::{Period, Scope};
use serde_json::{Value, json};

use crate::auth::Session;
use crate::error::{ApiError, AppError};
use crate::extract::JsonBody;
use crate::{AppState, Params, load_snapshot};

pub async fn plans(State(st): State<AppState>, sess: Session) -> Result<Json<Value>, ApiError> {
    sess.require_business()?;
    let plans: Vec<Value> = st
        .store
        .plans()
        .await?
        .iter()
        .map(|s| {
            json!({
                "code": s.plan.code,
                "name": s.plan.name,
                "city": s.plan.city,
                "status": s.plan.status,
                "period": { "start": s.plan.period.start, "end": s.plan.period.end },
                "version": s.version.version,
                "loaded_at": s.version.loaded_at,
                "targets": s.plan.targets.len(),
            })
        })
        .collect();
    Ok(Json(json!({ "plans": plans })))
}

pub async fn plan(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
) -> Result<Json<Value>, ApiError> {
    sess.require_business()?;
    let stored = st
        .store
        .plan(&code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("规划“{code}”不存在")))?;
    let mut j = kc_planfile::plan_json(&stored.plan);
    j["version"] = json!(stored.version.version);
    j["loaded_at"] = json!(stored.version.loaded_at);
    Ok(Json(j))
}

fn target_progress(snap: &Snapshot, t: &kc_domain::plan::Target, detail: bool) -> Value {
    let mut j = kc_planfile::target_json(&snap.plan, t);
    if let Some(e) = snap.eval(t.code.as_str()) {
        j["status"] = json!(e.status);
        j["status_zh"] = json!(e.status.zh());
        j["value"] = json!(e.value);
        j["value_date"] = json!(e.value_date);
        j["provisional"] = json!(e.provisional);
        j["judged_at"] = json!(e.judged_at);
        j["after_deadline"] = json!(e.after_deadline);
        j["interim"] = json!(e.interim);
        j["expected"] = json!(e.expected);
        j["expected_now"] = json!(e.expected_now);
        j["completion"] = json!(e.completion);
        j["expected_completion"] = json!(e.expected_completion);
        j["lag"] = json!(e.lag);
        j["reason"] = json!(e.reason);
        j["forecast"] = json!(e.forecast);
        j["forecast_meets"] = json!(e.forecast_meets);
        j["pace"] = json!(e.pace);
        j["compared_with"] = json!(e.compared_with);
        if detail {
            j["points"] = json!(e.points);
            j["path"] = json!(e.path);
            j["years"] = json!(e.years);
            j["start"] = json!(e.start);
        }
    }
    j
}

fn snapshot_header(snap: &Snapshot) -> Value {
    json!({
        "plan": snap.plan.code,
        "version": snap.version.version,
        "as_of": snap.as_of,
        "scope": snap.scope,
        "latest_data": snap.latest_data,
    })
}

/// `GET /api/v1/plans/{plan}/targets?as_of=YYYY-MM-DD&scope=…`
pub async fn targets(
    State(st): State<AppState>,
    sess: Session,
    Path(code): Path<String>,
    q: Params,
) -> Result<Response, ApiError> {
    let snap = load_snapshot(&st, &sess, &code, &q).await?;
    // The answer depends on the snapshot alone: serialised once per snapshot.
    let bytes = st.bytes.get_or(snap.serial, "targets", || {
        let mut j = snapshot_header(&snap);
        let counts = snap.all_counts();
        j["status_counts"] = kc_domain::Status::ALL
            .iter()
            .zip(counts)
            .map(|(s, n)| (s.as_str().to_string(), json!(n)))
            .collect::<serde_json::Map<String, Value>>()
            .into();
        j["targets"] = snap
            .plan
            .targets
            .iter()
            .map(|t| target_progress(&snap, t, false))
            .collect();
        serde_json::to_vec(&j).map_err(|e| AppError::Internal(e.to_string()))
    })?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response())
}

/// `GET /api/v1/plans/{plan}/targets/{target}`: one target with its series.
pub async fn target(
    State(st): State<AppState>,
    sess: Session,
    Path((code, target)): Path<(String, String)>,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    let snap = load_snapshot(&st, &sess, &code, &q).await?;
    let t = snap
        .plan
        .target(&target)
        .ok_or_else(|| crate::not_in_scope(&snap, &target))?;
    let mut j = snapshot_header(&snap);
    j["target"] = target_progress(&snap, t, true);
    Ok(Json(j))
}

/// `GET /api/v1/values?plan=…[&indicator=…][&scope=…][&period=…][&history=1]`:
/// the latest revision of each value, or every revision of one value.
pub async fn values(
    State(st): State<AppState>,
    sess: Session,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    sess.require_business()?;
    let plan = q
        .get("plan")
        .filter(|p| !p.is_empty())
        .ok_or_else(|| AppError::BadRequest("缺少参数 plan（规划编码）".into()))?;
    // The plan and its values from the read model, as the pages see them.
    let view = st
        .model
        .plan(plan)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("规划“{plan}”不存在")))?;
    let scope = match q.get("scope") {
        Some(s) => Some(
            s.parse::<Scope>()
                .map_err(|e| AppError::BadRequest(e.to_string()))?,
        ),
        None => None,
    };
    let period = match q.get("period") {
        Some(p) => Some(
            p.parse::<Period>()
                .map_err(|e| AppError::BadRequest(e.to_string()))?,
        ),
        None => None,
    };
    let indicator = q.get("indicator");
    if q.get("history").is_some_and(|h| h == "1") {
        let (Some(i), Some(s), Some(p)) = (indicator, &scope, period) else {
            return Err(AppError::BadRequest(
                "查看修订历史需要同时给出 indicator、scope 和 period".into(),
            )
            .into());
        };
        let mut revisions = st.store.value_history(plan, i, s, p).await?;
        let key = kc_domain::auth::ValueKey {
            indicator: i,
            scope: s,
        };
        if !sess.principal.sees_unpublished(&view.stored.plan, key) {
            revisions.retain(|r| r.status == kc_domain::duty::ValueStatus::Approved);
        }
        return Ok(Json(json!({ "values": revisions })));
    }
    // What the user may see: pending values of their own units (marked by
    // their status), approved values of everyone else's.
    let records = view.visible(Some(&sess.principal));
    let values: Vec<&kc_app::store::ValueRecord> = records
        .iter()
        .filter(|r| indicator.is_none_or(|i| &r.indicator == i))
        .filter(|r| scope.as_ref().is_none_or(|s| &r.scope == s))
        .filter(|r| period.is_none_or(|p| r.period == p))
        .collect();
    Ok(Json(json!({ "values": values })))
}

/// A number given as a JSON number or as text ("12.5"); kept as its text
/// so the entry check reads exactly what was sent.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
pub enum NumberOrText {
    Number(serde_json::Number),
    Text(String),
}

impl NumberOrText {
    fn text(o: Option<NumberOrText>) -> String {
        match o {
            None => String::new(),
            Some(NumberOrText::Number(n)) => n.to_string(),
            Some(NumberOrText::Text(s)) => s,
        }
    }
}

/// The body of `POST /api/v1/values`. Fields left out are empty and the
/// entry check says what is missing, as the form does; a field of the
/// wrong type or an unknown field is refused before that.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostValue {
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    indicator: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    period: Option<NumberOrText>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    value: Option<NumberOrText>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    vintage: Option<String>,
    #[serde(default)]
    expected_revision: Option<u64>,
    /// `false` saves a draft; the default submits for review.
    #[serde(default)]
    submit: Option<bool>,
}

/// `POST /api/v1/values` with a JSON body ([`PostValue`]):
/// `{"plan", "indicator", "scope"?, "period", "value", "note"?, "vintage"?, "expected_revision"?, "submit"?}`.
/// 201 with the stored revision; 422 with field errors (also for a field of
/// the wrong type or an unknown field); 415 for a body that is not JSON; 409
/// with the newer value when `expected_revision` is stale.
pub async fn post_value(
    State(st): State<AppState>,
    sess: Session,
    JsonBody(cmd): JsonBody<PostValue>,
) -> Result<Response, ApiError> {
    sess.require_business()?;
    let plan_code = cmd.plan.unwrap_or_default();
    if plan_code.is_empty() {
        return Err(AppError::InvalidFields(vec![("plan".into(), "缺少规划编码".into())]).into());
    }
    let stored = st
        .model
        .plan(&plan_code)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("规划“{plan_code}”不存在")))?
        .stored
        .clone();
    let raw = RawEntry {
        indicator: cmd.indicator.unwrap_or_default(),
        scope: cmd.scope.unwrap_or_default(),
        period: NumberOrText::text(cmd.period),
        value: NumberOrText::text(cmd.value),
        note: cmd.note.unwrap_or_default(),
        vintage: cmd.vintage.unwrap_or_default(),
    };
    let expected = cmd.expected_revision.map(|n| n as i64);
    let submit = cmd.submit.unwrap_or(true);
    let rec = kc_app::workflow::record_value(
        &st.store,
        &stored.plan,
        &sess.caller(),
        &raw,
        expected,
        submit,
        st.today(),
    )
    .await
    .map_err(AppError::from)?;
    Ok((StatusCode::CREATED, Json(json!({ "value": rec }))).into_response())
}

// ---- registries --------------------------------------------------------------------

fn record_json(
    def: &kc_domain::registry::RegistryDef,
    key: &str,
    rec: &kc_domain::registry::Record,
) -> Value {
    json!({ "key": key, "fields": rec.to_json(def) })
}

/// `GET /api/v1/plans/{plan}/registries/{reg}?q=&area=&page=&per_page=` or,
/// for the records behind a computed number,
/// `?indicator=&scope=&from=&to=`.
pub async fn registry_list(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg)): Path<(String, String)>,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    sess.require_business()?;
    let def = crate::registries::def_of(&reg)?;
    let (stored, engine) = st.plan_and_engine(&plan).await?;
    let e = engine.read().await;
    let (rows, drill) = crate::registries::select(&e, &stored.plan, def, &q)?;
    let per_page = q
        .get("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(100)
        .clamp(1, 1000);
    let page = q
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let records: Vec<Value> = rows
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .filter_map(|r| {
            Some(record_json(
                def,
                e.key_of(def.code, *r)?,
                &e.record(def.code, *r)?,
            ))
        })
        .collect();
    Ok(Json(json!({
        "registry": def.code,
        "total": rows.len(),
        "page": page,
        "per_page": per_page,
        "drill": if drill.is_empty() { Value::Null } else { json!(drill) },
        "records": records,
    })))
}

/// `GET /api/v1/plans/{plan}/registries/{reg}/record?key=`
pub async fn registry_record(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg)): Path<(String, String)>,
    q: Params,
) -> Result<Json<Value>, ApiError> {
    sess.require_business()?;
    let def = crate::registries::def_of(&reg)?;
    let key = q.get("key").cloned().unwrap_or_default();
    let (_, engine) = st.plan_and_engine(&plan).await?;
    let e = engine.read().await;
    let rec = e
        .row_of(def.code, &key)
        .and_then(|r| e.record(def.code, r))
        .ok_or_else(|| AppError::NotFound(format!("{}中没有这条记录", def.name)))?;
    Ok(Json(record_json(def, &key, &rec)))
}

/// `POST /api/v1/plans/{plan}/registries/{reg}`: a JSON object of field
/// codes to values; creates or replaces the record with that natural key.
pub async fn registry_save(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg)): Path<(String, String)>,
    body: JsonBody<serde_json::Map<String, Value>>,
) -> Result<Response, ApiError> {
    sess.require_business()?;
    sess.require(sess.principal.edits_records(), "登记或修改记录")?;
    let def = crate::registries::def_of(&reg)?;
    let JsonBody(obj) = body;
    // The registry's schema is data, so the body is a map checked against
    // it: a field the registry does not have is refused by name, and a
    // nested object or list is not a cell.
    let mut wrong: Vec<(String, String)> = obj
        .iter()
        .filter_map(|(k, v)| match def.field(k) {
            None => Some((k.clone(), format!("{}中没有这个字段", def.name))),
            Some(_) if v.is_object() || v.is_array() => {
                Some((k.clone(), "应为文本、数字或 true/false".into()))
            }
            Some(_) => None,
        })
        .collect();
    if !wrong.is_empty() {
        wrong.sort();
        return Err(AppError::InvalidFields(wrong).into());
    }
    let texts: std::collections::HashMap<&str, String> = def
        .fields
        .iter()
        .map(|f| {
            let v = match obj.get(f.code) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => if *b { "是" } else { "否" }.to_string(),
                Some(other) => other.to_string(),
            };
            (f.code, v)
        })
        .collect();
    let cells: std::collections::HashMap<&str, &str> =
        texts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (stored, engine) = st.plan_and_engine(&plan).await?;
    let mut e = engine.write().await;
    let saved = kc_app::registries::save(
        &st.store,
        &mut e,
        &stored.plan,
        &sess.caller(),
        kc_app::registries::SaveRecord {
            def,
            cells,
            old_key: None,
            replace: true,
        },
    )
    .await
    .map_err(AppError::from)?;
    drop(e);
    crate::market::after_save(&st, def, &saved.record);
    let status = if saved.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(record_json(def, &saved.key, &saved.record))).into_response())
}

/// `DELETE /api/v1/plans/{plan}/registries/{reg}?key=`
pub async fn registry_delete(
    State(st): State<AppState>,
    sess: Session,
    Path((plan, reg)): Path<(String, String)>,
    q: Params,
) -> Result<StatusCode, ApiError> {
    sess.require_business()?;
    sess.require(sess.principal.edits_records(), "删除登记记录")?;
    let def = crate::registries::def_of(&reg)?;
    let key = q.get("key").cloned().unwrap_or_default();
    let (_, engine) = st.plan_and_engine(&plan).await?;
    let mut e = engine.write().await;
    kc_app::registries::delete(&st.store, &mut e, &sess.caller(), def, &key)
        .await
        .map_err(AppError::from)?;
    drop(e);
    crate::market::after_delete(&st, def.code, &key);
    Ok(StatusCode::NO_CONTENT)
}

// ---- review ------------------------------------------------------------------------------

/// The plan a stored revision belongs to, or 404.
async fn plan_of_value(st: &AppState, id: i64) -> Result<kc_domain::Plan, AppError> {
    let rec = st
        .store
        .value_by_id(id)
        .await?
        .ok_or_else(|| AppError::NotFound("数据不存在".into()))?;
    Ok(st
        .store
        .plan(&rec.plan_code)
        .await?
        .ok_or_else(|| AppError::NotFound("数据不存在".into()))?
        .plan)
}

/// What a reviewer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    Approve,
    Return,
}

/// The body of `POST /api/v1/values/{id}/review`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewValue {
    action: ReviewAction,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /api/v1/values/{id}/review` with `{"action": "approve"|"return",
/// "comment"?}`: 200 with the reviewed revision; 403, 409 (already
/// reviewed, or not the newest revision) and 422 (a return without a
/// reason) as on the page.
pub async fn review_value(
    State(st): State<AppState>,
    sess: Session,
    Path(id): Path<i64>,
    JsonBody(cmd): JsonBody<ReviewValue>,
) -> Result<Json<Value>, ApiError> {
    sess.require_business()?;
    let approve = cmd.action == ReviewAction::Approve;
    let comment = cmd.comment.as_deref().unwrap_or("");
    let plan = plan_of_value(&st, id).await?;
    let rec = kc_app::workflow::review(&st.store, &plan, &sess.caller(), id, approve, comment)
        .await
        .map_err(AppError::from)?;
    Ok(Json(json!({ "value": rec })))
}

/// `POST /api/v1/values/{id}/submit`: a draft goes to review.
pub async fn submit_value(
    State(st): State<AppState>,
    sess: Session,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    sess.require_business()?;
    let plan = plan_of_value(&st, id).await?;
    let rec = kc_app::workflow::submit(&st.store, &plan, &sess.caller(), id)
        .await
        .map_err(AppError::from)?;
    Ok(Json(json!({ "value": rec })))
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/plans", get(self::plans))
        .route("/api/v1/plans/{plan}", get(self::plan))
        .route("/api/v1/plans/{plan}/targets", get(self::targets))
        .route("/api/v1/plans/{plan}/targets/{target}", get(self::target))
        .route("/api/v1/values", get(self::values).post(self::post_value))
        .route("/api/v1/values/{id}/review", post(self::review_value))
        .route("/api/v1/values/{id}/submit", post(self::submit_value))
        .route(
            "/api/v1/plans/{plan}/registries/{reg}",
            get(self::registry_list)
                .post(self::registry_save)
                .delete(self::registry_delete),
        )
        .route(
            "/api/v1/plans/{plan}/registries/{reg}/record",
            get(self::registry_record),
        )
        .merge(docs::routes())
}

/// This feature's routes.
pub(crate) fn router() -> axum::Router<crate::AppState> {
    routes()
}
