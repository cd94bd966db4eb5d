//! Issue 14, plans edited by their owners: the coordinator changes a target,
//! a task and an indicator in the browser's forms (each a new version equal
//! to the same edit made by hand in the TOML), a bad edit is refused with
//! `plan check`'s message beside the field, a stale form is refused, two
//! versions are compared, and a target table makes a new plan; over real
//! HTTP on both backends.

#[macro_use]
mod common;

use common::{PLAN, TestApp};
use serde_json::Value;

async fn version(app: &TestApp) -> i64 {
    app.get_json(&format!("/api/v1/plans/{PLAN}")).await["version"]
        .as_i64()
        .unwrap()
}

/// The named fields of a form page as a browser would send them: inputs,
/// the selected option of each select, checked boxes, textareas.
fn form_fields(page: &str) -> Vec<(String, String)> {
    let form = page
        .split("<form class=\"entry\"")
        .nth(1)
        .and_then(|f| f.split("</form>").next())
        .expect("the page has an entry form");
    let attr = |tag: &str, a: &str| {
        tag.split(&format!(" {a}=\""))
            .nth(1)
            .and_then(|v| v.split('"').next())
            .map(|v| {
                v.replace("&amp;", "&")
                    .replace("&#34;", "\"")
                    .replace("&quot;", "\"")
            })
    };
    let mut out = Vec::new();
    for tag in form.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        if let Some(rest) = tag.strip_prefix("input ") {
            let Some(name) = attr(rest, "name") else {
                continue;
            };
            if name == "_csrf" {
                continue;
            }
            if rest.contains("type=\"checkbox\"") && !rest.contains(" checked") {
                continue;
            }
            out.push((name, attr(rest, "value").unwrap_or_default()));
        }
    }
    for sel in form.split("<select ").skip(1) {
        let head = sel.split('>').next().unwrap();
        let name = attr(&format!(" {head}"), "name").unwrap();
        let body = sel.split("</select>").next().unwrap();
        let chosen = body
            .split("<option ")
            .skip(1)
            .find(|o| o.contains(" selected"))
            .or_else(|| body.split("<option ").nth(1))
            .and_then(|o| attr(&format!(" {o}"), "value"))
            .unwrap_or_default();
        out.push((name, chosen));
    }
    for ta in form.split("<textarea ").skip(1) {
        let head = ta.split('>').next().unwrap();
        let name = attr(&format!(" {head}"), "name").unwrap();
        let body = ta
            .split_once('>')
            .unwrap()
            .1
            .split("</textarea>")
            .next()
            .unwrap();
        out.push((name, body.to_string()));
    }
    out
}

fn with(fields: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = fields.iter().filter(|(k, _)| k != key).cloned().collect();
    f.push((key.to_string(), value.to_string()));
    f
}

