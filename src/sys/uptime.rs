//! The uptime line that `uptime` prints and `w` prints as its header, and
//! the /proc files it comes from. One implementation, so the two applets
//! can never disagree.
//!
//! Formats follow procps-ng 4.0.2 (`library/uptime.c`), with the later
//! upstream fixes listed in docs/COMPAT.md (`## uptime`): "0 users" instead
//! of "0 user", and `>=` instead of `>` at the exact unit edges of the
//! pretty form (60 s is "1 minute", not an empty "up ").

use std::io;
use std::path::{Path, PathBuf};

use crate::sys::strtod::scan_double;
use crate::sys::time;

/// Where /proc is: `$UTMPBOX_PROC` when set (a test hook, so tests can
/// feed chosen uptime and load values), else `/proc`.
pub fn proc_root() -> PathBuf {
    match std::env::var_os("UTMPBOX_PROC") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("/proc"),
    }
}

/// Why /proc/uptime gave no uptime.
pub enum UptimeError {
    /// The file could not be read.
    Io(io::Error),
    /// It did not start with two numbers.
    Malformed,
}

/// The first field of `PROC/uptime` (seconds since boot). Like procps, two
/// numbers must be there for the file to count.
pub fn read_proc_uptime(proc_root: &Path) -> Result<f64, UptimeError> {
    let text = crate::sys::infile::read_any(&proc_root.join("uptime")).map_err(UptimeError::Io)?;
    let mut rest = &text[..];
    let up = scan_double(&mut rest).ok_or(UptimeError::Malformed)?;
    scan_double(&mut rest).ok_or(UptimeError::Malformed)?;
    Ok(up)
}

/// The three load averages of `PROC/loadavg`; what cannot be read stays 0,
/// as procps leaves it.
pub fn read_proc_loadavg(proc_root: &Path) -> [f64; 3] {
    let mut loads = [0.0; 3];
    if let Ok(text) = crate::sys::infile::read_any(&proc_root.join("loadavg")) {
        let mut rest = &text[..];
        for load in loads.iter_mut() {
            match scan_double(&mut rest) {
                Some(value) => *load = value,
                None => break,
            }
        }
    }
    loads
}

/// C's `(int) double` as x86-64 does it: truncation, and INT_MIN for
/// anything out of range or NaN (procps relies on this for absurd uptimes).
fn c_int(value: f64) -> i32 {
    if value.is_nan() || value >= 2147483648.0 || value <= -2147483649.0 {
        i32::MIN
    } else {
        value as i32
    }
}

/// Now in whole seconds, from the clock glibc's `time()` reads
/// (CLOCK_REALTIME_COARSE), so the HH:MM:SS of the line ticks over exactly
/// when procps's does.
pub fn now_secs() -> i64 {
    use nix::time::{clock_gettime, ClockId};
    match clock_gettime(ClockId::CLOCK_REALTIME_COARSE) {
        Ok(ts) => ts.tv_sec(),
        Err(_) => time::now_us().div_euclid(1_000_000),
    }
}

/// ` HH:MM:SS up D days, HH:MM,  N users,  load average: a, b, c` (no
/// newline), for the local time `now` (seconds since the epoch).
pub fn uptime_line(now: i64, uptime_secs: f64, users: usize, loads: [f64; 3]) -> Vec<u8> {
    let mut out = Vec::with_capacity(80);
    let (hour, min, sec) = match time::local(now) {
        Some(tm) => (tm.tm_hour, tm.tm_min, tm.tm_sec),
        None => (0, 0, 0),
    };
    let whole = c_int(uptime_secs);
    let days = whole / 86400;
    let hours = whole / 3600 % 24;
    let minutes = whole / 60 % 60;
    let mut text = format!(" {hour:02}:{min:02}:{sec:02} up ");
    if days != 0 {
        text.push_str(&format!(
            "{days} {}, ",
            if days > 1 { "days" } else { "day" }
        ));
    }
    if hours != 0 {
        text.push_str(&format!("{hours:2}:{minutes:02}, "));
    } else {
        text.push_str(&format!("{minutes} min, "));
    }
    // procps 4.0.5 fixed "0 user" (issue #303); see docs/COMPAT.md.
    text.push_str(&format!(
        "{users:2} {},  load average: ",
        if users != 1 { "users" } else { "user" },
    ));
    out.extend_from_slice(text.as_bytes());
    for (i, load) in loads.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        push_fixed2(*load, &mut out);
    }
    out
}

