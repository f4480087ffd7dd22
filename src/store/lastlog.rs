//! Reading and writing lastlog files, one user's slot at a time.
//!
//! - `LastlogStore`: the native lastlog (a native file of
//!   `FileKind::Lastlog`), one 512-byte record per user keyed by the user
//!   name (docs/FORMAT.md). A slot is found through an index built by one
//!   scan at open, then rewritten in place with `pwrite`; a new user takes
//!   a free slot or a new one. The one implementation: wtmpd opens it with
//!   `open_repaired` and owns the writes; the `lastlog` applet reads it
//!   (and writes it with `-S`/`-C` when no wtmpd answers) with `open`.
//! - `LegacyLastlog`: the glibc (292-byte) and musl (296-byte) files indexed
//!   by uid. Entries are read with `pread` at `uid * size`, never by reading
//!   the file, because the file is sparse and a uid of 4,000,000,000 puts
//!   its apparent end past a terabyte.

use crate::sys::hash::Map;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::record::lastlog::{self as legacy, LastlogLayout};
use crate::record::native::{self, FileKind, HEADER_SIZE, RECORD_SIZE};
use crate::record::{FormatError, Record, RecordKind};
use crate::store::files;
use crate::sys::diag::os_reason;
use crate::sys::infile::read_full_at;

/// How to open a lastlog file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    Read,
    /// Read and write an existing file.
    Write,
}

/// Open for `access`. `nofollow` for the native files, which live in a
/// directory the daemon owns: never follow a link someone planted there.
/// The legacy file is opened as shadow opens it (links followed).
/// Only a regular file is opened (`infile`): a FIFO or a device named as
/// the lastlog would block the reader or feed it forever.
fn open(path: &Path, access: Access, nofollow: bool) -> io::Result<File> {
    let mut flags = 0;
    if nofollow && access != Access::Read {
        flags |= libc::O_NOFOLLOW;
    }
    crate::sys::infile::open_with(path, access != Access::Read, flags)
}

