//! utmpd, wtmpd and utmpset end to end: daemons in scratch dirs, records
//! written through the applet symlinks, checked on disk and on the wire.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::daemon_util::*;
use crate::util::{run, Scratch};

fn utmpset(s: &Scratch, args: &[&str]) -> std::process::Output {
    run(s.applet("utmpset").args(args), None)
}

#[track_caller]
fn ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn release() -> Vec<u8> {
    let out = Command::new("uname").arg("-r").output().unwrap();
    out.stdout.trim_ascii().to_vec()
}

fn kinds_users(records: &[Rec]) -> Vec<(i16, String, String)> {
    records
        .iter()
        .map(|r| {
            (
                r.kind,
                String::from_utf8_lossy(&r.user).into_owned(),
                String::from_utf8_lossy(&r.line).into_owned(),
            )
        })
        .collect()
}

#[test]
fn utmpset_records_reach_utmp_wtmp_btmp_and_lastlog() {
    let s = Scratch::new("dm-basic");
    let (utmpd, wtmpd) = start_both(&s);
    let t = "1790000000";
    ok(&utmpset(
        &s,
        &[
            "-u",
            "alice",
            "-l",
            "pts/9",
            "-H",
            "example.org",
            "-A",
            "192.0.2.7",
            "-p",
            "0",
            "-T",
            t,
            "login",
        ],
    ));
    ok(&utmpset(
        &s,
        &[
            "-u",
            "bob",
            "-l",
            "ssh:notty",
            "-H",
            "203.0.113.9",
            "-T",
            t,
            "fail",
        ],
    ));
    ok(&utmpset(
        &s,
        &["-l", "pts/9", "-T", "1790000600", "-e", "2", "logout"],
    ));
    ok(&utmpset(&s, &["-T", t, "runlevel", "3"]));
    let run_out = utmpset(
        &s,
        &[
            "-u", "carol", "-l", "pts/4", "run", "--", "sh", "-c", "exit 7",
        ],
    );
    assert_eq!(
        run_out.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&run_out.stderr)
    );

    let utmp = read_native(&run_dir(&s).join("utmp"));
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    let btmp = read_native(&log_dir(&s).join("btmp"));
    let lastlog = read_native(&log_dir(&s).join("lastlog"));

    // The boot was recorded by each daemon on its own.
    assert_eq!(utmp[0].kind, BOOT);
    assert_eq!(
        (utmp[0].user.as_slice(), utmp[0].line.as_slice()),
        (&b"reboot"[..], &b"~"[..])
    );
    assert_eq!(wtmp[0].kind, BOOT);
    assert_eq!(wtmp[0].host, release());
    assert_eq!(
        kinds_users(&wtmp[1..]),
        vec![
            (USER, "alice".into(), "pts/9".into()),
            (DEAD, "".into(), "pts/9".into()),
            (RUNLVL, "runlevel".into(), "~".into()),
            (USER, "carol".into(), "pts/4".into()),
            (DEAD, "".into(), "pts/4".into()),
        ]
    );
    let alice = &wtmp[1];
    assert_eq!(alice.host, b"example.org");
    assert_eq!(alice.addr[..4], [192, 0, 2, 7]);
    assert_eq!(alice.id, b"ts/9");
    assert_eq!(alice.time_us, 1_790_000_000_000_000);
    assert_eq!((wtmp[2].time_us, wtmp[2].exit), (1_790_000_600_000_000, 2));
    assert_eq!(wtmp[3].pid, i32::from(b'3') + 256 * i32::from(b'N'));
    // run: login with the command's pid, logout with its exit status.
    assert!(wtmp[4].pid > 0);
    assert_eq!((wtmp[5].pid, wtmp[5].exit), (wtmp[4].pid, 7));

    // utmp: alice's slot now dead, carol's too; one run-level entry.
    let slot = |line: &str| utmp.iter().find(|r| r.line == line.as_bytes()).unwrap();
    assert_eq!(slot("pts/9").kind, DEAD);
    assert_eq!(slot("pts/4").kind, DEAD);
    assert_eq!(utmp.iter().filter(|r| r.kind == RUNLVL).count(), 1);

    assert_eq!(
        kinds_users(&btmp),
        vec![(LOGIN, "bob".into(), "ssh:notty".into())]
    );
    assert_eq!(btmp[0].host, b"203.0.113.9");

    // lastlog: one entry per login, keyed by user.
    let users: Vec<_> = kinds_users(&lastlog);
    assert_eq!(
        users,
        vec![
            (USER, "alice".into(), "pts/9".into()),
            (USER, "carol".into(), "pts/4".into())
        ]
    );
    assert_eq!(lastlog[0].host, b"example.org");
    assert!(utmpd.stop());
    assert!(wtmpd.stop());
}

