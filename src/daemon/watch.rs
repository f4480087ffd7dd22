//! Session processes watched through pidfds, so utmpd learns the moment a
//! session's process exits and its logout carries the real end time.
//! Pidfds are descriptors, so their number has a budget that leaves room
//! for clients (`budget`); sessions past it, or where pidfd_open fails, are
//! polled instead (`unwatched`), and the periodic sweep stays as the
//! backstop (a process in another pid namespace, a recycled pid).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::{sysconf, Pid, SysconfVar};

use super::event::{conns_within, FD_HEADROOM};

pub enum Opened {
    Watching,
    /// The process is already gone.
    Gone,
    /// Not watchable here (no pidfd_open, budget spent): polled instead.
    Unwatched,
}

pub struct PidWatch {
    /// Watched sessions: slot, pidfd, pid. A plain Vec (at most `budget`
    /// long, searched on session changes only) costs less code than a map.
    by_slot: Vec<(usize, OwnedFd, i32)>,
    /// At most this many pidfds.
    budget: usize,
    /// Live sessions without a pidfd: slot and pid, sorted by slot (a
    /// sorted Vec: a BTreeMap would add 5 KB of code to the tiny build).
    unwatched: Vec<(usize, i32)>,
}

/// Pidfds that fit the descriptor limit `fd_limit` beside `max_conns`
/// connections and the loop's headroom, and at most one per table slot.
pub fn budget(fd_limit: usize, max_conns: usize, max_slots: usize) -> usize {
    fd_limit
        .saturating_sub(conns_within(fd_limit, max_conns) + FD_HEADROOM)
        .min(max_slots)
}

impl PidWatch {
    pub fn new(budget: usize) -> PidWatch {
        PidWatch {
            by_slot: Vec::new(),
            budget,
            unwatched: Vec::new(),
        }
    }

    /// Watch `pid` for table slot `slot` (replacing any earlier watch).
    pub fn watch(&mut self, slot: usize, pid: i32) -> Opened {
        if let Some((_, _, watched)) = self.by_slot.iter().find(|w| w.0 == slot) {
            if *watched == pid {
                return Opened::Watching;
            }
        }
        self.forget(slot);
        if self.by_slot.len() >= self.budget {
            self.set_unwatched(slot, pid);
            return Opened::Unwatched;
        }
        // nix has no pidfd_open: the raw system call.
        // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            if std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
                return Opened::Gone;
            }
            self.set_unwatched(slot, pid);
            return Opened::Unwatched;
        }
        // SAFETY: a fresh descriptor from pidfd_open, owned from here on.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        // pidfds are created close-on-exec by the kernel.
        self.by_slot.push((slot, fd, pid));
        Opened::Watching
    }

    pub fn forget(&mut self, slot: usize) {
        if let Some(at) = self.by_slot.iter().position(|w| w.0 == slot) {
            self.by_slot.swap_remove(at);
        }
        if let Ok(at) = self.unwatched_at(slot) {
            self.unwatched.remove(at);
        }
    }

    pub fn fds(&self) -> Vec<RawFd> {
        self.by_slot.iter().map(|w| w.1.as_raw_fd()).collect()
    }

    /// The slot whose process `fd` watches.
    pub fn slot_of(&self, fd: RawFd) -> Option<usize> {
        self.by_slot
            .iter()
            .find(|w| w.1.as_raw_fd() == fd)
            .map(|w| w.0)
    }

    /// The sessions to poll: slot and pid.
    pub fn unwatched(&self) -> Vec<(usize, i32)> {
        self.unwatched.clone()
    }

    fn unwatched_at(&self, slot: usize) -> Result<usize, usize> {
        self.unwatched.binary_search_by_key(&slot, |&(s, _)| s)
    }

    fn set_unwatched(&mut self, slot: usize, pid: i32) {
        match self.unwatched_at(slot) {
            Ok(at) => self.unwatched[at].1 = pid,
            Err(at) => self.unwatched.insert(at, (slot, pid)),
        }
    }

    pub fn has_unwatched(&self) -> bool {
        !self.unwatched.is_empty()
    }
}

/// Does `pid` exist? One cheap system call, for polling.
pub fn process_exists(pid: i32) -> bool {
    // No signal: only the existence check.
    matches!(kill(Pid::from_raw(pid), None), Ok(()) | Err(Errno::EPERM))
}

/// Is `pid` still the process that started the session at `since_us`? A
/// process that started well after the session is a recycled pid.
pub fn process_alive(pid: i32, since_us: i64, boot_us: i64) -> bool {
    if !process_exists(pid) {
        return false;
    }
    let Some(stat) = crate::sys::infile::read_any_text(format!("/proc/{pid}/stat").as_ref()) else {
        return true;
    };
    let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return true;
    };
    let Some(ticks) = after
        .split_whitespace()
        .nth(19)
        .and_then(|t| t.parse::<i64>().ok())
    else {
        return true;
    };
    let hz = sysconf(SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(1)
        .max(1) as i64;
    let started_us = boot_us + ticks * 1_000_000 / hz;
    started_us <= since_us + 5_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pidfds_fit_beside_the_connections() {
        assert_eq!(budget(256, 100, 4096), 92);
        assert_eq!(budget(256, 1000, 4096), 0);
        assert_eq!(budget(1024, 1000, 4096), 0);
        assert_eq!(budget(20_000, 1000, 4096), 4096);
    }

    #[test]
    fn past_the_budget_sessions_are_polled() {
        let me = std::process::id() as i32;
        let mut watch = PidWatch::new(1);
        assert!(matches!(watch.watch(0, me), Opened::Watching));
        assert!(matches!(watch.watch(1, me), Opened::Unwatched));
        assert_eq!(watch.unwatched(), [(1, me)]);
        assert_eq!(watch.fds().len(), 1);
        // Room freed: the polled session can be watched.
        watch.forget(0);
        assert!(matches!(watch.watch(1, me), Opened::Watching));
        assert!(!watch.has_unwatched());
        assert!(process_exists(me));
    }
}
