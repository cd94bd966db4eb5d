//! The audit trail under its key and anchors, and backup and restore, on
//! each backend (SQLite always, PostgreSQL when `KECHUANG_TEST_PG_URL` is
//! set). The attacks are those of issue 13: someone with write access to the
//! database, but not to the server's files, cuts the newest entries and
//! moves the head back; fakes a retention run; edits an entry and recomputes
//! the chain after it.

use std::path::PathBuf;

use kc_store::testkit::{self, TestDb};
use kc_store::{
    ANCHOR_FILE, AuditFilter, AuditKey, MacCheck, NewAudit, Sealed, Store, StoreError, entry_hash,
};

struct Keyed {
    store: Store,
    key: AuditKey,
    dir: PathBuf,
    label: &'static str,
    url: String,
}

fn temp(name: &str) -> PathBuf {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("kc-audit-{name}-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The test database's store with a new key and its own anchor file, sealed.
async fn keyed(db: &TestDb) -> Keyed {
    let key = AuditKey::generate().unwrap();
    let dir = temp(db.label);
    let store = db
        .store
        .clone()
        .with_audit_key(key.clone(), Some(dir.join(ANCHOR_FILE)));
    assert!(matches!(
        store.seal_audit("test", "local").await.unwrap(),
        Sealed::Now { seq: 1 }
    ));
    Keyed {
        store,
        key,
        dir,
        label: db.label,
        url: db.url.clone(),
    }
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

/// Writes `n` entries; the head is then `n + 1` (the seal is entry 1).
async fn fill(s: &Store, n: usize) {
    for i in 0..n {
        s.audit(&entry(&format!("u{i}"), "login")).await.unwrap();
    }
}

fn assert_clean(r: &kc_store::AuditReport) {
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert!(matches!(r.macs, MacCheck::Checked { .. }), "{:?}", r.macs);
}

async fn entries(s: &Store) -> Vec<kc_store::AuditEntry> {
    let mut e = s.audit_entries(&AuditFilter::default()).await.unwrap();
    e.reverse();
    e
}

async fn honest_log_verifies(k: &Keyed) {
    fill(&k.store, 5).await;
    // Two entries in one commit: one anchor, for the newer.
    let mut tx = k.store.begin().await.unwrap();
    tx.audit(&entry("a", "deal.sign")).await.unwrap();
    tx.commit(&entry("a", "record.save")).await.unwrap();
    let r = k.store.audit_verify().await.unwrap();
    assert_clean(&r);
    assert_eq!((r.entries, r.head_seq, r.anchors), (8, 8, 7));
    // Every entry carries a MAC.
    assert!(entries(&k.store).await.iter().all(|e| e.mac.len() == 64));
    // An anchor lagging the head (a crash between the commit and the
    // anchor's write) is no problem.
    let anchors = k.dir.join(ANCHOR_FILE);
    let text = std::fs::read_to_string(&anchors).unwrap();
    let cut: Vec<&str> = text.lines().collect();
    std::fs::write(&anchors, format!("{}\n", cut[..cut.len() - 2].join("\n"))).unwrap();
    assert_clean(&k.store.audit_verify().await.unwrap());
    // The same database verifies from another handle with the same key.
    let again = k.store.clone().with_audit_key(
        AuditKey::from_hex(&k.key.to_hex()).unwrap(),
        Some(anchors.clone()),
    );
    assert_clean(&again.audit_verify().await.unwrap());
    // Without the key only the chain is checked, and the report says so.
    let r = Store::audit_verify(&keyless(k).await).await.unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert!(matches!(r.macs, MacCheck::NoKey { .. }));
}

/// A handle on the same database without the key.
async fn keyless(k: &Keyed) -> Store {
    Store::connect(&k.url).await.unwrap()
}

async fn tail_truncation_is_caught(k: &Keyed) {
    fill(&k.store, 6).await;
    let e = entries(&k.store).await;
    let keep = &e[4]; // entry 5 of 7
    k.store
        .execute_raw(&format!("DELETE FROM audit_log WHERE seq > {}", keep.seq))
        .await
        .unwrap();
    k.store
        .execute_raw(&format!(
            "UPDATE audit_head SET seq = {}, hash = '{}' WHERE id = 1",
            keep.seq, keep.hash
        ))
        .await
        .unwrap();
    let r = k.store.audit_verify().await.unwrap();
    assert_eq!(r.first_bad, Some(keep.seq + 1), "{:?}", r.problems);
    assert!(
        r.problems[0].contains("锚点文件记到第 7 条") && r.problems[0].contains("最新的记录被删除"),
        "{:?}",
        r.problems
    );
}

async fn fake_prune_is_caught(k: &Keyed) {
    fill(&k.store, 6).await;
    let e = entries(&k.store).await;
    let cut = &e[2]; // entries 1–3 "pruned", minutes old
    k.store
        .execute_raw(&format!("DELETE FROM audit_log WHERE seq <= {}", cut.seq))
        .await
        .unwrap();
    k.store
        .execute_raw(&format!(
            "UPDATE audit_head SET pruned_seq = {}, pruned_hash = '{}' WHERE id = 1",
            cut.seq, cut.hash
        ))
        .await
        .unwrap();
    let r = k.store.audit_verify().await.unwrap();
    assert_eq!(r.first_bad, Some(cut.seq), "{:?}", r.problems);
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("没有与之相符的保存期清理记录")),
        "{:?}",
        r.problems
    );
    // A forged `audit.prune` entry to go with it, hashed correctly but
    // without the key, is caught by its MAC.
    let last = entries(&k.store).await.pop().unwrap();
    let mut forged = kc_store::AuditEntry {
        seq: last.seq + 1,
        at: last.at.clone(),
        actor: "system".into(),
        ip: "local".into(),
        action: "audit.prune".into(),
        object: "audit".into(),
        detail: serde_json::json!({"removed": 3, "through_seq": cut.seq, "through_hash": cut.hash,
            "through_at": "2020-01-01T00:00:00.000Z", "before": "2021-01-01T00:00:00.000Z",
            "retention_days": 180})
        .to_string(),
        prev_hash: last.hash.clone(),
        hash: String::new(),
        mac: "00".repeat(32),
    };
    forged.hash = entry_hash(&forged);
    insert(&k.store, &forged).await;
    let r = k.store.audit_verify().await.unwrap();
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains(&format!("第 {} 条记录的校验码（HMAC）不符", forged.seq))),
        "{:?}",
        r.problems
    );
}

