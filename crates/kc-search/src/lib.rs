//! Chinese full-text search over the technology market's listings
//! (demands, achievements offered, experts).
//!
//! Text is indexed twice: as jieba words, with a dictionary of technical
//! terms added so that 磷酸铁锂, 石墨烯 or 碳化硅 stay whole, and as
//! character bigrams, so that a query still finds text the word splitter
//! cut differently. Words in a title weigh most, then words in the body,
//! then bigrams. The index lives in memory and is rebuilt from the
//! database at start-up and on demand; single listings are updated as they
//! are saved. Results carry highlights as plain text ranges: the web layer
//! escapes and marks them.

use std::sync::{Arc, LazyLock, Mutex, RwLock};

use jieba_rs::{Jieba, TokenizeMode};
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::tokenizer::{LowerCaser, NgramTokenizer, TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};

mod semantic;

pub use semantic::{DIMS, MIN_LISTINGS};
use semantic::{Slot, Vectors};

/// The technical terms kept whole (one per line, `#` comments).
pub const TECH_TERMS: &str = include_str!("../../../catalogue/tech-terms.txt");

/// Words never named as a shared word in a suggestion's reasons (company
/// suffixes, 合作, 技术 and the like): almost every listing has them, so
/// naming them hides the technical words a broker is looking for. They
/// still count in ranking, where BM25's idf already weighs them little.
pub const GENERIC_WORDS: &str = include_str!("../../../catalogue/generic-words.txt");

static GENERIC: LazyLock<std::collections::HashSet<&'static str>> = LazyLock::new(|| {
    GENERIC_WORDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// jieba with the technical terms, loaded once (the dictionary takes a
/// moment to read).
static JIEBA: LazyLock<Arc<Jieba>> = LazyLock::new(|| {
    let mut j = Jieba::new();
    for term in TECH_TERMS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        j.add_word(term, Some(100_000), None);
    }
    Arc::new(j)
});

/// The words of `text` as the index sees them: jieba's search mode, lower
/// case, without punctuation and spaces.
pub fn words(text: &str) -> Vec<String> {
    JIEBA
        .tokenize(text, TokenizeMode::Search, true)
        .into_iter()
        .map(|t| t.word.to_lowercase())
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect()
}

/// Words that deny what follows them ("没有隐裂", "不是表的问题").
const NEGATORS: &[&str] = &[
    "没有",
    "没",
    "无",
    "不",
    "未",
    "不是",
    "并非",
    "并不",
    "并没有",
    "无需",
    "不用",
    "不必",
    "非",
    "未曾",
    "排除",
    "不存在",
    "不要",
    "不需要",
    "不需",
    "没什么",
];

/// `text` with what it denies blanked out: after a negating word, up to
/// three words up to the next punctuation ("没有隐裂，但是功率掉了" keeps
/// only "但是功率掉了"). A listing that says what its problem is not should
/// not be matched on it. Words that merely begin with such a character
/// (无人机, 不锈钢, 未来) are jieba words of their own and are kept.
pub fn affirmed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut denied = 0usize;
    for t in JIEBA.tokenize(text, TokenizeMode::Default, true) {
        let w = t.word;
        if !w.chars().any(char::is_alphanumeric) {
            denied = 0;
            out.push_str(w);
            continue;
        }
        if NEGATORS.contains(&w) {
            denied = 3;
            out.push('，');
            continue;
        }
        if denied > 0 {
            if !matches!(w, "的" | "了" | "是" | "太" | "都" | "也") {
                denied -= 1;
            }
            out.push('，');
            continue;
        }
        out.push_str(w);
    }
    out
}

/// A tokenizer over the shared jieba.
#[derive(Clone)]
struct Words;

struct WordStream {
    tokens: Vec<Token>,
    at: usize,
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        self.at += 1;
        self.at <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.at - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at - 1]
    }
}

impl Tokenizer for Words {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        let tokens = JIEBA
            .tokenize(text, TokenizeMode::Search, true)
            .into_iter()
            .filter(|t| t.word.chars().any(char::is_alphanumeric))
            .enumerate()
            .map(|(i, t)| Token {
                offset_from: t.byte_start,
                offset_to: t.byte_end,
                position: i,
                text: t.word.to_lowercase(),
                position_length: 1,
            })
            .collect();
        WordStream { tokens, at: 0 }
    }
}

/// One listing as the index takes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// `demands`, `offers` or `experts`.
    pub kind: String,
    pub key: String,
    pub title: String,
    pub body: String,
    pub field: String,
    pub cluster: String,
    /// Area code; empty for the city's market.
    pub area: String,
    pub status: String,
    /// GB/T 22900 level, 0 when unknown.
    pub readiness: u64,
    /// Days since 1970-01-01 of publication, 0 when unknown.
    pub published: i64,
}

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    /// Empty: every kind.
    pub kinds: Vec<String>,
    pub field: Option<String>,
    pub cluster: Option<String>,
    pub area: Option<String>,
    pub status: Option<String>,
    /// Statuses left out (a broker never sees a demand still awaiting
    /// moderation).
    pub exclude_status: Vec<String>,
    pub min_readiness: Option<u64>,
    /// Publication day bounds (days since 1970-01-01), inclusive.
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub limit: usize,
}

/// Clauses of a boolean query.
type Clauses = Vec<(Occur, Box<dyn Query>)>;

/// A suggested listing and why: the words it shares with the listing
/// matched against, whether field and cluster agree, and how close the two
/// are in meaning (cosine in the semantic model, when there is one).
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub hit: Hit,
    pub terms: Vec<String>,
    pub same_field: bool,
    pub same_cluster: bool,
    pub similarity: Option<f32>,
}

