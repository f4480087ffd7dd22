//! `wtmpd --syslog`: records arrive at a real rsyslogd (Debian's rsyslog,
//! installed by scripts/deps.sh) over a unix socket, TCP and UDP, with
//! their structured data; a receiver that is down, restarted, or never
//! reads costs no append; what was acknowledged but not forwarded before
//! a kill -9 arrives after the restart.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::daemon_util::{wait_until, Raw, Rec, BOOT, DEAD, LOGIN, RUNLVL, USER};
use crate::syslog_util::{
    append, assert_root, d_log, msgid, state_file, syslog_counts, tcp_sink, wtmpd, Rsyslog, BTMP,
    WTMP,
};
use crate::util::Scratch;

/// One of each kind: login, logout, failed login, boot, shutdown,
/// runlevel; with the db each goes to and what its message must hold.
fn kinds() -> Vec<(u8, Rec, Vec<&'static str>)> {
    let mut login = Rec::new(USER, "pts/3", "alice");
    login.host = b"example.org".to_vec();
    login.addr[..4].copy_from_slice(&[192, 0, 2, 7]);
    login.pid = 4242;
    login.time_us = 1_790_000_000_123_456;
    let mut logout = Rec::new(DEAD, "pts/3", "");
    logout.pid = 4242;
    logout.exit = 3;
    logout.time_us = 1_790_000_060_000_000;
    let mut failed = Rec::new(LOGIN, "ssh:notty", "mallory");
    failed.host = b"198.51.100.9".to_vec();
    failed.time_us = 1_790_000_070_000_000;
    let mut boot = Rec::new(BOOT, "~", "reboot");
    boot.host = b"6.1.0-test".to_vec();
    boot.time_us = 1_790_000_100_000_000;
    let mut shutdown = Rec::new(RUNLVL, "~", "shutdown");
    shutdown.host = b"6.1.0-test".to_vec();
    shutdown.time_us = 1_790_000_200_000_000;
    let mut runlevel = Rec::new(RUNLVL, "~", "runlevel");
    runlevel.pid = i32::from(b'N') << 8 | i32::from(b'3');
    runlevel.time_us = 1_790_000_300_000_000;
    vec![
        (
            WTMP,
            login,
            vec![
                "<86>1 2026-09-21T14:13:20.123456Z ",
                r#"[utmp@32473 type="USER_PROCESS" user="alice" line="pts/3" id="ts/3" host="example.org" address="192.0.2.7" pid="4242" session="0" termination="0" exit="0" time="2026-09-21T14:13:20.123456Z"]"#,
                "] login alice on pts/3 from example.org",
            ],
        ),
        (
            WTMP,
            logout,
            vec![
                r#"type="DEAD_PROCESS" user="" line="pts/3""#,
                r#" exit="3" "#,
                "] logout on pts/3",
            ],
        ),
        (
            BTMP,
            failed,
            vec![
                "<85>1 ",
                r#"type="LOGIN_PROCESS" user="mallory" line="ssh:notty""#,
                "] failed login mallory on ssh:notty from 198.51.100.9",
            ],
        ),
        // The first boot in this wtmp: no crash before it.
        (
            WTMP,
            boot,
            vec![
                "<86>1 ",
                r#"type="BOOT_TIME" user="reboot" line="~""#,
                "] boot, kernel 6.1.0-test",
            ],
        ),
        (
            WTMP,
            shutdown,
            vec![
                r#"type="RUN_LVL" user="shutdown""#,
                "] shutdown, kernel 6.1.0-test",
            ],
        ),
        (
            WTMP,
            runlevel,
            vec![r#"type="RUN_LVL" user="runlevel""#, "] runlevel 3"],
        ),
    ]
}

#[test]
fn syslog_every_kind_arrives_with_its_structured_data_over_each_transport() {
    assert_root();
    let s = Scratch::new("syslog-kinds");
    let mut rsyslog = Rsyslog::new(&s);
    rsyslog.start();
    let targets = [
        format!("unix:{}", rsyslog.socket.display()),
        format!("tcp:127.0.0.1:{}", rsyslog.tcp),
        format!("udp:127.0.0.1:{}", rsyslog.udp),
    ];
    let d = wtmpd(&s, &targets, &[]);
    let mut raw = Raw::connect(&s.path("run/wtmpd.sock"));
    let mut counts = [0u64; 3];
    let mut expected = Vec::new();
    for (db, rec, wants) in kinds() {
        append(&mut raw, db, &rec);
        expected.push((msgid(db, counts[db as usize], &rec), wants));
        counts[db as usize] += 1;
    }
    // A boot after that boot with no shutdown in between: a crash.
    let mut crash = Rec::new(BOOT, "~", "reboot");
    crash.host = b"6.1.0-test".to_vec();
    crash.time_us = 1_790_000_400_000_000;
    append(&mut raw, WTMP, &crash);
    // The runlevel record came after the shutdown, so this boot follows
    // a clean one; a second boot right after it follows a crash.
    let mut again = crash.clone();
    again.time_us = 1_790_000_500_000_000;
    append(&mut raw, WTMP, &again);
    expected.push((
        msgid(WTMP, counts[1], &crash),
        vec!["<86>1 ", "] boot, kernel 6.1.0-test"],
    ));
    expected.push((
        msgid(WTMP, counts[1] + 1, &again),
        vec!["<85>1 ", "] boot after a crash, kernel 6.1.0-test"],
    ));
    let ids: Vec<String> = expected.iter().map(|(id, _)| id.clone()).collect();
    for input in ["unix", "tcp", "udp"] {
        let lines = rsyslog.wait_for(input, &ids);
        for (id, wants) in &expected {
            let line = lines
                .iter()
                .find(|l| l.contains(&format!(" {id} ")))
                .unwrap();
            assert!(line.contains(" wtmpd "), "{input}: {line}");
            for want in wants {
                assert!(line.contains(want), "{input}: want {want:?} in\n{line}");
            }
        }
        assert_eq!(
            lines.len(),
            expected.len(),
            "{input}: one message per record"
        );
    }
    drop(raw);
    assert!(d.stop());
}

#[test]
fn syslog_receiver_down_appends_go_on_and_arrive_after_its_restart() {
    assert_root();
    let s = Scratch::new("syslog-down");
    let mut rsyslog = Rsyslog::new(&s);
    rsyslog.start();
    let targets = [
        format!("unix:{}", rsyslog.socket.display()),
        format!("tcp:127.0.0.1:{}", rsyslog.tcp),
    ];
    let d = wtmpd(&s, &targets, &[]);
    let mut raw = Raw::connect(&s.path("run/wtmpd.sock"));
    let mut ids = Vec::new();
    for i in 0..3u64 {
        let mut rec = Rec::new(USER, &format!("pts/{i}"), "alice");
        rec.time_us += i as i64;
        append(&mut raw, WTMP, &rec);
        ids.push(msgid(WTMP, i, &rec));
    }
    rsyslog.wait_for("unix", &ids);
    rsyslog.wait_for("tcp", &ids);
    rsyslog.stop();
    // Down: every append is still acknowledged, and the messages wait.
    for i in 3..203u64 {
        let mut rec = Rec::new(USER, &format!("pts/{}", i % 50), "bob");
        rec.time_us += i as i64;
        append(&mut raw, WTMP, &rec);
        ids.push(msgid(WTMP, i, &rec));
    }
    let (dropped, queued) = syslog_counts(&mut raw);
    assert_eq!(dropped, 0);
    assert!(queued >= 2 * 200 - 2, "queued {queued}");
    rsyslog.start();
    rsyslog.wait_for("unix", &ids);
    rsyslog.wait_for("tcp", &ids);
    assert!(
        wait_until(Duration::from_secs(5), || syslog_counts(&mut raw) == (0, 0)),
        "the queues drain"
    );
    drop(raw);
    assert!(d.stop(), "{}", d_log(&s));
}

#[test]
fn syslog_what_was_acked_but_not_forwarded_arrives_after_a_kill9() {
    assert_root();
    let s = Scratch::new("syslog-kill9");
    let mut rsyslog = Rsyslog::new(&s);
    let targets = [format!("tcp:127.0.0.1:{}", rsyslog.tcp)];
    rsyslog.start();
    let d = wtmpd(&s, &targets, &[]);
    let mut raw = Raw::connect(&s.path("run/wtmpd.sock"));
    let first = Rec::new(USER, "pts/1", "alice");
    append(&mut raw, WTMP, &first);
    let first_id = msgid(WTMP, 0, &first);
    rsyslog.wait_for("tcp", std::slice::from_ref(&first_id));
    // The position is saved (within a second) once the record is sent.
    assert!(
        wait_until(Duration::from_secs(10), || state_file(&s).lines().any(
            |l| l.split(' ').nth(1) == Some("1") && l.ends_with(&targets[0])
        )),
        "state: {}",
        state_file(&s)
    );
    rsyslog.stop();
    let mut ids = Vec::new();
    for i in 1..41u64 {
        let mut rec = Rec::new(USER, &format!("pts/{i}"), "carol");
        rec.time_us += i as i64;
        append(&mut raw, WTMP, &rec);
        ids.push(msgid(WTMP, i, &rec));
    }
    let mut failed = Rec::new(LOGIN, "ssh:notty", "mallory");
    failed.time_us += 99;
    append(&mut raw, BTMP, &failed);
    ids.push(msgid(BTMP, 0, &failed));
    drop(raw);
    d.kill9();
    rsyslog.start();
    let d = wtmpd(&s, &targets, &[]);
    let lines = rsyslog.wait_for("tcp", &ids);
    // Each acknowledged record arrived; the one forwarded before the kill
    // is not sent again (its position was saved).
    let seen: BTreeSet<&str> = lines.iter().filter_map(|l| l.split(' ').nth(5)).collect();
    assert_eq!(seen.len(), ids.len() + 1, "{lines:?}");
    assert_eq!(
        lines.iter().filter(|l| l.contains(&first_id)).count(),
        1,
        "{lines:?}"
    );
    assert!(d.stop());
}

#[test]
fn syslog_receiver_that_never_reads_does_not_hold_appends() {
    assert_root();
    let s = Scratch::new("syslog-stuck");
    // Receivers that accept and never read: TCP (whose buffers grow to
    // megabytes) and a unix stream (whose fixed ~200 KiB fill within a
    // few hundred messages, so the queue fills and drops).
    let (port, tcp_held) = tcp_sink();
    let unix_path = s.path("stuck.sock");
    let unix = std::os::unix::net::UnixListener::bind(&unix_path).unwrap();
    let targets = [
        format!("tcp:127.0.0.1:{port}"),
        format!("unix:{}", unix_path.display()),
    ];
    let d = wtmpd(&s, &targets, &["--syslog-queue", "64"]);
    let (held, _) = unix.accept().expect("wtmpd connects to the unix stream");
    let socket = s.path("run/wtmpd.sock");
    // Eight writers, so appends share commits and the queues fill fast.
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                let mut raw = Raw::connect(&socket);
                for i in 0..250 {
                    let mut rec = Rec::new(USER, &format!("pts/{w}"), "dave");
                    rec.time_us += i;
                    append(&mut raw, WTMP, &rec);
                }
            })
        })
        .collect();
    for w in writers {
        w.join()
            .expect("every append acknowledged (within Raw's 10 s deadline)");
    }
    let mut raw = Raw::connect(&socket);
    let (dropped, queued) = syslog_counts(&mut raw);
    assert!(queued <= 2 * 64, "queued {queued}");
    assert!(dropped > 0, "the receivers took everything");
    assert!(dropped <= 2 * 2000, "dropped {dropped}");
    drop(raw);
    assert!(d.stop(), "{}", d_log(&s));
    // Drops are reported once a minute, and at the stop.
    let log = d_log(&s);
    assert!(
        log.contains(&format!(
            "wtmpd: warning: syslog unix:{}: dropped ",
            unix_path.display()
        )) && log.contains(" records (queue full at 64); "),
        "{log}"
    );
    drop((held, tcp_held));
}

