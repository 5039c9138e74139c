//! Indicator kernels: against TA-Lib fixtures (`scripts/talib_reference.py`),
//! `na` semantics, wall-clock windows, fixed buffer sizes.

use jiff::{SignedDuration, Timestamp};
use playbook::indicators::{
    Atr, BarsSince, Change, Diff, Ema, Gap, Highest, Indicator, Lookback, Lowest, MAX_PREALLOCATED,
    Rsi, Slope, Sma, StdDev, TimeChange, TimeDiff, TimeLookback, Volatility, Wma,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/indicators");
const SOURCES: [&str; 2] = ["GC_1h", "USDJPY_1h"];
/// Relative tolerance against TA-Lib.
const REL: f64 = 1e-9;
/// Absolute floor near zero, as a fraction of the largest input magnitude
/// (rounding in sums of inputs scales with the inputs, not with the output).
const ABS_OF_INPUT: f64 = 1e-12;

/// A fixture: column names and columns (empty cell = NaN).
struct Fixture {
    name: String,
    header: Vec<String>,
    columns: Vec<Vec<f64>>,
}

impl Fixture {
    fn load(name: &str) -> Fixture {
        let path = format!("{FIXTURES}/{name}");
        let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let mut columns = vec![Vec::new(); header.len()];
        for (line, rec) in reader.records().enumerate() {
            let rec = rec.unwrap_or_else(|e| panic!("{path}: {e}"));
            for (col, cell) in columns.iter_mut().zip(rec.iter()) {
                col.push(if cell.is_empty() {
                    f64::NAN
                } else {
                    cell.parse()
                        .unwrap_or_else(|e| panic!("{path}:{}: {cell:?}: {e}", line + 2))
                });
            }
        }
        assert!(columns[0].len() >= 1000, "{path}: too few rows");
        Fixture {
            name: name.to_owned(),
            header,
            columns,
        }
    }

    fn column(&self, name: &str) -> &[f64] {
        let i = self.header.iter().position(|h| h == name);
        &self.columns[i.unwrap_or_else(|| panic!("{}: no column {name}", self.name))]
    }

    /// The output columns `<prefix>_<period>...` with their period.
    fn outputs(&self, prefix: &str) -> Vec<(usize, String)> {
        let outs: Vec<_> = self
            .header
            .iter()
            .filter_map(|h| {
                let rest = h.strip_prefix(prefix)?.strip_prefix('_')?;
                let period = rest.split('_').next()?.parse().ok()?;
                Some((period, h.clone()))
            })
            .collect();
        assert!(!outs.is_empty(), "{}: no {prefix}_* columns", self.name);
        outs
    }

    /// Largest input magnitude (for the absolute floor).
    fn input_scale(&self) -> f64 {
        self.column("close").iter().fold(0.0, |m, x| m.max(x.abs()))
    }
}

/// Compares `got` with `expected` position by position: NaN exactly where
/// expected, otherwise within tolerance. Returns the largest fraction of the
/// tolerance used (error / (REL * |expected| + floor)).
fn compare(what: &str, got: &[f64], expected: &[f64], scale: f64) -> f64 {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    let floor = ABS_OF_INPUT * scale;
    let mut worst = 0.0f64;
    for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(
            g.is_nan(),
            e.is_nan(),
            "{what}: row {i}: got {g}, TA-Lib {e} (na position differs)"
        );
        if e.is_nan() {
            continue;
        }
        let err = (g - e).abs();
        assert!(
            err <= REL * e.abs() + floor,
            "{what}: row {i}: got {g:?}, TA-Lib {e:?}, error {err:e}"
        );
        worst = worst.max(err / (REL * e.abs() + floor));
    }
    worst
}

/// Leading NaNs of a reference column: TA-Lib's lookback.
fn leading_nans(col: &[f64]) -> usize {
    col.iter().take_while(|x| x.is_nan()).count()
}

