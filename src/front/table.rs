//! The option parser of utmpbox's own tools (utmpd, wtmpd, utmpset,
//! utmpdump): one walk of the normalised argv against a static table.
//!
//! It replaced argh, whose derive generated 2 to 3 KB of code per applet
//! in the tiny build (docs/ARGS.md has the numbers). It keeps argh 0.1's
//! behaviour and words exactly, since users and tests see them: each
//! argument is compared whole (`args::normalise` has split groups and
//! expanded abbreviations), `--help` or `help` before `--` asks for the
//! help (an option after it is an error), a value is the next argument
//! whatever it looks like, a value given twice is an error (a
//! [`Kind::Texts`] option collects them), and the help text is laid out
//! as argh laid it out. Values stay as the normaliser's strings (a
//! non-UTF-8 argument is its stand-in) until an applet asks for them.

use std::str::FromStr;

use crate::front::args::{self, OsArg};

/// What an option takes, and how its value is checked during the walk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No value: given or not.
    Switch,
    /// The user's bytes: a path, user, line or host.
    Bytes,
    /// UTF-8 only (a name looked up as a C string): anything else is
    /// refused as `not valid UTF-8`.
    Text,
    /// As `Text`, and repeatable: every value is kept.
    Texts,
    /// A word the applet checks itself, with its own message.
    Word,
    I16,
    I32,
    U32,
    U64,
    Usize,
}

/// One option: `--long`, `-short` (0 for none), what it takes and its
/// line in the help.
pub struct Opt {
    pub long: &'static str,
    pub short: u8,
    pub kind: Kind,
    pub help: &'static str,
}

/// An applet's command line.
pub struct Command {
    /// The paragraph under the usage line.
    pub about: &'static str,
    pub options: &'static [Opt],
    /// The operands' name and help line; None: operands are refused.
    pub operands: Option<(&'static str, &'static str)>,
    /// `--help` and `help` print the help; false when the applet answers
    /// `--help` itself (utmpdump) and `help` is an operand.
    pub help: bool,
    /// The `Notes:` section, if any.
    pub notes: &'static str,
}

/// How a walk ended early.
pub enum Exit {
    /// The help was asked for: its text.
    Help(String),
    /// A usage error in argh's words (still with stand-ins).
    Usage(String),
}

/// The options and operands given, in the normaliser's strings.
pub struct Parsed {
    command: &'static Command,
    /// Per option of the table, in order: each value given (one empty
    /// string per time a switch was given).
    values: Vec<Vec<String>>,
    operands: Vec<String>,
}

/// Walk `args` (normalised, without argv[0]) against `command`.
pub fn walk(applet: &str, command: &'static Command, args: &[String]) -> Result<Parsed, Exit> {
    let mut parsed = Parsed {
        command,
        values: vec![Vec::new(); command.options.len()],
        operands: Vec::new(),
    };
    let mut help = false;
    let mut ended = false;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if command.help && !ended && (arg == "--help" || arg == "help") {
            help = true;
            continue;
        }
        if !ended && arg.starts_with('-') {
            if arg == "--" {
                ended = true;
                continue;
            }
            if help {
                return Err(Exit::Usage(
                    "Trailing arguments are not allowed after `help`.".into(),
                ));
            }
            let Some(at) = command.options.iter().position(|o| names(o, arg)) else {
                return Err(unrecognized(arg));
            };
            let option = &command.options[at];
            if option.kind == Kind::Switch {
                parsed.values[at].push(String::new());
                continue;
            }
            let Some(value) = rest.next() else {
                return Err(Exit::Usage(format!(
                    "No value provided for option '{arg}'."
                )));
            };
            let checked = if option.kind != Kind::Texts && !parsed.values[at].is_empty() {
                Err("duplicate values provided".to_string())
            } else {
                check(option.kind, value)
            };
            if let Err(why) = checked {
                return Err(Exit::Usage(format!(
                    "Error parsing option '{arg}' with value '{value}': {why}"
                )));
            }
            parsed.values[at].push(value.clone());
            continue;
        }
        if command.operands.is_none() {
            return Err(unrecognized(arg));
        }
        parsed.operands.push(arg.clone());
    }
    if help {
        return Err(Exit::Help(help_text(applet, command)));
    }
    Ok(parsed)
}

fn unrecognized(arg: &str) -> Exit {
    Exit::Usage(format!("Unrecognized argument: {arg}"))
}

/// Whether `arg` is `--long` or `-short` of `option`.
fn names(option: &Opt, arg: &str) -> bool {
    match arg.as_bytes() {
        [b'-', short] => option.short != 0 && *short == option.short,
        _ => arg.strip_prefix("--") == Some(option.long),
    }
}

