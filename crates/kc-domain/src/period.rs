//! Reporting periods: a calendar year, quarter or month.
//!
//! Periods are written the way staff type them: `2024`, `2024Q2` and `2024-06`.
//! Every period knows its first and last day; stock values are read "as of" the
//! last day, flow values are amounts earned within the whole period.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How often an indicator is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Monthly,
    Quarterly,
    Yearly,
}

impl Frequency {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "monthly" => Some(Self::Monthly),
            "quarterly" => Some(Self::Quarterly),
            "yearly" => Some(Self::Yearly),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
            Self::Yearly => "yearly",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Self::Monthly => "月报",
            Self::Quarterly => "季报",
            Self::Yearly => "年报",
        }
    }

    /// The period of this frequency that contains `date`.
    pub fn period_containing(self, date: NaiveDate) -> Period {
        match self {
            Self::Yearly => Period::Year(date.year()),
            Self::Quarterly => Period::Quarter(date.year(), (date.month0() / 3 + 1) as u8),
            Self::Monthly => Period::Month(date.year(), date.month() as u8),
        }
    }
}

/// A calendar period. Ordering is by end date, then by length (a month sorts
/// before the quarter and the year that end on the same day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Year(i32),
    /// Year and quarter 1–4.
    Quarter(i32, u8),
    /// Year and month 1–12.
    Month(i32, u8),
}

/// Why a period string was rejected; shown to users, so the text is Chinese.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("期间“{0}”格式不正确，应为 2024（年）、2024Q2（季度）或 2024-06（月）")]
    Format(String),
    #[error("期间“{0}”的年份超出范围（1900–2200）")]
    YearRange(String),
}

const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2200;

impl Period {
    pub fn year(self) -> i32 {
        match self {
            Period::Year(y) | Period::Quarter(y, _) | Period::Month(y, _) => y,
        }
    }

    pub fn frequency(self) -> Frequency {
        match self {
            Period::Year(_) => Frequency::Yearly,
            Period::Quarter(..) => Frequency::Quarterly,
            Period::Month(..) => Frequency::Monthly,
        }
    }

    /// First day of the period.
    pub fn start(self) -> NaiveDate {
        let (y, m) = match self {
            Period::Year(y) => (y, 1),
            Period::Quarter(y, q) => (y, u32::from(q) * 3 - 2),
            Period::Month(y, m) => (y, u32::from(m)),
        };
        ymd(y, m, 1)
    }

    /// Last day of the period.
    pub fn end(self) -> NaiveDate {
        let (y, m) = match self {
            Period::Year(y) => (y, 12),
            Period::Quarter(y, q) => (y, u32::from(q) * 3),
            Period::Month(y, m) => (y, u32::from(m)),
        };
        last_day_of_month(y, m)
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        self.start() <= date && date <= self.end()
    }

    /// The periods one level finer that make up this one (a year's quarters, a
    /// quarter's months); empty for a month.
    pub fn parts(self) -> Vec<Period> {
        match self {
            Period::Year(y) => (1..=4).map(|q| Period::Quarter(y, q)).collect(),
            Period::Quarter(y, q) => (q * 3 - 2..=q * 3).map(|m| Period::Month(y, m)).collect(),
            Period::Month(..) => Vec::new(),
        }
    }

    /// The period of the same frequency that follows this one.
    pub fn next(self) -> Period {
        match self {
            Period::Year(y) => Period::Year(y + 1),
            Period::Quarter(y, 4) => Period::Quarter(y + 1, 1),
            Period::Quarter(y, q) => Period::Quarter(y, q + 1),
            Period::Month(y, 12) => Period::Month(y + 1, 1),
            Period::Month(y, m) => Period::Month(y, m + 1),
        }
    }

    /// Every period of `freq` that lies wholly within `[from, to]`.
    pub fn all_within(freq: Frequency, from: NaiveDate, to: NaiveDate) -> Vec<Period> {
        let mut out = Vec::new();
        let mut p = freq.period_containing(from);
        if p.start() < from {
            p = p.next();
        }
        while p.end() <= to {
            out.push(p);
            p = p.next();
        }
        out
    }

    /// Chinese label as used in reports: 2024年, 2024年第2季度, 2024年6月.
    pub fn zh(self) -> String {
        match self {
            Period::Year(y) => format!("{y}年"),
            Period::Quarter(y, q) => format!("{y}年第{q}季度"),
            Period::Month(y, m) => format!("{y}年{m}月"),
        }
    }

