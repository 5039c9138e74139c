//! Dispersion: population standard deviation, annualized volatility.

use super::window::Window;
use super::{check_period, clean, single_input};

/// Population standard deviation of the last `n` inputs (TA-Lib `STDDEV`
/// with `nbdev = 1`); lookback `n - 1`.
///
/// Unlike TA-Lib, a variance below 1e-8 is not rounded to 0 (see the module
/// docs); a slightly negative variance from rounding is clamped to 0.
#[derive(Clone, Debug)]
pub struct StdDev {
    window: Window<false, true>,
    out: f64,
}

impl StdDev {
    /// A standard deviation over `n >= 1` inputs.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(n: usize) -> Self {
        check_period("stdev", n, 1);
        StdDev {
            window: Window::new(n),
            out: f64::NAN,
        }
    }

    /// Feeds `x`; returns the standard deviation, NaN while warming up or
    /// while an `na` is in the window.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        self.out = if self.window.push(x) {
            let inv_n = self.window.inv_n();
            let mean = self.window.sum() * inv_n;
            (self.window.sqsum() * inv_n - mean * mean).max(0.0).sqrt()
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

/// Annualized volatility: the **sample** standard deviation (divisor
/// `n - 1`) of the last `n` log returns `ln(x_t / x_{t-1})`, times
/// `sqrt(bars_per_year)`; lookback `n` (n returns need n + 1 prices).
///
/// The caller passes the number of bars per year of the input's clock (for
/// example 252 for daily bars, 6048 for hourly bars traded 24 hours on 252
/// days). A non-positive or `na` price makes the two returns that use it `na`.
#[derive(Clone, Debug)]
pub struct Volatility {
    window: Window<false, true>,
    annualize: f64,
    /// `1 / (n - 1)`.
    inv_dof: f64,
    prev: f64,
    seen: bool,
    out: f64,
}

impl Volatility {
    /// Volatility over `n >= 2` returns, annualized with `bars_per_year`.
    ///
    /// # Panics
    /// If `n < 2`.
    pub fn new(n: usize, bars_per_year: f64) -> Self {
        check_period("volatility", n, 2);
        Volatility {
            window: Window::new(n),
            annualize: bars_per_year.sqrt(),
            inv_dof: 1.0 / (n as f64 - 1.0),
            prev: f64::NAN,
            seen: false,
            out: f64::NAN,
        }
    }

    /// Feeds the next price; returns the annualized volatility, NaN while
    /// warming up or while an `na` return is in the window.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        let x = clean(x);
        let x = if x > 0.0 { x } else { f64::NAN };
        if self.seen {
            self.window.push(clean((x / self.prev).ln()));
        }
        self.seen = true;
        self.prev = x;
        self.out = if self.window.ready() {
            let s = self.window.sum();
            let var = (self.window.sqsum() - s * s * self.window.inv_n()) * self.inv_dof;
            var.max(0.0).sqrt() * self.annualize
        } else {
            f64::NAN
        };
        self.out
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.out
    }

    /// `n`.
    pub fn lookback(&self) -> usize {
        self.window.n()
    }

    /// Slots of the ring buffer (fixed at construction).
    pub fn capacity(&self) -> usize {
        self.window.capacity()
    }
}

single_input!(StdDev, Volatility);
