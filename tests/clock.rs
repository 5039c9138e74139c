//! The clock: exact tick sequences over sources of different intervals,
//! as-of visibility (no look-ahead), series step functions, pull vs push,
//! errors, and constant memory over a million bars.

use jiff::{SignedDuration, Timestamp};
use playbook::clock::{Clock, ClockError, Event, Merge, SourceInfo, Tick};
use playbook::data::{Bar, ClosedBar, SeriesPoint};

type Source = Box<dyn Iterator<Item = Result<Event, String>>>;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const HOUR: SignedDuration = SignedDuration::from_hours(1);

fn bar(open: Timestamp, close: Timestamp, price: f64) -> ClosedBar {
    ClosedBar {
        bar: Bar {
            time: open,
            open: price,
            high: price + 1.0,
            low: price - 1.0,
            close: price,
            volume: 1.0,
        },
        close,
    }
}

fn at(hhmm: &str) -> Timestamp {
    ts(&format!("2024-08-05T{hhmm}:00Z"))
}

/// Hourly bars opening at the given hours of 2024-08-05.
fn hourly(hours: &[i32], base: f64) -> Vec<ClosedBar> {
    hours
        .iter()
        .map(|&h| {
            let open = at("00:00") + HOUR * h;
            bar(open, open + HOUR, base + h as f64)
        })
        .collect()
}

fn fx() -> Vec<ClosedBar> {
    hourly(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 140.0)
}

fn futures() -> Vec<ClosedBar> {
    hourly(&[0, 1, 3, 6, 7], 2400.0)
}

/// One daily HSI bar (opening 09:30 HKT = 01:30Z) whose configured daily
/// close is 16:10 HKT = 08:10Z.
fn hsi() -> Vec<ClosedBar> {
    vec![bar(at("01:30"), at("08:10"), 16_700.0)]
}

fn rate() -> Vec<SeriesPoint> {
    [
        ("00:30", 1.0),
        ("02:00", 2.0),
        ("02:20", 3.0),
        ("02:40", 4.0),
        ("23:00", 9.0),
    ]
    .iter()
    .map(|&(t, value)| SeriesPoint { time: at(t), value })
    .collect()
}

fn infos() -> Vec<SourceInfo> {
    vec![
        SourceInfo::bars("usdjpy"),
        SourceInfo::bars("es"),
        SourceInfo::bars("hsi"),
        SourceInfo::series("rate"),
    ]
}

fn sources() -> Vec<(SourceInfo, Source)> {
    let boxed = |v: Vec<Event>| -> Source { Box::new(v.into_iter().map(Ok)) };
    let events: Vec<Vec<Event>> = vec![
        fx().into_iter().map(Event::from).collect(),
        futures().into_iter().map(Event::from).collect(),
        hsi().into_iter().map(Event::from).collect(),
        rate().into_iter().map(Event::from).collect(),
    ];
    infos()
        .into_iter()
        .zip(events.into_iter().map(boxed))
        .collect()
}

/// A tick with the full as-of state at it.
#[derive(Debug, PartialEq)]
struct Seen {
    tick: Tick,
    state: Vec<Option<Event>>,
    ages: Vec<Option<SignedDuration>>,
}

fn seen(clock: &Clock, tick: Tick) -> Seen {
    Seen {
        tick,
        state: (0..clock.len()).map(|i| clock.event(i).copied()).collect(),
        ages: (0..clock.len()).map(|i| clock.age(i)).collect(),
    }
}

fn pull(sources: Vec<(SourceInfo, Source)>) -> Vec<Seen> {
    let mut merge = Merge::new(sources).unwrap();
    let mut out = Vec::new();
    while let Some(tick) = merge.next_tick() {
        let tick = tick.unwrap();
        out.push(seen(merge.clock(), tick));
    }
    out
}

fn render(ticks: &[Seen]) -> Vec<String> {
    ticks
        .iter()
        .map(|s| {
            let updated: Vec<String> = s.tick.updated.iter().map(|i| i.to_string()).collect();
            format!("{} [{}]", s.tick.time, updated.join(","))
        })
        .collect()
}

