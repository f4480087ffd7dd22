//! The utmp entries `who` and `users` read, chosen as coreutils' gnulib
//! `read_utmp` chooses them: the default table with dead login processes
//! dropped, or a named file as it is.

use std::path::Path;

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use crate::read::sources::{self, Database, Source};
use crate::record::{Record, RecordKind};
use crate::sys::infile;

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

/// Hand each entry of `file` (or of the default utmp when None) to `each`,
/// oldest first, read in chunks so memory stays flat whatever the file's
/// size. With `check_pids`, user processes whose process is gone are left
/// out, as coreutils' gnulib `read_utmp` does for the default table
/// (procps counts them all).
///
/// Like glibc's getutent, a file that cannot be opened or read is an empty
/// table (no message, as coreutils prints none). A native file that cannot
/// be decoded is reported as `applet: FILE: reason` and reads as empty.
/// Something that is not a regular file (a FIFO, which would block the
/// peers forever, a directory, a device) is refused: `applet: FILE: not a
/// regular file`, and Err(1), the exit status.
pub fn each(
    applet: &str,
    file: Option<&Path>,
    check_pids: bool,
    mut each: impl FnMut(&Record),
) -> Result<(), i32> {
    each_dyn(applet, file, check_pids, &mut each)
}

/// `each`'s body, compiled once: a generic one was copied into every
/// caller (four in the tiny build, 3 KB).
fn each_dyn(
    applet: &str,
    file: Option<&Path>,
    check_pids: bool,
    each: &mut dyn FnMut(&Record),
) -> Result<(), i32> {
    let source = match file {
        Some(path) => Source::open_file(path).map_err(|e| (path.to_path_buf(), e)),
        None => {
            sources::open_default(Database::Utmp).map_err(|e| (Database::Utmp.default_path(), e))
        }
    };
    let result = source.and_then(|source| {
        let alive = |r: &Record| !(is_user_process(r) && r.pid > 0 && process_gone(r.pid));
        source
            .each(applet, |r| {
                if !check_pids || alive(r) {
                    each(r)
                }
            })
            .map_err(|e| (source.path().to_path_buf(), e))
    });
    match result {
        Ok(()) => Ok(()),
        Err((path, e)) if infile::is_not_regular(&e) => {
            crate::sys::diag::say(format_args!("{applet}: {}: {e}", path.display()));
            Err(1)
        }
        Err((path, e)) if e.kind() == std::io::ErrorKind::InvalidData => {
            crate::sys::diag::say(format_args!("{applet}: {}: {e}", path.display()));
            Ok(())
        }
        Err(_) => Ok(()),
    }
}

/// The user processes (`is_user_process`) of `file` or of the default
/// table, as `each` reads them; nothing else is kept.
pub fn users(applet: &str, file: Option<&Path>, check_pids: bool) -> Result<Vec<Record>, i32> {
    let mut users = Vec::new();
    each(applet, file, check_pids, |r| {
        if is_user_process(r) {
            users.push(r.clone())
        }
    })?;
    Ok(users)
}

/// kill(pid, 0) says ESRCH: no such process (EPERM means it exists).
fn process_gone(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None) == Err(Errno::ESRCH)
}
