//! The multi-symbol clock: merges bar and series sources, streaming, into
//! engine ticks, and answers as-of lookups at each tick.
//!
//! # Ticks
//! The clock ticks at every distinct **bar close** across all bar sources.
//! At the tick at time `t` every source shows its latest event at or before
//! `t` (a bar's `close`, a series point's `time`); nothing later is visible.
//! [`Tick::updated`] lists the sources whose visible value changed since the
//! previous tick, in source order: the bar sources that printed a bar closing
//! at `t`, and the series whose new point became visible at `t`. A series
//! point never creates a tick by itself (the language's clock is bar closes);
//! it becomes visible at the first tick at or after its time, and a point
//! superseded before any tick is never visible.
//!
//! # Two ways in, one path
//! * [`Merge`] pulls from iterators (history): a k-way merge holding one
//!   pending event per source, so memory does not grow with the history.
//! * [`Clock::push`] takes events one at a time (live mode), in global time
//!   order, and returns a tick when an event with a later time proves the
//!   open tick complete; [`Clock::flush`] closes the open tick. [`Merge`]
//!   runs the same admission and application steps as `push` (it peeks at
//!   the next event instead of holding it), so both give the same ticks and
//!   errors (and a test checks it).
//!
//! After a tick is returned, the as-of accessors ([`Clock::bar`],
//! [`Clock::value`], [`Clock::age`]) describe exactly that tick until the
//! next call that advances the clock.

use std::convert::Infallible;

use jiff::{SignedDuration, Timestamp};

use crate::data::{ClosedBar, SeriesPoint};

/// Maximum number of sources one clock can merge.
pub const MAX_SOURCES: usize = 256;

/// The kind of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// A symbol's closed bars.
    Bars,
    /// A non-price step series.
    Series,
}

/// One item of a source: a closed bar or a series point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// A bar, known at its `close`.
    Bar(ClosedBar),
    /// A series point, known from its `time`.
    Point(SeriesPoint),
}

impl Event {
    /// The instant the event becomes known (bar close, point time).
    pub fn time(&self) -> Timestamp {
        match self {
            Event::Bar(b) => b.close,
            Event::Point(p) => p.time,
        }
    }

    /// The kind of source that produces this event.
    pub fn kind(&self) -> SourceKind {
        match self {
            Event::Bar(_) => SourceKind::Bars,
            Event::Point(_) => SourceKind::Series,
        }
    }
}

impl From<ClosedBar> for Event {
    fn from(bar: ClosedBar) -> Event {
        Event::Bar(bar)
    }
}

impl From<SeriesPoint> for Event {
    fn from(point: SeriesPoint) -> Event {
        Event::Point(point)
    }
}

/// A set of source indices (a fixed bitset of [`MAX_SOURCES`] bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SourceSet([u64; MAX_SOURCES / 64]);

impl SourceSet {
    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    /// Whether source `i` is in the set.
    pub fn contains(&self, i: usize) -> bool {
        i < MAX_SOURCES && self.0[i / 64] & (1 << (i % 64)) != 0
    }

    /// Number of sources in the set.
    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The indices in increasing (source) order.
    pub fn iter(&self) -> SourceIter {
        SourceIter {
            words: self.0,
            word: 0,
        }
    }
}

/// The indices of a [`SourceSet`], in increasing order.
#[derive(Clone, Debug)]
pub struct SourceIter {
    /// The bits not yet returned.
    words: [u64; MAX_SOURCES / 64],
    /// The word being read.
    word: usize,
}

impl Iterator for SourceIter {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.word < self.words.len() {
            let bits = self.words[self.word];
            if bits != 0 {
                self.words[self.word] = bits & (bits - 1);
                return Some(self.word * 64 + bits.trailing_zeros() as usize);
            }
            self.word += 1;
        }
        None
    }
}

/// One engine tick: a distinct bar-close instant, and the sources whose
/// visible value changed at it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tick {
    /// The tick instant (a bar close).
    pub time: Timestamp,
    /// Sources updated at this tick (iterate for source order).
    pub updated: SourceSet,
}

