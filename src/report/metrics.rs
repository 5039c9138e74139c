//! Performance statistics of a run, computed streaming from equity marks and
//! closed trades: O(1) memory whatever the length of the history.
//!
//! Definitions (also in `docs/semantics.md`):
//! - total return = final equity / starting equity - 1;
//! - CAGR = (final / start)^(1 / years) - 1 with years = elapsed seconds /
//!   (365.25 x 86,400), `na` for runs shorter than a day;
//! - max drawdown = the largest fall from a running equity peak, as a
//!   fraction of that peak (reported as a positive number);
//! - Sharpe and Sortino use daily returns (the last mark of each UTC day
//!   against the previous day's, the first day against the starting equity),
//!   a zero risk-free rate, annualized by sqrt(252); Sortino's downside
//!   deviation is the root mean square of the negative daily returns over
//!   all days;
//! - profit factor = gross profit / gross loss of closed trades (`na` with
//!   no losing trade); win rate = winning trades / trades;
//! - exposure = the fraction of marks with any open position.

use jiff::Timestamp;

/// Streaming accumulator of run statistics.
#[derive(Clone, Debug)]
pub struct Metrics {
    start_equity: f64,
    first_time: Option<Timestamp>,
    /// The last mark's time in seconds (meaningful once `first_time` is set).
    last_second: i64,
    peak: f64,
    max_drawdown: f64,
    /// The drawdown of the last mark (0 before the first: the starting
    /// equity is its own peak).
    last_drawdown: f64,
    // daily returns
    current_day: Option<i64>,
    /// First second after the current UTC day (avoids a division per mark).
    day_end: i64,
    /// The last marked equity (the day's close so far).
    day_close_equity: f64,
    prev_day_equity: f64,
    n_days: u64,
    mean: f64,
    m2: f64,
    downside_sq: f64,
    // trades
    trades: u64,
    wins: u64,
    gross_profit: f64,
    gross_loss: f64,
    // exposure
    marks: u64,
    marks_exposed: u64,
}

/// The final figures (`summary.json`). `None` is `na`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Summary {
    pub start_equity: f64,
    pub final_equity: f64,
    pub total_return: f64,
    pub cagr: Option<f64>,
    pub max_drawdown: f64,
    pub sharpe: Option<f64>,
    pub sortino: Option<f64>,
    pub profit_factor: Option<f64>,
    pub win_rate: Option<f64>,
    pub trades: u64,
    pub exposure: Option<f64>,
}

impl Metrics {
    /// Starts with the account's starting equity.
    pub fn new(start_equity: f64) -> Metrics {
        Metrics {
            start_equity,
            first_time: None,
            last_second: 0,
            peak: start_equity,
            max_drawdown: 0.0,
            last_drawdown: 0.0,
            current_day: None,
            day_end: i64::MIN,
            day_close_equity: start_equity,
            prev_day_equity: start_equity,
            n_days: 0,
            mean: 0.0,
            m2: 0.0,
            downside_sq: 0.0,
            trades: 0,
            wins: 0,
            gross_profit: 0.0,
            gross_loss: 0.0,
            marks: 0,
            marks_exposed: 0,
        }
    }

    /// Records the equity marked at tick `time`; `exposed` when any position
    /// is open. Returns the drawdown from the running peak (0 at a peak or
    /// while the peak is not positive; `NaN` for a `NaN` equity).
    #[inline]
    pub fn mark(&mut self, time: Timestamp, equity: f64, exposed: bool) -> f64 {
        let secs = time.as_second();
        self.last_second = secs;
        self.marks += 1;
        self.marks_exposed += u64::from(exposed);
        let drawdown = if equity == self.day_close_equity {
            // The last mark's equity (or the starting one): the peak has
            // not moved since, nor the drawdown (a flat book, most marks).
            self.last_drawdown
        } else {
            if equity > self.peak {
                self.peak = equity;
            }
            let drawdown = if self.peak <= 0.0 || equity >= self.peak {
                0.0
            } else {
                1.0 - equity / self.peak
            };
            // `f64::max` (the maximum is never NaN; a NaN drawdown is
            // skipped).
            if drawdown > self.max_drawdown {
                self.max_drawdown = drawdown;
            }
            self.last_drawdown = drawdown;
            drawdown
        };
        if secs >= self.day_end {
            let day = secs.div_euclid(86_400);
            if self.current_day.is_some() {
                self.close_day();
            } else {
                // The first mark always starts a day.
                self.first_time = Some(time);
            }
            self.current_day = Some(day);
            self.day_end = (day + 1) * 86_400;
        }
        self.day_close_equity = equity;
        drawdown
    }

    fn close_day(&mut self) {
        if self.prev_day_equity > 0.0 {
            let r = self.day_close_equity / self.prev_day_equity - 1.0;
            self.n_days += 1;
            let delta = r - self.mean;
            self.mean += delta / self.n_days as f64;
            self.m2 += delta * (r - self.mean);
            if r < 0.0 {
                self.downside_sq += r * r;
            }
        }
        self.prev_day_equity = self.day_close_equity;
    }

