//! Non-price step series (`timestamp,value`), e.g. policy rates.

use std::path::Path;

use csv::ByteRecord;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::decimal::parse_decimal;
use super::hash::InputHash;
use super::options::{OnBadRow, SeriesOptions};
use super::reader::{CsvReader, TIME_ALIASES, TimeCols, csv_error, find_time, normalize, open_csv};
use super::report::{SAMPLE_LINES, SkippedRow};
use super::stamp::{self, Resolved};
use super::{DataError, SeriesPoint};

const VALUE_ALIASES: [&str; 5] = ["value", "rate", "close", "price", "v"];

/// A streaming reader of a `timestamp,value` series. Times take every form
/// bar files accept; a date-only row becomes known at the end of its date in
/// the series' zone (never earlier than it could have been published).
/// Values must be finite (negative values are allowed: rates can be negative).
pub struct SeriesReader {
    file: String,
    rdr: CsvReader,
    rec: ByteRecord,
    first_data: Option<ByteRecord>,
    time: TimeCols,
    value: usize,
    time_name: String,
    value_name: String,
    opts: SeriesOptions,
    zone: TimeZone,
    utc: bool,
    prev: Option<(Timestamp, u64)>,
    done: bool,
    skipped: u64,
    first_skipped: Vec<SkippedRow>,
}

impl SeriesReader {
    /// Open a series file (`.csv` or gzip) and read its header.
    ///
    /// # Errors
    /// `Io`, `Empty`, or `MissingColumn` when no time or value column is found.
    pub fn open(path: impl AsRef<Path>, opts: &SeriesOptions) -> Result<SeriesReader, DataError> {
        Self::open_with(path.as_ref(), opts, None)
    }

    /// [`Self::open`], also hashing the file's bytes as they are read into
    /// `hash` (the whole file, even if the reader is dropped early).
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_hashed(
        path: impl AsRef<Path>,
        opts: &SeriesOptions,
        hash: InputHash,
    ) -> Result<SeriesReader, DataError> {
        Self::open_with(path.as_ref(), opts, Some(hash))
    }

    fn open_with(
        path: &Path,
        opts: &SeriesOptions,
        hash: Option<InputHash>,
    ) -> Result<SeriesReader, DataError> {
        let (file, mut rdr, _) = open_csv(path, hash)?;
        let mut rec = ByteRecord::new();
        if !rdr
            .read_byte_record(&mut rec)
            .map_err(|e| csv_error(&file, e))?
        {
            return Err(DataError::Empty { file });
        }
        let cells: Vec<String> = rec.iter().map(normalize).collect();
        let names: Vec<String> = rec
            .iter()
            .map(|c| String::from_utf8_lossy(stamp::trim(c)).into_owned())
            .collect();
        let header = names.join(",");
        let line = rec.position().map_or(1, |p| p.line());
        let missing = |role, aliases| DataError::MissingColumn {
            file: file.clone(),
            line,
            role,
            aliases,
            header: header.clone(),
        };
        let headerless = rec.len() >= 2
            && stamp::parse_stamp(&rec[0]).is_ok()
            && parse_decimal(stamp::trim(&rec[1])).is_some();
        let (time, value, time_name, value_name, first_data) = if headerless {
            (
                TimeCols::One(0),
                1,
                "time".to_string(),
                "value".to_string(),
                Some(rec.clone()),
            )
        } else {
            let time = find_time(&cells).ok_or_else(|| missing("time", TIME_ALIASES))?;
            let used = |i: usize| match time {
                TimeCols::One(t) => i == t,
                TimeCols::Split(d, t) => i == d || i == t,
            };
            let value = VALUE_ALIASES
                .iter()
                .find_map(|a| cells.iter().position(|c| c == a))
                .or_else(|| {
                    let rest: Vec<usize> = (0..cells.len()).filter(|&i| !used(i)).collect();
                    (rest.len() == 1).then(|| rest[0])
                })
                .ok_or_else(|| missing("value", "value, rate, close, price, v"))?;
            let time_name = match time {
                TimeCols::One(i) => names[i].clone(),
                TimeCols::Split(d, t) => format!("{} {}", names[d], names[t]),
            };
            (time, value, time_name, names[value].clone(), None)
        };
        let zone = opts.zone.clone().unwrap_or(TimeZone::UTC);
        Ok(SeriesReader {
            file,
            rdr,
            rec,
            first_data,
            time,
            value,
            time_name,
            value_name,
            opts: opts.clone(),
            utc: stamp::zone_is_utc(&zone),
            zone,
            prev: None,
            done: false,
            skipped: 0,
            first_skipped: Vec::new(),
        })
    }

    /// Rows skipped under `on_bad_row: skip`.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The first few skipped rows with their errors.
    pub fn first_skipped(&self) -> &[SkippedRow] {
        &self.first_skipped
    }

