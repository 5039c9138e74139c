//! Resampling a native bar stream to a larger interval (`symbol x = Y @ 4h`),
//! emitting completed bars only, in O(1) memory.
//!
//! # Buckets
//! Buckets are anchored at a [`DayStart`]: a wall-clock time in a zone
//! (default 00:00 UTC; FX and metals use 17:00 America/New_York).
//! * **Day** (`1d`): from one day start to the next, DST-aware (23 or 25
//!   hours on switch days). When the day start is 12:00 or later the day
//!   starts on the *previous* evening (FX: the trading day dated Monday runs
//!   from Sunday 17:00 to Monday 17:00 New York); otherwise on the date itself.
//! * **Week** (`1w`): the seven trading days starting with the one dated
//!   Monday (FX: Sunday 17:00 New York to the next Sunday 17:00; UTC: Monday
//!   00:00 to Monday 00:00).
//! * **Minutes** (`n` dividing 1440, e.g. `4h`): a wall-clock grid starting at
//!   the day start, in the anchor's zone (FX 4h: 17:00, 21:00, 01:00, ... New
//!   York, so 21/01/05/.. Z in summer and 22/02/06/.. Z in winter). Grid
//!   points are resolved like session boundaries
//!   ([`crate::session::resolve_wall_time`]): a point in a DST gap resolves
//!   to the gap's end (that bucket is shorter or empty), a point in a fold to
//!   its first instant (that bucket is longer). Buckets are therefore
//!   contiguous and never overlap.
//!
//! # Emission
//! A native bar belongs to the bucket containing its open. The bucket's bar
//! (`time` = bucket start, open of the first bar, max high, min low, close of
//! the last bar, summed volume) is emitted as soon as a bar whose close
//! reaches the bucket end is pushed, or, when the bucket's last native bar is
//! missing (holiday, gap), when the first bar of a later bucket arrives. The
//! emitted bar's `close` is the bucket end (or, if a native bar runs past the
//! bucket end, that bar's close: a resampled bar is never known before all
//! its data is).
//!
//! [`Resampler::finish`] does **not** emit the bucket still being built at
//! the end of the stream: that bar would be free of look-ahead but
//! incomplete (a 4h bar with two hours of data), and a strategy reading
//! `x.close` of a `@ 4h` symbol must only ever see bars covering their whole
//! interval. The partial bucket stays inspectable through
//! [`Resampler::partial`] for diagnostics.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::data::{Bar, ClosedBar};
use crate::session::resolve_wall_time;

const MINUTES_PER_DAY: u32 = 1440;

/// The target interval of a resampler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interval {
    /// `n` minutes, `n` dividing a day (1440) and smaller than a day.
    Minutes(u32),
    /// One trading day, from day start to day start.
    Day,
    /// One trading week, starting with the trading day dated Monday.
    Week,
}

impl Interval {
    /// An interval of `n` minutes (1440 gives [`Interval::Day`], 10080
    /// [`Interval::Week`]).
    ///
    /// # Errors
    /// [`ResampleError::BadInterval`] unless `n` is a positive divisor of
    /// 1440, 1440 or 10080.
    pub fn from_minutes(n: u32) -> Result<Interval, ResampleError> {
        match n {
            MINUTES_PER_DAY => Ok(Interval::Day),
            10_080 => Ok(Interval::Week),
            n if n > 0 && n < MINUTES_PER_DAY && MINUTES_PER_DAY.is_multiple_of(n) => {
                Ok(Interval::Minutes(n))
            }
            _ => Err(ResampleError::BadInterval(format!("{n} minutes"))),
        }
    }

    /// The interval of a duration (`4h`, `1d`, `1w`).
    ///
    /// # Errors
    /// [`ResampleError::BadInterval`] unless the duration is a whole number
    /// of minutes accepted by [`Interval::from_minutes`].
    pub fn from_duration(d: SignedDuration) -> Result<Interval, ResampleError> {
        let secs = d.as_secs();
        if d.subsec_nanos() != 0 || secs <= 0 || secs % 60 != 0 {
            return Err(ResampleError::BadInterval(format!("{d:#}")));
        }
        u32::try_from(secs / 60)
            .map_err(|_| ResampleError::BadInterval(format!("{d:#}")))
            .and_then(Interval::from_minutes)
    }
}

