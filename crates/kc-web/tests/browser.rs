//! The key pages in a real headless Chromium (Debian `chromium` and
//! `chromium-driver`): sign in, open the overview, follow a target, enter a
//! value and see it on the target page; an area reporter's whole reporting
//! cycle with its reviewer; each role's main pages at 1440 and 390 px with
//! axe-core. `.ci/run` installs them; the test fails with a
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

/// A test in a fresh server and a fresh Chromium: `walk` runs against
/// both, and the browser and server are closed whatever it returns.
macro_rules! in_chromium {
    ($name:ident, $walk:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let app = TestApp::sqlite().await;
            let driver = start_driver().await;
            let c = browser(&driver).await;
            let result = $walk(&c, &app).await;
            let _ = c.close().await;
            app.stop().await;
            result.unwrap();
        }
    };
}

in_chromium!(overview_target_and_value_entry_in_chromium, run);

/// Signs in through the login page; the page asked for first comes back.
async fn sign_in(
    c: &Client,
    app: &TestApp,
    user: &str,
    then: &str,
) -> Result<(), fantoccini::error::CmdError> {
    c.goto(&app.url(then)).await?;
    c.wait().for_element(Locator::Id("f-username")).await?;
    fill(c, "f-username", user).await?;
    fill(c, "f-password", kc_app::auth::DEMO_PASSWORD).await?;
    c.find(Locator::Id("f-login")).await?.click().await?;
    c.wait().for_element(Locator::Id("logout")).await?;
    Ok(())
}

async fn sign_out(c: &Client) -> Result<(), fantoccini::error::CmdError> {
    c.find(Locator::Id("logout")).await?.click().await?;
    c.wait().for_element(Locator::Id("f-username")).await?;
    Ok(())
}

async fn run(c: &Client, app: &TestApp) -> Result<(), fantoccini::error::CmdError> {
    // Unsigned, the overview asks for a login first and then opens.
    sign_in(c, app, "kjj", &format!("/plans/{PLAN}")).await?;
    // The overview shows the plan, its headline goals and status counts.
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
    assert!(notice.contains("已提交"), "{notice}");
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
    assert!(
        row.contains("待审"),
        "a submitted value is marked pending: {row}"
    );
    sign_out(c).await?;
    Ok(())
}

in_chromium!(an_area_reporters_cycle_in_chromium, cycle);

