//! utmpd's service: the utmp table (current sessions), with pututxline
//! semantics, persisted slot by slot so a restart keeps every session,
//! swept for sessions whose process is gone (their logout goes to wtmpd).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::os::fd::RawFd;

mod forward;
mod import;
mod utmps;

use super::event;
use super::event::{Response, Service};
use super::policy::{self, RateLimiter};
use super::watch::{self, process_alive, process_exists, Opened, PidWatch};
use crate::protocol::{self, op, Reader, Status};
use crate::record::native::{self, FileKind, RECORD_SIZE};
use crate::record::{Record, RecordKind};
use crate::store::files::SlotFile;
use crate::sys::boot;
use crate::sys::peer::Peer;
use forward::Forwarder;

pub struct Options {
    pub file: PathBuf,
    pub wtmpd_socket: PathBuf,
    pub max_slots: usize,
    /// The loop's connection limit (`-c`): pidfds get what it leaves of
    /// the descriptor limit.
    pub max_conns: usize,
    /// Live sessions an unprivileged user may hold at once.
    pub max_sessions_per_uid: usize,
    pub rate: u32,
    /// How often to look for sessions whose process is gone; zero: never.
    pub sweep: Duration,
    pub record_boot: bool,
    pub private: bool,
    pub mode: u32,
    /// A table whose live sessions to take over at start (`--import`).
    pub import: Option<PathBuf>,
}

pub struct Utmpd {
    table: SlotFile,
    opts: Options,
    rates: RateLimiter,
    /// Logouts of swept sessions not yet accepted by wtmpd.
    logouts: VecDeque<Record>,
    next_sweep: Instant,
    next_poll: Instant,
    /// Hands `logouts` to wtmpd without ever blocking the loop.
    forward: Forwarder,
    watch: PidWatch,
    /// Sessions whose process exited, waiting out the grace period.
    exited: Vec<Exited>,
}

struct Exited {
    slot: usize,
    pid: i32,
    at_us: i64,
    check: Instant,
}

/// How long the starter of a session has to record its logout itself.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How often sessions without a pidfd are polled (one kill(pid, 0) each).
const POLL_UNWATCHED: Duration = Duration::from_secs(2);

const MAX_QUEUED_LOGOUTS: usize = 4096;

fn ok(payload: &[u8]) -> Response {
    Response::Now(protocol::frame(Status::Ok as u8, payload))
}

fn err(status: Status, why: impl AsRef<str>) -> Response {
    Response::Now(protocol::error_frame(status, why.as_ref()))
}

fn record_reply(record: &Record) -> Response {
    let mut out = Vec::new();
    match protocol::put_record(&mut out, record) {
        Ok(()) => ok(&out),
        Err(why) => err(Status::Io, why),
    }
}

/// glibc's getutxid: run-level, boot and clock records match on kind;
/// process records match any process record with the same id (or, with
/// no id, the same line).
pub(crate) fn matches_id(template: &Record, entry: &Record) -> bool {
    use RecordKind::*;
    match template.kind {
        RunLevel | BootTime | NewTime | OldTime => entry.kind == template.kind,
        InitProcess | LoginProcess | UserProcess | DeadProcess => {
            matches!(
                entry.kind,
                InitProcess | LoginProcess | UserProcess | DeadProcess
            ) && if template.id.is_empty() {
                entry.line == template.line
            } else {
                entry.id == template.id
            }
        }
        _ => false,
    }
}

