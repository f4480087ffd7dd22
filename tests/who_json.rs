//! `who --json` (ours: coreutils has no such option): the exact bytes for a
//! fixed table, the same entries as the text for every option set, valid
//! JSON, and stored bytes escaped (docs/COMPAT.md `### who --json`).

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::{run, Scratch};
use crate::utmpfile::{self, Entry};

// ut_type values.
const RUN_LVL: i16 = 1;
const BOOT_TIME: i16 = 2;
const NEW_TIME: i16 = 3;
const INIT_PROCESS: i16 = 5;
const LOGIN_PROCESS: i16 = 6;
const USER_PROCESS: i16 = 7;
const DEAD_PROCESS: i16 = 8;

/// One entry of each kind who lists, in a glibc utmp file.
fn table(s: &Scratch) -> PathBuf {
    let mut run_level = Entry::new(
        RUN_LVL,
        i32::from(b'N') * 256 + i32::from(b'5'),
        "~",
        "runlevel",
        "",
        1_600_000_010,
    );
    run_level.id = b"~~".to_vec();
    let mut boot = Entry::new(BOOT_TIME, 0, "~", "reboot", "6.1.0", 1_600_000_000);
    boot.id = b"~~".to_vec();
    let clock = Entry::new(NEW_TIME, 0, "", "", "", 1_600_000_020);
    let mut init = Entry::new(INIT_PROCESS, 301, "", "", "", 1_600_000_030);
    init.id = b"si".to_vec();
    let login = Entry::new(LOGIN_PROCESS, 402, "tty1", "LOGIN", "", 1_600_000_040);
    let mut alice = Entry::new(
        USER_PROCESS,
        503,
        "pts/0",
        "alice",
        "10.0.0.5",
        1_600_000_100,
    );
    alice.usec = 250_000;
    alice.addr[..4].copy_from_slice(&[10, 0, 0, 5]);
    let bob = Entry::new(
        USER_PROCESS,
        504,
        "pts/1",
        "bob",
        "example.org:0.0",
        1_600_003_700,
    );
    let mut dead = Entry::new(DEAD_PROCESS, 605, "pts/2", "", "", 1_600_007_300);
    dead.term = 1;
    dead.exit = 2;
    s.write(
        "utmp",
        &utmpfile::glibc(&[run_level, boot, clock, init, login, alice, bob, dead]),
    )
}

fn who(s: &Scratch, tz: &str, args: &[&str], file: &Path) -> Output {
    run(
        s.applet("who")
            .env("TZ", tz)
            .env("LC_ALL", "C")
            .args(args)
            .arg(file),
        None,
    )
}

#[track_caller]
fn json_ok(out: &Output, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "{what}: stderr {:?}", out.stderr);
    String::from_utf8(out.stdout.clone()).expect("--json prints ASCII")
}

#[test]
fn all_entries_exact_bytes() {
    let s = Scratch::new("who-json-all");
    let file = table(&s);
    let out = who(&s, "UTC", &["--json", "-a"], &file);
    let want = r#"[
  {"type": "run_level", "user": "runlevel", "tty": "~", "host": "", "id": "~~", "pid": 20021, "level": "5", "previous": "N", "time": "2020-09-13T12:26:50+00:00", "time_us": 1600000010000000},
  {"type": "boot", "user": "reboot", "tty": "~", "host": "6.1.0", "id": "~~", "pid": 0, "time": "2020-09-13T12:26:40+00:00", "time_us": 1600000000000000},
  {"type": "clock_change", "user": "", "tty": "", "host": "", "id": "", "pid": 0, "time": "2020-09-13T12:27:00+00:00", "time_us": 1600000020000000},
  {"type": "init", "user": "", "tty": "", "host": "", "id": "si", "pid": 301, "time": "2020-09-13T12:27:10+00:00", "time_us": 1600000030000000},
  {"type": "login", "user": "LOGIN", "tty": "tty1", "host": "", "id": "tty1", "pid": 402, "time": "2020-09-13T12:27:20+00:00", "time_us": 1600000040000000},
  {"type": "user", "user": "alice", "tty": "pts/0", "host": "10.0.0.5", "id": "ts/0", "pid": 503, "time": "2020-09-13T12:28:20+00:00", "time_us": 1600000100250000},
  {"type": "user", "user": "bob", "tty": "pts/1", "host": "example.org:0.0", "id": "ts/1", "pid": 504, "time": "2020-09-13T13:28:20+00:00", "time_us": 1600003700000000},
  {"type": "dead", "user": "", "tty": "pts/2", "host": "", "id": "ts/2", "pid": 605, "term": 1, "exit": 2, "time": "2020-09-13T14:28:20+00:00", "time_us": 1600007300000000}
]
"#;
    assert_eq!(json_ok(&out, "who --json -a"), want);
}