fn invalid(e: FormatError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// Read every slot of a native file in order, in batches, handing each to
/// `each` (None for a corrupt one). Returns the number of whole slots and
/// the bytes of a torn record after them.
fn scan(file: &File, mut each: impl FnMut(u64, Option<Record>)) -> io::Result<(u64, u64)> {
    const BATCH: usize = 128;
    let mut buf = vec![0u8; RECORD_SIZE * BATCH];
    let mut slot = 0u64;
    loop {
        let got = read_full_at(file, &mut buf, native::offset_of(slot))?;
        for chunk in buf[..got].chunks_exact(RECORD_SIZE) {
            each(slot, native::decode(chunk));
            slot += 1;
        }
        if got < buf.len() {
            return Ok((slot, (got % RECORD_SIZE) as u64));
        }
    }
}

/// The native lastlog: one record per user name.
///
/// A cleared entry (`lastlog -C`) is the user's slot rewritten with time 0
/// and empty line and host, as shadow writes a zero record: readers print
/// it as never logged in. A slot without a user name (what earlier
/// versions left on clear, or a corrupt slot the daemon emptied) is free
/// and taken by the next new user before the file grows.
pub struct LastlogStore {
    file: File,
    path: PathBuf,
    /// User name to slot index.
    index: Map<Vec<u8>, u64>,
    /// Whole records in the file; a new user goes in slot `slots`, over
    /// any torn partial record at the end, when no slot is free.
    slots: u64,
    /// Bytes of a torn record after the last whole one.
    partial: u64,
    /// Free slots, ascending (a sorted Vec: a BTreeSet would add 4 KB of
    /// code to the tiny build for a set that is usually empty).
    free: Vec<u64>,
    corrupt: Vec<u64>,
    /// Written since the last `sync`.
    dirty: bool,
}

impl LastlogStore {
    /// Open an existing native lastlog and index its slots. A file that is
    /// not a native lastlog is `InvalidData`. Corrupt slots are reported
    /// (`corrupt`) and left as they are.
    pub fn open(path: &Path, access: Access) -> io::Result<LastlogStore> {
        let file = open(path, access, true)?;
        LastlogStore::index(file, path)
    }

    /// Open for the daemon that owns the file: create it (whole, see
    /// `files::create_native`) when missing, set aside a file that is not a
    /// native lastlog, empty corrupt slots (they become free) and cut a
    /// torn record at the end. The warnings say what was repaired.
    pub fn open_repaired(path: &Path, mode: u32) -> Result<(LastlogStore, Vec<String>), String> {
        let name = path.display();
        let reason =
            |what: &str, e: io::Error| format!("unable to {what} {name}: {}", os_reason(&e));
        let mut warnings = Vec::new();
        let existing = match files::open_rw(path) {
            Ok(file) => match LastlogStore::index(file, path) {
                Ok(store) => Some(store),
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    let aside = files::set_aside(path).map_err(|e| reason("set aside", e))?;
                    warnings.push(format!(
                        "{name} is not a native lastlog file; moved it to {}",
                        aside.display()
                    ));
                    None
                }
                Err(e) => return Err(reason("read", e)),
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(reason("open", e)),
        };
        let mut store = match existing {
            Some(store) => store,
            None => files::create_native(path, FileKind::Lastlog, mode)
                .and_then(|file| LastlogStore::index(file, path))
                .map_err(|e| reason("create", e))?,
        };
        let empty = native::encode(&Record::default()).map_err(|e| e.to_string())?;
        for slot in std::mem::take(&mut store.corrupt) {
            warnings.push(format!("{name}: slot {slot} was corrupt; emptied it"));
            store
                .file
                .write_all_at(&empty, native::offset_of(slot))
                .map_err(|e| reason("repair", e))?;
            if let Err(at) = store.free.binary_search(&slot) {
                store.free.insert(at, slot);
            }
            store.dirty = true;
        }
        if store.partial != 0 {
            warnings.push(format!(
                "{name}: cut a partial slot of {} bytes at the end",
                store.partial
            ));
            store
                .file
                .set_len(native::offset_of(store.slots))
                .map_err(|e| reason("repair", e))?;
            store.partial = 0;
            store.dirty = true;
        }
        Ok((store, warnings))
    }

    /// Check the header of `file` and index its slots.
    fn index(file: File, path: &Path) -> io::Result<LastlogStore> {
        let mut header = [0u8; HEADER_SIZE];
        let got = read_full_at(&file, &mut header, 0)?;
        match native::parse_header(&header[..got]) {
            Ok(FileKind::Lastlog) => {}
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "not a lastlog file (another native file kind)",
                ))
            }
            Err(e) => return Err(invalid(e)),
        }
        let mut index = Map::default();
        // Scanned in slot order, so pushed ascending.
        let mut free = Vec::new();
        let mut corrupt = Vec::new();
        let (slots, partial) = scan(&file, |slot, record| match record {
            // The first slot of a name is the one kept up to date.
            Some(record) if !record.user.is_empty() => {
                index.entry(record.user).or_insert(slot);
            }
            Some(_) => free.push(slot),
            None => corrupt.push(slot),
        })?;
        let store = LastlogStore {
            file,
            path: path.to_path_buf(),
            index,
            slots,
            partial,
            free,
            corrupt,
            dirty: false,
        };
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Slots whose checksum failed; they are never read as records.
    pub fn corrupt(&self) -> &[u64] {
        &self.corrupt
    }

    /// The stored record of `user`, if any (a cleared one has time 0).
    pub fn get(&self, user: &[u8]) -> io::Result<Option<Record>> {
        let Some(&slot) = self.index.get(user) else {
            return Ok(None);
        };
        let mut buf = [0u8; RECORD_SIZE];
        let got = read_full_at(&self.file, &mut buf, native::offset_of(slot))?;
        // Changed under us (only the daemon writes, so this is damage):
        // say nothing rather than misread.
        Ok(native::decode(&buf[..got]).filter(|r| r.user == user))
    }

    /// Every user's record (cleared ones included), in slot order: what
    /// `get` returns for each name.
    pub fn list(&self) -> io::Result<Vec<Record>> {
        let mut records = Vec::with_capacity(self.index.len());
        scan(&self.file, |slot, record| {
            if let Some(record) = record {
                if self.index.get(&record.user) == Some(&slot) {
                    records.push(record);
                }
            }
        })?;
        Ok(records)
    }

    /// Store `record` in the slot of `record.user`; a user seen for the
    /// first time takes a free slot, else one appended. Returns the slot
    /// index. Not synced: call `sync` once after a batch.
    pub fn put(&mut self, record: &Record) -> io::Result<u64> {
        if record.user.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a lastlog record needs a user name",
            ));
        }
        let bytes = native::encode(record).map_err(invalid)?;
        let slot = match self.index.get(&record.user) {
            Some(&slot) => slot,
            None => self.free.first().copied().unwrap_or(self.slots),
        };
        self.file.write_all_at(&bytes, native::offset_of(slot))?;
        self.dirty = true;
        if slot == self.slots {
            self.slots += 1;
            self.partial = 0;
        }
        if !self.index.contains_key(&record.user) {
            if let Ok(at) = self.free.binary_search(&slot) {
                self.free.remove(at);
            }
            self.index.insert(record.user.clone(), slot);
        }
        Ok(slot)
    }

    /// Record `login` (a wtmp USER_PROCESS record) as its user's latest.
    pub fn set_login(&mut self, login: &Record) -> io::Result<u64> {
        self.put(&Record {
            kind: RecordKind::UserProcess,
            exit: Default::default(),
            ..login.clone()
        })
    }

    /// Clear `user`'s entry: its slot keeps the name, with time 0 and
    /// empty line and host. False, and nothing written, when the user has
    /// no slot (never logged in already).
    pub fn clear(&mut self, user: &[u8]) -> io::Result<bool> {
        if !self.index.contains_key(user) {
            return Ok(false);
        }
        self.put(&Record {
            kind: RecordKind::UserProcess,
            user: user.to_vec(),
            ..Record::default()
        })?;
        Ok(true)
    }

    /// Make what was written durable; nothing to do when nothing was.
    pub fn sync(&mut self) -> io::Result<()> {
        if self.dirty {
            self.file.sync_data()?;
            self.dirty = false;
        }
        Ok(())
    }
}

