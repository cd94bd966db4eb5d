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
    // The demo market is large enough for the semantic model: every
    // suggestion says how near it is in meaning.
    assert_eq!(j["semantic"]["enabled"], true, "{j}");
    assert!(j["semantic"]["learned_from"].as_u64().unwrap() >= 50, "{j}");
    for s in found {
        let terms = s["terms"].as_array().unwrap();
        assert!(
            !terms.is_empty() || s["same_field"] == true || s["similarity"].is_f64(),
            "no reason: {s}"
        );
        assert!(s["similarity"].is_f64(), "{s}");
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
    assert!(
        page.contains("综合两方面排序") && page.contains("语义相近度"),
        "the page says matching is hybrid: {page}"
    );
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

/// A POST of a form by `client`; returns the status and the Location or body.
async fn form(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let r = client
        .post(app.url(path))
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let loc = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string());
    (status, loc.unwrap_or(r.text().await.unwrap()))
}

async fn absorbed(app: &TestApp) -> f64 {
    app.get_json(&format!("/api/v1/plans/{PLAN}/targets/T5-1"))
        .await["target"]["value"]
        .as_f64()
        .unwrap()
}

/// On demo data: a demand's match taken by a broker, contacts and stages,
/// signing refused while the amounts do not add up (the typed values kept),
/// then signed into a technology contract that moves absorbed turnover by
/// exactly its amount and names its demand and broker; registration sets
/// the broker's reward by the plan's rule. Other areas cannot touch it.
async fn a_demand_becomes_a_registered_contract(app: &TestApp) {
    let demand = "XQ-01-00";
    let m = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/market/match?kind=demands&key={demand}"
        ))
        .await;
    let offer = m["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["hit"]["kind"] == "offers")
        .expect("an achievement is suggested")["hit"]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let area = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/registries/demands/record?key={demand}"
        ))
        .await["fields"]["area"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let broker = app.client_as("broker").await;
    // The broker sees the market, not the plan.
    assert_eq!(
        broker
            .get(app.url(&format!("/plans/{PLAN}")))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    let home = app.text_as(&broker, "/").await;
    assert!(
        home.contains("我的对接事项") && !home.contains("管理员工作台"),
        "the broker's home leads to the market"
    );
    let page = app
        .text_as(
            &broker,
            &format!("/plans/{PLAN}/market/match?kind=demands&key={demand}"),
        )
        .await;
    assert!(page.contains("承接对接"), "the broker may take the match");
    // A broker is their own broker record: no identity to pick.
    assert!(
        !page.contains(r#"name="broker""#),
        "no broker picker for a broker"
    );
    assert!(page.contains("由您（"), "the page says who takes it");
    // The deal came from a roadshow of the events registry.
    let event = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/registries/events?q=成果路演&per_page=1"
        ))
        .await["records"][0]["key"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = form(
        &broker,
        app,
        &format!("/plans/{PLAN}/market/deals"),
        &[
            ("demand", demand),
            ("offer", &offer),
            ("broker", "JJR-001"),
            ("event", "没有这个活动"),
        ],
    )
    .await;
    assert_eq!(status, 400, "an unknown event is refused: {body}");
    assert!(body.contains("不在对接活动登记库中"), "{body}");
    let (status, loc) = form(
        &broker,
        app,
        &format!("/plans/{PLAN}/market/deals"),
        &[
            ("demand", demand),
            ("offer", &offer),
            // Naming another broker changes nothing: the deal is theirs.
            ("broker", "JJR-002"),
            ("event", &event),
        ],
    )
    .await;
    assert_eq!(status, 303, "{loc}");
    let deal = loc.clone();
    let id: i64 = deal.rsplit('/').next().unwrap().parse().unwrap();
    let mine = app
        .get_json(&format!("/api/v1/plans/{PLAN}/market/deals"))
        .await["deals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .map(|d| d["deal"]["broker"].clone())
        .unwrap();
    assert_eq!(mine, "JJR-001", "the broker account's own record");
    let step = |action: &'static str, fields: Vec<(&'static str, String)>| {
        let broker = broker.clone();
        let path = format!("{deal}/{action}");
        async move {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            form(&broker, app, &path, &f).await
        }
    };
    assert_eq!(
        step("contact", vec![("note", "电话联系企业技术负责人".into())])
            .await
            .0,
        303
    );
    assert_eq!(
        step("advance", vec![("to", "negotiating".into())]).await.0,
        400,
        "stages are not skipped"
    );
    assert_eq!(
        step("advance", vec![("to", "contacted".into())]).await.0,
        303
    );
    assert_eq!(
        step("advance", vec![("to", "negotiating".into())]).await.0,
        303
    );
    // Another area's reporter may not move it.
    let other = if area == "huaiyuan" {
        "guzhen-reporter"
    } else {
        "huaiyuan-reporter"
    };
    let other = app.client_as(other).await;
    let (s, _) = form(&other, app, &format!("{deal}/contact"), &[("note", "x")]).await;
    assert!(s == 403 || s == 404, "{s}");

    let before = absorbed(app).await;
    let terms = |amount: &str, tech: &str| {
        vec![
            ("reg_number", "2025340300009999".to_string()),
            ("kind", "技术开发".to_string()),
            ("seller_name", "安徽某大学".to_string()),
            ("seller_area", "outside".to_string()),
            ("seller_type", "高校".to_string()),
            ("buyer_name", "蚌埠某新能源企业".to_string()),
            ("buyer_area", "longzihu".to_string()),
            ("buyer_type", "企业".to_string()),
            ("amount", amount.to_string()),
            ("tech_amount", tech.to_string()),
            ("signed_on", "2025-09-15".to_string()),
        ]
    };
    let (s, body) = step("sign", terms("5000", "6000")).await;
    assert_eq!(s, 400);
    assert!(
        body.contains("id=\"err-tech_amount\""),
        "the message is beside the field"
    );
    assert!(body.contains("value=\"6000\""), "the typed values are kept");
    assert_eq!(absorbed(app).await, before, "nothing counted");
    let (s, body) = step("sign", terms("5000", "4000")).await;
    assert_eq!(s, 303, "{body}");
    let after = absorbed(app).await;
    assert!(
        (after - before - 0.5).abs() < 1e-9,
        "5000 万元 = 0.5 亿元: {before} → {after}"
    );
    let c = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/registries/contracts/record?key=2025340300009999"
        ))
        .await;
    assert_eq!(c["fields"]["demand_number"], demand);
    assert_eq!(c["fields"]["broker_number"], "JJR-001");
    // The same number cannot be signed twice; a signed deal cannot be dropped.
    assert_eq!(
        step(
            "advance",
            vec![("to", "dropped".into()), ("note", "x".into())]
        )
        .await
        .0,
        400
    );
    let (s, body) = step("register", vec![("registered_on", "2025-09-01".into())]).await;
    assert_eq!(s, 400, "registration before signing: {body}");
    let (s, _) = step("register", vec![("registered_on", "2025-09-25".into())]).await;
    assert_eq!(s, 303);
    let deals = app
        .get_json(&format!("/api/v1/plans/{PLAN}/market/deals"))
        .await;
    let d = &deals["deals"][0]["deal"];
    assert_eq!(d["stage"], "registered");
    // 1% of 4000 万元, under the per-deal cap of 10.
    assert_eq!(d["reward"].as_f64().unwrap(), 40.0_f64.min(10.0));
    assert!(
        (absorbed(app).await - after).abs() < 1e-9,
        "registration in the same month"
    );
    // The roadshow shows the deal taken from it and the contract signed.
    let events = app
        .text_as(&broker, &format!("/plans/{PLAN}/market/events"))
        .await;
    let row = events
        .split(&format!("data-key=\"{event}\""))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_else(|| panic!("the event's row: {events}"));
    assert!(
        row.contains(
            "<td class=\"num\">1</td><td class=\"num\">1</td><td class=\"num\">5,000</td>"
        ),
        "{row}"
    );
    let page = app.text_as(&broker, &deal.replace(&app.base, "")).await;
    assert!(page.contains("已登记") && page.contains("10.00"), "{page}");
}