/// Where trading days start: a wall-clock time in a zone.
#[derive(Clone, Debug, PartialEq)]
pub struct DayStart {
    /// Local time at which a day starts.
    pub time: Time,
    /// Zone of `time`.
    pub zone: TimeZone,
}

impl Default for DayStart {
    fn default() -> Self {
        DayStart::utc()
    }
}

impl DayStart {
    /// Days start at 00:00 UTC.
    pub fn utc() -> DayStart {
        DayStart {
            time: Time::midnight(),
            zone: TimeZone::UTC,
        }
    }

    /// The FX and metals convention: days start at 17:00 America/New_York.
    pub fn new_york_17() -> DayStart {
        DayStart {
            time: Time::constant(17, 0, 0, 0),
            zone: TimeZone::get("America/New_York").expect("bundled tzdb has America/New_York"),
        }
    }

    /// Whether the day dated D starts on the evening of D - 1.
    fn evening(&self) -> bool {
        self.time >= Time::constant(12, 0, 0, 0)
    }

    /// The civil datetime at which the trading day dated `label` starts.
    fn civil_start(&self, label: Date) -> Option<DateTime> {
        let date = if self.evening() {
            label.yesterday().ok()?
        } else {
            label
        };
        Some(date.to_datetime(self.time))
    }

    /// The instant at which the trading day dated `label` starts.
    pub fn start_of(&self, label: Date) -> Option<Timestamp> {
        resolve_wall_time(&self.zone, self.civil_start(label)?)
    }

    /// The date of the trading day containing `t`.
    pub fn day_of(&self, t: Timestamp) -> Option<Date> {
        let local = self.zone.to_datetime(t);
        let mut label = local.date();
        if self.evening() && local.time() >= self.time {
            label = label.tomorrow().ok()?;
        }
        // Correct for DST edge cases (bounded: at most one step each way).
        for _ in 0..3 {
            if self.start_of(label)? > t {
                label = label.yesterday().ok()?;
            } else if self.start_of(label.tomorrow().ok()?)? <= t {
                label = label.tomorrow().ok()?;
            } else {
                return Some(label);
            }
        }
        None
    }

    /// The bucket `[start, end)` of `interval` containing `t`.
    pub fn bucket(&self, interval: Interval, t: Timestamp) -> Option<(Timestamp, Timestamp)> {
        let label = self.day_of(t)?;
        match interval {
            Interval::Day => Some((
                self.start_of(label)?,
                self.start_of(label.tomorrow().ok()?)?,
            )),
            Interval::Week => {
                let back = i64::from(label.weekday().to_monday_zero_offset());
                let monday = label.checked_sub(back.days()).ok()?;
                let next = monday.checked_add(7.days()).ok()?;
                Some((self.start_of(monday)?, self.start_of(next)?))
            }
            Interval::Minutes(n) => {
                let c0 = self.civil_start(label)?;
                let day_end = self.start_of(label.tomorrow().ok()?)?;
                let count = i64::from(MINUTES_PER_DAY / n);
                let step = i64::from(n);
                let point = |k: i64| -> Option<Timestamp> {
                    if k >= count {
                        return Some(day_end);
                    }
                    let dt = c0.checked_add(SignedDuration::from_mins(k * step)).ok()?;
                    resolve_wall_time(&self.zone, dt)
                };
                let local = self.zone.to_datetime(t);
                let minutes = local.duration_since(c0).as_secs().div_euclid(60);
                let mut k = minutes.div_euclid(step).clamp(0, count - 1);
                // Folds and gaps can put `t` in a neighbouring grid cell.
                while k > 0 && point(k)? > t {
                    k -= 1;
                }
                while k + 1 < count && point(k + 1)? <= t {
                    k += 1;
                }
                Some((point(k)?, point(k + 1)?))
            }
        }
    }
}

