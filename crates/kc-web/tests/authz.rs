//! Authorisation as a table: every route × every role (with area and
//! department scope), run against the real server on both backends. A cell
//! says whether the role may use the route; "may" means the answer is not a
//! refusal (it may still be 4xx for the request's content, e.g. 409 when an
//! earlier role already approved the value), "may not" means 403 (or 404
//! where hiding existence is the point), and for anonymous requests a
//! redirect to the login page (pages) or 401 (API).

#[macro_use]
mod common;

use common::{PLAN, TestApp};
use serde_json::json;

/// The accounts, one per role (demo accounts), and "anon" for no session.
const USERS: [&str; 12] = [
    "anon",
    "admin",
    "security",
    "auditor",
    "kjj",
    "leader",
    "kjj-reporter",
    "kjj-reviewer",
    "longzihu-reporter",
    "longzihu-reviewer",
    "broker",
    "bank",
];

/// Everyone who may read plan data (not the three administrators).
const BUSINESS: &[&str] = &[
    "kjj",
    "leader",
    "kjj-reporter",
    "kjj-reviewer",
    "longzihu-reporter",
    "longzihu-reviewer",
];
/// Everyone who may use the technology market: plan readers and brokers.
const MARKET: &[&str] = &[
    "kjj",
    "leader",
    "kjj-reporter",
    "kjj-reviewer",
    "longzihu-reporter",
    "longzihu-reviewer",
    "broker",
];
/// Who manages 龙子湖区's sub-market.
const LONGZIHU_MARKET: &[&str] = &["kjj", "longzihu-reporter"];
/// Who may see the tech-enterprise whitelist: plan readers and banks.
const WHITELIST: &[&str] = &[
    "kjj",
    "leader",
    "kjj-reporter",
    "kjj-reviewer",
    "longzihu-reporter",
    "longzihu-reviewer",
    "bank",
];
const SIGNED_IN: &[&str] = &[
    "bank",
    "broker",
    "admin",
    "security",
    "auditor",
    "kjj",
    "leader",
    "kjj-reporter",
    "kjj-reviewer",
    "longzihu-reporter",
    "longzihu-reviewer",
];

