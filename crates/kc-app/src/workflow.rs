//! The reporting workflow: a value goes draft → submitted → approved or
//! returned (with a comment) → resubmitted; only approved values are
//! official. Every step checks the actor's rights, keeps the history and
//! writes the audit trail. Also: which values a user may see, the duties
//! each unit owes and their state, and reminders.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use kc_domain::auth::{Principal, ValueKey};
use kc_domain::duty::{self, Duty, DutyState, Reported, ValueStatus};
use kc_domain::entry::{FieldError, RawEntry, check_entry};
use kc_domain::{Code, Period, Plan, Scope};
use kc_store::{NewValue, Store, StoreError, ValueRecord};
use serde_json::json;

use crate::auth::{Actor, Caller, audit, audit_entry};

/// Why a workflow step failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("填报内容有误")]
    Invalid(Vec<FieldError>),
    #[error("该数据已被他人修改")]
    Conflict(Box<ValueRecord>),
    /// The user may not do this to this value; the text says why.
    #[error("{0}")]
    Forbidden(String),
    /// The step does not fit the value's state (e.g. approving twice).
    #[error("{0}")]
    State(String),
    #[error("数据不存在")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn key<'a>(r: &'a ValueRecord) -> ValueKey<'a> {
    ValueKey {
        indicator: &r.indicator,
        scope: &r.scope,
    }
}

fn object(r: &ValueRecord) -> String {
    format!("value:{}/{}/{}", r.indicator, r.scope, r.period)
}

fn value_json(r: &ValueRecord) -> serde_json::Value {
    json!({
        "id": r.id, "revision": r.revision, "value": r.value, "note": r.note,
        "vintage": r.vintage.as_str(), "status": r.status.as_str(),
    })
}

/// Checks a typed-in value and stores it as a new revision, as a draft or
/// submitted for review. A value for a locked period is a correction: it
/// needs a note saying why, and is marked as such.
pub async fn record_value(
    store: &Store,
    plan: &Plan,
    caller: &Caller,
    raw: &RawEntry,
    expected_revision: Option<i64>,
    submit: bool,
    today: NaiveDate,
) -> Result<ValueRecord, RecordError> {
    let (who, actor) = (&caller.principal, &caller.actor);
    let entry = check_entry(plan, raw, today).map_err(RecordError::Invalid)?;
    let k = ValueKey {
        indicator: entry.indicator.as_str(),
        scope: &entry.scope,
    };
    if !who.can_report(plan, k) {
        return Err(RecordError::Forbidden(format!(
            "您无权填报“{}”的该项数据",
            entry.scope.name(plan)
        )));
    }
    let locked = store
        .locked_periods(plan.code.as_str())
        .await?
        .iter()
        .any(|(p, _, _)| *p == entry.period);
    if locked && entry.note.trim().is_empty() {
        return Err(RecordError::Invalid(vec![FieldError {
            field: "note",
            message: format!("{}已锁定，更正须在备注中说明原因", entry.period.zh()),
        }]));
    }
    let before = store
        .newest_revision(
            plan.code.as_str(),
            entry.indicator.as_str(),
            &entry.scope,
            entry.period,
        )
        .await?;
    let unit = plan
        .indicator(entry.indicator.as_str())
        .map(|i| i.unit.clone())
        .unwrap_or_default();
    let new = NewValue {
        plan_code: plan.code.to_string(),
        indicator: entry.indicator.to_string(),
        scope: entry.scope,
        period: entry.period,
        value: entry.value,
        unit,
        note: entry.note,
        vintage: entry.vintage,
        entered_by: actor.username.clone(),
        status: if submit {
            ValueStatus::Submitted
        } else {
            ValueStatus::Draft
        },
        correction: locked,
        entered_at: None,
    };
    let mut tx = store.begin().await?;
    let rec = tx
        .append_value(&new, expected_revision)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { current } => RecordError::Conflict(current),
            other => RecordError::Store(other),
        })?;
    let action = if submit { "submitted" } else { "draft" };
    tx.value_event(rec.id, action, &actor.username, "").await?;
    tx.commit(&audit_entry(
        actor,
        if submit { "value.submit" } else { "value.draft" },
        &object(&rec),
        json!({"before": before.as_ref().map(value_json), "after": value_json(&rec), "correction": locked}),
    ))
    .await?;
    Ok(rec)
}

