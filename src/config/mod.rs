//! The run config: where each symbol's data comes from, how instruments trade,
//! the account, fills, default sizing and param overrides.
//!
//! A [`RunConfig`] is built either from a YAML file (`playbook.yaml`, schema in
//! `docs/config.md`) with [`RunConfig::from_file`], or with no file at all
//! from a data directory and the strategy's symbols with
//! [`RunConfig::from_data_dir`]. Either way the result is resolved (files
//! found, zones looked up, defaults applied) and validated, in plain Rust and
//! `jiff` types; it knows nothing of serde. Maps are `BTreeMap`s, so
//! everything derived from a config is in a fixed order.

mod error;
mod files;
mod locate;
mod read;

pub use error::{ConfigError, ConfigErrorKind, ConfigErrors};
pub use files::{resolve_data_dir, resolve_series_dir};

use crate::diagnostic::did_you_mean;
use jiff::SignedDuration;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The conventional name of the run config file.
pub const DEFAULT_FILE_NAME: &str = "playbook.yaml";

/// The default sizing when neither the rule nor the config gives one.
pub const DEFAULT_SIZING: &str = "1 contracts";

/// The default account equity.
pub const DEFAULT_EQUITY: f64 = 1_000_000.0;

/// The default currency of the account and of instruments.
pub const DEFAULT_CURRENCY: &str = "USD";

/// A resolved and validated run config.
#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    /// The YAML file this came from; `None` for a zero-config run.
    pub file: Option<PathBuf>,
    /// Bar sources by data symbol (`XAUUSD`).
    pub data: BTreeMap<String, DataSource>,
    /// Non-price series sources by series symbol (`US_POLICY_RATE`).
    pub series: BTreeMap<String, SeriesSource>,
    /// Trading terms by data symbol; symbols not listed trade with
    /// [`RunConfig::instrument`]'s defaults.
    pub instruments: BTreeMap<String, Instrument>,
    /// The account the signals are sized for.
    pub account: Account,
    /// When orders fill.
    pub fill: Fill,
    /// The default sizing, in the rule language's size syntax (`"10% of equity"`);
    /// unparsed here.
    pub sizing: String,
    /// Param overrides by param name; values unparsed.
    pub params: BTreeMap<String, ParamOverride>,
}

/// Where one symbol's bars come from and how to read them.
#[derive(Clone, Debug, PartialEq)]
pub struct DataSource {
    /// The CSV file (plain or `.gz`), resolved to exactly one existing file.
    pub file: PathBuf,
    /// The zone of time stamps that carry no offset (default UTC).
    pub zone: TimeZone,
    /// Whether a stamp marks the bar's open or its close (default open).
    pub stamp: Stamp,
    /// The bar interval; `None` means infer it from the data.
    pub interval: Option<SignedDuration>,
    /// For daily bars: the local time (and zone) at which a day's bar closes.
    pub daily_close: Option<ZonedTime>,
    /// Where a trading day starts, for resampling to days.
    pub day_start: Option<ZonedTime>,
    /// What to do with a row that cannot be read (default error).
    pub on_bad_row: OnBadRow,
}

impl DataSource {
    /// A source for `file` with every option at its default.
    pub fn new(file: impl Into<PathBuf>) -> DataSource {
        DataSource {
            file: file.into(),
            zone: TimeZone::UTC,
            stamp: Stamp::Open,
            interval: None,
            daily_close: None,
            day_start: None,
            on_bad_row: OnBadRow::Error,
        }
    }
}

/// Where a non-price series (`timestamp,value`) comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSource {
    /// The CSV file, resolved to exactly one existing file.
    pub file: PathBuf,
    /// The file's values are percent points (5.25 means 5.25 %).
    pub as_percent: bool,
    /// The zone of time stamps that carry no offset (default UTC).
    pub zone: TimeZone,
    /// What to do with a row that cannot be read (default error).
    pub on_bad_row: OnBadRow,
}

