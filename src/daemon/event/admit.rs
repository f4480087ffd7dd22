//! Who gets in: admitting connections within the descriptor limit, the
//! per-uid limit and the room kept for root and the accounting group, and
//! which connection to close to make room (docs/SECURITY.md).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::super::conn::{refuse, Conn, State, Wire};
use crate::sys::peer::{self, Peer};
use nix::errno::Errno;
use nix::sys::resource::{getrlimit, Resource};
use nix::sys::socket::{accept4, SockFlag};

use super::Loop;

/// Descriptors kept free beyond connections (and utmpd's pidfds): the
/// listener, the signalfd, the service's files, its link to wtmpd, /proc
/// reads, and a margin for accept to fail cleanly.
pub const FD_HEADROOM: usize = 64;

/// The soft limit on open descriptors (`prepare` has raised it to the
/// hard limit if it could).
pub fn fd_limit() -> usize {
    nofile().0
}

/// RLIMIT_NOFILE: soft and hard.
pub fn nofile() -> (usize, usize) {
    let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
        return (1024, 1024);
    };
    let size = |v: libc::rlim_t| usize::try_from(v).unwrap_or(usize::MAX);
    (size(soft), size(hard))
}

/// Connections the descriptor limit has room for: `max_conns`, at most
/// the limit less the headroom.
pub fn conns_within(fd_limit: usize, max_conns: usize) -> usize {
    max_conns.min(fd_limit.saturating_sub(FD_HEADROOM)).max(1)
}

/// Connections only root and the accounting group may take: a tenth of
/// `-c`, at least 8, at most half (1000: 100 kept).
pub fn reserved_conns(max_conns: usize) -> usize {
    (max_conns / 10).max(8).min(max_conns / 2)
}

/// How long the listeners are left unpolled after accept ran out of a
/// resource (descriptors, memory): a listener with clients waiting stays
/// readable, and polling it again at once would only spin.
pub const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// At most one warning about accept errors in this long.
const ACCEPT_WARN_EVERY: Duration = Duration::from_secs(1);

/// What an accept error means for the loop.
#[derive(Debug, PartialEq, Eq)]
pub enum AcceptFailure {
    /// Nothing is waiting, or a signal came: nothing to say.
    Quiet,
    /// That one connection failed (its client gave up first): say so,
    /// now and then, and take the next.
    Next,
    /// Out of a resource no client can be shed for (descriptors, kernel
    /// memory): say so, now and then, and leave the listeners alone for
    /// `ACCEPT_PAUSE`, serving the connections already open.
    Pause,
    /// The listener is not a listening socket (closed, or never listened):
    /// no later turn can accept anything, so the daemon stops.
    Fatal,
}

impl AcceptFailure {
    pub fn of(e: Errno) -> AcceptFailure {
        match e {
            Errno::EAGAIN | Errno::EINTR => AcceptFailure::Quiet,
            Errno::ECONNABORTED | Errno::EPROTO | Errno::EPERM => AcceptFailure::Next,
            Errno::EBADF | Errno::ENOTSOCK | Errno::EINVAL | Errno::EOPNOTSUPP | Errno::EFAULT => {
                AcceptFailure::Fatal
            }
            // EMFILE, ENFILE, ENOBUFS, ENOMEM, and anything unforeseen: a
            // pause never spins and never gives up on a listener that may
            // still work.
            _ => AcceptFailure::Pause,
        }
    }
}

/// Accept errors seen lately: when the last warning was said, how many
/// were not said since, and until when the listeners rest.
#[derive(Default)]
pub struct AcceptTrouble {
    warned: Option<Instant>,
    unsaid: u64,
    paused_until: Option<Instant>,
}

