//! utmpdump against util-linux 2.38.1 `utmpdump`: random glibc files dumped
//! by both, random texts undumped by both, compared byte for byte; then
//! what only utmpbox does (other formats, times past 2038) and where it
//! deliberately differs (docs/COMPAT.md).

use crate::util::{assert_same, peer, run, Scratch};
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

/// xorshift64*: deterministic inputs, independent of the code under test.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// One glibc `struct utmp` field set, as the test writes it on disk itself.
#[derive(Clone)]
struct Raw {
    kind: i16,
    pid: i32,
    line: Vec<u8>,
    id: Vec<u8>,
    user: Vec<u8>,
    host: Vec<u8>,
    exit: [i16; 2],
    session: i32,
    sec: i64,
    usec: i64,
    addr: [u8; 16],
}

impl Raw {
    /// 384 bytes (glibc x86_64) or 400 (64-bit-time utmpx).
    fn encode(&self, wide: bool) -> Vec<u8> {
        let mut b = vec![0u8; if wide { 400 } else { 384 }];
        b[0..2].copy_from_slice(&self.kind.to_le_bytes());
        b[4..8].copy_from_slice(&self.pid.to_le_bytes());
        b[8..8 + self.line.len()].copy_from_slice(&self.line);
        b[40..40 + self.id.len()].copy_from_slice(&self.id);
        b[44..44 + self.user.len()].copy_from_slice(&self.user);
        b[76..76 + self.host.len()].copy_from_slice(&self.host);
        b[332..334].copy_from_slice(&self.exit[0].to_le_bytes());
        b[334..336].copy_from_slice(&self.exit[1].to_le_bytes());
        b[336..340].copy_from_slice(&self.session.to_le_bytes());
        if wide {
            b[344..352].copy_from_slice(&self.sec.to_le_bytes());
            b[352..360].copy_from_slice(&self.usec.to_le_bytes());
            b[360..376].copy_from_slice(&self.addr);
        } else {
            b[340..344].copy_from_slice(&(self.sec as i32).to_le_bytes());
            b[344..348].copy_from_slice(&(self.usec as i32).to_le_bytes());
            b[348..364].copy_from_slice(&self.addr);
        }
        b
    }

    /// The fields of a 384-byte record (for rewriting it as 400 bytes).
    fn decode_glibc(b: &[u8]) -> Raw {
        let cut = |f: &[u8]| f[..f.iter().position(|&c| c == 0).unwrap_or(f.len())].to_vec();
        let i32_at = |at: usize| i32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let i16_at = |at: usize| i16::from_le_bytes(b[at..at + 2].try_into().unwrap());
        Raw {
            kind: i16_at(0),
            pid: i32_at(4),
            line: cut(&b[8..40]),
            id: cut(&b[40..44]),
            user: cut(&b[44..76]),
            host: cut(&b[76..332]),
            exit: [i16_at(332), i16_at(334)],
            session: i32_at(336),
            sec: i32_at(340) as i64,
            usec: i32_at(344) as i64,
            addr: b[348..364].try_into().unwrap(),
        }
    }
}

/// Bytes for a field of up to `max`: often empty or full, sometimes odd.
fn field(rng: &mut Rng, max: usize) -> Vec<u8> {
    let len = match rng.below(4) {
        0 => 0,
        1 => max,
        _ => rng.below(max as u64 + 1) as usize,
    };
    (0..len)
        .map(|_| match rng.below(8) {
            0 => (rng.below(255) + 1) as u8,
            1 => *rng.pick(b"[] \t\x1b\x7f"),
            _ => *rng.pick(b"abcxyz0123/._-:~"),
        })
        .collect()
}

fn address(rng: &mut Rng) -> [u8; 16] {
    let mut addr = [0u8; 16];
    match rng.below(6) {
        0 => {}
        1 | 2 => addr[..4].iter_mut().for_each(|b| *b = rng.next() as u8),
        3 => addr.iter_mut().for_each(|b| *b = rng.next() as u8),
        4 => {
            // Zero runs of every length and place, for '::' compression.
            for w in 0..8 {
                if rng.below(2) == 0 {
                    addr[w * 2] = rng.next() as u8;
                    addr[w * 2 + 1] = rng.next() as u8;
                }
            }
        }
        _ => {
            // ::ffff:a.b.c.d and ::a.b.c.d, which inet_ntop prints dotted.
            if rng.below(2) == 0 {
                addr[10] = 0xff;
                addr[11] = 0xff;
            }
            addr[12..].iter_mut().for_each(|b| *b = rng.next() as u8);
        }
    }
    addr
}

