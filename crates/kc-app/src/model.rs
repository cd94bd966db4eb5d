//! The read model: what pages and the API read, held in memory and kept
//! current by the events every write commits with.
//!
//! Per plan it holds the parsed latest plan version, the latest submitted or
//! approved revision of every value and the latest approved one, and the
//! snapshots (every target evaluated for a scope and date) that requests
//! have asked for, built once and shared until a change touches them.
//!
//! Keeping it current: every commit with events bumps the store's local
//! counter, so a reader in this process sees at no cost that it must catch
//! up before it answers (a user sees their own change at once); a
//! background task ([`ReadModel::follow`]) reads the events table a few
//! times a second for the changes of other server processes on the same
//! database. Catching up reads only the keys the events name: one query
//! per changed value, not the plan.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use arc_swap::ArcSwap;
use chrono::NaiveDate;
use kc_domain::auth::{Principal, ValueKey};
use kc_domain::duty::ValueStatus;
use kc_domain::plan::TargetSet;
use kc_domain::{Period, Scope};
use kc_store::{Event, EventKind, Store, StoreError, StoredPlan, ValueRecord};

use crate::Snapshot;
use crate::registries::{Engines, SharedEngine};

type Key = (String, Scope, Period);

/// One plan as the pages read it.
pub struct PlanView {
    pub stored: Arc<StoredPlan>,
    /// The newest submitted or approved revision of every key, in the
    /// store's order (indicator, scope, period end).
    latest: Vec<ValueRecord>,
    /// The newest approved revision of keys whose newest revision above is
    /// not approved (what everyone else sees of them).
    approved_behind: HashMap<Key, ValueRecord>,
    /// How many of `latest` are not approved.
    unpublished: usize,
    /// The approved figures of the plan this one follows, for periods
    /// before this plan starts: its history (empty for a first plan).
    earlier: Arc<Vec<ValueRecord>>,
    snapshots: std::sync::Mutex<HashMap<SnapKey, Arc<Snapshot>>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct SnapKey {
    scope: Scope,
    as_of: Option<NaiveDate>,
    original: bool,
    /// Which unpublished revisions the reader sees (0: none).
    sees: u64,
    /// Without an asked date the snapshot is read at the latest data,
    /// capped at today.
    today: NaiveDate,
}

/// At most this many snapshots per plan are kept; past it the cache starts
/// again (a snapshot takes a few milliseconds to build).
const MAX_SNAPSHOTS: usize = 256;

impl PlanView {
    fn new(
        stored: Arc<StoredPlan>,
        latest: Vec<ValueRecord>,
        approved: Vec<ValueRecord>,
    ) -> PlanView {
        let mut v = PlanView::of(stored, latest, HashMap::new());
        let mut approved: HashMap<Key, ValueRecord> = approved
            .into_iter()
            .map(|r| ((r.indicator.clone(), r.scope.clone(), r.period), r))
            .collect();
        for r in &v.latest {
            if r.status != ValueStatus::Approved
                && let Some(a) = approved.remove(&key_of(r))
            {
                v.approved_behind.insert(key_of(r), a);
            }
        }
        v
    }

    fn of(
        stored: Arc<StoredPlan>,
        latest: Vec<ValueRecord>,
        approved_behind: HashMap<Key, ValueRecord>,
    ) -> PlanView {
        PlanView {
            unpublished: latest
                .iter()
                .filter(|r| r.status != ValueStatus::Approved)
                .count(),
            stored,
            latest,
            approved_behind,
            earlier: Arc::new(Vec::new()),
            snapshots: Default::default(),
        }
    }

    fn with_earlier(mut self, earlier: Arc<Vec<ValueRecord>>) -> PlanView {
        self.earlier = earlier;
        self
    }

    fn sees(&self, who: Option<&Principal>, r: &ValueRecord) -> bool {
        who.is_some_and(|p| {
            p.sees_unpublished(
                &self.stored.plan,
                ValueKey {
                    indicator: &r.indicator,
                    scope: &r.scope,
                },
            )
        })
    }

