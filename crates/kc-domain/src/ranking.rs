//! Area rankings (争先进位): per indicator and composite, by a method the
//! plan file states and every page shows — which indicators, measured how
//! (level or growth), normalised how, weighted how, ties broken how — so
//! that anyone can reproduce a ranking by hand.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::plan::{Indicator, Measure};
use crate::series::{Obs, flow_total, stock_points};

/// How raw values are turned into 0–100 scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalization {
    /// 100 × (x − worst) / (best − worst); all equal: 100 each.
    MinMax,
    /// By position: the best 100, the worst 0, evenly between; equal values
    /// share the better position.
    Rank,
}

impl Normalization {
    pub fn as_str(self) -> &'static str {
        match self {
            Normalization::MinMax => "min_max",
            Normalization::Rank => "rank",
        }
    }

    pub fn parse(s: &str) -> Option<Normalization> {
        match s {
            "min_max" => Some(Normalization::MinMax),
            "rank" => Some(Normalization::Rank),
            _ => None,
        }
    }

    /// The rule in words, for the method box next to the table.
    pub fn zh(self) -> &'static str {
        match self {
            Normalization::MinMax => {
                "极差法：得分 = 100 ×（本地区值 − 最差值）÷（最好值 − 最差值）；各地区相同时均得 100 分"
            }
            Normalization::Rank => {
                "位次法：第 1 名 100 分、最后一名 0 分，其间按位次均分；数值相同者取较前位次"
            }
        }
    }
}

/// What of an indicator is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The level at the date (stocks) or the total since 1 January (flows).
    Value,
    /// Growth on the same point of the year before, in per cent.
    Growth,
}

impl Basis {
    pub fn parse(s: &str) -> Option<Basis> {
        match s {
            "value" => Some(Basis::Value),
            "growth" => Some(Basis::Growth),
            _ => None,
        }
    }

    pub fn zh(self, measure: Measure) -> &'static str {
        match (self, measure) {
            (Basis::Value, Measure::Stock) => "期末值",
            (Basis::Value, Measure::Flow) => "年初至今累计",
            (Basis::Growth, Measure::Stock) => "比上年同期增长（%）",
            (Basis::Growth, Measure::Flow) => "年初至今累计比上年同期增长（%）",
        }
    }
}

/// One ranked indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankItem {
    pub code: Code,
    pub indicator: Code,
    pub basis: Basis,
    pub weight: f64,
    /// Higher is better (`true`) or lower is better.
    pub higher_is_better: bool,
}

/// The ranking the plan defines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RankingSpec {
    pub name: String,
    pub normalization: Normalization,
    pub items: Vec<RankItem>,
    /// Item codes compared in order when composite scores are equal.
    pub tie_break: Vec<Code>,
    pub note: String,
}

/// An indicator's raw value for ranking at `as_of`, from one area's
/// observations; `None` when the data do not allow it (never a guess).
pub fn raw_value(ind: &Indicator, obs: &[Obs], basis: Basis, as_of: NaiveDate) -> Option<f64> {
    let at = |d: NaiveDate| -> Option<f64> {
        match ind.measure {
            Measure::Stock => stock_points(obs)
                .into_iter()
                .rfind(|o| o.period.end() <= d)
                .map(|o| o.value),
            Measure::Flow => {
                let jan1 = NaiveDate::from_ymd_opt(d.year(), 1, 1)?;
                flow_total(obs, jan1, d).map(|t| t.total)
            }
        }
    };
    let now = at(as_of)?;
    match basis {
        Basis::Value => Some(now),
        Basis::Growth => {
            let year_before = as_of
                .with_year(as_of.year() - 1)
                .or_else(|| as_of.pred_opt()?.with_year(as_of.year() - 1))?;
            let then = at(year_before)?;
            (then > 0.0).then(|| (now / then - 1.0) * 100.0)
        }
    }
}

/// 0–100 scores for one item's raw values (`None`: no data, scores 0).
pub fn normalise(
    values: &[Option<f64>],
    method: Normalization,
    higher_is_better: bool,
) -> Vec<f64> {
    let signed: Vec<Option<f64>> = values
        .iter()
        .map(|v| {
            v.filter(|x| x.is_finite())
                .map(|x| if higher_is_better { x } else { -x })
        })
        .collect();
    let known: Vec<f64> = signed.iter().flatten().copied().collect();
    if known.is_empty() {
        return vec![0.0; values.len()];
    }
    match method {
        Normalization::MinMax => {
            let (lo, hi) = known
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
                    (l.min(*x), h.max(*x))
                });
            signed
                .iter()
                .map(|v| match v {
                    None => 0.0,
                    Some(_) if hi <= lo => 100.0,
                    Some(x) => (100.0 * (x - lo) / (hi - lo)).clamp(0.0, 100.0),
                })
                .collect()
        }
        Normalization::Rank => {
            let n = known.len();
            signed
                .iter()
                .map(|v| match v {
                    None => 0.0,
                    Some(_) if n == 1 => 100.0,
                    Some(x) => {
                        let better = known.iter().filter(|y| *y > x).count();
                        100.0 * (n - 1 - better) as f64 / (n - 1) as f64
                    }
                })
                .collect()
        }
    }
}

/// One area's line of a ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankRow {
    /// Index of the area in the input.
    pub area: usize,
    /// Raw values and scores per item, in the spec's order.
    pub raw: Vec<Option<f64>>,
    pub scores: Vec<f64>,
    /// Weighted mean of the scores, 0–100.
    pub composite: f64,
    /// 1 is best; areas still equal after the tie-breaks share a rank.
    pub rank: usize,
}

