//! Exact figures: money (万元), areas (亩), counts and scores wherever a
//! boundary is judged. `f64` cannot hold 336.4 / 6728 = 0.05 (it gives
//! 0.049999999999999996, and a firm drops a score band), so amounts are
//! [`Decimal`]s from the typed-in text to the rules that compare them.
//!
//! Two conversions, both here and nowhere else:
//! - [`to_f64`]: a decimal into the indicator engine's `f64` columns, which
//!   are for sums and counts (aggregations), never for a boundary.
//! - [`from_f64`]: the decimal an `f64` stands for, when a figure comes back
//!   from the engine or from a JSON number. It reads the shortest text that
//!   gives the same `f64` back, so every decimal of at most 15 significant
//!   digits (every amount the registries hold in practice: up to 10¹¹ 万元
//!   with four decimals) comes back exactly: 336.4 is 336.4, not
//!   336.399999999999977262632.

use std::str::FromStr;

pub use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Reads a number as people type it, exactly: thousands separators,
/// full-width digits and a trailing per-cent sign are accepted, as
/// [`crate::entry::parse_number`] accepts them; "336.4" is exactly 336.4.
/// `None` for anything that is not a number or has more than 28
/// significant digits.
pub fn parse_decimal(s: &str) -> Option<Decimal> {
    let t = crate::entry::normalize_number(s)?;
    let t = t.strip_prefix('+').unwrap_or(&t);
    if t.contains(['e', 'E']) {
        // 1e3, 1.5E-2: the mantissa's digits, moved.
        return Decimal::from_scientific(t).ok();
    }
    // "5." and ".5" as f64 parsing reads them.
    let fixed;
    let t = if let Some(r) = t.strip_suffix('.') {
        r
    } else if let Some(r) = t.strip_prefix('.') {
        fixed = format!("0.{r}");
        &fixed
    } else if let Some(r) = t.strip_prefix("-.") {
        fixed = format!("-0.{r}");
        &fixed
    } else {
        t
    };
    if t.is_empty() || t == "-" || t.starts_with("--") {
        return None;
    }
    Decimal::from_str_exact(t).ok()
}

/// The one conversion into `f64`: for the engine's columns, whose sums and
/// counts are aggregations, never boundaries. The nearest `f64`.
pub fn to_f64(d: Decimal) -> f64 {
    // Mantissa and power of ten both exact in f64: one correctly rounded
    // division. Otherwise through the text, which Rust reads correctly
    // rounded.
    let m = d.mantissa();
    let scale = d.scale();
    if m.unsigned_abs() < (1u128 << 53) && scale <= 22 {
        return m as f64 / 10f64.powi(scale as i32);
    }
    d.to_string()
        .parse::<f64>()
        .unwrap_or_else(|_| d.to_f64().unwrap_or(f64::NAN))
}

/// The decimal an `f64` stands for: the shortest decimal that reads back as
/// the same `f64`. Exact for every decimal of at most 15 significant digits
/// (`from_f64(to_f64(d)) == d`). `None` for NaN and infinities.
pub fn from_f64(x: f64) -> Option<Decimal> {
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        return Some(Decimal::from(x as i64));
    }
    // Rust prints the shortest text that round-trips, never in exponent form.
    let s = x.to_string();
    Decimal::from_str_exact(&s)
        .ok()
        .or_else(|| Decimal::from_str(&s).ok())
        .or_else(|| Decimal::from_f64_retain(x))
        .map(|d| d.normalize())
}

/// Whether `d` survives the trip through `f64` unchanged (then it can be
/// stored as a JSON number).
pub fn fits_f64(d: Decimal) -> bool {
    from_f64(to_f64(d)) == Some(d)
}

/// A decimal as the registries show it: at most four decimals (rounded half
/// away from zero), no trailing zeros, "0" rather than "-0".
pub fn display(d: Decimal) -> String {
    let r = d
        .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    if r.is_zero() {
        "0".to_string()
    } else {
        r.to_string()
    }
}

