//! The one read path of the histories (src/read/history.rs): `last -n` through
//! wtmpd reads only what it prints, the filters sent to wtmpd change no
//! byte of output, and a corrupt record is reported once, with the same
//! message whether wtmpd or the file served it.

use crate::daemon_util::{log_dir, Daemon};
use crate::last::gen::{encode_native, history, Rec};
use crate::util::{self, Scratch};
use crate::utmpfile::{crc32, Rng};

/// Records in the generated history.
const RECORDS: usize = 20_000;
/// The corrupt record, far back: a reader that stops after the newest few
/// dozen never reaches it.
const CORRUPT: usize = 100;

/// A native wtmp (and btmp) of RECORDS records in the scratch log dir,
/// record CORRUPT's checksum broken, and wtmpd serving them.
fn served_history(s: &Scratch) -> (Daemon, std::path::PathBuf) {
    let mut rng = Rng::new(1111);
    let records = history(&mut rng, 1_300_000_000, RECORDS);
    let mut wtmp = encode_native(&records);
    // A flipped byte in the host field: the checksum fails, the record
    // is still in the middle of the file (not a torn tail wtmpd repairs).
    let at = 64 + CORRUPT * 512 + 200;
    wtmp[at] ^= 0x55;
    assert_ne!(
        crc32(&wtmp[64 + CORRUPT * 512..64 + CORRUPT * 512 + 508]).to_le_bytes(),
        wtmp[64 + CORRUPT * 512 + 508..64 + CORRUPT * 512 + 512]
    );
    std::fs::create_dir_all(log_dir(s)).unwrap();
    let path = log_dir(s).join("wtmp");
    std::fs::write(&path, &wtmp).unwrap();
    let failures: Vec<Rec> = records
        .iter()
        .filter(|r| r.kind == 7 && !r.user.is_empty())
        .map(|r| Rec {
            kind: 6,
            ..r.clone()
        })
        .collect();
    std::fs::write(log_dir(s).join("btmp"), encode_native(&failures)).unwrap();
    let w = Daemon::start(s, "wtmpd", &[]);
    (w, path)
}

fn corrupt_line(applet: &str, path: &std::path::Path) -> String {
    format!(
        "{applet}: {}: record {CORRUPT} is corrupt (checksum mismatch), skipped\n",
        path.display()
    )
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn last_n_through_wtmpd_stops_before_the_old_records() {
    let s = Scratch::new("rl-bounded");
    let (w, wtmp) = served_history(&s);
    // A full walk reaches the corrupt record and says so once.
    let full = util::run(s.applet("last").arg("-x"), None);
    assert_eq!(full.status.code(), Some(0), "{}", stderr(&full));
    assert_eq!(stderr(&full), corrupt_line("last", &wtmp));
    // The newest ten entries come from the newest few dozen records: the
    // corrupt one, 19,900 records back, is never read.
    let ten = util::run(s.applet("last").args(["-n", "10"]), None);
    assert_eq!(ten.status.code(), Some(0), "{}", stderr(&ten));
    assert_eq!(stderr(&ten), "");
    let entries = ten
        .stdout
        .split(|&b| b == b'\n')
        .take_while(|l| !l.is_empty());
    assert_eq!(entries.count(), 10);
    // The same bytes as from the file, which stops early too.
    let from_file = util::run(s.applet("last").args(["-n", "10", "-f"]).arg(&wtmp), None);
    util::assert_same(&ten.stdout, &from_file.stdout, "last -n 10");
    assert_eq!(stderr(&from_file), "");
    assert!(w.stop());
}

#[test]
fn filters_sent_to_wtmpd_change_no_output() {
    let s = Scratch::new("rl-filters");
    let (w, wtmp) = served_history(&s);
    let btmp = log_dir(&s).join("btmp");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("last", vec![]),
        ("last", vec!["-x", "-n", "25"]),
        (
            "last",
            vec!["-s", "2015-06-01", "-t", "2015-08-01 12:00:00"],
        ),
        ("last", vec!["-x", "--since", "2015-07-01", "-n", "7"]),
        ("last", vec!["-t", "2015-05-02 10:11:12", "-n", "3"]),
        ("last", vec!["alice", "pts/1"]),
        ("last", vec!["-n", "5", "bob"]),
        ("lastb", vec![]),
        ("lastb", vec!["-n", "12"]),
        ("lastb", vec!["alice", "1"]),
        ("lastb", vec!["-s", "2015-06-01", "bob", "pts/2"]),
        ("lastb", vec!["-n", "4", "ftp"]),
    ];
    let mut through = Vec::new();
    for (applet, args) in &cases {
        let file = if *applet == "last" { &wtmp } else { &btmp };
        let daemon = util::run(s.applet(applet).args(args), None);
        let direct = util::run(s.applet(applet).args(args).arg("-f").arg(file), None);
        let what = format!("{applet} {}", args.join(" "));
        util::assert_same(&daemon.stdout, &direct.stdout, &what);
        assert_eq!(stderr(&daemon), stderr(&direct), "{what}");
        assert_eq!(daemon.status.code(), direct.status.code(), "{what}");
        through.push(daemon.stdout);
    }
    // The filters select something, and not everything.
    for i in [2, 5, 9, 10] {
        assert!(through[i].len() > 100, "case {i} printed nothing");
        assert!(through[i].len() < through[0].len() / 2, "case {i} kept all");
    }
    assert!(w.stop());
    // With wtmpd gone, the default files say the same.
    for (i, (applet, args)) in cases.iter().enumerate() {
        let files = util::run(s.applet(applet).args(args), None);
        util::assert_same(&files.stdout, &through[i], format!("{applet} {args:?}"));
    }
}

