//! `last NAMES` through wtmpd prints what it prints from the file and what
//! util-linux prints, while wtmpd sends only the sessions of NAMES
//! (protocol filter 64, src/daemon/log_sessions.rs). The records that end a listed session need not carry
//! the name asked for: a logout has an empty user, another user's login on
//! the same line ends a session, and a user may be named like the terminal
//! asked for and log in on another line. So the records `last NAMES` needs
//! are not those naming NAMES plus logouts and boots (applets/last/
//! report.rs, `Report::filter`). These cases fail for a filter that keeps
//! only the records naming a user or line asked for, with or without all
//! logouts, boots and shutdowns.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::daemon_util::{self as du, log_dir, run_dir, Daemon, Raw, LOG_READ};
use crate::last::gen::{encode, encode_native, escaped_as_ours, history, Rec, LINES, USERS};
use crate::util::{self, Scratch};
use crate::utmpfile::Rng;

/// A boot at T0 and the sessions below, then a shutdown and a boot.
const T0: i64 = 1_450_000_020;

fn rec(kind: i16, pid: i32, line: &str, user: &str, at: i64) -> Rec {
    Rec::new(kind, pid, line, user, "10.0.0.5", T0 + at)
}

fn sessions() -> Vec<Rec> {
    vec![
        rec(2, 0, "~", "reboot", 0),
        // alice on pts/3 ends when bob logs in on it (100 s later), not
        // at bob's logout.
        rec(7, 100, "pts/3", "alice", 60),
        rec(7, 200, "pts/3", "bob", 160),
        rec(8, 200, "pts/3", "", 400),
        // A user named like the terminal asked for, on another line: its
        // session ends when carol logs in there, a record that names
        // neither the user nor the line asked for.
        rec(7, 300, "pts/7", "pts/3", 460),
        rec(7, 350, "pts/7", "carol", 560),
        rec(8, 350, "pts/7", "", 700),
        // alice again, ended by an anonymous logout.
        rec(7, 400, "pts/5", "alice", 760),
        rec(8, 400, "pts/5", "", 1000),
        rec(1, 20018, "~", "shutdown", 1060),
        rec(2, 0, "~", "reboot", 1120),
    ]
}

/// The entries of `last`'s output, without the trailer, which names the
/// file read.
fn entries(out: &[u8]) -> Vec<u8> {
    let end = if out.first() == Some(&b'\n') {
        0
    } else {
        out.windows(2)
            .position(|w| w == b"\n\n")
            .unwrap_or(out.len())
    };
    out[..end].to_vec()
}

#[test]
fn names_asked_of_last_through_wtmpd_print_what_the_file_and_util_linux_print() {
    let s = Scratch::new("last-names");
    let recs = sessions();
    std::fs::create_dir_all(log_dir(&s)).unwrap();
    let wtmp = log_dir(&s).join("wtmp");
    std::fs::write(&wtmp, encode_native(&recs)).unwrap();
    let glibc = s.write("glibc-wtmp", &encode(&recs, false));
    let w = Daemon::start(&s, "wtmpd", &[]);
    let cases: &[&[&str]] = &[
        &["alice"],
        &["pts/3"],
        &["bob", "pts/7"],
        &["-x", "alice"],
        &["-n", "1", "alice"],
        &["-n", "2", "pts/3"],
        &["-w", "pts/3", "alice"],
        &["-x", "-n", "3", "bob"],
        &["--since", "2015-12-13 09:49:00", "alice"],
        &["--until", "2015-12-13 09:52:00", "alice", "pts/7"],
        &["-p", "2015-12-13 09:50:00", "alice", "bob"],
        &["nobody-here", "pts/9"],
    ];
    let (mut alice, mut tty_named) = (Vec::new(), Vec::new());
    for args in cases {
        let what = args.join(" ");
        let daemon = util::run(s.applet("last").args(*args), None);
        let direct = util::run(s.applet("last").args(*args).arg("-f").arg(&wtmp), None);
        let theirs = util::run(util::peer("last").args(*args).arg("-f").arg(&glibc), None);
        assert_eq!(daemon.status.code(), Some(0), "{what}");
        assert_eq!(String::from_utf8_lossy(&daemon.stderr), "", "{what}");
        util::assert_same(
            &daemon.stdout,
            &direct.stdout,
            format!("{what}: wtmpd vs file"),
        );
        util::assert_same(
            &entries(&direct.stdout),
            &entries(&escaped_as_ours(&theirs.stdout)),
            format!("{what}: utmpbox vs util-linux"),
        );
        match what.as_str() {
            "alice" => alice = daemon.stdout,
            "pts/3" => tty_named = daemon.stdout,
            _ => {}
        }
    }
    // What a name filter would get wrong, seen in the output: alice's
    // first session lasted until bob's login (1:40), not bob's logout.
    let alice = String::from_utf8_lossy(&alice);
    let pts3: Vec<&str> = alice.lines().filter(|l| l.contains("pts/3")).collect();
    assert_eq!(pts3.len(), 1, "{alice}");
    assert!(pts3[0].ends_with("(00:01)"), "{alice}");
    let pts5: Vec<&str> = alice.lines().filter(|l| l.contains("pts/5")).collect();
    assert_eq!(pts5.len(), 1, "{alice}");
    assert!(pts5[0].ends_with("(00:04)"), "{alice}");
    // And the session of the user named "pts/3" on pts/7 lasted until
    // carol's login there.
    let tty_named = String::from_utf8_lossy(&tty_named);
    let pts7: Vec<&str> = tty_named.lines().filter(|l| l.contains("pts/7")).collect();
    assert_eq!(pts7.len(), 1, "{tty_named}");
    assert!(pts7[0].ends_with("(00:01)"), "{tty_named}");
    assert!(w.stop());
}

