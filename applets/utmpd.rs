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
use crate::front::cli;
use crate::front::table::{Command, Kind, Opt};
use crate::protocol;
use crate::read::sources;

#[rustfmt::skip]
const COMMAND: Command = Command {
    about: "Own the utmp table and serve it to clients.",
    options: &[
        Opt { long: "notify-fd", short: b'd', kind: Kind::I32, help: "write a newline to FD once ready (s6 notification-fd; FD must be open at start)" },
        Opt { long: "listen-fd", short: b'l', kind: Kind::I32, help: "use the listening socket inherited on FD instead of binding" },
        Opt { long: "user", short: b'U', kind: Kind::Text, help: "drop to USER after binding" },
        Opt { long: "group", short: b'G', kind: Kind::Text, help: "the accounting group whose members may write any record (utmp)" },
        Opt { long: "socket", short: b's', kind: Kind::Bytes, help: "socket path (default $UTMPBOX_RUNDIR/utmpd.sock)" },
        Opt { long: "utmps-socket", short: 0, kind: Kind::Bytes, help: "also serve skarnet utmps' protocol on this socket (libutmps clients; usually /run/utmps/.utmpd-socket)" },
        Opt { long: "utmps-listen-fd", short: 0, kind: Kind::I32, help: "serve utmps' protocol on the listening socket inherited on FD" },
        Opt { long: "file", short: b'f', kind: Kind::Bytes, help: "table file (default $UTMPBOX_RUNDIR/utmp)" },
        Opt { long: "wtmpd-socket", short: b'W', kind: Kind::Bytes, help: "wtmpd's socket, for the logouts of ended sessions" },
        Opt { long: "max-conns", short: b'c', kind: Kind::Usize, help: "most connections at once (1000)" },
        Opt { long: "max-per-uid", short: b'C', kind: Kind::Usize, help: "most connections per uid (64)" },
        Opt { long: "request-ms", short: b't', kind: Kind::U64, help: "deadline in ms to send a request or read a reply (5000)" },
        Opt { long: "idle-ms", short: b'i', kind: Kind::U64, help: "ms a connection may sit idle between requests (60000)" },
        Opt { long: "max-slots", short: b'm', kind: Kind::Usize, help: "most entries in the table (4096)" },
        Opt { long: "max-sessions-per-uid", short: b'q', kind: Kind::Usize, help: "live sessions each unprivileged user may hold (64)" },
        Opt { long: "rate", short: b'r', kind: Kind::U32, help: "writes per second allowed to each unprivileged uid (10)" },
        Opt { long: "sweep", short: b'S', kind: Kind::U64, help: "seconds between sweeps for ended sessions; 0: never (30)" },
        Opt { long: "no-boot", short: b'n', kind: Kind::Switch, help: "do not record the boot" },
        Opt { long: "private", short: b'p', kind: Kind::Switch, help: "private mode: hide other users' hosts from unprivileged readers" },
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
    let max_conns = opts.number("max-conns").unwrap_or(1000);
    let common = serve::Common {
        notify_fd: opts.number("notify-fd"),
        listen_fd: opts.number("listen-fd"),
        utmps_socket: opts.bytes("utmps-socket").map(std::path::PathBuf::from),
        utmps_listen_fd: opts.number("utmps-listen-fd"),
        user: opts.text("user"),
        group: opts.text("group").unwrap_or_else(|| "utmp".into()),
        socket: serve::path_or(opts.bytes("socket"), || rundir.join(protocol::SOCKET_UTMPD)),
        max_conns,
        max_per_uid: opts.number("max-per-uid").unwrap_or(64),
        request_ms: opts.number("request-ms").unwrap_or(5000),
        idle_ms: opts.number("idle-ms").unwrap_or(60000),
    };
    let file = serve::path_or(opts.bytes("file"), || rundir.join("utmp"));
    let service = utmpd::Options {
        file: file.clone(),
        wtmpd_socket: serve::path_or(opts.bytes("wtmpd-socket"), || {
            rundir.join(protocol::SOCKET_WTMPD)
        }),
        max_slots: opts.number("max-slots").unwrap_or(4096).max(1),
        max_conns,
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
