//! An append-only history file (wtmp, btmp) with group commit.
//!
//! Appends queue in memory during one turn of the event loop; `commit`
//! writes them in one write that is durable when it returns (O_DIRECT|
//! O_DSYNC, or pwrite then fdatasync), and only then are the clients
//! answered. At start a torn tail (a partial record, or trailing records
//! whose checksum fails) is cut off, kept in `FILE.torn` for inspection,
//! and reported.
//!
//! The file ends in a reserve of zero records (free space, docs/FORMAT.md)
//! that appends overwrite in place: a durable write that changes the file
//! size makes the filesystem commit its journal, one that overwrites
//! written blocks only needs the data and a cache flush (about 1.4x the
//! rate with one writer on ext4 here). The reserve is real zeros, not
//! fallocate: unwritten extents would need a journal commit on their first
//! write too. The reserve never takes the filesystem's last MARGIN: on a
//! nearly full disk records are appended alone, and only a disk too full
//! for the records themselves refuses them (ENOSPC), nothing acknowledged
//! lost.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::protocol::ReadQuery;
use crate::record::native::{self, FileKind, HEADER_SIZE, RECORD_SIZE};
use crate::record::{Record, RecordKind};
use crate::store::files;
use crate::sys::diag::os_reason;

#[path = "log_sessions.rs"]
mod sessions;

/// Records scanned per read request at most, so one client asking for a
/// rare match cannot hold the event loop for long.
const SCAN_LIMIT: u64 = 4096;
/// Records read from disk at a time when scanning backwards.
const CHUNK: u64 = 64;
/// Alignment and unit of direct writes.
const BLOCK: u64 = 4096;
/// Zero records added at a time when the reserve runs out (512 KiB).
const RESERVE: u64 = 1024;
/// Records written per step when topping the reserve up, so a filesystem
/// filling up midway keeps the steps that went in.
const STEP: u64 = 64;
/// Free space the reserve never takes (1 MiB): on a nearly full
/// filesystem the room goes to records, here and in the other files, not
/// to zeros kept ahead.
const MARGIN: u64 = 1 << 20;

pub struct LogFile {
    pub path: PathBuf,
    mode: u32,
    file: File,
    /// Records in the file (the reserve after them excluded).
    pub count: u64,
    /// Whole record slots in the file: records plus reserve.
    slots: u64,
    /// The file again, O_DIRECT|O_DSYNC, and the bytes from the start of
    /// the block holding the write position up to it: an append that fits
    /// the reserve is one aligned write that is durable when it returns,
    /// with no page cache copy and no separate fdatasync. None where the
    /// filesystem refuses O_DIRECT (tmpfs): then pwrite and fdatasync.
    direct: Option<(File, Vec<u8>)>,
    /// Kept between direct writes so each does not allocate (and, with
    /// musl, map and unmap) an aligned buffer.
    scratch: Vec<u8>,
    pending: Vec<u8>,
    pending_records: Vec<Record>,
}

impl LogFile {
    pub fn open(path: &Path, mode: u32) -> Result<(LogFile, Vec<String>), String> {
        let (file, count, slots, mut warnings) = open_and_repair(path, mode)?;
        let mut log = LogFile {
            path: path.to_path_buf(),
            mode,
            file,
            count,
            slots,
            direct: None,
            scratch: Vec::new(),
            pending: Vec::new(),
            pending_records: Vec::new(),
        };
        log.direct = log.open_direct();
        warnings.extend(log.top_up());
        Ok((log, warnings))
    }

