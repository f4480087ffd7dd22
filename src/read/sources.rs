//! Where accounting data comes from: the files of DESIGN.md (native files
//! under `$UTMPBOX_RUNDIR` / `$UTMPBOX_LOGDIR`, else the legacy glibc paths)
//! or a file the user names, and the one rule for asking a daemon first
//! (`or_files`). The tables (utmp, lastlog) are read here, oldest first;
//! the histories (wtmp, btmp) are streamed newest first by `history`.
//! Applets never care where records came from.

use std::io;
use std::path::{Path, PathBuf};

use crate::read::client;
// Re-exported: the paths are part of "where data comes from" for callers.
use crate::read::logfile::LogFile;
pub use crate::read::paths::{logdir, rundir, utmpd_socket, wtmpd_socket, Database};
use crate::record::{self, Record};

/// Where a reader's records come from: a daemon's answer, or a file read
/// in chunks (never whole: memory stays flat whatever its size).
pub enum Source {
    Daemon(Loaded),
    File(PathBuf, LogFile),
}

impl Source {
    /// A file the user named, or a default file: a regular file only
    /// (anything else is `infile::NotRegular`), its layout detected.
    pub fn open_file(path: &Path) -> io::Result<Source> {
        Ok(Source::File(path.to_path_buf(), LogFile::open(path)?))
    }

    pub fn path(&self) -> &Path {
        match self {
            Source::Daemon(loaded) => &loaded.path,
            Source::File(path, _) => path,
        }
    }

    /// Hand every record to `each`, oldest first. A corrupt native record
    /// is reported on stderr as `applet: FILE: record N is corrupt...` and
    /// skipped, and so is a partial record at the end of a native file
    /// (legacy files are read as glibc reads them, silently).
    pub fn each(&self, applet: &str, mut each: impl FnMut(&Record)) -> io::Result<()> {
        match self {
            Source::Daemon(loaded) => loaded.records.iter().for_each(each),
            Source::File(path, log) => {
                let native = log.geometry.format == record::Format::Native;
                let corrupt = |index| record::say_corrupt(applet, path, index);
                log.each_record(corrupt, |r| {
                    each(r);
                    true
                })?;
                if native && log.trailing > 0 {
                    record::say_trailing(applet, path, log.trailing);
                }
            }
        }
        Ok(())
    }
}

/// A table as a daemon sent it, and the file it keeps it in (for messages).
pub struct Loaded {
    pub path: PathBuf,
    pub records: Vec<Record>,
}

/// How long a reader waits for a daemon before reading the files itself.
pub const DAEMON_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// The records of `db` from its default source: the daemon that owns it
/// (utmpd for utmp, wtmpd for the rest), else, when no daemon answers
/// within the deadline (no socket, refused, hung, broken), the default
/// file. A daemon's refusal is returned as an error (PermissionDenied).
/// Readers call this and nothing else for their default data.
pub fn open_default(db: Database) -> io::Result<Source> {
    match or_files(load_from_daemon(db)).map_err(client::Error::into_io)? {
        Some(loaded) => Ok(Source::Daemon(loaded)),
        None => Source::open_file(&db.default_path()),
    }
}

/// The rule of every reader that asks a daemon first: its answer, or
/// None when the files are to be read instead (no daemon, one hung past
/// the deadline, a broken connection, a reply that does not parse). A
/// refusal (btmp to a non-root reader) stands.
pub fn or_files<T>(asked: Result<T, client::Error>) -> Result<Option<T>, client::Error> {
    match asked {
        Ok(answer) => Ok(Some(answer)),
        Err(e @ client::Error::Refused { .. }) => Err(e),
        Err(_) => Ok(None),
    }
}

/// Ask the owning daemon for the whole table `db` (utmp or lastlog: both
/// bounded), oldest record first. The histories are streamed, never
/// loaded whole: `history::History`.
pub fn load_from_daemon(db: Database) -> Result<Loaded, client::Error> {
    load_from_daemon_in(db, &rundir())
}

/// As `load_from_daemon`, with the sockets in `run`.
pub fn load_from_daemon_in(db: Database, run: &Path) -> Result<Loaded, client::Error> {
    use crate::protocol::{SOCKET_UTMPD, SOCKET_WTMPD};
    let (path, records) = match db {
        Database::Utmp => {
            client::Client::connect(&run.join(SOCKET_UTMPD), DAEMON_DEADLINE)?.utmp_list()?
        }
        Database::Lastlog => {
            client::Client::connect(&run.join(SOCKET_WTMPD), DAEMON_DEADLINE)?.lastlog_list()?
        }
        // Read from the file, as `who FILE` reads one.
        Database::Wtmp | Database::Btmp => {
            return Err(client::Error::Protocol("a history is streamed, not loaded"))
        }
    };
    Ok(Loaded { path, records })
}
