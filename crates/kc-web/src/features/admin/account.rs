//! Signing in and out, changing one's password, and the home page with
//! each user's plans, duties and notifications.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kc_app::auth::LoginError;
use kc_domain::duty::DutyState;

use crate::auth::{Session, session_cookie};
use crate::error::AppError;
use crate::extract::FormBody;
use crate::{AppState, Params};

fn render<T: Template>(t: &T) -> Result<Html<String>, AppError> {
    Ok(Html(t.render()?))
}

/// The signed-in user as the page header shows them, with the CSRF token
/// every form on the page carries.
#[derive(Debug, Clone, Default)]
pub struct Me {
    pub name: String,
    pub roles: String,
    /// The roles as shown after the name, in brackets, or nothing when the
    /// name already says them (市科技局（规划统筹）).
    pub roles_shown: String,
    pub csrf: String,
    pub reports: bool,
    pub reviews: bool,
    pub board: bool,
    pub business: bool,
    /// May use the technology market (business readers and brokers).
    pub market: bool,
    /// May see the tech-enterprise whitelist (business readers and banks).
    pub whitelist: bool,
    pub users: bool,
    pub audit: bool,
    /// May edit some registry records.
    pub records: bool,
    pub coordinator: bool,
    /// The part of the guide (操作指南) for this reader's first role.
    pub guide: &'static str,
    /// The navigation: the same items on every page for this reader.
    pub menu: Vec<crate::menu::MenuItem>,
}

impl Me {
    pub fn new(s: &Session, plan: Option<&kc_domain::Plan>) -> Me {
        let p = &s.principal;
        let roles = p
            .roles
            .iter()
            .map(|r| r.zh(plan))
            .collect::<Vec<_>>()
            .join("、");
        Me {
            name: p.display_name.clone(),
            roles_shown: if roles.is_empty() || p.display_name.contains(&roles) {
                String::new()
            } else {
                format!("（{roles}）")
            },
            roles,
            csrf: s.csrf.clone(),
            reports: p.reports_any(),
            reviews: p.reviews_any(),
            board: p.reads_all(),
            business: p.reads_business(),
            market: p.reads_market(),
            whitelist: p.reads_whitelist(),
            users: p.manages_accounts() || p.manages_security(),
            audit: p.reads_audit(),
            records: p.edits_records(),
            coordinator: p.is_coordinator(),
            guide: p.roles.first().map_or("", guide_anchor),
            menu: crate::menu::menu(p, plan, kc_app::time::today_beijing()),
        }
    }
}

/// The guide's section for a role (its anchor on `/guide`).
pub fn guide_anchor(r: &kc_domain::auth::Role) -> &'static str {
    use kc_domain::auth::Role as R;
    match r {
        R::SysAdmin => "sysadmin",
        R::SecAdmin => "secadmin",
        R::AuditAdmin => "auditadmin",
        R::Coordinator => "coordinator",
        R::Leader => "leader",
        R::DeptReporter(_) => "dept-reporter",
        R::DeptReviewer(_) => "dept-reviewer",
        R::AreaReporter(_) => "area-reporter",
        R::AreaReviewer(_) => "area-reviewer",
        R::Broker => "broker",
        R::Bank => "bank",
    }
}

#[derive(Template)]
#[template(path = "guide.html")]
pub struct GuidePage;

/// `GET /guide`: the guide for every role (操作指南), open without signing
/// in; the header links each reader to the part for their role.
pub async fn guide() -> Result<Html<String>, AppError> {
    Ok(Html(GuidePage.render()?))
}

// ---- login ---------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub username: String,
    pub next: String,
    pub message: String,
    pub notice: String,
}

/// Only local paths are followed after login, so a crafted link cannot send
/// a user to another site.
/// Where to go after signing in: only a path on this site. Browsers read
/// `//host`, `/\\host` and `/<tab>/host` (they drop tabs and line breaks)
/// as another site, so the path is refused if it, or its percent-decoded
/// form, starts with two slashes or holds a backslash, a control character
/// or a space; a refused path means the home page.
pub(crate) fn safe_next(next: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(next).decode_utf8_lossy();
    let plain = |p: &str| {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p.contains('\\')
            && !p.chars().any(|c| c.is_control() || c.is_whitespace())
            && kc_domain::text::first_forbidden(p).is_none()
    };
    if plain(next) && plain(&decoded) {
        next.to_string()
    } else {
        "/".to_string()
    }
}

