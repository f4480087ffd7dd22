//! who: show who is logged on.
//!
//! ```text
//! Usage: who [OPTION]... [ FILE | ARG1 ARG2 ]
//! ```
//! (the whole usage text is `USAGE` below; `--help` prints it.)
//!
//! Peer: GNU coreutils 9.1 `who` as Debian builds it (with the `--ips`
//! patch), byte for byte: columns, both time styles (`%b %e %H:%M` under
//! the C/POSIX time locale, `%Y-%m-%d %H:%M` under any other, C.UTF-8
//! included), IDLE and mesg from the tty's stat, `-q`, glibc's option
//! parsing and messages. With no FILE the default utmp table is read and
//! entries whose process is gone are dropped; a FILE (any supported
//! format) is shown as it is, and a missing one is an empty table.
//!
//! Deliberate differences (docs/COMPAT.md, `## who`):
//! - bytes that are not printable are escaped as util-linux escapes them
//!   (`*[` for ESC, `\303` for bytes from 0x80) instead of printed raw, so
//!   a stored name cannot drive the terminal;
//! - `--lookup` asks the resolver the same question (getaddrinfo with
//!   AI_CANONNAME; getnameinfo of the address with `--ips`) through musl's
//!   resolver; when it cannot answer, the host is printed as stored, as
//!   coreutils does;
//! - `--version` names utmpbox;
//! - `--json` is new: the same entries as a JSON array (applets/who/json.rs).

use std::ffi::{CStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::front::cli;
use crate::front::escape;
use crate::front::getopt::{self, Item, Table};
use crate::read::sessions;
use crate::record::{Record, RecordKind};
use crate::sys::inet;
use crate::sys::locale;
use crate::sys::time;
use crate::sys::tty;

mod json;

const USAGE: &str = "\
Usage: who [OPTION]... [ FILE | ARG1 ARG2 ]
Print information about users who are currently logged in.

  -a, --all         same as -b -d --login -p -r -t -T -u
  -b, --boot        time of last system boot
  -d, --dead        print dead processes
  -H, --heading     print line of column headings
      --ips         print ips instead of hostnames. with --lookup,
                    canonicalizes based on stored IP, if available,
                    rather than stored hostname
      --json        print the entries as a JSON array (with -q: the
                    users it counts)
  -l, --login       print system login processes
      --lookup      attempt to canonicalize hostnames via DNS
  -m                only hostname and user associated with stdin
  -p, --process     print active processes spawned by init
  -q, --count       all login names and number of users logged on
  -r, --runlevel    print current runlevel
  -s, --short       print only name, line, and time (default)
  -t, --time        print last system clock change
  -T, -w, --mesg    add user's message status as +, - or ?
  -u, --users       list users logged in
      --message     same as -T
      --writable    same as -T
      --help        display this help and exit
      --version     output version information and exit

If FILE is not specified, use the utmpbox utmp table, else /var/run/utmp.
/var/log/wtmp as FILE is common.
If ARG1 ARG2 given, -m presumed: 'am i' or 'mom likes' are usual.
";

const TABLE: Table = Table {
    shorts: &[
        (b'a', "all"),
        (b'b', "boot"),
        (b'd', "dead"),
        (b'l', "login"),
        (b'm', "m"),
        (b'p', "process"),
        (b'q', "count"),
        (b'r', "runlevel"),
        (b's', "short"),
        (b't', "time"),
        (b'u', "users"),
        (b'w', "mesg"),
        (b'H', "heading"),
        (b'T', "mesg"),
    ],
    // In who.c's order, so ambiguity messages list candidates as it does.
    longs: &[
        ("all", "all"),
        ("boot", "boot"),
        ("count", "count"),
        ("dead", "dead"),
        ("heading", "heading"),
        ("ips", "ips"),
        ("json", "json"),
        ("login", "login"),
        ("lookup", "lookup"),
        ("message", "mesg"),
        ("mesg", "mesg"),
        ("process", "process"),
        ("runlevel", "runlevel"),
        ("short", "short"),
        ("time", "time"),
        ("users", "users"),
        ("writable", "mesg"),
        ("help", "help"),
        ("version", "version"),
    ],
    with_value: &[],
};

/// What to show, from the options (who.c's flags, same names).
#[derive(Default)]
pub struct Options {
    need_boottime: bool,
    need_deadprocs: bool,
    need_login: bool,
    need_initspawn: bool,
    need_runlevel: bool,
    need_clockchange: bool,
    need_users: bool,
    include_mesg: bool,
    include_idle: bool,
    include_exit: bool,
    include_heading: bool,
    short_list: bool,
    short_output: bool,
    my_line_only: bool,
    do_lookup: bool,
    do_ips: bool,
    json: bool,
    /// `%Y-%m-%d %H:%M` (width 16) instead of `%b %e %H:%M` (width 12).
    iso_time: bool,
    file: Option<OsString>,
}

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    match parse(applet, args) {
        Ok(options) => who(applet, &options),
        Err(status) => status,
    }
}

