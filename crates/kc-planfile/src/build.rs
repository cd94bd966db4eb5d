//! Builds a [`Plan`] from the TOML tables and checks every cross-reference.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use chrono::NaiveDate;
use kc_domain::Code;
use kc_domain::expr::Expr;
use kc_domain::period::{DateRange, Frequency};
use kc_domain::plan::{
    Allocation, Area, Baseline, Checkpoint, Curve, DataSource, Department, Direction,
    EveryNodeRule, ForecastMethod, Goal, GrowthBasis, Indicator, Measure, Node, Plan, PlanStatus,
    Reporting, SourceDoc, StatusRule, Target, TargetKind, TargetValue, Universe,
};
use toml_edit::Table;

use crate::reader::{Ctx, N, Obj};

type Span = Option<Range<usize>>;

const TOP_KEYS: [&str; 9] = [
    "plan",
    "ranking",
    "market",
    "area",
    "department",
    "indicator",
    "goal",
    "node",
    "target",
];

pub fn build(ctx: &Ctx<'_>, root: &Table) -> Option<Plan> {
    for (key, _) in root.iter() {
        if !TOP_KEYS.contains(&key) {
            ctx.error(
                root.key(key).and_then(|k| k.span()),
                format!("未知的顶层部分 {key}"),
                Some("[plan]、[[area]]、[[department]]、[[indicator]]、[[goal]]、[[node]]、[[target]]、[ranking]、[market]"),
            );
        }
    }
    let header = match root.get("plan") {
        Some(item) => Obj::new(ctx, N::I(item), "[plan]"),
        None => {
            ctx.error(
                None,
                "缺少 [plan] 部分",
                Some("[plan] 表，写明编码、名称、城市和规划期"),
            );
            None
        }
    };
    let (header, levels) = match header {
        Some(h) => read_header(&h),
        None => (None, Vec::new()),
    };

    let areas: Vec<(Area, Span)> = list(ctx, root, "area")
        .filter_map(|o| {
            let a = Area {
                code: o.req_code("code")?,
                name: o.req_str("name")?,
                kind: o.opt_str("kind").unwrap_or_default(),
                aliases: o.str_list("aliases"),
            };
            o.finish();
            Some((a, o.span()))
        })
        .collect();
    let departments: Vec<(Department, Span)> = list(ctx, root, "department")
        .filter_map(|o| {
            let d = Department {
                code: o.req_code("code")?,
                name: o.req_str("name")?,
            };
            o.finish();
            Some((d, o.span()))
        })
        .collect();
    // Every way of writing an area must name one area only.
    let mut area_names: HashMap<String, String> = HashMap::new();
    for (a, span) in &areas {
        let names = [a.code.to_string(), a.name.clone()]
            .into_iter()
            .chain(a.aliases.iter().cloned());
        for n in names {
            match area_names.get(&n) {
                Some(other) if *other != a.code.as_str() => ctx.error(
                    span.clone(),
                    format!("地区名称或别名“{n}”同时指向地区 {other} 和 {}", a.code),
                    Some("每个名称只对应一个地区"),
                ),
                _ => {
                    area_names.insert(n, a.code.to_string());
                }
            }
        }
    }
    let mut units: HashSet<String> = HashSet::new();
    for (code, span) in areas
        .iter()
        .map(|(a, s)| (&a.code, s))
        .chain(departments.iter().map(|(d, s)| (&d.code, s)))
    {
        if !units.insert(code.to_string()) {
            ctx.error(
                span.clone(),
                format!("责任单位编码 {code} 重复（部门和地区共用一套编码）"),
                Some("唯一的编码"),
            );
        }
    }
    let dept_codes: HashSet<&str> = departments.iter().map(|(d, _)| d.code.as_str()).collect();
    let check_unit = |code: &Code, span: &Span, what: &str| {
        if !units.contains(code.as_str()) {
            ctx.error(
                span.clone(),
                format!("{what} 引用了未定义的责任单位 {code}"),
                Some("已在 [[department]] 或 [[area]] 中定义的编码"),
            );
        }
    };

    let indicators = read_indicators(ctx, root, &dept_codes);
    let ind_map: HashMap<&str, &Indicator> = indicators
        .iter()
        .map(|(i, _)| (i.code.as_str(), i))
        .collect();

    let nodes = read_nodes(ctx, root, &levels, &check_unit);
    // References are checked against every code written in the file, so an
    // item that fails for another reason does not cause a cascade of
    // "undefined" errors in the items that refer to it.
    let node_codes = declared(root, "node");

    let plan_period = header.as_ref().map(|h| h.period);
    let ind_codes = declared(root, "indicator");
    let unit_codes = Units {
        areas: areas.iter().map(|(a, _)| a.code.as_str()).collect(),
        departments: dept_codes.clone(),
    };
    let targets = read_targets(
        ctx,
        root,
        &ind_map,
        &ind_codes,
        &node_codes,
        plan_period,
        &unit_codes,
    );
    let target_codes = declared(root, "target");

    let mut goal_refs: HashSet<String> = HashSet::new();
    let goals: Vec<Goal> = list(ctx, root, "goal")
        .filter_map(|o| {
            let refs = o.code_list("targets");
            for (c, span) in &refs {
                if !target_codes.contains(c.as_str()) {
                    ctx.error(
                        span.clone(),
                        format!("发展目标引用了未定义的目标 {c}"),
                        Some("已在 [[target]] 中定义的目标编码"),
                    );
                }
                goal_refs.insert(c.to_string());
            }
            let g = Goal {
                code: o.req_code("code")?,
                name: o.req_str("name")?,
                summary: o.opt_str("summary").unwrap_or_default(),
                targets: refs.into_iter().map(|(c, _)| c).collect(),
            };
            o.finish();
            Some(g)
        })
        .collect();
    dupes(ctx, goals.iter().map(|g| (&g.code, None)), "发展目标");
    for (t, span) in &targets {
        if t.node.is_none() && !goal_refs.contains(t.code.as_str()) {
            ctx.error(
                span.clone(),
                format!("目标 {} 既没有 node，也没有被任何发展目标列出", t.code),
                Some("node = \"所属节点编码\"，或在 [[goal]] 的 targets 中列出"),
            );
        }
    }

    let ranking = {
        let inds: Vec<&Indicator> = indicators.iter().map(|(i, _)| i).collect();
        crate::ranking::read_ranking(ctx, root, &inds)
    };
    let market = crate::market::read_market(ctx, root);
    let header = header?;
    for (code, span) in &header.every_units {
        check_unit(code, span, "[plan.every_node] units");
    }
    if targets.is_empty() && !ctx.has_errors() {
        ctx.error(None, "规划中没有任何目标", Some("至少一个 [[target]]"));
    }
    Some(Plan {
        code: header.code,
        name: header.name,
        short_name: header.short_name,
        city: header.city,
        level: header.level,
        issuer: header.issuer,
        follows: header.follows,
        period: header.period,
        status: header.status,
        source: header.source,
        levels: header.levels,
        areas: areas.into_iter().map(|(a, _)| a).collect(),
        departments: departments.into_iter().map(|(d, _)| d).collect(),
        every_node: EveryNodeRule {
            all_areas: header.all_areas,
            units: header.every_units.into_iter().map(|(c, _)| c).collect(),
            note: header.every_note,
        },
        indicators: indicators.into_iter().map(|(i, _)| i).collect(),
        goals,
        nodes,
        targets: targets.into_iter().map(|(t, _)| t).collect(),
        status_rule: header.status_rule,
        reporting: header.reporting,
        ranking,
        market,
    })
}

