//! Backup and restore.
//!
//! A backup is one portable file for both backends: a SQLite database with
//! this version's schema. From SQLite it is `VACUUM INTO` (a consistent copy
//! taken in one read transaction, while the server runs); from PostgreSQL
//! every table is read in one `REPEATABLE READ, READ ONLY` transaction (one
//! snapshot) and written into a new SQLite file. A restore reads such a file
//! back into either backend in one transaction, with its audit entry, MAC'd
//! under the audit key, committed together with the restored rows.
//!
//! The audit head (sequence number, hash, key fingerprint, database id) is a
//! table like the others, so a restored database verifies with the same key
//! and carries its history on from the backup's head.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use sqlx::any::AnyTypeInfoKind;
use sqlx::{AnyConnection, Row, ValueRef};

use crate::audit::NewAudit;
use crate::{Backend, Result, Store, StoreError};

/// What a backup holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// Every table and its rows, in the backup.
    pub tables: Vec<(String, i64)>,
    /// The audit head the backup holds.
    pub head_seq: i64,
    pub head_hash: String,
    /// The size of the backup file.
    pub bytes: u64,
    /// The `backup` entry written on the source afterwards.
    pub entry_seq: i64,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// Every table and the rows restored into it.
    pub tables: Vec<(String, i64)>,
    /// The audit head the backup held.
    pub backup_head_seq: i64,
    pub backup_head_hash: String,
    /// The `restore` entry, committed with the restored rows.
    pub entry_seq: i64,
    /// The `audit.key` entry, when a backup taken before the key existed was
    /// sealed after the restore.
    pub sealed_seq: Option<i64>,
}

/// A table: its name and columns.
struct Table {
    name: String,
    columns: Vec<String>,
}

/// Tables whose single row the migrations insert; they do not make a
/// database "non-empty".
const SEEDED: [&str; 2] = ["audit_head", "event_head"];

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables of a SQLite database (not SQLite's own nor the migrations'),
/// parents before the tables whose foreign keys name them.
async fn sqlite_tables(conn: &mut AnyConnection) -> Result<Vec<Table>> {
    let names: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
           AND name <> '_sqlx_migrations' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>("name"))
    .collect::<std::result::Result<_, _>>()?;
    let mut tables = Vec::new();
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    for n in &names {
        let columns = sqlx::query("SELECT name FROM pragma_table_info($1) ORDER BY cid")
            .bind(n.as_str())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("name"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let ps = sqlx::query("SELECT \"table\" AS t FROM pragma_foreign_key_list($1)")
            .bind(n.as_str())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("t"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        parents.insert(n.clone(), ps);
        tables.push(Table {
            name: n.clone(),
            columns,
        });
    }
    // Parents first: repeatedly take the tables whose parents are placed.
    let mut placed: Vec<Table> = Vec::new();
    while !tables.is_empty() {
        let before = tables.len();
        let mut rest = Vec::new();
        for t in tables {
            let ready = parents[&t.name]
                .iter()
                .all(|p| *p == t.name || placed.iter().any(|x| &x.name == p));
            if ready {
                placed.push(t);
            } else {
                rest.push(t);
            }
        }
        if rest.len() == before {
            // A cycle (none in the schema): keep the remaining order.
            placed.extend(rest);
            break;
        }
        tables = rest;
    }
    Ok(placed)
}

/// The declared type of every column of a PostgreSQL table, for casts.
async fn pg_types(conn: &mut AnyConnection, table: &str) -> Result<HashMap<String, String>> {
    let rows = sqlx::query(
        "SELECT column_name::text AS c, data_type::text AS t FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("c")?, r.try_get("t")?)))
        .collect()
}

/// One value, as read from either backend.
enum Val {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
    Bool(bool),
}

fn read_row(r: &sqlx::any::AnyRow, n: usize) -> Result<Vec<Val>> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let raw = r.try_get_raw(i)?;
        if raw.is_null() {
            out.push(Val::Null);
            continue;
        }
        let kind = raw.type_info().kind();
        out.push(match kind {
            AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
                Val::Int(r.try_get(i)?)
            }
            AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => Val::Float(r.try_get(i)?),
            AnyTypeInfoKind::Text => Val::Text(r.try_get(i)?),
            AnyTypeInfoKind::Blob => Val::Blob(r.try_get(i)?),
            AnyTypeInfoKind::Bool => Val::Bool(r.try_get(i)?),
            AnyTypeInfoKind::Null => Val::Null,
        });
    }
    Ok(out)
}

