//! The one read path of the histories (wtmp, btmp): a stream of records,
//! newest first, from wtmpd when it answers, else from the file, which
//! `last` and `lastb` (and the C API to come) read through and nothing
//! else.
//!
//! From wtmpd it is read in batches (LOG_READ with `before`/`max`) that
//! start small and grow, with the reader's filters sent along, and the
//! reader stops asking once it has what it prints: `last -n 10` reads a
//! few dozen records whatever the history's size. From a file it is read
//! backwards in chunks (`logfile::Backwards`). Nothing is reversed: both
//! come newest first, as `last` walks them.
//!
//! Corrupt records and a partial record at a file's end are reported
//! here, once each, as `applet: FILE: record N is corrupt...`, whichever
//! way the records came (wtmpd lists the ones it passed over).

use std::io;
use std::path::{Path, PathBuf};

use crate::protocol::{self, LogDb, ReadQuery};
use crate::read::client::{self, Client};
use crate::read::logfile::LogFile;
use crate::read::sources::{self, Database};
use crate::record::{
    self,
    view::{self, Records, View},
    Format,
};

/// What the reader will drop anyway: wtmpd leaves it out of its answers.
/// Each is a superset of what the reader keeps, never narrower.
#[derive(Clone, Default, Debug)]
pub struct Filter {
    /// Only records at or after this time (µs).
    pub since_us: Option<i64>,
    /// Only records at or before this time (µs).
    pub until_us: Option<i64>,
    /// Only records whose user or line equals one of these names.
    pub any: Option<Vec<Vec<u8>>>,
    /// With `any`: not only the records naming them, but what `last`
    /// needs to pair their sessions (protocol filter 64).
    pub sessions: bool,
}

/// The first batch asked of wtmpd, and the most: batches grow fourfold
/// from the first, so a reader that stops early (`last -n 10`) costs one
/// small read and a whole history costs few round trips.
const FIRST_BATCH: u16 = 32;

/// A history being read.
pub struct History {
    path: PathBuf,
    from: From,
}

enum From {
    Daemon {
        client: Client,
        db: LogDb,
        socket: PathBuf,
    },
    File(LogFile),
}

impl History {
    /// A file the user named (any layout): regular files only.
    pub fn open_file(path: &Path) -> io::Result<History> {
        Ok(History {
            path: path.to_path_buf(),
            from: From::File(LogFile::open(path)?),
        })
    }

    /// The default history `db` (wtmp or btmp): wtmpd when it answers
    /// within the deadline, else the default file. A refusal by wtmpd
    /// (btmp to a non-root reader) stands, as `sources::open_default`.
    pub fn open_default(db: Database) -> io::Result<History> {
        Self::open_default_in(db, &sources::rundir())
    }

    /// As `open_default`, with wtmpd's socket in `run`.
    pub fn open_default_in(db: Database, run: &Path) -> io::Result<History> {
        let log = match db {
            Database::Btmp => LogDb::Btmp,
            _ => LogDb::Wtmp,
        };
        let socket = run.join(protocol::SOCKET_WTMPD);
        let stat = Client::connect(&socket, sources::DAEMON_DEADLINE)
            .and_then(|mut client| client.log_stat(log).map(|(_, path)| (client, path)));
        match sources::or_files(stat).map_err(client::Error::into_io)? {
            Some((client, path)) => Ok(History {
                path,
                from: From::Daemon {
                    client,
                    db: log,
                    socket,
                },
            }),
            None => Self::open_file(&db.default_path()),
        }
    }

    /// The file the records are kept in, for messages and `last`'s trailer.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The time of the oldest readable record in whole seconds, None when
    /// there is none (corrupt records are passed over without a word: the
    /// walk reports them).
    pub fn oldest_secs(&mut self) -> io::Result<Option<i64>> {
        match &mut self.from {
            From::File(log) => {
                let mut oldest = None;
                log.each_record(
                    |_| {},
                    |r| {
                        oldest = Some(r.time_secs());
                        false
                    },
                )?;
                Ok(oldest)
            }
            From::Daemon { client, db, .. } => {
                // Windows from the start of the file, 1, 1, 2, 4 ... up to
                // 1,024 records long, each asked for whole: the oldest
                // record of the first non-empty one is the oldest of all.
                // One small request when record 0 is sound.
                let (count, _) = client.log_stat(*db).map_err(client::Error::into_io)?;
                let (mut start, mut end) = (0u64, 1u64);
                while start < count {
                    let query = ReadQuery {
                        before: end,
                        max: (end - start) as u16,
                        ..ReadQuery::default()
                    };
                    let batch = client
                        .log_read(*db, &query)
                        .map_err(client::Error::into_io)?;
                    let records = Records::Native { bytes: batch.raw() };
                    if !records.is_empty() {
                        return Ok(Some(records.get(records.len() - 1).secs));
                    }
                    start = end;
                    end += start.min(protocol::MAX_BATCH as u64);
                }
                Ok(None)
            }
        }
    }

