//! The technology market's deals and challenge projects (揭榜挂帅) as rules
//! on plain values: which stage may follow which, what a signed contract
//! must say, a broker's reward, how a panel's scores combine. The storage
//! keeps each deal and challenge as one document of these types; the
//! application layer turns a signed deal into a technology contract record
//! and an accepted challenge into a project record.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A message for the field it is about, shown beside that field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MarketError {
    #[error("当前阶段“{from}”不能转到“{to}”")]
    Stage {
        from: &'static str,
        to: &'static str,
    },
    #[error("内容有误")]
    Fields(Vec<FieldError>),
    #[error("{0}")]
    Rule(String),
}

fn field(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

// ---- deals ------------------------------------------------------------------------------------

/// Where a broker's deal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Matched,
    Contacted,
    Negotiating,
    Signed,
    Registered,
    Dropped,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Matched,
        Stage::Contacted,
        Stage::Negotiating,
        Stage::Signed,
        Stage::Registered,
        Stage::Dropped,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Stage::Matched => "matched",
            Stage::Contacted => "contacted",
            Stage::Negotiating => "negotiating",
            Stage::Signed => "signed",
            Stage::Registered => "registered",
            Stage::Dropped => "dropped",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Stage::Matched => "已匹配",
            Stage::Contacted => "已联系",
            Stage::Negotiating => "洽谈中",
            Stage::Signed => "已签约",
            Stage::Registered => "已登记",
            Stage::Dropped => "已终止",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.code() == s)
    }

    /// The stages a deal may move to from this one. Signing is a step of its
    /// own ([`Deal::sign`]) because it needs the contract's terms, and a
    /// signed deal can no longer be dropped: its contract is on record.
    pub fn next(self) -> &'static [Stage] {
        match self {
            Stage::Matched => &[Stage::Contacted, Stage::Dropped],
            Stage::Contacted => &[Stage::Negotiating, Stage::Dropped],
            Stage::Negotiating => &[Stage::Signed, Stage::Dropped],
            Stage::Signed => &[Stage::Registered],
            Stage::Registered | Stage::Dropped => &[],
        }
    }

    pub fn is_open(self) -> bool {
        !matches!(self, Stage::Registered | Stage::Dropped)
    }
}

/// The terms of the technology contract a deal ends in. Amounts in 万元.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContractTerms {
    pub reg_number: String,
    /// One of the contracts registry's types (技术开发, 技术转让…).
    pub kind: String,
    pub seller_name: String,
    pub seller_credit_code: String,
    pub seller_area: String,
    pub seller_type: String,
    pub buyer_name: String,
    pub buyer_credit_code: String,
    pub buyer_area: String,
    pub buyer_type: String,
    pub amount: f64,
    pub tech_amount: f64,
    pub signed_on: NaiveDate,
}

impl ContractTerms {
    /// Checks the terms on their own: names given, amounts positive and the
    /// technology part not above the whole, not signed in the future.
    pub fn check(&self, today: NaiveDate) -> Result<(), MarketError> {
        let mut errs = Vec::new();
        if self.reg_number.trim().is_empty() {
            errs.push(field("reg_number", "请填写合同登记编号"));
        }
        if self.seller_name.trim().is_empty() {
            errs.push(field("seller_name", "请填写卖方名称"));
        }
        if self.buyer_name.trim().is_empty() {
            errs.push(field("buyer_name", "请填写买方名称"));
        }
        if !(self.amount.is_finite() && self.amount > 0.0) {
            errs.push(field("amount", "合同金额应为大于 0 的数（万元）"));
        }
        if !(self.tech_amount.is_finite() && self.tech_amount > 0.0) {
            errs.push(field("tech_amount", "技术交易额应为大于 0 的数（万元）"));
        } else if self.amount.is_finite() && self.tech_amount > self.amount + 1e-9 {
            errs.push(field(
                "tech_amount",
                format!(
                    "技术交易额 {} 万元不能大于合同金额 {} 万元",
                    self.tech_amount, self.amount
                ),
            ));
        }
        if self.signed_on > today {
            errs.push(field("signed_on", "签约日期不能晚于今天"));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(MarketError::Fields(errs))
        }
    }
}

/// One line of a deal's log: a contact or a change of stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealEntry {
    /// Date of the contact or change.
    pub on: NaiveDate,
    pub by: String,
    /// `None` for a contact; the stage moved to otherwise.
    pub stage: Option<Stage>,
    pub note: String,
}

/// A broker's deal: a demand brought together with an achievement (or an
/// expert), moved through its stages to a registered contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deal {
    pub demand: String,
    #[serde(default)]
    pub offer: String,
    #[serde(default)]
    pub expert: String,
    /// The broker's registration number (技术经纪人登记证号).
    pub broker: String,
    /// The account that took the match.
    pub taken_by: String,
    /// The market it belongs to: an area code, empty for the city market.
    pub area: String,
    /// The matchmaking event it came from (events registry key), if any.
    #[serde(default)]
    pub event: String,
    pub stage: Stage,
    pub contract: Option<ContractTerms>,
    pub registered_on: Option<NaiveDate>,
    /// The broker's reward (万元), set on registration.
    pub reward: Option<f64>,
    pub log: Vec<DealEntry>,
}

