//! The `kechuang` command: the server and the command-line tools.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
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
}

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
        /// 空数据库时载入蚌埠市规划和演示数据
        #[arg(long)]
        demo: bool,
    },
    /// 规划文件：检查、查看、载入
    #[command(subcommand)]
    Plan(PlanCmd),
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Plan(PlanCmd::Check { file }) => plan_check(&file),
        Command::Plan(PlanCmd::Show { file, json }) => plan_show(&file, json),
        Command::Plan(PlanCmd::Load { file, db }) => run_async(plan_load(file, db.db)),
        Command::Serve { db, addr, demo } => {
            init_logging();
            run_async(serve(db.db, addr, demo))
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
    let plan = match read_plan(file) {
        Ok((p, _)) => p,
        Err(code) => return code,
    };
    let mut s = kc_planfile::summary(&plan);
    s.push_str("考核目标：\n");
    for t in &plan.targets {
        s.push_str(&format!(
            "  {:<6} {}：{}（{}，截止 {}）\n",
            t.code,
            t.name,
            t.describe(),
            t.kind.zh(),
            t.deadline
        ));
    }
    s.push_str("检查通过。\n");
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

async fn connect(url: &str) -> Result<Store, ExitCode> {
    Store::connect(url).await.map_err(|e| {
        eprintln!("kechuang: {}", one_line(&e));
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
    let user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    match store.save_plan(&plan, &text, &user).await {
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

async fn serve(db: String, addr: String, demo: bool) -> ExitCode {
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
    if demo {
        banner.push_str("演示模式：已载入蚌埠市科技强市三年行动方案及 2023–2025 年演示数据。\n");
        banner.push_str(
            "演示账号：本版本尚未启用登录，打开上面的地址即可使用全部页面（账号、角色与权限在后续版本提供）。\n",
        );
    }
    banner.push_str("按 Ctrl-C 停止。\n");
    out(&banner);
    let state = kc_web::AppState::new(store);
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