/// The target form: a change saved as a new version equal to the TOML
/// edited by hand; bad values re-shown beside their fields; a stale form
/// refused; the diff page shows the changed line.
async fn the_coordinator_edits_a_target(app: &TestApp) {
    let kjj = app.client_as("kjj").await;
    let before = version(app).await;
    let page = app
        .text_as(&kjj, &format!("/plans/{PLAN}/edit/targets/T3-2"))
        .await;
    let fields = form_fields(&page);
    let get = |k: &str| {
        fields
            .iter()
            .find(|(kk, _)| kk == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("target").as_deref(), Some("1200"), "{fields:?}");
    assert_eq!(get("kind").as_deref(), Some("stock"));
    assert_eq!(get("version"), Some(before.to_string()));

    let post = |fields: Vec<(String, String)>| {
        let kjj = kjj.clone();
        let url = app.url(&format!("/plans/{PLAN}/edit/targets/T3-2"));
        async move {
            let r = kjj.post(url).form(&fields).send().await.unwrap();
            let status = r.status().as_u16();
            let location = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (status, location, r.text().await.unwrap())
        }
    };

    // A word where a number goes, and a deadline before the baseline: 422,
    // each message beside its field, what was typed kept, nothing written.
    let bad = with(&with(&fields, "baseline", "九百"), "target", "1300");
    let (status, _, page) = post(bad).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("id=\"err-baseline\""), "{page}");
    assert!(page.contains("基期值“九百”不是数字"));
    assert!(page.contains("value=\"九百\"") && page.contains("value=\"1300\""));
    let bad = with(&fields, "deadline", "2020-12-31");
    let (status, _, page) = post(bad).await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("id=\"err-deadline\""),
        "plan check's message beside the deadline: {page}"
    );
    assert_eq!(version(app).await, before, "nothing written");

    // The same change made by hand in the file.
    let edited = with(&fields, "target", "1300");
    let (status, location, body) = post(edited.clone()).await;
    assert_eq!(status, 303, "{body}");
    assert_eq!(
        location.as_deref(),
        Some(format!("/plans/{PLAN}/edit?saved={}", before + 1).as_str())
    );
    assert_eq!(version(app).await, before + 1);
    let stored = app.get_json(&format!("/api/v1/plans/{PLAN}")).await;
    let text = kc_app::BENGBU_PLAN;
    let at = text.find("code = \"T3-2\"").unwrap();
    let end = at + text[at..].find("target = 1200").unwrap();
    let by_hand = format!(
        "{}target = 1300{}",
        &text[..end],
        &text[end + "target = 1200".len()..]
    );
    let by_hand = kc_planfile::plan_json(&kc_planfile::parse_plan("b.toml", &by_hand).unwrap());
    assert_eq!(
        stored["targets"], by_hand["targets"],
        "the form and the hand edit agree"
    );
    let j = app.get_json(&format!("/api/v1/plans/{PLAN}/targets")).await;
    let t = j["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "T3-2")
        .unwrap();
    assert_eq!(
        t["target"], 1300.0,
        "the read model follows the new version"
    );

    // The form opened on the old version cannot overwrite the new one.
    let (status, _, page) = post(with(&fields, "target", "1400")).await;
    assert_eq!(status, 422);
    assert!(
        page.contains(&format!("规划已被修改为第 {} 版", before + 1)),
        "{page}"
    );
    assert_eq!(version(app).await, before + 1);

    // The diff shows the line.
    let diff = app
        .text_as(&kjj, &format!("/plans/{PLAN}/versions/diff"))
        .await;
    assert!(
        diff.contains("target = 1200") && diff.contains("target = 1300"),
        "{diff}"
    );
    assert!(diff.contains("删去 1 行，增加 1 行"), "{diff}");
    // The TOML of the new version downloads.
    let toml = app
        .text_as(
            &kjj,
            &format!("/plans/{PLAN}/versions/{}/source", before + 1),
        )
        .await;
    assert!(toml.contains("target = 1300"));

    // Reporters cannot edit.
    let reporter = app.client_as("longzihu-reporter").await;
    let r = reporter
        .post(app.url(&format!("/plans/{PLAN}/edit/targets/T3-2")))
        .form(&edited)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let leader = app.client_as("leader").await;
    let r = leader
        .get(app.url(&format!("/plans/{PLAN}/edit")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        403,
        "a leader reads the plan but does not edit it"
    );
}

/// A new target, a task's units and an indicator's name, each a version.
async fn targets_tasks_and_indicators(app: &TestApp) {
    let kjj = app.client_as("kjj").await;
    let before = version(app).await;
    let page = app
        .text_as(&kjj, &format!("/plans/{PLAN}/edit/new-target"))
        .await;
    let mut fields = form_fields(&page);
    for (k, v) in [
        ("code", "T-NEW"),
        ("name", "新增科技孵化器"),
        ("kind", "period_count"),
        ("unit", "家"),
        ("target", "12"),
        ("node_code", "X1"),
        ("node_name", "孵化载体建设"),
        ("lead", "kjj"),
    ] {
        fields = with(&fields, k, v);
    }
    fields.retain(|(k, v)| !(k == "node" || (k == "indicator" && !v.is_empty())));
    fields.push(("node".into(), String::new()));
    let r = kjj
        .post(app.url(&format!("/plans/{PLAN}/edit/new-target")))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    assert_eq!(version(app).await, before + 1);
    let plan = app.get_json(&format!("/api/v1/plans/{PLAN}")).await;
    let t = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "T-NEW")
        .expect("the new target");
    assert_eq!(t["kind"], "period_count");
    assert_eq!(t["node"], "X1");
    // The same code again is refused beside the code.
    let r = kjj
        .post(app.url(&format!("/plans/{PLAN}/edit/new-target")))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("已有编号为“T-NEW”的目标"));

    // The task's co-units.
    let page = app
        .text_as(&kjj, &format!("/plans/{PLAN}/edit/nodes/X1"))
        .await;
    let mut fields = form_fields(&page);
    fields.push(("co".into(), "longzihu".into()));
    let r = kjj
        .post(app.url(&format!("/plans/{PLAN}/edit/nodes/X1")))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    let plan = app.get_json(&format!("/api/v1/plans/{PLAN}")).await;
    let n = plan["tree"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "X1")
        .expect("a new task without a parent is at the top of the tree")
        .clone();
    assert_eq!(n["co"][0]["code"], "longzihu", "{n}");
    assert_eq!(n["lead"][0]["code"], "kjj", "{n}");

    // The indicator's name; an empty unit refused beside the unit.
    let ind = plan["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "T-NEW")
        .unwrap()["indicator"]
        .as_str()
        .unwrap()
        .to_string();
    let url = app.url(&format!("/plans/{PLAN}/edit/indicators/{ind}"));
    let page = app
        .text_as(&kjj, &format!("/plans/{PLAN}/edit/indicators/{ind}"))
        .await;
    let fields = form_fields(&page);
    let r = kjj
        .post(&url)
        .form(&with(&fields, "unit", " "))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.unwrap().contains("id=\"err-unit\""));
    let r = kjj
        .post(&url)
        .form(&with(&fields, "name", "新增省级以上科技企业孵化器数"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let plan: Value = app.get_json(&format!("/api/v1/plans/{PLAN}")).await;
    let i = plan["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["code"] == ind.as_str())
        .unwrap()
        .clone();
    assert_eq!(i["name"], "新增省级以上科技企业孵化器数");
    assert_eq!(version(app).await, before + 3);
}

/// The target table goes out as Excel and comes back as a new plan with
/// the same targets; a bad table is refused row by row.
async fn a_target_table_makes_a_new_plan(app: &TestApp) {
    let kjj = app.client_as("kjj").await;
    let r = kjj
        .get(app.url(&format!("/plans/{PLAN}/table?format=xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let xlsx = r.bytes().await.unwrap().to_vec();
    let upload = |file: &'static str, bytes: Vec<u8>, code: &'static str| {
        let kjj = kjj.clone();
        let url = app.url("/plans/import");
        async move {
            let form = reqwest::multipart::Form::new()
                .text("base", PLAN)
                .text("code", code)
                .text("name", "蚌埠市科技强市行动方案（复制）")
                .text("start", "2023-01-01")
                .text("end", "2025-12-31")
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(file),
                );
            let r = kjj.post(url).multipart(form).send().await.unwrap();
            let loc = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (r.status().as_u16(), loc, r.text().await.unwrap())
        }
    };
    let (status, loc, page) = upload("目标表.xlsx", xlsx, "bengbu-copy").await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(loc.as_deref(), Some("/plans/bengbu-copy/edit"));
    let old = app.get_json(&format!("/api/v1/plans/{PLAN}")).await;
    let new = app.get_json("/api/v1/plans/bengbu-copy").await;
    let strip = |t: &Value| {
        let mut t = t.clone();
        let o = t.as_object_mut().unwrap();
        // What the target table does not carry (docs/plan-format.md).
        for k in [
            "allocations",
            "curve",
            "basis",
            "forecast",
            "margin",
            "weight",
            "revision",
            "direction",
        ] {
            o.remove(k);
        }
        if let Some(b) = o.get_mut("baseline").and_then(Value::as_object_mut) {
            b.retain(|k, _| k == "value" || k == "date");
        }
        if let Some(cs) = o.get_mut("checkpoints").and_then(Value::as_array_mut) {
            for c in cs {
                c.as_object_mut()
                    .unwrap()
                    .retain(|k, _| k == "value" || k == "date");
            }
        }
        t
    };
    let (a, b) = (
        old["targets"].as_array().unwrap(),
        new["targets"].as_array().unwrap(),
    );
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(strip(x), strip(y), "the target came back as it went out");
    }
    // The code is taken now.
    let csv = "目标编号,目标名称,目标类型,计量单位,期末目标\nA1,甲,期末存量,家,10\n";
    let (status, _, page) = upload("表.csv", csv.as_bytes().to_vec(), "bengbu-copy").await;
    assert_eq!(status, 422);
    assert!(page.contains("已有编号为“bengbu-copy”的规划"), "{page}");
    // Bad rows: each with its row number, nothing made.
    let bad = "目标编号,目标名称,目标类型,计量单位,期末目标,牵头单位\nA1,甲,存量,家,10,\nA2,乙,期末存量,家,很多,\nA3,丙,期末存量,家,5,火星局\n";
    let (status, _, page) = upload("坏表.csv", bad.as_bytes().to_vec(), "bad-plan").await;
    assert_eq!(status, 422);
    for msg in [
        "第 2 行：目标类型“存量”应为以下之一",
        "第 3 行：期末目标“很多”应为数字",
        "第 4 行：牵头单位“火星局”不是本规划的地区或部门",
    ] {
        assert!(page.contains(msg), "{msg} in {page}");
    }
    let (status, _) = app.get("/api/v1/plans/bad-plan").await;
    assert_eq!(status, 404);
}

on_both_backends!(
    the_coordinator_edits_a_target,
    targets_tasks_and_indicators,
    a_target_table_makes_a_new_plan,
);