/// The tables of an array of tables such as `[[target]]`.
fn list<'a, 'c, 's>(
    ctx: &'c Ctx<'s>,
    root: &'a Table,
    key: &'static str,
) -> impl Iterator<Item = Obj<'a, 'c, 's>> {
    let items: Vec<N<'a>> = match root.get(key) {
        None => Vec::new(),
        Some(item) => match N::I(item).as_array() {
            Some(items) => items,
            None => {
                ctx.error(
                    item.span(),
                    format!("{key} 应写成表数组 [[{key}]]"),
                    Some(&format!("[[{key}]]")),
                );
                Vec::new()
            }
        },
    };
    items.into_iter().enumerate().filter_map(move |(i, n)| {
        // Name the table by its code when it has one: easier to find.
        let code = n
            .as_table()
            .and_then(|t| t.get("code"))
            .and_then(|c| c.as_str());
        let what = match code {
            Some(c) => format!("[[{key}]] {c}"),
            None => format!("第 {} 个 [[{key}]]", i + 1),
        };
        Obj::new(ctx, n, what)
    })
}

fn dupes<'a>(ctx: &Ctx<'_>, codes: impl Iterator<Item = (&'a Code, Span)>, what: &str) {
    let mut seen = HashSet::new();
    for (c, span) in codes {
        if !seen.insert(c.as_str()) {
            ctx.error(span, format!("{what}编码 {c} 重复"), Some("唯一的编码"));
        }
    }
}

struct Header {
    code: Code,
    name: String,
    short_name: Option<String>,
    city: String,
    level: Option<String>,
    issuer: Option<String>,
    follows: Option<Code>,
    period: DateRange,
    status: PlanStatus,
    source: Option<SourceDoc>,
    levels: Vec<String>,
    all_areas: bool,
    every_units: Vec<(Code, Span)>,
    every_note: Option<String>,
    status_rule: StatusRule,
    reporting: Reporting,
}

/// The `code` of every table in an array of tables, as written.
fn declared(root: &Table, key: &str) -> HashSet<String> {
    root.get(key)
        .and_then(|i| N::I(i).as_array())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|n| n.as_table()?.get("code")?.as_str().map(str::to_string))
        .collect()
}

/// Reads `[plan]`. The level names are returned even when other fields are
/// wrong, so that nodes can still be checked.
fn read_header(o: &Obj<'_, '_, '_>) -> (Option<Header>, Vec<String>) {
    let header = read_header_fields(o);
    let levels = header
        .as_ref()
        .map(|h| h.levels.clone())
        .unwrap_or_else(|| {
            o.get("levels")
                .and_then(|n| n.as_array())
                .unwrap_or_default()
                .into_iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        });
    (header, levels)
}

fn read_header_fields(o: &Obj<'_, '_, '_>) -> Option<Header> {
    let code = o.req_code("code");
    let name = o.req_str("name");
    let short_name = o.opt_str("short_name");
    let city = o.req_str("city");
    let level = o.opt_str("level");
    let issuer = o.opt_str("issuer");
    let follows = o.opt_code("follows");
    if let (Some(f), Some(c)) = (&follows, &code)
        && f == c
    {
        o.ctx.error(
            o.get("follows").and_then(|n| n.span()),
            "[plan] follows 不能是本规划自己的编码",
            Some("上一轮规划的编码"),
        );
    }
    let start = o.req_date("start");
    let end = o.req_date("end");
    let status = match o.opt_choice("status", &["draft", "final"]).as_deref() {
        Some("draft") => PlanStatus::Draft,
        _ => PlanStatus::Final,
    };
    let levels = o.str_list("levels");
    if levels.is_empty() && !o.has("levels") {
        o.ctx.error(
            o.span(),
            "[plan] 缺少 levels（各层级的名称）",
            Some("例如 levels = [\"工程\", \"行动\"]"),
        );
    }
    let source = o.sub("source").and_then(|s| {
        let doc = SourceDoc {
            title: s.req_str("title")?,
            issuer: s.opt_str("issuer"),
            date: s.opt_str("date"),
            url: s.opt_str("url"),
            note: s.opt_str("note"),
        };
        s.finish();
        Some(doc)
    });
    let (mut all_areas, mut every_units, mut every_note) = (false, Vec::new(), None);
    if let Some(e) = o.sub("every_node") {
        all_areas = e.opt_bool("all_areas").unwrap_or(false);
        every_units = e.code_list("units");
        every_note = e.opt_str("note");
        e.finish();
    }
    let mut status_rule = StatusRule::default();
    if let Some(r) = o.sub("status_rule") {
        status_rule.on_track_lag = r
            .opt_f64("on_track_lag")
            .unwrap_or(status_rule.on_track_lag);
        status_rule.at_risk_lag = r.opt_f64("at_risk_lag").unwrap_or(status_rule.at_risk_lag);
        if status_rule.on_track_lag < 0.0 || status_rule.at_risk_lag < status_rule.on_track_lag {
            o.ctx.error(
                r.span(),
                "[plan.status_rule] 的阈值不合理",
                Some("0 ≤ on_track_lag ≤ at_risk_lag（单位：百分点）"),
            );
        }
        r.finish();
    }
    let mut reporting = Reporting::default();
    if let Some(r) = o.sub("reporting") {
        if let Some(d) = r.opt_f64("due_days") {
            match due_days(d) {
                Some(d) => reporting.due_days = d,
                None => o.ctx.error(
                    r.get("due_days").and_then(|n| n.span()),
                    "[plan.reporting] due_days 应为 0–366 的整数",
                    Some("期末后多少天内报送，例如 15"),
                ),
            }
        }
        r.finish();
    }
    o.finish();
    let (start, end) = (start?, end?);
    if start >= end {
        o.ctx.error(
            o.get("end").and_then(|n| n.span()),
            "规划期结束日期应晚于开始日期",
            Some("end 晚于 start"),
        );
        return None;
    }
    Some(Header {
        code: code?,
        name: name?,
        short_name,
        city: city?,
        level,
        issuer,
        follows,
        period: DateRange { start, end },
        status,
        source,
        levels,
        all_areas,
        every_units,
        every_note,
        status_rule,
        reporting,
    })
}

