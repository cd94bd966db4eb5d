//! The allocation table (目标任务分解表) of a plan: exported as Excel or
//! CSV, imported back or edited one target at a time, each change a new
//! plan version written with its audit entry in one transaction.

use kc_domain::allocation::{self, AllocationRow, RowProblem};
use kc_io::FileKind;
use kc_store::{SavedPlan, Store, StoreError};

use crate::auth::Caller;

#[derive(Debug, thiserror::Error)]
pub enum AllocationError {
    #[error("只有规划统筹可以修改目标任务分解表")]
    Forbidden,
    #[error("没有编号为“{0}”的规划")]
    NoPlan(String),
    #[error("{0}")]
    File(#[from] kc_io::IoError),
    /// Rows the table refused: nothing was written.
    #[error("分解表有 {} 处错误，未写入任何数据", .0.len())]
    Rows(Vec<RowProblem>),
    /// The plan the rows would make is not valid (`plan check`'s messages).
    #[error("{0}")]
    Plan(#[from] kc_planfile::PlanErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A saved allocation: the plan version (unchanged when the table changed
/// nothing) and what `plan check` warns about.
#[derive(Debug, Clone)]
pub struct Saved {
    pub saved: SavedPlan,
    pub warnings: Vec<String>,
}

/// The table of `plan` as an Excel workbook.
pub fn export_xlsx(plan: &kc_domain::Plan) -> Result<Vec<u8>, kc_io::IoError> {
    let headers = allocation::headers(plan);
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    kc_io::table_xlsx("目标任务分解表", &refs, &io_cells(allocation::table(plan)))
}

/// The table of `plan` as CSV (formula-leading cells neutralised).
pub fn export_csv(plan: &kc_domain::Plan) -> Vec<u8> {
    let rows = allocation::table(plan).into_iter().map(|r| {
        r.into_iter()
            .map(|c| match c {
                allocation::Cell::Text(t) => t,
                allocation::Cell::Number(n) => kc_domain::plan::fmt_num(n, 6),
                allocation::Cell::Empty => String::new(),
            })
            .collect::<Vec<_>>()
    });
    kc_io::csv_table(std::iter::once(allocation::headers(plan)).chain(rows))
}

fn io_cells(rows: Vec<Vec<allocation::Cell>>) -> Vec<Vec<kc_io::Cell>> {
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .map(|c| match c {
                    allocation::Cell::Text(t) => kc_io::Cell::Text(t),
                    allocation::Cell::Number(n) => kc_io::Cell::Number(n),
                    allocation::Cell::Empty => kc_io::Cell::Empty,
                })
                .collect()
        })
        .collect()
}

/// Imports a filled-in table: every row checked first (row numbers and
/// messages as the registries' imports give them); then the plan file with
/// the new allocation is checked as `plan check` would; then saved.
pub async fn import(
    store: &Store,
    caller: &Caller,
    plan_code: &str,
    kind: FileKind,
    bytes: &[u8],
) -> Result<Saved, AllocationError> {
    if !caller.principal.is_coordinator() {
        return Err(AllocationError::Forbidden);
    }
    let stored = store
        .plan(plan_code)
        .await?
        .ok_or_else(|| AllocationError::NoPlan(plan_code.to_string()))?;
    let sheet = kc_io::read(kind, bytes)?;
    let rows = allocation::read(&stored.plan, &sheet.headers, &sheet.rows)
        .map_err(AllocationError::Rows)?;
    save(store, caller, plan_code, &rows).await
}

/// Writes `rows` into the latest version of the plan (the targets they name
/// get exactly these shares) as a new version, with the audit entry
/// `plan.allocation`, in one transaction.
pub async fn save(
    store: &Store,
    caller: &Caller,
    plan_code: &str,
    rows: &[AllocationRow],
) -> Result<Saved, AllocationError> {
    if !caller.principal.is_coordinator() {
        return Err(AllocationError::Forbidden);
    }
    let stored = store
        .plan(plan_code)
        .await?
        .ok_or_else(|| AllocationError::NoPlan(plan_code.to_string()))?;
    let text = store
        .plan_source(plan_code, stored.version.version)
        .await?
        .ok_or_else(|| AllocationError::NoPlan(plan_code.to_string()))?;
    let file = format!("{plan_code}.toml");
    let new_text = kc_planfile::with_allocations(&file, &text, &stored.plan, rows)?;
    let checked = kc_planfile::check_plan(&file, &new_text)?;
    let mut tx = store.begin().await?;
    let saved = tx
        .save_plan(&checked.plan, &new_text, &caller.actor.username)
        .await?;
    if saved.created {
        let mut targets: Vec<&str> = rows.iter().map(|r| r.target.as_str()).collect();
        targets.dedup();
        tx.commit(&crate::auth::audit_entry(
            &caller.actor,
            "plan.allocation",
            &format!("plan:{plan_code}"),
            serde_json::json!({
                "version": saved.version.version,
                "targets": targets,
                "rows": rows.len(),
            }),
        ))
        .await?;
    }
    Ok(Saved {
        saved,
        warnings: checked.warning_lines(&file),
    })
}
