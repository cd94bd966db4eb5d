//! The semantic half of matching: a latent semantic model learned from the
//! market's own listings (LSA, latent semantic analysis).
//!
//! Why this and not a pretrained neural model: the bureau's servers have no
//! route to a model hub, and no Chinese text-embedding model is published
//! on a package registry the build can reach (see docs/benchmarks.md). A
//! model learned from the listings needs nothing from outside, learns the
//! market's own vocabulary, and is relearned whenever the index is rebuilt.
//!
//! How: every listing is a TF-IDF vector over its jieba words, character
//! bigrams and single characters (sublinear term frequency, unit length). A truncated SVD of the
//! listings × terms matrix, computed with a randomised range finder
//! (Halko, Martinsson & Tropp 2011), gives `DIMS` directions in which words
//! that occur in the same listings lie close together: 刀具, 磨损 and 切削
//! end up near each other even where a demand uses only one of them. A text
//! is embedded by projecting its TF-IDF vector on those directions
//! ("folding in"), so a listing saved after the model was learned gets its
//! vector at once; words the model has never seen count only after the next
//! rebuild.

use std::collections::HashMap;

use nalgebra::{DMatrix, SymmetricEigen};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Dimensions of the latent space. Chosen on the labelled set's even-
/// numbered demands (docs/benchmarks.md): 128 over 96 by 0.02 of MRR there;
/// the held-out half does not tell them apart.
pub const DIMS: usize = 128;

/// With fewer listings than this the model would only echo word overlap:
/// matching is then lexical only, and the match page says so.
pub const MIN_LISTINGS: usize = 50;

/// Terms kept: those in at least two listings, the most frequent first.
/// Bounds the model's memory (`MAX_TERMS × DIMS` floats) at any scale.
const MAX_TERMS: usize = 60_000;

/// Listings the SVD is learned from; the rest are folded in. Bounds the
/// rebuild's time at province and nation scale.
const LEARN_SAMPLE: usize = 20_000;

/// Extra directions sampled and power iterations run by the range finder;
/// the usual values for an accurate leading subspace.
const OVERSAMPLE: usize = 16;
const POWER_ITERATIONS: usize = 2;

/// The features of a text: what it affirms (a denied word is no feature),
/// as jieba words, character bigrams and single characters, lower case.
/// Single characters matter here as they do not in the full-text index: a
/// symptom told in plain words (刀磨得快, 晃几下) shares characters, not words,
/// with the technology's text, and co-occurrence links them from there.
fn features(text: &str) -> Vec<String> {
    let text = crate::affirmed(text);
    let mut out = crate::words(&text);
    out.extend(
        crate::bigrams(&text)
            .map(|(_, _, g)| g)
            .filter(|g| g.chars().all(char::is_alphanumeric)),
    );
    out.extend(
        text.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .map(String::from),
    );
    out
}

/// A sparse row: term index and weight, unit length.
type Row = Vec<(u32, f32)>;

/// The learned model.
pub struct Model {
    terms: HashMap<String, u32>,
    idf: Vec<f32>,
    /// `terms × DIMS`, row-major: a term's coordinates.
    proj: Vec<f32>,
    /// Listings the SVD was learned from.
    pub learned_from: usize,
}

impl Model {
    /// Learns a model from `texts` (one per listing); `None` when there are
    /// too few listings or too few shared terms to learn from.
    pub fn learn(texts: &[&str]) -> Option<Model> {
        if texts.len() < MIN_LISTINGS {
            return None;
        }
        // An even sample across the listings, in their given order, so the
        // same listings always give the same model.
        let step = texts.len().div_ceil(LEARN_SAMPLE);
        // Each feature is held once, as a number per occurrence: tens of
        // thousands of texts' features as strings would cost far more
        // memory than the model.
        let mut vocab: HashMap<String, u32> = HashMap::new();
        let sample: Vec<Vec<u32>> = texts
            .iter()
            .step_by(step)
            .map(|t| {
                features(t)
                    .into_iter()
                    .map(|f| {
                        let next = vocab.len() as u32;
                        *vocab.entry(f).or_insert(next)
                    })
                    .collect()
            })
            .collect();
        let mut df = vec![0u32; vocab.len()];
        for doc in &sample {
            let mut seen = doc.clone();
            seen.sort_unstable();
            seen.dedup();
            for t in seen {
                df[t as usize] += 1;
            }
        }
        let mut kept: Vec<(String, u32)> = vocab
            .into_iter()
            .filter(|&(_, id)| df[id as usize] >= 2)
            .collect();
        kept.sort_unstable_by(|a, b| {
            df[b.1 as usize]
                .cmp(&df[a.1 as usize])
                .then_with(|| a.0.cmp(&b.0))
        });
        kept.truncate(MAX_TERMS);
        if kept.len() < DIMS + OVERSAMPLE {
            return None;
        }
        let n = sample.len() as f32;
        // Smoothed inverse document frequency, as scikit-learn's TF-IDF.
        let idf: Vec<f32> = kept
            .iter()
            .map(|&(_, id)| ((1.0 + n) / (1.0 + df[id as usize] as f32)).ln() + 1.0)
            .collect();
        let mut renumber = vec![u32::MAX; df.len()];
        for (new, (_, old)) in kept.iter().enumerate() {
            renumber[*old as usize] = new as u32;
        }
        let terms_n = kept.len();
        let terms: HashMap<String, u32> = kept
            .into_iter()
            .map(|(t, old)| (t, renumber[old as usize]))
            .collect();
        let mut model = Model {
            terms,
            idf,
            proj: Vec::new(),
            learned_from: sample.len(),
        };
        let rows: Vec<Row> = sample
            .iter()
            .map(|doc| model.weigh(doc.iter().map(|&t| renumber[t as usize])))
            .collect();
        drop(sample);
        model.proj = truncated_svd(&rows, terms_n, DIMS)?;
        Some(model)
    }