/// How suggestions are ranked. [`SearchIndex::similar`] uses `Hybrid`;
/// the others are there to be measured against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matcher {
    /// Shared words and bigrams (BM25 in tantivy), field and cluster lift.
    Lexical,
    /// Nearness in the semantic model, field and cluster lift.
    Semantic,
    /// Both, added after the lexical score is scaled to the best one's.
    Hybrid,
}

/// The semantic model's state, for the match page and the API.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SemanticStatus {
    /// False: matching is lexical only (too few listings to learn from).
    pub enabled: bool,
    /// Listings the model was learned from.
    pub learned_from: usize,
    /// Terms (words and bigrams) it knows.
    pub terms: usize,
    /// Listings with a vector.
    pub vectors: usize,
}

/// Text with the parts that matched marked.
pub type Marked = Vec<(String, bool)>;

#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    pub kind: String,
    pub key: String,
    pub title: String,
    pub score: f32,
    pub title_marks: Marked,
    pub body_marks: Marked,
    pub field: String,
    pub cluster: String,
    pub area: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("请输入至少一个字或词（只有标点符号无法检索）")]
    Empty,
    #[error("检索词过长：最多 200 字")]
    TooLong,
    #[error("检索索引出错")]
    Index(#[from] tantivy::TantivyError),
}

#[derive(Clone, Copy)]
struct Fields {
    kind: Field,
    key: Field,
    id: Field,
    title: Field,
    body: Field,
    bigram: Field,
    field: Field,
    cluster: Field,
    area: Field,
    status: Field,
    readiness: Field,
    published: Field,
}

/// The index.
pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    /// The semantic model and the listings' vectors, kept in step with the
    /// full-text index by `rebuild`, `upsert` and `remove`.
    vectors: RwLock<Vectors>,
}

fn text_field(tokenizer: &str, stored: bool) -> TextOptions {
    let o = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    if stored { o.set_stored() } else { o }
}

