//! The audit trail in words: what each recorded action means, what the
//! object is and what the details say, for the audit administrator who reads
//! them (the stored codes and JSON stay as they are — the hash chain covers
//! them — and are one click away on the page and in the export).

/// Every action the system records, with its name. Deal and challenge steps
/// are named by their step after the prefix.
pub const ACTIONS: &[(&str, &str)] = &[
    ("login", "登录"),
    ("login.failed", "登录失败"),
    ("login.throttled", "登录受限（失败过多）"),
    ("account.locked", "账号锁定"),
    ("logout", "退出登录"),
    ("logout.all", "退出全部登录"),
    ("user.create", "新建账号"),
    ("user.roles", "分配角色"),
    ("user.reset", "重置密码"),
    ("user.password", "修改密码"),
    ("user.lock", "停用账号"),
    ("user.unlock", "启用或解锁账号"),
    ("user.demo", "创建演示账号"),
    ("audit.verify", "校验审计日志"),
    ("audit.key", "生成审计密钥"),
    ("audit.prune", "清理过期审计记录"),
    ("audit.seal", "封存审计日志"),
    ("backup", "备份数据库"),
    ("restore", "从备份恢复"),
    ("export", "导出数据"),
    ("plan.load", "载入规划"),
    ("plan.edit", "编辑规划"),
    ("plan.create", "新建规划"),
    ("plan.allocation", "修改目标任务分解表"),
    ("value.submit", "提交数据"),
    ("value.draft", "保存数据草稿"),
    ("value.approve", "审核通过"),
    ("value.return", "退回数据"),
    ("value.attach", "上传佐证材料"),
    ("record.save", "保存登记记录"),
    ("record.delete", "删除登记记录"),
    ("record.import", "批量导入登记库"),
    ("period.lock", "锁定期间"),
    ("duty.remind", "催报"),
    ("market.submit", "提交技术需求"),
    ("market.publish", "发布技术需求"),
    ("market.reject", "不予发布技术需求"),
    ("search.reindex", "重建检索索引"),
    ("deal.open", "建立对接事项"),
    ("deal.contact", "对接事项：联系"),
    ("deal.advance", "对接事项：推进"),
    ("deal.sign", "对接事项：签订合同"),
    ("deal.register", "对接事项：登记合同"),
    ("challenge.publish", "发布揭榜挂帅项目"),
    ("challenge.apply", "揭榜申请"),
    ("challenge.panel", "组建评审专家组"),
    ("challenge.review", "形式审查"),
    ("challenge.score", "专家评分"),
    ("challenge.award", "确定揭榜方"),
    ("challenge.milestone", "设置里程碑"),
    ("challenge.milestone_done", "完成里程碑"),
    ("challenge.accept", "验收"),
];

/// An action's name; an action this version does not know keeps its code
/// (a newer server may have written it).
pub fn action_zh(code: &str) -> String {
    ACTIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| code.to_string())
}

/// What an object is: `plan:bengbu-2023-2025` → 规划 bengbu-2023-2025.
pub fn object_zh(object: &str) -> String {
    let kinds = [
        ("plan", "规划"),
        ("user", "账号"),
        ("value", "数据"),
        ("record", "登记记录"),
        ("registry", "登记库"),
        ("deal", "对接事项"),
        ("challenge", "揭榜项目"),
        ("listing", "技术需求"),
        ("period", "期间"),
        ("duty", "填报任务"),
    ];
    match object.split_once(':') {
        Some((k, rest)) => match kinds.iter().find(|(c, _)| *c == k) {
            Some((_, n)) => format!("{n} {rest}"),
            None => object.to_string(),
        },
        None => match object {
            "audit" => "审计日志".into(),
            "search" => "检索索引".into(),
            other => other.to_string(),
        },
    }
}

