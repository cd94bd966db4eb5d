//! One behaviour suite for every storage backend. Each case runs on SQLite
//! always and on PostgreSQL when `KECHUANG_TEST_PG_URL` is set (CI sets it and
//! `KECHUANG_REQUIRE_PG=1`, so there it cannot be skipped).

use kc_domain::duty::ValueStatus;
use kc_domain::{Period, Scope, Vintage};
use kc_store::testkit::{self, TestDb};
use kc_store::{AuditFilter, NewAudit, NewUser, NewValue, Store, StoreError};

const PLAN_V1: &str = r#"
[plan]
code = "demo"
name = "测试规划"
city = "测试市"
start = 2023-01-01
end = 2025-12-31
levels = ["工程", "行动"]

[[area]]
code = "a1"
name = "甲区"

[[indicator]]
code = "hte"
name = "高新技术企业数"
unit = "家"

[[node]]
code = "P1"
name = "工程一"

[[target]]
code = "T1"
name = "高企数"
node = "P1"
indicator = "hte"
kind = "stock"
target = 1200
"#;

fn plan(text: &str) -> kc_domain::Plan {
    kc_planfile::parse_plan("test.toml", text).expect("test plan parses")
}

fn value(period: &str, v: f64) -> NewValue {
    NewValue {
        plan_code: "demo".into(),
        indicator: "hte".into(),
        scope: Scope::City,
        period: period.parse().unwrap(),
        value: v,
        unit: "家".into(),
        note: String::new(),
        vintage: Vintage::Provisional,
        entered_by: "tester".into(),
        status: ValueStatus::Approved,
        correction: false,
        entered_at: None,
    }
}

async fn plan_versions_are_kept(s: &Store) {
    let v1 = s
        .save_plan(&plan(PLAN_V1), PLAN_V1, "tester")
        .await
        .unwrap();
    assert!(v1.created);
    assert_eq!(v1.version.version, 1);
    let again = s
        .save_plan(&plan(PLAN_V1), PLAN_V1, "tester")
        .await
        .unwrap();
    assert!(!again.created, "the same text must not add a version");
    let text2 = PLAN_V1.replace("target = 1200", "target = 1300");
    let v2 = s.save_plan(&plan(&text2), &text2, "tester").await.unwrap();
    assert!(v2.created);
    assert_eq!(v2.version.version, 2);
    let versions = s.plan_versions("demo").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    let latest = s.plan("demo").await.unwrap().unwrap();
    assert_eq!(latest.version.version, 2);
    assert_eq!(
        latest.plan.targets[0].value,
        kc_domain::plan::TargetValue::Number { value: 1300.0 }
    );
    assert_eq!(
        s.plan_source("demo", 1).await.unwrap().as_deref(),
        Some(PLAN_V1)
    );
    assert_eq!(s.plans().await.unwrap().len(), 1);
    assert!(s.plan("nope").await.unwrap().is_none());
}

async fn corrections_are_new_revisions(s: &Store) {
    let r1 = s.append_value(&value("2024Q1", 800.0), None).await.unwrap();
    assert_eq!(r1.revision, 1);
    let r2 = s.append_value(&value("2024Q1", 810.0), None).await.unwrap();
    assert_eq!(r2.revision, 2);
    s.append_value(&value("2024Q2", 850.0), None).await.unwrap();
    let latest = s.latest_values("demo").await.unwrap();
    assert_eq!(latest.len(), 2);
    assert_eq!(latest[0].period, Period::Quarter(2024, 1));
    assert_eq!(latest[0].value, 810.0);
    assert_eq!(latest[1].value, 850.0);
    let hist = s
        .value_history("demo", "hte", &Scope::City, Period::Quarter(2024, 1))
        .await
        .unwrap();
    assert_eq!(
        hist.iter().map(|h| h.value).collect::<Vec<_>>(),
        vec![810.0, 800.0]
    );
    assert_eq!(s.count_values("demo").await.unwrap(), 3);
    assert_eq!(s.indicator_values("demo", "hte").await.unwrap().len(), 2);
}

async fn stale_writer_is_told_the_newer_value(s: &Store) {
    let first = s
        .append_value(&value("2024", 900.0), Some(0))
        .await
        .unwrap();
    assert_eq!(first.revision, 1);
    s.append_value(&value("2024", 905.0), Some(1))
        .await
        .unwrap();
    match s.append_value(&value("2024", 910.0), Some(1)).await {
        Err(StoreError::Conflict { current }) => {
            assert_eq!(current.revision, 2);
            assert_eq!(current.value, 905.0);
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // A first write that expects an existing value also conflicts… once a value exists.
    assert!(matches!(
        s.append_value(&value("2024", 1.0), Some(0)).await,
        Err(StoreError::Conflict { .. })
    ));
    let latest = s.latest_values("demo").await.unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].value, 905.0);
}