impl AcceptTrouble {
    /// One warning line, unless one was said in the last second (then it
    /// is counted, and the next line says how many were left out).
    fn warn(&mut self, daemon: &str, e: Errno) {
        let now = Instant::now();
        if self
            .warned
            .is_some_and(|at| now.duration_since(at) < ACCEPT_WARN_EVERY)
        {
            self.unsaid += 1;
            return;
        }
        let reason = crate::sys::diag::os_reason(&e.into());
        if self.unsaid > 0 {
            crate::sys::diag::say(format_args!(
                "{daemon}: warning: accept: {reason} ({} more since the last warning)",
                self.unsaid
            ));
        } else {
            crate::sys::diag::say(format_args!("{daemon}: warning: accept: {reason}"));
        }
        self.warned = Some(now);
        self.unsaid = 0;
    }

    fn pause(&mut self) {
        self.paused_until = Some(Instant::now() + ACCEPT_PAUSE);
    }

    /// Until when the listeners are not polled, if they rest now.
    pub fn paused_until(&mut self, now: Instant) -> Option<Instant> {
        match self.paused_until {
            Some(until) if until > now => Some(until),
            _ => {
                self.paused_until = None;
                None
            }
        }
    }
}

/// Whether a connection waits on `listener` to be accepted.
fn someone_waits(listener: std::os::fd::RawFd) -> bool {
    let mut fds = [super::super::conn::pollfd(listener, libc::POLLIN)];
    // SAFETY: one valid pollfd, no waiting.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) };
    ready > 0 && fds[0].revents & libc::POLLIN != 0
}

/// Which connection to close to make room for another.
#[derive(Clone, Copy)]
enum Victim {
    /// The longest-idle connection.
    Idle,
    /// The longest-idle connection of this uid.
    IdleOf(u32),
    /// The longest-idle connection of an unprivileged peer.
    IdleUnprivileged,
    /// The unprivileged connection longest in its current request.
    SlowestUnprivileged,
}

