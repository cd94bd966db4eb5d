//! Reported values and their revisions.

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
}

const COLUMNS: &str = "id, plan_code, indicator, scope, period, revision, value, unit, note, vintage, entered_by, entered_at";

fn record_from(row: &AnyRow) -> Result<ValueRecord> {
    let scope: String = row.try_get("scope")?;
    let period: String = row.try_get("period")?;
    let vintage: String = row.try_get("vintage")?;
    Ok(ValueRecord {
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

/// The latest revision of each (indicator, scope, period) key.
const LATEST: &str = "revision = (SELECT MAX(w.revision) FROM reported_values w
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
        let mut conn = self.pool().acquire().await?;
        // Without an expected revision a lost race is retried; under many
        // simultaneous writers of one value a writer may lose several times,
        // so the retries back off a little longer each time.
        for attempt in 0..20u64 {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(attempt)).await;
            }
            match insert_next(&mut conn, v, expected_revision).await {
                Ok(Some(rec)) => return Ok(rec),
                Ok(None) => return Err(self.conflict(&mut conn, v).await),
                Err(StoreError::Db(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                    if expected_revision.is_some() {
                        return Err(self.conflict(&mut conn, v).await);
                    }
                    // Without an expected revision, simply take the next one.
                }
                Err(e) => return Err(e),
            }
        }
        Err(self.conflict(&mut conn, v).await)
    }

    async fn conflict(&self, conn: &mut sqlx::AnyConnection, v: &NewValue) -> StoreError {
        match latest_of(conn, v).await {
            Ok(Some(cur)) => StoreError::Conflict {
                current: Box::new(cur),
            },
            Ok(None) => StoreError::Corrupt("版本冲突后找不到最新数据".into()),
            Err(e) => e,
        }
    }

    /// Records many values in one transaction, each as the next revision of
    /// its key (used by the demo loader and imports). All or nothing.
    pub async fn append_values(&self, values: &[NewValue]) -> Result<usize> {
        let mut tx = self.pool().begin().await?;
        for v in values {
            insert_next(&mut tx, v, None).await?;
        }
        tx.commit().await?;
        Ok(values.len())
    }

    /// The latest revision of every value of a plan, ordered by indicator,
    /// scope and period end.
    pub async fn latest_values(&self, plan_code: &str) -> Result<Vec<ValueRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM reported_values v WHERE plan_code = $1 AND {LATEST}
             ORDER BY indicator, scope, period_end, period"
        ))
        .bind(plan_code)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from).collect()
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

    /// Number of stored revisions of a plan's values.
    pub async fn count_values(&self, plan_code: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM reported_values WHERE plan_code = $1")
            .bind(plan_code)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }
}

async fn latest_of(conn: &mut sqlx::AnyConnection, v: &NewValue) -> Result<Option<ValueRecord>> {
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
/// `expected` (any, when `None`). `Ok(None)` means the expectation failed.
async fn insert_next(
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
    let entered_at = now_text();
    let row = sqlx::query(
        "INSERT INTO reported_values
           (plan_code, indicator, scope, period, period_end, revision, value, unit, note, vintage, entered_by, entered_at)
         SELECT $1, $2, $3, $4, $5, m.next, $6, $7, $8, $9, $10, $11
         FROM (SELECT COALESCE(MAX(revision), 0) + 1 AS next FROM reported_values
               WHERE plan_code = $1 AND indicator = $2 AND scope = $3 AND period = $4) m
         WHERE $12 < 0 OR m.next = $12 + 1
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
    }))
}
