//! `who` and `users` against coreutils 9.1: random utmp files through
//! every option, both time styles and several zones; the default table
//! and its pid check in a private mount namespace; IDLE and mesg on real
//! ptys; the escaping that is ours on purpose (docs/COMPAT.md `## who`).

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output};

use crate::util::{self, assert_same, dead_pid, namespace_setup, peer, run, Scratch};
use crate::utmpfile::{self, Entry, Rng};
use crate::w::Pty;

const OPTION_SETS: &[&[&str]] = &[
    &[],
    &["-a"],
    &["-aH"],
    &["-b"],
    &["-d"],
    &["-l"],
    &["-p"],
    &["-r"],
    &["-t"],
    &["-u"],
    &["-T"],
    &["-uT"],
    &["-s"],
    &["-q"],
    &["-H"],
    &["--ips"],
    &["-a", "--ips"],
    &["-su"],
    &["-dH"],
    &["-lw"],
    &["--mesg", "-u"],
    &["-bdlprtu"],
    &["--all", "--heading"],
    &["--count"],
    &["--writable", "--users", "--short"],
];

const ZONES: &[&str] = &["UTC", "Europe/Berlin", "America/New_York"];
const LOCALES: &[&str] = &["C", "C.UTF-8"];

fn with_env(mut cmd: Command, tz: &str, lc: &str) -> Command {
    cmd.env("TZ", tz).env("LC_ALL", lc);
    cmd
}

/// Run our applet and the peer with the same arguments and environment;
/// compare stdout and the exit status.
#[track_caller]
fn compare(s: &Scratch, tool: &str, args: &[OsString], tz: &str, lc: &str, what: &str) {
    let ours = run(with_env(s.applet(tool), tz, lc).args(args), None);
    let theirs = run(with_env(peer(tool), tz, lc).args(args), None);
    let what = format!("{what}: {tool} {args:?} TZ={tz} LC_ALL={lc}");
    assert_same(&ours.stdout, &theirs.stdout, &what);
    assert_eq!(ours.status.code(), theirs.status.code(), "{what}: status");
}

fn os_args(args: &[&str], file: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = args.iter().map(OsString::from).collect();
    v.push(file.as_os_str().to_owned());
    v
}

fn random_file(rng: &mut Rng, now: i64) -> Vec<Entry> {
    // 25 and 50 glibc records are also a whole number of 400-byte ones:
    // the format detector must still say glibc.
    let n = match rng.below(10) {
        0 => 25,
        1 => 50,
        _ => rng.below(24) as usize,
    };
    (0..n).map(|_| utmpfile::random_entry(rng, now)).collect()
}

#[test]
fn who_random_files_match_coreutils() {
    let s = Scratch::new("who-random");
    let now = utmpfile::now();
    let mut rng = Rng::new(0x3e11);
    for i in 0..240 {
        let entries = random_file(&mut rng, now);
        let path = s.write(&format!("utmp{i}"), &utmpfile::glibc(&entries));
        for _ in 0..3 {
            let options = *rng.pick(OPTION_SETS);
            let tz = *rng.pick(ZONES);
            let lc = *rng.pick(LOCALES);
            compare(
                &s,
                "who",
                &os_args(options, &path),
                tz,
                lc,
                &format!("file {i}"),
            );
        }
    }
}

#[test]
fn who_every_option_on_one_rich_file() {
    let s = Scratch::new("who-options");
    let now = utmpfile::now();
    let mut rng = Rng::new(7);
    let mut entries: Vec<Entry> = (0..60)
        .map(|_| utmpfile::random_entry(&mut rng, now))
        .collect();
    // Every kind at least once, a boot record, a clock change pair.
    for kind in 0..10 {
        let mut e = utmpfile::random_entry(&mut rng, now);
        e.kind = kind;
        e.user = b"kind".to_vec();
        e.pid = if kind == 1 { 0x4e35 } else { 4242 };
        entries.push(e);
    }
    let path = s.write("utmp", &utmpfile::glibc(&entries));
    for options in OPTION_SETS {
        for tz in ZONES {
            for lc in LOCALES {
                compare(&s, "who", &os_args(options, &path), tz, lc, "rich file");
            }
        }
    }
}

