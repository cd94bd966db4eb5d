//! Enterprise cultivation over HTTP on demo data, both backends: the
//! pre-check lists per qualification and area (counts, filters, each row's
//! verdict equal to the firm's own page, the Excel export equal to the
//! page), the 两清零 worklists (every firm listed really qualifies, traced
//! through the registry API; areas add up to the city), the 亩均
//! evaluation (class counts add up under both weightings, moves counted,
//! export), and bad parameters.

#[macro_use]
mod common;

use common::{PLAN, TestApp};

/// The rows of a table, as the text of each `<tr …>` in `<tbody>`.
fn rows(page: &str, table: &str) -> Vec<String> {
    let t = page
        .split(&format!("id=\"{table}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no table {table}"));
    let body = t
        .split("<tbody>")
        .nth(1)
        .unwrap()
        .split("</tbody>")
        .next()
        .unwrap();
    body.split("<tr").skip(1).map(|r| r.to_string()).collect()
}

/// Every row of a paged list (a page holds at most 100): the pages walked
/// with `per=100` until the total the pager states is reached.
async fn every_row(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    table: &str,
) -> Vec<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    for page in 1.. {
        let p = app
            .text_as(client, &format!("{path}{sep}per=100&page={page}"))
            .await;
        let total: usize = p
            .split("共 <b>")
            .nth(1)
            .and_then(|x| x.split("</b>").next())
            .unwrap_or_else(|| panic!("{path}: no total in the pager"))
            .parse()
            .unwrap();
        let r = if total == 0 {
            Vec::new()
        } else {
            rows(&p, table)
        };
        assert!(r.len() <= 100, "{path}: {} rows on a page", r.len());
        out.extend(r);
        if out.len() >= total {
            assert_eq!(out.len(), total, "{path}: the pages hold the total");
            break;
        }
        assert!(page < 200, "{path}: the pages never end");
    }
    out
}

fn cells(row: &str) -> Vec<String> {
    row.split("<td")
        .skip(1)
        .map(|c| {
            let inner = c.split_once('>').map(|x| x.1).unwrap_or("");
            let inner = inner.split("</td>").next().unwrap_or("");
            // Strip tags.
            let mut out = String::new();
            let mut tag = false;
            for ch in inner.chars() {
                match ch {
                    '<' => tag = true,
                    '>' => tag = false,
                    _ if !tag => out.push(ch),
                    _ => {}
                }
            }
            out.trim().to_string()
        })
        .collect()
}

/// The header row and then the data rows of an exported workbook.
async fn xlsx_rows(app: &TestApp, path: &str) -> Vec<Vec<String>> {
    let r = app.http.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{path}");
    let bytes = r.bytes().await.unwrap();
    let sheet = kc_io::read_xlsx(&bytes).expect("a readable workbook");
    std::iter::once(sheet.headers)
        .chain(sheet.rows.into_iter().map(|(_, r)| r))
        .collect()
}

fn count(page: &str, label: &str) -> usize {
    let s = page.split("id=\"verdict-counts\"").nth(1).unwrap();
    s.split(&format!("{label} <b>"))
        .nth(1)
        .and_then(|x| x.split("</b>").next())
        .unwrap()
        .parse()
        .unwrap()
}

