//! Registries of the plan's real objects: enterprises and their yearly
//! figures and qualifications, R&D platforms, projects, technology
//! contracts, transferred achievements, talent and service carriers.
//!
//! Each registry is described by data — its fields, their types and Chinese
//! headers, its natural key, where a record's area comes from and which
//! fields bound its validity — so that pages, forms, import, export and the
//! indicator engine are written once for all of them.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::credit::CreditCode;
use crate::entry::parse_number;
use crate::money::{self, Decimal};

/// The type of a field, which fixes how a typed-in cell is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// One line of text, at most this many characters.
    Text(usize),
    /// Several lines (descriptions), at most 2,000 characters.
    LongText,
    /// 统一社会信用代码, checked with its check character.
    Credit,
    /// One of the plan's areas, or outside the city (市外).
    Area,
    Date,
    Year,
    /// A whole number ≥ 0.
    Count,
    /// An amount ≥ 0 (万元, 亩…).
    Amount,
    /// Any number.
    Number,
    Bool,
    /// One of a fixed list of words.
    Choice(&'static [&'static str]),
    /// A qualification kind of the catalogue.
    QualKind,
}

impl FieldType {
    /// What a cell of this type should look like, for messages and templates.
    pub fn hint(&self) -> String {
        match self {
            FieldType::Text(n) => format!("文本，最多 {n} 字"),
            FieldType::LongText => "文本，最多 2000 字".into(),
            FieldType::Credit => "18 位统一社会信用代码".into(),
            FieldType::Area => "本市地区名称或编码，市外填“市外”".into(),
            FieldType::Date => "日期，如 2024-05-01".into(),
            FieldType::Year => "年份，如 2024".into(),
            FieldType::Count => "非负整数".into(),
            FieldType::Amount => "非负数".into(),
            FieldType::Number => "数字".into(),
            FieldType::Bool => "是 或 否".into(),
            FieldType::Choice(opts) => format!("以下之一：{}", opts.join("、")),
            FieldType::QualKind => "资质类型名称，如 高新技术企业".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    pub code: &'static str,
    /// Chinese header in pages, templates and exports.
    pub label: &'static str,
    pub ty: FieldType,
    pub required: bool,
}

const fn f(code: &'static str, label: &'static str, ty: FieldType, required: bool) -> FieldDef {
    FieldDef {
        code,
        label,
        ty,
        required,
    }
}

/// Where a record's area comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AreaRule {
    /// Its own area field.
    Field(&'static str),
    /// The area of the enterprise named by this credit-code field.
    Enterprise(&'static str),
}

/// The fields that bound a record's validity (for counts "valid at the end of
/// the period").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub start: &'static str,
    /// Last valid day, or empty for "until ended".
    pub end: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryDef {
    /// The plural English name used in URLs and commands.
    pub code: &'static str,
    pub name: &'static str,
    pub fields: &'static [FieldDef],
    /// Fields that make the natural key (import upserts by it).
    pub key: &'static [&'static str],
    /// The field shown as the record's title.
    pub title: &'static str,
    pub area: AreaRule,
    pub validity: Option<Validity>,
    /// The field naming the enterprise the record belongs to, if any.
    pub enterprise: Option<&'static str>,
    /// The main date of the record (for "dated within the period").
    pub date: Option<&'static str>,
}

impl RegistryDef {
    pub fn field(&self, code: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.code == code)
    }

    pub fn index(&self, code: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.code == code)
    }
}

const CLUSTERS: &[&str] = &["新能源", "新型显示", "智能传感", "生物化工", "其他"];
const LEVELS: &[&str] = &["国家级", "省级", "市级"];
const ORG_TYPES: &[&str] = &["企业", "高校", "科研院所", "其他"];

