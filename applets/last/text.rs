//! One entry as util-linux prints it (the printf widths of `list`, the
//! trailing-space trim, then `fputc_careful` escaping), or as a JSON
//! object; and the `-d`/`-i` address lookup.

use std::io::Write;

use super::{Ending, Report, TimeFormat};
use crate::applets::last::bufout;
use crate::applets::last::clock::{Clock, Local};
use crate::front::escape;
use crate::sys::inet::{self, Address};

#[path = "short.rs"]
mod short;
use short::plain;
#[path = "stamp.rs"]
mod stamp;
pub use stamp::DayStamp;

/// Writes into a byte slice: entries are built in place without touching
/// the allocator (millions of them in a big wtmp). Writes past the end
/// are dropped, never a panic; every caller stays well inside.
pub struct Cursor<'a> {
    b: &'a mut [u8],
    n: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(b: &'a mut [u8]) -> Cursor<'a> {
        Cursor { b, n: 0 }
    }

    #[inline(always)]
    pub fn bytes(&self) -> &[u8] {
        &self.b[..self.n]
    }

    #[inline(always)]
    pub fn clear(&mut self) {
        self.n = 0;
    }

    #[inline(always)]
    pub fn push(&mut self, byte: u8) {
        if self.n < self.b.len() {
            self.b[self.n] = byte;
            self.n += 1;
        }
    }

    #[inline(always)]
    pub fn put(&mut self, bytes: &[u8]) {
        let k = bytes.len().min(self.b.len() - self.n);
        bufout::copy(&mut self.b[self.n..], &bytes[..k]);
        self.n += k;
    }

    #[inline(always)]
    fn spaces(&mut self, count: usize) {
        let k = count.min(self.b.len() - self.n);
        for b in &mut self.b[self.n..self.n + k] {
            *b = b' ';
        }
        self.n += k;
    }

    /// printf `%-W.Ps`: at most `precision` bytes, left-aligned in `width`.
    #[inline(always)]
    fn pad(&mut self, field: &[u8], width: usize, precision: usize) {
        let field = &field[..field.len().min(precision)];
        self.put(field);
        if field.len() < width {
            self.spaces(width - field.len());
        }
    }

    #[inline(always)]
    fn two(&mut self, v: u32) {
        self.push(b'0' + (v / 10 % 10) as u8);
        self.push(b'0' + (v % 10) as u8);
    }

    /// `hh:mm:ss`.
    #[inline(always)]
    fn hms(&mut self, tm: &Local) {
        self.two(tm.hour);
        self.push(b':');
        self.two(tm.min);
        self.push(b':');
        self.two(tm.sec);
    }

    /// printf `%d`, or `%0Wd` with `width` (sign counted, as C does).
    #[inline(always)]
    fn int(&mut self, v: i64, width: usize) {
        if width == 2 && (0..100).contains(&v) {
            self.two(v as u32);
        } else {
            self.int_slow(v, width);
        }
    }

    fn int_slow(&mut self, v: i64, width: usize) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut u = v.unsigned_abs();
        loop {
            i -= 1;
            digits[i] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        let len = digits.len() - i + usize::from(v < 0);
        if v < 0 {
            self.push(b'-');
        }
        for _ in len..width {
            self.push(b'0');
        }
        self.put(&digits[i..]);
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Longer than any entry: user 32, line 12, host 256, times 25 and 27,
/// length, separators.
pub const LINE_MAX: usize = 1024;

/// One entry's columns, ready to lay out.
struct Fields<'f> {
    user: &'f [u8],
    utline: &'f [u8],
    domain: &'f [u8],
    login: &'f [u8],
    logout: &'f [u8],
    length: &'f [u8],
    in_len: usize,
    out_len: usize,
}

impl Fields<'_> {
    /// util-linux's printf formats, then trim_trailing_spaces.
    fn write(&self, o: &super::Options, line: &mut Cursor) {
        line.pad(self.user, 8, o.name_len);
        line.push(b' ');
        line.pad(self.utline, 12, 12);
        line.push(b' ');
        if o.showhost && !o.altlist {
            line.pad(self.domain, 16, o.domain_len);
            line.push(b' ');
        }
        line.pad(self.login, self.in_len, self.in_len);
        line.push(b' ');
        line.pad(self.logout, self.out_len, self.out_len);
        line.push(b' ');
        if o.showhost && o.altlist {
            line.pad(self.length, 12, 12);
            line.push(b' ');
            line.put(self.domain);
        } else {
            line.put(self.length);
        }
        // Including util-linux's quirk of putting the newline over the
        // first byte when nothing after it is kept.
        let mut p = line.n;
        while p > 0 {
            p -= 1;
            if !is_space(line.b[p]) {
                break;
            }
        }
        if p > 0 {
            p += 1;
        }
        line.n = p;
        line.push(b'\n');
    }
}