/// Why the clock stopped. `E` is the sources' own error type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClockError<E> {
    /// A source failed; the clock stops with its error.
    #[error("source `{name}`: {error}")]
    Source {
        /// Index of the source.
        index: usize,
        /// Name of the source.
        name: String,
        /// The source's error.
        error: E,
    },
    /// A source's event is not after its previous one.
    #[error("source `{name}` went back in time: {got} after {previous}")]
    OutOfOrder {
        /// Index of the source.
        index: usize,
        /// Name of the source.
        name: String,
        /// Time of its previous event.
        previous: Timestamp,
        /// Time of the offending event.
        got: Timestamp,
    },
    /// A pushed event is earlier than a tick already open or returned (live
    /// mode needs events in global time order).
    #[error("source `{name}`: event at {got} arrived after the clock reached {tick}")]
    Late {
        /// Index of the source.
        index: usize,
        /// Name of the source.
        name: String,
        /// The clock's time.
        tick: Timestamp,
        /// Time of the late event.
        got: Timestamp,
    },
    /// A source produced an event of the other kind (a bar on a series).
    #[error("source `{name}` is a {expected:?} source but produced a {got:?} event")]
    WrongKind {
        /// Index of the source.
        index: usize,
        /// Name of the source.
        name: String,
        /// The declared kind.
        expected: SourceKind,
        /// The event's kind.
        got: SourceKind,
    },
    /// An event was pushed for a source index the clock does not have.
    #[error("no source with index {0}")]
    UnknownSource(usize),
    /// More than [`MAX_SOURCES`] sources were declared.
    #[error("too many sources: {0} (at most {MAX_SOURCES})")]
    TooManySources(usize),
}

impl ClockError<Infallible> {
    /// The same error in a clock whose sources fail with `E` (the clock's
    /// own errors never hold a source error).
    pub fn widen<E>(self) -> ClockError<E> {
        match self {
            ClockError::Source { error, .. } => match error {},
            ClockError::OutOfOrder {
                index,
                name,
                previous,
                got,
            } => ClockError::OutOfOrder {
                index,
                name,
                previous,
                got,
            },
            ClockError::Late {
                index,
                name,
                tick,
                got,
            } => ClockError::Late {
                index,
                name,
                tick,
                got,
            },
            ClockError::WrongKind {
                index,
                name,
                expected,
                got,
            } => ClockError::WrongKind {
                index,
                name,
                expected,
                got,
            },
            ClockError::UnknownSource(i) => ClockError::UnknownSource(i),
            ClockError::TooManySources(n) => ClockError::TooManySources(n),
        }
    }
}

/// A declared source: its name (for errors) and kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceInfo {
    /// Name shown in errors (the symbol or series name).
    pub name: String,
    /// Kind of events it produces.
    pub kind: SourceKind,
}

impl SourceInfo {
    /// A bar source.
    pub fn bars(name: impl Into<String>) -> SourceInfo {
        SourceInfo {
            name: name.into(),
            kind: SourceKind::Bars,
        }
    }

    /// A series source.
    pub fn series(name: impl Into<String>) -> SourceInfo {
        SourceInfo {
            name: name.into(),
            kind: SourceKind::Series,
        }
    }
}

/// The clock's per-source state.
#[derive(Clone, Debug, PartialEq)]
struct Slot {
    info: SourceInfo,
    /// The visible event (at or before the last returned tick).
    visible: Option<Event>,
    /// A series point received but not yet visible (no tick reached it).
    waiting: Option<SeriesPoint>,
    /// Time of the last event received (for per-source order).
    last_time: Option<Timestamp>,
}

/// The multi-source clock with the push API and the as-of state; see the
/// module docs. Memory is fixed at construction.
#[derive(Clone, Debug, PartialEq)]
pub struct Clock {
    slots: Vec<Slot>,
    /// The tick being assembled (bars at this time applied).
    open: Option<Timestamp>,
    open_updated: SourceSet,
    /// The sources updated at the last returned tick.
    updated: SourceSet,
    /// Whether a slot may hold a waiting series point (false: the tick that
    /// opens need not look at every slot).
    any_waiting: bool,
    /// An event that proved the open tick complete, applied on the next call.
    held: Option<(usize, Event)>,
    /// The last returned tick.
    now: Option<Timestamp>,
}

