//! Plan versions.

use kc_domain::Plan;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Result, Store, StoreError, now_text};

/// One stored version of a plan, without the plan itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanVersion {
    pub plan_code: String,
    pub version: i64,
    pub name: String,
    pub source_sha256: String,
    pub loaded_by: String,
    pub loaded_at: String,
}

/// A stored plan: its latest version and the plan read back.
#[derive(Debug, Clone)]
pub struct StoredPlan {
    pub version: PlanVersion,
    pub plan: Plan,
}

/// The result of saving a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPlan {
    pub version: PlanVersion,
    /// False when the same file was already the latest version.
    pub created: bool,
}

const COLUMNS: &str = "plan_code, version, name, source_sha256, loaded_by, loaded_at";

fn version_from(row: &sqlx::any::AnyRow) -> Result<PlanVersion> {
    Ok(PlanVersion {
        plan_code: row.try_get("plan_code")?,
        version: row.try_get("version")?,
        name: row.try_get("name")?,
        source_sha256: row.try_get("source_sha256")?,
        loaded_by: row.try_get("loaded_by")?,
        loaded_at: row.try_get("loaded_at")?,
    })
}

impl crate::Tx {
    /// Saves `plan` (read from `source_text`) as a new version, unless the
    /// latest version came from the same text. Earlier versions are kept.
    pub async fn save_plan(
        &mut self,
        plan: &Plan,
        source_text: &str,
        loaded_by: &str,
    ) -> Result<SavedPlan> {
        let sha = hex(&Sha256::digest(source_text.as_bytes()));
        let json = serde_json::to_string(plan).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let tx = self;
        let latest = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM plan_versions WHERE plan_code = $1 ORDER BY version DESC LIMIT 1"
        ))
        .bind(plan.code.as_str())
        .fetch_optional(tx.conn())
        .await?
        .map(|r| version_from(&r))
        .transpose()?;
        if let Some(v) = &latest
            && v.source_sha256 == sha
        {
            return Ok(SavedPlan {
                version: v.clone(),
                created: false,
            });
        }
        let version = latest.map(|v| v.version + 1).unwrap_or(1);
        let loaded_at = now_text();
        sqlx::query(
            "INSERT INTO plan_versions (plan_code, version, name, source_sha256, source_text, plan_json, loaded_by, loaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(plan.code.as_str())
        .bind(version)
        .bind(plan.name.as_str())
        .bind(sha.as_str())
        .bind(source_text)
        .bind(json.as_str())
        .bind(loaded_by)
        .bind(loaded_at.as_str())
        .execute(tx.conn())
        .await?;
        tx.event(
            crate::EventKind::Plan,
            plan.code.as_str(),
            &version.to_string(),
        );
        Ok(SavedPlan {
            version: PlanVersion {
                plan_code: plan.code.to_string(),
                version,
                name: plan.name.clone(),
                source_sha256: sha,
                loaded_by: loaded_by.to_string(),
                loaded_at,
            },
            created: true,
        })
    }

    /// The newest version number of a plan as this transaction sees it, for
    /// an edit that must start from the version its author saw.
    pub async fn latest_plan_version(&mut self, code: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT version FROM plan_versions WHERE plan_code = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(code)
        .fetch_optional(self.conn())
        .await?;
        Ok(row.map(|r| r.try_get("version")).transpose()?)
    }
}

impl Store {
    /// [`crate::Tx::save_plan`] on its own (the demo loader and fixtures;
    /// an operator's load commits with its audit entry).
    pub async fn save_plan(
        &self,
        plan: &Plan,
        source_text: &str,
        loaded_by: &str,
    ) -> Result<SavedPlan> {
        let mut tx = self.begin().await?;
        let saved = tx.save_plan(plan, source_text, loaded_by).await?;
        tx.commit_without_audit().await?;
        Ok(saved)
    }

    /// The latest version of every plan, by code.
    pub async fn plans(&self) -> Result<Vec<StoredPlan>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS}, plan_json FROM plan_versions p
             WHERE version = (SELECT MAX(version) FROM plan_versions q WHERE q.plan_code = p.plan_code)
             ORDER BY plan_code"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(stored_from).collect()
    }

    /// The latest version of one plan.
    pub async fn plan(&self, code: &str) -> Result<Option<StoredPlan>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, plan_json FROM plan_versions WHERE plan_code = $1 ORDER BY version DESC LIMIT 1"
        ))
        .bind(code)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(stored_from).transpose()
    }

    /// Every version of one plan, newest first.
    pub async fn plan_versions(&self, code: &str) -> Result<Vec<PlanVersion>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM plan_versions WHERE plan_code = $1 ORDER BY version DESC"
        ))
        .bind(code)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(version_from).collect()
    }

    /// The source text of one version, as it was loaded.
    pub async fn plan_source(&self, code: &str, version: i64) -> Result<Option<String>> {
        let row = sqlx::query(
            "SELECT source_text FROM plan_versions WHERE plan_code = $1 AND version = $2",
        )
        .bind(code)
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get("source_text")).transpose()?)
    }
}

fn stored_from(row: &sqlx::any::AnyRow) -> Result<StoredPlan> {
    let version = version_from(row)?;
    let json: String = row.try_get("plan_json")?;
    let plan: Plan = serde_json::from_str(&json).map_err(|e| {
        StoreError::Corrupt(format!(
            "规划 {} 第 {} 版：{e}",
            version.plan_code, version.version
        ))
    })?;
    Ok(StoredPlan { version, plan })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
