//! One `--syslog TARGET`: its address, a non-blocking socket polled by the
//! event loop, and reconnection with backoff. Nothing here ever waits:
//! connect, send and recv are all non-blocking, and a target that cannot
//! take a message now keeps it for a later turn.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{
    connect, getsockopt, recv, send, socket, sockopt, AddressFamily, MsgFlags, SockFlag, SockType,
    UnixAddr,
};

use crate::sys::inet::{resolve, Endpoint};

/// Where `unix:` with no path sends, as syslog(3) does.
pub const DEV_LOG: &str = "/dev/log";
/// First wait before reconnecting, doubled after each failure up to MAX.
const BACKOFF_MIN_MS: u64 = 500;
const BACKOFF_MIN: Duration = Duration::from_millis(BACKOFF_MIN_MS);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub enum Address {
    /// A unix socket, datagram or stream (whichever it is).
    Unix(PathBuf),
    Udp(Endpoint),
    /// RFC 6587 octet-counted framing.
    Tcp(Endpoint),
    /// A host name that did not resolve at start: the target stays down
    /// for this run (its saved position kept, so a restart replays), as
    /// refusing to start would lose every login instead.
    Unresolved(String),
}

/// A parsed TARGET, with the text it was given as (its name in logs and
/// in the replay state).
#[derive(Clone)]
pub struct Spec {
    pub text: String,
    pub address: Address,
}

impl Spec {
    /// `unix:PATH` (`unix:` alone is /dev/log), `udp:HOST:PORT`,
    /// `tcp:HOST:PORT` (`[V6]:PORT` for IPv6). A host name is resolved
    /// here, once, at start: never in the event loop. Only a malformed
    /// TARGET is an error.
    pub fn parse(text: &str) -> Result<Spec, String> {
        if text.bytes().any(|b| b.is_ascii_control()) {
            return Err(format!(
                "bad syslog target {}: control character",
                crate::sys::diag::quoted(text)
            ));
        }
        let (scheme, rest) = text.split_once(':').unwrap_or((text, ""));
        let address = match scheme {
            "unix" => Address::Unix(PathBuf::from(if rest.is_empty() { DEV_LOG } else { rest })),
            "udp" | "tcp" => {
                let (host, port) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| format!("bad syslog target {text}: want {scheme}:HOST:PORT"))?;
                let host = host
                    .strip_prefix('[')
                    .and_then(|h| h.strip_suffix(']'))
                    .unwrap_or(host);
                let port: u16 = port.parse().map_err(|_| {
                    format!(
                        "bad syslog target {text}: bad port {}",
                        crate::sys::diag::quoted(port)
                    )
                })?;
                match resolve(host, port) {
                    Ok(addr) if scheme == "udp" => Address::Udp(addr),
                    Ok(addr) => Address::Tcp(addr),
                    Err(why) => Address::Unresolved(format!("resolve {host}: {why}")),
                }
            }
            _ => {
                return Err(format!(
                    "bad syslog target {text}: want unix:PATH, udp:HOST:PORT or tcp:HOST:PORT"
                ))
            }
        };
        Ok(Spec {
            text: text.to_string(),
            address,
        })
    }
}

enum Link {
    /// No socket; try again at this time.
    Down(Instant),
    /// A TCP connect in progress.
    Connecting(OwnedFd),
    Up {
        fd: OwnedFd,
        stream: bool,
    },
}

/// What a send attempt came to.
pub enum Sent {
    /// The whole message went (a datagram sent, or the last byte of a
    /// stream frame written).
    Whole,
    /// Not now: wait for the socket to be writable (or to reconnect).
    Later,
    /// The message can never go (too large a datagram): drop it.
    Never,
}

pub struct Target {
    pub spec: Spec,
    link: Link,
    backoff: Duration,
    /// The stream frame being written and how much of it has gone.
    frame: Vec<u8>,
    written: usize,
    /// A failure was logged; the next success says so too.
    complained: bool,
}

fn reason(e: Errno) -> String {
    crate::sys::diag::os_reason(&std::io::Error::from(e))
}

impl Target {
    pub fn new(spec: Spec) -> Target {
        Target {
            spec,
            link: Link::Down(Instant::now()),
            backoff: BACKOFF_MIN,
            frame: Vec::new(),
            written: 0,
            complained: false,
        }
    }

