//! The technology market's listings as the search index takes them.

use chrono::NaiveDate;
use kc_domain::registry::{self, Record, RegistryDef, Value};
use kc_engine::Engine;
use kc_search::Listing;

/// The registries the search covers.
pub const SEARCHED: [&str; 3] = ["demands", "offers", "experts"];

fn text(def: &RegistryDef, rec: &Record, field: &str) -> String {
    match def.index(field) {
        Some(_) => rec.get(def, field).display(),
        None => String::new(),
    }
}

/// A record of a searched registry as a listing (`None` for others).
pub fn listing(def: &RegistryDef, rec: &Record) -> Option<Listing> {
    let t = |f: &str| text(def, rec, f);
    let (title, body) = match def.code {
        "demands" => (
            t("title"),
            format!("{} {}", t("description"), t("enterprise")),
        ),
        "offers" => (
            t("title"),
            format!(
                "{} {} {} {}",
                t("abstract"),
                t("owner"),
                t("ip"),
                t("modes")
            ),
        ),
        "experts" => (
            format!("{} {}", t("name"), t("expertise")),
            format!("{} {}", t("organization"), t("title_rank")),
        ),
        _ => return None,
    };
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    let published = def
        .date
        .and_then(|f| match rec.get(def, f) {
            Value::Date(d) => Some((*d - epoch).num_days()),
            _ => None,
        })
        .unwrap_or(0);
    Some(Listing {
        kind: def.code.to_string(),
        key: rec.key(def),
        title,
        body,
        field: t("field"),
        cluster: t("cluster"),
        area: t("area"),
        status: t("status"),
        readiness: t("readiness").parse().unwrap_or(0),
        published,
    })
}

/// Every listing the engine holds.
pub fn listings(engine: &Engine) -> Vec<Listing> {
    let mut out = Vec::new();
    for code in SEARCHED {
        let Some(def) = registry::by_code(code) else {
            continue;
        };
        for row in engine.search(code, "", None) {
            if let Some(l) = engine.record(code, row).and_then(|r| listing(def, &r)) {
                out.push(l);
            }
        }
    }
    out
}
