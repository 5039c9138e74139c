//! The bar reader's input: a chunked byte buffer split into records by hand
//! when a line is simple, and by the `csv` crate otherwise.
//!
//! A line is *simple* when it holds no quote and no carriage return other
//! than one just before its `\n`; such a line is one CSV record whose fields
//! are the bytes between delimiters, exactly as `csv` would read them. Any
//! other line (and the header) is read by a `csv::Reader` started at the
//! line's first byte over the same buffer (an *episode*), which is then kept
//! for the following lines that need it. Line numbers follow `csv`'s
//! convention: a record's line is one more than the number of `\n` bytes
//! `csv` had consumed when it started reading the record (blank and comment
//! lines before a record do not count; a CRLF record's `\n` is consumed with
//! the next record).
//!
//! The bar reader may also read the next line itself, straight from the
//! buffer ([`Input::peek`], [`Input::consume_line`]), when it checks every
//! byte of it and finds a simple line of the fields it expects (see
//! `BarReader::read_fused`); it then consumes it as [`Input::next`] would.

use std::io::{self, BufReader, Read};
use std::sync::Arc;

use csv::{ByteRecord, Position};

/// At most this many delimiters in a line read by hand (more: `csv` reads it).
const MAX_DELIMS: usize = 32;
/// The initial size of the chunk buffer.
const CHUNK: usize = 1 << 17;

/// What [`Input::next`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// A simple line: see [`Input::fields`] (its line number is given).
    Line(u64),
    /// A record read by `csv`, in the caller's `ByteRecord` (with its line
    /// set as its position).
    Record,
    /// The end of the input.
    Eof,
}

/// The fields of the simple line last returned by [`Input::next`].
pub(crate) struct LineFields<'a> {
    /// The line, then the rest of the buffer.
    tail: &'a [u8],
    /// The end of each field within the line (the last is the line's length).
    ends: &'a [usize],
    /// The record's line number.
    pub lineno: u64,
}

impl<'a> LineFields<'a> {
    /// Field `i`, or `None` past the last.
    #[inline(always)]
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        self.tail.get(start..end)
    }

    /// Field `i` with its first eight bytes as a little-endian word (the
    /// bytes after the field included) when the buffer holds them.
    #[inline(always)]
    pub fn get_word(&self, i: usize) -> Option<(&'a [u8], Option<u64>)> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
        let field = self.tail.get(start..end)?;
        let word = self
            .tail
            .get(start..start + 8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]));
        Some((field, word))
    }

    /// The line as a `ByteRecord` (what `csv` would have read), positioned
    /// at its line number.
    pub fn to_record(&self, rec: &mut ByteRecord) {
        rec.clear();
        for i in 0..self.ends.len() {
            rec.push_field(self.get(i).unwrap_or(b""));
        }
        let mut pos = Position::new();
        pos.set_line(self.lineno);
        rec.set_position(Some(pos));
    }
}

/// What a `csv` episode reads: the shared buffer from an offset, after an
/// optional `\n` (so that `csv` does not take a byte-order mark there for the
/// start of the file).
struct Window {
    buf: Arc<Vec<u8>>,
    prefix: bool,
    at: usize,
    end: usize,
}

