//! What only utmpbox's utmpdump does: native and utmpx files, times past
//! 2038, `-o` through a temporary file, `-f` on any format, corrupt records.

use super::gen::{glibc_file, random_raw, undumpable_raw, Raw, Rng};
use super::{ours, theirs};
use crate::util::{assert_same, Scratch};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

#[test]
fn native_files_round_trip_every_time() {
    // Text -> native -> text gives the same text, for times far outside
    // what glibc can hold (after 2038, before 1901, year 0 and beyond 9999).
    let s = Scratch::new("ud-native");
    let text = "\
[2] [00000] [~~  ] [reboot  ] [~           ] [6.1.0-13-amd64      ] [0.0.0.0        ] [2100-01-01T00:00:00,000001+00:00]
[7] [01234] [ts/0] [alice   ] [pts/0       ] [2001:db8::1         ] [2001:db8::1    ] [1800-06-15T12:30:45,500000+00:00]
[8] [01234] [ts/0] [        ] [pts/0       ] [                    ] [0.0.0.0        ] [0000-01-01T00:00:00,000000+00:00]
[7] [99999] [ab  ] [a-user-name-much-longer-than-32-bytes-ok] [tty1        ] [::ffff:10.0.0.1     ] [::ffff:10.0.0.1] [-0044-03-15T12:00:00,000000+00:00]
[1] [20021] [~~  ] [runlevel] [~~          ] [                    ] [0.0.0.0        ] [294247-01-10T04:00:54,775807+00:00]
[6] [00042] [tty2] [LOGIN   ] [tty2        ] [                    ] [0.0.0.0        ] [-290308-12-21T19:59:05,224192+00:00]
";
    let native = s.path("wtmp.native");
    let out = ours(
        &s,
        &["-r", "--format", "native", "-o", native.to_str().unwrap()],
        Some(text.as_bytes()),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&native).unwrap();
    assert_eq!(&bytes[..8], b"UTMPBOX\0");
    assert_eq!(bytes.len(), 64 + 6 * 512);
    let back = ours(&s, &[native.to_str().unwrap()], None);
    assert_same(&back.stdout, text.as_bytes(), "native dump");
    assert_eq!(
        back.stderr,
        format!("Utmp dump of {}\n", native.display()).into_bytes()
    );
    // The same text cannot become glibc: the first line is after 2038.
    let glibc = ours(&s, &["-r"], Some(text.as_bytes()));
    assert_eq!(glibc.status.code(), Some(1));
    assert!(glibc.stdout.is_empty());
}

#[test]
fn legacy_file_migrates_to_native_and_back_unchanged() {
    let s = Scratch::new("ud-migrate");
    let mut rng = Rng::new(5);
    for n in 0..20 {
        // Half the files without spaces in user, line and host, which the
        // text format cannot carry: those come back as the very same text.
        let mut records: Vec<Raw> = (0..1 + rng.below(30))
            .map(|_| undumpable_raw(&mut rng))
            .collect();
        if n % 2 == 0 {
            for r in &mut records {
                for field in [&mut r.user, &mut r.line, &mut r.host] {
                    field.retain(|&b| b != b' ');
                }
            }
        }
        let wtmp = s.write(&format!("wtmp{n}"), &glibc_file(&records));
        let text = theirs(&[wtmp.to_str().unwrap()], None).stdout;
        let native = s.path(&format!("wtmp{n}.native"));
        let to_native = ours(
            &s,
            &["-r", "--format=native", "-o", native.to_str().unwrap()],
            Some(&text),
        );
        assert!(to_native.status.success());
        let native_text = ours(&s, &[native.to_str().unwrap()], None).stdout;
        // What util-linux reads back from that text (fields cut at their
        // first space, session and exit status gone), dumped again.
        let glibc_again = theirs(&["-r"], Some(&text)).stdout;
        let glibc_path = s.write(&format!("wtmp{n}.again"), &glibc_again);
        let expected = theirs(&[glibc_path.to_str().unwrap()], None).stdout;
        assert_same(
            &native_text,
            &expected,
            "native file dumps to the same text",
        );
        if n % 2 == 0 {
            assert_same(&native_text, &text, "no spaces: the very same text");
        }
        // Back to glibc: the bytes util-linux writes for that text.
        let back = ours(&s, &["-r", "--format", "glibc"], Some(&native_text));
        assert_same(
            &back.stdout,
            &theirs(&["-r"], Some(&text)).stdout,
            "back to glibc",
        );
    }
}

