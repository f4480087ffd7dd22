//! wtmpd's service: wtmp and btmp (append-only, acknowledged after fsync,
//! group commit) and the native lastlog (updated on every login appended
//! to wtmp, keyed by user name). With `--syslog`, each record committed
//! is then queued for syslog (`syslog`): after the acknowledgement, never
//! in its way.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::event::{Response, Service};
use super::log_store::{self, LogFile};
use super::policy::{self, RateLimiter};
use crate::protocol::{self, op, LogDb, ReadQuery, Reader, Status};
use crate::record::{Record, RecordKind};
use crate::store::lastlog::LastlogStore;
use crate::sys::boot;
use crate::sys::peer::Peer;

pub mod syslog;
mod utmps;

pub struct Options {
    pub wtmp: PathBuf,
    pub btmp: PathBuf,
    pub lastlog: PathBuf,
    pub rate: u32,
    pub record_boot: bool,
    pub private: bool,
    /// Mode of new wtmp and lastlog files (btmp is always 0600).
    pub mode: u32,
    /// `--syslog`: where to forward every record appended (none: off).
    pub syslog: syslog::Options,
}

const TAG_WTMP: usize = 0;
const TAG_BTMP: usize = 1;
const TAG_LASTLOG: usize = 2;

pub struct Wtmpd {
    wtmp: LogFile,
    btmp: LogFile,
    lastlog: LastlogStore,
    opts: Options,
    rates: RateLimiter,
    /// Time of the newest boot record in wtmp (queued ones included), so a
    /// second "boot" for the same boot is acknowledged, not appended.
    last_boot_us: Option<i64>,
    /// An explicit lastlog set or clear waits for this turn's commit.
    lastlog_waiters: bool,
    /// Forwarding to syslog, when asked for.
    syslog: Option<syslog::Forwarder>,
    /// When the once-a-second work (lastlog sync, reserve) is next due:
    /// `tick` also runs whenever a syslog socket was ready.
    next_housekeeping: Instant,
}

fn ok(payload: &[u8]) -> Response {
    Response::Now(protocol::frame(Status::Ok as u8, payload))
}

fn err(status: Status, why: impl AsRef<str>) -> Response {
    Response::Now(protocol::error_frame(status, why.as_ref()))
}

fn bad(why: &str) -> Response {
    Response::Close(protocol::error_frame(Status::BadRequest, why))
}

fn durable(tag: usize) -> Response {
    Response::Durable {
        tag,
        reply: protocol::frame(Status::Ok as u8, b""),
    }
}

fn path_bytes(path: &std::path::Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes()
}

impl Wtmpd {
    pub fn open(mut opts: Options) -> Result<(Wtmpd, Vec<String>), String> {
        let (wtmp, mut warnings) = LogFile::open(&opts.wtmp, opts.mode)?;
        let (btmp, w) = LogFile::open(&opts.btmp, 0o600)?;
        warnings.extend(w);
        let (lastlog, w) = LastlogStore::open_repaired(&opts.lastlog, opts.mode)?;
        warnings.extend(w);
        let last_boot_us = wtmp.last_boot_us();
        let targets = std::mem::take(&mut opts.syslog.targets);
        let syslog = (!targets.is_empty()).then(|| {
            let mut state = opts.wtmp.as_os_str().to_owned();
            state.push(".syslog");
            let forwarding = syslog::Options {
                targets,
                format: opts.syslog.format,
                queue: opts.syslog.queue,
            };
            syslog::Forwarder::open(forwarding, state.into(), opts.mode, [&wtmp, &btmp])
        });
        let mut wtmpd = Wtmpd {
            wtmp,
            btmp,
            lastlog,
            rates: RateLimiter::new(opts.rate),
            last_boot_us,
            lastlog_waiters: false,
            syslog,
            next_housekeeping: Instant::now(),
            opts,
        };
        if wtmpd.opts.record_boot {
            if let Some(note) = wtmpd.record_boot()? {
                crate::sys::diag::say(format_args!("wtmpd: info: {note}"));
            }
        }
        Ok((wtmpd, warnings))
    }

    fn io_reason(&self, what: &str, e: &std::io::Error) -> String {
        format!(
            "unable to {what} {}: {}",
            self.lastlog.path().display(),
            crate::sys::diag::os_reason(e)
        )
    }

    fn sync_lastlog(&mut self) -> Result<(), String> {
        self.lastlog.sync().map_err(|e| self.io_reason("sync", &e))
    }