    /// The file's status-change time (`last` prints it for an empty one).
    pub fn ctime(&self) -> i64 {
        match &self.from {
            From::File(log) => log.ctime,
            From::Daemon { .. } => std::fs::metadata(&self.path)
                .map(|m| std::os::unix::fs::MetadataExt::ctime(&m))
                .unwrap_or(0),
        }
    }

    /// Hand `each` the records that pass `filter` (and maybe others: the
    /// reader still applies its own tests), newest first, until it returns
    /// false. Each corrupt record met on the way is reported on stderr
    /// once, and a partial record at the end of a file before the first.
    pub fn newest_first(
        &mut self,
        applet: &str,
        filter: &Filter,
        mut each: impl FnMut(&View) -> bool,
    ) -> io::Result<()> {
        let path = self.path.clone();
        match &mut self.from {
            From::File(log) => walk_file(applet, &path, log, u64::MAX, &mut each),
            From::Daemon { client, db, socket } => {
                let mut walked =
                    walk_daemon(applet, &path, client, *db, filter, u64::MAX, &mut each);
                if let Err((before, client::Error::Refused { status, .. })) = &walked {
                    // A wtmpd from before the name filters refuses them
                    // and closes: the rest without them, on a new
                    // connection; the reader filters itself.
                    if *status == protocol::Status::BadRequest && filter.any.is_some() {
                        let before = *before;
                        let plain = Filter {
                            any: None,
                            sessions: false,
                            ..filter.clone()
                        };
                        walked = Client::connect(socket, sources::DAEMON_DEADLINE)
                            .map_err(|e| (before, e))
                            .and_then(|fresh| {
                                *client = fresh;
                                walk_daemon(applet, &path, client, *db, &plain, before, &mut each)
                            });
                    }
                }
                match walked {
                    Ok(()) => Ok(()),
                    // wtmpd went away mid-walk: on from the file where it
                    // stopped (the same indexes: it serves the native file).
                    Err((before, e)) => match LogFile::open(&path) {
                        Ok(log) if log.geometry.format == Format::Native => {
                            walk_file(applet, &path, &log, before, &mut each)
                        }
                        _ => Err(e.into_io()),
                    },
                }
            }
        }
    }
}

