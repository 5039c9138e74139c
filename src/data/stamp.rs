//! Time stamps as vendors write them: hand-written fixed-position parsing
//! for the common ISO, MetaTrader, HistData and US forms, jiff's general
//! parser as the fallback, epoch numbers by magnitude.

use jiff::tz::TimeZone;
use jiff::{Timestamp, civil};

/// A calendar date as read (validated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ymd {
    pub y: i16,
    pub m: i8,
    pub d: i8,
}

impl Ymd {
    /// Days since 1970-01-01 (proleptic Gregorian).
    pub fn day_number(self) -> i64 {
        days_from_civil(i64::from(self.y), i64::from(self.m), i64::from(self.d))
    }

    /// The date of a day number (days since 1970-01-01; H. Hinnant's algorithm).
    pub fn from_day_number(z: i64) -> Ymd {
        let z = z + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        Ymd {
            y: y as i16,
            m: m as i8,
            d: d as i8,
        }
    }

    /// The jiff date (always valid: checked when parsed).
    pub fn civil(self) -> civil::Date {
        civil::date(self.y, self.m, self.d)
    }
}

/// A wall-clock time of day as read (validated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hms {
    pub h: i8,
    pub m: i8,
    pub s: i8,
    pub ns: i32,
}

/// What a time field says, before the source's zone is applied.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Stamp {
    /// An instant (an offset or `Z` was given, or an epoch number).
    Instant(Timestamp),
    /// A wall-clock date and time with no offset: read in the source's zone.
    Naive(Ymd, Hms),
    /// A date with no time of day: a daily bar's trading date.
    Date(Ymd),
}

/// A stamp with the zone applied.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Resolved {
    /// An intraday instant.
    Instant(Timestamp),
    /// A trading date.
    Date(Ymd),
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Day of week of a day number: 0 = Sunday .. 6 = Saturday.
pub(crate) fn weekday(day_number: i64) -> i64 {
    (day_number + 4).rem_euclid(7)
}

/// Whether a day number falls on a Saturday or Sunday.
pub(crate) fn is_weekend(day_number: i64) -> bool {
    matches!(weekday(day_number), 0 | 6)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

#[inline]
fn digit(b: u8) -> Option<i64> {
    if b.is_ascii_digit() {
        Some(i64::from(b - b'0'))
    } else {
        None
    }
}

#[inline]
fn num(b: &[u8]) -> Option<i64> {
    let mut n = 0i64;
    for &c in b {
        n = n * 10 + digit(c)?;
    }
    Some(n)
}

fn ymd(y: i64, m: i64, d: i64) -> Result<Ymd, &'static str> {
    if !(1..=12).contains(&m) {
        return Err("month out of range");
    }
    if d < 1 || d > days_in_month(y, m) {
        return Err("day out of range for the month");
    }
    Ok(Ymd {
        y: y as i16,
        m: m as i8,
        d: d as i8,
    })
}

/// Trim ASCII whitespace at both ends.
#[inline]
pub(crate) fn trim(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// Parse `HH:MM[:SS[.f]]` (`colons`) or `HHMM[SS]` (compact); returns the time
/// and the unparsed rest.
fn parse_hms(b: &[u8], compact: bool) -> Result<(Hms, &[u8]), &'static str> {
    let (h, m, s, mut rest);
    if compact {
        if b.len() < 4 {
            return Err("time of day too short");
        }
        h = num(&b[0..2]).ok_or("bad hour")?;
        m = num(&b[2..4]).ok_or("bad minute")?;
        if b.len() >= 6 && b[4].is_ascii_digit() {
            s = num(&b[4..6]).ok_or("bad second")?;
            rest = &b[6..];
        } else {
            s = 0;
            rest = &b[4..];
        }
    } else {
        if b.len() < 5 || b[2] != b':' {
            return Err("expected HH:MM");
        }
        h = num(&b[0..2]).ok_or("bad hour")?;
        m = num(&b[3..5]).ok_or("bad minute")?;
        if b.len() >= 8 && b[5] == b':' {
            s = num(&b[6..8]).ok_or("bad second")?;
            rest = &b[8..];
        } else {
            s = 0;
            rest = &b[5..];
        }
    }
    if h > 23 {
        return Err("hour out of range");
    }
    if m > 59 {
        return Err("minute out of range");
    }
    if s > 59 {
        return Err("second out of range");
    }
    let mut ns = 0i64;
    if let [b'.' | b',', frac @ ..] = rest {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return Err("fraction of a second must have 1 to 9 digits");
        }
        ns = num(&frac[..n]).ok_or("bad fraction")? * 10i64.pow(9 - n as u32);
        rest = &frac[n..];
    }
    Ok((
        Hms {
            h: h as i8,
            m: m as i8,
            s: s as i8,
            ns: ns as i32,
        },
        rest,
    ))
}