impl Utmpd {
    pub fn open(opts: Options) -> Result<(Utmpd, Vec<String>), String> {
        let (table, warnings) = SlotFile::open(&opts.file, FileKind::Utmp, opts.mode)?;
        let fds = event::fd_limit();
        let pidfds = watch::budget(fds, opts.max_conns, opts.max_slots);
        crate::sys::diag::say(format_args!(
            "utmpd: info: descriptor limit {fds}: up to {} connections and {pidfds} session pidfds",
            event::conns_within(fds, opts.max_conns)
        ));
        let mut utmpd = Utmpd {
            table,
            rates: RateLimiter::new(opts.rate),
            logouts: VecDeque::new(),
            next_sweep: Instant::now() + opts.sweep,
            next_poll: Instant::now() + POLL_UNWATCHED,
            forward: Forwarder::new(opts.wtmpd_socket.clone()),
            watch: PidWatch::new(pidfds),
            exited: Vec::new(),
            opts,
        };
        if utmpd.opts.record_boot {
            if let Some(note) = utmpd.record_boot()? {
                crate::sys::diag::say(format_args!("utmpd: info: {note}"));
            }
        }
        if let Some(path) = utmpd.opts.import.clone() {
            let counts = utmpd.import(&path)?;
            import::report(&path, &counts);
        }
        if !utmpd.opts.sweep.is_zero() {
            utmpd.sweep();
            for i in 0..utmpd.table.slots.len() {
                utmpd.watch_slot(i);
            }
        }
        Ok((utmpd, warnings))
    }

    /// Write BOOT_TIME for this boot unless it is already there.
    fn record_boot(&mut self) -> Result<Option<String>, String> {
        let (Some(id), Some(boot_us)) = (boot::boot_id(), boot::boot_time_us()) else {
            return Ok(None);
        };
        let stamp = super::stamp::stamp_path(&self.opts.file);
        let have = self
            .table
            .slots
            .iter()
            .any(|r| r.kind == RecordKind::BootTime && boot::same_boot(r.time_us, boot_us));
        if !have && !super::stamp::stamped(&stamp, &id) {
            self.store(boot::boot_record(boot_us))
                .map_err(|(_, why)| format!("unable to record the boot: {why}"))?;
        }
        let _ = super::stamp::write_stamp(&stamp, &id);
        Ok((!have).then(|| "recorded this boot (BOOT_TIME)".to_string()))
    }

    fn find_id(&self, template: &Record) -> Option<usize> {
        self.table
            .slots
            .iter()
            .position(|entry| matches_id(template, entry))
    }

    fn find_line(&self, line: &[u8]) -> Option<usize> {
        self.table.slots.iter().position(|r| {
            matches!(r.kind, RecordKind::LoginProcess | RecordKind::UserProcess) && r.line == line
        })
    }

    /// pututxline: replace the matching entry, else take a free slot,
    /// else grow the table up to its limit, else reuse a dead entry, and
    /// watch its process. Returns the slot and the stored record, encoded.
    fn store(&mut self, record: Record) -> Result<(usize, [u8; RECORD_SIZE]), (Status, String)> {
        let slots = &self.table.slots;
        let slot = self
            .find_id(&record)
            .or_else(|| slots.iter().position(|r| r.kind == RecordKind::Empty))
            .or_else(|| (slots.len() < self.opts.max_slots).then_some(slots.len()))
            .or_else(|| slots.iter().position(|r| r.kind == RecordKind::DeadProcess))
            .ok_or((
                Status::Limit,
                format!("utmp table full ({} entries)", self.opts.max_slots),
            ))?;
        let bytes = native::encode(&record).map_err(|e| (Status::Invalid, e.to_string()))?;
        self.table
            .write_encoded(slot, record, &bytes)
            .map_err(|e| {
                (
                    Status::Io,
                    format!(
                        "unable to write {}: {}",
                        self.table.path.display(),
                        crate::sys::diag::os_reason(&e)
                    ),
                )
            })?;
        self.watch_slot(slot);
        Ok((slot, bytes))
    }

    /// May an unprivileged write of `record` (its user checked by the
    /// policy) take the room it needs? A user may hold at most
    /// `max_sessions_per_uid` live sessions, and may not take a slot that
    /// is not live yet once the table is within `reserved_slots` of full:
    /// that room is kept for root and the accounting group, so one user
    /// can never lock everyone out of logging in.
    fn unprivileged_room(&self, record: &Record) -> Result<(), String> {
        if !is_session(record) {
            return Ok(());
        }
        let replaced = self.find_id(record).map(|i| &self.table.slots[i]);
        if replaced.is_some_and(|r| is_session(r) && r.user == record.user) {
            // An update of a session already counted.
            return Ok(());
        }
        let slots = &self.table.slots;
        let sessions = slots
            .iter()
            .filter(|r| is_session(r) && r.user == record.user)
            .count();
        if sessions >= self.opts.max_sessions_per_uid {
            return Err(format!(
                "too many sessions for {} (at most {})",
                String::from_utf8_lossy(&record.user),
                self.opts.max_sessions_per_uid
            ));
        }
        if replaced.is_some_and(is_session) {
            // Takes over a live slot (a LOGIN entry): the table keeps its room.
            return Ok(());
        }
        let taken = slots
            .iter()
            .filter(|r| !matches!(r.kind, RecordKind::Empty | RecordKind::DeadProcess))
            .count();
        let reserved = reserved_slots(self.opts.max_slots);
        if taken + reserved >= self.opts.max_slots {
            return Err(format!(
                "utmp table nearly full: the last {reserved} of {} entries are kept for root",
                self.opts.max_slots
            ));
        }
        Ok(())
    }

