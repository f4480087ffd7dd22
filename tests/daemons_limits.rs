//! What one user, or a handful, cannot take from the others (issue 9):
//! terminals named through links, the utmp table, the daemons'
//! connections and descriptors, and a stalled wtmpd holding up utmpd.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::daemon_util::*;
use crate::util::{run, Scratch};

/// A path removed when the test ends, however it ends.
struct Removed(PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn a_terminal_named_through_a_link_is_not_yours() {
    let s = Scratch::new("lim-line");
    let u = Daemon::start(&s, "utmpd", &["-n", "-S", "0"]);
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (own, _master) = pty_owned_by(NOBODY);
    let number = own.trim_start_matches("pts/");
    // What nobody can do in world-writable /dev/shm: a link to /dev/pts.
    let name = format!("utmpbox-test-{}", std::process::id());
    let link = Removed(PathBuf::from("/dev/shm").join(&name));
    let _ = std::fs::remove_file(&link.0);
    let mut ln = Command::new("ln");
    ln.arg("-s").arg("/dev/pts").arg(&link.0);
    ok(&run(&mut as_nobody(ln), None));
    let sock = run_dir(&s).join("utmpd.sock");
    let through_link = format!("shm/{name}/{number}");
    let mut rec = Rec::new(USER, &through_link, "nobody");
    rec.pid = 0;
    let (status, payload) = reply_as_nobody(&sock, &frame(UTMP_PUT, &rec.encode())).unwrap();
    assert_eq!(
        (status, String::from_utf8_lossy(&payload).into_owned()),
        (4, format!("{through_link} is not your terminal"))
    );
    let utmp = read_native(&run_dir(&s).join("utmp"));
    assert!(!utmp.iter().any(|r| r.line == through_link.as_bytes()));
    // The same terminal by its own name is nobody's.
    let mut rec = Rec::new(USER, &own, "nobody");
    rec.pid = 0;
    assert_eq!(status_as_nobody(&sock, &frame(UTMP_PUT, &rec.encode())), 0);
    let utmp = read_native(&run_dir(&s).join("utmp"));
    assert!(utmp
        .iter()
        .any(|r| r.line == own.as_bytes() && r.kind == USER));
    drop(u);
}

/// nobody, with one pty and one live process, writes `count` sessions with
/// distinct ids: their statuses and the message of the first refusal.
fn sessions_as_nobody(sock: &Path, line: &str, pid: u32, count: usize) -> (Vec<u8>, String) {
    let mut statuses = Vec::new();
    let mut refusal = String::new();
    for n in 0..count {
        let mut rec = Rec::new(USER, line, "nobody");
        rec.id = format!("q{n}").into_bytes();
        rec.pid = pid as i32;
        let (status, payload) = reply_as_nobody(sock, &frame(UTMP_PUT, &rec.encode())).unwrap();
        if status != 0 && refusal.is_empty() {
            refusal = String::from_utf8_lossy(&payload).into_owned();
        }
        statuses.push(status);
    }
    (statuses, refusal)
}

/// root logs in on `line` straight on the wire; the reply status.
fn root_login(sock: &Path, line: &str) -> u8 {
    let mut rec = Rec::new(USER, line, "root");
    rec.pid = 1;
    Raw::connect(sock).call(UTMP_PUT, &rec.encode()).unwrap().0
}

#[test]
fn one_user_cannot_fill_the_utmp_table() {
    let s = Scratch::new("lim-quota");
    std::fs::set_permissions(&s.dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (own, _master) = pty_owned_by(NOBODY);
    let mut shell = as_nobody(Command::new("sleep")).arg("120").spawn().unwrap();
    let sock = run_dir(&s).join("utmpd.sock");
    let utmp = run_dir(&s).join("utmp");
    let nobodys = || {
        read_native(&utmp)
            .iter()
            .filter(|r| r.kind == USER && r.user == b"nobody")
            .count()
    };

    // Room for 200: nobody gets its 64 sessions (the default quota), no more.
    let u = Daemon::start(&s, "utmpd", &["-n", "-S", "0", "-m", "200"]);
    let (statuses, refusal) = sessions_as_nobody(&sock, &own, shell.id(), 70);
    assert_eq!(statuses[..64], [0; 64]);
    assert_eq!(statuses[64..], [6; 6]);
    assert_eq!(refusal, "too many sessions for nobody (at most 64)");
    assert_eq!(nobodys(), 64);
    assert_eq!(root_login(&sock, "tty1"), 0);
    drop(u);

    // Room for 40: the last 16 stay for root, whatever the quota.
    std::fs::remove_file(&utmp).unwrap();
    let u = Daemon::start(&s, "utmpd", &["-n", "-S", "0", "-m", "40"]);
    let (statuses, refusal) = sessions_as_nobody(&sock, &own, shell.id(), 30);
    assert_eq!(statuses[..24], [0; 24]);
    assert_eq!(statuses[24..], [6; 6]);
    assert_eq!(
        refusal,
        "utmp table nearly full: the last 16 of 40 entries are kept for root"
    );
    assert_eq!(nobodys(), 24);
    for n in 0..16 {
        assert_eq!(root_login(&sock, &format!("tty{n}")), 0, "root login {n}");
    }
    drop(u);
    shell.kill().unwrap();
    shell.wait().unwrap();
}
