//! The deliberate differences of docs/COMPAT.md (`## last`), each on
//! its own, and the additions (`--json`, native files, pipes).

use super::gen::*;
use crate::util::{self, Scratch};

/// COMPAT: a file that is not a whole number of records. util-linux
/// 2.38.1 reads misaligned from the end and prints no real entries; utmpbox
/// reads the whole records and warns about the rest.
#[test]
fn partial_record_is_warned_about_and_whole_ones_listed() {
    let s = Scratch::new("last-partial");
    let mut rng = Rng::new(5);
    let recs = history(&mut rng, 1_500_000_000, 30);
    let whole = encode(&recs, false);
    let aligned = s.write("wtmp", &whole);
    let mut cut = whole.clone();
    cut.extend_from_slice(&[0x41; 100]);
    let ragged = s.write("wtmp.ragged", &cut);
    let ours = util::run(s.applet("last").arg("-x").arg("-f").arg(&ragged), None);
    let reference = util::run(util::peer("last").arg("-x").arg("-f").arg(&aligned), None);
    let expected = String::from_utf8_lossy(&escaped_as_ours(&reference.stdout))
        .replace("wtmp begins", "wtmp.ragged begins");
    util::assert_same(&ours.stdout, expected.as_bytes(), "ragged file");
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        format!(
            "last: {}: ignoring 100 trailing bytes (a partial record)\n",
            ragged.display()
        )
    );
    assert_eq!(ours.status.code(), Some(0));
    // What 2.38.1 does instead: it reads misaligned records from the end
    // and lists none of the real entries (nothing, or garbage).
    let theirs = util::run(util::peer("last").arg("-x").arg("-f").arg(&ragged), None);
    assert_ne!(theirs.stdout, ours.stdout);
}

/// COMPAT: a boot followed by another boot before the next shutdown ends
/// in "- crash" at that boot (util-linux 2.40, PR #2383); 2.38.1 runs it
/// on to the shutdown.
#[test]
fn boot_before_boot_is_a_crash() {
    let s = Scratch::new("last-crash");
    let day = 86400;
    let t0 = 1_600_000_000;
    let recs = vec![
        Rec::of_bytes(2, b"~", b"reboot", b"6.1.0", t0),
        Rec::of_bytes(7, b"pts/0", b"alice", b"", t0 + 600),
        Rec::of_bytes(2, b"~", b"reboot", b"6.1.0", t0 + day + 3600),
        Rec::of_bytes(1, b"~", b"shutdown", b"6.1.0", t0 + 2 * day),
        Rec::of_bytes(2, b"~", b"reboot", b"6.1.0", t0 + 2 * day + 60),
    ];
    let path = s.write("wtmp", &encode(&recs, false));
    let ours = util::stdout_of(s.applet("last").arg("-f").arg(&path));
    let theirs = util::stdout_of(&mut util::peer("last").arg("-f").arg(&path));
    let expected = "\
reboot   system boot  6.1.0            Tue Sep 15 12:27   still running
reboot   system boot  6.1.0            Mon Sep 14 13:26 - 12:26  (23:00)
alice    pts/0                         Sun Sep 13 12:36 - crash (1+00:50)
reboot   system boot  6.1.0            Sun Sep 13 12:26 - crash (1+01:00)

wtmp begins Sun Sep 13 12:26:40 2020
";
    util::assert_same(&ours, expected.as_bytes(), "double boot");
    // 2.38.1 differs on that one line only.
    let theirs = String::from_utf8_lossy(&theirs).replace(
        "Sun Sep 13 12:26 - 12:26 (2+00:00)",
        "Sun Sep 13 12:26 - crash (1+01:00)",
    );
    util::assert_same(&ours, theirs.as_bytes(), "2.38.1 apart from the crash line");
}

/// COMPAT: a pipe is refused as every file that is not a regular one
/// (a FIFO would block); 2.38.1 cannot seek it and prints only the
/// trailer after a warning.
#[test]
fn pipe_is_refused() {
    let s = Scratch::new("last-pipe");
    let mut rng = Rng::new(77);
    let bytes = encode(&history(&mut rng, 1_500_000_000, 40), false);
    let ours = util::run(
        s.applet("last").args(["-x", "-f", "/dev/stdin"]),
        Some(&bytes),
    );
    assert_eq!(ours.status.code(), Some(1));
    assert!(ours.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        "last: cannot open /dev/stdin: not a regular file\n"
    );
    let peer_pipe = util::run(util::peer("last").args(["-f", "/dev/stdin"]), Some(&bytes));
    assert_eq!(
        String::from_utf8_lossy(&peer_pipe.stderr),
        "last: seek on /dev/stdin failed: Illegal seek\n"
    );
}

