//! Registries over real HTTP on each backend: lists, drill-down from a
//! computed number to exactly the records counted, forms, import, export.

#[macro_use]
mod common;

use common::{PLAN, TestApp};

/// The value of a target as the API reports it.
async fn api_value(app: &TestApp, target: &str, scope: &str) -> f64 {
    let j = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/targets/{target}?scope={scope}"
        ))
        .await;
    j["target"]["value"].as_f64().unwrap_or(f64::NAN)
}

/// The number of records a drill-down page says make up the value.
fn drill_count(page: &str) -> usize {
    let s = page.split("以下 ").nth(1).expect("a drill-down sentence");
    s.split(' ').next().unwrap().parse().unwrap()
}

fn href_of(page: &str, needle: &str) -> String {
    let i = page
        .find(needle)
        .unwrap_or_else(|| panic!("no link containing {needle}"));
    let start = page[..i].rfind("href=\"").unwrap() + 6;
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&").replace("&#38;", "&")
}

async fn registry_pages_and_drill_down(app: &TestApp) {
    let (status, index) = app.get(&format!("/plans/{PLAN}/registries")).await;
    assert_eq!(status, 200);
    for def in kc_domain::registry::all() {
        assert!(index.contains(def.name), "index lacks {}", def.name);
    }
    // The computed high-tech count links to exactly the records counted.
    let (_, target) = app.get(&format!("/plans/{PLAN}/targets/T3-2")).await;
    assert!(target.contains("id=\"computed\""), "the computed note");
    assert!(
        !target.contains("id=\"f-value\""),
        "no entry form for a computed indicator"
    );
    let link = href_of(&target, "indicator=hte_count");
    let (status, drill) = app.get(&link).await;
    assert_eq!(status, 200, "{link}");
    let value = api_value(app, "T3-2", "city").await;
    assert_eq!(
        drill_count(&drill) as f64,
        value,
        "drill-down count equals the number shown"
    );
    // Per area too, and the areas add up to the city.
    assert!(target.contains("id=\"areas\""));
    let mut sum = 0.0;
    for area in ["longzihu", "gaoxin", "huaiyuan"] {
        let v = api_value(app, "T3-2", &format!("area:{area}")).await;
        let (_, d) = app
            .get(&link.replace("scope=city", &format!("scope=area:{area}")))
            .await;
        assert_eq!(drill_count(&d) as f64, v, "{area}");
        sum += v;
    }
    assert!(sum > 0.0 && sum < value);
    // A sum: absorbed contract turnover, drill total in the sentence.
    let (_, t51) = app.get(&format!("/plans/{PLAN}/targets/T5-1")).await;
    let link = href_of(&t51, "indicator=contract_absorbed");
    let (status, d) = app.get(&link).await;
    assert_eq!(status, 200);
    assert!(
        d.contains("亿元"),
        "the drill sentence gives the total with its unit"
    );
    // The list behind a sum shows the amounts summed (issue 15).
    let head = d
        .split("<thead>")
        .nth(1)
        .unwrap()
        .split("</thead>")
        .next()
        .unwrap();
    assert!(head.contains("成交额") || head.contains("金额"), "{head}");
    // The list behind the high-tech count names each firm and when its
    // qualification ends.
    let (_, t32) = app.get(&format!("/plans/{PLAN}/targets/T3-2")).await;
    let (_, q) = app.get(&href_of(&t32, "indicator=hte_count")).await;
    let head = q
        .split("<thead>")
        .nth(1)
        .unwrap()
        .split("</thead>")
        .next()
        .unwrap();
    assert!(
        head.contains("企业名称") && head.contains("有效期至"),
        "{head}"
    );
    let body = q
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tbody>")
        .next()
        .unwrap();
    let first = body.split("<tr").nth(1).unwrap();
    let name = first
        .split("<td")
        .nth(1)
        .and_then(|c| c.split("</a>").next())
        .and_then(|c| c.rsplit('>').next())
        .unwrap_or("");
    assert!(
        name.contains("公司") || name.len() > 6,
        "a firm's name: {first}"
    );
    // Lists, search, area filter, paging, record view.
    let (status, list) = app
        .get(&format!(
            "/plans/{PLAN}/registries/qualifications?area=gaoxin"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(list.contains("下一页"));
    let (_, page2) = app
        .get(&format!(
            "/plans/{PLAN}/registries/qualifications?area=gaoxin&page=2"
        ))
        .await;
    assert!(page2.contains("第 2 /"));
    let rec = href_of(&list, "/registries/qualifications/record?key=");
    let (status, view) = app.get(&rec).await;
    assert_eq!(status, 200);
    assert!(
        view.contains("有效期"),
        "qualifications show their validity"
    );
    assert!(view.contains("所属企业"));
    for path in [
        format!("/plans/{PLAN}/registries/nope"),
        format!("/plans/{PLAN}/registries/enterprises/record?key=nope"),
        format!("/plans/{PLAN}/registries/enterprises/edit?key=nope"),
    ] {
        assert_eq!(app.get(&path).await.0, 404, "{path}");
    }
    let (status, _) = app
        .get(&format!(
            "/plans/{PLAN}/registries/platforms?indicator=hte_count&to=2025-09-30"
        ))
        .await;
    assert_eq!(status, 400, "an indicator of another registry");
    let (status, _) = app
        .get(&format!(
            "/plans/{PLAN}/registries/qualifications?indicator=hte_count&to=yesterday"
        ))
        .await;
    assert_eq!(status, 400);
    // Export and templates.
    for (path, mime) in [
        ("enterprises/export.xlsx?area=wuhe", "spreadsheetml"),
        ("enterprises/export.csv?q=科技", "text/csv"),
        ("contracts/template.xlsx", "spreadsheetml"),
        ("contracts/template.csv", "text/csv"),
    ] {
        let r = app
            .http
            .get(app.url(&format!("/plans/{PLAN}/registries/{path}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.contains(mime), "{path}: {ct}");
        let cd = r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(cd.contains("filename*=UTF-8''"), "{cd}");
        assert!(!r.bytes().await.unwrap().is_empty());
    }
    // Exports name areas and qualification kinds in words (issue 15), and
    // an import takes the words back.
    let csv = app
        .http
        .get(app.url(&format!(
            "/plans/{PLAN}/registries/qualifications/export.csv?area=wuhe"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().any(|l| l.contains("高新技术企业")));
    let ents = app
        .http
        .get(app.url(&format!(
            "/plans/{PLAN}/registries/enterprises/export.csv?area=wuhe"
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ents: Vec<&str> = ents.lines().skip(1).collect();
    assert!(!ents.is_empty());
    assert!(
        ents.iter()
            .all(|l| l.contains("五河县") && !l.contains(",wuhe")),
        "{}",
        ents[0]
    );
    assert!(
        !rows
            .iter()
            .any(|l| l.contains(",hte,") || l.contains(",tsme,"))
    );
}

async fn forms_change_the_computed_numbers_at_once(app: &TestApp) {
    let save = |pairs: Vec<(&'static str, String)>| async move {
        app.http
            .post(app.url(&format!("/plans/{PLAN}/registries/{}/save", pairs[0].1)))
            .form(&pairs[1..])
            .send()
            .await
            .unwrap()
    };
    let code = kc_domain::credit::complete("91340300MA2T00001")
        .unwrap()
        .to_string();
    // A bad credit code and an unknown area: errors beside the fields, input kept.
    let r = save(vec![
        ("reg", "enterprises".into()),
        ("credit_code", "91340300MA2T000019".into()),
        ("name", "<b>新星科技</b>".into()),
        ("area", "nowhere".into()),
    ])
    .await;
    assert_eq!(r.status().as_u16(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("id=\"err-credit_code\""),
        "credit code error beside the field"
    );
    assert!(body.contains("校验位错误") || body.contains("不是有效字符"));
    assert!(body.contains("id=\"err-area\""));
    assert!(body.contains("value=\"91340300MA2T000019\""), "input kept");
    assert!(!body.contains("<b>新星科技</b>"), "markup escaped");
    // A good enterprise, then a high-tech certificate for it.
    let before = api_value(app, "T3-2", "city").await;
    let before_area = api_value(app, "T3-2", "area:gaoxin").await;
    let r = save(vec![
        ("reg", "enterprises".into()),
        ("credit_code", code.clone()),
        ("name", "<b>新星科技</b>".into()),
        ("area", "gaoxin".into()),
        ("above_scale", "是".into()),
    ])
    .await;
    assert_eq!(r.status().as_u16(), 303);
    let r = save(vec![
        ("reg", "qualifications".into()),
        ("credit_code", code.clone()),
        ("kind", "hte".into()),
        ("number", "GR202534TEST".into()),
        ("issued_on", "2025-01-15".into()),
    ])
    .await;
    assert_eq!(
        r.status().as_u16(),
        303,
        "{}",
        r.text().await.unwrap_or_default()
    );
    assert_eq!(api_value(app, "T3-2", "city").await, before + 1.0);
    assert_eq!(
        api_value(app, "T3-2", "area:gaoxin").await,
        before_area + 1.0
    );
    // The same key again from the "new" form is refused, not overwritten.
    let r = save(vec![
        ("reg", "qualifications".into()),
        ("credit_code", code.clone()),
        ("kind", "hte".into()),
        ("number", "GR202534TEST".into()),
        ("issued_on", "2025-02-01".into()),
    ])
    .await;
    assert_eq!(r.status().as_u16(), 422);
    // Moving the enterprise moves the count between areas.
    let r = save(vec![
        ("reg", "enterprises".into()),
        ("_old_key", code.clone()),
        ("credit_code", code.clone()),
        ("name", "<b>新星科技</b>".into()),
        ("area", "wuhe".into()),
    ])
    .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(api_value(app, "T3-2", "area:gaoxin").await, before_area);
    assert_eq!(api_value(app, "T3-2", "city").await, before + 1.0);
    let (_, list) = app
        .get(&format!("/plans/{PLAN}/registries/enterprises?q=新星"))
        .await;
    assert!(
        list.contains("&lt;b&gt;新星科技") || list.contains("&#60;b&#62;新星科技"),
        "escaped in lists"
    );
    // A certificate for an unregistered enterprise is refused.
    let r = save(vec![
        ("reg", "qualifications".into()),
        ("credit_code", "91110000802100433B".into()),
        ("kind", "hte".into()),
        ("number", "X1".into()),
        ("issued_on", "2025-01-15".into()),
    ])
    .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("不在企业登记库中"));
    // Deleting the certificate takes the count back.
    let key = format!("{code}|hte|GR202534TEST");
    let r = app
        .http
        .post(app.url(&format!("/plans/{PLAN}/registries/qualifications/delete")))
        .form(&[("key", key.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(api_value(app, "T3-2", "city").await, before);
}

async fn imports_report_rows_and_are_all_or_nothing(app: &TestApp) {
    let upload = |name: &'static str, body: Vec<u8>, skip: bool| async move {
        let mut form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(body).file_name(name),
        );
        if skip {
            form = form.text("skip_invalid", "1");
        }
        let r = app
            .http
            .post(app.url(&format!("/plans/{PLAN}/registries/events/import")))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    };
    let before = app.db.store.count_records("events").await.unwrap();
    let csv = "活动名称,活动类型,举办日期,举办地区\n\
               银企对接会A,银企对接,2025-08-01,蚌山区\n\
               银企对接会B,银企大会,2025-08-02,蚌山区\n\
               银企对接会C,银企对接,2025-13-01,合肥\n";
    let (status, body) = upload("events.csv", csv.as_bytes().to_vec(), false).await;
    assert_eq!(status, 422);
    assert!(body.contains("未导入任何数据"));
    assert!(
        body.contains("不是可选值")
            && body.contains("不是有效日期")
            && body.contains("不是本市的地区")
    );
    assert_eq!(
        app.db.store.count_records("events").await.unwrap(),
        before,
        "nothing written"
    );
    let (status, body) = upload("events.csv", csv.as_bytes().to_vec(), true).await;
    assert_eq!(status, 200);
    assert!(body.contains("已导入 1 条记录"), "{body}");
    assert_eq!(
        app.db.store.count_records("events").await.unwrap(),
        before + 1
    );
    // Re-importing the same row neither adds nor rewrites it; a changed row
    // updates the record instead of adding one.
    let (status, body) = upload("events.csv", csv.as_bytes().to_vec(), true).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("已导入 0 条记录（新增 0，更新 0，另有 1 条与已有记录相同未改动）"),
        "{body}"
    );
    let changed = csv.replace("2025-08-01,蚌山区", "2025-08-01,龙子湖区");
    let (_, body) = upload("events.csv", changed.into_bytes(), true).await;
    assert!(body.contains("新增 0，更新 1"), "{body}");
    assert_eq!(
        app.db.store.count_records("events").await.unwrap(),
        before + 1
    );
    // The engine is rebuilt: the imported event counts.
    let (_, list) = app
        .get(&format!("/plans/{PLAN}/registries/events?q=银企对接会A"))
        .await;
    assert!(list.contains("银企对接会A"));
    // Not a spreadsheet; no file.
    let (status, body) = upload("events.txt", b"x".to_vec(), false).await;
    assert_eq!(status, 400);
    assert!(body.contains("不是 .xlsx 或 .csv"));
    let (status, body) = upload("events.xlsx", b"not a zip".to_vec(), false).await;
    assert_eq!(status, 400);
    assert!(body.contains("不是有效的 Excel"));
    // Too large an upload is refused.
    let big = vec![b'a'; 21 * 1024 * 1024];
    let (status, _) = upload("big.csv", big, false).await;
    assert!(status == 400 || status == 413, "{status}");
}

async fn registry_api(app: &TestApp) {
    let base = format!("/api/v1/plans/{PLAN}/registries/enterprises");
    let code = kc_domain::credit::complete("91340300MA2T00002")
        .unwrap()
        .to_string();
    let body = serde_json::json!({ "credit_code": code, "name": "接口企业", "area": "蚌山区", "above_scale": true });
    let (status, j) = app.post_json(&base, &body).await;
    assert_eq!(status, 201, "{j}");
    assert_eq!(j["fields"]["area"], "bengshan");
    let (status, _) = app.post_json(&base, &body).await;
    assert_eq!(status, 200, "the same key replaces");
    let (status, j) = app
        .post_json(
            &base,
            &serde_json::json!({ "credit_code": "123", "name": "", "area": "火星" }),
        )
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = j["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["credit_code", "name", "area"], "{j}");
    let list = app.get_json(&format!("{base}?q=接口企业")).await;
    assert_eq!(list["total"], 1);
    let one = app.get_json(&format!("{base}/record?key={code}")).await;
    assert_eq!(one["fields"]["name"], "接口企业");
    let drill = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/registries/qualifications?indicator=hte_count&scope=city&to=2025-09-30&per_page=5"
        ))
        .await;
    assert_eq!(drill["records"].as_array().unwrap().len(), 5);
    assert!(drill["drill"].as_str().unwrap().contains("高新技术企业数"));
    let r = app
        .http
        .delete(app.url(&format!("{base}?key={code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let r = app
        .http
        .delete(app.url(&format!("{base}?key={code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
}

on_both_backends!(
    registry_pages_and_drill_down,
    forms_change_the_computed_numbers_at_once,
    imports_report_rows_and_are_all_or_nothing,
    registry_api,
);

/// While a large upload is read and checked, the server keeps answering:
/// requests made during the check return while the import is still
/// running. One worker thread, so a check that held it would stop
/// everything else until the import's answer. The file has an error in its
/// last row, so the import is all reading and checking (it is refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn the_server_answers_during_a_large_import() {
    let app = TestApp::sqlite().await;
    let mut csv = String::from("活动名称,活动类型,举办日期,举办地区\n");
    for i in 0..200_000 {
        csv.push_str(&format!(
            "大型导入活动{i},供需对接,2025-03-{:02},蚌山区\n",
            i % 28 + 1
        ));
    }
    csv.push_str("最后一行,供需对接,2025-13-01,蚌山区\n");
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("events.csv"),
    );
    let import = tokio::spawn({
        let http = app.http.clone();
        let url = app.url(&format!("/plans/{PLAN}/registries/events/import"));
        async move {
            let r = http.post(url).multipart(form).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    });
    // Ask for other things until the import answers.
    let mut answered_during = 0;
    while !import.is_finished() {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        for path in ["/healthz", &format!("/plans/{PLAN}/registries")] {
            let (status, _) = app.get(path).await;
            assert_eq!(status, 200, "{path}");
            if !import.is_finished() {
                answered_during += 1;
            }
        }
    }
    let (status, body) = import.await.unwrap();
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("第 200002 行") || body.contains("200002"),
        "{body}"
    );
    eprintln!("{answered_during} requests answered while the import ran");
    assert!(
        answered_during >= 8,
        "only {answered_during} requests answered while the import ran"
    );
    app.stop().await;
}
