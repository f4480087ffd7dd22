//! Issue 13: the binary where it is meant to live. A qemu guest booted
//! from an initramfs holding only it, busybox-static and /etc/passwd
//! (Debian's cloud kernel, TCG); the same scenario in a chroot holding
//! only the binary; and power loss: SIGKILLs of a guest appending to wtmp
//! on a virtio disk, after which every acknowledged record must be on the
//! disk. scripts/boot/ has the guest side; docs/BOOT.md says what this
//! proves.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::util::{binary, run, Scratch};

fn boot_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts/boot")
        .join(name)
}

fn assert_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "the boot tests need root (chroot, mounts)");
}

fn require(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed: `make deps` (scripts/deps.sh) installs it"
    );
}

/// The cached cloud kernel's directory (vmlinuz, version, modules/):
/// `UTMPBOX_KERNEL_DIR`, else what scripts/boot/kernel.sh fetches or
/// finds in its cache. No kernel is a failure, never a pass.
fn kernel_dir() -> PathBuf {
    let dir = match std::env::var_os("UTMPBOX_KERNEL_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let out = run(Command::new("sh").arg(boot_script("kernel.sh")), None);
            assert!(
                out.status.success(),
                "no kernel to boot: scripts/boot/kernel.sh failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
    };
    assert!(
        dir.join("vmlinuz").is_file(),
        "no kernel to boot: {} has no vmlinuz (scripts/boot/kernel.sh fetches Debian's linux-image-cloud-amd64)",
        dir.display()
    );
    dir
}

fn mkinitramfs(s: &Scratch, init: &str, modules: Option<&Path>) -> PathBuf {
    let out = s.path("initrd.gz");
    let mut cmd = Command::new("sh");
    cmd.arg(boot_script("mkinitramfs.sh"))
        .arg(binary())
        .arg(boot_script(init))
        .arg(&out);
    if let Some(modules) = modules {
        cmd.arg(modules);
    }
    let made = run(&mut cmd, None);
    assert!(
        made.status.success(),
        "mkinitramfs.sh failed: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    out
}

/// A qemu guest on TCG, its serial console (and qemu's own messages) in
/// a file; SIGKILLed and reaped when dropped.
struct Guest {
    child: Child,
    console: PathBuf,
}

impl Guest {
    fn start(
        kernel: &Path,
        initrd: &Path,
        append: &str,
        disk: Option<&Path>,
        console: &Path,
    ) -> Guest {
        require("qemu-system-x86_64");
        let log = File::create(console).unwrap();
        let mut cmd = Command::new("qemu-system-x86_64");
        cmd.args(["-accel", "tcg", "-m", "256", "-nographic", "-no-reboot"])
            .arg("-kernel")
            .arg(kernel.join("vmlinuz"))
            .arg("-initrd")
            .arg(initrd)
            .arg("-append")
            .arg(format!("console=ttyS0 panic=-1 quiet {append}"));
        if let Some(disk) = disk {
            // cache=none: the host's page cache is bypassed (O_DIRECT),
            // and the guest sees a disk with a write cache, so its own
            // flushes are what makes a write durable (docs/BOOT.md).
            cmd.arg("-drive").arg(format!(
                "file={},format=raw,if=virtio,cache=none",
                disk.display()
            ));
        }
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = cmd.spawn().expect("spawn qemu-system-x86_64");
        Guest {
            child,
            console: console.to_path_buf(),
        }
    }

    fn console(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.console).unwrap_or_default()).replace('\r', "")
    }

    /// Wait for `marker` on the console; false when the guest ended or
    /// `limit` passed first.
    fn wait_for(&mut self, marker: &str, limit: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.console().contains(marker) {
                return true;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return self.console().contains(marker);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Wait for qemu to exit by itself: its status, or None at `limit`.
    fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The output and exit status of each `@@@ begin NAME` ... `@@@ end NAME
/// STATUS` section of scenario.sh, in order.
fn sections(console: &str) -> Vec<(String, String, i32)> {
    let mut found = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in console.lines() {
        if let Some(name) = line.strip_prefix("@@@ begin ") {
            current = Some((name.to_string(), String::new()));
        } else if let Some(rest) = line.strip_prefix("@@@ end ") {
            if let Some((name, text)) = current.take() {
                let status = rest
                    .strip_prefix(name.as_str())
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(-1);
                found.push((name, text, status));
            }
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    found
}

/// What a user sees when scenario.sh ran on line `tty`, with the boot
/// recorded under `release` (the kernel's, as `last` cuts it to 16).
fn check_scenario(console: &str, tty: &str, release: &str) {
    let fail = |what: &str| -> ! { panic!("{what}\n--- console:\n{console}") };
    if !console.contains("@@@ scenario done") {
        fail("the scenario did not finish");
    }
    let found = sections(console);
    let section = |name: &str| -> &str {
        match found.iter().find(|(n, _, _)| n == name) {
            Some((_, text, 0)) => text,
            Some((_, _, status)) => fail(&format!("{name} exited {status}")),
            None => fail(&format!("no section {name}")),
        }
    };
    for name in [
        "login-alice",
        "login-bob",
        "logout-bob",
        "fail-mallory",
        "shutdown",
    ] {
        assert_eq!(section(name), "", "{name} printed something\n{console}");
    }
    let has_line = |name: &str, check: &dyn Fn(&str) -> bool, what: &str| {
        if !section(name).lines().any(check) {
            fail(&format!("{name}: no line {what}"));
        }
    };
    let alice_who = format!("alice    {tty:<12} ");
    let who = section("who");
    assert_eq!(who.lines().count(), 1, "who: one session\n{console}");
    has_line(
        "who",
        &|l| l.starts_with(&alice_who) && l.ends_with(" (example.org)"),
        &alice_who,
    );
    assert_eq!(section("users"), "alice\n", "users\n{console}");

    let w: Vec<&str> = section("w").lines().collect();
    assert_eq!(w.len(), 3, "w: uptime line, header, alice\n{console}");
    assert!(
        w[0].contains(" up ") && w[0].contains(",  1 user,  load average: "),
        "{console}"
    );
    assert_eq!(
        w[1],
        "USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT"
    );
    let alice_w = format!("alice    {tty:<8} example.org      ");
    assert!(
        w[2].starts_with(&alice_w) && w[2].ends_with(" sleep 600"),
        "w: {}\n{console}",
        w[2]
    );
    // Not compared with w's first line: the clock may tick in between.
    let uptime = section("uptime");
    assert!(
        uptime.lines().count() == 1
            && uptime.contains(" up ")
            && uptime.contains(",  1 user,  load average: "),
        "uptime\n{console}"
    );

    has_line(
        "last",
        &|l| l.starts_with("bob      pts/1        192.0.2.7        ") && l.ends_with(" (00:01)"),
        "for bob's ended session",
    );
    let alice_last = format!("alice    {tty:<12} example.org      ");
    has_line(
        "last",
        &|l| l.starts_with(&alice_last) && l.ends_with("   still logged in"),
        "for alice, still logged in",
    );
    let reboot = format!(
        "reboot   system boot  {:<16} ",
        &release[..release.len().min(16)]
    );
    has_line("last", &|l| l.starts_with(&reboot), &reboot);
    has_line("last", &|l| l.starts_with("wtmp begins "), "wtmp begins");
    has_line(
        "lastb",
        &|l| l.starts_with("mallory  ttyS1        198.51.100.9     "),
        "for mallory",
    );
    has_line("lastb", &|l| l.starts_with("btmp begins "), "btmp begins");

    let lastlog = section("lastlog");
    assert!(
        lastlog.starts_with("Username         Port     From"),
        "lastlog\n{console}"
    );
    let alice_lastlog = format!("alice            {tty:<8} example.org ");
    has_line(
        "lastlog",
        &|l| l.starts_with(&alice_lastlog),
        &alice_lastlog,
    );
    has_line(
        "lastlog",
        &|l| l.starts_with("bob              pts/1    192.0.2.7 "),
        "bob",
    );
    has_line(
        "lastlog",
        &|l| l.starts_with("root ") && l.ends_with("**Never logged in**"),
        "root never",
    );

    let dump = section("utmpdump");
    let kinds: Vec<&str> = dump.lines().map(|l| &l[..l.len().min(3)]).collect();
    assert_eq!(
        kinds,
        ["Utm", "[2]", "[7]", "[7]", "[8]"],
        "utmpdump\n{console}"
    );
    has_line(
        "utmpdump",
        &|l| l.contains("[reboot  ] [~           ]"),
        "for the boot",
    );
    let alice_dump = format!("[alice   ] [{tty:<12}] [example.org         ]");
    has_line("utmpdump", &|l| l.contains(&alice_dump), &alice_dump);

    let logs = section("daemon-logs");
    for line in [
        "wtmpd: info: serving on /run/utmpbox/wtmpd.sock",
        "utmpd: info: serving on /run/utmpbox/utmpd.sock",
    ] {
        assert!(logs.contains(line), "daemon logs lack {line}\n{console}");
    }
    assert!(
        !logs.contains("fatal") && !logs.contains("warning"),
        "{console}"
    );
}

/// Boot the initramfs, run every applet, power off: all within 60 s of
/// wall clock on an idle machine (the limit here is generous, for a
/// machine shared by parallel builds).
#[test]
fn initramfs_boots_records_and_runs_every_applet() {
    let kernel = kernel_dir();
    let s = Scratch::new("boot");
    let initrd = mkinitramfs(&s, "init-boot.sh", None);
    let started = Instant::now();
    let mut guest = Guest::start(&kernel, &initrd, "", None, &s.path("console"));
    let status = guest.wait_exit(Duration::from_secs(180));
    let console = guest.console();
    assert!(
        status.is_some(),
        "the guest did not power off in 180 s\n{console}"
    );
    eprintln!(
        "boot: power on to power off in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let release = std::fs::read_to_string(kernel.join("version")).unwrap();
    check_scenario(&console, "ttyS0", release.trim());
}

/// The same scenario in a chroot holding only the binary, its links,
/// /etc/passwd, /etc/group and mount points for a tmpfs /run and /proc.
#[test]
fn chroot_with_only_the_binary_runs_every_applet() {
    assert_root();
    require("unshare");
    require("setpriv");
    let s = Scratch::new("chroot");
    let mut cmd = Command::new("sh");
    cmd.arg(boot_script("chroot.sh"))
        .arg(binary())
        .arg(s.path("root"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so nothing it started outlives it.
        .process_group(0);
    let child = cmd.spawn().unwrap();
    let group = child.id() as i32;
    let waiter = std::thread::spawn(move || child.wait_with_output());
    let start = Instant::now();
    while !waiter.is_finished() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill has no memory preconditions; the group is ours.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let out: Output = waiter.join().unwrap().unwrap();
    let console =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // The boot the daemons record in a chroot is the host's.
    let release = run(Command::new("uname").arg("-r"), None).stdout;
    check_scenario(&console, "tty1", String::from_utf8_lossy(&release).trim());
    let mut inside: Vec<String> = walk(&s.path("root"));
    inside.retain(|p| !p.starts_with("usr/bin/") || p == "usr/bin/utmpbox");
    assert_eq!(
        inside,
        [
            "etc",
            "etc/group",
            "etc/passwd",
            "proc",
            "run",
            "usr",
            "usr/bin",
            "usr/bin/utmpbox",
            "var",
            "var/log",
            "var/log/utmpbox",
            "var/log/utmpbox/.wtmpd.lock",
            "var/log/utmpbox/btmp",
            "var/log/utmpbox/lastlog",
            "var/log/utmpbox/wtmp",
            "var/log/utmpbox/wtmp.boot",
        ],
        "what the chroot holds afterwards"
    );
}

fn walk(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .to_string();
            if path.is_dir() && !path.is_symlink() {
                dirs.push(path);
            }
            found.push(name);
        }
    }
    found.sort();
    found
}

#[path = "boot_powerloss.rs"]
mod powerloss;
