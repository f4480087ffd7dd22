//! The work of `last`: walk each history from its end, pair every login
//! with what ended it, and print one line per entry as util-linux 2.38.1
//! `process_wtmp_file` and `list` do.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::{Input, Options, TimeFormat};
use crate::applets::last::bufout::OutBuf;
use crate::applets::last::clock::Clock;
use crate::front::cli;
use crate::read::history::{Filter, History};
use crate::record::last_kind::{last_kind, line_key, prefix, LineTimes, SHUTDOWN_TIME};
use crate::record::view::View;

/// `/proc/PID/loginuid` of a process no login has claimed (audit's -1).
const LOGINUID_UNSET: u32 = u32::MAX;

/// How an entry ended (util-linux's R_* values).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Crash,
    Down,
    Normal,
    Now,
    Reboot,
    Phantom,
    TimeChange,
}

/// State that lives across files: the line count for `-n`, the output.
struct Report<'o> {
    o: &'o Options,
    out: OutBuf<cli::Output>,
    line: Box<[u8; text::LINE_MAX]>,
    done: u32,
    clock: Clock,
    login_day: text::DayStamp,
    logout_day: text::DayStamp,
    now: i64,
    boot_time: i64,
    users: crate::sys::hash::Map<Vec<u8>, Option<u32>>,
    json_first: bool,
}

pub fn run(applet: &str, o: &Options) -> i32 {
    let mut r = Report {
        o,
        out: OutBuf::new(cli::Output::new()),
        line: Box::new([0; text::LINE_MAX]),
        done: 0,
        clock: Clock::new(),
        login_day: text::DayStamp::default(),
        logout_day: text::DayStamp::default(),
        now: 0,
        boot_time: 0,
        users: Default::default(),
        json_first: true,
    };
    if o.json {
        r.out.write_all(b"[");
    }
    let mut status = 0;
    for input in o.inputs() {
        r.boot_time = boot_time();
        if let Err(st) = r.file(applet, &input) {
            status = st;
            break;
        }
    }
    if o.json && status == 0 {
        let end: &[u8] = if r.json_first { b"]\n" } else { b"\n]\n" };
        r.out.write_all(end);
    }
    let flushed = match r.out.finish() {
        Ok(sink) => sink.finish(applet),
        Err(e) => cli::fail(
            applet,
            format_args!("write error: {}", cli::os_reason(&e)),
            1,
        ),
    };
    if status != 0 {
        status
    } else {
        flushed
    }
}

/// What `process_wtmp_file` carries from one record to the next (older)
/// one.
struct Walk {
    lastboot: i64,
    lastrch: i64,
    lastdown: i64,
    whydown: Ending,
    // For the 2.40 crash state of boots: has a shutdown been seen yet
    // (reading backwards), and was the nearest later boot-or-shutdown
    // a boot?
    shutdown_seen: bool,
    next_down_is_boot: bool,
    // The time of the nearest later record on each line (util-linux's
    // ulist, which never holds two entries for one line that matter).
    ulist: LineTimes,
    quit: bool,
    /// The time window (`-s`, `-t`), whole when not given.
    since: i64,
    until: i64,
}

impl Walk {
    fn new(currentdate: i64, o: &Options) -> Walk {
        Walk {
            since: if o.since != 0 { o.since } else { i64::MIN },
            until: if o.until != 0 { o.until } else { i64::MAX },
            lastboot: 0,
            lastrch: currentdate,
            lastdown: currentdate,
            whydown: Ending::Crash,
            shutdown_seen: false,
            next_down_is_boot: false,
            ulist: LineTimes::default(),
            quit: false,
        }
    }
}

/// Boot time in whole seconds, as util-linux computes it (now minus
/// CLOCK_BOOTTIME).
fn boot_time() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass.
    if unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut ts) } != 0 {
        return 0;
    }
    let now = crate::sys::time::now_us();
    let up = ts.tv_sec as i64 * 1_000_000 + ts.tv_nsec as i64 / 1000;
    (now - up).div_euclid(1_000_000)
}

