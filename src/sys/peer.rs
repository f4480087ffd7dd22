//! Who is on the other end of a connection: SO_PEERCRED, never the request.
//!
//! Supplementary groups are not in SO_PEERCRED, so they come from
//! /proc/PID/status (the groups the process really has, checked against
//! the credential's uid so a recycled pid is not believed), else from the
//! group database for the uid.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::AsFd;

use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use nix::unistd::{getgrouplist, Gid};

/// A connected client, as the kernel reported it at accept time.
#[derive(Clone, Debug)]
pub struct Peer {
    pub pid: i32,
    pub uid: u32,
    /// Root, or in the accounting group: may write any record.
    pub privileged: bool,
}

impl Peer {
    pub fn is_root(&self) -> bool {
        self.uid == 0
    }
}

/// The credentials of a connected UNIX socket, and whether they are
/// privileged (uid 0, or `group` as primary or supplementary group).
pub fn peer_of(fd: &impl AsFd, group: Option<u32>) -> io::Result<Peer> {
    let cred = getsockopt(fd, PeerCredentials)?;
    let (pid, uid) = (cred.pid(), cred.uid());
    let privileged =
        uid == 0 || group.is_some_and(|g| cred.gid() == g || groups_of(pid, uid).contains(&g));
    Ok(Peer {
        pid,
        uid,
        privileged,
    })
}

/// Supplementary groups of `pid`, if it still runs as `uid`; else the
/// groups the group database gives `uid`.
fn groups_of(pid: i32, uid: u32) -> Vec<u32> {
    if let Some(status) = crate::sys::infile::read_any_text(format!("/proc/{pid}/status").as_ref())
    {
        let euid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|v| v.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u32>().ok());
        if euid == Some(uid) {
            if let Some(groups) = status.lines().find_map(|l| l.strip_prefix("Groups:")) {
                return groups
                    .split_whitespace()
                    .filter_map(|g| g.parse().ok())
                    .collect();
            }
        }
    }
    let Some(user) = user_by_uid(uid) else {
        return Vec::new();
    };
    let Ok(name) = CString::new(user.name) else {
        return Vec::new();
    };
    // nix grows the list up to NGROUPS_MAX (65536 on Linux).
    getgrouplist(&name, Gid::from_raw(user.gid)).map_or_else(
        |_| Vec::new(),
        |groups| groups.into_iter().map(Gid::as_raw).collect(),
    )
}

/// A passwd entry's name and ids.
pub struct User {
    pub name: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
}

fn user_from(pw: &libc::passwd) -> User {
    // SAFETY: pw_name points at a NUL-terminated string in the buffer.
    let name = unsafe { CStr::from_ptr(pw.pw_name) }.to_bytes().to_vec();
    User {
        name,
        uid: pw.pw_uid,
        gid: pw.pw_gid,
    }
}

/// Raw getpwuid_r, not nix's User: that makes the name a lossy String, and
/// the name found here is the key of getgrouplist and of the policy.
pub fn user_by_uid(uid: u32) -> Option<User> {
    with_buffer(|buf| {
        // SAFETY: passwd is plain data; getpwuid_r fills it from buf.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result = std::ptr::null_mut();
        let rc =
            unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut result) };
        (rc, (!result.is_null()).then(|| user_from(&pw)))
    })
}

/// By name: raw getpwnam_r through the same buffer loop, not nix's
/// `User::from_name`, whose User (String and PathBuf fields) is code the
/// two callers do not need; the entry found carries the name asked for.
pub fn user_by_name(name: &str) -> Option<User> {
    let name = CString::new(name).ok()?;
    with_buffer(|buf| {
        // SAFETY: passwd is plain data; getpwnam_r fills it from buf.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result = std::ptr::null_mut();
        let rc = unsafe {
            libc::getpwnam_r(
                name.as_ptr(),
                &mut pw,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        (rc, (!result.is_null()).then(|| user_from(&pw)))
    })
}

/// A group's gid by name (raw getgrnam_r, as above).
pub fn group_by_name(name: &str) -> Option<u32> {
    let name = CString::new(name).ok()?;
    with_buffer(|buf| {
        // SAFETY: group is plain data; getgrnam_r fills it from buf.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut result = std::ptr::null_mut();
        let rc = unsafe {
            libc::getgrnam_r(
                name.as_ptr(),
                &mut gr,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        (rc, (!result.is_null()).then_some(gr.gr_gid))
    })
}

/// Run a getpw*_r / getgr*_r lookup with a buffer that grows while the
/// entry does not fit (ERANGE: a group with many members, say), up to
/// 1 MiB. `lookup` returns the call's status and what it found.
fn with_buffer<T>(
    mut lookup: impl FnMut(&mut [libc::c_char]) -> (libc::c_int, Option<T>),
) -> Option<T> {
    let mut buf = vec![0 as libc::c_char; 4096];
    loop {
        match lookup(&mut buf) {
            (0, found) => return found,
            (libc::ERANGE, _) if buf.len() < 1 << 20 => {
                let grown = buf.len() * 2;
                buf.resize(grown, 0);
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_retry_with_a_bigger_buffer_on_erange() {
        // An entry that needs 20,000 bytes: found once the buffer fits it.
        let mut sizes = Vec::new();
        let found = with_buffer(|buf| {
            sizes.push(buf.len());
            if buf.len() >= 20_000 {
                (0, Some(buf.len()))
            } else {
                (libc::ERANGE, None)
            }
        });
        assert_eq!(found, Some(32_768));
        assert_eq!(sizes, [4096, 8192, 16_384, 32_768]);
        // One that never fits gives up at 1 MiB; other errors at once.
        assert_eq!(with_buffer(|_| (libc::ERANGE, None::<()>)), None);
        let mut calls = 0;
        assert_eq!(
            with_buffer(|_| {
                calls += 1;
                (libc::EIO, None::<()>)
            }),
            None
        );
        assert_eq!(calls, 1);
        assert!(user_by_uid(0).is_some_and(|u| u.name == b"root" && u.gid == 0));
        assert!(user_by_name("root").is_some_and(|u| u.uid == 0));
        assert_eq!(group_by_name("root"), Some(0));
    }
}