fn random_raw(rng: &mut Rng) -> Raw {
    Raw {
        kind: if rng.below(10) == 0 {
            rng.next() as i16
        } else {
            rng.below(10) as i16
        },
        pid: match rng.below(3) {
            0 => rng.below(100_000) as i32,
            1 => rng.next() as i32,
            _ => rng.below(1000) as i32,
        },
        line: field(rng, 32),
        id: field(rng, 4),
        user: field(rng, 32),
        host: field(rng, 256),
        exit: [rng.next() as i16, rng.next() as i16],
        session: rng.next() as i32,
        sec: match rng.below(4) {
            0 => 0,
            1 => rng.next() as i32 as i64,
            _ => 1_600_000_000 + rng.below(200_000_000) as i64,
        },
        usec: rng.below(1_000_000) as i64,
        addr: address(rng),
    }
}

/// A random record whose dump util-linux reads back as it meant to: its
/// type and pid leave the id's `[` before byte 19, where util-linux starts
/// looking for the user field (see `lines_util_linux_would_misread_are_errors`),
/// and its address has no dotted IPv4 tail.
fn undumpable_raw(rng: &mut Rng) -> Raw {
    let mut raw = random_raw(rng);
    if raw.kind.to_string().len() + format!("{:05}", raw.pid).len() > 12 {
        raw.pid = raw.pid.rem_euclid(100_000);
    }
    // An IPv6 address printed with a dotted IPv4 tail (::ffff:a.b.c.d) is
    // one util-linux reads back as 0.0.0.0 (differences_from_util_linux_on_undump).
    if raw.addr[..10].iter().all(|&b| b == 0) && raw.addr[4..].iter().any(|&b| b != 0) {
        raw.addr[0] = 0x20;
    }
    raw
}

fn glibc_file(records: &[Raw]) -> Vec<u8> {
    records.iter().flat_map(|r| r.encode(false)).collect()
}

fn ours(s: &Scratch, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = s.applet("utmpdump");
    cmd.args(args);
    run(&mut cmd, stdin)
}

fn theirs(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = peer("utmpdump");
    cmd.args(args);
    run(&mut cmd, stdin)
}

#[track_caller]
fn assert_same_run(ours: &Output, theirs: &Output, what: &str) {
    assert_same(
        &ours.stdout,
        &theirs.stdout,
        format_args!("{what} (stdout)"),
    );
    assert_same(
        &ours.stderr,
        &theirs.stderr,
        format_args!("{what} (stderr)"),
    );
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{what}: exit status"
    );
}

#[test]
fn dump_matches_util_linux_on_random_glibc_files() {
    let s = Scratch::new("ud-dump");
    let mut rng = Rng::new(1);
    for n in 0..60 {
        let records: Vec<Raw> = (0..rng.below(40)).map(|_| random_raw(&mut rng)).collect();
        let path = s.write(&format!("wtmp{n}"), &glibc_file(&records));
        let path = path.to_str().unwrap();
        let a = ours(&s, &[path], None);
        let b = theirs(&[path], None);
        assert_same_run(&a, &b, &format!("file {n}"));
        // Whatever TZ says, times are UTC.
        let mut cmd = s.applet("utmpdump");
        cmd.arg(path).env("TZ", "Asia/Kolkata");
        assert_same(&run(&mut cmd, None).stdout, &b.stdout, "TZ=Asia/Kolkata");
    }
}

#[test]
fn dump_reads_stdin_like_util_linux() {
    let s = Scratch::new("ud-stdin");
    let mut rng = Rng::new(2);
    let records: Vec<Raw> = (0..20).map(|_| random_raw(&mut rng)).collect();
    let file = glibc_file(&records);
    assert_same_run(
        &ours(&s, &[], Some(&file)),
        &theirs(&[], Some(&file)),
        "stdin",
    );
}