#[test]
fn users_random_files_match_coreutils() {
    let s = Scratch::new("users-random");
    let now = utmpfile::now();
    let mut rng = Rng::new(0x05e5);
    for i in 0..150 {
        let mut entries = random_file(&mut rng, now);
        // Duplicates, which users keeps.
        if let Some(first) = entries.first().cloned() {
            entries.push(first);
        }
        let path = s.write(&format!("utmp{i}"), &utmpfile::glibc(&entries));
        let lc = *rng.pick(LOCALES);
        compare(
            &s,
            "users",
            &os_args(&[], &path),
            "UTC",
            lc,
            &format!("file {i}"),
        );
    }
}

#[test]
fn every_supported_format_reads_the_same() {
    let s = Scratch::new("who-formats");
    let now = utmpfile::now();
    let mut rng = Rng::new(99);
    for i in 0..20 {
        let entries = random_file(&mut rng, now);
        let glibc = s.write(&format!("g{i}"), &utmpfile::glibc(&entries));
        let theirs = run(peer("who").arg("-a").arg(&glibc), None).stdout;
        let users = run(peer("users").arg(&glibc), None).stdout;
        for (name, bytes) in [
            ("utmpx", utmpfile::utmpx(&entries)),
            ("native", utmpfile::native(&entries)),
        ] {
            let path = s.write(&format!("{name}{i}"), &bytes);
            let ours = run(s.applet("who").arg("-a").arg(&path), None);
            assert_same(&ours.stdout, &theirs, format!("who -a, {name} file {i}"));
            let ours = run(s.applet("users").arg(&path), None);
            assert_same(&ours.stdout, &users, format!("users, {name} file {i}"));
        }
    }
}

