//! The daemons' files (issue 9 rows 1, 2, 4, 7, 8): no write through a
//! planted link, one daemon per data directory and per socket (the lock
//! decides, not a connect probe), the ownership rule checked at start,
//! and appends that go on when the disk is nearly full.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::daemon_util::*;
use crate::util::Scratch;

/// The tests below make files owned by other users and mount filesystems.
#[track_caller]
fn assert_root() {
    // SAFETY: geteuid cannot fail.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test must run as root (the suite does)"
    );
}

fn append_to(socket: &Path, rec: &Rec) -> (u8, Vec<u8>) {
    Raw::connect(socket)
        .call(LOG_APPEND, &append_payload(1, rec))
        .unwrap()
}

fn login(pid: i32) -> Rec {
    let mut rec = Rec::new(USER, "pts/1", "alice");
    rec.pid = pid;
    rec
}

fn pids(path: &Path) -> Vec<i32> {
    read_native(path).into_iter().map(|r| r.pid).collect()
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A root-owned 0600 file, the target an attacker points links at.
fn victim(s: &Scratch) -> (PathBuf, Vec<u8>) {
    let path = s.path("victim");
    let bytes = b"root's secret, not to be overwritten\n".to_vec();
    std::fs::write(&path, &bytes).unwrap();
    chmod(&path, 0o600);
    (path, bytes)
}

#[test]
fn planted_links_are_never_written_through() {
    assert_root();
    let s = Scratch::new("df-links");
    let (target, secret) = victim(&s);
    let log = log_dir(&s);
    let run = run_dir(&s);
    // A wtmp holding one record and a torn tail after it, so wtmpd saves
    // the tail in wtmp.torn; no btmp, lastlog, utmp: they are created.
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    assert_eq!(append_to(&run.join("wtmpd.sock"), &login(1)).0, 0);
    assert!(w.stop());
    let mut wtmp = std::fs::read(log.join("wtmp")).unwrap();
    wtmp.truncate(64 + 512);
    wtmp.extend_from_slice(&[7u8; 100]);
    std::fs::write(log.join("wtmp"), &wtmp).unwrap();
    for file in [log.join("btmp"), log.join("lastlog")] {
        std::fs::remove_file(file).unwrap();
    }
    let links = [
        log.join("wtmp.boot.new"),
        log.join("wtmp.torn"),
        log.join("btmp.new"),
        log.join("lastlog.new"),
        run.join("utmp.boot.new"),
        run.join("utmp.new"),
    ];
    for link in &links {
        std::os::unix::fs::symlink(&target, link).unwrap();
    }
    // Both record the boot (their stamps), create their missing files.
    let w = Daemon::start(&s, "wtmpd", &[]);
    let u = Daemon::start(&s, "utmpd", &["-S", "0"]);
    assert_eq!(
        std::fs::read(&target).unwrap(),
        secret,
        "written through a link"
    );
    assert_eq!(std::fs::metadata(&target).unwrap().mode() & 0o7777, 0o600);
    // The stamps are files of their own; the stale `.new` links are gone.
    for stamp in [log.join("wtmp.boot"), run.join("utmp.boot")] {
        let meta = std::fs::symlink_metadata(&stamp).unwrap();
        assert!(meta.file_type().is_file(), "{}", stamp.display());
    }
    for link in [&links[0], &links[2], &links[3], &links[4], &links[5]] {
        assert!(
            std::fs::symlink_metadata(link).is_err(),
            "{} left",
            link.display()
        );
    }
    // The torn tail was cut all the same, and the link not followed.
    assert!(
        w.log()
            .contains(&format!("(unable to keep it in {}: ", links[1].display())),
        "{}",
        w.log()
    );
    assert_eq!(pids(&log.join("wtmp"))[..1], [1]);
    drop(u);
    drop(w);
    assert_eq!(std::fs::read(&target).unwrap(), secret);
}

/// Start `name` with `args` while `holder` runs: it must exit 111 with
/// "`what` is in use by another `name` (pid of holder)".
#[track_caller]
fn refused_in_use(s: &Scratch, name: &str, args: &[&str], what: &Path, holder: &Daemon) {
    let (code, stderr) = start_refused(s, name, args);
    assert_eq!(code, Some(111), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "{name}: fatal: {} is in use by another {name} (pid {})\n",
            what.display(),
            holder.child.id()
        )
    );
}

