//! The one event loop both daemons run: poll over the listening socket, a
//! signalfd and every connection. No thread or fork per client; every
//! socket is non-blocking, every connection has a deadline, and each turn
//! gives each ready connection one read or one write, so a slow or
//! hostile client can only waste its own slot.
//!
//! Durable requests are answered after the turn's group commit: all the
//! appends that arrived in one turn share one fsync.

use std::io;
use std::marker::PhantomData;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::socket::{recv, MsgFlags};

mod admit;
mod utmps;

pub use admit::{conns_within, fd_limit, FD_HEADROOM};

use super::conn::{pollfd, send_some, Conn, State, Wire};
// Defined beside `Conn`, which checks its deadlines against them.
pub use super::conn::Limits;
use crate::protocol::{self, Incoming, Status};
use crate::sys::peer::Peer;

/// Replies up to this size are never held back.
const SMALL_REPLY: usize = 64 * 1024;
/// Reply bytes waiting for slow readers, in total, at most.
const MAX_QUEUED_REPLIES: usize = 32 << 20;

/// A service's answer to one request.
pub enum Response {
    /// Send this frame now.
    Now(Vec<u8>),
    /// Send this frame once commit number `tag` has succeeded.
    Durable { tag: usize, reply: Vec<u8> },
    /// Send this frame, then close the connection.
    Close(Vec<u8>),
}

/// What utmpd and wtmpd plug into the loop.
pub trait Service {
    fn name(&self) -> &'static str;
    fn handle(&mut self, peer: &Peer, code: u8, payload: &[u8]) -> Response;
    /// Make every queued durable write durable; one result per tag.
    fn commit(&mut self) -> Vec<Result<(), String>>;
    /// Periodic work; returns how long until it wants to run again.
    fn tick(&mut self) -> Duration;
    /// SIGHUP: reopen files.
    fn reopen(&mut self);
    /// SIGTERM: make anything still in memory durable.
    fn stop(&mut self) {}
    /// Descriptors of its own the service wants polled, with the events.
    fn watched_fds(&self) -> Vec<(RawFd, libc::c_short)> {
        Vec::new()
    }
    /// One of `watched_fds` has an event (or an error, or a hang-up).
    fn fd_ready(&mut self, _fd: RawFd) {}
    /// May the loop poll without sleeping for a moment after activity?
    /// Worth it for a service that answers from memory; not for one whose
    /// replies wait for the disk, where a busy CPU only slows the I/O.
    fn spins(&self) -> bool {
        false
    }
    /// utmps protocol: the payload size of request `op`; None if the
    /// service does not serve it.
    fn utmps_request_len(&self, _op: u8) -> Option<usize> {
        None
    }
    /// utmps protocol: one whole request; `cursor` is the connection's
    /// position in the utmp table. Replies are utmps frames.
    fn handle_utmps(
        &mut self,
        _peer: &Peer,
        _cursor: &mut usize,
        _op: u8,
        _payload: &[u8],
    ) -> Response {
        Response::Close(vec![libc::EPROTO as u8])
    }
}

/// Counters of what the loop did to clients, reported now and then instead
/// of one log line per hostile connection.
#[derive(Default)]
struct Incidents {
    evicted: u64,
    refused: u64,
    timed_out: u64,
    bad: u64,
}

/// Generic only at the door: the loop itself works on a `dyn Service`, so
/// the two daemons share one copy of it in the binary instead of two.
pub struct EventLoop<S: Service> {
    inner: Loop,
    service: PhantomData<S>,
}

