//! Incremental indicator kernels: plain structs, O(1) per bar, no allocation
//! after construction, no knowledge of the language.
//!
//! Every kernel has `new(..)` (all buffers sized there), `update(..) -> f64`
//! (feed one bar, get the current value), `value()` (the value the last
//! `update` returned) and `lookback()` (how many inputs come before the first
//! defined output, as TA-Lib counts it). Definitions follow TA-Lib; each one
//! is checked against TA-Lib's output in `tests/indicators.rs` (fixtures made
//! by `scripts/talib_reference.py`).
//!
//! # Example
//!
//! ```
//! use playbook::indicators::{Ema, Sma};
//!
//! let mut sma = Sma::new(3);
//! let mut ema = Ema::new(3);
//! let out: Vec<f64> = [1.0, 2.0, 3.0, 4.0].iter().map(|&x| sma.update(x)).collect();
//! assert!(out[0].is_nan() && out[1].is_nan()); // warm-up: lookback() = 2
//! assert_eq!(&out[2..], &[2.0, 3.0]);
//! assert_eq!(sma.lookback(), 2);
//! // An `na` input: windowed kernels stay `na` while it is in the window.
//! assert!(sma.update(f64::NAN).is_nan());
//! // EMA: seeded with the SMA of the first 3 inputs, then k = 2 / (3 + 1).
//! for x in [1.0, 2.0, 3.0] {
//!     ema.update(x);
//! }
//! assert_eq!(ema.value(), 2.0);
//! assert_eq!(ema.update(4.0), 3.0);
//! ```
//!
//! # `na` is NaN
//!
//! An undefined value (`na`) is `f64::NAN`. An output is NaN during warm-up
//! (the first `lookback()` inputs) and when an input is not usable. Inputs
//! that are not finite (NaN or ±infinity) are all treated as `na`; an
//! infinity would otherwise poison running sums forever.
//!
//! * **Windowed kernels** ([`Sma`], [`Wma`], [`StdDev`], [`Highest`],
//!   [`Lowest`], [`Slope`]): the output is NaN while any `na` input is
//!   inside the window, i.e. for the `n` bars starting with the bad one. After
//!   it leaves the window the output is exact again: running sums never
//!   contain the NaN. [`Volatility`] works on returns, and an `na` price spoils
//!   the two returns that use it, so its output is NaN for `n + 1` bars.
//! * **Two-point kernels** ([`Lookback`], [`Change`], [`Diff`], [`Gap`]) read
//!   only the current input and the one `n` bars back (1 for `Gap`'s previous
//!   close): `Change` and `Diff` are NaN on the bar of the `na` input and
//!   again `n` bars later; `Lookback` (which returns `x[n]`) only `n` bars
//!   later; the bars in between are defined.
//! * **Recursive kernels** ([`Ema`], [`Rsi`], [`Atr`]): an `na` input gives
//!   NaN for that bar and is otherwise **skipped**: the state is kept as it
//!   was, and the next usable input continues from it (as if the bad bar had
//!   not happened; `Rsi` and `Atr` take their next difference / true range
//!   against the last usable value). During warm-up the seed is taken over the
//!   first `n` usable inputs. So a chain like `ema(sma(x, 10), 5)` warms up
//!   after `9 + 4` bars, the sum of the lookbacks, exactly as TA-Lib's
//!   chained calls do.
//! * **Wall-clock lookback** ([`TimeLookback`], [`TimeChange`],
//!   [`TimeDiff`]): an `na` sample is stored like any other, so the output is
//!   NaN while that sample is the current one or the one as of `t - w`.
//! * [`BarsSince`] takes a `bool` (a comparison with `na` is false in the
//!   language, so the engine passes `false` for it).
//!
//! # Numerical accuracy
//!
//! Windowed sums are kept relative to a shift (an estimate of the window
//! mean), which avoids most of the cancellation of `E[x^2] - E[x]^2` on
//! prices far from zero, and are re-summed exactly from the ring once every
//! `n` updates so that rounding cannot drift: each input is summed at most
//! twice, so the cost stays O(1) amortized (one O(n) pass every n bars).
//! When the variance would still lose more than four digits to cancellation
//! (a window whose spread is tiny compared with its distance from the shift,
//! e.g. the stdev of two almost equal returns), the sums of squares are
//! re-summed around the window mean at once: that bar costs O(n), and the
//! result keeps its relative accuracy however small the variance is.
//!
//! # Deviations from TA-Lib, on purpose
//!
//! * `STDDEV`: TA-Lib returns 0 when the variance is below 1e-8 (an
//!   absolute threshold); [`StdDev`] returns the true value (clamped at 0),
//!   because the series here include returns, whose variance is that small.
//! * `ROCR`: TA-Lib returns 0 when the past value is 0; [`Change`] returns NaN.

mod average;
mod dispersion;
mod events;
mod extremum;
mod lookback;
mod momentum;
mod range;
mod regression;
mod ring;
mod window;

pub use average::{Ema, Sma, Wma};
pub use dispersion::{StdDev, Volatility};
pub use events::BarsSince;
pub use extremum::{Highest, Lowest};
pub use lookback::{Change, Diff, Lookback, MAX_PREALLOCATED, TimeChange, TimeDiff, TimeLookback};
pub use momentum::Rsi;
pub use range::{Atr, Gap};
pub use regression::Slope;
pub use ring::Ring;

/// A single-input kernel: what the engine drives for `sma(x, n)` and friends.
pub trait Indicator {
    /// Feeds the next input and returns the current output (NaN = `na`).
    fn update(&mut self, x: f64) -> f64;
    /// The output returned by the last [`Indicator::update`] (NaN before any).
    fn value(&self) -> f64;
    /// Number of inputs before the first defined output (TA-Lib's lookback).
    fn lookback(&self) -> usize;
}

/// Implements [`Indicator`] by delegating to the inherent methods.
macro_rules! single_input {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::indicators::Indicator for $t {
            fn update(&mut self, x: f64) -> f64 {
                <$t>::update(self, x)
            }
            fn value(&self) -> f64 {
                <$t>::value(self)
            }
            fn lookback(&self) -> usize {
                <$t>::lookback(self)
            }
        }
    )*};
}
pub(crate) use single_input;

/// Maps a non-finite input to NaN, the one `na` representation.
#[inline]
pub(crate) fn clean(x: f64) -> f64 {
    if x.is_finite() { x } else { f64::NAN }
}

/// Panics with a uniform message when a period is below its minimum; the
/// checker rejects such periods in strategy files before any kernel is built.
#[inline]
pub(crate) fn check_period(kernel: &str, n: usize, min: usize) {
    assert!(n >= min, "{kernel}: period must be at least {min}, got {n}");
}
