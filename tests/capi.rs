//! libutmpbox, the C API (docs/CAPI.md): the C programs in tests/capi/,
//! built with gcc against glibc (run under LD_PRELOAD=libutmpbox.so) and
//! with `musl-gcc -static` against dist/include and libutmpbox.a, write
//! and read through the daemons of a scratch dir; utmpbox's own readers
//! show what they wrote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::daemon_util::{ok, pty_owned_by, start_both};
use crate::util::{peer, run, stdout_of, Scratch};

/// dist/ as `make capi` left it: the Makefile passes it as UTMPBOX_CAPI.
fn dist() -> PathBuf {
    let dir = match std::env::var_os("UTMPBOX_CAPI") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("dist"),
    };
    for file in [
        "lib/libutmpbox.a",
        "lib/libutmpbox.so",
        "include/utmpx.h",
        "include/utmp.h",
        "lib/pkgconfig/utmpbox.pc",
    ] {
        assert!(
            dir.join(file).is_file(),
            "the C API is not built: {} is missing (run `make capi`; `make test` runs it \
             and passes its dist dir as UTMPBOX_CAPI)",
            dir.join(file).display()
        );
    }
    dir
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Libc {
    Glibc,
    Musl,
}

const BOTH: [Libc; 2] = [Libc::Glibc, Libc::Musl];

/// A C program of tests/capi/ built for one libc.
struct Program {
    path: PathBuf,
    libc: Libc,
    dist: PathBuf,
}