fn read_indicators(
    ctx: &Ctx<'_>,
    root: &Table,
    departments: &HashSet<&str>,
) -> Vec<(Indicator, Span)> {
    // Each indicator with its place and, for formulas, the parsed formula.
    type Read = (Indicator, Span, Option<(Expr, Span)>);
    let mut out: Vec<Read> = Vec::new();
    for o in list(ctx, root, "indicator") {
        let code = o.req_code("code");
        let name = o.req_str("name");
        let unit = o.req_str("unit");
        let definition = o.opt_str("definition").unwrap_or_default();
        let department = o.opt_code("department");
        if let Some(d) = &department
            && !departments.contains(d.as_str())
        {
            ctx.error(
                o.get("department").and_then(|n| n.span()),
                format!("指标的责任部门 {d} 未定义"),
                Some("已在 [[department]] 中定义的部门编码"),
            );
        }
        // Writing `formula` or `registry` is enough to say where the data
        // comes from; an explicit `source` that contradicts it is an error.
        let implied = if o.has("formula") {
            "formula"
        } else if o.has("registry") || o.has("compute") {
            "registry"
        } else {
            "reported"
        };
        let source_kind = o
            .opt_choice("source", &["reported", "registry", "formula"])
            .unwrap_or_else(|| implied.to_string());
        if implied != "reported" && source_kind != implied {
            ctx.error(
                o.get(implied).and_then(|n| n.span()),
                format!("写了 {implied}，但 source = \"{source_kind}\""),
                Some(&format!("source = \"{implied}\"，或删去 {implied}")),
            );
        }
        let mut formula = None;
        let source = match source_kind.as_str() {
            "registry" => {
                let registry = o.req_str("registry");
                let def = registry.as_deref().and_then(kc_domain::registry::by_code);
                if let (Some(r), None) = (&registry, def) {
                    let names: Vec<String> = kc_domain::registry::all()
                        .map(|d| format!("{}（{}）", d.code, d.name))
                        .collect();
                    ctx.error(
                        o.get("registry").and_then(|n| n.span()),
                        format!("未知的登记库“{r}”"),
                        Some(&names.join("、")),
                    );
                }
                let rule = o.opt_str("rule").unwrap_or_default();
                let compute = o.sub("compute").and_then(|c| {
                    let spec = def.and_then(|d| crate::compute::read_compute(&c, d));
                    c.finish();
                    spec
                });
                DataSource::Registry {
                    registry: registry.unwrap_or_default(),
                    rule,
                    compute,
                }
            }
            "formula" => {
                let text = o.req_str("formula").unwrap_or_default();
                let span = o.get("formula").and_then(|n| n.span());
                match Expr::parse(&text) {
                    Ok(e) => formula = Some((e, span)),
                    Err(e) if !text.is_empty() => ctx.error(
                        span,
                        format!("指标公式有误：{e}"),
                        Some("例如 rd_spend / gdp * 100"),
                    ),
                    Err(_) => {}
                }
                DataSource::Formula { expr: text }
            }
            _ => DataSource::Reported,
        };
        let measure = match o.opt_choice("measure", &["stock", "flow"]).as_deref() {
            Some("flow") => Measure::Flow,
            _ => Measure::Stock,
        };
        let frequency = o
            .opt_choice("frequency", &["monthly", "quarterly", "yearly"])
            .and_then(|f| Frequency::parse(&f))
            .unwrap_or(Frequency::Yearly);
        let additive = o.opt_bool("additive").unwrap_or(false);
        let decimals = match o.opt_f64("decimals") {
            Some(d) if (0.0..=6.0).contains(&d) && d.fract() == 0.0 => d as u8,
            Some(_) => {
                ctx.error(
                    o.get("decimals").and_then(|n| n.span()),
                    "decimals 应为 0–6 的整数",
                    Some("0–6"),
                );
                2
            }
            None => 2,
        };
        let due = o.opt_f64("due_days").and_then(|d| {
            let ok = due_days(d);
            if ok.is_none() {
                ctx.error(
                    o.get("due_days").and_then(|n| n.span()),
                    "due_days 应为 0–366 的整数",
                    Some("期末后多少天内报送，例如 15"),
                );
            }
            ok
        });
        let area_reports = o.opt_bool("area_reports");
        let resets_yearly = o.opt_choice("resets", &["yearly"]).is_some();
        let min = o.opt_f64("min").and_then(kc_domain::money::from_f64);
        let max = o.opt_f64("max").and_then(kc_domain::money::from_f64);
        if let (Some(lo), Some(hi)) = (min, max)
            && lo >= hi
        {
            ctx.error(
                o.get("max").and_then(|n| n.span()),
                "max 应大于 min",
                Some("例如增速：min = -100, max = 500"),
            );
        }
        o.finish();
        if let (Some(code), Some(name), Some(unit)) = (code, name, unit) {
            out.push((
                Indicator {
                    code,
                    name,
                    unit,
                    definition,
                    department,
                    source,
                    measure,
                    frequency,
                    additive,
                    decimals,
                    due_days: due,
                    area_reports,
                    resets_yearly,
                    min,
                    max,
                },
                o.span(),
                formula,
            ));
        }
    }
    dupes(
        ctx,
        out.iter().map(|(i, s, _)| (&i.code, s.clone())),
        "指标",
    );

    // Formula references and cycles.
    let codes: HashSet<&str> = out.iter().map(|(i, _, _)| i.code.as_str()).collect();
    let deps: HashMap<&str, Vec<String>> = out
        .iter()
        .filter_map(|(i, _, f)| f.as_ref().map(|(e, _)| (i.code.as_str(), e.variables())))
        .collect();
    for (i, _, f) in &out {
        let Some((e, span)) = f else { continue };
        for v in e.variables() {
            if codes.contains(v.as_str()) {
                continue;
            }
            let hyphenated = codes.iter().find(|c| c.starts_with(&format!("{v}-")));
            match hyphenated {
                Some(h) => ctx.error(
                    span.clone(),
                    format!(
                        "指标 {} 的公式中，编码 {h} 含连字符，会被读作“{v} 减 …”",
                        i.code
                    ),
                    Some("公式中用到的指标编码不能含连字符 -，请改用下划线 _"),
                ),
                None => ctx.error(
                    span.clone(),
                    format!("指标 {} 的公式引用了未定义的指标 {v}", i.code),
                    Some("已在 [[indicator]] 中定义的指标编码"),
                ),
            }
        }
        if reaches(&deps, i.code.as_str(), i.code.as_str(), &mut HashSet::new()) {
            ctx.error(
                span.clone(),
                format!("指标 {} 的公式直接或间接引用了自身", i.code),
                Some("无循环的公式"),
            );
        }
    }
    out.into_iter().map(|(i, s, _)| (i, s)).collect()
}