#[test]
fn utmpx_400_files_dump_like_their_glibc_twins() {
    let s = Scratch::new("ud-utmpx");
    let mut rng = Rng::new(6);
    for n in 0..30 {
        let records: Vec<Raw> = (0..1 + rng.below(30))
            .map(|_| undumpable_raw(&mut rng))
            .collect();
        let glibc = s.write(&format!("g{n}"), &glibc_file(&records));
        let wide: Vec<u8> = records.iter().flat_map(|r| r.encode(true)).collect();
        let utmpx = s.write(&format!("x{n}"), &wide);
        let text = theirs(&[glibc.to_str().unwrap()], None).stdout;
        let a = ours(&s, &[utmpx.to_str().unwrap()], None);
        assert_same(&a.stdout, &text, "utmpx dump");
        // -r --format utmpx writes util-linux's glibc records, widened.
        let written = ours(&s, &["-r", "--format", "utmpx"], Some(&text));
        let expected: Vec<u8> = theirs(&["-r"], Some(&text))
            .stdout
            .chunks(384)
            .flat_map(|r| Raw::decode_glibc(r).encode(true))
            .collect();
        assert_same(&written.stdout, &expected, "utmpx bytes");
    }
}

#[test]
fn corrupt_native_record_is_reported_never_misread() {
    let s = Scratch::new("ud-corrupt");
    let text = "\
[7] [00001] [ts/0] [alice   ] [pts/0       ] [h                   ] [0.0.0.0        ] [2026-11-20T09:15:00,000000+00:00]
[7] [00002] [ts/1] [bob     ] [pts/1       ] [h                   ] [0.0.0.0        ] [2026-11-20T09:16:00,000000+00:00]
[7] [00003] [ts/2] [carol   ] [pts/2       ] [h                   ] [0.0.0.0        ] [2026-11-20T09:17:00,000000+00:00]
";
    let native = s.path("wtmp");
    let out = ours(
        &s,
        &["-r", "--format", "native", "-o", native.to_str().unwrap()],
        Some(text.as_bytes()),
    );
    assert!(out.status.success());
    let mut bytes = std::fs::read(&native).unwrap();
    bytes[64 + 512 + 80] ^= 0x20; // bob's user name
    std::fs::write(&native, &bytes).unwrap();
    let path = native.to_str().unwrap();
    let a = ours(&s, &[path], None);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        format!("{}\n{}\n", lines[0], lines[2])
    );
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        format!("Utmp dump of {path}\nutmpdump: {path}: record 1 is corrupt (checksum mismatch), skipped\n")
    );
    assert_eq!(a.status.code(), Some(1));
}

#[test]
fn output_file_keeps_mode_follows_symlinks_and_writes_devices() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("ud-output");
    let mut rng = Rng::new(9);
    let records: Vec<Raw> = (0..3).map(|_| random_raw(&mut rng)).collect();
    let wtmp = s.write("wtmp", &glibc_file(&records));
    let wtmp = wtmp.to_str().unwrap();
    let expected = theirs(&[wtmp], None).stdout;
    // An existing file keeps its mode.
    let out = s.write("out.txt", b"old");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert!(ours(&s, &["-o", out.to_str().unwrap(), wtmp], None)
        .status
        .success());
    assert_eq!(std::fs::read(&out).unwrap(), expected);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // A symlink, even a dangling one, is written through, not replaced.
    let link = s.path("link.txt");
    std::os::unix::fs::symlink("target.txt", &link).unwrap();
    assert!(ours(&s, &["-o", link.to_str().unwrap(), wtmp], None)
        .status
        .success());
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(s.path("target.txt")).unwrap(), expected);
    // A device is written directly.
    assert!(ours(&s, &["-o", "/dev/null", wtmp], None).status.success());
    // An output in a missing directory is the peer's error.
    let a = ours(&s, &["-o", "/nonexistent/out", wtmp], None);
    assert_eq!(a.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&a.stderr)
        .ends_with("utmpdump: cannot open /nonexistent/out: No such file or directory\n"));
}

