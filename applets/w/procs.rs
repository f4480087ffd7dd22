//! The process table as procps-ng's library hands it to `w`
//! (`procps_pids_reap(…, PIDS_FETCH_TASKS_ONLY)` with w's items), read from
//! /proc in ONE pass however many sessions ask about it.
//!
//! procps 4.0.2 reads all of /proc again for every utmp entry; utmpbox
//! walks it once and answers every session from the table. To keep that one
//! walk cheap, `stat` is read for every process (terminal, groups, start,
//! CPU) and `status` and `cmdline` only for the processes a caller says it
//! may look at (those on a session's terminal, or a session's own pid):
//! nothing else can reach `w`'s output.
//!
//! Processes come in directory order, which on Linux is pid order: the
//! order procps sees them in, which decides ties between equal start times.
//! `find_best` is procps's `find_best_proc` over the table: what `w` shows
//! as JCPU, PCPU and WHAT for one session.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// One process, with the fields `w` uses. `ruid`, `euid` and `cmdline` are
/// only read when the caller's filter wanted them (else 0/0/empty).
pub struct Process {
    /// PIDS_ID_TGID (the directory name; a process is its own group leader).
    pub pid: i32,
    /// PIDS_ID_PGRP and PIDS_ID_TPGID: foreground when equal.
    pub pgrp: i32,
    pub tpgid: i32,
    /// PIDS_TTY: the controlling terminal's device number as `stat` gives
    /// it (the kernel's encoding, which is glibc's `st_rdev` for any
    /// minor below 2^20), 0 for none.
    pub tty: i32,
    /// PIDS_TICS_BEGAN: start time in clock ticks after boot.
    pub start: u64,
    /// PIDS_TICS_ALL: utime + stime in clock ticks.
    pub ticks: u64,
    pub ruid: u32,
    pub euid: u32,
    /// PIDS_CMDLINE: the arguments joined by spaces and escaped as procps
    /// escapes them, or `[comm]` when there are none.
    pub cmdline: Vec<u8>,
}

/// Largest command line procps reads (MAX_BUFSZ, one byte kept for NUL).
const MAX_BUFSZ: usize = 128 * 1024;

/// Every process under `proc_root`, in directory order. `wanted(pid, tty)`
/// says whether a process's uids and command line will be looked at.
/// Processes that vanish while being read are left out, as procps leaves
/// them out. `utf8` is whether the locale's character set is UTF-8 (it
/// decides how unprintable bytes of command lines are replaced).
pub fn scan(
    proc_root: &Path,
    utf8: bool,
    mut wanted: impl FnMut(i32, i32) -> bool,
) -> io::Result<Vec<Process>> {
    let mut table = Vec::new();
    let mut buf = Vec::with_capacity(1024);
    let mut path = proc_root.to_path_buf();
    for entry in std::fs::read_dir(proc_root)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(pid) = parse_pid(name.as_bytes()) else {
            continue;
        };
        path.push(&name);
        if let Some(process) = read_process(&mut path, pid, utf8, &mut buf, &mut wanted) {
            table.push(process);
        }
        path.pop();
    }
    Ok(table)
}