async fn insert(s: &Store, e: &kc_store::AuditEntry) {
    let q = |t: &str| t.replace('\'', "''");
    s.execute_raw(&format!(
        "INSERT INTO audit_log (seq, at, actor, ip, action, object, detail, prev_hash, hash, mac)
         VALUES ({}, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')",
        e.seq,
        q(&e.at),
        q(&e.actor),
        q(&e.ip),
        q(&e.action),
        q(&e.object),
        q(&e.detail),
        e.prev_hash,
        e.hash,
        e.mac
    ))
    .await
    .unwrap();
    s.execute_raw(&format!(
        "UPDATE audit_head SET seq = {}, hash = '{}' WHERE id = 1",
        e.seq, e.hash
    ))
    .await
    .unwrap();
}

async fn an_edit_is_caught_even_with_the_chain_recomputed(k: &Keyed) {
    fill(&k.store, 6).await;
    // Entry 4's detail edited, and every hash from there on recomputed.
    let mut e = entries(&k.store).await;
    e[3].detail = r#"{"before":1,"after":3}"#.into();
    for i in 3..e.len() {
        if i > 3 {
            e[i].prev_hash = e[i - 1].hash.clone();
        }
        e[i].hash = entry_hash(&e[i]);
        k.store
            .execute_raw(&format!(
                "UPDATE audit_log SET detail = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
                e[i].detail, e[i].prev_hash, e[i].hash, e[i].seq
            ))
            .await
            .unwrap();
    }
    let head = e.last().unwrap();
    k.store
        .execute_raw(&format!(
            "UPDATE audit_head SET hash = '{}' WHERE id = 1",
            head.hash
        ))
        .await
        .unwrap();
    let r = k.store.audit_verify().await.unwrap();
    assert_eq!(r.first_bad, Some(4), "{:?}", r.problems);
    assert!(
        r.problems[0].contains("第 4 条记录的校验码（HMAC）不符"),
        "{:?}",
        r.problems
    );
    // A plain edit of one field, hashes untouched.
    k.store
        .execute_raw("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        .await
        .unwrap();
    let r = k.store.audit_verify().await.unwrap();
    assert_eq!(r.first_bad, Some(2), "{:?}", r.problems);
}

async fn young_entries_cannot_be_pruned(k: &Keyed) {
    fill(&k.store, 4).await;
    let now = chrono::Utc::now();
    for (cutoff, days) in [
        (now, 180),
        (now - chrono::Duration::days(179), 180),
        (now - chrono::Duration::days(400), 30),
        (now - chrono::Duration::days(200), 365),
    ] {
        match k.store.prune_audit(cutoff, days, "system", "local").await {
            Err(StoreError::Invalid(m)) => {
                assert!(m.contains("保存期"), "{m}")
            }
            other => panic!("pruning within the retention must be refused: {other:?}"),
        }
    }
    // Nothing is old enough under a lawful cutoff: nothing removed.
    let lawful = now - chrono::Duration::days(180);
    assert_eq!(
        k.store
            .prune_audit(lawful, 180, "system", "local")
            .await
            .unwrap(),
        None
    );
    assert_clean(&k.store.audit_verify().await.unwrap());
}

async fn an_old_log_is_sealed_once(db: &TestDb) {
    // Written before the key existed.
    fill(&db.store, 3).await;
    let key = AuditKey::generate().unwrap();
    let dir = temp("seal");
    let s = db
        .store
        .clone()
        .with_audit_key(key.clone(), Some(dir.join(ANCHOR_FILE)));
    assert_eq!(
        s.seal_audit("t", "local").await.unwrap(),
        Sealed::Now { seq: 4 }
    );
    assert_eq!(s.seal_audit("t", "local").await.unwrap(), Sealed::Already);
    fill(&s, 2).await;
    let r = s.audit_verify().await.unwrap();
    assert_clean(&r);
    assert_eq!(r.head_seq, 6);
    // The entries before the seal are held by the chain up to it.
    s.execute_raw("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
        .await
        .unwrap();
    assert_eq!(s.audit_verify().await.unwrap().first_bad, Some(2));
    s.execute_raw(r#"UPDATE audit_log SET detail = '{"before":1,"after":2}' WHERE seq = 2"#)
        .await
        .unwrap();
    // A handle without the key, or with another, may not write.
    for other in [
        db.store.clone(),
        db.store
            .clone()
            .with_audit_key(AuditKey::generate().unwrap(), None),
    ] {
        match other.audit(&entry("x", "login")).await {
            Err(StoreError::Invalid(m)) => assert!(m.contains(key.id()), "{m}"),
            r => panic!("an entry without the sealing key must be refused: {r:?}"),
        }
        assert!(matches!(
            other.seal_audit("t", "local").await,
            Err(StoreError::Invalid(_)) | Ok(Sealed::Already)
        ));
    }
    // Clearing the seal does not make the log unchecked.
    s.execute_raw("UPDATE audit_head SET key_id = '', db_id = '', sealed_seq = 0 WHERE id = 1")
        .await
        .unwrap();
    let r = s.audit_verify().await.unwrap();
    assert!(
        r.problems.iter().any(|p| p.contains("封存信息被清除")),
        "{:?}",
        r.problems
    );
    let _ = std::fs::remove_dir_all(dir);
}

async fn backup_and_restore(k: &Keyed, targets: [MakeDb; 2]) {
    // Some data in several tables, and the audit trail.
    let plan_text = include_str!("../../../plans/bengbu-2023-2025.toml");
    let plan = kc_planfile::parse_plan("b.toml", plan_text).unwrap();
    k.store.save_plan(&plan, plan_text, "t").await.unwrap();
    k.store
        .create_user(
            &kc_store::NewUser {
                username: "alice".into(),
                display_name: "甲".into(),
                email: String::new(),
                password_hash: "x".into(),
                must_change: true,
            },
            &["coordinator".to_string()],
        )
        .await
        .unwrap();
    fill(&k.store, 3).await;
    let before = k.store.table_counts().await.unwrap();
    let head_before = k.store.audit_verify().await.unwrap();
    assert_clean(&head_before);

    let file = k.dir.join("backup.kcbak");
    let b = k.store.backup_to(&file, "cli:op").await.unwrap();
    assert_eq!(b.tables, before);
    assert_eq!(
        (b.head_seq, b.head_hash.as_str()),
        (head_before.head_seq, head_before.head_hash.as_str())
    );
    // The backup itself is recorded on the source.
    let last = entries(&k.store).await.pop().unwrap();
    assert_eq!((last.seq, last.action.as_str()), (b.entry_seq, "backup"));
    assert!(
        k.store.backup_to(&file, "cli:op").await.is_err(),
        "no overwrite"
    );

    // One file, no journal beside it.
    let names: Vec<String> = std::fs::read_dir(&k.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("backup"))
        .collect();
    assert_eq!(names, vec!["backup.kcbak".to_string()]);

    // Into the same backend and into the other one.
    for target in targets {
        let Some(t) = target.db().await else { continue };
        let dir = temp("restore");
        let ts = t
            .store
            .clone()
            .with_audit_key(k.key.clone(), Some(dir.join(ANCHOR_FILE)));
        let r = ts.restore_from(&file, false, "cli:op").await.unwrap();
        assert_eq!(r.backup_head_seq, head_before.head_seq);
        assert_eq!(r.tables, before, "{} → {}", k.label, t.label);
        let v = ts.audit_verify().await.unwrap();
        assert_clean(&v);
        assert_eq!(v.head_seq, head_before.head_seq + 1);
        let mut counts = ts.table_counts().await.unwrap();
        for (name, n) in counts.iter_mut() {
            if name == "audit_log" {
                *n -= 1; // the restore's own entry
            }
        }
        assert_eq!(counts, before);
        // The chain goes on from the backup's head.
        let e = entries(&ts).await;
        let restored = e.iter().find(|x| x.seq == head_before.head_seq).unwrap();
        assert_eq!(restored.hash, head_before.head_hash);
        let last = e.last().unwrap();
        assert_eq!(last.action, "restore");
        assert_eq!(last.prev_hash, head_before.head_hash);
        // The restored database takes new rows (serial ids continue).
        ts.create_user(
            &kc_store::NewUser {
                username: "bob".into(),
                display_name: "乙".into(),
                email: String::new(),
                password_hash: "x".into(),
                must_change: true,
            },
            &[],
        )
        .await
        .unwrap();
        fill(&ts, 1).await;
        assert_clean(&ts.audit_verify().await.unwrap());
        // Not over data without --force; with it, again clean.
        match ts.restore_from(&file, false, "cli:op").await {
            Err(StoreError::Invalid(m)) => assert!(m.contains("--force"), "{m}"),
            r => panic!("restoring over data must be refused: {r:?}"),
        }
        ts.restore_from(&file, true, "cli:op").await.unwrap();
        let v = ts.audit_verify().await.unwrap();
        assert_clean(&v);
        assert_eq!(v.head_seq, head_before.head_seq + 1);
        // Another key cannot restore it.
        let other = t
            .store
            .clone()
            .with_audit_key(AuditKey::generate().unwrap(), None);
        assert!(other.restore_from(&file, true, "x").await.is_err());
        t.cleanup().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}

enum MakeDb {
    Sqlite,
    Postgres,
}

impl MakeDb {
    async fn db(&self) -> Option<TestDb> {
        match self {
            MakeDb::Sqlite => Some(testkit::sqlite().await),
            MakeDb::Postgres => testkit::postgres().await,
        }
    }
}

async fn run(db: TestDb, case: &str) {
    if case == "sealed_once" {
        an_old_log_is_sealed_once(&db).await;
    } else {
        let k = keyed(&db).await;
        match case {
            "honest" => honest_log_verifies(&k).await,
            "tail" => tail_truncation_is_caught(&k).await,
            "prune" => fake_prune_is_caught(&k).await,
            "edit" => an_edit_is_caught_even_with_the_chain_recomputed(&k).await,
            "young" => young_entries_cannot_be_pruned(&k).await,
            "backup" => {
                let targets = if db.label == "postgres" {
                    [MakeDb::Postgres, MakeDb::Sqlite]
                } else {
                    [MakeDb::Sqlite, MakeDb::Postgres]
                };
                backup_and_restore(&k, targets).await
            }
            _ => unreachable!(),
        }
        let _ = std::fs::remove_dir_all(&k.dir);
    }
    db.cleanup().await;
}

macro_rules! cases {
    ($($name:ident => $case:literal),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "current_thread")]
                async fn $name() {
                    super::run(super::testkit::sqlite().await, $case).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "current_thread")]
                async fn $name() {
                    let Some(db) = super::testkit::postgres().await else {
                        eprintln!("KECHUANG_TEST_PG_URL not set: PostgreSQL case skipped");
                        return;
                    };
                    super::run(db, $case).await;
                }
            )*
        }
    };
}