impl Clock {
    /// A clock over `sources` (indices follow the order given).
    ///
    /// # Errors
    /// [`ClockError::TooManySources`] beyond [`MAX_SOURCES`].
    pub fn new(sources: Vec<SourceInfo>) -> Result<Clock, ClockError<Infallible>> {
        if sources.len() > MAX_SOURCES {
            return Err(ClockError::TooManySources(sources.len()));
        }
        Ok(Clock {
            slots: sources
                .into_iter()
                .map(|info| Slot {
                    info,
                    visible: None,
                    waiting: None,
                    last_time: None,
                })
                .collect(),
            open: None,
            open_updated: SourceSet::default(),
            updated: SourceSet::default(),
            any_waiting: false,
            held: None,
            now: None,
        })
    }

    /// Number of sources.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the clock has no source.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The declared source `i`.
    pub fn source(&self, i: usize) -> Option<&SourceInfo> {
        self.slots.get(i).map(|s| &s.info)
    }

    /// The time of the last returned tick.
    pub fn time(&self) -> Option<Timestamp> {
        self.now
    }

    /// The sources updated at the last returned tick ([`Tick::updated`]).
    pub fn updated(&self) -> &SourceSet {
        &self.updated
    }

    /// Source `i`'s latest visible event.
    pub fn event(&self, i: usize) -> Option<&Event> {
        self.slots.get(i)?.visible.as_ref()
    }

    /// Source `i`'s latest bar closed at or before the tick.
    pub fn bar(&self, i: usize) -> Option<&ClosedBar> {
        match self.event(i)? {
            Event::Bar(b) => Some(b),
            Event::Point(_) => None,
        }
    }

    /// Series `i`'s value as of the tick (step function).
    pub fn value(&self, i: usize) -> Option<f64> {
        match self.event(i)? {
            Event::Point(p) => Some(p.value),
            Event::Bar(_) => None,
        }
    }

    /// Staleness of source `i`: tick time minus its last bar close (or point
    /// time); `None` before its first visible event.
    pub fn age(&self, i: usize) -> Option<SignedDuration> {
        Some(self.now?.duration_since(self.event(i)?.time()))
    }

    /// Events held besides the visible ones (waiting series points, the held
    /// event); bounded by the number of sources plus one.
    pub fn buffered(&self) -> usize {
        self.slots.iter().filter(|s| s.waiting.is_some()).count() + usize::from(self.held.is_some())
    }

    /// Allocated per-source slots; fixed at construction (it does not grow
    /// with the input).
    pub fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    fn name(&self, i: usize) -> String {
        self.slots[i].info.name.clone()
    }

    /// Checks index, kind and per-source order; records the event's time.
    #[inline]
    fn admit(&mut self, i: usize, event: &Event) -> Result<(), ClockError<Infallible>> {
        let t = event.time();
        // Global order: nothing before the open tick or at/before a returned one.
        let in_order = match (self.open, self.now) {
            (Some(open), _) => t >= open,
            (None, Some(now)) => t > now,
            (None, None) => true,
        };
        match self.slots.get_mut(i) {
            Some(slot)
                if in_order
                    && slot.info.kind == event.kind()
                    && slot.last_time.is_none_or(|previous| t > previous) =>
            {
                slot.last_time = Some(t);
                Ok(())
            }
            _ => Err(self.rejection(i, event)),
        }
    }

    /// Why [`Clock::admit`] rejects an event (checked in this order).
    #[cold]
    fn rejection(&self, i: usize, event: &Event) -> ClockError<Infallible> {
        let Some(slot) = self.slots.get(i) else {
            return ClockError::UnknownSource(i);
        };
        if slot.info.kind != event.kind() {
            return ClockError::WrongKind {
                index: i,
                name: self.name(i),
                expected: slot.info.kind,
                got: event.kind(),
            };
        }
        let t = event.time();
        if let Some(previous) = slot.last_time
            && t <= previous
        {
            return ClockError::OutOfOrder {
                index: i,
                name: self.name(i),
                previous,
                got: t,
            };
        }
        ClockError::Late {
            index: i,
            name: self.name(i),
            tick: self
                .open
                .or(self.now)
                .expect("only an earlier tick makes an event late"),
            got: t,
        }
    }

