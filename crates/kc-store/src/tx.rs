//! A unit of work: one database transaction that holds a change, the events
//! it raises and its audit entry, so that all three are stored or none is.
//!
//! Every write of the system goes through a [`Tx`]: `Store::begin`, the
//! writes, then [`Tx::commit`] with the audit entry. The audit entry is
//! appended last, just before the commit, because appending takes the audit
//! head's lock and the lock is held until the commit: the shorter that is,
//! the more writers get through per second. Events are numbered in commit
//! order (see `migrations/*/0005_events.sql`); every server process reads
//! them to keep its read model current.
//!
//! On SQLite, `begin` takes the write lock at once (like `BEGIN IMMEDIATE`):
//! a transaction that read first and wrote later could otherwise fail when
//! another connection wrote in between, without waiting for it.

use kc_domain::duty::ValueStatus;
use sqlx::Row;

use crate::audit::{self, AuditEntry, NewAudit};
use crate::audit_key::Keeper;
use crate::registries::StoredRecord;
use crate::values::{NewValue, ValueRecord};
use crate::{Backend, Result, Store, StoreError, now_text};

/// What a committed change touched, as other processes learn it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Event {
    /// Commit-ordered number (the events of one commit share it).
    pub seq: i64,
    pub kind: EventKind,
    pub plan_code: String,
    /// What changed, in the kind's own terms: a value's
    /// `indicator/scope/period`, a registry record's `registry/key`, a
    /// user's name.
    pub object: String,
}

/// The kinds of change the read models follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum EventKind {
    /// A reported value's revision was added or changed status.
    Value,
    /// One registry record was saved or deleted.
    Record,
    /// Many records of a registry changed at once (an import).
    Registry,
    /// A plan version was stored.
    Plan,
    /// A period was locked.
    Lock,
    /// A user's sessions, roles or state changed (cached sessions drop).
    User,
    /// A market case (deal or challenge) changed.
    Case,
    /// A setting changed (e.g. the date registries are current to).
    Setting,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Value => "value",
            EventKind::Record => "record",
            EventKind::Registry => "registry",
            EventKind::Plan => "plan",
            EventKind::Lock => "lock",
            EventKind::User => "user",
            EventKind::Case => "case",
            EventKind::Setting => "setting",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        Some(match s {
            "value" => EventKind::Value,
            "record" => EventKind::Record,
            "registry" => EventKind::Registry,
            "plan" => EventKind::Plan,
            "lock" => EventKind::Lock,
            "user" => EventKind::User,
            "case" => EventKind::Case,
            "setting" => EventKind::Setting,
            _ => return None,
        })
    }
}

/// An open unit of work. Dropped without a commit, it rolls back.
pub struct Tx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    backend: Backend,
    local_commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    events: Vec<(EventKind, String, String)>,
    keeper: Option<std::sync::Arc<Keeper>>,
    /// The newest entry appended in this transaction: anchored after the
    /// commit.
    anchor: Option<(String, i64, String)>,
    /// The anchor starts the database's anchors afresh (a restore).
    pub(crate) restore_anchor: bool,
}

/// Rows per INSERT statement, by backend. PostgreSQL gains from long
/// statements (fewer round trips); SQLite binds each parameter by looking its
/// name up in a list (`sqlite3_bind_parameter_name`, linear), so the cost
/// of a statement grows with the square of its parameters and short ones win.
fn chunk_rows(backend: Backend) -> usize {
    match backend {
        Backend::Postgres => 400,
        Backend::Sqlite => 40,
    }
}

impl Store {
    /// Opens a unit of work.
    pub async fn begin(&self) -> Result<Tx> {
        let mut tx = self.pool().begin().await?;
        if self.backend() == Backend::Sqlite {
            // A write as the first statement takes SQLite's write lock now,
            // waiting (busy timeout) for another writer if need be.
            sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
                .execute(&mut *tx)
                .await?;
        }
        Ok(Tx {
            tx,
            backend: self.backend(),
            local_commits: self.local_commits.clone(),
            events: Vec::new(),
            keeper: self.keeper.clone(),
            anchor: None,
            restore_anchor: false,
        })
    }

