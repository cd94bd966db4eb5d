//! Enterprise cultivation from the registries: every firm's qualification
//! pre-checks (by the versioned rule book), the 两清零 worklists, and the
//! 亩均 evaluation under two weightings. The rules are the domain's; this
//! module gathers each firm's facts from the engine once (registries are
//! grouped by credit code in one pass, never searched per firm).

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use kc_domain::eligibility::{self, Check, Decimal, FirmFacts, RuleBook, Verdict, YearFigures};
use kc_domain::mujun::{self, MuInput, MuResult, Scheme};
use kc_domain::registry::{self, Record};
use kc_engine::Engine;
use serde::Serialize;

/// A registered enterprise as the cultivation pages list it.
#[derive(Debug, Clone, Serialize)]
pub struct Firm {
    pub credit_code: String,
    pub name: String,
    pub area: String,
    pub cluster: String,
    pub above_scale: bool,
    pub manufacturing: bool,
}

/// The figures of a firm's year beyond what the pre-checks use.
#[derive(Debug, Clone, Copy, Default)]
struct YearExtra {
    year: i32,
    revenue: Option<f64>,
    has_rd: Option<bool>,
    has_inst: Option<bool>,
    land: Option<f64>,
    energy: Option<f64>,
    tax: Option<f64>,
}

/// Everything the cultivation pages need of the registries, gathered once.
pub struct Registers {
    pub firms: Vec<Firm>,
    /// Position in `firms` by credit code.
    index: HashMap<String, usize>,
    facts: HashMap<String, FirmFacts>,
    extra: HashMap<String, Vec<YearExtra>>,
    /// Qualification kinds each firm holds on the date gathered.
    held: HashMap<String, Vec<String>>,
}

fn num(r: &Record, def: &registry::RegistryDef, f: &str) -> Option<f64> {
    r.get(def, f).as_f64()
}

/// A figure the pre-checks judge, exact: the engine's record holds it as
/// f64, and `as_decimal` gives back the decimal it was read as (336.4, not
/// 336.39999999999998).
fn dec(r: &Record, def: &registry::RegistryDef, f: &str) -> Option<Decimal> {
    r.get(def, f).as_decimal()
}

