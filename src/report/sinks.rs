//! Sinks: where a run's rows go. The engine does not format; these do.
//!
//! Formats are fixed for byte-for-byte reproducibility: times are RFC 3339
//! UTC (`2024-08-05T01:00:00Z`), numbers are rounded to 12 significant
//! digits in plain decimal ([`text::push_num`]), `na` is an empty cell.

use super::text::{self, TimeText};
use crate::engine::run::{EquityRow, Signal, Sink, TradeRow};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// A number for a CSV cell ([`text::push_num`]), empty for `na`.
pub fn num(v: f64) -> String {
    let mut out = Vec::new();
    push_cell(&mut out, v);
    String::from_utf8(out).expect("numbers are ASCII")
}

/// Appends a number cell ([`num`]'s format): empty for `na`, else
/// [`text::push_num`].
fn push_cell(out: &mut Vec<u8>, v: f64) {
    if !v.is_nan() {
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

/// `equity.csv` rows, formatted and written: a cell whose number did not
/// change since the previous row reuses its text (cash while a position is
/// held; every cell while flat). Lines are formatted straight into the
/// output buffer.
struct EquityFile {
    file: Pipe<Vec<u8>>,
    buf: Vec<u8>,
    time: TimeText,
    cells: [Cell; 4],
}

/// One `equity.csv` cell of the previous row: the number's bits and where
/// its text (with the leading comma) is in the output buffer, so that an
/// unchanged number is copied from there instead of formatted again.
#[derive(Default)]
struct Cell {
    bits: Option<u64>,
    /// `start..end` in the buffer; `None` once the buffer was handed over.
    at: Option<(usize, usize)>,
}

impl Cell {
    /// Appends `v`'s cell to `out`, formatting it only if it changed.
    #[inline]
    fn push(&mut self, out: &mut Vec<u8>, v: f64) {
        let start = out.len();
        match self.at {
            Some((from, to)) if self.bits == Some(v.to_bits()) => {
                out.extend_from_within(from..to);
            }
            _ => {
                self.bits = Some(v.to_bits());
                out.push(b',');
                push_cell(out, v);
            }
        }
        self.at = Some((start, out.len()));
    }
}

/// Bytes gathered before they are handed over to be written to the equity
/// file (few hand-overs: each can wake the file's thread).
const EQUITY_BUFFER: usize = 1 << 18;

impl EquityFile {
    fn new(file: File) -> io::Result<EquityFile> {
        let mut buf = Vec::with_capacity(EQUITY_BUFFER + 1024);
        buf.extend_from_slice(EQUITY_HEADER.as_bytes());
        buf.push(b'\n');
        Ok(EquityFile {
            file: Pipe::spawn("write file", 4, file)?,
            buf,
            time: TimeText::new(),
            cells: Default::default(),
        })
    }

    fn write(&mut self, e: &EquityRow) -> io::Result<()> {
        self.time.push(&mut self.buf, e.time);
        for (v, cell) in [e.equity, e.cash, e.exposure, e.drawdown]
            .into_iter()
            .zip(&mut self.cells)
        {
            cell.push(&mut self.buf, v);
        }
        self.buf.push(b'\n');
        if self.buf.len() >= EQUITY_BUFFER {
            self.hand_over();
            for cell in &mut self.cells {
                cell.at = None;
            }
        }
        Ok(())
    }

    /// Writes the last rows and waits for them (and every earlier write)
    /// to be done; the first write error.
    fn close(&mut self) -> io::Result<()> {
        self.hand_over();
        self.file.close()
    }

    fn hand_over(&mut self) {
        if !self.buf.is_empty() {
            self.file
                .send(&mut self.buf, || Vec::with_capacity(EQUITY_BUFFER + 1024));
        }
    }
}

/// What a [`Pipe`]'s thread does with each buffer handed over (and at the
/// end).
trait Consumer<B>: Send + 'static {
    /// Uses `buf` and leaves it empty for reuse.
    fn consume(&mut self, buf: &mut B) -> io::Result<()>;
    /// After the last buffer.
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A thread of its own fed full buffers through a bounded channel, which
/// hands them back emptied for reuse. Its first error ends it and is
/// reported by [`Pipe::close`] (a buffer handed over after that is
/// dropped); a panic there is raised again here.
struct Pipe<B: Send + 'static> {
    tx: Option<SyncSender<B>>,
    /// Emptied buffers coming back.
    back: Receiver<B>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl<B: Send + 'static> Pipe<B> {
    /// Starts the thread `name`; at most `depth` full buffers wait for it.
    fn spawn(name: &str, depth: usize, mut consumer: impl Consumer<B>) -> io::Result<Pipe<B>> {
        let (tx, rx) = sync_channel::<B>(depth);
        let (back_tx, back) = sync_channel::<B>(depth + 2);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                for mut buf in rx {
                    consumer.consume(&mut buf)?;
                    let _ = back_tx.try_send(buf);
                }
                consumer.finish()
            })?;
        Ok(Pipe {
            tx: Some(tx),
            back,
            thread: Some(thread),
        })
    }

    /// Replaces `buf` by an emptied one (or `fresh()`) and hands it over.
    fn send(&mut self, buf: &mut B, fresh: impl FnOnce() -> B) {
        let next = self.back.try_recv().unwrap_or_else(|_| fresh());
        let full = std::mem::replace(buf, next);
        if let Some(tx) = &self.tx
            && tx.send(full).is_err()
        {
            // The thread stopped on an error; `close` reports it.
            self.tx = None;
        }
    }

    /// Waits until everything handed over is used; the first error.
    fn close(&mut self) -> io::Result<()> {
        self.tx = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(()),
        }
    }
}

