//! Accounts and sign-in: password hashing (argon2id), the login rules
//! (lockout per account, throttling per client address), sessions, account
//! administration, and the audit trail every one of them writes to.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use kc_domain::auth::{PasswordPolicy, Principal, Role, check_separation, check_username};
use kc_store::{NewAudit, NewUser, Store, StoreError, User};
use sha2::{Digest, Sha256};

/// Security settings; every one can be changed at start-up (see
/// `docs/deployment.md`). The defaults follow common MLPS level-3 practice.
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    /// Failed logins in a row before an account is locked.
    pub lockout_attempts: i64,
    pub lockout_minutes: i64,
    /// Failed logins from one address within the window before that address
    /// is refused for the rest of the window.
    pub ip_attempts: usize,
    pub ip_window_minutes: u64,
    /// A session unused this long ends.
    pub idle_minutes: i64,
    pub password: PasswordPolicy,
    /// Audit entries are kept at least this long (180 days or more).
    pub audit_retention_days: i64,
    /// Marks cookies `Secure` (set when the server sits behind TLS).
    pub secure_cookies: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            lockout_attempts: 5,
            lockout_minutes: 30,
            ip_attempts: 20,
            ip_window_minutes: 15,
            idle_minutes: 30,
            password: PasswordPolicy::default(),
            audit_retention_days: 180,
            secure_cookies: false,
            trusted_proxies: Vec::new(),
        }
    }
}

impl SecurityConfig {
    /// Checks the settings make sense; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=100).contains(&self.lockout_attempts) {
            return Err("锁定前允许的失败次数应在 1–100 之间".into());
        }
        if !(1..=24 * 60).contains(&self.lockout_minutes) {
            return Err("锁定时长应在 1–1440 分钟之间".into());
        }
        if !(1..=1000).contains(&self.ip_attempts) {
            return Err("每个地址允许的失败次数应在 1–1000 之间".into());
        }
        if !(5..=24 * 60).contains(&self.idle_minutes) {
            return Err("会话空闲超时应在 5–1440 分钟之间".into());
        }
        if !(8..=64).contains(&self.password.min_len)
            || !(1..=4).contains(&self.password.min_classes)
        {
            return Err("密码最短长度应在 8–64 之间，字符类别数应在 1–4 之间".into());
        }
        if self.audit_retention_days < 180 {
            return Err("审计记录保存期不得少于 180 天".into());
        }
        Ok(())
    }
}

/// Who did something and from where, for the audit trail.
#[derive(Debug, Clone)]
pub struct Actor {
    pub username: String,
    pub ip: String,
}

impl Actor {
    pub fn new(username: &str, ip: &str) -> Actor {
        Actor {
            username: username.to_string(),
            ip: ip.to_string(),
        }
    }

    /// The command line, run by whoever can reach the server's files.
    pub fn cli() -> Actor {
        Actor::new("cli", "local")
    }
}

/// A signed-in user acting from an address: what every workflow step needs.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub actor: Actor,
}

impl Caller {
    pub fn new(principal: Principal, ip: &str) -> Caller {
        let actor = Actor::new(&principal.username, ip);
        Caller { principal, actor }
    }
}

/// Writes one audit entry on its own (a login, an export: no other change).
pub async fn audit(
    store: &Store,
    who: &Actor,
    action: &str,
    object: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    store
        .audit(&audit_entry(who, action, object, detail))
        .await
        .map(|_| ())
}

/// The audit entry of a change, for [`kc_store::Tx::commit`].
pub fn audit_entry(who: &Actor, action: &str, object: &str, detail: serde_json::Value) -> NewAudit {
    NewAudit {
        actor: who.username.clone(),
        ip: who.ip.clone(),
        action: action.to_string(),
        object: object.to_string(),
        detail: detail.to_string(),
    }
}

// ---- passwords ---------------------------------------------------------------------------

/// An argon2id hash (PHC string) of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    random(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