/// Whether a sign-in form was posted from this site. A browser names the
/// page's origin (or at least its address) on every cross-site POST; a
/// form on another site that signs the visitor in to the attacker's
/// account (login CSRF) is refused. Clients that send neither header
/// (scripts) are not browsers and cannot be made to post by a page. Behind
/// a reverse proxy, the proxy passes `Host` or `X-Forwarded-Host`.
pub(crate) fn posted_from_here(headers: &axum::http::HeaderMap) -> bool {
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    let hosts: Vec<&str> = [get("host"), get("x-forwarded-host")]
        .into_iter()
        .flatten()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect();
    let from = match (get("origin"), get("referer")) {
        (Some(o), _) => o,
        (None, Some(r)) => r,
        (None, None) => return true,
    };
    match url::Url::parse(from) {
        Ok(u) => {
            let authority = match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_string(),
                (None, _) => return false,
            };
            hosts.iter().any(|h| h.eq_ignore_ascii_case(&authority))
        }
        // `Origin: null` (a sandboxed frame, a file) is not this site.
        Err(_) => false,
    }
}

pub async fn login_form(q: Params) -> Result<Html<String>, AppError> {
    let notice = if q.contains_key("expired") {
        "会话已超时，请重新登录。"
    } else if q.contains_key("out") {
        "您已退出登录。"
    } else {
        ""
    };
    render(&LoginPage {
        username: String::new(),
        next: safe_next(q.get("next").map(String::as_str).unwrap_or("/")),
        message: String::new(),
        notice: notice.into(),
    })
}

/// The sign-in form.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LoginForm {
    username: String,
    password: String,
    /// Where to go after signing in; only a path on this site is followed.
    next: Option<String>,
}

pub async fn login(
    State(st): State<AppState>,
    parts: axum::http::request::Parts,
    FormBody(f): FormBody<LoginForm>,
) -> Result<Response, AppError> {
    if !posted_from_here(&parts.headers) {
        return Err(AppError::Forbidden(
            "登录请求来自其他网站，已拒绝。请直接打开本系统的登录页面登录。".into(),
        ));
    }
    let username = f.username.trim().to_string();
    let password = f.password;
    let next = safe_next(f.next.as_deref().unwrap_or("/"));
    let ip = crate::auth::client_ip(
        &parts.extensions,
        &parts.headers,
        &st.security.trusted_proxies,
    );
    let fail = |message: String, status: StatusCode| -> Result<Response, AppError> {
        let page = LoginPage {
            username: username.clone(),
            next: next.clone(),
            message,
            notice: String::new(),
        };
        Ok((status, render(&page)?).into_response())
    };
    if username.is_empty() || password.is_empty() {
        return fail(
            "请输入用户名和密码".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match kc_app::auth::login(
        &st.store,
        &st.security,
        &st.throttle,
        &username,
        &password,
        &ip,
    )
    .await
    {
        Ok(s) => {
            let to = if s.user.must_change {
                "/account/password".to_string()
            } else {
                next.clone()
            };
            let mut resp = Redirect::to(&to).into_response();
            resp.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&session_cookie(&s.token, st.security.secure_cookies))
                    .map_err(|_| AppError::Internal("cookie".into()))?,
            );
            Ok(resp)
        }
        Err(LoginError::Store(e)) => Err(AppError::Store(e)),
        Err(e @ LoginError::Throttled(_)) => fail(e.to_string(), StatusCode::TOO_MANY_REQUESTS),
        Err(e) => fail(e.to_string(), StatusCode::UNAUTHORIZED),
    }
}

