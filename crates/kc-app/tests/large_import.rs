//! A million-row file: every row is checked, the bad ones are reported by
//! row number, nothing is half-written, and with `skip_invalid` exactly the
//! good rows land. Runs on SQLite (the behaviour suite covers PostgreSQL's
//! transactions); it is the slowest test of the workspace, a few seconds in
//! a debug build.

use chrono::NaiveDate;
use kc_app::registries::{ImportRequest, import_registry};
use kc_domain::registry;

const ROWS: usize = 1_000_000;

fn million_events(bad_rows: &[usize]) -> Vec<u8> {
    let mut csv = String::with_capacity(ROWS * 40);
    csv.push_str("活动名称,活动类型,举办日期,举办地区,参加人数\n");
    for i in 1..=ROWS {
        // Spreadsheet row numbers: the header is row 1.
        let row = i + 1;
        if bad_rows.contains(&row) {
            csv.push_str(&format!("活动{i},成果路演,2025-02-30,蚌山区,-3\n"));
        } else {
            let area = ["蚌山区", "龙子湖区", "高新区", "怀远县"][i % 4];
            csv.push_str(&format!(
                "活动{i},供需对接,2025-{:02}-{:02},{area},{}\n",
                i % 12 + 1,
                i % 28 + 1,
                i % 500
            ));
        }
    }
    csv.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_rows_with_three_bad_ones() {
    let db = kc_store::testkit::sqlite().await;
    kc_app::load_plan_text(
        &db.store,
        kc_app::BENGBU_PLAN_FILE,
        kc_app::BENGBU_PLAN,
        "test",
    )
    .await
    .unwrap();
    let plan = kc_planfile::parse_plan(kc_app::BENGBU_PLAN_FILE, kc_app::BENGBU_PLAN).unwrap();
    let bad = [2, 500_001, ROWS + 1];
    let bytes = million_events(&bad);
    let today = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
    let actor = kc_app::auth::Actor::new("test", "local");
    let request = |skip_invalid| ImportRequest {
        def: &registry::EVENTS,
        kind: kc_io::FileKind::Csv,
        bytes: &bytes,
        skip_invalid,
        actor: &actor,
        file_name: "events.csv",
        today,
    };

    let out = import_registry(&db.store, &plan, request(false), |_, _| {})
        .await
        .unwrap();
    assert!(out.refused);
    assert_eq!(out.rows, ROWS);
    assert_eq!(out.rejected, 3);
    let rows: Vec<usize> = out.errors.iter().map(|e| e.row).collect();
    for r in bad {
        assert!(rows.contains(&r), "row {r} not reported: {rows:?}");
    }
    assert!(
        out.errors
            .iter()
            .any(|e| e.column == "举办日期" && e.row == 500_001)
    );
    assert!(
        out.errors
            .iter()
            .any(|e| e.column == "参加人数" && e.row == ROWS + 1)
    );
    assert_eq!(
        db.store.count_records("events").await.unwrap(),
        0,
        "nothing half-written"
    );

    let out = import_registry(&db.store, &plan, request(true), |_, _| {})
        .await
        .unwrap();
    assert!(!out.refused);
    assert_eq!((out.created, out.written), (ROWS - 3, ROWS - 3));
    assert_eq!(
        db.store.count_records("events").await.unwrap(),
        (ROWS - 3) as i64
    );
    db.cleanup().await;
}
