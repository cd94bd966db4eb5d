//! The plan model: what a plan file describes once it has been read and checked.
//!
//! A plan is a tree of nodes (programmes, actions, tasks… — the plan names its
//! own levels), a list of targets hung on nodes or on headline goals, an
//! indicator catalogue the targets measure, and the units (departments and
//! reporting areas) that answer for them. Everything here is plain data; the
//! plan-file crate builds it and checks every cross-reference, so code that
//! receives a `Plan` may rely on the invariants listed on each type.

use std::collections::HashMap;

use crate::money::Decimal;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::period::{DateRange, Frequency};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub code: Code,
    pub name: String,
    pub short_name: Option<String>,
    /// The name of the plan's whole scope: a city, or a district or county
    /// for a district's plan.
    pub city: String,
    /// The scope's level as people say it: 市 (default), 区, 县, 开发区…
    /// (“全市”, “全区”).
    #[serde(default)]
    pub level: Option<String>,
    /// Who issues the plan's reports (e.g. 蚌埠市科技局); by default the
    /// scope's name with 科技局.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The plan this one follows (the previous three- or five-year plan):
    /// its approved figures before this plan starts are this plan's
    /// history, so an indicator's series runs across both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows: Option<Code>,
    pub period: DateRange,
    pub status: PlanStatus,
    pub source: Option<SourceDoc>,
    /// Level names from the top of the tree down, e.g. `["工程", "行动"]`.
    pub levels: Vec<String>,
    pub areas: Vec<Area>,
    pub departments: Vec<Department>,
    /// Units added to every node's responsible units by a plan-wide rule.
    pub every_node: EveryNodeRule,
    pub indicators: Vec<Indicator>,
    pub goals: Vec<Goal>,
    /// Nodes in file order; a node's parent always comes before it.
    pub nodes: Vec<Node>,
    pub targets: Vec<Target>,
    pub status_rule: StatusRule,
    /// When reported values fall due. Plans stored before this field existed
    /// read as the default.
    #[serde(default)]
    pub reporting: Reporting,
    /// The area ranking (争先进位), when the plan defines one.
    #[serde(default)]
    pub ranking: Option<crate::ranking::RankingSpec>,
    /// The technology market's rules (broker reward, challenge scoring).
    #[serde(default)]
    pub market: crate::market::MarketRules,
}

/// The plan-wide reporting calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reporting {
    /// Days after a period ends by which its values are due, unless an
    /// indicator says otherwise.
    pub due_days: u16,
}

impl Default for Reporting {
    fn default() -> Self {
        Reporting { due_days: 15 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    Final,
}

impl PlanStatus {
    pub fn zh(self) -> &'static str {
        match self {
            PlanStatus::Draft => "征求意见稿",
            PlanStatus::Final => "正式印发",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceDoc {
    pub title: String,
    pub issuer: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
    pub note: Option<String>,
}

/// A reporting area: a county, district or development zone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Area {
    pub code: Code,
    pub name: String,
    /// Free text chosen by the plan, e.g. 区, 县, 开发区.
    pub kind: String,
    /// Other names people write for the area (高新区 for
    /// 蚌埠高新技术产业开发区), accepted wherever an area is typed in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Department {
    pub code: Code,
    pub name: String,
}

/// The plan-wide rule that makes some units co-responsible for every node.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EveryNodeRule {
    /// Every reporting area is co-responsible for every node.
    pub all_areas: bool,
    /// Further units (departments or areas) added to every node.
    pub units: Vec<Code>,
    pub note: Option<String>,
}

/// What a unit code refers to.
#[derive(Debug, Clone, Copy)]
pub enum Unit<'a> {
    Department(&'a Department),
    Area(&'a Area),
}

impl<'a> Unit<'a> {
    pub fn name(&self) -> &'a str {
        match self {
            Unit::Department(d) => &d.name,
            Unit::Area(a) => &a.name,
        }
    }
    pub fn code(&self) -> &'a Code {
        match self {
            Unit::Department(d) => &d.code,
            Unit::Area(a) => &a.code,
        }
    }
}

/// Whether an indicator's values are levels read at a date or amounts that
/// accumulate within a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// A level at the end of the period (number of firms, a share, a rank).
    Stock,
    /// An amount within the period (contracts signed, projects started).
    Flow,
}

