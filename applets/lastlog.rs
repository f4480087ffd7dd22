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
//! user lookup happens while parsing), so this applet walks the normalised
//! argv itself instead of going through argh.
//!
//! Data: the native lastlog (`$UTMPBOX_LOGDIR/lastlog`, keyed by name) when
//! it exists, else the legacy `/var/log/lastlog` (292 or 296 bytes per uid).
//! With `-R DIR`, every path (passwd, login.defs, both lastlogs) is taken
//! under DIR, as shadow sees them after its chroot.
//!
//! Deliberate differences (docs/COMPAT.md, `## lastlog`): stored line and
//! host bytes and passwd names are printed escaped as util-linux escapes
//! them (shadow prints them raw, so a stored ESC drives the terminal);
//! `-R` reads under DIR without chroot(2), so it needs no privilege, and
//! `-RDIR` works (shadow ignores an attached value); unknown login.defs
//! keys are not reported; `--help` lists `--json`, which is new.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::args::{self, Spec};
use crate::cli;
use crate::escape;
use crate::lastlog_store::{Access, LastlogStore, LegacyLastlog};
use crate::passwd::{self, Passwd, User};
use crate::record::{Record, RecordKind};
use crate::sources::Database;
use crate::time;

const USAGE: &str = "Usage: lastlog [options]

Options:
  -b, --before DAYS             print only lastlog records older than DAYS
  -C, --clear                   clear lastlog record of an user (usable only with -u)
  -h, --help                    display this help message and exit
  -R, --root CHROOT_DIR         directory to chroot into
  -S, --set                     set lastlog record to current time (usable only with -u)
  -t, --time DAYS               print only lastlog records more recent than DAYS
  -u, --user LOGIN              print lastlog record of the specified LOGIN
";
const JSON_HELP: &str = "      --json                    print the records as a JSON array\n";

const SPEC: Spec = Spec {
    short_values: b"bRtu",
    longs: &["before=", "clear", "json", "root=", "set", "time=", "user="],
    number_option: None,
};

const HEADER: &[u8] =
    b"Username         Port     From                                       Latest\n";
const DAY: i64 = 86_400;

/// Which uids `-u` selects (shadow's umin/umax; values as `strtoul` made
/// them, compared after truncation to uid_t as shadow compares them).
#[derive(Clone, Copy, Default)]
struct Range {
    min: Option<u64>,
    max: Option<u64>,
}

impl Range {
    fn single(&self) -> Option<u64> {
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => Some(a),
            _ => None,
        }
    }

    fn contains(&self, uid: u32) -> bool {
        self.min.map_or(true, |m| uid >= m as u32) && self.max.map_or(true, |m| uid <= m as u32)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Print,
    Set,
    Clear,
}

/// Everything argv decides.
struct Options {
    root: Option<PathBuf>,
    /// `-t`: keep entries at most this many seconds old.
    newer: Option<i64>,
    /// `-b`: keep entries at least this many seconds old.
    older: Option<i64>,
    user: Option<Range>,
    mode: Mode,
    json: bool,
    passwd: Passwd,
}

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    match parse(applet, args) {
        Ok(options) => run(applet, &options),
        Err(status) => status,
    }
}

fn err_line(parts: &[&[u8]]) {
    let mut line = Vec::new();
    for part in parts {
        line.extend_from_slice(part);
    }
    line.push(b'\n');
    let _ = std::io::stderr().write_all(&line);
}

/// An error line, then the usage on stderr: exit 1, as shadow's usage().
fn usage_error(applet: &str, message: &[u8]) -> i32 {
    err_line(&[applet.as_bytes(), b": ", message]);
    eprintln!("{USAGE}");
    1
}

enum Token {
    Opt(String, Option<OsString>),
    Operand(OsString),
}

