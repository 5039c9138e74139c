//! Load benchmark (a bench binary that prints figures):
//! `cargo bench --bench load`.
//!
//! Generates a 1,000,000-row 1-minute OHLCV CSV (a random walk, ISO `Z`
//! stamps) in a temp dir, then measures, taking the minimum of several runs:
//! (a) iterating the file's `csv::ByteRecord`s and nothing else,
//! (b) `load_bars` into a `Vec<Bar>` with full validation and the report,
//! (c) streaming through `BarReader` without holding bars (as an iterator,
//!     and with `for_each_bar`, which `load_bars` and `check_file` use),
//! plus bytes per held bar and peak RSS (VmHWM) of (c) versus (b).

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use playbook::data::{Bar, BarReader, SourceOptions, load_bars, parse_decimal};

const ROWS: usize = 1_000_000;
const REPS: usize = 7;

/// xorshift64*: a small deterministic generator (no extra dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Roughly normal, mean 0, sd 1 (sum of 4 uniforms, scaled).
    fn normal(&mut self) -> f64 {
        let s: f64 = (0..4)
            .map(|_| (self.next() >> 11) as f64 / (1u64 << 53) as f64)
            .sum();
        (s - 2.0) * (3.0f64).sqrt()
    }
}

fn write_cents(w: &mut impl Write, cents: i64) -> std::io::Result<()> {
    write!(w, "{}.{:02}", cents / 100, cents % 100)
}

/// Write the file: 1-minute gold-like bars from 2020-01-01T00:00Z, prices in
/// cents as a random walk with a realistic range per bar.
fn generate(path: &Path) -> std::io::Result<u64> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(w, "timestamp,open,high,low,close,volume")?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut price: i64 = 195_000; // 1950.00 in cents
    let start: jiff::Timestamp = "2020-01-01T00:00:00Z".parse().unwrap();
    for i in 0..ROWS {
        let t = start + jiff::SignedDuration::from_mins(i as i64);
        let open = price;
        let close = (open + (rng.normal() * 40.0) as i64).max(100);
        let high = open.max(close) + (rng.next() % 30) as i64;
        let low = (open.min(close) - (rng.next() % 30) as i64).max(50);
        let volume = 50 + rng.next() % 2_000;
        write!(w, "{t},")?;
        write_cents(&mut w, open)?;
        w.write_all(b",")?;
        write_cents(&mut w, high)?;
        w.write_all(b",")?;
        write_cents(&mut w, low)?;
        w.write_all(b",")?;
        write_cents(&mut w, close)?;
        writeln!(w, ",{volume}")?;
        price = close;
    }
    w.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// CPU time this thread has run, in ns (`/proc/thread-self/schedstat`): on
/// a shared machine it is steadier than wall time. `None` where unavailable.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The best of several runs: wall time and thread CPU time.
#[derive(Clone, Copy)]
struct Timing {
    wall: Duration,
    cpu: Option<Duration>,
}

impl Timing {
    fn ns_per_row(self) -> (f64, Option<f64>) {
        let per = |d: Duration| d.as_nanos() as f64 / ROWS as f64;
        (per(self.wall), self.cpu.map(per))
    }

    fn show(self, label: &str) {
        let (w, c) = self.ns_per_row();
        match c {
            Some(c) => println!("{label:<34} wall {w:6.1} ns/row   cpu {c:6.1} ns/row"),
            None => println!("{label:<34} wall {w:6.1} ns/row"),
        }
    }

    fn ratio(self, base: Timing) -> String {
        let w = self.wall.as_secs_f64() / base.wall.as_secs_f64();
        match (self.cpu, base.cpu) {
            (Some(a), Some(b)) => {
                format!("wall {w:.2}, cpu {:.2}", a.as_secs_f64() / b.as_secs_f64())
            }
            _ => format!("wall {w:.2}"),
        }
    }
}

fn min_time<T>(mut f: impl FnMut() -> T) -> (Timing, T) {
    let mut wall = Duration::MAX;
    let mut cpu: Option<Duration> = None;
    let mut last = None;
    for _ in 0..REPS {
        drop(last.take());
        let c0 = cpu_ns();
        let t = Instant::now();
        let v = f();
        wall = wall.min(t.elapsed());
        if let (Some(c0), Some(c1)) = (c0, cpu_ns()) {
            let d = Duration::from_nanos(c1 - c0);
            cpu = Some(cpu.map_or(d, |best| best.min(d)));
        }
        last = Some(v);
    }
    (Timing { wall, cpu }, last.unwrap())
}

