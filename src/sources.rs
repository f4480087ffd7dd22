//! Where accounting data comes from: the files of DESIGN.md (native files
//! under `$UTMPBOX_RUNDIR` / `$UTMPBOX_LOGDIR`, else the legacy glibc paths)
//! or a file the user names. The daemon client slots in here, so applets
//! never care where records came from.

use std::io;
use std::path::{Path, PathBuf};

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

/// The records of `db` from its default source. Readers call this and
/// nothing else for their default data, so the daemon client (which asks
/// utmpd/wtmpd first, with a deadline) plugs in here without touching them.
pub fn load_default(db: Database) -> io::Result<Loaded> {
    let path = db.default_path();
    let decoded = read_file(&path)?;
    Ok(Loaded { path, decoded })
}