/// Due → submit → returned → resubmit → approved → shown as official.
async fn cycle(c: &Client, app: &TestApp) -> Result<(), fantoccini::error::CmdError> {
    // 禹会区's reporter sees the quarter's duty overdue on the home page.
    sign_in(c, app, "yuhui-reporter", "/").await?;
    let todo = c
        .find(Locator::Id(&format!("todo-{PLAN}")))
        .await?
        .text()
        .await?;
    assert!(
        todo.contains("逾期未报") && !todo.contains("逾期未报 0"),
        "{todo}"
    );
    c.goto(&app.url(&format!("/plans/{PLAN}/duties?state=overdue")))
        .await?;
    let duties = c.find(Locator::Id("duties")).await?.text().await?;
    assert!(
        duties.contains("科技大市场"),
        "the 1+9+N duty is listed: {duties}"
    );
    assert!(duties.contains("2025年第3季度"), "{duties}");

    // The reporter fills it in and submits it.
    let entry = format!(
        "/plans/{PLAN}/values/new?indicator=task_tech_market&scope=area:yuhui&period=2025Q3"
    );
    c.goto(&app.url(&entry)).await?;
    fill(c, "f-value", "55").await?;
    fill(c, "f-note", "分市场场地已落实").await?;
    c.find(Locator::Id("f-submit")).await?.click().await?;
    c.wait().for_element(Locator::Id("revisions")).await?;
    let status = first_status(c).await?;
    assert_eq!(status, "待审");
    sign_out(c).await?;

    // The area's reviewer returns it with a comment.
    sign_in(c, app, "yuhui-reviewer", &format!("/plans/{PLAN}/review")).await?;
    let queue = c.find(Locator::Id("reviews")).await?.text().await?;
    assert!(queue.contains("55"), "{queue}");
    c.find(Locator::Css("#reviews a")).await?.click().await?;
    c.wait().for_element(Locator::Id("f-comment")).await?;
    fill(c, "f-comment", "请附场地协议").await?;
    c.find(Locator::Id("return")).await?.click().await?;
    c.wait().for_element(Locator::Id("done")).await?;
    assert_eq!(first_status(c).await?, "已退回");
    sign_out(c).await?;

    // The reporter is told, corrects and resubmits.
    sign_in(c, app, "yuhui-reporter", "/").await?;
    let notes = c.find(Locator::Css("section.notes")).await?.text().await?;
    assert!(notes.contains("数据被退回"), "{notes}");
    c.goto(&app.url(&format!("/plans/{PLAN}/duties?state=returned")))
        .await?;
    let returned = c.find(Locator::Id("duties")).await?.text().await?;
    assert!(returned.contains("请附场地协议"), "{returned}");
    c.goto(&app.url(&entry)).await?;
    let kept = c.find(Locator::Id("f-value")).await?.prop("value").await?;
    assert_eq!(
        kept.as_deref(),
        Some("55"),
        "the form starts from the returned value"
    );
    fill(c, "f-value", "60").await?;
    fill(c, "f-note", "分市场场地已落实，协议见附件").await?;
    c.find(Locator::Id("f-submit")).await?.click().await?;
    c.wait().for_element(Locator::Id("revisions")).await?;
    assert_eq!(first_status(c).await?, "待审");
    sign_out(c).await?;

    // The reviewer approves the new revision.
    sign_in(c, app, "yuhui-reviewer", &format!("/plans/{PLAN}/review")).await?;
    c.find(Locator::Css("#reviews a")).await?.click().await?;
    c.wait().for_element(Locator::Id("approve")).await?;
    c.find(Locator::Id("approve")).await?.click().await?;
    c.wait().for_element(Locator::Id("done")).await?;
    assert_eq!(first_status(c).await?, "已审核");
    sign_out(c).await?;

    // Another area's reporter now sees it as official on the target page.
    sign_in(
        c,
        app,
        "bengshan-reporter",
        &format!(
            "/plans/{PLAN}/values/history?indicator=task_tech_market&scope=area:yuhui&period=2025Q3"
        ),
    )
    .await?;
    let rows = c.find(Locator::Id("revisions")).await?.text().await?;
    assert!(rows.contains("60"), "{rows}");
    assert!(
        !rows.contains("55"),
        "a returned revision stays with its unit: {rows}"
    );
    assert_eq!(first_status(c).await?, "已审核");
    // The duty is done.
    sign_out(c).await?;
    sign_in(
        c,
        app,
        "yuhui-reporter",
        &format!("/plans/{PLAN}/duties?state=all"),
    )
    .await?;
    let row = c
        .find(Locator::XPath(
            "//table[@id='duties']//tr[contains(., '科技大市场') and contains(., '2025年第3季度')]",
        ))
        .await?
        .text()
        .await?;
    assert!(row.contains("已审核"), "{row}");
    Ok(())
}

/// The review status of the newest revision on a history page.
async fn first_status(c: &Client) -> Result<String, fantoccini::error::CmdError> {
    Ok(c.find(Locator::Css("#revisions tbody tr"))
        .await?
        .attr("data-status")
        .await?
        .unwrap_or_default())
}

async fn fill(c: &Client, id: &str, text: &str) -> Result<(), fantoccini::error::CmdError> {
    let e = c.find(Locator::Id(id)).await?;
    // A date picker takes its value as a date, not as typed keys (whose
    // order follows the browser's locale).
    if e.attr("type").await?.as_deref() == Some("date") {
        c.execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![serde_json::json!(id), serde_json::json!(text)],
        )
        .await?;
        return Ok(());
    }
    e.clear().await?;
    e.send_keys(text).await
}

// A challenge project's whole cycle (揭榜挂帅) in the browser, by the
// bureau on demo data: a demand published as a challenge, two
// applications, a panel with one expert excluded for a conflict of
// interest, scoring sheets (one refused for points above full marks),
// the award, a milestone, acceptance refused without the posing
// enterprise's opinion and then passed — and the accepted challenge is
// among the records the plan's 攻关项目 indicator counts.
in_chromium!(a_challenge_runs_its_full_cycle_in_chromium, challenge_cycle);

