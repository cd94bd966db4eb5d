//! Whether an enterprise meets a qualification's conditions, from its
//! registry figures: 高新技术企业 (the 2016 measures), 科技型中小企业 (the
//! 2022 measures) and 专精特新中小企业 (main thresholds). Every threshold
//! comes from a versioned rule book (`catalogue/eligibility-rules.toml`);
//! each result names the rule book's version, every condition's outcome,
//! and for a condition not met the gap in money or people. Missing figures
//! are reported as missing, never guessed.
//!
//! Amounts are in 万元, shares as fractions (0.05 = 5%). Figures and
//! thresholds are exact decimals ([`Decimal`], read from the rule book's
//! text), and a ratio is judged by cross-multiplying (R&D ≥ 5% × revenue),
//! never by a rounded quotient: 336.4 万元 of R&D over 6,728 万元 of sales is
//! exactly 5%.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money;
pub use crate::money::Decimal;

fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

/// A ratio `num / den` with `den > 0`, kept as its two terms so that it is
/// compared with a threshold exactly: `num / den ≥ t` ⇔ `num ≥ t × den`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    pub num: Decimal,
    pub den: Decimal,
}

impl Ratio {
    /// `None` unless `den > 0`.
    pub fn new(num: Decimal, den: Decimal) -> Option<Ratio> {
        (den > Decimal::ZERO).then_some(Ratio { num, den })
    }

    /// `num / den ≥ t`, exactly (the product of two decimals of the
    /// registries' size is exact; past 28 digits the quotient decides).
    pub fn at_least(&self, t: Decimal) -> bool {
        match t.checked_mul(self.den) {
            Some(p) => self.num >= p,
            None => self.value() >= t,
        }
    }

    /// The quotient, for showing (28 significant digits).
    pub fn value(&self) -> Decimal {
        self.num.checked_div(self.den).unwrap_or(Decimal::MAX)
    }
}

/// "At least `min` gives `points`", for banded scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub min: Decimal,
    pub points: Decimal,
}

/// The points of the highest band `v` reaches (bands in any order); 0 below
/// them all.
pub fn banded(bands: &[Band], v: Decimal) -> Decimal {
    bands
        .iter()
        .filter(|b| v >= b.min)
        .map(|b| b.points)
        .fold(Decimal::ZERO, Decimal::max)
}

/// The points of the highest band a ratio reaches, judged exactly.
pub fn banded_ratio(bands: &[Band], r: Ratio) -> Decimal {
    bands
        .iter()
        .filter(|b| r.at_least(b.min))
        .map(|b| b.points)
        .fold(Decimal::ZERO, Decimal::max)
}

/// R&D intensity required by revenue band: up to `up_to` 万元 of revenue
/// (none: any revenue), at least `min_ratio`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RdBand {
    pub up_to: Option<Decimal>,
    pub min_ratio: Decimal,
}

/// 高新技术企业认定条件.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HteRule {
    #[serde(deserialize_with = "money::de_f64")]
    pub min_years_registered: f64,
    pub min_core_ip: Decimal,
    /// The eight supported technical fields.
    pub fields: Vec<String>,
    pub min_st_staff_ratio: Decimal,
    /// By the latest year's revenue, lowest band first.
    pub rd_bands: Vec<RdBand>,
    pub min_domestic_rd_share: Decimal,
    pub min_hitech_income_share: Decimal,
    /// Innovation score: IP (assessed, ≤ 30), transfer (assessed, ≤ 30), R&D
    /// management (assessed, ≤ 20) and growth (computed, ≤ 20: net-asset and
    /// sales growth, each by `growth_bands`).
    pub min_score: Decimal,
    pub growth_bands: Vec<Band>,
}

/// 科技型中小企业评价条件.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TsmeRule {
    pub max_staff: Decimal,
    pub max_revenue: Decimal,
    pub max_assets: Decimal,
    pub min_score: Decimal,
    /// S&T staff share → points (≤ 20); a zero here fails the evaluation.
    pub st_staff_bands: Vec<Band>,
    /// R&D ÷ revenue → points and R&D ÷ total cost → points (≤ 50); the
    /// better of the two counts.
    pub rd_sales_bands: Vec<Band>,
    pub rd_cost_bands: Vec<Band>,
    /// Points with at least one class-I IP (≤ 30), otherwise by the number
    /// of class-II IP.
    pub ip_class1_points: Decimal,
    pub ip_class2_bands: Vec<Band>,
}

/// 专精特新中小企业: the main thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZjtxRule {
    #[serde(deserialize_with = "money::de_f64")]
    pub min_years_registered: f64,
    pub min_rd_expense: Decimal,
    pub min_rd_ratio: Decimal,
    pub min_revenue: Decimal,
    pub max_staff: Decimal,
}

/// 专精特新"小巨人": the main thresholds. R&D intensity over the last two
/// years by revenue band (`rd_bands`, lowest band first; the first band
/// may instead be met by a two-year R&D total of `min_rd_total`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LittleGiantRule {
    /// Must hold a valid 专精特新中小企业 qualification (its code).
    pub requires: String,
    pub rd_bands: Vec<RdBand>,
    pub min_rd_total: Decimal,
    pub min_rd_staff_ratio: Decimal,
    pub min_class1_ip: Decimal,
}

/// 创新型中小企业: the size limit (the evaluation sheet is not modelled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InnovSmeRule {
    pub max_staff: Decimal,
}

