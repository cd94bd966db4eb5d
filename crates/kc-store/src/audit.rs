//! The audit trail: append-only, hash-chained, and sealed with a key kept
//! outside the database.
//!
//! Each entry's hash is the SHA-256 of its sequence number, time, actor,
//! address, action, object, detail and the previous entry's hash, so
//! changing or deleting any past entry breaks the chain from there on, and
//! `verify` finds it. `audit_head` keeps the last sequence number and hash.
//!
//! The chain alone does not stop someone with write access to the database:
//! they can recompute every later hash, or cut the newest entries and move
//! the head back. So (see `audit_key.rs`) every entry also carries a MAC
//! under the audit key, which lives outside the database, and every commit
//! appends the head's sequence number and MAC to the anchor file beside the
//! key. `verify` checks every MAC (an edit), the newest anchors against the
//! head (a cut tail), and that a removed prefix was removed by retention: a
//! MAC'd `audit.prune` entry naming exactly the removed range, rows older
//! than a retention of at least 180 days.
//!
//! A database written before it had a key is sealed when a process with a
//! key first opens it: one MAC'd `audit.key` entry whose hash covers the
//! head, so the older entries are protected by the chain up to that point.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::audit_key::{AuditKey, Keeper, parse_anchors};
use crate::{Result, Store, StoreError, now_text};

/// Audit entries are kept at least this long.
pub const MIN_RETENTION_DAYS: i64 = 180;

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
    /// HMAC under the audit key (empty before the database was sealed).
    pub mac: String,
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

/// How far the MACs could be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacCheck {
    /// Every entry since the seal was checked under this key.
    Checked { key_id: String },
    /// The database is sealed but no key was given: the chain alone was
    /// checked. `kechuang audit verify` treats this as a failure.
    NoKey { key_id: String },
    /// The database has not been sealed yet (no process with a key has
    /// opened it): the chain alone was checked.
    Unsealed,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// Empty when the chain is intact; ordered by the sequence number they
    /// concern, so the first names the first bad entry.
    pub problems: Vec<String>,
    /// The first bad entry's sequence number.
    pub first_bad: Option<i64>,
    pub macs: MacCheck,
    /// Anchors found for this database and compared with its entries.
    pub anchors: usize,
}

/// What a retention run removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub removed: i64,
    /// The last removed entry.
    pub through_seq: i64,
    /// The `audit.prune` entry that records it.
    pub entry_seq: i64,
}

/// What sealing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealed {
    /// The database was sealed with this key before.
    Already,
    /// Sealed now by the `audit.key` entry with this number.
    Now { seq: i64 },
}

const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry. Every field is length-prefixed so that moving text
/// from one field to the next changes the hash.
/// The stored `hash` (and `mac`) of `e` are not part of it.
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

const COLUMNS: &str = "seq, at, actor, ip, action, object, detail, prev_hash, hash, mac";

