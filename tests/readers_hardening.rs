//! Readers against hostile files (issue 9, rows 11 and 12, and memory):
//! a FIFO, a device or a directory where a file is meant is refused at
//! once; stored BEL, TAB, CR and LF are escaped; memory stays flat
//! whatever a file's size.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{run, Scratch};
use crate::utmpfile::{self, Entry};

/// Run `cmd` with no input, stopping it if it is still running after
/// 10 s (a reader blocked on a FIFO would never end): (exit code, stdout,
/// stderr), and a panic if it had to be stopped.
fn run_bounded(cmd: &mut Command, what: &str) -> (Option<i32>, Vec<u8>, String) {
    use std::io::Read;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after 10 s (blocked)");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    (
        status.code(),
        out,
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0, "mkfifo");
}

/// Each reader on a named file that is not a regular one: the exact
/// one-line refusal and exit 1, promptly.
fn refused_by_every_named_reader(s: &Scratch, target: &Path) {
    let t = target.to_str().unwrap();
    let cases: [(&str, Vec<&str>, String); 7] = [
        ("who", vec![t], format!("who: {t}: not a regular file\n")),
        (
            "who",
            vec!["-a", t],
            format!("who: {t}: not a regular file\n"),
        ),
        (
            "users",
            vec![t],
            format!("users: {t}: not a regular file\n"),
        ),
        (
            "last",
            vec!["-f", t],
            format!("last: cannot open {t}: not a regular file\n"),
        ),
        (
            "lastb",
            vec!["-f", t],
            format!("lastb: cannot open {t}: not a regular file\n"),
        ),
        (
            "utmpdump",
            vec![t],
            format!("utmpdump: cannot open {t}: not a regular file\n"),
        ),
        (
            "utmpdump",
            vec!["-f", t],
            format!("utmpdump: cannot open {t}: not a regular file\n"),
        ),
    ];
    for (applet, args, message) in cases {
        let what = format!("{applet} {args:?}");
        let (code, out, err) = run_bounded(s.applet(applet).args(&args), &what);
        assert_eq!(err, message, "{what}");
        assert_eq!(code, Some(1), "{what}");
        assert!(out.is_empty(), "{what}");
    }
    let what = format!("utmpdump -r {t}");
    let (code, _, err) = run_bounded(s.applet("utmpdump").args(["-r", t]), &what);
    assert_eq!(
        err,
        format!("utmpdump: cannot open {t}: not a regular file\n")
    );
    assert_eq!(code, Some(1));
}

#[test]
fn every_reader_refuses_a_fifo_without_blocking() {
    let s = Scratch::new("rh-fifo");
    let fifo = s.path("fifo");
    mkfifo(&fifo);
    refused_by_every_named_reader(&s, &fifo);

    // The default tables: utmp for w and uptime (and who, users), the
    // native lastlog, each a FIFO where the file should be.
    std::fs::create_dir_all(s.path("run")).unwrap();
    std::fs::create_dir_all(s.path("log")).unwrap();
    let utmp = s.path("run/utmp");
    mkfifo(&utmp);
    let u = utmp.to_str().unwrap();
    for applet in ["who", "users", "w", "uptime"] {
        let (code, _, err) = run_bounded(&mut s.applet(applet), applet);
        assert_eq!(
            err,
            format!("{applet}: {u}: not a regular file\n"),
            "{applet}"
        );
        assert_eq!(code, Some(1), "{applet}");
    }
    for (applet, db) in [("last", "wtmp"), ("lastb", "btmp")] {
        let path = s.path("log").join(db);
        mkfifo(&path);
        let (code, _, err) = run_bounded(&mut s.applet(applet), applet);
        let p = path.display();
        assert_eq!(
            err,
            format!("{applet}: cannot open {p}: not a regular file\n")
        );
        assert_eq!(code, Some(1));
    }
    let lastlog = s.path("log/lastlog");
    mkfifo(&lastlog);
    let (code, _, err) = run_bounded(&mut s.applet("lastlog"), "lastlog");
    let l = lastlog.display();
    assert_eq!(err, format!("lastlog: {l}: not a regular file\n"));
    assert_eq!(code, Some(1));
}