    /// The socket and the events to poll it for, given whether messages
    /// wait. A stream is always read, to see the receiver close it.
    pub fn poll_fd(&self, waiting: bool) -> Option<(RawFd, libc::c_short)> {
        match &self.link {
            Link::Down(_) => None,
            Link::Connecting(fd) => Some((fd.as_raw_fd(), libc::POLLOUT)),
            Link::Up { fd, stream } => {
                let mut events = if waiting { libc::POLLOUT } else { 0 };
                if *stream {
                    events |= libc::POLLIN;
                }
                (events != 0).then_some((fd.as_raw_fd(), events))
            }
        }
    }

    pub fn owns(&self, raw: RawFd) -> bool {
        match &self.link {
            Link::Down(_) => false,
            Link::Connecting(fd) | Link::Up { fd, .. } => fd.as_raw_fd() == raw,
        }
    }

    /// When a down target wants to reconnect.
    pub fn retry_at(&self) -> Option<Instant> {
        match self.link {
            Link::Down(at) => Some(at),
            _ => None,
        }
    }

    fn fail(&mut self, what: &str, e: Errno) {
        self.fail_because(&format!("{what}: {}", reason(e)));
    }

    fn fail_because(&mut self, why: &str) {
        if !self.complained {
            crate::sys::diag::say(format_args!(
                "wtmpd: warning: syslog {}: unable to {why}; retrying from {} ms to {} s apart",
                self.spec.text,
                // A u64: printing Duration::as_millis' u128 costs 700 bytes.
                BACKOFF_MIN_MS,
                BACKOFF_MAX.as_secs()
            ));
            self.complained = true;
        }
        self.link = Link::Down(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
        // A receiver that lost a connection mid-frame discards the part;
        // the whole message goes again on the next connection.
        self.frame.clear();
        self.written = 0;
    }

    fn connected(&mut self, fd: OwnedFd, stream: bool) {
        if self.complained {
            crate::sys::diag::say(format_args!(
                "wtmpd: info: syslog {}: connected",
                self.spec.text
            ));
            self.complained = false;
        }
        self.link = Link::Up { fd, stream };
    }

    /// Reconnect if it is time.
    pub fn poke(&mut self, now: Instant) {
        if let Address::Unresolved(why) = &self.spec.address {
            if !self.complained {
                crate::sys::diag::say(format_args!(
                    "wtmpd: warning: syslog {}: unable to {why}; not forwarding there until a restart",
                    self.spec.text
                ));
                self.complained = true;
            }
            self.link = Link::Down(now + BACKOFF_MAX);
            return;
        }
        if matches!(self.link, Link::Down(at) if now >= at) {
            self.connect();
        }
    }

    fn connect(&mut self) {
        let flags = SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC;
        let result = match self.spec.address.clone() {
            Address::Unix(path) => {
                let addr = match UnixAddr::new(&path) {
                    Ok(a) => a,
                    Err(e) => return self.fail("connect", e),
                };
                // Datagram first, as syslog(3) does; a stream socket
                // refuses that with EPROTOTYPE.
                let mut tried = Err(Errno::EPROTOTYPE);
                for (kind, stream) in [(SockType::Datagram, false), (SockType::Stream, true)] {
                    tried = socket(AddressFamily::Unix, kind, flags, None)
                        .and_then(|fd| connect(fd.as_raw_fd(), &addr).map(|_| (fd, stream)));
                    if !matches!(tried, Err(Errno::EPROTOTYPE)) {
                        break;
                    }
                }
                tried.map(|(fd, stream)| (fd, stream, false))
            }
            Address::Unresolved(_) => return,
            Address::Udp(addr) | Address::Tcp(addr) => {
                let stream = matches!(self.spec.address, Address::Tcp(_));
                let (family, kind) = (
                    if matches!(addr, Endpoint::V4(_)) {
                        AddressFamily::Inet
                    } else {
                        AddressFamily::Inet6
                    },
                    if stream {
                        SockType::Stream
                    } else {
                        SockType::Datagram
                    },
                );
                socket(family, kind, flags, None).and_then(|fd| {
                    let done = match addr {
                        Endpoint::V4(a) => connect(fd.as_raw_fd(), &a),
                        Endpoint::V6(a) => connect(fd.as_raw_fd(), &a),
                    };
                    match done {
                        Ok(()) => Ok((fd, stream, false)),
                        Err(Errno::EINPROGRESS) => Ok((fd, stream, true)),
                        Err(e) => Err(e),
                    }
                })
            }
        };
        match result {
            Ok((fd, _, true)) => self.link = Link::Connecting(fd),
            Ok((fd, stream, false)) => self.connected(fd, stream),
            Err(e) => self.fail("connect", e),
        }
    }

    /// The socket is ready: finish a connect, or see whether the receiver
    /// closed a stream (anything it sends is read and ignored).
    pub fn ready(&mut self) {
        match &self.link {
            Link::Connecting(fd) => match getsockopt(fd, sockopt::SocketError) {
                Ok(0) => {
                    if let Link::Connecting(fd) =
                        std::mem::replace(&mut self.link, Link::Down(Instant::now()))
                    {
                        self.connected(fd, true);
                    }
                }
                Ok(errno) => self.fail("connect", Errno::from_raw(errno)),
                Err(e) => self.fail("connect", e),
            },
            Link::Up { fd, stream: true } => {
                let mut sink = [0u8; 512];
                match recv(fd.as_raw_fd(), &mut sink, MsgFlags::MSG_DONTWAIT) {
                    Ok(0) => self.fail_because("keep the connection: the receiver closed it"),
                    Ok(_) | Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
                    Err(e) => self.fail("read", e),
                }
            }
            _ => {}
        }
    }

    /// Try to send `message` (the caller keeps it until Whole or Never).
    pub fn send(&mut self, message: &[u8]) -> Sent {
        let (raw, stream) = match &self.link {
            Link::Up { fd, stream } => (fd.as_raw_fd(), *stream),
            _ => return Sent::Later,
        };
        let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
        if !stream {
            return match send(raw, message, flags) {
                Ok(_) => {
                    self.backoff = BACKOFF_MIN;
                    Sent::Whole
                }
                Err(Errno::EAGAIN) | Err(Errno::ENOBUFS) | Err(Errno::EINTR) => Sent::Later,
                Err(Errno::EMSGSIZE) => Sent::Never,
                Err(e) => {
                    self.fail("send", e);
                    Sent::Later
                }
            };
        }
        if self.frame.is_empty() {
            self.frame = stream_frame(message, matches!(self.spec.address, Address::Tcp(_)));
            self.written = 0;
        }
        while self.written < self.frame.len() {
            match send(raw, &self.frame[self.written..], flags) {
                Ok(n) => self.written += n,
                Err(Errno::EAGAIN) | Err(Errno::EINTR) => return Sent::Later,
                Err(e) => {
                    self.fail("send", e);
                    return Sent::Later;
                }
            }
        }
        self.frame.clear();
        self.written = 0;
        self.backoff = BACKOFF_MIN;
        Sent::Whole
    }
}

/// A message framed for a stream: TCP by octet counting (RFC 6587 3.4.1,
/// what rsyslog's imtcp and syslog-ng's syslog() source take); a unix
/// stream ends each message with a newline, which rsyslog's imptcp and
/// syslog-ng's unix-stream() take (a message never holds one).
pub fn stream_frame(message: &[u8], octet_counted: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 8);
    if octet_counted {
        out.extend_from_slice(message.len().to_string().as_bytes());
        out.push(b' ');
        out.extend_from_slice(message);
    } else {
        out.extend_from_slice(message);
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        assert!(matches!(
            Spec::parse("unix:").map(|s| s.address),
            Ok(Address::Unix(p)) if p == std::path::Path::new(DEV_LOG)
        ));
        assert!(matches!(
            Spec::parse("tcp:127.0.0.1:514").map(|s| s.address),
            Ok(Address::Tcp(Endpoint::V4(a))) if a.port() == 514 && a.ip() == std::net::Ipv4Addr::LOCALHOST
        ));
        assert!(matches!(
            Spec::parse("udp:[::1]:5514").map(|s| s.address),
            Ok(Address::Udp(Endpoint::V6(a))) if a.port() == 5514 && a.ip() == std::net::Ipv6Addr::LOCALHOST
        ));
        for bad in ["tcp:127.0.0.1", "tcp:127.0.0.1:x", "smtp:a:1", "unix:/a\nb"] {
            assert!(Spec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn frames() {
        assert_eq!(stream_frame(b"<86>1 x", true), b"7 <86>1 x");
        assert_eq!(stream_frame(b"<86>1 x", false), b"<86>1 x\n");
    }
}
