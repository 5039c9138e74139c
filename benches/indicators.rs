//! Nanoseconds per update of each indicator kernel over 10M generated inputs.
//!
//! Run: `cargo bench --bench indicators` (optionally `-- N` for N inputs).
//! Prints one line per kernel: name, period, ns per update, and a checksum of
//! the outputs (so the work cannot be optimized away).

use std::hint::black_box;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use playbook::indicators::{
    Atr, BarsSince, Change, Diff, Ema, Gap, Highest, Indicator, Lookback, Lowest, Rsi, Slope, Sma,
    StdDev, TimeChange, Volatility, Wma,
};

/// A deterministic random walk of `len` prices around 2000.
fn walk(len: usize) -> Vec<f64> {
    let mut s: u64 = 42;
    let mut x = 2000.0;
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            x *= 1.0 + 0.002 * u;
            x
        })
        .collect()
}

/// Times `f` over all inputs; prints ns per update.
fn time(name: &str, n: usize, len: usize, f: impl FnOnce() -> f64) {
    let start = Instant::now();
    let check = f();
    let ns = start.elapsed().as_nanos() as f64 / len as f64;
    println!("{name:<14} n={n:<4} {ns:>7.2} ns/update   (checksum {check:.6e})");
}

/// Runs a single-input kernel over `xs`, summing the defined outputs.
fn single(mut k: impl Indicator, xs: &[f64]) -> f64 {
    let mut acc = 0.0;
    for &x in xs {
        let v = k.update(black_box(x));
        if !v.is_nan() {
            acc += v;
        }
    }
    acc
}

fn main() {
    let len: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000_000);
    let xs = walk(len);
    let highs: Vec<f64> = xs.iter().map(|x| x * 1.001).collect();
    let lows: Vec<f64> = xs.iter().map(|x| x * 0.999).collect();
    println!("indicator kernels, {len} inputs each");
    for n in [14, 200] {
        time("sma", n, len, || single(Sma::new(n), &xs));
        time("ema", n, len, || single(Ema::new(n), &xs));
        time("wma", n, len, || single(Wma::new(n), &xs));
        time("rsi", n, len, || single(Rsi::new(n), &xs));
        time("stdev", n, len, || single(StdDev::new(n), &xs));
        time("highest", n, len, || single(Highest::new(n), &xs));
        time("lowest", n, len, || single(Lowest::new(n), &xs));
        time("slope", n, len, || single(Slope::new(n), &xs));
        time("volatility", n, len, || {
            single(Volatility::new(n, 6048.0), &xs)
        });
        time("lookback x[n]", n, len, || single(Lookback::new(n), &xs));
        time("change", n, len, || single(Change::new(n), &xs));
        time("diff", n, len, || single(Diff::new(n), &xs));
        time("atr", n, len, || {
            let mut k = Atr::new(n);
            let mut acc = 0.0;
            for i in 0..len {
                let v = k.update(black_box(highs[i]), lows[i], xs[i]);
                if !v.is_nan() {
                    acc += v;
                }
            }
            acc
        });
    }
    time("gap", 1, len, || {
        let mut k = Gap::new();
        let mut acc = 0.0;
        for i in 0..len {
            let v = k.update(black_box(lows[i]), xs[i]);
            if !v.is_nan() {
                acc += v;
            }
        }
        acc
    });
    time("bars_since", 0, len, || {
        let mut k = BarsSince::new();
        let mut acc = 0.0;
        for i in 1..len {
            let v = k.update(black_box(xs[i] > xs[i - 1] * 1.0009));
            if !v.is_nan() {
                acc += v;
            }
        }
        acc
    });
    let hour = SignedDuration::from_hours(1);
    time("change 1d", 24, len, || {
        let mut k = TimeChange::with_spacing(SignedDuration::from_hours(24), hour);
        let t0 = Timestamp::from_second(1_600_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let mut acc = 0.0;
        for (i, &x) in xs.iter().enumerate() {
            // Hourly bars with a 2-day gap every 120 bars (weekends).
            let hours = i as i64 + (i as i64 / 120) * 48;
            let t = t0
                .checked_add(SignedDuration::from_hours(hours))
                .unwrap_or(t0);
            let v = k.update(black_box(t), x);
            if !v.is_nan() {
                acc += v;
            }
        }
        acc
    });
}