impl Read for Window {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        if self.prefix {
            self.prefix = false;
            out[0] = b'\n';
            return Ok(1);
        }
        let n = out.len().min(self.end - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// A `csv` reader started at buffer offset `start`.
struct Episode {
    rdr: csv::Reader<Window>,
    start: usize,
    prefix: u64,
    /// `\n` bytes before `start` in the whole input.
    nl_start: u64,
}

/// The bar reader's input (see the module documentation).
pub(crate) struct Input {
    inner: BufReader<Box<dyn Read + Send>>,
    buf: Arc<Vec<u8>>,
    /// Next unread byte of `buf`.
    pos: usize,
    /// End of the valid bytes of `buf`.
    end: usize,
    eof: bool,
    /// Input offset of `buf[0]`.
    base: u64,
    /// `\n` bytes before `pos` in the whole input.
    nl: u64,
    /// The line number of the next record.
    pending: u64,
    delimiter: u8,
    episode: Option<Episode>,
    /// Whether simple lines are read by hand (off: everything by `csv`).
    fast: bool,
    /// The first record is always read by `csv` (it strips a byte-order mark).
    first: bool,
    /// Records read by `csv` in a row, and how many more to read by `csv`
    /// without looking at the lines first (files that quote every line).
    csv_run: u32,
    sticky: u32,
    /// The last simple line: its bounds in `buf` and its field ends.
    line_at: (usize, usize),
    nends: usize,
    ends: [usize; MAX_DELIMS + 1],
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

impl Input {
    /// An input reading `inner`, whose fields are separated by `delimiter`.
    pub fn new(inner: BufReader<Box<dyn Read + Send>>, delimiter: u8) -> Input {
        Input {
            inner,
            buf: Arc::new(vec![0; CHUNK]),
            pos: 0,
            end: 0,
            eof: false,
            base: 0,
            nl: 0,
            pending: 1,
            delimiter,
            episode: None,
            fast: true,
            first: true,
            csv_run: 0,
            sticky: 0,
            line_at: (0, 0),
            nends: 0,
            ends: [0; MAX_DELIMS + 1],
        }
    }

    /// Whether to read simple lines by hand (off: everything with `csv`,
    /// to compare both in tests).
    pub fn set_fast(&mut self, fast: bool) {
        self.fast = fast;
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// The fields of the simple line last returned.
    #[inline(always)]
    pub fn fields(&self, lineno: u64) -> LineFields<'_> {
        LineFields {
            tail: &self.buf[self.line_at.0..],
            ends: &self.ends[..self.nends],
            lineno,
        }
    }

    /// For a caller that reads a simple line itself: the unread bytes from
    /// the next line on, as (the buffer from there to its end, how many of
    /// those bytes are input; bytes past them are stale), when the next
    /// record is to be read by hand (see [`Self::consume_line`]).
    #[inline(always)]
    pub fn peek(&self) -> Option<(&[u8], usize)> {
        if self.first || !self.fast || self.sticky > 0 {
            return None;
        }
        Some((&self.buf[self.pos..], self.end - self.pos))
    }

    /// Consume the simple line [`Self::peek`] showed, whose `\n` is at `nl`
    /// (from the line's start; `crlf`: a `\r` before it), as
    /// [`Self::next`] would have: its line number.
    #[inline(always)]
    pub fn consume_line(&mut self, nl: usize, crlf: bool) -> u64 {
        let line = self.pending;
        self.pending = self.nl + 1 + u64::from(!crlf);
        self.nl += 1;
        self.pos += nl + 1;
        if self.episode.is_some() {
            self.episode = None;
            self.csv_run = 0;
        }
        line
    }

    /// Move the unread bytes to the front and read more; `false` at the end
    /// of the input.
    fn refill(&mut self) -> io::Result<bool> {
        self.episode = None;
        let buf = Arc::make_mut(&mut self.buf);
        if self.pos > 0 {
            buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        loop {
            match self.inner.read(&mut buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next record.
    ///
    /// # Errors
    /// A read error of the underlying input.
    #[inline(always)]
    pub fn next(&mut self, rec: &mut ByteRecord) -> io::Result<Next> {
        loop {
            if self.first || !self.fast || self.sticky > 0 {
                if let Some(next) = self.by_csv(rec)? {
                    self.first = false;
                    self.sticky = self.sticky.saturating_sub(1);
                    return Ok(next);
                }
                continue;
            }
            let (nl_at, simple) = self.scan();
            let Some(nl_at) = nl_at else {
                if !self.eof {
                    self.refill()?;
                    continue;
                }
                if self.pos == self.end {
                    return Ok(Next::Eof);
                }
                // The last line, without a line end.
                if !simple {
                    if let Some(next) = self.by_csv(rec)? {
                        return Ok(next);
                    }
                    continue;
                }
                let start = self.pos;
                let mut end = self.end;
                if self.buf[end - 1] == b'\r' {
                    end -= 1;
                }
                self.pos = self.end;
                if end == start || self.buf[start] == b'#' {
                    return Ok(Next::Eof);
                }
                self.ends[self.nends - 1] = end - start;
                self.line_at = (start, end);
                if self.episode.is_some() {
                    self.episode = None;
                }
                return Ok(Next::Line(self.pending));
            };
            let start = self.pos;
            let crlf = nl_at > start && self.buf[nl_at - 1] == b'\r';
            let end = nl_at - usize::from(crlf);
            if end == start || self.buf[start] == b'#' {
                // A blank or comment line: no record.
                self.pos = nl_at + 1;
                self.nl += 1;
                continue;
            }
            if !simple {
                if let Some(next) = self.by_csv(rec)? {
                    return Ok(next);
                }
                continue;
            }
            self.ends[self.nends - 1] = end - start;
            self.line_at = (start, end);
            let line = self.pending;
            // csv consumes a record's `\n` with the record, a CRLF record's
            // `\n` with the next one.
            self.pending = self.nl + 1 + u64::from(!crlf);
            self.nl += 1;
            self.pos = nl_at + 1;
            if self.episode.is_some() {
                self.episode = None;
                self.csv_run = 0;
            }
            return Ok(Next::Line(line));
        }
    }

    /// Find the end of the line at `pos` and its delimiters: the index of
    /// its `\n` (`None`: not in the buffer) and whether the line is simple.
    #[inline(always)]
    fn scan(&mut self) -> (Option<usize>, bool) {
        let b = &self.buf[self.pos..self.end];
        let delimiter = self.delimiter;
        let d = LO * u64::from(delimiter);
        let mut marks = LineMarks {
            ends: &mut self.ends,
            nends: 0,
            simple: true,
            cr: usize::MAX,
        };
        let mut i = 0;
        let mut nl = None;
        'outer: {
            while let Some(chunk) = b.get(i..i + 8) {
                let w = u64::from_le_bytes([
                    chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
                ]);
                // Flags every byte below `#` (so `\n`, `\r` and `"`) and every
                // delimiter; a borrow may flag a byte above a flagged one too,
                // so each flagged byte is looked at.
                let x = w ^ d;
                let mut m = ((w.wrapping_sub(LO * 0x23) & !w) | (x.wrapping_sub(LO) & !x)) & HI;
                while m != 0 {
                    let k = i + (m.trailing_zeros() / 8) as usize;
                    m &= m - 1;
                    if marks.see(b[k], k, delimiter) {
                        nl = Some(k);
                        break 'outer;
                    }
                }
                i += 8;
            }
            while i < b.len() {
                if marks.see(b[i], i, delimiter) {
                    nl = Some(i);
                    break 'outer;
                }
                i += 1;
            }
        }
        let LineMarks {
            nends,
            mut simple,
            cr,
            ..
        } = marks;
        let line_end = nl.unwrap_or(b.len());
        if cr != usize::MAX && cr + 1 != line_end {
            simple = false;
        }
        self.nends = nends + 1;
        (nl.map(|k| self.pos + k), simple)
    }

    /// Read one record with `csv` from `pos` (continuing the current
    /// episode, if any); `None` when the buffer had to be refilled first.
    #[cold]
    #[inline(never)]
    fn by_csv(&mut self, rec: &mut ByteRecord) -> io::Result<Option<Next>> {
        if self.episode.is_none() {
            let prefix = self.base + self.pos as u64 > 0;
            let rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(self.delimiter)
                .comment(Some(b'#'))
                .buffer_capacity(1 << 12)
                .from_reader(Window {
                    buf: Arc::clone(&self.buf),
                    prefix,
                    at: self.pos,
                    end: self.end,
                });
            self.episode = Some(Episode {
                rdr,
                start: self.pos,
                prefix: u64::from(prefix),
                nl_start: self.nl,
            });
        }
        let Some(ep) = self.episode.as_mut() else {
            return Ok(None);
        };
        let before = ep.rdr.position().clone();
        let got = match ep.rdr.read_byte_record(rec) {
            Ok(got) => got,
            Err(e) => {
                return Err(match e.into_kind() {
                    csv::ErrorKind::Io(e) => e,
                    other => io::Error::other(format!("{other:?}")),
                });
            }
        };
        let after = ep.rdr.position();
        let used = ep.start + after.byte().saturating_sub(ep.prefix) as usize;
        if (!got || used >= self.end) && !self.eof {
            // The record may go on past the buffer: read it again with more.
            self.pos = ep.start + before.byte().saturating_sub(ep.prefix) as usize;
            self.nl = ep.nl_start + (before.line() - 1).saturating_sub(ep.prefix);
            self.refill()?;
            return Ok(None);
        }
        let nl = ep.nl_start + (after.line() - 1).saturating_sub(ep.prefix);
        self.pos = used;
        self.nl = nl;
        if !got {
            self.episode = None;
            return Ok(Some(Next::Eof));
        }
        let line = self.pending;
        self.pending = nl + 1;
        // Many quoted lines in a row: read the next ones by `csv` straight
        // away (it reads simple lines the same way).
        self.csv_run += 1;
        if self.csv_run >= 8 {
            self.csv_run = 0;
            self.sticky = 256;
        }
        let mut p = Position::new();
        p.set_line(line);
        rec.set_position(Some(p));
        Ok(Some(Next::Record))
    }
}

/// What [`Input::scan`] has seen of a line so far: the delimiter
/// positions, whether the line is simple, the last `\r`.
struct LineMarks<'e> {
    ends: &'e mut [usize; MAX_DELIMS + 1],
    nends: usize,
    simple: bool,
    cr: usize,
}

impl LineMarks<'_> {
    /// Notes the byte `c` at `k`; true when it is the line's `\n`.
    #[inline(always)]
    fn see(&mut self, c: u8, k: usize, delimiter: u8) -> bool {
        match c {
            b'\n' => return true,
            c if c == delimiter => {
                if self.nends < MAX_DELIMS {
                    self.ends[self.nends] = k;
                    self.nends += 1;
                } else {
                    self.simple = false;
                }
            }
            b'\r' => {
                if self.cr != usize::MAX {
                    self.simple = false;
                }
                self.cr = k;
            }
            b'"' => self.simple = false,
            _ => {}
        }
        false
    }
}