async fn prechecks_per_area_with_gaps(app: &TestApp) {
    let (s, page) = app
        .get(&format!("/plans/{PLAN}/cultivation?rule=hte"))
        .await;
    assert_eq!(s, 200);
    assert!(
        page.contains("规则版本 2023.1"),
        "results name the rule version"
    );
    // The first page shows 50 rows and the total.
    assert_eq!(rows(&page, "prechecks").len(), 50);
    let listed = every_row(
        app,
        &app.http,
        &format!("/plans/{PLAN}/cultivation?rule=hte"),
        "prechecks",
    )
    .await;
    let total: usize = ["符合条件", "接近条件", "数据不全", "不符合"]
        .iter()
        .map(|l| count(&page, l))
        .sum();
    assert_eq!(listed.len(), total, "every firm counted once");
    assert!(count(&page, "符合条件") > 0 && count(&page, "接近条件") > 0);
    // Near firms come right after eligible ones and say what they lack.
    let near: Vec<&String> = listed
        .iter()
        .filter(|r| r.contains("data-verdict=\"near\""))
        .collect();
    assert!(
        near.iter()
            .any(|r| r.contains("还需研发投入约") || r.contains("差 ")),
        "gaps in money or points"
    );
    // A row's verdict is the firm page's.
    let first = near[0];
    let code = first
        .split("firm?code=")
        .nth(1)
        .unwrap()
        .split(['"', '&'])
        .next()
        .unwrap();
    let (s, firm) = app
        .get(&format!("/plans/{PLAN}/cultivation/firm?code={code}"))
        .await;
    assert_eq!(s, 200);
    assert!(firm.contains("data-verdict=\"near\""), "{firm}");
    assert!(
        firm.contains("高新技术企业")
            && firm.contains("科技型中小企业")
            && firm.contains("专精特新中小企业")
    );
    // By area: the areas' lists add up to the city's.
    let mut sum = 0;
    for area in [
        "longzihu",
        "bengshan",
        "yuhui",
        "huaishang",
        "huaiyuan",
        "wuhe",
        "guzhen",
        "gaoxin",
        "jingkai",
    ] {
        let (s, p) = app
            .get(&format!("/plans/{PLAN}/cultivation?rule=hte&area={area}"))
            .await;
        assert_eq!(s, 200, "{area}");
        let _ = p;
        sum += every_row(
            app,
            &app.http,
            &format!("/plans/{PLAN}/cultivation?rule=hte&area={area}"),
            "prechecks",
        )
        .await
        .len();
    }
    assert_eq!(sum, listed.len(), "the areas add up to the city");
    // Filter and export.
    let (_, eligible) = app
        .get(&format!(
            "/plans/{PLAN}/cultivation?rule=tsme&verdict=eligible"
        ))
        .await;
    let _ = eligible;
    let e = every_row(
        app,
        &app.http,
        &format!("/plans/{PLAN}/cultivation?rule=tsme&verdict=eligible"),
        "prechecks",
    )
    .await;
    assert!(e.iter().all(|r| r.contains("data-verdict=\"eligible\"")));
    let x = xlsx_rows(
        app,
        &format!("/plans/{PLAN}/cultivation?rule=tsme&verdict=eligible&format=xlsx"),
    )
    .await;
    assert_eq!(
        x.len(),
        e.len() + 1,
        "the export holds the page's rows and a header"
    );
    assert_eq!(x[0][0], "统一社会信用代码");
    // Bad parameters.
    for (path, status) in [
        ("/cultivation?rule=nope", 400),
        ("/cultivation?area=nope", 404),
        ("/cultivation?year=20x4", 400),
        ("/cultivation/firm?code=nope", 404),
        ("/cultivation/mujun?b=nope", 400),
    ] {
        assert_eq!(
            app.get(&format!("/plans/{PLAN}{path}")).await.0,
            status,
            "{path}"
        );
    }
}

async fn two_zero_lists_trace_to_the_registries(app: &TestApp) {
    let (s, page) = app
        .get(&format!("/plans/{PLAN}/cultivation/two-zero"))
        .await;
    assert_eq!(s, 200);
    let no_rd = rows(&page, "no-rd");
    let no_inst = rows(&page, "no-inst");
    assert!(!no_rd.is_empty() && !no_inst.is_empty());
    // Areas add up.
    let by_area = rows(&page, "by-area");
    let (a, b) = by_area.iter().fold((0, 0), |(a, b), r| {
        let c = cells(r);
        (
            a + c[1].parse::<usize>().unwrap(),
            b + c[2].parse::<usize>().unwrap(),
        )
    });
    assert_eq!((a, b), (no_rd.len(), no_inst.len()));
    // Three listed firms, checked through the registry API.
    for r in no_rd.iter().take(3) {
        let code = r.split("key=").nth(1).unwrap().split('"').next().unwrap();
        let ent = app
            .get_json(&format!(
                "/api/v1/plans/{PLAN}/registries/enterprises/record?key={code}"
            ))
            .await;
        assert_eq!(ent["fields"]["above_scale"], true);
        assert_eq!(ent["fields"]["manufacturing"], true);
        let fig = app
            .get_json(&format!(
                "/api/v1/plans/{PLAN}/registries/enterprise_figures/record?key={code}|2024"
            ))
            .await;
        assert!(fig["fields"]["revenue"].as_f64().unwrap() >= 10_000.0);
        assert_ne!(fig["fields"]["has_rd_activity"], true);
    }
    // Each listed firm shows its latest service record, when it has one.
    assert!(page.contains("最近服务"));
    // One area's page lists only that area's firms.
    let (_, gaoxin) = app
        .get(&format!("/plans/{PLAN}/cultivation/two-zero?area=gaoxin"))
        .await;
    assert!(rows(&gaoxin, "no-rd").iter().all(|r| r.contains("高新")));
    let x = xlsx_rows(
        app,
        &format!("/plans/{PLAN}/cultivation/two-zero?format=xlsx"),
    )
    .await;
    assert_eq!(x.len(), 1 + no_rd.len() + no_inst.len());
}

