//! lastlog through wtmpd: without `-R` it asks the daemon first (list to
//! print, set and clear for `-S`/`-C`), and reads or writes the files
//! itself only when no daemon answers.

use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::daemon_util::{as_nobody, log_dir, ok, read_native, run_dir, two_logins, Daemon, USER};
use crate::util::{assert_same, run, Scratch};

const READS: &[&[&str]] = &[
    &[],
    &["-u", "root"],
    &["-u", "nobody"],
    &["-u", "0-65534"],
    &["--json"],
];

fn lastlog(s: &Scratch, args: &[&str]) -> Output {
    run(s.applet("lastlog").args(args), None)
}

fn outputs(s: &Scratch) -> Vec<Output> {
    READS.iter().map(|args| lastlog(s, args)).collect()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// wtmpd keeping its lastlog at `lastlog`, away from the default path
/// the applet's file fallback reads, so only an answer from the daemon
/// can show these entries; utmpd too, for utmpset's logins.
fn daemons(s: &Scratch, lastlog: &Path) -> (Daemon, Daemon) {
    std::fs::create_dir_all(lastlog.parent().unwrap()).unwrap();
    let w = Daemon::start(s, "wtmpd", &["--lastlog", lastlog.to_str().unwrap()]);
    let u = Daemon::start(s, "utmpd", &["-S", "0"]);
    (u, w)
}

fn row_of(out: &Output, user: &str) -> String {
    text(out)
        .lines()
        .find(|l| l.starts_with(&format!("{user} ")))
        .unwrap_or_else(|| panic!("no row for {user}: {}", text(out)))
        .to_string()
}

#[test]
fn through_wtmpd_equals_the_file_after_it_stops() {
    let s = Scratch::new("ll-daemon");
    let kept: PathBuf = s.path("kept/lastlog");
    let default = log_dir(&s).join("lastlog");
    let (u, w) = daemons(&s, &kept);
    two_logins(&s);
    let first = lastlog(&s, &["-u", "root"]);
    ok(&first);
    assert_eq!(
        row_of(&first, "root"),
        format!(
            "{:<16} {:<8} {:<42}Mon Sep 21 14:13:20 +0000 2026",
            "root", "pts/1", "192.0.2.1"
        )
    );
    // -S and -C go to wtmpd: its file changes, the default path is never
    // created, and the next read shows the change.
    ok(&lastlog(&s, &["-S", "-u", "nobody"]));
    let nobody = lastlog(&s, &["-u", "nobody"]);
    assert!(
        row_of(&nobody, "nobody").starts_with(&format!(
            "{:<16} {:<8} {:<42}",
            "nobody", "lastlog", "localhost"
        )),
        "{}",
        text(&nobody)
    );
    ok(&lastlog(&s, &["-C", "-u", "root"]));
    let root = lastlog(&s, &["-u", "root"]);
    assert_eq!(
        row_of(&root, "root"),
        format!("{:<16} {:<8} {:<42}**Never logged in**", "root", "", "")
    );
    assert!(!default.exists(), "lastlog wrote the file behind wtmpd");
    // On disk: root's slot kept, zeroed (as shadow's -C), nobody's set.
    let slots = read_native(&kept);
    let users: Vec<_> = slots.iter().map(|r| (r.kind, r.user.clone())).collect();
    assert_eq!(
        users,
        vec![(USER, b"root".to_vec()), (USER, b"nobody".to_vec())]
    );
    assert_eq!((slots[0].time_us, slots[0].line.len()), (0, 0));
    assert_eq!(
        (&slots[1].line[..], &slots[1].host[..]),
        (&b"lastlog"[..], &b"localhost"[..])
    );

    let through_daemon = outputs(&s);
    assert!(u.stop() && w.stop());
    assert!(!run_dir(&s).join("wtmpd.sock").exists());
    // The same data, now read from the file by lastlog itself.
    std::fs::rename(&kept, &default).unwrap();
    let from_file = outputs(&s);
    for (args, (a, b)) in READS.iter().zip(through_daemon.iter().zip(&from_file)) {
        ok(a);
        ok(b);
        assert_same(&a.stdout, &b.stdout, format!("lastlog {args:?}"));
        assert_eq!(a.stderr, b.stderr, "lastlog {args:?}");
    }
    assert!(text(&from_file[0]).contains("nobody           lastlog  localhost"));
}

#[test]
fn nobody_may_read_through_wtmpd_but_not_set() {
    let s = Scratch::new("ll-daemon-nobody");
    let kept = s.path("kept/lastlog");
    let (u, w) = daemons(&s, &kept);
    two_logins(&s);
    let before = std::fs::read(&kept).unwrap();
    let as_root = lastlog(&s, &["-u", "root"]);
    let read = run(as_nobody(s.applet("lastlog")).args(["-u", "root"]), None);
    ok(&read);
    assert_eq!(read.stdout, as_root.stdout);
    for args in [["-S", "-u", "root"], ["-C", "-u", "root"]] {
        let out = run(as_nobody(s.applet("lastlog")).args(args), None);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(out.stdout, b"");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "lastlog: Failed to update the entry for UID 0: \
             only root or the utmp group may change lastlog\n",
            "{args:?}"
        );
    }
    assert_eq!(std::fs::read(&kept).unwrap(), before, "nothing changed");
    assert_eq!(lastlog(&s, &["-u", "root"]).stdout, as_root.stdout);
    assert!(u.stop() && w.stop());
}

#[test]
fn a_hung_wtmpd_costs_one_deadline_then_the_file() {
    let s = Scratch::new("ll-daemon-hung");
    std::fs::create_dir_all(run_dir(&s)).unwrap();
    std::fs::create_dir_all(log_dir(&s)).unwrap();
    // The file, written by a daemon that then stopped, read by lastlog.
    let (u, w) = daemons(&s, &log_dir(&s).join("lastlog"));
    two_logins(&s);
    assert!(u.stop() && w.stop());
    let expected = lastlog(&s, &[]);
    assert!(text(&expected).contains("192.0.2.1"), "{}", text(&expected));
    // A socket that accepts connections (the backlog) and never answers.
    let _hung = UnixListener::bind(run_dir(&s).join("wtmpd.sock")).unwrap();
    let out = lastlog(&s, &[]);
    ok(&out);
    assert_same(&out.stdout, &expected.stdout, "lastlog with a hung wtmpd");
    // A change is never written behind a daemon that may still hold the
    // file: the write fails instead.
    let before = std::fs::read(log_dir(&s).join("lastlog")).unwrap();
    let out = lastlog(&s, &["-S", "-u", "root"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("lastlog: Failed to update the entry for UID 0: "),
        "{err}"
    );
    assert_eq!(std::fs::read(log_dir(&s).join("lastlog")).unwrap(), before);
}
