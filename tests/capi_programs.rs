//! libutmpbox (issue 12) under real programs: Debian's coreutils `who`,
//! `users`, `pinky` and procps `w` run with `LD_PRELOAD=libutmpbox.so`
//! against daemons in a scratch dir, and must print what utmpbox's own
//! readers print for the same table.
//!
//! How these builds read utmp (`nm -D`, bookworm): coreutils 9.1 `who`,
//! `users` and `pinky` call `utmpxname("/var/run/utmp")`, `setutxent`,
//! `getutxent`, `endutxent` (gnulib readutmp, no systemd); procps-ng
//! 4.0.2 `w` calls `setutxent`, `getutxent`, `endutxent` on the default
//! table (no `utmpxname`, and no `sd_*` session calls: libsystemd is
//! linked for libproc2, which counts users for `w`'s header and
//! `uptime` with `setutent`, `getutent`, `endutent`). So all of them go
//! through the library.
//!
//! The sessions' pid is a sleeping child of the test: alive (who drops
//! dead pids, utmpd marks them dead), and one whose CPU time stands still
//! (w's JCPU, PCPU and WHAT). Their lines name no terminal that exists,
//! so every idle column is fixed. Each comparison runs ours, the peer,
//! ours again: the peer must equal one of our two runs (w's header moves
//! with the clock), retried on a slow machine.
//!
//! Writers, privilege, threads and a third-party writer are in
//! tests/capi_programs_writers.rs; the C programs in tests/capi_programs/.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::daemon_util::{as_nobody, log_dir, ok, run_dir, start_both, utmpset};
use crate::util::{self, assert_same, namespace_setup, peer, quote, run, Scratch};
use crate::w::Children;

/// libutmpbox.so copied into the scratch dir (so `nobody` can load it
/// whatever the checkout's permissions); a clear failure when missing.
pub fn library(s: &Scratch) -> PathBuf {
    // capi_util::dist fails with a clear message when it is not built.
    let built = crate::capi_util::dist().join("lib/libutmpbox.so");
    let own = s.path("lib/libutmpbox.so");
    std::fs::create_dir_all(s.path("lib")).unwrap();
    std::fs::copy(&built, &own).unwrap();
    own
}

/// tests/capi_programs/NAME.c built with gcc against glibc into the
/// scratch bin dir.
pub fn compile(s: &Scratch, name: &str) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/capi_programs")
        .join(format!("{name}.c"));
    let out = s.path("bin").join(name);
    let done = run(
        peer("gcc")
            .args(["-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-o"])
            .arg(&out)
            .arg(&source),
        None,
    );
    ok(&done);
    out
}

/// `program` with the scratch daemons' environment (and TZ=UTC,
/// LC_ALL=C) and the library preloaded.
pub fn preloaded(s: &Scratch, program: impl AsRef<Path>) -> Command {
    let lib = s.path("lib/libutmpbox.so");
    assert!(lib.is_file(), "call capi_programs::library first");
    let mut cmd = peer(program.as_ref().to_str().unwrap());
    cmd.env("LD_PRELOAD", lib)
        .env("UTMPBOX_RUNDIR", run_dir(s))
        .env("UTMPBOX_LOGDIR", log_dir(s));
    cmd
}

/// Mount namespaces and `nobody` children need root: say so plainly.
pub fn need_root() {
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "this test needs root (mount namespaces, setpriv)");
}

/// `cmd` in a private mount namespace whose /run and /var/log are empty
/// tmpfs: a writer whose calls missed the library (glibc's own code)
/// would find no file of the machine's to write.
pub fn isolated(cmd: Command) -> Command {
    need_root();
    let mut wrapped = Command::new("unshare");
    wrapped
        .args(["-m", "sh", "-c"])
        .arg("mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /var/log && exec \"$@\"")
        .arg("sh")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear()
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .stdin(std::process::Stdio::null());
    wrapped
}

/// A child that sleeps (no CPU time) and is killed with the guard: the
/// pid of every session.
pub fn sleeper() -> (Children, u32) {
    let child = peer("sleep").arg("1000").spawn().unwrap();
    let pid = child.id();
    (Children(vec![child]), pid)
}

