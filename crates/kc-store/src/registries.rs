//! Registry records.

use sqlx::Row;

use crate::{Result, Store};

/// One record as stored: natural key, area and fields as JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub key: String,
    pub area: String,
    pub data: String,
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
    /// each statement; still one transaction. Not audited: for the demo
    /// loader and fixtures; users' changes go through a [`crate::Tx`].
    pub async fn upsert_records_progress(
        &self,
        registry: &str,
        records: &[StoredRecord],
        user: &str,
        progress: impl FnMut(usize),
    ) -> Result<usize> {
        let mut tx = self.begin().await?;
        let n = tx
            .upsert_records("", registry, records, user, progress)
            .await?;
        tx.commit_without_audit().await?;
        Ok(n)
    }

    pub async fn delete_record(&self, registry: &str, key: &str) -> Result<bool> {
        let mut tx = self.begin().await?;
        let gone = tx.delete_record("", registry, key).await?;
        tx.commit_without_audit().await?;
        Ok(gone)
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
        let mut tx = self.begin().await?;
        tx.set_setting(name, value).await?;
        tx.commit_without_audit().await
    }
}