/// A LOG_READ for the sessions of `names` (filters 32 and 64).
fn sessions_query(names: &[&str], before: u64, max: u16) -> Vec<u8> {
    let mut p = vec![1, 32 | 64];
    p.extend_from_slice(&max.to_le_bytes());
    p.extend_from_slice(&before.to_le_bytes());
    p.extend_from_slice(&[0u8; 16]);
    p.extend_from_slice(&[0, 0]);
    p.push(names.len() as u8);
    for name in names {
        p.push(name.len() as u8);
        p.extend_from_slice(name.as_bytes());
    }
    p
}

/// (next, (time offset from T0, user) of each record) of a LOG_READ reply.
fn replied(payload: &[u8]) -> (u64, Vec<(i64, String)>) {
    let next = u64::from_le_bytes(payload[..8].try_into().unwrap());
    let count = u32::from_le_bytes(payload[8..12].try_into().unwrap()) as usize;
    let records: Vec<(i64, String)> = payload[12..12 + count * 512]
        .chunks(512)
        .map(|c| du::Rec::decode(c).unwrap())
        .map(|r| {
            let at = r.time_us / 1_000_000 - T0;
            (at, String::from_utf8_lossy(&r.user).into_owned())
        })
        .collect();
    (next, records)
}

#[test]
fn wtmpd_sends_the_sessions_of_the_names_and_what_ends_them() {
    let s = Scratch::new("last-sessions-wire");
    std::fs::create_dir_all(log_dir(&s)).unwrap();
    std::fs::write(log_dir(&s).join("wtmp"), encode_native(&sessions())).unwrap();
    let w = Daemon::start(&s, "wtmpd", &[]);
    let socket = run_dir(&s).join("wtmpd.sock");
    let mut raw = Raw::connect(&socket);
    let (status, payload) = raw
        .call(
            LOG_READ,
            &sessions_query(&["alice", "ttyalice"], u64::MAX, 1024),
        )
        .unwrap();
    assert_eq!(status, 0, "{}", String::from_utf8_lossy(&payload));
    let (next, mut records) = replied(&payload);
    assert_eq!(next, 0);
    // wtmpd's own record of this boot, newest of all.
    assert_eq!(records.remove(0).1, "reboot");
    // Newest first: the boots and the shutdown, alice's sessions, and the
    // record after each on its line (the anonymous logout on pts/5, bob's
    // login on pts/3); not bob's logout, nor anything on pts/7.
    let want = [
        (1120, "reboot"),
        (1060, "shutdown"),
        (1000, ""),
        (760, "alice"),
        (160, "bob"),
        (60, "alice"),
        (0, "reboot"),
    ];
    let want: Vec<(i64, String)> = want.iter().map(|&(t, u)| (t, u.to_string())).collect();
    assert_eq!(records, want);

    // A request ends with the oldest record of each line since the last
    // boot that it has not sent: with one record a request, bob's login
    // comes in the first, and ends alice's session sent in the second.
    let (status, payload) = raw
        .call(LOG_READ, &sessions_query(&["alice"], 3, 1))
        .unwrap();
    assert_eq!(status, 0);
    assert_eq!(replied(&payload), (2, vec![(160, "bob".to_string())]));
    let (_, payload) = raw
        .call(LOG_READ, &sessions_query(&["alice"], 2, 1))
        .unwrap();
    assert_eq!(replied(&payload), (1, vec![(60, "alice".to_string())]));
    assert!(w.stop());
}

