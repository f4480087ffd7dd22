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
    read_to_end(&mut open(path)?, &mut bytes)?;
    Ok(bytes)
}

/// A whole file as `std::fs::read` reads it (any kind of file: the /proc
/// files), through `read_to_end` below.
pub fn read_any(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    read_to_end(&mut File::open(path)?, &mut bytes)?;
    Ok(bytes)
}

/// `read_any` as text, None unless it reads and is UTF-8
/// (`std::fs::read_to_string` answered Err for both).
pub fn read_any_text(path: &Path) -> Option<String> {
    String::from_utf8(read_any(path).ok()?).ok()
}

/// Append what `reader` gives up to its end to `out`, as std's
/// `Read::read_to_end` does (EINTR retried; on an error what was read
/// stays in `out`). One loop over `dyn Read` for every reader: std's is a
/// large generic, copied per reader type (File, &File, Take, stdin).
pub fn read_to_end(reader: &mut dyn Read, out: &mut Vec<u8>) -> io::Result<usize> {
    let start = out.len();
    loop {
        let len = out.len();
        out.reserve(8192);
        out.resize(out.capacity(), 0);
        let got = reader.read(&mut out[len..]);
        out.truncate(len + *got.as_ref().unwrap_or(&0));
        match got {
            Ok(0) => return Ok(out.len() - start),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
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

    /// std's read_to_end: everything to the end, EINTR retried, what came
    /// before an error kept.
    #[test]
    fn reads_to_end_as_std() {
        struct Chunks(Vec<io::Result<Vec<u8>>>);
        impl Read for Chunks {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                match self.0.pop() {
                    None => Ok(0),
                    Some(Ok(c)) => {
                        buf[..c.len()].copy_from_slice(&c);
                        Ok(c.len())
                    }
                    Some(Err(e)) => Err(e),
                }
            }
        }
        let big = vec![7u8; 8192];
        let mut out = b"x".to_vec();
        let mut r = Chunks(vec![
            Ok(b"c".to_vec()),
            Err(io::ErrorKind::Interrupted.into()),
            Ok(big.clone()),
            Ok(b"a".to_vec()),
        ]);
        assert_eq!(read_to_end(&mut r, &mut out).unwrap(), 8194);
        assert_eq!(out.len(), 8195);
        assert_eq!(&out[..2], b"xa");
        assert_eq!(out[8194], b'c');
        let mut out = Vec::new();
        let mut r = Chunks(vec![Err(io::ErrorKind::Other.into()), Ok(b"ab".to_vec())]);
        assert!(read_to_end(&mut r, &mut out).is_err());
        assert_eq!(out, b"ab");
        let path = Path::new("/proc/self/stat");
        assert_eq!(
            read_any_text(path).is_some(),
            std::fs::read_to_string(path).is_ok()
        );
    }

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