/// `POST /api/v1/session` `{"username", "password"}`: signs in for scripts;
/// answers with the CSRF token to send as `X-CSRF-Token` and sets the
/// session cookie.
pub async fn api_login(
    State(st): State<AppState>,
    parts: axum::http::request::Parts,
    body: axum::body::Bytes,
) -> Response {
    let headers = &parts.headers;
    let json = crate::extract::is_json(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    if !json {
        return crate::error::ApiError(AppError::UnsupportedMediaType(
            "请以 application/json 提交 {\"username\", \"password\"}".into(),
        ))
        .into_response();
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Credentials {
        username: String,
        password: String,
    }
    let creds: Credentials = match crate::extract::parse(&body) {
        Ok(c) => c,
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let (u, p) = (creds.username, creds.password);
    let ip = crate::auth::client_ip(
        &parts.extensions,
        &parts.headers,
        &st.security.trusted_proxies,
    );
    match kc_app::auth::login(&st.store, &st.security, &st.throttle, u.trim(), &p, &ip).await {
        Ok(s) => {
            let body = serde_json::json!({
                "user": s.user.username, "roles": s.user.roles, "csrf": s.csrf,
                "must_change_password": s.user.must_change,
            });
            let mut resp = axum::Json(body).into_response();
            if let Ok(v) =
                HeaderValue::from_str(&session_cookie(&s.token, st.security.secure_cookies))
            {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
            resp
        }
        Err(LoginError::Store(e)) => crate::error::ApiError(AppError::Store(e)).into_response(),
        Err(e) => {
            let status = if matches!(e, LoginError::Throttled(_)) {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::UNAUTHORIZED
            };
            (
                status,
                axum::Json(serde_json::json!({"error": {"code": "unauthorized", "message": e.to_string()}})),
            )
                .into_response()
        }
    }
}

/// `GET /api/v1/session`: who is signed in, and the CSRF token.
pub async fn api_session(sess: Session) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "user": sess.principal.username,
        "roles": sess.principal.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        "csrf": sess.csrf,
    }))
}

pub async fn logout(State(st): State<AppState>, sess: Session) -> Result<Response, AppError> {
    kc_app::auth::logout(&st.store, &sess.actor(), &sess.token_hash).await?;
    Ok(clear_cookie(&st, "/login?out=1"))
}

fn clear_cookie(st: &AppState, to: &str) -> Response {
    let mut resp = Redirect::to(to).into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie("", st.security.secure_cookies)) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// Ends every session of the user, on every device.
pub async fn logout_all(State(st): State<AppState>, sess: Session) -> Result<Response, AppError> {
    kc_app::auth::logout_everywhere(&st.store, &sess.actor(), sess.user_id).await?;
    Ok(clear_cookie(&st, "/login?out=1"))
}

// ---- password --------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "password.html")]
pub struct PasswordPage {
    pub me: Me,
    pub forced: bool,
    pub errors: HashMap<&'static str, String>,
    pub policy: String,
    pub done: bool,
}

impl PasswordPage {
    pub fn err(&self, f: &str) -> &str {
        self.errors.get(f).map(String::as_str).unwrap_or("")
    }
}

fn policy_text(st: &AppState) -> String {
    let p = st.security.password;
    format!(
        "至少 {} 位，包含小写字母、大写字母、数字、符号中的至少 {} 类，不能包含用户名。",
        p.min_len, p.min_classes
    )
}

pub async fn password_form(
    State(st): State<AppState>,
    sess: Session,
    q: Params,
) -> Result<Html<String>, AppError> {
    render(&PasswordPage {
        me: Me::new(&sess, None),
        forced: sess.must_change,
        errors: HashMap::new(),
        policy: policy_text(&st),
        done: q.contains_key("done"),
    })
}

/// Changing one's own password.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordForm {
    current: String,
    new: String,
    repeat: String,
}

