//! Property tests of the 亩均 evaluation: scores stay within 0–100, a
//! firm's class follows its score, and doing better on an indicator never
//! lowers the firm's own score.

use kc_domain::mujun::{Cutoff, MuIndicator, MuInput, Scheme, class_of, evaluate};
use proptest::prelude::*;

fn scheme(weights: [f64; 4], q: f64) -> Scheme {
    let codes = [
        "tax_per_mu",
        "output_per_mu",
        "rd_intensity",
        "energy_per_output",
    ];
    Scheme {
        code: "p".into(),
        name: "p".into(),
        benchmark_quantile: q,
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
        indicators: codes
            .iter()
            .zip(weights)
            .map(|(c, w)| MuIndicator {
                code: c.to_string(),
                name: c.to_string(),
                unit: String::new(),
                weight: w,
                lower_is_better: *c == "energy_per_output",
            })
            .collect(),
    }
}

fn firms() -> impl Strategy<Value = Vec<[f64; 4]>> {
    proptest::collection::vec(
        (0.0..100.0f64, 0.0..1000.0f64, 0.0..10.0f64, 0.001..1.0f64)
            .prop_map(|(a, b, c, d)| [a, b, c, d]),
        1..30,
    )
}

fn inputs(v: &[[f64; 4]]) -> Vec<MuInput> {
    let codes = [
        "tax_per_mu",
        "output_per_mu",
        "rd_intensity",
        "energy_per_output",
    ];
    v.iter()
        .enumerate()
        .map(|(i, f)| MuInput {
            key: i.to_string(),
            values: codes
                .iter()
                .zip(f)
                .map(|(c, x)| (c.to_string(), Some(*x)))
                .collect(),
        })
        .collect()
}

proptest! {
    #[test]
    fn scores_lie_within_bounds_and_classes_follow(
        v in firms(),
        w in (0.0..50.0f64, 0.0..50.0f64, 0.0..50.0f64, 0.1..50.0f64),
        q in 0.5..1.0f64,
    ) {
        let s = scheme([w.0, w.1, w.2, w.3], q);
        for r in evaluate(&s, &inputs(&v)) {
            let score = r.score.unwrap();
            prop_assert!((0.0..=100.0 + 1e-9).contains(&score));
            prop_assert_eq!(r.class, class_of(&s.cutoffs, score));
        }
    }

    #[test]
    fn more_tax_per_mu_never_lowers_ones_own_score(v in firms(), extra in 0.0..100.0f64, who in 0usize..30) {
        let s = scheme([40.0, 30.0, 15.0, 15.0], 0.9);
        let who = who % v.len();
        let before = evaluate(&s, &inputs(&v))[who].score.unwrap();
        let mut better = v.clone();
        better[who][0] += extra;
        let after = evaluate(&s, &inputs(&better))[who].score.unwrap();
        prop_assert!(after + 1e-6 >= before, "{before} → {after}");
    }
}
