//! Calendar time through libc (`localtime_r`, `strftime`, `mktime`), as the
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

/// `strftime` into a byte vector.
pub fn strftime(format: &CStr, tm: &Tm) -> Vec<u8> {
    let mut buf = [0u8; 256];
    // SAFETY: buf is large enough for every format utmpbox uses; strftime
    // writes at most buf.len() bytes and returns how many.
    let n = unsafe { libc::strftime(buf.as_mut_ptr().cast(), buf.len(), format.as_ptr(), tm) };
    buf[..n].to_vec()
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
