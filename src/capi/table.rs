//! The table the reading functions walk: fetched whole (one utmpd
//! request, or the readers' file fallback, or the file `utmpxname` named)
//! and iterated in the process.
//!
//! Each thread has its own snapshot and position, so a thread iterating
//! with the `_r` functions always sees one consistent table, whatever the
//! others do (glibc shares one file position between threads). What is
//! process-wide sits behind one lock: the name `utmpxname` set, with a
//! generation that tells each thread its snapshot is of another file.

use std::cell::RefCell;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::daemon::utmpd::matches_id;
use crate::read::logfile::LogFile;
use crate::read::sources::{self, Database, Source};
use crate::record::{Record, RecordKind};

/// The file `utmpxname` named; None for the daemon's table.
static NAME: Mutex<Option<PathBuf>> = Mutex::new(None);
/// Bumped by `utmpxname`: a snapshot of an older generation is dropped.
static GENERATION: AtomicU64 = AtomicU64::new(0);

struct Snapshot {
    generation: u64,
    records: Vec<Record>,
    /// The next entry `getutxent` returns.
    pos: usize,
}

thread_local! {
    static CURSOR: RefCell<Option<Snapshot>> = const { RefCell::new(None) };
}

/// The paths that mean "the utmp database" to a C program: glibc's and
/// musl's `_PATH_UTMP`/`_PATH_UTMPX`, and the native file. Naming one
/// reads the daemon's table, as if `utmpxname` had not been called.
fn is_default_utmp(path: &[u8]) -> bool {
    use std::os::unix::ffi::OsStrExt;
    const DEFAULTS: &[&[u8]] = &[
        b"/var/run/utmp",
        b"/var/run/utmpx",
        b"/run/utmp",
        b"/run/utmpx",
        b"/dev/null/utmp",
        b"/dev/null/utmpx",
    ];
    DEFAULTS.contains(&path) || path == Database::Utmp.native_path().as_os_str().as_bytes()
}

/// utmpxname: read `path` from now on (every thread at its next fetch).
pub fn set_name(path: &[u8]) {
    use std::os::unix::ffi::OsStrExt;
    let name = (!is_default_utmp(path)).then(|| PathBuf::from(std::ffi::OsStr::from_bytes(path)));
    *NAME.lock().unwrap_or_else(|e| e.into_inner()) = name;
    GENERATION.fetch_add(1, Ordering::SeqCst);
    end();
}

/// Every record of the current source, oldest first.
fn fetch() -> io::Result<Vec<Record>> {
    let name = NAME.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let source = match name {
        None => sources::open_default(Database::Utmp)?,
        Some(path) => Source::open_file(&path)?,
    };
    match source {
        Source::Daemon(loaded) => Ok(loaded.records),
        Source::File(_, log) => file_records(&log),
    }
}

/// A file's records as libc would return them: a corrupt native record
/// is skipped (a library has no business on its host's stderr).
fn file_records(log: &LogFile) -> io::Result<Vec<Record>> {
    let mut records = Vec::new();
    log.each_record(
        |_| {},
        |r| {
            records.push(r.clone());
            true
        },
    )?;
    Ok(records)
}

/// setutxent: a fresh snapshot, from its start.
pub fn rewind() -> io::Result<()> {
    end();
    let generation = GENERATION.load(Ordering::SeqCst);
    let records = fetch()?;
    CURSOR.with(|c| {
        *c.borrow_mut() = Some(Snapshot {
            generation,
            records,
            pos: 0,
        })
    });
    Ok(())
}

/// endutxent: forget this thread's snapshot.
pub fn end() {
    CURSOR.with(|c| *c.borrow_mut() = None);
}

/// Run `walk` on this thread's snapshot, fetching one first when there
/// is none or it is of a file `utmpxname` has since replaced.
fn with_snapshot<T>(walk: impl FnOnce(&mut Snapshot) -> T) -> io::Result<T> {
    let generation = GENERATION.load(Ordering::SeqCst);
    let stale = CURSOR.with(|c| {
        c.borrow()
            .as_ref()
            .map_or(true, |s| s.generation != generation)
    });
    if stale {
        let records = fetch()?;
        CURSOR.with(|c| {
            *c.borrow_mut() = Some(Snapshot {
                generation,
                records,
                pos: 0,
            })
        });
    }
    CURSOR.with(|c| match c.borrow_mut().as_mut() {
        Some(snapshot) => Ok(walk(snapshot)),
        None => Err(io::Error::from_raw_os_error(libc::EIO)),
    })
}

/// Why a search or an iteration found nothing.
pub enum Miss {
    /// The end of the table (getutxent), or no match (ESRCH).
    End,
    /// The table could not be read.
    Failed(io::Error),
}

fn search(matches: impl Fn(&Record) -> bool) -> Result<Record, Miss> {
    match with_snapshot(|s| {
        let found = s.records[s.pos.min(s.records.len())..]
            .iter()
            .position(matches)
            .map(|i| s.pos + i);
        match found {
            Some(i) => {
                s.pos = i + 1;
                Some(s.records[i].clone())
            }
            None => {
                // As glibc: a failed search leaves the position at the end.
                s.pos = s.records.len();
                None
            }
        }
    }) {
        Ok(Some(record)) => Ok(record),
        Ok(None) => Err(Miss::End),
        Err(e) => Err(Miss::Failed(e)),
    }
}

/// getutxent: the next entry.
pub fn next() -> Result<Record, Miss> {
    search(|_| true)
}

/// getutxid: the next entry `template` names (glibc's rule, which utmpd
/// applies to its writes too).
pub fn find_id(template: &Record) -> Result<Record, Miss> {
    search(|r| matches_id(template, r))
}

/// getutxline: the next login or user entry on `line`.
pub fn find_line(line: &[u8]) -> Result<Record, Miss> {
    search(|r| {
        matches!(r.kind, RecordKind::LoginProcess | RecordKind::UserProcess) && r.line == line
    })
}

/// After a successful pututxline: this thread's snapshot shows what was
/// stored, in the slot the daemon would use, so a following getutxid or
/// getutxent agrees with the write.
pub fn note_stored(stored: &Record) {
    if NAME.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
        return; // the snapshot is of another file than the one written
    }
    CURSOR.with(|c| {
        if let Some(s) = c.borrow_mut().as_mut() {
            match s.records.iter().position(|r| matches_id(stored, r)) {
                Some(i) => s.records[i] = stored.clone(),
                None => s.records.push(stored.clone()),
            }
        }
    })
}
