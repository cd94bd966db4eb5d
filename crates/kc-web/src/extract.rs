//! Typed request bodies: `JsonBody<T>` for the JSON API, `FormBody<T>` for
//! HTML forms.
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

/// Deserialises a JSON body into `T`, with the errors described above, and
/// refuses text holding control characters (see [`kc_domain::text`]),
/// naming the field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let v = parse_typed(bytes)?;
    // The body parsed, so it is JSON; a second, cheap read finds the
    // strings (keys included) that hold what nobody types.
    if let Ok(tree) = serde_json::from_slice::<serde_json::Value>(bytes) {
        let mut bad = Vec::new();
        forbidden_in(&tree, String::new(), &mut bad);
        if !bad.is_empty() {
            return Err(AppError::InvalidFields(bad));
        }
    }
    Ok(v)
}

fn forbidden_in(v: &serde_json::Value, path: String, bad: &mut Vec<(String, String)>) {
    use kc_domain::text::{first_forbidden, message};
    match v {
        serde_json::Value::String(s) => {
            if let Some(c) = first_forbidden(s) {
                bad.push((path, message(c)));
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                forbidden_in(item, format!("{path}[{i}]"), bad);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                let here = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if let Some(c) = first_forbidden(k) {
                    bad.push((here.clone(), message(c)));
                }
                forbidden_in(item, here, bad);
            }
        }
        _ => {}
    }
}

fn parse_typed<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
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

/// An HTML form's fields as a typed command.
///
/// The body must be `application/x-www-form-urlencoded` (415 otherwise); the
/// CSRF token, checked by the session guard before the handler runs, is
/// taken out; a field holding control characters, a field of the wrong type
/// (`expected_revision=abc`), an unknown or a missing one is a 422 naming the
/// field in words where the form has a label for it. Commands say
/// `#[serde(deny_unknown_fields)]` and `#[serde(default)]` for fields a
/// browser leaves out (unchecked boxes, unpressed buttons).
pub struct FormBody<T>(pub T);

impl<S, T> FromRequest<S> for FormBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .map(|m| m.trim().to_ascii_lowercase());
        if ct.as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(AppError::UnsupportedMediaType(
                "请通过页面上的表单提交（application/x-www-form-urlencoded）".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            AppError::TooLarge(format!(
                "提交的内容不能超过 {} KB",
                crate::BODY_LIMIT / 1024
            ))
        })?;
        parse_form(&bytes).map(FormBody)
    }
}

/// Reads a urlencoded form into `T`, with the errors described at
/// [`FormBody`].
pub fn parse_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    use kc_domain::text::{first_forbidden, message};
    let pairs: Vec<(String, String)> = form_urlencoded::parse(bytes)
        .filter(|(k, _)| k != crate::auth::CSRF_FIELD)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let bad: Vec<(String, String)> = pairs
        .iter()
        .filter_map(|(k, v)| {
            first_forbidden(k)
                .or_else(|| first_forbidden(v))
                .map(|c| (label(k), message(c)))
        })
        .collect();
    if !bad.is_empty() {
        return Err(AppError::InvalidFields(bad));
    }
    let clean = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(clean.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
        let path = e.path().to_string();
        let (field, message) = explain(&path, &e.into_inner().to_string());
        let field = label(&field);
        AppError::InvalidFields(vec![(field, message.replace("收到 string", "收到"))])
    })
}

/// For form fields that are a number or nothing: an empty field is `None`,
/// anything else must parse (a browser sends every field, filled or not).
pub fn empty_as_none<'de, D, T>(de: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
{
    use serde::Deserialize;
    let s = String::deserialize(de)?;
    match s.trim() {
        "" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("应为整数，收到「{t}」"))),
    }
}

/// The label a form shows for a field, so an error reads in words.
fn label(field: &str) -> String {
    let words = match field {
        "value" => "数值",
        "note" => "备注",
        "comment" => "意见",
        "period" => "期别",
        "scope" => "范围",
        "target" => "目标",
        "indicator" => "指标",
        "vintage" => "数据口径",
        "expected_revision" => "版本号",
        "username" => "用户名",
        "password" => "密码",
        "display_name" => "姓名",
        "email" => "电子邮箱",
        "roles" => "角色",
        "current" => "当前密码",
        "new" => "新密码",
        "repeat" => "确认新密码",
        "title" => "标题",
        "stage" => "环节",
        "action" => "操作",
        "id" => "编号",
        "amount" => "金额",
        "contact" => "联系人",
        "phone" => "联系电话",
        "next" => "登录后前往的页面",
        _ => return field.to_string(),
    };
    words.to_string()
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