/// Runs a single-input kernel over the close column of every source and
/// compares it (after `map`) with every `<prefix>_<n>` column.
fn check_single(prefix: &str, make: impl Fn(usize) -> Box<dyn Indicator>, map: fn(f64) -> f64) {
    for source in SOURCES {
        let fx = Fixture::load(&format!("{prefix}_{source}.csv"));
        let close = fx.column("close");
        for (n, col) in fx.outputs(prefix) {
            let expected = fx.column(&col);
            let mut k = make(n);
            assert_eq!(
                k.lookback(),
                leading_nans(expected),
                "{prefix}({n}) lookback"
            );
            let got: Vec<f64> = close.iter().map(|&x| map(k.update(x))).collect();
            let worst = compare(
                &format!("{prefix}_{source} {col}"),
                &got,
                expected,
                fx.input_scale(),
            );
            assert_eq!(map(k.value()).to_bits(), got.last().unwrap().to_bits());
            eprintln!("{prefix}_{source} {col}: tolerance used {worst:e}");
        }
    }
}

fn id(x: f64) -> f64 {
    x
}

#[test]
fn sma_matches_talib() {
    check_single("sma", |n| Box::new(Sma::new(n)), id);
}

#[test]
fn ema_matches_talib() {
    check_single("ema", |n| Box::new(Ema::new(n)), id);
}

#[test]
fn wma_matches_talib() {
    check_single("wma", |n| Box::new(Wma::new(n)), id);
}

#[test]
fn rsi_matches_talib() {
    check_single("rsi", |n| Box::new(Rsi::new(n)), id);
}

#[test]
fn stdev_matches_talib() {
    check_single("stddev", |n| Box::new(StdDev::new(n)), id);
}

#[test]
fn highest_matches_talib_max() {
    check_single("max", |n| Box::new(Highest::new(n)), id);
}

#[test]
fn lowest_matches_talib_min() {
    check_single("min", |n| Box::new(Lowest::new(n)), id);
}

#[test]
fn slope_matches_talib_linearreg_slope() {
    check_single("linearreg_slope", |n| Box::new(Slope::new(n)), id);
}

#[test]
fn change_matches_talib_rocr_minus_one() {
    // ROCR = x / x[n]; change = ROCR - 1, compared as change + 1.
    check_single("rocr", |n| Box::new(Change::new(n)), |c| c + 1.0);
}

#[test]
fn diff_matches_talib_mom() {
    check_single("mom", |n| Box::new(Diff::new(n)), id);
}

#[test]
fn volatility_matches_numpy() {
    for source in SOURCES {
        let fx = Fixture::load(&format!("volatility_{source}.csv"));
        let close = fx.column("close");
        for (n, col) in fx.outputs("volatility") {
            let bpy: f64 = col
                .rsplit_once("_bpy")
                .and_then(|(_, b)| b.parse().ok())
                .unwrap_or_else(|| panic!("{col}: no _bpy suffix"));
            let expected = fx.column(&col);
            let mut k = Volatility::new(n, bpy);
            assert_eq!(k.lookback(), leading_nans(expected));
            let got: Vec<f64> = close.iter().map(|&x| k.update(x)).collect();
            // Volatility is a ratio of prices: its natural scale is 1.
            let worst = compare(&format!("volatility_{source} {col}"), &got, expected, 1.0);
            eprintln!("volatility_{source} {col}: tolerance used {worst:e}");
        }
    }
}

#[test]
fn atr_matches_talib() {
    for source in SOURCES {
        let fx = Fixture::load(&format!("atr_{source}.csv"));
        let (high, low, close) = (fx.column("high"), fx.column("low"), fx.column("close"));
        for (n, col) in fx.outputs("atr") {
            let expected = fx.column(&col);
            let mut k = Atr::new(n);
            assert_eq!(k.lookback(), leading_nans(expected));
            let got: Vec<f64> = (0..close.len())
                .map(|i| k.update(high[i], low[i], close[i]))
                .collect();
            let worst = compare(
                &format!("atr_{source} {col}"),
                &got,
                expected,
                fx.input_scale(),
            );
            eprintln!("atr_{source} {col}: tolerance used {worst:e}");
        }
    }
}