impl<S: Service + 'static> EventLoop<S> {
    pub fn new(
        service: S,
        listener: OwnedFd,
        signals: OwnedFd,
        limits: Limits,
        group: Option<u32>,
    ) -> EventLoop<S> {
        EventLoop {
            inner: Loop::new(Box::new(service), listener, signals, limits, group),
            service: PhantomData,
        }
    }

    /// Also serve utmps' protocol on `listener` (`--utmps-socket`).
    pub fn with_utmps(mut self, listener: Option<OwnedFd>) -> EventLoop<S> {
        self.inner.utmps_listener = listener;
        self
    }

    /// Run until SIGTERM or SIGINT (exit status 0), or until the loop
    /// cannot go on (said on stderr; 111).
    pub fn run(&mut self) -> i32 {
        self.inner.run()
    }
}

struct Loop {
    service: Box<dyn Service>,
    listener: OwnedFd,
    /// Where utmps' clients connect, if anywhere.
    utmps_listener: Option<OwnedFd>,
    signals: OwnedFd,
    limits: Limits,
    group: Option<u32>,
    conns: Vec<Conn>,
    /// Connections per uid, for `-C`: a plain Vec, searched once per
    /// accept and close, costs less code than a map.
    per_uid: Vec<(u32, usize)>,
    /// Connections of unprivileged peers, at most `max_conns` less
    /// `reserved_conns`.
    unprivileged: usize,
    incidents: Incidents,
    /// Accept errors lately: their warnings and the listeners' rest.
    accept_trouble: admit::AcceptTrouble,
    next_report: Instant,
    /// When a descriptor was last ready: the loop polls without sleeping
    /// for `SPIN` after that (see `run`).
    last_ready: Instant,
}

/// How long the loop keeps polling without sleeping after activity. A
/// client in a loop sends its next request within microseconds of the
/// reply; sleeping in between costs the wake-up of an idle CPU on each one,
/// which on a VM is most of a round trip. An idle daemon never spins.
const SPIN: Duration = Duration::from_micros(100);

/// pollfds: the signalfd, the listener, the utmps listener (fd -1, which
/// poll skips, if there is none), then one per connection.
const FIRST_CONN: usize = 3;

fn errno() -> io::Error {
    io::Error::last_os_error()
}

impl Loop {
    fn new(
        service: Box<dyn Service>,
        listener: OwnedFd,
        signals: OwnedFd,
        mut limits: Limits,
        group: Option<u32>,
    ) -> Loop {
        let (fds, hard) = admit::nofile();
        if fds < hard {
            crate::sys::diag::say(format_args!(
                "{}: warning: unable to raise the descriptor limit from {fds} to {hard}",
                service.name()
            ));
        }
        let fitting = conns_within(fds, limits.max_conns);
        if fitting < limits.max_conns {
            crate::sys::diag::say(format_args!(
                "{}: warning: the descriptor limit ({fds}) leaves room for {fitting} connections, not {}",
                service.name(),
                limits.max_conns
            ));
            limits.max_conns = fitting;
        }
        Loop {
            service,
            listener,
            utmps_listener: None,
            signals,
            limits,
            group,
            conns: Vec::new(),
            per_uid: Vec::new(),
            unprivileged: 0,
            incidents: Incidents::default(),
            accept_trouble: admit::AcceptTrouble::default(),
            next_report: Instant::now(),
            last_ready: Instant::now(),
        }
    }