const NOTE_LIMIT: usize = 2000;

fn check_note(note: &str, required: bool) -> Result<String, MarketError> {
    let n = note.trim();
    if required && n.is_empty() {
        return Err(MarketError::Fields(vec![field("note", "请填写说明")]));
    }
    if n.chars().count() > NOTE_LIMIT {
        return Err(MarketError::Fields(vec![field(
            "note",
            format!("说明最多 {NOTE_LIMIT} 字"),
        )]));
    }
    Ok(n.to_string())
}

impl Deal {
    pub fn new(
        demand: &str,
        offer: &str,
        expert: &str,
        broker: &str,
        area: &str,
        by: &str,
        on: NaiveDate,
    ) -> Result<Deal, MarketError> {
        let mut errs = Vec::new();
        if demand.trim().is_empty() {
            errs.push(field("demand", "请选择技术需求"));
        }
        if offer.trim().is_empty() && expert.trim().is_empty() {
            errs.push(field("offer", "请选择科技成果或专家"));
        }
        if broker.trim().is_empty() {
            errs.push(field("broker", "请选择技术经纪人"));
        }
        if !errs.is_empty() {
            return Err(MarketError::Fields(errs));
        }
        Ok(Deal {
            demand: demand.trim().into(),
            offer: offer.trim().into(),
            expert: expert.trim().into(),
            broker: broker.trim().into(),
            taken_by: by.into(),
            area: area.into(),
            event: String::new(),
            stage: Stage::Matched,
            contract: None,
            registered_on: None,
            reward: None,
            log: vec![DealEntry {
                on,
                by: by.into(),
                stage: Some(Stage::Matched),
                note: "经纪人接单".into(),
            }],
        })
    }

    /// Logs a contact; the deal must still be open.
    pub fn contact(&mut self, on: NaiveDate, by: &str, note: &str) -> Result<(), MarketError> {
        if !self.stage.is_open() {
            return Err(MarketError::Rule(format!(
                "对接已{}，不能再记录联系",
                self.stage.zh()
            )));
        }
        let note = check_note(note, true)?;
        self.log.push(DealEntry {
            on,
            by: by.into(),
            stage: None,
            note,
        });
        Ok(())
    }

    /// Moves to `to` (not to signed or registered, which need their terms).
    pub fn advance(
        &mut self,
        to: Stage,
        on: NaiveDate,
        by: &str,
        note: &str,
    ) -> Result<(), MarketError> {
        if matches!(to, Stage::Signed | Stage::Registered) || !self.stage.next().contains(&to) {
            return Err(MarketError::Stage {
                from: self.stage.zh(),
                to: to.zh(),
            });
        }
        // Dropping a deal needs a reason; other moves may carry a note.
        let note = check_note(note, to == Stage::Dropped)?;
        self.stage = to;
        self.log.push(DealEntry {
            on,
            by: by.into(),
            stage: Some(to),
            note,
        });
        Ok(())
    }

    /// Signs: records the contract's terms (checked) and moves to signed.
    pub fn sign(
        &mut self,
        terms: ContractTerms,
        today: NaiveDate,
        by: &str,
    ) -> Result<(), MarketError> {
        if self.stage != Stage::Negotiating {
            return Err(MarketError::Stage {
                from: self.stage.zh(),
                to: Stage::Signed.zh(),
            });
        }
        terms.check(today)?;
        let note = format!(
            "签订{}合同 {}，合同金额 {} 万元，技术交易额 {} 万元",
            terms.kind, terms.reg_number, terms.amount, terms.tech_amount
        );
        self.log.push(DealEntry {
            on: terms.signed_on,
            by: by.into(),
            stage: Some(Stage::Signed),
            note,
        });
        self.contract = Some(terms);
        self.stage = Stage::Signed;
        Ok(())
    }

    /// Registers the signed contract on `on` and sets the broker's reward
    /// by `rule`, given what the broker already earned that year.
    pub fn register(
        &mut self,
        on: NaiveDate,
        today: NaiveDate,
        by: &str,
        rule: &RewardRule,
        earned_in_year: f64,
    ) -> Result<Reward, MarketError> {
        let Some(terms) = self
            .contract
            .as_ref()
            .filter(|_| self.stage == Stage::Signed)
        else {
            return Err(MarketError::Stage {
                from: self.stage.zh(),
                to: Stage::Registered.zh(),
            });
        };
        if on < terms.signed_on {
            return Err(MarketError::Fields(vec![field(
                "registered_on",
                format!("登记日期不能早于签约日期 {}", terms.signed_on),
            )]));
        }
        if on > today {
            return Err(MarketError::Fields(vec![field(
                "registered_on",
                "登记日期不能晚于今天",
            )]));
        }
        let reward = rule.reward(terms.tech_amount, earned_in_year);
        self.stage = Stage::Registered;
        self.registered_on = Some(on);
        self.reward = Some(reward.amount);
        self.log.push(DealEntry {
            on,
            by: by.into(),
            stage: Some(Stage::Registered),
            note: format!("合同完成登记；经纪人奖励 {:.2} 万元", reward.amount),
        });
        Ok(reward)
    }