/// Where an indicator's numbers come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DataSource {
    /// Typed in by the responsible units.
    Reported,
    /// Counted or summed from a registry of records. Until the registry engine
    /// evaluates the rule, values may still be reported.
    Registry {
        registry: String,
        rule: String,
        /// How the engine computes it; `None` until the plan says.
        compute: Option<ComputeSpec>,
    },
    /// Computed from other indicators of the same period.
    Formula { expr: String },
}

/// How an indicator is computed from a registry: what is counted or
/// summed, which records qualify, how time applies and which area a record
/// counts for. Documented for users in `docs/plan-format.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputeSpec {
    pub aggregate: Aggregate,
    pub filters: Vec<Filter>,
    pub time: TimeRule,
    /// The field giving the area (default: the registry's own rule).
    pub area: Option<String>,
    /// The enterprise must hold a valid qualification of this kind at the
    /// end of the period.
    pub qualified: Option<String>,
    /// Factor applied to the result (e.g. 0.0001 for 万元 → 亿元).
    pub scale: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Aggregate {
    Count,
    Sum {
        field: String,
    },
    /// Distinct values of these fields (together).
    Distinct {
        fields: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimeRule {
    /// Valid at the end of the period (validity interval of the record).
    ValidAtEnd,
    /// Dated within the period (a flow).
    Within { date: String },
    /// Dated on or before the end of the period (and on or after `since`).
    UntilEnd {
        date: String,
        since: Option<chrono::NaiveDate>,
    },
    /// Yearly records of the period's year (or the latest earlier year with data).
    YearOfPeriod { year: String },
    /// Every current record, whatever its dates.
    Current,
}

/// A condition on a field. Field names may be `enterprise.<field>` (the
/// record's enterprise) or `area.kind` (the kind of the record's area).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub field: String,
    pub test: FilterTest,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FilterTest {
    /// Equal to one of these words.
    In {
        values: Vec<String>,
    },
    /// Not equal to any of these words.
    NotIn {
        values: Vec<String>,
    },
    Bool {
        value: bool,
    },
    Range {
        min: Option<f64>,
        max: Option<f64>,
    },
    /// Filled in (true) or empty (false).
    Present {
        value: bool,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Indicator {
    pub code: Code,
    pub name: String,
    pub unit: String,
    pub definition: String,
    /// The department that answers for the number.
    pub department: Option<Code>,
    pub source: DataSource,
    pub measure: Measure,
    pub frequency: Frequency,
    /// Areas' values add up to the city's (counts, amounts); false for
    /// shares, rates and ranks.
    pub additive: bool,
    /// Decimal places shown.
    pub decimals: u8,
    /// Days after a period ends by which the value is due (the plan's
    /// default when `None`).
    #[serde(default)]
    pub due_days: Option<u16>,
    /// Whether every area reports its own value each period. `None`: areas
    /// report additive indicators that nobody computes.
    #[serde(default)]
    pub area_reports: Option<bool>,
    /// A stock whose records are valid one evaluation year at a time (科技型
    /// 中小企业 are evaluated each year): month-end values fall at each
    /// year's start and rise through the year, so forecasts use year-ends.
    #[serde(default)]
    pub resets_yearly: bool,
    /// The smallest and largest value a person may type, where the plan says
    /// (a growth rate may be −100 % to several hundred %); otherwise
    /// [`Indicator::value_range`] gives the default for the unit.
    #[serde(default)]
    pub min: Option<Decimal>,
    #[serde(default)]
    pub max: Option<Decimal>,
}

impl Indicator {
    /// The values a person may type: the plan's `min`/`max` where given;
    /// otherwise a per-cent share lies within 0–100 and a count or amount
    /// that adds up across areas is not negative.
    pub fn value_range(&self) -> (Option<Decimal>, Option<Decimal>) {
        let percent = matches!(self.unit.trim(), "%" | "％");
        let min = self.min.or(if percent || self.additive {
            Some(Decimal::ZERO)
        } else {
            None
        });
        let max = self.max.or(if percent {
            Some(Decimal::ONE_HUNDRED)
        } else {
            None
        });
        (min, max)
    }

    /// Whether values are typed in at all (not computed from a registry or
    /// a formula).
    pub fn is_reported(&self) -> bool {
        match &self.source {
            DataSource::Reported => true,
            DataSource::Registry { compute, .. } => compute.is_none(),
            DataSource::Formula { .. } => false,
        }
    }

    /// Whether the areas owe a value of this indicator each period.
    pub fn areas_report(&self) -> bool {
        self.area_reports
            .unwrap_or(self.additive && self.is_reported())
    }
}

/// A headline goal (发展目标). It lists targets defined elsewhere in the plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Goal {
    pub code: Code,
    pub name: String,
    pub summary: String,
    pub targets: Vec<Code>,
}

/// A node of the plan tree (a programme, an action, a task…).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Node {
    pub code: Code,
    pub name: String,
    /// Name of the level, taken from the plan's `levels` by depth unless set.
    pub level: String,
    pub parent: Option<Code>,
    /// Lead units (牵头单位), in the plan's order.
    pub lead: Vec<Code>,
    /// Co-responsible units (配合单位) named for this node.
    pub co: Vec<Code>,
    pub summary: String,
}

/// The thirteen-plus kinds of target the format understands. Each kind fixes
/// how the value compared with the target is derived from the indicator's
/// observations; see `progress` for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// Level at a date (stock indicator).
    Stock,
    /// Amount created within the plan period (flow summed from the period start).
    PeriodCount,
    /// Baseline plus flows since the baseline date.
    Cumulative,
    /// The same target every calendar year (flow summed within each year).
    Annual,
    /// One year's total must reach the target by the deadline year.
    YearlyTotal,
    /// Level at a date within a range.
    Range,
    /// A share in per cent.
    Share,
    /// A rate per head of population (e.g. per 10,000 residents).
    PerCapita,
    /// Average annual growth rate in per cent.
    GrowthRate,
    /// Rank within a peer group; lower is better.
    Rank,
    /// Share of a set covered, in per cent of a universe.
    Coverage,
    /// A worklist that must reach zero.
    ZeroCount,
    /// Compared with another series (e.g. above the city's average).
    Relative,
    /// Done or not done (completion in per cent).
    Milestone,
    /// Qualitative task: completion in per cent, with evidence.
    Task,
}

impl TargetKind {
    pub const ALL: [TargetKind; 15] = [
        TargetKind::Stock,
        TargetKind::PeriodCount,
        TargetKind::Cumulative,
        TargetKind::Annual,
        TargetKind::YearlyTotal,
        TargetKind::Range,
        TargetKind::Share,
        TargetKind::PerCapita,
        TargetKind::GrowthRate,
        TargetKind::Rank,
        TargetKind::Coverage,
        TargetKind::ZeroCount,
        TargetKind::Relative,
        TargetKind::Milestone,
        TargetKind::Task,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Stock => "stock",
            TargetKind::PeriodCount => "period_count",
            TargetKind::Cumulative => "cumulative",
            TargetKind::Annual => "annual",
            TargetKind::YearlyTotal => "yearly_total",
            TargetKind::Range => "range",
            TargetKind::Share => "share",
            TargetKind::PerCapita => "per_capita",
            TargetKind::GrowthRate => "growth_rate",
            TargetKind::Rank => "rank",
            TargetKind::Coverage => "coverage",
            TargetKind::ZeroCount => "zero_count",
            TargetKind::Relative => "relative",
            TargetKind::Milestone => "milestone",
            TargetKind::Task => "task",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            TargetKind::Stock => "期末存量",
            TargetKind::PeriodCount => "期内新增",
            TargetKind::Cumulative => "累计",
            TargetKind::Annual => "每年",
            TargetKind::YearlyTotal => "年度总量",
            TargetKind::Range => "区间",
            TargetKind::Share => "占比",
            TargetKind::PerCapita => "人均",
            TargetKind::GrowthRate => "年均增速",
            TargetKind::Rank => "排名",
            TargetKind::Coverage => "覆盖率",
            TargetKind::ZeroCount => "清零",
            TargetKind::Relative => "相对比较",
            TargetKind::Milestone => "里程碑",
            TargetKind::Task => "定性任务",
        }
    }

    /// The direction implied by the kind when the plan does not set one.
    pub fn default_direction(self) -> Direction {
        match self {
            TargetKind::Rank | TargetKind::ZeroCount => Direction::Down,
            _ => Direction::Up,
        }
    }

    /// Whether indicator values must be flows for this kind.
    pub fn needs_flow(self) -> bool {
        matches!(
            self,
            TargetKind::PeriodCount
                | TargetKind::Cumulative
                | TargetKind::Annual
                | TargetKind::YearlyTotal
        )
    }
}