#[test]
fn syslog_3164_carries_the_fields_as_key_value_in_the_text() {
    assert_root();
    let s = Scratch::new("syslog-3164");
    let mut rsyslog = Rsyslog::new(&s);
    rsyslog.start();
    let targets = [format!("udp:127.0.0.1:{}", rsyslog.udp)];
    let d = wtmpd(&s, &targets, &["--syslog-format", "3164"]);
    let mut raw = Raw::connect(&s.path("run/wtmpd.sock"));
    let mut failed = Rec::new(LOGIN, "ssh:notty", "mallory");
    failed.host = b"198.51.100.9".to_vec();
    append(&mut raw, BTMP, &failed);
    let id = msgid(BTMP, 0, &failed);
    let mut lines = Vec::new();
    assert!(
        wait_until(Duration::from_secs(30), || {
            lines = rsyslog.lines("udp");
            !lines.is_empty()
        }),
        "nothing arrived"
    );
    // rsyslog's 5424 template shows what its 3164 parser took: facility
    // authpriv, severity notice, the tag, and the fields in the text.
    let line = &lines[0];
    assert!(line.starts_with("<85>1 "), "{line}");
    assert!(line.contains(" wtmpd "), "{line}");
    assert!(
        line.contains(&format!(
            "failed login mallory on ssh:notty from 198.51.100.9 msgid={id} type=\"LOGIN_PROCESS\" user=\"mallory\" line=\"ssh:notty\""
        )),
        "{line}"
    );
    drop(raw);
    assert!(d.stop());
}