/// Whether `goal` can be reached from `from`'s formula inputs.
fn reaches(
    deps: &HashMap<&str, Vec<String>>,
    from: &str,
    goal: &str,
    seen: &mut HashSet<String>,
) -> bool {
    let Some(next) = deps.get(from) else {
        return false;
    };
    for n in next {
        if n == goal {
            return true;
        }
        if seen.insert(n.clone()) && reaches(deps, n, goal, seen) {
            return true;
        }
    }
    false
}

fn read_nodes(
    ctx: &Ctx<'_>,
    root: &Table,
    levels: &[String],
    check_unit: &dyn Fn(&Code, &Span, &str),
) -> Vec<Node> {
    struct Raw {
        node: Node,
        span: Span,
        parent_span: Span,
        level_given: bool,
    }
    let mut raws: Vec<Raw> = Vec::new();
    for o in list(ctx, root, "node") {
        let code = o.req_code("code");
        let name = o.req_str("name");
        let parent = o.opt_code("parent");
        let parent_span = o.get("parent").and_then(|n| n.span());
        let level = o.opt_str("level");
        let lead = o.code_list("lead");
        let co = o.code_list("co");
        let summary = o.opt_str("summary").unwrap_or_default();
        o.finish();
        let what = format!("节点 {}", code.as_ref().map(Code::as_str).unwrap_or("?"));
        for (c, s) in lead.iter().chain(&co) {
            check_unit(c, s, &what);
        }
        if let (Some(code), Some(name)) = (code, name) {
            raws.push(Raw {
                level_given: level.is_some(),
                node: Node {
                    code,
                    name,
                    level: level.unwrap_or_default(),
                    parent,
                    lead: lead.into_iter().map(|(c, _)| c).collect(),
                    co: co.into_iter().map(|(c, _)| c).collect(),
                    summary,
                },
                span: o.span(),
                parent_span,
            });
        }
    }
    dupes(
        ctx,
        raws.iter().map(|r| (&r.node.code, r.span.clone())),
        "节点",
    );
    let index: HashMap<String, usize> = raws
        .iter()
        .enumerate()
        .map(|(i, r)| (r.node.code.to_string(), i))
        .collect();
    // Depth of every node, following parents; cycles and unknown parents are
    // reported once each.
    let mut depths: Vec<Option<usize>> = vec![None; raws.len()];
    for i in 0..raws.len() {
        let mut chain = vec![i];
        let mut cur = i;
        let depth = loop {
            let Some(p) = &raws[cur].node.parent else {
                break Some(chain.len() - 1);
            };
            let Some(&pi) = index.get(p.as_str()) else {
                if cur == i {
                    ctx.error(
                        raws[i].parent_span.clone(),
                        format!("节点 {} 的上级 {p} 未定义", raws[i].node.code),
                        Some("已在 [[node]] 中定义的节点编码"),
                    );
                }
                break None;
            };
            if chain.contains(&pi) {
                if cur == i || pi == i {
                    ctx.error(
                        raws[i].parent_span.clone(),
                        format!("节点 {} 的上级关系形成循环", raws[i].node.code),
                        Some("树形结构（上级不能是自己的下级）"),
                    );
                }
                break None;
            }
            chain.push(pi);
            cur = pi;
        };
        depths[i] = depth;
    }
    for (r, depth) in raws.iter_mut().zip(&depths) {
        if r.level_given {
            if !levels.is_empty() && !levels.contains(&r.node.level) {
                ctx.error(
                    r.span.clone(),
                    format!(
                        "节点 {} 的 level“{}”不在 [plan] levels 中",
                        r.node.code, r.node.level
                    ),
                    Some(&levels.join(" | ")),
                );
            }
            continue;
        }
        if let Some(d) = depth {
            match levels.get(*d) {
                Some(l) => r.node.level = l.clone(),
                None => ctx.error(
                    r.span.clone(),
                    format!(
                        "节点 {} 位于第 {} 层，但 [plan] levels 只定义了 {} 层",
                        r.node.code,
                        d + 1,
                        levels.len()
                    ),
                    Some("在 levels 中补充层级名称，或给节点写 level"),
                ),
            }
        }
    }
    // Parents first, keeping file order otherwise.
    let mut placed: Vec<Node> = Vec::with_capacity(raws.len());
    let mut done = vec![false; raws.len()];
    fn place(
        i: usize,
        raws: &[Raw],
        index: &HashMap<String, usize>,
        done: &mut [bool],
        out: &mut Vec<Node>,
        guard: usize,
    ) {
        if done[i] || guard > raws.len() {
            return;
        }
        if let Some(p) = raws[i]
            .node
            .parent
            .as_ref()
            .and_then(|p| index.get(p.as_str()))
        {
            place(*p, raws, index, done, out, guard + 1);
        }
        if !done[i] {
            done[i] = true;
            out.push(raws[i].node.clone());
        }
    }
    for i in 0..raws.len() {
        place(i, &raws, &index, &mut done, &mut placed, 0);
    }
    placed
}

/// The codes an allocation may name.
pub(crate) struct Units<'a> {
    pub areas: HashSet<&'a str>,
    pub departments: HashSet<&'a str>,
}

fn read_targets(
    ctx: &Ctx<'_>,
    root: &Table,
    indicators: &HashMap<&str, &Indicator>,
    ind_codes: &HashSet<String>,
    nodes: &HashSet<String>,
    period: Option<DateRange>,
    units: &Units<'_>,
) -> Vec<(Target, Span)> {
    let mut out = Vec::new();
    for o in list(ctx, root, "target") {
        if let Some(t) = read_target(&o, indicators, ind_codes, nodes, period, units) {
            out.push((t, o.span()));
        }
        o.finish();
    }
    dupes(ctx, out.iter().map(|(t, s)| (&t.code, s.clone())), "目标");
    out
}

const KIND_WORDS: [&str; 15] = [
    "stock",
    "period_count",
    "cumulative",
    "annual",
    "yearly_total",
    "range",
    "share",
    "per_capita",
    "growth_rate",
    "rank",
    "coverage",
    "zero_count",
    "relative",
    "milestone",
    "task",
];

