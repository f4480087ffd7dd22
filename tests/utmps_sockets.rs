//! The utmps sockets (`--utmps-socket`, `--utmps-listen-fd`) follow the
//! native socket's rules: a checked directory, `SOCKET.lock` before a
//! stale file is replaced, mode 0666, removed at exit, and readiness only
//! once every socket listens.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::Duration;

use crate::daemon_util::*;
use crate::util::Scratch;

#[track_caller]
fn assert_root() {
    // SAFETY: geteuid cannot fail.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test must run as root (the suite does)"
    );
}

/// setutxent through libutmps: `'r'`, answered by one status byte.
fn rewind(socket: &Path) -> Vec<u8> {
    let mut c =
        UnixStream::connect(socket).unwrap_or_else(|e| panic!("connect {}: {e}", socket.display()));
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"r").unwrap();
    let mut buf = [0u8; 401];
    let n = c.read(&mut buf).unwrap();
    buf[..n].to_vec()
}

#[test]
fn the_utmps_socket_is_bound_like_the_native_one() {
    assert_root();
    let s = Scratch::new("utmps-bind");
    let dir = s.path("utmps");
    let usock = dir.join(".utmpd-socket");
    // A socket file left by a daemon that was killed: stale, replaced.
    std::fs::create_dir_all(&dir).unwrap();
    drop(UnixListener::bind(&usock).unwrap());
    let u = Daemon::start(
        &s,
        "utmpd",
        &["-n", "-S", "0", "--utmps-socket", usock.to_str().unwrap()],
    );
    // Ready means both sockets listen: each answers at once.
    assert_eq!(rewind(&usock), [0]);
    let mut native = Raw::connect(&run_dir(&s).join("utmpd.sock"));
    assert_eq!(native.call(UTMP_LIST, b"").unwrap().0, 0);
    let mode = std::fs::symlink_metadata(&usock)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o666);

    // A second utmpd (other files, other native socket) may not take
    // over the utmps socket, and leaves it serving the first.
    let (code, stderr) = start_refused(
        &s,
        "utmpd",
        &[
            "-n",
            "-s",
            s.path("other/utmpd.sock").to_str().unwrap(),
            "-f",
            s.path("other/utmp").to_str().unwrap(),
            "--utmps-socket",
            usock.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(111), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "utmpd: fatal: {} is in use by another utmpd (pid ",
            usock.display()
        )),
        "{stderr}"
    );
    assert!(
        !s.path("other/utmpd.sock").exists(),
        "left its native socket"
    );
    assert_eq!(rewind(&usock), [0]);

    assert!(u.stop());
    assert!(!usock.exists(), "the utmps socket is removed at exit");
}

#[test]
fn an_untrusted_utmps_directory_is_refused_before_readiness() {
    assert_root();
    let s = Scratch::new("utmps-baddir");
    let dir = s.path("open");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let usock = dir.join(".wtmpd-socket");
    let (code, stderr) = start_refused(
        &s,
        "wtmpd",
        &["-n", "--utmps-socket", usock.to_str().unwrap()],
    );
    assert_eq!(code, Some(111), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "wtmpd: fatal: refusing {}: writable by others\n",
            dir.display()
        )
    );
    assert!(!usock.exists());
    assert!(
        !run_dir(&s).join("wtmpd.sock").exists(),
        "a native socket nobody serves was left behind"
    );
}

#[test]
fn an_inherited_utmps_socket_is_served_and_left_in_place() {
    assert_root();
    let s = Scratch::new("utmps-inherit");
    let path = s.path("activated-utmps.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let w = Daemon::spawn(
        &s,
        "wtmpd",
        &["-n", "--utmps-listen-fd", "4"],
        Some(listener.as_raw_fd()),
    );
    drop(listener);
    let mut rec = vec![b'+'];
    let mut utx = [0u8; 400];
    utx[0..2].copy_from_slice(&USER.to_ne_bytes());
    utx[8..13].copy_from_slice(b"pts/1");
    utx[44..49].copy_from_slice(b"alice");
    rec.extend_from_slice(&utx);
    let mut c = UnixStream::connect(&path).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(&rec).unwrap();
    let mut status = [9u8; 1];
    c.read_exact(&mut status).unwrap();
    assert_eq!(status, [0]);
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    assert_eq!(wtmp.len(), 1);
    assert_eq!(wtmp[0].user, b"alice");
    assert!(w.stop());
    // The supervisor's socket stays; the native one, bound, is removed.
    assert!(path.exists());
    assert!(!run_dir(&s).join("wtmpd.sock").exists());
}

#[test]
fn a_client_that_keeps_asking_stays_an_idle_one_is_closed() {
    assert_root();
    let s = Scratch::new("utmps-idle");
    let usock = s.path("utmps/.utmpd-socket");
    // -i 2000: two seconds idle between requests, as -i 60000 is a minute.
    let _u = Daemon::start(
        &s,
        "utmpd",
        &[
            "-n",
            "-S",
            "0",
            "-i",
            "2000",
            "--utmps-socket",
            usock.to_str().unwrap(),
        ],
    );
    let connect = || {
        let c = UnixStream::connect(&usock).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        c
    };
    // A login that takes longer in all than the idle deadline, but never
    // waits that long between two calls, is served to the end.
    let mut busy = connect();
    for _ in 0..10 {
        busy.write_all(b"r").unwrap();
        let mut status = [9u8; 1];
        busy.read_exact(&mut status).unwrap();
        assert_eq!(status, [0]);
        std::thread::sleep(Duration::from_millis(300));
    }
    // One that says nothing is closed, without an answer.
    let mut idle = connect();
    let mut rest = Vec::new();
    idle.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}
