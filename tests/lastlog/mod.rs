//! lastlog against shadow 4.13's lastlog: both run with `-R DIR` on a
//! generated root (etc/passwd, etc/login.defs, var/log/lastlog), and must
//! print the same bytes, messages and exit codes. shadow's `-R` chroots,
//! so these comparisons need root; utmpbox reads under DIR either way.

use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::process::Output;

use crate::util::{assert_same, peer, run, Scratch};
use crate::utmpfile::crc32;

const NOW_ISH: i64 = 1_764_180_660; // 2025-11-26 18:11:00 UTC

/// Users with every passwd quirk glibc accepts or skips, and uids that
/// share, repeat and run past LASTLOG_UID_MAX.
const QUIRKY_PASSWD: &str = "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1::/:/usr/sbin/nologin
# a comment
bob:x:1000:1000::/home/bob:/bin/sh

   carol:x:1001:1001::/:/bin/sh
dave:x:1002:1002::/:/bin/sh
badline
eve:x:abc:1::/:/bin/sh
frank:x:60000:1::/:/bin/sh
big:x:4000000000:1::/:/bin/sh
short:x:1003:1003
bob:x:1005:1005::/:/bin/sh
dupuid:x:1000:1::/:/bin/sh
neg:x:-5:1::/:/bin/sh
sp:x: 1004:1::/:/bin/sh
plus:x:+1006:1::/:/bin/sh
+compat:x::::
-minus:x:1007:1::/:/bin/sh
:x:1008:1::/:/bin/sh
";

/// One user per uid and per name, so a name-keyed file holds the same data.
const CLEAN_PASSWD: &str = "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1::/:/usr/sbin/nologin
bob:x:1000:1000::/home/bob:/bin/sh
carol:x:1001:1001::/:/bin/sh
dave:x:1002:1002::/:/bin/sh
erin:x:1003:1003::/:/bin/sh
frank:x:60000:1::/:/bin/sh
nobody:x:65534:65534::/:/bin/sh
";

