//! A crash at any moment leaves every stored change with its audit entry
//! and its event, or neither: the server (or an import) is killed with
//! SIGKILL in the middle of its writes, five times on each backend, and the
//! database is counted afterwards.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kc_store::testkit::{self, TestDb};
use kc_store::{AuditFilter, EventKind, Store};

const PLAN: &str = "bengbu-2023-2025";
const ROUNDS: usize = 5;

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_kechuang"))
        .env("KECHUANG_DATA_DIR", data_dir())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start kechuang")
}

fn kill(mut child: Child) {
    // SIGKILL: no shutdown, no cleanup, transactions cut where they stand.
    child.kill().expect("kill -9");
    let _ = child.wait();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn audited(store: &Store, action: &str) -> usize {
    store
        .audit_entries(&AuditFilter {
            action: Some(action.into()),
            limit: 1_000_000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

/// The counts once they stand still. A transaction the killed process had
/// already sent its COMMIT for may still land on the PostgreSQL server after
/// the kill; reading the three counts while it does would compare two
/// moments. (Each transaction itself is whole either way.)
async fn settled<F, Fut>(read: F) -> (usize, usize, usize)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (usize, usize, usize)>,
{
    let mut last = read().await;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = read().await;
        if now == last {
            return now;
        }
        last = now;
    }
    last
}

async fn setup(db: &TestDb) {
    kc_app::load_plan_text(
        &db.store,
        kc_app::BENGBU_PLAN_FILE,
        kc_app::BENGBU_PLAN,
        "test",
    )
    .await
    .unwrap();
    let plan = kc_planfile::parse_plan(kc_app::BENGBU_PLAN_FILE, kc_app::BENGBU_PLAN).unwrap();
    kc_app::auth::load_demo_accounts(&db.store, &plan)
        .await
        .unwrap();
}

/// Fifty writers post values as fast as they can; the server is killed
/// after a random while; stored revisions, their audit entries and their
/// events are counted.
async fn values_survive_kill(db: &TestDb) {
    setup(db).await;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for round in 0..ROUNDS {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let child = spawn(&["serve", "--db", &db.url, "--addr", &addr]);
        let base = format!("http://{addr}");
        let http = reqwest::Client::new();
        let mut up = false;
        for _ in 0..600 {
            if http.get(format!("{base}/healthz")).send().await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(up, "server did not start");
        let r = http
            .post(format!("{base}/api/v1/session"))
            .json(&serde_json::json!({"username": "kjj", "password": "Kechuang@2025"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "login");
        let cookie = r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let csrf = r.json::<serde_json::Value>().await.unwrap()["csrf"]
            .as_str()
            .unwrap()
            .to_string();
        let mut writers = Vec::new();
        for w in 0..50 {
            let (http, base, cookie, csrf) =
                (http.clone(), base.clone(), cookie.clone(), csrf.clone());
            writers.push(tokio::spawn(async move {
                for i in 0.. {
                    let body = serde_json::json!({
                        "plan": PLAN, "indicator": "task_tech_market", "scope": "city",
                        "period": "2025Q1", "value": ((round * 7 + w * 10 + i) % 101) as f64,
                        "note": format!("w{w} #{i}"),
                    });
                    let r = http
                        .post(format!("{base}/api/v1/values"))
                        .header("cookie", &cookie)
                        .header("x-csrf-token", &csrf)
                        .json(&body)
                        .send()
                        .await;
                    if r.is_err() {
                        break;
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(300 + next() % 900)).await;
        kill(child);
        for w in writers {
            let _ = w.await;
        }
        let (values, audits, events) = settled(|| async {
            (
                db.store.count_values(PLAN).await.unwrap() as usize,
                audited(&db.store, "value.").await,
                db.store.count_events(EventKind::Value).await.unwrap() as usize,
            )
        })
        .await;
        eprintln!(
            "{} round {round}: {values} values, {audits} audit entries, {events} events",
            db.label
        );
        assert!(values > 0, "no value was written before the kill");
        assert_eq!(values, audits, "every stored value has its audit entry");
        assert_eq!(values, events, "every stored value has its event");
        let report = db.store.audit_verify().await.unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }
}

/// A large import is killed while it works: either every row and its
/// audit entry and event are stored, or none of them. An import of the
/// same size runs to its end first, to learn how long one takes; the
/// imports that follow are killed at 50% to 95% of that, mostly while they
/// write (checking comes first and is quicker).
async fn import_survives_kill(db: &TestDb) {
    setup(db).await;
    let dir = std::env::temp_dir().join(format!("kc_crash_{}_{}", std::process::id(), db.label));
    std::fs::create_dir_all(&dir).unwrap();
    // 200,000 rows in CI; `KECHUANG_CRASH_ROWS=1000000` for the figures in
    // docs/benchmarks.md.
    let rows: usize = std::env::var("KECHUANG_CRASH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let write = |name: &str, prefix: &str| {
        let mut csv = String::from("活动名称,活动类型,举办日期,举办地区,参加人数\n");
        for i in 0..rows {
            let area = ["蚌山区", "龙子湖区", "高新区", "怀远县"][i % 4];
            csv.push_str(&format!(
                "{prefix}{i},供需对接,2025-03-{:02},{area},{}\n",
                i % 28 + 1,
                i % 500
            ));
        }
        let path = dir.join(name);
        std::fs::write(&path, csv).unwrap();
        path.display().to_string()
    };
    let (measure, file) = (
        write("measure.csv", "测时活动"),
        write("events.csv", "活动"),
    );
    let started = std::time::Instant::now();
    let status = Command::new(env!("CARGO_BIN_EXE_kechuang"))
        .env("KECHUANG_DATA_DIR", data_dir())
        .args(["import", "events", &measure, "--db", &db.url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the measured import failed");
    let full = started.elapsed();
    let base_records = db.store.count_records("events").await.unwrap() as usize;
    let base_audits = audited(&db.store, "record.import").await;
    let base_events = db.store.count_events(EventKind::Registry).await.unwrap() as usize;
    assert_eq!((base_records, base_audits, base_events), (rows, 1, 1));
    for round in 0..ROUNDS {
        let child = spawn(&["import", "events", &file, "--db", &db.url]);
        let at = full.mul_f64(0.5 + 0.45 * round as f64 / (ROUNDS - 1) as f64);
        tokio::time::sleep(at).await;
        let mut c = child;
        let finished = c.try_wait().unwrap().is_some();
        kill(c);
        let (records, audits, events) = settled(|| async {
            (
                db.store.count_records("events").await.unwrap() as usize - base_records,
                audited(&db.store, "record.import").await - base_audits,
                db.store.count_events(EventKind::Registry).await.unwrap() as usize - base_events,
            )
        })
        .await;
        eprintln!(
            "{} import round {round}: killed at {} ms of {} ms (finished before: {finished}), {records} records, {audits} imports audited, {events} events",
            db.label,
            at.as_millis(),
            full.as_millis()
        );
        assert!(
            records == 0 || records == rows,
            "half an import: {records} rows"
        );
        // The import that wrote the rows has its audit entry and its event;
        // a later import of the same rows writes no event (nothing changed)
        // but an audit entry of its own.
        assert_eq!(
            events > 0,
            records == rows,
            "rows stored iff their event is"
        );
        assert!(
            events <= 1 && audits >= events,
            "{audits} audits, {events} events"
        );
        if records == 0 {
            assert_eq!(audits, 0, "an import cut short leaves no audit entry");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_sqlite() {
    let db = testkit::sqlite().await;
    values_survive_kill(&db).await;
    db.cleanup().await;
    let db = testkit::sqlite().await;
    import_survives_kill(&db).await;
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_postgres() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    values_survive_kill(&db).await;
    db.cleanup().await;
    let Some(db) = testkit::postgres().await else {
        return;
    };
    import_survives_kill(&db).await;
    db.cleanup().await;
}

/// The audit key and anchors of this test run's servers: one folder per
/// test process (shared by the servers it starts, as instances on one
/// database share theirs), never the source tree.
fn data_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("kechuang-test-{}", std::process::id()))
}
