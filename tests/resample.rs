//! Resampling: hand-computed buckets (UTC and the FX 17:00 New York roll),
//! DST, holiday gaps, completed bars only, and structural checks on real
//! USDJPY hourly data against the broker's own 4h bars.

use std::collections::HashMap;

use jiff::civil::{date, time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use playbook::data::{Bar, ClosedBar};
use playbook::resample::{DayStart, Interval, ResampleError, Resampler};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn closed(
    time: Timestamp,
    len: SignedDuration,
    o: f64,
    h: f64,
    l: f64,
    c: f64,
    v: f64,
) -> ClosedBar {
    ClosedBar {
        bar: Bar {
            time,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: v,
        },
        close: time + len,
    }
}

const HOUR: SignedDuration = SignedDuration::from_hours(1);

/// A deterministic hourly bar at `time` (prices depend on the hour index).
fn hourly(time: Timestamp) -> ClosedBar {
    let h = time.as_second() / 3600;
    let o = 150.0 + (h % 7) as f64 * 0.1;
    closed(
        time,
        HOUR,
        o,
        o + 0.2 + (h % 5) as f64 * 0.01,
        o - 0.15 - (h % 3) as f64 * 0.01,
        o + 0.05,
        1.0 + (h % 4) as f64,
    )
}

/// Hourly bars opening in `[from, to)`.
fn hours(from: &str, to: &str) -> Vec<ClosedBar> {
    let (mut t, end) = (ts(from), ts(to));
    let mut out = Vec::new();
    while t < end {
        out.push(hourly(t));
        t += HOUR;
    }
    out
}

/// The expected aggregate of `bars` (computed independently of the resampler).
fn aggregate(bars: &[ClosedBar], start: &str, end: &str) -> ClosedBar {
    let (s, e) = (ts(start), ts(end));
    let inside: Vec<&ClosedBar> = bars
        .iter()
        .filter(|b| s <= b.bar.time && b.bar.time < e)
        .collect();
    assert!(!inside.is_empty());
    ClosedBar {
        bar: Bar {
            time: s,
            open: inside[0].bar.open,
            high: inside.iter().map(|b| b.bar.high).fold(f64::MIN, f64::max),
            low: inside.iter().map(|b| b.bar.low).fold(f64::MAX, f64::min),
            close: inside.last().unwrap().bar.close,
            volume: inside.iter().map(|b| b.bar.volume).sum(),
        },
        close: e,
    }
}

/// Pushes every bar; returns the emitted bars with the index of the push
/// that emitted each.
fn run(r: &mut Resampler, bars: &[ClosedBar]) -> Vec<(usize, ClosedBar)> {
    let mut out = Vec::new();
    for (i, b) in bars.iter().enumerate() {
        for e in r.push(*b).unwrap() {
            out.push((i, e));
        }
    }
    out
}

#[test]
fn one_hour_to_four_hours_utc_by_hand() {
    let bars: Vec<ClosedBar> = (0..8)
        .map(|i| {
            let f = i as f64;
            let spike = if i == 2 { 5.0 } else { 0.0 };
            closed(
                ts("2024-07-15T00:00:00Z") + HOUR * i,
                HOUR,
                100.0 + f,
                101.0 + f + spike,
                99.0 + f,
                100.5 + f,
                f + 1.0,
            )
        })
        .collect();
    let mut r = Resampler::new(Interval::from_minutes(240).unwrap(), DayStart::utc());
    let out = run(&mut r, &bars);
    assert_eq!(
        out,
        vec![
            (
                3,
                closed(
                    ts("2024-07-15T00:00:00Z"),
                    HOUR * 4,
                    100.0,
                    108.0,
                    99.0,
                    103.5,
                    10.0
                )
            ),
            (
                7,
                closed(
                    ts("2024-07-15T04:00:00Z"),
                    HOUR * 4,
                    104.0,
                    108.0,
                    103.0,
                    107.5,
                    26.0
                )
            ),
        ]
    );
    assert!(r.partial().is_none());
}

#[test]
fn fx_four_hour_grid_follows_new_york_summer_and_winter() {
    let mut r = Resampler::new(Interval::Minutes(240), DayStart::new_york_17());
    // Summer: the trading day dated Monday 2024-07-15 runs 21:00Z-21:00Z.
    let summer = hours("2024-07-14T21:00:00Z", "2024-07-15T21:00:00Z");
    let out: Vec<ClosedBar> = run(&mut r, &summer).into_iter().map(|(_, b)| b).collect();
    let starts = ["14T21", "15T01", "15T05", "15T09", "15T13", "15T17"];
    assert_eq!(out.len(), 6);
    for (b, s) in out.iter().zip(starts) {
        let start = ts(&format!("2024-07-{s}:00:00Z"));
        let end = start + HOUR * 4;
        assert_eq!(*b, aggregate(&summer, &start.to_string(), &end.to_string()));
    }
    // Winter: 22:00Z-22:00Z.
    let mut r = Resampler::new(Interval::Minutes(240), DayStart::new_york_17());
    let winter = hours("2024-01-14T22:00:00Z", "2024-01-15T22:00:00Z");
    let got: Vec<Timestamp> = run(&mut r, &winter)
        .into_iter()
        .map(|(_, b)| b.bar.time)
        .collect();
    let want: Vec<Timestamp> = ["14T22", "15T02", "15T06", "15T10", "15T14", "15T18"]
        .iter()
        .map(|s| ts(&format!("2024-01-{s}:00:00Z")))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn fx_daily_roll_is_21z_in_summer_and_22z_in_winter() {
    let mut r = Resampler::new(Interval::Day, DayStart::new_york_17());
    let summer = hours("2024-07-14T21:00:00Z", "2024-07-16T21:00:00Z");
    let out = run(&mut r, &summer);
    assert_eq!(
        out,
        vec![
            (
                23,
                aggregate(&summer, "2024-07-14T21:00:00Z", "2024-07-15T21:00:00Z")
            ),
            (
                47,
                aggregate(&summer, "2024-07-15T21:00:00Z", "2024-07-16T21:00:00Z")
            ),
        ]
    );
    let mut r = Resampler::new(Interval::Day, DayStart::new_york_17());
    let winter = hours("2024-01-14T22:00:00Z", "2024-01-15T22:00:00Z");
    let out = run(&mut r, &winter);
    assert_eq!(
        out,
        vec![(
            23,
            aggregate(&winter, "2024-01-14T22:00:00Z", "2024-01-15T22:00:00Z")
        )]
    );
    // Across the US switch (Sunday 2024-03-10): Friday's day ends 22:00Z,
    // Monday's day starts Sunday 21:00Z.
    let fx = DayStart::new_york_17();
    assert_eq!(
        fx.bucket(Interval::Day, ts("2024-03-08T12:00:00Z")),
        Some((ts("2024-03-07T22:00:00Z"), ts("2024-03-08T22:00:00Z")))
    );
    assert_eq!(
        fx.bucket(Interval::Day, ts("2024-03-10T21:00:00Z")),
        Some((ts("2024-03-10T21:00:00Z"), ts("2024-03-11T21:00:00Z")))
    );
    assert_eq!(
        fx.day_of(ts("2024-03-10T21:00:00Z")),
        Some(date(2024, 3, 11))
    );
    assert_eq!(
        fx.day_of(ts("2024-03-10T20:59:59Z")),
        Some(date(2024, 3, 10))
    );
    // The week of the switch is an hour short: Sunday 22:00Z to Sunday 21:00Z.
    assert_eq!(
        fx.bucket(Interval::Week, ts("2024-03-08T12:00:00Z")),
        Some((ts("2024-03-03T22:00:00Z"), ts("2024-03-10T21:00:00Z")))
    );
    // UTC weeks start on Monday 00:00.
    assert_eq!(
        DayStart::utc().bucket(Interval::Week, ts("2024-07-21T23:59:00Z")),
        Some((ts("2024-07-15T00:00:00Z"), ts("2024-07-22T00:00:00Z")))
    );
}

#[test]
fn intraday_grid_across_new_york_gap_and_fold() {
    let ny = DayStart {
        time: time(0, 0, 0, 0),
        zone: TimeZone::get("America/New_York").unwrap(),
    };
    let h1 = Interval::Minutes(60);
    // Spring: 01:00 EST bucket is an hour, then 03:00 EDT (02:00 never happens).
    assert_eq!(
        ny.bucket(h1, ts("2024-03-10T06:59:00Z")),
        Some((ts("2024-03-10T06:00:00Z"), ts("2024-03-10T07:00:00Z")))
    );
    assert_eq!(
        ny.bucket(h1, ts("2024-03-10T07:00:00Z")),
        Some((ts("2024-03-10T07:00:00Z"), ts("2024-03-10T08:00:00Z")))
    );
    // Autumn: the 01:00 bucket holds both 01:00 hours (EDT and EST).
    let fold = Some((ts("2024-11-03T05:00:00Z"), ts("2024-11-03T07:00:00Z")));
    assert_eq!(ny.bucket(h1, ts("2024-11-03T05:30:00Z")), fold);
    assert_eq!(ny.bucket(h1, ts("2024-11-03T06:30:00Z")), fold);
    // Days are 23 and 25 hours long.
    assert_eq!(
        ny.bucket(Interval::Day, ts("2024-03-10T12:00:00Z")),
        Some((ts("2024-03-10T05:00:00Z"), ts("2024-03-11T04:00:00Z")))
    );
    assert_eq!(
        ny.bucket(Interval::Day, ts("2024-11-03T12:00:00Z")),
        Some((ts("2024-11-03T04:00:00Z"), ts("2024-11-04T05:00:00Z")))
    );
}

#[test]
fn holiday_gap_week_daily_then_weekly() {
    // Week of Monday 2024-07-15 (FX days): Wednesday's trading day
    // (07-16T21:00Z..07-17T21:00Z) is missing entirely, and Friday's last hour
    // (07-19T20:00Z) too. Then the next week's first hour.
    let mut bars = hours("2024-07-14T21:00:00Z", "2024-07-16T21:00:00Z");
    bars.extend(hours("2024-07-17T21:00:00Z", "2024-07-19T20:00:00Z"));
    bars.extend(hours("2024-07-21T21:00:00Z", "2024-07-21T22:00:00Z"));
    let mut daily = Resampler::new(Interval::Day, DayStart::new_york_17());
    let out = run(&mut daily, &bars);
    let days = [
        ("2024-07-14T21:00:00Z", "2024-07-15T21:00:00Z"),
        ("2024-07-15T21:00:00Z", "2024-07-16T21:00:00Z"),
        ("2024-07-17T21:00:00Z", "2024-07-18T21:00:00Z"),
        ("2024-07-18T21:00:00Z", "2024-07-19T21:00:00Z"),
    ];
    let want: Vec<ClosedBar> = days.iter().map(|(s, e)| aggregate(&bars, s, e)).collect();
    let got: Vec<ClosedBar> = out.iter().map(|(_, b)| *b).collect();
    assert_eq!(got, want, "no bar for the missing Wednesday");
    // Friday's bar, lacking its last hour, is emitted by the next week's
    // first bar (the last push), still closing at the bucket end.
    assert_eq!(out[3].0, bars.len() - 1);
    assert_eq!(out[3].1.close, ts("2024-07-19T21:00:00Z"));
    let monday_partial = daily.partial().unwrap();
    assert_eq!(monday_partial.bar.time, ts("2024-07-21T21:00:00Z"));
    daily.finish();

    // 1d -> 1w over those daily bars plus next Monday's complete daily bar.
    let mut dailies = want.clone();
    dailies.push(closed(
        ts("2024-07-21T21:00:00Z"),
        HOUR * 24,
        151.0,
        152.0,
        150.0,
        151.5,
        3.0,
    ));
    let mut weekly = Resampler::new(Interval::Week, DayStart::new_york_17());
    let out = run(&mut weekly, &dailies);
    let week = ClosedBar {
        bar: Bar {
            time: ts("2024-07-14T21:00:00Z"),
            open: want[0].bar.open,
            high: want.iter().map(|b| b.bar.high).fold(f64::MIN, f64::max),
            low: want.iter().map(|b| b.bar.low).fold(f64::MAX, f64::min),
            close: want[3].bar.close,
            volume: want.iter().map(|b| b.bar.volume).sum(),
        },
        close: ts("2024-07-21T21:00:00Z"),
    };
    assert_eq!(out, vec![(4, week)]);
    assert_eq!(
        weekly.partial().unwrap().bar.time,
        ts("2024-07-21T21:00:00Z")
    );
}

#[test]
fn completed_bars_only_and_two_buckets_in_one_push() {
    let mut r = Resampler::new(Interval::Minutes(240), DayStart::utc());
    let bars = hours("2024-07-15T00:00:00Z", "2024-07-15T03:00:00Z");
    assert!(
        run(&mut r, &bars).is_empty(),
        "a 3-hour bucket is not emitted"
    );
    let partial = r.partial().unwrap();
    assert_eq!(
        partial,
        aggregate(&bars, "2024-07-15T00:00:00Z", "2024-07-15T04:00:00Z")
    );
    r.finish();

    // 00:00 and 01:00 present, 02:00-06:00 missing; the 07:00 bar both
    // closes the pending bucket and completes its own.
    let mut r = Resampler::new(Interval::Minutes(240), DayStart::utc());
    let mut bars = hours("2024-07-15T00:00:00Z", "2024-07-15T02:00:00Z");
    bars.push(hourly(ts("2024-07-15T07:00:00Z")));
    let out = run(&mut r, &bars);
    assert_eq!(
        out,
        vec![
            (
                2,
                aggregate(&bars, "2024-07-15T00:00:00Z", "2024-07-15T04:00:00Z")
            ),
            (
                2,
                aggregate(&bars, "2024-07-15T04:00:00Z", "2024-07-15T08:00:00Z")
            ),
        ]
    );
}

#[test]
fn bar_running_past_the_bucket_end_delays_the_close() {
    // SPY-like bars at :30 into UTC 4h buckets: the 15:30 bar ends 16:30, so
    // the 12:00 bucket is known only at 16:30.
    let mut r = Resampler::new(Interval::Minutes(240), DayStart::utc());
    let bars: Vec<ClosedBar> = ["13:30", "14:30", "15:30", "16:30"]
        .iter()
        .map(|h| hourly(ts(&format!("2024-07-15T{h}:00Z"))))
        .collect();
    let out = run(&mut r, &bars);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, 2);
    assert_eq!(out[0].1.bar.time, ts("2024-07-15T12:00:00Z"));
    assert_eq!(out[0].1.close, ts("2024-07-15T16:30:00Z"));
    assert_eq!(r.partial().unwrap().bar.time, ts("2024-07-15T16:00:00Z"));
}

#[test]
fn intervals_and_order_errors() {
    assert_eq!(Interval::from_minutes(240), Ok(Interval::Minutes(240)));
    assert_eq!(Interval::from_minutes(1440), Ok(Interval::Day));
    assert_eq!(Interval::from_minutes(10_080), Ok(Interval::Week));
    assert!(Interval::from_minutes(7).is_err());
    assert!(Interval::from_minutes(0).is_err());
    assert!(Interval::from_minutes(2880).is_err());
    assert_eq!(
        Interval::from_duration(SignedDuration::from_hours(4)),
        Ok(Interval::Minutes(240))
    );
    let err = Interval::from_duration(SignedDuration::from_secs(90)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot resample to 1m 30s: use a number of minutes dividing a day, 1d or 1w"
    );
    let mut r = Resampler::new(Interval::Minutes(240), DayStart::utc());
    r.push(hourly(ts("2024-07-15T01:00:00Z"))).unwrap();
    assert_eq!(
        r.push(hourly(ts("2024-07-15T01:00:00Z"))).unwrap_err(),
        ResampleError::OutOfOrder {
            previous: ts("2024-07-15T01:00:00Z"),
            got: ts("2024-07-15T01:00:00Z"),
        }
    );
    assert!(r.push(hourly(ts("2024-07-15T00:00:00Z"))).is_err());
    // The resampler is unchanged by the rejected bars.
    assert_eq!(
        r.partial().unwrap().bar.volume,
        hourly(ts("2024-07-15T01:00:00Z")).bar.volume
    );
}

/// Reads `timestamp,open,high,low,close,volume` hourly bars (RFC 3339 `Z`
/// open stamps); volume is set to 1 so that sums count native bars.
fn read_bars(path: &str, len: SignedDuration) -> Vec<ClosedBar> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("timestamp,open,high,low,close,volume"));
    lines
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |i: usize| f[i].parse::<f64>().unwrap();
            closed(ts(f[0]), len, num(1), num(2), num(3), num(4), 1.0)
        })
        .collect()
}

