//! The client side of the daemon protocol, used by utmpset and by every
//! reader (through `sources::open_default` and `history::History`).
//!
//! Every call has a deadline: connecting, sending and receiving all give up
//! when it passes, so a hung or absent daemon costs a reader at most that
//! long before it falls back to the files.

// The read half is used by the reader applets through
// `sources::open_default` and `history`, the lastlog calls by the lastlog
// applet; a build without them must not warn about it.
#![allow(dead_code)]

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    connect, getsockopt, recv, send, socket, sockopt, AddressFamily, MsgFlags, SockFlag, SockType,
    UnixAddr,
};

use crate::protocol::{self, op, LogDb, ReadQuery, Reader, Status};
use crate::read::paths::{utmpd_socket, wtmpd_socket};
use crate::record::Record;

/// Why a call did not succeed.
#[derive(Debug)]
pub enum Error {
    /// No daemon answered: no socket, connection refused, or the connect
    /// deadline passed. Readers fall back to the files on this one only.
    NoDaemon(io::Error),
    /// The connection broke or timed out after the daemon accepted it.
    Io(io::Error),
    /// The daemon refused the request and said why.
    Refused { status: Status, message: String },
    /// The daemon's reply did not parse.
    Protocol(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoDaemon(e) => write!(f, "no daemon: {}", crate::sys::diag::os_reason(e)),
            Error::Io(e) => write!(f, "{}", crate::sys::diag::os_reason(e)),
            Error::Refused { message, .. } => write!(f, "{message}"),
            Error::Protocol(why) => write!(f, "protocol error: {why}"),
        }
    }
}

impl Error {
    /// As an io::Error, so readers can word it like a file error
    /// (a refused btmp read becomes "Permission denied").
    pub fn into_io(self) -> io::Error {
        match self {
            Error::NoDaemon(e) | Error::Io(e) => e,
            Error::Refused {
                status: Status::Denied,
                ..
            } => io::Error::from_raw_os_error(libc::EACCES),
            Error::Refused {
                status: Status::NotFound,
                ..
            } => io::Error::from_raw_os_error(libc::ENOENT),
            Error::Refused { message, .. } => io::Error::other(message),
            Error::Protocol(why) => io::Error::new(io::ErrorKind::InvalidData, why),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// One connection to a daemon. Requests run one at a time.
pub struct Client {
    fd: OwnedFd,
    timeout: Duration,
    /// Retry receives briefly before sleeping (see `recv_some`); off for
    /// requests whose reply waits for the disk.
    spin: bool,
}

impl Client {
    pub fn utmpd(timeout: Duration) -> Result<Client> {
        Client::connect(&utmpd_socket(), timeout)
    }

    pub fn wtmpd(timeout: Duration) -> Result<Client> {
        Client::connect(&wtmpd_socket(), timeout)
    }

    /// Connect within `timeout`. A full accept queue is retried until the
    /// deadline rather than waited on forever; a missing or refusing
    /// socket is no daemon at once, so a reader falls back to the files
    /// without delay.
    pub fn connect(path: &Path, timeout: Duration) -> Result<Client> {
        let deadline = Instant::now() + timeout;
        let addr = UnixAddr::new(path).map_err(|e| Error::NoDaemon(e.into()))?;
        let fd = connect_once(&addr, deadline).map_err(Error::NoDaemon)?;
        Ok(Client::over(fd, timeout))
    }

    /// Connect as a writer must: a daemon still starting (no socket yet,
    /// or refusing) is retried with a short backoff until `timeout`.
    pub fn connect_waiting(path: &Path, timeout: Duration) -> Result<Client> {
        let deadline = Instant::now() + timeout;
        let addr = UnixAddr::new(path).map_err(|e| Error::NoDaemon(e.into()))?;
        let mut pause = Duration::from_millis(1);
        loop {
            match connect_once(&addr, deadline) {
                Ok(fd) => return Ok(Client::over(fd, timeout)),
                Err(e) if starting(&e) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Error::NoDaemon(e));
                    }
                    std::thread::sleep(pause.min(left));
                    pause = (pause * 2).min(MAX_CONNECT_PAUSE);
                }
                Err(e) => return Err(Error::NoDaemon(e)),
            }
        }
    }