#[test]
fn three_bar_sources_and_a_series_exact_ticks() {
    let ticks = pull(sources());
    assert_eq!(
        render(&ticks),
        vec![
            "2024-08-05T01:00:00Z [0,1,3]", // rate 1.0 (00:30) becomes visible
            "2024-08-05T02:00:00Z [0,1,3]", // rate 2.0 at exactly 02:00
            "2024-08-05T03:00:00Z [0,3]",   // rate 4.0; 3.0 was superseded unseen
            "2024-08-05T04:00:00Z [0,1]",
            "2024-08-05T05:00:00Z [0]",
            "2024-08-05T06:00:00Z [0]",
            "2024-08-05T07:00:00Z [0,1]",
            "2024-08-05T08:00:00Z [0,1]",
            "2024-08-05T08:10:00Z [2]", // the HSI daily close
            "2024-08-05T09:00:00Z [0]",
            "2024-08-05T10:00:00Z [0]",
        ]
    );
    // As-of values at 05:00: USDJPY's 04:00 bar, ES's 03:00 bar (1h stale).
    let t5 = &ticks[4];
    assert_eq!(t5.state[0], Some(Event::Bar(fx()[4])));
    assert_eq!(t5.state[1], Some(Event::Bar(futures()[2])));
    assert_eq!(t5.ages[0], Some(SignedDuration::ZERO));
    assert_eq!(t5.ages[1], Some(HOUR));
    assert_eq!(t5.state[2], None);
    assert_eq!(t5.ages[2], None);
    assert_eq!(t5.ages[3], Some(SignedDuration::from_mins(140))); // 02:40 point
    // At 10:00 ES's last bar closed at 08:00, HSI at 08:10.
    let last = ticks.last().unwrap();
    assert_eq!(last.ages[1], Some(HOUR * 2));
    assert_eq!(last.ages[2], Some(SignedDuration::from_mins(110)));
    // The 23:00 rate point lies after the last bar: never visible, no tick.
    assert_eq!(last.state[3], Some(Event::Point(rate()[3])));
}

#[test]
fn daily_hsi_bar_is_invisible_before_its_close() {
    let mut merge = Merge::new(sources()).unwrap();
    let mut ticks = 0;
    while let Some(tick) = merge.next_tick() {
        let tick = tick.unwrap();
        ticks += 1;
        let hsi = merge.clock().bar(2);
        if tick.time < at("08:10") {
            assert_eq!(hsi, None, "HSI visible at {}", tick.time);
        } else {
            let b = hsi.expect("HSI visible after its close");
            assert!(b.close <= tick.time);
            assert_eq!(b.bar.close, 16_700.0);
        }
        // Nothing closes after the tick for any source.
        for i in 0..3 {
            if let Some(b) = merge.clock().bar(i) {
                assert!(b.close <= tick.time);
            }
        }
    }
    assert_eq!(ticks, 11);
}

#[test]
fn series_is_a_step_function_as_of() {
    let ticks = pull(sources());
    let values: Vec<(String, Option<f64>)> = ticks
        .iter()
        .map(|s| {
            let v = match s.state[3] {
                Some(Event::Point(p)) => Some(p.value),
                _ => None,
            };
            (s.tick.time.to_string(), v)
        })
        .collect();
    let want = [1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0];
    for ((t, v), w) in values.iter().zip(want) {
        assert_eq!(*v, Some(w), "at {t}");
    }
    // value() reads it; bar() on a series is None.
    let mut merge = Merge::new(sources()).unwrap();
    merge.next_tick().unwrap().unwrap();
    assert_eq!(merge.clock().value(3), Some(1.0));
    assert_eq!(merge.clock().bar(3), None);
    assert_eq!(merge.clock().value(0), None);
}

