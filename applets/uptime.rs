//! uptime: tell how long the system has been running.
//!
//! ```text
//! Usage:
//!  uptime [options]
//! ```
//! (the whole usage text is `USAGE` below.)
//!
//! Peer: procps-ng 4.0.2 `uptime`, byte for byte: the default line
//! (` HH:MM:SS up …,  N users,  load average: a, b, c`), `-p/--pretty`,
//! `-s/--since`, `-h/--help`, `-V/--version`; any operand is a usage error
//! (usage on stderr, exit 1). Uptime comes from /proc/uptime, load from
//! /proc/loadavg, users are the USER_PROCESS entries with a name in the
//! default utmp table (no pid check). The line itself is `src/sys/uptime.rs`,
//! shared with `w`. `$UTMPBOX_PROC` replaces /proc (a test hook).
//!
//! Deliberate differences (docs/COMPAT.md, `## uptime`), both fixed
//! upstream after 4.0.2: "0 users" (4.0.2 says "0 user"), and `-p` counts
//! a whole unit at its exact edge (60 s is "up 1 minute", 4.0.2 prints
//! "up "; 3600 s is "up 1 hour, 0 minutes", 4.0.2 "up 60 minutes").

use std::ffi::OsString;

use crate::front::cli;
use crate::front::getopt::{self, Item, Table};
use crate::read::sessions;
use crate::sys::time;
use crate::sys::uptime::{self, UptimeError};

const USAGE: &str = "
Usage:
 uptime [options]

Options:
 -p, --pretty   show uptime in pretty format
 -h, --help     display this help and exit
 -s, --since    system up since
 -V, --version  output version information and exit

For more details see uptime(1).
";

const TABLE: Table = Table {
    shorts: &[
        (b'p', "pretty"),
        (b'h', "help"),
        (b's', "since"),
        (b'V', "version"),
    ],
    longs: &[
        ("pretty", "pretty"),
        ("help", "help"),
        ("since", "since"),
        ("version", "version"),
    ],
    with_value: &[],
};

fn usage_error(applet: &str, error: Option<&getopt::Error>) -> i32 {
    if let Some(error) = error {
        error.print(applet);
    }
    cli::say_raw(format_args!("{USAGE}"));
    1
}

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    let mut pretty = false;
    let mut operands = 0;
    // Options act in order, as getopt hands them to procps: -s prints at
    // once, so operands after it are never looked at.
    for item in getopt::parse(args, &TABLE) {
        match item {
            Item::Opt("pretty") => pretty = true,
            Item::Opt("help") => {
                return cli::print_all(applet, USAGE.as_bytes());
            }
            Item::Opt("since") => return since(applet),
            Item::Opt(_) | Item::Value(..) => return cli::print_version(applet),
            Item::Operand(_) => operands += 1,
            Item::Error(error) => return usage_error(applet, Some(&error)),
        }
    }
    if operands > 0 {
        return usage_error(applet, None);
    }
    let root = uptime::proc_root();
    let secs = match uptime::read_proc_uptime(&root) {
        Ok(secs) => secs,
        Err(e) => return cannot_get(applet, e),
    };
    let mut line = if pretty {
        uptime::pretty(secs)
    } else {
        let users = match sessions::users(applet, None, false) {
            Ok(records) => records.len(),
            Err(status) => return status,
        };
        uptime::uptime_line(
            uptime::now_secs(),
            secs,
            users,
            uptime::read_proc_loadavg(&root),
        )
    };
    line.push(b'\n');
    cli::print_all(applet, &line)
}

fn since(applet: &str) -> i32 {
    let secs = match uptime::read_proc_uptime(&uptime::proc_root()) {
        Ok(secs) => secs,
        Err(e) => return cannot_get(applet, e),
    };
    match uptime::since(time::now_us(), secs) {
        Some(mut text) => {
            text.push(b'\n');
            cli::print_all(applet, &text)
        }
        None => cli::fail(applet, "localtime", 1),
    }
}

fn cannot_get(applet: &str, e: UptimeError) -> i32 {
    match e {
        UptimeError::Io(e) => cli::fail(
            applet,
            format_args!("Cannot get system uptime: {}", cli::os_reason(&e)),
            1,
        ),
        UptimeError::Malformed => cli::fail(applet, "Cannot get system uptime", 1),
    }
}
