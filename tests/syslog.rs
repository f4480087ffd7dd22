//! `wtmpd --syslog`: records arrive at a real rsyslogd (Debian's rsyslog,
//! installed by scripts/deps.sh) over a unix socket, TCP and UDP, with
//! their structured data; a receiver that is down, restarted, or never
//! reads costs no append; what was acknowledged but not forwarded before
//! a kill -9 arrives after the restart.

use std::collections::BTreeSet;
use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::daemon_util::{
    append_payload, wait_until, Daemon, Raw, Rec, BOOT, DEAD, LOGIN, RUNLVL, USER,
};
use crate::util::Scratch;

const LOG_APPEND: u8 = 0x10;
const LOG_STAT: u8 = 0x11;
const WTMP: u8 = 1;
const BTMP: u8 = 2;

fn assert_root() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the syslog tests run rsyslogd and write btmp: run them as root"
    );
}

/// Debian's rsyslogd, also when /usr/sbin is not on PATH.
fn rsyslogd() -> &'static str {
    if std::path::Path::new("/usr/sbin/rsyslogd").exists() {
        "/usr/sbin/rsyslogd"
    } else {
        "rsyslogd"
    }
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real rsyslogd with a scratch config: imuxsock on a scratch socket,
/// imtcp and imudp on 127.0.0.1, each input into its own file in the RFC
/// 5424 template. Nothing under /var, /run or /dev is touched.
struct Rsyslog {
    child: Option<Child>,
    dir: PathBuf,
    pub socket: PathBuf,
    pub tcp: u16,
    pub udp: u16,
}

impl Rsyslog {
    fn new(s: &Scratch) -> Rsyslog {
        let dir = s.path("rsyslog");
        std::fs::create_dir_all(dir.join("work")).unwrap();
        let r = Rsyslog {
            child: None,
            socket: dir.join("log.sock"),
            dir,
            tcp: free_tcp_port(),
            udp: free_udp_port(),
        };
        let d = r.dir.display();
        let conf = format!(
            r#"global(workDirectory="{d}/work")
module(load="imuxsock" SysSock.Use="off")
module(load="imtcp")
module(load="imudp")
input(type="imuxsock" Socket="{sock}" UseSpecialParser="off" IgnoreTimestamp="off" ruleset="unix")
input(type="imtcp" address="127.0.0.1" port="{tcp}" ruleset="tcp")
input(type="imudp" address="127.0.0.1" port="{udp}" ruleset="udp")
ruleset(name="unix") {{ action(type="omfile" file="{d}/unix.log" template="RSYSLOG_SyslogProtocol23Format") }}
ruleset(name="tcp") {{ action(type="omfile" file="{d}/tcp.log" template="RSYSLOG_SyslogProtocol23Format") }}
ruleset(name="udp") {{ action(type="omfile" file="{d}/udp.log" template="RSYSLOG_SyslogProtocol23Format") }}
"#,
            sock = r.socket.display(),
            tcp = r.tcp,
            udp = r.udp,
        );
        std::fs::write(r.dir.join("rsyslog.conf"), conf).unwrap();
        let check = Command::new(rsyslogd())
            .arg("-N1")
            .arg("-f")
            .arg(r.dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(r.dir.join("pid"))
            .output()
            .expect("rsyslogd is not installed (scripts/deps.sh installs rsyslog)");
        assert!(
            check.status.success(),
            "rsyslogd -N1 rejects the config: {}",
            String::from_utf8_lossy(&check.stderr)
        );
        r
    }

    fn start(&mut self) {
        assert!(self.child.is_none());
        let _ = std::fs::remove_file(self.dir.join("pid"));
        let child = Command::new(rsyslogd())
            .arg("-n")
            .arg("-f")
            .arg(self.dir.join("rsyslog.conf"))
            .arg("-i")
            .arg(self.dir.join("pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let tcp = self.tcp;
        let up = wait_until(Duration::from_secs(10), || {
            self.socket.exists() && std::net::TcpStream::connect(("127.0.0.1", tcp)).is_ok()
        });
        assert!(up, "rsyslogd did not start listening");
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }

    /// The lines of one input's file that wtmpd sent.
    fn lines(&self, input: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(format!("{input}.log")))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" wtmpd "))
            .map(String::from)
            .collect()
    }

    /// Wait until `input` holds lines for all of `msgids`; those lines.
    fn wait_for(&self, input: &str, msgids: &[String]) -> Vec<String> {
        let mut lines = Vec::new();
        let all = wait_until(Duration::from_secs(30), || {
            lines = self.lines(input);
            msgids
                .iter()
                .all(|id| lines.iter().any(|l| l.contains(&format!(" {id} "))))
        });
        assert!(all, "{input}: want {msgids:?}, have:\n{}", lines.join("\n"));
        lines
    }
}

impl Drop for Rsyslog {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wtmpd(s: &Scratch, targets: &[String], more: &[&str]) -> Daemon {
    let mut args = vec!["-n"];
    for t in targets {
        args.extend(["--syslog", t.as_str()]);
    }
    args.extend(more);
    Daemon::start(s, "wtmpd", &args)
}

/// Append `rec` to `db` and check it is acknowledged.
fn append(raw: &mut Raw, db: u8, rec: &Rec) {
    let (status, _) = raw.call(LOG_APPEND, &append_payload(db, rec)).unwrap();
    assert_eq!(status, 0, "append refused");
}

/// The MSGID wtmpd gives the record at `index` of `db`.
fn msgid(db: u8, index: u64, rec: &Rec) -> String {
    let raw = rec.encode();
    let crc = u32::from_le_bytes([raw[508], raw[509], raw[510], raw[511]]);
    let name = if db == BTMP { "btmp" } else { "wtmp" };
    format!("{name}-{index}-{crc:08x}")
}

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

/// The syslog counts LOG_STAT gives with its flag byte: (dropped, queued).
fn syslog_counts(raw: &mut Raw) -> (u64, u64) {
    let (status, body) = raw.call(LOG_STAT, &[WTMP, 1]).unwrap();
    assert_eq!(status, 0);
    let n = body.len();
    assert!(n >= 8 + 2 + 16, "LOG_STAT with flag 1 carries the counts");
    let dropped = u64::from_le_bytes(body[n - 16..n - 8].try_into().unwrap());
    let queued = u64::from_le_bytes(body[n - 8..].try_into().unwrap());
    (dropped, queued)
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

fn d_log(s: &Scratch) -> String {
    std::fs::read_to_string(s.path("wtmpd.stderr")).unwrap_or_default()
}

fn state_file(s: &Scratch) -> String {
    std::fs::read_to_string(s.path("log/wtmp.syslog")).unwrap_or_default()
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
    rsyslog.wait_for("tcp", &[first_id.clone()]);
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

/// A TCP listener whose connections are accepted and never read: its
/// port, and the connections (kept open while the handle lives).
fn tcp_sink() -> (u16, Arc<Mutex<Vec<std::net::TcpStream>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            keep.lock().unwrap().push(conn);
        }
    });
    (port, held)
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
    rsyslog.wait_for("tcp", &[new_id.clone()]);
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
