//! skarnet utmps' wire protocol on `--utmps-socket`: a client written
//! from libutmps 0.1.2's source (utmps_getent.c, utmps_getid.c,
//! utmps_getline.c, utmps_putline.c, utmps_rewind.c, utmps_updwtmpx.c)
//! that sends what it sends and reads each reply with one recv, as it
//! does; the expected cursor sequences come from utmps-utmpd.c.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::daemon_util::*;
use crate::util::{run, Scratch};

const ESRCH: u8 = libc::ESRCH as u8;
const EPERM: u8 = libc::EPERM as u8;
const EINVAL: u8 = libc::EINVAL as u8;
const EPROTO: u8 = libc::EPROTO as u8;

#[track_caller]
fn assert_root() {
    // SAFETY: geteuid cannot fail.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test must run as root (the suite does)"
    );
}

/// A struct utmpx as x86_64 lays it out (400 bytes, native-endian).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct Utx {
    kind: i16,
    pid: i32,
    line: Vec<u8>,
    id: Vec<u8>,
    user: Vec<u8>,
    host: Vec<u8>,
    sec: i64,
    usec: i64,
}

fn cut(b: &[u8]) -> Vec<u8> {
    b.iter().take_while(|&&c| c != 0).copied().collect()
}

impl Utx {
    fn new(kind: i16, id: &str, line: &str, user: &str) -> Utx {
        Utx {
            kind,
            pid: std::process::id() as i32,
            line: line.into(),
            id: id.into(),
            user: user.into(),
            host: b"utmps.example".to_vec(),
            sec: 1_700_000_000,
            usec: 1234,
        }
    }

    fn encode(&self) -> [u8; 400] {
        let mut b = [0u8; 400];
        b[0..2].copy_from_slice(&self.kind.to_ne_bytes());
        b[4..8].copy_from_slice(&self.pid.to_ne_bytes());
        b[8..8 + self.line.len()].copy_from_slice(&self.line);
        b[40..40 + self.id.len()].copy_from_slice(&self.id);
        b[44..44 + self.user.len()].copy_from_slice(&self.user);
        b[76..76 + self.host.len()].copy_from_slice(&self.host);
        b[344..352].copy_from_slice(&self.sec.to_ne_bytes());
        b[352..360].copy_from_slice(&self.usec.to_ne_bytes());
        b
    }

    fn decode(b: &[u8]) -> Utx {
        let at8 = |i: usize| i64::from_ne_bytes(b[i..i + 8].try_into().unwrap());
        Utx {
            kind: i16::from_ne_bytes([b[0], b[1]]),
            pid: i32::from_ne_bytes(b[4..8].try_into().unwrap()),
            line: cut(&b[8..40]),
            id: cut(&b[40..44]),
            user: cut(&b[44..76]),
            host: cut(&b[76..332]),
            sec: at8(344),
            usec: at8(352),
        }
    }
}

/// What one call got back: a record, or an errno byte (0: success).
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Record(Utx),
    Errno(u8),
}

use Reply::Errno;

/// One libutmps connection (`utmps_here`).
struct Client {
    stream: UnixStream,
}

fn getid_request(kind: u16, id: &[u8]) -> Vec<u8> {
    let mut r = vec![b'i'];
    r.extend_from_slice(&kind.to_be_bytes());
    let mut field = [0u8; 4];
    field[..id.len()].copy_from_slice(id);
    r.extend_from_slice(&field);
    r
}

fn getline_request(line: &[u8]) -> Vec<u8> {
    let mut r = vec![b'l'];
    let mut field = [0u8; 32];
    field[..line.len()].copy_from_slice(line);
    r.extend_from_slice(&field);
    r
}

fn put_request(code: u8, u: &Utx) -> Vec<u8> {
    let mut r = vec![code];
    r.extend_from_slice(&u.encode());
    r
}

impl Client {
    fn connect(socket: &Path) -> Client {
        let stream = UnixStream::connect(socket)
            .unwrap_or_else(|e| panic!("connect {}: {e}", socket.display()));
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Client { stream }
    }

