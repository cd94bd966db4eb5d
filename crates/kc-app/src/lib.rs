//! Application services: the use cases shared by the web server and the CLI.
//! They join the pure domain with storage; they know nothing of HTTP or HTML.

/// What the web layer may name of storage: the handle it passes on to use
/// cases and read queries, and the records they return. Every write is a
/// use case of this crate (`scripts/check-architecture` holds kc-web to it).
pub mod store {
    pub use kc_store::{
        Attachment, AuditEntry, AuditFilter, AuditReport, Backend, Event, EventKind, Notification,
        PlanVersion, SessionRow, Store, StoreError, StoredPlan, User, ValueEvent, ValueRecord,
        now_text,
    };
}

pub mod allocation;
pub mod analytics;
pub mod auth;
pub mod cases;
pub mod cultivation;
pub mod demo_cases;
pub mod demo_next;
pub mod final_eval;
pub mod mail;
pub mod market;
pub mod model;
pub mod plan_edit;
pub mod registries;
pub mod report;
pub mod time;
pub mod work;
pub mod workflow;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use kc_domain::series::{Obs, ScopedObs, SeriesSet, resolve_formulas, scope_set_reported};
use kc_domain::{Evaluation, Plan, Scope, Status, Vintage, evaluate};
use kc_domain::{Frequency, Period};
use kc_engine::Engine;
use kc_store::{NewValue, PlanVersion, SavedPlan, Store, StoreError, ValueRecord};

/// The plan that ships with the system and is loaded by `--demo`.
pub const BENGBU_PLAN: &str = include_str!("../../../plans/bengbu-2023-2025.toml");
pub const BENGBU_PLAN_FILE: &str = "plans/bengbu-2023-2025.toml";

/// The last day the demo history covers today (see [`demo_through_at`]).
pub fn demo_through() -> NaiveDate {
    demo_through_at(time::today_beijing())
}

/// The last day the demo history covers on `today`: the end of the last
/// quarter whose figures were due by then, no later than the demo plan's
/// end. On 2025-10-20 that is 2025-09-30 (a plan in progress, as the tests
/// see it); from 2026 on, the plan's end (a plan to evaluate).
pub fn demo_through_at(today: NaiveDate) -> NaiveDate {
    match kc_planfile::parse_plan(BENGBU_PLAN_FILE, BENGBU_PLAN) {
        Ok(plan) => demo_through_for(&plan, today),
        Err(_) => today,
    }
}

/// The end of the last quarter of `plan` whose figures were due (the plan's
/// reporting days after it ended) by `today`, capped at the plan's end.
pub fn demo_through_for(plan: &Plan, today: NaiveDate) -> NaiveDate {
    last_quarter_due(plan, today).min(plan.period.end)
}

