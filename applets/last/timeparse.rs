//! Time arguments as util-linux 2.38.1 parses them (`parse_timestamp` in
//! lib/timeutils.c, used by `last -s/-t/-p`), with glibc `strptime`
//! number rules, so the same strings are accepted and mean the same time.
//!
//! Accepted: `now`, `today`, `yesterday`, `tomorrow`, `+5min`, `-5days`,
//! `5min ago`, an optional weekday prefix (`Sat 2012-09-22`), and
//! `YYYY-MM-DD hh:mm:ss`, `YYYY-MM-DDThh:mm:ss`, `YYYY-MM-DD hh:mm`,
//! `YYYY-MM-DD`, `hh:mm:ss`, `hh:mm`, `YYYYMMDDhhmmss` (two-digit years
//! too). 2.38.1 has no `@epoch` and no sub-seconds; neither does this.

use crate::sys::passwd::is_c_space as is_space;
use crate::sys::time;

const USEC_PER_SEC: u64 = 1_000_000;

/// Microseconds since the epoch for `text`, taking `now` (seconds) as the
/// reference for relative forms; None where util-linux says "invalid time
/// value". Arithmetic wraps as the C `usec_t` does (a time before 1970
/// becomes a huge value, not an error).
pub fn parse_timestamp(text: &[u8], now: i64) -> Option<u64> {
    let mut tm = time::local(now)?;
    tm.tm_isdst = -1;
    let mut plus = 0u64;
    let mut minus = 0u64;
    let mut weekday = -1;
    match text {
        b"now" => {}
        b"today" | b"yesterday" | b"tomorrow" => {
            tm.tm_mday += match text {
                b"yesterday" => -1,
                b"tomorrow" => 1,
                _ => 0,
            };
            tm.tm_sec = 0;
            tm.tm_min = 0;
            tm.tm_hour = 0;
        }
        [b'+', rest @ ..] => plus = parse_sec(rest)?,
        [b'-', rest @ ..] => minus = parse_sec(rest)?,
        _ if text.ends_with(b" ago") => minus = parse_sec(&text[..text.len() - 4])?,
        _ => {
            let mut rest = text;
            for (name, nr) in WEEKDAYS {
                let n = name.len();
                if rest.len() > n && rest[..n].eq_ignore_ascii_case(name) && rest[n] == b' ' {
                    weekday = *nr;
                    rest = &rest[n + 1..];
                    break;
                }
            }
            tm = parse_absolute(rest, tm)?;
        }
    }
    // util-linux takes -1 as failure even where it is a real time.
    let x = glibc_mktime(&mut tm).filter(|&x| x != -1)?;
    if weekday >= 0 && tm.tm_wday != weekday {
        return None;
    }
    let ret = (x as u64).wrapping_mul(USEC_PER_SEC).wrapping_add(plus);
    Some(ret.saturating_sub(minus))
}

/// The zone offset glibc's mktime guesses first: the one its previous
/// call found (0 before any), which decides which of two instances of a
/// time repeated at the end of DST it returns.
static MKTIME_GUESS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// mktime with `tm_isdst = -1` as glibc (the peer's libc) resolves it,
/// whatever libc this binary has: start from the previous call's offset
/// and follow localtime until it agrees. A time that occurs twice comes
/// out as the instance that search meets first; a time skipped by a
/// spring-forward gap is taken in the offset before the gap (so it lands
/// in summer time), preferring the DST value as glibc does.
fn glibc_mktime(tm: &mut time::Tm) -> Option<i64> {
    use std::sync::atomic::Ordering;
    let mut fields = *tm;
    let base = time::timegm(&mut fields);
    let guess = MKTIME_GUESS.load(Ordering::Relaxed);
    let mut t = base.checked_sub(guess)?;
    let (mut t1, mut t2) = (t, t);
    let mut found = None;
    for _ in 0..8 {
        let mut lt = time::local(t)?;
        let gt = t.checked_add(base - time::timegm(&mut lt))?;
        if gt == t {
            found = Some(t);
            break;
        }
        if t == t1 && t != t2 {
            // Oscillating across a gap: prefer the value in DST.
            let dst_t = time::local(t)?.tm_isdst > 0;
            let dst_t2 = time::local(t2)?.tm_isdst > 0;
            found = Some(if !dst_t && dst_t2 { t2 } else { t });
            break;
        }
        t1 = t2;
        t2 = t;
        t = gt;
    }
    let t = match found {
        Some(t) => t,
        None => return time::mktime(tm),
    };
    MKTIME_GUESS.store(base - t, Ordering::Relaxed);
    *tm = time::local(t)?;
    Some(t)
}

const WEEKDAYS: &[(&[u8], i32)] = &[
    (b"Sunday", 0),
    (b"Sun", 0),
    (b"Monday", 1),
    (b"Mon", 1),
    (b"Tuesday", 2),
    (b"Tue", 2),
    (b"Wednesday", 3),
    (b"Wed", 3),
    (b"Thursday", 4),
    (b"Thu", 4),
    (b"Friday", 5),
    (b"Fri", 5),
    (b"Saturday", 6),
    (b"Sat", 6),
];

