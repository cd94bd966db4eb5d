//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
//!
//! Eighteen characters from a 31-character alphabet (digits and capital
//! letters without I, O, Z, S, V): registration authority (1), category (1),
//! administrative division (6 digits), organisation code (9, itself checked
//! by GB 11714) and a check character computed with weights 3^i mod 31.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

/// Why a credit code was rejected, in words a clerk can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("统一社会信用代码应为 18 位，实际为 {0} 位")]
    Length(usize),
    #[error("第 {pos} 位“{ch}”不是有效字符（只能是数字和除 I、O、Z、S、V 以外的大写字母）")]
    Char { pos: usize, ch: char },
    #[error("第 3–8 位应为行政区划代码（6 位数字）")]
    Division,
    #[error("校验位错误：第 18 位应为“{expected}”，实际为“{actual}”")]
    Check { expected: char, actual: char },
}

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters.
pub fn check_char(first17: &str) -> Option<char> {
    let mut sum = 0u32;
    for (i, b) in first17.bytes().enumerate().take(17) {
        sum += value_of(b)? * WEIGHTS[i];
    }
    let c = (31 - sum % 31) % 31;
    Some(ALPHABET[c as usize] as char)
}

impl CreditCode {
    /// Checks a code as typed: surrounding spaces are dropped and lower-case
    /// letters raised; anything else wrong is an error with the reason.
    pub fn parse(raw: &str) -> Result<CreditCode, CreditCodeError> {
        let s: String = raw.trim().to_ascii_uppercase();
        let n = s.chars().count();
        if n != 18 {
            return Err(CreditCodeError::Length(n));
        }
        for (i, ch) in s.chars().enumerate() {
            if !ch.is_ascii() || value_of(ch as u8).is_none() {
                return Err(CreditCodeError::Char { pos: i + 1, ch });
            }
        }
        if !s[2..8].bytes().all(|b| b.is_ascii_digit()) {
            return Err(CreditCodeError::Division);
        }
        let expected = check_char(&s[..17]).expect("validated characters");
        let actual = s.as_bytes()[17] as char;
        if expected != actual {
            return Err(CreditCodeError::Check { expected, actual });
        }
        Ok(CreditCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrative division code (characters 3–8).
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CreditCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CreditCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CreditCode::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Builds a valid code from 17 characters by appending the check character
/// (used by the demo generator).
pub fn complete(first17: &str) -> Option<CreditCode> {
    let c = check_char(first17)?;
    CreditCode::parse(&format!("{first17}{c}")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_valid_codes() {
        // Published codes of well-known organisations.
        for code in [
            "91110000802100433B",
            "91440300708461136T",
            "91110108551385082Q",
        ] {
            let c = CreditCode::parse(code);
            assert!(c.is_ok(), "{code}: {c:?}");
        }
        assert_eq!(
            CreditCode::parse(" 91110000802100433b ").unwrap().as_str(),
            "91110000802100433B"
        );
    }

    #[test]
    fn every_kind_of_error() {
        assert_eq!(
            CreditCode::parse("9134030"),
            Err(CreditCodeError::Length(7))
        );
        assert!(matches!(
            CreditCode::parse("9111000080210043OB"),
            Err(CreditCodeError::Char { pos: 17, ch: 'O' })
        ));
        assert_eq!(
            CreditCode::parse("91AB0000802100433B"),
            Err(CreditCodeError::Division)
        );
        assert_eq!(
            CreditCode::parse("91110000802100433A"),
            Err(CreditCodeError::Check {
                expected: 'B',
                actual: 'A'
            })
        );
        assert!(matches!(
            CreditCode::parse("９１１１0000802100433B"),
            Err(CreditCodeError::Char { pos: 1, .. })
        ));
    }

    #[test]
    fn complete_appends_the_check() {
        let c = complete("91110000802100433").unwrap();
        assert_eq!(c.as_str(), "91110000802100433B");
        assert!(complete("91340300MA2N0XK45").is_some());
    }
}