/// Why a bar cannot be resampled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResampleError {
    /// The interval is not a whole number of minutes dividing a day, a day
    /// or a week (e.g. `7m`, `90s`, `2d`).
    #[error("cannot resample to {0}: use a number of minutes dividing a day, 1d or 1w")]
    BadInterval(String),
    /// A bar opens at or before the previous bar's open, or before the close
    /// of an already emitted bucket.
    #[error("bar at {got} is out of order (must open after {previous})")]
    OutOfOrder {
        /// The earliest acceptable open (exclusive for the previous open).
        previous: Timestamp,
        /// The offending bar's open.
        got: Timestamp,
    },
    /// A bar's time is outside the range the time zone database supports.
    #[error("bar at {0} is outside the supported time range")]
    OutOfRange(Timestamp),
}

/// The completed bars produced by one [`Resampler::push`]: none, one, or two
/// (when a bucket left pending by a missing bar is closed by a bar that
/// itself completes its own bucket).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Emitted {
    bars: [Option<ClosedBar>; 2],
    next: usize,
}

impl Emitted {
    fn push(&mut self, bar: ClosedBar) {
        let slot = if self.bars[0].is_none() { 0 } else { 1 };
        self.bars[slot] = Some(bar);
    }

    /// Whether nothing was completed.
    pub fn is_empty(&self) -> bool {
        self.bars[self.next..].iter().all(Option::is_none)
    }
}

impl Iterator for Emitted {
    type Item = ClosedBar;

    fn next(&mut self) -> Option<ClosedBar> {
        while self.next < 2 {
            let i = self.next;
            self.next += 1;
            if let Some(bar) = self.bars[i].take() {
                return Some(bar);
            }
        }
        None
    }
}

/// The bucket being built.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Building {
    end: Timestamp,
    bar: Bar,
    last_close: Timestamp,
}

impl Building {
    fn completed(&self) -> ClosedBar {
        ClosedBar {
            bar: self.bar,
            close: self.end.max(self.last_close),
        }
    }
}

/// Streams native bars into completed bars of a larger interval (see the
/// module docs). Holds one bucket at a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Resampler {
    interval: Interval,
    anchor: DayStart,
    current: Option<Building>,
    last_open: Option<Timestamp>,
    emitted_until: Option<Timestamp>,
}

