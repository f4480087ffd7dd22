//! Terminals as utmp names them (a line is the tty's path without `/dev/`),
//! and what readers may learn from one.

use std::os::unix::ffi::OsStrExt;

use nix::unistd::ttyname;

/// The line of the terminal on stdin (`pts/3`), or None when stdin is no
/// terminal.
pub fn stdin_line() -> Option<Vec<u8>> {
    let name = ttyname(std::io::stdin()).ok()?;
    let name = name.as_os_str().as_bytes();
    Some(name.strip_prefix(b"/dev/").unwrap_or(name).to_vec())
}

/// What `stat` says of `path`, only if it is a terminal (a character
/// device). A line naming any other file (`shm/x` through world-writable
/// /dev/shm, or none at all: /dev itself) must not lend the readers its
/// owner, mode or times: they would print them as a session's.
pub fn terminal(path: &[u8]) -> Option<std::fs::Metadata> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(std::ffi::OsStr::from_bytes(path)).ok()?;
    meta.file_type().is_char_device().then_some(meta)
}
