//! The clock, read in Beijing time: the one place the services ask what day
//! it is (the conversion itself is `kc_domain::time`).

use chrono::{NaiveDate, Utc};

/// Today's date in Beijing, whatever the server's own time zone.
pub fn today_beijing() -> NaiveDate {
    kc_domain::time::beijing_date(Utc::now())
}

/// The server's clock for session timeouts: the real time, moved forward
/// by an offset that tests set to make time pass (an idle session expire)
/// without waiting and without reaching into the database.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: std::sync::atomic::AtomicI64,
}

impl Clock {
    pub fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now()
            + chrono::Duration::milliseconds(
                self.offset_ms.load(std::sync::atomic::Ordering::Relaxed),
            )
    }

    /// Back to the real time (tests).
    pub fn reset(&self) {
        self.offset_ms
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Moves the clock forward (tests).
    pub fn advance(&self, by: std::time::Duration) {
        self.offset_ms.fetch_add(
            i64::try_from(by.as_millis()).unwrap_or(i64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}
