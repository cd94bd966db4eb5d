//! `[market]`: the technology market's rules, a broker's reward per
//! registered deal (`[market.reward]`) and the scoring of challenge
//! projects (`[market.challenge]` with `[[market.challenge.criterion]]`).
//! Documented for users in `docs/plan-format.md`. Missing parts take the
//! defaults of `kc_domain::market`.

use kc_domain::market::{ChallengeRules, Combine, Criterion, MarketRules, RewardRule};
use toml_edit::Table;

use crate::reader::{Ctx, N, Obj};

fn positive(o: &Obj<'_, '_, '_>, key: &'static str, zero_ok: bool) -> Option<f64> {
    let v = o.opt_f64(key)?;
    if v < 0.0 || (!zero_ok && v == 0.0) {
        o.ctx.error(
            o.get(key).and_then(|n| n.span()),
            format!(
                "{} 的 {key} 应为{}数",
                o.what,
                if zero_ok { "非负" } else { "正" }
            ),
            Some("例如 10"),
        );
        return None;
    }
    Some(v)
}

pub(crate) fn read_market(ctx: &Ctx<'_>, root: &Table) -> MarketRules {
    let mut rules = MarketRules::default();
    let Some(item) = root.get("market") else {
        return rules;
    };
    let Some(o) = Obj::new(ctx, N::I(item), "[market]") else {
        return rules;
    };
    if let Some(r) = o
        .get("reward")
        .and_then(|n| Obj::new(ctx, n, "[market.reward]"))
    {
        let d = RewardRule::default();
        rules.reward = RewardRule {
            rate: positive(&r, "rate", true).unwrap_or(d.rate),
            base: positive(&r, "base", true).unwrap_or(d.base),
            per_deal_cap: positive(&r, "per_deal_cap", false).or(d.per_deal_cap),
            per_year_cap: positive(&r, "per_year_cap", false).or(d.per_year_cap),
        };
        if rules.reward.rate > 1.0 {
            ctx.error(
                r.get("rate").and_then(|n| n.span()),
                "[market.reward] 的 rate 是比例，应在 0–1 之间",
                Some("例如 0.01 表示 1%"),
            );
        }
        r.finish();
    }
    if let Some(c) = o
        .get("challenge")
        .and_then(|n| Obj::new(ctx, n, "[market.challenge]"))
    {
        let d = ChallengeRules::default();
        let combine = c
            .opt_choice("combine", &["mean", "trimmed_mean"])
            .and_then(|s| Combine::parse(&s))
            .unwrap_or(d.combine);
        let pass_score = positive(&c, "pass_score", true).unwrap_or(d.pass_score);
        let min_panel = positive(&c, "min_panel", false).map_or(d.min_panel, |v| v as usize);
        let mut criteria = Vec::new();
        if let Some(list) = c.get("criterion") {
            match list.as_array() {
                Some(items) => {
                    for n in items {
                        let Some(it) = Obj::new(ctx, n, "[[market.challenge.criterion]]") else {
                            continue;
                        };
                        let name = it.req_str("name");
                        let max = positive(&it, "max", false);
                        it.finish();
                        if let (Some(name), Some(max)) = (name, max) {
                            criteria.push(Criterion { name, max });
                        }
                    }
                }
                None => ctx.error(
                    list.span(),
                    "market.challenge.criterion 应写成表数组 [[market.challenge.criterion]]",
                    Some("[[market.challenge.criterion]]"),
                ),
            }
        }
        let criteria = if criteria.is_empty() {
            d.criteria
        } else {
            criteria
        };
        let full: f64 = criteria.iter().map(|c| c.max).sum();
        if pass_score > full {
            ctx.error(
                c.get("pass_score").and_then(|n| n.span()),
                format!("[market.challenge] 的 pass_score {pass_score} 高于评分表满分 {full}"),
                Some("不超过各评分项满分之和"),
            );
        }
        c.finish();
        rules.challenge = ChallengeRules {
            criteria,
            combine,
            pass_score,
            min_panel,
        };
    }
    o.finish();
    rules
}