    /// Append "reboot" for this boot unless wtmp already has it.
    fn record_boot(&mut self) -> Result<Option<String>, String> {
        let (Some(id), Some(boot_us)) = (boot::boot_id(), boot::boot_time_us()) else {
            return Ok(None);
        };
        let stamp = super::stamp::stamp_path(&self.opts.wtmp);
        let have = self
            .last_boot_us
            .is_some_and(|t| boot::same_boot(t, boot_us))
            || super::stamp::stamped(&stamp, &id);
        if !have {
            self.wtmp.queue(boot::boot_record(boot_us))?;
            self.wtmp.commit()?;
            self.last_boot_us = Some(boot_us);
        }
        let _ = super::stamp::write_stamp(&stamp, &id);
        Ok((!have).then(|| "recorded this boot (reboot) in wtmp".to_string()))
    }

    fn log(&mut self, db: LogDb) -> &mut LogFile {
        match db {
            LogDb::Wtmp => &mut self.wtmp,
            LogDb::Btmp => &mut self.btmp,
        }
    }

    fn append(&mut self, peer: &Peer, db: LogDb, record: Record) -> Response {
        match self.queue_append(peer, db, record) {
            Ok(Some(tag)) => durable(tag),
            Ok(None) => ok(b""),
            Err((status, why)) => err(status, why),
        }
    }

    /// One append from either protocol, under the policy and the rate
    /// limit: the commit tag to wait for, or None when there is nothing
    /// to write (this boot is already recorded).
    fn queue_append(
        &mut self,
        peer: &Peer,
        db: LogDb,
        record: Record,
    ) -> Result<Option<usize>, (Status, String)> {
        if let Err(why) = policy::validate(&record) {
            return Err((Status::Invalid, why));
        }
        if db == LogDb::Btmp && !peer.is_root() {
            return Err((Status::Denied, "only root may write btmp".into()));
        }
        let record = if peer.privileged {
            record
        } else {
            match policy::unprivileged_write(peer, &record, None, crate::sys::time::now_us()) {
                Ok(record) => record,
                Err(why) => return Err((Status::Denied, why)),
            }
        };
        if !peer.privileged && !self.rates.allow(peer.uid, Instant::now()) {
            return Err((Status::Limit, "too many writes; try again later".into()));
        }
        if db == LogDb::Wtmp && log_store::is_boot(&record) {
            if self
                .last_boot_us
                .is_some_and(|t| boot::same_boot(t, record.time_us))
            {
                return Ok(None);
            }
            self.last_boot_us = Some(record.time_us);
        }
        match self.log(db).queue(record) {
            Ok(()) => Ok(Some(if db == LogDb::Wtmp {
                TAG_WTMP
            } else {
                TAG_BTMP
            })),
            Err(why) => Err((Status::Invalid, why)),
        }
    }

    fn read(&mut self, peer: &Peer, db: LogDb, query: &ReadQuery) -> Response {
        let private = self.opts.private && !peer.privileged;
        let log = self.log(db);
        match log.read_batch(query) {
            Ok(batch) => {
                let mut records = Vec::new();
                if private {
                    records = batch.records();
                    policy::redact(&mut records, peer);
                }
                let capacity = 14 + batch.raw.len() + 8 * batch.corrupt.len();
                let mut encoded = Ok(());
                let frame = protocol::frame_with(Status::Ok as u8, capacity, |out| {
                    out.extend_from_slice(&batch.next.to_le_bytes());
                    if private {
                        encoded = protocol::put_records(out, records.iter());
                    } else {
                        out.extend_from_slice(&(batch.count() as u32).to_le_bytes());
                        out.extend_from_slice(&batch.raw);
                    }
                    if query.report_corrupt {
                        // At most SCAN_LIMIT (4,096) per batch: fits a u16.
                        let n = batch.corrupt.len().min(u16::MAX as usize);
                        out.extend_from_slice(&(n as u16).to_le_bytes());
                        for index in &batch.corrupt[..n] {
                            out.extend_from_slice(&index.to_le_bytes());
                        }
                    }
                });
                match encoded {
                    Ok(()) => Response::Now(frame),
                    Err(why) => err(Status::Io, why),
                }
            }
            Err(e) => err(
                Status::Io,
                format!(
                    "unable to read {}: {}",
                    log.path.display(),
                    crate::sys::diag::os_reason(&e)
                ),
            ),
        }
    }