fn parse(applet: &str, raw: &[OsString]) -> Result<Options, i32> {
    let argv = args::normalise(raw, &SPEC).map_err(|m| usage_error(applet, m.as_bytes()))?;
    let mut tokens = Vec::new();
    let mut strings = argv.strings.iter();
    while let Some(s) = strings.next() {
        if s == "--" {
            tokens.extend(strings.by_ref().map(|s| Token::Operand(argv.os(s))));
            break;
        }
        if s.len() > 1 && s.starts_with('-') {
            let takes_value = matches!(
                s.as_str(),
                "-b" | "-R" | "-t" | "-u" | "--before" | "--root" | "--time" | "--user"
            );
            let value = if takes_value {
                strings.next().map(|v| argv.os(v))
            } else {
                None
            };
            tokens.push(Token::Opt(s.clone(), value));
        } else {
            tokens.push(Token::Operand(argv.os(s)));
        }
    }

    // shadow's process_root_flag runs before getopt, so its errors (exit 3)
    // come first wherever -R is.
    let mut root = None;
    for token in &tokens {
        if let Token::Opt(name, value) = token {
            if name == "-R" || name == "--root" {
                if root.is_some() {
                    return Err(cli::fail(applet, "multiple --root options", 3));
                }
                let Some(value) = value else {
                    return Err(cli::fail(
                        applet,
                        format_args!("option '{name}' requires an argument"),
                        3,
                    ));
                };
                root = Some(check_root(applet, value)?);
            }
        }
    }
    let passwd = Passwd::read_or_empty(&in_root(&root, passwd::PATH));

    let mut options = Options {
        root,
        newer: None,
        older: None,
        user: None,
        mode: Mode::Print,
        json: false,
        passwd,
    };
    let (mut clear, mut set) = (false, false);
    let mut operands = Vec::new();
    for token in tokens {
        let (name, value) = match token {
            Token::Operand(operand) => {
                operands.push(operand);
                continue;
            }
            Token::Opt(name, value) => (name, value),
        };
        let long = name.starts_with("--");
        let Some(value) = value.or_else(|| (!needs_value(&name)).then(OsString::new)) else {
            let message = if long {
                format!("option '{name}' requires an argument")
            } else {
                format!("option requires an argument -- '{}'", &name[1..])
            };
            return Err(usage_error(applet, message.as_bytes()));
        };
        let value = value.as_bytes();
        match name.as_str() {
            "-b" | "--before" | "-t" | "--time" => {
                let Some(days) = getulong(value) else {
                    err_line(&[b"lastlog: invalid numeric argument '", value, b"'"]);
                    return Err(1);
                };
                // As shadow: (time_t) days * DAY, wrapping.
                let secs = (days as i64).wrapping_mul(DAY);
                if matches!(name.as_str(), "-b" | "--before") {
                    options.older = Some(secs);
                } else {
                    options.newer = Some(secs);
                }
            }
            "-u" | "--user" => {
                let range = match options.passwd.by_name(value) {
                    Some(user) => Some(Range {
                        min: Some(user.uid as u64),
                        max: Some(user.uid as u64),
                    }),
                    None => getrange(value),
                };
                let Some(range) = range else {
                    err_line(&[b"lastlog: Unknown user or range: ", value]);
                    return Err(1);
                };
                options.user = Some(range);
            }
            "-C" | "--clear" => clear = true,
            "-S" | "--set" => set = true,
            "--json" => options.json = true,
            "-R" | "--root" => {}
            "-h" | "--help" => {
                println!("{USAGE}{JSON_HELP}");
                return Err(0);
            }
            "--version" => {
                cli::print_version(applet);
                return Err(0);
            }
            _ if long => {
                let message = format!("unrecognized option '{name}'");
                return Err(usage_error(applet, message.as_bytes()));
            }
            _ => {
                let message = format!("invalid option -- '{}'", &name[1..]);
                return Err(usage_error(applet, message.as_bytes()));
            }
        }
    }
    if let Some(first) = operands.first() {
        let mut message = b"unexpected argument: ".to_vec();
        message.extend_from_slice(first.as_bytes());
        return Err(usage_error(applet, &message));
    }
    if clear && set {
        return Err(usage_error(
            applet,
            b"Option -C cannot be used together with option -S",
        ));
    }
    if (clear || set) && options.user.is_none() {
        return Err(usage_error(
            applet,
            b"Options -C and -S require option -u to specify the user",
        ));
    }
    options.mode = match (clear, set) {
        (true, _) => Mode::Clear,
        (_, true) => Mode::Set,
        _ => Mode::Print,
    };
    Ok(options)
}

fn needs_value(name: &str) -> bool {
    matches!(
        name,
        "-b" | "-R" | "-t" | "-u" | "--before" | "--root" | "--time" | "--user"
    )
}

