//! The coverage-guided driver: `afl TARGET`, fed by `cargo afl fuzz`.
//! Targets are the functions of `kc_fuzz::TARGETS`.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = kc_fuzz::target(&name) else {
        eprintln!("usage: afl TARGET ({})", kc_fuzz::names().join(", "));
        std::process::exit(2);
    };
    kc_fuzz::warm_up(&name);
    afl::fuzz!(|data: &[u8]| {
        target(data);
    });
}