/// (login width, logout width) of each format.
fn widths(fmt: TimeFormat) -> (usize, usize) {
    match fmt {
        TimeFormat::NoTime => (0, 0),
        TimeFormat::Short => (16, 7),
        TimeFormat::Full => (24, 26),
        TimeFormat::Iso => (25, 27),
    }
}

const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// `ctime` without its newline (Full), `%02d:%02d` (Short), or ISO 8601
/// with the zone offset as util-linux writes it (Iso).
pub fn format_time(clock: &mut Clock, fmt: TimeFormat, secs: i64, out: &mut Cursor) {
    if fmt == TimeFormat::NoTime {
        return;
    }
    let Some(tm) = clock.local(secs) else { return };
    format_local(&tm, fmt, out);
}

fn format_local(tm: &Local, fmt: TimeFormat, out: &mut Cursor) {
    match fmt {
        TimeFormat::NoTime => {}
        TimeFormat::Short => {
            out.two(tm.hour);
            out.push(b':');
            out.two(tm.min);
        }
        TimeFormat::Full => {
            out.put(DAYS[tm.wday as usize % 7]);
            out.push(b' ');
            out.put(MONTHS[tm.mon as usize % 12]);
            out.push(b' ');
            if tm.mday < 10 {
                out.push(b' ');
                out.push(b'0' + tm.mday as u8);
            } else {
                out.two(tm.mday);
            }
            out.push(b' ');
            out.hms(tm);
            out.push(b' ');
            if (1000..10000).contains(&tm.year) {
                out.two((tm.year / 100) as u32);
                out.two((tm.year % 100) as u32);
            } else {
                out.int(tm.year, 0);
            }
        }
        TimeFormat::Iso => {
            // "%4ld": the year right-aligned in four columns.
            let mut year_buf = [0u8; 24];
            let mut year = Cursor::new(&mut year_buf);
            year.int(tm.year, 0);
            out.spaces(4usize.saturating_sub(year.n));
            out.put(year.bytes());
            out.push(b'-');
            out.two(tm.mon + 1);
            out.push(b'-');
            out.two(tm.mday);
            out.push(b'T');
            out.hms(tm);
            // "%+03d:%02d" of the offset's hours and |minutes|.
            let tmin = tm.gmtoff / 60;
            let hours = tmin / 60;
            out.push(if hours < 0 { b'-' } else { b'+' });
            out.int(hours.abs(), 2);
            out.push(b':');
            out.int((tmin % 60).abs(), 2);
        }
    }
}

/// Into `b` at `at`: `field` left-aligned in `width` (<= 16) columns;
/// where the next column starts. `b` has room for the longest line.
#[inline(always)]
fn column(b: &mut [u8], at: usize, field: &[u8], width: usize) -> usize {
    bufout::copy(&mut b[at..], &[b' '; 16]);
    bufout::copy(&mut b[at..], field);
    let end = at + field.len().max(width);
    b[end] = b' ';
    end + 1
}

impl Fields<'_> {
    /// `write` for the short time format without `-a`, straight into a
    /// buffer of at least LINE_MAX bytes; the line's length.
    #[inline(always)]
    fn write_short(&self, showhost: bool, b: &mut [u8]) -> usize {
        let mut at = column(b, 0, self.user, 8);
        at = column(b, at, self.utline, 12);
        if showhost {
            at = column(b, at, self.domain, 16);
        }
        at = column(b, at, &self.login[..self.login.len().min(16)], 16);
        at = column(b, at, &self.logout[..self.logout.len().min(7)], 7);
        bufout::copy(&mut b[at..], self.length);
        let mut p = at + self.length.len();
        // Trim as `write` does (the newline over the first byte when
        // nothing after it is kept).
        while p > 0 {
            p -= 1;
            if !is_space(b[p]) {
                break;
            }
        }
        if p > 0 {
            p += 1;
        }
        b[p] = b'\n';
        p + 1
    }
}