impl Loop {
    /// Accept what is waiting on the listener of `wire` (a bounded number
    /// per turn), making room as `make_room` says. Both listeners share
    /// the limits: a utmps client is a client like any other. An error
    /// no later turn can recover from (the listener is not a listening
    /// socket any more) is returned, worded; the loop then stops.
    pub(super) fn accept(&mut self, wire: Wire) -> Result<(), String> {
        let listener = match wire {
            Wire::Native => self.listener.as_raw_fd(),
            Wire::Utmps => match &self.utmps_listener {
                Some(l) => l.as_raw_fd(),
                None => return Ok(()),
            },
        };
        for _ in 0..64 {
            let raw = match accept4(listener, SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC) {
                Ok(raw) => raw,
                // Out of descriptors. accept4 takes the number before it
                // looks at the queue, so this comes with nobody waiting
                // too: then there is nothing to make room for.
                Err(Errno::EMFILE | Errno::ENFILE) if !someone_waits(listener) => return Ok(()),
                // Someone waits: shed the longest-idle client, try again.
                Err(Errno::EMFILE | Errno::ENFILE) if self.evict(Victim::Idle) => continue,
                Err(e) => match AcceptFailure::of(e) {
                    AcceptFailure::Quiet => return Ok(()),
                    AcceptFailure::Next => {
                        self.accept_trouble.warn(self.service.name(), e);
                        continue;
                    }
                    AcceptFailure::Pause => {
                        self.accept_trouble.warn(self.service.name(), e);
                        self.accept_trouble.pause();
                        return Ok(());
                    }
                    AcceptFailure::Fatal => {
                        return Err(crate::sys::diag::os_reason(&e.into()));
                    }
                },
            };
            // SAFETY: a fresh descriptor from accept4.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            let Ok(peer) = peer::peer_of(&fd, self.group) else {
                continue;
            };
            if let Err(why) = self.make_room(&peer) {
                self.incidents.refused += 1;
                refuse(&fd, wire, why);
                continue;
            }
            let now = Instant::now();
            match self.per_uid.iter_mut().find(|e| e.0 == peer.uid) {
                Some(entry) => entry.1 += 1,
                None => self.per_uid.push((peer.uid, 1)),
            }
            if !peer.privileged {
                self.unprivileged += 1;
            }
            self.conns.push(Conn {
                fd,
                peer,
                input: Vec::new(),
                output: Vec::new(),
                sent: 0,
                state: State::Reading,
                close_after: false,
                started: now,
                last_active: now,
                pending_reply: Vec::new(),
                buffered: false,
                wire,
                cursor: 0,
            });
        }
        Ok(())
    }

    /// Room for a new connection from `peer`, closing others if need be.
    /// An unprivileged peer is held to `-C` connections of its uid and, with
    /// every other unprivileged peer, to `-c` less `reserved_conns`; it may
    /// only ever displace an idle unprivileged connection. Root and the
    /// accounting group, in a full house, displace an idle unprivileged
    /// connection, else the unprivileged one longest in its current
    /// request, else the longest-idle of their own: slow clients, however
    /// many uids they come from, cannot keep a login out.
    fn make_room(&mut self, peer: &Peer) -> Result<(), &'static str> {
        if !peer.privileged {
            let mine = self
                .per_uid
                .iter()
                .find(|e| e.0 == peer.uid)
                .map_or(0, |e| e.1);
            if mine >= self.limits.max_per_uid && !self.evict(Victim::IdleOf(peer.uid)) {
                return Err("too many connections from your uid");
            }
            let cap = self.limits.max_conns - reserved_conns(self.limits.max_conns);
            if self.unprivileged >= cap && !self.evict(Victim::IdleUnprivileged) {
                return Err("too many connections");
            }
        }
        let full = self.conns.len() >= self.limits.max_conns;
        if full
            && !self.evict(Victim::IdleUnprivileged)
            && !(peer.privileged
                && (self.evict(Victim::SlowestUnprivileged) || self.evict(Victim::Idle)))
        {
            return Err("too many connections");
        }
        Ok(())
    }

    /// Close the connection `victim` picks; false if there is none.
    fn evict(&mut self, victim: Victim) -> bool {
        let candidates = self.conns.iter().enumerate().filter(|(_, c)| match victim {
            Victim::Idle => c.is_idle(),
            Victim::IdleOf(uid) => c.is_idle() && c.peer.uid == uid,
            Victim::IdleUnprivileged => c.is_idle() && !c.peer.privileged,
            // A request waiting for the turn's commit is answered within
            // the turn: never worth cutting off.
            Victim::SlowestUnprivileged => {
                !c.peer.privileged && !matches!(c.state, State::Waiting(_))
            }
        });
        let pick = match victim {
            Victim::SlowestUnprivileged => candidates.min_by_key(|(_, c)| c.started),
            _ => candidates.min_by_key(|(_, c)| c.last_active),
        };
        match pick.map(|(i, _)| i) {
            Some(i) => {
                self.incidents.evicted += 1;
                self.close_all(vec![i]);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserves_and_the_descriptor_limit() {
        assert_eq!(reserved_conns(1000), 100);
        assert_eq!(reserved_conns(100), 10);
        assert_eq!(reserved_conns(40), 8);
        assert_eq!(reserved_conns(10), 5);
        assert_eq!(conns_within(20_000, 1000), 1000);
        assert_eq!(conns_within(1024, 1000), 960);
        assert_eq!(conns_within(256, 1000), 192);
        assert_eq!(conns_within(10, 1000), 1);
    }

    #[test]
    fn accept_errors_by_what_the_loop_can_do() {
        use AcceptFailure::*;
        for (e, want) in [
            (Errno::EAGAIN, Quiet),
            (Errno::EINTR, Quiet),
            (Errno::ECONNABORTED, Next),
            (Errno::EPROTO, Next),
            (Errno::EMFILE, Pause),
            (Errno::ENFILE, Pause),
            (Errno::ENOBUFS, Pause),
            (Errno::ENOMEM, Pause),
            (Errno::EBADF, Fatal),
            (Errno::ENOTSOCK, Fatal),
            (Errno::EINVAL, Fatal),
            (Errno::EOPNOTSUPP, Fatal),
        ] {
            assert_eq!(AcceptFailure::of(e), want, "{e}");
        }
    }
}
