//! Data input: every timestamp format and header variant, every error and
//! warning class, gzip, the real files in `../shared/data`, and series.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use playbook::data::{
    Anomaly, BarReader, ClosedBar, DailyClose, DataError, OnBadRow, SeriesOptions, SourceOptions,
    StampAt, check_file, load_bars, load_series, parse_decimal, parse_interval,
};
use proptest::prelude::*;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

/// A fixture path relative to the crate root (tests run there), so messages
/// in snapshots do not depend on the machine.
fn fixture(rel: &str) -> PathBuf {
    PathBuf::from("tests/inputs/data").join(rel)
}

fn rel(path: &Path) -> PathBuf {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .to_path_buf()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn read_all(path: &Path, opts: &SourceOptions) -> Vec<ClosedBar> {
    BarReader::open(path, opts)
        .unwrap_or_else(|e| panic!("{e}"))
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap()
}

// ---------------------------------------------------------------- formats

/// The three bars every format fixture encodes: 2024-08-05 00:00, 01:00 and
/// 02:00 UTC, one hour each (1722816000 = 19940 days * 86400 s).
fn expect_three_hourly(file: &str, opts: &SourceOptions, volume: bool) {
    let bars = read_all(&fixture(file), opts);
    let opens: Vec<Timestamp> = bars.iter().map(|b| b.bar.time).collect();
    assert_eq!(
        opens,
        [
            ts("2024-08-05T00:00:00Z"),
            ts("2024-08-05T01:00:00Z"),
            ts("2024-08-05T02:00:00Z")
        ],
        "{file}"
    );
    let closes: Vec<Timestamp> = bars.iter().map(|b| b.close).collect();
    assert_eq!(
        closes,
        [
            ts("2024-08-05T01:00:00Z"),
            ts("2024-08-05T02:00:00Z"),
            ts("2024-08-05T03:00:00Z")
        ],
        "{file}"
    );
    let b = bars[0].bar;
    assert_eq!(
        (b.open, b.high, b.low, b.close),
        (100.5, 101.25, 99.75, 100.0),
        "{file}"
    );
    assert_eq!(bars[2].bar.close, 101.5, "{file}");
    if volume {
        assert_eq!(bars[1].bar.volume, 900.0, "{file}");
    } else {
        assert!(bars[1].bar.volume.is_nan(), "{file}");
    }
}

#[test]
fn every_timestamp_form_reads_the_same_instants() {
    let utc = SourceOptions::default();
    for file in [
        "formats/iso_z.csv",
        "formats/iso_offset.csv",
        "formats/iso_naive_space.csv",
        "formats/iso_naive_t_minutes.csv",
        "formats/metatrader_dotted.csv",
        "formats/metatrader_split_tab.csv",
        "formats/histdata_headerless.csv",
        "formats/us_month_day_year.csv",
        "formats/epoch_seconds.csv",
        "formats/epoch_millis.csv",
        "formats/epoch_micros.csv",
        "formats/epoch_nanos.csv",
        "formats/date_time_columns.csv",
        "formats/aliases_extra_columns.csv",
        "formats/bom_crlf.csv",
    ] {
        expect_three_hourly(file, &utc, true);
    }
    expect_three_hourly("formats/aliases_semicolon_no_volume.csv", &utc, false);
}

#[test]
fn naive_times_are_read_in_the_declared_zone() {
    // 09:00 in Tokyo (UTC+9, no DST) is 00:00Z.
    let tokyo = SourceOptions {
        zone: zone("Asia/Tokyo"),
        ..SourceOptions::default()
    };
    expect_three_hourly("formats/naive_tokyo.csv", &tokyo, true);
    // 20:00 on 4 Aug in New York (EDT, UTC-4) is 00:00Z on 5 Aug.
    let ny = SourceOptions {
        zone: zone("America/New_York"),
        ..SourceOptions::default()
    };
    expect_three_hourly("formats/naive_new_york.csv", &ny, true);
    // An explicit offset or Z is never reinterpreted by the zone.
    expect_three_hourly("formats/iso_z.csv", &ny, true);
}

#[test]
fn fractional_seconds_are_kept() {
    let opts = SourceOptions {
        interval: Some(SignedDuration::from_hours(1)),
        ..SourceOptions::default()
    };
    let bars = read_all(&fixture("formats/iso_fraction_z.csv"), &opts);
    assert_eq!(bars[0].bar.time, ts("2024-08-05T00:00:00Z"));
    assert_eq!(bars[1].bar.time, ts("2024-08-05T01:00:00.5Z"));
    assert_eq!(bars[2].bar.time, ts("2024-08-05T02:00:00.123456789Z"));
    assert_eq!(bars[2].close, ts("2024-08-05T03:00:00.123456789Z"));
}

#[test]
fn stamps_marking_the_close_give_opens_one_interval_earlier() {
    let opts = SourceOptions {
        stamp: StampAt::Close,
        ..SourceOptions::default()
    };
    expect_three_hourly("formats/stamp_close.csv", &opts, true);
}

#[test]
fn declared_interval_overrides_inference() {
    let opts = SourceOptions {
        interval: Some(parse_interval("30m").unwrap()),
        ..SourceOptions::default()
    };
    let loaded = load_bars(fixture("formats/iso_z.csv"), &opts).unwrap();
    assert_eq!(loaded.report.interval, Some(SignedDuration::from_mins(30)));
    assert!(loaded.report.interval_declared);
    let closes: Vec<_> = loaded.closed().map(|b| b.close).collect();
    assert_eq!(closes[0], ts("2024-08-05T00:30:00Z"));
    // A 30-minute bar every hour leaves 30 minutes uncovered: two gaps.
    assert_eq!(loaded.report.gaps, 2);
}

// ---------------------------------------------------------------- daily

#[test]
fn daily_bars_close_at_the_end_of_their_date_by_default() {
    let bars = read_all(
        &fixture("formats/daily_dates.csv"),
        &SourceOptions::default(),
    );
    assert_eq!(bars.len(), 3);
    assert_eq!(bars[0].bar.time, ts("2024-08-02T00:00:00Z"));
    assert_eq!(bars[0].close, ts("2024-08-03T00:00:00Z"));
    assert_eq!(bars[1].bar.time, ts("2024-08-05T00:00:00Z"));
    assert_eq!(bars[1].close, ts("2024-08-06T00:00:00Z"));

    // In Hong Kong (UTC+8) the date 2024-08-02 runs 08-01T16:00Z .. 08-02T16:00Z.
    let hk = SourceOptions {
        zone: zone("Asia/Hong_Kong"),
        ..SourceOptions::default()
    };
    let bars = read_all(&fixture("formats/daily_dates.csv"), &hk);
    assert_eq!(bars[0].bar.time, ts("2024-08-01T16:00:00Z"));
    assert_eq!(bars[0].close, ts("2024-08-02T16:00:00Z"));
}

#[test]
fn daily_close_is_configurable() {
    let dc: DailyClose = "16:10 Asia/Hong_Kong".parse().unwrap();
    let opts = SourceOptions {
        daily_close: Some(dc),
        ..SourceOptions::default()
    };
    let bars = read_all(&fixture("formats/daily_dates.csv"), &opts);
    // 16:10 in Hong Kong is 08:10Z, on the bar's own date.
    assert_eq!(bars[0].close, ts("2024-08-02T08:10:00Z"));
    assert_eq!(bars[2].close, ts("2024-08-06T08:10:00Z"));
    // Without a zone the close is in the source's zone.
    let opts = SourceOptions {
        zone: zone("America/New_York"),
        daily_close: Some("17:00".parse().unwrap()),
        ..SourceOptions::default()
    };
    let bars = read_all(&fixture("formats/daily_dates.csv"), &opts);
    assert_eq!(bars[0].bar.time, ts("2024-08-02T04:00:00Z"));
    assert_eq!(bars[0].close, ts("2024-08-02T21:00:00Z"));
    assert!("25:00".parse::<DailyClose>().is_err());
    assert!("16:00 Mars/Olympus".parse::<DailyClose>().is_err());
}

#[test]
fn real_daily_files_close_at_the_end_of_the_date_or_at_daily_close() {
    let path = Path::new(SHARED).join("HSI_1d.csv");
    let hk = SourceOptions {
        zone: zone("Asia/Hong_Kong"),
        ..SourceOptions::default()
    };
    let first = BarReader::open(&path, &hk)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    // 1986-12-31 in Hong Kong: 1986-12-30T16:00Z .. 1986-12-31T16:00Z.
    assert_eq!(first.bar.time, ts("1986-12-30T16:00:00Z"));
    assert_eq!(first.close, ts("1986-12-31T16:00:00Z"));
    let opts = SourceOptions {
        daily_close: Some("16:10 Asia/Hong_Kong".parse().unwrap()),
        ..hk
    };
    let loaded = load_bars(&path, &opts).unwrap();
    let closes: Vec<ClosedBar> = loaded.closed().collect();
    assert_eq!(closes[0].close, ts("1986-12-31T08:10:00Z"));
    // The last row, 2026-06-23.
    assert_eq!(closes.last().unwrap().close, ts("2026-06-23T08:10:00Z"));
    for c in &closes {
        assert!(c.close > c.bar.time);
    }
}

// ---------------------------------------------------------------- gzip

#[test]
fn gzip_files_are_read_transparently() {
    let plain = fixture("formats/iso_z.csv");
    let dir = std::env::temp_dir().join(format!("playbook-data-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz_path = dir.join("iso_z.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz_path).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&std::fs::read(&plain).unwrap()).unwrap();
    enc.finish().unwrap();
    let a = read_all(&plain, &SourceOptions::default());
    let b = read_all(&gz_path, &SourceOptions::default());
    assert_eq!(a, b);
    assert_eq!(b.len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------- errors

#[test]
fn error_messages_name_file_line_column_and_text() {
    insta::glob!("inputs/data/errors/*.csv", |path| {
        let err = check_file(rel(path), &SourceOptions::default())
            .expect_err("every error fixture must fail");
        insta::assert_snapshot!(err.to_string());
    });
}

#[test]
fn not_a_number_names_the_column_and_raw_text() {
    let err = check_file(
        fixture("errors/not_a_number.csv"),
        &SourceOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, DataError::NotANumber { line: 3, .. }));
    assert_eq!(
        err.to_string(),
        "tests/inputs/data/errors/not_a_number.csv:3: close \"12.3.4\" is not a number"
    );
}

#[test]
fn a_header_only_file_has_no_bars() {
    let r = check_file(
        fixture("formats/header_only.csv"),
        &SourceOptions::default(),
    )
    .unwrap();
    assert_eq!(r.rows, 0);
    assert_eq!(r.first, None);
    assert!(!r.has_warnings());
}

#[test]
fn a_missing_file_is_an_io_error() {
    let err = check_file(
        "tests/inputs/data/no_such_file.csv",
        &SourceOptions::default(),
    );
    assert!(matches!(err, Err(DataError::Io { .. })));
}

#[test]
fn bad_options_are_errors() {
    assert!("sometimes".parse::<OnBadRow>().is_err());
    assert!("middle".parse::<StampAt>().is_err());
    let e = "25:00 Asia/Hong_Kong".parse::<DailyClose>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid daily_close \"25:00 Asia/Hong_Kong\": expected a time of day `HH:MM`"
    );
    let e = "16:10 Asia/Hongkong_".parse::<DailyClose>().unwrap_err();
    assert!(e.to_string().contains("not an IANA time zone name"), "{e}");
    assert!(parse_interval("1y").is_err());
    assert!(parse_interval("0m").is_err());
    assert_eq!(parse_interval("4h").unwrap(), SignedDuration::from_hours(4));
}

// ---------------------------------------------------------------- warnings

#[test]
fn every_warning_class_is_counted_and_the_rows_kept() {
    let loaded = load_bars(
        fixture("warnings/every_warning_class.csv"),
        &SourceOptions::default(),
    )
    .unwrap();
    let r = &loaded.report;
    assert_eq!(loaded.bars.len(), 9);
    assert_eq!(r.interval, Some(SignedDuration::from_hours(1)));
    assert_eq!(r.anomaly(Anomaly::AboveHigh).first_lines, [3, 5, 9]);
    assert_eq!(r.anomaly(Anomaly::BelowLow).first_lines, [4, 5]);
    assert_eq!(r.anomaly(Anomaly::HighBelowLow).first_lines, [5]);
    assert_eq!(r.anomaly(Anomaly::ZeroVolume).first_lines, [6, 7]);
    assert_eq!(r.anomaly(Anomaly::FlatBar).first_lines, [6]);
    assert_eq!(r.anomaly(Anomaly::Overlap).first_lines, [9]);
    assert_eq!(r.weekend_breaks, 1);
    assert_eq!(r.gaps, 1);
    assert_eq!(r.largest_gap, Some(SignedDuration::from_hours(3)));
    assert_eq!(r.no_volume, 1);
    // Kept as written: the high-below-low row is there unchanged.
    assert_eq!(loaded.bars[3].high, 100.0);
    assert_eq!(loaded.bars[3].low, 101.0);
    insta::assert_snapshot!(r.to_string());
}

#[test]
fn daily_gaps_ignore_weekends() {
    let r = check_file(
        fixture("warnings/daily_gaps.csv"),
        &SourceOptions::default(),
    )
    .unwrap();
    assert_eq!(r.weekend_breaks, 1);
    assert_eq!(r.gaps, 2);
    assert_eq!(r.largest_gap, Some(SignedDuration::from_hours(24 * 10)));
    insta::assert_snapshot!(r.to_string());
}

#[test]
fn skipped_rows_are_counted_and_reported() {
    let opts = SourceOptions {
        on_bad_row: OnBadRow::Skip,
        ..SourceOptions::default()
    };
    let loaded = load_bars(fixture("warnings/skip_bad_rows.csv"), &opts).unwrap();
    let r = &loaded.report;
    assert_eq!(loaded.bars.len(), 3);
    assert_eq!(r.skipped, 4);
    assert_eq!(r.duplicates.first_lines, [5]);
    let lines: Vec<u64> = r.first_skipped.iter().map(|s| s.line).collect();
    assert_eq!(lines, [3, 5, 6, 7]);
    insta::assert_snapshot!(r.to_string());
    // The same file is an error by default.
    let err = check_file(
        fixture("warnings/skip_bad_rows.csv"),
        &SourceOptions::default(),
    );
    assert!(matches!(err, Err(DataError::NotANumber { line: 3, .. })));
}

// ---------------------------------------------------------------- real data

/// SOURCES.md: file, rows, first, last (dates for daily files, instants or
/// naive wall times for intraday ones).
const SOURCES: [(&str, u64, &str, &str); 32] = [
    (
        "USDJPY_1h_2023-07_2025-07.csv",
        12_246,
        "2023-07-14T20:00:00Z",
        "2025-07-11T20:00:00Z",
    ),
    (
        "EURUSD_1h_2023-07_2025-07.csv",
        12_312,
        "2023-07-14T20:00:00Z",
        "2025-07-11T21:00:00Z",
    ),
    (
        "GC_1h_2023-07_2025-07.csv",
        11_483,
        "2023-07-14T20:00:00Z",
        "2025-07-11T20:00:00Z",
    ),
    (
        "NQ_1h_2023-07_2025-07.csv",
        11_423,
        "2023-07-14T20:00:00Z",
        "2025-07-11T20:00:00Z",
    ),
    (
        "ES_1h_2023-07_2025-07.csv",
        11_429,
        "2023-07-14T20:00:00Z",
        "2025-07-11T20:00:00Z",
    ),
    (
        "ZN_1h_2023-07_2025-07.csv",
        11_474,
        "2023-07-14T20:00:00Z",
        "2025-07-11T20:00:00Z",
    ),
    (
        "SPY_1h_2023-07_2025-07.csv",
        3_473,
        "2023-07-17T13:30:00Z",
        "2025-07-11T19:30:00Z",
    ),
    (
        "QQQ_1h_2023-07_2025-07.csv",
        3_473,
        "2023-07-17T13:30:00Z",
        "2025-07-11T19:30:00Z",
    ),
    ("GC_1d.csv", 6_395, "2000-08-30", "2026-02-23"),
    ("NQ_1d.csv", 6_423, "2000-09-18", "2026-02-23"),
    ("ES_1d.csv", 6_423, "2000-09-18", "2026-02-23"),
    ("ZN_1d.csv", 6_385, "2000-09-21", "2026-02-23"),
    ("US10Y_1d.csv", 6_311, "2001-01-02", "2026-02-13"),
    (
        "XAUUSD_1h_2018_2026.csv",
        48_251,
        "2018-03-18T21:00:00Z",
        "2026-05-15T20:00:00Z",
    ),
    (
        "USDJPY_4h_1999_2026.csv",
        42_595,
        "1999-01-04T02:00:00Z",
        "2026-05-15T17:00:00Z",
    ),
    (
        "EURUSD_4h_1999_2026.csv",
        42_615,
        "1999-01-04T06:00:00Z",
        "2026-05-15T17:00:00Z",
    ),
    ("USDJPY_1d.csv", 14_274, "1971-01-04", "2026-05-15"),
    ("EURUSD_1d.csv", 7_111, "1999-01-04", "2026-05-15"),
    ("XAUUSD_1d.csv", 4_995, "2007-06-22", "2026-05-15"),
    ("N225_1d.csv", 15_110, "1965-01-05", "2026-06-23"),
    ("HSI_1d.csv", 9_740, "1986-12-31", "2026-06-23"),
    ("NDX_1d.csv", 10_181, "1985-10-01", "2026-02-27"),
    ("SPX_1d.csv", 24_656, "1927-12-30", "2026-02-27"),
    (
        "samples/GOOG_1d_2004-2013.csv",
        2_148,
        "2004-08-19",
        "2013-03-01",
    ),
    (
        "samples/EURUSD_1h_2017-2018.csv",
        5_000,
        "2017-04-19T09:00:00",
        "2018-02-07T15:00:00",
    ),
    (
        "samples/BTCUSD_1mo_2012-2024.csv",
        156,
        "2012-01-31",
        "2024-12-31",
    ),
    (
        "samples/NVDA_1d_1999-2014.csv",
        4_012,
        "1999-01-22",
        "2014-12-31",
    ),
    (
        "samples/ORCL_1d_1995-2014.csv",
        5_036,
        "1995-01-03",
        "2014-12-31",
    ),
    (
        "samples/YHOO_1d_1996-2015.csv",
        4_965,
        "1996-04-12",
        "2015-12-31",
    ),
    (
        "samples/BT2006_1d_2006.csv",
        255,
        "2006-01-02",
        "2006-12-29",
    ),
    (
        "samples/BT2006_5m_2006-01.csv",
        2_142,
        "2006-01-02T09:05:00",
        "2006-01-30T17:30:00",
    ),
    (
        "samples/BT2006VOL_1m_2006-01_2006-02.csv",
        30_889,
        "2006-01-02T09:01:00",
        "2006-02-27T22:00:00",
    ),
];

/// Render an instant the way SOURCES.md writes it: a date, a naive wall
/// time (naive files are read in UTC by default), or a UTC instant.
fn as_written(t: Timestamp, like: &str) -> String {
    let dt = TimeZone::UTC.to_datetime(t);
    if !like.contains('T') {
        dt.date().to_string()
    } else if like.ends_with('Z') {
        t.to_string()
    } else {
        dt.to_string()
    }
}

#[test]
fn every_shared_file_loads_and_matches_sources_md() {
    let mut listed: Vec<String> = SOURCES.iter().map(|s| s.0.to_string()).collect();
    listed.sort();
    let mut found = Vec::new();
    for dir in ["", "samples/"] {
        for entry in std::fs::read_dir(Path::new(SHARED).join(dir)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".csv") {
                found.push(format!("{dir}{name}"));
            }
        }
    }
    found.sort();
    assert_eq!(found, listed, "SOURCES table and the data folder differ");
    for (file, rows, first, last) in SOURCES {
        let path = Path::new(SHARED).join(file);
        let report =
            check_file(&path, &SourceOptions::default()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(report.rows, rows, "{file}");
        assert_eq!(as_written(report.first.unwrap(), first), first, "{file}");
        assert_eq!(as_written(report.last.unwrap(), last), last, "{file}");
        assert_eq!(report.daily, !first.contains('T'), "{file}");
        assert_eq!(report.skipped, 0, "{file}");
    }
}

#[test]
fn intervals_are_inferred_from_the_real_files() {
    let cases = [
        ("GC_1h_2023-07_2025-07.csv", 3600),
        ("USDJPY_4h_1999_2026.csv", 4 * 3600),
        ("GC_1d.csv", 86_400),
        ("samples/BT2006_5m_2006-01.csv", 300),
        ("samples/BT2006VOL_1m_2006-01_2006-02.csv", 60),
        ("samples/BTCUSD_1mo_2012-2024.csv", 31 * 86_400),
    ];
    for (file, secs) in cases {
        let r = check_file(Path::new(SHARED).join(file), &SourceOptions::default()).unwrap();
        assert_eq!(r.interval, Some(SignedDuration::from_secs(secs)), "{file}");
    }
}

#[test]
fn gc_daily_anomalies_match_the_data_readme() {
    let r = check_file(
        Path::new(SHARED).join("GC_1d.csv"),
        &SourceOptions::default(),
    )
    .unwrap();
    // README §5: 236 rows high < max(open, close), 228 rows low > min(open,
    // close), 1 row high < low, 812 flat rows, 417 zero-volume rows.
    assert_eq!(r.anomaly(Anomaly::AboveHigh).count, 236);
    assert_eq!(r.anomaly(Anomaly::BelowLow).count, 228);
    assert_eq!(r.anomaly(Anomaly::HighBelowLow).count, 1);
    assert_eq!(r.anomaly(Anomaly::FlatBar).count, 812);
    assert_eq!(r.anomaly(Anomaly::ZeroVolume).count, 417);
    let mut text = r.to_string();
    // Name the file as the user would, independent of this machine's paths.
    text = text.replacen(&r.file, "GC_1d.csv", 1);
    insta::assert_snapshot!(text);
}

#[test]
fn the_high_below_low_row_is_2009_11_23() {
    let loaded = load_bars(
        Path::new(SHARED).join("GC_1d.csv"),
        &SourceOptions::default(),
    )
    .unwrap();
    let bad: Vec<_> = loaded.bars.iter().filter(|b| b.high < b.low).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].time, ts("2009-11-23T00:00:00Z"));
    assert_eq!(
        (bad[0].open, bad[0].high, bad[0].low, bad[0].close),
        (1164.3, 1163.0, 1164.3, 1164.3)
    );
    assert_eq!(std::mem::size_of_val(&loaded.bars[0]), 56);
}