    /// Applies an admitted event that is at or after the open tick.
    #[inline]
    fn apply(&mut self, i: usize, event: Event) -> Option<Tick> {
        match self.open {
            Some(open) if event.time() > open => {
                // The open tick is complete; this event waits for the next call.
                self.held = Some((i, event));
                self.close_tick()
            }
            _ => {
                self.apply_pending(i, &mut Some(event));
                None
            }
        }
    }

    /// A tick opens: every waiting series point becomes visible at it.
    #[inline]
    fn reveal_waiting(&mut self) {
        if !self.any_waiting {
            return;
        }
        self.any_waiting = false;
        for (j, slot) in self.slots.iter_mut().enumerate() {
            if let Some(p) = slot.waiting.take() {
                slot.visible = Some(Event::Point(p));
                self.open_updated.insert(j);
            }
        }
    }

    /// Applies an admitted event at or after the open tick that does not
    /// close it (a merge closes ticks itself; `apply` holds such an event),
    /// moved out of `pending` straight into its slot: a merge's event is not
    /// copied through a temporary, whose wide reload right after narrow
    /// stores stalled on store forwarding.
    #[inline]
    fn apply_pending(&mut self, i: usize, pending: &mut Option<Event>) {
        let Some(event) = pending.as_ref() else {
            return;
        };
        let t = event.time();
        debug_assert!(
            self.open.is_none_or(|open| t == open),
            "an event at the open tick never closes it"
        );
        match (self.open, event) {
            (None, Event::Point(p)) => {
                self.slots[i].waiting = Some(*p);
                self.any_waiting = true;
                *pending = None;
            }
            (None, Event::Bar(_)) => {
                self.open = Some(t);
                self.reveal_waiting();
                self.slots[i].visible = pending.take();
                self.open_updated.insert(i);
            }
            (Some(_), _) => {
                self.slots[i].visible = pending.take();
                self.slots[i].waiting = None;
                self.open_updated.insert(i);
            }
        }
    }

    #[inline]
    fn close_tick(&mut self) -> Option<Tick> {
        let time = self.close()?;
        Some(Tick {
            time,
            updated: self.updated,
        })
    }

    /// Closes the open tick: it becomes the clock's time, its updated
    /// sources [`Clock::updated`].
    #[inline]
    fn close(&mut self) -> Option<Timestamp> {
        let time = self.open.take()?;
        self.now = Some(time);
        self.updated = std::mem::take(&mut self.open_updated);
        Some(time)
    }

    fn settle(&mut self) {
        if let Some((i, event)) = self.held.take() {
            let tick = self.apply(i, event);
            debug_assert!(tick.is_none(), "a held event never closes a tick");
        }
    }

    /// Live mode: feeds one event of source `i`; returns the previous tick
    /// when this event proves it complete (its time is later). Events must
    /// come in global time order; events with equal times may come in any
    /// source order.
    ///
    /// # Errors
    /// [`ClockError::UnknownSource`], [`ClockError::WrongKind`],
    /// [`ClockError::OutOfOrder`] (not after the source's previous event),
    /// [`ClockError::Late`] (before the clock's current time). A rejected
    /// event is not applied.
    pub fn push(
        &mut self,
        i: usize,
        event: impl Into<Event>,
    ) -> Result<Option<Tick>, ClockError<Infallible>> {
        let event = event.into();
        self.settle();
        self.admit(i, &event)?;
        Ok(self.apply(i, event))
    }

    /// Live mode: closes the open tick (all its events have arrived) and
    /// returns it.
    pub fn flush(&mut self) -> Option<Tick> {
        self.settle();
        self.close_tick()
    }
}

/// One source of a [`Merge`]: its iterator and its one pending event.
struct Input<I> {
    iter: I,
    pending: Option<Event>,
    /// Whether `pending` passed the clock's checks (it waits for the next
    /// call when it proved the open tick complete).
    admitted: bool,
    done: bool,
}