    fn put(&mut self, peer: &Peer, record: Record) -> Response {
        match self.put_checked(peer, record) {
            Ok((_, stored)) => ok(&stored),
            Err((status, why)) => err(status, why),
        }
    }

    /// One write from either protocol, under the policy, the rate limit,
    /// the quota and the table's rules: the slot written and the record
    /// as stored, encoded.
    fn put_checked(
        &mut self,
        peer: &Peer,
        record: Record,
    ) -> Result<(usize, [u8; RECORD_SIZE]), (Status, String)> {
        if let Err(why) = policy::validate(&record) {
            return Err((Status::Invalid, why));
        }
        let record = if peer.privileged {
            record
        } else {
            let existing = self.find_id(&record).map(|i| &self.table.slots[i]);
            match policy::unprivileged_write(peer, &record, existing, crate::sys::time::now_us()) {
                Ok(record) => record,
                Err(why) => return Err((Status::Denied, why)),
            }
        };
        if !peer.privileged {
            if !self.rates.allow(peer.uid, Instant::now()) {
                return Err((Status::Limit, "too many writes; try again later".into()));
            }
            if let Err(why) = self.unprivileged_room(&record) {
                return Err((Status::Limit, why));
            }
        }
        self.store(record)
    }

    fn list(&self, peer: &Peer) -> Response {
        let mut records: Vec<Record> = self
            .table
            .slots
            .iter()
            .filter(|r| r.kind != RecordKind::Empty)
            .cloned()
            .collect();
        if self.opts.private && !peer.privileged {
            policy::redact(&mut records, peer);
        }
        let mut out = Vec::with_capacity(8 + records.len() * 512);
        protocol::put_bytes16(
            &mut out,
            std::os::unix::ffi::OsStrExt::as_bytes(self.table.path.as_os_str()),
        );
        match protocol::put_records(&mut out, records.iter()) {
            Ok(()) => ok(&out),
            Err(why) => err(Status::Io, why),
        }
    }

    /// Mark dead every session whose process is gone, and queue its logout
    /// for wtmp.
    fn sweep(&mut self) {
        let boot_us = boot::boot_time_us().unwrap_or(0);
        for i in 0..self.table.slots.len() {
            let r = &self.table.slots[i];
            if is_live(r) && !process_alive(r.pid, r.time_us, boot_us) {
                self.end_session(i, crate::sys::time::now_us());
            }
        }
    }

    /// Check the sessions that have no pidfd (past the budget): watch them
    /// if room has freed, else see whether their process still exists.
    fn poll_unwatched(&mut self) {
        for (slot, pid) in self.watch.unwatched() {
            let r = &self.table.slots[slot];
            if !is_live(r) || r.pid != pid {
                self.watch.forget(slot);
                continue;
            }
            let gone = match self.watch.watch(slot, pid) {
                Opened::Watching => false,
                Opened::Gone => true,
                Opened::Unwatched => !process_exists(pid),
            };
            if gone {
                self.process_exited(slot, pid);
            }
        }
    }

    /// The process of the session in `slot` has exited. Whoever started
    /// the session (a login program, `utmpset run`) usually records the
    /// logout itself, with the exit status; utmpd does it only if the entry
    /// is still live after a grace period, with the time the process
    /// really ended.
    fn process_exited(&mut self, slot: usize, pid: i32) {
        self.watch.forget(slot);
        self.exited.push(Exited {
            slot,
            pid,
            at_us: crate::sys::time::now_us(),
            check: Instant::now() + EXIT_GRACE,
        });
    }

