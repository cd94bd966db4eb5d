//! The plain driver: every target (or those named) on its seeds and random
//! mutations of them, for a time or a number of executions each; a panic is
//! reported with the input saved under `fuzz/crashes/`. No fuzzer needed,
//! so CI runs it (`scripts/fuzz-smoke`). Also writes seed corpora for AFL.
//!
//!   smoke [--seconds N] [--execs N] [--seed N] [TARGET…]
//!   smoke --write-seeds DIR

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seconds = 5.0;
    let mut execs: Option<u64> = None;
    let mut seed: u64 = 0x6b63_2025;
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().unwrap_or_default();
        match a.as_str() {
            "--seconds" => seconds = value().parse().expect("--seconds N"),
            "--execs" => execs = Some(value().parse().expect("--execs N")),
            "--seed" => seed = value().parse().expect("--seed N"),
            "--write-seeds" => {
                write_seeds(&value());
                return;
            }
            name => only.push(name.to_string()),
        }
    }
    // Panics are expected to be caught; print them once, briefly.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("panic: {info}");
    }));
    let mut failed = 0;
    for &(name, target) in kc_fuzz::TARGETS {
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        kc_fuzz::warm_up(name);
        let seeds = kc_fuzz::seeds(name);
        let mut rng = kc_fuzz::Rng::new(seed ^ name.len() as u64);
        let started = Instant::now();
        let limit = Duration::from_secs_f64(seconds);
        let mut n: u64 = 0;
        let mut crashes = 0;
        loop {
            if execs.map_or(started.elapsed() >= limit, |e| n >= e) {
                break;
            }
            let input = if (n as usize) < seeds.len() {
                seeds[n as usize].clone()
            } else if seeds.is_empty() {
                (0..rng.below(64)).map(|_| rng.next() as u8).collect()
            } else {
                let a = &seeds[rng.below(seeds.len())];
                let b = &seeds[rng.below(seeds.len())];
                kc_fuzz::mutate(name, a, b, &mut rng)
            };
            n += 1;
            if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
                crashes += 1;
                let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crashes");
                let _ = std::fs::create_dir_all(&dir);
                let path = dir.join(format!("{name}-{n}"));
                let _ = std::fs::write(&path, &input);
                eprintln!("{name}: crash saved to {}", path.display());
                if crashes >= 5 {
                    break;
                }
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{name}: {n} executions in {secs:.1} s ({:.0}/s), {crashes} crashes",
            n as f64 / secs.max(1e-9)
        );
        failed += crashes;
    }
    if failed > 0 {
        std::process::exit(1);
    }
}

fn write_seeds(dir: &str) {
    for &(name, _) in kc_fuzz::TARGETS {
        let d = std::path::Path::new(dir).join(name);
        std::fs::create_dir_all(&d).expect("seed folder");
        for (i, s) in kc_fuzz::seeds(name).iter().enumerate() {
            // AFL works best on small inputs: large seeds are left out.
            if s.len() <= kc_fuzz::afl_seed_limit(name) {
                std::fs::write(d.join(format!("seed-{i}")), s).expect("seed");
            }
        }
    }
    println!("seeds written to {dir}");
}
