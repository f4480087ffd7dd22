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

use crate::daemon::wtmpd::syslog;
use crate::daemon::{serve, wtmpd};
use crate::front::table::{Command, Kind, Opt};
use crate::front::{cli, daemon};
use crate::protocol;
use crate::read::sources;

#[rustfmt::skip]
const COMMAND: Command = Command {
    about: "Own wtmp, btmp and lastlog and serve them to clients.",
    options: &[
        daemon::NOTIFY_FD,
        daemon::LISTEN_FD,
        daemon::USER,
        daemon::GROUP,
        Opt { long: "socket", short: b's', kind: Kind::Bytes, help: "socket path (default $UTMPBOX_RUNDIR/wtmpd.sock)" },
        Opt { long: "utmps-socket", short: 0, kind: Kind::Bytes, help: "also serve skarnet utmps' protocol on this socket (libutmps clients; usually /run/utmps/.wtmpd-socket)" },
        daemon::UTMPS_LISTEN_FD,
        Opt { long: "dir", short: b'D', kind: Kind::Bytes, help: "directory of the files (default $UTMPBOX_LOGDIR)" },
        Opt { long: "wtmp", short: 0, kind: Kind::Bytes, help: "wtmp file (default DIR/wtmp)" },
        Opt { long: "btmp", short: 0, kind: Kind::Bytes, help: "btmp file (default DIR/btmp)" },
        Opt { long: "lastlog", short: 0, kind: Kind::Bytes, help: "lastlog file (default DIR/lastlog)" },
        daemon::MAX_CONNS,
        daemon::MAX_PER_UID,
        daemon::REQUEST_MS,
        daemon::IDLE_MS,
        daemon::RATE,
        daemon::NO_BOOT,
        daemon::PRIVATE,
        Opt { long: "syslog", short: 0, kind: Kind::Texts, help: "forward every record to TARGET: unix:PATH, udp:HOST:PORT or tcp:HOST:PORT (repeatable)" },
        Opt { long: "syslog-format", short: 0, kind: Kind::Text, help: "syslog message format: 5424 (default) or 3164" },
        Opt { long: "syslog-queue", short: 0, kind: Kind::Usize, help: "messages queued per syslog target at most (4096)" },
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
    let format_name = opts.text("syslog-format").unwrap_or_else(|| "5424".into());
    let Some(format) = syslog::format::Format::from_name(&format_name) else {
        return cli::usage_error(applet, "--syslog-format is 5424 or 3164", 100);
    };
    let mut targets = Vec::new();
    for text in opts.texts("syslog") {
        match syslog::target::Spec::parse(text) {
            Ok(spec) => targets.push(spec),
            Err(why) => return cli::usage_error(applet, &why, 100),
        }
    }
    let syslog_queue = opts
        .number("syslog-queue")
        .unwrap_or(wtmpd::syslog::QUEUE_DEFAULT);
    if syslog_queue == 0 {
        return cli::usage_error(applet, "--syslog-queue must be at least 1", 100);
    }
    let rundir = sources::rundir();
    let dir = serve::path_or(opts.bytes("dir"), sources::logdir);
    let private = opts.flag("private");
    let common = daemon::common(&opts, || rundir.join(protocol::SOCKET_WTMPD));
    let service = wtmpd::Options {
        wtmp: serve::path_or(opts.bytes("wtmp"), || dir.join("wtmp")),
        btmp: serve::path_or(opts.bytes("btmp"), || dir.join("btmp")),
        lastlog: serve::path_or(opts.bytes("lastlog"), || dir.join("lastlog")),
        rate: opts.number("rate").unwrap_or(10),
        record_boot: !opts.flag("no-boot"),
        private,
        mode: serve::file_mode(private),
        syslog: syslog::Options {
            targets,
            format,
            queue: syslog_queue,
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
