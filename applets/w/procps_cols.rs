//! The column formats procps-ng 4.0.2's `w` prints (`print_host`,
//! `print_display_or_interface`, `print_logintime`, `print_time_ival7`),
//! byte for byte. Only `w` uses them; they live here to keep the applet
//! file readable.

use crate::record;
use crate::record::Record;
use crate::sys::time;

/// glibc's UT_HOSTSIZE: the host field as C sees it.
pub const UT_HOSTSIZE: usize = 256;

/// C `isprint` in the C locale (and for the single bytes of C.UTF-8).
fn printable(b: u8) -> bool {
    (0x20..0x7f).contains(&b)
}

/// The host field as C sees `char ut_host[256]`: NUL padded.
fn host_field(record: &Record) -> [u8; UT_HOSTSIZE] {
    let mut host = [0u8; UT_HOSTSIZE];
    let n = record.host.len().min(UT_HOSTSIZE);
    host[..n].copy_from_slice(&record.host[..n]);
    host
}

/// procps `print_host`: the host up to its first NUL; a space or an
/// unprintable byte prints as `-` and ends it; an empty host is `-`.
pub fn print_host(host: &[u8], fromlen: usize, row: &mut Vec<u8>) {
    let mut width = 0;
    for &b in host.iter().take(fromlen) {
        if b == 0 {
            break;
        }
        width += 1;
        if printable(b) && b != b' ' {
            row.push(b);
        } else {
            row.push(b'-');
            break;
        }
    }
    if width == 0 {
        row.push(b'-');
        width = 1;
    }
    row.resize(row.len() + fromlen.saturating_sub(width), b' ');
}

/// FROM: the host, or with `-i` the stored address (v4, v6, or v4-mapped
/// v6 shown as v4) followed by the host's `:display` or `%interface`.
pub fn from_column(record: &Record, ip_addresses: bool, fromlen: usize, row: &mut Vec<u8>) {
    let host = host_field(record);
    if !ip_addresses {
        print_host(&host, fromlen, row);
        return;
    }
    let mut addr = record.addr;
    if addr[..10].iter().all(|&b| b == 0) && addr[10..12] == [0xff, 0xff] {
        addr.copy_within(12..16, 0);
        addr[4..].fill(0);
    }
    let mut text = Vec::new();
    if addr[4..].iter().any(|&b| b != 0) {
        record::inet::format_v6(&addr, &mut text);
        text.truncate(fromlen);
    } else if addr[..4].iter().any(|&b| b != 0) {
        let mut v4 = Vec::new();
        record::inet::format_v4(&[addr[0], addr[1], addr[2], addr[3]], &mut v4);
        // inet_ntop into a buffer of fromlen + 1 bytes fails when the
        // text does not fit, and procps then shows the host.
        if v4.len() <= fromlen {
            text = v4;
        }
    }
    if text.is_empty() {
        print_host(&host, fromlen, row);
    } else {
        row.extend_from_slice(&text);
        display_or_interface(&host, fromlen - text.len(), row);
    }
}

/// procps `print_display_or_interface`: after an address, the `:display`
/// of an X host (one colon) or the `%interface` of an IPv6 host, cut to
/// what is left of the column, then padding.
fn display_or_interface(host: &[u8; UT_HOSTSIZE], mut restlen: usize, row: &mut Vec<u8>) {
    if restlen == 0 {
        return;
    }
    let scan = |from: usize, stop: u8| {
        host[from..]
            .iter()
            .position(|&b| b == stop || !printable(b))
            .map_or(host.len(), |i| from + i)
    };
    let mut suffix_at = None;
    let colon = scan(0, b':');
    if colon < host.len() && host[colon] == b':' {
        let next = scan(colon + 1, b':');
        if next >= host.len() || host[next] != b':' {
            suffix_at = Some(colon);
        } else {
            let percent = scan(next, b'%');
            if percent < host.len() && host[percent] == b'%' {
                suffix_at = Some(percent);
            }
        }
    }
    if let Some(start) = suffix_at {
        let mut len = (host.len() - start).min(restlen);
        let mut at = start;
        while len > 0 && printable(host[at]) && host[at] != b' ' {
            row.push(host[at]);
            len -= 1;
            restlen -= 1;
            at += 1;
        }
        if len > 0 && host[at] != 0 {
            row.push(b'-');
            restlen -= 1;
        }
    }
    row.resize(row.len() + restlen, b' ');
}

