//! The front end every applet shares: the dispatcher (`utmpbox APPLET`,
//! `--list`, `--install`), output into a full disk, and arguments that
//! are not UTF-8.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::daemon_util::{
    log_dir, ok, read_native, run_dir, start_both, utmpset, wait_until, DEAD,
};
use crate::util::{assert_same, binary, peer, run, Scratch};
use crate::utmpfile::{glibc, Entry};

const APPLETS: [&str; 11] = [
    "last", "lastb", "lastlog", "uptime", "users", "utmpd", "utmpdump", "utmpset", "w", "who",
    "wtmpd",
];

/// `cmd` with stdout on /dev/full.
fn into_full(mut cmd: Command) -> Output {
    let full = File::options().write(true).open("/dev/full").unwrap();
    cmd.stdout(full).stderr(Stdio::piped());
    cmd.output().unwrap()
}

/// Exit 1 and the write error as the last line on stderr (utmpdump
/// prints its "Utmp dump of FILE" banner there first, as util-linux does).
#[track_caller]
fn assert_write_error(out: &Output, applet: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = format!("{applet}: write error: No space left on device\n");
    assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
    assert!(stderr.ends_with(&line), "{what}: {stderr}");
    assert_eq!(stderr.matches("write error").count(), 1, "{what}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
}

#[test]
fn help_and_version_into_a_full_disk_are_write_errors() {
    let s = Scratch::new("full-help");
    for applet in APPLETS {
        for flag in ["--help", "--version"] {
            let mut cmd = s.applet(applet);
            cmd.arg(flag);
            assert_write_error(&into_full(cmd), applet, &format!("{applet} {flag}"));
        }
    }
}

#[test]
fn the_daemons_and_utmpset_take_dash_capital_v() {
    let s = Scratch::new("dash-v");
    for applet in ["utmpd", "wtmpd", "utmpset", "utmpdump"] {
        let out = run(s.applet(applet).arg("-V"), None);
        assert_eq!(out.status.code(), Some(0), "{applet} -V");
        let want = format!("{applet} (utmpbox) {}\n", env!("CARGO_PKG_VERSION"));
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{applet} -V");
        assert!(out.stderr.is_empty(), "{applet} -V");
        let mut cmd = s.applet(applet);
        cmd.arg("-V");
        assert_write_error(&into_full(cmd), applet, &format!("{applet} -V"));
    }
}

#[test]
fn normal_output_into_a_full_disk_is_a_write_error() {
    let s = Scratch::new("full-output");
    let utmp = s.write(
        "utmp",
        &glibc(&[Entry::new(7, 1, "pts/1", "root", "192.0.2.1", 1790000000)]),
    );
    let file = utmp.as_os_str();
    let runs: [(&str, &[&std::ffi::OsStr]); 11] = [
        ("last", &["-f".as_ref(), file]),
        ("last", &["--json".as_ref(), "-f".as_ref(), file]),
        ("lastb", &["-f".as_ref(), file]),
        ("lastlog", &[]),
        ("lastlog", &["--json".as_ref()]),
        ("uptime", &[]),
        ("users", &[file]),
        ("utmpdump", &[file]),
        ("utmpdump", &["-f".as_ref(), file]),
        ("w", &[]),
        ("who", &[file]),
    ];
    for (applet, args) in runs {
        let mut cmd = s.applet(applet);
        cmd.args(args);
        assert_write_error(&into_full(cmd), applet, &format!("{applet} {args:?}"));
    }
}

#[test]
fn dispatcher_output_into_a_full_disk_is_a_write_error() {
    for args in [&[][..], &["--list"], &["--help"], &["--version"]] {
        let mut cmd = Command::new(binary());
        cmd.args(args);
        assert_write_error(&into_full(cmd), "utmpbox", &format!("utmpbox {args:?}"));
    }
}

#[test]
fn unknown_applet_exits_127() {
    let s = Scratch::new("unknown");
    let out = run(Command::new(binary()).arg("lgoin"), None);
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(out.stderr, b"utmpbox: lgoin: applet not found\n");
    assert!(out.stdout.is_empty());
    // Through a link whose name is no applet.
    let link = s.path("bin/whoami");
    std::os::unix::fs::symlink("utmpbox", &link).unwrap();
    let out = run(&mut Command::new(&link), None);
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(out.stderr, b"utmpbox: whoami: applet not found\n");
}

#[test]
fn a_copy_named_like_the_binary_is_the_multicall_binary() {
    // make tiny leaves dist/utmpbox-tiny; a rootfs may hold utmpbox.static.
    let s = Scratch::new("frontend-renamed");
    for name in ["utmpbox-tiny", "utmpbox.static"] {
        let copy = s.path(&format!("bin/{name}"));
        crate::util::copy_exe(&binary(), &copy);
        let out = run(Command::new(&copy).arg("--list"), None);
        assert_eq!(out.status.code(), Some(0), "{name}: {:?}", out);
        let want: String = APPLETS.iter().map(|a| format!("{a}\n")).collect();
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{name}");
        let out = run(Command::new(&copy).args(["who", "--version"]), None);
        assert_eq!(out.status.code(), Some(0), "{name}: {:?}", out);
    }
}

#[test]
fn list_names_every_applet() {
    for flag in ["--list", "-l"] {
        let out = run(Command::new(binary()).arg(flag), None);
        assert_eq!(out.status.code(), Some(0));
        let want: String = APPLETS.iter().map(|a| format!("{a}\n")).collect();
        assert_eq!(String::from_utf8_lossy(&out.stdout), want);
        assert!(out.stderr.is_empty());
    }
}

fn install(dir: &Path, force: bool) -> Output {
    let mut cmd = Command::new(binary());
    cmd.arg("--install");
    if force {
        cmd.arg("--force");
    }
    run(cmd.arg(dir), None)
}

/// What the link `link` points at, as a path from / (--install writes a
/// relative link when the binary and the directory share a directory
/// below /, an absolute one otherwise).
fn resolved(link: &Path) -> PathBuf {
    let target = std::fs::read_link(link).unwrap();
    let full = link.parent().unwrap().join(target);
    std::fs::canonicalize(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn real_binary() -> PathBuf {
    std::fs::canonicalize(binary()).unwrap()
}

#[test]
fn install_links_every_applet_and_is_idempotent() {
    let s = Scratch::new("install");
    let dir = s.path("inst");
    std::fs::create_dir(&dir).unwrap();
    for _ in 0..2 {
        let out = install(&dir, false);
        assert_eq!(out.status.code(), Some(0), "{:?}", out);
        assert!(out.stderr.is_empty());
    }
    for applet in APPLETS {
        assert_eq!(resolved(&dir.join(applet)), real_binary(), "{applet}");
    }
    let out = run(&mut Command::new(dir.join("who")).arg("--version"), None);
    assert!(out.stdout.starts_with(b"who (utmpbox) "));
}

#[test]
fn install_refuses_to_replace_a_file_without_force() {
    let s = Scratch::new("install-refuse");
    let dir = s.path("inst");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("who"), b"#!/bin/sh\necho mine\n").unwrap();
    std::os::unix::fs::symlink("/bin/true", dir.join("w")).unwrap();
    let out = install(&dir, false);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in ["w", "who"] {
        let line = format!(
            "utmpbox: refusing to replace {} (not a link to utmpbox; use --force)\n",
            dir.join(name).display()
        );
        assert!(stderr.contains(&line), "{stderr}");
    }
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    // Left alone; the other applets are linked.
    assert_eq!(
        std::fs::read(dir.join("who")).unwrap(),
        b"#!/bin/sh\necho mine\n"
    );
    assert_eq!(
        std::fs::read_link(dir.join("w")).unwrap(),
        Path::new("/bin/true")
    );
    assert_eq!(resolved(&dir.join("last")), real_binary());
    // --force replaces both.
    let out = install(&dir, true);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    for name in ["w", "who"] {
        assert_eq!(resolved(&dir.join(name)), real_binary());
    }
}

#[test]
fn install_without_a_directory_is_a_usage_error() {
    let out = run(Command::new(binary()).arg("--install"), None);
    assert_eq!(out.status.code(), Some(100));
    assert_eq!(
        out.stderr,
        b"utmpbox: --install needs a directory\nTry 'utmpbox --help' for more information.\n"
    );
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Bytes as a command-line argument.
fn arg(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

fn files_of(s: &Scratch) -> (Vec<u8>, Vec<u8>) {
    let read = |p: std::path::PathBuf| std::fs::read(p).unwrap_or_default();
    (read(run_dir(s).join("utmp")), read(log_dir(s).join("wtmp")))
}

#[test]
fn utmpset_mistyped_command_is_a_usage_error_and_stores_nothing() {
    let s = Scratch::new("utmpset-typo");
    let (u, w) = start_both(&s);
    let before = files_of(&s);
    for typo in ["lgoin", "logot", "shutdonw", "console.", ".."] {
        let out = utmpset(&s, &["-w", typo]);
        assert_eq!(out.status.code(), Some(100), "{typo}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "utmpset: unknown command '{typo}'\nutmpset: usage: utmpset [OPTIONS] \
                 boot|shutdown|runlevel NEW [PREV]|login|logout|fail|run COMMAND...|wait\n"
            ),
            "{typo}"
        );
    }
    assert!(
        files_of(&s) == before,
        "a mistyped command changed utmp or wtmp"
    );
    // runit's form still takes a line: a digit, a '/', or an entry in /dev.
    for line in ["tty7", "pts/9", "/dev/tty8", "console"] {
        ok(&utmpset(&s, &["-p", "1", line]));
    }
    let utmp = read_native(&run_dir(&s).join("utmp"));
    for line in ["tty7", "pts/9", "tty8", "console"] {
        assert!(
            utmp.iter()
                .any(|r| r.line == line.as_bytes() && r.kind == DEAD),
            "{line}"
        );
    }
    drop((u, w));
}

#[test]
fn utmpset_passes_non_utf8_fields_as_bytes() {
    assert!(
        is_root(),
        "this test must run as root (utmpset as root may write any record)"
    );
    let s = Scratch::new("utmpset-bytes");
    let (u, w) = start_both(&s);
    let before = files_of(&s);
    // The daemons take text fields as UTF-8 only (docs/SECURITY.md); the
    // refusal names the field, so the bytes reached them as given, not as
    // a stand-in (which was refused as "contains a control character").
    for (option, field) in [("-u", "user"), ("-l", "line"), ("-H", "host")] {
        let mut cmd = s.applet("utmpset");
        cmd.args(["-p", "1"]);
        for (other, value) in [("-u", "root"), ("-l", "pts/9")] {
            if other != option {
                cmd.args([other, value]);
            }
        }
        cmd.args([option.as_ref(), arg(b"x\xffy"), "login".as_ref()]);
        let out = run(&mut cmd, None);
        assert_eq!(
            (out.status.code(), String::from_utf8_lossy(&out.stderr)),
            (
                Some(1),
                format!("utmpset: utmpd refused the record: {field} is not valid UTF-8\n").into()
            ),
            "{option}"
        );
    }
    assert!(
        files_of(&s) == before,
        "a refused record changed utmp or wtmp"
    );
    // A value that must be a number or a time is refused in one line
    // showing the bytes, never an internal stand-in.
    let out = run(
        s.applet("utmpset")
            .args(["-p".as_ref(), arg(b"1\xff"), "boot".as_ref()]),
        None,
    );
    assert_eq!(out.status.code(), Some(100));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "utmpset: Error parsing option '-p' with value '1\u{fffd}': invalid digit found in string\n\
         Try 'utmpset --help' for more information.\n"
    );
    drop((u, w));
}

#[test]
fn daemons_refuse_a_non_utf8_user_in_one_line() {
    let s = Scratch::new("daemon-user-bytes");
    for daemon in ["utmpd", "wtmpd"] {
        let out = run(
            s.applet(daemon).args(["-U".as_ref(), arg(b"n\xffbody")]),
            None,
        );
        assert_eq!(out.status.code(), Some(100), "{daemon}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "{daemon}: Error parsing option '-U' with value 'n\u{fffd}body': not valid UTF-8\n\
                 Try '{daemon} --help' for more information.\n"
            )
        );
    }
}

/// Kills and reaps the child it holds when dropped.
struct Reaped(std::process::Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn daemons_take_non_utf8_paths_as_bytes() {
    let s = Scratch::new("daemon-path-bytes");
    let table = s.dir.join(arg(b"utmp.\xff"));
    let socket = s.dir.join(arg(b"sock.\xfe"));
    let mut cmd = s.applet("utmpd");
    cmd.args(["-n".as_ref(), "-f".as_ref(), table.as_os_str()])
        .args(["-s".as_ref(), socket.as_os_str()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let daemon = Reaped(cmd.spawn().unwrap());
    let up = wait_until(Duration::from_secs(10), || {
        socket.exists() && table.exists()
    });
    drop(daemon);
    assert!(
        up,
        "utmpd did not create its table and socket under the byte-exact names"
    );
    let names: Vec<Vec<u8>> = std::fs::read_dir(&s.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().as_bytes().to_vec())
        .collect();
    assert!(
        !names
            .iter()
            .any(|n| n.contains(&0) || n.starts_with(b"\\0")),
        "{names:?}"
    );
}

/// Our output and the peer's, exit code, stdout and stderr alike.
#[track_caller]
fn assert_same_run(s: &Scratch, applet: &str, peer_tool: &str, args: &[&OsStr]) {
    let ours = run(s.applet(applet).args(args), None);
    let theirs = run(peer(peer_tool).args(args), None);
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{applet} {args:?}"
    );
    assert_same(
        &ours.stdout,
        &theirs.stdout,
        format!("{applet} {args:?} stdout"),
    );
    assert_same(
        &ours.stderr,
        &theirs.stderr,
        format!("{applet} {args:?} stderr"),
    );
}

#[test]
fn readers_take_non_utf8_file_names_as_bytes() {
    let s = Scratch::new("reader-bytes");
    let records = glibc(&[
        Entry::new(7, 1, "pts/1", "root", "192.0.2.1", 1790000000),
        Entry::new(8, 1, "pts/1", "", "", 1790000600),
    ]);
    let file = s.dir.join(arg(b"wtmp.\xff\xfe"));
    std::fs::write(&file, &records).unwrap();
    let missing = s.dir.join(arg(b"gone.\xff"));
    for path in [&file, &missing] {
        let path = path.as_os_str();
        assert_same_run(&s, "who", "who", &[path]);
        assert_same_run(&s, "who", "who", &["-a".as_ref(), path]);
        assert_same_run(&s, "users", "users", &[path]);
        assert_same_run(&s, "utmpdump", "utmpdump", &[path]);
    }
    assert_same_run(&s, "last", "last", &["-f".as_ref(), file.as_os_str()]);
    // A missing file: the same status and output; the message shows the
    // name lossily (util-linux: raw bytes), left to the read layer's
    // messages (applets/last/report.rs).
    let ours = run(s.applet("last").arg("-f").arg(&missing), None);
    let theirs = run(peer("last").arg("-f").arg(&missing), None);
    assert_eq!(
        (ours.status.code(), &ours.stdout),
        (theirs.status.code(), &theirs.stdout)
    );
    assert!(ours.stderr.starts_with(b"last: cannot open "));
    // The "wtmp.\xff\xfe begins" line names the file byte for byte.
    let out = run(s.applet("last").arg("-f").arg(&file), None);
    let want = b"wtmp.\xff\xfe begins ";
    assert!(
        out.stdout.windows(want.len()).any(|w| w == want),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // utmpdump -o writes to the byte-exact name.
    let dumped = s.dir.join(arg(b"dump.\xfd"));
    let out = run(
        s.applet("utmpdump")
            .arg(&file)
            .args(["-o".as_ref(), dumped.as_os_str()]),
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::read(&dumped).unwrap().starts_with(b"[7] [00001]"));
}

#[test]
fn lastlog_takes_a_non_utf8_user_as_bytes() {
    let s = Scratch::new("lastlog-bytes");
    let user = arg(b"n\xffbody");
    assert_same_run(&s, "lastlog", "lastlog", &["-u".as_ref(), user]);
    let out = run(s.applet("lastlog").arg("-u").arg(user), None);
    assert_eq!(out.stderr, b"lastlog: Unknown user or range: n\xffbody\n");
}

#[test]
fn a_full_stderr_too_is_an_exit_status_not_a_panic() {
    let s = Scratch::new("full-stderr");
    let empty = s.write("empty", b"");
    let full = || File::options().write(true).open("/dev/full").unwrap();
    // stdout and stderr full: the write error cannot be told, exit 1 says it.
    let out = s
        .applet("who")
        .args(["-q".as_ref(), empty.as_os_str()])
        .stdout(full())
        .stderr(full())
        .status()
        .unwrap();
    assert_eq!(out.code(), Some(1));
    // A usage error into a full stderr: coreutils' status, 1 (utmpset: 100).
    for (applet, bogus, status) in [("who", "--bogus", 1), ("utmpset", "--bogus", 100)] {
        let out = s
            .applet(applet)
            .arg(bogus)
            .stdout(Stdio::null())
            .stderr(full())
            .status()
            .unwrap();
        assert_eq!(out.code(), Some(status), "{applet} {bogus}");
    }
}