#[test]
fn pull_and_push_give_identical_ticks() {
    let pulled = pull(sources());
    // Live: events in global time order, equal times in reverse source order.
    let streams: Vec<Vec<Event>> = vec![
        fx().into_iter().map(Event::from).collect(),
        futures().into_iter().map(Event::from).collect(),
        hsi().into_iter().map(Event::from).collect(),
        rate().into_iter().map(Event::from).collect(),
    ];
    let mut all: Vec<(usize, Event)> = streams
        .into_iter()
        .enumerate()
        .flat_map(|(i, v)| v.into_iter().map(move |e| (i, e)))
        .collect();
    all.sort_by_key(|(i, e)| (e.time(), std::cmp::Reverse(*i)));
    let mut clock = Clock::new(infos()).unwrap();
    let mut pushed = Vec::new();
    for (i, e) in all {
        if let Some(tick) = clock.push(i, e).unwrap() {
            pushed.push(seen(&clock, tick));
        }
    }
    if let Some(tick) = clock.flush() {
        pushed.push(seen(&clock, tick));
    }
    assert_eq!(pushed.len(), 11);
    assert_eq!(pushed, pulled);
    assert_eq!(clock.flush(), None);
}

#[test]
fn source_error_stops_the_clock_tagged_with_the_source() {
    let mut sources = sources();
    let failing: Source = Box::new(
        futures()
            .into_iter()
            .take(2)
            .map(|b| Ok(Event::from(b)))
            .chain(std::iter::once(Err("line 4: bad close".to_string()))),
    );
    sources[1].1 = failing;
    let mut merge = Merge::new(sources).unwrap();
    let mut times = Vec::new();
    let err = loop {
        match merge.next_tick().expect("the error comes before the end") {
            Ok(t) => times.push(t.time),
            Err(e) => break e,
        }
    };
    // ES's third item is needed to know whether anything closes at 02:00.
    assert_eq!(times, vec![at("01:00")]);
    assert_eq!(
        err,
        ClockError::Source {
            index: 1,
            name: "es".into(),
            error: "line 4: bad close".into()
        }
    );
    assert_eq!(err.to_string(), "source `es`: line 4: bad close");
    assert!(merge.next_tick().is_none(), "the clock stays stopped");
}

fn bars_swapped() -> Vec<ClosedBar> {
    let mut bars = fx();
    bars.swap(3, 4);
    bars
}

#[test]
fn out_of_order_and_late_events_are_errors() {
    let mut bars = fx();
    bars.swap(3, 4);
    let sources: Vec<(SourceInfo, std::vec::IntoIter<Result<ClosedBar, String>>)> = vec![(
        SourceInfo::bars("usdjpy"),
        bars.into_iter().map(Ok).collect::<Vec<_>>().into_iter(),
    )];
    let results: Vec<_> = Merge::new(sources).unwrap().collect();
    assert_eq!(results.len(), 4);
    // Live mode meets the same ticks, then the same error.
    let mut clock = Clock::new(vec![SourceInfo::bars("usdjpy")]).unwrap();
    let mut live = Vec::new();
    for b in bars_swapped() {
        match clock.push(0, b) {
            Ok(Some(tick)) => live.push(Ok(tick)),
            Ok(None) => {}
            Err(e) => {
                live.push(Err(e.widen()));
                break;
            }
        }
    }
    assert_eq!(live, results);
    assert_eq!(
        results[3],
        Err(ClockError::OutOfOrder {
            index: 0,
            name: "usdjpy".into(),
            previous: at("05:00"),
            got: at("04:00"),
        })
    );

    let mut clock = Clock::new(infos()).unwrap();
    clock.push(0, fx()[1]).unwrap();
    assert_eq!(clock.flush().map(|t| t.time), Some(at("02:00")));
    // ES's 01:00 bar arrives after the 02:00 tick was returned.
    let late = clock.push(1, futures()[0]).unwrap_err();
    assert_eq!(
        late,
        ClockError::Late {
            index: 1,
            name: "es".into(),
            tick: at("02:00"),
            got: at("01:00"),
        }
    );
    let wrong = clock.push(3, fx()[5]).unwrap_err();
    assert!(
        matches!(wrong, ClockError::WrongKind { index: 3, .. }),
        "{wrong:?}"
    );
    assert_eq!(clock.push(9, fx()[5]), Err(ClockError::UnknownSource(9)));
    // The clock still works after rejected events.
    assert_eq!(clock.push(0, fx()[2]).unwrap(), None);
    assert_eq!(clock.flush().map(|t| t.time), Some(at("03:00")));
}

