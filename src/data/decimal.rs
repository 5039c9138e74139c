//! Exact decimal parsing for prices: Clinger's fast path, std for the rest.

/// Exact powers of ten representable in an `f64` (10^22 = 2^22 * 5^22, with
/// 5^22 < 2^53).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parse a decimal number (`12`, `-1.5`, `0.000123`, `1e-3`, `inf`, ...) with
/// results bit-identical to `str::parse::<f64>`; `None` exactly when std
/// rejects the text.
///
/// Numbers whose digits form an integer mantissa of at most 2^53 with a
/// power-of-ten exponent within ±22 are computed with one exactly rounded
/// multiply or divide (both operands are exact, so the IEEE operation rounds
/// the true value once, as in Clinger's fast path); anything else (long
/// mantissas, large exponents, `inf`, `nan`, malformed text) goes to std.
///
/// # Example
/// ```
/// assert_eq!(playbook::data::parse_decimal(b"1958.9"), Some(1958.9));
/// assert_eq!(playbook::data::parse_decimal(b"12.3.4"), None);
/// ```
#[inline(always)]
pub fn parse_decimal(text: &[u8]) -> Option<f64> {
    match fast(text) {
        Some(v) => Some(v),
        None => slow(text),
    }
}

/// [`parse_decimal`] with the sign class of the value, known without
/// waiting for the division on the fast path: `1` for a finite value above
/// zero, `0` for zero (either sign), `-1` otherwise (negative, infinite or
/// NaN).
#[inline(always)]
pub(crate) fn parse_decimal_class(text: &[u8], word: Option<u64>) -> Option<(f64, i8)> {
    match fast_decimal_parts_word(text, word).map(|(m, e, neg)| {
        let v = scale(m, e);
        (if neg { -v } else { v }, neg, m == 0)
    }) {
        Some((v, neg, zero)) => Some((
            v,
            if zero {
                0
            } else if neg {
                -1
            } else {
                1
            },
        )),
        None => {
            let v = slow(text)?;
            let class = if v > 0.0 && v < f64::INFINITY {
                1
            } else if v == 0.0 {
                0
            } else {
                -1
            };
            Some((v, class))
        }
    }
}

#[cold]
fn slow(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.parse::<f64>().ok()
}

#[inline(always)]
fn digits(text: &[u8], mut i: usize, mantissa: &mut u64) -> usize {
    while i < text.len() {
        let d = text[i].wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        *mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d));
        i += 1;
    }
    i
}

#[inline(always)]
fn fast(text: &[u8]) -> Option<f64> {
    fast_parts(text).map(|(v, _, _)| v)
}

/// The fast path: the value, whether it is negative, whether it is zero.
#[inline(always)]
fn fast_parts(text: &[u8]) -> Option<(f64, bool, bool)> {
    let (mantissa, exp, neg) = fast_decimal_parts(text)?;
    let v = scale(mantissa, exp);
    Some((if neg { -v } else { v }, neg, mantissa == 0))
}

/// The exactly rounded value of `mantissa * 10^exp`, for the parts
/// [`fast_decimal_parts`] gives (mantissa at most 2^53, exp within ±22).
#[inline(always)]
pub(crate) fn scale(mantissa: u64, exp: i32) -> f64 {
    // Exact either way (at most 2^53); from `i64` is one instruction.
    let m = mantissa as i64 as f64;
    if exp >= 0 {
        m * POW10[exp as usize]
    } else {
        m / POW10[(-exp) as usize]
    }
}

/// Four values `mantissa / 10^frac` with the same `frac` (0 to 22), as
/// [`scale`] computes each (written so that the divisions can go in pairs).
#[inline(always)]
pub(crate) fn scale4(mantissas: [u64; 4], frac: usize) -> [f64; 4] {
    let p = POW10[frac];
    let m = mantissas.map(|m| m as i64 as f64);
    [m[0] / p, m[1] / p, m[2] / p, m[3] / p]
}