/// A legacy lastlog file: entry `uid` at `uid * size`.
pub struct LegacyLastlog {
    file: File,
    len: u64,
    layout: LastlogLayout,
}

impl LegacyLastlog {
    /// Open a legacy file and tell its layout from its size and last record
    /// (an empty file is glibc's, as the C tools would write it).
    pub fn open(path: &Path, access: Access) -> io::Result<LegacyLastlog> {
        let file = open(path, access, false)?;
        let len = file.metadata()?.len();
        let mut tail = [0u8; 296];
        let want = len.min(296) as usize;
        let got = read_full_at(&file, &mut tail[..want], len - want as u64)?;
        let layout = legacy::detect_tail(len, &tail[..got]);
        Ok(LegacyLastlog { file, len, layout })
    }

    #[allow(dead_code)] // for utmpdump and wtmpd
    pub fn layout(&self) -> LastlogLayout {
        self.layout
    }

    fn offset(&self, uid: u32) -> u64 {
        uid as u64 * self.layout.size as u64
    }

    /// The entry of `uid`; None when never logged in, including past the
    /// end of the file and in a hole, as shadow reads it.
    pub fn get(&self, uid: u32) -> io::Result<Option<Record>> {
        let offset = self.offset(uid);
        let size = self.layout.size as u64;
        if offset + size > self.len {
            return Ok(None);
        }
        let mut buf = [0u8; 296];
        let buf = &mut buf[..self.layout.size];
        let got = read_full_at(&self.file, buf, offset)?;
        if got < buf.len() {
            // Truncated since we looked at its size: nothing there now.
            return Ok(None);
        }
        Ok(legacy::decode(buf, self.layout))
    }