    /// The values `who` sees: per key the newest submitted revision if they
    /// may see unpublished values of it, otherwise the newest approved one.
    pub fn visible(&self, who: Option<&Principal>) -> Vec<ValueRecord> {
        let mut out = Vec::with_capacity(self.latest.len());
        for r in &self.latest {
            if r.status == ValueStatus::Approved || self.sees(who, r) {
                out.push(r.clone());
            } else if let Some(a) = self.approved_behind.get(&key_of(r)) {
                out.push(a.clone());
            }
        }
        out
    }

    /// Which unpublished revisions `who` sees, as a number (0: none): two
    /// readers with the same number see the same values.
    fn fingerprint(&self, who: Option<&Principal>) -> u64 {
        if self.unpublished == 0 {
            return 0;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let mut any = false;
        for r in &self.latest {
            if r.status != ValueStatus::Approved && self.sees(who, r) {
                r.id.hash(&mut h);
                any = true;
            }
        }
        if any { h.finish() | 1 } else { 0 }
    }

    /// Every target evaluated for `scope` as of `as_of` (the latest data
    /// when `None`), as `who` sees the values; built on first use.
    pub fn snapshot(
        &self,
        who: Option<&Principal>,
        scope: &Scope,
        as_of: Option<NaiveDate>,
        targets: TargetSet,
        engine: &kc_engine::Engine,
        today: NaiveDate,
    ) -> Arc<Snapshot> {
        let key = SnapKey {
            scope: scope.clone(),
            as_of,
            original: targets == TargetSet::Original,
            sees: self.fingerprint(who),
            today,
        };
        if let Some(s) = self
            .snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return s.clone();
        }
        let records = self.visible(who);
        let mut stored = StoredPlan::clone(&self.stored);
        if targets == TargetSet::Original {
            stored.plan = stored.plan.with_targets(TargetSet::Original);
        }
        let snap = Arc::new(crate::evaluate_snapshot_with_history(
            stored,
            records,
            &self.earlier,
            scope,
            as_of,
            today,
            Some(engine),
        ));
        let mut map = self.snapshots.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SNAPSHOTS {
            map.clear();
        }
        map.insert(key, snap.clone());
        snap
    }
}

fn key_of(r: &ValueRecord) -> Key {
    (r.indicator.clone(), r.scope.clone(), r.period)
}

/// A function told of every event applied.
type Listener = Box<dyn Fn(&Event) + Send + Sync>;

/// The read model of every plan.
pub struct ReadModel {
    store: Store,
    pub engines: Arc<Engines>,
    plans: ArcSwap<HashMap<String, Arc<PlanView>>>,
    /// The newest event applied.
    seen: AtomicI64,
    /// The store's local commit counter when we last caught up.
    seen_local: AtomicU64,
    catching_up: tokio::sync::Mutex<()>,
    /// Called with the events of other kinds (sessions, search) after they
    /// are applied here, for the layers above.
    listeners: std::sync::Mutex<Vec<Listener>>,
}

impl ReadModel {
    /// An empty model; plans are read on first use.
    pub fn new(store: Store, engines: Arc<Engines>) -> ReadModel {
        ReadModel {
            seen_local: AtomicU64::new(store.local_commits()),
            store,
            engines,
            plans: ArcSwap::from_pointee(HashMap::new()),
            seen: AtomicI64::new(-1),
            catching_up: tokio::sync::Mutex::new(()),
            listeners: Default::default(),
        }
    }

    /// Adds a function told of every event applied (e.g. to drop cached
    /// sessions of a user whose roles changed).
    pub fn on_event(&self, f: impl Fn(&Event) + Send + Sync + 'static) {
        self.listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(f));
    }

    /// Catches up if this process committed since the last catch-up: a
    /// user's next request sees their own change. No query otherwise.
    pub async fn sync_local(&self) -> Result<(), StoreError> {
        if self.store.local_commits() != self.seen_local.load(Ordering::Acquire)
            || self.seen.load(Ordering::Acquire) < 0
        {
            self.catch_up().await?;
        }
        Ok(())
    }