/// The details' keys people read; others keep their key.
fn key_zh(k: &str) -> &str {
    match k {
        "version" => "版本",
        "from" => "原版本",
        "target" => "目标",
        "targets" => "目标",
        "node" => "任务",
        "indicator" => "指标",
        "rows" => "行数",
        "format" => "格式",
        "file" => "文件",
        "reason" => "原因",
        "comment" => "意见",
        "value" => "数值",
        "period" => "期间",
        "scope" => "范围",
        "roles" => "角色",
        "before" => "修改前",
        "after" => "修改后",
        "ok" => "结果",
        "count" => "数量",
        "amount" => "金额",
        "query" => "查询条件",
        "base" => "沿用规划",
        "from_table" => "由目标表导入",
        "until" => "锁定至",
        "failures" => "失败次数",
        // The market's deals and challenges, whose steps record the case.
        "deal" => "对接事项",
        "challenge" => "揭榜项目",
        "demand" => "技术需求",
        "offer" => "科技成果",
        "expert" => "专家",
        "broker" => "技术经纪人",
        "taken_by" => "承接账号",
        "area" => "市场",
        "event" => "对接活动",
        "stage" => "阶段",
        "to" => "推进至",
        "note" => "说明",
        "contact" => "联系",
        "log" => "记录",
        "on" => "日期",
        "by" => "操作人",
        "contract" => "合同",
        "terms" => "合同条款",
        "reg_number" => "登记编号",
        "kind" => "类型",
        "seller_name" => "卖方名称",
        "seller_credit_code" => "卖方信用代码",
        "seller_area" => "卖方所在地区",
        "seller_type" => "卖方类型",
        "buyer_name" => "买方名称",
        "buyer_credit_code" => "买方信用代码",
        "buyer_area" => "买方所在地区",
        "buyer_type" => "买方类型",
        "tech_amount" => "技术交易额",
        "signed_on" => "签约日期",
        "registered_on" => "登记日期",
        "reward" => "经纪人奖励",
        "uncapped" => "按比例计算",
        "capped_by" => "受限于",
        "title" => "名称",
        "goal" => "攻关目标",
        "budget" => "金额（万元）",
        "deadline" => "截止日期",
        "conditions" => "揭榜条件",
        "enterprise" => "出题企业",
        "credit_code" => "信用代码",
        "cluster" => "产业集群",
        "published_on" => "发布日期",
        "applications" => "揭榜申请",
        "application" => "揭榜申请",
        "id" => "编号",
        "solver" => "揭榜人",
        "organization" => "单位",
        "proposal" => "技术方案",
        "applied_on" => "申请日期",
        "panel" => "专家组",
        "name" => "姓名",
        "conflict" => "回避原因",
        "declared" => "申报回避",
        "sheets" => "评分表",
        "points" => "各项得分",
        "total" => "总分",
        "score" => "综合得分",
        "standings" => "排名",
        "winner" => "揭榜方",
        "awarded_on" => "揭榜日期",
        "milestones" => "里程碑",
        "milestone" => "里程碑",
        "due_on" => "计划完成日期",
        "done_on" => "完成日期",
        "acceptance" => "验收",
        "passed" => "通过",
        "enterprise_opinion" => "出题企业意见",
        "project" => "项目",
        _ => k,
    }
}

fn value_zh(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "无".into(),
        serde_json::Value::Bool(true) => "是".into(),
        serde_json::Value::Bool(false) => "否".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Array(a) => a.iter().map(value_zh).collect::<Vec<_>>().join("、"),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{}：{}", key_zh(k), value_zh(v)))
            .collect::<Vec<_>>()
            .join("，"),
    }
}

/// A stage of a deal or a challenge in words (`negotiating` → 洽谈中); other
/// values as they are.
fn stage_zh(v: &serde_json::Value) -> String {
    use kc_domain::market::{ChallengeStage, Stage};
    match v.as_str() {
        Some(s) => Stage::parse(s)
            .map(|x| x.zh().to_string())
            .or_else(|| {
                ChallengeStage::ALL
                    .iter()
                    .find(|x| x.code() == s)
                    .map(|x| x.zh().to_string())
            })
            .unwrap_or_else(|| value_zh(v)),
        None => value_zh(v),
    }
}

/// The details as a line of words; text that is not JSON is shown as is.
pub fn detail_zh(detail: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(o)) if o.is_empty() => String::new(),
        Ok(serde_json::Value::Object(o)) => o
            .iter()
            .map(|(k, v)| {
                if matches!(k.as_str(), "stage" | "from" | "to") && v.is_string() {
                    format!("{}：{}", key_zh(k), stage_zh(v))
                } else {
                    format!("{}：{}", key_zh(k), value_zh(v))
                }
            })
            .collect::<Vec<_>>()
            .join("；"),
        Ok(v) => value_zh(&v),
        Err(_) => detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_objects_and_details_read_as_words() {
        assert_eq!(action_zh("value.submit"), "提交数据");
        assert_eq!(action_zh("challenge.milestone_done"), "完成里程碑");
        assert_eq!(action_zh("future.thing"), "future.thing");
        assert_eq!(object_zh("plan:bengbu-2023-2025"), "规划 bengbu-2023-2025");
        assert_eq!(object_zh("user:kjj"), "账号 kjj");
        assert_eq!(
            detail_zh(r#"{"version":3,"from":2,"target":"T3-2"}"#),
            "原版本：2；目标：T3-2；版本：3"
        );
        assert_eq!(detail_zh(r#"{"ok":true}"#), "结果：是");
        assert_eq!(detail_zh(r#"{"stage":"negotiating"}"#), "阶段：洽谈中");
        assert_eq!(detail_zh(r#"{"stage":"accepted"}"#), "阶段：验收通过");
        assert_eq!(detail_zh("{}"), "");
        assert_eq!(detail_zh("纯文本"), "纯文本");
        // Every action the code base records has a name.
        let mut seen = std::collections::HashSet::new();
        for (c, n) in ACTIONS {
            assert!(seen.insert(*c), "{c} twice");
            assert!(!n.is_empty() && !n.is_ascii());
        }
    }
}
