//! Evidence files: stored once per content (SHA-256), linked to value
//! revisions.

use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::{Result, Store, StoreError, now_text};

/// An evidence file linked to a value revision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    pub value_id: i64,
    pub sha256: String,
    pub filename: String,
    pub mime: String,
    pub size: i64,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

fn attachment_from(r: &AnyRow) -> Result<Attachment> {
    // Columns map to fields by name.
    Ok(Attachment::from_row(r)?)
}

const COLUMNS: &str = "id, value_id, sha256, filename, mime, size, uploaded_by, uploaded_at";

impl crate::Tx {
    /// Stores `data` (once per content) and links it to a revision. The
    /// caller has checked the type and size.
    pub async fn attach(
        &mut self,
        value_id: i64,
        filename: &str,
        mime: &str,
        data: &[u8],
        by: &str,
    ) -> Result<Attachment> {
        let sha: String = Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let now = now_text();
        let tx = self.conn();
        sqlx::query(
            "INSERT INTO blobs (sha256, size, data, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(sha.as_str())
        .bind(data.len() as i64)
        .bind(data.to_vec())
        .bind(now.as_str())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(
            "INSERT INTO attachments (value_id, sha256, filename, mime, size, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(value_id)
        .bind(sha.as_str())
        .bind(filename)
        .bind(mime)
        .bind(data.len() as i64)
        .bind(by)
        .bind(now.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get("id")?;
        Ok(Attachment {
            id,
            value_id,
            sha256: sha,
            filename: filename.to_string(),
            mime: mime.to_string(),
            size: data.len() as i64,
            uploaded_by: by.to_string(),
            uploaded_at: now,
        })
    }
}

impl Store {
    /// The files of the given revisions, oldest first.
    pub async fn attachments_of(&self, value_ids: &[i64]) -> Result<Vec<Attachment>> {
        if value_ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = value_ids.iter().map(i64::to_string).collect();
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM attachments WHERE value_id IN ({}) ORDER BY id",
            list.join(", ")
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(attachment_from).collect()
    }

    /// A file's description and content.
    pub async fn attachment(&self, id: i64) -> Result<Option<(Attachment, Vec<u8>)>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM attachments WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        let Some(row) = row else { return Ok(None) };
        let a = attachment_from(&row)?;
        let data = sqlx::query("SELECT data FROM blobs WHERE sha256 = $1")
            .bind(a.sha256.as_str())
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("附件 {id} 的内容缺失")))?;
        let bytes: Vec<u8> = data.try_get("data")?;
        Ok(Some((a, bytes)))
    }
}