/// procps `print_logintime`: ` HH:MM  ` within 12 hours or on the same
/// day of the year, ` DDMonYY` after 6 days, else ` WkdHH  `.
pub fn login_time(login: i64, now: i64, row: &mut Vec<u8>) {
    let (Some(cur), Some(tm)) = (time::local(now), time::local(login)) else {
        row.extend_from_slice(b" ?      ");
        return;
    };
    let ago = now.wrapping_sub(login);
    if ago > 12 * 60 * 60 && tm.tm_yday != cur.tm_yday {
        if ago > 6 * 24 * 60 * 60 {
            let month = strftime(b"%b\0", &tm);
            row.extend_from_slice(format!(" {:02}", tm.tm_mday).as_bytes());
            pad_left(&month, 3, row);
            row.extend_from_slice(format!("{:02}", tm.tm_year % 100).as_bytes());
        } else {
            let day = strftime(b"%a\0", &tm);
            row.push(b' ');
            pad_left(&day, 3, row);
            row.extend_from_slice(format!("{:02}  ", tm.tm_hour).as_bytes());
        }
    } else {
        row.extend_from_slice(format!(" {:02}:{:02}  ", tm.tm_hour, tm.tm_min).as_bytes());
    }
}

/// strftime of a NUL-terminated format (byte literals, not c"" ones: the
/// crate builds with Rust 1.75).
fn strftime(format: &[u8], tm: &time::Tm) -> Vec<u8> {
    let format = std::ffi::CStr::from_bytes_with_nul(format).unwrap_or_default();
    time::strftime(format, tm)
}

/// printf `%3s`.
fn pad_left(text: &[u8], width: usize, row: &mut Vec<u8>) {
    row.resize(row.len() + width.saturating_sub(text.len()), b' ');
    row.extend_from_slice(text);
}

/// procps `print_time_ival7`: a 7-character interval.
pub fn interval(secs: i64, centis: u32, old_style: bool, row: &mut Vec<u8>) {
    if secs < 0 {
        row.extend_from_slice(b"   ?   ");
        return;
    }
    let t = secs as u64;
    let text = if t >= 48 * 60 * 60 {
        format!(" {:2}days", t / (24 * 60 * 60))
    } else if old_style {
        if t >= 60 * 60 {
            format!(" {:2}:{:02} ", t / 3600, (t / 60) % 60)
        } else if t > 60 {
            format!(" {:2}:{:02}m", t / 60, t % 60)
        } else {
            "       ".to_string()
        }
    } else if t >= 60 * 60 {
        format!(" {:2}:{:02}m", t / 3600, (t / 60) % 60)
    } else if t > 60 {
        format!(" {:2}:{:02} ", t / 60, t % 60)
    } else {
        format!(" {:2}.{:02}s", t, centis)
    };
    row.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ival(secs: i64, centis: u32, old: bool) -> String {
        let mut row = Vec::new();
        interval(secs, centis, old, &mut row);
        String::from_utf8(row).unwrap()
    }

    #[test]
    fn intervals_like_print_time_ival7() {
        assert_eq!(ival(11, 5, false), " 11.05s");
        assert_eq!(ival(60, 0, false), " 60.00s");
        assert_eq!(ival(665, 0, false), " 11:05 ");
        assert_eq!(ival(8580, 0, false), "  2:23m");
        assert_eq!(ival(5 * 86400, 0, false), "  5days");
        assert_eq!(ival(-1, 0, false), "   ?   ");
        assert_eq!(ival(30, 0, true), "       ");
        assert_eq!(ival(665, 0, true), " 11:05m");
        assert_eq!(ival(8580, 0, true), "  2:23 ");
    }

    #[test]
    fn hosts_like_print_host() {
        let mut row = Vec::new();
        print_host(b"bad host\0", 16, &mut row);
        assert_eq!(row, b"bad-            ");
        row.clear();
        print_host(b"\0", 8, &mut row);
        assert_eq!(row, b"-       ");
        row.clear();
        print_host(b"very.long.hostname.example.com", 16, &mut row);
        assert_eq!(row, b"very.long.hostna");
    }

    fn from(host: &[u8], addr: [u8; 16], fromlen: usize) -> String {
        let record = Record {
            host: host.to_vec(),
            addr,
            ..Record::default()
        };
        let mut row = Vec::new();
        from_column(&record, true, fromlen, &mut row);
        String::from_utf8(row).unwrap()
    }

    #[test]
    fn addresses_with_display_or_interface() {
        let mut v4 = [0u8; 16];
        v4[..4].copy_from_slice(&[10, 0, 0, 5]);
        assert_eq!(from(b"x.org:1.0", v4, 16), "10.0.0.5:1.0    ");
        let mut link = [0u8; 16];
        link[..2].copy_from_slice(&[0xfe, 0x80]);
        link[15] = 1;
        assert_eq!(from(b"fe80::1%eth0", link, 16), "fe80::1%eth0    ");
        // An address that does not fit: the host instead.
        let all = [255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(from(b"h", all, 8), "h       ");
        assert_eq!(from(b"h", [0; 16], 8), "h       ");
    }
}
