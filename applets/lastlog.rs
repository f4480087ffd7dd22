//! lastlog: report the most recent login of all users or of a given user.
//!
//! ```text
//! Usage: lastlog [options]
//!
//! Options:
//!   -b, --before DAYS             print only lastlog records older than DAYS
//!   -C, --clear                   clear lastlog record of an user (usable only with -u)
//!   -h, --help                    display this help message and exit
//!   -R, --root CHROOT_DIR         directory to chroot into
//!   -S, --set                     set lastlog record to current time (usable only with -u)
//!   -t, --time DAYS               print only lastlog records more recent than DAYS
//!   -u, --user LOGIN              print lastlog record of the specified LOGIN
//!       --json                    print the records as a JSON array
//! ```
//!
//! Peer: shadow 4.13 `lastlog`, byte for byte: the header with its
//! misaligned `Latest`, `%-16s %-8.8s %-42s%s` rows, the lazy header, users
//! in passwd order, `LASTLOG_UID_MAX` from login.defs (parsed as shadow's
//! getdef does, with its unterminated error line), `-u` as a name, a uid or
//! a range `A-B`/`-B`/`A-` parsed as shadow's `getrange`, its messages and
//! exit codes, and `-S`/`-C` writing whole zero-padded entries in place.
//! Options are checked in argv order as shadow's getopt loop does (the
//! user lookup happens while parsing), so it reads argv through the shared
//! glibc-style `src/front/getopt.rs`, not the option tables of `front::table`.
//!
//! Data: wtmpd first (one LASTLOG_LIST to print; `-S`/`-C` as
//! LASTLOG_SET/LASTLOG_CLEAR, which it allows root and the utmp group),
//! within the readers' deadline. When no wtmpd answers: the native lastlog
//! (`$UTMPBOX_LOGDIR/lastlog`, keyed by name) when it exists, else the
//! legacy `/var/log/lastlog` (292 or 296 bytes per uid), read and written
//! directly. A change is never written to the file once a wtmpd accepted
//! the connection (it may hold the file): a failure then is an error.
//! With `-R DIR` only the files are used: it chroots as shadow does;
//! without the privilege to, every path (passwd, login.defs, both
//! lastlogs) is taken under DIR instead.
//!
//! Deliberate differences (docs/COMPAT.md, `## lastlog`): stored line and
//! host bytes and passwd names are printed escaped as util-linux escapes
//! them (shadow prints them raw, so a stored ESC drives the terminal);
//! `-R` works unprivileged (reading under DIR) and keeps the host's zone,
//! and `-RDIR` works (shadow ignores an attached value); unknown login.defs
//! keys are not reported; `--help` lists `--json`, which is new; without
//! `-R`, wtmpd's policy decides who may `-S`/`-C`, with its reason.

use std::ffi::OsString;
use std::io::Write;

use crate::front::cli;
use crate::front::escape;
use crate::record::{Record, RecordKind};
use crate::sys::passwd::User;
use crate::sys::time;
use logindefs::LoginDefs;

mod logindefs;
#[path = "lastlog/options.rs"]
mod options;
#[path = "lastlog/source.rs"]
mod source;

use options::{in_root, Mode, Options};
use source::Source;

const HEADER: &[u8] =
    b"Username         Port     From                                       Latest\n";

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    match options::parse(applet, args) {
        Ok(options) => run(applet, &options),
        Err(status) => status,
    }
}

fn run(applet: &str, o: &Options) -> i32 {
    let source = match Source::open(applet, o) {
        Ok(source) => source,
        Err(status) => return status,
    };
    // LASTLOG_UID_MAX is read after the file is opened, as shadow reads it.
    let defs = LoginDefs::read(&in_root(&o.root, crate::applets::lastlog::logindefs::PATH));
    let uid_max = defs.get_ulong("LASTLOG_UID_MAX", 0xFFFF_FFFF);
    let range = o.user.unwrap_or_default();
    if range.min.is_some_and(|m| m > uid_max) || range.max.is_some_and(|m| m > uid_max) {
        let tail = if o.mode == Mode::Print {
            "the output might be incorrect."
        } else {
            "they will not be updated."
        };
        crate::front::cli::say_raw(format_args!(
            "{applet}: Selected uid(s) are higher than LASTLOG_UID_MAX ({uid_max}),\n\t{tail}\n"
        ));
        if o.mode != Mode::Print {
            return 0;
        }
    }
    // Which users, in getpwent order; one uid goes through getpwuid.
    let users: Vec<User> = match range.single() {
        Some(uid) if o.user.is_some() => o.passwd.by_uid(uid as u32).into_iter().collect(),
        _ => o
            .passwd
            .iter()
            .filter(|u| match o.user {
                Some(range) => range.contains(u.uid),
                None => o.mode != Mode::Print || u.uid <= uid_max as u32,
            })
            .collect(),
    };
    match o.mode {
        Mode::Print => print(applet, o, &source, &users),
        Mode::Set | Mode::Clear => update(applet, o, source, &users),
    }
}