impl Registers {
    /// Gathers firms, their yearly figures up to `year` (latest first, three
    /// at most), the qualifications valid at `on`, and provincial or
    /// national platforms they host.
    pub fn gather(engine: &Engine, on: NaiveDate, year: i32) -> Registers {
        let ent = &registry::ENTERPRISES;
        let mut firms = Vec::new();
        let mut facts: HashMap<String, FirmFacts> = HashMap::new();
        for row in engine.search("enterprises", "", None) {
            let Some(r) = engine.record("enterprises", row) else {
                continue;
            };
            let code = r.get(ent, "credit_code").display();
            facts.insert(
                code.clone(),
                FirmFacts {
                    registered_on: r.get(ent, "registered_on").as_date(),
                    tech_field: r.get(ent, "tech_field").as_text().map(str::to_string),
                    ..FirmFacts::default()
                },
            );
            firms.push(Firm {
                credit_code: code,
                name: r.get(ent, "name").display(),
                area: r.get(ent, "area").display(),
                cluster: r.get(ent, "cluster").display(),
                above_scale: r.get(ent, "above_scale").as_bool() == Some(true),
                manufacturing: r.get(ent, "manufacturing").as_bool() == Some(true),
            });
        }
        let fig = &registry::FIGURES;
        let mut extra: HashMap<String, Vec<YearExtra>> = HashMap::new();
        for row in engine.search("enterprise_figures", "", None) {
            let Some(r) = engine.record("enterprise_figures", row) else {
                continue;
            };
            let Some(y) = num(&r, fig, "year")
                .map(|y| y as i32)
                .filter(|y| *y <= year)
            else {
                continue;
            };
            let code = r.get(fig, "credit_code").display();
            let Some(f) = facts.get_mut(&code) else {
                continue;
            };
            // The tech-SME direct routes look back five years.
            if y > year - 5 {
                f.national_award |= r.get(fig, "national_award").as_bool() == Some(true);
                f.leads_standard |= r.get(fig, "leads_standard").as_bool() == Some(true);
            }
            extra.entry(code).or_default().push(YearExtra {
                year: y,
                revenue: num(&r, fig, "revenue"),
                has_rd: r.get(fig, "has_rd_activity").as_bool(),
                has_inst: r.get(fig, "has_rd_institution").as_bool(),
                land: num(&r, fig, "land_mu"),
                energy: num(&r, fig, "energy"),
                tax: num(&r, fig, "tax"),
            });
            f.years.push(YearFigures {
                year: y,
                revenue: dec(&r, fig, "revenue"),
                rd_expense: dec(&r, fig, "rd_expense"),
                rd_domestic: dec(&r, fig, "rd_domestic"),
                total_cost: dec(&r, fig, "total_cost"),
                total_assets: dec(&r, fig, "total_assets"),
                net_assets: dec(&r, fig, "net_assets"),
                staff: dec(&r, fig, "staff"),
                st_staff: dec(&r, fig, "st_staff"),
                hitech_income: dec(&r, fig, "hitech_income"),
                total_income: dec(&r, fig, "total_income"),
                ip_class1: dec(&r, fig, "ip_class1"),
                ip_class2: dec(&r, fig, "ip_class2"),
                ip_score: dec(&r, fig, "ip_score"),
                transfer_score: dec(&r, fig, "transfer_score"),
                mgmt_score: dec(&r, fig, "mgmt_score"),
                major_accident: r.get(fig, "major_accident").as_bool(),
                has_rd_activity: r.get(fig, "has_rd_activity").as_bool(),
                has_rd_institution: r.get(fig, "has_rd_institution").as_bool(),
            });
        }
        for f in facts.values_mut() {
            f.years.sort_by_key(|y| std::cmp::Reverse(y.year));
            f.years.truncate(3);
        }
        let cat = crate::registries::catalogue();
        let q = &registry::QUALIFICATIONS;
        let mut held: HashMap<String, Vec<String>> = HashMap::new();
        for row in engine.search("qualifications", "", None) {
            let Some(r) = engine.record("qualifications", row) else {
                continue;
            };
            let valid = cat
                .validity(&r)
                .is_some_and(|(s, e)| s <= on && e.is_none_or(|e| on <= e));
            if valid {
                held.entry(r.get(q, "credit_code").display())
                    .or_default()
                    .push(r.get(q, "kind").display());
            }
        }
        for (code, kinds) in &held {
            if let Some(f) = facts.get_mut(code) {
                f.valid_hte = kinds.iter().any(|k| k == "hte");
                f.held = kinds.clone();
            }
        }
        let p = &registry::PLATFORMS;
        for row in engine.search("platforms", "", None) {
            let Some(r) = engine.record("platforms", row) else {
                continue;
            };
            let high = matches!(r.get(p, "level").as_text(), Some("国家级" | "省级"));
            let running = r.get(p, "ended_on").as_date().is_none_or(|e| e > on)
                && r.get(p, "approved_on").as_date().is_some_and(|a| a <= on);
            if high
                && running
                && let Some(f) = facts.get_mut(&r.get(p, "host_credit_code").display())
            {
                f.provincial_platform = true;
            }
        }
        let index = firms
            .iter()
            .enumerate()
            .map(|(i, f)| (f.credit_code.clone(), i))
            .collect();
        Registers {
            firms,
            index,
            facts,
            extra,
            held,
        }
    }

    fn year_extra(&self, code: &str, year: i32) -> Option<&YearExtra> {
        self.extra.get(code)?.iter().find(|y| y.year == year)
    }

    pub fn facts(&self, code: &str) -> Option<&FirmFacts> {
        self.facts.get(code)
    }

    pub fn holds(&self, code: &str, kind: &str) -> bool {
        self.held
            .get(code)
            .is_some_and(|k| k.iter().any(|x| x == kind))
    }

    pub fn firm(&self, code: &str) -> Option<&Firm> {
        self.index.get(code).map(|i| &self.firms[*i])
    }
}

/// One pre-check by rule code (see `eligibility::RULES`).
pub fn check(book: &RuleBook, rule: &str, facts: &FirmFacts, on: NaiveDate) -> Check {
    match rule {
        "hte" => eligibility::check_hte(book, facts, on),
        "tsme" => eligibility::check_tsme(book, facts),
        "innov_sme" => eligibility::check_innov_sme(book, facts),
        "zjtx" => eligibility::check_zjtx(book, facts, on),
        _ => eligibility::check_little_giant(book, facts),
    }
}

/// The pre-checks of one firm, in the order of `eligibility::RULES`.
pub fn checks(book: &RuleBook, facts: &FirmFacts, on: NaiveDate) -> Vec<Check> {
    eligibility::RULES
        .iter()
        .map(|(rule, _)| check(book, rule, facts, on))
        .collect()
}