    /// Send `request`, then one recv of up to 1 + 400 bytes, as libutmps
    /// does: a record reply must arrive whole in that one recv.
    fn call(&mut self, request: &[u8]) -> Reply {
        self.stream.write_all(request).unwrap();
        let mut buf = [0u8; 401];
        let n = self.stream.read(&mut buf).unwrap();
        assert!(n > 0, "the daemon closed the connection");
        if buf[0] != 0 || n == 1 {
            assert_eq!(n, 1, "an errno reply is one byte");
            return Errno(buf[0]);
        }
        assert_eq!(n, 401, "a record reply arrives in one recv");
        Reply::Record(Utx::decode(&buf[1..]))
    }

    fn getent(&mut self) -> Reply {
        self.call(b"e")
    }
    fn getid(&mut self, kind: u16, id: &[u8]) -> Reply {
        self.call(&getid_request(kind, id))
    }
    fn getline(&mut self, line: &[u8]) -> Reply {
        self.call(&getline_request(line))
    }
    fn putline(&mut self, u: &Utx) -> Reply {
        self.call(&put_request(b'E', u))
    }
    fn rewind(&mut self) -> Reply {
        self.call(b"r")
    }
    /// updwtmpx: a connection of its own for one append.
    fn append(socket: &Path, u: &Utx) -> Reply {
        Client::connect(socket).call(&put_request(b'+', u))
    }

    /// Whatever comes next until EOF (what a closing daemon still sends).
    fn rest(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.stream.read_to_end(&mut out).unwrap();
        out
    }
}

/// The id of the record a call returned.
fn id_of(reply: &Reply) -> String {
    match reply {
        Reply::Record(u) => String::from_utf8_lossy(&u.id).into_owned(),
        Errno(e) => format!("errno {e}"),
    }
}

struct Both {
    _u: Daemon,
    _w: Daemon,
    usock: PathBuf,
    wsock: PathBuf,
}

/// Both daemons, each also on a utmps socket in `utmps/` (as
/// /run/utmps/.utmpd-socket and .wtmpd-socket), no boot records.
fn start_utmps(s: &Scratch, utmpd_args: &[&str]) -> Both {
    let usock = s.path("utmps/.utmpd-socket");
    let wsock = s.path("utmps/.wtmpd-socket");
    let w = Daemon::start(
        s,
        "wtmpd",
        &["-n", "--utmps-socket", wsock.to_str().unwrap()],
    );
    let mut args = vec!["-n", "-S", "0", "--utmps-socket", usock.to_str().unwrap()];
    args.extend_from_slice(utmpd_args);
    let u = Daemon::start(s, "utmpd", &args);
    Both {
        _u: u,
        _w: w,
        usock,
        wsock,
    }
}