async fn mujun_under_two_weightings(app: &TestApp) {
    let (s, page) = app.get(&format!("/plans/{PLAN}/cultivation/mujun")).await;
    assert_eq!(s, 200);
    let list = every_row(
        app,
        &app.http,
        &format!("/plans/{PLAN}/cultivation/mujun"),
        "mujun",
    )
    .await;
    let scored = list.iter().filter(|r| !cells(r)[7].is_empty()).count();
    let counts = rows(&page, "class-counts");
    let (a, b) = counts.iter().fold((0, 0), |(a, b), r| {
        let c = cells(r);
        (
            a + c[1].parse::<usize>().unwrap(),
            b + c[2].parse::<usize>().unwrap(),
        )
    });
    assert_eq!(
        (a, b),
        (scored, scored),
        "every scored firm in one class under each scheme"
    );
    let moved = list.iter().filter(|r| r.contains("data-moved")).count();
    assert!(moved > 0, "weighting R&D more moves some firms");
    let sentence = page.split("id=\"moves\">").nth(1).unwrap();
    let up = list
        .iter()
        .filter(|r| r.contains("data-moved=\"升\""))
        .count();
    assert!(
        sentence.contains(&format!("<b>{up}</b> 家企业分类上升")),
        "{sentence}"
    );
    let x = xlsx_rows(app, &format!("/plans/{PLAN}/cultivation/mujun?format=xlsx")).await;
    assert_eq!(x.len(), list.len() + 1);
    // Comparing a scheme with itself moves nobody.
    let (_, same) = app
        .get(&format!(
            "/plans/{PLAN}/cultivation/mujun?a=current&b=current"
        ))
        .await;
    assert!(!same.contains("data-moved"));
}

