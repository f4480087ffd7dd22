//! Writing a whole output file so that a failed run never leaves half of
//! one: write a temporary file beside the target, then rename it over.
//!
//! The temporary file takes the mode (and, if allowed, the owner) of the
//! file it replaces, as `fopen(path, "w")` would have kept them. A symlink
//! target is followed, so the file it points at is replaced. Something
//! that is not a regular file (`/dev/null`, a FIFO, a terminal) is written
//! directly: renaming over it would be wrong.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub struct OutFile {
    out: BufWriter<File>,
    /// (temporary, final) paths; None when writing the target directly.
    rename: Option<(PathBuf, PathBuf)>,
}

impl OutFile {
    pub fn create(target: &Path) -> io::Result<OutFile> {
        let existing = fs::metadata(target).ok();
        if existing.as_ref().is_some_and(|m| !m.is_file()) {
            let file = OpenOptions::new().write(true).truncate(true).open(target)?;
            return Ok(OutFile {
                out: BufWriter::new(file),
                rename: None,
            });
        }
        let real = resolve_links(target)?;
        let dir = match real.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut base = std::ffi::OsString::from(".");
        base.push(real.file_name().unwrap_or(real.as_os_str()));
        let mode = existing
            .as_ref()
            .map_or(0o666, |m| m.permissions().mode() & 0o7777);
        let mut attempt = 0u32;
        let (temp, file) = loop {
            let mut name = base.clone();
            name.push(format!(".tmp{}.{attempt}", std::process::id()));
            let temp = dir.join(name);
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&temp)
            {
                Ok(file) => break (temp, file),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
                Err(e) => return Err(e),
            }
        };
        if let Some(meta) = &existing {
            // The umask applied at open; the replaced file's mode wins.
            let _ = file.set_permissions(fs::Permissions::from_mode(mode));
            // Only root can give a file away; for anyone else this fails
            // harmlessly and the file is theirs, as a new file would be.
            let _ = std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()));
        }
        Ok(OutFile {
            out: BufWriter::new(file),
            rename: Some((temp, real)),
        })
    }

    /// Flush, sync and put the file in place.
    pub fn commit(mut self) -> io::Result<()> {
        self.out.flush()?;
        let Some((temp, real)) = self.rename.take() else {
            return Ok(());
        };
        let result = self
            .out
            .get_ref()
            .sync_all()
            .and_then(|_| fs::rename(&temp, &real));
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }
}

/// Follow symlinks to the path that will really be replaced, even when the
/// last one dangles (fopen would create its target).
fn resolve_links(target: &Path) -> io::Result<PathBuf> {
    let mut path = target.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::from_raw_os_error(libc::ELOOP))
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Drop for OutFile {
    /// Not committed: the temporary file goes, the target is untouched.
    fn drop(&mut self) {
        if let Some((temp, _)) = &self.rename {
            let _ = fs::remove_file(temp);
        }
    }
}
