//! `w` edge cases against procps-ng 4.0.2 (same namespace set-up as
//! `tests/w.rs`), and the deliberate differences of docs/COMPAT.md `## w`,
//! each on its own.

use crate::util::{assert_same, peer, run, Scratch};
use crate::utmpfile::{self, Entry};
use crate::w::{case, compare_all, dead_pid, in_namespace, now, world, Case, Children, Pty};

/// IDLE at second resolution (and the 60 s edge), in long and short form.
/// Few cases, so a retry after a straddled second is cheap.
#[test]
fn seconds_resolution_idle_matches() {
    let s = Scratch::new("w-seconds");
    let t = now();
    let ptys: Vec<Pty> = (0..4).map(|_| Pty::open(80)).collect();
    let children = Children(
        ptys.iter()
            .map(|p| p.spawn(&["sleep", "1010"], None, None))
            .collect(),
    );
    for pty in &ptys {
        pty.wait_for(1);
    }
    for (pty, ago) in ptys.iter().zip([5, 60, 61, 10 * 60 + 30]) {
        pty.set_atime(t - ago);
    }
    let entries: Vec<Entry> = ptys
        .iter()
        .zip(&children.0)
        .map(|(pty, child)| Entry::new(7, child.id() as i32, pty.line(), "root", "", t - 50))
        .collect();
    let cases: Vec<Case> = ["", "-s", "-o", "-so"]
        .iter()
        .map(|a| case(a, "LC_ALL=C"))
        .collect();
    compare_all(&s, &utmpfile::glibc(&entries), &cases);
}

/// Lines whose tidied name is empty: `:0` (IDLE `?xdm?`), an empty line
/// and `-x` (procps stats /dev itself). Their JCPU would sum every process
/// without a terminal, which moves, so only the short form is compared.
/// COMPAT ("Every reader"): procps takes the IDLE of an empty line and of
/// `-x` from the atime of /dev, which is no terminal; utmpbox shows no
/// idle time (`0.00s`), so in procps's output those are set to it.
#[test]
fn lines_without_a_tty_name_in_short_form() {
    let s = Scratch::new("w-notty");
    let t = now();
    let pty = Pty::open(80);
    let children = Children(vec![pty.spawn(&["sleep", "1011"], None, None)]);
    pty.wait_for(1);
    let pid = children.0[0].id() as i32;
    let entries: Vec<Entry> = [":0", "", "-x", ":1.0", "0", "x y"]
        .iter()
        .map(|line| Entry::new(7, pid, line, "root", "", t - 100))
        .collect();
    let cases: Vec<Case> = ["-s", "-su", "-sh", "-sf"]
        .iter()
        .map(|a| case(a, "LC_ALL=C"))
        .collect();
    let utmp = utmpfile::glibc(&entries);
    for attempt in 0..3 {
        let results = in_namespace(&s, &utmp, &cases);
        let expected = |theirs: &[u8]| -> Vec<u8> {
            let text = String::from_utf8_lossy(theirs);
            let rows: Vec<String> = text
                .split_inclusive('\n')
                .map(|row| match row.get(..18) {
                    Some("root              ") | Some("root     -x       ") => {
                        let idle = row.rfind(" sleep").unwrap_or(row.len());
                        format!("{} 0.00s{}", &row[..idle - 6], &row[idle..])
                    }
                    _ => row.to_string(),
                })
                .collect();
            rows.concat().into_bytes()
        };
        let bad = results.iter().position(|[before, theirs, after]| {
            let want = expected(theirs);
            *before != want && *after != want
        });
        match bad {
            None => {
                let theirs = String::from_utf8_lossy(&results[0][1]).into_owned();
                assert!(theirs.contains(" ?xdm?  sleep 1011\n"));
                let ours = String::from_utf8_lossy(&results[0][0]).into_owned();
                assert!(ours.contains("\nroot     -x       -                 0.00s sleep 1011\n"));
                return;
            }
            Some(i) if attempt == 2 => {
                let [before, theirs, _] = &results[i];
                crate::util::assert_same(before, &expected(theirs), "w with lines that are no tty");
            }
            Some(_) => {}
        }
    }
}

/// WHAT's width from stdout's terminal, which wins over $COLUMNS.
#[test]
fn what_width_from_the_terminal() {
    let s = Scratch::new("w-winsize");
    let w = world();
    let utmp = utmpfile::glibc(&w.entries);
    for cols in [30u16, 90, 600] {
        let outs: Vec<Pty> = (0..3).map(|_| Pty::open(cols)).collect();
        let mut ok = false;
        for _ in 0..3 {
            let mut c = case("-u", "COLUMNS=200 LC_ALL=C");
            c.ttys = Some([0, 1, 2].map(|k| outs[k].path.clone()));
            let statuses = in_namespace(&s, &utmp, &[c]);
            assert!(
                statuses[0].iter().all(|st| st == b"[exit 0]\n"),
                "{:?}",
                statuses[0]
                    .iter()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect::<Vec<_>>()
            );
            let [before, theirs, after] = [0, 1, 2].map(|k| outs[k].output());
            assert!(theirs.len() > 200, "peer wrote to the tty");
            if before == theirs || after == theirs {
                ok = true;
                break;
            }
            assert_same(&before, &theirs, format!("w -u on a {cols}-column tty"));
        }
        assert!(ok);
    }
}

