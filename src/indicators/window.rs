//! The running sums shared by the windowed kernels (SMA, WMA, STDDEV, slope,
//! volatility): a ring of the last `n` inputs, the count of `na` inside it,
//! and shifted sums that are re-summed exactly once every `n` updates (and,
//! for the sums of squares, whenever cancellation threatens the variance).

/// Sums over the last `n` inputs, relative to `shift`:
/// `sum = Σ (x - shift)`, `wsum = Σ (i + 1)(x_i - shift)` with `i = 0` the
/// oldest (only if `WEIGHTED`), `sqsum = Σ (x - shift)^2` (only if
/// `SQUARES`). NaN inputs are stored in the ring and count as 0 in the sums.
///
/// The ring is inline (not a [`super::Ring`]) so that a push is one
/// straight path once the window is full: store, evict, update the sums.
#[derive(Clone, Debug)]
pub(crate) struct Window<const WEIGHTED: bool, const SQUARES: bool> {
    /// The last `n` inputs; `buf[next]` is the oldest once full.
    buf: Box<[f64]>,
    /// Slot the next push writes (always `< n`).
    next: usize,
    /// Inputs held (at most `n`).
    len: usize,
    /// `n` as a float.
    n_f: f64,
    inv_n: f64,
    nans: usize,
    /// Empty places plus `na`s inside (0 exactly when [`Window::ready`]).
    missing: usize,
    /// NaN until the first usable input.
    shift: f64,
    sum: f64,
    wsum: f64,
    sqsum: f64,
    /// Evicting pushes since the last re-sum (only kept for `SQUARES`;
    /// without squares the re-sum happens when `next` wraps, which is the
    /// same instant: every `n` evicting pushes).
    since_resum: usize,
}

impl<const WEIGHTED: bool, const SQUARES: bool> Window<WEIGHTED, SQUARES> {
    /// An empty window of `n >= 1` inputs.
    ///
    /// # Panics
    /// If `n` is 0.
    pub(crate) fn new(n: usize) -> Self {
        assert!(n > 0, "Window: n must be at least 1");
        Window {
            buf: vec![f64::NAN; n].into_boxed_slice(),
            next: 0,
            len: 0,
            n_f: n as f64,
            inv_n: 1.0 / n as f64,
            nans: 0,
            missing: n,
            shift: f64::NAN,
            sum: 0.0,
            wsum: 0.0,
            sqsum: 0.0,
            since_resum: 0,
        }
    }

    /// Pushes one input (a non-finite one is `na`); returns
    /// [`Window::ready`].
    #[inline(always)]
    pub(crate) fn push(&mut self, x: f64) -> bool {
        // One test for the common case, a usable input into a full window
        // without `na` (so the input leaving is usable too) with the shift
        // set: the shift is NaN until the first usable input, and
        // `x - shift` is not finite for an `na`.
        let d = x - self.shift;
        if d.is_finite() && self.missing == 0 {
            self.push_full::<true>(x, d);
            true
        } else {
            self.push_slow(x);
            self.missing = self.buf.len() - self.len + self.nans;
            self.missing == 0
        }
    }

    /// Pushes `x` (finite or NaN), shifted `d` (0 for NaN), into a full
    /// window: the oldest input leaves. `CLEAN`: the window holds no `na`.
    #[inline(always)]
    fn push_full<const CLEAN: bool>(&mut self, x: f64, d: f64) {
        let n = self.buf.len();
        let next = self.next;
        let old = std::mem::replace(&mut self.buf[next], x);
        let wrapped = next + 1 == n;
        self.next = if wrapped { 0 } else { next + 1 };
        let od = if !CLEAN && old.is_nan() {
            self.nans -= 1;
            0.0
        } else {
            old - self.shift
        };
        if WEIGHTED {
            // Every weight drops by one (the evicted value's to 0).
            self.wsum += self.n_f * d - self.sum;
        }
        self.sum += d - od;
        if SQUARES {
            self.sqsum += d * d - od * od;
            self.since_resum += 1;
            if self.since_resum >= n || self.cancels() {
                self.resum();
            }
        } else if wrapped {
            self.resum();
        }
    }

