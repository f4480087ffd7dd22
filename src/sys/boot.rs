//! Facts about the running boot, so the daemons can record it themselves:
//! the kernel's boot_id (which boot this is), the boot time, the release.

use std::os::unix::ffi::OsStrExt;

use nix::time::{clock_gettime, ClockId};

use crate::record::{Record, RecordKind};

/// `bytes` without leading and trailing ASCII whitespace.
pub fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace());
    match (start, end) {
        (Some(s), Some(e)) => &bytes[s..=e],
        _ => &[],
    }
}

/// The kernel's random id for this boot.
pub fn boot_id() -> Option<Vec<u8>> {
    let id = crate::sys::infile::read_any("/proc/sys/kernel/random/boot_id".as_ref()).ok()?;
    let id = trim(&id).to_vec();
    (!id.is_empty()).then_some(id)
}

fn clock_us(clock: ClockId) -> Option<i64> {
    let ts = clock_gettime(clock).ok()?;
    Some(ts.tv_sec() * 1_000_000 + ts.tv_nsec() / 1000)
}

/// When this boot began, in microseconds since the epoch: now minus the
/// time since boot (suspend included), whole seconds as /proc/stat says.
pub fn boot_time_us() -> Option<i64> {
    let since_boot = clock_us(ClockId::CLOCK_BOOTTIME)?;
    let t = super::time::now_us() - since_boot;
    Some(t - t.rem_euclid(1_000_000))
}

/// `uname -r`.
pub fn kernel_release() -> Vec<u8> {
    nix::sys::utsname::uname().map_or_else(|_| Vec::new(), |uts| uts.release().as_bytes().to_vec())
}

/// The record sysvinit writes at boot: BOOT_TIME, user "reboot", line "~",
/// id "~~", host the kernel release.
pub fn boot_record(time_us: i64) -> Record {
    Record {
        kind: RecordKind::BootTime,
        line: b"~".to_vec(),
        id: b"~~".to_vec(),
        user: b"reboot".to_vec(),
        host: kernel_release(),
        time_us,
        ..Record::default()
    }
}

/// Is a boot record at `recorded_us` this boot (which began at `boot_us`)?
/// Two seconds of slack absorb the rounding of the boot time.
pub fn same_boot(recorded_us: i64, boot_us: i64) -> bool {
    (recorded_us - boot_us).abs() <= 2_000_000
}
