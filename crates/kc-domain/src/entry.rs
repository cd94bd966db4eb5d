//! Checking a value typed in by a person (web form or API) against the plan,
//! field by field, so every problem can be shown next to its field.

use chrono::NaiveDate;
use serde::Serialize;

use crate::code::Code;
use crate::money::Decimal;
use crate::period::{Frequency, Period};
use crate::plan::{DataSource, Indicator, Plan};
use crate::value::{Scope, Vintage};

/// The raw fields as received.
#[derive(Debug, Clone, Default)]
pub struct RawEntry {
    pub indicator: String,
    pub scope: String,
    pub period: String,
    pub value: String,
    pub note: String,
    pub vintage: String,
}

/// A checked entry, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub indicator: Code,
    pub scope: Scope,
    pub period: Period,
    pub value: f64,
    pub note: String,
    pub vintage: Vintage,
}

/// A problem with one field; `field` is the form field's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

pub const MAX_NOTE_CHARS: usize = 2000;

/// Checks every field and returns either the entry or all the problems.
/// `today` rules out periods that have not ended yet: a level at the end of
/// a quarter cannot be known before the quarter ends.
pub fn check_entry(
    plan: &Plan,
    raw: &RawEntry,
    today: NaiveDate,
) -> Result<Entry, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &'static str, message: String| errors.push(FieldError { field, message });

    let indicator = match plan.indicator(raw.indicator.trim()) {
        None if raw.indicator.trim().is_empty() => {
            err("indicator", "请选择指标".into());
            None
        }
        None => {
            err(
                "indicator",
                format!("指标“{}”不在本规划的指标目录中", raw.indicator.trim()),
            );
            None
        }
        Some(i) if matches!(i.source, DataSource::Formula { .. }) => {
            err("indicator", format!("“{}”由公式自动计算，不能填报", i.name));
            None
        }
        Some(i)
            if matches!(
                i.source,
                DataSource::Registry {
                    compute: Some(_),
                    ..
                }
            ) =>
        {
            err(
                "indicator",
                format!("“{}”由登记库自动计算，不能填报；请维护相应登记库", i.name),
            );
            None
        }
        Some(i) => Some(i),
    };

    let scope_text = if raw.scope.trim().is_empty() {
        "city"
    } else {
        raw.scope.trim()
    };
    let scope = match Scope::parse_in(scope_text, plan) {
        Ok(s) => Some(s),
        Err(e) => {
            err("scope", e.to_string());
            None
        }
    };

    let period = match raw.period.trim().parse::<Period>() {
        Err(e) => {
            err("period", e.to_string());
            None
        }
        Ok(p) if p.start() < plan.period.start || p.end() > plan.period.end => {
            err(
                "period",
                format!(
                    "{} 不在规划期（{} 至 {}）内",
                    p.zh(),
                    plan.period.start,
                    plan.period.end
                ),
            );
            None
        }
        // A period finer than the indicator's frequency is refused (a
        // yearly figure has no 2025Q2); a coarser one is the whole year's
        // figure, which the progress rules prefer where it exists.
        Ok(p) if indicator.is_some_and(|i| fineness(p.frequency()) < fineness(i.frequency)) => {
            let i = indicator.expect("checked just above");
            let example = match i.frequency {
                Frequency::Yearly => "年份，例如 2025",
                Frequency::Quarterly => "季度（例如 2025Q2）或年份",
                Frequency::Monthly => "月份，例如 2025-06",
            };
            err(
                "period",
                format!("“{}”是{}，期间应为{example}", i.name, i.frequency.zh()),
            );
            None
        }
        Ok(p) if p.end() > today => {
            err(
                "period",
                format!("{} 尚未结束（截至 {}），不能填报", p.zh(), p.end()),
            );
            None
        }
        Ok(p) => Some(p),
    };

    let value = match parse_number(&raw.value) {
        None if raw.value.trim().is_empty() => {
            err("value", "请填写数值".into());
            None
        }
        None => {
            err("value", format!("“{}”不是数字", raw.value.trim()));
            None
        }
        Some(v) => match indicator.and_then(|i| out_of_range(i, &raw.value)) {
            Some(message) => {
                err("value", message);
                None
            }
            None => Some(v),
        },
    };

    let note = raw.note.trim().to_string();
    if note.chars().count() > MAX_NOTE_CHARS {
        err("note", format!("说明最多 {MAX_NOTE_CHARS} 个字"));
    }

    let vintage = match raw.vintage.trim() {
        "" => Some(Vintage::Provisional),
        v => match Vintage::parse(v) {
            Some(x) => Some(x),
            None => {
                err("vintage", "数据性质应为“暂定”或“正式”".into());
                None
            }
        },
    };

    match (indicator, scope, period, value, vintage) {
        (Some(i), Some(scope), Some(period), Some(value), Some(vintage)) if errors.is_empty() => {
            Ok(Entry {
                indicator: i.code.clone(),
                scope,
                period,
                value,
                note,
                vintage,
            })
        }
        _ => Err(errors),
    }
}

