//! Matching quality on the labelled set (kc_demo::market): for every demand,
//! the achievements of its topic are the relevant ones. Prints recall@10 and
//! MRR (the figures in docs/benchmarks.md) and holds them above a floor.

use kc_search::{Listing, SearchIndex};

#[test]
fn demands_find_their_achievements() {
    let (offers, demands) = kc_demo::market::labelled(7, 8);
    let ix = SearchIndex::new().unwrap();
    let as_listing = |l: &kc_demo::market::Labelled, kind: &str| Listing {
        kind: kind.into(),
        key: l.key.clone(),
        title: l.title.clone(),
        body: l.body.clone(),
        field: l.field.into(),
        cluster: l.cluster.into(),
        ..Listing::default()
    };
    ix.rebuild(offers.iter().map(|o| as_listing(o, "offers")))
        .unwrap();
    let (mut recall, mut mrr, mut pairs) = (0.0, 0.0, 0usize);
    for d in &demands {
        let relevant: Vec<&str> = offers
            .iter()
            .filter(|o| o.topic == d.topic)
            .map(|o| o.key.as_str())
            .collect();
        pairs += relevant.len();
        let found = ix
            .similar(&as_listing(d, "demands"), &["offers"], 10)
            .unwrap();
        let hits = found
            .iter()
            .filter(|s| relevant.contains(&s.hit.key.as_str()))
            .count();
        recall += hits as f64 / relevant.len().min(10) as f64;
        if let Some(rank) = found
            .iter()
            .position(|s| relevant.contains(&s.hit.key.as_str()))
        {
            mrr += 1.0 / (rank + 1) as f64;
        }
        // Every suggestion says why.
        for s in &found {
            assert!(
                !s.terms.is_empty() || s.same_field,
                "{} → {} without a reason",
                d.key,
                s.hit.key
            );
        }
    }
    let n = demands.len() as f64;
    let (recall, mrr) = (recall / n, mrr / n);
    println!(
        "matching: {} demands, {} achievements, {pairs} relevant pairs: recall@10 = {recall:.3}, MRR = {mrr:.3}",
        demands.len(),
        offers.len()
    );
    assert!(pairs >= 200);
    assert!(recall >= 0.6, "recall@10 {recall:.3}");
    assert!(mrr >= 0.9, "MRR {mrr:.3}");
}
