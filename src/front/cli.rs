//! What every applet shares between argv and its work: parsing through the
//! normaliser and the option table, help and version, error messages and exit codes,
//! and the one buffered stdout.

use std::ffi::OsString;
use std::io::{self, Write};

use crate::front::args;
use crate::front::table::{self, Command, Exit, Parsed};
// Re-exported so applets reach every message helper through `cli`.
pub use crate::sys::diag::{os_reason, say, say_raw};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Parse `args` (without argv[0]) against the applet's option table.
/// `--help`, `--version` and `-V` print their text and return Err(0)
/// (Err(1) when it could not be written); on a usage error a one-line
/// message and a hint go to stderr and Err(status) is returned. Paths,
/// users, lines and hosts come back as the user's bytes
/// (`Parsed::bytes`).
pub fn parse(
    applet: &str,
    args: &[OsString],
    command: &'static Command,
    usage_status: i32,
) -> Result<Parsed, i32> {
    let normalised = args::normalise(args, command.options)
        .map_err(|message| usage_error(applet, &message, usage_status))?;
    if normalised.version {
        return Err(print_version(applet));
    }
    match table::walk(applet, command, &normalised.strings) {
        Ok(parsed) => Ok(parsed),
        // Written here, not with `println!`, so that a full disk is an
        // exit 1, never a panic.
        Err(Exit::Help(text)) => Err(print_all(applet, text.as_bytes())),
        // A non-UTF-8 value quoted back is shown as its bytes, never as
        // the normaliser's stand-in for them.
        Err(Exit::Usage(message)) => Err(usage_error(applet, &args::shown(&message), usage_status)),
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

/// Report an error as `applet: what: reason` and return `status`.
pub fn fail(applet: &str, what: impl std::fmt::Display, status: i32) -> i32 {
    say(format_args!("{applet}: {what}"));
    status
}

/// The one buffered stdout. A write error other than a closed pipe is
/// reported once; a closed pipe kills the process quietly (SIGPIPE is left
/// at its default for reader applets, as in the C tools).
pub struct Output {
    out: Sticky<io::BufWriter<io::StdoutLock<'static>>>,
}

impl Output {
    pub fn new() -> Output {
        Output {
            out: Sticky::new(io::BufWriter::with_capacity(64 * 1024, io::stdout().lock())),
        }
    }

    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    /// Flush and turn the first failure, if any, into an exit status for
    /// `applet`: 1 after `applet: write error: REASON`.
    pub fn finish(self, applet: &str) -> i32 {
        match self.out.finish() {
            Ok(()) => 0,
            Err(e) => fail(applet, format_args!("write error: {}", os_reason(&e)), 1),
        }
    }
}

/// A writer that remembers its first error: every later write fails too,
/// and `finish` reports that error even when the final flush succeeds, so
/// output lost to a passing error (EIO, ENOSPC on a disk since freed) is
/// never an exit 0, whatever the caller did with the failed write.
struct Sticky<W: Write> {
    inner: W,
    error: Option<io::Error>,
}

impl<W: Write> Sticky<W> {
    fn new(inner: W) -> Sticky<W> {
        Sticky { inner, error: None }
    }

    fn keep<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            if e.kind() != io::ErrorKind::Interrupted {
                self.error.get_or_insert_with(|| copy_of(e));
            }
        }
        result
    }

    fn finish(mut self) -> io::Result<()> {
        let flushed = self.flush();
        match self.error.take() {
            Some(e) => Err(e),
            None => flushed,
        }
    }
}

impl<W: Write> Write for Sticky<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(e) = &self.error {
            return Err(copy_of(e));
        }
        let result = self.inner.write(buf);
        self.keep(result)
    }
    fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = &self.error {
            return Err(copy_of(e));
        }
        let result = self.inner.flush();
        self.keep(result)
    }
}

/// io::Error is not Clone; the OS code (or kind and text) is what counts.
fn copy_of(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails its first write with ENOSPC, then takes everything.
    struct FailsOnce(bool, Vec<u8>);

    impl Write for FailsOnce {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if !self.0 {
                self.0 = true;
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            self.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_passing_write_error_is_still_reported_at_the_end() {
        let mut out = Sticky::new(FailsOnce(false, Vec::new()));
        assert!(out.write_all(b"lost\n").is_err());
        // A caller that goes on: later writes fail too, nothing is written
        // after the gap, and the end reports the first error.
        assert!(out.write_all(b"after\n").is_err());
        assert!(out.inner.1.is_empty());
        let e = out.finish().unwrap_err();
        assert_eq!(os_reason(&e), "No space left on device");
    }

    #[test]
    fn no_error_finishes_clean() {
        let mut out = Sticky::new(FailsOnce(true, Vec::new()));
        out.write_all(b"all\n").unwrap();
        assert!(out.finish().is_ok());
    }
}
