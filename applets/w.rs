//! w: show who is logged on and what they are doing.
//!
//! ```text
//! Usage:
//!  w [options] [user]
//! ```
//! (the whole usage text is `USAGE` below; `--help` prints it.)
//!
//! Peer: procps-ng 4.0.2 `w` as Debian builds it (FROM shown by default,
//! `-f` hides it), byte for byte: the uptime line (`src/sys/uptime.rs`, shared
//! with `uptime`), the column header, and per USER_PROCESS session USER,
//! TTY, FROM (`-i`: the stored address), LOGIN@ in its three styles, IDLE
//! from the tty's access time, JCPU over the tty's processes, PCPU and WHAT
//! of the process procps picks (the newest foreground process of the tty
//! owned by the user, else the login process). Sessions whose process is
//! gone, or whose user is not in passwd (unless `-u`), are skipped as
//! procps skips them. `PROCPS_USERLEN`, `PROCPS_FROMLEN`, the terminal
//! width and `COLUMNS` size the columns as they do there.
//!
//! Sessions come from the default utmp source (`sources::load_default`).
//! /proc is read once, not once per session as procps 4.0.2 does
//! (`applets/w/procs.rs`); `$UTMPBOX_PROC` replaces /proc (a test hook).
//!
//! Deliberate differences (docs/COMPAT.md, `## w`):
//! - `-p/--pids` (procps 4.0.3) prints `LOGINPID/WHATPID` before WHAT;
//! - unprintable bytes of USER and TTY are escaped as in every utmpbox
//!   reader (procps prints them raw);
//! - the uptime line says `0 users` as `uptime` does (upstream's fix);
//! - `--version` names utmpbox.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

mod procps_cols;
mod procs;

use crate::front::cli;
use crate::front::escape;
use crate::front::getopt::{self, Item, Table};
use crate::read::sessions;
use crate::record::{Record, RecordKind};
use crate::sys::locale;
use crate::sys::passwd::Passwd;
use crate::sys::tty;
use crate::sys::uptime;
use procps_cols::UT_HOSTSIZE;
use procs::Process;

const USAGE: &str = "
Usage:
 w [options] [user]

Options:
 -h, --no-header     do not print header
 -u, --no-current    ignore current process username
 -s, --short         short format
 -f, --from          show remote hostname field
 -o, --old-style     old style output
 -i, --ip-addr       display IP address instead of hostname (if possible)
 -p, --pids          show the PID(s) of processes in WHAT

     --help     display this help and exit
 -V, --version  output version information and exit

For more details see w(1).
";

const TABLE: Table = Table {
    shorts: &[
        (b'h', "no-header"),
        (b'u', "no-current"),
        (b's', "short"),
        (b'f', "from"),
        (b'o', "old-style"),
        (b'i', "ip-addr"),
        (b'p', "pids"),
        (b'V', "version"),
    ],
    longs: &[
        ("no-header", "no-header"),
        ("no-current", "no-current"),
        ("short", "short"),
        ("from", "from"),
        ("old-style", "old-style"),
        ("ip-addr", "ip-addr"),
        ("pids", "pids"),
        ("help", "help"),
        ("version", "version"),
    ],
    with_value: &[],
};

/// glibc's UT_NAMESIZE (and UT_HOSTSIZE): the bounds procps puts on
/// PROCPS_USERLEN and PROCPS_FROMLEN, and how much of a name it compares.
const UT_NAMESIZE: usize = 32;
const MAX_CMD_WIDTH: i32 = 512;
const MIN_CMD_WIDTH: i32 = 7;

/// What the command line asked for.
struct Options {
    header: bool,
    longform: bool,
    from: bool,
    ip_addresses: bool,
    old_style: bool,
    ignore_user: bool,
    pids: bool,
    user: Option<Vec<u8>>,
}

