//! Power loss (issue 13): a qemu guest runs wtmpd with its log on a
//! virtio disk (a raw ext4 image made here) and 8 writers that print
//! each record's id once wtmpd acknowledged it (init-powerloss.sh). The
//! host SIGKILLs qemu at a random moment, which loses everything the
//! guest held in memory, its page cache included, then reads wtmp back
//! from the image and boots the same image again. Every id that reached
//! the console must be in wtmp, and no record may be corrupt.
//! `UTMPBOX_POWERLOSS_CYCLES` sets the number of kills (3 in `make test`,
//! 20 in `make powerloss`).

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{assert_root, kernel_dir, mkinitramfs, require, Guest};
use crate::util::{run, Scratch};

/// A delay in [min, max) ms that differs from run to run: std's hasher
/// keys are random per process, and the cycle number varies it within one.
fn random_ms(min: u64, max: u64, cycle: u64) -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(cycle);
    min + hasher.finish() % (max - min)
}

/// The ids acknowledged on a console: `@@@ ack ID` lines whole (a line
/// cut by the kill is not counted; the writer's earlier ids were).
fn acked(console: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for piece in console.split("@@@ ack ").skip(1) {
        let Some(end) = piece.find('\n') else {
            continue;
        };
        let id = &piece[..end];
        let parts: Vec<&str> = id.split('-').collect();
        let well_formed = parts.len() == 3
            && parts[0]
                .strip_prefix('c')
                .is_some_and(|n| n.parse::<u64>().is_ok())
            && parts[1]
                .strip_prefix('w')
                .is_some_and(|n| n.parse::<u64>().is_ok())
            && parts[2].parse::<u64>().is_ok();
        if well_formed {
            ids.push(id.to_string());
        }
    }
    ids
}

/// What the host reads from the image after a kill.
struct ReadBack {
    /// The host field of every login record: the writers' ids.
    ids: BTreeSet<String>,
    records: usize,
    /// `utmpdump`'s "record N is corrupt" lines.
    corrupt: Vec<String>,
}

/// Read wtmp from a copy of the image, as the host would after power
/// loss: e2fsck replays the journal (the guest's own mount does the same
/// at the next boot), must then find the filesystem clean, and debugfs
/// copies wtmp out for `utmpdump` (the binary under test) to decode.
fn read_back(s: &Scratch, image: &Path) -> ReadBack {
    let copy = s.path("copy.img");
    std::fs::copy(image, &copy).unwrap();
    let replay = run(
        Command::new("e2fsck")
            .args(["-E", "journal_only", "-y"])
            .arg(&copy),
        None,
    );
    assert!(
        matches!(replay.status.code(), Some(0 | 1)),
        "e2fsck could not replay the journal: {}",
        String::from_utf8_lossy(&replay.stdout)
    );
    let check = run(Command::new("e2fsck").arg("-fn").arg(&copy), None);
    assert!(
        check.status.success(),
        "the filesystem is not clean after the journal replay:\n{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let wtmp = s.path("wtmp");
    let _ = std::fs::remove_file(&wtmp);
    let dump = run(
        Command::new("debugfs")
            .arg("-R")
            .arg(format!("dump /log/wtmp {}", wtmp.display()))
            .arg(&copy),
        None,
    );
    assert!(
        wtmp.exists(),
        "debugfs found no /log/wtmp: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let out = run(s.applet("utmpdump").arg(&wtmp), None);
    let text = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 0, or 1 with a corrupt record reported: anything else is no read.
    assert!(
        out.status.success() || stderr.contains(" is corrupt"),
        "utmpdump could not read wtmp: {stderr}"
    );
    let corrupt = stderr
        .lines()
        .filter(|l| l.contains("corrupt") || l.contains("trailing") || l.contains("partial"))
        .map(str::to_string)
        .collect();
    let mut ids = BTreeSet::new();
    let mut records = 0;
    for line in text.lines() {
        records += 1;
        // [7] [00001] [ts/3] [root    ] [pts/3       ] [c1-w3-17   ...
        let fields: Vec<&str> = line.split("] [").collect();
        if line.starts_with("[7]") && fields.len() > 5 {
            ids.insert(fields[5].trim().to_string());
        }
    }
    ReadBack {
        ids,
        records,
        corrupt,
    }
}

#[test]
fn power_loss_loses_no_acknowledged_record() {
    assert_root();
    for tool in ["mkfs.ext4", "e2fsck", "debugfs"] {
        require(tool);
    }
    let cycles: u64 = std::env::var("UTMPBOX_POWERLOSS_CYCLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let kernel = kernel_dir();
    let s = Scratch::new("powerloss");
    let initrd = mkinitramfs(&s, "init-powerloss.sh", Some(&kernel.join("modules")));
    let image = s.path("disk.img");
    std::fs::File::create(&image)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    let made = run(
        Command::new("mkfs.ext4").args(["-F", "-q"]).arg(&image),
        None,
    );
    assert!(made.status.success(), "mkfs.ext4 failed");

    let mut all_acked: BTreeSet<String> = BTreeSet::new();
    let mut repaired = 0;
    let mut torn_at_kill = 0;
    let mut last = None;
    for cycle in 1..=cycles {
        let console_path = s.path(&format!("console.{cycle}"));
        let append = format!("cycle={cycle}");
        let mut guest = Guest::start(&kernel, &initrd, &append, Some(&image), &console_path);
        let writing = guest.wait_for("@@@ writing", Duration::from_secs(180));
        let wait = random_ms(200, 2500, cycle);
        if writing {
            std::thread::sleep(Duration::from_millis(wait));
        }
        guest.kill();
        let console = guest.console();
        assert!(
            writing,
            "cycle {cycle}: the guest never started writing\n{console}"
        );
        assert!(
            !console.contains("@@@ refused"),
            "cycle {cycle}: a write was refused\n{console}"
        );
        repaired += console.matches("repaired a torn tail").count();
        let acks = acked(&console);
        all_acked.extend(acks.iter().cloned());

        let back = read_back(&s, &image);
        let lost: Vec<&String> = all_acked.difference(&back.ids).collect();
        eprintln!(
            "powerloss: cycle {cycle}: killed {wait} ms into writing; {} acknowledged, {} records in wtmp, {} lost, {} corrupt",
            acks.len(),
            back.records,
            lost.len(),
            back.corrupt.len()
        );
        assert!(
            !acks.is_empty(),
            "cycle {cycle}: nothing acknowledged\n{console}"
        );
        assert!(
            lost.is_empty(),
            "cycle {cycle}: acknowledged but not in wtmp: {lost:?}"
        );
        // A record torn by the kill is allowed only as the last one: it
        // was never acknowledged, and wtmpd repairs it at the next boot.
        let torn_tail = format!("record {} is corrupt", back.records);
        let torn = back.corrupt.len() == 1 && back.corrupt[0].contains(&torn_tail);
        torn_at_kill += torn as usize;
        assert!(
            back.corrupt.is_empty() || torn,
            "cycle {cycle}: corrupt records: {:?}",
            back.corrupt
        );
        last = Some(back);
    }
    let last = last.expect("at least one cycle");
    eprintln!(
        "powerloss: {cycles} cycles, {} acknowledged, 0 lost, {torn_at_kill} torn tails seen after a kill, {repaired} repaired at boot, {} records in wtmp (with boots and unacknowledged ones)",
        all_acked.len(),
        last.records
    );
}
