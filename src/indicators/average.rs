//! Moving averages: SMA, EMA, WMA (TA-Lib definitions).

use super::window::Window;
use super::{check_period, clean, single_input};

/// Simple moving average of the last `n` inputs (TA-Lib `SMA`); lookback `n - 1`.
#[derive(Clone, Debug)]
pub struct Sma {
    window: Window<false, false>,
    out: f64,
}

impl Sma {
    /// An SMA over `n >= 1` inputs.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(n: usize) -> Self {
        check_period("sma", n, 1);
        Sma {
            window: Window::new(n),
            out: f64::NAN,
        }
    }

    /// Feeds `x`; returns the mean of the last `n` inputs, NaN while warming
    /// up or while an `na` is in the window.
    #[inline(always)]
    pub fn update(&mut self, x: f64) -> f64 {
        self.out = if self.window.push(x) {
            self.window.shift() + self.window.sum() / self.window.n_f()
        } else {
            f64::NAN
        };
        self.out
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.out
    }

    /// `n - 1`.
    pub fn lookback(&self) -> usize {
        self.window.n() - 1
    }

    /// Slots of the ring buffer (fixed at construction).
    pub fn capacity(&self) -> usize {
        self.window.capacity()
    }
}

/// Exponential moving average (TA-Lib `EMA`): seeded with the SMA of the
/// first `n` usable inputs, then `ema += (x - ema) * k` with `k = 2/(n+1)`;
/// lookback `n - 1`. An `na` input gives NaN and is skipped.
#[derive(Clone, Debug)]
pub struct Ema {
    n: usize,
    k: f64,
    seen: usize,
    seed_sum: f64,
    ema: f64,
    out: f64,
}

impl Ema {
    /// An EMA of period `n >= 1`.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(n: usize) -> Self {
        check_period("ema", n, 1);
        Ema {
            n,
            k: 2.0 / (n as f64 + 1.0),
            seen: 0,
            seed_sum: 0.0,
            ema: f64::NAN,
            out: f64::NAN,
        }
    }

    /// Feeds `x`; returns the EMA, NaN while warming up or when `x` is `na`.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        let x = clean(x);
        if x.is_nan() {
            self.out = f64::NAN;
            return self.out;
        }
        if self.seen >= self.n {
            self.ema = (x - self.ema) * self.k + self.ema;
            self.out = self.ema;
        } else {
            self.seen += 1;
            self.seed_sum += x;
            if self.seen == self.n {
                self.ema = self.seed_sum / self.n as f64;
                self.out = self.ema;
            }
        }
        self.out
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.out
    }

    /// `n - 1`.
    pub fn lookback(&self) -> usize {
        self.n - 1
    }
}

/// Linearly weighted moving average (TA-Lib `WMA`): weights `1..=n`, the
/// newest input weighing `n`; lookback `n - 1`.
#[derive(Clone, Debug)]
pub struct Wma {
    window: Window<true, false>,
    divider: f64,
    out: f64,
}

impl Wma {
    /// A WMA over `n >= 1` inputs.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(n: usize) -> Self {
        check_period("wma", n, 1);
        Wma {
            window: Window::new(n),
            divider: (n * (n + 1)) as f64 / 2.0,
            out: f64::NAN,
        }
    }

    /// Feeds `x`; returns the WMA, NaN while warming up or while an `na` is
    /// in the window.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        self.out = if self.window.push(x) {
            self.window.shift() + self.window.wsum() / self.divider
        } else {
            f64::NAN
        };
        self.out
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.out
    }

    /// `n - 1`.
    pub fn lookback(&self) -> usize {
        self.window.n() - 1
    }

    /// Slots of the ring buffer (fixed at construction).
    pub fn capacity(&self) -> usize {
        self.window.capacity()
    }
}

single_input!(Sma, Ema, Wma);