    /// Grow the reserve when less than half of it is left, so appends
    /// seldom pay for growth themselves; called at open and when idle.
    /// Best effort, in steps, and never into the filesystem's last
    /// MARGIN: a failure is only a warning, as `commit` grows the file as
    /// needed.
    pub fn top_up(&mut self) -> Option<String> {
        if self.slots - self.count >= RESERVE / 2 || !self.pending.is_empty() {
            return None;
        }
        let target = self.slots + reserve_room(&self.file, self.count + RESERVE - self.slots, 0);
        let zeros = vec![0u8; STEP as usize * RECORD_SIZE];
        let mut grown = self.slots;
        let mut failed = None;
        while grown < target && failed.is_none() {
            let n = STEP.min(target - grown);
            match self
                .file
                .write_all_at(&zeros[..n as usize * RECORD_SIZE], native::offset_of(grown))
            {
                Ok(()) => grown += n,
                Err(e) => failed = Some(e),
            }
        }
        if grown > self.slots {
            match self.file.sync_data() {
                Ok(()) => self.slots = grown,
                Err(e) => failed = Some(e),
            }
        }
        let e = failed?;
        let _ = self.file.set_len(native::offset_of(self.slots));
        Some(format!(
            "unable to grow {}: {}",
            self.path.display(),
            os_reason(&e)
        ))
    }

    /// The same file (by descriptor, so a rename cannot swap it) opened
    /// for direct synchronous writes, and the current block's head.
    fn open_direct(&self) -> Option<(File, Vec<u8>)> {
        use std::os::fd::AsRawFd;
        let direct = OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT | libc::O_DSYNC)
            .open(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
            .ok()?;
        let at = native::offset_of(self.count);
        let mut head = vec![0u8; (at % BLOCK) as usize];
        self.file.read_exact_at(&mut head, at - at % BLOCK).ok()?;
        Some((direct, head))
    }

    /// Reopen by path (after a rotation by rename); queued records stay
    /// queued and go to the new file.
    pub fn reopen(&mut self) -> Result<Vec<String>, String> {
        let (file, count, slots, warnings) = open_and_repair(&self.path, self.mode)?;
        self.file = file;
        self.count = count;
        self.slots = slots;
        self.direct = self.open_direct();
        Ok(warnings.into_iter().chain(self.top_up()).collect())
    }

    pub fn queue(&mut self, record: Record) -> Result<(), String> {
        let bytes = native::encode(&record).map_err(|e| e.to_string())?;
        self.pending.extend_from_slice(&bytes);
        self.pending_records.push(record);
        Ok(())
    }