#[test]
fn a_million_bars_stream_in_constant_memory() {
    const N: i64 = 1_000_000;
    let start = ts("2000-01-03T00:00:00Z");
    let minute = SignedDuration::from_mins(1);
    // One-minute bars, generated lazily (never collected).
    let minutes = (0..N).map(move |i| {
        let open = start + minute * i32::try_from(i).unwrap();
        Ok::<Event, String>(Event::from(bar(open, open + minute, (i % 1000) as f64)))
    });
    // A daily bar source over the same span.
    let days = (0..N / 1440 + 1).map(move |d| {
        let open = start + HOUR * 24 * i32::try_from(d).unwrap();
        Ok::<Event, String>(Event::from(bar(open, open + HOUR * 24, d as f64)))
    });
    let sources: Vec<(SourceInfo, Source)> = vec![
        (SourceInfo::bars("m1"), Box::new(minutes)),
        (SourceInfo::bars("d1"), Box::new(days)),
    ];
    let mut merge = Merge::new(sources).unwrap();
    let capacity = merge.capacity();
    let (mut ticks, mut max_buffered, mut both) = (0u64, 0, 0u64);
    while let Some(tick) = merge.next_tick() {
        let tick = tick.unwrap();
        ticks += 1;
        both += u64::from(tick.updated.len() == 2);
        max_buffered = max_buffered.max(merge.buffered());
        assert_eq!(merge.capacity(), capacity);
    }
    // Every minute closes a tick; the daily closes coincide with minute
    // closes except the last one, after the minutes end.
    assert_eq!(ticks, N as u64 + 1);
    assert_eq!(both, (N / 1440) as u64);
    assert!(max_buffered <= 2 * 2 + 1, "buffered {max_buffered}");
    assert_eq!(merge.clock().bar(0).unwrap().bar.close, 999.0);
}

#[test]
fn resampled_source_is_visible_only_from_its_bucket_end() {
    use playbook::resample::{DayStart, Interval, Resampled, Resampler};
    let four_hours = Resampled::new(
        fx().into_iter().map(Ok::<_, String>),
        Resampler::new(Interval::Minutes(240), DayStart::utc()),
    )
    .map(|r| r.map(Event::from).map_err(|e| e.to_string()));
    let sources: Vec<(SourceInfo, Source)> = vec![
        (
            SourceInfo::bars("usdjpy"),
            Box::new(fx().into_iter().map(|b| Ok(Event::from(b)))),
        ),
        (SourceInfo::bars("usdjpy@4h"), Box::new(four_hours)),
    ];
    let ticks = pull(sources);
    let rendered = render(&ticks);
    assert_eq!(rendered[2], "2024-08-05T03:00:00Z [0]");
    assert_eq!(rendered[3], "2024-08-05T04:00:00Z [0,1]");
    assert_eq!(rendered[7], "2024-08-05T08:00:00Z [0,1]");
    assert_eq!(
        ticks.len(),
        10,
        "the partial 08:00-12:00 bucket never appears"
    );
    for s in &ticks[..3] {
        assert_eq!(s.state[1], None);
    }
    match ticks[3].state[1] {
        Some(Event::Bar(b)) => {
            assert_eq!((b.bar.time, b.close), (at("00:00"), at("04:00")));
            assert_eq!((b.bar.open, b.bar.close), (140.0, 143.0));
        }
        ref other => panic!("{other:?}"),
    }
}

#[test]
fn source_sets_and_source_limit() {
    let many: Vec<SourceInfo> = (0..300)
        .map(|i| SourceInfo::bars(format!("s{i}")))
        .collect();
    assert_eq!(
        Clock::new(many).unwrap_err(),
        ClockError::TooManySources(300)
    );
    // Indices beyond the first word come out in order.
    let infos: Vec<SourceInfo> = (0..200)
        .map(|i| SourceInfo::bars(format!("s{i}")))
        .collect();
    let mut clock = Clock::new(infos).unwrap();
    for i in [199, 64, 3, 130] {
        assert_eq!(clock.push(i, fx()[0]).unwrap(), None);
    }
    let tick = clock.flush().unwrap();
    assert_eq!(
        tick.updated.iter().collect::<Vec<_>>(),
        vec![3, 64, 130, 199]
    );
    assert_eq!(tick.updated.len(), 4);
    assert!(tick.updated.contains(130) && !tick.updated.contains(131));
    assert_eq!(clock.source(64).unwrap().name, "s64");
}
