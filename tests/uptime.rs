//! `uptime` against procps-ng 4.0.2, run in a private mount namespace
//! where /proc/uptime and /proc/loadavg are bind-mounted fakes and /run is
//! a tmpfs holding a generated /run/utmp. Ours reads the same fakes through
//! `$UTMPBOX_PROC` (a test hook) and the same /run/utmp through its default
//! source. The upstream fixes we follow (docs/COMPAT.md `## uptime`) get
//! their own assertions.

use crate::util::{
    assert_same, fake_proc, in_namespace, namespace_setup, peer, quote as q, run, Scratch,
};
use crate::utmpfile::{self, Entry};

const UPTIMES: &[&str] = &[
    "0.00",
    "5.5",
    "59.99",
    "60",
    "60.5",
    "61",
    "119.5",
    "120",
    "3599.9",
    "3600",
    "3600.5",
    "3660",
    "3660.5",
    "7199",
    "86399.99",
    "86400",
    "86400.5",
    "90061",
    "172800",
    "604800",
    "604800.5",
    "1209600",
    "31536000",
    "31536000.5",
    "315360000",
    "347155200",
    "2147483647",
    "2147483648.5",
    "1e12",
    "-5",
    "12345.678",
];

/// `utmp` entries with `users` counted users, plus what procps must not
/// count (other kinds, a USER_PROCESS without a name, a dead pid).
fn utmp_with_users(users: usize) -> Vec<u8> {
    let mut entries = vec![
        Entry::new(2, 0, "~", "reboot", "6.1", 1_700_000_000),
        Entry::new(6, 5, "tty1", "LOGIN", "", 1_700_000_000),
        Entry::new(7, 5, "tty2", "", "", 1_700_000_000),
        Entry::new(8, 5, "pts/3", "", "", 1_700_000_000),
    ];
    for i in 0..users {
        // Same user twice and a pid that cannot exist: still counted.
        let name = if i % 2 == 0 { "root" } else { "alice" };
        entries.push(Entry::new(
            7,
            999_999_000 + i as i32,
            &format!("pts/{i}"),
            name,
            "",
            1_700_000_000,
        ));
    }
    utmpfile::glibc(&entries)
}

/// One namespace per utmp: for every uptime value, the peer's and our
/// default line and -p. Ours runs before and after the peer, so a clock
/// second ticking between them cannot fail the comparison.
fn run_all(s: &Scratch, users: usize, loadavg: &str) -> Vec<[Vec<u8>; 5]> {
    let fake = fake_proc(s, "0 0\n", loadavg);
    let utmp = s.write("utmp", &utmp_with_users(users));
    let ours = s.dir.join("bin/uptime");
    let mut script = namespace_setup(&utmp, Some(&fake));
    for (i, value) in UPTIMES.iter().enumerate() {
        let out = |k: usize| q(&s.path(&format!("o.{i}.{k}")));
        script.push_str(&format!(
            "printf '%s 1.00\\n' {value} > {up}\n{ours} > {o0}; uptime > {o1}; {ours} > {o2}; \
             uptime -p > {o3}; {ours} -p > {o4}\n",
            up = q(&fake.join("uptime")),
            ours = q(&ours),
            o0 = out(0),
            o1 = out(1),
            o2 = out(2),
            o3 = out(3),
            o4 = out(4),
        ));
    }
    in_namespace(s, &script, &[("UTMPBOX_PROC", &fake)]);
    (0..UPTIMES.len())
        .map(|i| {
            let read = |k: usize| std::fs::read(s.path(&format!("o.{i}.{k}"))).unwrap();
            [read(0), read(1), read(2), read(3), read(4)]
        })
        .collect()
}

/// procps 4.0.2's -p output for the edges upstream fixed, and ours.
fn pretty_fix(value: &str) -> Option<(&'static str, &'static str)> {
    Some(match value {
        "60" => ("up \n", "up 1 minute\n"),
        "3600" => ("up 60 minutes\n", "up 1 hour, 0 minutes\n"),
        "3660" => ("up 1 hour\n", "up 1 hour, 1 minute\n"),
        "86400" => ("up 24 hours, 0 minutes\n", "up 1 day, 0 minutes\n"),
        "604800" => ("up 7 days, 0 minutes\n", "up 1 week, 0 minutes\n"),
        "31536000" => (
            "up 52 weeks, 24 hours, 0 minutes\n",
            "up 1 year, 0 minutes\n",
        ),
        "315360000" => ("up 10 years, 0 minutes\n", "up 1 decade, 0 minutes\n"),
        _ => return None,
    })
}