    /// `connect_waiting` to utmpd.
    pub fn utmpd_waiting(timeout: Duration) -> Result<Client> {
        Client::connect_waiting(&utmpd_socket(), timeout)
    }

    /// `connect_waiting` to wtmpd.
    pub fn wtmpd_waiting(timeout: Duration) -> Result<Client> {
        Client::connect_waiting(&wtmpd_socket(), timeout)
    }

    fn over(fd: OwnedFd, timeout: Duration) -> Client {
        Client {
            fd,
            timeout,
            spin: true,
        }
    }

    /// Send one request and wait for its reply; the payload on success.
    pub fn call(&mut self, code: u8, payload: &[u8]) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        let range = self.call_into(code, payload, &mut body)?;
        body.truncate(range.end);
        body.drain(..range.start);
        Ok(body)
    }

    /// As `call`, the reply read into `body` (its memory reused: a reader
    /// streaming a history asks hundreds of times for up to 512 KiB, and
    /// fresh buffers cost a page fault per page each time); the range of
    /// the payload in it.
    fn call_into(
        &mut self,
        code: u8,
        payload: &[u8],
        body: &mut Vec<u8>,
    ) -> Result<std::ops::Range<usize>> {
        let deadline = Instant::now() + self.timeout;
        // A durable write's reply waits for the disk: spinning would only
        // take CPU time a virtual machine's I/O path may need.
        self.spin = !matches!(code, op::LOG_APPEND | op::LASTLOG_SET | op::LASTLOG_CLEAR);
        let request = protocol::frame(code, payload);
        self.send_all(&request, deadline).map_err(Error::Io)?;
        // One read usually brings the whole reply; read the prefix and as
        // much as came with it, then exactly what is missing.
        body.resize(body.len().max(64 * 1024), 0);
        let mut got = 0;
        while got < protocol::PREFIX {
            got += self.recv_some(&mut body[got..], deadline)?;
        }
        let len = protocol::body_len(&body);
        if len > protocol::MAX_REPLY {
            return Err(Error::Protocol("reply larger than the limit"));
        }
        let total = protocol::PREFIX + len;
        if got > total {
            return Err(Error::Protocol("reply longer than announced"));
        }
        body.resize(total.max(body.len()), 0);
        self.recv_exact(&mut body[got..total], deadline)?;
        let (status, reply) =
            protocol::split_body(&body[protocol::PREFIX..total]).map_err(Error::Protocol)?;
        match Status::from_raw(status) {
            Status::Ok => Ok(total - reply.len()..total),
            status => Err(Error::Refused {
                status,
                message: String::from_utf8_lossy(reply).into_owned(),
            }),
        }
    }

    fn send_all(&mut self, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
        while !bytes.is_empty() {
            // MSG_NOSIGNAL turns a closed peer into EPIPE instead of
            // killing the reader.
            match send(self.fd.as_raw_fd(), bytes, MsgFlags::MSG_NOSIGNAL) {
                Ok(n) => bytes = &bytes[n..],
                Err(Errno::EAGAIN) => wait_for(self.fd.as_fd(), PollFlags::POLLOUT, deadline)?,
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn recv_exact(&mut self, mut buf: &mut [u8], deadline: Instant) -> Result<()> {
        while !buf.is_empty() {
            let n = self.recv_some(buf, deadline)?;
            buf = &mut buf[n..];
        }
        Ok(())
    }

    /// Receive at least one byte into `buf`; how many came.
    fn recv_some(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize> {
        // A reply usually comes within tens of microseconds; retrying for a
        // moment before sleeping in poll saves this CPU's wake-up from idle.
        // Each retry yields, so a daemon waiting for this CPU gets it.
        let spin_until = if self.spin {
            Instant::now() + SPIN
        } else {
            Instant::now()
        };
        loop {
            match recv(self.fd.as_raw_fd(), buf, MsgFlags::empty()) {
                Ok(0) => {
                    return Err(Error::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "daemon closed the connection",
                    )))
                }
                Ok(n) => return Ok(n),
                Err(Errno::EAGAIN) if Instant::now() < spin_until => std::thread::yield_now(),
                Err(Errno::EAGAIN) => {
                    wait_for(self.fd.as_fd(), PollFlags::POLLIN, deadline).map_err(Error::Io)?
                }
                Err(Errno::EINTR) => {}
                Err(e) => return Err(Error::Io(e.into())),
            }
        }
    }

    /// The whole utmp table and the file the daemon keeps it in.
    pub fn utmp_list(&mut self) -> Result<(PathBuf, Vec<Record>)> {
        let reply = self.call(op::UTMP_LIST, b"")?;
        let mut r = Reader::new(&reply);
        let path = path_from(r.bytes16().map_err(Error::Protocol)?);
        let records = r.records().map_err(Error::Protocol)?;
        r.end().map_err(Error::Protocol)?;
        Ok((path, records))
    }

    /// getutxid: the entry matching `template`'s kind and id.
    pub fn utmp_get_id(&mut self, template: &Record) -> Result<Option<Record>> {
        let mut payload = Vec::new();
        protocol::put_record(&mut payload, template).map_err(Error::Protocol)?;
        self.optional_record(op::UTMP_GET_ID, &payload)
    }

    /// getutxline: the login or user entry for `line`.
    pub fn utmp_get_line(&mut self, line: &[u8]) -> Result<Option<Record>> {
        let mut payload = Vec::new();
        protocol::put_short_bytes(&mut payload, line);
        self.optional_record(op::UTMP_GET_LINE, &payload)
    }

    /// pututxline: store `record`; the reply is what was stored.
    pub fn utmp_put(&mut self, record: &Record) -> Result<Record> {
        let mut payload = Vec::new();
        protocol::put_record(&mut payload, record).map_err(Error::Protocol)?;
        let reply = self.call(op::UTMP_PUT, &payload)?;
        one_record(&reply)
    }

    /// Append to wtmp or btmp; returns once the record is on disk.
    pub fn log_append(&mut self, db: LogDb, record: &Record) -> Result<()> {
        let mut payload = vec![db as u8];
        protocol::put_record(&mut payload, record).map_err(Error::Protocol)?;
        self.call(op::LOG_APPEND, &payload).map(|_| ())
    }

    /// How many records a history file holds, and its path.
    pub fn log_stat(&mut self, db: LogDb) -> Result<(u64, PathBuf)> {
        let reply = self.call(op::LOG_STAT, &[db as u8])?;
        let mut r = Reader::new(&reply);
        let count = r.u64().map_err(Error::Protocol)?;
        let path = path_from(r.bytes16().map_err(Error::Protocol)?);
        r.end().map_err(Error::Protocol)?;
        Ok((count, path))
    }

    /// One batch of history, newest first, with the index to continue
    /// from (0 when the start of the file was reached) and, when the query
    /// asks, the indexes of the corrupt records it passed over.
    pub fn log_read(&mut self, db: LogDb, query: &ReadQuery) -> Result<Batch> {
        let mut batch = Batch::default();
        self.log_read_into(db, query, &mut batch)?;
        Ok(batch)
    }

    /// As `log_read`, into `batch`, whose memory is reused.
    pub fn log_read_into(&mut self, db: LogDb, query: &ReadQuery, batch: &mut Batch) -> Result<()> {
        let range = self.call_into(op::LOG_READ, &query.encode(db), &mut batch.reply)?;
        let reply = &batch.reply[range.clone()];
        let mut r = Reader::new(reply);
        batch.next = r.u64().map_err(Error::Protocol)?;
        let raw = r.raw_records().map_err(Error::Protocol)?;
        let start = range.start + (raw.as_ptr() as usize - reply.as_ptr() as usize);
        batch.raw = start..start + raw.len();
        batch.corrupt.clear();
        if query.report_corrupt {
            let n = r.u16().map_err(Error::Protocol)?;
            for _ in 0..n {
                batch.corrupt.push(r.u64().map_err(Error::Protocol)?);
            }
        }
        r.end().map_err(Error::Protocol)
    }

    pub fn lastlog_get(&mut self, user: &[u8]) -> Result<Option<Record>> {
        let mut payload = Vec::new();
        protocol::put_short_bytes(&mut payload, user);
        self.optional_record(op::LASTLOG_GET, &payload)
    }

    /// Every lastlog entry and the file the daemon keeps them in.
    pub fn lastlog_list(&mut self) -> Result<(PathBuf, Vec<Record>)> {
        let reply = self.call(op::LASTLOG_LIST, b"")?;
        let mut r = Reader::new(&reply);
        let path = path_from(r.bytes16().map_err(Error::Protocol)?);
        let records = r.records().map_err(Error::Protocol)?;
        r.end().map_err(Error::Protocol)?;
        Ok((path, records))
    }

    /// Set a user's last login (user, time, line, host of `record`).
    pub fn lastlog_set(&mut self, record: &Record) -> Result<()> {
        let mut payload = Vec::new();
        protocol::put_record(&mut payload, record).map_err(Error::Protocol)?;
        self.call(op::LASTLOG_SET, &payload).map(|_| ())
    }

    /// Forget a user's last login.
    pub fn lastlog_clear(&mut self, user: &[u8]) -> Result<()> {
        let mut payload = Vec::new();
        protocol::put_short_bytes(&mut payload, user);
        self.call(op::LASTLOG_CLEAR, &payload).map(|_| ())
    }

    fn optional_record(&mut self, code: u8, payload: &[u8]) -> Result<Option<Record>> {
        match self.call(code, payload) {
            Ok(reply) => one_record(&reply).map(Some),
            Err(Error::Refused {
                status: Status::NotFound,
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn one_record(reply: &[u8]) -> Result<Record> {
    let mut r = Reader::new(reply);
    let record = r.record().map_err(Error::Protocol)?;
    r.end().map_err(Error::Protocol)?;
    Ok(record)
}

/// One LOG_READ answer.
#[derive(Default)]
pub struct Batch {
    pub next: u64,
    /// The whole reply; `raw` is where its records are.
    reply: Vec<u8>,
    raw: std::ops::Range<usize>,
    pub corrupt: Vec<u64>,
}

impl Batch {
    /// The records, newest first, in their native bytes, every checksum
    /// checked: to be viewed in place (`record::view::Records::Native`).
    pub fn raw(&self) -> &[u8] {
        &self.reply[self.raw.clone()]
    }
}

/// The longest sleep between connects to a daemon that is starting: it
/// listens within milliseconds of being started.
const MAX_CONNECT_PAUSE: Duration = Duration::from_millis(50);

/// Whether a connect error means a daemon that is not listening yet: its
/// socket is not there, or nobody accepts on it, or its queue is full.
fn starting(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT | libc::ECONNREFUSED | libc::EAGAIN)
    )
}

/// A fresh local stream socket, non-blocking and close-on-exec: what a
/// daemon's listener and every connection to a daemon start from.
pub fn stream_socket() -> io::Result<OwnedFd> {
    Ok(socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )?)
}

/// One connection attempt on a fresh socket (a failed connect leaves a
/// socket unfit to try again). A full accept queue is retried until the
/// deadline, then reported as ETIMEDOUT.
fn connect_once(addr: &UnixAddr, deadline: Instant) -> io::Result<OwnedFd> {
    let fd = stream_socket()?;
    loop {
        match connect(fd.as_raw_fd(), addr) {
            Ok(()) => return Ok(fd),
            Err(Errno::EAGAIN) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(Errno::EINPROGRESS) => {
                wait_for(fd.as_fd(), PollFlags::POLLOUT, deadline)?;
                return match getsockopt(&fd, sockopt::SocketError)? {
                    0 => Ok(fd),
                    err => Err(io::Error::from_raw_os_error(err)),
                };
            }
            Err(Errno::EINTR) => {}
            Err(Errno::EAGAIN) => return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT)),
            Err(e) => return Err(e.into()),
        }
    }
}

/// How long a client retries a non-blocking receive before it sleeps.
const SPIN: std::time::Duration = std::time::Duration::from_micros(100);

fn path_from(bytes: &[u8]) -> PathBuf {
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

/// Wait until `fd` is ready for `events` or the deadline passes.
fn wait_for(fd: BorrowedFd<'_>, events: PollFlags, deadline: Instant) -> io::Result<()> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT));
        }
        let ms = left.as_millis().clamp(1, i32::MAX as u128);
        let timeout = PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX);
        match poll(&mut [PollFd::new(fd, events)], timeout) {
            Ok(0) | Err(Errno::EINTR) => {}
            Ok(_) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
}
