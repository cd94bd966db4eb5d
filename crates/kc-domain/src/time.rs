//! Beijing time: the one time zone of the plan, its deadlines and its pages.
//!
//! China keeps UTC+8 all year (no daylight saving), so a fixed offset is
//! exact and needs no time-zone database. Pure functions only: reading the
//! clock belongs to the callers (`kc_app::time`), so that everything here
//! can be tested with fixed instants.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// UTC+8.
pub const BEIJING: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("8 hours is a valid offset"),
};

/// An instant as Beijing's clocks show it.
pub fn to_beijing(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.with_timezone(&BEIJING)
}

/// The calendar day in Beijing at an instant.
pub fn beijing_date(t: DateTime<Utc>) -> NaiveDate {
    to_beijing(t).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn beijing_is_eight_hours_ahead_of_utc() {
        let late_evening_utc = Utc.with_ymd_and_hms(2025, 6, 30, 16, 0, 0).unwrap();
        assert_eq!(
            to_beijing(late_evening_utc).to_rfc3339(),
            "2025-07-01T00:00:00+08:00"
        );
        assert_eq!(
            beijing_date(late_evening_utc),
            NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
        );
        let just_before = Utc.with_ymd_and_hms(2025, 6, 30, 15, 59, 59).unwrap();
        assert_eq!(
            beijing_date(just_before),
            NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()
        );
    }
}