#[test]
fn lastlog_refuses_a_fifo_in_a_root() {
    assert!(is_root(), "lastlog -R chroots: this test must run as root");
    let s = Scratch::new("rh-lastlog-root");
    let root = s.path("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/log")).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    mkfifo(&root.join("var/log/lastlog"));
    let mut cmd = s.applet("lastlog");
    cmd.env("UTMPBOX_LOGDIR", "/var/log/utmpbox");
    cmd.arg("-R").arg(&root);
    let (code, _, err) = run_bounded(&mut cmd, "lastlog -R");
    assert_eq!(err, "lastlog: /var/log/lastlog: not a regular file\n");
    assert_eq!(code, Some(1));
    // A FIFO as the root's passwd is not read either: no user, no row.
    std::fs::remove_file(root.join("var/log/lastlog")).unwrap();
    std::fs::write(root.join("var/log/lastlog"), b"").unwrap();
    std::fs::remove_file(root.join("etc/passwd")).unwrap();
    mkfifo(&root.join("etc/passwd"));
    let mut cmd = s.applet("lastlog");
    cmd.env("UTMPBOX_LOGDIR", "/var/log/utmpbox");
    cmd.arg("-R").arg(&root);
    let (_, out, _) = run_bounded(&mut cmd, "lastlog -R, passwd a FIFO");
    assert!(!String::from_utf8_lossy(&out).contains("root"));
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn every_reader_refuses_a_device_and_a_directory() {
    let s = Scratch::new("rh-dev");
    refused_by_every_named_reader(&s, Path::new("/dev/zero"));
    refused_by_every_named_reader(&s, Path::new("/dev/null"));
    let dir = s.path("adir");
    std::fs::create_dir_all(&dir).unwrap();
    refused_by_every_named_reader(&s, &dir);
}

/// A glibc file whose user, line and host hold BEL, TAB, CR and LF.
fn control_bytes_file(s: &Scratch) -> PathBuf {
    let t = 1_700_000_000;
    let mut login = Entry::of_bytes(7, b"pts/\x07\t", b"a\rb\nc", b"h\x07\t\r\nx", t);
    login.pid = 4242;
    let logout = Entry::of_bytes(8, b"pts/\x07\t", b"", b"", t + 3600);
    s.write("ctl", &utmpfile::glibc(&[login, logout]))
}

#[test]
fn bel_tab_cr_lf_are_escaped_in_every_reader() {
    let s = Scratch::new("rh-escape");
    let file = control_bytes_file(&s);
    let f = file.to_str().unwrap();
    let stdout = |cmd: &mut Command| {
        let out = run(cmd, None);
        assert_eq!(out.status.code(), Some(0), "{:?}", out);
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        stdout(s.applet("who").args([f])),
        "a*Mb*Jc  pts/*G*I     Nov 14 22:13 (h*G*I*M*Jx)\n"
    );
    let dead = stdout(s.applet("who").args(["-d", f]));
    assert!(dead.contains(" pts/*G*I "), "{dead}");
    assert!(dead
        .bytes()
        .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)));
    assert_eq!(stdout(s.applet("users").args([f])), "a*Mb*Jc\n");
    assert_eq!(
        stdout(s.applet("last").args(["-f", f])),
        // util-linux pads the raw bytes, then escapes: the columns count them.
        "a*Mb*Jc    pts/*G*I       h*G*I*M*Jx           Tue Nov 14 22:13 - 23:13  (01:00)\n\nctl begins Tue Nov 14 22:13:20 2023\n"
    );
    let json = stdout(s.applet("last").args(["--json", "-f", f]));
    assert!(
        json.contains("\"user\": \"a*Mb*Jc\", \"tty\": \"pts/*G*I\", \"host\": \"h*G*I*M*Jx\""),
        "{json}"
    );
    assert!(json
        .bytes()
        .all(|b| b == b'\n' || (0x20..0x7f).contains(&b)));
    // utmpdump's text is a data format: `?` for every unprintable byte, as
    // util-linux prints it, unchanged.
    let dump = stdout(s.applet("utmpdump").args([f]));
    assert!(
        dump.contains("[a?b?c   ] [pts/??      ] [h????x              ]"),
        "{dump}"
    );
}