    /// The view of a plan, current with every commit this process made.
    /// `None` if no such plan is stored.
    pub async fn plan(&self, code: &str) -> Result<Option<Arc<PlanView>>, StoreError> {
        self.sync_local().await?;
        if let Some(v) = self.plans.load().get(code) {
            return Ok(Some(v.clone()));
        }
        let _guard = self.catching_up.lock().await;
        if let Some(v) = self.plans.load().get(code) {
            return Ok(Some(v.clone()));
        }
        let Some(view) = self.read_plan(code).await? else {
            return Ok(None);
        };
        let view = Arc::new(view);
        let mut map = HashMap::clone(&self.plans.load());
        map.insert(code.to_string(), view.clone());
        self.plans.store(Arc::new(map));
        Ok(Some(view))
    }

    /// The view of a plan and its engine.
    pub async fn plan_and_engine(
        &self,
        code: &str,
        today: NaiveDate,
    ) -> Result<Option<(Arc<PlanView>, SharedEngine)>, StoreError> {
        let Some(view) = self.plan(code).await? else {
            return Ok(None);
        };
        let engine = self.engines.get(&self.store, &view.stored, today).await?;
        Ok(Some((view, engine)))
    }

    async fn read_plan(&self, code: &str) -> Result<Option<PlanView>, StoreError> {
        let Some(stored) = self.store.plan(code).await? else {
            return Ok(None);
        };
        let latest = self.store.latest_values(code).await?;
        let approved = self.store.approved_values(code).await?;
        let earlier = match &stored.plan.follows {
            Some(prev) => {
                let start = stored.plan.period.start;
                let mut v = self.store.approved_values(prev.as_str()).await?;
                v.retain(|r| r.period.end() < start);
                v
            }
            None => Vec::new(),
        };
        Ok(Some(
            PlanView::new(Arc::new(stored), latest, approved).with_earlier(Arc::new(earlier)),
        ))
    }

    /// Applies every event committed since the last call. Cheap when there
    /// is none (one query).
    pub async fn catch_up(&self) -> Result<(), StoreError> {
        let _guard = self.catching_up.lock().await;
        let local = self.store.local_commits();
        let seen = self.seen.load(Ordering::Acquire);
        if seen < 0 {
            // First use: everything is read fresh, events so far are history.
            let last = self.store.last_event().await?;
            self.plans.store(Arc::new(HashMap::new()));
            self.seen.store(last, Ordering::Release);
            self.seen_local.store(local, Ordering::Release);
            return Ok(());
        }
        let events = self.store.events_since(seen).await?;
        if let Some(last) = events.last() {
            self.apply(&events).await?;
            self.seen.store(last.seq, Ordering::Release);
        }
        self.seen_local.store(local, Ordering::Release);
        Ok(())
    }

