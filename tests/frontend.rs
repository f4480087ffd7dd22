//! The front end every applet shares: the dispatcher (`utmpbox APPLET`,
//! `--list`, `--install`), output into a full disk, and arguments that
//! are not UTF-8.

use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::util::{binary, run, Scratch};
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
    let runs: [(&str, &[&std::ffi::OsStr]); 10] = [
        ("last", &["-f".as_ref(), file]),
        ("last", &["--json".as_ref(), "-f".as_ref(), file]),
        ("lastb", &["-f".as_ref(), file]),
        ("lastlog", &[]),
        ("lastlog", &["--json".as_ref()]),
        ("uptime", &[]),
        ("users", &[file]),
        ("utmpdump", &[file]),
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
        let target = std::fs::read_link(dir.join(applet)).unwrap();
        assert_eq!(target, binary(), "{applet}");
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
    assert_eq!(std::fs::read_link(dir.join("last")).unwrap(), binary());
    // --force replaces both.
    let out = install(&dir, true);
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    for name in ["w", "who"] {
        assert_eq!(std::fs::read_link(dir.join(name)).unwrap(), binary());
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
