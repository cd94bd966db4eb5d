//! `kechuang bench`: measured figures for `docs/benchmarks.md`.
//!
//! - `bench engine --scale city|province|nation`: generates the registries in
//!   memory, then times the full computation of every registry-backed
//!   indicator for every area × month, the ten qualification kinds alone,
//!   and single-record updates; with `--duckdb`, runs the same questions in
//!   DuckDB (PyPI `duckdb`) on the same data in the same run.
//! - `bench load --db URL`: times reading the registries from a database
//!   into the engine.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use kc_demo::registries::{Scale, generate, scaled_plan};
use kc_domain::Code;
use kc_domain::plan::{
    Aggregate, ComputeSpec, DataSource, Filter, FilterTest, Indicator, Measure, Plan, TimeRule,
};
use kc_domain::registry::{self, Record};
use kc_engine::Engine;

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v[v.len() / 2]
}

/// Adds one indicator per qualification kind: distinct enterprises holding
/// a valid qualification of that kind at each month end.
fn with_kind_indicators(mut plan: Plan) -> (Plan, Vec<String>) {
    let mut codes = Vec::new();
    for k in &kc_planfile::default_catalogue().kinds {
        let code = format!("bench_q_{}", k.code);
        plan.indicators.push(Indicator {
            code: Code::parse(&code).expect("valid code"),
            name: format!("{}数（基准测试）", k.name),
            unit: "家".into(),
            definition: String::new(),
            department: None,
            source: DataSource::Registry {
                registry: "qualifications".into(),
                rule: String::new(),
                compute: Some(ComputeSpec {
                    aggregate: Aggregate::Distinct {
                        fields: vec!["credit_code".into()],
                    },
                    filters: vec![Filter {
                        field: "kind".into(),
                        test: FilterTest::In {
                            values: vec![k.code.clone()],
                        },
                    }],
                    time: TimeRule::ValidAtEnd,
                    area: None,
                    qualified: None,
                    scale: 1.0,
                }),
            },
            measure: Measure::Stock,
            frequency: kc_domain::Frequency::Monthly,
            additive: true,
            decimals: 0,
            due_days: None,
            area_reports: None,
            resets_yearly: false,
            min: None,
            max: None,
        });
        codes.push(code);
    }
    (plan, codes)
}