/// Parse a suffix: empty (naive), `Z`, or an offset `+HH:MM`, `+HHMM`, `+HH`.
/// Returns the offset in seconds, or `None` when naive.
fn parse_offset(b: &[u8]) -> Result<Option<i64>, &'static str> {
    let b = trim(b);
    match b {
        [] => Ok(None),
        [b'Z' | b'z'] => Ok(Some(0)),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [h1, h2] => (num(&[*h1, *h2]), Some(0)),
                [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (num(&[*h1, *h2]), num(&[*m1, *m2])),
                _ => return Err("bad UTC offset"),
            };
            let (h, m) = (h.ok_or("bad UTC offset")?, m.ok_or("bad UTC offset")?);
            if h > 25 || m > 59 {
                return Err("UTC offset out of range");
            }
            let secs = h * 3600 + m * 60;
            Ok(Some(if *sign == b'-' { -secs } else { secs }))
        }
        _ => Err("unexpected text after the time"),
    }
}

fn utc_seconds(date: Ymd, t: Hms) -> i64 {
    date.day_number() * 86_400 + i64::from(t.h) * 3600 + i64::from(t.m) * 60 + i64::from(t.s)
}

fn instant(secs: i64, ns: i32) -> Result<Timestamp, &'static str> {
    Timestamp::new(secs, ns).map_err(|_| "time out of range")
}

/// A parsed date, the unparsed rest, and whether the form was compact.
type DateParts<'a> = (Ymd, &'a [u8], bool);

/// Parse a date with the year first (`YYYY-MM-DD`, `YYYY.MM.DD`, `YYYY/MM/DD`)
/// or US order (`MM/DD/YYYY`) or compact (`YYYYMMDD`); returns the date, the
/// rest, and whether the form was compact.
fn parse_date(b: &[u8]) -> Option<Result<DateParts<'_>, &'static str>> {
    if b.len() >= 10 && matches!(b[4], b'-' | b'.' | b'/') && b[7] == b[4] {
        let (y, m, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
        return Some(ymd(y, m, d).map(|v| (v, &b[10..], false)));
    }
    if b.len() >= 10 && b[2] == b'/' && b[5] == b'/' {
        let (m, d, y) = (num(&b[0..2])?, num(&b[3..5])?, num(&b[6..10])?);
        return Some(ymd(y, m, d).map(|v| (v, &b[10..], false)));
    }
    if b.len() >= 8 && (b.len() == 8 || matches!(b[8], b' ' | b'T' | b't')) {
        let (y, m, d) = (num(&b[0..4])?, num(&b[4..6])?, num(&b[6..8])?);
        return Some(ymd(y, m, d).map(|v| (v, &b[8..], true)));
    }
    None
}

/// The last date the fast path parsed, so the rows of one day parse their
/// date once.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DateCache {
    bytes: [u8; 10],
    ymd: Option<Ymd>,
    day: i64,
}

/// The hot path for the common ISO forms, fixed positions only:
/// `YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:MM:SSZ`, and (when `naive_is_utc`) the
/// same without `Z`. Returns UTC seconds (the date's midnight for a date)
/// and the date when there is no time of day; `None` means "not this exact
/// form, or invalid": the caller falls back to [`parse_stamp`].
#[inline(always)]
pub(crate) fn fast_iso(
    b: &[u8],
    cache: &mut DateCache,
    naive_is_utc: bool,
) -> Option<(i64, Option<Ymd>)> {
    let n = b.len();
    if n < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (ymd, day) = match cache.ymd {
        Some(y)
            if u64::from_ne_bytes(cache.bytes[..8].try_into().ok()?)
                == u64::from_ne_bytes(b[..8].try_into().ok()?)
                && cache.bytes[8..10] == b[8..10] =>
        {
            (y, cache.day)
        }
        _ => {
            let y = ymd(num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?).ok()?;
            let day = y.day_number();
            cache.bytes.copy_from_slice(&b[..10]);
            cache.ymd = Some(y);
            cache.day = day;
            (y, day)
        }
    };
    match n {
        10 => Some((day * 86_400, Some(ymd))),
        19 | 20 => {
            if !matches!(b[10], b'T' | b' ') || b[13] != b':' || b[16] != b':' {
                return None;
            }
            if n == 20 && b[19] != b'Z' || n == 19 && !naive_is_utc {
                return None;
            }
            let (h, m, s) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
            if h > 23 || m > 59 || s > 59 {
                return None;
            }
            Some((day * 86_400 + h * 3600 + m * 60 + s, None))
        }
        _ => None,
    }
}