/// The table every comparison reads: root from an address, nobody with
/// no host, daemon from a name, then logged out (a dead entry), and a
/// run level; all on lines that name no terminal.
pub fn record_sessions(s: &Scratch, pid: u32) {
    let pid = pid.to_string();
    let login = |user: &str, line: &str, host: &str, t: &str| {
        let mut args = vec!["-u", user, "-l", line, "-p", &pid, "-T", t];
        if !host.is_empty() {
            args.extend(["-H", host]);
        }
        args.push("login");
        ok(&utmpset(s, &args));
    };
    login("root", "pts/9801", "192.0.2.1", "1790000000");
    login("nobody", "pts/9802", "", "1790000300");
    login("daemon", "pts/9803", "example.org", "1790000600");
    ok(&utmpset(
        s,
        &["-l", "pts/9803", "-T", "1790000900", "logout"],
    ));
    ok(&utmpset(s, &["-T", "1790000000", "runlevel", "3"]));
}

/// stdout, then stderr and the exit code, as one byte string.
fn all_of(out: &Output) -> Vec<u8> {
    let mut bytes = out.stdout.clone();
    bytes.extend_from_slice(b"--- stderr\n");
    bytes.extend_from_slice(&out.stderr);
    bytes.extend_from_slice(format!("--- exit {:?}\n", out.status.code()).as_bytes());
    bytes
}

/// utmpbox's `applet ARGS`, the preloaded `program ARGS`, ours again: the
/// peer's output (which must equal one of ours) is returned.
pub fn compare(s: &Scratch, applet: &str, program: &str, args: &[&str]) -> Vec<u8> {
    compare_as(s, applet, program, args, false)
}

/// `compare`, with every run as `nobody` when `nobody` is set.
fn compare_as(s: &Scratch, applet: &str, program: &str, args: &[&str], nobody: bool) -> Vec<u8> {
    let what = format!("{program} {} under libutmpbox", args.join(" "));
    let go = |mut cmd: Command| {
        cmd.args(args);
        if nobody {
            cmd = as_nobody(cmd);
        }
        all_of(&run(&mut cmd, None))
    };
    for attempt in 0..3 {
        let before = go(s.applet(applet));
        let theirs = go(preloaded(s, program));
        let after = go(s.applet(applet));
        if theirs == before || theirs == after {
            return theirs;
        }
        if attempt == 2 {
            assert_same(&before, &theirs, &what);
        }
    }
    unreachable!()
}

#[track_caller]
fn shows(output: &[u8], needles: &[&str], what: &str) {
    let text = String::from_utf8_lossy(output);
    for needle in needles {
        assert!(text.contains(needle), "{what}: no {needle:?} in\n{text}");
    }
}

/// The readers' comparisons on the scratch table; with `live`, the
/// daemons answer, else they are stopped and both sides read the files.
fn readers_match(s: &Scratch, live: bool) {
    let state = if live { "daemons" } else { "files" };
    let who = compare(s, "who", "who", &[]);
    shows(&who, &["root     pts/9801", "nobody   pts/9802"], state);
    assert!(!String::from_utf8_lossy(&who).contains("pts/9803"));
    let all = compare(s, "who", "who", &["-a"]);
    shows(
        &all,
        &["system boot", "run-level 3", "pts/9803", "(192.0.2.1)"],
        state,
    );
    let users = compare(s, "users", "users", &[]);
    assert!(users.starts_with(b"nobody root\n"), "{state}: users");
    let w = compare(s, "w", "w", &[]);
    shows(&w, &["2 users", "root     pts/9801", "sleep 1000"], state);
    compare(s, "w", "w", &["-s"]);
    compare(s, "w", "w", &["-h", "-i", "nobody"]);
    // procps's libproc2 counts the users with setutent/getutent.
    let uptime = compare(s, "uptime", "uptime", &[]);
    shows(&uptime, &["2 users"], state);
    // `who FILE`: utmpxname on a file of any format, here the daemons'
    // own native files, read by the library rather than the daemon.
    let utmp = run_dir(s).join("utmp");
    let file = compare(s, "who", "who", &["-a", utmp.to_str().unwrap()]);
    shows(&file, &["pts/9803", "(192.0.2.1)"], state);
    let wtmp = log_dir(s).join("wtmp");
    let history = compare(s, "who", "who", &["-a", wtmp.to_str().unwrap()]);
    shows(&history, &["system boot", "pts/9803"], state);
}

