//! Issue 13's reproductions, each a clear 4xx (or the documented safe
//! behaviour) over real HTTP on both backends: redirects after sign-in,
//! control characters in addresses, forms and JSON, login CSRF, loans
//! recorded by others than banks, the three administrators' separation,
//! values checked by their indicator, and typed forms.

#[macro_use]
mod common;

use common::{PLAN, TestApp};
use serde_json::json;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in on the form with `next`; the status and the `Location`.
async fn login_to(app: &TestApp, next: &str, headers: &[(&str, String)]) -> (u16, String) {
    let mut req = no_redirects().post(app.url("/login")).form(&[
        ("username", "kjj"),
        ("password", kc_app::auth::DEMO_PASSWORD),
        ("next", next),
    ]);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.send().await.unwrap();
    let to = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (r.status().as_u16(), to)
}

/// Items 2 and 3: `next` is followed only as a path on this site; tabs,
/// line breaks, NUL, backslashes and `//` (also percent-encoded) mean the
/// home page, never a 500.
async fn next_is_a_path_on_this_site(app: &TestApp) {
    for evil in [
        "/\t/evil.example",
        "/%09/evil.example",
        "//evil.example",
        "/%2F/evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "/\n/evil.example",
        "/a%0aSet-Cookie:x=1",
        "/a\r\nSet-Cookie: x=1",
        "/a%0d",
        "/a%00",
        "/a\u{0}b",
        " /plans",
        "/\u{202e}lp",
    ] {
        let (status, to) = login_to(app, evil, &[]).await;
        // Characters nobody types refuse the form itself (422, as every
        // form does); the rest sign in and go home.
        let ok = (status, to.as_str()) == (303, "/") || (status == 422 && to.is_empty());
        assert!(ok, "next = {evil:?}: {status} {to}");
    }
    let (status, to) = login_to(app, "/plans/bengbu-2023-2025?tab=1", &[]).await;
    assert_eq!(
        (status, to.as_str()),
        (303, "/plans/bengbu-2023-2025?tab=1")
    );
    // The sign-in page itself keeps only a safe `next` (and an address
    // with a control character is refused before it).
    let (status, _) = app.get("/login?next=/%09/evil.example").await;
    assert_eq!(status, 400);
    let (status, page) = app.get("/login?next=//evil.example").await;
    assert_eq!(status, 200);
    assert!(!page.contains("evil.example"), "{page}");
}

/// Item 3: control characters in an address are a 400, on every route and
/// both databases (PostgreSQL refuses NUL in text; SQLite would store it).
async fn control_characters_in_addresses_are_refused(app: &TestApp) {
    let kjj = app.client_as("kjj").await;
    let audit = app.client_as("auditor").await;
    for (c, path) in [
        (&kjj, "/plans/%00".to_string()),
        (&kjj, "/plans/a%0ab".to_string()),
        (&kjj, "/api/v1/values?plan=%00".to_string()),
        (&kjj, format!("/plans/{PLAN}/targets/T1-1?as_of=%1b")),
        (&kjj, "/public/market?q=%E2%80%AE".to_string()),
        (&audit, "/admin/audit?actor=%00".to_string()),
        (&audit, "/admin/audit?action=a%07".to_string()),
    ] {
        let r = c.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400, "{path}");
        let body = r.text().await.unwrap();
        assert!(body.contains("控制字符"), "{path}: {body}");
    }
}

