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

use argh::FromArgs;

use crate::daemon::{serve, utmpd};
use crate::front::args::{OsArg, Spec, Text};
use crate::front::cli;
use crate::protocol;
use crate::read::sources;

#[derive(FromArgs)]
/// Own the utmp table and serve it to clients.
struct Opts {
    /// write a newline to FD once ready (s6 notification-fd; FD must be
    /// open at start)
    #[argh(option, short = 'd')]
    notify_fd: Option<i32>,
    /// use the listening socket inherited on FD instead of binding
    #[argh(option, short = 'l')]
    listen_fd: Option<i32>,
    /// drop to USER after binding
    #[argh(option, short = 'U')]
    user: Option<Text>,
    /// the accounting group whose members may write any record (utmp)
    #[argh(option, short = 'G', default = "Text(String::from(\"utmp\"))")]
    group: Text,
    /// socket path (default $UTMPBOX_RUNDIR/utmpd.sock)
    #[argh(option, short = 's')]
    socket: Option<OsArg>,
    /// also serve skarnet utmps' protocol on this socket (libutmps clients;
    /// usually /run/utmps/.utmpd-socket)
    #[argh(option)]
    utmps_socket: Option<OsArg>,
    /// serve utmps' protocol on the listening socket inherited on FD
    #[argh(option)]
    utmps_listen_fd: Option<i32>,
    /// table file (default $UTMPBOX_RUNDIR/utmp)
    #[argh(option, short = 'f')]
    file: Option<OsArg>,
    /// wtmpd's socket, for the logouts of ended sessions
    #[argh(option, short = 'W')]
    wtmpd_socket: Option<OsArg>,
    /// most connections at once (1000)
    #[argh(option, short = 'c', default = "1000")]
    max_conns: usize,
    /// most connections per uid (64)
    #[argh(option, short = 'C', default = "64")]
    max_per_uid: usize,
    /// deadline in ms to send a request or read a reply (5000)
    #[argh(option, short = 't', default = "5000")]
    request_ms: u64,
    /// ms a connection may sit idle between requests (60000)
    #[argh(option, short = 'i', default = "60000")]
    idle_ms: u64,
    /// most entries in the table (4096)
    #[argh(option, short = 'm', default = "4096")]
    max_slots: usize,
    /// live sessions each unprivileged user may hold (64)
    #[argh(option, short = 'q', default = "64")]
    max_sessions_per_uid: usize,
    /// writes per second allowed to each unprivileged uid (10)
    #[argh(option, short = 'r', default = "10")]
    rate: u32,
    /// seconds between sweeps for ended sessions; 0: never (30)
    #[argh(option, short = 'S', default = "30")]
    sweep: u64,
    /// do not record the boot
    #[argh(switch, short = 'n')]
    no_boot: bool,
    /// private mode: hide other users' hosts from unprivileged readers
    #[argh(switch, short = 'p')]
    private: bool,
    /// at start, take over the live sessions of the table FILE (utmps,
    /// glibc or native)
    #[argh(option)]
    import: Option<OsArg>,
}

const SPEC: Spec = Spec {
    short_values: b"dlUGsfWcCtimqrS",
    longs: &[
        "notify-fd=",
        "listen-fd=",
        "user=",
        "group=",
        "socket=",
        "utmps-socket=",
        "utmps-listen-fd=",
        "file=",
        "wtmpd-socket=",
        "max-conns=",
        "max-per-uid=",
        "request-ms=",
        "idle-ms=",
        "max-slots=",
        "max-sessions-per-uid=",
        "rate=",
        "sweep=",
        "no-boot",
        "private",
        "import=",
    ],
    number_option: None,
};

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    let opts = match cli::parse::<Opts>(applet, args, &SPEC, 100) {
        Ok(opts) => opts,
        Err(status) => return status,
    };
    let rundir = sources::rundir();
    let common = serve::Common {
        notify_fd: opts.notify_fd,
        listen_fd: opts.listen_fd,
        utmps_socket: opts.utmps_socket.map(std::path::PathBuf::from),
        utmps_listen_fd: opts.utmps_listen_fd,
        user: opts.user.map(|name| name.0),
        group: opts.group.0,
        socket: serve::path_or(opts.socket, || rundir.join(protocol::SOCKET_UTMPD)),
        max_conns: opts.max_conns,
        max_per_uid: opts.max_per_uid,
        request_ms: opts.request_ms,
        idle_ms: opts.idle_ms,
    };
    let file = serve::path_or(opts.file, || rundir.join("utmp"));
    let service = utmpd::Options {
        file: file.clone(),
        wtmpd_socket: serve::path_or(opts.wtmpd_socket, || rundir.join(protocol::SOCKET_WTMPD)),
        max_slots: opts.max_slots.max(1),
        max_conns: opts.max_conns,
        max_sessions_per_uid: opts.max_sessions_per_uid,
        rate: opts.rate,
        sweep: Duration::from_secs(opts.sweep),
        record_boot: !opts.no_boot,
        private: opts.private,
        mode: serve::file_mode(opts.private),
        import: opts.import.map(std::path::PathBuf::from),
    };
    serve::run("utmpd", common, vec![rundir], vec![file], || {
        utmpd::Utmpd::open(service)
    })
}
