//! `wtmpd --syslog TARGET`: every record appended to wtmp or btmp goes to
//! each target as one syslog message (docs/SYSLOG.md), after it is durable
//! and acknowledged, without ever holding up the event loop.
//!
//! Each target has its own bounded queue of formatted messages. A record
//! committed while the target is caught up (it has queued everything
//! before it) is queued at once, or dropped and counted when the queue is
//! full. A target that is behind (after a restart, or a rotation) is fed
//! from the file itself as its queue drains, never more than a queue's
//! worth at a time: the file is the backlog.
//!
//! How far each target got (the index after the last record it took, per
//! file, with the file's inode) is kept in `WTMP.syslog`, replaced by
//! rename once a second when it moved, without fsync. After a restart each
//! target resends from there: at least once, never knowingly skipped
//! unless dropped.

use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::daemon::log_store::LogFile;
use crate::protocol::{LogDb, ReadQuery};
use crate::record::{native, Record};

pub mod format;
pub mod target;

use format::{Context, Format, Origin};
use target::{Sent, Spec, Target};

/// Messages a target's queue holds at most, by default (about 2 MiB at
/// the ~500 bytes of a typical message).
pub const QUEUE_DEFAULT: usize = 4096;
/// How often dropped messages are reported, at most.
const REPORT_EVERY: Duration = Duration::from_secs(60);
/// Records read from the files per refill and target at most.
const REFILL: usize = 256;
/// How often the replay state is saved when it moved.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// What `--syslog`, `--syslog-format` and `--syslog-queue` ask for.
pub struct Options {
    pub targets: Vec<Spec>,
    pub format: Format,
    pub queue: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            targets: Vec::new(),
            format: Format::Rfc5424,
            queue: QUEUE_DEFAULT,
        }
    }
}

struct Queued {
    db: usize,
    /// The file's generation (a rotation starts a new one) and index.
    generation: u32,
    index: u64,
    message: Vec<u8>,
}

struct Feed {
    target: Target,
    queue: VecDeque<Queued>,
    /// Per file: the next index to queue, and one past the newest index
    /// forwarded (what the state file keeps).
    next: [u64; 2],
    forwarded: [u64; 2],
    dropped: u64,
    unreported: u64,
    /// Records wait in the files: the socket is polled for writing even
    /// with the queue empty, so the backlog flows at the receiver's pace
    /// rather than a refill per tick.
    behind: bool,
}

pub struct Forwarder {
    feeds: Vec<Feed>,
    ctx: Context,
    capacity: usize,
    state_path: PathBuf,
    mode: u32,
    generation: [u32; 2],
    inode: [u64; 2],
    dirty: bool,
    next_save: Instant,
    next_report: Instant,
}

fn slot(db: LogDb) -> usize {
    match db {
        LogDb::Wtmp => 0,
        LogDb::Btmp => 1,
    }
}

/// `Mmm dd hh:mm:ss` in local time, as RFC 3164 has it.
fn local_stamp(secs: i64) -> Vec<u8> {
    match crate::sys::time::local(secs) {
        Some(tm) => crate::sys::time::strftime(c"%b %e %H:%M:%S", &tm),
        None => b"Jan  1 00:00:00".to_vec(),
    }
}

fn hostname() -> Vec<u8> {
    let name = nix::sys::utsname::uname()
        .map(|u| u.nodename().as_encoded_bytes().to_vec())
        .unwrap_or_default();
    // RFC 5424's HOSTNAME: 1 to 255 printable ASCII characters.
    if name.is_empty() || name.len() > 255 || !name.iter().all(u8::is_ascii_graphic) {
        b"-".to_vec()
    } else {
        name
    }
}

/// Was the boot before index `index` never shut down? The newest boot or
/// shutdown record before it says, looked for a bounded way back.
fn after_crash(log: &LogFile, index: u64) -> bool {
    let mut query = ReadQuery {
        before: index,
        max: 64,
        ..ReadQuery::default()
    };
    query.line = Some(b"~".to_vec());
    for _ in 0..8 {
        let Ok(batch) = log.read_batch(&query) else {
            return false;
        };
        for r in batch.records() {
            if format::is_boot(&r) {
                return true;
            }
            if r.kind == crate::record::RecordKind::RunLevel && r.user == b"shutdown" {
                return false;
            }
        }
        if batch.next == 0 {
            return false;
        }
        query.before = batch.next;
    }
    false
}

/// The saved positions: per target text, per file (inode, next index).
fn load_state(bytes: &[u8]) -> Vec<(String, [(u64, u64); 2])> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|line| {
            let mut parts = line.splitn(5, ' ');
            let mut num = || parts.next()?.parse::<u64>().ok();
            let (a, b, c, d) = (num()?, num()?, num()?, num()?);
            Some((parts.next()?.to_string(), [(a, b), (c, d)]))
        })
        .collect()
}