    /// The TF-IDF row of a text's features.
    fn row(&self, features: &[String]) -> Row {
        self.weigh(features.iter().filter_map(|f| self.terms.get(f).copied()))
    }

    /// The TF-IDF row of term numbers (`u32::MAX`: a term not kept).
    fn weigh(&self, terms: impl Iterator<Item = u32>) -> Row {
        let mut tf: HashMap<u32, f32> = HashMap::new();
        for i in terms.filter(|&i| i != u32::MAX) {
            *tf.entry(i).or_insert(0.0) += 1.0;
        }
        let mut row: Row = tf
            .into_iter()
            .map(|(i, c)| (i, (1.0 + c.ln()) * self.idf[i as usize]))
            .collect();
        row.sort_unstable_by_key(|&(i, _)| i);
        let norm = row.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        for (_, w) in &mut row {
            *w /= norm;
        }
        row
    }

    /// The unit vector of `text` in the latent space; `None` when it has no
    /// term the model knows.
    pub fn embed(&self, text: &str) -> Option<Vec<f32>> {
        let row = self.row(&features(text));
        if row.is_empty() {
            return None;
        }
        let mut v = vec![0.0f32; DIMS];
        for (i, w) in row {
            let at = i as usize * DIMS;
            for (x, p) in v.iter_mut().zip(&self.proj[at..at + DIMS]) {
                *x += w * p;
            }
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm <= f32::EPSILON {
            return None;
        }
        v.iter_mut().for_each(|x| *x /= norm);
        Some(v)
    }

    /// Terms the model knows.
    pub fn terms(&self) -> usize {
        self.terms.len()
    }
}

/// `X · M` for sparse rows `X` (listings × terms) and dense `M` (terms × c).
fn times(rows: &[Row], m: &DMatrix<f32>) -> DMatrix<f32> {
    let c = m.ncols();
    // Mᵀ is column-major, so each of its columns — a row of M — is one
    // contiguous slice.
    let mt = m.transpose();
    let src = mt.as_slice();
    let mut out = vec![0.0f32; rows.len() * c];
    for (acc, row) in out.chunks_mut(c).zip(rows) {
        for &(t, w) in row {
            let t = t as usize;
            for (a, x) in acc.iter_mut().zip(&src[t * c..(t + 1) * c]) {
                *a += w * x;
            }
        }
    }
    DMatrix::from_row_slice(rows.len(), c, &out)
}

/// `Xᵀ · M` for sparse rows `X` (listings × terms) and dense `M`
/// (listings × c).
fn times_t(rows: &[Row], terms: usize, m: &DMatrix<f32>) -> DMatrix<f32> {
    let c = m.ncols();
    let mt = m.transpose();
    let src = mt.as_slice();
    let mut out = vec![0.0f32; terms * c];
    for (r, row) in rows.iter().enumerate() {
        let x = &src[r * c..(r + 1) * c];
        for &(t, w) in row {
            let t = t as usize;
            for (a, x) in out[t * c..(t + 1) * c].iter_mut().zip(x) {
                *a += w * x;
            }
        }
    }
    DMatrix::from_row_slice(terms, c, &out)
}

/// The `k` leading right singular vectors of `X`, each divided by its
/// singular value, as a `terms × k` row-major table: a TF-IDF row times it
/// gives the row's coordinates `U Σ` (what scikit-learn's TruncatedSVD
/// `transform` gives). `None` if `X` has fewer than `k` directions.
fn truncated_svd(rows: &[Row], terms: usize, k: usize) -> Option<Vec<f32>> {
    let l = (k + OVERSAMPLE).min(rows.len()).min(terms);
    if l < k {
        return None;
    }
    // A fixed seed: the same listings give the same model on every server.
    let mut rng = StdRng::seed_from_u64(0x4b43_5345_4152_4348);
    let omega = DMatrix::from_fn(terms, l, |_, _| rng.random_range(-1.0f32..1.0));
    let mut y = times(rows, &omega);
    for _ in 0..POWER_ITERATIONS {
        let q = y.qr().q();
        let z = times_t(rows, terms, &q).qr().q();
        y = times(rows, &z);
    }
    let q = y.qr().q();
    // B = Qᵀ X is l × terms; held transposed (terms × l).
    let bt = times_t(rows, terms, &q);
    let gram = bt.transpose() * &bt;
    let eig = SymmetricEigen::new(gram);
    let mut order: Vec<usize> = (0..eig.eigenvalues.len()).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let mut proj = vec![0.0f32; terms * k];
    for (j, &e) in order.iter().take(k).enumerate() {
        let sigma2 = eig.eigenvalues[e];
        if sigma2 <= f32::EPSILON {
            return None;
        }
        // v_j = Bᵀ u_j / σ_j; the coordinate of a row is x · v_j (= U Σ).
        let u = eig.eigenvectors.column(e);
        let v = &bt * u / sigma2.sqrt();
        for t in 0..terms {
            proj[t * k + j] = v[t];
        }
    }
    Some(proj)
}

/// What a vector belongs to: enough to filter and lift candidates without
/// reading the full-text index.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Slot {
    pub kind: String,
    pub key: String,
    pub field: String,
    pub cluster: String,
}