async fn choose(c: &Client, select: &str, value: &str) -> Result<(), fantoccini::error::CmdError> {
    c.find(Locator::Css(&format!("#{select} option[value='{value}']")))
        .await?
        .click()
        .await
}

/// Clicks a button that submits a form and waits for the next page (see
/// [`click_css`]).
async fn click(c: &Client, id: &str) -> Result<(), fantoccini::error::CmdError> {
    click_css(c, &format!("#{id}")).await
}

async fn stage(c: &Client) -> Result<String, fantoccini::error::CmdError> {
    Ok(c.wait()
        .for_element(Locator::Id("ch-stage"))
        .await?
        .attr("data-stage")
        .await?
        .unwrap_or_default())
}

async fn challenge_cycle(c: &Client, app: &TestApp) -> Result<(), fantoccini::error::CmdError> {
    sign_in(
        c,
        app,
        "kjj",
        &format!("/plans/{PLAN}/market/match?kind=demands&key=XQ-00-00"),
    )
    .await?;
    click(c, "to-challenge").await?;
    c.wait().for_element(Locator::Id("ch-publish")).await?;
    fill(c, "r-deadline", "2025-12-31").await?;
    fill(c, "r-conditions", "具备中试线和检测条件").await?;
    click(c, "ch-publish").await?;
    assert_eq!(stage(c).await?, "open");

    // One applicant is the organisation of expert ZJ-000, who must then be
    // excluded from the panel for a conflict of interest.
    let own = app
        .get_json(&format!(
            "/api/v1/plans/{PLAN}/registries/experts/record?key=ZJ-000"
        ))
        .await["fields"]["organization"]
        .as_str()
        .unwrap()
        .to_string();
    for (solver, org) in [("张工", own.as_str()), ("李工", "某材料研究院二所")] {
        fill(c, "ap-solver", solver).await?;
        fill(c, "ap-org", org).await?;
        fill(c, "ap-proposal", "低温放电容量提升方案：碳包覆与掺杂").await?;
        click(c, "ap-submit").await?;
        stage(c).await?;
    }
    let apps = c.find(Locator::Id("applications")).await?.text().await?;
    assert!(
        apps.contains(&own) && apps.contains("某材料研究院二所"),
        "{apps}"
    );

    // ZJ-000 works at an applicant: excluded automatically.
    for expert in ["ZJ-000", "ZJ-001", "ZJ-002", "ZJ-003"] {
        choose(c, "pa-expert", expert).await?;
        click(c, "pa-submit").await?;
        stage(c).await?;
    }
    let excluded = c
        .find(Locator::Css("#panel tr[data-expert='ZJ-000']"))
        .await?
        .text()
        .await?;
    assert!(excluded.contains("同属一个单位"), "{excluded}");

    click(c, "ch-review").await?;
    assert_eq!(stage(c).await?, "reviewing");
    // The excluded expert cannot be chosen to score.
    assert!(
        c.find(Locator::Css("#sc-expert option[value='ZJ-000']"))
            .await
            .is_err()
    );
    // Points above a criterion's full marks are refused beside the sheet.
    choose(c, "sc-app", "1").await?;
    choose(c, "sc-expert", "ZJ-001").await?;
    for (i, p) in ["45", "20", "15", "10"].iter().enumerate() {
        fill(c, &format!("sc-p{i}"), p).await?;
    }
    click(c, "sc-submit").await?;
    let err = c
        .wait()
        .for_element(Locator::Id("err-points"))
        .await?
        .text()
        .await?;
    assert!(err.contains("0–40"), "{err}");
    for (app_id, points) in [
        ("1", ["36", "22", "17", "13"]),
        ("2", ["30", "18", "15", "10"]),
    ] {
        for expert in ["ZJ-001", "ZJ-002", "ZJ-003"] {
            choose(c, "sc-app", app_id).await?;
            choose(c, "sc-expert", expert).await?;
            for (i, p) in points.iter().enumerate() {
                fill(c, &format!("sc-p{i}"), p).await?;
            }
            click(c, "sc-submit").await?;
            assert_eq!(stage(c).await?, "reviewing");
        }
    }
    click(c, "ch-award").await?;
    assert_eq!(stage(c).await?, "awarded");
    let winner = c
        .find(Locator::Css("#applications tr.winner"))
        .await?
        .text()
        .await?;
    assert!(winner.contains(&own) && winner.contains("88.0"), "{winner}");

    fill(c, "ms-title", "完成中试验证").await?;
    fill(c, "ms-due", "2025-12-15").await?;
    click(c, "ms-submit").await?;
    stage(c).await?;
    click(c, "ms-done-0").await?;
    stage(c).await?;

    // Acceptance needs the posing enterprise's opinion.
    choose(c, "ac-area", "longzihu").await?;
    click(c, "ac-submit").await?;
    let err = c
        .wait()
        .for_element(Locator::Id("err-enterprise_opinion"))
        .await?
        .text()
        .await?;
    assert!(err.contains("出题企业意见"), "{err}");
    choose(c, "ac-area", "longzihu").await?;
    fill(c, "ac-opinion", "各项指标达到榜单要求，同意验收").await?;
    click(c, "ac-submit").await?;
    assert_eq!(stage(c).await?, "accepted");
    let project = c.find(Locator::Id("ch-project")).await?.text().await?;
    assert!(project.contains("JBGS-"), "{project}");

    // It is among the records the 攻关项目 indicator counts for the quarter
    // (the quarter's figure is computed once the quarter has ended).
    let (_, counted) = app
        .get(&format!(
            "/plans/{PLAN}/registries/projects?indicator=project_count&from=2025-10-01&to=2025-12-31&q=JBGS"
        ))
        .await;
    let number: String = project
        .split("JBGS-")
        .nth(1)
        .map(|r| r.chars().take_while(char::is_ascii_digit).collect())
        .unwrap_or_default();
    assert!(counted.contains(&format!("JBGS-{number}")), "{counted}");
    sign_out(c).await?;
    Ok(())
}