#[test]
fn intraday_closes_are_one_interval_after_the_open() {
    let path = Path::new(SHARED).join("NQ_1h_2023-07_2025-07.csv");
    let loaded = load_bars(&path, &SourceOptions::default()).unwrap();
    let bar = loaded
        .closed()
        .find(|b| b.bar.time == ts("2024-08-05T05:00:00Z"))
        .unwrap();
    assert_eq!(bar.close, ts("2024-08-05T06:00:00Z"));
    // README §2: NQ_1h low 17,351.00 in the 05:00Z bar of 5 Aug 2024.
    assert_eq!(bar.bar.low, 17_351.0);
}

// ---------------------------------------------------------------- series

#[test]
fn series_files_load_with_percent_scaling() {
    let pct = SeriesOptions {
        percent: true,
        ..SeriesOptions::default()
    };
    let us = load_series(Path::new(SHARED).join("series/US_POLICY_RATE.csv"), &pct).unwrap();
    assert_eq!(us.len(), 16);
    assert_eq!(us[0].time, ts("2020-03-15T21:00:00Z"));
    assert_eq!(us[0].value, 0.0025);
    assert_eq!(us[11].value, 0.055);
    assert_eq!(us[15].time, ts("2025-09-17T18:00:00Z"));
    assert_eq!(us[15].value, 0.0425);
    let jp = load_series(Path::new(SHARED).join("series/JP_POLICY_RATE.csv"), &pct).unwrap();
    assert_eq!(jp.len(), 4);
    assert_eq!(jp[0].value, -0.001);
    let raw = load_series(
        Path::new(SHARED).join("series/JP_POLICY_RATE.csv"),
        &SeriesOptions::default(),
    )
    .unwrap();
    assert_eq!(raw[2].value, 0.25);
    assert_eq!(raw[2].time, ts("2024-07-31T04:00:00Z"));
}

