//! The qualification-kind catalogue (`catalogue/qualification-kinds.toml`),
//! read with the same located errors as plan files.

use kc_domain::registry::{QualCatalogue, QualKind, ValidityRule};

use crate::PlanErrors;
use crate::reader::{Ctx, N, Obj};

/// The catalogue that ships with the system.
pub const DEFAULT_CATALOGUE: &str = include_str!("../../../catalogue/qualification-kinds.toml");

/// The shipped catalogue, read once.
pub fn default_catalogue() -> &'static QualCatalogue {
    static CAT: std::sync::OnceLock<QualCatalogue> = std::sync::OnceLock::new();
    CAT.get_or_init(|| {
        parse_catalogue("catalogue/qualification-kinds.toml", DEFAULT_CATALOGUE)
            .expect("the shipped catalogue is valid (checked by tests)")
    })
}

pub fn parse_catalogue(file: &str, text: &str) -> Result<QualCatalogue, PlanErrors> {
    let ctx = Ctx::new(text);
    let fail = |ctx: Ctx<'_>| PlanErrors {
        file: file.to_string(),
        errors: ctx.into_errors(),
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
    let mut kinds: Vec<QualKind> = Vec::new();
    let items = doc
        .get("kind")
        .and_then(|i| N::I(i).as_array())
        .unwrap_or_default();
    for (i, n) in items.into_iter().enumerate() {
        let Some(o) = Obj::new(&ctx, n, format!("第 {} 个 [[kind]]", i + 1)) else {
            continue;
        };
        let code = o.req_code("code");
        let name = o.req_str("name");
        let rule = match o
            .opt_choice("validity", &["years", "evaluation_year", "until_revoked"])
            .as_deref()
        {
            Some("years") => match o.opt_f64("years") {
                Some(y) if y >= 1.0 && y.fract() == 0.0 => Some(ValidityRule::Years(y as u32)),
                _ => {
                    ctx.error(
                        o.span(),
                        "validity = \"years\" 需要写 years（正整数）",
                        Some("years = 3"),
                    );
                    None
                }
            },
            Some("evaluation_year") => Some(ValidityRule::EvaluationYear),
            Some("until_revoked") => Some(ValidityRule::UntilRevoked),
            _ => {
                if !o.has("validity") {
                    ctx.error(
                        o.span(),
                        "缺少 validity",
                        Some("years | evaluation_year | until_revoked"),
                    );
                }
                None
            }
        };
        let note = o.opt_str("note").unwrap_or_default();
        o.get("years");
        o.finish();
        if let (Some(code), Some(name), Some(rule)) = (code, name, rule) {
            if kinds
                .iter()
                .any(|k| k.code == code.as_str() || k.name == name)
            {
                ctx.error(
                    o.span(),
                    format!("资质类型 {code} 重复"),
                    Some("唯一的编码和名称"),
                );
            }
            kinds.push(QualKind {
                code: code.to_string(),
                name,
                rule,
                note,
            });
        }
    }
    if kinds.is_empty() && !ctx.has_errors() {
        ctx.error(None, "目录中没有任何资质类型", Some("至少一个 [[kind]]"));
    }
    if ctx.has_errors() {
        return Err(fail(ctx));
    }
    Ok(QualCatalogue { kinds })
}