/// Random histories, some longer than one request scans (4,096 records),
/// and random names and options: through wtmpd as from the file.
#[test]
fn random_names_through_wtmpd_print_what_the_file_prints() {
    let s = Scratch::new("last-sessions-random");
    let mut rng = Rng::new(11);
    std::fs::create_dir_all(log_dir(&s)).unwrap();
    let wtmp = log_dir(&s).join("wtmp");
    for (round, count) in [300usize, 9000].into_iter().enumerate() {
        let recs = history(&mut rng, 1_300_000_000, count);
        std::fs::write(&wtmp, encode_native(&recs)).unwrap();
        let w = Daemon::start(&s, "wtmpd", &[]);
        for _ in 0..25 {
            let mut args: Vec<Vec<u8>> = Vec::new();
            for _ in 0..1 + rng.below(3) {
                let pool = if rng.chance(50) { USERS } else { LINES };
                args.push(rng.bytes(pool).to_vec());
            }
            if rng.chance(15) {
                // Bare tty numbers, matched as "tty" + name.
                args.push(b"1".to_vec());
            }
            match rng.below(6) {
                0 => args.push(b"-x".to_vec()),
                1 => args.extend([b"-n".to_vec(), format!("{}", rng.below(40)).into_bytes()]),
                2 => args.push(b"-w".to_vec()),
                _ => {}
            }
            let os: Vec<&OsStr> = args.iter().map(|a| OsStr::from_bytes(a)).collect();
            let what = format!("round {round}: last {:?}", os);
            let daemon = util::run(s.applet("last").env("TZ", "UTC").args(&os), None);
            let direct = util::run(
                s.applet("last")
                    .env("TZ", "UTC")
                    .args(&os)
                    .arg("-f")
                    .arg(&wtmp),
                None,
            );
            util::assert_same(&daemon.stdout, &direct.stdout, format!("{what} (stdout)"));
            util::assert_same(&daemon.stderr, &direct.stderr, format!("{what} (stderr)"));
            assert_eq!(daemon.status.code(), direct.status.code(), "{what}");
        }
        assert!(w.stop());
    }
}

/// One line reused by many users between boots: each session ends at the
/// next login on the line, whoever it is.
#[test]
fn a_line_reused_by_many_users_through_wtmpd() {
    let s = Scratch::new("last-sessions-reused");
    let mut recs = vec![rec(2, 0, "~", "reboot", 0)];
    let users = ["alice", "bob", "carol", "dave"];
    for i in 0..400i64 {
        let user = users[(i * 7 % 4) as usize];
        recs.push(rec(7, 100 + i as i32, "pts/0", user, 10 + i * 30));
        if i % 3 == 0 {
            recs.push(rec(8, 100 + i as i32, "pts/0", "", 20 + i * 30));
        }
        if i % 97 == 96 {
            recs.push(rec(2, 0, "~", "reboot", 25 + i * 30));
        }
    }
    std::fs::create_dir_all(log_dir(&s)).unwrap();
    let wtmp = log_dir(&s).join("wtmp");
    std::fs::write(&wtmp, encode_native(&recs)).unwrap();
    let glibc = s.write("glibc-wtmp", &encode(&recs, false));
    let w = Daemon::start(&s, "wtmpd", &[]);
    for args in [
        &["carol"][..],
        &["dave", "alice"],
        &["-n", "5", "bob"],
        &["pts/0"],
    ] {
        let what = args.join(" ");
        let daemon = util::run(s.applet("last").env("TZ", "UTC").args(args), None);
        let direct = util::run(
            s.applet("last")
                .env("TZ", "UTC")
                .args(args)
                .arg("-f")
                .arg(&wtmp),
            None,
        );
        let theirs = util::run(
            util::peer("last")
                .env("TZ", "UTC")
                .args(args)
                .arg("-f")
                .arg(&glibc),
            None,
        );
        util::assert_same(
            &daemon.stdout,
            &direct.stdout,
            format!("{what}: wtmpd vs file"),
        );
        util::assert_same(
            &entries(&direct.stdout),
            &entries(&escaped_as_ours(&theirs.stdout)),
            format!("{what}: utmpbox vs util-linux"),
        );
    }
    assert!(w.stop());
}