/// Whether `password` matches the stored hash. A malformed hash never
/// matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

fn random(buf: &mut [u8]) {
    getrandom::getrandom(buf).expect("the operating system provides random bytes");
}

/// A random token of 32 bytes as hex (session cookies, CSRF tokens).
pub fn new_token() -> String {
    let mut b = [0u8; 32];
    random(&mut b);
    hex(&b)
}

/// SHA-256 of a token, as stored (the token itself never is).
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random initial password that passes the default policy: 12 characters
/// from an alphabet without look-alikes, plus one of each class.
pub fn initial_password() -> String {
    const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const SYMBOL: &[u8] = b"#%+=@";
    let mut b = [0u8; 12];
    random(&mut b);
    let mut out = String::new();
    for (i, x) in b.iter().enumerate() {
        let set = [LOWER, UPPER, DIGIT, SYMBOL][i % 4];
        out.push(set[*x as usize % set.len()] as char);
    }
    out
}

// ---- sign-in ---------------------------------------------------------------------------------

/// Failed logins per client address, in memory: one server process answers
/// for its own addresses, and a restart forgets (the per-account lock, kept
/// in the database, is the one that lasts).
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Throttle {
    fn recent(&self, ip: &str, window: Duration) -> usize {
        let mut m = self.failures.lock().expect("throttle lock");
        let v = m.entry(ip.to_string()).or_default();
        v.retain(|t| t.elapsed() < window);
        v.len()
    }

    fn fail(&self, ip: &str) {
        let mut m = self.failures.lock().expect("throttle lock");
        m.entry(ip.to_string()).or_default().push(Instant::now());
        // Bound the map: forget addresses with nothing recent.
        if m.len() > 10_000 {
            m.retain(|_, v| v.iter().any(|t| t.elapsed() < Duration::from_secs(3600)));
        }
    }
}

/// Why a sign-in failed. The messages do not tell whether the name exists.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error("连续登录失败次数过多，账号已锁定至 {0}，请稍后再试或联系安全管理员")]
    Locked(String),
    #[error("账号已停用，请联系安全管理员")]
    Disabled,
    #[error("该地址登录失败次数过多，请 {0} 分钟后再试")]
    Throttled(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new session: the token for the cookie and the CSRF token for forms.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub user: User,
}

/// Signs a user in: checks the address throttle, the account's state and
/// the password; records the outcome in the account and the audit trail.
pub async fn login(
    store: &Store,
    cfg: &SecurityConfig,
    throttle: &Throttle,
    username: &str,
    password: &str,
    ip: &str,
) -> Result<NewSession, LoginError> {
    let who = Actor::new(username, ip);
    let window = Duration::from_secs(cfg.ip_window_minutes * 60);
    if throttle.recent(ip, window) >= cfg.ip_attempts {
        audit(
            store,
            &who,
            "login.throttled",
            &format!("ip:{ip}"),
            serde_json::json!({}),
        )
        .await?;
        return Err(LoginError::Throttled(cfg.ip_window_minutes));
    }
    let user = store.user(username.trim()).await?;
    // Every refusal until the password is known to be right reads the same
    // and costs the same (one password check, one transaction), whether
    // the name exists or not, so that names cannot be found by trying.
    let Some(user) = user else {
        let _ = verify_password(password, dummy_hash());
        throttle.fail(ip);
        let tx = store.begin().await?;
        let detail = serde_json::json!({"reason": "no such user"});
        tx.commit(&audit_entry(
            &who,
            "login.failed",
            &format!("user:{username}"),
            detail,
        ))
        .await?;
        return Err(LoginError::BadCredentials);
    };
    let object = format!("user:{}", user.username);
    let password_ok = verify_password(password, &user.password_hash);
    let now = now_text();
    let locked = user
        .locked_until
        .as_ref()
        .filter(|u| u.as_str() > now.as_str());
    // A disabled or locked account says so only to someone who knows its
    // password; anyone else gets the same answer as for a wrong password.
    let refusal = if user.disabled {
        Some(("disabled", LoginError::Disabled))
    } else {
        locked.map(|until| ("locked", LoginError::Locked(local_time(until))))
    };
    if let Some((reason, err)) = refusal {
        throttle.fail(ip);
        let tx = store.begin().await?;
        let detail = serde_json::json!({ "reason": reason });
        tx.commit(&audit_entry(&who, "login.failed", &object, detail))
            .await?;
        return Err(if password_ok {
            err
        } else {
            LoginError::BadCredentials
        });
    }
    if !password_ok {
        throttle.fail(ip);
        let until = (Utc::now() + chrono::Duration::minutes(cfg.lockout_minutes))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut tx = store.begin().await?;
        let n = tx
            .record_failed_login(user.id, cfg.lockout_attempts, &until)
            .await?;
        let detail = serde_json::json!({"reason": "password", "count": n});
        if n >= cfg.lockout_attempts {
            tx.audit(&audit_entry(&who, "login.failed", &object, detail))
                .await?;
            let detail = serde_json::json!({"until": until});
            tx.commit(&audit_entry(&who, "account.locked", &object, detail))
                .await?;
        } else {
            tx.commit(&audit_entry(&who, "login.failed", &object, detail))
                .await?;
        }
        return Err(LoginError::BadCredentials);
    }
    let token = new_token();
    let csrf = new_token();
    let mut tx = store.begin().await?;
    tx.record_login(user.id).await?;
    tx.open_session(&token_hash(&token), user.id, &csrf, ip)
        .await?;
    tx.commit(&audit_entry(&who, "login", &object, serde_json::json!({})))
        .await?;
    Ok(NewSession { token, csrf, user })
}