impl<B: Send + 'static> Drop for Pipe<B> {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A file written on a thread of its own from filled buffers: the system
/// calls and the kernel's copy into the page cache leave the thread that
/// formats, and need little of the processor the reading threads leave
/// free.
impl Consumer<Vec<u8>> for File {
    fn consume(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        self.write_all(buf)?;
        buf.clear();
        Ok(())
    }
}

/// Equity rows per batch handed to the writing thread (a batch is also sent
/// once it holds [`ROWS_BATCH`] signals and trades).
const EQUITY_BATCH: usize = 1024;
/// Signals and trades per batch.
const ROWS_BATCH: usize = 256;

/// Rows on their way to the writing thread.
#[derive(Default)]
struct Batch {
    signals: Vec<Signal>,
    trades: Vec<TradeRow>,
    equity: Vec<EquityRow>,
}

impl Batch {
    fn with_capacity() -> Batch {
        Batch {
            signals: Vec::new(),
            trades: Vec::new(),
            equity: Vec::with_capacity(EQUITY_BATCH),
        }
    }

    fn is_full(&self) -> bool {
        self.equity.len() >= EQUITY_BATCH || self.signals.len() + self.trades.len() >= ROWS_BATCH
    }

    fn is_empty(&self) -> bool {
        self.equity.is_empty() && self.signals.is_empty() && self.trades.is_empty()
    }

    fn clear(&mut self) {
        self.signals.clear();
        self.trades.clear();
        self.equity.clear();
    }
}

/// The three CSV files, formatted and written on the writing thread.
struct Files {
    signals: BufWriter<File>,
    trades: BufWriter<File>,
    equity: EquityFile,
    /// The line being written, and the time formatter (it keeps the date).
    line: Vec<u8>,
    time: TimeText,
}

impl Files {
    fn write(&mut self, batch: &Batch) -> io::Result<()> {
        for s in &batch.signals {
            self.signal(s)?;
        }
        for t in &batch.trades {
            self.trade(t)?;
        }
        for row in &batch.equity {
            self.equity.write(row)?;
        }
        Ok(())
    }

    fn signal(&mut self, s: &Signal) -> io::Result<()> {
        self.line.clear();
        push_signal(&mut self.line, &mut self.time, s);
        self.line.push(b'\n');
        self.signals.write_all(&self.line)
    }