impl SeriesSource {
    /// A source for `file` with every option at its default.
    pub fn new(file: impl Into<PathBuf>) -> SeriesSource {
        SeriesSource {
            file: file.into(),
            as_percent: false,
            zone: TimeZone::UTC,
            on_bad_row: OnBadRow::Error,
        }
    }
}

/// What a bar's time stamp marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stamp {
    /// The bar's open (the engine's convention).
    Open,
    /// The bar's close (the reader shifts it back by the interval).
    Close,
}

/// What to do with a CSV row that cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OnBadRow {
    /// Stop with an error naming the file and line.
    Error,
    /// Skip the row (and count it).
    Skip,
}

/// When an order from a signal fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fill {
    /// At the acting symbol's next bar open after the signal (default).
    NextOpen,
    /// At the signal bar's close (signal-only runs).
    Close,
}

/// A wall-clock time in a zone, such as `16:10 Asia/Hong_Kong`.
#[derive(Clone, Debug, PartialEq)]
pub struct ZonedTime {
    /// The local time of day.
    pub time: Time,
    /// The zone it is read in.
    pub zone: TimeZone,
}

/// How one instrument trades.
#[derive(Clone, Debug, PartialEq)]
pub struct Instrument {
    /// Currency value of one point per contract (default 1).
    pub multiplier: f64,
    /// Smallest price step; `None` when not given.
    pub tick_size: Option<f64>,
    /// Quantities round down to a multiple of this (default 1).
    pub lot_size: f64,
    /// The currency prices are quoted in (default USD).
    pub currency: String,
    /// Commission per fill (default none).
    pub commission: Commission,
    /// Slippage per fill in ticks (default 0).
    pub slippage_ticks: f64,
    /// How to convert the instrument's currency into the account currency;
    /// `None` only when they are the same.
    pub fx: Option<FxConversion>,
}

impl Instrument {
    /// The terms of an instrument the config does not list: multiplier 1,
    /// lot 1, no tick size, no costs, quoted in `currency`.
    pub fn default_in(currency: &str) -> Instrument {
        Instrument {
            multiplier: 1.0,
            tick_size: None,
            lot_size: 1.0,
            currency: currency.to_string(),
            commission: Commission::None,
            slippage_ticks: 0.0,
            fx: None,
        }
    }
}

/// Commission per fill.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Commission {
    /// No commission.
    None,
    /// A fixed amount (instrument currency) per contract or unit.
    PerContract(f64),
    /// Basis points of the traded notional.
    Bps(f64),
}

/// The FX symbol that converts an instrument's currency into the account
/// currency, and which way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FxConversion {
    /// A data symbol (listed under `data`).
    pub symbol: String,
    /// How its price converts an amount.
    pub direction: FxDirection,
}

/// How an FX price converts an amount from the instrument currency into the
/// account currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FxDirection {
    /// The price is account currency per instrument currency (`EURUSD` for a
    /// EUR instrument in a USD account): multiply.
    Multiply,
    /// The price is instrument currency per account currency (`USDJPY` for a
    /// JPY instrument in a USD account): divide.
    Divide,
}

impl FxConversion {
    /// Converts `amount` (instrument currency) at FX price `price` into the
    /// account currency.
    pub fn convert(&self, amount: f64, price: f64) -> f64 {
        match self.direction {
            FxDirection::Multiply => amount * price,
            FxDirection::Divide => amount / price,
        }
    }
}

/// The account signals are sized for.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    /// Starting equity (default 1,000,000).
    pub equity: f64,
    /// Its currency (default USD).
    pub currency: String,
}

impl Default for Account {
    fn default() -> Account {
        Account {
            equity: DEFAULT_EQUITY,
            currency: DEFAULT_CURRENCY.to_string(),
        }
    }
}

/// A param override as written in the config; the language parser reads it.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamOverride {
    /// A YAML number: `surge: 0.01`.
    Number(f64),
    /// A YAML string in the language's literal syntax: `drop: "1.5%"`, `hold: 3d`.
    Text(String),
    /// A YAML boolean.
    Bool(bool),
}

