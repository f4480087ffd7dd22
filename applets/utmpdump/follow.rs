//! Waiting for a file to grow, as `utmpdump -f` and `tail -f` do, or to be
//! written in place (a native log's reserve): inotify when the kernel
//! gives an instance, else a stat every second.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub enum Change {
    /// At least the bytes asked for are there now.
    Grew,
    /// The file is shorter than where reading had got to (truncated).
    Shrank(u64),
    /// Removed, renamed away, or its filesystem unmounted: stop.
    Gone,
}

pub struct Watch {
    path: PathBuf,
    inode: Option<(u64, u64)>,
    inotify: Option<i32>,
}

impl Watch {
    pub fn new(path: &Path) -> Watch {
        let inode = std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
        Watch {
            path: path.to_path_buf(),
            inode,
            inotify: inotify_watch(path),
        }
    }

    /// Block until the file holds at least `need` bytes, is shorter than
    /// `pos`, or is gone.
    pub fn wait(&mut self, pos: u64, need: u64) -> Change {
        loop {
            let meta = match std::fs::metadata(&self.path) {
                Ok(meta) => meta,
                Err(_) => return Change::Gone,
            };
            if self
                .inode
                .is_some_and(|inode| inode != (meta.dev(), meta.ino()))
            {
                return Change::Gone;
            }
            if meta.len() < pos {
                return Change::Shrank(meta.len());
            }
            if meta.len() >= need {
                return Change::Grew;
            }
            if !self.block() {
                return Change::Gone;
            }
        }
    }

    /// Block until the file may have been written, even in place without
    /// growing (a native log's reserve), is shorter than `pos`, or is
    /// gone. `Grew` here means "read again".
    pub fn wait_write(&mut self, pos: u64) -> Change {
        if !self.block() {
            return Change::Gone;
        }
        self.wait(pos, 0)
    }

    /// One inotify batch, or a second's sleep without inotify; false when
    /// the file is gone.
    fn block(&mut self) -> bool {
        match self.inotify {
            Some(fd) => read_events(fd),
            None => {
                std::thread::sleep(Duration::from_secs(1));
                true
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(fd) = self.inotify {
            // SAFETY: fd is the inotify descriptor this Watch opened.
            unsafe { libc::close(fd) };
        }
    }
}

const GONE: u32 = libc::IN_DELETE_SELF | libc::IN_MOVE_SELF | libc::IN_UNMOUNT | libc::IN_IGNORED;

fn inotify_watch(path: &Path) -> Option<i32> {
    let cpath = CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: plain syscalls on a descriptor we own and a NUL-terminated path.
    unsafe {
        let fd = libc::inotify_init1(libc::IN_CLOEXEC);
        if fd < 0 {
            return None;
        }
        if libc::inotify_add_watch(fd, cpath.as_ptr(), libc::IN_MODIFY | libc::IN_ATTRIB | GONE) < 0
        {
            libc::close(fd);
            return None;
        }
        Some(fd)
    }
}

/// Read one batch of events; false when one says the file is gone.
fn read_events(fd: i32) -> bool {
    let mut buf = [0u8; 4096];
    let n = loop {
        // SAFETY: reading into a buffer we own, at most its length.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            break n as usize;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    };
    // struct inotify_event { int wd; u32 mask; u32 cookie; u32 len; name[len] }
    let mut at = 0;
    while at + 16 <= n {
        let mask = u32::from_ne_bytes([buf[at + 4], buf[at + 5], buf[at + 6], buf[at + 7]]);
        let len = u32::from_ne_bytes([buf[at + 12], buf[at + 13], buf[at + 14], buf[at + 15]]);
        if mask & GONE != 0 {
            return false;
        }
        at += 16 + len as usize;
    }
    true
}