#[test]
fn real_usdjpy_hourly_to_fx_four_hours() {
    let hourly = read_bars(&format!("{DATA}/USDJPY_1h_2023-07_2025-07.csv"), HOUR);
    assert_eq!(hourly.len(), 12_246);
    let mut r = Resampler::new(Interval::Minutes(240), DayStart::new_york_17());
    let out: Vec<ClosedBar> = run(&mut r, &hourly).into_iter().map(|(_, b)| b).collect();
    let ny = TimeZone::get("America/New_York").unwrap();
    let mut counted = 0.0;
    for (i, b) in out.iter().enumerate() {
        let local = b.bar.time.to_zoned(ny.clone());
        assert!(
            [17, 21, 1, 5, 9, 13].contains(&local.hour()) && local.minute() == 0,
            "bucket not on the 17:00 New York grid: {}",
            b.bar.time
        );
        assert_eq!(
            b.close.duration_since(b.bar.time),
            HOUR * 4,
            "{}",
            b.bar.time
        );
        assert!(
            b.bar.high >= b.bar.open.max(b.bar.close) && b.bar.low <= b.bar.open.min(b.bar.close)
        );
        assert!((1.0..=4.0).contains(&b.bar.volume));
        if let Some(next) = out.get(i + 1) {
            assert!(b.close <= next.bar.time);
        }
        counted += b.bar.volume;
    }
    let partial = r.partial().map_or(0.0, |p| p.bar.volume);
    assert_eq!(
        counted + partial,
        hourly.len() as f64,
        "every native bar lands in one bucket"
    );
    assert!(out.len() > 3_000, "{}", out.len());

    // The broker's 4h bars sit on the same grid: complete buckets should
    // almost all exist there, with nearly the same close (different feeds).
    let broker: HashMap<Timestamp, f64> =
        read_bars(&format!("{DATA}/USDJPY_4h_1999_2026.csv"), HOUR * 4)
            .into_iter()
            .map(|b| (b.bar.time, b.bar.close))
            .collect();
    let complete: Vec<&ClosedBar> = out.iter().filter(|b| b.bar.volume == 4.0).collect();
    let mut diffs: Vec<f64> = complete
        .iter()
        .filter_map(|b| broker.get(&b.bar.time).map(|c| (c - b.bar.close).abs()))
        .collect();
    let found = diffs.len() as f64 / complete.len() as f64;
    assert!(
        found > 0.99,
        "only {found} of complete buckets found in the broker file"
    );
    diffs.sort_by(f64::total_cmp);
    let median = diffs[diffs.len() / 2];
    assert!(median < 0.02, "median |close diff| = {median}");
}

