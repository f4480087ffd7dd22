//! What every applet shares between argv and its work: parsing through the
//! normaliser and argh, help and version, error messages and exit codes,
//! and the one buffered stdout.

use std::ffi::OsString;
use std::io::{self, Write};

use crate::args::{self, Args, Spec};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Parse `args` (without argv[0]) into the applet's options. `--help`,
/// `--version` and `-V` print their text and return Err(0) (Err(1) when
/// it could not be written); on a usage error a one-line message and a
/// hint go to stderr and Err(status) is returned. Values that are paths,
/// users, lines or hosts are `args::OsArg` fields: the user's bytes.
pub fn parse<T: argh::FromArgs>(
    applet: &str,
    args: &[OsString],
    spec: &Spec,
    usage_status: i32,
) -> Result<T, i32> {
    // Only the from_args call depends on T; the rest is shared by every
    // applet instead of copied into each one's parse.
    let normalised = prepare(applet, args, spec, usage_status)?;
    match T::from_args(&[applet], &normalised.as_strs()) {
        Ok(options) => Ok(options),
        Err(early) => Err(early_exit(applet, early, usage_status)),
    }
}

/// The normaliser, then `--version` or `-V`; Err is the exit status.
#[inline(never)]
fn prepare(applet: &str, args: &[OsString], spec: &Spec, usage_status: i32) -> Result<Args, i32> {
    let normalised = args::normalise(args, spec)
        .map_err(|message| usage_error(applet, &message, usage_status))?;
    if normalised.version {
        return Err(print_version(applet));
    }
    Ok(normalised)
}

/// argh's early exit: the help on stdout (status 0, or 1 when it could not
/// be written) or a usage error. argh only hands the text back; writing it
/// here instead of through `println!` is what keeps a full disk from
/// becoming a panic.
#[inline(never)]
fn early_exit(applet: &str, early: argh::EarlyExit, usage_status: i32) -> i32 {
    if early.status.is_ok() {
        print_all(applet, early.output.as_bytes())
    } else {
        // A non-UTF-8 value argh quotes back is shown as its bytes, never
        // as the normaliser's stand-in for them.
        let message = args::shown(&early.output);
        let message = message.trim_end().replace('\n', "; ");
        usage_error(applet, &message, usage_status)
    }
}

/// `applet: message` and the help hint on stderr; returns `status`.
pub fn usage_error(applet: &str, message: &str, status: i32) -> i32 {
    let message = message.strip_prefix("Error: ").unwrap_or(message);
    say(format_args!("{applet}: {message}"));
    say(format_args!("Try '{applet} --help' for more information."));
    status
}

/// `applet (utmpbox) VERSION` on stdout: 0, or 1 after a write error.
pub fn print_version(applet: &str) -> i32 {
    print_all(applet, format!("{applet} (utmpbox) {VERSION}\n").as_bytes())
}

/// `text` and a newline on stderr in one write. Unlike `eprintln!`, a
/// stderr that cannot be written (a full disk) is no panic: there is
/// nowhere left to report to, and the exit status still says it.
pub fn say(text: impl std::fmt::Display) {
    let _ = io::stderr().write_all(format!("{text}\n").as_bytes());
}

/// `text` on stderr as it is, in one write (see `say`).
pub fn say_raw(text: impl std::fmt::Display) {
    let _ = io::stderr().write_all(text.to_string().as_bytes());
}

/// Report an error as `applet: what: reason` and return `status`.
pub fn fail(applet: &str, what: impl std::fmt::Display, status: i32) -> i32 {
    say(format_args!("{applet}: {what}"));
    status
}

/// The one buffered stdout. A write error other than a closed pipe is
/// reported once; a closed pipe kills the process quietly (SIGPIPE is left
/// at its default for reader applets, as in the C tools).
pub struct Output {
    out: io::BufWriter<io::StdoutLock<'static>>,
}

impl Output {
    pub fn new() -> Output {
        Output {
            out: io::BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        }
    }

    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    /// Flush and turn any failure into an exit status for `applet`.
    pub fn finish(mut self, applet: &str) -> i32 {
        match self.out.flush() {
            Ok(()) => 0,
            Err(e) => fail(applet, format_args!("write error: {}", os_reason(&e)), 1),
        }
    }
}

/// Write `bytes` to stdout and flush: 0, or 1 after `applet: write error: ...`.
pub fn print_all(applet: &str, bytes: &[u8]) -> i32 {
    let mut out = Output::new();
    match out.write(bytes) {
        Ok(()) => out.finish(applet),
        Err(e) => fail(applet, format_args!("write error: {}", os_reason(&e)), 1),
    }
}

impl Default for Output {
    fn default() -> Output {
        Output::new()
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The OS reason of an error without Rust's " (os error N)" suffix, as the
/// C tools print it.
pub fn os_reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => {
            let text = io::Error::from_raw_os_error(code).to_string();
            match text.find(" (os error") {
                Some(end) => text[..end].to_string(),
                None => text,
            }
        }
        None => e.to_string(),
    }
}