/// A rule book: one version of every rule, with the documents it follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleBook {
    pub version: String,
    pub effective: NaiveDate,
    pub sources: Vec<String>,
    /// How far short a condition may fall (as a share of its threshold) for
    /// the firm to count as "near".
    pub near_margin: Decimal,
    pub hte: HteRule,
    pub tsme: TsmeRule,
    pub zjtx: ZjtxRule,
    pub little_giant: LittleGiantRule,
    pub innov_sme: InnovSmeRule,
    pub pipeline: PipelineRule,
    pub whitelist: WhitelistRule,
}

/// How much of the cultivation pipeline a forecast may count: the share of
/// eligible and of near firms expected to qualify by the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineRule {
    #[serde(deserialize_with = "money::de_f64")]
    pub eligible_rate: f64,
    #[serde(deserialize_with = "money::de_f64")]
    pub near_rate: f64,
}

/// The tech-enterprise whitelist banks lend against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhitelistRule {
    pub require_rd_activity: bool,
    /// An R&D institution, or at least `min_ip` pieces of IP.
    pub require_institution_or_ip: bool,
    pub min_ip: Decimal,
    /// Qualification kinds of which one valid is required.
    pub qualifications: Vec<String>,
}

/// The cultivation tiers (微成长、小升高、高变强).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 高变强: high-tech enterprises, to grow into specialised and leading firms.
    HighToStrong,
    /// 小升高: not yet high-tech, but eligible or near by the pre-check.
    SmallToHigh,
    /// 微成长: tech SMEs (held, eligible or near) not in the tiers above.
    MicroGrowth,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::MicroGrowth, Tier::SmallToHigh, Tier::HighToStrong];

    pub fn zh(self) -> &'static str {
        match self {
            Tier::MicroGrowth => "微成长",
            Tier::SmallToHigh => "小升高",
            Tier::HighToStrong => "高变强",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Tier::MicroGrowth => "micro",
            Tier::SmallToHigh => "small_high",
            Tier::HighToStrong => "high_strong",
        }
    }
}

/// A firm's tier from what it holds and its pre-checks; `None` when it is in
/// no pool.
pub fn tier(holds_hte: bool, holds_tsme: bool, hte: Verdict, tsme: Verdict) -> Option<Tier> {
    let hopeful = |v: Verdict| matches!(v, Verdict::Eligible | Verdict::Near);
    if holds_hte {
        Some(Tier::HighToStrong)
    } else if hopeful(hte) {
        Some(Tier::SmallToHigh)
    } else if holds_tsme || hopeful(tsme) {
        Some(Tier::MicroGrowth)
    } else {
        None
    }
}

/// The expected number of new qualifications from the pipeline.
pub fn pipeline(rule: &PipelineRule, eligible: usize, near: usize) -> f64 {
    eligible as f64 * rule.eligible_rate + near as f64 * rule.near_rate
}

/// One reason of the whitelist decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    pub label: &'static str,
    pub met: Option<bool>,
    pub detail: String,
}

/// Whether a firm is on the whitelist, with every reason; a missing figure
/// keeps a firm off (it cannot be shown to qualify) and says so.
pub fn whitelist(
    rule: &WhitelistRule,
    latest: Option<&YearFigures>,
    held: &[String],
    name_of: &dyn Fn(&str) -> String,
) -> (bool, Vec<Reason>) {
    let mut reasons = Vec::new();
    if rule.require_rd_activity {
        let v = latest.and_then(|y| y.has_rd_activity);
        reasons.push(Reason {
            label: "有研发活动",
            met: v,
            detail: match v {
                None => "未填报".into(),
                Some(true) => "有".into(),
                Some(false) => "无".into(),
            },
        });
    }
    if rule.require_institution_or_ip {
        let inst = latest.and_then(|y| y.has_rd_institution);
        let ip = latest.and_then(|y| match (y.ip_class1, y.ip_class2) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
        });
        let met = match (inst, ip) {
            (Some(true), _) => Some(true),
            (_, Some(n)) if n >= rule.min_ip => Some(true),
            (None, None) => None,
            _ => Some(false),
        };
        reasons.push(Reason {
            label: "有研发机构或知识产权",
            met,
            detail: format!(
                "研发机构：{}；知识产权：{}",
                match inst {
                    None => "未填报",
                    Some(true) => "有",
                    Some(false) => "无",
                },
                ip.map_or("未填报".to_string(), |n| format!("{} 件", num(n)))
            ),
        });
    }
    if !rule.qualifications.is_empty() {
        let found: Vec<&String> = held
            .iter()
            .filter(|k| rule.qualifications.contains(k))
            .collect();
        reasons.push(Reason {
            label: "持有有效资质",
            met: Some(!found.is_empty()),
            detail: if found.is_empty() {
                "无".into()
            } else {
                // The qualification's name, as the catalogue gives it.
                found
                    .iter()
                    .map(|s| name_of(s))
                    .collect::<Vec<_>>()
                    .join("、")
            },
        });
    }
    (reasons.iter().all(|r| r.met == Some(true)), reasons)
}