    /// The year whose per-year cap a registration counts against.
    pub fn reward_year(&self) -> Option<i32> {
        self.registered_on.map(|d| d.year())
    }
}

/// How a broker's reward per registered deal is computed (amounts in 万元):
/// `base + rate × technology transaction amount`, at most `per_deal_cap`,
/// and at most what is left of `per_year_cap` for that broker in that year.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RewardRule {
    pub rate: f64,
    #[serde(default)]
    pub base: f64,
    pub per_deal_cap: Option<f64>,
    pub per_year_cap: Option<f64>,
}

impl Default for RewardRule {
    fn default() -> Self {
        RewardRule {
            rate: 0.01,
            base: 0.0,
            per_deal_cap: Some(10.0),
            per_year_cap: Some(50.0),
        }
    }
}

/// A reward and which cap, if any, cut it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reward {
    pub amount: f64,
    /// Before any cap.
    pub uncapped: f64,
    pub capped_by: Option<&'static str>,
}

impl RewardRule {
    pub fn reward(&self, tech_amount: f64, earned_in_year: f64) -> Reward {
        let uncapped = (self.base + self.rate * tech_amount.max(0.0)).max(0.0);
        let mut amount = uncapped;
        let mut capped_by = None;
        if let Some(cap) = self.per_deal_cap
            && amount > cap
        {
            amount = cap;
            capped_by = Some("单笔上限");
        }
        if let Some(cap) = self.per_year_cap {
            let left = (cap - earned_in_year.max(0.0)).max(0.0);
            if amount > left {
                amount = left;
                capped_by = Some("年度上限");
            }
        }
        Reward {
            amount,
            uncapped,
            capped_by,
        }
    }

    /// The rule in words, for the pages that show a reward.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "奖励 = {}技术交易额 × {}%",
            if self.base > 0.0 {
                format!("{} 万元 + ", self.base)
            } else {
                String::new()
            },
            self.rate * 100.0
        );
        if let Some(c) = self.per_deal_cap {
            s.push_str(&format!("，单笔不超过 {c} 万元"));
        }
        if let Some(c) = self.per_year_cap {
            s.push_str(&format!("，每名经纪人每年不超过 {c} 万元"));
        }
        s
    }
}

// ---- challenge projects (揭榜挂帅) -------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeStage {
    /// 张榜: open for applications.
    Open,
    /// 评审: the panel scores the applications.
    Reviewing,
    /// 揭榜: awarded; the solver works through the milestones.
    Awarded,
    /// 验收通过.
    Accepted,
    /// 验收不通过.
    Failed,
}

impl ChallengeStage {
    pub const ALL: [ChallengeStage; 5] = [
        ChallengeStage::Open,
        ChallengeStage::Reviewing,
        ChallengeStage::Awarded,
        ChallengeStage::Accepted,
        ChallengeStage::Failed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ChallengeStage::Open => "open",
            ChallengeStage::Reviewing => "reviewing",
            ChallengeStage::Awarded => "awarded",
            ChallengeStage::Accepted => "accepted",
            ChallengeStage::Failed => "failed",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            ChallengeStage::Open => "张榜中",
            ChallengeStage::Reviewing => "评审中",
            ChallengeStage::Awarded => "已揭榜 · 实施中",
            ChallengeStage::Accepted => "验收通过",
            ChallengeStage::Failed => "验收不通过",
        }
    }
}

/// How a panel's scoring sheets become one score per application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The mean of the sheets.
    Mean,
    /// The mean after dropping one highest and one lowest sheet, when there
    /// are at least five (去掉一个最高分和一个最低分).
    TrimmedMean,
}

impl Combine {
    pub fn parse(s: &str) -> Option<Combine> {
        match s {
            "mean" => Some(Combine::Mean),
            "trimmed_mean" => Some(Combine::TrimmedMean),
            _ => None,
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Combine::Mean => "各专家总分的算术平均",
            Combine::TrimmedMean => "去掉一个最高分和一个最低分后的平均（不少于 5 份评分表时）",
        }
    }

    /// One score from the sheets' totals; `None` without sheets.
    pub fn combine(self, totals: &[f64]) -> Option<f64> {
        if totals.is_empty() {
            return None;
        }
        let mut t: Vec<f64> = totals.to_vec();
        t.sort_by(f64::total_cmp);
        let kept = match self {
            Combine::TrimmedMean if t.len() >= 5 => &t[1..t.len() - 1],
            _ => &t[..],
        };
        Some(kept.iter().sum::<f64>() / kept.len() as f64)
    }
}

/// One line of the scoring sheet and its full marks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub name: String,
    pub max: f64,
}

/// The plan's rules for challenges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChallengeRules {
    pub criteria: Vec<Criterion>,
    pub combine: Combine,
    /// The least combined score an application needs to be awarded.
    pub pass_score: f64,
    /// Panel members without a conflict needed to start the review.
    pub min_panel: usize,
}