/// `pinky ARGS` over a legacy copy of the daemon's table, in a private
/// mount namespace where it is /run/utmp, without the library.
fn pinky_over_legacy(s: &Scratch, args: &str) -> Vec<u8> {
    let dump = run(s.applet("utmpdump").arg(run_dir(s).join("utmp")), None);
    ok(&dump);
    let legacy = s.path("utmp.legacy");
    let back = run(
        s.applet("utmpdump").arg("-r").arg("-o").arg(&legacy),
        Some(&dump.stdout),
    );
    ok(&back);
    let out = s.path("pinky.legacy");
    let script = format!(
        "{}pinky {args} > {o} 2>&1; echo \"--- exit $?\" >> {o}\n",
        namespace_setup(&legacy, None),
        o = quote(&out)
    );
    util::in_namespace(s, &script, &[]);
    std::fs::read(out).unwrap()
}

fn pinky_preloaded(s: &Scratch, args: &[&str]) -> Vec<u8> {
    let out = run(preloaded(s, "pinky").args(args), None);
    let mut bytes = out.stdout.clone();
    bytes.extend_from_slice(&out.stderr);
    bytes.extend_from_slice(format!("--- exit {}\n", out.status.code().unwrap_or(-1)).as_bytes());
    bytes
}

#[test]
fn coreutils_and_procps_readers_print_the_daemons_table() {
    let s = Scratch::new("capi-readers");
    library(&s);
    let (_children, pid) = sleeper();
    let (_u, _w) = start_both(&s);
    record_sessions(&s, pid);
    readers_match(&s, true);
}

/// An unprivileged program reads the table through the library too.
#[test]
fn readers_as_nobody_print_the_daemons_table() {
    need_root();
    let s = Scratch::new("capi-readers-nobody");
    library(&s);
    let (_children, pid) = sleeper();
    let (_u, _w) = start_both(&s);
    record_sessions(&s, pid);
    let all = compare_as(&s, "who", "who", &["-a"], true);
    shows(&all, &["system boot", "pts/9803", "(192.0.2.1)"], "nobody");
    compare_as(&s, "w", "w", &[], true);
}

#[test]
fn pinky_under_the_library_equals_pinky_over_the_legacy_file() {
    let s = Scratch::new("capi-pinky");
    library(&s);
    let (_children, pid) = sleeper();
    let (_u, _w) = start_both(&s);
    record_sessions(&s, pid);
    for args in [&[][..], &["-w"], &["-i"], &["-q"], &["root"]] {
        let theirs = pinky_over_legacy(&s, &args.join(" "));
        let ours = pinky_preloaded(&s, args);
        assert_same(&ours, &theirs, format!("pinky {}", args.join(" ")));
        shows(&ours, &["pts/9801"], "pinky");
    }
}

#[test]
fn with_the_daemons_stopped_readers_list_the_files() {
    let s = Scratch::new("capi-fallback");
    library(&s);
    let (_children, pid) = sleeper();
    let (u, w) = start_both(&s);
    record_sessions(&s, pid);
    let pinky_live = pinky_over_legacy(&s, "");
    // A hung utmpd (stopped, its socket accepting): after the 1 s
    // deadline both read the file.
    u.signal(libc::SIGSTOP);
    let hung = compare(&s, "who", "who", &["-a"]);
    shows(&hung, &["system boot", "pts/9803", "(192.0.2.1)"], "hung");
    u.signal(libc::SIGCONT);
    assert!(u.stop(), "utmpd did not stop cleanly");
    assert!(w.stop(), "wtmpd did not stop cleanly");
    readers_match(&s, false);
    assert_same(
        &pinky_preloaded(&s, &[]),
        &pinky_live,
        "pinky from the files",
    );
}