/// utmpbox's own table (native format under $UTMPBOX_RUNDIR) reads as
/// procps reads the same sessions from the legacy /run/utmp.
#[test]
fn native_table_reads_like_the_legacy_file() {
    let s = Scratch::new("w-native");
    let w = world();
    let rundir = s.path("run");
    std::fs::create_dir_all(&rundir).unwrap();
    std::fs::write(rundir.join("utmp"), utmpfile::native(&w.entries)).unwrap();
    let env = format!("UTMPBOX_RUNDIR='{}' LC_ALL=C COLUMNS=200", rundir.display());
    let cases = vec![case("-u", &env), case("-i", &env), case("", &env)];
    compare_all(&s, &utmpfile::glibc(&w.entries), &cases);
}

/// The usage text with the `-p` line utmpbox adds (procps 4.0.3's).
fn with_pids_line(usage: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(usage);
    let anchor = " -i, --ip-addr       display IP address instead of hostname (if possible)\n";
    assert!(text.contains(anchor), "{text}");
    text.replace(
        anchor,
        &format!("{anchor} -p, --pids          show the PID(s) of processes in WHAT\n"),
    )
    .into_bytes()
}

#[test]
fn help_and_usage_errors_match_with_the_pids_line() {
    let s = Scratch::new("w-usage");
    for args in [
        &["--help"][..],
        &["--he"],
        &["-x"],
        &["-l"],
        &["--bogus"],
        &["--no"],
        &["--help", "-x"],
        &["-x", "--help"],
        &["--short=1"],
        &["-h", "--help"],
    ] {
        let ours = run(s.applet("w").args(args), None);
        let theirs = run(peer("w").args(args), None);
        let what = format!("w {args:?}");
        assert_eq!(ours.status.code(), theirs.status.code(), "{what} status");
        assert_same(
            &ours.stdout,
            &with_pids_line_opt(&theirs.stdout),
            format!("{what} stdout"),
        );
        assert_same(
            &ours.stderr,
            &with_pids_line_opt(&theirs.stderr),
            format!("{what} stderr"),
        );
    }
    let out = run(s.applet("w").arg("-V"), None);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.starts_with(b"w (utmpbox) "));
    // -p is an option here (4.0.3), not a usage error.
    let out = run(s.applet("w").args(["-p", "-h", "nosuchuser"]), None);
    assert_eq!((out.status.code(), &out.stdout[..]), (Some(0), &b""[..]));
}

/// The usage text appears in stderr only after an error line.
fn with_pids_line_opt(bytes: &[u8]) -> Vec<u8> {
    if bytes.windows(7).any(|w| w == b"Usage:\n") {
        with_pids_line(bytes)
    } else {
        bytes.to_vec()
    }
}

/// `-p` (procps 4.0.3): ` LOGINPID/WHATPID` before WHAT, taken from
/// WHAT's width. The rest of each row is procps 4.0.2's `w -u`.
#[test]
fn pids_option_adds_login_and_what_pids() {
    let s = Scratch::new("w-pids");
    let w = world();
    let utmp = utmpfile::glibc(&w.entries);
    let shown: Vec<i32> = w
        .entries
        .iter()
        .filter(|e| e.kind == 7 && !e.user.is_empty() && e.pid != 0)
        // SAFETY: signal 0 only asks whether the process exists.
        .filter(|e| unsafe { libc::kill(e.pid, 0) } == 0)
        .map(|e| e.pid)
        .collect();
    for attempt in 0..3 {
        let cases = [
            case("-up", "LC_ALL=C COLUMNS=200"),
            case("-u", "LC_ALL=C COLUMNS=200"),
        ];
        let results = in_namespace(&s, &utmp, &cases);
        let ours = String::from_utf8(results[0][0].clone()).unwrap();
        let theirs = String::from_utf8(results[1][1].clone()).unwrap();
        let mut stripped = String::new();
        let mut pids = Vec::new();
        for (i, line) in ours.lines().enumerate() {
            if i < 2 || line.starts_with("[exit") {
                stripped.push_str(line);
            } else {
                // Long form, default widths: WHAT starts at column 63.
                let (head, tail) = line.split_at(63);
                let tail = tail.strip_prefix(' ').unwrap();
                let (token, what) = tail.split_once(' ').unwrap();
                let (login, best) = token.split_once('/').unwrap();
                pids.push((login.parse::<i32>().unwrap(), best.parse::<i32>().unwrap()));
                stripped.push_str(&format!("{head} {what}"));
            }
            stripped.push('\n');
        }
        if stripped != theirs && attempt < 2 {
            continue; // the clock second ticked between the runs
        }
        assert_same(
            stripped.as_bytes(),
            theirs.as_bytes(),
            "w -up without its pids",
        );
        let logins: Vec<i32> = pids.iter().map(|p| p.0).collect();
        assert_eq!(logins, shown, "login pids in utmp order");
        // The shell of tty 0 exec'd its sleep: WHAT is the login process.
        assert_eq!(pids[0].0, pids[0].1);
        // On tty 1 WHAT is the background job, not the login process.
        assert_ne!(pids[1].0, pids[1].1);
        break;
    }
    // Too narrow for the pids: WHAT is left empty.
    let c = case("-uph", "LC_ALL=C COLUMNS=70");
    let results = in_namespace(&s, &utmp, &[c]);
    let first = String::from_utf8(results[0][0].clone()).unwrap();
    let line = first.lines().next().unwrap();
    assert!(
        line.ends_with(&format!(" {}/{} ", shown[0], shown[0])),
        "{line:?}"
    );
}