/// The hash a password is checked against when the name does not exist:
/// made once with the same parameters as real ones, so that the check
/// takes as long.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut pw = [0u8; 16];
        random(&mut pw);
        hash_password(&hex(&pw))
    })
}

pub use kc_store::now_text;

/// A stored UTC time shown in Beijing time (UTC+8), to the minute.
pub fn local_time(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| {
            kc_domain::time::to_beijing(d.with_timezone(&Utc))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| t.to_string())
}

/// The roles of a stored account, parsed. Unknown role texts (written by a
/// newer version, or by hand) are dropped rather than trusted.
pub fn principal(user: &User) -> Principal {
    Principal {
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        roles: user.roles.iter().filter_map(|r| r.parse().ok()).collect(),
    }
}

// ---- administration ------------------------------------------------------------------------------

/// Why an account change was refused; the text is for the user.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("用户“{0}”不存在")]
    NoSuchUser(String),
    /// Not allowed for this user or from here; the text says why.
    #[error("{0}")]
    Forbidden(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses and checks a set of role texts against the plan (if any) and the
/// separation of the three administrators.
pub fn parse_roles(
    texts: &[String],
    plan: Option<&kc_domain::Plan>,
) -> Result<Vec<Role>, AccountError> {
    let mut roles = Vec::new();
    for t in texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        // A role by its code or, as people say it, by its name (龙子湖区填报员).
        let by_name = plan.and_then(|p| Role::every(p).into_iter().find(|r| r.zh(Some(p)) == t));
        let r: Role = match by_name {
            Some(r) => r,
            None => t
                .parse()
                .map_err(|e: kc_domain::auth::RoleError| AccountError::Invalid(e.to_string()))?,
        };
        if let Some(p) = plan {
            r.check_in(p)
                .map_err(|e| AccountError::Invalid(e.to_string()))?;
        }
        if !roles.contains(&r) {
            roles.push(r);
        }
    }
    check_separation(&roles).map_err(|e| AccountError::Invalid(e.to_string()))?;
    Ok(roles)
}

/// A new account as asked for.
#[derive(Debug, Clone, Default)]
pub struct UserSpec {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub roles: Vec<Role>,
    /// `None`: a random initial password is made.
    pub password: Option<String>,
    /// The user must change the password at first login.
    pub must_change: bool,
}