/// [`fast_decimal_parts`] for a field whose first eight bytes (or more: the
/// bytes after the field are ignored) are known as the little-endian
/// `word`: a field of 1 to 8 bytes, all digits but for at most one `.`, is
/// read without a loop over its bytes; anything else goes to
/// [`fast_decimal_parts`].
#[inline(always)]
pub(crate) fn fast_decimal_parts_word(text: &[u8], word: Option<u64>) -> Option<(u64, i32, bool)> {
    if let Some(word) = word
        && let Some((mantissa, exp)) = swar_decimal(word, text.len())
    {
        return Some((mantissa, exp, false));
    }
    fast_decimal_parts(text)
}

/// How many of the bytes of `word` (little-endian), from the first, are
/// digits or `.`: 0 to 8.
#[inline(always)]
pub(crate) fn digits_run(word: u64) -> usize {
    let x = word ^ (LO * u64::from(b'0'));
    let t = x ^ (LO * 0x1e);
    // Exact byte tests (no carries between bytes): a `.`, not a digit.
    let dot = !(((t & !HI).wrapping_add(!HI)) | t) & HI;
    let other = (((x & !HI).wrapping_add(LO * 0x76)) | x) & HI & !dot;
    (other.trailing_zeros() / 8) as usize
}

/// [`swar_decimal`] for a field of 9 to 16 bytes: its first 8 in `first`,
/// the rest in the low bytes of `rest` (`len - 8` of them). Same parts as
/// [`fast_decimal_parts`] reads (so `None` for a mantissa above 2^53).
#[inline]
pub(crate) fn swar_decimal16(first: u64, rest: u64, len: usize) -> Option<(u64, i32)> {
    let len2 = len.checked_sub(8)?;
    let (m1, e1) = swar_decimal(first, 8)?;
    let (m2, e2) = swar_decimal(rest, len2)?;
    let dots = |w: u64, n: usize| {
        let t = w ^ (LO * u64::from(b'.'));
        let zero = !(((t & !HI).wrapping_add(!HI)) | t) & HI;
        (zero & (u64::MAX >> (64 - 8 * n as u32))).count_ones() as usize
    };
    let (dot1, dot2) = (dots(first, 8), dots(rest, len2));
    if dot1 + dot2 > 1 {
        return None;
    }
    // The second part's digits follow the first part's.
    let d2 = len2 - dot2;
    let m = m1 * POW10[d2] as u64 + m2;
    if m > 1 << 53 {
        return None;
    }
    Some((m, if dot1 == 1 { e1 - d2 as i32 } else { e2 }))
}

