//! Parser throughput on generated strategy files of 1 MB and 10 MB.
//!
//! Run with `cargo bench --bench parse`. Prints the best of several runs for
//! each size, the throughput in MB/s, and the ratio time(10 MB) / time(1 MB),
//! which stays near 10 when parsing is linear (it must not exceed 12), for
//! parse alone and for parse + check (the work `playbook check` does).

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A realistic strategy file of at least `bytes` bytes: symbols, sessions,
/// and many params, lets and rules using every kind of clause.
fn generated_strategy(bytes: usize) -> String {
    let mut out = String::with_capacity(bytes + 1024);
    out.push_str(
        "# Generated for the parser benchmark.\n\
         strategy \"generated\"\n\
         symbol gold = XAUUSD\n\
         symbol usdjpy = USDJPY @ 1h\n\
         series fed = FEDFUNDS as percent\n\
         session asia = 09:00-15:00 Asia/Tokyo mon-fri\n\
         session hk = 09:30-12:00, 13:00-16:00 Asia/Hong_Kong\n",
    );
    let mut i = 0;
    while out.len() < bytes {
        write!(
            out,
            "\n# block {i}: Asian-session flush while the yen surges\n\
             param drop_{i} = 1.5% in 0.5%..3% step 0.25%\n\
             param len_{i} = 20 in 10..50 step 5\n\
             let fast_{i} = ema(gold.close, 12) - ema(gold.close[1], 26) * 2\n\
             let yen_{i} = usdjpy.close falls by drop_{i} within 1d\n\
             let trend_{i} = sma(gold.close, len_{i}) crosses above sma(gold.close, 50) or gold.close is above highest(gold.high, 20)[1]\n\
             rule r_{i}:\n    \
                 buy gold if session_drop(gold, asia) exceeds drop_{i} while yen_{i} and not in hk\n    \
                 size risk 0.5% of equity scaled by (1 + fed / 10) max 5 contracts\n    \
                 stop 2 * atr(gold, 14)\n    \
                 target if fast_{i} > 0 then 3% else 2%\n    \
                 trail 1.5%\n    \
                 exit after 3d\n    \
                 exit when trend_{i} == false   # end of block\n"
        )
        .expect("writing to a String cannot fail");
        i += 1;
    }
    out
}

/// The best wall-clock time of `runs` parses (and checks, with `check`) of `source`.
fn best_parse_time(source: &str, runs: usize, check: bool) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        let file = playbook::syntax::parse(black_box(source)).expect("generated file parses");
        if check {
            let checked = playbook::check::check(&file);
            assert!(!checked.has_errors(), "generated file checks clean");
            black_box(&checked);
        }
        let elapsed = start.elapsed();
        black_box(&file);
        drop(file);
        best = best.min(elapsed);
    }
    best
}

fn main() {
    let small = generated_strategy(1 << 20);
    let large = generated_strategy(10 << 20);
    // Warm up allocator and caches.
    best_parse_time(&small, 1, true);
    let mb = |s: &str| s.len() as f64 / (1 << 20) as f64;
    let mut worst = 0.0f64;
    for (what, check) in [("parse", false), ("parse + check", true)] {
        let t_small = best_parse_time(&small, 5, check);
        let t_large = best_parse_time(&large, 3, check);
        for (name, s, t) in [("1 MB", &small, t_small), ("10 MB", &large, t_large)] {
            println!(
                "{what:>13} {name:>5}: {:>6.2} MiB in {:>8.1} ms = {:>6.1} MiB/s",
                mb(s),
                t.as_secs_f64() * 1e3,
                mb(s) / t.as_secs_f64()
            );
        }
        let ratio = t_large.as_secs_f64() / t_small.as_secs_f64();
        println!(
            "{what:>13}: time(10 MB) / time(1 MB) = {ratio:.2} (size ratio {:.2}; must be <= 12)",
            large.len() as f64 / small.len() as f64
        );
        worst = worst.max(ratio);
    }
    if worst > 12.0 {
        eprintln!("FAIL: the time grows faster than the input");
        std::process::exit(1);
    }
}
