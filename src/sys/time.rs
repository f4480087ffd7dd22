//! Calendar time through libc (`localtime_r`, `mktime`; strftime in Rust), as the
//! peers do it, so `TZ` and the zone database behave exactly as theirs.
//! Raw libc throughout: nix has none of these calls.

use std::ffi::CStr;

extern "C" {
    fn tzset();
}

/// Read `TZ` once; call before the first conversion.
pub fn init() {
    // SAFETY: tzset only reads the environment and libc's zone state.
    unsafe { tzset() }
}

/// Broken-down time. `tm_gmtoff` is the zone offset east of UTC in seconds.
pub type Tm = libc::tm;

/// Seconds since the epoch as local time; None when libc cannot represent it.
pub fn local(secs: i64) -> Option<Tm> {
    // time_t is 64-bit on every target utmpbox builds for (musl >= 1.2 and
    // glibc x86_64), so `secs` is passed as is; naming libc's alias would
    // only draw its musl deprecation warning.
    // SAFETY: tm is plain data; localtime_r writes it or returns NULL.
    let mut tm: Tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    ok.then_some(tm)
}

/// Local broken-down time back to seconds; None when out of range.
pub fn mktime(tm: &mut Tm) -> Option<i64> {
    // SAFETY: mktime normalises the struct in place.
    let t = unsafe { libc::mktime(tm) };
    // -1 is also a real time (1969-12-31T23:59:59Z); tell by the fields.
    if t == -1 && !(tm.tm_year == 69 && tm.tm_mon == 11 && tm.tm_mday == 31) {
        None
    } else {
        Some(t)
    }
}

/// UTC broken-down time back to seconds.
pub fn timegm(tm: &mut Tm) -> i64 {
    // SAFETY: as mktime, without zone lookups.
    unsafe { libc::timegm(tm) }
}

/// `strftime` into a byte vector, as musl's does it in the C locale (the
/// binary never calls setlocale), for the conversions utmpbox uses: `%a`
/// `%b` `%d` `%e` `%H` `%M` `%S` `%m` `%y` `%Y` `%z` `%%`. Written out in
/// Rust: libc's strftime is the only user of printf's engine (about 10 KB
/// with its float formatting). Any other conversion ends the output there,
/// as strftime's failure did.
pub fn strftime(format: &CStr, tm: &Tm) -> Vec<u8> {
    const DAYS: &[u8; 21] = b"SunMonTueWedThuFriSat";
    const MONTHS: &[u8; 36] = b"JanFebMarAprMayJunJulAugSepOctNovDec";
    let mut out = Vec::with_capacity(32);
    let mut spec = format.to_bytes().iter();
    while let Some(&c) = spec.next() {
        if c != b'%' {
            out.push(c);
            continue;
        }
        let (value, width, pad) = match spec.next() {
            Some(b'a') => {
                name(DAYS, tm.tm_wday, &mut out);
                continue;
            }
            Some(b'b') => {
                name(MONTHS, tm.tm_mon, &mut out);
                continue;
            }
            Some(b'%') => {
                out.push(b'%');
                continue;
            }
            Some(b'z') => {
                if tm.tm_isdst >= 0 {
                    // printf "%+.4ld" of hhmm, C's truncating division.
                    let hhmm = tm.tm_gmtoff / 3600 * 100 + tm.tm_gmtoff % 3600 / 60;
                    out.push(if hhmm < 0 { b'-' } else { b'+' });
                    number(i64::from(hhmm.unsigned_abs() as u32), 4, b'0', &mut out);
                }
                continue;
            }
            Some(b'd') => (i64::from(tm.tm_mday), 2, b'0'),
            Some(b'e') => (i64::from(tm.tm_mday), 2, b' '),
            Some(b'H') => (i64::from(tm.tm_hour), 2, b'0'),
            Some(b'M') => (i64::from(tm.tm_min), 2, b'0'),
            Some(b'S') => (i64::from(tm.tm_sec), 2, b'0'),
            Some(b'm') => (i64::from(tm.tm_mon) + 1, 2, b'0'),
            Some(b'y') => (((i64::from(tm.tm_year) + 1900) % 100).abs(), 2, b'0'),
            Some(b'Y') => {
                let year = i64::from(tm.tm_year) + 1900;
                // musl: "+%lld" past four digits.
                if year >= 10000 {
                    out.push(b'+');
                }
                (year, 4, b'0')
            }
            _ => break,
        };
        number(value, width, pad, &mut out);
    }
    out
}