/// Creates an account and returns it with its initial password.
pub async fn add_user(
    store: &Store,
    who: &Actor,
    spec: &UserSpec,
    policy: &PasswordPolicy,
) -> Result<(User, String), AccountError> {
    let (username, email) = (spec.username.trim(), spec.email.trim());
    let display_name = spec.display_name.as_str();
    let (roles, must_change) = (&spec.roles, spec.must_change);
    check_username(username).map_err(AccountError::Invalid)?;
    check_separation(roles).map_err(|e| AccountError::Invalid(e.to_string()))?;
    if email
        .chars()
        .any(|c| c.is_whitespace() || c == '<' || c == '>')
        || (!email.is_empty() && email.matches('@').count() != 1)
    {
        return Err(AccountError::Invalid(format!(
            "电子邮箱“{email}”格式不正确"
        )));
    }
    let password = match spec.password.as_deref() {
        Some(p) => {
            let problems = policy.check(username, p);
            if !problems.is_empty() {
                return Err(AccountError::Invalid(problems.join("；")));
            }
            p.to_string()
        }
        None => initial_password(),
    };
    let texts: Vec<String> = roles.iter().map(Role::to_string).collect();
    let display = if display_name.trim().is_empty() {
        username
    } else {
        display_name.trim()
    };
    let mut tx = store.begin().await?;
    tx.create_user(
        &NewUser {
            username: username.to_string(),
            display_name: display.to_string(),
            email: email.to_string(),
            password_hash: hash_password(&password),
            must_change,
        },
        &texts,
    )
    .await
    .map_err(|e| match e {
        StoreError::Invalid(m) => AccountError::Invalid(m),
        other => AccountError::Store(other),
    })?;
    tx.commit(&audit_entry(
        who,
        "user.create",
        &format!("user:{username}"),
        serde_json::json!({"after": {"display_name": display, "email": email, "roles": texts}}),
    ))
    .await?;
    let user = existing(store, username).await?;
    Ok((user, password))
}

async fn existing(store: &Store, username: &str) -> Result<User, AccountError> {
    store
        .user(username)
        .await?
        .ok_or_else(|| AccountError::NoSuchUser(username.to_string()))
}

/// Replaces an account's roles (security administrator).
pub async fn set_roles(
    store: &Store,
    who: &Actor,
    username: &str,
    roles: &[Role],
) -> Result<(), AccountError> {
    let user = existing(store, username).await?;
    check_separation(roles).map_err(|e| AccountError::Invalid(e.to_string()))?;
    let texts: Vec<String> = roles.iter().map(Role::to_string).collect();
    let mut tx = store.begin().await?;
    tx.set_roles(user.id, &texts).await?;
    // A change of rights takes effect at once: sessions carry no roles, but
    // ending them makes the change visible to the user.
    tx.delete_sessions_of(user.id).await?;
    tx.commit(&audit_entry(
        who,
        "user.roles",
        &format!("user:{username}"),
        serde_json::json!({"before": user.roles, "after": texts}),
    ))
    .await?;
    Ok(())
}

// ---- the security administrator's work from the web ---------------------------------------------
//
// 三员分立: the three administrators check one another, so none of them may
// take over another's account from the web — no password reset, no unlock,
// no change of roles for an account that holds an administrator role, and no
// administrator role granted there. That is break-glass work for whoever
// runs the server (`kechuang user reset|unlock|add`), which calls the plain
// functions below and is audited the same way.

/// Refuses web changes to an administrator's account.
fn not_an_administrator(user: &User, what: &str) -> Result<(), AccountError> {
    let admin = user
        .roles
        .iter()
        .filter_map(|r| r.parse::<Role>().ok())
        .any(|r| r.is_admin());
    if admin {
        return Err(AccountError::Forbidden(format!(
            "“{}”是管理员账号，不能在网页上{what}（三员分立）；确有需要时，由运维人员在服务器上使用 kechuang user 命令处理，操作会记入审计日志",
            user.username
        )));
    }
    Ok(())
}

