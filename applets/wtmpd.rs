//! wtmpd: the only writer of wtmp (login history), btmp (failed logins)
//! and the native lastlog.
//!
//! ```text
//! Usage: wtmpd [-d FD] [-l FD] [-U USER] [-G GROUP] [-s SOCKET] [-D DIR]
//!              [--wtmp FILE] [--btmp FILE] [--lastlog FILE]
//!              [-c MAX] [-C MAX_PER_UID] [-t MS] [-i MS] [-r RATE] [-n] [-p]
//! ```
//!
//! One process, one poll loop. Binds `$UTMPBOX_RUNDIR/wtmpd.sock` (or
//! takes `-l FD`), keeps `wtmp`, `btmp`, `lastlog` in `-D DIR` (default
//! `$UTMPBOX_LOGDIR`, /var/log/utmpbox). An append is acknowledged only
//! once it is on disk; appends arriving together share one fsync. At
//! start a torn tail is cut (kept in FILE.torn) and reported. Every login
//! appended to wtmp updates lastlog. Records this boot ("reboot") unless
//! `-n`. SIGHUP reopens the files (rotate by rename, then HUP); SIGTERM
//! stops it.
//!
//! Peer: skarnet utmps-wtmpd (one process per append, blocking locks,
//! no btmp or lastlog), wtmpdb, lastlog2.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use argh::FromArgs;

use crate::args::Spec;
use crate::daemon::{self, event, wtmpd};
use crate::{cli, protocol, sources};

#[derive(FromArgs)]
/// Own wtmp, btmp and lastlog and serve them to clients.
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
    /// socket path (default $UTMPBOX_RUNDIR/wtmpd.sock)
    #[argh(option, short = 's')]
    socket: Option<String>,
    /// directory of the files (default $UTMPBOX_LOGDIR)
    #[argh(option, short = 'D')]
    dir: Option<String>,
    /// wtmp file (default DIR/wtmp)
    #[argh(option)]
    wtmp: Option<String>,
    /// btmp file (default DIR/btmp)
    #[argh(option)]
    btmp: Option<String>,
    /// lastlog file (default DIR/lastlog)
    #[argh(option)]
    lastlog: Option<String>,
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
    /// writes per second allowed to each unprivileged uid (10)
    #[argh(option, short = 'r', default = "10")]
    rate: u32,
    /// do not record the boot
    #[argh(switch, short = 'n')]
    no_boot: bool,
    /// private mode: hide other users' hosts from unprivileged readers
    #[argh(switch, short = 'p')]
    private: bool,
}

const SPEC: Spec = Spec {
    short_values: b"dlUGsDcCtir",
    longs: &[
        "notify-fd=",
        "listen-fd=",
        "user=",
        "group=",
        "socket=",
        "dir=",
        "wtmp=",
        "btmp=",
        "lastlog=",
        "max-conns=",
        "max-per-uid=",
        "request-ms=",
        "idle-ms=",
        "rate=",
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
    let dir = opts.dir.map(PathBuf::from).unwrap_or_else(sources::logdir);
    let socket = opts
        .socket
        .map(PathBuf::from)
        .unwrap_or_else(|| rundir.join(protocol::SOCKET_WTMPD));
    let pick = |given: Option<String>, name: &str| {
        given.map(PathBuf::from).unwrap_or_else(|| dir.join(name))
    };
    let wtmp = pick(opts.wtmp, "wtmp");
    let btmp = pick(opts.btmp, "btmp");
    let lastlog = pick(opts.lastlog, "lastlog");
    let mut dirs: Vec<PathBuf> = Vec::new();
    for path in [&socket, &wtmp, &btmp, &lastlog] {
        if let Some(parent) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dirs.iter().any(|d| d == parent) {
                dirs.push(parent.to_path_buf());
            }
        }
    }
    let setup = daemon::Setup {
        socket,
        listen_fd: opts.listen_fd,
        own: vec![rundir, dir],
        dirs,
        files: vec![wtmp.clone(), btmp.clone(), lastlog.clone()],
        user: opts.user,
        group: opts.group,
    };
    let prepared = match daemon::prepare(&setup) {
        Ok(p) => p,
        Err(why) => return daemon::fatal("wtmpd", why),
    };
    let service = wtmpd::Options {
        wtmp,
        btmp,
        lastlog,
        rate: opts.rate,
        record_boot: !opts.no_boot,
        private: opts.private,
        mode: if opts.private { 0o640 } else { 0o644 },
    };
    let (service, warnings) = match wtmpd::Wtmpd::open(service) {
        Ok(s) => s,
        Err(why) => return daemon::fatal("wtmpd", why),
    };
    for w in warnings {
        eprintln!("wtmpd: warning: {w}");
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
    eprintln!("wtmpd: info: serving on {}", setup.socket.display());
    daemon::notify_ready(opts.notify_fd);
    event_loop.run();
    if bound {
        let _ = std::fs::remove_file(&setup.socket);
    }
    0
}
