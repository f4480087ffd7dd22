//! utmpd: the only writer of the utmp table (current sessions).
//!
//! ```text
//! Usage: utmpd [-d FD] [-l FD] [-U USER] [-G GROUP] [-s SOCKET] [-f FILE]
//!              [-W WTMPD_SOCKET] [-c MAX] [-C MAX_PER_UID] [-t MS] [-i MS]
//!              [-m SLOTS] [-r RATE] [-S SECONDS] [-n] [-p]
//! ```
//!
//! One process, one poll loop, no thread or fork per client. Binds
//! `$UTMPBOX_RUNDIR/utmpd.sock` (default /run/utmpbox) or takes the
//! listening socket on `-l FD` (or systemd's LISTEN_FDS); writes a newline
//! to `-d FD` once it serves; drops to `-U USER` after binding. Keeps the
//! table in `$UTMPBOX_RUNDIR/utmp` (native format, slot per session), so a
//! restart keeps every session. Records this boot (BOOT_TIME) unless `-n`.
//! Marks dead the sessions whose process is gone (watched through pidfds,
//! and swept at start and every `-S` seconds) and sends their logout to
//! wtmpd. SIGTERM stops it.
//!
//! Peer: skarnet utmps-utmpd, which runs one process per client under
//! s6-ipcserver, trusts only the primary gid, locks files any user can
//! lock, and has no deadlines between requests. docs/SECURITY.md has the
//! policy, docs/PROTOCOL.md the wire format.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use argh::FromArgs;

use crate::args::Spec;
use crate::daemon::{self, event, utmpd};
use crate::{cli, protocol, sources};

#[derive(FromArgs)]
/// Own the utmp table and serve it to clients.
struct Opts {
    /// write a newline to FD once ready (s6 notification-fd)
    #[argh(option, short = 'd')]
    notify_fd: Option<i32>,
    /// use the listening socket inherited on FD instead of binding
    #[argh(option, short = 'l')]
    listen_fd: Option<i32>,
    /// drop to USER after binding
    #[argh(option, short = 'U')]
    user: Option<String>,
    /// the accounting group whose members may write any record (utmp)
    #[argh(option, short = 'G', default = "String::from(\"utmp\")")]
    group: String,
    /// socket path (default $UTMPBOX_RUNDIR/utmpd.sock)
    #[argh(option, short = 's')]
    socket: Option<String>,
    /// table file (default $UTMPBOX_RUNDIR/utmp)
    #[argh(option, short = 'f')]
    file: Option<String>,
    /// wtmpd's socket, for the logouts of ended sessions
    #[argh(option, short = 'W')]
    wtmpd_socket: Option<String>,
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
}

const SPEC: Spec = Spec {
    short_values: b"dlUGsfWcCtimrS",
    longs: &[
        "notify-fd=",
        "listen-fd=",
        "user=",
        "group=",
        "socket=",
        "file=",
        "wtmpd-socket=",
        "max-conns=",
        "max-per-uid=",
        "request-ms=",
        "idle-ms=",
        "max-slots=",
        "rate=",
        "sweep=",
        "no-boot",
        "private",
    ],
    number_option: None,
};

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    let (opts, _) = match cli::parse::<Opts>(applet, args, &SPEC, 100) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let rundir = sources::rundir();
    let socket = opts
        .socket
        .map(PathBuf::from)
        .unwrap_or_else(|| rundir.join(protocol::SOCKET_UTMPD));
    let file = opts
        .file
        .map(PathBuf::from)
        .unwrap_or_else(|| rundir.join("utmp"));
    let wtmpd_socket = opts
        .wtmpd_socket
        .map(PathBuf::from)
        .unwrap_or_else(|| rundir.join(protocol::SOCKET_WTMPD));
    let mut dirs = Vec::new();
    for path in [&socket, &file] {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dirs.iter().any(|d| d == dir) {
                dirs.push(dir.to_path_buf());
            }
        }
    }
    let setup = daemon::Setup {
        socket,
        listen_fd: opts.listen_fd,
        own: vec![rundir],
        dirs,
        files: vec![file.clone()],
        user: opts.user,
        group: opts.group,
    };
    let prepared = match daemon::prepare(&setup) {
        Ok(p) => p,
        Err(why) => return daemon::fatal("utmpd", why),
    };
    let service = utmpd::Options {
        file,
        wtmpd_socket,
        max_slots: opts.max_slots.max(1),
        rate: opts.rate,
        sweep: Duration::from_secs(opts.sweep),
        record_boot: !opts.no_boot,
        private: opts.private,
        mode: if opts.private { 0o640 } else { 0o644 },
    };
    let (service, warnings) = match utmpd::Utmpd::open(service) {
        Ok(s) => s,
        Err(why) => return daemon::fatal("utmpd", why),
    };
    for w in warnings {
        eprintln!("utmpd: warning: {w}");
    }
    let limits = event::Limits {
        max_conns: opts.max_conns.max(1),
        max_per_uid: opts.max_per_uid.max(1),
        request: Duration::from_millis(opts.request_ms.max(1)),
        idle: Duration::from_millis(opts.idle_ms.max(1)),
    };
    let bound = prepared.bound;
    let mut event_loop = event::EventLoop::new(
        service,
        prepared.listener,
        prepared.signals,
        limits,
        prepared.group,
    );
    eprintln!("utmpd: info: serving on {}", setup.socket.display());
    daemon::notify_ready(opts.notify_fd);
    event_loop.run();
    if bound {
        let _ = std::fs::remove_file(&setup.socket);
    }
    0
}