async fn latest_revision(store: &Store, r: &ValueRecord) -> Result<i64, StoreError> {
    Ok(store
        .newest_revision(&r.plan_code, &r.indicator, &r.scope, r.period)
        .await?
        .map(|x| x.revision)
        .unwrap_or(r.revision))
}

/// Submits a saved draft for review.
pub async fn submit(
    store: &Store,
    plan: &Plan,
    caller: &Caller,
    id: i64,
) -> Result<ValueRecord, RecordError> {
    let (who, actor) = (&caller.principal, &caller.actor);
    let rec = store.value_by_id(id).await?.ok_or(RecordError::NotFound)?;
    if rec.plan_code != plan.code.as_str() {
        return Err(RecordError::NotFound);
    }
    if !who.can_report(plan, key(&rec)) {
        return Err(RecordError::Forbidden("您无权提交该项数据".into()));
    }
    if latest_revision(store, &rec).await? != rec.revision {
        return Err(RecordError::State(
            "该数据已有更新的版本，请在最新版本上操作".into(),
        ));
    }
    let mut tx = store.begin().await?;
    let done = tx
        .set_value_status(
            id,
            &[ValueStatus::Draft],
            ValueStatus::Submitted,
            &actor.username,
            "",
        )
        .await?
        .ok_or_else(|| {
            RecordError::State(format!("该数据当前为“{}”，不能提交", rec.status.zh()))
        })?;
    tx.commit(&audit_entry(
        actor,
        "value.submit",
        &object(&done),
        json!({"before": value_json(&rec), "after": value_json(&done)}),
    ))
    .await?;
    Ok(done)
}

/// Approves or returns a submitted value. Reviewers may not review what
/// they entered themselves, and only the newest revision can be reviewed.
/// A returned value notifies whoever entered it.
pub async fn review(
    store: &Store,
    plan: &Plan,
    caller: &Caller,
    id: i64,
    approve: bool,
    comment: &str,
) -> Result<ValueRecord, RecordError> {
    let (who, actor) = (&caller.principal, &caller.actor);
    let rec = store.value_by_id(id).await?.ok_or(RecordError::NotFound)?;
    if rec.plan_code != plan.code.as_str() {
        return Err(RecordError::NotFound);
    }
    if !who.can_review(plan, key(&rec)) {
        return Err(RecordError::Forbidden("您无权审核该项数据".into()));
    }
    if rec.entered_by == actor.username {
        return Err(RecordError::Forbidden("不能审核自己填报的数据".into()));
    }
    let comment = comment.trim();
    if !approve && comment.is_empty() {
        return Err(RecordError::Invalid(vec![FieldError {
            field: "comment",
            message: "退回时请写明原因，便于填报单位修改".into(),
        }]));
    }
    if comment.chars().count() > 500 {
        return Err(RecordError::Invalid(vec![FieldError {
            field: "comment",
            message: "审核意见不超过 500 字".into(),
        }]));
    }
    if latest_revision(store, &rec).await? != rec.revision {
        return Err(RecordError::State(
            "该数据已有更新的版本，请审核最新版本".into(),
        ));
    }
    let to = if approve {
        ValueStatus::Approved
    } else {
        ValueStatus::Returned
    };
    let mut tx = store.begin().await?;
    let done = tx
        .set_value_status(id, &[ValueStatus::Submitted], to, &actor.username, comment)
        .await?
        .ok_or_else(|| {
            RecordError::State(format!(
                "该数据当前为“{}”，不能审核（可能已被他人审核，或已有更新的版本）",
                rec.status.zh()
            ))
        })?;
    tx.commit(&audit_entry(
        actor,
        if approve {
            "value.approve"
        } else {
            "value.return"
        },
        &object(&done),
        json!({"before": value_json(&rec), "after": value_json(&done), "comment": comment}),
    ))
    .await?;
    if !approve && let Some(u) = store.user(&rec.entered_by).await? {
        let ind = plan
            .indicator(&rec.indicator)
            .map(|i| i.name.as_str())
            .unwrap_or(&rec.indicator);
        store
            .notify(
                u.id,
                &format!(
                    "数据被退回：{} · {} · {}",
                    ind,
                    rec.scope.name(plan),
                    rec.period.zh()
                ),
                comment,
                &history_href(plan, &rec),
            )
            .await?;
    }
    Ok(done)
}

