//! One entry as util-linux prints it (the printf widths of `list`, the
//! trailing-space trim, then `fputc_careful` escaping), or as a JSON
//! object; and the `-d`/`-i` address lookup.

use std::io::Write;

use super::{format_time, Ending, Report, TimeFormat};
use crate::escape;

/// printf `%-W.Ps`: at most `precision` bytes, left-aligned in `width`.
fn pad(out: &mut Vec<u8>, field: &[u8], width: usize, precision: usize) {
    let field = &field[..field.len().min(precision)];
    out.extend_from_slice(field);
    for _ in field.len()..width {
        out.push(b' ');
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
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
        let (in_len, out_len) = widths(fmt);
        let mut logintime = [0u8; 40];
        let mut login_text = Vec::new();
        let in_fmt = match fmt {
            TimeFormat::Short => TimeFormat::Full,
            other => other,
        };
        format_time(&mut self.clock, in_fmt, login, &mut login_text);
        let n = login_text.len().min(logintime.len());
        logintime[..n].copy_from_slice(&login_text[..n]);
        let logintime = &logintime[..n];

        let secs = logout.wrapping_sub(login);
        let mins = ((secs / 60) % 60) as i32;
        let hours = ((secs / 3600) % 24) as i32;
        let days = (secs / 86400) as i32;

        let mut logouttime: Vec<u8> = b"- ".to_vec();
        format_time(&mut self.clock, fmt, logout, &mut logouttime);
        let mut length: Vec<u8> = Vec::with_capacity(16);
        if logout == self.now {
            if fmt > TimeFormat::Short {
                logouttime = b"  still running".to_vec();
            } else {
                logouttime = b"  still".to_vec();
                length.extend_from_slice(b"running");
            }
        } else if days != 0 {
            let _ = write!(length, "({}+{:02}:{:02})", days, hours.abs(), mins.abs());
        } else if hours != 0 {
            let _ = write!(length, " ({:02}:{:02})", hours, mins.abs());
        } else if secs >= 0 {
            let _ = write!(length, " ({:02}:{:02})", hours, mins);
        } else {
            let _ = write!(length, " (-00:{:02})", mins.abs());
        }
        match what {
            Ending::Crash => logouttime = b"- crash".to_vec(),
            Ending::Down => logouttime = b"- down ".to_vec(),
            Ending::Now => {
                if fmt > TimeFormat::Short {
                    logouttime = b"  still logged in".to_vec();
                    length.clear();
                } else {
                    logouttime = b"  still".to_vec();
                    length = b"logged in".to_vec();
                }
            }
            Ending::Phantom => {
                if fmt > TimeFormat::Short {
                    logouttime = b"  gone - no logout".to_vec();
                    length.clear();
                } else if fmt == TimeFormat::Short {
                    logouttime = b"   gone".to_vec();
                    length = b"- no logout".to_vec();
                } else {
                    logouttime.clear();
                    length = b"no logout".to_vec();
                }
            }
            Ending::TimeChange => {
                logouttime.clear();
                length.clear();
            }
            Ending::Normal | Ending::Reboot => {}
        }

        let line = &mut self.line;
        line.clear();
        pad(line, user, 8, o.name_len);
        line.push(b' ');
        pad(line, utline, 12, 12);
        line.push(b' ');
        if o.showhost && !o.altlist {
            pad(line, domain, 16, o.domain_len);
            line.push(b' ');
        }
        pad(line, logintime, in_len, in_len);
        line.push(b' ');
        pad(line, &logouttime, out_len, out_len);
        line.push(b' ');
        if o.showhost && o.altlist {
            pad(line, &length, 12, 12);
            line.push(b' ');
            line.extend_from_slice(domain);
        } else {
            line.extend_from_slice(&length);
        }
        // util-linux trim_trailing_spaces, including its quirk of putting
        // the newline over the first byte when nothing after it is kept.
        let mut p = line.len();
        while p > 0 {
            p -= 1;
            if !is_space(line[p]) {
                break;
            }
        }
        if p > 0 {
            p += 1;
        }
        line.truncate(p);
        line.push(b'\n');
        escape::careful(line, &mut self.out);
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
            Ending::Normal | Ending::Reboot => ("ended", true),
        };
        let out = &mut self.out;
        out.extend_from_slice(if self.json_first { b"\n  " } else { b",\n  " });
        self.json_first = false;
        out.extend_from_slice(b"{\"user\": ");
        json_string(out, user);
        out.extend_from_slice(b", \"tty\": ");
        json_string(out, utline);
        out.extend_from_slice(b", \"host\": ");
        json_string(out, domain);
        out.extend_from_slice(b", \"login\": \"");
        format_time(&mut self.clock, TimeFormat::Iso, login, out);
        out.extend_from_slice(b"\", \"logout\": ");
        if ended {
            out.push(b'"');
            format_time(&mut self.clock, TimeFormat::Iso, logout, out);
            let _ = write!(out, "\", \"seconds\": {}", logout.wrapping_sub(login));
        } else {
            out.extend_from_slice(b"null, \"seconds\": null");
        }
        let _ = write!(out, ", \"state\": \"{state}\"}}");
    }
}

