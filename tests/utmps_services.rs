//! The service definitions that take utmps' place
//! (scripts/service/utmps/s6) run under s6-supervise: both daemons become
//! ready with utmps' sockets listening, the first start imports the live
//! sessions of utmps' table, and a libutmps request is answered.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use crate::util::{run, Scratch};
use crate::utmpfile::{utmpx, Entry};

/// s6-supervise processes, told to stop and reaped when dropped.
struct Supervised {
    dir: std::path::PathBuf,
    children: Vec<Child>,
}

impl Drop for Supervised {
    fn drop(&mut self) {
        for name in ["utmpd", "wtmpd"] {
            let _ = Command::new("s6-svc")
                .arg("-xd")
                .arg(self.dir.join(name))
                .status();
        }
        for child in &mut self.children {
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Copy the shipped service dir `daemon` into the scratch dir, pointing
/// its system paths into the scratch dir and its user at nobody (a test
/// box may have no `utmp` user). Everything else is the shipped file.
fn install(s: &Scratch, daemon: &str) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dest = s.path(daemon);
    let status = Command::new("cp")
        .arg("-r")
        .arg(repo.join("scripts/service/utmps/s6").join(daemon))
        .arg(&dest)
        .status()
        .unwrap();
    assert!(status.success());
    let run_file = dest.join("run");
    let script = std::fs::read_to_string(&run_file).unwrap();
    for shape in [
        "-U utmp",
        "chown utmp:utmp /run/utmps",
        "--utmps-socket /run/utmps/.",
    ] {
        assert!(
            script.contains(shape),
            "{daemon}/run changed shape: {shape}"
        );
    }
    let script = script
        .replace("/run/utmps", s.path("utmps").to_str().unwrap())
        .replace("/run/utmpbox", s.path("run").to_str().unwrap())
        .replace("utmp:utmp", "65534:65534")
        .replace("-U utmp", "-U nobody");
    std::fs::write(&run_file, script).unwrap();
}

#[test]
fn s6_services_in_place_of_utmps_serve_utmps_sockets() {
    let s = Scratch::new("utmps-s6");
    install(&s, "wtmpd");
    install(&s, "utmpd");
    // A session utmps-utmpd recorded before the switch.
    std::fs::create_dir_all(s.path("utmps")).unwrap();
    let mut sleeper = Command::new("sleep").arg("600").spawn().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let alice = Entry::new(7, sleeper.id() as i32, "pts/1", "alice", "", now);
    s.write("utmps/utmp", &utmpx(&[alice]));
    let path = format!("{}:/usr/bin:/bin:/usr/sbin:/sbin", s.path("bin").display());
    let mut supervised = Supervised {
        dir: s.dir.clone(),
        children: Vec::new(),
    };
    for name in ["wtmpd", "utmpd"] {
        let child = Command::new("s6-supervise")
            .arg(name)
            .current_dir(&s.dir)
            .env_clear()
            .env("PATH", &path)
            .env("UTMPBOX_RUNDIR", s.path("run"))
            .env("UTMPBOX_LOGDIR", s.path("log"))
            .stdout(std::fs::File::create(s.path(&format!("{name}.log"))).unwrap())
            .spawn()
            .unwrap();
        supervised.children.push(child);
    }
    let log = |s: &Scratch| {
        ["wtmpd", "utmpd"]
            .map(|n| std::fs::read_to_string(s.path(&format!("{n}.log"))).unwrap_or_default())
            .join("")
    };
    for name in ["wtmpd", "utmpd"] {
        // s6-svwait needs the status file s6-supervise writes once it runs.
        let status = s.path(name).join("supervise/status");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !status.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let waited = run(
            Command::new("s6-svwait")
                .args(["-U", "-t", "5000"])
                .arg(s.path(name)),
            None,
        );
        assert!(waited.status.success(), "{name} never ready:\n{}", log(&s));
    }
    for socket in [".utmpd-socket", ".wtmpd-socket"] {
        let path = s.path("utmps").join(socket);
        assert!(
            UnixStream::connect(&path).is_ok(),
            "{} does not listen:\n{}",
            path.display(),
            log(&s)
        );
    }
    // libutmps' setutxent then getutxent: 'r' (one errno byte), 'e'
    // (errno byte and a 400-byte utmpx).
    let mut utmps = UnixStream::connect(s.path("utmps/.utmpd-socket")).unwrap();
    utmps
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    utmps.write_all(b"r").unwrap();
    let mut status = [0xffu8; 1];
    utmps.read_exact(&mut status).unwrap();
    assert_eq!(status, [0], "rewind refused:\n{}", log(&s));
    let mut users = Vec::new();
    loop {
        utmps.write_all(b"e").unwrap();
        utmps.read_exact(&mut status).unwrap();
        if status[0] != 0 {
            assert_eq!(status[0] as i32, libc::ESRCH, "end of table");
            break;
        }
        let mut record = [0u8; 400];
        utmps.read_exact(&mut record).unwrap();
        if record[0] == 7 {
            let user = &record[44..76];
            users.push(user[..user.iter().position(|&b| b == 0).unwrap_or(32)].to_vec());
        }
    }
    assert_eq!(users, [b"alice".to_vec()], "{}", log(&s));
    let text = log(&s);
    assert!(
        text.contains(&format!(
            "utmpd: info: imported 1 sessions from {}",
            s.path("utmps/utmp").display()
        )),
        "{text}"
    );
    drop(supervised);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}
