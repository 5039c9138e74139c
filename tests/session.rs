//! Sessions: wall-clock windows across DST changes, pinned to UTC instants;
//! windows crossing midnight, breaks, the weekday filter; session aggregates.

use jiff::civil::{Date, Time, Weekday, date, time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use playbook::data::{Bar, ClosedBar};
use playbook::session::{
    Location, Occurrence, Session, SessionAgg, SessionError, WeekdaySet, resolve_wall_time,
};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn hm(h: i8, m: i8) -> Time {
    time(h, m, 0, 0)
}

fn session(windows: &[(Time, Time)], zone: &str, days: WeekdaySet) -> Session {
    Session::new(windows.to_vec(), TimeZone::get(zone).unwrap(), days).unwrap()
}

fn london() -> Session {
    session(&[(hm(8, 0), hm(16, 30))], "Europe/London", WeekdaySet::ALL)
}

fn new_york() -> Session {
    session(
        &[(hm(8, 0), hm(17, 0))],
        "America/New_York",
        WeekdaySet::ALL,
    )
}

/// The single window instance of `s` on local date `d`, as UTC instants.
fn window(s: &Session, d: Date) -> (Timestamp, Timestamp) {
    let w = s.windows_on(d);
    assert_eq!(w.len(), 1, "{d}");
    w[0]
}

/// Length of the overlap of the two sessions' windows on date `d`.
fn overlap(a: &Session, b: &Session, d: Date) -> SignedDuration {
    let (a0, a1) = window(a, d);
    let (b0, b1) = window(b, d);
    let (s, e) = (a0.max(b0), a1.min(b1));
    if e > s {
        e.duration_since(s)
    } else {
        SignedDuration::ZERO
    }
}

fn hours(h: f64) -> SignedDuration {
    SignedDuration::from_secs_f64(h * 3600.0)
}

#[test]
fn london_window_moves_with_british_summer_time_2024() {
    let s = london();
    // Friday before the UK switch (2024-03-31): GMT.
    assert_eq!(
        window(&s, date(2024, 3, 29)),
        (ts("2024-03-29T08:00:00Z"), ts("2024-03-29T16:30:00Z"))
    );
    // Tuesday after: BST, an hour earlier in UTC.
    assert_eq!(
        window(&s, date(2024, 4, 2)),
        (ts("2024-04-02T07:00:00Z"), ts("2024-04-02T15:30:00Z"))
    );
    assert!(s.contains(ts("2024-03-29T16:00:00Z")));
    assert!(!s.contains(ts("2024-04-02T16:00:00Z")));
    assert!(!s.contains(ts("2024-03-29T07:30:00Z")));
    assert!(s.contains(ts("2024-04-02T07:30:00Z")));
    // Half-open: the end instant is outside, the start instant inside.
    assert!(s.contains(ts("2024-04-02T07:00:00Z")));
    assert!(!s.contains(ts("2024-04-02T15:30:00Z")));
    // Autumn 2024 (UK back on 2024-10-27) and the 2025 switches.
    assert_eq!(window(&s, date(2024, 10, 25)).0, ts("2024-10-25T07:00:00Z"));
    assert_eq!(window(&s, date(2024, 10, 28)).0, ts("2024-10-28T08:00:00Z"));
    assert_eq!(window(&s, date(2025, 3, 28)).0, ts("2025-03-28T08:00:00Z"));
    assert_eq!(window(&s, date(2025, 3, 31)).0, ts("2025-03-31T07:00:00Z"));
    assert_eq!(window(&s, date(2025, 10, 24)).0, ts("2025-10-24T07:00:00Z"));
    assert_eq!(window(&s, date(2025, 10, 27)).0, ts("2025-10-27T08:00:00Z"));
}

#[test]
fn new_york_window_moves_with_us_daylight_time() {
    let s = new_york();
    assert_eq!(
        window(&s, date(2024, 3, 8)),
        (ts("2024-03-08T13:00:00Z"), ts("2024-03-08T22:00:00Z"))
    );
    assert_eq!(
        window(&s, date(2024, 3, 11)),
        (ts("2024-03-11T12:00:00Z"), ts("2024-03-11T21:00:00Z"))
    );
    assert_eq!(window(&s, date(2024, 11, 1)).0, ts("2024-11-01T12:00:00Z"));
    assert_eq!(window(&s, date(2024, 11, 4)).0, ts("2024-11-04T13:00:00Z"));
    assert_eq!(window(&s, date(2025, 3, 7)).0, ts("2025-03-07T13:00:00Z"));
    assert_eq!(window(&s, date(2025, 3, 10)).0, ts("2025-03-10T12:00:00Z"));
    assert_eq!(window(&s, date(2025, 10, 31)).0, ts("2025-10-31T12:00:00Z"));
    assert_eq!(window(&s, date(2025, 11, 3)).0, ts("2025-11-03T13:00:00Z"));
}

#[test]
fn london_new_york_overlap_changes_length_between_the_two_switches() {
    let (l, n) = (london(), new_york());
    // Both on standard time: 13:00Z-16:30Z.
    assert_eq!(overlap(&l, &n, date(2024, 3, 8)), hours(3.5));
    // US on daylight time since 03-10, UK not until 03-31: 12:00Z-16:30Z.
    assert_eq!(overlap(&l, &n, date(2024, 3, 11)), hours(4.5));
    assert_eq!(overlap(&l, &n, date(2024, 3, 29)), hours(4.5));
    // Both on summer time: 12:00Z-15:30Z.
    assert_eq!(overlap(&l, &n, date(2024, 4, 2)), hours(3.5));
    // UK back on 10-27, US not until 11-03: longer again.
    assert_eq!(overlap(&l, &n, date(2024, 10, 25)), hours(3.5));
    assert_eq!(overlap(&l, &n, date(2024, 10, 28)), hours(4.5));
    assert_eq!(overlap(&l, &n, date(2024, 11, 1)), hours(4.5));
    assert_eq!(overlap(&l, &n, date(2024, 11, 4)), hours(3.5));
    // 2025: US 03-09, UK 03-30; UK 10-26, US 11-02.
    assert_eq!(overlap(&l, &n, date(2025, 3, 7)), hours(3.5));
    assert_eq!(overlap(&l, &n, date(2025, 3, 14)), hours(4.5));
    assert_eq!(overlap(&l, &n, date(2025, 3, 31)), hours(3.5));
    assert_eq!(overlap(&l, &n, date(2025, 10, 31)), hours(4.5));
    assert_eq!(overlap(&l, &n, date(2025, 11, 3)), hours(3.5));
}

#[test]
fn tokyo_and_hong_kong_have_no_dst() {
    let tokyo = session(&[(hm(9, 0), hm(15, 0))], "Asia/Tokyo", WeekdaySet::ALL);
    let hk = session(
        &[(hm(9, 30), hm(12, 0)), (hm(13, 0), hm(16, 0))],
        "Asia/Hong_Kong",
        WeekdaySet::ALL,
    );
    for d in [
        date(2024, 3, 8),
        date(2024, 3, 11),
        date(2024, 3, 29),
        date(2024, 4, 2),
        date(2024, 10, 28),
        date(2024, 11, 4),
        date(2025, 3, 31),
        date(2025, 11, 3),
    ] {
        let day = d.to_string();
        assert_eq!(
            tokyo.windows_on(d),
            vec![(
                ts(&format!("{day}T00:00:00Z")),
                ts(&format!("{day}T06:00:00Z"))
            )]
        );
        assert_eq!(
            hk.windows_on(d),
            vec![
                (
                    ts(&format!("{day}T01:30:00Z")),
                    ts(&format!("{day}T04:00:00Z"))
                ),
                (
                    ts(&format!("{day}T05:00:00Z")),
                    ts(&format!("{day}T08:00:00Z"))
                ),
            ]
        );
    }
}

#[test]
fn hong_kong_lunch_break_is_outside_but_one_occurrence() {
    let hk = session(
        &[(hm(9, 30), hm(12, 0)), (hm(13, 0), hm(16, 0))],
        "Asia/Hong_Kong",
        WeekdaySet::ALL,
    );
    let occ = Occurrence {
        date: date(2024, 8, 5),
        start: ts("2024-08-05T01:30:00Z"),
        end: ts("2024-08-05T08:00:00Z"),
    };
    assert_eq!(hk.occurrence_at(ts("2024-08-05T01:30:00Z")), Some(occ));
    assert_eq!(hk.occurrence_at(ts("2024-08-05T03:59:59Z")), Some(occ));
    assert_eq!(hk.occurrence_at(ts("2024-08-05T04:00:00Z")), None);
    assert_eq!(hk.occurrence_at(ts("2024-08-05T04:59:59Z")), None);
    assert_eq!(hk.occurrence_at(ts("2024-08-05T05:00:00Z")), Some(occ));
    assert_eq!(hk.occurrence_at(ts("2024-08-05T08:00:00Z")), None);
    assert_eq!(hk.occurrence_on(date(2024, 8, 5)), Some(occ));
    assert_eq!(
        hk.locate(ts("2024-08-05T06:00:00Z")),
        Location::Inside {
            occurrence: occ,
            window: 1,
            start: ts("2024-08-05T05:00:00Z"),
            end: ts("2024-08-05T08:00:00Z"),
        }
    );
    assert_eq!(
        hk.next_boundary(ts("2024-08-05T02:00:00Z")),
        Some(ts("2024-08-05T04:00:00Z"))
    );
    assert_eq!(
        hk.next_boundary(ts("2024-08-05T04:30:00Z")),
        Some(ts("2024-08-05T05:00:00Z"))
    );
    assert_eq!(
        hk.next_boundary(ts("2024-08-05T09:00:00Z")),
        Some(ts("2024-08-06T01:30:00Z"))
    );
}

#[test]
fn tokyo_night_session_crosses_midnight() {
    let s = session(&[(hm(22, 0), hm(6, 0))], "Asia/Tokyo", WeekdaySet::ALL);
    // 22:00 JST on 07-03 is 13:00Z; 06:00 JST on 07-04 is 21:00Z on 07-03.
    let occ = Occurrence {
        date: date(2024, 7, 3),
        start: ts("2024-07-03T13:00:00Z"),
        end: ts("2024-07-03T21:00:00Z"),
    };
    assert_eq!(s.occurrence_on(date(2024, 7, 3)), Some(occ));
    // 01:00 JST on 07-04 (16:00Z 07-03) is in 07-03's occurrence.
    assert_eq!(s.occurrence_at(ts("2024-07-03T16:00:00Z")), Some(occ));
    assert_eq!(s.occurrence_at(ts("2024-07-03T20:59:59Z")), Some(occ));
    assert_eq!(s.occurrence_at(ts("2024-07-03T21:00:00Z")), None);
    assert_eq!(s.occurrence_at(ts("2024-07-04T12:59:59Z")), None);
    assert_eq!(
        s.occurrence_at(ts("2024-07-04T13:00:00Z")).map(|o| o.date),
        Some(date(2024, 7, 4))
    );
}

#[test]
fn weekday_filter_applies_to_the_day_a_window_starts() {
    let days = WeekdaySet::range(Weekday::Monday, Weekday::Friday);
    let s = session(&[(hm(22, 0), hm(6, 0))], "Asia/Tokyo", days);
    // Friday 2024-07-05 22:00 JST runs into Saturday 06:00 JST and belongs to Friday.
    let friday = s.occurrence_at(ts("2024-07-05T20:00:00Z")).unwrap(); // Sat 05:00 JST
    assert_eq!(friday.date, date(2024, 7, 5));
    assert_eq!(friday.end, ts("2024-07-05T21:00:00Z"));
    // Saturday and Sunday nights are excluded.
    assert!(!s.contains(ts("2024-07-06T13:00:00Z"))); // Sat 22:00 JST
    assert!(!s.contains(ts("2024-07-07T14:00:00Z"))); // Sun 23:00 JST
    // Monday 05:00 JST belongs to Sunday's (excluded) night.
    assert!(!s.contains(ts("2024-07-07T20:00:00Z")));
    // The next window after Friday's is Monday 22:00 JST.
    assert_eq!(
        s.next_boundary(ts("2024-07-05T21:00:00Z")),
        Some(ts("2024-07-08T13:00:00Z"))
    );
    assert_eq!(s.occurrence_on(date(2024, 7, 6)), None);
    // Ranges wrap and unions combine.
    let weekend = WeekdaySet::range(Weekday::Saturday, Weekday::Sunday);
    assert!(weekend.contains(Weekday::Sunday) && !weekend.contains(Weekday::Monday));
    let wrap = WeekdaySet::range(Weekday::Friday, Weekday::Monday);
    assert!(wrap.contains(Weekday::Saturday) && !wrap.contains(Weekday::Tuesday));
    let mwf = WeekdaySet::single(Weekday::Monday)
        .with(Weekday::Wednesday)
        .union(WeekdaySet::single(Weekday::Friday));
    assert!(mwf.contains(Weekday::Wednesday) && !mwf.contains(Weekday::Thursday));
}

#[test]
fn dst_gap_and_fold_resolve_to_the_first_instant_reading_at_or_after() {
    let ny = TimeZone::get("America/New_York").unwrap();
    // 2024-03-10 02:30 does not exist in New York: the clock reads 03:00 at 07:00Z.
    assert_eq!(
        resolve_wall_time(&ny, date(2024, 3, 10).at(2, 30, 0, 0)),
        Some(ts("2024-03-10T07:00:00Z"))
    );
    // 2024-11-03 01:30 happens twice: the first one (EDT).
    assert_eq!(
        resolve_wall_time(&ny, date(2024, 11, 3).at(1, 30, 0, 0)),
        Some(ts("2024-11-03T05:30:00Z"))
    );
    // A window that starts inside the gap starts at the gap's end and keeps
    // the instants whose clock reads inside it.
    let s = session(
        &[(hm(2, 30), hm(3, 10))],
        "America/New_York",
        WeekdaySet::ALL,
    );
    assert_eq!(
        s.windows_on(date(2024, 3, 10)),
        vec![(ts("2024-03-10T07:00:00Z"), ts("2024-03-10T07:10:00Z"))]
    );
    // A window across the gap is an hour shorter, across the fold an hour longer.
    let s = session(
        &[(hm(1, 30), hm(3, 30))],
        "America/New_York",
        WeekdaySet::ALL,
    );
    assert_eq!(
        s.windows_on(date(2024, 3, 10)),
        vec![(ts("2024-03-10T06:30:00Z"), ts("2024-03-10T07:30:00Z"))]
    );
    assert_eq!(
        s.windows_on(date(2024, 11, 3)),
        vec![(ts("2024-11-03T05:30:00Z"), ts("2024-11-03T08:30:00Z"))]
    );
    // The second 01:45 (EST, 06:45Z) is inside; London's spring gap likewise.
    assert!(s.contains(ts("2024-11-03T06:45:00Z")));
    let l = session(&[(hm(0, 30), hm(2, 30))], "Europe/London", WeekdaySet::ALL);
    assert_eq!(
        l.windows_on(date(2024, 3, 31)),
        vec![(ts("2024-03-31T00:30:00Z"), ts("2024-03-31T01:30:00Z"))]
    );
    // A window wholly inside the gap is empty that day.
    let s = session(
        &[(hm(2, 10), hm(2, 40))],
        "America/New_York",
        WeekdaySet::ALL,
    );
    let w = s.windows_on(date(2024, 3, 10));
    assert_eq!(w[0].0, w[0].1);
    assert!(!s.contains(ts("2024-03-10T07:00:00Z")));
    assert!(s.contains(ts("2024-03-11T06:20:00Z")));
}

#[test]
fn invalid_sessions_are_errors() {
    let utc = TimeZone::UTC;
    assert_eq!(
        Session::new(vec![], utc.clone(), WeekdaySet::ALL),
        Err(SessionError::NoWindows)
    );
    assert_eq!(
        Session::new(vec![(hm(9, 0), hm(10, 0))], utc.clone(), WeekdaySet::EMPTY),
        Err(SessionError::NoDays)
    );
    let err = Session::new(
        vec![(hm(9, 0), hm(12, 0)), (hm(8, 0), hm(10, 0))],
        utc.clone(),
        WeekdaySet::ALL,
    )
    .unwrap_err();
    assert_eq!(
        err,
        SessionError::Overlap {
            window: 1,
            start: hm(8, 0),
            end: hm(10, 0)
        }
    );
    assert_eq!(
        err.to_string(),
        "window 2 (08:00:00-10:00:00) ends after the next day's first window starts; \
         one day's windows must span at most 24 hours"
    );
    // A full-day window (start == end) is fine, as is a break across midnight.
    let full = Session::new(vec![(hm(17, 0), hm(17, 0))], utc.clone(), WeekdaySet::ALL).unwrap();
    assert!(full.contains(ts("2024-01-02T16:59:59Z")));
    let night = Session::new(
        vec![(hm(22, 0), hm(2, 0)), (hm(3, 0), hm(6, 0))],
        utc,
        WeekdaySet::ALL,
    )
    .unwrap();
    assert_eq!(
        night
            .occurrence_at(ts("2024-01-03T04:00:00Z"))
            .map(|o| o.date),
        Some(date(2024, 1, 2))
    );
    assert!(!night.contains(ts("2024-01-03T02:30:00Z")));
}

/// A 30-minute bar opening at `open_time`, closed at +30 min.
fn bar(open_time: &str, o: f64, h: f64, l: f64, c: f64, v: f64) -> ClosedBar {
    let time = ts(open_time);
    ClosedBar {
        bar: Bar {
            time,
            open: o,
            high: h,
            low: l,
            close: c,
            volume: v,
        },
        close: time + SignedDuration::from_mins(30),
    }
}

#[test]
fn session_aggregate_over_hand_made_bars() {
    let hk = session(
        &[(hm(9, 30), hm(12, 0)), (hm(13, 0), hm(16, 0))],
        "Asia/Hong_Kong",
        WeekdaySet::ALL,
    );
    let mut agg = SessionAgg::new(hk);
    // 09:00 HKT: before the session, ignored.
    assert!(!agg.update(&bar("2024-08-05T01:00:00Z", 50.0, 99.0, 1.0, 50.0, 7.0)));
    assert_eq!(agg.open(), None);
    assert_eq!(agg.session_return(), None);
    // 09:30 and 10:00 HKT.
    assert!(agg.update(&bar(
        "2024-08-05T01:30:00Z",
        100.0,
        101.0,
        99.0,
        100.5,
        10.0
    )));
    assert!(agg.update(&bar(
        "2024-08-05T02:00:00Z",
        100.5,
        102.0,
        100.0,
        101.0,
        20.0
    )));
    assert_eq!(agg.open(), Some(100.0));
    assert_eq!(agg.high(), Some(102.0));
    assert_eq!(agg.low(), Some(99.0));
    assert_eq!(agg.close(), Some(101.0));
    assert_eq!(agg.volume(), Some(30.0));
    assert_eq!(agg.bars(), 2);
    assert_eq!(agg.session_return(), Some(101.0 / 100.0 - 1.0));
    assert!(agg.in_progress(ts("2024-08-05T02:30:00Z")));
    // 12:00 and 12:30 HKT: lunch, ignored (even with extreme prices).
    assert!(!agg.update(&bar(
        "2024-08-05T04:00:00Z",
        101.0,
        150.0,
        60.0,
        120.0,
        99.0
    )));
    assert!(!agg.update(&bar(
        "2024-08-05T04:30:00Z",
        120.0,
        150.0,
        60.0,
        120.0,
        99.0
    )));
    assert_eq!(agg.high(), Some(102.0));
    assert_eq!(agg.close(), Some(101.0));
    // Still in progress during the break (the occurrence runs to 16:00).
    assert!(agg.in_progress(ts("2024-08-05T04:45:00Z")));
    // 13:00 and 15:30 HKT (the last bar of the day).
    assert!(agg.update(&bar("2024-08-05T05:00:00Z", 101.0, 101.5, 97.0, 98.0, 5.0)));
    assert!(agg.update(&bar("2024-08-05T07:30:00Z", 98.0, 98.5, 96.5, 97.0, 5.0)));
    assert_eq!(agg.low(), Some(96.5));
    assert_eq!(agg.close(), Some(97.0));
    assert_eq!(agg.volume(), Some(40.0));
    assert_eq!(agg.session_return(), Some(97.0 / 100.0 - 1.0));
    // Completed at 16:00 HKT: the values stay those of the completed occurrence.
    assert!(!agg.in_progress(ts("2024-08-05T08:00:00Z")));
    assert!(!agg.update(&bar("2024-08-05T08:00:00Z", 1.0, 1.0, 1.0, 1.0, 1.0)));
    assert_eq!(agg.occurrence().unwrap().date, date(2024, 8, 5));
    assert_eq!(agg.session_return(), Some(97.0 / 100.0 - 1.0));
    // The next day's first bar resets the aggregate.
    assert!(agg.update(&bar(
        "2024-08-06T01:30:00Z",
        97.5,
        98.0,
        97.0,
        97.8,
        f64::NAN
    )));
    assert_eq!(agg.occurrence().unwrap().date, date(2024, 8, 6));
    assert_eq!(agg.open(), Some(97.5));
    assert_eq!(agg.high(), Some(98.0));
    assert_eq!(agg.bars(), 1);
    assert!(
        agg.volume().unwrap().is_nan(),
        "no volume in the source stays NaN"
    );
    assert!(agg.in_progress(ts("2024-08-06T02:00:00Z")));
}

#[test]
fn session_aggregate_night_session_and_bar_overrunning_the_end() {
    // Tokyo night 22:00-06:00; an hourly bar opening 05:30 JST runs past the
    // end but belongs to the session by its open.
    let s = session(&[(hm(22, 0), hm(6, 0))], "Asia/Tokyo", WeekdaySet::ALL);
    let mut agg = SessionAgg::new(s);
    let hourly = |open: &str, c: f64| ClosedBar {
        bar: Bar {
            time: ts(open),
            open: c - 1.0,
            high: c + 1.0,
            low: c - 2.0,
            close: c,
            volume: 1.0,
        },
        close: ts(open) + SignedDuration::from_hours(1),
    };
    assert!(agg.update(&hourly("2024-07-03T13:00:00Z", 10.0))); // 22:00 JST
    assert!(agg.update(&hourly("2024-07-03T15:00:00Z", 12.0))); // 00:00 JST next day
    assert!(agg.update(&hourly("2024-07-03T20:30:00Z", 11.0))); // 05:30 JST
    assert!(!agg.update(&hourly("2024-07-03T21:30:00Z", 50.0))); // 06:30 JST
    assert_eq!(agg.open(), Some(9.0));
    assert_eq!(agg.close(), Some(11.0));
    assert_eq!(agg.high(), Some(13.0));
    assert_eq!(agg.bars(), 3);
    assert_eq!(agg.occurrence().unwrap().date, date(2024, 7, 3));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const ZONES: [&str; 6] = [
        "UTC",
        "America/New_York",
        "Europe/London",
        "Australia/Lord_Howe",
        "America/Santiago",
        "Asia/Hong_Kong",
    ];

    proptest! {
        /// Near DST transitions: `contains` is constant up to
        /// `next_boundary`, and away from transitions it agrees with the
        /// naive wall-clock reading.
        #[test]
        fn windows_agree_with_the_wall_clock(
            zone in 0..ZONES.len(),
            (sh, sm, eh, em) in (0i8..24, 0i8..2, 0i8..24, 0i8..2),
            mask in 1u8..128,
            transition in 0usize..4,
            offset in -259_200i64..259_200,
        ) {
            let tz = TimeZone::get(ZONES[zone]).unwrap();
            let all = [
                Weekday::Monday, Weekday::Tuesday, Weekday::Wednesday, Weekday::Thursday,
                Weekday::Friday, Weekday::Saturday, Weekday::Sunday,
            ];
            let days = all
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .fold(WeekdaySet::EMPTY, |set, (_, &d)| set.with(d));
            let (start, end) = (hm(sh, sm * 30), hm(eh, em * 30));
            let s = Session::new(vec![(start, end)], tz.clone(), days).unwrap();
            let base = ts("2024-01-01T00:00:00Z");
            let near = tz.following(base).nth(transition).map_or(base, |tr| tr.timestamp());
            let t = near + SignedDuration::from_secs(offset);

            let inside = s.contains(t);
            if let Some(b) = s.next_boundary(t) {
                prop_assert!(b > t);
                let mid = t + b.duration_since(t) / 2;
                prop_assert_eq!(s.contains(mid), inside, "mid {} before boundary {}", mid, b);
                prop_assert_eq!(s.contains(b - SignedDuration::from_secs(1)), inside);
            }
            prop_assert_eq!(s.occurrence_at(t).is_some(), inside);

            let day = SignedDuration::from_hours(26);
            if tz.to_offset(t - day) == tz.to_offset(t + day) {
                let r = t.to_zoned(tz.clone());
                let (clock, date) = (r.time(), r.date());
                let naive = if start < end {
                    start <= clock && clock < end && days.contains(date.weekday())
                } else {
                    (clock >= start && days.contains(date.weekday()))
                        || (clock < end && days.contains(date.yesterday().unwrap().weekday()))
                };
                prop_assert_eq!(inside, naive, "{} reads {}", t, r);
            }
        }
    }
}
