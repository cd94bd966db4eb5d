//! Long lists a page at a time (资质预审, 培育库, 亩均, 白名单, 填报任务…):
//! the rows are filtered and sorted on the server, then one page of them
//! is rendered with the total and links to the other pages. Exports take
//! every filtered row, never just the page.

use crate::Params;

/// Rows per page unless the reader asks for 20, 50 or 100.
pub const PER_PAGE: usize = 50;
/// The most rows a page shows, whatever is asked.
pub const MAX_PER_PAGE: usize = 100;

/// Where a list is and how to reach its other pages.
pub struct Pager {
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    /// The first and last row shown (1-based; 0 when there are none).
    pub first: usize,
    pub last: usize,
    /// (label, address, is the current page) for the page links, with
    /// gaps as empty addresses ("…").
    pub links: Vec<(String, String, bool)>,
    pub prev: String,
    pub next: String,
}

impl Pager {
    /// Whether there is more than one page (the links are worth showing).
    pub fn several(&self) -> bool {
        self.pages > 1
    }
}

/// A number from the query: absent or unreadable gives the default (a
/// stale or hand-typed address still shows a list rather than an error).
fn number(q: &Params, key: &str) -> Option<usize> {
    q.get(key).and_then(|s| s.trim().parse::<usize>().ok())
}

/// One page of `rows` as `q` asks for it (`page`, `per`), with links that
/// keep every other parameter of `path?query` and jump to `anchor` (the
/// list's id, so that the reader lands on the list, not the page top). A
/// page past the end shows the last one.
pub fn paginate<T>(rows: Vec<T>, q: &Params, path: &str, anchor: &str) -> (Vec<T>, Pager) {
    paginate_as(rows, q, path, anchor, "page")
}

/// The same for a second list on one page, whose page number is the query
/// parameter `key` (the whitelist's loans: `loans_page`), so that turning
/// one list's pages keeps the other where it was.
pub fn paginate_as<T>(
    rows: Vec<T>,
    q: &Params,
    path: &str,
    anchor: &str,
    key: &str,
) -> (Vec<T>, Pager) {
    let per = match number(q, "per") {
        Some(p @ (20 | 50 | 100)) => p,
        Some(p) if p > 0 => p.min(MAX_PER_PAGE),
        _ => PER_PAGE,
    };
    let total = rows.len();
    let pages = total.div_ceil(per).max(1);
    let page = number(q, key).unwrap_or(1).clamp(1, pages);
    let start = (page - 1) * per;
    let shown: Vec<T> = rows.into_iter().skip(start).take(per).collect();
    let mut keep: Vec<(&String, &String)> =
        q.0.iter()
            .filter(|(k, _)| k.as_str() != key && k.as_str() != "format")
            .collect();
    keep.sort();
    let base: String = keep
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}&",
                percent_encoding::utf8_percent_encode(k, percent_encoding::NON_ALPHANUMERIC),
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect();
    let href = |p: usize| format!("{path}?{base}{key}={p}#{anchor}");
    let mut links = Vec::new();
    let mut last_shown = 0;
    for p in 1..=pages {
        // The first, the last and two on each side of the current page.
        if p == 1 || p == pages || p.abs_diff(page) <= 2 {
            if last_shown + 1 < p {
                links.push(("…".to_string(), String::new(), false));
            }
            links.push((p.to_string(), href(p), p == page));
            last_shown = p;
        }
    }
    let pager = Pager {
        page,
        pages,
        total,
        first: if total == 0 { 0 } else { start + 1 },
        last: start + shown.len(),
        prev: if page > 1 {
            href(page - 1)
        } else {
            String::new()
        },
        next: if page < pages {
            href(page + 1)
        } else {
            String::new()
        },
        links,
    };
    (shown, pager)
}

/// A value for a query string.
pub fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Whether `text` (a name, a code) matches what the reader typed in the
/// list's search box: every space-separated word is in it.
pub fn matches(typed: &str, text: &[&str]) -> bool {
    typed
        .split_whitespace()
        .all(|w| text.iter().any(|t| t.contains(w)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn q(pairs: &[(&str, &str)]) -> Params {
        axum::extract::Query(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>(),
        )
    }

    #[test]
    fn pages_keep_the_filters_and_never_run_past_the_end() {
        let rows: Vec<usize> = (1..=1979).collect();
        let (shown, p) = paginate(
            rows.clone(),
            &q(&[("area", "龙子湖区"), ("page", "3")]),
            "/x",
            "list",
        );
        assert_eq!(shown.first(), Some(&101));
        assert_eq!(shown.len(), 50);
        assert_eq!(
            (p.page, p.pages, p.total, p.first, p.last),
            (3, 40, 1979, 101, 150)
        );
        assert!(
            p.next.contains("page=4") && p.next.contains("area=%E9%BE%99"),
            "{}",
            p.next
        );
        assert!(p.next.ends_with("#list"));
        let (shown, p) = paginate(
            rows.clone(),
            &q(&[("page", "999"), ("per", "100")]),
            "/x",
            "l",
        );
        assert_eq!((p.page, shown.len(), p.last), (20, 79, 1979));
        assert!(p.next.is_empty());
        let (shown, p) = paginate(
            rows.clone(),
            &q(&[("page", "abc"), ("per", "100000")]),
            "/x",
            "l",
        );
        assert_eq!((p.page, shown.len()), (1, MAX_PER_PAGE));
        let (shown, p) = paginate(Vec::<u8>::new(), &q(&[]), "/x", "l");
        assert_eq!((shown.len(), p.pages, p.first, p.last), (0, 1, 0, 0));
        assert!(!p.several());
        // First, last, two around the current, gaps between.
        let (_, p) = paginate(rows, &q(&[("page", "10")]), "/x", "l");
        let labels: Vec<&str> = p.links.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(labels, ["1", "…", "8", "9", "10", "11", "12", "…", "40"]);
    }

    #[test]
    fn every_typed_word_must_match() {
        assert!(matches("华光 玻璃", &["蚌埠华光玻璃有限公司", "9134"]));
        assert!(matches("9134", &["蚌埠华光玻璃有限公司", "91340300"]));
        assert!(!matches("华光 钢铁", &["蚌埠华光玻璃有限公司"]));
        assert!(matches("", &["任何"]));
    }
}
