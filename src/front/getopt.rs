//! Command lines read the way glibc's `getopt_long` reads them, for the
//! applets whose peers are glibc getopt programs (who, users, uptime, w,
//! last, lastb, lastlog): the same grouping, values, abbreviations,
//! operand permutation and `POSIXLY_CORRECT`, and the same errors, handed
//! back in the order successive `getopt_long` calls would return them.
//!
//! `cli::parse` (argh's rules) cannot do this: it sees whole arguments,
//! words its own errors and has no notion of argument order. So this walks
//! the raw argv bytes itself, as glibc does; docs/ARGS.md says more.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;

/// An applet's options: short letters and long names, each with the key
/// the applet matches on. Like getopt's option table, the order of
/// `longs` is the order an ambiguous abbreviation lists its candidates.
pub struct Table {
    pub shorts: &'static [(u8, &'static str)],
    pub longs: &'static [(&'static str, &'static str)],
    /// Keys of the options that take a value (getopt's `x:` and
    /// `required_argument`).
    pub with_value: &'static [&'static str],
}

impl Table {
    fn takes_value(&self, key: &str) -> bool {
        self.with_value.contains(&key)
    }
}

/// One command-line item: options (and errors) in the order given, then
/// the operands in the order given, as glibc permutes them.
#[derive(Debug, PartialEq, Eq)]
pub enum Item {
    Opt(&'static str),
    Value(&'static str, OsString),
    Operand(OsString),
    Error(Error),
}

/// How an option was written: `-R` or `--root`.
#[derive(Debug, PartialEq, Eq)]
pub enum Name {
    Short(u8),
    Long(&'static str),
}

impl Name {
    pub fn shown(&self) -> String {
        match self {
            Name::Short(c) => format!("-{}", *c as char),
            Name::Long(name) => format!("--{name}"),
        }
    }
}

/// A usage error getopt would report; `message` words it as glibc does.
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// A short option letter not in the table (the byte as given).
    Invalid(u8),
    /// A long option matching nothing: the whole argument.
    Unrecognized(OsString),
    /// An abbreviation of options that differ: the whole argument and the
    /// names glibc lists.
    Ambiguous(OsString, Vec<&'static str>),
    /// `--name=value` for an option without a value: the full name.
    NoValueAllowed(&'static str),
    /// The last argument is an option needing a value: its key, and how
    /// it was written.
    ValueRequired(&'static str, Name),
}

impl Error {
    /// glibc's wording, without `applet: ` (bytes: an invalid option byte
    /// and a non-UTF-8 argument are shown as given).
    pub fn message(&self) -> Vec<u8> {
        let mut m = Vec::new();
        match self {
            Error::Invalid(c) => {
                m.extend_from_slice(b"invalid option -- '");
                m.push(*c);
                m.push(b'\'');
            }
            Error::Unrecognized(arg) => {
                m.extend_from_slice(b"unrecognized option '");
                m.extend_from_slice(arg.as_bytes());
                m.push(b'\'');
            }
            Error::Ambiguous(arg, names) => {
                m.extend_from_slice(b"option '");
                m.extend_from_slice(arg.as_bytes());
                m.extend_from_slice(b"' is ambiguous; possibilities:");
                for name in names {
                    m.extend_from_slice(format!(" '--{name}'").as_bytes());
                }
            }
            Error::NoValueAllowed(name) => m.extend_from_slice(
                format!("option '--{name}' doesn't allow an argument").as_bytes(),
            ),
            Error::ValueRequired(_, Name::Short(c)) => {
                m.extend_from_slice(b"option requires an argument -- '");
                m.push(*c);
                m.push(b'\'');
            }
            Error::ValueRequired(_, Name::Long(name)) => {
                m.extend_from_slice(format!("option '--{name}' requires an argument").as_bytes())
            }
        }
        m
    }

    /// `applet: message` on stderr, as getopt prints it.
    pub fn print(&self, applet: &str) {
        let mut line = format!("{applet}: ").into_bytes();
        line.extend_from_slice(&self.message());
        line.push(b'\n');
        let _ = std::io::stderr().write_all(&line);
    }
}

/// The error, then the `--help` hint (coreutils, util-linux); exit 1.
pub fn usage_error(applet: &str, error: &Error) -> i32 {
    error.print(applet);
    crate::front::cli::say(format_args!("Try '{applet} --help' for more information."));
    1
}

/// Read `args` (without argv[0]) against `table`. With `POSIXLY_CORRECT`
/// set, options end at the first operand, as in glibc.
pub fn parse(args: &[OsString], table: &Table) -> Vec<Item> {
    walk(args, table, std::env::var_os("POSIXLY_CORRECT").is_some())
}

fn walk(args: &[OsString], table: &Table, posixly_correct: bool) -> Vec<Item> {
    let mut items = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_bytes();
        i += 1;
        if arg == b"--" {
            operands.extend_from_slice(&args[i..]);
            break;
        }
        if arg.len() < 2 || arg[0] != b'-' {
            if posixly_correct {
                operands.extend_from_slice(&args[i - 1..]);
                break;
            }
            operands.push(args[i - 1].clone());
            continue;
        }
        if let Some(body) = arg.strip_prefix(b"--") {
            items.push(long_option(arg, body, args, &mut i, table));
            continue;
        }
        // A group of short options; one taking a value takes the rest of
        // the group, or else the next argument whole (even `-x`).
        let mut k = 1;
        while k < arg.len() {
            let c = arg[k];
            k += 1;
            let Some(&(_, key)) = table.shorts.iter().find(|(s, _)| *s == c) else {
                items.push(Item::Error(Error::Invalid(c)));
                continue;
            };
            if !table.takes_value(key) {
                items.push(Item::Opt(key));
            } else if k < arg.len() {
                items.push(Item::Value(key, OsStr::from_bytes(&arg[k..]).to_owned()));
                break;
            } else if let Some(value) = args.get(i) {
                i += 1;
                items.push(Item::Value(key, value.clone()));
            } else {
                items.push(Item::Error(Error::ValueRequired(key, Name::Short(c))));
            }
        }
    }
    items.extend(operands.into_iter().map(Item::Operand));
    items
}

/// `--name[=value]`: an exact name, else an abbreviation that is unique
/// or whose candidates all mean the same option (`--mes` for who's
/// `--mesg` and `--message`).
fn long_option(
    arg: &[u8],
    body: &[u8],
    args: &[OsString],
    next: &mut usize,
    table: &Table,
) -> Item {
    let (name, inline) = match body.iter().position(|&b| b == b'=') {
        Some(eq) => (&body[..eq], Some(&body[eq + 1..])),
        None => (body, None),
    };
    let exact = table.longs.iter().find(|(long, _)| long.as_bytes() == name);
    let (full, key) = match exact {
        Some(&found) => found,
        None => {
            let mut candidates = table
                .longs
                .iter()
                .filter(|(long, _)| long.as_bytes().starts_with(name));
            let Some(&(first, key)) = candidates.next() else {
                return Item::Error(Error::Unrecognized(OsStr::from_bytes(arg).to_owned()));
            };
            // glibc lists the first candidate and those that differ from it.
            let others: Vec<&'static str> = candidates
                .filter(|(_, k)| *k != key)
                .map(|(long, _)| *long)
                .collect();
            if !others.is_empty() {
                let mut names = vec![first];
                names.extend(others);
                return Item::Error(Error::Ambiguous(OsStr::from_bytes(arg).to_owned(), names));
            }
            (first, key)
        }
    };
    match (table.takes_value(key), inline) {
        (false, None) => Item::Opt(key),
        (false, Some(_)) => Item::Error(Error::NoValueAllowed(full)),
        (true, Some(value)) => Item::Value(key, OsStr::from_bytes(value).to_owned()),
        (true, None) => match args.get(*next) {
            Some(value) => {
                *next += 1;
                Item::Value(key, value.clone())
            }
            None => Item::Error(Error::ValueRequired(key, Name::Long(full))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    const WHO: Table = Table {
        shorts: &[
            (b'a', "all"),
            (b'T', "mesg"),
            (b'w', "mesg"),
            (b'H', "heading"),
        ],
        longs: &[
            ("all", "all"),
            ("heading", "heading"),
            ("login", "login"),
            ("lookup", "lookup"),
            ("message", "mesg"),
            ("mesg", "mesg"),
            ("help", "help"),
        ],
        with_value: &[],
    };

    const LAST: Table = Table {
        shorts: &[
            (b'f', "file"),
            (b'n', "limit"),
            (b'x', "system"),
            (b'1', "1"),
            (b'2', "2"),
            (b'5', "5"),
        ],
        longs: &[
            ("limit", "limit"),
            ("file", "file"),
            ("fulltimes", "fulltimes"),
            ("fullnames", "fullnames"),
            ("system", "system"),
        ],
        with_value: &["file", "limit"],
    };

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    fn items(args: &[&str]) -> Vec<Item> {
        walk(&os(args), &WHO, false)
    }

    fn last(args: &[&str]) -> Vec<Item> {
        walk(&os(args), &LAST, false)
    }

    fn message(item: &Item) -> String {
        match item {
            Item::Error(e) => String::from_utf8_lossy(&e.message()).into_owned(),
            _ => panic!("not an error"),
        }
    }

    #[test]
    fn like_getopt_long() {
        assert_eq!(
            items(&["-aH", "--mes", "x"]),
            [
                Item::Opt("all"),
                Item::Opt("heading"),
                Item::Opt("mesg"),
                Item::Operand("x".into())
            ]
        );
        assert_eq!(
            message(&items(&["--l"])[0]),
            "option '--l' is ambiguous; possibilities: '--login' '--lookup'"
        );
        assert_eq!(
            message(&items(&["--al=3"])[0]),
            "option '--all' doesn't allow an argument"
        );
        let help_first = items(&["--help", "--bogus=1"]);
        assert_eq!(help_first[0], Item::Opt("help"));
        assert_eq!(message(&help_first[1]), "unrecognized option '--bogus=1'");
        let after_dash_dash = items(&["-x", "--", "-a"]);
        assert_eq!(message(&after_dash_dash[0]), "invalid option -- 'x'");
        assert_eq!(after_dash_dash[1], Item::Operand("-a".into()));
    }

    #[test]
    fn ambiguity_lists_first_and_differing_candidates() {
        // "message" means the same as "mesg", the first match: glibc
        // leaves it out of the list.
        const T: Table = Table {
            shorts: &[],
            longs: &[("mesg", "mesg"), ("message", "mesg"), ("me-too", "other")],
            with_value: &[],
        };
        let got = walk(&os(&["--me=1"]), &T, false);
        assert_eq!(
            message(&got[0]),
            "option '--me=1' is ambiguous; possibilities: '--mesg' '--me-too'"
        );
    }

    #[test]
    fn errors_do_not_stop_the_walk() {
        // getopt reports and goes on; the applet decides to stop.
        let got = items(&["-xa", "--bogus", "-H"]);
        assert_eq!(message(&got[0]), "invalid option -- 'x'");
        assert_eq!(got[1], Item::Opt("all"));
        assert_eq!(message(&got[2]), "unrecognized option '--bogus'");
        assert_eq!(got[3], Item::Opt("heading"));
    }

    #[test]
    fn invalid_byte_is_kept_as_given() {
        let args = vec![OsString::from_vec(b"-a\xc3\xa9".to_vec())];
        let got = walk(&args, &WHO, false);
        assert_eq!(got[0], Item::Opt("all"));
        assert_eq!(got[1], Item::Error(Error::Invalid(0xc3)));
        let Item::Error(e) = &got[1] else { panic!() };
        assert_eq!(e.message(), b"invalid option -- '\xc3'");
        assert_eq!(got[2], Item::Error(Error::Invalid(0xa9)));
    }

    #[test]
    fn short_values_attached_or_next_whole() {
        assert_eq!(
            last(&["-xn10", "-f", "-x", "-fwtmp"]),
            [
                Item::Opt("system"),
                Item::Value("limit", "10".into()),
                Item::Value("file", "-x".into()),
                Item::Value("file", "wtmp".into()),
            ]
        );
        let missing = last(&["-x", "-n"]);
        assert_eq!(
            missing[1],
            Item::Error(Error::ValueRequired("limit", Name::Short(b'n')))
        );
        assert_eq!(message(&missing[1]), "option requires an argument -- 'n'");
    }

    #[test]
    fn long_values_inline_or_next_whole() {
        assert_eq!(
            last(&["--lim=5", "--file", "--system", "--file="]),
            [
                Item::Value("limit", "5".into()),
                Item::Value("file", "--system".into()),
                Item::Value("file", "".into()),
            ]
        );
        let missing = last(&["--fi"]);
        assert_eq!(
            missing[0],
            Item::Error(Error::ValueRequired("file", Name::Long("file")))
        );
        assert_eq!(message(&missing[0]), "option '--file' requires an argument");
        assert_eq!(Name::Long("root").shown(), "--root");
        assert_eq!(Name::Short(b'R').shown(), "-R");
    }

    #[test]
    fn digits_are_options_of_their_own() {
        // last's `-<number>`: each digit is its own option, so `-1 -2`
        // and `-5x` read as getopt reads them.
        assert_eq!(
            last(&["-1", "-2", "-5x"]),
            [
                Item::Opt("1"),
                Item::Opt("2"),
                Item::Opt("5"),
                Item::Opt("system")
            ]
        );
        assert_eq!(message(&last(&["-3"])[0]), "invalid option -- '3'");
    }

    #[test]
    fn operands_are_permuted_after_options() {
        assert_eq!(
            last(&["alice", "-x", "-", "tty1", "-n", "2"]),
            [
                Item::Opt("system"),
                Item::Value("limit", "2".into()),
                Item::Operand("alice".into()),
                Item::Operand("-".into()),
                Item::Operand("tty1".into()),
            ]
        );
        assert_eq!(
            last(&["a", "--", "-x", "b"]),
            [
                Item::Operand("a".into()),
                Item::Operand("-x".into()),
                Item::Operand("b".into()),
            ]
        );
    }

    #[test]
    fn posixly_correct_stops_at_the_first_operand() {
        assert_eq!(
            walk(&os(&["-x", "alice", "-n", "2"]), &LAST, true),
            [
                Item::Opt("system"),
                Item::Operand("alice".into()),
                Item::Operand("-n".into()),
                Item::Operand("2".into()),
            ]
        );
    }

    #[test]
    fn non_utf8_values_and_operands_survive() {
        let name = OsString::from_vec(b"wtmp.\xff".to_vec());
        let mut attached = b"-f".to_vec();
        attached.extend_from_slice(name.as_bytes());
        let args = vec![
            OsString::from_vec(attached),
            OsString::from("-f"),
            name.clone(),
            name.clone(),
        ];
        assert_eq!(
            walk(&args, &LAST, false),
            [
                Item::Value("file", name.clone()),
                Item::Value("file", name.clone()),
                Item::Operand(name),
            ]
        );
        let bogus = vec![OsString::from_vec(b"--\xff=1".to_vec())];
        let got = walk(&bogus, &LAST, false);
        let Item::Error(e) = &got[0] else { panic!() };
        assert_eq!(e.message(), b"unrecognized option '--\xff=1'");
    }
}
