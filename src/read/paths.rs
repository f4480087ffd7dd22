//! Where the data lives: the four databases, their native and legacy
//! paths, the run and log directories (`$UTMPBOX_RUNDIR`,
//! `$UTMPBOX_LOGDIR`) and the daemons' sockets under the run directory.
//! Below both the client and `sources`, which need it.

use std::path::PathBuf;

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

/// The socket paths clients use: under `$UTMPBOX_RUNDIR`.
pub fn utmpd_socket() -> PathBuf {
    rundir().join(crate::protocol::SOCKET_UTMPD)
}

pub fn wtmpd_socket() -> PathBuf {
    rundir().join(crate::protocol::SOCKET_WTMPD)
}
