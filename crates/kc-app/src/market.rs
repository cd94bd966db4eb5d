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

/// Demo listings for the market: achievements offered and demands from the
/// labelled topics (four of each per topic), and one expert per topic,
/// spread over the city market and the areas' sub-markets. Loaded once,
/// into a database whose market is empty; returns how many were written.
pub async fn load_demo_listings(
    store: &kc_store::Store,
    plan: &kc_domain::Plan,
    seed: u64,
) -> Result<usize, kc_store::StoreError> {
    if store.count_records("demands").await? > 0 || store.count_records("offers").await? > 0 {
        return Ok(0);
    }
    let cx = registry::CellContext::new(plan, crate::registries::catalogue());
    let (offers, demands) = kc_demo::market::labelled(seed, 4);
    let area_of = |i: usize| -> String {
        // One listing in three belongs to the city market.
        if i.is_multiple_of(3) || plan.areas.is_empty() {
            String::new()
        } else {
            plan.areas[i % plan.areas.len()].code.to_string()
        }
    };
    let day = |i: usize| format!("2025-{:02}-{:02}", 1 + i % 9, 1 + i % 28);
    // Demands come from registered firms of their cluster (in their
    // sub-market when they belong to one); achievements from universities,
    // institutes and firms by name.
    let firms = demo_firms(store).await?;
    let firm_for = |cluster: &str, area: &str, k: usize| -> Option<&DemoFirm> {
        let of: Vec<&DemoFirm> = firms
            .iter()
            .filter(|f| f.cluster == cluster && (area.is_empty() || f.area == area))
            .collect();
        let of = if of.is_empty() {
            firms.iter().filter(|f| f.cluster == cluster).collect()
        } else {
            of
        };
        (!of.is_empty()).then(|| of[(k * 37) % of.len()])
    };
    let owner_types = ["高校", "科研院所", "企业", "科研院所"];
    let owner = |i: usize, cluster: &str| -> String {
        use kc_demo::names::*;
        match owner_types[i % owner_types.len()] {
            "高校" if i % 8 < 4 => LOCAL_UNIVERSITIES[(i / 8) % 4].to_string(),
            "高校" => OUTSIDE_UNIVERSITIES[(i / 8) % 6].to_string(),
            "科研院所" if i % 8 == 1 => LOCAL_INSTITUTES[(i / 8) % 3].to_string(),
            "科研院所" => OUTSIDE_INSTITUTES[(i / 8) % 3].to_string(),
            _ => firm_for(cluster, "", i + 11)
                .map_or_else(|| LOCAL_INSTITUTES[0].to_string(), |f| f.name.clone()),
        }
    };
    let organizations: Vec<&str> = kc_demo::names::OUTSIDE_UNIVERSITIES
        .iter()
        .chain(&kc_demo::names::LOCAL_UNIVERSITIES)
        .chain(&kc_demo::names::LOCAL_INSTITUTES)
        .chain(&kc_demo::names::OUTSIDE_INSTITUTES)
        .copied()
        .collect();
    let mut written = 0;
    let put = |def: &'static RegistryDef, rows: Vec<Vec<(&'static str, String)>>| {
        let stored: Vec<kc_store::StoredRecord> = rows
            .iter()
            .filter_map(|cells| {
                let map: std::collections::HashMap<&str, &str> =
                    cells.iter().map(|(k, v)| (*k, v.as_str())).collect();
                registry::read_record(def, &map, &cx)
                    .ok()
                    .map(|r| crate::registries::stored(def, &r))
            })
            .collect();
        (def.code, stored)
    };
    let mut batches = Vec::new();
    batches.push(put(
        registry::by_code("offers").expect("the offers registry"),
        offers
            .iter()
            .enumerate()
            .map(|(i, o)| {
                vec![
                    ("number", o.key.clone()),
                    ("title", o.title.clone()),
                    ("abstract", o.body.clone()),
                    ("owner", owner(i, o.cluster)),
                    ("owner_type", owner_types[i % owner_types.len()].to_string()),
                    ("field", o.field.to_string()),
                    ("cluster", o.cluster.to_string()),
                    ("readiness", (4 + i % 5).to_string()),
                    ("modes", "转让、许可、合作开发".to_string()),
                    ("area", area_of(i)),
                    ("status", "已发布".to_string()),
                    ("published_on", day(i)),
                ]
            })
            .collect(),
    ));
    batches.push(put(
        registry::by_code("demands").expect("the demands registry"),
        demands
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let area = area_of(i + 1);
                let firm = firm_for(d.cluster, &area, i);
                vec![
                    ("number", d.key.clone()),
                    ("title", d.title.clone()),
                    ("description", d.body.clone()),
                    ("field", d.field.to_string()),
                    ("cluster", d.cluster.to_string()),
                    (
                        "enterprise",
                        firm.map_or_else(|| format!("{}企业", plan.city), |f| f.name.clone()),
                    ),
                    (
                        "credit_code",
                        firm.map_or_else(String::new, |f| f.code.clone()),
                    ),
                    (
                        "contact",
                        format!("{}（技术部）", kc_demo::names::person(120 + i)),
                    ),
                    ("area", area),
                    ("budget", (50 + (i % 10) * 30).to_string()),
                    ("status", "已发布".to_string()),
                    ("published_on", day(i + 3)),
                ]
            })
            .collect(),
    ));
    batches.push(put(
        registry::by_code("experts").expect("the experts registry"),
        kc_demo::market::TOPICS
            .iter()
            .enumerate()
            .map(|(i, t)| {
                vec![
                    ("number", format!("ZJ-{i:03}")),
                    ("name", kc_demo::names::person(i)),
                    (
                        "organization",
                        organizations[i % organizations.len()].to_string(),
                    ),
                    ("title_rank", kc_demo::names::title(i).to_string()),
                    ("field", t.field.to_string()),
                    ("expertise", t.terms.join("、")),
                ]
            })
            .collect(),
    ));
    // One technology transfer agency and one registered broker for the
    // city market and for every area's sub-market.
    let markets: Vec<(String, String)> = std::iter::once((String::new(), plan.city.clone()))
        .chain(
            plan.areas
                .iter()
                .map(|a| (a.code.to_string(), a.name.clone())),
        )
        .collect();
    batches.push(put(
        registry::by_code("agencies").expect("the agencies registry"),
        markets
            .iter()
            .map(|(code, name)| {
                vec![
                    ("name", format!("{name}技术转移服务中心")),
                    ("type", "技术转移机构".to_string()),
                    ("area", code.clone()),
                    ("joined_on", "2024-03-01".to_string()),
                ]
            })
            .collect(),
    ));
    batches.push(put(
        registry::by_code("brokers").expect("the brokers registry"),
        markets
            .iter()
            .enumerate()
            .map(|(i, (code, name))| {
                vec![
                    ("number", format!("JJR-{:03}", i + 1)),
                    ("name", kc_demo::names::person(200 + i)),
                    ("agency", format!("{name}技术转移服务中心")),
                    ("area", code.clone()),
                    ("registered_on", "2024-04-01".to_string()),
                    // The demo broker's sign-in is the city market's broker.
                    ("account", if i == 0 { "broker" } else { "" }.to_string()),
                ]
            })
            .collect(),
    ));
    for (code, recs) in batches {
        store.upsert_records(code, &recs, "demo").await?;
        written += recs.len();
    }
    Ok(written)
}