#[test]
fn json_lists_the_same_entries() {
    let s = Scratch::new("last-json");
    let t0 = 1_600_000_000;
    let mut login = Rec::of_bytes(7, b"pts/0", b"alice", b"10.0.0.5", t0 + 60);
    login.addr[..4].copy_from_slice(&[10, 0, 0, 5]);
    let recs = vec![
        Rec::of_bytes(2, b"~", b"reboot", b"6.1.0", t0),
        login,
        Rec::of_bytes(8, b"pts/0", b"", b"", t0 + 3660),
        Rec::of_bytes(7, b"tty1", b"q\"\\\x1b", b"", t0 + 4000),
        Rec::of_bytes(1, b"~", b"shutdown", b"6.1.0", t0 + 7200),
    ];
    let path = s.write("wtmp", &encode(&recs, false));
    let out = util::stdout_of(
        s.applet("last")
            .arg("--json")
            .arg("-x")
            .arg("-f")
            .arg(&path),
    );
    let expected = r#"[
  {"user": "shutdown", "tty": "system down", "host": "6.1.0", "login": "2020-09-13T14:26:40+00:00", "logout": null, "seconds": null, "state": "unknown"},
  {"user": "q\"\\*[", "tty": "tty1", "host": "", "login": "2020-09-13T13:33:20+00:00", "logout": "2020-09-13T14:26:40+00:00", "seconds": 3200, "state": "down"},
  {"user": "alice", "tty": "pts/0", "host": "10.0.0.5", "login": "2020-09-13T12:27:40+00:00", "logout": "2020-09-13T13:27:40+00:00", "seconds": 3600, "state": "ended"},
  {"user": "reboot", "tty": "system boot", "host": "6.1.0", "login": "2020-09-13T12:26:40+00:00", "logout": "2020-09-13T14:26:40+00:00", "seconds": 7200, "state": "ended"}
]
"#;
    util::assert_same(&out, expected.as_bytes(), "json");
}

/// Native files, named with -f and as the default source in the log
/// dir, list exactly as util-linux lists the same records in glibc form.
#[test]
fn native_files_list_like_their_glibc_twins() {
    let s = Scratch::new("last-native");
    let mut rng = Rng::new(512);
    let recs = history(&mut rng, 1_450_000_000, 150);
    std::fs::create_dir_all(s.path("glibc")).unwrap();
    std::fs::create_dir_all(s.path("log")).unwrap();
    let glibc = s.write("glibc/wtmp", &encode(&recs, false));
    let native = s.write("log/wtmp", &encode_native(&recs));
    for extra in [
        &[][..],
        &["-x", "-F"],
        &["-w", "-i", "--time-format", "iso"],
    ] {
        let theirs = util::run(util::peer("last").arg("-f").arg(&glibc).args(extra), None);
        let by_file = util::run(s.applet("last").arg("-f").arg(&native).args(extra), None);
        let by_default = util::run(s.applet("last").args(extra), None);
        let expected = escaped_as_ours(&theirs.stdout);
        util::assert_same(&by_file.stdout, &expected, "native -f");
        util::assert_same(&by_default.stdout, &expected, "native default");
        util::assert_same(&by_default.stderr, &theirs.stderr, "native default stderr");
    }
    // btmp for lastb, the same way.
    let failed: Vec<Rec> = recs.iter().filter(|r| r.kind == 7).cloned().collect();
    let glibc_b = s.write("glibc/btmp", &encode(&failed, false));
    s.write("log/btmp", &encode_native(&failed));
    let theirs = util::stdout_of(util::peer("lastb").arg("-f").arg(&glibc_b));
    let ours = util::stdout_of(&mut s.applet("lastb"));
    util::assert_same(&ours, &escaped_as_ours(&theirs), "native btmp");

    // A corrupt record is reported and skipped, never misread.
    let mut bytes = encode_native(&recs);
    bytes[64 + 512 * 3 + 50] ^= 0x20;
    let broken = s.write("broken", &bytes);
    let mut rest = recs.clone();
    rest.remove(3);
    let twin = s.write("glibc/broken", &encode(&rest, false));
    let ours = util::run(s.applet("last").arg("-x").arg("-f").arg(&broken), None);
    let theirs = util::run(util::peer("last").arg("-x").arg("-f").arg(&twin), None);
    let expected = escaped_as_ours(&theirs.stdout);
    util::assert_same(&ours.stdout, &expected, "corrupt native record");
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        format!(
            "last: {}: record 3 is corrupt (checksum mismatch), skipped\n{}",
            broken.display(),
            String::from_utf8_lossy(&theirs.stderr)
        )
    );
}