#[test]
fn boot_is_recorded_once_per_boot() {
    let s = Scratch::new("dm-boot");
    let (u, w) = start_both(&s);
    ok(&utmpset(&s, &["boot"]));
    assert!(u.stop() && w.stop());
    let (u, w) = start_both(&s);
    ok(&utmpset(&s, &["boot"]));
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    let utmp = read_native(&run_dir(&s).join("utmp"));
    assert_eq!(
        wtmp.iter().filter(|r| r.kind == BOOT).count(),
        1,
        "{wtmp:?}"
    );
    assert_eq!(utmp.iter().filter(|r| r.kind == BOOT).count(), 1);
    // The boot time is this boot's: now minus the time since boot.
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let boot = wtmp[0].time_us as f64 / 1e6;
    assert!(
        (now - uptime - boot).abs() < 5.0,
        "boot {boot} now {now} uptime {uptime}"
    );
    drop((u, w));
}

#[test]
fn utmpd_restart_keeps_sessions() {
    let s = Scratch::new("dm-restart");
    let (u, w) = start_both(&s);
    ok(&utmpset(
        &s,
        &["-u", "alice", "-l", "pts/3", "-p", "1", "login"],
    ));
    ok(&utmpset(
        &s,
        &["-u", "bob", "-l", "pts/4", "-p", "1", "login"],
    ));
    let before = read_native(&run_dir(&s).join("utmp"));
    assert!(u.stop());
    let u = Daemon::start(&s, "utmpd", &["-S", "0"]);
    let mut raw = Raw::connect(&run_dir(&s).join("utmpd.sock"));
    let (status, payload) = raw.call(UTMP_LIST, b"").unwrap();
    assert_eq!(status, 0);
    let path_len = u16::from_le_bytes([payload[0], payload[1]]) as usize;
    let body = &payload[2 + path_len..];
    let count = u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize;
    let listed: Vec<Rec> = body[4..]
        .chunks(512)
        .map(|c| Rec::decode(c).unwrap())
        .collect();
    assert_eq!(count, listed.len());
    assert_eq!(listed, before);
    assert!(listed.iter().any(|r| r.user == b"alice" && r.kind == USER));
    assert!(listed.iter().any(|r| r.user == b"bob" && r.kind == USER));
    drop((u, w));
}

#[test]
fn ended_session_is_marked_dead_and_logged_out() {
    let s = Scratch::new("dm-stale");
    let w = Daemon::start(&s, "wtmpd", &[]);
    let u = Daemon::start(&s, "utmpd", &["-S", "1"]);
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = sleeper.id().to_string();
    ok(&utmpset(
        &s,
        &["-u", "alice", "-l", "pts/6", "-p", &pid, "login"],
    ));
    std::thread::sleep(Duration::from_millis(1200));
    let utmp = read_native(&run_dir(&s).join("utmp"));
    assert!(
        utmp.iter().any(|r| r.line == b"pts/6" && r.kind == USER),
        "live session reaped"
    );
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    let killed_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64;
    let wtmp_path = log_dir(&s).join("wtmp");
    assert!(
        wait_until(Duration::from_secs(5), || read_native(&wtmp_path)
            .iter()
            .any(|r| r.line == b"pts/6" && r.kind == DEAD)),
        "no logout in wtmp: {}",
        u.log()
    );
    let logout = read_native(&wtmp_path)
        .into_iter()
        .find(|r| r.kind == DEAD)
        .unwrap();
    assert_eq!(logout.pid.to_string(), pid);
    assert!(
        (logout.time_us - killed_at).abs() < 3_000_000,
        "logout time far from the end"
    );
    let utmp = read_native(&run_dir(&s).join("utmp"));
    let slot = utmp.iter().find(|r| r.line == b"pts/6").unwrap();
    assert_eq!((slot.kind, slot.user.len()), (DEAD, 0));
    drop((u, w));
}

