//! What one user, or a handful, cannot take from the others (issue 9):
//! terminals named through links, the utmp table, the daemons'
//! connections and descriptors, and a stalled wtmpd holding up utmpd.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::daemon_util::*;
use crate::util::{run, Scratch};

/// A path removed when the test ends, however it ends.
struct Removed(PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_terminal_named_through_a_link_is_not_yours() {
    let s = Scratch::new("lim-line");
    let u = Daemon::start(&s, "utmpd", &["-n", "-S", "0"]);
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (own, _master) = pty_owned_by(NOBODY);
    let number = own.trim_start_matches("pts/");
    // What nobody can do in world-writable /dev/shm: a link to /dev/pts.
    let name = format!("utmpbox-test-{}", std::process::id());
    let link = Removed(PathBuf::from("/dev/shm").join(&name));
    let _ = std::fs::remove_file(&link.0);
    let mut ln = Command::new("ln");
    ln.arg("-s").arg("/dev/pts").arg(&link.0);
    ok(&run(&mut as_nobody(ln), None));
    let sock = run_dir(&s).join("utmpd.sock");
    let through_link = format!("shm/{name}/{number}");
    let mut rec = Rec::new(USER, &through_link, "nobody");
    rec.pid = 0;
    let (status, payload) = reply_as_nobody(&sock, &frame(UTMP_PUT, &rec.encode())).unwrap();
    assert_eq!(
        (status, String::from_utf8_lossy(&payload).into_owned()),
        (4, format!("{through_link} is not your terminal"))
    );
    let utmp = read_native(&run_dir(&s).join("utmp"));
    assert!(!utmp.iter().any(|r| r.line == through_link.as_bytes()));
    // The same terminal by its own name is nobody's.
    let mut rec = Rec::new(USER, &own, "nobody");
    rec.pid = 0;
    assert_eq!(status_as_nobody(&sock, &frame(UTMP_PUT, &rec.encode())), 0);
    let utmp = read_native(&run_dir(&s).join("utmp"));
    assert!(utmp
        .iter()
        .any(|r| r.line == own.as_bytes() && r.kind == USER));
    drop(u);
}

/// nobody, with one pty and one live process, writes `count` sessions with
/// distinct ids: their statuses and the message of the first refusal.
fn sessions_as_nobody(sock: &Path, line: &str, pid: u32, count: usize) -> (Vec<u8>, String) {
    let mut statuses = Vec::new();
    let mut refusal = String::new();
    for n in 0..count {
        let mut rec = Rec::new(USER, line, "nobody");
        rec.id = format!("q{n}").into_bytes();
        rec.pid = pid as i32;
        let (status, payload) = reply_as_nobody(sock, &frame(UTMP_PUT, &rec.encode())).unwrap();
        if status != 0 && refusal.is_empty() {
            refusal = String::from_utf8_lossy(&payload).into_owned();
        }
        statuses.push(status);
    }
    (statuses, refusal)
}

/// root logs in on `line` straight on the wire; the reply status.
fn root_login(sock: &Path, line: &str) -> u8 {
    let mut rec = Rec::new(USER, line, "root");
    rec.pid = 1;
    Raw::connect(sock).call(UTMP_PUT, &rec.encode()).unwrap().0
}

#[test]
fn one_user_cannot_fill_the_utmp_table() {
    let s = Scratch::new("lim-quota");
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (own, _master) = pty_owned_by(NOBODY);
    let mut sleep = Command::new("sleep");
    sleep.arg("120");
    let mut shell = crate::daemon_util::spawn_as_nobody(sleep);
    let sock = run_dir(&s).join("utmpd.sock");
    let utmp = run_dir(&s).join("utmp");
    let nobodys = || {
        read_native(&utmp)
            .iter()
            .filter(|r| r.kind == USER && r.user == b"nobody")
            .count()
    };

    // Room for 200: nobody gets its 64 sessions (the default quota), no more.
    let u = Daemon::start(&s, "utmpd", &["-n", "-S", "0", "-m", "200"]);
    let (statuses, refusal) = sessions_as_nobody(&sock, &own, shell.id(), 70);
    assert_eq!(statuses[..64], [0; 64]);
    assert_eq!(statuses[64..], [6; 6]);
    assert_eq!(refusal, "too many sessions for nobody (at most 64)");
    assert_eq!(nobodys(), 64);
    assert_eq!(root_login(&sock, "tty1"), 0);
    drop(u);

    // Room for 40: the last 16 stay for root, whatever the quota.
    std::fs::remove_file(&utmp).unwrap();
    let u = Daemon::start(&s, "utmpd", &["-n", "-S", "0", "-m", "40"]);
    let (statuses, refusal) = sessions_as_nobody(&sock, &own, shell.id(), 30);
    assert_eq!(statuses[..24], [0; 24]);
    assert_eq!(statuses[24..], [6; 6]);
    assert_eq!(
        refusal,
        "utmp table nearly full: the last 16 of 40 entries are kept for root"
    );
    assert_eq!(nobodys(), 24);
    for n in 0..16 {
        assert_eq!(root_login(&sock, &format!("tty{n}")), 0, "root login {n}");
    }
    drop(u);
    shell.kill().unwrap();
    shell.wait().unwrap();
}

/// A child running as `uid` that holds `count` connections to `socket`,
/// each with half a request sent (a slow client), until dropped.
struct SlowClients {
    pid: libc::pid_t,
}

impl SlowClients {
    fn hold(socket: &Path, uid: u32, count: usize) -> SlowClients {
        let addr = unix_addr(socket);
        // Three of the four bytes of a length prefix.
        let partial = frame(UTMP_LIST, b"");
        let mut ready = [0i32; 2];
        // SAFETY: pipes, then a child that only makes system calls on
        // memory prepared before the fork.
        unsafe {
            assert_eq!(libc::pipe(ready.as_mut_ptr()), 0);
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                libc::close(ready[0]);
                if !become_uid(uid) {
                    libc::_exit(1);
                }
                for _ in 0..count {
                    let fd = connect_to(&addr);
                    if fd < 0 {
                        libc::_exit(1);
                    }
                    libc::send(
                        fd,
                        partial.as_ptr() as *const libc::c_void,
                        3,
                        libc::MSG_NOSIGNAL,
                    );
                }
                libc::write(ready[1], b"x".as_ptr() as *const libc::c_void, 1);
                loop {
                    libc::pause();
                }
            }
            libc::close(ready[1]);
            let mut byte = 0u8;
            let n = libc::read(ready[0], &mut byte as *mut u8 as *mut libc::c_void, 1);
            libc::close(ready[0]);
            assert_eq!(n, 1, "uid {uid} could not connect {count} times");
            SlowClients { pid }
        }
    }
}