#[test]
fn lastlog_escapes_bel_tab_cr_lf() {
    assert!(is_root(), "lastlog -R chroots: this test must run as root");
    let s = Scratch::new("rh-lastlog-escape");
    let log = s.path("log");
    std::fs::create_dir_all(&log).unwrap();
    // A legacy lastlog for root (uid 0): time, line[32], host[256].
    let mut entry = vec![0u8; 292];
    entry[..4].copy_from_slice(&1_700_000_000i32.to_le_bytes());
    entry[4..10].copy_from_slice(b"tty\x07\t\r");
    entry[36..42].copy_from_slice(b"h\n\rx\t\x07");
    let root = s.path("root");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::create_dir_all(root.join("var/log/utmpbox")).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("var/log/lastlog"), &entry).unwrap();
    let mut cmd = s.applet("lastlog");
    cmd.env("UTMPBOX_LOGDIR", "/var/log/utmpbox");
    cmd.arg("-R").arg(&root);
    let out = run(&mut cmd, None);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Username         Port     From                                       Latest\n\
         root             tty*G*I*M h*J*Mx*I*G                                Tue Nov 14 22:13:20 +0000 2023\n"
    );
}

/// Peak resident memory of the applet run to its end, in KiB, and its
/// exit status, with its output thrown away. GNU time forks the applet
/// and reads its ru_maxrss from wait4: a child of this test process
/// itself would count this process's own peak, which the kernel carries
/// over into ru_maxrss when the child execs.
fn peak_rss_kib(s: &Scratch, cmd: &Command) -> (i64, i32) {
    let time = Path::new("/usr/bin/time");
    assert!(
        time.exists(),
        "GNU time (/usr/bin/time) is needed to measure peak RSS"
    );
    let report = s.path("rss");
    let mut timed = Command::new(time);
    timed.arg("-f").arg("%M").arg("-o").arg(&report);
    timed.arg(cmd.get_program()).args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    let status = timed
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    let text = std::fs::read_to_string(&report).unwrap();
    let kib = text.lines().last().unwrap_or("").trim().parse().unwrap();
    (kib, status.code().unwrap_or(-1))
}

/// 32 MiB: a chunk and the binary, far below the files' 256 and 512 MiB.
const RSS_LIMIT_KIB: i64 = 32 * 1024;

#[test]
fn memory_stays_flat_on_big_and_sparse_files() {
    let s = Scratch::new("rh-memory");
    // 512 MiB of empty glibc records, sparse: no disk, 1,398,101 records.
    let sparse = s.path("sparse");
    let file = std::fs::File::create(&sparse).unwrap();
    file.set_len(384 * 1_398_101).unwrap();
    // 256 MiB of real records: a login and its logout, over and over.
    let t = 1_600_000_000;
    let mut login = Entry::new(7, 4242, "pts/1", "alice", "host.example", t);
    login.pid = 4242;
    let pair = utmpfile::glibc(&[login, Entry::new(8, 4242, "pts/1", "", "", t + 60)]);
    let chunk: Vec<u8> = pair.repeat(8192);
    let full = s.path("full");
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&full).unwrap());
        for _ in 0..(256 << 20) / chunk.len() {
            out.write_all(&chunk).unwrap();
        }
    }
    let runs: [(&str, &[&str], &Path); 9] = [
        ("who", &["-a"], &sparse),
        ("users", &[], &sparse),
        ("last", &["-f"], &sparse),
        ("utmpdump", &[], &sparse),
        ("who", &[], &full),
        ("who", &["-q"], &full),
        ("last", &["-x", "-f"], &full),
        ("lastb", &["-f"], &full),
        ("utmpdump", &[], &full),
    ];
    for (applet, args, path) in runs {
        let mut cmd = s.applet(applet);
        cmd.args(args).arg(path);
        let (rss, code) = peak_rss_kib(&s, &cmd);
        let what = format!("{applet} {args:?} {}", path.display());
        assert_eq!(code, 0, "{what}");
        assert!(rss < RSS_LIMIT_KIB, "{what}: peak RSS {rss} KiB");
    }
}
