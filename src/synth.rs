//! A generator of realistic, clearly synthetic multi-symbol bars for examples
//! and tests: hourly USDJPY, XAUUSD, HSI, NQ, ZN and N225 in their own trading
//! hours, plus the US and Japanese policy-rate series, with a scripted
//! yen carry-trade unwind.
//!
//! The output is deterministic: the same [`SynthSpec`] gives the same bytes
//! on every machine (a fixed PRNG, no wall clock, prices rounded to each
//! instrument's tick and printed with Rust's shortest round-trip formatting).
//!
//! The story it tells, in UTC dates of the default spec:
//! - calm carry regime (USDJPY drifting up, equities firm, gold quiet);
//! - a BoJ hike on the first day of the episode (the JP rate steps up);
//! - a three-day unwind: USDJPY falls about 8 %, Asian equities and Nasdaq
//!   sell off with gaps, gold is flushed during the Asian session and
//!   recovers in Europe/US hours, Treasury futures rally;
//! - a Fed cut a few weeks later, and a slow recovery.

use jiff::civil::{Date, Weekday};
use jiff::{Timestamp, ToSpan};
use std::fmt::Write as _;

/// What to generate.
#[derive(Clone, Debug)]
pub struct SynthSpec {
    /// First trading date (UTC).
    pub start: Date,
    /// Number of calendar days to cover.
    pub days: i64,
    /// The first day of the unwind episode (UTC date).
    pub episode: Date,
    /// PRNG seed.
    pub seed: u64,
}

impl Default for SynthSpec {
    fn default() -> SynthSpec {
        SynthSpec {
            start: jiff::civil::date(2024, 6, 3),
            days: 91,
            episode: jiff::civil::date(2024, 8, 1),
            seed: 20240805,
        }
    }
}

/// One generated file: its name (e.g. `USDJPY.csv`) and its CSV text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthFile {
    pub name: String,
    pub text: String,
}

/// The instruments generated, with their trading hours and tick sizes.
struct Instrument {
    symbol: &'static str,
    start_price: f64,
    tick: f64,
    /// Hourly volatility (log-return stdev) in calm markets.
    vol: f64,
    /// Calm drift per hour.
    drift: f64,
    /// Typical hourly volume.
    volume: f64,
    /// Which UTC hours (bar opens) trade on a weekday.
    hours: fn(Weekday, i8) -> bool,
    /// Total log move over the three episode days, and how it splits by day.
    shock: [f64; 3],
    /// Sensitivity of the Asian-hours move on episode days (gold's flush).
    asia_extra: f64,
    /// Trades only in local cash hours, and so gaps at each day's open.
    cash_session: bool,
}

fn fx_hours(day: Weekday, hour: i8) -> bool {
    // 24h Monday-Friday, opening Sunday 22:00Z, closing Friday 21:00Z.
    match day {
        Weekday::Saturday => false,
        Weekday::Sunday => hour >= 22,
        Weekday::Friday => hour < 21,
        _ => true,
    }
}

fn gold_hours(day: Weekday, hour: i8) -> bool {
    // FX hours with the daily 21:00Z maintenance break.
    fx_hours(day, hour) && hour != 21
}

fn cme_hours(day: Weekday, hour: i8) -> bool {
    // CME Globex: Sunday 22:00Z to Friday 21:00Z with a 21:00-22:00Z break.
    gold_hours(day, hour)
}

fn hk_hours(day: Weekday, hour: i8) -> bool {
    // Hong Kong 09:30-12:00 and 13:00-16:00 HKT = 01:30-04:00, 05:00-08:00Z;
    // hourly bars stamped on the hour: 01..03 and 05..07.
    is_weekday(day) && matches!(hour, 1..=3 | 5..=7)
}

fn tokyo_hours(day: Weekday, hour: i8) -> bool {
    // Tokyo 09:00-11:30 and 12:30-15:00 JST = 00:00-02:30, 03:30-06:00Z.
    is_weekday(day) && (0..=5).contains(&hour)
}

fn is_weekday(day: Weekday) -> bool {
    !matches!(day, Weekday::Saturday | Weekday::Sunday)
}