/// shadow's process_root_flag checks, without the chroot itself.
fn check_root(applet: &str, dir: &OsString) -> Result<PathBuf, i32> {
    let path = PathBuf::from(dir);
    let shown = path.display();
    if !dir.as_bytes().starts_with(b"/") {
        return Err(cli::fail(
            applet,
            format_args!("invalid chroot path '{shown}', only absolute paths are supported."),
            3,
        ));
    }
    match std::fs::metadata(&path) {
        Err(e) => Err(cli::fail(
            applet,
            format_args!(
                "cannot access chroot directory {shown}: {}",
                cli::os_reason(&e)
            ),
            3,
        )),
        Ok(meta) if !meta.is_dir() => Err(cli::fail(
            applet,
            format_args!("cannot chdir to chroot directory {shown}: Not a directory"),
            3,
        )),
        Ok(_) => Ok(path),
    }
}

/// An absolute path as seen inside the root (`-R`), or as is.
fn in_root(root: &Option<PathBuf>, path: impl AsRef<Path>) -> PathBuf {
    let path = path.as_ref();
    match root {
        Some(root) => root.join(path.strip_prefix("/").unwrap_or(path)),
        None => path.to_path_buf(),
    }
}

/// shadow's getulong: strtoul base 0, the whole string, no overflow.
fn getulong(s: &[u8]) -> Option<u64> {
    let parsed = passwd::strtoul(s, 0);
    (!s.is_empty() && parsed.used == s.len() && !parsed.overflow).then_some(parsed.value)
}

/// shadow's getrange: `N`, `-N`, `N-`, `N-M` (strtoul base 10 pieces).
fn getrange(s: &[u8]) -> Option<Range> {
    if s.first() == Some(&b'-') {
        if !s.get(1).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let n = passwd::strtoul(&s[1..], 10);
        if n.used != s.len() - 1 || n.overflow {
            return None;
        }
        return Some(Range {
            min: None,
            max: Some(n.value),
        });
    }
    let n = passwd::strtoul(s, 10);
    if n.overflow {
        return None;
    }
    let rest = &s[n.used..];
    match rest.first() {
        None => Some(Range {
            min: Some(n.value),
            max: Some(n.value),
        }),
        Some(b'-') if rest.len() == 1 => Some(Range {
            min: Some(n.value),
            max: None,
        }),
        Some(b'-') if rest[1].is_ascii_digit() => {
            let m = passwd::strtoul(&rest[1..], 10);
            if m.used != rest.len() - 1 || m.overflow {
                return None;
            }
            Some(Range {
                min: Some(n.value),
                max: Some(m.value),
            })
        }
        _ => None,
    }
}

/// LASTLOG_UID_MAX as shadow's getdef reads login.defs: the last line
/// naming it wins; a value strtoul cannot take whole is reported (without
/// a newline, as 4.13 does) and the default used.
fn lastlog_uid_max(path: &Path) -> u64 {
    const DEFAULT: u64 = 0xFFFF_FFFF;
    let Ok(text) = std::fs::read(path) else {
        return DEFAULT;
    };
    let mut found: Option<&[u8]> = None;
    for line in text.split(|&b| b == b'\n') {
        let end = line
            .iter()
            .rposition(|&b| !passwd::is_c_space(b))
            .map_or(0, |i| i + 1);
        let line = &line[..end];
        let start = line
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .unwrap_or(line.len());
        let line = &line[start..];
        if line.is_empty() || line[0] == b'#' {
            continue;
        }
        let Some(name_end) = line.iter().position(|&b| b == b' ' || b == b'\t') else {
            continue;
        };
        if &line[..name_end] != b"LASTLOG_UID_MAX" {
            continue;
        }
        let rest = &line[name_end + 1..];
        let skip = rest
            .iter()
            .position(|&b| !matches!(b, b' ' | b'"' | b'\t'))
            .unwrap_or(rest.len());
        let value = &rest[skip..];
        let value = &value[..value.iter().position(|&b| b == b'"').unwrap_or(value.len())];
        found = Some(value);
    }
    let Some(value) = found else {
        return DEFAULT;
    };
    match getulong(value) {
        Some(max) => max,
        None => {
            let mut msg = b"configuration error - cannot parse LASTLOG_UID_MAX value: '".to_vec();
            msg.extend_from_slice(value);
            msg.push(b'\'');
            let _ = std::io::stderr().write_all(&msg);
            DEFAULT
        }
    }
}

/// The open lastlog, whichever kind it is.
enum Source {
    Legacy(LegacyLastlog),
    Native(LastlogStore),
}

