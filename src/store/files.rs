//! The daemons' files: created whole (header written to a temporary file,
//! synced, renamed) so a crash never leaves half a header, opened with
//! O_NOFOLLOW relative to the directory the daemon checked and holds
//! (datadir.rs), and for the utmp table read back and repaired at start
//! (the native lastlog's repair is `LastlogStore::open_repaired`, in
//! src/store/lastlog.rs, on these same helpers).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;

use super::datadir::{self, suffixed};
use crate::record::native::{self, FileKind, HEADER_SIZE, RECORD_SIZE};
use crate::record::Record;

/// Open an existing daemon file read-write without following a symlink.
pub fn open_rw(path: &Path) -> io::Result<File> {
    let (dir, name) = datadir::locate(path)?;
    dir.open_rw(&name)
}

/// Create `path` holding just a native header of `kind`, atomically.
pub fn create_native(path: &Path, kind: FileKind, mode: u32) -> io::Result<File> {
    let (dir, name) = datadir::locate(path)?;
    dir.replace(&name, &native::header(kind), mode, true)?;
    dir.open_rw(&name)
}

/// Replace the small file `path` (a stamp) by `bytes`, atomically.
pub fn replace(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let (dir, name) = datadir::locate(path)?;
    dir.replace(&name, bytes, mode, false)
}

/// Up to `max` bytes of the small file `path`, never through a link.
pub fn read_small(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let (dir, name) = datadir::locate(path)?;
    dir.read_small(&name, max)
}

/// Open `path` for appending, created `mode` if missing, never through a
/// link.
pub fn open_append(path: &Path, mode: u32) -> io::Result<File> {
    let (dir, name) = datadir::locate(path)?;
    dir.open_file(
        &name,
        OFlag::O_WRONLY | OFlag::O_APPEND | OFlag::O_CREAT,
        mode,
    )
}

/// Move a file the daemon cannot use out of the way, keeping it for a
/// human to look at; returns where it went.
pub fn set_aside(path: &Path) -> io::Result<PathBuf> {
    let (dir, name) = datadir::locate(path)?;
    dir.rename(&name, &suffixed(&name, ".bad")?)?;
    let mut aside = path.as_os_str().to_owned();
    aside.push(".bad");
    Ok(PathBuf::from(aside))
}

/// A file of fixed slots (the utmp table), mirrored in memory; a slot is
/// rewritten in place.
pub struct SlotFile {
    pub path: PathBuf,
    file: File,
    pub slots: Vec<Record>,
}

impl SlotFile {
    /// Open or create; corrupt slots become empty, a partial slot at the
    /// end is cut, an unusable file is set aside. Warnings say what was
    /// repaired.
    pub fn open(path: &Path, kind: FileKind, mode: u32) -> Result<(SlotFile, Vec<String>), String> {
        let name = path.display();
        let mut warnings = Vec::new();
        let file = match open_rw(path) {
            Ok(file) => Some(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(format!(
                    "unable to open {name}: {}",
                    crate::sys::diag::os_reason(&e)
                ))
            }
        };
        let mut bytes = Vec::new();
        if let Some(mut f) = file.as_ref() {
            crate::sys::infile::read_to_end(&mut f, &mut bytes).map_err(|e| {
                format!("unable to read {name}: {}", crate::sys::diag::os_reason(&e))
            })?;
        }
        let usable = file.is_some() && native::parse_header(&bytes) == Ok(kind);
        let file = match file {
            Some(file) if usable => file,
            _ => {
                if file.is_some() {
                    let aside = set_aside(path).map_err(|e| {
                        format!(
                            "unable to set {name} aside: {}",
                            crate::sys::diag::os_reason(&e)
                        )
                    })?;
                    warnings.push(format!(
                        "{name} is not a native {} file; moved it to {}",
                        kind_name(kind),
                        aside.display()
                    ));
                }
                bytes = native::header(kind).to_vec();
                create_native(path, kind, mode).map_err(|e| {
                    format!(
                        "unable to create {name}: {}",
                        crate::sys::diag::os_reason(&e)
                    )
                })?
            }
        };
        let body = &bytes[HEADER_SIZE..];
        let mut slots = Vec::with_capacity(body.len() / RECORD_SIZE);
        let mut repaired = Vec::new();
        for (index, chunk) in body.chunks_exact(RECORD_SIZE).enumerate() {
            match native::decode(chunk) {
                Some(record) => slots.push(record),
                None => {
                    slots.push(Record::default());
                    repaired.push(index);
                }
            }
        }
        let mut table = SlotFile {
            path: path.to_path_buf(),
            file,
            slots,
        };
        for index in repaired {
            warnings.push(format!("{name}: slot {index} was corrupt; emptied it"));
            table.write(index, Record::default()).map_err(|e| {
                format!(
                    "unable to repair {name}: {}",
                    crate::sys::diag::os_reason(&e)
                )
            })?;
        }
        let partial = body.len() % RECORD_SIZE;
        if partial != 0 {
            warnings.push(format!(
                "{name}: cut a partial slot of {partial} bytes at the end"
            ));
            table
                .file
                .set_len(native::offset_of(table.slots.len() as u64))
                .map_err(|e| {
                    format!(
                        "unable to repair {name}: {}",
                        crate::sys::diag::os_reason(&e)
                    )
                })?;
        }
        Ok((table, warnings))
    }

    /// Store `record` in slot `index` (one past the end appends).
    pub fn write(&mut self, index: usize, record: Record) -> io::Result<()> {
        let bytes = native::encode(&record)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
        self.write_encoded(index, record, &bytes)
    }

    /// As `write`, with the record already encoded (`bytes` must be it).
    pub fn write_encoded(&mut self, index: usize, record: Record, bytes: &[u8]) -> io::Result<()> {
        self.file
            .write_all_at(bytes, native::offset_of(index as u64))?;
        if index == self.slots.len() {
            self.slots.push(record);
        } else {
            self.slots[index] = record;
        }
        Ok(())
    }
}

fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Log => "log",
        FileKind::Utmp => "utmp",
        FileKind::Lastlog => "lastlog",
    }
}