#[test]
fn every_request_and_the_cursor_follow_utmps_utmpd() {
    assert_root();
    let s = Scratch::new("utmps-cursor");
    let d = start_utmps(&s, &[]);
    let mut c = Client::connect(&d.usock);
    // setutxent on an empty table, then getutxent: ESRCH at the end.
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(c.getent(), Errno(ESRCH));
    let a1 = Utx::new(LOGIN, "a1", "pts/a1", "LOGIN");
    let a2 = Utx::new(USER, "a2", "pts/a2", "alice");
    let a3 = Utx::new(USER, "a3", "pts/a3", "bob");
    for u in [&a1, &a2, &a3] {
        assert_eq!(c.putline(u), Errno(0));
    }
    // Each new entry went at the end; the cursor is past it.
    assert_eq!(c.getent(), Errno(ESRCH));

    // getent walks the table in order and stays at the end.
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(c.getent(), Reply::Record(a1.clone()));
    assert_eq!(c.getent(), Reply::Record(a2.clone()));
    assert_eq!(c.getent(), Reply::Record(a3.clone()));
    assert_eq!(c.getent(), Errno(ESRCH));
    assert_eq!(c.getent(), Errno(ESRCH));

    // getid scans forward from the cursor and moves past the hit: getent
    // then gives the next entry, and the same getid again finds nothing.
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(id_of(&c.getid(USER as u16, b"a2")), "a2");
    assert_eq!(id_of(&c.getent()), "a3");
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(id_of(&c.getid(USER as u16, b"a2")), "a2");
    assert_eq!(c.getid(USER as u16, b"a2"), Errno(ESRCH));
    // A miss leaves the cursor at the end: even a1 is not found now.
    assert_eq!(c.getid(DEAD as u16, b"a1"), Errno(ESRCH));
    // Process types match any process entry by ut_id: DEAD finds LOGIN.
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(c.getid(DEAD as u16, b"a1"), Reply::Record(a1.clone()));
    // BOOT_TIME matches on type alone; RUN_LVL never matches in utmps.
    let mut boot = Utx::new(BOOT, "~~", "~", "reboot");
    boot.pid = 0;
    let mut runlevel = Utx::new(RUNLVL, "~~", "~", "runlevel");
    runlevel.pid = 0;
    assert_eq!(c.putline(&boot), Errno(0));
    assert_eq!(c.putline(&runlevel), Errno(0));
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(id_of(&c.getid(BOOT as u16, b"xx")), "~~");
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(c.getid(RUNLVL as u16, b"~~"), Errno(ESRCH));

    // getline: LOGIN or USER on that line (up to the first NUL), forward.
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(id_of(&c.getline(b"pts/a3\0junk")), "a3");
    assert_eq!(c.getline(b"pts/a3"), Errno(ESRCH));
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(id_of(&c.getline(b"pts/a1")), "a1");
    assert_eq!(id_of(&c.getent()), "a2");

    // putline after getent: utmps steps back one record, finds a1 there,
    // rewrites it in place and leaves the cursor after it, so getent
    // goes on with a2 (the login(1) pattern: getutxline, then pututxline).
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(id_of(&c.getline(b"pts/a1")), "a1");
    let login = Utx::new(USER, "a1", "pts/a1", "carol");
    assert_eq!(c.putline(&login), Errno(0));
    assert_eq!(id_of(&c.getent()), "a2");
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(c.getent(), Reply::Record(login));
    // A new id is added at the end, and the cursor is left there.
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(c.putline(&Utx::new(USER, "a4", "pts/a4", "dave")), Errno(0));
    assert_eq!(c.getent(), Errno(ESRCH));
    let mut ids = Vec::new();
    assert_eq!(c.rewind(), Errno(0));
    while let Reply::Record(u) = c.getent() {
        ids.push(String::from_utf8_lossy(&u.id).into_owned());
    }
    assert_eq!(ids, ["a1", "a2", "a3", "~~", "~~", "a4"]);
    // The same table through the native protocol: what utmps wrote is
    // what utmpd stores.
    let table = read_native(&run_dir(&s).join("utmp"));
    let users: Vec<&[u8]> = table.iter().map(|r| r.user.as_slice()).collect();
    assert_eq!(
        users,
        [
            &b"carol"[..],
            b"alice",
            b"bob",
            b"reboot",
            b"runlevel",
            b"dave"
        ]
    );
}

#[test]
fn two_clients_have_their_own_cursors() {
    assert_root();
    let s = Scratch::new("utmps-two");
    let d = start_utmps(&s, &[]);
    let mut a = Client::connect(&d.usock);
    let mut b = Client::connect(&d.usock);
    for (id, line) in [("b1", "pts/b1"), ("b2", "pts/b2"), ("b3", "pts/b3")] {
        assert_eq!(a.putline(&Utx::new(USER, id, line, "root")), Errno(0));
    }
    assert_eq!(a.rewind(), Errno(0));
    assert_eq!(id_of(&a.getent()), "b1");
    // b has not read yet: its cursor is still at the start.
    assert_eq!(id_of(&b.getent()), "b1");
    assert_eq!(id_of(&a.getent()), "b2");
    assert_eq!(id_of(&b.getid(USER as u16, b"b3")), "b3");
    assert_eq!(b.getent(), Errno(ESRCH));
    // b rewinding does not move a.
    assert_eq!(b.rewind(), Errno(0));
    assert_eq!(id_of(&a.getent()), "b3");
    assert_eq!(id_of(&b.getent()), "b1");
    // A write through a does not move b's cursor.
    assert_eq!(a.putline(&Utx::new(USER, "b9", "pts/b9", "root")), Errno(0));
    assert_eq!(id_of(&b.getent()), "b2");
}