fn time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn millis(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Problems found while verifying, each with the entry it concerns.
#[derive(Default)]
struct Found(Vec<(i64, String)>);

impl Found {
    fn add(&mut self, seq: i64, text: String) {
        self.0.push((seq, text));
    }
}

/// Whether a retention entry's own record shows a lawful removal: at least
/// 180 days kept, the cutoff that far before the entry, the last removed
/// entry older than the cutoff.
fn lawful_prune(e: &AuditEntry, d: &serde_json::Value) -> std::result::Result<(), String> {
    let days = d["retention_days"].as_i64().unwrap_or(0);
    let before = d["before"].as_str().and_then(time);
    let through_at = d["through_at"].as_str().and_then(time);
    let (Some(at), Some(before), Some(through_at)) = (time(&e.at), before, through_at) else {
        return Err(format!("第 {} 条清理记录的时间无法读取", e.seq));
    };
    if days < MIN_RETENTION_DAYS {
        return Err(format!(
            "第 {} 条清理记录的保存期只有 {days} 天（不得少于 {MIN_RETENTION_DAYS} 天）",
            e.seq
        ));
    }
    if before > at - chrono::Duration::days(days) || through_at >= before {
        return Err(format!(
            "第 {} 条清理记录删除了保存期（{days} 天）内的记录（截止 {}，最后删除的一条记于 {}）",
            e.seq,
            millis(before),
            millis(through_at)
        ));
    }
    Ok(())
}

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

    /// The audit key's fingerprint this store signs with, if it has one.
    pub fn audit_key_id(&self) -> Option<&str> {
        self.keeper.as_ref().map(|k| k.key.id())
    }

    /// The anchor file this store appends to, if any.
    pub fn anchor_path(&self) -> Option<&std::path::Path> {
        self.keeper
            .as_ref()
            .and_then(|k| k.anchors.as_ref())
            .map(|a| a.path.as_path())
    }

    /// The key the database is sealed with (its fingerprint; empty when not
    /// sealed) and the database's id in anchor files.
    pub async fn audit_seal(&self) -> Result<(String, String)> {
        let r = sqlx::query("SELECT key_id, db_id FROM audit_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok((r.try_get("key_id")?, r.try_get("db_id")?))
    }

    /// Seals the audit trail with this store's key, once: records the key's
    /// fingerprint and a new database id in the head, and appends an
    /// `audit.key` entry (MAC'd) that covers the head as it was, so the
    /// entries written before the key are protected by the chain up to it.
    /// Refused when the database was sealed with another key.
    pub async fn seal_audit(&self, actor: &str, ip: &str) -> Result<Sealed> {
        let Some(keeper) = self.keeper.clone() else {
            return Err(StoreError::Invalid("没有审计密钥，无法封存审计日志".into()));
        };
        let mut tx = self.begin().await?;
        let head = sqlx::query(
            "UPDATE audit_head SET seq = seq WHERE id = 1
             RETURNING seq, hash, pruned_seq, pruned_hash, key_id, db_id",
        )
        .fetch_one(&mut *tx.conn())
        .await?;
        let key_id: String = head.try_get("key_id")?;
        if key_id == keeper.key.id() {
            return Ok(Sealed::Already);
        }
        if !key_id.is_empty() {
            return Err(key_mismatch(&key_id, &keeper.key));
        }
        let seq: i64 = head.try_get("seq")?;
        let mut db_id: String = head.try_get("db_id")?;
        if db_id.is_empty() {
            let mut b = [0u8; 8];
            getrandom::getrandom(&mut b)
                .map_err(|_| StoreError::Invalid("无法取得随机数".into()))?;
            db_id = b.iter().map(|x| format!("{x:02x}")).collect();
        }
        sqlx::query("UPDATE audit_head SET key_id = $1, db_id = $2, sealed_seq = $3 WHERE id = 1")
            .bind(keeper.key.id())
            .bind(db_id.as_str())
            .bind(seq + 1)
            .execute(&mut *tx.conn())
            .await?;
        let detail = serde_json::json!({
            "key_id": keeper.key.id(),
            "db_id": db_id,
            "head_seq": seq,
            "head_hash": head.try_get::<String, _>("hash")?,
            "pruned_seq": head.try_get::<i64, _>("pruned_seq")?,
            "pruned_hash": head.try_get::<String, _>("pruned_hash")?,
        });
        let e = tx
            .commit(&NewAudit {
                actor: actor.into(),
                ip: ip.into(),
                action: "audit.key".into(),
                object: "audit".into(),
                detail: detail.to_string(),
            })
            .await?;
        Ok(Sealed::Now { seq: e.seq })
    }

    /// Walks the whole chain and reports every break: the chain itself, the
    /// MACs (when this store has the key), the anchors (when it has an
    /// anchor file) and the removed prefix.
    pub async fn audit_verify(&self) -> Result<AuditReport> {
        let keeper: Option<&Keeper> = self.keeper.as_deref();
        // The anchors first: each was written after its commit, so an anchor
        // read now is never ahead of the head read next, unless entries were
        // removed.
        let anchor_text = match keeper.and_then(|k| k.anchors.as_ref()) {
            Some(a) => Some(a.read_text().map_err(|e| {
                StoreError::Invalid(format!("无法读取锚点文件 {}：{e}", a.path.display()))
            })?),
            None => None,
        };
        let head = sqlx::query(
            "SELECT seq, hash, pruned_seq, pruned_hash, key_id, db_id, sealed_seq FROM audit_head WHERE id = 1",
        )
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::Corrupt("审计链头记录缺失".into()))?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;
        let pruned_seq: i64 = head.try_get("pruned_seq")?;
        let pruned_hash: String = head.try_get("pruned_hash")?;
        let key_id: String = head.try_get("key_id")?;
        let db_id: String = head.try_get("db_id")?;
        let sealed_seq: i64 = head.try_get("sealed_seq")?;
        let sealed = !key_id.is_empty();
        let mut found = Found::default();

        let (mac_key, macs): (Option<&AuditKey>, MacCheck) = match keeper {
            Some(k) if sealed && k.key.id() == key_id => (
                Some(&k.key),
                MacCheck::Checked {
                    key_id: key_id.clone(),
                },
            ),
            Some(k) if sealed => {
                found.add(
                    sealed_seq,
                    format!(
                        "数据库由审计密钥 {key_id} 封存，与所用的密钥 {} 不符：请用封存时的密钥校验",
                        k.key.id()
                    ),
                );
                (
                    None,
                    MacCheck::NoKey {
                        key_id: key_id.clone(),
                    },
                )
            }
            None if sealed => (
                None,
                MacCheck::NoKey {
                    key_id: key_id.clone(),
                },
            ),
            _ => (None, MacCheck::Unsealed),
        };
        if !sealed
            && keeper.is_some()
            && head_seq > 0
            && anchor_text.as_deref().is_some_and(|t| !t.trim().is_empty())
        {
            found.add(
                pruned_seq + 1,
                "数据库没有审计密钥的封存记录，而锚点文件已有记录：封存信息被清除（若是从未用本版本打开过的库，运行一次任一写入命令即可封存）".into(),
            );
        }
        let (anchors, bad_lines) = match (&anchor_text, db_id.is_empty()) {
            (Some(t), false) => parse_anchors(t, &db_id),
            _ => (Vec::new(), Vec::new()),
        };
        if let Some(first) = bad_lines.first() {
            found.add(
                head_seq + 1,
                format!(
                    "锚点文件有 {} 行无法读取（第一行为第 {first} 行）",
                    bad_lines.len()
                ),
            );
        }
        let mut ai = anchors.partition_point(|(s, _)| *s <= pruned_seq);
        let mut anchors_checked = 0usize;
        if sealed && sealed_seq > head_seq {
            found.add(
                sealed_seq,
                format!("封存位置（第 {sealed_seq} 条）在链头（第 {head_seq} 条）之后"),
            );
        }

        let mut expect_seq: i64 = pruned_seq + 1;
        let mut prev: String = pruned_hash.clone();
        let mut entries = 0i64;
        let mut last: Option<(i64, String)> = None;
        let mut after = expect_seq - 1;
        let mut prune_vouched = false;
        let mut seal_seen = false;
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
                    found.add(
                        expect_seq,
                        format!("第 {expect_seq} 条至第 {} 条记录缺失（被删除）", e.seq - 1),
                    );
                }
                if e.prev_hash != prev {
                    found.add(
                        e.seq,
                        format!("第 {} 条记录与前一条不衔接（前序哈希不符）", e.seq),
                    );
                }
                let computed = entry_hash(&e);
                if computed != e.hash {
                    found.add(
                        e.seq,
                        format!("第 {} 条记录的内容被改动（哈希不符）", e.seq),
                    );
                }
                if let Some(k) = mac_key
                    && e.seq >= sealed_seq
                    && e.mac != k.entry_mac(&db_id, e.seq, &computed)
                {
                    found.add(
                        e.seq,
                        format!(
                            "第 {} 条记录的校验码（HMAC）不符：记录被改动，或不是持有审计密钥的本系统写入的",
                            e.seq
                        ),
                    );
                }
                let detail = || serde_json::from_str::<serde_json::Value>(&e.detail).ok();
                if sealed && e.seq == sealed_seq {
                    seal_seen = true;
                    let d = detail().unwrap_or_default();
                    if e.action != "audit.key"
                        || d["key_id"].as_str() != Some(key_id.as_str())
                        || d["db_id"].as_str() != Some(db_id.as_str())
                    {
                        found.add(
                            e.seq,
                            format!("第 {} 条不是与链头相符的封存记录（audit.key）", e.seq),
                        );
                    } else if d["pruned_seq"].as_i64() == Some(pruned_seq)
                        && d["pruned_hash"].as_str() == Some(pruned_hash.as_str())
                    {
                        // Removed before the key existed, as the seal records.
                        prune_vouched = true;
                    }
                }
                if e.action == "audit.prune"
                    && let Some(d) = detail()
                    && d["through_seq"].as_i64() == Some(pruned_seq)
                    && d["through_hash"].as_str() == Some(pruned_hash.as_str())
                {
                    match lawful_prune(&e, &d) {
                        Ok(()) => prune_vouched = true,
                        Err(why) => found.add(e.seq, why),
                    }
                }
                while ai < anchors.len() && anchors[ai].0 < e.seq {
                    ai += 1;
                }
                if ai < anchors.len() && anchors[ai].0 == e.seq {
                    anchors_checked += 1;
                    if anchors[ai].1 != e.mac {
                        found.add(
                            e.seq,
                            format!("第 {} 条记录与锚点文件记下的校验码不符：记录被重写", e.seq),
                        );
                    }
                    ai += 1;
                }
                prev = e.hash.clone();
                expect_seq = e.seq + 1;
                after = e.seq;
                last = Some((e.seq, e.hash));
            }
        }
        if sealed && sealed_seq > pruned_seq && sealed_seq <= head_seq && !seal_seen {
            found.add(sealed_seq, format!("封存记录（第 {sealed_seq} 条）缺失"));
        }
        if pruned_seq > 0 && !prune_vouched {
            found.add(
                pruned_seq,
                format!(
                    "第 {pruned_seq} 条及以前的记录已被删除，但没有与之相符的保存期清理记录（audit.prune）：记录被人为删除"
                ),
            );
        }
        // Anchors past the head: the newest entries were cut.
        if let Some((a, _)) = anchors.last().filter(|(a, _)| *a > head_seq) {
            found.add(
                head_seq + 1,
                format!(
                    "锚点文件记到第 {a} 条，数据库链头只到第 {head_seq} 条：第 {} 条起最新的记录被删除",
                    head_seq + 1
                ),
            );
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
                found.add(
                    now + 1,
                    format!("链头记为第 {now} 条，实际最后一条为第 {m} 条：最新的记录被删除或改动"),
                );
            }
        }
        match &last {
            Some((seq, hash)) if *seq != head_seq || *hash != head_hash => {
                found.add(
                    *seq.min(&head_seq),
                    format!(
                        "链头记为第 {head_seq} 条，实际最后一条为第 {seq} 条：最新的记录被删除或改动"
                    ),
                );
            }
            None if head_seq != expect_seq - 1 => found.add(
                expect_seq,
                format!("链头记为第 {head_seq} 条，但审计记录为空：记录被删除"),
            ),
            _ => {}
        }
        if head_hash.len() != ZERO.len() {
            found.add(head_seq, "链头哈希格式不正确".into());
        }
        let mut problems = found.0;
        problems.sort_by_key(|(s, _)| *s);
        Ok(AuditReport {
            entries,
            head_seq,
            head_hash,
            first_bad: problems.first().map(|(s, _)| *s),
            problems: problems.into_iter().map(|(_, t)| t).collect(),
            macs,
            anchors: anchors_checked,
        })
    }

    /// Retention: removes the oldest entries written before `cutoff` (the
    /// prefix of the chain that is all older than it) and records the removal
    /// in a MAC'd `audit.prune` entry in the same transaction. Refused when
    /// `retention_days` is under 180 or `cutoff` lies within it. `None` when
    /// nothing is old enough.
    pub async fn prune_audit(
        &self,
        cutoff: DateTime<Utc>,
        retention_days: i64,
        actor: &str,
        ip: &str,
    ) -> Result<Option<Pruned>> {
        if retention_days < MIN_RETENTION_DAYS {
            return Err(StoreError::Invalid(format!(
                "审计记录保存期不得少于 {MIN_RETENTION_DAYS} 天"
            )));
        }
        let latest = Utc::now() - chrono::Duration::days(retention_days);
        if cutoff > latest {
            return Err(StoreError::Invalid(format!(
                "不得清理保存期（{retention_days} 天）内的审计记录：清理截止时间 {} 晚于 {}",
                millis(cutoff),
                millis(latest)
            )));
        }
        let before = millis(cutoff);
        let mut tx = self.begin().await?;
        let conn = tx.conn();
        // Lock the head first, as appenders do.
        let head =
            sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, pruned_seq")
                .fetch_one(&mut *conn)
                .await?;
        let head_seq: i64 = head.try_get("seq")?;
        let pruned_seq: i64 = head.try_get("pruned_seq")?;
        // The prefix that is all older than the cutoff: a younger entry
        // (a clock set back) stops it.
        let young: Option<i64> = sqlx::query("SELECT MIN(seq) AS m FROM audit_log WHERE at >= $1")
            .bind(before.as_str())
            .fetch_one(&mut *conn)
            .await?
            .try_get("m")?;
        let through = young.map(|y| y - 1).unwrap_or(head_seq);
        if through <= pruned_seq {
            return Ok(None);
        }
        let last = sqlx::query("SELECT hash, at FROM audit_log WHERE seq = $1")
            .bind(through)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("审计记录第 {through} 条缺失")))?;
        let hash: String = last.try_get("hash")?;
        let at: String = last.try_get("at")?;
        let r = sqlx::query("DELETE FROM audit_log WHERE seq <= $1")
            .bind(through)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE audit_head SET pruned_seq = $1, pruned_hash = $2 WHERE id = 1")
            .bind(through)
            .bind(hash.as_str())
            .execute(&mut *conn)
            .await?;
        let removed = r.rows_affected() as i64;
        let detail = serde_json::json!({
            "removed": removed,
            "through_seq": through,
            "through_hash": hash,
            "through_at": at,
            "before": before,
            "retention_days": retention_days,
        });
        let e = tx
            .commit(&NewAudit {
                actor: actor.into(),
                ip: ip.into(),
                action: "audit.prune".into(),
                object: "audit".into(),
                detail: detail.to_string(),
            })
            .await?;
        Ok(Some(Pruned {
            removed,
            through_seq: through,
            entry_seq: e.seq,
        }))
    }
}

