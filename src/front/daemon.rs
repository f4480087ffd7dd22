//! What utmpd and wtmpd share on their command lines: the option rows both
//! tables hold (same name, letter and help) and `serve::Common` read from
//! them. Each daemon's table still lists its rows in its own order.

use std::path::PathBuf;

use crate::daemon::serve;
use crate::front::table::{Kind, Opt, Parsed};

#[rustfmt::skip]
pub const NOTIFY_FD: Opt = Opt { long: "notify-fd", short: b'd', kind: Kind::I32, help: "write a newline to FD once ready (s6 notification-fd; FD must be open at start)" };
#[rustfmt::skip]
pub const LISTEN_FD: Opt = Opt { long: "listen-fd", short: b'l', kind: Kind::I32, help: "use the listening socket inherited on FD instead of binding" };
#[rustfmt::skip]
pub const USER: Opt = Opt { long: "user", short: b'U', kind: Kind::Text, help: "drop to USER after binding" };
#[rustfmt::skip]
pub const GROUP: Opt = Opt { long: "group", short: b'G', kind: Kind::Text, help: "the accounting group whose members may write any record (utmp)" };
#[rustfmt::skip]
pub const UTMPS_LISTEN_FD: Opt = Opt { long: "utmps-listen-fd", short: 0, kind: Kind::I32, help: "serve utmps' protocol on the listening socket inherited on FD" };
#[rustfmt::skip]
pub const MAX_CONNS: Opt = Opt { long: "max-conns", short: b'c', kind: Kind::Usize, help: "most connections at once (1000)" };
#[rustfmt::skip]
pub const MAX_PER_UID: Opt = Opt { long: "max-per-uid", short: b'C', kind: Kind::Usize, help: "most connections per uid (64)" };
#[rustfmt::skip]
pub const REQUEST_MS: Opt = Opt { long: "request-ms", short: b't', kind: Kind::U64, help: "deadline in ms to send a request or read a reply (5000)" };
#[rustfmt::skip]
pub const IDLE_MS: Opt = Opt { long: "idle-ms", short: b'i', kind: Kind::U64, help: "ms a connection may sit idle between requests (60000)" };
#[rustfmt::skip]
pub const RATE: Opt = Opt { long: "rate", short: b'r', kind: Kind::U32, help: "writes per second allowed to each unprivileged uid (10)" };
#[rustfmt::skip]
pub const NO_BOOT: Opt = Opt { long: "no-boot", short: b'n', kind: Kind::Switch, help: "do not record the boot" };
#[rustfmt::skip]
pub const PRIVATE: Opt = Opt { long: "private", short: b'p', kind: Kind::Switch, help: "private mode: hide other users' hosts from unprivileged readers" };

/// The options both daemons take, with their defaults; `socket` is the
/// daemon's own socket when `--socket` is not given.
pub fn common(opts: &Parsed, socket: impl FnOnce() -> PathBuf) -> serve::Common {
    serve::Common {
        notify_fd: opts.number("notify-fd"),
        listen_fd: opts.number("listen-fd"),
        utmps_socket: opts.bytes("utmps-socket").map(PathBuf::from),
        utmps_listen_fd: opts.number("utmps-listen-fd"),
        user: opts.text("user"),
        group: opts.text("group").unwrap_or_else(|| "utmp".into()),
        socket: serve::path_or(opts.bytes("socket"), socket),
        max_conns: opts.number("max-conns").unwrap_or(1000),
        max_per_uid: opts.number("max-per-uid").unwrap_or(64),
        request_ms: opts.number("request-ms").unwrap_or(5000),
        idle_ms: opts.number("idle-ms").unwrap_or(60000),
    }
}