    fn lastlog_request(&mut self, peer: &Peer, code: u8, r: &mut Reader) -> Response {
        let private = self.opts.private && !peer.privileged;
        match code {
            op::LASTLOG_GET => {
                let Ok(user) = r.short_bytes().and_then(|u| r.end().map(|_| u)) else {
                    return bad("malformed lastlog request");
                };
                match self.lastlog.get(user) {
                    Ok(Some(mut record)) => {
                        if private {
                            policy::redact(std::slice::from_mut(&mut record), peer);
                        }
                        let mut out = Vec::new();
                        match protocol::put_record(&mut out, &record) {
                            Ok(()) => ok(&out),
                            Err(why) => err(Status::Io, why),
                        }
                    }
                    Ok(None) => err(Status::NotFound, "never logged in"),
                    Err(e) => err(Status::Io, self.io_reason("read", &e)),
                }
            }
            op::LASTLOG_LIST => {
                if r.end().is_err() {
                    return bad("malformed lastlog request");
                }
                let mut records = match self.lastlog.list() {
                    Ok(records) => records,
                    Err(e) => return err(Status::Io, self.io_reason("read", &e)),
                };
                if private {
                    policy::redact(&mut records, peer);
                }
                let mut out = Vec::new();
                protocol::put_bytes16(&mut out, path_bytes(self.lastlog.path()));
                match protocol::put_records(&mut out, records.iter()) {
                    Ok(()) => ok(&out),
                    Err(why) => err(Status::Io, why),
                }
            }
            _ if !peer.privileged => err(
                Status::Denied,
                "only root or the utmp group may change lastlog",
            ),
            op::LASTLOG_SET => {
                let Ok(record) = r.record().and_then(|x| r.end().map(|_| x)) else {
                    return bad("malformed lastlog request");
                };
                if let Err(why) = policy::validate(&record) {
                    return err(Status::Invalid, why);
                }
                if record.user.is_empty() {
                    return err(Status::Invalid, "a lastlog entry needs a user name");
                }
                match self.lastlog.set_login(&record) {
                    Ok(_) => {
                        self.lastlog_waiters = true;
                        durable(TAG_LASTLOG)
                    }
                    Err(e) => err(Status::Io, self.io_reason("update", &e)),
                }
            }
            _ => {
                let Ok(user) = r.short_bytes().and_then(|u| r.end().map(|_| u)) else {
                    return bad("malformed lastlog request");
                };
                match self.lastlog.clear(user) {
                    Ok(true) => {
                        self.lastlog_waiters = true;
                        durable(TAG_LASTLOG)
                    }
                    Ok(false) => ok(b""),
                    Err(e) => err(Status::Io, self.io_reason("update", &e)),
                }
            }
        }
    }
}

