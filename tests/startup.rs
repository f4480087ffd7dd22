//! Start-up an init script cannot get wrong (issue 13): `-d FD` checked
//! before anything is bound, accept errors that neither spin nor flood
//! the log, `utmpset wait`, writers that wait for a daemon still
//! starting, the session pid `utmpset login` records, and `--install`
//! links that survive moving the tree.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::daemon_util::{frame, ok, pty_owned_by, run_dir, utmpset, wait_until, Daemon, Raw};
use crate::util::{binary, run, Scratch};

const LOG_STAT: u8 = 0x11;

fn assert_root() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root (the suite runs as root)"
    );
}

/// `name` started with `args`, not waited for (no readiness fd): as an
/// init script starts it with `&`. Descriptors 3 and up are closed in
/// the child, so what the daemon finds open is only what it opens, and
/// `nofile` (soft and hard) is its descriptor limit if given.
fn spawn_bare(s: &Scratch, name: &'static str, args: &[&str], nofile: Option<u64>) -> Daemon {
    spawn_bare_with(s, name, args, nofile, Stdio::null())
}

/// As `spawn_bare`, with `stdin` as the daemon's fd 0.
fn spawn_bare_with(
    s: &Scratch,
    name: &'static str,
    args: &[&str],
    nofile: Option<u64>,
    stdin: Stdio,
) -> Daemon {
    let stderr = s.path(&format!("{name}.stderr"));
    let log = File::create(&stderr).unwrap();
    let mut cmd = s.applet(name);
    cmd.args(args)
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(log);
    // SAFETY: only close and setrlimit between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            for fd in 3..1024 {
                libc::close(fd);
            }
            if let Some(n) = nofile {
                let limit = libc::rlimit {
                    rlim_cur: n,
                    rlim_max: n,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    Daemon {
        child: cmd.spawn().unwrap(),
        name,
        stderr,
    }
}

/// Wait (at most 10 s) for `daemon` to exit; its exit code, None if it
/// had to be killed.
fn exit_code(daemon: &mut Daemon) -> Option<i32> {
    let exited = wait_until(Duration::from_secs(10), || {
        daemon.child.try_wait().unwrap().is_some()
    });
    if !exited {
        let _ = daemon.child.kill();
    }
    let status = daemon.child.wait().unwrap();
    if exited {
        status.code()
    } else {
        None
    }
}

/// LOG_STAT answered on a fresh connection to `socket`.
fn answers(socket: &Path) -> bool {
    let Ok(stream) = UnixStream::connect(socket) else {
        return false;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut raw = Raw { stream };
    matches!(raw.call(LOG_STAT, &[1]), Ok((0, _)))
}

#[test]
fn notify_fd_that_is_not_open_fails_before_binding() {
    for name in ["wtmpd", "utmpd"] {
        let s = Scratch::new("startup-notify");
        let mut daemon = spawn_bare(&s, name, &["-d", "3"], None);
        let code = exit_code(&mut daemon);
        let log = daemon.log();
        assert_eq!(code, Some(100), "{name}: {log}");
        assert_eq!(
            log,
            format!("{name}: fatal: unable to use notification fd 3: Bad file descriptor\n")
        );
        // Nothing was bound or created: the run directory is not there.
        assert!(!run_dir(&s).exists(), "{name} created {:?}", run_dir(&s));
    }
}

#[test]
fn notify_fd_that_is_also_the_listening_fd_is_refused() {
    // Readiness closes the notification fd: were it the listener too,
    // the daemon would close its own socket.
    let s = Scratch::new("startup-notify-listen");
    std::fs::create_dir_all(s.path("sock")).unwrap();
    let listener = UnixListener::bind(s.path("sock/wtmpd.sock")).unwrap();
    let stdin = Stdio::from(std::os::fd::OwnedFd::from(listener));
    let mut daemon = spawn_bare_with(&s, "wtmpd", &["-d", "0", "-l", "0"], None, stdin);
    let code = exit_code(&mut daemon);
    assert_eq!(code, Some(100), "{}", daemon.log());
    assert_eq!(
        daemon.log(),
        "wtmpd: fatal: notification fd 0 is also a listening socket's descriptor\n"
    );
    assert!(!run_dir(&s).exists());
}

#[test]
fn a_listening_socket_that_does_not_listen_is_fatal_not_a_spin() {
    let s = Scratch::new("startup-nolisten");
    // SAFETY: a fresh stream socket, never listened on.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) };
    assert!(fd >= 0);
    let mut daemon = Daemon::spawn(&s, "wtmpd", &["-l", "4"], Some(fd));
    // SAFETY: our copy; the daemon has its own as fd 4.
    unsafe { libc::close(fd) };
    let code = exit_code(&mut daemon);
    let log = daemon.log();
    assert_eq!(code, Some(111), "{log}");
    let accepts: Vec<&str> = log.lines().filter(|l| l.contains("accept")).collect();
    assert_eq!(
        accepts,
        ["wtmpd: fatal: unable to accept connections: Invalid argument"],
        "{log}"
    );
}

/// Clock ticks of CPU time `pid` has used (utime + stime).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name, which ends at the last ')'.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The descriptor numbers `pid` has open.
fn open_fds(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// How many sockets `pid` has open (wtmpd: its listener and one per
/// connection).
fn sockets(pid: u32) -> usize {
    open_fds(pid)
        .iter()
        .filter_map(|fd| std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

#[test]
fn out_of_descriptors_neither_spins_nor_floods_the_log() {
    let s = Scratch::new("startup-emfile");
    let socket = run_dir(&s).join("wtmpd.sock");
    let mut daemon = spawn_bare(&s, "wtmpd", &["-t", "60000"], None);
    let pid = daemon.child.id();
    assert!(
        wait_until(Duration::from_secs(10), || answers(&socket)),
        "{}",
        daemon.log()
    );
    // Once it has closed that connection (only the listener is left), cut
    // its descriptor limit to leave room for exactly one connection: the
    // one free number below the limit.
    assert!(wait_until(Duration::from_secs(10), || sockets(pid) == 1));
    let held = open_fds(pid);
    let free: Vec<u32> = (0u32..).filter(|n| !held.contains(n)).take(2).collect();
    let limit = libc::rlimit {
        rlim_cur: free[1].into(),
        rlim_max: free[1].into(),
    };
    // SAFETY: setting another process's limit from a valid struct.
    let rc = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_NOFILE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());

    // One client takes the one connection, mid-request (never idle, so
    // never shed); forty more wait in the listen queue.
    let mut hog = UnixStream::connect(&socket).unwrap();
    hog.write_all(&frame(LOG_STAT, &[1])[..3]).unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || sockets(pid) == 2),
        "the first client was not accepted: {:?} of {held:?}: {}",
        open_fds(pid),
        daemon.log()
    );
    let waiting: Vec<UnixStream> = (0..40)
        .map(|_| UnixStream::connect(&socket).unwrap())
        .collect();
    // A loop that retried accept at once would burn a whole CPU (and old
    // ones did); resting the listener costs a few wake-ups a second. The
    // bound is generous: a spinning daemon gets far more even on a
    // loaded machine.
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_ticks(pid) - before;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    assert!(
        used * 4 < hz,
        "wtmpd used {used} ticks of CPU ({hz}/s) in 2 s with clients waiting"
    );
    let log = daemon.log();
    let warnings = log.lines().filter(|l| l.contains("accept")).count();
    assert!(
        (1..=4).contains(&warnings),
        "{warnings} accept warnings in about 2 s:\n{log}"
    );
    assert!(
        log.contains("wtmpd: warning: accept: No file descriptors available"),
        "{log}"
    );
    // The clients go; the daemon serves again.
    drop(hog);
    drop(waiting);
    assert!(
        wait_until(Duration::from_secs(10), || answers(&socket)),
        "{}",
        daemon.log()
    );
    assert!(daemon.child.try_wait().unwrap().is_none());
}

#[test]
fn utmpset_wait_returns_once_both_daemons_answer() {
    let s = Scratch::new("startup-wait");
    let _w = spawn_bare(&s, "wtmpd", &[], None);
    let _u = spawn_bare(&s, "utmpd", &["-S", "0"], None);
    let out = utmpset(&s, &["wait", "-t", "10"]);
    ok(&out);
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    // Both answer now without any waiting of their own.
    assert!(answers(&run_dir(&s).join("wtmpd.sock")));
    let out = run(s.applet("who").arg("-b"), None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("system boot"));
}

#[test]
fn utmpset_wait_fails_at_the_deadline_naming_the_daemon() {
    let s = Scratch::new("startup-wait-none");
    let sock = |name: &str| run_dir(&s).join(name).display().to_string();
    let out = utmpset(&s, &["wait", "-t", "0.3"]);
    assert_eq!(out.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "utmpset: fatal: no answer within 0.3 s from wtmpd ({}: No such file or directory) \
             or utmpd ({}: No such file or directory)\n",
            sock("wtmpd.sock"),
            sock("utmpd.sock")
        )
    );
    // wtmpd up; utmpd's socket exists and takes connections, but nothing
    // answers there: a socket is not a daemon.
    let _w = spawn_bare(&s, "wtmpd", &[], None);
    assert!(wait_until(Duration::from_secs(10), || answers(
        &run_dir(&s).join("wtmpd.sock")
    )));
    let _mute = UnixListener::bind(run_dir(&s).join("utmpd.sock")).unwrap();
    let out = utmpset(&s, &["-t", "1", "wait"]);
    assert_eq!(out.status.code(), Some(111));
    // ETIMEDOUT: "Operation timed out" in musl, "Connection timed out" in
    // glibc.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let head = format!(
        "utmpset: fatal: no answer within 1 s from utmpd ({}: ",
        sock("utmpd.sock")
    );
    assert!(
        stderr.starts_with(&head)
            && stderr.ends_with(" timed out)\n")
            && stderr.lines().count() == 1,
        "{stderr}"
    );
    let out = utmpset(&s, &["wait", "-t", "soon"]);
    assert_eq!(out.status.code(), Some(100));
    assert!(String::from_utf8_lossy(&out.stderr)
        .starts_with("utmpset: invalid time 'soon' (seconds)\n"));
}