/// One year's figures of a firm, exact; `None` where the registry has no
/// figure.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct YearFigures {
    pub year: i32,
    pub revenue: Option<Decimal>,
    pub rd_expense: Option<Decimal>,
    pub rd_domestic: Option<Decimal>,
    pub total_cost: Option<Decimal>,
    pub total_assets: Option<Decimal>,
    pub net_assets: Option<Decimal>,
    pub staff: Option<Decimal>,
    pub st_staff: Option<Decimal>,
    pub hitech_income: Option<Decimal>,
    /// 总收入: revenue plus other income (the 2016 measures' denominator for
    /// the high-tech income share; 营业收入 is only part of it).
    pub total_income: Option<Decimal>,
    pub ip_class1: Option<Decimal>,
    pub ip_class2: Option<Decimal>,
    pub ip_score: Option<Decimal>,
    pub transfer_score: Option<Decimal>,
    pub mgmt_score: Option<Decimal>,
    pub major_accident: Option<bool>,
    pub has_rd_activity: Option<bool>,
    pub has_rd_institution: Option<bool>,
}

/// What the pre-check knows of a firm.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FirmFacts {
    pub registered_on: Option<NaiveDate>,
    pub tech_field: Option<String>,
    /// The latest year first; up to three years are used.
    pub years: Vec<YearFigures>,
    /// Holds a valid 高新技术企业 certificate (a direct route for 科技型中小企业).
    pub valid_hte: bool,
    /// Has a provincial or national R&D platform (a direct route too).
    pub provincial_platform: bool,
    /// Won a national S&T award in the last five years, among the first
    /// three units (a direct route for 科技型中小企业).
    pub national_award: bool,
    /// Led an international, national or industry standard in the last
    /// five years (a direct route too).
    pub leads_standard: bool,
    /// Qualification kinds held (valid) on the pre-check date.
    pub held: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Met,
    /// Not met, but within the rule book's margin.
    Near,
    NotMet,
    Missing,
    /// The figures contradict each other (S&T staff above all staff): the
    /// condition cannot be judged until they are corrected.
    Contradiction,
}

impl Outcome {
    pub fn zh(self) -> &'static str {
        match self {
            Outcome::Met => "符合",
            Outcome::Near => "接近",
            Outcome::NotMet => "不符合",
            Outcome::Missing => "缺数据",
            Outcome::Contradiction => "数据矛盾",
        }
    }
}

/// One condition's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Condition {
    pub code: &'static str,
    pub label: &'static str,
    pub outcome: Outcome,
    /// The firm's figure, in words ("3.2%", "12 人").
    pub actual: String,
    pub required: String,
    /// What it would take, when not met ("约 160 万元研发投入").
    pub gap: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Eligible,
    Near,
    NotEligible,
    /// No condition fails, but some cannot be judged for missing figures.
    Incomplete,
}

impl Verdict {
    /// Best first, the order lists and counts show.
    pub const ALL: [Verdict; 4] = [
        Verdict::Eligible,
        Verdict::Near,
        Verdict::Incomplete,
        Verdict::NotEligible,
    ];

    pub fn zh(self) -> &'static str {
        match self {
            Verdict::Eligible => "符合条件",
            Verdict::Near => "接近条件",
            Verdict::NotEligible => "不符合",
            Verdict::Incomplete => "数据不全",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Verdict::Eligible => "eligible",
            Verdict::Near => "near",
            Verdict::NotEligible => "not",
            Verdict::Incomplete => "incomplete",
        }
    }
}

/// A pre-check of one qualification for one firm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// `hte`, `tsme` or `zjtx`.
    pub rule: &'static str,
    pub version: String,
    pub verdict: Verdict,
    /// A direct route that decided the result, if one did.
    pub direct: Option<String>,
    /// The evaluation score where the rule has one.
    pub score: Option<Decimal>,
    pub conditions: Vec<Condition>,
}

fn met_if(ok: bool) -> Outcome {
    if ok { Outcome::Met } else { Outcome::NotMet }
}

fn verdict(conditions: &[Condition]) -> Verdict {
    let any = |o: Outcome| conditions.iter().any(|c| c.outcome == o);
    if any(Outcome::NotMet) {
        Verdict::NotEligible
    } else if any(Outcome::Near) {
        Verdict::Near
    } else if any(Outcome::Missing) || any(Outcome::Contradiction) {
        Verdict::Incomplete
    } else {
        Verdict::Eligible
    }
}

/// A share in per cent, cut (never rounded up) to two decimals: 4.999% is
/// shown as 4.99%, never as the 5% it does not reach.
fn pct(x: Decimal) -> String {
    let v = (x * dec(100))
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero)
        .normalize();
    format!("{v}%")
}

/// An amount of money as every page shows money: 万元 with thousands
/// separators and up to two decimals (one rule: a revenue of 67,656.2 万元
/// and a band edge of 20,000 万元 read alike, never "6.77 亿元" beside
/// "676562 万元").
fn wan(x: Decimal) -> String {
    let v = x
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    format!("{} 万元", money::grouped(&v.to_string()))
}

/// A shortfall of money: whole 万元 rounded up (a gap of 239.2 万元 needs
/// 240), with thousands separators.
fn gap(x: Decimal) -> String {
    format!("{} 万元", money::grouped(&money::ceil_whole(x).to_string()))
}

/// A figure as shown: up to four decimals, no trailing zeros.
fn num(x: Decimal) -> String {
    money::display(x)
}

struct Ctx<'a> {
    margin: Decimal,
    out: Vec<Condition>,
    facts: &'a FirmFacts,
}