/// Months are finest, years coarsest.
fn fineness(f: Frequency) -> u8 {
    match f {
        Frequency::Monthly => 0,
        Frequency::Quarterly => 1,
        Frequency::Yearly => 2,
    }
}

/// Why a typed value lies outside what the indicator allows, compared as
/// an exact decimal (so 100 is a share's last allowed value and
/// 100.000001 is not).
fn out_of_range(i: &Indicator, typed: &str) -> Option<String> {
    let v = crate::money::parse_decimal(typed)?;
    let (min, max) = i.value_range();
    let unit = i.unit.trim();
    let percent = matches!(unit, "%" | "％");
    let show = |d: Decimal| format!("{}{unit}", crate::money::display(d));
    match (min, max) {
        (Some(lo), _) if v < lo && lo.is_zero() && i.additive && i.min.is_none() => {
            Some("该指标是家数或金额等可加总的量，不能为负数".into())
        }
        (Some(lo), Some(hi)) if v < lo || v > hi => {
            Some(if percent && i.min.is_none() && i.max.is_none() {
                format!(
                    "“{}”是占比，应在 0–100% 之间（填百分数，例如 2.5 表示 2.5%）",
                    i.name
                )
            } else {
                format!("数值应在 {} 至 {} 之间", show(lo), show(hi))
            })
        }
        (Some(lo), None) if v < lo => Some(format!("数值不能小于 {}", show(lo))),
        (None, Some(hi)) if v > hi => Some(format!("数值不能大于 {}", show(hi))),
        _ => None,
    }
}

/// Reads a number as people type it: thousands separators, full-width
/// digits and a trailing per-cent sign are accepted; `NaN` and infinities
/// are not.
pub fn parse_number(s: &str) -> Option<f64> {
    normalize_number(s)?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// The text of a number as people type it, in ASCII without separators or
/// per-cent sign (what [`parse_number`] and
/// [`crate::money::parse_decimal`] read); `None` when a character cannot be
/// part of a number.
pub(crate) fn normalize_number(s: &str) -> Option<String> {
    let mut t = String::with_capacity(s.len());
    for c in s.trim().chars() {
        match c {
            '０'..='９' => t.push(char::from_u32(c as u32 - '０' as u32 + '0' as u32)?),
            '．' | '。' => t.push('.'),
            '－' | '—' => t.push('-'),
            '＋' => t.push('+'),
            ',' | '，' | ' ' | '\u{3000}' => {}
            '%' | '％' => {}
            _ => t.push(c),
        }
    }
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_typed() {
        for (s, v) in [
            ("1200", 1200.0),
            (" 1,200 ", 1200.0),
            ("１２００", 1200.0),
            ("2.52%", 2.52),
            ("-3.5", -3.5),
            ("1e3", 1000.0),
            ("12，345．5", 12345.5),
        ] {
            assert_eq!(parse_number(s), Some(v), "{s}");
        }
        for s in [
            "", "abc", "NaN", "inf", "1..2", "一千", "12元", "0x10", "1e999",
        ] {
            assert_eq!(parse_number(s), None, "{s}");
        }
    }
}