/// Column sizes, from the environment and the terminal.
struct Widths {
    user: usize,
    from: usize,
    what: usize,
}

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    let mut opts = Options {
        header: true,
        longform: true,
        from: true, // Debian builds with --enable-w-from
        ip_addresses: false,
        old_style: false,
        ignore_user: false,
        pids: false,
        user: None,
    };
    // getopt order: each option acts as it is reached, so --help or -V
    // before a bad option wins, and the first operand is the user.
    for item in getopt::parse(args, &TABLE) {
        match item {
            Item::Opt("no-header") => opts.header = false,
            Item::Opt("no-current") => opts.ignore_user = true,
            Item::Opt("short") => opts.longform = false,
            Item::Opt("from") => opts.from = !opts.from,
            Item::Opt("old-style") => opts.old_style = true,
            Item::Opt("ip-addr") => {
                opts.ip_addresses = true;
                opts.from = true;
            }
            Item::Opt("pids") => opts.pids = true,
            Item::Opt("help") => return cli::print_all(applet, USAGE.as_bytes()),
            Item::Opt(_) | Item::Value(..) => return cli::print_version(applet),
            Item::Operand(user) => {
                if opts.user.is_none() {
                    opts.user = Some(user.as_bytes().to_vec());
                }
            }
            Item::Error(error) => {
                error.print(applet);
                cli::say_raw(format_args!("{USAGE}"));
                return 1;
            }
        }
    }
    let widths = widths(applet, &opts);
    run(applet, &opts, &widths)
}

/// glibc `atoi`: `(int) strtol(s, NULL, 10)`, overflow clamped to the
/// long range and then cut to int as x86-64 does.
fn atoi(text: &[u8]) -> i32 {
    let mut rest = text;
    while let Some((&b, tail)) = rest.split_first() {
        if !(b == b' ' || (b'\t'..=b'\r').contains(&b)) {
            break;
        }
        rest = tail;
    }
    let negative = rest.first() == Some(&b'-');
    if matches!(rest.first(), Some(b'-') | Some(b'+')) {
        rest = &rest[1..];
    }
    let mut value: i128 = 0;
    for &b in rest.iter().take_while(|b| b.is_ascii_digit()) {
        value = (value * 10 + i128::from(b - b'0')).min(i128::from(i64::MAX) + 1);
    }
    if negative {
        value = -value;
    }
    let long = value.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    long as i32
}

fn env_number(name: &str) -> Option<i32> {
    std::env::var_os(name).map(|v| atoi(v.as_bytes()))
}

fn widths(applet: &str, opts: &Options) -> Widths {
    let mut user = 8;
    if let Some(n) = env_number("PROCPS_USERLEN") {
        if (8..=UT_NAMESIZE as i32).contains(&n) {
            user = n as usize;
        } else {
            // procps's message ends in "\n" and warnx adds another.
            cli::say(format_args!(
                "{applet}: User length environment PROCPS_USERLEN must be between 8 and {UT_NAMESIZE}, ignoring.\n"
            ));
        }
    }
    let mut from = 16;
    if let Some(n) = env_number("PROCPS_FROMLEN") {
        if (8..=UT_HOSTSIZE as i32).contains(&n) {
            from = n as usize;
        } else {
            cli::say(format_args!(
                "{applet}: from length environment PROCPS_FROMLEN must be between 8 and {UT_HOSTSIZE}, ignoring\n"
            ));
        }
    }
    let mut what = match terminal_columns() {
        Some(cols) => cols,
        None => match std::env::var_os("COLUMNS") {
            Some(v) => atoi(v.as_bytes()),
            None => MAX_CMD_WIDTH,
        },
    };
    let clamp = |w: i32| w.clamp(MIN_CMD_WIDTH, MAX_CMD_WIDTH);
    what = clamp(what);
    let used = 21
        + user as i32
        + if opts.from { from as i32 } else { 0 }
        + if opts.longform { 20 } else { 0 };
    what = clamp(what - used);
    Widths {
        user,
        from,
        what: what as usize,
    }
}

