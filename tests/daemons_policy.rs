//! The daemons' policy (docs/SECURITY.md): what `nobody`, a member of
//! group utmp and root may write and read, validation, the unprivileged
//! rate limit, and running as an unprivileged user (`-U`).

use std::process::Command;
use std::time::Duration;

use crate::daemon_util::*;
use crate::util::{run, Scratch};

/// utmpset run as nobody fails with exactly `stderr`.
#[track_caller]
fn refused(s: &Scratch, args: &[&str], stderr: &str) {
    let out = run(as_nobody(s.applet("utmpset")).args(args), None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr), stderr);
}

#[test]
fn unprivileged_writes_follow_the_policy() {
    let s = Scratch::new("dm-nobody");
    let (u, w) = start_both(&s);
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (own, _master) = pty_owned_by(NOBODY);
    let (roots, _master2) = pty_owned_by(0);

    refused(
        &s,
        &["-u", "root", "-l", &own, "-p", "0", "login"],
        "utmpset: utmpd refused the record: you may only write records under your own user name\n",
    );
    refused(
        &s,
        &["-l", &roots, "-p", "0", "login"],
        &format!("utmpset: utmpd refused the record: {roots} is not your terminal\n"),
    );
    let out = run(
        as_nobody(s.applet("utmpset")).args(["-l", &own, "-p", "1", "login"]),
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pid 1 is not one of your processes"));
    let out = run(
        as_nobody(s.applet("utmpset")).args(["-l", &own, "-p", "0", "-T", "5", "login"]),
        None,
    );
    ok(&out);
    // Nor may it take over another terminal's entry by naming its id.
    ok(&utmpset(&s, &["-p", "1", "-a", "tty1"]));
    refused(
        &s,
        &["-l", &own, "-i", "tty1", "-p", "0", "login"],
        "utmpset: utmpd refused the record: id tty1 belongs to another terminal\n",
    );
    refused(
        &s,
        &["-l", &own, "fail"],
        "utmpset: wtmpd refused the record: only root may write btmp\n",
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

/// The gid of group `utmp` on this machine.
fn utmp_gid() -> u32 {
    std::fs::read_to_string("/etc/group")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("utmp:x:"))
        .and_then(|rest| rest.split(':').next()?.parse().ok())
        .expect("a utmp group")
}

/// utmpset as nobody with the utmp group as a supplementary group.
fn utmpset_in_group(s: &Scratch, args: &[&str]) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        &format!("--groups={}", utmp_gid()),
        "--",
    ])
    .arg(s.dir.join("bin/utmpset"))
    .args(args)
    .env_clear()
    .env("UTMPBOX_RUNDIR", run_dir(s))
    .env("UTMPBOX_LOGDIR", log_dir(s));
    cmd
}

#[test]
fn utmp_group_members_may_write_anything_but_btmp() {
    let s = Scratch::new("dm-group");
    let (u, w) = start_both(&s);
    let mut cmd = utmpset_in_group(
        &s,
        &["-u", "root", "-l", "tty9", "-p", "1", "-T", "1000", "login"],
    );
    ok(&run(&mut cmd, None));
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    let login = wtmp.iter().find(|r| r.kind == USER).unwrap();
    assert_eq!(
        (login.user.as_slice(), login.time_us),
        (&b"root"[..], 1_000_000_000)
    );
    let mut cmd = utmpset_in_group(&s, &["-u", "root", "-l", "tty9", "fail"]);
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
fn nobody_logs_out_a_session_whose_process_has_ended() {
    let s = Scratch::new("dm-nobody-out");
    let (u, w) = start_both(&s);
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (own, _master) = pty_owned_by(NOBODY);
    // The session's process: nobody's, gone by logout time.
    let mut sleep = Command::new("sleep");
    sleep.arg("30");
    let mut shell = spawn_as_nobody(sleep);
    let pid = shell.id().to_string();
    let login = run(
        as_nobody(s.applet("utmpset")).args(["-l", &own, "-p", &pid, "login"]),
        None,
    );
    ok(&login);
    shell.kill().unwrap();
    shell.wait().unwrap();
    let logout = run(
        as_nobody(s.applet("utmpset")).args(["-l", &own, "logout"]),
        None,
    );
    ok(&logout);
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    let dead = wtmp.iter().find(|r| r.kind == DEAD).unwrap();
    assert_eq!(
        (dead.pid.to_string(), dead.line.as_slice()),
        (pid, own.as_bytes())
    );
    drop((u, w));
}

#[test]
fn private_mode_hides_other_users_hosts() {
    let s = Scratch::new("dm-private");
    let w = Daemon::start(&s, "wtmpd", &["-n", "-p"]);
    let u = Daemon::start(&s, "utmpd", &["-n", "-p", "-S", "0"]);
    ok(&utmpset(
        &s,
        &[
            "-u",
            "alice",
            "-l",
            "pts/1",
            "-H",
            "secret.example",
            "-A",
            "192.0.2.9",
            "-p",
            "1",
            "login",
        ],
    ));
    let usock = run_dir(&s).join("utmpd.sock");
    let (status, payload) = reply_as_nobody(&usock, &frame(UTMP_LIST, b"")).unwrap();
    assert_eq!(status, 0);
    let alice = listed(&payload)
        .into_iter()
        .find(|r| r.user == b"alice")
        .unwrap();
    assert_eq!((alice.host.len(), alice.addr), (0, [0; 16]));
    let (_, payload) = Raw::connect(&usock).call(UTMP_LIST, b"").unwrap();
    let alice = listed(&payload)
        .into_iter()
        .find(|r| r.user == b"alice")
        .unwrap();
    assert_eq!(alice.host, b"secret.example");
    let wsock = run_dir(&s).join("wtmpd.sock");
    let (status, payload) = reply_as_nobody(&wsock, &frame(LOG_READ, &read_payload(1))).unwrap();
    assert_eq!(status, 0);
    let records: Vec<Rec> = payload[12..]
        .chunks(512)
        .map(|c| Rec::decode(c).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].user.as_slice(), records[0].host.len()),
        (&b"alice"[..], 0)
    );
    // New files are not world-readable in private mode.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        std::fs::metadata(log_dir(&s).join("wtmp")).unwrap().mode() & 0o777,
        0o640
    );
    drop((u, w));
}