pub static ENTERPRISES: RegistryDef = RegistryDef {
    code: "enterprises",
    name: "企业",
    fields: &[
        f("credit_code", "统一社会信用代码", FieldType::Credit, true),
        f("name", "企业名称", FieldType::Text(100), true),
        f("area", "所在地区", FieldType::Area, true),
        f(
            "industry_code",
            "国民经济行业代码",
            FieldType::Text(5),
            false,
        ),
        f("cluster", "产业集群", FieldType::Choice(CLUSTERS), false),
        f(
            "tech_field",
            "技术领域",
            FieldType::Choice(FIRM_FIELDS),
            false,
        ),
        f("above_scale", "规模以上", FieldType::Bool, false),
        f("manufacturing", "制造业", FieldType::Bool, false),
        f("registered_on", "成立日期", FieldType::Date, false),
        f(
            "listing_status",
            "上市状态",
            FieldType::Choice(&["未上市", "上市后备", "已上市"]),
            false,
        ),
        f(
            "listing_board",
            "上市板块",
            FieldType::Choice(&["主板", "科创板", "创业板", "北交所", "境外"]),
            false,
        ),
        f("listed_on", "上市日期", FieldType::Date, false),
    ],
    key: &["credit_code"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: Some("credit_code"),
    date: Some("registered_on"),
};

pub static FIGURES: RegistryDef = RegistryDef {
    code: "enterprise_figures",
    name: "企业年度数据",
    fields: &[
        f("credit_code", "统一社会信用代码", FieldType::Credit, true),
        f("year", "年度", FieldType::Year, true),
        f("revenue", "营业收入（万元）", FieldType::Amount, false),
        f("rd_expense", "研发费用（万元）", FieldType::Amount, false),
        f(
            "total_cost",
            "成本费用总额（万元）",
            FieldType::Amount,
            false,
        ),
        f("total_assets", "资产总额（万元）", FieldType::Amount, false),
        f("staff", "从业人员（人）", FieldType::Count, false),
        f("st_staff", "科技人员（人）", FieldType::Count, false),
        f(
            "hitech_income",
            "高新技术产品收入（万元）",
            FieldType::Amount,
            false,
        ),
        f("has_rd_activity", "有研发活动", FieldType::Bool, false),
        f("has_rd_institution", "有研发机构", FieldType::Bool, false),
        f("land_mu", "用地面积（亩）", FieldType::Amount, false),
        f("tax", "税收（万元）", FieldType::Amount, false),
        // For the qualification pre-checks and the per-mu evaluation.
        f(
            "rd_domestic",
            "境内研发费用（万元）",
            FieldType::Amount,
            false,
        ),
        f("net_assets", "净资产（万元）", FieldType::Number, false),
        f("ip_class1", "I类知识产权（件）", FieldType::Count, false),
        f("ip_class2", "II类知识产权（件）", FieldType::Count, false),
        f(
            "ip_score",
            "知识产权评价得分（满分30）",
            FieldType::Number,
            false,
        ),
        f(
            "transfer_score",
            "成果转化评价得分（满分30）",
            FieldType::Number,
            false,
        ),
        f(
            "mgmt_score",
            "研发组织管理评价得分（满分20）",
            FieldType::Number,
            false,
        ),
        f("major_accident", "重大安全质量事故", FieldType::Bool, false),
        f("energy", "综合能耗（吨标准煤）", FieldType::Amount, false),
        // 总收入 = 营业收入 + 其他收入: the high-tech income share's
        // denominator in the 2016 measures.
        f(
            "total_income",
            "总收入（万元，营业收入与其他收入之和）",
            FieldType::Amount,
            false,
        ),
        // The two direct routes of 科技型中小企业 that no other registry
        // holds (a valid high-tech certificate and a provincial platform are
        // read from their own registries).
        f(
            "national_award",
            "获国家级科技奖励（获奖单位前三名）",
            FieldType::Bool,
            false,
        ),
        f(
            "leads_standard",
            "主导制定国际、国家或行业标准",
            FieldType::Bool,
            false,
        ),
    ],
    key: &["credit_code", "year"],
    title: "credit_code",
    area: AreaRule::Enterprise("credit_code"),
    validity: None,
    enterprise: Some("credit_code"),
    date: None,
};

pub static QUALIFICATIONS: RegistryDef = RegistryDef {
    code: "qualifications",
    name: "企业资质",
    fields: &[
        f("credit_code", "统一社会信用代码", FieldType::Credit, true),
        f("kind", "资质类型", FieldType::QualKind, true),
        f(
            "number",
            "证书编号或入库登记编号",
            FieldType::Text(60),
            true,
        ),
        f("issued_on", "认定日期", FieldType::Date, false),
        f("year", "评价年度", FieldType::Year, false),
        f("valid_until", "有效期至", FieldType::Date, false),
        f("revoked_on", "撤销日期", FieldType::Date, false),
    ],
    key: &["credit_code", "kind", "number"],
    title: "number",
    area: AreaRule::Enterprise("credit_code"),
    validity: Some(Validity {
        start: "issued_on",
        end: Some("valid_until"),
    }),
    enterprise: Some("credit_code"),
    date: Some("issued_on"),
};

pub static PLATFORMS: RegistryDef = RegistryDef {
    code: "platforms",
    name: "研发平台",
    fields: &[
        f("name", "平台名称", FieldType::Text(100), true),
        f("level", "级别", FieldType::Choice(LEVELS), true),
        f(
            "type",
            "类型",
            FieldType::Choice(&[
                "重点实验室",
                "工程研究中心",
                "企业技术中心",
                "制造业创新中心",
                "产业研究院",
                "新型研发机构",
                "院士工作站",
                "博士后科研工作站",
            ]),
            true,
        ),
        f("host", "依托单位", FieldType::Text(100), true),
        f(
            "host_credit_code",
            "依托单位信用代码",
            FieldType::Credit,
            false,
        ),
        f("area", "所在地区", FieldType::Area, true),
        f("approved_on", "认定日期", FieldType::Date, true),
        f(
            "status",
            "状态",
            FieldType::Choice(&["运行", "撤销", "转建"]),
            false,
        ),
        f("ended_on", "撤销或转建日期", FieldType::Date, false),
    ],
    key: &["name"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: Some(Validity {
        start: "approved_on",
        end: Some("ended_on"),
    }),
    enterprise: Some("host_credit_code"),
    date: Some("approved_on"),
};

pub static PROJECTS: RegistryDef = RegistryDef {
    code: "projects",
    name: "科技项目",
    fields: &[
        f("number", "项目编号", FieldType::Text(40), true),
        f("title", "项目名称", FieldType::Text(200), true),
        f(
            "category",
            "项目类别",
            FieldType::Choice(&[
                "产业技术攻关",
                "揭榜挂帅",
                "重点研发",
                "科技成果转化",
                "其他市级科技计划",
            ]),
            true,
        ),
        f("poser", "出题企业", FieldType::Text(100), false),
        f(
            "poser_credit_code",
            "出题企业信用代码",
            FieldType::Credit,
            false,
        ),
        f("solvers", "承担单位", FieldType::Text(200), false),
        f("cluster", "产业集群", FieldType::Choice(CLUSTERS), false),
        f("area", "所在地区", FieldType::Area, true),
        f("approved_on", "立项日期", FieldType::Date, true),
        f("budget", "财政经费（万元）", FieldType::Amount, false),
        f("lump_sum", "经费包干制", FieldType::Bool, false),
        f(
            "stage",
            "阶段",
            FieldType::Choice(&["立项", "实施", "验收", "终止"]),
            false,
        ),
        f(
            "acceptance",
            "验收结论",
            FieldType::Choice(&["通过", "不通过"]),
            false,
        ),
    ],
    key: &["number"],
    title: "title",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: Some("poser_credit_code"),
    date: Some("approved_on"),
};

pub static CONTRACTS: RegistryDef = RegistryDef {
    code: "contracts",
    name: "技术合同",
    fields: &[
        f("reg_number", "登记编号", FieldType::Text(40), true),
        f(
            "type",
            "合同类型",
            FieldType::Choice(&["技术开发", "技术转让", "技术许可", "技术咨询", "技术服务"]),
            true,
        ),
        f("seller_name", "卖方名称", FieldType::Text(100), true),
        f(
            "seller_credit_code",
            "卖方信用代码",
            FieldType::Credit,
            false,
        ),
        f("seller_area", "卖方所在地区", FieldType::Area, true),
        f(
            "seller_type",
            "卖方类型",
            FieldType::Choice(ORG_TYPES),
            true,
        ),
        f("buyer_name", "买方名称", FieldType::Text(100), true),
        f(
            "buyer_credit_code",
            "买方信用代码",
            FieldType::Credit,
            false,
        ),
        f("buyer_area", "买方所在地区", FieldType::Area, true),
        f("buyer_type", "买方类型", FieldType::Choice(ORG_TYPES), true),
        f("registered_on", "登记日期", FieldType::Date, true),
        f("amount", "合同金额（万元）", FieldType::Amount, true),
        f("tech_amount", "技术交易额（万元）", FieldType::Amount, true),
        // Set when the contract came from a deal in the technology market,
        // so that absorbed turnover can be traced back to the market.
        f(
            "demand_number",
            "来源技术需求编号",
            FieldType::Text(40),
            false,
        ),
        f(
            "broker_number",
            "技术经纪人登记证号",
            FieldType::Text(40),
            false,
        ),
    ],
    key: &["reg_number"],
    title: "reg_number",
    area: AreaRule::Field("buyer_area"),
    validity: None,
    enterprise: Some("buyer_credit_code"),
    date: Some("registered_on"),
};

pub static ACHIEVEMENTS: RegistryDef = RegistryDef {
    code: "achievements",
    name: "科技成果转化",
    fields: &[
        f("number", "成果编号", FieldType::Text(40), true),
        f("title", "成果名称", FieldType::Text(200), true),
        f("source_org", "成果来源单位", FieldType::Text(100), true),
        f("receiver", "承接企业", FieldType::Text(100), true),
        f(
            "receiver_credit_code",
            "承接企业信用代码",
            FieldType::Credit,
            false,
        ),
        f("area", "所在地区", FieldType::Area, true),
        f(
            "mode",
            "转化方式",
            FieldType::Choice(&["转让", "许可", "作价入股", "自行实施"]),
            true,
        ),
        f("transferred_on", "转化日期", FieldType::Date, true),
        f("amount", "金额（万元）", FieldType::Amount, false),
    ],
    key: &["number"],
    title: "title",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: Some("receiver_credit_code"),
    date: Some("transferred_on"),
};

pub static TEAMS: RegistryDef = RegistryDef {
    code: "teams",
    name: "创新创业团队",
    fields: &[
        f("name", "团队名称", FieldType::Text(100), true),
        f("year", "年度", FieldType::Year, true),
        f("leader", "带头人", FieldType::Text(40), false),
        f("host", "依托单位", FieldType::Text(100), false),
        f("area", "所在地区", FieldType::Area, true),
        f("level", "级别", FieldType::Choice(&["市级", "省级"]), true),
        f("recommended", "推荐省级", FieldType::Bool, false),
    ],
    key: &["name", "year"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: None,
};

pub static SPECIALISTS: RegistryDef = RegistryDef {
    code: "specialists",
    name: "双链融合专员",
    fields: &[
        f("name", "姓名", FieldType::Text(40), true),
        f("host", "服务企业或园区", FieldType::Text(100), true),
        f("area", "所在地区", FieldType::Area, true),
        f("start_on", "派驻日期", FieldType::Date, true),
        f("end_on", "结束日期", FieldType::Date, false),
    ],
    key: &["name", "host"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: Some(Validity {
        start: "start_on",
        end: Some("end_on"),
    }),
    enterprise: None,
    date: Some("start_on"),
};

pub static VILLAGES: RegistryDef = RegistryDef {
    code: "villages",
    name: "行政村名录",
    fields: &[
        f("name", "行政村", FieldType::Text(40), true),
        f("township", "乡镇（街道）", FieldType::Text(40), true),
        f("area", "所在地区", FieldType::Area, true),
    ],
    key: &["area", "township", "name"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: None,
};

pub static COMMISSIONERS: RegistryDef = RegistryDef {
    code: "commissioners",
    name: "科技特派员",
    fields: &[
        f("name", "姓名", FieldType::Text(40), true),
        f("org", "派出单位", FieldType::Text(100), false),
        f("village", "服务行政村", FieldType::Text(40), true),
        f("township", "乡镇（街道）", FieldType::Text(40), true),
        f("area", "所在地区", FieldType::Area, true),
        f("start_on", "服务开始日期", FieldType::Date, true),
        f("end_on", "服务结束日期", FieldType::Date, false),
    ],
    key: &["name", "area", "township", "village"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: Some(Validity {
        start: "start_on",
        end: Some("end_on"),
    }),
    enterprise: None,
    date: Some("start_on"),
};

pub static CARRIERS: RegistryDef = RegistryDef {
    code: "carriers",
    name: "科技特派员服务载体",
    fields: &[
        f("name", "载体名称", FieldType::Text(100), true),
        f(
            "type",
            "类型",
            FieldType::Choice(&["特派员工作站", "示范基地", "其他"]),
            true,
        ),
        f("area", "所在地区", FieldType::Area, true),
        f("established_on", "设立日期", FieldType::Date, true),
        f("ended_on", "撤销日期", FieldType::Date, false),
    ],
    key: &["name"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: Some(Validity {
        start: "established_on",
        end: Some("ended_on"),
    }),
    enterprise: None,
    date: Some("established_on"),
};

pub static INCUBATORS: RegistryDef = RegistryDef {
    code: "incubators",
    name: "孵化载体",
    fields: &[
        f("name", "载体名称", FieldType::Text(100), true),
        f(
            "type",
            "类型",
            FieldType::Choice(&["孵化器", "众创空间", "加速器", "中试基地"]),
            true,
        ),
        f("level", "级别", FieldType::Choice(LEVELS), true),
        f("operator", "运营单位", FieldType::Text(100), false),
        f("area", "所在地区", FieldType::Area, true),
        f("recognized_on", "认定日期", FieldType::Date, true),
        f("ended_on", "撤销日期", FieldType::Date, false),
    ],
    key: &["name"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: Some(Validity {
        start: "recognized_on",
        end: Some("ended_on"),
    }),
    enterprise: None,
    date: Some("recognized_on"),
};

pub static INSTITUTIONS: RegistryDef = RegistryDef {
    code: "institutions",
    name: "科技服务机构",
    fields: &[
        f("name", "机构名称", FieldType::Text(100), true),
        f("credit_code", "统一社会信用代码", FieldType::Credit, false),
        f(
            "type",
            "服务类型",
            FieldType::Choice(&[
                "研发设计",
                "知识产权",
                "技术转移",
                "科技咨询",
                "检验检测",
                "科技金融",
                "其他",
            ]),
            true,
        ),
        f("area", "所在地区", FieldType::Area, true),
        f("registered_on", "登记日期", FieldType::Date, true),
        f("ended_on", "注销日期", FieldType::Date, false),
    ],
    key: &["name"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: Some(Validity {
        start: "registered_on",
        end: Some("ended_on"),
    }),
    enterprise: Some("credit_code"),
    date: Some("registered_on"),
};

pub static EVENTS: RegistryDef = RegistryDef {
    code: "events",
    name: "对接活动",
    fields: &[
        f("name", "活动名称", FieldType::Text(100), true),
        f(
            "type",
            "活动类型",
            FieldType::Choice(&["银企对接", "成果路演", "双创汇", "供需对接", "其他"]),
            true,
        ),
        f("held_on", "举办日期", FieldType::Date, true),
        f("area", "举办地区", FieldType::Area, true),
        f("organizer", "主办单位", FieldType::Text(100), false),
        f("participants", "参加人数", FieldType::Count, false),
        f("deals", "达成意向数", FieldType::Count, false),
    ],
    key: &["name", "held_on"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: Some("held_on"),
};

pub static ATTRACTED: RegistryDef = RegistryDef {
    code: "attracted_projects",
    name: "科创招引项目",
    fields: &[
        f("name", "项目名称", FieldType::Text(100), true),
        f("cluster", "产业集群", FieldType::Choice(CLUSTERS), false),
        f("investment", "计划投资（万元）", FieldType::Amount, false),
        f(
            "stage",
            "阶段",
            FieldType::Choice(&["签约", "开工", "投产"]),
            true,
        ),
        f("team", "核心团队", FieldType::Text(100), false),
        f("area", "落地地区", FieldType::Area, true),
        f("signed_on", "签约日期", FieldType::Date, true),
    ],
    key: &["name"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: Some("signed_on"),
};

pub static CONTESTS: RegistryDef = RegistryDef {
    code: "contests",
    name: "创新创业大赛参赛项目",
    fields: &[
        f("contest", "赛事名称", FieldType::Text(100), true),
        f("year", "年度", FieldType::Year, true),
        f("project", "参赛项目", FieldType::Text(100), true),
        f("entrant", "参赛单位", FieldType::Text(100), false),
        f("area", "所在地区", FieldType::Area, true),
        f("award", "获奖等级", FieldType::Text(20), false),
    ],
    key: &["contest", "year", "project"],
    title: "project",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: None,
};

pub static ENCLAVES: RegistryDef = RegistryDef {
    code: "enclaves",
    name: "科创飞地",
    fields: &[
        f("name", "飞地名称", FieldType::Text(100), true),
        f(
            "type",
            "类型",
            FieldType::Choice(&["孵化飞地", "研发飞地"]),
            true,
        ),
        f("partner_city", "所在城市", FieldType::Text(20), true),
        f("operator", "运营主体", FieldType::Text(100), false),
        f("area", "对口地区", FieldType::Area, true),
        f("established_on", "设立日期", FieldType::Date, true),
        f("firms", "在孵企业数", FieldType::Count, false),
    ],
    key: &["name"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: Some("established_on"),
};

// ---- the technology market (1+9+N) -------------------------------------------------------
//
// Listings belong to the city's market when their area is empty, or to one
// area's sub-market; an area's users keep their own, the bureau all.

/// The eight technical fields of the national high-tech enterprise
/// measures, the classification listings use (the firm fields without the
/// last, "none of them").
pub const TECH_FIELDS: &[&str] = FIRM_FIELDS.split_at(8).0;

/// A firm's technical field: the eight, or none of them (such a firm cannot
/// apply as a high-tech enterprise, and the pre-check says why).
pub const FIRM_FIELDS: &[&str] = &[
    "电子信息",
    "生物与新医药",
    "航空航天",
    "新材料",
    "高技术服务",
    "新能源与节能",
    "资源与环境",
    "先进制造与自动化",
    "不属于以上领域",
];

/// Technology readiness levels of GB/T 22900 (1 lowest, 9 in production).
const READINESS: &[&str] = &["1", "2", "3", "4", "5", "6", "7", "8", "9"];

pub static DEMANDS: RegistryDef = RegistryDef {
    code: "demands",
    name: "技术需求",
    fields: &[
        f("number", "需求编号", FieldType::Text(40), true),
        f("title", "需求名称", FieldType::Text(200), true),
        f("description", "需求描述", FieldType::LongText, true),
        f("field", "技术领域", FieldType::Choice(TECH_FIELDS), true),
        f("cluster", "产业集群", FieldType::Choice(CLUSTERS), false),
        f("enterprise", "需求企业", FieldType::Text(100), true),
        f("credit_code", "企业信用代码", FieldType::Credit, false),
        f("area", "所属分市场（空为市大市场）", FieldType::Area, false),
        f("budget", "意向投入（万元）", FieldType::Amount, false),
        f("deadline", "期望解决日期", FieldType::Date, false),
        f("contact", "联系人及电话", FieldType::Text(100), false),
        f(
            "status",
            "状态",
            FieldType::Choice(&["待审核", "已发布", "已对接", "已解决", "已关闭"]),
            true,
        ),
        f("published_on", "发布日期", FieldType::Date, false),
    ],
    key: &["number"],
    title: "title",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: Some("published_on"),
};

pub static OFFERS: RegistryDef = RegistryDef {
    code: "offers",
    name: "科技成果供给",
    fields: &[
        f("number", "成果编号", FieldType::Text(40), true),
        f("title", "成果名称", FieldType::Text(200), true),
        f("abstract", "成果简介", FieldType::LongText, true),
        f("owner", "成果持有单位", FieldType::Text(100), true),
        f("owner_type", "单位类型", FieldType::Choice(ORG_TYPES), true),
        f("field", "技术领域", FieldType::Choice(TECH_FIELDS), true),
        f("cluster", "产业集群", FieldType::Choice(CLUSTERS), false),
        f(
            "readiness",
            "成熟度（GB/T 22900 等级）",
            FieldType::Choice(READINESS),
            false,
        ),
        f("ip", "知识产权", FieldType::Text(200), false),
        f("modes", "转化方式", FieldType::Text(100), false),
        f("price", "意向价格（万元）", FieldType::Amount, false),
        f("area", "所属分市场（空为市大市场）", FieldType::Area, false),
        f(
            "status",
            "状态",
            FieldType::Choice(&["待审核", "已发布", "已转化", "已下架"]),
            true,
        ),
        f("published_on", "发布日期", FieldType::Date, false),
    ],
    key: &["number"],
    title: "title",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: Some("published_on"),
};

pub static EXPERTS: RegistryDef = RegistryDef {
    code: "experts",
    name: "专家",
    fields: &[
        f("number", "专家编号", FieldType::Text(40), true),
        f("name", "姓名", FieldType::Text(40), true),
        f("organization", "工作单位", FieldType::Text(100), true),
        f("title_rank", "职称", FieldType::Text(40), false),
        f("field", "技术领域", FieldType::Choice(TECH_FIELDS), true),
        f("expertise", "研究方向", FieldType::Text(300), true),
        f("area", "所属分市场（空为市大市场）", FieldType::Area, false),
    ],
    key: &["number"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: None,
};

pub static AGENCIES: RegistryDef = RegistryDef {
    code: "agencies",
    name: "技术转移服务机构",
    fields: &[
        f("name", "机构名称", FieldType::Text(100), true),
        f("credit_code", "统一社会信用代码", FieldType::Credit, false),
        f(
            "type",
            "机构类型",
            FieldType::Choice(&[
                "技术转移机构",
                "知识产权服务",
                "检验检测",
                "科技咨询",
                "科技金融",
                "其他",
            ]),
            true,
        ),
        f("area", "所属分市场（空为市大市场）", FieldType::Area, false),
        f("joined_on", "入驻日期", FieldType::Date, false),
    ],
    key: &["name"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: Some("joined_on"),
};

pub static BROKERS: RegistryDef = RegistryDef {
    code: "brokers",
    name: "技术经纪人",
    fields: &[
        f("number", "登记证号", FieldType::Text(40), true),
        f("name", "姓名", FieldType::Text(40), true),
        f("agency", "所在机构", FieldType::Text(100), false),
        f("area", "所属分市场（空为市大市场）", FieldType::Area, false),
        f("registered_on", "登记日期", FieldType::Date, false),
        // The broker's own sign-in: their deals are theirs, with no one to
        // pick from a list.
        f("account", "登录账号", FieldType::Text(40), false),
    ],
    key: &["number"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: Some("registered_on"),
};

// ---- enterprise cultivation and finance --------------------------------------------

pub static FOLLOWUPS: RegistryDef = RegistryDef {
    code: "followups",
    name: "企业培育服务记录",
    fields: &[
        f("credit_code", "统一社会信用代码", FieldType::Credit, true),
        f("visited_on", "服务日期", FieldType::Date, true),
        f("owner", "服务专员", FieldType::Text(40), true),
        f(
            "kind",
            "服务方式",
            FieldType::Choice(&["走访", "政策辅导", "申报指导", "问题协调", "其他"]),
            true,
        ),
        f("content", "服务内容与企业诉求", FieldType::LongText, true),
        f(
            "status",
            "跟进状态",
            FieldType::Choice(&["跟进中", "已申报", "已解决", "暂缓"]),
            true,
        ),
        f("next_on", "下次跟进日期", FieldType::Date, false),
    ],
    key: &["credit_code", "visited_on", "owner"],
    title: "credit_code",
    area: AreaRule::Enterprise("credit_code"),
    validity: None,
    enterprise: Some("credit_code"),
    date: Some("visited_on"),
};

pub static LOANS: RegistryDef = RegistryDef {
    code: "loans",
    name: "科技贷款",
    fields: &[
        f("number", "贷款合同编号", FieldType::Text(60), true),
        f("credit_code", "统一社会信用代码", FieldType::Credit, true),
        f("bank", "贷款银行", FieldType::Text(100), true),
        f(
            "product",
            "贷款产品",
            FieldType::Choice(&["研发贷", "转化贷", "人才贷", "其他科技贷款"]),
            true,
        ),
        f("amount", "贷款金额（万元）", FieldType::Amount, true),
        f("lent_on", "放款日期", FieldType::Date, true),
        f("due_on", "到期日期", FieldType::Date, false),
    ],
    key: &["bank", "number"],
    title: "number",
    area: AreaRule::Enterprise("credit_code"),
    validity: None,
    enterprise: Some("credit_code"),
    date: Some("lent_on"),
};

pub static INSURANCE: RegistryDef = RegistryDef {
    code: "insurance",
    name: "科技保险",
    fields: &[
        f("policy", "保单号", FieldType::Text(60), true),
        f("credit_code", "统一社会信用代码", FieldType::Credit, true),
        f("insurer", "保险机构", FieldType::Text(100), true),
        f(
            "kind",
            "险种",
            FieldType::Choice(&["研发费用损失险", "成果转化险", "首台套保险", "其他科技保险"]),
            true,
        ),
        f("insured", "保险金额（万元）", FieldType::Amount, true),
        f("premium", "保费（万元）", FieldType::Amount, false),
        f("start_on", "起保日期", FieldType::Date, true),
    ],
    key: &["insurer", "policy"],
    title: "policy",
    area: AreaRule::Enterprise("credit_code"),
    validity: None,
    enterprise: Some("credit_code"),
    date: Some("start_on"),
};

pub static FUNDS: RegistryDef = RegistryDef {
    code: "funds",
    name: "科技基金",
    fields: &[
        f("name", "基金名称", FieldType::Text(100), true),
        f(
            "kind",
            "基金类型",
            FieldType::Choice(&["科技成果转化基金", "产业基金", "天使基金", "其他"]),
            true,
        ),
        f("manager", "管理机构", FieldType::Text(100), false),
        f("size", "基金规模（万元）", FieldType::Amount, true),
        f("area", "所在地区", FieldType::Area, false),
        f("set_up_on", "设立日期", FieldType::Date, false),
    ],
    key: &["name"],
    title: "name",
    area: AreaRule::Field("area"),
    validity: None,
    enterprise: None,
    date: Some("set_up_on"),
};

pub static FUND_INVESTMENTS: RegistryDef = RegistryDef {
    code: "fund_investments",
    name: "基金投资",
    fields: &[
        f("fund", "基金名称", FieldType::Text(100), true),
        f("credit_code", "被投企业信用代码", FieldType::Credit, true),
        f("amount", "投资金额（万元）", FieldType::Amount, true),
        f("invested_on", "投资日期", FieldType::Date, true),
    ],
    key: &["fund", "credit_code", "invested_on"],
    title: "fund",
    area: AreaRule::Enterprise("credit_code"),
    validity: None,
    enterprise: Some("credit_code"),
    date: Some("invested_on"),
};

pub static PRODUCTS: RegistryDef = RegistryDef {
    code: "products",
    name: "三新三首产品目录",
    fields: &[
        f("name", "产品名称", FieldType::Text(100), true),
        f("credit_code", "统一社会信用代码", FieldType::Credit, true),
        f(
            "category",
            "类别",
            FieldType::Choice(&["新技术", "新产品", "新模式", "首台套", "首批次", "首版次"]),
            true,
        ),
        f("batch", "入选批次", FieldType::Text(40), false),
        f("listed_on", "入选日期", FieldType::Date, false),
    ],
    key: &["credit_code", "name"],
    title: "name",
    area: AreaRule::Enterprise("credit_code"),
    validity: None,
    enterprise: Some("credit_code"),
    date: Some("listed_on"),
};

/// Enterprise cultivation and finance registries.
pub static CULTIVATION: [&RegistryDef; 6] = [
    &FOLLOWUPS,
    &LOANS,
    &INSURANCE,
    &FUNDS,
    &FUND_INVESTMENTS,
    &PRODUCTS,
];

/// Every registry, in the order menus show them.
pub static ALL: [&RegistryDef; 17] = [
    &ENTERPRISES,
    &FIGURES,
    &QUALIFICATIONS,
    &PLATFORMS,
    &PROJECTS,
    &CONTRACTS,
    &ACHIEVEMENTS,
    &TEAMS,
    &SPECIALISTS,
    &VILLAGES,
    &COMMISSIONERS,
    &CARRIERS,
    &INCUBATORS,
    &INSTITUTIONS,
    &EVENTS,
    &ATTRACTED,
    &CONTESTS,
];

/// Also reachable by name, though not listed in [`ALL`] menus' main group.
pub static EXTRA: [&RegistryDef; 1] = [&ENCLAVES];

/// The technology market's listings (1+9+N).
pub static MARKET: [&RegistryDef; 5] = [&DEMANDS, &OFFERS, &EXPERTS, &AGENCIES, &BROKERS];

pub fn by_code(code: &str) -> Option<&'static RegistryDef> {
    all().find(|r| r.code == code)
}

pub fn all() -> impl Iterator<Item = &'static RegistryDef> {
    ALL.iter()
        .chain(EXTRA.iter())
        .chain(MARKET.iter())
        .chain(CULTIVATION.iter())
        .copied()
}

// ---- values -----------------------------------------------------------------------

/// A field's value.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// A number as `f64`: what the indicator engine's columns give back and
    /// what code building records from floats (demo data) writes. Its exact
    /// decimal is [`Value::as_decimal`].
    Num(f64),
    Date(NaiveDate),
    Text(String),
    /// An amount or number read from text or storage, exact (336.4 is
    /// 336.4): what [`read_cell`] and [`Record::from_json`] give for
    /// [`FieldType::Amount`] and [`FieldType::Number`]. Stored as a JSON
    /// number when that reads back as the same decimal, otherwise as its
    /// text.
    #[serde(serialize_with = "ser_decimal", skip_deserializing)]
    Dec(Decimal),
}

fn ser_decimal<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    if money::fits_f64(*d) {
        s.serialize_f64(money::to_f64(*d))
    } else {
        s.serialize_str(&d.normalize().to_string())
    }
}

/// Numbers are equal by value whether held as `f64` or as a decimal
/// (`Num(336.4) == Dec(336.4)`); other values as derived.
impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Num(a), Num(b)) => a == b,
            (Dec(a), Dec(b)) => a == b,
            (Num(a), Dec(b)) | (Dec(b), Num(a)) => money::from_f64(*a) == Some(*b),
            (Date(a), Date(b)) => a == b,
            (Text(a), Text(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_date(&self) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    /// As `f64`, for sums and counts (a decimal goes through
    /// [`money::to_f64`]); a boundary is judged with [`Value::as_decimal`].
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            Value::Int(i) => Some(*i as f64),
            Value::Dec(d) => Some(money::to_f64(*d)),
            _ => None,
        }
    }

    /// As an exact decimal: a decimal as it is, a whole number, or the
    /// decimal an `f64` stands for ([`money::from_f64`]: exact for every
    /// figure of up to 15 significant digits, so 336.4 read back from the
    /// engine is 336.4).
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Value::Dec(d) => Some(*d),
            Value::Int(i) => Some(Decimal::from(*i)),
            Value::Num(n) => money::from_f64(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// As typed in a cell or shown on a page (dates ISO, booleans 是/否).
    pub fn display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(true) => "是".into(),
            Value::Bool(false) => "否".into(),
            Value::Int(i) => i.to_string(),
            Value::Num(n) => crate::plan::fmt_num(*n, 4),
            Value::Dec(d) => money::display(*d),
            Value::Date(d) => d.to_string(),
            Value::Text(s) => s.clone(),
        }
    }
}

/// A record: one value per field of its registry, in field order.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub values: Vec<Value>,
}

impl Record {
    pub fn get(&self, def: &RegistryDef, field: &str) -> &Value {
        def.index(field)
            .and_then(|i| self.values.get(i))
            .unwrap_or(&Value::Null)
    }

    /// The natural key: the key fields' values joined by `|`.
    pub fn key(&self, def: &RegistryDef) -> String {
        def.key
            .iter()
            .map(|k| self.get(def, k).display())
            .collect::<Vec<_>>()
            .join("|")
    }

    /// The values as a JSON object keyed by field code (for storage).
    pub fn to_json(&self, def: &RegistryDef) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        for (fd, v) in def.fields.iter().zip(&self.values) {
            if !v.is_null() {
                m.insert(
                    fd.code.to_string(),
                    serde_json::to_value(v).unwrap_or_default(),
                );
            }
        }
        serde_json::Value::Object(m)
    }

    /// Reads a stored JSON object back, with the types the schema says.
    pub fn from_json(def: &RegistryDef, j: &serde_json::Value) -> Record {
        let values = def
            .fields
            .iter()
            .map(|fd| match j.get(fd.code) {
                None | Some(serde_json::Value::Null) => Value::Null,
                Some(v) => json_value(fd.ty, v),
            })
            .collect();
        Record { values }
    }
}

impl Record {
    /// Reads a stored JSON object straight from its text, with the types the
    /// schema says: the same result as [`Record::from_json`] without building
    /// a JSON tree first (loading millions of records at start-up spends
    /// most of its time here). Unknown fields are skipped.
    pub fn from_json_str(def: &RegistryDef, text: &str) -> Result<Record, serde_json::Error> {
        use serde::de::DeserializeSeed;
        let mut de = serde_json::Deserializer::from_str(text);
        let rec = RecordSeed(def).deserialize(&mut de)?;
        de.end()?;
        Ok(rec)
    }
}

struct RecordSeed<'d>(&'d RegistryDef);

impl<'de> serde::de::DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Record;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Record, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RecordSeed<'_> {
    type Value = Record;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object of field values")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let def = self.0;
        let mut values = vec![Value::Null; def.fields.len()];
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match def.fields.iter().position(|f| f.code == key) {
                Some(i) => values[i] = map.next_value_seed(FieldSeed(def.fields[i].ty))?,
                None => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Record { values })
    }
}

/// One stored field value, read as its type; anything else becomes empty,
/// as [`Record::from_json`] does.
struct FieldSeed(FieldType);

impl<'de> serde::de::DeserializeSeed<'de> for FieldSeed {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for FieldSeed {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(match self.0 {
            FieldType::Bool => Value::Bool(b),
            _ => Value::Null,
        })
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(match self.0 {
            FieldType::Year | FieldType::Count => Value::Int(n),
            FieldType::Amount | FieldType::Number => Value::Dec(Decimal::from(n)),
            _ => Value::Null,
        })
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(match self.0 {
            FieldType::Year | FieldType::Count => i64::try_from(n).map_or(Value::Null, Value::Int),
            FieldType::Amount | FieldType::Number => Value::Dec(Decimal::from(n)),
            _ => Value::Null,
        })
    }

    fn visit_f64<E>(self, x: f64) -> Result<Value, E> {
        Ok(match self.0 {
            // As `serde_json::Value::as_i64` does: a float is not a whole number.
            // Numbers stored before amounts were exact, and every amount
            // that survives the trip: the decimal the f64 stands for.
            FieldType::Amount | FieldType::Number => {
                money::from_f64(x).map_or(Value::Null, Value::Dec)
            }
            _ => Value::Null,
        })
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(match self.0 {
            // An amount stored as its text (one an f64 cannot hold).
            FieldType::Amount | FieldType::Number => stored_decimal(s),
            FieldType::Bool | FieldType::Year | FieldType::Count => Value::Null,
            FieldType::Date => {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or(Value::Null, Value::Date)
            }
            _ => Value::Text(s.to_string()),
        })
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Value::Null)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Value::Null)
    }
}

/// An amount stored as text: the exact decimal, or empty when the text is
/// not one (as a wrong type is).
fn stored_decimal(s: &str) -> Value {
    Decimal::from_str_exact(s).map_or(Value::Null, Value::Dec)
}

fn json_value(ty: FieldType, v: &serde_json::Value) -> Value {
    match ty {
        FieldType::Bool => v.as_bool().map(Value::Bool).unwrap_or(Value::Null),
        FieldType::Year | FieldType::Count => v.as_i64().map(Value::Int).unwrap_or(Value::Null),
        FieldType::Amount | FieldType::Number => match v {
            serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Value::Dec(Decimal::from(i)),
                (_, Some(u)) => Value::Dec(Decimal::from(u)),
                _ => n
                    .as_f64()
                    .and_then(money::from_f64)
                    .map_or(Value::Null, Value::Dec),
            },
            serde_json::Value::String(s) => stored_decimal(s),
            _ => Value::Null,
        },
        FieldType::Date => v
            .as_str()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .map(Value::Date)
            .unwrap_or(Value::Null),
        _ => v
            .as_str()
            .map(|s| Value::Text(s.to_string()))
            .unwrap_or(Value::Null),
    }
}

// ---- reading cells ------------------------------------------------------------------

/// What a cell is checked against: the plan's areas and the qualification
/// catalogue.
pub struct CellContext<'a> {
    /// Area code by code and by Chinese name.
    pub areas: HashMap<String, String>,
    pub quals: &'a QualCatalogue,
}

