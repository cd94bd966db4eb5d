//! A plan edited by its owners: a target, a task or an indicator changed in
//! the browser, or a new plan made from a target table (目标表) in Excel.
//! Every change is written into the plan file's text, read back as
//! `plan check` reads it (its messages, its refusals) and saved as a new
//! version with its audit entry in one transaction. Old versions are kept;
//! [`diff`] shows what changed between two.

use kc_domain::allocation::{Cell, RowProblem};
use kc_domain::target_table::{self, TargetRow};
use kc_io::FileKind;
use kc_planfile::{IndicatorEdit, NewPlan, NodeEdit, PlanErrors};
use kc_store::{SavedPlan, Store, StoreError};

use crate::auth::Caller;

#[derive(Debug, thiserror::Error)]
pub enum PlanEditError {
    #[error("只有规划统筹可以修改规划")]
    Forbidden,
    #[error("没有编号为“{0}”的规划")]
    NoPlan(String),
    /// Someone saved a newer version since the form was opened.
    #[error("规划已被修改为第 {current} 版（您打开的是第 {opened} 版）：请重新打开后再改")]
    Stale { opened: i64, current: i64 },
    #[error("已有编号为“{0}”的规划：请换一个编号")]
    Exists(String),
    #[error("{0}")]
    File(#[from] kc_io::IoError),
    /// Rows the table refused: nothing was written.
    #[error("目标表有 {} 处错误，未写入任何数据", .0.len())]
    Rows(Vec<RowProblem>),
    /// The plan the change would make is not valid: `plan check`'s
    /// messages, each with the plan-file key of the line it points at.
    #[error("规划检查未通过：{}", .0.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("；"))]
    Invalid(Vec<Problem>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One of `plan check`'s messages about an edited plan, with the key of
/// the line it points at (`target`, `deadline`…) so that a form can show it
/// beside the field that key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: Option<String>,
    pub message: String,
}

fn invalid(e: PlanErrors, text: &str) -> PlanEditError {
    let lines: Vec<&str> = text.lines().collect();
    PlanEditError::Invalid(
        e.errors
            .into_iter()
            .map(|d| {
                let key = lines
                    .get(d.line.saturating_sub(1))
                    .and_then(|l| l.split_once('='))
                    .map(|(k, _)| k.trim())
                    .filter(|k| {
                        !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    })
                    .map(str::to_string);
                Problem {
                    key,
                    message: d.message,
                }
            })
            .collect(),
    )
}

/// A saved change: the plan version (unchanged when nothing changed) and
/// what `plan check` warns about.
#[derive(Debug, Clone)]
pub struct Saved {
    pub saved: SavedPlan,
    pub warnings: Vec<String>,
}

/// What changed: a target row, a task or an indicator.
#[derive(Debug, Clone)]
pub enum PlanChange {
    Target(Box<TargetRow>),
    Node(NodeEdit),
    Indicator(IndicatorEdit),
}

impl PlanChange {
    fn what(&self) -> (&'static str, String) {
        match self {
            PlanChange::Target(r) => ("target", r.code.to_string()),
            PlanChange::Node(n) => ("node", n.code.to_string()),
            PlanChange::Indicator(i) => ("indicator", i.code.to_string()),
        }
    }
}

/// Applies `change` to the newest version of `plan_code`, which must be
/// `opened` (the version the form showed) when given; checks the result as
/// `plan check` does and saves it as a new version with the audit entry
/// `plan.edit`, in one transaction.
pub async fn save(
    store: &Store,
    caller: &Caller,
    plan_code: &str,
    opened: Option<i64>,
    change: &PlanChange,
) -> Result<Saved, PlanEditError> {
    if !caller.principal.is_coordinator() {
        return Err(PlanEditError::Forbidden);
    }
    let stored = store
        .plan(plan_code)
        .await?
        .ok_or_else(|| PlanEditError::NoPlan(plan_code.to_string()))?;
    let text = store
        .plan_source(plan_code, stored.version.version)
        .await?
        .ok_or_else(|| PlanEditError::NoPlan(plan_code.to_string()))?;
    let file = format!("{plan_code}.toml");
    let new_text = match change {
        PlanChange::Target(row) => kc_planfile::with_target(&file, &text, row),
        PlanChange::Node(n) => kc_planfile::with_node(&file, &text, n),
        PlanChange::Indicator(i) => kc_planfile::with_indicator(&file, &text, i),
    }
    .map_err(|e| invalid(e, &text))?;
    let checked = kc_planfile::check_plan(&file, &new_text).map_err(|e| invalid(e, &new_text))?;
    if checked.plan.code.as_str() != plan_code {
        return Err(PlanEditError::NoPlan(plan_code.to_string()));
    }
    let mut tx = store.begin().await?;
    // The version is checked where the new one is written, so that two
    // coordinators saving at once cannot drop each other's change.
    let current = tx.latest_plan_version(plan_code).await?.unwrap_or(0);
    let opened = opened.unwrap_or(stored.version.version);
    if current != opened || current != stored.version.version {
        return Err(PlanEditError::Stale { opened, current });
    }
    let saved = tx
        .save_plan(&checked.plan, &new_text, &caller.actor.username)
        .await?;
    if saved.created {
        let (kind, code) = change.what();
        tx.commit(&crate::auth::audit_entry(
            &caller.actor,
            "plan.edit",
            &format!("plan:{plan_code}"),
            serde_json::json!({
                "version": saved.version.version,
                "from": current,
                kind: code,
            }),
        ))
        .await?;
    }
    Ok(Saved {
        saved,
        warnings: checked.warning_lines(&file),
    })
}

/// The target table of `plan` as an Excel workbook.
pub fn export_xlsx(plan: &kc_domain::Plan) -> Result<Vec<u8>, kc_io::IoError> {
    let headers = target_table::headers(plan);
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    kc_io::table_xlsx("目标表", &refs, &io_cells(target_table::table(plan)))
}

/// The target table of `plan` as CSV (formula-leading cells neutralised).
pub fn export_csv(plan: &kc_domain::Plan) -> Vec<u8> {
    let rows = target_table::table(plan).into_iter().map(|r| {
        r.into_iter()
            .map(|c| match c {
                Cell::Text(t) => t,
                Cell::Number(n) => kc_domain::plan::fmt_num(n, 6),
                Cell::Empty => String::new(),
            })
            .collect::<Vec<_>>()
    });
    kc_io::csv_table(std::iter::once(target_table::headers(plan)).chain(rows))
}

fn io_cells(rows: Vec<Vec<Cell>>) -> Vec<Vec<kc_io::Cell>> {
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| match c {
                    Cell::Text(t) => kc_io::Cell::Text(t),
                    Cell::Number(n) => kc_io::Cell::Number(n),
                    Cell::Empty => kc_io::Cell::Empty,
                })
                .collect()
        })
        .collect()
}

