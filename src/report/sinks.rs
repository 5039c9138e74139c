//! Sinks: where a run's rows go. The engine does not format; these do.
//!
//! Formats are fixed for byte-for-byte reproducibility: times are RFC 3339
//! UTC (`2024-08-05T01:00:00Z`), numbers are Rust's shortest round-trip
//! representation, `na` is an empty cell.

use super::text::{self, TimeText};
use crate::engine::run::{EquityRow, Signal, Sink, TradeRow};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A number for a CSV cell: shortest round-trip, empty for `na`.
pub fn num(v: f64) -> String {
    let mut out = Vec::new();
    push_cell(&mut out, v);
    String::from_utf8(out).expect("numbers are ASCII")
}

/// Appends a number cell ([`num`]'s format): empty for `na`, `0` for both
/// zeros, else the shortest round-trip text.
fn push_cell(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
    } else if v == 0.0 {
        out.push(b'0');
    } else {
        text::push_num(out, v);
    }
}

/// Quotes a CSV field when it needs it (RFC 4180).
pub fn field(text: &str) -> String {
    let mut out = Vec::new();
    push_field(&mut out, text);
    String::from_utf8(out).expect("the text was UTF-8")
}

/// Appends a text cell ([`field`]'s format).
fn push_field(out: &mut Vec<u8>, text: &str) {
    if text.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        for part in text.split_inclusive('"') {
            out.extend_from_slice(part.as_bytes());
            if part.ends_with('"') {
                out.push(b'"');
            }
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// The header of `signals.csv`.
pub const SIGNALS_HEADER: &str =
    "time,rule,symbol,action,quantity,price,fill_time,fill_price,reason";
/// The header of `trades.csv`.
pub const TRADES_HEADER: &str =
    "symbol,side,quantity,entry_time,entry_price,exit_time,exit_price,pnl,return,exit_reason,rule";
/// The header of `equity.csv`.
pub const EQUITY_HEADER: &str = "time,equity,cash,exposure,drawdown";

/// Appends one `signals.csv` line (without the newline).
fn push_signal(out: &mut Vec<u8>, time: &mut TimeText, s: &Signal) {
    time.push(out, s.time);
    out.push(b',');
    push_field(out, &s.rule);
    out.push(b',');
    push_field(out, &s.symbol);
    out.push(b',');
    out.extend_from_slice(s.action.as_bytes());
    out.push(b',');
    push_cell(out, s.quantity);
    out.push(b',');
    push_cell(out, s.price);
    out.push(b',');
    if let Some(t) = s.fill_time {
        time.push(out, t);
    }
    out.push(b',');
    if let Some(p) = s.fill_price {
        push_cell(out, p);
    }
    out.push(b',');
    push_field(out, &s.reason);
}

/// Appends one `trades.csv` line (without the newline).
fn push_trade(out: &mut Vec<u8>, time: &mut TimeText, t: &TradeRow) {
    let tr = &t.trade;
    push_field(out, &t.symbol);
    out.push(b',');
    out.extend_from_slice(tr.side.as_str().as_bytes());
    out.push(b',');
    push_cell(out, tr.quantity);
    out.push(b',');
    time.push(out, tr.entry_time);
    out.push(b',');
    push_cell(out, tr.entry_price);
    out.push(b',');
    time.push(out, tr.exit_time);
    out.push(b',');
    for v in [tr.exit_price, tr.pnl, tr.ret] {
        push_cell(out, v);
        out.push(b',');
    }
    out.extend_from_slice(tr.exit_reason.as_str().as_bytes());
    out.push(b',');
    push_field(out, &t.rule);
}

/// Appends one `equity.csv` line's cells after the time, with a leading
/// comma (without the newline).
fn push_equity_cells(out: &mut Vec<u8>, e: &EquityRow) {
    for v in [e.equity, e.cash, e.exposure, e.drawdown] {
        out.push(b',');
        push_cell(out, v);
    }
}

fn line(f: impl FnOnce(&mut Vec<u8>, &mut TimeText)) -> String {
    let mut out = Vec::new();
    f(&mut out, &mut TimeText::new());
    String::from_utf8(out).expect("cells are UTF-8")
}

/// One `signals.csv` line (without the newline).
pub fn signal_line(s: &Signal) -> String {
    line(|out, time| push_signal(out, time, s))
}

/// One `trades.csv` line (without the newline).
pub fn trade_line(t: &TradeRow) -> String {
    line(|out, time| push_trade(out, time, t))
}

/// One `equity.csv` line (without the newline).
pub fn equity_line(e: &EquityRow) -> String {
    line(|out, time| {
        time.push(out, e.time);
        push_equity_cells(out, e);
    })
}

/// Writes `signals.csv`, `trades.csv` and `equity.csv` into a directory,
/// streaming (buffered writers, nothing held).
pub struct CsvDir {
    signals: BufWriter<File>,
    trades: BufWriter<File>,
    equity: BufWriter<File>,
    error: Option<io::Error>,
    pub dir: PathBuf,
    /// The numbers of the last equity row and their text: while flat, rows
    /// repeat and are not formatted again.
    last_equity: Option<[u64; 4]>,
    equity_tail: Vec<u8>,
    /// The line being written, and the time formatter (it keeps the date).
    line: Vec<u8>,
    time: TimeText,
}

impl CsvDir {
    /// Creates the directory (if needed) and the three files with headers.
    ///
    /// # Errors
    /// When the directory or a file cannot be created.
    pub fn create(dir: &Path) -> io::Result<CsvDir> {
        std::fs::create_dir_all(dir)?;
        let open = |name: &str, header: &str| -> io::Result<BufWriter<File>> {
            let mut w = BufWriter::with_capacity(1 << 16, File::create(dir.join(name))?);
            writeln!(w, "{header}")?;
            Ok(w)
        };
        Ok(CsvDir {
            signals: open("signals.csv", SIGNALS_HEADER)?,
            trades: open("trades.csv", TRADES_HEADER)?,
            equity: open("equity.csv", EQUITY_HEADER)?,
            error: None,
            dir: dir.to_path_buf(),
            last_equity: None,
            equity_tail: Vec::with_capacity(96),
            line: Vec::with_capacity(256),
            time: TimeText::new(),
        })
    }

    fn keep(&mut self, r: io::Result<()>) {
        if let Err(e) = r
            && self.error.is_none()
        {
            self.error = Some(e);
        }
    }

    /// Flushes the files; reports the first write error of the run.
    ///
    /// # Errors
    /// The first I/O error met while writing.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.signals.flush()?;
        self.trades.flush()?;
        self.equity.flush()
    }
}

impl Sink for CsvDir {
    fn signal(&mut self, s: &Signal) {
        self.line.clear();
        push_signal(&mut self.line, &mut self.time, s);
        self.line.push(b'\n');
        let r = self.signals.write_all(&self.line);
        self.keep(r);
    }
    fn trade(&mut self, t: &TradeRow) {
        self.line.clear();
        push_trade(&mut self.line, &mut self.time, t);
        self.line.push(b'\n');
        let r = self.trades.write_all(&self.line);
        self.keep(r);
    }
    fn equity(&mut self, e: &EquityRow) {
        // Same bytes as `equity_line`, without allocating per row.
        let key = [e.equity, e.cash, e.exposure, e.drawdown].map(f64::to_bits);
        if self.last_equity != Some(key) {
            self.equity_tail.clear();
            push_equity_cells(&mut self.equity_tail, e);
            self.equity_tail.push(b'\n');
            self.last_equity = Some(key);
        }
        self.line.clear();
        self.time.push(&mut self.line, e.time);
        self.line.extend_from_slice(&self.equity_tail);
        let r = self.equity.write_all(&self.line);
        self.keep(r);
    }
}

/// How [`SignalStream`] writes signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamFormat {
    /// `signals.csv` lines with a header.
    Csv,
    /// An aligned table for a terminal.
    Table,
    /// One JSON object per line (`na` is `null`).
    Json,
}

