//! `utmpd --import FILE`: the live sessions of another writer's table
//! (utmps' 400-byte utmpx, glibc's 384-byte utmp, a native table) are
//! taken over at start; ended ones and invalid records are not.

use std::process::{Child, Command};

use crate::daemon_util::{read_native, run_dir, Daemon};
use crate::util::{dead_pid, run, Scratch};
use crate::utmpfile::{glibc, native, utmpx, Entry};

/// A running `sleep`, killed when dropped: a process a session can
/// belong to.
struct Sleeper(Child);

impl Sleeper {
    fn new() -> Sleeper {
        Sleeper(Command::new("sleep").arg("600").spawn().unwrap())
    }

    fn pid(&self) -> i32 {
        self.0.id() as i32
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The table every format test imports: a live user, a live getty
/// (LOGIN), a user whose process is gone, a live user whose host holds a
/// terminal escape, and a dead entry. Returns the entries and the
/// processes that keep the live ones alive.
fn table() -> (Vec<Entry>, Vec<Sleeper>) {
    let (alice, getty, mallory) = (Sleeper::new(), Sleeper::new(), Sleeper::new());
    let now = now_secs();
    let mut dead = Entry::new(8, 0, "pts/9", "", "", now);
    dead.id = b"ts/9".to_vec();
    let entries = vec![
        Entry::new(7, alice.pid(), "pts/1", "alice", "alice.example", now),
        Entry::new(6, getty.pid(), "tty2", "LOGIN", "", now),
        Entry::new(7, dead_pid(), "pts/2", "bob", "bob.example", now),
        Entry::new(7, mallory.pid(), "pts/3", "mallory", "\x1b[2Jx", now),
        dead,
    ];
    (entries, vec![alice, getty, mallory])
}

fn start_importing(s: &Scratch, file: &std::path::Path) -> Daemon {
    let file = file.to_str().unwrap();
    Daemon::start(s, "utmpd", &["-S", "0", "-n", "--import", file])
}

/// Import `bytes` as FILE, then check what utmpd said, what it stored
/// and what `who` shows.
fn imports_the_live_sessions(name: &str, bytes: impl FnOnce(&[Entry]) -> Vec<u8>) {
    let s = Scratch::new(name);
    let (entries, _alive) = table();
    let file = s.write("old-utmp", &bytes(&entries));
    let utmpd = start_importing(&s, &file);
    let log = utmpd.log();
    let shown = file.display();
    assert!(
        log.contains(&format!("utmpd: info: imported 2 sessions from {shown}\n")),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "utmpd: warning: {shown}: record 3 skipped: host contains a control character\n"
        )),
        "{log}"
    );
    assert_eq!(log.matches("skipped").count(), 1, "{log}");
    let stored = read_native(&run_dir(&s).join("utmp"));
    let lines: Vec<(i16, &[u8])> = stored
        .iter()
        .filter(|r| r.kind != 0)
        .map(|r| (r.kind, r.line.as_slice()))
        .collect();
    assert_eq!(lines, [(7, &b"pts/1"[..]), (6, &b"tty2"[..])], "{stored:?}");
    let alice = &stored[0];
    assert_eq!(
        (alice.pid, alice.user.as_slice(), alice.host.as_slice()),
        (entries[0].pid, &b"alice"[..], &b"alice.example"[..])
    );
    assert_eq!(alice.time_us, entries[0].sec * 1_000_000);
    let who = run(s.applet("who").arg("-u"), None);
    let out = String::from_utf8_lossy(&who.stdout);
    assert!(who.status.success(), "{out}");
    let users: Vec<&str> = out.lines().filter_map(|l| l.split(' ').next()).collect();
    assert_eq!(users, ["alice"], "{out}");
    assert!(utmpd.stop());
}

#[test]
fn import_takes_the_live_sessions_of_a_utmps_table() {
    imports_the_live_sessions("import-utmpx", utmpx);
}

#[test]
fn import_takes_the_live_sessions_of_a_glibc_table() {
    imports_the_live_sessions("import-glibc", glibc);
}

#[test]
fn import_takes_the_live_sessions_of_a_native_table() {
    imports_the_live_sessions("import-native", native);
}

/// A service that passes `--import` on every start imports again after
/// each restart: nothing may be duplicated, and nothing newer replaced.
#[test]
fn importing_twice_changes_nothing() {
    let s = Scratch::new("import-twice");
    let (entries, _alive) = table();
    let file = s.write("old-utmp", &utmpx(&entries));
    let first = start_importing(&s, &file);
    assert!(first.stop());
    let before = read_native(&run_dir(&s).join("utmp"));
    let again = start_importing(&s, &file);
    let log = again.log();
    assert!(
        log.contains(&format!(
            "utmpd: info: imported 0 sessions from {}\n",
            file.display()
        )),
        "{log}"
    );
    assert!(log.contains("2 already present"), "{log}");
    assert_eq!(read_native(&run_dir(&s).join("utmp")), before);
    assert!(again.stop());
}

