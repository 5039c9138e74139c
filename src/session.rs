//! Trading sessions: daily wall-clock windows in an IANA time zone, and the
//! per-symbol session aggregates (`session_open`, `session_return`, ...).
//!
//! A [`Session`] is one or more windows `[start, end)` of local wall-clock
//! time, taken in the order written. A window whose end is not after its start
//! crosses midnight (`22:00-06:00`); a window whose start is before the
//! previous window's end starts on the next local day; `start == end` is a
//! full 24-hour window. All windows of one local day form one
//! [`Occurrence`] (e.g. Hong Kong `09:30-12:00, 13:00-16:00` with its lunch
//! break); an occurrence may span at most 24 hours of wall-clock time, so two
//! occurrences never overlap. The weekday filter selects the local day on
//! which an occurrence's first window starts: a Friday `22:00-06:00` window
//! with `mon-fri` runs into Saturday and still belongs to Friday.
//!
//! # Daylight saving time
//!
//! A wall-clock boundary `c` on a given local day resolves to the **first
//! instant whose local reading is at or after `c`** ([`resolve_wall_time`]).
//! * On ordinary days this is simply the instant of `c`.
//! * In a gap (clocks jump forward, `c` never happens) it is the end of the
//!   gap, i.e. the transition instant: New York `02:30` on 2024-03-10 is
//!   `03:00` EDT. This differs from jiff's `compatible` disambiguation
//!   (which would give `03:30` EDT) on purpose: `compatible` is not
//!   monotone (a `02:30-03:10` window would end before it starts) and would
//!   exclude instants whose clock visibly reads inside the window (`03:10`).
//!   With this rule a window always contains exactly the instants whose
//!   wall clock reads inside it, on the days where the wall clock does not
//!   repeat.
//! * In a fold (clocks go back, `c` happens twice) it is the first of the two
//!   instants (jiff's `earlier`, which is also `compatible`'s choice): a
//!   window ending at `01:30` on a New York fall-back day ends at `01:30`
//!   EDT, a window starting at `01:30` starts at `01:30` EDT.
//!
//! Zones without DST (Asia/Tokyo, Asia/Hong_Kong) are unaffected.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Timestamp, ToSpan};

use crate::data::ClosedBar;

/// Resolves a local wall-clock datetime in `zone` to the first instant whose
/// local reading is at or after it (gap: the gap's end; fold: the earlier
/// instant). Returns `None` only outside jiff's supported range.
pub fn resolve_wall_time(zone: &TimeZone, dt: DateTime) -> Option<Timestamp> {
    let amb = zone.to_ambiguous_timestamp(dt);
    match amb.offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt).ok(),
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt).ok(),
        AmbiguousOffset::Gap { after, .. } => {
            // `dt` read with the post-gap offset is an instant before the
            // transition; the next transition after it is the gap's end.
            let before_gap = after.to_timestamp(dt).ok()?;
            zone.following(before_gap).next().map(|t| t.timestamp())
        }
    }
}

/// A set of weekdays (the local day on which a session occurrence starts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WeekdaySet(u8);

impl WeekdaySet {
    /// Every day of the week (the default).
    pub const ALL: WeekdaySet = WeekdaySet(0b111_1111);
    /// No day at all (not valid for a session; useful to build a set).
    pub const EMPTY: WeekdaySet = WeekdaySet(0);

    fn bit(day: Weekday) -> u8 {
        1 << day.to_monday_zero_offset()
    }

    /// The set holding exactly `day`.
    pub fn single(day: Weekday) -> WeekdaySet {
        WeekdaySet(Self::bit(day))
    }

    /// The days from `first` to `last` inclusive, wrapping past Sunday
    /// (`fri..=mon` is Friday, Saturday, Sunday, Monday).
    pub fn range(first: Weekday, last: Weekday) -> WeekdaySet {
        let mut set = WeekdaySet::EMPTY;
        let mut day = first;
        loop {
            set = set.with(day);
            if day == last {
                return set;
            }
            day = day.next();
        }
    }

    /// This set plus `day`.
    pub fn with(self, day: Weekday) -> WeekdaySet {
        WeekdaySet(self.0 | Self::bit(day))
    }

    /// This set plus every day of `other`.
    pub fn union(self, other: WeekdaySet) -> WeekdaySet {
        WeekdaySet(self.0 | other.0)
    }

