//! The start-up utmpd and wtmpd share once their options are read:
//! directories, the listening socket, privilege drop, opening the
//! service's files, readiness and the event loop. Each applet states only
//! its own paths and how to open its service.

use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::Duration;

use super::event::{EventLoop, Limits, Service};

/// The options both daemons take, as given on the command line.
pub struct Common {
    pub notify_fd: Option<RawFd>,
    pub listen_fd: Option<RawFd>,
    pub user: Option<String>,
    pub group: String,
    pub socket: PathBuf,
    /// `--utmps-socket PATH`: serve utmps' protocol there too.
    pub utmps_socket: Option<PathBuf>,
    /// `--utmps-listen-fd FD`: the same on an inherited listening socket.
    pub utmps_listen_fd: Option<RawFd>,
    pub max_conns: usize,
    pub max_per_uid: usize,
    pub request_ms: u64,
    pub idle_ms: u64,
}

/// `-d FD` must be open when the daemon starts, and be no listening
/// socket: checked before anything is opened, so no socket or file can
/// take the number and then be closed by the readiness write.
fn check_notify_fd(common: &Common) -> Result<(), String> {
    let Some(fd) = common.notify_fd else {
        return Ok(());
    };
    // Raw fcntl: the number may name nothing, which nix's borrowed
    // descriptors cannot express. SAFETY: F_GETFD reads flags only.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        let e = std::io::Error::from_raw_os_error(libc::EBADF);
        return Err(format!(
            "unable to use notification fd {fd}: {}",
            crate::sys::diag::os_reason(&e)
        ));
    }
    if [common.listen_fd, common.utmps_listen_fd].contains(&Some(fd)) {
        return Err(format!(
            "notification fd {fd} is also a listening socket's descriptor"
        ));
    }
    Ok(())
}

/// A given path, else the default.
pub fn path_or<P: Into<PathBuf>>(given: Option<P>, default: impl FnOnce() -> PathBuf) -> PathBuf {
    given.map(Into::into).unwrap_or_else(default)
}

/// Mode of the files a daemon creates: private mode hides them from others.
pub fn file_mode(private: bool) -> u32 {
    if private {
        0o640
    } else {
        0o644
    }
}

/// Set up, open the service (after dropping privileges, so its files are
/// created as the daemon's user), serve until stopped; the exit status.
/// `own` are directories handed to `-U USER`; `files` the service's files,
/// whose parents are created too.
pub fn run<S: Service + 'static>(
    name: &'static str,
    common: Common,
    own: Vec<PathBuf>,
    files: Vec<PathBuf>,
    open: impl FnOnce() -> Result<(S, Vec<String>), String>,
) -> i32 {
    if let Err(why) = check_notify_fd(&common) {
        crate::sys::diag::say(format_args!("{name}: fatal: {why}"));
        return 100;
    }
    let mut dirs: Vec<PathBuf> = Vec::new();
    let sockets = std::iter::once(&common.socket).chain(&common.utmps_socket);
    for path in sockets.chain(&files) {
        if let Some(parent) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dirs.iter().any(|d| d == parent) {
                dirs.push(parent.to_path_buf());
            }
        }
    }
    let setup = super::Setup {
        name,
        socket: common.socket,
        listen_fd: common.listen_fd,
        utmps_socket: common.utmps_socket,
        utmps_listen_fd: common.utmps_listen_fd,
        own,
        dirs,
        files,
        user: common.user,
        group: common.group,
    };
    let prepared = match super::prepare(&setup) {
        Ok(p) => p,
        Err(why) => return super::fatal(name, why),
    };
    let (service, warnings) = match open() {
        Ok(s) => s,
        Err(why) => return super::fatal(name, why),
    };
    for w in warnings {
        crate::sys::diag::say(format_args!("{name}: warning: {w}"));
    }
    let limits = Limits {
        max_conns: common.max_conns.max(1),
        max_per_uid: common.max_per_uid.max(1),
        request: Duration::from_millis(common.request_ms.max(1)),
        idle: Duration::from_millis(common.idle_ms.max(1)),
    };
    let mut event_loop = EventLoop::new(
        service,
        prepared.listener,
        prepared.signals,
        limits,
        prepared.group,
    )
    .with_utmps(prepared.utmps_listener);
    crate::sys::diag::say(format_args!(
        "{name}: info: serving on {}",
        setup.socket.display()
    ));
    match (&setup.utmps_socket, setup.utmps_listen_fd) {
        (_, Some(fd)) => crate::sys::diag::say(format_args!(
            "{name}: info: serving utmps' protocol on fd {fd}"
        )),
        (Some(path), None) => crate::sys::diag::say(format_args!(
            "{name}: info: serving utmps' protocol on {}",
            path.display()
        )),
        (None, None) => {}
    }
    super::notify_ready(common.notify_fd);
    let status = event_loop.run();
    prepared.held.unbind();
    status
}