/// (uid, name, time, line, host): names for the native file, from CLEAN_PASSWD.
type Login = (u32, &'static str, i64, &'static [u8], &'static [u8]);

fn logins() -> Vec<Login> {
    vec![
        (0, "root", NOW_ISH, b"pts/0", b"192.168.1.10"),
        (
            1000,
            "bob",
            1_735_787_045,
            b"pts/3",
            b"fe80::1234:5678:9abc:def0%eth0",
        ),
        (
            1002,
            "dave",
            1_764_072_000,
            b"ssh",
            b"very.long.hostname.that.exceeds.forty.two.chars.example.com",
        ),
        (
            1003,
            "erin",
            1_720_000_000,
            b"tty1234567890",
            b"2001:db8::1",
        ),
        // Before 1970, and a host of exactly the column's 42 bytes.
        (
            1001,
            "carol",
            -31_536_000,
            b"console",
            b"abcdefghijabcdefghijabcdefghijabcdefghij42",
        ),
        (60000, "frank", 1_600_000_000, b"pts/9", b""),
    ]
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// shadow's `lastlog -R` chroots, so the comparisons need root. Without it
/// the test fails loudly: a skipped comparison must not count as a pass.
macro_rules! need_root {
    () => {
        assert!(
            is_root(),
            "this test must run as root: shadow's lastlog -R chroots"
        );
    };
}

struct Root {
    scratch: Scratch,
    dir: PathBuf,
}

impl Root {
    fn new(name: &str, passwd: &str, login_defs: Option<&str>) -> Root {
        let scratch = Scratch::new(name);
        let dir = scratch.path("root");
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::create_dir_all(dir.join("var/log/utmpbox")).unwrap();
        std::fs::write(dir.join("etc/passwd"), passwd).unwrap();
        if let Some(defs) = login_defs {
            std::fs::write(dir.join("etc/login.defs"), defs).unwrap();
        }
        Root { scratch, dir }
    }

    fn legacy(&self) -> PathBuf {
        self.dir.join("var/log/lastlog")
    }

    fn native(&self) -> PathBuf {
        self.dir.join("var/log/utmpbox/lastlog")
    }

    /// A sparse legacy file: each entry written at uid * size.
    fn write_legacy(&self, size: usize, entries: &[(u32, i64, &[u8], &[u8])]) {
        let mut file = std::fs::File::create(self.legacy()).unwrap();
        for &(uid, time, line, host) in entries {
            file.seek(SeekFrom::Start(uid as u64 * size as u64))
                .unwrap();
            file.write_all(&legacy_entry(size, time, line, host))
                .unwrap();
        }
    }

    fn ours(&self, args: &[&str], tz: &str) -> Output {
        let mut cmd = self.scratch.applet("lastlog");
        cmd.env("TZ", tz);
        // Inside the root, as shadow sees paths after its chroot.
        cmd.env("UTMPBOX_LOGDIR", "/var/log/utmpbox");
        cmd.arg("-R").arg(&self.dir).args(args);
        run(&mut cmd, None)
    }

    fn theirs(&self, args: &[&str], tz: &str) -> Output {
        let mut cmd = peer("lastlog");
        cmd.env("TZ", tz);
        cmd.arg("-R").arg(&self.dir).args(args);
        run(&mut cmd, None)
    }
}

#[track_caller]
fn same_output(ours: &Output, theirs: &Output, what: &str) {
    assert_same(&ours.stdout, &theirs.stdout, format!("{what}: stdout"));
    assert_same(&ours.stderr, &theirs.stderr, format!("{what}: stderr"));
    assert_eq!(ours.status.code(), theirs.status.code(), "{what}: status");
}

#[track_caller]
fn compare(root: &Root, args: &[&str], tz: &str) {
    let ours = root.ours(args, tz);
    let theirs = root.theirs(args, tz);
    same_output(&ours, &theirs, &format!("lastlog {args:?} TZ={tz}"));
}

fn legacy_entry(size: usize, time: i64, line: &[u8], host: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; size];
    let at = if size == 296 {
        b[0..8].copy_from_slice(&time.to_le_bytes());
        8
    } else {
        b[0..4].copy_from_slice(&(time as i32).to_le_bytes());
        4
    };
    b[at..at + line.len().min(32)].copy_from_slice(&line[..line.len().min(32)]);
    b[at + 32..at + 32 + host.len()].copy_from_slice(host);
    b
}

/// A native lastlog, written from docs/FORMAT.md's tables.
fn native_file(entries: &[(&str, i64, &[u8], &[u8])]) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    out[0..8].copy_from_slice(b"UTMPBOX\0");
    out[8..10].copy_from_slice(&1u16.to_le_bytes());
    out[10..12].copy_from_slice(&64u16.to_le_bytes());
    out[12..16].copy_from_slice(&512u32.to_le_bytes());
    out[16..20].copy_from_slice(&3u32.to_le_bytes());
    let crc = crc32(&out[..60]);
    out[60..64].copy_from_slice(&crc.to_le_bytes());
    for &(user, time, line, host) in entries {
        let mut r = [0u8; 512];
        r[0..2].copy_from_slice(&7i16.to_le_bytes());
        r[16..24].copy_from_slice(&(time * 1_000_000).to_le_bytes());
        r[40..40 + line.len()].copy_from_slice(line);
        r[76..76 + user.len()].copy_from_slice(user.as_bytes());
        r[140..140 + host.len()].copy_from_slice(host);
        let crc = crc32(&r[..508]);
        r[508..].copy_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&r);
    }
    out
}

fn legacy_logins() -> Vec<(u32, i64, &'static [u8], &'static [u8])> {
    logins()
        .into_iter()
        .map(|(uid, _, t, l, h)| (uid, t, l, h))
        .collect()
}

/// A POSIX TZ with DST rules (no zone files needed inside the root).
const DST_TZ: &str = "CET-1CEST,M3.5.0,M10.5.0/3";

const LISTINGS: &[&[&str]] = &[
    &[],
    &["-u", "bob"],
    &["-u", "1000"],
    &["-u", "dupuid"],
    &["-u", "-1001"],
    &["-u", "1000-1002"],
    &["-u", "1001-"],
    &["-u", "0"],
    &["-u", "4294968296"],
    &["-u", ""],
    &["-u", " 1002"],
    &["-u", "+1002"],
    &["-u", "1007"],
    &["-u", "7777"],
    &["--user=dave"],
    &["--us", "dave"],
    &["-ubob"],
    &["-u", "bob", "-u", "dave"],
    &["-t", "100000"],
    &["-b", "0"],
    &["-b", "100000"],
];

#[test]
fn legacy_listing_matches_shadow() {
    need_root!();
    let root = Root::new("ll-legacy", QUIRKY_PASSWD, None);
    root.write_legacy(292, &legacy_logins());
    for tz in ["UTC", DST_TZ] {
        for args in LISTINGS {
            compare(&root, args, tz);
        }
    }
}

