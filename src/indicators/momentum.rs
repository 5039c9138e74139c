//! Relative strength index with Wilder smoothing (TA-Lib `RSI`).

use super::{check_period, clean, single_input};

/// TA-Lib's "is zero" test (`TA_IS_ZERO`): |v| < 1e-8.
#[inline]
fn talib_is_zero(v: f64) -> bool {
    -0.000_000_01 < v && v < 0.000_000_01
}

/// RSI of period `n` (TA-Lib `RSI`): the average gain and loss are seeded
/// with the plain mean of the first `n` differences, then smoothed as
/// `avg = (avg * (n - 1) + new) / n`; `rsi = 100 * gain / (gain + loss)`, and
/// 0 when `gain + loss` is below 1e-8 (as TA-Lib). Lookback `n`. An `na`
/// input gives NaN and is skipped (the next difference is taken against the
/// last usable input).
#[derive(Clone, Debug)]
pub struct Rsi {
    n: usize,
    prev: f64,
    /// Differences accumulated so far (saturates at `n`).
    diffs: usize,
    gain: f64,
    loss: f64,
    out: f64,
}

impl Rsi {
    /// An RSI of period `n >= 1`.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(n: usize) -> Self {
        check_period("rsi", n, 1);
        Rsi {
            n,
            prev: f64::NAN,
            diffs: 0,
            gain: 0.0,
            loss: 0.0,
            out: f64::NAN,
        }
    }

    /// Feeds `x`; returns the RSI in `[0, 100]`, NaN while warming up or
    /// when `x` is `na`.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        let x = clean(x);
        self.out = f64::NAN;
        if x.is_nan() {
            return self.out;
        }
        if self.prev.is_nan() {
            self.prev = x;
            return self.out;
        }
        let d = x - self.prev;
        self.prev = x;
        let n = self.n as f64;
        if self.diffs < self.n {
            if d < 0.0 {
                self.loss -= d;
            } else {
                self.gain += d;
            }
            self.diffs += 1;
            if self.diffs < self.n {
                return self.out;
            }
            self.loss /= n;
            self.gain /= n;
        } else {
            self.loss *= n - 1.0;
            self.gain *= n - 1.0;
            if d < 0.0 {
                self.loss -= d;
            } else {
                self.gain += d;
            }
            self.loss /= n;
            self.gain /= n;
        }
        let total = self.gain + self.loss;
        self.out = if talib_is_zero(total) {
            0.0
        } else {
            100.0 * (self.gain / total)
        };
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

single_input!(Rsi);
