//! What `check_file` finds: counts, ranges, gaps, anomalies and skipped rows,
//! with a readable per-file block.

use std::fmt;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, civil};

/// How many line numbers each warning class keeps as examples.
pub const SAMPLE_LINES: usize = 5;

/// A semantic anomaly: the row is kept as written, and the report counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Anomaly {
    /// The open or close is above the high (`high < max(open, close)`).
    AboveHigh,
    /// The open or close is below the low (`low > min(open, close)`).
    BelowLow,
    /// The high is below the low.
    HighBelowLow,
    /// The volume is zero.
    ZeroVolume,
    /// Open, high, low and close are all equal.
    FlatBar,
    /// The bar opens before the previous bar's close (spacing shorter than
    /// the interval).
    Overlap,
}

impl Anomaly {
    /// Every class, in report order.
    pub const ALL: [Anomaly; 6] = [
        Anomaly::AboveHigh,
        Anomaly::BelowLow,
        Anomaly::HighBelowLow,
        Anomaly::ZeroVolume,
        Anomaly::FlatBar,
        Anomaly::Overlap,
    ];

    /// A short description for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Anomaly::AboveHigh => "open/close above high",
            Anomaly::BelowLow => "open/close below low",
            Anomaly::HighBelowLow => "high below low",
            Anomaly::ZeroVolume => "zero volume",
            Anomaly::FlatBar => "flat bar (open = high = low = close)",
            Anomaly::Overlap => "bar opens before the previous bar's close",
        }
    }
}

/// A count of rows with the first few line numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Occurrences {
    /// How many rows.
    pub count: u64,
    /// The first [`SAMPLE_LINES`] of their line numbers.
    pub first_lines: Vec<u64>,
}

impl Occurrences {
    pub(crate) fn add(&mut self, line: u64) {
        self.count += 1;
        if self.first_lines.len() < SAMPLE_LINES {
            self.first_lines.push(line);
        }
    }
}

/// One gap: bars missing between two consecutive rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GapSample {
    /// The line of the bar after the gap.
    pub line: u64,
    /// The open of the bar before the gap.
    pub after: Timestamp,
    /// The open of the bar after the gap.
    pub before: Timestamp,
    /// The time not covered by any bar.
    pub missing: SignedDuration,
}

/// A row skipped under `on_bad_row: skip`, with the error it had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedRow {
    /// Its line.
    pub line: u64,
    /// The error message.
    pub error: String,
}

/// The quality report of one bar file.
#[derive(Clone, Debug)]
pub struct DataReport {
    /// The file as named by the caller.
    pub file: String,
    /// Bars read (skipped rows excluded).
    pub rows: u64,
    /// Whether the rows are dates (daily bars) rather than instants.
    pub daily: bool,
    /// The source's zone (naive stamps, trading dates).
    pub zone: TimeZone,
    /// The open of the first bar.
    pub first: Option<Timestamp>,
    /// The open of the last bar.
    pub last: Option<Timestamp>,
    /// The bar interval (declared, or inferred from the first rows).
    pub interval: Option<SignedDuration>,
    /// Whether the interval was declared rather than inferred.
    pub interval_declared: bool,
    /// Spacings longer than the interval that a weekend does not explain.
    pub gaps: u64,
    /// The largest missing time over all gaps.
    pub largest_gap: Option<SignedDuration>,
    /// The first few gaps.
    pub first_gaps: Vec<GapSample>,
    /// Spacings longer than the interval explained by a weekend (intraday:
    /// at most 3 days missing, touching a Saturday or Sunday in UTC; daily:
    /// only Saturdays and Sundays missing).
    pub weekend_breaks: u64,
    /// Rows skipped because their time repeats an earlier row.
    pub duplicates: Occurrences,
    /// Rows with no volume (empty volume field or no volume column).
    pub no_volume: u64,
    /// Rows skipped under `on_bad_row: skip` (duplicates included).
    pub skipped: u64,
    /// The first few skipped rows.
    pub first_skipped: Vec<SkippedRow>,
    pub(crate) anomalies: [Occurrences; 6],
}

impl DataReport {
    pub(crate) fn new(file: String, zone: TimeZone) -> Self {
        DataReport {
            file,
            rows: 0,
            daily: false,
            zone,
            first: None,
            last: None,
            interval: None,
            interval_declared: false,
            gaps: 0,
            largest_gap: None,
            first_gaps: Vec::new(),
            weekend_breaks: 0,
            duplicates: Occurrences::default(),
            no_volume: 0,
            skipped: 0,
            first_skipped: Vec::new(),
            anomalies: Default::default(),
        }
    }