#[test]
fn a_second_wtmpd_on_the_same_data_is_refused() {
    let s = Scratch::new("df-twice");
    let log = log_dir(&s);
    let first_sock = s.path("first.sock");
    let second_sock = s.path("second.sock");
    let first = first_sock.to_str().unwrap();
    let w = Daemon::start(&s, "wtmpd", &["-n", "-s", first]);
    for pid in 1..=5 {
        assert_eq!(append_to(&first_sock, &login(pid)).0, 0);
    }
    let before = std::fs::read(log.join("wtmp")).unwrap();
    let second = ["-n", "-s", second_sock.to_str().unwrap()];
    refused_in_use(&s, "wtmpd", &second, &log, &w);
    // It touched nothing: no socket, no socket lock, the same wtmp.
    assert!(std::fs::symlink_metadata(&second_sock).is_err());
    assert!(std::fs::symlink_metadata(s.path("second.sock.lock")).is_err());
    assert_eq!(std::fs::read(log.join("wtmp")).unwrap(), before);
    // The first keeps serving, and has every record.
    for pid in 6..=10 {
        assert_eq!(append_to(&first_sock, &login(pid)).0, 0);
    }
    assert!(w.stop());
    assert_eq!(pids(&log.join("wtmp")), (1..=10).collect::<Vec<_>>());
}

#[test]
fn a_second_utmpd_on_the_same_table_is_refused() {
    let s = Scratch::new("df-twice-utmpd");
    let u = Daemon::start(&s, "utmpd", &["-n", "-S", "0"]);
    let other = s.path("other.sock");
    let second = ["-n", "-s", other.to_str().unwrap()];
    refused_in_use(&s, "utmpd", &second, &run_dir(&s), &u);
    assert!(std::fs::symlink_metadata(&other).is_err());
    // utmpd and wtmpd may share one directory: their locks differ.
    let w = Daemon::start(&s, "wtmpd", &["-n", "-D", run_dir(&s).to_str().unwrap()]);
    drop(w);
    drop(u);
}

/// Non-blocking connections to `socket` until its listen queue is full
/// (the daemon is stopped, so none is accepted): a stalled daemon.
fn fill_backlog(socket: &Path) -> Vec<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: sockaddr_un is plain data.
    let mut addr: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    for (d, &b) in addr.sun_path.iter_mut().zip(socket.as_os_str().as_bytes()) {
        *d = b as libc::c_char;
    }
    let mut held = Vec::new();
    for _ in 0..8192 {
        // SAFETY: a new socket we own, connected to a valid address.
        unsafe {
            let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_NONBLOCK, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let fd = std::os::fd::OwnedFd::from_raw_fd(fd);
            let rc = libc::connect(
                std::os::fd::AsRawFd::as_raw_fd(&fd),
                &addr as *const libc::sockaddr_un as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_un>() as u32,
            );
            if rc != 0 {
                return held;
            }
            held.push(fd);
        }
    }
    panic!("the listen queue of {} never filled", socket.display());
}