/// A field of `len` (1 to 8) bytes, held in the low bytes of `word`, that
/// is digits with at most one `.` and at least one digit: its mantissa
/// (below 10^8) and exponent (0 to -7), exactly as [`fast_decimal_parts`]
/// reads it; `None` for any other field.
#[inline(always)]
pub(crate) fn swar_decimal(word: u64, len: usize) -> Option<(u64, i32)> {
    if !(1..=8).contains(&len) {
        return None;
    }
    // Digits become their values (0 to 9), any other byte a value above 9
    // (`.` is 0x1e). The field moves to the top bytes, so its last byte is
    // byte 7 and the bytes below it are zeros (leading zero digits).
    let mut v = (word ^ (LO * u64::from(b'0'))) << (8 * (8 - len) as u32);
    // The first `.`, by an exact test for a zero byte (no borrows).
    let t = v ^ (LO * 0x1e);
    let dots = !(((t & !HI).wrapping_add(!HI)) | t) & HI;
    let mut frac = 0;
    if dots != 0 {
        let p = dots.trailing_zeros() / 8;
        // Drop the `.`: the bytes below it move up one, a zero comes in.
        let below = (1u64 << (8 * p)) - 1;
        let above = !(((1u64 << (8 * p)) << 8).wrapping_sub(1));
        v = ((v & below) << 8) | (v & above);
        frac = 7 - p as i32;
        if len == 1 {
            return None;
        }
    }
    // Every byte a digit value (a second `.` is not).
    if ((v.wrapping_add(LO * 0x76)) | v) & HI != 0 {
        return None;
    }
    // Eight digits, the first in byte 0, to their number.
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let pairs = 0x0000_00ff_0000_00ff;
    let v = ((v & pairs)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & pairs).wrapping_mul(1 + (10_000 << 32))))
        >> 32;
    Some((v, -frac))
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The fast path's reading of a decimal: integer mantissa (at most 2^53),
/// power of ten (within ±22) and sign; `None` when the fast path does not
/// apply (then std decides).
#[inline(always)]
pub(crate) fn fast_decimal_parts(text: &[u8]) -> Option<(u64, i32, bool)> {
    let len = text.len();
    let (neg, start) = match text.first() {
        Some(b'-') => (true, 1),
        Some(b'+') => (false, 1),
        _ => (false, 0),
    };
    let mut mantissa: u64 = 0;
    let mut i = digits(text, start, &mut mantissa);
    let int_digits = i - start;
    let mut frac_digits = 0;
    if i < len && text[i] == b'.' {
        let from = i + 1;
        i = digits(text, from, &mut mantissa);
        frac_digits = i - from;
    }
    let ndigits = int_digits + frac_digits;
    // No digit at all ("", ".", "-", "e5"), or more digits than fit: std decides.
    if ndigits == 0 || ndigits > 19 {
        return None;
    }
    let mut exp = -(frac_digits as i32);
    if i < len {
        if text[i] | 0x20 != b'e' {
            return None;
        }
        i += 1;
        let eneg = match text.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let mut e: u64 = 0;
        let end = digits(text, i, &mut e);
        if end == i || end - i > 4 || end != len {
            return None;
        }
        let e = e as i32;
        exp += if eneg { -e } else { e };
    }
    if mantissa > (1u64 << 53) || !(-22..=22).contains(&exp) {
        return None;
    }
    Some((mantissa, exp, neg))
}

#[cfg(test)]
mod tests {
    use super::{fast_decimal_parts, fast_decimal_parts_word, parse_decimal};

    /// The word-at-a-time reading equals the byte loop's, whatever follows
    /// the field, for every field of up to 8 bytes over an alphabet with
    /// the characters that matter (exhaustive to 5 bytes, sampled above).
    #[test]
    fn word_reading_agrees_with_the_loop() {
        let alphabet = b"0159.-+e,x \n\0/:";
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let check = |field: &[u8], after: &[u8]| {
            let mut buf = field.to_vec();
            buf.extend_from_slice(after);
            buf.resize(buf.len().max(8), b'7');
            let word = u64::from_le_bytes(buf[..8].try_into().unwrap());
            assert_eq!(
                fast_decimal_parts_word(field, Some(word)),
                fast_decimal_parts(field),
                "{:?} then {:?}",
                String::from_utf8_lossy(field),
                String::from_utf8_lossy(after)
            );
        };
        let mut field = Vec::new();
        for len in 1..=5u32 {
            for mut k in 0..alphabet.len().pow(len) {
                field.clear();
                for _ in 0..len {
                    field.push(alphabet[k % alphabet.len()]);
                    k /= alphabet.len();
                }
                check(&field, b",123.5,9");
                check(&field, b".");
            }
        }
        for _ in 0..2_000_000 {
            let r = next();
            let len = 1 + (r % 8) as usize;
            field.clear();
            for j in 0..len {
                let c = (r >> (8 + 6 * j)) as usize;
                // Mostly digits, sometimes a dot or another byte.
                field.push(match c % 16 {
                    0 => b'.',
                    1 => alphabet[(c / 16) % alphabet.len()],
                    d => b'0' + (d % 10) as u8,
                });
            }
            let after = next().to_le_bytes();
            check(&field, &after);
        }
        for s in [
            "12345678", "99999999", "0000.001", "9999999.", ".9999999", "1.2.3",
        ] {
            check(s.as_bytes(), b"");
        }
    }

