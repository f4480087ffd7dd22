//! utmpbox: Linux user accounting in one multicall binary.
//!
//! Dispatch on `basename(argv[0])`, or `utmpbox APPLET ARGS...`. The
//! binary (src/main.rs) only calls `run`; the code is a library so that
//! the fuzz targets (fuzz/) can reach the decoders, and so that, with the
//! feature `capi`, it builds libutmpbox, the C API (src/capi/).

// The layers, from the bottom (docs/ARCHITECTURE.md): a module imports
// only from its own layer's lower neighbours or from layers below it.
mod daemon;
mod front;
mod protocol;
mod read;
mod record;
mod store;
mod sys;

#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub mod fuzzing;

#[path = "../applets/mod.rs"]
mod applets;
mod install;

// The C API, a layer on top beside the applets (docs/CAPI.md).
#[cfg(feature = "capi")]
mod capi;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use front::cli;
use nix::sys::signal::{signal, SigHandler, Signal};

/// An applet's entry point: its invoked name and its arguments (without
/// argv[0]); returns the exit status.
type Entry = fn(&str, &[OsString]) -> i32;

/// Every applet that works, sorted by name (a test checks the order).
const APPLETS: &[(&str, Entry)] = &[
    ("last", applets::last::main),
    ("lastb", applets::last::main),
    ("lastlog", applets::lastlog::main),
    ("uptime", applets::uptime::main),
    ("users", applets::users::main),
    ("utmpd", applets::utmpd::main),
    ("utmpdump", applets::utmpdump::main),
    ("utmpset", applets::utmpset::main),
    ("w", applets::w::main),
    ("who", applets::who::main),
    ("wtmpd", applets::wtmpd::main),
];

fn find(name: &str) -> Option<Entry> {
    APPLETS
        .binary_search_by(|(n, _)| n.cmp(&name))
        .ok()
        .map(|i| APPLETS[i].1)
}

/// The whole program: dispatch on argv[0] and return the exit status.
pub fn run() -> i32 {
    // SAFETY: restoring the default disposition before any output, so a
    // reader whose pipe closes ends quietly, as the C tools do. Daemons
    // ignore SIGPIPE again themselves. (nix marks every disposition
    // change unsafe.)
    let _ = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) };
    sys::time::init();
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    if argv.is_empty() {
        argv.push(OsString::from("utmpbox"));
    }
    let invoked = Path::new(&argv[0])
        .file_name()
        .map(|n| String::from_utf8_lossy(n.as_bytes()).into_owned())
        .unwrap_or_default();
    dispatch(&invoked, &argv[1..])
}

fn dispatch(invoked: &str, args: &[OsString]) -> i32 {
    if let Some(entry) = find(invoked) {
        return entry(invoked, args);
    }
    // As busybox: any name starting with the binary's (utmpbox-tiny,
    // utmpbox.static) is the multicall binary itself.
    if !invoked.starts_with("utmpbox") {
        cli::say(format_args!("utmpbox: {invoked}: applet not found"));
        return 127;
    }
    let Some(first) = args.first() else {
        return print_usage();
    };
    match first.to_str() {
        Some("--list") | Some("-l") => {
            let mut list = String::new();
            for (name, _) in APPLETS {
                list.push_str(name);
                list.push('\n');
            }
            cli::print_all("utmpbox", list.as_bytes())
        }
        Some("--install") => {
            let names: Vec<&str> = APPLETS.iter().map(|(name, _)| *name).collect();
            install::main(&names, &args[1..])
        }
        Some("--help") | Some("-h") => print_usage(),
        Some("--version") | Some("-V") => cli::print_version("utmpbox"),
        Some(name) => match find(name) {
            Some(entry) => entry(name, &args[1..]),
            None => {
                cli::say(format_args!("utmpbox: {name}: applet not found"));
                127
            }
        },
        None => {
            cli::say(format_args!(
                "utmpbox: {}: applet not found",
                first.to_string_lossy()
            ));
            127
        }
    }
}

fn print_usage() -> i32 {
    let mut text = String::from(
        "Usage: utmpbox APPLET [ARGS...]\n   or: APPLET [ARGS...]  (through a symlink named APPLET)\n   or: utmpbox --list\n   or: utmpbox --install [--force] DIR [SBINDIR]  (daemons into SBINDIR)\n\nLinux user accounting (utmp, wtmp, btmp, lastlog) in one binary.\n\nApplets:",
    );
    for (name, _) in APPLETS {
        text.push(' ');
        text.push_str(name);
    }
    text.push('\n');
    cli::print_all("utmpbox", text.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn applet_table_is_sorted_and_unique() {
        for pair in super::APPLETS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
    }
}