#[test]
fn a_stalled_daemon_keeps_its_socket() {
    let s = Scratch::new("df-stalled");
    let socket = run_dir(&s).join("wtmpd.sock");
    let w = Daemon::start(&s, "wtmpd", &["-n"]);
    w.signal(libc::SIGSTOP);
    let queued = fill_backlog(&socket);
    let other = s.path("other-log");
    // (Should this fail, dropping `w` kills it, stopped or not.)
    refused_in_use(
        &s,
        "wtmpd",
        &["-n", "-D", other.to_str().unwrap()],
        &socket,
        &w,
    );
    w.signal(libc::SIGCONT);
    drop(queued);
    // The socket is still the first one's: an append there lands in its
    // wtmp, and the second opened no data file.
    assert_eq!(append_to(&socket, &login(42)).0, 0);
    assert!(w.stop());
    assert_eq!(pids(&log_dir(&s).join("wtmp")), vec![42]);
    assert!(!other.join("wtmp").exists());
}

/// wtmpd started on `dir` (`args` added) is refused with `why` about
/// `what`, exit 111, serving nothing.
#[track_caller]
fn refused_dir(s: &Scratch, dir: &Path, args: &[&str], what: &Path, why: &str) {
    let mut all = vec!["-n", "-D", dir.to_str().unwrap()];
    all.extend_from_slice(args);
    let (code, stderr) = start_refused(s, "wtmpd", &all);
    assert_eq!(code, Some(111), "{stderr}");
    assert_eq!(
        stderr,
        format!("wtmpd: fatal: refusing {}: {why}\n", what.display())
    );
    assert!(!run_dir(s).join("wtmpd.sock").exists());
}

#[test]
fn a_log_dir_owned_by_another_user_is_refused() {
    assert_root();
    let s = Scratch::new("df-owner");
    // A forged history in a directory nobody owns.
    let w = Daemon::start(
        &s,
        "wtmpd",
        &["-n", "-D", s.path("forge").to_str().unwrap()],
    );
    assert_eq!(append_to(&run_dir(&s).join("wtmpd.sock"), &login(666)).0, 0);
    assert!(w.stop());
    let forged = s.path("forge");
    for entry in std::fs::read_dir(&forged).unwrap() {
        chown(&entry.unwrap().path(), NOBODY, NOBODY);
    }
    chown(&forged, NOBODY, NOBODY);
    let bytes = std::fs::read(forged.join("wtmp")).unwrap();
    refused_dir(
        &s,
        &forged,
        &[],
        &forged,
        "owned by uid 65534, not root or wtmpd's user",
    );
    assert_eq!(std::fs::read(forged.join("wtmp")).unwrap(), bytes);
    // Root's directory holding nobody's file: the file is refused.
    chown(&forged, 0, 0);
    refused_dir(
        &s,
        &forged,
        &[],
        &forged.join("wtmp"),
        "owned by uid 65534, not root or wtmpd's user",
    );
    // A directory above the data owned by nobody is refused too.
    let above = s.path("above");
    std::fs::create_dir_all(above.join("log")).unwrap();
    chown(&above, NOBODY, NOBODY);
    refused_dir(
        &s,
        &above.join("log"),
        &[],
        &above,
        "owned by uid 65534, not root or wtmpd's user",
    );
    // But a daemon running as nobody (-U) owns what it chowned.
    let w = Daemon::start(
        &s,
        "wtmpd",
        &["-n", "-U", "nobody", "-D", forged.to_str().unwrap()],
    );
    drop(w);
}

