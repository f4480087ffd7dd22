//! LOG_READ with filter 64 (`last NAMES` through wtmpd): what `last`
//! needs to pair the sessions of NAMES exactly as it would over the whole
//! history, so it reads on the order of what it prints.
//!
//! `last` ends a login at the next record on its line, whoever it names,
//! and forgets every line at a boot or shutdown (applets/last/report.rs).
//! So a request's reply holds, newest first, of the records in its time
//! window:
//! - each record naming one of NAMES (user or line);
//! - for each such one on a line, the chronologically next record on that
//!   line (the newest one scanned so far: the scan runs newest first);
//! - every record `last` does not pair (boots, shutdowns, run levels,
//!   clock changes, kinds it does not know), by `record::last_kind`;
//! - at the end of the request, the oldest record scanned on each line
//!   since the last boot or shutdown that is not in the reply yet: the
//!   next request starts with nothing scanned, so a named record there
//!   is ended by the record this one leaves for the reader.
//!
//! Memory is one record per line since the last boot or shutdown, within
//! the 4,096 records a request scans; a reply holds at most `max` records.

use std::collections::HashMap;
use std::io;

use super::{Batch, LogFile};
use crate::protocol::{self, ReadQuery};
use crate::record::last_kind::{self, last_kind, line_key, LineHash, LineKey, SHUTDOWN_TIME};
use crate::record::native::{self, RECORD_SIZE};
use crate::record::{c_field, le_i16, le_i32};

/// The newest record scanned on a line in this request.
struct Kept {
    index: u64,
    raw: [u8; RECORD_SIZE],
    /// Already in the reply.
    sent: bool,
}

/// One request's scan: the lines' kept records, and the reply being
/// built (records by index, in the order met; put newest first at the
/// end).
#[derive(Default)]
struct Scan {
    lines: HashMap<LineKey, usize, LineHash>,
    kept: Vec<Kept>,
    picked: Vec<u64>,
    bytes: Vec<u8>,
    /// Kept records not in the reply: each will be, at the latest at the
    /// end, so they count against `max` from the start.
    unsent: usize,
}

impl Scan {
    fn len(&self) -> usize {
        self.picked.len() + self.unsent
    }

    fn pick(&mut self, index: u64, raw: &[u8]) {
        self.picked.push(index);
        self.bytes.extend_from_slice(raw);
    }

    fn pick_kept(&mut self, slot: usize) {
        let kept = &mut self.kept[slot];
        if !kept.sent {
            kept.sent = true;
            self.unsent -= 1;
            self.picked.push(kept.index);
            self.bytes.extend_from_slice(&kept.raw);
        }
    }

    /// One record of the window, newest first.
    fn step(&mut self, names: &[Vec<u8>], index: u64, raw: &[u8]) {
        let line = c_field(&raw[native::LINE..native::LINE + native::LINE_MAX]);
        let user = c_field(&raw[native::USER..native::USER + native::USER_MAX]);
        let kind = last_kind(le_i16(raw, 0), line, user);
        if last_kind::ignored(kind) {
            return;
        }
        if kind != last_kind::LOGIN && kind != last_kind::LOGOUT {
            self.pick(index, raw);
            // `last` forgets every line here: what ends an older login is
            // older than this record.
            let level = le_i32(raw, 4) as u8;
            if kind == SHUTDOWN_TIME || kind == 2 || (kind == 1 && matches!(level, b'0' | b'6')) {
                self.lines.clear();
                self.kept.clear();
                self.unsent = 0;
            }
            return;
        }
        let named = protocol::names(names, user, line);
        if line.is_empty() {
            // `last` pairs nothing on an empty line.
            if named {
                self.pick(index, raw);
            }
            return;
        }
        let key = line_key(line);
        let slot = self.lines.get(&key).copied();
        if named {
            if let Some(slot) = slot {
                self.pick_kept(slot);
            }
            self.pick(index, raw);
        }
        let slot = match slot {
            Some(slot) => {
                if !self.kept[slot].sent {
                    self.unsent -= 1;
                }
                slot
            }
            None => {
                self.lines.insert(key, self.kept.len());
                self.kept.push(Kept {
                    index,
                    raw: [0; RECORD_SIZE],
                    sent: false,
                });
                self.kept.len() - 1
            }
        };
        let kept = &mut self.kept[slot];
        kept.index = index;
        kept.raw.copy_from_slice(raw);
        kept.sent = named;
        if !named {
            self.unsent += 1;
        }
    }

    /// The reply's records, newest first.
    fn finish(mut self, batch: &mut Batch) {
        for slot in 0..self.kept.len() {
            self.pick_kept(slot);
        }
        let mut order: Vec<usize> = (0..self.picked.len()).collect();
        order.sort_unstable_by(|&a, &b| self.picked[b].cmp(&self.picked[a]));
        batch.raw.reserve(order.len() * RECORD_SIZE);
        for at in order {
            batch
                .raw
                .extend_from_slice(&self.bytes[at * RECORD_SIZE..(at + 1) * RECORD_SIZE]);
        }
    }
}

impl LogFile {
    /// `read_batch` for a query with `sessions`; `names` are its `any`.
    pub(super) fn read_sessions(&self, query: &ReadQuery, names: &[Vec<u8>]) -> io::Result<Batch> {
        let max = (query.max as usize).clamp(1, protocol::MAX_BATCH);
        let mut batch = Batch::default();
        let mut scan = Scan::default();
        batch.next = self.scan_back(query.before, &mut batch.corrupt, |index, raw| {
            if query.matches_raw(raw) {
                scan.step(names, index, raw);
            }
            // Each record adds at most one to what the reply will hold,
            // so it never passes `max`.
            scan.len() >= max
        })?;
        scan.finish(&mut batch);
        Ok(batch)
    }
}
