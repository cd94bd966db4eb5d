//! The command line as users run it.

use std::process::{Command, Output};

fn kechuang(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kechuang"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("KECHUANG_DB")
        .output()
        .expect("run kechuang")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const BENGBU: &str = "../../plans/bengbu-2023-2025.toml";

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("kc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn plan_check_summarises_the_bengbu_plan() {
    let o = kechuang(&["plan", "check", BENGBU]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("工程 5 个，行动 10 个"), "{out}");
    assert!(out.contains("考核目标 39 个"), "{out}");
    let plan = kc_planfile::parse_plan("b", &std::fs::read_to_string(BENGBU).unwrap()).unwrap();
    for t in &plan.targets {
        assert!(
            out.contains(&format!("{} {}", t.code, t.name)),
            "target {} not listed",
            t.code
        );
    }
}

#[test]
fn plan_show_json_is_the_tree() {
    let o = kechuang(&["plan", "show", BENGBU, "--json"]);
    assert!(o.status.success());
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["tree"].as_array().unwrap().len(), 5);
    assert_eq!(j["goals"].as_array().unwrap().len(), 8);
    let o = kechuang(&["plan", "show", BENGBU]);
    assert!(text(&o.stdout).contains("A1 创新平台体系重构行动（行动）"));
}

/// `plan table export` then `plan table import` on the same frame: a new
/// plan file that `plan check` accepts, with the same targets; a bad table
/// exits 2 naming its rows and writes nothing.
#[test]
fn a_target_table_becomes_a_new_plan_file() {
    let dir = temp_dir("table");
    let xlsx = dir.join("目标表.xlsx");
    let out_file = dir.join("new.toml");
    let o = kechuang(&[
        "plan",
        "table",
        "export",
        BENGBU,
        "-o",
        xlsx.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("39 项目标"), "{}", text(&o.stdout));
    let args = |table: &str, out: &str| {
        vec![
            "plan".to_string(),
            "table".into(),
            "import".into(),
            table.into(),
            "--base".into(),
            BENGBU.into(),
            "--code".into(),
            "bengbu-copy".into(),
            "--name".into(),
            "蚌埠市科技强市行动方案（复制）".into(),
            "--start".into(),
            "2023-01-01".into(),
            "--end".into(),
            "2025-12-31".into(),
            "-o".into(),
            out.into(),
        ]
    };
    let a = args(xlsx.to_str().unwrap(), out_file.to_str().unwrap());
    let o = kechuang(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = kechuang(&["plan", "check", out_file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let new = kc_planfile::parse_plan("n", &std::fs::read_to_string(&out_file).unwrap()).unwrap();
    let old = kc_planfile::parse_plan("b", &std::fs::read_to_string(BENGBU).unwrap()).unwrap();
    assert_eq!(new.code.as_str(), "bengbu-copy");
    let codes = |p: &kc_domain::Plan| {
        p.targets
            .iter()
            .map(|t| t.code.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&new), codes(&old));

    let bad = dir.join("坏表.csv");
    std::fs::write(
        &bad,
        "目标编号,目标名称,目标类型,计量单位,期末目标\nA1,甲,存量,家,10\nA2,乙,期末存量,家,很多\n",
    )
    .unwrap();
    let never = dir.join("never.toml");
    let a = args(bad.to_str().unwrap(), never.to_str().unwrap());
    let o = kechuang(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("第 2 行：目标类型“存量”应为以下之一"), "{err}");
    assert!(err.contains("第 3 行：期末目标“很多”应为数字"), "{err}");
    assert!(!never.exists(), "nothing written");
}

#[test]
fn a_bad_plan_exits_2_with_every_error_located_and_writes_nothing() {
    let dir = temp_dir("bad");
    let file = dir.join("bad.toml");
    let good = std::fs::read_to_string(BENGBU).unwrap();
    let bad = good
        .replacen("kind = \"stock\"", "kind = \"stok\"", 1)
        .replacen("indicator = \"hte_count\"", "indicator = \"hte\"", 1);
    std::fs::write(&file, bad).unwrap();
    let o = kechuang(&["plan", "check", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    let located: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with(file.to_str().unwrap()))
        .collect();
    assert!(located.len() >= 2, "{err}");
    assert!(err.contains("stok") && err.contains("hte"), "{err}");
    let db = format!("sqlite://{}/kc.db", dir.display());
    let o = kechuang(&["plan", "load", file.to_str().unwrap(), "--db", &db]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !dir.join("kc.db").exists(),
        "a bad plan must not create or touch the database"
    );
    let o = kechuang(&["plan", "check", "/no/such/file.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("无法读取"));
}

#[test]
fn loading_a_changed_plan_keeps_the_earlier_version() {
    let dir = temp_dir("load");
    let db = format!("sqlite://{}/kc.db", dir.display());
    let o = kechuang(&["plan", "load", BENGBU, "--db", &db]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("第 1 版"));
    let o = kechuang(&["plan", "load", BENGBU, "--db", &db]);
    assert!(text(&o.stdout).contains("未生成新版本"));
    let changed = dir.join("changed.toml");
    let text2 =
        std::fs::read_to_string(BENGBU)
            .unwrap()
            .replacen("target = 1200", "target = 1250", 1);
    std::fs::write(&changed, text2).unwrap();
    let o = kechuang(&["plan", "load", changed.to_str().unwrap(), "--db", &db]);
    assert!(text(&o.stdout).contains("第 2 版"), "{}", text(&o.stdout));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = kc_store::Store::connect(&db).await.unwrap();
        let versions = store.plan_versions("bengbu-2023-2025").await.unwrap();
        assert_eq!(versions.len(), 2);
        store.close().await;
    });
}

#[test]
fn an_unreachable_database_is_one_clear_line() {
    let o = kechuang(&[
        "serve",
        "--db",
        "postgres://kc:secret@127.0.0.1:1/kc",
        "--addr",
        "127.0.0.1:0",
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("postgres://kc:***@127.0.0.1:1/kc"),
        "{err}"
    );
    assert!(!err.contains("secret"));
    let o = kechuang(&["plan", "load", BENGBU, "--db", "mysql://x/y"]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("sqlite:// 或 postgres://"));
}

/// `import` and `export` as a bureau clerk uses them: a file with one bad
/// row is refused whole with the row named; `--skip-invalid` loads the good
/// rows; importing again changes nothing; an exported file imports back as
/// unchanged; a template has the Chinese headers.
#[test]
fn import_and_export_registries() {
    let dir = temp_dir("import");
    let db = format!("sqlite://{}", dir.join("kc.db").display());
    let o = kechuang(&["plan", "load", BENGBU, "--db", &db]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let code = |n: usize| {
        kc_domain::credit::complete(&format!("91340300MA2N{n:05}"))
            .unwrap()
            .to_string()
    };
    let csv = dir.join("企业.csv");
    // The check character of code 3 on code 4: wrong.
    let bad = format!("{}{}", &code(4)[..17], &code(3)[17..]);
    std::fs::write(
        &csv,
        format!(
            "统一社会信用代码,企业名称,所在地区,规模以上\n\
             {},蚌埠甲科技有限公司,高新区,是\n\
             {},蚌埠乙材料有限公司,蚌山区,否\n\
             {bad},蚌埠丙公司,合肥,是\n",
            code(1),
            code(2),
        ),
    )
    .unwrap();
    let file = csv.to_str().unwrap();

    let o = kechuang(&["import", "enterprises", file, "--db", &db]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("第 4 行「统一社会信用代码」"), "{err}");
    assert!(err.contains("第 4 行「所在地区」"), "{err}");
    assert!(err.contains("未导入任何数据"), "{err}");

    let exported = dir.join("导出.csv");
    let exported = exported.to_str().unwrap();
    let o = kechuang(&["export", "enterprises", exported, "--db", &db]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let rows = std::fs::read_to_string(exported).unwrap().lines().count();
    assert_eq!(
        rows, 1,
        "nothing was written: the export has its header only"
    );

    let o = kechuang(&["import", "enterprises", file, "--skip-invalid", "--db", &db]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("写入 2 行（新增 2，更新 0）"), "{out}");
    assert!(out.contains("跳过有误的 1 行"), "{out}");

    let o = kechuang(&["import", "enterprises", file, "--skip-invalid", "--db", &db]);
    assert!(text(&o.stdout).contains("写入 0 行（新增 0，更新 0），与已有记录相同未改动 2 行"));

    for ext in ["xlsx", "csv"] {
        let out = dir.join(format!("企业导出.{ext}"));
        let out = out.to_str().unwrap();
        let o = kechuang(&["export", "enterprises", out, "--db", &db]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        let o = kechuang(&["import", "enterprises", out, "--db", &db]);
        assert!(o.status.success(), "{}", text(&o.stderr));
        assert!(
            text(&o.stdout).contains("与已有记录相同未改动 2 行"),
            "{ext} export does not round-trip: {}",
            text(&o.stdout)
        );
    }

    let template = dir.join("模板.csv");
    let o = kechuang(&[
        "export",
        "enterprises",
        template.to_str().unwrap(),
        "--template",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let head = std::fs::read_to_string(&template).unwrap();
    assert!(
        head.contains("统一社会信用代码") && head.contains("所在地区"),
        "{head}"
    );

    let o = kechuang(&["import", "firms", file, "--db", &db]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("enterprises（企业）"));
    let o = kechuang(&["import", "enterprises", "企业.txt", "--db", &db]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("只支持 .xlsx 和 .csv 文件"));
}

#[test]
fn accounts_and_a_tampered_audit_trail() {
    let dir = temp_dir("users");
    let db = format!("sqlite://{}", dir.join("kc.db").display());
    let o = kechuang(&["plan", "load", BENGBU, "--db", &db]);
    assert!(o.status.success(), "{}", text(&o.stderr));

    let o = kechuang(&[
        "user",
        "add",
        "lzh",
        "--role",
        "area_reporter:longzihu",
        "--name",
        "龙子湖填报",
        "--db",
        &db,
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("已新建账号 lzh，初始密码："), "{out}");
    // Bad roles, unknown areas and the three administrators' separation are
    // refused with the reason.
    for (role, why) in [
        ("area_reporter:nowhere", "不在规划中"),
        ("boss", "角色“boss”不正确"),
    ] {
        let o = kechuang(&["user", "add", "x1", "--role", role, "--db", &db]);
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o.stderr).contains(why), "{}", text(&o.stderr));
    }
    let o = kechuang(&[
        "user", "add", "x2", "--role", "sysadmin", "--role", "leader", "--db", &db,
    ]);
    assert!(text(&o.stderr).contains("三员分立"), "{}", text(&o.stderr));
    let o = kechuang(&["user", "add", "lzh", "--db", &db]);
    assert!(text(&o.stderr).contains("已被使用"), "{}", text(&o.stderr));

    let o = kechuang(&["user", "reset", "lzh", "--db", &db]);
    assert!(
        text(&o.stdout).contains("临时密码："),
        "{}",
        text(&o.stdout)
    );
    let o = kechuang(&["user", "lock", "lzh", "--db", &db]);
    assert!(o.status.success());
    let o = kechuang(&["user", "list", "--db", &db]);
    let list = text(&o.stdout);
    assert!(
        list.contains("lzh\t龙子湖填报\t停用\tarea_reporter:longzihu"),
        "{list}"
    );
    let o = kechuang(&["user", "unlock", "nobody", "--db", &db]);
    assert!(text(&o.stderr).contains("用户“nobody”不存在"));

    // The trail verifies …
    let o = kechuang(&["audit", "verify", "--db", &db]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("审计日志完整：5 条记录"), "{out}");

    // … until a record is changed directly in the database.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = kc_store::Store::connect(&db).await.unwrap();
        let n = store
            .execute_raw("UPDATE audit_log SET actor = 'someone-else' WHERE action = 'user.reset'")
            .await
            .unwrap();
        assert_eq!(n, 1);
        store.close().await;
    });
    let o = kechuang(&["audit", "verify", "--db", &db]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("审计日志被改动") && err.contains("内容被改动"),
        "{err}"
    );
}

fn kechuang_with(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kechuang"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("KECHUANG_DB")
        .env_remove("KECHUANG_AUDIT_KEY")
        .env_remove("KECHUANG_DATA_DIR");
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("run kechuang")
}

/// `audit verify`, `backup`, `restore` and the break-glass reset, as an
/// operator runs them on one backend. `db` is a fresh database, `data` the
/// folder for its audit key and anchors (given as `--data-dir`).
async fn audit_backup_restore(db: &str, data: &std::path::Path, spare: &str) {
    let data_s = data.display().to_string();
    let run = |args: &[&str]| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--db", db, "--data-dir", &data_s]);
        kechuang_with(&a, &[])
    };
    let o = run(&["plan", "load", BENGBU]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // The first command made the key (0600) and sealed the database.
    assert!(
        text(&o.stderr).contains("已生成审计密钥"),
        "{}",
        text(&o.stderr)
    );
    let key_file = data.join("audit.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let key = std::fs::read_to_string(&key_file)
        .unwrap()
        .trim()
        .to_string();
    let o = run(&["user", "add", "sec", "--role", "secadmin"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    // Break-glass reset on the server, audited with the change.
    let o = run(&["user", "reset-password", "sec"]);
    assert!(
        text(&o.stdout).contains("临时密码："),
        "{}",
        text(&o.stderr)
    );
    let store = kc_store::Store::connect(db).await.unwrap();
    let last = store
        .audit_entries(&kc_store::AuditFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (last[0].action.as_str(), last[0].object.as_str()),
        ("user.reset", "user:sec")
    );
    assert!(last[0].actor.starts_with("cli:") && last[0].mac.len() == 64);
    let u = store.user("sec").await.unwrap().unwrap();
    assert!(u.must_change);
    // An unknown name changes nothing and writes nothing.
    let o = run(&["user", "reset", "nobody"]);
    assert_eq!(o.status.code(), Some(1));
    let again = store
        .audit_entries(&kc_store::AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(again[0].seq, last[0].seq);

    let o = run(&["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("审计日志完整：4 条记录") && out.contains("锚点 4 个相符"),
        "{out}"
    );

    // Backup, then restore into an empty database elsewhere with the key
    // given in the environment: the same chain, one restore entry on top.
    let file = data.join("kc.backup");
    let o = run(&["backup", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("审计链头第 4 条"),
        "{}",
        text(&o.stdout)
    );
    let elsewhere = temp_dir(&format!(
        "restored-{}",
        data.file_name().unwrap().to_string_lossy()
    ));
    let el = elsewhere.display().to_string();
    let restore = |force: bool, envs: &[(&str, &str)]| {
        let mut a = vec![
            "restore",
            file.to_str().unwrap(),
            "--db",
            spare,
            "--data-dir",
            &el,
        ];
        if force {
            a.push("--force");
        }
        kechuang_with(&a, envs)
    };
    // Without the key a sealed backup is refused.
    let o = restore(false, &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("恢复需要同一把密钥"),
        "{}",
        text(&o.stderr)
    );
    let o = restore(false, &[("KECHUANG_AUDIT_KEY", &key)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains("备份的审计链头第 4 条")
            && out.contains("审计日志完整：5 条记录，链头第 5 条"),
        "{out}"
    );
    // Not over data without --force.
    let o = restore(false, &[("KECHUANG_AUDIT_KEY", &key)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--force"), "{}", text(&o.stderr));

    // Verify without the key: refused, the database is sealed.
    std::fs::rename(&key_file, data.join("audit.key.away")).unwrap();
    let o = run(&["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("没有找到该密钥"),
        "{}",
        text(&o.stderr)
    );
    // And a write refuses to make a new key for it.
    let o = run(&["user", "lock", "sec"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("不要生成新密钥"),
        "{}",
        text(&o.stderr)
    );
    assert!(!key_file.exists());
    std::fs::rename(data.join("audit.key.away"), &key_file).unwrap();

    // Tail truncation: the newest entries removed and the head moved back.
    let e = store
        .audit_entries(&kc_store::AuditFilter::default())
        .await
        .unwrap();
    let keep = e.iter().find(|x| x.seq == 3).unwrap();
    store
        .execute_raw("DELETE FROM audit_log WHERE seq > 3")
        .await
        .unwrap();
    store
        .execute_raw(&format!(
            "UPDATE audit_head SET seq = 3, hash = '{}' WHERE id = 1",
            keep.hash
        ))
        .await
        .unwrap();
    let o = run(&["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.contains("第一处在第 4 条") && err.contains("锚点文件记到第"),
        "{err}"
    );
    store.close().await;
}

#[test]
fn audit_verify_backup_and_restore_sqlite() {
    let dir = temp_dir("audit-sqlite");
    let db = format!("sqlite://{}", dir.join("kc.db").display());
    let spare = temp_dir("audit-sqlite-spare");
    let spare_db = format!("sqlite://{}", spare.join("kc.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(audit_backup_restore(&db, &dir, &spare_db));
}

#[test]
fn audit_verify_backup_and_restore_postgres() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (Some(db), Some(spare)) = (
            kc_store::testkit::postgres().await,
            kc_store::testkit::postgres().await,
        ) else {
            eprintln!("KECHUANG_TEST_PG_URL not set: PostgreSQL case skipped");
            return;
        };
        let dir = temp_dir("audit-pg");
        audit_backup_restore(&db.url, &dir, &spare.url).await;
        db.cleanup().await;
        spare.cleanup().await;
    });
}
