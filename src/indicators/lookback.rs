//! Looking back: `x[n]` (bar count), `x` as of a wall-clock duration ago, and
//! the `change` / `diff` built on them.

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
/// Samples are kept in a ring of (time, value) (a power-of-two number of
/// slots, so that a position is one mask); each update pushes one and
/// drops from the front every sample that a later sample at or before
/// `t - w` supersedes, so each sample is pushed and popped once: O(1)
/// amortized. **Memory bound**: after an update the ring holds the samples
/// with time in `(t - w, t]` plus at most one at or before `t - w`. For bars
/// no closer than `spacing`, that is at most `w / spacing + 2` entries,
/// which [`TimeLookback::with_spacing`] preallocates; the ring only grows
/// (amortized, never shrinking) if more samples than that fall inside one
/// window.
///
/// Times must be non-decreasing; a time earlier than the previous sample's
/// is taken as the previous sample's time (the clock never goes back).
#[derive(Clone, Debug)]
pub struct TimeLookback {
    window: i128,
    /// The ring: `len` samples from slot `head` on (wrapping), oldest
    /// first.
    slots: Vec<(i128, f64)>,
    head: usize,
    len: usize,
    /// The newest sample (time, value).
    last: (i128, f64),
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
            slots: vec![(0, f64::NAN); capacity.max(2).next_power_of_two()],
            head: 0,
            len: 0,
            last: (i128::MIN, f64::NAN),
            out: f64::NAN,
        }
    }

    /// A lookback of `window` for samples at least `spacing` apart (the
    /// input's bar interval): preallocates the bound `window / spacing + 2`,
    /// at most [`MAX_PREALLOCATED`] entries (beyond that the ring grows as
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
    #[inline(always)]
    pub fn update(&mut self, t: Timestamp, x: f64) -> f64 {
        // Before any sample `last.0` is the minimum: `max` keeps `t`.
        let t = t.as_nanosecond().max(self.last.0);
        if self.len == self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        self.last = (t, clean(x));
        self.slots[(self.head + self.len) & mask] = self.last;
        self.len += 1;
        let cutoff = t - self.window;
        while self.len >= 2 && self.slots[(self.head + 1) & mask].0 <= cutoff {
            self.head = (self.head + 1) & mask;
            self.len -= 1;
        }
        let (time, value) = self.slots[self.head];
        self.out = if time <= cutoff { value } else { f64::NAN };
        self.out
    }

    /// Doubles the ring (more samples than preallocated inside a window),
    /// the held samples moved to the front in order.
    #[cold]
    fn grow(&mut self) {
        let n = self.slots.len();
        self.slots.rotate_left(self.head);
        self.slots.resize(2 * n, (0, f64::NAN));
        self.head = 0;
    }

    /// The latest sample fed (NaN before any).
    pub fn latest(&self) -> f64 {
        self.last.1
    }

    /// The output of the last update (x as of `t - w`).
    pub fn value(&self) -> f64 {
        self.out
    }

    /// Samples currently held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True before the first update.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Samples the ring can hold without allocating.
    pub fn capacity(&self) -> usize {
        self.slots.len()
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

    /// Samples the ring can hold without allocating.
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

    /// Samples the ring can hold without allocating.
    pub fn capacity(&self) -> usize {
        self.past.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::TimeLookback;
    use jiff::{SignedDuration, Timestamp};

    /// The ring grows (from a wrapped position) when more samples than
    /// preallocated fall inside the window, and keeps the as-of value.
    #[test]
    fn growing_ring_keeps_the_as_of_value() {
        let w = SignedDuration::from_mins(50);
        let mut lb = TimeLookback::new(w, 2);
        let start = Timestamp::from_second(1_700_000_000).unwrap();
        let mut samples = Vec::new();
        let mut x = 7u64;
        let mut t = start;
        for i in 0..2_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            // Bursts of dense samples (the ring grows), then sparse ones.
            let step = if (i / 100) % 2 == 0 {
                x >> 62
            } else {
                5 + (x >> 58)
            };
            t = t
                .checked_add(SignedDuration::from_mins(step as i64))
                .unwrap();
            samples.push((t, i as f64));
            let got = lb.update(t, i as f64);
            let cutoff = t.checked_sub(w).unwrap();
            let want = samples
                .iter()
                .rev()
                .find(|(s, _)| *s <= cutoff)
                .map_or(f64::NAN, |s| s.1);
            assert!(
                (got.is_nan() && want.is_nan()) || got == want,
                "{i}: {got} vs {want}"
            );
            assert_eq!(lb.latest(), i as f64);
        }
        assert!(lb.capacity() > 2);
    }
}
