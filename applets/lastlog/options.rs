//! lastlog's argv, checked in order as shadow's getopt loop checks it.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::front::cli;
use crate::front::getopt::{self, Error, Item, Table};
use crate::sys::passwd::{self, Passwd};

const DAY: i64 = 86_400;

pub const USAGE: &str = "Usage: lastlog [options]

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

/// shadow's options in shadow's order, then utmpbox's own.
const TABLE: Table = Table {
    shorts: &[
        (b'b', "before"),
        (b'C', "clear"),
        (b'h', "help"),
        (b'R', "root"),
        (b'S', "set"),
        (b't', "time"),
        (b'u', "user"),
    ],
    longs: &[
        ("before", "before"),
        ("clear", "clear"),
        ("help", "help"),
        ("root", "root"),
        ("set", "set"),
        ("time", "time"),
        ("user", "user"),
        ("json", "json"),
        ("version", "version"),
    ],
    with_value: &["before", "root", "time", "user"],
};

/// Which uids `-u` selects (shadow's umin/umax; values as `strtoul` made
/// them, compared after truncation to uid_t as shadow compares them).
#[derive(Clone, Copy, Default)]
pub struct Range {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

impl Range {
    pub fn single(&self) -> Option<u64> {
        match (self.min, self.max) {
            (Some(a), Some(b)) if a == b => Some(a),
            _ => None,
        }
    }

    pub fn contains(&self, uid: u32) -> bool {
        self.min.map_or(true, |m| uid >= m as u32) && self.max.map_or(true, |m| uid <= m as u32)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Print,
    Set,
    Clear,
}

/// Everything argv decides.
pub struct Options {
    /// `-R` was given: the files in that root are used, never a daemon.
    pub rooted: bool,
    /// Prefix for every path under `-R` when not chrooted.
    pub root: Option<PathBuf>,
    /// `-t`: keep entries at most this many seconds old.
    pub newer: Option<i64>,
    /// `-b`: keep entries at least this many seconds old.
    pub older: Option<i64>,
    pub user: Option<Range>,
    pub mode: Mode,
    pub json: bool,
    pub passwd: Passwd,
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
    cli::say(format_args!("{USAGE}"));
    1
}

pub fn parse(applet: &str, raw: &[OsString]) -> Result<Options, i32> {
    let items = getopt::parse(raw, &TABLE);

    // shadow's process_root_flag runs before getopt, so its errors (exit 3)
    // come first wherever -R is.
    let mut root = None;
    for item in &items {
        match item {
            Item::Value("root", _) | Item::Error(Error::ValueRequired("root", _))
                if root.is_some() =>
            {
                return Err(cli::fail(applet, "multiple --root options", 3));
            }
            Item::Value("root", dir) => root = Some(dir),
            Item::Error(Error::ValueRequired("root", name)) => {
                return Err(cli::fail(
                    applet,
                    format_args!("option '{}' requires an argument", name.shown()),
                    3,
                ));
            }
            _ => {}
        }
    }
    let rooted = root.is_some();
    let root = match root {
        Some(dir) => enter_root(applet, dir)?,
        None => None,
    };
    let passwd = Passwd::read_or_empty(&in_root(&root, passwd::PATH));

    let mut options = Options {
        rooted,
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
    for item in items {
        let (key, value) = match item {
            Item::Operand(operand) => {
                operands.push(operand);
                continue;
            }
            Item::Error(error) => return Err(usage_error(applet, &error.message())),
            Item::Opt(key) => (key, OsString::new()),
            Item::Value(key, value) => (key, value),
        };
        let value = value.as_bytes();
        match key {
            "before" | "time" => {
                let Some(days) = getulong(value) else {
                    err_line(&[b"lastlog: invalid numeric argument '", value, b"'"]);
                    return Err(1);
                };
                // As shadow: (time_t) days * DAY, wrapping.
                let secs = (days as i64).wrapping_mul(DAY);
                if key == "before" {
                    options.older = Some(secs);
                } else {
                    options.newer = Some(secs);
                }
            }
            "user" => {
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
            "clear" => clear = true,
            "set" => set = true,
            "json" => options.json = true,
            "root" => {}
            "help" => {
                let text = format!("{USAGE}{JSON_HELP}\n");
                return Err(cli::print_all(applet, text.as_bytes()));
            }
            _ => return Err(cli::print_version(applet)),
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

/// shadow's process_root_flag after its scan: the same checks and
/// messages (exit 3), then chroot(2) and chdir("/") as shadow does, so no
/// path (an absolute symlink included) resolves outside DIR. Without the
/// privilege to chroot, the files are read under DIR instead: the
/// returned prefix, None once chrooted.
fn enter_root(applet: &str, dir: &OsString) -> Result<Option<PathBuf>, i32> {
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
        Err(e) => {
            return Err(cli::fail(
                applet,
                format_args!(
                    "cannot access chroot directory {shown}: {}",
                    cli::os_reason(&e)
                ),
                3,
            ))
        }
        Ok(meta) if !meta.is_dir() => {
            return Err(cli::fail(
                applet,
                format_args!("cannot chdir to chroot directory {shown}: Not a directory"),
                3,
            ))
        }
        Ok(_) => {}
    }
    match nix::unistd::chroot(&path).and_then(|()| nix::unistd::chdir("/")) {
        Ok(()) => Ok(None),
        Err(nix::errno::Errno::EPERM) => Ok(Some(path)),
        // libc's wording, as every other message: nix's own errno table
        // (Errno::desc) would cost the tiny build 7 KB for this one line.
        Err(e) => Err(cli::fail(
            applet,
            format_args!(
                "unable to chroot to directory {shown}: {}",
                cli::os_reason(&e.into())
            ),
            3,
        )),
    }
}

/// An absolute path as seen inside the root (`-R`), or as is.
pub fn in_root(root: &Option<PathBuf>, path: impl AsRef<Path>) -> PathBuf {
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