/// A row of the pre-check list: a firm without the qualification, and its
/// verdict for it.
#[derive(Debug, Clone, Serialize)]
pub struct PrecheckRow {
    pub firm: Firm,
    pub check: Check,
}

/// Firms that do not hold `rule`'s qualification (at the gathering date)
/// and have figures, with their pre-check, nearest to qualifying first.
pub fn precheck_list(
    regs: &Registers,
    book: &RuleBook,
    rule: &str,
    on: NaiveDate,
    area: Option<&str>,
) -> Vec<PrecheckRow> {
    let mut out: Vec<PrecheckRow> = regs
        .firms
        .iter()
        .filter(|f| area.is_none_or(|a| f.area == a))
        .filter(|f| !regs.holds(&f.credit_code, rule))
        .filter_map(|f| {
            let facts = regs.facts(&f.credit_code)?;
            if facts.years.is_empty() {
                return None;
            }
            let check = check(book, rule, facts, on);
            Some(PrecheckRow {
                firm: f.clone(),
                check,
            })
        })
        .collect();
    let rank = |v: Verdict| Verdict::ALL.iter().position(|x| *x == v);
    out.sort_by(|a, b| {
        rank(a.check.verdict)
            .cmp(&rank(b.check.verdict))
            .then(b.check.score.cmp(&a.check.score))
            .then(a.firm.name.cmp(&b.firm.name))
    });
    out
}

/// A firm on a 两清零 worklist.
#[derive(Debug, Clone, Serialize)]
pub struct WorkRow {
    pub firm: Firm,
    pub year: i32,
    pub revenue: f64,
    /// `None` when the registry does not say (the firm cannot be shown to
    /// be cleared, so it stays on the list, marked 未填报).
    pub flag: Option<bool>,
}

/// Revenue thresholds of the two lists (万元).
pub const NO_RD_REVENUE: f64 = 10_000.0;
pub const NO_INST_REVENUE: f64 = 50_000.0;

/// The 两清零 worklists for the figures of `year`: above-scale
/// manufacturers with revenue ≥ 1 亿元 and no R&D activity, and those with
/// ≥ 5 亿元 and no R&D institution; largest first.
pub fn two_zero(regs: &Registers, year: i32, area: Option<&str>) -> (Vec<WorkRow>, Vec<WorkRow>) {
    let mut no_rd = Vec::new();
    let mut no_inst = Vec::new();
    for f in regs
        .firms
        .iter()
        .filter(|f| f.above_scale && f.manufacturing)
        .filter(|f| area.is_none_or(|a| f.area == a))
    {
        let Some(x) = regs.year_extra(&f.credit_code, year) else {
            continue;
        };
        let Some(rev) = x.revenue else {
            continue;
        };
        let row = |flag| WorkRow {
            firm: f.clone(),
            year,
            revenue: rev,
            flag,
        };
        if rev >= NO_RD_REVENUE && x.has_rd != Some(true) {
            no_rd.push(row(x.has_rd));
        }
        if rev >= NO_INST_REVENUE && x.has_inst != Some(true) {
            no_inst.push(row(x.has_inst));
        }
    }
    for l in [&mut no_rd, &mut no_inst] {
        l.sort_by(|a, b| b.revenue.total_cmp(&a.revenue));
    }
    (no_rd, no_inst)
}

/// The 亩均 indicator values of a firm's year, `None` where a figure is
/// missing or a divisor is zero.
pub fn mu_values(
    y: &YearFigures,
    land: Option<f64>,
    energy: Option<f64>,
    tax: Option<f64>,
) -> Vec<(String, Option<f64>)> {
    // 亩均 scores are shares of a benchmark, not boundaries: f64.
    let revenue = y.revenue.map(kc_domain::money::to_f64);
    let per_mu = |v: Option<f64>| v.zip(land.filter(|l| *l > 0.0)).map(|(v, l)| v / l);
    let rev = revenue.filter(|r| *r > 0.0);
    vec![
        ("tax_per_mu".into(), per_mu(tax)),
        ("output_per_mu".into(), per_mu(revenue)),
        (
            "rd_intensity".into(),
            y.rd_expense
                .map(kc_domain::money::to_f64)
                .zip(rev)
                .map(|(rd, r)| rd / r * 100.0),
        ),
        (
            "energy_per_output".into(),
            energy.zip(rev).map(|(e, r)| e / r),
        ),
    ]
}

