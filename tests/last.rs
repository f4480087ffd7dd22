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

#[path = "last/compat.rs"]
mod compat;
#[path = "last/gen.rs"]
pub mod gen;

use gen::*;

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
    let expected = escaped_as_ours(&theirs.stdout);
    util::assert_same(&ours.stdout, &expected, format!("{what} (stdout)"));
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
    recs.sort_by_key(|r| r.sec);
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
        let mut r = Rec::of_bytes(
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
                let mut r =
                    Rec::of_bytes(6, rng.bytes(LINES), rng.bytes(USERS), rng.bytes(HOSTS), t);
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
        &["-x\u{e9}"],
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
            let expected = escaped_as_ours(&theirs.stdout);
            util::assert_same(ours.as_bytes(), &expected, format!("{applet} {flag}"));
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
    util::assert_same(&ours, &escaped_as_ours(&theirs), "utmpx file");
}

/// With no -f, the default source: no native file in the (scratch) log
/// dir, so the legacy glibc paths, which the peers read too.
#[test]
fn default_files_match_util_linux() {
    let s = Scratch::new("last-default");
    compare(&s, "last", &[b"-x".to_vec()], "UTC");
    compare(&s, "lastb", &[], "UTC");
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
        let mut r = Rec::of_bytes(
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
        let mut r = Rec::of_bytes(kind, b"root", b"IPv4", b"dns-server", at(0, hour));
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
        let mut r = Rec::of_bytes(kind, b"~", user, b"system-name", at(0, hour));
        r.pid = 12;
        recs.push(r);
    }
    let mut linus = Rec::of_bytes(7, b"linux", b"torvalds", b"hobby", 683_167_028);
    linus.addr[..4].copy_from_slice(&[128, 214, 205, 14]);
    recs.push(linus);
    recs.push(Rec::of_bytes(7, b"long", b"rick", b"never-gonna-logout", 0));
    recs.push(Rec::of_bytes(
        8,
        b"long",
        b"rick",
        b"never-gonna-logout",
        2_147_483_647,
    ));
    let path = s.write("wtmp-a", &encode(&recs, false));
    let mut v6 = Vec::new();
    for (kind, secs) in [(7i16, 1_377_721_840), (8, 1_377_722_450)] {
        let mut r = Rec::of_bytes(kind, b"root", b"IPv6", b"dns-server", secs);
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

/// glibc getopt permutes operands after options, unless POSIXLY_CORRECT
/// is set; then the first operand ends the options.
#[test]
fn operand_order_follows_getopt() {
    let s = Scratch::new("last-posix");
    let mut rng = Rng::new(31);
    let path = s.write(
        "wtmp",
        &encode(&history(&mut rng, 1_400_000_000, 80), false),
    );
    for posix in [false, true] {
        for args in [
            &["alice", "-x"][..],
            &["root", "-n", "2", "bob"],
            &["-", "-w"],
        ] {
            let mut ours = s.applet("last");
            let mut theirs = util::peer("last");
            for cmd in [&mut ours, &mut theirs] {
                cmd.arg("-f").arg(&path).args(args);
                if posix {
                    cmd.env("POSIXLY_CORRECT", "1");
                }
            }
            let (ours, theirs) = (util::run(&mut ours, None), util::run(&mut theirs, None));
            let what = format!("POSIXLY_CORRECT={posix} {args:?}");
            util::assert_same(&ours.stdout, &escaped_as_ours(&theirs.stdout), &what);
            assert_eq!(ours.status.code(), theirs.status.code(), "{what}");
        }
    }
}