impl SearchIndex {
    /// An empty index in memory.
    pub fn new() -> Result<SearchIndex, SearchError> {
        let mut b = Schema::builder();
        let f = Fields {
            kind: b.add_text_field("kind", STRING | STORED),
            key: b.add_text_field("key", STRING | STORED),
            id: b.add_text_field("id", STRING),
            title: b.add_text_field("title", text_field("words", true)),
            body: b.add_text_field("body", text_field("words", true)),
            bigram: b.add_text_field("bigram", text_field("bigram", false)),
            field: b.add_text_field("field", STRING | STORED),
            cluster: b.add_text_field("cluster", STRING | STORED),
            area: b.add_text_field("area", STRING | STORED),
            status: b.add_text_field("status", STRING | STORED),
            readiness: b.add_u64_field("readiness", INDEXED | FAST),
            published: b.add_i64_field("published", INDEXED | FAST),
        };
        let index = Index::create_in_ram(b.build());
        index
            .tokenizers()
            .register("words", TextAnalyzer::from(Words));
        let bigram =
            TextAnalyzer::builder(NgramTokenizer::new(2, 2, false).map_err(SearchError::Index)?)
                .filter(LowerCaser)
                .build();
        index.tokenizers().register("bigram", bigram);
        // One indexing thread: the machine's other core serves requests.
        let writer = index.writer_with_num_threads(1, 50_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            f,
            vectors: RwLock::new(Vectors::default()),
        })
    }

    fn document(&self, l: &Listing) -> TantivyDocument {
        let f = self.f;
        doc!(
            f.kind => l.kind.as_str(),
            f.key => l.key.as_str(),
            f.id => format!("{}/{}", l.kind, l.key),
            f.title => l.title.as_str(),
            f.body => l.body.as_str(),
            f.bigram => format!("{} {}", l.title, l.body),
            f.field => l.field.as_str(),
            f.cluster => l.cluster.as_str(),
            f.area => l.area.as_str(),
            f.status => l.status.as_str(),
            f.readiness => l.readiness,
            f.published => l.published,
        )
    }

    fn commit(&self, w: &mut IndexWriter) -> Result<(), SearchError> {
        w.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Replaces the whole index and relearns the semantic model from the
    /// listings; returns how many listings it holds.
    pub fn rebuild(
        &self,
        listings: impl IntoIterator<Item = Listing>,
    ) -> Result<usize, SearchError> {
        let mut w = self.writer.lock().expect("index writer lock");
        w.delete_all_documents()?;
        let mut texts = Vec::new();
        for l in listings {
            w.add_document(self.document(&l))?;
            texts.push(slot_of(l));
        }
        let n = texts.len();
        // Learned while the writer is held, so that a listing saved
        // meanwhile waits and is then embedded by the new model.
        let vectors = Vectors::learn(texts);
        self.commit(&mut w)?;
        *self.vectors.write().expect("vectors lock") = vectors;
        Ok(n)
    }

    /// Adds or replaces one listing (its vector from the current model).
    pub fn upsert(&self, l: &Listing) -> Result<(), SearchError> {
        let mut w = self.writer.lock().expect("index writer lock");
        w.delete_term(Term::from_field_text(
            self.f.id,
            &format!("{}/{}", l.kind, l.key),
        ));
        w.add_document(self.document(l))?;
        self.commit(&mut w)?;
        let (slot, text) = slot_of(l.clone());
        self.vectors.write().expect("vectors lock").put(slot, &text);
        Ok(())
    }

    pub fn remove(&self, kind: &str, key: &str) -> Result<(), SearchError> {
        let mut w = self.writer.lock().expect("index writer lock");
        w.delete_term(Term::from_field_text(self.f.id, &format!("{kind}/{key}")));
        self.commit(&mut w)?;
        self.vectors
            .write()
            .expect("vectors lock")
            .remove(kind, key);
        Ok(())
    }

    /// Whether matching has its semantic half, and what it was learned from.
    pub fn semantic_status(&self) -> SemanticStatus {
        let v = self.vectors.read().expect("vectors lock");
        match &v.model {
            Some(m) => SemanticStatus {
                enabled: true,
                learned_from: m.learned_from,
                terms: m.terms(),
                vectors: v.len(),
            },
            None => SemanticStatus::default(),
        }
    }

    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The text part of a query: words in the title (×3) and body (×1.5),
    /// bigrams (×0.5); any may match.
    fn text_query(&self, text: &str) -> Result<Clauses, SearchError> {
        let text = text.trim();
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::TooLong);
        }
        let terms = query_terms(text);
        if terms.words.is_empty() && terms.grams.is_empty() {
            return Err(SearchError::Empty);
        }
        let mut clauses = Vec::new();
        for w in &terms.words {
            clauses.push(term(self.f.title, w, 3.0));
            clauses.push(term(self.f.body, w, 1.5));
        }
        for g in &terms.grams {
            clauses.push(term(self.f.bigram, g, 0.5));
        }
        Ok(clauses)
    }

    fn filters(&self, q: &SearchQuery) -> Clauses {
        let exact = |field: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut out: Clauses = Vec::new();
        if !q.kinds.is_empty() {
            let any: Clauses = q
                .kinds
                .iter()
                .map(|k| (Occur::Should, exact(self.f.kind, k)))
                .collect();
            out.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        for (field, v) in [
            (self.f.field, &q.field),
            (self.f.cluster, &q.cluster),
            (self.f.area, &q.area),
            (self.f.status, &q.status),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                out.push((Occur::Must, exact(field, v)));
            }
        }
        for s in q.exclude_status.iter().filter(|s| !s.is_empty()) {
            out.push((Occur::MustNot, exact(self.f.status, s)));
        }
        if let Some(min) = q.min_readiness {
            out.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    std::ops::Bound::Included(Term::from_field_u64(self.f.readiness, min)),
                    std::ops::Bound::Unbounded,
                )),
            ));
        }
        if q.from.is_some() || q.to.is_some() {
            let bound = |d: Option<i64>| match d {
                Some(d) => std::ops::Bound::Included(Term::from_field_i64(self.f.published, d)),
                None => std::ops::Bound::Unbounded,
            };
            out.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(q.from), bound(q.to))),
            ));
        }
        out
    }

    /// Listings matching `q`, best first, with the total number of matches.
    pub fn search(&self, q: &SearchQuery) -> Result<(usize, Vec<Hit>), SearchError> {
        let text = BooleanQuery::new(self.text_query(&q.text)?);
        let mut clauses: Clauses = vec![(Occur::Must, Box::new(text.clone()))];
        clauses.extend(self.filters(q));
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let limit = q.limit.clamp(1, 1000);
        let (total, top) = searcher.search(
            &query,
            &(Count, TopDocs::with_limit(limit).order_by_score()),
        )?;
        let terms = query_terms(q.text.trim()).all();
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            let get = |field: Field| stored_text(&d, field);
            let title = get(self.f.title);
            let body = get(self.f.body);
            let body_ranges = match_ranges(&body, &terms);
            hits.push(Hit {
                kind: get(self.f.kind),
                key: get(self.f.key),
                title_marks: mark(&title, &match_ranges(&title, &terms), TITLE_CHARS),
                body_marks: if body_ranges.is_empty() {
                    Vec::new()
                } else {
                    mark(&body, &body_ranges, BODY_CHARS)
                },
                title,
                score,
                field: get(self.f.field),
                cluster: get(self.f.cluster),
                area: get(self.f.area),
            });
        }
        Ok((total, hits))
    }
}

impl SearchIndex {
    /// Listings of `kinds` that fit `l`, best first: its words (title words
    /// count double) against titles and bodies, bigrams for recall, and a
    /// lift for the same technical field and industry cluster. `l` itself
    /// is left out.
    ///
    /// Ranked by [`Matcher::Hybrid`]: shared words and nearness in meaning
    /// together.
    pub fn similar(
        &self,
        l: &Listing,
        kinds: &[&str],
        limit: usize,
    ) -> Result<Vec<Suggestion>, SearchError> {
        self.similar_by(l, kinds, limit, Matcher::Hybrid)
    }