fn parse_pid(name: &[u8]) -> Option<i32> {
    if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// Read `path`/`file` into `buf` (at most `limit` bytes); false if it
/// cannot be opened or read.
fn read_into(path: &mut std::path::PathBuf, file: &str, buf: &mut Vec<u8>, limit: usize) -> bool {
    buf.clear();
    path.push(file);
    let ok = match File::open(&*path) {
        Ok(f) => crate::sys::infile::read_to_end(&mut f.take(limit as u64), buf).is_ok(),
        Err(_) => false,
    };
    path.pop();
    ok
}

fn read_process(
    path: &mut std::path::PathBuf,
    pid: i32,
    utf8: bool,
    buf: &mut Vec<u8>,
    wanted: &mut impl FnMut(i32, i32) -> bool,
) -> Option<Process> {
    if !read_into(path, "stat", buf, 4096) {
        return None;
    }
    let stat = parse_stat(buf)?;
    let mut process = Process {
        pid,
        pgrp: stat.pgrp,
        tpgid: stat.tpgid,
        tty: stat.tty,
        start: stat.start,
        ticks: stat.utime.wrapping_add(stat.stime),
        ruid: 0,
        euid: 0,
        cmdline: Vec::new(),
    };
    if !wanted(pid, stat.tty) {
        return Some(process);
    }
    if read_into(path, "status", buf, 64 * 1024) {
        if let Some((ruid, euid)) = status_uids(buf) {
            process.ruid = ruid;
            process.euid = euid;
        }
    }
    let raw = if read_into(path, "cmdline", buf, MAX_BUFSZ - 1) {
        unvectored(buf)
    } else {
        None
    };
    let text = match raw {
        Some(line) => escape_str(&line, utf8),
        None => escape_command(&stat.comm, stat.state, utf8),
    };
    // procps: `strdup(dst_buffer[0] ? dst_buffer : "?")`.
    process.cmdline = if text.is_empty() { b"?".to_vec() } else { text };
    Some(process)
}

struct Stat {
    comm: Vec<u8>,
    state: u8,
    pgrp: i32,
    tty: i32,
    tpgid: i32,
    utime: u64,
    stime: u64,
    start: u64,
}

/// `/proc/PID/stat`: the name between the first `(` and the last `)`,
/// then space-separated fields.
fn parse_stat(text: &[u8]) -> Option<Stat> {
    let open = text.iter().position(|&b| b == b'(')?;
    let close = text.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let comm = text[open + 1..close].to_vec();
    let mut fields = text[close + 1..]
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty());
    let mut next = || fields.next();
    let state = *next()?.first()?;
    let _ppid = next()?;
    let pgrp = number(next()?)? as i32;
    let _session = next()?;
    let tty = number(next()?)? as i32;
    let tpgid = number(next()?)? as i32;
    for _ in 0..5 {
        next()?; // flags, minflt, cminflt, majflt, cmajflt
    }
    let utime = number(next()?)? as u64;
    let stime = number(next()?)? as u64;
    for _ in 0..6 {
        next()?; // cutime, cstime, priority, nice, num_threads, itrealvalue
    }
    let start = number(next()?)? as u64;
    Some(Stat {
        comm,
        state,
        pgrp,
        tty,
        tpgid,
        utime,
        stime,
        start,
    })
}

/// A decimal field, possibly negative (the kernel prints tpgid -1).
fn number(field: &[u8]) -> Option<i64> {
    let (negative, digits) = match field.first() {
        Some(b'-') => (true, &field[1..]),
        _ => (false, field),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        value = value.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
    }
    Some(if negative {
        value.wrapping_neg()
    } else {
        value
    })
}

/// The real and effective uid of `status`'s `Uid:` line.
fn status_uids(text: &[u8]) -> Option<(u32, u32)> {
    let line = text
        .split(|&b| b == b'\n')
        .find(|l| l.starts_with(b"Uid:"))?;
    let mut ids = line[4..]
        .split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
        .map(|f| number(f).map(|n| n as u32));
    Some((ids.next()??, ids.next()??))
}

/// procps `read_unvectored(…, "cmdline", ' ')`: NULs between arguments
/// and newlines become spaces, trailing NULs are dropped, and a space that
/// is the very last byte read is cut. None when nothing was read (the
/// process then goes by `[comm]`).
fn unvectored(raw: &[u8]) -> Option<Vec<u8>> {
    let last = *raw.last()?;
    let keep = raw.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let mut line: Vec<u8> = raw[..keep]
        .iter()
        .map(|&b| if b == 0 || b == b'\n' { b' ' } else { b })
        .collect();
    if keep == raw.len() && (last == b' ' || last == b'\n') {
        line.pop();
    }
    Some(line)
}

/// procps `escape_str` into a MAX_BUFSZ buffer: up to the first NUL, then
/// `esc_ctl` in a UTF-8 locale, `esc_all` in any other.
fn escape_str(src: &[u8], utf8: bool) -> Vec<u8> {
    let end = src.iter().position(|&b| b == 0).unwrap_or(src.len());
    let mut out = src[..end.min(MAX_BUFSZ - 1)].to_vec();
    if utf8 {
        escape_ctl(&mut out);
    } else {
        escape_all(&mut out);
    }
    out
}

/// procps `esc_all` (its ESC_tab): controls and DEL become `.`, bytes
/// from 0x80 `?`, printable ASCII stays.
fn escape_all(s: &mut [u8]) {
    for b in s.iter_mut() {
        match *b {
            0x20..=0x7e => {}
            0x80..=0xff => *b = b'?',
            _ => *b = b'.',
        }
    }
}

