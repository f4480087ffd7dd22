//! last, lastb: show a listing of last logged in users (or, as lastb,
//! of failed logins).
//!
//! ```text
//! Usage:
//!  last [options] [<username>...] [<tty>...]
//!
//! Options:
//!  -<number>            how many lines to show
//!  -a, --hostlast       display hostnames in the last column
//!  -d, --dns            translate the IP number back into a hostname
//!  -f, --file <file>    use a specific file instead of /var/log/wtmp
//!  -F, --fulltimes      print full login and logout times and dates
//!  -i, --ip             display IP numbers in numbers-and-dots notation
//!  -n, --limit <number> how many lines to show
//!  -R, --nohostname     don't display the hostname field
//!  -s, --since <time>   display the lines since the specified time
//!  -t, --until <time>   display the lines until the specified time
//!  -p, --present <time> display who were present at the specified time
//!  -w, --fullnames      display full user and domain names
//!  -x, --system         display system shutdown entries and run level changes
//!      --time-format <format>  notime|short|full|iso
//!      --json           print the entries as a JSON array
//! ```
//!
//! Peer: util-linux 2.38.1 `last`/`lastb`, byte for byte (same options,
//! error messages, exit codes, pairing of logins, logouts, boots,
//! shutdowns, crashes, run levels and clock changes, and `gone - no
//! logout` detection). Options are parsed as glibc `getopt_long` does
//! (permuted operands, `-5x` adding digits to the limit, abbreviated long
//! options with its exact messages), which the shared argh front end
//! cannot reproduce, so this applet walks argv itself.
//!
//! Deliberate differences (docs/COMPAT.md, `## last`): a file whose size
//! is not a whole number of records is read up to the last whole record
//! with a warning (2.38.1 prints nothing); a boot followed by another boot
//! before the next shutdown ends in `- crash` (util-linux 2.40); `-V`
//! names utmpbox; a pipe is read whole; `--json` is new.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::cli;
use crate::sources::{self, Database};
use crate::timeparse;

#[path = "last/report.rs"]
mod report;

/// How times are printed (`--time-format`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimeFormat {
    NoTime,
    Short,
    Full,
    Iso,
}

/// Everything argv decides, before any file is read.
pub struct Options {
    pub lastb: bool,
    pub extended: bool,
    pub showhost: bool,
    pub altlist: bool,
    pub usedns: bool,
    pub useip: bool,
    pub name_len: usize,
    pub domain_len: usize,
    pub maxrecs: u32,
    pub show: Vec<Vec<u8>>,
    pub since: i64,
    pub until: i64,
    pub present: i64,
    pub time_format: TimeFormat,
    pub json: bool,
    pub files: Vec<OsString>,
}

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    match parse(applet, args) {
        Ok(options) => report::run(applet, &options),
        Err(status) => status,
    }
}

/// (long name, takes a value, short equivalent) in util-linux's order,
/// which decides how ambiguous abbreviations are listed.
const LONGS: &[(&str, bool, u8)] = &[
    ("limit", true, b'n'),
    ("help", false, b'h'),
    ("file", true, b'f'),
    ("nohostname", false, b'R'),
    ("version", false, b'V'),
    ("hostlast", false, b'a'),
    ("since", true, b's'),
    ("until", true, b't'),
    ("present", true, b'p'),
    ("system", false, b'x'),
    ("dns", false, b'd'),
    ("ip", false, b'i'),
    ("fulltimes", false, b'F'),
    ("fullnames", false, b'w'),
    ("time-format", true, TIME_FORMAT),
    ("json", false, JSON),
];
const TIME_FORMAT: u8 = 0x80;
const JSON: u8 = 0x81;
const SHORTS: &[u8] = b"hVRxadFiw0123456789";
const SHORTS_WITH_VALUE: &[u8] = b"fntps";

fn usage_error(applet: &str, message: &str) -> i32 {
    eprintln!("{applet}: {message}");
    eprintln!("Try '{applet} --help' for more information.");
    1
}

