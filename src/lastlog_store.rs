//! Reading and writing lastlog files, one user's slot at a time.
//!
//! - `LastlogStore`: the native lastlog (a native file of
//!   `FileKind::Lastlog`), one 512-byte record per user keyed by the user
//!   name. A slot is found through an index built by one scan at open, then
//!   rewritten in place with `pwrite`; a new user is appended. The `lastlog`
//!   applet uses it for `-S`/`-C` today and wtmpd will own these writes
//!   later through the same calls.
//! - `LegacyLastlog`: the glibc (292-byte) and musl (296-byte) files indexed
//!   by uid. Entries are read with `pread` at `uid * size`, never by reading
//!   the file, because the file is sparse and a uid of 4,000,000,000 puts
//!   its apparent end past a terabyte.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use crate::record::lastlog::{self as legacy, LastlogLayout};
use crate::record::native::{self, FileKind, HEADER_SIZE, RECORD_SIZE};
use crate::record::{FormatError, Record};

/// How to open a lastlog file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    Read,
    /// Read and write an existing file.
    Write,
    /// Read and write, creating the file (mode 0640) when missing.
    Create,
}

/// Open for `access`. `nofollow` for the native files, which live in a
/// directory the daemon owns: never follow a link someone planted there.
/// The legacy file is opened as shadow opens it (links followed).
fn open(path: &Path, access: Access, nofollow: bool) -> io::Result<File> {
    let mut flags = libc::O_CLOEXEC;
    if nofollow && access != Access::Read {
        flags |= libc::O_NOFOLLOW;
    }
    OpenOptions::new()
        .read(true)
        .write(access != Access::Read)
        .create(access == Access::Create)
        .mode(0o640)
        .custom_flags(flags)
        .open(path)
}

fn invalid(e: FormatError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// Read up to `buf.len()` bytes at `offset`; fewer only at end of file.
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The native lastlog: one record per user name.
pub struct LastlogStore {
    file: File,
    /// User name to slot index.
    index: HashMap<Vec<u8>, u64>,
    /// Whole records in the file; a new user goes in slot `slots`, over
    /// any torn partial record at the end.
    slots: u64,
    corrupt: Vec<u64>,
}

impl LastlogStore {
    /// Open (or create) a native lastlog and index its slots. A file that
    /// is not a native lastlog is `InvalidData`.
    pub fn open(path: &Path, access: Access) -> io::Result<LastlogStore> {
        let file = open(path, access, true)?;
        let len = file.metadata()?.len();
        if len == 0 && access == Access::Create {
            file.write_all_at(&native::header(FileKind::Lastlog), 0)?;
        } else {
            let mut header = [0u8; HEADER_SIZE];
            let got = read_at_most(&file, &mut header, 0)?;
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
        }
        let mut store = LastlogStore {
            file,
            index: HashMap::new(),
            slots: 0,
            corrupt: Vec::new(),
        };
        store.scan()?;
        Ok(store)
    }

    fn scan(&mut self) -> io::Result<()> {
        const BATCH: usize = 128;
        let mut buf = vec![0u8; RECORD_SIZE * BATCH];
        let mut slot = 0u64;
        loop {
            let got = read_at_most(&self.file, &mut buf, native::offset_of(slot))?;
            for chunk in buf[..got].chunks_exact(RECORD_SIZE) {
                match native::decode(chunk) {
                    // The first slot of a name is the one kept up to date.
                    Some(record) if !record.user.is_empty() => {
                        self.index.entry(record.user).or_insert(slot);
                    }
                    Some(_) => {}
                    None => self.corrupt.push(slot),
                }
                slot += 1;
            }
            if got < buf.len() {
                break;
            }
        }
        self.slots = slot;
        Ok(())
    }

    /// Slots whose checksum failed; they are never read as records.
    pub fn corrupt(&self) -> &[u64] {
        &self.corrupt
    }

    /// The user names that have a slot, in no particular order.
    #[allow(dead_code)] // for wtmpd
    pub fn users(&self) -> impl Iterator<Item = &[u8]> {
        self.index.keys().map(Vec::as_slice)
    }

    /// The stored record of `user`, if any (a cleared one has time 0).
    pub fn get(&self, user: &[u8]) -> io::Result<Option<Record>> {
        let Some(&slot) = self.index.get(user) else {
            return Ok(None);
        };
        let mut buf = [0u8; RECORD_SIZE];
        let got = read_at_most(&self.file, &mut buf, native::offset_of(slot))?;
        // Changed under us (only the daemon writes, so this is damage):
        // say nothing rather than misread.
        Ok(native::decode(&buf[..got]).filter(|r| r.user == user))
    }

    /// Store `record` in the slot of `record.user`, appending a slot for a
    /// user seen for the first time. Returns the slot index. Not synced:
    /// call `sync` once after a batch.
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
            None => self.slots,
        };
        self.file.write_all_at(&bytes, native::offset_of(slot))?;
        if slot == self.slots {
            self.slots += 1;
            self.index.insert(record.user.clone(), slot);
        }
        Ok(slot)
    }

    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
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
        let got = read_at_most(&file, &mut tail[..want], len - want as u64)?;
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
        let got = read_at_most(&self.file, buf, offset)?;
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
    use crate::record::RecordKind;

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
        let mut store = LastlogStore::open(&path, Access::Create).unwrap();
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
        let mut store = LastlogStore::open(&path, Access::Create).unwrap();
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