/// argh parsed each value with the field type's `FromStr` as it went, so
/// a bad value is reported in the type's words, before later arguments.
fn check(kind: Kind, value: &str) -> Result<(), String> {
    fn number<T: FromStr<Err = std::num::ParseIntError>>(value: &str) -> Result<(), String> {
        value.parse::<T>().map(drop).map_err(|e| e.to_string())
    }
    match kind {
        Kind::Switch | Kind::Bytes | Kind::Word => Ok(()),
        Kind::Text | Kind::Texts if args::is_stand_in(value) => Err("not valid UTF-8".into()),
        Kind::Text | Kind::Texts => Ok(()),
        Kind::I16 => number::<i16>(value),
        Kind::I32 => number::<i32>(value),
        Kind::U32 => number::<u32>(value),
        Kind::U64 => number::<u64>(value),
        Kind::Usize => number::<usize>(value),
    }
}

impl Parsed {
    /// The values given for `--long`; a name not in the table is a bug
    /// the applets' tests catch (it never has a value).
    fn given(&self, long: &str) -> &[String] {
        let at = self.command.options.iter().position(|o| o.long == long);
        debug_assert!(at.is_some(), "no option --{long}");
        at.map_or(&[], |at| &self.values[at])
    }

    /// Whether the switch `--long` was given.
    pub fn flag(&self, long: &str) -> bool {
        !self.given(long).is_empty()
    }

    /// A `Bytes` option: the user's bytes.
    pub fn bytes(&self, long: &str) -> Option<OsArg> {
        self.given(long)
            .first()
            .map(|value| args::decode_arg(value))
    }

    /// A `Text` or `Word` option (a `Word` may hold a stand-in: show it
    /// with `args::shown`).
    pub fn text(&self, long: &str) -> Option<String> {
        self.given(long).first().cloned()
    }

    /// Every value of a `Texts` option.
    pub fn texts(&self, long: &str) -> &[String] {
        self.given(long)
    }

    /// A number option, checked during the walk.
    pub fn number<T: FromStr>(&self, long: &str) -> Option<T> {
        self.given(long)
            .first()
            .and_then(|value| value.parse().ok())
    }

    /// The operands, as the user's bytes.
    pub fn operands(&self) -> Vec<OsArg> {
        self.operands
            .iter()
            .map(|value| args::decode_arg(value))
            .collect()
    }
}

/// The help as argh's derive laid it out: usage line, about, operands,
/// options (two columns, wrapped at 80), notes.
pub fn help_text(applet: &str, command: &Command) -> String {
    let mut out = format!("Usage: {applet}");
    for option in command.options {
        out.push_str(" [");
        if option.short != 0 {
            out.push('-');
            out.push(option.short as char);
        } else {
            out.push_str("--");
            out.push_str(option.long);
        }
        if option.kind != Kind::Switch {
            out.push_str(" <");
            out.push_str(option.long);
            if option.kind == Kind::Texts {
                out.push_str("...");
            }
            out.push('>');
        }
        out.push(']');
    }
    if let Some((name, _)) = command.operands {
        out.push_str(" [--] [<");
        out.push_str(name);
        out.push_str("...>]");
    }
    out.push_str("\n\n");
    out.push_str(command.about);
    if let Some((name, help)) = command.operands {
        out.push_str("\n\nPositional Arguments:");
        describe(&mut out, name, help);
    }
    out.push_str("\n\nOptions:");
    for option in command.options {
        let name = match option.short {
            0 => format!("--{}", option.long),
            short => format!("-{}, --{}", short as char, option.long),
        };
        describe(&mut out, &name, option.help);
    }
    describe(&mut out, "--help, help", "display usage information");
    if !command.notes.is_empty() {
        out.push_str("\n\nNotes:");
        for line in command.notes.split('\n') {
            out.push_str("\n  ");
            out.push_str(line);
        }
    }
    out.push('\n');
    out
}

/// argh_shared's `write_description`: the name indented by 2, the text
/// from column 20 (on the next line when the name reaches it), words
/// wrapped before column 80.
fn describe(out: &mut String, name: &str, text: &str) {
    const INDENT: usize = 20;
    const WIDTH: usize = 80;
    let mut line = format!("  {name}");
    let pad = |line: &mut String| {
        let len = line.chars().count();
        if len < INDENT {
            line.extend(std::iter::repeat(' ').take(INDENT - len));
            true
        } else {
            false
        }
    };
    if !pad(&mut line) {
        out.push('\n');
        out.push_str(&line);
        line.clear();
    }
    let mut words = text.split(' ').peekable();
    while let Some(first) = words.next() {
        pad(&mut line);
        line.push_str(first);
        while let Some(&word) = words.peek() {
            if line.chars().count() + word.chars().count() + 1 > WIDTH {
                out.push('\n');
                out.push_str(&line);
                line.clear();
                break;
            }
            words.next();
            line.push(' ');
            line.push_str(word);
        }
    }
    out.push('\n');
    out.push_str(&line);
}

#[cfg(test)]
mod tests {
    use super::*;

