//! The directories a daemon keeps its files in, held open by descriptor.
//!
//! At start each is resolved, checked the OpenSSH StrictModes way (owner
//! and mode of it and of every directory above it) and opened; every
//! later open, create, rename and unlink of a daemon file is relative to
//! that descriptor (`openat` and friends, with O_NOFOLLOW), so no daemon
//! writes through a link someone planted, and a path swapped after the
//! check changes nothing. A lock file in each keeps a second daemon off
//! the same data (docs/SECURITY.md).

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use nix::errno::Errno;
use nix::fcntl::AtFlags;
use nix::fcntl::{fcntl, renameat, FcntlArg, Flock, FlockArg, OFlag, AT_FDCWD};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode};
use nix::unistd::{fchownat, fsync, unlinkat, Gid, Uid, UnlinkatFlags};

use crate::sys::diag::os_reason;

/// An open directory and the path it was opened by (for messages).
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

fn c_bytes(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in a path"))
}

/// `name` + `suffix`, as the name of a file beside it.
pub fn suffixed(name: &CStr, suffix: &str) -> io::Result<CString> {
    let mut bytes = name.to_bytes().to_vec();
    bytes.extend_from_slice(suffix.as_bytes());
    c_bytes(&bytes)
}

fn openat(dir: BorrowedFd, name: &CStr, flags: OFlag, mode: u32) -> io::Result<OwnedFd> {
    let mode = Mode::from_bits_truncate(mode);
    Ok(nix::fcntl::openat(
        dir,
        name,
        flags | OFlag::O_CLOEXEC,
        mode,
    )?)
}

fn is(st: &FileStat, kind: libc::mode_t) -> bool {
    st.st_mode & libc::S_IFMT == kind
}

