//! Reported values and their revisions.

use kc_domain::duty::ValueStatus;
use kc_domain::{Period, Scope, Vintage};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, now_text};

/// A value to record. Validation against the plan (known indicator, area,
/// period inside the plan) happens before this point, in the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct NewValue {
    pub plan_code: String,
    pub indicator: String,
    pub scope: Scope,
    pub period: Period,
    pub value: f64,
    pub unit: String,
    pub note: String,
    pub vintage: Vintage,
    pub entered_by: String,
    /// Draft or submitted from the forms; approved for the bureau's own
    /// bulk loads (demo data, imports).
    pub status: ValueStatus,
    /// Entered after its period was locked.
    pub correction: bool,
    /// When it was entered and submitted, if not now: loads of history
    /// (the demo) record when the figures were reported, so duties are not
    /// all read as late.
    pub entered_at: Option<String>,
}

/// A stored revision of a value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ValueRecord {
    pub id: i64,
    pub plan_code: String,
    pub indicator: String,
    pub scope: Scope,
    pub period: Period,
    pub revision: i64,
    pub value: f64,
    pub unit: String,
    pub note: String,
    pub vintage: Vintage,
    pub entered_by: String,
    pub entered_at: String,
    pub status: ValueStatus,
    pub submitted_at: Option<String>,
    pub reviewed_by: String,
    pub reviewed_at: Option<String>,
    pub review_comment: String,
    pub correction: bool,
}

/// One step in a revision's review.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ValueEvent {
    pub value_id: i64,
    pub action: String,
    pub actor: String,
    pub at: String,
    pub comment: String,
}

const COLUMNS: &str = "id, plan_code, indicator, scope, period, revision, value, unit, note, vintage, entered_by, entered_at, status, submitted_at, reviewed_by, reviewed_at, review_comment, correction";

fn record_from(row: &AnyRow) -> Result<ValueRecord> {
    let scope: String = row.try_get("scope")?;
    let period: String = row.try_get("period")?;
    let vintage: String = row.try_get("vintage")?;
    let status: String = row.try_get("status")?;
    Ok(ValueRecord {
        status: ValueStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("审核状态“{status}”")))?,
        submitted_at: row.try_get("submitted_at")?,
        reviewed_by: row.try_get("reviewed_by")?,
        reviewed_at: row.try_get("reviewed_at")?,
        review_comment: row.try_get("review_comment")?,
        correction: row.try_get::<i64, _>("correction")? != 0,
        id: row.try_get("id")?,
        plan_code: row.try_get("plan_code")?,
        indicator: row.try_get("indicator")?,
        scope: scope
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("范围“{scope}”")))?,
        period: period
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("期间“{period}”")))?,
        revision: row.try_get("revision")?,
        value: row.try_get("value")?,
        unit: row.try_get("unit")?,
        note: row.try_get("note")?,
        vintage: Vintage::parse(&vintage)
            .ok_or_else(|| StoreError::Corrupt(format!("数据性质“{vintage}”")))?,
        entered_by: row.try_get("entered_by")?,
        entered_at: row.try_get("entered_at")?,
    })
}

/// The latest submitted or approved revision of each (indicator, scope,
/// period) key: what counts outside the reporting unit, officially or
/// provisionally. Drafts and returned revisions are the unit's own.
const LATEST: &str = "v.status IN ('submitted', 'approved') AND revision = (SELECT MAX(w.revision) FROM reported_values w
      WHERE w.plan_code = v.plan_code AND w.indicator = v.indicator
        AND w.scope = v.scope AND w.period = v.period AND w.status IN ('submitted', 'approved'))";

/// The latest approved revision of each key: the official value.
const APPROVED: &str =
    "v.status = 'approved' AND revision = (SELECT MAX(w.revision) FROM reported_values w
      WHERE w.plan_code = v.plan_code AND w.indicator = v.indicator
        AND w.scope = v.scope AND w.period = v.period AND w.status = 'approved')";

/// The latest revision of each key, whatever its status.
const NEWEST: &str = "revision = (SELECT MAX(w.revision) FROM reported_values w
      WHERE w.plan_code = v.plan_code AND w.indicator = v.indicator
        AND w.scope = v.scope AND w.period = v.period)";

impl Store {
    /// Records a value as a new revision of its key. With
    /// `expected_revision`, the write only succeeds if the latest revision is
    /// still that one (0: no value yet); otherwise `Conflict` returns the
    /// newer value so the writer can be shown it. The revision number is
    /// taken inside the INSERT itself, so the check and the write are one
    /// atomic statement on both backends; two writers racing for the same
    /// number are told apart by the unique key.
    pub async fn append_value(
        &self,
        v: &NewValue,
        expected_revision: Option<i64>,
    ) -> Result<ValueRecord> {
        let mut tx = self.begin().await?;
        let rec = tx.append_value(v, expected_revision).await?;
        tx.commit_without_audit().await?;
        Ok(rec)
    }

