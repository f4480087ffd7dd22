//! What one user, or a handful, cannot take from the others (issue 9):
//! terminals named through links, the utmp table, the daemons'
//! connections and descriptors, and a stalled wtmpd holding up utmpd.

use std::path::PathBuf;
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
