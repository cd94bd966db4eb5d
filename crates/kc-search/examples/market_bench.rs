//! Speed of the market's search and matching at 100,000 listings (or the
//! number given), on the labelled generator's vocabulary:
//!
//! ```text
//! cargo run --release -p kc-search --example market_bench -- [LISTINGS] [QUERIES]
//! ```
//!
//! Prints the index rebuild time (full-text index and semantic model), then
//! the median, p99 and worst time of
//! searches (one word, two words, words with filters) and of matching one
//! demand against achievements and experts. Run it on a quiet machine: the
//! figures are wall-clock times.

use std::time::{Duration, Instant};

use kc_demo::market::{TOPICS, labelled};
use kc_search::{Listing, Matcher, SearchIndex, SearchQuery};

fn percentiles(mut t: Vec<Duration>) -> (f64, f64, f64) {
    t.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(t[((t.len() as f64 - 1.0) * q).round() as usize]);
    (at(0.5), at(0.99), ms(*t.last().expect("some timings")))
}

fn listing(kind: &str, l: &kc_demo::market::Labelled, i: usize, areas: &[&str]) -> Listing {
    Listing {
        kind: kind.into(),
        key: format!("{}-{i}", l.key),
        title: l.title.clone(),
        body: l.body.clone(),
        field: l.field.into(),
        cluster: l.cluster.into(),
        area: areas[i % areas.len()].into(),
        status: "已发布".into(),
        readiness: 4 + (i % 5) as u64,
        published: 19_000 + (i % 1000) as i64,
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let wanted = args.first().copied().unwrap_or(100_000);
    let queries = args.get(1).copied().unwrap_or(2_000);
    let per_topic = wanted.div_ceil(2 * TOPICS.len());
    let areas = [
        "", "340302", "340303", "340304", "340311", "340321", "340322", "340323",
    ];

    let started = Instant::now();
    let (offers, demands) = labelled(2025, per_topic);
    let mut listings: Vec<Listing> = Vec::with_capacity(wanted);
    for (i, o) in offers.iter().enumerate() {
        listings.push(listing("offers", o, i, &areas));
    }
    for (i, d) in demands.iter().enumerate() {
        listings.push(listing("demands", d, i, &areas));
    }
    listings.truncate(wanted);
    let generated = started.elapsed();

    let index = SearchIndex::new().expect("an index");
    let started = Instant::now();
    let n = index.rebuild(listings.iter().cloned()).expect("rebuilt");
    let rebuild = started.elapsed();
    println!(
        "listings: {n} (generated in {:.2} s); index rebuild with the semantic model: {:.2} s",
        generated.as_secs_f64(),
        rebuild.as_secs_f64()
    );
    let sem = index.semantic_status();
    println!(
        "semantic model: learned from {} listings, {} terms, {} vectors of {} floats",
        sem.learned_from,
        sem.terms,
        sem.vectors,
        kc_search::DIMS
    );

    // Queries cycle through the topics' terms: one term, two terms, and a
    // term with a kind, field and readiness filter.
    let mut search_times = Vec::with_capacity(queries);
    let mut found = 0usize;
    for i in 0..queries {
        let topic = &TOPICS[i % TOPICS.len()];
        let a = topic.terms[i % topic.terms.len()];
        let b = topic.terms[(i / 3 + 1) % topic.terms.len()];
        let q = match i % 3 {
            0 => SearchQuery {
                text: a.into(),
                limit: 20,
                ..Default::default()
            },
            1 => SearchQuery {
                text: format!("{a} {b}"),
                limit: 20,
                ..Default::default()
            },
            _ => SearchQuery {
                text: a.into(),
                kinds: vec!["offers".into()],
                field: Some(topic.field.into()),
                min_readiness: Some(6),
                limit: 20,
                ..Default::default()
            },
        };
        let t = Instant::now();
        let (total, hits) = index.search(&q).expect("a search");
        search_times.push(t.elapsed());
        found += usize::from(total > 0 && !hits.is_empty());
    }
    let (p50, p99, max) = percentiles(search_times);
    println!(
        "search ({queries} queries, {found} with hits, top 20 with highlights): median {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms"
    );

    // Matching, lexical only and hybrid in the same run, so that the cost
    // of the semantic half is read off one machine at one moment.
    let demand_listings: Vec<&Listing> = listings.iter().filter(|l| l.kind == "demands").collect();
    let rounds = (queries / 4).max(1);
    let step = (demand_listings.len() / rounds).max(1);
    for (name, how) in [
        ("lexical only", Matcher::Lexical),
        ("hybrid", Matcher::Hybrid),
    ] {
        let mut match_times = Vec::with_capacity(rounds);
        for d in demand_listings.iter().step_by(step).take(rounds) {
            let t = Instant::now();
            let s = index
                .similar_by(d, &["offers", "experts"], 10, how)
                .expect("suggestions");
            match_times.push(t.elapsed());
            assert!(!s.is_empty(), "a demand of a topic finds achievements");
        }
        let n = match_times.len();
        let (p50, p99, max) = percentiles(match_times);
        println!(
            "matching, {name} ({n} demands, top 10 with reasons): median {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms"
        );
    }
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!("peak memory: {}", line.trim_start_matches("VmHWM:").trim());
    }
}
