//! libutmpbox (issue 12) for writers: what a program that records
//! sessions through the C API sees when the daemons are gone, when it runs
//! as `nobody`, when eight threads read while one writes, and a real
//! third-party writer (libutempter's helper) run under the library.
//!
//! The programs are tests/capi_programs/uttool.c and threads.c, built with
//! gcc against glibc and run with `LD_PRELOAD` (helpers in
//! tests/capi_programs.rs). A writer that fails prints the errno's name,
//! so each test asserts the exact errno a program gets.

use std::path::Path;
use std::process::Stdio;

use crate::capi_programs::{
    compile, isolated, library, need_root, preloaded, record_sessions, sleeper,
};
use crate::daemon_util::{
    as_nobody, log_dir, ok, pty_owned_by, read_native, run_dir, start_both, Rec, NOBODY, USER,
};
use crate::util::{self, peer, quote, run, Scratch};
use crate::w::Children;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The records of a native file, none when it does not exist.
fn records(path: &Path) -> Vec<Rec> {
    if path.exists() {
        read_native(path)
    } else {
        Vec::new()
    }
}

/// The wtmp records on `line`: kind, user and host.
fn wtmp_on(s: &Scratch, line: &str) -> Vec<(i16, String, String)> {
    records(&log_dir(s).join("wtmp"))
        .iter()
        .filter(|r| r.line == line.as_bytes())
        .map(|r| (r.kind, text(&r.user), text(&r.host)))
        .collect()
}

/// `uttool ARGS` under the library in a private namespace: it must fail
/// cleanly (exit 1, no signal) with `errno`.
#[track_caller]
fn fails_with(s: &Scratch, uttool: &Path, args: &[&str], errno: &str) {
    let mut cmd = preloaded(s, "timeout");
    cmd.arg("60").arg(uttool).args(args);
    let out = run(&mut isolated(cmd), None);
    let said = text(&out.stdout);
    println!("uttool {}: {said}", args.join(" "));
    assert_eq!(
        (
            out.status.code(),
            said.trim().rsplit(' ').next().unwrap_or("")
        ),
        (Some(1), errno),
        "uttool {args:?} (124: hung; a signal: crashed): {said}{}",
        text(&out.stderr)
    );
}

#[test]
fn with_the_daemons_stopped_writers_get_an_errno_and_do_not_crash() {
    let s = Scratch::new("capi-nodaemon");
    library(&s);
    let uttool = compile(&s, "uttool");
    let (_children, pid) = sleeper();
    let (u, w) = start_both(&s);
    record_sessions(&s, pid);
    let pid = pid.to_string();
    let login: &[&str] = &["login", "pts/9804", "root", "192.0.2.4", &pid];
    let logout: &[&str] = &["logout", "pts/9801", &pid];

    // A hung utmpd (stopped, its socket still accepting): the 1 s
    // deadline, not a hang.
    u.signal(libc::SIGSTOP);
    fails_with(&s, &uttool, login, "ETIMEDOUT");
    u.signal(libc::SIGCONT);

    // utmpd killed (its socket left behind, nobody listening); wtmpd
    // stopped cleanly (its socket removed).
    u.kill9();
    assert!(w.stop(), "wtmpd did not stop cleanly");
    let files = [
        run_dir(&s).join("utmp"),
        log_dir(&s).join("wtmp"),
        log_dir(&s).join("btmp"),
    ];
    let before: Vec<_> = files.iter().map(|f| std::fs::read(f).ok()).collect();
    // Paths whose names route to wtmpd, in a directory a direct append
    // would succeed in: the library must not write them itself.
    std::fs::create_dir_all(s.path("elsewhere")).unwrap();
    let wtmp = s.path("elsewhere/wtmp");
    let btmp = s.path("elsewhere/btmp");
    fails_with(&s, &uttool, login, "ECONNREFUSED");
    fails_with(&s, &uttool, logout, "ECONNREFUSED");
    let wtmp_call = ["updwtmpx", wtmp.to_str().unwrap(), "pts/9804", "root", "x"];
    fails_with(&s, &uttool, &wtmp_call, "ENOENT");
    let btmp_call = ["updwtmpx", btmp.to_str().unwrap(), "ssh:notty", "root", "x"];
    fails_with(&s, &uttool, &btmp_call, "ENOENT");
    assert!(!wtmp.exists() && !btmp.exists(), "the library wrote a file");
    let after: Vec<_> = files.iter().map(|f| std::fs::read(f).ok()).collect();
    assert!(before == after, "the library touched the daemons' files");
    // Reading still works, from the files.
    let list = run(preloaded(&s, &uttool).arg("list"), None);
    let said = text(&list.stdout);
    assert!(said.contains("7 pts/9801 root 192.0.2.1\n"), "{said}");
    // The daemon that did not answer is no error of the read.
    assert!(said.ends_with("getutxent: end\n"), "{said}");
}

