//! Application services: the use cases shared by the web server and the CLI.
//! They join the pure domain with storage; they know nothing of HTTP or HTML.

use std::collections::HashMap;

use chrono::NaiveDate;
use kc_domain::entry::{FieldError, RawEntry, check_entry};
use kc_domain::series::{Obs, ScopedObs, SeriesSet, scope_set};
use kc_domain::{Evaluation, Plan, Scope, Status, Vintage, evaluate};
use kc_store::{NewValue, PlanVersion, SavedPlan, Store, StoreError, ValueRecord};

/// The plan that ships with the system and is loaded by `--demo`.
pub const BENGBU_PLAN: &str = include_str!("../../../plans/bengbu-2023-2025.toml");
pub const BENGBU_PLAN_FILE: &str = "plans/bengbu-2023-2025.toml";

/// The last month the demo history covers: a quarter before the plan ends,
/// so the demo shows a plan still in progress.
pub fn demo_through() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 9, 30).expect("valid date")
}

pub const DEMO_SEED: u64 = 2023;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("无法读取规划文件 {file}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Plan(#[from] kc_planfile::PlanErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads, checks and stores a plan file (a new version if it changed).
pub async fn load_plan_text(
    store: &Store,
    file: &str,
    text: &str,
    user: &str,
) -> Result<SavedPlan, LoadError> {
    let plan = kc_planfile::parse_plan(file, text)?;
    Ok(store.save_plan(&plan, text, user).await?)
}

pub async fn load_plan_file(
    store: &Store,
    path: &std::path::Path,
    user: &str,
) -> Result<SavedPlan, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        file: path.display().to_string(),
        source,
    })?;
    load_plan_text(store, &path.display().to_string(), &text, user).await
}

/// What `--demo` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub plan_loaded: bool,
    pub values_loaded: usize,
}

/// Loads the Bengbu plan and its demo history into an empty database. A
/// database that already has the plan or values is left as it is.
pub async fn load_demo(store: &Store) -> Result<DemoReport, LoadError> {
    let saved = load_plan_text(store, BENGBU_PLAN_FILE, BENGBU_PLAN, "demo").await?;
    let code = saved.version.plan_code.clone();
    if store.count_values(&code).await? > 0 {
        return Ok(DemoReport {
            plan_loaded: saved.created,
            values_loaded: 0,
        });
    }
    let plan = kc_planfile::parse_plan(BENGBU_PLAN_FILE, BENGBU_PLAN)?;
    let values: Vec<NewValue> = kc_demo::generate(&plan, DEMO_SEED, demo_through())
        .into_iter()
        .map(|v| NewValue {
            plan_code: code.clone(),
            unit: plan
                .indicator(&v.indicator)
                .map(|i| i.unit.clone())
                .unwrap_or_default(),
            indicator: v.indicator,
            scope: v.scope,
            period: v.period,
            value: v.value,
            note: v.note,
            vintage: v.vintage,
            entered_by: "demo".to_string(),
        })
        .collect();
    let n = store.append_values(&values).await?;
    Ok(DemoReport {
        plan_loaded: saved.created,
        values_loaded: n,
    })
}

/// Why recording a value failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("填报内容有误")]
    Invalid(Vec<FieldError>),
    #[error("该数据已被他人修改")]
    Conflict(Box<ValueRecord>),
    #[error(transparent)]
    Store(StoreError),
}

/// Checks a typed-in value against the plan and stores it as a new revision.
pub async fn record_value(
    store: &Store,
    plan: &Plan,
    raw: &RawEntry,
    expected_revision: Option<i64>,
    user: &str,
    today: NaiveDate,
) -> Result<ValueRecord, RecordError> {
    let entry = check_entry(plan, raw, today).map_err(RecordError::Invalid)?;
    let unit = plan
        .indicator(entry.indicator.as_str())
        .map(|i| i.unit.clone())
        .unwrap_or_default();
    let new = NewValue {
        plan_code: plan.code.to_string(),
        indicator: entry.indicator.to_string(),
        scope: entry.scope,
        period: entry.period,
        value: entry.value,
        unit,
        note: entry.note,
        vintage: entry.vintage,
        entered_by: user.to_string(),
    };
    store
        .append_value(&new, expected_revision)
        .await
        .map_err(|e| match e {
            StoreError::Conflict { current } => RecordError::Conflict(current),
            other => RecordError::Store(other),
        })
}

/// A plan evaluated for one scope as of one date.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub plan: Plan,
    pub version: PlanVersion,
    pub scope: Scope,
    pub as_of: NaiveDate,
    /// End of the latest period with any value in this scope.
    pub latest_data: Option<NaiveDate>,
    pub set: SeriesSet,
    /// The latest revision of every stored value of the plan (all scopes).
    pub records: Vec<ValueRecord>,
    evals: HashMap<String, Evaluation>,
}

impl Snapshot {
    pub fn eval(&self, target: &str) -> Option<&Evaluation> {
        self.evals.get(target)
    }

    /// Status counts over the given targets, in the order of `Status::ALL`.
    pub fn counts<'a>(&self, targets: impl IntoIterator<Item = &'a str>) -> [usize; 6] {
        kc_domain::progress::status_counts(targets.into_iter().filter_map(|t| self.evals.get(t)))
    }

    pub fn all_counts(&self) -> [usize; 6] {
        self.counts(self.plan.targets.iter().map(|t| t.code.as_str()))
    }

    pub fn status(&self, target: &str) -> Status {
        self.evals
            .get(target)
            .map(|e| e.status)
            .unwrap_or(Status::NoData)
    }
}

/// The date progress is read at when none is asked for: the end of the
/// latest period with data (so that reporting delays are not read as lag),
/// never after today nor after the plan's end.
pub fn default_as_of(plan: &Plan, latest_data: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
    let cap = today.min(plan.period.end);
    latest_data.map(|d| d.min(cap)).unwrap_or(cap)
}

/// Turns stored records into the math's observations. A value with a note
/// counts as carrying evidence; provisional values stay marked as such.
pub fn observations(records: &[ValueRecord]) -> Vec<ScopedObs> {
    records
        .iter()
        .map(|r| ScopedObs {
            indicator: r.indicator.clone(),
            scope: r.scope.clone(),
            obs: Obs {
                period: r.period,
                value: r.value,
                provisional: r.vintage == Vintage::Provisional,
                evidence: !r.note.trim().is_empty(),
            },
        })
        .collect()
}

/// Evaluates every target of a stored plan for `scope`.
pub async fn snapshot(
    store: &Store,
    plan_code: &str,
    scope: &Scope,
    as_of: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<Option<Snapshot>, StoreError> {
    let Some(stored) = store.plan(plan_code).await? else {
        return Ok(None);
    };
    let records = store.latest_values(plan_code).await?;
    let set = scope_set(&stored.plan, &observations(&records), scope);
    let latest_data = set.latest_end();
    let as_of = as_of.unwrap_or_else(|| default_as_of(&stored.plan, latest_data, today));
    let evals = stored
        .plan
        .targets
        .iter()
        .map(|t| (t.code.to_string(), evaluate(&stored.plan, t, &set, as_of)))
        .collect();
    Ok(Some(Snapshot {
        plan: stored.plan,
        version: stored.version,
        scope: scope.clone(),
        as_of,
        latest_data,
        set,
        records,
        evals,
    }))
}