    fn run(&mut self) -> i32 {
        let mut next_tick = Instant::now() + self.service.tick();
        let mut pollfds: Vec<libc::pollfd> = Vec::new();
        loop {
            let now = Instant::now();
            if now >= next_tick {
                next_tick = now + self.service.tick();
                self.report(now);
            }
            let mut wake = next_tick;
            pollfds.clear();
            pollfds.push(pollfd(self.signals.as_raw_fd(), libc::POLLIN));
            // Resting listeners are left out (fd -1, which poll skips).
            let resting = self.accept_trouble.paused_until(now);
            let (native_fd, utmps_fd) = match resting {
                Some(until) => {
                    wake = wake.min(until);
                    (-1, -1)
                }
                None => (
                    self.listener.as_raw_fd(),
                    self.utmps_listener.as_ref().map_or(-1, |l| l.as_raw_fd()),
                ),
            };
            pollfds.push(pollfd(native_fd, libc::POLLIN));
            pollfds.push(pollfd(utmps_fd, libc::POLLIN));
            for conn in &self.conns {
                let events = match conn.state {
                    State::Reading => libc::POLLIN,
                    State::Writing => libc::POLLOUT,
                    State::Waiting(_) => 0,
                };
                pollfds.push(pollfd(conn.fd.as_raw_fd(), events));
                if let Some(d) = conn.deadline(&self.limits) {
                    wake = wake.min(d);
                }
            }
            let watched = self.service.watched_fds();
            for &(fd, events) in &watched {
                pollfds.push(pollfd(fd, events));
            }
            let ms = if self.conns.iter().any(|c| c.buffered) {
                0
            } else if self.service.spins() && self.last_ready.elapsed() < SPIN {
                // Give the CPU to a client that needs it to send the next
                // request, rather than spinning against it.
                std::thread::yield_now();
                0
            } else {
                wake.saturating_duration_since(Instant::now())
                    .as_millis()
                    .min(i32::MAX as u128) as libc::c_int
                    + 1
            };
            // Raw poll: nix's PollFd borrows each descriptor, and the
            // services hand over raw ones (pidfds, wtmpd's link).
            // SAFETY: pollfds is a valid array of its length.
            let rc = unsafe { libc::poll(pollfds.as_mut_ptr(), pollfds.len() as libc::nfds_t, ms) };
            if rc < 0 {
                let e = errno();
                if e.raw_os_error() == Some(libc::EINTR) {
                    continue;
                }
                return self.fail(format_args!("poll: {}", crate::sys::diag::os_reason(&e)));
            }
            if rc > 0 {
                self.last_ready = Instant::now();
            }
            if pollfds[0].revents != 0 && self.take_signals() {
                self.stop();
                return 0;
            }
            // Connections first (their indexes match pollfds), then accept.
            let mut closed = Vec::new();
            for i in 0..self.conns.len() {
                if self.conns[i].buffered {
                    // One request per connection per turn, so a client
                    // that pipelines cannot starve the others.
                    self.conns[i].buffered = false;
                    if !self.dispatch(i, Instant::now()) {
                        closed.push(i);
                    }
                    continue;
                }
                let revents = pollfds[i + FIRST_CONN].revents;
                if revents == 0 {
                    continue;
                }
                if !self.service_conn(i, revents) {
                    closed.push(i);
                }
            }
            self.commit(&mut closed);
            self.expire(&mut closed);
            let first_watched = FIRST_CONN + self.conns.len();
            for (k, &(fd, _)) in watched.iter().enumerate() {
                if pollfds[first_watched + k].revents != 0 {
                    self.service.fd_ready(fd);
                    // Let the service schedule what follows.
                    next_tick = Instant::now();
                }
            }
            self.close_all(closed);
            for (wire, k) in [(Wire::Native, 1), (Wire::Utmps, 2)] {
                if pollfds[k].revents != 0 {
                    if let Err(why) = self.accept(wire) {
                        return self.fail(format_args!("unable to accept connections: {why}"));
                    }
                }
            }
        }
    }

    /// Read what signals arrived; true when it is time to stop.
    fn take_signals(&mut self) -> bool {
        let mut stop = false;
        loop {
            // A signalfd_siginfo, whose first field is ssi_signo (u32).
            let mut info = [0u8; std::mem::size_of::<libc::signalfd_siginfo>()];
            if nix::unistd::read(&self.signals, &mut info) != Ok(info.len()) {
                return stop;
            }
            let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
            match signo as i32 {
                libc::SIGHUP => {
                    crate::sys::diag::say(format_args!(
                        "{}: info: SIGHUP: reopening files",
                        self.service.name()
                    ));
                    self.service.reopen();
                }
                _ => stop = true,
            }
        }
    }

