//! Hostile and careless query strings on every page and API read, on both
//! backends: each answer is a page or a 4xx, never a 500 and never a closed
//! connection (issue 13: "0 HTTP 500 from any probe"). The values are the
//! ones that broke before — the plan's own cluster names in a search (a
//! highlighter panic), NUL and other control characters, impossible dates,
//! periods and scopes, huge numbers, long text, markup and SQL.

#[macro_use]
mod common;

use common::{PLAN, TestApp};

/// Every query parameter the pages and the API read.
const PARAMS: [&str; 16] = [
    "as_of",
    "scope",
    "q",
    "period",
    "indicator",
    "page",
    "per_page",
    "key",
    "next",
    "from",
    "to",
    "sort",
    "cluster",
    "area",
    "field",
    "format",
];

fn values() -> Vec<String> {
    let mut v: Vec<String> = [
        "新能源",
        "智能传感",
        "新型显示",
        "生物化工",
        "传感器",
        "硅基新材料 OR 新能源",
        "\"未闭合",
        "((((",
        "*",
        "'; DROP TABLE users; --",
        "<script>alert(1)</script>",
        "9999-99-99",
        "2025-02-30",
        "0000-01-01",
        "2025Q5",
        "-1",
        "0",
        "99999999999999999999999",
        "NaN",
        "%",
        "area:不存在",
        "dept:",
        "../../etc/passwd",
        "\u{ffff}",
        "🚀🚀",
        "\u{0}",
        "a\u{1b}b",
        "\u{202e}",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    // Long, but within what a browser sends in one address.
    v.push("长".repeat(300));
    v
}

fn pages() -> Vec<String> {
    let p = |s: &str| format!("/plans/{PLAN}{s}");
    let mut v = vec![
        "/".to_string(),
        "/public/market".to_string(),
        "/api/v1/plans".to_string(),
        format!("/api/v1/plans/{PLAN}"),
        format!("/api/v1/plans/{PLAN}/targets"),
        format!("/api/v1/plans/{PLAN}/registries/enterprises"),
        format!("/api/v1/plans/{PLAN}/market/search"),
        "/api/v1/values".to_string(),
    ];
    for s in [
        "",
        "/areas/gaoxin",
        "/board",
        "/duties",
        "/cultivation",
        "/cultivation/mujun",
        "/cultivation/pools",
        "/cultivation/two-zero",
        "/dashboard",
        "/finance/whitelist",
        "/market/search",
        "/market/deals",
        "/market/events",
        "/nodes/P1",
        "/ranking",
        "/registries/enterprises",
        "/registries/qualifications",
        "/reports",
        "/targets/T1-3",
        "/warnings",
        "/values/new",
        "/values/history",
    ] {
        v.push(p(s));
    }
    v
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn probe(app: &TestApp, who: &str, client: &reqwest::Client, paths: &[String]) {
    for path in paths {
        for value in values() {
            // Every parameter at once, then the search box alone (where
            // the text reaches the query parser and the highlighter).
            let all: Vec<String> = PARAMS
                .iter()
                .map(|k| format!("{k}={}", encode(&value)))
                .collect();
            for query in [all.join("&"), format!("q={}", encode(&value))] {
                let url = app.url(&format!("{path}?{query}"));
                let r = client
                    .get(&url)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{who} {path} {value:?}: no answer ({e})"));
                let status = r.status().as_u16();
                assert!(status < 500, "{who} {path} {value:?}: HTTP {status}");
            }
        }
    }
}

async fn no_query_string_breaks_a_page(app: &TestApp) {
    let kjj = app.client_as("kjj").await;
    probe(app, "kjj", &kjj, &pages()).await;
    let auditor = app.client_as("auditor").await;
    probe(app, "auditor", &auditor, &["/admin/audit".to_string()]).await;
    let anon = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    probe(
        app,
        "anonymous",
        &anon,
        &["/public/market".to_string(), "/login".to_string()],
    )
    .await;
}

on_both_backends!(no_query_string_breaks_a_page);