/// Copies every row of `t` from `src` into `dst` (a `dst_backend`
/// database) in multi-row statements; returns how many.
async fn copy_table(
    src: &mut AnyConnection,
    dst: &mut AnyConnection,
    dst_backend: Backend,
    t: &Table,
) -> Result<i64> {
    let cols: Vec<String> = t.columns.iter().map(|c| quoted(c)).collect();
    let casts: Vec<String> = match dst_backend {
        Backend::Sqlite => vec![String::new(); cols.len()],
        Backend::Postgres => {
            let types = pg_types(&mut *dst, &t.name).await?;
            t.columns
                .iter()
                .map(|c| {
                    types.get(c).map(|ty| format!("::{ty}")).ok_or_else(|| {
                        StoreError::Invalid(format!("目标库的表 {} 没有列 {c}", t.name))
                    })
                })
                .collect::<Result<_>>()?
        }
    };
    // Few parameters per statement on SQLite (its binding is quadratic),
    // many on PostgreSQL (fewer round trips).
    let per = match dst_backend {
        Backend::Sqlite => 240,
        Backend::Postgres => 4000,
    };
    let chunk = (per / cols.len().max(1)).max(1);
    let select = format!("SELECT {} FROM {}", cols.join(", "), quoted(&t.name));
    let mut rows = sqlx::query(&select).fetch(&mut *src);
    let mut batch: Vec<Vec<Val>> = Vec::with_capacity(chunk);
    let mut n = 0i64;
    loop {
        let next = rows.try_next().await?;
        if let Some(r) = &next {
            batch.push(read_row(r, cols.len())?);
        }
        if batch.len() >= chunk || (next.is_none() && !batch.is_empty()) {
            let mut sql = format!(
                "INSERT INTO {} ({}) VALUES ",
                quoted(&t.name),
                cols.join(", ")
            );
            for (i, _) in batch.iter().enumerate() {
                if i > 0 {
                    sql.push(',');
                }
                sql.push('(');
                for (j, cast) in casts.iter().enumerate() {
                    if j > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("${}{cast}", i * cols.len() + j + 1));
                }
                sql.push(')');
            }
            let mut q = sqlx::query(&sql);
            for row in &batch {
                for v in row {
                    q = match v {
                        Val::Null => q.bind(None::<String>),
                        Val::Int(x) => q.bind(*x),
                        Val::Float(x) => q.bind(*x),
                        Val::Text(x) => q.bind(x.as_str()),
                        Val::Blob(x) => q.bind(x.as_slice()),
                        Val::Bool(x) => q.bind(*x),
                    };
                }
            }
            q.execute(&mut *dst).await?;
            n += batch.len() as i64;
            batch.clear();
        }
        if next.is_none() {
            break;
        }
    }
    Ok(n)
}

async fn count(conn: &mut AnyConnection, table: &str) -> Result<i64> {
    Ok(
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM {}", quoted(table)))
            .fetch_one(&mut *conn)
            .await?
            .try_get("n")?,
    )
}

async fn head_of(conn: &mut AnyConnection) -> Result<(i64, String)> {
    let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    Ok((r.try_get("seq")?, r.try_get("hash")?))
}

fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// Removes a SQLite file and its journal files.
fn remove_sqlite(file: &Path) {
    for ext in ["", "-wal", "-shm", "-journal"] {
        let mut p = file.as_os_str().to_owned();
        p.push(ext);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

impl Store {
    /// Every table and its rows (not the migrations' own table).
    pub async fn table_counts(&self) -> Result<Vec<(String, i64)>> {
        let mut conn = self.pool().acquire().await?;
        let names: Vec<String> = match self.backend() {
            Backend::Sqlite => sqlite_tables(&mut conn)
                .await?
                .into_iter()
                .map(|t| t.name)
                .collect(),
            Backend::Postgres => sqlx::query(
                "SELECT table_name::text AS n FROM information_schema.tables
                  WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
                    AND table_name <> '_sqlx_migrations'",
            )
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("n"))
            .collect::<std::result::Result<_, _>>()?,
        };
        let mut out = Vec::new();
        for n in names {
            let c = count(&mut conn, &n).await?;
            out.push((n, c));
        }
        out.sort();
        Ok(out)
    }

    /// Writes a consistent copy of the whole database to `file` (which must
    /// not exist yet), then records the backup in the audit trail of this
    /// database.
    pub async fn backup_to(&self, file: &Path, actor: &str) -> Result<BackupReport> {
        if file.exists() {
            return Err(StoreError::Invalid(format!(
                "备份文件 {} 已存在，请换一个文件名",
                file.display()
            )));
        }
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                dir: dir.display().to_string(),
                source,
            })?;
        }
        let done = match self.backend() {
            Backend::Sqlite => sqlx::query("VACUUM INTO $1")
                .bind(file.display().to_string())
                .execute(self.pool())
                .await
                .map(|_| ())
                .map_err(StoreError::from),
            Backend::Postgres => self.dump_postgres(file).await,
        };
        if let Err(e) = done {
            remove_sqlite(file);
            return Err(e);
        }
        // It holds every account's password hash: readable by its owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600));
        }
        // What the file holds, read from the file itself.
        let b = Store::connect(&sqlite_url(file)).await?;
        let tables = b.table_counts().await?;
        let (head_seq, head_hash) = head_of(&mut *b.pool().acquire().await?).await?;
        // Closed, its WAL is checkpointed and removed: one file.
        b.close().await;
        let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let rows: i64 = tables.iter().map(|(_, n)| n).sum();
        let e = self
            .audit(&NewAudit {
                actor: actor.into(),
                ip: "local".into(),
                action: "backup".into(),
                object: "database".into(),
                detail: serde_json::json!({
                    "file": file.display().to_string(),
                    "bytes": bytes,
                    "rows": rows,
                    "head_seq": head_seq,
                    "head_hash": head_hash,
                })
                .to_string(),
            })
            .await?;
        Ok(BackupReport {
            tables,
            head_seq,
            head_hash,
            bytes,
            entry_seq: e.seq,
        })
    }

    /// PostgreSQL into a new SQLite file: every table read in one snapshot.
    async fn dump_postgres(&self, file: &Path) -> Result<()> {
        let dst = Store::connect(&sqlite_url(file)).await?;
        let r = async {
            let mut snap = self.snapshot().await?;
            let mut tx = Store::begin(&dst).await?;
            let tables = sqlite_tables(tx.conn()).await?;
            // The new file's migrations seeded the head rows: replaced.
            for t in tables.iter().rev() {
                sqlx::query(&format!("DELETE FROM {}", quoted(&t.name)))
                    .execute(&mut *tx.conn())
                    .await?;
            }
            for t in &tables {
                copy_table(&mut snap, tx.conn(), Backend::Sqlite, t).await?;
            }
            drop(snap);
            tx.commit_copy().await
        }
        .await;
        dst.close().await;
        r
    }

    /// Replaces this database's content with the backup in `file`, in one
    /// transaction with its `restore` audit entry. Refused when the database
    /// holds data, unless `force`; refused when the backup was sealed with
    /// another audit key than this store's. A backup from before the key is
    /// sealed afterwards.
    pub async fn restore_from(
        &self,
        file: &Path,
        force: bool,
        actor: &str,
    ) -> Result<RestoreReport> {
        if !file.is_file() {
            return Err(StoreError::Invalid(format!(
                "备份文件 {} 不存在",
                file.display()
            )));
        }
        // A copy: opening brings it to this version's schema, and the backup
        // itself stays as it was.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let tmp = std::env::temp_dir().join(format!(
            "kechuang-restore-{}-{nanos}.db",
            std::process::id()
        ));
        std::fs::copy(file, &tmp).map_err(|source| StoreError::DataDir {
            dir: tmp.display().to_string(),
            source,
        })?;
        let r = async {
            let src = Store::connect(&sqlite_url(&tmp)).await?;
            let r = self.restore_inner(&src, file, force, actor).await;
            src.close().await;
            r
        }
        .await;
        remove_sqlite(&tmp);
        let mut report = r?;
        if report.sealed_seq.is_none()
            && self.keeper.is_some()
            && let crate::Sealed::Now { seq } = self.seal_audit(actor, "local").await?
        {
            report.sealed_seq = Some(seq);
        }
        Ok(report)
    }

    async fn restore_inner(
        &self,
        src: &Store,
        file: &Path,
        force: bool,
        actor: &str,
    ) -> Result<RestoreReport> {
        let (key_id, db_id) = src.audit_seal().await?;
        match (&self.keeper, key_id.is_empty()) {
            (Some(k), false) if k.key.id() != key_id => {
                return Err(StoreError::Invalid(format!(
                    "备份由审计密钥 {key_id} 封存，而本机的密钥是 {}：请用原系统的密钥（复制其 audit.key 到数据目录，或设置 KECHUANG_AUDIT_KEY）",
                    k.key.id()
                )));
            }
            (None, false) => {
                return Err(StoreError::Invalid(format!(
                    "备份由审计密钥 {key_id} 封存：恢复需要同一把密钥"
                )));
            }
            _ => {}
        }
        let mut sconn = src.pool().acquire().await?;
        let tables = sqlite_tables(&mut sconn).await?;
        let (backup_head_seq, backup_head_hash) = head_of(&mut sconn).await?;
        let mut tx = self.begin().await?;
        let (seeded_seq, _) = head_of(tx.conn()).await?;
        for t in &tables {
            let n = count(tx.conn(), &t.name).await?;
            let has_data = if SEEDED.contains(&t.name.as_str()) {
                t.name == "audit_head" && seeded_seq > 0
            } else {
                n > 0
            };
            if has_data && !force {
                return Err(StoreError::Invalid(format!(
                    "目标数据库不是空的（表 {} 有 {n} 行）：恢复会替换其全部内容；确认后加 --force",
                    t.name
                )));
            }
        }
        for t in tables.iter().rev() {
            sqlx::query(&format!("DELETE FROM {}", quoted(&t.name)))
                .execute(&mut *tx.conn())
                .await?;
        }
        let mut counts = Vec::new();
        for t in &tables {
            let n = copy_table(&mut sconn, tx.conn(), self.backend(), t).await?;
            counts.push((t.name.clone(), n));
            if self.backend() == Backend::Postgres && t.columns.iter().any(|c| c == "id") {
                // Serial columns continue after the restored ids.
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence($1, 'id'), COALESCE((SELECT MAX(id) FROM {}), 0) + 1, false)",
                    quoted(&t.name)
                ))
                .bind(t.name.as_str())
                .execute(&mut *tx.conn())
                .await?;
            }
        }
        let rows: i64 = counts.iter().map(|(_, n)| n).sum();
        tx.restore_anchor = true;
        let e = tx
            .commit(&NewAudit {
                actor: actor.into(),
                ip: "local".into(),
                action: "restore".into(),
                object: "database".into(),
                detail: serde_json::json!({
                    "file": file.display().to_string(),
                    "rows": rows,
                    "force": force,
                    "backup_head_seq": backup_head_seq,
                    "backup_head_hash": backup_head_hash,
                    "db_id": db_id,
                })
                .to_string(),
            })
            .await?;
        counts.sort();
        Ok(RestoreReport {
            tables: counts,
            backup_head_seq,
            backup_head_hash,
            entry_seq: e.seq,
            sealed_seq: None,
        })
    }
}