/// A deterministic pseudo-random walk around `level` (no dependency needed).
fn walk(len: usize, level: f64, seed: u64) -> Vec<f64> {
    let mut s = seed;
    let mut x = level;
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

fn brute_mean(w: &[f64]) -> f64 {
    w.iter().sum::<f64>() / w.len() as f64
}

fn close_to(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

#[test]
fn running_sums_do_not_drift_over_a_long_series() {
    let xs = walk(300_000, 20_000.0, 7);
    let n = 50;
    let (mut sma, mut wma, mut sd, mut slope) =
        (Sma::new(n), Wma::new(n), StdDev::new(n), Slope::new(n));
    for (i, &x) in xs.iter().enumerate() {
        let (a, b, c, d) = (sma.update(x), wma.update(x), sd.update(x), slope.update(x));
        if i + 1 < n || i % 9_973 != 0 {
            continue;
        }
        let w = &xs[i + 1 - n..=i];
        let mean = brute_mean(w);
        let wmean = w
            .iter()
            .enumerate()
            .map(|(j, v)| (j + 1) as f64 * v)
            .sum::<f64>()
            / (n * (n + 1) / 2) as f64;
        let var = w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64;
        let xm = (n - 1) as f64 / 2.0;
        let sxy: f64 = w
            .iter()
            .enumerate()
            .map(|(j, v)| (j as f64 - xm) * (v - mean))
            .sum();
        let sxx: f64 = (0..n).map(|j| (j as f64 - xm).powi(2)).sum();
        assert!(close_to(a, mean, 1e-12), "sma at {i}: {a} vs {mean}");
        assert!(close_to(b, wmean, 1e-12), "wma at {i}: {b} vs {wmean}");
        assert!(
            close_to(c, var.sqrt(), 1e-9),
            "stdev at {i}: {c} vs {}",
            var.sqrt()
        );
        assert!(
            (d - sxy / sxx).abs() <= 1e-9 * (sxy / sxx).abs() + 1e-12 * mean,
            "slope at {i}: {d} vs {}",
            sxy / sxx
        );
    }
}

/// A kernel factory.
type Make = fn() -> Box<dyn Indicator>;

/// Feeds `xs` and collects the outputs.
fn run(k: &mut dyn Indicator, xs: &[f64]) -> Vec<f64> {
    xs.iter().map(|&x| k.update(x)).collect()
}

#[test]
fn windowed_kernels_are_na_while_an_na_is_inside_the_window() {
    let mut xs = walk(60, 100.0, 3);
    xs[20] = f64::NAN;
    xs[40] = f64::INFINITY; // not finite: treated as na too
    let n = 5;
    let kernels: Vec<(&str, Make)> = vec![
        ("sma", || Box::new(Sma::new(5))),
        ("wma", || Box::new(Wma::new(5))),
        ("stdev", || Box::new(StdDev::new(5))),
        ("highest", || Box::new(Highest::new(5))),
        ("lowest", || Box::new(Lowest::new(5))),
        ("slope", || Box::new(Slope::new(5))),
    ];
    for (name, make) in kernels {
        let got = run(make().as_mut(), &xs);
        for (i, &g) in got.iter().enumerate() {
            let window = i + 1 >= n && !xs[i + 1 - n..=i].iter().any(|x| !x.is_finite());
            if !window {
                assert!(g.is_nan(), "{name}: row {i} should be na, got {g}");
                continue;
            }
            // Defined: equal to a fresh kernel fed exactly this window.
            let fresh = *run(make().as_mut(), &xs[i + 1 - n..=i]).last().unwrap();
            assert!(
                close_to(g, fresh, 1e-12) || (g - fresh).abs() < 1e-12,
                "{name}: row {i}: {g} vs fresh {fresh}"
            );
        }
        // The na rows: 20..=24 and 40..=44; row 25 is defined again.
        assert!(got[24].is_nan() && !got[25].is_nan(), "{name}");
        assert!(got[44].is_nan() && !got[45].is_nan(), "{name}");
    }
}

#[test]
fn two_point_kernels_are_na_while_the_na_is_current_or_n_bars_back() {
    let mut xs: Vec<f64> = (1..=12).map(f64::from).collect();
    xs[5] = f64::NAN;
    let diff = run(&mut Diff::new(2), &xs);
    let change = run(&mut Change::new(2), &xs);
    let lb = run(&mut Lookback::new(2), &xs);
    for i in 0..xs.len() {
        let na = i < 2 || i == 5 || i == 7;
        assert_eq!(diff[i].is_nan(), na, "diff row {i}");
        assert_eq!(change[i].is_nan(), na, "change row {i}");
        if !na {
            assert_eq!(diff[i], 2.0);
            assert_eq!(change[i], xs[i] / xs[i - 2] - 1.0);
        }
        assert_eq!(lb[i].is_nan(), i < 2 || i == 7, "lookback row {i}");
    }
    // Division by a zero past value is na (TA-Lib's ROCR gives 0).
    let mut c = Change::new(1);
    c.update(0.0);
    assert!(c.update(5.0).is_nan());
}

#[test]
fn lookback_ring_gives_values_n_bars_ago() {
    let mut lb = Lookback::new(3);
    assert_eq!(lb.lookback(), 3);
    for x in 1..=10 {
        let past = lb.update(f64::from(x));
        if x <= 3 {
            assert!(past.is_nan());
        } else {
            assert_eq!(past, f64::from(x - 3));
        }
        assert_eq!(lb.get(0), f64::from(x));
        assert!(lb.get(4).is_nan(), "beyond n is na");
    }
    assert_eq!(lb.get(1), 9.0);
    assert_eq!(lb.value(), 7.0);
}

#[test]
fn recursive_kernels_skip_an_na_input() {
    let clean = walk(40, 50.0, 11);
    let mut dirty = clean.clone();
    dirty.insert(3, f64::NAN); // inside the warm-up
    dirty.insert(25, f64::NAN); // after it
    let na_rows = [3usize, 25];
    let kernels: Vec<(&str, Make)> = vec![
        ("ema", || Box::new(Ema::new(5))),
        ("rsi", || Box::new(Rsi::new(5))),
    ];
    for (name, make) in kernels {
        let want = run(make().as_mut(), &clean);
        let got = run(make().as_mut(), &dirty);
        let got_clean: Vec<f64> = got
            .iter()
            .enumerate()
            .filter(|(i, _)| !na_rows.contains(i))
            .map(|(_, v)| *v)
            .collect();
        for &i in &na_rows {
            assert!(got[i].is_nan(), "{name}: na row {i}");
        }
        assert_eq!(got_clean.len(), want.len());
        for (i, (g, w)) in got_clean.iter().zip(&want).enumerate() {
            assert_eq!(g.to_bits(), w.to_bits(), "{name}: row {i}: {g} vs {w}");
        }
    }
    // ATR: a bar with an na field is skipped; the next true range uses the
    // last usable close.
    let bars = [(11.0, 9.0, 10.0), (12.0, 10.0, 11.0), (13.0, 11.0, 12.0)];
    let mut a = Atr::new(2);
    let mut b = Atr::new(2);
    for (h, l, c) in bars {
        a.update(h, l, c);
    }
    b.update(11.0, 9.0, 10.0);
    assert!(b.update(f64::NAN, 9.5, 10.5).is_nan());
    b.update(12.0, 10.0, 11.0);
    assert_eq!(b.update(13.0, 11.0, 12.0), a.value());
    assert_eq!(a.value(), 2.0);
}

#[test]
fn chained_warm_up_is_the_sum_of_lookbacks() {
    let xs = walk(100, 10.0, 5);
    let mut inner = Sma::new(10);
    let mut outer = Ema::new(5);
    let first = xs
        .iter()
        .position(|&x| !outer.update(inner.update(x)).is_nan())
        .unwrap();
    assert_eq!(first, inner.lookback() + outer.lookback());
}

#[test]
fn ema_seeds_with_the_sma_of_the_first_n() {
    let mut e = Ema::new(3);
    assert!(e.update(1.0).is_nan());
    assert!(e.update(2.0).is_nan());
    assert_eq!(e.update(6.0), 3.0);
    assert_eq!(e.update(5.0), 4.0); // 3 + (5 - 3) * 0.5
}

#[test]
fn volatility_uses_sample_stdev_of_log_returns() {
    let xs = [100.0, 101.0, 99.0, 102.0];
    let mut v = Volatility::new(3, 252.0);
    let out = run(&mut v, &xs);
    assert!(out[..3].iter().all(|x| x.is_nan()));
    let r: Vec<f64> = xs.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
    let m = brute_mean(&r);
    let var = r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 2.0;
    assert!(close_to(out[3], var.sqrt() * 252f64.sqrt(), 1e-12));
    // A non-positive price makes both returns using it na.
    let mut v = Volatility::new(2, 1.0);
    let out = run(&mut v, &[1.0, 2.0, 0.0, 2.0, 3.0, 4.0, 5.0]);
    let defined: Vec<bool> = out.iter().map(|x| !x.is_nan()).collect();
    assert_eq!(defined, [false, false, false, false, false, true, true]);
}

#[test]
fn gap_is_open_over_previous_close() {
    let mut g = Gap::new();
    assert_eq!(g.lookback(), 1);
    assert!(g.update(100.0, 102.0).is_nan());
    assert!(close_to(g.update(102.0 * 1.01, 50.0), 0.01, 1e-12));
    assert!(close_to(g.update(45.0, f64::NAN), -0.1, 1e-12));
    assert!(g.update(45.0, 46.0).is_nan(), "previous close was na");
    assert!(g.value().is_nan());
}

#[test]
fn bars_since_counts_from_the_last_true() {
    let mut b = BarsSince::new();
    let conds = [false, false, true, false, false, true, true, false];
    let got: Vec<f64> = conds.iter().map(|&c| b.update(c)).collect();
    assert!(got[0].is_nan() && got[1].is_nan());
    assert_eq!(&got[2..], &[0.0, 1.0, 2.0, 0.0, 0.0, 1.0]);
    assert_eq!(b.value(), 1.0);
    assert_eq!(b.lookback(), 0);
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn wall_clock_window_on_irregular_timestamps() {
    // Hourly bars with a weekend gap and a missing hour.
    let samples = [
        ("2024-01-05T20:00:00Z", 100.0), // Fri
        ("2024-01-05T21:00:00Z", 101.0),
        ("2024-01-07T23:00:00Z", 102.0), // Sun night after the gap
        ("2024-01-08T00:00:00Z", 103.0),
        ("2024-01-08T02:00:00Z", 104.0), // 01:00 missing
        ("2024-01-08T21:00:00Z", 110.0),
        ("2024-01-08T22:00:00Z", 111.0),
        ("2024-01-09T00:00:00Z", 112.0),
        ("2024-01-09T01:00:00Z", 113.0),
    ];
    let day = SignedDuration::from_hours(24);
    let mut lb = TimeLookback::with_spacing(day, SignedDuration::from_hours(1));
    let mut ch = TimeChange::with_spacing(day, SignedDuration::from_hours(1));
    let mut df = TimeDiff::with_spacing(day, SignedDuration::from_hours(1));
    let got: Vec<f64> = samples
        .iter()
        .map(|&(t, x)| {
            ch.update(ts(t), x);
            df.update(ts(t), x);
            lb.update(ts(t), x)
        })
        .collect();
    // As of t - 24h: nothing before Sun 23:00 - 24h = Sat 23:00 except Fri's
    // two bars (latest: 21:00 = 101). Mon 21:00 - 24h = Sun 21:00 -> 101;
    // Mon 22:00 -> 101; Tue 00:00 -> Mon 00:00 = 103; Tue 01:00 -> Mon 00:00
    // (01:00 is missing) = 103.
    let want = [
        f64::NAN,
        f64::NAN,
        101.0,
        101.0,
        101.0,
        101.0,
        101.0,
        103.0,
        103.0,
    ];
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g.is_nan() && w.is_nan()) || *g == w, "row {i}: {g} vs {w}");
    }
    assert_eq!(ch.value(), 113.0 / 103.0 - 1.0);
    assert_eq!(df.value(), 10.0);
    // Exactly w ago counts as "at or before t - w".
    let mut lb = TimeLookback::new(SignedDuration::from_hours(2), 4);
    lb.update(ts("2024-01-01T00:00:00Z"), 1.0);
    lb.update(ts("2024-01-01T01:00:00Z"), 2.0);
    assert_eq!(lb.update(ts("2024-01-01T02:00:00Z"), 3.0), 1.0);
}

