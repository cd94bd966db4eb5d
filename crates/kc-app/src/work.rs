//! A use case's unit of work when it spans more than one write: a market
//! case moved and the contract record it writes, say. The writes go into
//! one database transaction; registry records staged in it are applied to
//! the engine only after the commit, with the audit entry in the same
//! commit. Dropped without a commit, nothing is stored and the engine is
//! untouched.

use kc_domain::registry::{Record, RegistryDef};
use kc_engine::Engine;
use kc_store::{Store, StoreError, Tx};

use crate::auth::{Actor, audit_entry};

pub struct Work {
    pub(crate) tx: Tx,
    records: Vec<(&'static RegistryDef, Record)>,
}

impl Work {
    pub async fn begin(store: &Store) -> Result<Work, StoreError> {
        Ok(Work {
            tx: store.begin().await?,
            records: Vec::new(),
        })
    }

    /// Writes a new or changed registry record in this unit (its audit
    /// detail is part of the use case's entry). Returns its key.
    pub async fn save_record(
        &mut self,
        engine: &Engine,
        def: &'static RegistryDef,
        rec: &Record,
        user: &str,
    ) -> Result<String, StoreError> {
        let (key, _) =
            crate::registries::stage_record(&mut self.tx, engine, def, rec, None, user).await?;
        self.records.push((def, rec.clone()));
        Ok(key)
    }

    /// Whether the engine must follow after the commit.
    pub fn touches_engine(&self) -> bool {
        !self.records.is_empty()
    }

    /// Commits the writes with the use case's audit entry, then brings the
    /// engine up to date (when records were written; the caller passes the
    /// engine under its write lock then).
    pub async fn commit(
        self,
        actor: &Actor,
        action: &str,
        object: &str,
        detail: serde_json::Value,
        engine: Option<&mut Engine>,
    ) -> Result<(), StoreError> {
        self.tx
            .commit(&audit_entry(actor, action, object, detail))
            .await?;
        if let Some(e) = engine {
            for (def, rec) in &self.records {
                crate::registries::apply_saved(e, def, rec, None);
            }
        }
        Ok(())
    }
}
