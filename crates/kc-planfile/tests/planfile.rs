//! Plan files: the shipped plans load; bad files are rejected with every
//! error located (data-driven cases below); the JSON view carries the tree.

use kc_domain::plan::TargetKind;

const BENGBU: &str = include_str!("../../../plans/bengbu-2023-2025.toml");
const CHUZHOU: &str = include_str!("../../../plans/examples/chuzhou-2024-2027.toml");

#[test]
fn bengbu_plan_has_the_seed_structure() {
    let plan =
        kc_planfile::parse_plan("bengbu-2023-2025.toml", BENGBU).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan.level_counts(),
        vec![("工程".to_string(), 5), ("行动".to_string(), 10)]
    );
    assert_eq!(plan.areas.len(), 9);
    assert_eq!(plan.goals.len(), 8);
    assert!(plan.every_node.all_areas);
    // Every headline goal lists at least one target.
    for g in &plan.goals {
        assert!(!g.targets.is_empty(), "goal {} has no target", g.code);
    }
    // The quantitative targets of PLAN-DIGEST.md, by what they ask for.
    let wants: [(&str, TargetKind, f64); 26] = [
        ("platform_new", TargetKind::PeriodCount, 10.0),
        ("project_count", TargetKind::PeriodCount, 100.0),
        ("tsme_count", TargetKind::Stock, 1500.0),
        ("hte_count", TargetKind::Stock, 1200.0),
        ("zjtx_count", TargetKind::Stock, 400.0),
        ("achievement_count", TargetKind::Cumulative, 10000.0),
        ("rd_intensity", TargetKind::Share, 3.0),
        ("contract_absorbed", TargetKind::YearlyTotal, 300.0),
        ("", TargetKind::Rank, 5.0),
        ("", TargetKind::PerCapita, 12.0),
        ("", TargetKind::GrowthRate, 15.0),
        ("", TargetKind::Stock, 3.0),
        ("", TargetKind::Stock, 2.0),
        ("", TargetKind::ZeroCount, 0.0),
        ("", TargetKind::Share, 38.0),
        ("", TargetKind::Share, 55.0),
        ("", TargetKind::Share, 75.0),
        ("", TargetKind::Coverage, 100.0),
        ("", TargetKind::Annual, 20.0),
        ("", TargetKind::Annual, 6.0),
        ("", TargetKind::Stock, 40.0),
        ("", TargetKind::Stock, 100.0),
        ("", TargetKind::Stock, 140.0),
        ("", TargetKind::Stock, 150.0),
        ("", TargetKind::Relative, 0.0),
        ("", TargetKind::Milestone, 100.0),
    ];
    for (ind, kind, value) in wants {
        let found = plan.targets.iter().any(|t| {
            t.kind == kind
                && (ind.is_empty() || t.indicator.as_str() == ind)
                && (t.value.path_end(t.direction) - value).abs() < 1e-9
        });
        assert!(found, "no {kind:?} target of {value} on {ind:?}");
    }
    // Two zero-count targets (两清零), two coverage targets on areas, the
    // yearly range of bank-enterprise events.
    assert_eq!(
        plan.targets
            .iter()
            .filter(|t| t.kind == TargetKind::ZeroCount)
            .count(),
        2
    );
    assert!(plan.targets.iter().any(|t| t.kind == TargetKind::Annual
        && t.value == kc_domain::plan::TargetValue::Range { min: 3.0, max: 5.0 }));
    // Baselines from public figures are marked as reported.
    let hte = plan
        .targets
        .iter()
        .find(|t| t.indicator.as_str() == "hte_count")
        .unwrap();
    let b = hte.baseline.as_ref().unwrap();
    assert_eq!((b.value, b.reported), (700.0, true));
    // Each action has a lead unit, and the blanket rule adds the nine areas.
    for n in plan.nodes.iter().filter(|n| n.level == "行动") {
        assert!(!n.lead.is_empty(), "{} has no lead", n.code);
        assert!(plan.responsible_units(n).len() >= 10);
    }
}

#[test]
fn another_city_with_three_levels_loads() {
    let plan = kc_planfile::parse_plan("chuzhou.toml", CHUZHOU).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.levels, vec!["目标", "任务", "举措"]);
    assert!(plan.targets.iter().any(|t| !t.checkpoints.is_empty()));
    assert!(plan.targets.iter().any(|t| t.kind == TargetKind::Relative));
    assert!(plan.targets.iter().any(|t| t.kind == TargetKind::Rank));
}