impl Ctx<'_> {
    fn push(
        &mut self,
        code: &'static str,
        label: &'static str,
        outcome: Outcome,
        actual: String,
        required: String,
        gap: String,
    ) {
        // A met condition has no gap, whatever the caller worked out.
        let gap = if outcome == Outcome::Met {
            String::new()
        } else {
            gap
        };
        self.out.push(Condition {
            code,
            label,
            outcome,
            actual,
            required,
            gap,
        });
    }

    /// A count that must reach `min` (no "near": a missing patent is
    /// missing).
    fn count_at_least(
        &mut self,
        code: &'static str,
        label: &'static str,
        n: Option<Decimal>,
        min: Decimal,
        what: &str,
        required: String,
    ) {
        match n {
            None => self.missing(code, label, what, required),
            Some(n) => self.push(
                code,
                label,
                met_if(n >= min),
                format!("{} 件", num(n)),
                required,
                format!("还需 {} 件", num(min - n)),
            ),
        }
    }

    /// No major safety or quality accident in the period `required` names.
    fn no_accident(&mut self, accident: Option<bool>, required: &str) {
        match accident {
            None => self.missing("accident", "重大安全质量事故", "事故情况", required.into()),
            Some(a) => self.push(
                "accident",
                "重大安全质量事故",
                met_if(!a),
                if a { "有" } else { "无" }.into(),
                required.into(),
                String::new(),
            ),
        }
    }

    /// Figures that contradict each other, said in words.
    fn contradiction(
        &mut self,
        code: &'static str,
        label: &'static str,
        what: String,
        required: String,
    ) {
        self.push(
            code,
            label,
            Outcome::Contradiction,
            what,
            required,
            "请核实并更正企业年度数据".into(),
        );
    }

    fn missing(&mut self, code: &'static str, label: &'static str, what: &str, required: String) {
        self.push(
            code,
            label,
            Outcome::Missing,
            format!("缺少{what}"),
            required,
            String::new(),
        );
    }

    /// `value ≥ min`: met, near (within the margin of `min`) or not met;
    /// exact.
    fn at_least(&self, value: Decimal, min: Decimal) -> Outcome {
        if value >= min {
            Outcome::Met
        } else if value >= min * (Decimal::ONE - self.margin) {
            Outcome::Near
        } else {
            Outcome::NotMet
        }
    }

    /// A ratio `≥ min`, judged by cross-multiplying (exact).
    fn ratio_at_least(&self, r: Ratio, min: Decimal) -> Outcome {
        if r.at_least(min) {
            Outcome::Met
        } else if r.at_least(min * (Decimal::ONE - self.margin)) {
            Outcome::Near
        } else {
            Outcome::NotMet
        }
    }

    /// `value ≤ max`; exact.
    fn at_most(&self, value: Decimal, max: Decimal) -> Outcome {
        if value <= max {
            Outcome::Met
        } else if value <= max * (Decimal::ONE + self.margin) {
            Outcome::Near
        } else {
            Outcome::NotMet
        }
    }

    /// A share of staff (科技人员 or 研发人员, both counted from the S&T
    /// staff figure) of at least `min`, with the people still needed.
    fn staff_share(
        &mut self,
        code: &'static str,
        who: &'static str,
        y: &YearFigures,
        min: Decimal,
    ) {
        let label = if who == "科技人员" {
            "科技人员占比"
        } else {
            "研发人员占比"
        };
        let required = format!("{who}占职工总数不低于 {}", pct(min));
        match (y.st_staff, y.staff) {
            (Some(s), Some(n)) if s > n => self.contradiction(
                code,
                label,
                format!("科技人员 {} 人多于职工总数 {} 人", num(s), num(n)),
                required,
            ),
            (Some(s), Some(n)) if n > Decimal::ZERO => {
                let share = Ratio { num: s, den: n };
                let o = self.ratio_at_least(share, min);
                let need = money::ceil_whole(min * n - s);
                self.push(
                    code,
                    label,
                    o,
                    format!("{}（{} / {} 人）", pct(share.value()), num(s), num(n)),
                    required,
                    format!("还需{who}约 {need} 人"),
                );
            }
            (_, Some(n)) if n <= Decimal::ZERO => {
                self.missing(code, label, "职工人数（为 0）", required)
            }
            _ => self.missing(code, label, "职工或科技人员人数", required),
        }
    }

    fn years_registered(&mut self, code: &'static str, min: f64, on: NaiveDate) {
        let required = format!("注册成立满 {min} 年");
        match self.facts.registered_on {
            None => self.missing(code, "注册成立时间", "成立日期", required),
            Some(d) => {
                // Whole calendar months: registered on 2024-06-30, one year
                // is reached on 2025-06-30.
                let months = (min * 12.0).round().max(0.0) as u32;
                let due = d
                    .checked_add_months(chrono::Months::new(months))
                    .unwrap_or(NaiveDate::MAX);
                self.push(
                    code,
                    "注册成立时间",
                    met_if(due <= on),
                    format!("成立于 {d}"),
                    required,
                    format!("{due} 满 {min} 年，还需 {} 天", (due - on).num_days()),
                );
            }
        }
    }
}

/// The latest year and the years used for three-year sums (latest first).
fn latest(f: &FirmFacts) -> Option<&YearFigures> {
    f.years.first()
}

