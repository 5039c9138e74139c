//! The streaming bar reader: CSV (or gzip CSV) in, validated [`ClosedBar`]s
//! out, with a running [`DataReport`].

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use csv::ByteRecord;
use flate2::read::MultiGzDecoder;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, civil};

use super::decimal::{
    digits_run, fast_decimal_parts_word, parse_decimal, parse_decimal_class, scale, scale4,
    swar_decimal, swar_decimal16,
};
use super::hash::{HashingFile, InputHash};
use super::input::{Input, LineFields, Next};
use super::options::{DailyClose, OnBadRow, SourceOptions, StampAt};
use super::report::{Anomaly, DataReport, GapSample, SAMPLE_LINES, SkippedRow};
use super::stamp::{self, Resolved, Ymd};
use super::{Bar, ClosedBar, DataError};

/// How many rows the reader looks at to infer the interval.
const INFER_ROWS: usize = 64;

/// The buffered bytes of a (possibly gzip) file.
pub(crate) type Buffered = BufReader<Box<dyn Read + Send>>;

pub(crate) type CsvReader = csv::Reader<Buffered>;

/// Open a plain or gzip file (detected by its magic bytes), detecting the
/// delimiter (`,`, `;` or tab) from the first line: the file's name for
/// messages, the buffered bytes, the delimiter, and the file's length when
/// it is not gzip.
///
/// With `hash`, the file's bytes are hashed as they are read (see
/// [`super::hash`]).
pub(crate) fn open_input(
    path: &Path,
    hash: Option<InputHash>,
) -> Result<(String, Buffered, u8, Option<u64>), DataError> {
    let file = path.display().to_string();
    let io = |source| DataError::Io {
        file: file.clone(),
        source,
    };
    let mut f = File::open(path).map_err(io)?;
    let len = f.metadata().map(|m| m.len()).ok();
    let mut magic = [0u8; 2];
    let mut n = 0;
    while n < 2 {
        match f.read(&mut magic[n..]).map_err(io)? {
            0 => break,
            k => n += k,
        }
    }
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    let gz = n == 2 && magic == [0x1f, 0x8b];
    let f: Box<dyn Read + Send> = match hash {
        Some(out) => Box::new(HashingFile::new(f, out)),
        None => Box::new(f),
    };
    let inner: Box<dyn Read + Send> = if gz {
        Box::new(MultiGzDecoder::new(BufReader::with_capacity(1 << 16, f)))
    } else {
        f
    };
    let mut buf = BufReader::with_capacity(1 << 16, inner);
    let head = buf.fill_buf().map_err(io)?;
    let delimiter = detect_delimiter(head);
    Ok((file, buf, delimiter, if gz { None } else { len }))
}

/// Open a CSV or gzip CSV (detected by its magic bytes), detecting the
/// delimiter (`,`, `;` or tab) from the first line.
pub(crate) fn open_csv(
    path: &Path,
    hash: Option<InputHash>,
) -> Result<(String, CsvReader, Option<u64>), DataError> {
    let (file, buf, delimiter, len) = open_input(path, hash)?;
    let rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .comment(Some(b'#'))
        .buffer_capacity(1 << 16)
        .from_reader(buf);
    Ok((file, rdr, len))
}

/// The delimiter used most on the first line: `,`, `;` or tab (default `,`).
fn detect_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let count = |d: u8| line.iter().filter(|&&b| b == d).count();
    let mut best = (b',', count(b','));
    for d in [b';', b'\t'] {
        let c = count(d);
        if c > best.1 {
            best = (d, c);
        }
    }
    best.0
}

/// Convert a csv error into a data error.
pub(crate) fn csv_error(file: &str, e: csv::Error) -> DataError {
    let line = e.position().map_or(0, |p| p.line());
    match e.into_kind() {
        csv::ErrorKind::Io(source) => DataError::Io {
            file: file.to_string(),
            source,
        },
        other => DataError::Csv {
            file: file.to_string(),
            line,
            message: format!("{other:?}"),
        },
    }
}

/// A header cell normalized for alias matching: trimmed, lower case, without
/// a byte-order mark or MetaTrader's `<...>`.
pub(crate) fn normalize(cell: &[u8]) -> String {
    let s = String::from_utf8_lossy(cell);
    let s = s.trim().trim_start_matches('\u{feff}').trim();
    let s = s
        .strip_prefix('<')
        .and_then(|x| x.strip_suffix('>'))
        .unwrap_or(s);
    s.to_ascii_lowercase()
}

/// Where the time is: one column, or a date column and a time column.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TimeCols {
    One(usize),
    Split(usize, usize),
}

/// Find the time column(s) in normalized header cells.
pub(crate) fn find_time(cells: &[String]) -> Option<TimeCols> {
    let find = |name: &str| cells.iter().position(|c| c == name);
    if let (Some(d), Some(t)) = (find("date"), find("time")) {
        return Some(TimeCols::Split(d, t));
    }
    [
        "timestamp",
        "datetime",
        "date_time",
        "date time",
        "date",
        "time",
    ]
    .iter()
    .find_map(|a| find(a))
    .map(TimeCols::One)
}

pub(crate) const TIME_ALIASES: &str = "timestamp, time, date, datetime, or date + time";

const ROLES: [(&str, &[&str]); 5] = [
    ("open", &["open", "o"]),
    ("high", &["high", "h"]),
    ("low", &["low", "l"]),
    ("close", &["close", "c", "last", "price"]),
    ("volume", &["volume", "vol", "v", "tickvol"]),
];
const ROLE_ALIASES: [&str; 5] = [
    "open, o",
    "high, h",
    "low, l",
    "close, c, last, price",
    "volume, vol, v, tickvol",
];

/// The columns of a bar file.
#[derive(Clone, Debug)]
struct Layout {
    time: TimeCols,
    prices: [usize; 4],
    volume: Option<usize>,
    /// Column names for messages, by column index.
    names: Vec<String>,
    time_name: String,
}

impl Layout {
    fn from_header(file: &str, rec: &ByteRecord) -> Result<Layout, DataError> {
        let cells: Vec<String> = rec.iter().map(normalize).collect();
        let line = rec.position().map_or(1, |p| p.line());
        let missing = |role, aliases| DataError::MissingColumn {
            file: file.to_string(),
            line,
            role,
            aliases,
            header: rec
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(","),
        };
        let time = find_time(&cells).ok_or_else(|| missing("time", TIME_ALIASES))?;
        let mut cols = [None; 5];
        for (i, (_, aliases)) in ROLES.iter().enumerate() {
            cols[i] = aliases
                .iter()
                .find_map(|a| cells.iter().position(|c| c == a));
        }
        let mut prices = [0; 4];
        for i in 0..4 {
            prices[i] = cols[i].ok_or_else(|| missing(ROLES[i].0, ROLE_ALIASES[i]))?;
        }
        let names: Vec<String> = rec
            .iter()
            .map(|c| String::from_utf8_lossy(stamp::trim(c)).into_owned())
            .collect();
        let time_name = match time {
            TimeCols::One(i) => names[i].clone(),
            TimeCols::Split(d, t) => format!("{} {}", names[d], names[t]),
        };
        Ok(Layout {
            time,
            prices,
            volume: cols[4],
            names,
            time_name,
        })
    }