#[test]
fn default_lists_users_with_local_offset() {
    let s = Scratch::new("who-json-users");
    let file = table(&s);
    let out = who(&s, "Europe/Berlin", &["--json"], &file);
    let want = r#"[
  {"type": "user", "user": "alice", "tty": "pts/0", "host": "10.0.0.5", "id": "ts/0", "pid": 503, "time": "2020-09-13T14:28:20+02:00", "time_us": 1600000100250000},
  {"type": "user", "user": "bob", "tty": "pts/1", "host": "example.org:0.0", "id": "ts/1", "pid": 504, "time": "2020-09-13T15:28:20+02:00", "time_us": 1600003700000000}
]
"#;
    assert_eq!(json_ok(&out, "who --json"), want);
    // --ips: the stored address where there is one, as the comment shows.
    let out = who(&s, "UTC", &["--json", "--ips", "-u"], &file);
    let text = json_ok(&out, "who --json --ips");
    assert!(text.contains(r#""user": "alice", "tty": "pts/0", "host": "10.0.0.5","#));
    assert!(text.contains(r#""host": "example.org:0.0""#));
}

#[test]
fn empty_and_missing_tables_are_empty_arrays() {
    let s = Scratch::new("who-json-empty");
    let empty = s.write("empty", b"");
    assert_eq!(
        json_ok(&who(&s, "UTC", &["--json", "-a"], &empty), "empty"),
        "[]\n"
    );
    // A missing FILE is an empty table, as for the text.
    let missing = s.path("missing");
    assert_eq!(
        json_ok(&who(&s, "UTC", &["--json"], &missing), "missing"),
        "[]\n"
    );
    // Only the table's boot entry is left when -b selects: no users.
    let file = table(&s);
    let out = json_ok(&who(&s, "UTC", &["--json", "-b"], &file), "-b");
    assert_eq!(out.matches("\"type\"").count(), 1, "{out}");
    assert!(out.contains("\"type\": \"boot\""), "{out}");
}

/// Each option set lists, as JSON objects, exactly the entries the text
/// lists (one line each; -q: the names it counts), and python's parser
/// accepts the output.
#[test]
fn same_entries_as_the_text_and_valid_json() {
    let s = Scratch::new("who-json-same");
    let mut rng = utmpfile::Rng::new(11);
    let now = utmpfile::now();
    let entries: Vec<Entry> = (0..60)
        .map(|_| utmpfile::random_entry(&mut rng, now))
        .collect();
    let file = s.write("utmp", &utmpfile::glibc(&entries));
    for args in [
        &[][..],
        &["-a"],
        &["-b"],
        &["-d"],
        &["-l"],
        &["-p"],
        &["-r"],
        &["-t"],
        &["-u"],
        &["-bdlprtu"],
        &["-aH", "-T"],
        &["-q"],
        &["-a", "--ips"],
    ] {
        let text = who(&s, "UTC", args, &file);
        assert_eq!(text.status.code(), Some(0));
        let text = String::from_utf8_lossy(&text.stdout).into_owned();
        let heading = usize::from(args.iter().any(|a| a.contains('H')));
        let want = if args == ["-q"] {
            let count = text.lines().last().unwrap_or_default();
            count.trim_start_matches("# users=").parse().unwrap()
        } else {
            text.lines().count() - heading
        };
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let json = json_ok(&who(&s, "UTC", &json_args, &file), "random");
        let parsed = run(
            std::process::Command::new("python3").args([
                "-c",
                "import json,sys; v=json.load(sys.stdin); \
                 assert all(type(o['time_us']) is int for o in v); print(len(v))",
            ]),
            Some(json.as_bytes()),
        );
        assert_eq!(
            parsed.status.code(),
            Some(0),
            "who {args:?} --json is not JSON: {}\n{json}",
            String::from_utf8_lossy(&parsed.stderr)
        );
        let count = String::from_utf8_lossy(&parsed.stdout);
        assert_eq!(
            count.trim(),
            want.to_string(),
            "who {args:?}: {json}\n{text}"
        );
    }
}

/// Control bytes, quotes, backslashes and bytes from 0x80 cannot break the
/// JSON or reach the terminal: they are escaped as the text escapes them,
/// then `"` and `\` as JSON needs.
#[test]
fn odd_bytes_are_escaped() {
    let s = Scratch::new("who-json-escape");
    let mut odd = Entry::of_bytes(
        USER_PROCESS,
        b"pts/\x1b[2J",
        b"e\"v\\l\n",
        b"h\xc3\xa9\x07\t",
        1_600_000_000,
    );
    odd.pid = 1;
    let file = s.write("utmp", &utmpfile::glibc(&[odd]));
    let out = who(&s, "UTC", &["--json"], &file);
    let want = r#"[
  {"type": "user", "user": "e\"v\\l*J", "tty": "pts/*[[2J", "host": "h\\303\\251*G*I", "id": "*[[2J", "pid": 1, "time": "2020-09-13T12:26:40+00:00", "time_us": 1600000000000000}
]
"#;
    assert_eq!(json_ok(&out, "odd bytes"), want);
}