/// Length of the UTF-8 sequence a lead byte announces (procps 4.0.2's
/// UTF_tab), None for a byte that cannot lead one.
fn utf8_len(lead: u8) -> Option<usize> {
    match lead {
        0x00..=0x7f => Some(1),
        0xc2..=0xdf => Some(2),
        0xe0..=0xef => Some(3),
        0xf0..=0xf4 => Some(4),
        _ => None,
    }
}

/// procps 4.0.2 `esc_ctl`, found by probing the installed `w`: step over
/// each sequence by the length its lead byte announces (the continuation
/// bytes are not checked), turning an ASCII control or DEL into `?`; at
/// the first byte that cannot lead, or a sequence running past the end,
/// the rest of the string goes through `esc_all`.
fn escape_ctl(s: &mut [u8]) {
    let mut i = 0;
    while i < s.len() {
        match utf8_len(s[i]).filter(|&n| i + n <= s.len()) {
            Some(n) => {
                if s[i] < 0x20 || s[i] == 0x7f {
                    s[i] = b'?';
                }
                i += n;
            }
            None => {
                escape_all(&mut s[i..]);
                return;
            }
        }
    }
}

/// procps `escape_command(…, ESC_BRACKETS | ESC_DEFUNCT)`: `[comm]`, and
/// ` <defunct>` after it for a zombie.
fn escape_command(comm: &[u8], state: u8, utf8: bool) -> Vec<u8> {
    let mut out = vec![b'['];
    out.extend_from_slice(&escape_str(comm, utf8));
    out.push(b']');
    if state == b'Z' {
        out.extend_from_slice(b" <defunct>");
    }
    out
}

/// What procps's `find_best_proc` finds for a session (w's JCPU, PCPU
/// and WHAT).
pub struct Best<'a> {
    pub jcpu: u64,
    pub pcpu: u64,
    pub pid: i32,
    pub cmdline: &'a [u8],
}

/// procps's `find_best_proc`, over the one table: JCPU sums the ticks of
/// every process on the terminal; WHAT starts as the login process and is
/// replaced by any later-started foreground process of the terminal that
/// the user owns (really or effectively; anyone with `-u`); a login process
/// whose command line is `-` gives way to the newest process on the
/// terminal. `device` is the session's terminal (procps's
/// `get_tty_device`), `uid` the user's (None with `-u`). None when the
/// login process is gone.
pub fn find_best(
    table: &[Process],
    ut_pid: i32,
    device: i32,
    uid: Option<u32>,
) -> Option<Best<'_>> {
    let mut found = false;
    let mut best_time = 0u64;
    let mut secondbest_time = 0u64;
    let mut best = Best {
        jcpu: 0,
        pcpu: 0,
        pid: -1,
        cmdline: b"-",
    };
    for p in table {
        if p.pid == ut_pid {
            found = true;
            if best_time == 0 {
                best_time = p.start;
                best.cmdline = &p.cmdline;
                best.pid = p.pid;
                best.pcpu = p.ticks;
            }
        }
        if p.tty != device {
            continue;
        }
        best.jcpu = best.jcpu.wrapping_add(p.ticks);
        if !(secondbest_time != 0 && p.start <= secondbest_time) {
            secondbest_time = p.start;
            if best.cmdline == b"-" {
                best.cmdline = &p.cmdline;
                best.pid = p.pid;
                best.pcpu = p.ticks;
            }
        }
        let not_theirs = uid.is_some_and(|uid| uid != p.euid && uid != p.ruid);
        if not_theirs || p.pgrp != p.tpgid || p.start <= best_time {
            continue;
        }
        best_time = p.start;
        best.cmdline = &p.cmdline;
        best.pid = p.pid;
        best.pcpu = p.ticks;
    }
    found.then_some(best)
}