/// One firm's 亩均 result under two schemes.
#[derive(Debug, Clone, Serialize)]
pub struct MuRow {
    pub firm: Firm,
    pub input: MuInput,
    pub a: MuResult,
    pub b: MuResult,
}

/// Evaluates the above-scale manufacturers with figures for `year` under
/// schemes `a` and `b` (benchmarks from the whole city, so an area's page
/// shows the same scores as the city's).
pub fn mujun_rows(regs: &Registers, year: i32, a: &Scheme, b: &Scheme) -> Vec<MuRow> {
    let firms: Vec<(&Firm, MuInput)> = regs
        .firms
        .iter()
        .filter(|f| f.above_scale && f.manufacturing)
        .filter_map(|f| {
            let facts = regs.facts(&f.credit_code)?;
            let y = facts.years.iter().find(|y| y.year == year)?;
            let x = regs
                .year_extra(&f.credit_code, year)
                .copied()
                .unwrap_or_default();
            let (land, energy, tax) = (x.land, x.energy, x.tax);
            Some((
                f,
                MuInput {
                    key: f.credit_code.clone(),
                    values: mu_values(y, land, energy, tax),
                },
            ))
        })
        .collect();
    let inputs: Vec<MuInput> = firms.iter().map(|(_, i)| i.clone()).collect();
    let ra = mujun::evaluate(a, &inputs);
    let rb = mujun::evaluate(b, &inputs);
    firms
        .into_iter()
        .zip(ra.into_iter().zip(rb))
        .map(|((f, input), (a, b))| MuRow {
            firm: f.clone(),
            input,
            a,
            b,
        })
        .collect()
}

/// The latest figures year that is complete at `on` (figures of a year are
/// filed in the spring after it).
pub fn figures_year(on: NaiveDate) -> i32 {
    if on.month() >= 6 {
        on.year() - 1
    } else {
        on.year() - 2
    }
}

/// The latest service record of a firm and how many it has.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FollowUp {
    pub owner: String,
    pub last_on: Option<NaiveDate>,
    pub status: String,
    pub count: usize,
}

/// Follow-up summaries by credit code, from the service records registry.
pub fn followups(engine: &Engine) -> HashMap<String, FollowUp> {
    let def = &registry::FOLLOWUPS;
    let mut out: HashMap<String, FollowUp> = HashMap::new();
    for row in engine.search("followups", "", None) {
        let Some(r) = engine.record("followups", row) else {
            continue;
        };
        let e = out.entry(r.get(def, "credit_code").display()).or_default();
        e.count += 1;
        let on = r.get(def, "visited_on").as_date();
        if on >= e.last_on {
            e.last_on = on;
            e.owner = r.get(def, "owner").display();
            e.status = r.get(def, "status").display();
        }
    }
    out
}

/// A firm in a cultivation pool.
#[derive(Debug, Clone, Serialize)]
pub struct PoolRow {
    pub firm: Firm,
    pub tier: eligibility::Tier,
    pub holds_hte: bool,
    pub holds_tsme: bool,
    pub hte: Verdict,
    pub tsme: Verdict,
    pub follow: FollowUp,
}

/// Every firm's tier (微成长、小升高、高变强) from what it holds and its
/// pre-checks.
pub fn pools(
    regs: &Registers,
    book: &RuleBook,
    on: NaiveDate,
    follow: &HashMap<String, FollowUp>,
) -> Vec<PoolRow> {
    regs.firms
        .iter()
        .filter_map(|f| {
            let facts = regs.facts(&f.credit_code)?;
            let holds_hte = regs.holds(&f.credit_code, "hte");
            let holds_tsme = regs.holds(&f.credit_code, "tsme");
            let (hte, tsme) = if facts.years.is_empty() {
                (Verdict::Incomplete, Verdict::Incomplete)
            } else {
                (
                    eligibility::check_hte(book, facts, on).verdict,
                    eligibility::check_tsme(book, facts).verdict,
                )
            };
            let tier = eligibility::tier(holds_hte, holds_tsme, hte, tsme)?;
            Some(PoolRow {
                firm: f.clone(),
                tier,
                holds_hte,
                holds_tsme,
                hte,
                tsme,
                follow: follow.get(&f.credit_code).cloned().unwrap_or_default(),
            })
        })
        .collect()
}

