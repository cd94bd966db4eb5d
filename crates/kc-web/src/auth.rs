//! Sessions and their guard. Every request except the login page, static
//! files and the health check passes `guard`: it finds the session from the
//! cookie, ends it after the idle timeout, checks the CSRF token of every
//! state-changing request, sends users who must change their password to
//! that page, and puts the [`Session`] in the request for handlers.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use kc_app::auth::{Caller, token_hash};
use kc_domain::auth::Principal;

use crate::error::{ApiError, AppError};
use crate::{AppState, BODY_LIMIT};

pub const COOKIE: &str = "kc_session";
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub principal: Principal,
    pub csrf: String,
    pub token_hash: String,
    pub ip: String,
    pub must_change: bool,
}

impl Session {
    pub fn caller(&self) -> Caller {
        Caller::new(self.principal.clone(), &self.ip)
    }

    pub fn actor(&self) -> kc_app::auth::Actor {
        kc_app::auth::Actor::new(&self.principal.username, &self.ip)
    }

    /// `Forbidden` unless `ok`.
    pub fn require(&self, ok: bool, what: &str) -> Result<(), AppError> {
        if ok {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("您的角色无权{what}")))
        }
    }

    /// Plan pages, registries and published values.
    pub fn require_business(&self) -> Result<(), AppError> {
        self.require(self.principal.reads_business(), "查看规划和业务数据")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| AppError::Unauthorized("请先登录".into()))
    }
}

/// The client's address: the socket's peer, or, when the peer is one of
/// the configured reverse proxies, the last address the proxy put in
/// `X-Forwarded-For` (the one it saw; earlier entries are the client's
/// word and can be forged).
pub fn client_ip(
    ext: &axum::http::Extensions,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> String {
    let Some(peer) = ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip()) else {
        return "unknown".into();
    };
    if trusted.contains(&peer)
        && let Some(fwd) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<std::net::IpAddr>().ok())
    {
        return fwd.to_string();
    }
    peer.to_string()
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The `Set-Cookie` value for a session token (or for removing it).
pub fn session_cookie(token: &str, secure: bool) -> String {
    let max_age = if token.is_empty() { "; Max-Age=0" } else { "" };
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}")
}

fn is_public(path: &str) -> bool {
    path == "/login"
        || path == "/guide"
        || path == "/healthz"
        || path.starts_with("/static/")
        || path.starts_with("/public/")
        || path == crate::features::api::docs::SPEC
        || path == crate::features::api::docs::PAGE
        || path.starts_with(crate::features::api::docs::PAGE_FILES)
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Equal strings, compared in time that does not depend on where they
/// differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Where an unauthenticated request goes: the login page for pages (with
/// the page to return to), 401 JSON for the API.
fn to_login(path_and_query: &str, api: bool, reason: &str) -> Response {
    if api {
        return ApiError(AppError::Unauthorized(reason.into())).into_response();
    }
    // The page to return to, with its slashes kept so that it reads as a
    // path ("/login?next=/plans/..."); '/' is allowed in a query value.
    let next = url_encode(path_and_query).replace("%2F", "/");
    let expired = if reason.contains("超时") {
        "&expired=1"
    } else {
        ""
    };
    Redirect::to(&format!("/login?next={next}{expired}")).into_response()
}

/// What [`url_encode`] leaves as it is: the unreserved characters of
/// RFC 3986 (letters, digits, `-`, `_`, `.`, `~`).
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes text (as UTF-8) for a query value, a path segment or an
/// RFC 5987 `filename*`: the one URL encoder of the web crate.
pub fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// The guard described at the top of this module.
pub async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    // Signing in through the API needs no session; its JSON content type
    // cannot be sent by another site's form, which keeps login CSRF out.
    let api_login = path == "/api/v1/session" && req.method() == Method::POST;
    if is_public(&path) || api_login {
        return next.run(req).await;
    }
    let api = is_api(&path);
    let pq = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let Some(token) = cookie_value(req.headers(), COOKIE).filter(|t| !t.is_empty()) else {
        return to_login(&pq, api, "请先登录");
    };
    let hash = token_hash(&token);
    // Our own logouts and role changes reach the session cache first.
    if let Err(e) = st.model.sync_local().await {
        return AppError::Store(e).into_response();
    }
    let idle = chrono::Duration::minutes(st.security.idle_minutes);
    let now = st.clock.now();
    let idle_since = |row: &kc_app::store::SessionRow| {
        let last = chrono::DateTime::parse_from_rfc3339(&row.last_seen)
            .map(|d| d.with_timezone(&chrono::Utc))
            .unwrap_or_else(|_| now - idle - idle);
        now - last
    };
    let mut row = st.sessions.get(&hash);
    // A cached session that looks idle may have been used through another
    // server process: the database decides.
    if row.as_ref().is_none_or(|r| idle_since(r) > idle) {
        row = match st.store.session(&hash).await {
            Ok(r) => r,
            Err(e) => return AppError::Store(e).into_response(),
        };
        if let Some(r) = &row {
            st.sessions.put(&hash, r.clone());
        }
    }
    let Some(row) = row else {
        return to_login(&pq, api, "登录已失效，请重新登录");
    };
    if idle_since(&row) > idle || row.user.disabled {
        st.sessions.forget(&hash);
        let _ = kc_app::auth::expire_session(&st.store, &hash).await;
        return to_login(&pq, api, "会话已超时，请重新登录");
    }
    // Writing on every request would double the database load; a minute's
    // precision is enough for an idle timeout counted in minutes.
    if idle_since(&row) > chrono::Duration::seconds(60) {
        let _ = kc_app::auth::touch_session(&st.store, &hash).await;
        st.sessions.touched(&hash, &kc_app::store::now_text());
    }
    let ip = client_ip(
        req.extensions(),
        req.headers(),
        &st.security.trusted_proxies,
    );
    let session = Session {
        user_id: row.user.id,
        principal: kc_app::auth::principal(&row.user),
        csrf: row.csrf.clone(),
        token_hash: hash,
        ip,
        must_change: row.user.must_change,
    };
    let method = req.method().clone();
    let safe = matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let mut req = req;
    if !safe {
        match check_csrf(req, &session.csrf).await {
            Ok(r) => req = r,
            Err(resp) => return resp,
        }
    }
    if session.must_change && !(path == "/account/password" || path == "/logout") {
        if api {
            return ApiError(AppError::Forbidden(
                "初始密码须先修改：请在页面上修改密码后再使用接口".into(),
            ))
            .into_response();
        }
        return Redirect::to("/account/password").into_response();
    }
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// Checks the CSRF token: the `X-CSRF-Token` header, a `_csrf` query
/// parameter (multipart uploads, whose body is not read here) or the `_csrf`
/// field of a URL-encoded form. The form body is read and put back.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, Response> {
    let api = is_api(req.uri().path());
    let refuse = || {
        let e =
            AppError::Forbidden("表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试".into());
        if api {
            ApiError(e).into_response()
        } else {
            e.into_response()
        }
    };
    if let Some(h) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if same(h, expected) {
            Ok(req)
        } else {
            Err(refuse())
        };
    }
    if let Some(q) = req.uri().query()
        && let Some(v) = form_field(q.as_bytes(), CSRF_FIELD)
    {
        return if same(&v, expected) {
            Ok(req)
        } else {
            Err(refuse())
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refuse());
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return Err(AppError::BadRequest(format!(
                "提交的内容过大（上限 {} KB）",
                BODY_LIMIT / 1024
            ))
            .into_response());
        }
    };
    match form_field(&bytes, CSRF_FIELD) {
        Some(v) if same(&v, expected) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(refuse()),
    }
}

