//! Database URLs: which backend, how to connect, and how to show one without
//! its password.

use crate::{Backend, StoreError};

/// Picks the backend from the scheme and prepares the URL for the driver.
/// For SQLite the file's folder is created and the file is opened with
/// create-if-missing.
pub(crate) fn normalise(url: &str) -> Result<(Backend, String), StoreError> {
    let url = url.trim();
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        }
        if path != ":memory:"
            && let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                dir: dir.display().to_string(),
                source,
            })?;
        }
        let mut q: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        if !q.iter().any(|p| p.starts_with("mode=")) {
            q.push("mode=rwc");
        }
        return Ok((Backend::Sqlite, format!("sqlite://{path}?{}", q.join("&"))));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((Backend::Postgres, url.to_string()));
    }
    Err(StoreError::UnsupportedUrl(redact(url)))
}

/// The URL with any password replaced by `***`, for messages and logs.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        let (b, _) = normalise("postgres://u:p@h/db").unwrap();
        assert_eq!(b, Backend::Postgres);
        assert!(matches!(
            normalise("mysql://x"),
            Err(StoreError::UnsupportedUrl(_))
        ));
        assert!(matches!(
            normalise("data.db"),
            Err(StoreError::UnsupportedUrl(_))
        ));
        let (b, u) = normalise("sqlite::memory:").unwrap();
        assert_eq!(b, Backend::Sqlite);
        assert_eq!(u, "sqlite://:memory:?mode=rwc");
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://kc:secret@db:5432/kc"),
            "postgres://kc:***@db:5432/kc"
        );
        assert_eq!(redact("postgres://db/kc"), "postgres://db/kc");
        assert_eq!(redact("mysql://a:b@c/d"), "mysql://a:***@c/d");
    }
}