#[test]
fn a_corrupt_record_is_reported_once_whichever_way_it_is_read() {
    let s = Scratch::new("rl-corrupt");
    let (w, wtmp) = served_history(&s);
    let expected = corrupt_line("last", &wtmp);
    for args in [
        vec![],
        vec!["-x"],
        vec!["-F", "-w"],
        vec!["-s", "2000-01-01"],
    ] {
        let daemon = util::run(s.applet("last").args(&args), None);
        let direct = util::run(s.applet("last").args(&args).arg("-f").arg(&wtmp), None);
        assert_eq!(stderr(&daemon), expected, "through wtmpd, {args:?}");
        assert_eq!(stderr(&direct), expected, "from the file, {args:?}");
        util::assert_same(&daemon.stdout, &direct.stdout, format!("{args:?}"));
    }
    assert!(w.stop());
}

#[test]
fn tables_read_the_same_through_the_daemons_and_from_the_files() {
    use crate::daemon_util::{ok, start_both, two_logins, utmpset};
    let s = Scratch::new("rl-tables");
    let (u, w) = start_both(&s);
    two_logins(&s);
    ok(&utmpset(&s, &["-l", "pts/2", "-T", "1790000900", "logout"]));
    ok(&utmpset(
        &s,
        &[
            "-u",
            "daemon",
            "-l",
            "pts/4",
            "-p",
            "1",
            "-T",
            "1790001000",
            "login",
        ],
    ));
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("who", vec!["-a"]),
        ("who", vec!["-u"]),
        ("who", vec!["-q"]),
        ("users", vec![]),
        ("lastlog", vec![]),
        ("lastlog", vec!["-u", "root"]),
        ("lastlog", vec!["-u", "0-1"]),
        ("lastlog", vec!["-t", "36500"]),
        ("lastlog", vec!["-b", "1"]),
        ("last", vec!["root"]),
        ("last", vec!["-n", "1"]),
    ];
    let outputs = || -> Vec<std::process::Output> {
        cases
            .iter()
            .map(|(applet, args)| util::run(s.applet(applet).args(args), None))
            .collect()
    };
    let through = outputs();
    assert!(u.stop() && w.stop());
    let direct = outputs();
    for ((a, b), (applet, args)) in through.iter().zip(&direct).zip(&cases) {
        let what = format!("{applet} {}", args.join(" "));
        util::assert_same(&a.stdout, &b.stdout, &what);
        assert_eq!(stderr(a), stderr(b), "{what}");
        assert_eq!(a.status.code(), b.status.code(), "{what}");
    }
    let shown = String::from_utf8_lossy(&through[5].stdout);
    assert!(shown.contains("root") && shown.contains("pts/1"), "{shown}");
}

#[test]
fn the_begins_date_skips_corrupt_first_records_either_way() {
    let s = Scratch::new("rl-begins");
    let mut rng = Rng::new(77);
    let records = history(&mut rng, 1_300_000_000, 3000);
    let mut wtmp = encode_native(&records);
    // The first five records broken: "wtmp begins" is the sixth's time.
    for i in 0..5 {
        wtmp[64 + i * 512 + 300] ^= 0x11;
    }
    std::fs::create_dir_all(log_dir(&s)).unwrap();
    let path = log_dir(&s).join("wtmp");
    std::fs::write(&path, &wtmp).unwrap();
    let w = Daemon::start(&s, "wtmpd", &[]);
    // What `last` says of the same history without those five.
    std::fs::create_dir_all(s.path("other")).unwrap();
    let sound = s.path("other/wtmp");
    std::fs::write(&sound, encode_native(&records[5..])).unwrap();
    let reference = util::run(s.applet("last").args(["-n", "3", "-f"]).arg(&sound), None);
    let reference = String::from_utf8_lossy(&reference.stdout).into_owned();
    let begins = &reference[reference.rfind("\nwtmp begins").unwrap()..];
    for args in [vec!["-n", "3"], vec!["-n", "3", "-F"]] {
        let daemon = util::run(s.applet("last").args(&args), None);
        let direct = util::run(s.applet("last").args(&args).arg("-f").arg(&path), None);
        util::assert_same(&daemon.stdout, &direct.stdout, format!("{args:?}"));
        assert_eq!(stderr(&daemon), "", "{args:?}");
        assert_eq!(stderr(&direct), "", "{args:?}");
    }
    let daemon = util::run(s.applet("last").args(["-n", "3"]), None);
    let text = String::from_utf8_lossy(&daemon.stdout);
    assert!(text.ends_with(begins), "{text} / {begins}");
    assert!(w.stop());
}