    /// A layout for a file without a header, if the first row looks like
    /// `time,open,high,low,close[,volume]` or `date,time,open,...`.
    fn headerless(rec: &ByteRecord) -> Option<Layout> {
        let f0 = rec.get(0)?;
        let split = matches!(stamp::parse_stamp(f0), Ok(stamp::Stamp::Date(_)))
            && rec.get(1).is_some_and(stamp::is_time_of_day);
        let (time, first_price) = if split {
            (TimeCols::Split(0, 1), 2)
        } else {
            stamp::parse_stamp(f0).ok()?;
            (TimeCols::One(0), 1)
        };
        let prices = [
            first_price,
            first_price + 1,
            first_price + 2,
            first_price + 3,
        ];
        for &p in &prices {
            parse_decimal(stamp::trim(rec.get(p)?))?;
        }
        let volume = (rec.len() > first_price + 4).then_some(first_price + 4);
        let mut names: Vec<String> = (0..rec.len()).map(|i| format!("field {}", i + 1)).collect();
        let roles = ["open", "high", "low", "close", "volume"];
        for (k, role) in roles.iter().enumerate() {
            if let Some(n) = names.get_mut(first_price + k) {
                *n = (*role).to_string();
            }
        }
        let time_name = if split { "date time" } else { "time" }.to_string();
        if split {
            names[0] = "date".into();
            names[1] = "time".into();
        } else {
            names[0] = "time".into();
        }
        Some(Layout {
            time,
            prices,
            volume,
            names,
            time_name,
        })
    }
}

/// What the next record gave.
enum Got {
    /// An ordinary row, read the fast way.
    Fast(Row),
    /// Not ordinary: [`BarReader::parse_row`] reads the current record.
    Slow,
    /// A read error.
    Io(std::io::Error),
    /// A blank line.
    Blank,
    /// The end of the file.
    Eof,
}

/// Field access shared by `csv` records and simple lines.
trait Fields {
    /// Field `i`, or `None` past the last.
    fn get(&self, i: usize) -> Option<&[u8]>;
    /// Field `i` with its first eight bytes as a little-endian word, when
    /// they can be read (bytes after the field included).
    #[inline(always)]
    fn get_word(&self, i: usize) -> Option<(&[u8], Option<u64>)> {
        Some((self.get(i)?, None))
    }
    /// The record's line number.
    fn lineno(&self) -> u64;
}

impl Fields for ByteRecord {
    #[inline(always)]
    fn get(&self, i: usize) -> Option<&[u8]> {
        ByteRecord::get(self, i)
    }

    fn lineno(&self) -> u64 {
        self.position().map_or(0, |p| p.line())
    }
}

impl Fields for LineFields<'_> {
    #[inline(always)]
    fn get(&self, i: usize) -> Option<&[u8]> {
        LineFields::get(self, i)
    }

    #[inline(always)]
    fn get_word(&self, i: usize) -> Option<(&[u8], Option<u64>)> {
        LineFields::get_word(self, i)
    }

    #[inline(always)]
    fn lineno(&self) -> u64 {
        self.lineno
    }
}

/// Open, high, low and close from exact decimal parts (`m x 10^e`): one
/// shared scale when all four have the same number of decimals.
#[inline(always)]
fn prices(m: [u64; 4], e: [i32; 4]) -> [f64; 4] {
    if e[0] <= 0 && e[1] == e[0] && e[2] == e[0] && e[3] == e[0] {
        scale4(m, (-e[0]) as usize)
    } else {
        [
            scale(m[0], e[0]),
            scale(m[1], e[1]),
            scale(m[2], e[2]),
            scale(m[3], e[3]),
        ]
    }
}

/// The fast path's reading of field `i` as a decimal (see
/// [`fast_decimal_parts_word`]).
#[inline(always)]
fn decimal_parts(rec: &impl Fields, i: usize) -> Option<(u64, i32, bool)> {
    let (text, word) = rec.get_word(i)?;
    fast_decimal_parts_word(text, word)
}

/// A run of 1 to 8 digits and `.` at `at` in `b` read as a decimal by
/// [`swar_decimal`]: its parts and where the run ends; `None` also when
/// fewer than 8 bytes can be read there.
#[inline(always)]
fn number(b: &[u8], at: usize) -> Option<(u64, i32, usize)> {
    let word = word_at(b, at)?;
    let len = digits_run(word);
    let (m, e) = swar_decimal(word, len)?;
    Some((m, e, at + len))
}

/// A run of 8 to 16 digits and `.` at `at` in `b` whose first 8 bytes
/// are `first` (see [`number`]).
#[cold]
#[inline(never)]
fn long_number(b: &[u8], at: usize, first: u64) -> Option<(u64, i32, usize)> {
    let rest = word_at(b, at + 8)?;
    let len = 8 + digits_run(rest);
    let (m, e) = if len == 8 {
        swar_decimal(first, 8)?
    } else {
        swar_decimal16(first, rest, len)?
    };
    Some((m, e, at + len))
}

/// The 8 bytes at `at` in `b` as a little-endian word.
#[inline(always)]
fn word_at(b: &[u8], at: usize) -> Option<u64> {
    let w = b.get(at..at + 8)?;
    Some(u64::from_le_bytes([
        w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7],
    ]))
}

/// One accepted row, before its close is known.
#[derive(Clone, Copy, Debug)]
struct Row {
    line: u64,
    /// The stamp instant (intraday) or the start of the trading date (daily).
    time: Timestamp,
    date: Option<Ymd>,
    ohlcv: [f64; 5],
}

/// When a bar becomes known, given its open.
#[derive(Clone, Debug)]
pub enum CloseRule {
    /// Intraday bars: known one interval after the open.
    AfterInterval(SignedDuration),
    /// Daily bars (opening at the start of their trading date in `zone`):
    /// known at `daily_close` on that date, or at the end of the date.
    Daily {
        /// The source's zone.
        zone: TimeZone,
        /// The configured close, if any.
        daily_close: Option<DailyClose>,
    },
}

impl CloseRule {
    /// The close instant of the bar opening at `open`; `None` only outside
    /// the supported time range.
    pub fn close_of(&self, open: Timestamp) -> Option<Timestamp> {
        match self {
            CloseRule::AfterInterval(iv) => open.checked_add(*iv).ok(),
            CloseRule::Daily { zone, daily_close } => {
                let d = zone.to_datetime(open).date();
                let ymd = Ymd {
                    y: d.year(),
                    m: d.month(),
                    d: d.day(),
                };
                daily_close_of(ymd, daily_close.as_ref(), zone, stamp::zone_is_utc(zone)).ok()
            }
        }
    }
}