/// printf's `%.2f`, from libc itself: the digits and the `inf`/`nan`
/// spellings procps prints, without a float formatter of Rust's own.
fn push_fixed2(value: f64, out: &mut Vec<u8>) {
    // The longest `%.2f` is -DBL_MAX: 309 digits, a sign, a point and 2.
    let mut buf = [0u8; 320];
    // nix has no printf: libc's, as the doc comment says.
    // SAFETY: the format is NUL-terminated and takes one double; snprintf
    // writes at most `buf.len()` bytes.
    let n = unsafe {
        libc::snprintf(
            buf.as_mut_ptr().cast(),
            buf.len(),
            b"%.2f\0".as_ptr().cast(),
            value,
        )
    };
    if let Ok(n) = usize::try_from(n) {
        out.extend_from_slice(&buf[..n.min(buf.len() - 1)]);
    }
}

const DECADE: f64 = 60.0 * 60.0 * 24.0 * 365.0 * 10.0;
const YEAR: f64 = 60.0 * 60.0 * 24.0 * 365.0;
const WEEK: f64 = 60.0 * 60.0 * 24.0 * 7.0;
const DAY: f64 = 60.0 * 60.0 * 24.0;

/// `up 1 week, 2 days, 3 hours, 4 minutes` (uptime -p; no newline).
/// 365-day years and 10-year decades, as procps.
pub fn pretty(uptime_secs: f64) -> Vec<u8> {
    let mut rest = uptime_secs;
    let mut take = |unit: f64| -> i32 {
        // procps 4.0.2 compares with `>`, which loses whole units at the
        // exact edges (60 s printed "up "); upstream fixed it, and so do we.
        if rest >= unit {
            let n = c_int(rest) / unit as i32;
            rest -= f64::from(n) * unit;
            n
        } else {
            0
        }
    };
    let decades = take(DECADE);
    let years = take(YEAR);
    let weeks = take(WEEK);
    let days = take(DAY);
    let hours = take(3600.0);
    let minutes = take(60.0);
    let mut text = String::from("up ");
    let mut first = true;
    let mut part = |n: i32, one: &str, many: &str, plural: bool| {
        if !first {
            text.push_str(", ");
        }
        first = false;
        text.push_str(&format!("{n} {}", if plural { many } else { one }));
    };
    if decades != 0 {
        part(decades, "decade", "decades", decades > 1);
    }
    if years != 0 {
        part(years, "year", "years", years > 1);
    }
    if weeks != 0 {
        part(weeks, "week", "weeks", weeks > 1);
    }
    if days != 0 {
        part(days, "day", "days", days > 1);
    }
    if hours != 0 {
        part(hours, "hour", "hours", hours > 1);
    }
    if minutes != 0 || rest < 60.0 {
        part(minutes, "minute", "minutes", minutes != 1);
    }
    text.into_bytes()
}

/// `YYYY-MM-DD HH:MM:SS` of the boot (uptime -s; no newline): now minus
/// the uptime, rounded to the second as procps 4.0.2 rounds it.
pub fn since(now_us: i64, uptime_secs: f64) -> Option<Vec<u8>> {
    let now = now_us as f64 / 1e6;
    let boot = (now - uptime_secs + 0.5) as i64;
    let tm = time::local(boot)?;
    Some(
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            i64::from(tm.tm_year) + 1900,
            tm.tm_mon + 1,
            tm.tm_mday,
            tm.tm_hour,
            tm.tm_min,
            tm.tm_sec
        )
        .into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty_s(secs: f64) -> String {
        String::from_utf8(pretty(secs)).unwrap()
    }

    #[test]
    fn pretty_edges_count_whole_units() {
        assert_eq!(pretty_s(5.5), "up 0 minutes");
        assert_eq!(pretty_s(60.0), "up 1 minute");
        assert_eq!(pretty_s(60.5), "up 1 minute");
        assert_eq!(pretty_s(3600.0), "up 1 hour, 0 minutes");
        assert_eq!(pretty_s(3660.0), "up 1 hour, 1 minute");
        assert_eq!(pretty_s(86400.0), "up 1 day, 0 minutes");
        assert_eq!(pretty_s(604800.0), "up 1 week, 0 minutes");
        assert_eq!(pretty_s(31536000.0), "up 1 year, 0 minutes");
        assert_eq!(pretty_s(315360000.0), "up 1 decade, 0 minutes");
        assert_eq!(
            pretty_s(347155200.0),
            "up 1 decade, 1 year, 3 days, 0 minutes"
        );
        assert_eq!(pretty_s(90061.0), "up 1 day, 1 hour, 1 minute");
    }

    #[test]
    fn int_cast_matches_x86() {
        assert_eq!(c_int(2147483647.0), i32::MAX);
        assert_eq!(c_int(2147483648.5), i32::MIN);
        assert_eq!(c_int(-5.9), -5);
        assert_eq!(c_int(f64::NAN), i32::MIN);
    }
}