#[test]
fn named_zone_inside_the_root() {
    need_root!();
    // shadow reads zone files inside its chroot; give it the same one.
    let root = Root::new("ll-zone", CLEAN_PASSWD, None);
    let zone = root.dir.join("usr/share/zoneinfo/America");
    std::fs::create_dir_all(&zone).unwrap();
    std::fs::copy(
        "/usr/share/zoneinfo/America/New_York",
        zone.join("New_York"),
    )
    .unwrap();
    root.write_legacy(292, &legacy_logins());
    compare(&root, &[], "America/New_York");
    // A zone missing inside the root: shadow, chrooted, falls back to UTC;
    // utmpbox reads no zone files under -R and uses the host's (COMPAT.md).
    let ours = String::from_utf8(root.ours(&["-u", "root"], "Europe/Paris").stdout).unwrap();
    let theirs = String::from_utf8(root.theirs(&["-u", "root"], "Europe/Paris").stdout).unwrap();
    assert!(ours.ends_with("Wed Nov 26 19:11:00 +0100 2025\n"), "{ours}");
    assert!(
        theirs.ends_with("Wed Nov 26 18:11:00 +0000 2025\n"),
        "{theirs}"
    );
}

#[test]
fn days_filters_match_shadow() {
    need_root!();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let root = Root::new("ll-days", CLEAN_PASSWD, None);
    let day = 86_400;
    root.write_legacy(
        292,
        &[
            (0, now - 2 * day - 60, b"pts/0", b"a"),
            (1000, now - 10 * day - 60, b"pts/1", b"b"),
            (1001, now - 400 * day, b"pts/2", b"c"),
            (1002, now + 3 * day, b"pts/3", b"future"),
        ],
    );
    for args in [
        &["-t", "1"][..],
        &["-t", "3"],
        &["-t", "11"],
        &["-t", "0x10"],
        &["-t", "010"],
        &["-t", "-1"],
        &["-b", "3"],
        &["-b", "11"],
        &["-b", "-1"],
        &["-b", "3", "-t", "11"],
        &["-t", "3", "-u", "1000-"],
        &["-t", "0"],
    ] {
        compare(&root, args, "UTC");
    }
}

#[test]
fn login_defs_uid_max_matches_shadow() {
    need_root!();
    for defs in [
        "LASTLOG_UID_MAX 1001\n",
        "# comment\n  LASTLOG_UID_MAX\t\"0x3e9\"  \n",
        "LASTLOG_UID_MAX 010\n",
        "LASTLOG_UID_MAX bad\n",
        "LASTLOG_UID_MAX 5\nLASTLOG_UID_MAX 1000\n",
        "LASTLOG_UID_MAX=5\n",
        "LASTLOG_UID_MAX -1\n",
        "LASTLOG_UID_MAX 4294967296\n",
    ] {
        let root = Root::new("ll-defs", QUIRKY_PASSWD, Some(defs));
        root.write_legacy(292, &legacy_logins());
        for args in [
            &[][..],
            &["-u", "999-1002"],
            &["-u", "1002-"],
            &["-u", "60000"],
        ] {
            compare(&root, args, "UTC");
        }
    }
}

#[test]
fn errors_match_shadow() {
    need_root!();
    let root = Root::new("ll-errors", QUIRKY_PASSWD, Some("LASTLOG_UID_MAX 50000\n"));
    root.write_legacy(292, &legacy_logins());
    for args in [
        &["-u", "zed"][..],
        &["-u", "5-x"],
        &["-u", "-"],
        &["-u", "99999999999999999999"],
        &["-u", "neg"],
        &["-u", "+compat"],
        &["-t", "abc"],
        &["-b", ""],
        &["-t", "5x"],
        &["-t", "abc", "-u", "zed"],
        &["-u", "zed", "-t", "abc"],
        &["extra"],
        &["extra", "-u", "zed"],
        &["-C"],
        &["-S"],
        &["-C", "-S", "-u", "bob"],
        &["-x"],
        &["-a"],
        &["--bogus"],
        &["-u"],
        &["--time"],
        &["-t", "x", "-h"],
        &["--", "-u"],
    ] {
        compare(&root, args, "UTC");
    }
    // No lastlog file at all.
    std::fs::remove_file(root.legacy()).unwrap();
    compare(&root, &[], "UTC");
    compare(&root, &["-S", "-u", "bob"], "UTC");
}