/// Parse one time field. The error is a short reason.
pub(crate) fn parse_stamp(field: &[u8]) -> Result<Stamp, &'static str> {
    let b = trim(field);
    if b.is_empty() {
        return Err("empty");
    }
    // Epoch numbers: all digits (optionally negative), more than 8 digits.
    let digits = b.strip_prefix(b"-").unwrap_or(b);
    if digits.len() > 8 && digits.iter().all(u8::is_ascii_digit) {
        return epoch(b);
    }
    match parse_date(b) {
        Some(Ok((date, rest, compact))) => {
            if rest.is_empty() {
                return Ok(Stamp::Date(date));
            }
            let rest = match rest {
                [b'T' | b't' | b' ', r @ ..] => trim(r),
                _ => return fallback(b),
            };
            let compact_time = compact && rest.len() >= 4 && rest[2].is_ascii_digit();
            let (t, rest) = parse_hms(rest, compact_time)?;
            match parse_offset(rest)? {
                None => Ok(Stamp::Naive(date, t)),
                Some(off) => Ok(Stamp::Instant(instant(utc_seconds(date, t) - off, t.ns)?)),
            }
        }
        Some(Err(reason)) => Err(reason),
        None => fallback(b),
    }
}

/// Parse a two-column stamp: a date field and a time-of-day field.
pub(crate) fn parse_date_time(date: &[u8], time: &[u8]) -> Result<Stamp, &'static str> {
    let (d, rest, _) = match parse_date(trim(date)) {
        Some(Ok(v)) => v,
        Some(Err(reason)) => return Err(reason),
        None => return Err("not a date"),
    };
    if !rest.is_empty() {
        return Err("unexpected text after the date");
    }
    let time = trim(time);
    let compact = time.len() >= 4 && time[2].is_ascii_digit();
    let (t, rest) = parse_hms(time, compact)?;
    match parse_offset(rest)? {
        None => Ok(Stamp::Naive(d, t)),
        Some(off) => Ok(Stamp::Instant(instant(utc_seconds(d, t) - off, t.ns)?)),
    }
}

/// Whether a field looks like a time of day (`HH:MM[:SS]` or `HHMMSS`).
pub(crate) fn is_time_of_day(field: &[u8]) -> bool {
    let b = trim(field);
    let compact = b.len() == 6 && b.iter().all(u8::is_ascii_digit);
    let colons = b.len() >= 5 && b[2] == b':';
    (compact || colons) && matches!(parse_hms(b, compact), Ok((_, r)) if r.is_empty())
}

fn epoch(b: &[u8]) -> Result<Stamp, &'static str> {
    let s = std::str::from_utf8(b).map_err(|_| "not a time")?;
    let n: i128 = s.parse().map_err(|_| "epoch number out of range")?;
    let mag = n.unsigned_abs();
    // Seconds up to 1e11 (year 5138), milliseconds up to 1e14, microseconds
    // up to 1e17, nanoseconds beyond.
    let ns: i128 = if mag < 100_000_000_000 {
        n * 1_000_000_000
    } else if mag < 100_000_000_000_000 {
        n * 1_000_000
    } else if mag < 100_000_000_000_000_000 {
        n * 1_000
    } else {
        n
    };
    Timestamp::from_nanosecond(ns)
        .map(Stamp::Instant)
        .map_err(|_| "epoch number out of range")
}

fn fallback(b: &[u8]) -> Result<Stamp, &'static str> {
    let s = std::str::from_utf8(b).map_err(|_| "not a recognized time")?;
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(Stamp::Instant(ts));
    }
    if let Ok(dt) = s.parse::<civil::DateTime>() {
        let d = ymd(
            i64::from(dt.year()),
            i64::from(dt.month()),
            i64::from(dt.day()),
        )?;
        let t = Hms {
            h: dt.hour(),
            m: dt.minute(),
            s: dt.second(),
            ns: dt.subsec_nanosecond(),
        };
        return Ok(Stamp::Naive(d, t));
    }
    Err("not a recognized time")
}