#[test]
fn wall_clock_window_matches_brute_force_as_of() {
    // Irregular spacing: 1 to 300 minutes, with repeated timestamps.
    let mut s: u64 = 99;
    let mut t = ts("2024-03-01T00:00:00Z");
    let mut samples = Vec::new();
    for i in 0..3_000 {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let step = if i % 97 == 0 { 0 } else { (s >> 33) % 300 + 1 };
        t = t
            .checked_add(SignedDuration::from_mins(step as i64))
            .unwrap();
        samples.push((t, i as f64));
    }
    let w = SignedDuration::from_hours(24);
    let mut lb = TimeLookback::new(w, 16);
    for (i, &(t, x)) in samples.iter().enumerate() {
        let got = lb.update(t, x);
        let cutoff = t.checked_sub(w).unwrap();
        let want = samples[..=i]
            .iter()
            .rev()
            .find(|(ts, _)| *ts <= cutoff)
            .map_or(f64::NAN, |s| s.1);
        assert!(
            (got.is_nan() && want.is_nan()) || got == want,
            "sample {i}: {got} vs {want}"
        );
        // Memory bound: the samples inside (t - w, t] plus one.
        let inside = samples[..=i].iter().filter(|(ts, _)| *ts > cutoff).count();
        assert!(
            lb.len() <= inside + 1,
            "sample {i}: {} > {}",
            lb.len(),
            inside + 1
        );
    }
}