/// Item 3: control characters in JSON and form text are a 422 naming the
/// field; nothing is stored.
async fn control_characters_in_text_are_refused(app: &TestApp) {
    // Signing in with a NUL in the name.
    let r = reqwest::Client::new()
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "kjj\u{0}", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["fields"][0]["field"], "username", "{body}");
    let reporter = app.client_as("yuhui-reporter").await;
    let before = app
        .db
        .store
        .audit_entries(&Default::default())
        .await
        .unwrap()
        .len();
    for note in [
        "\u{0}",
        "a\u{7}b",
        "\u{1b}[31mred",
        "gpj.\u{202e}exe",
        "c1\u{85}",
    ] {
        let r = reporter
            .post(app.url("/api/v1/values"))
            .json(
                &json!({"plan": PLAN, "indicator": "task_tech_market", "scope": "area:yuhui",
                          "period": "2025Q2", "value": 40, "note": note}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422, "{note:?}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["fields"][0]["field"], "note", "{body}");
    }
    // The same on the HTML form: a 422 that names the field in words.
    let r = reporter
        .post(app.url(&format!("/plans/{PLAN}/values")))
        .form(&[
            ("indicator", "task_tech_market"),
            ("scope", "area:yuhui"),
            ("period", "2025Q2"),
            ("value", "40"),
            ("note", "bad\u{0}note"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("备注") && page.contains("U+0000"), "{page}");
    // Tabs and line breaks are what people type: kept.
    let r = reporter
        .post(app.url("/api/v1/values"))
        .json(
            &json!({"plan": PLAN, "indicator": "task_tech_market", "scope": "area:yuhui",
                      "period": "2025Q2", "value": 40, "note": "第一行\r\n第二行\t完"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let after = app
        .db
        .store
        .audit_entries(&Default::default())
        .await
        .unwrap()
        .len();
    // The one good value; nothing from the refusals.
    assert_eq!(after, before + 1, "only the good value was stored");
}

/// Item 4: a sign-in form posted from another site is refused and sets no
/// session; from this site (or from a script, which sends neither header)
/// it works.
async fn login_from_another_site_is_refused(app: &TestApp) {
    let host = app.base.trim_start_matches("http://").to_string();
    for headers in [
        vec![("origin", "http://evil.example".to_string())],
        vec![("origin", "null".to_string())],
        vec![("referer", "http://evil.example/login.html".to_string())],
        vec![("origin", format!("http://{host}.evil.example"))],
    ] {
        let mut req = no_redirects().post(app.url("/login")).form(&[
            ("username", "kjj"),
            ("password", kc_app::auth::DEMO_PASSWORD),
        ]);
        for (k, v) in &headers {
            req = req.header(*k, v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "{headers:?}");
        assert!(r.headers().get("set-cookie").is_none(), "{headers:?}");
    }
    let (status, _) = login_to(app, "/", &[("origin", app.base.clone())]).await;
    assert_eq!(status, 303);
    let (status, _) = login_to(app, "/", &[("referer", app.url("/login"))]).await;
    assert_eq!(status, 303);
}

/// Item 6: only banks (through their loan form) and the coordinator record
/// loans; an area reporter cannot, through the API or the form.
async fn only_banks_record_loans(app: &TestApp) {
    let reporter = app.client_as("longzihu-reporter").await;
    let loan = json!({"bank": "某合作银行蚌埠分行（演示）", "number": "EVIL-1",
        "credit_code": "91340300MA2XXXXX0X", "product": "科技贷", "amount": 100,
        "lent_on": "2025-06-01", "due_on": "2026-06-01"});
    let r = reporter
        .post(app.url(&format!("/api/v1/plans/{PLAN}/registries/loans")))
        .json(&loan)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = reporter
        .post(app.url(&format!("/plans/{PLAN}/finance/loans")))
        .form(&[("number", "EVIL-2"), ("amount", "100")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let kjj = app.client_as("kjj").await;
    let r = kjj
        .get(app.url(&format!(
            "/api/v1/plans/{PLAN}/registries/loans?per_page=1000"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        !r.text().await.unwrap().contains("EVIL-"),
        "nothing was stored"
    );
}

/// Item 10: no administrator takes over another administrator's account
/// from the web; the server's CLI path still works and is audited.
async fn administrators_cannot_take_over_each_other(app: &TestApp) {
    let sec = app.client_as("security").await;
    for (path, form) in [
        ("/admin/users/auditor/reset", vec![]),
        ("/admin/users/admin/reset", vec![]),
        ("/admin/users/auditor/unlock", vec![]),
        ("/admin/users/auditor/roles", vec![("roles", "secadmin")]),
        ("/admin/users/auditor/roles", vec![("roles", "coordinator")]),
        (
            "/admin/users/wuhe-reporter/roles",
            vec![("roles", "auditadmin")],
        ),
    ] {
        let r = sec.post(app.url(path)).form(&form).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 403, "{path} {form:?}");
        let page = r.text().await.unwrap();
        assert!(page.contains("三员分立"), "{path}: {page}");
        assert!(!page.contains("临时密码"), "{path}");
    }
    // The auditor still signs in with the old password.
    common::sign_in(&app.base, "auditor", kc_app::auth::DEMO_PASSWORD)
        .await
        .expect("the auditor's password is unchanged");
    // An ordinary account is still the security administrator's work.
    let r = sec
        .post(app.url("/admin/users/wuhe-reporter/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // Break-glass on the server: the plain function the CLI calls.
    let who = kc_app::auth::Actor::new("运维（服务器）", "127.0.0.1");
    kc_app::auth::reset_password(&app.db.store, &who, "auditor")
        .await
        .expect("the server may reset an administrator");
    let trail = app
        .db
        .store
        .audit_entries(&Default::default())
        .await
        .unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "user.reset" && e.object == "user:auditor"),
        "the break-glass reset is audited"
    );
}

/// Roles are picked by their names (issue 15): the picker lists every role
/// in words, ticks the account's own, saves what is ticked; a typed list
/// takes names as people say them; a refusal stays on the picker.
async fn roles_are_picked_by_name(app: &TestApp) {
    let sec = app.client_as("security").await;
    let page = app.text_as(&sec, "/admin/users/wuhe-reporter/roles").await;
    assert!(
        page.contains("五河县填报员") && page.contains("龙子湖区审核员"),
        "{page}"
    );
    assert!(
        page.contains("value=\"area_reporter:wuhe\" checked"),
        "the account's own role is ticked"
    );
    assert!(!page.contains("dept_reporter:部门编码"), "no codes to read");
    let users = app.text_as(&sec, "/admin/users").await;
    assert!(
        !users.contains("area_reporter:"),
        "the list shows names, not codes"
    );
    let save = |form: Vec<(&'static str, &'static str)>| {
        let sec = sec.clone();
        let url = app.url("/admin/users/wuhe-reporter/roles");
        async move {
            let r = sec.post(url).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (s, _) = save(vec![
        ("picker", "1"),
        ("role", "area_reporter:wuhe"),
        ("role", "area_reviewer:longzihu"),
    ])
    .await;
    assert_eq!(s, 200);
    let roles = || async {
        let mut r = app
            .db
            .store
            .user("wuhe-reporter")
            .await
            .unwrap()
            .unwrap()
            .roles;
        r.sort();
        r
    };
    assert_eq!(
        roles().await,
        ["area_reporter:wuhe", "area_reviewer:longzihu"]
    );
    // Names typed as people say them.
    let (s, page) = save(vec![("roles", "五河县填报员、龙子湖区填报员")]).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(
        roles().await,
        ["area_reporter:longzihu", "area_reporter:wuhe"]
    );
    // An administrator's role with another one: refused on the picker,
    // the boxes as ticked.
    let (s, page) = save(vec![
        ("picker", "1"),
        ("role", "auditadmin"),
        ("role", "area_reporter:wuhe"),
    ])
    .await;
    assert!(s == 422 || s == 403, "{s}");
    assert!(page.contains("id=\"roles-error\""), "{page}");
    assert!(page.contains("value=\"auditadmin\" checked"));
}

/// The audit trail in words (issue 15): actions, objects and details read
/// as Chinese, people by name, the stored entry one click away; a date
/// typed as people write it is read, a bad one is said on the page.
async fn the_audit_trail_reads_in_words(app: &TestApp) {
    // Something to read: a login and a value submitted.
    let _ = app.client_as("tjj-reporter").await;
    let auditor = app.client_as("auditor").await;
    let r = auditor.get(app.url("/admin/audit")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let page = r.text().await.unwrap();
    let table = page.split("id=\"audit\"").nth(1).unwrap();
    assert!(table.contains("<td>登录</td>"), "{table}");
    // Outside the stored entry (in <details>) no action code is shown.
    let shown: String = table
        .split("<details")
        .map(|part| part.split("</details>").last().unwrap_or(""))
        .collect();
    for code in ["login", "value.submit", "user.demo", "{\""] {
        assert!(
            !shown.contains(&format!(">{code}<")),
            "{code} shown as a code"
        );
    }
    assert!(table.contains("原始记录"));
    // A date as people write it.
    let r = auditor
        .get(app.url("/admin/audit?from=2020/1/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // A bad one: the page, with the message beside the filter.
    let r = auditor
        .get(app.url("/admin/audit?from=%E6%98%8E%E5%A4%A9"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"audit-error\"") && page.contains("日期“明天”不正确"),
        "{page}"
    );
    assert!(page.contains("name=\"actor\""), "the filter form is kept");
    // The export carries the words beside the codes.
    let csv = auditor
        .get(app.url("/admin/audit/export"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.lines().next().unwrap().contains("操作说明"));
}

/// Item 12: values are checked by their indicator: a share within 0–100,
/// the period no finer than the indicator's frequency; computed indicators
/// are not offered on the entry form.
async fn values_are_checked_by_their_indicator(app: &TestApp) {
    let tjj = app.client_as("tjj-reporter").await;
    for (indicator, period, value, field) in [
        ("rd_activity_share", "2024", "250", "value"),
        ("rd_activity_share", "2024", "-5", "value"),
        ("rd_activity_share", "2025Q2", "5", "period"),
        ("rd_intensity", "2025-06", "2.1", "period"),
    ] {
        let r = tjj
            .post(app.url("/api/v1/values"))
            .json(
                &json!({"plan": PLAN, "indicator": indicator, "scope": "city",
                          "period": period, "value": value}),
            )
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status, 422, "{indicator} {period} {value}: {body}");
        let fields: Vec<&str> = body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert!(
            fields.contains(&field),
            "{indicator} {period} {value}: {body}"
        );
    }
    // A growth rate the plan allows beyond a share's range.
    let rmyh = app.client_as("rmyh-reporter").await;
    let r = rmyh
        .post(app.url("/api/v1/values"))
        .json(
            &json!({"plan": PLAN, "indicator": "city_loan_growth", "scope": "city",
                      "period": "2025Q2", "value": -3.5}),
        )
        .send()
        .await
        .unwrap();
    // Stored, or a conflict with a demo value: either way not refused.
    let status = r.status().as_u16();
    assert!(
        matches!(status, 201 | 409),
        "{status} {}",
        r.text().await.unwrap()
    );
    // The entry form offers no computed indicator.
    let page = app
        .text_as(
            &app.client_as("kjj").await,
            &format!("/plans/{PLAN}/values/new"),
        )
        .await;
    assert!(
        page.contains("value=\"rd_intensity\""),
        "reported ones are offered"
    );
    assert!(
        !page.contains("value=\"hte_count\""),
        "registry-computed is not"
    );
}

/// Typed forms: a wrong type names the field in words, an unknown field is
/// refused, and a body that is not a form is a 415.
async fn forms_are_typed(app: &TestApp) {
    let reporter = app.client_as("yuhui-reporter").await;
    let url = app.url(&format!("/plans/{PLAN}/values"));
    let base = [
        ("indicator", "task_tech_market"),
        ("scope", "area:yuhui"),
        ("period", "2025Q2"),
        ("value", "40"),
    ];
    let r = reporter
        .post(&url)
        .form(&[&base[..], &[("expected_revision", "abc")]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("版本号"));
    let r = reporter
        .post(&url)
        .form(&[&base[..], &[("is_admin", "1")]].concat())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("is_admin"));
    let r = reporter
        .post(&url)
        .header("content-type", "text/plain")
        .body("indicator=task_tech_market")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
}

on_both_backends!(
    next_is_a_path_on_this_site,
    control_characters_in_addresses_are_refused,
    control_characters_in_text_are_refused,
    login_from_another_site_is_refused,
    only_banks_record_loans,
    administrators_cannot_take_over_each_other,
    values_are_checked_by_their_indicator,
    forms_are_typed,
    roles_are_picked_by_name,
    the_audit_trail_reads_in_words,
);