/// A registered firm as the demo market names it.
pub(crate) struct DemoFirm {
    pub code: String,
    pub name: String,
    pub area: String,
    pub cluster: String,
}

/// The registered firms, in the order of their credit codes.
pub(crate) async fn demo_firms(
    store: &kc_store::Store,
) -> Result<Vec<DemoFirm>, kc_store::StoreError> {
    let def = &registry::ENTERPRISES;
    let mut out = Vec::new();
    store
        .for_each_record(def.code, |r| {
            if let Ok(rec) = Record::from_json_str(def, &r.data) {
                out.push(DemoFirm {
                    code: rec.get(def, "credit_code").display(),
                    name: rec.get(def, "name").display(),
                    area: rec.get(def, "area").display(),
                    cluster: rec.get(def, "cluster").display(),
                });
            }
        })
        .await?;
    out.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(out)
}

/// An enterprise suggested for an achievement, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FittingEnterprise {
    pub credit_code: String,
    pub name: String,
    pub area: String,
    pub reasons: Vec<String>,
}

/// Registered enterprises of the achievement's industry cluster, those
/// above designated size and in manufacturing first (they can take up a
/// transferred achievement soonest). Candidates come from the engine's
/// text search on the cluster's name, so large registries are not scanned
/// whole; at most `limit` are returned.
pub fn fitting_enterprises(engine: &Engine, cluster: &str, limit: usize) -> Vec<FittingEnterprise> {
    if cluster.is_empty() {
        return Vec::new();
    }
    let def = &registry::ENTERPRISES;
    let yes = |r: &Record, f: &str| matches!(r.get(def, f), Value::Bool(true));
    let mut found: Vec<(u8, FittingEnterprise)> = engine
        .search("enterprises", cluster, None)
        .into_iter()
        .take(5_000)
        .filter_map(|row| engine.record("enterprises", row))
        .filter(|r| r.get(def, "cluster").display() == cluster)
        .map(|r| {
            let mut reasons = vec![format!("同属{cluster}集群")];
            let mut rank = 0;
            if yes(&r, "above_scale") {
                reasons.push("规模以上企业".into());
                rank += 2;
            }
            if yes(&r, "manufacturing") {
                reasons.push("制造业".into());
                rank += 1;
            }
            (
                rank,
                FittingEnterprise {
                    credit_code: r.get(def, "credit_code").display(),
                    name: r.get(def, "name").display(),
                    area: r.get(def, "area").display(),
                    reasons,
                },
            )
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.name.cmp(&b.1.name)));
    found.into_iter().take(limit).map(|(_, e)| e).collect()
}