    /// Records a closed trade's net P&L.
    pub fn trade(&mut self, pnl: f64) {
        self.trades += 1;
        if pnl > 0.0 {
            self.wins += 1;
            self.gross_profit += pnl;
        } else {
            self.gross_loss -= pnl;
        }
    }

    /// The figures so far (the last day counts as complete).
    pub fn summary(&self) -> Summary {
        let mut m = self.clone();
        if m.current_day.is_some() {
            m.close_day();
        }
        let total_return = m.day_close_equity / m.start_equity - 1.0;
        let years = match m.first_time {
            Some(a) => (m.last_second - a.as_second()) as f64 / (365.25 * 86_400.0),
            None => 0.0,
        };
        let cagr = (years * 365.25 >= 1.0 && m.day_close_equity > 0.0)
            .then(|| (m.day_close_equity / m.start_equity).powf(1.0 / years) - 1.0);
        let ann = 252f64.sqrt();
        let sd = (m.n_days > 1).then(|| (m.m2 / (m.n_days - 1) as f64).sqrt());
        let sharpe = sd.filter(|s| *s > 0.0).map(|s| m.mean / s * ann);
        let downside = (m.n_days > 0).then(|| (m.downside_sq / m.n_days as f64).sqrt());
        let sortino = downside.filter(|d| *d > 0.0).map(|d| m.mean / d * ann);
        Summary {
            start_equity: m.start_equity,
            final_equity: m.day_close_equity,
            total_return,
            cagr,
            max_drawdown: m.max_drawdown,
            sharpe,
            sortino,
            profit_factor: (m.gross_loss > 0.0).then(|| m.gross_profit / m.gross_loss),
            win_rate: (m.trades > 0).then(|| m.wins as f64 / m.trades as f64),
            trades: m.trades,
            exposure: (m.marks > 0).then(|| m.marks_exposed as f64 / m.marks as f64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 - 1_700_000_000 % 86_400 + d * 86_400 + 3_600).unwrap()
    }

    #[test]
    fn drawdown_and_returns() {
        let mut m = Metrics::new(100.0);
        for (d, e) in [(0, 100.0), (1, 110.0), (2, 99.0), (3, 121.0)] {
            m.mark(day(d), e, true);
        }
        m.trade(30.0);
        m.trade(-10.0);
        let s = m.summary();
        assert!((s.total_return - 0.21).abs() < 1e-12);
        assert!((s.max_drawdown - 0.1).abs() < 1e-12);
        assert_eq!(s.profit_factor, Some(3.0));
        assert_eq!(s.win_rate, Some(0.5));
        // daily returns against the previous day's close, the first day
        // against the starting equity: 0, 0.10, -0.10, 0.2222...
        let r = [0.0, 0.1, -0.1, 121.0 / 99.0 - 1.0];
        let mean = r.iter().sum::<f64>() / 4.0;
        let sd = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 3.0).sqrt();
        assert!((s.sharpe.unwrap() - mean / sd * 252f64.sqrt()).abs() < 1e-9);
        let dd = (0.01f64 / 4.0).sqrt();
        assert!((s.sortino.unwrap() - mean / dd * 252f64.sqrt()).abs() < 1e-9);
    }

    /// The drawdown of every mark (equity repeated, as a flat book marks
    /// it, or not; falling below zero; `na`) is the definition's.
    #[test]
    fn drawdown_of_every_mark_is_the_definition() {
        let mut next = crate::testing::xorshift(0xD0D0_CAFE_F00D_0001);
        for start in [100.0, 0.0, -5.0] {
            let mut m = Metrics::new(start);
            let (mut peak, mut max_dd) = (start, 0.0f64);
            let mut equity = start;
            for i in 0..20_000 {
                equity = match next() % 10 {
                    0..=4 => equity,
                    5 => f64::NAN,
                    6 => -equity,
                    _ => {
                        (if equity.is_nan() { start } else { equity }) + (next() % 21) as f64 - 10.0
                    }
                };
                let dd = m.mark(day(i / 100), equity, false);
                if equity > peak {
                    peak = equity;
                }
                let want = if peak <= 0.0 || equity >= peak {
                    0.0
                } else {
                    1.0 - equity / peak
                };
                max_dd = max_dd.max(want);
                assert!(
                    dd.to_bits() == want.to_bits() || dd.is_nan() && want.is_nan(),
                    "{i}"
                );
                assert_eq!(m.max_drawdown.to_bits(), max_dd.to_bits(), "{i}");
            }
        }
    }

    #[test]
    fn no_trades_means_na_ratios() {
        let mut m = Metrics::new(100.0);
        m.mark(day(0), 100.0, false);
        let s = m.summary();
        assert_eq!(
            (s.profit_factor, s.win_rate, s.cagr, s.sharpe),
            (None, None, None, None)
        );
        assert_eq!(s.exposure, Some(0.0));
    }
}