#[test]
fn root_errors_match_shadow() {
    need_root!();
    let root = Root::new("ll-root", CLEAN_PASSWD, None);
    let scratch = &root.scratch;
    let file = scratch.write("plainfile", b"x");
    let cases: Vec<Vec<String>> = vec![
        vec!["-R".into(), "relative".into()],
        vec!["-R".into(), "/nonexistent/utmpbox".into()],
        vec!["-R".into(), file.display().to_string()],
        vec!["-R".into()],
        vec![
            "-R".into(),
            root.dir.display().to_string(),
            "--root".into(),
            root.dir.display().to_string(),
        ],
    ];
    for args in cases {
        let mut ours = scratch.applet("lastlog");
        let ours = run(ours.args(&args), None);
        let theirs = run(peer("lastlog").args(&args), None);
        same_output(&ours, &theirs, &format!("{args:?}"));
    }
}

#[test]
fn sparse_empty_and_truncated_files_match_shadow() {
    need_root!();
    let root = Root::new("ll-sparse", CLEAN_PASSWD, None);
    std::fs::write(root.legacy(), b"").unwrap();
    compare(&root, &[], "UTC");
    root.write_legacy(292, &legacy_logins());
    // Cut the last (uid 60000) entry in half: shadow counts it as never.
    let len = std::fs::metadata(root.legacy()).unwrap().len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(root.legacy())
        .unwrap();
    file.set_len(len - 100).unwrap();
    compare(&root, &[], "UTC");
    // A hole far past the data (20 MB apparent size).
    file.set_len(20_000_000).unwrap();
    compare(&root, &[], "UTC");
}

#[test]
fn musl_296_file_prints_what_shadow_prints_for_292() {
    need_root!();
    let glibc = Root::new("ll-292", CLEAN_PASSWD, None);
    glibc.write_legacy(292, &legacy_logins());
    let musl = Root::new("ll-296", CLEAN_PASSWD, None);
    musl.write_legacy(296, &legacy_logins());
    for tz in ["UTC", DST_TZ] {
        for args in LISTINGS {
            let ours = musl.ours(args, tz);
            let theirs = glibc.theirs(args, tz);
            same_output(&ours, &theirs, &format!("296 {args:?} TZ={tz}"));
        }
    }
}

fn native_logins() -> Vec<(&'static str, i64, &'static [u8], &'static [u8])> {
    logins()
        .into_iter()
        .map(|(_, name, t, l, h)| (name, t, l, h))
        .collect()
}

#[test]
fn native_file_prints_what_shadow_prints_for_legacy() {
    need_root!();
    let glibc = Root::new("ll-legacy-src", CLEAN_PASSWD, None);
    glibc.write_legacy(292, &legacy_logins());
    let native = Root::new("ll-native", CLEAN_PASSWD, None);
    std::fs::write(native.native(), native_file(&native_logins())).unwrap();
    for tz in ["UTC", DST_TZ] {
        for args in LISTINGS {
            let ours = native.ours(args, tz);
            let theirs = glibc.theirs(args, tz);
            same_output(&ours, &theirs, &format!("native {args:?} TZ={tz}"));
        }
    }
}

#[test]
fn json_output() {
    let root = Root::new("ll-json", CLEAN_PASSWD, None);
    root.write_legacy(
        292,
        &[
            (0, NOW_ISH, b"pts/0", b"192.168.1.10"),
            (1000, 1_735_787_045, b"pts/3", b"a\"b\\c\x1b"),
        ],
    );
    let out = root.ours(&["--json", "-u", "-1000"], DST_TZ);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "[\n  \
         {\"user\": \"root\", \"uid\": 0, \"tty\": \"pts/0\", \"host\": \"192.168.1.10\", \"login\": \"2025-11-26T19:11:00+01:00\"},\n  \
         {\"user\": \"daemon\", \"uid\": 1, \"tty\": \"\", \"host\": \"\", \"login\": null},\n  \
         {\"user\": \"bob\", \"uid\": 1000, \"tty\": \"pts/3\", \"host\": \"a\\\"b\\\\c*[\", \"login\": \"2025-01-02T04:04:05+01:00\"}\n]\n"
    );
    let out = root.ours(&["--json", "-u", "7777"], "UTC");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[]\n");
}