    /// Records many values in one transaction, each as the next revision of
    /// its key (the demo loader). All or nothing.
    pub async fn append_values(&self, values: &[NewValue]) -> Result<usize> {
        let mut tx = self.begin().await?;
        let n = tx.append_values(values).await?;
        tx.commit_without_audit().await?;
        Ok(n)
    }

    /// The latest revision of every value of a plan, ordered by indicator,
    /// scope and period end.
    pub async fn latest_values(&self, plan_code: &str) -> Result<Vec<ValueRecord>> {
        self.values_where(plan_code, LATEST).await
    }

    /// The latest values of one indicator of a plan (every scope and period).
    pub async fn indicator_values(
        &self,
        plan_code: &str,
        indicator: &str,
    ) -> Result<Vec<ValueRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM reported_values v WHERE plan_code = $1 AND indicator = $2 AND {LATEST}
             ORDER BY scope, period_end, period"
        ))
        .bind(plan_code)
        .bind(indicator)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from).collect()
    }

    /// Every revision of one value, newest first.
    pub async fn value_history(
        &self,
        plan_code: &str,
        indicator: &str,
        scope: &Scope,
        period: Period,
    ) -> Result<Vec<ValueRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM reported_values
             WHERE plan_code = $1 AND indicator = $2 AND scope = $3 AND period = $4
             ORDER BY revision DESC"
        ))
        .bind(plan_code)
        .bind(indicator)
        .bind(scope.to_string())
        .bind(period.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from).collect()
    }

    /// The newest revision of one value, whatever its status.
    pub async fn newest_revision(
        &self,
        plan_code: &str,
        indicator: &str,
        scope: &Scope,
        period: Period,
    ) -> Result<Option<ValueRecord>> {
        self.newest_of_key(plan_code, indicator, scope, period, "")
            .await
    }

    /// For one key, its newest submitted-or-approved revision and its
    /// newest approved one (what the read model keeps of a key).
    pub async fn key_heads(
        &self,
        plan_code: &str,
        indicator: &str,
        scope: &Scope,
        period: Period,
    ) -> Result<(Option<ValueRecord>, Option<ValueRecord>)> {
        let newest = self
            .newest_of_key(
                plan_code,
                indicator,
                scope,
                period,
                "AND status IN ('submitted', 'approved')",
            )
            .await?;
        let approved = self
            .newest_of_key(
                plan_code,
                indicator,
                scope,
                period,
                "AND status = 'approved'",
            )
            .await?;
        Ok((newest, approved))
    }

    /// The newest revision of one key meeting `cond` (SQL, fixed text).
    async fn newest_of_key(
        &self,
        plan_code: &str,
        indicator: &str,
        scope: &Scope,
        period: Period,
        cond: &str,
    ) -> Result<Option<ValueRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM reported_values
             WHERE plan_code = $1 AND indicator = $2 AND scope = $3 AND period = $4 {cond}
             ORDER BY revision DESC LIMIT 1"
        ))
        .bind(plan_code)
        .bind(indicator)
        .bind(scope.to_string())
        .bind(period.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(record_from).transpose()
    }

    /// The official (latest approved) value of every key of a plan.
    pub async fn approved_values(&self, plan_code: &str) -> Result<Vec<ValueRecord>> {
        self.values_where(plan_code, APPROVED).await
    }

    /// The newest revision of every key of a plan, whatever its status,
    /// with the time the key was first submitted (for duties: late or not).
    pub async fn newest_values(
        &self,
        plan_code: &str,
    ) -> Result<Vec<(ValueRecord, Option<String>)>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, (SELECT MIN(f.submitted_at) FROM reported_values f
                 WHERE f.plan_code = v.plan_code AND f.indicator = v.indicator
                   AND f.scope = v.scope AND f.period = v.period) AS first_submitted
             FROM reported_values v WHERE plan_code = $1 AND {NEWEST}
             ORDER BY indicator, scope, period_end, period"
        ))
        .bind(plan_code)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((record_from(r)?, r.try_get("first_submitted")?)))
            .collect()
    }

    async fn values_where(&self, plan_code: &str, cond: &str) -> Result<Vec<ValueRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM reported_values v WHERE plan_code = $1 AND {cond}
             ORDER BY indicator, scope, period_end, period"
        ))
        .bind(plan_code)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from).collect()
    }

    /// One revision by its id.
    pub async fn value_by_id(&self, id: i64) -> Result<Option<ValueRecord>> {
        let mut conn = self.pool().acquire().await?;
        by_id(&mut conn, id).await
    }

    /// Moves a revision from one of `from` to `to`, recording who did it and
    /// why. `Ok(None)` when the revision is not (or no longer) in one of
    /// `from`, e.g. a second reviewer came first.
    pub async fn set_value_status(
        &self,
        id: i64,
        from: &[ValueStatus],
        to: ValueStatus,
        actor: &str,
        comment: &str,
    ) -> Result<Option<ValueRecord>> {
        let mut tx = self.begin().await?;
        let done = tx.set_value_status(id, from, to, actor, comment).await?;
        tx.commit_without_audit().await?;
        Ok(done)
    }

    /// The review steps of the given revisions, oldest first.
    pub async fn value_events(&self, ids: &[i64]) -> Result<Vec<ValueEvent>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        let rows = sqlx::query(&format!(
            "SELECT value_id, action, actor, at, comment FROM value_events
             WHERE value_id IN ({}) ORDER BY id",
            list.join(", ")
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ValueEvent {
                    value_id: r.try_get("value_id")?,
                    action: r.try_get("action")?,
                    actor: r.try_get("actor")?,
                    at: r.try_get("at")?,
                    comment: r.try_get("comment")?,
                })
            })
            .collect()
    }

    /// Locks a period of a plan (fixtures; users lock through a Tx).
    pub async fn lock_period(&self, plan_code: &str, period: Period, by: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let done = tx.lock_period(plan_code, period, by).await?;
        tx.commit_without_audit().await?;
        Ok(done)
    }

    /// The locked periods of a plan with who locked them and when.
    pub async fn locked_periods(&self, plan_code: &str) -> Result<Vec<(Period, String, String)>> {
        let rows = sqlx::query(
            "SELECT period, locked_by, locked_at FROM period_locks WHERE plan_code = $1 ORDER BY period",
        )
        .bind(plan_code)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let p: String = r.try_get("period")?;
                Ok((
                    p.parse()
                        .map_err(|_| StoreError::Corrupt(format!("期间“{p}”")))?,
                    r.try_get("locked_by")?,
                    r.try_get("locked_at")?,
                ))
            })
            .collect()
    }

    /// Number of stored revisions of a plan's values.
    pub async fn count_values(&self, plan_code: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM reported_values WHERE plan_code = $1")
            .bind(plan_code)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }
}