async fn concurrent_writers_get_distinct_revisions(s: &Store) {
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.append_value(&value("2025-03", f64::from(i)), None).await
        }));
    }
    let mut revs = Vec::new();
    for t in tasks {
        revs.push(t.await.unwrap().expect("append succeeds").revision);
    }
    revs.sort();
    assert_eq!(revs, (1..=8).collect::<Vec<i64>>());
}

async fn bulk_append_is_all_or_nothing(s: &Store) {
    let good: Vec<NewValue> = ["2023", "2024"].iter().map(|p| value(p, 1.0)).collect();
    assert_eq!(s.append_values(&good).await.unwrap(), 2);
    // One value the store refuses (not a finite number) aborts the batch.
    let mut bad = vec![value("2023-01", 1.0), value("2023-02", 2.0)];
    bad[1].value = f64::NAN;
    assert!(s.append_values(&bad).await.is_err());
    assert_eq!(s.count_values("demo").await.unwrap(), 2);
}

async fn scopes_are_kept_apart(s: &Store) {
    let mut a = value("2024", 10.0);
    a.scope = Scope::Area("a1".parse().unwrap());
    s.append_value(&a, None).await.unwrap();
    s.append_value(&value("2024", 99.0), None).await.unwrap();
    let latest = s.latest_values("demo").await.unwrap();
    assert_eq!(latest.len(), 2);
    assert!(
        latest
            .iter()
            .any(|v| v.scope == Scope::City && v.value == 99.0)
    );
    assert!(
        latest
            .iter()
            .any(|v| matches!(&v.scope, Scope::Area(c) if c.as_str() == "a1") && v.value == 10.0)
    );
}

async fn reconnect_keeps_data(db: &TestDb) {
    db.store
        .append_value(&value("2024", 1.0), None)
        .await
        .unwrap();
    // Connecting again runs the migrations again, which must be a no-op.
    let again = Store::connect(&db.url).await.unwrap();
    assert_eq!(again.count_values("demo").await.unwrap(), 1);
    again.close().await;
}

async fn registry_records_upsert_by_key(s: &Store) {
    let rec = |k: &str, data: &str| kc_store::StoredRecord {
        key: k.into(),
        area: "a1".into(),
        data: data.into(),
    };
    // More rows than one INSERT statement holds.
    let many: Vec<_> = (0..1000)
        .map(|i| rec(&format!("K{i}"), &format!("{{\"n\":{i}}}")))
        .collect();
    assert_eq!(
        s.upsert_records("enterprises", &many, "t").await.unwrap(),
        1000
    );
    assert_eq!(s.count_records("enterprises").await.unwrap(), 1000);
    // Re-importing replaces by key instead of duplicating.
    s.upsert_records("enterprises", &[rec("K7", "{\"n\":\"seven\"}")], "t")
        .await
        .unwrap();
    assert_eq!(s.count_records("enterprises").await.unwrap(), 1000);
    assert_eq!(
        s.get_record("enterprises", "K7")
            .await
            .unwrap()
            .unwrap()
            .data,
        "{\"n\":\"seven\"}"
    );
    assert_eq!(s.count_records("contracts").await.unwrap(), 0);
    let mut seen = 0;
    s.for_each_record("enterprises", |_| seen += 1)
        .await
        .unwrap();
    assert_eq!(seen, 1000);
    assert!(s.delete_record("enterprises", "K7").await.unwrap());
    assert!(!s.delete_record("enterprises", "K7").await.unwrap());
    assert!(s.get_record("enterprises", "K7").await.unwrap().is_none());
    assert_eq!(s.setting("registries_as_of").await.unwrap(), None);
    s.set_setting("registries_as_of", "2025-09-30")
        .await
        .unwrap();
    s.set_setting("registries_as_of", "2025-10-31")
        .await
        .unwrap();
    assert_eq!(
        s.setting("registries_as_of").await.unwrap().as_deref(),
        Some("2025-10-31")
    );
}

fn entry(actor: &str, action: &str) -> NewAudit {
    NewAudit {
        actor: actor.into(),
        ip: "127.0.0.1".into(),
        action: action.into(),
        object: "user:x".into(),
        detail: r#"{"before":1,"after":2}"#.into(),
    }
}

async fn verify_problems(s: &Store) -> Vec<String> {
    s.audit_verify().await.unwrap().problems
}