/// History mode: a streaming k-way merge of sources into [`Tick`]s, holding
/// one pending event per source. Each source is an iterator of
/// `Result<T, E>` with `T` a [`ClosedBar`] or [`SeriesPoint`] (or an
/// [`Event`], to mix kinds behind one iterator type, e.g. boxed).
pub struct Merge<I> {
    clock: Clock,
    inputs: Vec<Input<I>>,
    failed: bool,
}

impl<I, T, E> Merge<I>
where
    I: Iterator<Item = Result<T, E>>,
    T: Into<Event>,
{
    /// A merge of `sources` (declaration, iterator), indices in that order.
    ///
    /// # Errors
    /// [`ClockError::TooManySources`] beyond [`MAX_SOURCES`].
    pub fn new(sources: Vec<(SourceInfo, I)>) -> Result<Merge<I>, ClockError<E>> {
        let (infos, iters): (Vec<_>, Vec<_>) = sources.into_iter().unzip();
        Ok(Merge {
            clock: Clock::new(infos).map_err(ClockError::widen)?,
            inputs: iters
                .into_iter()
                .map(|iter| Input {
                    iter,
                    pending: None,
                    admitted: false,
                    done: false,
                })
                .collect(),
            failed: false,
        })
    }

    /// The clock, for as-of lookups at the last returned tick.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Events held: one pending per source plus the clock's own
    /// ([`Clock::buffered`]); bounded by twice the number of sources plus one.
    pub fn buffered(&self) -> usize {
        self.inputs.iter().filter(|i| i.pending.is_some()).count() + self.clock.buffered()
    }

    /// Allocated slots (sources and clock); fixed at construction.
    pub fn capacity(&self) -> usize {
        self.inputs.capacity() + self.clock.capacity()
    }

    #[cold]
    fn fail<R>(&mut self, error: ClockError<E>) -> Option<Result<R, ClockError<E>>> {
        self.failed = true;
        Some(Err(error))
    }

    /// The next tick, or the error that stopped the clock, or `None` at the
    /// end of every source.
    pub fn next_tick(&mut self) -> Option<Result<Tick, ClockError<E>>> {
        let time = self.advance()?;
        Some(time.map(|time| Tick {
            time,
            updated: self.clock.updated,
        }))
    }

    /// [`Merge::next_tick`] returning only the tick's time; its updated
    /// sources are the clock's [`Clock::updated`] (nothing is copied).
    pub fn advance(&mut self) -> Option<Result<Timestamp, ClockError<E>>> {
        if self.failed {
            return None;
        }
        loop {
            // Refill empty pending slots (lazily, so a source's error is
            // reported before any tick it could have changed), and find the
            // earliest pending event; ties go to the lowest index.
            let mut best: Option<(usize, Timestamp)> = None;
            for i in 0..self.inputs.len() {
                let input = &mut self.inputs[i];
                if input.pending.is_none() && !input.done {
                    match input.iter.next() {
                        Some(Ok(item)) => input.pending = Some(item.into()),
                        Some(Err(error)) => {
                            let name = self.clock.name(i);
                            return self.fail(ClockError::Source {
                                index: i,
                                name,
                                error,
                            });
                        }
                        None => input.done = true,
                    }
                }
                if let Some(e) = &input.pending {
                    let t = e.time();
                    if best.is_none_or(|(_, bt)| t < bt) {
                        best = Some((i, t));
                    }
                }
            }
            let Some((i, t)) = best else {
                // Nothing is held: a merge peeks instead.
                return self.clock.close().map(Ok);
            };
            // The same steps as `Clock::push`, except that an event proving
            // the open tick complete stays pending here instead of being
            // moved into the clock's `held` slot.
            let input = &mut self.inputs[i];
            if !input.admitted {
                let event = input.pending.as_ref().expect("chosen pending event");
                if let Err(e) = self.clock.admit(i, event) {
                    return self.fail(e.widen());
                }
                input.admitted = true;
            }
            if self.clock.open.is_some_and(|open| t > open) {
                return self.clock.close().map(Ok);
            }
            input.admitted = false;
            self.clock.apply_pending(i, &mut input.pending);
        }
    }
}

impl<I, T, E> Iterator for Merge<I>
where
    I: Iterator<Item = Result<T, E>>,
    T: Into<Event>,
{
    type Item = Result<Tick, ClockError<E>>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_tick()
    }
}