impl Service for Wtmpd {
    fn name(&self) -> &'static str {
        "wtmpd"
    }

    fn handle(&mut self, peer: &Peer, code: u8, payload: &[u8]) -> Response {
        let mut r = Reader::new(payload);
        match code {
            op::LOG_APPEND => {
                let parsed = r.u8().and_then(|db| {
                    let record = r.record()?;
                    r.end()?;
                    LogDb::from_raw(db)
                        .map(|db| (db, record))
                        .ok_or("unknown database")
                });
                match parsed {
                    Ok((db, record)) => self.append(peer, db, record),
                    Err(why) => bad(why),
                }
            }
            op::LOG_STAT => {
                // An optional second byte, 1, asks for the syslog counts
                // too (docs/PROTOCOL.md); without it the reply is as ever.
                let parsed = r.u8().and_then(|db| {
                    let counts = match r.u8() {
                        Ok(1) => true,
                        Ok(_) => return Err("unknown LOG_STAT flags"),
                        Err(_) => false,
                    };
                    r.end()?;
                    let db = LogDb::from_raw(db).ok_or("unknown database")?;
                    Ok((db, counts))
                });
                match parsed {
                    Ok((LogDb::Btmp, _)) if !peer.is_root() => {
                        err(Status::Denied, "only root may read btmp")
                    }
                    Ok((db, counts)) => {
                        let (dropped, queued) = self.syslog.as_ref().map_or((0, 0), |f| f.counts());
                        let log = self.log(db);
                        let mut out = log.count.to_le_bytes().to_vec();
                        protocol::put_bytes16(&mut out, path_bytes(&log.path));
                        if counts {
                            out.extend_from_slice(&dropped.to_le_bytes());
                            out.extend_from_slice(&queued.to_le_bytes());
                        }
                        ok(&out)
                    }
                    Err(why) => bad(why),
                }
            }
            op::LOG_READ => match ReadQuery::decode(payload) {
                Ok((LogDb::Btmp, _)) if !peer.is_root() => {
                    err(Status::Denied, "only root may read btmp")
                }
                Ok((db, query)) => self.read(peer, db, &query),
                Err(why) => bad(why),
            },
            op::LASTLOG_GET | op::LASTLOG_LIST | op::LASTLOG_SET | op::LASTLOG_CLEAR => {
                self.lastlog_request(peer, code, &mut r)
            }
            _ => err(
                Status::Unsupported,
                format!("wtmpd does not serve request {code:#04x}"),
            ),
        }
    }

    fn commit(&mut self) -> Vec<Result<(), String>> {
        let bases = (self.wtmp.count, self.btmp.count);
        let wtmp = self.wtmp.commit();
        if let Ok(records) = &wtmp {
            for login in records
                .iter()
                .filter(|r| r.kind == RecordKind::UserProcess && !r.user.is_empty())
            {
                if let Err(e) = self.lastlog.set_login(login) {
                    crate::sys::diag::say(format_args!(
                        "wtmpd: warning: {}",
                        self.io_reason("update", &e)
                    ));
                }
            }
        } else {
            self.last_boot_us = self.wtmp.last_boot_us();
        }
        let btmp = self.btmp.commit();
        // Queued for syslog now, sent from the next turn on: after the
        // acknowledgements the loop writes once this returns.
        if let Some(forwarder) = &mut self.syslog {
            if let Ok(records) = &wtmp {
                forwarder.appended(LogDb::Wtmp, bases.0, records, &self.wtmp);
            }
            if let Ok(records) = &btmp {
                forwarder.appended(LogDb::Btmp, bases.1, records, &self.btmp);
            }
        }
        // A login's lastlog update is derived from wtmp (which is already
        // durable), so it is synced within a second by `tick`; only an
        // explicit set or clear waits for its own sync.
        let lastlog = if self.lastlog_waiters {
            self.lastlog_waiters = false;
            self.sync_lastlog()
        } else {
            Ok(())
        };
        vec![wtmp.map(|_| ()), btmp.map(|_| ()), lastlog]
    }

    fn utmps_request_len(&self, op: u8) -> Option<usize> {
        crate::protocol::utmps::wtmpd_request_len(op)
    }

    fn handle_utmps(
        &mut self,
        peer: &Peer,
        _cursor: &mut usize,
        _op: u8,
        payload: &[u8],
    ) -> Response {
        self.utmps_append(peer, payload)
    }

    fn tick(&mut self) -> Duration {
        let now = Instant::now();
        if now >= self.next_housekeeping {
            self.next_housekeeping = now + Duration::from_secs(1);
            if let Err(why) = self.sync_lastlog() {
                crate::sys::diag::say(format_args!("wtmpd: warning: {why}"));
            }
            for db in [LogDb::Wtmp, LogDb::Btmp] {
                if let Some(why) = self.log(db).top_up() {
                    crate::sys::diag::say(format_args!("wtmpd: warning: {why}"));
                }
            }
        }
        let housekeeping = self.next_housekeeping.saturating_duration_since(now);
        match &mut self.syslog {
            Some(f) => f.tick([&self.wtmp, &self.btmp]).min(housekeeping),
            None => housekeeping,
        }
    }

    fn watched_fds(&self) -> Vec<(std::os::fd::RawFd, libc::c_short)> {
        self.syslog
            .as_ref()
            .map_or_else(Vec::new, |f| f.watched_fds())
    }

    fn fd_ready(&mut self, fd: std::os::fd::RawFd) {
        if let Some(f) = &mut self.syslog {
            f.fd_ready(fd, [&self.wtmp, &self.btmp]);
        }
    }

    fn stop(&mut self) {
        if let Some(f) = &mut self.syslog {
            f.stop();
        }
        if let Err(why) = self.sync_lastlog() {
            crate::sys::diag::say(format_args!("wtmpd: warning: {why}"));
        }
    }

    fn reopen(&mut self) {
        for db in [LogDb::Wtmp, LogDb::Btmp] {
            match self.log(db).reopen() {
                Ok(warnings) => {
                    for w in warnings {
                        crate::sys::diag::say(format_args!("wtmpd: warning: {w}"));
                    }
                }
                Err(why) => crate::sys::diag::say(format_args!(
                    "wtmpd: warning: {why}; still using the old file"
                )),
            }
        }
        self.last_boot_us = self.wtmp.last_boot_us().or(self.last_boot_us);
        if let Some(f) = &mut self.syslog {
            f.reopened(LogDb::Wtmp, &self.wtmp);
            f.reopened(LogDb::Btmp, &self.btmp);
        }
    }
}
