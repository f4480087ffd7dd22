//! `utmpd --import FILE`: take over the live sessions of the table another
//! utmp writer kept (utmps' /run/utmps/utmp, a glibc /var/run/utmp, or a
//! native table), so switching a running system to utmpbox loses nobody
//! who is logged in.
//!
//! Only what is still true is taken: session entries (INIT, LOGIN, USER)
//! whose process still runs, the run level, and the boot time of this
//! boot. Entries of ended processes are left out rather than imported and
//! swept, so wtmp gets no logout for a session it never saw begin. An
//! entry whose id already holds a session here is kept as it is, which
//! makes a second import (every restart of a service that passes
//! `--import`) change nothing.

use std::io::Read;
use std::path::Path;

use super::{is_session, Utmpd};
use crate::daemon::policy;
use crate::daemon::watch::process_alive;
use crate::protocol::Status;
use crate::record::{self, Record, RecordKind};
use crate::sys::boot;
use crate::sys::infile;

/// Refuse anything larger: a full table of the widest format at utmpd's
/// largest sensible size is far below it, and the whole file is read
/// into memory once.
const MAX_IMPORT_BYTES: u64 = 16 << 20;

/// What one import did, for the info lines.
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Counts {
    pub sessions: usize,
    /// Run-level and boot entries.
    pub other: usize,
    pub ended: usize,
    pub present: usize,
    pub invalid: usize,
}

/// The whole file at `path`: a regular file, at most `MAX_IMPORT_BYTES`.
fn read_table(path: &Path) -> Result<Vec<u8>, String> {
    let unable = |e: std::io::Error| {
        format!(
            "unable to import {}: {}",
            path.display(),
            crate::sys::diag::os_reason(&e)
        )
    };
    let file = infile::open(path).map_err(unable)?;
    let mut bytes = Vec::new();
    infile::read_to_end(&mut file.take(MAX_IMPORT_BYTES + 1), &mut bytes).map_err(unable)?;
    if bytes.len() as u64 > MAX_IMPORT_BYTES {
        return Err(format!(
            "unable to import {}: larger than {} MiB, not a utmp table",
            path.display(),
            MAX_IMPORT_BYTES >> 20
        ));
    }
    Ok(bytes)
}

impl Utmpd {
    /// Load the live entries of the table at `path`. Fatal only when the
    /// file cannot be read at all; a bad record is one warning.
    pub(super) fn import(&mut self, path: &Path) -> Result<Counts, String> {
        let bytes = read_table(path)?;
        let decoded = record::decode_file(&bytes)
            .map_err(|e| format!("unable to import {}: {e}", path.display()))?;
        decoded.warn("utmpd: warning", path);
        let boot_us = boot::boot_time_us().unwrap_or(0);
        let mut counts = Counts::default();
        let total = decoded.records.len();
        for (index, entry) in decoded.records.into_iter().enumerate() {
            if !wanted(&entry, boot_us) {
                if is_session(&entry) {
                    counts.ended += 1;
                }
                continue;
            }
            if let Err(why) = policy::validate(&entry) {
                crate::sys::diag::say(format_args!(
                    "utmpd: warning: {}: record {index} skipped: {why}",
                    path.display()
                ));
                counts.invalid += 1;
                continue;
            }
            if self.already_here(&entry) {
                counts.present += 1;
                continue;
            }
            let session = is_session(&entry);
            match self.store(entry) {
                Ok(_) if session => counts.sessions += 1,
                Ok(_) => counts.other += 1,
                Err((Status::Limit, why)) => {
                    // Full: every later record would say the same.
                    crate::sys::diag::say(format_args!(
                        "utmpd: warning: {}: {why}: records {index} to {} not imported",
                        path.display(),
                        total - 1
                    ));
                    counts.invalid += total - index;
                    break;
                }
                Err((_, why)) => {
                    crate::sys::diag::say(format_args!(
                        "utmpd: warning: {}: record {index} skipped: {why}",
                        path.display()
                    ));
                    counts.invalid += 1;
                }
            }
        }
        Ok(counts)
    }

    /// Does the table already hold this entry, or something newer in its
    /// place? A session or a run level under the same id (or kind) stays;
    /// a dead entry gives way to a newer live one.
    fn already_here(&self, entry: &Record) -> bool {
        let Some(i) = self.find_id(entry) else {
            return false;
        };
        let here = &self.table.slots[i];
        here.kind != RecordKind::DeadProcess || here.time_us >= entry.time_us
    }
}

/// Is `entry` still true on this system: a session whose process runs
/// (and is the one that started it, not a recycled pid), the run level,
/// or this boot's boot time?
fn wanted(entry: &Record, boot_us: i64) -> bool {
    match entry.kind {
        RecordKind::UserProcess | RecordKind::LoginProcess | RecordKind::InitProcess => {
            entry.pid > 0 && process_alive(entry.pid, entry.time_us, boot_us)
        }
        RecordKind::RunLevel => true,
        RecordKind::BootTime => boot_us != 0 && boot::same_boot(entry.time_us, boot_us),
        _ => false,
    }
}

/// The info lines an import prints.
pub fn report(path: &Path, counts: &Counts) {
    crate::sys::diag::say(format_args!(
        "utmpd: info: imported {} sessions from {}",
        counts.sessions,
        path.display()
    ));
    if counts.other + counts.ended + counts.present + counts.invalid > 0 {
        crate::sys::diag::say(format_args!(
            "utmpd: info: import of {}: {} boot/run-level entries taken, {} ended sessions left out, {} already present, {} invalid",
            path.display(),
            counts.other,
            counts.ended,
            counts.present,
            counts.invalid
        ));
    }
}