fn read_target(
    o: &Obj<'_, '_, '_>,
    indicators: &HashMap<&str, &Indicator>,
    ind_codes: &HashSet<String>,
    nodes: &HashSet<String>,
    period: Option<DateRange>,
    units: &Units<'_>,
) -> Option<Target> {
    let ctx = o.ctx;
    let code = o.req_code("code");
    let name = o.req_str("name");
    let node = o.opt_code("node");
    if let Some(n) = &node
        && !nodes.contains(n.as_str())
    {
        ctx.error(
            o.get("node").and_then(|n| n.span()),
            format!("目标所属节点 {n} 未定义"),
            Some("已在 [[node]] 中定义的节点编码"),
        );
    }
    let indicator_code = o.req_code("indicator");
    let indicator = indicator_code.as_ref().and_then(|c| {
        let found = indicators.get(c.as_str()).copied();
        if !ind_codes.contains(c.as_str()) {
            ctx.error(
                o.get("indicator").and_then(|n| n.span()),
                format!("目标引用了未定义的指标 {c}"),
                Some("已在 [[indicator]] 中定义的指标编码"),
            );
        }
        found
    });
    let kind = if o.has("kind") {
        o.opt_choice("kind", &KIND_WORDS)
            .and_then(|k| TargetKind::parse(&k))
    } else {
        o.ctx.error(
            o.span(),
            format!("{} 缺少必填字段 kind", o.what),
            Some(&KIND_WORDS.join(" | ")),
        );
        o.get("kind");
        None
    };
    let kind_span = o.get("kind").and_then(|n| n.span());
    let value_span = o.get("target").and_then(|n| n.span());
    let baseline = o.sub("baseline").and_then(|b| {
        let value = b.opt_f64("value");
        if !b.has("value") {
            b.ctx.error(b.span(), "baseline 缺少 value", Some("数字"));
        }
        let date = b.req_date("date");
        let source = b.opt_str("source").unwrap_or_default();
        // An estimate must never pass for a published figure: unless the
        // file says `reported = true`, a baseline counts as estimated.
        let reported = b.opt_bool("reported").unwrap_or(false);
        b.finish();
        Some(Baseline {
            value: value?,
            date: date?,
            source,
            reported,
        })
    });
    // `target = "待定"`: a drafted plan's target the bureau has yet to set.
    let pending = o.get("target").and_then(|n| n.as_str()) == Some("待定");
    let (value, multiple) = if pending {
        let b = baseline.as_ref().map(|b| b.value).unwrap_or(0.0);
        o.ctx.warn(
            value_span.clone(),
            format!("{} 的目标值待定（target = \"待定\"），请填写", o.what),
        );
        let v = if kind == Some(TargetKind::Range) {
            TargetValue::Range { min: b, max: b }
        } else {
            TargetValue::Number { value: b }
        };
        (Some(v), None)
    } else {
        match read_value(o, kind, baseline.as_ref()) {
            Some((v, m)) => (Some(v), m),
            None => (None, None),
        }
    };
    // `[target.revision]`: the mid-term revision replaces the value in force
    // and keeps the original beside it.
    let revision = o.sub("revision").and_then(|r| {
        let revised = read_value(&r, kind, baseline.as_ref()).map(|(v, _)| v);
        let date = r.req_date("date");
        let note = r.opt_str("note").unwrap_or_default();
        r.finish();
        Some((revised?, date?, note))
    });
    let (value, revision) = match (value, revision) {
        (Some(original), Some((revised, date, note))) => (
            Some(revised),
            Some(kc_domain::plan::Revision {
                original,
                date,
                note,
            }),
        ),
        (v, _) => (v, None),
    };
    // Rates of progress are per cent whatever the indicator counts.
    let kind_unit = match kind {
        Some(
            TargetKind::Coverage
            | TargetKind::GrowthRate
            | TargetKind::Milestone
            | TargetKind::Task,
        ) => Some("%".to_string()),
        _ => None,
    };
    let unit = o
        .opt_str("unit")
        .or(kind_unit)
        .or_else(|| indicator.map(|i| i.unit.clone()));
    let deadline = o.opt_date("deadline").or(period.map(|p| p.end));
    let direction = match o.opt_choice("direction", &["up", "down"]).as_deref() {
        Some("up") => Some(Direction::Up),
        Some("down") => Some(Direction::Down),
        _ => None,
    };
    let strict = o.opt_bool("strict").unwrap_or(false);
    let curve = o
        .opt_choice("curve", &["linear", "compound", "steps"])
        .and_then(|c| Curve::parse(&c))
        .unwrap_or(Curve::Linear);
    let forecast = match o.opt_choice("forecast", &["linear", "compound"]).as_deref() {
        Some("compound") => ForecastMethod::Compound,
        Some(_) => ForecastMethod::Linear,
        None if curve == Curve::Compound => ForecastMethod::Compound,
        None => ForecastMethod::Linear,
    };
    let mut checkpoints = Vec::new();
    if let Some(n) = o.get("checkpoints") {
        match n.as_array() {
            Some(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    let Some(c) =
                        Obj::new(ctx, item, format!("{} 的第 {} 个检查点", o.what, i + 1))
                    else {
                        continue;
                    };
                    let (date, value) = (c.req_date("date"), c.opt_f64("value"));
                    if !c.has("value") {
                        ctx.error(c.span(), "检查点缺少 value", Some("数字"));
                    }
                    // `binding = true`: an interim target judged at its
                    // date (达到); `strict = true` also: more than (超过).
                    let binding = match (c.opt_bool("binding"), c.opt_bool("strict")) {
                        (_, Some(true)) => Some(kc_domain::plan::Binding::MoreThan),
                        (Some(true), _) => Some(kc_domain::plan::Binding::AtLeast),
                        _ => None,
                    };
                    c.finish();
                    if let (Some(date), Some(value)) = (date, value) {
                        let from = baseline
                            .as_ref()
                            .map(|b| b.date)
                            .or(period.map(|p| p.start));
                        let ok = from.is_none_or(|f| date > f) && deadline.is_none_or(|d| date < d);
                        if !ok {
                            ctx.error(
                                item.span(),
                                format!("检查点日期 {date} 不在基期与截止日期之间"),
                                Some("晚于基期（或规划期开始）且早于 deadline 的日期"),
                            );
                        }
                        checkpoints.push(Checkpoint {
                            date,
                            value,
                            binding,
                        });
                    }
                }
            }
            None => ctx.error(
                n.span(),
                "checkpoints 应为数组",
                Some("[{ date = 2024-12-31, value = 900 }]"),
            ),
        }
    }
    let compare = o.opt_code("compare");
    let compare_span = o.get("compare").and_then(|n| n.span());
    let margin = o.opt_f64("margin").unwrap_or(0.0);
    let universe = read_universe(o, indicators);
    let peers = o.opt_str("peers");
    let basis = match o.opt_choice("basis", &["level", "rate"]).as_deref() {
        Some("rate") => GrowthBasis::Rate,
        _ => GrowthBasis::Level,
    };
    let weight = o.opt_f64("weight").unwrap_or(1.0);
    if weight < 0.0 {
        ctx.error(
            o.get("weight").and_then(|n| n.span()),
            "weight 不能为负数",
            Some("≥ 0 的数字"),
        );
    }
    let note = o.opt_str("note").unwrap_or_default();

    // Checks that depend on the kind.
    if let (Some(kind), Some(ind)) = (kind, indicator) {
        let wants_flow = kind.needs_flow();
        let level_kind =
            !wants_flow && !matches!(kind, TargetKind::GrowthRate | TargetKind::Relative);
        if wants_flow && ind.measure != Measure::Flow {
            ctx.error(
                kind_span.clone(),
                format!(
                    "kind = \"{}\" 需要流量指标，但指标 {} 是存量（measure = \"stock\"）",
                    kind.as_str(),
                    ind.code
                ),
                Some("把指标的 measure 设为 \"flow\"，或改用 stock 等存量类型"),
            );
        }
        if level_kind && ind.measure != Measure::Stock {
            ctx.error(
                kind_span.clone(),
                format!("kind = \"{}\" 需要存量指标，但指标 {} 是流量（measure = \"flow\"）", kind.as_str(), ind.code),
                Some("把指标的 measure 设为 \"stock\"，或改用 period_count / cumulative / annual / yearly_total"),
            );
        }
    }
    if let Some(kind) = kind {
        match (kind, value) {
            (TargetKind::Range, Some(v)) if !matches!(v, TargetValue::Range { .. }) => ctx.error(
                value_span.clone(),
                "kind = \"range\" 的 target 应为区间",
                Some("target = { min = 3, max = 5 }"),
            ),
            (TargetKind::Rank, Some(TargetValue::Number { value: v }))
                if v < 1.0 || v.fract() != 0.0 =>
            {
                ctx.error(
                    value_span.clone(),
                    "排名目标应为正整数（前 N 名）",
                    Some("target = 5"),
                )
            }
            (TargetKind::ZeroCount, Some(TargetValue::Number { value: v })) if v != 0.0 => ctx
                .error(
                    value_span.clone(),
                    "清零目标的 target 只能是 0（或省略）",
                    Some("target = 0"),
                ),
            (TargetKind::Milestone | TargetKind::Task, Some(v)) if v != TargetValue::Done => ctx
                .error(
                    value_span.clone(),
                    "里程碑和定性任务的 target 应为 \"done\"（或省略）",
                    Some("target = \"done\""),
                ),
            (k, Some(TargetValue::Done))
                if !matches!(k, TargetKind::Milestone | TargetKind::Task) =>
            {
                ctx.error(
                    value_span.clone(),
                    "只有 milestone 和 task 可以用 target = \"done\"",
                    Some("数字或区间"),
                )
            }
            _ => {}
        }
        if kind == TargetKind::Relative {
            if o.has("target") {
                ctx.error(
                    value_span.clone(),
                    "相对比较目标不写 target：用 margin 表示至少高出（或低出）多少",
                    Some("margin = 1（可省略，默认 0）"),
                );
            }
            if let (Some(c), Some(ind)) = (&compare, indicator)
                && let Some(other) = indicators.get(c.as_str())
                && other.unit != ind.unit
            {
                ctx.error(
                    compare_span.clone(),
                    format!(
                        "对比指标 {c} 的单位（{}）与本指标（{}）不同，无法比较",
                        other.unit, ind.unit
                    ),
                    Some("单位相同的指标"),
                );
            }
            match &compare {
                None => ctx.error(
                    o.span(),
                    "相对比较目标（relative）缺少 compare",
                    Some("compare = \"对比指标编码\""),
                ),
                Some(c) if Some(c) == indicator_code.as_ref() => ctx.error(
                    compare_span.clone(),
                    "compare 不能是目标自身的指标",
                    Some("另一个指标编码"),
                ),
                Some(c) if !indicators.contains_key(c.as_str()) => ctx.error(
                    compare_span.clone(),
                    format!("compare 引用了未定义的指标 {c}"),
                    Some("已在 [[indicator]] 中定义的指标编码"),
                ),
                _ => {}
            }
        } else if compare.is_some() {
            ctx.error(
                compare_span.clone(),
                "只有 kind = \"relative\" 的目标使用 compare",
                None,
            );
        }
        if kind == TargetKind::Coverage && universe.is_none() && !o.has("universe") {
            ctx.error(
                o.span(),
                "覆盖率目标（coverage）缺少 universe（覆盖对象的总数）",
                Some("universe = 3，或 universe = { indicator = \"总数指标\" }"),
            );
        }
        if kind == TargetKind::GrowthRate
            && let Some(b) = &baseline
            && basis == GrowthBasis::Level
            && b.value <= 0.0
        {
            ctx.error(
                o.get("baseline").and_then(|n| n.span()),
                "按水平值计算年均增速时，基期值必须为正数",
                Some("正数，或设 basis = \"rate\""),
            );
        }
    }
    if let (Some(d), Some(p)) = (deadline, period) {
        if d > p.end {
            ctx.error(
                o.get("deadline").and_then(|n| n.span()),
                format!("截止日期 {d} 晚于规划期结束 {}", p.end),
                Some("规划期内的日期（需要更远的目标时，延长 [plan] end）"),
            );
        }
        if d < p.start {
            ctx.error(
                o.get("deadline").and_then(|n| n.span()),
                format!("截止日期 {d} 早于规划期开始 {}", p.start),
                Some("规划期内或之后的日期"),
            );
        }
    }
    let allocations = match kind {
        Some(k) => read_allocations(o, k, units, baseline.as_ref(), deadline, period),
        None => Vec::new(),
    };
    if let (Some(k), Some(ind), Some(TargetValue::Number { value: city })) =
        (kind, indicator, value)
    {
        warn_sums(o, k, ind, city, baseline.as_ref(), &allocations, units);
    }
    let kind = kind?;
    if let (Some(r), Some(p)) = (&revision, period)
        && !p.contains(r.date)
    {
        ctx.error(
            o.get("revision").and_then(|n| n.span()),
            format!("中期调整日期 {} 不在规划期内", r.date),
            Some("规划期内的日期"),
        );
    }
    Some(Target {
        revision,
        code: code?,
        name: name?,
        node,
        indicator: indicator_code?,
        kind,
        value: value?,
        unit: unit.unwrap_or_default(),
        deadline: deadline?,
        direction: direction.unwrap_or(kind.default_direction()),
        strict,
        baseline,
        curve,
        checkpoints,
        forecast,
        compare,
        margin,
        universe,
        peers,
        basis,
        weight,
        note,
        multiple,
        pending,
        allocations,
        origin: Default::default(),
    })
}

