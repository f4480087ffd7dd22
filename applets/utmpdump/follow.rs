//! Waiting for a file to grow, as `utmpdump -f` and `tail -f` do, or to be
//! written in place (a native log's reserve): inotify when the kernel
//! gives an instance, else a stat every second.

use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

/// Where `-f` writes. An enum, not a `Box<dyn Write>`, whose vtables
/// would link every `Write` method of both types.
pub enum Out {
    Stdout(crate::front::cli::Output),
    File(io::BufWriter<std::fs::File>),
}

impl Out {
    /// Write `text` and flush it.
    pub fn send(&mut self, text: &[u8]) -> io::Result<()> {
        match self {
            Out::Stdout(out) => out.write_all(text).and_then(|_| out.flush()),
            Out::File(out) => out.write_all(text).and_then(|_| out.flush()),
        }
    }
}

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
    inotify: Option<Inotify>,
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
        match &self.inotify {
            Some(inotify) => read_events(inotify),
            None => {
                std::thread::sleep(Duration::from_secs(1));
                true
            }
        }
    }
}

fn gone() -> AddWatchFlags {
    AddWatchFlags::IN_DELETE_SELF
        | AddWatchFlags::IN_MOVE_SELF
        | AddWatchFlags::IN_UNMOUNT
        | AddWatchFlags::IN_IGNORED
}

fn inotify_watch(path: &Path) -> Option<Inotify> {
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC).ok()?;
    inotify
        .add_watch(
            path,
            AddWatchFlags::IN_MODIFY | AddWatchFlags::IN_ATTRIB | gone(),
        )
        .ok()?;
    Some(inotify)
}

/// Read one batch of events; false when one says the file is gone.
fn read_events(inotify: &Inotify) -> bool {
    loop {
        match inotify.read_events() {
            Ok(events) => return !events.iter().any(|e| e.mask.intersects(gone())),
            Err(Errno::EINTR) => continue,
            Err(_) => return false,
        }
    }
}
