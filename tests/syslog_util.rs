//! Test plumbing for wtmpd's syslog forwarding (tests/syslog.rs): a
//! real rsyslogd on scratch sockets and ports, wtmpd with `--syslog`, the
//! MSGID a record gets, LOG_STAT's syslog counts, and a TCP receiver
//! that never reads.

#![allow(dead_code)]

use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::daemon_util::{append_payload, wait_until, Daemon, Raw, Rec};
use crate::util::Scratch;

pub const LOG_APPEND: u8 = 0x10;
pub const LOG_STAT: u8 = 0x11;
pub const WTMP: u8 = 1;
pub const BTMP: u8 = 2;

pub fn assert_root() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the syslog tests run rsyslogd and write btmp: run them as root"
    );
}

/// Debian's rsyslogd, also when /usr/sbin is not on PATH.
pub fn rsyslogd() -> &'static str {
    if std::path::Path::new("/usr/sbin/rsyslogd").exists() {
        "/usr/sbin/rsyslogd"
    } else {
        "rsyslogd"
    }
}

pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real rsyslogd with a scratch config: imuxsock on a scratch socket,
/// imtcp and imudp on 127.0.0.1, each input into its own file in the RFC
/// 5424 template. Nothing under /var, /run or /dev is touched.
pub struct Rsyslog {
    child: Option<Child>,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub tcp: u16,
    pub udp: u16,
}

impl Rsyslog {
    pub fn new(s: &Scratch) -> Rsyslog {
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

    pub fn start(&mut self) {
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

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }

    /// The lines of one input's file that wtmpd sent.
    pub fn lines(&self, input: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(format!("{input}.log")))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(" wtmpd "))
            .map(String::from)
            .collect()
    }

    /// Wait until `input` holds lines for all of `msgids`; those lines.
    pub fn wait_for(&self, input: &str, msgids: &[String]) -> Vec<String> {
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

pub fn wtmpd(s: &Scratch, targets: &[String], more: &[&str]) -> Daemon {
    let mut args = vec!["-n"];
    for t in targets {
        args.extend(["--syslog", t.as_str()]);
    }
    args.extend(more);
    Daemon::start(s, "wtmpd", &args)
}

/// Append `rec` to `db` and check it is acknowledged.
pub fn append(raw: &mut Raw, db: u8, rec: &Rec) {
    let (status, _) = raw.call(LOG_APPEND, &append_payload(db, rec)).unwrap();
    assert_eq!(status, 0, "append refused");
}

/// The MSGID wtmpd gives the record at `index` of `db`.
pub fn msgid(db: u8, index: u64, rec: &Rec) -> String {
    let raw = rec.encode();
    let crc = u32::from_le_bytes([raw[508], raw[509], raw[510], raw[511]]);
    let name = if db == BTMP { "btmp" } else { "wtmp" };
    format!("{name}-{index}-{crc:08x}")
}

/// The syslog counts LOG_STAT gives with its flag byte: (dropped, queued).
pub fn syslog_counts(raw: &mut Raw) -> (u64, u64) {
    let (status, body) = raw.call(LOG_STAT, &[WTMP, 1]).unwrap();
    assert_eq!(status, 0);
    let n = body.len();
    assert!(n >= 8 + 2 + 16, "LOG_STAT with flag 1 carries the counts");
    let dropped = u64::from_le_bytes(body[n - 16..n - 8].try_into().unwrap());
    let queued = u64::from_le_bytes(body[n - 8..].try_into().unwrap());
    (dropped, queued)
}

pub fn d_log(s: &Scratch) -> String {
    std::fs::read_to_string(s.path("wtmpd.stderr")).unwrap_or_default()
}

pub fn state_file(s: &Scratch) -> String {
    std::fs::read_to_string(s.path("log/wtmp.syslog")).unwrap_or_default()
}

/// A TCP listener whose connections are accepted and never read: its
/// port, and the connections (kept open while the handle lives).
pub fn tcp_sink() -> (u16, Arc<Mutex<Vec<std::net::TcpStream>>>) {
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
