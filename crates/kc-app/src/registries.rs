//! Registries: building the engine from the database, saving and removing
//! records, and loading the demo registries.

use std::collections::HashMap;

use chrono::NaiveDate;
use kc_domain::Plan;
use kc_domain::registry::{self, CellContext, CellError, Record, RegistryDef};
use kc_engine::Engine;
use kc_store::{Store, StoreError, StoredRecord, Tx};

use crate::auth::{Actor, audit_entry};

/// The setting that says up to which day the registries are current.
pub const AS_OF_SETTING: &str = "registries_as_of";

/// The qualification catalogue in force.
pub fn catalogue() -> &'static registry::QualCatalogue {
    kc_planfile::default_catalogue()
}

/// Reads every registry record of the database into a new engine for `plan`.
pub async fn build_engine(
    store: &Store,
    plan: &Plan,
    today: NaiveDate,
) -> Result<Engine, StoreError> {
    let (mut engine, _) = load_registries(store, Engine::new(plan, catalogue().clone())).await?;
    engine.as_of = Some(registries_as_of(store, today).await?);
    // Deriving links and computing every indicator is CPU work: off the
    // async threads.
    Ok(join(
        tokio::task::spawn_blocking(move || {
            engine.rebuild();
            engine
        })
        .await,
    ))
}