#[test]
fn wall_clock_preallocation_is_capped() {
    let week = SignedDuration::from_hours(24 * 7);
    let tl = TimeLookback::with_spacing(week, SignedDuration::ZERO);
    assert!(tl.capacity() >= MAX_PREALLOCATED && tl.capacity() < 2 * MAX_PREALLOCATED);
    let tl = TimeLookback::with_spacing(week, SignedDuration::from_hours(1));
    assert!(tl.capacity() >= 24 * 7 + 2 && tl.capacity() < 2 * (24 * 7 + 2));
}

#[test]
fn buffers_never_grow() {
    let xs = walk(100_000, 1_000.0, 13);
    let n = 37;
    let mut sma = Sma::new(n);
    let mut wma = Wma::new(n);
    let mut sd = StdDev::new(n);
    let mut hi = Highest::new(n);
    let mut lo = Lowest::new(n);
    let mut sl = Slope::new(n);
    let mut vol = Volatility::new(n, 252.0);
    let mut lb = Lookback::new(n);
    let mut ch = Change::new(n);
    let mut df = Diff::new(n);
    let hour = SignedDuration::from_hours(1);
    let mut tl = TimeLookback::with_spacing(SignedDuration::from_hours(24), hour);
    let caps = |s: &Sma, w: &Wma, d: &StdDev, h: &Highest, l: &Lowest, sl: &Slope| {
        [
            s.capacity(),
            w.capacity(),
            d.capacity(),
            h.capacity(),
            l.capacity(),
            sl.capacity(),
        ]
    };
    let before = caps(&sma, &wma, &sd, &hi, &lo, &sl);
    assert_eq!(before, [n; 6]);
    let other_before = [vol.capacity(), lb.capacity(), ch.capacity(), df.capacity()];
    let tl_before = tl.capacity();
    let mut t = ts("2020-01-01T00:00:00Z");
    for &x in &xs {
        sma.update(x);
        wma.update(x);
        sd.update(x);
        hi.update(x);
        lo.update(x);
        sl.update(x);
        vol.update(x);
        lb.update(x);
        ch.update(x);
        df.update(x);
        tl.update(t, x);
        t = t.checked_add(hour).unwrap();
        assert!(tl.len() <= 26);
    }
    assert_eq!(caps(&sma, &wma, &sd, &hi, &lo, &sl), before);
    assert_eq!(
        [vol.capacity(), lb.capacity(), ch.capacity(), df.capacity()],
        other_before
    );
    assert_eq!(other_before, [n, n + 1, n + 1, n + 1]);
    assert_eq!(tl.capacity(), tl_before);
}