#[test]
fn unprintable_bytes_are_escaped_not_printed_raw() {
    let s = Scratch::new("who-escape");
    let mut e = Entry::new(
        7,
        1,
        "pts/\x1b[2J",
        "ev\x1bil",
        "h\x07\x7fst:0\u{e9}",
        1_700_000_000,
    );
    e.user.push(0xff);
    let mut rl = Entry::new(1, 0x4e00 + 0x9b, "~", "runlevel", "", 1_700_000_000);
    rl.id = b"~~".to_vec();
    let mut dead = Entry::new(8, 5, "tty\x01", "", "", 1_700_000_000);
    dead.id = b"\x1bid".to_vec();
    let path = s.write("utmp", &utmpfile::glibc(&[e, rl, dead]));
    let ours = run(s.applet("who").arg("-a").arg(&path), None);
    let expected = "\
ev*[il\\377 ? pts/*[[2J    Nov 14 22:13   ?             1 (h*G*?st:0\\303\\251)
           run-level \\233 Nov 14 22:13                   last=S
           tty*A        Nov 14 22:13                 5 id=*[id  term=0 exit=0
";
    assert_same(&ours.stdout, expected.as_bytes(), "who -a escaping");
    let ours = run(s.applet("users").arg(&path), None);
    assert_same(&ours.stdout, b"ev*[il\\377\n", "users escaping");
    let ours = run(s.applet("who").arg("-q").arg(&path), None);
    assert_same(&ours.stdout, b"ev*[il\\377\n# users=1\n", "who -q escaping");
    // The peer prints the bytes raw: that is the difference we document.
    let theirs = run(peer("who").arg("-a").arg(&path), None).stdout;
    assert!(
        theirs.windows(2).any(|w| w == b"\x1b["),
        "coreutils prints ESC raw"
    );
}

#[test]
fn missing_file_is_an_empty_table() {
    let s = Scratch::new("who-missing");
    let missing = s.path("no-such-utmp");
    for options in [&[][..], &["-q"], &["-H"], &["-aH"], &["-b"]] {
        for lc in LOCALES {
            compare(
                &s,
                "who",
                &os_args(options, &missing),
                "UTC",
                lc,
                "missing file",
            );
        }
    }
    compare(
        &s,
        "users",
        &os_args(&[], &missing),
        "UTC",
        "C",
        "missing file",
    );
}

/// Exit status and stderr of the peer for bad command lines.
#[test]
fn usage_errors_and_abbreviations_match() {
    let s = Scratch::new("who-usage");
    let path = s.write(
        "utmp",
        &utmpfile::glibc(&[
            Entry::new(2, 0, "~", "reboot", "6.1", 1_700_000_000),
            Entry::new(7, 1, "pts/77", "root", "10.0.0.1", 1_700_000_100),
        ]),
    );
    let p = path.to_str().unwrap();
    let cases: &[(&str, &[&str])] = &[
        ("who", &["-x", p]),
        ("who", &["--bogus", p]),
        ("who", &["--bogus=3", p]),
        ("who", &["--l", p]),
        ("who", &["--h", p]),
        ("who", &["--all=3", p]),
        ("who", &["a", "b", "c"]),
        ("who", &["--c", p]),
        ("who", &["--mes", "-u", p]),
        ("who", &["--me", p]),
        ("who", &["--w", "--u", p]),
        ("who", &["--hea", "--bo", p]),
        ("who", &["--ip", p]),
        ("who", &["--look", p]),
        ("who", &["--", p]),
        ("who", &["-x", "--help"]),
        ("users", &["a", "b"]),
        ("users", &["-x"]),
        ("users", &["--x"]),
        ("users", &["--", p]),
        ("users", &[p]),
    ];
    for (tool, args) in cases {
        for lc in LOCALES {
            let args: Vec<&str> = args.to_vec();
            let ours = run(s.applet(tool).env("LC_ALL", lc).args(&args), None);
            let theirs = run(peer(tool).env("LC_ALL", lc).args(&args), None);
            let what = format!("{tool} {args:?} LC_ALL={lc}");
            assert_same(&ours.stdout, &theirs.stdout, format!("{what} stdout"));
            assert_same(&ours.stderr, &theirs.stderr, format!("{what} stderr"));
            assert_eq!(ours.status.code(), theirs.status.code(), "{what} status");
        }
    }
    for tool in ["who", "users"] {
        let out = run(s.applet(tool).arg("--help"), None);
        assert_eq!(out.status.code(), Some(0));
        assert!(out
            .stdout
            .starts_with(format!("Usage: {tool} [OPTION]...").as_bytes()));
        let out = run(s.applet(tool).arg("--vers"), None);
        assert_eq!(out.status.code(), Some(0));
        assert!(out
            .stdout
            .starts_with(format!("{tool} (utmpbox) ").as_bytes()));
    }
}

#[test]
fn lookup_keeps_numeric_and_local_hosts() {
    let s = Scratch::new("who-lookup");
    let mut v6 = Entry::new(7, 1, "pts/81", "bob", "2001:db8::7", 1_700_000_200);
    v6.addr[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    v6.addr[15] = 7;
    // 127.0.0.1 has a name in every /etc/hosts: --ips --lookup finds it.
    let mut local = Entry::new(7, 1, "pts/84", "erin", "", 1_700_000_300);
    local.addr[..4].copy_from_slice(&[127, 0, 0, 1]);
    let path = s.write(
        "utmp",
        &utmpfile::glibc(&[
            local,
            Entry::new(7, 1, "pts/80", "root", "192.0.2.1", 1_700_000_100),
            Entry::new(7, 1, "pts/82", "carol", "127.0.0.1:0.0", 1_700_000_300),
            Entry::new(7, 1, "pts/83", "dave", ":1", 1_700_000_300),
            v6,
        ]),
    );
    for options in [
        &["--lookup"][..],
        &["--lookup", "--ips"],
        &["-a", "--lookup"],
    ] {
        compare(&s, "who", &os_args(options, &path), "UTC", "C", "lookup");
    }
}

/// The default table: a private mount namespace with a tmpfs on /run holds
/// a legacy /run/utmp that both tools read (coreutils through
/// /var/run/utmp), so nothing on the machine is touched.
fn in_namespace(s: &Scratch, utmp: &Path, commands: &[String]) -> Vec<Vec<u8>> {
    let mut script = namespace_setup(utmp, None);
    for (i, command) in commands.iter().enumerate() {
        script.push_str(&format!(
            "{command} > '{}'\n",
            s.path(&format!("ns.{i}")).display()
        ));
    }
    util::in_namespace(s, &script, &[]);
    (0..commands.len())
        .map(|i| std::fs::read(s.path(&format!("ns.{i}"))).unwrap())
        .collect()
}

#[test]
fn default_table_drops_dead_processes_like_coreutils() {
    let s = Scratch::new("who-default");
    let alive = std::process::id() as i32;
    let dead = dead_pid();
    let entries = vec![
        Entry::new(2, 0, "~", "reboot", "6.1", 1_700_000_000),
        Entry::new(7, alive, "pts/90", "alive", "10.0.0.1", 1_700_000_100),
        Entry::new(7, dead, "pts/91", "dead", "10.0.0.2", 1_700_000_200),
        Entry::new(7, 0, "pts/92", "zeropid", "", 1_700_000_300),
        Entry::new(7, -5, "pts/93", "negpid", "", 1_700_000_300),
        Entry::new(7, 1, "pts/94", "init", "", 1_700_000_300),
        Entry::new(6, dead, "tty9", "LOGIN", "", 1_700_000_400),
        Entry::new(8, dead, "pts/95", "", "", 1_700_000_500),
    ];
    let utmp = s.write("utmp", &utmpfile::glibc(&entries));
    let bin = s.dir.join("bin");
    let mut commands = Vec::new();
    for args in ["", "-a", "-q", "-H", "-b", "-u"] {
        commands.push(format!("who {args}"));
        commands.push(format!("'{}/who' {args}", bin.display()));
    }
    commands.push("users".into());
    commands.push(format!("'{}/users'", bin.display()));
    let outputs = in_namespace(&s, &utmp, &commands);
    for pair in outputs.chunks(2) {
        assert_same(&pair[1], &pair[0], "default table");
    }
    let users = String::from_utf8_lossy(&outputs[outputs.len() - 1]).into_owned();
    assert_eq!(users, "alive init negpid zeropid\n", "dead pid dropped");

    // A native table under $UTMPBOX_RUNDIR wins over the legacy file.
    let rundir = s.path("run");
    std::fs::create_dir_all(&rundir).unwrap();
    std::fs::write(rundir.join("utmp"), utmpfile::native(&entries[..2])).unwrap();
    let ours = run(s.applet("who").env("UTMPBOX_RUNDIR", &rundir), None);
    let theirs = run(peer("who").arg(&utmp), None);
    let first_line = theirs
        .stdout
        .split(|&b| b == b'\n')
        .next()
        .unwrap()
        .to_vec();
    assert_same(
        &ours.stdout,
        &[first_line, b"\n".to_vec()].concat(),
        "native default",
    );
}

/// Set the mode and the atime that IDLE and mesg read.
fn set(pty: &Pty, mode: u32, atime: i64) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pty.path, std::fs::Permissions::from_mode(mode)).unwrap();
    pty.set_atime(atime);
}