/// Whether more or less is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

/// The value a target asks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TargetValue {
    Number {
        value: f64,
    },
    Range {
        min: f64,
        max: f64,
    },
    /// A yes/no milestone: done means 100 % complete.
    Done,
}

impl TargetValue {
    /// The point the expected path heads for: the number itself, the near
    /// end of a range (its minimum when more is better), or 100 % for "done".
    pub fn path_end(&self, direction: Direction) -> f64 {
        match *self {
            TargetValue::Number { value } => value,
            TargetValue::Range { min, max } => match direction {
                Direction::Up => min,
                Direction::Down => max,
            },
            TargetValue::Done => 100.0,
        }
    }
}

/// How the expected value moves from the baseline to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Curve {
    /// Straight line in time.
    Linear,
    /// Constant growth rate (geometric), for quantities that grow by a share.
    Compound,
    /// Expected value changes only at year ends (for yearly-reported data).
    Steps,
}

impl Curve {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "linear" => Some(Curve::Linear),
            "compound" => Some(Curve::Compound),
            "steps" => Some(Curve::Steps),
            _ => None,
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Curve::Linear => "线性",
            Curve::Compound => "复合增长",
            Curve::Steps => "按年阶梯",
        }
    }
}

/// How the forecast to the deadline extrapolates the observed series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastMethod {
    Linear,
    Compound,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    pub value: f64,
    pub date: NaiveDate,
    /// Where the figure comes from (a bulletin, a report…).
    pub source: String,
    /// True when the figure was published by an authority (reported); false
    /// when it is an estimate made for the plan file.
    pub reported: bool,
}