impl Forwarder {
    /// Start from the saved positions; a target without one starts at the
    /// end of the files (history from before it was configured is not
    /// sent), a file that is not the one saved from its start.
    pub fn open(opts: Options, state_path: PathBuf, mode: u32, logs: [&LogFile; 2]) -> Forwarder {
        let saved = crate::store::files::read_small(&state_path, 1 << 20)
            .map(|b| load_state(&b))
            .unwrap_or_default();
        let inode = [logs[0].inode(), logs[1].inode()];
        let feeds = opts
            .targets
            .into_iter()
            .map(|spec| {
                let mut next = [logs[0].count, logs[1].count];
                if let Some((_, pos)) = saved.iter().find(|(t, _)| *t == spec.text) {
                    for db in 0..2 {
                        next[db] = if pos[db].0 == inode[db] {
                            pos[db].1.min(logs[db].count)
                        } else {
                            0
                        };
                    }
                }
                Feed {
                    target: Target::new(spec),
                    queue: VecDeque::new(),
                    next,
                    forwarded: next,
                    dropped: 0,
                    unreported: 0,
                    behind: true,
                }
            })
            .collect();
        let boot_id = crate::sys::boot::boot_id();
        Forwarder {
            feeds,
            ctx: Context {
                format: opts.format,
                hostname: hostname(),
                pid: std::process::id(),
                boot_id,
                boot_us: crate::sys::boot::boot_time_us().unwrap_or(i64::MAX),
                local_stamp,
            },
            capacity: opts.queue.max(1),
            state_path,
            mode,
            generation: [0; 2],
            inode,
            dirty: true,
            next_save: Instant::now(),
            next_report: Instant::now() + REPORT_EVERY,
        }
    }

    fn message(&self, db: usize, index: u64, crc: u32, record: &Record, log: &LogFile) -> Vec<u8> {
        let msgid = format::msgid(db == 1, index, crc);
        let origin = Origin {
            btmp: db == 1,
            msgid: &msgid,
            after_crash: db == 0 && format::is_boot(record) && after_crash(log, index),
        };
        let mut out = Vec::with_capacity(512);
        format::message(record, &origin, &self.ctx, &mut out);
        out
    }

    /// `records` were just made durable in `db` at indexes from `base`:
    /// queue them for every target that is caught up.
    pub fn appended(&mut self, db: LogDb, base: u64, records: &[Record], log: &LogFile) {
        let db = slot(db);
        if records.is_empty() || !self.feeds.iter().any(|f| f.next[db] == base) {
            return;
        }
        for (index, record) in (base..).zip(records) {
            // Formatted only if some queue takes it: a receiver that is
            // gone costs an append only the count of its drop.
            let mut message = None;
            for i in 0..self.feeds.len() {
                let feed = &mut self.feeds[i];
                if feed.next[db] != index {
                    continue;
                }
                feed.next[db] = index + 1;
                if feed.queue.len() >= self.capacity {
                    feed.dropped += 1;
                    feed.unreported += 1;
                    continue;
                }
                let message = message
                    .get_or_insert_with(|| {
                        let crc = native::encode(record).map_or(0, |raw| native::stored_crc(&raw));
                        self.message(db, index, crc, record, log)
                    })
                    .clone();
                self.feeds[i].queue.push_back(Queued {
                    db,
                    generation: self.generation[db],
                    index,
                    message,
                });
            }
        }
    }

    /// Feed targets that are behind from the files once their queues are
    /// half empty: up to REFILL records per call, so one call reads at
    /// most 128 KiB while clients wait (the next send calls again).
    fn refill(&mut self, logs: [&LogFile; 2]) {
        let half = (self.capacity / 2).max(1);
        for i in 0..self.feeds.len() {
            if self.capacity - self.feeds[i].queue.len().min(self.capacity) < half {
                continue;
            }
            let mut budget = REFILL;
            let mut failed = false;
            for db in 0..2 {
                loop {
                    let room =
                        (self.capacity - self.feeds[i].queue.len().min(self.capacity)).min(budget);
                    let from = self.feeds[i].next[db];
                    if room == 0 || from >= logs[db].count {
                        break;
                    }
                    let records = match logs[db].read_forward(from, room as u64) {
                        Ok(r) => r,
                        Err(e) => {
                            crate::sys::diag::say(format_args!(
                                "wtmpd: warning: syslog: unable to read {}: {}",
                                logs[db].path.display(),
                                crate::sys::diag::os_reason(&e)
                            ));
                            // Tried again at the next tick, not in a
                            // loop on a writable socket.
                            failed = true;
                            break;
                        }
                    };
                    // read_forward reads at most this many; the corrupt
                    // ones among them are passed over.
                    let next = (from + room as u64)
                        .min(logs[db].count)
                        .min(from + LogFile::FORWARD_CHUNK);
                    budget -= (next - from) as usize;
                    for (index, crc, record) in records {
                        let message = self.message(db, index, crc, &record, logs[db]);
                        self.feeds[i].queue.push_back(Queued {
                            db,
                            generation: self.generation[db],
                            index,
                            message,
                        });
                    }
                    self.feeds[i].next[db] = next;
                }
            }
            let next = self.feeds[i].next;
            self.feeds[i].behind = !failed && (0..2).any(|db| next[db] < logs[db].count);
        }
    }