#[test]
fn json_view_is_a_tree_with_goals() {
    let plan = kc_planfile::parse_plan("b.toml", BENGBU).unwrap();
    let j = kc_planfile::plan_json(&plan);
    let tree = j["tree"].as_array().unwrap();
    assert_eq!(tree.len(), 5);
    assert_eq!(tree[0]["level"], "工程");
    let actions: usize = tree
        .iter()
        .map(|p| p["children"].as_array().unwrap().len())
        .sum();
    assert_eq!(actions, 10);
    let a1 = &tree[0]["children"][0];
    for key in [
        "code",
        "name",
        "lead",
        "co",
        "responsible_units",
        "targets",
        "children",
    ] {
        assert!(a1.get(key).is_some(), "node lacks {key}");
    }
    let t = &a1["targets"][0];
    for key in ["code", "name", "kind", "target", "unit", "deadline"] {
        assert!(t.get(key).is_some(), "target lacks {key}");
    }
    assert_eq!(j["goals"].as_array().unwrap().len(), 8);
    assert_eq!(j["targets"].as_array().unwrap().len(), plan.targets.len());
}

const BASE: &str = r#"[plan]
code = "t"
name = "测试"
city = "某市"
start = 2023-01-01
end = 2025-12-31
levels = ["工程", "行动"]

[[area]]
code = "a1"
name = "甲区"

[[department]]
code = "kjj"
name = "市科技局"

[[indicator]]
code = "hte"
name = "高企数"
unit = "家"

[[indicator]]
code = "deals"
name = "合同额"
unit = "亿元"
measure = "flow"

[[node]]
code = "P1"
name = "工程一"

[[node]]
code = "A1"
parent = "P1"
name = "行动一"
lead = ["kjj"]

[[target]]
code = "T1"
name = "高企"
node = "A1"
indicator = "hte"
kind = "stock"
target = 1200
"#;

#[test]
fn base_case_is_valid() {
    kc_planfile::parse_plan("base.toml", BASE).unwrap_or_else(|e| panic!("{e}"));
}

