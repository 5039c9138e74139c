//! Reading `playbook.yaml`: the text is parsed into a `yaml_serde::Value`,
//! then walked by hand so that every problem is collected (not only the
//! first), and each problem is positioned with [`super::locate`].

use super::error::{ConfigError, ConfigErrorKind, ConfigErrors, fx_help};
use super::files::resolve_pattern;
use super::locate::{Seg, Target, locate};
use super::{
    Account, Commission, DataSource, Fill, FxConversion, FxDirection, Instrument, OnBadRow,
    ParamOverride, RunConfig, SeriesSource, Stamp, ZonedTime,
};
use crate::diagnostic::did_you_mean;
use jiff::SignedDuration;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// At most this many problems are listed (with positions) per config file.
const MAX_REPORTED: usize = 50;

const TOP_KEYS: &[&str] = &[
    "data",
    "series",
    "instruments",
    "account",
    "fill",
    "sizing",
    "params",
];
const DATA_KEYS: &[&str] = &[
    "file",
    "zone",
    "stamp",
    "interval",
    "daily_close",
    "day_start",
    "on_bad_row",
];
const SERIES_KEYS: &[&str] = &["file", "as_percent", "zone", "on_bad_row"];
const INSTRUMENT_KEYS: &[&str] = &[
    "multiplier",
    "tick_size",
    "lot_size",
    "currency",
    "commission",
    "slippage_ticks",
    "fx",
];
const COMMISSION_KEYS: &[&str] = &["per_contract", "bps"];
const FX_KEYS: &[&str] = &["symbol", "invert"];
const ACCOUNT_KEYS: &[&str] = &["equity", "currency"];

/// Reads config text into a [`RunConfig`] or every problem found.
pub(super) fn read(name: &str, text: &str, base: &Path) -> Result<RunConfig, ConfigErrors> {
    let parsed = serde_yaml::from_str::<Value>(text).and_then(|mut v| {
        // `<<: *anchor` merge keys share settings between entries.
        v.apply_merge().map(|()| v)
    });
    let value: Value = match parsed {
        Ok(v) => v,
        Err(e) => {
            let location = e.location().map(|l| (l.line(), l.column()));
            let mut message = e.to_string();
            // The position is already in front of the message.
            if let Some(i) = message.find(" at line ") {
                message.truncate(i);
            }
            return Err(ConfigErrors(vec![ConfigError {
                origin: name.to_string(),
                location,
                kind: ConfigErrorKind::Yaml { message },
            }]));
        }
    };
    let mut reader = Reader {
        base,
        problems: Vec::new(),
    };
    let config = reader.config(&value);
    if reader.problems.is_empty() {
        return Ok(config);
    }
    // Each position costs one pass over the text: list a bounded number.
    let more = reader.problems.len().saturating_sub(MAX_REPORTED);
    reader.problems.truncate(MAX_REPORTED);
    let mut errors: Vec<ConfigError> = reader
        .problems
        .into_iter()
        .map(|(target, kind)| ConfigError {
            origin: name.to_string(),
            location: target.and_then(|t| locate(text, &t)),
            kind,
        })
        .collect();
    // File order; problems without a position last. The sort is stable, so
    // problems at one place keep the order they were found in.
    errors.sort_by_key(|e| e.location.map_or((usize::MAX, usize::MAX), |l| l));
    if more > 0 {
        errors.push(ConfigError {
            origin: name.to_string(),
            location: None,
            kind: ConfigErrorKind::TooMany { more },
        });
    }
    Err(ConfigErrors(errors))
}

/// A path in the document, as shown in messages: `instruments.NQ.multiplier`.
fn show(path: &[Seg]) -> String {
    if path.is_empty() {
        return "the config".to_string();
    }
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn child(path: &[Seg], key: &str) -> Vec<Seg> {
    let mut p = path.to_vec();
    p.push(Seg::Key(key.to_string()));
    p
}

/// What a value is, for "expected X, found Y".
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "nothing".to_string(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::String(s) => format!("the string `{s}`"),
        Value::Sequence(_) => "a list".to_string(),
        Value::Mapping(_) => "a mapping".to_string(),
        Value::Tagged(t) => format!("a value tagged `{}`", t.tag),
    }
}