/// The close instant of the daily bar of `date`.
fn daily_close_of(
    date: Ymd,
    close: Option<&DailyClose>,
    zone: &TimeZone,
    utc: bool,
) -> Result<Timestamp, &'static str> {
    match close {
        Some(dc) => {
            let zone = dc.zone.as_ref().unwrap_or(zone);
            let dt = date.civil().to_datetime(dc.time);
            zone.to_ambiguous_timestamp(dt)
                .compatible()
                .map_err(|_| "daily close out of range")
        }
        None if utc => Timestamp::from_second((date.day_number() + 1) * 86_400)
            .map_err(|_| "date out of range"),
        None => {
            let next = date.civil().tomorrow().map_err(|_| "date out of range")?;
            zone.to_ambiguous_timestamp(next.to_datetime(civil::Time::midnight()))
                .compatible()
                .map_err(|_| "date out of range")
        }
    }
}

/// A streaming reader of one bar file: yields each bar with its close
/// instant, in file order, holding O(1) memory (a look-ahead of 64 rows to
/// infer the interval). After the last bar, [`BarReader::report`] is the
/// file's complete quality report.
///
/// The iterator ends after the first error (unless `on_bad_row: skip`, which
/// skips and counts row errors instead).
pub struct BarReader {
    file: String,
    src: Input,
    rec: ByteRecord,
    layout: Layout,
    opts: SourceOptions,
    utc: bool,
    first_data: Option<ByteRecord>,
    /// Whether rows are dates, and the first row's line.
    kind: Option<(bool, u64)>,
    /// The last accepted row's time and line (order checks).
    prev: Option<(Timestamp, u64)>,
    pending: VecDeque<Row>,
    resolved: bool,
    eof: bool,
    done: bool,
    interval: Option<SignedDuration>,
    /// The last emitted bar: open, close, day number.
    last: Option<(Timestamp, Timestamp, i64)>,
    file_len: Option<u64>,
    date_cache: std::cell::Cell<stamp::DateCache>,
    /// Whether the columns are time, open, high, low, close[, volume], in
    /// that order (see [`Self::fused_row`]).
    plain: bool,
    delimiter: u8,
    /// Lines in a row the fused path did not read, and how many more to
    /// leave to the usual path without trying.
    fused_misses: u32,
    fused_skip: u32,
    report: DataReport,
}

impl BarReader {
    /// Open a bar file (`.csv` or gzip) and read its header.
    ///
    /// # Errors
    /// `Io` when it cannot be read, `Empty` for an empty file,
    /// `MissingColumn` when the header lacks time, open, high, low or close.
    pub fn open(path: impl AsRef<Path>, opts: &SourceOptions) -> Result<BarReader, DataError> {
        Self::open_with(path.as_ref(), opts, true, None)
    }

    /// [`Self::open`], also hashing the file's bytes as they are read into
    /// `hash` (the whole file, even if the reader is dropped early).
    ///
    /// # Errors
    /// As [`Self::open`].
    pub fn open_hashed(
        path: impl AsRef<Path>,
        opts: &SourceOptions,
        hash: InputHash,
    ) -> Result<BarReader, DataError> {
        Self::open_with(path.as_ref(), opts, true, Some(hash))
    }

    /// [`Self::open`], reading simple lines by hand (`fast`) or everything
    /// with `csv`.
    fn open_with(
        path: &Path,
        opts: &SourceOptions,
        fast: bool,
        hash: Option<InputHash>,
    ) -> Result<BarReader, DataError> {
        let (file, buf, delimiter, file_len) = open_input(path, hash)?;
        let delim = delimiter;
        let mut src = Input::new(buf, delimiter);
        src.set_fast(fast);
        let mut rec = ByteRecord::new();
        let next = src.next(&mut rec).map_err(|source| DataError::Io {
            file: file.clone(),
            source,
        })?;
        if next != Next::Record {
            return Err(DataError::Empty { file });
        }
        let (layout, first_data) = match Layout::from_header(&file, &rec) {
            Ok(l) => (l, None),
            Err(e) => match Layout::headerless(&rec) {
                Some(l) => (l, Some(rec.clone())),
                None => return Err(e),
            },
        };
        let mut report = DataReport::new(file.clone(), opts.zone.clone());
        report.interval_declared = opts.interval.is_some();
        // (With more columns, lines are read the usual way.)
        let plain = matches!(layout.time, TimeCols::One(0))
            && layout.prices == [1, 2, 3, 4]
            && matches!(layout.volume, None | Some(5))
            && layout.names.len() == 5 + usize::from(layout.volume.is_some());
        Ok(BarReader {
            file,
            src,
            rec,
            layout,
            utc: stamp::zone_is_utc(&opts.zone),
            opts: opts.clone(),
            first_data,
            kind: None,
            prev: None,
            pending: VecDeque::with_capacity(INFER_ROWS + 1),
            resolved: false,
            eof: false,
            done: false,
            interval: None,
            last: None,
            file_len,
            date_cache: Default::default(),
            plain,
            delimiter: delim,
            fused_misses: 0,
            fused_skip: 0,
            report,
        })
    }

    /// The report so far (complete once the iterator has returned `None`).
    pub fn report(&self) -> &DataReport {
        &self.report
    }

    /// The report, consuming the reader.
    pub fn into_report(self) -> DataReport {
        self.report
    }

    /// The close rule of this file's bars (known once the first bar is read).
    pub fn close_rule(&self) -> CloseRule {
        match self.kind {
            Some((true, _)) => CloseRule::Daily {
                zone: self.opts.zone.clone(),
                daily_close: self.opts.daily_close.clone(),
            },
            _ => CloseRule::AfterInterval(self.interval.unwrap_or(SignedDuration::ZERO)),
        }
    }

    /// A rough estimate of the number of rows (from the file size and the
    /// bytes per row so far), for preallocation; `None` for gzip input.
    pub fn estimated_rows(&self) -> Option<usize> {
        let len = self.file_len?;
        let read = self.src.offset();
        let rows = self.report.rows + self.pending.len() as u64 + self.report.skipped;
        if rows < 8 || read == 0 {
            return None;
        }
        usize::try_from(len.saturating_mul(rows) / read + 16).ok()
    }

