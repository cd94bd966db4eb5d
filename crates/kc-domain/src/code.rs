//! Codes that name things in a plan: plans, indicators, targets, nodes, areas,
//! departments. They appear in URLs, file names and database keys, so they are
//! restricted to a safe ASCII alphabet and checked once, at the edge.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A validated code: 1–64 characters of `A–Z a–z 0–9 . _ -`, starting with a
/// letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Code(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("编码不能为空")]
    Empty,
    #[error("编码“{0}”过长（最多 64 个字符）")]
    TooLong(String),
    #[error("编码“{0}”只能包含英文字母、数字、点、下划线和连字符，并以字母或数字开头")]
    Charset(String),
}

impl Code {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        if s.is_empty() {
            return Err(CodeError::Empty);
        }
        if s.len() > 64 {
            return Err(CodeError::TooLong(s.to_string()));
        }
        let ok_first = s.as_bytes()[0].is_ascii_alphanumeric();
        let ok_rest = s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !ok_first || !ok_rest {
            return Err(CodeError::Charset(s.to_string()));
        }
        Ok(Code(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Code {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Code {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Code {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Code::parse(s)
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Code::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_rejects() {
        for ok in ["A1", "hte.count", "T-3_2", "2025"] {
            assert!(Code::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", ".a", "a b", "高企", "a/b", "a?b"] {
            assert!(Code::parse(bad).is_err(), "{bad}");
        }
        assert!(Code::parse(&"x".repeat(65)).is_err());
    }
}