/// Attaches an evidence file (type and size checked by the caller) to a
/// revision: the file and its audit entry in one transaction.
pub async fn attach(
    store: &Store,
    plan: &Plan,
    caller: &Caller,
    rec: &ValueRecord,
    filename: &str,
    mime: &str,
    bytes: &[u8],
) -> Result<kc_store::Attachment, RecordError> {
    if rec.plan_code != plan.code.as_str() {
        return Err(RecordError::NotFound);
    }
    if !caller.principal.can_report(plan, key(rec)) {
        return Err(RecordError::Forbidden("您无权为该数据上传佐证材料".into()));
    }
    let mut tx = store.begin().await?;
    let a = tx
        .attach(rec.id, filename, mime, bytes, &caller.actor.username)
        .await?;
    tx.commit(&audit_entry(
        &caller.actor,
        "value.attach",
        &object(rec),
        json!({"file": filename, "sha256": a.sha256, "size": a.size, "revision": rec.revision}),
    ))
    .await?;
    Ok(a)
}

/// The page that shows a value's revisions and review steps.
pub fn history_href(plan: &Plan, r: &ValueRecord) -> String {
    format!(
        "/plans/{}/values/history?indicator={}&scope={}&period={}",
        plan.code, r.indicator, r.scope, r.period
    )
}

/// The values a user sees on the plan's pages: for each key the latest
/// submitted revision if the user may see unpublished values of it (shown as
/// provisional), otherwise the latest approved one.
pub async fn visible_records(
    store: &Store,
    plan: &Plan,
    who: Option<&Principal>,
) -> Result<Vec<ValueRecord>, StoreError> {
    let code = plan.code.as_str();
    let latest = store.latest_values(code).await?;
    if latest.iter().all(|r| r.status == ValueStatus::Approved) {
        return Ok(latest);
    }
    let mut approved: HashMap<(String, Scope, Period), ValueRecord> = store
        .approved_values(code)
        .await?
        .into_iter()
        .map(|r| ((r.indicator.clone(), r.scope.clone(), r.period), r))
        .collect();
    let mut out = Vec::with_capacity(latest.len());
    for r in latest {
        if r.status == ValueStatus::Approved
            || who.is_some_and(|p| p.sees_unpublished(plan, key(&r)))
        {
            out.push(r);
        } else if let Some(a) = approved.remove(&(r.indicator.clone(), r.scope.clone(), r.period)) {
            out.push(a);
        }
    }
    Ok(out)
}

// ---- duties ---------------------------------------------------------------------------------------

/// A duty with its state.
#[derive(Debug, Clone)]
pub struct DutyRow {
    pub duty: Duty,
    pub state: DutyState,
    pub late: bool,
    /// The newest revision, if any.
    pub value: Option<ValueRecord>,
}

/// Every duty of the plan up to `today` with its state.
pub async fn duty_rows(
    store: &Store,
    plan: &Plan,
    today: NaiveDate,
) -> Result<Vec<DutyRow>, StoreError> {
    let newest: HashMap<(String, Scope, Period), (ValueRecord, Option<String>)> = store
        .newest_values(plan.code.as_str())
        .await?
        .into_iter()
        .map(|(r, first)| ((r.indicator.clone(), r.scope.clone(), r.period), (r, first)))
        .collect();
    let day = |t: &str| t.get(..10).and_then(|d| d.parse::<NaiveDate>().ok());
    Ok(duty::duties(plan, today)
        .into_iter()
        .map(|d| {
            let found = newest.get(&(d.indicator.to_string(), d.scope.clone(), d.period));
            let reported = found.map(|(r, first)| Reported {
                status: r.status,
                first_submitted: first.as_deref().and_then(day),
            });
            let (state, late) = duty::state(d.due, today, reported);
            DutyRow {
                duty: d,
                state,
                late,
                value: found.map(|(r, _)| r.clone()),
            }
        })
        .collect())
}

/// The duties a user carries or reviews: those of the units in their roles,
/// or all for the coordinator.
pub fn duties_of<'a>(rows: &'a [DutyRow], who: &Principal) -> Vec<&'a DutyRow> {
    if who.is_coordinator() {
        return rows.iter().collect();
    }
    let units = who.units();
    rows.iter()
        .filter(|r| units.contains(&&r.duty.unit))
        .collect()
}

/// One cell of the completion board: a unit's duties for one period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BoardCell {
    pub total: usize,
    /// Submitted on time (including approved and under review).
    pub on_time: usize,
    /// Submitted after the due date.
    pub late: usize,
    /// Due date passed, nothing submitted.
    pub missing: usize,
    /// Not yet due, nothing submitted.
    pub pending: usize,
    pub returned: usize,
}