/// (what the case does, text to find in BASE, replacement, expected
/// "line:column: message fragment" of one of the errors)
const BAD: &[(&str, &str, &str, &str)] = &[
    (
        "TOML syntax",
        "name = \"高企\"",
        "name = \"高企",
        "40:11: TOML 语法错误",
    ),
    (
        "unknown top-level part",
        "[[area]]",
        "[[areas]]",
        "未知的顶层部分 areas",
    ),
    (
        "missing plan name",
        "name = \"测试\"\n",
        "",
        "[plan] 缺少必填字段 name",
    ),
    (
        "end before start",
        "end = 2025-12-31",
        "end = 2022-12-31",
        "6:7: 规划期结束日期应晚于开始日期",
    ),
    (
        "bad date",
        "start = 2023-01-01",
        "start = \"2023/01/01\"",
        "5:9: [plan] 的 start 不是有效日期",
    ),
    (
        "bad code",
        "code = \"a1\"",
        "code = \"甲 区\"",
        "10:8: [[area]] 甲 区 的 code：编码“甲 区”只能包含",
    ),
    (
        "duplicate unit",
        "code = \"a1\"",
        "code = \"kjj\"",
        "责任单位编码 kjj 重复",
    ),
    (
        "unknown lead",
        "lead = [\"kjj\"]",
        "lead = [\"kjx\"]",
        "36:9: 节点 A1 引用了未定义的责任单位 kjx",
    ),
    (
        "unknown parent",
        "parent = \"P1\"",
        "parent = \"P9\"",
        "34:10: 节点 A1 的上级 P9 未定义",
    ),
    (
        "parent cycle",
        "code = \"P1\"\nname = \"工程一\"",
        "code = \"P1\"\nparent = \"A1\"\nname = \"工程一\"",
        "上级关系形成循环",
    ),
    (
        "too deep",
        "levels = [\"工程\", \"行动\"]",
        "levels = [\"工程\"]",
        "节点 A1 位于第 2 层",
    ),
    (
        "level not in levels",
        "name = \"行动一\"",
        "name = \"行动一\"\nlevel = \"任务\"",
        "level“任务”不在 [plan] levels 中",
    ),
    (
        "unknown indicator",
        "indicator = \"hte\"",
        "indicator = \"htee\"",
        "42:13: 目标引用了未定义的指标 htee",
    ),
    (
        "unknown node",
        "node = \"A1\"",
        "node = \"A9\"",
        "41:8: 目标所属节点 A9 未定义",
    ),
    (
        "bad kind",
        "kind = \"stock\"",
        "kind = \"stok\"",
        "43:8: [[target]] T1 的 kind 取值“stok”无效",
    ),
    (
        "typo with hint",
        "target = 1200",
        "target = 1200\ndealine = 2025",
        "45:1: [[target]] T1 中有未知字段 dealine（是否想写 deadline？）",
    ),
    (
        "missing target value",
        "target = 1200",
        "",
        "[[target]] T1 缺少必填字段 target",
    ),
    (
        "text as number",
        "target = 1200",
        "target = \"1200家\"",
        "44:10: [[target]] T1 的 target 无法识别",
    ),
    (
        "flow kind on stock",
        "kind = \"stock\"",
        "kind = \"cumulative\"",
        "需要流量指标",
    ),
    (
        "stock kind on flow",
        "indicator = \"hte\"",
        "indicator = \"deals\"",
        "需要存量指标",
    ),
    (
        "range upside down",
        "target = 1200",
        "target = { min = 5, max = 3 }",
        "区间下限 5 大于上限 3",
    ),
    (
        "range kind needs range",
        "kind = \"stock\"",
        "kind = \"range\"",
        "kind = \"range\" 的 target 应为区间",
    ),
    (
        "rank not integer",
        "kind = \"stock\"\ntarget = 1200",
        "kind = \"rank\"\ntarget = 2.5",
        "排名目标应为正整数",
    ),
    (
        "zero count not zero",
        "kind = \"stock\"",
        "kind = \"zero_count\"",
        "清零目标的 target 只能是 0",
    ),
    (
        "relative without compare",
        "kind = \"stock\"\ntarget = 1200",
        "kind = \"relative\"",
        "缺少 compare",
    ),
    (
        "coverage without universe",
        "kind = \"stock\"\ntarget = 1200",
        "kind = \"coverage\"",
        "缺少 universe",
    ),
    (
        "deadline after plan",
        "target = 1200",
        "target = 1200\ndeadline = 2027",
        "晚于规划期结束",
    ),
    (
        "checkpoint after deadline",
        "target = 1200",
        "target = 1200\ncheckpoints = [{ date = 2026-06-30, value = 1 }]",
        "不在基期与截止日期之间",
    ),
    (
        "orphan target",
        "node = \"A1\"\n",
        "",
        "既没有 node，也没有被任何发展目标列出",
    ),
    (
        "goal lists unknown target",
        "[[node]]\ncode = \"P1\"",
        "[[goal]]\ncode = \"G1\"\nname = \"目标\"\ntargets = [\"T9\"]\n\n[[node]]\ncode = \"P1\"",
        "发展目标引用了未定义的目标 T9",
    ),
    (
        "formula typo",
        "measure = \"flow\"",
        "measure = \"flow\"\nformula = \"hte / \"",
        "指标公式有误",
    ),
    (
        "formula unknown input",
        "measure = \"flow\"",
        "measure = \"flow\"\nformula = \"hte / gdp\"",
        "引用了未定义的指标 gdp",
    ),
    (
        "formula cycle",
        "measure = \"flow\"",
        "measure = \"flow\"\nformula = \"deals + 1\"",
        "直接或间接引用了自身",
    ),
    (
        "unknown registry",
        "unit = \"家\"",
        "unit = \"家\"\nregistry = \"firms\"",
        "未知的登记库“firms”",
    ),
    (
        "an alias naming two areas",
        "name = \"甲区\"\n",
        "name = \"甲区\"\n\n[[area]]\ncode = \"a2\"\nname = \"乙区\"\naliases = [\"甲区\"]\n",
        "地区名称或别名“甲区”同时指向地区 a1 和 a2",
    ),
    (
        "aliases not a list",
        "name = \"甲区\"\n",
        "name = \"甲区\"\naliases = \"甲\"\n",
        "aliases",
    ),
    (
        "ranking of an unknown indicator",
        "target = 1200",
        "target = 1200\n\n[ranking]\n[[ranking.item]]\ncode = \"R1\"\nindicator = \"nope\"\n",
        "[[ranking.item]] 引用了未定义的指标 nope",
    ),
    (
        "ranking on an indicator the areas do not report",
        "target = 1200",
        "target = 1200\n\n[ranking]\n[[ranking.item]]\ncode = \"R1\"\nindicator = \"hte\"\n",
        "[[ranking.item]] 的指标 hte（高企数）没有分地区的数据，无法用于县区排名",
    ),
    (
        "ranking without items",
        "target = 1200",
        "target = 1200\n\n[ranking]\nname = \"争先\"\n",
        "[ranking] 中没有任何 [[ranking.item]]",
    ),
    (
        "unknown normalisation",
        "target = 1200",
        "target = 1200\n\n[ranking]\nnormalization = \"zscore\"\n[[ranking.item]]\ncode = \"R1\"\nindicator = \"hte\"\n",
        "normalization",
    ),
    (
        "tie-break naming no item",
        "target = 1200",
        "target = 1200\n\n[ranking]\ntie_break = [\"R9\"]\n[[ranking.item]]\ncode = \"R1\"\nindicator = \"hte\"\n",
        "tie_break 中的 R9 不是本排名的指标编码",
    ),
    (
        "ranking weight zero",
        "target = 1200",
        "target = 1200\n\n[ranking]\n[[ranking.item]]\ncode = \"R1\"\nindicator = \"hte\"\nweight = 0\n",
        "[[ranking.item]] 的 weight 应为正数",
    ),
    (
        "ranking item twice",
        "target = 1200",
        "target = 1200\n\n[ranking]\n[[ranking.item]]\ncode = \"R1\"\nindicator = \"hte\"\n[[ranking.item]]\ncode = \"R1\"\nindicator = \"hte\"\n",
        "排名指标编码 R1 重复",
    ),
    (
        "reward rate above one",
        "target = 1200",
        "target = 1200\n\n[market.reward]\nrate = 5\n",
        "[market.reward] 的 rate 是比例，应在 0–1 之间",
    ),
    (
        "negative reward cap",
        "target = 1200",
        "target = 1200\n\n[market.reward]\nrate = 0.01\nper_deal_cap = -1\n",
        "[market.reward] 的 per_deal_cap 应为正数",
    ),
    (
        "unknown score combination",
        "target = 1200",
        "target = 1200\n\n[market.challenge]\ncombine = \"median\"\n",
        "combine",
    ),
    (
        "pass score above full marks",
        "target = 1200",
        "target = 1200\n\n[market.challenge]\npass_score = 90\n[[market.challenge.criterion]]\nname = \"方案\"\nmax = 50\n",
        "pass_score 90 高于评分表满分 50",
    ),
    (
        "misspelt market key",
        "target = 1200",
        "target = 1200\n\n[market.reward]\nrate = 0.01\nper_year_cpa = 5\n",
        "未知字段 per_year_cpa",
    ),
    (
        "misspelt ranking key",
        "target = 1200",
        "target = 1200\n\n[ranking]\n[[ranking.item]]\ncode = \"R1\"\nindicator = \"hte\"\nweigth = 2\n",
        "未知字段 weigth",
    ),
    (
        "bad due days",
        "unit = \"家\"",
        "unit = \"家\"\ndue_days = 1.5",
        "due_days 应为 0–366 的整数",
    ),
    (
        "negative weight",
        "target = 1200",
        "target = 1200\nweight = -1",
        "weight 不能为负数",
    ),
    (
        "allocation to an unknown area",
        "target = 1200",
        "target = 1200\nareas = { zz = { target = 5 } }",
        "T1 分解到未定义的地区 zz",
    ),
    (
        "allocation to an unknown department",
        "target = 1200",
        "target = 1200\ndepartments = { fgw = { target = 5 } }",
        "T1 分解到未定义的部门 fgw",
    ),
    (
        "allocation without a target",
        "target = 1200",
        "target = 1200\nareas = { a1 = { baseline = 5 } }",
        "areas.a1 缺少必填字段 target",
    ),
    (
        "allocation year after the deadline",
        "target = 1200",
        "target = 1200\nareas = { a1 = { target = 5, years = { 2025 = 4 } } }",
        "2025 年目标不在基期与截止日期之间",
    ),
    (
        "allocation year not a year",
        "target = 1200",
        "target = 1200\nareas = { a1 = { target = 5, years = { soon = 4 } } }",
        "years 应写成 年份 = 数字",
    ),
    (
        "allocation with an unknown field",
        "target = 1200",
        "target = 1200\nareas = { a1 = { target = 5, goal = 4 } }",
        "areas.a1 中有未知字段 goal",
    ),
    (
        "multiple without a baseline",
        "target = 1200",
        "target = \"2×基期\"",
        "target 是基期的倍数，但没有写基期",
    ),
    (
        "a word that is not a multiple",
        "target = 1200",
        "target = \"很多\"",
        "target 无法识别（“很多”）",
    ),
];