#[test]
fn series_errors_and_date_only_points() {
    let dir = std::env::temp_dir().join(format!("playbook-data-series-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    // A date-only point is known at the end of its date (never earlier).
    let p = write("dates.csv", "date,rate\n2024-07-31,0.25\n2024-08-01,0.5\n");
    let s = load_series(&p, &SeriesOptions::default()).unwrap();
    assert_eq!(s[0].time, ts("2024-08-01T00:00:00Z"));
    let p = write(
        "bad.csv",
        "timestamp,value\n2024-07-31T04:00:00Z,0.25\n2024-08-01T04:00:00Z,abc\n",
    );
    let e = load_series(&p, &SeriesOptions::default()).unwrap_err();
    assert!(
        e.to_string().ends_with(":3: value \"abc\" is not a number"),
        "{e}"
    );
    let p = write(
        "order.csv",
        "timestamp,value\n2024-07-31T04:00:00Z,0.25\n2024-07-30T04:00:00Z,0.5\n",
    );
    let e = load_series(&p, &SeriesOptions::default()).unwrap_err();
    assert!(matches!(e, DataError::OutOfOrder { line: 3, .. }), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------- decimals

fn same_as_std(s: &str) {
    let want = s.parse::<f64>().ok().map(f64::to_bits);
    let got = parse_decimal(s.as_bytes()).map(f64::to_bits);
    assert_eq!(got, want, "{s:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn decimal_parse_matches_std_on_digit_and_dot_text(s in "[+-]?[0-9.]{0,18}") {
        same_as_std(&s);
    }

    #[test]
    fn decimal_parse_matches_std_on_decimal_text(
        s in "[+-]?[0-9]{0,20}(\\.[0-9]{0,20})?([eE][+-]?[0-9]{1,3})?"
    ) {
        same_as_std(&s);
    }

    #[test]
    fn decimal_parse_matches_std_on_printed_floats(x in any::<f64>()) {
        same_as_std(&format!("{x}"));
        same_as_std(&format!("{x:e}"));
        same_as_std(&format!("{x:.4}"));
    }

    #[test]
    fn decimal_parse_matches_std_on_prices(m in 0u64..(1u64 << 54), scale in 0usize..12) {
        let digits = m.to_string();
        let s = if scale < digits.len() {
            format!("{}.{}", &digits[..digits.len() - scale], &digits[digits.len() - scale..])
        } else {
            format!("0.{}{digits}", "0".repeat(scale - digits.len()))
        };
        same_as_std(&s);
    }

    #[test]
    fn decimal_parse_matches_std_on_any_text(s in "\\PC{0,12}") {
        same_as_std(&s);
    }
}

// ------------------------------------------- hand-split lines versus csv

/// Everything the reader says about a file, with its name taken out: the
/// iterator's items, then `load_bars`' bars or error and the report.
fn everything(path: &Path, opts: &SourceOptions) -> String {
    let mut out = match BarReader::open(path, opts) {
        Ok(r) => r.map(|item| format!("{item:?}\n")).collect::<String>(),
        Err(e) => format!("open: {e}\n"),
    };
    match load_bars(path, opts) {
        Ok(l) => out.push_str(&format!("{:?}\n{:?}\n{}\n", l.bars, l.close, l.report)),
        Err(e) => out.push_str(&format!("load: {e}\n")),
    }
    out.replace(&path.display().to_string(), "FILE")
}

/// The file with every field of every data line quoted: `csv` reads the
/// same fields, and the reader's hand-split fast path cannot read any line.
fn quoted(text: &str, delimiter: char) -> String {
    let mut out = String::new();
    for (k, line) in text.split_inclusive('\n').enumerate() {
        let body = line.trim_end_matches(['\r', '\n']);
        let end = &line[body.len()..];
        if k == 0 || body.trim().is_empty() || body.starts_with('#') {
            out.push_str(line);
            continue;
        }
        let cells: Vec<String> = body.split(delimiter).map(|c| format!("\"{c}\"")).collect();
        out.push_str(&cells.join(&delimiter.to_string()));
        out.push_str(end);
    }
    out
}

#[test]
fn hand_split_lines_read_the_same_as_quoted_ones() {
    let h = "timestamp,open,high,low,close,volume";
    let row = |m: u32, v: &str| format!("2024-01-01T00:{m:02}:00Z,1.5,2.25,1.25,2,{v}");
    let rows: Vec<String> = (0..6).map(|m| row(m, &format!("{}", 10 + m))).collect();
    let lf = format!("{h}\n{}\n", rows.join("\n"));
    let with = |k: usize, text: &str| lf.replace(&rows[k], text);
    let cases: Vec<(&str, String)> = vec![
        ("lf", lf.clone()),
        ("crlf", lf.replace('\n', "\r\n")),
        ("no final newline", lf.trim_end().to_string()),
        (
            "crlf, no final newline",
            lf.trim_end().replace('\n', "\r\n"),
        ),
        ("blank lines", lf.replace('\n', "\n\n")),
        ("blank crlf lines", lf.replace('\n', "\r\n\r\n")),
        ("spaces and comments", lf.replace('\n', "\n  \n# note\n")),
        ("bom", format!("\u{feff}{lf}")),
        ("semicolons", lf.replace(',', ";")),
        ("tabs", lf.replace(',', "\t")),
        (
            "extra columns",
            lf.replace('\n', ",x,y\n").replacen(",x,y\n", ",a,b\n", 1),
        ),
        ("short row", with(2, "2024-01-01T00:02:00Z,1,2")),
        ("bad number", with(3, "2024-01-01T00:03:00Z,1,2,1,x2,5")),
        ("bad time", with(3, "2024-01-01T00:63:00Z,1,2,1,2,5")),
        ("duplicate", with(4, &rows[3])),
        ("out of order", with(4, &rows[1])),
        (
            "negative volume",
            with(1, "2024-01-01T00:01:00Z,1,2,1,2,-5"),
        ),
        ("zero price", with(1, "2024-01-01T00:01:00Z,0,2,1,2,5")),
        ("empty volume", with(1, "2024-01-01T00:01:00Z,1,2,1,2,")),
        ("anomalies", with(1, "2024-01-01T00:01:00Z,3,2,1,2,0")),
        ("gap", with(2, "2024-01-01T00:09:00Z,1,2,1,2,5")),
        ("a date row", with(2, "2024-01-01,1,2,1,2,5")),
        (
            "bom in a row",
            with(2, "\u{feff}2024-01-01T00:02:00Z,1,2,1,2,5"),
        ),
        (
            "errors after blank crlf lines",
            with(4, "2024-01-01T00:04:00Z,1,2,1,bad,5").replace('\n', "\r\n\r\n"),
        ),
    ];
    let dir = std::env::temp_dir().join(format!("playbook-data-quoted-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let skip = SourceOptions {
        on_bad_row: OnBadRow::Skip,
        ..SourceOptions::default()
    };
    for (name, text) in &cases {
        let delimiter = if name == &"semicolons" {
            ';'
        } else if name == &"tabs" {
            '\t'
        } else {
            ','
        };
        let plain = dir.join("plain.csv");
        let quoted_path = dir.join("quoted.csv");
        std::fs::write(&plain, text).unwrap();
        let q = quoted(text, delimiter);
        assert_ne!(&q, text, "{name}: nothing was quoted");
        std::fs::write(&quoted_path, &q).unwrap();
        for opts in [&SourceOptions::default(), &skip] {
            assert_eq!(
                everything(&plain, opts),
                everything(&quoted_path, opts),
                "{name}: {text:?}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn errors_after_blank_lines_keep_the_csv_line_numbers() {
    // A record's line is one more than the line ends read before it, blank
    // lines not counted until the next record (the `csv` crate's rule,
    // kept exactly by the hand-split path).
    let dir = std::env::temp_dir().join(format!("playbook-data-lines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bars.csv");
    let text = "timestamp,open,high,low,close\n\
                2024-01-01T00:00:00Z,1,2,1,2\n\
                2024-01-01T00:01:00Z,1,2,1,2\n\
                2024-01-01T00:02:00Z,1,2,1,x\n";
    for (body, line) in [
        (text.to_string(), 4),
        (text.replace("2\n2024", "2\n\n\n2024"), 6),
        (text.replace('\n', "\r\n"), 3),
    ] {
        std::fs::write(&path, &body).unwrap();
        for p in [body.clone(), quoted(&body, ',')] {
            std::fs::write(&path, &p).unwrap();
            let err = check_file(&path, &SourceOptions::default()).unwrap_err();
            assert!(
                matches!(err, DataError::NotANumber { line: l, .. } if l == line),
                "{err} in {p:?}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