/// The completion board: for each unit and each period label, the counts.
pub fn board(rows: &[DutyRow]) -> BTreeMap<(Code, Period), BoardCell> {
    let mut out: BTreeMap<(Code, Period), BoardCell> = BTreeMap::new();
    for r in rows {
        let c = out.entry((r.duty.unit.clone(), r.duty.period)).or_default();
        c.total += 1;
        match r.state {
            DutyState::Due | DutyState::Draft => c.pending += 1,
            DutyState::Overdue => c.missing += 1,
            DutyState::Returned => c.returned += 1,
            DutyState::Submitted | DutyState::Approved if r.late => c.late += 1,
            DutyState::Submitted | DutyState::Approved => c.on_time += 1,
        }
    }
    out
}

/// What sending reminders did.
#[derive(Debug, Clone, Default)]
pub struct RemindOutcome {
    pub units: usize,
    pub notified: usize,
    pub mailed: usize,
    /// Mails that failed, with the reason (for the coordinator to see).
    pub mail_errors: Vec<String>,
}

/// Reminds the reporters of every unit in `units` (all units with open
/// duties when empty) of their overdue and due values: an in-app
/// notification each, and an e-mail when SMTP is configured and the account
/// has an address.
pub async fn remind(
    store: &Store,
    plan: &Plan,
    actor: &Actor,
    units: &[String],
    today: NaiveDate,
    smtp: Option<&crate::mail::SmtpConfig>,
) -> Result<RemindOutcome, StoreError> {
    let rows = duty_rows(store, plan, today).await?;
    let mut open: BTreeMap<&Code, (usize, usize)> = BTreeMap::new();
    for r in &rows {
        if units.is_empty() || units.iter().any(|u| u == r.duty.unit.as_str()) {
            match r.state {
                DutyState::Overdue => open.entry(&r.duty.unit).or_default().0 += 1,
                DutyState::Due | DutyState::Draft | DutyState::Returned => {
                    open.entry(&r.duty.unit).or_default().1 += 1
                }
                _ => {}
            }
        }
    }
    let mut out = RemindOutcome::default();
    for (unit, (overdue, due)) in open {
        out.units += 1;
        let roles = vec![
            format!("area_reporter:{unit}"),
            format!("dept_reporter:{unit}"),
        ];
        let title = format!(
            "催报：{}有 {overdue} 项数据逾期未报、{due} 项待报",
            plan.unit_name(unit.as_str())
        );
        let body = format!("请登录“{}”查看本单位的填报任务并尽快报送。", plan.name);
        let href = format!("/plans/{}/duties", plan.code);
        for u in store.users_with_roles(&roles).await? {
            store.notify(u.id, &title, &body, &href).await?;
            out.notified += 1;
            if let (Some(cfg), false) = (smtp, u.email.is_empty()) {
                let mail = crate::mail::Mail {
                    to: vec![u.email.clone()],
                    subject: title.clone(),
                    body: format!("{}：\n\n{body}\n\n（本邮件由系统自动发送）", u.display_name),
                };
                match crate::mail::send(cfg, &mail).await {
                    Ok(()) => out.mailed += 1,
                    Err(e) => {
                        tracing::warn!(error = %e, to = %u.email, "reminder mail failed");
                        out.mail_errors.push(format!("{}：{e}", u.username));
                    }
                }
            }
        }
    }
    audit(
        store,
        actor,
        "duty.remind",
        &format!("plan:{}", plan.code),
        json!({"units": out.units, "notified": out.notified, "mailed": out.mailed}),
    )
    .await?;
    Ok(out)
}

/// Locks a period: its approved values stand, later changes are
/// corrections. Coordinator only.
pub async fn lock_period(
    store: &Store,
    plan: &Plan,
    caller: &Caller,
    period: Period,
) -> Result<bool, RecordError> {
    let (who, actor) = (&caller.principal, &caller.actor);
    if !who.is_coordinator() {
        return Err(RecordError::Forbidden(
            "只有规划统筹（市科技局）可以锁定期间".into(),
        ));
    }
    let mut tx = store.begin().await?;
    let done = tx
        .lock_period(plan.code.as_str(), period, &actor.username)
        .await?;
    if done {
        tx.commit(&audit_entry(
            actor,
            "period.lock",
            &format!("period:{}/{period}", plan.code),
            json!({}),
        ))
        .await?;
    }
    Ok(done)
}
