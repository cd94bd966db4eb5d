//! Storage for Kechuang: one interface, two backends.
//!
//! SQLite (an embedded file, the default) and PostgreSQL (for production,
//! and for PostgreSQL-compatible domestic databases) are reached through
//! sqlx's `Any` driver, so every query is written once. What differs between
//! the two lives in `migrations/sqlite` and `migrations/postgres`, applied at
//! connect time; the queries use only SQL both understand (`$1` parameters,
//! `ON CONFLICT`, `RETURNING`, TEXT dates, 64-bit integers and doubles).
//!
//! The same behaviour tests (`tests/behaviour.rs`) run on SQLite always and
//! on PostgreSQL when `KECHUANG_TEST_PG_URL` names a server.

mod accounts;
mod audit;
mod audit_key;
mod backup;
mod cases;
mod files;
mod plans;
mod registries;
#[cfg(feature = "testkit")]
pub mod testkit;
mod tx;
mod url_util;
mod values;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use accounts::{NewUser, Notification, SessionRow, User};
pub use audit::{
    AuditEntry, AuditFilter, AuditReport, MIN_RETENTION_DAYS, MacCheck, NewAudit, Pruned, Sealed,
    entry_hash,
};
pub use audit_key::{ANCHOR_FILE, AuditKey, KEY_FILE, KeyError, KeySource, data_dir, load_key};
pub use backup::{BackupReport, RestoreReport};
pub use cases::{Case, CaseFields};
pub use files::Attachment;
pub use plans::{PlanVersion, SavedPlan, StoredPlan};
pub use registries::StoredRecord;
pub use tx::{Event, EventKind, Tx};
pub use url_util::redact;
pub use values::{NewValue, ValueEvent, ValueRecord};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// Errors of the storage layer. The `Display` text is safe to show to users;
/// the source chain (for logs) carries the driver's detail.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("不支持的数据库地址“{0}”：应以 sqlite:// 或 postgres:// 开头")]
    UnsupportedUrl(String),
    #[error("无法连接数据库 {url}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("无法创建数据目录 {dir}")]
    DataDir {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("数据库结构升级失败")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("数据库操作失败")]
    Db(#[from] sqlx::Error),
    #[error("数据已被他人修改：当前为第 {} 版", current.revision)]
    Conflict { current: Box<ValueRecord> },
    #[error("数据无效：{0}")]
    Invalid(String),
    #[error("数据库中的数据无法读取：{0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A handle to the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Commits with events made through this handle (and its clones): the
    /// read model compares it with what it has seen, without a query.
    local_commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The audit key and anchor file, when the process has them.
    keeper: Option<std::sync::Arc<audit_key::Keeper>>,
}

static MIGRATE_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static MIGRATE_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects to `url` and brings the schema up to date.
    ///
    /// `sqlite://PATH` (relative or absolute; the file and its folder are
    /// created on first run, in WAL mode) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, connect_url) = url_util::normalise(url)?;
        let shown = redact(url);
        let opts =
            AnyConnectOptions::from_str(&connect_url).map_err(|source| StoreError::Connect {
                url: shown.clone(),
                source,
            })?;
        let pool_opts = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 10,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Foreign keys and the busy timeout are per
                        // connection in SQLite; WAL is stored in the file.
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            });
        // One direct attempt first: an unreachable server should fail at once
        // with a clear message, not after the pool's retry timeout.
        let probe = <sqlx::AnyConnection as sqlx::Connection>::connect_with(&opts)
            .await
            .map_err(|source| StoreError::Connect {
                url: shown.clone(),
                source,
            })?;
        let _ = sqlx::Connection::close(probe).await;
        let pool = pool_opts
            .connect_with(opts)
            .await
            .map_err(|source| StoreError::Connect { url: shown, source })?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        match backend {
            Backend::Sqlite => MIGRATE_SQLITE.run(&pool).await?,
            Backend::Postgres => MIGRATE_POSTGRES.run(&pool).await?,
        }
        Ok(Store {
            pool,
            backend,
            local_commits: Default::default(),
            keeper: None,
        })
    }

    /// This handle (and its clones) signs audit entries with `key` and, with
    /// `anchors`, appends every audit commit's head to that file. Call
    /// [`Store::seal_audit`] next to seal a database written before it had a
    /// key.
    pub fn with_audit_key(mut self, key: AuditKey, anchors: Option<std::path::PathBuf>) -> Store {
        self.keeper = Some(std::sync::Arc::new(audit_key::Keeper {
            key,
            anchors: anchors.map(audit_key::Anchors::new),
        }));
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many commits with events this process has made; changes after
    /// each one, so a reader can tell at no cost that it should catch up.
    pub fn local_commits(&self) -> u64 {
        self.local_commits
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs one statement of raw SQL. For tests and the demo that must reach
    /// past the interface (e.g. to tamper with the audit trail); nothing in
    /// the system itself calls it.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64> {
        Ok(sqlx::query(sql).execute(self.pool()).await?.rows_affected())
    }
}

/// The current time as stored: RFC 3339 in UTC with milliseconds, which
/// sorts correctly as text in both backends.
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