/// The text of a scalar mapping key.
fn key_text(k: &Value) -> Option<String> {
    match k {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number written as a string with `_` separators: `"1_000_000"`.
fn underscored_number(s: &str) -> Option<f64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let ok = body.starts_with(|c: char| c.is_ascii_digit())
        && body.ends_with(|c: char| c.is_ascii_digit())
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || c == '_' || c == '.')
        && body.matches('.').count() <= 1
        && !body.contains("_.")
        && !body.contains("._");
    if !ok {
        return None;
    }
    s.replace('_', "").parse().ok()
}

/// The offset of a valid IANA name, or the closest name.
fn lookup_zone(name: &str) -> Result<TimeZone, Option<String>> {
    match jiff::tz::db().get(name) {
        Ok(tz) => Ok(tz),
        Err(_) => {
            let names: Vec<String> = jiff::tz::db()
                .available()
                .map(|n| n.as_str().to_string())
                .collect();
            Err(did_you_mean(name, names.iter().map(String::as_str)).map(str::to_string))
        }
    }
}

/// A bar interval: a positive integer and one of `s m h d w`.
fn parse_interval(s: &str) -> Result<SignedDuration, String> {
    let s = s.trim();
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &s[digits.len()..];
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("expected a whole number and a unit, such as `1h` or `1d`".to_string());
    }
    let n: i64 = digits
        .parse()
        .map_err(|_| "the number is too large".to_string())?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        "" => return Err("missing unit; use one of `s m h d w`".to_string()),
        other => return Err(format!("unknown unit `{other}`; use one of `s m h d w`")),
    };
    if n == 0 {
        return Err("an interval must be longer than zero".to_string());
    }
    n.checked_mul(secs)
        .map(SignedDuration::from_secs)
        .ok_or_else(|| "the interval is too long".to_string())
}

/// `HH:MM` (two digits each).
fn parse_clock(s: &str) -> Result<Time, String> {
    let b = s.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !s[..2]
            .bytes()
            .chain(s[3..].bytes())
            .all(|c| c.is_ascii_digit())
    {
        return Err(
            "expected `HH:MM` and an optional IANA zone, such as `16:10 Asia/Hong_Kong`"
                .to_string(),
        );
    }
    let h: i8 = s[..2].parse().map_err(|_| "bad hour".to_string())?;
    let m: i8 = s[3..].parse().map_err(|_| "bad minute".to_string())?;
    if h > 23 {
        return Err(format!("hour {h} is not between 00 and 23"));
    }
    if m > 59 {
        return Err(format!("minute {m} is not between 00 and 59"));
    }
    Time::new(h, m, 0, 0).map_err(|e| e.to_string())
}

/// A data symbol as the language writes it: `[A-Za-z0-9_.^=-]+`.
fn is_data_symbol(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.^=-".contains(c))
}

/// A param name: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_currency(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|c| c.is_ascii_uppercase())
}

struct Reader<'b> {
    base: &'b Path,
    problems: Vec<(Option<Target>, ConfigErrorKind)>,
}