    /// Overwrite the entry of `uid` with `record` (only its time, line and
    /// host are stored), as shadow's `lastlog -S` does: one `pwrite` of a
    /// whole zero-padded entry. `Record::default()` clears it (`-C`).
    pub fn put(&mut self, uid: u32, record: &Record) -> io::Result<()> {
        let bytes = legacy::encode(record, self.layout).map_err(invalid)?;
        let offset = self.offset(uid);
        self.file.write_all_at(&bytes, offset)?;
        self.len = self.len.max(offset + bytes.len() as u64);
        Ok(())
    }

    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "utmpbox-unit-lastlog-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("lastlog")
    }

    fn login(user: &[u8], secs: i64) -> Record {
        Record {
            kind: RecordKind::UserProcess,
            user: user.to_vec(),
            line: b"pts/1".to_vec(),
            host: b"example.org".to_vec(),
            time_us: secs * 1_000_000,
            ..Record::default()
        }
    }

    #[test]
    fn native_find_or_append_rewrites_in_place() {
        let path = scratch("native");
        let mut store = LastlogStore::open_repaired(&path, 0o640).unwrap().0;
        assert_eq!(store.put(&login(b"alice", 10)).unwrap(), 0);
        assert_eq!(store.put(&login(b"bob", 20)).unwrap(), 1);
        assert_eq!(store.put(&login(b"alice", 30)).unwrap(), 0);
        store.sync().unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(len, (HEADER_SIZE + 2 * RECORD_SIZE) as u64);
        let store = LastlogStore::open(&path, Access::Read).unwrap();
        assert_eq!(store.get(b"alice").unwrap(), Some(login(b"alice", 30)));
        assert_eq!(store.get(b"bob").unwrap(), Some(login(b"bob", 20)));
        assert_eq!(store.get(b"carol").unwrap(), None);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn native_torn_tail_and_corrupt_slot() {
        let path = scratch("torn");
        let mut store = LastlogStore::open_repaired(&path, 0o640).unwrap().0;
        store.put(&login(b"alice", 10)).unwrap();
        store.put(&login(b"bob", 20)).unwrap();
        drop(store);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[HEADER_SIZE + 100] ^= 1; // alice's slot
        bytes.extend_from_slice(&[7u8; 100]); // a torn append
        std::fs::write(&path, &bytes).unwrap();
        let mut store = LastlogStore::open(&path, Access::Write).unwrap();
        assert_eq!(store.corrupt(), &[0]);
        assert_eq!(store.get(b"alice").unwrap(), None);
        // A new slot goes over the torn tail.
        assert_eq!(store.put(&login(b"carol", 30)).unwrap(), 2);
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(len, (HEADER_SIZE + 3 * RECORD_SIZE) as u64);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn clear_keeps_the_slot_with_time_zero() {
        let path = scratch("clear");
        let (mut store, _) = LastlogStore::open_repaired(&path, 0o640).unwrap();
        store.put(&login(b"alice", 10)).unwrap();
        store.put(&login(b"bob", 20)).unwrap();
        assert!(store.clear(b"alice").unwrap());
        // Nothing to clear for a user without a slot: nothing written.
        assert!(!store.clear(b"carol").unwrap());
        store.sync().unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(len, (HEADER_SIZE + 2 * RECORD_SIZE) as u64);
        let cleared = Record {
            kind: RecordKind::UserProcess,
            user: b"alice".to_vec(),
            ..Record::default()
        };
        let store = LastlogStore::open(&path, Access::Read).unwrap();
        assert_eq!(store.get(b"alice").unwrap(), Some(cleared.clone()));
        assert_eq!(store.list().unwrap(), vec![cleared, login(b"bob", 20)]);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn repair_empties_corrupt_slots_cuts_the_tail_and_reuses_free_slots() {
        let path = scratch("repair");
        let (mut store, warnings) = LastlogStore::open_repaired(&path, 0o640).unwrap();
        assert!(warnings.is_empty());
        for (i, user) in [&b"alice"[..], b"bob", b"carol"].iter().enumerate() {
            store.put(&login(user, i as i64)).unwrap();
        }
        drop(store);
        let mut bytes = std::fs::read(&path).unwrap();
        // Alice's slot corrupt; bob's as an earlier version left it on
        // clear (no user).
        bytes[HEADER_SIZE + 100] ^= 1;
        let empty = native::encode(&Record::default()).unwrap();
        bytes[HEADER_SIZE + RECORD_SIZE..HEADER_SIZE + 2 * RECORD_SIZE].copy_from_slice(&empty);
        bytes.extend_from_slice(&[7u8; 100]);
        std::fs::write(&path, &bytes).unwrap();
        let (mut store, warnings) = LastlogStore::open_repaired(&path, 0o640).unwrap();
        let name = path.display();
        assert_eq!(
            warnings,
            vec![
                format!("{name}: slot 0 was corrupt; emptied it"),
                format!("{name}: cut a partial slot of 100 bytes at the end"),
            ]
        );
        assert!(store.corrupt().is_empty());
        assert_eq!(store.list().unwrap(), vec![login(b"carol", 2)]);
        // New users take the free slots, lowest first, then append.
        assert_eq!(store.put(&login(b"dave", 3)).unwrap(), 0);
        assert_eq!(store.put(&login(b"erin", 4)).unwrap(), 1);
        assert_eq!(store.put(&login(b"fay", 5)).unwrap(), 3);
        store.sync().unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(len, (HEADER_SIZE + 4 * RECORD_SIZE) as u64);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn repair_sets_aside_a_file_that_is_not_a_lastlog() {
        let path = scratch("aside");
        std::fs::write(&path, native::header(FileKind::Log)).unwrap();
        let (store, warnings) = LastlogStore::open_repaired(&path, 0o640).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].ends_with("lastlog.bad"), "{warnings:?}");
        assert!(store.list().unwrap().is_empty());
        let bad = std::fs::read(path.with_file_name("lastlog.bad")).unwrap();
        assert_eq!(bad, native::header(FileKind::Log));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            native::header(FileKind::Lastlog)
        );
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn native_refuses_other_files() {
        let path = scratch("other");
        std::fs::write(&path, native::header(FileKind::Log)).unwrap();
        assert!(LastlogStore::open(&path, Access::Read).is_err());
        std::fs::write(&path, b"short").unwrap();
        assert!(LastlogStore::open(&path, Access::Read).is_err());
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn legacy_sparse_read_and_write() {
        let path = scratch("legacy");
        std::fs::write(&path, b"").unwrap();
        let mut file = LegacyLastlog::open(&path, Access::Write).unwrap();
        assert_eq!(file.layout(), LastlogLayout::GLIBC);
        let mut entry = login(b"", 1_700_000_000);
        entry.user.clear();
        entry.kind = RecordKind::UserProcess;
        file.put(1000, &entry).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1001 * 292);
        let file = LegacyLastlog::open(&path, Access::Read).unwrap();
        assert_eq!(file.get(1000).unwrap(), Some(entry));
        assert_eq!(file.get(999).unwrap(), None);
        assert_eq!(file.get(4_000_000_000).unwrap(), None);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