/// The fields an enterprise fills in on the public demand form; the rest
/// (number, status) are set here.
pub const PUBLIC_FIELDS: [&str; 9] = [
    "title",
    "description",
    "field",
    "cluster",
    "enterprise",
    "credit_code",
    "area",
    "budget",
    "contact",
];

/// An enterprise's demand from the public form: checked like any registry
/// record (plus the county and a contact, which the public form requires),
/// stored as 待审核 under a generated number with its audit entry. `admit`
/// is the caller's rate limit, asked only once the demand is good, so that
/// a mistake does not use up one of an address's submissions. The caller
/// updates the search index.
pub async fn submit_public_demand(
    store: &kc_store::Store,
    engine: &mut Engine,
    plan: &kc_domain::Plan,
    ip: &str,
    fields: &std::collections::HashMap<String, String>,
    now: chrono::DateTime<chrono::Utc>,
    admit: impl FnOnce() -> bool,
) -> Result<Record, crate::registries::RecordCmdError> {
    use crate::registries::RecordCmdError;
    let def: &'static RegistryDef = &registry::DEMANDS;
    let mut errors = Vec::new();
    for req in ["area", "contact"] {
        if fields.get(req).is_none_or(|v| v.trim().is_empty()) {
            let label = def.field(req).map_or("", |x| x.label);
            errors.push(registry::CellError {
                field: req.into(),
                label: label.into(),
                value: String::new(),
                reason: format!("请填写{label}"),
            });
        }
    }
    let number = format!(
        "GK-{}-{:04}",
        now.format("%Y%m%d%H%M%S"),
        now.timestamp_subsec_micros() % 10_000
    );
    let mut cells: std::collections::HashMap<&str, &str> = PUBLIC_FIELDS
        .iter()
        .map(|c| (*c, fields.get(*c).map(|s| s.as_str()).unwrap_or("")))
        .collect();
    cells.insert("number", &number);
    cells.insert("status", "待审核");
    let rec = match crate::registries::check_record(engine, plan, def, &cells) {
        Ok(rec) if errors.is_empty() => rec,
        Ok(_) => return Err(RecordCmdError::Invalid(errors)),
        Err(mut cell_errors) => {
            cell_errors.extend(errors);
            return Err(RecordCmdError::Invalid(cell_errors));
        }
    };
    if !admit() {
        return Err(RecordCmdError::Refused(
            "提交过于频繁：同一网络地址每小时最多提交 5 条需求，请稍后再试".into(),
        ));
    }
    crate::registries::save_record(
        store,
        engine,
        def,
        &rec,
        None,
        crate::registries::By {
            actor: &crate::auth::Actor::new("public", ip),
            action: "market.submit",
            reason: "",
        },
    )
    .await?;
    Ok(rec)
}

