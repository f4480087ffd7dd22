//! Who is on the other end of a connection: SO_PEERCRED, never the request.
//!
//! Supplementary groups are not in SO_PEERCRED, so they come from
//! /proc/PID/status (the groups the process really has, checked against
//! the credential's uid so a recycled pid is not believed), else from the
//! group database for the uid.

use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};

use crate::sys::passwd::Passwd;

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
    // getgrouplist: the primary group, then every group naming the user.
    let mut groups = vec![user.gid];
    each_group(|_, gid, members| {
        if members.split(|&b| b == b',').any(|m| m == user.name) {
            groups.push(gid);
        }
        false
    });
    groups
}

/// A passwd entry's name and ids.
pub struct User {
    pub name: Vec<u8>,
    pub uid: u32,
    pub gid: u32,
}

impl User {
    fn of(user: crate::sys::passwd::User) -> User {
        User {
            name: user.name.to_vec(),
            uid: user.uid,
            gid: user.gid,
        }
    }
}

/// The first user with `uid` in /etc/passwd, read as musl's getpwuid
/// reads it (the static binary's libc has no NSS either). Our own reader,
/// not libc's: musl's passwd and group code costs the tiny build 6 KB.
pub fn user_by_uid(uid: u32) -> Option<User> {
    Passwd::system().by_uid(uid).map(User::of)
}

/// The first user named `name` (getpwnam), as `user_by_uid`.
pub fn user_by_name(name: &str) -> Option<User> {
    Passwd::system().by_name(name.as_bytes()).map(User::of)
}

/// A group's gid by name (getgrnam): the first /etc/group line naming it.
pub fn group_by_name(name: &str) -> Option<u32> {
    let mut found = None;
    each_group(|group, gid, _| {
        if group == name.as_bytes() {
            found = Some(gid);
        }
        found.is_some()
    });
    found
}

/// Each well-formed line of /etc/group as (name, gid, members), in file
/// order, until `each` returns true. Lines musl's getgrent would skip
/// (fewer than four fields, a gid that is not a number) are skipped.
fn each_group(mut each: impl FnMut(&[u8], u32, &[u8]) -> bool) {
    let Ok(data) = crate::sys::infile::read(Path::new(GROUP)) else {
        return;
    };
    for line in data.split(|&b| b == b'\n') {
        let mut fields = line.splitn(4, |&b| b == b':');
        let (Some(name), Some(_), Some(gid), Some(members)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let Some(gid) = decimal(gid) else { continue };
        if each(name, gid, members) {
            return;
        }
    }
}

fn decimal(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

const GROUP: &str = "/etc/group";

#[cfg(test)]
mod tests {
    use super::*;
    use nix::unistd::{getgrouplist, Gid, Group, Uid};

    /// Our readers find what libc finds in this machine's files.
    #[test]
    fn lookups_agree_with_libc() {
        for user in Passwd::system().iter().filter(|u| !u.is_compat()) {
            let name = std::str::from_utf8(user.name).unwrap();
            let libc = nix::unistd::User::from_uid(Uid::from_raw(user.uid))
                .unwrap()
                .unwrap();
            let ours = user_by_uid(user.uid).unwrap();
            assert_eq!(
                (ours.name, ours.gid),
                (libc.name.into_bytes(), libc.gid.as_raw())
            );
            let by_name = user_by_name(name).unwrap();
            assert_eq!((by_name.uid, by_name.gid), (user.uid, user.gid), "{name}");
            let cname = std::ffi::CString::new(name).unwrap();
            let mut want: Vec<u32> = getgrouplist(&cname, Gid::from_raw(user.gid))
                .unwrap()
                .into_iter()
                .map(Gid::as_raw)
                .collect();
            // Not a live process of that uid: the database's answer.
            let mut got = groups_of(i32::MAX, user.uid);
            want.sort_unstable();
            want.dedup();
            got.sort_unstable();
            got.dedup();
            assert_eq!(got, want, "{name}");
        }
        let mut groups = 0;
        each_group(|name, gid, _| {
            let name = std::str::from_utf8(name).unwrap();
            let libc = Group::from_name(name).unwrap().unwrap();
            if libc.gid.as_raw() == gid {
                assert_eq!(group_by_name(name), Some(gid), "{name}");
                groups += 1;
            }
            false
        });
        assert!(groups > 0);
        assert!(user_by_name("no such user").is_none());
        assert_eq!(group_by_name("no such group"), None);
    }
}