    /// A read-only view of the whole database as of one moment, for a
    /// backup: on PostgreSQL a `REPEATABLE READ, READ ONLY` transaction
    /// (every table read from one snapshot while writers go on).
    pub(crate) async fn snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        let mut tx = self.pool().begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// The events committed after `seq`, in commit order.
    pub async fn events_since(&self, seq: i64) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT seq, kind, plan_code, object FROM events WHERE seq > $1 ORDER BY seq, n",
        )
        .bind(seq)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind")?;
                Ok(Event {
                    seq: r.try_get("seq")?,
                    kind: EventKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("事件类型“{kind}”")))?,
                    plan_code: r.try_get("plan_code")?,
                    object: r.try_get("object")?,
                })
            })
            .collect()
    }

    /// The sequence number of the newest event (0 when there is none).
    pub async fn last_event(&self) -> Result<i64> {
        let row = sqlx::query("SELECT seq AS s FROM event_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("s")?)
    }

    /// Counts per event kind, for the crash tests and `kechuang check`.
    pub async fn count_events(&self, kind: EventKind) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM events WHERE kind = $1")
            .bind(kind.as_str())
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }
}

impl Tx {
    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// Notes what this change touches; written at commit with the audit
    /// entry's sequence number.
    pub fn event(&mut self, kind: EventKind, plan_code: &str, object: &str) {
        self.events
            .push((kind, plan_code.to_string(), object.to_string()));
    }

    /// Appends the audit entry and the events, and commits; then appends
    /// the new head to the anchor file (after the commit, so an anchor is
    /// never ahead of the database).
    pub async fn commit(mut self, entry: &NewAudit) -> Result<AuditEntry> {
        let done = self.append_audit(entry).await?;
        let any = self.write_events(Some(done.seq)).await?;
        let counter = self.local_commits.clone();
        let (keeper, anchor, restore) =
            (self.keeper.take(), self.anchor.take(), self.restore_anchor);
        self.tx.commit().await?;
        committed(&counter, any);
        if let (Some(k), Some((db_id, seq, mac))) = (keeper, anchor)
            && let Some(a) = &k.anchors
            && !db_id.is_empty()
            && !mac.is_empty()
            && let Err(e) = a.append(&db_id, seq, &mac, restore)
        {
            // The change is committed; a missing anchor only weakens the
            // next check, which the next commit's anchor restores.
            tracing::warn!(error = %e, file = %a.path.display(), "audit anchor not written");
        }
        Ok(done)
    }

    /// Appends one more audit entry before the one given to `commit`, for a
    /// use case that records two facts (e.g. a deal signed and the contract
    /// it wrote).
    pub async fn audit(&mut self, entry: &NewAudit) -> Result<AuditEntry> {
        self.append_audit(entry).await
    }

    async fn append_audit(&mut self, entry: &NewAudit) -> Result<AuditEntry> {
        let a = audit::append(&mut self.tx, entry, self.keeper.as_deref()).await?;
        self.anchor = Some((a.db_id, a.entry.seq, a.entry.mac.clone()));
        Ok(a.entry)
    }

    /// Commits without an audit entry. Only for loads that are not a user's
    /// change: the demo data of a fresh database and test fixtures. The
    /// events are still written, so the read models still follow.
    pub async fn commit_without_audit(mut self) -> Result<()> {
        let any = self.write_events(None).await?;
        let counter = self.local_commits.clone();
        self.tx.commit().await?;
        committed(&counter, any);
        Ok(())
    }