/// An interim value on the way to the target (e.g. a 2025 value on the way to
/// a 2027 target).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    pub date: NaiveDate,
    pub value: f64,
    /// A binding interim target (阶段目标), judged at its date: `AtLeast`
    /// (达到) or `MoreThan` (超过); `None` when it only shapes the path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding: Option<Binding>,
}

/// How a binding checkpoint is met, in the target's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    /// 达到: at least (at most, for a falling target).
    AtLeast,
    /// 超过: more than (less than, for a falling target).
    MoreThan,
}

/// The set a coverage target covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Universe {
    /// A fixed size, e.g. 3 counties.
    Count { size: f64, what: String },
    /// The latest value of another indicator, e.g. the number of villages.
    Indicator { indicator: Code },
}

/// For growth-rate targets: whether the indicator holds levels (from which the
/// rate is computed) or the yearly growth rates themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthBasis {
    Level,
    Rate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Target {
    pub code: Code,
    pub name: String,
    /// The node the target belongs to; `None` for targets only a goal lists.
    pub node: Option<Code>,
    pub indicator: Code,
    pub kind: TargetKind,
    pub value: TargetValue,
    pub unit: String,
    pub deadline: NaiveDate,
    pub direction: Direction,
    /// "More than" rather than "at least" (超过 vs 达到).
    pub strict: bool,
    pub baseline: Option<Baseline>,
    pub curve: Curve,
    pub checkpoints: Vec<Checkpoint>,
    pub forecast: ForecastMethod,
    /// Relative targets: the series compared with, and the margin by which
    /// this one must exceed it.
    pub compare: Option<Code>,
    pub margin: f64,
    pub universe: Option<Universe>,
    /// Rank targets: the peer group, e.g. 全省16个地级市.
    pub peers: Option<String>,
    pub basis: GrowthBasis,
    /// Weight in roll-ups (1 unless the plan says otherwise).
    pub weight: f64,
    pub note: String,
    /// A mid-term revision (中期调整): `value` is then the revised value and
    /// this keeps the original, with when and why it changed.
    #[serde(default)]
    pub revision: Option<Revision>,
    /// A target written as a multiple of the baseline (`"2×基期"`, 翻一番):
    /// the factor; `value` is then the factor times the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiple: Option<f64>,
    /// A drafted plan's target whose value the bureau has yet to set
    /// (`target = "待定"`): not judged until it is.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pending: bool,
    /// The target's allocation table (目标任务分解表): each area's (or
    /// department's) own share, judged in that unit's scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<Allocation>,
    /// Whose target this is in the scope it is judged in (see
    /// [`Plan::for_scope`]).
    #[serde(default)]
    pub origin: TargetOrigin,
}

