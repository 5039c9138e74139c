//! Fast text for output cells: numbers and times, byte-identical to the
//! standard formats the outputs are specified in.
//!
//! A run writes an equity row at every tick, so formatting is on the hot
//! path. [`push_num`] gives exactly Rust's `{}` of an `f64` (the shortest
//! representation that reads back to the same value, never in exponent
//! form), computed with `zmij`'s shortest-digits algorithm, several times
//! faster than `core::fmt` for the same digits. [`TimeText`] writes RFC 3339
//! UTC exactly as `jiff::Timestamp`'s `Display` does, reusing the date part
//! while consecutive times fall on the same day. Both fall back to the
//! standard formatter for the rare values outside their fast path, and tests
//! compare them with it.

use jiff::Timestamp;
use std::io::Write;

/// Appends `v` as Rust's `format!("{v}")` would, for a finite `v`; `NaN`
/// and infinities also go through the standard formatter.
#[inline]
pub fn push_num(out: &mut Vec<u8>, v: f64) {
    // Below 1e16 (and finite); not a dyadic value where zmij and std could
    // break a tie differently (see `may_tie`).
    if !v.is_finite() || v.abs() >= 1e16 || may_tie(v) {
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{v}");
        return;
    }
    let mut buf = zmij::Buffer::new();
    let s = buf.format_finite(v).as_bytes();
    if let Some(int) = s.strip_suffix(b".0") {
        out.extend_from_slice(int);
    } else if v.abs() < 1e-5 {
        // Only tiny values come out with an exponent (below 1e16).
        let e = s.iter().rposition(|&b| b == b'e').expect("an exponent");
        push_expanded(out, &s[..e], &s[e + 1..]);
    } else {
        out.extend_from_slice(s);
    }
}

/// Appends zmij's `[-]d[.ddd]` mantissa with exponent `[+-]N` written out
/// without the exponent, as std does (`7.05e-6` -> `0.00000705`,
/// `1.5e+20` -> `150000000000000000000`).
fn push_expanded(out: &mut Vec<u8>, mantissa: &[u8], exponent: &[u8]) {
    let (negative, mantissa) = match mantissa.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, mantissa),
    };
    let (sign, magnitude) = match exponent.split_first() {
        Some((b'-', rest)) => (-1, rest),
        Some((b'+', rest)) => (1, rest),
        _ => (1, exponent),
    };
    let exp = sign
        * magnitude
            .iter()
            .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
    // At most 17 significant digits.
    let mut text = [0u8; 24];
    let mut n = 0;
    for &b in mantissa.iter().filter(|&&b| b != b'.') {
        text[n] = b;
        n += 1;
    }
    let digits = &text[..n];
    let n = n as i64;
    // Digits before the decimal point.
    let point = exp + 1;
    if negative {
        out.push(b'-');
    }
    if point <= 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-point) as usize, b'0');
        out.extend_from_slice(digits);
    } else if point >= n {
        out.extend_from_slice(digits);
        out.resize(out.len() + (point - n) as usize, b'0');
    } else {
        out.extend_from_slice(&digits[..point as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[point as usize..]);
    }
}

/// Whether two shortest representations of `v` can be equally close to it,
/// where zmij and std break the tie differently (`1394865425023536.25`
/// prints as `…536.3` in std and `…536.2` in zmij).
///
/// A tie needs the exact decimal expansion of `v` to end in a 5 just past
/// the last printed digit (at most 17), so to have at most 18 significant
/// digits. With `v = m * 2^-k` (m odd, k > 0) the expansion has exactly k
/// digits after the point, of which at most `z` are the leading zeros of a
/// `v < 1`, with `z <= ceil(-log10 |v|)`; so a tie needs `k <= 18 + z`.
/// Integers (k <= 0) below 1e16 print exactly. Such dyadic values are rare
/// in prices and money; they take the std path. (One more digit of margin
/// is kept in the bound.)
fn may_tie(v: f64) -> bool {
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (m, e, log2) = if biased == 0 {
        (
            fraction,
            -1074,
            -1075 + (64 - fraction.leading_zeros() as i32),
        )
    } else {
        (fraction | (1 << 52), biased - 1075, biased - 1023)
    };
    let k = -(e + m.trailing_zeros() as i32);
    // ceil(-log2 * log10(2)) >= the leading zeros of |v| < 1.
    let zeros = if log2 < 0 {
        (-log2 * 30_103 + 99_999) / 100_000
    } else {
        0
    };
    k >= 1 && k <= 19 + zeros
}

/// Days since 1970-01-01 to the proleptic Gregorian (year, month, day)
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `"00" "01" ... "99"`.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

fn two(out: &mut [u8], v: u32) {
    let i = 2 * v as usize;
    out[..2].copy_from_slice(&PAIRS[i..i + 2]);
}

/// Formats whole-second UTC instants as `YYYY-MM-DDTHH:MM:SSZ`, keeping the
/// text of the previous call's day.
#[derive(Clone, Debug)]
pub struct TimeText {
    /// The first second of the cached day (`i64::MIN` before the first
    /// call), and the text of the last time written on that day.
    start: i64,
    text: [u8; 20],
}

impl Default for TimeText {
    fn default() -> TimeText {
        TimeText {
            start: i64::MIN,
            text: [0; 20],
        }
    }
}

impl TimeText {
    /// A formatter with no cached day.
    pub fn new() -> TimeText {
        TimeText::default()
    }