/// The records of a file before index `before`, newest first.
fn walk_file(
    applet: &str,
    path: &Path,
    log: &LogFile,
    before: u64,
    each: &mut impl FnMut(&View) -> bool,
) -> io::Result<()> {
    let format = log.geometry.format;
    // Any layout: last's COMPAT difference from util-linux, which reads a
    // ragged file misaligned from its end.
    if log.trailing > 0 && before == u64::MAX {
        record::say_trailing(applet, path, log.trailing);
    }
    let mut chunks = log.backwards_before(before);
    while let Some(chunk) = chunks.next_chunk()? {
        let records = view::chunk(format, chunk.bytes);
        let mut index = records.len();
        while index > 0 {
            index -= 1;
            if !records.valid(index) {
                record::say_corrupt(applet, path, chunk.first + index as u64);
                continue;
            }
            if !each(&records.get(index)) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The records wtmpd serves, newest first, in growing batches; on
/// failure, the index from which the walk has not been done yet.
fn walk_daemon(
    applet: &str,
    path: &Path,
    client: &mut Client,
    db: LogDb,
    filter: &Filter,
    before: u64,
    each: &mut impl FnMut(&View) -> bool,
) -> Result<(), (u64, client::Error)> {
    let mut query = ReadQuery {
        before,
        max: FIRST_BATCH,
        since_us: filter.since_us,
        until_us: filter.until_us,
        any: filter.any.clone(),
        report_corrupt: true,
        sessions: filter.sessions,
        ..ReadQuery::default()
    };
    let mut batch = client::Batch::default();
    loop {
        client
            .log_read_into(db, &query, &mut batch)
            .map_err(|e| (query.before, e))?;
        // Reported before the batch's records: the reply does not say
        // where among them each fell.
        for &index in &batch.corrupt {
            record::say_corrupt(applet, path, index);
        }
        // Checksums checked as the reply was read.
        let records = Records::Native { bytes: batch.raw() };
        for index in 0..records.len() {
            if !each(&records.get(index)) {
                return Ok(());
            }
        }
        if batch.next == 0 {
            return Ok(());
        }
        if batch.next >= query.before {
            let e = client::Error::Protocol("history read did not move backwards");
            return Err((query.before, e));
        }
        query.before = batch.next;
        query.max = query.max.saturating_mul(4).min(protocol::MAX_BATCH as u16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{encode_file, testgen, Record};
    use std::io::{Read, Write};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::UnixListener;

    /// A wtmpd that knows LOG_STAT (naming `path`) but answers every
    /// LOG_READ with BAD_REQUEST, as one from before filters 16 and 32.
    fn older_daemon(dir: &Path, path: &Path) {
        let listener = UnixListener::bind(dir.join(protocol::SOCKET_WTMPD)).unwrap();
        let path = path.as_os_str().as_bytes().to_vec();
        std::thread::spawn(move || {
            let Ok((mut conn, _)) = listener.accept() else {
                return;
            };
            let mut input = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = match conn.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                input.extend_from_slice(&buf[..n]);
                while let protocol::Incoming::Request(request) = protocol::take_request(&mut input)
                {
                    let reply = if request.code == protocol::op::LOG_STAT {
                        let mut out = 7u64.to_le_bytes().to_vec();
                        protocol::put_bytes16(&mut out, &path);
                        protocol::frame(0, &out)
                    } else {
                        protocol::error_frame(protocol::Status::BadRequest, "unknown filter flags")
                    };
                    if conn.write_all(&reply).is_err() {
                        return;
                    }
                }
            }
        });
    }

    /// A wtmpd from before filter 64: it refuses that flag with
    /// BAD_REQUEST and closes, as an unknown flag; any other read it
    /// serves from `records` (newest first, `before` and `max` only).
    fn daemon_without_sessions(dir: &Path, path: &Path, records: Vec<u8>) {
        let listener = UnixListener::bind(dir.join(protocol::SOCKET_WTMPD)).unwrap();
        let path = path.as_os_str().as_bytes().to_vec();
        std::thread::spawn(move || {
            let count = (records.len() / record::native::RECORD_SIZE) as u64;
            while let Ok((mut conn, _)) = listener.accept() {
                let mut input = Vec::new();
                let mut buf = [0u8; 4096];
                'conn: loop {
                    let n = match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    input.extend_from_slice(&buf[..n]);
                    while let protocol::Incoming::Request(request) =
                        protocol::take_request(&mut input)
                    {
                        let payload = request.payload();
                        let (reply, close) = if request.code == protocol::op::LOG_STAT {
                            let mut out = count.to_le_bytes().to_vec();
                            protocol::put_bytes16(&mut out, &path);
                            (protocol::frame(0, &out), false)
                        } else if payload[1] & 64 != 0 {
                            let why = "unknown filter flags";
                            (
                                protocol::error_frame(protocol::Status::BadRequest, why),
                                true,
                            )
                        } else {
                            let (_, q) = ReadQuery::decode(payload).unwrap();
                            let end = q.before.min(count);
                            let start = end.saturating_sub(q.max as u64);
                            let size = record::native::RECORD_SIZE;
                            let mut out = start.to_le_bytes().to_vec();
                            out.extend_from_slice(&((end - start) as u32).to_le_bytes());
                            for i in (start..end).rev() {
                                let i = i as usize;
                                out.extend_from_slice(&records[i * size..(i + 1) * size]);
                            }
                            if q.report_corrupt {
                                out.extend_from_slice(&0u16.to_le_bytes());
                            }
                            (protocol::frame(0, &out), false)
                        };
                        if conn.write_all(&reply).is_err() || close {
                            break 'conn;
                        }
                    }
                }
            }
        });
    }

    #[test]
    fn a_daemon_without_filter_64_is_asked_again_without_names() {
        let dir = std::env::temp_dir().join(format!("utmpbox-history64-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut rng = testgen::Rng::new(5);
        let records: Vec<Record> = (0..300).map(|_| testgen::native_record(&mut rng)).collect();
        let bytes = encode_file(&records, Format::Native).unwrap();
        // The file itself is not there: every record must come from the
        // daemon, on the second connection.
        let file = dir.join("wtmp");
        daemon_without_sessions(&dir, &file, bytes[record::native::HEADER_SIZE..].to_vec());
        let mut history = History::open_default_in(Database::Wtmp, &dir).unwrap();
        let filter = Filter {
            any: Some(vec![b"alice".to_vec()]),
            sessions: true,
            ..Filter::default()
        };
        let mut seen = Vec::new();
        history
            .newest_first("test", &filter, |v| {
                seen.push(v.secs);
                true
            })
            .unwrap();
        let expected: Vec<i64> = records.iter().rev().map(Record::time_secs).collect();
        assert_eq!(seen, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_daemon_without_the_new_filters_leaves_the_reader_to_the_file() {
        let dir = std::env::temp_dir().join(format!("utmpbox-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut rng = testgen::Rng::new(3);
        let records: Vec<Record> = (0..7).map(|_| testgen::native_record(&mut rng)).collect();
        let file = dir.join("wtmp");
        std::fs::write(&file, encode_file(&records, Format::Native).unwrap()).unwrap();
        older_daemon(&dir, &file);
        let mut history = History::open_default_in(Database::Wtmp, &dir).unwrap();
        assert_eq!(history.path(), file);
        let mut seen = Vec::new();
        history
            .newest_first("test", &Filter::default(), |v| {
                seen.push(v.secs);
                true
            })
            .unwrap();
        let expected: Vec<i64> = records.iter().rev().map(Record::time_secs).collect();
        assert_eq!(seen, expected);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
