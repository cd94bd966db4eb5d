//! The eligibility rule book (`catalogue/eligibility-rules.toml`): read as
//! TOML, turned into JSON and checked by `kc_domain::eligibility`'s typed
//! tables (which refuse unknown keys), then checked for sense (thresholds
//! in range, bands present).

use kc_domain::eligibility::RuleBook;

use crate::PlanErrors;
use crate::reader::Ctx;

/// The per-mu evaluation schemes that ship with the system.
pub const DEFAULT_MUJUN: &str = include_str!("../../../catalogue/mujun-schemes.toml");

/// The shipped schemes, read once.
pub fn default_mujun() -> &'static kc_domain::mujun::Schemes {
    static S: std::sync::OnceLock<kc_domain::mujun::Schemes> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        parse_mujun("catalogue/mujun-schemes.toml", DEFAULT_MUJUN)
            .expect("the shipped schemes are valid (checked by tests)")
    })
}

/// Reads per-mu evaluation schemes and checks them: known indicators,
/// positive weights, cut-offs best first, a quantile between 0 and 1, at
/// least two schemes' codes distinct.
pub fn parse_mujun(file: &str, text: &str) -> Result<kc_domain::mujun::Schemes, PlanErrors> {
    let ctx = Ctx::new(text);
    let s: kc_domain::mujun::Schemes = typed(&ctx, file, text, Floats::Numbers)?;
    let mut codes = std::collections::HashSet::new();
    for sc in &s.schemes {
        if !codes.insert(sc.code.clone()) {
            ctx.error(None, format!("方案编码 {} 重复", sc.code), None);
        }
        if !(0.0..=1.0).contains(&sc.benchmark_quantile) {
            ctx.error(
                None,
                format!("方案 {} 的 benchmark_quantile 应在 0–1 之间", sc.code),
                None,
            );
        }
        for i in &sc.indicators {
            if !kc_domain::mujun::INDICATORS.contains(&i.code.as_str()) {
                ctx.error(
                    None,
                    format!("方案 {} 中的指标 {} 未知", sc.code, i.code),
                    Some("tax_per_mu、output_per_mu、rd_intensity、energy_per_output"),
                );
            }
            if !(i.weight >= 0.0 && i.weight.is_finite()) {
                ctx.error(
                    None,
                    format!("方案 {} 中指标 {} 的权重应为非负数", sc.code, i.code),
                    None,
                );
            }
        }
        if sc.indicators.iter().map(|i| i.weight).sum::<f64>() <= 0.0 {
            ctx.error(None, format!("方案 {} 的权重之和应大于 0", sc.code), None);
        }
        if sc.cutoffs.is_empty() || sc.cutoffs.windows(2).any(|w| w[0].min < w[1].min) {
            ctx.error(
                None,
                format!("方案 {} 的分类分数线应从高到低排列且不能为空", sc.code),
                None,
            );
        }
    }
    if s.schemes.is_empty() {
        ctx.error(None, "至少需要一个评价方案 [[schemes]]", None);
    }
    if ctx.has_errors() {
        return Err(PlanErrors {
            file: file.to_string(),
            errors: ctx.into_errors(),
        });
    }
    Ok(s)
}

/// How a TOML float goes into the JSON a typed table is read from.
#[derive(Clone, Copy, PartialEq)]
enum Floats {
    /// As a JSON number (`f64`).
    Numbers,
    /// As its text in the file ("0.05"), so that a `Decimal` threshold is
    /// read exactly from what was written, never through `f64`; `f64`
    /// fields read such text with `kc_domain::money::de_f64`.
    Text,
}

/// A TOML document read into a typed table through JSON (serde refuses
/// unknown keys and names the wrong one).
fn typed<T: serde::de::DeserializeOwned>(
    ctx: &Ctx<'_>,
    file: &str,
    text: &str,
    floats: Floats,
) -> Result<T, PlanErrors> {
    let fail = |ctx: &Ctx<'_>| PlanErrors {
        file: file.to_string(),
        errors: ctx.errors_so_far(),
    };
    let doc = match toml_edit::Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            ctx.error(
                e.span(),
                format!("TOML 语法错误：{}", e.message().trim()),
                None,
            );
            return Err(fail(ctx));
        }
    };
    serde_json::from_value(to_json(doc.as_item(), floats)).map_err(|e| {
        ctx.error(None, format!("内容有误：{e}"), None);
        fail(ctx)
    })
}