impl<'o> Report<'o> {
    pub(super) fn text_entry(
        &mut self,
        user: &[u8],
        utline: &[u8],
        domain: &[u8],
        login: i64,
        logout: i64,
        what: Ending,
    ) {
        let o = self.o;
        let fmt = o.time_format;
        if fmt == TimeFormat::Short
            && !o.altlist
            && o.name_len == 8
            && o.domain_len == 16
            && self.short_entry(user, utline, domain, login, logout, what)
        {
            return;
        }
        let (in_len, out_len) = widths(fmt);
        let mut login_buf = [0u8; 40];
        let mut logintime = Cursor::new(&mut login_buf);
        if fmt == TimeFormat::Short {
            if let Some(stamp) = self.login_day.stamp(&mut self.clock, login) {
                logintime.put(&stamp);
            }
        } else {
            format_time(&mut self.clock, fmt, login, &mut logintime);
        }

        let secs = logout.wrapping_sub(login);
        let mins = (secs / 60) % 60;
        let hours = (secs / 3600) % 24;
        let days = (secs / 86400) as i32 as i64;

        let mut logout_buf = [0u8; 40];
        let mut logouttime = Cursor::new(&mut logout_buf);
        let mut length_buf = [0u8; 40];
        let mut length = Cursor::new(&mut length_buf);
        if logout == self.now {
            if fmt > TimeFormat::Short {
                logouttime.put(b"  still running");
            } else {
                logouttime.put(b"  still");
                length.put(b"running");
            }
        } else {
            logouttime.put(b"- ");
            if fmt == TimeFormat::Short {
                if let Some(stamp) = self.logout_day.stamp(&mut self.clock, logout) {
                    logouttime.put(&stamp[11..]);
                }
            } else {
                format_time(&mut self.clock, fmt, logout, &mut logouttime);
            }
            if days != 0 {
                length.push(b'(');
                length.int(days, 0);
                length.push(b'+');
                length.int(hours.abs(), 2);
                length.push(b':');
                length.int(mins.abs(), 2);
                length.push(b')');
            } else if hours != 0 {
                length.put(b" (");
                length.int(hours, 2);
                length.push(b':');
                length.int(mins.abs(), 2);
                length.push(b')');
            } else if secs >= 0 {
                length.put(b" (");
                length.int(hours, 2);
                length.push(b':');
                length.int(mins, 2);
                length.push(b')');
            } else {
                length.put(b" (-00:");
                length.int(mins.abs(), 2);
                length.push(b')');
            }
        }
        match what {
            Ending::Crash => {
                logouttime.clear();
                logouttime.put(b"- crash");
            }
            Ending::Down => {
                logouttime.clear();
                logouttime.put(b"- down ");
            }
            Ending::Now => {
                logouttime.clear();
                length.clear();
                if fmt > TimeFormat::Short {
                    logouttime.put(b"  still logged in");
                } else {
                    logouttime.put(b"  still");
                    length.put(b"logged in");
                }
            }
            Ending::Phantom => {
                logouttime.clear();
                length.clear();
                if fmt > TimeFormat::Short {
                    logouttime.put(b"  gone - no logout");
                } else if fmt == TimeFormat::Short {
                    logouttime.put(b"   gone");
                    length.put(b"- no logout");
                } else {
                    length.put(b"no logout");
                }
            }
            Ending::TimeChange => {
                logouttime.clear();
                length.clear();
            }
            Ending::Normal | Ending::Reboot => {}
        }

        let user = &user[..user.len().min(o.name_len)];
        let utline = &utline[..utline.len().min(12)];
        let domain: &[u8] = if !o.showhost {
            b""
        } else if o.altlist {
            domain
        } else {
            &domain[..domain.len().min(o.domain_len)]
        };
        let fields = Fields {
            user,
            utline,
            domain,
            login: logintime.bytes(),
            logout: logouttime.bytes(),
            length: length.bytes(),
            in_len,
            out_len,
        };
        // The common case goes straight into the output buffer; a line
        // with bytes to escape is built aside first.
        let plain_line = plain(user) && plain(utline) && plain(domain);
        if plain_line && fmt == TimeFormat::Short && !o.altlist && self.out.reserve(LINE_MAX) {
            let n = fields.write_short(o.showhost, self.out.tail());
            self.out.advance(n);
        } else if plain_line && self.out.reserve(LINE_MAX) {
            let mut line = Cursor::new(self.out.tail());
            fields.write(o, &mut line);
            let n = line.n;
            self.out.advance(n);
        } else {
            let mut line = Cursor::new(&mut self.line[..]);
            fields.write(o, &mut line);
            let n = line.n;
            // The line's own newline is not data: it stays a newline.
            let body = &self.line[..n.saturating_sub(1)];
            let mut escaped = Vec::with_capacity(n + 16);
            escape::careful(body, &mut escaped);
            escaped.push(b'\n');
            self.out.write_all(&escaped);
        }
    }

