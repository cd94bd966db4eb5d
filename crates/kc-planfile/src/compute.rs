//! `[indicator.compute]`: how an indicator is computed from a registry.
//!
//! ```toml
//! [[indicator]]
//! code = "hte_count"
//! registry = "qualifications"
//! [indicator.compute]
//! aggregate = "distinct"          # count | sum | distinct
//! field = "credit_code"           # sum: the amount; distinct: what is counted once
//! where = { kind = "hte" }
//! time = "valid_at_end"           # valid_at_end | within | until_end | year_of_period | current
//! ```

use kc_domain::plan::{Aggregate, ComputeSpec, Filter, FilterTest, TimeRule};
use kc_domain::registry::{self, AreaRule, FieldType, RegistryDef};

use crate::reader::{N, Obj};

const TIMES: [&str; 5] = [
    "valid_at_end",
    "within",
    "until_end",
    "year_of_period",
    "current",
];

/// Resolves a field name of a filter or aggregate: a field of the registry,
/// `enterprise.<field>` of its enterprise, or `area.kind`.
fn field_type(def: &RegistryDef, name: &str) -> Result<FieldType, String> {
    if name == "area.kind" {
        return Ok(FieldType::Text(20));
    }
    if let Some(f) = name.strip_prefix("enterprise.") {
        if def.enterprise.is_none() {
            return Err(format!(
                "登记库 {} 的记录不关联企业，不能用 {name}",
                def.code
            ));
        }
        return registry::ENTERPRISES
            .field(f)
            .map(|fd| fd.ty)
            .ok_or_else(|| format!("企业登记库没有字段 {f}"));
    }
    def.field(name)
        .map(|fd| fd.ty)
        .ok_or_else(|| format!("登记库 {} 没有字段 {name}", def.code))
}

fn field_list(def: &RegistryDef) -> String {
    def.fields
        .iter()
        .map(|f| format!("{}（{}）", f.code, f.label))
        .collect::<Vec<_>>()
        .join("、")
}