pub(crate) async fn latest_of(
    conn: &mut sqlx::AnyConnection,
    v: &NewValue,
) -> Result<Option<ValueRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reported_values
         WHERE plan_code = $1 AND indicator = $2 AND scope = $3 AND period = $4
         ORDER BY revision DESC LIMIT 1"
    ))
    .bind(v.plan_code.as_str())
    .bind(v.indicator.as_str())
    .bind(v.scope.to_string())
    .bind(v.period.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(record_from).transpose()
}

/// Inserts `v` as the next revision of its key, if the latest revision is
/// `expected` (any, when `None`). `Ok(None)` means the expectation failed,
/// or another writer took the same revision number first (the unique key;
/// `DO NOTHING` so that a transaction around it stays usable).
pub(crate) async fn insert_next(
    conn: &mut sqlx::AnyConnection,
    v: &NewValue,
    expected: Option<i64>,
) -> Result<Option<ValueRecord>> {
    if !v.value.is_finite() {
        return Err(StoreError::Invalid(format!(
            "数值必须是有限的数字，收到 {}",
            v.value
        )));
    }
    let entered_at = v.entered_at.clone().unwrap_or_else(now_text);
    let submitted_at = (v.status != ValueStatus::Draft).then(|| entered_at.clone());
    let row = sqlx::query(
        "INSERT INTO reported_values
           (plan_code, indicator, scope, period, period_end, revision, value, unit, note, vintage, entered_by, entered_at,
            status, submitted_at, reviewed_by, reviewed_at, review_comment, correction)
         SELECT $1, $2, $3, $4, $5, m.next, $6, $7, $8, $9, $10, $11, $13, $14, '', NULL, '', $15
         FROM (SELECT COALESCE(MAX(revision), 0) + 1 AS next FROM reported_values
               WHERE plan_code = $1 AND indicator = $2 AND scope = $3 AND period = $4) m
         WHERE $12 < 0 OR m.next = $12 + 1
         ON CONFLICT (plan_code, indicator, scope, period, revision) DO NOTHING
         RETURNING id, revision",
    )
    .bind(v.plan_code.as_str())
    .bind(v.indicator.as_str())
    .bind(v.scope.to_string())
    .bind(v.period.to_string())
    .bind(v.period.end().to_string())
    .bind(v.value)
    .bind(v.unit.as_str())
    .bind(v.note.as_str())
    .bind(v.vintage.as_str())
    .bind(v.entered_by.as_str())
    .bind(entered_at.as_str())
    .bind(expected.unwrap_or(-1))
    .bind(v.status.as_str())
    .bind(submitted_at.as_deref())
    .bind(i64::from(v.correction))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(ValueRecord {
        id: row.try_get("id")?,
        plan_code: v.plan_code.clone(),
        indicator: v.indicator.clone(),
        scope: v.scope.clone(),
        period: v.period,
        revision: row.try_get("revision")?,
        value: v.value,
        unit: v.unit.clone(),
        note: v.note.clone(),
        vintage: v.vintage,
        entered_by: v.entered_by.clone(),
        entered_at,
        status: v.status,
        submitted_at,
        reviewed_by: String::new(),
        reviewed_at: None,
        review_comment: String::new(),
        correction: v.correction,
    }))
}

pub(crate) async fn by_id(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Option<ValueRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM reported_values WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(record_from).transpose()
}