fn instruments() -> Vec<Instrument> {
    vec![
        Instrument {
            symbol: "USDJPY",
            start_price: 156.80,
            tick: 0.001,
            vol: 0.0010,
            drift: 0.00001,
            volume: 0.0,
            hours: fx_hours,
            shock: [-0.025, -0.035, -0.030],
            cash_session: false,
            asia_extra: 0.0,
        },
        Instrument {
            symbol: "XAUUSD",
            start_price: 2330.0,
            tick: 0.01,
            vol: 0.0016,
            drift: 0.00001,
            volume: 4_000.0,
            hours: gold_hours,
            shock: [-0.004, -0.006, 0.004],
            cash_session: false,
            asia_extra: -0.022,
        },
        Instrument {
            symbol: "HSI",
            start_price: 18_400.0,
            tick: 1.0,
            vol: 0.0035,
            drift: 0.0,
            volume: 1.5e8,
            hours: hk_hours,
            shock: [-0.02, -0.035, -0.015],
            cash_session: true,
            asia_extra: 0.0,
        },
        Instrument {
            symbol: "NQ",
            start_price: 19_000.0,
            tick: 0.25,
            vol: 0.0018,
            drift: 0.00001,
            volume: 25_000.0,
            hours: cme_hours,
            shock: [-0.025, -0.03, -0.025],
            cash_session: false,
            asia_extra: 0.0,
        },
        Instrument {
            symbol: "ES",
            start_price: 5_300.0,
            tick: 0.25,
            vol: 0.0014,
            drift: 0.00001,
            volume: 60_000.0,
            hours: cme_hours,
            shock: [-0.018, -0.022, -0.02],
            cash_session: false,
            asia_extra: 0.0,
        },
        Instrument {
            symbol: "ZN",
            start_price: 109.5,
            tick: 0.015625,
            vol: 0.0008,
            drift: 0.0,
            volume: 60_000.0,
            hours: cme_hours,
            shock: [0.006, 0.008, 0.004],
            cash_session: false,
            asia_extra: 0.0,
        },
        Instrument {
            symbol: "N225",
            start_price: 38_900.0,
            tick: 5.0,
            vol: 0.004,
            drift: 0.00005,
            volume: 9e7,
            hours: tokyo_hours,
            shock: [-0.025, -0.06, -0.12],
            cash_session: true,
            asia_extra: 0.0,
        },
    ]
}

/// SplitMix64: small, fast, and identical on every platform.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller; one draw per call for simplicity).
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn round_to_tick(x: f64, tick: f64) -> f64 {
    let r = (x / tick).round() * tick;
    // Print at most 6 decimals: removes binary noise such as 0.30000000000000004.
    (r * 1e6).round() / 1e6
}

/// Generates every file of the spec: one `SYMBOL.csv` per instrument
/// (`timestamp,open,high,low,close,volume`, hourly bars stamped at their
/// open in UTC) and the two policy-rate series in `series/`.
pub fn generate(spec: &SynthSpec) -> Vec<SynthFile> {
    let mut files = Vec::new();
    for (k, inst) in instruments().iter().enumerate() {
        let mut rng = Rng(spec.seed ^ ((k as u64 + 1) * 0x1234_5678_9ABC_DEF1));
        files.push(SynthFile {
            name: format!("{}.csv", inst.symbol),
            text: generate_bars(spec, inst, &mut rng),
        });
    }
    files.extend(policy_series(spec));
    files
}