#[test]
fn bad_plans_are_rejected_with_located_errors() {
    for (what, find, replace, expected) in BAD {
        assert!(BASE.contains(find), "case {what}: {find:?} not in BASE");
        let text = BASE.replacen(find, replace, 1);
        let err = match kc_planfile::parse_plan("bad.toml", &text) {
            Ok(_) => panic!("case {what}: accepted"),
            Err(e) => e,
        };
        let shown = err.to_string();
        assert!(
            shown.lines().any(|l| l.contains(expected)),
            "case {what}: expected {expected:?} in\n{shown}"
        );
        for line in shown.lines() {
            assert!(
                line.starts_with("bad.toml:"),
                "case {what}: unlocated error {line:?}"
            );
        }
    }
}

#[test]
fn every_error_is_reported_at_once() {
    let text = BASE
        .replacen("indicator = \"hte\"", "indicator = \"x1\"", 1)
        .replacen("lead = [\"kjj\"]", "lead = [\"x2\"]", 1)
        .replacen("target = 1200", "target = 1200\nfoo = 1", 1);
    let err = kc_planfile::parse_plan("bad.toml", &text).unwrap_err();
    assert_eq!(err.errors.len(), 3, "{err}");
    // Sorted by position in the file.
    let lines: Vec<usize> = err.errors.iter().map(|d| d.line).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "\0\0",
        "[[target]]\n[[target]]",
        "[plan]\nlevels = 3",
        "plan = 1",
        "[[node]]\nparent = 1",
        "[[target]]\ntarget = {}",
    ] {
        assert!(kc_planfile::parse_plan("x.toml", text).is_err());
    }
}