/// The end of the last quarter whose figures were due by `today` under
/// `plan`'s reporting days.
fn last_quarter_due(plan: &Plan, today: NaiveDate) -> NaiveDate {
    let due = chrono::Days::new(u64::from(plan.reporting.due_days));
    let d = today.checked_sub_days(due).unwrap_or(today);
    let quarter_start = NaiveDate::from_ymd_opt(d.year(), (d.month() - 1) / 3 * 3 + 1, 1)
        .expect("the first day of a quarter");
    // `d` itself when it is a quarter's last day, else the day before its
    // quarter began.
    if d.month().is_multiple_of(3) && d.succ_opt().is_none_or(|n| n.month() != d.month()) {
        d
    } else {
        quarter_start.pred_opt().unwrap_or(quarter_start)
    }
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
    #[error(transparent)]
    Case(#[from] cases::CaseError),
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

/// An operator's load of a plan file: a new version and its audit entry
/// (`plan.load`) in one transaction; the same text again changes nothing
/// and writes nothing.
pub async fn load_plan_as(
    store: &Store,
    file: &str,
    text: &str,
    actor: &auth::Actor,
) -> Result<SavedPlan, LoadError> {
    let plan = kc_planfile::parse_plan(file, text)?;
    let mut tx = store.begin().await?;
    let saved = tx.save_plan(&plan, text, &actor.username).await?;
    if saved.created {
        tx.commit(&auth::audit_entry(
            actor,
            "plan.load",
            &format!("plan:{}", saved.version.plan_code),
            serde_json::json!({"version": saved.version.version, "file": file}),
        ))
        .await?;
    }
    Ok(saved)
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
    pub records_loaded: usize,
    /// Demo accounts created (see [`auth::demo_accounts`]).
    pub accounts_created: usize,
}

/// Loads the demo as of today (see [`load_demo_at`]).
pub async fn load_demo(store: &Store) -> Result<DemoReport, LoadError> {
    load_demo_at(store, time::today_beijing()).await
}

/// A demo value as stored: reported, approved, entered some days after its
/// period.
fn demo_value(plan: &Plan, code: &str, v: kc_demo::DemoValue) -> NewValue {
    NewValue {
        entered_at: Some(demo_reported_at(plan, &v)),
        plan_code: code.to_string(),
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
        status: kc_domain::duty::ValueStatus::Approved,
        correction: false,
    }
}

/// Loads the Bengbu plan, its demo history of reported values as far as it
/// would be reported on `today` ([`demo_through_at`]) and city-scale demo
/// registries into an empty database; once the plan has ended, also the
/// next plan drafted from it with its first quarters ([`demo_next`]).
/// Whatever the database already holds is left as it is.
pub async fn load_demo_at(store: &Store, today: NaiveDate) -> Result<DemoReport, LoadError> {
    let saved = load_plan_text(store, BENGBU_PLAN_FILE, BENGBU_PLAN, "demo").await?;
    let code = saved.version.plan_code.clone();
    let plan = kc_planfile::parse_plan(BENGBU_PLAN_FILE, BENGBU_PLAN)?;
    let mut values_loaded = 0;
    if store.count_values(&code).await? == 0 {
        let through = demo_through_for(&plan, today);
        let values: Vec<NewValue> = kc_demo::generate(&plan, DEMO_SEED, through)
            .into_iter()
            .map(|v| demo_value(&plan, &code, v))
            .collect();
        values_loaded = store.append_values(&values).await?;
    }
    let mut records_loaded = 0;
    if store.count_records("enterprises").await? == 0 {
        let counts = registries::load_generated(
            store,
            &plan,
            kc_demo::registries::Scale::City,
            DEMO_SEED,
            // The registries run on past the plan's end: firms keep being
            // certified, and the next plan counts them.
            last_quarter_due(&plan, today),
            |_| {},
        )
        .await?;
        records_loaded = counts.iter().map(|(_, n)| n).sum();
    }
    records_loaded += market::load_demo_listings(store, &plan, DEMO_SEED).await?;
    // The market's deals and challenges, made through its use cases.
    demo_cases::load(store, &plan, demo_through_for(&plan, today)).await?;
    let accounts_created = auth::load_demo_accounts(store, &plan).await?;
    values_loaded += demo_next::load(store, &plan, today).await?;
    Ok(DemoReport {
        plan_loaded: saved.created,
        values_loaded,
        records_loaded,
        accounts_created,
    })
}

pub use workflow::RecordError;

/// When a demo value was reported: a few days to three weeks after its
/// period ended, mostly before the due date (fixed per value, so the demo is
/// the same every time).
fn demo_reported_at(plan: &Plan, v: &kc_demo::DemoValue) -> String {
    let h = format!("{}{}{}", v.indicator, v.scope, v.period)
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)));
    let due = plan
        .indicator(&v.indicator)
        .and_then(|i| i.due_days)
        .unwrap_or(plan.reporting.due_days);
    // Nine in ten on time, the rest up to a week late.
    let days = if h % 10 == 0 {
        u64::from(due) + 1 + (h / 10) % 7
    } else {
        3 + (h / 10) % u64::from(due.max(4) - 3)
    };
    format!("{}T02:00:00.000Z", v.period.end() + chrono::Days::new(days))
}