/// Pipeline counts from the pools (which hold every firm eligible or near
/// for either qualification): firms not holding `rule` (`hte` or `tsme`)
/// that are eligible, and that are near, for it.
pub fn pipeline_counts(pools: &[PoolRow], rule: &str) -> (usize, usize) {
    let of = |r: &PoolRow| {
        if rule == "hte" {
            (!r.holds_hte).then_some(r.hte)
        } else {
            (!r.holds_tsme).then_some(r.tsme)
        }
    };
    let count = |v: Verdict| pools.iter().filter(|r| of(r) == Some(v)).count();
    (count(Verdict::Eligible), count(Verdict::Near))
}

/// One firm judged against the whitelist rule, `None` if unknown.
pub fn whitelist_of(regs: &Registers, book: &RuleBook, code: &str) -> Option<WhiteRow> {
    let f = regs.firm(code)?;
    let held: Vec<String> = regs.held.get(code).cloned().unwrap_or_default();
    let latest = regs.facts(code).and_then(|x| x.years.first());
    let cat = crate::registries::catalogue();
    let name_of = |k: &str| cat.find(k).map_or(k.to_string(), |x| x.name.clone());
    let (on_list, reasons) = eligibility::whitelist(&book.whitelist, latest, &held, &name_of);
    Some(WhiteRow {
        firm: f.clone(),
        on_list,
        reasons,
        held,
    })
}

/// A whitelisted (or not) firm with the reasons.
#[derive(Debug, Clone, Serialize)]
pub struct WhiteRow {
    pub firm: Firm,
    pub on_list: bool,
    pub reasons: Vec<eligibility::Reason>,
    pub held: Vec<String>,
}

/// Every firm judged against the whitelist rule (latest figures year).
pub fn whitelist(regs: &Registers, book: &RuleBook) -> Vec<WhiteRow> {
    regs.firms
        .iter()
        .filter_map(|f| whitelist_of(regs, book, &f.credit_code))
        .collect()
}

/// Records a bank's loan to a firm for a user who may (`records_loans`): the
/// record's checks, the firm on the whitelist as of `today`, the contract
/// number new; then the record and its audit entry in one transaction and
/// the engine (the caller holds its write lock).
pub async fn record_loan(
    store: &kc_store::Store,
    engine: &mut Engine,
    plan: &kc_domain::Plan,
    caller: &crate::auth::Caller,
    cells: &HashMap<&str, &str>,
    today: NaiveDate,
) -> Result<String, crate::registries::RecordCmdError> {
    use crate::registries::RecordCmdError;
    if !caller.principal.records_loans() {
        return Err(RecordCmdError::Forbidden("登记科技贷款"));
    }
    // A bank records its own loans under its own name; the coordinator may
    // record one for a bank that has no account yet, naming it.
    let who = &caller.principal;
    let named = cells.get("bank").map(|b| b.trim()).unwrap_or("");
    let bank = if who.has(&kc_domain::auth::Role::Bank) || named.is_empty() {
        who.display_name.as_str()
    } else {
        named
    };
    let mut cells = cells.clone();
    cells.insert("bank", bank);
    let def: &'static registry::RegistryDef = &registry::LOANS;
    let rec = crate::registries::check_record(engine, plan, def, &cells)
        .map_err(RecordCmdError::Invalid)?;
    let refuse = |field: &str, label: &str, value: String, reason: &str| {
        RecordCmdError::Invalid(vec![registry::CellError {
            field: field.into(),
            label: label.into(),
            value,
            reason: reason.into(),
        }])
    };
    // Only firms on the whitelist.
    let on = engine.as_of.unwrap_or(today).min(today);
    let regs = Registers::gather(engine, on, figures_year(on));
    let credit = rec.get(def, "credit_code").display();
    if !whitelist_of(&regs, kc_planfile::default_rules(), &credit).is_some_and(|r| r.on_list) {
        return Err(refuse(
            "credit_code",
            "统一社会信用代码",
            credit,
            "该企业不在科技企业白名单中",
        ));
    }
    if engine.row_of(def.code, &rec.key(def)).is_some() {
        return Err(refuse(
            "number",
            "贷款合同编号",
            rec.key(def),
            "本行已登记过这个贷款合同编号",
        ));
    }
    Ok(crate::registries::save_record(
        store,
        engine,
        def,
        &rec,
        None,
        crate::registries::By::save(&caller.actor),
    )
    .await?)
}
