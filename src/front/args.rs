//! The argument normaliser run before `table::walk`.
//!
//! `table::walk` (argh's rules, which it replaced) compares each argument
//! whole against its option table, and works on strings. Users type `who -aH`, `last -n10`, `last -10`,
//! `--limit=10`, `who --c` and file names in any encoding. This rewrites
//! argv into the one-option-per-argument form the walk understands, from a small
//! per-applet table of which options take values.
//!
//! An argument that is not UTF-8 is carried through the walk as a stand-in:
//! a NUL, its bytes in hex, a NUL. No real argument can contain a NUL, so
//! the stand-in is unambiguous and decodes without any table: an applet
//! takes a path, user, line or host as [`OsArg`] and gets the original
//! bytes, and a message that
//! quotes a value shows its bytes ([`shown`]), never the stand-in.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::front::table::{Kind, Opt};

/// argv rewritten for `table::walk`.
#[derive(Debug)]
pub struct Args {
    pub strings: Vec<String>,
    /// `--version` or `-V` was given as an option (not as a value, not
    /// after `--`).
    pub version: bool,
}

/// An argument taken as the bytes the user gave (a path, user, line or
/// host): the stand-in of a non-UTF-8 one decoded back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsArg(pub OsString);

impl OsArg {
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<OsArg> for std::path::PathBuf {
    fn from(arg: OsArg) -> std::path::PathBuf {
        arg.0.into()
    }
}

/// A normalised argument as the user's bytes.
pub fn decode_arg(value: &str) -> OsArg {
    OsArg(decode(value))
}

/// Whether `value` is the stand-in of a non-UTF-8 argument: a value that
/// must be UTF-8 (a name looked up as a C string) is refused then.
pub fn is_stand_in(value: &str) -> bool {
    stand_in(value).is_some()
}

/// The stand-in for a non-UTF-8 argument.
fn encode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(2 * bytes.len() + 2);
    text.push('\0');
    for b in bytes {
        text.push_str(&format!("{b:02x}"));
    }
    text.push('\0');
    text
}

/// The stand-in's bytes, or `value` itself when it is not one.
fn decode(value: &str) -> OsString {
    match stand_in(value) {
        Some((bytes, rest)) if rest.is_empty() => OsString::from_vec(bytes),
        _ => OsString::from(value),
    }
}

/// A stand-in at the start of `text`: its bytes and what follows it.
fn stand_in(text: &str) -> Option<(Vec<u8>, &str)> {
    let body = text.strip_prefix('\0')?;
    let end = body.find('\0')?;
    let hex = &body[..end];
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some((bytes, &body[end + 1..]))
}

