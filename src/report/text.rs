//! Fast text for output cells: numbers and times, in the exact formats the
//! outputs are specified in.
//!
//! A run writes an equity row at every tick that changed the account, so
//! formatting is on the hot path. [`push_num`] writes a number rounded to
//! [`SIGNIFICANT`] significant digits, in plain decimal (never an exponent),
//! without trailing zeros: the float noise of sums and products
//! (`6373.799999999974`, `1000026.8699999999`) goes, and no digit a price,
//! a quantity or an amount of money carries is lost. Its fast path is
//! exact integer arithmetic; other magnitudes go through the standard
//! formatter, and tests compare the two. [`TimeText`] writes RFC 3339 UTC
//! exactly as `jiff::Timestamp`'s `Display` does, reusing the date part
//! while consecutive times fall on the same day.

use jiff::Timestamp;
use std::io::Write;

/// Significant digits of a number in an output cell.
pub const SIGNIFICANT: usize = 12;

/// `10^SIGNIFICANT - 1` and `10^SIGNIFICANT`: the range of the digits.
const LOW: u64 = 100_000_000_000;
const HIGH: u64 = 1_000_000_000_000;

/// Appends `v` rounded to [`SIGNIFICANT`] significant digits (to nearest,
/// ties to even, on the exact binary value), in plain decimal without
/// trailing zeros: `1950.27`, `-4992.30317449`, `0.0000276484926042`,
/// `1000000`. Zero is `0` (also `-0.0`); `NaN` and infinities are written as
/// `{}` writes them.
#[inline]
pub fn push_num(out: &mut Vec<u8>, v: f64) {
    if v == 0.0 {
        out.push(b'0');
        return;
    }
    match digits_fast(v.abs()).or_else(|| digits_std(v)) {
        Some((q, e)) => push_positional(out, v < 0.0, q, e),
        None => {
            // Writing into a Vec cannot fail.
            let _ = write!(out, "{v}");
        }
    }
}