/// The public pages without a session: only published listings are found;
/// an enterprise's demand with mistakes comes back with messages beside
/// the fields and everything typed kept; a good one waits for moderation
/// (not public), is flagged when it repeats a listing, and is public once
/// published, its HTML escaped. Robots and floods are turned away.
async fn public_submission_and_moderation(app: &TestApp) {
    let anon = app.anonymous();
    let get = |path: &str| {
        let anon = anon.clone();
        let url = app.url(path);
        async move {
            let r = anon.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, page) = get("/public/market?q=磷酸铁锂").await;
    assert_eq!(s, 200);
    assert!(
        page.contains("<mark>磷酸铁锂</mark>"),
        "published demo listings are found"
    );
    assert!(
        !page.contains("/registries/"),
        "no links into the internal pages"
    );
    let (s, page) = get("/public/market?q=！！").await;
    assert_eq!(s, 400);
    assert!(page.contains("只有标点符号"), "{page}");

    let submit = |fields: Vec<(&'static str, String)>| {
        let anon = anon.clone();
        let url = app.url("/public/market/submit");
        async move {
            let r = anon.post(url).form(&fields).send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.text().await.unwrap())
        }
    };
    let demand = |title: &str| {
        vec![
            ("title", title.to_string()),
            (
                "description",
                "<script>alert(1)</script>需要琥珀釉面涂层的耐候方案".to_string(),
            ),
            ("field", "新能源与节能".to_string()),
            ("enterprise", "蚌埠某光伏公司".to_string()),
            ("area", "gaoxin".to_string()),
            ("contact", "王经理 0552-1234567".to_string()),
        ]
    };
    // Mistakes: no title, an unknown field, no contact.
    let mut bad = demand("");
    bad[2].1 = "量子玄学".into();
    bad[5].1 = String::new();
    let (s, page) = submit(bad).await;
    assert_eq!(s, 400);
    for f in ["title", "field", "contact"] {
        assert!(page.contains(&format!("id=\"err-{f}\"")), "{f}: {page}");
    }
    assert!(page.contains("蚌埠某光伏公司"), "what was typed is kept");
    assert!(
        page.contains("alert(1)") && !page.contains("<script>alert"),
        "and escaped"
    );
    // A robot fills the hidden field: same answer, nothing stored.
    let mut robot = demand("钙钛矿机器人需求");
    robot.push(("website", "http://spam.example".into()));
    assert_eq!(submit(robot).await.0, 303);
    // A good one, repeating a demo listing's title: waits, not public.
    let title = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/registries/demands/record?key=XQ-02-00"
        ))
        .await["fields"]["title"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(submit(demand(&title)).await.0, 303);
    let (_, page) = get("/public/market?q=琥珀釉面").await;
    assert!(
        page.contains("共找到 0 条"),
        "pending is not public: {page}"
    );
    // A broker's search never shows it either; the bureau's does.
    let broker = app.client_as("broker").await;
    let hits = |c: reqwest::Client| async move {
        c.get(app.url(&format!(
            "/api/v1/plans/{PLAN}/market/search?q=琥珀釉面&kind=demands"
        )))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["total"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        hits(broker).await,
        0,
        "a broker sees published listings only"
    );
    assert_eq!(
        hits(app.http.clone()).await,
        1,
        "the bureau sees what awaits moderation"
    );
    let (_, queue) = app.get(&format!("/plans/{PLAN}/market/moderation")).await;
    assert!(
        !queue.contains("钙钛矿机器人"),
        "the robot's demand was not stored"
    );
    assert!(
        queue.contains("王经理"),
        "the contact is shown to the bureau"
    );
    assert!(
        queue.contains("XQ-02-00"),
        "flagged as a possible duplicate: {queue}"
    );
    let key = queue
        .split("name=\"key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    assert!(key.starts_with("GK-"), "{key}");
    let moderate = |decision: &'static str, reason: &'static str| {
        let http = app.http.clone();
        let url = app.url(&format!("/plans/{PLAN}/market/moderation"));
        let key = key.clone();
        async move {
            http.post(url)
                .form(&[
                    ("reg", "demands"),
                    ("key", &key),
                    ("decision", decision),
                    ("reason", reason),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        moderate("reject", "").await,
        400,
        "a rejection needs a reason"
    );
    assert_eq!(moderate("publish", "").await, 303);
    assert_eq!(moderate("publish", "").await, 409, "decided once");
    let (_, page) = get("/public/market?q=琥珀釉面").await;
    assert!(page.contains("共找到 1 条"), "{page}");
    assert!(page.contains("alert(1)") && !page.contains("<script>alert"));
    assert!(!page.contains("王经理"), "the contact stays private");
    // Floods: five good submissions an hour per address.
    let mut statuses = Vec::new();
    for i in 0..5 {
        statuses.push(submit(demand(&format!("钙钛矿需求{i}"))).await.0);
    }
    assert_eq!(
        statuses,
        [303, 303, 303, 303, 400],
        "the sixth in the hour is refused"
    );
}

/// A market too small for the semantic model (here: an index that holds only
/// what this test saves) still matches, by shared words, and the page and
/// the API say that only keywords were used. The index lives in memory, so
/// one backend is enough.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn few_listings_match_by_keywords_and_say_so() {
    let app = TestApp::start_with(kc_store::testkit::sqlite().await, |mut s| {
        s.search = std::sync::Arc::new(kc_search::SearchIndex::new().unwrap());
        s.search_stale
            .store(false, std::sync::atomic::Ordering::SeqCst);
        s
    })
    .await;
    save(&app, "demands", json!({
        "number": "XQ-201", "title": "磷酸铁锂正极材料低温性能提升",
        "description": "寻求提高磷酸铁锂电池零下二十度放电容量的技术方案", "field": "新能源与节能",
        "enterprise": "蚌埠某电池科技有限公司", "status": "已发布", "published_on": "2025-03-01"
    })).await;
    for (number, title, text, field) in [
        (
            "CG-201",
            "磷酸铁锂正极低温改性技术",
            "碳包覆与掺杂提高磷酸铁锂低温放电容量",
            "新能源与节能",
        ),
        (
            "CG-202",
            "玻璃窑炉余热发电系统",
            "回收浮法玻璃窑炉烟气余热发电",
            "资源与环境",
        ),
    ] {
        save(
            &app,
            "offers",
            json!({
                "number": number, "title": title, "abstract": text, "owner": "某大学",
                "owner_type": "高校", "field": field, "readiness": "6", "status": "已发布",
                "published_on": "2025-05-01"
            }),
        )
        .await;
    }
    let j = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/market/match?kind=demands&key=XQ-201"
        ))
        .await;
    assert_eq!(j["semantic"]["enabled"], false, "{j}");
    let found = j["suggestions"].as_array().unwrap();
    assert_eq!(found[0]["hit"]["key"], "CG-201", "{j}");
    assert!(found.iter().all(|s| s["similarity"].is_null()), "{j}");
    let (status, page) = app
        .get(&format!(
            "/plans/{PLAN}/market/match?kind=demands&key=XQ-201"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("仅按关键词匹配") && page.contains("不足 50 条"),
        "the page says matching is lexical only: {page}"
    );
    assert!(page.contains("磷酸铁锂正极低温改性技术") && !page.contains("语义相近度"));
    app.stop().await;
}

on_both_backends!(
    listings_are_searchable,
    a_demand_becomes_a_registered_contract,
    public_submission_and_moderation
);
