//! utmpd's link to wtmpd for the logouts of ended sessions: one
//! non-blocking connection that the event loop polls, so a slow, stopped
//! or absent wtmpd never holds up utmpd's clients. One logout is in flight
//! at a time and leaves the queue only once wtmpd has acknowledged it
//! (durably), so each reaches wtmp once, in order, whenever wtmpd answers.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{connect, recv, MsgFlags, UnixAddr};

use super::super::conn::send_from;
use crate::protocol::{self, op, Incoming, LogDb, Status};
use crate::record::Record;
use crate::sys::diag::os_reason;

/// After a failure, the next try comes this much later.
const RETRY: Duration = Duration::from_secs(2);
/// A wtmpd that has not answered for this long is reported (once).
const SLOW: Duration = Duration::from_secs(5);

pub struct Forwarder {
    socket: PathBuf,
    link: Option<Link>,
    /// No new connection before this.
    retry_at: Instant,
    /// A failure was reported and nothing has gone through since: report
    /// the next one only after a success.
    reported: bool,
}

/// A connection to wtmpd with the front logout of the queue on it.
struct Link {
    fd: OwnedFd,
    /// The request for the front logout, and how much of it is sent.
    request: Vec<u8>,
    sent: usize,
    /// Reply bytes received so far.
    reply: Vec<u8>,
    /// When the request was made (None: nothing in flight).
    since: Option<Instant>,
}

/// Why a link stopped: reported, and the logout retried later.
struct Broken(String);

impl Forwarder {
    pub fn new(socket: PathBuf) -> Forwarder {
        Forwarder {
            socket,
            link: None,
            retry_at: Instant::now(),
            reported: false,
        }
    }

    /// The link's descriptor and the events it waits for, if connected.
    pub fn polled(&self) -> Option<(RawFd, libc::c_short)> {
        self.link.as_ref().map(|link| {
            let out = if link.sent < link.request.len() {
                libc::POLLOUT
            } else {
                0
            };
            (link.fd.as_raw_fd(), libc::POLLIN | out)
        })
    }

    pub fn owns(&self, fd: RawFd) -> bool {
        self.link.as_ref().is_some_and(|l| l.fd.as_raw_fd() == fd)
    }

    /// Move the queue along as far as it goes without waiting: connect,
    /// send the front logout, take wtmpd's answer; called on every tick
    /// and whenever the link is ready.
    pub fn pump(&mut self, queue: &mut VecDeque<Record>) {
        let now = Instant::now();
        if self.link.is_none() {
            if queue.is_empty() || now < self.retry_at {
                return;
            }
            match connect_to(&self.socket) {
                Ok(fd) => {
                    self.link = Some(Link {
                        fd,
                        request: Vec::new(),
                        sent: 0,
                        reply: Vec::new(),
                        since: None,
                    })
                }
                Err(e) => {
                    let why = format!("unable to connect: {}", os_reason(&e));
                    return self.failed(Broken(why), queue.len());
                }
            }
        }
        let Some(link) = self.link.as_mut() else {
            return;
        };
        match link.advance(queue, now) {
            Ok(sent_any) => {
                if sent_any {
                    self.reported = false;
                }
                let waiting = link.since.map(|t| now.duration_since(t));
                if waiting.is_some_and(|w| w >= SLOW) && !self.reported {
                    self.reported = true;
                    crate::sys::diag::say(format_args!(
                        "utmpd: warning: wtmpd has not answered for {} s; {} logout(s) waiting",
                        SLOW.as_secs(),
                        queue.len()
                    ));
                }
                if queue.is_empty() {
                    // Nothing more to send: wtmpd would close it when idle.
                    self.link = None;
                }
            }
            Err(broken) => self.failed(broken, queue.len()),
        }
    }

    fn failed(&mut self, Broken(why): Broken, waiting: usize) {
        self.link = None;
        self.retry_at = Instant::now() + RETRY;
        if !self.reported {
            self.reported = true;
            crate::sys::diag::say(format_args!(
                "utmpd: warning: unable to send {waiting} logout(s) to wtmpd: {why}; will retry"
            ));
        }
    }
}

impl Link {
    /// Take replies, pop what wtmpd acknowledged, send the next request.
    /// Ok(true) when a logout went through.
    fn advance(&mut self, queue: &mut VecDeque<Record>, now: Instant) -> Result<bool, Broken> {
        let mut sent_any = false;
        loop {
            if self.since.is_some() {
                let Some((status, message)) = self.take_reply()? else {
                    return Ok(sent_any);
                };
                self.since = None;
                match status {
                    Status::Ok => {
                        queue.pop_front();
                        sent_any = true;
                    }
                    // wtmpd could not store it now (disk full, busy): the
                    // same logout again later.
                    Status::Io | Status::Limit => {
                        return Err(Broken(format!("wtmpd: {message}")));
                    }
                    // It never will: say so and go on with the next.
                    _ => {
                        if let Some(record) = queue.pop_front() {
                            crate::sys::diag::say(format_args!(
                                "utmpd: warning: wtmpd refused the logout of {}: {message}; dropped",
                                String::from_utf8_lossy(&record.line)
                            ));
                        }
                    }
                }
            }
            let Some(record) = queue.front() else {
                return Ok(sent_any);
            };
            let mut payload = vec![LogDb::Wtmp as u8];
            if let Err(why) = protocol::put_record(&mut payload, record) {
                crate::sys::diag::say(format_args!(
                    "utmpd: warning: a logout could not be encoded: {why}; dropped"
                ));
                queue.pop_front();
                continue;
            }
            self.request = protocol::frame(op::LOG_APPEND, &payload);
            self.sent = 0;
            self.since = Some(now);
            self.send()?;
        }
    }

    /// Send what the socket takes of the request.
    fn send(&mut self) -> Result<(), Broken> {
        send_from(self.fd.as_raw_fd(), &self.request, &mut self.sent)
            .map(|_| ())
            .map_err(|e| Broken(os_reason(&e)))
    }

    /// Finish sending, read what has arrived; the reply's status and
    /// message once it is whole. A reply is framed as a request is, so
    /// the daemons' own frame reader splits it.
    fn take_reply(&mut self) -> Result<Option<(Status, String)>, Broken> {
        self.send()?;
        let mut buf = [0u8; 1024];
        loop {
            match protocol::take_request(&mut self.reply) {
                Incoming::Request(reply) => {
                    let message = String::from_utf8_lossy(reply.payload()).into_owned();
                    return Ok(Some((Status::from_raw(reply.code), message)));
                }
                Incoming::BadLength(len) => {
                    return Err(Broken(format!("reply length {len} out of range")))
                }
                Incoming::Malformed(why) => return Err(Broken(why.into())),
                Incoming::Partial => {}
            }
            let n = match recv(self.fd.as_raw_fd(), &mut buf, MsgFlags::MSG_DONTWAIT) {
                Ok(0) => return Err(Broken("wtmpd closed the connection".into())),
                Ok(n) => n,
                Err(Errno::EAGAIN) => return Ok(None),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Broken(os_reason(&e.into()))),
            };
            self.reply.extend_from_slice(&buf[..n]);
        }
    }
}

/// A non-blocking connection to wtmpd. A local stream socket connects at
/// once, into the listen queue, even while wtmpd is stopped; a full queue
/// is a failure to retry, never a wait.
fn connect_to(path: &std::path::Path) -> io::Result<OwnedFd> {
    let addr = UnixAddr::new(path)?;
    let fd = crate::read::client::stream_socket()?;
    connect(fd.as_raw_fd(), &addr)?;
    Ok(fd)
}