#[test]
fn writers_wait_for_daemons_started_with_them() {
    // `wtmpd & utmpd & utmpset login`, with no wait in between, 20 times.
    for round in 0..20 {
        let s = Scratch::new("startup-race");
        let w = spawn_bare(&s, "wtmpd", &[], None);
        let u = spawn_bare(&s, "utmpd", &["-S", "0"], None);
        let out = utmpset(&s, &["-u", "root", "-l", "pts/9", "-p", "1", "login"]);
        assert!(
            out.status.success(),
            "round {round}: exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        let who = run(&mut s.applet("who"), None);
        assert!(
            String::from_utf8_lossy(&who.stdout).starts_with("root     pts/9 "),
            "round {round}: {who:?}"
        );
        assert!(u.stop() && w.stop(), "round {round}");
    }
}

#[test]
fn readers_do_not_wait_for_a_daemon_that_is_not_there() {
    // The writers' wait must not reach the readers' fallback: with no
    // daemon (no socket, or a stale one that refuses), who reads the
    // files at once. A reader that retried would spend its whole 1 s
    // deadline first: the bound is that deadline, not a speed.
    let s = Scratch::new("startup-reader");
    for stale in [false, true] {
        if stale {
            std::fs::create_dir_all(run_dir(&s)).unwrap();
            drop(UnixListener::bind(run_dir(&s).join("utmpd.sock")).unwrap());
        }
        let start = std::time::Instant::now();
        let out = run(&mut s.applet("who"), None);
        assert!(out.status.success(), "{out:?}");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "stale socket {stale}: {:?}",
            start.elapsed()
        );
    }
}

