//! Who is on the other end of a connection: SO_PEERCRED, never the request.
//!
//! Supplementary groups are not in SO_PEERCRED, so they come from
//! /proc/PID/status (the groups the process really has, checked against
//! the credential's uid so a recycled pid is not believed), else from the
//! group database for the uid.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;

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
pub fn peer_of(fd: RawFd, group: Option<u32>) -> io::Result<Peer> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: reading a ucred socket option into a ucred of that size.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            &mut cred as *mut libc::ucred as *mut libc::c_void,
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let privileged = cred.uid == 0
        || group.is_some_and(|g| cred.gid == g || groups_of(cred.pid, cred.uid).contains(&g));
    Ok(Peer {
        pid: cred.pid,
        uid: cred.uid,
        privileged,
    })
}

/// Supplementary groups of `pid`, if it still runs as `uid`; else the
/// groups the group database gives `uid`.
fn groups_of(pid: i32, uid: u32) -> Vec<u32> {
    if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
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
    let mut groups = vec![0 as libc::gid_t; 64];
    loop {
        let mut n = groups.len() as libc::c_int;
        // SAFETY: groups has room for n entries; n is updated to the count.
        let rc =
            unsafe { libc::getgrouplist(name.as_ptr(), user.gid, groups.as_mut_ptr(), &mut n) };
        if rc >= 0 {
            groups.truncate(n.max(0) as usize);
            return groups;
        }
        if groups.len() >= 65536 {
            return Vec::new();
        }
        let want = (n.max(0) as usize).max(groups.len() * 2);
        groups.resize(want, 0);
    }
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

pub fn user_by_name(name: &str) -> Option<User> {
    let cname = CString::new(name).ok()?;
    with_buffer(|buf| {
        // SAFETY: as in user_by_uid.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result = std::ptr::null_mut();
        let rc = unsafe {
            libc::getpwnam_r(
                cname.as_ptr(),
                &mut pw,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        (rc, (!result.is_null()).then(|| user_from(&pw)))
    })
}

pub fn group_by_name(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    with_buffer(|buf| {
        // SAFETY: group is plain data; getgrnam_r fills it from buf.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut result = std::ptr::null_mut();
        let rc = unsafe {
            libc::getgrnam_r(
                cname.as_ptr(),
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