#[test]
fn close_due_and_the_iterator_adapter_agree_with_push() {
    use playbook::resample::{Resampled, ResampledError};
    // Bucket 00:00-04:00 misses its last hour.
    let mut bars = hours("2024-07-15T00:00:00Z", "2024-07-15T03:00:00Z");
    bars.extend(hours("2024-07-15T04:00:00Z", "2024-07-15T06:00:00Z"));
    let by_push: Vec<ClosedBar> = {
        let mut r = Resampler::new(Interval::Minutes(240), DayStart::utc());
        run(&mut r, &bars).into_iter().map(|(_, b)| b).collect()
    };
    assert_eq!(by_push.len(), 1);
    // Live: the clock reaching 04:00 completes it without the next bar.
    let mut r = Resampler::new(Interval::Minutes(240), DayStart::utc());
    for b in &bars[..3] {
        assert!(r.push(*b).unwrap().is_empty());
    }
    assert_eq!(r.pending_end(), Some(ts("2024-07-15T04:00:00Z")));
    assert_eq!(r.close_due(ts("2024-07-15T03:59:59Z")), None);
    assert_eq!(r.close_due(ts("2024-07-15T04:00:00Z")), Some(by_push[0]));
    assert!(r.push(bars[3]).unwrap().is_empty());
    // The adapter yields the same bars; errors are tagged by origin.
    let adapted: Vec<ClosedBar> = Resampled::new(
        bars.iter().map(|b| Ok::<_, String>(*b)),
        Resampler::new(Interval::Minutes(240), DayStart::utc()),
    )
    .map(Result::unwrap)
    .collect();
    assert_eq!(adapted, by_push);
    let failing = bars
        .iter()
        .take(2)
        .map(|b| Ok(*b))
        .chain(std::iter::once(Err("line 3: bad high".to_string())));
    let mut it = Resampled::new(failing, Resampler::new(Interval::Day, DayStart::utc()));
    assert_eq!(
        it.next(),
        Some(Err(ResampledError::Source("line 3: bad high".into())))
    );
    assert_eq!(it.next(), None);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const ZONES: [&str; 6] = [
        "UTC",
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe", // 30-minute DST shift
        "America/Santiago",    // DST changes at midnight
        "Asia/Tokyo",
    ];
    const MINUTES: [u32; 8] = [1, 15, 30, 45, 60, 90, 240, 720];

    fn interval(i: usize) -> Interval {
        match i {
            8 => Interval::Day,
            9 => Interval::Week,
            i => Interval::Minutes(MINUTES[i]),
        }
    }

    proptest! {
        /// Buckets contain their instant, are contiguous (the next bucket
        /// starts where this one ends) and never empty, in every zone and
        /// across DST gaps and folds.
        #[test]
        fn buckets_tile_time(
            zone in 0..ZONES.len(),
            hour in 0i8..24,
            minute in prop::sample::select(vec![0i8, 30]),
            which in 0usize..10,
            transition in 0usize..4,
            // Within two days of a DST transition (of 2024/2025).
            offset in -172_800i64..172_800,
        ) {
            let tz = TimeZone::get(ZONES[zone]).unwrap();
            let base = ts("2024-01-01T00:00:00Z");
            let near = tz
                .following(base)
                .nth(transition)
                .map_or(base, |tr| tr.timestamp());
            let anchor = DayStart {
                time: time(hour, minute, 0, 0),
                zone: tz,
            };
            let iv = interval(which);
            let t = near + SignedDuration::from_secs(offset);
            let (s, e) = anchor.bucket(iv, t).unwrap();
            prop_assert!(s <= t && t < e, "{t} not in [{s}, {e})");
            let (s2, _) = anchor.bucket(iv, e).unwrap();
            prop_assert_eq!(s2, e, "next bucket of [{}, {}) starts at {}", s, e, s2);
            let before = s - SignedDuration::from_secs(1);
            let (_, e0) = anchor.bucket(iv, before).unwrap();
            prop_assert_eq!(e0, s, "previous bucket of [{}, {}) ends at {}", s, e, e0);
            // Lengths stay within a DST shift of the nominal length.
            let nominal = match iv {
                Interval::Minutes(n) => SignedDuration::from_mins(i64::from(n)),
                Interval::Day => SignedDuration::from_hours(24),
                Interval::Week => SignedDuration::from_hours(168),
            };
            let len = e.duration_since(s);
            prop_assert!(
                (len - nominal).abs() <= SignedDuration::from_hours(1),
                "[{s}, {e}) lasts {len:#}"
            );
        }

        /// Pushing hourly bars in order emits each native bar's data exactly
        /// once, in increasing buckets, never before the data is known (an
        /// hourly bar crossing a bucket boundary, e.g. with 90-minute buckets
        /// or Lord Howe's half-hour offset, delays its bucket's close).
        #[test]
        fn resampling_preserves_every_bar(
            zone in 0..ZONES.len(),
            which in 0usize..10,
            start in 1_704_067_200i64..1_767_225_600,
            gaps in prop::collection::vec(0u8..5, 1..400),
        ) {
            let anchor = DayStart {
                time: time(17, 0, 0, 0),
                zone: TimeZone::get(ZONES[zone]).unwrap(),
            };
            let mut r = Resampler::new(interval(which), anchor);
            let mut t = Timestamp::from_second(start - start % 3600).unwrap();
            let (mut pushed, mut emitted) = (0.0, 0.0);
            let mut last: Option<ClosedBar> = None;
            for g in gaps {
                // Mostly consecutive hours, sometimes a gap of a few hours.
                t += HOUR * if g == 0 { 3 } else { 1 };
                let mut b = hourly(t);
                b.bar.volume = 1.0;
                pushed += 1.0;
                for e in r.push(b).unwrap() {
                    prop_assert!(e.close <= b.close, "emitted {e:?} after its data");
                    if let Some(prev) = last {
                        prop_assert!(prev.bar.time < e.bar.time && prev.close <= e.close);
                    }
                    emitted += e.bar.volume;
                    last = Some(e);
                }
            }
            let partial = r.partial().map_or(0.0, |p| p.bar.volume);
            prop_assert_eq!(emitted + partial, pushed);
        }
    }
}
