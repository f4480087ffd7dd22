//! The daemons under stress: hostile clients, kill -9 during a burst of
//! appends, a torn tail, rotation by rename + SIGHUP, pipelining, a second
//! daemon on the same socket.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::daemon_util::*;
use crate::util::{run, Scratch};

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
    // The appends went into the reserve: the file still ends in zeros.
    let bytes = std::fs::read(log_dir(&s).join("wtmp")).unwrap();
    assert!(bytes.ends_with(&[0u8; 512]), "no reserve after kill -9");
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
    // wtmpd appends into a reserve of zero records after its last record.
    assert!(whole >= 64 + 3 * 512, "no reserve: {whole} bytes");
    assert!(bytes[64 + 512..].iter().all(|&b| b == 0));
    let mut torn = Rec::new(USER, "pts/2", "bob").encode();
    torn[300] ^= 0xff; // a record whose write never finished
    torn[400..].fill(0); // (its end still the reserve's zeros)
    bytes[64 + 512..64 + 1024].copy_from_slice(&torn);
    bytes.extend_from_slice(&[7u8; 100]); // and half of another past the end
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
    // The torn record is reserve (zeros) again; the partial one is cut.
    let repaired = std::fs::read(&path).unwrap();
    assert_eq!(repaired.len(), whole);
    assert_eq!(repaired[..64 + 512], bytes[..64 + 512]);
    assert!(repaired[64 + 512..].iter().all(|&b| b == 0));
    let kept = std::fs::read(log_dir(&s).join("wtmp.torn")).unwrap();
    let mut expected = torn.to_vec();
    expected.extend_from_slice(&[7u8; 100]);
    assert_eq!(kept, expected);
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
    // The rotated file keeps its reserve (readers skip it); the new one
    // has its own.
    for file in [&rotated, &wtmp] {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            bytes.ends_with(&[0u8; 512]),
            "{}: no reserve",
            file.display()
        );
    }
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
    // Another data directory, so the socket's lock is what refuses it.
    let other = s.path("other-log");
    let out = run(s.applet("wtmpd").arg("-D").arg(&other), None);
    assert_eq!(out.status.code(), Some(111));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "wtmpd: fatal: {} is in use by another wtmpd (pid {})\n",
            run_dir(&s).join("wtmpd.sock").display(),
            w.child.id()
        )
    );
    drop(w);
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

#[test]
fn a_daemon_serves_an_inherited_listening_socket() {
    use std::os::fd::AsRawFd;
    let s = Scratch::new("dm-inherit");
    std::fs::create_dir_all(run_dir(&s)).unwrap();
    // Bound by the supervisor, at a path the daemon would not choose.
    let path = s.path("activated.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let w = Daemon::spawn(&s, "wtmpd", &["-n", "-l", "4"], Some(listener.as_raw_fd()));
    drop(listener);
    assert!(!run_dir(&s).join("wtmpd.sock").exists());
    let mut raw = Raw::connect(&path);
    let rec = Rec::new(USER, "pts/1", "alice");
    assert_eq!(raw.call(LOG_APPEND, &append_payload(1, &rec)).unwrap().0, 0);
    assert!(w.stop());
    // The socket belongs to the supervisor: the daemon leaves it in place.
    assert!(path.exists());
    assert_eq!(read_native(&log_dir(&s).join("wtmp")).len(), 1);
}

/// wtmpd appends into a reserve of zero records at the end of its log:
/// free space that every reader skips, that a restart finds again (the
/// write position is after the last record), and that is overwritten in
/// place, so the file does not grow for every append.
#[test]
fn wtmpd_restarts_into_its_reserve() {
    let s = Scratch::new("dm-reserve");
    let path = log_dir(&s).join("wtmp");
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    append(&s, &Rec::new(USER, "pts/1", "alice"));
    append(&s, &Rec::new(USER, "pts/2", "bob"));
    assert!(w.stop());
    let bytes = std::fs::read(&path).unwrap();
    let size = bytes.len();
    assert_eq!((size - 64) % 512, 0);
    assert!(size >= 64 + 4 * 512, "no reserve: {size} bytes");
    assert!(bytes[64 + 2 * 512..].iter().all(|&b| b == 0));
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    assert!(!w.log().contains("torn"), "{}", w.log());
    let mut raw = Raw::connect(&run_dir(&s).join("wtmpd.sock"));
    let (status, stat) = raw.call(0x11, &[1]).unwrap();
    assert_eq!(status, 0);
    assert_eq!(stat[..8], 2u64.to_le_bytes(), "LOG_STAT count");
    append(&s, &Rec::new(USER, "pts/3", "carol"));
    // LOG_READ lists the three, newest first, and none of the reserve.
    let (status, read) = raw.call(LOG_READ, &read_payload(1)).unwrap();
    assert_eq!(status, 0);
    assert_eq!(read[..8], 0u64.to_le_bytes(), "next");
    assert_eq!(read[8..12], 3u32.to_le_bytes(), "record count");
    let users: Vec<_> = read[12..]
        .chunks(512)
        .map(|c| Rec::decode(c).unwrap().user)
        .collect();
    assert_eq!(
        users,
        vec![b"carol".to_vec(), b"bob".to_vec(), b"alice".to_vec()]
    );
    drop(raw);
    assert!(w.stop());
    assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, size);
    let users: Vec<_> = read_native(&path).into_iter().map(|r| r.user).collect();
    assert_eq!(
        users,
        vec![b"alice".to_vec(), b"bob".to_vec(), b"carol".to_vec()]
    );
    // utmpdump and last read the same three and nothing of the reserve.
    let dump = run(s.applet("utmpdump").arg(&path), None);
    assert_eq!(dump.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&dump.stdout).lines().count(), 3);
    let last = run(s.applet("last").arg("-f").arg(&path), None);
    assert!(
        last.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&last.stdout)
            .lines()
            .filter(|l| l.starts_with("alice") || l.starts_with("bob") || l.starts_with("carol"))
            .count(),
        3
    );
}

/// A daemon whose stderr fails (a full disk under its log, a log pipe
/// whose reader died) keeps serving: its log lines are lost, not the
/// daemon (`eprintln!` used to panic, and panic aborts).
#[test]
fn a_daemon_whose_log_fails_keeps_serving() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("dm-full-log");
    for name in ["wtmpd", "utmpd"] {
        let link = s.path("bin").join(name);
        std::fs::remove_file(&link).unwrap();
        let script = format!(
            "#!/bin/sh\nexec 2>/dev/full\nexec {} {name} \"$@\"\n",
            s.path("bin").join("utmpbox").display()
        );
        std::fs::write(&link, script).unwrap();
        std::fs::set_permissions(&link, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (u, w) = start_both(&s);
    // Each of these makes a daemon log a line: a SIGHUP, a login, a
    // session whose process is gone.
    w.signal(libc::SIGHUP);
    ok(&utmpset(
        &s,
        &["-u", "root", "-l", "pts/7", "-p", "1", "login"],
    ));
    ok(&utmpset(
        &s,
        &["-u", "root", "-l", "pts/8", "-p", "999999", "login"],
    ));
    w.signal(libc::SIGHUP);
    ok(&utmpset(&s, &["-u", "root", "-l", "pts/7", "logout"]));
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    assert!(wtmp.iter().any(|r| r.line == b"pts/7" && r.kind == DEAD));
    assert!(u.stop(), "utmpd did not exit 0");
    assert!(w.stop(), "wtmpd did not exit 0");
}
