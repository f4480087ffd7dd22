//! Test plumbing for the daemons: start utmpd/wtmpd in a scratch dir
//! (readiness through `-d 3`, always stopped by a guard), read their
//! native files back, and speak the wire protocol directly (also from a
//! forked child running as `nobody`).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{run, Scratch};
use crate::utmpfile::crc32;

pub const NOBODY: u32 = 65534;

/// A running daemon, killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub name: &'static str,
    pub stderr: PathBuf,
}

impl Daemon {
    /// Start `name` with `args`, wait for its readiness newline on fd 3.
    pub fn start(s: &Scratch, name: &'static str, args: &[&str]) -> Daemon {
        Daemon::spawn(s, name, args, None)
    }

    /// As `start`, handing the daemon `inherit` as its fd 4.
    pub fn spawn(s: &Scratch, name: &'static str, args: &[&str], inherit: Option<i32>) -> Daemon {
        let stderr = s.path(&format!("{name}.stderr"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr)
            .unwrap();
        let mut fds = [0i32; 2];
        // SAFETY: pipe fills two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let (r, w) = (fds[0], fds[1]);
        let mut cmd = s.applet(name);
        cmd.args(["-d", "3"])
            .args(args)
            .stderr(log)
            .stdout(Stdio::null());
        // SAFETY: dup2/close between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                libc::close(r);
                // Move both out of the way first: either may sit on 3 or 4.
                let ready = libc::fcntl(w, libc::F_DUPFD_CLOEXEC, 10);
                let inherited = inherit.map(|fd| libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10));
                if ready < 0 || libc::dup2(ready, 3) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if let Some(fd) = inherited {
                    if fd < 0 || libc::dup2(fd, 4) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        // SAFETY: closing our copy of the write end; the read end becomes a File.
        unsafe { libc::close(w) };
        let mut ready = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(r) };
        let mut byte = [0u8; 1];
        let n = ready.read(&mut byte).unwrap_or(0);
        let mut daemon = Daemon {
            child,
            name,
            stderr,
        };
        assert!(
            n == 1 && byte[0] == b'\n',
            "{name} did not become ready: {}",
            daemon.log()
        );
        let _ = daemon.child.try_wait();
        daemon
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// SIGTERM and wait; true if it exited 0.
    pub fn stop(mut self) -> bool {
        self.signal(libc::SIGTERM);
        let ok = self.child.wait().map(|s| s.success()).unwrap_or(false);
        std::mem::forget(self);
        ok
    }

    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::forget(self);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Both daemons in a scratch dir.
pub fn start_both(s: &Scratch) -> (Daemon, Daemon) {
    let w = Daemon::start(s, "wtmpd", &[]);
    let u = Daemon::start(s, "utmpd", &["-S", "0"]);
    (u, w)
}

pub fn run_dir(s: &Scratch) -> PathBuf {
    s.path("run")
}

pub fn log_dir(s: &Scratch) -> PathBuf {
    s.path("log")
}

/// A record as the native format holds it (docs/FORMAT.md).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Rec {
    pub kind: i16,
    pub pid: i32,
    pub session: i32,
    pub term: i16,
    pub exit: i16,
    pub time_us: i64,
    pub addr: [u8; 16],
    pub line: Vec<u8>,
    pub id: Vec<u8>,
    pub user: Vec<u8>,
    pub host: Vec<u8>,
}

fn field(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().take_while(|&&b| b != 0).copied().collect()
}

impl Rec {
    pub fn new(kind: i16, line: &str, user: &str) -> Rec {
        let id = line.as_bytes()[line.len().saturating_sub(4)..].to_vec();
        Rec {
            kind,
            line: line.into(),
            id,
            user: user.into(),
            time_us: 1_700_000_000_000_000,
            ..Rec::default()
        }
    }

