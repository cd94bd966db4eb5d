//! Reports over real HTTP, on both backends: the 2024 report as Word and
//! Excel opens in LibreOffice (converted to text and CSV here), and its
//! numbers equal the API's. Needs LibreOffice (`soffice`); `scripts/test`
//! installs it.

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{PLAN, TestApp};

fn soffice() -> String {
    let bin = std::env::var("SOFFICE").unwrap_or_else(|_| "/usr/bin/soffice".into());
    assert!(
        Path::new(&bin).exists(),
        "LibreOffice not found at {bin}: install libreoffice-writer-nogui and libreoffice-calc-nogui (scripts/test does), or set SOFFICE"
    );
    bin
}

/// A fresh folder, and a LibreOffice profile of its own so that tests
/// running at once do not share one.
fn workdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "kc-report-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn convert(dir: &Path, file: &Path, to: &str) {
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
}

async fn download(app: &TestApp, query: &str) -> (u16, String, Vec<u8>) {
    let r = app
        .http
        .get(app.url(&format!("/plans/{PLAN}/reports/download?{query}")))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

/// Rows of a CSV file LibreOffice wrote (UTF-8).
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}

async fn report_for_2024_opens_and_agrees(app: &TestApp) {
    let api = app
        .get_json(&format!("/api/v1/plans/{PLAN}/targets?as_of=2024-12-31"))
        .await;
    let dir = workdir("2024");

    // Excel: every table on its own sheet, numbers as numbers.
    let (status, ct, bytes) = download(app, "period=2024&scope=city&format=xlsx").await;
    assert_eq!(status, 200);
    assert!(ct.contains("spreadsheetml"), "{ct}");
    // The lagging targets' charts are native Excel charts.
    assert!(
        String::from_utf8_lossy(&bytes).contains("xl/charts/chart1.xml"),
        "no chart in the Excel report"
    );
    let xlsx = dir.join("r.xlsx");
    std::fs::write(&xlsx, bytes).unwrap();
    convert(
        &dir,
        &xlsx,
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1",
    );
    for sheet in [
        "报告正文",
        "目标完成情况",
        "预警清单",
        "县区争先进位",
        "完成目标所需进度",
    ] {
        assert!(
            dir.join(format!("r-{sheet}.csv")).exists(),
            "sheet {sheet} missing"
        );
    }
    let rows = csv_rows(&dir.join("r-目标完成情况.csv"));
    let header = &rows[0];
    assert!(header.contains(&"完成进度（%）".to_string()), "{header:?}");
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (code_c, value_c, done_c) = (col("编号"), col("最新值"), col("完成进度（%）"));
    let targets = api["targets"].as_array().unwrap();
    assert_eq!(rows.len() - 1, targets.len());
    let mut compared = 0;
    for row in &rows[1..] {
        let t = targets
            .iter()
            .find(|t| t["code"] == row[code_c].as_str())
            .expect("target in API");
        for (c, key) in [(value_c, "value"), (done_c, "completion")] {
            match t[key].as_f64() {
                Some(v) => {
                    let shown: f64 = row[c].parse().unwrap_or_else(|_| {
                        panic!("{} {key}: {:?} is not a number", row[code_c], row[c])
                    });
                    assert!(
                        (shown - v).abs() < 1e-9 * v.abs().max(1.0),
                        "{} {key}: report {shown}, API {v}",
                        row[code_c]
                    );
                    compared += 1;
                }
                None => assert!(
                    row[c].is_empty(),
                    "{} {key}: {:?} without an API value",
                    row[code_c],
                    row[c]
                ),
            }
        }
    }
    assert!(compared > 50, "only {compared} numbers compared");

    // Word: the text and the tables are there, and the summary's counts are
    // the API's.
    let (status, ct, bytes) = download(app, "period=2024&scope=city&format=docx").await;
    assert_eq!(status, 200);
    assert!(ct.contains("wordprocessingml"), "{ct}");
    // The lagging targets' charts are in it as pictures.
    let names = String::from_utf8_lossy(&bytes).to_string();
    assert!(
        names.contains("word/media/chart1.png"),
        "no chart image in the Word report"
    );
    let docx = dir.join("r.docx");
    std::fs::write(&docx, bytes).unwrap();
    convert(&dir, &docx, "txt:Text");
    let text = std::fs::read_to_string(dir.join("r.txt")).unwrap();
    let counts = &api["status_counts"];
    let summary = format!(
        "共有考核目标{}项，其中已完成{}项、进度正常{}项、需关注{}项、滞后{}项",
        targets.len(),
        counts["achieved"],
        counts["on_track"],
        counts["at_risk"],
        counts["off_track"]
    );
    assert!(
        text.contains(&summary),
        "summary {summary:?} not in the report"
    );
    for needle in [
        "科技强市三年行动实施进展报告",
        "一、总体情况",
        "二、目标完成情况",
        "三、预警清单",
        "四、县区争先进位",
        "县区争先进位",
        "完成进度（%）",
    ] {
        assert!(text.contains(needle), "{needle} not in the Word report");
    }
    // A lagging target is named with its lag, as the API computes it.
    let worst = targets
        .iter()
        .filter(|t| t["status"] == "off_track")
        .max_by(|a, b| {
            a["lag"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["lag"].as_f64().unwrap())
        })
        .unwrap();
    let sentence = format!(
        "落后序时进度{}个百分点",
        kc_domain::plan::fmt_num(worst["lag"].as_f64().unwrap(), 1)
    );
    assert!(text.contains(&sentence), "{sentence} not in the report");
    let _ = std::fs::remove_dir_all(&dir);
}

