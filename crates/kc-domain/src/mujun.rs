//! 亩均效益评价: a weighted score per firm from per-mu and intensity
//! indicators, classes by cut-offs, and two weightings side by side (who
//! moves class when R&D weighs more). Schemes are data
//! (`catalogue/mujun-schemes.toml`).
//!
//! Each indicator is scored against a benchmark taken from the firms
//! evaluated: the `benchmark_quantile` of their values (for an indicator
//! where lower is better, the opposite quantile). A firm at or beyond the
//! benchmark gets the indicator's full weight, others a share in proportion;
//! the score is out of 100. A firm missing any figure gets no score and the
//! missing ones are named — nothing is guessed.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MuIndicator {
    /// `tax_per_mu`, `output_per_mu`, `rd_intensity` or `energy_per_output`.
    pub code: String,
    pub name: String,
    pub unit: String,
    pub weight: f64,
    #[serde(default)]
    pub lower_is_better: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cutoff {
    pub class: String,
    pub min: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scheme {
    pub code: String,
    pub name: String,
    pub benchmark_quantile: f64,
    /// Best class first; a firm takes the first whose `min` it reaches.
    pub cutoffs: Vec<Cutoff>,
    pub indicators: Vec<MuIndicator>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schemes {
    pub version: String,
    pub source: String,
    pub schemes: Vec<Scheme>,
}

/// The indicators every scheme may use.
pub const INDICATORS: [&str; 4] = [
    "tax_per_mu",
    "output_per_mu",
    "rd_intensity",
    "energy_per_output",
];

/// One firm's indicator values (by code); `None` where a figure is missing.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MuInput {
    pub key: String,
    pub values: Vec<(String, Option<f64>)>,
}

impl MuInput {
    pub fn get(&self, code: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|(c, _)| c == code)
            .and_then(|(_, v)| *v)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MuResult {
    pub key: String,
    pub score: Option<f64>,
    pub class: Option<String>,
    /// Points per indicator, in the scheme's order.
    pub parts: Vec<Option<f64>>,
    /// Names of the indicators that could not be computed.
    pub missing: Vec<String>,
}

/// The `q` quantile (0–1) of `v` by linear interpolation; `None` if empty.
pub fn quantile(v: &[f64], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (s.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(s[lo] + (s[hi] - s[lo]) * (pos - lo as f64))
}

/// The class of a score by the cut-offs (best first); the last class when
/// none is reached.
pub fn class_of(cutoffs: &[Cutoff], score: f64) -> Option<String> {
    cutoffs
        .iter()
        .find(|c| score >= c.min - 1e-9)
        .or(cutoffs.last())
        .map(|c| c.class.clone())
}

/// Benchmarks per indicator of `scheme` from the firms' values.
pub fn benchmarks(scheme: &Scheme, firms: &[MuInput]) -> Vec<Option<f64>> {
    scheme
        .indicators
        .iter()
        .map(|ind| {
            let vals: Vec<f64> = firms
                .iter()
                .filter_map(|f| f.get(&ind.code))
                .filter(|v| v.is_finite())
                .collect();
            let q = if ind.lower_is_better {
                1.0 - scheme.benchmark_quantile
            } else {
                scheme.benchmark_quantile
            };
            quantile(&vals, q)
        })
        .collect()
}

/// Scores every firm under `scheme`.
pub fn evaluate(scheme: &Scheme, firms: &[MuInput]) -> Vec<MuResult> {
    let bench = benchmarks(scheme, firms);
    let total: f64 = scheme.indicators.iter().map(|i| i.weight).sum();
    firms
        .iter()
        .map(|f| {
            let mut missing = Vec::new();
            let parts: Vec<Option<f64>> = scheme
                .indicators
                .iter()
                .zip(&bench)
                .map(|(ind, b)| {
                    let v = f.get(&ind.code).filter(|v| v.is_finite());
                    let part = match (v, b) {
                        (Some(v), Some(b)) => Some(
                            ind.weight
                                * if ind.lower_is_better {
                                    if v <= *b || v <= 0.0 {
                                        1.0
                                    } else {
                                        (b / v).clamp(0.0, 1.0)
                                    }
                                } else if *b <= 0.0 {
                                    if v > 0.0 { 1.0 } else { 0.0 }
                                } else {
                                    (v / b).clamp(0.0, 1.0)
                                },
                        ),
                        _ => None,
                    };
                    if part.is_none() {
                        missing.push(ind.name.clone());
                    }
                    part
                })
                .collect();
            let score = if missing.is_empty() && total > 0.0 {
                // Rounded to 1/10000 of a point so that float noise never
                // moves a firm across a cut-off.
                Some((parts.iter().flatten().sum::<f64>() / total * 1e6).round() / 1e4)
            } else {
                None
            };
            MuResult {
                key: f.key.clone(),
                class: score.and_then(|s| class_of(&scheme.cutoffs, s)),
                score,
                parts,
                missing,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme(rd_weight: f64) -> Scheme {
        let ind = |code: &str, weight: f64, lower: bool| MuIndicator {
            code: code.into(),
            name: code.into(),
            unit: String::new(),
            weight,
            lower_is_better: lower,
        };
        Scheme {
            code: "s".into(),
            name: "s".into(),
            benchmark_quantile: 1.0,
            cutoffs: vec![
                Cutoff {
                    class: "A".into(),
                    min: 80.0,
                },
                Cutoff {
                    class: "B".into(),
                    min: 60.0,
                },
                Cutoff {
                    class: "C".into(),
                    min: 40.0,
                },
                Cutoff {
                    class: "D".into(),
                    min: 0.0,
                },
            ],
            indicators: vec![
                ind("tax_per_mu", 100.0 - rd_weight, false),
                ind("rd_intensity", rd_weight, false),
                ind("energy_per_output", 0.0, true),
            ],
        }
    }

    fn firm(key: &str, tax: f64, rd: Option<f64>) -> MuInput {
        MuInput {
            key: key.into(),
            values: vec![
                ("tax_per_mu".into(), Some(tax)),
                ("rd_intensity".into(), rd),
                ("energy_per_output".into(), Some(0.1)),
            ],
        }
    }

    #[test]
    fn scores_classes_and_a_missing_figure() {
        let firms = [
            firm("a", 20.0, Some(1.0)),
            firm("b", 10.0, Some(5.0)),
            firm("c", 10.0, None),
        ];
        let r = evaluate(&scheme(10.0), &firms);
        // a: 90 × 1 + 10 × 0.2 = 92 → A; b: 90 × 0.5 + 10 = 55 → C.
        assert_eq!(r[0].score, Some(92.0));
        assert_eq!(r[0].class.as_deref(), Some("A"));
        assert_eq!(r[1].score, Some(55.0));
        assert_eq!(r[1].class.as_deref(), Some("C"));
        assert_eq!(
            (r[2].score, r[2].missing.clone()),
            (None, vec!["rd_intensity".to_string()])
        );
        // When R&D weighs 50: a 50 + 10 = 60 → B; b 25 + 50 = 75 → B.
        let r = evaluate(&scheme(50.0), &firms);
        assert_eq!(r[0].class.as_deref(), Some("B"));
        assert_eq!(r[1].class.as_deref(), Some("B"));
    }

    #[test]
    fn quantiles_and_cutoffs() {
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), Some(2.0));
        assert_eq!(quantile(&[1.0, 2.0], 0.75), Some(1.75));
        assert_eq!(quantile(&[], 0.5), None);
        let c = scheme(0.0).cutoffs;
        assert_eq!(class_of(&c, 80.0).as_deref(), Some("A"));
        assert_eq!(class_of(&c, 79.99).as_deref(), Some("B"));
        assert_eq!(class_of(&c, 0.0).as_deref(), Some("D"));
    }
}
