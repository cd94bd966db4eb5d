//! The `kechuang` command: the server and the command-line tools.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod backup;
mod bench;
use kc_store::Store;

const DEFAULT_DB: &str = "sqlite://data/kechuang.db";
const DEFAULT_ADDR: &str = "127.0.0.1:8080";

#[derive(Parser)]
#[command(
    name = "kechuang",
    version,
    about = "科创：城市科技行动方案的运行与监测系统"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// 数据目录：审计密钥 audit.key 与锚点文件 audit-anchors.log 所在（默认：SQLite 文件所在目录；PostgreSQL 为 ./data）
    #[arg(long, global = true, env = "KECHUANG_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

/// `--data-dir`, set once in `main`.
static DATA_DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();

#[derive(Args, Clone)]
struct DbArg {
    /// 数据库地址：sqlite://文件路径（默认，内嵌）或 postgres://用户:密码@主机/库名
    #[arg(long, env = "KECHUANG_DB", default_value = DEFAULT_DB)]
    db: String,
}

#[derive(Subcommand)]
enum Command {
    /// 启动网页服务
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// 监听地址（端口 0 表示任选空闲端口）
        #[arg(long, env = "KECHUANG_ADDR", default_value = DEFAULT_ADDR)]
        addr: String,
        /// 空数据库时载入蚌埠市规划、演示数据和演示账号
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        security: SecurityArgs,
    },
    /// 账号：新建、重置密码、停用、启用、列出
    #[command(subcommand)]
    User(UserCmd),
    /// 审计日志
    #[command(subcommand)]
    Audit(AuditCmd),
    /// 备份整个数据库到一个文件（SQLite 格式；服务运行时也可备份，内容为同一时刻的快照）
    Backup {
        /// 备份文件（不得已存在）
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// 从备份文件恢复数据库，随后校验审计日志
    Restore {
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
        /// 目标库已有数据时仍然恢复（替换其全部内容）
        #[arg(long)]
        force: bool,
    },
    /// 规划文件：检查、查看、载入
    #[command(subcommand)]
    Plan(PlanCmd),
    /// 从 XLSX 或 CSV 文件导入登记库（按文件扩展名识别格式）
    Import {
        /// 登记库：enterprises、qualifications、platforms、projects、contracts、achievements……
        kind: String,
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
        /// 跳过有误的行，只导入正确的行（默认有任何错误则全部不导入）
        #[arg(long)]
        skip_invalid: bool,
        /// 地区名单所用的规划编码（数据库中只有一个规划时可省略）
        #[arg(long)]
        plan: Option<String>,
    },
    /// 把登记库导出为 XLSX 或 CSV 文件（按文件扩展名识别格式）
    Export {
        kind: String,
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
        /// 只导出空白模板（列名和填写说明）
        #[arg(long)]
        template: bool,
    },
    /// 生成进展报告：Word（公文格式）、Excel 或网页
    Report {
        /// 期间：2025（年）、2025Q2（季度）或 2025-06（月）；以期末为统计日
        #[arg(long)]
        period: String,
        /// docx、xlsx 或 html（默认按输出文件的扩展名）
        #[arg(long)]
        format: Option<String>,
        /// 输出文件
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// 范围：city（全市，默认）、area:地区编码 或 dept:部门编码
        #[arg(long, default_value = "city")]
        scope: String,
        /// 规划编码（数据库中只有一个规划时可省略）
        #[arg(long)]
        plan: Option<String>,
        /// 报告落款单位（默认“城市名 + 科技局”）
        #[arg(long)]
        issuer: Option<String>,
        /// 目标值口径：revised（中期调整后，默认）或 original（原定）
        #[arg(long, default_value = "revised")]
        targets: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// 演示与测试数据
    #[command(subcommand)]
    Demo(DemoCmd),
    /// 性能测试（结果见 docs/benchmarks.md）
    #[command(subcommand)]
    Bench(BenchCmd),
}

/// Security settings of the server (docs/deployment.md).
#[derive(Args, Clone)]
struct SecurityArgs {
    /// 连续登录失败多少次后锁定账号
    #[arg(long, env = "KECHUANG_LOCKOUT_ATTEMPTS", default_value_t = 5)]
    lockout_attempts: i64,
    /// 账号锁定时长（分钟）
    #[arg(long, env = "KECHUANG_LOCKOUT_MINUTES", default_value_t = 30)]
    lockout_minutes: i64,
    /// 同一地址在 15 分钟内登录失败多少次后暂停其登录
    #[arg(long, env = "KECHUANG_IP_ATTEMPTS", default_value_t = 20)]
    ip_attempts: usize,
    /// 会话空闲超时（分钟）
    #[arg(long, env = "KECHUANG_IDLE_MINUTES", default_value_t = 30)]
    idle_minutes: i64,
    /// 密码最短长度
    #[arg(long, env = "KECHUANG_PASSWORD_MIN_LEN", default_value_t = 10)]
    password_min_len: usize,
    /// 密码至少包含的字符类别数（小写、大写、数字、符号，1–4）
    #[arg(long, env = "KECHUANG_PASSWORD_CLASSES", default_value_t = 3)]
    password_classes: usize,
    /// 审计记录保存天数（不少于 180）
    #[arg(long, env = "KECHUANG_AUDIT_RETENTION_DAYS", default_value_t = 180)]
    audit_retention_days: i64,
    /// 经 HTTPS 访问时打开：会话 Cookie 加 Secure 标记
    #[arg(long, env = "KECHUANG_SECURE_COOKIES")]
    secure_cookies: bool,
    /// 催报邮件的 SMTP 服务器，如 smtp://mail.example.gov.cn:25（不设则只发站内提醒）
    #[arg(long, env = "KECHUANG_SMTP")]
    smtp: Option<String>,
    /// 催报邮件的发件人地址
    #[arg(long, env = "KECHUANG_SMTP_FROM", default_value = "kechuang@localhost")]
    smtp_from: String,
    /// 反向代理的地址（可重复）：来自这些地址的请求按 X-Forwarded-For 记录客户端地址
    #[arg(
        long = "trusted-proxy",
        env = "KECHUANG_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
}

impl SecurityArgs {
    fn config(&self) -> Result<kc_app::auth::SecurityConfig, String> {
        let cfg = kc_app::auth::SecurityConfig {
            lockout_attempts: self.lockout_attempts,
            lockout_minutes: self.lockout_minutes,
            ip_attempts: self.ip_attempts,
            ip_window_minutes: 15,
            idle_minutes: self.idle_minutes,
            password: kc_domain::auth::PasswordPolicy {
                min_len: self.password_min_len,
                min_classes: self.password_classes,
            },
            audit_retention_days: self.audit_retention_days,
            secure_cookies: self.secure_cookies,
            trusted_proxies: self.trusted_proxies.clone(),
        };
        cfg.validate()?;
        Ok(cfg)
    }

    fn smtp(&self) -> Result<Option<kc_app::mail::SmtpConfig>, String> {
        self.smtp
            .as_deref()
            .map(|u| kc_app::mail::SmtpConfig::parse(u, &self.smtp_from).map_err(|e| e.to_string()))
            .transpose()
    }
}

#[derive(Subcommand)]
enum UserCmd {
    /// 新建账号；不给 --password-stdin 时生成初始密码并打印（首次登录须修改）
    Add {
        username: String,
        /// 角色，可重复：sysadmin、secadmin、auditadmin、coordinator、leader、dept_reporter:部门、dept_reviewer:部门、area_reporter:地区、area_reviewer:地区
        #[arg(long = "role")]
        roles: Vec<String>,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "")]
        email: String,
        /// 从标准输入读取密码（一行）
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DbArg,
    },
    /// 重置密码：生成临时密码并打印，下次登录须修改（在服务器上操作的应急通道，记入审计日志）
    #[command(alias = "reset-password")]
    Reset {
        username: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// 停用账号并结束其所有会话
    Lock {
        username: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// 启用账号并清除登录失败锁定
    Unlock {
        username: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// 列出账号和角色
    List {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// 校验审计日志：哈希链、审计密钥校验码与锚点；发现任何改动、删除或截断时以非零状态退出
    Verify {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum BenchCmd {
    /// 在内存中生成登记库，测量指标计算与单条更新的耗时
    Engine {
        #[arg(long, default_value = "city")]
        scale: String,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// 同时用 DuckDB（PyPI duckdb）计算同样的问题作对比
        #[arg(long)]
        duckdb: bool,
        /// 只测这些指标（逗号分隔的指标代码），用于剖析单个指标
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// 每项测量重复的次数（取中位数）
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// 测量从数据库读取登记库到内存的耗时
    Load {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        plan: Option<String>,
    },
}

#[derive(Subcommand)]
enum DemoCmd {
    /// 生成确定性的模拟登记库：city（蚌埠市规模）、province（约16倍）、nation（约300倍）
    Generate {
        #[arg(long, default_value = "city")]
        scale: String,
        #[arg(long, default_value_t = kc_app::DEMO_SEED)]
        seed: u64,
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Subcommand)]
enum PlanCmd {
    /// 检查规划文件并打印概况；有错误时列出全部错误并以状态 2 退出
    Check { file: PathBuf },
    /// 打印规范化后的规划（--json 输出 JSON）
    Show {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// 把规划载入数据库；文件有改动时生成新版本，旧版本保留
    Load {
        file: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// 起草下一轮规划：沿用指标、单位、地区和结构，基期值取上一轮终期评估值，目标值留待填写
    Draft {
        /// 上一轮规划的编码
        #[arg(long)]
        from: String,
        /// 新规划期开始日期，如 2026-01-01
        #[arg(long)]
        start: chrono::NaiveDate,
        /// 新规划期结束日期，如 2030-12-31
        #[arg(long)]
        end: chrono::NaiveDate,
        /// 输出的规划文件
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        #[command(flatten)]
        db: DbArg,
    },
    /// 目标任务分解表：导出为 Excel/CSV，或导入填好的表（生成规划新版本）
    #[command(subcommand)]
    Allocation(AllocationCmd),
    /// 目标表（每行一个目标）：从规划文件导出为 Excel/CSV，或用填好的表生成新规划文件
    #[command(subcommand)]
    Table(TableCmd),
}

#[derive(Subcommand)]
enum TableCmd {
    /// 导出规划文件的目标表（按扩展名 .xlsx 或 .csv）
    Export {
        /// 规划文件
        plan: PathBuf,
        /// 输出的目标表
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
    /// 用目标表生成新规划文件：地区、部门和指标沿用 --base 规划，逐行检查，有错误时列出全部错误、不写文件
    Import {
        /// 填好的目标表（.xlsx 或 .csv）
        file: PathBuf,
        /// 沿用其地区、部门和指标的规划文件
        #[arg(long)]
        base: PathBuf,
        /// 新规划编码，如 bengbu-2026-2030
        #[arg(long)]
        code: String,
        /// 新规划名称
        #[arg(long)]
        name: String,
        /// 规划期开始日期，如 2026-01-01
        #[arg(long)]
        start: chrono::NaiveDate,
        /// 规划期结束日期，如 2030-12-31
        #[arg(long)]
        end: chrono::NaiveDate,
        /// 输出的规划文件
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
    },
}

#[derive(Subcommand)]
enum AllocationCmd {
    /// 导出分解表（按扩展名 .xlsx 或 .csv）
    Export {
        file: PathBuf,
        #[arg(long)]
        plan: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// 导入分解表：逐行检查，有错误时列出全部错误、不写入；通过后生成规划新版本
    Import {
        file: PathBuf,
        #[arg(long)]
        plan: String,
        #[command(flatten)]
        db: DbArg,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = DATA_DIR.set(cli.data_dir.clone());
    match cli.command {
        Command::Plan(PlanCmd::Check { file }) => plan_check(&file),
        Command::Plan(PlanCmd::Show { file, json }) => plan_show(&file, json),
        Command::Plan(PlanCmd::Load { file, db }) => run_async(plan_load(file, db.db)),
        Command::Plan(PlanCmd::Allocation(cmd)) => run_async(plan_allocation(cmd)),
        Command::Plan(PlanCmd::Table(cmd)) => plan_table(cmd),
        Command::Plan(PlanCmd::Draft {
            from,
            start,
            end,
            output,
            db,
        }) => run_async(plan_draft(from, start, end, output, db.db)),
        Command::Serve {
            db,
            addr,
            demo,
            security,
        } => {
            init_logging();
            run_async(serve(db.db, addr, demo, security))
        }
        Command::User(cmd) => run_async(user(cmd)),
        Command::Report {
            period,
            format,
            output,
            scope,
            plan,
            issuer,
            targets,
            db,
        } => run_async(report(ReportArgs {
            period,
            format,
            output,
            scope,
            plan,
            issuer,
            targets,
            db: db.db,
        })),
        Command::Audit(AuditCmd::Verify { db }) => run_async(audit_verify(db.db)),
        Command::Backup { file, db } => run_async(backup::backup(file, db.db)),
        Command::Restore { file, db, force } => run_async(backup::restore(file, db.db, force)),
        Command::Import {
            kind,
            file,
            db,
            skip_invalid,
            plan,
        } => run_async(import(kind, file, db.db, skip_invalid, plan)),
        Command::Export {
            kind,
            file,
            db,
            template,
        } => run_async(export(kind, file, db.db, template)),
        Command::Demo(DemoCmd::Generate { scale, seed, db }) => {
            run_async(demo_generate(scale, seed, db.db))
        }
        Command::Bench(BenchCmd::Engine {
            scale,
            seed,
            duckdb,
            only,
            runs,
        }) => {
            let Some(scale) = kc_demo::registries::Scale::parse(&scale) else {
                eprintln!("kechuang: --scale 应为 city、province 或 nation");
                return ExitCode::from(2);
            };
            let mut s = String::new();
            let r = bench::engine(scale, seed, duckdb, &only, runs.max(1), &mut s);
            bench_exit(r, &s)
        }
        Command::Bench(BenchCmd::Load { db, plan }) => run_async(bench_load(db.db, plan)),
    }
}

fn registry_def(kind: &str) -> Result<&'static kc_domain::registry::RegistryDef, ExitCode> {
    kc_domain::registry::by_code(kind).ok_or_else(|| {
        let names: Vec<String> = kc_domain::registry::all()
            .map(|d| format!("{}（{}）", d.code, d.name))
            .collect();
        eprintln!(
            "kechuang: 没有名为“{kind}”的登记库；可用的有：{}",
            names.join("、")
        );
        ExitCode::from(2)
    })
}

fn file_kind(file: &std::path::Path) -> Result<kc_io::FileKind, ExitCode> {
    kc_io::FileKind::from_name(&file.display().to_string()).ok_or_else(|| {
        eprintln!("kechuang: {}：只支持 .xlsx 和 .csv 文件", file.display());
        ExitCode::from(2)
    })
}

/// The plan whose areas registries use: the one named, or the only one.
async fn pick_plan(store: &Store, code: Option<String>) -> Result<kc_domain::Plan, ExitCode> {
    let plans = store.plans().await.map_err(|e| {
        eprintln!("kechuang: {}", one_line(&e));
        ExitCode::FAILURE
    })?;
    match (code, plans.len()) {
        (Some(c), _) => plans
            .into_iter()
            .find(|p| p.plan.code.as_str() == c)
            .map(|p| p.plan)
            .ok_or_else(|| {
                eprintln!("kechuang: 数据库中没有规划“{c}”");
                ExitCode::from(2)
            }),
        (None, 1) => Ok(plans.into_iter().next().map(|p| p.plan).expect("one plan")),
        (None, 0) => {
            eprintln!("kechuang: 数据库中还没有规划，请先用 kechuang plan load 载入");
            Err(ExitCode::from(2))
        }
        (None, _) => {
            eprintln!("kechuang: 数据库中有多个规划，请用 --plan 指定地区名单所用的规划");
            Err(ExitCode::from(2))
        }
    }
}

fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{bar:40}} {{pos}}/{{len}} 行 {{elapsed}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    pb
}

async fn import(
    kind: String,
    file: PathBuf,
    db: String,
    skip_invalid: bool,
    plan: Option<String>,
) -> ExitCode {
    let (def, fk) = match (registry_def(&kind), file_kind(&file)) {
        (Ok(d), Ok(k)) => (d, k),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("kechuang: 无法读取 {}：{e}", file.display());
            return ExitCode::from(2);
        }
    };
    let store = match connect(&db).await {
        Ok(s) => s,
        Err(c) => return c,
    };
    let plan = match pick_plan(&store, plan).await {
        Ok(p) => p,
        Err(c) => return c,
    };
    let started = std::time::Instant::now();
    let pb: std::cell::RefCell<Option<indicatif::ProgressBar>> = std::cell::RefCell::new(None);
    let today = kc_app::time::today_beijing();
    let actor = cli_actor();
    let file_name = file.display().to_string();
    let result = kc_app::registries::import_registry(
        &store,
        &plan,
        kc_app::registries::ImportRequest {
            def,
            kind: fk,
            bytes: &bytes,
            skip_invalid,
            actor: &actor,
            file_name: &file_name,
            today,
        },
        |n, total| {
            let mut b = pb.borrow_mut();
            let bar = b.get_or_insert_with(|| bar(total as u64, "写入"));
            bar.set_position(n as u64);
        },
    )
    .await;
    if let Some(b) = pb.borrow().as_ref() {
        b.finish_and_clear();
    }
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("kechuang: {}：{}", file.display(), one_line(&e));
            return ExitCode::from(2);
        }
    };
    let mut s = String::new();
    for e in &outcome.errors {
        s.push_str(&format!(
            "第 {} 行{}：{}{}\n",
            e.row,
            if e.column.is_empty() {
                String::new()
            } else {
                format!("「{}」", e.column)
            },
            // The reason often quotes the value already.
            if e.value.is_empty() || e.reason.contains(e.value.as_str()) {
                String::new()
            } else {
                format!("“{}” ", e.value)
            },
            e.reason
        ));
    }
    if outcome.rejected > outcome.errors.len() {
        s.push_str(&format!(
            "……另有错误未列出（最多列出 {} 条）\n",
            kc_app::registries::MAX_REPORTED_ERRORS
        ));
    }
    for w in &outcome.warnings {
        s.push_str(&format!(
            "第 {} 行【提示】{}：{}\n",
            w.row, w.column, w.reason
        ));
    }
    if !outcome.ignored_columns.is_empty() {
        s.push_str(&format!(
            "未识别的列已忽略：{}\n",
            outcome.ignored_columns.join("、")
        ));
    }
    let secs = started.elapsed().as_secs_f64();
    if outcome.refused {
        s.push_str(&format!(
            "共 {} 行，{} 行有误，未导入任何数据。改正后重新导入，或加 --skip-invalid 只导入正确的行。\n",
            outcome.rows, outcome.rejected
        ));
        eprint!("{s}");
        return ExitCode::from(2);
    }
    s.push_str(&format!(
        "{}：共 {} 行，写入 {} 行（新增 {}，更新 {}），与已有记录相同未改动 {} 行，跳过有误的 {} 行，用时 {:.1} 秒（{:.0} 行/秒）。\n",
        def.name,
        outcome.rows,
        outcome.written,
        outcome.created,
        outcome.updated,
        outcome.unchanged,
        outcome.rejected,
        secs,
        outcome.rows as f64 / secs.max(1e-9)
    ));
    out(&s);
    ExitCode::SUCCESS
}

async fn export(kind: String, file: PathBuf, db: String, template: bool) -> ExitCode {
    let (def, fk) = match (registry_def(&kind), file_kind(&file)) {
        (Ok(d), Ok(k)) => (d, k),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    let mut exported: Option<(Store, usize)> = None;
    let bytes = if template {
        match fk {
            kc_io::FileKind::Xlsx => kc_io::template_xlsx(def).map_err(|e| e.to_string()),
            kc_io::FileKind::Csv => Ok(kc_io::template_csv(def)),
        }
    } else {
        let store = match connect(&db).await {
            Ok(s) => s,
            Err(c) => return c,
        };
        let mut rows: Vec<(String, kc_domain::registry::Record)> = Vec::new();
        let r = store
            .for_each_record(def.code, |r| {
                if let Ok(j) = serde_json::from_str::<serde_json::Value>(&r.data) {
                    rows.push((r.key, kc_domain::registry::Record::from_json(def, &j)));
                }
            })
            .await;
        if let Err(e) = r {
            eprintln!("kechuang: {}", one_line(&e));
            return ExitCode::FAILURE;
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        // Areas and qualification kinds by name (the plan's areas), as the
        // pages show them and an import takes them back.
        let named = match store.plans().await {
            Ok(plans) => plans.first().map(|p| {
                kc_app::registries::named_for_export(def, rows.iter().map(|(_, r)| r), &p.plan)
            }),
            Err(_) => None,
        };
        if let Some(n) = named {
            for ((_, r), n) in rows.iter_mut().zip(n) {
                *r = n;
            }
        }
        exported = Some((store, rows.len()));
        let recs: Vec<&kc_domain::registry::Record> = rows.iter().map(|(_, r)| r).collect();
        match fk {
            kc_io::FileKind::Xlsx if recs.len() > 1_048_575 => Err(format!(
                "{} 条记录超过 Excel 工作表的行数上限（1,048,575 行），请导出为 .csv",
                recs.len()
            )),
            kc_io::FileKind::Xlsx => {
                kc_io::write_xlsx(def, recs.iter().copied()).map_err(|e| e.to_string())
            }
            kc_io::FileKind::Csv => Ok(kc_io::write_csv(def, recs.iter().copied())),
        }
    };
    match bytes.and_then(|b| {
        std::fs::write(&file, &b)
            .map(|_| b.len())
            .map_err(|e| e.to_string())
    }) {
        Ok(n) => {
            // A registry leaving the system is recorded like a download.
            if let Some((store, rows)) = exported
                && let Err(e) = kc_app::auth::audit(
                    &store,
                    &cli_actor(),
                    "export",
                    &format!("registry:{}", def.code),
                    serde_json::json!({"file": file.display().to_string(), "rows": rows}),
                )
                .await
            {
                eprintln!("kechuang: 写入审计日志失败：{}", one_line(&e));
                return ExitCode::FAILURE;
            }
            out(&format!("已写出 {}（{} 字节）。\n", file.display(), n));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kechuang: {}：{e}", file.display());
            ExitCode::FAILURE
        }
    }
}

async fn bench_load(db: String, plan: Option<String>) -> ExitCode {
    let store = match connect(&db).await {
        Ok(s) => s,
        Err(c) => return c,
    };
    let plan = match pick_plan(&store, plan).await {
        Ok(p) => p,
        Err(c) => return c,
    };
    let mut s = String::new();
    let r = bench::load(&store, &plan, &mut s).await;
    bench_exit(r, &s)
}

/// A benchmark's report on standard output, or its error.
fn bench_exit(r: Result<(), String>, report: &str) -> ExitCode {
    match r {
        Ok(()) => {
            out(report);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kechuang: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn demo_generate(scale: String, seed: u64, db: String) -> ExitCode {
    let Some(scale) = kc_demo::registries::Scale::parse(&scale) else {
        eprintln!("kechuang: --scale 应为 city、province 或 nation");
        return ExitCode::from(2);
    };
    let store = match connect(&db).await {
        Ok(s) => s,
        Err(c) => return c,
    };
    let base = match kc_planfile::parse_plan(kc_app::BENGBU_PLAN_FILE, kc_app::BENGBU_PLAN) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let plan = kc_demo::registries::scaled_plan(&base, scale);
    let source = if scale == kc_demo::registries::Scale::City {
        kc_app::BENGBU_PLAN.to_string()
    } else {
        format!(
            "# 由 kechuang demo generate --scale 生成的规模测试规划：{}，{} 个地区。\n# 指标与目标同蚌埠市规划。\n",
            plan.name,
            plan.areas.len()
        )
    };
    if let Err(e) = store.save_plan(&plan, &source, "demo").await {
        eprintln!("kechuang: {}", one_line(&e));
        return ExitCode::FAILURE;
    }
    let started = std::time::Instant::now();
    let pb = indicatif::ProgressBar::new_spinner();
    let result = kc_app::registries::load_generated(
        &store,
        &plan,
        scale,
        seed,
        kc_app::demo_through(),
        |n| {
            pb.set_message(format!("已写入 {n} 条记录"));
            pb.tick();
        },
    )
    .await;
    pb.finish_and_clear();
    match result {
        Ok(counts) => {
            let mut s = format!(
                "规划 {}（{} 个地区）的模拟登记库：\n",
                plan.code,
                plan.areas.len()
            );
            for (code, n) in &counts {
                let name = kc_domain::registry::by_code(code)
                    .map(|d| d.name)
                    .unwrap_or(code);
                s.push_str(&format!("  {name}（{code}）：{n} 条\n"));
            }
            s.push_str(&format!(
                "用时 {:.1} 秒。\n",
                started.elapsed().as_secs_f64()
            ));
            out(&s);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kechuang: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

fn run_async(fut: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(fut),
        Err(e) => {
            eprintln!("kechuang: 无法启动运行时：{e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints to stdout; a closed pipe (`| head`) ends the program quietly.
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// One line for the user: the error and its causes, joined.
fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        src = s.source();
    }
    parts.join("：")
}

fn read_plan(file: &std::path::Path) -> Result<(kc_domain::Plan, String), ExitCode> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        eprintln!("kechuang: 无法读取 {}：{e}", file.display());
        ExitCode::from(2)
    })?;
    kc_planfile::parse_plan(&file.display().to_string(), &text)
        .map(|p| (p, text))
        .map_err(|e| {
            eprintln!("{e}");
            eprintln!("共 {} 处错误，未写入任何数据。", e.errors.len());
            ExitCode::from(2)
        })
}

fn plan_check(file: &std::path::Path) -> ExitCode {
    let Ok((_, text)) = read_plan(file) else {
        return ExitCode::from(2);
    };
    let name = file.display().to_string();
    let Ok(checked) = kc_planfile::check_plan(&name, &text) else {
        return ExitCode::from(2);
    };
    let plan = &checked.plan;
    let mut s = kc_planfile::summary(plan);
    s.push_str("考核目标：\n");
    for t in &plan.targets {
        s.push_str(&format!(
            "  {:<6} {}：{}（{}，截止 {}）",
            t.code,
            t.name,
            t.describe(),
            t.kind.zh(),
            t.deadline
        ));
        if !t.allocations.is_empty() {
            s.push_str(&format!("，分解到 {} 个单位", t.allocations.len()));
        }
        s.push('\n');
    }
    let warnings = checked.warning_lines(&name);
    if warnings.is_empty() {
        s.push_str("检查通过。\n");
    } else {
        s.push_str(&format!("检查通过，另有 {} 处提醒：\n", warnings.len()));
        for w in warnings {
            s.push_str(&format!("  提醒：{w}\n"));
        }
    }
    out(&s);
    ExitCode::SUCCESS
}

fn plan_show(file: &std::path::Path, json: bool) -> ExitCode {
    let plan = match read_plan(file) {
        Ok((p, _)) => p,
        Err(code) => return code,
    };
    if json {
        let text = serde_json::to_string_pretty(&kc_planfile::plan_json(&plan)).unwrap_or_default();
        out(&format!("{text}\n"));
        return ExitCode::SUCCESS;
    }
    let mut s = kc_planfile::summary(&plan);
    fn walk(plan: &kc_domain::Plan, parent: Option<&str>, depth: usize, s: &mut String) {
        for n in plan.children(parent) {
            let lead: Vec<&str> = n.lead.iter().map(|c| plan.unit_name(c.as_str())).collect();
            s.push_str(&format!(
                "{}{} {}（{}）",
                "  ".repeat(depth),
                n.code,
                n.name,
                n.level
            ));
            if !lead.is_empty() {
                s.push_str(&format!(" 牵头：{}", lead.join("、")));
            }
            s.push('\n');
            for t in plan.targets_of(n.code.as_str()) {
                s.push_str(&format!(
                    "{}- {} {}：{}\n",
                    "  ".repeat(depth + 1),
                    t.code,
                    t.name,
                    t.describe()
                ));
            }
            walk(plan, Some(n.code.as_str()), depth + 1, s);
        }
    }
    s.push_str("发展目标：\n");
    for g in &plan.goals {
        let ts: Vec<&str> = g.targets.iter().map(|t| t.as_str()).collect();
        s.push_str(&format!("  {} {}（{}）\n", g.code, g.name, ts.join("、")));
    }
    walk(&plan, None, 0, &mut s);
    out(&s);
    ExitCode::SUCCESS
}

/// Connects, loads the audit key (created on first use) and seals the
/// audit trail with it; every command that writes goes through here.
async fn connect(url: &str) -> Result<Store, ExitCode> {
    let store = Store::connect(url).await.map_err(|e| {
        eprintln!("kechuang: {}", one_line(&e));
        ExitCode::FAILURE
    })?;
    backup::with_key(store, url, true).await.map_err(|e| {
        eprintln!("kechuang: {e}");
        ExitCode::FAILURE
    })
}

async fn plan_load(file: PathBuf, db: String) -> ExitCode {
    let (plan, text) = match read_plan(&file) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let store = match connect(&db).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    // The file was checked above; the version and its audit entry are one
    // transaction.
    let saved =
        kc_app::load_plan_as(&store, &file.display().to_string(), &text, &cli_actor()).await;
    match saved {
        Ok(saved) if saved.created => {
            out(&format!(
                "已载入 {}（{}）第 {} 版。\n",
                plan.name, saved.version.plan_code, saved.version.version
            ));
            ExitCode::SUCCESS
        }
        Ok(saved) => {
            out(&format!(
                "{} 与数据库中的第 {} 版相同，未生成新版本。\n",
                file.display(),
                saved.version.version
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kechuang: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The Word report's chart pictures are drawn with the system's fonts; without
/// a Chinese one their labels cannot be drawn (lines and numbers still are).
fn chart_font_warning() -> Option<String> {
    kc_io::report::chart_fonts().cjk.is_none().then(|| {
        "注意：系统中没有中文字体（如 Noto Sans CJK SC），Word 报告图表中的中文标注将无法显示；请安装 fonts-noto-cjk。\n".to_string()
    })
}

async fn serve(db: String, addr: String, demo: bool, security: SecurityArgs) -> ExitCode {
    let (cfg, smtp) = match (security.config(), security.smtp()) {
        (Ok(c), Ok(s)) => (c, s),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("kechuang: 安全设置有误：{e}");
            return ExitCode::FAILURE;
        }
    };
    let store = match connect(&db).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    if demo {
        match kc_app::load_demo(&store).await {
            Ok(r) if r.values_loaded > 0 || r.records_loaded > 0 => {
                tracing::info!(
                    values = r.values_loaded,
                    records = r.records_loaded,
                    "demo data loaded"
                );
            }
            Ok(_) => tracing::info!("database already has data; demo data not loaded again"),
            Err(e) => {
                eprintln!("kechuang: 载入演示数据失败：{}", one_line(&e));
                return ExitCode::FAILURE;
            }
        }
    }
    let (listener, local) = match kc_web::bind(&addr).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("kechuang: 无法监听 {addr}：{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut banner = format!(
        "科创已启动：http://{local}/\n数据库：{}（{}）\n",
        kc_store::redact(&db),
        store.backend().name()
    );
    if let (Some(id), Some(anchors)) = (store.audit_key_id(), store.anchor_path()) {
        banner.push_str(&format!(
            "审计密钥：编号 {id}；锚点文件：{}（二者须与数据库分开备份）\n",
            anchors.display()
        ));
    }
    // The demo logins are printed only where they work: a database with
    // accounts of its own does not get them.
    let demo_logins = demo
        && matches!(
            store.user("kjj").await,
            Ok(Some(u)) if kc_app::auth::verify_password(kc_app::auth::DEMO_PASSWORD, &u.password_hash)
        );
    if demo {
        banner.push_str("演示模式：已载入蚌埠市科技强市三年行动方案及 2023–2025 年演示数据。\n");
    }
    if demo_logins {
        banner.push_str(&format!(
            "演示账号（密码均为 {}；仅演示库免于首次改密）：\n  kjj 市科技局（规划统筹）  leader 市领导\n  longzihu-reporter / longzihu-reviewer 龙子湖区填报员 / 审核员（各地区同样：地区编码-reporter / -reviewer）\n  kjj-reporter / kjj-reviewer 市科技局填报员 / 审核员（各部门同样）\n  broker 技术经纪人（只用科技大市场）  bank 合作银行（只看科技企业白名单）\n  admin 系统管理员  security 安全管理员  auditor 审计管理员\n  不登录的科技大市场公开页面：/public/market\n  全部账号见 docs/roles.md\n",
            kc_app::auth::DEMO_PASSWORD
        ));
    } else if matches!(store.users().await.map(|u| u.is_empty()), Ok(true)) {
        banner.push_str("数据库中还没有账号：请先用 kechuang user add 用户名 --role sysadmin（以及 secadmin、auditadmin、coordinator）新建账号，见 docs/roles.md。\n");
    }
    if let Some(warning) = chart_font_warning() {
        tracing::warn!("no Chinese font for report charts");
        banner.push_str(&warning);
    }
    banner.push_str("按 Ctrl-C 停止。\n");
    out(&banner);
    // Old audit entries go once a day (and now), never the last 180 days.
    {
        let (store, cfg) = (store.clone(), cfg.clone());
        tokio::spawn(async move {
            loop {
                if let Err(e) = kc_app::auth::prune_audit(&store, &cfg).await {
                    tracing::warn!(error = %one_line(&e), "audit retention failed");
                }
                tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)).await;
            }
        });
    }
    let state = kc_web::AppState::new(store)
        .with_security(cfg)
        .with_smtp(smtp);
    if let Err(e) = state.warm_up().await {
        eprintln!("kechuang: 载入登记库失败：{}", one_line(&e));
        return ExitCode::FAILURE;
    }
    match kc_web::serve(listener, state).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kechuang: 服务异常退出：{e}");
            ExitCode::FAILURE
        }
    }
}

async fn user(cmd: UserCmd) -> ExitCode {
    let db = match &cmd {
        UserCmd::Add { db, .. }
        | UserCmd::Reset { db, .. }
        | UserCmd::Lock { db, .. }
        | UserCmd::Unlock { db, .. }
        | UserCmd::List { db } => db.db.clone(),
    };
    let store = match connect(&db).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let who = kc_app::auth::Actor::new(
        &format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "?".into())
        ),
        "local",
    );
    let fail = |e: &dyn std::fmt::Display| {
        eprintln!("kechuang: {e}");
        ExitCode::FAILURE
    };
    match cmd {
        UserCmd::Add {
            username,
            roles,
            name,
            email,
            password_stdin,
            ..
        } => {
            let plans = match store.plans().await {
                Ok(p) => p,
                Err(e) => return fail(&one_line(&e)),
            };
            let roles = match kc_app::auth::parse_roles(&roles, plans.first().map(|s| &s.plan)) {
                Ok(r) => r,
                Err(e) => return fail(&e),
            };
            let password = if password_stdin {
                let mut line = String::new();
                if std::io::stdin().read_line(&mut line).is_err() {
                    return fail(&"无法从标准输入读取密码");
                }
                Some(line.trim_end_matches(['\r', '\n']).to_string())
            } else {
                None
            };
            let given = password.is_some();
            let spec = kc_app::auth::UserSpec {
                username,
                display_name: name,
                email,
                roles,
                password,
                must_change: !given,
            };
            match kc_app::auth::add_user(
                &store,
                &who,
                &spec,
                &kc_domain::auth::PasswordPolicy::default(),
            )
            .await
            {
                Ok((u, pw)) => {
                    if given {
                        out(&format!("已新建账号 {}\n", u.username));
                    } else {
                        out(&format!(
                            "已新建账号 {}，初始密码：{pw}\n首次登录须修改密码。\n",
                            u.username
                        ));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        UserCmd::Reset { username, .. } => {
            match kc_app::auth::reset_password(&store, &who, &username).await {
                Ok(pw) => {
                    out(&format!(
                        "已重置 {username} 的密码，临时密码：{pw}\n下次登录须修改密码；其所有会话已结束。\n"
                    ));
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        UserCmd::Lock { username, .. } => lock_user(&store, &who, &username, true).await,
        UserCmd::Unlock { username, .. } => lock_user(&store, &who, &username, false).await,
        UserCmd::List { .. } => match store.users().await {
            Ok(users) => {
                let mut text = String::new();
                for u in users {
                    let state = if u.disabled {
                        "停用"
                    } else if u.must_change {
                        "待改密"
                    } else {
                        "正常"
                    };
                    text.push_str(&format!(
                        "{}\t{}\t{}\t{}\n",
                        u.username,
                        u.display_name,
                        state,
                        u.roles.join(" ")
                    ));
                }
                out(&text);
                ExitCode::SUCCESS
            }
            Err(e) => fail(&one_line(&e)),
        },
    }
}

async fn lock_user(
    store: &Store,
    who: &kc_app::auth::Actor,
    username: &str,
    lock: bool,
) -> ExitCode {
    match kc_app::auth::set_locked(store, who, username, lock).await {
        Ok(()) => {
            out(&if lock {
                format!("已停用 {username}，其所有会话已结束。\n")
            } else {
                format!("已启用 {username}，并清除了登录失败锁定。\n")
            });
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kechuang: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn audit_verify(db: String) -> ExitCode {
    let store = match Store::connect(&db).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kechuang: {}", one_line(&e));
            return ExitCode::FAILURE;
        }
    };
    // Read only: the key is looked for where serve finds it, never created.
    let store = match backup::with_key(store, &db, false).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kechuang: {e}");
            return ExitCode::FAILURE;
        }
    };
    backup::verify_and_print(&store).await
}

/// `plan draft`: the next plan's file, checked, with what is left to fill.
async fn plan_draft(
    from: String,
    start: chrono::NaiveDate,
    end: chrono::NaiveDate,
    output: PathBuf,
    db: String,
) -> ExitCode {
    let store = match connect(&db).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let engines = kc_app::registries::Engines::new();
    let today = kc_app::time::today_beijing();
    let draft = match kc_app::final_eval::draft(&store, &engines, &from, start, end, today).await {
        Ok(d) => d,
        Err(kc_app::report::ReportError::Store(e)) => {
            eprintln!("kechuang: {}", one_line(&e));
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("kechuang: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::write(&output, &draft.text) {
        eprintln!("kechuang: 无法写入 {}：{e}", output.display());
        return ExitCode::FAILURE;
    }
    out(&format!(
        "已写出下一轮规划草稿 {}（{} 至 {}），检查通过；还有 {} 处待填写：\n",
        output.display(),
        start,
        end,
        draft.warnings.len()
    ));
    for w in &draft.warnings {
        out(&format!("  提醒：{w}\n"));
    }
    ExitCode::SUCCESS
}

/// `plan table export|import`: the target table of a plan file, or a new
/// plan file from a filled-in table. Files only: `plan load` stores the
/// result, so the bureau can read it before it counts.
fn plan_table(cmd: TableCmd) -> ExitCode {
    let read_plan = |path: &std::path::Path| -> Result<(String, kc_domain::Plan), ExitCode> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            eprintln!("kechuang: 无法读取 {file}：{e}");
            ExitCode::from(2)
        })?;
        match kc_planfile::parse_plan(&file, &text) {
            Ok(p) => Ok((text, p)),
            Err(e) => {
                eprintln!("{e}");
                Err(ExitCode::from(2))
            }
        }
    };
    match cmd {
        TableCmd::Export { plan, output } => {
            let name = output.display().to_string();
            let Some(kind) = kc_io::FileKind::from_name(&name) else {
                eprintln!("kechuang: “{name}”不是 .xlsx 或 .csv 文件");
                return ExitCode::from(2);
            };
            let (_, p) = match read_plan(&plan) {
                Ok(x) => x,
                Err(code) => return code,
            };
            let bytes = match kind {
                kc_io::FileKind::Xlsx => match kc_app::plan_edit::export_xlsx(&p) {
                    Ok(b) => b,
                    Err(e) => {
                        eprintln!("kechuang: {}", one_line(&e));
                        return ExitCode::FAILURE;
                    }
                },
                kc_io::FileKind::Csv => kc_app::plan_edit::export_csv(&p),
            };
            if let Err(e) = std::fs::write(&output, bytes) {
                eprintln!("kechuang: 无法写入 {name}：{e}");
                return ExitCode::FAILURE;
            }
            out(&format!(
                "已导出 {} 的目标表（{} 项目标）：{name}\n",
                p.name,
                p.targets.len()
            ));
            ExitCode::SUCCESS
        }
        TableCmd::Import {
            file,
            base,
            code,
            name,
            start,
            end,
            output,
        } => {
            let fname = file.display().to_string();
            let Some(kind) = kc_io::FileKind::from_name(&fname) else {
                eprintln!("kechuang: “{fname}”不是 .xlsx 或 .csv 文件");
                return ExitCode::from(2);
            };
            let code = match kc_domain::code::Code::parse(&code) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("kechuang: 新规划编码：{e}");
                    return ExitCode::from(2);
                }
            };
            let (base_text, base_plan) = match read_plan(&base) {
                Ok(x) => x,
                Err(code) => return code,
            };
            let bytes = match std::fs::read(&file) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("kechuang: 无法读取 {fname}：{e}");
                    return ExitCode::from(2);
                }
            };
            let new = kc_planfile::NewPlan {
                code,
                name,
                start,
                end,
            };
            match kc_app::plan_edit::plan_from_file(&base_plan, &base_text, &new, kind, &bytes) {
                Ok((checked, text)) => {
                    if let Err(e) = std::fs::write(&output, &text) {
                        eprintln!("kechuang: 无法写入 {}：{e}", output.display());
                        return ExitCode::FAILURE;
                    }
                    out(&format!(
                        "已写出新规划 {}（{} 项目标），检查通过：{}\n",
                        checked.plan.name,
                        checked.plan.targets.len(),
                        output.display()
                    ));
                    for w in checked.warning_lines(&output.display().to_string()) {
                        out(&format!("  提醒：{w}\n"));
                    }
                    ExitCode::SUCCESS
                }
                Err(kc_app::plan_edit::PlanEditError::Rows(problems)) => {
                    for p in &problems {
                        eprintln!("{fname}:第 {} 行：{}", p.row, p.message);
                    }
                    eprintln!("共 {} 处错误，未写入任何文件。", problems.len());
                    ExitCode::from(2)
                }
                Err(e @ kc_app::plan_edit::PlanEditError::Invalid(_)) => {
                    eprintln!("{e}");
                    eprintln!("生成的规划未通过检查，未写入任何文件。");
                    ExitCode::from(2)
                }
                Err(e) => {
                    eprintln!("kechuang: {}", one_line(&e));
                    ExitCode::from(2)
                }
            }
        }
    }
}

/// `plan allocation export|import`: the allocation table as a file.
async fn plan_allocation(cmd: AllocationCmd) -> ExitCode {
    let (file, plan, db, import) = match cmd {
        AllocationCmd::Export { file, plan, db } => (file, plan, db.db, false),
        AllocationCmd::Import { file, plan, db } => (file, plan, db.db, true),
    };
    let name = file.display().to_string();
    let Some(kind) = kc_io::FileKind::from_name(&name) else {
        eprintln!("kechuang: “{name}”不是 .xlsx 或 .csv 文件");
        return ExitCode::from(2);
    };
    let store = match connect(&db).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    if !import {
        let stored = match store.plan(&plan).await {
            Ok(Some(s)) => s,
            Ok(None) => {
                eprintln!("kechuang: 数据库中没有规划 {plan}");
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("kechuang: {}", one_line(&e));
                return ExitCode::FAILURE;
            }
        };
        let bytes = match kind {
            kc_io::FileKind::Xlsx => match kc_app::allocation::export_xlsx(&stored.plan) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("kechuang: {}", one_line(&e));
                    return ExitCode::FAILURE;
                }
            },
            kc_io::FileKind::Csv => kc_app::allocation::export_csv(&stored.plan),
        };
        if let Err(e) = std::fs::write(&file, bytes) {
            eprintln!("kechuang: 无法写入 {name}：{e}");
            return ExitCode::FAILURE;
        }
        out(&format!(
            "已导出 {}（第 {} 版）的目标任务分解表：{name}\n",
            stored.plan.name, stored.version.version
        ));
        return ExitCode::SUCCESS;
    }
    let bytes = match std::fs::read(&file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("kechuang: 无法读取 {name}：{e}");
            return ExitCode::from(2);
        }
    };
    let principal = kc_domain::auth::Principal {
        username: cli_actor().username,
        display_name: "服务器操作员".into(),
        roles: vec![kc_domain::auth::Role::Coordinator],
    };
    let caller = kc_app::auth::Caller::new(principal, "local");
    match kc_app::allocation::import(&store, &caller, &plan, kind, &bytes).await {
        Ok(saved) => {
            if saved.saved.created {
                out(&format!(
                    "已导入分解表，生成规划 {plan} 第 {} 版。\n",
                    saved.saved.version.version
                ));
            } else {
                out(&format!(
                    "分解表与第 {} 版相同，未生成新版本。\n",
                    saved.saved.version.version
                ));
            }
            for w in saved.warnings {
                out(&format!("  提醒：{w}\n"));
            }
            ExitCode::SUCCESS
        }
        Err(kc_app::allocation::AllocationError::Rows(problems)) => {
            for p in &problems {
                eprintln!("{name}:第 {} 行：{}", p.row, p.message);
            }
            eprintln!("共 {} 处错误，未写入任何数据。", problems.len());
            ExitCode::from(2)
        }
        Err(kc_app::allocation::AllocationError::Plan(e)) => {
            eprintln!("{e}");
            eprintln!("导入后的规划未通过检查，未写入任何数据。");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("kechuang: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// Who runs a command on the server: the operating system's user name.
fn cli_actor() -> kc_app::auth::Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    kc_app::auth::Actor::new(&format!("cli:{user}"), "local")
}

/// An audit entry for a command run on the server, with the operating
/// system's user name.
async fn cli_audit(
    store: &Store,
    user: &str,
    action: &str,
    object: &str,
    detail: serde_json::Value,
) -> Result<(), kc_store::StoreError> {
    kc_app::auth::audit(
        store,
        &kc_app::auth::Actor::new(&format!("cli:{user}"), "local"),
        action,
        object,
        detail,
    )
    .await
}

struct ReportArgs {
    period: String,
    format: Option<String>,
    output: PathBuf,
    scope: String,
    plan: Option<String>,
    issuer: Option<String>,
    targets: String,
    db: String,
}

async fn report(a: ReportArgs) -> ExitCode {
    // `final`: the final evaluation (终期评估) of a plan whose period ended.
    let period: Option<kc_domain::Period> = if a.period == "final" {
        None
    } else {
        match a.period.parse() {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("kechuang: {e}（终期评估写 --period final）");
                return ExitCode::from(2);
            }
        }
    };
    let ext = a
        .output
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    let format = match a.format.clone().or(ext) {
        Some(f) if ["docx", "xlsx", "html"].contains(&f.as_str()) => f,
        Some(f) => {
            eprintln!("kechuang: 报告格式“{f}”不支持：可选 docx、xlsx、html");
            return ExitCode::from(2);
        }
        None => {
            eprintln!("kechuang: 请用 --format 指明格式，或让输出文件以 .docx、.xlsx、.html 结尾");
            return ExitCode::from(2);
        }
    };
    let store = match connect(&a.db).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let plan_code = match (a.plan.clone(), store.plans().await) {
        (Some(p), _) => p,
        (None, Ok(plans)) if plans.len() == 1 => plans[0].plan.code.to_string(),
        (None, Ok(plans)) if plans.is_empty() => {
            eprintln!("kechuang: 数据库中没有规划，请先 kechuang plan load");
            return ExitCode::FAILURE;
        }
        (None, Ok(_)) => {
            eprintln!("kechuang: 数据库中有多个规划，请用 --plan 指明");
            return ExitCode::from(2);
        }
        (None, Err(e)) => {
            eprintln!("kechuang: {}", one_line(&e));
            return ExitCode::FAILURE;
        }
    };
    let Some(targets) = kc_domain::plan::TargetSet::parse(&a.targets) else {
        eprintln!(
            "kechuang: 目标值口径“{}”不正确：应为 revised（中期调整后）或 original（原定）",
            a.targets
        );
        return ExitCode::from(2);
    };
    let today = kc_app::time::today_beijing();
    let engines = kc_app::registries::Engines::new();
    let made = match period {
        Some(period) => {
            let request = kc_app::report::ReportRequest {
                period,
                scope: &a.scope,
                targets,
            };
            kc_app::report::generate(&store, &engines, &plan_code, &request, today).await
        }
        None if a.scope != "city" => Err(kc_app::report::ReportError::Invalid(
            "终期评估报告按全市出具，分地区的结果在报告的“分地区”表中；请去掉 --scope".into(),
        )),
        None => kc_app::final_eval::final_evaluation(&store, &engines, &plan_code, today)
            .await
            .map(|fe| kc_app::final_eval::report(&fe, today)),
    };
    let mut report = match made {
        Ok(r) => r,
        Err(kc_app::report::ReportError::Store(e)) => {
            eprintln!("kechuang: {}", one_line(&e));
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("kechuang: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(i) = a.issuer {
        report.issuer = i;
    }
    if format == "docx"
        && report.charts().next().is_some()
        && let Some(warning) = chart_font_warning()
    {
        eprint!("kechuang: {warning}");
    }
    let bytes = match format.as_str() {
        "docx" => kc_io::report::report_docx(&report).map_err(|e| one_line(&e)),
        "xlsx" => kc_io::report::report_xlsx(&report).map_err(|e| one_line(&e)),
        _ => kc_web::reports::report_html(&report)
            .map(String::into_bytes)
            .map_err(|e| e.to_string()),
    };
    let written = bytes.and_then(|b| {
        std::fs::write(&a.output, &b)
            .map(|_| b.len())
            .map_err(|e| e.to_string())
    });
    match written {
        Ok(n) => {
            let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
            if let Err(e) = cli_audit(
                &store,
                &user,
                "export",
                &format!("report:{plan_code}/{}/{}", a.period, a.scope),
                serde_json::json!({"format": format, "file": a.output.display().to_string()}),
            )
            .await
            {
                eprintln!("kechuang: 写入审计日志失败：{}", one_line(&e));
                return ExitCode::FAILURE;
            }
            out(&format!(
                "已写出 {}（{} 字节）：{}{}\n",
                a.output.display(),
                n,
                report.title,
                report.subtitle
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kechuang: {}：{e}", a.output.display());
            ExitCode::FAILURE
        }
    }
}