    /// Watch the process of slot `i` if it holds a live session; a process
    /// already gone ends the session now.
    fn watch_slot(&mut self, i: usize) {
        let r = &self.table.slots[i];
        if !is_live(r) {
            self.watch.forget(i);
            return;
        }
        if let Opened::Gone = self.watch.watch(i, r.pid) {
            self.end_session(i, crate::sys::time::now_us());
        }
    }

    /// The session in slot `i` has ended at `time_us`: mark it dead and
    /// queue its logout.
    fn end_session(&mut self, i: usize, time_us: i64) {
        self.watch.forget(i);
        let r = &self.table.slots[i];
        let was_user = r.kind == RecordKind::UserProcess;
        let dead = Record {
            kind: RecordKind::DeadProcess,
            pid: r.pid,
            line: r.line.clone(),
            id: r.id.clone(),
            time_us,
            ..Record::default()
        };
        crate::sys::diag::say(format_args!(
            "utmpd: info: session on {} (pid {}) has ended; marked dead",
            String::from_utf8_lossy(&r.line),
            r.pid
        ));
        if let Err(e) = self.table.write(i, dead.clone()) {
            crate::sys::diag::say(format_args!(
                "utmpd: warning: unable to write {}: {}",
                self.table.path.display(),
                crate::sys::diag::os_reason(&e)
            ));
            return;
        }
        if was_user && self.logouts.len() < MAX_QUEUED_LOGOUTS {
            self.logouts.push_back(dead);
        }
    }
}

/// A session entry: a user logged in, or a terminal waiting for one.
fn is_session(r: &Record) -> bool {
    matches!(
        r.kind,
        RecordKind::UserProcess | RecordKind::LoginProcess | RecordKind::InitProcess
    )
}

/// A session entry with a process that can end.
fn is_live(r: &Record) -> bool {
    is_session(r) && r.pid > 0
}

/// Table slots unprivileged writes may not take: a sixteenth of the
/// table, at least 16, at most half (4096 slots: 256 kept).
pub fn reserved_slots(max_slots: usize) -> usize {
    (max_slots / 16).max(16).min(max_slots / 2)
}

