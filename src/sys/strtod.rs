//! C's `strtod` for the numbers of /proc/uptime and /proc/loadavg, in
//! Rust: musl's float scanner (about 6 KB) is not linked for two fields.

/// scanf's `%lf`: skip white space, then the longest prefix that is a
/// number (decimal, hex float, inf, nan), as C's strtod takes it. Advances
/// `input` past it. What Linux writes (two decimals, far below 2^53) and
/// every value with at most 19 significant digits and a decimal exponent
/// within 10^±22 converts exactly, as strtod does (Clinger's fast path:
/// one exact integer times or over one exact power of ten). Past that the
/// result may be an ulp off strtod's; libc's strtod (6 KB of float scanner)
/// is not linked for it.
pub fn scan_double(input: &mut &[u8]) -> Option<f64> {
    let start = input
        .iter()
        .position(|&b| !(b == b' ' || (b'\t'..=b'\r').contains(&b)))
        .unwrap_or(input.len());
    let text = &input[start..];
    let (negative, body) = match text.first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (magnitude, used) = scan_inf_nan(body)
        .or_else(|| scan_hex(body))
        .or_else(|| scan_decimal(body))?;
    *input = &body[used..];
    Some(if negative { -magnitude } else { magnitude })
}

/// Whether `text` starts with `word`, ignoring ASCII case.
fn starts_with_word(text: &[u8], word: &[u8]) -> bool {
    text.len() >= word.len() && text[..word.len()].eq_ignore_ascii_case(word)
}

/// `inf`, `infinity` or `nan` (with an optional `(chars)`), any case.
fn scan_inf_nan(text: &[u8]) -> Option<(f64, usize)> {
    if starts_with_word(text, b"infinity") {
        Some((f64::INFINITY, 8))
    } else if starts_with_word(text, b"inf") {
        Some((f64::INFINITY, 3))
    } else if starts_with_word(text, b"nan") {
        let rest = &text[3..];
        let inner = rest
            .iter()
            .skip(1)
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .map(|n| n + 1);
        let used = match (rest.first(), inner) {
            (Some(b'('), Some(close)) if rest[close] == b')' => 3 + close + 1,
            _ => 3,
        };
        Some((f64::NAN, used))
    } else {
        None
    }
}

/// The digits of `text` in `radix` from `at`, with at most one point:
/// the first 15 (hex) or 19 (decimal) significant ones as an integer, how
/// many more came before the point than after (the scale to apply),
/// whether any was seen, and where they end.
struct Digits {
    mantissa: u64,
    scale: i64,
    inexact: bool,
    any: bool,
    end: usize,
}

fn scan_digits(text: &[u8], mut at: usize, radix: u32, keep: u32) -> Digits {
    let mut d = Digits {
        mantissa: 0,
        scale: 0,
        inexact: false,
        any: false,
        end: at,
    };
    let mut kept = 0;
    let mut point = false;
    while let Some(&b) = text.get(at) {
        if b == b'.' && !point {
            point = true;
        } else if let Some(v) = char::from(b).to_digit(radix) {
            d.any = true;
            if kept < keep {
                if d.mantissa != 0 || v != 0 {
                    kept += 1;
                }
                d.mantissa = d.mantissa * u64::from(radix) + u64::from(v);
                d.scale -= i64::from(point);
            } else {
                d.inexact |= v != 0;
                d.scale += i64::from(!point);
            }
        } else {
            break;
        }
        at += 1;
        if d.any {
            d.end = at;
        }
    }
    d
}

/// An exponent (`e` or `p` already matched at `text[at - 1]`): its value,
/// clamped far past any double, and where it ends; None when no digit
/// follows (the letter is then not part of the number).
fn scan_exponent(text: &[u8], mut at: usize) -> Option<(i64, usize)> {
    let negative = match text.get(at) {
        Some(b'-') => {
            at += 1;
            true
        }
        Some(b'+') => {
            at += 1;
            false
        }
        _ => false,
    };
    let first = at;
    let mut value: i64 = 0;
    while let Some(d) = text.get(at).filter(|b| b.is_ascii_digit()) {
        value = (value * 10 + i64::from(d - b'0')).min(100_000);
        at += 1;
    }
    (at > first).then_some((if negative { -value } else { value }, at))
}

/// `x * 2^e`, exact while the result is a normal double.
fn times_pow2(mut x: f64, mut e: i64) -> f64 {
    while e != 0 && x != 0.0 && x.is_finite() {
        let step = e.clamp(-1000, 1000);
        x *= f64::from_bits(((1023 + step) as u64) << 52);
        e -= step;
    }
    x
}