#[test]
fn bengbu_market_rules_are_read() {
    let plan = kc_planfile::parse_plan("bengbu-2023-2025.toml", BENGBU).unwrap();
    let m = &plan.market;
    assert_eq!(m.reward.rate, 0.01);
    assert_eq!(m.reward.per_deal_cap, Some(10.0));
    assert_eq!(m.reward.per_year_cap, Some(50.0));
    assert_eq!(m.challenge.criteria.len(), 4);
    assert_eq!(
        m.challenge.criteria.iter().map(|c| c.max).sum::<f64>(),
        100.0
    );
    assert_eq!(m.challenge.combine, kc_domain::market::Combine::TrimmedMean);
    assert_eq!((m.challenge.pass_score, m.challenge.min_panel), (60.0, 3));
}

/// Area targets (the allocation table): read with their own baseline and
/// yearly targets, the areas' sum checked against the city's target.
#[test]
fn area_targets_are_read_and_their_sum_checked() {
    let two_areas = BASE
        .replacen(
            "[[department]]",
            "[[area]]\ncode = \"a2\"\nname = \"乙县\"\n\n[[department]]",
            1,
        )
        .replacen("unit = \"家\"", "unit = \"家\"\nadditive = true", 1);
    let text = two_areas.replacen(
        "target = 1200",
        "target = 1200\nbaseline = { value = 700, date = 2022-12-31 }\n\
         areas = { a1 = { baseline = 400, target = 700, years = { 2023 = 500, 2024 = 600 }, responsible = \"甲区科技局\" }, \
         a2 = { baseline = 300, target = 450 } }",
        1,
    );
    let checked = kc_planfile::check_plan("t.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let t = checked.plan.target("T1").unwrap();
    assert_eq!(t.allocations.len(), 2);
    let a1 = t.allocation("a1").unwrap();
    assert_eq!(
        a1.value,
        kc_domain::plan::TargetValue::Number { value: 700.0 }
    );
    let b = a1.baseline.as_ref().unwrap();
    // A bare number shares the city baseline's date.
    assert_eq!(
        (b.value, b.date.to_string()),
        (400.0, "2022-12-31".to_string())
    );
    let years: Vec<(String, f64)> = a1
        .checkpoints
        .iter()
        .map(|c| (c.date.to_string(), c.value))
        .collect();
    assert_eq!(
        years,
        vec![("2023-12-31".into(), 500.0), ("2024-12-31".into(), 600.0)]
    );
    assert_eq!(a1.responsible.as_deref(), Some("甲区科技局"));
    // 700 + 450 = 1,150 < 1,200: a warning, not an error.
    let lines = checked.warning_lines("t.toml");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("地区目标之和不等于全市目标：全部地区合计 1150，小于全市目标 1200"),
        "{lines:?}"
    );
    assert!(lines[0].starts_with("t.toml:"), "located: {lines:?}");
    // Shares that add up, with baselines that add up: no warning.
    let even = text.replacen(
        "a2 = { baseline = 300, target = 450 }",
        "a2 = { baseline = 300, target = 500 }",
        1,
    );
    let checked = kc_planfile::check_plan("t.toml", &even).unwrap();
    assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
    // Baselines that do not add up are named.
    let off = even.replacen("baseline = 300", "baseline = 250", 1);
    let lines = kc_planfile::check_plan("t.toml", &off)
        .unwrap()
        .warning_lines("t.toml");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("地区基期值之和 650 不等于全市基期值 700")),
        "{lines:?}"
    );
    // A rate is not summed.
    let rate = BASE
        .replacen("unit = \"家\"", "unit = \"%\"\nadditive = false", 1)
        .replacen("kind = \"stock\"", "kind = \"share\"", 1)
        .replacen(
            "target = 1200",
            "target = 3\nareas = { a1 = { target = 2.5 } }",
            1,
        );
    let checked = kc_planfile::check_plan("t.toml", &rate).unwrap_or_else(|e| panic!("{e}"));
    assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
}