    fn trade(&mut self, t: &TradeRow) -> io::Result<()> {
        self.line.clear();
        push_trade(&mut self.line, &mut self.time, t);
        self.line.push(b'\n');
        self.trades.write_all(&self.line)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.signals.flush()?;
        self.trades.flush()?;
        self.equity.close()
    }
}

/// The CSV files on their own thread ([`Writing::Thread`]): a run produces
/// an equity row at most ticks and a signal's reason is long text, and with
/// a processor to spare formatting them overlaps the evaluation. Rows travel
/// in batches through a channel of depth 8 (memory stays bounded); each
/// file gets exactly its rows in order.
struct WriterThread {
    batch: Batch,
    pipe: Pipe<Batch>,
}

impl Consumer<Batch> for Files {
    fn consume(&mut self, batch: &mut Batch) -> io::Result<()> {
        self.write(batch)?;
        batch.clear();
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }
}

impl WriterThread {
    fn spawn(files: Files) -> io::Result<WriterThread> {
        Ok(WriterThread {
            batch: Batch::with_capacity(),
            pipe: Pipe::spawn("write outputs", 8, files)?,
        })
    }

    fn send_if_full(&mut self) {
        if self.batch.is_full() {
            self.pipe.send(&mut self.batch, Batch::with_capacity);
        }
    }

    /// Sends the last rows, waits for the thread and returns its first
    /// write error.
    fn finish(mut self) -> io::Result<()> {
        if !self.batch.is_empty() {
            self.pipe.send(&mut self.batch, Batch::default);
        }
        self.pipe.close()
    }
}

/// Where the CSV rows of a run are formatted and written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writing {
    /// On the run's own thread, as each row comes.
    Inline,
    /// On a thread of their own, fed rows in batches (see [`WriterThread`]).
    Thread,
}

impl Writing {
    /// A thread of its own with more than two processors. On two, the
    /// reading threads and the run already keep both busy, and a third busy
    /// thread costs more in waiting and switching than it takes off the run:
    /// run (a) of `benches/run.rs` took 5% longer with it (farm-bench A/B
    /// pairs on a 2-core machine).
    pub fn for_this_machine() -> Writing {
        match std::thread::available_parallelism() {
            Ok(n) if n.get() > 2 => Writing::Thread,
            _ => Writing::Inline,
        }
    }
}

/// The CSV files, written inline or by their thread.
enum Writer {
    Inline {
        files: Box<Files>,
        /// The first write error; later rows are dropped, and
        /// [`Writer::finish`] reports it.
        error: Option<io::Error>,
    },
    Thread(WriterThread),
}

impl Writer {
    /// A row: written now (inline, unless an earlier write failed), or
    /// queued in the batch that `queue` picks (thread).
    #[inline]
    fn row<R: Clone>(
        &mut self,
        row: &R,
        write: impl FnOnce(&mut Files, &R) -> io::Result<()>,
        queue: impl FnOnce(&mut Batch) -> &mut Vec<R>,
    ) {
        match self {
            Writer::Inline { files, error } => {
                if error.is_none() {
                    *error = write(files, row).err();
                }
            }
            Writer::Thread(w) => {
                queue(&mut w.batch).push(row.clone());
                w.send_if_full();
            }
        }
    }

    fn signal(&mut self, s: &Signal) {
        self.row(s, Files::signal, |b| &mut b.signals);
    }

    fn trade(&mut self, t: &TradeRow) {
        self.row(t, Files::trade, |b| &mut b.trades);
    }

    #[inline]
    fn equity(&mut self, row: &EquityRow) {
        self.row(row, |f, r| f.equity.write(r), |b| &mut b.equity);
    }

    /// Writes what is left and returns the first write error.
    fn finish(self) -> io::Result<()> {
        match self {
            Writer::Inline { mut files, error } => match error {
                Some(e) => Err(e),
                None => files.flush(),
            },
            Writer::Thread(w) => w.finish(),
        }
    }
}

