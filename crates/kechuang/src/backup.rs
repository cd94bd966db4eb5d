//! The audit key at start, `audit verify`, `backup` and `restore`.
//!
//! The key is looked for the same way by every command: the environment
//! variable `KECHUANG_AUDIT_KEY` (64 hex characters), else `audit.key` in the
//! data folder (`--data-dir`/`KECHUANG_DATA_DIR`, else the SQLite file's
//! folder, else `./data` for PostgreSQL). Commands that write create it on
//! first use and seal the database with it; `audit verify` only reads.

use std::path::PathBuf;
use std::process::ExitCode;

use kc_store::{ANCHOR_FILE, KeySource, MacCheck, Store};

use crate::{DATA_DIR, cli_actor, one_line, out};

/// The data folder of `url` (key and anchors).
fn data_dir(url: &str) -> Option<PathBuf> {
    let given = DATA_DIR.get().and_then(|d| d.as_deref());
    kc_store::data_dir(url, given)
}

fn env_key() -> Option<String> {
    std::env::var("KECHUANG_AUDIT_KEY").ok()
}

/// Attaches the audit key and anchor file to `store`. With `write`, a
/// missing key is created (unless the database is sealed with one already:
/// a new key would not be its key) and the database is sealed.
pub(crate) async fn with_key(store: Store, url: &str, write: bool) -> Result<Store, String> {
    let Some(dir) = data_dir(url) else {
        return Ok(store);
    };
    let (sealed_with, _) = store.audit_seal().await.map_err(|e| one_line(&e))?;
    let create = write && sealed_with.is_empty();
    let env = env_key();
    let found = kc_store::load_key(&dir, env.as_deref(), create).map_err(|e| one_line(&e))?;
    let Some((key, source)) = found else {
        if write {
            return Err(format!(
                "数据库已用审计密钥 {sealed_with} 封存，但在 {} 中找不到 {}，也没有设置 KECHUANG_AUDIT_KEY：请放回原密钥文件（或用 --data-dir 指向它）；不要生成新密钥",
                dir.display(),
                kc_store::KEY_FILE
            ));
        }
        return Ok(store);
    };
    if let KeySource::Created(path) = &source {
        eprintln!(
            "kechuang: 已生成审计密钥 {}（编号 {}）：请与数据库分开备份，丢失后无法再校验审计日志（见 docs/deployment.md）",
            path.display(),
            key.id()
        );
    }
    let store = store.with_audit_key(key, Some(dir.join(ANCHOR_FILE)));
    if write {
        let who = cli_actor();
        store
            .seal_audit(&who.username, &who.ip)
            .await
            .map_err(|e| one_line(&e))?;
    }
    Ok(store)
}

/// Verifies the audit trail and prints the result; non-zero on any problem,
/// or when the database is sealed and the key is not found.
pub(crate) async fn verify_and_print(store: &Store) -> ExitCode {
    let r = match store.audit_verify().await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kechuang: {}", one_line(&e));
            return ExitCode::FAILURE;
        }
    };
    if !r.problems.is_empty() {
        eprintln!(
            "kechuang: 审计日志被改动，发现 {} 处问题，第一处在第 {} 条：",
            r.problems.len(),
            r.first_bad.unwrap_or(0)
        );
        for p in &r.problems {
            eprintln!("  {p}");
        }
        return ExitCode::FAILURE;
    }
    let keyed = match &r.macs {
        MacCheck::Checked { key_id } => format!(
            "校验码：封存后的每条记录均与审计密钥 {key_id} 相符；锚点 {} 个相符（{}）\n",
            r.anchors,
            store
                .anchor_path()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        ),
        MacCheck::NoKey { key_id } => {
            eprintln!(
                "kechuang: 数据库已用审计密钥 {key_id} 封存，但没有找到该密钥（数据目录中的 {} 或环境变量 KECHUANG_AUDIT_KEY）：只能校验哈希链，无法发现截断和重算哈希的改动",
                kc_store::KEY_FILE
            );
            return ExitCode::FAILURE;
        }
        MacCheck::Unsealed => "注意：数据库尚未用审计密钥封存，只校验了哈希链（运行一次 kechuang serve 或任一写入命令即封存）\n".into(),
    };
    out(&format!(
        "审计日志完整：{} 条记录，链头第 {} 条，哈希 {}\n{keyed}",
        r.entries, r.head_seq, r.head_hash
    ));
    ExitCode::SUCCESS
}

pub(crate) async fn backup(file: PathBuf, db: String) -> ExitCode {
    let store = match crate::connect(&db).await {
        Ok(s) => s,
        Err(c) => return c,
    };
    let started = std::time::Instant::now();
    match store.backup_to(&file, &cli_actor().username).await {
        Ok(b) => {
            let rows: i64 = b.tables.iter().map(|(_, n)| n).sum();
            let dir = data_dir(&db)
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            out(&format!(
                "已备份到 {}（{} 字节，用时 {:.1} 秒）：{} 张表共 {rows} 行；审计链头第 {} 条，哈希 {}\n审计密钥和锚点文件不在备份中：请把 {dir}/{} 另行妥善保存（恢复时需要同一把密钥）。\n",
                file.display(),
                b.bytes,
                started.elapsed().as_secs_f64(),
                b.tables.len(),
                b.head_seq,
                b.head_hash,
                kc_store::KEY_FILE,
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kechuang: 备份失败：{}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

pub(crate) async fn restore(file: PathBuf, db: String, force: bool) -> ExitCode {
    let store = match Store::connect(&db).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kechuang: {}", one_line(&e));
            return ExitCode::FAILURE;
        }
    };
    // The backup's key must be at hand (never a new one for a sealed
    // backup); a backup from before the key is sealed after the restore.
    let dir = data_dir(&db);
    let found = match &dir {
        Some(d) => match kc_store::load_key(d, env_key().as_deref(), false) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("kechuang: {}", one_line(&e));
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let store = match (found, &dir) {
        (Some((key, _)), Some(d)) => store.with_audit_key(key, Some(d.join(ANCHOR_FILE))),
        _ => store,
    };
    let started = std::time::Instant::now();
    let r = match store
        .restore_from(&file, force, &cli_actor().username)
        .await
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kechuang: 恢复失败，目标库未改动：{}", one_line(&e));
            if let (None, Some(d)) = (store.audit_key_id(), &dir) {
                eprintln!(
                    "（审计密钥在 {}/{} 或环境变量 KECHUANG_AUDIT_KEY 中查找）",
                    d.display(),
                    kc_store::KEY_FILE
                );
            }
            return ExitCode::FAILURE;
        }
    };
    // A backup without a key, restored without one: key and seal now.
    let store = if store.audit_key_id().is_none() {
        match with_key(store, &db, true).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("kechuang: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        store
    };
    let rows: i64 = r.tables.iter().map(|(_, n)| n).sum();
    out(&format!(
        "已从 {} 恢复 {} 张表共 {rows} 行（用时 {:.1} 秒）；备份的审计链头第 {} 条，哈希 {}；恢复记为第 {} 条审计记录。\n",
        file.display(),
        r.tables.len(),
        started.elapsed().as_secs_f64(),
        r.backup_head_seq,
        r.backup_head_hash,
        r.entry_seq
    ));
    verify_and_print(&store).await
}
