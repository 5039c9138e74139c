//! Run benchmark (a bench binary that prints figures): `cargo bench --bench run`.
//!
//! Generates 1-minute bars (1,000,000 per symbol by default; `-- ROWS` to
//! change) in a temp dir and measures, in one run, for
//! (a) an SMA(10)/SMA(30) crossover on one symbol and
//! (b) the P4 gold flush on three symbols:
//! - loading the CSVs alone (streaming every bar through the reader),
//! - a whole `playbook run --out` (the real binary, as a user runs it,
//!   timed from its start to its exit),
//! - evaluation alone: bars preloaded in memory, laid out tick by tick as
//!   `Engine::on_tick` takes them, fed to the engine (symbol-bars per
//!   second; the run's own building of ticks from the clock is in the whole
//!   run's time),
//! - peak RSS of the run at 1/4 and at all of the rows (it must not grow).
//!
//! Each time is the minimum of several repetitions; evaluation is measured
//! first, and every measurement starts after a `sync` (see `settle`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use playbook::compile::compile;
use playbook::config::RunConfig;
use playbook::data::{BarReader, ClosedBar, SourceOptions};
use playbook::engine::history::settings;
use playbook::engine::run::{Discard, Engine};
use playbook::engine::sizing::SizeBase;

const REPS: usize = 3;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn normal(&mut self) -> f64 {
        let s: f64 = (0..4)
            .map(|_| (self.next() >> 11) as f64 / (1u64 << 53) as f64)
            .sum();
        (s - 2.0) * 3f64.sqrt()
    }
}

/// Writes `rows` 1-minute bars of a random walk starting at `start_price`
/// with ticks of `tick`.
fn generate(path: &Path, rows: usize, start_price: f64, tick: f64, seed: u64) {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    writeln!(w, "timestamp,open,high,low,close,volume").unwrap();
    let mut rng = Rng(seed);
    let mut ticks = (start_price / tick).round() as i64;
    let start: jiff::Timestamp = "2020-01-06T00:00:00Z".parse().unwrap();
    let sd = (start_price / tick) * 0.0004;
    let dec = (-tick.log10()).ceil().max(0.0) as usize;
    for i in 0..rows {
        let t = start + jiff::SignedDuration::from_mins(i as i64);
        let open = ticks;
        let close = (open + (rng.normal() * sd) as i64).max(10);
        let high = open.max(close) + (rng.next() % (sd as u64 + 1)) as i64;
        let low = (open.min(close) - (rng.next() % (sd as u64 + 1)) as i64).max(5);
        let p = |x: i64| format!("{:.*}", dec, x as f64 * tick);
        writeln!(
            w,
            "{t},{},{},{},{},{}",
            p(open),
            p(high),
            p(low),
            p(close),
            50 + rng.next() % 2000
        )
        .unwrap();
        ticks = close;
    }
    w.flush().unwrap();
}

