//! The web server over real HTTP, on each storage backend: pages render,
//! the API answers, bad input gets a clear 4xx and stores nothing.

#[macro_use]
mod common;

use common::{PLAN, TestApp};
use serde_json::json;

async fn pages_render(app: &TestApp) {
    let (status, home) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("蚌埠市加快建设科技强市三年行动方案"));
    let (status, overview) = app.get(&format!("/plans/{PLAN}")).await;
    assert_eq!(status, 200);
    let plan = kc_planfile::parse_plan("b", kc_app::BENGBU_PLAN).unwrap();
    // Every programme, action and target is on the overview.
    for n in &plan.nodes {
        assert!(overview.contains(&n.name), "overview lacks {}", n.name);
    }
    for t in &plan.targets {
        assert!(
            overview.contains(&format!("/targets/{}?", t.code)),
            "overview lacks {}",
            t.code
        );
        let (status, page) = app.get(&format!("/plans/{PLAN}/targets/{}", t.code)).await;
        assert_eq!(status, 200, "target page {}", t.code);
        assert!(page.contains("<svg"), "target {} has no chart", t.code);
    }
    for n in &plan.nodes {
        let (status, _) = app.get(&format!("/plans/{PLAN}/nodes/{}", n.code)).await;
        assert_eq!(status, 200, "node page {}", n.code);
    }
    // An area's view of the plan.
    let (status, area) = app.get(&format!("/plans/{PLAN}?scope=area:longzihu")).await;
    assert_eq!(status, 200);
    assert!(area.contains("龙子湖区"));
    for path in [
        format!("/plans/{PLAN}/versions"),
        format!("/plans/{PLAN}/versions/1/source"),
        format!("/plans/{PLAN}/values/new"),
        format!(
            "/plans/{PLAN}/values/history?indicator=hv_patents_per_10k&scope=city&period=2024Q4"
        ),
        "/static/style.css".to_string(),
        "/healthz".to_string(),
    ] {
        assert_eq!(app.get(&path).await.0, 200, "{path}");
    }
}

