//! No dead ends (issue 15): every link a role is shown leads to a page that
//! role may open. Each role's pages are walked from its home page, two
//! links deep, and every same-site link on them is followed: none may
//! answer 403 (a refusal the page should not have offered) or 5xx.

#[macro_use]
mod common;

use std::collections::{BTreeSet, VecDeque};

use common::TestApp;

/// Same-site links of a page (`href="/…"`), without fragments; downloads
/// and sign-out are left alone.
fn links(page: &str) -> Vec<String> {
    page.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|h| h.starts_with('/') && !h.starts_with("//"))
        .map(|h| h.replace("&amp;", "&"))
        .map(|h| h.split('#').next().unwrap_or("").to_string())
        .filter(|h| {
            !h.is_empty()
                && !h.contains("format=")
                && !h.contains("/export")
                && !h.contains("/template")
                && !h.contains("/source")
                && !h.contains("/download")
                && !h.starts_with("/assets")
                && !h.contains("/files/")
        })
        .collect()
}

/// The text a reader sees on a page: tags, attributes, scripts, styles and
/// the audit trail's stored entries (one click away, for the auditor) left out.
fn visible(page: &str) -> String {
    let mut out = String::new();
    let mut rest = page;
    // Drop whole elements whose content is not read as text.
    let mut cleaned = String::new();
    while let Some(i) = rest.find(['<']) {
        cleaned.push_str(&rest[..i]);
        let tail = &rest[i..];
        let closing = [
            ("<script", "</script>"),
            ("<style", "</style>"),
            ("<details", "</details>"),
            ("<code", "</code>"),
        ]
        .iter()
        .find(|(o, _)| tail.starts_with(o))
        .map(|(_, c)| *c);
        match closing {
            Some(c) => {
                rest = tail.find(c).map_or("", |j| &tail[j + c.len()..]);
            }
            None => {
                rest = tail.find('>').map_or("", |j| &tail[j + 1..]);
                cleaned.push(' ');
            }
        }
    }
    cleaned.push_str(rest);
    out.push_str(&cleaned);
    out
}

/// Codes a reader should never have to read: snake_case words
/// (`area_reporter:longzihu`, `hte_count`), qualification codes, audit
/// action codes.
fn codes_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for w in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '.'))
    {
        let w = w.trim_matches(|c: char| c == '.' || c == ':');
        let snake = w.contains('_')
            && w.split(['_', ':'])
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()));
        let known = matches!(
            w,
            "hte" | "tsme" | "innov_sme" | "zjtx" | "value.submit" | "value.approve" | "user.roles"
        );
        if snake || known {
            found.push(w.to_string());
        }
    }
    found
}