#[test]
fn as_nobody_a_login_for_another_user_is_eperm() {
    let s = Scratch::new("capi-nobody-login");
    library(&s);
    let uttool = compile(&s, "uttool");
    let (_u, _w) = start_both(&s);
    let (line, _master) = pty_owned_by(NOBODY);
    // A process of nobody's own as the session's pid.
    let mut sleep = peer("sleep");
    sleep.arg("1000");
    let child = crate::daemon_util::spawn_as_nobody(sleep);
    let pid = child.id().to_string();
    let _children = Children(vec![child]);
    let login = |user: &str| {
        let mut cmd = preloaded(&s, &uttool);
        cmd.args(["login", &line, user, "", &pid]);
        run(&mut isolated(as_nobody(cmd)), None)
    };

    let refused = login("root");
    assert_eq!(
        (text(&refused.stdout), refused.status.code()),
        ("pututxline: EPERM\n".to_string(), Some(1)),
        "{}",
        text(&refused.stderr)
    );
    let utmp = records(&run_dir(&s).join("utmp"));
    assert!(!utmp.iter().any(|r| r.line == line.as_bytes()), "{utmp:?}");

    // The same call for nobody itself is allowed: the refusal was about
    // the user, not the library or the terminal.
    let own = login("nobody");
    assert_eq!(
        text(&own.stdout),
        "pututxline: ok\n",
        "{}",
        text(&own.stderr)
    );
    let utmp = records(&run_dir(&s).join("utmp"));
    let entry = utmp.iter().find(|r| r.line == line.as_bytes());
    assert!(
        entry.is_some_and(|r| r.kind == USER && r.user == b"nobody"),
        "{utmp:?}"
    );
}

#[test]
fn as_nobody_updwtmpx_to_var_log_btmp_is_eperm() {
    need_root();
    let s = Scratch::new("capi-nobody-btmp");
    library(&s);
    let uttool = compile(&s, "uttool");
    let (_u, _w) = start_both(&s);
    // /var/log is a fresh tmpfs anyone may write in this namespace: had
    // the library appended to /var/log/btmp itself, the file would be
    // there.
    let env = format!(
        "env -i PATH=/usr/bin:/bin TZ=UTC LC_ALL=C LD_PRELOAD={} UTMPBOX_RUNDIR={} UTMPBOX_LOGDIR={}",
        quote(&s.path("lib/libutmpbox.so")),
        quote(&run_dir(&s)),
        quote(&log_dir(&s))
    );
    let call = |who: &str, user: &str, out: &str| {
        format!(
            "{who} {env} {t} updwtmpx /var/log/btmp ssh:notty {user} 192.0.2.9 > {o} 2>&1; \
             echo \"exit $?\" >> {o}\n",
            t = quote(&uttool),
            o = quote(&s.path(out))
        )
    };
    let script = format!(
        "set -e; mount -t tmpfs -o mode=1777 tmpfs /var/log; set +e\n{}{}ls -A /var/log > {}\n",
        call(
            "setpriv --reuid=65534 --regid=65534 --clear-groups --",
            "nobody",
            "nobody.out"
        ),
        call("", "root", "root.out"),
        quote(&s.path("ls.out"))
    );
    util::in_namespace(&s, &script, &[]);
    let said = |name: &str| std::fs::read_to_string(s.path(name)).unwrap();
    assert_eq!(said("nobody.out"), "updwtmpx: EPERM\nexit 1\n");
    // Root's same call is routed to wtmpd's btmp (the control).
    assert_eq!(said("root.out"), "updwtmpx: ok\nexit 0\n");
    assert_eq!(said("ls.out"), "", "the library wrote under /var/log");
    let btmp = records(&log_dir(&s).join("btmp"));
    let users: Vec<_> = btmp.iter().map(|r| text(&r.user)).collect();
    assert_eq!(users, ["root"], "{btmp:?}");
}

/// updwtmpx returns nothing, so errno is how a program sees it fail;
/// and a program tells the end of the table from an error by errno. Both
/// need errno left alone by a call that succeeded, as glibc does.
#[test]
fn successful_calls_leave_errno_alone() {
    let s = Scratch::new("capi-errno");
    library(&s);
    let uttool = compile(&s, "uttool");
    let (_u, _w) = start_both(&s);
    let mut list = preloaded(&s, &uttool);
    list.arg("list");
    let listed = run(&mut isolated(list), None);
    let said = text(&listed.stdout);
    assert!(said.contains(" reboot "), "{said}");
    assert!(said.ends_with("getutxent: end\n"), "{said}");
    let mut append = preloaded(&s, &uttool);
    append.args([
        "updwtmpx",
        "/var/log/btmp",
        "ssh:notty",
        "root",
        "192.0.2.9",
    ]);
    let appended = run(&mut isolated(append), None);
    assert_eq!(text(&appended.stdout), "updwtmpx: ok\n");
    let btmp = records(&log_dir(&s).join("btmp"));
    assert_eq!(btmp.len(), 1, "{btmp:?}");
}

