//! `[ranking]` and its `[[ranking.item]]`s: the area ranking (争先进位)
//! method. Documented for users in `docs/plan-format.md`.

use std::collections::HashSet;

use kc_domain::Code;
use kc_domain::plan::Indicator;
use kc_domain::ranking::{Basis, Normalization, RankItem, RankingSpec};
use toml_edit::Table;

use crate::reader::{Ctx, N, Obj};

pub(crate) fn read_ranking(
    ctx: &Ctx<'_>,
    root: &Table,
    indicators: &[&Indicator],
) -> Option<RankingSpec> {
    let item = root.get("ranking")?;
    let o = Obj::new(ctx, N::I(item), "[ranking]")?;
    let name = o.opt_str("name").unwrap_or_else(|| "争先进位".to_string());
    let normalization = o
        .opt_choice("normalization", &["min_max", "rank"])
        .and_then(|s| Normalization::parse(&s))
        .unwrap_or(Normalization::MinMax);
    let tie_break = o.code_list("tie_break");
    let note = o.opt_str("note").unwrap_or_default();
    let mut items: Vec<RankItem> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let list = match o.get("item") {
        None => Vec::new(),
        Some(n) => match n.as_array() {
            Some(v) => v,
            None => {
                ctx.error(
                    n.span(),
                    "ranking.item 应写成表数组 [[ranking.item]]",
                    Some("[[ranking.item]]"),
                );
                Vec::new()
            }
        },
    };
    for n in list {
        let Some(it) = Obj::new(ctx, n, "[[ranking.item]]") else {
            continue;
        };
        let code = it.req_code("code");
        let indicator = it.req_code("indicator");
        if let Some(i) = &indicator {
            match indicators.iter().find(|x| &x.code == i) {
                None => ctx.error(
                    it.get("indicator").and_then(|n| n.span()),
                    format!("[[ranking.item]] 引用了未定义的指标 {i}"),
                    Some("已在 [[indicator]] 中定义的指标编码"),
                ),
                // An item the areas have no numbers for would rank every
                // area alike.
                Some(x) if !has_area_data(x) => ctx.error(
                    it.get("indicator").and_then(|n| n.span()),
                    format!("[[ranking.item]] 的指标 {i}（{}）没有分地区的数据，无法用于县区排名", x.name),
                    Some("由各地区报送的指标（additive = true 或 area_reports = true），或由登记库计算的指标"),
                ),
                Some(_) => {}
            }
        }
        let basis = it
            .opt_choice("basis", &["value", "growth"])
            .and_then(|s| Basis::parse(&s))
            .unwrap_or(Basis::Value);
        let weight = it.opt_f64("weight").unwrap_or(1.0);
        if !(weight > 0.0 && weight.is_finite()) {
            ctx.error(
                it.get("weight").and_then(|n| n.span()),
                "[[ranking.item]] 的 weight 应为正数",
                Some("例如 20"),
            );
        }
        let higher_is_better =
            it.opt_choice("direction", &["up", "down"]).as_deref() != Some("down");
        it.finish();
        if let Some(c) = &code
            && !seen.insert(c.to_string())
        {
            ctx.error(
                it.span(),
                format!("排名指标编码 {c} 重复"),
                Some("唯一的编码"),
            );
        }
        if let (Some(code), Some(indicator)) = (code, indicator) {
            items.push(RankItem {
                code,
                indicator,
                basis,
                weight,
                higher_is_better,
            });
        }
    }
    o.finish();
    if items.is_empty() {
        ctx.error(
            o.span(),
            "[ranking] 中没有任何 [[ranking.item]]",
            Some("至少一个排名指标"),
        );
        return None;
    }
    let mut tie: Vec<Code> = Vec::new();
    for (c, span) in tie_break {
        if items.iter().any(|i| i.code == c) {
            tie.push(c);
        } else {
            ctx.error(
                span,
                format!("tie_break 中的 {c} 不是本排名的指标编码"),
                Some("[[ranking.item]] 的 code"),
            );
        }
    }
    Some(RankingSpec {
        name,
        normalization,
        items,
        tie_break: tie,
        note,
    })
}

/// Whether the areas have numbers of their own for `ind`: they report it,
/// or the engine computes it from a registry, or it is a formula.
fn has_area_data(ind: &Indicator) -> bool {
    match &ind.source {
        kc_domain::plan::DataSource::Reported => ind.areas_report(),
        kc_domain::plan::DataSource::Registry { compute, .. } => {
            compute.is_some() || ind.areas_report()
        }
        kc_domain::plan::DataSource::Formula { .. } => true,
    }
}