/// The result of a blocking task; its panic, if any, carries on here.
fn join<T>(r: Result<T, tokio::task::JoinError>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Reads every registry record of the database into `engine` (links not
/// derived yet) and returns it with the number of records read. Reading and
/// parsing overlap: the database is read here while a worker thread parses
/// each batch of JSON and fills the engine's columns.
pub async fn load_registries(store: &Store, engine: Engine) -> Result<(Engine, usize), StoreError> {
    const BATCH: usize = 8192;
    // Unbounded, because `for_each_record` hands rows to a plain closure
    // that cannot wait; the worker keeps up with all but the fastest reads.
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<(&'static RegistryDef, Vec<String>)>();
    let worker = tokio::task::spawn_blocking(move || {
        let mut engine = engine;
        let mut total = 0usize;
        let mut bad: HashMap<&'static str, usize> = HashMap::new();
        while let Some((def, batch)) = rx.blocking_recv() {
            let mut recs = Vec::with_capacity(batch.len());
            for text in &batch {
                match Record::from_json_str(def, text) {
                    Ok(r) => recs.push(r),
                    Err(_) => *bad.entry(def.code).or_default() += 1,
                }
            }
            total += recs.len();
            let _ = engine.load(def.code, &recs);
        }
        for (registry, bad) in bad {
            tracing::warn!(registry, bad, "records with unreadable data skipped");
        }
        (engine, total)
    });
    let mut failed = None;
    for def in registry::all() {
        let mut batch: Vec<String> = Vec::with_capacity(BATCH);
        let read = store
            .for_each_record(def.code, |r| {
                batch.push(r.data);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    let _ = tx.send((def, full));
                }
            })
            .await;
        let _ = tx.send((def, batch));
        if let Err(e) = read {
            failed = Some(e);
            break;
        }
    }
    drop(tx);
    let (engine, total) = join(worker.await);
    match failed {
        Some(e) => Err(e),
        None => Ok((engine, total)),
    }
}

pub async fn registries_as_of(store: &Store, today: NaiveDate) -> Result<NaiveDate, StoreError> {
    Ok(store
        .setting(AS_OF_SETTING)
        .await?
        .and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
        .map_or(today, |d| d.min(today)))
}

/// The stored form of a record: key, area code and JSON.
pub fn stored(def: &RegistryDef, rec: &Record) -> StoredRecord {
    let area = match def.area {
        registry::AreaRule::Field(f) | registry::AreaRule::Enterprise(f) => {
            rec.get(def, f).display()
        }
    };
    StoredRecord {
        key: rec.key(def),
        area,
        data: rec.to_json(def).to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("记录内容有误")]
    Invalid(Vec<CellError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks a record typed into a form (cells by field code) against the
/// schema and the plan, and the links other registries need (a
/// qualification's enterprise must be registered).
pub fn check_record(
    engine: &Engine,
    plan: &Plan,
    def: &'static RegistryDef,
    cells: &HashMap<&str, &str>,
) -> Result<Record, Vec<CellError>> {
    let cx = CellContext::new(plan, catalogue());
    let rec = registry::read_record(def, cells, &cx)?;
    let owner_required = matches!(def.code, "qualifications" | "enterprise_figures");
    if owner_required {
        let code = rec.get(def, "credit_code").display();
        if engine
            .table("enterprises")
            .and_then(|t| t.row_of(&code, &engine.strings))
            .is_none()
        {
            return Err(vec![CellError {
                field: "credit_code".into(),
                label: "统一社会信用代码".into(),
                value: code,
                reason: "该企业不在企业登记库中，请先登记企业".into(),
            }]);
        }
    }
    Ok(rec)
}

/// Writes a checked record in an open unit of work (the engine is not
/// touched: call [`apply_saved`] after the commit). When an edit changed the
/// natural key, the record under the old key is removed. Returns the key and
/// the audit detail (before and after).
pub async fn stage_record(
    tx: &mut Tx,
    engine: &Engine,
    def: &'static RegistryDef,
    rec: &Record,
    old_key: Option<&str>,
    user: &str,
) -> Result<(String, serde_json::Value), StoreError> {
    let s = stored(def, rec);
    let before = engine
        .row_of(def.code, old_key.unwrap_or(&s.key))
        .and_then(|row| engine.record(def.code, row))
        .map(|o| o.to_json(def));
    // Registries are shared by every plan: the events name no plan.
    tx.upsert_records("", def.code, std::slice::from_ref(&s), user, |_| {})
        .await?;
    if let Some(old) = old_key.filter(|k| *k != s.key) {
        tx.delete_record("", def.code, old).await?;
    }
    Ok((
        s.key,
        serde_json::json!({"before": before, "after": rec.to_json(def)}),
    ))
}

/// Who changes a record, under which audit action, and why (may be empty).
#[derive(Debug, Clone, Copy)]
pub struct By<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub reason: &'a str,
}

impl<'a> By<'a> {
    /// A plain save (`record.save`).
    pub fn save(actor: &'a Actor) -> By<'a> {
        By {
            actor,
            action: "record.save",
            reason: "",
        }
    }
}

/// After the commit of [`stage_record`]: the engine follows.
pub fn apply_saved(engine: &mut Engine, def: &RegistryDef, rec: &Record, old_key: Option<&str>) {
    let key = rec.key(def);
    if let Some(old) = old_key.filter(|k| *k != key) {
        let _ = engine.remove(def.code, old);
    }
    if let Err(e) = engine.upsert(def.code, rec) {
        // The record was checked against the same engine; a refusal here is
        // a bug, and the next rebuild from the database repairs the engine.
        tracing::error!(error = %e, registry = def.code, "engine refused a saved record");
    }
}

/// Saves a checked record: the record and its audit entry (`action`, with
/// before and after) in one transaction, then the engine (under the
/// caller's write lock, so memory and database change together).
pub async fn save_record(
    store: &Store,
    engine: &mut Engine,
    def: &'static RegistryDef,
    rec: &Record,
    old_key: Option<&str>,
    by: By<'_>,
) -> Result<String, StoreError> {
    let mut tx = store.begin().await?;
    let (key, mut detail) =
        stage_record(&mut tx, engine, def, rec, old_key, &by.actor.username).await?;
    if !by.reason.is_empty() {
        detail["reason"] = by.reason.into();
    }
    tx.commit(&audit_entry(
        by.actor,
        by.action,
        &format!("record:{}/{key}", def.code),
        detail,
    ))
    .await?;
    apply_saved(engine, def, rec, old_key);
    Ok(key)
}

/// Deletes a record and writes its audit entry in one transaction, then
/// removes it from the engine. False if there was no such record.
pub async fn delete_record(
    store: &Store,
    engine: &mut Engine,
    def: &RegistryDef,
    key: &str,
    actor: &Actor,
) -> Result<bool, StoreError> {
    let before = engine
        .row_of(def.code, key)
        .and_then(|row| engine.record(def.code, row))
        .map(|o| o.to_json(def));
    let mut tx = store.begin().await?;
    if !tx.delete_record("", def.code, key).await? {
        return Ok(false);
    }
    tx.commit(&audit_entry(
        actor,
        "record.delete",
        &format!("record:{}/{key}", def.code),
        serde_json::json!({"before": before}),
    ))
    .await?;
    let _ = engine.remove(def.code, key);
    Ok(true)
}

/// The area a record belongs to (its own field, or its enterprise's), for
/// the rule of who may edit it.
pub fn record_area(e: &Engine, def: &RegistryDef, rec: &Record) -> Option<String> {
    let code = match def.area {
        registry::AreaRule::Field(f) => rec.get(def, f).display(),
        registry::AreaRule::Enterprise(f) => {
            let credit = rec.get(def, f).display();
            let ent = registry::by_code("enterprises")?;
            let row = e.row_of("enterprises", &credit)?;
            e.record("enterprises", row)?.get(ent, "area").display()
        }
    };
    (!code.is_empty()).then_some(code)
}

/// Why a record could not be saved or deleted.
#[derive(Debug, thiserror::Error)]
pub enum RecordCmdError {
    #[error("记录内容有误")]
    Invalid(Vec<CellError>),
    /// The text says what was refused.
    #[error("您的角色无权{0}")]
    Forbidden(&'static str),
    #[error("{0}中没有这条记录")]
    NotFound(&'static str),
    /// The request cannot be done as asked; the text says why.
    #[error("{0}")]
    Refused(String),
    /// The record is no longer in the state the request expects.
    #[error("{0}")]
    State(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn may_edit(
    who: &kc_domain::auth::Principal,
    e: &Engine,
    def: &RegistryDef,
    rec: &Record,
) -> Result<(), RecordCmdError> {
    if who.can_edit_record(record_area(e, def, rec).as_deref()) {
        Ok(())
    } else {
        Err(RecordCmdError::Forbidden(
            "修改其他地区（或全市统管）的登记记录",
        ))
    }
}

/// A record typed into a form or sent to the API.
pub struct SaveRecord<'a> {
    pub def: &'static RegistryDef,
    /// Cell texts by field code.
    pub cells: HashMap<&'a str, &'a str>,
    /// The key the record had (an edit that may change it).
    pub old_key: Option<&'a str>,
    /// Whether a record with the same key is replaced (the API) or refused
    /// unless it is the one being edited (the form).
    pub replace: bool,
}

/// What a save did.
pub struct SavedRecord {
    pub key: String,
    pub record: Record,
    pub created: bool,
}

/// Saves a record for a user: the right to edit records at all, the
/// record's checks, the right to edit its area (and the old record's), then
/// the record and its audit entry in one transaction and the engine (the
/// caller holds its write lock). The form and the API both call this.
pub async fn save(
    store: &Store,
    engine: &mut Engine,
    plan: &Plan,
    caller: &crate::auth::Caller,
    cmd: SaveRecord<'_>,
) -> Result<SavedRecord, RecordCmdError> {
    let who = &caller.principal;
    let def = cmd.def;
    if !who.edits_registry(def.code) {
        return Err(RecordCmdError::Forbidden(if def.code == "loans" {
            "在登记库中登记科技贷款（由合作银行在白名单页面登记）"
        } else {
            "登记或修改记录"
        }));
    }
    let rec = check_record(engine, plan, def, &cmd.cells).map_err(RecordCmdError::Invalid)?;
    let key = rec.key(def);
    if !cmd.replace && cmd.old_key.is_none() && engine.row_of(def.code, &key).is_some() {
        // A new record must not silently replace an existing one.
        return Err(RecordCmdError::Invalid(vec![CellError {
            field: def.key[0].to_string(),
            label: def
                .field(def.key[0])
                .map(|x| x.label)
                .unwrap_or("")
                .to_string(),
            value: key,
            reason: "已有相同的记录；如需修改，请在该记录页面点击“修改”".into(),
        }]));
    }
    may_edit(who, engine, def, &rec)?;
    let old = engine
        .row_of(def.code, cmd.old_key.unwrap_or(&key))
        .and_then(|row| engine.record(def.code, row));
    if let Some(old) = &old {
        may_edit(who, engine, def, old)?;
    }
    let key = save_record(
        store,
        engine,
        def,
        &rec,
        cmd.old_key,
        By::save(&caller.actor),
    )
    .await?;
    Ok(SavedRecord {
        key,
        record: rec,
        created: old.is_none(),
    })
}

/// Deletes a record for a user (the same rights as [`save`]).
pub async fn delete(
    store: &Store,
    engine: &mut Engine,
    caller: &crate::auth::Caller,
    def: &'static RegistryDef,
    key: &str,
) -> Result<(), RecordCmdError> {
    if !caller.principal.edits_registry(def.code) {
        return Err(RecordCmdError::Forbidden("删除登记记录"));
    }
    let old = engine
        .row_of(def.code, key)
        .and_then(|row| engine.record(def.code, row))
        .ok_or(RecordCmdError::NotFound(def.name))?;
    may_edit(&caller.principal, engine, def, &old)?;
    if delete_record(store, engine, def, key, &caller.actor).await? {
        Ok(())
    } else {
        Err(RecordCmdError::NotFound(def.name))
    }
}

/// Generates the registries of `scale` for `plan` and writes them in
/// batches as they are generated (nation scale never sits in memory as a
/// whole); returns the number of records per registry.
pub async fn load_generated(
    store: &Store,
    plan: &Plan,
    scale: kc_demo::registries::Scale,
    seed: u64,
    through: NaiveDate,
    mut progress: impl FnMut(usize),
) -> Result<Vec<(&'static str, usize)>, StoreError> {
    const BATCH: usize = 20_000;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(&'static str, Vec<StoredRecord>)>(4);
    let plan = plan.clone();
    let generator = tokio::task::spawn_blocking(move || {
        let mut pending: HashMap<&'static str, Vec<StoredRecord>> = HashMap::new();
        let mut counts: HashMap<&'static str, usize> = HashMap::new();
        kc_demo::registries::generate(&plan, scale, seed, through, |def, rec| {
            let v = pending.entry(def.code).or_default();
            v.push(stored(def, rec));
            *counts.entry(def.code).or_default() += 1;
            if v.len() >= BATCH {
                let _ = tx.blocking_send((def.code, std::mem::take(v)));
            }
        });
        for (code, v) in pending {
            if !v.is_empty() {
                let _ = tx.blocking_send((code, v));
            }
        }
        counts
    });
    let mut done = 0;
    while let Some((code, v)) = rx.recv().await {
        store.upsert_records(code, &v, "demo").await?;
        done += v.len();
        progress(done);
    }
    let counts = generator.await.unwrap_or_default();
    store
        .set_setting(AS_OF_SETTING, &through.to_string())
        .await?;
    let mut out: Vec<(&'static str, usize)> = counts.into_iter().collect();
    out.sort();
    Ok(out)
}

/// One engine per plan version, built on first use and kept current by the
/// writes that go through [`save_record`] and [`delete_record`].
#[derive(Default)]
pub struct Engines {
    inner: tokio::sync::Mutex<HashMap<String, (i64, SharedEngine)>>,
}

pub type SharedEngine = std::sync::Arc<tokio::sync::RwLock<Engine>>;

impl Engines {
    pub fn new() -> Engines {
        Engines::default()
    }

    /// The engine for the latest version of a stored plan.
    pub async fn get(
        &self,
        store: &Store,
        stored: &kc_store::StoredPlan,
        today: NaiveDate,
    ) -> Result<SharedEngine, StoreError> {
        let mut map = self.inner.lock().await;
        let code = stored.version.plan_code.clone();
        if let Some((v, e)) = map.get(&code)
            && *v == stored.version.version
        {
            return Ok(e.clone());
        }
        let started = std::time::Instant::now();
        let engine = build_engine(store, &stored.plan, today).await?;
        tracing::info!(plan = %code, ms = started.elapsed().as_millis() as u64, "registries loaded into the engine");
        let shared = std::sync::Arc::new(tokio::sync::RwLock::new(engine));
        map.insert(code, (stored.version.version, shared.clone()));
        Ok(shared)
    }

    /// The engines built so far.
    pub async fn built(&self) -> Vec<SharedEngine> {
        self.inner
            .lock()
            .await
            .values()
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Forgets every engine (after a bulk import, the next request rebuilds).
    pub async fn invalidate(&self) {
        self.inner.lock().await.clear();
    }
}

/// What an import did (or, with errors and without `skip_invalid`, would
/// have done).
#[derive(Debug, Default, serde::Serialize)]
pub struct ImportOutcome {
    pub rows: usize,
    pub valid: usize,
    pub rejected: usize,
    pub created: usize,
    pub updated: usize,
    /// Valid rows identical to the stored record: not written again, so a
    /// re-import of the same file changes nothing (not even who and when).
    pub unchanged: usize,
    pub written: usize,
    /// Rows had errors and `skip_invalid` was not asked: nothing written.
    pub refused: bool,
    pub errors: Vec<kc_io::RowError>,
    /// Rows saved with contradictory figures (at most MAX_REPORTED_ERRORS).
    pub warnings: Vec<kc_io::RowError>,
    pub ignored_columns: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] kc_io::IoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The most row errors an outcome carries (the count is always complete).
pub const MAX_REPORTED_ERRORS: usize = 2000;

/// One file to import into one registry.
pub struct ImportRequest<'a> {
    pub def: &'static RegistryDef,
    pub kind: kc_io::FileKind,
    pub bytes: &'a [u8],
    /// Write the good rows even when others are wrong.
    pub skip_invalid: bool,
    /// Who imports, and the file's name for the audit trail.
    pub actor: &'a Actor,
    pub file_name: &'a str,
    pub today: NaiveDate,
}

/// Checks a file and, when every row is valid (or `skip_invalid`), writes
/// its records, upserting by natural key. All or nothing by default.
pub async fn import_registry(
    store: &Store,
    plan: &Plan,
    req: ImportRequest<'_>,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportOutcome, ImportError> {
    let ImportRequest {
        def,
        kind,
        bytes,
        skip_invalid,
        actor,
        file_name,
        today,
    } = req;
    let enterprises = if matches!(def.code, "qualifications" | "enterprise_figures") {
        store.record_keys(registry::ENTERPRISES.code).await?
    } else {
        Default::default()
    };
    // Reading and checking a large file takes seconds of CPU: on a blocking
    // thread, so the server keeps answering meanwhile.
    let (bytes, plan_copy) = (bytes.to_vec(), plan.clone());
    let mut report = join(
        tokio::task::spawn_blocking(move || {
            let sheet = kc_io::read(kind, &bytes)?;
            let cx = CellContext::new(&plan_copy, catalogue());
            kc_io::check_sheet(def, &sheet, &cx, &|c| enterprises.contains(c))
        })
        .await,
    )?;
    let mut out = ImportOutcome {
        rows: report.rows,
        valid: report.good.len(),
        rejected: report.rejected,
        ignored_columns: std::mem::take(&mut report.ignored_columns),
        warnings: std::mem::take(&mut report.warnings)
            .into_iter()
            .take(MAX_REPORTED_ERRORS)
            .collect(),
        ..ImportOutcome::default()
    };
    let total_errors = report.errors.len();
    out.errors = report
        .errors
        .into_iter()
        .take(MAX_REPORTED_ERRORS)
        .collect();
    let audit_of = |out: &ImportOutcome| {
        audit_entry(
            actor,
            "record.import",
            &format!("registry:{}", def.code),
            serde_json::json!({"file": file_name, "written": out.written, "rejected": out.rejected, "refused": out.refused}),
        )
    };
    if total_errors > 0 && !skip_invalid {
        out.refused = true;
        store.audit(&audit_of(&out)).await?;
        return Ok(out);
    }
    let existing = store.record_texts(def.code).await?;
    let mut records: Vec<StoredRecord> = Vec::with_capacity(report.good.len());
    for r in &report.good {
        let rec = stored(def, r);
        match existing.get(&rec.key) {
            None => out.created += 1,
            Some(data) if *data == rec.data => {
                out.unchanged += 1;
                continue;
            }
            Some(_) => out.updated += 1,
        }
        records.push(rec);
    }
    drop(existing);
    // One transaction: the records, the date the registries are current to
    // and the audit entry, all or nothing, with progress as statements go.
    let total = records.len();
    let mut tx = store.begin().await?;
    tx.upsert_records("", def.code, &records, &actor.username, |n| {
        progress(n, total)
    })
    .await?;
    out.written = total;
    let current = registries_as_of(store, today).await?;
    if current < today {
        tx.set_setting(AS_OF_SETTING, &today.to_string()).await?;
    }
    tx.commit(&audit_of(&out)).await?;
    Ok(out)
}

/// Records as an export shows them: areas and qualification kinds by their
/// names (what people read and what an import takes back), every other
/// value as stored.
pub fn named_for_export<'r>(
    def: &kc_domain::registry::RegistryDef,
    records: impl IntoIterator<Item = &'r kc_domain::registry::Record>,
    plan: &kc_domain::Plan,
) -> Vec<kc_domain::registry::Record> {
    use kc_domain::registry::{FieldType, OUTSIDE, Value};
    let cat = catalogue();
    records
        .into_iter()
        .map(|r| {
            let mut r = r.clone();
            for (i, v) in r.values.iter_mut().enumerate() {
                let Value::Text(code) = v else { continue };
                let name = match def.fields.get(i).map(|f| f.ty) {
                    Some(FieldType::Area) if code == OUTSIDE => Some("市外".to_string()),
                    Some(FieldType::Area) => plan.area(code).map(|a| a.name.clone()),
                    Some(FieldType::QualKind) => cat.get(code).map(|k| k.name.clone()),
                    _ => None,
                };
                if let Some(n) = name {
                    *v = Value::Text(n);
                }
            }
            r
        })
        .collect()
}