/// The pre-check of 高新技术企业 at `on` (usually the application date).
pub fn check_hte(book: &RuleBook, f: &FirmFacts, on: NaiveDate) -> Check {
    let r = &book.hte;
    let mut cx = Ctx {
        margin: book.near_margin,
        out: Vec::new(),
        facts: f,
    };
    cx.years_registered("registered", r.min_years_registered, on);
    let y = latest(f).cloned().unwrap_or_default();
    // Core IP: class I and class II together.
    let ip = match (y.ip_class1, y.ip_class2) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
    };
    cx.count_at_least(
        "core_ip",
        "核心知识产权",
        ip,
        r.min_core_ip,
        "知识产权数",
        format!("拥有核心知识产权不少于 {} 件", num(r.min_core_ip)),
    );
    // Field.
    let required = "属于国家重点支持的高新技术领域".to_string();
    match f.tech_field.as_deref().filter(|s| !s.is_empty()) {
        None => cx.missing("field", "技术领域", "技术领域", required),
        Some(field) => {
            let o = met_if(r.fields.iter().any(|x| x == field));
            cx.push(
                "field",
                "技术领域",
                o,
                field.to_string(),
                required,
                "主营产品（服务）的核心技术不在八大领域内，不能申报".into(),
            );
        }
    }
    // S&T staff share.
    cx.staff_share("st_staff", "科技人员", &y, r.min_st_staff_ratio);
    // Three-year R&D intensity by the latest revenue band.
    let used: Vec<&YearFigures> = f.years.iter().take(3).collect();
    let sums = used
        .iter()
        .map(|y| y.revenue.zip(y.rd_expense))
        .collect::<Option<Vec<_>>>();
    match (y.revenue, sums) {
        (Some(latest_rev), Some(pairs)) if !pairs.is_empty() => {
            let rev: Decimal = pairs.iter().map(|p| p.0).sum();
            let rd: Decimal = pairs.iter().map(|p| p.1).sum();
            let band = r
                .rd_bands
                .iter()
                .find(|b| b.up_to.is_none_or(|u| latest_rev <= u))
                .copied()
                .unwrap_or(RdBand {
                    up_to: None,
                    min_ratio: Decimal::new(3, 2),
                });
            let required = format!(
                "近 {} 年研发费用占销售收入不低于 {}（最近一年收入{}）",
                pairs.len(),
                pct(band.min_ratio),
                band.up_to.map_or("超过上一档".to_string(), |u| format!(
                    "不超过 {}",
                    wan(u)
                ))
            );
            if rev <= Decimal::ZERO {
                cx.missing("rd_ratio", "研发费用占比", "销售收入（为 0）", required);
            } else {
                let ratio = Ratio { num: rd, den: rev };
                let o = cx.ratio_at_least(ratio, band.min_ratio);
                cx.push(
                    "rd_ratio",
                    "研发费用占比",
                    o,
                    format!("{}（{} / {}）", pct(ratio.value()), wan(rd), wan(rev)),
                    required,
                    format!("还需研发投入约 {}", gap(band.min_ratio * rev - rd)),
                );
            }
        }
        _ => {
            let required = "近三年研发费用占销售收入达到所在收入档的比例".to_string();
            cx.missing("rd_ratio", "研发费用占比", "营业收入或研发费用", required);
        }
    }
    // R&D spent in China: a share of R&D alone, judged whether or not the
    // revenue is known.
    let required = format!(
        "境内研发费用占全部研发费用不低于 {}",
        pct(r.min_domestic_rd_share)
    );
    let rd_all = used
        .iter()
        .map(|y| y.rd_expense)
        .collect::<Option<Vec<_>>>();
    let dom = used
        .iter()
        .map(|y| y.rd_domestic)
        .collect::<Option<Vec<_>>>();
    match (rd_all.filter(|v| !v.is_empty()), dom) {
        (None, _) => cx.missing("rd_domestic", "境内研发费用占比", "研发费用", required),
        (Some(_), None) => cx.missing("rd_domestic", "境内研发费用占比", "境内研发费用", required),
        (Some(all), Some(d)) => {
            let rd: Decimal = all.iter().sum();
            let d: Decimal = d.iter().sum();
            if d > rd {
                cx.contradiction(
                    "rd_domestic",
                    "境内研发费用占比",
                    format!("境内研发费用 {} 大于研发费用总额 {}", wan(d), wan(rd)),
                    required,
                );
            } else if rd > Decimal::ZERO {
                let share = Ratio { num: d, den: rd };
                let o = cx.ratio_at_least(share, r.min_domestic_rd_share);
                cx.push(
                    "rd_domestic",
                    "境内研发费用占比",
                    o,
                    pct(share.value()),
                    required,
                    String::new(),
                );
            } else {
                cx.push(
                    "rd_domestic",
                    "境内研发费用占比",
                    Outcome::NotMet,
                    "无研发费用".into(),
                    required,
                    String::new(),
                );
            }
        }
    }
    // High-tech income share, latest year.
    let required = format!(
        "高新技术产品收入占总收入不低于 {}",
        pct(r.min_hitech_income_share)
    );
    // The 2016 measures divide by 总收入 (revenue plus other income), not by
    // 营业收入: a firm with large other income needs more high-tech income.
    match (y.hitech_income, y.total_income) {
        (Some(h), Some(rev)) if rev > Decimal::ZERO && h > rev => cx.contradiction(
            "hitech_income",
            "高新技术产品收入占比",
            format!("高新技术产品收入 {} 大于总收入 {}", wan(h), wan(rev)),
            required,
        ),
        (_, Some(total)) if y.revenue.is_some_and(|r| r > total) => cx.contradiction(
            "hitech_income",
            "高新技术产品收入占比",
            format!(
                "营业收入 {} 大于总收入 {}",
                wan(y.revenue.unwrap_or_default()),
                wan(total)
            ),
            required,
        ),
        (Some(h), Some(rev)) if rev > Decimal::ZERO => {
            let share = Ratio { num: h, den: rev };
            let o = cx.ratio_at_least(share, r.min_hitech_income_share);
            cx.push(
                "hitech_income",
                "高新技术产品收入占比",
                o,
                format!("{}（{} / {}）", pct(share.value()), wan(h), wan(rev)),
                required,
                format!(
                    "还需高新技术产品收入约 {}",
                    gap(r.min_hitech_income_share * rev - h)
                ),
            );
        }
        (None, _) => cx.missing(
            "hitech_income",
            "高新技术产品收入占比",
            "高新技术产品收入",
            required,
        ),
        _ => cx.missing(
            "hitech_income",
            "高新技术产品收入占比",
            "总收入（营业收入与其他收入之和）",
            required,
        ),
    }
    // Innovation score.
    let required = format!("创新能力评价不低于 {} 分", num(r.min_score));
    let growth = |field: fn(&YearFigures) -> Option<Decimal>| -> Option<Ratio> {
        // Average of the two yearly growth rates over three years, in per
        // cent, as one exact ratio: 100 × (½ (y2/y1 + y3/y2) − 1)
        // = (50 (y2² + y3·y1) − 100 y1·y2) / (y1·y2).
        if f.years.len() < 3 {
            return None;
        }
        let v: Vec<Decimal> = f
            .years
            .iter()
            .take(3)
            .map(field)
            .collect::<Option<Vec<_>>>()?;
        let (y3, y2, y1) = (v[0], v[1], v[2]);
        if y1 <= Decimal::ZERO || y2 <= Decimal::ZERO {
            return Some(Ratio {
                num: Decimal::ZERO,
                den: Decimal::ONE,
            });
        }
        let exact = || -> Option<Ratio> {
            let den = y1.checked_mul(y2)?;
            let num = dec(50)
                .checked_mul(y2.checked_mul(y2)?.checked_add(y3.checked_mul(y1)?)?)?
                .checked_sub(dec(100).checked_mul(den)?)?;
            Some(Ratio { num, den })
        };
        // Past 28 digits, through the quotients.
        Some(exact().unwrap_or_else(|| Ratio {
            num: dec(50) * (y2 / y1 + y3 / y2) - dec(100),
            den: Decimal::ONE,
        }))
    };
    let score = match (
        y.ip_score,
        y.transfer_score,
        y.mgmt_score,
        growth(|y| y.net_assets),
        growth(|y| y.revenue),
    ) {
        (Some(ip), Some(tr), Some(mg), Some(na), Some(sa)) => {
            let g = banded_ratio(&r.growth_bands, na) + banded_ratio(&r.growth_bands, sa);
            let s = ip.clamp(Decimal::ZERO, dec(30))
                + tr.clamp(Decimal::ZERO, dec(30))
                + mg.clamp(Decimal::ZERO, dec(20))
                + g;
            let s = s.normalize();
            let o = cx.at_least(s, r.min_score);
            cx.push(
                "score",
                "创新能力评价",
                o,
                format!(
                    "{} 分（知识产权 {}、成果转化 {}、研发管理 {}、成长性 {}；净资产增长 {}、销售增长 {}）",
                    num(s),
                    num(ip),
                    num(tr),
                    num(mg),
                    num(g),
                    pct(na.value() / dec(100)),
                    pct(sa.value() / dec(100))
                ),
                required,
                format!("差 {} 分", num(r.min_score - s)),
            );
            Some(s)
        }
        _ => {
            cx.missing(
                "score",
                "创新能力评价",
                "评价得分或连续三年的净资产、营业收入",
                required,
            );
            None
        }
    };
    // Accidents.
    cx.no_accident(y.major_accident, "申请前一年内无重大事故");
    Check {
        rule: "hte",
        version: book.version.clone(),
        verdict: verdict(&cx.out),
        direct: None,
        score,
        conditions: cx.out,
    }
}