#[test]
fn syslog_bad_options_are_usage_errors() {
    let s = Scratch::new("syslog-usage");
    for (args, want) in [
        (
            &["--syslog", "smtp:example.org:25"][..],
            "bad syslog target smtp:example.org:25",
        ),
        (&["--syslog", "tcp:127.0.0.1"][..], "want tcp:HOST:PORT"),
        (&["--syslog", "udp:127.0.0.1:99999"][..], "bad port"),
        (
            &["--syslog-format", "5425"][..],
            "--syslog-format is 5424 or 3164",
        ),
        (
            &["--syslog-queue", "0"][..],
            "--syslog-queue must be at least 1",
        ),
    ] {
        let out = s.applet("wtmpd").args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(100), "{args:?}: {err}");
        assert!(
            err.starts_with("wtmpd: ") && err.contains(want),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn syslog_follows_a_rotated_wtmp_and_replays_only_what_it_missed() {
    assert_root();
    let s = Scratch::new("syslog-rotate");
    let mut rsyslog = Rsyslog::new(&s);
    rsyslog.start();
    let targets = [format!("tcp:127.0.0.1:{}", rsyslog.tcp)];
    let d = wtmpd(&s, &targets, &[]);
    let mut raw = Raw::connect(&s.path("run/wtmpd.sock"));
    let old = Rec::new(USER, "pts/1", "alice");
    append(&mut raw, WTMP, &old);
    rsyslog.wait_for("tcp", &[msgid(WTMP, 0, &old)]);
    std::fs::rename(s.path("log/wtmp"), s.path("log/wtmp.1")).unwrap();
    d.signal(libc::SIGHUP);
    assert!(
        wait_until(Duration::from_secs(10), || s.path("log/wtmp").exists()),
        "wtmpd reopened wtmp"
    );
    let mut new = Rec::new(USER, "pts/2", "bob");
    new.time_us += 1;
    append(&mut raw, WTMP, &new);
    let new_id = msgid(WTMP, 0, &new);
    rsyslog.wait_for("tcp", std::slice::from_ref(&new_id));
    // Saved once sent (the new file's inode, one record): a restart
    // resends neither record.
    let inode = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(s.path("log/wtmp")).unwrap().ino()
    };
    let saved = format!("{inode} 1 ");
    assert!(
        wait_until(Duration::from_secs(10), || state_file(&s)
            .lines()
            .any(|l| l.starts_with(&saved))),
        "state: {}",
        state_file(&s)
    );
    drop(raw);
    d.kill9();
    let d = wtmpd(&s, &targets, &[]);
    let mut raw = Raw::connect(&s.path("run/wtmpd.sock"));
    let mut last = Rec::new(DEAD, "pts/2", "");
    last.time_us += 2;
    append(&mut raw, WTMP, &last);
    let lines = rsyslog.wait_for("tcp", &[msgid(WTMP, 1, &last)]);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    drop(raw);
    assert!(d.stop());
}