/// `target = 1200`, `target = { min = 3, max = 5 }`, `target = "done"` or a
/// multiple of the baseline (`target = "2×基期"`, `"翻一番"`), resolved
/// against `baseline` and returned with its factor.
fn read_value(
    o: &Obj<'_, '_, '_>,
    kind: Option<TargetKind>,
    baseline: Option<&Baseline>,
) -> Option<(TargetValue, Option<f64>)> {
    if let Some(n) = o.get("target")
        && let Some(text) = n.as_str()
        && text != "done"
    {
        let Some(factor) = multiple_of(text) else {
            o.ctx.error(
                n.span(),
                format!("{} 的 target 无法识别（“{text}”）", o.what),
                Some("数字、区间、\"done\"，或基期的倍数：\"2×基期\"、\"翻一番\""),
            );
            return None;
        };
        let Some(b) = baseline else {
            o.ctx.error(
                n.span(),
                format!(
                    "{} 的 target 是基期的倍数，但没有写基期（baseline）",
                    o.what
                ),
                Some("baseline = { value = 795, date = 2022-12-31 }"),
            );
            return None;
        };
        if matches!(
            kind,
            Some(
                TargetKind::Rank | TargetKind::Relative | TargetKind::Milestone | TargetKind::Task
            )
        ) {
            o.ctx.error(
                n.span(),
                "排名、相对比较、里程碑和定性任务不能写成基期的倍数",
                Some("数字"),
            );
            return None;
        }
        return Some((
            TargetValue::Number {
                value: b.value * factor,
            },
            Some(factor),
        ));
    }
    read_plain_value(o, kind).map(|v| (v, None))
}