// Issue 14: the coordinator lowers 龙子湖区's share of the high-tech
// enterprise target in the allocation form, and the area's page judges
// the area against the new share.
in_chromium!(an_area_target_is_edited_in_chromium, area_target);

async fn area_target(c: &Client, app: &TestApp) -> Result<(), fantoccini::error::CmdError> {
    sign_in(c, app, "kjj", &format!("/plans/{PLAN}/areas/longzihu")).await?;
    let status = |c: &Client| {
        let c = c.clone();
        async move {
            c.find(Locator::Css("#own-targets tr[data-code='T3-2'] .status"))
                .await?
                .text()
                .await
        }
    };
    assert_eq!(status(c).await?, "滞后", "behind its share of 122");
    c.goto(&app.url(&format!("/plans/{PLAN}/allocation/T3-2")))
        .await?;
    let field = c
        .find(Locator::Css("input[name='target.longzihu']"))
        .await?;
    assert_eq!(field.prop("value").await?.as_deref(), Some("122"));
    field.clear().await?;
    field.send_keys("95").await?;
    click(c, "save-allocation").await?;
    let table = c.find(Locator::Id("t-T3-2")).await?.text().await?;
    assert!(table.contains("95"), "{table}");
    c.goto(&app.url(&format!("/plans/{PLAN}/areas/longzihu")))
        .await?;
    assert_eq!(status(c).await?, "已完成", "99 firms against a share of 95");
    Ok(())
}

// The coordinator edits a target in the plan editor: a bad value is shown
// beside its field, a good one saves a new version whose difference from
// the previous one the versions page shows.
in_chromium!(
    a_target_is_edited_in_the_plan_editor_in_chromium,
    plan_editor
);

