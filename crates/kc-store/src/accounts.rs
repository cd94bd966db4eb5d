//! Accounts, their roles, sessions and notifications. Password hashing and
//! the login rules live in `kc-app`; this module only stores.

use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, now_text};

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub password_hash: String,
    pub must_change: bool,
    pub disabled: bool,
    pub failed_count: i64,
    pub locked_until: Option<String>,
    pub created_at: String,
    pub last_login_at: Option<String>,
    /// Roles as text (`area_reporter:longzihu`), sorted.
    pub roles: Vec<String>,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub password_hash: String,
    pub must_change: bool,
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user: User,
    pub csrf: String,
    pub created_at: String,
    pub last_seen: String,
}

/// An in-app notification.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Notification {
    pub id: i64,
    pub at: String,
    pub title: String,
    pub body: String,
    pub href: String,
    pub read: bool,
}

const USER_COLUMNS: &str = "id, username, display_name, email, password_hash, must_change, disabled, failed_count, locked_until, created_at, last_login_at";

fn user_from(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        email: row.try_get("email")?,
        password_hash: row.try_get("password_hash")?,
        must_change: row.try_get::<i64, _>("must_change")? != 0,
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        failed_count: row.try_get("failed_count")?,
        locked_until: row.try_get("locked_until")?,
        created_at: row.try_get("created_at")?,
        last_login_at: row.try_get("last_login_at")?,
        roles: Vec::new(),
    })
}

impl Store {
    /// Creates an account with its roles (fixtures and the demo; users'
    /// accounts are created through a [`crate::Tx`] with their audit entry).
    pub async fn create_user(&self, u: &NewUser, roles: &[String]) -> Result<User> {
        let mut tx = self.begin().await?;
        tx.create_user(u, roles).await?;
        tx.commit_without_audit().await?;
        self.user(&u.username)
            .await?
            .ok_or_else(|| StoreError::Corrupt("新建的用户读不到".into()))
    }