/// The pre-check of 科技型中小企业 for the evaluation year of `f.years[0]`.
pub fn check_tsme(book: &RuleBook, f: &FirmFacts) -> Check {
    let r = &book.tsme;
    let mut cx = Ctx {
        margin: book.near_margin,
        out: Vec::new(),
        facts: f,
    };
    let y = latest(f).cloned().unwrap_or_default();
    for (code, label, v, max, unit) in [
        ("staff", "职工总数", y.staff, r.max_staff, "人"),
        ("revenue", "年销售收入", y.revenue, r.max_revenue, "万元"),
        ("assets", "资产总额", y.total_assets, r.max_assets, "万元"),
    ] {
        let required = format!("不超过 {} {unit}", num(max));
        match v {
            None => cx.missing(code, label, label, required),
            Some(v) => {
                let o = met_if(v <= max);
                cx.push(
                    code,
                    label,
                    o,
                    format!("{} {unit}", num(v)),
                    required,
                    String::new(),
                );
            }
        }
    }
    // Direct routes keep the size limits but skip the score.
    let direct = if f.valid_hte {
        Some("拥有有效期内的高新技术企业资格证书".to_string())
    } else if f.national_award {
        Some("近五年获国家级科技奖励（获奖单位前三名）".to_string())
    } else if f.provincial_platform {
        Some("拥有省级以上研发机构".to_string())
    } else if f.leads_standard {
        Some("近五年主导制定国际、国家或行业标准".to_string())
    } else {
        None
    };
    let mut score = None;
    if direct.is_none() {
        let st = match (y.st_staff, y.staff) {
            (Some(s), Some(n)) if n > Decimal::ZERO && s <= n => {
                Some(banded_ratio(&r.st_staff_bands, Ratio { num: s, den: n }))
            }
            _ => None,
        };
        let rd_sales = match (y.rd_expense, y.revenue) {
            (Some(rd), Some(rev)) if rev > Decimal::ZERO => {
                Some(banded_ratio(&r.rd_sales_bands, Ratio { num: rd, den: rev }))
            }
            (Some(_), Some(_)) => Some(Decimal::ZERO),
            _ => None,
        };
        let rd_cost = match (y.rd_expense, y.total_cost) {
            (Some(rd), Some(c)) if c > Decimal::ZERO => {
                Some(banded_ratio(&r.rd_cost_bands, Ratio { num: rd, den: c }))
            }
            _ => None,
        };
        let rd = match (rd_sales, rd_cost) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or_default().max(b.unwrap_or_default())),
        };
        let ip = match (y.ip_class1, y.ip_class2) {
            (None, None) => None,
            (a, b) if a.unwrap_or_default() >= Decimal::ONE => {
                let _ = b;
                Some(r.ip_class1_points)
            }
            (_, b) => Some(banded(&r.ip_class2_bands, b.unwrap_or_default())),
        };
        let required = format!(
            "评价得分不低于 {} 分，且科技人员指标得分不为 0",
            num(r.min_score)
        );
        match (st, rd, ip) {
            (Some(st), Some(rd), Some(ip)) => {
                let s = (st + rd + ip).normalize();
                score = Some(s);
                let o = if st <= Decimal::ZERO {
                    Outcome::NotMet
                } else {
                    cx.at_least(s, r.min_score)
                };
                cx.push(
                    "score",
                    "评价得分",
                    o,
                    format!(
                        "{} 分（科技人员 {}、研发投入 {}、知识产权 {}）",
                        num(s),
                        num(st),
                        num(rd),
                        num(ip)
                    ),
                    required,
                    if st <= Decimal::ZERO {
                        format!(
                            "科技人员占比须达到 {} 才得分",
                            pct(r
                                .st_staff_bands
                                .iter()
                                .map(|b| b.min)
                                .min()
                                .unwrap_or_default())
                        )
                    } else {
                        format!("差 {} 分", num(r.min_score - s))
                    },
                );
            }
            _ => cx.missing(
                "score",
                "评价得分",
                "科技人员、研发费用或知识产权数",
                required,
            ),
        }
    }
    cx.no_accident(y.major_accident, "上一年度无重大事故");
    Check {
        rule: "tsme",
        version: book.version.clone(),
        verdict: verdict(&cx.out),
        direct,
        score,
        conditions: cx.out,
    }
}

