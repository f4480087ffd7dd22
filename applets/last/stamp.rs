//! The short time format's stamps, a day at a time.

use super::{format_local, Cursor, TimeFormat};
use crate::applets::last::bufout;
use crate::applets::last::clock::Clock;

/// The short format's stamps ("Www Mmm dd HH:MM", and "HH:MM" of it)
/// for the last few local days: a history's neighbouring records mostly
/// fall on the same day, so its date is formatted once and each stamp is
/// only its hour and minute. Four days, newest used first: logins and
/// the logouts that end them move back through time apart, and a long
/// session's ends fall on different days (with one day, a tenth of the
/// stamps were misses, each three calls to libc). A day on which the
/// zone offset changes is never cached (each stamp then asks the clock),
/// as in `Clock`.
pub struct DayStamp {
    days: [Day; 4],
}

#[derive(Clone, Copy)]
struct Day {
    /// The UTC seconds of the cached local day: [lo, hi).
    lo: i64,
    hi: i64,
    /// "Www Mmm dd " of that day.
    date: [u8; 11],
}

impl Default for DayStamp {
    fn default() -> DayStamp {
        DayStamp {
            days: [Day {
                lo: 1,
                hi: 0,
                date: [b' '; 11],
            }; 4],
        }
    }
}

impl DayStamp {
    /// The 16-byte short login stamp of `secs`, None where the clock
    /// cannot represent it.
    #[inline(always)]
    pub fn stamp(&mut self, clock: &mut Clock, secs: i64) -> Option<[u8; 16]> {
        let day = &self.days[0];
        if !(day.lo <= secs && secs < day.hi) {
            return self.other_day(clock, secs);
        }
        Some(day.stamp(secs))
    }

    #[cold]
    #[inline(never)]
    fn other_day(&mut self, clock: &mut Clock, secs: i64) -> Option<[u8; 16]> {
        if let Some(i) = (1..4).find(|&i| self.days[i].lo <= secs && secs < self.days[i].hi) {
            self.days[..=i].rotate_right(1);
            return Some(self.days[0].stamp(secs));
        }
        self.miss(clock, secs)
    }

    fn miss(&mut self, clock: &mut Clock, secs: i64) -> Option<[u8; 16]> {
        let tm = clock.local(secs)?;
        let mut full = [0u8; 40];
        let mut text = Cursor::new(&mut full);
        format_local(&tm, TimeFormat::Full, &mut text);
        let mut s = [b' '; 16];
        let n = text.n.min(16);
        s[..n].copy_from_slice(&full[..n]);
        // The day's first and last second in UTC, if the offset holds
        // over all of it (it cannot change twice in a day and back).
        let into_day = (tm.hour * 3600 + tm.min * 60 + tm.sec) as i64;
        let (lo, hi) = match secs.checked_sub(into_day) {
            Some(lo) if into_day < 86400 => (lo, lo.saturating_add(86400)),
            _ => return Some(s),
        };
        let steady = [lo, hi - 1]
            .iter()
            .all(|&t| clock.local(t).map(|l| l.gmtoff) == Some(tm.gmtoff));
        if steady && n == 16 {
            self.days.rotate_right(1);
            let mut date = [0u8; 11];
            date.copy_from_slice(&s[..11]);
            self.days[0] = Day { lo, hi, date };
        }
        Some(s)
    }
}

impl Day {
    #[inline(always)]
    fn stamp(&self, secs: i64) -> [u8; 16] {
        let rem = (secs - self.lo) as u32;
        // rem < 86400: no `div` (bufout::div says why).
        let h = bufout::div::<3600>(rem);
        let m = bufout::div::<60>(rem - 3600 * h);
        let [h1, h2] = bufout::two_digits(h);
        let [m1, m2] = bufout::two_digits(m);
        // Assembled as one value, not byte stores over a copy in memory:
        // the stamp is read back a word at a time, and a load over
        // narrower fresh stores waits for them (store forwarding fails).
        let d = &self.date;
        u128::from_le_bytes([
            d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], h1, h2, b':', m1, m2,
        ])
        .to_le_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::super::format_time;
    use super::*;

    #[test]
    fn day_stamps_agree_with_the_full_format() {
        let _guard = crate::applets::last::clock::TEST_TZ_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for zone in [
            "UTC",
            "Europe/Berlin",
            "America/St_Johns",
            "Australia/Lord_Howe",
        ] {
            std::env::set_var("TZ", zone);
            crate::sys::time::init();
            let (mut clock, mut day) = (Clock::new(), DayStamp::default());
            let mut t: i64 = 1_200_000_000;
            let mut step = 0i64;
            while t < 1_300_000_000 {
                // Forwards, and now and then back a few days, so stamps
                // come from every cached day and from misses.
                step += 1;
                let at = if step % 5 == 0 {
                    t - (step % 7) * 86_400 - step % 3_600
                } else {
                    t
                };
                let mut full = [0u8; 40];
                let mut text = Cursor::new(&mut full);
                format_time(&mut clock, TimeFormat::Full, at, &mut text);
                let want = text.bytes()[..16].to_vec();
                assert_eq!(
                    day.stamp(&mut clock, at).map(|s| s.to_vec()),
                    Some(want),
                    "{zone} {at}"
                );
                t += 1_777 + t.rem_euclid(3_989);
            }
        }
        std::env::set_var("TZ", "UTC");
        crate::sys::time::init();
    }
}