/// The instant where a naive wall-clock time falls in `zone` (a wall time
/// skipped by a DST change is moved forward; a repeated one takes the earlier).
pub(crate) fn naive_in_zone(
    date: Ymd,
    t: Hms,
    zone: &TimeZone,
    zone_is_utc: bool,
) -> Result<Timestamp, &'static str> {
    if zone_is_utc {
        return instant(utc_seconds(date, t), t.ns);
    }
    let dt = civil::DateTime::new(date.y, date.m, date.d, t.h, t.m, t.s, t.ns)
        .map_err(|_| "time out of range")?;
    zone.to_ambiguous_timestamp(dt)
        .compatible()
        .map_err(|_| "time out of range in the source's zone")
}

/// The first instant of a date in `zone`.
pub(crate) fn start_of_date(
    date: Ymd,
    zone: &TimeZone,
    zone_is_utc: bool,
) -> Result<Timestamp, &'static str> {
    naive_in_zone(
        date,
        Hms {
            h: 0,
            m: 0,
            s: 0,
            ns: 0,
        },
        zone,
        zone_is_utc,
    )
}

/// Apply the source's zone to a stamp.
pub(crate) fn resolve(
    stamp: Stamp,
    zone: &TimeZone,
    zone_is_utc: bool,
) -> Result<Resolved, &'static str> {
    match stamp {
        Stamp::Instant(ts) => Ok(Resolved::Instant(ts)),
        Stamp::Naive(d, t) => naive_in_zone(d, t, zone, zone_is_utc).map(Resolved::Instant),
        Stamp::Date(d) => Ok(Resolved::Date(d)),
    }
}

/// Whether a zone is UTC (so naive times can be converted by arithmetic).
pub(crate) fn zone_is_utc(zone: &TimeZone) -> bool {
    zone.iana_name() == Some("UTC") || zone.iana_name() == Some("Etc/UTC") || {
        // A fixed zero offset (e.g. `TimeZone::UTC` or `TimeZone::fixed(0)`).
        zone.to_fixed_offset().is_ok_and(|o| o.seconds() == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn day_numbers() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        assert_eq!(weekday(days_from_civil(2024, 8, 5)), 1); // a Monday
        for n in [-800_000, -1, 0, 59, 11_017, 19_940, 2_000_000] {
            assert_eq!(Ymd::from_day_number(n).day_number(), n);
        }
    }

    #[test]
    fn forms() {
        let utc = TimeZone::UTC;
        let r = |s: &str| resolve(parse_stamp(s.as_bytes()).unwrap(), &utc, true).unwrap();
        let want = Resolved::Instant(ts("2024-08-05T00:30:15Z"));
        for s in [
            "2024-08-05T00:30:15Z",
            "2024-08-05 00:30:15",
            "2024-08-05T09:30:15+09:00",
            "2024-08-05T09:30:15+0900",
            "2024.08.05 00:30:15",
            "20240805 003015",
            "08/05/2024 00:30:15",
            "1722817815",
            "1722817815000",
            "1722817815000000",
            "1722817815000000000",
        ] {
            assert_eq!(r(s), want, "{s}");
        }
        // New York DST: 2024-03-10 02:30 does not exist (moves to 03:30
        // EDT = 07:30Z); 2024-11-03 01:30 happens twice (the earlier, EDT,
        // is 05:30Z).
        let ny = TimeZone::get("America/New_York").unwrap();
        let n = |s: &str| resolve(parse_stamp(s.as_bytes()).unwrap(), &ny, false).unwrap();
        assert_eq!(
            n("2024-03-10 02:30"),
            Resolved::Instant(ts("2024-03-10T07:30:00Z"))
        );
        assert_eq!(
            n("2024-11-03 01:30"),
            Resolved::Instant(ts("2024-11-03T05:30:00Z"))
        );
        assert!(parse_stamp(b"2024-02-30").is_err());
        assert!(parse_stamp(b"2023-02-29").is_err());
        assert!(parse_stamp(b"2024-02-29").is_ok());
        assert!(parse_stamp(b"2024-08-05T24:00").is_err());
        assert!(parse_stamp(b"yesterday").is_err());
    }
}