/// The output files of a run, written under temporary names beside their
/// final ones and renamed into place only when the run succeeds; if the run
/// fails (or the process stops), the outputs of an earlier run stay as they
/// were, never mixed with a half-written new one.
struct Staged {
    /// (temporary, final) paths.
    files: Vec<(PathBuf, PathBuf)>,
    committed: bool,
}

impl Staged {
    /// Creates the temporary file for `name` in `dir`.
    fn create(&mut self, dir: &Path, name: &str) -> io::Result<File> {
        let temp = dir.join(format!(".{name}.partial-{}", std::process::id()));
        let file = File::create(&temp)?;
        self.files.push((temp, dir.join(name)));
        Ok(file)
    }

    /// Renames every file into place.
    ///
    /// An earlier file is removed just before the rename rather than
    /// replaced by it: ext4 flushes a file renamed over another one to disk
    /// at once (its `auto_da_alloc` guard), which made the rename of a large
    /// `equity.csv` cost as much as writing it.
    fn commit(mut self) -> io::Result<()> {
        for (temp, path) in &self.files {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            std::fs::rename(temp, path)?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            for (temp, _) in &self.files {
                let _ = std::fs::remove_file(temp);
            }
        }
    }
}

/// Which ticks get a row in `equity.csv`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EquityRows {
    /// The first tick, every tick at which equity, cash, exposure or
    /// drawdown changed, and the last tick: the exact step function of the
    /// account (a value holds until the next row), without the identical
    /// rows of every tick spent flat.
    #[default]
    Change,
    /// One row per tick.
    Every,
}

/// Writes `signals.csv`, `trades.csv`, `equity.csv` and `summary.json` into
/// a directory, streaming (nothing held; the CSV rows are formatted and
/// written as they come or on their own thread, see [`Writing`]). The files
/// appear (replacing any earlier ones) only when [`CsvDir::commit`]
/// succeeds.
pub struct CsvDir {
    writer: Writer,
    rows: EquityRows,
    /// The last equity row sent.
    last: Option<EquityRow>,
    /// The latest tick when its row was not sent (the same values as
    /// `last`): written at the end, so that the file reaches the run's last
    /// tick.
    held: Option<jiff::Timestamp>,
    summary: File,
    pub dir: PathBuf,
    /// Declared last: dropped (temporary files removed) after the writer.
    staged: Staged,
}

impl CsvDir {
    /// Creates the directory (if needed) and the output files with headers,
    /// under temporary names.
    ///
    /// # Errors
    /// When the directory or a file cannot be created.
    pub fn create(dir: &Path, rows: EquityRows, writing: Writing) -> io::Result<CsvDir> {
        std::fs::create_dir_all(dir)?;
        let mut staged = Staged {
            files: Vec::new(),
            committed: false,
        };
        let mut open = |name: &str, header: &str| -> io::Result<BufWriter<File>> {
            let mut w = BufWriter::with_capacity(1 << 16, staged.create(dir, name)?);
            writeln!(w, "{header}")?;
            Ok(w)
        };
        let signals = open("signals.csv", SIGNALS_HEADER)?;
        let trades = open("trades.csv", TRADES_HEADER)?;
        let equity = EquityFile::new(staged.create(dir, "equity.csv")?)?;
        let summary = staged.create(dir, "summary.json")?;
        let files = Files {
            signals,
            trades,
            equity,
            line: Vec::with_capacity(256),
            time: TimeText::new(),
        };
        let writer = match writing {
            Writing::Inline => Writer::Inline {
                files: Box::new(files),
                error: None,
            },
            Writing::Thread => Writer::Thread(WriterThread::spawn(files)?),
        };
        Ok(CsvDir {
            writer,
            rows,
            last: None,
            held: None,
            summary,
            dir: dir.to_path_buf(),
            staged,
        })
    }

