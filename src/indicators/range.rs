//! Bar-range kernels: average true range (TA-Lib `ATR`) and the opening gap.

use super::{check_period, clean};

/// Average true range of period `n` (TA-Lib `ATR`, Wilder): the true range
/// of a bar is `max(high, prev close) - min(low, prev close)`, so the first
/// bar only provides a close; the first output is the mean of the first `n`
/// true ranges (lookback `n`), then `atr = (atr * (n - 1) + tr) / n`.
///
/// A bar whose high, low or close is `na` gives NaN and is skipped: the next
/// true range uses the last usable close.
#[derive(Clone, Debug)]
pub struct Atr {
    n: usize,
    prev_close: f64,
    ranges: usize,
    atr: f64,
    out: f64,
}

impl Atr {
    /// An ATR of period `n >= 1`.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(n: usize) -> Self {
        check_period("atr", n, 1);
        Atr {
            n,
            prev_close: f64::NAN,
            ranges: 0,
            atr: 0.0,
            out: f64::NAN,
        }
    }

    /// Feeds one bar; returns the ATR, NaN while warming up or when the bar
    /// has an `na` field.
    #[inline]
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> f64 {
        let (high, low, close) = (clean(high), clean(low), clean(close));
        self.out = f64::NAN;
        if high.is_nan() || low.is_nan() || close.is_nan() {
            return self.out;
        }
        let pc = self.prev_close;
        self.prev_close = close;
        if pc.is_nan() {
            return self.out;
        }
        // TA-Lib's TRANGE, operation for operation.
        let mut tr = high - low;
        let up = (pc - high).abs();
        if up > tr {
            tr = up;
        }
        let down = (pc - low).abs();
        if down > tr {
            tr = down;
        }
        let n = self.n as f64;
        if self.ranges < self.n {
            self.atr += tr;
            self.ranges += 1;
            if self.ranges < self.n {
                return self.out;
            }
            self.atr /= n;
        } else {
            self.atr *= n - 1.0;
            self.atr += tr;
            self.atr /= n;
        }
        self.out = self.atr;
        self.out
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.out
    }

    /// `n`.
    pub fn lookback(&self) -> usize {
        self.n
    }
}

/// Opening gap: `open / previous close - 1`; lookback 1. NaN when either is
/// `na` or the previous close is 0.
#[derive(Clone, Debug)]
pub struct Gap {
    prev_close: f64,
    out: f64,
}

impl Default for Gap {
    fn default() -> Self {
        Self::new()
    }
}

impl Gap {
    /// A gap kernel with no previous bar yet.
    pub fn new() -> Self {
        Gap {
            prev_close: f64::NAN,
            out: f64::NAN,
        }
    }

    /// Feeds one bar's open and close; returns this bar's gap against the
    /// previous bar's close.
    #[inline]
    pub fn update(&mut self, open: f64, close: f64) -> f64 {
        let pc = self.prev_close;
        self.out = if pc == 0.0 {
            f64::NAN
        } else {
            clean(clean(open) / pc - 1.0)
        };
        self.prev_close = clean(close);
        self.out
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.out
    }

    /// 1.
    pub fn lookback(&self) -> usize {
        1
    }
}
