//! The leader's dashboard, the warning list and the area ranking over real
//! HTTP, on both backends: the dashboard agrees with the target pages, every
//! warning is a lagging target, and the ranking can be reproduced by hand
//! from the method and the raw values the API shows.

#[macro_use]
mod common;

use common::{PLAN, TestApp};
use serde_json::Value;

async fn pages_render(app: &TestApp) {
    for (path, needle) in [
        (format!("/plans/{PLAN}/dashboard"), "领导看板"),
        (format!("/plans/{PLAN}/warnings"), "预警清单"),
        (
            format!("/plans/{PLAN}/warnings?as_of=2024-06-30"),
            "历史预警",
        ),
        (format!("/plans/{PLAN}/ranking"), "排名方法"),
        (
            format!("/plans/{PLAN}/ranking?as_of=2024-12-31"),
            "县区科技创新争先进位",
        ),
    ] {
        let (status, body) = app.get(&path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(needle), "{path} lacks {needle}");
    }
    let (status, body) = app
        .get(&format!("/plans/{PLAN}/ranking?as_of=2025-13-01"))
        .await;
    assert_eq!(status, 400, "{body}");
}

/// The dashboard's counts and risks are the target pages' statuses.
async fn dashboard_agrees_with_the_targets(app: &TestApp) {
    let targets = app.get_json(&format!("/api/v1/plans/{PLAN}/targets")).await;
    let warnings = app
        .get_json(&format!("/api/v1/plans/{PLAN}/warnings"))
        .await;
    assert_eq!(targets["as_of"], warnings["as_of"]);
    let status_of = |code: &str| -> String {
        targets["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["code"] == code)
            .map(|t| t["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    let list = warnings["warnings"].as_array().unwrap();
    let counts = &targets["status_counts"];
    let red = list.iter().filter(|w| w["level"] == "red").count();
    let yellow = list.iter().filter(|w| w["level"] == "yellow").count();
    assert_eq!(red as u64, counts["off_track"].as_u64().unwrap());
    assert_eq!(yellow as u64, counts["at_risk"].as_u64().unwrap());
    assert!(red + yellow > 0, "the demo has lagging targets");
    for w in list {
        let s = status_of(w["target"].as_str().unwrap());
        let expected = if w["level"] == "red" {
            "off_track"
        } else {
            "at_risk"
        };
        assert_eq!(s, expected, "{w}");
    }
    // Worst first: red before yellow, larger lag first within a level.
    for pair in list.windows(2) {
        let rank = |w: &Value| if w["level"] == "red" { 0 } else { 1 };
        assert!(rank(&pair[0]) <= rank(&pair[1]));
        if rank(&pair[0]) == rank(&pair[1]) {
            assert!(
                pair[0]["lag"].as_f64().unwrap_or(0.0) >= pair[1]["lag"].as_f64().unwrap_or(0.0)
            );
        }
    }
    // The history's last entry is today's list.
    let history = warnings["history"].as_array().unwrap();
    let last = history.last().unwrap()["warnings"].as_array().unwrap();
    assert_eq!(last.len(), list.len());
    // The dashboard page shows the same numbers.
    let (_, page) = app.get(&format!("/plans/{PLAN}/dashboard")).await;
    let text = format!(
        "<b class=\"st-red\">{red}</b> 项红色、<b class=\"st-yellow\">{yellow}</b> 项黄色预警"
    );
    assert!(page.contains(&text), "dashboard lacks {text}");
    for (status, label) in [
        ("achieved", "已完成"),
        ("on_track", "进度正常"),
        ("at_risk", "需关注"),
        ("off_track", "滞后"),
    ] {
        let n = counts[status].as_u64().unwrap();
        assert!(
            page.contains(&format!("<span class=\"n\">{n}</span> {label}")),
            "{label} {n}"
        );
    }
}

/// Min–max by hand: best 100, worst 0, linear between; no data 0.
fn by_hand(values: &[Option<f64>], higher: bool) -> Vec<f64> {
    let known: Vec<f64> = values.iter().flatten().copied().collect();
    let best = known
        .iter()
        .copied()
        .fold(f64::NAN, |a, b| if higher { a.max(b) } else { a.min(b) });
    let worst = known
        .iter()
        .copied()
        .fold(f64::NAN, |a, b| if higher { a.min(b) } else { a.max(b) });
    values
        .iter()
        .map(|v| match v {
            None => 0.0,
            Some(_) if best == worst => 100.0,
            Some(x) => 100.0 * (x - worst) / (best - worst),
        })
        .collect()
}

async fn ranking_reproduces_by_hand(app: &TestApp) {
    for as_of in ["2025-09-30", "2024-12-31"] {
        let j = app
            .get_json(&format!("/api/v1/plans/{PLAN}/ranking?as_of={as_of}"))
            .await;
        let method = &j["method"];
        assert_eq!(method["normalization"], "min_max");
        let items = method["items"].as_array().unwrap();
        let rows = j["rows"].as_array().unwrap();
        assert_eq!(rows.len(), 9, "every area is ranked");
        let weights: Vec<f64> = items
            .iter()
            .map(|i| i["weight"].as_f64().unwrap())
            .collect();
        let total: f64 = weights.iter().sum();
        let raw: Vec<Vec<Option<f64>>> = rows
            .iter()
            .map(|r| {
                r["raw"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(Value::as_f64)
                    .collect()
            })
            .collect();
        let columns: Vec<Vec<f64>> = (0..items.len())
            .map(|i| {
                let col: Vec<Option<f64>> = raw.iter().map(|r| r[i]).collect();
                by_hand(&col, items[i]["higher_is_better"].as_bool().unwrap())
            })
            .collect();
        let mut mine: Vec<(f64, &str)> = Vec::new();
        for (a, r) in rows.iter().enumerate() {
            let composite: f64 = (0..items.len())
                .map(|i| weights[i] * columns[i][a])
                .sum::<f64>()
                / total;
            let shown = r["composite"].as_f64().unwrap();
            assert!(
                (composite - shown).abs() < 1e-6,
                "{}: by hand {composite}, shown {shown}",
                r["area"]
            );
            mine.push((composite, r["area"].as_str().unwrap()));
        }
        // The rows come best first with ranks 1..n (ties in the demo are
        // not expected at this precision).
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(r["rank"].as_u64().unwrap() as usize, i + 1, "{as_of}");
        }
        for pair in mine.windows(2) {
            assert!(pair[0].0 >= pair[1].0);
        }
        // An area's reported R&D intensity is the raw value of R5.
        let r5 = items.iter().position(|i| i["code"] == "R5").unwrap();
        let area = rows[0]["area"].as_str().unwrap();
        let v = app
            .get_json(&format!(
                "/api/v1/values?plan={PLAN}&indicator=rd_intensity&scope=area:{area}&period=2024"
            ))
            .await;
        let reported = v["values"][0]["value"].as_f64().unwrap();
        assert_eq!(rows[0]["raw"][r5].as_f64(), Some(reported));
    }
    // The page shows the method next to the table.
    let (_, page) = app.get(&format!("/plans/{PLAN}/ranking")).await;
    assert!(
        page.contains("极差法")
            && page.contains("权重合计（100）")
            && page.contains("依次比较 R2、R1")
    );
}

on_both_backends!(
    pages_render,
    dashboard_agrees_with_the_targets,
    ranking_reproduces_by_hand,
    area_page,
    revised_targets,
);

/// An area's page: its rank as the ranking shows it, and its shares.
async fn area_page(app: &TestApp) {
    let j = app.get_json(&format!("/api/v1/plans/{PLAN}/ranking")).await;
    let rows = j["rows"].as_array().unwrap();
    for r in rows {
        let area = r["area"].as_str().unwrap();
        let (status, page) = app.get(&format!("/plans/{PLAN}/areas/{area}")).await;
        assert_eq!(status, 200, "{area}");
        let rank = format!("名次 <b>{} / {}</b>", r["rank"], rows.len());
        assert!(page.contains(&rank), "{area}: {rank}");
        assert!(
            page.contains("高新技术企业数") && page.contains("占全市"),
            "{area}"
        );
    }
    let (status, _) = app.get(&format!("/plans/{PLAN}/areas/nowhere")).await;
    assert_eq!(status, 404);
}

/// A mid-term revision: the revised value is in force, the original stays
/// visible, and pages, API and reports can use either, saying which.
async fn revised_targets(app: &TestApp) {
    let at = kc_app::BENGBU_PLAN.find("code = \"T3-2\"").unwrap();
    let line = at + kc_app::BENGBU_PLAN[at..].find("target = 1200\n").unwrap();
    let text = format!(
        "{}target = 1200\nrevision = {{ target = 1000, date = 2024-07-01, note = \"中期评估调整\" }}\n{}",
        &kc_app::BENGBU_PLAN[..line],
        &kc_app::BENGBU_PLAN[line + "target = 1200\n".len()..]
    );
    let saved = kc_app::load_plan_text(&app.db.store, "revised.toml", &text, "test")
        .await
        .unwrap();
    assert!(saved.created);
    let revised = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/targets/T3-2?as_of=2025-09-30"
        ))
        .await;
    let original = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/targets/T3-2?as_of=2025-09-30&targets=original"
        ))
        .await;
    assert_eq!(revised["target"]["target"], 1000.0);
    assert_eq!(revised["target"]["revision"]["original"], "≥ 1200 家");
    assert_eq!(revised["target"]["revision"]["note"], "中期评估调整");
    assert_eq!(original["target"]["target"], 1200.0);
    let c = |j: &Value| j["target"]["completion"].as_f64().unwrap();
    assert!(c(&revised) > c(&original), "a lower target is closer");
    let (_, page) = app.get(&format!("/plans/{PLAN}/targets/T3-2")).await;
    assert!(
        page.contains("原定 ≥ 1200 家，2024-07-01 调整：中期评估调整"),
        "the page shows both values"
    );
    let (status, _) = app.get(&format!("/plans/{PLAN}?targets=someday")).await;
    assert_eq!(status, 400);
    // Reports say which targets they use.
    for (q, words) in [
        ("", "中期调整后的目标值"),
        ("&targets=original", "原定目标值"),
    ] {
        let r = app
            .http
            .get(app.url(&format!(
                "/plans/{PLAN}/reports/download?period=2024&scope=city&format=html{q}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains(&format!("第 2 版所列{words}")), "{words}");
    }
}
