//! Bars in: reading vendors' CSV files into [`Bar`]s, checking their quality,
//! and non-price series.
//!
//! - [`BarReader`] streams one file (plain or gzip, detected by its magic
//!   bytes) as [`ClosedBar`]s in O(1) memory; [`load_bars`] collects the
//!   bars (56 bytes each) with the file's [`DataReport`]; [`check_file`]
//!   only reports. [`SourceOptions`] says how to read a source (zone of naive
//!   stamps, stamp at open or close, interval, daily close, bad rows).
//! - Header: case-insensitive aliases `timestamp|time|date|datetime` (or
//!   `date` + `time` columns), `open|o`, `high|h`, `low|l`,
//!   `close|c|last|price`, optional `volume|vol|v|tickvol`; MetaTrader's
//!   `<DATE>` style names; extra columns ignored; no header at all when the
//!   first row is `time,o,h,l,c[,v]` or `date,time,o,h,l,c[,v]`. Delimiter
//!   `,` `;` or tab, from the first line.
//! - Times: RFC 3339 with `Z` or an offset; naive `YYYY-MM-DD[( |T)HH:MM[:SS[.f]]]`,
//!   `YYYY.MM.DD HH:MM[:SS]` (MetaTrader), `YYYYMMDD HHMMSS` (HistData),
//!   `MM/DD/YYYY[ HH:MM[:SS]]`, in the source's zone; epoch seconds, ms, us
//!   or ns by magnitude (more than 8 digits; exactly 8 digits is `YYYYMMDD`).
//!   A naive time skipped by a DST change moves forward, a repeated one takes
//!   the earlier instant. Date-only rows are daily bars: the bar opens at the
//!   start of the date in the source's zone and is known at `daily_close` on
//!   that date, by default at the end of the date.
//! - Structural problems are [`DataError`]s naming file, line, column and
//!   text; anomalies ([`Anomaly`]), gaps and skipped rows are counted in the
//!   [`DataReport`] and the data is kept as written.

use jiff::Timestamp;

mod decimal;
mod error;
mod hash;
mod input;
mod options;
mod reader;
mod report;
mod series;
mod stamp;

pub use decimal::parse_decimal;
pub use error::DataError;
pub use hash::InputHash;
pub use options::{
    DailyClose, OnBadRow, SeriesOptions, SourceOptions, SourceSpec, StampAt, parse_interval,
    parse_zone,
};
pub use reader::{BarReader, CloseRule, LoadedBars, check_file, load_bars};
pub use report::{
    Anomaly, DataReport, GapSample, Occurrences, SAMPLE_LINES, SkippedRow, format_duration,
};
pub use series::{SeriesReader, load_series};

/// One OHLCV bar. `time` is the bar's **open** instant in UTC; the bar covers
/// `[time, time + interval)` and is known only at its close.
///
/// `volume` is NaN when the source has no volume.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    pub time: Timestamp,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// A bar together with the instant it becomes known: its close (for a daily
/// bar, the configured daily close). This is what sources feed the clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClosedBar {
    pub bar: Bar,
    pub close: Timestamp,
}

/// One point of a non-price series (`timestamp,value`): `value` holds from
/// `time` (the instant it became public) until the next point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeriesPoint {
    pub time: Timestamp,
    pub value: f64,
}