async fn report_variants_and_bad_requests(app: &TestApp) {
    for q in [
        "period=2025Q2&scope=area:yuhui&format=html",
        "period=2025-06&scope=dept:jxj&format=html",
        "period=2024&scope=city&format=html",
    ] {
        let (status, ct, body) = download(app, q).await;
        assert_eq!(status, 200, "{q}");
        assert!(ct.starts_with("text/html"), "{q}");
        let html = String::from_utf8(body).unwrap();
        assert!(html.contains("一、总体情况"), "{q}");
    }
    let (_, _, body) = download(app, "period=2024&scope=city&format=html").await;
    let html = String::from_utf8(body).unwrap();
    assert!(
        html.contains("<figure><svg xmlns=\"http://www.w3.org/2000/svg\""),
        "the HTML report shows the charts as inline SVG"
    );
    assert!(html.contains(">目标值</text>"), "the chart's legend");
    let (_, _, body) = download(app, "period=2025Q2&scope=area:yuhui&format=html").await;
    let html = String::from_utf8(body).unwrap();
    assert!(
        html.contains("禹会区综合得分"),
        "the area's own rank is stated"
    );
    let (_, _, body) = download(app, "period=2025-06&scope=dept:jxj&format=html").await;
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("市经济和信息化局牵头或参与"));
    for (q, msg) in [
        ("period=2030&scope=city&format=docx", "不在规划期"),
        ("period=2025Q4&scope=city&format=docx", "尚未结束"),
        ("period=2025Q9&scope=city&format=docx", "格式不正确"),
        (
            "period=2024&scope=area:nowhere&format=docx",
            "不在本规划的地区名单中",
        ),
        ("period=2024&scope=city&format=pdf", "不支持"),
    ] {
        let (status, _, body) = download(app, q).await;
        assert_eq!(status, 400, "{q}");
        assert!(String::from_utf8_lossy(&body).contains(msg), "{q}: {msg}");
    }
    let (status, body) = app.get(&format!("/plans/{PLAN}/reports")).await;
    assert_eq!(status, 200);
    assert!(body.contains("下载 Word") && body.contains("2024年"));
}

on_both_backends!(
    report_for_2024_opens_and_agrees,
    report_variants_and_bad_requests
);