cases!(
    honest_log_verifies_with_macs_and_anchors => "honest",
    tail_truncation_fails_verify => "tail",
    fake_prune_fails_verify => "prune",
    edited_entry_fails_verify_even_rehashed => "edit",
    young_entries_cannot_be_pruned => "young",
    an_old_log_is_sealed_once => "sealed_once",
    backup_restore_verify_same_head_and_counts => "backup",
);

/// Every audit commit appends one anchor line, and what that costs. CI runs
/// it small; the figure in ARCHITECTURE.md comes from
/// `KECHUANG_ANCHOR_COST_N=2000 cargo test -p kc-store --release --test
/// audit_keyed anchor_cost -- --nocapture`. No timing is asserted.
#[tokio::test(flavor = "current_thread")]
async fn anchor_cost() {
    use std::io::Write;
    let n: usize = std::env::var("KECHUANG_ANCHOR_COST_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let n10 = (n / 10).max(1);
    let dir = temp("cost");
    let line = format!("0123456789abcdef 123456 {}\n", "ab".repeat(32));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("plain.log"))
        .unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        f.write_all(line.as_bytes()).unwrap();
    }
    let plain = t.elapsed() / n as u32;
    let t = std::time::Instant::now();
    for _ in 0..n10 {
        f.write_all(line.as_bytes()).unwrap();
        f.sync_data().unwrap();
    }
    let synced = t.elapsed() / n10 as u32;
    println!("anchor line: O_APPEND write {plain:?}, with fdatasync {synced:?}");
    for db in [Some(testkit::sqlite().await), testkit::postgres().await]
        .into_iter()
        .flatten()
    {
        let key = AuditKey::generate().unwrap();
        let mut per = Vec::new();
        let anchor_file = dir.join(format!("{}.log", db.label));
        for anchors in [None, Some(anchor_file.clone())] {
            let s = db.store.clone().with_audit_key(key.clone(), anchors);
            s.seal_audit("t", "l").await.unwrap();
            let t = std::time::Instant::now();
            fill(&s, n).await;
            per.push(t.elapsed() / n as u32);
        }
        println!(
            "{}: audit commit without anchors {:?}, with anchors {:?}",
            db.label, per[0], per[1]
        );
        let lines = std::fs::read_to_string(&anchor_file)
            .unwrap()
            .lines()
            .count();
        assert!(lines >= n, "{lines} anchor lines for {n} audit commits");
        db.cleanup().await;
    }
    let _ = std::fs::remove_dir_all(dir);
}