/// argv to options, as who.c's getopt loop sets its flags. Err is the exit
/// status after --help, --version or a usage error.
fn parse(applet: &str, args: &[OsString]) -> Result<Options, i32> {
    let mut options = Options::default();
    let mut assumptions = true;
    let mut operands = Vec::new();
    for item in getopt::parse(args, &TABLE) {
        let key = match item {
            // who has no option taking a value.
            Item::Opt(key) | Item::Value(key, _) => key,
            Item::Operand(operand) => {
                operands.push(operand);
                continue;
            }
            Item::Error(error) => return Err(getopt::usage_error(applet, &error)),
        };
        let o = &mut options;
        match key {
            "all" => {
                o.need_boottime = true;
                o.need_deadprocs = true;
                o.need_login = true;
                o.need_initspawn = true;
                o.need_runlevel = true;
                o.need_clockchange = true;
                o.need_users = true;
                o.include_mesg = true;
                o.include_idle = true;
                o.include_exit = true;
            }
            "boot" => o.need_boottime = true,
            "dead" => {
                o.need_deadprocs = true;
                o.include_idle = true;
                o.include_exit = true;
            }
            "heading" => o.include_heading = true,
            "login" => {
                o.need_login = true;
                o.include_idle = true;
            }
            "m" => o.my_line_only = true,
            "process" => o.need_initspawn = true,
            "count" => o.short_list = true,
            "runlevel" => {
                o.need_runlevel = true;
                o.include_idle = true;
            }
            "short" => o.short_output = true,
            "time" => o.need_clockchange = true,
            "mesg" => o.include_mesg = true,
            "users" => {
                o.need_users = true;
                o.include_idle = true;
            }
            "lookup" => o.do_lookup = true,
            "ips" => o.do_ips = true,
            "json" => o.json = true,
            "help" => return Err(cli::print_all(applet, USAGE.as_bytes())),
            "version" => return Err(cli::print_version(applet)),
            _ => {}
        }
        // Any selecting option turns off the default (-s, users only).
        if !matches!(
            key,
            "heading" | "m" | "count" | "short" | "mesg" | "lookup" | "ips" | "json"
        ) {
            assumptions = false;
        }
    }
    if assumptions {
        options.need_users = true;
        options.short_output = true;
    }
    if options.include_exit {
        options.short_output = false;
    }
    options.iso_time = locale::time_is_hard();
    match operands.len() {
        0 => {}
        1 => options.file = operands.pop(),
        2 => options.my_line_only = true,
        _ => {
            let message = format!(
                "extra operand {}",
                String::from_utf8_lossy(&locale::quote(operands[2].as_bytes()))
            );
            return Err(cli::usage_error(applet, &message, 1));
        }
    }
    Ok(options)
}