fn min_time(mut f: impl FnMut()) -> Duration {
    (0..REPS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

/// Waits until the files written so far are on disk (`sync`), so that
/// the kernel's writeback of an earlier run's outputs does not compete with
/// the next measurement for the CPU.
fn settle() {
    let _ = Command::new("sync").status();
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

struct Scenario {
    name: &'static str,
    strategy: PathBuf,
    symbols: Vec<(&'static str, f64, f64)>,
}

fn data_dir(base: &Path, rows: usize, symbols: &[(&'static str, f64, f64)]) -> PathBuf {
    let dir = base.join(format!("rows{rows}"));
    std::fs::create_dir_all(&dir).unwrap();
    for (k, (sym, price, tick)) in symbols.iter().enumerate() {
        let path = dir.join(format!("{sym}.csv"));
        if !path.exists() {
            generate(
                &path,
                rows,
                *price,
                *tick,
                0x9E37_79B9_7F4A_7C15 ^ (k as u64 + 1),
            );
        }
    }
    dir
}

fn load_all(dir: &Path, symbols: &[(&'static str, f64, f64)]) -> u64 {
    let mut n = 0;
    for (sym, _, _) in symbols {
        let reader =
            BarReader::open(dir.join(format!("{sym}.csv")), &SourceOptions::default()).unwrap();
        for b in reader {
            std::hint::black_box(b.unwrap());
            n += 1;
        }
    }
    n
}

/// The wall time of one `playbook run --out` process, started here and
/// waited for (nothing else in between).
fn time_cli(strategy: &Path, dir: &Path, out: &Path) -> Duration {
    let bin = env!("CARGO_BIN_EXE_playbook");
    let mut command = Command::new(bin);
    command
        .arg("run")
        .arg(strategy)
        .arg("--data")
        .arg(dir)
        .arg("--out")
        .arg(out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let t = Instant::now();
    let status = command.status().unwrap();
    let elapsed = t.elapsed();
    assert!(status.success());
    elapsed
}

/// Peak RSS of a process run (kB), read by running it under `/proc` polling
/// is racy; instead the CLI child is wrapped by this bench's own `rss` mode
/// (its time includes the wrapper and the polling; see [`time_cli`]).
fn run_cli(strategy: &Path, dir: &Path, out: &Path) -> (Duration, u64) {
    let exe = std::env::current_exe().unwrap();
    let t = Instant::now();
    let o = Command::new(&exe)
        .arg("--child")
        .arg(strategy)
        .arg(dir)
        .arg(out)
        .output()
        .unwrap();
    let elapsed = t.elapsed();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rss: u64 = String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    (elapsed, rss)
}

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// `--child STRATEGY DIR OUT`: runs the real `playbook` binary's code path
/// (exec'd), and prints its peak RSS in kB, measured with wait4 via
/// /proc of the grandchild is not portable; so the child execs the binary
/// and reports its own VmHWM after the exec'd process... simplest: the
/// child *is* the run: it spawns `playbook run --out` and reads the
/// grandchild's VmHWM from /proc just before reaping it.
fn child(args: &[String]) {
    let bin = env!("CARGO_BIN_EXE_playbook");
    let mut c = Command::new(bin)
        .args(["run", &args[0], "--data", &args[1], "--out", &args[2]])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", c.id());
    let mut peak = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path)
            && let Some(v) = s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        {
            peak = peak.max(v);
        }
        if let Some(st) = c.try_wait().unwrap() {
            assert!(st.success());
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    println!("{peak}");
}

/// Evaluation alone: bars preloaded, merged by close time, fed to the engine.
fn eval_only(strategy: &Path, dir: &Path, symbols: &[(&'static str, f64, f64)]) -> (Duration, u64) {
    let source = std::fs::read_to_string(strategy).unwrap();
    let file = playbook::syntax::parse(&source).unwrap();
    let plan = compile(&file, &source, &[], &[]).unwrap();
    let syms: Vec<&str> = plan.symbols.iter().map(|s| s.data.as_str()).collect();
    let config = RunConfig::from_data_dir(dir, &syms, &[]).unwrap();
    let mut st = settings(&plan, &config, SizeBase::Units(1.0)).unwrap();
    st.spacing = vec![jiff::SignedDuration::from_mins(1); plan.symbols.len()];
    // Same close times for every symbol: one tick per minute with all symbols.
    let bars: Vec<Vec<ClosedBar>> = plan
        .symbols
        .iter()
        .map(|s| {
            let _ = symbols;
            BarReader::open(
                dir.join(format!("{}.csv", s.data)),
                &SourceOptions::default(),
            )
            .unwrap()
            .map(Result::unwrap)
            .collect()
        })
        .collect();
    let n = bars[0].len();
    let k = bars.len();
    // The ticks laid out as `on_tick` takes them (every symbol closes at
    // every minute), so the timed loop is the engine's work only: building
    // each tick from the clock is the run's (and is timed there).
    let ticks: Vec<(usize, ClosedBar)> = (0..n)
        .flat_map(|i| bars.iter().enumerate().map(move |(s, b)| (s, b[i])))
        .collect();
    drop(bars);
    let mut total = 0u64;
    let d = min_time(|| {
        let mut engine = Engine::new(plan.clone(), st.clone());
        let mut sink = Discard;
        for tick in ticks.chunks_exact(k) {
            engine.on_tick(tick[0].1.close, tick, &[], &mut sink);
        }
        std::hint::black_box(engine.finish(&mut sink));
        total = ticks.len() as u64;
    });
    (d, total)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("--child") {
        child(&args[1..]);
        return;
    }
    let rows: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    // `-- ROWS eval a|b`: evaluation alone, for profiling.
    let only_eval = args.get(1).map(String::as_str) == Some("eval");
    let base = std::env::temp_dir().join("playbook-bench-run");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scenarios = [
        Scenario {
            name: "(a) SMA crossover, 1 symbol",
            strategy: root.join("benches/strategies/sma_cross.play"),
            symbols: vec![("BENCH", 1950.0, 0.01)],
        },
        Scenario {
            name: "(b) P4 gold flush, 3 symbols",
            strategy: root.join("benches/strategies/p4_three_symbols.play"),
            symbols: vec![
                ("XAUUSD", 1950.0, 0.01),
                ("USDJPY", 150.0, 0.001),
                ("NQ", 18000.0, 0.25),
            ],
        },
    ];
    println!("playbook run benchmark: {rows} one-minute bars per symbol, minimum of {REPS} runs");
    for sc in &scenarios {
        let dir = data_dir(&base, rows, &sc.symbols);
        if only_eval {
            if args
                .get(2)
                .is_some_and(|w| sc.name.starts_with(&format!("({w})")))
            {
                let (eval, n) = eval_only(&sc.strategy, &dir, &sc.symbols);
                println!(
                    "{}: {:.1} M symbol-bars/s",
                    sc.name,
                    n as f64 / eval.as_secs_f64() / 1e6
                );
            }
            continue;
        }
        let small = data_dir(&base, rows / 4, &sc.symbols);
        // Evaluation first, and each measurement after the kernel wrote the
        // earlier runs' output files back, so that writeback does not take
        // the CPU from a figure that has no part in it.
        settle();
        let (eval, evaluated) = eval_only(&sc.strategy, &dir, &sc.symbols);
        settle();
        let mut bars = 0;
        let load = min_time(|| bars = load_all(&dir, &sc.symbols));
        let out = base.join("out");
        let run = (0..REPS)
            .map(|_| {
                settle();
                time_cli(&sc.strategy, &dir, &out)
            })
            .min()
            .unwrap();
        let (_, rss) = run_cli(&sc.strategy, &dir, &out);
        let (_, rss_small) = run_cli(&sc.strategy, &small, &out);
        let rate = evaluated as f64 / eval.as_secs_f64();
        println!("\n{}", sc.name);
        println!("  symbol-bars                       {bars}");
        println!("  load the CSVs alone               {}", secs(load));
        println!(
            "  playbook run --out (whole run)    {}   ratio to load {:.2} (target <= 2)",
            secs(run),
            run.as_secs_f64() / load.as_secs_f64()
        );
        println!(
            "  evaluation alone                  {}   {:.1} M symbol-bars/s (target >= 30 for (a))",
            secs(eval),
            rate / 1e6
        );
        println!(
            "  peak RSS of the run               {:.1} MB at {} rows, {:.1} MB at {} rows (target < 50, flat)",
            rss_small as f64 / 1024.0,
            rows / 4,
            rss as f64 / 1024.0,
            rows
        );
    }
    let _ = vm_hwm_kb();
}