/// One signal as a JSON object (`na` prices are `null`).
pub fn signal_json(s: &Signal) -> serde_json::Value {
    let finite = |v: f64| v.is_finite().then_some(v);
    serde_json::json!({
        "time": s.time.to_string(),
        "rule": s.rule,
        "symbol": s.symbol,
        "action": s.action,
        "quantity": s.quantity,
        "price": finite(s.price),
        "fill_time": s.fill_time.map(|t| t.to_string()),
        "fill_price": s.fill_price.and_then(finite),
        "reason": s.reason,
    })
}

/// Signals only, to a writer: CSV (for pipes), an aligned table (for a
/// terminal) or JSON lines. Trades and equity are dropped.
pub struct SignalStream<W: Write> {
    out: W,
    format: StreamFormat,
    rows: u64,
    error: Option<io::Error>,
}

impl<W: Write> SignalStream<W> {
    /// A stream writing signals to `out` in `format`.
    pub fn new(out: W, format: StreamFormat) -> SignalStream<W> {
        SignalStream {
            out,
            format,
            rows: 0,
            error: None,
        }
    }

    /// Signals written.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and returns the first write error, if any.
    ///
    /// # Errors
    /// The first I/O error met while writing.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.rows == 0 {
            match self.format {
                StreamFormat::Table => writeln!(self.out, "no signals")?,
                StreamFormat::Csv => writeln!(self.out, "{SIGNALS_HEADER}")?,
                StreamFormat::Json => {}
            }
        }
        self.out.flush()
    }
}