    pub(super) fn json_entry(
        &mut self,
        user: &[u8],
        utline: &[u8],
        domain: &[u8],
        login: i64,
        logout: i64,
        what: Ending,
    ) {
        let still = logout == self.now;
        let (state, ended): (&str, bool) = match what {
            Ending::Crash => ("crash", true),
            Ending::Down => ("down", true),
            Ending::Now => ("still logged in", false),
            Ending::Phantom => ("gone - no logout", false),
            Ending::TimeChange => ("time change", false),
            Ending::Normal | Ending::Reboot if still => ("still running", false),
            // A shutdown with no boot after it: util-linux gives it
            // logout time 0.
            Ending::Normal | Ending::Reboot if logout == 0 => ("unknown", false),
            Ending::Normal | Ending::Reboot => ("ended", true),
        };
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(if self.json_first { b"\n  " } else { b",\n  " });
        self.json_first = false;
        out.extend_from_slice(b"{\"user\": ");
        escape::json_string(&mut out, user);
        out.extend_from_slice(b", \"tty\": ");
        escape::json_string(&mut out, utline);
        out.extend_from_slice(b", \"host\": ");
        escape::json_string(&mut out, domain);
        out.extend_from_slice(b", \"login\": \"");
        let mut stamp_buf = [0u8; 40];
        let mut stamp = Cursor::new(&mut stamp_buf);
        format_time(&mut self.clock, TimeFormat::Iso, login, &mut stamp);
        out.extend_from_slice(stamp.bytes());
        out.extend_from_slice(b"\", \"logout\": ");
        if ended {
            out.push(b'"');
            let mut stamp_buf = [0u8; 40];
            let mut stamp = Cursor::new(&mut stamp_buf);
            format_time(&mut self.clock, TimeFormat::Iso, logout, &mut stamp);
            out.extend_from_slice(stamp.bytes());
            let _ = write!(out, "\", \"seconds\": {}", logout.wrapping_sub(login));
        } else {
            out.extend_from_slice(b"null, \"seconds\": null");
        }
        let _ = write!(out, ", \"state\": \"{state}\"}}");
        self.out.write_all(&out);
    }
}

/// util-linux `dns_lookup`: the address of `ut_addr_v6` as a name (`-d`)
/// or numbers (`-i`). IPv4 when words 1..3 are zero or the address is
/// v4-mapped.
pub fn lookup_host(addr: &[u8; 16], numeric: bool, out: &mut Vec<u8>) {
    out.clear();
    let mapped = addr[..10].iter().all(|&b| b == 0) && addr[10] == 0xff && addr[11] == 0xff;
    let address = if mapped {
        Address::V4([addr[12], addr[13], addr[14], addr[15]])
    } else if addr[4..].iter().all(|&b| b == 0) {
        Address::V4([addr[0], addr[1], addr[2], addr[3]])
    } else {
        Address::V6(*addr)
    };
    if !numeric {
        if let Some(name) = inet::reverse_lookup(&address) {
            out.extend_from_slice(&name);
            return;
        }
    }
    inet::address_text(&address, out);
}