/// The security administrator resets a password from the web (never an
/// administrator's, never their own).
pub async fn admin_reset_password(
    store: &Store,
    caller: &Caller,
    username: &str,
) -> Result<String, AccountError> {
    if !caller.principal.manages_security() {
        return Err(AccountError::Forbidden("您的角色无权重置密码".into()));
    }
    let user = existing(store, username).await?;
    if user.username == caller.principal.username {
        return Err(AccountError::Invalid(
            "不能重置自己的密码，请在“修改密码”页面修改".into(),
        ));
    }
    not_an_administrator(&user, "重置密码")?;
    reset_password(store, &caller.actor, username).await
}

/// The security administrator locks or unlocks an account from the web
/// (unlocking an administrator is refused; locking one is allowed, so that a
/// compromised account can be stopped at once).
pub async fn admin_set_locked(
    store: &Store,
    caller: &Caller,
    username: &str,
    locked: bool,
) -> Result<(), AccountError> {
    if !caller.principal.manages_security() {
        return Err(AccountError::Forbidden("您的角色无权停用或启用账号".into()));
    }
    let user = existing(store, username).await?;
    if user.username == caller.principal.username {
        return Err(AccountError::Invalid("不能停用或启用自己的账号".into()));
    }
    if !locked {
        not_an_administrator(&user, "启用")?;
    }
    set_locked(store, &caller.actor, username, locked).await
}

/// The security administrator changes an account's roles from the web.
pub async fn admin_set_roles(
    store: &Store,
    caller: &Caller,
    username: &str,
    roles: &[Role],
) -> Result<(), AccountError> {
    if !caller.principal.manages_security() {
        return Err(AccountError::Forbidden("您的角色无权分配角色".into()));
    }
    let user = existing(store, username).await?;
    if user.username == caller.principal.username {
        return Err(AccountError::Invalid("不能修改自己的角色".into()));
    }
    not_an_administrator(&user, "修改角色")?;
    if roles.iter().any(Role::is_admin) {
        return Err(AccountError::Forbidden(
            "管理员角色（系统管理员、安全管理员、审计管理员）不能在网页上授予（三员分立）；由运维人员在服务器上使用 kechuang user 命令授予".into(),
        ));
    }
    set_roles(store, &caller.actor, username, roles).await
}

/// Gives an account a new random password that must be changed at the next
/// login; ends its sessions. Returns the password. This is the server's
/// path (the CLI); the web goes through [`admin_reset_password`].
pub async fn reset_password(
    store: &Store,
    who: &Actor,
    username: &str,
) -> Result<String, AccountError> {
    let user = existing(store, username).await?;
    let password = initial_password();
    let mut tx = store.begin().await?;
    tx.set_password(user.id, &hash_password(&password), true)
        .await?;
    tx.delete_sessions_of(user.id).await?;
    tx.commit(&audit_entry(
        who,
        "user.reset",
        &format!("user:{username}"),
        serde_json::json!({}),
    ))
    .await?;
    Ok(password)
}

/// Locks (disables) or unlocks an account; locking ends its sessions.
pub async fn set_locked(
    store: &Store,
    who: &Actor,
    username: &str,
    locked: bool,
) -> Result<(), AccountError> {
    let user = existing(store, username).await?;
    let mut tx = store.begin().await?;
    tx.set_disabled(user.id, locked).await?;
    if locked {
        tx.delete_sessions_of(user.id).await?;
    }
    let action = if locked { "user.lock" } else { "user.unlock" };
    tx.commit(&audit_entry(
        who,
        action,
        &format!("user:{username}"),
        serde_json::json!({"before": {"disabled": user.disabled}, "after": {"disabled": locked}}),
    ))
    .await?;
    Ok(())
}

