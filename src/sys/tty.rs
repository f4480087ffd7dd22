//! Terminals as utmp names them: a line is the tty's path without `/dev/`.

use std::os::unix::ffi::OsStrExt;

use nix::unistd::ttyname;

/// The line of the terminal on stdin (`pts/3`), or None when stdin is no
/// terminal.
pub fn stdin_line() -> Option<Vec<u8>> {
    let name = ttyname(std::io::stdin()).ok()?;
    let name = name.as_os_str().as_bytes();
    Some(name.strip_prefix(b"/dev/").unwrap_or(name).to_vec())
}