    /// Whether `day` is in the set.
    pub fn contains(self, day: Weekday) -> bool {
        self.0 & Self::bit(day) != 0
    }

    /// Whether the set holds no day.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl Default for WeekdaySet {
    fn default() -> Self {
        WeekdaySet::ALL
    }
}

/// Why a session cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The session was given no window (`Session::new(vec![], ..)`).
    #[error("a session needs at least one window")]
    NoWindows,
    /// The weekday filter selects no day.
    #[error("the session's day filter selects no day")]
    NoDays,
    /// Window number `window` (0-based) makes one day's windows span more
    /// than 24 hours, so it would overlap the next day's first window
    /// (e.g. `09:00-12:00, 08:00-10:00`: the second window starts the next
    /// day at 08:00 and runs past that day's 09:00 start).
    #[error(
        "window {} ({start}-{end}) ends after the next day's first window starts; \
         one day's windows must span at most 24 hours",
        window + 1
    )]
    Overlap {
        /// 0-based index of the offending window.
        window: usize,
        /// Its start.
        start: Time,
        /// Its end.
        end: Time,
    },
}

/// One window with the day offsets (0 or 1) of its start and end relative to
/// the occurrence's local date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Window {
    start: Time,
    start_day: i8,
    end: Time,
    end_day: i8,
}

/// A trading session: daily wall-clock windows in a time zone, with a
/// weekday filter (see the module docs for the exact semantics).
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    windows: Vec<Window>,
    zone: TimeZone,
    days: WeekdaySet,
}

/// One trading day's instance of a session: all its windows that start on
/// local date `date`, from the first window's start to the last window's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Occurrence {
    /// The local date on which the first window starts.
    pub date: Date,
    /// Start of the first window (UTC instant).
    pub start: Timestamp,
    /// End of the last window (UTC instant, exclusive).
    pub end: Timestamp,
}

/// Where an instant lies relative to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// Inside window `window` (0-based, as written) of `occurrence`, whose
    /// instance on that day is `[start, end)`.
    Inside {
        /// The occurrence.
        occurrence: Occurrence,
        /// Index of the window, in the order written.
        window: usize,
        /// Start of this window's instance.
        start: Timestamp,
        /// End of this window's instance (exclusive).
        end: Timestamp,
    },
    /// Outside every window; the next window starts at `next_start` (`None`
    /// only at the end of jiff's supported range).
    Outside {
        /// Start of the next window instance after the instant.
        next_start: Option<Timestamp>,
    },
}