/// POSIX basename, as util-linux's trailer uses it.
fn basename(path: &[u8]) -> &[u8] {
    let mut end = path.len();
    while end > 1 && path[end - 1] == b'/' {
        end -= 1;
    }
    let trimmed = &path[..end];
    if trimmed == b"/" {
        return trimmed;
    }
    match trimmed.iter().rposition(|&b| b == b'/') {
        Some(slash) => &trimmed[slash + 1..],
        None => trimmed,
    }
}

impl<'o> Report<'o> {
    fn file(&mut self, applet: &str, input: &Input) -> Result<(), i32> {
        self.now = crate::sys::time::now_us().div_euclid(1_000_000);
        let opened = match input {
            Input::File(path) => History::open_file(Path::new(path)).map_err(|e| (path.clone(), e)),
            Input::Default(db) => {
                History::open_default(*db).map_err(|e| (db.default_path().into_os_string(), e))
            }
        };
        let mut history = match opened {
            Ok(history) => history,
            Err((path, e)) => {
                let path = String::from_utf8_lossy(path.as_bytes());
                if e.kind() == std::io::ErrorKind::InvalidData {
                    crate::front::cli::say(format_args!("{applet}: {path}: {e}"));
                } else {
                    crate::front::cli::say(format_args!(
                        "{applet}: cannot open {path}: {}",
                        cli::os_reason(&e)
                    ));
                }
                return Err(1);
            }
        };
        let path = history.path().as_os_str().as_bytes().to_vec();
        let mut w = Walk::new(self.now, self.o);
        let filter = self.filter();
        let read = history.newest_first(applet, &filter, |ut| {
            self.step(applet, &mut w, ut);
            !w.quit
        });
        let begintime = read.and_then(|()| history.oldest_secs());
        let begintime = match begintime {
            Ok(Some(secs)) => secs,
            Ok(None) => history.ctime(),
            Err(e) => {
                self.out.flush();
                let shown = String::from_utf8_lossy(&path);
                crate::front::cli::say(format_args!(
                    "{applet}: cannot read {shown}: {}",
                    cli::os_reason(&e)
                ));
                return Err(1);
            }
        };
        self.trailer(&path, begintime);
        Ok(())
    }

    /// What wtmpd may leave out: only what `step` skips whatever the
    /// other records say. The time window (step ignores a record outside
    /// it entirely), and the names asked for. For lastb, whose entries
    /// stand alone, the records naming them. For last, never only those:
    /// `step` ends a login at the next record on its line, which may be
    /// an anonymous logout or another user's login, and `list` matches
    /// every name as a user too, so `last pts/3` lists a user named
    /// "pts/3" on any line, ended by records that name neither
    /// (tests/last_name_filters.rs). So last asks for the sessions of the
    /// names (protocol filter 64): each record naming one, the next
    /// record on its line, and every record `step` does not pair on a
    /// line (boots, shutdowns, run levels, clock changes), which is all
    /// `step` and `list` look at to print the same lines
    /// (src/daemon/log_sessions.rs).
    fn filter(&self) -> Filter {
        let o = self.o;
        let secs = |t: i64| t.saturating_mul(1_000_000);
        let mut filter = Filter {
            since_us: (o.since != 0).then(|| secs(o.since)),
            // Any time within the second `until` names.
            until_us: (o.until != 0).then(|| secs(o.until).saturating_add(999_999)),
            any: None,
            sessions: false,
        };
        // list() matches a name as a user (first 32 bytes), a line, or a
        // line "tty" + name; "ftp" and "uucp" match lines cut short, which
        // no equality on the daemon's side can say: then no names are
        // sent, and the whole history is read.
        let plain = |w: &Vec<u8>| w.len() <= 29 && w[..] != *b"ftp" && w[..] != *b"uucp";
        if !o.show.is_empty()
            && o.show.len() * 2 <= crate::protocol::MAX_ANY
            && o.show.iter().all(plain)
        {
            let mut any = Vec::new();
            for w in &o.show {
                any.push(w.clone());
                any.push([&b"tty"[..], w].concat());
            }
            filter.any = Some(any);
            filter.sessions = !o.lastb;
        }
        filter
    }