/// One field of a URL-encoded form or query string.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// 403 as a page or as JSON.
pub fn forbidden(api: bool, msg: &str) -> Response {
    let e = AppError::Forbidden(msg.into());
    if api {
        ApiError(e).into_response()
    } else {
        (StatusCode::FORBIDDEN, e).into_response()
    }
}

/// Sessions read from the database, kept for a few seconds so that most
/// requests need no query. Logouts, role changes, locks and password
/// changes are events: this process drops the user's entries before its
/// next request, other processes within the time they follow events
/// (`crate::FOLLOW_EVERY`); the short lifetime bounds anything else.
#[derive(Default)]
pub struct SessionCache {
    map: std::sync::Mutex<HashMap<String, (kc_app::store::SessionRow, std::time::Instant)>>,
}

/// How long a cached session is trusted without reading it again: what
/// another process did to it that no event says (none today) shows after at
/// most this long.
const SESSION_TTL: std::time::Duration = std::time::Duration::from_secs(5);

impl SessionCache {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (kc_app::store::SessionRow, std::time::Instant)>>
    {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get(&self, hash: &str) -> Option<kc_app::store::SessionRow> {
        self.lock()
            .get(hash)
            .filter(|(_, at)| at.elapsed() < SESSION_TTL)
            .map(|(r, _)| r.clone())
    }

    fn put(&self, hash: &str, row: kc_app::store::SessionRow) {
        let mut m = self.lock();
        if m.len() > 100_000 {
            m.clear();
        }
        m.insert(hash.to_string(), (row, std::time::Instant::now()));
    }

    fn touched(&self, hash: &str, at: &str) {
        if let Some((r, _)) = self.lock().get_mut(hash) {
            r.last_seen = at.to_string();
        }
    }

    pub fn forget(&self, hash: &str) {
        self.lock().remove(hash);
    }

    /// Applies a user event: `user:ID` drops that user's sessions,
    /// `session:HASH` one session.
    pub fn apply(&self, object: &str) {
        if let Some(hash) = object.strip_prefix("session:") {
            self.forget(hash);
        } else if let Some(id) = object
            .strip_prefix("user:")
            .and_then(|s| s.parse::<i64>().ok())
        {
            self.lock().retain(|_, (r, _)| r.user.id != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::url_encode;

    #[test]
    fn url_encode_keeps_only_unreserved_characters() {
        assert_eq!(url_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(
            url_encode("a b/c?d=e&f#g%+"),
            "a%20b%2Fc%3Fd%3De%26f%23g%25%2B"
        );
        assert_eq!(url_encode("报告.pdf"), "%E6%8A%A5%E5%91%8A.pdf");
        let back: String =
            url::form_urlencoded::parse(format!("k={}", url_encode("a/b 张")).as_bytes())
                .map(|(_, v)| v.into_owned())
                .collect();
        assert_eq!(back, "a/b 张");
    }
}