impl Session {
    /// Builds a session from windows `(start, end)` in the order written, a
    /// zone and the days on which occurrences start.
    ///
    /// # Errors
    /// [`SessionError::NoWindows`] for an empty list, [`SessionError::NoDays`]
    /// for an empty day set, [`SessionError::Overlap`] when one day's windows
    /// would span more than 24 hours.
    ///
    /// # Example
    /// ```
    /// use jiff::civil::time;
    /// use jiff::tz::TimeZone;
    /// use playbook::session::{Session, WeekdaySet};
    /// let hk = Session::new(
    ///     vec![(time(9, 30, 0, 0), time(12, 0, 0, 0)), (time(13, 0, 0, 0), time(16, 0, 0, 0))],
    ///     TimeZone::get("Asia/Hong_Kong")?,
    ///     WeekdaySet::ALL,
    /// )?;
    /// // 12:30 Hong Kong (04:30Z) is the lunch break.
    /// assert!(!hk.contains("2024-07-01T04:30:00Z".parse()?));
    /// assert!(hk.contains("2024-07-01T05:00:00Z".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        windows: Vec<(Time, Time)>,
        zone: TimeZone,
        days: WeekdaySet,
    ) -> Result<Session, SessionError> {
        if windows.is_empty() {
            return Err(SessionError::NoWindows);
        }
        if days.is_empty() {
            return Err(SessionError::NoDays);
        }
        let mut out: Vec<Window> = Vec::with_capacity(windows.len());
        for (i, &(start, end)) in windows.iter().enumerate() {
            let start_day = match out.last() {
                None => 0,
                Some(prev) => prev.end_day + i8::from(start < prev.end),
            };
            let end_day = start_day + i8::from(end <= start);
            let first = out.first().map_or(start, |w| w.start);
            // The window must end no later than the next day's first start.
            if (end_day, end) > (1, first) {
                return Err(SessionError::Overlap {
                    window: i,
                    start,
                    end,
                });
            }
            out.push(Window {
                start,
                start_day,
                end,
                end_day,
            });
        }
        Ok(Session {
            windows: out,
            zone,
            days,
        })
    }

    /// The session's time zone.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The days on which occurrences start.
    pub fn days(&self) -> WeekdaySet {
        self.days
    }

    /// The windows `(start, end)` in the order written.
    pub fn windows(&self) -> impl Iterator<Item = (Time, Time)> + '_ {
        self.windows.iter().map(|w| (w.start, w.end))
    }

    fn instant(&self, date: Date, day: i8, time: Time) -> Option<Timestamp> {
        let date = date.checked_add(i64::from(day).days()).ok()?;
        resolve_wall_time(&self.zone, date.to_datetime(time))
    }

    /// The UTC instance `[start, end)` of window `index` on the occurrence of
    /// local date `date`, ignoring the weekday filter. The instance is empty
    /// (`start == end`) when both ends fall in the same DST gap.
    fn window_on(&self, date: Date, index: usize) -> Option<(Timestamp, Timestamp)> {
        let w = self.windows[index];
        let start = self.instant(date, w.start_day, w.start)?;
        let end = self.instant(date, w.end_day, w.end)?;
        Some((start, end.max(start)))
    }

    /// The occurrence that starts on local date `date`, or `None` when the
    /// weekday filter excludes that day.
    pub fn occurrence_on(&self, date: Date) -> Option<Occurrence> {
        if !self.days.contains(date.weekday()) {
            return None;
        }
        let (start, _) = self.window_on(date, 0)?;
        let (_, end) = self.window_on(date, self.windows.len() - 1)?;
        Some(Occurrence { date, start, end })
    }

    /// The window instances `[start, end)` of the occurrence on `date`, in
    /// order (empty when the weekday filter excludes that day).
    pub fn windows_on(&self, date: Date) -> Vec<(Timestamp, Timestamp)> {
        if !self.days.contains(date.weekday()) {
            return Vec::new();
        }
        (0..self.windows.len())
            .filter_map(|i| self.window_on(date, i))
            .collect()
    }

    /// Where instant `t` lies: inside which window of which occurrence, or
    /// outside with the next window start.
    pub fn locate(&self, t: Timestamp) -> Location {
        let local = self.zone.to_datetime(t).date();
        // An instant can only be in the occurrence of its own local date or
        // of the day before (the day after only around a fold at midnight).
        for back in [-1i64, 0, 1] {
            let Ok(date) = local.checked_add(back.days()) else {
                continue;
            };
            let Some(occurrence) = self.occurrence_on(date) else {
                continue;
            };
            if t < occurrence.start || t >= occurrence.end {
                continue;
            }
            for i in 0..self.windows.len() {
                if let Some((start, end)) = self.window_on(date, i)
                    && start <= t
                    && t < end
                {
                    return Location::Inside {
                        occurrence,
                        window: i,
                        start,
                        end,
                    };
                }
            }
        }
        // Outside: the earliest window start after `t`. The weekday filter
        // may skip up to six days.
        for ahead in -1i64..=8 {
            let Ok(date) = local.checked_add(ahead.days()) else {
                continue;
            };
            if !self.days.contains(date.weekday()) {
                continue;
            }
            for i in 0..self.windows.len() {
                if let Some((start, end)) = self.window_on(date, i)
                    && start > t
                    && start < end
                {
                    return Location::Outside {
                        next_start: Some(start),
                    };
                }
            }
        }
        Location::Outside { next_start: None }
    }

    /// Whether instant `t` is inside one of the session's windows.
    pub fn contains(&self, t: Timestamp) -> bool {
        matches!(self.locate(t), Location::Inside { .. })
    }

    /// The occurrence whose window contains `t`, if any (`None` in breaks
    /// and outside the session).
    pub fn occurrence_at(&self, t: Timestamp) -> Option<Occurrence> {
        match self.locate(t) {
            Location::Inside { occurrence, .. } => Some(occurrence),
            Location::Outside { .. } => None,
        }
    }

    /// The first instant after `t` at which [`Session::contains`] changes
    /// (the end of the current window, or the start of the next one).
    pub fn next_boundary(&self, t: Timestamp) -> Option<Timestamp> {
        match self.locate(t) {
            Location::Inside { end, .. } => Some(end),
            Location::Outside { next_start } => next_start,
        }
    }
}