fn refused(s: &Scratch, args: &[&str]) -> (i32, String) {
    let out = run(s.applet("utmpd").args(["-S", "0", "-n"]).args(args), None);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_import_file_is_fatal() {
    let s = Scratch::new("import-missing");
    let missing = s.path("no-such-utmp");
    let (code, err) = refused(&s, &["--import", missing.to_str().unwrap()]);
    assert_eq!(code, 111, "{err}");
    assert_eq!(
        err.lines().last(),
        Some(
            format!(
                "utmpd: fatal: unable to import {}: No such file or directory",
                missing.display()
            )
            .as_str()
        ),
        "{err}"
    );
}

#[test]
fn an_import_path_that_is_not_a_regular_file_is_refused() {
    let s = Scratch::new("import-fifo");
    let fifo = s.path("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path in our scratch dir.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    for path in [fifo.to_str().unwrap(), "/dev/zero", s.dir.to_str().unwrap()] {
        let (code, err) = refused(&s, &["--import", path]);
        assert_eq!(code, 111, "{path}: {err}");
        assert!(
            err.ends_with(&format!(
                "utmpd: fatal: unable to import {path}: not a regular file\n"
            )),
            "{path}: {err}"
        );
    }
}

/// The import runs after the drop to `-U USER`: a table that user cannot
/// read is a fatal error, not a silent empty import.
#[test]
fn an_unreadable_import_file_is_fatal() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "this test must run as root");
    let s = Scratch::new("import-unreadable");
    let (entries, _alive) = table();
    let file = s.write("old-utmp", &utmpx(&entries));
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    // The scratch run dir must be the dropped user's to create.
    let (code, err) = refused(&s, &["-U", "nobody", "--import", file.to_str().unwrap()]);
    assert_eq!(code, 111, "{err}");
    assert!(
        err.ends_with(&format!(
            "utmpd: fatal: unable to import {}: Permission denied\n",
            file.display()
        )),
        "{err}"
    );
}

/// This boot's boot time and the run level come along (a reader's
/// `who -b`, `who -r`); a boot time of an earlier boot does not, nor
/// does a partial record at the end, which is one warning.
#[test]
fn import_takes_this_boots_time_and_the_run_level() {
    let s = Scratch::new("import-boot");
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let btime: i64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut boot = Entry::new(2, 0, "~", "reboot", "", btime);
    boot.id = b"~~".to_vec();
    let mut earlier = boot.clone();
    earlier.sec = btime - 86_400;
    let mut level = Entry::new(1, 0, "~", "runlevel", "", btime + 1);
    level.id = b"~~".to_vec();
    level.pid = i32::from(b'3');
    let mut bytes = utmpx(&[earlier, boot, level]);
    bytes.extend_from_slice(&[7u8; 100]);
    let file = s.write("old-utmp", &bytes);
    let utmpd = start_importing(&s, &file);
    let log = utmpd.log();
    assert!(
        log.contains(&format!(
            "utmpd: warning: {}: ignoring 100 trailing bytes (a partial record)\n",
            file.display()
        )),
        "{log}"
    );
    assert!(log.contains("2 boot/run-level entries taken"), "{log}");
    let stored: Vec<(i16, i64)> = read_native(&run_dir(&s).join("utmp"))
        .iter()
        .map(|r| (r.kind, r.time_us / 1_000_000))
        .collect();
    assert_eq!(stored, [(2, btime), (1, btime + 1)]);
    assert!(utmpd.stop());
}

/// A table fuller than utmpd's `-m`: what fits is taken, the rest is one
/// warning, not one per record.
#[test]
fn an_import_larger_than_the_table_stops_at_its_limit() {
    let s = Scratch::new("import-full");
    let alive = Sleeper::new();
    let now = now_secs();
    let entries: Vec<Entry> = (0..40)
        .map(|i| Entry::new(7, alive.pid(), &format!("pts/{i}"), "alice", "", now))
        .collect();
    let file = s.write("old-utmp", &utmpx(&entries));
    let utmpd = Daemon::start(
        &s,
        "utmpd",
        &[
            "-S",
            "0",
            "-n",
            "-m",
            "32",
            "--import",
            file.to_str().unwrap(),
        ],
    );
    let log = utmpd.log();
    assert!(
        log.contains(&format!(
            "utmpd: info: imported 32 sessions from {}\n",
            file.display()
        )),
        "{log}"
    );
    assert!(
        log.contains("utmp table full (32 entries): records 32 to 39 not imported"),
        "{log}"
    );
    assert_eq!(log.matches("warning").count(), 1, "{log}");
    assert_eq!(read_native(&run_dir(&s).join("utmp")).len(), 32);
    assert!(utmpd.stop());
}