enum Body {
    None,
    Form(Vec<(&'static str, String)>),
    Json(serde_json::Value),
    Upload(Vec<(&'static str, String)>, &'static str, Vec<u8>),
}

struct Case {
    method: &'static str,
    path: String,
    body: Body,
    allowed: &'static [&'static str],
    /// Status a refused signed-in user gets (the three administrators get
    /// 403 on every business route).
    refused: u16,
    /// Refused users who get 404 instead: they may not even know the
    /// object exists.
    hidden_from: &'static [&'static str],
}

fn case(method: &'static str, path: String, body: Body, allowed: &'static [&'static str]) -> Case {
    Case {
        method,
        path,
        body,
        allowed,
        refused: 403,
        hidden_from: &[],
    }
}

/// The market's cases the table needs: a demand of 龙子湖区's sub-market,
/// a deal on it opened by the bureau, a challenge made from it, and a
/// listing waiting for moderation. Returns (deal id, challenge id).
async fn market_setup(app: &TestApp) -> (String, String) {
    for (number, status) in [("AUTHZ-XQ", "已发布"), ("AUTHZ-PENDING", "待审核")] {
        let (s, body) = app
            .post_json(
                &format!("/api/v1/plans/{PLAN}/registries/demands"),
                &json!({
                    "number": number, "title": "授权测试需求：碳化硅功率器件封装",
                    "description": "寻求碳化硅模块封装散热方案", "field": "电子信息",
                    "enterprise": "蚌埠某电子公司", "area": "longzihu", "status": status
                }),
            )
            .await;
        assert!(s == 201 || s == 200, "{s} {body}");
    }
    let id_of = |loc: &str| loc.rsplit('/').next().unwrap().to_string();
    let post = |path: String, form: Vec<(&'static str, &'static str)>| {
        let http = app.http.clone();
        let url = app.url(&path);
        async move {
            let r = http.post(url).form(&form).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 303, "{path}");
            r.headers()["location"].to_str().unwrap().to_string()
        }
    };
    let deal = post(
        format!("/plans/{PLAN}/market/deals"),
        vec![
            ("demand", "AUTHZ-XQ"),
            ("offer", "CG-00-00"),
            ("broker", "JJR-001"),
        ],
    )
    .await;
    let challenge = post(
        format!("/plans/{PLAN}/market/challenges"),
        vec![
            ("demand", "AUTHZ-XQ"),
            ("title", "碳化硅模块封装"),
            ("goal", "热阻降低 30%"),
            ("budget", "200"),
            ("deadline", "2025-12-31"),
            ("conditions", "有封装中试线"),
        ],
    )
    .await;
    (id_of(&deal), id_of(&challenge))
}

/// A value entered by 龙子湖区's reporter, submitted (unpublished), with an
/// evidence file; and a draft. Returns (submitted id, draft id, file id).
async fn setup(app: &TestApp) -> (i64, i64, i64) {
    let reporter = app.client_as("longzihu-reporter").await;
    let post = |body: serde_json::Value| {
        let reporter = reporter.clone();
        let url = app.url("/api/v1/values");
        async move {
            let r = reporter.post(url).json(&body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 201);
            r.json::<serde_json::Value>().await.unwrap()["value"]["id"]
                .as_i64()
                .unwrap()
        }
    };
    let submitted = post(json!({"plan": PLAN, "indicator": "task_tech_market", "scope": "area:longzihu", "period": "2025Q3", "value": 50, "note": "x"})).await;
    let draft = post(json!({"plan": PLAN, "indicator": "rd_intensity", "scope": "area:longzihu", "period": "2024", "value": 2.1, "submit": false})).await;
    // Another submitted value carries the file; the table never reviews it.
    let pending = post(json!({"plan": PLAN, "indicator": "task_tech_market", "scope": "area:longzihu", "period": "2025Q1", "value": 30, "note": "y"})).await;
    let form = reqwest::multipart::Form::new()
        .text("id", pending.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"%PDF-1.4\n%test\n".to_vec()).file_name("协议.pdf"),
        );
    let r = reporter
        .post(app.url(&format!("/plans/{PLAN}/values/attachments")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        303,
        "upload: {}",
        r.text().await.unwrap()
    );
    let file = app
        .db
        .store
        .attachments_of(&[pending])
        .await
        .unwrap()
        .first()
        .expect("the file is stored")
        .id;
    (submitted, draft, file)
}

fn cases(
    submitted: i64,
    draft: i64,
    file: i64,
    longzihu_record: &serde_json::Value,
    bengshan_record: &serde_json::Value,
    (deal, challenge): (&str, &str),
) -> Vec<Case> {
    let p = |s: &str| format!("/plans/{PLAN}{s}");
    let value_form = |scope: &str| {
        Body::Form(vec![
            ("indicator", "task_tech_market".into()),
            ("scope", scope.into()),
            ("period", "2025Q2".into()),
            ("value", "40".into()),
            ("note", "授权测试".into()),
            ("action", "draft".into()),
        ])
    };
    let mut c = vec![
        case("GET", "/".into(), Body::None, SIGNED_IN),
        case("GET", "/account/password".into(), Body::None, SIGNED_IN),
        case(
            "POST",
            "/notifications/read".into(),
            Body::Form(vec![]),
            SIGNED_IN,
        ),
        case("GET", "/api/v1/session".into(), Body::None, SIGNED_IN),
        case("GET", p(""), Body::None, BUSINESS),
        case("GET", p("?scope=area:bengshan"), Body::None, BUSINESS),
        case("GET", p("/nodes/P1"), Body::None, BUSINESS),
        case("GET", p("/targets/T1-3"), Body::None, BUSINESS),
        case("GET", p("/versions"), Body::None, BUSINESS),
        case("GET", p("/dashboard"), Body::None, BUSINESS),
        case("GET", p("/reports"), Body::None, BUSINESS),
        case("GET", p("/market/search?q=电池"), Body::None, MARKET),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/market/search?q=电池"),
            Body::None,
            MARKET,
        ),
        case("POST", p("/market/reindex"), Body::Form(vec![]), &["kjj"]),
        case(
            "GET",
            p("/market/match?kind=demands&key=nope"),
            Body::None,
            MARKET,
        ),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/market/match?kind=demands&key=nope"),
            Body::None,
            MARKET,
        ),
        case("GET", p("/cultivation"), Body::None, BUSINESS),
        case(
            "GET",
            p("/cultivation?rule=tsme&format=xlsx"),
            Body::None,
            BUSINESS,
        ),
        case(
            "GET",
            p("/cultivation/firm?code=nope"),
            Body::None,
            BUSINESS,
        ),
        case("GET", p("/cultivation/two-zero"), Body::None, BUSINESS),
        case("GET", p("/cultivation/mujun"), Body::None, BUSINESS),
        case("GET", p("/cultivation/pools"), Body::None, BUSINESS),
        case("GET", p("/cultivation/listing"), Body::None, BUSINESS),
        case("GET", p("/finance/whitelist"), Body::None, WHITELIST),
        case(
            "GET",
            p("/finance/whitelist?format=xlsx"),
            Body::None,
            WHITELIST,
        ),
        // A loan to a firm not on the list: refused for its content (400)
        // for banks and the bureau, by role for everyone else.
        case(
            "POST",
            p("/finance/loans"),
            Body::Form(vec![("credit_code", "nope".into())]),
            &["kjj", "bank"],
        ),
        case("GET", p("/market/deals"), Body::None, MARKET),
        case("GET", p("/market/events"), Body::None, MARKET),
        case("GET", p("/market/events?format=xlsx"), Body::None, MARKET),
        case("GET", p("/market/deals?format=xlsx"), Body::None, MARKET),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/market/deals"),
            Body::None,
            MARKET,
        ),
        // Taking a match in the city market: brokers and the bureau.
        case(
            "POST",
            p("/market/deals"),
            Body::Form(vec![
                ("demand", "nope".into()),
                ("broker", "JJR-001".into()),
            ]),
            &["kjj", "broker"],
        ),
        Case {
            hidden_from: &["kjj-reporter", "kjj-reviewer", "broker"],
            refused: 404,
            ..case(
                "GET",
                p(&format!("/market/deals/{deal}")),
                Body::None,
                &["kjj", "leader", "longzihu-reporter", "longzihu-reviewer"],
            )
        },
        Case {
            hidden_from: &["kjj-reporter", "kjj-reviewer", "broker"],
            ..case(
                "POST",
                p(&format!("/market/deals/{deal}/contact")),
                Body::Form(vec![("note", "授权测试联系".into())]),
                LONGZIHU_MARKET,
            )
        },
        case("GET", p("/market/challenges"), Body::None, MARKET),
        case(
            "GET",
            p("/market/challenges?format=xlsx"),
            Body::None,
            MARKET,
        ),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/market/challenges"),
            Body::None,
            MARKET,
        ),
        case(
            "GET",
            p(&format!("/market/challenges/{challenge}")),
            Body::None,
            MARKET,
        ),
        case(
            "GET",
            p("/market/challenges/new?demand=AUTHZ-XQ"),
            Body::None,
            LONGZIHU_MARKET,
        ),
        case(
            "POST",
            p("/market/challenges"),
            Body::Form(vec![("demand", "AUTHZ-XQ".into()), ("title", "".into())]),
            LONGZIHU_MARKET,
        ),
        case(
            "POST",
            p(&format!("/market/challenges/{challenge}/apply")),
            Body::Form(vec![("solver", "".into())]),
            LONGZIHU_MARKET,
        ),
        case(
            "GET",
            p("/market/moderation"),
            Body::None,
            &["kjj", "longzihu-reporter"],
        ),
        case(
            "POST",
            p("/market/moderation"),
            Body::Form(vec![
                ("reg", "demands".into()),
                ("key", "AUTHZ-PENDING".into()),
                ("decision", "reject".into()),
            ]),
            LONGZIHU_MARKET,
        ),
        case(
            "GET",
            p("/reports/download?period=2024&scope=city&format=html"),
            Body::None,
            BUSINESS,
        ),
        case("GET", p("/warnings"), Body::None, BUSINESS),
        case("GET", p("/ranking"), Body::None, BUSINESS),
        case("GET", p("/areas/gaoxin"), Body::None, BUSINESS),
        case("GET", p("/allocation"), Body::None, BUSINESS),
        // Before the plan's end the final evaluation is a 400 for those
        // who may read it, a 403 for the others.
        case("GET", p("/final"), Body::None, BUSINESS),
        case("GET", p("/ranking/own"), Body::None, BUSINESS),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/ranking/own"),
            Body::None,
            BUSINESS,
        ),
        case(
            "GET",
            p("/draft?start=2026-01-01&end=2030-12-31"),
            Body::None,
            &["kjj"],
        ),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/final"),
            Body::None,
            BUSINESS,
        ),
        case(
            "GET",
            p("/reports/download?period=final&format=html"),
            Body::None,
            BUSINESS,
        ),
        case("GET", p("/allocation?format=csv"), Body::None, BUSINESS),
        case("GET", p("/allocation/T1-1"), Body::None, &["kjj"]),
        // An empty form for an unallocated target changes nothing.
        case("POST", p("/allocation/T1-1"), Body::Form(vec![]), &["kjj"]),
        case(
            "POST",
            p("/allocation/import"),
            Body::Upload(
                vec![],
                "分解表.csv",
                "目标编号,责任地区或部门,期末目标\n".as_bytes().to_vec(),
            ),
            &["kjj"],
        ),
        // The plan editor: the coordinator only; empty forms are refused
        // with messages (422), never written.
        case("GET", p("/edit"), Body::None, &["kjj"]),
        case("GET", p("/edit/new-target"), Body::None, &["kjj"]),
        case("POST", p("/edit/new-target"), Body::Form(vec![]), &["kjj"]),
        case("GET", p("/edit/targets/T1-1"), Body::None, &["kjj"]),
        case(
            "POST",
            p("/edit/targets/T1-1"),
            Body::Form(vec![]),
            &["kjj"],
        ),
        case("GET", p("/edit/nodes/A1"), Body::None, &["kjj"]),
        case("POST", p("/edit/nodes/A1"), Body::Form(vec![]), &["kjj"]),
        case(
            "GET",
            p("/edit/indicators/rd_intensity"),
            Body::None,
            &["kjj"],
        ),
        case(
            "POST",
            p("/edit/indicators/rd_intensity"),
            Body::Form(vec![]),
            &["kjj"],
        ),
        case("GET", p("/table?format=csv"), Body::None, BUSINESS),
        case("GET", p("/versions/diff"), Body::None, BUSINESS),
        case("GET", "/plans/import".into(), Body::None, &["kjj"]),
        case(
            "POST",
            "/plans/import".into(),
            Body::Upload(vec![], "目标表.csv", "目标编号\n".as_bytes().to_vec()),
            &["kjj"],
        ),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/warnings"),
            Body::None,
            BUSINESS,
        ),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/ranking"),
            Body::None,
            BUSINESS,
        ),
        case("GET", p("/versions/1/source"), Body::None, BUSINESS),
        case(
            "GET",
            p("/values/history?indicator=task_tech_market&scope=area:longzihu&period=2025Q3"),
            Body::None,
            BUSINESS,
        ),
        case("GET", p("/registries"), Body::None, BUSINESS),
        case("GET", p("/registries/enterprises"), Body::None, BUSINESS),
        case(
            "GET",
            p("/registries/enterprises/export.csv"),
            Body::None,
            BUSINESS,
        ),
        case(
            "GET",
            p("/registries/enterprises/template.xlsx"),
            Body::None,
            BUSINESS,
        ),
        case("GET", "/api/v1/plans".into(), Body::None, BUSINESS),
        case("GET", format!("/api/v1/plans/{PLAN}"), Body::None, BUSINESS),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/targets"),
            Body::None,
            BUSINESS,
        ),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/targets/T1-3"),
            Body::None,
            BUSINESS,
        ),
        case(
            "GET",
            format!("/api/v1/values?plan={PLAN}"),
            Body::None,
            BUSINESS,
        ),
        case(
            "GET",
            format!("/api/v1/plans/{PLAN}/registries/incubators"),
            Body::None,
            BUSINESS,
        ),
        // Entering values: the form, and the value for an area, the city
        // and a department.
        case(
            "GET",
            p("/values/new"),
            Body::None,
            &["kjj", "kjj-reporter", "longzihu-reporter"],
        ),
        case(
            "POST",
            p("/values"),
            value_form("area:longzihu"),
            &["kjj", "longzihu-reporter"],
        ),
        case("POST", p("/values"), value_form("area:bengshan"), &["kjj"]),
        case(
            "POST",
            p("/values"),
            value_form("city"),
            &["kjj", "kjj-reporter"],
        ),
        case(
            "POST",
            p("/values"),
            value_form("dept:kjj"),
            &["kjj", "kjj-reporter"],
        ),
        case(
            "POST",
            "/api/v1/values".into(),
            Body::Json(
                json!({"plan": PLAN, "indicator": "rd_intensity", "scope": "area:longzihu", "period": "2023", "value": 2.0, "submit": false}),
            ),
            &["kjj", "longzihu-reporter"],
        ),
        case(
            "POST",
            "/api/v1/values".into(),
            Body::Json(
                json!({"plan": PLAN, "indicator": "rd_intensity", "scope": "city", "period": "2023", "value": 2.0, "submit": false}),
            ),
            &["kjj"],
        ),
        // The workflow.
        case(
            "GET",
            p("/duties"),
            Body::None,
            &[
                "kjj",
                "kjj-reporter",
                "kjj-reviewer",
                "longzihu-reporter",
                "longzihu-reviewer",
            ],
        ),
        case(
            "GET",
            p("/review"),
            Body::None,
            &["kjj", "kjj-reviewer", "longzihu-reviewer"],
        ),
        case(
            "POST",
            p("/values/submit"),
            Body::Form(vec![("id", draft.to_string())]),
            &["kjj", "longzihu-reporter"],
        ),
        case(
            "POST",
            p("/values/review"),
            Body::Form(vec![
                ("id", submitted.to_string()),
                ("action", "approve".into()),
                ("comment", String::new()),
            ]),
            &["kjj", "longzihu-reviewer"],
        ),
        case(
            "POST",
            p("/values/attachments"),
            Body::Upload(
                vec![("id", submitted.to_string())],
                "说明.pdf",
                b"%PDF-1.4\n%x\n".to_vec(),
            ),
            &["kjj", "longzihu-reporter"],
        ),
        case(
            "POST",
            format!("/api/v1/values/{submitted}/review"),
            Body::Json(json!({"action": "return", "comment": "授权测试"})),
            &["kjj", "longzihu-reviewer"],
        ),
        case(
            "POST",
            format!("/api/v1/values/{draft}/submit"),
            Body::Json(json!({})),
            &["kjj", "longzihu-reporter"],
        ),
        case("GET", p("/board"), Body::None, &["kjj", "leader"]),
        case(
            "POST",
            p("/board/remind"),
            Body::Form(vec![("unit", "wuhe".into())]),
            &["kjj"],
        ),
        case(
            "POST",
            p("/locks"),
            Body::Form(vec![("period", "2023-01".into())]),
            &["kjj"],
        ),
        // Registry records: an area's reporter keeps its own area's records.
        case(
            "GET",
            p("/registries/incubators/new"),
            Body::None,
            &["kjj", "longzihu-reporter"],
        ),
        case(
            "POST",
            format!("/api/v1/plans/{PLAN}/registries/incubators"),
            Body::Json(longzihu_record.clone()),
            &["kjj", "longzihu-reporter"],
        ),
        case(
            "POST",
            format!("/api/v1/plans/{PLAN}/registries/incubators"),
            Body::Json(bengshan_record.clone()),
            &["kjj"],
        ),
        case(
            "POST",
            p("/registries/incubators/import"),
            Body::Upload(vec![], "空.csv", Vec::new()),
            &["kjj"],
        ),
        // Administration, kept apart.
        case(
            "GET",
            "/admin/users".into(),
            Body::None,
            &["admin", "security"],
        ),
        case(
            "POST",
            "/admin/users".into(),
            Body::Form(vec![
                ("username", "authz-new".into()),
                ("display_name", "新用户".into()),
            ]),
            &["admin"],
        ),
        case(
            "GET",
            "/admin/users/wuhe-reviewer/roles".into(),
            Body::None,
            &["security"],
        ),
        case(
            "POST",
            "/admin/users/wuhe-reviewer/roles".into(),
            Body::Form(vec![("roles", "area_reviewer:wuhe".into())]),
            &["security"],
        ),
        case(
            "POST",
            "/admin/users/wuhe-reviewer/reset".into(),
            Body::Form(vec![]),
            &["security"],
        ),
        case(
            "POST",
            "/admin/users/guzhen-reviewer/lock".into(),
            Body::Form(vec![]),
            &["security"],
        ),
        case(
            "POST",
            "/admin/users/guzhen-reviewer/unlock".into(),
            Body::Form(vec![]),
            &["security"],
        ),
        case("GET", "/admin/audit".into(), Body::None, &["auditor"]),
        case(
            "GET",
            "/admin/audit/export".into(),
            Body::None,
            &["auditor"],
        ),
        case(
            "GET",
            "/admin/audit/verify".into(),
            Body::None,
            &["auditor"],
        ),
    ];
    // Evidence of an unpublished value: not even its existence is shown to
    // those who may not see the value.
    let mut download = case(
        "GET",
        p(&format!("/attachments/{file}")),
        Body::None,
        &["kjj", "leader", "longzihu-reporter", "longzihu-reviewer"],
    );
    download.refused = 404;
    c.push(download);
    c
}

