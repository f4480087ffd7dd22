//! The shipped service definitions run the daemons as a supervisor would:
//! s6-supervise on copies of scripts/service/s6-rc/{wtmpd,utmpd}, readiness
//! through notification-fd, a session recorded, SIGHUP, and a clean stop.

use std::path::Path;
use std::process::Command;

use crate::util::{binary, run, Scratch};

#[test]
fn s6_service_dirs_supervise_both_daemons() {
    let s = Scratch::new("s6");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for daemon in ["wtmpd", "utmpd"] {
        let dest = s.path(daemon);
        let status = Command::new("cp")
            .arg("-r")
            .arg(repo.join("scripts/service/s6-rc").join(daemon))
            .arg(&dest)
            .status()
            .unwrap();
        assert!(status.success());
        // The shipped scripts drop to `utmp`; a test box may have no such
        // user, so run as nobody. Everything else is the shipped file.
        let run_file = dest.join("run");
        let script = std::fs::read_to_string(&run_file).unwrap();
        assert!(script.contains("-U utmp"), "{daemon}/run changed shape");
        std::fs::write(&run_file, script.replace("-U utmp", "-U nobody")).unwrap();
    }
    std::fs::create_dir_all(s.path("run")).unwrap();
    std::fs::create_dir_all(s.path("log")).unwrap();
    let script = r#"
        set -u
        s6-supervise wtmpd & s6-supervise utmpd &
        # s6-svwait needs the status files s6-supervise writes once it runs.
        i=0; while [ $i -lt 500 ] && ! { [ -e wtmpd/supervise/status ] && [ -e utmpd/supervise/status ]; }; do sleep 0.01; i=$((i+1)); done
        s6-svwait -U -t 5000 wtmpd && s6-svwait -U -t 5000 utmpd && echo ready
        utmpset -u root -l pts/61 -p $$ login
        who
        s6-svc -h wtmpd && sleep 0.3
        utmpset -u root -l pts/61 -p $$ logout
        s6-svc -xd utmpd; s6-svc -xd wtmpd
        wait
        echo stopped
    "#;
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(script).current_dir(&s.dir);
    let path = format!("{}:/usr/bin:/bin:/usr/sbin:/sbin", s.path("bin").display());
    cmd.env("PATH", path)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .env("UTMPBOX_RUNDIR", s.path("run"))
        .env("UTMPBOX_LOGDIR", s.path("log"));
    let out = run(&mut cmd, None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    // The run scripts send the daemons' log to stdout (`exec 2>&1`), as a
    // supervisor's logger expects; the rest is the script's own output.
    let (log, lines): (Vec<&str>, Vec<&str>) = stdout
        .lines()
        .partition(|l| l.starts_with("utmpd: ") || l.starts_with("wtmpd: "));
    let log = log.join("\n");
    assert_eq!(lines.first(), Some(&"ready"), "{stdout}\n{stderr}");
    assert!(lines[1].starts_with("root     pts/61       "), "{stdout}");
    assert_eq!(lines.last(), Some(&"stopped"));
    assert!(
        log.contains("wtmpd: info: SIGHUP: reopening files"),
        "{log}"
    );
    assert!(log.contains("utmpd: info: stopping"), "{log}");
    assert!(log.contains("wtmpd: info: stopping"), "{log}");
    // Both records reached the native wtmp, written by the dropped user.
    let dump = run(
        Command::new(binary())
            .args(["utmpdump"])
            .arg(s.path("log/wtmp")),
        None,
    );
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        text.contains("[7] ") && text.contains("[8] ") && text.contains("pts/61"),
        "{text}"
    );
    let owner =
        std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(s.path("log/wtmp")).unwrap());
    assert_eq!(owner, 65534, "wtmp should belong to nobody after -U");
}