/// A utmpdump line util-linux reads exactly: its own layout, with the
/// variations people type (spaces inside fields, odd gaps between them,
/// no microseconds, other address spellings, the old time format).
fn random_text_line(rng: &mut Rng) -> String {
    let printable = |rng: &mut Rng, max: usize| -> String {
        let len = rng.below(max as u64 + 1) as usize;
        (0..len)
            .map(|_| {
                let c = *rng.pick(b"abcdefxyz0189/._-:~@#?!(){}<>'\"*=, ");
                c as char
            })
            .collect()
    };
    let kind = rng.below(10);
    let pid = match rng.below(3) {
        0 => format!("{:05}", rng.below(100_000)),
        1 => format!("{:05}", -(rng.below(10_000) as i64)),
        _ => format!("{:05}", rng.below(1000)),
    };
    let id: String = (0..4).map(|_| *rng.pick(b"ab~0 /:") as char).collect();
    let user = printable(rng, 32);
    let term = printable(rng, 32);
    let host_max = if rng.below(4) == 0 { 256 } else { 40 };
    let host = printable(rng, host_max);
    let addr = rng
        .pick(&[
            "",
            "0.0.0.0",
            "10.1.2.3",
            "255.255.255.255",
            "192.168.100.7",
            "::",
            "::1",
            "2001:db8::1",
            "2001:DB8:0:0:8:800:200C:417A",
            "fe80:0000:0000:0000:0204:61ff:fe9d:f156",
            "1::",
            "1:2:3:4:5:6:7:8",
            "ff02::1:ff00:42",
        ])
        .to_string();
    let secs = rng.next() as i32 as i64;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let tod = secs.rem_euclid(86_400);
    let (h, mi, se) = (tod / 3600, tod % 3600 / 60, tod % 60);
    let usec = rng.below(1_000_000);
    let time = match rng.below(8) {
        0 => String::new(),
        1 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}+00:00"),
        2 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}"),
        3 => {
            let day = rng.pick(&["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]);
            let month = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ][mo as usize - 1];
            format!("{day} {month} {d:02} {h:02}:{mi:02}:{se:02} {y} GMT")
        }
        _ => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02},{usec:06}+00:00"),
    };
    let gap = |rng: &mut Rng| " ".repeat(rng.below(3) as usize);
    let pad = |s: &str, w: usize| format!("{s:<w$}");
    format!(
        "[{kind}] [{pid}] [{id}] [{}]{}[{}] {}[{}]{} [{}] [{time}]",
        pad(&user, 8),
        gap(rng),
        pad(&term, 12),
        gap(rng),
        pad(&host, 20),
        gap(rng),
        pad(&addr, 15),
    )
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[test]
fn undump_matches_util_linux_on_random_texts() {
    let s = Scratch::new("ud-undump");
    let mut rng = Rng::new(3);
    for n in 0..60 {
        let mut text = String::new();
        for _ in 0..rng.below(30) {
            text.push_str(&random_text_line(&mut rng));
            text.push('\n');
        }
        let a = ours(&s, &["-r"], Some(text.as_bytes()));
        let b = theirs(&["-r"], Some(text.as_bytes()));
        assert!(
            a.status.success(),
            "{}\n{text}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert_same_run(&a, &b, &format!("text {n}:\n{text}"));
    }
}

#[test]
fn undump_of_util_linux_dumps_matches_util_linux() {
    let s = Scratch::new("ud-redump");
    let mut rng = Rng::new(4);
    for n in 0..40 {
        let records: Vec<Raw> = (0..rng.below(30))
            .map(|_| undumpable_raw(&mut rng))
            .collect();
        let path = s.write(&format!("wtmp{n}"), &glibc_file(&records));
        let text = theirs(&[path.to_str().unwrap()], None).stdout;
        let a = ours(&s, &["-r"], Some(&text));
        let b = theirs(&["-r"], Some(&text));
        assert_same_run(&a, &b, &format!("dump {n}"));
        // -o FILE holds the same bytes.
        let out = s.path(&format!("out{n}"));
        let o = ours(&s, &["-r", "-o", out.to_str().unwrap()], Some(&text));
        assert!(o.status.success());
        assert_same(&std::fs::read(&out).unwrap(), &b.stdout, "-o file");
    }
}

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
fn partial_record_is_dumped_whole_and_reported() {
    let s = Scratch::new("ud-partial");
    let mut rng = Rng::new(7);
    let records: Vec<Raw> = (0..5).map(|_| random_raw(&mut rng)).collect();
    let mut file = glibc_file(&records);
    file.extend_from_slice(&[7u8; 100]);
    let path = s.write("wtmp", &file);
    let path = path.to_str().unwrap();
    let a = ours(&s, &[path], None);
    let b = theirs(&[path], None);
    assert_same(&a.stdout, &b.stdout, "records before the partial one");
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        format!("Utmp dump of {path}\nutmpdump: {path}: ignoring 100 trailing bytes (a partial record)\n")
    );
    assert_eq!(a.status.code(), Some(0));
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
fn missing_file_and_stdin_follow_fail_like_util_linux() {
    let s = Scratch::new("ud-missing");
    for args in [
        &["/nonexistent/wtmp"][..],
        &["-r", "/nonexistent/wtmp"],
        &["-f"],
    ] {
        let a = ours(&s, args, None);
        let b = theirs(args, None);
        assert_same_run(&a, &b, &format!("{args:?}"));
    }
    let a = ours(&s, &["/nonexistent/wtmp"], None);
    assert_eq!(
        a.stderr,
        b"utmpdump: cannot open /nonexistent/wtmp: No such file or directory\n"
    );
    // A file name that is not UTF-8 is printed as its bytes, as the peer does.
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::OsStr::from_bytes(b"/nonexistent/w\xfftmp");
    let mut cmd = s.applet("utmpdump");
    cmd.arg(name);
    let a = run(&mut cmd, None);
    let mut cmd = peer("utmpdump");
    cmd.arg(name);
    assert_same_run(&a, &run(&mut cmd, None), "non-UTF-8 name");
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

#[test]
fn lines_util_linux_would_misread_are_errors() {
    // util-linux skips 19 bytes blindly and crashes on this line.
    let s = Scratch::new("ud-badline");
    let good = "[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [0.0.0.0        ] [2026-11-20T09:15:00,000000+00:00]\n";
    let text = format!("{good}[2] [0] [~~] [reboot] [~] [] [] []\n");
    let a = ours(&s, &["-r"], Some(text.as_bytes()));
    assert_eq!(a.status.code(), Some(1));
    assert!(a.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        "Utmp undump of /dev/stdin\nutmpdump: /dev/stdin: line 2: id is not exactly 4 characters\n"
    );
    assert_ne!(
        theirs(&["-r"], Some(text.as_bytes())).status.code(),
        Some(0)
    );
}

#[test]
fn differences_from_util_linux_on_undump() {
    // docs/COMPAT.md: a non-zero UTC offset is applied, and an IPv6
    // address with an IPv4 tail is kept (util-linux stores 0.0.0.0).
    let s = Scratch::new("ud-compat");
    let text = "[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [::ffff:10.0.0.1] [2026-11-20T09:15:00,000000+05:30]\n";
    let a = ours(&s, &["-r"], Some(text.as_bytes()));
    assert!(a.status.success());
    let back = ours(&s, &[], Some(&a.stdout));
    assert_eq!(
        String::from_utf8_lossy(&back.stdout),
        "[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [::ffff:10.0.0.1] [2026-11-20T03:45:00,000000+00:00]\n"
    );
    let b = theirs(&["-r"], Some(text.as_bytes()));
    let theirs_back = theirs(&[], Some(&b.stdout));
    assert_eq!(
        String::from_utf8_lossy(&theirs_back.stdout),
        "[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [0.0.0.0        ] [2026-11-20T09:15:00,000000+00:00]\n"
    );
}

#[test]
fn help_version_and_bad_options() {
    let s = Scratch::new("ud-help");
    let help = ours(&s, &["--help"], None);
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(text.starts_with("\nUsage:\n utmpdump [options] [filename]\n"));
    assert!(text.contains(" -r, --reverse        write back dumped data into utmp file\n"));
    assert!(text.contains("--format <name>"));
    assert_eq!(ours(&s, &["-h"], None).stdout, text.as_bytes());
    let version = ours(&s, &["-V"], None);
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("utmpdump (utmpbox) "));
    let bad = ours(&s, &["-x"], None);
    assert_eq!(bad.status.code(), theirs(&["-x"], None).status.code());
    let format = ours(&s, &["-r", "--format", "bogus"], None);
    assert_eq!(format.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&format.stderr).contains("unknown format 'bogus'"));
}

#[test]
fn follow_prints_the_last_ten_then_what_is_appended() {
    let s = Scratch::new("ud-follow");
    let mut rng = Rng::new(8);
    let records: Vec<Raw> = (0..15).map(|_| random_raw(&mut rng)).collect();
    let path = s.write("wtmp", &glibc_file(&records));
    let expected_all = theirs(&[path.to_str().unwrap()], None).stdout;
    let expected_lines: Vec<&[u8]> = expected_all.split_inclusive(|&b| b == b'\n').collect();
    let mut cmd: Command = s.applet("utmpdump");
    cmd.arg("-f")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // A watchdog, so a follow that never prints fails instead of hanging.
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        let _ = Command::new("kill").arg("-9").arg(&pid).status();
    });
    let mut reader = BufReader::new(child.stdout.take().unwrap());
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
    let mut cmd: Command = s.applet("utmpdump");
    cmd.arg("-f")
        .arg(&native)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        let _ = Command::new("kill").arg("-9").arg(&pid).status();
    });
    let mut reader = BufReader::new(child.stdout.take().unwrap());
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
