//! Structural data errors: each names the file, the line, the column and the
//! raw text, so the user can open the file and fix the row.

/// A structural problem in a data file (or a bad source option). Rows are
/// never dropped silently: with `on_bad_row: skip` a row-level error is
/// counted in the report instead of returned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file cannot be opened or read (also a corrupt `.gz` stream).
    #[error("{file}: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The file is empty: no header and no rows.
    #[error("{file}: the file is empty")]
    Empty { file: String },
    /// A required column is missing from the header (`timestamp,open,high,low`
    /// has no close).
    #[error("{file}:{line}: no {role} column (looked for {aliases}) in header \"{header}\"")]
    MissingColumn {
        file: String,
        line: u64,
        role: &'static str,
        aliases: &'static str,
        header: String,
    },
    /// A row has too few fields for a required column.
    #[error("{file}:{line}: row has {found} fields, but {column} is field {needed}")]
    ShortRow {
        file: String,
        line: u64,
        column: String,
        found: usize,
        needed: usize,
    },
    /// A required value is empty (`2024-08-05,1,2,,1.5`).
    #[error("{file}:{line}: {column} is empty")]
    EmptyValue {
        file: String,
        line: u64,
        column: String,
    },
    /// A value is not a number (`12.3.4`).
    #[error("{file}:{line}: {column} \"{text}\" is not a number")]
    NotANumber {
        file: String,
        line: u64,
        column: String,
        text: String,
    },
    /// A value is NaN or infinite (`nan`, `inf`, `1e999`).
    #[error("{file}:{line}: {column} \"{text}\" is not a finite number")]
    NotFinite {
        file: String,
        line: u64,
        column: String,
        text: String,
    },
    /// A price is zero or negative.
    #[error("{file}:{line}: {column} \"{text}\" is not a positive price")]
    NotPositive {
        file: String,
        line: u64,
        column: String,
        text: String,
    },
    /// A volume is negative.
    #[error("{file}:{line}: {column} \"{text}\" is negative")]
    NegativeVolume {
        file: String,
        line: u64,
        column: String,
        text: String,
    },
    /// A time cannot be read (`2024-13-01`, `yesterday`).
    #[error("{file}:{line}: {column} \"{text}\" is not a time ({reason})")]
    BadTime {
        file: String,
        line: u64,
        column: String,
        text: String,
        reason: String,
    },
    /// A row has a date only where earlier rows have a time of day, or the
    /// reverse.
    #[error("{file}:{line}: {column} \"{text}\" is {found}, but line {first_line} is {expected}")]
    MixedTimes {
        file: String,
        line: u64,
        column: String,
        text: String,
        found: &'static str,
        expected: &'static str,
        first_line: u64,
    },
    /// Two rows have the same time.
    #[error("{file}:{line}: time \"{text}\" repeats the time of line {first_line}")]
    Duplicate {
        file: String,
        line: u64,
        text: String,
        first_line: u64,
    },
    /// A row's time is earlier than the previous row's.
    #[error("{file}:{line}: time \"{text}\" is earlier than line {previous_line} (\"{previous}\")")]
    OutOfOrder {
        file: String,
        line: u64,
        text: String,
        previous_line: u64,
        previous: String,
    },
    /// An intraday file has one row and no declared interval, so its bars'
    /// close instants are unknown.
    #[error("{file}: cannot infer the bar interval from a single row; declare the interval")]
    NoInterval { file: String },
    /// The file is not valid CSV.
    #[error("{file}:{line}: malformed CSV: {message}")]
    Csv {
        file: String,
        line: u64,
        message: String,
    },
    /// A source option is invalid (`daily_close: "25:00"`).
    #[error("invalid {option} \"{text}\": {reason}")]
    BadOption {
        option: &'static str,
        text: String,
        reason: String,
    },
}

impl DataError {
    /// The line the error is on, when it is about one row.
    pub fn line(&self) -> Option<u64> {
        match self {
            DataError::MissingColumn { line, .. }
            | DataError::ShortRow { line, .. }
            | DataError::EmptyValue { line, .. }
            | DataError::NotANumber { line, .. }
            | DataError::NotFinite { line, .. }
            | DataError::NotPositive { line, .. }
            | DataError::NegativeVolume { line, .. }
            | DataError::BadTime { line, .. }
            | DataError::MixedTimes { line, .. }
            | DataError::Duplicate { line, .. }
            | DataError::OutOfOrder { line, .. }
            | DataError::Csv { line, .. } => Some(*line),
            _ => None,
        }
    }

    /// Whether the error is about one row (so `on_bad_row: skip` may skip it).
    pub fn is_row_error(&self) -> bool {
        !matches!(
            self,
            DataError::MissingColumn { .. } | DataError::Csv { .. }
        ) && self.line().is_some()
    }
}