#[test]
fn unprivileged_writes_follow_the_policy() {
    let s = Scratch::new("dm-nobody");
    let (u, w) = start_both(&s);
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (own, _master) = pty_owned_by(NOBODY);
    let (roots, _master2) = pty_owned_by(0);

    let out = run(
        &mut as_nobody(s.applet("utmpset")).args(["-u", "root", "-l", &own, "-p", "0", "login"]),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "utmpset: utmpd refused the record: you may only write records under your own user name\n"
    );
    let out = run(
        &mut as_nobody(s.applet("utmpset")).args(["-l", &roots, "-p", "0", "login"]),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("utmpset: utmpd refused the record: {roots} is not your terminal\n")
    );
    let out = run(
        &mut as_nobody(s.applet("utmpset")).args(["-l", &own, "-p", "1", "login"]),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pid 1 is not one of your processes"));
    let out = run(
        &mut as_nobody(s.applet("utmpset")).args(["-l", &own, "-p", "0", "-T", "5", "login"]),
        None,
    );
    ok(&out);
    let out = run(
        &mut as_nobody(s.applet("utmpset")).args(["-l", &own, "fail"]),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "utmpset: wtmpd refused the record: only root may write btmp\n"
    );

    let utmp = read_native(&run_dir(&s).join("utmp"));
    let mine = utmp.iter().find(|r| r.line == own.as_bytes()).unwrap();
    assert_eq!((mine.kind, mine.user.as_slice()), (USER, &b"nobody"[..]));
    assert!(
        mine.time_us > 5_000_000,
        "an unprivileged client set its own time"
    );
    assert!(!utmp.iter().any(|r| r.line == roots.as_bytes()));
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    assert_eq!(wtmp.iter().filter(|r| r.kind == USER).count(), 1);
    assert!(read_native(&log_dir(&s).join("btmp")).is_empty());

    // Reading: wtmp and utmp are open to anyone, btmp to root only.
    let wsock = run_dir(&s).join("wtmpd.sock");
    let usock = run_dir(&s).join("utmpd.sock");
    assert_eq!(
        status_as_nobody(&wsock, &frame(LOG_READ, &read_payload(2))),
        4
    );
    assert_eq!(
        status_as_nobody(&wsock, &frame(LOG_READ, &read_payload(1))),
        0
    );
    assert_eq!(status_as_nobody(&usock, &frame(UTMP_LIST, b"")), 0);
    // A forged record straight on the wire is refused the same way.
    let mut forged = Rec::new(USER, &own, "root");
    forged.pid = 0;
    assert_eq!(
        status_as_nobody(&usock, &frame(UTMP_PUT, &forged.encode())),
        4
    );
    let mut boot = Rec::new(BOOT, "~", "reboot");
    boot.id = b"~~".to_vec();
    assert_eq!(
        status_as_nobody(&wsock, &frame(LOG_APPEND, &append_payload(1, &boot))),
        4
    );
    drop((u, w));
}

#[test]
fn bad_records_are_refused_and_nothing_is_stored() {
    let s = Scratch::new("dm-invalid");
    let (u, w) = start_both(&s);
    for (args, why) in [
        (
            vec!["-u", "evil\x1b[2J", "-l", "pts/1", "login"],
            "user contains a control character",
        ),
        (
            vec!["-u", "x", "-l", "../../etc/passwd", "login"],
            "line must not contain '..'",
        ),
        (
            vec!["-u", "x", "-l", "pts/1", "-H", "a\u{9b}b", "login"],
            "host contains a control character",
        ),
    ] {
        let out = utmpset(&s, &args);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!("utmpset: utmpd refused the record: {why}\n")
        );
    }
    let mut raw = Raw::connect(&run_dir(&s).join("wtmpd.sock"));
    let mut bad = Rec::new(42, "pts/1", "x").encode();
    let (status, msg) = raw
        .call(LOG_APPEND, &[&[1u8][..], &bad[..]].concat())
        .unwrap();
    assert_eq!(
        (status, msg.as_slice()),
        (5, &b"unknown record type 42"[..])
    );
    bad[100] ^= 1;
    let (status, _) = raw
        .call(LOG_APPEND, &[&[1u8][..], &bad[..]].concat())
        .unwrap();
    assert_eq!(status, 2, "a record failing its checksum is a bad request");
    assert_eq!(
        read_native(&log_dir(&s).join("wtmp"))
            .iter()
            .filter(|r| r.kind != BOOT)
            .count(),
        0
    );
    assert_eq!(
        read_native(&run_dir(&s).join("utmp"))
            .iter()
            .filter(|r| r.kind != BOOT)
            .count(),
        0
    );
    drop((u, w));
}

