//! Reported values: who a value is for (scope) and how final it is (vintage).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::code::Code;
use crate::plan::Plan;

/// Whom a value describes: the whole city, one reporting area, or one
/// department's own figure.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    City,
    Area(Code),
    Department(Code),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("范围“{0}”格式不正确，应为 city、area:地区编码 或 dept:部门编码")]
    Format(String),
    #[error("地区“{0}”不在本规划的地区名单中")]
    UnknownArea(String),
    #[error("部门“{0}”不在本规划的部门名单中")]
    UnknownDepartment(String),
}

impl Scope {
    /// Parses a scope and checks that its area or department exists in `plan`.
    pub fn parse_in(s: &str, plan: &Plan) -> Result<Scope, ScopeError> {
        let scope: Scope = s.parse()?;
        match &scope {
            Scope::Area(a) if plan.area(a.as_str()).is_none() => {
                Err(ScopeError::UnknownArea(a.to_string()))
            }
            Scope::Department(d) if plan.department(d.as_str()).is_none() => {
                Err(ScopeError::UnknownDepartment(d.to_string()))
            }
            _ => Ok(scope),
        }
    }

    /// The Chinese name of the scope in `plan` (the city's name for `City`).
    pub fn name<'a>(&'a self, plan: &'a Plan) -> &'a str {
        match self {
            Scope::City => &plan.city,
            Scope::Area(a) => plan
                .area(a.as_str())
                .map(|x| x.name.as_str())
                .unwrap_or(a.as_str()),
            Scope::Department(d) => plan
                .department(d.as_str())
                .map(|x| x.name.as_str())
                .unwrap_or(d.as_str()),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::City => f.write_str("city"),
            Scope::Area(a) => write!(f, "area:{a}"),
            Scope::Department(d) => write!(f, "dept:{d}"),
        }
    }
}

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ScopeError::Format(s.to_string());
        if s == "city" {
            return Ok(Scope::City);
        }
        let (kind, code) = s.split_once(':').ok_or_else(bad)?;
        let code = Code::parse(code).map_err(|_| bad())?;
        match kind {
            "area" => Ok(Scope::Area(code)),
            "dept" => Ok(Scope::Department(code)),
            _ => Err(bad()),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// How final a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vintage {
    /// Preliminary, awaiting review (暂定).
    Provisional,
    /// Reviewed and final (正式).
    Official,
}

impl Vintage {
    pub fn parse(s: &str) -> Option<Vintage> {
        match s {
            "provisional" => Some(Vintage::Provisional),
            "official" => Some(Vintage::Official),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Vintage::Provisional => "provisional",
            Vintage::Official => "official",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Vintage::Provisional => "暂定",
            Vintage::Official => "正式",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_round_trips() {
        for s in ["city", "area:longzihu", "dept:kjj"] {
            assert_eq!(s.parse::<Scope>().unwrap().to_string(), s);
        }
        for bad in ["", "town:x", "area:", "area:a b", "City"] {
            assert!(bad.parse::<Scope>().is_err(), "{bad}");
        }
    }
}