impl Default for ChallengeRules {
    fn default() -> Self {
        let c = |name: &str, max: f64| Criterion {
            name: name.into(),
            max,
        };
        ChallengeRules {
            criteria: vec![
                c("技术方案先进性与可行性", 40.0),
                c("团队与研究基础", 25.0),
                c("实施计划与经费安排", 20.0),
                c("成果转化与产业化前景", 15.0),
            ],
            combine: Combine::TrimmedMean,
            pass_score: 60.0,
            min_panel: 3,
        }
    }
}

/// The market rules a plan carries: the broker reward and the challenge
/// scoring. Plans without a `[market]` section get the defaults.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MarketRules {
    pub reward: RewardRule,
    pub challenge: ChallengeRules,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: u32,
    /// The team leader who applies (揭榜人).
    pub solver: String,
    pub organization: String,
    pub proposal: String,
    pub applied_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Panelist {
    /// Key in the experts registry.
    pub expert: String,
    pub name: String,
    pub organization: String,
    /// Why the expert may not score, when they may not.
    pub conflict: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sheet {
    pub application: u32,
    pub expert: String,
    /// Points per criterion, in the order of the rules' criteria.
    pub points: Vec<f64>,
    pub total: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Milestone {
    pub title: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acceptance {
    pub on: NaiveDate,
    pub passed: bool,
    /// What the posing enterprise says of the result (验收须出题企业参与).
    pub enterprise_opinion: String,
    pub note: String,
}

/// A challenge project: a demand published as a funded challenge, its
/// applications, panel, scores, award, milestones and acceptance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Challenge {
    /// The demand it was made from (demands registry key).
    pub demand: String,
    pub title: String,
    pub goal: String,
    /// Funds offered (万元).
    pub budget: f64,
    pub deadline: NaiveDate,
    pub conditions: String,
    /// The posing enterprise and its credit code.
    pub enterprise: String,
    #[serde(default)]
    pub credit_code: String,
    pub cluster: String,
    /// Area code; empty for the city market.
    pub area: String,
    pub published_on: NaiveDate,
    pub stage: ChallengeStage,
    pub applications: Vec<Application>,
    pub panel: Vec<Panelist>,
    pub sheets: Vec<Sheet>,
    pub winner: Option<u32>,
    pub awarded_on: Option<NaiveDate>,
    pub milestones: Vec<Milestone>,
    pub acceptance: Option<Acceptance>,
    /// The project record created on acceptance (projects registry key).
    pub project: Option<String>,
}

/// What a new challenge says, as typed into its form.
pub struct ChallengeDraft<'a> {
    pub title: &'a str,
    pub goal: &'a str,
    pub budget: &'a str,
    pub deadline: &'a str,
    pub conditions: &'a str,
}

fn text(
    errs: &mut Vec<FieldError>,
    name: &'static str,
    label: &str,
    v: &str,
    max: usize,
) -> String {
    let v = v.trim();
    if v.is_empty() {
        errs.push(field(name, format!("请填写{label}")));
    } else if v.chars().count() > max {
        errs.push(field(name, format!("{label}最多 {max} 字")));
    }
    v.to_string()
}

fn date(errs: &mut Vec<FieldError>, name: &'static str, label: &str, v: &str) -> NaiveDate {
    match NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d") {
        Ok(d) => d,
        Err(_) => {
            errs.push(field(
                name,
                format!("{label}“{}”格式不正确，应为 YYYY-MM-DD", v.trim()),
            ));
            NaiveDate::MIN
        }
    }
}

fn stage_error(from: ChallengeStage, to: ChallengeStage) -> MarketError {
    MarketError::Stage {
        from: from.zh(),
        to: to.zh(),
    }
}

/// Whether two organisation names are the same unit, ignoring spaces.
fn same_org(a: &str, b: &str) -> bool {
    let n = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let (a, b) = (n(a), n(b));
    !a.is_empty() && a == b
}

/// The result of the review for one application.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Standing {
    pub application: u32,
    pub sheets: usize,
    pub score: Option<f64>,
}

impl Challenge {
    /// Publishes a challenge for a demand; checks the draft.
    #[allow(clippy::too_many_arguments)]
    pub fn publish(
        demand: &str,
        enterprise: &str,
        credit_code: &str,
        cluster: &str,
        area: &str,
        draft: &ChallengeDraft<'_>,
        today: NaiveDate,
    ) -> Result<Challenge, MarketError> {
        let mut errs = Vec::new();
        let title = text(&mut errs, "title", "榜单名称", draft.title, 200);
        let goal = text(&mut errs, "goal", "攻关目标", draft.goal, 5000);
        let conditions = text(&mut errs, "conditions", "揭榜条件", draft.conditions, 5000);
        let budget = match draft.budget.trim().parse::<f64>() {
            Ok(b) if b.is_finite() && b > 0.0 => b,
            _ => {
                errs.push(field("budget", "榜单金额应为大于 0 的数（万元）"));
                0.0
            }
        };
        let deadline = date(&mut errs, "deadline", "揭榜截止日期", draft.deadline);
        if deadline != NaiveDate::MIN && deadline <= today {
            errs.push(field("deadline", "揭榜截止日期应晚于今天"));
        }
        if !errs.is_empty() {
            return Err(MarketError::Fields(errs));
        }
        Ok(Challenge {
            demand: demand.into(),
            title,
            goal,
            budget,
            deadline,
            conditions,
            enterprise: enterprise.into(),
            credit_code: credit_code.into(),
            cluster: cluster.into(),
            area: area.into(),
            published_on: today,
            stage: ChallengeStage::Open,
            applications: Vec::new(),
            panel: Vec::new(),
            sheets: Vec::new(),
            winner: None,
            awarded_on: None,
            milestones: Vec::new(),
            acceptance: None,
            project: None,
        })
    }