/// Send `request` as uid/gid `nobody` from a forked child and read the
/// reply with one recv of up to `most` bytes, as libutmps does; the bytes
/// read (empty: the daemon closed, or the child failed).
fn utmps_as_nobody(socket: &Path, request: &[u8], most: usize) -> Vec<u8> {
    exchange_as_nobody(socket, request, most, |fd, reply| {
        // SAFETY: recv writes at most reply.len() bytes into reply.
        let n = unsafe { libc::recv(fd, reply.as_mut_ptr() as *mut libc::c_void, reply.len(), 0) };
        Some(n.max(0) as usize)
    })
    .expect("the nobody child failed")
}

#[test]
fn the_native_policy_holds_for_nobody() {
    assert_root();
    let s = Scratch::new("utmps-nobody");
    let d = start_utmps(&s, &[]);
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (own, _master) = pty_owned_by(NOBODY);
    let (roots, _master2) = pty_owned_by(0);
    let put = |u: &Utx| utmps_as_nobody(&d.usock, &put_request(b'E', u), 401);
    let append = |u: &Utx| utmps_as_nobody(&d.wsock, &put_request(b'+', u), 401);

    // Someone else's name, a terminal it does not own, a kind it may not
    // write: EPERM, as utmps answers a refused write.
    let mut forged = Utx::new(USER, "n1", &own, "root");
    forged.pid = 0;
    assert_eq!(put(&forged), [EPERM]);
    let mut theirs = Utx::new(USER, "n2", &roots, "nobody");
    theirs.pid = 0;
    assert_eq!(put(&theirs), [EPERM]);
    let mut boot = Utx::new(BOOT, "~~", "~", "reboot");
    boot.pid = 0;
    assert_eq!(put(&boot), [EPERM]);
    assert_eq!(append(&forged), [EPERM]);
    assert_eq!(append(&boot), [EPERM]);
    // A bad record is EINVAL for nobody and root alike.
    let mut escape = Utx::new(USER, "n3", &own, "nobody");
    escape.pid = 0;
    escape.host = b"\x1b[2Jevil".to_vec();
    assert_eq!(put(&escape), [EINVAL]);
    assert_eq!(Client::connect(&d.usock).putline(&escape), Errno(EINVAL));
    assert_eq!(Client::append(&d.wsock, &escape), Errno(EINVAL));
    assert!(read_native(&run_dir(&s).join("utmp")).is_empty());
    assert!(read_native(&log_dir(&s).join("wtmp")).is_empty());

    // Its own login on its own terminal is stored, with the daemon's
    // clock, and may be read back by anyone.
    let mut mine = Utx::new(USER, "n4", &own, "nobody");
    mine.pid = 0;
    mine.sec = 5;
    assert_eq!(put(&mine), [0]);
    assert_eq!(append(&mine), [0]);
    let got = utmps_as_nobody(&d.usock, &getline_request(own.as_bytes()), 401);
    assert_eq!(got.len(), 401, "nobody may read the table");
    let read = Utx::decode(&got[1..]);
    assert_eq!((read.kind, read.user.as_slice()), (USER, &b"nobody"[..]));
    assert!(read.sec > 5, "an unprivileged client set its own time");
    let utmp = read_native(&run_dir(&s).join("utmp"));
    assert_eq!(utmp.len(), 1);
    assert_eq!(utmp[0].line, own.as_bytes());
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    assert_eq!(wtmp.len(), 1);
    assert_eq!(
        (wtmp[0].kind, wtmp[0].user.as_slice()),
        (USER, &b"nobody"[..])
    );
}