/// The three-letter name `index` picks in `names`, or `-` when out of range.
fn name(names: &[u8], index: i32, out: &mut Vec<u8>) {
    match usize::try_from(index).ok().filter(|&i| i < names.len() / 3) {
        Some(i) => out.extend_from_slice(&names[i * 3..i * 3 + 3]),
        None => out.push(b'-'),
    }
}

/// printf `%0*lld` (pad `0`) or `%*lld` (pad ` `): at least `width`
/// characters, the sign counted, zeros after it or spaces before it.
fn number(value: i64, width: usize, pad: u8, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let len = digits.len() - at + usize::from(value < 0);
    let fill = width.saturating_sub(len);
    if pad == b' ' {
        out.resize(out.len() + fill, b' ');
    }
    if value < 0 {
        out.push(b'-');
    }
    if pad == b'0' {
        out.resize(out.len() + fill, b'0');
    }
    out.extend_from_slice(&digits[at..]);
}

/// Now, in microseconds since the epoch.
pub fn now_us() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_micros() as i64,
        Err(e) => -(e.duration().as_micros() as i64),
    }
}

/// `+hh:mm` for a zone offset in seconds, as ISO 8601 writes it.
fn iso_offset(gmtoff: i64, out: &mut Vec<u8>) {
    let sign = if gmtoff < 0 { b'-' } else { b'+' };
    let off = gmtoff.unsigned_abs();
    out.push(sign);
    out.extend_from_slice(format!("{:02}:{:02}", off / 3600, off % 3600 / 60).as_bytes());
}

/// `secs` as a JSON string of the local time in RFC 3339
/// (`"2020-09-13T12:26:40+02:00"`), or `null` when it has no local time.
pub fn json_local(secs: i64, out: &mut Vec<u8>) {
    match local(secs) {
        Some(tm) => {
            out.push(b'"');
            out.extend_from_slice(&strftime(c"%Y-%m-%dT%H:%M:%S", &tm));
            iso_offset(tm.tm_gmtoff, out);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod strftime_tests {
    use super::*;

    fn libc_strftime(format: &CStr, tm: &Tm) -> Vec<u8> {
        let mut buf = [0u8; 256];
        let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), buf.len(), format.as_ptr(), tm) };
        buf[..n].to_vec()
    }

    /// Byte for byte what the C library's strftime gives, in range and
    /// out of it. Only musl's (`cargo test --target
    /// x86_64-unknown-linux-musl`) is the reference for out-of-range fields:
    /// glibc words those its own way.
    #[test]
    fn strftime_is_libc_s() {
        let musl = cfg!(target_env = "musl");
        let formats: &[&CStr] = &[
            c"%a %b %e %H:%M:%S %z %Y",
            c"%Y-%m-%dT%H:%M:%S",
            c"%Y-%m-%d %H:%M",
            c"%b %e %H:%M",
            c"%b %e %H:%M:%S",
            c"%a",
            c"%b",
            c"%d %y %% x",
        ];
        let mut checked = 0;
        for year in [-3900, -1905, -1900, 0, 69, 124, 8099, 8100, 121556] {
            for (mon, wday) in [(-1, -1), (0, 0), (5, 3), (11, 6), (12, 7)] {
                for (mday, hour, min, sec) in [
                    (1, 0, 0, 0),
                    (9, 7, 5, 3),
                    (31, 23, 59, 60),
                    (-3, -1, -2, -4),
                ] {
                    for (gmtoff, isdst) in [
                        (0, 0),
                        (3600, 1),
                        (-1800, 0),
                        (19800, 0),
                        (-37800, 1),
                        (0, -1),
                    ] {
                        let mut tm: Tm = unsafe { std::mem::zeroed() };
                        (tm.tm_year, tm.tm_mon, tm.tm_wday, tm.tm_mday) = (year, mon, wday, mday);
                        (tm.tm_hour, tm.tm_min, tm.tm_sec) = (hour, min, sec);
                        (tm.tm_gmtoff, tm.tm_isdst) = (gmtoff, isdst);
                        let odd = !(0..=11).contains(&mon)
                            || mday < 0
                            || year < 0
                            || year > 8099
                            || isdst < 0;
                        if odd && !musl {
                            continue;
                        }
                        for format in formats {
                            let want = libc_strftime(format, &tm);
                            assert_eq!(
                                String::from_utf8_lossy(&strftime(format, &tm)),
                                String::from_utf8_lossy(&want),
                                "{format:?} year={year} mon={mon} wday={wday} mday={mday} {hour}:{min}:{sec} off={gmtoff} dst={isdst}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 100);
    }
}