    /// Commits a backup file's copy of a database: not a change of this
    /// system's data, so it has no audit entry of its own (the source
    /// records the backup).
    pub(crate) async fn commit_copy(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Writes the pending events; false if there were none.
    async fn write_events(&mut self, audit_seq: Option<i64>) -> Result<bool> {
        if self.events.is_empty() {
            return Ok(false);
        }
        // The head row stays locked until the commit: numbers follow the
        // commit order.
        let row = sqlx::query("UPDATE event_head SET seq = seq + 1 WHERE id = 1 RETURNING seq")
            .fetch_one(&mut *self.tx)
            .await?;
        let seq: i64 = row.try_get("seq")?;
        for (i, (kind, plan, object)) in std::mem::take(&mut self.events).iter().enumerate() {
            sqlx::query(
                "INSERT INTO events (seq, n, kind, plan_code, object, audit_seq) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(seq)
            .bind(i as i64)
            .bind(kind.as_str())
            .bind(plan.as_str())
            .bind(object.as_str())
            .bind(audit_seq)
            .execute(&mut *self.tx)
            .await?;
        }
        if self.backend == Backend::Postgres {
            // Delivered at commit, to every process listening.
            sqlx::query("SELECT pg_notify('kechuang_events', $1)")
                .bind(seq.to_string())
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(true)
    }

    // ---- values --------------------------------------------------------------------------

    /// Records a value as the next revision of its key. With
    /// `expected_revision`, only if the latest revision is still that one
    /// (0: no value yet); otherwise `Conflict` carries the newer value. The
    /// revision is taken inside the INSERT; a writer that lost the race for
    /// a number without expecting one takes the next.
    pub async fn append_value(
        &mut self,
        v: &NewValue,
        expected_revision: Option<i64>,
    ) -> Result<ValueRecord> {
        // Without an expected revision a lost race is retried; under many
        // simultaneous writers of one key (PostgreSQL; SQLite writers queue)
        // a writer may lose several times, so it waits a little longer each
        // time.
        for attempt in 0..100u64 {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(attempt.min(20))).await;
            }
            if let Some(rec) =
                crate::values::insert_next(&mut self.tx, v, expected_revision).await?
            {
                self.event(EventKind::Value, &v.plan_code, &value_object(v));
                return Ok(rec);
            }
            if expected_revision.is_some() {
                break;
            }
        }
        match crate::values::latest_of(&mut self.tx, v).await? {
            Some(cur) => Err(StoreError::Conflict {
                current: Box::new(cur),
            }),
            None => Err(StoreError::Corrupt("版本冲突后找不到最新数据".into())),
        }
    }

    /// Many values, each as the next revision of its key (imports).
    pub async fn append_values(&mut self, values: &[NewValue]) -> Result<usize> {
        for v in values {
            self.append_value(v, None).await?;
        }
        Ok(values.len())
    }

    /// Moves a revision from one of `from` to `to`, with who and why, and
    /// logs the step. `Ok(None)` when the revision is not (or no longer) in
    /// one of `from`, e.g. a second reviewer came first.
    pub async fn set_value_status(
        &mut self,
        id: i64,
        from: &[ValueStatus],
        to: ValueStatus,
        actor: &str,
        comment: &str,
    ) -> Result<Option<ValueRecord>> {
        let now = now_text();
        let allowed: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let review = matches!(to, ValueStatus::Approved | ValueStatus::Returned);
        // Only the newest revision of its key moves: checked in the UPDATE
        // itself, so a revision added after the caller looked wins.
        let newest = "NOT EXISTS (SELECT 1 FROM reported_values w
              WHERE w.plan_code = reported_values.plan_code AND w.indicator = reported_values.indicator
                AND w.scope = reported_values.scope AND w.period = reported_values.period
                AND w.revision > reported_values.revision)";
        let sql = if review {
            format!(
                "UPDATE reported_values SET status = $1, reviewed_by = $2, reviewed_at = $3, review_comment = $4
                 WHERE id = $5 AND status IN ({}) AND {newest}",
                allowed.join(", ")
            )
        } else {
            format!(
                "UPDATE reported_values SET status = $1, submitted_at = COALESCE(submitted_at, $3),
                        reviewed_by = $2, review_comment = $4
                 WHERE id = $5 AND status IN ({}) AND {newest}",
                allowed.join(", ")
            )
        };
        let reviewer = if review { actor } else { "" };
        let r = sqlx::query(&sql)
            .bind(to.as_str())
            .bind(reviewer)
            .bind(now.as_str())
            .bind(comment)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        if r.rows_affected() == 0 {
            return Ok(None);
        }
        self.value_event(id, to.as_str(), actor, comment).await?;
        let rec = crate::values::by_id(&mut self.tx, id).await?;
        if let Some(r) = &rec {
            self.event(
                EventKind::Value,
                &r.plan_code,
                &format!("{}/{}/{}", r.indicator, r.scope, r.period),
            );
        }
        Ok(rec)
    }

