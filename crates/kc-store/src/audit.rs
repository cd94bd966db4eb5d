//! The audit trail: append-only and hash-chained.
//!
//! Each entry's hash is the SHA-256 of its sequence number, time, actor,
//! address, action, object, detail and the previous entry's hash, so
//! changing or deleting any past entry breaks the chain from there on, and
//! `verify` finds it. `audit_head` keeps the last sequence number and hash:
//! deleting the newest entries is caught there. Retention removes a prefix
//! of the chain and remembers the last removed hash, so the rest still
//! verifies.
//!
//! What the chain cannot catch: someone with write access to the database
//! who recomputes every later hash and the head. Recording the head hash
//! that `kechuang audit verify` prints somewhere else closes that gap.

use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::{Result, Store, StoreError, now_text};

/// An entry to append.
#[derive(Debug, Clone, Default)]
pub struct NewAudit {
    pub actor: String,
    pub ip: String,
    /// What happened, e.g. `login.failed`, `value.submit`, `user.roles`.
    pub action: String,
    /// What it happened to, e.g. `user:alice` or `value:hte_count/city/2025Q2`.
    pub object: String,
    /// Details as JSON text (before and after for data changes).
    pub detail: String,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub ip: String,
    pub action: String,
    pub object: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    /// Entries whose action starts with this.
    pub action: Option<String>,
    /// Inclusive bounds on the time, as text (`2025-06-01` works).
    pub from: Option<String>,
    pub to: Option<String>,
    pub limit: i64,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// Empty when the chain is intact.
    pub problems: Vec<String>,
}

const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry. Every field is length-prefixed so that moving text
/// from one field to the next changes the hash.
/// The stored `hash` of `e` is not part of it.
pub fn entry_hash(e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    h.update(e.seq.to_string().as_bytes());
    for f in [
        &e.at,
        &e.actor,
        &e.ip,
        &e.action,
        &e.object,
        &e.detail,
        &e.prev_hash,
    ] {
        h.update(b"|");
        h.update(f.len().to_string().as_bytes());
        h.update(b":");
        h.update(f.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn entry_from(r: &AnyRow) -> Result<AuditEntry> {
    // Columns map to fields by name.
    Ok(AuditEntry::from_row(r)?)
}

const COLUMNS: &str = "seq, at, actor, ip, action, object, detail, prev_hash, hash";

impl Store {
    /// Appends an entry on its own: a transaction with nothing else in it
    /// (a login, a failed login, an export). Changes to data append theirs
    /// through [`crate::Tx::commit`] instead.
    pub async fn audit(&self, e: &NewAudit) -> Result<AuditEntry> {
        self.begin().await?.commit(e).await
    }

    /// Entries matching `f`, newest first.
    pub async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        let mut add = |cond: &str, v: String| {
            binds.push(v);
            sql.push_str(&format!(" AND {cond} ${}", binds.len()));
        };
        if let Some(a) = f.actor.as_ref().filter(|s| !s.is_empty()) {
            add("actor =", a.clone());
        }
        if let Some(a) = f.action.as_ref().filter(|s| !s.is_empty()) {
            // A prefix match without LIKE, so `_` and `%` in the input mean
            // themselves: the action sorts between the prefix and the prefix
            // followed by the highest character.
            add("action >=", a.clone());
            add("action <", format!("{a}\u{10FFFF}"));
        }
        if let Some(d) = f.from.as_ref().filter(|s| !s.is_empty()) {
            add("at >=", d.clone());
        }
        if let Some(d) = f.to.as_ref().filter(|s| !s.is_empty()) {
            // A bare date means the whole day.
            let end = if d.len() == 10 {
                format!("{d}T99")
            } else {
                d.clone()
            };
            add("at <=", end);
        }
        let limit = if f.limit <= 0 { 1000 } else { f.limit };
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT {limit}"));
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter().map(entry_from).collect()
    }

    /// Walks the whole chain and reports every break.
    pub async fn audit_verify(&self) -> Result<AuditReport> {
        let head =
            sqlx::query("SELECT seq, hash, pruned_seq, pruned_hash FROM audit_head WHERE id = 1")
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| StoreError::Corrupt("审计链头记录缺失".into()))?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;
        let mut expect_seq: i64 = head.try_get::<i64, _>("pruned_seq")? + 1;
        let mut prev: String = head.try_get("pruned_hash")?;
        let mut problems = Vec::new();
        let mut entries = 0i64;
        let mut last: Option<(i64, String)> = None;
        let mut after = expect_seq - 1;
        // In pages, so a long trail does not sit in memory at once.
        loop {
            // Only up to the head as read above: entries committed since
            // (the system keeps running) are checked on the next run.
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 5000"
            ))
            .bind(after)
            .bind(head_seq)
            .fetch_all(self.pool())
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let e = entry_from(r)?;
                entries += 1;
                if e.seq != expect_seq {
                    problems.push(format!(
                        "第 {expect_seq} 条至第 {} 条记录缺失（被删除）",
                        e.seq - 1
                    ));
                }
                if e.prev_hash != prev {
                    problems.push(format!("第 {} 条记录与前一条不衔接（前序哈希不符）", e.seq));
                }
                if entry_hash(&e) != e.hash {
                    problems.push(format!("第 {} 条记录的内容被改动（哈希不符）", e.seq));
                }
                prev = e.hash.clone();
                expect_seq = e.seq + 1;
                after = e.seq;
                last = Some((e.seq, e.hash));
            }
        }
        // An entry past the head is a commit since the head was read, unless
        // the head, read again, is still behind it.
        let max: Option<i64> = sqlx::query("SELECT MAX(seq) AS m FROM audit_log")
            .fetch_one(self.pool())
            .await?
            .try_get("m")?;
        if let Some(m) = max.filter(|m| *m > head_seq) {
            let now: i64 = sqlx::query("SELECT seq FROM audit_head WHERE id = 1")
                .fetch_one(self.pool())
                .await?
                .try_get("seq")?;
            if now < m {
                problems.push(format!(
                    "链头记为第 {now} 条，实际最后一条为第 {m} 条：最新的记录被删除或改动"
                ));
            }
        }
        match &last {
            Some((seq, hash)) if *seq != head_seq || *hash != head_hash => {
                problems.push(format!(
                    "链头记为第 {head_seq} 条，实际最后一条为第 {seq} 条：最新的记录被删除或改动"
                ));
            }
            None if head_seq != expect_seq - 1 => problems.push(format!(
                "链头记为第 {head_seq} 条，但审计记录为空：记录被删除"
            )),
            _ => {}
        }
        if head_hash.len() != ZERO.len() {
            problems.push("链头哈希格式不正确".into());
        }
        Ok(AuditReport {
            entries,
            head_seq,
            head_hash,
            problems,
        })
    }

    /// Removes entries older than `cutoff` on its own (tests); the
    /// system's retention prunes through a [`crate::Tx`] with its own entry.
    pub async fn audit_prune(&self, cutoff: &str) -> Result<i64> {
        let mut tx = self.begin().await?;
        let n = tx.audit_prune(cutoff).await?;
        tx.commit_without_audit().await?;
        Ok(n)
    }
}