async fn unknown_things_are_404_and_bad_params_400(app: &TestApp) {
    for path in [
        "/plans/nope".to_string(),
        format!("/plans/{PLAN}/targets/T99"),
        format!("/plans/{PLAN}/nodes/X"),
        format!("/plans/{PLAN}?scope=area:nowhere"),
        format!("/plans/{PLAN}/versions/9/source"),
        "/no/such/page".to_string(),
        "/static/../Cargo.toml".to_string(),
    ] {
        let (status, body) = app.get(&path).await;
        assert_eq!(status, 404, "{path}");
        assert!(
            body.contains("lang=\"zh-CN\""),
            "{path} error page is not the Chinese page"
        );
    }
    for path in [
        format!("/plans/{PLAN}?as_of=2025-13-01"),
        format!("/plans/{PLAN}?scope=town:x"),
        format!("/plans/{PLAN}/values/history?indicator=hte_count&scope=city&period=2025Q9"),
    ] {
        let (status, body) = app.get(&path).await;
        assert_eq!(status, 400, "{path}");
        assert!(body.contains("格式不正确"), "{path}: {body}");
    }
    let r = app
        .http
        .get(app.url(&format!("/api/v1/plans/{PLAN}/targets?as_of=yesterday")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let j: serde_json::Value = r.json().await.unwrap();
    assert_eq!(j["error"]["code"], "bad_request");
    assert_eq!(app.get("/api/v1/plans/nope").await.0, 404);
}

async fn api_reports_progress_as_of_a_date(app: &TestApp) {
    let r = app.get_json("/api/v1/plans").await;
    assert_eq!(r["plans"][0]["code"], PLAN);
    let plan = app.get_json(&format!("/api/v1/plans/{PLAN}")).await;
    assert_eq!(plan["tree"].as_array().unwrap().len(), 5);
    let now = app.get_json(&format!("/api/v1/plans/{PLAN}/targets")).await;
    // The default as-of date is the end of the latest data.
    assert_eq!(now["as_of"], "2025-09-30");
    let targets = now["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 39);
    let total: u64 = now["status_counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, 39);
    let hte = |j: &serde_json::Value| {
        j["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["code"] == "T3-2")
            .unwrap()
            .clone()
    };
    let h = hte(&now);
    for key in [
        "code",
        "name",
        "kind",
        "target",
        "unit",
        "deadline",
        "status",
        "value",
        "expected",
        "completion",
        "lag",
    ] {
        assert!(h.get(key).is_some(), "target lacks {key}");
    }
    let earlier = app
        .get_json(&format!("/api/v1/plans/{PLAN}/targets?as_of=2024-06-30"))
        .await;
    assert_eq!(earlier["as_of"], "2024-06-30");
    assert_eq!(hte(&earlier)["value_date"], "2024-06-30");
    assert!(hte(&earlier)["value"].as_f64().unwrap() < h["value"].as_f64().unwrap());
    let one = app
        .get_json(&format!("/api/v1/plans/{PLAN}/targets/T3-2"))
        .await;
    assert!(one["target"]["points"].as_array().unwrap().len() >= 10);
    // Long before the plan began there is no data, and the API says so.
    let before = app
        .get_json(&format!("/api/v1/plans/{PLAN}/targets?as_of=2021-06-30"))
        .await;
    assert_eq!(before["status_counts"]["no_data"], 39);
}

async fn api_values_are_validated_and_revised(app: &TestApp) {
    let count = || async { app.db.store.count_values(PLAN).await.unwrap() };
    let before = count().await;
    let good = json!({ "plan": PLAN, "indicator": "st_loan_growth", "scope": "area:longzihu", "period": "2025Q3", "value": 2.95, "note": "统计快报", "vintage": "provisional" });
    let (status, body) = app.post_json("/api/v1/values", &good).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["value"]["revision"], 1);
    // A correction is a new revision; the first is kept.
    let (status, body) = app.post_json("/api/v1/values", &json!({ "plan": PLAN, "indicator": "st_loan_growth", "scope": "area:longzihu", "period": "2025Q3", "value": "2.97", "expected_revision": 1 })).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["value"]["revision"], 2);
    let hist = app.get_json(&format!("/api/v1/values?plan={PLAN}&indicator=st_loan_growth&scope=area:longzihu&period=2025Q3&history=1")).await;
    let values: Vec<f64> = hist["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, vec![2.97, 2.95]);
    // A stale writer is told the newer value and nothing is stored.
    let (status, body) = app.post_json("/api/v1/values", &json!({ "plan": PLAN, "indicator": "st_loan_growth", "scope": "area:longzihu", "period": "2025Q3", "value": 3.1, "expected_revision": 1 })).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["current"]["value"], 2.97);
    assert_eq!(count().await, before + 2);

    // Bad input: a clear 4xx and nothing stored.
    let cases = [
        (
            json!({ "plan": PLAN, "indicator": "nope", "period": "2025", "value": 1 }),
            422,
            "indicator",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "period": "2030Q1", "value": 1 }),
            422,
            "period",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "period": "2022", "value": 1 }),
            422,
            "period",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "period": "2025Q4", "value": 1 }),
            422,
            "period",
        ),
        (
            json!({ "plan": PLAN, "indicator": "rd_intensity", "period": "2025", "value": 3 }),
            422,
            "period",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "period": "2025Q1", "value": "NaN" }),
            422,
            "value",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "period": "last year", "value": 1 }),
            422,
            "period",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "period": "2025Q1", "value": "一千" }),
            422,
            "value",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "period": "2025Q1", "value": "" }),
            422,
            "value",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "period": "2025Q1", "value": "5元" }),
            422,
            "value",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "scope": "area:nowhere", "period": "2025Q1", "value": 5 }),
            422,
            "scope",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "period": "2025Q1", "value": 5, "vintage": "final" }),
            422,
            "vintage",
        ),
        (
            json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "period": "2025Q1", "value": [1] }),
            422,
            "value",
        ),
        (
            json!({ "plan": "nope", "indicator": "hv_patents_per_10k", "period": "2025Q1", "value": 5 }),
            404,
            "",
        ),
        (json!({ "indicator": "hv_patents_per_10k" }), 422, "plan"),
        (
            json!({ "plan": PLAN, "indicator": "hte_count", "period": "2025Q1", "value": 5 }),
            422,
            "indicator",
        ),
        (json!([1, 2]), 400, ""),
    ];
    for (body, want, field) in cases {
        let (status, resp) = app.post_json("/api/v1/values", &body).await;
        assert_eq!(status, want, "{body} -> {resp}");
        assert!(
            resp["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{resp}"
        );
        if !field.is_empty() {
            let fields = resp["error"]["fields"].as_array().unwrap();
            assert!(
                fields.iter().any(|f| f["field"] == field),
                "{body} -> {resp}"
            );
        }
    }
    let r = app
        .http
        .post(app.url("/api/v1/values"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // Oversized bodies are refused before they are read. The server may
    // answer 413 and close the connection while the client is still
    // sending, which the client sees as a send error; either way the body
    // is refused and nothing is stored.
    let big = "x".repeat(kc_web::BODY_LIMIT + 10);
    if let Ok(r) = app
        .http
        .post(app.url("/api/v1/values"))
        .body(big)
        .send()
        .await
    {
        assert_eq!(r.status().as_u16(), 413);
    }
    assert_eq!(count().await, before + 2);
}

async fn form_errors_keep_the_input(app: &TestApp) {
    let before = app.db.store.count_values(PLAN).await.unwrap();
    let r = app
        .http
        .post(app.url(&format!("/plans/{PLAN}/values")))
        .form(&[
            ("target", "T1-3"),
            ("scope", "area:gaoxin"),
            ("period", "2025年三季度"),
            ("value", "一千二"),
            ("note", "核对中"),
            ("vintage", "provisional"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("id=\"err-period\""),
        "no period error next to the field"
    );
    assert!(
        body.contains("id=\"err-value\""),
        "no value error next to the field"
    );
    assert!(
        body.contains("value=\"2025年三季度\""),
        "period input not kept"
    );
    assert!(body.contains("value=\"一千二\""), "value input not kept");
    assert!(body.contains("核对中"), "note not kept");
    assert!(
        body.contains("<option value=\"area:gaoxin\" selected"),
        "scope not kept"
    );
    assert_eq!(app.db.store.count_values(PLAN).await.unwrap(), before);

    // A good form stores the value and redirects to the target page.
    let r = app
        .http
        .post(app.url(&format!("/plans/{PLAN}/values")))
        .form(&[
            ("target", "T1-3"),
            ("scope", "city"),
            ("period", "2025Q3"),
            ("value", "12.3"),
            ("note", ""),
            ("vintage", "provisional"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&format!("/plans/{PLAN}/targets/T1-3?saved=")),
        "{to}"
    );
    let (_, page) = app.get(&to).await;
    assert!(page.contains("已提交"));
    assert!(
        page.contains("12.3 件/万人"),
        "the new value is not on the target page"
    );
}

async fn stale_form_is_shown_the_newer_value(app: &TestApp) {
    let path =
        format!("/plans/{PLAN}/values/new?indicator=hv_patents_per_10k&scope=city&period=2025Q3");
    let (_, form) = app.get(&path).await;
    let rev = form
        .split("name=\"expected_revision\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    assert_eq!(rev, "1");
    // Someone else corrects the value first.
    let (status, _) = app
        .post_json("/api/v1/values", &json!({ "plan": PLAN, "indicator": "hv_patents_per_10k", "scope": "city", "period": "2025Q3", "value": 12.6, "expected_revision": 1 }))
        .await;
    assert_eq!(status, 201);
    let r = app
        .http
        .post(app.url(&format!("/plans/{PLAN}/values")))
        .form(&[
            ("indicator", "hv_patents_per_10k"),
            ("scope", "city"),
            ("period", "2025Q3"),
            ("value", "11.9"),
            ("expected_revision", rev.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("已被 市科技局（规划统筹） 修改为 12.6（第 2 版）"),
        "the person by name: {body}"
    );
    assert!(
        body.contains("name=\"expected_revision\" value=\"2\""),
        "the form should now expect revision 2"
    );
    assert!(
        body.contains("value=\"11.9\""),
        "the writer's input is kept"
    );
}

async fn text_is_escaped_everywhere(app: &TestApp) {
    let evil = "<script>alert(1)</script>\"'&";
    let (status, _) = app
        .post_json("/api/v1/values", &json!({ "plan": PLAN, "indicator": "task_whitelist", "period": "2025Q3", "value": 100, "note": evil }))
        .await;
    assert_eq!(status, 201);
    let plan = kc_planfile::parse_plan("b", kc_app::BENGBU_PLAN).unwrap();
    let t = plan
        .targets
        .iter()
        .find(|t| t.indicator.as_str() == "task_whitelist")
        .unwrap();
    let (_, page) = app.get(&format!("/plans/{PLAN}/targets/{}", t.code)).await;
    assert!(!page.contains("<script>alert(1)"), "unescaped note");
    assert!(
        page.contains("&lt;script&gt;alert(1)") || page.contains("&#60;script&#62;alert(1)"),
        "note not shown escaped"
    );
    let (_, hist) = app
        .get(&format!(
            "/plans/{PLAN}/values/history?indicator=task_whitelist&scope=city&period=2025Q3"
        ))
        .await;
    assert!(!hist.contains("<script>alert(1)"));
    let (status, page) = app
        .get(&format!(
            "/plans/{PLAN}/values/new?indicator=<b>x</b>&period=<i>"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(!page.contains("<b>x</b>") && !page.contains("<i>"));
}

/// A plan written by someone who had only read docs/plan-format.md loads
/// and serves with no code change: three levels, checkpoints, a rank band,
/// a comparison with an outside series.
async fn another_city_serves(app: &TestApp) {
    let text = include_str!("../../../plans/examples/chuzhou-2024-2027.toml");
    let saved = kc_app::load_plan_text(&app.db.store, "chuzhou.toml", text, "test")
        .await
        .unwrap();
    let code = saved.version.plan_code;
    let (_, home) = app.get("/").await;
    assert!(
        home.contains(&format!("/plans/{code}")),
        "the plan list shows both plans"
    );
    let (status, overview) = app.get(&format!("/plans/{code}")).await;
    assert_eq!(status, 200);
    let plan = kc_planfile::parse_plan("c", text).unwrap();
    for n in &plan.nodes {
        assert!(overview.contains(&n.name), "overview lacks {}", n.name);
        assert_eq!(
            app.get(&format!("/plans/{code}/nodes/{}", n.code)).await.0,
            200
        );
    }
    for t in &plan.targets {
        let (status, page) = app.get(&format!("/plans/{code}/targets/{}", t.code)).await;
        assert_eq!(status, 200, "target {}", t.code);
        assert!(
            page.contains("无数据"),
            "a new plan has no data yet: {}",
            t.code
        );
    }
    let j = app.get_json(&format!("/api/v1/plans/{code}/targets")).await;
    assert_eq!(j["targets"].as_array().unwrap().len(), plan.targets.len());
}

/// The value form says what a reporter needs beside the number (issue 15):
/// unit, frequency, allowed range, the period before, the target and what
/// is expected by now, for the reporter's own area.
async fn the_value_form_shows_what_a_reporter_needs(app: &TestApp) {
    let reporter = app.client_as("longzihu-reporter").await;
    let page = app
        .text_as(
            &reporter,
            &format!(
                "/plans/{PLAN}/values/new?indicator=task_tech_market&scope=area:longzihu&period=2025Q3"
            ),
        )
        .await;
    let ctx = page
        .split("id=\"entry-context\"")
        .nth(1)
        .expect("the context beside the form")
        .split("</dl>")
        .next()
        .unwrap();
    for label in ["计量单位", "报送频率", "允许范围", "上期数值", "目标 T6-1"] {
        assert!(ctx.contains(label), "{label} in {ctx}");
    }
    assert!(
        ctx.contains("0 至 100 %"),
        "a completion share is 0–100: {ctx}"
    );
    assert!(ctx.contains("2025年第2季度"), "the period before: {ctx}");
    assert!(ctx.contains("应达到"), "expected by now: {ctx}");
}

on_both_backends!(
    the_value_form_shows_what_a_reporter_needs,
    pages_render,
    unknown_things_are_404_and_bad_params_400,
    api_reports_progress_as_of_a_date,
    api_values_are_validated_and_revised,
    form_errors_keep_the_input,
    stale_form_is_shown_the_newer_value,
    text_is_escaped_everywhere,
    another_city_serves,
);

/// The API's description (接口文档) lists exactly the routes the server
/// answers: every `/api/v1` route written in the source is in it, and every
/// operation in it is routed for its method (a request never answers 405).
/// The page and the description open without signing in, from the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_docs_describe_every_route() {
    let app = TestApp::sqlite().await;
    let anon = app.anonymous();
    let r = anon.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    for file in ["/api/docs/swagger-ui.css", "/api/docs/swagger-ui-bundle.js"] {
        let r = anon.get(app.url(file)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{file}");
    }
    let spec: serde_json::Value = anon
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().expect("paths");
    let described: std::collections::BTreeSet<String> = paths.keys().cloned().collect();

    // The routes as the source declares them (`.route("/api/v1/…"`).
    let mut routed = std::collections::BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let src = std::fs::read_to_string(&p).unwrap();
                for part in src.split(".route(").skip(1) {
                    let lit = part.trim_start();
                    if let Some(rest) = lit.strip_prefix("\"/api/v1") {
                        let end = rest.find('"').unwrap();
                        routed.insert(format!("/api/v1{}", &rest[..end]));
                    }
                }
            }
        }
    }
    assert!(routed.len() >= 15, "{routed:?}");
    assert_eq!(described, routed, "described vs routed /api/v1 paths");

    // Every described operation is routed for its method.
    let coordinator = common::signed_in(&app.base, "kjj").await;
    for (path, item) in paths {
        for method in ["get", "post", "delete", "put"] {
            if item.get(method).is_none() {
                continue;
            }
            let url = app.url(
                &path
                    .replace("{plan}", PLAN)
                    .replace("{target}", "T1-1")
                    .replace("{reg}", "enterprises")
                    .replace("{id}", "999999"),
            );
            let req = match method {
                "get" => coordinator.get(&url),
                "post" => coordinator.post(&url).json(&json!({})),
                "delete" => coordinator.delete(format!("{url}?key=none")),
                _ => coordinator.put(&url),
            };
            let status = req.send().await.unwrap().status().as_u16();
            assert_ne!(status, 405, "{method} {path} is described but not routed");
            assert!(status < 500, "{method} {path}: {status}");
        }
    }
    app.stop().await;
}
