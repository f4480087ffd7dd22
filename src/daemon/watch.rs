//! Session processes watched through pidfds, so utmpd learns the moment a
//! session's process exits and its logout carries the real end time. The
//! periodic sweep stays as the backstop (no pidfd support, a process in
//! another pid namespace, more sessions than the watch limit).

use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// At most this many pidfds, so sessions cannot exhaust descriptors.
const MAX_WATCHES: usize = 1024;

pub enum Opened {
    Watching,
    /// The process is already gone.
    Gone,
    /// Not watchable here (no pidfd_open, limit reached): rely on the sweep.
    Unwatched,
}

#[derive(Default)]
pub struct PidWatch {
    by_slot: HashMap<usize, (OwnedFd, i32)>,
}

impl PidWatch {
    /// Watch `pid` for table slot `slot` (replacing any earlier watch).
    pub fn watch(&mut self, slot: usize, pid: i32) -> Opened {
        if let Some((_, watched)) = self.by_slot.get(&slot) {
            if *watched == pid {
                return Opened::Watching;
            }
        }
        self.by_slot.remove(&slot);
        if self.by_slot.len() >= MAX_WATCHES {
            return Opened::Unwatched;
        }
        // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
        if fd < 0 {
            return match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::ESRCH) => Opened::Gone,
                _ => Opened::Unwatched,
            };
        }
        // SAFETY: a fresh descriptor from pidfd_open, owned from here on.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        // pidfds are created close-on-exec by the kernel.
        self.by_slot.insert(slot, (fd, pid));
        Opened::Watching
    }

    pub fn forget(&mut self, slot: usize) {
        self.by_slot.remove(&slot);
    }

    pub fn fds(&self) -> Vec<RawFd> {
        self.by_slot
            .values()
            .map(|(fd, _)| fd.as_raw_fd())
            .collect()
    }

    /// The slot whose process `fd` watches.
    pub fn slot_of(&self, fd: RawFd) -> Option<usize> {
        self.by_slot
            .iter()
            .find(|(_, (f, _))| f.as_raw_fd() == fd)
            .map(|(&slot, _)| slot)
    }
}
