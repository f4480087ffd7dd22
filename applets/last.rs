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
//! options with its exact messages), which the option-table front end (`front::table`)
//! cannot reproduce, so it reads argv through `src/front/getopt.rs`.
//!
//! Deliberate differences (docs/COMPAT.md, `## last`): a file whose size
//! is not a whole number of records is read up to the last whole record
//! with a warning (2.38.1 prints nothing); a boot followed by another boot
//! before the next shutdown ends in `- crash` (util-linux 2.40); `-V`
//! names utmpbox; a file that is not a regular one (a pipe, a FIFO, a
//! device) is refused; `--json` is new.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::front::cli;
use crate::front::getopt::{self, Item, Table};
use crate::read::sources::Database;

mod bufout;
mod clock;
#[path = "last/report.rs"]
mod report;
mod timeparse;

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

/// util-linux's options. The order of the long names decides how an
/// ambiguous abbreviation lists them; each digit is an option of its own
/// (`-<number>`: `-1 -2` is 12, `-5x` is 5 and -x).
const TABLE: Table = Table {
    shorts: &[
        (b'h', "help"),
        (b'V', "version"),
        (b'f', "file"),
        (b'n', "limit"),
        (b'R', "nohostname"),
        (b'x', "system"),
        (b'a', "hostlast"),
        (b'd', "dns"),
        (b'F', "fulltimes"),
        (b'i', "ip"),
        (b't', "until"),
        (b'p', "present"),
        (b's', "since"),
        (b'w', "fullnames"),
        (b'0', "0"),
        (b'1', "1"),
        (b'2', "2"),
        (b'3', "3"),
        (b'4', "4"),
        (b'5', "5"),
        (b'6', "6"),
        (b'7', "7"),
        (b'8', "8"),
        (b'9', "9"),
    ],
    longs: &[
        ("limit", "limit"),
        ("help", "help"),
        ("file", "file"),
        ("nohostname", "nohostname"),
        ("version", "version"),
        ("hostlast", "hostlast"),
        ("since", "since"),
        ("until", "until"),
        ("present", "present"),
        ("system", "system"),
        ("dns", "dns"),
        ("ip", "ip"),
        ("fulltimes", "fulltimes"),
        ("fullnames", "fullnames"),
        ("time-format", "time-format"),
        ("json", "json"),
    ],
    with_value: &["file", "limit", "since", "until", "present", "time-format"],
};

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
    let mut seen_exclusive = None;
    // Each option acts as getopt hands it over, so an earlier --help or a
    // bad value wins over a later error.
    for item in getopt::parse(args, &TABLE) {
        match item {
            Item::Opt(key) => apply(applet, &mut o, &mut seen_exclusive, key, b"")?,
            Item::Value(key, value) => {
                apply(applet, &mut o, &mut seen_exclusive, key, value.as_bytes())?
            }
            Item::Operand(operand) => o.show.push(operand.into_vec()),
            Item::Error(error) => return Err(getopt::usage_error(applet, &error)),
        }
    }
    Ok(o)
}

fn apply(
    applet: &str,
    o: &mut Options,
    seen_exclusive: &mut Option<&'static str>,
    key: &'static str,
    value: &[u8],
) -> Result<(), i32> {
    // util-linux's err_exclusive_options: -F and --time-format.
    if key == "fulltimes" || key == "time-format" {
        match *seen_exclusive {
            Some(first) if first != key => {
                cli::say(format_args!(
                    "{applet}: mutually exclusive arguments: --fulltimes --time-format"
                ));
                return Err(1);
            }
            _ => *seen_exclusive = Some(key),
        }
    }
    match key {
        "help" => return Err(print_usage(applet, o.lastb)),
        "version" => return Err(cli::print_version(applet)),
        "nohostname" => o.showhost = false,
        "system" => o.extended = true,
        "limit" => o.maxrecs = parse_number(applet, value)? as u32,
        "file" => o.files.push(OsStr::from_bytes(value).to_owned()),
        "dns" => o.usedns = true,
        "ip" => o.useip = true,
        "hostlast" => o.altlist = true,
        "fulltimes" => o.time_format = TimeFormat::Full,
        "present" | "since" | "until" => {
            let now = crate::sys::time::now_us().div_euclid(1_000_000);
            let Some(usec) = timeparse::parse_timestamp(value, now) else {
                cli::say(format_args!(
                    "{applet}: invalid time value \"{}\"",
                    String::from_utf8_lossy(value)
                ));
                return Err(1);
            };
            let secs = (usec / 1_000_000) as i64;
            match key {
                "present" => o.present = secs,
                "since" => o.since = secs,
                _ => o.until = secs,
            }
        }
        "fullnames" => {
            o.name_len = o.name_len.max(32);
            o.domain_len = o.domain_len.max(256);
        }
        "time-format" => {
            o.time_format = match value {
                b"notime" => TimeFormat::NoTime,
                b"short" => TimeFormat::Short,
                b"full" => TimeFormat::Full,
                b"iso" => TimeFormat::Iso,
                _ => {
                    cli::say(format_args!(
                        "{applet}: unknown time format: {}",
                        String::from_utf8_lossy(value)
                    ));
                    return Err(1);
                }
            }
        }
        "json" => o.json = true,
        digit => {
            // -0 .. -9: getopt hands the digits of -<number> over one by one.
            let d = digit.as_bytes().first().map_or(0, |d| d.wrapping_sub(b'0'));
            o.maxrecs = o.maxrecs.wrapping_mul(10).wrapping_add(d as u32)
        }
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
        cli::say(format_args!("{applet}: failed to parse number: '{shown}'"));
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
        cli::say(format_args!(
            "{applet}: failed to parse number: '{shown}': Numerical result out of range"
        ));
        return Err(1);
    }
    Ok(value as i32)
}

fn print_usage(applet: &str, lastb: bool) -> i32 {
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
    cli::print_all(applet, text.as_bytes())
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
