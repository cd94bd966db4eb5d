//! Two server processes on one PostgreSQL database stay in step: a value
//! submitted through one is on the other's overview within a second. Both
//! are the real binary, started as an operator would (`kechuang serve`);
//! they share nothing but the database.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kc_store::testkit;

const PLAN: &str = "bengbu-2023-2025";

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(url: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    // Held by `Server` at once, so that it is killed and waited for however
    // the test ends.
    let server = Server {
        child: Command::new(env!("CARGO_BIN_EXE_kechuang"))
            .env("KECHUANG_DATA_DIR", data_dir())
            .args(["serve", "--db", url, "--addr", &addr])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kechuang serve"),
        base: format!("http://{addr}"),
    };
    let http = reqwest::Client::new();
    for _ in 0..600 {
        if http
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_ok()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not start");
}

/// Signs in as the coordinator; returns the cookie and the CSRF token.
async fn sign_in(http: &reqwest::Client, base: &str) -> (String, String) {
    let r = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "kjj", "password": "Kechuang@2025"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
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
    (cookie, csrf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_posted_to_one_process_is_on_the_others_overview() {
    let Some(db) = testkit::postgres().await else {
        return;
    };
    kc_app::load_demo(&db.store).await.unwrap();
    let a = start(&db.url).await;
    let b = start(&db.url).await;
    let http = reqwest::Client::new();
    let (cookie_a, csrf_a) = sign_in(&http, &a.base).await;
    let (cookie_b, _) = sign_in(&http, &b.base).await;
    let overview = format!("{}/plans/{PLAN}?as_of=2025-09-30", b.base);
    let target = format!(
        "{}/api/v1/plans/{PLAN}/targets/T6-1?as_of=2025-09-30",
        b.base
    );
    let get = |url: String| {
        let (http, cookie) = (http.clone(), cookie_b.clone());
        async move {
            http.get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    // B has built its read model and rendered its overview.
    let before = get(overview.clone()).await;
    assert!(before.contains("T6-1"));
    let r = http
        .post(format!("{}/api/v1/values", a.base))
        .header("cookie", &cookie_a)
        .header("x-csrf-token", &csrf_a)
        .json(
            &serde_json::json!({"plan": PLAN, "indicator": "task_tech_market", "scope": "city",
                                  "period": "2025Q3", "value": 77, "note": "另一个进程"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let posted = Instant::now();
    let mut seen = None;
    while posted.elapsed() < Duration::from_secs(3) {
        let page = get(overview.clone()).await;
        let j: serde_json::Value = serde_json::from_str(&get(target.clone()).await).unwrap();
        if page != before && j["target"]["value"].as_f64() == Some(77.0) {
            seen = Some(posted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = seen.expect("the other process never showed the value");
    eprintln!(
        "on the other process's overview after {} ms",
        seen.as_millis()
    );
    assert!(
        seen < Duration::from_secs(1),
        "took {} ms",
        seen.as_millis()
    );
    drop((a, b));
    db.cleanup().await;
}

/// The audit key and anchors of this test run's servers: one folder per
/// test process (shared by the servers it starts, as instances on one
/// database share theirs), never the source tree.
fn data_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("kechuang-test-{}", std::process::id()))
}