async fn send(app: &TestApp, client: &reqwest::Client, c: &Case) -> (u16, String) {
    let url = app.url(&c.path);
    let req = match (c.method, &c.body) {
        ("GET", _) => client.get(url),
        (_, Body::None) => client.post(url),
        (_, Body::Form(f)) => client.post(url).form(f),
        (_, Body::Json(j)) => client.post(url).json(j),
        (_, Body::Upload(fields, name, bytes)) => {
            let mut form = reqwest::multipart::Form::new();
            for (k, v) in fields {
                form = form.text(*k, v.clone());
            }
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes.clone()).file_name(*name),
            );
            client.post(url).multipart(form)
        }
    };
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, location)
}

/// A record of the incubator registry counted for `area`, as the API gives it.
async fn record_of(app: &TestApp, area: &str) -> serde_json::Value {
    let j = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/registries/incubators?area={area}&per_page=1"
        ))
        .await;
    j["records"][0]["fields"].clone()
}

async fn every_route_for_every_role(app: &TestApp) {
    let (submitted, draft, file) = setup(app).await;
    let longzihu = record_of(app, "longzihu").await;
    let bengshan = record_of(app, "bengshan").await;
    assert!(
        longzihu.is_object() && bengshan.is_object(),
        "demo incubators exist"
    );
    let (deal, challenge) = market_setup(app).await;
    let table = cases(
        submitted,
        draft,
        file,
        &longzihu,
        &bengshan,
        (&deal, &challenge),
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for user in USERS {
        let client = if user == "anon" {
            app.anonymous()
        } else {
            app.client_as(user).await
        };
        for c in &table {
            let (status, location) = send(app, &client, c).await;
            checked += 1;
            let ok = if user == "anon" {
                if c.path.starts_with("/api/") {
                    status == 401
                } else {
                    status == 303 && location.starts_with("/login")
                }
            } else if c.allowed.contains(&user) {
                status != 401
                    && status != 403
                    && !location.starts_with("/login")
                    && status < 500
                    && !(c.refused == 404 && status == 404)
            } else if c.hidden_from.contains(&user) {
                status == 404
            } else {
                // The three administrators, brokers and banks read no plan data at
                // all: they are refused with 403 before any object is
                // looked up.
                status == c.refused
                    || (status == 403
                        && ["admin", "security", "auditor", "broker", "bank"].contains(&user))
            };
            if !ok {
                failures.push(format!(
                    "{user:>18} {} {} → {status} {location} (expected {})",
                    c.method,
                    c.path,
                    if user == "anon" {
                        "login".to_string()
                    } else if c.allowed.contains(&user) {
                        "allowed".to_string()
                    } else {
                        c.refused.to_string()
                    }
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The public routes answer without a session.
    let anon = app.anonymous();
    for path in [
        "/login",
        "/healthz",
        "/static/style.css",
        "/public/market",
        "/public/market?q=电池",
        "/public/market/submit",
    ] {
        let r = anon.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
}

on_both_backends!(every_route_for_every_role);