async fn audit_chain_detects_changes_and_deletions(s: &Store) {
    for i in 0..6 {
        s.audit(&entry(&format!("u{i}"), "login")).await.unwrap();
    }
    let r = s.audit_verify().await.unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!((r.entries, r.head_seq), (6, 6));
    // Filters: by actor, by action prefix (with no wildcard meaning).
    let f = AuditFilter {
        actor: Some("u3".into()),
        ..AuditFilter::default()
    };
    assert_eq!(s.audit_entries(&f).await.unwrap().len(), 1);
    let f = AuditFilter {
        action: Some("log".into()),
        ..AuditFilter::default()
    };
    assert_eq!(s.audit_entries(&f).await.unwrap().len(), 6);
    let f = AuditFilter {
        action: Some("l_g".into()),
        ..AuditFilter::default()
    };
    assert!(s.audit_entries(&f).await.unwrap().is_empty());

    // An edited detail.
    s.execute_raw("UPDATE audit_log SET detail = '{}' WHERE seq = 3")
        .await
        .unwrap();
    let p = verify_problems(s).await;
    assert!(
        p.iter().any(|m| m.contains("第 3 条记录的内容被改动")),
        "{p:?}"
    );
    s.execute_raw(r#"UPDATE audit_log SET detail = '{"before":1,"after":2}' WHERE seq = 3"#)
        .await
        .unwrap();
    assert!(verify_problems(s).await.is_empty());
    // An edit with the hash recomputed for that entry alone breaks the link
    // to the next one.
    let e = s.audit_entries(&AuditFilter::default()).await.unwrap();
    let mut third = e.iter().find(|x| x.seq == 3).unwrap().clone();
    third.actor = "mallory".into();
    let h = kc_store::entry_hash(&third);
    s.execute_raw(&format!(
        "UPDATE audit_log SET actor = 'mallory', hash = '{h}' WHERE seq = 3"
    ))
    .await
    .unwrap();
    let p = verify_problems(s).await;
    assert!(
        p.iter().any(|m| m.contains("第 4 条记录与前一条不衔接")),
        "{p:?}"
    );
    // A deleted entry in the middle, and the newest one.
    s.execute_raw("DELETE FROM audit_log WHERE seq = 2")
        .await
        .unwrap();
    let p = verify_problems(s).await;
    assert!(
        p.iter().any(|m| m.contains("第 2 条至第 2 条记录缺失")),
        "{p:?}"
    );
    s.execute_raw("DELETE FROM audit_log WHERE seq = 6")
        .await
        .unwrap();
    let p = verify_problems(s).await;
    assert!(p.iter().any(|m| m.contains("最新的记录被删除")), "{p:?}");
}

async fn audit_retention_keeps_the_chain(s: &Store) {
    for i in 0..4 {
        s.audit(&entry(&format!("u{i}"), "login")).await.unwrap();
    }
    // Entries 1 and 2 are made old; pruning removes them and the rest of
    // the chain still verifies from the remembered hash.
    s.execute_raw("UPDATE audit_log SET at = '2020-01-01T00:00:00.000Z' WHERE seq <= 2")
        .await
        .unwrap();
    // The edit above breaks their hashes; pruning removes exactly them and
    // records itself.
    let cutoff = "2021-01-01T00:00:00Z".parse().unwrap();
    let p = s.prune_audit(cutoff, 180, "system", "local").await.unwrap();
    assert_eq!(p.map(|p| (p.removed, p.through_seq)), Some((2, 2)));
    let r = s.audit_verify().await.unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.entries, 3);
    s.audit(&entry("u9", "login")).await.unwrap();
    assert!(verify_problems(s).await.is_empty());
}

async fn concurrent_audit_appends_keep_one_chain(s: &Store) {
    let mut tasks = Vec::new();
    for i in 0..20 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.audit(&entry(&format!("w{i}"), "value.submit")).await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let r = s.audit_verify().await.unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.entries, 20);
}