    /// Fields of 9 to 16 bytes read in two words as the loop reads them.
    #[test]
    fn two_word_reading_agrees_with_the_loop() {
        let check = |f: &[u8]| {
            let mut b = f.to_vec();
            b.resize(16, b'5');
            let first = u64::from_le_bytes(b[..8].try_into().unwrap());
            let rest = u64::from_le_bytes(b[8..].try_into().unwrap());
            let by_loop = fast_decimal_parts(f).map(|(m, e, _)| (m, e));
            let got = super::swar_decimal16(first, rest, f.len());
            // It may decline (then the loop decides), but not whole numbers,
            // and what it reads is what the loop reads.
            if got.is_some() || f.iter().all(u8::is_ascii_digit) {
                assert_eq!(got, by_loop, "{:?}", String::from_utf8_lossy(f));
            }
            got.is_some()
        };
        for f in [
            &b"132690000"[..],
            b"1234567890123456",
            b"9007199254740993",
            b"9007199254740992",
            b"12345678.",
            b".12345678",
            b"1234567.12345678",
            b"1234567.1",
            b"12345678.1234567",
            b"1.2.345678901",
            b"0000000000000001",
        ] {
            check(f);
        }
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut read = 0;
        for _ in 0..2_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = 9 + (state % 8) as usize;
            let field: Vec<u8> = (0..len)
                .map(|j| match (state >> (3 + 4 * j)) % 24 {
                    0 => b'.',
                    1 => b'x',
                    d => b'0' + (d % 10) as u8,
                })
                .collect();
            read += usize::from(check(&field));
        }
        assert!(read > 100_000, "{read}");
    }

    #[test]
    fn digits_run_counts_leading_digits_and_dots() {
        let want = |b: &[u8; 8]| {
            b.iter()
                .take_while(|c| c.is_ascii_digit() || **c == b'.')
                .count()
        };
        for (b, n) in [
            (b"12345678", 8),
            (b"1950.25,", 7),
            (b"1.5,2.25", 3),
            (b",1234567", 0),
            (b"12\n45678", 2),
            (b"..9/:a00", 3),
            (b"0\x80\xff\x2f\x3a000", 1),
            (b"\0\0\0\0\0\0\0\0", 0),
        ] {
            assert_eq!(super::digits_run(u64::from_le_bytes(*b)), n, "{b:?}");
            assert_eq!(want(b), n, "{b:?}");
        }
        // Every byte value in every position, after digits and dots.
        for pos in 0..8 {
            for c in 0..=255u8 {
                for base in [b"01234567", b"9.9.9.9.", b"........"] {
                    let mut b = *base;
                    b[pos] = c;
                    assert_eq!(super::digits_run(u64::from_le_bytes(b)), want(&b), "{b:?}");
                }
            }
        }
    }

    #[test]
    fn agrees_with_std_on_samples() {
        for s in [
            "0",
            "-0",
            "+1",
            "1.",
            ".5",
            ".",
            "-",
            "",
            "1e5",
            "1E-5",
            "1e",
            "e1",
            "12.3.4",
            "0.1",
            "138.7449951171875",
            "9007199254740993",
            "1e22",
            "1e23",
            "1.5e-22",
            "99.95313263",
            "inf",
            "-infinity",
            "NaN",
            "1_0",
            " 1",
            "0x10",
            "123456789012345678901234567890",
            "1234567890123456",
            "9007199254740992",
            "9007199254740993",
            "99999999.99999999",
            ".123456789012345",
            "1.",
            "0.",
            "..",
            "1..2",
            "-.5",
            "+.5",
            "0000000000000001.5",
        ] {
            let std = s.parse::<f64>().ok().map(f64::to_bits);
            assert_eq!(parse_decimal(s.as_bytes()).map(f64::to_bits), std, "{s:?}");
        }
    }
}
