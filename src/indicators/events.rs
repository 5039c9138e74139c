//! Event counting: bars since a condition was last true.

/// `bars_since(cond)`: 0 on a bar where the condition is true, 1 on the next
/// bar, and so on; NaN until the condition has been true once. Lookback 0
/// (the first defined output depends on the data, not on a period).
#[derive(Clone, Debug, Default)]
pub struct BarsSince {
    /// Bars since the last true, `None` before the first.
    count: Option<u64>,
}

impl BarsSince {
    /// A counter that has not seen the condition yet.
    pub fn new() -> Self {
        BarsSince { count: None }
    }

    /// Feeds this bar's condition; returns the bars since it was last true.
    #[inline]
    pub fn update(&mut self, cond: bool) -> f64 {
        self.count = if cond {
            Some(0)
        } else {
            self.count.map(|c| c + 1)
        };
        self.value()
    }

    /// The output of the last update.
    pub fn value(&self) -> f64 {
        self.count.map_or(f64::NAN, |c| c as f64)
    }

    /// 0.
    pub fn lookback(&self) -> usize {
        0
    }
}
