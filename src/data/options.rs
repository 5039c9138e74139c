//! How to read one source: plain data the run config fills from YAML.

use std::path::PathBuf;
use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, civil};

use super::DataError;

/// Whether a row's time stamp marks the bar's open (the default) or its close.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StampAt {
    /// The stamp is the bar's open; the bar closes one interval later.
    #[default]
    Open,
    /// The stamp is the bar's close; the bar opened one interval earlier.
    Close,
}

impl FromStr for StampAt {
    type Err = DataError;

    /// Parse `open` or `close`.
    fn from_str(text: &str) -> Result<Self, DataError> {
        match text.trim() {
            "open" => Ok(StampAt::Open),
            "close" => Ok(StampAt::Close),
            _ => Err(bad("stamp", text, "expected `open` or `close`")),
        }
    }
}

/// What to do with a row that has a structural problem.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnBadRow {
    /// Stop with the error (the default).
    #[default]
    Error,
    /// Skip the row, count it and report its line.
    Skip,
}

impl FromStr for OnBadRow {
    type Err = DataError;

    /// Parse `error` or `skip`.
    fn from_str(text: &str) -> Result<Self, DataError> {
        match text.trim() {
            "error" => Ok(OnBadRow::Error),
            "skip" => Ok(OnBadRow::Skip),
            _ => Err(bad("on_bad_row", text, "expected `error` or `skip`")),
        }
    }
}

/// When a daily bar becomes known: a wall-clock time on its trading date,
/// in `zone` (the source's zone when `None`), e.g. `16:10 Asia/Hong_Kong`.
#[derive(Clone, Debug)]
pub struct DailyClose {
    /// The time of day of the close.
    pub time: civil::Time,
    /// The zone of that time; `None` means the source's zone.
    pub zone: Option<TimeZone>,
}

impl FromStr for DailyClose {
    type Err = DataError;

    /// Parse `HH:MM[:SS] [ZONE]`, e.g. `16:10 Asia/Hong_Kong` or `22:00`.
    fn from_str(text: &str) -> Result<Self, DataError> {
        let mut parts = text.split_whitespace();
        let time_text = parts
            .next()
            .ok_or_else(|| bad("daily_close", text, "expected `HH:MM [ZONE]`"))?;
        let time: civil::Time = time_text
            .parse()
            .map_err(|_| bad("daily_close", text, "expected a time of day `HH:MM`"))?;
        let zone = match parts.next() {
            None => None,
            Some(name) => Some(parse_zone(name).map_err(|e| match e {
                DataError::BadOption { reason, .. } => bad("daily_close", text, &reason),
                other => other,
            })?),
        };
        if parts.next().is_some() {
            return Err(bad("daily_close", text, "expected `HH:MM [ZONE]`"));
        }
        Ok(DailyClose { time, zone })
    }
}

/// Look up an IANA zone by name (`Asia/Tokyo`, `UTC`).
///
/// # Errors
/// `DataError::BadOption` when the name is not in the time zone database.
pub fn parse_zone(name: &str) -> Result<TimeZone, DataError> {
    TimeZone::get(name.trim()).map_err(|_| {
        bad(
            "zone",
            name,
            "not an IANA time zone name such as `Asia/Tokyo`",
        )
    })
}

/// Parse a bar interval written like the language's durations: `30s 15m 4h 1d 1w`.
///
/// # Errors
/// `DataError::BadOption` for anything else, or a zero interval.
pub fn parse_interval(text: &str) -> Result<SignedDuration, DataError> {
    let t = text.trim();
    let err = || {
        bad(
            "interval",
            text,
            "expected a duration like `30s`, `15m`, `4h`, `1d` or `1w`",
        )
    };
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
    let (n, unit) = t.split_at(split);
    let n: i64 = n.parse().map_err(|_| err())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(err()),
    };
    if n <= 0 || n > 1_000_000 {
        return Err(err());
    }
    Ok(SignedDuration::from_secs(n * secs))
}

fn bad(option: &'static str, text: &str, reason: &str) -> DataError {
    DataError::BadOption {
        option,
        text: text.to_string(),
        reason: reason.to_string(),
    }
}

/// How to read one bar source. `Default` is: naive times in UTC, stamps mark
/// the open, interval inferred, daily bars known at the end of their date,
/// bad rows are errors.
#[derive(Clone, Debug)]
pub struct SourceOptions {
    /// The zone of naive time stamps and of trading dates.
    pub zone: TimeZone,
    /// Whether stamps mark the bar's open or close.
    pub stamp: StampAt,
    /// The bar interval; `None` infers the most common spacing of the first rows.
    pub interval: Option<SignedDuration>,
    /// When daily bars become known; `None` is the end of the date in `zone`.
    pub daily_close: Option<DailyClose>,
    /// Whether a bad row stops the read or is skipped (and reported).
    pub on_bad_row: OnBadRow,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            zone: TimeZone::UTC,
            stamp: StampAt::Open,
            interval: None,
            daily_close: None,
            on_bad_row: OnBadRow::Error,
        }
    }
}

/// A bar source: the file and how to read it.
#[derive(Clone, Debug)]
pub struct SourceSpec {
    /// The CSV file (`.csv` or gzip-compressed `.csv.gz`).
    pub path: PathBuf,
    /// How to read it.
    pub options: SourceOptions,
}

impl SourceSpec {
    /// A source with default options.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SourceSpec {
            path: path.into(),
            options: SourceOptions::default(),
        }
    }

    /// Open the source as a streaming reader ([`super::BarReader::open`]).
    ///
    /// # Errors
    /// As [`super::BarReader::open`].
    pub fn open(&self) -> Result<super::BarReader, DataError> {
        super::BarReader::open(&self.path, &self.options)
    }

    /// Load the whole source ([`super::load_bars`]).
    ///
    /// # Errors
    /// As [`super::load_bars`].
    pub fn load(&self) -> Result<super::LoadedBars, DataError> {
        super::load_bars(&self.path, &self.options)
    }

    /// Check the source ([`super::check_file`]).
    ///
    /// # Errors
    /// As [`super::check_file`].
    pub fn check(&self) -> Result<super::DataReport, DataError> {
        super::check_file(&self.path, &self.options)
    }
}

/// How to read a `timestamp,value` series.
#[derive(Clone, Debug, Default)]
pub struct SeriesOptions {
    /// Read values as percent points (5.25 becomes 0.0525): `as percent`.
    pub percent: bool,
    /// The zone of naive time stamps and dates (default UTC).
    pub zone: Option<TimeZone>,
    /// Whether a bad row stops the read or is skipped.
    pub on_bad_row: OnBadRow,
}