/// The pre-check of 专精特新中小企业's main thresholds at `on`.
pub fn check_zjtx(book: &RuleBook, f: &FirmFacts, on: NaiveDate) -> Check {
    let r = &book.zjtx;
    let mut cx = Ctx {
        margin: book.near_margin,
        out: Vec::new(),
        facts: f,
    };
    cx.years_registered("registered", r.min_years_registered, on);
    let y = latest(f).cloned().unwrap_or_default();
    let required = format!("上年度研发费用不低于 {}", wan(r.min_rd_expense));
    match y.rd_expense {
        None => cx.missing("rd_expense", "研发费用", "研发费用", required),
        Some(rd) => {
            let o = cx.at_least(rd, r.min_rd_expense);
            cx.push(
                "rd_expense",
                "研发费用",
                o,
                wan(rd),
                required,
                format!("还需研发投入约 {}", gap(r.min_rd_expense - rd)),
            );
        }
    }
    let required = format!("研发费用占营业收入不低于 {}", pct(r.min_rd_ratio));
    match (y.rd_expense, y.revenue) {
        (Some(rd), Some(rev)) if rev > Decimal::ZERO => {
            let ratio = Ratio { num: rd, den: rev };
            let o = cx.ratio_at_least(ratio, r.min_rd_ratio);
            cx.push(
                "rd_ratio",
                "研发费用占比",
                o,
                pct(ratio.value()),
                required,
                format!("还需研发投入约 {}", gap(r.min_rd_ratio * rev - rd)),
            );
        }
        _ => cx.missing("rd_ratio", "研发费用占比", "营业收入或研发费用", required),
    }
    let required = format!("上年度营业收入不低于 {}", wan(r.min_revenue));
    match y.revenue {
        None => cx.missing("revenue", "营业收入", "营业收入", required),
        Some(rev) => {
            let o = cx.at_least(rev, r.min_revenue);
            cx.push("revenue", "营业收入", o, wan(rev), required, String::new());
        }
    }
    let required = format!("中小企业（职工不超过 {} 人）", num(r.max_staff));
    match y.staff {
        None => cx.missing("staff", "企业规模", "职工人数", required),
        Some(n) => {
            let o = cx.at_most(n, r.max_staff);
            cx.push(
                "staff",
                "企业规模",
                o,
                format!("{} 人", num(n)),
                required,
                String::new(),
            );
        }
    }
    Check {
        rule: "zjtx",
        version: book.version.clone(),
        verdict: verdict(&cx.out),
        direct: None,
        score: None,
        conditions: cx.out,
    }
}