impl Drop for SlowClients {
    fn drop(&mut self) {
        // SAFETY: ending and reaping our own child.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
            libc::waitpid(self.pid, std::ptr::null_mut(), 0);
        }
    }
}

#[test]
fn slow_clients_of_many_uids_cannot_keep_root_out() {
    let s = Scratch::new("lim-conns");
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // Requests may take a minute, so the slow clients outlast the test.
    let args = ["-n", "-S", "0", "-c", "100", "-C", "16", "-t", "60000"];
    let u = Daemon::start(&s, "utmpd", &args);
    let sock = run_dir(&s).join("utmpd.sock");
    // 8 uids x 16 slow connections: more than the house holds.
    let slow: Vec<SlowClients> = (0..8)
        .map(|k| SlowClients::hold(&sock, 20001 + k, 16))
        .collect();
    // Then 30 root logins at once, each on its own connection.
    let mut roots: Vec<Raw> = (0..30).map(|_| Raw::connect(&sock)).collect();
    let mut refused = Vec::new();
    for (n, raw) in roots.iter_mut().enumerate() {
        let mut rec = Rec::new(USER, &format!("tty{n}"), "root");
        rec.pid = 1;
        if !matches!(raw.call(UTMP_PUT, &rec.encode()), Ok((0, _))) {
            refused.push(n);
        }
    }
    assert_eq!(refused, Vec::<usize>::new(), "{}", u.log());
    let utmp = read_native(&run_dir(&s).join("utmp"));
    assert_eq!(utmp.iter().filter(|r| r.user == b"root").count(), 30);
    drop(slow);
    drop(u);
}

/// Start `name` with its descriptor limit (soft and hard) at `limit`: its
/// applet link is replaced by a script that runs it under prlimit.
fn start_with_fd_limit(s: &Scratch, name: &'static str, limit: u32, args: &[&str]) -> Daemon {
    use std::os::unix::fs::PermissionsExt;
    let real = s.path("real");
    std::fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(crate::util::binary(), real.join(name)).unwrap();
    let link = s.path("bin").join(name);
    std::fs::remove_file(&link).unwrap();
    let script = format!(
        "#!/bin/sh\nexec prlimit --nofile={limit}:{limit} -- {} \"$@\"\n",
        real.join(name).display()
    );
    std::fs::write(&link, script).unwrap();
    std::fs::set_permissions(&link, std::fs::Permissions::from_mode(0o755)).unwrap();
    Daemon::start(s, name, args)
}