#[test]
fn highest_and_lowest_follow_a_brute_force_window() {
    let xs = walk(5_000, 10.0, 17);
    for n in [1, 2, 3, 10, 64] {
        let mut hi = Highest::new(n);
        let mut lo = Lowest::new(n);
        for (i, &x) in xs.iter().enumerate() {
            let (h, l) = (hi.update(x), lo.update(x));
            if i + 1 < n {
                assert!(h.is_nan() && l.is_nan());
                continue;
            }
            let w = &xs[i + 1 - n..=i];
            assert_eq!(h, w.iter().cloned().fold(f64::MIN, f64::max), "n={n} i={i}");
            assert_eq!(l, w.iter().cloned().fold(f64::MAX, f64::min), "n={n} i={i}");
        }
    }
}

/// Brute-force reference of a windowed kernel on one full, clean window.
fn brute(name: &str, w: &[f64]) -> f64 {
    let n = w.len() as f64;
    let mean = brute_mean(w);
    match name {
        "sma" => mean,
        "wma" => {
            let num: f64 = w.iter().enumerate().map(|(j, v)| (j + 1) as f64 * v).sum();
            num / (n * (n + 1.0) / 2.0)
        }
        "stdev" => (w.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt(),
        "highest" => w.iter().cloned().fold(f64::MIN, f64::max),
        "lowest" => w.iter().cloned().fold(f64::MAX, f64::min),
        "slope" => {
            let xm = (n - 1.0) / 2.0;
            let sxy: f64 = w
                .iter()
                .enumerate()
                .map(|(j, v)| (j as f64 - xm) * (v - mean))
                .sum();
            let sxx: f64 = (0..w.len()).map(|j| (j as f64 - xm).powi(2)).sum();
            sxy / sxx
        }
        _ => unreachable!("{name}"),
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Every windowed kernel equals a brute-force computation over its
    /// window, and is `na` exactly while warming up or while an `na` input is
    /// inside the window.
    #[test]
    fn windowed_kernels_match_brute_force(
        n in 2usize..24,
        xs in proptest::collection::vec(
            proptest::prop_oneof![9 => 1.0f64..1000.0, 1 => proptest::strategy::Just(f64::NAN)],
            0..300,
        ),
    ) {
        let kernels: [(&str, Box<dyn Indicator>); 6] = [
            ("sma", Box::new(Sma::new(n))),
            ("wma", Box::new(Wma::new(n))),
            ("stdev", Box::new(StdDev::new(n))),
            ("highest", Box::new(Highest::new(n))),
            ("lowest", Box::new(Lowest::new(n))),
            ("slope", Box::new(Slope::new(n))),
        ];
        for (name, mut k) in kernels {
            for (i, &x) in xs.iter().enumerate() {
                let got = k.update(x);
                let clean = i + 1 >= n && xs[i + 1 - n..=i].iter().all(|v| !v.is_nan());
                proptest::prop_assert_eq!(got.is_nan(), !clean, "{} row {}", name, i);
                if clean {
                    let want = brute(name, &xs[i + 1 - n..=i]);
                    proptest::prop_assert!(
                        (got - want).abs() <= 1e-9 * want.abs() + 1e-9,
                        "{} row {}: {} vs {}", name, i, got, want
                    );
                }
            }
        }
    }
}