    pub fn encode(&self) -> [u8; 512] {
        let mut b = [0u8; 512];
        b[0..2].copy_from_slice(&self.kind.to_le_bytes());
        b[4..8].copy_from_slice(&self.pid.to_le_bytes());
        b[8..12].copy_from_slice(&self.session.to_le_bytes());
        b[12..14].copy_from_slice(&self.term.to_le_bytes());
        b[14..16].copy_from_slice(&self.exit.to_le_bytes());
        b[16..24].copy_from_slice(&self.time_us.to_le_bytes());
        b[24..40].copy_from_slice(&self.addr);
        b[40..40 + self.line.len()].copy_from_slice(&self.line);
        b[72..72 + self.id.len()].copy_from_slice(&self.id);
        b[76..76 + self.user.len()].copy_from_slice(&self.user);
        b[140..140 + self.host.len()].copy_from_slice(&self.host);
        let crc = crc32(&b[..508]);
        b[508..].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// None when the checksum fails.
    pub fn decode(b: &[u8]) -> Option<Rec> {
        if b.len() != 512 || crc32(&b[..508]).to_le_bytes() != b[508..512] {
            return None;
        }
        let i16_at = |at: usize| i16::from_le_bytes([b[at], b[at + 1]]);
        let i32_at = |at: usize| i32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let mut t = [0u8; 8];
        t.copy_from_slice(&b[16..24]);
        let mut addr = [0u8; 16];
        addr.copy_from_slice(&b[24..40]);
        Some(Rec {
            kind: i16_at(0),
            pid: i32_at(4),
            session: i32_at(8),
            term: i16_at(12),
            exit: i16_at(14),
            time_us: i64::from_le_bytes(t),
            addr,
            line: field(&b[40..72]),
            id: field(&b[72..76]),
            user: field(&b[76..140]),
            host: field(&b[140..396]),
        })
    }
}

/// Every record of a native file; panics on a bad header, a corrupt
/// record or a partial one, so a test sees any damage. A log's trailing
/// zero records are its reserve of free space (docs/FORMAT.md), not records.
pub fn read_native(path: &Path) -> Vec<Rec> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.len() >= 64, "{}: no header", path.display());
    assert_eq!(&bytes[..8], b"UTMPBOX\0");
    assert_eq!(crc32(&bytes[..60]).to_le_bytes(), bytes[60..64]);
    let mut body = &bytes[64..];
    assert_eq!(body.len() % 512, 0, "{}: partial record", path.display());
    if bytes[16..20] == 1u32.to_le_bytes() {
        while body.len() >= 512 && body[body.len() - 512..].iter().all(|&b| b == 0) {
            body = &body[..body.len() - 512];
        }
    }
    body.chunks(512)
        .enumerate()
        .map(|(i, c)| {
            Rec::decode(c).unwrap_or_else(|| panic!("{}: record {i} corrupt", path.display()))
        })
        .collect()
}

pub const USER: i16 = 7;
pub const DEAD: i16 = 8;
pub const BOOT: i16 = 2;
pub const LOGIN: i16 = 6;
pub const RUNLVL: i16 = 1;

/// A frame: u32 length, version 1, code, two zero bytes, payload.
pub fn frame(code: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = ((4 + payload.len()) as u32).to_le_bytes().to_vec();
    f.extend_from_slice(&[1, code, 0, 0]);
    f.extend_from_slice(payload);
    f
}

pub const LOG_APPEND: u8 = 0x10;
pub const LOG_READ: u8 = 0x12;
pub const UTMP_LIST: u8 = 0x01;
pub const UTMP_PUT: u8 = 0x04;

pub fn append_payload(db: u8, rec: &Rec) -> Vec<u8> {
    let mut p = vec![db];
    p.extend_from_slice(&rec.encode());
    p
}

pub fn read_payload(db: u8) -> Vec<u8> {
    let mut p = vec![db, 0];
    p.extend_from_slice(&100u16.to_le_bytes());
    p.extend_from_slice(&u64::MAX.to_le_bytes());
    p.extend_from_slice(&[0u8; 16]);
    p.extend_from_slice(&[0, 0]);
    p
}

/// A connection speaking frames, with a deadline on every read.
pub struct Raw {
    pub stream: UnixStream,
}

impl Raw {
    pub fn connect(socket: &Path) -> Raw {
        let stream = UnixStream::connect(socket).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Raw { stream }
    }

    /// (status, payload) of one request.
    pub fn call(&mut self, code: u8, payload: &[u8]) -> std::io::Result<(u8, Vec<u8>)> {
        self.stream.write_all(&frame(code, payload))?;
        self.reply()
    }

    pub fn reply(&mut self) -> std::io::Result<(u8, Vec<u8>)> {
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len)?;
        let mut body = vec![0u8; u32::from_le_bytes(len) as usize];
        self.stream.read_exact(&mut body)?;
        Ok((body[1], body[4..].to_vec()))
    }
}