/// The factor of a multiple of the baseline: `2×基期`, `2x基期`, `2倍基期`,
/// `基期的2倍`, `翻一番` (2), `翻两番` (4), `倍增` (2).
pub(crate) fn multiple_of(text: &str) -> Option<f64> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let named = match t.as_str() {
        "翻一番" | "倍增" => Some(2.0),
        "翻两番" => Some(4.0),
        _ => None,
    };
    if named.is_some() {
        return named;
    }
    let number = t
        .strip_suffix("基期")
        .and_then(|r| {
            r.strip_suffix('×')
                .or_else(|| r.strip_suffix('x'))
                .or_else(|| r.strip_suffix('X'))
                .or_else(|| r.strip_suffix('*'))
                .or_else(|| r.strip_suffix("倍"))
        })
        .or_else(|| t.strip_prefix("基期的").and_then(|r| r.strip_suffix('倍')))?;
    let f: f64 = number.parse().ok()?;
    (f.is_finite() && f > 0.0).then_some(f)
}

/// `target = 1200`, `target = { min = 3, max = 5 }` or `target = "done"`.
/// Some kinds have a natural default when `target` is left out.
fn read_plain_value(o: &Obj<'_, '_, '_>, kind: Option<TargetKind>) -> Option<TargetValue> {
    let expected = "数字（1200）、区间（{ min = 3, max = 5 }）或 \"done\"";
    let Some(n) = o.get("target") else {
        return match kind {
            Some(TargetKind::ZeroCount) => Some(TargetValue::Number { value: 0.0 }),
            Some(TargetKind::Milestone | TargetKind::Task) => Some(TargetValue::Done),
            Some(TargetKind::Relative) => Some(TargetValue::Number { value: 0.0 }),
            Some(TargetKind::Coverage) => Some(TargetValue::Number { value: 100.0 }),
            _ => {
                o.ctx.error(
                    o.span(),
                    format!("{} 缺少必填字段 target", o.what),
                    Some(expected),
                );
                None
            }
        };
    };
    if let Some(v) = n.as_f64() {
        return Some(TargetValue::Number { value: v });
    }
    if n.as_str() == Some("done") || n.as_bool() == Some(true) {
        return Some(TargetValue::Done);
    }
    if n.as_table().is_some() {
        let r = Obj::new(o.ctx, n, format!("{} 的 target", o.what))?;
        let (min, max) = (r.opt_f64("min"), r.opt_f64("max"));
        if !r.has("min") || !r.has("max") {
            o.ctx.error(
                n.span(),
                "区间目标需要同时写 min 和 max",
                Some("{ min = 3, max = 5 }"),
            );
        }
        r.finish();
        let (min, max) = (min?, max?);
        if min > max {
            o.ctx.error(
                n.span(),
                format!("区间下限 {min} 大于上限 {max}"),
                Some("min ≤ max"),
            );
            return None;
        }
        return Some(TargetValue::Range { min, max });
    }
    o.ctx.error(
        n.span(),
        format!("{} 的 target 无法识别（{}）", o.what, n.type_name()),
        Some(expected),
    );
    None
}

/// Kinds whose number is a count or a sum over the scope: an additive
/// indicator's area shares of them should add up to the city's.
fn adds_up(kind: TargetKind) -> bool {
    matches!(
        kind,
        TargetKind::Stock
            | TargetKind::PeriodCount
            | TargetKind::Cumulative
            | TargetKind::Annual
            | TargetKind::YearlyTotal
    )
}

/// Warns where the areas' shares of an additive target do not add up to the
/// city's target (or their baselines to the city's baseline).
fn warn_sums(
    o: &Obj<'_, '_, '_>,
    kind: TargetKind,
    ind: &Indicator,
    city: f64,
    city_baseline: Option<&Baseline>,
    allocations: &[Allocation],
    units: &Units<'_>,
) {
    if !ind.additive || !adds_up(kind) {
        return;
    }
    let areas: Vec<&Allocation> = allocations
        .iter()
        .filter(|a| units.areas.contains(a.unit.as_str()))
        .collect();
    if areas.is_empty() {
        return;
    }
    let span = o.get("areas").and_then(|n| n.span());
    let sum: f64 = areas
        .iter()
        .map(|a| a.value.path_end(kc_domain::plan::Direction::Up))
        .sum();
    let all = areas.len() == units.areas.len();
    let near = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    if !near(sum, city) {
        let covered = if all {
            "全部地区".to_string()
        } else {
            format!(
                "已分解的 {} 个地区（共 {} 个）",
                areas.len(),
                units.areas.len()
            )
        };
        let word = if sum < city { "小于" } else { "大于" };
        o.ctx.warn(
            span.clone(),
            format!(
                "{} 的地区目标之和不等于全市目标：{covered}合计 {}，{word}全市目标 {}",
                o.what,
                kc_domain::plan::fmt_num(sum, 4),
                kc_domain::plan::fmt_num(city, 4)
            ),
        );
    }
    if all
        && let Some(b) = city_baseline
        && areas.iter().all(|a| a.baseline.is_some())
    {
        let base: f64 = areas
            .iter()
            .filter_map(|a| a.baseline.as_ref().map(|b| b.value))
            .sum();
        if !near(base, b.value) {
            o.ctx.warn(
                span,
                format!(
                    "{} 的地区基期值之和 {} 不等于全市基期值 {}",
                    o.what,
                    kc_domain::plan::fmt_num(base, 4),
                    kc_domain::plan::fmt_num(b.value, 4)
                ),
            );
        }
    }
}