/// The code stored for a record outside the city.
pub const OUTSIDE: &str = "outside";

impl<'a> CellContext<'a> {
    pub fn new(plan: &crate::Plan, quals: &'a QualCatalogue) -> Self {
        let mut areas = HashMap::new();
        for a in &plan.areas {
            areas.insert(a.code.to_string(), a.code.to_string());
            areas.insert(a.name.clone(), a.code.to_string());
            for alias in &a.aliases {
                areas.insert(alias.clone(), a.code.to_string());
            }
        }
        for alias in [OUTSIDE, "市外", "外地", "本市以外"] {
            areas.insert(alias.to_string(), OUTSIDE.to_string());
        }
        CellContext { areas, quals }
    }
}

/// Reads one typed-in cell. Empty cells are `Null` (the caller checks
/// required fields); anything else is the typed value or the reason it is
/// not one.
pub fn read_cell(fd: &FieldDef, raw: &str, cx: &CellContext<'_>) -> Result<Value, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(Value::Null);
    }
    match fd.ty {
        FieldType::Text(max) => {
            if s.chars().count() > max {
                Err(format!("超过 {max} 字"))
            } else if s.chars().any(|c| c.is_control()) {
                Err("含有控制字符".into())
            } else {
                Ok(Value::Text(s.to_string()))
            }
        }
        FieldType::LongText => {
            if s.chars().count() > 2000 {
                Err("超过 2000 字".into())
            } else if let Some(c) = crate::text::first_forbidden(s) {
                Err(crate::text::message(c))
            } else {
                Ok(Value::Text(s.to_string()))
            }
        }
        FieldType::Credit => CreditCode::parse(s)
            .map(|c| Value::Text(c.to_string()))
            .map_err(|e| e.to_string()),
        FieldType::Area => cx
            .areas
            .get(s)
            .map(|c| Value::Text(c.clone()))
            .ok_or_else(|| format!("“{s}”不是本市的地区（市外请填“市外”）")),
        FieldType::Date => parse_date(s).map(Value::Date).ok_or_else(|| {
            format!("“{s}”不是有效日期（应为 2024-05-01 这样的日期，年份在 1949–2100 之间）")
        }),
        FieldType::Year => match s.trim_end_matches('年').parse::<i64>() {
            Ok(y) if (1949..=2100).contains(&y) => Ok(Value::Int(y)),
            _ => Err(format!("“{s}”不是有效年份")),
        },
        FieldType::Count => match parse_number(s) {
            Some(v) if v >= 0.0 && v.fract() == 0.0 && v < 1e15 => Ok(Value::Int(v as i64)),
            Some(v) if v < 0.0 => Err("不能为负数".into()),
            Some(_) => Err("应为整数".into()),
            None => Err(format!("“{s}”不是数字")),
        },
        // Straight from the text to an exact decimal ("336.4" is 336.4);
        // any number of decimals is kept (pages show four).
        FieldType::Amount => match read_decimal(s) {
            Some(v) if v.is_sign_negative() && !v.is_zero() => Err("不能为负数".into()),
            Some(v) if v < Decimal::from(1_000_000_000_000_000i64) => Ok(Value::Dec(v)),
            Some(_) => Err("数值过大".into()),
            None => Err(format!("“{s}”不是数字")),
        },
        FieldType::Number => read_decimal(s)
            .map(Value::Dec)
            .ok_or_else(|| format!("“{s}”不是数字")),
        FieldType::Bool => match s {
            "是" | "有" | "Y" | "y" | "yes" | "Yes" | "TRUE" | "true" | "True" | "1" | "√" => {
                Ok(Value::Bool(true))
            }
            "否" | "无" | "N" | "n" | "no" | "No" | "FALSE" | "false" | "False" | "0" | "×" => {
                Ok(Value::Bool(false))
            }
            _ => Err(format!("“{s}”应为“是”或“否”")),
        },
        FieldType::Choice(opts) => opts
            .iter()
            .find(|o| **o == s)
            .map(|o| Value::Text(o.to_string()))
            .ok_or_else(|| format!("“{s}”不是可选值（{}）", opts.join("、"))),
        FieldType::QualKind => cx
            .quals
            .find(s)
            .map(|k| Value::Text(k.code.clone()))
            .ok_or_else(|| {
                let names: Vec<&str> = cx.quals.kinds.iter().map(|k| k.name.as_str()).collect();
                format!("“{s}”不是已定义的资质类型（{}）", names.join("、"))
            }),
    }
}

