//! `w` against procps-ng 4.0.2, in a private mount namespace: /run is a
//! tmpfs holding a generated legacy /run/utmp (the default table both
//! tools read), /proc/uptime and /proc/loadavg are bind-mounted fakes.
//! The sessions are real processes this test starts on real ptys (setsid
//! + TIOCSCTTY), with tty access times it sets.
//!
//! Determinism: the processes sleep (no CPU ticks); atimes and login
//! times sit far from the boundaries of their formats; the only column
//! that moves with the clock second is the header's time and a seconds
//! IDLE, so each case runs ours, then procps, then ours again, and the
//! whole output must equal one of our two runs byte for byte.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};

use crate::util::{self, assert_same, fake_proc, namespace_setup, peer, run, Scratch};
use crate::utmpfile::{self, Entry};

/// A pty pair; its processes are killed when it is dropped.
pub(crate) struct Pty {
    master: OwnedFd,
    slave: OwnedFd,
    pub path: String,
    /// Session leaders started here: their sessions outlive the tty.
    leaders: std::cell::RefCell<Vec<i64>>,
}

impl Pty {
    pub(crate) fn open(cols: u16) -> Pty {
        let (mut master, mut slave) = (0, 0);
        let size = libc::winsize {
            ws_row: 24,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two fds; termios may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty");
        // SAFETY: both fds were just opened and are owned from here on.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        let mut buf = [0u8; 256];
        // SAFETY: ttyname_r writes a NUL-terminated path into buf.
        let rc = unsafe { libc::ttyname_r(slave.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        assert_eq!(rc, 0, "ttyname_r");
        let path = std::ffi::CStr::from_bytes_until_nul(&buf)
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        // Raw mode, so output read back from the master is what was written.
        // SAFETY: termios is plain data filled by tcgetattr.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            libc::tcgetattr(slave.as_raw_fd(), &mut t);
            libc::cfmakeraw(&mut t);
            libc::tcsetattr(slave.as_raw_fd(), libc::TCSANOW, &t);
        }
        Pty {
            master,
            slave,
            path,
            leaders: std::cell::RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn line(&self) -> &str {
        self.path.strip_prefix("/dev/").unwrap()
    }

    /// The slave, as a child's stdin.
    pub(crate) fn stdin(&self) -> Stdio {
        Stdio::from(self.slave.try_clone().unwrap())
    }

    /// Set the tty's atime (IDLE), leaving its mtime.
    pub(crate) fn set_atime(&self, atime: i64) {
        let c = std::ffi::CString::new(self.path.clone()).unwrap();
        let times = [
            libc::timespec {
                tv_sec: atime,
                tv_nsec: 0,
            },
            libc::timespec {
                tv_sec: 0,
                tv_nsec: libc::UTIME_OMIT,
            },
        ];
        // SAFETY: a plain syscall on a path we own.
        let rc = unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), 0) };
        assert_eq!(rc, 0, "utimensat");
    }

    /// Start `argv` as a session leader with this pty as its controlling
    /// terminal (and as stdin/stdout/stderr).
    pub(crate) fn spawn(&self, argv: &[&str], arg0: Option<&str>, uid: Option<u32>) -> Child {
        let mut cmd = Command::new(argv[0]);
        cmd.args(&argv[1..]);
        if let Some(arg0) = arg0 {
            cmd.arg0(arg0);
        }
        if let Some(uid) = uid {
            cmd.uid(uid);
        }
        let fd = |f: &OwnedFd| Stdio::from(f.try_clone().unwrap());
        cmd.stdin(fd(&self.slave))
            .stdout(fd(&self.slave))
            .stderr(fd(&self.slave));
        // SAFETY: setsid and ioctl are async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        self.leaders.borrow_mut().push(i64::from(child.id()));
        child
    }

    /// Everything written to the slave so far (the master is non-blocking).
    pub(crate) fn output(&self) -> Vec<u8> {
        let fd = self.master.as_raw_fd();
        // SAFETY: fcntl and read on an fd we own, into a local buffer.
        unsafe { libc::fcntl(fd, libc::F_SETFL, libc::O_NONBLOCK) };
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            out.extend_from_slice(&buf[..n as usize]);
        }
        out
    }
}

