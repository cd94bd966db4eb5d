//! Property tests of the broker reward rule and the panel's score
//! combination.

use kc_domain::market::{Combine, RewardRule};
use proptest::prelude::*;

fn rule() -> impl Strategy<Value = RewardRule> {
    (
        0.0..0.2f64,
        0.0..5.0f64,
        proptest::option::of(0.5..50.0f64),
        proptest::option::of(1.0..200.0f64),
    )
        .prop_map(|(rate, base, per_deal_cap, per_year_cap)| RewardRule {
            rate,
            base,
            per_deal_cap,
            per_year_cap,
        })
}

proptest! {
    #[test]
    fn a_reward_respects_both_caps(r in rule(), amount in 0.0..1e6f64, earned in 0.0..300.0f64) {
        let got = r.reward(amount, earned).amount;
        prop_assert!(got >= 0.0);
        prop_assert!(got <= r.base + r.rate * amount + 1e-9);
        if let Some(c) = r.per_deal_cap { prop_assert!(got <= c + 1e-9); }
        if let Some(c) = r.per_year_cap { prop_assert!(earned + got <= c.max(earned) + 1e-9); }
    }

    #[test]
    fn a_bigger_deal_never_earns_less(r in rule(), a in 0.0..1e5f64, extra in 0.0..1e5f64, earned in 0.0..100.0f64) {
        prop_assert!(r.reward(a + extra, earned).amount + 1e-9 >= r.reward(a, earned).amount);
    }

    #[test]
    fn a_years_rewards_never_pass_the_yearly_cap(r in rule(), deals in proptest::collection::vec(0.0..5e4f64, 1..30)) {
        let mut earned = 0.0;
        for d in deals {
            earned += r.reward(d, earned).amount;
        }
        if let Some(c) = r.per_year_cap { prop_assert!(earned <= c + 1e-6); }
    }

    #[test]
    fn a_combined_score_lies_between_the_lowest_and_highest_sheet(
        totals in proptest::collection::vec(0.0..100.0f64, 1..12),
        trimmed in any::<bool>(),
    ) {
        let c = if trimmed { Combine::TrimmedMean } else { Combine::Mean };
        let s = c.combine(&totals).unwrap();
        let lo = totals.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = totals.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(s >= lo - 1e-9 && s <= hi + 1e-9);
        // One outlier sheet moves a trimmed mean of five or more less than a plain mean.
        if trimmed && totals.len() >= 5 {
            let mut t = totals.clone();
            t.push(1000.0);
            let plain = Combine::Mean.combine(&t).unwrap();
            prop_assert!(c.combine(&t).unwrap() <= plain + 1e-9);
        }
    }
}