/// The address of a UNIX socket, made before a fork so the child need
/// not allocate.
pub fn unix_addr(socket: &Path) -> libc::sockaddr_un {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: sockaddr_un is plain data.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, &s) in addr.sun_path.iter_mut().zip(socket.as_os_str().as_bytes()) {
        *d = s as libc::c_char;
    }
    addr
}

/// In a forked child: drop every group and become `uid` (gid the same
/// number). Only async-signal-safe calls.
pub unsafe fn become_uid(uid: u32) -> bool {
    libc::setgroups(0, std::ptr::null()) == 0 && libc::setgid(uid) == 0 && libc::setuid(uid) == 0
}

/// In a forked child: a socket connected to `addr`, or -1.
pub unsafe fn connect_to(addr: &libc::sockaddr_un) -> i32 {
    let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
    let size = std::mem::size_of::<libc::sockaddr_un>() as u32;
    let addr = addr as *const libc::sockaddr_un as *const libc::sockaddr;
    if fd < 0 || libc::connect(fd, addr, size) != 0 {
        return -1;
    }
    fd
}

/// Send `request` to `socket` as uid/gid `nobody` from a forked child and
/// hand back what `receive` read into a buffer of `most` bytes (the child
/// makes only system calls, on memory allocated before the fork, and
/// passes the reply back through a pipe). `receive` returns how many
/// bytes it read, or None to fail the child. None if the child failed.
pub fn exchange_as_nobody(
    socket: &Path,
    request: &[u8],
    most: usize,
    receive: fn(i32, &mut [u8]) -> Option<usize>,
) -> Option<Vec<u8>> {
    let addr = unix_addr(socket);
    let mut reply = vec![0u8; most];
    let mut fds = [0i32; 2];
    // SAFETY: pipe fills two descriptors; the child uses only
    // async-signal-safe calls on memory allocated before the fork.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let pid = libc::fork();
        assert!(pid >= 0);
        if pid == 0 {
            libc::close(fds[0]);
            if !become_uid(NOBODY) {
                libc::_exit(1);
            }
            let fd = connect_to(&addr);
            if fd < 0 {
                libc::_exit(1);
            }
            let mut sent = 0;
            while sent < request.len() {
                let n = libc::send(
                    fd,
                    request[sent..].as_ptr() as *const libc::c_void,
                    request.len() - sent,
                    libc::MSG_NOSIGNAL,
                );
                if n <= 0 {
                    libc::_exit(1);
                }
                sent += n as usize;
            }
            let Some(got) = receive(fd, &mut reply) else {
                libc::_exit(1);
            };
            let mut out = 0;
            while out < got {
                let n = libc::write(
                    fds[1],
                    reply[out..got].as_ptr() as *const libc::c_void,
                    got - out,
                );
                if n <= 0 {
                    libc::_exit(1);
                }
                out += n as usize;
            }
            libc::_exit(0);
        }
        libc::close(fds[1]);
        let mut pipe = <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[0]);
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        (libc::WEXITSTATUS(status) == 0).then_some(bytes)
    }
}

/// One native request as `nobody`: (status, payload), or None if the
/// child could not talk to the daemon.
pub fn reply_as_nobody(socket: &Path, request: &[u8]) -> Option<(u8, Vec<u8>)> {
    let bytes = exchange_as_nobody(socket, request, 4 << 20, receive_frame)?;
    (bytes.len() >= 8).then(|| (bytes[5], bytes[8..].to_vec()))
}

/// One whole native reply frame (a length, then that many bytes), read
/// in the forked child: system calls only.
fn receive_frame(fd: i32, reply: &mut [u8]) -> Option<usize> {
    let mut got = 0;
    loop {
        let want = if got < 4 {
            4
        } else {
            4 + u32::from_le_bytes([reply[0], reply[1], reply[2], reply[3]]) as usize
        };
        if got >= want && got >= 4 {
            return Some(got);
        }
        if want > reply.len() {
            return None;
        }
        // SAFETY: recv writes at most want - got bytes into reply.
        let n = unsafe {
            libc::recv(
                fd,
                reply[got..want].as_mut_ptr() as *mut libc::c_void,
                want - got,
                0,
            )
        };
        if n <= 0 {
            return None;
        }
        got += n as usize;
    }
}