    fn field<'r>(&self, rec: &'r ByteRecord, i: usize, line: u64) -> Result<&'r [u8], DataError> {
        rec.get(i).ok_or_else(|| DataError::ShortRow {
            file: self.file.clone(),
            line,
            column: self.layout.names[i].clone(),
            found: rec.len(),
            needed: i + 1,
        })
    }

    fn number(&self, rec: &ByteRecord, i: usize, line: u64) -> Result<Option<f64>, DataError> {
        let raw = stamp::trim(self.field(rec, i, line)?);
        if raw.is_empty() {
            return Ok(None);
        }
        let text = || String::from_utf8_lossy(raw).into_owned();
        let column = || self.layout.names[i].clone();
        let v = parse_decimal(raw).ok_or_else(|| DataError::NotANumber {
            file: self.file.clone(),
            line,
            column: column(),
            text: text(),
        })?;
        if !v.is_finite() {
            return Err(DataError::NotFinite {
                file: self.file.clone(),
                line,
                column: column(),
                text: text(),
            });
        }
        Ok(Some(v))
    }

    fn time_text(&self, rec: &ByteRecord) -> String {
        match self.layout.time {
            TimeCols::One(i) => {
                String::from_utf8_lossy(stamp::trim(rec.get(i).unwrap_or(b""))).into_owned()
            }
            TimeCols::Split(d, t) => format!(
                "{} {}",
                String::from_utf8_lossy(stamp::trim(rec.get(d).unwrap_or(b""))),
                String::from_utf8_lossy(stamp::trim(rec.get(t).unwrap_or(b"")))
            ),
        }
    }

    /// [`stamp::fast_iso`] with the reader's date cache.
    #[inline(always)]
    fn fast_stamp(&self, b: &[u8]) -> Option<(i64, Option<Ymd>)> {
        let mut cache = self.date_cache.get();
        let fast = stamp::fast_iso(b, &mut cache, self.utc);
        self.date_cache.set(cache);
        fast
    }

    /// Whether a row at `time` (of dates only when `daily`) can follow the
    /// rows read so far: the same kind of stamp, strictly later. The fast
    /// paths leave any other row to [`Self::parse_row`], which names the
    /// problem.
    #[inline(always)]
    fn continues(&self, time: Timestamp, daily: bool) -> bool {
        self.kind.is_none_or(|(d, _)| d == daily) && self.prev.is_none_or(|(prev, _)| time > prev)
    }

    /// The hot path: the row when everything about it is ordinary, `None`
    /// otherwise (then [`Self::parse_row`] reads it again and names the
    /// problem). Builds no error values and trims nothing.
    #[inline(always)]
    fn fast_row(&self, rec: &impl Fields) -> Option<Row> {
        let (time, date) = match self.layout.time {
            TimeCols::One(i) => {
                let b = rec.get(i)?;
                match self.fast_stamp(b) {
                    Some((secs, None)) => (Timestamp::from_second(secs).ok()?, None),
                    Some((secs, Some(d))) if self.utc => {
                        (Timestamp::from_second(secs).ok()?, Some(d))
                    }
                    _ => {
                        match stamp::resolve(stamp::parse_stamp(b).ok()?, &self.opts.zone, self.utc)
                            .ok()?
                        {
                            Resolved::Instant(t) => (t, None),
                            Resolved::Date(d) => (
                                stamp::start_of_date(d, &self.opts.zone, self.utc).ok()?,
                                Some(d),
                            ),
                        }
                    }
                }
            }
            TimeCols::Split(..) => return None,
        };
        if !self.continues(time, date.is_some()) {
            return None;
        }
        // Prices: exact decimals above zero (anything else: the full path).
        // Kept in locals: no array written piecewise and read whole.
        let p = &self.layout.prices;
        let (m0, e0, n0) = decimal_parts(rec, p[0])?;
        let (m1, e1, n1) = decimal_parts(rec, p[1])?;
        let (m2, e2, n2) = decimal_parts(rec, p[2])?;
        let (m3, e3, n3) = decimal_parts(rec, p[3])?;
        if n0 | n1 | n2 | n3 || m0 == 0 || m1 == 0 || m2 == 0 || m3 == 0 {
            return None;
        }
        let [o, h, l, c] = prices([m0, m1, m2, m3], [e0, e1, e2, e3]);
        let mut v = f64::NAN;
        if let Some(i) = self.layout.volume
            && let Some((raw, word)) = rec.get_word(i)
            && !raw.is_empty()
        {
            // Zero or above, and finite.
            let (x, class) = parse_decimal_class(raw, word)?;
            if class < 0 {
                return None;
            }
            v = x;
        }
        Some(Row {
            line: rec.lineno(),
            time,
            date,
            ohlcv: [o, h, l, c, v],
        })
    }

    /// The hottest path: the next line read straight from the input's
    /// buffer when it is `time,open,high,low,close[,volume]` with an ISO
    /// stamp [`stamp::fast_iso`] reads and prices of up to 8 digits and
    /// `.` (volume too, or empty), and the row is one [`Self::fast_row`]
    /// accepts; it gives the same row. Every byte of the line is checked to
    /// be one of these, so the line is a simple one with these fields.
    /// `None` (nothing consumed): read the line the usual way.
    #[inline(always)]
    fn read_fused(&mut self) -> Option<Row> {
        if !self.plain {
            return None;
        }
        if self.fused_skip > 0 {
            self.fused_skip -= 1;
            return None;
        }
        let (b, valid) = self.src.peek()?;
        let Some((time, date, ohlcv, nl, crlf)) = self.fused_row(b, valid) else {
            // Lines it does not read, many in a row (long prices, say):
            // leave the next ones to the usual path without trying.
            self.fused_misses += 1;
            if self.fused_misses >= 8 {
                self.fused_misses = 0;
                self.fused_skip = 256;
            }
            return None;
        };
        self.fused_misses = 0;
        let line = self.src.consume_line(nl, crlf);
        Some(Row {
            line,
            time,
            date,
            ohlcv,
        })
    }

    /// See [`Self::read_fused`]: the row's time, date and values, where its
    /// `\n` is, and whether a `\r` is before it.
    #[inline(always)]
    #[allow(clippy::type_complexity)]
    fn fused_row(
        &self,
        b: &[u8],
        valid: usize,
    ) -> Option<(Timestamp, Option<Ymd>, [f64; 5], usize, bool)> {
        let delim = self.delimiter;
        // The stamp: `YYYY-MM-DD`, or with a time, with or without `Z`.
        let n = if b.get(10) == Some(&delim) {
            10
        } else if b.get(20) == Some(&delim) {
            20
        } else if b.get(19) == Some(&delim) {
            19
        } else {
            return None;
        };
        let (secs, date) = self.fast_stamp(&b[..n])?;
        if date.is_some() && !self.utc {
            return None;
        }
        let time = Timestamp::from_second(secs).ok()?;
        if !self.continues(time, date.is_some()) {
            return None;
        }
        let (m0, e0, end) = number(b, n + 1)?;
        if b.get(end) != Some(&delim) {
            return None;
        }
        let (m1, e1, end) = number(b, end + 1)?;
        if b.get(end) != Some(&delim) {
            return None;
        }
        let (m2, e2, end) = number(b, end + 1)?;
        if b.get(end) != Some(&delim) {
            return None;
        }
        let (m3, e3, mut end) = number(b, end + 1)?;
        if m0 == 0 || m1 == 0 || m2 == 0 || m3 == 0 {
            return None;
        }
        let [o, h, l, c] = prices([m0, m1, m2, m3], [e0, e1, e2, e3]);
        let mut v = f64::NAN;
        if self.layout.volume.is_some() {
            if b.get(end) != Some(&delim) {
                return None;
            }
            let at = end + 1;
            let word = word_at(b, at)?;
            let len = digits_run(word);
            end = at + len;
            if len == 8 {
                // Volumes often have more digits.
                let (m, e, run_end) = long_number(b, at, word)?;
                end = run_end;
                v = scale(m, e);
            } else if len > 0 {
                let (m, e) = swar_decimal(word, len)?;
                v = scale(m, e);
            }
        }
        // The line's end, within the input.
        let (nl, crlf) = match b.get(end) {
            Some(b'\n') => (end, false),
            Some(b'\r') if b.get(end + 1) == Some(&b'\n') => (end + 1, true),
            _ => return None,
        };
        if nl >= valid {
            return None;
        }
        Some((time, date, [o, h, l, c, v], nl, crlf))
    }

    fn parse_row(&self, rec: &ByteRecord) -> Result<Row, DataError> {
        let line = rec.position().map_or(0, |p| p.line());
        let stamp = match self.layout.time {
            TimeCols::One(i) => stamp::parse_stamp(self.field(rec, i, line)?),
            TimeCols::Split(d, t) => {
                stamp::parse_date_time(self.field(rec, d, line)?, self.field(rec, t, line)?)
            }
        };
        let resolved = stamp
            .and_then(|s| stamp::resolve(s, &self.opts.zone, self.utc))
            .map_err(|reason| DataError::BadTime {
                file: self.file.clone(),
                line,
                column: self.layout.time_name.clone(),
                text: self.time_text(rec),
                reason: reason.to_string(),
            })?;
        let (time, date) = match resolved {
            Resolved::Instant(t) => (t, None),
            Resolved::Date(d) => {
                let t = stamp::start_of_date(d, &self.opts.zone, self.utc).map_err(|reason| {
                    DataError::BadTime {
                        file: self.file.clone(),
                        line,
                        column: self.layout.time_name.clone(),
                        text: self.time_text(rec),
                        reason: reason.to_string(),
                    }
                })?;
                (t, Some(d))
            }
        };
        if let Some((daily, first_line)) = self.kind
            && daily != date.is_some()
        {
            let what = |d: bool| if d { "a date only" } else { "a date and time" };
            return Err(DataError::MixedTimes {
                file: self.file.clone(),
                line,
                column: self.layout.time_name.clone(),
                text: self.time_text(rec),
                found: what(date.is_some()),
                expected: what(daily),
                first_line,
            });
        }
        let mut ohlcv = [0.0; 5];
        for (k, &i) in self.layout.prices.iter().enumerate() {
            let v = self
                .number(rec, i, line)?
                .ok_or_else(|| DataError::EmptyValue {
                    file: self.file.clone(),
                    line,
                    column: self.layout.names[i].clone(),
                })?;
            if v <= 0.0 {
                return Err(DataError::NotPositive {
                    file: self.file.clone(),
                    line,
                    column: self.layout.names[i].clone(),
                    text: String::from_utf8_lossy(stamp::trim(&rec[i])).into_owned(),
                });
            }
            ohlcv[k] = v;
        }
        ohlcv[4] = match self.layout.volume {
            Some(i) if i < rec.len() => match self.number(rec, i, line)? {
                Some(v) if v < 0.0 => {
                    return Err(DataError::NegativeVolume {
                        file: self.file.clone(),
                        line,
                        column: self.layout.names[i].clone(),
                        text: String::from_utf8_lossy(stamp::trim(&rec[i])).into_owned(),
                    });
                }
                Some(v) => v,
                None => f64::NAN,
            },
            _ => f64::NAN,
        };
        if let Some((prev, prev_line)) = self.prev {
            if time == prev {
                return Err(DataError::Duplicate {
                    file: self.file.clone(),
                    line,
                    text: self.time_text(rec),
                    first_line: prev_line,
                });
            }
            if time < prev {
                let previous = if date.is_some() {
                    self.opts.zone.to_datetime(prev).date().to_string()
                } else {
                    prev.to_string()
                };
                return Err(DataError::OutOfOrder {
                    file: self.file.clone(),
                    line,
                    text: self.time_text(rec),
                    previous_line: prev_line,
                    previous,
                });
            }
        }
        Ok(Row {
            line,
            time,
            date,
            ohlcv,
        })
    }

    /// Read the next accepted row (skipping bad rows when asked).
    fn read_row(&mut self) -> Option<Result<Row, DataError>> {
        loop {
            let result = if let Some(rec) = self.first_data.take() {
                match self.fast_row(&rec) {
                    Some(row) => Ok(row),
                    None => self.parse_row(&rec),
                }
            } else {
                match self.read_next() {
                    Got::Fast(row) => Ok(row),
                    Got::Slow => self.parse_row(&self.rec),
                    Got::Blank => continue,
                    Got::Eof => return None,
                    Got::Io(e) => return Some(Err(self.io_error(e))),
                }
            };
            if let Some(r) = self.accept(result) {
                return Some(r);
            }
        }
    }

    /// Read the next record and make it a row: the fast way when it is
    /// ordinary, [`Self::parse_row`] otherwise.
    #[inline(always)]
    fn read_next(&mut self) -> Got {
        match self.read_fast() {
            Ok(row) => Got::Fast(row),
            Err(got) => got,
        }
    }

    /// [`Self::read_next`] with an ordinary row apart, so that callers take
    /// it straight from registers (a `Got` is built in memory).
    #[inline(always)]
    fn read_fast(&mut self) -> Result<Row, Got> {
        match self.src.next(&mut self.rec) {
            Err(e) => Err(Got::Io(e)),
            Ok(Next::Eof) => Err(Got::Eof),
            Ok(Next::Line(lineno)) => {
                let f = self.src.fields(lineno);
                if let Some(row) = self.fast_row(&f) {
                    return Ok(row);
                }
                f.to_record(&mut self.rec);
                Err(self.slow_row())
            }
            Ok(Next::Record) => match self.fast_row(&self.rec) {
                Some(row) => Ok(row),
                None => Err(self.slow_row()),
            },
        }
    }

    /// Whether the current record is blank (or for the full path).
    #[cold]
    fn slow_row(&self) -> Got {
        if self.is_blank() {
            Got::Blank
        } else {
            Got::Slow
        }
    }

    /// A read error as a data error.
    #[cold]
    fn io_error(&self, source: std::io::Error) -> DataError {
        DataError::Io {
            file: self.file.clone(),
            source,
        }
    }

    /// Whether the current record is a blank line (one empty field).
    fn is_blank(&self) -> bool {
        self.rec.len() == 1 && stamp::trim(&self.rec[0]).is_empty()
    }

    /// Note an accepted row, or skip and count a bad one (`None`) when asked.
    #[inline]
    fn accept(&mut self, result: Result<Row, DataError>) -> Option<Result<Row, DataError>> {
        match result {
            Ok(row) => {
                self.prev = Some((row.time, row.line));
                if self.kind.is_none() {
                    self.kind = Some((row.date.is_some(), row.line));
                    self.report.daily = row.date.is_some();
                }
                Some(Ok(row))
            }
            Err(e) if self.opts.on_bad_row == OnBadRow::Skip && e.is_row_error() => {
                let line = e.line().unwrap_or(0);
                if matches!(e, DataError::Duplicate { .. }) {
                    self.report.duplicates.add(line);
                }
                self.report.skipped += 1;
                if self.report.first_skipped.len() < SAMPLE_LINES {
                    self.report.first_skipped.push(SkippedRow {
                        line,
                        error: e.to_string(),
                    });
                }
                None
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// Decide the interval from the buffered rows.
    fn resolve_interval(&mut self) -> Result<(), DataError> {
        self.resolved = true;
        let daily = matches!(self.kind, Some((true, _)));
        if let Some(iv) = self.opts.interval {
            self.interval = Some(iv);
        } else {
            let mut spacings: Vec<i64> = self
                .pending
                .iter()
                .zip(self.pending.iter().skip(1))
                .map(|(a, b)| match (a.date, b.date) {
                    (Some(x), Some(y)) => (y.day_number() - x.day_number()) * 86_400,
                    _ => b.time.as_second() - a.time.as_second(),
                })
                .filter(|&s| s > 0)
                .collect();
            spacings.sort_unstable();
            let mut best: Option<(i64, usize)> = None;
            let mut i = 0;
            while i < spacings.len() {
                let j = spacings[i..]
                    .iter()
                    .take_while(|&&s| s == spacings[i])
                    .count();
                if best.is_none_or(|(_, n)| j > n) {
                    best = Some((spacings[i], j));
                }
                i += j;
            }
            self.interval = match best {
                Some((s, _)) => Some(SignedDuration::from_secs(s)),
                None if daily => Some(SignedDuration::from_hours(24)),
                None if self.pending.is_empty() => None,
                None => {
                    return Err(DataError::NoInterval {
                        file: self.file.clone(),
                    });
                }
            };
        }
        self.report.interval = self.interval;
        Ok(())
    }

    /// [`Self::emit`] of a row read on a fast path (which does not go
    /// through `accept`): it becomes the previous row first.
    #[inline(always)]
    fn emit_next(&mut self, row: Row) -> Result<ClosedBar, DataError> {
        self.prev = Some((row.time, row.line));
        self.emit(row)
    }

    /// Stops [`Self::for_each_bar`] on `e`: nothing more is read.
    #[cold]
    fn stop(&mut self, e: DataError) -> DataError {
        self.done = true;
        e
    }

    #[inline(always)]
    fn emit(&mut self, row: Row) -> Result<ClosedBar, DataError> {
        let line = row.line;
        let out_of_range = |reason: &str| DataError::BadTime {
            file: self.file.clone(),
            line,
            column: self.layout.time_name.clone(),
            text: row.time.to_string(),
            reason: reason.to_string(),
        };
        let iv = self.interval.unwrap_or(SignedDuration::ZERO);
        let (open, close, day) = match row.date {
            Some(d) => {
                let close =
                    daily_close_of(d, self.opts.daily_close.as_ref(), &self.opts.zone, self.utc)
                        .map_err(out_of_range)?;
                (row.time, close, d.day_number())
            }
            None => match self.opts.stamp {
                // Whole seconds (the usual case): integer arithmetic.
                StampAt::Open if row.time.subsec_nanosecond() == 0 && iv.subsec_nanos() == 0 => (
                    row.time,
                    Timestamp::from_second(row.time.as_second() + iv.as_secs())
                        .map_err(|_| out_of_range("close out of range"))?,
                    0,
                ),
                StampAt::Open => (
                    row.time,
                    row.time
                        .checked_add(iv)
                        .map_err(|_| out_of_range("close out of range"))?,
                    0,
                ),
                StampAt::Close => (
                    row.time
                        .checked_sub(iv)
                        .map_err(|_| out_of_range("open out of range"))?,
                    row.time,
                    0,
                ),
            },
        };
        let [o, h, l, c, v] = row.ohlcv;
        let r = &mut self.report;
        if h < o.max(c) {
            r.add_anomaly(Anomaly::AboveHigh, line);
        }
        if l > o.min(c) {
            r.add_anomaly(Anomaly::BelowLow, line);
        }
        if h < l {
            r.add_anomaly(Anomaly::HighBelowLow, line);
        }
        if v == 0.0 {
            r.add_anomaly(Anomaly::ZeroVolume, line);
        } else if v.is_nan() {
            r.no_volume += 1;
        }
        if o == h && h == l && l == c {
            r.add_anomaly(Anomaly::FlatBar, line);
        }
        if let Some((prev_open, prev_close, prev_day)) = self.last {
            let gap = if row.date.is_some() {
                let k = (iv.as_secs() / 86_400).max(1);
                let s = day - prev_day;
                if s > k {
                    let weekend = k == 1 && (prev_day + 1..day).all(stamp::is_weekend);
                    Some((SignedDuration::from_hours(24 * (s - k)), weekend))
                } else {
                    None
                }
            } else {
                if open < prev_close {
                    r.add_anomaly(Anomaly::Overlap, line);
                }
                if open > prev_close {
                    let missing = open.duration_since(prev_close);
                    let from = prev_close.as_second().div_euclid(86_400);
                    let to = (open.as_second() - 1).div_euclid(86_400);
                    let weekend = missing <= SignedDuration::from_hours(72)
                        && (from..=to).any(stamp::is_weekend);
                    Some((missing, weekend))
                } else {
                    None
                }
            };
            match gap {
                Some((_, true)) => r.weekend_breaks += 1,
                Some((missing, false)) => {
                    r.gaps += 1;
                    if r.largest_gap.is_none_or(|g| missing > g) {
                        r.largest_gap = Some(missing);
                    }
                    if r.first_gaps.len() < SAMPLE_LINES {
                        r.first_gaps.push(GapSample {
                            line,
                            after: prev_open,
                            before: open,
                            missing,
                        });
                    }
                }
                None => {}
            }
        }
        r.rows += 1;
        if r.first.is_none() {
            r.first = Some(open);
        }
        r.last = Some(open);
        self.last = Some((open, close, day));
        Ok(ClosedBar {
            bar: Bar {
                time: open,
                open: o,
                high: h,
                low: l,
                close: c,
                volume: v,
            },
            close,
        })
    }

    /// Read to the end, calling `f` with each bar in order: what the
    /// iterator yields, without a `Result` per bar (the fast way to consume
    /// a whole file).
    ///
    /// # Errors
    /// The first structural [`DataError`] (unless `on_bad_row: skip`); the
    /// bars before it have been passed to `f`.
    pub fn for_each_bar(&mut self, mut f: impl FnMut(ClosedBar)) -> Result<(), DataError> {
        loop {
            while self.resolved && self.pending.is_empty() && !self.eof && !self.done {
                if self.kind.is_some()
                    && let Some(row) = self.read_fused()
                {
                    f(self.emit_next(row).map_err(|e| self.stop(e))?);
                    continue;
                }
                let got = match self.read_fast() {
                    Ok(row) if self.kind.is_some() => {
                        // The hot path.
                        f(self.emit_next(row).map_err(|e| self.stop(e))?);
                        continue;
                    }
                    Ok(row) => Got::Fast(row),
                    Err(got) => got,
                };
                let row = match got {
                    Got::Eof => {
                        self.eof = true;
                        break;
                    }
                    Got::Io(e) => {
                        let e = self.io_error(e);
                        return Err(self.stop(e));
                    }
                    Got::Fast(row) => {
                        if self.kind.is_none() {
                            // The first row: `accept` notes its kind.
                            let _ = self.accept(Ok(row));
                        }
                        row
                    }
                    Got::Blank => continue,
                    Got::Slow => match self.accept(self.parse_row(&self.rec)) {
                        Some(Ok(row)) => row,
                        Some(Err(e)) => return Err(self.stop(e)),
                        None => continue,
                    },
                };
                f(self.emit_next(row).map_err(|e| self.stop(e))?);
            }
            match self.next() {
                Some(Ok(b)) => f(b),
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            }
        }
    }

    fn step(&mut self) -> Option<Result<ClosedBar, DataError>> {
        // The hot path: interval known, nothing buffered, an ordinary row.
        while self.resolved && self.pending.is_empty() && !self.eof {
            if self.kind.is_some()
                && let Some(row) = self.read_fused()
            {
                return Some(self.emit_next(row));
            }
            let got = match self.read_fast() {
                Ok(row) if self.kind.is_some() => return Some(self.emit_next(row)),
                Ok(row) => Got::Fast(row),
                Err(got) => got,
            };
            let result = match got {
                Got::Eof => {
                    self.eof = true;
                    return None;
                }
                Got::Io(e) => return Some(Err(self.io_error(e))),
                Got::Fast(row) => Ok(row),
                Got::Blank => continue,
                Got::Slow => self.parse_row(&self.rec),
            };
            match self.accept(result) {
                Some(Ok(row)) => return Some(self.emit(row)),
                Some(Err(e)) => return Some(Err(e)),
                None => continue,
            }
        }
        loop {
            if self.resolved {
                if let Some(row) = self.pending.pop_front() {
                    return Some(self.emit(row));
                }
                if self.eof {
                    return None;
                }
                return match self.read_row() {
                    None => {
                        self.eof = true;
                        None
                    }
                    Some(Ok(row)) => Some(self.emit(row)),
                    Some(Err(e)) => Some(Err(e)),
                };
            }
            match self.read_row() {
                None => {
                    self.eof = true;
                    if let Err(e) = self.resolve_interval() {
                        return Some(Err(e));
                    }
                }
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok(row)) => {
                    self.pending.push_back(row);
                    if self.pending.len() > INFER_ROWS
                        && let Err(e) = self.resolve_interval()
                    {
                        return Some(Err(e));
                    }
                }
            }
        }
    }
}

impl Iterator for BarReader {
    type Item = Result<ClosedBar, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

/// The bars of one file, held in memory, with the file's report.
#[derive(Clone, Debug)]
pub struct LoadedBars {
    /// The bars in file order (56 bytes each).
    pub bars: Vec<Bar>,
    /// When each bar becomes known.
    pub close: CloseRule,
    /// The quality report.
    pub report: DataReport,
}

impl LoadedBars {
    /// The bars with their close instants, in order.
    pub fn closed(&self) -> impl Iterator<Item = ClosedBar> + '_ {
        self.bars.iter().filter_map(|b| {
            Some(ClosedBar {
                bar: *b,
                close: self.close.close_of(b.time)?,
            })
        })
    }
}

/// Read a whole bar file into memory, validated, with its report.
///
/// # Errors
/// The first structural [`DataError`] (unless `on_bad_row: skip`).
pub fn load_bars(path: impl AsRef<Path>, opts: &SourceOptions) -> Result<LoadedBars, DataError> {
    let mut reader = BarReader::open(path, opts)?;
    let mut bars = Vec::new();
    if let Some(first) = reader.next() {
        // A little more than the estimate: growing would copy and fault
        // more pages; pages reserved but never written cost nothing.
        let estimate = reader.estimated_rows().unwrap_or(1024);
        bars.reserve(estimate + estimate / 32);
        bars.push(first?.bar);
    }
    reader.for_each_bar(|b| bars.push(b.bar))?;
    bars.shrink_to_fit();
    Ok(LoadedBars {
        bars,
        close: reader.close_rule(),
        report: reader.into_report(),
    })
}

/// Read a bar file through to the end without holding its bars, and report
/// on its quality.
///
/// # Errors
/// The first structural [`DataError`] (unless `on_bad_row: skip`).
pub fn check_file(path: impl AsRef<Path>, opts: &SourceOptions) -> Result<DataReport, DataError> {
    let mut reader = BarReader::open(path, opts)?;
    reader.for_each_bar(|_| {})?;
    Ok(reader.into_report())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    /// Everything a reader tells about a file: the iterator's items, then
    /// `for_each_bar`'s bars, result and report, and `load_bars`' result.
    fn outcome(path: &Path, opts: &SourceOptions, fast: bool) -> String {
        let mut out = String::new();
        match BarReader::open_with(path, opts, fast, None) {
            Err(e) => writeln!(out, "open: {e}").unwrap(),
            Ok(mut r) => {
                for item in r.by_ref() {
                    writeln!(out, "{item:?}").unwrap();
                }
                writeln!(out, "{:?}\n{}", r.report(), r.report()).unwrap();
            }
        }
        match BarReader::open_with(path, opts, fast, None) {
            Err(e) => writeln!(out, "open: {e}").unwrap(),
            Ok(mut r) => {
                let mut bars = Vec::new();
                let res = r.for_each_bar(|b| bars.push(b));
                writeln!(out, "{bars:?}\n{res:?}\n{:?}", r.report()).unwrap();
            }
        }
        out
    }

    /// The records of a file with their line numbers, as `Input` reads them.
    fn records_by_input(path: &Path, fast: bool) -> Vec<(u64, Vec<Vec<u8>>)> {
        let (_, buf, delimiter, _) = open_input(path, None).unwrap();
        let mut src = Input::new(buf, delimiter);
        src.set_fast(fast);
        let mut rec = ByteRecord::new();
        let mut out = Vec::new();
        loop {
            match src.next(&mut rec).unwrap() {
                Next::Eof => return out,
                Next::Line(line) => src.fields(line).to_record(&mut rec),
                Next::Record => {}
            }
            out.push((rec.lineno(), rec.iter().map(<[u8]>::to_vec).collect()));
        }
    }

    /// The same, as one `csv` reader reads them.
    fn records_by_csv(path: &Path) -> Vec<(u64, Vec<Vec<u8>>)> {
        let (_, mut rdr, _) = open_csv(path, None).unwrap();
        let mut rec = ByteRecord::new();
        let mut out = Vec::new();
        while rdr.read_byte_record(&mut rec).unwrap() {
            out.push((rec.lineno(), rec.iter().map(<[u8]>::to_vec).collect()));
        }
        out
    }

    #[test]
    fn hand_split_lines_read_exactly_as_csv_reads_them() {
        let h = "timestamp,open,high,low,close,volume";
        let r = |t: &str, v: &str| format!("2024-01-0{t}Z,1.5,2.25,1.25,2,{v}");
        let (r1, r2, r3, r4) = (
            r("1T00:00:00", "10"),
            r("1T00:01:00", "11"),
            r("1T00:02:00", "12"),
            r("1T00:03:00", "13"),
        );
        let lf = [h, &r1, &r2, &r3, &r4].join("\n");
        let mut cases: Vec<String> = vec![
            lf.clone(),
            format!("{lf}\n"),
            lf.replace('\n', "\r\n"),
            format!("{}\r\n", lf.replace('\n', "\r\n")),
            format!("{}\r", lf.replace('\n', "\r\n")),
            format!("\u{feff}{lf}"),
            format!("\u{feff}{}", lf.replace('\n', "\r\n")),
            lf.replace(',', ";"),
            lf.replace(',', "\t"),
            lf.replace('\n', "\n\n\n"),
            lf.replace('\n', "\r\n\r\n"),
            lf.replace('\n', "\n  \n# a comment, with \"quote\n"),
            lf.replace('\n', "\r\n \r\n#c\r\n\r\n"),
            lf.replace('\n', "\r"),
            lf.replace(&r2, &format!("{r2}\r{r3}"))
                .replace(&format!("\n{r3}"), ""),
            lf.replace(&r2, &r2.replace("1.5", "\"1.5\"")),
            lf.replace(&r2, &r2.replace("1.5", "\"1.\n5\"")),
            lf.replace(&r2, &format!("{r2},\"note\"\"s,\r\nmore\"")),
            lf.replace(",", "\",\""),
            lf.replace(&r3, &format!("{r3},x,y,z")),
            lf.replace(&r3, &format!("{r3}{}", ",x".repeat(40))),
            lf.replace(&r3, "2024-01-01T00:02:00Z,1,2"),
            lf.replace(&r3, "2024-01-01T00:02:00Z,1,2,abc,2,1"),
            lf.replace(&r3, &r1),
            lf.replace(&r3, &r1.replace("1.5", "\"1.5\"")),
            lf.replace(&r3, "2023-12-31T00:00:00Z,1,2,1,2,1"),
            lf.replace(&r3, "2024-01-01T00:02:00Z,1,2,1,2,-1")
                .replace('\n', "\r\n\n"),
            lf.replace(&r3, "2024-01-01,1,2,1,2,1"),
            lf.replace(&r3, "\u{feff}2024-01-01T00:02:00Z,1,2,1,2,1"),
            lf.replace(&r3, "2024-01-01T00:02:00Z,1,2,1,2,\r1"),
            lf.replace("timestamp", "\"timestamp\""),
            lf.replace("timestamp", "\"time\nstamp\""),
            [&r1, &r2, &r3].map(|s| s.as_str()).join("\n"),
            [&r1, "", &r2, &r3].join("\r\n"),
            format!("{h}\n"),
            String::new(),
            "#only a comment\n".into(),
            format!("{h}\n\"{r1}"),
        ];
        // Long files cross the chunk buffer's refills, with quotes spread in.
        let mut long = String::from(h);
        for i in 0..9000 {
            let (d, m) = (i / 1440 + 1, i % 1440);
            let row = format!(
                "2024-02-{d:02}T{:02}:{:02}:00Z,1{i}.5,1{i}.75,1{i}.25,1{i}.5,{i}",
                m / 60,
                m % 60
            );
            long.push_str(if i % 7 == 0 { "\r\n" } else { "\n" });
            if i % 997 == 0 {
                long.push_str(&row.replacen(',', ",\"", 1).replacen(',', "\",", 2));
            } else if i % 1999 == 0 {
                long.push_str("\n# comment\n");
                long.push_str(&row);
            } else {
                long.push_str(&row);
            }
        }
        // Long files whose rows are read by `read_fused` (after the first
        // 64): flat bars (anomalies, with their lines) after LF and CRLF
        // lines, blank, comment and quoted lines, rows it leaves to the
        // usual path (a long price, a missing volume), and a duplicate of
        // the last stamp (an error naming two lines).
        let fused = |header: &str,
                     n: usize,
                     stamp: &dyn Fn(usize) -> String,
                     vol: &dyn Fn(usize) -> String| {
            let q = n / 4 / 7 * 7;
            let flat = [q, q + 1, 2 * q, 2 * q + 1, n - 2];
            let mut out = String::from(header);
            for i in 0..n {
                let p = if flat.contains(&i) {
                    format!("1{i}.5,1{i}.5,1{i}.5,1{i}.5")
                } else if i % 1013 == 5 {
                    format!("1{i}.500001,1{i}.75,1{i}.25,1{i}.5")
                } else {
                    format!("1{i}.5,1{i}.75,1{i}.25,1{i}.5")
                };
                out.push_str(if i % 7 == 0 {
                    "\r\n"
                } else if i % 503 == 0 {
                    "\n\n# note, \"quoted\"\n"
                } else {
                    "\n"
                });
                let row = format!("{},{p}{}", stamp(i), vol(i));
                if i % 911 == 0 {
                    out.push_str(&row.replacen(',', ",\"", 1).replacen(',', "\",", 2));
                } else {
                    out.push_str(&row);
                }
            }
            out.push_str(&format!("\n{},1.5,1.5,1.5,1.5{}", stamp(n - 1), vol(n - 1)));
            out
        };
        let minute = |i: usize| {
            let (d, m) = (i / 1440 + 1, i % 1440);
            format!("2024-02-{d:02}T{:02}:{:02}:00Z", m / 60, m % 60)
        };
        let naive = |i: usize| minute(i).replace('T', " ").replace('Z', "");
        let day = |i: usize| {
            let d = Ymd::from_day_number(11_000 + i as i64);
            format!("{:04}-{:02}-{:02}", d.y, d.m, d.d)
        };
        let vol = |i: usize| match i % 13 {
            0 => String::new(),
            1 => ",".into(),
            _ => format!(",{i}"),
        };
        let no_vol = |_: usize| String::new();
        let h5 = "timestamp,open,high,low,close";
        cases.push(fused(h, 9000, &minute, &vol));
        cases.push(fused(h, 9000, &naive, &vol));
        cases.push(fused(h, 3000, &day, &vol));
        cases.push(fused(h5, 9000, &minute, &no_vol));
        cases.push(fused(h5, 3000, &day, &no_vol));
        // Long volumes (read in two words, or by the usual path), and long
        // prices (the usual path, which the fused path then stops trying).
        let big_vol = |i: usize| match i % 6 {
            0 => ",12345678".to_string(),
            1 => ",123456789012".into(),
            2 => ",12345678901234567".into(),
            3 => ",1234567.5".into(),
            4 => ",12345678.25".into(),
            _ => format!(",{}", 4_415_160_000 + i),
        };
        cases.push(fused(h, 9000, &minute, &big_vol));
        cases.push(fused(h, 9000, &minute, &vol).replace(".5,", ".515625,"));
        // Lines longer than the chunk buffer, plain and quoted.
        let big = "x".repeat(300_000);
        cases.push(lf.replace(&r2, &format!("{r2},{big}")));
        cases.push(lf.replace(&r2, &format!("{r2},\"{big}\n{big}\"")));
        cases.push(long.clone());
        cases.push(long.replace(",1", ",\"1\""));
        let dir = std::env::temp_dir().join(format!("playbook-fastcsv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("case.csv");
        let skip = SourceOptions {
            on_bad_row: OnBadRow::Skip,
            ..SourceOptions::default()
        };
        for (k, case) in cases.iter().enumerate() {
            std::fs::write(&path, case).unwrap();
            let by_csv = records_by_csv(&path);
            assert_eq!(records_by_input(&path, true), by_csv, "case {k}: {case:?}");
            assert_eq!(records_by_input(&path, false), by_csv, "case {k}: {case:?}");
            for opts in [&SourceOptions::default(), &skip] {
                let fast = outcome(&path, opts, true);
                let csv = outcome(&path, opts, false);
                assert_eq!(fast, csv, "case {k}: {case:?}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