/// Ranks `areas` (each with its raw values per item, in the spec's order).
/// Rows come back best first.
pub fn rank(spec: &RankingSpec, raw: &[Vec<Option<f64>>]) -> Vec<RankRow> {
    let n_items = spec.items.len();
    let columns: Vec<Vec<f64>> = (0..n_items)
        .map(|i| {
            let col: Vec<Option<f64>> = raw.iter().map(|r| r.get(i).copied().flatten()).collect();
            normalise(&col, spec.normalization, spec.items[i].higher_is_better)
        })
        .collect();
    let total_weight: f64 = spec.items.iter().map(|i| i.weight.max(0.0)).sum();
    let mut rows: Vec<RankRow> = raw
        .iter()
        .enumerate()
        .map(|(a, r)| {
            let scores: Vec<f64> = (0..n_items).map(|i| columns[i][a]).collect();
            let composite = if total_weight > 0.0 {
                spec.items
                    .iter()
                    .zip(&scores)
                    .map(|(it, s)| it.weight.max(0.0) * s)
                    .sum::<f64>()
                    / total_weight
                // The weighted mean of numbers within 0–100 is within it too,
                // save for rounding in the last place.
            } else {
                0.0
            };
            RankRow {
                area: a,
                raw: (0..n_items).map(|i| r.get(i).copied().flatten()).collect(),
                scores,
                composite: composite.clamp(0.0, 100.0),
                rank: 0,
            }
        })
        .collect();
    let tie_idx: Vec<usize> = spec
        .tie_break
        .iter()
        .filter_map(|c| spec.items.iter().position(|i| &i.code == c))
        .collect();
    // Scores are rounded to 1e-9 before comparing so that sums in another
    // order do not split a real tie.
    let key = |r: &RankRow| -> Vec<i64> {
        std::iter::once(r.composite)
            .chain(tie_idx.iter().map(|i| r.scores[*i]))
            .map(|x| (x * 1e9).round() as i64)
            .collect()
    };
    rows.sort_by(|a, b| key(b).cmp(&key(a)).then(a.area.cmp(&b.area)));
    let keys: Vec<Vec<i64>> = rows.iter().map(key).collect();
    for i in 0..rows.len() {
        rows[i].rank = if i > 0 && keys[i] == keys[i - 1] {
            rows[i - 1].rank
        } else {
            i + 1
        };
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(norm: Normalization, items: &[(&str, f64, bool)], tie: &[&str]) -> RankingSpec {
        RankingSpec {
            name: "测试".into(),
            normalization: norm,
            items: items
                .iter()
                .map(|(c, w, up)| RankItem {
                    code: Code::parse(c).unwrap(),
                    indicator: Code::parse("x").unwrap(),
                    basis: Basis::Value,
                    weight: *w,
                    higher_is_better: *up,
                })
                .collect(),
            tie_break: tie.iter().map(|c| Code::parse(c).unwrap()).collect(),
            note: String::new(),
        }
    }

    #[test]
    fn min_max_by_hand() {
        let s = normalise(
            &[Some(10.0), Some(30.0), Some(20.0), None],
            Normalization::MinMax,
            true,
        );
        assert_eq!(s, vec![0.0, 100.0, 50.0, 0.0]);
        let s = normalise(
            &[Some(10.0), Some(30.0), Some(20.0)],
            Normalization::MinMax,
            false,
        );
        assert_eq!(s, vec![100.0, 0.0, 50.0]);
        assert_eq!(
            normalise(&[Some(5.0), Some(5.0)], Normalization::MinMax, true),
            vec![100.0, 100.0]
        );
        assert_eq!(
            normalise(&[None, None], Normalization::MinMax, true),
            vec![0.0, 0.0]
        );
    }

    #[test]
    fn rank_scores_by_hand() {
        let s = normalise(
            &[Some(3.0), Some(9.0), Some(9.0), Some(1.0), None],
            Normalization::Rank,
            true,
        );
        // 9 and 9 share the first position; 3 is third of four; 1 last.
        assert_eq!(s[1], 100.0);
        assert_eq!(s[2], 100.0);
        assert!((s[0] - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(s[3], 0.0);
        assert_eq!(s[4], 0.0);
    }

    #[test]
    fn composite_and_tie_breaks() {
        let sp = spec(
            Normalization::MinMax,
            &[("a", 1.0, true), ("b", 1.0, true)],
            &["b"],
        );
        // Area 0: a best, b worst; area 1: the reverse; area 2: middle both.
        let raw = vec![
            vec![Some(10.0), Some(0.0)],
            vec![Some(0.0), Some(10.0)],
            vec![Some(5.0), Some(5.0)],
        ];
        let rows = rank(&sp, &raw);
        // All composites are 50; the tie-break on b puts area 1 first, then 2, then 0.
        assert!(rows.iter().all(|r| (r.composite - 50.0).abs() < 1e-9));
        assert_eq!(
            rows.iter().map(|r| r.area).collect::<Vec<_>>(),
            vec![1, 2, 0]
        );
        assert_eq!(
            rows.iter().map(|r| r.rank).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        // Without a tie-break they share the first rank.
        let sp = spec(
            Normalization::MinMax,
            &[("a", 1.0, true), ("b", 1.0, true)],
            &[],
        );
        let rows = rank(&sp, &raw);
        assert_eq!(
            rows.iter().map(|r| r.rank).collect::<Vec<_>>(),
            vec![1, 1, 1]
        );
    }
}
