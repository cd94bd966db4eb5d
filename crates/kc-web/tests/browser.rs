//! The key pages in a real headless Chromium (Debian `chromium` and
//! `chromium-driver`): open the overview, follow a target, enter a value and
//! see it on the target page. `.ci/run` installs both; the test fails with a
//! clear message when they are missing.

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{PLAN, TestApp};
use fantoccini::{Client, ClientBuilder, Locator};

/// A chromedriver child process in its own process group, killed with the
/// browsers it started on drop — also when an assertion fails before the
/// session is closed, so no Chromium outlives the test.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn start_driver() -> Driver {
    let bin = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    assert!(
        std::path::Path::new(&bin).exists(),
        "chromedriver not found at {bin}: install Debian's chromium and chromium-driver (scripts/test does), or set CHROMEDRIVER"
    );
    let port = free_port();
    let child = Command::new(&bin)
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    // Wait until it accepts connections.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver { child, url }
}

async fn browser(driver: &Driver) -> Client {
    let chrome = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile =
        std::env::temp_dir().join(format!("kc-chrome-{}-{}", std::process::id(), free_port()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chrome,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1600",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("connect to chromedriver")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overview_target_and_value_entry_in_chromium() {
    let app = TestApp::sqlite().await;
    let driver = start_driver().await;
    let c = browser(&driver).await;
    let result = run(&c, &app).await;
    let _ = c.close().await;
    app.stop().await;
    result.unwrap();
}

async fn run(c: &Client, app: &TestApp) -> Result<(), fantoccini::error::CmdError> {
    // The overview shows the plan, its headline goals and status counts.
    c.goto(&app.url(&format!("/plans/{PLAN}"))).await?;
    let title = c.find(Locator::Css("h1")).await?.text().await?;
    assert!(
        title.contains("蚌埠市加快建设科技强市三年行动方案"),
        "{title}"
    );
    let counts = c.find(Locator::Css("ul.counts")).await?.text().await?;
    assert!(counts.contains("进度正常"), "{counts}");
    let bars = c.find_all(Locator::Css("#goals .bar .fill")).await?;
    assert!(!bars.is_empty(), "no progress bars on the overview");

    // Follow the patents target from its action on the overview.
    c.find(Locator::Css("#node-P1 a[href*='/targets/T1-3']"))
        .await?
        .click()
        .await?;
    c.wait().for_element(Locator::Id("target-status")).await?;
    let url = c.current_url().await?;
    assert!(url.path().ends_with("/targets/T1-3"), "{url}");
    let h1 = c.find(Locator::Css("h1")).await?.text().await?;
    assert!(h1.contains("高价值发明专利"), "{h1}");
    assert!(
        c.find(Locator::Css("figure.chart-wrap svg")).await.is_ok(),
        "no chart"
    );

    // A mistyped value is refused with the message next to the field.
    fill(c, "f-period", "2025Q3").await?;
    fill(c, "f-value", "一千一百").await?;
    c.find(Locator::Id("f-submit")).await?.click().await?;
    let err = c
        .wait()
        .for_element(Locator::Id("err-value"))
        .await?
        .text()
        .await?;
    assert!(err.contains("不是数字"), "{err}");
    let kept = c.find(Locator::Id("f-period")).await?.prop("value").await?;
    assert_eq!(
        kept.as_deref(),
        Some("2025Q3"),
        "the period input was not kept"
    );

    // Corrected, it is saved and shown on the target page.
    fill(c, "f-value", "13.4").await?;
    c.find(Locator::Id("f-submit")).await?.click().await?;
    let notice = c
        .wait()
        .for_element(Locator::Css("p.notice"))
        .await?
        .text()
        .await?;
    assert!(notice.contains("已保存"), "{notice}");
    let value = c.find(Locator::Id("target-value")).await?.text().await?;
    assert!(
        value.contains("13.4 件/万人"),
        "the new value is not the latest value: {value}"
    );
    let row = c
        .find(Locator::Css(
            "#values tr[data-period='2025Q3'][data-scope='city']",
        ))
        .await?
        .text()
        .await?;
    assert!(row.contains("13.4"), "{row}");
    Ok(())
}

async fn fill(c: &Client, id: &str, text: &str) -> Result<(), fantoccini::error::CmdError> {
    let e = c.find(Locator::Id(id)).await?;
    e.clear().await?;
    e.send_keys(text).await
}