/// stdout's terminal width, when stdout is a terminal that knows it.
fn terminal_columns() -> Option<i32> {
    let mut size = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // Raw libc: nix has no safe TIOCGWINSZ (its ioctl macros make unsafe
    // functions). SAFETY: TIOCGWINSZ fills the winsize it is given.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (rc != -1 && size.ws_col > 0).then_some(i32::from(size.ws_col))
}

/// One session to show, with what its row needs before /proc is read.
struct Session<'a> {
    record: &'a Record,
    /// The line with everything from its first byte that is not
    /// alphanumeric or `/` cut off (procps's "clean up tty if garbled").
    tty: Vec<u8>,
    /// The terminal's device number as procps finds it (-1: none).
    device: i32,
    /// The user's uid, unless `-u`.
    uid: Option<u32>,
}

fn run(applet: &str, opts: &Options, widths: &Widths) -> i32 {
    let records = match sessions::users(applet, None, false) {
        Ok(records) => records,
        Err(status) => return status,
    };
    let now = uptime::now_secs();
    let root = uptime::proc_root();
    let mut out = cli::Output::new();
    if opts.header {
        let mut line = match uptime::read_proc_uptime(&root) {
            Ok(secs) => {
                uptime::uptime_line(now, secs, records.len(), uptime::read_proc_loadavg(&root))
            }
            // procps_uptime_sprint gives an empty string when it fails.
            Err(_) => Vec::new(),
        };
        line.push(b'\n');
        line.extend_from_slice(&header(opts, widths));
        let _ = out.write_all(&line);
    }

    // Read only when it matters: -u ignores the user's uid entirely.
    let passwd = (!opts.ignore_user).then(Passwd::system);
    let shown: Vec<Session> = records
        .iter()
        .filter(|r| r.kind == RecordKind::UserProcess && !r.user.is_empty())
        .filter(|r| match &opts.user {
            Some(user) => name_prefix(&r.user) == name_prefix(user),
            None => true,
        })
        .filter_map(|record| {
            let uid = if opts.ignore_user {
                None
            } else {
                // Not in passwd: procps's find_best_proc gives up.
                let passwd = passwd.as_ref()?;
                Some(passwd.by_name(name_prefix(&record.user))?.uid)
            };
            let tty = clean_tty(&record.line);
            let device = tty_device(&tty);
            Some(Session {
                record,
                tty,
                device,
                uid,
            })
        })
        .collect();

    if !shown.is_empty() {
        let table = match procs::scan(&root, locale::ctype_is_utf8(), |pid, tty| {
            shown.iter().any(|s| s.device == tty || s.record.pid == pid)
        }) {
            Ok(table) => table,
            Err(_) => {
                let _ = out.flush();
                return cli::fail(applet, "Unable to load process information", 1);
            }
        };
        let hertz = procs::hertz();
        let mut row = Vec::with_capacity(256);
        for session in &shown {
            row.clear();
            if format_row(session, &table, opts, widths, now, hertz, &mut row) {
                let _ = out.write_all(&row);
            }
        }
    }
    out.finish(applet)
}

fn header(opts: &Options, widths: &Widths) -> Vec<u8> {
    let mut text = format!("{:<w$} TTY      ", "USER", w = widths.user);
    if opts.from {
        // One short of the column, as procps 4.0.2 pads it.
        text.push_str(&format!("{:<w$}", "FROM", w = widths.from - 1));
    }
    text.push_str(if opts.longform {
        "  LOGIN@   IDLE   JCPU   PCPU WHAT\n"
    } else {
        "   IDLE WHAT\n"
    });
    text.into_bytes()
}

/// A name as C code sees `char ut_user[32]` through strncpy/strncmp: up to
/// the first NUL, at most UT_NAMESIZE bytes.
fn name_prefix(name: &[u8]) -> &[u8] {
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    &name[..end.min(UT_NAMESIZE)]
}

fn clean_tty(line: &[u8]) -> Vec<u8> {
    line.iter()
        .take(32)
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'/')
        .copied()
        .collect()
}