impl crate::Tx {
    /// Removes entries older than `cutoff` (a prefix of the chain) and
    /// remembers the last removed hash; returns how many were removed.
    pub async fn audit_prune(&mut self, cutoff: &str) -> Result<i64> {
        let tx = self.conn();
        // Lock the head first, as appenders do.
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let last = sqlx::query(
            "SELECT seq, hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log WHERE at < $1)",
        )
        .bind(cutoff)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(last) = last else {
            return Ok(0);
        };
        let seq: i64 = last.try_get("seq")?;
        let hash: String = last.try_get("hash")?;
        let r = sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE audit_head SET pruned_seq = $1, pruned_hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(hash.as_str())
            .execute(&mut *tx)
            .await?;
        Ok(r.rows_affected() as i64)
    }
}

/// Appends an entry inside a transaction. The head row is updated first,
/// which takes its lock (PostgreSQL) or holds the write lock (SQLite) until
/// commit, so concurrent appenders queue and the chain never forks.
pub(crate) async fn append(conn: &mut sqlx::AnyConnection, e: &NewAudit) -> Result<AuditEntry> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev: String = head.try_get("hash")?;
    let mut entry = AuditEntry {
        seq,
        at: now_text(),
        actor: e.actor.clone(),
        ip: e.ip.clone(),
        action: e.action.clone(),
        object: e.object.clone(),
        detail: e.detail.clone(),
        prev_hash: prev,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry);
    sqlx::query(&format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    ))
    .bind(entry.seq)
    .bind(entry.at.as_str())
    .bind(entry.actor.as_str())
    .bind(entry.ip.as_str())
    .bind(entry.action.as_str())
    .bind(entry.object.as_str())
    .bind(entry.detail.as_str())
    .bind(entry.prev_hash.as_str())
    .bind(entry.hash.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(entry.hash.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(entry)
}