/// `last`'s line for `line`, if any.
fn last_line(s: &Scratch, line: &str) -> Option<String> {
    let out = run(&mut s.applet("last"), None);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(line))
        .map(str::to_string)
}

#[test]
fn a_login_from_a_shell_is_live_while_the_shell_runs() {
    // The shell's loginuid set as pam_loginuid sets a login's: what
    // util-linux's last (and ours) check to call a session live.
    login_shell_lives_and_ends(true);
}

#[test]
fn a_login_from_a_script_without_pam_is_live_while_it_runs() {
    // No loginuid (an initramfs, a login script, this test's own
    // processes): util-linux says "gone - no logout"; ours asks the
    // terminal's owner instead (docs/COMPAT.md).
    login_shell_lives_and_ends(false);
}

fn login_shell_lives_and_ends(set_loginuid: bool) {
    assert_root();
    let s = Scratch::new("startup-pid");
    let (_u, _w) = crate::daemon_util::start_both(&s);
    // A real terminal owned by root.
    let (line, _master) = pty_owned_by(0);
    let loginuid = if set_loginuid {
        "if [ -e /proc/self/loginuid ]; then echo 0 > /proc/self/loginuid || exit 3; fi; "
    } else {
        "[ \"$(cat /proc/self/loginuid)\" = 4294967295 ] || exit 5; "
    };
    let script = format!("{loginuid}utmpset -u root -l {line} login || exit 4; echo $$; read x");
    let mut shell = Command::new("sh")
        .args(["-c", &script])
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", s.path("bin").display()))
        .env("UTMPBOX_RUNDIR", run_dir(&s))
        .env("UTMPBOX_LOGDIR", s.path("log"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pid = String::new();
    let mut out = shell.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    while out.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        pid.push(byte[0] as char);
    }
    assert!(!pid.is_empty(), "the shell failed: {:?}", shell.try_wait());
    // The recorded pid is the shell's (utmpset's parent).
    let table = run(s.applet("who").args(["-u"]), None);
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(
        table
            .lines()
            .any(|l| l.contains(&line) && l.split_whitespace().any(|w| w == pid)),
        "pid {pid} not in:\n{table}"
    );
    let live = last_line(&s, &line).unwrap_or_default();
    assert!(live.contains("still logged in"), "{live}");
    // The shell ends: utmpd, watching its pid, ends the session.
    drop(shell.stdin.take());
    shell.wait().unwrap();
    let mut ended = String::new();
    assert!(
        wait_until(Duration::from_secs(15), || {
            ended = last_line(&s, &line).unwrap_or_default();
            !ended.contains("still logged in") && !ended.is_empty()
        }),
        "{ended}"
    );
    assert!(!ended.contains("gone - no logout"), "{ended}");
    assert!(ended.contains(" - "), "no logout time: {ended}");
}

fn install(exe: &Path, dirs: &[&Path]) -> std::process::Output {
    run(Command::new(exe).arg("--install").args(dirs), None)
}

fn copy_binary(to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    crate::util::copy_exe(&binary(), to);
}

#[test]
fn install_into_a_tree_links_relatively_and_survives_a_move() {
    let s = Scratch::new("startup-install");
    let root = s.path("rootfs");
    let (bin, sbin) = (root.join("usr/bin"), root.join("usr/sbin"));
    copy_binary(&bin.join("utmpbox"));
    std::fs::create_dir_all(&sbin).unwrap();
    let out = install(&bin.join("utmpbox"), &[&bin, &sbin]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    for name in [
        "last", "lastb", "lastlog", "uptime", "users", "utmpdump", "utmpset", "w", "who",
    ] {
        assert_eq!(
            std::fs::read_link(bin.join(name)).unwrap(),
            Path::new("utmpbox")
        );
        assert!(!sbin.join(name).exists(), "{name} in sbin");
    }
    for name in ["utmpd", "wtmpd"] {
        assert_eq!(
            std::fs::read_link(sbin.join(name)).unwrap(),
            Path::new("../bin/utmpbox")
        );
        assert!(
            std::fs::symlink_metadata(bin.join(name)).is_err(),
            "{name} in bin"
        );
    }
    // Again: nothing to do, nothing said.
    let out = install(&bin.join("utmpbox"), &[&bin, &sbin]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    // The tree copied elsewhere, the original gone: every link resolves.
    let moved = s.path("image");
    let cp = run(Command::new("cp").arg("-a").arg(&root).arg(&moved), None);
    assert!(cp.status.success(), "{cp:?}");
    std::fs::remove_dir_all(&root).unwrap();
    for link in ["usr/bin/who", "usr/sbin/wtmpd", "usr/sbin/utmpd"] {
        let out = run(Command::new(moved.join(link)).arg("--version"), None);
        let name = Path::new(link).file_name().unwrap().to_string_lossy();
        assert!(
            out.stdout
                .starts_with(format!("{name} (utmpbox) ").as_bytes()),
            "{link}: {out:?}"
        );
    }
}

#[test]
fn install_rewords_its_own_absolute_links_and_refuses_others() {
    let s = Scratch::new("startup-install-old");
    let bin: PathBuf = s.path("root/bin");
    copy_binary(&bin.join("utmpbox"));
    // An earlier install's absolute link is ours: made relative, no
    // --force needed. A file that is not ours is still refused.
    let exe = bin.join("utmpbox").canonicalize().unwrap();
    std::os::unix::fs::symlink(&exe, bin.join("who")).unwrap();
    std::fs::write(bin.join("w"), b"#!/bin/sh\n").unwrap();
    let out = install(&bin.join("utmpbox"), &[&bin]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "utmpbox: refusing to replace {} (not a link to utmpbox; use --force)\n",
            bin.join("w").display()
        )
    );
    assert_eq!(
        std::fs::read_link(bin.join("who")).unwrap(),
        Path::new("utmpbox")
    );
    assert_eq!(
        std::fs::read_link(bin.join("utmpd")).unwrap(),
        Path::new("utmpbox")
    );
    assert_eq!(std::fs::read(bin.join("w")).unwrap(), b"#!/bin/sh\n");
}