impl<W: Write> Sink for SignalStream<W> {
    fn signal(&mut self, s: &Signal) {
        let r = if self.format == StreamFormat::Json {
            writeln!(self.out, "{}", signal_json(s))
        } else if self.format == StreamFormat::Table {
            let head = if self.rows == 0 {
                format!(
                    "{:<20}  {:<14}  {:<8}  {:<6}  {:>10}  {:>12}  {:>12}  reason\n",
                    "time", "rule", "symbol", "action", "quantity", "price", "fill"
                )
            } else {
                String::new()
            };
            writeln!(
                self.out,
                "{head}{:<20}  {:<14}  {:<8}  {:<6}  {:>10}  {:>12}  {:>12}  {}",
                s.time.to_string(),
                s.rule,
                s.symbol,
                s.action,
                num(s.quantity),
                num(s.price),
                s.fill_price.map(num).unwrap_or_else(|| "-".into()),
                s.reason
            )
        } else {
            let head = if self.rows == 0 {
                format!("{SIGNALS_HEADER}\n")
            } else {
                String::new()
            };
            writeln!(self.out, "{head}{}", signal_line(s))
        };
        self.rows += 1;
        if let Err(e) = r
            && self.error.is_none()
        {
            self.error = Some(e);
        }
    }
    fn trade(&mut self, _: &TradeRow) {}
    fn equity(&mut self, _: &EquityRow) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_equity_file_matches_equity_line() {
        let dir = std::env::temp_dir().join(format!("playbook-sinks-{}", std::process::id()));
        let rows: Vec<EquityRow> = [
            (1.0e6, 1.0e6, 0.0, 0.0),
            (1.0e6, 1.0e6, 0.0, 0.0),
            (1_000_123.5, 990_000.25, 0.37, 0.0012),
            (f64::NAN, 1.0, -0.0, 1e-9),
        ]
        .iter()
        .enumerate()
        .map(|(i, &(equity, cash, exposure, drawdown))| EquityRow {
            time: jiff::Timestamp::from_second(1_722_816_000 + 3600 * i as i64).unwrap(),
            equity,
            cash,
            exposure,
            drawdown,
        })
        .collect();
        let mut sink = CsvDir::create(&dir).unwrap();
        for r in &rows {
            sink.equity(r);
        }
        sink.finish().unwrap();
        let written = std::fs::read_to_string(dir.join("equity.csv")).unwrap();
        let mut expected = format!("{EQUITY_HEADER}\n");
        for r in &rows {
            expected.push_str(&equity_line(r));
            expected.push('\n');
        }
        assert_eq!(written, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn cells_are_deterministic() {
        assert_eq!(num(f64::NAN), "");
        assert_eq!(num(653.0), "653");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("\"\""), "\"\"\"\"\"\"");
        assert_eq!(field("a\nb"), "\"a\nb\"");
    }
}