impl AsFd for Dir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Dir {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Dir {
    /// Open `path` as it is, unchecked: for files outside a daemon's run
    /// (unit tests, tools) whose directory was never registered.
    pub fn open(path: &Path) -> io::Result<Dir> {
        let c = c_bytes(path.as_os_str().as_bytes())?;
        let fd = openat(AT_FDCWD, &c, OFlag::O_RDONLY | OFlag::O_DIRECTORY, 0)?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entry `name` itself (a link is not followed); None if absent.
    pub fn stat(&self, name: &CStr) -> io::Result<Option<FileStat>> {
        match fstatat(&self.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(st)),
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Open the regular file `name` with `flags`, never through a link.
    /// O_NONBLOCK so a FIFO planted there cannot hang the open; a file
    /// that is not regular is refused.
    pub fn open_file(&self, name: &CStr, flags: OFlag, mode: u32) -> io::Result<File> {
        let fd = openat(
            self.fd.as_fd(),
            name,
            flags | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK,
            mode,
        )?;
        if !is(&fstat(&fd)?, libc::S_IFREG) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        // Cleared again (meaningless on a regular file), so later users
        // see plain flags.
        if let Ok(flags) = fcntl(&fd, FcntlArg::F_GETFL) {
            let flags = OFlag::from_bits_retain(flags) & !OFlag::O_NONBLOCK;
            let _ = fcntl(&fd, FcntlArg::F_SETFL(flags));
        }
        Ok(File::from(fd))
    }

    /// An existing file, read-write.
    pub fn open_rw(&self, name: &CStr) -> io::Result<File> {
        self.open_file(name, OFlag::O_RDWR, 0)
    }

    /// Replace `name` by a file holding `bytes`, atomically: written to
    /// `name.new` (a stale one, or a link planted there, unlinked first,
    /// then created O_EXCL), synced when `durable`, renamed over `name`.
    pub fn replace(&self, name: &CStr, bytes: &[u8], mode: u32, durable: bool) -> io::Result<()> {
        let tmp = suffixed(name, ".new")?;
        self.unlink(&tmp)?;
        let mut file =
            self.open_file(&tmp, OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL, mode)?;
        file.write_all(bytes)?;
        if durable {
            file.sync_all()?;
        }
        self.rename(&tmp, name)?;
        if durable {
            self.sync();
        }
        Ok(())
    }

    /// Remove the entry `name` (a link itself, never its target); absent
    /// is fine.
    pub fn unlink(&self, name: &CStr) -> io::Result<()> {
        match unlinkat(&self.fd, name, UnlinkatFlags::NoRemoveDir) {
            Err(e) if e != Errno::ENOENT => Err(e.into()),
            _ => Ok(()),
        }
    }

    pub fn rename(&self, from: &CStr, to: &CStr) -> io::Result<()> {
        Ok(renameat(&self.fd, from, &self.fd, to)?)
    }

    /// Make a rename or a new file durable.
    pub fn sync(&self) {
        let _ = fsync(&self.fd);
    }

    /// Up to `max` bytes of the regular file `name`.
    pub fn read_small(&self, name: &CStr, max: u64) -> io::Result<Vec<u8>> {
        let file = self.open_file(name, OFlag::O_RDONLY, 0)?;
        let mut bytes = Vec::new();
        crate::sys::infile::read_to_end(&mut file.take(max), &mut bytes)?;
        Ok(bytes)
    }

    /// Hand the entry `name` (a link itself, not its target) to uid:gid.
    pub fn chown(&self, name: &CStr, uid: u32, gid: u32) -> io::Result<()> {
        let (uid, gid) = (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
        Ok(fchownat(
            &self.fd,
            name,
            uid,
            gid,
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )?)
    }

    /// Hold the exclusive lock `name` in this directory for as long as the
    /// descriptor returned lives, with our pid written in it. Held by
    /// another process: "`what` is in use by another `daemon` (pid N)".
    pub fn lock(&self, name: &[u8], daemon: &str, what: &Path) -> Result<Flock<File>, String> {
        let lock_path = self.path.join(std::ffi::OsStr::from_bytes(name));
        let fail = |doing: &str, e: io::Error| {
            format!(
                "unable to {doing} {}: {}",
                lock_path.display(),
                os_reason(&e)
            )
        };
        let name = c_bytes(name).map_err(|e| fail("open", e))?;
        let file = self
            .open_file(&name, OFlag::O_RDWR | OFlag::O_CREAT, 0o600)
            .map_err(|e| fail("open", e))?;
        // A hard link to another file would be truncated below.
        if fstat(&file)
            .map_err(io::Error::from)
            .map_err(|e| fail("stat", e))?
            .st_nlink
            != 1
        {
            return Err(format!(
                "refusing {}: it has other links",
                lock_path.display()
            ));
        }
        let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => locked,
            Err((_, e)) if e != Errno::EWOULDBLOCK => return Err(fail("lock", e.into())),
            Err((file, _)) => {
                let mut bytes = Vec::new();
                let _ = crate::sys::infile::read_to_end(&mut (&file).take(32), &mut bytes);
                // Not UTF-8 reads as nothing, as read_to_string left it.
                let text = String::from_utf8(bytes).unwrap_or_default();
                let pid = match text.trim().parse::<u32>() {
                    Ok(pid) => pid.to_string(),
                    Err(_) => "unknown".to_string(),
                };
                return Err(format!(
                    "{} is in use by another {daemon} (pid {pid})",
                    what.display()
                ));
            }
        };
        file.set_len(0)
            .and_then(|_| writeln!(file, "{}", std::process::id()))
            .map_err(|e| fail("write", e))?;
        Ok(file)
    }
}

/// The directories a daemon checked and holds, for the opens of its
/// files (which name them by path).
static HELD: Mutex<Vec<Arc<Dir>>> = Mutex::new(Vec::new());

/// Keep `dir` for the life of the process: files under its path are
/// opened through it from now on.
pub fn hold(dir: Dir) -> Arc<Dir> {
    let dir = Arc::new(dir);
    HELD.lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(dir.clone());
    dir
}

/// The directory of `path` (the one held for it, else opened now) and
/// the name of `path` in it.
pub fn locate(path: &Path) -> io::Result<(Arc<Dir>, CString)> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let name = c_bytes(name.as_bytes())?;
    let parent = parent_of(path);
    let held = HELD
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .iter()
        .find(|d| d.path == parent)
        .cloned();
    match held {
        Some(dir) => Ok((dir, name)),
        None => Ok((Arc::new(Dir::open(&parent)?), name)),
    }
}

/// The directory holding `path` ("." for a bare name).
pub fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whom a daemon trusts with its directories and files: root, its own
/// user, and (for group write) the accounting group.
pub struct Trust {
    pub daemon: &'static str,
    pub uid: u32,
    pub group: Option<u32>,
}

impl Trust {
    fn owner(&self, path: &Path, st: &libc::stat) -> Result<(), String> {
        if st.st_uid == 0 || st.st_uid == self.uid {
            return Ok(());
        }
        Err(format!(
            "refusing {}: owned by uid {}, not root or {}'s user",
            path.display(),
            st.st_uid,
            self.daemon
        ))
    }

