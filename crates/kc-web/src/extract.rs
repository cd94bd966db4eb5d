//! Typed request bodies for the JSON API.
//!
//! `JsonBody<T>` turns a request into a command struct: a body that is not
//! JSON by its `Content-Type` is refused with 415 before it is read; JSON
//! that does not parse is a 400 with the line and column; a field of the
//! wrong type, an unknown field or a missing one is a 422 that names the
//! field (the path, e.g. `submit` or `items[2].value`), so a client is never
//! left guessing and nothing is stored.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, AppError};

pub struct JsonBody<T>(pub T);

/// Whether a `Content-Type` says JSON (`application/json`, with or without
/// parameters, or any `+json` type).
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Too large is said first, whatever the type: the body is not read.
        let declared = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > crate::BODY_LIMIT) {
            return Err(AppError::TooLarge(format!(
                "请求体不能超过 {} KB",
                crate::BODY_LIMIT / 1024
            ))
            .into());
        }
        let ct = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if !is_json(ct) {
            return Err(AppError::UnsupportedMediaType(
                "请求体须为 JSON（Content-Type: application/json）".into(),
            )
            .into());
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            AppError::BadRequest(format!(
                "请求体过大或无法读取（不超过 {} KB）",
                crate::BODY_LIMIT / 1024
            ))
        })?;
        parse(&bytes).map(JsonBody).map_err(ApiError)
    }
}

/// Deserialises a JSON body into `T`, with the errors described above.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // Every body the API takes is an object; serde would also read a struct
    // from a list, element by element, which is no way to send a command.
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => {}
        Some(_) => return Err(AppError::BadRequest("请求体应为 JSON 对象".into())),
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            de.end().map_err(|e| syntax(&e))?;
            Ok(v)
        }
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(syntax(&inner));
            }
            // A list (or a lone value) where an object belongs: serde reads
            // it element by element, which names no field of ours.
            if path.starts_with('[') || inner.to_string().contains("expected struct") {
                return Err(AppError::BadRequest("请求体应为 JSON 对象".into()));
            }
            let (field, message) = explain(&path, &inner.to_string());
            Err(AppError::InvalidFields(vec![(field, message)]))
        }
    }
}

fn syntax(e: &serde_json::Error) -> AppError {
    AppError::BadRequest(format!(
        "请求体不是有效的 JSON：第 {} 行第 {} 列",
        e.line(),
        e.column()
    ))
}

/// The field and a Chinese message from serde's message, which names the
/// field itself for unknown and missing fields.
fn explain(path: &str, msg: &str) -> (String, String) {
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_string);
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    if let Some(rest) = msg.strip_prefix("unknown field") {
        // The path already ends with the unknown field's name.
        let field = if path == "." || path.is_empty() {
            quoted(rest).unwrap_or_default()
        } else {
            path.to_string()
        };
        return (field, "不认识这个字段".into());
    }
    if let Some(rest) = msg.strip_prefix("missing field") {
        let name = quoted(rest).unwrap_or_default();
        let field = if path == "." || path.is_empty() {
            name
        } else {
            format!("{path}.{name}")
        };
        return (field, "缺少这个字段".into());
    }
    let field = if path == "." {
        String::new()
    } else {
        path.to_string()
    };
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (got, want) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (
            field,
            format!("类型不对：收到 {got}，应为 {}", want_zh(want)),
        );
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        let (got, want) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (field, format!("取值 {got} 不在可选范围内（可选：{want}）"));
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        let (got, want) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (
            field,
            format!("取值不对：收到 {got}，应为 {}", want_zh(want)),
        );
    }
    (field, format!("内容不对：{msg}"))
}

fn want_zh(want: &str) -> String {
    match want {
        "a boolean" => "true 或 false".into(),
        "a string" => "文本".into(),
        "u64" | "i64" | "u32" | "i32" => "整数".into(),
        "a number or a string" | "a number" | "f64" => "数字".into(),
        "a map" | "struct" => "JSON 对象".into(),
        other if other.starts_with("struct ") => "JSON 对象".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Cmd {
        plan: String,
        #[serde(default)]
        submit: Option<bool>,
        #[serde(default)]
        n: Option<u64>,
    }

    fn field_of(body: &str) -> (String, String) {
        match parse::<Cmd>(body.as_bytes()) {
            Err(AppError::InvalidFields(f)) => f[0].clone(),
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn wrong_types_unknown_and_missing_fields_are_named() {
        let cases = [
            (
                r#"{"plan":"p","submit":"false"}"#,
                "submit",
                "true 或 false",
            ),
            (r#"{"plan":"p","n":-1}"#, "n", "整数"),
            (r#"{"plan":"p","n":"3"}"#, "n", "整数"),
            (r#"{"plan":"p","extra":1}"#, "extra", "不认识"),
            (r#"{"submit":true}"#, "plan", "缺少"),
            (r#"{"plan":7}"#, "plan", "文本"),
        ];
        for (body, field, words) in cases {
            let (f, m) = field_of(body);
            assert_eq!(f, field, "{body}");
            assert!(m.contains(words), "{body}: {m}");
        }
    }

    #[test]
    fn broken_json_is_a_bad_request_with_its_place() {
        for body in ["{", "", "{\"plan\":\"p\"} x", "{\"plan\": "] {
            match parse::<Cmd>(body.as_bytes()) {
                Err(AppError::BadRequest(m)) => assert!(m.contains("第"), "{m}"),
                other => panic!("{body:?}: {other:?}"),
            }
        }
        for body in ["[1,2]", "[\"p\"]", "5", "\"p\""] {
            match parse::<Cmd>(body.as_bytes()) {
                Err(AppError::BadRequest(m)) => assert!(m.contains("JSON 对象"), "{body}: {m}"),
                other => panic!("{body:?}: {other:?}"),
            }
        }
        assert!(parse::<Cmd>(br#"{"plan":"p","submit":false}"#).is_ok());
    }

    #[test]
    fn only_json_content_types_pass() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/problem+json",
        ] {
            assert!(is_json(Some(ok)), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "json",
            "",
        ] {
            assert!(!is_json(Some(bad)), "{bad}");
        }
        assert!(!is_json(None));
    }
}