/// The strptime formats in the order util-linux tries them, and whether
/// the seconds or the whole time of day are then set to zero.
const FORMATS: &[(&[u8], Zero)] = &[
    (b"%y-%m-%d %H:%M:%S", Zero::Nothing),
    (b"%Y-%m-%d %H:%M:%S", Zero::Nothing),
    (b"%Y-%m-%dT%H:%M:%S", Zero::Nothing),
    (b"%y-%m-%d %H:%M", Zero::Seconds),
    (b"%Y-%m-%d %H:%M", Zero::Seconds),
    (b"%y-%m-%d", Zero::TimeOfDay),
    (b"%Y-%m-%d", Zero::TimeOfDay),
    (b"%H:%M:%S", Zero::Nothing),
    (b"%H:%M", Zero::Seconds),
    // 2.38.1 drops the seconds of this form (observed: `-s
    // 20261124231449` keeps a 23:14:00 entry).
    (b"%Y%m%d%H%M%S", Zero::Seconds),
];

#[derive(Clone, Copy)]
enum Zero {
    Nothing,
    Seconds,
    TimeOfDay,
}

fn parse_absolute(text: &[u8], now: time::Tm) -> Option<time::Tm> {
    for (format, zero) in FORMATS {
        let mut tm = now;
        if strptime_whole(text, format, &mut tm) {
            match zero {
                Zero::Nothing => {}
                Zero::Seconds => tm.tm_sec = 0,
                Zero::TimeOfDay => {
                    tm.tm_sec = 0;
                    tm.tm_min = 0;
                    tm.tm_hour = 0;
                }
            }
            return Some(tm);
        }
    }
    None
}

/// glibc strptime for the conversions above, true only when the whole of
/// `text` is consumed. Numbers skip leading white space, read at most
/// `digits` digits and stop early once another digit would exceed the
/// maximum (glibc's `get_number`); white space in the format matches any
/// amount, including none.
fn strptime_whole(text: &[u8], format: &[u8], tm: &mut time::Tm) -> bool {
    let mut at = 0;
    let mut f = 0;
    while f < format.len() {
        let c = format[f];
        if is_space(c) {
            while at < text.len() && is_space(text[at]) {
                at += 1;
            }
            f += 1;
            continue;
        }
        if c != b'%' {
            if text.get(at) != Some(&c) {
                return false;
            }
            at += 1;
            f += 1;
            continue;
        }
        let conv = format[f + 1];
        f += 2;
        let (min, max, digits) = match conv {
            b'y' => (0, 99, 2),
            b'Y' => (0, 9999, 4),
            b'm' => (1, 12, 2),
            b'd' => (1, 31, 2),
            b'H' => (0, 23, 2),
            b'M' => (0, 59, 2),
            _ => (0, 61, 2),
        };
        let Some(value) = get_number(text, &mut at, min, max, digits) else {
            return false;
        };
        match conv {
            b'y' => tm.tm_year = if value >= 69 { value } else { value + 100 },
            b'Y' => tm.tm_year = value - 1900,
            b'm' => tm.tm_mon = value - 1,
            b'd' => tm.tm_mday = value,
            b'H' => tm.tm_hour = value,
            b'M' => tm.tm_min = value,
            _ => tm.tm_sec = value,
        }
    }
    at == text.len()
}

fn get_number(text: &[u8], at: &mut usize, min: i32, max: i32, digits: u32) -> Option<i32> {
    while *at < text.len() && is_space(text[*at]) {
        *at += 1;
    }
    let digit = |i: usize| {
        text.get(i)
            .filter(|b| b.is_ascii_digit())
            .map(|b| (b - b'0') as i32)
    };
    let mut value = digit(*at)?;
    *at += 1;
    let mut left = digits - 1;
    while left > 0 && value * 10 <= max {
        let Some(d) = digit(*at) else { break };
        value = value * 10 + d;
        *at += 1;
        left -= 1;
    }
    (min..=max).contains(&value).then_some(value)
}