/// A typed-in number as an exact decimal. Text that is a number but too
/// long for a decimal (more than 28 significant digits, or beyond 10²⁸)
/// is read through `f64` as before.
fn read_decimal(s: &str) -> Option<Decimal> {
    money::parse_decimal(s).or_else(|| parse_number(s).and_then(money::from_f64))
}

/// Dates as Chinese offices write them: 2024-05-01, 2024/5/1, 2024.5.1,
/// 20240501, 2024年5月1日. Years outside 1949–2100 are rejected.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let d = if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) {
        NaiveDate::parse_from_str(s, "%Y%m%d").ok()
    } else {
        let norm: String = s
            .replace("年", "-")
            .replace("月", "-")
            .replace('日', "")
            .replace(['/', '.'], "-");
        let norm = norm.trim_end_matches('-');
        NaiveDate::parse_from_str(norm, "%Y-%m-%d").ok()
    }?;
    (1949..=2100).contains(&d.year()).then_some(d)
}

/// One problem with one cell (or with the row as a whole when `field` is
/// empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    pub field: String,
    pub label: String,
    pub value: String,
    pub reason: String,
}

/// Reads a whole record from raw cells given by field code, checking
/// required fields and the rules that tie fields together.
pub fn read_record(
    def: &RegistryDef,
    cells: &HashMap<&str, &str>,
    cx: &CellContext<'_>,
) -> Result<Record, Vec<CellError>> {
    let mut errors = Vec::new();
    let mut values = Vec::with_capacity(def.fields.len());
    for fd in def.fields {
        let raw = cells.get(fd.code).copied().unwrap_or("");
        match read_cell(fd, raw, cx) {
            Ok(Value::Null) if fd.required => {
                errors.push(cell_error(fd, raw, "必填项，不能为空"));
                values.push(Value::Null);
            }
            Ok(v) => values.push(v),
            Err(reason) => {
                errors.push(cell_error(fd, raw, &reason));
                values.push(Value::Null);
            }
        }
    }
    let rec = Record { values };
    if errors.is_empty() {
        cross_checks(def, &rec, cx, &mut errors);
    }
    if errors.is_empty() {
        Ok(rec)
    } else {
        Err(errors)
    }
}

