//! The daemon runtime utmpd and wtmpd share: socket setup (bound or
//! inherited), signals, privilege drop, readiness, and the event loop.
//! Each daemon is one process and one loop (docs/SECURITY.md).

pub mod boot;
pub mod conn;
pub mod event;
pub mod files;
pub mod log_store;
pub mod peer;
pub mod policy;
pub mod serve;
pub mod utmpd;
pub mod watch;
pub mod wtmpd;

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sys::socket::{
    bind, listen, socket, AddressFamily, Backlog, SockFlag, SockType, UnixAddr,
};

use crate::cli::os_reason;

/// What a daemon needs set up before it opens its files.
pub struct Setup {
    pub socket: PathBuf,
    /// An inherited listening socket (`-l FD`), instead of binding.
    pub listen_fd: Option<RawFd>,
    /// Directories to create (0755). With `user`, those created now and
    /// those in `own` are handed over; a shared parent such as /run is not.
    pub dirs: Vec<PathBuf>,
    pub own: Vec<PathBuf>,
    /// Existing files to hand over to `user`.
    pub files: Vec<PathBuf>,
    /// Drop to this user after binding (`-U USER`).
    pub user: Option<String>,
    /// The accounting group whose members may write anything.
    pub group: String,
}

pub struct Prepared {
    pub listener: OwnedFd,
    /// The socket was bound here (not inherited): remove it when stopping.
    pub bound: bool,
    pub signals: OwnedFd,
    pub group: Option<u32>,
}

/// `applet: fatal: message`, exit 111 as skarnet daemons do.
pub fn fatal(applet: &str, message: impl std::fmt::Display) -> i32 {
    eprintln!("{applet}: fatal: {message}");
    111
}

pub fn prepare(setup: &Setup) -> Result<Prepared, String> {
    // SAFETY: plain process-wide settings made before any thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::umask(0o022);
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
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
    let (listener, bound) = listening_socket(setup)?;
    let signals = signal_fd()?;
    if let Some(user) = user {
        for path in owned.iter().chain(&setup.files) {
            if path.exists() {
                lchown(path, user.uid, user.gid)?;
            }
        }
        drop_privileges(&user, group)?;
    }
    Ok(Prepared {
        listener,
        bound,
        signals,
        group,
    })
}

/// s6 readiness: a newline on the notification fd, then close it.
pub fn notify_ready(fd: Option<RawFd>) {
    if let Some(fd) = fd {
        // SAFETY: writing one byte to, then closing, a descriptor the
        // supervisor handed us for exactly this.
        unsafe {
            libc::write(fd, b"\n".as_ptr() as *const libc::c_void, 1);
            libc::close(fd);
        }
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
    let c = cpath(path)?;
    // SAFETY: a valid C string path.
    if unsafe { libc::lchown(c.as_ptr(), uid, gid) } != 0 {
        let e = io::Error::last_os_error();
        return Err(format!(
            "unable to chown {}: {}",
            path.display(),
            os_reason(&e)
        ));
    }
    Ok(())
}

fn drop_privileges(user: &peer::User, group: Option<u32>) -> Result<(), String> {
    let groups: Vec<libc::gid_t> = group.into_iter().collect();
    // SAFETY: the usual setgroups/setgid/setuid sequence, each checked.
    let ok = unsafe {
        libc::setgroups(groups.len(), groups.as_ptr()) == 0
            && libc::setgid(user.gid) == 0
            && libc::setuid(user.uid) == 0
    };
    if !ok {
        let e = io::Error::last_os_error();
        return Err(format!("unable to drop privileges: {}", os_reason(&e)));
    }
    // SAFETY: checking that root cannot be regained.
    if user.uid != 0 && unsafe { libc::setuid(0) } == 0 {
        return Err("unable to drop privileges: could regain root".into());
    }
    Ok(())
}

fn signal_fd() -> Result<OwnedFd, String> {
    // SAFETY: building and installing a signal mask, then a signalfd for it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            libc::sigaddset(&mut set, sig);
        }
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(format!("unable to create a signalfd: {}", os_reason(&e)));
        }
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl flag updates on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
}

/// The inherited socket (`-l FD`, or systemd's LISTEN_FDS), else a new one
/// bound at the path, refusing to steal it from a live daemon.
fn listening_socket(setup: &Setup) -> Result<(OwnedFd, bool), String> {
    let inherited = setup.listen_fd.or_else(|| {
        let pid = std::env::var("LISTEN_PID").ok()?.parse::<u32>().ok()?;
        let fds = std::env::var("LISTEN_FDS").ok()?.parse::<u32>().ok()?;
        (pid == std::process::id() && fds >= 1).then_some(3)
    });
    if let Some(fd) = inherited {
        // SAFETY: fstat on a descriptor number we were handed.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 || st.st_mode & libc::S_IFMT != libc::S_IFSOCK {
            return Err(format!("inherited fd {fd} is not a socket"));
        }
        set_nonblocking(fd);
        // SAFETY: the descriptor was handed to us to own.
        return Ok((unsafe { OwnedFd::from_raw_fd(fd) }, false));
    }
    let path = &setup.socket;
    let name = path.display();
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if !meta.file_type().is_socket() {
            return Err(format!("{name} exists and is not a socket"));
        }
        if crate::client::Client::connect(path, Duration::from_millis(500)).is_ok() {
            return Err(format!("another daemon is listening on {name}"));
        }
        std::fs::remove_file(path)
            .map_err(|e| format!("unable to remove stale {name}: {}", os_reason(&e)))?;
    }
    let addr = UnixAddr::new(path).map_err(|_| format!("{name}: socket path too long"))?;
    let owned = socket(
        AddressFamily::Unix,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        None,
    )
    .map_err(|e| format!("unable to create a socket: {}", os_reason(&e.into())))?;
    bind(owned.as_raw_fd(), &addr)
        .map_err(|e| format!("unable to bind {name}: {}", os_reason(&e.into())))?;
    // Anyone may connect; what they may do is decided per request.
    let c = cpath(path)?;
    // SAFETY: chmod of the socket we just bound, by a valid C string.
    unsafe { libc::chmod(c.as_ptr(), 0o666) };
    let backlog = Backlog::new(1024).unwrap_or(Backlog::MAXCONN);
    listen(&owned, backlog)
        .map_err(|e| format!("unable to listen on {name}: {}", os_reason(&e.into())))?;
    Ok((owned, true))
}
