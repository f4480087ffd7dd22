//! `last NAMES` through wtmpd prints what it prints from the file and what
//! util-linux prints. The records that end a listed session need not carry
//! the name asked for: a logout has an empty user, another user's login on
//! the same line ends a session, and a user may be named like the terminal
//! asked for and log in on another line. So the records `last NAMES` needs
//! are not those naming NAMES plus logouts and boots (applets/last/
//! report.rs, `Report::filter`). These cases fail for a filter that keeps
//! only the records naming a user or line asked for, with or without all
//! logouts, boots and shutdowns.

use crate::daemon_util::{log_dir, Daemon};
use crate::last::gen::{encode, encode_native, escaped_as_ours, Rec};
use crate::util::{self, Scratch};

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
        // The trailer names the file read: compare the entries only.
        let entries = |out: &[u8]| -> Vec<u8> {
            let end = out
                .windows(2)
                .position(|w| w == b"\n\n")
                .unwrap_or(out.len());
            out[..end].to_vec()
        };
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
