//! Two server processes on one PostgreSQL database stay in step: a value
//! submitted through one is on the other's pages within a second, without
//! the other being told anything but what the database's events say.

mod common;

use std::time::{Duration, Instant};

use common::{PLAN, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_submitted_through_one_server_reaches_the_other() {
    let Some(first) = TestApp::postgres().await else {
        return;
    };
    // The second server: its own connection pool, read model and engines.
    let store = kc_store::Store::connect(&first.db.url).await.unwrap();
    let state = kc_web::AppState::new(store)
        .with_today(chrono::NaiveDate::from_ymd_opt(2025, 10, 20).unwrap());
    let (listener, addr) = kc_web::bind("127.0.0.1:0").await.unwrap();
    let server = tokio::spawn(async move {
        let _ = kc_web::serve_forever(listener, state).await;
    });
    let second = common::signed_in(&format!("http://{addr}"), "kjj").await;
    let target_url = format!("http://{addr}/api/v1/plans/{PLAN}/targets/T6-1?as_of=2025-09-30");
    let value_of = |j: serde_json::Value| j["target"]["value"].as_f64();
    // The second server has read the plan and built the snapshot.
    let before = second.get(&target_url).send().await.unwrap();
    assert_eq!(before.status().as_u16(), 200);
    let before = value_of(before.json().await.unwrap());
    assert_ne!(before, Some(77.0));

    let (status, body) = first
        .post_json(
            "/api/v1/values",
            &serde_json::json!({"plan": PLAN, "indicator": "task_tech_market", "scope": "city",
                                "period": "2025Q3", "value": 77, "note": "两个实例"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let posted = Instant::now();
    let mut seen = None;
    while posted.elapsed() < Duration::from_secs(3) {
        let j: serde_json::Value = second
            .get(&target_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if value_of(j) == Some(77.0) {
            seen = Some(posted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = seen.expect("the second server never showed the value");
    eprintln!("visible on the second server after {} ms", seen.as_millis());
    assert!(
        seen < Duration::from_secs(1),
        "took {} ms",
        seen.as_millis()
    );
    server.abort();
    first.stop().await;
}
