//! Where accounting data comes from: the files of DESIGN.md (native files
//! under `$UTMPBOX_RUNDIR` / `$UTMPBOX_LOGDIR`, else the legacy glibc paths)
//! or a file the user names. The daemon client slots in here, so applets
//! never care where records came from.

use std::io;
use std::path::{Path, PathBuf};

use crate::client;
use crate::protocol::LogDb;
use crate::record::{self, Decoded};

pub const DEFAULT_RUNDIR: &str = "/run/utmpbox";
pub const DEFAULT_LOGDIR: &str = "/var/log/utmpbox";

/// One of the four databases.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Database {
    Utmp,
    Wtmp,
    Btmp,
    Lastlog,
}

impl Database {
    /// The file name in the native directories, also used in messages.
    pub fn name(self) -> &'static str {
        match self {
            Database::Utmp => "utmp",
            Database::Wtmp => "wtmp",
            Database::Btmp => "btmp",
            Database::Lastlog => "lastlog",
        }
    }

    /// The glibc path the peers read by default.
    pub fn legacy_path(self) -> &'static str {
        match self {
            Database::Utmp => "/var/run/utmp",
            Database::Wtmp => "/var/log/wtmp",
            Database::Btmp => "/var/log/btmp",
            Database::Lastlog => "/var/log/lastlog",
        }
    }

    /// The native file's path under the run or log directory.
    pub fn native_path(self) -> PathBuf {
        let dir = match self {
            Database::Utmp => rundir(),
            _ => logdir(),
        };
        dir.join(self.name())
    }

    /// The default file: the native one when it exists, else the legacy one.
    pub fn default_path(self) -> PathBuf {
        let native = self.native_path();
        if native.exists() {
            native
        } else {
            PathBuf::from(self.legacy_path())
        }
    }
}

fn dir_from_env(var: &str, default: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(default),
    }
}

pub fn rundir() -> PathBuf {
    dir_from_env("UTMPBOX_RUNDIR", DEFAULT_RUNDIR)
}

pub fn logdir() -> PathBuf {
    dir_from_env("UTMPBOX_LOGDIR", DEFAULT_LOGDIR)
}

/// Read and decode a whole utmp/wtmp/btmp file of any supported layout.
/// I/O errors come back as they are, so each applet can word them as its
/// peer does; an unreadable native header is `InvalidData`.
pub fn read_file(path: &Path) -> io::Result<Decoded> {
    let bytes = std::fs::read(path)?;
    record::decode_file(&bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

/// Records and where they came from (for messages and `last`'s trailer).
pub struct Loaded {
    pub path: PathBuf,
    pub decoded: Decoded,
}

/// How long a reader waits for a daemon before reading the files itself.
pub const DAEMON_DEADLINE: std::time::Duration = std::time::Duration::from_secs(1);

/// The records of `db` from its default source: the daemon that owns it
/// (utmpd for utmp, wtmpd for the rest), else, when no daemon answers
/// within the deadline, the default file. Readers call this and nothing
/// else for their default data.
pub fn load_default(db: Database) -> io::Result<Loaded> {
    match load_from_daemon(db) {
        Ok(loaded) => Ok(loaded),
        Err(client::Error::NoDaemon(_)) => {
            let path = db.default_path();
            let decoded = read_file(&path)?;
            Ok(Loaded { path, decoded })
        }
        Err(e) => Err(e.into_io()),
    }
}

/// Ask the owning daemon for the whole of `db`, oldest record first.
pub fn load_from_daemon(db: Database) -> Result<Loaded, client::Error> {
    let (path, records) = match db {
        Database::Utmp => client::Client::utmpd(DAEMON_DEADLINE)?.utmp_list()?,
        Database::Wtmp | Database::Btmp => {
            let log = if db == Database::Wtmp {
                LogDb::Wtmp
            } else {
                LogDb::Btmp
            };
            let mut c = client::Client::wtmpd(DAEMON_DEADLINE)?;
            let (_, path) = c.log_stat(log)?;
            (path, c.log_read_all(log)?)
        }
        Database::Lastlog => client::Client::wtmpd(DAEMON_DEADLINE)?.lastlog_list()?,
    };
    Ok(Loaded {
        path,
        decoded: Decoded {
            format: record::Format::Native,
            records,
            trailing: 0,
            corrupt: Vec::new(),
        },
    })
}
