//! Flag-only command lines read the way glibc's `getopt_long` reads them,
//! for the readers whose peers are glibc programs (who, users, uptime):
//! the same abbreviations and the same error messages, in argument order.
//!
//! Long names are checked here first (for what the shared normaliser
//! cannot know: `--mes` is not ambiguous when both candidates mean the
//! same option, `--all=x` is an error for an option without a value), then
//! argv goes through `args::normalise` as for every applet.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use crate::args::{self, Spec};

/// An applet's options: short letters and long names, each with the key
/// the applet matches on.
pub struct Table {
    pub shorts: &'static [(u8, &'static str)],
    pub longs: &'static [(&'static str, &'static str)],
}

/// One command-line item, in the order given.
#[derive(Debug, PartialEq, Eq)]
pub enum Item {
    Opt(&'static str),
    Operand(OsString),
    /// A usage error, worded as glibc words it (without `applet: `).
    Error(String),
}

/// Read `args` (without argv[0]) against `table`.
pub fn parse(args: &[OsString], table: &Table) -> Vec<Item> {
    let mut items = Vec::new();
    let mut rewritten: Vec<OsString> = Vec::with_capacity(args.len());
    let mut options_done = false;
    for arg in args {
        let bytes = arg.as_bytes();
        if options_done || bytes == b"--" || !bytes.starts_with(b"--") {
            options_done |= bytes == b"--";
            rewritten.push(arg.clone());
            continue;
        }
        match long_option(bytes, table) {
            Ok(name) => rewritten.push(OsString::from(format!("--{name}"))),
            Err(message) => {
                // Everything before the bad option still counts (a --help
                // there wins), nothing after it does.
                items.extend(classify(&rewritten, table));
                items.push(Item::Error(message));
                return items;
            }
        }
    }
    items.extend(classify(&rewritten, table));
    items
}

/// A `--name[=value]` argument to the full option name, or glibc's error.
fn long_option(arg: &[u8], table: &Table) -> Result<&'static str, String> {
    let body = &arg[2..];
    let (name, has_value) = match body.iter().position(|&b| b == b'=') {
        Some(eq) => (&body[..eq], true),
        None => (body, false),
    };
    let shown = String::from_utf8_lossy(arg);
    let exact = table.longs.iter().find(|(long, _)| long.as_bytes() == name);
    let found = match exact {
        Some(&(long, _)) => long,
        None => {
            let candidates: Vec<&(&str, &str)> = table
                .longs
                .iter()
                .filter(|(long, _)| long.as_bytes().starts_with(name))
                .collect();
            match candidates.first() {
                None => return Err(format!("unrecognized option '{shown}'")),
                Some(first) if candidates.iter().all(|c| c.1 == first.1) => first.0,
                Some(_) => {
                    let mut message = format!("option '{shown}' is ambiguous; possibilities:");
                    for (long, _) in candidates {
                        message.push_str(&format!(" '--{long}'"));
                    }
                    return Err(message);
                }
            }
        }
    };
    if has_value {
        return Err(format!("option '--{found}' doesn't allow an argument"));
    }
    Ok(found)
}

fn classify(args: &[OsString], table: &Table) -> Vec<Item> {
    // Long names are already whole here, so the normaliser only splits
    // short groups and keeps non-UTF-8 operands.
    let spec = Spec {
        short_values: b"",
        longs: &[],
        number_option: None,
    };
    let normalised = match args::normalise(args, &spec) {
        Ok(n) => n,
        Err(message) => return vec![Item::Error(message)],
    };
    let mut items = Vec::new();
    let mut operands_only = false;
    for s in &normalised.strings {
        if operands_only {
            items.push(Item::Operand(normalised.os(s)));
        } else if s == "--" {
            operands_only = true;
        } else if let Some(long) = s.strip_prefix("--") {
            match table.longs.iter().find(|(name, _)| *name == long) {
                Some(&(_, key)) => items.push(Item::Opt(key)),
                None => items.push(Item::Error(format!("unrecognized option '{s}'"))),
            }
        } else if s.len() == 2 && s.starts_with('-') {
            let letter = s.as_bytes()[1];
            match table.shorts.iter().find(|(c, _)| *c == letter) {
                Some(&(_, key)) => items.push(Item::Opt(key)),
                None => items.push(Item::Error(format!(
                    "invalid option -- '{}'",
                    letter as char
                ))),
            }
        } else {
            items.push(Item::Operand(normalised.os(s)));
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

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
    };

    fn items(args: &[&str]) -> Vec<Item> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&args, &WHO)
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
            items(&["--l"]),
            [Item::Error(
                "option '--l' is ambiguous; possibilities: '--login' '--lookup'".into()
            )]
        );
        assert_eq!(
            items(&["--al=3"]),
            [Item::Error(
                "option '--all' doesn't allow an argument".into()
            )]
        );
        assert_eq!(
            items(&["--help", "--bogus=1"]),
            [
                Item::Opt("help"),
                Item::Error("unrecognized option '--bogus=1'".into())
            ]
        );
        assert_eq!(
            items(&["-x", "--", "-a"]),
            [
                Item::Error("invalid option -- 'x'".into()),
                Item::Operand("-a".into())
            ]
        );
    }
}