/// One unit's share of a target: an area's or a department's own baseline,
/// yearly targets (year-end checkpoints) and final target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Allocation {
    /// An area's or a department's code.
    pub unit: Code,
    pub value: TargetValue,
    pub baseline: Option<Baseline>,
    pub checkpoints: Vec<Checkpoint>,
    /// Who answers for the share (责任单位), when the plan names someone
    /// other than the unit itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible: Option<String>,
}

/// Where the numbers a target is judged against come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetOrigin {
    /// The plan's own target for its whole scope (the city).
    #[default]
    Plan,
    /// The unit's share from the allocation table.
    Allocated,
    /// A rate that does not depend on size (a share, a per-capita figure, a
    /// growth rate), not allocated: the unit is held to the city's rate.
    CityRate,
}

impl TargetOrigin {
    pub fn zh(self) -> &'static str {
        match self {
            TargetOrigin::Plan => "规划目标",
            TargetOrigin::Allocated => "分解目标",
            TargetOrigin::CityRate => "沿用全市目标",
        }
    }
}

/// What a target was before its mid-term revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub original: TargetValue,
    pub date: NaiveDate,
    pub note: String,
}

/// Which target values an evaluation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetSet {
    /// The values in force, after any mid-term revision (the default).
    Revised,
    /// The values as first adopted.
    Original,
}

impl TargetSet {
    pub fn parse(s: &str) -> Option<TargetSet> {
        match s {
            "revised" => Some(TargetSet::Revised),
            "original" => Some(TargetSet::Original),
            _ => None,
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            TargetSet::Revised => "中期调整后的目标值",
            TargetSet::Original => "原定目标值",
        }
    }
}

impl Target {
    /// The text of the target as people say it: ≥ 1200 家, 前5名, 3–5 次/年.
    pub fn describe(&self) -> String {
        if self.pending {
            return "待定".to_string();
        }
        let num = |v: f64| fmt_num(v, 2);
        let op = match (self.direction, self.strict) {
            (Direction::Up, false) => "≥",
            (Direction::Up, true) => ">",
            (Direction::Down, false) => "≤",
            (Direction::Down, true) => "<",
        };
        match (self.kind, self.value) {
            (_, TargetValue::Done) => "完成".to_string(),
            (TargetKind::Rank, TargetValue::Number { value }) => {
                let peers = self.peers.as_deref().unwrap_or("");
                format!("{peers}前{}名", num(value))
            }
            (TargetKind::ZeroCount, _) => "清零".to_string(),
            (TargetKind::Relative, _) => {
                let word = match self.direction {
                    Direction::Up => "高于",
                    Direction::Down => "低于",
                };
                let unit = if self.unit == "%" {
                    "个百分点"
                } else {
                    self.unit.as_str()
                };
                if self.margin > 0.0 {
                    format!("{word}对比值{}{unit}以上", num(self.margin))
                } else {
                    format!("{word}对比值")
                }
            }
            (_, TargetValue::Range { min, max }) => {
                format!("{}–{} {}", num(min), num(max), self.unit)
            }
            (_, TargetValue::Number { value }) => match self.multiple {
                Some(f) => format!("{op} {} {}（基期的 {} 倍）", num(value), self.unit, num(f)),
                None => format!("{op} {} {}", num(value), self.unit),
            },
        }
    }
}

/// Thresholds that turn the lag behind the expected path into a status.
/// Lags are in percentage points of the whole way from baseline to target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatusRule {
    /// At most this lag: on track (绿).
    pub on_track_lag: f64,
    /// At most this lag: at risk (黄); beyond it: off track (红).
    pub at_risk_lag: f64,
}