    /// util-linux `process_wtmp_file`'s loop body: one record, reading
    /// backwards.
    #[inline(always)]
    fn step(&mut self, applet: &str, w: &mut Walk, ut: &View) {
        let o = self.o;
        let t = ut.secs;
        if t < w.since || w.until < t {
            return;
        }
        if o.lastb {
            w.quit = self.list(ut, None, t, Ending::Normal);
            return;
        }
        let mut kind = last_kind(ut.kind, ut.line, ut.user);
        let mut down = false;
        match kind {
            SHUTDOWN_TIME => {
                if o.extended {
                    w.quit = self.list(ut, Some(b"system down"), w.lastboot, Ending::Normal);
                }
                w.lastdown = t;
                w.lastrch = t;
                down = true;
            }
            3 | 4 => {
                if o.extended {
                    let line: &[u8] = if kind == 3 { b"new time" } else { b"old time" };
                    w.quit = self.list(ut, Some(line), w.lastdown, Ending::TimeChange);
                }
            }
            2 => {
                // util-linux 2.40 (PR #2383): when another boot came
                // before the next shutdown, this boot ended in a crash
                // at that boot; 2.38.1 ran it on to the shutdown.
                w.quit = if w.shutdown_seen && w.next_down_is_boot {
                    self.list(ut, Some(b"system boot"), w.lastboot, Ending::Crash)
                } else {
                    self.list(ut, Some(b"system boot"), w.lastdown, Ending::Reboot)
                };
                down = true;
            }
            1 => {
                let x = (ut.pid & 255) as u8;
                if o.extended {
                    let mut line = *b"(to lvl X)";
                    line[8] = x;
                    // A NUL level ends the C string there.
                    let line: &[u8] = if x == 0 { &line[..8] } else { &line };
                    w.quit = self.list(ut, Some(line), w.lastrch, Ending::Normal);
                }
                if x == b'0' || x == b'6' {
                    w.lastdown = t;
                    down = true;
                    kind = SHUTDOWN_TIME;
                }
                w.lastrch = t;
            }
            7 | 8 => {
                // One map operation per record: the line's previous
                // (later in time) entry comes back as this one's time
                // replaces it.
                let found = if ut.line.is_empty() {
                    None
                } else {
                    w.ulist.insert(line_key(ut.line), t)
                };
                if kind == 7 {
                    w.quit = match found {
                        Some(logout) => self.list(ut, None, logout, Ending::Normal),
                        None => {
                            let mut shown = *ut;
                            let ending = if w.lastboot != 0 {
                                w.whydown
                            } else if self.is_phantom(ut) {
                                Ending::Phantom
                            } else {
                                Ending::Now
                            };
                            // util-linux's is_phantom NUL-terminates
                            // the record's 32-byte user in place once
                            // past its boot-time test, so the listed
                            // name loses its 32nd byte.
                            if w.lastboot == 0 && ut.secs >= self.boot_time {
                                shown.user = &ut.user[..ut.user.len().min(31)];
                            }
                            self.list(&shown, None, w.lastboot, ending)
                        }
                    };
                }
            }
            0 | 5 | 6 | 9 => {}
            other => {
                self.out.flush();
                crate::front::cli::say(format_args!("{applet}: unrecognized ut_type: {other}"));
            }
        }
        if down {
            w.lastboot = t;
            w.whydown = if kind == SHUTDOWN_TIME {
                Ending::Down
            } else {
                Ending::Crash
            };
            w.next_down_is_boot = kind != SHUTDOWN_TIME;
            w.shutdown_seen |= kind == SHUTDOWN_TIME;
            w.ulist.clear();
        }
    }

    /// `FILE begins DATE` after a file's entries.
    fn trailer(&mut self, path: &[u8], begintime: i64) {
        let o = self.o;
        if o.time_format != TimeFormat::NoTime && !o.json {
            self.out.write_all(b"\n");
            self.out.write_all(basename(path));
            self.out.write_all(b" begins ");
            let in_fmt = if o.time_format == TimeFormat::Iso {
                TimeFormat::Iso
            } else {
                TimeFormat::Full
            };
            let mut stamp_buf = [0u8; 40];
            let mut stamp = text::Cursor::new(&mut stamp_buf);
            text::format_time(&mut self.clock, in_fmt, begintime, &mut stamp);
            self.out.write_all(stamp.bytes());
            self.out.write_all(b"\n");
        }
    }