/// USER and TTY bytes that are not printable are escaped (procps prints
/// them raw); the width counts the escaped bytes.
#[test]
fn unprintable_user_and_line_are_escaped() {
    let s = Scratch::new("w-escape");
    let t = now();
    let pty = Pty::open(80);
    let children = Children(vec![pty.spawn(&["sleep", "1012"], None, None)]);
    pty.wait_for(1);
    pty.set_atime(t - 3 * 86400);
    let pid = children.0[0].id() as i32;
    let line = format!("{}\x1b", pty.line());
    let entries = vec![Entry::new(7, pid, &line, "a\x1bb", "", t - 100)];
    let results = in_namespace(&s, &utmpfile::glibc(&entries), &[case("-uh", "LC_ALL=C")]);
    let [ours, theirs, _] = &results[0];
    let raw_line = format!("{:<9}", line);
    let escaped_line = format!("{:<9}", format!("{}*[", pty.line()));
    let expected = String::from_utf8_lossy(theirs)
        .replacen("a\x1bb      ", "a*[b     ", 1)
        .replacen(&raw_line, &escaped_line, 1);
    assert!(!expected.contains('\x1b'));
    assert_same(ours, expected.as_bytes(), "escaped USER and TTY");
}

/// No user sessions: the uptime line says `0 users` (upstream's fix, as
/// utmpbox's uptime says it), procps 4.0.2 `0 user`.
#[test]
fn no_sessions_say_zero_users() {
    let s = Scratch::new("w-zero");
    let entries = vec![
        Entry::new(2, 0, "~", "reboot", "6.1.0", now() - 5000),
        Entry::new(7, dead_pid(), "pts/99", "", "", now() - 100),
    ];
    for attempt in 0..3 {
        let results = in_namespace(&s, &utmpfile::glibc(&entries), &[case("", "LC_ALL=C")]);
        let [before, theirs, after] = &results[0];
        let theirs = String::from_utf8_lossy(theirs);
        assert!(theirs.contains(",  0 user,  "), "{theirs}");
        let expected = theirs.replace(",  0 user,  ", ",  0 users,  ");
        if before == expected.as_bytes() || after == expected.as_bytes() {
            break;
        }
        if attempt == 2 {
            assert_same(before, expected.as_bytes(), "no sessions");
        }
    }
}

/// Random hosts, addresses and login times (tests/utmpfile.rs's
/// generator) on one live session: FROM with and without `-i`, at several
/// FROM widths, and LOGIN@ in three time zones.
#[test]
fn random_hosts_addresses_and_login_times_match() {
    let s = Scratch::new("w-random");
    let pty = Pty::open(80);
    let children = Children(vec![pty.spawn(&["sleep", "1013"], None, None)]);
    pty.wait_for(1);
    pty.set_atime(now() - 5 * 86400);
    let pid = children.0[0].id() as i32;
    for seed in 1..=3u64 {
        let mut rng = utmpfile::Rng::new(seed);
        let entries: Vec<Entry> = (0..120)
            .map(|_| {
                let mut e = utmpfile::random_entry(&mut rng, now());
                e.kind = 7;
                e.pid = pid;
                e.user = b"root".to_vec();
                e.line = pty.line().as_bytes().to_vec();
                e
            })
            .collect();
        let mut cases = Vec::new();
        for env in [
            "",
            "PROCPS_FROMLEN=8",
            "PROCPS_FROMLEN=23",
            "PROCPS_FROMLEN=256",
        ] {
            for args in ["-h", "-ih"] {
                cases.push(case(args, &format!("LC_ALL=C COLUMNS=300 {env}")));
            }
        }
        for tz in ["Europe/Berlin", "America/St_Johns", "Pacific/Kiritimati"] {
            cases.push(case("-ih", &format!("LC_ALL=C.UTF-8 TZ={tz}")));
        }
        compare_all(&s, &utmpfile::glibc(&entries), &cases);
    }
}