    /// Suggestions ranked by `how`. Without a semantic model, or when the
    /// model knows none of the listing's words, every matcher is lexical.
    ///
    /// Hybrid: each candidate's score is its cosine in the semantic model,
    /// plus its lexical score divided by the best lexical score (so both
    /// lie in 0..1 whatever the query's length), plus a lift for the same
    /// field and cluster. Candidates are the best `POOL` of each list; a
    /// listing found by one list is scored by both.
    pub fn similar_by(
        &self,
        l: &Listing,
        kinds: &[&str],
        limit: usize,
        how: Matcher,
    ) -> Result<Vec<Suggestion>, SearchError> {
        let limit = limit.clamp(1, 100);
        let vectors = self.vectors.read().expect("vectors lock");
        let q = match how {
            Matcher::Lexical => None,
            _ => vectors
                .model
                .as_ref()
                .and_then(|m| m.embed(&format!("{} {}", l.title, l.body))),
        };
        let Some(q) = q else {
            drop(vectors);
            return Ok(self
                .similar_words(l, kinds, limit)?
                .into_iter()
                .map(|(s, _)| s)
                .collect());
        };
        // The listing's own words, computed once: the lexical pool queries
        // by them and the suggestions shown name the shared ones.
        let own = own_words(l);
        let lexical = match how {
            Matcher::Hybrid => match self.lexical_pool(l, &own, kinds, POOL) {
                Ok(found) => found,
                Err(SearchError::Empty) => Vec::new(),
                Err(e) => return Err(e),
            },
            _ => Vec::new(),
        };
        let best_lexical = lexical
            .iter()
            .map(|(score, _)| *score)
            .fold(f32::EPSILON, f32::max);
        let lift = |field: &str, cluster: &str| {
            let same = |a: &str, b: &str| !a.is_empty() && a == b;
            f32::from(u8::from(same(field, &l.field))) * FIELD_LIFT
                + f32::from(u8::from(same(cluster, &l.cluster))) * CLUSTER_LIFT
        };
        // (score, cosine, slot)
        let mut ranked: Vec<(f32, f32, Slot)> = Vec::new();
        for (lexical, slot) in lexical {
            let cos = vectors
                .get(&slot.kind, &slot.key)
                .map_or(0.0, |v| semantic::dot(&q, v));
            let score =
                cos + LEXICAL_WEIGHT * lexical / best_lexical + lift(&slot.field, &slot.cluster);
            ranked.push((score, cos, slot));
        }
        for (cos, slot) in vectors.nearest(&q, kinds, (&l.kind, &l.key), POOL) {
            if ranked
                .iter()
                .any(|r| r.2.kind == slot.kind && r.2.key == slot.key)
            {
                continue;
            }
            ranked.push((cos + lift(&slot.field, &slot.cluster), cos, slot.clone()));
        }
        drop(vectors);
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.2.key.cmp(&b.2.key)));
        ranked.truncate(limit);
        // Only the suggestions shown are read in full, with their words.
        let searcher = self.reader.searcher();
        let mut out = Vec::with_capacity(ranked.len());
        for (score, cos, slot) in ranked {
            let id = TermQuery::new(
                Term::from_field_text(self.f.id, &format!("{}/{}", slot.kind, slot.key)),
                IndexRecordOption::Basic,
            );
            let top = searcher.search(&id, &TopDocs::with_limit(1).order_by_score())?;
            let Some(&(_, addr)) = top.first() else {
                continue;
            };
            let (mut s, _) = self.suggestion(&searcher.doc(addr)?, score, &own, l);
            s.similarity = Some(cos);
            out.push(s);
        }
        Ok(out)
    }

    /// Listings of the same kind that look like `l` posted again: the same
    /// title once spaces and punctuation are ignored, or at least 80% of
    /// their words (two characters or more, title and body) shared
    /// (Jaccard). Flags, not refusals: two enterprises may well pose the
    /// same problem.
    pub fn duplicates(&self, l: &Listing) -> Result<Vec<Hit>, SearchError> {
        let norm = |s: &str| {
            s.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
                .to_lowercase()
        };
        let own: std::collections::HashSet<String> = words(&format!("{} {}", l.title, l.body))
            .into_iter()
            .filter(|w| w.chars().count() > 1)
            .collect();
        let found = match self.similar_words(l, &[l.kind.as_str()], 5) {
            Ok(f) => f,
            Err(SearchError::Empty) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(found
            .into_iter()
            .filter(|(s, theirs)| {
                let theirs: std::collections::HashSet<&String> =
                    theirs.iter().filter(|w| w.chars().count() > 1).collect();
                let shared = own.iter().filter(|w| theirs.contains(w)).count();
                let union = own.len() + theirs.len() - shared;
                (!l.title.trim().is_empty() && norm(&s.hit.title) == norm(&l.title))
                    || (union > 0 && shared as f64 / union as f64 >= 0.8)
            })
            .map(|(s, _)| s.hit)
            .collect())
    }

    fn similar_words(
        &self,
        l: &Listing,
        kinds: &[&str],
        limit: usize,
    ) -> Result<Vec<(Suggestion, Vec<String>)>, SearchError> {
        let own = own_words(l);
        let query = self.lexical_query(l, &own, kinds)?;
        let searcher = self.reader.searcher();
        let top = searcher.search(
            &query,
            &TopDocs::with_limit(limit.clamp(1, 100)).order_by_score(),
        )?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            out.push(self.suggestion(&searcher.doc(addr)?, score, &own, l));
        }
        Ok(out)
    }

    /// The best `limit` lexical candidates for `l`, with only what hybrid
    /// ranking needs (no words computed, which is most of a suggestion's
    /// cost).
    fn lexical_pool(
        &self,
        l: &Listing,
        own: &[String],
        kinds: &[&str],
        limit: usize,
    ) -> Result<Vec<(f32, Slot)>, SearchError> {
        let query = self.lexical_query(l, own, kinds)?;
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score())?;
        let f = self.f;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            let get = |field: Field| stored_text(&d, field);
            out.push((
                score,
                Slot {
                    kind: get(f.kind),
                    key: get(f.key),
                    field: get(f.field),
                    cluster: get(f.cluster),
                },
            ));
        }
        Ok(out)
    }

    /// The lexical query for `l`: its affirmed words `own` (from
    /// [`own_words`]; title words doubled) and bigrams, field and cluster
    /// lifts, only `kinds`, never `l` itself.
    fn lexical_query(
        &self,
        l: &Listing,
        own: &[String],
        kinds: &[&str],
    ) -> Result<BooleanQuery, SearchError> {
        let f = self.f;
        // What the listing denies is not matched on (affirmed).
        let all = affirmed(&format!("{} {}", l.title, l.body));
        if own.is_empty() {
            return Err(SearchError::Empty);
        }
        let title_words = words(&affirmed(&l.title));
        let mut text: Clauses = Vec::new();
        for w in own {
            let k = if title_words.contains(w) { 2.0 } else { 1.0 };
            text.push(term(f.title, w, WORD_TITLE * k));
            text.push(term(f.body, w, WORD_BODY * k));
        }
        // Character bigrams too, as search has: they find text that jieba
        // cut differently, and single-character words (表, 刀, 锈) in pairs.
        let mut grams: Vec<String> = bigrams(&all)
            .map(|(_, _, g)| g)
            .filter(|g| g.chars().all(char::is_alphanumeric))
            .collect();
        grams.sort();
        grams.dedup();
        for g in &grams {
            text.push(term(f.bigram, g, BIGRAM));
        }
        let text = BooleanQuery::new(text);
        let mut clauses: Clauses = vec![(Occur::Must, Box::new(text.clone()))];
        if !l.field.is_empty() {
            clauses.push(term(f.field, &l.field, SAME_FIELD));
        }
        if !l.cluster.is_empty() {
            clauses.push(term(f.cluster, &l.cluster, SAME_CLUSTER));
        }
        let kinds: Clauses = kinds
            .iter()
            .map(|k| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(f.kind, k),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect();
        clauses.push((Occur::Must, Box::new(BooleanQuery::new(kinds))));
        clauses.push((
            Occur::MustNot,
            Box::new(TermQuery::new(
                Term::from_field_text(f.id, &format!("{}/{}", l.kind, l.key)),
                IndexRecordOption::Basic,
            )),
        ));
        Ok(BooleanQuery::new(clauses))
    }

    /// A stored listing as a suggestion for `l`, with the words it shares
    /// with `own` (`l`'s words), and all its words.
    fn suggestion(
        &self,
        d: &TantivyDocument,
        score: f32,
        own: &[String],
        l: &Listing,
    ) -> (Suggestion, Vec<String>) {
        let f = self.f;
        let get = |field: Field| stored_text(d, field);
        let (title, body) = (get(f.title), get(f.body));
        let theirs = words(&format!("{title} {body}"));
        let terms: Vec<String> = own
            .iter()
            .filter(|w| !GENERIC.contains(String::as_str(w)) && theirs.contains(w))
            .cloned()
            .collect();
        let field = get(f.field);
        let cluster = get(f.cluster);
        (
            Suggestion {
                same_field: !field.is_empty() && field == l.field,
                same_cluster: !cluster.is_empty() && cluster == l.cluster,
                terms,
                similarity: None,
                hit: Hit {
                    kind: get(f.kind),
                    key: get(f.key),
                    title_marks: vec![(title.clone(), false)],
                    body_marks: Vec::new(),
                    title,
                    score,
                    field,
                    cluster,
                    area: get(f.area),
                },
            },
            theirs,
        )
    }
}

