//! The stamp file beside each daemon file that names the boot last
//! recorded in it, so a restarted daemon does not record a boot twice.

use std::path::{Path, PathBuf};

use crate::sys::boot::trim;

/// The stamp file beside `file` naming the boot last recorded in it.
pub fn stamp_path(file: &Path) -> PathBuf {
    let mut stamp = file.as_os_str().to_owned();
    stamp.push(".boot");
    PathBuf::from(stamp)
}

/// Has the boot with `id` been recorded, per the stamp file?
pub fn stamped(stamp: &Path, id: &[u8]) -> bool {
    crate::store::files::read_small(stamp, 4096).is_ok_and(|s| trim(&s) == id)
}

/// Replace the stamp (through the daemon's directory, never a link).
pub fn write_stamp(stamp: &Path, id: &[u8]) -> std::io::Result<()> {
    let mut line = id.to_vec();
    line.push(b'\n');
    crate::store::files::replace(stamp, &line, 0o644)
}