#[test]
fn writable_dirs_are_refused_but_for_the_accounting_group() {
    assert_root();
    let s = Scratch::new("df-modes");
    let log = s.path("open");
    std::fs::create_dir_all(&log).unwrap();
    chmod(&log, 0o777);
    refused_dir(&s, &log, &[], &log, "writable by others");
    // Sticky is no excuse for the data's own directory...
    chmod(&log, 0o1777);
    refused_dir(&s, &log, &[], &log, "writable by others");
    // ...nor is a group other than the accounting group.
    chmod(&log, 0o775);
    chown(&log, 0, NOBODY);
    refused_dir(&s, &log, &[], &log, "writable by group 65534");
    // A data file writable by others.
    chmod(&log, 0o755);
    std::fs::write(log.join("btmp"), b"").unwrap();
    chmod(&log.join("btmp"), 0o666);
    refused_dir(&s, &log, &[], &log.join("btmp"), "writable by others");
    std::fs::remove_file(log.join("btmp")).unwrap();
    // The socket's directory is held to the same rule.
    let sockets = s.path("sockets");
    std::fs::create_dir_all(&sockets).unwrap();
    chmod(&sockets, 0o1777);
    let socket = sockets.join("w.sock");
    refused_dir(
        &s,
        &log,
        &["-s", socket.to_str().unwrap()],
        &sockets,
        "writable by others",
    );
    // Group utmp may write it; the group given with -G likewise.
    let utmp = Command::new("groupadd")
        .args(["-f", "utmp"])
        .status()
        .unwrap();
    assert!(utmp.success(), "groupadd -f utmp failed");
    let gid = std::fs::read_to_string("/etc/group")
        .unwrap()
        .lines()
        .find_map(|l| {
            let f: Vec<_> = l.split(':').collect();
            (f[0] == "utmp").then(|| f[2].parse::<u32>().unwrap())
        })
        .unwrap();
    chown(&log, 0, gid);
    chmod(&log, 0o775);
    let w = Daemon::start(&s, "wtmpd", &["-n", "-D", log.to_str().unwrap()]);
    assert_eq!(append_to(&run_dir(&s).join("wtmpd.sock"), &login(7)).0, 0);
    drop(w);
    chown(&log, 0, NOBODY);
    let w = Daemon::start(
        &s,
        "wtmpd",
        &["-n", "-G", "nogroup", "-D", log.to_str().unwrap()],
    );
    drop(w);
    // A link on the way is resolved first (as /var/run -> /run).
    let link = s.path("link");
    std::os::unix::fs::symlink(&log, &link).unwrap();
    let w = Daemon::start(
        &s,
        "wtmpd",
        &["-n", "-G", "nogroup", "-D", link.to_str().unwrap()],
    );
    drop(w);
}

/// A filesystem mounted on a scratch directory, unmounted when dropped.
struct Mount {
    dir: PathBuf,
}