    /// Logs a step in a revision's history (`value_events`).
    pub async fn value_event(
        &mut self,
        id: i64,
        action: &str,
        actor: &str,
        comment: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO value_events (value_id, action, actor, at, comment) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(action)
        .bind(actor)
        .bind(now_text())
        .bind(comment)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Locks a period of a plan; false if it was locked already.
    pub async fn lock_period(
        &mut self,
        plan_code: &str,
        period: kc_domain::Period,
        by: &str,
    ) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO period_locks (plan_code, period, locked_by, locked_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (plan_code, period) DO NOTHING",
        )
        .bind(plan_code)
        .bind(period.to_string())
        .bind(by)
        .bind(now_text())
        .execute(&mut *self.tx)
        .await?;
        self.event(EventKind::Lock, plan_code, &period.to_string());
        Ok(r.rows_affected() > 0)
    }

    // ---- registries ----------------------------------------------------------------------

    /// Inserts or replaces records by natural key. With one record the event
    /// names it (other processes patch their engines); with more, the event
    /// names the registry (they reload it).
    pub async fn upsert_records(
        &mut self,
        plan_code: &str,
        registry: &str,
        records: &[StoredRecord],
        user: &str,
        mut progress: impl FnMut(usize),
    ) -> Result<usize> {
        // One statement may not name a key twice (PostgreSQL refuses it);
        // the last record of a key wins, as it would row by row.
        let mut last: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, r) in records.iter().enumerate() {
            last.insert(r.key.as_str(), i);
        }
        let records: Vec<&StoredRecord> = records
            .iter()
            .enumerate()
            .filter(|(i, r)| last.get(r.key.as_str()) == Some(i))
            .map(|(_, r)| r)
            .collect();
        let now = now_text();
        let mut written = 0;
        for chunk in records.chunks(chunk_rows(self.backend)) {
            let mut sql = String::from(
                "INSERT INTO registry_records (registry, rkey, area, data, updated_at, updated_by) VALUES ",
            );
            for i in 0..chunk.len() {
                let b = i * 6;
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                ));
            }
            sql.push_str(
                " ON CONFLICT (registry, rkey) DO UPDATE SET area = excluded.area, data = excluded.data, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            );
            let mut q = sqlx::query(&sql);
            for r in chunk {
                q = q
                    .bind(registry)
                    .bind(r.key.as_str())
                    .bind(r.area.as_str())
                    .bind(r.data.as_str())
                    .bind(now.as_str())
                    .bind(user);
            }
            q.execute(&mut *self.tx).await?;
            written += chunk.len();
            progress(written);
        }
        match records.as_slice() {
            [] => {}
            [one] => self.event(
                EventKind::Record,
                plan_code,
                &format!("{registry}/{}", one.key),
            ),
            _ => self.event(EventKind::Registry, plan_code, registry),
        }
        Ok(records.len())
    }

    /// Deletes a record; false if there was none.
    pub async fn delete_record(
        &mut self,
        plan_code: &str,
        registry: &str,
        key: &str,
    ) -> Result<bool> {
        let r = sqlx::query("DELETE FROM registry_records WHERE registry = $1 AND rkey = $2")
            .bind(registry)
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        self.event(EventKind::Record, plan_code, &format!("{registry}/{key}"));
        Ok(r.rows_affected() > 0)
    }

    pub async fn set_setting(&mut self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(&mut *self.tx)
        .await?;
        self.event(EventKind::Setting, "", name);
        Ok(())
    }
}

/// Counts a commit with events, after it succeeded.
fn committed(counter: &std::sync::atomic::AtomicU64, with_events: bool) {
    if with_events {
        counter.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

fn value_object(v: &NewValue) -> String {
    format!("{}/{}/{}", v.indicator, v.scope, v.period)
}