impl Service for Utmpd {
    fn name(&self) -> &'static str {
        "utmpd"
    }

    /// utmpd answers from memory (its table writes are not synced per
    /// request), so catching a client's next request without sleeping pays.
    fn spins(&self) -> bool {
        true
    }

    fn handle(&mut self, peer: &Peer, code: u8, payload: &[u8]) -> Response {
        let mut r = Reader::new(payload);
        match code {
            op::UTMP_LIST => match r.end() {
                Ok(()) => self.list(peer),
                Err(why) => Response::Close(protocol::error_frame(Status::BadRequest, why)),
            },
            op::UTMP_GET_ID => match r.record().and_then(|t| r.end().map(|_| t)) {
                Ok(template) => match self.find_id(&template) {
                    Some(i) => self.one(peer, i),
                    None => err(Status::NotFound, "no such entry"),
                },
                Err(why) => Response::Close(protocol::error_frame(Status::BadRequest, why)),
            },
            op::UTMP_GET_LINE => match r.short_bytes().and_then(|l| r.end().map(|_| l)) {
                Ok(line) => match self.find_line(line) {
                    Some(i) => self.one(peer, i),
                    None => err(Status::NotFound, "no such entry"),
                },
                Err(why) => Response::Close(protocol::error_frame(Status::BadRequest, why)),
            },
            op::UTMP_PUT => match r.record().and_then(|t| r.end().map(|_| t)) {
                Ok(record) => self.put(peer, record),
                Err(why) => Response::Close(protocol::error_frame(Status::BadRequest, why)),
            },
            _ => err(
                Status::Unsupported,
                format!("utmpd does not serve request {code:#04x}"),
            ),
        }
    }

    fn commit(&mut self) -> Vec<Result<(), String>> {
        Vec::new()
    }

    fn utmps_request_len(&self, op: u8) -> Option<usize> {
        crate::protocol::utmps::utmpd_request_len(op)
    }

    fn handle_utmps(
        &mut self,
        peer: &Peer,
        cursor: &mut usize,
        op: u8,
        payload: &[u8],
    ) -> Response {
        self.utmps_request(peer, cursor, op, payload)
    }

    fn tick(&mut self) -> Duration {
        let now = Instant::now();
        let (due, waiting): (Vec<Exited>, Vec<Exited>) =
            self.exited.drain(..).partition(|e| now >= e.check);
        self.exited = waiting;
        for e in due {
            let r = &self.table.slots[e.slot];
            if is_live(r) && r.pid == e.pid {
                self.end_session(e.slot, e.at_us);
            }
        }
        if now >= self.next_poll && self.watch.has_unwatched() {
            self.poll_unwatched();
            self.next_poll = now + POLL_UNWATCHED;
        }
        if !self.opts.sweep.is_zero() && now >= self.next_sweep {
            self.sweep();
            self.next_sweep = now + self.opts.sweep;
        }
        self.forward.pump(&mut self.logouts);
        let until_sweep = if self.opts.sweep.is_zero() {
            Duration::from_secs(3600)
        } else {
            self.next_sweep.saturating_duration_since(now)
        };
        // At least every 10 s, so the loop's incident report is timely.
        let mut next = until_sweep.min(Duration::from_secs(10));
        if !self.logouts.is_empty() {
            next = next.min(Duration::from_secs(2));
        }
        // Every 2 s, not just while sessions are polled: one that a
        // request leaves without a pidfd must not wait for a later tick.
        next = next.min(POLL_UNWATCHED);
        if let Some(first) = self.exited.iter().map(|e| e.check).min() {
            next = next.min(first.saturating_duration_since(now));
        }
        next
    }

    fn reopen(&mut self) {}

    fn watched_fds(&self) -> Vec<(RawFd, libc::c_short)> {
        let pidfds = self.watch.fds().into_iter().map(|fd| (fd, libc::POLLIN));
        pidfds.chain(self.forward.polled()).collect()
    }

    /// wtmpd answered, or a session's process exited (its pidfd is
    /// readable).
    fn fd_ready(&mut self, fd: RawFd) {
        if self.forward.owns(fd) {
            self.forward.pump(&mut self.logouts);
        } else if let Some(slot) = self.watch.slot_of(fd) {
            let pid = self.table.slots[slot].pid;
            self.process_exited(slot, pid);
        }
    }
}

impl Utmpd {
    fn one(&self, peer: &Peer, i: usize) -> Response {
        let mut record = self.table.slots[i].clone();
        if self.opts.private && !peer.privileged {
            policy::redact(std::slice::from_mut(&mut record), peer);
        }
        record_reply(&record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: RecordKind, id: &[u8], line: &[u8]) -> Record {
        Record {
            kind,
            id: id.to_vec(),
            line: line.to_vec(),
            ..Record::default()
        }
    }

    #[test]
    fn the_reserve_is_a_sixteenth_within_bounds() {
        assert_eq!(reserved_slots(4096), 256);
        assert_eq!(reserved_slots(200), 16);
        assert_eq!(reserved_slots(40), 16);
        assert_eq!(reserved_slots(20), 10);
        assert_eq!(reserved_slots(1), 0);
    }

    #[test]
    fn getutxid_matching_follows_glibc() {
        use RecordKind::*;
        let user = rec(UserProcess, b"ts/1", b"pts/1");
        assert!(matches_id(&rec(DeadProcess, b"ts/1", b""), &user));
        assert!(matches_id(&rec(LoginProcess, b"ts/1", b"x"), &user));
        assert!(!matches_id(&rec(UserProcess, b"ts/2", b"pts/1"), &user));
        assert!(matches_id(&rec(UserProcess, b"", b"pts/1"), &user));
        assert!(matches_id(
            &rec(BootTime, b"", b""),
            &rec(BootTime, b"~~", b"~")
        ));
        assert!(!matches_id(
            &rec(BootTime, b"", b""),
            &rec(RunLevel, b"~~", b"~")
        ));
        assert!(!matches_id(&rec(Empty, b"ts/1", b""), &user));
    }
}
