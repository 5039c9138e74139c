//! Highest and lowest over a window (TA-Lib `MAX`, `MIN`), O(1) amortized
//! with a monotonic deque kept in a fixed-capacity ring.

use super::{check_period, clean, single_input};

/// A monotonic deque of (sequence number, value) over the last `n` inputs:
/// values strictly decrease from front to back when `MAX` (increase when
/// not), so the front is the window's extremum. At most `n` entries.
#[derive(Clone, Debug)]
struct Monotonic<const MAX: bool> {
    seqs: Box<[u64]>,
    vals: Box<[f64]>,
    head: usize,
    len: usize,
    /// Sequence number of the next input.
    seq: u64,
    /// Sequence number just after the last `na` input (0 = none yet).
    after_nan: u64,
    out: f64,
}

impl<const MAX: bool> Monotonic<MAX> {
    fn new(n: usize) -> Self {
        Monotonic {
            seqs: vec![0; n].into_boxed_slice(),
            vals: vec![f64::NAN; n].into_boxed_slice(),
            head: 0,
            len: 0,
            seq: 0,
            after_nan: 0,
            out: f64::NAN,
        }
    }

    #[inline]
    fn n(&self) -> usize {
        self.vals.len()
    }

    #[inline]
    fn slot(&self, i: usize) -> usize {
        let j = self.head + i;
        if j >= self.n() { j - self.n() } else { j }
    }

    #[inline]
    fn update(&mut self, x: f64) -> f64 {
        let x = clean(x);
        let seq = self.seq;
        self.seq += 1;
        let n = self.n() as u64;
        // Drop the front if it left the window (seq - n and older).
        if self.len > 0 && self.seqs[self.head] + n <= seq {
            self.head = self.slot(1);
            self.len -= 1;
        }
        if x.is_nan() {
            self.after_nan = seq + 1;
        } else {
            // Drop dominated entries from the back.
            while self.len > 0 {
                let back = self.vals[self.slot(self.len - 1)];
                let dominated = if MAX { back <= x } else { back >= x };
                if !dominated {
                    break;
                }
                self.len -= 1;
            }
            let s = self.slot(self.len);
            self.seqs[s] = seq;
            self.vals[s] = x;
            self.len += 1;
        }
        // Defined once n inputs were seen and the last `na` left the window.
        self.out = if self.seq >= n && self.seq >= self.after_nan + n {
            self.vals[self.head]
        } else {
            f64::NAN
        };
        self.out
    }
}

/// Highest of the last `n` inputs, the current one included (TA-Lib `MAX`);
/// lookback `n - 1`.
#[derive(Clone, Debug)]
pub struct Highest(Monotonic<true>);

/// Lowest of the last `n` inputs, the current one included (TA-Lib `MIN`);
/// lookback `n - 1`.
#[derive(Clone, Debug)]
pub struct Lowest(Monotonic<false>);

macro_rules! extremum_api {
    ($t:ident, $name:literal) => {
        impl $t {
            /// A kernel over `n >= 1` inputs.
            ///
            /// # Panics
            /// If `n` is 0.
            pub fn new(n: usize) -> Self {
                check_period($name, n, 1);
                $t(Monotonic::new(n))
            }

            /// Feeds `x`; returns the extremum of the window, NaN while
            /// warming up or while an `na` is in the window.
            #[inline]
            pub fn update(&mut self, x: f64) -> f64 {
                self.0.update(x)
            }

            /// The output of the last update.
            pub fn value(&self) -> f64 {
                self.0.out
            }

            /// `n - 1`.
            pub fn lookback(&self) -> usize {
                self.0.n() - 1
            }

            /// Entries the deque can hold (fixed at construction: `n`).
            pub fn capacity(&self) -> usize {
                self.0.n()
            }
        }
    };
}

extremum_api!(Highest, "highest");
extremum_api!(Lowest, "lowest");
single_input!(Highest, Lowest);