pub fn engine(
    scale: Scale,
    seed: u64,
    duckdb: bool,
    only: &[String],
    runs: usize,
    out: &mut String,
) -> Result<(), String> {
    let base = kc_planfile::parse_plan(kc_app::BENGBU_PLAN_FILE, kc_app::BENGBU_PLAN)
        .map_err(|e| e.to_string())?;
    let (plan, kind_codes) = with_kind_indicators(scaled_plan(&base, scale));
    let plan_codes: Vec<String> = base
        .indicators
        .iter()
        .filter(|i| {
            matches!(
                i.source,
                DataSource::Registry {
                    compute: Some(_),
                    ..
                }
            )
        })
        .map(|i| i.code.to_string())
        .filter(|c| only.is_empty() || only.contains(c))
        .collect();
    if plan_codes.is_empty() {
        return Err(format!(
            "--only 中没有规划里由登记库计算的指标：{}",
            only.join(",")
        ));
    }
    let through = kc_app::demo_through();
    let mut engine = Engine::new(&plan, kc_planfile::default_catalogue().clone());
    let started = Instant::now();
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    let dir = std::env::temp_dir().join(format!("kc-bench-{}", std::process::id()));
    let mut csv = if duckdb {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let e = std::fs::File::create(dir.join("ents.csv")).map_err(|e| e.to_string())?;
        let q = std::fs::File::create(dir.join("quals.csv")).map_err(|e| e.to_string())?;
        let mut e = std::io::BufWriter::new(e);
        let mut q = std::io::BufWriter::new(q);
        let _ = writeln!(e, "credit_code,area");
        let _ = writeln!(q, "credit_code,kind,valid_from,valid_to");
        Some((e, q))
    } else {
        None
    };
    let cat = kc_planfile::default_catalogue();
    generate(&plan, scale, seed, through, |def, rec| {
        *counts.entry(def.code).or_default() += 1;
        let _ = engine.load(def.code, std::iter::once(rec));
        if let Some((e, q)) = csv.as_mut() {
            if def.code == registry::ENTERPRISES.code {
                let _ = writeln!(e, "{},{}", rec.values[0].display(), rec.values[2].display());
            } else if def.code == registry::QUALIFICATIONS.code
                && let Some((from, to)) = cat.validity(rec)
            {
                let to = to.map_or("9999-12-31".to_string(), |d| d.to_string());
                let _ = writeln!(
                    q,
                    "{},{},{},{}",
                    rec.values[0].display(),
                    rec.values[1].display(),
                    from,
                    to
                );
            }
        }
    });
    drop(csv);
    let generated = started.elapsed();
    engine.as_of = Some(through);
    let t = Instant::now();
    engine.derive_all();
    let derived = t.elapsed();

    let time_set = |engine: &mut Engine, codes: &[String]| -> Vec<f64> {
        let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                engine.evaluate_only(&refs);
                secs(t.elapsed())
            })
            .collect()
    };
    let all_plan = time_set(&mut engine, &plan_codes);
    // `--only` profiles plan indicators: the comparison sets are skipped.
    let profiling = !only.is_empty();
    let kinds = if profiling {
        Vec::new()
    } else {
        time_set(&mut engine, &kind_codes)
    };
    let mut each: Vec<(f64, String)> = plan_codes
        .iter()
        .map(|c| {
            (
                median(time_set(&mut engine, std::slice::from_ref(c))),
                c.clone(),
            )
        })
        .collect();
    each.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    let hte_only = if profiling {
        Vec::new()
    } else {
        time_set(&mut engine, &["bench_q_hte".to_string()])
    };

    // Reading every value: all plan indicators × all areas and the city × all
    // months of the plan period.
    let months: Vec<kc_domain::Period> = kc_domain::Period::all_within(
        kc_domain::Frequency::Monthly,
        plan.period.start,
        plan.period.end.min(through),
    );
    let t = Instant::now();
    let mut cells = 0usize;
    let mut checksum = 0.0;
    for code in &plan_codes {
        for a in std::iter::once(None).chain(plan.areas.iter().map(|a| Some(a.code.as_str()))) {
            for p in &months {
                if let Ok(Some(v)) = engine.value(code, a, *p) {
                    checksum += v;
                    cells += 1;
                }
            }
        }
    }
    let read_all = t.elapsed();

    // DuckDB's totals are checked against the engine's, taken before the
    // single-record changes below alter the data.
    let mut check = String::new();
    if duckdb {
        // The engine's own totals over areas × months, to check DuckDB's.
        let total = |codes: &[String]| -> f64 {
            let mut sum = 0.0;
            for code in codes {
                for a in &plan.areas {
                    for p in &months {
                        sum += engine
                            .value(code, Some(a.code.as_str()), *p)
                            .ok()
                            .flatten()
                            .unwrap_or(0.0);
                    }
                }
            }
            sum
        };
        check.push_str(&format!(
            "engine check: high-tech area-month sum {:.0}, all kinds sum {:.0} (",
            total(&["bench_q_hte".to_string()]),
            total(&kind_codes)
        ));
        for k in &kind_codes {
            check.push_str(&format!(
                " {} {:.0}",
                k.trim_start_matches("bench_q_"),
                total(std::slice::from_ref(k))
            ));
        }
        check.push_str(" )\n");
    }

    // Single-record changes, 1,000 per registry on records picked at random:
    // a qualification's issue date moves back, a firm's yearly revenue
    // halves, a contract's technical amount doubles, a firm moves to another
    // area (which moves all its records).
    use kc_domain::registry::Value;
    let area_codes: Vec<String> = plan.areas.iter().map(|a| a.code.to_string()).collect();
    let changes: [(&'static registry::RegistryDef, &str); 4] = [
        (&registry::QUALIFICATIONS, "issued_on"),
        (&registry::FIGURES, "revenue"),
        (&registry::CONTRACTS, "tech_amount"),
        (&registry::ENTERPRISES, "area"),
    ];
    let mut latencies: Vec<(&str, Vec<f64>)> = Vec::new();
    let mut rng = kc_demo::Rng::new(seed);
    for (def, field) in changes {
        let n = engine.table(def.code).map_or(0, |t| t.len());
        let Some(fi) = def.index(field) else { continue };
        let sample: Vec<Record> = (0..1000.min(n))
            .filter_map(|_| engine.record(def.code, (rng.next_u64() % n as u64) as u32))
            .collect();
        let mut lat: Vec<f64> = Vec::new();
        for (k, rec) in sample.iter().enumerate() {
            let mut r = rec.clone();
            r.values[fi] = match &r.values[fi] {
                Value::Date(d) => Value::Date(*d - chrono::Duration::days(30 + k as i64 % 200)),
                Value::Num(x) if field == "revenue" => Value::Num((x / 2.0).round()),
                Value::Num(x) => Value::Num(x * 2.0),
                Value::Text(_) => Value::Text(area_codes[k % area_codes.len()].clone()),
                v => v.clone(),
            };
            let t = Instant::now();
            engine.upsert(def.code, &r).map_err(|e| e.to_string())?;
            lat.push(secs(t.elapsed()) * 1000.0);
        }
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        latencies.push((def.code, lat));
    }

    out.push_str(&format!(
        "scale {:?}: {} areas, {} months of the plan, seed {seed}\n",
        scale,
        plan.areas.len(),
        months.len()
    ));
    for (code, n) in &counts {
        out.push_str(&format!("  {code}: {n} records\n"));
    }
    out.push_str(&format!(
        "generate + load into memory: {:.1} s\n",
        secs(generated)
    ));
    out.push_str(&format!(
        "derive links, areas, validity: {:.3} s\n",
        secs(derived)
    ));
    out.push_str(&format!(
        "all {} registry-backed plan indicators, every area × month: median {:.3} s (min {:.3} s, {runs} runs)\n",
        plan_codes.len(),
        median(all_plan.clone()),
        all_plan.iter().cloned().fold(f64::INFINITY, f64::min)
    ));
    out.push_str(&format!(
        "each indicator alone (median; sum {:.3} s):",
        each.iter().map(|e| e.0).sum::<f64>()
    ));
    for (t, c) in &each {
        out.push_str(&format!(" {c} {:.1} ms;", t * 1000.0));
    }
    out.push('\n');
    if !profiling {
        out.push_str(&format!(
            "ten qualification kinds, distinct firms valid at each month end by area: median {:.3} s\n",
            median(kinds)
        ));
        out.push_str(&format!(
            "high-tech enterprises alone: median {:.3} s\n",
            median(hte_only)
        ));
    }
    out.push_str(&format!(
        "read {cells} values (indicators × areas × months): {:.3} s (checksum {checksum:.0})\n",
        secs(read_all)
    ));
    for (code, lat) in &latencies {
        if lat.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "one changed record in {code}, reflected in every indicator: median {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} updates)\n",
            lat[lat.len() / 2],
            lat[(lat.len() * 99 / 100).min(lat.len() - 1)],
            lat[lat.len() - 1],
            lat.len()
        ));
    }
    if duckdb {
        out.push_str(&check);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench_duckdb.py");
        let o = std::process::Command::new("python3")
            .arg(&script)
            .arg(dir.join("ents.csv"))
            .arg(dir.join("quals.csv"))
            .arg(plan.period.start.to_string())
            .arg(months.len().to_string())
            .output()
            .map_err(|e| format!("python3: {e}"))?;
        if o.status.success() {
            out.push_str(&String::from_utf8_lossy(&o.stdout));
        } else {
            out.push_str(&format!(
                "duckdb failed: {}\n",
                String::from_utf8_lossy(&o.stderr)
            ));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

pub async fn load(store: &kc_store::Store, plan: &Plan, out: &mut String) -> Result<(), String> {
    // The server's own loading path: the database read on the async side,
    // JSON parsed and columns filled by a worker, overlapping.
    let t = Instant::now();
    let (mut engine, total) = kc_app::registries::load_registries(
        store,
        Engine::new(plan, kc_planfile::default_catalogue().clone()),
    )
    .await
    .map_err(|e| e.to_string())?;
    let read = t.elapsed();
    let t = Instant::now();
    engine.derive_all();
    let derive = t.elapsed();
    let t = Instant::now();
    engine.evaluate_all();
    let eval = t.elapsed();
    out.push_str(&format!(
        "{} ({}): {total} records; read, parse JSON and fill columns {:.1} s ({:.0} records/s), derive {:.2} s, compute all indicators {:.3} s\n",
        store.backend().name(),
        plan.code,
        secs(read),
        total as f64 / secs(read),
        secs(derive),
        secs(eval)
    ));
    Ok(())
}