    /// The rows of one anomaly class.
    pub fn anomaly(&self, class: Anomaly) -> &Occurrences {
        &self.anomalies[class as usize]
    }

    pub(crate) fn add_anomaly(&mut self, class: Anomaly, line: u64) {
        self.anomalies[class as usize].add(line);
    }

    /// Whether any warning was found (anomaly, gap or skipped row).
    pub fn has_warnings(&self) -> bool {
        self.gaps > 0 || self.skipped > 0 || self.anomalies.iter().any(|a| a.count > 0)
    }

    /// The trading date of a daily bar opening at `t` (its date in the zone).
    pub fn date_of(&self, t: Timestamp) -> civil::Date {
        self.zone.to_datetime(t).date()
    }

    fn fmt_time(&self, t: Timestamp) -> String {
        if self.daily {
            self.date_of(t).to_string()
        } else {
            t.to_string()
        }
    }
}

/// Format a duration compactly: `1d 10h 30m`, `4h`, `1m 30s`.
pub fn format_duration(d: SignedDuration) -> String {
    let secs = d.as_secs().unsigned_abs();
    let mut parts = Vec::new();
    let mut rest = secs;
    for (unit, name) in [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")] {
        if rest >= unit {
            parts.push(format!("{}{name}", rest / unit));
            rest %= unit;
        }
    }
    if parts.is_empty() {
        parts.push(format!("{}ms", d.subsec_millis().unsigned_abs()));
    }
    let sign = if d.is_negative() { "-" } else { "" };
    format!("{sign}{}", parts.join(" "))
}

fn lines(v: &[u64], total: u64) -> String {
    let word = if total == 1 { "line " } else { "lines " };
    let mut s = word.to_string() + &v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    if total > v.len() as u64 {
        s.push_str(", ...");
    }
    s
}

impl fmt::Display for DataReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.file)?;
        let kind = if self.daily { "daily bars" } else { "bars" };
        match (self.first, self.last) {
            (Some(a), Some(b)) => writeln!(
                f,
                "  rows: {} {kind}, {} .. {}",
                self.rows,
                self.fmt_time(a),
                self.fmt_time(b)
            )?,
            _ => writeln!(f, "  rows: 0")?,
        }
        writeln!(
            f,
            "  zone: {}",
            self.zone.iana_name().unwrap_or("fixed offset")
        )?;
        match self.interval {
            Some(iv) => writeln!(
                f,
                "  interval: {} ({})",
                format_duration(iv),
                if self.interval_declared {
                    "declared"
                } else {
                    "inferred"
                }
            )?,
            None => writeln!(f, "  interval: unknown")?,
        }
        write!(f, "  gaps (weekends excluded): {}", self.gaps)?;
        if let Some(largest) = self.largest_gap {
            write!(f, " (largest {} missing)", format_duration(largest))?;
        }
        writeln!(f)?;
        for g in &self.first_gaps {
            writeln!(
                f,
                "    line {}: {} -> {} ({} missing)",
                g.line,
                self.fmt_time(g.after),
                self.fmt_time(g.before),
                format_duration(g.missing)
            )?;
        }
        if self.gaps > self.first_gaps.len() as u64 {
            writeln!(f, "    ...")?;
        }
        writeln!(f, "  weekend breaks: {}", self.weekend_breaks)?;
        writeln!(
            f,
            "  duplicates skipped: {}{}",
            self.duplicates.count,
            if self.duplicates.count > 0 {
                format!(
                    " ({})",
                    lines(&self.duplicates.first_lines, self.duplicates.count)
                )
            } else {
                String::new()
            }
        )?;
        writeln!(f, "  rows without volume: {}", self.no_volume)?;
        if self.anomalies.iter().all(|a| a.count == 0) {
            writeln!(f, "  anomalies: none")?;
        } else {
            writeln!(f, "  anomalies (rows kept as written):")?;
            for class in Anomaly::ALL {
                let a = self.anomaly(class);
                if a.count > 0 {
                    writeln!(
                        f,
                        "    {}: {} ({})",
                        class.describe(),
                        a.count,
                        lines(&a.first_lines, a.count)
                    )?;
                }
            }
        }
        writeln!(f, "  skipped rows: {}", self.skipped)?;
        for s in &self.first_skipped {
            writeln!(f, "    {}", s.error)?;
        }
        if self.skipped > self.first_skipped.len() as u64 {
            writeln!(f, "    ...")?;
        }
        Ok(())
    }
}