async fn plan_editor(c: &Client, app: &TestApp) -> Result<(), fantoccini::error::CmdError> {
    sign_in(c, app, "kjj", &format!("/plans/{PLAN}/edit")).await?;
    c.find(Locator::Css("#edit-targets tr[data-code='T3-2'] a"))
        .await?
        .click()
        .await?;
    let target = c.wait().for_element(Locator::Id("f-target")).await?;
    assert_eq!(target.prop("value").await?.as_deref(), Some("1200"));
    target.clear().await?;
    target.send_keys("一千三").await?;
    click(c, "save-plan-edit").await?;
    let err = c.find(Locator::Id("err-target")).await?.text().await?;
    assert!(err.contains("期末目标“一千三”"), "{err}");
    let target = c.find(Locator::Id("f-target")).await?;
    assert_eq!(
        target.prop("value").await?.as_deref(),
        Some("一千三"),
        "what was typed is kept"
    );
    target.clear().await?;
    target.send_keys("1300").await?;
    click(c, "save-plan-edit").await?;
    let msg = c.find(Locator::Id("edit-message")).await?.text().await?;
    assert!(msg.contains("已保存"), "{msg}");
    c.goto(&app.url(&format!("/plans/{PLAN}/versions/diff")))
        .await?;
    let summary = c.find(Locator::Id("diff-summary")).await?.text().await?;
    assert!(summary.contains("删去 1 行，增加 1 行"), "{summary}");
    let diff = c.find(Locator::Id("diff")).await?.text().await?;
    assert!(diff.contains("target = 1300"), "{diff}");
    Ok(())
}

// Each role's main pages (issue 15), in Chromium at 1440 px and at a
// phone's 390 px: the page itself never scrolls sideways (wide tables
// scroll inside their own box), no visible text is a code, no table shows
// more than 100 rows, no link on the page answers 403 to that reader, and
// axe-core finds no serious or critical accessibility violation.
in_chromium!(each_roles_main_pages_in_chromium, walk);

/// axe-core's script, installed from npm by `scripts/test`.
fn axe_source() -> String {
    let path = std::env::var("KC_AXE").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/browser/node_modules/axe-core/axe.min.js"
        )
        .into()
    });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core not found at {path} ({e}): run `npm ci --prefix crates/kc-web/tests/browser` (scripts/test does), or set KC_AXE"
        )
    })
}

/// How far the page is wider than the window, and the widest element that
/// sticks out (for the message).
async fn overflow(c: &Client) -> Result<(i64, String), fantoccini::error::CmdError> {
    let v = c
        .execute(
            r#"const w = document.documentElement.clientWidth;
               let worst = '', most = 0;
               for (const e of document.querySelectorAll('body *')) {
                 const r = e.getBoundingClientRect();
                 if (r.right - w > most && getComputedStyle(e).position !== 'fixed') {
                   let p = e.parentElement, clipped = false;
                   while (p) { const o = getComputedStyle(p).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') { clipped = true; break; } p = p.parentElement; }
                   if (!clipped) { most = r.right - w; worst = e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''); }
                 }
               }
               return [document.documentElement.scrollWidth - w, worst];"#,
            vec![],
        )
        .await?;
    Ok((
        v[0].as_i64().unwrap_or(0),
        v[1].as_str().unwrap_or("").to_string(),
    ))
}

/// A JSON array of strings as strings (anything else left out).
fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What is wrong with the page in view: codes in its text, tables of more
/// than 100 rows, links that answer 403.
async fn page_faults(c: &Client) -> Result<Vec<String>, fantoccini::error::CmdError> {
    let v = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               const out = [];
               const text = document.body.innerText;
               for (const re of [/[a-z]+_[a-z]+(:[a-z]+)?/g, /\bhte\b/g, /value\.submit/g]) {
                 for (const m of text.matchAll(re)) { out.push('code: ' + m[0]); }
               }
               for (const t of document.querySelectorAll('table')) {
                 const n = t.querySelectorAll(':scope > tbody > tr, :scope > tr').length;
                 if (n > 100) { out.push('table of ' + n + ' rows'); }
               }
               const skip = h => /format=|\/export|\/template|\/source|\/download|\/files\/|\/api\/docs/.test(h);
               const hrefs = [...new Set([...document.querySelectorAll('a[href^="/"]')]
                 .map(a => a.getAttribute('href').split('#')[0])
                 .filter(h => h && !h.startsWith('//') && !skip(h)))];
               Promise.all(hrefs.map(h => fetch(h, {redirect: 'manual'})
                   .then(r => { if (r.status === 403 || r.status >= 500) out.push(r.status + ': ' + h); })
                   .catch(() => {})))
                 .then(() => done(out));"#,
            vec![],
        )
        .await?;
    Ok(strings(&v))
}