/// Reset the peak resident set size (Linux `clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak and current resident set size in KiB (VmHWM, VmRSS).
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Iterate the records and parse the five numbers of each.
fn sum_numbers(path: &Path, parse: fn(&[u8]) -> Option<f64>) -> f64 {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_path(path)
        .unwrap();
    let mut rec = csv::ByteRecord::new();
    let mut sum = 0.0;
    while rdr.read_byte_record(&mut rec).unwrap() {
        for i in 1..6 {
            sum += parse(&rec[i]).unwrap();
        }
    }
    sum
}

fn main() {
    let dir = std::env::temp_dir().join(format!("playbook-bench-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bars_1m.csv");
    let t = Instant::now();
    let bytes = generate(&path).unwrap();
    println!(
        "generated {ROWS} rows, {:.1} MB, in {:.2?}",
        bytes as f64 / 1e6,
        t.elapsed()
    );
    let opts = SourceOptions::default();

    // (a) csv ByteRecords only, with the reader's own csv settings.
    let (a, n) = min_time(|| {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .buffer_capacity(1 << 16)
            .from_path(&path)
            .unwrap();
        let mut rec = csv::ByteRecord::new();
        let mut n = 0usize;
        let mut len = 0usize;
        while rdr.read_byte_record(&mut rec).unwrap() {
            n += 1;
            len += rec.as_slice().len();
        }
        black_box(len);
        n
    });
    assert_eq!(n, ROWS);

    // Where the time goes: (a) plus parsing the five numbers, with the
    // crate's exact fast path and with std.
    let (a_fast, s1) = min_time(|| sum_numbers(&path, parse_decimal));
    let (a_std, s2) =
        min_time(|| sum_numbers(&path, |b| std::str::from_utf8(b).ok()?.parse().ok()));
    assert_eq!(s1.to_bits(), s2.to_bits());

    // (c) streaming, measured first so its peak RSS is not the loaded Vec's.
    reset_peak();
    let base = rss_kib().1;
    let (c, sum) = min_time(|| {
        let mut sum = 0.0;
        for item in BarReader::open(&path, &opts).unwrap() {
            sum += item.unwrap().bar.close;
        }
        sum
    });
    black_box(sum);
    let (d, sum2) = min_time(|| {
        let mut sum = 0.0;
        let mut reader = BarReader::open(&path, &opts).unwrap();
        reader.for_each_bar(|b| sum += b.bar.close).unwrap();
        sum
    });
    assert_eq!(sum.to_bits(), sum2.to_bits());
    let (stream_peak, _) = rss_kib();

    // (b) loading into Vec<Bar>.
    reset_peak();
    let (b, loaded) = min_time(|| load_bars(&path, &opts).unwrap());
    let (load_peak, _) = rss_kib();
    assert_eq!(loaded.bars.len(), ROWS);
    let per_bar =
        (loaded.bars.capacity() * std::mem::size_of::<Bar>()) as f64 / loaded.bars.len() as f64;

    println!("best of {REPS} runs; cpu = this thread's CPU time (steadier on a shared machine)");
    a.show("(a) csv ByteRecord iteration");
    a_fast.show("    (a) + 5 x parse_decimal");
    a_std.show("    (a) + 5 x str::parse::<f64>");
    b.show("(b) load_bars -> Vec<Bar>");
    c.show("(c) BarReader streaming (Iterator)");
    d.show("    (c) via BarReader::for_each_bar");
    println!("ratio (b)/(a): {} (target <= 1.5)", b.ratio(a));
    println!(
        "ratio (c)/(a): {}; for_each_bar/(a): {}",
        c.ratio(a),
        d.ratio(a)
    );
    println!(
        "held bar: size_of::<Bar>() = {} B, {per_bar:.1} B per bar with Vec capacity (target <= 64)",
        std::mem::size_of::<Bar>()
    );
    println!(
        "peak RSS: baseline {base} KiB; streaming {stream_peak} KiB (+{} KiB); loading {load_peak} KiB (+{} KiB)",
        stream_peak.saturating_sub(base),
        load_peak.saturating_sub(base)
    );
    println!("report of the generated file:\n{}", loaded.report);
    std::fs::remove_dir_all(&dir).unwrap();
}