/// A moderation decision on a listing from the public (or a member's)
/// submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Publish,
    Reject,
}

/// Which listing, and what to do with it.
#[derive(Debug, Clone, Copy)]
pub struct Moderate<'a> {
    /// `demands` or `offers`.
    pub reg: &'a str,
    pub key: &'a str,
    pub decision: Decision,
    /// Required to reject.
    pub reason: &'a str,
}

/// The market's manager publishes a waiting listing (已发布, today's date)
/// or rejects it with a reason (a demand is closed, an achievement taken
/// down); the record and the audit entry in one transaction.
pub async fn moderate(
    store: &kc_store::Store,
    engine: &mut Engine,
    plan: &kc_domain::Plan,
    caller: &crate::auth::Caller,
    cmd: Moderate<'_>,
    today: NaiveDate,
) -> Result<(&'static RegistryDef, Record), crate::registries::RecordCmdError> {
    use crate::registries::RecordCmdError;
    let Moderate {
        reg,
        key,
        decision,
        reason,
    } = cmd;
    let def: &'static RegistryDef = match reg {
        "demands" => &registry::DEMANDS,
        "offers" => &registry::OFFERS,
        _ => return Err(RecordCmdError::Refused("只能审核技术需求或科技成果".into())),
    };
    let reason = reason.trim();
    let rec = engine
        .row_of(def.code, key)
        .and_then(|row| engine.record(def.code, row))
        .ok_or(RecordCmdError::NotFound(def.name))?;
    let area = rec.get(def, "area").display();
    if !caller.principal.manages_market(&area) {
        return Err(RecordCmdError::Forbidden("审核这个市场的发布"));
    }
    if rec.get(def, "status").display() != "待审核" {
        return Err(RecordCmdError::State("该条目已审核过".into()));
    }
    let status = match (decision, def.code) {
        (Decision::Publish, _) => "已发布",
        (Decision::Reject, _) if reason.is_empty() => {
            return Err(RecordCmdError::Refused("不予发布须填写理由".into()));
        }
        (Decision::Reject, "demands") => "已关闭",
        (Decision::Reject, _) => "已下架",
    };
    let mut values: std::collections::HashMap<&str, String> = def
        .fields
        .iter()
        .map(|fd| (fd.code, rec.get(def, fd.code).display()))
        .collect();
    values.insert("status", status.into());
    if status == "已发布" {
        values.insert("published_on", today.to_string());
    }
    let cells: std::collections::HashMap<&str, &str> =
        values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let new = crate::registries::check_record(engine, plan, def, &cells).map_err(|errs| {
        RecordCmdError::Refused(
            errs.into_iter()
                .map(|c| format!("{}：{}", c.label, c.reason))
                .collect::<Vec<_>>()
                .join("；"),
        )
    })?;
    let action = match decision {
        Decision::Publish => "market.publish",
        Decision::Reject => "market.reject",
    };
    crate::registries::save_record(
        store,
        engine,
        def,
        &new,
        Some(key),
        crate::registries::By {
            actor: &caller.actor,
            action,
            reason,
        },
    )
    .await?;
    Ok((def, new))
}
