//! Errors as users and logs see them. Users get a clear Chinese message and
//! the right status code; the log gets the cause chain. Internal detail
//! (SQL, driver messages) never reaches a page or an API response.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use kc_app::store::{StoreError, ValueRecord};
use kc_domain::entry::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("提交的内容有误")]
    Invalid(Vec<FieldError>),
    /// A request body's fields (by path) and what is wrong with each.
    #[error("提交的内容有误")]
    InvalidFields(Vec<(String, String)>),
    /// The body is not in a format the endpoint takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is larger than the server takes.
    #[error("{0}")]
    TooLarge(String),
    #[error("该数据已被他人修改")]
    Conflict(Box<ValueRecord>),
    /// Signed in, but not allowed; the text says what was refused.
    #[error("{0}")]
    Forbidden(String),
    /// Not signed in (or the session ended).
    #[error("{0}")]
    Unauthorized(String),
    /// The request's state does not allow the step (approving twice…).
    #[error("{0}")]
    State(String),
    #[error("系统内部错误")]
    Store(#[from] StoreError),
    #[error("系统内部错误")]
    Render(#[from] askama::Error),
    /// Anything else that must not happen; the text goes to the log only.
    #[error("系统内部错误：{0}")]
    Internal(String),
}

impl From<kc_app::RecordError> for AppError {
    fn from(e: kc_app::RecordError) -> Self {
        use kc_app::RecordError as R;
        match e {
            R::Invalid(f) => AppError::Invalid(f),
            R::Conflict(c) => AppError::Conflict(c),
            R::Forbidden(m) => AppError::Forbidden(m),
            R::State(m) => AppError::State(m),
            R::NotFound => AppError::NotFound("数据不存在".into()),
            R::Store(e) => AppError::Store(e),
        }
    }
}

impl From<kc_app::registries::RecordCmdError> for AppError {
    fn from(e: kc_app::registries::RecordCmdError) -> Self {
        use kc_app::registries::RecordCmdError as R;
        match e {
            R::Invalid(cells) => AppError::InvalidFields(
                cells
                    .into_iter()
                    .map(|c| (c.field, format!("{}：{}", c.label, c.reason)))
                    .collect(),
            ),
            R::Forbidden(what) => AppError::Forbidden(format!("您的角色无权{what}")),
            R::NotFound(name) => AppError::NotFound(format!("{name}中没有这条记录")),
            R::Refused(m) => AppError::BadRequest(m),
            R::State(m) => AppError::State(m),
            R::Store(s) => AppError::Store(s),
        }
    }
}

impl From<kc_app::auth::AccountError> for AppError {
    fn from(e: kc_app::auth::AccountError) -> Self {
        use kc_app::auth::AccountError as A;
        match e {
            A::Invalid(m) => AppError::BadRequest(m),
            A::NoSuchUser(u) => AppError::NotFound(format!("用户“{u}”不存在")),
            A::Forbidden(m) => AppError::Forbidden(m),
            A::Store(e) => AppError::Store(e),
        }
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) | AppError::InvalidFields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Conflict(_) | AppError::State(_) => StatusCode::CONFLICT,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Store(StoreError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Store(_) | AppError::Render(_) | AppError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The message shown to users.
    pub fn user_message(&self) -> String {
        match self {
            AppError::Store(StoreError::Invalid(m)) => m.clone(),
            AppError::Store(_) | AppError::Render(_) => {
                "系统内部错误，请稍后再试；如果问题持续，请联系系统管理员。".to_string()
            }
            AppError::Invalid(errors) => errors
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("；"),
            AppError::InvalidFields(fields) => fields
                .iter()
                .map(|(f, m)| {
                    if f.is_empty() {
                        m.clone()
                    } else {
                        format!("{f}：{m}")
                    }
                })
                .collect::<Vec<_>>()
                .join("；"),
            other => other.to_string(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::BadRequest(_) => "bad_request",
            AppError::Invalid(_)
            | AppError::InvalidFields(_)
            | AppError::Store(StoreError::Invalid(_)) => "invalid",
            AppError::UnsupportedMediaType(_) => "unsupported_media_type",
            AppError::TooLarge(_) => "too_large",
            AppError::Conflict(_) => "conflict",
            AppError::State(_) => "state",
            AppError::Forbidden(_) => "forbidden",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Store(_) | AppError::Render(_) | AppError::Internal(_) => "internal",
        }
    }

    fn log(&self) {
        if self.status().is_server_error() {
            // The whole cause chain, for whoever reads the logs.
            let mut chain = vec![self.to_string()];
            let mut source = std::error::Error::source(self);
            while let Some(s) = source {
                chain.push(s.to_string());
                source = s.source();
            }
            tracing::error!(error = %chain.join(": "), "request failed");
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let page = crate::pages::ErrorPage {
            status: self.status().as_u16(),
            message: self.user_message(),
        };
        let body = askama::Template::render(&page).unwrap_or_else(|_| {
            "<!doctype html><title>错误</title><p>系统内部错误</p>".to_string()
        });
        (self.status(), Html(body)).into_response()
    }
}

/// The same errors as JSON, for `/api/v1`.
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        e.log();
        let mut body = serde_json::json!({
            "error": { "code": e.code(), "message": e.user_message() }
        });
        match &e {
            AppError::Invalid(fields) => body["error"]["fields"] = serde_json::json!(fields),
            AppError::InvalidFields(fields) => {
                body["error"]["fields"] = fields
                    .iter()
                    .map(|(f, m)| serde_json::json!({"field": f, "message": m}))
                    .collect()
            }
            AppError::Conflict(current) => body["error"]["current"] = serde_json::json!(current),
            _ => {}
        }
        (e.status(), axum::Json(body)).into_response()
    }
}
