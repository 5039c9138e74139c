//! A fixed-capacity ring buffer of `f64`, allocated once.

/// A ring of at most `capacity` values; pushing into a full ring evicts the
/// oldest value. The storage is allocated by [`Ring::new`] and never grows.
#[derive(Clone, Debug)]
pub struct Ring {
    buf: Box<[f64]>,
    /// Slot the next push writes.
    next: usize,
    len: usize,
}

impl Ring {
    /// An empty ring holding up to `capacity` values.
    ///
    /// # Panics
    /// If `capacity` is 0.
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "Ring: capacity must be at least 1");
        Ring {
            buf: vec![f64::NAN; capacity].into_boxed_slice(),
            next: 0,
            len: 0,
        }
    }

    /// Appends `x`; returns the evicted oldest value if the ring was full.
    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        let cap = self.buf.len();
        let evicted = if self.len == cap {
            Some(self.buf[self.next])
        } else {
            self.len += 1;
            None
        };
        self.buf[self.next] = x;
        self.next += 1;
        if self.next == cap {
            self.next = 0;
        }
        evicted
    }

    /// The value pushed `k` pushes ago (`k = 0` is the newest), if held.
    #[inline]
    pub fn ago(&self, k: usize) -> Option<f64> {
        if k >= self.len {
            return None;
        }
        let cap = self.buf.len();
        let idx = if self.next > k {
            self.next - 1 - k
        } else {
            self.next + cap - 1 - k
        };
        Some(self.buf[idx])
    }

    /// The values held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        (0..self.len)
            .rev()
            .map(move |k| self.ago(k).unwrap_or(f64::NAN))
    }

    /// Number of values held.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no value has been pushed.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when the ring holds `capacity` values.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// The fixed number of slots.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }
}
