//! Fresh databases for tests: a new SQLite file, and — when
//! `KECHUANG_TEST_PG_URL` names a PostgreSQL server — a new schema there.
//! `KECHUANG_REQUIRE_PG=1` (set by CI) turns a missing PostgreSQL URL into a
//! test failure instead of a skip.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Executor;

use crate::Store;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        t % 1_000_000_000,
        n
    )
}

/// A test database; remove it with [`TestDb::cleanup`] when the test is done.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pub label: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Schema { base_url: String, schema: String },
}

impl TestDb {
    pub async fn cleanup(self) {
        self.store.close().await;
        match self.cleanup {
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Schema { base_url, schema } => {
                if let Ok(pool) = sqlx::PgPool::connect(&base_url).await {
                    let _ = pool
                        .execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
                        .await;
                    pool.close().await;
                }
            }
        }
    }
}

/// A new, migrated SQLite database in a temporary folder.
pub async fn sqlite() -> TestDb {
    let dir = std::env::temp_dir().join(unique("kechuang_test"));
    let url = format!("sqlite://{}/kc.db", dir.display());
    let store = Store::connect(&url)
        .await
        .expect("open test SQLite database");
    TestDb {
        store,
        url,
        label: "sqlite",
        cleanup: Cleanup::File(dir),
    }
}

/// The PostgreSQL server to test against, if configured. Panics when CI
/// requires one and none is configured.
pub fn pg_url() -> Option<String> {
    match std::env::var("KECHUANG_TEST_PG_URL") {
        Ok(u) if !u.trim().is_empty() => Some(u),
        _ => {
            if std::env::var("KECHUANG_REQUIRE_PG").is_ok_and(|v| v == "1") {
                panic!("KECHUANG_REQUIRE_PG=1 but KECHUANG_TEST_PG_URL is not set");
            }
            None
        }
    }
}

/// A new, migrated schema on the configured PostgreSQL server, or `None`
/// when no server is configured.
pub async fn postgres() -> Option<TestDb> {
    let base_url = pg_url()?;
    let schema = unique("kc_t");
    let pool = sqlx::PgPool::connect(&base_url)
        .await
        .unwrap_or_else(|e| panic!("connect to {}: {e}", crate::redact(&base_url)));
    pool.execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .expect("create test schema");
    pool.close().await;
    let sep = if base_url.contains('?') { '&' } else { '?' };
    let url = format!("{base_url}{sep}options=-c%20search_path%3D{schema}");
    let store = Store::connect(&url)
        .await
        .expect("open test PostgreSQL schema");
    Some(TestDb {
        store,
        url,
        label: "postgres",
        cleanup: Cleanup::Schema { base_url, schema },
    })
}
