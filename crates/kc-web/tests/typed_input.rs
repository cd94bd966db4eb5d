//! The JSON API takes typed commands: a body that is not JSON is a 415, a
//! field of the wrong type, an unknown field or a missing one is a 422 that
//! names the field, and nothing is stored in any of these cases.

#[macro_use]
mod common;

use common::{PLAN, TestApp};
use serde_json::json;

async fn send(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let r = app
        .http
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or_default())
}

fn fields(body: &serde_json::Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| f["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn bad_bodies_are_refused_by_name(app: &TestApp) {
    let before = app.db.store.count_values(PLAN).await.unwrap();
    let good = json!({"plan": PLAN, "indicator": "task_tech_market", "scope": "city",
                      "period": "2025Q1", "value": 40, "note": "ok"});
    // Not JSON by its content type: 415, even when the bytes are JSON.
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        let (status, body) = send(app, "/api/v1/values", ct, &good.to_string()).await;
        assert_eq!(status, 415, "{ct}: {body}");
        assert_eq!(body["error"]["code"], "unsupported_media_type");
    }
    // Wrong types, unknown and out-of-range fields: 422 naming each.
    let cases = [
        (json!({"submit": "false"}), "submit"),
        (json!({"submit": 0}), "submit"),
        (json!({"expected_revision": -1}), "expected_revision"),
        (json!({"expected_revision": "1"}), "expected_revision"),
        (json!({"note": 5}), "note"),
        (json!({"value": [1, 2]}), "value"),
        (json!({"valeu": 3}), "valeu"),
    ];
    for (patch, field) in cases {
        let mut body = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (status, answer) =
            send(app, "/api/v1/values", "application/json", &body.to_string()).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(fields(&answer), vec![field.to_string()], "{body}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or("");
        assert!(message.contains(field), "{message}");
    }
    // Broken JSON: 400 with the place.
    let (status, answer) = send(app, "/api/v1/values", "application/json", "{\"plan\": ").await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("第 1 行")
    );
    assert_eq!(
        app.db.store.count_values(PLAN).await.unwrap(),
        before,
        "nothing stored"
    );
    // The good body with a number given as text still works, and a draft.
    let mut draft = good.clone();
    draft["value"] = json!("40.5");
    draft["submit"] = json!(false);
    let (status, answer) = send(
        app,
        "/api/v1/values",
        "application/json; charset=utf-8",
        &draft.to_string(),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["value"]["status"], "draft");
    // Review: the action is one of two words.
    let id = answer["value"]["id"].as_i64().unwrap();
    let (status, answer) = send(
        app,
        &format!("/api/v1/values/{id}/review"),
        "application/json",
        r#"{"action": "approved"}"#,
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(fields(&answer), vec!["action".to_string()]);
    // A registry record: a field the registry lacks is named.
    let (status, answer) = send(
        app,
        &format!("/api/v1/plans/{PLAN}/registries/events"),
        "application/json",
        r#"{"name": "路演", "type": "成果路演", "held_on": "2025-03-01", "area": "longzihu", "colour": "red"}"#,
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(fields(&answer), vec!["colour".to_string()]);
    let (status, _) = send(
        app,
        &format!("/api/v1/plans/{PLAN}/registries/events"),
        "text/plain",
        r#"{"name": "路演"}"#,
    )
    .await;
    assert_eq!(status, 415);
    // Signing in takes JSON only, with exactly its two fields.
    let anon = app.anonymous();
    let r = anon
        .post(app.url("/api/v1/session"))
        .header("content-type", "text/plain")
        .body(r#"{"username":"kjj","password":"Kechuang@2025"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    let r = anon
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "kjj", "password": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
}

on_both_backends!(bad_bodies_are_refused_by_name);