/// The text of a new plan made from a target table (Excel or CSV) on the
/// frame of `base` (its text `base_text`): rows checked first, then the plan
/// as `plan check` reads it. Used by the CLI (writing a file) and by
/// [`import_table`] (saving it).
pub fn plan_from_file(
    base: &kc_domain::Plan,
    base_text: &str,
    new: &NewPlan,
    kind: FileKind,
    bytes: &[u8],
) -> Result<(kc_planfile::Checked, String), PlanEditError> {
    let sheet = kc_io::read(kind, bytes)?;
    // The rows are read against the new period (its yearly columns) with the
    // base's areas, departments and indicators.
    let mut frame = base.clone();
    frame.period.start = new.start;
    frame.period.end = new.end;
    let rows =
        target_table::read(&frame, &sheet.headers, &sheet.rows).map_err(PlanEditError::Rows)?;
    let file = format!("{}.toml", new.code);
    let text = kc_planfile::plan_from_table(&file, base_text, new, &rows)
        .map_err(|e| invalid(e, base_text))?;
    let checked = kc_planfile::check_plan(&file, &text).map_err(|e| invalid(e, &text))?;
    Ok((checked, text))
}

/// A new plan from a target table, saved as its version 1 with the audit
/// entry `plan.create`. The code must be new.
pub async fn import_table(
    store: &Store,
    caller: &Caller,
    base_code: &str,
    new: &NewPlan,
    kind: FileKind,
    bytes: &[u8],
) -> Result<Saved, PlanEditError> {
    if !caller.principal.is_coordinator() {
        return Err(PlanEditError::Forbidden);
    }
    if store.plan(new.code.as_str()).await?.is_some() {
        return Err(PlanEditError::Exists(new.code.to_string()));
    }
    let base = store
        .plan(base_code)
        .await?
        .ok_or_else(|| PlanEditError::NoPlan(base_code.to_string()))?;
    let base_text = store
        .plan_source(base_code, base.version.version)
        .await?
        .ok_or_else(|| PlanEditError::NoPlan(base_code.to_string()))?;
    let (checked, text) = plan_from_file(&base.plan, &base_text, new, kind, bytes)?;
    let mut tx = store.begin().await?;
    if tx.latest_plan_version(new.code.as_str()).await?.is_some() {
        return Err(PlanEditError::Exists(new.code.to_string()));
    }
    let saved = tx
        .save_plan(&checked.plan, &text, &caller.actor.username)
        .await?;
    tx.commit(&crate::auth::audit_entry(
        &caller.actor,
        "plan.create",
        &format!("plan:{}", new.code),
        serde_json::json!({
            "from_table": true,
            "base": base_code,
            "targets": checked.plan.targets.len(),
        }),
    ))
    .await?;
    Ok(Saved {
        saved,
        warnings: checked.warning_lines(&format!("{}.toml", new.code)),
    })
}

/// One line of a diff between two versions' texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// `' '` kept, `'-'` removed, `'+'` added; `'…'` marks skipped lines.
    pub tag: char,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub text: String,
}

/// The lines that changed between two plan texts, with three lines of
/// context around each change (what `diff -u` shows).
pub fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    use similar::{ChangeTag, TextDiff};
    let d = TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for (i, group) in d.grouped_ops(3).iter().enumerate() {
        if i > 0 {
            out.push(DiffLine {
                tag: '…',
                old: None,
                new: None,
                text: String::new(),
            });
        }
        for op in group {
            for c in d.iter_changes(op) {
                out.push(DiffLine {
                    tag: match c.tag() {
                        ChangeTag::Equal => ' ',
                        ChangeTag::Delete => '-',
                        ChangeTag::Insert => '+',
                    },
                    old: c.old_index().map(|i| i + 1),
                    new: c.new_index().map(|i| i + 1),
                    text: c.value().trim_end_matches(['\n', '\r']).to_string(),
                });
            }
        }
    }
    out
}
