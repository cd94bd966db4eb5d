//! Rendered pages kept with the snapshot they show.
//!
//! A page such as the overview is a function of its snapshot and of who
//! looks at it; of the reader it shows only the menu (which follows from the
//! reader's rights), the name, the roles and the CSRF token. So the page is
//! rendered once per snapshot and menu, with markers where the name, roles
//! and token go, and each request only splices those in. A new snapshot has
//! a new serial number, so a change never serves an old page.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use askama::filters::{Html, escape};

use crate::account::Me;

/// Marks a per-reader value in a rendered page (a private-use character no
/// page text contains), followed by which one.
const MARK: char = '\u{E000}';

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Name,
    Roles,
    RolesShown,
    Csrf,
}

/// A page split around its per-reader values.
#[derive(Debug)]
pub struct Rendered {
    parts: Vec<Part>,
    len: usize,
}

impl Rendered {
    fn split(html: &str) -> Rendered {
        let mut parts = Vec::new();
        let mut rest = html;
        while let Some(i) = rest.find(MARK) {
            parts.push(Part::Text(rest[..i].to_string()));
            let after = &rest[i + MARK.len_utf8()..];
            let (part, skip) = match after.as_bytes().first() {
                Some(b'n') => (Part::Name, 1),
                Some(b'r') => (Part::Roles, 1),
                Some(b's') => (Part::RolesShown, 1),
                Some(b'c') => (Part::Csrf, 1),
                // Not one of ours: keep the character as it was.
                _ => (Part::Text(MARK.to_string()), 0),
            };
            parts.push(part);
            rest = &after[skip..];
        }
        parts.push(Part::Text(rest.to_string()));
        Rendered {
            len: html.len(),
            parts,
        }
    }

    /// The page for one reader.
    pub fn for_reader(&self, me: &Me) -> String {
        use std::fmt::Write;
        let mut out = String::with_capacity(self.len + 256);
        for p in &self.parts {
            // Escaped as the template escapes: the values sit in text and
            // in attribute values alike.
            let _ = match p {
                Part::Text(t) => {
                    out.push_str(t);
                    Ok(())
                }
                Part::Name => write!(out, "{}", esc(&me.name)),
                Part::Roles => write!(out, "{}", esc(&me.roles)),
                Part::RolesShown => write!(out, "{}", esc(&me.roles_shown)),
                Part::Csrf => write!(out, "{}", esc(&me.csrf)),
            };
        }
        out
    }
}

fn esc(s: &str) -> impl std::fmt::Display + '_ {
    match escape(s, Html) {
        Ok(v) => v,
        Err(never) => match never {},
    }
}

/// The reader's values replaced by markers, for rendering once.
pub fn marked(me: &Me) -> Me {
    Me {
        name: format!("{MARK}n"),
        roles: format!("{MARK}r"),
        roles_shown: format!("{MARK}s"),
        csrf: format!("{MARK}c"),
        ..me.clone()
    }
}

/// Which menu a reader sees: the reader-dependent part of a page besides
/// name, roles and token.
fn menu(me: &Me) -> u32 {
    [
        me.reports,
        me.reviews,
        me.board,
        me.business,
        me.market,
        me.whitelist,
        me.users,
        me.audit,
        me.records,
        me.coordinator,
    ]
    .iter()
    .enumerate()
    .fold(0, |acc, (i, b)| acc | (u32::from(*b) << i))
}

/// (snapshot serial, page, menu, the reader's part of the guide).
type Key = (u64, &'static str, u32, &'static str);

/// Rendered pages by (snapshot serial, page, menu). Bounded: past the limit
/// it starts again (a page renders in well under a millisecond).
#[derive(Default)]
pub struct PageCache {
    map: Mutex<HashMap<Key, Arc<Rendered>>>,
}

const MAX_PAGES: usize = 512;

impl PageCache {
    /// The page `page` of snapshot `serial` for `me`, rendering it with
    /// `render` (given the marked reader) on first use.
    pub fn page<E>(
        &self,
        serial: u64,
        page: &'static str,
        me: &Me,
        render: impl FnOnce(Me) -> Result<String, E>,
    ) -> Result<String, E> {
        let key = (serial, page, menu(me), me.guide);
        let hit = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let r = match hit {
            Some(r) => r,
            None => {
                let r = Arc::new(Rendered::split(&render(marked(me))?));
                let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
                if map.len() >= MAX_PAGES {
                    map.clear();
                }
                map.insert(key, r.clone());
                r
            }
        };
        Ok(r.for_reader(me))
    }
}

/// Bytes derived from a snapshot alone (the API's JSON), by serial and kind.
#[derive(Default)]
pub struct BytesCache {
    map: Mutex<HashMap<(u64, &'static str), axum::body::Bytes>>,
}

impl BytesCache {
    pub fn get_or<E>(
        &self,
        serial: u64,
        kind: &'static str,
        make: impl FnOnce() -> Result<Vec<u8>, E>,
    ) -> Result<axum::body::Bytes, E> {
        if let Some(b) = self
            .map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(serial, kind))
        {
            return Ok(b.clone());
        }
        let b = axum::body::Bytes::from(make()?);
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_PAGES {
            map.clear();
        }
        map.insert((serial, kind), b.clone());
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(name: &str, csrf: &str, coordinator: bool) -> Me {
        Me {
            name: name.into(),
            roles: "规划统筹".into(),
            roles_shown: "（规划统筹）".into(),
            guide: "coordinator",
            csrf: csrf.into(),
            reports: false,
            reviews: false,
            board: coordinator,
            business: true,
            market: true,
            whitelist: true,
            users: false,
            audit: false,
            records: coordinator,
            coordinator,
            menu: Vec::new(),
        }
    }

    #[test]
    fn readers_get_their_own_values_escaped_and_menus_apart() {
        let cache = PageCache::default();
        let render = |m: Me| -> Result<String, ()> {
            Ok(format!(
                "<p>{}</p><input value=\"{}\">{}<b>{}</b>",
                esc(&m.name),
                esc(&m.csrf),
                if m.coordinator { "统筹菜单" } else { "" },
                esc(&m.roles)
            ))
        };
        let a = cache
            .page(1, "overview", &me("张<三>", "tok\"1", true), render)
            .unwrap();
        assert_eq!(
            a,
            "<p>张&#60;三&#62;</p><input value=\"tok&#34;1\">统筹菜单<b>规划统筹</b>"
                .replace("&#60;", &esc("<").to_string())
                .replace("&#62;", &esc(">").to_string())
                .replace("&#34;", &esc("\"").to_string())
        );
        // The same menu is served from the cache with another reader's values.
        let b = cache
            .page(
                1,
                "overview",
                &me("李四", "t2", true),
                |_| -> Result<String, ()> { panic!("rendered twice") },
            )
            .unwrap();
        assert!(b.contains("李四") && b.contains("t2") && !b.contains("张"));
        // Another menu renders its own page; another snapshot too.
        let c = cache
            .page(1, "overview", &me("王五", "t3", false), render)
            .unwrap();
        assert!(!c.contains("统筹菜单") && c.contains("王五"));
        let d = cache
            .page(2, "overview", &me("李四", "t2", true), render)
            .unwrap();
        assert!(d.contains("统筹菜单"));
    }

    #[test]
    fn a_stray_marker_character_is_kept() {
        let r = Rendered::split("a\u{E000}xb\u{E000}");
        assert_eq!(r.for_reader(&me("n", "c", false)), "a\u{E000}xb\u{E000}");
    }
}