    /// Send what each target will take now.
    fn flush(&mut self) {
        for feed in &mut self.feeds {
            while let Some(front) = feed.queue.front() {
                match feed.target.send(&front.message) {
                    Sent::Later => break,
                    Sent::Never => {
                        feed.dropped += 1;
                        feed.unreported += 1;
                    }
                    Sent::Whole => {
                        if front.generation == self.generation[front.db] {
                            let f = &mut feed.forwarded[front.db];
                            *f = (*f).max(front.index + 1);
                            self.dirty = true;
                        }
                    }
                }
                feed.queue.pop_front();
            }
        }
    }

    pub fn watched_fds(&self) -> Vec<(RawFd, libc::c_short)> {
        self.feeds
            .iter()
            .filter_map(|f| f.target.poll_fd(f.behind || !f.queue.is_empty()))
            .collect()
    }

    pub fn fd_ready(&mut self, fd: RawFd, logs: [&LogFile; 2]) {
        if let Some(feed) = self.feeds.iter_mut().find(|f| f.target.owns(fd)) {
            feed.target.ready();
        }
        self.flush();
        self.refill(logs);
        self.flush();
    }

    /// Periodic work: reconnect, feed, send, report drops, save the
    /// positions; how long until it wants to run again.
    pub fn tick(&mut self, logs: [&LogFile; 2]) -> Duration {
        let now = Instant::now();
        for feed in &mut self.feeds {
            feed.target.poke(now);
        }
        self.refill(logs);
        self.flush();
        if now >= self.next_report {
            self.next_report = now + REPORT_EVERY;
            self.report_drops();
        }
        if now >= self.next_save {
            self.save();
        }
        let save = if self.dirty {
            self.next_save
        } else {
            now + SAVE_EVERY
        };
        let retry = self.feeds.iter().filter_map(|f| f.target.retry_at());
        let wake = retry.fold(save, Instant::min);
        wake.saturating_duration_since(now)
            .max(Duration::from_millis(1))
    }

    /// One line per target that dropped messages since the last report.
    fn report_drops(&mut self) {
        for feed in self.feeds.iter_mut().filter(|f| f.unreported > 0) {
            crate::sys::diag::say(format_args!(
                "wtmpd: warning: syslog {}: dropped {} records (queue full at {}); {} since start",
                feed.target.spec.text, feed.unreported, self.capacity, feed.dropped
            ));
            feed.unreported = 0;
        }
    }

    /// Replace the state file if anything moved.
    pub fn save(&mut self) {
        if !self.dirty || self.feeds.is_empty() {
            return;
        }
        let mut out = String::from(
            "# wtmpd syslog positions: WTMP_INODE WTMP_NEXT BTMP_INODE BTMP_NEXT TARGET\n",
        );
        for feed in &self.feeds {
            out.push_str(&format!(
                "{} {} {} {} {}\n",
                self.inode[0],
                feed.forwarded[0],
                self.inode[1],
                feed.forwarded[1],
                feed.target.spec.text
            ));
        }
        match crate::store::files::replace(&self.state_path, out.as_bytes(), self.mode) {
            Ok(()) => self.dirty = false,
            Err(e) => crate::sys::diag::say(format_args!(
                "wtmpd: warning: syslog: unable to write {}: {}",
                self.state_path.display(),
                crate::sys::diag::os_reason(&e)
            )),
        }
        self.next_save = Instant::now() + SAVE_EVERY;
    }

    /// `db`'s file was replaced (SIGHUP after a rotation): its records
    /// still queued are sent but no longer counted in the state, and the
    /// new file is followed from its current end.
    pub fn reopened(&mut self, db: LogDb, log: &LogFile) {
        let db = slot(db);
        let inode = log.inode();
        if inode == self.inode[db] {
            return;
        }
        self.inode[db] = inode;
        self.generation[db] = self.generation[db].wrapping_add(1);
        for feed in &mut self.feeds {
            feed.next[db] = log.count;
            feed.forwarded[db] = log.count;
        }
        self.dirty = true;
        self.save();
    }

    /// Messages dropped since start and messages waiting, over all
    /// targets (LOG_STAT).
    pub fn counts(&self) -> (u64, u64) {
        self.feeds.iter().fold((0, 0), |(d, q), f| {
            (d + f.dropped, q + f.queue.len() as u64)
        })
    }

    /// SIGTERM: send what goes without waiting, and save the positions.
    pub fn stop(&mut self) {
        self.flush();
        self.report_drops();
        self.dirty = true;
        self.save();
    }
}