fn stat(path: &[u8]) -> Option<std::fs::Metadata> {
    std::fs::metadata(Path::new(std::ffi::OsStr::from_bytes(path))).ok()
}

/// procps 4.0.2 `get_tty_device`: the device number of the first of
/// NAME (if absolute), /dev/NAME, /dev/ttyNAME, /dev/pts/NAME that stats
/// (paths cut to 31 bytes; a directory counts, with device 0).
fn tty_device(name: &[u8]) -> i32 {
    if name.first() == Some(&b'/') {
        if let Some(meta) = stat(name) {
            return meta.rdev() as i32;
        }
    }
    for prefix in [&b"/dev/"[..], b"/dev/tty", b"/dev/pts/"] {
        let mut path = prefix.to_vec();
        path.extend_from_slice(name);
        path.truncate(31);
        if let Some(meta) = stat(&path) {
            return meta.rdev() as i32;
        }
    }
    -1
}

/// One row into `row`; false when procps would skip the session.
fn format_row(
    session: &Session,
    table: &[Process],
    opts: &Options,
    widths: &Widths,
    now: i64,
    hertz: u64,
    row: &mut Vec<u8>,
) -> bool {
    let Some(best) = procs::find_best(table, session.record.pid, session.device, session.uid)
    else {
        return false;
    };
    let record = session.record;
    padded_field(name_prefix(&record.user), widths.user, widths.user + 1, row);
    padded_field(&record.line, 8, 9, row);
    if opts.from {
        procps_cols::from_column(record, opts.ip_addresses, widths.from, row);
    }
    if opts.longform {
        procps_cols::login_time(record.time_secs(), now, row);
    }
    if record.line.first() == Some(&b':') {
        row.extend_from_slice(b" ?xdm? ");
    } else {
        let mut path = b"/dev/".to_vec();
        path.extend_from_slice(&session.tty);
        // Only a terminal's atime is an idle time: a line naming another
        // file (`shm/x`, or none at all: /dev itself) has none.
        let idle = tty::terminal(&path).map_or(0, |m| now - m.atime());
        procps_cols::interval(idle, 0, opts.old_style, row);
    }
    if opts.longform {
        let centis = |ticks: u64| ((ticks % hertz) as f64 * (100.0 / hertz as f64)) as u32;
        procps_cols::interval(
            (best.jcpu / hertz) as i64,
            centis(best.jcpu),
            opts.old_style,
            row,
        );
        if best.pcpu > 0 {
            procps_cols::interval(
                (best.pcpu / hertz) as i64,
                centis(best.pcpu),
                opts.old_style,
                row,
            );
        } else {
            row.extend_from_slice(b"   ?   ");
        }
    }
    let mut what = widths.what;
    if opts.pids {
        let pids = format!(" {}/{}", record.pid, best.pid);
        row.extend_from_slice(pids.as_bytes());
        what = what.saturating_sub(pids.len());
    }
    row.push(b' ');
    row.extend_from_slice(&best.cmdline[..best.cmdline.len().min(what)]);
    row.push(b'\n');
    true
}

/// printf `%-W.Ps` of a C string, with unprintable bytes escaped (so the
/// width counts escaped bytes).
fn padded_field(field: &[u8], precision: usize, width: usize, row: &mut Vec<u8>) {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let start = row.len();
    escape::careful(&field[..end.min(precision)], row);
    let written = row.len() - start;
    row.resize(row.len() + width.saturating_sub(written), b' ');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_like_glibc() {
        assert_eq!(atoi(b"  60x"), 60);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b""), 0);
        assert_eq!(atoi(b"abc"), 0);
        assert_eq!(atoi(b"4294967376"), 80);
        assert_eq!(atoi(b"99999999999999999999"), -1);
    }

    #[test]
    fn tty_cleanup_stops_at_the_first_odd_byte() {
        assert_eq!(clean_tty(b"pts/1-x"), b"pts/1");
        assert_eq!(clean_tty(b":0"), b"");
        assert_eq!(clean_tty(b"/dev/pts/3"), b"/dev/pts/3");
    }
}