fn cell_error(fd: &FieldDef, raw: &str, reason: &str) -> CellError {
    CellError {
        field: fd.code.to_string(),
        label: fd.label.to_string(),
        value: raw.chars().take(100).collect(),
        reason: reason.to_string(),
    }
}

/// Figures that contradict each other but are kept (with a warning): a
/// firm's yearly figures as reported may be wrong, and the pre-check is
/// built to say so ("数据矛盾") rather than never to see them. Refusing the
/// row at import would hide the very contradiction.
pub fn warnings(def: &RegistryDef, rec: &Record) -> Vec<CellError> {
    let mut out = Vec::new();
    if def.code != FIGURES.code {
        return out;
    }
    let d = |f: &str| rec.get(def, f).as_decimal();
    let mut warn = |field: &str, reason: String| {
        out.push(CellError {
            field: field.to_string(),
            label: def.field(field).map(|f| f.label).unwrap_or("").to_string(),
            value: rec.get(def, field).display(),
            reason,
        });
    };
    let pairs: [(&str, &str, &str, &str); 4] = [
        ("st_staff", "staff", "科技人员", "从业人员"),
        ("rd_domestic", "rd_expense", "境内研发费用", "研发费用"),
        (
            "hitech_income",
            "total_income",
            "高新技术产品收入",
            "总收入",
        ),
        ("revenue", "total_income", "营业收入", "总收入"),
    ];
    for (part, whole, a, b) in pairs {
        if let (Some(p), Some(w)) = (d(part), d(whole))
            && p > w
        {
            warn(
                part,
                format!(
                    "{a} {} 大于{b} {}（数据矛盾，已保存，资质预审将提示核实）",
                    p.normalize(),
                    w.normalize()
                ),
            );
        }
    }
    out
}

