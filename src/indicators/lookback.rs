//! Looking back: `x[n]` (bar count), `x` as of a wall-clock duration ago, and
//! the `change` / `diff` built on them.

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};

use super::ring::Ring;
use super::{check_period, clean, single_input};

/// `x[n]`: the input of `n` updates ago (`n = 0` is the current input);
/// NaN until `n + 1` inputs were seen. Lookback `n`.
#[derive(Clone, Debug)]
pub struct Lookback {
    ring: Ring,
    out: f64,
}

impl Lookback {
    /// A ring holding the last `n + 1` inputs.
    pub fn new(n: usize) -> Self {
        Lookback {
            ring: Ring::new(n + 1),
            out: f64::NAN,
        }
    }

    /// Feeds `x`; returns the input of `n` updates ago.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        self.ring.push(clean(x));
        self.out = self.get(self.ring.capacity() - 1);
        self.out
    }

    /// The input of `k` updates ago (`k = 0` the latest); NaN if `k > n` or
    /// fewer than `k + 1` inputs were seen.
    #[inline]
    pub fn get(&self, k: usize) -> f64 {
        self.ring.ago(k).unwrap_or(f64::NAN)
    }

    /// The output of the last update (`x[n]`).
    pub fn value(&self) -> f64 {
        self.out
    }

    /// `n`.
    pub fn lookback(&self) -> usize {
        self.ring.capacity() - 1
    }

    /// Slots of the ring buffer (fixed at construction: `n + 1`).
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }
}

/// `x / past - 1`, NaN when either is `na` or `past` is 0.
#[inline]
fn ratio_change(x: f64, past: f64) -> f64 {
    if past == 0.0 {
        f64::NAN
    } else {
        clean(x / past - 1.0)
    }
}

/// `change(x, n bars)` = `x / x[n] - 1` (TA-Lib `ROCR - 1`, i.e. `ROC / 100`);
/// lookback `n`. NaN when `x[n]` is 0 (TA-Lib's ROCR gives 0 there).
#[derive(Clone, Debug)]
pub struct Change {
    past: Lookback,
    out: f64,
}

impl Change {
    /// A change over `n >= 1` bars.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(n: usize) -> Self {
        check_period("change", n, 1);
        Change {
            past: Lookback::new(n),
            out: f64::NAN,
        }
    }

    /// Feeds `x`; returns `x / x[n] - 1`.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        let past = self.past.update(x);
        self.out = ratio_change(self.past.get(0), past);
        self.out
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.out
    }

    /// `n`.
    pub fn lookback(&self) -> usize {
        self.past.lookback()
    }

    /// Slots of the ring buffer (fixed at construction: `n + 1`).
    pub fn capacity(&self) -> usize {
        self.past.capacity()
    }
}

/// `diff(x, n bars)` = `x - x[n]` (TA-Lib `MOM`); lookback `n`.
#[derive(Clone, Debug)]
pub struct Diff {
    past: Lookback,
    out: f64,
}

impl Diff {
    /// A difference over `n >= 1` bars.
    ///
    /// # Panics
    /// If `n` is 0.
    pub fn new(n: usize) -> Self {
        check_period("diff", n, 1);
        Diff {
            past: Lookback::new(n),
            out: f64::NAN,
        }
    }

    /// Feeds `x`; returns `x - x[n]`.
    #[inline]
    pub fn update(&mut self, x: f64) -> f64 {
        let past = self.past.update(x);
        self.out = self.past.get(0) - past;
        self.out
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.out
    }

    /// `n`.
    pub fn lookback(&self) -> usize {
        self.past.lookback()
    }

    /// Slots of the ring buffer (fixed at construction: `n + 1`).
    pub fn capacity(&self) -> usize {
        self.past.capacity()
    }
}

single_input!(Lookback, Change, Diff);

/// Largest number of samples [`TimeLookback::with_spacing`] preallocates
/// (a 1-week window over 10-second bars; 2 MiB).
pub const MAX_PREALLOCATED: usize = 65_536;

/// The value of `x` as of a wall-clock duration `w` ago: at an update at time
/// `t`, the latest sample with time `<= t - w` (NaN if there is none).
///
/// Samples are kept in a deque of (time, value); each update pushes one and
/// drops from the front every sample that a later sample at or before
/// `t - w` supersedes, so each sample is pushed and popped once: O(1)
/// amortized. **Memory bound**: after an update the deque holds the samples
/// with time in `(t - w, t]` plus at most one at or before `t - w`. For bars
/// no closer than `spacing`, that is at most `w / spacing + 2` entries,
/// which [`TimeLookback::with_spacing`] preallocates; the deque only grows
/// (amortized, never shrinking) if more samples than that fall inside one
/// window.
///
/// Times must be non-decreasing; a time earlier than the previous sample's
/// is taken as the previous sample's time (the clock never goes back).
#[derive(Clone, Debug)]
pub struct TimeLookback {
    window: i128,
    samples: VecDeque<(i128, f64)>,
    out: f64,
}