impl Default for StatusRule {
    fn default() -> Self {
        StatusRule {
            on_track_lag: 5.0,
            at_risk_lag: 15.0,
        }
    }
}

/// Formats a number with at most `decimals` places and no trailing zeros.
pub fn fmt_num(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "—".to_string();
    }
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

impl Target {
    /// The share of `unit` (an area's or a department's code), if allocated.
    pub fn allocation(&self, unit: &str) -> Option<&Allocation> {
        self.allocations.iter().find(|a| a.unit.as_str() == unit)
    }

    /// Whether the target's number depends on the size of the scope (a
    /// count, a sum): such a target means nothing for an area unless it is
    /// allocated. Rates, shares and per-capita figures do not.
    pub fn scales_with_scope(&self, plan: &Plan) -> bool {
        let additive = plan
            .indicator(self.indicator.as_str())
            .is_none_or(|i| i.additive);
        let rate_kind = matches!(
            self.kind,
            TargetKind::Share | TargetKind::PerCapita | TargetKind::GrowthRate | TargetKind::Range
        );
        additive || !rate_kind
    }

    /// This target as `unit` is judged on it: its allocated share, or the
    /// city's rate for a size-free target; `None` when the target is not
    /// the unit's to meet.
    pub fn for_unit(&self, plan: &Plan, unit: &str) -> Option<Target> {
        if let Some(a) = self.allocation(unit) {
            let mut t = self.clone();
            t.value = a.value;
            t.baseline = a.baseline.clone();
            t.checkpoints = a.checkpoints.clone();
            // A mid-term revision changed the city's number, not the share.
            t.revision = None;
            t.multiple = None;
            t.allocations = Vec::new();
            t.origin = TargetOrigin::Allocated;
            return Some(t);
        }
        if self.scales_with_scope(plan) {
            return None;
        }
        let mut t = self.clone();
        // The city's baseline is not the area's starting point: the area's
        // own first value is.
        t.baseline = None;
        t.allocations = Vec::new();
        t.origin = TargetOrigin::CityRate;
        Some(t)
    }
}

impl Plan {
    /// “全市”, “全区”, “全县”: the whole of the plan's scope.
    pub fn whole(&self) -> String {
        format!("全{}", self.level.as_deref().unwrap_or("市"))
    }

    /// “蚌埠市（全市）”: the scope's label in selectors and reports.
    pub fn whole_label(&self) -> String {
        format!("{}（{}）", self.city, self.whole())
    }