/// Rules between fields: amounts that must add up, dates in order, what a
/// qualification kind requires.
fn cross_checks(
    def: &RegistryDef,
    rec: &Record,
    cx: &CellContext<'_>,
    errors: &mut Vec<CellError>,
) {
    let mut err = |field: &str, reason: String| {
        let fd = def.field(field);
        errors.push(CellError {
            field: field.to_string(),
            label: fd.map(|f| f.label).unwrap_or("").to_string(),
            value: rec.get(def, field).display(),
            reason,
        });
    };
    if def.code == CONTRACTS.code
        && let (Some(a), Some(t)) = (
            rec.get(def, "amount").as_decimal(),
            rec.get(def, "tech_amount").as_decimal(),
        )
        && t > a
    {
        err(
            "tech_amount",
            format!(
                "技术交易额 {} 大于合同金额 {}",
                t.normalize(),
                a.normalize()
            ),
        );
    }
    if let Some(v) = def.validity
        && let (Some(s), Some(e)) = (
            rec.get(def, v.start).as_date(),
            v.end.and_then(|e| rec.get(def, e).as_date()),
        )
        && e < s
    {
        err(
            v.end.unwrap_or(""),
            format!("结束日期 {e} 早于开始日期 {s}"),
        );
    }
    if def.code == QUALIFICATIONS.code {
        if let Some(kind) = rec.get(def, "kind").as_text().and_then(|k| cx.quals.get(k)) {
            match kind.rule {
                ValidityRule::EvaluationYear if rec.get(def, "year").is_null() => {
                    err("year", format!("{}须填写评价年度", kind.name))
                }
                ValidityRule::Years(_) | ValidityRule::UntilRevoked
                    if rec.get(def, "issued_on").is_null() =>
                {
                    err("issued_on", format!("{}须填写认定日期", kind.name))
                }
                _ => {}
            }
        }
        if let (Some(i), Some(r)) = (
            rec.get(def, "issued_on").as_date(),
            rec.get(def, "revoked_on").as_date(),
        ) && r < i
        {
            err("revoked_on", format!("撤销日期 {r} 早于认定日期 {i}"));
        }
    }
}