#[test]
fn idle_and_mesg_columns_from_real_ttys() {
    let s = Scratch::new("who-idle");
    let ptys: Vec<Pty> = (0..6).map(|_| Pty::open(80)).collect();
    let now = utmpfile::now();
    // Offsets in the middle of a minute, so both tools agree on HH:MM even
    // if a few seconds pass between them.
    set(&ptys[0], 0o620, now - 7530); // 02:05, writable
    set(&ptys[1], 0o600, now - 25); // "  .  ", not writable
    set(&ptys[2], 0o620, now - 90_030); // more than a day: old
    set(&ptys[3], 0o600, now + 1000); // in the future: old
    set(&ptys[4], 0o620, now - 3630); // before the boot record below: old
    set(&ptys[5], 0o660, now - 3630); // boot record comes after it: 01:00
    let entry = |i: usize, user: &str| Entry::new(7, 1, ptys[i].line(), user, "", now - 9000);
    let entries = vec![
        entry(0, "a"),
        entry(1, "b"),
        entry(2, "c"),
        entry(3, "d"),
        entry(5, "f"),
        Entry::new(2, 0, "~", "reboot", "", now - 1800),
        entry(4, "e"),
        Entry::new(7, 1, "pts/999", "gone", "", now - 100),
    ];
    let path = s.write("utmp", &utmpfile::glibc(&entries));
    for options in [&["-u"][..], &["-T"], &["-aH"], &["-uT", "-s"]] {
        for lc in LOCALES {
            compare(&s, "who", &os_args(options, &path), "UTC", lc, "ptys");
        }
    }
    let ours = run(s.applet("who").arg("-uT").arg(&path), None).stdout;
    let text = String::from_utf8_lossy(&ours);
    for (user, idle) in [
        ("a ", "02:05"),
        ("b ", "  .  "),
        ("c ", " old "),
        ("f ", "01:00"),
    ] {
        let row = text.lines().find(|l| l.starts_with(user)).unwrap();
        assert!(row.contains(idle), "{user}: {row}");
    }

    // -m and `am i` pick stdin's tty.
    for args in [&["-m"][..], &["-mH"], &["-q", "-m"]] {
        let mut ours = s.applet("who");
        ours.args(args).arg(&path).stdin(ptys[1].stdin());
        let mut theirs = peer("who");
        theirs.args(args).arg(&path).stdin(ptys[1].stdin());
        let (ours, theirs): (Output, Output) = (run(&mut ours, None), run(&mut theirs, None));
        assert_same(
            &ours.stdout,
            &theirs.stdout,
            format!("who {args:?} on a pty"),
        );
    }
    let ours = run(s.applet("who").arg("-m").arg(&path), None);
    assert_same(&ours.stdout, b"", "who -m without a tty");
}