#[test]
fn hostile_clients_do_not_delay_a_well_behaved_one() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    let s = Scratch::new("dm-hostile");
    let (u, w) = start_both(&s);
    let usock = run_dir(&s).join("utmpd.sock");
    // Garbage and an oversized length get an error reply and are closed.
    let mut garbage = UnixStream::connect(&usock).unwrap();
    garbage
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    garbage.write_all(b"\x08\x00\x00\x00GARBAGE!").unwrap();
    let mut reply = Vec::new();
    garbage.read_to_end(&mut reply).unwrap();
    assert_eq!(reply[5], 2, "garbage: {reply:?}");
    let mut huge = UnixStream::connect(&usock).unwrap();
    huge.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    huge.write_all(&u32::MAX.to_le_bytes()).unwrap();
    let mut reply = Vec::new();
    huge.read_to_end(&mut reply).unwrap();
    assert_eq!(reply[5], 3, "oversized: {reply:?}");
    // A half frame then silence, and 500 idle connections, all held open.
    let mut half = UnixStream::connect(&usock).unwrap();
    half.write_all(&frame(UTMP_LIST, b"")[..5]).unwrap();
    let idle: Vec<UnixStream> = (0..500)
        .filter_map(|_| UnixStream::connect(&usock).ok())
        .collect();
    assert!(idle.len() >= 400);
    let wsock = run_dir(&s).join("wtmpd.sock");
    let idle_w: Vec<UnixStream> = (0..500)
        .filter_map(|_| UnixStream::connect(&wsock).ok())
        .collect();
    let mut half_w = UnixStream::connect(&wsock).unwrap();
    half_w
        .write_all(&frame(LOG_READ, &read_payload(1))[..9])
        .unwrap();

    let start = Instant::now();
    let out = utmpset(
        &s,
        &[
            "-t", "2000", "-u", "alice", "-l", "pts/1", "-p", "0", "login",
        ],
    );
    ok(&out);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "served after {:?}",
        start.elapsed()
    );
    let mut raw = Raw::connect(&usock);
    let (status, _) = raw.call(UTMP_LIST, b"").unwrap();
    assert_eq!(status, 0);
    drop((idle, idle_w, half, half_w));
    drop((u, w));
}

