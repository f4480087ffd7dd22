//! An append-only history file (wtmp, btmp) with group commit.
//!
//! Appends queue in memory during one turn of the event loop; `commit`
//! writes them with one pwrite and makes them durable with one fdatasync,
//! and only then are the clients answered. At start a torn tail (a partial
//! record, or trailing records whose checksum fails) is cut off, kept in
//! `FILE.torn` for inspection, and reported.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::files;
use crate::cli::os_reason;
use crate::protocol::ReadQuery;
use crate::record::native::{self, FileKind, HEADER_SIZE, RECORD_SIZE};
use crate::record::{Record, RecordKind};

/// Records scanned per read request at most, so one client asking for a
/// rare match cannot hold the event loop for long.
const SCAN_LIMIT: u64 = 4096;
/// Records read from disk at a time when scanning backwards.
const CHUNK: u64 = 64;

pub struct LogFile {
    pub path: PathBuf,
    mode: u32,
    file: File,
    /// Whole records in the file.
    pub count: u64,
    pending: Vec<u8>,
    pending_records: Vec<Record>,
}

impl LogFile {
    pub fn open(path: &Path, mode: u32) -> Result<(LogFile, Vec<String>), String> {
        let (file, count, warnings) = open_and_repair(path, mode)?;
        Ok((
            LogFile {
                path: path.to_path_buf(),
                mode,
                file,
                count,
                pending: Vec::new(),
                pending_records: Vec::new(),
            },
            warnings,
        ))
    }

    /// Reopen by path (after a rotation by rename); queued records stay
    /// queued and go to the new file.
    pub fn reopen(&mut self) -> Result<Vec<String>, String> {
        let (file, count, warnings) = open_and_repair(&self.path, self.mode)?;
        self.file = file;
        self.count = count;
        Ok(warnings)
    }

    pub fn queue(&mut self, record: Record) -> Result<(), String> {
        let bytes = native::encode(&record).map_err(|e| e.to_string())?;
        self.pending.extend_from_slice(&bytes);
        self.pending_records.push(record);
        Ok(())
    }

    /// Write and sync everything queued; the records now on disk. On
    /// failure the file is cut back to where it was and nothing counts.
    pub fn commit(&mut self) -> Result<Vec<Record>, String> {
        if self.pending.is_empty() {
            return Ok(Vec::new());
        }
        let at = native::offset_of(self.count);
        let result = self
            .file
            .write_all_at(&self.pending, at)
            .and_then(|_| self.file.sync_data());
        let records = std::mem::take(&mut self.pending_records);
        let written = std::mem::take(&mut self.pending).len() as u64 / RECORD_SIZE as u64;
        match result {
            Ok(()) => {
                self.count += written;
                Ok(records)
            }
            Err(e) => {
                let _ = self.file.set_len(at);
                Err(format!(
                    "unable to write {}: {}",
                    self.path.display(),
                    os_reason(&e)
                ))
            }
        }
    }

    /// Records before index `query.before`, newest first, that match the
    /// query; and the index to continue from (0 at the start of the file).
    pub fn read_batch(&self, query: &ReadQuery) -> io::Result<(u64, Vec<Record>)> {
        let max = (query.max as usize).clamp(1, crate::protocol::MAX_BATCH);
        let mut end = query.before.min(self.count);
        let floor = end.saturating_sub(SCAN_LIMIT);
        let mut out = Vec::new();
        let mut buf = vec![0u8; CHUNK as usize * RECORD_SIZE];
        while end > floor && out.len() < max {
            let start = end.saturating_sub(CHUNK).max(floor);
            let n = (end - start) as usize;
            let bytes = &mut buf[..n * RECORD_SIZE];
            self.file.read_exact_at(bytes, native::offset_of(start))?;
            let mut index = end;
            for chunk in bytes.chunks_exact(RECORD_SIZE).rev() {
                index -= 1;
                if let Some(record) = native::decode(chunk) {
                    if query.matches(&record) {
                        out.push(record);
                        if out.len() == max {
                            return Ok((index, out));
                        }
                    }
                }
            }
            end = start;
        }
        Ok((end, out))
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
            let (next, found) = self.read_batch(&query).ok()?;
            if let Some(record) = found.into_iter().find(is_boot) {
                return Some(record.time_us);
            }
            if next == 0 {
                return None;
            }
            query.before = next;
        }
        None
    }
}

pub fn is_boot(record: &Record) -> bool {
    record.kind == RecordKind::BootTime || (record.line == b"~" && record.user == b"reboot")
}

/// Open (creating it whole if missing), check the header, cut a torn tail.
fn open_and_repair(path: &Path, mode: u32) -> Result<(File, u64, Vec<String>), String> {
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
            return Ok((file, 0, warnings));
        }
        return Err(format!(
            "{name} is not a native utmpbox history file (convert it with utmpdump, or move it away)"
        ));
    }
    let body = size - HEADER_SIZE as u64;
    let mut count = body / RECORD_SIZE as u64;
    let mut keep = native::offset_of(count);
    // Trailing records that fail their checksum are a torn last write.
    let mut record = vec![0u8; RECORD_SIZE];
    while count > 0 {
        if file
            .read_exact_at(&mut record, native::offset_of(count - 1))
            .is_err()
            || native::decode(&record).is_some()
        {
            break;
        }
        count -= 1;
        keep = native::offset_of(count);
    }
    if keep < size {
        let mut torn = vec![0u8; (size - keep) as usize];
        let _ = file.read_exact_at(&mut torn, keep);
        let mut torn_path = path.as_os_str().to_owned();
        torn_path.push(".torn");
        let saved = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&torn_path)
            .and_then(|mut f| f.write_all(&torn).and_then(|_| f.sync_all()));
        file.set_len(keep)
            .and_then(|_| file.sync_all())
            .map_err(|e| format!("unable to repair {name}: {}", os_reason(&e)))?;
        warnings.push(format!(
            "{name}: repaired a torn tail: cut {} bytes after record {count}{}",
            size - keep,
            match saved {
                Ok(()) => format!(" (kept in {})", PathBuf::from(torn_path).display()),
                Err(_) => String::new(),
            }
        ));
    }
    Ok((file, count, warnings))
}
