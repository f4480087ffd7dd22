//! Opening a file a reader was named: regular files only, and no open
//! that can block or act on a device.
//!
//! A FIFO blocks `open` until a writer comes (and `read` until it writes),
//! `/dev/zero` never ends, a terminal opened without `O_NOCTTY` can become
//! the controlling one. Every reader (who, users, w, uptime, last, lastb,
//! lastlog, utmpdump) reads the files it is given through here, so none
//! of them can be stalled or fed forever by what sits at a path.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use nix::fcntl::{fcntl, FcntlArg, OFlag};

/// The reason a reader refuses a path: it is not a regular file.
#[derive(Debug)]
pub struct NotRegular;

impl std::fmt::Display for NotRegular {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a regular file")
    }
}

impl std::error::Error for NotRegular {}

fn not_regular() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, NotRegular)
}

/// True when `e` is the refusal of a path that is not a regular file.
pub fn is_not_regular(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<NotRegular>())
}

/// Open a regular file to read.
pub fn open(path: &Path) -> io::Result<File> {
    open_with(path, false, 0)
}

/// Open a regular file, for writing too when `write`, with `extra` open
/// flags (O_NOFOLLOW). Something else at the path is `NotRegular`.
pub fn open_with(path: &Path, write: bool, extra: i32) -> io::Result<File> {
    // A stat first, so a device is refused without being opened at all
    // (opening one can have effects: a tape rewinds, a tty is taken).
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    // Swapped for a FIFO between the stat and the open: O_NONBLOCK makes
    // that open return at once, and the fstat below refuses it.
    let file = OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY | extra)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    // Reads of a regular file ignore O_NONBLOCK; cleared all the same so
    // the descriptor behaves as any other.
    if let Ok(flags) = fcntl(&file, FcntlArg::F_GETFL) {
        let flags = OFlag::from_bits_retain(flags) - OFlag::O_NONBLOCK;
        let _ = fcntl(&file, FcntlArg::F_SETFL(flags));
    }
    Ok(file)
}

/// A whole regular file (small ones: passwd, login.defs).
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Fill `buf` from `reader`; fewer bytes only at its end.
pub fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match reader.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Fill `buf` from `file` at `offset`; fewer bytes only at its end.
pub fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_regular_file() {
        for path in ["/dev/null", "/dev/zero", "/", "/proc/self"] {
            let e = open(Path::new(path)).unwrap_err();
            assert!(is_not_regular(&e), "{path}: {e}");
            assert_eq!(e.to_string(), "not a regular file");
        }
        let missing = open(Path::new("/nonexistent/x")).unwrap_err();
        assert!(!is_not_regular(&missing));
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = std::env::temp_dir().join(format!("utmpbox-infile-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        assert!(is_not_regular(&open(&fifo).unwrap_err()));
        std::fs::write(dir.join("plain"), b"abc").unwrap();
        assert_eq!(read(&dir.join("plain")).unwrap(), b"abc");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