/// The words of a listing matched on: what it affirms, two characters or
/// more, each once.
fn own_words(l: &Listing) -> Vec<String> {
    let mut own: Vec<String> = words(&affirmed(&format!("{} {}", l.title, l.body)))
        .into_iter()
        .filter(|w| w.chars().count() > 1)
        .collect();
    own.sort();
    own.dedup();
    own
}

/// A listing as the semantic model takes it: where its vector belongs, and
/// its text.
fn slot_of(l: Listing) -> (Slot, String) {
    (
        Slot {
            kind: l.kind,
            key: l.key,
            field: l.field,
            cluster: l.cluster,
        },
        format!("{} {}", l.title, l.body),
    )
}

/// An optional clause: `t` in `field`, weighted by `boost`.
fn term(field: Field, t: &str, boost: f32) -> (Occur, Box<dyn Query>) {
    let q = TermQuery::new(
        Term::from_field_text(field, t),
        IndexRecordOption::WithFreqs,
    );
    (Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost)))
}

/// A stored text field of a document ("" when absent).
fn stored_text(d: &TantivyDocument, field: Field) -> String {
    d.get_first(field)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

// ---- highlights ---------------------------------------------------------------------
//
// Highlights are computed here, not by tantivy's snippets: jieba's search
// mode yields overlapping words (传感器 → 传感, 感器, 传感器) and bigrams
// overlap by construction, and overlapping ranges broke the snippet's
// slicing (a panic on 新能源) and repeated text (传感感器传感器). Ranges
// here are found on the text's own tokens, merged until none overlap or
// touch, and cut only where the text has a character boundary.

// The weights of matching (`similar`), measured on the labelled sets
// (tests/matching.rs, docs/benchmarks.md): a shared word in a title, in a
// body, a shared character bigram, the same technical field and cluster.
const WORD_TITLE: f32 = 2.0;
const WORD_BODY: f32 = 1.0;
const BIGRAM: f32 = 1.0;
const SAME_FIELD: f32 = 1.5;
const SAME_CLUSTER: f32 = 0.5;
// Hybrid matching (`similar_by`): candidates taken from each list, the
// weight of the scaled lexical score beside the cosine, and the lift for
// the same field and cluster. Chosen on the labelled set's even-numbered
// demands and reported on the odd ones too (docs/benchmarks.md). The
// lexical weight is small but not zero: on that set it costs 0.004 of MRR,
// but the model knows only the words of its last rebuild, and a listing
// saved since, or a model number, is found by the lexical half alone.
const POOL: usize = 100;
const LEXICAL_WEIGHT: f32 = 0.1;
const FIELD_LIFT: f32 = 0.3;
const CLUSTER_LIFT: f32 = 0.05;

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Characters of a title shown with its highlights.
const TITLE_CHARS: usize = 200;
/// Characters of a body shown around its highlights.
const BODY_CHARS: usize = 120;
/// Characters shown before the first highlight of a cut body.
const BODY_LEAD: usize = 10;

/// A query's terms as the index matches them: jieba words and character
/// bigrams, in lower case, each once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryTerms {
    pub words: Vec<String>,
    /// Pairs of neighbouring characters, both letters or digits.
    pub grams: Vec<String>,
}