fn generate_bars(spec: &SynthSpec, inst: &Instrument, rng: &mut Rng) -> String {
    let mut out = String::from("timestamp,open,high,low,close,volume\n");
    let mut price = inst.start_price;
    let t0 = spec
        .start
        .to_zoned(jiff::tz::TimeZone::UTC)
        .expect("valid start");
    let hours = spec.days * 24;
    let episode_start = spec
        .episode
        .to_zoned(jiff::tz::TimeZone::UTC)
        .expect("valid episode")
        .timestamp();
    let mut last_traded_hour: Option<i64> = None;
    for h in 0..hours {
        let zt = t0.checked_add(h.hours()).expect("in range");
        let (day, hour) = (zt.weekday(), zt.hour());
        if !(inst.hours)(day, hour) {
            continue;
        }
        let ts: Timestamp = zt.timestamp();
        let since = ts.as_second() - episode_start.as_second();
        let episode_day = if since >= 0 { since / 86_400 } else { -1 };
        let (mut mu, mut sigma) = (inst.drift, inst.vol);
        if (0..3).contains(&episode_day) {
            // Spread the day's shock over its trading hours (about 20 for
            // 24h markets, 6 for Asian cash indices) with doubled volatility.
            let per_day = (0..24).filter(|hh| (inst.hours)(day, *hh)).count().max(1) as f64;
            mu = inst.shock[episode_day as usize] / per_day;
            sigma = inst.vol * 2.5;
            if inst.asia_extra != 0.0 {
                // Asian hours flush (00-06Z), European/US hours recover it.
                let asia = (0..=6).contains(&hour);
                mu += if asia {
                    inst.asia_extra / 7.0
                } else {
                    -inst.asia_extra * 0.8 / (per_day - 7.0).max(1.0)
                };
            }
        } else if (3..10).contains(&episode_day) {
            // Aftershock: higher volatility, partial mean reversion.
            mu = -inst.shock.iter().sum::<f64>() * 0.25 / 110.0;
            sigma = inst.vol * 1.6;
        }
        // Cash-session markets gap after each break (overnight, lunch): a quiet
        // overnight move normally, part of the day's shock on episode days.
        let first_of_day = last_traded_hour != Some(h - 1);
        last_traded_hour = Some(h);
        let mut open = price;
        if inst.cash_session && first_of_day {
            let mut gap = inst.vol * 2.0 * rng.normal();
            if (0..3).contains(&episode_day) {
                gap += inst.shock[episode_day as usize] * 0.4;
                mu *= 0.6;
            }
            open = price * gap.exp();
        }
        let ret = mu + sigma * rng.normal();
        let close = open * ret.exp();
        let wick_hi = (sigma * 0.6 * rng.uniform()).exp();
        let wick_lo = (-(sigma * 0.6 * rng.uniform())).exp();
        let high = open.max(close) * wick_hi;
        let low = open.min(close) * wick_lo;
        let (o, c) = (
            round_to_tick(open, inst.tick),
            round_to_tick(close, inst.tick),
        );
        let hi = round_to_tick(high, inst.tick).max(o).max(c);
        let lo = round_to_tick(low, inst.tick).min(o).min(c);
        let vol_mult = if (0..3).contains(&episode_day) {
            3.0
        } else {
            1.0
        };
        let volume = (inst.volume * vol_mult * (0.5 + rng.uniform())).round();
        let _ = write!(out, "{},{},{},{},{},", ts, o, hi, lo, c);
        if inst.volume > 0.0 {
            let _ = write!(out, "{}", volume);
        }
        out.push('\n');
        price = close;
    }
    out
}

fn policy_series(spec: &SynthSpec) -> Vec<SynthFile> {
    let day = |offset: i64, hh: i8| -> String {
        let d = spec.episode.checked_add(offset.days()).expect("in range");
        d.at(hh, 0, 0, 0)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .expect("valid")
            .timestamp()
            .to_string()
    };
    let us = format!(
        "timestamp,value\n{},5.50\n{},5.00\n",
        "2023-07-26T18:00:00Z",
        day(48, 18)
    );
    let jp = format!(
        "timestamp,value\n{},0.10\n{},0.25\n",
        "2024-03-19T04:00:00Z",
        day(-1, 4)
    );
    vec![
        SynthFile {
            name: "series/US_POLICY_RATE.csv".into(),
            text: us,
        },
        SynthFile {
            name: "series/JP_POLICY_RATE.csv".into(),
            text: jp,
        },
    ]
}

/// Writes the files of [`generate`] under `dir` (creating `dir/series`).
///
/// # Errors
/// Fails when a directory or file cannot be created or written.
pub fn write_to(
    dir: &std::path::Path,
    spec: &SynthSpec,
) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    for f in generate(spec) {
        let path = dir.join(&f.name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, f.text)?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic() {
        let spec = SynthSpec::default();
        assert_eq!(generate(&spec), generate(&spec));
    }

    #[test]
    fn the_unwind_moves_usdjpy_down() {
        let spec = SynthSpec::default();
        let files = generate(&spec);
        let fx = &files.iter().find(|f| f.name == "USDJPY.csv").unwrap().text;
        let close_on = |prefix: &str| -> f64 {
            let line = fx.lines().rev().find(|l| l.starts_with(prefix)).unwrap();
            line.split(',').nth(4).unwrap().parse().unwrap()
        };
        let before = close_on("2024-07-31");
        let after = close_on("2024-08-05");
        assert!(after / before - 1.0 < -0.05, "{before} -> {after}");
    }

    #[test]
    fn trading_hours_are_respected() {
        let files = generate(&SynthSpec::default());
        let hsi = &files.iter().find(|f| f.name == "HSI.csv").unwrap().text;
        for line in hsi.lines().skip(1) {
            let hour: u32 = line[11..13].parse().unwrap();
            assert!(matches!(hour, 1..=3 | 5..=7), "{line}");
        }
    }
}
