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
//! glibc-style `src/getopt.rs`, not argh.
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

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;

use crate::cli;
use crate::client::{self, Client};
use crate::escape;
use crate::lastlog_store::{Access, LastlogStore, LegacyLastlog};
use crate::logindefs::LoginDefs;
use crate::passwd::User;
use crate::record::{Record, RecordKind};
use crate::sources::{self, Database};
use crate::time;

#[path = "lastlog/options.rs"]
mod options;

use options::{in_root, Mode, Options};

const HEADER: &[u8] =
    b"Username         Port     From                                       Latest\n";

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    match options::parse(applet, args) {
        Ok(options) => run(applet, &options),
        Err(status) => status,
    }
}

/// The open lastlog, whichever kind it is.
enum Source {
    /// wtmpd answered: `-S`/`-C` go to it; to print, its list by name
    /// (left empty when updating).
    Daemon(Client, HashMap<Vec<u8>, Record>),
    Legacy(LegacyLastlog),
    Native(LastlogStore),
}

impl Source {
    fn get(&self, user: &User) -> std::io::Result<Option<Record>> {
        match self {
            Source::Daemon(_, entries) => Ok(entries.get(user.name).cloned()),
            Source::Legacy(file) => file.get(user.uid),
            Source::Native(store) => store.get(user.name),
        }
    }

    /// Set (`Some`, the entry to store) or clear (`None`) `user`'s entry.
    fn update(&mut self, user: &User, set: Option<&Record>) -> Result<(), String> {
        let named = |record: &Record| Record {
            kind: RecordKind::UserProcess,
            user: user.name.to_vec(),
            ..record.clone()
        };
        match (self, set) {
            (Source::Daemon(client, _), Some(record)) => client
                .lastlog_set(&named(record))
                .map_err(|e| e.to_string()),
            (Source::Daemon(client, _), None) => {
                client.lastlog_clear(user.name).map_err(|e| e.to_string())
            }
            // shadow's -C writes a zero entry.
            (Source::Legacy(file), record) => file
                .put(user.uid, record.unwrap_or(&Record::default()))
                .map_err(|e| cli::os_reason(&e)),
            (Source::Native(store), Some(record)) => store
                .put(&named(record))
                .map(drop)
                .map_err(|e| cli::os_reason(&e)),
            (Source::Native(store), None) => store
                .clear(user.name)
                .map(drop)
                .map_err(|e| cli::os_reason(&e)),
        }
    }

    fn sync(&mut self) -> std::io::Result<()> {
        match self {
            // wtmpd acknowledged each change once it was synced.
            Source::Daemon(..) => Ok(()),
            Source::Legacy(file) => file.sync(),
            Source::Native(store) => store.sync(),
        }
    }
}

/// wtmpd, when it answers within the deadline: for printing, with its
/// list. Ok(None) when no daemon answers (absent, hung, broken): the
/// files are read then, as `sources::load_default` does. A refusal stands.
fn from_daemon(mode: Mode) -> Result<Option<Source>, client::Error> {
    let Ok(mut client) = Client::wtmpd(sources::DAEMON_DEADLINE) else {
        return Ok(None);
    };
    if mode != Mode::Print {
        return Ok(Some(Source::Daemon(client, HashMap::new())));
    }
    match client.lastlog_list() {
        Ok((_, records)) => {
            let mut entries = HashMap::with_capacity(records.len());
            for record in records {
                entries.entry(record.user.clone()).or_insert(record);
            }
            Ok(Some(Source::Daemon(client, entries)))
        }
        Err(e @ client::Error::Refused { .. }) => Err(e),
        Err(_) => Ok(None),
    }
}

/// The lastlog files: the native one when it exists, else the legacy one.
fn from_files(applet: &str, o: &Options) -> Result<Source, i32> {
    let access = if o.mode == Mode::Print {
        Access::Read
    } else {
        Access::Write
    };
    let native = Database::Lastlog.native_path();
    let native_here = in_root(&o.root, &native);
    if native_here.exists() {
        match LastlogStore::open(&native_here, access) {
            Ok(store) => {
                for slot in store.corrupt() {
                    eprintln!(
                        "{applet}: {}: record {slot} is corrupt (checksum mismatch), skipped",
                        native.display()
                    );
                }
                Ok(Source::Native(store))
            }
            Err(e) => {
                let reason = cli::os_reason(&e);
                Err(cli::fail(
                    applet,
                    format_args!("{}: {reason}", native.display()),
                    1,
                ))
            }
        }
    } else {
        let legacy = Database::Lastlog.legacy_path();
        match LegacyLastlog::open(&in_root(&o.root, legacy), access) {
            Ok(file) => Ok(Source::Legacy(file)),
            // A FIFO or a device in its place: refused, not read.
            Err(e) if crate::infile::is_not_regular(&e) => {
                Err(cli::fail(applet, format_args!("{legacy}: {e}"), 1))
            }
            Err(e) => {
                // perror(_PATH_LASTLOG), as shadow.
                eprintln!("{legacy}: {}", cli::os_reason(&e));
                Err(1)
            }
        }
    }
}

fn run(applet: &str, o: &Options) -> i32 {
    // With -R the files in that root are the data: no daemon serves them.
    let daemon = if o.rooted {
        Ok(None)
    } else {
        from_daemon(o.mode)
    };
    let source = match daemon {
        Ok(Some(source)) => source,
        Ok(None) => match from_files(applet, o) {
            Ok(source) => source,
            Err(status) => return status,
        },
        Err(e) => return cli::fail(applet, format_args!("wtmpd: {e}"), 1),
    };
    // LASTLOG_UID_MAX is read after the file is opened, as shadow reads it.
    let defs = LoginDefs::read(&in_root(&o.root, crate::logindefs::PATH));
    let uid_max = defs.get_ulong("LASTLOG_UID_MAX", 0xFFFF_FFFF);
    let range = o.user.unwrap_or_default();
    if range.min.is_some_and(|m| m > uid_max) || range.max.is_some_and(|m| m > uid_max) {
        let tail = if o.mode == Mode::Print {
            "the output might be incorrect."
        } else {
            "they will not be updated."
        };
        eprint!(
            "{applet}: Selected uid(s) are higher than LASTLOG_UID_MAX ({uid_max}),\n\t{tail}\n"
        );
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
    match time::local(secs).filter(|_| secs != 0) {
        Some(tm) => {
            out.push(b'"');
            out.extend_from_slice(&time::strftime(c"%Y-%m-%dT%H:%M:%S", &tm));
            time::iso_offset(tm.tm_gmtoff, out);
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}