    /// util-linux `is_phantom`: a login with no logout record whose
    /// session is gone.
    fn is_phantom(&mut self, ut: &View) -> bool {
        if ut.secs < self.boot_time {
            return true;
        }
        // util-linux cuts the name to 31 bytes before getpwnam.
        let name = &ut.user[..ut.user.len().min(31)];
        let uid = match self.users.get(name) {
            Some(uid) => *uid,
            None => {
                let uid = lookup_uid(name);
                self.users.insert(name.to_vec(), uid);
                uid
            }
        };
        let Some(uid) = uid else { return true };
        let proc_path = format!("/proc/{}/loginuid", ut.pid as u32);
        let loginuid = match crate::sys::infile::read_any(proc_path.as_ref()) {
            Ok(text) => {
                let text = String::from_utf8_lossy(&text);
                match text
                    .trim_start()
                    .split(|c: char| !c.is_ascii_digit())
                    .next()
                {
                    Some(d) if !d.is_empty() => d.parse::<u32>().ok(),
                    _ => return true,
                }
            }
            Err(_) => None,
        };
        match loginuid {
            // The kernel's "unset" (no PAM login set it, as in an
            // initramfs or a login script): util-linux calls every such
            // session gone; like a kernel without audit, the terminal's
            // owner decides instead (docs/COMPAT.md).
            Some(LOGINUID_UNSET) | None => {
                let mut dev = b"/dev/".to_vec();
                dev.extend_from_slice(ut.line);
                // Only a terminal's owner says who holds the line.
                use std::os::unix::fs::MetadataExt;
                crate::sys::tty::terminal(&dev).map_or(true, |meta| meta.uid() != uid)
            }
            Some(loginuid) => loginuid != uid,
        }
    }

    /// util-linux `list`: print one entry; true once the limit is reached.
    fn list(&mut self, ut: &View, line: Option<&[u8]>, logout: i64, what: Ending) -> bool {
        let o = self.o;
        let mut utline = line.unwrap_or(ut.line);
        if utline.len() > 3 && prefix(utline, b"ftp") && utline[3].is_ascii_digit() {
            utline = &utline[..3];
        }
        if utline.len() > 4 && prefix(utline, b"uucp") && utline[4].is_ascii_digit() {
            utline = &utline[..4];
        }
        if !o.show.is_empty() {
            let user32 = &ut.user[..ut.user.len().min(32)];
            let wanted = o.show.iter().any(|w| {
                &w[..w.len().min(32)] == user32
                    || &w[..] == utline
                    || (prefix(utline, b"tty") && utline[3..] == w[..])
            });
            if !wanted {
                return false;
            }
        }
        let login = ut.secs;
        if o.present != 0 {
            if o.present < login {
                return false;
            }
            if 0 < logout && logout < o.present {
                return false;
            }
        }
        // Made only when used: even an empty Vec's drop was a call per
        // entry in the size-optimised build.
        let domain_buf: Vec<u8>;
        let domain: &[u8] = if o.usedns || o.useip {
            let mut looked_up = Vec::new();
            text::lookup_host(&ut.addr, o.useip, &mut looked_up);
            domain_buf = looked_up;
            &domain_buf
        } else {
            let host = ut.host();
            &host[..host.len().min(255)]
        };
        if o.json {
            self.json_entry(ut.user, utline, domain, login, logout, what);
        } else {
            self.text_entry(ut.user, utline, domain, login, logout, what);
        }
        self.done = self.done.wrapping_add(1);
        o.maxrecs != 0 && o.maxrecs <= self.done
    }
}

fn lookup_uid(name: &[u8]) -> Option<u32> {
    let name = std::str::from_utf8(name).ok()?;
    crate::sys::peer::user_by_name(name).map(|u| u.uid)
}

#[path = "text.rs"]
mod text;