/// Clock ticks per second (procps_hertz_get).
pub fn hertz() -> u64 {
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(0);
    if hz > 0 {
        hz as u64
    } else {
        100
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields() {
        let s = parse_stat(
            b"42 (a) b)) S 1 42 42 34816 42 4194560 100 0 0 0 7 3 0 0 20 0 1 0 12345 0 0\n",
        )
        .unwrap();
        assert_eq!(s.comm, b"a) b)");
        assert_eq!((s.state, s.pgrp, s.tty, s.tpgid), (b'S', 42, 34816, 42));
        assert_eq!((s.utime, s.stime, s.start), (7, 3, 12345));
        let s = parse_stat(b"7 (k) S 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 9 0\n").unwrap();
        assert_eq!((s.tty, s.tpgid), (0, -1));
        assert!(parse_stat(b"7 (k S 2").is_none());
    }

    #[test]
    fn uids_from_status() {
        assert_eq!(
            status_uids(b"Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t0\n"),
            Some((1000, 0))
        );
        assert_eq!(status_uids(b"Name:\tx\n"), None);
    }

    #[test]
    fn cmdline_like_read_unvectored() {
        assert_eq!(unvectored(b"sleep\x00600\x00").unwrap(), b"sleep 600");
        assert_eq!(unvectored(b"a\nb\x00c\x00\x00").unwrap(), b"a b c");
        assert_eq!(unvectored(b"a b ").unwrap(), b"a b");
        assert_eq!(unvectored(b"a b \x00").unwrap(), b"a b ");
        assert_eq!(unvectored(b"\x00\x00").unwrap(), b"");
        assert!(unvectored(b"").is_none());
    }

    #[test]
    fn escapes_like_procps() {
        assert_eq!(escape_str(b"tab\there\x7f\xc3\xa9", false), b"tab.here.??");
        assert_eq!(
            escape_str(b"tab\there\x7f\xc3\xa9", true),
            b"tab?here?\xc3\xa9"
        );
        // Continuation bytes are not checked; C1 controls pass.
        assert_eq!(escape_str(b"a\xe2\x28a", true), b"a\xe2\x28a");
        assert_eq!(escape_str(b"\xc2\x85x", true), b"\xc2\x85x");
        // A bad lead byte or a cut sequence: esc_all from there on.
        assert_eq!(escape_str(b"a\xff\x01b", true), b"a?.b");
        assert_eq!(escape_str(b"a\xc0\xaf", true), b"a??");
        assert_eq!(escape_str(b"a\xc3", true), b"a?");
        assert_eq!(escape_command(b"sh", b'Z', false), b"[sh] <defunct>");
        assert_eq!(escape_command(b"kthreadd", b'S', false), b"[kthreadd]");
    }

    fn process(pid: i32, pgrp: i32, tty: i32, start: u64, uid: u32, cmd: &str) -> Process {
        Process {
            pid,
            pgrp,
            tpgid: 10,
            tty,
            start,
            ticks: pid as u64,
            ruid: uid,
            euid: uid,
            cmdline: cmd.as_bytes().to_vec(),
        }
    }

    fn best(table: &[Process], ut_pid: i32, uid: Option<u32>) -> Option<(i32, u64, u64, String)> {
        find_best(table, ut_pid, 7, uid).map(|b| {
            let cmd = String::from_utf8_lossy(b.cmdline).into_owned();
            (b.pid, b.jcpu, b.pcpu, cmd)
        })
    }

    #[test]
    fn best_process_as_procps_picks_it() {
        // Login 10 (fg group 10), a later fg child 12 of another user, a
        // background job 13, a process on another tty 14.
        let table = [
            process(10, 10, 7, 100, 0, "-bash"),
            process(12, 10, 7, 300, 5, "vim"),
            process(13, 13, 7, 400, 0, "sleep"),
            process(14, 10, 8, 500, 0, "other"),
        ];
        // The user's newest foreground process is the login shell itself.
        assert_eq!(
            best(&table, 10, Some(0)),
            Some((10, 35, 10, "-bash".into()))
        );
        // With -u, anyone's: vim.
        assert_eq!(best(&table, 10, None), Some((12, 35, 12, "vim".into())));
        // A gone login process: no row.
        assert_eq!(best(&table, 99, None), None);
        // Equal start times: the first in /proc order wins.
        let tie = [
            process(10, 10, 7, 100, 0, "login"),
            process(11, 10, 7, 200, 0, "first"),
            process(12, 10, 7, 200, 0, "second"),
        ];
        assert_eq!(best(&tie, 10, None).map(|b| b.3), Some("first".into()));
        // A login process whose command line is `-` gives way to the newest
        // process on the tty, even a background one.
        let dash = [
            process(10, 10, 7, 100, 0, "-"),
            process(13, 13, 7, 400, 0, "sleep"),
        ];
        assert_eq!(best(&dash, 10, Some(0)), Some((13, 23, 13, "sleep".into())));
    }
}