impl Resampler {
    /// A resampler to `interval` with buckets anchored at `anchor`.
    ///
    /// # Example
    /// ```
    /// use playbook::resample::{DayStart, Interval, Resampler};
    /// let r = Resampler::new(Interval::from_minutes(240)?, DayStart::new_york_17());
    /// assert!(r.partial().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(interval: Interval, anchor: DayStart) -> Resampler {
        Resampler {
            interval,
            anchor,
            current: None,
            last_open: None,
            emitted_until: None,
        }
    }

    /// The target interval.
    pub fn interval(&self) -> Interval {
        self.interval
    }

    /// The anchor.
    pub fn anchor(&self) -> &DayStart {
        &self.anchor
    }

    /// Adds a native bar; returns the buckets it completed.
    ///
    /// # Errors
    /// [`ResampleError::OutOfOrder`] when the bar does not open after the
    /// previous one (or opens inside an emitted bucket),
    /// [`ResampleError::OutOfRange`] for instants jiff cannot place.
    pub fn push(&mut self, bar: ClosedBar) -> Result<Emitted, ResampleError> {
        let t = bar.bar.time;
        if let Some(prev) = self.last_open
            && t <= prev
        {
            return Err(ResampleError::OutOfOrder {
                previous: prev,
                got: t,
            });
        }
        if let Some(until) = self.emitted_until
            && t < until
        {
            return Err(ResampleError::OutOfOrder {
                previous: until,
                got: t,
            });
        }
        if let Some(b) = &self.current
            && t >= b.end
            && t < b.last_close
        {
            return Err(ResampleError::OutOfOrder {
                previous: b.last_close,
                got: t,
            });
        }
        let mut out = Emitted::default();
        let start_new = match &mut self.current {
            Some(b) if t < b.end => {
                b.bar.high = b.bar.high.max(bar.bar.high);
                b.bar.low = b.bar.low.min(bar.bar.low);
                b.bar.close = bar.bar.close;
                b.bar.volume += bar.bar.volume;
                b.last_close = bar.close;
                false
            }
            Some(b) => {
                out.push(b.completed());
                self.emitted_until = Some(b.completed().close);
                self.current = None;
                true
            }
            None => true,
        };
        if start_new {
            let (start, end) = self
                .anchor
                .bucket(self.interval, t)
                .ok_or(ResampleError::OutOfRange(t))?;
            self.current = Some(Building {
                end,
                bar: Bar {
                    time: start,
                    ..bar.bar
                },
                last_close: bar.close,
            });
        }
        self.last_open = Some(t);
        if let Some(b) = self.current
            && bar.close >= b.end
        {
            let done = b.completed();
            self.emitted_until = Some(done.close);
            self.current = None;
            out.push(done);
        }
        Ok(out)
    }

    /// The bucket being built, as it stands (incomplete; never feed it to a
    /// strategy). Its `close` is the bucket end.
    pub fn partial(&self) -> Option<ClosedBar> {
        self.current.map(|b| b.completed())
    }

    /// Ends the stream. The partial bucket, if any, is dropped, not emitted
    /// (see the module docs for why); read [`Resampler::partial`] first to
    /// report it.
    pub fn finish(self) {}
}

impl Resampler {
    /// The end of the bucket being built, if any: the instant after which
    /// [`Resampler::close_due`] completes it (for live drivers' timers).
    pub fn pending_end(&self) -> Option<Timestamp> {
        self.current.map(|b| b.end)
    }

    /// Live mode: completes the bucket being built when the clock has reached
    /// its end (`now >= end`), without waiting for a bar of a later bucket.
    /// Gives the same bar that the next bar's arrival would have emitted.
    pub fn close_due(&mut self, now: Timestamp) -> Option<ClosedBar> {
        let b = self.current?;
        let done = b.completed();
        if now < done.close {
            return None;
        }
        self.current = None;
        self.emitted_until = Some(done.close);
        Some(done)
    }
}

/// Why a [`Resampled`] stream failed: its source's error or a resampling one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResampledError<E> {
    /// The native source failed.
    #[error(transparent)]
    Source(E),
    /// The native bars could not be resampled.
    #[error(transparent)]
    Resample(ResampleError),
}

/// An iterator adapter: native bars in, completed resampled bars out (the
/// form a `symbol x = Y @ 4h` source takes in the clock). Holds at most one
/// bucket and one ready bar.
pub struct Resampled<I> {
    inner: I,
    resampler: Resampler,
    ready: Emitted,
    failed: bool,
}

impl<I> Resampled<I> {
    /// Resamples `inner` with `resampler`.
    pub fn new(inner: I, resampler: Resampler) -> Resampled<I> {
        Resampled {
            inner,
            resampler,
            ready: Emitted::default(),
            failed: false,
        }
    }

    /// The resampler (e.g. to read the partial bucket at the end).
    pub fn resampler(&self) -> &Resampler {
        &self.resampler
    }
}

impl<I, E> Iterator for Resampled<I>
where
    I: Iterator<Item = Result<ClosedBar, E>>,
{
    type Item = Result<ClosedBar, ResampledError<E>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(bar) = self.ready.next() {
                return Some(Ok(bar));
            }
            if self.failed {
                return None;
            }
            match self.inner.next()? {
                Ok(bar) => match self.resampler.push(bar) {
                    Ok(emitted) => self.ready = emitted,
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(ResampledError::Resample(e)));
                    }
                },
                Err(e) => {
                    self.failed = true;
                    return Some(Err(ResampledError::Source(e)));
                }
            }
        }
    }
}
