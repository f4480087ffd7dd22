//! wtmpd: the only writer of wtmp (login history), btmp (failed logins)
//! and the native lastlog.
//!
//! ```text
//! Usage: wtmpd [-d FD] [-l FD] [-U USER] [-G GROUP] [-s SOCKET] [-D DIR]
//!              [--wtmp FILE] [--btmp FILE] [--lastlog FILE]
//!              [-c MAX] [-C MAX_PER_UID] [-t MS] [-i MS] [-r RATE] [-n] [-p]
//!              [--utmps-socket PATH | --utmps-listen-fd FD]
//!              [--syslog TARGET]... [--syslog-format 5424|3164] [--syslog-queue N]
//! ```
//!
//! One process, one poll loop. Binds `$UTMPBOX_RUNDIR/wtmpd.sock` (or
//! takes `-l FD`), keeps `wtmp`, `btmp`, `lastlog` in `-D DIR` (default
//! `$UTMPBOX_LOGDIR`, /var/log/utmpbox). An append is acknowledged only
//! once it is on disk; appends arriving together share one fsync. At
//! start a torn tail is cut (kept in FILE.torn) and reported. Every login
//! appended to wtmp updates lastlog. Records this boot ("reboot") unless
//! `-n`. SIGHUP reopens the files (rotate by rename, then HUP); SIGTERM
//! stops it. `-d FD` not open at start is a usage error (exit 100) before
//! anything is bound; an accept error no later turn can recover from
//! stops it (exit 111), a shortage (EMFILE, ENOBUFS...) is warned at most
//! once a second while the listener rests 100 ms at a time.
//!
//! With `--utmps-socket PATH` (or `--utmps-listen-fd FD`) it also takes
//! libutmps' `updwtmpx` appends there, durable before they are answered.
//!
//! With `--syslog TARGET` (`unix:PATH`, default /dev/log; `udp:HOST:PORT`;
//! `tcp:HOST:PORT`), repeatable, every record appended to wtmp or btmp is
//! also sent there as one RFC 5424 message (or 3164), after it is durable
//! and acknowledged, and resent after a restart until sent
//! (docs/SYSLOG.md).
//!
//! Peer: skarnet utmps-wtmpd (one process per append, blocking locks,
//! no btmp or lastlog), wtmpdb, lastlog2.

use std::ffi::OsString;

use argh::FromArgs;

use crate::daemon::wtmpd::syslog;
use crate::daemon::{serve, wtmpd};
use crate::front::args::{OsArg, Spec, Text};
use crate::front::cli;
use crate::protocol;
use crate::read::sources;

#[derive(FromArgs)]
/// Own wtmp, btmp and lastlog and serve them to clients.
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
    /// socket path (default $UTMPBOX_RUNDIR/wtmpd.sock)
    #[argh(option, short = 's')]
    socket: Option<OsArg>,
    /// also serve skarnet utmps' protocol on this socket (libutmps clients;
    /// usually /run/utmps/.wtmpd-socket)
    #[argh(option)]
    utmps_socket: Option<OsArg>,
    /// serve utmps' protocol on the listening socket inherited on FD
    #[argh(option)]
    utmps_listen_fd: Option<i32>,
    /// directory of the files (default $UTMPBOX_LOGDIR)
    #[argh(option, short = 'D')]
    dir: Option<OsArg>,
    /// wtmp file (default DIR/wtmp)
    #[argh(option)]
    wtmp: Option<OsArg>,
    /// btmp file (default DIR/btmp)
    #[argh(option)]
    btmp: Option<OsArg>,
    /// lastlog file (default DIR/lastlog)
    #[argh(option)]
    lastlog: Option<OsArg>,
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
    /// forward every record to TARGET: unix:PATH, udp:HOST:PORT or
    /// tcp:HOST:PORT (repeatable)
    #[argh(option)]
    syslog: Vec<Text>,
    /// syslog message format: 5424 (default) or 3164
    #[argh(option, default = "Text(String::from(\"5424\"))")]
    syslog_format: Text,
    /// messages queued per syslog target at most (4096)
    #[argh(option, default = "wtmpd::syslog::QUEUE_DEFAULT")]
    syslog_queue: usize,
}

const SPEC: Spec = Spec {
    short_values: b"dlUGsDcCtir",
    longs: &[
        "notify-fd=",
        "listen-fd=",
        "user=",
        "group=",
        "socket=",
        "utmps-socket=",
        "utmps-listen-fd=",
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
        "syslog=",
        "syslog-format=",
        "syslog-queue=",
    ],
    number_option: None,
};

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    let opts = match cli::parse::<Opts>(applet, args, &SPEC, 100) {
        Ok(opts) => opts,
        Err(status) => return status,
    };
    let Some(format) = syslog::format::Format::from_name(&opts.syslog_format.0) else {
        return cli::usage_error(applet, "--syslog-format is 5424 or 3164", 100);
    };
    let mut targets = Vec::new();
    for text in &opts.syslog {
        match syslog::target::Spec::parse(&text.0) {
            Ok(spec) => targets.push(spec),
            Err(why) => return cli::usage_error(applet, &why, 100),
        }
    }
    if opts.syslog_queue == 0 {
        return cli::usage_error(applet, "--syslog-queue must be at least 1", 100);
    }
    let rundir = sources::rundir();
    let dir = serve::path_or(opts.dir, sources::logdir);
    let common = serve::Common {
        notify_fd: opts.notify_fd,
        listen_fd: opts.listen_fd,
        utmps_socket: opts.utmps_socket.map(std::path::PathBuf::from),
        utmps_listen_fd: opts.utmps_listen_fd,
        user: opts.user.map(|name| name.0),
        group: opts.group.0,
        socket: serve::path_or(opts.socket, || rundir.join(protocol::SOCKET_WTMPD)),
        max_conns: opts.max_conns,
        max_per_uid: opts.max_per_uid,
        request_ms: opts.request_ms,
        idle_ms: opts.idle_ms,
    };
    let service = wtmpd::Options {
        wtmp: serve::path_or(opts.wtmp, || dir.join("wtmp")),
        btmp: serve::path_or(opts.btmp, || dir.join("btmp")),
        lastlog: serve::path_or(opts.lastlog, || dir.join("lastlog")),
        rate: opts.rate,
        record_boot: !opts.no_boot,
        private: opts.private,
        mode: serve::file_mode(opts.private),
        syslog: syslog::Options {
            targets,
            format,
            queue: opts.syslog_queue,
        },
    };
    let files = vec![
        service.wtmp.clone(),
        service.btmp.clone(),
        service.lastlog.clone(),
    ];
    serve::run("wtmpd", common, vec![rundir, dir], files, || {
        wtmpd::Wtmpd::open(service)
    })
}