/// axe-core's serious and critical violations on the page in view.
async fn axe_faults(c: &Client, axe: &str) -> Result<Vec<String>, fantoccini::error::CmdError> {
    c.execute(axe, vec![]).await?;
    let v = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, {resultTypes: ['violations']}).then(r => done(
                 r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => v.impact + ' ' + v.id + ' (' + v.nodes.length + '): '
                     + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))));"#,
            vec![],
        )
        .await?;
    Ok(strings(&v))
}

async fn walk(c: &Client, app: &TestApp) -> Result<(), fantoccini::error::CmdError> {
    let axe = &axe_source();
    let mut bad = Vec::new();
    let p = |s: &str| format!("/plans/{PLAN}{s}");
    let roles: Vec<(&str, Vec<String>)> = vec![
        (
            "kjj",
            vec![
                p(""),
                p("/cultivation"),
                p("/board"),
                p("/review"),
                p("/edit/targets/T3-2"),
                p("/registries/enterprises"),
                p("/market/deals"),
            ],
        ),
        (
            "leader",
            vec![
                p("/dashboard"),
                p(""),
                p("/warnings"),
                p("/ranking"),
                p("/targets/T1-1"),
                p("/registries/qualifications?indicator=hte_count&scope=area:gaoxin&to=2025-09-30"),
            ],
        ),
        (
            "longzihu-reporter",
            vec![
                p("/duties"),
                p("/values/new?indicator=task_tech_market&scope=area:longzihu&period=2025Q3"),
                "/".to_string(),
                p("/registries/contracts"),
            ],
        ),
        ("longzihu-reviewer", vec![p("/review"), p("/duties")]),
        ("jxj-reporter", vec![p("/duties"), p("/values/new")]),
        (
            "broker",
            vec![
                p("/market/search?q=传感器"),
                p("/market/match?kind=demands&key=XQ-00-00"),
                p("/market/deals"),
                p("/market/challenges"),
            ],
        ),
        ("bank", vec![p("/finance/whitelist")]),
        ("admin", vec!["/admin/users".to_string()]),
        ("security", vec!["/admin/users".to_string()]),
        ("auditor", vec!["/admin/audit".to_string()]),
        (
            "",
            vec![
                "/public/market".to_string(),
                "/public/market/submit".to_string(),
                "/guide".to_string(),
                "/login".to_string(),
            ],
        ),
    ];
    for (user, pages) in &roles {
        if user.is_empty() {
            c.goto(&app.url("/login")).await?;
        } else {
            sign_in(c, app, user, &pages[0]).await?;
        }
        let who = if user.is_empty() { "public" } else { user };
        for (width, height) in [(1440u32, 1000u32), (390, 844)] {
            c.set_window_size(width, height).await?;
            for (i, page) in pages.iter().enumerate() {
                c.goto(&app.url(page)).await?;
                let (extra, worst) = overflow(c).await?;
                if extra > 0 {
                    bad.push(format!(
                        "{who} {page} @{width}: {extra} px too wide ({worst})"
                    ));
                }
                if width == 1440 {
                    for f in page_faults(c).await? {
                        bad.push(format!("{who} {page}: {f}"));
                    }
                    for f in axe_faults(c, axe).await? {
                        bad.push(format!("{who} {page}: axe {f}"));
                    }
                }
                // KC_SCREENSHOTS=dir keeps what the screen shows (README images).
                if let Ok(dir) = std::env::var("KC_SCREENSHOTS") {
                    let png = c.screenshot().await?;
                    let _ = std::fs::write(format!("{dir}/{width}-{who}-{i}.png"), png);
                }
            }
        }
        if !user.is_empty() {
            sign_out(c).await?;
        }
    }
    assert!(bad.is_empty(), "{} faults:\n{}", bad.len(), bad.join("\n"));
    Ok(())
}