impl Reader<'_> {
    fn at_value(&mut self, path: &[Seg], kind: ConfigErrorKind) {
        self.problems.push((
            Some(Target {
                path: path.to_vec(),
                at_key: false,
            }),
            kind,
        ));
    }

    fn at_key(&mut self, path: &[Seg], kind: ConfigErrorKind) {
        self.problems.push((
            Some(Target {
                path: path.to_vec(),
                at_key: true,
            }),
            kind,
        ));
    }

    fn wrong_type(&mut self, path: &[Seg], expected: &str, v: &Value) {
        self.at_value(
            path,
            ConfigErrorKind::WrongType {
                path: show(path),
                expected: expected.to_string(),
                found: describe(v),
            },
        );
    }

    /// Reports a tagged value and returns the value under the tag otherwise.
    fn untag<'v>(&mut self, path: &[Seg], v: &'v Value) -> Option<&'v Value> {
        if let Value::Tagged(t) = v {
            self.at_value(
                path,
                ConfigErrorKind::Tagged {
                    path: show(path),
                    tag: t.tag.to_string(),
                },
            );
            None
        } else {
            Some(v)
        }
    }

    /// The entries of a mapping. With `allowed`, other keys are reported
    /// (with a suggestion) and left out; `section` names the mapping.
    fn mapping<'v>(
        &mut self,
        v: &'v Value,
        path: &[Seg],
        section: &str,
        allowed: Option<&[&str]>,
    ) -> Option<BTreeMap<String, &'v Value>> {
        let v = self.untag(path, v)?;
        let Value::Mapping(m) = v else {
            self.wrong_type(path, "a mapping", v);
            return None;
        };
        let mut out = BTreeMap::new();
        for (k, val) in m {
            let Some(key) = key_text(k) else {
                self.at_value(
                    path,
                    ConfigErrorKind::WrongType {
                        path: show(path),
                        expected: "names as keys".to_string(),
                        found: format!("{} as a key", describe(k)),
                    },
                );
                continue;
            };
            if let Some(allowed) = allowed
                && !allowed.contains(&key.as_str())
            {
                let suggestion = did_you_mean(&key, allowed.iter().copied()).map(str::to_string);
                self.at_key(
                    &child(path, &key),
                    ConfigErrorKind::UnknownKey {
                        key: key.clone(),
                        section: section.to_string(),
                        suggestion,
                    },
                );
                continue;
            }
            out.insert(key, val);
        }
        Some(out)
    }

    fn number(&mut self, v: &Value, path: &[Seg]) -> Option<f64> {
        let v = self.untag(path, v)?;
        match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => match underscored_number(s) {
                Some(x) => Some(x),
                None => {
                    self.wrong_type(path, "a number", v);
                    None
                }
            },
            _ => {
                self.wrong_type(path, "a number", v);
                None
            }
        }
    }

    fn positive(&mut self, v: &Value, path: &[Seg]) -> Option<f64> {
        let x = self.number(v, path)?;
        if x > 0.0 && x.is_finite() {
            Some(x)
        } else {
            self.at_value(
                path,
                ConfigErrorKind::NotPositive {
                    path: show(path),
                    value: x,
                },
            );
            None
        }
    }

    fn non_negative(&mut self, v: &Value, path: &[Seg]) -> Option<f64> {
        let x = self.number(v, path)?;
        if x >= 0.0 && x.is_finite() {
            Some(x)
        } else {
            self.at_value(
                path,
                ConfigErrorKind::Negative {
                    path: show(path),
                    value: x,
                },
            );
            None
        }
    }

    fn string(&mut self, v: &Value, path: &[Seg], expected: &str) -> Option<String> {
        let v = self.untag(path, v)?;
        match v {
            Value::String(s) => Some(s.clone()),
            _ => {
                self.wrong_type(path, expected, v);
                None
            }
        }
    }

    fn boolean(&mut self, v: &Value, path: &[Seg]) -> Option<bool> {
        let v = self.untag(path, v)?;
        match v {
            Value::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(path, "`true` or `false`", v);
                None
            }
        }
    }

    /// One of `options` (returned as its index).
    fn choice(&mut self, v: &Value, path: &[Seg], options: &[&str]) -> Option<usize> {
        let text = match self.untag(path, v)? {
            Value::String(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => {
                let expected = options
                    .iter()
                    .map(|o| format!("`{o}`"))
                    .collect::<Vec<_>>()
                    .join(" or ");
                self.wrong_type(path, &expected, other);
                return None;
            }
        };
        if let Some(i) = options.iter().position(|o| *o == text) {
            return Some(i);
        }
        self.at_value(
            path,
            ConfigErrorKind::UnknownValue {
                path: show(path),
                value: text.clone(),
                expected: options.iter().map(|o| o.to_string()).collect(),
                suggestion: did_you_mean(&text, options.iter().copied()).map(str::to_string),
            },
        );
        None
    }

    fn zone_name(&mut self, name: &str, path: &[Seg]) -> Option<TimeZone> {
        match lookup_zone(name) {
            Ok(tz) => Some(tz),
            Err(suggestion) => {
                self.at_value(
                    path,
                    ConfigErrorKind::UnknownTimeZone {
                        path: show(path),
                        zone: name.to_string(),
                        suggestion,
                    },
                );
                None
            }
        }
    }

    fn zone(&mut self, v: &Value, path: &[Seg]) -> Option<TimeZone> {
        let name = self.string(v, path, "an IANA time zone name such as `Asia/Tokyo`")?;
        self.zone_name(&name, path)
    }

    fn interval(&mut self, v: &Value, path: &[Seg]) -> Option<SignedDuration> {
        let text = match self.untag(path, v)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                self.wrong_type(path, "an interval such as `1h` or `1d`", other);
                return None;
            }
        };
        match parse_interval(&text) {
            Ok(d) => Some(d),
            Err(reason) => {
                self.at_value(
                    path,
                    ConfigErrorKind::InvalidInterval {
                        path: show(path),
                        value: text,
                        reason,
                    },
                );
                None
            }
        }
    }

    /// `HH:MM [ZONE]`; without a zone, `default_zone`.
    fn zoned_time(
        &mut self,
        v: &Value,
        path: &[Seg],
        default_zone: &TimeZone,
    ) -> Option<ZonedTime> {
        let text = match self.untag(path, v)? {
            Value::String(s) => s.clone(),
            other => {
                self.wrong_type(
                    path,
                    "a quoted clock time such as \"16:10 Asia/Hong_Kong\"",
                    other,
                );
                return None;
            }
        };
        let mut parts = text.split_whitespace();
        let clock = parts.next().unwrap_or("");
        let zone = parts.next();
        if parts.next().is_some() {
            self.at_value(
                path,
                ConfigErrorKind::InvalidClockTime {
                    path: show(path),
                    value: text.clone(),
                    reason:
                        "expected `HH:MM` and an optional IANA zone, such as `16:10 Asia/Hong_Kong`"
                            .to_string(),
                },
            );
            return None;
        }
        let time = match parse_clock(clock) {
            Ok(t) => Some(t),
            Err(reason) => {
                self.at_value(
                    path,
                    ConfigErrorKind::InvalidClockTime {
                        path: show(path),
                        value: text.clone(),
                        reason,
                    },
                );
                None
            }
        };
        let zone = match zone {
            Some(z) => self.zone_name(z, path)?,
            None => default_zone.clone(),
        };
        Some(ZonedTime { time: time?, zone })
    }

    fn currency(&mut self, v: &Value, path: &[Seg]) -> Option<String> {
        let s = self.string(v, path, "a three-letter currency code such as `USD`")?;
        if is_currency(&s) {
            Some(s)
        } else {
            self.at_value(
                path,
                ConfigErrorKind::InvalidCurrency {
                    path: show(path),
                    value: s,
                },
            );
            None
        }
    }

    /// The `file` key of a source mapping, resolved; a missing key is an error.
    fn required_file(
        &mut self,
        m: &BTreeMap<String, &Value>,
        path: &[Seg],
        what: &str,
    ) -> Option<std::path::PathBuf> {
        match m.get("file") {
            Some(f) => self.file(f, &child(path, "file"), what),
            None => {
                self.at_value(
                    path,
                    ConfigErrorKind::MissingKey {
                        key: "file".into(),
                        section: what.to_string(),
                    },
                );
                None
            }
        }
    }

    fn file(&mut self, v: &Value, path: &[Seg], what: &str) -> Option<std::path::PathBuf> {
        let pattern = self.string(v, path, "a file name or pattern")?;
        match resolve_pattern(self.base, &pattern, what) {
            Ok(p) => Some(p),
            Err(kind) => {
                self.at_value(path, kind);
                None
            }
        }
    }

    /// Checks a mapping key naming a symbol or a param; reports it otherwise.
    fn name_ok(&mut self, path: &[Seg], name: &str, param: bool) -> bool {
        let (ok, what) = if param {
            (
                is_identifier(name),
                "param name (letters, digits and `_`, not starting with a digit)",
            )
        } else {
            (
                is_data_symbol(name),
                "data symbol (letters, digits and `_ . ^ = -`)",
            )
        };
        if !ok {
            self.at_key(
                path,
                ConfigErrorKind::InvalidName {
                    path: show(&path[..path.len() - 1]),
                    name: name.to_string(),
                    what: what.to_string(),
                },
            );
        }
        ok
    }

    fn on_bad_row(&mut self, v: &Value, path: &[Seg]) -> Option<OnBadRow> {
        self.choice(v, path, &["error", "skip"])
            .map(|i| [OnBadRow::Error, OnBadRow::Skip][i])
    }

    fn config(&mut self, root: &Value) -> RunConfig {
        let mut config = RunConfig::empty();
        if matches!(root, Value::Null) {
            return config; // an empty file: all defaults
        }
        let Some(mut top) = self.mapping(root, &[], "the config", Some(TOP_KEYS)) else {
            return config;
        };
        // A section written with no value (`params:`) is an empty section.
        top.retain(|_, v| !v.is_null());
        // The account comes first: instruments are checked against its
        // currency (when that currency is valid; a bad equity does not matter).
        let account_ok = match top.get("account") {
            Some(v) => {
                let (account, currency_ok) = self.account(v);
                config.account = account;
                currency_ok
            }
            None => true,
        };
        if let Some(v) = top.get("data")
            && let Some(m) = self.mapping(v, &[Seg::Key("data".into())], "data", None)
        {
            for (sym, v) in m {
                let path = vec![Seg::Key("data".into()), Seg::Key(sym.clone())];
                if !self.name_ok(&path, &sym, false) {
                    continue;
                }
                if let Some(src) = self.data_source(v, &path) {
                    config.data.insert(sym, src);
                }
            }
        }
        if let Some(v) = top.get("series")
            && let Some(m) = self.mapping(v, &[Seg::Key("series".into())], "series", None)
        {
            for (sym, v) in m {
                let path = vec![Seg::Key("series".into()), Seg::Key(sym.clone())];
                if !self.name_ok(&path, &sym, false) {
                    continue;
                }
                if top
                    .get("data")
                    .and_then(|d| d.as_mapping())
                    .is_some_and(|d| d.keys().any(|k| key_text(k).as_deref() == Some(&sym)))
                {
                    self.at_key(
                        &path,
                        ConfigErrorKind::DataAndSeries {
                            symbol: sym.clone(),
                        },
                    );
                }
                if let Some(src) = self.series_source(v, &path) {
                    config.series.insert(sym, src);
                }
            }
        }
        // Symbols listed under `data`, whether or not their entry was valid,
        // so that a bad entry does not also make every `fx` to it an error.
        let data_symbols: Vec<String> = top
            .get("data")
            .and_then(|d| d.as_mapping())
            .map(|d| d.keys().filter_map(key_text).collect())
            .unwrap_or_default();
        if let Some(v) = top.get("instruments")
            && let Some(m) = self.mapping(v, &[Seg::Key("instruments".into())], "instruments", None)
        {
            for (sym, v) in m {
                let path = vec![Seg::Key("instruments".into()), Seg::Key(sym.clone())];
                if !self.name_ok(&path, &sym, false) {
                    continue;
                }
                if let Some(inst) =
                    self.instrument(v, &path, &sym, &config.account, account_ok, &data_symbols)
                {
                    config.instruments.insert(sym, inst);
                }
            }
        }
        if let Some(v) = top.get("fill") {
            let path = [Seg::Key("fill".into())];
            if let Some(i) = self.choice(v, &path, &["next_open", "close"]) {
                config.fill = [Fill::NextOpen, Fill::Close][i];
            }
        }
        if let Some(v) = top.get("sizing") {
            let path = [Seg::Key("sizing".into())];
            if let Some(s) = self.string(v, &path, "a quoted size such as \"10% of equity\"") {
                if s.trim().is_empty() {
                    self.wrong_type(&path, "a size such as \"1 contracts\"", v);
                } else {
                    config.sizing = s.trim().to_string();
                }
            }
        }
        if let Some(v) = top.get("params")
            && let Some(m) = self.mapping(v, &[Seg::Key("params".into())], "params", None)
        {
            for (name, v) in m {
                let path = vec![Seg::Key("params".into()), Seg::Key(name.clone())];
                if !self.name_ok(&path, &name, true) {
                    continue;
                }
                let Some(v) = self.untag(&path, v) else {
                    continue;
                };
                let value = match v {
                    Value::Number(n) => n.as_f64().map(ParamOverride::Number),
                    Value::Bool(b) => Some(ParamOverride::Bool(*b)),
                    Value::String(s) => Some(ParamOverride::Text(s.clone())),
                    other => {
                        self.wrong_type(
                            &path,
                            "a number, a boolean or a literal such as \"1.5%\"",
                            other,
                        );
                        None
                    }
                };
                if let Some(value) = value {
                    config.params.insert(name, value);
                }
            }
        }
        config
    }

    /// The account (invalid fields at their defaults) and whether its
    /// currency is valid.
    fn account(&mut self, v: &Value) -> (Account, bool) {
        let path = [Seg::Key("account".into())];
        let mut account = Account::default();
        let Some(m) = self.mapping(v, &path, "account", Some(ACCOUNT_KEYS)) else {
            return (account, false);
        };
        if let Some(v) = m.get("equity")
            && let Some(x) = self.positive(v, &child(&path, "equity"))
        {
            account.equity = x;
        }
        let mut currency_ok = true;
        if let Some(v) = m.get("currency") {
            match self.currency(v, &child(&path, "currency")) {
                Some(c) => account.currency = c,
                None => currency_ok = false,
            }
        }
        (account, currency_ok)
    }

    fn data_source(&mut self, v: &Value, path: &[Seg]) -> Option<DataSource> {
        let what = show(path);
        if let Value::String(_) = v {
            let file = self.file(v, path, &what)?;
            return Some(DataSource::new(file));
        }
        let m = self.mapping(v, path, &what, Some(DATA_KEYS))?;
        let mut ok = true;
        let file = self.required_file(&m, path, &what);
        let mut src = DataSource::new(file.clone().unwrap_or_default());
        ok &= file.is_some();
        if let Some(v) = m.get("zone") {
            match self.zone(v, &child(path, "zone")) {
                Some(z) => src.zone = z,
                None => ok = false,
            }
        }
        if let Some(v) = m.get("stamp") {
            match self.choice(v, &child(path, "stamp"), &["open", "close"]) {
                Some(i) => src.stamp = [Stamp::Open, Stamp::Close][i],
                None => ok = false,
            }
        }
        if let Some(v) = m.get("interval") {
            match self.interval(v, &child(path, "interval")) {
                Some(d) => src.interval = Some(d),
                None => ok = false,
            }
        }
        let zone = src.zone.clone();
        if let Some(v) = m.get("daily_close") {
            match self.zoned_time(v, &child(path, "daily_close"), &zone) {
                Some(t) => src.daily_close = Some(t),
                None => ok = false,
            }
        }
        if let Some(v) = m.get("day_start") {
            match self.zoned_time(v, &child(path, "day_start"), &zone) {
                Some(t) => src.day_start = Some(t),
                None => ok = false,
            }
        }
        if let Some(v) = m.get("on_bad_row") {
            match self.on_bad_row(v, &child(path, "on_bad_row")) {
                Some(b) => src.on_bad_row = b,
                None => ok = false,
            }
        }
        ok.then_some(src)
    }

    fn series_source(&mut self, v: &Value, path: &[Seg]) -> Option<SeriesSource> {
        let what = show(path);
        if let Value::String(_) = v {
            let file = self.file(v, path, &what)?;
            return Some(SeriesSource::new(file));
        }
        let m = self.mapping(v, path, &what, Some(SERIES_KEYS))?;
        let mut ok = true;
        let file = self.required_file(&m, path, &what);
        ok &= file.is_some();
        let mut src = SeriesSource::new(file.unwrap_or_default());
        if let Some(v) = m.get("as_percent") {
            match self.boolean(v, &child(path, "as_percent")) {
                Some(b) => src.as_percent = b,
                None => ok = false,
            }
        }
        if let Some(v) = m.get("zone") {
            match self.zone(v, &child(path, "zone")) {
                Some(z) => src.zone = z,
                None => ok = false,
            }
        }
        if let Some(v) = m.get("on_bad_row") {
            match self.on_bad_row(v, &child(path, "on_bad_row")) {
                Some(b) => src.on_bad_row = b,
                None => ok = false,
            }
        }
        ok.then_some(src)
    }

    fn instrument(
        &mut self,
        v: &Value,
        path: &[Seg],
        sym: &str,
        account: &Account,
        account_ok: bool,
        data_symbols: &[String],
    ) -> Option<Instrument> {
        let what = show(path);
        let m = self.mapping(v, path, &what, Some(INSTRUMENT_KEYS))?;
        let mut inst = Instrument::default_in(super::DEFAULT_CURRENCY);
        let mut ok = true;
        if let Some(v) = m.get("multiplier") {
            match self.positive(v, &child(path, "multiplier")) {
                Some(x) => inst.multiplier = x,
                None => ok = false,
            }
        }
        if let Some(v) = m.get("tick_size") {
            match self.positive(v, &child(path, "tick_size")) {
                Some(x) => inst.tick_size = Some(x),
                None => ok = false,
            }
        }
        if let Some(v) = m.get("lot_size") {
            match self.positive(v, &child(path, "lot_size")) {
                Some(x) => inst.lot_size = x,
                None => ok = false,
            }
        }
        let mut currency_ok = true;
        if let Some(v) = m.get("currency") {
            match self.currency(v, &child(path, "currency")) {
                Some(c) => inst.currency = c,
                None => currency_ok = false,
            }
        }
        ok &= currency_ok;
        if let Some(v) = m.get("commission") {
            match self.commission(v, &child(path, "commission")) {
                Some(c) => inst.commission = c,
                None => ok = false,
            }
        }
        if let Some(v) = m.get("slippage_ticks") {
            let p = child(path, "slippage_ticks");
            match self.non_negative(v, &p) {
                Some(x) => {
                    inst.slippage_ticks = x;
                    if x > 0.0 && inst.tick_size.is_none() && !m.contains_key("tick_size") {
                        self.at_value(
                            &p,
                            ConfigErrorKind::SlippageWithoutTickSize {
                                path: show(path),
                                ticks: x,
                            },
                        );
                        ok = false;
                    }
                }
                None => ok = false,
            }
        }
        // The currency conversion: needs a valid currency and account.
        let fx_path = child(path, "fx");
        let fx = match m.get("fx") {
            Some(v) => self.fx_spec(v, &fx_path),
            None => None,
        };
        if m.contains_key("fx") && fx.is_none() {
            ok = false;
        }
        if currency_ok && account_ok {
            let same = inst.currency == account.currency;
            match (fx, same) {
                (None, false) if !m.contains_key("fx") => {
                    let target = if m.contains_key("currency") {
                        Target {
                            path: child(path, "currency"),
                            at_key: false,
                        }
                    } else {
                        Target {
                            path: path.to_vec(),
                            at_key: true,
                        }
                    };
                    self.problems.push((
                        Some(target),
                        ConfigErrorKind::MissingFx {
                            symbol: sym.to_string(),
                            currency: inst.currency.clone(),
                            account: account.currency.clone(),
                            help: fx_help(
                                &inst.currency,
                                &account.currency,
                                &data_symbols.iter().map(String::as_str).collect::<Vec<_>>(),
                            ),
                        },
                    ));
                    ok = false;
                }
                (Some((symbol, _)), true) => {
                    self.at_value(
                        &fx_path,
                        ConfigErrorKind::NeedlessFx {
                            symbol: sym.to_string(),
                            fx: symbol,
                            account: account.currency.clone(),
                        },
                    );
                    ok = false;
                }
                (Some((symbol, invert)), false) => {
                    let sym_path = match m.get("fx") {
                        Some(Value::Mapping(_)) => child(&fx_path, "symbol"),
                        _ => fx_path.clone(),
                    };
                    let in_data = data_symbols.contains(&symbol);
                    if !in_data {
                        self.at_value(
                            &sym_path,
                            ConfigErrorKind::FxNotInData {
                                path: show(&fx_path),
                                symbol: symbol.clone(),
                                suggestion: did_you_mean(
                                    &symbol,
                                    data_symbols.iter().map(String::as_str),
                                )
                                .map(str::to_string),
                            },
                        );
                        ok = false;
                    }
                    let direction = match invert {
                        Some(false) => Some(FxDirection::Multiply),
                        Some(true) => Some(FxDirection::Divide),
                        // Not in data: already reported; the name is a typo.
                        None if !in_data => None,
                        None => {
                            let name = symbol.to_ascii_uppercase();
                            if name == format!("{}{}", inst.currency, account.currency) {
                                Some(FxDirection::Multiply)
                            } else if name == format!("{}{}", account.currency, inst.currency) {
                                Some(FxDirection::Divide)
                            } else {
                                self.at_value(
                                    &sym_path,
                                    ConfigErrorKind::FxDirection {
                                        path: show(&fx_path),
                                        symbol: symbol.clone(),
                                        currency: inst.currency.clone(),
                                        account: account.currency.clone(),
                                    },
                                );
                                None
                            }
                        }
                    };
                    match direction {
                        Some(direction) => inst.fx = Some(FxConversion { symbol, direction }),
                        None => ok = false,
                    }
                }
                _ => {}
            }
        }
        ok.then_some(inst)
    }

    /// `fx: SYMBOL` or `fx: { symbol: SYMBOL, invert: BOOL }`.
    fn fx_spec(&mut self, v: &Value, path: &[Seg]) -> Option<(String, Option<bool>)> {
        if let Value::Mapping(_) = v {
            let m = self.mapping(v, path, &show(path), Some(FX_KEYS))?;
            let symbol = match m.get("symbol") {
                Some(s) => self.string(s, &child(path, "symbol"), "a data symbol such as `USDJPY`"),
                None => {
                    self.at_value(
                        path,
                        ConfigErrorKind::MissingKey {
                            key: "symbol".into(),
                            section: show(path),
                        },
                    );
                    None
                }
            };
            let invert = match m.get("invert") {
                Some(b) => Some(self.boolean(b, &child(path, "invert"))?),
                None => Some(false),
            };
            return Some((symbol?, invert));
        }
        let s = self.string(v, path, "a data symbol such as `USDJPY`")?;
        Some((s, None))
    }

    fn commission(&mut self, v: &Value, path: &[Seg]) -> Option<Commission> {
        let before = self.problems.len();
        let m = self.mapping(v, path, &show(path), Some(COMMISSION_KEYS))?;
        if self.problems.len() > before {
            return None; // an unknown key, already reported
        }
        match (m.get("per_contract"), m.get("bps")) {
            (Some(x), None) => self
                .non_negative(x, &child(path, "per_contract"))
                .map(Commission::PerContract),
            (None, Some(x)) => self
                .non_negative(x, &child(path, "bps"))
                .map(Commission::Bps),
            _ => {
                self.at_value(path, ConfigErrorKind::CommissionStyle { path: show(path) });
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("1h"), Ok(SignedDuration::from_hours(1)));
        assert_eq!(parse_interval("15m"), Ok(SignedDuration::from_mins(15)));
        assert_eq!(parse_interval("1d"), Ok(SignedDuration::from_hours(24)));
        assert_eq!(parse_interval("1w"), Ok(SignedDuration::from_hours(168)));
        assert!(parse_interval("0h").is_err());
        assert!(parse_interval("1x").is_err());
        assert!(parse_interval("h").is_err());
        assert!(parse_interval("1.5h").is_err());
        assert!(parse_interval("12").is_err());
    }

    #[test]
    fn clocks() {
        assert_eq!(parse_clock("16:10"), Ok(Time::constant(16, 10, 0, 0)));
        assert!(parse_clock("24:00").is_err());
        assert!(parse_clock("09:60").is_err());
        assert!(parse_clock("9:00").is_err());
    }

    #[test]
    fn underscored_numbers() {
        assert_eq!(underscored_number("1_000_000"), Some(1_000_000.0));
        assert_eq!(underscored_number("-2_5.5"), Some(-25.5));
        assert_eq!(underscored_number("1_"), None);
        assert_eq!(underscored_number("abc"), None);
        assert_eq!(underscored_number("1._5"), None);
    }
}