    async fn apply(&self, events: &[Event]) -> Result<(), StoreError> {
        let mut map = HashMap::clone(&self.plans.load());
        let mut registries_changed = false;
        let mut rebuild_engines = false;
        // Value keys changed, per plan.
        let mut values: HashMap<&str, Vec<&str>> = HashMap::new();
        for e in events {
            match e.kind {
                EventKind::Value => values.entry(&e.plan_code).or_default().push(&e.object),
                EventKind::Plan => {
                    map.remove(&e.plan_code);
                }
                EventKind::Record => {
                    registries_changed = true;
                    self.patch_engines(&e.object).await?;
                }
                EventKind::Registry | EventKind::Setting => {
                    registries_changed = true;
                    rebuild_engines = true;
                }
                EventKind::Lock | EventKind::User | EventKind::Case => {}
            }
        }
        if rebuild_engines {
            self.engines.invalidate().await;
        }
        // A plan that follows a changed one reads its history again.
        let changed: std::collections::HashSet<&str> = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Value | EventKind::Plan))
            .map(|e| e.plan_code.as_str())
            .collect();
        map.retain(|_, v| {
            v.stored
                .plan
                .follows
                .as_ref()
                .is_none_or(|f| !changed.contains(f.as_str()))
        });
        for (plan, keys) in values {
            let Some(old) = map.get(plan).cloned() else {
                continue;
            };
            map.insert(
                plan.to_string(),
                Arc::new(self.patch_values(&old, &keys).await?),
            );
        }
        if registries_changed {
            // Computed indicators moved: every plan's snapshots start again.
            for v in map.values_mut() {
                *v = Arc::new(
                    PlanView::of(
                        v.stored.clone(),
                        v.latest.clone(),
                        v.approved_behind.clone(),
                    )
                    .with_earlier(v.earlier.clone()),
                );
            }
        }
        self.plans.store(Arc::new(map));
        let listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        for e in events {
            for f in listeners.iter() {
                f(e);
            }
        }
        Ok(())
    }

    /// A new view with the named keys read again (one query each).
    async fn patch_values(&self, old: &PlanView, keys: &[&str]) -> Result<PlanView, StoreError> {
        let code = old.stored.plan.code.as_str();
        let mut latest: HashMap<Key, ValueRecord> =
            old.latest.iter().map(|r| (key_of(r), r.clone())).collect();
        let mut approved_behind = old.approved_behind.clone();
        let mut done = std::collections::HashSet::new();
        for k in keys {
            if !done.insert(*k) {
                continue;
            }
            let mut parts = k.splitn(3, '/');
            let (Some(ind), Some(scope), Some(period)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (Ok(scope), Ok(period)) = (scope.parse::<Scope>(), period.parse::<Period>()) else {
                continue;
            };
            let (newest, approved) = self.store.key_heads(code, ind, &scope, period).await?;
            let key = (ind.to_string(), scope, period);
            approved_behind.remove(&key);
            match newest {
                None => {
                    latest.remove(&key);
                }
                Some(n) => {
                    if n.status != ValueStatus::Approved
                        && let Some(a) = approved
                    {
                        approved_behind.insert(key.clone(), a);
                    }
                    latest.insert(key, n);
                }
            }
        }
        let mut latest: Vec<ValueRecord> = latest.into_values().collect();
        // The store's order: indicator, scope, period end, period.
        latest.sort_by(|a, b| {
            (
                &a.indicator,
                a.scope.to_string(),
                a.period.end(),
                a.period.to_string(),
            )
                .cmp(&(
                    &b.indicator,
                    b.scope.to_string(),
                    b.period.end(),
                    b.period.to_string(),
                ))
        });
        Ok(PlanView::of(old.stored.clone(), latest, approved_behind)
            .with_earlier(old.earlier.clone()))
    }

    /// Brings one record into every built engine from the database (a save
    /// or delete, possibly by another process). Saving the same record
    /// twice leaves an engine as it was.
    async fn patch_engines(&self, object: &str) -> Result<(), StoreError> {
        let Some((registry, key)) = object.split_once('/') else {
            return Ok(());
        };
        let Some(def) = kc_domain::registry::by_code(registry) else {
            return Ok(());
        };
        let stored = self.store.get_record(registry, key).await?;
        let rec = match &stored {
            Some(s) => match serde_json::from_str::<serde_json::Value>(&s.data) {
                Ok(j) => Some(kc_domain::registry::Record::from_json(def, &j)),
                Err(_) => None,
            },
            None => None,
        };
        for engine in self.engines.built().await {
            let mut e = engine.write().await;
            let r = match &rec {
                Some(rec) => e.upsert(def.code, rec).map(|_| ()),
                None => e.remove(def.code, key).map(|_| ()),
            };
            if let Err(err) = r {
                tracing::warn!(error = %err, registry, "engine could not follow a record change; rebuilding");
                drop(e);
                self.engines.invalidate().await;
                break;
            }
        }
        Ok(())
    }

    /// Follows the changes of other processes: reads the events table every
    /// `every` until the returned task is aborted.
    pub fn follow(self: &Arc<Self>, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match me.store.last_event().await {
                    Ok(last) if last > me.seen.load(Ordering::Acquire) => {
                        if let Err(e) = me.catch_up().await {
                            tracing::warn!(error = %e, "read model could not catch up");
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "read model could not read events"),
                }
            }
        })
    }
}