// ---- qualification kinds ----------------------------------------------------------

/// How long a qualification stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ValidityRule {
    /// From the issue date for this many years (高新技术企业: 3).
    Years(u32),
    /// The evaluation year only (科技型中小企业).
    EvaluationYear,
    /// From the issue date until revoked.
    UntilRevoked,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualKind {
    pub code: String,
    pub name: String,
    pub rule: ValidityRule,
    pub note: String,
}

/// The qualification kinds in force, read from a catalogue file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QualCatalogue {
    pub kinds: Vec<QualKind>,
}

impl QualCatalogue {
    pub fn get(&self, code: &str) -> Option<&QualKind> {
        self.kinds.iter().find(|k| k.code == code)
    }

    /// By code or Chinese name.
    pub fn find(&self, s: &str) -> Option<&QualKind> {
        self.kinds.iter().find(|k| k.code == s || k.name == s)
    }

    /// The days a qualification record is valid: first and last day, or
    /// `None` when the record lacks the dates its kind needs. An explicit
    /// `valid_until` wins over the kind's rule; a revocation ends validity
    /// the day before it.
    pub fn validity(&self, rec: &Record) -> Option<(NaiveDate, Option<NaiveDate>)> {
        let def = &QUALIFICATIONS;
        let kind = self.get(rec.get(def, "kind").as_text()?)?;
        let issued = rec.get(def, "issued_on").as_date();
        let year = rec.get(def, "year").as_f64().map(|y| y as i32);
        let (start, mut end) = match kind.rule {
            ValidityRule::Years(n) => {
                let s = issued?;
                // n years on, less a day; 29 February rolls to 1 March.
                let y = s.year() + n as i32;
                let e = s
                    .with_year(y)
                    .or_else(|| NaiveDate::from_ymd_opt(y, 3, 1))?
                    .pred_opt()?;
                (s, Some(e))
            }
            ValidityRule::EvaluationYear => {
                let y = year.or(issued.map(|d| d.year()))?;
                let s = issued.unwrap_or(NaiveDate::from_ymd_opt(y, 1, 1)?);
                (s, NaiveDate::from_ymd_opt(y, 12, 31))
            }
            ValidityRule::UntilRevoked => (issued?, None),
        };
        if let Some(v) = rec.get(def, "valid_until").as_date() {
            end = Some(v);
        }
        if let Some(r) = rec.get(def, "revoked_on").as_date() {
            let last = r.pred_opt()?;
            end = Some(end.map_or(last, |e| e.min(last)));
        }
        Some((start, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streaming reader gives what the tree reader gives, for stored
    /// records and for text that does not follow the schema.
    #[test]
    fn from_json_str_equals_from_json() {
        let cases = [
            (
                &CONTRACTS,
                r#"{"amount":854.0,"buyer_area":"c000-gaoxin","buyer_name":"买方1","registered_on":"2021-06-20","tech_amount":523,"type":"技术开发"}"#,
            ),
            (
                &QUALIFICATIONS,
                r#"{"credit_code":"91340300000000000P","issued_on":"2021-12-23","kind":"hte","number":"GR202134000885"}"#,
            ),
            (
                &FIGURES,
                r#"{"credit_code":"X","year":2023,"revenue":1.5e4,"has_rd_activity":false,"staff":12.5}"#,
            ),
            // Wrong types, unknown fields, nesting, escapes, nulls.
            (
                &FIGURES,
                r#"{"year":"2023","revenue":"много","has_rd_activity":1,"extra":{"a":[1,2,{"b":null}]},"credit_code":"a\"b\u4e2d"}"#,
            ),
            (
                &ENTERPRISES,
                r#"{"name":null,"area":["x"],"above_scale":true,"credit_code":12}"#,
            ),
            (&CONTRACTS, r#"{"registered_on":"2021-13-40","amount":-1}"#),
            (&CONTRACTS, "{}"),
        ];
        for (def, text) in cases {
            let tree: serde_json::Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                Record::from_json_str(def, text).unwrap(),
                Record::from_json(def, &tree),
                "{text}"
            );
        }
        for bad in ["", "[1]", "{\"a\":", "{} x", "null"] {
            assert!(Record::from_json_str(&CONTRACTS, bad).is_err(), "{bad}");
        }
    }

    fn cx_of(cat: &QualCatalogue) -> CellContext<'_> {
        CellContext {
            areas: HashMap::new(),
            quals: cat,
        }
    }

    fn exact(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    /// Amounts go from the text straight to an exact decimal.
    #[test]
    fn amounts_are_read_exactly() {
        let cat = catalogue();
        let cx = cx_of(&cat);
        let revenue = FIGURES.field("revenue").unwrap();
        let read = |s: &str| read_cell(revenue, s, &cx);
        for (s, want, shown) in [
            ("336.4", "336.4", "336.4"),
            ("6,728", "6728", "6728"),
            ("1,234.50", "1234.5", "1234.5"),
            ("１２３４．５", "1234.5", "1234.5"),
            ("0", "0", "0"),
            // More than four decimals: kept as typed (the registry has no
            // limit on decimals); pages show four.
            ("1.23456", "1.23456", "1.2346"),
            ("0.00004", "0.00004", "0"),
        ] {
            let v = read(s).unwrap();
            assert_eq!(v, Value::Dec(exact(want)), "{s}");
            assert_eq!(v.as_decimal(), Some(exact(want)), "{s}");
            assert_eq!(v.display(), shown, "{s}");
        }
        // 0.1 + 0.2 is 0.3 (not 0.30000000000000004).
        let sum =
            read("0.1").unwrap().as_decimal().unwrap() + read("0.2").unwrap().as_decimal().unwrap();
        assert_eq!(sum, read("0.3").unwrap().as_decimal().unwrap());
        // Negative amounts are refused, however small; too large too.
        assert_eq!(read("-1"), Err("不能为负数".to_string()));
        assert_eq!(read("-0.0001"), Err("不能为负数".to_string()));
        assert_eq!(read("1e15"), Err("数值过大".to_string()));
        assert_eq!(read("12元"), Err("“12元”不是数字".to_string()));
        // Net assets may be negative, exactly.
        let net = FIGURES.field("net_assets").unwrap();
        assert_eq!(
            read_cell(net, "-336.4", &cx),
            Ok(Value::Dec(exact("-336.4")))
        );
    }

    /// A contract whose technology amount is 0.1 + 0.2 of a contract of 0.3
    /// adds up (in f64 it would not).
    #[test]
    fn contract_amounts_add_up_exactly() {
        let cat = catalogue();
        let cx = cx_of(&cat);
        let amount = CONTRACTS.field("amount").unwrap();
        let a = read_cell(amount, "0.1", &cx).unwrap().as_decimal().unwrap()
            + read_cell(amount, "0.2", &cx).unwrap().as_decimal().unwrap();
        let mut rec = Record {
            values: vec![Value::Null; CONTRACTS.fields.len()],
        };
        rec.values[CONTRACTS.index("amount").unwrap()] = Value::Dec(exact("0.3"));
        rec.values[CONTRACTS.index("tech_amount").unwrap()] = Value::Dec(a);
        let mut errors = Vec::new();
        cross_checks(&CONTRACTS, &rec, &cx, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        rec.values[CONTRACTS.index("tech_amount").unwrap()] = Value::Dec(exact("0.30001"));
        cross_checks(&CONTRACTS, &rec, &cx, &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].reason, "技术交易额 0.30001 大于合同金额 0.3");
    }

    /// Stored JSON: an amount is a number when that reads back as the same
    /// decimal (as before), otherwise its text; old numbers still read.
    #[test]
    fn stored_amounts_round_trip_exactly() {
        let mut rec = Record {
            values: vec![Value::Null; FIGURES.fields.len()],
        };
        let at = |f: &str| FIGURES.index(f).unwrap();
        rec.values[at("credit_code")] = Value::Text("X".into());
        rec.values[at("year")] = Value::Int(2024);
        rec.values[at("revenue")] = Value::Dec(exact("6728"));
        rec.values[at("rd_expense")] = Value::Dec(exact("336.4"));
        rec.values[at("tax")] = Value::Dec(exact("0.12345678901234567890"));
        rec.values[at("net_assets")] = Value::Dec(exact("-12.5"));
        let j = rec.to_json(&FIGURES);
        assert_eq!(j["rd_expense"], serde_json::json!(336.4));
        assert_eq!(j["revenue"], serde_json::json!(6728.0));
        assert_eq!(j["tax"], serde_json::json!("0.1234567890123456789"));
        let text = j.to_string();
        for back in [
            Record::from_json(&FIGURES, &j),
            Record::from_json_str(&FIGURES, &text).unwrap(),
        ] {
            assert_eq!(back, rec);
            assert_eq!(
                back.values[at("rd_expense")].as_decimal(),
                Some(exact("336.4"))
            );
            assert_eq!(
                back.values[at("tax")].as_decimal(),
                Some(exact("0.1234567890123456789"))
            );
        }
        // Stored before amounts were exact: plain JSON numbers.
        let old =
            r#"{"credit_code":"X","year":2024,"revenue":6728.0,"rd_expense":336.4,"staff":12}"#;
        let back = Record::from_json_str(&FIGURES, old).unwrap();
        assert_eq!(back.values[at("rd_expense")], Value::Dec(exact("336.4")));
        assert_eq!(back.values[at("revenue")], Value::Dec(exact("6728")));
        // An f64 from the engine equals the decimal it stands for.
        assert_eq!(Value::Num(336.4), Value::Dec(exact("336.4")));
        assert_eq!(Value::Num(336.4).as_decimal(), Some(exact("336.4")));
        assert_ne!(Value::Num(336.4), Value::Dec(exact("336.40001")));
    }

    fn catalogue() -> QualCatalogue {
        QualCatalogue {
            kinds: vec![
                QualKind {
                    code: "hte".into(),
                    name: "高新技术企业".into(),
                    rule: ValidityRule::Years(3),
                    note: String::new(),
                },
                QualKind {
                    code: "tsme".into(),
                    name: "科技型中小企业".into(),
                    rule: ValidityRule::EvaluationYear,
                    note: String::new(),
                },
            ],
        }
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn schemas_are_consistent() {
        for def in all() {
            for k in def.key.iter().chain([&def.title]) {
                assert!(def.field(k).is_some(), "{}: key or title {k}", def.code);
            }
            let (AreaRule::Field(a) | AreaRule::Enterprise(a)) = def.area;
            assert!(def.field(a).is_some(), "{}: area {a}", def.code);
            if let Some(v) = def.validity {
                assert!(def.field(v.start).is_some(), "{}", def.code);
                assert!(v.end.is_none_or(|e| def.field(e).is_some()), "{}", def.code);
            }
            for e in def.enterprise.iter().chain(def.date.iter()) {
                assert!(def.field(e).is_some(), "{}: {e}", def.code);
            }
            let mut codes: Vec<&str> = def.fields.iter().map(|f| f.code).collect();
            codes.sort();
            codes.dedup();
            assert_eq!(
                codes.len(),
                def.fields.len(),
                "{}: duplicate field",
                def.code
            );
        }
    }

    #[test]
    fn dates_as_written() {
        for s in [
            "2024-05-01",
            "2024/5/1",
            "2024.05.01",
            "20240501",
            "2024年5月1日",
        ] {
            assert_eq!(parse_date(s), Some(d("2024-05-01")), "{s}");
        }
        for s in [
            "2024-02-30",
            "1900-01-01",
            "2024-13-01",
            "昨天",
            "45000",
            "2024-5",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn validity_rules() {
        let cat = catalogue();
        let q =
            |kind: &str, issued: Option<&str>, year: Option<i64>, revoked: Option<&str>| Record {
                values: vec![
                    Value::Text("91110000802100433B".into()),
                    Value::Text(kind.into()),
                    Value::Text("GR1".into()),
                    issued.map(|s| Value::Date(d(s))).unwrap_or(Value::Null),
                    year.map(Value::Int).unwrap_or(Value::Null),
                    Value::Null,
                    revoked.map(|s| Value::Date(d(s))).unwrap_or(Value::Null),
                ],
            };
        assert_eq!(
            cat.validity(&q("hte", Some("2022-10-18"), None, None)),
            Some((d("2022-10-18"), Some(d("2025-10-17"))))
        );
        assert_eq!(
            cat.validity(&q("hte", Some("2022-10-18"), None, Some("2023-06-01"))),
            Some((d("2022-10-18"), Some(d("2023-05-31"))))
        );
        assert_eq!(
            cat.validity(&q("tsme", None, Some(2024), None)),
            Some((d("2024-01-01"), Some(d("2024-12-31"))))
        );
        assert_eq!(cat.validity(&q("hte", None, None, None)), None);
        assert_eq!(
            cat.validity(&q("nope", Some("2022-01-01"), None, None)),
            None
        );
        // 29 February plus three years.
        assert_eq!(
            cat.validity(&q("hte", Some("2024-02-29"), None, None))
                .map(|v| v.1),
            Some(Some(d("2027-02-28")))
        );
    }
}