    /// Who signs the plan's reports.
    pub fn report_issuer(&self) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| format!("{}科技局", self.city))
    }

    /// The plan as `scope` is judged on it. For the city, the plan itself.
    /// For an area, its own targets: each allocated target with the area's
    /// share, each size-free target (a rate) with the city's rate, and no
    /// others — an area is never judged against the city's count. For a
    /// department, allocated targets take the department's share and the
    /// others stay as they are (a department reports the city's figure of
    /// its indicators).
    pub fn for_scope(&self, scope: &crate::Scope) -> Plan {
        let mut p = self.clone();
        match scope {
            crate::Scope::City => {}
            crate::Scope::Area(a) => {
                p.targets = self
                    .targets
                    .iter()
                    .filter_map(|t| t.for_unit(self, a.as_str()))
                    .collect();
                let kept: std::collections::HashSet<&str> =
                    p.targets.iter().map(|t| t.code.as_str()).collect();
                for g in &mut p.goals {
                    g.targets.retain(|t| kept.contains(t.as_str()));
                }
            }
            crate::Scope::Department(d) => {
                for t in &mut p.targets {
                    if t.allocation(d.as_str()).is_some()
                        && let Some(own) = t.for_unit(self, d.as_str())
                    {
                        *t = own;
                    }
                }
            }
        }
        p
    }

    /// Whether any target is allocated to areas or departments.
    pub fn has_allocations(&self) -> bool {
        self.targets.iter().any(|t| !t.allocations.is_empty())
    }

    /// The plan with the chosen target values: for `Original`, every revised
    /// target goes back to its first value (and keeps its revision record).
    pub fn with_targets(&self, set: TargetSet) -> Plan {
        let mut p = self.clone();
        if set == TargetSet::Original {
            for t in &mut p.targets {
                if let Some(r) = &t.revision {
                    t.value = r.original;
                }
            }
        }
        p
    }

    /// Whether any target was revised.
    pub fn has_revisions(&self) -> bool {
        self.targets.iter().any(|t| t.revision.is_some())
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.code.as_str() == code)
    }

    pub fn target(&self, code: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.code.as_str() == code)
    }

    pub fn node(&self, code: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.code.as_str() == code)
    }

    pub fn goal(&self, code: &str) -> Option<&Goal> {
        self.goals.iter().find(|g| g.code.as_str() == code)
    }

    pub fn area(&self, code: &str) -> Option<&Area> {
        self.areas.iter().find(|a| a.code.as_str() == code)
    }

    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code.as_str() == code)
    }

    /// Looks a unit code up among departments and areas (they share one
    /// namespace; the plan-file checker rejects clashes).
    pub fn unit(&self, code: &str) -> Option<Unit<'_>> {
        self.department(code)
            .map(Unit::Department)
            .or_else(|| self.area(code).map(Unit::Area))
    }

    pub fn unit_name<'a>(&'a self, code: &'a str) -> &'a str {
        self.unit(code).map(|u| u.name()).unwrap_or(code)
    }

    /// Nodes whose parent is `parent` (`None`: the top level), in file order.
    pub fn children(&self, parent: Option<&str>) -> impl Iterator<Item = &Node> {
        self.nodes
            .iter()
            .filter(move |n| n.parent.as_ref().map(Code::as_str) == parent)
    }

    /// Targets attached directly to a node.
    pub fn targets_of(&self, node: &str) -> impl Iterator<Item = &Target> {
        self.targets
            .iter()
            .filter(move |t| t.node.as_ref().map(Code::as_str) == Some(node))
    }

    /// Every target in the subtree under `node`, the node's own first.
    pub fn targets_under(&self, node: &str) -> Vec<&Target> {
        let mut out: Vec<&Target> = self.targets_of(node).collect();
        for child in self.children(Some(node)) {
            out.extend(self.targets_under(child.code.as_str()));
        }
        out
    }

    /// The chain of nodes from the top down to `node`, inclusive.
    pub fn ancestry(&self, node: &str) -> Vec<&Node> {
        let mut chain = Vec::new();
        let mut cur = self.node(node);
        while let Some(n) = cur {
            chain.push(n);
            cur = n.parent.as_ref().and_then(|p| self.node(p.as_str()));
        }
        chain.reverse();
        chain
    }

    /// All responsible units of a node: its own lead and co units, then the
    /// plan-wide rule's units and (if the rule says so) every area, without
    /// repeats.
    pub fn responsible_units<'a>(&'a self, node: &'a Node) -> Vec<&'a Code> {
        let mut out: Vec<&'a Code> = Vec::new();
        let areas = self.areas.iter().map(|a| &a.code);
        let rule_areas = areas.filter(|_| self.every_node.all_areas);
        for c in node
            .lead
            .iter()
            .chain(&node.co)
            .chain(&self.every_node.units)
            .chain(rule_areas)
        {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// The goals that list a target.
    pub fn goals_of(&self, target: &str) -> Vec<&Goal> {
        self.goals
            .iter()
            .filter(|g| g.targets.iter().any(|t| t.as_str() == target))
            .collect()
    }

    /// Counts used by `plan check` and the overview: nodes per level name.
    pub fn level_counts(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for n in &self.nodes {
            match counts.iter_mut().find(|(l, _)| *l == n.level) {
                Some((_, c)) => *c += 1,
                None => counts.push((n.level.clone(), 1)),
            }
        }
        counts
    }

    /// An index from indicator code to the targets measuring it.
    pub fn targets_by_indicator(&self) -> HashMap<&str, Vec<&Target>> {
        let mut m: HashMap<&str, Vec<&Target>> = HashMap::new();
        for t in &self.targets {
            m.entry(t.indicator.as_str()).or_default().push(t);
        }
        m
    }
}