#[test]
fn glibc_refuses_a_time_after_2038_and_leaves_output_alone() {
    let s = Scratch::new("ud-2038");
    let text = "\
[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [0.0.0.0        ] [2026-11-20T09:15:00,000000+00:00]
[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [0.0.0.0        ] [2040-11-20T09:15:00,000000+00:00]
";
    let out = s.write("wtmp", b"previous contents");
    let a = ours(
        &s,
        &["-r", "--format", "glibc", "-o", out.to_str().unwrap()],
        Some(text.as_bytes()),
    );
    assert_eq!(a.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        "Utmp undump of /dev/stdin\nutmpdump: /dev/stdin: line 2: time 2040-11-20T09:15:00,000000+00:00 does not fit the glibc format (1901-12-13 to 2038-01-19); use --format utmpx or native\n"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"previous contents");
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(&s.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}"); // bin/ and wtmp
                                             // The wide formats hold it.
    let x = ours(
        &s,
        &["-r", "--format", "utmpx", "-o", out.to_str().unwrap()],
        Some(text.as_bytes()),
    );
    assert!(x.status.success());
    assert_eq!(std::fs::read(&out).unwrap().len(), 800);
}

/// Our `utmpdump -f PATH`, its stdout to read; a watchdog kills it after
/// 30 s, so a follow that never prints fails instead of hanging.
fn follow(s: &Scratch, path: &Path) -> (Child, BufReader<ChildStdout>) {
    let mut cmd: Command = s.applet("utmpdump");
    cmd.arg("-f")
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        let _ = Command::new("kill").arg("-9").arg(&pid).status();
    });
    let reader = BufReader::new(child.stdout.take().unwrap());
    (child, reader)
}

#[test]
fn follow_prints_the_last_ten_then_what_is_appended() {
    let s = Scratch::new("ud-follow");
    let mut rng = Rng::new(8);
    let records: Vec<Raw> = (0..15).map(|_| random_raw(&mut rng)).collect();
    let path = s.write("wtmp", &glibc_file(&records));
    let expected_all = theirs(&[path.to_str().unwrap()], None).stdout;
    let expected_lines: Vec<&[u8]> = expected_all.split_inclusive(|&b| b == b'\n').collect();
    let (mut child, mut reader) = follow(&s, &path);
    let mut got = Vec::new();
    for _ in 0..10 {
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line).unwrap();
        got.push(line);
    }
    assert_eq!(
        got,
        expected_lines[5..]
            .iter()
            .map(|l| l.to_vec())
            .collect::<Vec<_>>()
    );
    // Append one record in two writes: nothing shows until it is whole.
    let extra = random_raw(&mut rng);
    let bytes = extra.encode(false);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    use std::io::Write;
    file.write_all(&bytes[..100]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    file.write_all(&bytes[100..]).unwrap();
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line).unwrap();
    let single = s.write("single", &bytes);
    assert_same(
        &line,
        &theirs(&[single.to_str().unwrap()], None).stdout,
        "appended record",
    );
    // Removing the file ends the follow, as util-linux does.
    drop(file);
    std::fs::remove_file(&path).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn follow_reads_native_files_too() {
    let s = Scratch::new("ud-follow-native");
    let line = |user: &str| {
        format!("[7] [01234] [ts/0] [{user:<8}] [pts/0       ] [h                   ] [0.0.0.0        ] [2050-01-01T00:00:00,000000+00:00]\n")
    };
    let native = s.path("wtmp");
    let first = line("alice");
    let made = ours(
        &s,
        &["-r", "--format", "native", "-o", native.to_str().unwrap()],
        Some(first.as_bytes()),
    );
    assert!(made.status.success());
    let (mut child, mut reader) = follow(&s, &native);
    let mut got = String::new();
    reader.read_line(&mut got).unwrap();
    assert_eq!(got, first);
    // Append bob's record (the last 512 bytes of a one-record native file).
    let second = line("bob");
    let one = ours(&s, &["-r", "--format", "native"], Some(second.as_bytes())).stdout;
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&native)
        .unwrap();
    use std::io::Write;
    file.write_all(&one[one.len() - 512..]).unwrap();
    drop(file);
    got.clear();
    reader.read_line(&mut got).unwrap();
    assert_eq!(got, second);
    std::fs::remove_file(&native).unwrap();
    assert!(child.wait().unwrap().success());
}