/// systemd's `parse_sec` as util-linux 2.38.1 has it: one or more
/// `NUMBER[.FRACTION] UNIT` parts; a unit is required.
fn parse_sec(text: &[u8]) -> Option<u64> {
    const MIN: u64 = 60 * USEC_PER_SEC;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    const UNITS: &[(&[u8], u64)] = &[
        (b"seconds", USEC_PER_SEC),
        (b"second", USEC_PER_SEC),
        (b"sec", USEC_PER_SEC),
        (b"s", USEC_PER_SEC),
        (b"minutes", MIN),
        (b"minute", MIN),
        (b"min", MIN),
        (b"months", 2_629_800 * USEC_PER_SEC),
        (b"month", 2_629_800 * USEC_PER_SEC),
        (b"msec", 1000),
        (b"ms", 1000),
        (b"m", MIN),
        (b"hours", HOUR),
        (b"hour", HOUR),
        (b"hr", HOUR),
        (b"h", HOUR),
        (b"days", DAY),
        (b"day", DAY),
        (b"d", DAY),
        (b"weeks", 7 * DAY),
        (b"week", 7 * DAY),
        (b"w", 7 * DAY),
        (b"years", 31_557_600 * USEC_PER_SEC),
        (b"year", 31_557_600 * USEC_PER_SEC),
        (b"y", 31_557_600 * USEC_PER_SEC),
        (b"usec", 1),
        (b"us", 1),
    ];
    let mut p = 0;
    let mut total = 0u64;
    let mut something = false;
    loop {
        while p < text.len() && is_space(text[p]) {
            p += 1;
        }
        if p == text.len() {
            return something.then_some(total);
        }
        let (whole, mut e) = strtoll(text, p)?;
        let mut frac = 0u64;
        let mut frac_digits = 0;
        if text.get(e) == Some(&b'.') {
            let b = e + 1;
            let (z, end) = strtoll(text, b)?;
            if end == b {
                return None;
            }
            frac = z;
            frac_digits = end - b;
            e = end;
        } else if e == p {
            return None;
        }
        while e < text.len() && is_space(text[e]) {
            e += 1;
        }
        let rest = &text[e..];
        let (suffix, unit) = UNITS.iter().find(|(s, _)| rest.starts_with(s))?;
        let mut k = frac.wrapping_mul(*unit);
        for _ in 0..frac_digits {
            k /= 10;
        }
        total = total
            .wrapping_add(whole.wrapping_mul(*unit))
            .wrapping_add(k);
        p = e + suffix.len();
        something = true;
    }
}

/// strtoll's view of a non-negative number at `at`: leading white space
/// and a sign are allowed; a negative or overflowing value is an error
/// (parse_sec's ERANGE). Returns the value and where it ended (`at` when
/// there were no digits).
fn strtoll(text: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut i = at;
    while i < text.len() && is_space(text[i]) {
        i += 1;
    }
    let negative = crate::sys::passwd::take_sign(text, &mut i);
    let start = i;
    let mut value: u64 = 0;
    while let Some(d) = text.get(i).filter(|b| b.is_ascii_digit()) {
        value = value.checked_mul(10)?.checked_add((d - b'0') as u64)?;
        i += 1;
    }
    if i == start {
        return Some((0, at));
    }
    if value > i64::MAX as u64 || (negative && value != 0) {
        return None;
    }
    Some((value, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2023-01-20 02:07:07 UTC, the reference util-linux's own test uses.
    const REF: i64 = 1_674_180_427;

    fn at(text: &str) -> Option<u64> {
        let _guard = crate::applets::last::clock::TEST_TZ_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        std::env::set_var("TZ", "GMT");
        time::init();
        parse_timestamp(text.as_bytes(), REF)
    }

    #[test]
    fn util_linux_cases() {
        for (text, want) in [
            ("2012-09-22 16:34:22", 1348331662000000),
            ("2012-09-22 16:34", 1348331640000000),
            ("2012-09-22", 1348272000000000),
            ("16:34:22", 1674232462000000),
            ("16:34", 1674232440000000),
            ("now", 1674180427000000),
            ("yesterday", 1674086400000000),
            ("today", 1674172800000000),
            ("tomorrow", 1674259200000000),
            ("+5min", 1674180727000000),
            ("-5days", 1673748427000000),
            ("20120922163422", 1348331640000000),
            ("2012-09-22T16:34:22", 1348331662000000),
            ("Sat 2012-09-22", 1348272000000000),
            ("5min ago", 1674180127000000),
            ("12-9-22 1:2", 1348275720000000),
        ] {
            assert_eq!(at(text), Some(want), "{text}");
        }
    }

    #[test]
    fn ambiguous_and_missing_local_times_resolve_as_glibc_does() {
        let _guard = crate::applets::last::clock::TEST_TZ_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        std::env::set_var("TZ", "Europe/Berlin");
        time::init();
        MKTIME_GUESS.store(0, std::sync::atomic::Ordering::Relaxed);
        let at = |text: &str| parse_timestamp(text.as_bytes(), REF).map(|u| u / 1_000_000);
        // Observed with glibc 2.36 in a fresh process, then after a
        // summer time was parsed.
        assert_eq!(at("2017-10-29 02:01:11"), Some(1509238871));
        assert_eq!(at("2017-03-26 02:30:00"), Some(1490491800));
        assert_eq!(at("2017-07-01 12:00:00"), Some(1498903200));
        assert_eq!(at("2017-10-29 02:01:11"), Some(1509235271));
        std::env::set_var("TZ", "GMT");
        time::init();
        MKTIME_GUESS.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    #[test]
    fn what_2_38_1_rejects() {
        for text in [
            "@1348331662",
            "16:34:22,5",
            "2012-09-22T16:34",
            "+0",
            "-1",
            "+5sec5",
            "+5secs",
            "Mon 2012-09-22",
            "Sat",
            "24:00",
            "2012-13-01",
            "16:34:62",
            "2012-09-22 ",
            "",
            "ago",
            "x ago",
        ] {
            assert_eq!(at(text), None, "{text}");
        }
    }
}
