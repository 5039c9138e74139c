//! The running sums shared by the windowed kernels (SMA, WMA, STDDEV, slope,
//! volatility): a ring of the last `n` inputs, the count of `na` inside it,
//! and shifted sums that are re-summed exactly once every `n` updates (and,
//! for the sums of squares, whenever cancellation threatens the variance).

use super::ring::Ring;

/// Sums over the last `n` inputs, relative to `shift`:
/// `sum = Σ (x - shift)`, `wsum = Σ (i + 1)(x_i - shift)` with `i = 0` the
/// oldest (only if `WEIGHTED`), `sqsum = Σ (x - shift)^2` (only if
/// `SQUARES`). NaN inputs are stored in the ring and count as 0 in the sums.
#[derive(Clone, Debug)]
pub(crate) struct Window<const WEIGHTED: bool, const SQUARES: bool> {
    ring: Ring,
    inv_n: f64,
    nans: usize,
    shift: f64,
    shift_set: bool,
    sum: f64,
    wsum: f64,
    sqsum: f64,
    since_resum: usize,
}

impl<const WEIGHTED: bool, const SQUARES: bool> Window<WEIGHTED, SQUARES> {
    /// An empty window of `n >= 1` inputs.
    pub(crate) fn new(n: usize) -> Self {
        Window {
            ring: Ring::new(n),
            inv_n: 1.0 / n as f64,
            nans: 0,
            shift: 0.0,
            shift_set: false,
            sum: 0.0,
            wsum: 0.0,
            sqsum: 0.0,
            since_resum: 0,
        }
    }

    /// Pushes one input (already cleaned: finite or NaN).
    #[inline]
    pub(crate) fn push(&mut self, x: f64) {
        let d = if x.is_nan() {
            self.nans += 1;
            0.0
        } else {
            if !self.shift_set {
                self.shift = x;
                self.shift_set = true;
            }
            x - self.shift
        };
        match self.ring.push(x) {
            Some(old) => {
                let od = if old.is_nan() {
                    self.nans -= 1;
                    0.0
                } else {
                    old - self.shift
                };
                if WEIGHTED {
                    // Every weight drops by one (the evicted value's to 0).
                    self.wsum += self.n() as f64 * d - self.sum;
                }
                self.sum += d - od;
                if SQUARES {
                    self.sqsum += d * d - od * od;
                }
                self.since_resum += 1;
                if self.since_resum >= self.n() || (SQUARES && self.cancels()) {
                    self.resum();
                }
            }
            None => {
                if WEIGHTED {
                    self.wsum += self.ring.len() as f64 * d;
                }
                self.sum += d;
                if SQUARES {
                    self.sqsum += d * d;
                }
            }
        }
    }

    /// True when `Σ(x - mean)^2 = sqsum - sum^2 / n` would lose more than
    /// four digits to cancellation (the shift is far from the mean compared
    /// with the spread): the window is then re-summed around its mean, so
    /// the variance keeps its relative accuracy even when it is tiny.
    #[inline]
    fn cancels(&self) -> bool {
        self.nans == 0
            && self.sqsum > 0.0
            && self.sum * self.sum > (1.0 - 1e-4) * self.n() as f64 * self.sqsum
    }

    /// Re-anchors the shift at the current mean and re-sums from the ring.
    fn resum(&mut self) {
        let finite = self.ring.len() - self.nans;
        if finite > 0 {
            self.shift += self.sum / finite as f64;
        }
        let (mut s, mut w, mut q) = (0.0, 0.0, 0.0);
        for (i, x) in self.ring.iter().enumerate() {
            if x.is_nan() {
                continue;
            }
            let d = x - self.shift;
            s += d;
            if WEIGHTED {
                w += (i + 1) as f64 * d;
            }
            if SQUARES {
                q += d * d;
            }
        }
        self.sum = s;
        self.wsum = w;
        self.sqsum = q;
        self.since_resum = 0;
    }

    /// The period `n`.
    #[inline]
    pub(crate) fn n(&self) -> usize {
        self.ring.capacity()
    }

    /// `1 / n`.
    #[inline]
    pub(crate) fn inv_n(&self) -> f64 {
        self.inv_n
    }

    /// True when the window is full and holds no `na`.
    #[inline]
    pub(crate) fn ready(&self) -> bool {
        self.ring.is_full() && self.nans == 0
    }

    /// The shift the sums are relative to.
    #[inline]
    pub(crate) fn shift(&self) -> f64 {
        self.shift
    }

    /// `Σ (x - shift)`.
    #[inline]
    pub(crate) fn sum(&self) -> f64 {
        self.sum
    }

    /// `Σ (i + 1)(x_i - shift)`, oldest `i = 0`.
    #[inline]
    pub(crate) fn wsum(&self) -> f64 {
        self.wsum
    }

    /// `Σ (x - shift)^2`.
    #[inline]
    pub(crate) fn sqsum(&self) -> f64 {
        self.sqsum
    }

    /// The slots of the ring (fixed).
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.ring.capacity()
    }
}