/// A native log with `users` as records (via `utmpdump -r`), then a
/// reserve of `reserve` zero records, as wtmpd leaves its files.
fn native_with_reserve(
    s: &Scratch,
    name: &str,
    users: &[&str],
    reserve: usize,
) -> (std::path::PathBuf, Vec<String>) {
    let lines: Vec<String> = users
        .iter()
        .enumerate()
        .map(|(i, user)| format!("[7] [{:05}] [ts/0] [{user:<8}] [pts/0       ] [h                   ] [0.0.0.0        ] [2050-01-01T00:00:00,000000+00:00]\n", i + 1))
        .collect();
    let path = s.path(name);
    let made = ours(
        s,
        &["-r", "--format", "native", "-o", path.to_str().unwrap()],
        Some(lines.concat().as_bytes()),
    );
    assert!(made.status.success());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.resize(bytes.len() + reserve * 512, 0);
    std::fs::write(&path, &bytes).unwrap();
    (path, lines)
}

#[test]
fn a_native_reserve_is_free_space_not_corrupt_records() {
    let s = Scratch::new("ud-reserve");
    let (path, lines) = native_with_reserve(&s, "wtmp", &["alice", "bob", "carol"], 6);
    let name = path.to_str().unwrap();
    let a = ours(&s, &[name], None);
    assert_eq!(String::from_utf8_lossy(&a.stdout), lines.concat());
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        format!("Utmp dump of {name}\n")
    );
    assert_eq!(a.status.code(), Some(0));
    // A zero record with a record after it is corrupt, as any other.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[64 + 512..64 + 1024].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    let a = ours(&s, &[name], None);
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        format!("{}{}", lines[0], lines[2])
    );
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        format!("Utmp dump of {name}\nutmpdump: {name}: record 1 is corrupt (checksum mismatch), skipped\n")
    );
    assert_eq!(a.status.code(), Some(1));
}

#[test]
fn follow_prints_records_written_into_a_native_reserve() {
    use std::os::unix::fs::FileExt;
    let s = Scratch::new("ud-follow-reserve");
    let users = [
        "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10", "u11", "u12",
    ];
    let (path, lines) = native_with_reserve(&s, "wtmp", &users, 4);
    let size = std::fs::metadata(&path).unwrap().len();
    let (mut child, mut reader) = follow(&s, &path);
    // The last ten records are the ten before the reserve.
    for expected in &lines[2..] {
        let mut got = String::new();
        reader.read_line(&mut got).unwrap();
        assert_eq!(&got, expected);
    }
    // Records written in place into the reserve (the size never changes),
    // the first in two writes: nothing shows until it is whole.
    let (_, more) = native_with_reserve(&s, "more", &["dave", "erin"], 0);
    let more_bytes = std::fs::read(s.path("more")).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let at = 64 + 12 * 512;
    file.write_all_at(&more_bytes[64..64 + 100], at).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    file.write_all_at(&more_bytes[64 + 100..64 + 512], at + 100)
        .unwrap();
    let mut got = String::new();
    reader.read_line(&mut got).unwrap();
    assert_eq!(got, more[0]);
    file.write_all_at(&more_bytes[64 + 512..], at + 512)
        .unwrap();
    got.clear();
    reader.read_line(&mut got).unwrap();
    assert_eq!(got, more[1]);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
    drop(file);
    std::fs::remove_file(&path).unwrap();
    assert!(child.wait().unwrap().success());
}