async fn review_states_move_once(s: &Store) {
    s.save_plan(&plan(PLAN_V1), PLAN_V1, "t").await.unwrap();
    let mut v = value("2024Q1", 700.0);
    v.status = ValueStatus::Submitted;
    let rec = s.append_value(&v, None).await.unwrap();
    assert_eq!(rec.status, ValueStatus::Submitted);
    // Pending values are the latest visible; the official one is absent.
    assert_eq!(s.latest_values("demo").await.unwrap().len(), 1);
    assert!(s.approved_values("demo").await.unwrap().is_empty());
    let from = [ValueStatus::Submitted];
    let done = s
        .set_value_status(rec.id, &from, ValueStatus::Approved, "rev", "好")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (done.status, done.reviewed_by.as_str()),
        (ValueStatus::Approved, "rev")
    );
    // A second reviewer comes too late.
    assert!(
        s.set_value_status(rec.id, &from, ValueStatus::Returned, "rev2", "晚了")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(s.approved_values("demo").await.unwrap().len(), 1);
    // A draft of a correction does not replace the official value anywhere.
    let mut d = value("2024Q1", 710.0);
    d.status = ValueStatus::Draft;
    s.append_value(&d, None).await.unwrap();
    let latest = s.latest_values("demo").await.unwrap();
    assert_eq!(latest[0].value, 700.0);
    let newest = s.newest_values("demo").await.unwrap();
    assert_eq!(newest[0].0.value, 710.0);
    assert!(newest[0].1.is_some(), "first submission time is kept");
    let events = s.value_events(&[rec.id]).await.unwrap();
    assert_eq!(events.len(), 1);
    assert!(
        s.lock_period("demo", "2024Q1".parse().unwrap(), "kjj")
            .await
            .unwrap()
    );
    assert!(
        !s.lock_period("demo", "2024Q1".parse().unwrap(), "kjj")
            .await
            .unwrap()
    );
    assert_eq!(s.locked_periods("demo").await.unwrap().len(), 1);
}

async fn accounts_sessions_and_files(s: &Store) {
    let u = s
        .create_user(
            &NewUser {
                username: "alice".into(),
                display_name: "爱丽丝".into(),
                email: "alice@example.gov.cn".into(),
                password_hash: "$argon2id$x".into(),
                must_change: true,
            },
            &["area_reporter:a1".into(), "leader".into()],
        )
        .await
        .unwrap();
    assert_eq!(
        u.roles,
        vec!["area_reporter:a1".to_string(), "leader".to_string()]
    );
    let dup = s
        .create_user(
            &NewUser {
                username: "alice".into(),
                display_name: String::new(),
                email: String::new(),
                password_hash: String::new(),
                must_change: false,
            },
            &[],
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Invalid(_))), "{dup:?}");
    // Failed logins count up and lock at the threshold.
    assert_eq!(
        s.record_failed_login(u.id, 3, "2999-01-01T00:00:00.000Z")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.record_failed_login(u.id, 3, "2999-01-01T00:00:00.000Z")
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        s.record_failed_login(u.id, 3, "2999-01-01T00:00:00.000Z")
            .await
            .unwrap(),
        3
    );
    let locked = s.user("alice").await.unwrap().unwrap();
    assert!(locked.locked_until.is_some());
    s.record_login(u.id).await.unwrap();
    assert!(
        s.user("alice")
            .await
            .unwrap()
            .unwrap()
            .locked_until
            .is_none()
    );
    // Sessions.
    s.create_session("h1", u.id, "c1", "10.0.0.1")
        .await
        .unwrap();
    s.create_session("h2", u.id, "c2", "10.0.0.2")
        .await
        .unwrap();
    let sess = s.session("h1").await.unwrap().unwrap();
    assert_eq!(
        (sess.user.username.as_str(), sess.csrf.as_str()),
        ("alice", "c1")
    );
    assert_eq!(sess.user.roles.len(), 2);
    assert_eq!(s.delete_sessions_of(u.id).await.unwrap(), 2);
    assert!(s.session("h1").await.unwrap().is_none());
    // Notifications.
    s.notify(u.id, "催报", "请报送", "/x").await.unwrap();
    let n = s.notifications(u.id, 10).await.unwrap();
    assert_eq!((n.len(), n[0].read), (1, false));
    s.mark_notifications_read(u.id).await.unwrap();
    assert!(s.notifications(u.id, 10).await.unwrap()[0].read);
    // Files: stored once per content, read back byte for byte.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let mut tx = s.begin().await.unwrap();
    let a = tx
        .attach(1, "证明.pdf", "application/pdf", &bytes, "alice")
        .await
        .unwrap();
    let b = tx
        .attach(2, "副本.pdf", "application/pdf", &bytes, "alice")
        .await
        .unwrap();
    tx.commit(&audit_of("value.attach")).await.unwrap();
    assert_eq!(a.sha256, b.sha256);
    let (meta, back) = s.attachment(b.id).await.unwrap().unwrap();
    assert_eq!((meta.filename.as_str(), back), ("副本.pdf", bytes));
    assert_eq!(s.attachments_of(&[1, 2]).await.unwrap().len(), 2);
}

fn audit_of(action: &str) -> kc_store::NewAudit {
    kc_store::NewAudit {
        actor: "alice".into(),
        ip: "127.0.0.1".into(),
        action: action.into(),
        object: "x".into(),
        detail: "{}".into(),
    }
}