/// `0x` hex digits with an optional point and `p` exponent.
fn scan_hex(text: &[u8]) -> Option<(f64, usize)> {
    if !(starts_with_word(text, b"0x")) {
        return None;
    }
    let d = scan_digits(text, 2, 16, 15);
    if !d.any {
        // strtod takes the `0` and leaves the `x`.
        return Some((0.0, 1));
    }
    let (exp, end) = match text.get(d.end) {
        Some(b'p' | b'P') => scan_exponent(text, d.end + 1).unwrap_or((0, d.end)),
        _ => (0, d.end),
    };
    // A sticky low bit stands for the nonzero digits dropped past 15: the
    // u64 then rounds to 53 bits as the exact value would.
    let mantissa = d.mantissa << 1 | u64::from(d.inexact);
    Some((times_pow2(mantissa as f64, exp + 4 * d.scale - 1), end))
}

/// Decimal digits with an optional point and `e` exponent.
fn scan_decimal(text: &[u8]) -> Option<(f64, usize)> {
    let d = scan_digits(text, 0, 10, 19);
    if !d.any {
        return None;
    }
    let (exp, end) = match text.get(d.end) {
        Some(b'e' | b'E') => scan_exponent(text, d.end + 1).unwrap_or((0, d.end)),
        _ => (0, d.end),
    };
    let exp = exp + d.scale;
    let m = d.mantissa as f64;
    if d.mantissa == 0 {
        return Some((0.0, end));
    }
    let value = if d.mantissa < 1 << 53 && (0..=22).contains(&exp) {
        m * POW10[exp as usize]
    } else if d.mantissa < 1 << 53 && (-22..0).contains(&exp) {
        m / POW10[(-exp) as usize]
    } else {
        let mut x = m;
        let mut e = exp.clamp(-800, 800);
        while e > 0 {
            let step = e.min(22);
            x *= POW10[step as usize];
            e -= step;
        }
        while e < 0 {
            let step = (-e).min(22);
            x /= POW10[step as usize];
            e += step;
        }
        x
    };
    Some((value, end))
}

/// The powers of ten a double holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_like_scanf() {
        let mut s: &[u8] = b"  7e2x 1";
        assert_eq!(scan_double(&mut s), Some(700.0));
        let mut s: &[u8] = b"0x10p2 1";
        assert_eq!(scan_double(&mut s), Some(64.0));
        assert_eq!(scan_double(&mut s), Some(1.0));
        assert_eq!(scan_double(&mut s), None);
        let mut s: &[u8] = b"abc";
        assert_eq!(scan_double(&mut s), None);
        let mut s: &[u8] = b"inf nan -1";
        assert_eq!(scan_double(&mut s), Some(f64::INFINITY));
        assert!(scan_double(&mut s).is_some_and(f64::is_nan));
        assert_eq!(scan_double(&mut s), Some(-1.0));
    }

    /// The same value and the same end as the C library's own strtod
    /// (the one the test binary links), for what /proc holds and for the
    /// odd forms C accepts.
    #[test]
    fn scans_as_libc_strtod() {
        let cases: &[&str] = &[
            "0",
            "0.00",
            "5.5",
            "59.99",
            "12345.678",
            "2147483648.5",
            "1e12",
            "-5",
            "86399.99",
            "0.125",
            "0.375",
            "5.678",
            "100.00",
            "2e308",
            "-1e-400",
            "0.1",
            "1e22",
            "4294967295.99",
            "00000000000000000000001.5",
            " \t\x0b 7e2x",
            "7e",
            "7e+",
            "7e-3",
            "5.",
            ".5",
            ".",
            "-.5e1",
            "+3",
            "+-3",
            "0x",
            "0x.",
            "0x1.8p1",
            "0X1P-3",
            "0x10p",
            "0xffffffffffffffffff",
            "0x1.fffffffffffff8p0",
            "inf",
            "INFINITY",
            "infin",
            "-nan",
            "nan(abc)",
            "nan(",
            "nan()x",
            "e5",
            "x",
        ];
        // Outside the fast path: within a few ulps of strtod.
        let far: &[&str] = &[
            "1.7976931348623157e308",
            "123456789012345678901234",
            "4.9e-324",
            "1e-300",
            "1e23",
            "9007199254740993",
            "0.1e-30",
            "314159265358979323846e-20",
        ];
        for case in cases.iter().chain(far) {
            let c = std::ffi::CString::new(*case).unwrap();
            let mut end: *mut libc::c_char = std::ptr::null_mut();
            let want = unsafe { libc::strtod(c.as_ptr(), &mut end) };
            let used = end as usize - c.as_ptr() as usize;
            let mut s: &[u8] = case.as_bytes();
            match scan_double(&mut s) {
                None => assert_eq!(used, 0, "{case:?}"),
                Some(got) => {
                    assert_eq!(case.len() - s.len(), used, "{case:?} end");
                    if want.is_nan() {
                        assert!(got.is_nan(), "{case:?}");
                    } else if far.contains(case) {
                        let off = (got - want).abs();
                        assert!(off <= want.abs() * 1e-15 || off < 1e-320, "{case:?}");
                    } else {
                        assert_eq!(got.to_bits(), want.to_bits(), "{case:?}");
                    }
                }
            }
        }
    }
}
