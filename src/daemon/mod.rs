//! The daemon runtime utmpd and wtmpd share: socket setup (bound or
//! inherited), signals, privilege drop, readiness, and the event loop.
//! Each daemon is one process and one loop (docs/SECURITY.md).

pub mod conn;
pub mod event;
pub mod log_store;
pub mod policy;
pub mod serve;
mod stamp;

#[cfg(test)]
mod read_tests;
pub mod utmpd;
pub mod watch;
pub mod wtmpd;

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::store::datadir::{self, Dir, Trust};
use crate::sys::peer;

use nix::sys::socket::{bind, listen, Backlog, UnixAddr};

use nix::fcntl::{fcntl, FcntlArg, FdFlag, Flock, OFlag};
use nix::sys::resource::{getrlimit, setrlimit, Resource};
use nix::sys::signal::{signal, sigprocmask, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::stat::{fchmodat, fstat, umask, FchmodatFlags, Mode};
use nix::unistd::{fchown, geteuid, setgid, setgroups, setuid, Gid, Uid};

use crate::sys::diag::os_reason;

/// What a daemon needs set up before it opens its files.
pub struct Setup {
    /// The daemon ("utmpd", "wtmpd"), for its lock files and messages.
    pub name: &'static str,
    pub socket: PathBuf,
    /// An inherited listening socket (`-l FD`), instead of binding.
    pub listen_fd: Option<RawFd>,
    /// Where to serve utmps' protocol too (`--utmps-socket`), bound by
    /// the same rules as `socket`.
    pub utmps_socket: Option<PathBuf>,
    /// Or the inherited listening socket for it (`--utmps-listen-fd`).
    pub utmps_listen_fd: Option<RawFd>,
    /// Directories to create (0755). With `user`, those created now and
    /// those in `own` are handed over; a shared parent such as /run is not.
    pub dirs: Vec<PathBuf>,
    pub own: Vec<PathBuf>,
    /// The service's data files: their directories are checked, locked
    /// and held (datadir.rs); existing ones are checked and handed over
    /// to `user`.
    pub files: Vec<PathBuf>,
    /// Drop to this user after binding (`-U USER`).
    pub user: Option<String>,
    /// The accounting group whose members may write anything.
    pub group: String,
}

pub struct Prepared {
    pub listener: OwnedFd,
    pub utmps_listener: Option<OwnedFd>,
    pub signals: OwnedFd,
    pub group: Option<u32>,
    pub held: Held,
}

/// A bound socket's directory and its name there.
type BoundAt = (Arc<Dir>, CString);

/// What a daemon holds for its whole life.
pub struct Held {
    /// Where the sockets were bound (not inherited): removed when stopping.
    bound: Vec<BoundAt>,
    /// The data directories' and the socket's locks.
    _locks: Vec<Flock<File>>,
}

impl Held {
    /// Remove the sockets this daemon bound (while it still holds the
    /// sockets' locks, so they are its own).
    pub fn unbind(&self) {
        for (dir, name) in &self.bound {
            let _ = dir.unlink(name);
        }
    }
}

/// `applet: fatal: message`, exit 111 as skarnet daemons do.
pub fn fatal(applet: &str, message: impl std::fmt::Display) -> i32 {
    crate::sys::diag::say(format_args!("{applet}: fatal: {message}"));
    111
}

pub fn prepare(setup: &Setup) -> Result<Prepared, String> {
    // SAFETY: ignoring a signal installs no handler code; done before any
    // thread exists. (nix marks every disposition change unsafe.)
    unsafe {
        let _ = signal(Signal::SIGPIPE, SigHandler::SigIgn);
        // A write past RLIMIT_FSIZE is then EFBIG, an error reply, not death.
        let _ = signal(Signal::SIGXFSZ, SigHandler::SigIgn);
    }
    umask(Mode::from_bits_truncate(0o022));
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
    let group = peer::group_by_name(&setup.group);
    let user = match &setup.user {
        Some(name) => Some(peer::user_by_name(name).ok_or(format!("unknown user: {name}"))?),
        None => None,
    };
    let mut owned: Vec<PathBuf> = setup.own.clone();
    for dir in &setup.dirs {
        if !dir.exists() {
            owned.push(dir.clone());
        }
        make_dir(dir)?;
    }
    let trust = Trust {
        daemon: setup.name,
        uid: user.as_ref().map_or_else(|| geteuid().as_raw(), |u| u.uid),
        group,
    };
    // Checked and locked before any data file is opened or the socket
    // touched: a second daemon on the same data stops here.
    let mut locks = Vec::new();
    let data_lock = format!(".{}.lock", setup.name);
    for path in data_dirs(&setup.files) {
        let dir = trust.open_dir(&path)?;
        for file in setup.files.iter().filter(|f| datadir::parent_of(f) == path) {
            trust.check_file(&dir, file)?;
        }
        locks.push(dir.lock(data_lock.as_bytes(), setup.name, &path)?);
        datadir::hold(dir);
    }
    let inherited = setup.listen_fd.or_else(|| {
        let pid = std::env::var("LISTEN_PID").ok()?.parse::<u32>().ok()?;
        let fds = std::env::var("LISTEN_FDS").ok()?.parse::<u32>().ok()?;
        (pid == std::process::id() && fds >= 1).then_some(3)
    });
    let mut bound = Vec::new();
    let listener = listening_socket(setup.name, &setup.socket, inherited, &trust, &mut locks)?;
    bound.extend(listener.1);
    // Readiness comes after `prepare`: once every socket listens.
    if setup.utmps_listen_fd.is_some() && setup.utmps_listen_fd == inherited {
        return Err("the utmps socket must be another descriptor than the native one".into());
    }
    let utmps_listener = match (&setup.utmps_socket, setup.utmps_listen_fd) {
        (None, None) => None,
        (path, fd) => {
            let path = path.clone().unwrap_or_default();
            match listening_socket(setup.name, &path, fd, &trust, &mut locks) {
                Ok((owned, at)) => {
                    bound.extend(at);
                    Some(owned)
                }
                Err(why) => {
                    // Never ready, so leave no socket behind that nobody
                    // serves.
                    for (dir, name) in &bound {
                        let _ = dir.unlink(name);
                    }
                    return Err(why);
                }
            }
        }
    };
    let signals = signal_fd()?;
    if let Some(user) = user {
        for path in &owned {
            if path.exists() {
                lchown(path, user.uid, user.gid)?;
            }
        }
        for path in &setup.files {
            let fail =
                |e: io::Error| format!("unable to chown {}: {}", path.display(), os_reason(&e));
            let (dir, name) = datadir::locate(path).map_err(fail)?;
            if dir.stat(&name).map_err(fail)?.is_some() {
                dir.chown(&name, user.uid, user.gid).map_err(fail)?;
            }
        }
        for lock in &locks {
            let _ = fchown(
                &**lock,
                Some(Uid::from_raw(user.uid)),
                Some(Gid::from_raw(user.gid)),
            );
        }
        drop_privileges(&user, group)?;
    }
    Ok(Prepared {
        listener: listener.0,
        utmps_listener,
        signals,
        group,
        held: Held {
            bound,
            _locks: locks,
        },
    })
}

/// The directories of `files`, each once.
fn data_dirs(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for dir in files.iter().map(|f| datadir::parent_of(f)) {
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// s6 readiness: a newline on the notification fd, then close it.
pub fn notify_ready(fd: Option<RawFd>) {
    if let Some(fd) = fd {
        // SAFETY: the supervisor handed us this descriptor for exactly
        // this; it is ours to write to and close (on drop).
        let notify = unsafe { OwnedFd::from_raw_fd(fd) };
        let _ = nix::unistd::write(&notify, b"\n");
    }
}

fn make_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dir)
        .map_err(|e| format!("unable to create {}: {}", dir.display(), os_reason(&e)))
}

fn cpath(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{}: path contains a NUL", path.display()))
}

fn lchown(path: &Path, uid: u32, gid: u32) -> Result<(), String> {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .map_err(|e| format!("unable to chown {}: {}", path.display(), os_reason(&e)))
}

fn drop_privileges(user: &peer::User, group: Option<u32>) -> Result<(), String> {
    let groups: Vec<Gid> = group.into_iter().map(Gid::from_raw).collect();
    setgroups(&groups)
        .and_then(|()| setgid(Gid::from_raw(user.gid)))
        .and_then(|()| setuid(Uid::from_raw(user.uid)))
        .map_err(|e| format!("unable to drop privileges: {}", os_reason(&e.into())))?;
    if user.uid != 0 && setuid(Uid::from_raw(0)).is_ok() {
        return Err("unable to drop privileges: could regain root".into());
    }
    Ok(())
}

fn signal_fd() -> Result<OwnedFd, String> {
    let mut set = SigSet::empty();
    for sig in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        set.add(sig);
    }
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None);
    SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map(OwnedFd::from)
        .map_err(|e| format!("unable to create a signalfd: {}", os_reason(&e.into())))
}

