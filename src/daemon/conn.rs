//! One client connection of the event loop: its buffers, its state, its
//! deadlines, and the non-blocking sends that never raise SIGPIPE.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{send, MsgFlags};

use crate::protocol::{self, Status};
use crate::sys::peer::Peer;

/// What the loop enforces on clients (docs/SECURITY.md).
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_conns: usize,
    pub max_per_uid: usize,
    /// From a request's first byte to its last, and for writing a reply.
    pub request: Duration,
    /// Between requests.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_conns: 1000,
            max_per_uid: 64,
            request: Duration::from_secs(5),
            idle: Duration::from_secs(60),
        }
    }
}

/// Which protocol a connection speaks: that of the listener it came in on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Native,
    /// skarnet utmps' (daemon/utmps.rs).
    Utmps,
}

#[derive(PartialEq, Eq)]
pub enum State {
    Reading,
    Waiting(usize),
    Writing,
}

pub struct Conn {
    pub fd: OwnedFd,
    pub peer: Peer,
    pub input: Vec<u8>,
    pub output: Vec<u8>,
    pub sent: usize,
    pub state: State,
    pub close_after: bool,
    /// When the current request began, or the reply was queued.
    pub started: Instant,
    pub last_active: Instant,
    pub pending_reply: Vec<u8>,
    /// A whole request is already buffered (pipelined): serve it next turn.
    pub buffered: bool,
    pub wire: Wire,
    /// utmps: this connection's position in the utmp table (a slot index),
    /// as utmps-utmpd's file offset is per client.
    pub cursor: usize,
}

impl Conn {
    pub fn deadline(&self, limits: &Limits) -> Option<Instant> {
        match self.state {
            State::Reading if self.input.is_empty() => Some(self.last_active + limits.idle),
            State::Reading | State::Writing => Some(self.started + limits.request),
            State::Waiting(_) => None,
        }
    }

    pub fn is_idle(&self) -> bool {
        self.state == State::Reading && self.input.is_empty()
    }
}

pub fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// Send as much of the pending reply as the socket takes; true when done.
pub fn send_some(conn: &mut Conn) -> io::Result<bool> {
    send_from(conn.fd.as_raw_fd(), &conn.output, &mut conn.sent)
}

/// Send `bytes` from `*sent` on as far as the non-blocking socket `fd`
/// takes, never raising SIGPIPE; true when all is sent.
pub fn send_from(fd: RawFd, bytes: &[u8], sent: &mut usize) -> io::Result<bool> {
    while *sent < bytes.len() {
        let rest = &bytes[*sent..];
        match send(fd, rest, MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT) {
            Ok(n) => *sent += n,
            Err(Errno::EAGAIN) => return Ok(false),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(true)
}

/// Tell a client it was not admitted, without waiting for it (a utmps
/// client reads one errno byte as the answer to its first request).
pub fn refuse(fd: &OwnedFd, wire: Wire, why: &str) {
    let frame = match wire {
        Wire::Native => protocol::error_frame(Status::Limit, why),
        Wire::Utmps => vec![libc::EAGAIN as u8],
    };
    // Best effort: the client is not waited for.
    let _ = send(
        fd.as_raw_fd(),
        &frame,
        MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
    );
}
