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
#[inline]
pub fn parse_decimal(text: &[u8]) -> Option<f64> {
    match fast(text) {
        Some(v) => Some(v),
        None => slow(text),
    }
}

#[cold]
fn slow(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.parse::<f64>().ok()
}

#[inline]
fn fast(text: &[u8]) -> Option<f64> {
    let (neg, mut s) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut ndigits = 0u32;
    while let [c @ b'0'..=b'9', rest @ ..] = s {
        mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
        ndigits += 1;
        s = rest;
    }
    let mut frac_digits = 0i32;
    if let [b'.', rest @ ..] = s {
        s = rest;
        while let [c @ b'0'..=b'9', rest @ ..] = s {
            mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            ndigits += 1;
            frac_digits += 1;
            s = rest;
        }
    }
    // No digit at all ("", ".", "-", "e5"), or more digits than fit: std decides.
    if ndigits == 0 || ndigits > 19 {
        return None;
    }
    let mut exp = -frac_digits;
    if let [b'e' | b'E', rest @ ..] = s {
        let (eneg, mut r) = match rest {
            [b'-', r @ ..] => (true, r),
            [b'+', r @ ..] => (false, r),
            _ => (false, rest),
        };
        let mut e: i32 = 0;
        let mut edigits = 0;
        while let [c @ b'0'..=b'9', rest @ ..] = r {
            if edigits >= 4 {
                return None;
            }
            e = e * 10 + i32::from(c - b'0');
            edigits += 1;
            r = rest;
        }
        if edigits == 0 {
            return None;
        }
        exp += if eneg { -e } else { e };
        s = r;
    }
    if !s.is_empty() || mantissa > (1u64 << 53) {
        return None;
    }
    let m = mantissa as f64;
    let v = if exp >= 0 {
        if exp > 22 {
            return None;
        }
        m * POW10[exp as usize]
    } else {
        if exp < -22 {
            return None;
        }
        m / POW10[(-exp) as usize]
    };
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::parse_decimal;

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
        ] {
            let std = s.parse::<f64>().ok().map(f64::to_bits);
            assert_eq!(parse_decimal(s.as_bytes()).map(f64::to_bits), std, "{s:?}");
        }
    }
}
