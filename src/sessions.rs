//! The utmp entries `who` and `users` read, chosen as coreutils' gnulib
//! `read_utmp` chooses them: the default table with dead login processes
//! dropped, or a named file as it is.

use std::path::Path;

use crate::record::{Decoded, Format, Record, RecordKind};
use crate::sources::{self, Database};

/// coreutils' `IS_USER_PROCESS`: a USER_PROCESS entry with a name.
pub fn is_user_process(record: &Record) -> bool {
    record.kind == RecordKind::UserProcess && !record.user.is_empty()
}

/// The user name without the trailing spaces some systems pad with.
pub fn trimmed_name(record: &Record) -> &[u8] {
    let end = record
        .user
        .iter()
        .rposition(|&b| b != b' ')
        .map_or(0, |i| i + 1);
    &record.user[..end]
}

/// Entries of `file`, or of the default utmp when None. Like glibc's
/// getutent, a file that cannot be opened or read is an empty table (no
/// message, as coreutils prints none). A native file that cannot be
/// decoded is reported as `applet: FILE: reason` and reads as empty.
pub fn load(applet: &str, file: Option<&Path>) -> Vec<Record> {
    let mut records = read(applet, file);
    if file.is_none() {
        records.retain(|r| !(is_user_process(r) && r.pid > 0 && process_gone(r.pid)));
    }
    records
}

/// The default utmp table with no pid check (what procps counts).
pub fn load_unchecked(applet: &str) -> Vec<Record> {
    read(applet, None)
}

fn read(applet: &str, file: Option<&Path>) -> Vec<Record> {
    let (path, result) = match file {
        Some(path) => (path.to_path_buf(), sources::read_file(path)),
        None => match sources::load_default(Database::Utmp) {
            Ok(loaded) => (loaded.path, Ok(loaded.decoded)),
            Err(e) => (Database::Utmp.default_path(), Err(e)),
        },
    };
    let decoded: Decoded = match result {
        Ok(decoded) => decoded,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            eprintln!("{applet}: {}: {e}", path.display());
            return Vec::new();
        }
        Err(_) => return Vec::new(),
    };
    // Legacy files are read as glibc reads them, silently; only a corrupt
    // native record (which utmpbox itself wrote) is worth a warning.
    if decoded.format == Format::Native {
        decoded.warn(applet, &path);
    }
    decoded.records
}

/// kill(pid, 0) says ESRCH: no such process (EPERM means it exists).
fn process_gone(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}