fn update(applet: &str, o: &Options, mut source: Source, users: &[User]) -> i32 {
    let set = (o.mode == Mode::Set).then(|| Record {
        kind: RecordKind::UserProcess,
        line: b"lastlog".to_vec(),
        host: b"localhost".to_vec(),
        time_us: time::now_us().div_euclid(1_000_000) * 1_000_000,
        ..Record::default()
    });
    for user in users {
        if let Err(why) = source.update(user, set.as_ref()) {
            return cli::fail(
                applet,
                format_args!("Failed to update the entry for UID {}: {why}", user.uid),
                1,
            );
        }
    }
    if source.sync().is_err() {
        return cli::fail(applet, "Failed to update the lastlog file", 1);
    }
    0
}

fn print(applet: &str, o: &Options, source: &Source, users: &[User]) -> i32 {
    let now = time::now_us().div_euclid(1_000_000);
    let mut out = cli::Output::new();
    let mut first = true;
    let mut line = Vec::with_capacity(256);
    for user in users {
        let entry = match source.get(user) {
            Ok(entry) => entry,
            Err(e) => {
                let _ = out.flush();
                return cli::fail(
                    applet,
                    format_args!(
                        "Failed to get the entry for UID {}: {}",
                        user.uid,
                        cli::os_reason(&e)
                    ),
                    1,
                );
            }
        };
        let secs = entry.as_ref().map_or(0, Record::time_secs);
        let age = now.wrapping_sub(secs);
        if o.newer.is_some_and(|limit| age > limit) || o.older.is_some_and(|limit| age < limit) {
            continue;
        }
        line.clear();
        let (tty, host) = entry
            .as_ref()
            .map_or((&[][..], &[][..]), |e| (&e.line[..], &e.host[..]));
        if o.json {
            json_row(&mut line, first, user, tty, host, secs);
        } else {
            if first {
                line.extend_from_slice(HEADER);
            }
            text_row(&mut line, user, tty, host, secs);
        }
        first = false;
        if out.write(&line).is_err() {
            break;
        }
    }
    if o.json {
        let _ = out.write(if first { b"[]\n" } else { b"\n]\n" });
    }
    out.finish(applet)
}

fn pad(line: &mut Vec<u8>, field: &[u8], width: usize) {
    let start = line.len();
    escape::careful(field, line);
    let used = line.len() - start;
    line.resize(start + used.max(width), b' ');
}

/// `"%-16s %-8.8s %-42s%s\n"` with the date or `**Never logged in**`.
fn text_row(line: &mut Vec<u8>, user: &User, tty: &[u8], host: &[u8], secs: i64) {
    pad(line, user.name, 16);
    line.push(b' ');
    pad(line, &tty[..tty.len().min(8)], 8);
    line.push(b' ');
    pad(line, host, 42);
    if secs == 0 {
        line.extend_from_slice(b"**Never logged in**");
    } else {
        match time::local(secs) {
            Some(tm) => line.extend_from_slice(&time::strftime(c"%a %b %e %H:%M:%S %z %Y", &tm)),
            None => line.extend_from_slice(b"(unknown)"),
        }
    }
    line.push(b'\n');
}

/// One object of the JSON array; `"login": null` when never logged in.
fn json_row(out: &mut Vec<u8>, first: bool, user: &User, tty: &[u8], host: &[u8], secs: i64) {
    out.extend_from_slice(if first { b"[\n  " } else { b",\n  " });
    out.extend_from_slice(b"{\"user\": ");
    escape::json_string(out, user.name);
    let _ = write!(out, ", \"uid\": {}, \"tty\": ", user.uid);
    escape::json_string(out, tty);
    out.extend_from_slice(b", \"host\": ");
    escape::json_string(out, host);
    out.extend_from_slice(b", \"login\": ");
    if secs == 0 {
        out.extend_from_slice(b"null");
    } else {
        time::json_local(secs, out);
    }
    out.push(b'}');
}
