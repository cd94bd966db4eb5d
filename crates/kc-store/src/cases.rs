//! The technology market's cases (deals, challenges): one JSON document per
//! case, changed under an optimistic version check so that two people
//! moving the same case cannot overwrite each other.

use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::{Result, Store, now_text};

/// A stored case.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Case {
    pub id: i64,
    /// `deal` or `challenge`.
    pub kind: String,
    pub area: String,
    pub stage: String,
    /// The account that opened the case.
    pub owner: String,
    pub title: String,
    /// The document (JSON).
    pub data: String,
    pub version: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// The columns of a case that change with it.
#[derive(Debug, Clone, Copy)]
pub struct CaseFields<'a> {
    pub area: &'a str,
    pub stage: &'a str,
    pub title: &'a str,
    pub data: &'a str,
}

fn case_from(r: &AnyRow) -> Result<Case> {
    // Columns map to fields by name.
    Ok(Case::from_row(r)?)
}

const COLUMNS: &str = "id, kind, area, stage, owner, title, data, version, created_at, updated_at";

impl crate::Tx {
    /// Opens a case; returns its id.
    pub async fn insert_case(&mut self, kind: &str, owner: &str, c: CaseFields<'_>) -> Result<i64> {
        let now = now_text();
        let row = sqlx::query(
            "INSERT INTO market_cases (kind, area, stage, owner, title, data, version, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) RETURNING id",
        )
        .bind(kind)
        .bind(c.area)
        .bind(c.stage)
        .bind(owner)
        .bind(c.title)
        .bind(c.data)
        .bind(now.as_str())
        .fetch_one(self.conn())
        .await?;
        let id: i64 = row.try_get("id")?;
        self.event(crate::EventKind::Case, "", &format!("{kind}:{id}"));
        Ok(id)
    }

    /// Replaces a case's document if it is still at `version`; returns
    /// false when someone else changed it first.
    pub async fn update_case(&mut self, id: i64, version: i64, c: CaseFields<'_>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE market_cases SET area = $1, stage = $2, title = $3, data = $4,
                    version = version + 1, updated_at = $5
             WHERE id = $6 AND version = $7",
        )
        .bind(c.area)
        .bind(c.stage)
        .bind(c.title)
        .bind(c.data)
        .bind(now_text())
        .bind(id)
        .bind(version)
        .execute(self.conn())
        .await?;
        self.event(crate::EventKind::Case, "", &id.to_string());
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    pub async fn case(&self, kind: &str, id: i64) -> Result<Option<Case>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM market_cases WHERE kind = $1 AND id = $2"
        ))
        .bind(kind)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(case_from).transpose()
    }

    /// Every case of `kind`, newest first.
    pub async fn cases(&self, kind: &str) -> Result<Vec<Case>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM market_cases WHERE kind = $1 ORDER BY id DESC"
        ))
        .bind(kind)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(case_from).collect()
    }
}