fn set_nonblocking(fd: &OwnedFd) {
    if let Ok(flags) = fcntl(fd, FcntlArg::F_GETFL) {
        let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
        let _ = fcntl(fd, FcntlArg::F_SETFL(flags));
    }
    let _ = fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
}

/// The inherited socket (`-l FD`, or systemd's LISTEN_FDS), else a new one
/// bound at `path`. Binding takes `SOCKET.lock` first: held by another
/// process, the socket is its and is left alone; else a socket file found
/// there is stale and is replaced.
fn listening_socket(
    daemon: &str,
    path: &Path,
    inherited: Option<RawFd>,
    trust: &Trust,
    locks: &mut Vec<Flock<File>>,
) -> Result<(OwnedFd, Option<BoundAt>), String> {
    if let Some(fd) = inherited {
        // SAFETY: the descriptor was handed to us to own.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        if !fstat(&owned).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFSOCK) {
            // Not ours after all: left open, as it was found.
            let _ = owned.into_raw_fd();
            return Err(format!("inherited fd {fd} is not a socket"));
        }
        set_nonblocking(&owned);
        return Ok((owned, None));
    }
    let name = path.display();
    let file_name = path
        .file_name()
        .ok_or_else(|| format!("{name}: not a socket path"))?
        .as_bytes();
    let dir = trust.open_dir(&datadir::parent_of(path))?;
    let mut lock_name = file_name.to_vec();
    lock_name.extend_from_slice(b".lock");
    locks.push(dir.lock(&lock_name, daemon, path)?);
    let entry = cpath(Path::new(std::ffi::OsStr::from_bytes(file_name)))?;
    let fail = |doing: &str, e: io::Error| format!("unable to {doing} {name}: {}", os_reason(&e));
    if let Some(st) = dir.stat(&entry).map_err(|e| fail("stat", e))? {
        if st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
            return Err(format!("{name} exists and is not a socket"));
        }
        dir.unlink(&entry).map_err(|e| fail("remove stale", e))?;
    }
    // Bound by its resolved path: the directory was checked (nobody else
    // can write it or those above it), and bind never follows a link.
    let real = std::fs::canonicalize(dir.path())
        .map_err(|e| fail("resolve", e))?
        .join(std::ffi::OsStr::from_bytes(file_name));
    let addr = UnixAddr::new(&real).map_err(|_| format!("{name}: socket path too long"))?;
    let owned = crate::read::client::stream_socket()
        .map_err(|e| format!("unable to create a socket: {}", os_reason(&e)))?;
    bind(owned.as_raw_fd(), &addr).map_err(|e| fail("bind", e.into()))?;
    // Anyone may connect; what they may do is decided per request. (No
    // lchmod on Linux; the entry is the socket just bound, in a directory
    // only root or the daemon's user can change.)
    let mode = Mode::from_bits_truncate(0o666);
    let _ = fchmodat(&dir, entry.as_c_str(), mode, FchmodatFlags::FollowSymlink);
    let backlog = Backlog::new(1024).unwrap_or(Backlog::MAXCONN);
    listen(&owned, backlog).map_err(|e| fail("listen on", e.into()))?;
    Ok((owned, Some((Arc::new(dir), entry))))
}