/// A JSON string of stored bytes: escaped as util-linux escapes them
/// first (so the result is plain ASCII and cannot drive a terminal), then
/// `"` and `\` as JSON needs.
fn json_string(out: &mut Vec<u8>, field: &[u8]) {
    let safe = escape::careful_vec(field);
    out.push(b'"');
    for &b in &safe {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x07 => out.extend_from_slice(b"\\u0007"),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// util-linux `dns_lookup`: the address of `ut_addr_v6` as a name (`-d`)
/// or numbers (`-i`). IPv4 when words 1..3 are zero or the address is
/// v4-mapped.
pub fn lookup_host(addr: &[u8; 16], numeric: bool, out: &mut Vec<u8>) {
    out.clear();
    let mapped = addr[..10].iter().all(|&b| b == 0) && addr[10] == 0xff && addr[11] == 0xff;
    let v4: Option<[u8; 4]> = if mapped {
        Some([addr[12], addr[13], addr[14], addr[15]])
    } else if addr[4..].iter().all(|&b| b == 0) {
        Some([addr[0], addr[1], addr[2], addr[3]])
    } else {
        None
    };
    if !numeric {
        if let Some(name) = reverse_name(v4, addr) {
            out.extend_from_slice(&name);
            return;
        }
    }
    match v4 {
        Some(a) => {
            let _ = write!(out, "{}.{}.{}.{}", a[0], a[1], a[2], a[3]);
        }
        None => ipv6_text(addr, out),
    }
}

/// A name for the address through the resolver, if it has one.
fn reverse_name(v4: Option<[u8; 4]>, addr: &[u8; 16]) -> Option<Vec<u8>> {
    let mut host = [0 as libc::c_char; 1025];
    // SAFETY: the sockaddrs are fully initialised and their sizes passed;
    // getnameinfo writes a NUL-terminated name into `host`.
    let rc = unsafe {
        match v4 {
            Some(a) => {
                let mut sin: libc::sockaddr_in = std::mem::zeroed();
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_addr.s_addr = u32::from_ne_bytes(a);
                libc::getnameinfo(
                    &sin as *const _ as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
            None => {
                let mut sin6: libc::sockaddr_in6 = std::mem::zeroed();
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_addr.s6_addr = *addr;
                libc::getnameinfo(
                    &sin6 as *const _ as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    host.as_mut_ptr(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
        }
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: getnameinfo succeeded, so `host` holds a C string.
    let name = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
    Some(name.to_bytes().to_vec())
}

/// IPv6 text as glibc `inet_ntop` writes it: the longest run of two or
/// more zero groups (the first of equals) as `::`, and a trailing IPv4
/// for `::a.b.c.d` and `::ffff:a.b.c.d`.
fn ipv6_text(addr: &[u8; 16], out: &mut Vec<u8>) {
    let words: Vec<u16> = (0..8)
        .map(|i| u16::from_be_bytes([addr[2 * i], addr[2 * i + 1]]))
        .collect();
    let (mut best, mut best_len) = (usize::MAX, 0);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best = usize::MAX;
    }
    let in_best = |i: usize| best != usize::MAX && i >= best && i < best + best_len;
    for i in 0..8 {
        if in_best(i) {
            if i == best {
                out.push(b':');
            }
            continue;
        }
        if i != 0 {
            out.push(b':');
        }
        if i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            let _ = write!(out, "{}.{}.{}.{}", addr[12], addr[13], addr[14], addr[15]);
            return;
        }
        let _ = write!(out, "{:x}", words[i]);
    }
    if best != usize::MAX && best + best_len == 8 {
        out.push(b':');
    }
}
