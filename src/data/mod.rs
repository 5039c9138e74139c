//! Bars in: reading vendors' CSV files into [`Bar`]s, checking their quality,
//! and non-price series.

use jiff::Timestamp;

mod decimal;
mod error;
mod options;
mod reader;
mod report;
mod series;
mod stamp;

pub use decimal::parse_decimal;
pub use error::DataError;
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
