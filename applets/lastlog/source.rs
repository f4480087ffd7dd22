//! Where lastlog's entries come from and go to: wtmpd first, by the
//! readers' rule (`sources::or_files`), else the files: the native lastlog
//! when it exists, else the legacy one.

use crate::sys::hash::Map;

use super::options::{in_root, Mode, Options};
use crate::front::cli;
use crate::read::client::{self, Client};
use crate::read::sources::{self, Database};
use crate::record::{self, Record, RecordKind};
use crate::store::lastlog::{Access, LastlogStore, LegacyLastlog};
use crate::sys::passwd::User;

/// The open lastlog, whichever kind it is.
pub enum Source {
    /// wtmpd's list, by name, to print.
    Listed(Map<Vec<u8>, Record>),
    /// wtmpd accepted the connection: `-S`/`-C` go to it.
    Daemon(Client),
    Legacy(LegacyLastlog),
    Native(LastlogStore),
}

impl Source {
    /// wtmpd, else the files (only the files with `-R`). Err is the exit
    /// status, the reason already said.
    pub fn open(applet: &str, o: &Options) -> Result<Source, i32> {
        // With -R the files in that root are the data: no daemon serves them.
        let daemon = if o.rooted {
            Ok(None)
        } else {
            from_daemon(o.mode)
        };
        match daemon {
            Ok(Some(source)) => Ok(source),
            Ok(None) => from_files(applet, o),
            Err(e) => Err(cli::fail(applet, format_args!("wtmpd: {e}"), 1)),
        }
    }

    pub fn get(&self, user: &User) -> std::io::Result<Option<Record>> {
        match self {
            Source::Listed(entries) => Ok(entries.get(user.name).cloned()),
            // Opened to update, never to print.
            Source::Daemon(_) => Ok(None),
            Source::Legacy(file) => file.get(user.uid),
            Source::Native(store) => store.get(user.name),
        }
    }

    /// Set (`Some`, the entry to store) or clear (`None`) `user`'s entry.
    pub fn update(&mut self, user: &User, set: Option<&Record>) -> Result<(), String> {
        let named = |record: &Record| Record {
            kind: RecordKind::UserProcess,
            user: user.name.to_vec(),
            ..record.clone()
        };
        match (self, set) {
            (Source::Daemon(client), Some(record)) => client
                .lastlog_set(&named(record))
                .map_err(|e| e.to_string()),
            (Source::Daemon(client), None) => {
                client.lastlog_clear(user.name).map_err(|e| e.to_string())
            }
            (Source::Listed(_), _) => Err("opened to print".into()),
            // shadow's -C writes a zero entry.
            (Source::Legacy(file), record) => file
                .put(user.uid, record.unwrap_or(&Record::default()))
                .map_err(|e| cli::os_reason(&e)),
            (Source::Native(store), Some(record)) => store
                .put(&named(record))
                .map(drop)
                .map_err(|e| cli::os_reason(&e)),
            (Source::Native(store), None) => store
                .clear(user.name)
                .map(drop)
                .map_err(|e| cli::os_reason(&e)),
        }
    }

    pub fn sync(&mut self) -> std::io::Result<()> {
        match self {
            // wtmpd acknowledged each change once it was synced.
            Source::Daemon(_) | Source::Listed(_) => Ok(()),
            Source::Legacy(file) => file.sync(),
            Source::Native(store) => store.sync(),
        }
    }
}

/// wtmpd: to print, its list as every reader gets a table
/// (`sources::load_from_daemon`, Ok(None) when the files are to be read);
/// to update, the connection alone: once wtmpd accepted it, nothing is
/// written behind its back.
fn from_daemon(mode: Mode) -> Result<Option<Source>, client::Error> {
    if mode != Mode::Print {
        return Ok(Client::wtmpd(sources::DAEMON_DEADLINE)
            .ok()
            .map(Source::Daemon));
    }
    let loaded = sources::or_files(sources::load_from_daemon(Database::Lastlog))?;
    Ok(loaded.map(|loaded| {
        let mut entries = Map::with_capacity_and_hasher(loaded.records.len(), Default::default());
        for record in loaded.records {
            entries.entry(record.user.clone()).or_insert(record);
        }
        Source::Listed(entries)
    }))
}

/// The lastlog files: the native one when it exists, else the legacy one.
fn from_files(applet: &str, o: &Options) -> Result<Source, i32> {
    let access = if o.mode == Mode::Print {
        Access::Read
    } else {
        Access::Write
    };
    let native = Database::Lastlog.native_path();
    let native_here = in_root(&o.root, &native);
    if native_here.exists() {
        match LastlogStore::open(&native_here, access) {
            Ok(store) => {
                for slot in store.corrupt() {
                    record::say_corrupt(applet, &native, *slot);
                }
                Ok(Source::Native(store))
            }
            Err(e) => {
                let reason = cli::os_reason(&e);
                Err(cli::fail(
                    applet,
                    format_args!("{}: {reason}", native.display()),
                    1,
                ))
            }
        }
    } else {
        let legacy = Database::Lastlog.legacy_path();
        match LegacyLastlog::open(&in_root(&o.root, legacy), access) {
            Ok(file) => Ok(Source::Legacy(file)),
            // A FIFO or a device in its place: refused, not read.
            Err(e) if crate::sys::infile::is_not_regular(&e) => {
                Err(cli::fail(applet, format_args!("{legacy}: {e}"), 1))
            }
            Err(e) => {
                // perror(_PATH_LASTLOG), as shadow.
                crate::front::cli::say(format_args!("{legacy}: {}", cli::os_reason(&e)));
                Err(1)
            }
        }
    }
}