    /// A solver applies with a proposal, while the challenge is open and
    /// not past its deadline.
    pub fn apply(
        &mut self,
        solver: &str,
        organization: &str,
        proposal: &str,
        today: NaiveDate,
    ) -> Result<u32, MarketError> {
        if self.stage != ChallengeStage::Open {
            return Err(MarketError::Rule(format!(
                "榜单{}，不再接受揭榜申请",
                self.stage.zh()
            )));
        }
        if today > self.deadline {
            return Err(MarketError::Rule(format!(
                "揭榜已于 {} 截止",
                self.deadline
            )));
        }
        let mut errs = Vec::new();
        let solver = text(&mut errs, "solver", "揭榜人", solver, 40);
        let organization = text(&mut errs, "organization", "揭榜单位", organization, 100);
        let proposal = text(&mut errs, "proposal", "技术方案", proposal, 20_000);
        if !errs.is_empty() {
            return Err(MarketError::Fields(errs));
        }
        if self
            .applications
            .iter()
            .any(|a| same_org(&a.organization, &organization) && a.solver == solver)
        {
            return Err(MarketError::Fields(vec![field(
                "solver",
                "该单位的该揭榜人已提交过申请",
            )]));
        }
        let id = self.applications.iter().map(|a| a.id).max().unwrap_or(0) + 1;
        self.applications.push(Application {
            id,
            solver,
            organization,
            proposal,
            applied_on: today,
        });
        Ok(id)
    }

    /// Puts an expert on the panel. A conflict of interest is recorded when
    /// declared, or found when the expert works for an applicant or for the
    /// posing enterprise; such an expert may not score.
    pub fn add_panelist(
        &mut self,
        expert: &str,
        name: &str,
        organization: &str,
        declared: &str,
    ) -> Result<(), MarketError> {
        if !matches!(self.stage, ChallengeStage::Open | ChallengeStage::Reviewing) {
            return Err(MarketError::Rule("评审结束后不能再调整专家组".into()));
        }
        if self.panel.iter().any(|p| p.expert == expert) {
            return Err(MarketError::Fields(vec![field(
                "expert",
                "该专家已在专家组中",
            )]));
        }
        let conflict = if !declared.trim().is_empty() {
            Some(format!("本人申报回避：{}", declared.trim()))
        } else if same_org(organization, &self.enterprise) {
            Some(format!("与出题企业“{}”同属一个单位", self.enterprise))
        } else {
            self.applications
                .iter()
                .find(|a| same_org(&a.organization, organization))
                .map(|a| format!("与揭榜单位“{}”同属一个单位", a.organization))
        };
        self.panel.push(Panelist {
            expert: expert.into(),
            name: name.into(),
            organization: organization.into(),
            conflict,
        });
        Ok(())
    }

    /// Panel members who may score.
    pub fn scorers(&self) -> impl Iterator<Item = &Panelist> {
        self.panel.iter().filter(|p| p.conflict.is_none())
    }

    /// Closes applications and starts the review.
    pub fn start_review(&mut self, rules: &ChallengeRules) -> Result<(), MarketError> {
        if self.stage != ChallengeStage::Open {
            return Err(stage_error(self.stage, ChallengeStage::Reviewing));
        }
        if self.applications.is_empty() {
            return Err(MarketError::Rule("还没有揭榜申请，不能开始评审".into()));
        }
        // Applications may have arrived after the panel was formed: check
        // every member against them again.
        let applicants: Vec<String> = self
            .applications
            .iter()
            .map(|a| a.organization.clone())
            .collect();
        for p in self.panel.iter_mut().filter(|p| p.conflict.is_none()) {
            if let Some(o) = applicants.iter().find(|o| same_org(o, &p.organization)) {
                p.conflict = Some(format!("与揭榜单位“{o}”同属一个单位"));
            }
        }
        let n = self.scorers().count();
        if n < rules.min_panel {
            return Err(MarketError::Rule(format!(
                "可参与评分的专家只有 {n} 名，至少需要 {} 名（回避的专家不计）",
                rules.min_panel
            )));
        }
        self.stage = ChallengeStage::Reviewing;
        Ok(())
    }