    /// Owned by root or the daemon's user; writable by no one else, but
    /// for the accounting group (and, `above` the data, a sticky
    /// directory such as /tmp, or one writable by group root).
    fn mode(&self, path: &Path, st: &libc::stat, above: bool) -> Result<(), String> {
        self.owner(path, st)?;
        let sticky = above && st.st_mode & libc::S_ISVTX != 0;
        let group_ok = self.group == Some(st.st_gid) || (above && st.st_gid == 0);
        if st.st_mode & 0o002 != 0 && !sticky {
            return Err(format!("refusing {}: writable by others", path.display()));
        }
        if st.st_mode & 0o020 != 0 && !sticky && !group_ok {
            return Err(format!(
                "refusing {}: writable by group {}",
                path.display(),
                st.st_gid
            ));
        }
        Ok(())
    }

    /// Resolve `path`, check every directory from / down to it, and open
    /// it: each step by descriptor with O_NOFOLLOW, so what is checked is
    /// what is opened.
    pub fn open_dir(&self, path: &Path) -> Result<Dir, String> {
        let real = std::fs::canonicalize(path)
            .map_err(|e| format!("unable to resolve {}: {}", path.display(), os_reason(&e)))?;
        let fail =
            |at: &Path, e: io::Error| format!("unable to open {}: {}", at.display(), os_reason(&e));
        let root = Path::new("/");
        let slash = c_bytes(b"/").map_err(|e| fail(root, e))?;
        let mut fd = openat(AT_FDCWD, &slash, OFlag::O_PATH | OFlag::O_DIRECTORY, 0)
            .map_err(|e| fail(root, e))?;
        let mut at = PathBuf::from("/");
        let names: Vec<_> = real
            .components()
            .filter_map(|c| match c {
                Component::Normal(name) => Some(name),
                _ => None,
            })
            .collect();
        for (i, name) in names.iter().enumerate() {
            let st = fstat(&fd).map_err(|e| fail(&at, e.into()))?;
            self.mode(&at, &st, true)?;
            at.push(name);
            let last = i + 1 == names.len();
            // The data directory is opened for real (it is fsynced);
            // those above only to walk through (no read permission needed).
            let how = if last { OFlag::O_RDONLY } else { OFlag::O_PATH };
            let c = c_bytes(name.as_bytes()).map_err(|e| fail(&at, e))?;
            fd = openat(
                fd.as_fd(),
                &c,
                how | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW,
                0,
            )
            .map_err(|e| fail(&at, e))?;
        }
        if names.is_empty() {
            fd = openat(AT_FDCWD, &slash, OFlag::O_RDONLY | OFlag::O_DIRECTORY, 0)
                .map_err(|e| fail(root, e))?;
        }
        let st = fstat(&fd).map_err(|e| fail(&at, e.into()))?;
        self.mode(&at, &st, false)?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// A data file, if it exists, must be a regular file (not a link)
    /// owned and writable as its directory.
    pub fn check_file(&self, dir: &Dir, path: &Path) -> Result<(), String> {
        let name = path
            .file_name()
            .and_then(|n| c_bytes(n.as_bytes()).ok())
            .ok_or_else(|| format!("{}: not a file name", path.display()))?;
        let st = dir
            .stat(&name)
            .map_err(|e| format!("unable to stat {}: {}", path.display(), os_reason(&e)))?;
        let Some(st) = st else { return Ok(()) };
        if is(&st, libc::S_IFLNK) {
            return Err(format!("refusing {}: a symbolic link", path.display()));
        }
        if !is(&st, libc::S_IFREG) {
            return Err(format!("refusing {}: not a regular file", path.display()));
        }
        self.mode(path, &st, false)
    }
}
