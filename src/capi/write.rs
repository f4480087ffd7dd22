//! Writes: the daemons only, never their files. pututxline goes to utmpd,
//! updwtmpx to wtmpd by the name it is given (btmp or wtmp), or, for any
//! other path, straight to that file as glibc does. login, logout and
//! logwtmp are glibc's, built on those.

use std::io;
use std::time::Duration;

use crate::protocol::{LogDb, Status};
use crate::read::client::{self, Client};
use crate::record::{Record, RecordKind};

use super::layout::{self, Utmpx, SIZE};

/// Every call's deadline, as the readers' (DESIGN.md: a call never
/// blocks forever).
pub const DEADLINE: Duration = crate::read::sources::DAEMON_DEADLINE;

/// The errno a C caller sees for a failed call.
pub fn errno_of(e: &client::Error) -> i32 {
    match e {
        client::Error::NoDaemon(e) | client::Error::Io(e) => io_errno(e),
        client::Error::Refused { status, .. } => match status {
            Status::Denied => libc::EPERM,
            Status::NotFound => libc::ESRCH,
            Status::BadRequest | Status::Invalid => libc::EINVAL,
            Status::TooLarge => libc::EMSGSIZE,
            Status::Limit => libc::EAGAIN,
            Status::Unsupported => libc::ENOSYS,
            Status::Io | Status::Ok => libc::EIO,
        },
        client::Error::Protocol(_) => libc::EPROTO,
    }
}

pub fn io_errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(match e.kind() {
        io::ErrorKind::UnexpectedEof => libc::ECONNRESET,
        io::ErrorKind::NotFound => libc::ENOENT,
        io::ErrorKind::InvalidData => libc::EPROTO,
        _ => libc::EIO,
    })
}

/// pututxline: store `record` through utmpd; what it stored.
pub fn put(record: &Record) -> Result<Record, i32> {
    let stored = Client::utmpd(DEADLINE)
        .and_then(|mut c| c.utmp_put(record))
        .map_err(|e| errno_of(&e))?;
    super::table::note_stored(&stored);
    Ok(stored)
}

/// Where updwtmpx sends a record, by the name it was given.
enum Route {
    Daemon(LogDb),
    File,
}

fn route(path: &[u8]) -> Route {
    if path.ends_with(b"btmp") {
        Route::Daemon(LogDb::Btmp)
    } else if path.ends_with(b"wtmp") || path.ends_with(b"wtmpx") {
        Route::Daemon(LogDb::Wtmp)
    } else {
        Route::File
    }
}

/// Append to wtmp or btmp through wtmpd (durable when it returns).
pub fn log_append(db: LogDb, record: &Record) -> Result<(), i32> {
    Client::wtmpd(DEADLINE)
        .and_then(|mut c| c.log_append(db, record))
        .map_err(|e| errno_of(&e))
}

/// updwtmpx(path, ut): to wtmpd for a wtmp or btmp name, else `raw`, the
/// caller's struct as it is, appended to the file `path` names.
pub fn updwtmp(path: &[u8], raw: &Utmpx) -> Result<(), i32> {
    match route(path) {
        Route::Daemon(db) => {
            // SAFETY: `raw` is a whole struct.
            let record = unsafe { layout::read(raw) };
            log_append(db, &record)
        }
        Route::File => append_file(path, raw),
    }
}

/// As glibc's updwtmp on a file: open it (never creating it), append one
/// struct in the host's layout; a short write is undone.
fn append_file(path: &[u8], raw: &Utmpx) -> Result<(), i32> {
    use nix::fcntl::{open, OFlag};
    use nix::sys::stat::Mode;
    use std::os::unix::ffi::OsStrExt;
    let path = std::path::Path::new(std::ffi::OsStr::from_bytes(path));
    let fd = open(
        path,
        OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CLOEXEC | OFlag::O_NOCTTY,
        Mode::empty(),
    )
    .map_err(|e| e as i32)?;
    let before = nix::sys::stat::fstat(&fd).map_err(|e| e as i32)?.st_size;
    match nix::unistd::write(&fd, &raw.bytes) {
        Ok(n) if n == SIZE => Ok(()),
        outcome => {
            let _ = nix::unistd::ftruncate(&fd, before);
            Err(match outcome {
                Err(e) => e as i32,
                Ok(_) => libc::EIO,
            })
        }
    }
}

/// The line of the first of fds 0, 1, 2 that is a terminal, named as
/// glibc's login names it: without `/dev/`, else the base name.
fn tty_line() -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    for fd in 0..3 {
        // SAFETY: fds 0..3 are only borrowed for ttyname.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        if let Ok(name) = nix::unistd::ttyname(borrowed) {
            let name = name.as_os_str().as_bytes();
            let line = match name.strip_prefix(b"/dev/") {
                Some(rest) => rest,
                None => name.rsplit(|&b| b == b'/').next().unwrap_or(name),
            };
            return Some(line.to_vec());
        }
    }
    None
}

/// login(ut): a USER_PROCESS record of this process on its terminal, to
/// utmp (only with a terminal, as glibc) and then to wtmp.
pub fn login(mut record: Record) -> Result<(), i32> {
    record.kind = RecordKind::UserProcess;
    record.pid = std::process::id() as i32;
    let mut first_error = Ok(());
    match tty_line() {
        Some(line) => {
            record.line = line;
            record.line.truncate(32);
            if let Err(e) = put(&record) {
                first_error = Err(e);
            }
        }
        None => record.line = b"???".to_vec(),
    }
    let logged = log_append(LogDb::Wtmp, &record);
    first_error.and(logged)
}

/// logout(line): the session on `line` marked dead, its user and host
/// cleared, as glibc does. Ok(false) when no session is on `line`.
pub fn logout(line: &[u8]) -> Result<bool, i32> {
    let mut client = Client::utmpd(DEADLINE).map_err(|e| errno_of(&e))?;
    let found = client.utmp_get_line(line).map_err(|e| errno_of(&e))?;
    let Some(mut record) = found else {
        return Ok(false);
    };
    record.user.clear();
    record.host.clear();
    record.time_us = crate::sys::time::now_us();
    record.kind = RecordKind::DeadProcess;
    put(&record).map(|_| true)
}

/// logwtmp(line, name, host): one wtmp record, a login when `name` is
/// not empty, else a logout.
pub fn logwtmp(line: Vec<u8>, user: Vec<u8>, host: Vec<u8>) -> Result<(), i32> {
    let record = Record {
        kind: if user.is_empty() {
            RecordKind::DeadProcess
        } else {
            RecordKind::UserProcess
        },
        pid: std::process::id() as i32,
        line,
        user,
        host,
        time_us: crate::sys::time::now_us(),
        ..Record::default()
    };
    log_append(LogDb::Wtmp, &record)
}