    /// Write and sync everything queued; the records now on disk. On
    /// failure the reserve is zeroed back, the file cut back to its old
    /// size, and nothing counts.
    pub fn commit(&mut self) -> Result<Vec<Record>, String> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let at = native::offset_of(self.count);
        let records_len = self.pending.len();
        let written = records_len as u64 / RECORD_SIZE as u64;
        let slots = self.slots;
        // Out of reserve, or about to use its last record: the same write
        // carries a new reserve after the records (as much as the free
        // space allows), and the one fdatasync makes both durable. Using
        // the reserve up exactly would leave a file that ends in a record
        // until the next append or top-up (a rotation could keep it so).
        let extra = if self.count + written >= slots {
            reserve_room(&self.file, RESERVE, records_len as u64)
        } else {
            0
        };
        self.pending
            .resize(records_len + extra as usize * RECORD_SIZE, 0);
        let mut result = self.write_pending(at, slots);
        if extra > 0 && result.as_ref().is_err_and(no_space) {
            // The reserve did not fit after all (a quota, a racing
            // writer): the records alone may.
            self.roll_back(at, slots, self.pending.len());
            self.pending.truncate(records_len);
            result = self.write_pending(at, slots);
        }
        let records = std::mem::take(&mut self.pending_records);
        let bytes = std::mem::take(&mut self.pending);
        match result {
            Ok(()) => {
                self.slots = slots.max(self.count + bytes.len() as u64 / RECORD_SIZE as u64);
                self.count += written;
                if let Some((_, head)) = &mut self.direct {
                    // The new write position's block head, from what was
                    // there and what was just written.
                    let end = native::offset_of(self.count);
                    let keep = (end % BLOCK) as usize;
                    head.extend_from_slice(&bytes[..(end - at) as usize]);
                    head.drain(..head.len() - keep);
                }
                Ok(records)
            }
            Err(e) => {
                self.roll_back(at, slots, bytes.len());
                Err(format!(
                    "unable to write {}: {}",
                    self.path.display(),
                    os_reason(&e)
                ))
            }
        }
    }

    /// Write what is queued at `at` and make it durable: one direct write
    /// when it fits the reserve, else through the page cache.
    fn write_pending(&mut self, at: u64, slots: u64) -> io::Result<()> {
        let written = self.pending.len() as u64 / RECORD_SIZE as u64;
        let direct = match &self.direct {
            Some((file, head)) if self.count + written <= slots => write_direct(
                file,
                &mut self.scratch,
                head,
                &self.pending,
                at,
                native::offset_of(slots),
            ),
            _ => None,
        };
        direct.unwrap_or_else(|| {
            self.file
                .write_all_at(&self.pending, at)
                .and_then(|_| self.file.sync_data())
        })
    }

    /// Undo a failed write of `len` bytes at `at`: nothing of it counts,
    /// so the reserve it overwrote is zeros again (no reader takes the
    /// unacknowledged records as real) and the file is its old size.
    fn roll_back(&self, at: u64, slots: u64, len: usize) {
        let reserve = (slots - self.count) as usize * RECORD_SIZE;
        let _ = self.file.write_all_at(&vec![0u8; len.min(reserve)], at);
        let _ = self.file.set_len(native::offset_of(slots));
    }

    /// Records before index `query.before`, newest first, that match the
    /// query; the index to continue from (0 at the start of the file);
    /// and the indexes of the corrupt records passed over, newest first.
    pub fn read_batch(&self, query: &ReadQuery) -> io::Result<Batch> {
        if let (true, Some(names)) = (query.sessions, &query.any) {
            return self.read_sessions(query, names);
        }
        let max = (query.max as usize).clamp(1, crate::protocol::MAX_BATCH);
        let mut batch = Batch {
            raw: Vec::with_capacity(max.min(SCAN_LIMIT as usize) * RECORD_SIZE),
            ..Batch::default()
        };
        batch.next = self.scan_back(query.before, &mut batch.corrupt, |_, raw| {
            if !query.matches_raw(raw) {
                return false;
            }
            // Served as stored: no decoding and encoding again.
            batch.raw.extend_from_slice(raw);
            batch.raw.len() == max * RECORD_SIZE
        })?;
        Ok(batch)
    }

    /// The records before index `before`, newest first, at most
    /// SCAN_LIMIT of them, read a chunk at a time: the corrupt ones' indexes
    /// go to `corrupt`, the others to `each`, which returns true to stop
    /// there. The index to continue from: the record it stopped at, else
    /// where the walk ended (0 at the start of the file).
    pub(super) fn scan_back(
        &self,
        before: u64,
        corrupt: &mut Vec<u64>,
        mut each: impl FnMut(u64, &[u8]) -> bool,
    ) -> io::Result<u64> {
        let mut end = before.min(self.count);
        let floor = end.saturating_sub(SCAN_LIMIT);
        let mut buf = vec![0u8; CHUNK as usize * RECORD_SIZE];
        while end > floor {
            let start = end.saturating_sub(CHUNK).max(floor);
            let bytes = &mut buf[..(end - start) as usize * RECORD_SIZE];
            self.file.read_exact_at(bytes, native::offset_of(start))?;
            let mut index = end;
            for raw in bytes.chunks_exact(RECORD_SIZE).rev() {
                index -= 1;
                if !native::checksum_ok(raw) {
                    corrupt.push(index);
                } else if each(index, raw) {
                    return Ok(index);
                }
            }
            end = start;
        }
        Ok(end)
    }

    /// Up to `max` records from index `from` on, oldest first, each with
    /// its index and stored checksum (corrupt ones passed over): how
    /// syslog forwarding replays what it has not sent yet.
    /// Records `read_forward` reads at most per call.
    pub const FORWARD_CHUNK: u64 = CHUNK;

    pub fn read_forward(&self, from: u64, max: u64) -> io::Result<Vec<(u64, u32, Record)>> {
        let n = max
            .min(self.count.saturating_sub(from))
            .min(Self::FORWARD_CHUNK);
        let mut bytes = vec![0u8; n as usize * RECORD_SIZE];
        self.file
            .read_exact_at(&mut bytes, native::offset_of(from))?;
        Ok(bytes
            .chunks_exact(RECORD_SIZE)
            .zip(from..)
            .filter_map(|(raw, index)| {
                let record = native::decode(raw)?;
                Some((index, native::stored_crc(raw), record))
            })
            .collect())
    }

    /// Which file this is (its inode), to tell a rotated file from the
    /// one a saved position was in.
    pub fn inode(&self) -> u64 {
        use std::os::unix::fs::MetadataExt;
        self.file.metadata().map_or(0, |m| m.ino())
    }

    /// The time of the newest boot record, looking back a bounded way.
    pub fn last_boot_us(&self) -> Option<i64> {
        let mut query = ReadQuery {
            before: u64::MAX,
            max: 1,
            ..ReadQuery::default()
        };
        query.line = Some(b"~".to_vec());
        query.user = Some(b"reboot".to_vec());
        for _ in 0..8 {
            let batch = self.read_batch(&query).ok()?;
            if let Some(record) = batch.records().into_iter().find(is_boot) {
                return Some(record.time_us);
            }
            if batch.next == 0 {
                return None;
            }
            query.before = batch.next;
        }
        None
    }
}

