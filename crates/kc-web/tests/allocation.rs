//! Issue 14, area targets: an area is judged on its own share of a target
//! (the allocation table), the table is exported, imported and edited with
//! row-level messages and nothing written on a bad row, each change a new
//! plan version; over real HTTP on both backends.

#[macro_use]
mod common;

use common::{PLAN, TestApp};
use serde_json::Value;

fn target<'a>(j: &'a Value, code: &str) -> Option<&'a Value> {
    j["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == code)
}

async fn version(app: &TestApp) -> i64 {
    app.get_json(&format!("/api/v1/plans/{PLAN}")).await["version"]
        .as_i64()
        .unwrap()
}

/// The area's own targets in the API, the area page and its warnings.
async fn an_area_is_judged_on_its_own_targets(app: &TestApp) {
    let j = app
        .get_json(&format!("/api/v1/plans/{PLAN}/targets?scope=area:longzihu"))
        .await;
    let hte = target(&j, "T3-2").expect("T3-2 is allocated to 龙子湖区");
    assert_eq!(hte["target"], 122.0, "the area's own final target: {hte}");
    assert_eq!(hte["baseline"]["value"], 71.0);
    assert!(hte["completion"].is_number(), "{hte}");
    // A count not allocated to the area is not the area's to meet.
    assert!(target(&j, "T1-1").is_none());
    // A rate not allocated is held to the city's rate.
    let share = target(&j, "T4-3").expect("a rate applies to every area");
    assert_eq!(share["target"], 38.0);
    // The city keeps its own numbers.
    let city = app.get_json(&format!("/api/v1/plans/{PLAN}/targets")).await;
    assert_eq!(target(&city, "T3-2").unwrap()["target"], 1200.0);
    assert!(target(&city, "T1-1").is_some());

    let kjj = app.client_as("kjj").await;
    let page = app
        .text_as(&kjj, &format!("/plans/{PLAN}/areas/longzihu"))
        .await;
    assert!(
        page.contains("本地区目标") && page.contains("高新技术企业数"),
        "area page"
    );
    let (status, page) = app
        .get(&format!("/plans/{PLAN}/warnings?scope=area:longzihu"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("龙子湖区"));
    // Areas ranked on their own targets: nine rows, best first, scores
    // within 0–100, ranks from 1.
    let own = app
        .get_json(&format!("/api/v1/plans/{PLAN}/ranking/own"))
        .await;
    let rows = own["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 9);
    assert_eq!(rows[0]["rank"], 1);
    let scores: Vec<f64> = rows.iter().map(|r| r["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(
        scores.iter().all(|s| (0.0..=100.0).contains(s)),
        "{scores:?}"
    );
    let (status, _) = app.get(&format!("/plans/{PLAN}/ranking/own")).await;
    assert_eq!(status, 200);
    // A target the area does not answer for says so.
    let (status, page) = app
        .get(&format!("/plans/{PLAN}/targets/T1-1?scope=area:longzihu"))
        .await;
    assert_eq!(status, 404);
    assert!(page.contains("没有分解到本地区"), "{page}");
}

/// The coordinator's form: a new share changes the area's verdict; a bad
/// cell re-shows the form with the message and what was typed.
async fn the_coordinator_edits_an_area_target(app: &TestApp) {
    let kjj = app.client_as("kjj").await;
    let before = version(app).await;
    let area = format!("/api/v1/plans/{PLAN}/targets?scope=area:longzihu");
    let old = target(&app.get_json(&area).await, "T3-2").unwrap().clone();
    let score = |j: Value| {
        j["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["area"] == "longzihu")
            .unwrap()["score"]
            .as_f64()
            .unwrap()
    };
    let own = format!("/api/v1/plans/{PLAN}/ranking/own");
    let score_before = score(app.get_json(&own).await);
    let form = app
        .text_as(&kjj, &format!("/plans/{PLAN}/allocation/T3-2"))
        .await;
    assert!(
        form.contains("name=\"target.longzihu\" value=\"122\""),
        "{form}"
    );

    // Every area's current row, with 龙子湖区's final target lowered below
    // the area's latest value.
    let mut fields: Vec<(String, String)> = Vec::new();
    for input in form.split("<input ").skip(1) {
        let attr = |a: &str| {
            input
                .split(&format!("{a}=\""))
                .nth(1)
                .and_then(|v| v.split('"').next())
                .unwrap_or("")
                .to_string()
        };
        let name = attr("name");
        if !name.is_empty() && name != "_csrf" {
            fields.push((name, attr("value")));
        }
    }
    assert_eq!(fields.len(), 9 * 5, "{fields:?}");
    let raised: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| {
            if k == "target.longzihu" {
                (k.clone(), "95".to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let r = kjj
        .post(app.url(&format!("/plans/{PLAN}/allocation/T3-2")))
        .form(&raised)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    assert_eq!(version(app).await, before + 1, "a new plan version");
    let new = target(&app.get_json(&area).await, "T3-2").unwrap().clone();
    assert_eq!(new["target"], 95.0);
    assert_eq!(
        new["checkpoints"], old["checkpoints"],
        "the yearly targets kept"
    );
    assert_eq!(old["status"], "off_track", "{old}");
    assert_eq!(new["status"], "achieved", "{new}");
    assert!(
        score(app.get_json(&own).await) > score_before,
        "an easier share raises the area's own-target score"
    );

    // A word in a number cell: 422, the message names the area, the typed
    // value is kept, nothing written.
    let bad: Vec<(String, String)> = raised
        .iter()
        .map(|(k, v)| {
            if k == "baseline.bengshan" {
                (k.clone(), "七十六".to_string())
            } else {
                (k.clone(), v.clone())
            }
        })
        .collect();
    let r = kjj
        .post(app.url(&format!("/plans/{PLAN}/allocation/T3-2")))
        .form(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("蚌山区：基期值“七十六”不是数字"), "{page}");
    assert!(page.contains("value=\"七十六\""));
    assert_eq!(version(app).await, before + 1, "nothing written");
    // Reporters may read the table but not change it.
    let reporter = app.client_as("longzihu-reporter").await;
    let r = reporter
        .post(app.url(&format!("/plans/{PLAN}/allocation/T3-2")))
        .form(&raised)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
}

/// Export → import of the same table changes nothing; an edited table is a
/// new version equal to the same edit made in the plan file by hand; a bad
/// table is refused row by row with nothing written.
async fn the_table_goes_out_and_comes_back(app: &TestApp) {
    let kjj = app.client_as("kjj").await;
    let before = version(app).await;
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let kjj = kjj.clone();
        let url = app.url(&format!("/plans/{PLAN}/allocation/import"));
        async move {
            let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
            let r = kjj
                .post(url)
                .multipart(reqwest::multipart::Form::new().part("file", part))
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    for format in ["xlsx", "csv"] {
        let r = kjj
            .get(app.url(&format!("/plans/{PLAN}/allocation?format={format}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let bytes = r.bytes().await.unwrap().to_vec();
        let (status, page) = upload(
            if format == "xlsx" {
                "表.xlsx"
            } else {
                "表.csv"
            },
            bytes,
        )
        .await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("未生成新版本"), "{format}: {page}");
    }
    assert_eq!(version(app).await, before);

    // The CSV with 五河县's share of T3-2 changed from 84 to 90.
    let csv = kjj
        .get(app.url(&format!("/plans/{PLAN}/allocation?format=csv")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let edited: String = csv
        .lines()
        .map(|l| {
            if l.starts_with("T3-2,") && l.contains(",五河县,") {
                l.replace(",84,", ",90,")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert_ne!(edited, csv.trim_end());
    let (status, page) = upload("表.csv", edited.into_bytes()).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("合计 1206，大于全市目标 1200"),
        "the sum is checked: {page}"
    );
    assert_eq!(version(app).await, before + 1);
    let stored = app.get_json(&format!("/api/v1/plans/{PLAN}")).await;
    let by_hand = kc_planfile::parse_plan(
        "bengbu.toml",
        &kc_app::BENGBU_PLAN.replacen(
            "wuhe      = { baseline = 49, target = 84,",
            "wuhe      = { baseline = 49, target = 90,",
            1,
        ),
    )
    .unwrap();
    let by_hand = kc_planfile::plan_json(&by_hand);
    assert_eq!(
        stored["targets"], by_hand["targets"],
        "the imported table and the same edit by hand give the same plan"
    );

    // Unknown area and target, text in a number, a duplicate: every row
    // reported, nothing written.
    let bad = "目标编号,责任地区或部门,期末目标\nT3-2,火星区,5\nT9-9,龙子湖区,5\nT3-2,蚌山区,很多\nT3-2,禹会区,5\nT3-2,禹会区,6\n";
    let (status, page) = upload("坏表.csv", bad.as_bytes().to_vec()).await;
    assert_eq!(status, 422);
    for msg in [
        "第 2 行：“火星区”不是本规划的地区或部门",
        "第 3 行：目标编号“T9-9”不在本规划中",
        "第 4 行：期末目标“很多”不是数字",
        "第 6 行：目标 T3-2 的“禹会区”重复出现",
    ] {
        assert!(page.contains(msg), "{msg} in {page}");
    }
    assert_eq!(version(app).await, before + 1, "nothing written");
}

on_both_backends!(
    an_area_is_judged_on_its_own_targets,
    the_coordinator_edits_an_area_target,
    the_table_goes_out_and_comes_back,
);