#[test]
fn stored_control_bytes_are_escaped_unlike_shadow() {
    need_root!();
    let root = Root::new("ll-escape", CLEAN_PASSWD, None);
    root.write_legacy(
        292,
        &[(1000, NOW_ISH, b"pts/\x1b", b"evil\x1b]0;x\x07\xff")],
    );
    let ours = root.ours(&["-u", "bob"], "UTC");
    let theirs = root.theirs(&["-u", "bob"], "UTC");
    let row = |o: &Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .nth(1)
            .map(str::to_owned)
    };
    let expected = format!(
        "{:<16} {:<8} {:<42}{}",
        "bob", "pts/*[", "evil*[]0;x*G\\377", "Wed Nov 26 18:11:00 +0000 2025"
    );
    assert_eq!(row(&ours).unwrap(), expected);
    // shadow writes the raw bytes: the escape sequence reaches the terminal.
    assert!(theirs.stdout.windows(3).any(|w| w == b"\x1b]0"));
}

#[test]
fn help_lists_json() {
    let root = Root::new("ll-help", CLEAN_PASSWD, None);
    let ours = run(root.scratch.applet("lastlog").arg("--help"), None);
    let theirs = run(peer("lastlog").arg("--help"), None);
    assert_eq!(ours.status.code(), Some(0));
    let json = b"      --json                    print the records as a JSON array\n";
    let mut expected = theirs.stdout.clone();
    let at = expected.len() - 1; // before the final blank line
    expected.splice(at..at, json.iter().copied());
    assert_same(&ours.stdout, &expected, "--help");
}

#[test]
fn attached_root_value_is_honoured() {
    need_root!();
    let root = Root::new("ll-attached", CLEAN_PASSWD, None);
    root.write_legacy(292, &legacy_logins());
    let mut cmd = root.scratch.applet("lastlog");
    cmd.arg(format!("-R{}", root.dir.display()));
    let ours = run(&mut cmd, None);
    // shadow ignores an attached -R value (no chroot); it must be split.
    let theirs = root.theirs(&[], "UTC");
    same_output(&ours, &theirs, "-RDIR");
}

#[test]
fn unknown_login_defs_items_are_not_reported() {
    need_root!();
    let root = Root::new("ll-defs-unknown", CLEAN_PASSWD, Some("FOO bar\n"));
    root.write_legacy(292, &legacy_logins());
    let ours = root.ours(&["-u", "bob"], "UTC");
    let theirs = root.theirs(&["-u", "bob"], "UTC");
    assert_same(&ours.stdout, &theirs.stdout, "stdout");
    assert_eq!(ours.stderr, b"");
    assert_eq!(
        theirs.stderr,
        b"configuration error - unknown item 'FOO' (notify administrator)\n"
    );
}

#[test]
fn version_names_utmpbox() {
    let root = Root::new("ll-version", CLEAN_PASSWD, None);
    let out = run(root.scratch.applet("lastlog").arg("--version"), None);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("lastlog (utmpbox) "));
}

// After need_root!, which it uses.
mod daemon;
mod store;

#[test]
fn unprivileged_root_reads_under_dir() {
    need_root!();
    use std::os::unix::process::CommandExt;
    let root = Root::new("ll-nobody", CLEAN_PASSWD, None);
    root.write_legacy(292, &legacy_logins());
    for args in [&[][..], &["-u", "1000-"]] {
        // chroot(2) fails with EPERM for nobody: the files are read under DIR.
        let mut cmd = root.scratch.applet("lastlog");
        cmd.env("UTMPBOX_LOGDIR", "/var/log/utmpbox");
        cmd.arg("-R").arg(&root.dir).args(args);
        cmd.uid(65534).gid(65534);
        let ours = run(&mut cmd, None);
        let theirs = root.theirs(args, "UTC");
        same_output(&ours, &theirs, &format!("as nobody {args:?}"));
    }
}

#[test]
fn symlinks_resolve_inside_the_root() {
    need_root!();
    let root = Root::new("ll-symlink", CLEAN_PASSWD, None);
    // A file outside the root, reached by an absolute link inside it.
    let outside = root.scratch.path("outside-lastlog");
    std::fs::write(&outside, legacy_entry(292, NOW_ISH, b"tty1", b"outside")).unwrap();
    std::os::unix::fs::symlink(&outside, root.legacy()).unwrap();
    compare(&root, &[], "UTC");
    compare(&root, &["-S", "-u", "root"], "UTC");
    let bytes = std::fs::read(&outside).unwrap();
    assert_eq!(bytes, legacy_entry(292, NOW_ISH, b"tty1", b"outside"));
}