/// The running aggregate of one occurrence.
#[derive(Clone, Copy, Debug, PartialEq)]
struct AggState {
    occurrence: Occurrence,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    bars: usize,
}

/// A cached answer of [`Session::locate`], valid while bar opens stay in
/// `[from, until)`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cached {
    from: Timestamp,
    until: Timestamp,
    occurrence: Option<Occurrence>,
}

/// Per-symbol session aggregate (open, high, low, close, volume, return of
/// the session in progress or the most recent completed one), updated in
/// O(1) per bar.
///
/// A bar belongs to the occurrence whose window contains the bar's **open**
/// instant and is included when [`SessionAgg::update`] is called, which the
/// engine does at the bar's close. Bars outside every window are ignored; the
/// first bar of a new occurrence resets the aggregate.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionAgg {
    session: Session,
    cache: Option<Cached>,
    state: Option<AggState>,
}

impl SessionAgg {
    /// An empty aggregate over `session`.
    pub fn new(session: Session) -> SessionAgg {
        SessionAgg {
            session,
            cache: None,
            state: None,
        }
    }

    /// The session aggregated.
    pub fn session(&self) -> &Session {
        &self.session
    }

    fn occurrence_of(&mut self, t: Timestamp) -> Option<Occurrence> {
        if let Some(c) = self.cache
            && c.from <= t
            && t < c.until
        {
            return c.occurrence;
        }
        let (cached, occurrence) = match self.session.locate(t) {
            Location::Inside {
                occurrence,
                end,
                start,
                ..
            } => (
                Cached {
                    from: start,
                    until: end,
                    occurrence: Some(occurrence),
                },
                Some(occurrence),
            ),
            Location::Outside { next_start } => (
                Cached {
                    from: t,
                    until: next_start.unwrap_or(Timestamp::MAX),
                    occurrence: None,
                },
                None,
            ),
        };
        self.cache = Some(cached);
        occurrence
    }

    /// Adds a closed bar; returns whether it was included (its open lies in
    /// a window). Bars must come in time order.
    pub fn update(&mut self, bar: &ClosedBar) -> bool {
        let Some(occurrence) = self.occurrence_of(bar.bar.time) else {
            return false;
        };
        let b = &bar.bar;
        match &mut self.state {
            Some(s) if s.occurrence == occurrence => {
                s.high = s.high.max(b.high);
                s.low = s.low.min(b.low);
                s.close = b.close;
                s.volume += b.volume;
                s.bars += 1;
            }
            _ => {
                self.state = Some(AggState {
                    occurrence,
                    open: b.open,
                    high: b.high,
                    low: b.low,
                    close: b.close,
                    volume: b.volume,
                    bars: 1,
                });
            }
        }
        true
    }

    /// The occurrence aggregated (in progress or most recently completed).
    pub fn occurrence(&self) -> Option<Occurrence> {
        self.state.map(|s| s.occurrence)
    }

    /// Whether the aggregated occurrence is still running at `now`
    /// (`start <= now < end`).
    pub fn in_progress(&self, now: Timestamp) -> bool {
        self.state
            .is_some_and(|s| s.occurrence.start <= now && now < s.occurrence.end)
    }

    /// Open of the occurrence's first bar.
    pub fn open(&self) -> Option<f64> {
        self.state.map(|s| s.open)
    }

    /// Highest high so far.
    pub fn high(&self) -> Option<f64> {
        self.state.map(|s| s.high)
    }

    /// Lowest low so far.
    pub fn low(&self) -> Option<f64> {
        self.state.map(|s| s.low)
    }

    /// Close of the last included bar (the last price while in progress).
    pub fn close(&self) -> Option<f64> {
        self.state.map(|s| s.close)
    }

    /// Summed volume (NaN when the source has no volume).
    pub fn volume(&self) -> Option<f64> {
        self.state.map(|s| s.volume)
    }

    /// Number of bars included in the occurrence.
    pub fn bars(&self) -> usize {
        self.state.map_or(0, |s| s.bars)
    }

    /// `close / open - 1` of the occurrence.
    pub fn session_return(&self) -> Option<f64> {
        self.state.map(|s| s.close / s.open - 1.0)
    }
}