/// Changes one's own password after checking the current one and the
/// policy; ends every other session. Errors are `(field, message)`.
pub async fn change_password(
    store: &Store,
    who: &Actor,
    policy: &PasswordPolicy,
    username: &str,
    current: &str,
    new: &str,
    repeat: &str,
) -> Result<(), Vec<(&'static str, String)>> {
    let store_err = |_e: StoreError| vec![("", "系统内部错误，请稍后再试".to_string())];
    let user = store
        .user(username)
        .await
        .map_err(store_err)?
        .ok_or_else(|| vec![("", "账号不存在".to_string())])?;
    let mut errors = Vec::new();
    if !verify_password(current, &user.password_hash) {
        errors.push(("current", "当前密码不正确".to_string()));
    }
    let problems = policy.check(username, new);
    if !problems.is_empty() {
        errors.push(("new", problems.join("；")));
    } else if new == current {
        errors.push(("new", "新密码不能与当前密码相同".to_string()));
    }
    if new != repeat {
        errors.push(("repeat", "两次输入的新密码不一致".to_string()));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut tx = store.begin().await.map_err(store_err)?;
    tx.set_password(user.id, &hash_password(new), false)
        .await
        .map_err(store_err)?;
    // Every session ends; the page signs the user in again.
    tx.delete_sessions_of(user.id).await.map_err(store_err)?;
    tx.commit(&audit_entry(
        who,
        "user.password",
        &format!("user:{username}"),
        serde_json::json!({}),
    ))
    .await
    .map_err(store_err)?;
    Ok(())
}

/// Ends a session that was idle past the timeout (the system's doing, not
/// the user's: no audit entry, as before an idle session was never a change
/// of anything but its own row).
pub async fn expire_session(store: &Store, token_hash: &str) -> Result<(), StoreError> {
    store.delete_session(token_hash).await
}

/// Notes that a session was used now (for its idle timeout).
pub async fn touch_session(store: &Store, token_hash: &str) -> Result<(), StoreError> {
    store.touch_session(token_hash).await
}

/// Marks a user's notifications read.
pub async fn mark_notifications_read(store: &Store, user_id: i64) -> Result<(), StoreError> {
    store.mark_notifications_read(user_id).await
}

/// Ends one session (logging out) with its audit entry.
pub async fn logout(store: &Store, who: &Actor, token_hash: &str) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    tx.delete_session(token_hash).await?;
    tx.commit(&audit_entry(
        who,
        "logout",
        &format!("user:{}", who.username),
        serde_json::json!({}),
    ))
    .await
    .map(|_| ())
}

/// Ends every session of an account ("log out everywhere"), with its audit
/// entry; returns how many ended.
pub async fn logout_everywhere(
    store: &Store,
    who: &Actor,
    user_id: i64,
) -> Result<u64, StoreError> {
    let mut tx = store.begin().await?;
    let n = tx.delete_sessions_of(user_id).await?;
    tx.commit(&audit_entry(
        who,
        "logout.all",
        &format!("user:{}", who.username),
        serde_json::json!({"sessions": n}),
    ))
    .await?;
    Ok(n)
}

/// Removes audit entries older than the retention period (never fewer than
/// 180 days); kc-store records the removal in its own MAC'd `audit.prune`
/// entry in the same transaction, and refuses entries younger than that.
pub async fn prune_audit(store: &Store, cfg: &SecurityConfig) -> Result<i64, StoreError> {
    let days = cfg.audit_retention_days.max(kc_store::MIN_RETENTION_DAYS);
    let cutoff = Utc::now() - chrono::Duration::days(days);
    let pruned = store.prune_audit(cutoff, days, "system", "local").await?;
    Ok(pruned.map(|p| p.removed).unwrap_or(0))
}

// ---- demo accounts -------------------------------------------------------------------------------

/// The password of every demo account. Demo databases only: `--demo`
/// creates these accounts without forcing a password change.
pub const DEMO_PASSWORD: &str = "Kechuang@2025";

