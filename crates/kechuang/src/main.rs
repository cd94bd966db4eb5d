use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "kechuang", version, about = "科创：城市科技行动方案的运行与监测系统")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 规划文件：检查、查看、载入
    #[command(subcommand)]
    Plan(PlanCmd),
}

#[derive(Subcommand)]
enum PlanCmd {
    /// 检查规划文件并打印概况；有错误时列出全部错误并以状态 2 退出
    Check { file: std::path::PathBuf },
    /// 打印规范化后的规划
    Show {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Plan(PlanCmd::Check { file }) => match read(&file) {
            Ok(plan) => {
                print!("{}", kc_planfile::summary(&plan));
                for t in &plan.targets {
                    println!("  {} {}：{}（{}，截止 {}）", t.code, t.name, t.describe(), t.kind.zh(), t.deadline);
                }
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Plan(PlanCmd::Show { file, json: _ }) => match read(&file) {
            Ok(plan) => {
                println!("{}", serde_json::to_string_pretty(&kc_planfile::plan_json(&plan)).unwrap());
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
    }
}

fn read(file: &std::path::Path) -> Result<kc_domain::Plan, ExitCode> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("无法读取 {}：{e}", file.display());
            return Err(ExitCode::from(2));
        }
    };
    kc_planfile::parse_plan(&file.display().to_string(), &text).map_err(|e| {
        eprintln!("{e}");
        eprintln!("共 {} 处错误。", e.errors.len());
        ExitCode::from(2)
    })
}
