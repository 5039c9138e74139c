//! Errors found while reading and resolving a run config.

use std::fmt;

/// One problem with a run config: where it is and what is wrong.
///
/// Displays as `FILE:LINE:COLUMN: MESSAGE` (or `FILE: MESSAGE` when the
/// problem has no position, e.g. a data directory that lacks a file).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct ConfigError {
    /// The config file (as given by the caller) or the data directory.
    pub origin: String,
    /// 1-based line and column in the config file, when known.
    pub location: Option<(usize, usize)>,
    /// What is wrong.
    pub kind: ConfigErrorKind,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.origin, self.kind),
            None => write!(f, "{}: {}", self.origin, self.kind),
        }
    }
}

/// All the problems found in one run config, in file order.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl ConfigErrors {
    /// The problems, in file order.
    pub fn errors(&self) -> &[ConfigError] {
        &self.0
    }
}

/// Renders `; did you mean `x`?` or nothing.
fn suggest(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

/// Renders a list of names as `` `a`, `b`, `c` ``.
/// How to fix a missing conversion, given the symbols listed under `data`.
pub(crate) fn fx_help(currency: &str, account: &str, data: &[&str]) -> String {
    let pairs = [
        format!("{currency}{account}"),
        format!("{account}{currency}"),
    ];
    match pairs.iter().find(|p| data.contains(&p.as_str())) {
        Some(p) => format!("add `fx: {p}` (it is listed under `data`)"),
        None => format!(
            "add `fx: {}` or `fx: {}` and list that symbol under `data`",
            pairs[0], pairs[1]
        ),
    }
}

pub(crate) fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What is wrong with a run config. Each variant's doc shows an input that
/// triggers it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The config file cannot be read (missing, unreadable, not UTF-8).
    #[error("cannot read the config file: {reason}")]
    Read { reason: String },

    /// The text is not valid YAML: `data: [unclosed`
    #[error("invalid YAML: {message}")]
    Yaml { message: String },

    /// A key that the schema does not have: `multipler: 20` in an instrument.
    #[error("unknown key `{key}` in {section}{}", suggest(.suggestion))]
    UnknownKey {
        key: String,
        section: String,
        suggestion: Option<String>,
    },

    /// A required key is absent: a `data:` mapping without `file`.
    #[error("missing key `{key}` in {section}")]
    MissingKey { key: String, section: String },

    /// A symbol or param name with characters it cannot have: `data: { "XAU USD": ... }`.
    #[error("{path}: `{name}` is not a valid {what}")]
    InvalidName {
        path: String,
        name: String,
        what: String,
    },

    /// A value of the wrong YAML type: `multiplier: [1]`.
    #[error("{path}: expected {expected}, found {found}")]
    WrongType {
        path: String,
        expected: String,
        found: String,
    },

    /// A value outside a fixed set: `fill: next_bar`.
    #[error("{path}: unknown value `{value}`; expected one of {}{}", list(.expected), suggest(.suggestion))]
    UnknownValue {
        path: String,
        value: String,
        expected: Vec<String>,
        suggestion: Option<String>,
    },

    /// A number that must be greater than zero: `multiplier: -5`.
    #[error("{path} must be greater than 0, found {value}")]
    NotPositive { path: String, value: f64 },

    /// A number that must not be negative: `slippage_ticks: -1`.
    #[error("{path} must not be negative, found {value}")]
    Negative { path: String, value: f64 },

    /// A time zone that is not in the IANA database: `zone: Asia/Tokio`.
    #[error("{path}: unknown time zone `{zone}`{}", suggest(.suggestion))]
    UnknownTimeZone {
        path: String,
        zone: String,
        suggestion: Option<String>,
    },

    /// A bar interval that cannot be read: `interval: 90x`.
    #[error("{path}: invalid interval `{value}`: {reason}")]
    InvalidInterval {
        path: String,
        value: String,
        reason: String,
    },

    /// A zoned clock time that cannot be read: `daily_close: "25:00 UTC"`.
    #[error("{path}: invalid clock time `{value}`: {reason}")]
    InvalidClockTime {
        path: String,
        value: String,
        reason: String,
    },

    /// A currency that is not a three-letter code: `currency: dollars`.
    #[error("{path}: invalid currency `{value}`; expected a three-letter code such as `USD`")]
    InvalidCurrency { path: String, value: String },

    /// A commission with no or both styles: `commission: { per_contract: 2, bps: 1 }`.
    #[error(
        "{path}: give exactly one of `per_contract` or `bps`, e.g. `commission: {{ per_contract: 2.5 }}`"
    )]
    CommissionStyle { path: String },

    /// `slippage_ticks` without a `tick_size` to turn ticks into a price.
    #[error("{path}: slippage_ticks is {ticks} but the instrument has no `tick_size`")]
    SlippageWithoutTickSize { path: String, ticks: f64 },

    /// An FX conversion symbol that is not a `data:` entry: `fx: USDJPX`.
    #[error("{path}: fx symbol `{symbol}` is not in `data`{}", suggest(.suggestion))]
    FxNotInData {
        path: String,
        symbol: String,
        suggestion: Option<String>,
    },

    /// An instrument in another currency with no `fx` symbol.
    #[error(
        "instrument `{symbol}` is quoted in {currency} but the account is in {account} and there is no `fx` symbol to convert it (a missing conversion is a config error, never a silent 1.0); {help}"
    )]
    MissingFx {
        symbol: String,
        currency: String,
        account: String,
        help: String,
    },

    /// An `fx` on an instrument already in the account currency.
    #[error(
        "instruments.{symbol}.fx: `{fx}` is given but the instrument is already in the account currency {account}; remove `fx` or set `currency`"
    )]
    NeedlessFx {
        symbol: String,
        fx: String,
        account: String,
    },

    /// An `fx` symbol whose name does not say which way to convert: `fx: JPYRATE`.
    #[error(
        "{path}: cannot tell from the name `{symbol}` how it converts {currency} into {account} (expected `{currency}{account}` or `{account}{currency}`); write `fx: {{ symbol: {symbol}, invert: false }}` if its price is {account} per {currency}, `invert: true` if it is {currency} per {account}"
    )]
    FxDirection {
        path: String,
        symbol: String,
        currency: String,
        account: String,
    },

    /// The same symbol under `data` and `series`.
    #[error("symbol `{symbol}` is listed under both `data` and `series`")]
    DataAndSeries { symbol: String },

    /// A YAML tag, which the config does not use: `equity: !big 10`.
    #[error("{path}: YAML tags such as `{tag}` are not supported")]
    Tagged { path: String, tag: String },

    /// A wildcard outside the file name: `data/*/XAUUSD.csv`.
    #[error("{path}: `{pattern}`: `*` is only supported in the file name, not in directories")]
    WildcardInDirectory { path: String, pattern: String },

    /// A file (or glob) that matches nothing: `file: XAUUSD_5m.csv`.
    #[error("{what}: no file matches `{pattern}` in {dir}{}", candidates_note(.candidates))]
    NoMatch {
        what: String,
        pattern: String,
        dir: String,
        candidates: Vec<String>,
    },

    /// A config pattern that matches several files: `file: USDJPY_*.csv`.
    #[error("{what}: `{pattern}` is ambiguous in {dir}; it matches {}; {help}", list(.candidates))]
    Ambiguous {
        what: String,
        pattern: String,
        dir: String,
        candidates: Vec<String>,
        help: String,
    },

    /// Zero config: the data directory is not a readable directory: `--data dta`.
    #[error("not a readable data directory: {reason}")]
    NoDataDir { reason: String },

    /// Zero config: no file in the data directory for a symbol the strategy
    /// reads: `symbol gold = XAUSD` with `--data DIR`.
    #[error("no file for {section} symbol `{symbol}` (looked for `{symbol}.csv`, `{symbol}.csv.gz` and `{symbol}_*.csv`){}", candidates_note(.candidates))]
    SymbolNotFound {
        section: String,
        symbol: String,
        candidates: Vec<String>,
    },

    /// Zero config: several files for one symbol: `USDJPY` with
    /// `USDJPY_1d.csv` and `USDJPY_4h_1999_2026.csv` in the directory.
    #[error("{section} symbol `{symbol}` is ambiguous: it matches {}; {help}", list(.candidates))]
    SymbolAmbiguous {
        section: String,
        symbol: String,
        candidates: Vec<String>,
        help: String,
    },

    /// An `instruments` entry that looks like a typo of a data symbol that
    /// has no entry of its own: `NQQ` listed, `NQ` traded.
    #[error(
        "instruments.{symbol} is not a data symbol of this run; did you mean `{suggestion}`? (`{suggestion}` would trade with the default multiplier 1)"
    )]
    InstrumentTypo { symbol: String, suggestion: String },

    /// More problems than are worth listing; the first ones are listed.
    #[error("{more} more problems not shown")]
    TooMany { more: usize },

    /// A symbol the strategy needs that the config does not provide.
    #[error("the strategy reads {kind} `{symbol}` but the config has no `{section}` entry for it{}", suggest(.suggestion))]
    MissingSymbol {
        kind: String,
        symbol: String,
        section: String,
        suggestion: Option<String>,
    },
}

fn candidates_note(c: &[String]) -> String {
    if c.is_empty() {
        String::new()
    } else {
        format!("; candidates: {}", list(c))
    }
}