    /// Records (or replaces) an expert's sheet for an application.
    pub fn score(
        &mut self,
        rules: &ChallengeRules,
        application: u32,
        expert: &str,
        points: &[f64],
    ) -> Result<f64, MarketError> {
        if self.stage != ChallengeStage::Reviewing {
            return Err(MarketError::Rule(format!(
                "榜单{}，不能录入评分",
                self.stage.zh()
            )));
        }
        if !self.applications.iter().any(|a| a.id == application) {
            return Err(MarketError::Fields(vec![field(
                "application",
                "没有这份揭榜申请",
            )]));
        }
        let Some(p) = self.panel.iter().find(|p| p.expert == expert) else {
            return Err(MarketError::Fields(vec![field(
                "expert",
                "该专家不在专家组中",
            )]));
        };
        if let Some(c) = &p.conflict {
            return Err(MarketError::Fields(vec![field(
                "expert",
                format!("该专家须回避（{c}），不能评分"),
            )]));
        }
        if points.len() != rules.criteria.len() {
            return Err(MarketError::Fields(vec![field(
                "points",
                format!("评分表应有 {} 项", rules.criteria.len()),
            )]));
        }
        let mut errs = Vec::new();
        for (c, p) in rules.criteria.iter().zip(points) {
            if !(p.is_finite() && *p >= 0.0 && *p <= c.max) {
                errs.push(field(
                    "points",
                    format!("“{}”的得分应在 0–{} 之间", c.name, c.max),
                ));
            }
        }
        if !errs.is_empty() {
            return Err(MarketError::Fields(errs));
        }
        let total = points.iter().sum();
        self.sheets
            .retain(|s| !(s.application == application && s.expert == expert));
        self.sheets.push(Sheet {
            application,
            expert: expert.into(),
            points: points.to_vec(),
            total,
        });
        Ok(total)
    }

    /// Every application's combined score, best first (unscored last).
    pub fn standings(&self, rules: &ChallengeRules) -> Vec<Standing> {
        let mut out: Vec<Standing> = self
            .applications
            .iter()
            .map(|a| {
                let totals: Vec<f64> = self
                    .sheets
                    .iter()
                    .filter(|s| {
                        s.application == a.id
                            && self
                                .panel
                                .iter()
                                .any(|p| p.expert == s.expert && p.conflict.is_none())
                    })
                    .map(|s| s.total)
                    .collect();
                Standing {
                    application: a.id,
                    sheets: totals.len(),
                    score: rules.combine.combine(&totals),
                }
            })
            .collect();
        out.sort_by(|a, b| {
            b.score
                .unwrap_or(f64::NEG_INFINITY)
                .total_cmp(&a.score.unwrap_or(f64::NEG_INFINITY))
                .then(a.application.cmp(&b.application))
        });
        out
    }

    /// Awards the challenge to the best application once every member who
    /// may score has scored every application; it must reach the pass score.
    pub fn award(&mut self, rules: &ChallengeRules, on: NaiveDate) -> Result<u32, MarketError> {
        if self.stage != ChallengeStage::Reviewing {
            return Err(stage_error(self.stage, ChallengeStage::Awarded));
        }
        let scorers: Vec<&Panelist> = self.scorers().collect();
        let missing = self
            .applications
            .iter()
            .flat_map(|a| scorers.iter().map(move |p| (a, p)))
            .filter(|(a, p)| {
                !self
                    .sheets
                    .iter()
                    .any(|s| s.application == a.id && s.expert == p.expert)
            })
            .count();
        if missing > 0 {
            return Err(MarketError::Rule(format!(
                "还有 {missing} 份评分表未录入，全部录入后才能确定揭榜单位"
            )));
        }
        let best = self.standings(rules).into_iter().next();
        match best {
            Some(Standing {
                application,
                score: Some(s),
                ..
            }) if s >= rules.pass_score => {
                self.winner = Some(application);
                self.awarded_on = Some(on);
                self.stage = ChallengeStage::Awarded;
                Ok(application)
            }
            Some(Standing { score: Some(s), .. }) => Err(MarketError::Rule(format!(
                "最高综合得分 {s:.1} 分低于及格分 {} 分，不能揭榜",
                rules.pass_score
            ))),
            _ => Err(MarketError::Rule("没有可评的揭榜申请".into())),
        }
    }

    pub fn add_milestone(&mut self, title: &str, due_on: &str) -> Result<(), MarketError> {
        if self.stage != ChallengeStage::Awarded {
            return Err(MarketError::Rule("揭榜后才能设置里程碑".into()));
        }
        let mut errs = Vec::new();
        let title = text(&mut errs, "milestone_title", "里程碑名称", title, 200);
        let due_on = date(&mut errs, "due_on", "计划完成日期", due_on);
        if !errs.is_empty() {
            return Err(MarketError::Fields(errs));
        }
        self.milestones.push(Milestone {
            title,
            due_on,
            done_on: None,
            note: String::new(),
        });
        Ok(())
    }

    pub fn complete_milestone(
        &mut self,
        index: usize,
        on: NaiveDate,
        note: &str,
    ) -> Result<(), MarketError> {
        if self.stage != ChallengeStage::Awarded {
            return Err(MarketError::Rule("只有实施中的榜单可以完成里程碑".into()));
        }
        let note = check_note(note, false)?;
        let m = self
            .milestones
            .get_mut(index)
            .ok_or_else(|| MarketError::Rule("没有这个里程碑".into()))?;
        if m.done_on.is_some() {
            return Err(MarketError::Rule(format!("里程碑“{}”已完成", m.title)));
        }
        m.done_on = Some(on);
        m.note = note;
        Ok(())
    }