/// A unit of work: the change, its events and its audit entry are stored
/// together, or (dropped before commit) none of them.
async fn unit_of_work(s: &Store) {
    use kc_store::EventKind;
    let v = kc_store::NewValue {
        plan_code: "demo".into(),
        indicator: "rd".into(),
        scope: kc_domain::Scope::City,
        period: "2024".parse().unwrap(),
        value: 1.5,
        unit: "%".into(),
        note: String::new(),
        vintage: kc_domain::Vintage::Official,
        entered_by: "alice".into(),
        status: kc_domain::duty::ValueStatus::Submitted,
        correction: false,
        entered_at: None,
    };
    let before = s.last_event().await.unwrap();
    // Dropped without a commit: nothing stays.
    {
        let mut tx = s.begin().await.unwrap();
        tx.append_value(&v, None).await.unwrap();
    }
    assert_eq!(s.count_values("demo").await.unwrap(), 0);
    assert_eq!(s.last_event().await.unwrap(), before);
    assert_eq!(s.audit_verify().await.unwrap().entries, 0);
    // Committed: value, event and audit entry.
    let mut tx = s.begin().await.unwrap();
    let rec = tx.append_value(&v, Some(0)).await.unwrap();
    tx.value_event(rec.id, "submitted", "alice", "")
        .await
        .unwrap();
    let e = tx.commit(&audit_of("value.submit")).await.unwrap();
    assert_eq!(s.count_values("demo").await.unwrap(), 1);
    let events = s.events_since(before).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].kind, events[0].object.as_str()),
        (EventKind::Value, "rd/city/2024")
    );
    assert!(events[0].seq > before);
    assert_eq!(s.last_event().await.unwrap(), events[0].seq);
    let report = s.audit_verify().await.unwrap();
    assert_eq!((report.entries, report.head_seq), (1, e.seq));
    assert!(report.problems.is_empty());
    // A stale expectation is a conflict carrying the newer value, and
    // leaves the transaction usable for nothing else: dropped, it is gone.
    let mut tx = s.begin().await.unwrap();
    match tx.append_value(&v, Some(0)).await {
        Err(kc_store::StoreError::Conflict { current }) => assert_eq!(current.revision, 1),
        other => panic!("expected a conflict, got {other:?}"),
    }
    drop(tx);
    // A review of a revision that is no longer the newest moves nothing.
    let mut tx = s.begin().await.unwrap();
    tx.append_value(&v, Some(1)).await.unwrap();
    tx.commit(&audit_of("value.submit")).await.unwrap();
    let mut tx = s.begin().await.unwrap();
    let moved = tx
        .set_value_status(
            rec.id,
            &[kc_domain::duty::ValueStatus::Submitted],
            kc_domain::duty::ValueStatus::Approved,
            "bob",
            "",
        )
        .await
        .unwrap();
    assert!(moved.is_none(), "an older revision must not be approved");
    assert_eq!(s.count_events(EventKind::Value).await.unwrap(), 2);
}

macro_rules! behaviour {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let db = super::testkit::sqlite().await;
                    super::$case(&db.store).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = super::testkit::postgres().await else {
                        eprintln!("KECHUANG_TEST_PG_URL not set: PostgreSQL case skipped");
                        return;
                    };
                    super::$case(&db.store).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

behaviour!(
    plan_versions_are_kept,
    corrections_are_new_revisions,
    stale_writer_is_told_the_newer_value,
    concurrent_writers_get_distinct_revisions,
    bulk_append_is_all_or_nothing,
    scopes_are_kept_apart,
    registry_records_upsert_by_key,
    audit_chain_detects_changes_and_deletions,
    audit_retention_keeps_the_chain,
    concurrent_audit_appends_keep_one_chain,
    review_states_move_once,
    accounts_sessions_and_files,
    unit_of_work,
);

#[tokio::test]
async fn reconnect_keeps_data_sqlite() {
    let db = testkit::sqlite().await;
    reconnect_keeps_data(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn reconnect_keeps_data_postgres() {
    if let Some(db) = testkit::postgres().await {
        reconnect_keeps_data(&db).await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn unknown_scheme_is_an_error() {
    assert!(matches!(
        Store::connect("mysql://localhost/x").await,
        Err(StoreError::UnsupportedUrl(_))
    ));
}

#[tokio::test]
async fn unreachable_server_names_the_url_without_password() {
    let err = Store::connect("postgres://kc:secret@127.0.0.1:1/kc")
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("postgres://kc:***@127.0.0.1:1/kc"), "{text}");
    assert!(!text.contains("secret"), "{text}");
}