impl TimeLookback {
    /// A lookback of `window` with room for `capacity` samples preallocated.
    ///
    /// # Panics
    /// If `window` is negative (that would look ahead).
    pub fn new(window: SignedDuration, capacity: usize) -> Self {
        assert!(
            !window.is_negative(),
            "TimeLookback: window must not be negative"
        );
        TimeLookback {
            window: window.as_nanos(),
            samples: VecDeque::with_capacity(capacity.max(2)),
            out: f64::NAN,
        }
    }

    /// A lookback of `window` for samples at least `spacing` apart (the
    /// input's bar interval): preallocates the bound `window / spacing + 2`,
    /// at most [`MAX_PREALLOCATED`] entries (beyond that the deque grows as
    /// samples arrive, still bounded by the samples inside the window).
    ///
    /// # Panics
    /// If `window` is negative.
    pub fn with_spacing(window: SignedDuration, spacing: SignedDuration) -> Self {
        let spacing = spacing.as_nanos().max(1);
        let bound = window.as_nanos().max(0) / spacing + 2;
        let capacity = usize::try_from(bound.min(MAX_PREALLOCATED as i128)).unwrap_or(2);
        Self::new(window, capacity)
    }

    /// Feeds the sample `x` at time `t`; returns the value as of `t - w`.
    #[inline]
    pub fn update(&mut self, t: Timestamp, x: f64) -> f64 {
        let mut t = t.as_nanosecond();
        if let Some(&(last, _)) = self.samples.back() {
            t = t.max(last);
        }
        self.samples.push_back((t, clean(x)));
        let cutoff = t - self.window;
        while self.samples.len() >= 2 && self.samples[1].0 <= cutoff {
            self.samples.pop_front();
        }
        self.out = match self.samples.front() {
            Some(&(time, value)) if time <= cutoff => value,
            _ => f64::NAN,
        };
        self.out
    }

    /// The latest sample fed (NaN before any).
    pub fn latest(&self) -> f64 {
        self.samples.back().map_or(f64::NAN, |&(_, v)| v)
    }

    /// The output of the last update (x as of `t - w`).
    pub fn value(&self) -> f64 {
        self.out
    }

    /// Samples currently held.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// True before the first update.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Samples the deque can hold without allocating.
    pub fn capacity(&self) -> usize {
        self.samples.capacity()
    }
}

/// `change(x, w)` for a wall-clock `w`: `x / (x as of t - w) - 1`.
#[derive(Clone, Debug)]
pub struct TimeChange {
    past: TimeLookback,
    out: f64,
}

impl TimeChange {
    /// A change over `window` for samples at least `spacing` apart (see
    /// [`TimeLookback::with_spacing`]).
    ///
    /// # Panics
    /// If `window` is negative.
    pub fn with_spacing(window: SignedDuration, spacing: SignedDuration) -> Self {
        TimeChange {
            past: TimeLookback::with_spacing(window, spacing),
            out: f64::NAN,
        }
    }

    /// Feeds `x` at time `t`; returns `x / (x as of t - w) - 1`.
    #[inline]
    pub fn update(&mut self, t: Timestamp, x: f64) -> f64 {
        let past = self.past.update(t, x);
        self.out = ratio_change(self.past.latest(), past);
        self.out
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.out
    }

    /// Samples the deque can hold without allocating.
    pub fn capacity(&self) -> usize {
        self.past.capacity()
    }
}

/// `diff(x, w)` for a wall-clock `w`: `x - (x as of t - w)`.
#[derive(Clone, Debug)]
pub struct TimeDiff {
    past: TimeLookback,
    out: f64,
}

impl TimeDiff {
    /// A difference over `window` for samples at least `spacing` apart (see
    /// [`TimeLookback::with_spacing`]).
    ///
    /// # Panics
    /// If `window` is negative.
    pub fn with_spacing(window: SignedDuration, spacing: SignedDuration) -> Self {
        TimeDiff {
            past: TimeLookback::with_spacing(window, spacing),
            out: f64::NAN,
        }
    }

    /// Feeds `x` at time `t`; returns `x - (x as of t - w)`.
    #[inline]
    pub fn update(&mut self, t: Timestamp, x: f64) -> f64 {
        let past = self.past.update(t, x);
        self.out = self.past.latest() - past;
        self.out
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.out
    }

    /// Samples the deque can hold without allocating.
    pub fn capacity(&self) -> usize {
        self.past.capacity()
    }
}
