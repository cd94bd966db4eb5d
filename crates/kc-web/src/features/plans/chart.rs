//! Charts on the pages: the target's chart model (`kc_chart`) drawn as
//! inline SVG — no script, no network, readable when printed. The same
//! drawing code makes the pictures of the Word and HTML reports.

use chrono::NaiveDate;
use kc_domain::Evaluation;
use kc_domain::plan::Target;

/// The target's chart as an SVG element: yearly bars for yearly targets,
/// otherwise the series with its expected path, target and forecast.
pub fn target_chart(
    t: &Target,
    e: &Evaluation,
    decimals: u8,
    as_of: NaiveDate,
    period_start: NaiveDate,
) -> String {
    kc_chart::svg(&kc_chart::Chart::of_target(
        t,
        e,
        decimals,
        as_of,
        period_start,
    ))
}