pub fn read_compute(o: &Obj<'_, '_, '_>, def: &RegistryDef) -> Option<ComputeSpec> {
    let ctx = o.ctx;
    let mut ok = true;
    let mut bad = |span, msg: String, expected: Option<String>| {
        ctx.error(span, msg, expected.as_deref());
        ok = false;
    };

    let aggregate_word = o
        .opt_choice("aggregate", &["count", "sum", "distinct"])
        .unwrap_or_else(|| "count".into());
    let field_node = o.get("field");
    let fields: Vec<String> = match field_node {
        None => Vec::new(),
        Some(n) => match (n.as_str(), n.as_array()) {
            (Some(s), _) => vec![s.to_string()],
            (None, Some(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => {
                bad(
                    n.span(),
                    "field 应为字段名或字段名数组".into(),
                    Some("field = \"credit_code\"".into()),
                );
                Vec::new()
            }
        },
    };
    for f in &fields {
        if let Err(e) = field_type(def, f) {
            bad(field_node.and_then(|n| n.span()), e, Some(field_list(def)));
        }
    }
    let aggregate = match aggregate_word.as_str() {
        "sum" => match fields.as_slice() {
            [f] => {
                if let Ok(t) = field_type(def, f)
                    && !matches!(t, FieldType::Amount | FieldType::Number | FieldType::Count)
                {
                    bad(
                        field_node.and_then(|n| n.span()),
                        format!("求和的字段 {f} 不是数值"),
                        None,
                    );
                }
                Aggregate::Sum { field: f.clone() }
            }
            _ => {
                bad(
                    o.span(),
                    "aggregate = \"sum\" 需要一个数值字段 field".into(),
                    Some("field = \"amount\"".into()),
                );
                Aggregate::Count
            }
        },
        "distinct" => {
            if fields.is_empty() {
                bad(
                    o.span(),
                    "aggregate = \"distinct\" 需要 field（按哪个字段去重）".into(),
                    Some("field = \"credit_code\"".into()),
                );
            }
            Aggregate::Distinct {
                fields: fields.clone(),
            }
        }
        _ => Aggregate::Count,
    };

    let mut filters = Vec::new();
    if let Some(w) = o.sub("where") {
        // `enterprise.x = …` written as a dotted key arrives as a nested
        // table; flatten it back to the field name.
        let mut entries: Vec<(String, N<'_>, Option<std::ops::Range<usize>>)> = Vec::new();
        for (name, n, key_span) in w.entries() {
            let nested = (name == "enterprise" || name == "area")
                && n.as_table().is_some_and(|t| {
                    !["min", "max", "not", "present"]
                        .iter()
                        .any(|k| t.contains_key(k))
                });
            match n.as_table().filter(|_| nested) {
                Some(t) => {
                    for (k, item) in t.iter() {
                        entries.push((format!("{name}.{k}"), N::I(item), key_span.clone()));
                    }
                }
                None => entries.push((name.to_string(), n, key_span)),
            }
        }
        for (name, n, key_span) in entries {
            let name = name.as_str();
            let ty = match field_type(def, name) {
                Ok(t) => t,
                Err(e) => {
                    bad(key_span, e, Some(field_list(def)));
                    continue;
                }
            };
            match read_test(&w, n, ty) {
                Ok(test) => filters.push(Filter {
                    field: name.to_string(),
                    test,
                }),
                Err((msg, expected)) => bad(
                    n.span(),
                    format!("where 中 {name} 的条件有误：{msg}"),
                    Some(expected),
                ),
            }
        }
    }

    let default_time = if def.validity.is_some() {
        "valid_at_end"
    } else if def.field("year").is_some() && def.date.is_none() {
        "year_of_period"
    } else if def.date.is_some() {
        "within"
    } else {
        "current"
    };
    let time_word = o
        .opt_choice("time", &TIMES)
        .unwrap_or_else(|| default_time.into());
    let date_field = o.opt_str("date").or(def.date.map(str::to_string));
    let year_field = o.opt_str("year").unwrap_or_else(|| "year".into());
    let since = o.opt_date("since");
    let time = match time_word.as_str() {
        "valid_at_end" => {
            if def.validity.is_none() {
                bad(
                    o.get("time").and_then(|n| n.span()),
                    format!("登记库 {} 没有有效期字段，不能用 valid_at_end", def.code),
                    Some("within、until_end、year_of_period 或 current".into()),
                );
            }
            TimeRule::ValidAtEnd
        }
        "within" | "until_end" => {
            let date = match date_field {
                Some(d) => match field_type(def, &d) {
                    Ok(FieldType::Date | FieldType::Year) => d,
                    Ok(_) => {
                        bad(
                            o.get("date").and_then(|n| n.span()),
                            format!("{d} 不是日期或年份字段"),
                            None,
                        );
                        d
                    }
                    Err(e) => {
                        bad(
                            o.get("date").and_then(|n| n.span()),
                            e,
                            Some(field_list(def)),
                        );
                        d
                    }
                },
                None => {
                    bad(
                        o.span(),
                        format!("登记库 {} 没有默认日期字段，请写 date", def.code),
                        Some(field_list(def)),
                    );
                    String::new()
                }
            };
            if time_word == "within" {
                if matches!(aggregate, Aggregate::Distinct { .. }) {
                    bad(
                        o.span(),
                        "期内发生量（within）不能按字段去重：同一对象在不同月份出现会被重复计数"
                            .into(),
                        Some("aggregate = \"count\" 或 \"sum\"".into()),
                    );
                }
                TimeRule::Within { date }
            } else {
                TimeRule::UntilEnd { date, since }
            }
        }
        "year_of_period" => {
            match field_type(def, &year_field) {
                Ok(FieldType::Year) => {}
                _ => bad(
                    o.get("year").and_then(|n| n.span()).or(o.span()),
                    format!("登记库 {} 没有年份字段 {year_field}", def.code),
                    None,
                ),
            }
            TimeRule::YearOfPeriod { year: year_field }
        }
        _ => TimeRule::Current,
    };
    if since.is_some() && !matches!(time, TimeRule::UntilEnd { .. }) {
        bad(
            o.get("since").and_then(|n| n.span()),
            "since 只用于 time = \"until_end\"".into(),
            None,
        );
    }

    let area = o.opt_str("area");
    if let Some(a) = &area {
        let valid = a == "enterprise" && def.enterprise.is_some()
            || matches!(def.field(a).map(|f| f.ty), Some(FieldType::Area));
        if !valid {
            bad(
                o.get("area").and_then(|n| n.span()),
                format!("area 应为地区字段或 enterprise，“{a}”不是"),
                None,
            );
        }
    }
    let qualified = o.opt_str("qualified");
    if let Some(q) = &qualified {
        if def.enterprise.is_none() {
            bad(
                o.get("qualified").and_then(|n| n.span()),
                format!("登记库 {} 的记录不关联企业，不能用 qualified", def.code),
                None,
            );
        } else if crate::default_catalogue().get(q).is_none() {
            let names: Vec<String> = crate::default_catalogue()
                .kinds
                .iter()
                .map(|k| format!("{}（{}）", k.code, k.name))
                .collect();
            bad(
                o.get("qualified").and_then(|n| n.span()),
                format!("未知的资质类型 {q}"),
                Some(names.join("、")),
            );
        }
    }
    let scale = o.opt_f64("scale").unwrap_or(1.0);
    if scale <= 0.0 {
        bad(
            o.get("scale").and_then(|n| n.span()),
            "scale 应为正数".into(),
            Some("例如 0.0001（万元换算为亿元）".into()),
        );
    }
    if matches!(def.area, AreaRule::Enterprise(_))
        && area.as_deref().is_some_and(|a| a != "enterprise")
    {
        bad(
            o.get("area").and_then(|n| n.span()),
            format!("登记库 {} 的地区取自所属企业", def.code),
            Some("area = \"enterprise\" 或不写".into()),
        );
    }
    ok.then_some(ComputeSpec {
        aggregate,
        filters,
        time,
        area,
        qualified,
        scale,
    })
}

/// `"a"` or `["a", "b"]` (one of), `{ not = [...] }`, `true`/`false`,
/// `{ min = …, max = … }`, `{ present = true }`.
fn read_test(w: &Obj<'_, '_, '_>, n: N<'_>, ty: FieldType) -> Result<FilterTest, (String, String)> {
    let words = |n: N<'_>| -> Option<Vec<String>> {
        if let Some(s) = n.as_str() {
            return Some(vec![s.to_string()]);
        }
        n.as_array()?
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect()
    };
    let check_choice = |values: &[String]| -> Result<(), (String, String)> {
        if let FieldType::Choice(opts) = ty {
            for v in values {
                if !opts.contains(&v.as_str()) {
                    return Err((format!("“{v}”不是该字段的可选值"), opts.join("、")));
                }
            }
        }
        Ok(())
    };
    if let Some(b) = n.as_bool() {
        return if ty == FieldType::Bool {
            Ok(FilterTest::Bool { value: b })
        } else {
            Err(("true/false 只能用于是否类字段".into(), ty.hint()))
        };
    }
    if let Some(values) = words(n) {
        if matches!(
            ty,
            FieldType::Bool
                | FieldType::Amount
                | FieldType::Number
                | FieldType::Count
                | FieldType::Date
                | FieldType::Year
        ) {
            return Err((
                "该字段不是文本，不能按文字匹配".into(),
                "数值字段用 { min = …, max = … }，是否字段用 true/false".into(),
            ));
        }
        check_choice(&values)?;
        return Ok(FilterTest::In { values });
    }
    let Some(t) = n.as_table() else {
        return Err((
            "无法识别".into(),
            "文字、文字数组、true/false 或 { min = …, max = … }".into(),
        ));
    };
    if let Some(not) = t.get("not") {
        let values = words(N::I(not)).ok_or((
            "not 应为文字数组".to_string(),
            "{ not = [\"a\", \"b\"] }".to_string(),
        ))?;
        check_choice(&values)?;
        return Ok(FilterTest::NotIn { values });
    }
    if let Some(p) = t.get("present") {
        let value = p.as_bool().ok_or((
            "present 应为 true 或 false".to_string(),
            "{ present = true }".to_string(),
        ))?;
        return Ok(FilterTest::Present { value });
    }
    let num = |k: &str| -> Result<Option<f64>, (String, String)> {
        match t.get(k) {
            None => Ok(None),
            Some(i) => N::I(i)
                .as_f64()
                .map(Some)
                .ok_or((format!("{k} 应为数字"), "{ min = 10000 }".to_string())),
        }
    };
    let (min, max) = (num("min")?, num("max")?);
    if min.is_none() && max.is_none() {
        return Err((
            "条件表应写 min/max、not 或 present".into(),
            "{ min = 10000 }".into(),
        ));
    }
    if !matches!(
        ty,
        FieldType::Amount | FieldType::Number | FieldType::Count | FieldType::Year
    ) {
        return Err(("min/max 只能用于数值或年份字段".into(), ty.hint()));
    }
    let _ = w;
    Ok(FilterTest::Range { min, max })
}