async fn pools_with_service_records_and_the_pipeline(app: &TestApp) {
    let (s, page) = app.get(&format!("/plans/{PLAN}/cultivation/pools")).await;
    assert_eq!(s, 200);
    let list = every_row(
        app,
        &app.http,
        &format!("/plans/{PLAN}/cultivation/pools"),
        "pools",
    )
    .await;
    let per_area = rows(&page, "pool-areas");
    let total: usize = per_area
        .iter()
        .map(|r| {
            cells(r)[1..]
                .iter()
                .map(|c| c.parse::<usize>().unwrap())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(total, list.len(), "the areas' pools add up");
    for tier in ["微成长", "小升高", "高变强"] {
        assert!(list.iter().any(|r| cells(r)[3] == tier), "{tier} has firms");
    }
    assert!(
        list.iter().any(|r| !cells(r)[6].is_empty()),
        "service records name their owner"
    );
    // The high-tech forecast with the pipeline is the forecast plus 80% of
    // the eligible and 30% of the near firms.
    let p = rows(&page, "pipeline");
    let row = p
        .iter()
        .find(|r| r.contains("data-target=\"T3-2\""))
        .expect("the high-tech target");
    let c = cells(row);
    let num = |s: &str| s.replace(',', "").parse::<f64>().unwrap();
    let (e, n) = c[5].split_once(" / ").unwrap();
    let expected = 0.8 * num(e) + 0.3 * num(n);
    assert_eq!(num(&c[6]), expected.round());
    assert!((num(&c[7]) - (num(&c[3]) + expected)).abs() <= 1.0, "{c:?}");
    // The high-tech pipeline counts equal the pre-check page's.
    let (_, pre) = app
        .get(&format!("/plans/{PLAN}/cultivation?rule=hte"))
        .await;
    assert_eq!(num(e) as usize, count(&pre, "符合条件"));
    assert_eq!(num(n) as usize, count(&pre, "接近条件"));
    let s = every_row(
        app,
        &app.http,
        &format!("/plans/{PLAN}/cultivation/pools?tier=small_high&area=gaoxin"),
        "pools",
    )
    .await;
    assert!(
        s.iter()
            .all(|r| cells(r)[3] == "小升高" && cells(r)[1].contains("高新"))
    );
    let x = xlsx_rows(
        app,
        &format!("/plans/{PLAN}/cultivation/pools?tier=small_high&area=gaoxin&format=xlsx"),
    )
    .await;
    assert_eq!(x.len(), s.len() + 1);
    let (s, listing) = app.get(&format!("/plans/{PLAN}/cultivation/listing")).await;
    assert_eq!(s, 200);
    assert!(listing.contains("上市后备企业"));
}

async fn a_bank_sees_the_whitelist_and_records_loans(app: &TestApp) {
    let bank = app.client_as("bank").await;
    let page = app
        .text_as(&bank, &format!("/plans/{PLAN}/finance/whitelist"))
        .await;
    let list = every_row(
        app,
        &bank,
        &format!("/plans/{PLAN}/finance/whitelist"),
        "whitelist",
    )
    .await;
    assert!(!list.is_empty());
    // A name typed in the search box finds the firm.
    let first_name = cells(&list[0])[0].clone();
    let found = app
        .text_as(
            &bank,
            &format!(
                "/plans/{PLAN}/finance/whitelist?q={}",
                percent_encoding::utf8_percent_encode(
                    &first_name,
                    percent_encoding::NON_ALPHANUMERIC
                )
            ),
        )
        .await;
    assert!(
        rows(&found, "whitelist")
            .iter()
            .any(|r| r.contains(&first_name))
    );
    // Qualifications by their names, never their codes.
    assert!(
        list.iter()
            .all(|r| !r.contains("hte") && !r.contains("tsme")),
        "{}",
        list[0]
    );
    // Every firm listed says why.
    assert!(
        list.iter()
            .all(|r| r.contains("有研发活动：有") && r.contains("持有有效资质"))
    );
    // The bank's page has no links into the plan.
    assert!(!page.contains("/cultivation/firm") && !page.contains("/registries/"));
    let home = app.text_as(&bank, "/").await;
    assert!(home.contains("查看白名单") && !home.contains("管理员工作台"));
    // A loan to a listed firm is recorded under the bank's name.
    let code = list[0]
        .split("data-code=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let post = |fields: Vec<(&'static str, String)>| {
        let bank = bank.clone();
        let url = app.url(&format!("/plans/{PLAN}/finance/loans"));
        async move {
            let r = bank.post(url).form(&fields).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let loan = |credit: &str, amount: &str| {
        vec![
            ("credit_code", credit.to_string()),
            ("number", "TEST-LOAN-1".to_string()),
            ("product", "研发贷".to_string()),
            ("amount", amount.to_string()),
            ("lent_on", "2025-09-01".to_string()),
        ]
    };
    let (s, body) = post(loan(&code, "五百")).await;
    assert_eq!(s, 400);
    assert!(
        body.contains("id=\"err-amount\""),
        "the message is beside the field"
    );
    assert!(body.contains(&code), "the typed values are kept");
    // A firm not on the list is refused.
    let (_, full) = app
        .get(&format!("/plans/{PLAN}/cultivation?rule=hte&verdict=not"))
        .await;
    let off = rows(&full, "prechecks")
        .iter()
        .map(|r| {
            r.split("firm?code=")
                .nth(1)
                .unwrap()
                .split(['"', '&'])
                .next()
                .unwrap()
                .to_string()
        })
        .find(|c| !page.contains(&format!("data-code=\"{c}\"")))
        .expect("a firm off the list");
    let (s, body) = post(loan(&off, "500")).await;
    assert_eq!(s, 400);
    assert!(body.contains("不在科技企业白名单中"), "{body}");
    let (s, _) = post(loan(&code, "500")).await;
    assert_eq!(s, 303);
    let page = app
        .text_as(&bank, &format!("/plans/{PLAN}/finance/whitelist"))
        .await;
    let mine = rows(&page, "loan-list");
    assert!(mine.iter().any(|r| r.contains("TEST-LOAN-1")));
    assert!(
        mine.iter()
            .all(|r| r.contains("某合作银行蚌埠分行（演示）")),
        "a bank sees its own loans only"
    );
    let (s, _) = post(loan(&code, "500")).await;
    assert_eq!(s, 400, "the same contract number twice");
    // The bureau sees the loan in the registry too.
    let j = app
        .get_json(&format!("/api/v1/plans/{PLAN}/registries/loans/record?key=某合作银行蚌埠分行（演示）|TEST-LOAN-1"))
        .await;
    assert_eq!(j["fields"]["amount"], 500.0);
    let x = xlsx_rows(app, &format!("/plans/{PLAN}/finance/whitelist?format=xlsx")).await;
    assert_eq!(x.len(), list.len() + 1);
}

/// The judgement date (issue 16): `as_of` on the API, the page and the
/// export; it decides the fiscal year used and the years since
/// registration, and a bad date is a 400, never a guess.
async fn prechecks_are_judged_at_a_date(app: &TestApp) {
    let api = |q: &str| format!("/api/v1/plans/{PLAN}/cultivation/precheck?rule=hte{q}");
    // Default: the server's today (the tests live on 2025-10-20).
    let j = app.get_json(&api("")).await;
    assert_eq!(j["as_of"], "2025-10-20");
    assert_eq!(j["year"], 2024);
    assert_eq!(
        j["total"].as_u64().unwrap() as usize,
        j["rows"].as_array().unwrap().len()
    );
    // Before June the last closed fiscal year is two years back.
    let early = app.get_json(&api("&as_of=2025-03-01")).await;
    assert_eq!(early["as_of"], "2025-03-01");
    assert_eq!(early["year"], 2023);
    // A firm too young at one date is old enough at the date its gap names.
    let young = early["rows"]
        .as_array()
        .unwrap()
        .iter()
        .chain(j["rows"].as_array().unwrap())
        .find_map(|r| {
            let c = r["conditions"]
                .as_array()?
                .iter()
                .find(|c| c["code"] == "registered" && c["outcome"] == "not_met")?;
            let due = c["gap"].as_str()?.split(' ').next()?.to_string();
            Some((r["credit_code"].as_str()?.to_string(), due))
        });
    if let Some((firm, due)) = young {
        let later = app.get_json(&api(&format!("&as_of={due}"))).await;
        if let Some(r) = later["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["credit_code"] == firm.as_str())
        {
            let c = r["conditions"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["code"] == "registered")
                .unwrap();
            assert_eq!(c["outcome"], "met", "{firm} at {due}: {c}");
        }
    }
    // The page shows and keeps the date; the export says it in its title.
    let (status, page) = app
        .get(&format!(
            "/plans/{PLAN}/cultivation?rule=hte&as_of=2025-06-30"
        ))
        .await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"name="as_of" value="2025-06-30""#),
        "date kept"
    );
    assert!(
        page.contains("as_of=2025-06-30"),
        "links and export carry the date"
    );
    for bad in ["2025/06/30", "2025-13-01", "明天"] {
        let (status, body) = app
            .get(&format!("/plans/{PLAN}/cultivation?as_of={bad}"))
            .await;
        assert_eq!(status, 400, "{bad}");
        assert!(body.contains("判断日期"), "{bad}");
        let (status, _) = app.get(&api(&format!("&as_of={bad}"))).await;
        assert_eq!(status, 400, "API {bad}");
    }
}

on_both_backends!(
    prechecks_are_judged_at_a_date,
    pools_with_service_records_and_the_pipeline,
    a_bank_sees_the_whitelist_and_records_loans,
    prechecks_per_area_with_gaps,
    two_zero_lists_trace_to_the_registries,
    mujun_under_two_weightings
);