    /// Acceptance, judged with the posing enterprise: its opinion is
    /// required, and a pass needs every milestone done.
    pub fn accept(
        &mut self,
        on: NaiveDate,
        passed: bool,
        enterprise_opinion: &str,
        note: &str,
    ) -> Result<(), MarketError> {
        if self.stage != ChallengeStage::Awarded {
            return Err(stage_error(
                self.stage,
                if passed {
                    ChallengeStage::Accepted
                } else {
                    ChallengeStage::Failed
                },
            ));
        }
        let mut errs = Vec::new();
        let opinion = text(
            &mut errs,
            "enterprise_opinion",
            "出题企业意见",
            enterprise_opinion,
            5000,
        );
        if !errs.is_empty() {
            return Err(MarketError::Fields(errs));
        }
        let note = check_note(note, false)?;
        if passed && self.milestones.iter().any(|m| m.done_on.is_none()) {
            return Err(MarketError::Rule("还有未完成的里程碑，不能验收通过".into()));
        }
        if self.awarded_on.is_some_and(|a| on < a) {
            return Err(MarketError::Fields(vec![field(
                "accepted_on",
                "验收日期不能早于揭榜日期",
            )]));
        }
        self.acceptance = Some(Acceptance {
            on,
            passed,
            enterprise_opinion: opinion,
            note,
        });
        self.stage = if passed {
            ChallengeStage::Accepted
        } else {
            ChallengeStage::Failed
        };
        Ok(())
    }