#[test]
fn am_i_reads_the_default_table_for_stdins_tty() {
    let s = Scratch::new("who-ami");
    let pty = Pty::open(80);
    let utmp = s.write(
        "utmp",
        &utmpfile::glibc(&[
            Entry::new(7, 1, pty.line(), "me", "10.9.8.7", 1_700_000_000),
            Entry::new(7, 1, "pts/998", "other", "", 1_700_000_000),
        ]),
    );
    let bin = s.dir.join("bin");
    let commands = vec![
        format!("who am i < {}", pty.path),
        format!("'{}/who' am i < {}", bin.display(), pty.path),
        format!("who mom likes < {}", pty.path),
        format!("'{}/who' mom likes < {}", bin.display(), pty.path),
    ];
    let outputs = in_namespace(&s, &utmp, &commands);
    assert_same(&outputs[1], &outputs[0], "who am i");
    assert_same(&outputs[3], &outputs[2], "who mom likes");
    assert!(outputs[1].starts_with(b"me "), "found the entry");
}

/// The time style and quotes follow what glibc's setlocale(LC_ALL, "")
/// makes of the environment, uninstalled locales included.
#[test]
fn locale_choice_follows_setlocale() {
    let s = Scratch::new("who-locale");
    let path = s.write(
        "utmp",
        &utmpfile::glibc(&[Entry::new(7, 1, "pts/70", "root", "h", 1_700_000_000)]),
    );
    let envs: &[&[(&str, &str)]] = &[
        &[],
        &[("LANG", "C.UTF-8")],
        &[("LANG", "C.utf8")],
        &[("LANG", "C.UTF-8"), ("LC_TIME", "C")],
        &[("LANG", "C"), ("LC_TIME", "C.UTF-8")],
        &[("LANG", "C.UTF-8"), ("LC_TIME", "POSIX")],
        &[("LANG", "en_US.UTF-8")],
        &[("LC_TIME", "C.UTF-8"), ("LC_CTYPE", "xx_YY.UTF-8")],
        &[("LC_ALL", ""), ("LANG", "C.UTF-8")],
        &[("LC_ALL", "POSIX"), ("LANG", "C.UTF-8")],
        &[("LC_ALL", "de_DE.UTF-8")],
        &[("LC_CTYPE", "C.UTF-8")],
    ];
    for env in envs {
        for args in [
            vec![path.as_os_str().to_owned()],
            vec!["a".into(), "b".into(), "c".into()],
        ] {
            let mut ours = s.applet("who");
            let mut theirs = peer("who");
            for cmd in [&mut ours, &mut theirs] {
                cmd.env_remove("LC_ALL").args(&args);
                for (k, v) in env.iter() {
                    cmd.env(k, v);
                }
            }
            let (ours, theirs) = (run(&mut ours, None), run(&mut theirs, None));
            assert_same(&ours.stdout, &theirs.stdout, format!("{env:?} stdout"));
            assert_same(&ours.stderr, &theirs.stderr, format!("{env:?} stderr"));
        }
    }
}