/// A plan evaluated for one scope as of one date.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// A number no other snapshot of this process has: what was derived
    /// from a snapshot (a rendered page) can be kept under it.
    pub serial: u64,
    pub plan: Plan,
    pub version: PlanVersion,
    pub scope: Scope,
    pub as_of: NaiveDate,
    /// End of the latest period with any value in this scope.
    pub latest_data: Option<NaiveDate>,
    pub set: SeriesSet,
    /// The latest revision of every stored value of the plan (all scopes).
    pub records: Vec<ValueRecord>,
    /// Indicators whose series the engine computed from registries.
    pub computed: Vec<String>,
    pub registries_as_of: Option<NaiveDate>,
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

    pub fn is_computed(&self, indicator: &str) -> bool {
        self.computed.iter().any(|c| c == indicator)
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
/// counts as carrying evidence; provisional and unapproved values stay
/// marked as such.
pub fn observations(records: &[ValueRecord]) -> Vec<ScopedObs> {
    records
        .iter()
        .map(|r| ScopedObs {
            indicator: r.indicator.clone(),
            scope: r.scope.clone(),
            obs: Obs {
                period: r.period,
                value: r.value,
                // A value not yet approved is provisional whatever its
                // statistical vintage says.
                provisional: r.vintage == Vintage::Provisional
                    || r.status != kc_domain::duty::ValueStatus::Approved,
                evidence: !r.note.trim().is_empty(),
            },
        })
        .collect()
}

/// Evaluates every target of a stored plan for `scope`. Indicators the
/// engine computes from registries holding records take the engine's values
/// instead of reported ones.
pub async fn snapshot(
    store: &Store,
    plan_code: &str,
    scope: &Scope,
    as_of: Option<NaiveDate>,
    today: NaiveDate,
    engine: Option<&Engine>,
) -> Result<Option<Snapshot>, StoreError> {
    let Some(stored) = store.plan(plan_code).await? else {
        return Ok(None);
    };
    let records = store.latest_values(plan_code).await?;
    Ok(Some(evaluate_snapshot(
        stored, records, scope, as_of, today, engine,
    )))
}

/// The pure part of [`snapshot`]: from a stored plan and its values.
pub fn evaluate_snapshot(
    stored: kc_store::StoredPlan,
    records: Vec<ValueRecord>,
    scope: &Scope,
    as_of: Option<NaiveDate>,
    today: NaiveDate,
    engine: Option<&Engine>,
) -> Snapshot {
    evaluate_snapshot_with_history(stored, records, &[], scope, as_of, today, engine)
}

/// [`evaluate_snapshot`] with the figures of the plan this one follows
/// (`earlier`, periods before it starts) in its series: charts and
/// forecasts see the indicator's whole history; `records` (duties, the
/// board, history pages) stay this plan's own.
pub fn evaluate_snapshot_with_history(
    stored: kc_store::StoredPlan,
    records: Vec<ValueRecord>,
    earlier: &[ValueRecord],
    scope: &Scope,
    as_of: Option<NaiveDate>,
    today: NaiveDate,
    engine: Option<&Engine>,
) -> Snapshot {
    // A scope is judged on its own targets: an area on its allocated
    // shares and the city's rates, never on the city's counts.
    let mut stored = stored;
    if *scope != Scope::City {
        stored.plan = stored.plan.for_scope(scope);
    }
    let mut obs = observations(earlier);
    obs.extend(observations(&records));
    let mut set = scope_set_reported(&stored.plan, &obs, scope);
    let computed = engine
        .map(|e| fill_computed(e, &stored.plan, scope, &mut set))
        .unwrap_or_default();
    resolve_formulas(&stored.plan, &mut set);
    // The previous plan's figures are history, not this plan's latest data.
    let latest_data = set
        .latest_end()
        .filter(|d| earlier.is_empty() || *d >= stored.plan.period.start);
    let as_of = as_of.unwrap_or_else(|| default_as_of(&stored.plan, latest_data, today));
    let evals = stored
        .plan
        .targets
        .iter()
        .map(|t| (t.code.to_string(), evaluate(&stored.plan, t, &set, as_of)))
        .collect();
    static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    Snapshot {
        serial: SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        plan: stored.plan,
        version: stored.version,
        scope: scope.clone(),
        as_of,
        latest_data,
        set,
        records,
        computed,
        registries_as_of: engine.and_then(|e| e.as_of),
        evals,
    }
}

/// Replaces the series of every engine-computed indicator (whose registry
/// holds records) with the engine's values for each period of the
/// indicator's frequency, from the year before the plan to the day the
/// registries are current. Returns the indicators replaced.
pub fn fill_computed(
    engine: &Engine,
    plan: &Plan,
    scope: &Scope,
    set: &mut SeriesSet,
) -> Vec<String> {
    let area = match scope {
        Scope::City => None,
        Scope::Area(a) => Some(a.as_str()),
        Scope::Department(_) => return Vec::new(),
    };
    let from = NaiveDate::from_ymd_opt(chrono::Datelike::year(&plan.period.start) - 1, 1, 1)
        .unwrap_or(plan.period.start);
    let to = engine.as_of.unwrap_or(plan.period.end).min(plan.period.end);
    let mut out = Vec::new();
    for ind in &plan.indicators {
        let code = ind.code.as_str();
        if !engine.computes(code) || !engine.has_data(code) {
            continue;
        }
        set.clear(code);
        for p in Period::all_within(ind.frequency, from, to) {
            if let Ok(Some(v)) = engine.value(code, area, p) {
                set.insert(code, Obs::new(p, v));
            }
        }
        out.push(code.to_string());
    }
    out
}

/// The period of an indicator's frequency that ends on or before `date`.
pub fn period_at(freq: Frequency, date: NaiveDate) -> Period {
    let p = freq.period_containing(date);
    if p.end() <= date {
        p
    } else {
        freq.period_containing(p.start().pred_opt().unwrap_or(p.start()))
    }
}