/// `[target.areas]` and `[target.departments]`: each unit's own share (the
/// allocation table, 目标任务分解表), keyed by the unit's code:
/// `longzihu = { baseline = 80, target = 150, years = { 2023 = 100 } }`.
fn read_allocations(
    o: &Obj<'_, '_, '_>,
    kind: TargetKind,
    units: &Units<'_>,
    city_baseline: Option<&Baseline>,
    deadline: Option<NaiveDate>,
    period: Option<DateRange>,
) -> Vec<Allocation> {
    let ctx = o.ctx;
    let mut out = Vec::new();
    for (key, known, what) in [
        ("areas", &units.areas, "地区"),
        ("departments", &units.departments, "部门"),
    ] {
        let Some(table) = o.sub(key) else { continue };
        if matches!(kind, TargetKind::Rank | TargetKind::Relative) {
            ctx.error(
                table.span(),
                format!("{} 是{}，不能分解到{what}", o.what, kind.zh()),
                Some("只分解数量、金额、比率等目标"),
            );
            table.entries();
            continue;
        }
        for (code, node, key_span) in table.entries() {
            let unit = match Code::parse(code) {
                Ok(c) => c,
                Err(e) => {
                    ctx.error(key_span, format!("{} 的 {key}：{e}", o.what), None);
                    continue;
                }
            };
            if !known.contains(code) {
                ctx.error(
                    key_span,
                    format!("{} 分解到未定义的{what} {code}", o.what),
                    Some(&format!(
                        "已在 [[{}]] 中定义的{what}编码",
                        &key[..key.len() - 1]
                    )),
                );
                continue;
            }
            let Some(a) = Obj::new(ctx, node, format!("{} 的 {key}.{code}", o.what)) else {
                continue;
            };
            let baseline = match a.get("baseline") {
                None => None,
                Some(n) => match n.as_f64() {
                    Some(value) => {
                        // A bare number shares the city baseline's date.
                        let date = city_baseline
                            .map(|b| b.date)
                            .or(period.and_then(|p| p.start.pred_opt()));
                        date.map(|date| Baseline {
                            value,
                            date,
                            source: String::new(),
                            reported: false,
                        })
                    }
                    None => a.sub("baseline").and_then(|b| {
                        let value = b.opt_f64("value");
                        let date = b.req_date("date");
                        let source = b.opt_str("source").unwrap_or_default();
                        let reported = b.opt_bool("reported").unwrap_or(false);
                        b.finish();
                        Some(Baseline {
                            value: value?,
                            date: date?,
                            source,
                            reported,
                        })
                    }),
                },
            };
            let value = read_value(&a, Some(kind), baseline.as_ref()).map(|(v, _)| v);
            let mut checkpoints = Vec::new();
            if let Some(years) = a.sub("years") {
                for (year, n, span) in years.entries() {
                    let end = year
                        .parse::<i32>()
                        .ok()
                        .and_then(|y| NaiveDate::from_ymd_opt(y, 12, 31));
                    let (Some(date), Some(v)) = (end, n.as_f64()) else {
                        ctx.error(
                            span,
                            format!("{} 的 years 应写成 年份 = 数字", a.what),
                            Some("years = { 2023 = 100, 2024 = 125 }"),
                        );
                        continue;
                    };
                    let from = baseline
                        .as_ref()
                        .map(|b| b.date)
                        .or(period.map(|p| p.start));
                    if from.is_some_and(|f| date <= f) || deadline.is_some_and(|d| date >= d) {
                        ctx.error(
                            span,
                            format!(
                                "{} 的 {year} 年目标不在基期与截止日期之间（截止年份的目标写在 target）",
                                a.what
                            ),
                            Some("基期之后、截止日期之前的年份"),
                        );
                        continue;
                    }
                    checkpoints.push(Checkpoint {
                        date,
                        value: v,
                        binding: None,
                    });
                }
                checkpoints.sort_by_key(|c| c.date);
            }
            let responsible = a.opt_str("responsible");
            a.finish();
            if let Some(value) = value {
                out.push(Allocation {
                    unit,
                    value,
                    baseline,
                    checkpoints,
                    responsible,
                });
            }
        }
        table.finish();
    }
    out
}

fn read_universe(o: &Obj<'_, '_, '_>, indicators: &HashMap<&str, &Indicator>) -> Option<Universe> {
    let n = o.get("universe")?;
    if let Some(size) = n.as_f64() {
        if size <= 0.0 {
            o.ctx
                .error(n.span(), "universe 应为正数", Some("覆盖对象总数，例如 3"));
            return None;
        }
        return Some(Universe::Count {
            size,
            what: String::new(),
        });
    }
    let u = Obj::new(o.ctx, n, format!("{} 的 universe", o.what))?;
    let size = u.opt_f64("size");
    let what = u.opt_str("what").unwrap_or_default();
    let ind = u.opt_code("indicator");
    u.finish();
    match (size, ind) {
        (Some(size), None) if size > 0.0 => Some(Universe::Count { size, what }),
        (None, Some(ind)) => {
            if !indicators.contains_key(ind.as_str()) {
                o.ctx.error(
                    n.span(),
                    format!("universe 引用了未定义的指标 {ind}"),
                    Some("已定义的指标编码"),
                );
            }
            Some(Universe::Indicator { indicator: ind })
        }
        _ => {
            o.ctx.error(
                n.span(),
                "universe 应写 size（正数）或 indicator（二选一）",
                Some("{ size = 3, what = \"县\" } 或 { indicator = \"villages\" }"),
            );
            None
        }
    }
}

/// A number of days for a due date: a whole number from 0 to 366.
fn due_days(d: f64) -> Option<u16> {
    ((0.0..=366.0).contains(&d) && d.fract() == 0.0).then_some(d as u16)
}
