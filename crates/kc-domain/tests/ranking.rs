//! Property tests of the area ranking: scores stay within 0–100, the order
//! of the areas does not matter, doing better never lowers an area's own
//! score, and ranks follow the composite.

use kc_domain::Code;
use kc_domain::ranking::{Basis, Normalization, RankItem, RankingSpec, normalise, rank};
use proptest::prelude::*;

fn spec(norm: Normalization, weights: &[(f64, bool)]) -> RankingSpec {
    RankingSpec {
        name: "测试".into(),
        normalization: norm,
        items: weights
            .iter()
            .enumerate()
            .map(|(i, (w, up))| RankItem {
                code: Code::parse(&format!("r{i}")).unwrap(),
                indicator: Code::parse("x").unwrap(),
                basis: Basis::Value,
                weight: *w,
                higher_is_better: *up,
            })
            .collect(),
        tie_break: vec![Code::parse("r0").unwrap()],
        note: String::new(),
    }
}

fn norm() -> impl Strategy<Value = Normalization> {
    prop_oneof![Just(Normalization::MinMax), Just(Normalization::Rank)]
}

fn value() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![1 => Just(None), 5 => (-1e6..1e6f64).prop_map(Some)]
}

/// Item weights and directions, and areas × items of raw values.
type Table = (Vec<(f64, bool)>, Vec<Vec<Option<f64>>>);

fn table() -> impl Strategy<Value = Table> {
    (1usize..5, 1usize..10).prop_flat_map(|(items, areas)| {
        (
            prop::collection::vec((0.1..50.0f64, any::<bool>()), items),
            prop::collection::vec(prop::collection::vec(value(), items), areas),
        )
    })
}

proptest! {
    #[test]
    fn scores_stay_within_bounds(n in norm(), (w, raw) in table()) {
        let rows = rank(&spec(n, &w), &raw);
        prop_assert_eq!(rows.len(), raw.len());
        for r in &rows {
            prop_assert!((0.0..=100.0).contains(&r.composite), "{}", r.composite);
            for s in &r.scores {
                prop_assert!((0.0..=100.0).contains(s));
            }
        }
    }

    #[test]
    fn ranks_follow_the_composite(n in norm(), (w, raw) in table()) {
        let rows = rank(&spec(n, &w), &raw);
        prop_assert_eq!(rows[0].rank, 1);
        for pair in rows.windows(2) {
            prop_assert!(pair[0].composite >= pair[1].composite - 1e-9);
            prop_assert!(pair[0].rank <= pair[1].rank);
        }
        // Every area appears once.
        let mut seen: Vec<usize> = rows.iter().map(|r| r.area).collect();
        seen.sort();
        prop_assert_eq!(seen, (0..raw.len()).collect::<Vec<_>>());
    }

    #[test]
    fn the_order_of_areas_does_not_matter(n in norm(), (w, raw) in table()) {
        let sp = spec(n, &w);
        let forward = rank(&sp, &raw);
        let mut reversed_raw = raw.clone();
        reversed_raw.reverse();
        let backward = rank(&sp, &reversed_raw);
        let last = raw.len() - 1;
        for r in &forward {
            let twin = backward.iter().find(|b| b.area == last - r.area).unwrap();
            prop_assert!((r.composite - twin.composite).abs() < 1e-9);
            prop_assert_eq!(r.rank, twin.rank);
        }
    }

    #[test]
    fn doing_better_never_lowers_ones_own_score(
        n in norm(),
        (w, raw) in table(),
        pick in any::<prop::sample::Index>(),
        item in any::<prop::sample::Index>(),
        gain in 0.0..1e5f64,
    ) {
        let sp = spec(n, &w);
        let a = pick.index(raw.len());
        let i = item.index(w.len());
        let before = rank(&sp, &raw).into_iter().find(|r| r.area == a).unwrap();
        let mut better = raw.clone();
        // Better means up for higher-is-better items and down otherwise; a
        // missing value becomes a reported one.
        let step = if w[i].1 { gain } else { -gain };
        better[a][i] = Some(better[a][i].unwrap_or(0.0) + step);
        let had_value = raw[a][i].is_some();
        let after = rank(&sp, &better).into_iter().find(|r| r.area == a).unwrap();
        if had_value {
            prop_assert!(after.scores[i] >= before.scores[i] - 1e-9,
                "item score fell from {} to {}", before.scores[i], after.scores[i]);
        }
    }

    #[test]
    fn normalised_values_keep_their_order(n in norm(), up in any::<bool>(), xs in prop::collection::vec(-1e6..1e6f64, 1..12)) {
        let vals: Vec<Option<f64>> = xs.iter().copied().map(Some).collect();
        let s = normalise(&vals, n, up);
        for i in 0..xs.len() {
            for j in 0..xs.len() {
                let better = if up { xs[i] > xs[j] } else { xs[i] < xs[j] };
                if better {
                    prop_assert!(s[i] >= s[j]);
                }
            }
        }
    }
}