/// One answer to a history read (`read_batch`).
#[derive(Default)]
pub struct Batch {
    pub next: u64,
    /// The records found, newest first, in their native bytes.
    pub raw: Vec<u8>,
    pub corrupt: Vec<u64>,
}

impl Batch {
    /// How many records were found.
    pub fn count(&self) -> usize {
        self.raw.len() / RECORD_SIZE
    }

    /// The records found, decoded.
    pub fn records(&self) -> Vec<Record> {
        self.raw
            .chunks_exact(RECORD_SIZE)
            .filter_map(native::decode)
            .collect()
    }
}

/// Reserve records (up to `want`) that fit in the free space of `file`'s
/// filesystem once `records` more bytes are written, leaving MARGIN.
fn reserve_room(file: &File, want: u64, records: u64) -> u64 {
    let Ok(st) = nix::sys::statvfs::fstatvfs(file) else {
        return 0;
    };
    let free = (st.blocks_available() as u64).saturating_mul(st.fragment_size() as u64);
    (free.saturating_sub(MARGIN + records) / RECORD_SIZE as u64).min(want)
}

/// A write that failed for want of room (disk, quota, file size limit).
fn no_space(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EFBIG)
    )
}

pub fn is_boot(record: &Record) -> bool {
    record.kind == RecordKind::BootTime || (record.line == b"~" && record.user == b"reboot")
}

/// Write `head` and `records` from the block start before `at`, padded
/// with the reserve's zeros to whole blocks, in one O_DIRECT|O_DSYNC
/// write; None (use the page cache) when the blocks reach past `limit`,
/// the file's end, since a direct write there would change its size.
fn write_direct(
    file: &File,
    raw: &mut Vec<u8>,
    head: &[u8],
    records: &[u8],
    at: u64,
    limit: u64,
) -> Option<io::Result<()>> {
    let start = at - head.len() as u64;
    let end = (at + records.len() as u64).div_ceil(BLOCK) * BLOCK;
    if end > limit || start % BLOCK != 0 {
        return None;
    }
    let len = (end - start) as usize;
    raw.clear();
    raw.resize(len + BLOCK as usize, 0);
    let skip = raw.as_ptr().align_offset(BLOCK as usize);
    let buf = raw.get_mut(skip..skip + len)?;
    buf[..head.len()].copy_from_slice(head);
    buf[head.len()..head.len() + records.len()].copy_from_slice(records);
    Some(file.write_all_at(buf, start))
}