/// Append records with unique pids from `writers` threads until `stop`;
/// returns the pids acknowledged.
fn appenders(
    socket: std::path::PathBuf,
    writers: usize,
    stop: Arc<AtomicBool>,
) -> (Vec<std::thread::JoinHandle<()>>, Arc<Mutex<Vec<i32>>>) {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let handles = (0..writers)
        .map(|t| {
            let (socket, stop, acked) = (socket.clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                let mut conn: Option<Raw> = None;
                while !stop.load(Ordering::Relaxed) {
                    let c = match conn.as_mut() {
                        Some(c) => c,
                        None => match std::os::unix::net::UnixStream::connect(&socket) {
                            Ok(stream) => {
                                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                                conn.insert(Raw { stream })
                            }
                            Err(_) => {
                                std::thread::sleep(Duration::from_millis(5));
                                continue;
                            }
                        },
                    };
                    let pid = (t as i32 + 1) * 1_000_000 + i;
                    let mut rec = Rec::new(USER, "pts/1", "load");
                    rec.pid = pid;
                    match c.call(LOG_APPEND, &append_payload(1, &rec)) {
                        Ok((0, _)) => {
                            acked.lock().unwrap().push(pid);
                            i += 1;
                        }
                        _ => conn = None,
                    }
                }
            })
        })
        .collect();
    (handles, acked)
}

#[test]
fn acknowledged_appends_survive_kill_9() {
    let s = Scratch::new("dm-kill9");
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    let stop = Arc::new(AtomicBool::new(false));
    let (handles, acked) = appenders(run_dir(&s).join("wtmpd.sock"), 16, stop.clone());
    std::thread::sleep(Duration::from_millis(400));
    w.kill9();
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "only {} appends acknowledged",
        acked.len()
    );
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    let stored: std::collections::HashSet<i32> = read_native(&log_dir(&s).join("wtmp"))
        .iter()
        .map(|r| r.pid)
        .collect();
    let lost: Vec<_> = acked.iter().filter(|p| !stored.contains(p)).collect();
    assert!(lost.is_empty(), "{} acknowledged records lost", lost.len());
    drop(w);
}

fn append(s: &Scratch, rec: &Rec) {
    let mut raw = Raw::connect(&run_dir(s).join("wtmpd.sock"));
    assert_eq!(raw.call(LOG_APPEND, &append_payload(1, rec)).unwrap().0, 0);
}

#[test]
fn torn_tail_is_repaired_and_reported() {
    let s = Scratch::new("dm-torn");
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    append(&s, &Rec::new(USER, "pts/1", "alice"));
    assert!(w.stop());
    let path = log_dir(&s).join("wtmp");
    let mut bytes = std::fs::read(&path).unwrap();
    let whole = bytes.len();
    let mut torn = Rec::new(USER, "pts/2", "bob").encode();
    torn[300] ^= 0xff; // a record whose write never finished
    bytes.extend_from_slice(&torn);
    bytes.extend_from_slice(&[7u8; 100]); // and half of another
    std::fs::write(&path, &bytes).unwrap();
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    assert!(
        w.log().contains(&format!(
            "wtmpd: warning: {}: repaired a torn tail: cut 612 bytes after record 1",
            path.display()
        )),
        "{}",
        w.log()
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, whole);
    let kept = std::fs::read(log_dir(&s).join("wtmp.torn")).unwrap();
    assert_eq!(kept, bytes[whole..]);
    append(&s, &Rec::new(USER, "pts/3", "carol"));
    let users: Vec<_> = read_native(&path).into_iter().map(|r| r.user).collect();
    assert_eq!(users, vec![b"alice".to_vec(), b"carol".to_vec()]);
    drop(w);
}

