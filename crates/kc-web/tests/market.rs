//! The technology market's search over real HTTP, on both backends:
//! listings saved through the API are found at once by Chinese words and
//! bigrams, with filters and escaped highlights; deletions and imports
//! follow; bad searches get a clear message.

#[macro_use]
mod common;

use common::{PLAN, TestApp};
use serde_json::{Value, json};

async fn save(app: &TestApp, registry: &str, body: Value) {
    let r = app
        .http
        .post(app.url(&format!("/api/v1/plans/{PLAN}/registries/{registry}")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert!(
        status == 201 || status == 200,
        "{registry}: {status} {}",
        r.text().await.unwrap()
    );
}

async fn search(app: &TestApp, query: &str) -> Value {
    app.get_json(&format!("/api/v1/plans/{PLAN}/market/search?{query}"))
        .await
}

/// Whether a search or suggestion result holds `key` (the demo's own
/// listings share the vocabulary, so results hold more than the test's).
fn has(j: &Value, key: &str) -> bool {
    keys(j).iter().any(|k| k == key)
}

fn keys(j: &Value) -> Vec<String> {
    j["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["key"].as_str().unwrap().to_string())
        .collect()
}

async fn listings_are_searchable(app: &TestApp) {
    save(app, "demands", json!({
        "number": "XQ-001", "title": "磷酸铁锂正极材料低温性能提升",
        "description": "寻求提高磷酸铁锂电池零下二十度放电容量的技术方案", "field": "新能源与节能",
        "cluster": "新能源", "enterprise": "蚌埠某电池科技有限公司", "status": "已发布", "published_on": "2025-03-01"
    })).await;
    save(
        app,
        "offers",
        json!({
            "number": "CG-001", "title": "高导热石墨烯散热膜<script>alert(1)</script>",
            "abstract": "石墨烯薄膜导热系数超过1500，可用于显示模组散热", "owner": "某大学",
            "owner_type": "高校", "field": "新材料", "cluster": "新型显示", "readiness": "7",
            "area": "gaoxin", "status": "已发布", "published_on": "2025-05-01"
        }),
    )
    .await;
    save(
        app,
        "experts",
        json!({
            "number": "ZJ-001", "name": "张教授", "organization": "某大学", "field": "新能源与节能",
            "expertise": "锂离子电池正极材料与储能系统"
        }),
    )
    .await;
    // Found at once, by a whole technical term, by a part of one (bigrams)
    // and with filters.
    // (The demo's own listings are in the index too.)
    assert!(
        search(app, "q=钠离子电池").await["total"].as_u64().unwrap() > 0,
        "demo listings"
    );
    assert!(has(&search(app, "q=磷酸铁锂").await, "XQ-001"));
    assert!(has(&search(app, "q=铁锂").await, "XQ-001"));
    let j = search(app, "q=正极材料&limit=200").await;
    assert!(has(&j, "XQ-001") && has(&j, "ZJ-001"), "{j}");
    let experts = search(app, "q=正极材料&kind=experts&limit=200").await;
    assert!(has(&experts, "ZJ-001") && !has(&experts, "XQ-001"));
    assert!(has(
        &search(app, "q=散热&readiness=7&area=gaoxin").await,
        "CG-001"
    ));
    assert!(!has(
        &search(app, "q=散热&readiness=8&limit=200").await,
        "CG-001"
    ));
    assert!(!has(
        &search(app, "q=散热&from=2025-06-01&limit=200").await,
        "CG-001"
    ));
    // The page marks the matches and escapes everything else.
    let (status, page) = app
        .get(&format!("/plans/{PLAN}/market/search?q=石墨烯"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("<mark>石墨烯</mark>"), "{page}");
    assert!(!page.contains("<script>alert(1)"), "unescaped title");
    // Punctuation only, too long, bad filters: a clear message.
    for (q, msg) in [
        ("q=，。！", "只有标点符号无法检索"),
        ("q=a&kind=firms", "类别“firms”不正确"),
        ("q=a&readiness=12", "成熟度“12”不正确"),
        ("q=a&from=2025-13-01", "格式不正确"),
    ] {
        let (status, body) = app.get(&format!("/plans/{PLAN}/market/search?{q}")).await;
        assert_eq!(status, 400, "{q}");
        assert!(body.contains(msg), "{q}: {msg}");
    }
    // Matching: the demand's suggestions come with reasons.
    let j = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/market/match?kind=demands&key=XQ-001"
        ))
        .await;
    let found = j["suggestions"].as_array().unwrap();
    assert!(!found.is_empty());
    for s in found {
        let terms = s["terms"].as_array().unwrap();
        assert!(
            !terms.is_empty() || s["same_field"] == true,
            "no reason: {s}"
        );
        assert_ne!(
            s["hit"]["kind"], "demands",
            "a demand gets achievements and experts"
        );
    }
    assert!(
        found.iter().any(|s| s["terms"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "磷酸铁锂")),
        "the shared technical term is named"
    );
    let (status, page) = app
        .get(&format!(
            "/plans/{PLAN}/market/match?kind=demands&key=XQ-001"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("共同词："), "{page}");
    let (status, _) = app
        .get(&format!(
            "/plans/{PLAN}/market/match?kind=experts&key=ZJ-001"
        ))
        .await;
    assert_eq!(status, 400);
    let (status, _) = app
        .get(&format!("/plans/{PLAN}/market/match?kind=demands&key=nope"))
        .await;
    assert_eq!(status, 404);
    let (_, record) = app
        .get(&format!(
            "/plans/{PLAN}/registries/demands/record?key=XQ-001"
        ))
        .await;
    assert!(
        record.contains("id=\"match\""),
        "the record page links to the suggestions"
    );
    // A deletion follows at once.
    let r = app
        .http
        .delete(app.url(&format!(
            "/api/v1/plans/{PLAN}/registries/demands?key=XQ-001"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert!(!has(&search(app, "q=磷酸铁锂&limit=200").await, "XQ-001"));
    // An import is found after it (the index is rebuilt before the next search).
    let csv = "需求编号,需求名称,需求描述,技术领域,需求企业,状态\nXQ-100,碳化硅功率模块封装,新能源汽车电驱用碳化硅模块的封装工艺,电子信息,某汽车部件公司,已发布\n";
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("需求.csv"),
    );
    let r = app
        .http
        .post(app.url(&format!("/plans/{PLAN}/registries/demands/import")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    assert!(has(&search(app, "q=碳化硅功率模块").await, "XQ-100"));
    // The coordinator can rebuild the index; the time is reported.
    let r = app
        .http
        .post(app.url(&format!("/plans/{PLAN}/market/reindex")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("reindexed=")
    );
    assert!(has(&search(app, "q=碳化硅功率模块").await, "XQ-100"));
}

on_both_backends!(listings_are_searchable);