impl QueryTerms {
    /// Words and bigrams together, for [`match_ranges`].
    pub fn all(&self) -> std::collections::HashSet<String> {
        self.words.iter().chain(&self.grams).cloned().collect()
    }
}

/// The terms of a query (the caller trims and limits its length).
pub fn query_terms(text: &str) -> QueryTerms {
    let mut words = words(text);
    words.sort();
    words.dedup();
    let mut grams: Vec<String> = Vec::new();
    for (_, _, g) in bigrams(text) {
        if g.chars().all(char::is_alphanumeric) && !grams.contains(&g) {
            grams.push(g);
        }
    }
    QueryTerms { words, grams }
}

/// Every pair of neighbouring characters of `text` with its byte range,
/// lower case (as the index's bigram field holds them).
fn bigrams(text: &str) -> impl Iterator<Item = (usize, usize, String)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, a) = chars.next()?;
        let &(at_b, b) = chars.peek()?;
        let gram: String = [a, b].iter().flat_map(|c| c.to_lowercase()).collect();
        Some((start, at_b + b.len_utf8(), gram))
    })
}

/// Where `terms` occur in `text`: the byte ranges of the text's own words
/// and bigrams that are terms, merged so that no two overlap or touch,
/// sorted, every bound on a character boundary.
pub fn match_ranges(
    text: &str,
    terms: &std::collections::HashSet<String>,
) -> Vec<std::ops::Range<usize>> {
    if terms.is_empty() || text.is_empty() {
        return Vec::new();
    }
    let mut found: Vec<std::ops::Range<usize>> = Vec::new();
    for t in JIEBA.tokenize(text, TokenizeMode::Search, true) {
        if t.byte_start < t.byte_end && terms.contains(&t.word.to_lowercase()) {
            found.push(t.byte_start..t.byte_end);
        }
    }
    for (start, end, gram) in bigrams(text) {
        if terms.contains(&gram) {
            found.push(start..end);
        }
    }
    // Defensive: a range the text cannot be cut at is dropped, never sliced.
    found.retain(|r| r.end <= text.len() && text.get(r.clone()).is_some());
    found.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(found.len());
    for r in found {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// `text` as (part, highlighted) pieces, given the ranges of
/// [`match_ranges`]. A text of at most `max_chars` characters comes back
/// whole; a longer one as the window of `max_chars` characters holding the
/// most highlighted characters (a few characters before the first); a
/// highlight the window cuts is left plain. The pieces joined are exactly
/// that window of the text.
pub fn mark(text: &str, ranges: &[std::ops::Range<usize>], max_chars: usize) -> Marked {
    if text.is_empty() {
        return Vec::new();
    }
    let window = window(text, ranges, max_chars);
    let mut out: Marked = Vec::new();
    let mut push = |part: &str, hit: bool| {
        if part.is_empty() {
            return;
        }
        match out.last_mut() {
            Some((last, h)) if *h == hit => last.push_str(part),
            _ => out.push((part.to_string(), hit)),
        }
    };
    let mut at = window.start;
    for r in ranges {
        // A highlight the window cuts is shown as plain text: a part of a
        // word is not what was searched for.
        let (start, end) = (r.start, r.end);
        if start < at || end > window.end {
            continue;
        }
        if let (Some(before), Some(hit)) = (text.get(at..start), text.get(start..end)) {
            push(before, false);
            push(hit, true);
            at = end;
        }
    }
    if let Some(rest) = text.get(at..window.end) {
        push(rest, false);
    }
    out
}

/// The byte range of the window [`mark`] shows.
fn window(
    text: &str,
    ranges: &[std::ops::Range<usize>],
    max_chars: usize,
) -> std::ops::Range<usize> {
    // Byte offset of every character, and the end.
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let n = bounds.len() - 1;
    if n <= max_chars {
        return 0..text.len();
    }
    let char_at = |byte: usize| bounds.partition_point(|&b| b < byte);
    let spans: Vec<(usize, usize)> = ranges
        .iter()
        .map(|r| (char_at(r.start), char_at(r.end)))
        .collect();
    let mut best = (0usize, 0usize); // (highlighted characters, first character)
    for &(s, _) in &spans {
        let from = s.saturating_sub(BODY_LEAD).min(n - max_chars);
        let to = from + max_chars;
        let shown: usize = spans
            .iter()
            .skip_while(|(_, e)| *e <= from)
            .take_while(|(s, _)| *s < to)
            .map(|(s, e)| (*e).min(to) - (*s).max(from))
            .sum();
        if shown > best.0 {
            best = (shown, from);
        }
        if spans.len() > 64 && shown > 0 {
            // Many matches: the first good window is good enough.
            break;
        }
    }
    let from = best.1;
    bounds[from]..bounds[from + max_chars]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fewer listings than the model needs: matching is lexical, says so,
    /// and still finds what shares words. With enough, the model is on, a
    /// saved listing gets its vector at once and a removed one loses it.
    #[test]
    fn semantic_half_follows_the_listings() {
        let ix = SearchIndex::new().unwrap();
        let few: Vec<Listing> = (0..MIN_LISTINGS - 1)
            .map(|i| {
                listing(
                    "offers",
                    &format!("A{i}"),
                    &format!("第{i}号储能电池热管理"),
                    "液冷板均温",
                    "新能源与节能",
                )
            })
            .collect();
        ix.rebuild(few.clone()).unwrap();
        assert!(!ix.semantic_status().enabled);
        let d = listing("demands", "D", "储能电池热管理", "", "新能源与节能");
        let found = ix.similar(&d, &["offers"], 5).unwrap();
        assert_eq!(found.len(), 5);
        assert!(found.iter().all(|s| s.similarity.is_none()));

        // The hard labelled set's achievements: a real vocabulary.
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/labelled/achievements.csv"
        );
        let many: Vec<Listing> = csv::Reader::from_path(path)
            .unwrap()
            .records()
            .map(|r| {
                let r = r.unwrap();
                listing("offers", &r[0], &r[1], &r[2], &r[5])
            })
            .collect();
        let n = many.len();
        ix.rebuild(many).unwrap();
        let st = ix.semantic_status();
        assert!(st.enabled && st.vectors == n && st.terms > DIMS, "{st:?}");
        // Words this market never uses: no vector, and no shared word.
        let none = listing("demands", "D", "齉龘", "", "");
        assert!(
            ix.similar(&none, &["offers"], 5)
                .map_or(true, |f| f.is_empty())
        );
        let d = listing(
            "demands",
            "D",
            "钛合金零件刀磨得太快",
            "一把刀干不了几件",
            "航空航天",
        );
        let found = ix.similar(&d, &["offers"], 5).unwrap();
        assert_eq!(found.len(), 5);
        assert!(found.iter().all(|s| s.similarity.is_some()));
        assert!(found.windows(2).all(|w| w[0].hit.score >= w[1].hit.score));
        ix.upsert(&listing("offers", "C", "新成果", "钛合金切削", ""))
            .unwrap();
        assert_eq!(ix.semantic_status().vectors, n + 1);
        ix.remove("offers", "C").unwrap();
        assert_eq!(ix.semantic_status().vectors, n);
    }

    fn listing(kind: &str, key: &str, title: &str, body: &str, field: &str) -> Listing {
        Listing {
            kind: kind.into(),
            key: key.into(),
            title: title.into(),
            body: body.into(),
            field: field.into(),
            cluster: "新能源".into(),
            status: "已发布".into(),
            readiness: 6,
            published: 20000,
            ..Listing::default()
        }
    }

    fn index() -> SearchIndex {
        let ix = SearchIndex::new().unwrap();
        ix.rebuild([
            listing(
                "demands",
                "D1",
                "磷酸铁锂正极材料低温性能提升",
                "寻求提高磷酸铁锂电池在零下二十度的放电容量的技术方案",
                "新能源与节能",
            ),
            listing(
                "offers",
                "O1",
                "高导热石墨烯散热膜",
                "石墨烯薄膜导热系数超过1500，可用于手机和显示模组散热",
                "新材料",
            ),
            listing(
                "offers",
                "O2",
                "碳化硅功率器件封装工艺",
                "面向新能源汽车电驱的碳化硅模块封装",
                "电子信息",
            ),
            listing(
                "experts",
                "E1",
                "张教授",
                "研究方向：锂离子电池正极材料、储能系统",
                "新能源与节能",
            ),
        ])
        .unwrap();
        ix
    }

    #[test]
    fn denied_words_are_not_matched_on() {
        let a = affirmed("组件没有隐裂，但是功率掉了一成多");
        assert!(!a.contains("隐裂") && a.contains("功率掉了"), "{a}");
        let a = affirmed("不是隐裂的问题，是热斑");
        assert!(!a.contains("隐裂") && a.contains("热斑"), "{a}");
        // Words that only begin with a negating character stay.
        for kept in ["无人机巡检", "不锈钢管道", "无损检测", "未来三年"] {
            assert_eq!(affirmed(kept), kept);
        }
        // A denied word said plainly elsewhere is still there.
        let a = affirmed("隐裂检测设备，不要人工");
        assert!(a.contains("隐裂检测") && !a.contains("人工"), "{a}");
    }

    #[test]
    fn generic_words_are_not_named_as_shared() {
        let ix = index();
        ix.upsert(&listing(
            "offers",
            "O3",
            "磷酸铁锂低温改性技术",
            "安徽某材料科技有限公司提供合作，提升磷酸铁锂低温放电容量",
            "新能源与节能",
        ))
        .unwrap();
        let found = ix
            .similar_by(
                &listing(
                    "demands",
                    "D9",
                    "磷酸铁锂低温性能",
                    "蚌埠某电池科技有限公司寻求技术合作，提升磷酸铁锂电池低温性能",
                    "新能源与节能",
                ),
                &["offers"],
                10,
                Matcher::Lexical,
            )
            .unwrap();
        let o3 = found.iter().find(|s| s.hit.key == "O3").expect("O3 found");
        assert!(o3.terms.contains(&"磷酸铁锂".to_string()), "{:?}", o3.terms);
        for generic in ["有限公司", "合作", "科技", "提升", "技术"] {
            assert!(!o3.terms.contains(&generic.to_string()), "{:?}", o3.terms);
        }
    }

    #[test]
    fn technical_terms_stay_whole() {
        for term in ["磷酸铁锂", "石墨烯", "碳化硅"] {
            assert!(
                words(&format!("关于{term}的应用")).contains(&term.to_string()),
                "{term}"
            );
        }
    }

    #[test]
    fn finds_by_words_and_bigrams_with_highlights() {
        let ix = index();
        let q = |text: &str| SearchQuery {
            text: text.into(),
            limit: 10,
            ..SearchQuery::default()
        };
        let (n, hits) = ix.search(&q("磷酸铁锂")).unwrap();
        assert_eq!(n, 1);
        assert_eq!(hits[0].key, "D1");
        assert!(
            hits[0]
                .title_marks
                .iter()
                .any(|(t, m)| *m && t == "磷酸铁锂"),
            "{:?}",
            hits[0].title_marks
        );
        // A word the splitter cuts differently is still found through bigrams.
        let (_, hits) = ix.search(&q("铁锂")).unwrap();
        assert_eq!(hits.first().map(|h| h.key.as_str()), Some("D1"));
        // A single character works too.
        assert!(ix.search(&q("膜")).unwrap().0 >= 1);
        // Titles weigh more than bodies: the graphene offer ranks first.
        let (_, hits) = ix.search(&q("石墨烯 散热")).unwrap();
        assert_eq!(hits[0].key, "O1");
    }

    #[test]
    fn filters_narrow_the_results() {
        let ix = index();
        let base = SearchQuery {
            text: "材料".into(),
            limit: 10,
            ..SearchQuery::default()
        };
        let all = ix.search(&base).unwrap().0;
        assert!(all >= 2);
        let experts = SearchQuery {
            kinds: vec!["experts".into()],
            ..base.clone()
        };
        let (n, hits) = ix.search(&experts).unwrap();
        assert_eq!((n, hits[0].key.as_str()), (1, "E1"));
        let field = SearchQuery {
            field: Some("新能源与节能".into()),
            ..base.clone()
        };
        assert_eq!(ix.search(&field).unwrap().0, 2);
        let other = SearchQuery {
            field: Some("新材料".into()),
            ..base.clone()
        };
        assert_eq!(ix.search(&other).unwrap().0, 0);
        let mature = SearchQuery {
            min_readiness: Some(7),
            ..base.clone()
        };
        assert_eq!(ix.search(&mature).unwrap().0, 0);
        let later = SearchQuery {
            from: Some(20001),
            ..base
        };
        assert_eq!(ix.search(&later).unwrap().0, 0);
    }

    #[test]
    fn updates_and_bad_queries() {
        let ix = index();
        let q = SearchQuery {
            text: "钙钛矿".into(),
            limit: 10,
            ..SearchQuery::default()
        };
        assert_eq!(ix.search(&q).unwrap().0, 0);
        ix.upsert(&listing(
            "offers",
            "O3",
            "钙钛矿光伏组件",
            "效率超过百分之二十五",
            "新能源与节能",
        ))
        .unwrap();
        assert_eq!(ix.search(&q).unwrap().0, 1);
        ix.upsert(&listing(
            "offers",
            "O3",
            "钙钛矿叠层电池",
            "",
            "新能源与节能",
        ))
        .unwrap();
        assert_eq!(ix.len(), 5, "replaced, not added");
        ix.remove("offers", "O3").unwrap();
        assert_eq!(ix.search(&q).unwrap().0, 0);
        for bad in ["", "   ", "，。！？", "<>()"] {
            let q = SearchQuery {
                text: bad.into(),
                limit: 10,
                ..SearchQuery::default()
            };
            assert!(matches!(ix.search(&q), Err(SearchError::Empty)), "{bad:?}");
        }
        let long = SearchQuery {
            text: "字".repeat(201),
            limit: 10,
            ..SearchQuery::default()
        };
        assert!(matches!(ix.search(&long), Err(SearchError::TooLong)));
    }

    #[test]
    fn duplicates_are_flagged_by_title_or_shared_words() {
        let ix = index();
        // The same title with other spacing and punctuation.
        let again = listing(
            "demands",
            "D9",
            "磷酸铁锂 正极材料、低温性能提升！",
            "另一家企业的描述",
            "新能源与节能",
        );
        let d = ix.duplicates(&again).unwrap();
        assert_eq!(d.iter().map(|h| h.key.as_str()).collect::<Vec<_>>(), ["D1"]);
        // Almost all words shared, title reworded.
        let reworded = listing(
            "demands",
            "D8",
            "提升磷酸铁锂正极材料低温性能",
            "寻求提高磷酸铁锂电池在零下二十度的放电容量的技术方案",
            "新能源与节能",
        );
        assert_eq!(ix.duplicates(&reworded).unwrap().len(), 1);
        // A related but different demand, or another kind, is not flagged.
        let related = listing(
            "demands",
            "D7",
            "磷酸铁锂回收工艺",
            "废旧电池中锂的湿法回收",
            "新能源与节能",
        );
        assert!(ix.duplicates(&related).unwrap().is_empty());
        let offer = listing("offers", "O9", "高导热石墨烯散热膜", "", "新材料");
        assert_eq!(ix.duplicates(&offer).unwrap()[0].key, "O1");
        // A listing is never its own duplicate, and punctuation alone
        // finds nothing rather than failing.
        let own = listing("demands", "D1", "磷酸铁锂正极材料低温性能提升", "", "");
        assert!(ix.duplicates(&own).unwrap().is_empty());
        assert!(
            ix.duplicates(&listing("demands", "D6", "！？", "", ""))
                .unwrap()
                .is_empty()
        );
    }
}