fn who(applet: &str, options: &Options) -> i32 {
    let file = options.file.as_deref().map(Path::new);
    let mut p = Printer {
        options,
        now: time::now_us().div_euclid(1_000_000),
        out: Vec::new(),
        sink: cli::Output::new(),
    };
    let read = if options.json {
        json::scan(applet, file, &mut p)
    } else if options.short_list {
        let mut count = 0u64;
        let read = sessions::each(applet, file, file.is_none(), |record| {
            if sessions::is_user_process(record) {
                if count > 0 {
                    p.out.push(b' ');
                }
                escape::careful(sessions::trimmed_name(record), &mut p.out);
                count += 1;
                p.drain();
            }
        });
        p.out
            .extend_from_slice(format!("\n# users={count}\n").as_bytes());
        read
    } else {
        scan_entries(applet, file, &mut p)
    };
    if let Err(status) = read {
        return status;
    }
    p.finish(applet)
}

/// The columns of one output line; empty ones are left out as who.c does.
struct Line<'a> {
    user: &'a [u8],
    state: u8,
    line: &'a [u8],
    time: &'a [u8],
    idle: &'a [u8],
    pid: &'a [u8],
    comment: &'a [u8],
    exit: &'a [u8],
}

fn pad(out: &mut Vec<u8>, field: &[u8], width: usize) {
    out.extend_from_slice(field);
    out.resize(out.len() + width.saturating_sub(field.len()), b' ');
}

fn escaped(field: &[u8]) -> Vec<u8> {
    escape::careful_vec(field)
}

/// Lines are built in `out` and go to stdout every 64 KiB: however many
/// entries a file holds, memory stays flat.
struct Printer<'o> {
    options: &'o Options,
    now: i64,
    out: Vec<u8>,
    sink: cli::Output,
}