#[test]
fn uptime_matches_procps_for_many_uptimes_and_user_counts() {
    for (users, loadavg) in [
        (0, "1.50 0.75 0.25 1/1 1\n"),
        (1, "0.00 0.01 0.05 2/100 7\n"),
        (2, "12.34 5.678 0.125 1/1 1\n"),
        (5, "100.00 99.99 0.375 3/300 9\n"),
    ] {
        let s = Scratch::new("uptime");
        for (value, [ours_before, theirs, ours_after, theirs_p, ours_p]) in
            UPTIMES.iter().zip(run_all(&s, users, loadavg))
        {
            let what = format!("uptime={value} users={users}");
            // "0 user" is procps 4.0.2's wording; upstream (4.0.5) and we
            // say "0 users".
            let expected = if users == 0 {
                let text = String::from_utf8(theirs.clone()).unwrap();
                assert!(text.contains(",  0 user,  "), "{what}: peer says {text}");
                text.replace(",  0 user,  ", ",  0 users,  ").into_bytes()
            } else {
                theirs
            };
            if ours_before != expected {
                assert_same(&ours_after, &expected, &what);
            }
            match pretty_fix(value) {
                Some((peer_text, our_text)) => {
                    assert_same(&theirs_p, peer_text.as_bytes(), format!("{what} peer -p"));
                    assert_same(&ours_p, our_text.as_bytes(), format!("{what} -p"));
                }
                None => assert_same(&ours_p, &theirs_p, format!("{what} -p")),
            }
        }
    }
}

#[test]
fn since_matches_procps_to_the_second() {
    let s = Scratch::new("uptime-since");
    let fake = s.path("proc");
    std::fs::create_dir_all(&fake).unwrap();
    for value in ["5.5", "3600", "86400.25", "347155200"] {
        std::fs::write(fake.join("uptime"), format!("{value} 1.00\n")).unwrap();
        let script = format!(
            "mount --bind '{}' /proc/uptime && uptime -s",
            fake.join("uptime").display()
        );
        for tz in ["UTC", "Europe/Berlin"] {
            let theirs = run(
                peer("unshare")
                    .args(["-m", "sh", "-c", &script])
                    .env("TZ", tz),
                None,
            );
            let ours = run(
                s.applet("uptime")
                    .arg("-s")
                    .env("UTMPBOX_PROC", &fake)
                    .env("TZ", tz),
                None,
            );
            assert!(ours.status.success() && theirs.status.success());
            // The boot time is now minus the uptime; the two runs may
            // straddle a second, so allow one second either way.
            let parse = |b: &[u8]| -> i64 {
                let t = String::from_utf8_lossy(b);
                let out = run(
                    peer("date").args(["-d", t.trim(), "+%s"]).env("TZ", tz),
                    None,
                );
                String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
            };
            let (a, b) = (parse(&ours.stdout), parse(&theirs.stdout));
            assert!((a - b).abs() <= 1, "uptime -s {value} TZ={tz}: {a} vs {b}");
            assert_eq!(ours.stdout.len(), theirs.stdout.len());
        }
    }
}

#[test]
fn options_and_usage_errors() {
    let s = Scratch::new("uptime-usage");
    let fake = s.path("proc");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(fake.join("uptime"), "100.5 1\n").unwrap();
    std::fs::write(fake.join("loadavg"), "1 2 3 1/1 1\n").unwrap();
    for args in [
        &["extra"][..],
        &["-x"],
        &["--bogus"],
        &["-p", "extra"],
        &["-h"],
        &["--help"],
        &["--he"],
    ] {
        let ours = run(
            s.applet("uptime").args(args).env("UTMPBOX_PROC", &fake),
            None,
        );
        let theirs = run(peer("uptime").args(args), None);
        let what = format!("uptime {args:?}");
        assert_same(&ours.stdout, &theirs.stdout, format!("{what} stdout"));
        assert_same(&ours.stderr, &theirs.stderr, format!("{what} stderr"));
        assert_eq!(ours.status.code(), theirs.status.code(), "{what} status");
    }
    // -s acts when it is reached, before operands are looked at.
    let out = run(
        s.applet("uptime")
            .args(["x", "-s"])
            .env("UTMPBOX_PROC", &fake),
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout.len(), "2026-11-27 03:06:48\n".len());
    let out = run(s.applet("uptime").arg("-V"), None);
    assert!(out.status.success() && out.stdout.starts_with(b"uptime (utmpbox) "));
    let out = run(
        s.applet("uptime")
            .args(["--pre"])
            .env("UTMPBOX_PROC", &fake),
        None,
    );
    assert_same(&out.stdout, b"up 1 minute\n", "--pre");
    // No /proc/uptime: procps's message, exit 1.
    let out = run(s.applet("uptime").env("UTMPBOX_PROC", s.path("none")), None);
    assert_eq!(out.status.code(), Some(1));
    assert_same(
        &out.stderr,
        b"uptime: Cannot get system uptime: No such file or directory\n",
        "no /proc",
    );
}