#[test]
fn rotation_by_rename_and_hup_loses_nothing() {
    let s = Scratch::new("dm-rotate");
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    let stop = Arc::new(AtomicBool::new(false));
    let (handles, acked) = appenders(run_dir(&s).join("wtmpd.sock"), 4, stop.clone());
    std::thread::sleep(Duration::from_millis(200));
    let wtmp = log_dir(&s).join("wtmp");
    let rotated = log_dir(&s).join("wtmp.1");
    std::fs::rename(&wtmp, &rotated).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    w.signal(libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    assert!(w.stop());
    let old = read_native(&rotated);
    let new = read_native(&wtmp);
    assert!(
        !old.is_empty() && !new.is_empty(),
        "old {} new {}",
        old.len(),
        new.len()
    );
    let mut stored: Vec<i32> = old.iter().chain(&new).map(|r| r.pid).collect();
    let mut acked = acked.lock().unwrap().clone();
    stored.sort_unstable();
    acked.sort_unstable();
    assert_eq!(stored, acked, "every acknowledged record exactly once");
}

#[test]
fn second_daemon_on_the_same_socket_is_refused() {
    let s = Scratch::new("dm-twice");
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    let out = run(&mut s.applet("wtmpd"), None);
    assert_eq!(out.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "wtmpd: fatal: another daemon is listening on {}\n",
            run_dir(&s).join("wtmpd.sock").display()
        )
    );
    drop(w);
}

#[test]
fn utmpset_without_daemons_says_so() {
    let s = Scratch::new("dm-none");
    let out = utmpset(&s, &["-u", "a", "-l", "pts/1", "login"]);
    assert_eq!(out.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "utmpset: fatal: unable to reach utmpd at {}: No such file or directory\n",
            run_dir(&s).join("utmpd.sock").display()
        )
    );
    // run still runs the command, and exits as it did.
    let out = utmpset(
        &s,
        &[
            "-u",
            "a",
            "-l",
            "pts/1",
            "run",
            "--",
            "sh",
            "-c",
            "echo hi; exit 4",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(out.stdout, b"hi\n");
}

/// The readers this build has (they land from other branches).
fn readers() -> Vec<String> {
    let list = run(Command::new(crate::util::binary()).arg("--list"), None);
    String::from_utf8_lossy(&list.stdout)
        .lines()
        .filter(|a| ["who", "users", "uptime", "last", "lastb", "lastlog"].contains(a))
        .map(String::from)
        .collect()
}

/// The part of `uptime` that comes from utmp: "N user(s)".
fn users_part(out: &[u8]) -> String {
    let text = String::from_utf8_lossy(out);
    text.split(',')
        .find(|part| part.contains("user"))
        .unwrap_or("")
        .trim()
        .to_string()
}

#[test]
fn readers_print_the_same_through_the_daemons_and_the_files() {
    let s = Scratch::new("dm-readers");
    let present = readers();
    if present.is_empty() {
        eprintln!("no reader applets in this build yet; nothing to compare");
        return;
    }
    let (u, w) = start_both(&s);
    let t = "1790000000";
    ok(&utmpset(
        &s,
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
            t,
            "login",
        ],
    ));
    ok(&utmpset(
        &s,
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
    ok(&utmpset(&s, &["-l", "pts/2", "-T", "1790000900", "logout"]));
    ok(&utmpset(
        &s,
        &[
            "-u",
            "root",
            "-l",
            "ssh:notty",
            "-H",
            "203.0.113.5",
            "-T",
            t,
            "fail",
        ],
    ));
    let commands: Vec<Vec<&str>> = vec![
        vec!["who"],
        vec!["who", "-a"],
        vec!["who", "-b"],
        vec!["users"],
        vec!["uptime"],
        vec!["last"],
        vec!["last", "-x"],
        vec!["lastb"],
        vec!["lastlog"],
    ];
    let outputs = |s: &Scratch| -> Vec<Vec<u8>> {
        commands
            .iter()
            .filter(|c| present.iter().any(|p| p == c[0]))
            .map(|c| {
                let out = run(s.applet(c[0]).args(&c[1..]), None);
                if c[0] == "uptime" {
                    users_part(&out.stdout).into_bytes()
                } else {
                    out.stdout
                }
            })
            .collect()
    };
    let through_daemons = outputs(&s);
    assert!(u.stop() && w.stop());
    assert!(!run_dir(&s).join("utmpd.sock").exists());
    let from_files = outputs(&s);
    for (i, (a, b)) in through_daemons.iter().zip(&from_files).enumerate() {
        crate::util::assert_same(a, b, format!("command {i}"));
    }
    let joined: Vec<u8> = through_daemons.concat();
    assert!(
        joined.windows(5).any(|w| w == b"pts/1"),
        "sessions not shown at all"
    );
}

/// The gid of group `utmp` on this machine.
fn utmp_gid() -> u32 {
    std::fs::read_to_string("/etc/group")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("utmp:x:"))
        .and_then(|rest| rest.split(':').next()?.parse().ok())
        .expect("a utmp group")
}

#[test]
fn utmp_group_members_may_write_anything_but_btmp() {
    let s = Scratch::new("dm-group");
    let (u, w) = start_both(&s);
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        &format!("--groups={}", utmp_gid()),
        "--",
    ])
    .arg(s.dir.join("bin/utmpset"))
    .args(["-u", "root", "-l", "tty9", "-p", "1", "-T", "1000", "login"])
    .env_clear()
    .env("UTMPBOX_RUNDIR", run_dir(&s))
    .env("UTMPBOX_LOGDIR", log_dir(&s));
    ok(&run(&mut cmd, None));
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    let login = wtmp.iter().find(|r| r.kind == USER).unwrap();
    assert_eq!(
        (login.user.as_slice(), login.time_us),
        (&b"root"[..], 1_000_000_000)
    );
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        &format!("--groups={}", utmp_gid()),
        "--",
    ])
    .arg(s.dir.join("bin/utmpset"))
    .args(["-u", "root", "-l", "tty9", "fail"])
    .env_clear()
    .env("UTMPBOX_RUNDIR", run_dir(&s))
    .env("UTMPBOX_LOGDIR", log_dir(&s));
    assert_eq!(run(&mut cmd, None).status.code(), Some(1));
    drop((u, w));
}

