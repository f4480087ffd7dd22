//! `who --json`: the entries `who` would list with the same options, as a
//! JSON array, one object per entry, for scripts (DESIGN.md; the shape of
//! `last --json` and `lastlog --json`, docs/COMPAT.md `### who --json`):
//!
//! ```json
//! [
//!   {"type": "user", "user": "alice", "tty": "pts/0", "host": "10.0.0.5", "id": "ts/0", "pid": 4242, "time": "2020-09-13T12:26:40+00:00", "time_us": 1600000000250000}
//! ]
//! ```
//!
//! Strings are escaped as the text columns are (`escape::json_string`), so
//! the output is ASCII. Column options (-H, -s, -T, --mesg) do not change
//! it; --ips and --lookup change `host` as they change the comment.

use std::io::Write;
use std::path::Path;

use super::{same_line, Options, Printer, Shown};
use crate::front::escape;
use crate::read::sessions;
use crate::record::Record;
use crate::sys::time;
use crate::sys::tty;

/// The `type` of an entry the options select (who.rs's `Shown`, the
/// same choice the text makes); None when the entry is not listed. `-q`
/// lists the user processes it counts.
fn shown_as(o: &Options, record: &Record) -> Option<&'static str> {
    if o.short_list {
        return sessions::is_user_process(record).then_some("user");
    }
    Shown::of(o, record).map(|shown| match shown {
        Shown::User => "user",
        Shown::RunLevel => "run_level",
        Shown::Boot => "boot",
        Shown::ClockChange => "clock_change",
        Shown::Init => "init",
        Shown::Login => "login",
        Shown::Dead => "dead",
    })
}

/// Print the array of what `file` (or the default table) holds; Err is
/// the exit status when the file cannot be read at all.
pub(super) fn scan(applet: &str, file: Option<&Path>, p: &mut Printer) -> Result<(), i32> {
    let options = p.options;
    // -q counts every user process, as who.c's list_entries_who: no -m.
    let tty = if options.my_line_only && !options.short_list {
        match tty::stdin_line() {
            Some(tty) => Some(tty),
            None => {
                p.out.extend_from_slice(b"[]\n");
                return Ok(());
            }
        }
    } else {
        None
    };
    let mut first = true;
    sessions::each(applet, file, file.is_none(), |record| {
        if !tty.as_ref().map_or(true, |t| same_line(t, &record.line)) {
            return;
        }
        if let Some(kind) = shown_as(options, record) {
            p.out
                .extend_from_slice(if first { b"[\n  " } else { b",\n  " });
            first = false;
            object(p, kind, record);
            p.drain();
        }
    })?;
    p.out
        .extend_from_slice(if first { b"[]\n" } else { b"\n]\n" });
    Ok(())
}

fn object(p: &mut Printer, kind: &str, record: &Record) {
    // The comment column's host, without its parentheses: --ips and
    // --lookup choose it as for the text (already escaped, and escaping
    // is idempotent on its printable ASCII).
    let ips = p.options.do_ips && record.addr.iter().any(|&b| b != 0);
    let comment = p.host_comment(record);
    let host = match comment.strip_prefix(b"(") {
        Some(inner) if !ips => inner.strip_suffix(b")").unwrap_or(inner),
        _ => &comment[..],
    };
    let out = &mut p.out;
    let _ = write!(out, "{{\"type\": \"{kind}\", \"user\": ");
    escape::json_string(out, &record.user);
    out.extend_from_slice(b", \"tty\": ");
    escape::json_string(out, &record.line);
    out.extend_from_slice(b", \"host\": ");
    escape::json_string(out, host);
    out.extend_from_slice(b", \"id\": ");
    escape::json_string(out, &record.id);
    let _ = write!(out, ", \"pid\": {}", record.pid);
    if kind == "run_level" {
        // who.c: the current level is pid % 256, the previous pid / 256.
        let level = |b: u8| if b == 0 { Vec::new() } else { vec![b] };
        out.extend_from_slice(b", \"level\": ");
        escape::json_string(out, &level((record.pid % 256) as u8));
        out.extend_from_slice(b", \"previous\": ");
        escape::json_string(out, &level((record.pid / 256) as u8));
    }
    if kind == "dead" {
        let _ = write!(
            out,
            ", \"term\": {}, \"exit\": {}",
            record.exit.termination, record.exit.exit
        );
    }
    out.extend_from_slice(b", \"time\": ");
    time::json_local(record.time_secs(), out);
    let _ = write!(out, ", \"time_us\": {}}}", record.time_us);
}