// A broker's deal in the browser (issue 16): search → a demand among the
// hits → its matches → take one (no broker to pick: the account is its
// own broker record) → log a contact → move to negotiating → sign the
// contract. Every page on the way opens for the broker (no 403).
in_chromium!(
    a_brokers_deal_from_search_to_signing_in_chromium,
    broker_walk
);

/// Clicks the element `css` that submits a form and waits for the next
/// page: the old document carries a mark the new one does not.
async fn click_css(c: &Client, css: &str) -> Result<(), fantoccini::error::CmdError> {
    c.execute("window.__kcOld = true;", vec![]).await?;
    c.find(Locator::Css(css)).await?.click().await?;
    for _ in 0..200 {
        let old = c.execute("return window.__kcOld === true;", vec![]).await?;
        if old == serde_json::Value::Bool(false) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no new page after clicking {css}");
}

/// The page in view is not a refusal or an error page.
async fn not_refused(c: &Client, step: &str) -> Result<(), fantoccini::error::CmdError> {
    let title = c.title().await?;
    assert!(
        !title.starts_with("出错了"),
        "{step}: an error page ({title})"
    );
    Ok(())
}

async fn broker_walk(c: &Client, app: &TestApp) -> Result<(), fantoccini::error::CmdError> {
    sign_in(c, app, "broker", &format!("/plans/{PLAN}/market/search")).await?;
    fill(c, "f-q", "磷酸铁锂").await?;
    c.find(Locator::Css("form.asof button[type=submit]"))
        .await?
        .click()
        .await?;
    c.wait().for_element(Locator::Id("hits")).await?;
    not_refused(c, "search").await?;
    // The first demand among the hits opens its matches.
    c.goto(
        &c.find(Locator::XPath(
            "//ol[@id='hits']/li[span[text()='技术需求']]/a",
        ))
        .await?
        .attr("href")
        .await?
        .map(|h| app.url(&h))
        .expect("a demand hit with a link"),
    )
    .await?;
    c.wait().for_element(Locator::Id("suggestions")).await?;
    not_refused(c, "matches").await?;
    let page = c.source().await?;
    assert!(!page.contains(r#"name="broker""#), "no broker picker");
    click_css(c, "#suggestions form.take button[type=submit]").await?;
    c.wait().for_element(Locator::Id("deal-stage")).await?;
    not_refused(c, "deal").await?;
    let stage = |c: &Client| {
        let c = c.clone();
        async move {
            c.find(Locator::Id("deal-stage"))
                .await?
                .attr("data-stage")
                .await
                .map(Option::unwrap_or_default)
        }
    };
    assert_eq!(stage(c).await?, "matched");
    fill(c, "c-note", "电话联系企业技术负责人，约定下周面谈").await?;
    click(c, "c-submit").await?;
    assert!(
        c.source().await?.contains("约定下周面谈"),
        "the contact is logged"
    );
    choose(c, "a-to", "contacted").await?;
    click(c, "a-submit").await?;
    assert_eq!(stage(c).await?, "contacted");
    choose(c, "a-to", "negotiating").await?;
    click(c, "a-submit").await?;
    assert_eq!(stage(c).await?, "negotiating");
    for (id, v) in [
        ("r-reg_number", "2025340300007777"),
        ("r-seller_name", "合肥工业大学"),
        ("r-buyer_name", "蚌埠某新能源企业"),
        ("r-amount", "300"),
        ("r-tech_amount", "260"),
        ("r-signed_on", "2025-10-10"),
    ] {
        fill(c, id, v).await?;
    }
    choose(c, "r-kind", "技术开发").await?;
    choose(c, "r-seller_area", "outside").await?;
    choose(c, "r-seller_type", "高校").await?;
    choose(c, "r-buyer_area", "longzihu").await?;
    choose(c, "r-buyer_type", "企业").await?;
    click(c, "s-submit").await?;
    not_refused(c, "signed").await?;
    assert_eq!(stage(c).await?, "signed", "{}", c.source().await?);
    assert!(c.find(Locator::Id("deal-contract")).await.is_ok());
    Ok(())
}