/// `threads 3` under the library (tests/capi_programs/threads.c): its
/// summary line's counts.
fn threads(s: &Scratch, program: &Path) -> Vec<(String, i64)> {
    let mut cmd = preloaded(s, "timeout");
    cmd.arg("120").arg(program).arg("3");
    let out = run(&mut isolated(cmd), None);
    let said = text(&out.stdout);
    println!("threads: {said}");
    assert_eq!(
        out.status.code(),
        Some(0),
        "threads (124: hung; a signal: crashed): {said}{}",
        text(&out.stderr)
    );
    let summary = said.lines().last().unwrap_or("");
    let words: Vec<&str> = summary.split(' ').collect();
    words
        .chunks(2)
        .map(|kv| (kv[0].to_string(), kv[1].parse().unwrap()))
        .collect()
}

fn count(counts: &[(String, i64)], name: &str) -> i64 {
    counts.iter().find(|(k, _)| k == name).map_or(-1, |kv| kv.1)
}

#[test]
fn eight_threads_read_consistent_tables_while_one_writes() {
    let s = Scratch::new("capi-threads");
    library(&s);
    let program = compile(&s, "threads");
    let (_u, _w) = start_both(&s);
    let counts = threads(&s, &program);
    assert_eq!(count(&counts, "failures"), 0, "{counts:?}");
    assert_eq!(count(&counts, "write_errors"), 0, "{counts:?}");
    // The writer and the readers both got somewhere, and every snapshot
    // was a state the table went through.
    assert!(count(&counts, "generations") >= 2, "{counts:?}");
    assert!(count(&counts, "snapshots") >= 8, "{counts:?}");
    assert!(count(&counts, "lookups") >= 1, "{counts:?}");
    assert_eq!(
        count(&counts, "consistent"),
        count(&counts, "snapshots"),
        "{counts:?}"
    );
}

const UTEMPTER: &str = "/usr/lib/x86_64-linux-gnu/utempter/utempter";

/// libutempter's helper copied into the scratch dir as a plain 0755
/// file: `fs::copy` keeps the setgid bit, which puts the loader in
/// secure mode for a non-root caller, and it then ignores LD_PRELOAD.
fn utempter_copy(s: &Scratch) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    assert!(
        Path::new(UTEMPTER).exists(),
        "{UTEMPTER} is missing: scripts/deps.sh installs libutempter0"
    );
    let helper = s.path("bin/utempter-copy");
    // Copied by a child (never a file this process holds open for
    // writing while a test thread forks: ETXTBSY), then made 0755.
    let status = std::process::Command::new("cp")
        .arg(UTEMPTER)
        .arg(&helper)
        .status()
        .unwrap();
    assert!(status.success(), "cp {UTEMPTER}");
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    helper
}