fn parse(applet: &str, args: &[OsString]) -> Result<Options, i32> {
    let mut o = Options {
        lastb: applet == "lastb",
        extended: false,
        showhost: true,
        altlist: false,
        usedns: false,
        useip: false,
        name_len: 8,
        domain_len: 16,
        maxrecs: 0,
        show: Vec::new(),
        since: 0,
        until: 0,
        present: 0,
        time_format: TimeFormat::Short,
        json: false,
        files: Vec::new(),
    };
    let mut seen_exclusive: Option<u8> = None;
    let posixly_correct = std::env::var_os("POSIXLY_CORRECT").is_some();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_bytes();
        i += 1;
        if arg == b"--" {
            o.show
                .extend(args[i..].iter().map(|a| a.as_bytes().to_vec()));
            break;
        }
        if let Some(long) = arg.strip_prefix(b"--") {
            let (name, inline) = match long.iter().position(|&b| b == b'=') {
                Some(eq) => (&long[..eq], Some(&long[eq + 1..])),
                None => (long, None),
            };
            let (full, takes, code) = match find_long(name) {
                Ok(found) => found,
                Err(Some(candidates)) => {
                    let msg = format!(
                        "option '{}' is ambiguous; possibilities:{}",
                        String::from_utf8_lossy(arg),
                        candidates
                    );
                    return Err(usage_error(applet, &msg));
                }
                Err(None) => {
                    let msg = format!("unrecognized option '{}'", String::from_utf8_lossy(arg));
                    return Err(usage_error(applet, &msg));
                }
            };
            let value = match (takes, inline) {
                (false, Some(_)) => {
                    let msg = format!("option '--{full}' doesn't allow an argument");
                    return Err(usage_error(applet, &msg));
                }
                (false, None) => None,
                (true, Some(v)) => Some(v.to_vec()),
                (true, None) => match args.get(i) {
                    Some(v) => {
                        i += 1;
                        Some(v.as_bytes().to_vec())
                    }
                    None => {
                        let msg = format!("option '--{full}' requires an argument");
                        return Err(usage_error(applet, &msg));
                    }
                },
            };
            apply(applet, &mut o, &mut seen_exclusive, code, value)?;
            continue;
        }
        if arg.len() < 2 || arg[0] != b'-' {
            // glibc getopt permutes operands to the end, unless
            // POSIXLY_CORRECT asks it to stop at the first one.
            if posixly_correct {
                o.show
                    .extend(args[i - 1..].iter().map(|a| a.as_bytes().to_vec()));
                break;
            }
            o.show.push(arg.to_vec());
            continue;
        }
        let mut k = 1;
        while k < arg.len() {
            let c = arg[k];
            k += 1;
            if SHORTS_WITH_VALUE.contains(&c) {
                let value = if k < arg.len() {
                    let v = arg[k..].to_vec();
                    k = arg.len();
                    v
                } else if let Some(v) = args.get(i) {
                    i += 1;
                    v.as_bytes().to_vec()
                } else {
                    let msg = format!("option requires an argument -- '{}'", c as char);
                    return Err(usage_error(applet, &msg));
                };
                apply(applet, &mut o, &mut seen_exclusive, c, Some(value))?;
            } else if SHORTS.contains(&c) {
                apply(applet, &mut o, &mut seen_exclusive, c, None)?;
            } else {
                // The byte as it came, as getopt prints it.
                use std::io::Write;
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(format!("{applet}: invalid option -- '").as_bytes());
                let _ = err.write_all(&[c]);
                let _ = err.write_all(
                    format!("'\nTry '{applet} --help' for more information.\n").as_bytes(),
                );
                return Err(1);
            }
        }
    }
    Ok(o)
}

/// getopt_long's lookup: an exact name, else a unique prefix. Err(Some)
/// carries the candidate list of an ambiguous prefix, Err(None) means
/// no match.
fn find_long(name: &[u8]) -> Result<(&'static str, bool, u8), Option<String>> {
    if let Some(&(full, takes, code)) = LONGS.iter().find(|(l, _, _)| l.as_bytes() == name) {
        return Ok((full, takes, code));
    }
    let matches: Vec<_> = LONGS
        .iter()
        .filter(|(l, _, _)| l.as_bytes().starts_with(name))
        .collect();
    match matches.as_slice() {
        [] => Err(None),
        [&(full, takes, code)] => Ok((full, takes, code)),
        many => Err(Some(
            many.iter().map(|(l, _, _)| format!(" '--{l}'")).collect(),
        )),
    }
}