impl Pty {
    /// The pids of the processes whose controlling terminal this is, and
    /// (with `sessions`) of every process in a session started here.
    fn pids(&self, sessions: bool) -> Vec<i32> {
        use std::os::unix::fs::MetadataExt;
        let rdev = std::fs::metadata(&self.path).map_or(-1, |m| m.rdev() as i64);
        let leaders = self.leaders.borrow();
        let mut pids = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let Some((_, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let field = |n: usize| {
                rest.split_whitespace()
                    .nth(n)
                    .and_then(|t| t.parse::<i64>().ok())
            };
            let ours = field(4) == Some(rdev)
                || (sessions && field(3).is_some_and(|sid| leaders.contains(&sid)));
            if ours {
                if let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() {
                    pids.push(pid);
                }
            }
        }
        pids
    }

    pub(crate) fn processes(&self) -> Vec<i32> {
        self.pids(false)
    }

    /// Wait (up to 10 s) until `count` processes have this terminal, and
    /// a moment more so that execs and forks in progress settle.
    pub(crate) fn wait_for(&self, count: usize) {
        for _ in 0..200 {
            if self.processes().len() >= count {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        // Kill every process on this terminal or in a session started on
        // it, background jobs included.
        for pid in self.pids(true) {
            // SAFETY: a signal to a process on our own pty.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Children this test started, killed and reaped at the end.
pub(crate) struct Children(pub Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Wait (up to 60 s) until process `pid` runs the command line `want`.
fn wait_for_cmdline(pid: u32, want: &str) {
    for _ in 0..600 {
        if std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want.as_bytes()) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("process {pid} never ran {want:?}");
}

/// Wait (up to 10 s) until process `pid` is a zombie.
fn wait_for_zombie(pid: u32) {
    for _ in 0..100 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("process {pid} never became a zombie");
}

pub(crate) fn uid_of(name: &str) -> u32 {
    let out = run(peer("id").args(["-u", name]), None);
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

pub(crate) use crate::util::dead_pid;

pub(crate) fn now() -> i64 {
    utmpfile::now()
}

pub(crate) fn addr(hex: &str) -> [u8; 16] {
    let mut a = [0u8; 16];
    for (i, byte) in a.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    a
}

use crate::util::quote as q;

/// One comparison: arguments and extra environment for both tools.
pub(crate) struct Case {
    pub args: String,
    pub env: String,
    /// Terminals to send the three runs' output to instead of files.
    pub ttys: Option<[String; 3]>,
}

pub(crate) fn case(args: &str, env: &str) -> Case {
    Case {
        args: args.into(),
        env: env.into(),
        ttys: None,
    }
}

/// Run every case in one namespace: ours, procps, ours. Returns
/// (ours before, peer, ours after) per case, stdout and stderr joined
/// with a marker so both are compared.
pub(crate) fn in_namespace(s: &Scratch, utmp: &[u8], cases: &[Case]) -> Vec<[Vec<u8>; 3]> {
    let fake = fake_proc(s, "200000.00 1.00\n", "0.50 1.25 2.00 1/100 42\n");
    let utmp = s.write("utmp", utmp);
    let ours = q(&s.dir.join("bin/w"));
    let mut script = namespace_setup(&utmp, Some(&fake));
    for (i, c) in cases.iter().enumerate() {
        let out = |k: usize| q(&s.path(&format!("w.{i}.{k}")));
        let run = |tool: &str, k: usize| {
            let (to, append) = match &c.ttys {
                Some(ttys) => (ttys[k].clone(), ">"),
                None => (out(k), ">>"),
            };
            format!(
                "{env} {tool} {args} > {to} 2>&1; echo \"[exit $?]\" {append} {o}\n",
                env = c.env,
                args = c.args,
                o = out(k)
            )
        };
        script.push_str(&run(&ours, 0));
        script.push_str(&run("w", 1));
        script.push_str(&run(&ours, 2));
    }
    util::in_namespace(s, &script, &[]);
    (0..cases.len())
        .map(|i| {
            let read = |k: usize| std::fs::read(s.path(&format!("w.{i}.{k}"))).unwrap();
            [read(0), read(1), read(2)]
        })
        .collect()
}

/// Every case must equal procps's output from one of our two runs; a
/// failure is retried (a slow machine can straddle two clock seconds).
pub(crate) fn compare_all(s: &Scratch, utmp: &[u8], cases: &[Case]) -> Vec<Vec<u8>> {
    for attempt in 0..3 {
        let results = in_namespace(s, utmp, cases);
        let bad = results
            .iter()
            .position(|[before, theirs, after]| before != theirs && after != theirs);
        match bad {
            None => return results.into_iter().map(|[_, theirs, _]| theirs).collect(),
            Some(i) if attempt == 2 => {
                let [before, theirs, after] = &results[i];
                let what = format!("w {} (env: {})", cases[i].args, cases[i].env);
                eprintln!("{what}: ours after:\n{}", String::from_utf8_lossy(after));
                assert_same(before, theirs, what);
            }
            Some(_) => {}
        }
    }
    unreachable!()
}

/// The sessions of the main scenario, on their own ptys.
pub(crate) struct World {
    pub ptys: Vec<Pty>,
    pub _children: Children,
    pub entries: Vec<Entry>,
}

pub(crate) fn world() -> World {
    let t = now();
    let nobody = uid_of("nobody");
    let ptys: Vec<Pty> = (0..8).map(|_| Pty::open(80)).collect();
    let mut children = Vec::new();
    // 0: a shell with a background job in its own process group; the
    //    foreground process is the exec'd sleep.
    children.push(ptys[0].spawn(
        &["bash", "-c", "set -m; sleep 1001 & exec sleep 1002"],
        None,
        None,
    ));
    // 1: argv[0] "-" and nothing else: the login process's command line is
    //    `-`, so the newest process on the tty (a background job) wins.
    //    (The pause puts the job's start time in a later clock tick.)
    children.push(ptys[1].spawn(
        &[
            "bash",
            "-c",
            "set -m; sleep 0.1; sleep 1003 & exec -a - cat",
        ],
        None,
        None,
    ));
    // 2: unprintable bytes in the command line.
    children.push(ptys[2].spawn(
        &["sleep", "1004"],
        Some("a\x01b\x7fc\u{e9}d\u{1b}[2J"),
        None,
    ));
    // 3: nobody's shell with a foreground child: root's row of the same
    //    tty cannot pick it (without -u).
    children.push(ptys[3].spawn(
        &["sh", "-c", "sleep 0.1; sleep 1005 & exec sleep 1006"],
        None,
        Some(nobody),
    ));
    // 4: a zombie login process ([comm] <defunct>).
    let zombie = ptys[4].spawn(&["true"], None, None);
    // 5: an empty argv[0] and nothing else (the command line is one NUL,
    //    shown as `?`); cat blocks reading the tty.
    children.push(ptys[5].spawn(&["cat"], Some(""), None));
    // 6: plain, with a long user name; 7: plain.
    // Some CPU time that stays put: a busy loop, then sleep. On 6 the
    // shell keeps its ticks and a sleeping child is WHAT (JCPU only); on 7
    // the busy shell becomes the sleep (JCPU and PCPU).
    let busy = "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done";
    children.push(ptys[6].spawn(
        &["sh", "-c", &format!("{busy}; sleep 1008; true")],
        None,
        None,
    ));
    children.push(ptys[7].spawn(
        &["sh", "-c", &format!("{busy}; exec sleep 1009")],
        None,
        None,
    ));
    // Wait until every process is in place (a loaded machine is slow).
    for (pty, count) in ptys.iter().zip([2, 2, 1, 2, 0, 1, 2, 1]) {
        pty.wait_for(count);
    }
    // The execs at the end of the shell scripts, and the zombie.
    wait_for_cmdline(children[0].id(), "sleep\x001002\x00");
    wait_for_cmdline(children[1].id(), "-\x00");
    wait_for_cmdline(children[3].id(), "sleep\x001006\x00");
    wait_for_cmdline(children[6].id(), "sleep\x001009\x00");
    wait_for_zombie(zombie.id());
    // The zombie stays unreaped until the end (its pid stays taken).
    let zombie_pid = zombie.id() as i32;
    children.push(zombie);

    // IDLE values that only change with the minute (seconds-resolution
    // IDLE has its own test, with few cases: procps reads the clock again
    // for each row, so a row can straddle a second its header did not).
    let atimes = [
        t - 3 * 86400 - 500,  // days
        t - 2 * 3600 - 1800,  // h:mm
        t - 30 * 3600 - 1200, // h:mm over a day
        t + 5000,             // in the future: ?
        t + 50000,            // in the future: ?
        t - 30 * 86400,       // many days
        t - 47 * 3600 - 1800, // just under 2 days
        t - 5 * 3600 - 1200,
    ];
    for (pty, atime) in ptys.iter().zip(atimes) {
        pty.set_atime(atime);
    }
    let pid = |i: usize| children[i].id() as i32;
    let line = |i: usize| ptys[i].line().to_owned();
    let mapped = addr("00000000000000000000ffffc0a80101");
    let v6 = addr("20010db8000000000000000000000001");
    let v4 = addr("0a000005000000000000000000000000");
    let long_v4 = addr("ffffffff000000000000000000000000");
    let link = addr("fe800000000000000000000000000001");
    let e = |pid: i32, line: &str, user: &str, host: &str, ago: i64, addr: [u8; 16]| {
        let mut entry = Entry::new(7, pid, line, user, host, t - ago);
        entry.addr = addr;
        entry
    };
    let zero = [0u8; 16];
    let entries = vec![
        Entry::new(2, 0, "~", "reboot", "6.1.0", t - 200000),
        e(pid(0), &line(0), "root", "192.168.1.10", 300, v4),
        e(
            pid(1),
            &line(1),
            "root",
            "x.example.org:0.0",
            8 * 86400,
            mapped,
        ),
        e(
            pid(2),
            &line(2),
            "root",
            "bad host\x01name",
            3 * 86400,
            long_v4,
        ),
        e(pid(3), &line(3), "nobody", "2001:db8::1", 13 * 3600, v6),
        e(pid(3), &line(3), "root", "fe80::1%eth0", 100, link),
        e(zombie_pid, &line(4), "root", "", 400, zero),
        e(pid(4), &line(5), "root", ":0", 50 * 86400, zero),
        e(
            pid(5),
            &line(6),
            "averyveryverylongusername",
            "very.long.hostname.example.com",
            60,
            zero,
        ),
        e(pid(6), &line(7), "root", "", 2 * 86400, zero),
        // Not in passwd: only with -u.
        e(pid(6), &line(7), "nosuchuser", "h", 100, zero),
        // Gone, empty user, not a user process: never shown.
        e(dead_pid(), &line(7), "root", "", 100, zero),
        e(pid(6), &line(7), "", "", 100, zero),
        Entry::new(6, pid(6), &line(7), "LOGIN", "", t - 100),
        Entry::new(8, pid(6), &line(7), "root", "", t - 100),
        // Lines procps tidies: cut at the first odd byte, absolute.
        e(pid(6), &format!("{}-x", line(7)), "root", "", 100, zero),
        e(pid(6), &format!("/dev/{}", line(7)), "root", "", 100, zero),
    ];
    World {
        ptys,
        _children: Children(children),
        entries,
    }
}

#[test]
fn every_option_matches_procps_on_real_ttys() {
    let s = Scratch::new("w-options");
    let w = world();
    let utmp = utmpfile::glibc(&w.entries);
    let mut cases = Vec::new();
    for args in [
        "",
        "-h",
        "-u",
        "-s",
        "-f",
        "-o",
        "-i",
        "-hs",
        "-us",
        "-uf",
        "-ui",
        "-uo",
        "-fs",
        "-fi",
        "-ufso",
        "-if",
        "-ff",
        "-uif",
        "-ih",
        "root",
        "nobody",
        "averyveryverylongusername",
        "averyver",
        "-u nosuchuser",
        "nosuch",
        "root -s",
        "--no-header --no-current",
        "--short --from --old-style",
        "--ip-addr",
        "--no-c -u",
    ] {
        for env in ["LC_ALL=C", "LC_ALL=C.UTF-8 TZ=Asia/Tokyo"] {
            cases.push(case(args, &format!("COLUMNS=200 {env}")));
        }
    }
    for env in [
        "COLUMNS=60",
        "COLUMNS=7",
        "COLUMNS=1000",
        "COLUMNS=",
        "COLUMNS=abc",
        "COLUMNS=95x",
        "PROCPS_USERLEN=20 COLUMNS=120",
        "PROCPS_USERLEN=32 PROCPS_FROMLEN=40",
        "PROCPS_USERLEN=7 PROCPS_FROMLEN=300 COLUMNS=100",
        "PROCPS_USERLEN=33 PROCPS_FROMLEN=7",
        "PROCPS_USERLEN=x PROCPS_FROMLEN=",
        "PROCPS_FROMLEN=8 COLUMNS=80",
        "PROCPS_FROMLEN=12 COLUMNS=80",
        "PROCPS_FROMLEN=256",
    ] {
        for args in ["-u", "-ui", "-us", "-uf"] {
            cases.push(case(args, env));
        }
    }
    let outputs = compare_all(&s, &utmp, &cases);
    // The scenario reaches the branches it is meant to.
    let all = String::from_utf8_lossy(&outputs[4]).into_owned(); // -u, LC_ALL=C
    for expected in [
        " sleep 1002\n",
        " sleep 1003\n",
        "a.b.c??d.[2J 1004",
        " [true] <defunct>\n",
        " ?\n",
        "nosuchus",
        "   ?   ",
        "  3days",
        "  2:30m",
        " 30:20m",
        " 47:30m",
        "   ?    sleep 1008\n",
    ] {
        assert!(all.contains(expected), "w -u lacks {expected:?}:\n{all}");
    }
    assert!(all.ends_with("[exit 0]\n"));
    // CPU time shows as JCPU and PCPU (not `?`) where the busy shell is.
    assert!(
        all.lines()
            .any(|l| l.ends_with(" sleep 1009") && !l.contains("   ?   ")),
        "{all}"
    );
    drop(w.ptys);
}