    /// An account by name, with its roles.
    pub async fn user(&self, username: &str) -> Result<Option<User>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut user = user_from(&row)?;
        user.roles = self.roles_of(user.id).await?;
        Ok(Some(user))
    }

    async fn roles_of(&self, user_id: i64) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("role").map_err(StoreError::from))
            .collect()
    }

    /// Every account, by name, with roles.
    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(self.pool())
        .await?;
        let roles = sqlx::query("SELECT user_id, role FROM user_roles ORDER BY role")
            .fetch_all(self.pool())
            .await?;
        let mut users = rows.iter().map(user_from).collect::<Result<Vec<_>>>()?;
        for r in &roles {
            let id: i64 = r.try_get("user_id")?;
            if let Some(u) = users.iter_mut().find(|u| u.id == id) {
                u.roles.push(r.try_get("role")?);
            }
        }
        Ok(users)
    }

    /// Accounts holding any of `roles` (for reminders).
    pub async fn users_with_roles(&self, roles: &[String]) -> Result<Vec<User>> {
        let mut out = Vec::new();
        for u in self.users().await? {
            if !u.disabled && u.roles.iter().any(|r| roles.contains(r)) {
                out.push(u);
            }
        }
        Ok(out)
    }

    /// Replaces an account's roles.
    pub async fn set_roles(&self, user_id: i64, roles: &[String]) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.set_roles(user_id, roles).await?;
        tx.commit_without_audit().await
    }

    /// Sets a new password hash; `must_change` for a reset by an administrator.
    pub async fn set_password(&self, user_id: i64, hash: &str, must_change: bool) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.set_password(user_id, hash, must_change).await?;
        tx.commit_without_audit().await
    }

    /// Disables (locks by an administrator) or re-enables an account; both
    /// clear the failure count and any temporary lock.
    pub async fn set_disabled(&self, user_id: i64, disabled: bool) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.set_disabled(user_id, disabled).await?;
        tx.commit_without_audit().await
    }

    /// Records a failed login; returns the new failure count (fixtures;
    /// the login use case does it with its audit entry through
    /// [`crate::Tx::record_failed_login`]).
    pub async fn record_failed_login(
        &self,
        user_id: i64,
        threshold: i64,
        lock_until: &str,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let n = tx
            .record_failed_login(user_id, threshold, lock_until)
            .await?;
        tx.commit_without_audit().await?;
        Ok(n)
    }

    /// Records a successful login (fixtures; see [`crate::Tx::record_login`]).
    pub async fn record_login(&self, user_id: i64) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.record_login(user_id).await?;
        tx.commit_without_audit().await
    }

    // ---- sessions -------------------------------------------------------------------------

    /// Opens a session (fixtures; see [`crate::Tx::open_session`]).
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        ip: &str,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.open_session(token_hash, user_id, csrf, ip).await?;
        tx.commit_without_audit().await
    }

    /// The session of a token hash, with its user and roles.
    pub async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.email, u.password_hash, u.must_change,
                    u.disabled, u.failed_count, u.locked_until, u.created_at, u.last_login_at,
                    s.csrf, s.created_at AS s_created, s.last_seen
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut user = user_from(&row)?;
        user.roles = self.roles_of(user.id).await?;
        Ok(Some(SessionRow {
            user,
            csrf: row.try_get("csrf")?,
            created_at: row.try_get("s_created")?,
            last_seen: row.try_get("last_seen")?,
        }))
    }

    pub async fn touch_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
            .bind(now_text())
            .bind(token_hash)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let mut tx = self.begin().await?;
        tx.delete_session(token_hash).await?;
        tx.commit_without_audit().await
    }

    /// Ends every session of an account; returns how many were ended.
    pub async fn delete_sessions_of(&self, user_id: i64) -> Result<u64> {
        let mut tx = self.begin().await?;
        let n = tx.delete_sessions_of(user_id).await?;
        tx.commit_without_audit().await?;
        Ok(n)
    }

    /// Removes sessions idle since before `cutoff`.
    pub async fn delete_idle_sessions(&self, cutoff: &str) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE last_seen < $1")
            .bind(cutoff)
            .execute(self.pool())
            .await?;
        Ok(r.rows_affected())
    }

    // ---- notifications ----------------------------------------------------------------------

    pub async fn notify(&self, user_id: i64, title: &str, body: &str, href: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO notifications (user_id, at, title, body, href, read_at)
             VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(user_id)
        .bind(now_text())
        .bind(title)
        .bind(body)
        .bind(href)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The newest notifications of an account.
    pub async fn notifications(&self, user_id: i64, limit: i64) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, at, title, body, href, read_at FROM notifications
             WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    title: r.try_get("title")?,
                    body: r.try_get("body")?,
                    href: r.try_get("href")?,
                    read: r.try_get::<Option<String>, _>("read_at")?.is_some(),
                })
            })
            .collect()
    }

    pub async fn mark_notifications_read(&self, user_id: i64) -> Result<()> {
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(now_text())
            .bind(user_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

impl crate::Tx {
    /// Ends one session.
    pub async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(self.conn())
            .await?;
        self.event(crate::EventKind::User, "", &format!("session:{token_hash}"));
        Ok(())
    }

    /// Creates an account with its roles; `Invalid` if the name is taken.
    pub async fn create_user(&mut self, u: &NewUser, roles: &[String]) -> Result<i64> {
        let now = now_text();
        let row = sqlx::query(
            "INSERT INTO users (username, display_name, email, password_hash, must_change, disabled,
                                failed_count, locked_until, password_changed_at, created_at, last_login_at)
             VALUES ($1, $2, $3, $4, $5, 0, 0, NULL, $6, $6, NULL)
             RETURNING id",
        )
        .bind(u.username.as_str())
        .bind(u.display_name.as_str())
        .bind(u.email.as_str())
        .bind(u.password_hash.as_str())
        .bind(i64::from(u.must_change))
        .bind(now.as_str())
        .fetch_one(self.conn())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Invalid(format!("用户名“{}”已被使用", u.username))
            }
            _ => StoreError::Db(e),
        })?;
        let id: i64 = row.try_get("id")?;
        for r in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(r.as_str())
                .execute(self.conn())
                .await?;
        }
        user_changed(self, id);
        Ok(id)
    }

    /// Replaces an account's roles.
    pub async fn set_roles(&mut self, user_id: i64, roles: &[String]) -> Result<()> {
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        for r in roles {
            sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
                .bind(user_id)
                .bind(r.as_str())
                .execute(self.conn())
                .await?;
        }
        user_changed(self, user_id);
        Ok(())
    }

    /// Sets a new password hash; `must_change` for a reset by an administrator.
    pub async fn set_password(
        &mut self,
        user_id: i64,
        hash: &str,
        must_change: bool,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE users SET password_hash = $1, must_change = $2, password_changed_at = $3,
                              failed_count = 0, locked_until = NULL
             WHERE id = $4",
        )
        .bind(hash)
        .bind(i64::from(must_change))
        .bind(now_text())
        .bind(user_id)
        .execute(self.conn())
        .await?;
        user_changed(self, user_id);
        Ok(())
    }

    /// Disables (locks by an administrator) or re-enables an account; both
    /// clear the failure count and any temporary lock.
    pub async fn set_disabled(&mut self, user_id: i64, disabled: bool) -> Result<()> {
        sqlx::query(
            "UPDATE users SET disabled = $1, failed_count = 0, locked_until = NULL WHERE id = $2",
        )
        .bind(i64::from(disabled))
        .bind(user_id)
        .execute(self.conn())
        .await?;
        user_changed(self, user_id);
        Ok(())
    }

    /// Ends every session of an account ("log out everywhere", password
    /// change, lock); returns how many were ended.
    pub async fn delete_sessions_of(&mut self, user_id: i64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(self.conn())
            .await?;
        user_changed(self, user_id);
        Ok(r.rows_affected())
    }
}

impl crate::Tx {
    /// Counts a wrong password; at `threshold` the account is locked until
    /// `lock_until` and the count starts again. Returns the count reached.
    /// No event: a failure changes nothing a cached session shows.
    pub async fn record_failed_login(
        &mut self,
        user_id: i64,
        threshold: i64,
        lock_until: &str,
    ) -> Result<i64> {
        let row = sqlx::query(
            "UPDATE users SET failed_count = failed_count + 1 WHERE id = $1 RETURNING failed_count",
        )
        .bind(user_id)
        .fetch_one(self.conn())
        .await?;
        let n: i64 = row.try_get("failed_count")?;
        if n >= threshold {
            sqlx::query("UPDATE users SET locked_until = $1, failed_count = 0 WHERE id = $2")
                .bind(lock_until)
                .bind(user_id)
                .execute(self.conn())
                .await?;
        }
        Ok(n)
    }

    /// Records a successful login: the failure count and any lock cleared.
    pub async fn record_login(&mut self, user_id: i64) -> Result<()> {
        sqlx::query(
            "UPDATE users SET failed_count = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2",
        )
        .bind(now_text())
        .bind(user_id)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Opens a session for a token hash.
    pub async fn open_session(
        &mut self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        ip: &str,
    ) -> Result<()> {
        let now = now_text();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen, ip)
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf)
        .bind(now.as_str())
        .bind(ip)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

/// Cached sessions of the user must be read again (roles, lock, password).
fn user_changed(tx: &mut crate::Tx, user_id: i64) {
    tx.event(crate::EventKind::User, "", &format!("user:{user_id}"));
}