/// The demo accounts of a plan: the three administrators, the bureau, a
/// leader, a reporter and a reviewer for every department that answers for
/// an indicator and for every area. `(username, display name, role)`.
pub fn demo_accounts(plan: &kc_domain::Plan) -> Vec<(String, String, Role)> {
    let mut out = vec![
        (
            "admin".to_string(),
            "系统管理员".to_string(),
            Role::SysAdmin,
        ),
        (
            "security".to_string(),
            "安全管理员".to_string(),
            Role::SecAdmin,
        ),
        (
            "auditor".to_string(),
            "审计管理员".to_string(),
            Role::AuditAdmin,
        ),
        (
            "kjj".to_string(),
            "市科技局（规划统筹）".to_string(),
            Role::Coordinator,
        ),
        ("leader".to_string(), "市领导".to_string(), Role::Leader),
        (
            "broker".to_string(),
            "技术经纪人（演示）".to_string(),
            Role::Broker,
        ),
        (
            "bank".to_string(),
            "某合作银行蚌埠分行（演示）".to_string(),
            Role::Bank,
        ),
    ];
    for d in &plan.departments {
        if plan
            .indicators
            .iter()
            .any(|i| i.department.as_ref() == Some(&d.code) && i.is_reported())
        {
            out.push((
                format!("{}-reporter", d.code),
                format!("{}填报员", d.name),
                Role::DeptReporter(d.code.clone()),
            ));
            out.push((
                format!("{}-reviewer", d.code),
                format!("{}审核员", d.name),
                Role::DeptReviewer(d.code.clone()),
            ));
        }
    }
    for a in &plan.areas {
        out.push((
            format!("{}-reporter", a.code),
            format!("{}填报员", a.name),
            Role::AreaReporter(a.code.clone()),
        ));
        out.push((
            format!("{}-reviewer", a.code),
            format!("{}审核员", a.name),
            Role::AreaReviewer(a.code.clone()),
        ));
    }
    out
}

/// Creates the demo accounts (all with [`DEMO_PASSWORD`], no forced
/// change) in a database that has no accounts yet; returns how many were
/// created. A database with accounts of its own never gets accounts with a
/// published password, even when started with `--demo`. One hash serves
/// every account so that start-up stays fast.
pub async fn load_demo_accounts(
    store: &Store,
    plan: &kc_domain::Plan,
) -> Result<usize, StoreError> {
    if !store.users().await?.is_empty() {
        return Ok(0);
    }
    let hash = hash_password(DEMO_PASSWORD);
    let mut n = 0;
    for (name, display, role) in demo_accounts(plan) {
        if store.user(&name).await?.is_some() {
            continue;
        }
        store
            .create_user(
                &NewUser {
                    username: name,
                    display_name: display,
                    email: String::new(),
                    password_hash: hash.clone(),
                    must_change: false,
                },
                &[role.to_string()],
            )
            .await?;
        n += 1;
    }
    if n > 0 {
        audit(
            store,
            &Actor::new("demo", "local"),
            "user.demo",
            "users",
            serde_json::json!({"created": n}),
        )
        .await?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("Kechuang#2025");
        let b = hash_password("Kechuang#2025");
        assert_ne!(a, b, "salts differ");
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password("Kechuang#2025", &a));
        assert!(!verify_password("kechuang#2025", &a));
        assert!(!verify_password("x", "not a hash"));
        // The dummy is a real hash with the same parameters, so checking
        // against it costs what checking a real one does.
        let dummy = PasswordHash::new(dummy_hash()).expect("the dummy hash parses");
        assert_eq!(
            dummy.params,
            PasswordHash::new(&a).expect("a real hash parses").params
        );
        assert!(!verify_password("Kechuang#2025", dummy_hash()));
    }

    #[test]
    fn initial_passwords_pass_the_policy() {
        for _ in 0..50 {
            let p = initial_password();
            assert!(
                PasswordPolicy::default().check("someone", &p).is_empty(),
                "{p}"
            );
        }
    }

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a).len(), 64);
    }
}