/// The rule book that ships with the system.
pub const DEFAULT_RULES: &str = include_str!("../../../catalogue/eligibility-rules.toml");

/// The shipped rule book, read once.
pub fn default_rules() -> &'static RuleBook {
    static BOOK: std::sync::OnceLock<RuleBook> = std::sync::OnceLock::new();
    BOOK.get_or_init(|| {
        parse_rules("catalogue/eligibility-rules.toml", DEFAULT_RULES)
            .expect("the shipped rule book is valid (checked by tests)")
    })
}

fn to_json(item: &toml_edit::Item, floats: Floats) -> serde_json::Value {
    use serde_json::Value as J;
    let table = |t: &toml_edit::Table| {
        J::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), to_json(v, floats)))
                .collect(),
        )
    };
    match item {
        toml_edit::Item::None => J::Null,
        toml_edit::Item::Value(v) => value_json(v, floats),
        toml_edit::Item::Table(t) => table(t),
        toml_edit::Item::ArrayOfTables(a) => J::Array(a.iter().map(table).collect()),
    }
}

fn value_json(v: &toml_edit::Value, floats: Floats) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml_edit::Value::String(s) => J::String(s.value().clone()),
        toml_edit::Value::Integer(i) => J::from(*i.value()),
        toml_edit::Value::Float(f) if floats == Floats::Text => float_text(f),
        toml_edit::Value::Float(f) => J::from(*f.value()),
        toml_edit::Value::Boolean(b) => J::Bool(*b.value()),
        toml_edit::Value::Datetime(d) => J::String(d.value().to_string()),
        toml_edit::Value::Array(a) => J::Array(a.iter().map(|x| value_json(x, floats)).collect()),
        toml_edit::Value::InlineTable(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), value_json(v, floats)))
                .collect(),
        ),
    }
}

/// A float as written in the file ("0.05", "1_000.5", "5e-2"), as the text
/// of that exact decimal; its shortest round-trip text when the file's text is not at
/// hand or is not a plain number (inf, nan).
fn float_text(f: &toml_edit::Formatted<f64>) -> serde_json::Value {
    let raw = f
        .as_repr()
        .and_then(|r| r.as_raw().as_str())
        .and_then(|s| kc_domain::money::parse_decimal(&s.trim().replace('_', "")))
        .map(|d| d.to_string());
    match raw {
        Some(s) => serde_json::Value::String(s),
        None if f.value().is_finite() => serde_json::Value::String(f.value().to_string()),
        None => serde_json::Value::from(*f.value()),
    }
}

pub fn parse_rules(file: &str, text: &str) -> Result<RuleBook, PlanErrors> {
    let ctx = Ctx::new(text);
    let book: RuleBook = typed(&ctx, file, text, Floats::Text)?;
    let ratio = |v: kc_domain::money::Decimal, what: &str| {
        if v.is_sign_negative() || v > kc_domain::money::Decimal::ONE {
            ctx.error(
                None,
                format!("{what} 是比例，应在 0–1 之间（写 0.05 表示 5%），实际为 {v}"),
                None,
            );
        }
    };
    ratio(book.near_margin, "near_margin");
    ratio(book.hte.min_st_staff_ratio, "hte.min_st_staff_ratio");
    ratio(book.hte.min_domestic_rd_share, "hte.min_domestic_rd_share");
    ratio(
        book.hte.min_hitech_income_share,
        "hte.min_hitech_income_share",
    );
    ratio(book.zjtx.min_rd_ratio, "zjtx.min_rd_ratio");
    for b in &book.hte.rd_bands {
        ratio(b.min_ratio, "hte.rd_bands 的 min_ratio");
    }
    if book.hte.rd_bands.last().is_none_or(|b| b.up_to.is_some()) {
        ctx.error(
            None,
            "hte.rd_bands 的最后一档不能写 up_to（它适用于更高的全部收入）",
            Some("{ min_ratio = 0.03 }"),
        );
    }
    if book.hte.fields.is_empty() {
        ctx.error(None, "hte.fields 不能为空", None);
    }
    if ctx.has_errors() {
        return Err(PlanErrors {
            file: file.to_string(),
            errors: ctx.into_errors(),
        });
    }
    Ok(book)
}