impl RunConfig {
    /// A config with no data and every default: account 1,000,000 USD,
    /// `fill: next_open`, sizing `1 contracts`.
    pub fn empty() -> RunConfig {
        RunConfig {
            file: None,
            data: BTreeMap::new(),
            series: BTreeMap::new(),
            instruments: BTreeMap::new(),
            account: Account::default(),
            fill: Fill::NextOpen,
            sizing: DEFAULT_SIZING.to_string(),
            params: BTreeMap::new(),
        }
    }

    /// Reads, resolves and validates a YAML run config file. Relative file
    /// names in it are relative to the file's directory.
    ///
    /// # Errors
    ///
    /// Every problem found (unreadable file, invalid YAML, unknown keys, bad
    /// values, missing files, missing FX conversions), each naming the file
    /// as given, with line and column where there is one.
    pub fn from_file(path: &Path) -> Result<RunConfig, ConfigErrors> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigErrors(vec![ConfigError {
                origin: name.clone(),
                location: None,
                kind: ConfigErrorKind::Read {
                    reason: e.to_string(),
                },
            }])
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut config = RunConfig::from_yaml(&name, &text, base)?;
        config.file = Some(path.to_path_buf());
        Ok(config)
    }

    /// Resolves and validates YAML config text. `name` is used in messages;
    /// relative file names are relative to `base_dir`.
    ///
    /// # Errors
    ///
    /// As [`RunConfig::from_file`].
    ///
    /// # Example
    ///
    /// ```
    /// use playbook::config::{Fill, RunConfig};
    /// use std::path::Path;
    ///
    /// let text = "fill: close\naccount: { equity: 250_000 }\n";
    /// let cfg = RunConfig::from_yaml("playbook.yaml", text, Path::new(".")).unwrap();
    /// assert_eq!(cfg.fill, Fill::Close);
    /// assert_eq!(cfg.account.equity, 250_000.0);
    ///
    /// let text = "instruments:\n  NQ: { multipler: 20 }\n";
    /// let err = RunConfig::from_yaml("playbook.yaml", text, Path::new(".")).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "playbook.yaml:2:9: unknown key `multipler` in instruments.NQ; did you mean `multiplier`?"
    /// );
    /// ```
    pub fn from_yaml(name: &str, text: &str, base_dir: &Path) -> Result<RunConfig, ConfigErrors> {
        read::read(name, text, base_dir)
    }

    /// Zero config: the strategy's data symbols and series symbols resolved
    /// in `dir` (see [`resolve_data_dir`], [`resolve_series_dir`]), with every
    /// other setting at its default.
    ///
    /// # Errors
    ///
    /// One error per symbol with no file or an ambiguous file, listing the
    /// candidates.
    pub fn from_data_dir(
        dir: &Path,
        symbols: &[&str],
        series: &[&str],
    ) -> Result<RunConfig, ConfigErrors> {
        let mut config = RunConfig::empty();
        config.fill_from_data_dir(dir, symbols, series)?;
        Ok(config)
    }

    /// Adds the symbols (and series) that the config does not list, resolved
    /// in `dir` with default options. Listed symbols are left alone.
    ///
    /// # Errors
    ///
    /// As [`RunConfig::from_data_dir`], for the missing symbols only.
    pub fn fill_from_data_dir(
        &mut self,
        dir: &Path,
        symbols: &[&str],
        series: &[&str],
    ) -> Result<(), ConfigErrors> {
        let missing: Vec<&str> = symbols
            .iter()
            .copied()
            .filter(|s| !self.data.contains_key(*s))
            .collect();
        let missing_series: Vec<&str> = series
            .iter()
            .copied()
            .filter(|s| !self.series.contains_key(*s))
            .collect();
        let data = resolve_data_dir(dir, &missing);
        let series = resolve_series_dir(dir, &missing_series);
        let mut errors = Vec::new();
        match data {
            Ok(found) => {
                for (s, f) in found {
                    self.data.insert(s, DataSource::new(f));
                }
            }
            Err(e) => errors.extend(e.0),
        }
        match series {
            Ok(found) => {
                for (s, f) in found {
                    self.series.insert(s, SeriesSource::new(f));
                }
            }
            Err(e) => errors.extend(e.0),
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// Checks that every data symbol and series the strategy reads has a
    /// source, that every symbol in another currency converts, and that no
    /// `instruments` entry is a typo of a data symbol without one.
    ///
    /// # Errors
    ///
    /// One error per missing symbol (with a "did you mean" from the config),
    /// per missing conversion and per likely typo.
    pub fn require_symbols(&self, symbols: &[&str], series: &[&str]) -> Result<(), ConfigErrors> {
        let origin = match &self.file {
            Some(f) => f.display().to_string(),
            None => "run config".to_string(),
        };
        let mut errors = Vec::new();
        let mut check = |kind: &str, section: &str, names: &[&str], have: Vec<&str>| {
            let mut names: Vec<&str> = names.to_vec();
            names.sort_unstable();
            names.dedup();
            for s in names {
                if !have.contains(&s) {
                    errors.push(ConfigError {
                        origin: origin.clone(),
                        location: None,
                        kind: ConfigErrorKind::MissingSymbol {
                            kind: kind.to_string(),
                            symbol: s.to_string(),
                            section: section.to_string(),
                            suggestion: did_you_mean(s, have.iter().copied()).map(str::to_string),
                        },
                    });
                }
            }
        };
        check(
            "data symbol",
            "data",
            symbols,
            self.data.keys().map(String::as_str).collect(),
        );
        check(
            "series",
            "series",
            series,
            self.series.keys().map(String::as_str).collect(),
        );
        for s in symbols {
            let inst = self.instrument(s);
            if inst.currency != self.account.currency && inst.fx.is_none() {
                errors.push(ConfigError {
                    origin: origin.clone(),
                    location: None,
                    kind: ConfigErrorKind::MissingFx {
                        help: error::fx_help(
                            &inst.currency,
                            &self.account.currency,
                            &self.data.keys().map(String::as_str).collect::<Vec<_>>(),
                        ),
                        symbol: s.to_string(),
                        currency: inst.currency,
                        account: self.account.currency.clone(),
                    },
                });
            }
        }
        // An instrument entry for no data symbol, close to a data symbol
        // without an entry, is a typo that would silently trade at the
        // defaults.
        let bare: Vec<&str> = self
            .data
            .keys()
            .map(String::as_str)
            .filter(|s| !self.instruments.contains_key(*s))
            .collect();
        for name in self.instruments.keys() {
            if self.data.contains_key(name) {
                continue;
            }
            if let Some(close) = did_you_mean(name, bare.iter().copied()) {
                errors.push(ConfigError {
                    origin: origin.clone(),
                    location: None,
                    kind: ConfigErrorKind::InstrumentTypo {
                        symbol: name.clone(),
                        suggestion: close.to_string(),
                    },
                });
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigErrors(errors))
        }
    }

    /// The FX symbols needed to convert the currencies of `traded` symbols
    /// into the account currency: load these along with the strategy's data.
    pub fn fx_symbols(&self, traded: &[&str]) -> BTreeSet<String> {
        traded
            .iter()
            .filter_map(|s| self.instruments.get(*s))
            .filter_map(|i| i.fx.as_ref().map(|f| f.symbol.clone()))
            .collect()
    }

    /// The trading terms of `symbol`: its `instruments` entry, or the
    /// defaults (quoted in USD, like a listed instrument without `currency`).
    pub fn instrument(&self, symbol: &str) -> Instrument {
        match self.instruments.get(symbol) {
            Some(i) => i.clone(),
            None => Instrument::default_in(DEFAULT_CURRENCY),
        }
    }
}