    fn rank(self) -> u8 {
        match self {
            Period::Month(..) => 0,
            Period::Quarter(..) => 1,
            Period::Year(_) => 2,
        }
    }
}

impl Ord for Period {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.end(), self.rank()).cmp(&(other.end(), other.rank()))
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y}"),
            Period::Quarter(y, q) => write!(f, "{y}Q{q}"),
            Period::Month(y, m) => write!(f, "{y}-{m:02}"),
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let s = raw.trim();
        let bad = || PeriodError::Format(raw.to_string());
        let year = |t: &str| -> Result<i32, PeriodError> {
            if t.len() != 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let y: i32 = t.parse().map_err(|_| bad())?;
            if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
                return Err(PeriodError::YearRange(raw.to_string()));
            }
            Ok(y)
        };
        let small = |t: &str, max: u8| -> Result<u8, PeriodError> {
            if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let n: u8 = t.parse().map_err(|_| bad())?;
            if n == 0 || n > max { Err(bad()) } else { Ok(n) }
        };
        if let Some((y, q)) = s.split_once(['Q', 'q']) {
            return Ok(Period::Quarter(year(y)?, small(q, 4)?));
        }
        if let Some((y, m)) = s.split_once('-') {
            return Ok(Period::Month(year(y)?, small(m, 12)?));
        }
        Ok(Period::Year(year(s)?))
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An inclusive range of days, used for the plan period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

impl DateRange {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d <= self.end
    }
}

pub(crate) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid calendar date")
}

pub(crate) fn last_day_of_month(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    ymd(ny, nm, 1).pred_opt().expect("date after 1900")
}

/// Days from `a` to `b` as a float (negative when `b` is earlier).
pub fn days_between(a: NaiveDate, b: NaiveDate) -> f64 {
    (b - a).num_days() as f64
}

/// Average days per month and per year, used to turn daily slopes into the
/// monthly and yearly paces shown to users.
pub const DAYS_PER_MONTH: f64 = 365.2425 / 12.0;
pub const DAYS_PER_YEAR: f64 = 365.2425;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!("2024".parse::<Period>().unwrap(), Period::Year(2024));
        assert_eq!(
            "2024Q2".parse::<Period>().unwrap(),
            Period::Quarter(2024, 2)
        );
        assert_eq!(
            "2024q4".parse::<Period>().unwrap(),
            Period::Quarter(2024, 4)
        );
        assert_eq!("2024-06".parse::<Period>().unwrap(), Period::Month(2024, 6));
        assert_eq!("2024-6".parse::<Period>().unwrap(), Period::Month(2024, 6));
    }

    #[test]
    fn rejects_bad_forms() {
        for bad in [
            "",
            "24",
            "2024Q0",
            "2024Q5",
            "2024-00",
            "2024-13",
            "abcd",
            "2024-1-1",
            "１２３４",
            "2024Q",
            "-2024",
            "2024.5",
        ] {
            assert!(bad.parse::<Period>().is_err(), "{bad:?} should be rejected");
        }
        assert!(matches!(
            "1800".parse::<Period>(),
            Err(PeriodError::YearRange(_))
        ));
    }

    #[test]
    fn bounds_and_parts() {
        let q = Period::Quarter(2024, 1);
        assert_eq!(q.start(), ymd(2024, 1, 1));
        assert_eq!(q.end(), ymd(2024, 3, 31));
        assert_eq!(Period::Month(2024, 2).end(), ymd(2024, 2, 29));
        assert_eq!(Period::Year(2023).parts().len(), 4);
        assert_eq!(
            q.parts(),
            vec![
                Period::Month(2024, 1),
                Period::Month(2024, 2),
                Period::Month(2024, 3)
            ]
        );
        assert!(Period::Month(2024, 3) < Period::Quarter(2024, 1));
        assert!(Period::Quarter(2024, 4) < Period::Year(2024));
        assert!(Period::Year(2023) < Period::Month(2024, 1));
    }

    #[test]
    fn all_within_skips_partial_periods() {
        let got = Period::all_within(Frequency::Quarterly, ymd(2023, 2, 1), ymd(2023, 12, 30));
        assert_eq!(
            got,
            vec![Period::Quarter(2023, 2), Period::Quarter(2023, 3)]
        );
    }

    #[test]
    fn display_round_trips() {
        for p in [
            Period::Year(2025),
            Period::Quarter(2023, 3),
            Period::Month(2024, 11),
        ] {
            assert_eq!(p.to_string().parse::<Period>().unwrap(), p);
        }
        assert_eq!(Period::Quarter(2025, 2).zh(), "2025年第2季度");
    }
}