/// 翻一番 and "2×基期": the target is the factor times the baseline.
#[test]
fn multiples_of_the_baseline() {
    for (written, factor) in [
        ("2×基期", 2.0),
        ("1.5x基期", 1.5),
        ("3倍基期", 3.0),
        ("基期的2倍", 2.0),
        ("翻一番", 2.0),
        ("翻两番", 4.0),
        ("倍增", 2.0),
    ] {
        let text = BASE.replacen(
            "target = 1200",
            &format!("target = \"{written}\"\nbaseline = {{ value = 600, date = 2022-12-31 }}"),
            1,
        );
        let plan =
            kc_planfile::parse_plan("t.toml", &text).unwrap_or_else(|e| panic!("{written}: {e}"));
        let t = plan.target("T1").unwrap();
        assert_eq!(
            t.value,
            kc_domain::plan::TargetValue::Number {
                value: 600.0 * factor
            },
            "{written}"
        );
        assert_eq!(t.multiple, Some(factor));
        assert!(t.describe().contains(&format!(
            "基期的 {} 倍",
            kc_domain::plan::fmt_num(factor, 2)
        )));
    }
}

/// The shipped plans carry area targets.
#[test]
fn shipped_plans_allocate_targets_to_areas() {
    for (file, text) in [("bengbu", BENGBU), ("chuzhou", CHUZHOU)] {
        let checked = kc_planfile::check_plan(file, text).unwrap_or_else(|e| panic!("{e}"));
        let allocated = checked
            .plan
            .targets
            .iter()
            .filter(|t| !t.allocations.is_empty())
            .count();
        assert!(allocated >= 3, "{file}: {allocated} targets allocated");
    }
}

/// `binding = true` (达到) and `strict = true` (超过) make a checkpoint an
/// interim target.
#[test]
fn binding_checkpoints_are_read() {
    let text = BASE.replacen(
        "target = 1200",
        "target = 1200\nbaseline = { value = 700, date = 2022-12-31 }\ncheckpoints = [{ date = 2023-12-31, value = 800 }, { date = 2024-12-31, value = 1000, strict = true }, { date = 2025-06-30, value = 1100, binding = true }]",
        1,
    );
    let plan = kc_planfile::parse_plan("t.toml", &text).unwrap_or_else(|e| panic!("{e}"));
    let b: Vec<Option<kc_domain::plan::Binding>> = plan.targets[0]
        .checkpoints
        .iter()
        .map(|c| c.binding)
        .collect();
    use kc_domain::plan::Binding::*;
    assert_eq!(b, vec![None, Some(MoreThan), Some(AtLeast)]);
}