    /// [`Window::push`] of an `na`, of the first usable input (which
    /// becomes the shift), or while the window fills.
    #[inline(never)]
    fn push_slow(&mut self, x: f64) {
        let x = if x.is_finite() { x } else { f64::NAN };
        let d = if x.is_nan() {
            self.nans += 1;
            0.0
        } else {
            if self.shift.is_nan() {
                self.shift = x;
            }
            x - self.shift
        };
        if self.len == self.buf.len() {
            self.push_full::<false>(x, d);
            return;
        }
        let next = self.next;
        self.buf[next] = x;
        self.next = if next + 1 == self.buf.len() {
            0
        } else {
            next + 1
        };
        self.len += 1;
        if WEIGHTED {
            self.wsum += self.len as f64 * d;
        }
        self.sum += d;
        if SQUARES {
            self.sqsum += d * d;
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

    /// Re-anchors the shift at the current mean and re-sums from the ring
    /// (called only when full: the oldest input is at `next`).
    #[cold]
    fn resum(&mut self) {
        let finite = self.len - self.nans;
        if finite > 0 {
            self.shift += self.sum / finite as f64;
        }
        let mut sums = [0.0; 3];
        let (newer, older) = self.buf.split_at(self.next);
        self.accumulate(older, 1.0, &mut sums);
        self.accumulate(newer, (older.len() + 1) as f64, &mut sums);
        [self.sum, self.wsum, self.sqsum] = sums;
        self.since_resum = 0;
    }

    /// Adds the inputs of `part` (oldest first, the first one's weight
    /// `weight`) to `sums` = [sum, wsum, sqsum], skipping `na`.
    #[inline]
    fn accumulate(&self, part: &[f64], mut weight: f64, sums: &mut [f64; 3]) {
        let [mut s, mut w, mut q] = *sums;
        if !WEIGHTED && !SQUARES && self.nans == 0 {
            // The plain sum of a window without `na` (SMA): no tests.
            for &x in part {
                s += x - self.shift;
            }
            sums[0] = s;
            return;
        }
        for &x in part {
            if !x.is_nan() {
                let d = x - self.shift;
                s += d;
                if WEIGHTED {
                    w += weight * d;
                }
                if SQUARES {
                    q += d * d;
                }
            }
            if WEIGHTED {
                weight += 1.0;
            }
        }
        *sums = [s, w, q];
    }

    /// The period `n`.
    #[inline]
    pub(crate) fn n(&self) -> usize {
        self.buf.len()
    }

    /// `n` as a float.
    #[inline]
    pub(crate) fn n_f(&self) -> f64 {
        self.n_f
    }

    /// `1 / n`.
    #[inline]
    pub(crate) fn inv_n(&self) -> f64 {
        self.inv_n
    }

    /// True when the window is full and holds no `na`.
    #[inline]
    pub(crate) fn ready(&self) -> bool {
        self.len == self.buf.len() && self.nans == 0
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
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Window;
    use crate::indicators::Ring;

    /// The straightforward definition over a [`Ring`]: the window must give
    /// bit-identical sums.
    struct Reference<const W: bool, const S: bool> {
        ring: Ring,
        nans: usize,
        shift: f64,
        shift_set: bool,
        sum: f64,
        wsum: f64,
        sqsum: f64,
        since_resum: usize,
    }

    impl<const W: bool, const S: bool> Reference<W, S> {
        fn new(n: usize) -> Self {
            Reference {
                ring: Ring::new(n),
                nans: 0,
                shift: 0.0,
                shift_set: false,
                sum: 0.0,
                wsum: 0.0,
                sqsum: 0.0,
                since_resum: 0,
            }
        }

        fn push(&mut self, x: f64) {
            let n = self.ring.capacity();
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
                    if W {
                        self.wsum += n as f64 * d - self.sum;
                    }
                    self.sum += d - od;
                    if S {
                        self.sqsum += d * d - od * od;
                    }
                    self.since_resum += 1;
                    let cancels = self.nans == 0
                        && self.sqsum > 0.0
                        && self.sum * self.sum > (1.0 - 1e-4) * n as f64 * self.sqsum;
                    if self.since_resum >= n || (S && cancels) {
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
                            w += (i + 1) as f64 * d;
                            q += d * d;
                        }
                        self.sum = s;
                        self.wsum = if W { w } else { 0.0 };
                        self.sqsum = if S { q } else { 0.0 };
                        self.since_resum = 0;
                    }
                }
                None => {
                    if W {
                        self.wsum += self.ring.len() as f64 * d;
                    }
                    self.sum += d;
                    if S {
                        self.sqsum += d * d;
                    }
                }
            }
        }
    }

    fn check<const W: bool, const S: bool>(seed: u64) {
        let mut next = crate::testing::xorshift(seed);
        for n in 1..=33 {
            let mut w = Window::<W, S>::new(n);
            let mut r = Reference::<W, S>::new(n);
            let mut price = 1950.0;
            // A leading run of `na` before the shift is set.
            for _ in 0..n % 4 {
                w.push(f64::NAN);
                r.push(f64::NAN);
            }
            for i in 0..600 {
                let u = next();
                price += ((u >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0;
                // Runs of `na` now and then, a flat stretch for cancellation.
                let v = if u.is_multiple_of(53) || (i > 300 && i < 300 + n / 2) {
                    f64::NAN
                } else if u.is_multiple_of(97) {
                    f64::INFINITY
                } else if (400..460).contains(&i) {
                    1e-9 * (i % 3) as f64 + 1234.5
                } else {
                    price
                };
                let pushed = w.push(v);
                r.push(if v.is_finite() { v } else { f64::NAN });
                let bits = |a: f64| a.to_bits();
                assert_eq!(bits(w.sum()), bits(r.sum), "n {n} i {i}");
                assert_eq!(bits(w.wsum()), bits(r.wsum), "n {n} i {i}");
                assert_eq!(bits(w.sqsum()), bits(r.sqsum), "n {n} i {i}");
                if r.shift_set {
                    assert_eq!(bits(w.shift()), bits(r.shift), "n {n} i {i}");
                }
                let ready = r.ring.is_full() && r.nans == 0;
                assert_eq!(pushed, ready, "n {n} i {i}");
                assert_eq!(w.ready(), ready, "n {n} i {i}");
            }
        }
    }

    #[test]
    fn window_sums_match_the_reference_bit_for_bit() {
        check::<false, false>(1);
        check::<true, false>(2);
        check::<false, true>(3);
        check::<true, true>(4);
    }
}
