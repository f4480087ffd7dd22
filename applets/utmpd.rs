//! utmpd: the only writer of the utmp table (current sessions).
//!
//! ```text
//! Usage: utmpd [-d FD] [-l FD] [-U USER] [-G GROUP] [-s SOCKET] [-f FILE]
//!              [-W WTMPD_SOCKET] [-c MAX] [-C MAX_PER_UID] [-t MS] [-i MS]
//!              [-m SLOTS] [-q MAX_SESSIONS_PER_UID] [-r RATE] [-S SECONDS]
//!              [-n] [-p] [--utmps-socket PATH | --utmps-listen-fd FD]
//!              [--import FILE]
//! ```
//!
//! One process, one poll loop, no thread or fork per client. Binds
//! `$UTMPBOX_RUNDIR/utmpd.sock` (default /run/utmpbox) or takes the
//! listening socket on `-l FD` (or systemd's LISTEN_FDS); writes a newline
//! to `-d FD` once it serves; drops to `-U USER` after binding. Keeps the
//! table in `$UTMPBOX_RUNDIR/utmp` (native format, slot per session), so a
//! restart keeps every session. Records this boot (BOOT_TIME) unless `-n`.
//! Marks dead the sessions whose process is gone (watched through pidfds
//! as far as the descriptor limit leaves room beside `-c` clients, the
//! rest polled every 2 s, and all swept at start and every `-S` seconds)
//! and sends their logout to wtmpd without ever waiting for it. An
//! unprivileged user may hold `-q` live sessions, and never the last
//! max(16, m/16) slots, kept for root. `--import FILE` takes over, at
//! start, the live sessions of another writer's table (utmps'
//! /run/utmps/utmp, glibc's utmp or a native one). SIGTERM stops it.
//! `-d FD` and accept errors: as wtmpd (`applets/wtmpd.rs`).
//!
//! With `--utmps-socket PATH` (or `--utmps-listen-fd FD`) it also speaks
//! skarnet utmps' protocol there, so programs linked with libutmps work
//! unchanged: the same policy, limits and deadlines, a cursor per
//! connection (docs/PROTOCOL.md, docs/COMPAT.md).
//!
//! Peer: skarnet utmps-utmpd, which runs one process per client under
//! s6-ipcserver, trusts only the primary gid, locks files any user can
//! lock, and has no deadlines between requests. docs/SECURITY.md has the
//! policy, docs/PROTOCOL.md the wire format.

use std::ffi::OsString;
use std::time::Duration;

use crate::daemon::{serve, utmpd};
use crate::front::table::{Command, Kind, Opt};
use crate::front::{cli, daemon};
use crate::protocol;
use crate::read::sources;

#[rustfmt::skip]
const COMMAND: Command = Command {
    about: "Own the utmp table and serve it to clients.",
    options: &[
        daemon::NOTIFY_FD,
        daemon::LISTEN_FD,
        daemon::USER,
        daemon::GROUP,
        Opt { long: "socket", short: b's', kind: Kind::Bytes, help: "socket path (default $UTMPBOX_RUNDIR/utmpd.sock)" },
        Opt { long: "utmps-socket", short: 0, kind: Kind::Bytes, help: "also serve skarnet utmps' protocol on this socket (libutmps clients; usually /run/utmps/.utmpd-socket)" },
        daemon::UTMPS_LISTEN_FD,
        Opt { long: "file", short: b'f', kind: Kind::Bytes, help: "table file (default $UTMPBOX_RUNDIR/utmp)" },
        Opt { long: "wtmpd-socket", short: b'W', kind: Kind::Bytes, help: "wtmpd's socket, for the logouts of ended sessions" },
        daemon::MAX_CONNS,
        daemon::MAX_PER_UID,
        daemon::REQUEST_MS,
        daemon::IDLE_MS,
        Opt { long: "max-slots", short: b'm', kind: Kind::Usize, help: "most entries in the table (4096)" },
        Opt { long: "max-sessions-per-uid", short: b'q', kind: Kind::Usize, help: "live sessions each unprivileged user may hold (64)" },
        daemon::RATE,
        Opt { long: "sweep", short: b'S', kind: Kind::U64, help: "seconds between sweeps for ended sessions; 0: never (30)" },
        daemon::NO_BOOT,
        daemon::PRIVATE,
        Opt { long: "import", short: 0, kind: Kind::Bytes, help: "at start, take over the live sessions of the table FILE (utmps, glibc or native)" },
    ],
    operands: None,
    help: true,
    notes: "",
};

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    let opts = match cli::parse(applet, args, &COMMAND, 100) {
        Ok(opts) => opts,
        Err(status) => return status,
    };
    let rundir = sources::rundir();
    let private = opts.flag("private");
    let common = daemon::common(&opts, || rundir.join(protocol::SOCKET_UTMPD));
    let file = serve::path_or(opts.bytes("file"), || rundir.join("utmp"));
    let service = utmpd::Options {
        file: file.clone(),
        wtmpd_socket: serve::path_or(opts.bytes("wtmpd-socket"), || {
            rundir.join(protocol::SOCKET_WTMPD)
        }),
        max_slots: opts.number("max-slots").unwrap_or(4096).max(1),
        max_conns: common.max_conns,
        max_sessions_per_uid: opts.number("max-sessions-per-uid").unwrap_or(64),
        rate: opts.number("rate").unwrap_or(10),
        sweep: Duration::from_secs(opts.number("sweep").unwrap_or(30)),
        record_boot: !opts.flag("no-boot"),
        private,
        mode: serve::file_mode(private),
        import: opts.bytes("import").map(std::path::PathBuf::from),
    };
    serve::run("utmpd", common, vec![rundir], vec![file], || {
        utmpd::Utmpd::open(service)
    })
}