/// libutempter's helper, copied (so without its setgid bit, which would
/// make the loader ignore LD_PRELOAD), records root's session on a pty
/// whose master is its stdin, and ends it. It writes with `pututline` and
/// `updwtmp("/var/log/wtmp")`; /run and /var/log are fresh tmpfs here, so
/// a write that missed the library would be seen (and touch nothing).
#[test]
fn utempter_records_and_ends_a_session_through_the_library() {
    need_root();
    let s = Scratch::new("capi-utempter");
    library(&s);
    let helper = utempter_copy(&s);
    let (_u, _w) = start_both(&s);
    let (line, master) = pty_owned_by(0);
    let env = format!(
        "LD_PRELOAD={} UTMPBOX_RUNDIR={} UTMPBOX_LOGDIR={}",
        quote(&s.path("lib/libutmpbox.so")),
        quote(&run_dir(&s)),
        quote(&log_dir(&s))
    );
    let bin = |name: &str| quote(&s.dir.join("bin").join(name));
    let o = |name: &str| quote(&s.path(name));
    let script = format!(
        "set -e; mount -t tmpfs tmpfs /run; mount -t tmpfs tmpfs /var/log; set +e\n\
         {env} {h} add example.org > {a} 2>&1; echo \"exit $?\" >> {a}\n\
         {env} {who} > {w1}\n\
         {env} {h} del > {d} 2>&1; echo \"exit $?\" >> {d}\n\
         {env} {who} > {w2}\n\
         {env} {last} > {l}\n\
         ls -A /var/log /run/utmp > {ls} 2>&1; true\n",
        h = quote(&helper),
        who = bin("who"),
        last = bin("last"),
        a = o("add.out"),
        d = o("del.out"),
        w1 = o("who1.out"),
        w2 = o("who2.out"),
        l = o("last.out"),
        ls = o("ls.out"),
    );
    let mut cmd = peer("unshare");
    cmd.args(["-m", "sh", "-c", &script]).stdin(master);
    ok(&run(&mut cmd, None));
    let said = |name: &str| std::fs::read_to_string(s.path(name)).unwrap();
    assert_eq!(said("add.out"), "exit 0\n");
    assert_eq!(said("del.out"), "exit 0\n");
    let during = said("who1.out");
    assert!(
        during.contains(&format!("root     {line:<12} ")) && during.contains("(example.org)"),
        "who during the session:\n{during}"
    );
    assert!(!said("who2.out").contains(&line), "{}", said("who2.out"));
    // utempter's logout keeps the user name, so last (util-linux's too,
    // over the files glibc writes) still pairs nothing with the login:
    // the login is what last shows, the logout is in wtmp.
    let last = said("last.out");
    assert!(
        last.lines().any(|l| l.starts_with("root")
            && l.contains(&format!(" {line} "))
            && l.contains("example.org")),
        "last:\n{last}"
    );
    let ours = wtmp_on(&s, &line);
    assert_eq!(
        ours,
        [
            (USER, "root".to_string(), "example.org".to_string()),
            (crate::daemon_util::DEAD, "root".to_string(), String::new())
        ],
        "{ours:?}"
    );
    assert_eq!(
        said("ls.out"),
        "ls: cannot access '/run/utmp': No such file or directory\n/var/log:\n",
        "utempter wrote a file"
    );
    let utmp = records(&run_dir(&s).join("utmp"));
    let entry = utmp.iter().find(|r| r.line == line.as_bytes());
    assert!(
        entry.is_some_and(|r| r.kind == crate::daemon_util::DEAD),
        "{utmp:?}"
    );
}

/// The same helper run by `nobody` on its own pty, with no setgid bit at
/// all: the library hands its writes to the daemons, whose policy lets a
/// user record its own session on its own terminal.
#[test]
fn utempter_as_nobody_records_its_own_session_without_setgid() {
    need_root();
    let s = Scratch::new("capi-utempter-nobody");
    library(&s);
    let helper = utempter_copy(&s);
    let (_u, _w) = start_both(&s);
    let (line, master) = pty_owned_by(NOBODY);
    let script = format!(
        "{h} add example.net; echo \"add $?\"; {who}; {h} del; echo \"del $?\"; {who}",
        h = quote(&helper),
        who = quote(&s.dir.join("bin/who")),
    );
    let mut sh = preloaded(&s, "sh");
    sh.args(["-c", &script]);
    let mut cmd = as_nobody(sh);
    cmd.stdin(master);
    let out = run(&mut cmd, None);
    ok(&out);
    let said = text(&out.stdout);
    let lines: Vec<_> = said.lines().collect();
    assert!(
        lines.len() == 3
            && lines[0] == "add 0"
            && lines[1].starts_with(&format!("nobody   {line:<12} "))
            && lines[1].ends_with(" (example.net)")
            && lines[2] == "del 0",
        "{said}"
    );
    let ours = wtmp_on(&s, &line);
    assert_eq!(
        ours,
        [
            (USER, "nobody".to_string(), "example.net".to_string()),
            (
                crate::daemon_util::DEAD,
                "nobody".to_string(),
                String::new()
            )
        ],
        "{ours:?}"
    );
}

#[test]
fn a_writer_started_before_its_daemons_waits_for_them() {
    // At boot a getty or login may call pututxline while utmpd is still
    // starting: the library retries a missing socket within its deadline
    // (1 s) rather than failing at once (issue 13's writers wait).
    let s = Scratch::new("capi-early-writer");
    library(&s);
    let uttool = compile(&s, "uttool");
    let (_children, pid) = sleeper();
    let pid = pid.to_string();
    let mut cmd = preloaded(&s, &uttool);
    cmd.args(["login", "pts/9805", "root", "192.0.2.5", &pid]);
    let writer = isolated(cmd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(250));
    let (_u, _w) = start_both(&s);
    let out = writer.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the early writer failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let utmp = records(&run_dir(&s).join("utmp"));
    assert!(
        utmp.iter()
            .any(|r| r.line == b"pts/9805" && r.user == b"root"),
        "{utmp:?}"
    );
}