/// Follows the links of `user`'s pages from `start`, `depth` clicks deep,
/// at most `cap` pages; returns the links that were refused or failed.
async fn walk(
    app: &TestApp,
    user: &str,
    start: &[&str],
    depth: usize,
    cap: usize,
) -> (Vec<String>, usize) {
    let client = app.client_as(user).await;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<(String, usize, String)> = start
        .iter()
        .map(|s| (s.to_string(), 0, "(start)".to_string()))
        .collect();
    let mut bad = Vec::new();
    while let Some((path, d, from)) = queue.pop_front() {
        // Pages differ by their path and which list page, not every filter.
        let shape = path.split('?').next().unwrap_or("").to_string()
            + if path.contains("page=") { "?page" } else { "" };
        if seen.len() >= cap || !seen.insert(shape) {
            continue;
        }
        let r = client.get(app.url(&path)).send().await.unwrap();
        let status = r.status().as_u16();
        if status == 403 || status >= 500 {
            bad.push(format!("{user}: {path} → {status} (linked from {from})"));
            continue;
        }
        if d >= depth || status != 200 {
            continue;
        }
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        if !ct.starts_with("text/html") {
            continue;
        }
        let body = r.text().await.unwrap();
        let codes = codes_in(&visible(&body));
        if !codes.is_empty() {
            bad.push(format!("{user}: {path} shows codes {codes:?}"));
        }
        for l in links(&body) {
            queue.push_back((l, d + 1, path.clone()));
        }
    }
    (bad, seen.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_role_is_shown_a_link_it_may_not_open() {
    let app = TestApp::sqlite().await;
    let plan = common::PLAN;
    let home = "/".to_string();
    let overview = format!("/plans/{plan}");
    let market = format!("/plans/{plan}/market/search?q=传感器");
    let whitelist = format!("/plans/{plan}/finance/whitelist");
    let registries = format!("/plans/{plan}/registries/incubators");
    let mut bad = Vec::new();
    let cultivation = format!("/plans/{plan}/cultivation");
    let edit = format!("/plans/{plan}/edit");
    for (user, start) in [
        (
            "kjj",
            vec![
                home.as_str(),
                cultivation.as_str(),
                market.as_str(),
                edit.as_str(),
            ],
        ),
        (
            "longzihu-reporter",
            vec![home.as_str(), overview.as_str(), registries.as_str()],
        ),
        ("longzihu-reviewer", vec![home.as_str(), overview.as_str()]),
        ("tjj-reporter", vec![home.as_str(), overview.as_str()]),
        ("leader", vec![home.as_str(), overview.as_str()]),
        ("broker", vec![home.as_str(), market.as_str()]),
        ("bank", vec![home.as_str(), whitelist.as_str()]),
        ("admin", vec![home.as_str()]),
        ("security", vec![home.as_str()]),
        ("auditor", vec![home.as_str()]),
    ] {
        let (b, pages) = walk(&app, user, &start, 2, 120).await;
        eprintln!("{user}: {pages} pages walked");
        // The walk really went through the role's pages.
        let least = if ["admin", "security", "auditor", "bank"].contains(&user) {
            2
        } else {
            10
        };
        assert!(pages >= least, "{user}: only {pages} pages");
        bad.extend(b);
    }
    app.stop().await;
    assert!(bad.is_empty(), "links to refusals:\n{}", bad.join("\n"));
}

/// The guide (操作指南) opens without signing in and has a part for every
/// role; each role's header links to its own part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_has_its_guide() {
    let app = TestApp::sqlite().await;
    let r = app.anonymous().get(app.url("/guide")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let guide = r.text().await.unwrap();
    for (user, anchor) in [
        ("kjj", "coordinator"),
        ("leader", "leader"),
        ("tjj-reporter", "dept-reporter"),
        ("longzihu-reporter", "area-reporter"),
        ("longzihu-reviewer", "area-reviewer"),
        ("broker", "broker"),
        ("bank", "bank"),
        ("admin", "sysadmin"),
        ("security", "secadmin"),
        ("auditor", "auditadmin"),
    ] {
        assert!(guide.contains(&format!("id=\"{anchor}\"")), "{anchor}");
        let c = app.client_as(user).await;
        let home = app.text_as(&c, "/").await;
        assert!(
            home.contains(&format!("href=\"/guide#{anchor}\"")),
            "{user}'s header links to the guide's {anchor}"
        );
    }
    assert!(guide.contains("id=\"public\"") && guide.contains("id=\"dept-reviewer\""));
    // The header says a role once (市科技局（规划统筹）, not …（规划统筹）（规划统筹）),
    // on pages rendered once for many readers too.
    let kjj = app.client_as("kjj").await;
    for path in ["/".to_string(), format!("/plans/{}", common::PLAN)] {
        let page = app.text_as(&kjj, &path).await;
        assert!(page.contains("市科技局（规划统筹）"), "{path}");
        assert!(
            !page.contains("（规划统筹）</a><span class=\"muted small\">（规划统筹）"),
            "{path}"
        );
    }
    // The rules behind completion, expected progress and status are one
    // click from where they are shown.
    assert!(guide.contains("id=\"rules\"") && guide.contains("（975 − 700）"));
    let target = app
        .text_as(&kjj, &format!("/plans/{}/targets/T3-2", common::PLAN))
        .await;
    assert!(target.contains("href=\"/guide#rules\""));
    let reporter = app.client_as("longzihu-reporter").await;
    let page = app
        .text_as(&reporter, &format!("/plans/{}", common::PLAN))
        .await;
    assert!(
        page.contains("href=\"/guide#area-reporter\""),
        "the cached page has the reader's guide"
    );
    app.stop().await;
}