    fn parse(&self, rec: &ByteRecord) -> Result<SeriesPoint, DataError> {
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize, column: &str| {
            rec.get(i).ok_or_else(|| DataError::ShortRow {
                file: self.file.clone(),
                line,
                column: column.to_string(),
                found: rec.len(),
                needed: i + 1,
            })
        };
        let (stamp, text) = match self.time {
            TimeCols::One(i) => {
                let f = get(i, &self.time_name)?;
                (
                    stamp::parse_stamp(f),
                    String::from_utf8_lossy(stamp::trim(f)).into_owned(),
                )
            }
            TimeCols::Split(d, t) => {
                let (fd, ft) = (get(d, &self.time_name)?, get(t, &self.time_name)?);
                (
                    stamp::parse_date_time(fd, ft),
                    format!(
                        "{} {}",
                        String::from_utf8_lossy(stamp::trim(fd)),
                        String::from_utf8_lossy(stamp::trim(ft))
                    ),
                )
            }
        };
        let bad_time = |reason: &str| DataError::BadTime {
            file: self.file.clone(),
            line,
            column: self.time_name.clone(),
            text: text.clone(),
            reason: reason.to_string(),
        };
        let time = match stamp
            .and_then(|s| stamp::resolve(s, &self.zone, self.utc))
            .map_err(bad_time)?
        {
            Resolved::Instant(t) => t,
            Resolved::Date(d) => {
                let next = stamp::Ymd::from_day_number(d.day_number() + 1);
                stamp::start_of_date(next, &self.zone, self.utc).map_err(bad_time)?
            }
        };
        let raw = stamp::trim(get(self.value, &self.value_name)?);
        let vtext = || String::from_utf8_lossy(raw).into_owned();
        if raw.is_empty() {
            return Err(DataError::EmptyValue {
                file: self.file.clone(),
                line,
                column: self.value_name.clone(),
            });
        }
        let mut value = parse_decimal(raw).ok_or_else(|| DataError::NotANumber {
            file: self.file.clone(),
            line,
            column: self.value_name.clone(),
            text: vtext(),
        })?;
        if !value.is_finite() {
            return Err(DataError::NotFinite {
                file: self.file.clone(),
                line,
                column: self.value_name.clone(),
                text: vtext(),
            });
        }
        if self.opts.percent {
            // Shift the decimal exponent so 5.25 reads exactly as 0.0525.
            value = if raw.iter().any(|c| matches!(c, b'e' | b'E')) {
                value / 100.0
            } else {
                let mut shifted = raw.to_vec();
                shifted.extend_from_slice(b"e-2");
                parse_decimal(&shifted).unwrap_or(value / 100.0)
            };
        }
        if let Some((prev, prev_line)) = self.prev {
            if time == prev {
                return Err(DataError::Duplicate {
                    file: self.file.clone(),
                    line,
                    text,
                    first_line: prev_line,
                });
            }
            if time < prev {
                return Err(DataError::OutOfOrder {
                    file: self.file.clone(),
                    line,
                    text,
                    previous_line: prev_line,
                    previous: prev.to_string(),
                });
            }
        }
        Ok(SeriesPoint { time, value })
    }
}

impl Iterator for SeriesReader {
    type Item = Result<SeriesPoint, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let result = if let Some(rec) = self.first_data.take() {
                self.parse(&rec)
            } else {
                match self.rdr.read_byte_record(&mut self.rec) {
                    Ok(true) => {}
                    Ok(false) => {
                        self.done = true;
                        return None;
                    }
                    Err(e) => {
                        self.done = true;
                        return Some(Err(csv_error(&self.file, e)));
                    }
                }
                if self.rec.len() == 1 && stamp::trim(&self.rec[0]).is_empty() {
                    continue;
                }
                self.parse(&self.rec)
            };
            match result {
                Ok(p) => {
                    let line = self.rec.position().map_or(0, |p| p.line());
                    self.prev = Some((p.time, line));
                    return Some(Ok(p));
                }
                Err(e) if self.opts.on_bad_row == OnBadRow::Skip && e.is_row_error() => {
                    self.skipped += 1;
                    if self.first_skipped.len() < SAMPLE_LINES {
                        self.first_skipped.push(SkippedRow {
                            line: e.line().unwrap_or(0),
                            error: e.to_string(),
                        });
                    }
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// Read a whole series file.
///
/// # Errors
/// The first structural [`DataError`] (unless `on_bad_row: skip`).
pub fn load_series(
    path: impl AsRef<Path>,
    opts: &SeriesOptions,
) -> Result<Vec<SeriesPoint>, DataError> {
    SeriesReader::open(path, opts)?.collect()
}