    // Part of utmpd's table: the help below is what argh printed for it.
    const DAEMON: Command = Command {
        about: "Serve.",
        options: &[
            Opt {
                long: "notify-fd",
                short: b'd',
                kind: Kind::I32,
                help: "write a newline to FD once ready (s6 notification-fd; FD must be open at start)",
            },
            Opt {
                long: "wtmpd-socket",
                short: b'W',
                kind: Kind::Bytes,
                help: "wtmpd's socket, for the logouts of ended sessions",
            },
            Opt {
                long: "utmps-listen-fd",
                short: 0,
                kind: Kind::I32,
                help: "serve utmps' protocol on the listening socket inherited on FD",
            },
            Opt {
                long: "user",
                short: b'U',
                kind: Kind::Text,
                help: "drop to USER after binding",
            },
            Opt {
                long: "syslog",
                short: 0,
                kind: Kind::Texts,
                help: "forward",
            },
            Opt {
                long: "no-boot",
                short: b'n',
                kind: Kind::Switch,
                help: "do not record the boot",
            },
        ],
        operands: None,
        help: true,
        notes: "",
    };

    const WRITER: Command = Command {
        about: "Write.",
        options: &[Opt {
            long: "wtmp",
            short: b'w',
            kind: Kind::Switch,
            help: "runit",
        }],
        operands: Some(("rest", "the command")),
        help: true,
        notes: "Commands:\n  boot    record",
    };

    fn run(command: &'static Command, args: &[&str]) -> Result<Parsed, Exit> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        walk("d", command, &args)
    }

    fn usage(command: &'static Command, args: &[&str]) -> String {
        match run(command, args) {
            Err(Exit::Usage(message)) => message,
            Err(Exit::Help(_)) => panic!("help for {args:?}"),
            Ok(_) => panic!("no error for {args:?}"),
        }
    }

    #[test]
    fn help_is_laid_out_as_argh_laid_it_out() {
        let expected = "\
Usage: d [-d <notify-fd>] [-W <wtmpd-socket>] [--utmps-listen-fd <utmps-listen-fd>] [-U <user>] [--syslog <syslog...>] [-n]

Serve.

Options:
  -d, --notify-fd   write a newline to FD once ready (s6 notification-fd; FD
                    must be open at start)
  -W, --wtmpd-socket
                    wtmpd's socket, for the logouts of ended sessions
  --utmps-listen-fd serve utmps' protocol on the listening socket inherited on
                    FD
  -U, --user        drop to USER after binding
  --syslog          forward
  -n, --no-boot     do not record the boot
  --help, help      display usage information
";
        assert_eq!(help_text("d", &DAEMON), expected);
        let expected = "\
Usage: d [-w] [--] [<rest...>]

Write.

Positional Arguments:
  rest              the command

Options:
  -w, --wtmp        runit
  --help, help      display usage information

Notes:
  Commands:
    boot    record
";
        assert_eq!(help_text("d", &WRITER), expected);
    }

    #[test]
    fn help_triggers_before_double_dash_only() {
        assert!(matches!(run(&DAEMON, &["--help"]), Err(Exit::Help(_))));
        assert!(matches!(
            run(&WRITER, &["x", "help", "y"]),
            Err(Exit::Help(_))
        ));
        assert_eq!(
            usage(&DAEMON, &["help", "-n"]),
            "Trailing arguments are not allowed after `help`."
        );
        let parsed = run(&WRITER, &["--", "help", "-w"]).ok().unwrap();
        assert_eq!(parsed.operands().len(), 2);
        assert!(!parsed.flag("wtmp"));
    }

    #[test]
    fn errors_are_argh_words() {
        assert_eq!(usage(&DAEMON, &["-x"]), "Unrecognized argument: -x");
        assert_eq!(usage(&DAEMON, &["file"]), "Unrecognized argument: file");
        assert_eq!(
            usage(&DAEMON, &["-d"]),
            "No value provided for option '-d'."
        );
        assert_eq!(
            usage(&DAEMON, &["-d", "x"]),
            "Error parsing option '-d' with value 'x': invalid digit found in string"
        );
        assert_eq!(
            usage(&DAEMON, &["-d", "1", "--notify-fd", "1"]),
            "Error parsing option '--notify-fd' with value '1': duplicate values provided"
        );
        let stand_in = "\0ff\0";
        assert_eq!(
            usage(&DAEMON, &["-U", stand_in]),
            format!("Error parsing option '-U' with value '{stand_in}': not valid UTF-8")
        );
        // The first problem in argv order wins.
        assert!(usage(&DAEMON, &["-d", "x", "-y"]).contains("'-d'"));
    }

    #[test]
    fn values_switches_and_repeats() {
        let parsed = run(
            &DAEMON,
            &[
                "-n", "-n", "-d", "-5", "--syslog", "a", "--syslog", "b", "-W", "\0ff\0",
            ],
        )
        .ok()
        .unwrap();
        assert!(parsed.flag("no-boot"));
        assert_eq!(parsed.number::<i32>("notify-fd"), Some(-5));
        assert_eq!(parsed.texts("syslog"), ["a", "b"]);
        assert_eq!(parsed.bytes("wtmpd-socket").unwrap().as_bytes(), b"\xff");
        assert_eq!(parsed.text("user"), None);
    }
}