pub async fn change_password(
    State(st): State<AppState>,
    sess: Session,
    FormBody(f): FormBody<PasswordForm>,
) -> Result<Response, AppError> {
    let r = kc_app::auth::change_password(
        &st.store,
        &sess.actor(),
        &st.security.password,
        &sess.principal.username,
        &f.current,
        &f.new,
        &f.repeat,
    )
    .await;
    match r {
        Ok(()) => {
            // Every session ended with the change; this one starts afresh.
            Ok(clear_cookie(
                &st,
                "/login?next=/account/password%3Fdone%3D1",
            ))
        }
        Err(errors) => {
            let page = PasswordPage {
                me: Me::new(&sess, None),
                forced: sess.must_change,
                errors: errors.into_iter().collect(),
                policy: policy_text(&st),
                done: false,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
    }
}

// ---- home --------------------------------------------------------------------------------------

pub struct PlanCard {
    pub code: String,
    pub name: String,
    pub city: String,
    pub period: String,
    pub status: &'static str,
    pub version: i64,
    pub loaded_at: String,
    pub targets: usize,
    pub levels: String,
    /// The user's open duties in this plan: overdue, due, returned.
    pub overdue: usize,
    pub due: usize,
    pub returned: usize,
    /// Values waiting for this user's review.
    pub to_review: usize,
}

pub struct NoteView {
    pub at: String,
    pub title: String,
    pub body: String,
    pub href: String,
    pub read: bool,
}

#[derive(Template)]
#[template(path = "plans.html")]
pub struct HomePage {
    pub me: Me,
    pub plans: Vec<PlanCard>,
    /// Plans whose market a market-only user (a broker) may use: code, name.
    pub markets: Vec<(String, String)>,
    pub notes: Vec<NoteView>,
}

pub async fn home(State(st): State<AppState>, sess: Session) -> Result<Html<String>, AppError> {
    let p = &sess.principal;
    let mut plans = Vec::new();
    let stored = st.store.plans().await?;
    if p.reads_business() {
        for s in &stored {
            let rows = kc_app::workflow::duty_rows(&st.store, &s.plan, st.today()).await?;
            let mine = kc_app::workflow::duties_of(&rows, p);
            let count = |x: DutyState| mine.iter().filter(|r| r.state == x).count();
            let to_review = rows
                .iter()
                .filter(|r| {
                    r.state == DutyState::Submitted
                        && r.value.as_ref().is_some_and(|v| {
                            p.can_review(
                                &s.plan,
                                kc_domain::auth::ValueKey {
                                    indicator: &v.indicator,
                                    scope: &v.scope,
                                },
                            ) && v.entered_by != p.username
                        })
                })
                .count();
            plans.push(PlanCard {
                code: s.plan.code.to_string(),
                name: s.plan.name.clone(),
                city: s.plan.city.clone(),
                period: format!("{} 至 {}", s.plan.period.start, s.plan.period.end),
                status: s.plan.status.zh(),
                version: s.version.version,
                loaded_at: s.version.loaded_at.chars().take(10).collect(),
                targets: s.plan.targets.len(),
                levels: s
                    .plan
                    .level_counts()
                    .into_iter()
                    .map(|(l, n)| format!("{n} 个{l}"))
                    .collect::<Vec<_>>()
                    .join("、"),
                overdue: if p.is_coordinator() || p.reports_any() {
                    count(DutyState::Overdue)
                } else {
                    0
                },
                due: if p.reports_any() {
                    count(DutyState::Due) + count(DutyState::Draft)
                } else {
                    0
                },
                returned: if p.reports_any() {
                    count(DutyState::Returned)
                } else {
                    0
                },
                to_review,
            });
        }
    }
    let notes = st
        .store
        .notifications(sess.user_id, 20)
        .await?
        .into_iter()
        .map(|n| NoteView {
            at: kc_app::auth::local_time(&n.at),
            title: n.title,
            body: n.body,
            href: n.href,
            read: n.read,
        })
        .collect();
    let markets = if (p.reads_market() || p.reads_whitelist()) && !p.reads_business() {
        stored
            .iter()
            .map(|s| (s.plan.code.to_string(), s.plan.name.clone()))
            .collect()
    } else {
        Vec::new()
    };
    let mut me = Me::new(&sess, stored.first().map(|s| &s.plan));
    // The home page lists every plan; its menu belongs to none of them.
    me.menu = crate::menu::menu(&sess.principal, None, kc_app::time::today_beijing());
    render(&HomePage {
        me,
        plans,
        markets,
        notes,
    })
}

pub async fn notifications_read(
    State(st): State<AppState>,
    sess: Session,
) -> Result<Response, AppError> {
    kc_app::auth::mark_notifications_read(&st.store, sess.user_id).await?;
    Ok(Redirect::to("/").into_response())
}

/// This feature's routes; `crate::router` merges them behind the session guard.
pub(crate) fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/", get(self::home))
        .route("/login", get(self::login_form).post(self::login))
        .route("/logout", post(self::logout))
        .route(
            "/account/password",
            get(self::password_form).post(self::change_password),
        )
        .route("/account/logout-all", post(self::logout_all))
        .route("/notifications/read", post(self::notifications_read))
        .route(
            "/api/v1/session",
            get(self::api_session).post(self::api_login),
        )
}