impl Mount {
    fn new(dir: PathBuf, args: &[&str]) -> Mount {
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("mount").args(args).arg(&dir).output().unwrap();
        assert!(
            out.status.success(),
            "mount {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Mount { dir }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// Append one record at a time until wtmpd refuses: the number
/// acknowledged and the refusal's message.
fn fill(socket: &Path, first_pid: i32) -> (i32, String) {
    for pid in first_pid.. {
        let (status, payload) = append_to(socket, &login(pid));
        if status != 0 {
            return (
                pid - first_pid,
                String::from_utf8_lossy(&payload).into_owned(),
            );
        }
        assert!(pid < first_pid + 1_000_000, "never refused");
    }
    unreachable!()
}

/// The whole space of `dir`'s filesystem goes to records: on a 256 KiB
/// tmpfs (no O_DIRECT there: the page-cache path), wtmpd takes records
/// until the disk is truly full, then refuses with ENOSPC, keeps every
/// acknowledged record, and takes records again once space is freed.
#[test]
fn wtmpd_appends_until_a_small_filesystem_is_full() {
    assert_root();
    let s = Scratch::new("df-full");
    let mount = Mount::new(
        s.path("small"),
        &["-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs"],
    );
    // Something to free later.
    std::fs::write(mount.dir.join("filler"), vec![1u8; 32 << 10]).unwrap();
    let w = Daemon::start(&s, "wtmpd", &["-n", "-D", mount.dir.to_str().unwrap()]);
    let socket = run_dir(&s).join("wtmpd.sock");
    let (taken, refusal) = fill(&socket, 1);
    let wtmp = mount.dir.join("wtmp");
    assert_eq!(
        refusal,
        format!(
            "unable to write {}: No space left on device",
            wtmp.display()
        )
    );
    // 256 KiB less the filler, the other files (a page each) and part of
    // a page: about 400 records of 512 bytes.
    assert!(taken >= 380, "only {taken} records went in");
    assert_eq!(pids(&wtmp), (1..=taken).collect::<Vec<_>>());
    std::fs::remove_file(mount.dir.join("filler")).unwrap();
    let (more, _) = fill(&socket, 1 + taken);
    assert!(more >= 60, "only {more} records after freeing 32 KiB");
    eprintln!("{taken} records until full, {more} more after freeing 32 KiB");
    assert!(w.stop());
    assert_eq!(pids(&wtmp), (1..=taken + more).collect::<Vec<_>>());
}

/// As `fill`, `batch` requests at a time on one connection (they share
/// fsyncs), until one is refused: the pids acknowledged.
fn fill_batched(socket: &Path, next_pid: &mut i32, batch: usize) -> Vec<i32> {
    use std::io::Write;
    let mut acked = Vec::new();
    let mut raw = Raw::connect(socket);
    loop {
        let pids: Vec<i32> = (0..batch as i32).map(|i| *next_pid + i).collect();
        *next_pid += batch as i32;
        let mut burst = Vec::new();
        for &pid in &pids {
            burst.extend_from_slice(&frame(LOG_APPEND, &append_payload(1, &login(pid))));
        }
        raw.stream.write_all(&burst).unwrap();
        let mut refused = false;
        for pid in pids {
            match raw.reply().unwrap().0 {
                0 => acked.push(pid),
                _ => refused = true,
            }
        }
        if refused {
            return acked;
        }
    }
}

fn statvfs_avail(dir: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: statvfs is plain data statvfs fills.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut st) }, 0);
    st.f_bavail as u64 * st.f_frsize as u64
}

/// The same on a loop-mounted ext4, where appends inside the reserve are
/// O_DIRECT|O_DSYNC writes: 1.5 MiB left free, so wtmpd keeps a small
/// reserve (the direct path) and then appends records alone.
#[test]
fn wtmpd_appends_until_a_small_ext4_is_full() {
    assert_root();
    let s = Scratch::new("df-ext4");
    let image = s.path("ext4.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(4 << 20)
        .unwrap();
    let mkfs = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-m", "0"])
        .arg(&image)
        .status()
        .unwrap();
    assert!(mkfs.success(), "mkfs.ext4 failed");
    let mount = Mount::new(s.path("small"), &["-o", "loop", image.to_str().unwrap()]);
    let avail = statvfs_avail(&mount.dir);
    let keep = 3 << 19;
    assert!(
        avail > keep,
        "only {avail} bytes free on a fresh 4 MiB ext4"
    );
    std::fs::write(mount.dir.join("filler"), vec![1u8; (avail - keep) as usize]).unwrap();
    let w = Daemon::start(&s, "wtmpd", &["-n", "-D", mount.dir.to_str().unwrap()]);
    let wtmp = mount.dir.join("wtmp");
    let reserve = std::fs::metadata(&wtmp).unwrap().len().saturating_sub(64) / 512;
    assert!(
        reserve >= 64,
        "no reserve to write into directly ({reserve} records)"
    );
    let socket = run_dir(&s).join("wtmpd.sock");
    let mut next = 1;
    let mut acked = fill_batched(&socket, &mut next, 32);
    let (single, refusal) = fill(&socket, next);
    acked.extend(next..next + single);
    assert_eq!(
        refusal,
        format!(
            "unable to write {}: No space left on device",
            wtmp.display()
        )
    );
    // 1.5 MiB is about 3000 records; the other files take a few blocks.
    let taken = acked.len();
    assert!(taken >= 2800, "only {taken} records went in");
    eprintln!("{taken} records until full, {reserve} of them in the first reserve");
    assert!(w.stop());
    assert_eq!(pids(&wtmp), acked);
}