#[test]
fn unprivileged_write_rate_is_limited() {
    let s = Scratch::new("dm-rate");
    let w = Daemon::start(&s, "wtmpd", &["-n", "-r", "1"]);
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (own, _master) = pty_owned_by(NOBODY);
    let wsock = run_dir(&s).join("wtmpd.sock");
    let mut rec = Rec::new(USER, &own, "nobody");
    rec.pid = 0;
    let request = frame(LOG_APPEND, &append_payload(1, &rec));
    // A burst of ten seconds' worth, then "too many writes".
    let statuses: Vec<u8> = (0..12)
        .map(|_| status_as_nobody(&wsock, &request))
        .collect();
    assert_eq!(statuses[..10], [0; 10]);
    assert_eq!(statuses[10..], [6, 6]);
    // Root is not limited.
    let mut raw = Raw::connect(&wsock);
    for _ in 0..20 {
        assert_eq!(
            raw.call(
                LOG_APPEND,
                &append_payload(1, &Rec::new(USER, "pts/1", "root"))
            )
            .unwrap()
            .0,
            0
        );
    }
    drop(w);
}

#[test]
fn daemons_drop_to_the_user_given() {
    let s = Scratch::new("dm-drop");
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let w = Daemon::start(&s, "wtmpd", &["-U", "nobody"]);
    let u = Daemon::start(&s, "utmpd", &["-U", "nobody", "-S", "1"]);
    use std::os::unix::fs::MetadataExt;
    for d in [&w, &u] {
        let status = std::fs::read_to_string(format!("/proc/{}/status", d.child.id())).unwrap();
        let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
        assert_eq!(
            uid.split_whitespace().skip(1).collect::<Vec<_>>(),
            ["65534"; 4]
        );
        let groups = status.lines().find(|l| l.starts_with("Groups:")).unwrap();
        assert_eq!(
            groups.split_whitespace().skip(1).collect::<Vec<_>>(),
            [utmp_gid().to_string()]
        );
    }
    for file in [
        run_dir(&s).join("utmp"),
        log_dir(&s).join("wtmp"),
        log_dir(&s).join("btmp"),
    ] {
        assert_eq!(
            std::fs::metadata(&file).unwrap().uid(),
            NOBODY,
            "{}",
            file.display()
        );
    }
    assert_eq!(
        std::fs::metadata(log_dir(&s).join("btmp")).unwrap().mode() & 0o777,
        0o600
    );
    // utmpd, now nobody in group utmp, still hands ended sessions to wtmpd.
    let mut sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = sleeper.id().to_string();
    ok(&utmpset(
        &s,
        &["-u", "alice", "-l", "pts/8", "-p", &pid, "login"],
    ));
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    let wtmp = log_dir(&s).join("wtmp");
    assert!(
        wait_until(Duration::from_secs(5), || read_native(&wtmp)
            .iter()
            .any(|r| r.kind == DEAD && r.line == b"pts/8")),
        "{}\n{}",
        u.log(),
        w.log()
    );
    // SIGHUP reopens as nobody.
    std::fs::rename(&wtmp, log_dir(&s).join("wtmp.1")).unwrap();
    w.signal(libc::SIGHUP);
    assert!(wait_until(Duration::from_secs(5), || wtmp.exists()));
    assert_eq!(std::fs::metadata(&wtmp).unwrap().uid(), NOBODY);
    drop((u, w));
}

