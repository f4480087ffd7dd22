//! The common entry laid out at fixed offsets: the short time format
//! without `-a` or `-w`, every field printable. Each column is then cut
//! to its width (user 8, line 12, host 16), so every column starts at a
//! known place and the line is written straight into the output buffer,
//! with no per-field cursors: over a big wtmp this is most lines, and
//! this path takes a fifth off `last -f`'s instructions against the
//! general `text_entry`. The bytes are those of `text_entry` (the tests
//! against util-linux cover both). Also `plain`, which both use.

use super::{bufout, Ending, Report, LINE_MAX};

/// Spaces for the padded columns.
const BLANK: [u8; 64] = [b' '; 64];

impl Report<'_> {
    /// Write the entry if it is the common case; false (nothing written)
    /// otherwise, for `text_entry`.
    #[inline(always)]
    pub(super) fn short_entry(
        &mut self,
        user: &[u8],
        utline: &[u8],
        domain: &[u8],
        login: i64,
        logout: i64,
        what: Ending,
    ) -> bool {
        let showhost = self.o.showhost;
        let user = &user[..user.len().min(8)];
        let utline = &utline[..utline.len().min(12)];
        let domain: &[u8] = if showhost {
            &domain[..domain.len().min(16)]
        } else {
            b""
        };
        let Some(login_stamp) = self.login_day.stamp(&mut self.clock, login) else {
            return false;
        };
        // The logout column (7 wide) and the length, as text_entry sets
        // them.
        let length_buf;
        let (logout_col, length): ([u8; 7], &[u8]) = match what {
            Ending::Now => (*b"  still", b"logged in"),
            Ending::Phantom => (*b"   gone", b"- no logout"),
            Ending::TimeChange => (*b"       ", b""),
            Ending::Normal | Ending::Reboot | Ending::Crash | Ending::Down => {
                let (mut col, length) = if logout == self.now {
                    (*b"  still", &b"running"[..])
                } else {
                    let Some(stamp) = self.logout_day.stamp(&mut self.clock, logout) else {
                        return false;
                    };
                    let secs = logout.wrapping_sub(login);
                    // Under a day: " (HH:MM)"; anything else in text_entry.
                    if !(0..86400).contains(&secs) {
                        return false;
                    }
                    // No `div` (bufout::div says why).
                    let secs = secs as u32;
                    let hours = bufout::div::<3600>(secs);
                    let mins = bufout::div::<60>(secs - 3600 * hours);
                    let [h1, h2] = bufout::two_digits(hours);
                    let [m1, m2] = bufout::two_digits(mins);
                    length_buf = [b' ', b'(', h1, h2, b':', m1, m2, b')'];
                    let col = [b'-', b' ', stamp[11], stamp[12], b':', stamp[14], stamp[15]];
                    (col, &length_buf[..])
                };
                match what {
                    Ending::Crash => col = *b"- crash",
                    Ending::Down => col = *b"- down ",
                    _ => {}
                }
                (col, length)
            }
        };
        if !self.out.reserve(LINE_MAX) {
            return false;
        }
        let b = self.out.tail();
        bufout::copy(b, &BLANK);
        bufout::copy(b, user);
        bufout::copy_at(b, 9, utline);
        let at = if showhost {
            bufout::copy_at(b, 22, domain);
            39
        } else {
            22
        };
        // The three columns with their padding in one test (spaces are
        // printable); a line to escape is left to text_entry, nothing
        // kept of what was written here.
        if !plain(&b[..at]) {
            return false;
        }
        bufout::copy_at(b, at, &login_stamp);
        bufout::copy_at(b, at + 17, &logout_col);
        bufout::copy_at(b, at + 25, length);
        let mut p = at + 25 + length.len();
        // util-linux trims trailing blanks (every byte here is printable
        // or a space), putting the newline over the first byte when
        // nothing is kept.
        while p > 0 && b[p - 1] == b' ' {
            p -= 1;
        }
        if p == 1 {
            p = 0;
        }
        b[p] = b'\n';
        let n = p + 1;
        self.out.advance(n);
        true
    }
}

/// Printable ASCII only: then the careful escaping changes nothing.
#[inline(always)]
pub(super) fn plain(field: &[u8]) -> bool {
    // Eight bytes at a time; the rest as a word too: the last eight
    // bytes (overlapping), or for a shorter field its bytes read as
    // bufout::copy reads them, with printable filler. A byte loop over
    // the rest cost `last` a twentieth of its time.
    let n = field.len();
    let mut bad = 0u64;
    if n >= 8 {
        let mut at = 0;
        while at + 8 <= n {
            bad |= unprintable(u64::from_le_bytes(bytes_at(field, at)));
            at += 8;
        }
        bad |= unprintable(u64::from_le_bytes(bytes_at(field, n - 8)));
    } else if n >= 4 {
        let lo = u32::from_le_bytes(bytes_at(field, 0)) as u64;
        let hi = u32::from_le_bytes(bytes_at(field, n - 4)) as u64;
        bad = unprintable(lo | hi << 32);
    } else if n > 0 {
        let x = field[0] as u64 | (field[n / 2] as u64) << 8 | (field[n - 1] as u64) << 16;
        bad = unprintable(x | 0x2020_2020_2000_0000);
    }
    bad & 0x8080_8080_8080_8080 == 0
}

/// N bytes of `field` at `at` (in bounds: callers check).
#[inline(always)]
fn bytes_at<const N: usize>(field: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    bufout::copy(&mut a, &field[at..at + N]);
    a
}

/// The high bit of each byte of `x` that is not printable ASCII: set in
/// x, or x < 0x20, or x >= 0x7f. A byte is printable when adding 0x60
/// makes it reach 0x80 (>= 0x20) and adding 1 does not (< 0x7f); no
/// carries cross bytes, as each sum stays below 0x100 once the high bit
/// is masked off.
#[inline(always)]
fn unprintable(x: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let low = x & !HI;
    (x | !(low + 0x60 * LO) | (low + LO)) & HI
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_agrees_with_a_byte_loop() {
        for len in 0..20 {
            for b in 0..=255u8 {
                for at in 0..len {
                    let mut field = vec![b'a'; len];
                    field[at] = b;
                    let want = field.iter().all(|&b| (0x20..0x7f).contains(&b));
                    assert_eq!(plain(&field), want, "{len} {b} {at}");
                }
            }
        }
    }
}