    /// Appends `t` exactly as `t.to_string()` would.
    #[inline]
    pub fn push(&mut self, out: &mut Vec<u8>, t: Timestamp) {
        let secs = t.as_second();
        let sod = secs.wrapping_sub(self.start);
        if !(0..86_400).contains(&sod) || t.subsec_nanosecond() != 0 {
            self.push_other(out, t);
            return;
        }
        let sod = sod as u32;
        let (h, m, s) = (sod / 3600, sod / 60 % 60, sod % 60);
        two(&mut self.text[11..13], h);
        two(&mut self.text[14..16], m);
        two(&mut self.text[17..19], s);
        out.extend_from_slice(&self.text);
    }

    /// [`TimeText::push`] of a time on another day, or with a fraction of a
    /// second, or outside years 0000-9999.
    #[cold]
    fn push_other(&mut self, out: &mut Vec<u8>, t: Timestamp) {
        match day_text(t.as_second()) {
            Some((start, text)) if t.subsec_nanosecond() == 0 => {
                (self.start, self.text) = (start, text);
                self.push(out, t);
            }
            _ => {
                let _ = write!(out, "{t}");
            }
        }
    }
}

/// The first second of the UTC day holding `secs` and that day's
/// `YYYY-MM-DDT00:00:00Z`; `None` outside years 0000-9999 (jiff writes
/// those with a sign and six digits).
fn day_text(secs: i64) -> Option<(i64, [u8; 20])> {
    let days = secs.div_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut text = *b"0000-00-00T00:00:00Z";
    let y = year as u32;
    two(&mut text[0..2], y / 100);
    two(&mut text[2..4], y % 100);
    two(&mut text[5..7], month);
    two(&mut text[8..10], day);
    Some((days * 86_400, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn num(v: f64) -> String {
        let mut out = Vec::new();
        push_num(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    fn time(t: Timestamp) -> String {
        let mut out = Vec::new();
        TimeText::new().push(&mut out, t);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_match_std_at_the_edges() {
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1e15,
            1e16,
            1e17,
            1e21,
            1e22,
            1.5e300,
            1e-4,
            1e-5,
            1e-6,
            1e-7,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            1_000_000.0,
            999_999.999_999_999_9,
            123_456_789.012_345_67,
            -4_999.782_338_665_266,
            1_394_865_425_023_536.2,
            1.000_007_629_394_531_2,
            0.5,
            1957.25,
            1_000_002.52,
            -0.000_005,
            0.000_123,
            3_999_999_999.999_999,
            4e9,
            4_000_000_000.000_001,
            0.1 + 0.2,
            7.049_933_871_683_4e-6,
            -3e-6,
            1e-7,
            1.2345e-100,
            32_030.589_600_000_083,
            0.010_000_000_000_000_009,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(num(v), format!("{v}"), "{v:e}");
        }
    }

    #[test]
    fn numbers_match_std_for_many_values() {
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..200_000 {
            let r = next();
            for v in [
                f64::from_bits(r),
                (r % 2_000_000_000_000) as f64 / 1e4,
                (r >> 11) as f64 / (1u64 << 53) as f64,
            ] {
                assert_eq!(num(v), format!("{v}"), "{:#x}", v.to_bits());
            }
        }
    }

    #[test]
    fn decimal_values_match_std() {
        let mut next = crate::testing::xorshift(0x1234_5678_9ABC_DEF1);
        for _ in 0..300_000 {
            let r = next();
            let c = (r >> 12) % 5_000_000_000_000_000;
            for v in [
                c as f64 / 1e6,
                -(c as f64) / 1e7,
                (c % 1_000_000) as f64 / 1e6,
                4e9 - (c % 1000) as f64 / 1e6,
            ] {
                assert_eq!(num(v), format!("{v}"), "{:#x}", v.to_bits());
            }
        }
    }

    #[test]
    fn dyadic_values_near_the_tie_bound_match_std() {
        // `may_tie` claims no tie beyond k = 22: check zmij's path there.
        let mut next = crate::testing::xorshift(0x2545_F491_4F6C_DD1D);
        for k in (1..=40).chain([50, 60, 70, 80, 100, 200, 400, 1000]) {
            for _ in 0..20_000 {
                let m = (next() >> 11) | 1;
                let v = m as f64 / 2f64.powi(k.min(1000));
                assert_eq!(num(v), format!("{v}"), "{:#x}", v.to_bits());
            }
        }
    }

    proptest! {
        #[test]
        fn numbers_match_std_for_any_bits(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assert_eq!(num(v), format!("{v}"));
        }

        #[test]
        fn numbers_match_std_for_money(cents in -10_000_000_000i64..10_000_000_000i64, scale in 0u32..9) {
            let v = cents as f64 / 10f64.powi(scale as i32);
            prop_assert_eq!(num(v), format!("{v}"));
        }

        #[test]
        fn times_match_jiff(secs in -377_705_116_800i64..253_402_300_799i64, nanos in prop_oneof![Just(0i32), 0i32..1_000_000_000]) {
            let t = Timestamp::new(secs, nanos).unwrap();
            prop_assert_eq!(time(t), t.to_string());
        }

        #[test]
        fn cached_days_stay_right(start in 0i64..4_000_000_000, steps in proptest::collection::vec(0i64..200_000, 1..50)) {
            let mut text = TimeText::new();
            let mut secs = start;
            for step in steps {
                secs += step;
                let t = Timestamp::from_second(secs).unwrap();
                let mut out = Vec::new();
                text.push(&mut out, t);
                prop_assert_eq!(String::from_utf8(out).unwrap(), t.to_string());
            }
        }
    }
}