impl Printer<'_> {
    fn drain(&mut self) {
        if self.out.len() >= 64 * 1024 {
            // A failed write is remembered by the sink and reported by
            // `finish`; later writes fail at once.
            let _ = self.sink.write(&self.out);
            self.out.clear();
        }
    }

    fn finish(mut self, applet: &str) -> i32 {
        let _ = self.sink.write(&self.out);
        self.sink.finish(applet)
    }

    /// who.c's print_line: `%-8s[ x] %-12s %-Ws[ %-6s][ %10s] %-8s[ %-12s]`,
    /// trailing spaces removed.
    fn line(&mut self, l: &Line) {
        let o = self.options;
        let start = self.out.len();
        let out = &mut self.out;
        pad(out, l.user, 8);
        if o.include_mesg {
            out.push(b' ');
            out.push(l.state);
        }
        out.push(b' ');
        pad(out, l.line, 12);
        out.push(b' ');
        pad(out, l.time, if o.iso_time { 16 } else { 12 });
        if o.include_idle && !o.short_output {
            out.push(b' ');
            pad(out, l.idle, 6);
        }
        if !o.short_output {
            out.push(b' ');
            out.resize(out.len() + 10usize.saturating_sub(l.pid.len()), b' ');
            out.extend_from_slice(l.pid);
        }
        out.push(b' ');
        pad(out, l.comment, 8);
        if o.include_exit {
            out.push(b' ');
            pad(out, l.exit, 12);
        }
        while out.len() > start && out.last() == Some(&b' ') {
            out.pop();
        }
        out.push(b'\n');
    }

    fn time_string(&self, record: &Record) -> Vec<u8> {
        let secs = record.time_secs();
        // (byte literals, not c"" ones: the crate builds with Rust 1.75)
        let format: &[u8] = if self.options.iso_time {
            b"%Y-%m-%d %H:%M\0"
        } else {
            b"%b %e %H:%M\0"
        };
        let format = CStr::from_bytes_with_nul(format).unwrap_or_default();
        match time::local(secs) {
            Some(tm) => time::strftime(format, &tm),
            // coreutils prints the number when localtime cannot.
            None => secs.to_string().into_bytes(),
        }
    }

    fn simple(&mut self, user: &[u8], line: &[u8], record: &Record, pid: bool, comment: &[u8]) {
        let time = self.time_string(record);
        let pid = if pid {
            record.pid.to_string().into_bytes()
        } else {
            Vec::new()
        };
        self.line(&Line {
            user,
            state: b' ',
            line,
            time: &time,
            idle: b"",
            pid: &pid,
            comment,
            exit: b"",
        });
    }

    fn user(&mut self, record: &Record, boottime: i64) {
        let mut tty = Vec::with_capacity(record.line.len() + 5);
        if !record.line.starts_with(b"/") {
            tty.extend_from_slice(b"/dev/");
        }
        tty.extend_from_slice(&record.line);
        // who.c stats every tty; the answer shows only in the mesg and IDLE
        // columns, so without them the (often failing) stat is skipped.
        let o = self.options;
        let shown = o.include_mesg || (o.include_idle && !o.short_output);
        // Only a terminal is trusted for them: a line naming some other
        // file (`shm/x` through world-writable /dev/shm) reads as no tty.
        let (state, last_change) = match shown.then(|| tty::terminal(&tty)) {
            Some(Some(meta)) => (
                if meta.mode() & libc::S_IWGRP != 0 {
                    b'+'
                } else {
                    b'-'
                },
                meta.atime(),
            ),
            _ => (b'?', 0),
        };
        let idle: Vec<u8> = if last_change != 0 {
            self.idle_string(last_change, boottime)
        } else {
            b"  ?".to_vec()
        };
        let comment = self.host_comment(record);
        let time = self.time_string(record);
        let pid = record.pid.to_string().into_bytes();
        self.line(&Line {
            user: &escaped(&record.user),
            state,
            line: &escaped(&record.line),
            time: &time,
            idle: &idle,
            pid: &pid,
            comment: &comment,
            exit: b"",
        });
    }

    fn idle_string(&self, when: i64, boottime: i64) -> Vec<u8> {
        let now = self.now;
        if boottime < when && now - 24 * 60 * 60 < when && when <= now {
            let idle = now - when;
            if idle < 60 {
                b"  .  ".to_vec()
            } else {
                format!("{:02}:{:02}", idle / 3600, idle % 3600 / 60).into_bytes()
            }
        } else {
            b" old ".to_vec()
        }
    }

    /// `(host)`, `(host:display)`, or with --ips the stored address.
    fn host_comment(&self, record: &Record) -> Vec<u8> {
        let mut out = Vec::new();
        if self.options.do_ips && record.addr.iter().any(|&b| b != 0) {
            let address = inet::debian_who_ips(&record.addr);
            let name = if self.options.do_lookup {
                inet::reverse_lookup(&address)
            } else {
                None
            };
            match name {
                Some(name) => escape::careful(&name, &mut out),
                None => inet::address_text(&address, &mut out),
            }
            return out;
        }
        if record.host.is_empty() {
            return out;
        }
        let (host, display) = match record.host.iter().position(|&b| b == b':') {
            Some(colon) => (&record.host[..colon], Some(&record.host[colon + 1..])),
            None => (&record.host[..], None),
        };
        let canonical = if self.options.do_lookup && !host.is_empty() {
            inet::canonical_name(host)
        } else {
            None
        };
        out.push(b'(');
        escape::careful(canonical.as_deref().unwrap_or(host), &mut out);
        if let Some(display) = display {
            out.push(b':');
            escape::careful(display, &mut out);
        }
        out.push(b')');
        out
    }

    fn runlevel(&mut self, record: &Record) {
        // who.c: unsigned char last = pid / 256, curr = pid % 256 (C's
        // truncating division, as Rust's).
        let last = (record.pid / 256) as u8;
        let curr = (record.pid % 256) as u8;
        let mut line = b"run-level ".to_vec();
        if curr != 0 {
            escape::careful(&[curr], &mut line);
        }
        let comment = if (0x20..0x7f).contains(&last) {
            vec![
                b'l',
                b'a',
                b's',
                b't',
                b'=',
                if last == b'N' { b'S' } else { last },
            ]
        } else {
            Vec::new()
        };
        self.simple(b"", &line, record, false, &comment);
    }

    fn id_comment(record: &Record) -> Vec<u8> {
        let mut comment = b"id=".to_vec();
        escape::careful(&record.id, &mut comment);
        comment
    }
}