#[test]
fn sessions_past_the_pidfd_budget_leave_room_for_clients() {
    let s = Scratch::new("lim-fds");
    // 256 descriptors, 100 of them for clients, 64 spare: 92 pidfds.
    let u = start_with_fd_limit(&s, "utmpd", 256, &["-n", "-S", "600", "-c", "100"]);
    assert!(
        u.log()
            .contains("descriptor limit 256: up to 100 connections and 92 session pidfds"),
        "{}",
        u.log()
    );
    let sock = run_dir(&s).join("utmpd.sock");
    // 200 live sessions of one process, then one of its own, past the budget.
    let mut shared = Command::new("sleep").arg("120").spawn().unwrap();
    let mut own = Command::new("sleep").arg("120").spawn().unwrap();
    let mut raw = Raw::connect(&sock);
    for n in 0..=200 {
        let (line, pid) = match n {
            200 => ("pts/own".to_string(), own.id()),
            _ => (format!("pts/{n}"), shared.id()),
        };
        let mut rec = Rec::new(USER, &line, "root");
        rec.id = format!("f{n}").into_bytes();
        rec.pid = pid as i32;
        assert_eq!(
            raw.call(UTMP_PUT, &rec.encode()).unwrap().0,
            0,
            "session {n}"
        );
    }
    drop(raw);
    // A burst of 100 clients, all connected at once: every one is served.
    let mut clients: Vec<Raw> = (0..100).map(|_| Raw::connect(&sock)).collect();
    let mut failed = Vec::new();
    for (n, client) in clients.iter_mut().enumerate() {
        if !matches!(client.call(UTMP_LIST, b""), Ok((0, _))) {
            failed.push(n);
        }
    }
    assert_eq!(failed, Vec::<usize>::new(), "{}", u.log());
    drop(clients);
    // The session past the budget ends with its process, found by polling
    // long before the next sweep.
    own.kill().unwrap();
    own.wait().unwrap();
    let utmp = run_dir(&s).join("utmp");
    assert!(
        wait_until(Duration::from_secs(10), || read_native(&utmp)
            .iter()
            .any(|r| r.line == b"pts/own" && r.kind == DEAD)),
        "{}",
        u.log()
    );
    let live = read_native(&utmp).iter().filter(|r| r.kind == USER).count();
    assert_eq!(live, 200);
    shared.kill().unwrap();
    shared.wait().unwrap();
    drop(u);
}

#[test]
fn a_stopped_wtmpd_does_not_hold_up_utmpd() {
    let s = Scratch::new("lim-stall");
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    let u = Daemon::start(&s, "utmpd", &["-n", "-S", "600"]);
    let mut session = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = session.id().to_string();
    ok(&utmpset(
        &s,
        &["-u", "alice", "-l", "pts/9", "-p", &pid, "login"],
    ));
    // wtmpd stops; then the session ends, and utmpd has a logout to send.
    w.signal(libc::SIGSTOP);
    session.kill().unwrap();
    session.wait().unwrap();
    let utmp = run_dir(&s).join("utmp");
    assert!(wait_until(Duration::from_secs(10), || read_native(&utmp)
        .iter()
        .any(|r| r.line == b"pts/9" && r.kind == DEAD)));
    // Readers keep their answers within a fraction of a second (the
    // blocking send held the loop for half a second every 2 s).
    let mut raw = Raw::connect(&run_dir(&s).join("utmpd.sock"));
    let start = Instant::now();
    let mut slowest = Duration::ZERO;
    while start.elapsed() < Duration::from_secs(5) {
        let asked = Instant::now();
        assert_eq!(raw.call(UTMP_LIST, b"").unwrap().0, 0);
        slowest = slowest.max(asked.elapsed());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        slowest < Duration::from_millis(300),
        "a list took {slowest:?} while wtmpd was stopped"
    );
    // wtmpd returns: the logout reaches wtmp, once.
    w.signal(libc::SIGCONT);
    let wtmp = log_dir(&s).join("wtmp");
    let logouts = || {
        read_native(&wtmp)
            .iter()
            .filter(|r| r.line == b"pts/9" && r.kind == DEAD)
            .count()
    };
    assert!(
        wait_until(Duration::from_secs(10), || logouts() > 0),
        "{}",
        u.log()
    );
    // Past the next retry: nothing sent twice.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(logouts(), 1, "{}", u.log());
    drop((u, w));
}