/// Digits grouped by thousands ("676,562.5"), for a number already
/// formatted as plain digits with an optional sign and decimals.
pub fn grouped(plain: &str) -> String {
    let (sign, rest) = plain.strip_prefix('-').map_or(("", plain), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(plain.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Whole `x` and above, at least 0: the smallest whole number not below `x`
/// (a gap of 239.2 万元 is "约 240 万元").
pub fn ceil_whole(x: Decimal) -> Decimal {
    x.ceil().max(Decimal::ZERO)
}

/// Reads a threshold or figure as a number or as the text of a number (the
/// rule book gives its fractional thresholds as their text, so they are
/// read exactly): for fields that stay `f64` (years, forecast rates).
pub fn de_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = f64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a number")
        }
        fn visit_f64<E>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<f64, E> {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(v), &self))
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    #[test]
    fn digits_are_grouped_by_thousands() {
        for (plain, shown) in [
            ("0", "0"),
            ("999", "999"),
            ("1000", "1,000"),
            ("676562", "676,562"),
            ("-1234567.891", "-1,234,567.891"),
            ("12345.6", "12,345.6"),
        ] {
            assert_eq!(super::grouped(plain), shown);
        }
    }

    use super::*;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn typed_numbers_are_exact() {
        for (s, want) in [
            ("336.4", "336.4"),
            ("1,234.50", "1234.50"),
            ("１２３４．５", "1234.5"),
            (" 6,728 ", "6728"),
            ("0.1", "0.1"),
            ("5%", "5"),
            ("+2.5", "2.5"),
            ("-3.5", "-3.5"),
            ("1e3", "1000"),
            ("1.5E-2", "0.015"),
            (".5", "0.5"),
            ("5.", "5"),
            ("1.23456", "1.23456"),
        ] {
            assert_eq!(parse_decimal(s), Some(dec(want)), "{s}");
        }
        for s in [
            "", "abc", "NaN", "inf", "1..2", "一千", "12元", "0x10", "1e999", "-", ".",
        ] {
            assert_eq!(parse_decimal(s), None, "{s}");
        }
        // 0.1 + 0.2 is 0.3 (in f64 it is 0.30000000000000004).
        assert_eq!(
            parse_decimal("0.1").unwrap() + parse_decimal("0.2").unwrap(),
            dec("0.3")
        );
        assert_ne!(std::hint::black_box(0.1f64) + 0.2, 0.3);
    }

    #[test]
    fn the_issue_in_f64_and_in_decimal() {
        assert!(
            std::hint::black_box(336.4f64) / 6728.0 < 0.05,
            "f64 gets it wrong"
        );
        assert_eq!(dec("336.4") / dec("6728"), dec("0.05"));
    }

    #[test]
    fn conversions_and_display() {
        assert_eq!(to_f64(dec("336.4")), 336.4);
        assert_eq!(from_f64(336.4), Some(dec("336.4")));
        assert_eq!(from_f64(0.1 + 0.2), Some(dec("0.30000000000000004")));
        assert_eq!(from_f64(f64::NAN), None);
        assert_eq!(from_f64(1200.0), Some(dec("1200")));
        assert_eq!(display(dec("1234.50")), "1234.5");
        assert_eq!(display(dec("1.23456")), "1.2346");
        assert_eq!(display(dec("-0.00001")), "0");
        assert_eq!(display(dec("100000000000000")), "100000000000000");
        assert!(fits_f64(dec("336.4")));
        assert!(!fits_f64(dec("0.12345678901234567890")));
        assert_eq!(ceil_whole(dec("239.2")), dec("240"));
        assert_eq!(ceil_whole(dec("-3")), dec("0"));
    }

    proptest! {
        /// Every decimal of up to 15 significant digits survives the
        /// engine's f64 and comes back exactly.
        #[test]
        fn fifteen_digits_round_trip(m in -999_999_999_999_999i64..=999_999_999_999_999, scale in 0u32..=8) {
            let d = Decimal::new(m, scale);
            prop_assert_eq!(from_f64(to_f64(d)), Some(d));
            prop_assert_eq!(to_f64(d), d.to_string().parse::<f64>().unwrap());
        }
    }
}