fn build(s: &Scratch, source: &str, libc: Libc) -> Program {
    let dist = dist();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/capi")
        .join(source);
    let path = s.path(&format!("{}-{libc:?}", source.trim_end_matches(".c")));
    let mut cmd = match libc {
        Libc::Glibc => peer("gcc"),
        Libc::Musl => peer("musl-gcc"),
    };
    cmd.args(["-Wall", "-Werror", "-o"]).arg(&path).arg(&src);
    if libc == Libc::Musl {
        cmd.arg("-static")
            .arg("-I")
            .arg(dist.join("include"))
            .arg(dist.join("lib/libutmpbox.a"));
    }
    let out = run(&mut cmd, None);
    assert!(
        out.status.success(),
        "building {source} for {libc:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Program { path, libc, dist }
}

impl Program {
    /// The program with `args`, the scratch dir's daemons and files, and
    /// for glibc the library preloaded.
    fn cmd(&self, s: &Scratch, args: &[&str]) -> Command {
        let mut cmd = peer(self.path.to_str().unwrap());
        cmd.args(args)
            .env("UTMPBOX_RUNDIR", s.path("run"))
            .env("UTMPBOX_LOGDIR", s.path("log"))
            .env("UTMPX_DEMO_TIME", "1000000000")
            .env("UTMP_DEMO_TIME", "1000000000");
        if self.libc == Libc::Glibc {
            cmd.env("LD_PRELOAD", self.dist.join("lib/libutmpbox.so"));
        }
        cmd
    }

    fn run(&self, s: &Scratch, args: &[&str]) -> Output {
        let out = run(&mut self.cmd(s, args), None);
        assert!(
            out.status.code().is_some(),
            "{:?} {args:?} was killed by a signal: {:?}",
            self.libc,
            out.status
        );
        out
    }

    /// Run to success; its stdout.
    fn ok(&self, s: &Scratch, args: &[&str]) -> String {
        let out = self.run(s, args);
        assert!(
            out.status.success(),
            "{:?} {args:?}: exit {:?}\n{}{}",
            self.libc,
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn applet(s: &Scratch, name: &str, args: &[&str]) -> String {
    String::from_utf8_lossy(&stdout_of(s.applet(name).args(args))).into_owned()
}

/// The lines of `last`/`lastb` output about sessions (not the boot, not
/// the "begins" footer).
fn session_lines(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| !l.is_empty() && !l.starts_with("reboot") && !l.contains(" begins "))
        .collect()
}

const BIN_LOGIN: &str =
    "USER_PROCESS pid=1 line=pts/8 id=ts/8 user=bin host=host.b tv=1000000000\n";

/// A login, a logout, a failed login through updwtmpx("/var/log/btmp")
/// and a wtmp-only record, each where the readers look for it.
fn records_reach_each_reader(libc: Libc) {
    let s = Scratch::new("capi-records");
    let _daemons = start_both(&s);
    let p = build(&s, "utmpx_demo.c", libc);
    assert_eq!(
        p.ok(&s, &["login", "pts/7", "daemon", "example.org", "1"]),
        "USER_PROCESS pid=1 line=pts/7 id=ts/7 user=daemon host=example.org tv=1000000000\n"
    );
    assert_eq!(
        p.ok(&s, &["login", "pts/8", "bin", "host.b", "1"]),
        BIN_LOGIN
    );
    assert_eq!(
        p.ok(&s, &["logout", "pts/7", "1"]),
        "DEAD_PROCESS pid=1 line=pts/7 id=ts/7 user= host= tv=1000000000\n"
    );
    assert_eq!(
        p.ok(&s, &["fail", "pts/9", "mallory", "evil.example"]),
        "updwtmpx btmp: errno=0\n"
    );
    assert_eq!(
        p.ok(&s, &["wtmp", "pts/10", "sys"]),
        "updwtmpx wtmp: errno=0\n"
    );

    assert_eq!(
        applet(&s, "who", &[]),
        "bin      pts/8        Sep  9 01:46 (host.b)\n"
    );
    let last = applet(&s, "last", &[]);
    let lines = session_lines(&last);
    assert_eq!(lines.len(), 3, "last:\n{last}");
    assert!(lines[0].starts_with("sys      pts/10                        Sun Sep  9 01:46 "));
    assert!(lines[1].starts_with("bin      pts/8        host.b           Sun Sep  9 01:46 "));
    assert_eq!(
        lines[2],
        "daemon   pts/7        example.org      Sun Sep  9 01:46 - 01:46  (00:00)"
    );
    let lastb = applet(&s, "lastb", &[]);
    let lines = session_lines(&lastb);
    assert_eq!(lines.len(), 1, "lastb:\n{lastb}");
    assert!(lines[0].starts_with("mallory  pts/9        evil.example     Sun Sep  9 01:46 "));
    // The failed login is in btmp only: not a session, not a last login.
    assert!(!last.contains("mallory"));
    assert_eq!(
        applet(&s, "lastlog", &["-u", "bin"]),
        "Username         Port     From                                       Latest\n\
         bin              pts/8    host.b                                    Sun Sep  9 01:46:40 +0000 2001\n"
    );

    // getutxid and getutxline find what was written; the ended session
    // is no longer a login on its line.
    assert_eq!(p.ok(&s, &["id", "ts/8"]), BIN_LOGIN);
    assert_eq!(p.ok(&s, &["line", "pts/8"]), BIN_LOGIN);
    let out = p.run(&s, &["line", "pts/7"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "getutxline: errno=3 No such process\n"
    );
    // The whole table: utmpd's boot record, then the two slots.
    let list = p.ok(&s, &["list"]);
    assert!(
        list.starts_with("BOOT_TIME pid=0 line=~ id=~~ user=reboot "),
        "{list}"
    );
    let tail = "DEAD_PROCESS pid=1 line=pts/7 id=ts/7 user= host= tv=1000000000\n".to_owned()
        + BIN_LOGIN
        + "entries=3\n";
    assert!(list.ends_with(&tail), "{list}");
}

#[test]
fn capi_glibc_records_reach_each_reader() {
    records_reach_each_reader(Libc::Glibc);
}

#[test]
fn capi_musl_records_reach_each_reader() {
    records_reach_each_reader(Libc::Musl);
}
