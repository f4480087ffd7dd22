//! Local time for many timestamps in a row, fast: `last` formats two
//! times per line over millions of lines, and libc's `localtime_r` (a
//! lock and a zone lookup each call) dominated. The zone offset is asked
//! of libc once per day of time and reused, so `TZ` and DST behave
//! exactly as libc has them; a day where the offset changes falls back
//! to libc for every call.

use crate::record::text::civil_from_days;
use crate::sys::time;

/// The broken-down fields `last` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Local {
    pub year: i64,
    /// 0..=11
    pub mon: u32,
    pub mday: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// 0 = Sunday
    pub wday: u32,
    /// Seconds east of UTC.
    pub gmtoff: i64,
}

/// A direct-mapped cache of (day, offset). Every day holds its offset
/// when libc gives the same one at its first second, its noon and its
/// last second (no zone changes offset twice within a day and back);
/// other days fall back to libc for every call.
pub struct Clock {
    slots: [(i64, Option<i64>); 16],
    /// The last local days turned into dates: (day, year, mon, mday).
    dates: [(i64, i64, u32, u32); 2],
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::new()
    }
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            slots: [(i64::MIN, None); 16],
            dates: [(i64::MIN, 0, 0, 0); 2],
        }
    }

    /// `secs` as local time; None where libc cannot represent it.
    #[inline]
    pub fn local(&mut self, secs: i64) -> Option<Local> {
        let day = secs.div_euclid(86400);
        let slot = &mut self.slots[(day & 15) as usize];
        if slot.0 != day {
            *slot = (day, steady_offset(day));
        }
        let Some(gmtoff) = slot.1 else {
            return from_libc(secs);
        };
        let Some(t) = secs.checked_add(gmtoff) else {
            return from_libc(secs);
        };
        let days = t.div_euclid(86400);
        let rem = t.rem_euclid(86400);
        let (year, mon, mday) = match self.dates.iter().find(|d| d.0 == days) {
            Some(&(_, y, m, d)) => (y, m, d),
            None => {
                let (y, m, d) = civil(days);
                self.dates[1] = self.dates[0];
                self.dates[0] = (days, y, m, d);
                (y, m, d)
            }
        };
        Some(Local {
            year,
            mon,
            mday,
            hour: (rem / 3600) as u32,
            min: (rem % 3600 / 60) as u32,
            sec: (rem % 60) as u32,
            wday: (days + 4).rem_euclid(7) as u32,
            gmtoff,
        })
    }
}

/// The offset in force over the whole UTC day, if it is one.
fn steady_offset(day: i64) -> Option<i64> {
    let start = day.checked_mul(86400)?;
    let a = time::local(start)?.tm_gmtoff;
    let b = time::local(start.checked_add(43200)?)?.tm_gmtoff;
    let c = time::local(start.checked_add(86399)?)?.tm_gmtoff;
    (a == b && b == c).then_some(a as i64)
}

fn from_libc(secs: i64) -> Option<Local> {
    let tm = time::local(secs)?;
    Some(Local {
        year: tm.tm_year as i64 + 1900,
        mon: tm.tm_mon as u32,
        mday: tm.tm_mday as u32,
        hour: tm.tm_hour as u32,
        min: tm.tm_min as u32,
        sec: tm.tm_sec as u32,
        wday: tm.tm_wday as u32,
        gmtoff: tm.tm_gmtoff as i64,
    })
}

/// (year, month 0..=11, day) of a day count since 1970-01-01.
fn civil(days: i64) -> (i64, u32, u32) {
    let (year, month, day) = civil_from_days(days);
    (year, month as u32 - 1, day as u32)
}

/// Unit tests that change `TZ` hold this, so they do not race.
#[cfg(test)]
pub static TEST_TZ_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_libc_across_dst_changes() {
        let _guard = TEST_TZ_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        for zone in [
            "UTC",
            "Europe/Berlin",
            "America/St_Johns",
            "Australia/Lord_Howe",
        ] {
            std::env::set_var("TZ", zone);
            time::init();
            let mut clock = Clock::new();
            // 1969 to 2038 in irregular steps, through many transitions.
            let mut t: i64 = -40_000_000;
            while t < 2_147_000_000 {
                assert_eq!(clock.local(t), from_libc(t), "{zone} {t}");
                t += 7_777 + t.rem_euclid(3_989);
            }
        }
        // Times libc cannot represent give None, never a panic.
        let mut clock = Clock::new();
        for t in [i64::MAX, i64::MIN, i64::MAX - 3600, 1 << 60, -(1 << 60)] {
            assert_eq!(clock.local(t), from_libc(t), "{t}");
        }
        std::env::set_var("TZ", "UTC");
        time::init();
    }
}