/// The pre-check of 专精特新"小巨人"'s main thresholds.
pub fn check_little_giant(book: &RuleBook, f: &FirmFacts) -> Check {
    let r = &book.little_giant;
    let mut cx = Ctx {
        margin: book.near_margin,
        out: Vec::new(),
        facts: f,
    };
    let holds = f.held.contains(&r.requires);
    cx.push(
        "zjtx",
        "专精特新中小企业",
        met_if(holds),
        if holds { "已认定" } else { "未认定" }.into(),
        "须为有效期内的专精特新中小企业".into(),
        String::new(),
    );
    let y = latest(f).cloned().unwrap_or_default();
    let two: Vec<&YearFigures> = f.years.iter().take(2).collect();
    let pairs = two
        .iter()
        .map(|y| y.revenue.zip(y.rd_expense))
        .collect::<Option<Vec<_>>>();
    match (y.revenue, pairs) {
        (Some(latest_rev), Some(p)) if !p.is_empty() => {
            let rev: Decimal = p.iter().map(|x| x.0).sum();
            let rd: Decimal = p.iter().map(|x| x.1).sum();
            let band = r
                .rd_bands
                .iter()
                .find(|b| b.up_to.is_none_or(|u| latest_rev < u))
                .copied()
                .unwrap_or(RdBand {
                    up_to: None,
                    min_ratio: Decimal::new(3, 2),
                });
            let lowest = r.rd_bands.first().is_some_and(|b| *b == band);
            let required = if lowest {
                format!(
                    "近两年研发费用合计不低于 {}，或占营业收入不低于 {}",
                    wan(r.min_rd_total),
                    pct(band.min_ratio)
                )
            } else {
                format!("近两年研发费用占营业收入不低于 {}", pct(band.min_ratio))
            };
            let ratio = Ratio::new(rd, rev);
            let o = match ratio {
                _ if lowest && rd >= r.min_rd_total => Outcome::Met,
                None => Outcome::NotMet,
                Some(q) => cx.ratio_at_least(q, band.min_ratio),
            };
            cx.push(
                "rd",
                "研发投入",
                o,
                format!(
                    "{}（{} / {}）",
                    pct(ratio.map_or(Decimal::ZERO, |q| q.value())),
                    wan(rd),
                    wan(rev)
                ),
                required,
                format!("还需研发投入约 {}", gap(band.min_ratio * rev - rd)),
            );
        }
        _ => cx.missing(
            "rd",
            "研发投入",
            "近两年营业收入或研发费用",
            "近两年研发费用达到所在收入档的要求".into(),
        ),
    }
    cx.staff_share("rd_staff", "研发人员", &y, r.min_rd_staff_ratio);
    cx.count_at_least(
        "ip",
        "I 类知识产权",
        y.ip_class1,
        r.min_class1_ip,
        "I 类知识产权件数",
        format!("I 类知识产权不少于 {} 件", num(r.min_class1_ip)),
    );
    Check {
        rule: "little_giant",
        version: book.version.clone(),
        verdict: verdict(&cx.out),
        direct: None,
        score: None,
        conditions: cx.out,
    }
}

/// The pre-check of 创新型中小企业: the size limit and the direct routes
/// the figures can show (a valid high-tech certificate, a provincial or
/// national R&D platform). The evaluation sheet (innovation, growth,
/// specialisation) is not in the registries, so without a direct route the
/// result is incomplete, never guessed.
pub fn check_innov_sme(book: &RuleBook, f: &FirmFacts) -> Check {
    let mut cx = Ctx {
        margin: book.near_margin,
        out: Vec::new(),
        facts: f,
    };
    let y = latest(f).cloned().unwrap_or_default();
    let max = book.innov_sme.max_staff;
    let required = format!("中小企业（职工不超过 {} 人）", num(max));
    match y.staff {
        None => cx.missing("staff", "企业规模", "职工人数", required),
        Some(n) => {
            let o = met_if(n <= max);
            cx.push(
                "staff",
                "企业规模",
                o,
                format!("{} 人", num(n)),
                required,
                String::new(),
            );
        }
    }
    let direct = if f.valid_hte {
        Some("拥有有效期内的高新技术企业资格证书".to_string())
    } else if f.provincial_platform {
        Some("拥有省级以上研发机构".to_string())
    } else {
        None
    };
    match &direct {
        Some(d) => cx.push(
            "route",
            "直接认定或评价得分",
            Outcome::Met,
            d.clone(),
            "符合直接认定条件之一，或评价得分不低于 60 分".into(),
            String::new(),
        ),
        None => cx.missing(
            "route",
            "直接认定或评价得分",
            "评价得分（创新能力、成长性、专业化须按评价表另行评定）",
            "符合直接认定条件之一，或评价得分不低于 60 分".into(),
        ),
    }
    Check {
        rule: "innov_sme",
        version: book.version.clone(),
        verdict: verdict(&cx.out),
        direct,
        score: None,
        conditions: cx.out,
    }
}

/// The rules' names, in the order pages show them.
pub const RULES: [(&str, &str); 5] = [
    ("hte", "高新技术企业"),
    ("tsme", "科技型中小企业"),
    ("innov_sme", "创新型中小企业"),
    ("zjtx", "专精特新中小企业"),
    ("little_giant", "专精特新“小巨人”企业"),
];