#[test]
fn bad_frames_end_only_their_own_connection() {
    assert_root();
    let s = Scratch::new("utmps-bad");
    let d = start_utmps(&s, &["-t", "300"]);
    let mut good = Client::connect(&d.usock);
    assert_eq!(
        good.putline(&Utx::new(USER, "g1", "pts/g1", "root")),
        Errno(0)
    );
    assert_eq!(good.rewind(), Errno(0));

    // An unknown opcode: one EPROTO byte, then the connection ends.
    let mut unknown = Client::connect(&d.usock);
    unknown.stream.write_all(b"X").unwrap();
    assert_eq!(unknown.rest(), [EPROTO]);
    // Garbage: served while it parses ('e' is getent), ended at the
    // first byte that is no request.
    let mut garbage = Client::connect(&d.usock);
    garbage.stream.write_all(b"e\xff\x00junk").unwrap();
    let rest = garbage.rest();
    assert_eq!(rest.len(), 401 + 1);
    assert_eq!(rest[0], 0);
    assert_eq!(rest[401], EPROTO);
    // wtmpd serves only '+': a utmpd request there is EPROTO.
    let mut wrong = Client::connect(&d.wsock);
    wrong.stream.write_all(b"e").unwrap();
    assert_eq!(wrong.rest(), [EPROTO]);
    // A short record: nothing stored, closed at the request deadline
    // (-t 300 ms), or at once when the client gives up.
    let mut short = Client::connect(&d.usock);
    short
        .stream
        .write_all(&put_request(b'E', &Utx::new(USER, "s1", "pts/s1", "root"))[..200])
        .unwrap();
    assert_eq!(short.rest(), b"", "a short record gets no answer");
    let mut short_w = Client::connect(&d.wsock);
    short_w
        .stream
        .write_all(&put_request(b'+', &Utx::new(USER, "s2", "pts/s2", "root"))[..100])
        .unwrap();
    short_w.stream.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(short_w.rest(), b"");

    // Through all that, the first client was served and its cursor kept.
    assert_eq!(id_of(&good.getent()), "g1");
    assert_eq!(good.getent(), Errno(ESRCH));
    let utmp = read_native(&run_dir(&s).join("utmp"));
    assert_eq!(utmp.len(), 1);
    assert!(read_native(&log_dir(&s).join("wtmp")).is_empty());
}

#[test]
fn pipelined_requests_are_each_answered() {
    assert_root();
    let s = Scratch::new("utmps-pipe");
    let d = start_utmps(&s, &[]);
    let mut c = Client::connect(&d.usock);
    assert_eq!(c.putline(&Utx::new(USER, "p1", "pts/p1", "root")), Errno(0));
    c.stream.write_all(b"reee").unwrap();
    let mut got = vec![0u8; 1 + 401 + 1 + 1];
    c.stream.read_exact(&mut got).unwrap();
    assert_eq!(got[0], 0, "rewind");
    assert_eq!(Utx::decode(&got[2..402]).id, b"p1");
    assert_eq!(&got[402..], [ESRCH, ESRCH]);
}

#[test]
fn who_last_and_lastlog_show_what_came_through_utmps() {
    assert_root();
    let s = Scratch::new("utmps-readers");
    let d = start_utmps(&s, &[]);
    let mut login = Utx::new(USER, "w1", "pts/w1", "root");
    login.host = b"client.example".to_vec();
    login.sec = 1_790_000_000;
    login.usec = 0;
    // What login(1) linked with libutmps does: pututxline, updwtmpx.
    let mut c = Client::connect(&d.usock);
    assert_eq!(c.rewind(), Errno(0));
    assert_eq!(c.getline(b"pts/w1"), Errno(ESRCH));
    assert_eq!(c.putline(&login), Errno(0));
    drop(c);
    assert_eq!(Client::append(&d.wsock, &login), Errno(0));
    // Acknowledged means on disk.
    let wtmp = read_native(&log_dir(&s).join("wtmp"));
    assert_eq!(wtmp.len(), 1);
    assert_eq!(wtmp[0].host, b"client.example");

    let who = run(s.applet("who").arg("-H"), None);
    ok(&who);
    let who = String::from_utf8_lossy(&who.stdout).into_owned();
    assert!(
        who.contains("root     pts/w1       Sep 21 14:13 (client.example)"),
        "who: {who}"
    );
    let last = run(&mut s.applet("last"), None);
    ok(&last);
    let last = String::from_utf8_lossy(&last.stdout).into_owned();
    assert!(
        last.starts_with("root     pts/w1       client.example   Mon Sep 21 14:13 "),
        "last: {last}"
    );
    let lastlog = run(s.applet("lastlog").args(["-u", "root"]), None);
    ok(&lastlog);
    let lastlog = String::from_utf8_lossy(&lastlog.stdout).into_owned();
    assert!(
        lastlog.ends_with(
            "\nroot             pts/w1   client.example                            Mon Sep 21 14:13:20 +0000 2026\n"
        ),
        "lastlog: {lastlog}"
    );
}
