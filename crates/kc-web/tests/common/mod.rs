//! A fresh server per test: a new database (SQLite, or a new PostgreSQL
//! schema), the Bengbu plan and its demo history, and the real HTTP server
//! on port 0.

#![allow(dead_code)]

use chrono::NaiveDate;
use kc_store::testkit::{self, TestDb};

pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    pub http: reqwest::Client,
    /// Mail the server sent, when it was started with a local SMTP listener.
    pub mail: Option<
        tokio::sync::Mutex<
            tokio::sync::mpsc::UnboundedReceiver<kc_app::mail::testing::ReceivedMail>,
        >,
    >,
    server: tokio::task::JoinHandle<()>,
    /// The server's clock, to make time pass.
    pub clock: std::sync::Arc<kc_app::time::Clock>,
}

pub const PLAN: &str = "bengbu-2023-2025";

impl TestApp {
    pub async fn sqlite() -> TestApp {
        Self::start(testkit::sqlite().await).await
    }

    /// `None` when no PostgreSQL server is configured for tests.
    #[allow(dead_code)]
    pub async fn postgres() -> Option<TestApp> {
        Some(Self::start(testkit::postgres().await?).await)
    }

    async fn start(db: TestDb) -> TestApp {
        Self::start_with(db, |s| s).await
    }

    /// The default server (for the test macros).
    pub async fn start_default(db: TestDb) -> TestApp {
        Self::start(db).await
    }

    /// A server whose state is adjusted by `f` (security settings, SMTP).
    pub async fn start_with(
        db: TestDb,
        f: impl FnOnce(kc_web::AppState) -> kc_web::AppState,
    ) -> TestApp {
        // The tests live on 2025-10-20: the demo as it was then, a plan in
        // its last quarter (history to 2025-09-30, no next plan yet).
        let today = NaiveDate::from_ymd_opt(2025, 10, 20).unwrap();
        kc_app::load_demo_at(&db.store, today)
            .await
            .expect("demo data loads");
        let state = f(kc_web::AppState::new(db.store.clone()).with_today(today));
        let clock = state.clock.clone();
        let (listener, addr) = kc_web::bind("127.0.0.1:0").await.expect("bind port 0");
        let server = tokio::spawn(async move {
            let _ = kc_web::serve_forever(listener, state).await;
        });
        let base = format!("http://{addr}");
        let http = signed_in(&base, "kjj").await;
        TestApp {
            base,
            db,
            http,
            mail: None,
            server,
            clock,
        }
    }

    /// A server that sends its mail to a local SMTP listener (`app.mail`).
    pub async fn with_mail(db: TestDb) -> TestApp {
        let (port, rx) = kc_app::mail::testing::listener().await;
        let smtp = kc_app::mail::SmtpConfig::parse(
            &format!("smtp://127.0.0.1:{port}"),
            "kechuang@kjj.bengbu.gov.cn",
        )
        .unwrap();
        let mut app = TestApp::start_with(db, |s| s.with_smtp(Some(smtp))).await;
        app.mail = Some(tokio::sync::Mutex::new(rx));
        app
    }

    /// A client signed in as `user` (a demo account), sending its session
    /// cookie and CSRF token with every request.
    pub async fn client_as(&self, user: &str) -> reqwest::Client {
        signed_in(&self.base, user).await
    }

    /// A client with no session.
    pub fn anonymous(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let r = self.http.get(self.url(path)).send().await.expect("GET");
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }

    /// GETs a JSON document that must answer 200.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let r = self.http.get(self.url(path)).send().await.expect("GET");
        assert_eq!(r.status().as_u16(), 200, "GET {path}");
        r.json().await.expect("JSON body")
    }

    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = self
            .http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    /// The body of a GET by `client` (any status).
    pub async fn text_as(&self, client: &reqwest::Client, path: &str) -> String {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("a text body")
    }

    pub async fn stop(self) {
        self.server.abort();
        self.db.cleanup().await;
    }
}

/// Signs in through the API and returns a client that carries the session.
pub async fn signed_in(base: &str, user: &str) -> reqwest::Client {
    signed_in_with(base, user, kc_app::auth::DEMO_PASSWORD).await
}

/// The same with a given password.
pub async fn signed_in_with(base: &str, user: &str, password: &str) -> reqwest::Client {
    let (cookie, csrf) = sign_in(base, user, password)
        .await
        .unwrap_or_else(|s| panic!("{user} cannot sign in: {s}"));
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(reqwest::header::COOKIE, cookie.parse().unwrap());
    h.insert("x-csrf-token", csrf.parse().unwrap());
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(h)
        .build()
        .unwrap()
}

/// Signs in; returns the `Cookie` header value and the CSRF token, or the
/// status and body of the refusal.
pub async fn sign_in(base: &str, user: &str, password: &str) -> Result<(String, String), String> {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": user, "password": password}))
        .send()
        .await
        .expect("POST /api/v1/session");
    let status = r.status().as_u16();
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let body: serde_json::Value = r.json().await.unwrap_or_default();
    match (status, cookie) {
        (200, Some(c)) => Ok((c, body["csrf"].as_str().unwrap_or("").to_string())),
        _ => Err(format!("{status} {body}")),
    }
}

/// Runs each named case `async fn case(app: &TestApp)` once on SQLite and
/// once on PostgreSQL (skipped, with a note, when no server is configured).
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        on_both_backends!(@start super::TestApp::start_default; $($case),*);
    };
    (@start $start:path; $($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let app = $start(kc_store::testkit::sqlite().await).await;
                    super::$case(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(db) = kc_store::testkit::postgres().await else {
                        eprintln!("KECHUANG_TEST_PG_URL not set: PostgreSQL case skipped");
                        return;
                    };
                    let app = $start(db).await;
                    super::$case(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}