/// who.c's STREQ_LEN(tty, ut_line, 32): equal in the first 32 bytes.
fn same_line(tty: &[u8], line: &[u8]) -> bool {
    const N: usize = 32;
    tty[..tty.len().min(N)] == line[..line.len().min(N)]
}

fn scan_entries(applet: &str, file: Option<&Path>, p: &mut Printer) -> Result<(), i32> {
    let options = p.options;
    if options.include_heading {
        let o = options;
        p.line(&Line {
            user: b"NAME",
            state: b' ',
            line: b"LINE",
            time: b"TIME",
            idle: b"IDLE",
            pid: b"PID",
            comment: b"COMMENT",
            exit: if o.include_exit { b"EXIT" } else { b"" },
        });
    }
    let tty = if options.my_line_only {
        match tty::stdin_line() {
            Some(tty) => Some(tty),
            None => return Ok(()),
        }
    } else {
        None
    };
    let mut boottime = i64::MIN;
    sessions::each(applet, file, file.is_none(), |record| {
        if tty.as_ref().map_or(true, |t| same_line(t, &record.line)) {
            entry(p, record, boottime);
            p.drain();
        }
        if record.kind == RecordKind::BootTime {
            boottime = record.time_secs();
        }
    })
}

/// Which of who's kinds of line an entry is shown as under the options:
/// the first option that selects it wins, as in who.c. The text and the
/// JSON (`--json`) both ask this, so they list the same entries.
#[derive(Clone, Copy)]
pub(super) enum Shown {
    User,
    RunLevel,
    Boot,
    ClockChange,
    Init,
    Login,
    Dead,
}

impl Shown {
    pub(super) fn of(o: &Options, record: &Record) -> Option<Shown> {
        let kind = record.kind;
        if o.need_users && sessions::is_user_process(record) {
            Some(Shown::User)
        } else if o.need_runlevel && kind == RecordKind::RunLevel {
            Some(Shown::RunLevel)
        } else if o.need_boottime && kind == RecordKind::BootTime {
            Some(Shown::Boot)
        } else if o.need_clockchange && kind == RecordKind::NewTime {
            Some(Shown::ClockChange)
        } else if o.need_initspawn && kind == RecordKind::InitProcess {
            Some(Shown::Init)
        } else if o.need_login && kind == RecordKind::LoginProcess {
            Some(Shown::Login)
        } else if o.need_deadprocs && kind == RecordKind::DeadProcess {
            Some(Shown::Dead)
        } else {
            None
        }
    }
}

/// The line of one entry, if the options show its kind.
fn entry(p: &mut Printer, record: &Record, boottime: i64) {
    match Shown::of(p.options, record) {
        Some(Shown::User) => p.user(record, boottime),
        Some(Shown::RunLevel) => p.runlevel(record),
        Some(Shown::Boot) => p.simple(b"", b"system boot", record, false, b""),
        Some(Shown::ClockChange) => p.simple(b"", b"clock change", record, false, b""),
        Some(Shown::Init) => {
            let comment = Printer::id_comment(record);
            p.simple(b"", &escaped(&record.line), record, true, &comment);
        }
        Some(Shown::Login) => {
            let comment = Printer::id_comment(record);
            p.simple(b"LOGIN", &escaped(&record.line), record, true, &comment);
        }
        Some(Shown::Dead) => {
            let comment = Printer::id_comment(record);
            let exit = format!("term={} exit={}", record.exit.termination, record.exit.exit);
            let time = p.time_string(record);
            let pid = record.pid.to_string().into_bytes();
            p.line(&Line {
                user: b"",
                state: b' ',
                line: &escaped(&record.line),
                time: &time,
                idle: b"",
                pid: &pid,
                comment: &comment,
                exit: exit.as_bytes(),
            });
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_compare_is_strncmp_32() {
        assert!(same_line(b"pts/1", b"pts/1"));
        assert!(!same_line(b"pts/1", b"pts/10"));
        let long = [b'x'; 40];
        assert!(same_line(&long, &long[..32]));
    }
}