/// The vectors of the indexed listings, kept beside the full-text index.
#[derive(Default)]
pub(crate) struct Vectors {
    pub model: Option<Model>,
    /// `kind/key` → slot.
    slots: HashMap<String, usize>,
    /// Per slot: the listing's kind, key, field and cluster.
    ids: Vec<Slot>,
    /// `slots × DIMS`, row-major.
    data: Vec<f32>,
}

impl Vectors {
    /// A model learned from `texts` (each listing and its text), with
    /// every text embedded.
    pub fn learn(texts: Vec<(Slot, String)>) -> Vectors {
        let all: Vec<&str> = texts.iter().map(|(_, t)| t.as_str()).collect();
        let mut v = Vectors {
            model: Model::learn(&all),
            ..Vectors::default()
        };
        drop(all);
        for (slot, text) in texts {
            v.put(slot, &text);
        }
        v
    }

    /// Embeds and stores one listing (replacing its old vector).
    pub fn put(&mut self, slot: Slot, text: &str) {
        self.remove(&slot.kind, &slot.key);
        let Some(vec) = self.model.as_ref().and_then(|m| m.embed(text)) else {
            return;
        };
        self.slots
            .insert(format!("{}/{}", slot.kind, slot.key), self.ids.len());
        self.ids.push(slot);
        self.data.extend(vec);
    }

