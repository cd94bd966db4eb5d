//! Issue 14, the final evaluation (终期评估) over real HTTP on both
//! backends: after the plan's end every target is judged at its deadline;
//! the Word and Excel reports open in LibreOffice and their counts equal
//! the API's; before the end it is refused with a clear message.

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use common::{PLAN, TestApp};

/// A server whose today is after the Bengbu plan's end.
async fn after_the_plan(db: kc_store::testkit::TestDb) -> TestApp {
    TestApp::start_with(db, |s| {
        s.with_today(NaiveDate::from_ymd_opt(2026, 3, 31).unwrap())
    })
    .await
}

fn soffice() -> String {
    let bin = std::env::var("SOFFICE").unwrap_or_else(|_| "/usr/bin/soffice".into());
    assert!(
        Path::new(&bin).exists(),
        "LibreOffice not found at {bin}: install libreoffice-writer-nogui and libreoffice-calc-nogui (scripts/test does), or set SOFFICE"
    );
    bin
}

fn workdir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!("kc-final-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Converts `file` with LibreOffice (which must open it) and returns the
/// converted file's text.
fn convert(dir: &Path, file: &Path, to: &str, ext: &str) -> String {
    let profile = format!("-env:UserInstallation=file://{}/profile", dir.display());
    let out = Command::new(soffice())
        .args([&profile, "--headless", "--convert-to", to, "--outdir"])
        .arg(dir)
        .arg(file)
        .output()
        .expect("run soffice");
    assert!(
        out.status.success(),
        "soffice failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stem = file.file_stem().unwrap().to_string_lossy().to_string();
    std::fs::read_to_string(dir.join(format!("{stem}.{ext}"))).unwrap_or_default()
}

async fn download(app: &TestApp, format: &str) -> Vec<u8> {
    let r = app
        .http
        .get(app.url(&format!(
            "/plans/{PLAN}/reports/download?period=final&format={format}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{format}");
    r.bytes().await.unwrap().to_vec()
}

async fn the_final_evaluation_agrees_everywhere(app: &TestApp) {
    let api = app.get_json(&format!("/api/v1/plans/{PLAN}/final")).await;
    let plan = app.get_json(&format!("/api/v1/plans/{PLAN}")).await;
    let o = &api["overall"];
    let n = |k: &str| o[k].as_u64().unwrap() as usize;
    let (achieved, missed, no_data) = (n("achieved"), n("missed"), n("no_data"));
    let targets = api["targets"].as_array().unwrap();
    assert_eq!(targets.len(), plan["targets"].as_array().unwrap().len());
    assert_eq!(achieved + missed + no_data, targets.len());
    assert!(achieved > 0 && missed > 0, "{o}");
    // Judged at the deadline: no value after it is used.
    for t in targets {
        if let (Some(d), Some(end)) = (t["value_date"].as_str(), t["deadline"].as_str()) {
            assert!(d <= end, "{} judged on {d} after {end}", t["code"]);
        }
    }
    assert_eq!(api["by_area"].as_array().unwrap().len(), 9);
    let sentence = format!("已完成 {achieved} 项，未完成 {missed} 项，无数据 {no_data} 项");

    let dir = workdir("docs");
    let docx = dir.join("final.docx");
    std::fs::write(&docx, download(app, "docx").await).unwrap();
    let text = convert(&dir, &docx, "txt:Text", "txt");
    assert!(text.contains(&sentence), "Word: {sentence} not in the text");
    assert!(text.contains("终期评估报告") && text.contains("结转事项"));

    let xlsx = dir.join("final.xlsx");
    std::fs::write(&xlsx, download(app, "xlsx").await).unwrap();
    convert(
        &dir,
        &xlsx,
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
        "csv",
    );
    let table =
        std::fs::read_to_string(dir.join("final-目标完成情况.csv")).expect("the sheet of targets");
    let count = |w: &str| {
        table
            .lines()
            .filter(|l| l.contains(&format!(",{w},")))
            .count()
    };
    assert_eq!(
        (count("已完成"), count("未完成"), count("无数据")),
        (achieved, missed, no_data),
        "Excel counts = API counts"
    );

    let html = String::from_utf8(download(app, "html").await).unwrap();
    assert!(html.contains(&sentence));
    let (status, page) = app.get(&format!("/plans/{PLAN}/final")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("id=\"n-achieved\">{achieved}<")),
        "page"
    );
    let _ = std::fs::remove_dir_all(&dir);

    // The next plan, drafted: valid, with "target to fill" warnings only,
    // its baselines the values the final evaluation judged on.
    let r = app
        .http
        .get(app.url(&format!(
            "/plans/{PLAN}/draft?start=2026-01-01&end=2030-12-31"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.unwrap();
    let checked = kc_planfile::check_plan("next.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    assert!(!checked.warnings.is_empty());
    for w in &checked.warnings {
        assert!(
            w.message.contains("目标值待定"),
            "only missing targets: {}",
            w.message
        );
    }
    let next = &checked.plan;
    let old = kc_planfile::parse_plan("old.toml", kc_app::BENGBU_PLAN).unwrap();
    assert_eq!(next.code.as_str(), "bengbu-2026-2030");
    assert_eq!(
        (next.period.start.to_string(), next.period.end.to_string()),
        ("2026-01-01".into(), "2030-12-31".into())
    );
    assert_eq!(next.indicators.len(), old.indicators.len());
    assert_eq!(next.areas.len(), old.areas.len());
    assert_eq!(next.nodes.len(), old.nodes.len());
    assert_eq!(next.targets.len(), old.targets.len());
    let mut compared = 0;
    for t in next
        .targets
        .iter()
        .filter(|t| t.kind == kc_domain::plan::TargetKind::Stock)
    {
        let f = targets
            .iter()
            .find(|x| x["code"] == t.code.as_str())
            .unwrap();
        if let Some(v) = f["value"].as_f64() {
            let b = t
                .baseline
                .as_ref()
                .expect("a stock starts from its final value");
            assert_eq!(b.value, v, "{}", t.code);
            assert_eq!(b.date.to_string(), f["value_date"].as_str().unwrap());
            assert!(t.pending && t.deadline == next.period.end);
            compared += 1;
        }
    }
    assert!(compared >= 5, "{compared} baselines compared");
    // A period that does not follow the old one is refused.
    let (status, body) = app
        .get(&format!(
            "/plans/{PLAN}/draft?start=2025-01-01&end=2030-12-31"
        ))
        .await;
    assert_eq!(status, 400, "{body}");
}

on_both_backends!(@start super::after_the_plan; the_final_evaluation_agrees_everywhere);

/// Before the plan's end there is nothing final to evaluate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_the_end_it_is_refused() {
    let app = TestApp::sqlite().await;
    let r = app
        .http
        .get(app.url(&format!("/api/v1/plans/{PLAN}/final")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body = r.text().await.unwrap();
    assert!(body.contains("规划期到 2025-12-31 才结束"), "{body}");
    app.stop().await;
}