/// `10^k` for `k` in `0..=22`, exactly.
const POW10: [u128; 23] = {
    let mut t = [1u128; 23];
    let mut k = 1;
    while k < 23 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

/// `10^k` for `k` in `0..=22`, exactly.
const POW10_F64: [f64; 23] = {
    let mut t = [1.0; 23];
    let mut k = 1;
    while k < 23 {
        t[k] = t[k - 1] * 10.0;
        k += 1;
    }
    t
};

/// `(q, e)` with `10^11 <= q < 10^12` and `q x 10^(e - 11)` the nearest
/// such value to `a` (ties to even), for `1e-11 <= a < 1e12` (else `None`).
///
/// `x = a x 10^k` in `f64` (both factors exact, `x < 2^40`) is within
/// 2^-14 of the exact product, so it rounds to the same integer unless its
/// fraction is that close to one half; then the product is computed exactly
/// in 128 bits (`a = m x 2^-s`, `m < 2^53`, `10^k < 2^74`), where the
/// remainder decides the rounding, ties to even.
#[inline]
fn digits_fast(a: f64) -> Option<(u64, i32)> {
    if !(1e-11..1e12).contains(&a) {
        return None;
    }
    let bits = a.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    // floor(log10 a) is this or one more (1233 / 4096 ~ log10 2).
    let mut e = ((biased - 1023) * 1233) >> 12;
    loop {
        let k = usize::try_from(11 - e).ok().filter(|&k| k < POW10.len())?;
        let x = a * POW10_F64[k];
        if x >= HIGH as f64 {
            e += 1;
            continue;
        }
        // 0 <= x < 2^40: truncation is the floor, and through i64 both
        // conversions are one instruction each.
        let floor = x as i64;
        let fraction = x - floor as f64;
        let q = if (fraction - 0.5).abs() > 1.0 / 8192.0 {
            floor as u64 + u64::from(fraction > 0.5)
        } else {
            exact_digits(bits, biased, k)
        };
        return Some(if q == HIGH { (LOW, e + 1) } else { (q, e) });
    }
}

/// `a x 10^k` rounded to an integer (ties to even) exactly, for `a` of
/// `bits` (below 2^40, at least 2^-37) and `k <= 22`.
#[cold]
fn exact_digits(bits: u64, biased: i32, k: usize) -> u64 {
    let m = u128::from((bits & ((1 << 52) - 1)) | (1 << 52));
    // a = m x 2^-s with 12 <= s <= 89.
    let s = (1075 - biased) as u32;
    let product = m * POW10[k];
    let q = product >> s;
    let rest = product & ((1u128 << s) - 1);
    let half = 1u128 << (s - 1);
    let up = rest > half || (rest == half && q & 1 == 1);
    q as u64 + u64::from(up)
}

/// [`digits_fast`] for any finite `v` (its magnitude), from the standard
/// formatter's exact `{:.11e}`; `None` for `NaN` and infinities.
fn digits_std(v: f64) -> Option<(u64, i32)> {
    if !v.is_finite() {
        return None;
    }
    let text = format!("{:.*e}", SIGNIFICANT - 1, v.abs());
    let (mantissa, exponent) = text.split_once('e')?;
    let q = mantissa.replace('.', "").parse().ok()?;
    Some((q, exponent.parse().ok()?))
}

/// Appends `-`? and `q x 10^(e - 11)` (`q` of 12 digits) in plain decimal
/// without trailing zeros.
///
/// The digits are laid out in a 128-bit register (byte j is the j-th
/// digit), where the point is inserted with shifts, and stored whole into
/// `out`, prefilled with zeros so that the zeros between the point and the
/// digits cost nothing: no copy depends on the number's length.
#[inline]
fn push_positional(out: &mut Vec<u8>, negative: bool, q: u64, e: i32) {
    const ROOM: usize = 48;
    /// Bytes 12..16 of the register: zeros after a 12-digit integer.
    const ZEROS_PAST: u128 = 0x3030_3030 << 96;
    if !(-20..=11).contains(&e) {
        push_positional_wide(out, negative, q, e);
        return;
    }
    let digits = twelve_digits(q);
    // Trailing zero digits are the high bytes equal to b'0' (the first
    // digit is not 0).
    let zeros = ((digits ^ ASCII_ZEROS) << 32).leading_zeros() as usize / 8;
    let used = SIGNIFICANT - zeros;
    let start = out.len();
    out.resize(start + ROOM, b'0');
    let buf = &mut out[start..];
    if negative {
        buf[0] = b'-';
    }
    let i = usize::from(negative);
    let (at, text, len) = if e < 0 {
        buf[i + 1] = b'.';
        let at = i + 1 + e.unsigned_abs() as usize;
        (at, digits, at + used)
    } else if e as usize + 1 >= used {
        (i, digits | ZEROS_PAST, i + e as usize + 1)
    } else {
        // Digits before the point, the point, the rest one byte higher.
        let point = 8 * (e as u32 + 1);
        let low = digits & ((1u128 << point) - 1);
        let high = (digits >> point) << (point + 8);
        (i, low | u128::from(b'.') << point | high, i + used + 1)
    };
    buf[at..at + 16].copy_from_slice(&text.to_le_bytes());
    out.truncate(start + len);
}

/// `b'0'` in each of the 12 digit bytes.
const ASCII_ZEROS: u128 = 0x3030_3030_3030_3030_3030_3030;

/// The 12 decimal digits of `q < 10^12` as ASCII, digit j in byte j (the
/// most significant first), bytes 12..16 zero.
#[inline]
fn twelve_digits(q: u64) -> u128 {
    let mut text = 0u128;
    // Two halves of six digits in 32 bits each, two digits at a time.
    for (half, mut v) in [(q / 1_000_000) as u32, (q % 1_000_000) as u32]
        .into_iter()
        .enumerate()
    {
        for k in (0..3).rev() {
            let i = 2 * (v % 100) as usize;
            let pair = u16::from_le_bytes([PAIRS[i], PAIRS[i + 1]]);
            text |= u128::from(pair) << (16 * (3 * half + k));
            v /= 100;
        }
    }
    text
}

/// [`push_positional`] for any exponent (the rare magnitudes outside
/// `1e-20..1e12`).
#[cold]
fn push_positional_wide(out: &mut Vec<u8>, negative: bool, q: u64, e: i32) {
    let digits = q.to_string();
    let digits = digits.trim_end_matches('0');
    let n = digits.len() as i64;
    let e = i64::from(e);
    if negative {
        out.push(b'-');
    }
    if e < 0 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-e - 1) as usize, b'0');
        out.extend_from_slice(digits.as_bytes());
    } else {
        // e >= 12 >= n: an integer.
        out.extend_from_slice(digits.as_bytes());
        out.resize(out.len() + (e + 1 - n) as usize, b'0');
    }
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

    /// The definition, from the standard formatter alone: `{:.11e}` (exact,
    /// ties to even), then written out in plain decimal without trailing
    /// zeros by string operations.
    fn reference(v: f64) -> String {
        if v == 0.0 {
            return "0".into();
        }
        if !v.is_finite() {
            return format!("{v}");
        }
        let text = format!("{:.11e}", v.abs());
        let (mantissa, exponent) = text.split_once('e').unwrap();
        let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
        let digits = digits.trim_end_matches('0');
        let e: i64 = exponent.parse().unwrap();
        let sign = if v < 0.0 { "-" } else { "" };
        let n = digits.len() as i64;
        if e < 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-e - 1) as usize))
        } else if e + 1 >= n {
            format!("{sign}{digits}{}", "0".repeat((e + 1 - n) as usize))
        } else {
            let (int, frac) = digits.split_at((e + 1) as usize);
            format!("{sign}{int}.{frac}")
        }
    }

    fn time(t: Timestamp) -> String {
        let mut out = Vec::new();
        TimeText::new().push(&mut out, t);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn numbers_are_rounded_to_twelve_significant_digits() {
        for (v, text) in [
            (6373.799999999974, "6373.8"),
            (1_000_026.869_999_999_9, "1000026.87"),
            (-4_992.303_174_490_327, "-4992.30317449"),
            (0.002_055_040_000_000_008, "0.00205504"),
            (2_316.258_542_430_335, "2316.25854243"),
            (0.1 + 0.2, "0.3"),
            (1950.27, "1950.27"),
            (1_000_000.0, "1000000"),
            (653.0, "653"),
            (-0.0, "0"),
            (0.000_027_648_492_604_170_904, "0.0000276484926042"),
            (999_999_999_999.5, "1000000000000"),
            (999_999_999_999.4, "999999999999"),
            (0.999_999_999_999_51, "1"),
            (0.999_999_999_999_49, "0.999999999999"),
            (123_456_789_012_345.0, "123456789012000"),
            (1e-20, "0.00000000000000000001"),
            (1.5e20, "150000000000000000000"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(num(v), text, "{v:e}");
            assert_eq!(reference(v), text, "{v:e}");
        }
    }

    #[test]
    fn numbers_match_the_definition_at_the_edges() {
        let mut values = vec![
            1e-11,
            1e-11 * (1.0 - f64::EPSILON),
            1e12,
            1e12 * (1.0 - f64::EPSILON),
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            // Exact ties at the twelfth digit (dyadic values): to even.
            100_000_000_000.5,
            100_000_000_001.5,
            0.125,
            1_000_000_000.062_5,
            -2_097_152.000_000_5,
        ];
        for k in -12..=13 {
            let p = 10f64.powi(k);
            values.extend([p, p * (1.0 + f64::EPSILON), p * (1.0 - f64::EPSILON / 2.0)]);
        }
        for v in values {
            assert_eq!(num(v), reference(v), "{v:e}");
            assert_eq!(num(-v), reference(-v), "{v:e}");
        }
    }

    #[test]
    fn numbers_match_the_definition_for_many_values() {
        let mut next = crate::testing::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..200_000 {
            let r = next();
            for v in [
                f64::from_bits(r),
                (r % 2_000_000_000_000) as f64 / 1e4,
                (r >> 11) as f64 / (1u64 << 53) as f64,
                ((r >> 12) % 5_000_000_000_000_000) as f64 / 1e6,
                // Sums of prices: the float noise the rounding removes.
                (r % 1_000_000) as f64 / 100.0 - ((r >> 20) % 1_000_000) as f64 / 100.0,
                // Exact ties: a 12-digit integer and a half, scaled by 2^-n.
                ((r >> 24) % 900_000_000_000 + 100_000_000_000) as f64 + 0.5,
            ] {
                assert_eq!(num(v), reference(v), "{:#x}", v.to_bits());
            }
        }
    }

    proptest! {
        #[test]
        fn numbers_match_the_definition_for_any_bits(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            prop_assert_eq!(num(v), reference(v));
        }

        #[test]
        fn numbers_match_the_definition_for_money(cents in -10_000_000_000i64..10_000_000_000i64, scale in 0u32..9) {
            let v = cents as f64 / 10f64.powi(scale as i32);
            prop_assert_eq!(num(v), reference(v));
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
