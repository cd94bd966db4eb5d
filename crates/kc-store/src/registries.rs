//! Registry records.

use sqlx::Row;

use crate::{Backend, Result, Store, now_text};

/// One record as stored: natural key, area and fields as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub key: String,
    pub area: String,
    pub data: String,
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
    /// Inserts or replaces records by natural key, all in one transaction.
    pub async fn upsert_records(
        &self,
        registry: &str,
        records: &[StoredRecord],
        user: &str,
    ) -> Result<usize> {
        self.upsert_records_progress(registry, records, user, |_| {})
            .await
    }

    /// [`Store::upsert_records`], reporting the rows written so far after
    /// each statement; still one transaction.
    pub async fn upsert_records_progress(
        &self,
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
        let mut tx = self.pool().begin().await?;
        let mut written = 0;
        for chunk in records.chunks(chunk_rows(self.backend())) {
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
            q.execute(&mut *tx).await?;
            written += chunk.len();
            progress(written);
        }
        tx.commit().await?;
        Ok(records.len())
    }

    pub async fn delete_record(&self, registry: &str, key: &str) -> Result<bool> {
        let r = sqlx::query("DELETE FROM registry_records WHERE registry = $1 AND rkey = $2")
            .bind(registry)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn get_record(&self, registry: &str, key: &str) -> Result<Option<StoredRecord>> {
        let row = sqlx::query(
            "SELECT rkey, area, data FROM registry_records WHERE registry = $1 AND rkey = $2",
        )
        .bind(registry)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(StoredRecord {
                key: r.try_get("rkey")?,
                area: r.try_get("area")?,
                data: r.try_get("data")?,
            })
        })
        .transpose()
    }

    /// Every record of a registry, streamed to `f` in key order.
    pub async fn for_each_record(
        &self,
        registry: &str,
        mut f: impl FnMut(StoredRecord),
    ) -> Result<usize> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query(
            "SELECT rkey, area, data FROM registry_records WHERE registry = $1 ORDER BY rkey",
        )
        .bind(registry)
        .fetch(self.pool());
        let mut n = 0;
        while let Some(r) = rows.try_next().await? {
            f(StoredRecord {
                key: r.try_get("rkey")?,
                area: r.try_get("area")?,
                data: r.try_get("data")?,
            });
            n += 1;
        }
        Ok(n)
    }

    /// The stored JSON of every record of a registry, by natural key (to
    /// tell changed records from unchanged ones on re-import).
    pub async fn record_texts(
        &self,
        registry: &str,
    ) -> Result<std::collections::HashMap<String, String>> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query("SELECT rkey, data FROM registry_records WHERE registry = $1")
            .bind(registry)
            .fetch(self.pool());
        let mut out = std::collections::HashMap::new();
        while let Some(r) = rows.try_next().await? {
            out.insert(
                r.try_get::<String, _>("rkey")?,
                r.try_get::<String, _>("data")?,
            );
        }
        Ok(out)
    }

    /// The natural keys of every record of a registry.
    pub async fn record_keys(&self, registry: &str) -> Result<std::collections::HashSet<String>> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query("SELECT rkey FROM registry_records WHERE registry = $1")
            .bind(registry)
            .fetch(self.pool());
        let mut out = std::collections::HashSet::new();
        while let Some(r) = rows.try_next().await? {
            out.insert(r.try_get::<String, _>("rkey")?);
        }
        Ok(out)
    }

    pub async fn count_records(&self, registry: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM registry_records WHERE registry = $1")
            .bind(registry)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    pub async fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
