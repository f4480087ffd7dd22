//! utmpd, wtmpd and utmpset end to end: daemons in scratch dirs, records
//! written through the applet symlinks, checked on disk and on the wire.

use std::process::Command;
use std::time::Duration;

use crate::daemon_util::*;
use crate::util::{run, Scratch};

fn release() -> Vec<u8> {
    let out = Command::new("uname").arg("-r").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .as_bytes()
        .to_vec()
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

/// Kill and reap `child`: the time it was gone, in microseconds.
fn kill_now(mut child: std::process::Child) -> i64 {
    child.kill().unwrap();
    child.wait().unwrap();
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
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
    let sleeper = Command::new("sleep").arg("60").spawn().unwrap();
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
    let killed_at = kill_now(sleeper);
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
    two_logins(&s);
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
fn a_session_ends_when_its_process_exits_not_at_the_next_sweep() {
    let s = Scratch::new("dm-pidfd");
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    let u = Daemon::start(&s, "utmpd", &["-n", "-S", "3600"]);
    let sleeper = Command::new("sleep").arg("60").spawn().unwrap();
    let pid = sleeper.id().to_string();
    ok(&utmpset(
        &s,
        &["-u", "alice", "-l", "pts/6", "-p", &pid, "login"],
    ));
    // A session wrapped by `utmpset run` records its own logout; utmpd
    // leaves it alone rather than logging it out twice.
    ok(&utmpset(
        &s,
        &["-u", "bob", "-l", "pts/7", "run", "--", "true"],
    ));
    let killed_at = kill_now(sleeper);
    let wtmp = log_dir(&s).join("wtmp");
    let logged_out = || {
        read_native(&wtmp)
            .into_iter()
            .find(|r| r.kind == DEAD && r.line == b"pts/6")
    };
    assert!(
        wait_until(Duration::from_secs(6), || logged_out().is_some()),
        "{}",
        u.log()
    );
    let logout = logged_out().unwrap();
    assert!(
        (logout.time_us - killed_at).abs() < 500_000,
        "logout at {} for an exit at {killed_at}",
        logout.time_us
    );
    std::thread::sleep(Duration::from_millis(2500));
    let dead_on_7 = read_native(&wtmp)
        .iter()
        .filter(|r| r.kind == DEAD && r.line == b"pts/7")
        .count();
    assert_eq!(dead_on_7, 1);
    drop((u, w));
}