    /// Finishes the files, writes `summary` as `summary.json`, and moves all
    /// of them into place. On an error nothing is moved and the temporary
    /// files are removed.
    ///
    /// # Errors
    /// The first I/O error met while writing or renaming.
    pub fn commit(self, summary: &str) -> io::Result<()> {
        let CsvDir {
            mut writer,
            summary: mut summary_file,
            staged,
            held,
            last,
            ..
        } = self;
        if let (Some(time), Some(last)) = (held, last) {
            writer.equity(&EquityRow { time, ..last });
        }
        writer.finish()?;
        summary_file.write_all(summary.as_bytes())?;
        drop(summary_file);
        staged.commit()
    }
}

impl Sink for CsvDir {
    fn signal(&mut self, s: &Signal) {
        self.writer.signal(s);
    }
    fn trade(&mut self, t: &TradeRow) {
        self.writer.trade(t);
    }
    fn equity(&mut self, e: &EquityRow) {
        // Field by field: the row was just stored field by field, and
        // reading it back in wider loads stalls on store forwarding.
        let (equity, cash, exposure, drawdown) = (e.equity, e.cash, e.exposure, e.drawdown);
        if self.rows == EquityRows::Change {
            if let Some(last) = &self.last
                && last.equity.to_bits() == equity.to_bits()
                && last.cash.to_bits() == cash.to_bits()
                && last.exposure.to_bits() == exposure.to_bits()
                && last.drawdown.to_bits() == drawdown.to_bits()
            {
                self.held = Some(e.time);
                return;
            }
            self.held = None;
        }
        let row = EquityRow {
            time: e.time,
            equity,
            cash,
            exposure,
            drawdown,
        };
        self.writer.equity(&row);
        self.last = Some(row);
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
        "rule": &*s.rule,
        "symbol": &*s.symbol,
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
        .copied()
        // Past a batch and a buffer: flat stretches, changing cells, days.
        .chain((0..5000).map(|i| {
            let held = i % 700 > 300;
            let equity = if held { 1e6 + f64::from(i) * 0.37 } else { 1e6 };
            (
                equity,
                990_000.25,
                if held { 0.1 / f64::from(i) } else { 0.0 },
                1e-3,
            )
        }))
        .enumerate()
        .map(|(i, (equity, cash, exposure, drawdown))| EquityRow {
            time: jiff::Timestamp::from_second(1_722_816_000 + 3599 * i as i64).unwrap(),
            equity,
            cash,
            exposure,
            drawdown,
        })
        .collect();
        let bits = |r: &EquityRow| [r.equity, r.cash, r.exposure, r.drawdown].map(f64::to_bits);
        let modes = [EquityRows::Every, EquityRows::Change]
            .into_iter()
            .flat_map(|m| [(m, Writing::Inline), (m, Writing::Thread)]);
        for (mode, writing) in modes {
            let mut sink = CsvDir::create(&dir, mode, writing).unwrap();
            for r in &rows {
                sink.equity(r);
            }
            sink.commit("{}\n").unwrap();
            let written = std::fs::read_to_string(dir.join("equity.csv")).unwrap();
            let mut expected = format!("{EQUITY_HEADER}\n");
            for (i, r) in rows.iter().enumerate() {
                // `change`: the first and last rows, and each row that
                // differs from the tick before it.
                let kept = mode == EquityRows::Every
                    || i == 0
                    || i == rows.len() - 1
                    || bits(r) != bits(&rows[i - 1]);
                if kept {
                    expected.push_str(&equity_line(r));
                    expected.push('\n');
                }
            }
            assert_eq!(written, expected, "{mode:?} {writing:?}");
        }
        let written = std::fs::read_to_string(dir.join("equity.csv")).unwrap();
        let lines = written.lines().count() - 1;
        assert!(lines > 1000 && lines < rows.len() - 1000, "{lines} rows");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_flat_end_still_gets_its_last_row() {
        let dir = std::env::temp_dir().join(format!("playbook-sinks-end-{}", std::process::id()));
        let row = |s: i64, equity: f64| EquityRow {
            time: jiff::Timestamp::from_second(1_722_816_000 + s).unwrap(),
            equity,
            cash: equity,
            exposure: 0.0,
            drawdown: 0.0,
        };
        let mut sink = CsvDir::create(&dir, EquityRows::Change, Writing::Inline).unwrap();
        for (s, e) in [
            (0, 1e6),
            (60, 1e6),
            (120, 1e6),
            (180, 2e6),
            (240, 2e6),
            (300, 2e6),
        ] {
            sink.equity(&row(s, e));
        }
        sink.commit("{}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("equity.csv")).unwrap(),
            format!(
                "{EQUITY_HEADER}\n\
                 2024-08-05T00:00:00Z,1000000,1000000,0,0\n\
                 2024-08-05T00:03:00Z,2000000,2000000,0,0\n\
                 2024-08-05T00:05:00Z,2000000,2000000,0,0\n"
            )
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn signal_and_trade_files_match_their_lines() {
        use crate::engine::book::{ExitReason, Side, Trade};
        let dir = std::env::temp_dir().join(format!("playbook-sinks-st-{}", std::process::id()));
        let t0 = jiff::Timestamp::from_second(1_722_816_000).unwrap();
        let signals: Vec<Signal> = (0..700)
            .map(|i| Signal {
                time: t0 + jiff::SignedDuration::from_hours(i),
                rule: if i % 3 == 0 {
                    "flush, again".into()
                } else {
                    "flush".into()
                },
                symbol: "gold".into(),
                action: "buy",
                quantity: f64::from(i as i32),
                price: 2400.25 + i as f64 / 8.0,
                fill_time: (i % 5 != 0).then(|| t0 + jiff::SignedDuration::from_hours(i + 1)),
                fill_price: (i % 5 != 0).then_some(2400.5),
                reason: format!("drop = {}% exceeds \"1.5%\"", i as f64 / 7.0),
            })
            .collect();
        let trades: Vec<TradeRow> = (0..300)
            .map(|i| TradeRow {
                symbol: "gold".into(),
                rule: "flush".into(),
                trade: Trade {
                    symbol: 0,
                    side: if i % 2 == 0 { Side::Long } else { Side::Short },
                    quantity: 3.0,
                    entry_time: t0,
                    entry_price: 2400.0,
                    exit_time: t0 + jiff::SignedDuration::from_mins(i),
                    exit_price: 2400.0 + i as f64 / 3.0,
                    pnl: i as f64 * 0.1,
                    ret: i as f64 / 1e5,
                    exit_reason: ExitReason::Stop,
                    rule: 0,
                },
            })
            .collect();
        let expect = |header: &str, lines: Vec<String>| {
            let mut text = format!("{header}\n");
            for l in lines {
                text.push_str(&l);
                text.push('\n');
            }
            text
        };
        for writing in [Writing::Inline, Writing::Thread] {
            let mut sink = CsvDir::create(&dir, EquityRows::Change, writing).unwrap();
            for (i, s) in signals.iter().enumerate() {
                sink.signal(s);
                if let Some(t) = trades.get(i) {
                    sink.trade(t);
                }
            }
            sink.commit("{}\n").unwrap();
            assert_eq!(
                std::fs::read_to_string(dir.join("signals.csv")).unwrap(),
                expect(SIGNALS_HEADER, signals.iter().map(signal_line).collect()),
                "{writing:?}"
            );
            assert_eq!(
                std::fs::read_to_string(dir.join("trades.csv")).unwrap(),
                expect(TRADES_HEADER, trades.iter().map(trade_line).collect()),
                "{writing:?}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn cells_are_deterministic() {
        assert_eq!(num(f64::NAN), "");
        assert_eq!(num(653.0), "653");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(num(6373.799999999974), "6373.8");
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("\"\""), "\"\"\"\"\"\"");
        assert_eq!(field("a\nb"), "\"a\nb\"");
    }
}