    pub fn winner(&self) -> Option<&Application> {
        self.winner
            .and_then(|w| self.applications.iter().find(|a| a.id == w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn terms(amount: f64, tech: f64) -> ContractTerms {
        ContractTerms {
            reg_number: "2025340300000123".into(),
            kind: "技术开发".into(),
            seller_name: "某大学".into(),
            seller_credit_code: String::new(),
            seller_area: String::new(),
            seller_type: "高校".into(),
            buyer_name: "某公司".into(),
            buyer_credit_code: String::new(),
            buyer_area: "340302".into(),
            buyer_type: "企业".into(),
            amount,
            tech_amount: tech,
            signed_on: d("2025-05-01"),
        }
    }

    #[test]
    fn a_deal_runs_its_stages_and_no_others() {
        let today = d("2025-06-30");
        let mut deal = Deal::new("XQ-1", "CG-1", "", "JJ-1", "", "kjj", d("2025-04-01")).unwrap();
        assert!(deal.sign(terms(100.0, 80.0), today, "kjj").is_err());
        assert!(deal.advance(Stage::Negotiating, today, "kjj", "").is_err());
        deal.contact(d("2025-04-02"), "kjj", "电话联系双方")
            .unwrap();
        deal.advance(Stage::Contacted, d("2025-04-02"), "kjj", "")
            .unwrap();
        deal.advance(Stage::Negotiating, d("2025-04-10"), "kjj", "")
            .unwrap();
        assert!(deal.advance(Stage::Signed, today, "kjj", "").is_err());
        deal.sign(terms(100.0, 80.0), today, "kjj").unwrap();
        assert!(deal.advance(Stage::Dropped, today, "kjj", "x").is_err());
        let r = deal
            .register(d("2025-05-10"), today, "kjj", &RewardRule::default(), 0.0)
            .unwrap();
        assert_eq!(r.amount, 0.8);
        assert_eq!(deal.stage, Stage::Registered);
        assert!(deal.contact(today, "kjj", "x").is_err());
    }

    #[test]
    fn amounts_that_do_not_add_up_are_refused_with_the_field() {
        let today = d("2025-06-30");
        let err = |t: ContractTerms| match t.check(today) {
            Err(MarketError::Fields(f)) => f.iter().map(|e| e.field).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(err(terms(50.0, 80.0)), ["tech_amount"]);
        assert_eq!(err(terms(0.0, 0.0)), ["amount", "tech_amount"]);
        assert_eq!(err(terms(f64::NAN, 1.0)), ["amount"]);
        let mut future = terms(10.0, 10.0);
        future.signed_on = d("2025-07-01");
        assert_eq!(err(future), ["signed_on"]);
        assert!(terms(10.0, 10.0).check(today).is_ok());
    }

    #[test]
    fn dropping_needs_a_reason_and_registration_follows_signing() {
        let today = d("2025-06-30");
        let mut deal = Deal::new("XQ-1", "", "ZJ-1", "JJ-1", "", "kjj", today).unwrap();
        assert!(matches!(
            deal.advance(Stage::Dropped, today, "kjj", " "),
            Err(MarketError::Fields(_))
        ));
        deal.advance(Stage::Dropped, today, "kjj", "企业放弃")
            .unwrap();
        assert!(deal.advance(Stage::Contacted, today, "kjj", "").is_err());
        assert!(
            Deal::new("", "", "", "", "", "kjj", today).is_err(),
            "a deal needs a demand, a counterpart and a broker"
        );
    }

    #[test]
    fn reward_caps() {
        let rule = RewardRule {
            rate: 0.02,
            base: 1.0,
            per_deal_cap: Some(10.0),
            per_year_cap: Some(15.0),
        };
        assert_eq!(rule.reward(100.0, 0.0).amount, 3.0);
        let r = rule.reward(1000.0, 0.0);
        assert_eq!((r.amount, r.capped_by), (10.0, Some("单笔上限")));
        let r = rule.reward(1000.0, 10.0);
        assert_eq!((r.amount, r.capped_by), (5.0, Some("年度上限")));
        assert_eq!(rule.reward(1000.0, 20.0).amount, 0.0);
    }

    #[test]
    fn trimmed_mean_drops_one_highest_and_one_lowest_from_five() {
        assert_eq!(
            Combine::TrimmedMean.combine(&[60.0, 70.0, 80.0]),
            Some(70.0)
        );
        assert_eq!(
            Combine::TrimmedMean.combine(&[10.0, 70.0, 80.0, 90.0, 100.0]),
            Some(80.0)
        );
        assert_eq!(Combine::Mean.combine(&[10.0, 70.0]), Some(40.0));
        assert_eq!(Combine::Mean.combine(&[]), None);
    }

    fn challenge() -> Challenge {
        Challenge::publish(
            "XQ-1",
            "蚌埠某新材料公司",
            "",
            "新材料",
            "",
            &ChallengeDraft {
                title: "高纯石英砂提纯技术",
                goal: "纯度 99.998%",
                budget: "300",
                deadline: "2025-08-31",
                conditions: "具备中试条件",
            },
            d("2025-06-01"),
        )
        .unwrap()
    }

    #[test]
    fn a_challenge_runs_its_cycle_with_conflicts_excluded() {
        let rules = ChallengeRules::default();
        let mut c = challenge();
        let a = c
            .apply("张三", "某大学", "方案一", d("2025-06-10"))
            .unwrap();
        let b = c
            .apply("李四", "某研究院", "方案二", d("2025-06-11"))
            .unwrap();
        c.add_panelist("E1", "王", "某科学院", "").unwrap();
        c.add_panelist("E2", "赵", "某 大学", "").unwrap();
        c.add_panelist("E3", "钱", "另一大学", "").unwrap();
        c.add_panelist("E4", "孙", "某设计院", "").unwrap();
        c.add_panelist("E5", "周", "某设计院二所", "曾与揭榜人合作")
            .unwrap();
        assert!(
            c.panel[1].conflict.is_some(),
            "same organisation as an applicant"
        );
        assert!(c.panel[4].conflict.is_some(), "declared");
        c.start_review(&rules).unwrap();
        assert!(matches!(
            c.score(&rules, a, "E2", &[30.0, 20.0, 15.0, 10.0]),
            Err(MarketError::Fields(_))
        ));
        assert!(c.score(&rules, a, "E1", &[41.0, 20.0, 15.0, 10.0]).is_err());
        for (e, pa, pb) in [("E1", 35.0, 20.0), ("E3", 30.0, 25.0), ("E4", 32.0, 28.0)] {
            c.score(&rules, a, e, &[pa, 20.0, 15.0, 10.0]).unwrap();
            if e != "E4" {
                c.score(&rules, b, e, &[pb, 20.0, 15.0, 10.0]).unwrap();
            }
        }
        assert!(
            c.award(&rules, d("2025-09-10")).is_err(),
            "a sheet is missing"
        );
        c.score(&rules, b, "E4", &[28.0, 20.0, 15.0, 10.0]).unwrap();
        assert_eq!(c.award(&rules, d("2025-09-10")).unwrap(), a);
        assert!(c.accept(d("2025-12-01"), true, "", "").is_err());
        c.add_milestone("完成中试", "2025-11-30").unwrap();
        assert!(c.accept(d("2025-12-01"), true, "达到指标", "").is_err());
        c.complete_milestone(0, d("2025-11-20"), "中试完成")
            .unwrap();
        c.accept(d("2025-12-01"), true, "达到指标", "").unwrap();
        assert_eq!(c.stage, ChallengeStage::Accepted);
        assert_eq!(c.winner().unwrap().solver, "张三");
    }

    #[test]
    fn no_award_below_the_pass_score_and_no_late_applications() {
        let rules = ChallengeRules {
            min_panel: 1,
            ..ChallengeRules::default()
        };
        let mut c = challenge();
        assert!(c.apply("张三", "某大学", "方案", d("2025-09-01")).is_err());
        let a = c.apply("张三", "某大学", "方案", d("2025-06-10")).unwrap();
        assert!(c.apply("张三", "某大学", "方案", d("2025-06-10")).is_err());
        c.add_panelist("E1", "王", "某科学院", "").unwrap();
        c.start_review(&rules).unwrap();
        c.score(&rules, a, "E1", &[20.0, 10.0, 10.0, 5.0]).unwrap();
        assert!(matches!(
            c.award(&rules, d("2025-09-10")),
            Err(MarketError::Rule(_))
        ));
    }
}