#[test]
fn sysvinit_and_runit_forms() {
    let s = Scratch::new("dm-compat");
    let (u, w) = start_both(&s);
    ok(&utmpset(&s, &["-p", "1", "-a", "tty2"]));
    let utmp = read_native(&run_dir(&s).join("utmp"));
    let entry = utmp.iter().find(|r| r.line == b"tty2").unwrap();
    assert_eq!(
        (entry.kind, entry.user.as_slice(), entry.id.as_slice()),
        (LOGIN, &b"LOGIN"[..], &b"tty2"[..])
    );
    ok(&utmpset(
        &s,
        &["-u", "bob", "-l", "tty2", "-p", "1", "login"],
    ));
    ok(&utmpset(&s, &["-d", "tty2"]));
    ok(&utmpset(
        &s,
        &["-u", "carol", "-l", "tty3", "-p", "1", "login"],
    ));
    ok(&utmpset(&s, &["tty3"]));
    ok(&utmpset(
        &s,
        &["-u", "dave", "-l", "tty4", "-p", "1", "login"],
    ));
    ok(&utmpset(&s, &["-w", "tty4"]));
    let utmp = read_native(&run_dir(&s).join("utmp"));
    for line in ["tty2", "tty3", "tty4"] {
        let entry = utmp.iter().find(|r| r.line == line.as_bytes()).unwrap();
        assert_eq!((entry.kind, entry.pid), (DEAD, 1), "{line}");
    }
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    let dead: Vec<&[u8]> = wtmp
        .iter()
        .filter(|r| r.kind == DEAD)
        .map(|r| r.line.as_slice())
        .collect();
    // -d and -w reach wtmp; runit's plain form is utmp only.
    assert_eq!(dead, [&b"tty2"[..], &b"tty4"[..]]);
    drop((u, w));
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    use std::io::Write;
    let s = Scratch::new("dm-pipeline");
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    let mut raw = Raw::connect(&run_dir(&s).join("wtmpd.sock"));
    let mut burst = Vec::new();
    for user in ["a", "b", "c"] {
        burst.extend(frame(
            LOG_APPEND,
            &append_payload(1, &Rec::new(USER, "pts/1", user)),
        ));
    }
    burst.extend(frame(0x11, &[1]));
    raw.stream.write_all(&burst).unwrap();
    for _ in 0..3 {
        assert_eq!(raw.reply().unwrap(), (0, Vec::new()));
    }
    let (status, stat) = raw.reply().unwrap();
    assert_eq!((status, &stat[..8]), (0, &3u64.to_le_bytes()[..]));
    let users: Vec<_> = read_native(&log_dir(&s).join("wtmp"))
        .into_iter()
        .map(|r| r.user)
        .collect();
    assert_eq!(users, [b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    drop(w);
}