    pub fn remove(&mut self, kind: &str, key: &str) {
        let Some(slot) = self.slots.remove(&format!("{kind}/{key}")) else {
            return;
        };
        let last = self.ids.len() - 1;
        if slot != last {
            self.data
                .copy_within(last * DIMS..(last + 1) * DIMS, slot * DIMS);
            self.ids.swap(slot, last);
            let moved = &self.ids[slot];
            self.slots
                .insert(format!("{}/{}", moved.kind, moved.key), slot);
        }
        self.ids.pop();
        self.data.truncate(last * DIMS);
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// The stored vector of a listing.
    pub fn get(&self, kind: &str, key: &str) -> Option<&[f32]> {
        let slot = *self.slots.get(&format!("{kind}/{key}"))?;
        Some(&self.data[slot * DIMS..(slot + 1) * DIMS])
    }

    /// The `limit` listings of `kinds` nearest to `q` (cosine), best first,
    /// leaving out `skip` (`kind`, `key`). An exact scan: at 100,000
    /// listings of 128 floats it takes a few milliseconds, and needs no
    /// second index to keep in step.
    pub fn nearest(
        &self,
        q: &[f32],
        kinds: &[&str],
        skip: (&str, &str),
        limit: usize,
    ) -> Vec<(f32, &Slot)> {
        if limit == 0 {
            return Vec::new();
        }
        let mut best: Vec<(f32, usize)> = Vec::with_capacity(limit + 1);
        for (slot, id) in self.ids.iter().enumerate() {
            if !kinds.contains(&id.kind.as_str()) || (id.kind.as_str(), id.key.as_str()) == skip {
                continue;
            }
            let s = dot(q, &self.data[slot * DIMS..(slot + 1) * DIMS]);
            if best.len() < limit || s > best[best.len() - 1].0 {
                let at = best.partition_point(|&(b, _)| b >= s);
                best.insert(at, (s, slot));
                best.truncate(limit);
            }
        }
        best.into_iter()
            .map(|(s, slot)| (s, &self.ids[slot]))
            .collect()
    }
}

/// The dot product, in eight lanes so that the compiler can use vector
/// instructions (a plain sum must keep its order and cannot). Vectors are
/// `DIMS` long, a multiple of eight.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a
        .chunks_exact(8)
        .remainder()
        .iter()
        .zip(b.chunks_exact(8).remainder())
        .map(|(x, y)| x * y)
        .sum();
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts in three themes; words of a theme co-occur, so two texts of a
    /// theme that share no word still land close together.
    fn corpus() -> Vec<String> {
        let themes = [
            ["刀具", "磨损", "切削", "钛合金", "涂层", "寿命"],
            ["鱼塘", "增氧", "溶解氧", "浮头", "水质", "养殖"],
            ["光伏", "组件", "热斑", "巡检", "红外", "电站"],
        ];
        (0..90)
            .map(|i| {
                let t = &themes[i % 3];
                let a = i / 3 % 6;
                format!("{}{}{}", t[a], t[(a + 1) % 6], t[(a + 3) % 6])
            })
            .collect()
    }

    #[test]
    fn too_few_listings_learn_nothing() {
        let texts = corpus();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        assert!(Model::learn(&texts[..MIN_LISTINGS - 1]).is_none());
    }

    #[test]
    fn words_of_a_theme_land_together() {
        let texts = corpus();
        // Too few distinct terms for DIMS directions: pad with filler
        // listings of their own words, as a real market has.
        let mut texts = texts;
        for i in 0..300 {
            texts.push(format!("编号{i}号其他事项{}", i * 7 % 97));
        }
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let m = Model::learn(&texts).expect("a model");
        let a = m.embed("刀具磨损").unwrap();
        let b = m.embed("钛合金涂层").unwrap();
        let c = m.embed("鱼塘浮头").unwrap();
        assert!(
            dot(&a, &b) > dot(&a, &c) + 0.1,
            "same theme {} vs other {}",
            dot(&a, &b),
            dot(&a, &c)
        );
        // Unit length; unknown words give no vector.
        assert!((dot(&a, &a) - 1.0).abs() < 1e-4);
        assert!(m.embed("量子纠缠").is_none());
    }

    #[test]
    fn vectors_put_replace_and_remove() {
        let slot = |kind: &str, key: String| Slot {
            kind: kind.into(),
            key,
            ..Slot::default()
        };
        let mut texts: Vec<(Slot, String)> = corpus()
            .into_iter()
            .enumerate()
            .map(|(i, t)| (slot("offers", format!("A{i}")), t))
            .collect();
        for i in 0..300 {
            texts.push((
                slot("demands", format!("D{i}")),
                format!("编号{i}号其他事项{}", i * 7 % 97),
            ));
        }
        let n = texts.len();
        let mut v = Vectors::learn(texts);
        assert_eq!(v.len(), n);
        let q = v.model.as_ref().unwrap().embed("刀具磨损切削").unwrap();
        let near = v.nearest(&q, &["offers"], ("offers", "A0"), 5);
        assert_eq!(near.len(), 5);
        assert!(
            near.iter()
                .all(|(_, s)| s.kind == "offers" && s.key != "A0")
        );
        assert!(near.windows(2).all(|w| w[0].0 >= w[1].0));
        assert!(v.nearest(&q, &["offers"], ("", ""), 0).is_empty());
        // Replacing keeps one vector per listing; removing frees its slot
        // and keeps the others where they were found.
        v.put(slot("offers", "A1".into()), "鱼塘增氧");
        assert_eq!(v.len(), n);
        let kept = v.get("offers", "A5").unwrap().to_vec();
        v.remove("offers", "A3");
        assert_eq!(v.len(), n - 1);
        assert!(v.get("offers", "A3").is_none());
        assert_eq!(v.get("offers", "A5").unwrap(), &kept[..]);
        v.remove("offers", "A3");
        assert_eq!(v.len(), n - 1);
    }
}
