//! Shared test plumbing: the binary under test, scratch dirs, applet
//! symlinks, and running commands with a fixed TZ and locale.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// The binary under test: the static release build the Makefile passes in,
/// else the debug build cargo made for this test run.
pub fn binary() -> PathBuf {
    match std::env::var_os("UTMPBOX_BIN") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_BIN_EXE_utmpbox")),
    }
}

/// Put the executable `from` at `to`: a hard link, else a copy made by
/// `cp`. Never a copy written by this process: a test thread forking
/// meanwhile would inherit the open file, and running the copy would fail
/// with ETXTBSY until that child execs.
pub fn copy_exe(from: &Path, to: &Path) {
    if std::fs::hard_link(from, to).is_ok() {
        return;
    }
    let status = Command::new("cp").arg(from).arg(to).status().unwrap();
    assert!(status.success(), "cp {} {}", from.display(), to.display());
}

/// A scratch directory removed when dropped, with the binary and its
/// applet symlinks in bin/.
pub struct Scratch {
    pub dir: PathBuf,
}

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("utmpbox-test-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        // The binary itself goes into the scratch dir (a hard link, else a
        // copy) and the applet links point at that: a test that drops to
        // nobody must be able to run them even when nobody cannot enter
        // the checkout's parent directory.
        let own = dir.join("bin").join("utmpbox");
        copy_exe(&binary(), &own);
        let status = Command::new(&own)
            .arg("--install")
            .arg(dir.join("bin"))
            .status()
            .unwrap();
        assert!(status.success(), "utmpbox --install failed");
        Scratch { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A command for applet `name` through its symlink, with TZ=UTC,
    /// LC_ALL=C and the scratch run/log dirs.
    pub fn applet(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.dir.join("bin").join(name));
        fixed_env(&mut cmd);
        cmd.env("UTMPBOX_RUNDIR", self.dir.join("run"));
        cmd.env("UTMPBOX_LOGDIR", self.dir.join("log"));
        cmd
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A command for a peer tool with the same fixed environment.
pub fn peer(program: &str) -> Command {
    let mut cmd = Command::new(program);
    fixed_env(&mut cmd);
    cmd
}

fn fixed_env(cmd: &mut Command) {
    cmd.env_clear();
    cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
    cmd.env("TZ", "UTC");
    cmd.env("LC_ALL", "C");
    cmd.stdin(Stdio::null());
}

/// Run with optional stdin; return the whole output.
pub fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {:?}: {e}", cmd.get_program()));
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    child.wait_with_output().unwrap()
}

pub fn stdout_of(cmd: &mut Command) -> Vec<u8> {
    let out = run(cmd, None);
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd.get_program(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Show two byte strings side by side when they differ.
#[track_caller]
pub fn assert_same(ours: &[u8], theirs: &[u8], what: impl std::fmt::Display) {
    if ours != theirs {
        panic!(
            "{what}: output differs\n--- utmpbox\n{}\n--- peer\n{}",
            String::from_utf8_lossy(ours),
            String::from_utf8_lossy(theirs)
        );
    }
}

pub fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// A path quoted for `sh` (test paths hold no single quote).
pub fn quote(p: &Path) -> String {
    format!("'{}'", p.display())
}

/// A pid no process has any more.
pub fn dead_pid() -> i32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id() as i32;
    child.wait().unwrap();
    pid
}

/// `s`'s `proc` directory with fake `uptime` and `loadavg` files.
pub fn fake_proc(s: &Scratch, uptime: &str, loadavg: &str) -> PathBuf {
    let fake = s.path("proc");
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::write(fake.join("uptime"), uptime).unwrap();
    std::fs::write(fake.join("loadavg"), loadavg).unwrap();
    fake
}

/// The first line of a script for `in_namespace`: a tmpfs on /run holding
/// `utmp` as /run/utmp (every peer's default table) and, with `proc`, its
/// `uptime` and `loadavg` bound over /proc's.
pub fn namespace_setup(utmp: &Path, proc: Option<&Path>) -> String {
    let mut script = format!(
        "set -e; mount -t tmpfs tmpfs /run; cp {} /run/utmp; ",
        quote(utmp)
    );
    if let Some(fake) = proc {
        script.push_str(&format!(
            "mount --bind {} /proc/uptime; mount --bind {} /proc/loadavg; ",
            quote(&fake.join("uptime")),
            quote(&fake.join("loadavg"))
        ));
    }
    script + "set +e\n"
}

/// Run `script` in a private mount namespace with no native table
/// (UTMPBOX_RUNDIR points at nothing), so nothing on the machine is
/// touched; `env` is added. Panics with its stderr if it fails.
pub fn in_namespace(s: &Scratch, script: &str, env: &[(&str, &Path)]) {
    let mut cmd = peer("unshare");
    cmd.args(["-m", "sh", "-c", script]);
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.env("UTMPBOX_RUNDIR", s.path("no-native-here"));
    let done = run(&mut cmd, None);
    assert!(
        done.status.success(),
        "namespace: {}",
        String::from_utf8_lossy(&done.stderr)
    );
}
