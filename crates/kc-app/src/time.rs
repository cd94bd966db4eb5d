//! The clock, read in Beijing time: the one place the services ask what day
//! it is (the conversion itself is `kc_domain::time`).

use chrono::{NaiveDate, Utc};

/// Today's date in Beijing, whatever the server's own time zone.
pub fn today_beijing() -> NaiveDate {
    kc_domain::time::beijing_date(Utc::now())
}