fn apply(
    applet: &str,
    o: &mut Options,
    seen_exclusive: &mut Option<u8>,
    code: u8,
    value: Option<Vec<u8>>,
) -> Result<(), i32> {
    // util-linux's err_exclusive_options: -F and --time-format.
    if code == b'F' || code == TIME_FORMAT {
        match *seen_exclusive {
            Some(first) if first != code => {
                eprintln!("{applet}: mutually exclusive arguments: --fulltimes --time-format");
                return Err(1);
            }
            _ => *seen_exclusive = Some(code),
        }
    }
    let value = value.unwrap_or_default();
    match code {
        b'h' => {
            print_usage(applet, o.lastb);
            return Err(0);
        }
        b'V' => {
            cli::print_version(applet);
            return Err(0);
        }
        b'R' => o.showhost = false,
        b'x' => o.extended = true,
        b'n' => o.maxrecs = parse_number(applet, &value)? as u32,
        b'f' => o.files.push(OsString::from_vec(value)),
        b'd' => o.usedns = true,
        b'i' => o.useip = true,
        b'a' => o.altlist = true,
        b'F' => o.time_format = TimeFormat::Full,
        b'p' | b's' | b't' => {
            let now = crate::time::now_us().div_euclid(1_000_000);
            let Some(usec) = timeparse::parse_timestamp(&value, now) else {
                eprintln!(
                    "{applet}: invalid time value \"{}\"",
                    String::from_utf8_lossy(&value)
                );
                return Err(1);
            };
            let secs = (usec / 1_000_000) as i64;
            match code {
                b'p' => o.present = secs,
                b's' => o.since = secs,
                _ => o.until = secs,
            }
        }
        b'w' => {
            o.name_len = o.name_len.max(32);
            o.domain_len = o.domain_len.max(256);
        }
        b'0'..=b'9' => {
            o.maxrecs = o
                .maxrecs
                .wrapping_mul(10)
                .wrapping_add((code - b'0') as u32)
        }
        TIME_FORMAT => {
            o.time_format = match &value[..] {
                b"notime" => TimeFormat::NoTime,
                b"short" => TimeFormat::Short,
                b"full" => TimeFormat::Full,
                b"iso" => TimeFormat::Iso,
                _ => {
                    eprintln!(
                        "{applet}: unknown time format: {}",
                        String::from_utf8_lossy(&value)
                    );
                    return Err(1);
                }
            }
        }
        _ => o.json = true,
    }
    Ok(())
}

/// util-linux `strtos32_or_err`: decimal with optional white space and
/// sign, the whole string, within i32.
fn parse_number(applet: &str, text: &[u8]) -> Result<i32, i32> {
    let shown = String::from_utf8_lossy(text);
    let trimmed: &[u8] = {
        let start = text
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
            .unwrap_or(text.len());
        &text[start..]
    };
    let (negative, digits) = match trimmed.first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        eprintln!("{applet}: failed to parse number: '{shown}'");
        return Err(1);
    }
    let mut value: i64 = 0;
    for &d in digits {
        value = value.saturating_mul(10).saturating_add((d - b'0') as i64);
    }
    if negative {
        value = -value;
    }
    if value < i32::MIN as i64 || value > i32::MAX as i64 {
        eprintln!("{applet}: failed to parse number: '{shown}': Numerical result out of range");
        return Err(1);
    }
    Ok(value as i32)
}

fn print_usage(applet: &str, lastb: bool) {
    let file = if lastb {
        Database::Btmp.legacy_path()
    } else {
        Database::Wtmp.legacy_path()
    };
    let text = format!(
        "
Usage:
 {applet} [options] [<username>...] [<tty>...]

Show a listing of last logged in users.

Options:
 -<number>            how many lines to show
 -a, --hostlast       display hostnames in the last column
 -d, --dns            translate the IP number back into a hostname
 -f, --file <file>    use a specific file instead of {file}
 -F, --fulltimes      print full login and logout times and dates
 -i, --ip             display IP numbers in numbers-and-dots notation
 -n, --limit <number> how many lines to show
 -R, --nohostname     don't display the hostname field
 -s, --since <time>   display the lines since the specified time
 -t, --until <time>   display the lines until the specified time
 -p, --present <time> display who were present at the specified time
 -w, --fullnames      display full user and domain names
 -x, --system         display system shutdown entries and run level changes
     --time-format <format>  show timestamps in the specified <format>:
                               notime|short|full|iso
     --json           print the entries as a JSON array

 -h, --help           display this help
 -V, --version        display version

For more details see last(1).
"
    );
    let mut out = cli::Output::new();
    let _ = out.write(text.as_bytes());
    let _ = out.finish(applet);
}

/// Where the records of one listing come from.
pub enum Input {
    Default(Database),
    File(OsString),
}

impl Options {
    pub fn inputs(&self) -> Vec<Input> {
        if self.files.is_empty() {
            let db = if self.lastb {
                Database::Btmp
            } else {
                Database::Wtmp
            };
            vec![Input::Default(db)]
        } else {
            self.files.iter().cloned().map(Input::File).collect()
        }
    }
}

/// The default source, through the one entry point readers use.
pub fn load_default(db: Database) -> std::io::Result<sources::Loaded> {
    sources::load_default(db)
}
