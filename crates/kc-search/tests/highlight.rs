//! Highlights (issue 13, item 1): the plan's own cluster names panicked the
//! market page (overlapping jieba words and bigrams sliced out of bounds) and
//! 传感器 came back as "传感感器传感器". Data-driven: for every text and query,
//! no panic, the parts joined give back exactly the text, parts alternate,
//! and every highlighted part is made of query terms.

use std::collections::HashSet;

use kc_search::{Listing, Marked, SearchIndex, SearchQuery, mark, match_ranges, query_terms};

/// Every character of `span` lies inside an occurrence of a term that lies
/// inside `span` (case folded as the index folds it).
fn covered_by_terms(span: &str, terms: &HashSet<String>) -> bool {
    let lower = span.to_lowercase();
    let mut covered = vec![false; lower.len()];
    for (i, _) in lower.char_indices() {
        for t in terms {
            if !t.is_empty() && lower[i..].starts_with(t.as_str()) {
                covered[i..i + t.len()].iter_mut().for_each(|c| *c = true);
            }
        }
    }
    lower.char_indices().all(|(i, _)| covered[i])
}

fn joined(m: &Marked) -> String {
    m.iter().map(|(t, _)| t.as_str()).collect()
}

/// The invariants, for the whole text and for a cut window.
fn check(text: &str, query: &str) -> Marked {
    let terms = query_terms(query.trim()).all();
    let ranges = match_ranges(text, &terms);
    for w in ranges.windows(2) {
        assert!(w[0].end < w[1].start, "{text:?} {query:?}: {ranges:?}");
    }
    for r in &ranges {
        assert!(r.start < r.end && text.get(r.clone()).is_some(), "{r:?}");
    }
    for max in [usize::MAX, 120, 7, 1] {
        let m = mark(text, &ranges, max);
        let j = joined(&m);
        if max == usize::MAX {
            assert_eq!(j, text, "query {query:?}");
        } else {
            assert!(text.contains(&j), "{j:?} not in {text:?}");
            assert!(j.chars().count() <= max.max(1), "{j:?}");
        }
        for pair in m.windows(2) {
            assert_ne!(pair[0].1, pair[1].1, "neighbouring parts alike: {m:?}");
        }
        for (part, hit) in &m {
            assert!(!part.is_empty(), "{m:?}");
            if *hit {
                assert!(
                    covered_by_terms(part, &terms),
                    "{part:?} is not made of query terms of {query:?} ({terms:?})"
                );
            }
        }
    }
    mark(text, &ranges, usize::MAX)
}

const CLUSTERS: [&str; 4] = ["新能源", "新型显示", "智能传感", "生物化工"];

fn texts() -> Vec<String> {
    let mut t: Vec<String> = [
        "能源企业",
        "新能源企业",
        "新能源汽车电驱的碳化硅模块封装",
        "智能传感器产业园",
        "传感器",
        "新型显示面板与智能传感器",
        "生物化工中试基地",
        "聚焦新能源、新型显示、智能传感、生物化工四大集群和未来产业",
        "",
        "，。！？",
        "AI芯片与 MEMS 传感器 mems",
        "😀新能源😀传感器😀",
        "e\u{301}新能源e\u{301}",
        "\u{301}\u{301}传感\u{301}器",
        "İstanbul 新能源",
        "能",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    t.push("新能源".repeat(400));
    t.push(format!(
        "{}新能源{}",
        "无关文字".repeat(100),
        "其他内容".repeat(100)
    ));
    t
}

fn queries() -> Vec<String> {
    let mut q: Vec<String> = CLUSTERS.iter().map(|s| s.to_string()).collect();
    q.extend(
        [
            "传感器",
            "",
            "   ",
            "，。！？",
            "<>()",
            "😀",
            "e\u{301}",
            "\u{301}",
            "AI芯片",
            "mems 传感",
            "İ",
            "能源企业新能源汽车电驱的碳化硅模块封装工艺之外的一段很长的话",
        ]
        .map(String::from),
    );
    q.push("智能传感".repeat(60));
    q
}

#[test]
fn every_text_and_query_keeps_the_text_and_marks_only_terms() {
    for text in texts() {
        for query in queries() {
            check(&text, &query);
        }
    }
}

#[test]
fn overlapping_words_are_marked_once() {
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, bool)]);
    let cases: [Case; 5] = [
        ("传感器", "传感器", &[("传感器", true)]),
        ("能源企业", "新能源", &[("能源", true), ("企业", false)]),
        ("新能源企业", "新能源", &[("新能源", true), ("企业", false)]),
        (
            "智能传感器产业园",
            "智能传感",
            &[("智能传感", true), ("器产业园", false)],
        ),
        ("无关", "新能源", &[("无关", false)]),
    ];
    for (text, query, want) in cases {
        let got = check(text, query);
        let want: Marked = want.iter().map(|(t, h)| (t.to_string(), *h)).collect();
        assert_eq!(got, want, "{text} / {query}");
    }
}

#[test]
fn the_plans_clusters_search_without_panic() {
    let (offers, demands) = kc_demo::market::labelled(7, 8);
    let ix = SearchIndex::new().unwrap();
    let mut listings: Vec<Listing> = offers
        .iter()
        .chain(&demands)
        .enumerate()
        .map(|(i, l)| Listing {
            kind: "offers".into(),
            key: format!("K{i}"),
            title: l.title.clone(),
            body: l.body.clone(),
            ..Listing::default()
        })
        .collect();
    for (i, t) in texts().into_iter().enumerate() {
        listings.push(Listing {
            kind: "demands".into(),
            key: format!("T{i}"),
            title: t.chars().take(100).collect(),
            body: t,
            ..Listing::default()
        });
    }
    let by_key: std::collections::HashMap<String, Listing> = listings
        .iter()
        .map(|l| (l.key.clone(), l.clone()))
        .collect();
    ix.rebuild(listings).unwrap();
    let mut found = 0;
    for query in queries() {
        let q = SearchQuery {
            text: query.clone(),
            limit: 1000,
            ..SearchQuery::default()
        };
        let Ok((_, hits)) = ix.search(&q) else {
            continue;
        };
        let terms = query_terms(query.trim()).all();
        for h in hits {
            found += 1;
            let l = &by_key[&h.key];
            assert_eq!(joined(&h.title_marks), l.title, "{query}");
            assert!(l.body.contains(&joined(&h.body_marks)), "{query}");
            for (part, hit) in h.title_marks.iter().chain(&h.body_marks) {
                assert!(!hit || covered_by_terms(part, &terms), "{part:?} / {query}");
            }
        }
    }
    assert!(found > 50, "the queries find listings ({found})");
}
