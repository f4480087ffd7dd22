//! `last` and `lastb` against util-linux 2.38.1 on generated wtmp/btmp
//! files: every option, two time zones, byte-for-byte stdout, stderr and
//! exit status. The deliberate differences of docs/COMPAT.md (`## last`)
//! each have their own test; the random files are generated so that they
//! never hit those cases.
//!
//! "still logged in" and "gone - no logout" depend on the boot time,
//! passwd, /proc and /dev: both tools read the same machine at the same
//! moment, so the comparison holds whatever they say.

use crate::util::{self, Scratch};

/// xorshift64*, as in the crate's own test generator.
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
    fn bytes(&mut self, items: &[&'static [u8]]) -> &'static [u8] {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Clone)]
struct Rec {
    kind: i16,
    pid: i32,
    line: Vec<u8>,
    id: Vec<u8>,
    user: Vec<u8>,
    host: Vec<u8>,
    secs: i64,
    addr: [u8; 16],
}

impl Rec {
    fn new(kind: i16, line: &[u8], user: &[u8], host: &[u8], secs: i64) -> Rec {
        Rec {
            kind,
            pid: 0,
            line: line.to_vec(),
            id: line.iter().rev().take(4).rev().copied().collect(),
            user: user.to_vec(),
            host: host.to_vec(),
            secs,
            addr: [0; 16],
        }
    }
}

fn put(dest: &mut [u8], value: &[u8]) {
    let n = value.len().min(dest.len());
    dest[..n].copy_from_slice(&value[..n]);
}

/// glibc x86_64 `struct utmp` (384 bytes) or the 64-bit-time utmpx (400).
fn encode(records: &[Rec], wide: bool) -> Vec<u8> {
    let size = if wide { 400 } else { 384 };
    let mut out = Vec::with_capacity(records.len() * size);
    for r in records {
        let mut b = vec![0u8; size];
        b[0..2].copy_from_slice(&r.kind.to_le_bytes());
        b[4..8].copy_from_slice(&r.pid.to_le_bytes());
        put(&mut b[8..40], &r.line);
        put(&mut b[40..44], &r.id);
        put(&mut b[44..76], &r.user);
        put(&mut b[76..332], &r.host);
        if wide {
            b[344..352].copy_from_slice(&r.secs.to_le_bytes());
            b[360..376].copy_from_slice(&r.addr);
        } else {
            b[340..344].copy_from_slice(&(r.secs as i32).to_le_bytes());
            b[348..364].copy_from_slice(&r.addr);
        }
        out.extend_from_slice(&b);
    }
    out
}

const USERS: &[&[u8]] = &[
    b"alice",
    b"bob",
    b"root",
    b"nobody",
    b"carol_longname",
    b"nosuchuser_x",
    b"u",
    b"a_user_name_of_32_bytes_exactly_",
    b"esc\x1b[31mred",
    b"caf\xc3\xa9",
    b"daemon",
];
const LINES: &[&[u8]] = &[
    b"pts/0",
    b"pts/1",
    b"pts/2",
    b"pts/13",
    b"tty1",
    b"tty2",
    b"tty7",
    b":0",
    b"ftp123",
    b"uucp4",
    b"ssh:notty",
    b"a_very_long_line_name_of_32_byte",
];
const HOSTS: &[&[u8]] = &[
    b"",
    b"192.168.1.10",
    b"10.0.0.5",
    b"2001:db8::1",
    b":0",
    b"very.long.hostname.example.com",
    b"tab\there",
    b"h\xff\x01st",
    b"localhost",
];
const KERNELS: &[&[u8]] = &[b"6.1.0-28-amd64", b"5.10.0-9-generic-with-a-long-name"];

fn random_addr(rng: &mut Rng) -> [u8; 16] {
    let mut a = [0u8; 16];
    match rng.below(6) {
        0 | 1 => {}
        2 => a[..4].copy_from_slice(&[192, 168, 1, rng.below(256) as u8]),
        3 => a[..4].copy_from_slice(&[127, 0, 0, 1]),
        4 => {
            a[10] = 0xff;
            a[11] = 0xff;
            a[12..].copy_from_slice(&[10, 0, 0, rng.below(256) as u8]);
        }
        _ => {
            a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            for b in a[4..].iter_mut() {
                if rng.chance(30) {
                    *b = rng.below(256) as u8;
                }
            }
        }
    }
    a
}

/// A plausible history: boots, run levels, logins and logouts on a few
/// lines, shutdowns, crashes, clock changes, noise records. Once a boot
/// has been followed by another boot, no shutdown follows (that is the
/// case where utmpbox deliberately follows util-linux 2.40).
fn history(rng: &mut Rng, start: i64, count: usize) -> Vec<Rec> {
    let mut out = Vec::new();
    let mut t = start;
    let mut open: Vec<Vec<u8>> = Vec::new();
    let mut booted_since_down = false;
    let mut no_more_shutdowns = false;
    for _ in 0..count {
        t += match rng.below(10) {
            0 => rng.below(3 * 86400) as i64,
            1 => 0,
            _ => rng.below(4000) as i64,
        };
        let roll = rng.below(100);
        let mut r = if roll < 6 {
            if booted_since_down {
                no_more_shutdowns = true;
            }
            booted_since_down = true;
            open.clear();
            Rec::new(2, b"~", b"reboot", rng.bytes(KERNELS), t)
        } else if roll < 9 && !no_more_shutdowns {
            booted_since_down = false;
            Rec::new(1, b"~", b"shutdown", rng.bytes(KERNELS), t)
        } else if roll < 13 {
            let level = *rng.pick(&[b'5', b'3', b'S', b'0', b'6', b'1', 0u8, 0xe9]);
            if (level == b'0' || level == b'6') && no_more_shutdowns {
                continue;
            }
            if level == b'0' || level == b'6' {
                booted_since_down = false;
            }
            let mut r = Rec::new(1, b"~", b"runlevel", rng.bytes(KERNELS), t);
            r.pid = (b'N' as i32) * 256 + level as i32;
            r
        } else if roll < 15 {
            let line: &[u8] = if rng.chance(50) { b"|" } else { b"{" };
            if rng.chance(50) {
                t -= rng.below(7200) as i64;
            }
            Rec::new(if line == b"|" { 4 } else { 3 }, line, b"date", b"", t)
        } else if roll < 20 {
            let kind = *rng.pick(&[0i16, 5, 6, 9, 42, -3, 300]);
            let user: &[u8] = if kind == 6 { b"LOGIN" } else { b"" };
            Rec::new(kind, rng.bytes(LINES), user, b"", t)
        } else if roll < 60 || open.is_empty() {
            let line = rng.bytes(LINES).to_vec();
            let mut r = Rec::new(7, &line, rng.bytes(USERS), rng.bytes(HOSTS), t);
            if rng.chance(3) {
                r.user.clear();
            }
            if rng.chance(2) {
                r.line.clear();
            }
            r.addr = random_addr(rng);
            open.push(line);
            r
        } else {
            let i = rng.below(open.len() as u64) as usize;
            let line = open.swap_remove(i);
            // Some logout records keep the user name (util-linux#2364).
            let user: &[u8] = if rng.chance(10) { b"bob" } else { b"" };
            Rec::new(8, &line, user, b"", t)
        };
        if r.pid == 0 {
            r.pid = 1_000_000_000 + rng.below(1000) as i32;
        }
        out.push(r);
    }
    out
}

/// Options for one comparison, chosen at random from what 2.38.1 accepts.
fn random_options(rng: &mut Rng, recs: &[Rec]) -> Vec<Vec<u8>> {
    let mut args: Vec<Vec<u8>> = Vec::new();
    let when = |rng: &mut Rng| -> Vec<u8> {
        let t = recs[rng.below(recs.len() as u64) as usize].secs + rng.below(600) as i64 - 300;
        let tm = format_utc(t);
        match rng.below(3) {
            0 => tm.into_bytes(),
            1 => tm.replace(['-', ':', ' '], "").into_bytes(),
            _ => tm[..10].as_bytes().to_vec(),
        }
    };
    for _ in 0..rng.below(4) {
        match rng.below(16) {
            0 => args.push(b"-x".to_vec()),
            1 => args.push(b"-a".to_vec()),
            2 => args.push(b"-i".to_vec()),
            3 => args.push(b"-w".to_vec()),
            4 => args.push(b"-F".to_vec()),
            5 => args.push(b"-R".to_vec()),
            6 => {
                args.push(b"-n".to_vec());
                args.push(format!("{}", rng.below(12)).into_bytes());
            }
            7 => args.push(format!("-{}", 1 + rng.below(9)).into_bytes()),
            8 => {
                args.push(b"--time-format".to_vec());
                args.push(
                    rng.pick(&["notime", "short", "full", "iso"])
                        .as_bytes()
                        .to_vec(),
                );
            }
            9 => {
                args.push(b"-s".to_vec());
                args.push(when(rng));
            }
            10 => {
                args.push(b"-t".to_vec());
                args.push(when(rng));
            }
            11 => {
                args.push(b"-p".to_vec());
                args.push(when(rng));
            }
            12 => args.push(rng.bytes(USERS).to_vec()),
            13 => args.push(
                rng.pick(&[
                    &b"pts/1"[..],
                    b"1",
                    b"tty2",
                    b"ftp",
                    b"uucp",
                    b"7",
                    b"reboot",
                ])
                .to_vec(),
            ),
            14 => args.push(b"-xai".to_vec()),
            _ => args.push(b"-wx".to_vec()),
        }
    }
    // -F and --time-format together are an error; keep the first.
    if args.iter().any(|a| a == b"-F") {
        if let Some(i) = args.iter().position(|a| a == b"--time-format") {
            args.drain(i..i + 2);
        }
    }
    args
}

/// `YYYY-MM-DD hh:mm:ss` in UTC, by the civil-from-days algorithm.
fn format_utc(t: i64) -> String {
    let days = t.div_euclid(86400);
    let rem = t.rem_euclid(86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Run ours and the peer with the same argv and TZ; compare everything.
fn compare(s: &Scratch, applet: &str, args: &[Vec<u8>], tz: &str) {
    use std::os::unix::ffi::OsStrExt;
    let os: Vec<&std::ffi::OsStr> = args
        .iter()
        .map(|a| std::ffi::OsStr::from_bytes(a))
        .collect();
    let ours = util::run(s.applet(applet).env("TZ", tz).args(&os), None);
    let theirs = util::run(util::peer(applet).env("TZ", tz).args(&os), None);
    let what = format!(
        "TZ={tz} {applet} {}",
        args.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    util::assert_same(&ours.stdout, &theirs.stdout, format!("{what} (stdout)"));
    util::assert_same(&ours.stderr, &theirs.stderr, format!("{what} (stderr)"));
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{what}: exit status"
    );
}

fn file_args(path: &std::path::Path) -> Vec<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    vec![b"-f".to_vec(), path.as_os_str().as_bytes().to_vec()]
}

#[test]
fn random_histories_match_util_linux() {
    let s = Scratch::new("last-random");
    let mut rng = Rng::new(2383);
    let recent = now() - 5 * 86400;
    for n in 0..240u64 {
        // Mostly years ago (before any plausible boot), some in the last
        // days (after it, where passwd, /proc and /dev decide "gone").
        let start = if n % 5 == 4 {
            recent
        } else if n % 7 == 3 {
            // Before 1970: negative times through ctime and mktime.
            -300_000_000 + rng.below(200_000_000) as i64
        } else {
            946_684_800 + rng.below(600_000_000) as i64
        };
        let count = 1 + rng.below(120) as usize;
        let recs = history(&mut rng, start, count);
        let path = s.write(&format!("wtmp{n}"), &encode(&recs, false));
        let tz = if n % 2 == 0 { "UTC" } else { "Europe/Berlin" };
        for _ in 0..3 {
            let mut args = file_args(&path);
            args.extend(random_options(&mut rng, &recs));
            compare(&s, "last", &args, tz);
        }
    }
}

#[test]
fn every_option_on_one_history() {
    let s = Scratch::new("last-options");
    let mut rng = Rng::new(7);
    let recs = history(&mut rng, 1_300_000_000, 400);
    let path = s.write("wtmp", &encode(&recs, false));
    let second = s.write(
        "wtmp.1",
        &encode(&history(&mut rng, 1_200_000_000, 50), false),
    );
    let p = path.to_str().unwrap_or_default().to_string();
    let q = second.to_str().unwrap_or_default().to_string();
    let cases: &[&[&str]] = &[
        &[],
        &["-x"],
        &["-a"],
        &["-i"],
        &["-w"],
        &["-F"],
        &["-R"],
        &["-x", "-F", "-w"],
        &["-a", "-i", "-w"],
        &["-R", "-a"],
        &["--time-format", "notime"],
        &["--time-format", "short"],
        &["--time-format=full", "-x"],
        &["--time-format", "iso", "-w", "-x"],
        &["--time-format", "notime", "-x", "-a"],
        &["-n", "5"],
        &["-n5", "-x"],
        &["--limit=7"],
        &["--lim", "3"],
        &["-3"],
        &["-1", "-2"],
        &["-12x"],
        &["-n", "0"],
        &["-n", "-1"],
        &["-n", " 4"],
        &["alice"],
        &["alice", "bob", "-x"],
        &["1"],
        &["tty2"],
        &["pts/1", "root"],
        &["ftp"],
        &["uucp"],
        &["reboot", "-x"],
        &["shutdown", "-x"],
        &["runlevel", "-x"],
        &["--", "-x"],
        &["-s", "2011-03-01"],
        &["-t", "2011-03-01 12:00"],
        &["-s", "2011-02-01", "-t", "2011-04-01 00:00:00", "-x"],
        &["-p", "2011-03-01 12:00:00"],
        &["-p", "20110301120000", "-x"],
        &["--since", "11-03-01", "--until", "11-03-09"],
        &["--present=2011-03-02"],
        &["-s", "now"],
        &["-s", "-5days"],
        &["-t", "yesterday"],
        &["-s", "today"],
        &["-t", "tomorrow"],
        &["-s", "+5min"],
        &["-t", "12:00"],
        &["-s", "Sat 2011-03-05"],
        &["-t", "3years ago"],
        &[
            "--hostlast",
            "--ip",
            "--fullnames",
            "--system",
            "--nohostname",
        ],
        &["--ip", "--fulltimes"],
    ];
    for tz in ["UTC", "Europe/Berlin"] {
        for case in cases {
            let mut args = vec![b"-f".to_vec(), p.as_bytes().to_vec()];
            args.extend(case.iter().map(|a| a.as_bytes().to_vec()));
            compare(&s, "last", &args, tz);
        }
    }
    // Several files, each in turn; the limit counts across them.
    for extra in [&[][..], &["-n", "2"][..], &["-x", "-F"][..], &["-1"][..]] {
        let mut args: Vec<Vec<u8>> = ["-f", &p, "-f", &q, "--file", &p]
            .iter()
            .map(|a| a.as_bytes().to_vec())
            .collect();
        args.extend(extra.iter().map(|a| a.as_bytes().to_vec()));
        compare(&s, "last", &args, "UTC");
    }
}

/// Times that a DST change repeats or skips, which mktime resolves by
/// its history (glibc's rules, whatever libc utmpbox was built with).
#[test]
fn dst_edges_match_util_linux() {
    let s = Scratch::new("last-dst");
    let mut rng = Rng::new(1029);
    let mut recs = history(&mut rng, 1_509_231_000, 60);
    recs.extend(history(&mut rng, 1_490_487_000, 60));
    recs.sort_by_key(|r| r.secs);
    let path = s.write("wtmp", &encode(&recs, false));
    let runs: &[&[&str]] = &[
        &["-p", "2017-10-29 02:01:11"],
        &["-p", "2017-10-29 02:40"],
        &["-s", "2017-10-29 02:30:00"],
        &["-t", "2017-10-29 02:30:00", "-x"],
        &["-s", "2017-07-01 12:00", "-p", "2017-10-29 02:20:00"],
        &["-s", "2017-01-01", "-p", "2017-10-29 02:20:00"],
        &["-s", "2017-03-26 02:30"],
        &["-t", "2017-03-26 02:00:00", "-x"],
        &["-p", "2017-03-26 02:59:59"],
    ];
    for run in runs {
        let mut args = file_args(&path);
        args.extend(run.iter().map(|a| a.as_bytes().to_vec()));
        compare(&s, "last", &args, "Europe/Berlin");
    }
}

/// `-d` asks the resolver, so only addresses it answers at once:
/// /etc/hosts names, private and documentation ones.
#[test]
fn dns_names_match_util_linux() {
    let s = Scratch::new("last-dns");
    let mut recs = Vec::new();
    let addrs: [[u8; 16]; 5] = [
        [0; 16],
        [127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        [192, 168, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1],
        [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5],
    ];
    for (i, addr) in addrs.iter().enumerate() {
        let mut r = Rec::new(
            7,
            format!("pts/{i}").as_bytes(),
            b"bob",
            b"stored.host",
            1_500_000_000 + i as i64 * 60,
        );
        r.addr = *addr;
        recs.push(r);
    }
    let path = s.write("wtmp", &encode(&recs, false));
    for extra in [&["-d"][..], &["--dns", "-w"], &["-d", "-a"], &["-d", "-i"]] {
        let mut args = file_args(&path);
        args.extend(extra.iter().map(|a| a.as_bytes().to_vec()));
        compare(&s, "last", &args, "UTC");
    }
}

#[test]
fn lastb_lists_every_record() {
    let s = Scratch::new("lastb");
    let mut rng = Rng::new(99);
    for n in 0..40 {
        let mut t = 1_400_000_000 + rng.below(100_000_000) as i64;
        let recs: Vec<Rec> = (0..rng.below(60))
            .map(|_| {
                t += rng.below(5000) as i64;
                let mut r = Rec::new(6, rng.bytes(LINES), rng.bytes(USERS), rng.bytes(HOSTS), t);
                r.addr = random_addr(&mut rng);
                r
            })
            .collect();
        let path = s.write(&format!("btmp{n}"), &encode(&recs, false));
        let mut args = file_args(&path);
        if !recs.is_empty() {
            args.extend(random_options(&mut rng, &recs));
        }
        compare(
            &s,
            "lastb",
            &args,
            if n % 2 == 0 { "UTC" } else { "Europe/Berlin" },
        );
    }
}

#[test]
fn errors_match_util_linux() {
    let s = Scratch::new("last-errors");
    let cases: &[&[&str]] = &[
        &["-z"],
        &["--bogus"],
        &["--bogus=1"],
        &["-n"],
        &["-n", "abc"],
        &["-n", "99999999999"],
        &["-n", ""],
        &["-f"],
        &["--file"],
        &["--f", "x"],
        &["--fu"],
        &["--hostlast=3"],
        &["--t"],
        &["-s", "foo"],
        &["-s", ""],
        &["--since="],
        &["-t", "2012-09-22T16:34"],
        &["-p", "@1348331662"],
        &["-s", "+0"],
        &["-s", "1969-12-31 23:59:59"],
        &["--time-format", "x"],
        &["--time-format", "iso", "-F"],
        &["-F", "--time-format", "iso"],
        &["-F", "--time-format", "bogus"],
        &["--time-format", "bogus", "-F"],
        &["-f", "/nonexistent"],
        &["-f", "/nonexistent", "-z"],
        &["-x", "-f", "/nonexistent/dir/wtmp"],
    ];
    for case in cases {
        let args: Vec<Vec<u8>> = case.iter().map(|a| a.as_bytes().to_vec()).collect();
        compare(&s, "last", &args, "UTC");
    }
}

#[test]
fn help_matches_util_linux_plus_json() {
    let s = Scratch::new("last-help");
    for applet in ["last", "lastb"] {
        for flag in ["-h", "--help", "--he"] {
            let ours = util::run(s.applet(applet).arg(flag), None);
            let theirs = util::run(util::peer(applet).arg(flag), None);
            assert_eq!(ours.status.code(), Some(0));
            let json_line = "     --json           print the entries as a JSON array\n";
            let ours = String::from_utf8_lossy(&ours.stdout).replacen(json_line, "", 1);
            util::assert_same(ours.as_bytes(), &theirs.stdout, format!("{applet} {flag}"));
        }
    }
}

#[test]
fn empty_and_tiny_files_use_the_file_time() {
    let s = Scratch::new("last-empty");
    let empty = s.write("wtmp", b"");
    compare(&s, "last", &file_args(&empty), "UTC");
    compare(
        &s,
        "last",
        &[
            b"--time-format".to_vec(),
            b"iso".to_vec(),
            b"-f".to_vec(),
            empty.to_str().unwrap_or_default().as_bytes().to_vec(),
        ],
        "Europe/Berlin",
    );
    let zeros = s.write("zeros", &[0u8; 384 * 3]);
    compare(&s, "last", &file_args(&zeros), "UTC");
    let dir = s.path("dir/");
    std::fs::create_dir_all(&dir).unwrap();
    let nested = s.write("dir/wtmp.1", b"");
    compare(&s, "last", &file_args(&nested), "UTC");
}

/// COMPAT: a file that is not a whole number of records. util-linux
/// 2.38.1 reads misaligned from the end and prints no entries; utmpbox
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
    let expected =
        String::from_utf8_lossy(&reference.stdout).replace("wtmp begins", "wtmp.ragged begins");
    util::assert_same(&ours.stdout, expected.as_bytes(), "ragged file");
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        format!(
            "last: {}: ignoring 100 trailing bytes (a partial record)\n",
            ragged.display()
        )
    );
    assert_eq!(ours.status.code(), Some(0));
    // What 2.38.1 does instead: the trailer alone.
    let theirs = util::run(util::peer("last").arg("-f").arg(&ragged), None);
    assert!(String::from_utf8_lossy(&theirs.stdout).starts_with("\nwtmp.ragged begins"));
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
        Rec::new(2, b"~", b"reboot", b"6.1.0", t0),
        Rec::new(7, b"pts/0", b"alice", b"", t0 + 600),
        Rec::new(2, b"~", b"reboot", b"6.1.0", t0 + day + 3600),
        Rec::new(1, b"~", b"shutdown", b"6.1.0", t0 + 2 * day),
        Rec::new(2, b"~", b"reboot", b"6.1.0", t0 + 2 * day + 60),
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

/// COMPAT: a pipe is read whole; 2.38.1 cannot seek it and prints only
/// the trailer after a warning.
#[test]
fn pipe_is_read_whole() {
    let s = Scratch::new("last-pipe");
    let mut rng = Rng::new(77);
    let bytes = encode(&history(&mut rng, 1_500_000_000, 40), false);
    let file = s.write("stdin", &bytes);
    let ours = util::run(
        s.applet("last").args(["-x", "-f", "/dev/stdin"]),
        Some(&bytes),
    );
    let theirs = util::run(util::peer("last").arg("-x").arg("-f").arg(&file), None);
    util::assert_same(&ours.stdout, &theirs.stdout, "pipe");
    assert!(ours.stderr.is_empty());
    let peer_pipe = util::run(util::peer("last").args(["-f", "/dev/stdin"]), Some(&bytes));
    assert_eq!(
        String::from_utf8_lossy(&peer_pipe.stderr),
        "last: seek on /dev/stdin failed: Illegal seek\n"
    );
}

#[test]
fn utmpx_400_byte_files_read_like_glibc_ones() {
    let s = Scratch::new("last-utmpx");
    let mut rng = Rng::new(400);
    let recs = history(&mut rng, 1_500_000_000, 80);
    let glibc = s.write("wtmp", &encode(&recs, false));
    let wide = s.write("wide/wtmp", &{
        std::fs::create_dir_all(s.path("wide")).unwrap();
        encode(&recs, true)
    });
    let ours = util::stdout_of(s.applet("last").arg("-x").arg("-f").arg(&wide));
    let theirs = util::stdout_of(&mut util::peer("last").arg("-x").arg("-f").arg(&glibc));
    util::assert_same(&ours, &theirs, "utmpx file");
}

/// With no -f, the default source: no native file in the (scratch) log
/// dir, so the legacy glibc paths, which the peers read too.
#[test]
fn default_files_match_util_linux() {
    let s = Scratch::new("last-default");
    compare(&s, "last", &[b"-x".to_vec()], "UTC");
    compare(&s, "lastb", &[], "UTC");
}

#[test]
fn json_lists_the_same_entries() {
    let s = Scratch::new("last-json");
    let t0 = 1_600_000_000;
    let mut login = Rec::new(7, b"pts/0", b"alice", b"10.0.0.5", t0 + 60);
    login.addr[..4].copy_from_slice(&[10, 0, 0, 5]);
    let recs = vec![
        Rec::new(2, b"~", b"reboot", b"6.1.0", t0),
        login,
        Rec::new(8, b"pts/0", b"", b"", t0 + 3660),
        Rec::new(7, b"tty1", b"q\"\\\x1b", b"", t0 + 4000),
        Rec::new(1, b"~", b"shutdown", b"6.1.0", t0 + 7200),
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

/// The records of util-linux's own test data (tests/ts/utmp/txt-a and
/// txt-ipv6: every ut_type, a 1991 login, a 1970 login ending in 2038,
/// IPv4 and IPv6 addresses) through the option runs of its `last` and
/// `last-ipv6` tests, `-d` left out (it would ask a resolver).
#[test]
fn util_linux_test_corpus() {
    let s = Scratch::new("last-corpus");
    let at = |day: i64, hour: i64| 1_377_648_000 + day * 86400 + hour * 3600;
    let mut recs = Vec::new();
    let names: [&[u8]; 10] = [
        b"nonvalid",
        b"runlevel",
        b"sysboot",
        b"newtime",
        b"oldtime",
        b"init",
        b"login",
        b"user_process",
        b"dead_process",
        b"accounting",
    ];
    for kind in (0..10i16).rev() {
        let host = [
            &b"zero"[..],
            b"one",
            b"two",
            b"three",
            b"four",
            b"five",
            b"six",
            b"seven",
            b"eight",
            b"nine",
        ][kind as usize];
        let mut r = Rec::new(
            kind,
            b"foo",
            names[kind as usize],
            host,
            at(0, 12 - kind as i64),
        );
        r.id = format!("ts/{kind}").into_bytes();
        r.pid = kind as i32;
        recs.push(r);
    }
    for (kind, hour) in [(7i16, 13), (8, 14)] {
        let mut r = Rec::new(kind, b"root", b"IPv4", b"dns-server", at(0, hour));
        r.addr[..4].copy_from_slice(&[198, 41, 0, 4]);
        r.pid = 10 + (kind as i32 - 7);
        recs.push(r);
    }
    for (kind, user, hour) in [
        (1i16, &b"shutdown"[..], 15),
        (2, b"reboot", 16),
        (1, b"shutdown", 17),
        (2, b"reboot", 18),
    ] {
        let mut r = Rec::new(kind, b"~", user, b"system-name", at(0, hour));
        r.pid = 12;
        recs.push(r);
    }
    let mut linus = Rec::new(7, b"linux", b"torvalds", b"hobby", 683_167_028);
    linus.addr[..4].copy_from_slice(&[128, 214, 205, 14]);
    recs.push(linus);
    recs.push(Rec::new(7, b"long", b"rick", b"never-gonna-logout", 0));
    recs.push(Rec::new(
        8,
        b"long",
        b"rick",
        b"never-gonna-logout",
        2_147_483_647,
    ));
    let path = s.write("wtmp-a", &encode(&recs, false));
    let mut v6 = Vec::new();
    for (kind, secs) in [(7i16, 1_377_721_840), (8, 1_377_722_450)] {
        let mut r = Rec::new(kind, b"root", b"IPv6", b"dns-server", secs);
        r.addr = [
            0x20, 0x01, 0x05, 0x03, 0xba, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0x30,
        ];
        v6.push(r);
    }
    let v6path = s.write("wtmp-ipv6", &encode(&v6, false));
    let runs: &[&[&str]] = &[
        &[],
        &["-x"],
        &["-i", "torvalds"],
        &["-R", "torvalds"],
        &["-F"],
        &["--time-format=full"],
        &["--time-format=notime"],
        &["--time-format=iso", "-w"],
        &["-s", "2013-08-28 02:20", "-t", "2013-08-28 08:20"],
        &["-p", "2013-08-28 11:20"],
        &["-i", "root"],
        &["-w", "-i", "root"],
        &["-a", "-i", "root"],
    ];
    for file in [&path, &v6path] {
        for run in runs {
            let mut args = file_args(file);
            args.extend(run.iter().map(|a| a.as_bytes().to_vec()));
            compare(&s, "last", &args, "GMT");
        }
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// utmpbox's own log format (docs/FORMAT.md), written independently of
/// the crate's codec.
fn encode_native(records: &[Rec]) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    out[..8].copy_from_slice(b"UTMPBOX\0");
    out[8..10].copy_from_slice(&1u16.to_le_bytes());
    out[10..12].copy_from_slice(&64u16.to_le_bytes());
    out[12..16].copy_from_slice(&512u32.to_le_bytes());
    out[16..20].copy_from_slice(&1u32.to_le_bytes());
    let crc = crc32(&out[..60]);
    out[60..64].copy_from_slice(&crc.to_le_bytes());
    for r in records {
        let mut b = vec![0u8; 512];
        b[0..2].copy_from_slice(&r.kind.to_le_bytes());
        b[4..8].copy_from_slice(&r.pid.to_le_bytes());
        b[16..24].copy_from_slice(&(r.secs * 1_000_000).to_le_bytes());
        b[24..40].copy_from_slice(&r.addr);
        put(&mut b[40..72], &r.line);
        put(&mut b[72..76], &r.id);
        put(&mut b[76..140], &r.user);
        put(&mut b[140..396], &r.host);
        let crc = crc32(&b[..508]);
        b[508..].copy_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&b);
    }
    out
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
        util::assert_same(&by_file.stdout, &theirs.stdout, "native -f");
        util::assert_same(&by_default.stdout, &theirs.stdout, "native default");
        util::assert_same(&by_default.stderr, &theirs.stderr, "native default stderr");
    }
    // btmp for lastb, the same way.
    let failed: Vec<Rec> = recs.iter().filter(|r| r.kind == 7).cloned().collect();
    let glibc_b = s.write("glibc/btmp", &encode(&failed, false));
    s.write("log/btmp", &encode_native(&failed));
    let theirs = util::stdout_of(util::peer("lastb").arg("-f").arg(&glibc_b));
    let ours = util::stdout_of(&mut s.applet("lastb"));
    util::assert_same(&ours, &theirs, "native btmp");

    // A corrupt record is reported and skipped, never misread.
    let mut bytes = encode_native(&recs);
    bytes[64 + 512 * 3 + 50] ^= 0x20;
    let broken = s.write("broken", &bytes);
    let mut rest = recs.clone();
    rest.remove(3);
    let twin = s.write("glibc/broken", &encode(&rest, false));
    let ours = util::run(s.applet("last").arg("-x").arg("-f").arg(&broken), None);
    let theirs = util::run(util::peer("last").arg("-x").arg("-f").arg(&twin), None);
    util::assert_same(&ours.stdout, &theirs.stdout, "corrupt native record");
    assert_eq!(
        String::from_utf8_lossy(&ours.stderr),
        format!(
            "last: {}: record 3 is corrupt (checksum mismatch), skipped\n{}",
            broken.display(),
            String::from_utf8_lossy(&theirs.stderr)
        )
    );
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
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return;
    };
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