    /// Finish what is queued (durable writes are synced and answered if the
    /// clients still listen), then return.
    fn stop(&mut self) {
        self.finish();
        crate::sys::diag::say(format_args!("{}: info: stopping", self.service.name()));
    }

    /// The loop cannot go on: finish what is queued, say why in one line;
    /// the exit status of a daemon's system failure.
    fn fail(&mut self, why: std::fmt::Arguments<'_>) -> i32 {
        self.finish();
        crate::sys::diag::say(format_args!("{}: fatal: {why}", self.service.name()));
        111
    }

    fn finish(&mut self) {
        let mut closed = Vec::new();
        self.commit(&mut closed);
        for conn in &mut self.conns {
            if conn.state == State::Writing {
                let _ = send_some(conn);
            }
        }
        self.service.stop();
    }

    /// One read or one write for connection `i`; false to close it.
    fn service_conn(&mut self, i: usize, revents: libc::c_short) -> bool {
        let now = Instant::now();
        let conn = &mut self.conns[i];
        match conn.state {
            State::Writing => {
                if revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
                    return false;
                }
                match send_some(conn) {
                    Ok(true) => self.after_reply(i, now),
                    Ok(false) => true,
                    Err(_) => false,
                }
            }
            State::Reading => {
                let most = match conn.wire {
                    Wire::Native => protocol::PREFIX + protocol::MAX_REQUEST,
                    Wire::Utmps => crate::protocol::utmps::MAX_REQUEST,
                };
                // Never zero: a whole request is taken off before the next
                // read (one request per turn, the rest served later).
                let room = most.saturating_sub(conn.input.len()).max(1);
                let mut buf = [0u8; 4096];
                let want = room.min(buf.len());
                let n = match recv(
                    conn.fd.as_raw_fd(),
                    &mut buf[..want],
                    MsgFlags::MSG_DONTWAIT,
                ) {
                    Ok(0) => return false,
                    Ok(n) => n,
                    Err(e) => return matches!(e, Errno::EAGAIN | Errno::EINTR),
                };
                if conn.input.is_empty() {
                    conn.started = now;
                }
                conn.last_active = now;
                conn.input.extend_from_slice(&buf[..n]);
                self.dispatch(i, now)
            }
            State::Waiting(_) => revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) == 0,
        }
    }

    /// A reply was sent: close if asked, else wait for the next request
    /// (served next turn if it is already buffered).
    fn after_reply(&mut self, i: usize, now: Instant) -> bool {
        let conn = &mut self.conns[i];
        if conn.close_after {
            return false;
        }
        conn.output.clear();
        conn.sent = 0;
        conn.state = State::Reading;
        conn.last_active = now;
        conn.started = now;
        conn.buffered = !conn.input.is_empty();
        true
    }

    /// If a whole request is buffered, hand it to the service.
    fn dispatch(&mut self, i: usize, now: Instant) -> bool {
        if self.conns[i].wire == Wire::Utmps {
            return self.dispatch_utmps(i, now);
        }
        let response = match protocol::take_request(&mut self.conns[i].input) {
            Incoming::Partial => return true,
            Incoming::BadLength(len) => {
                self.incidents.bad += 1;
                Response::Close(protocol::error_frame(
                    Status::TooLarge,
                    &format!(
                        "request length {len} outside {}..{}",
                        protocol::BODY_HEADER,
                        protocol::MAX_REQUEST
                    ),
                ))
            }
            Incoming::Malformed(why) => {
                self.incidents.bad += 1;
                Response::Close(protocol::error_frame(Status::BadRequest, why))
            }
            Incoming::Request(request) => {
                self.service
                    .handle(&self.conns[i].peer, request.code, request.payload())
            }
        };
        self.reply(i, response, now)
    }

    fn reply(&mut self, i: usize, response: Response, now: Instant) -> bool {
        let conn = &mut self.conns[i];
        conn.started = now;
        match response {
            Response::Durable { tag, reply } => {
                conn.pending_reply = reply;
                conn.state = State::Waiting(tag);
                true
            }
            Response::Now(frame) => self.start_write(i, frame, false, now),
            Response::Close(frame) => self.start_write(i, frame, true, now),
        }
    }

    fn start_write(&mut self, i: usize, mut frame: Vec<u8>, close: bool, now: Instant) -> bool {
        if frame.len() > SMALL_REPLY {
            // Large replies wait in memory until the client reads them;
            // bound their total so clients that never read cannot make
            // the daemon grow.
            let queued: usize = self
                .conns
                .iter()
                .filter(|c| c.state == State::Writing)
                .map(|c| c.output.len() - c.sent)
                .sum();
            if queued + frame.len() > MAX_QUEUED_REPLIES {
                self.incidents.refused += 1;
                frame = protocol::error_frame(Status::Limit, "daemon busy; try again");
            }
        }
        let conn = &mut self.conns[i];
        conn.output = frame;
        conn.sent = 0;
        conn.close_after = close;
        conn.state = State::Writing;
        match send_some(conn) {
            Ok(true) => self.after_reply(i, now),
            Ok(false) => true,
            Err(_) => false,
        }
    }

    /// The turn's group commit, then the answers that waited for it.
    fn commit(&mut self, closed: &mut Vec<usize>) {
        if !self
            .conns
            .iter()
            .any(|c| matches!(c.state, State::Waiting(_)))
        {
            return;
        }
        let results = self.service.commit();
        let now = Instant::now();
        for i in 0..self.conns.len() {
            let State::Waiting(tag) = self.conns[i].state else {
                continue;
            };
            let frame = match (results.get(tag), self.conns[i].wire) {
                (Some(Ok(())), _) => std::mem::take(&mut self.conns[i].pending_reply),
                (_, Wire::Utmps) => crate::protocol::utmps::status_reply(libc::EIO as u8),
                (Some(Err(why)), Wire::Native) => protocol::error_frame(Status::Io, why),
                (None, Wire::Native) => {
                    protocol::error_frame(Status::Io, "internal error: no commit result")
                }
            };
            if !self.start_write(i, frame, false, now) && !closed.contains(&i) {
                closed.push(i);
            }
        }
    }

    /// Close connections past their deadline.
    fn expire(&mut self, closed: &mut Vec<usize>) {
        let now = Instant::now();
        for (i, conn) in self.conns.iter().enumerate() {
            if conn.deadline(&self.limits).is_some_and(|d| now >= d) && !closed.contains(&i) {
                self.incidents.timed_out += 1;
                closed.push(i);
            }
        }
    }

    fn close_all(&mut self, mut closed: Vec<usize>) {
        closed.sort_unstable();
        closed.dedup();
        for &i in closed.iter().rev() {
            let conn = self.conns.swap_remove(i);
            if !conn.peer.privileged {
                self.unprivileged -= 1;
            }
            if let Some(at) = self.per_uid.iter().position(|e| e.0 == conn.peer.uid) {
                self.per_uid[at].1 -= 1;
                if self.per_uid[at].1 == 0 {
                    self.per_uid.swap_remove(at);
                }
            }
        }
    }

    /// One line now and then about clients the loop had to cut off.
    fn report(&mut self, now: Instant) {
        if now < self.next_report {
            return;
        }
        let i = &self.incidents;
        if i.evicted + i.refused + i.timed_out + i.bad > 0 {
            crate::sys::diag::say(format_args!(
                "{}: warning: clients cut off: {} evicted, {} refused at the limit, {} past a deadline, {} malformed",
                self.service.name(),
                i.evicted,
                i.refused,
                i.timed_out,
                i.bad
            ));
            self.incidents = Incidents::default();
        }
        self.next_report = now + Duration::from_secs(10);
    }
}
