//! Plan files: a plan written in TOML by a bureau's staff, read into the
//! domain's [`Plan`] with every problem reported at once, each with its line
//! and column, what is wrong and what was expected. The format is documented
//! for users in `docs/plan-format.md`; keep the two in step.

mod build;
mod catalogue;
mod compute;
mod edit;
mod json;
mod market;
mod ranking;
mod reader;
mod rules;
mod targets;

use std::fmt;

use kc_domain::Plan;

pub use catalogue::{DEFAULT_CATALOGUE, default_catalogue, parse_catalogue};
pub use edit::{FinalValue, draft_next, with_allocations};
pub use json::{plan_json, target_json};
pub use rules::{
    DEFAULT_MUJUN, DEFAULT_RULES, default_mujun, default_rules, parse_mujun, parse_rules,
};
pub use targets::{
    IndicatorEdit, NewPlan, NodeEdit, plan_from_table, with_indicator, with_node, with_target,
};

/// One problem in a plan file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub expected: Option<String>,
}

/// Every problem found in one plan file.
#[derive(Debug, Clone, thiserror::Error)]
pub struct PlanErrors {
    pub file: String,
    pub errors: Vec<Diagnostic>,
}

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: {}", self.file, d.line, d.column, d.message)?;
            if let Some(e) = &d.expected {
                write!(f, "（应为：{e}）")?;
            }
        }
        Ok(())
    }
}

/// A valid plan and what `plan check` still warns about.
#[derive(Debug, Clone)]
pub struct Checked {
    pub plan: Plan,
    pub warnings: Vec<Diagnostic>,
}

impl Checked {
    /// The warnings as `file:line:column: message` lines.
    pub fn warning_lines(&self, file: &str) -> Vec<String> {
        self.warnings
            .iter()
            .map(|d| format!("{file}:{}:{}: {}", d.line, d.column, d.message))
            .collect()
    }
}

/// Reads and checks a plan. `file` names the file in messages.
pub fn parse_plan(file: &str, text: &str) -> Result<Plan, PlanErrors> {
    check_plan(file, text).map(|c| c.plan)
}

/// Reads and checks a plan, keeping the warnings (`plan check`).
pub fn check_plan(file: &str, text: &str) -> Result<Checked, PlanErrors> {
    let ctx = reader::Ctx::new(text);
    let doc = match toml_edit::Document::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            // TOML syntax errors stop the parser; report the one it found.
            let message = e.message().trim().to_string();
            ctx.error(e.span(), format!("TOML 语法错误：{message}"), None);
            return Err(PlanErrors {
                file: file.to_string(),
                errors: ctx.into_errors(),
            });
        }
    };
    let plan = build::build(&ctx, doc.as_table());
    match plan {
        Some(plan) if !ctx.has_errors() => {
            let mut warnings = ctx.take_warnings();
            warnings.sort_by_key(|d| (d.line, d.column));
            Ok(Checked { plan, warnings })
        }
        _ => {
            let mut errors = ctx.into_errors();
            errors.sort_by_key(|d| (d.line, d.column));
            Err(PlanErrors {
                file: file.to_string(),
                errors,
            })
        }
    }
}

/// A one-paragraph summary for `plan check`.
pub fn summary(plan: &Plan) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{}（{}，{}）\n",
        plan.name,
        plan.city,
        plan.status.zh()
    ));
    out.push_str(&format!(
        "规划期：{} 至 {}\n",
        plan.period.start, plan.period.end
    ));
    let levels: Vec<String> = plan
        .level_counts()
        .into_iter()
        .map(|(l, n)| format!("{l} {n} 个"))
        .collect();
    out.push_str(&format!(
        "发展目标 {} 个；{}；考核目标 {} 个；指标 {} 个；责任单位 {} 个（部门 {}、地区 {}）\n",
        plan.goals.len(),
        levels.join("，"),
        plan.targets.len(),
        plan.indicators.len(),
        plan.departments.len() + plan.areas.len(),
        plan.departments.len(),
        plan.areas.len()
    ));
    out
}