fn key_mismatch(sealed_with: &str, key: &AuditKey) -> StoreError {
    StoreError::Invalid(format!(
        "数据库由审计密钥 {sealed_with} 封存，而所用的密钥是 {}：请使用封存时的密钥（环境变量 KECHUANG_AUDIT_KEY 或数据目录中的 audit.key）",
        key.id()
    ))
}

/// What an append wrote: the entry and the database id its MAC names.
pub(crate) struct Appended {
    pub(crate) entry: AuditEntry,
    pub(crate) db_id: String,
}

/// Appends an entry inside a transaction. The head row is updated first,
/// which takes its lock (PostgreSQL) or holds the write lock (SQLite) until
/// commit, so concurrent appenders queue and the chain never forks. With a
/// key the entry gets its MAC; a sealed database refuses entries without
/// one, or under another key.
pub(crate) async fn append(
    conn: &mut sqlx::AnyConnection,
    e: &NewAudit,
    keeper: Option<&Keeper>,
) -> Result<Appended> {
    let head = sqlx::query(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash, key_id, db_id",
    )
    .fetch_one(&mut *conn)
    .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev: String = head.try_get("hash")?;
    let key_id: String = head.try_get("key_id")?;
    let db_id: String = head.try_get("db_id")?;
    let key = match keeper {
        Some(k) if key_id.is_empty() || k.key.id() == key_id => Some(&k.key),
        Some(k) => return Err(key_mismatch(&key_id, &k.key)),
        None if key_id.is_empty() => None,
        None => {
            return Err(StoreError::Invalid(format!(
                "数据库已用审计密钥 {key_id} 封存，但本进程没有载入审计密钥，不能写入审计记录"
            )));
        }
    };
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
        mac: String::new(),
    };
    entry.hash = entry_hash(&entry);
    if let Some(k) = key {
        entry.mac = k.entry_mac(&db_id, seq, &entry.hash);
    }
    sqlx::query(&format!(
        "INSERT INTO audit_log ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
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
    .bind(entry.mac.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(entry.hash.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(Appended { entry, db_id })
}