/// `text` (a usage message) with every stand-in shown as its bytes,
/// invalid UTF-8 replaced as `String::from_utf8_lossy` does.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\0') {
        out.push_str(&rest[..at]);
        match stand_in(&rest[at..]) {
            Some((bytes, after)) => {
                out.push_str(&String::from_utf8_lossy(&bytes));
                rest = after;
            }
            None => {
                out.push('?');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Rewrite `args` (without argv[0]) for `table::walk`. The error is a one-line
/// message for `applet: ...`.
pub fn normalise(args: &[OsString], options: &[Opt]) -> Result<Args, String> {
    let mut out = Args {
        strings: Vec::with_capacity(args.len()),
        version: false,
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let bytes = arg.as_bytes();
        if bytes == b"--" {
            out.strings.push("--".into());
            for rest in iter.by_ref() {
                out.push_verbatim(rest);
            }
            break;
        }
        if let Some(long) = bytes.strip_prefix(b"--") {
            let (name, value) = match long.iter().position(|&b| b == b'=') {
                Some(eq) => (&long[..eq], Some(&long[eq + 1..])),
                None => (long, None),
            };
            let name = std::str::from_utf8(name)
                .map_err(|_| format!("unrecognized option '{}'", arg.to_string_lossy()))?;
            let (name, takes_value) = expand_long(name, options)?;
            out.version |= name == "version";
            out.strings.push(format!("--{name}"));
            match value {
                Some(value) => out.push_verbatim(OsStr::from_bytes(value)),
                None if takes_value => {
                    // The value is taken whole, even if it starts with '-'.
                    if let Some(value) = iter.next() {
                        out.push_verbatim(value);
                    }
                }
                None => {}
            }
            continue;
        }
        if bytes.len() > 1 && bytes[0] == b'-' {
            let group = &bytes[1..];
            for (i, &c) in group.iter().enumerate() {
                if !c.is_ascii() {
                    return Err(format!(
                        "invalid option -- '{}'",
                        String::from_utf8_lossy(&group[i..])
                    ));
                }
                out.strings.push(format!("-{}", c as char));
                out.version |= c == b'V';
                if options
                    .iter()
                    .any(|o| o.short == c && o.kind != Kind::Switch)
                {
                    let rest = &group[i + 1..];
                    if !rest.is_empty() {
                        out.push_verbatim(OsStr::from_bytes(rest));
                    } else if let Some(value) = iter.next() {
                        // The value is taken whole, even if it starts with '-'.
                        out.push_verbatim(value);
                    }
                    break;
                }
            }
            continue;
        }
        out.push_verbatim(arg);
    }
    Ok(out)
}

impl Args {
    fn push_verbatim(&mut self, arg: &OsStr) {
        match arg.to_str() {
            Some(s) if !s.starts_with('\0') => self.strings.push(s.to_owned()),
            _ => self.strings.push(encode(arg.as_bytes())),
        }
    }
}

/// `--c` to `--count` when exactly one long option starts with `c`; also
/// says whether the option takes a value.
fn expand_long<'a>(name: &'a str, options: &'a [Opt]) -> Result<(&'a str, bool), String> {
    let all = || {
        options
            .iter()
            .map(|o| (o.long, o.kind != Kind::Switch))
            .chain([("help", false), ("version", false)])
    };
    if let Some(exact) = all().find(|(long, _)| *long == name) {
        return Ok(exact);
    }
    let mut matches = all().filter(|(long, _)| !name.is_empty() && long.starts_with(name));
    match (matches.next(), matches.next()) {
        (Some(only), None) => Ok(only),
        (Some(_), Some(_)) => Err(format!("option '--{name}' is ambiguous")),
        _ => Ok((name, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    const fn opt(long: &'static str, short: u8, kind: Kind) -> Opt {
        Opt {
            long,
            short,
            kind,
            help: "",
        }
    }

    const LAST: &[Opt] = &[
        opt("file", b'f', Kind::Bytes),
        opt("limit", b'n', Kind::Usize),
        opt("present", b'p', Kind::Word),
        opt("since", b's', Kind::Word),
        opt("until", b't', Kind::Word),
        opt("system", b'x', Kind::Switch),
        opt("fullnames", b'w', Kind::Switch),
        opt("time-format", 0, Kind::Word),
    ];
    const WHO: &[Opt] = &[
        opt("all", b'a', Kind::Switch),
        opt("boot", b'b', Kind::Switch),
        opt("count", b'q', Kind::Switch),
        opt("dead", b'd', Kind::Switch),
        opt("heading", b'H', Kind::Switch),
        opt("ips", 0, Kind::Switch),
        opt("login", b'l', Kind::Switch),
        opt("lookup", 0, Kind::Switch),
    ];

    fn norm(args: &[&str], options: &[Opt]) -> Vec<String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        normalise(&args, options).unwrap().strings
    }

    #[test]
    fn grouped_switches_split() {
        assert_eq!(norm(&["-aH"], WHO), ["-a", "-H"]);
        assert_eq!(norm(&["-a", "-H", "file"], WHO), ["-a", "-H", "file"]);
    }

    #[test]
    fn attached_values_split() {
        assert_eq!(norm(&["-n10"], LAST), ["-n", "10"]);
        assert_eq!(norm(&["-xn10"], LAST), ["-x", "-n", "10"]);
        assert_eq!(norm(&["-xf", "wtmp"], LAST), ["-x", "-f", "wtmp"]);
        assert_eq!(norm(&["-fwtmp", "-x"], LAST), ["-f", "wtmp", "-x"]);
    }

    #[test]
    fn values_starting_with_dash_are_kept_whole() {
        assert_eq!(norm(&["-s", "-5days"], LAST), ["-s", "-5days"]);
        assert_eq!(norm(&["--since", "-5days"], LAST), ["--since", "-5days"]);
    }

    #[test]
    fn long_equals_value_split() {
        assert_eq!(norm(&["--limit=10"], LAST), ["--limit", "10"]);
        assert_eq!(norm(&["--time-format=iso"], LAST), ["--time-format", "iso"]);
        assert_eq!(norm(&["--since="], LAST), ["--since", ""]);
    }

    #[test]
    fn long_abbreviations_expand_when_unique() {
        assert_eq!(norm(&["--c"], WHO), ["--count"]);
        assert_eq!(norm(&["--hea"], WHO), ["--heading"]);
        assert_eq!(norm(&["--lim", "5"], LAST), ["--limit", "5"]);
        assert_eq!(norm(&["--hel"], WHO), ["--help"]);
        assert_eq!(norm(&["--sys"], LAST), ["--system"]);
        for ambiguous in ["--l", "--he"] {
            let args = vec![OsString::from(ambiguous)];
            assert_eq!(
                normalise(&args, WHO).unwrap_err(),
                format!("option '{ambiguous}' is ambiguous")
            );
        }
        assert_eq!(norm(&["--bogus"], WHO), ["--bogus"]);
    }

    #[test]
    fn double_dash_ends_options() {
        assert_eq!(
            norm(&["-a", "--", "-H", "-10"], WHO),
            ["-a", "--", "-H", "-10"]
        );
    }

    #[test]
    fn lone_dash_and_positionals_pass_through() {
        assert_eq!(norm(&["-", "am", "i"], WHO), ["-", "am", "i"]);
    }

    #[test]
    fn non_utf8_file_names_survive() {
        let name = OsString::from_vec(b"wtmp.\xff\xfe".to_vec());
        let args = vec![OsString::from("-f"), name.clone(), OsString::from("-x")];
        let parsed = normalise(&args, LAST).unwrap();
        assert_eq!(parsed.strings[0], "-f");
        assert_eq!(decode(&parsed.strings[1]), name);
        assert_eq!(parsed.strings[2], "-x");
        let attached = vec![OsString::from_vec(b"-fx\xff".to_vec())];
        let parsed = normalise(&attached, LAST).unwrap();
        assert_eq!(decode(&parsed.strings[1]).as_bytes(), b"x\xff");
        assert_eq!(decode("plain"), OsString::from("plain"));
    }

    #[test]
    fn stand_ins_decode_without_a_table_and_are_shown_as_bytes() {
        let raw = OsString::from_vec(b"pts/\xff\x00x".to_vec());
        let stand_in = encode(raw.as_bytes());
        assert_eq!(decode(&stand_in), raw);
        assert_eq!(decode_arg("plain").0, "plain");
        assert_eq!(decode_arg(&stand_in).0, raw);
        assert!(is_stand_in(&stand_in));
        assert!(!is_stand_in("utmp"));
        let message = format!("with value '{stand_in}': invalid digit");
        assert_eq!(
            shown(&message),
            "with value 'pts/\u{fffd}\u{0}x': invalid digit"
        );
        assert!(!shown(&message).contains("ff"));
    }

    #[test]
    fn version_is_seen_only_as_an_option() {
        let version = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            normalise(&args, LAST).unwrap().version
        };
        assert!(version(&["--version"]));
        assert!(version(&["--vers"]));
        assert!(version(&["-xV"]));
        assert!(!version(&["-f", "-V"]));
        assert!(!version(&["-fV"]));
        assert!(!version(&["--", "--version"]));
    }

    #[test]
    fn non_ascii_short_option_is_an_error() {
        let args = vec![OsString::from("-aé")];
        assert!(normalise(&args, WHO).is_err());
    }
}