/// The reply status of one request sent as `nobody` (255: no reply).
pub fn status_as_nobody(socket: &Path, request: &[u8]) -> u8 {
    reply_as_nobody(socket, request).map_or(255, |(status, _)| status)
}

/// Records of a UTMP_LIST or LASTLOG_LIST payload (path, then records).
pub fn listed(payload: &[u8]) -> Vec<Rec> {
    let path_len = u16::from_le_bytes([payload[0], payload[1]]) as usize;
    let body = &payload[2 + path_len..];
    let count = u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize;
    let records: Vec<Rec> = body[4..]
        .chunks(512)
        .map(|c| Rec::decode(c).unwrap())
        .collect();
    assert_eq!(records.len(), count);
    records
}

/// A command run as nobody (setpriv), with the scratch environment.
/// Spawn `cmd` as nobody and return once the child runs as nobody:
/// setpriv changes its uid only after the fork, and a daemon asked about
/// the pid before then sees root's process.
pub fn spawn_as_nobody(cmd: Command) -> std::process::Child {
    use std::os::unix::fs::MetadataExt;
    let child = as_nobody(cmd).spawn().unwrap();
    let proc = format!("/proc/{}", child.id());
    assert!(
        wait_until(Duration::from_secs(10), || {
            std::fs::metadata(&proc).is_ok_and(|m| m.uid() == NOBODY)
        }),
        "{proc} never ran as nobody"
    );
    child
}

pub fn as_nobody(mut cmd: Command) -> Command {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let envs: Vec<_> = cmd
        .get_envs()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
        .collect();
    let mut wrapped = Command::new("setpriv");
    wrapped
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(program)
        .args(args)
        .env_clear()
        .envs(envs)
        .stdin(Stdio::null());
    let _ = &mut cmd;
    wrapped
}

/// A pseudo-terminal whose slave is handed to `uid`; returns its line
/// ("pts/N") and the master, which keeps it alive.
pub fn pty_owned_by(uid: u32) -> (String, std::fs::File) {
    // SAFETY: the usual posix_openpt sequence on a fresh descriptor.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
        assert!(master >= 0, "posix_openpt failed");
        assert_eq!(libc::grantpt(master), 0);
        assert_eq!(libc::unlockpt(master), 0);
        let mut name = [0 as libc::c_char; 64];
        assert_eq!(libc::ptsname_r(master, name.as_mut_ptr(), name.len()), 0);
        let path = std::ffi::CStr::from_ptr(name.as_ptr())
            .to_string_lossy()
            .into_owned();
        let c = std::ffi::CString::new(path.clone()).unwrap();
        assert_eq!(libc::chown(c.as_ptr(), uid, u32::MAX), 0);
        let file = <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(master);
        (path.trim_start_matches("/dev/").to_string(), file)
    }
}

/// Wait until `check` holds, at most `limit`.
pub fn wait_until(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// utmpset with `args`, through the scratch dir's applet link.
pub fn utmpset(s: &Scratch, args: &[&str]) -> std::process::Output {
    run(s.applet("utmpset").args(args), None)
}

#[track_caller]
pub fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two logins through utmpset: root on pts/1 from 192.0.2.1 at
/// 1790000000, nobody on pts/2 (no host) at 1790000300.
pub fn two_logins(s: &Scratch) {
    ok(&utmpset(
        s,
        &[
            "-u",
            "root",
            "-l",
            "pts/1",
            "-H",
            "192.0.2.1",
            "-p",
            "1",
            "-T",
            "1790000000",
            "login",
        ],
    ));
    ok(&utmpset(
        s,
        &[
            "-u",
            "nobody",
            "-l",
            "pts/2",
            "-p",
            "1",
            "-T",
            "1790000300",
            "login",
        ],
    ));
}

/// Start a daemon that must refuse to run: (its exit code, its stderr).
/// One still running after a generous 10 s is killed and reported as
/// `None`, so a daemon that wrongly starts fails the test, not hangs it.
pub fn start_refused(s: &Scratch, name: &str, args: &[&str]) -> (Option<i32>, String) {
    let err = s.path(&format!("{name}-refused.stderr"));
    let mut child = s
        .applet(name)
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let exited = wait_until(Duration::from_secs(10), || {
        child.try_wait().unwrap().is_some()
    });
    if !exited {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    (exited.then(|| status.code()).flatten(), stderr)
}