impl Source {
    fn get(&self, user: &User) -> std::io::Result<Option<Record>> {
        match self {
            Source::Legacy(file) => file.get(user.uid),
            Source::Native(store) => store.get(user.name),
        }
    }

    fn put(&mut self, user: &User, record: Record) -> std::io::Result<()> {
        match self {
            Source::Legacy(file) => file.put(user.uid, &record),
            Source::Native(store) => {
                let record = Record {
                    kind: RecordKind::UserProcess,
                    user: user.name.to_vec(),
                    ..record
                };
                store.put(&record).map(|_| ())
            }
        }
    }

    fn sync(&self) -> std::io::Result<()> {
        match self {
            Source::Legacy(file) => file.sync(),
            Source::Native(store) => store.sync(),
        }
    }
}

fn run(applet: &str, o: &Options) -> i32 {
    let access = if o.mode == Mode::Print {
        Access::Read
    } else {
        Access::Write
    };
    let native = Database::Lastlog.native_path();
    let native_here = in_root(&o.root, &native);
    let source = if native_here.exists() {
        match LastlogStore::open(&native_here, access) {
            Ok(store) => {
                for slot in store.corrupt() {
                    eprintln!(
                        "{applet}: {}: record {slot} is corrupt (checksum mismatch), skipped",
                        native.display()
                    );
                }
                Source::Native(store)
            }
            Err(e) => {
                let reason = cli::os_reason(&e);
                return cli::fail(applet, format_args!("{}: {reason}", native.display()), 1);
            }
        }
    } else {
        let legacy = Database::Lastlog.legacy_path();
        match LegacyLastlog::open(&in_root(&o.root, legacy), access) {
            Ok(file) => Source::Legacy(file),
            Err(e) => {
                // perror(_PATH_LASTLOG), as shadow.
                eprintln!("{legacy}: {}", cli::os_reason(&e));
                return 1;
            }
        }
    };
    let uid_max = lastlog_uid_max(&in_root(&o.root, "/etc/login.defs"));
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
    let record = if o.mode == Mode::Set {
        Record {
            kind: RecordKind::UserProcess,
            line: b"lastlog".to_vec(),
            host: b"localhost".to_vec(),
            time_us: time::now_us().div_euclid(1_000_000) * 1_000_000,
            ..Record::default()
        }
    } else {
        Record::default()
    };
    for user in users {
        if let Err(e) = source.put(user, record.clone()) {
            return cli::fail(
                applet,
                format_args!(
                    "Failed to update the entry for UID {}: {}",
                    user.uid,
                    cli::os_reason(&e)
                ),
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

/// One object of the JSON array; `"login": null` when never logged in.
fn json_row(out: &mut Vec<u8>, first: bool, user: &User, tty: &[u8], host: &[u8], secs: i64) {
    out.extend_from_slice(if first { b"[\n  " } else { b",\n  " });
    out.extend_from_slice(b"{\"user\": ");
    json_string(out, user.name);
    let _ = write!(out, ", \"uid\": {}, \"tty\": ", user.uid);
    json_string(out, tty);
    out.extend_from_slice(b", \"host\": ");
    json_string(out, host);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Option<(Option<u64>, Option<u64>)> {
        getrange(s.as_bytes()).map(|r| (r.min, r.max))
    }

    #[test]
    fn ranges_as_shadow_getrange() {
        assert_eq!(r("5"), Some((Some(5), Some(5))));
        assert_eq!(r("-5"), Some((None, Some(5))));
        assert_eq!(r("5-"), Some((Some(5), None)));
        assert_eq!(r("5-9"), Some((Some(5), Some(9))));
        assert_eq!(r(""), Some((Some(0), Some(0))));
        assert_eq!(r(" 5"), Some((Some(5), Some(5))));
        for bad in [
            "abc",
            "5-x",
            "-",
            "5--",
            "-5-",
            "1-2-3",
            "1000 ",
            "99999999999999999999",
        ] {
            assert_eq!(r(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_as_shadow_getulong() {
        assert_eq!(getulong(b"0x10"), Some(16));
        assert_eq!(getulong(b"010"), Some(8));
        assert_eq!(getulong(b"-1"), Some(u64::MAX));
        assert_eq!(getulong(b""), None);
        assert_eq!(getulong(b"5x"), None);
    }
}