/// wtmpd's native logs end in a reserve of zero records: free space, so
/// `last` and `lastb` list the records before it and nothing else.
#[test]
fn a_native_reserve_is_free_space() {
    let s = Scratch::new("last-reserve");
    let mut rng = Rng::new(513);
    let recs = history(&mut rng, 1_460_000_000, 60);
    std::fs::create_dir_all(s.path("glibc")).unwrap();
    std::fs::create_dir_all(s.path("native")).unwrap();
    // The same name: last prints it ("wtmp begins ...").
    let glibc = s.write("glibc/wtmp", &encode(&recs, false));
    let mut bytes = encode_native(&recs);
    bytes.resize(bytes.len() + 512 * 1024, 0);
    let native = s.write("native/wtmp", &bytes);
    for (applet, extra) in [
        ("last", &["-x"][..]),
        ("last", &["-F", "-w"]),
        ("lastb", &[]),
    ] {
        let theirs = util::run(util::peer(applet).arg("-f").arg(&glibc).args(extra), None);
        let ours = util::run(s.applet(applet).arg("-f").arg(&native).args(extra), None);
        util::assert_same(&ours.stdout, &escaped_as_ours(&theirs.stdout), applet);
        util::assert_same(&ours.stderr, &theirs.stderr, applet);
        assert_eq!(ours.status.code(), theirs.status.code());
    }
}

/// A full disk on stdout: the same message and status as util-linux.
#[test]
fn write_errors_match_util_linux() {
    let s = Scratch::new("last-full");
    let mut rng = Rng::new(3);
    let path = s.write(
        "wtmp",
        &encode(&history(&mut rng, 1_500_000_000, 30), false),
    );
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("this test needs /dev/full");
    let run = |mut cmd: std::process::Command| {
        let out = cmd
            .arg("-f")
            .arg(&path)
            .stdout(full.try_clone().unwrap())
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        (out.status.code(), out.stderr)
    };
    assert_eq!(run(s.applet("last")), run(util::peer("last")));
}

/// 64-bit-time files can hold any time at all: nothing panics, and a time
/// libc cannot show is left blank rather than made up.
#[test]
fn extreme_times_do_not_panic() {
    let s = Scratch::new("last-extreme");
    // Ordinary records first, so the file is recognised as 400-byte utmpx.
    let mut recs: Vec<Rec> = (0..60)
        .map(|i| {
            let host = format!("client-{i}.example.org.long.enough.to.fill.fields");
            let mut r = Rec::of_bytes(
                7,
                b"pts/9",
                b"alice",
                host.as_bytes(),
                1_500_000_000 + i * 60,
            );
            r.pid = 0x4141_4141;
            r
        })
        .collect();
    for (i, secs) in [i64::MIN, -(1 << 40), -1, 0, 1 << 40, i64::MAX - 1, i64::MAX]
        .into_iter()
        .enumerate()
    {
        let line = format!("pts/{i}");
        recs.push(Rec::of_bytes(7, line.as_bytes(), b"bob", b"h", secs));
        recs.push(Rec::of_bytes(2, b"~", b"reboot", b"k", secs));
        recs.push(Rec::of_bytes(
            8,
            line.as_bytes(),
            b"",
            b"",
            secs.wrapping_add(60),
        ));
    }
    let path = s.write("wtmp", &encode(&recs, true));
    for extra in [
        &["-x"][..],
        &["-x", "-F"],
        &["--time-format", "iso", "-x"],
        &["--json", "-x"],
        &["-s", "yesterday"],
    ] {
        let out = util::run(s.applet("last").arg("-f").arg(&path).args(extra), None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
