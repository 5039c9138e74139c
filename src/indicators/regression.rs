//! Least-squares slope per bar (TA-Lib `LINEARREG_SLOPE`).

use super::window::Window;
use super::{check_period, single_input};

/// Slope per bar of the least-squares line through the last `n` inputs
/// (x = 0 for the oldest, n - 1 for the newest); TA-Lib `LINEARREG_SLOPE`,
/// lookback `n - 1`. Kept O(1) with the running sums `Σy` and `Σ(i+1)y`.
#[derive(Clone, Debug)]
pub struct Slope {
    window: Window<true, false>,
    sum_x: f64,
    divisor: f64,
    out: f64,
}

impl Slope {
    /// A slope over `n >= 2` inputs.
    ///
    /// # Panics
    /// If `n < 2`.
    pub fn new(n: usize) -> Self {
        check_period("slope", n, 2);
        let nf = n as f64;
        let sum_x = nf * (nf - 1.0) / 2.0;
        let sum_xx = nf * (nf - 1.0) * (2.0 * nf - 1.0) / 6.0;
        Slope {
            window: Window::new(n),
            sum_x,
            divisor: nf * sum_xx - sum_x * sum_x,
            out: f64::NAN,
        }
    }

    /// Feeds `x`; returns the slope, NaN while warming up or while an `na` is
    /// in the window.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        self.out = if self.window.push(x) {
            // Shifting y by a constant does not change the slope.
            let sum_y = self.window.sum();
            let sum_xy = self.window.wsum() - sum_y;
            (self.window.n() as f64 * sum_xy - self.sum_x * sum_y) / self.divisor
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

single_input!(Slope);
