//! `utmpbox --install [--force] DIR [SBINDIR]`: one symlink per applet,
//! the daemons (utmpd, wtmpd) in SBINDIR when it is given.
//!
//! A link is relative when the binary and the link's directory share a
//! directory below `/` (DIR=/x/usr/bin, binary /x/usr/bin/utmpbox:
//! `utmpbox`; SBINDIR=/x/usr/sbin: `../bin/utmpbox`), so a rootfs built
//! under /x still works once it is the root, or copied elsewhere. With
//! nothing in common but `/` the link is absolute. Anything in the way
//! that is not already a link to this binary is left alone (and reported)
//! unless `--force`.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::front::cli;

const USAGE: &str = "usage: utmpbox --install [--force] DIR [SBINDIR]";

/// The applets that are daemons: they go into SBINDIR.
const DAEMONS: [&str; 2] = ["utmpd", "wtmpd"];

pub fn main(applets: &[&str], args: &[OsString]) -> i32 {
    let mut force = false;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for arg in args {
        match arg.to_str() {
            Some("--force") | Some("-f") => force = true,
            _ if dirs.len() < 2 => dirs.push(PathBuf::from(arg)),
            _ => return cli::usage_error("utmpbox", USAGE, 100),
        }
    }
    let Some(bindir) = dirs.first() else {
        return cli::usage_error("utmpbox", "--install needs a directory", 100);
    };
    let sbindir = dirs.get(1).unwrap_or(bindir);
    let exe = match std::env::current_exe().and_then(|e| e.canonicalize()) {
        Ok(exe) => exe,
        Err(e) => {
            return cli::fail(
                "utmpbox",
                format_args!("fatal: unable to find own path: {}", cli::os_reason(&e)),
                111,
            )
        }
    };
    let mut status = 0;
    for (dir, daemons) in [(bindir, false), (sbindir, true)] {
        let real = match dir.canonicalize() {
            Ok(real) => real,
            Err(e) => {
                return cli::fail(
                    "utmpbox",
                    format_args!(
                        "fatal: unable to use {}: {}",
                        dir.display(),
                        cli::os_reason(&e)
                    ),
                    111,
                )
            }
        };
        let target = link_target(&exe, &real);
        for name in applets.iter().filter(|a| DAEMONS.contains(a) == daemons) {
            status = status.max(link(&dir.join(name), &target, &exe, force));
        }
    }
    status
}

/// What a link in `dir` names to reach `exe` (both resolved paths).
fn link_target(exe: &Path, dir: &Path) -> PathBuf {
    let exe_parts: Vec<Component> = exe.components().collect();
    let dir_parts: Vec<Component> = dir.components().collect();
    let common = exe_parts
        .iter()
        .zip(&dir_parts)
        .take_while(|(a, b)| a == b)
        .count();
    // Only `/` in common: the two trees move apart, the absolute path
    // is the one that stays right.
    if common <= 1 {
        return exe.to_path_buf();
    }
    let mut target = PathBuf::new();
    for _ in common..dir_parts.len() {
        target.push("..");
    }
    for part in &exe_parts[common..] {
        target.push(part);
    }
    target
}

/// Make `link` name `target`; an existing entry is replaced when it is a
/// link to `exe` already (perhaps worded otherwise), or with `force`.
fn link(link: &Path, target: &Path, exe: &Path, force: bool) -> i32 {
    if let Ok(meta) = std::fs::symlink_metadata(link) {
        let is_link = meta.file_type().is_symlink();
        if is_link && std::fs::read_link(link).is_ok_and(|t| t == target) {
            return 0;
        }
        let ours = is_link && std::fs::canonicalize(link).is_ok_and(|t| t == exe);
        if !ours && !force {
            cli::say(format_args!(
                "utmpbox: refusing to replace {} (not a link to utmpbox; use --force)",
                link.display()
            ));
            return 1;
        }
        if let Err(e) = std::fs::remove_file(link) {
            cli::say(format_args!(
                "utmpbox: unable to remove {}: {}",
                link.display(),
                cli::os_reason(&e)
            ));
            return 111;
        }
    }
    match std::os::unix::fs::symlink(target, link) {
        Ok(()) => 0,
        Err(e) => {
            cli::say(format_args!(
                "utmpbox: unable to create {}: {}",
                link.display(),
                cli::os_reason(&e)
            ));
            111
        }
    }
}

#[cfg(test)]
mod tests {
    use super::link_target;
    use std::path::Path;

    #[test]
    fn relative_within_a_tree_absolute_across_trees() {
        let exe = Path::new("/x/usr/bin/utmpbox");
        for (dir, want) in [
            ("/x/usr/bin", "utmpbox"),
            ("/x/usr/sbin", "../bin/utmpbox"),
            ("/x/sbin", "../usr/bin/utmpbox"),
            ("/x/usr/local/bin", "../../bin/utmpbox"),
            ("/y/bin", "/x/usr/bin/utmpbox"),
            ("/", "/x/usr/bin/utmpbox"),
        ] {
            assert_eq!(link_target(exe, Path::new(dir)), Path::new(want), "{dir}");
        }
    }
}