/// Open (creating it whole if missing), check the header, cut a torn tail.
fn open_and_repair(path: &Path, mode: u32) -> Result<(File, u64, u64, Vec<String>), String> {
    let name = path.display();
    let mut warnings = Vec::new();
    let file = match files::open_rw(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            files::create_native(path, FileKind::Log, mode)
                .map_err(|e| format!("unable to create {name}: {}", os_reason(&e)))?
        }
        Err(e) => return Err(format!("unable to open {name}: {}", os_reason(&e))),
    };
    let size = file
        .metadata()
        .map_err(|e| format!("unable to stat {name}: {}", os_reason(&e)))?
        .len();
    let mut header = [0u8; HEADER_SIZE];
    let header_ok = size >= HEADER_SIZE as u64
        && file.read_exact_at(&mut header, 0).is_ok()
        && native::parse_header(&header) == Ok(FileKind::Log);
    if !header_ok {
        // A file shorter than a header that is a prefix of one is a
        // creation cut short; anything else is not ours to touch.
        let mut head = vec![0u8; size.min(HEADER_SIZE as u64) as usize];
        let _ = file.read_exact_at(&mut head, 0);
        if size < HEADER_SIZE as u64 && native::header(FileKind::Log).starts_with(&head) {
            warnings.push(format!("{name}: completed a header cut short"));
            drop(file);
            let file = files::create_native(path, FileKind::Log, mode)
                .map_err(|e| format!("unable to create {name}: {}", os_reason(&e)))?;
            return Ok((file, 0, 0, warnings));
        }
        return Err(format!(
            "{name} is not a native utmpbox history file (convert it with utmpdump, or move it away)"
        ));
    }
    let body = size - HEADER_SIZE as u64;
    let slots = body / RECORD_SIZE as u64;
    // The reserve: zero records at the end are free space, not records.
    let mut record = vec![0u8; RECORD_SIZE];
    let mut end = slots;
    while end > 0 {
        if file
            .read_exact_at(&mut record, native::offset_of(end - 1))
            .is_err()
            || !native::is_zero(&record)
        {
            break;
        }
        end -= 1;
    }
    // Trailing records that fail their checksum are a torn last write;
    // so is a partial record at the very end.
    let mut count = end;
    while count > 0 {
        if file
            .read_exact_at(&mut record, native::offset_of(count - 1))
            .is_err()
            || native::decode(&record).is_some()
        {
            break;
        }
        count -= 1;
    }
    let whole = native::offset_of(slots);
    let torn_records = native::offset_of(end) - native::offset_of(count);
    if count < end || whole < size {
        let keep = native::offset_of(count);
        let mut torn = vec![0u8; torn_records as usize];
        let _ = file.read_exact_at(&mut torn, keep);
        let mut partial = vec![0u8; (size - whole) as usize];
        let _ = file.read_exact_at(&mut partial, whole);
        torn.extend_from_slice(&partial);
        let mut torn_path = path.as_os_str().to_owned();
        torn_path.push(".torn");
        let torn_path = PathBuf::from(torn_path);
        let saved = files::open_append(&torn_path, 0o600)
            .and_then(|mut f| f.write_all(&torn).and_then(|_| f.sync_all()));
        // Torn records inside the file become reserve again (zeros); a
        // partial record after the last slot is cut off.
        file.write_all_at(&vec![0u8; torn_records as usize], keep)
            .and_then(|_| file.set_len(whole))
            .and_then(|_| file.sync_all())
            .map_err(|e| format!("unable to repair {name}: {}", os_reason(&e)))?;
        warnings.push(format!(
            "{name}: repaired a torn tail: cut {} bytes after record {count}{}",
            torn.len(),
            match saved {
                Ok(()) => format!(" (kept in {})", torn_path.display()),
                Err(e) => format!(
                    " (unable to keep it in {}: {})",
                    torn_path.display(),
                    os_reason(&e)
                ),
            }
        ));
    }
    Ok((file, count, slots, warnings))
}
