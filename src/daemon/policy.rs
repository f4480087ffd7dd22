//! What a client may store (docs/SECURITY.md): every string validated for
//! everyone; unprivileged clients limited to their own logins and logouts
//! on terminals they own, at a bounded rate.

use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Instant;

use nix::fcntl::{openat, AtFlags, OFlag, AT_FDCWD};
use nix::sys::stat::{fstat, fstatat, Mode};

use crate::record::{Record, RecordKind};
use crate::sys::peer::{self, Peer};

/// Refuse records no reader should ever have to print: unknown kinds,
/// control bytes (terminal escapes, C1 included), invalid UTF-8 in the
/// text fields, and line names that could walk out of /dev.
pub fn validate(record: &Record) -> Result<(), String> {
    let raw = record.kind.raw();
    if !(0..=9).contains(&raw) {
        return Err(format!("unknown record type {raw}"));
    }
    text_field("line", &record.line)?;
    text_field("id", &record.id)?;
    text_field("user", &record.user)?;
    text_field("host", &record.host)?;
    if record.line.first() == Some(&b'/') {
        return Err("line must be relative to /dev".into());
    }
    if record.line.windows(2).any(|w| w == b"..") {
        return Err("line must not contain '..'".into());
    }
    Ok(())
}

fn text_field(name: &str, bytes: &[u8]) -> Result<(), String> {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(format!("{name} is not valid UTF-8"));
    };
    if text.chars().any(char::is_control) {
        return Err(format!("{name} contains a control character"));
    }
    Ok(())
}

/// Check a write from an unprivileged client and return the record as it
/// will be stored: its own clock time, its pid checked. `existing` is the
/// utmp entry the write would replace, if any.
pub fn unprivileged_write(
    peer: &Peer,
    record: &Record,
    existing: Option<&Record>,
    now_us: i64,
) -> Result<Record, String> {
    let Some(me) = peer::user_by_uid(peer.uid) else {
        return Err(format!("uid {} has no user name", peer.uid));
    };
    let line = String::from_utf8_lossy(&record.line).into_owned();
    match record.kind {
        RecordKind::UserProcess if record.user == me.name => {}
        RecordKind::DeadProcess if record.user.is_empty() || record.user == me.name => {}
        RecordKind::UserProcess | RecordKind::DeadProcess => {
            return Err("you may only write records under your own user name".into())
        }
        _ => return Err("you may only write login and logout records".into()),
    }
    if record.line.is_empty() || !owns_terminal(&record.line, peer.uid) {
        return Err(format!("{line} is not your terminal"));
    }
    if let Some(old) = existing {
        if old.kind == RecordKind::UserProcess && old.user != me.name {
            return Err(format!("{line} is in use by another user"));
        }
        let live = matches!(
            old.kind,
            RecordKind::InitProcess | RecordKind::LoginProcess | RecordKind::UserProcess
        );
        if live && old.line != record.line {
            return Err(format!(
                "id {} belongs to another terminal",
                String::from_utf8_lossy(&record.id)
            ));
        }
    }
    let mut stored = record.clone();
    stored.time_us = now_us;
    if stored.pid <= 0 {
        stored.pid = peer.pid;
    } else if another_users_process(stored.pid, peer.uid) {
        return Err(format!("pid {} is not one of your processes", stored.pid));
    }
    Ok(stored)
}

/// Is /dev/LINE a character device owned by `uid`, reached through
/// directories only root can change and no symlink? Each component is
/// opened relative to the one before, never following a link, so a link
/// anywhere on the way (/dev/shm/x -> /dev/pts) is refused; a directory
/// others may write (/dev/shm) is refused too, as a user could swap its
/// entries between this check and any later use of the name.
fn owns_terminal(line: &[u8], uid: u32) -> bool {
    let mut parts: Vec<&[u8]> = line.split(|&b| b == b'/').collect();
    if parts.iter().any(|p| p.is_empty() || *p == b".") {
        return false;
    }
    let Some(last) = parts.pop() else {
        return false;
    };
    let Some(mut dir) = trusted_dir(AT_FDCWD, b"/dev") else {
        return false;
    };
    for part in parts {
        match trusted_dir(dir.as_fd(), part) {
            Some(next) => dir = next,
            None => return false,
        }
    }
    let Ok(name) = CString::new(last) else {
        return false;
    };
    // The last component itself: a link there is not followed.
    fstatat(&dir, name.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
        .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_uid == uid)
}

/// Directory `name` under `at`, opened for lookups only, if it is a real
/// directory (not a link) owned by root and writable by no one else.
fn trusted_dir(at: BorrowedFd, name: &[u8]) -> Option<OwnedFd> {
    let name = CString::new(name).ok()?;
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = openat(at, name.as_c_str(), flags, Mode::empty()).ok()?;
    let st = fstat(&fd).ok()?;
    let trusted =
        st.st_mode & libc::S_IFMT == libc::S_IFDIR && st.st_uid == 0 && st.st_mode & 0o022 == 0;
    trusted.then_some(fd)
}

/// Is `pid` a running process of some other user? A pid that no longer
/// runs is allowed: a logout names the session that just ended.
fn another_users_process(pid: i32, uid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}")).is_ok_and(|m| m.uid() != uid)
}

/// Token buckets per uid for unprivileged writes: `rate` per second,
/// bursts of ten seconds' worth.
pub struct RateLimiter {
    rate: f64,
    /// uid, tokens, last refill. A plain Vec (at most 4097 long, see
    /// `allow`) costs less code than a map.
    buckets: Vec<(u32, f64, Instant)>,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32) -> RateLimiter {
        RateLimiter {
            rate: rate_per_sec.max(1) as f64,
            buckets: Vec::new(),
        }
    }

    /// Take one token for `uid`; false when it has none left.
    pub fn allow(&mut self, uid: u32, now: Instant) -> bool {
        let burst = self.rate * 10.0;
        if self.buckets.len() > 4096 {
            // Forget full buckets so a stream of uids cannot grow the map.
            let rate = self.rate;
            self.buckets.retain(|(_, tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let i = match self.buckets.iter().position(|b| b.0 == uid) {
            Some(i) => i,
            None => {
                self.buckets.push((uid, burst, now));
                self.buckets.len() - 1
            }
        };
        let (_, tokens, at) = &mut self.buckets[i];
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Hide other users' hosts and addresses from unprivileged readers
/// (private mode).
pub fn redact(records: &mut [Record], peer: &Peer) {
    let me = peer::user_by_uid(peer.uid).map(|u| u.name);
    for record in records {
        if me.as_ref() != Some(&record.user) {
            record.host.clear();
            record.addr = [0; 16];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: &[u8], user: &[u8], host: &[u8]) -> Record {
        Record {
            kind: RecordKind::UserProcess,
            line: line.to_vec(),
            user: user.to_vec(),
            host: host.to_vec(),
            ..Record::default()
        }
    }

    #[test]
    fn validation_refuses_what_could_fool_a_reader() {
        assert!(validate(&rec(b"pts/1", b"alice", b"example.org")).is_ok());
        assert!(validate(&rec("tty\u{e9}".as_bytes(), "j\u{f6}rg".as_bytes(), b"")).is_ok());
        for bad in [
            rec(b"pts/1", b"al\x1b[2Jice", b""),
            rec(b"pts/1", b"alice", b"h\x9bost"),
            rec(b"pts/1", b"alice", "h\u{9b}".as_bytes()),
            rec(b"pts/1", b"alice\x7f", b""),
            rec(b"../etc/passwd", b"alice", b""),
            rec(b"/dev/pts/1", b"alice", b""),
            rec(b"pts/1", b"\xff", b""),
        ] {
            assert!(validate(&bad).is_err(), "{bad:?}");
        }
        let mut odd = rec(b"pts/1", b"a", b"");
        odd.kind = RecordKind::Other(42);
        assert!(validate(&odd).is_err());
    }

    #[test]
    fn terminals_resolve_only_through_root_directories() {
        // Character devices root owns, by their plain names.
        assert!(owns_terminal(b"null", 0));
        assert!(owns_terminal(b"pts/ptmx", 0));
        assert!(!owns_terminal(b"null", 65534));
        // Not a character device; empty or "." components; no such name.
        assert!(!owns_terminal(b"pts", 0));
        for odd in [
            &b""[..],
            b"/null",
            b"pts//ptmx",
            b"./null",
            b"pts/",
            b"nope/null",
        ] {
            assert!(!owns_terminal(odd, 0), "{}", String::from_utf8_lossy(odd));
        }
    }

    #[test]
    fn rate_limiter_allows_bursts_then_refuses() {
        let mut limiter = RateLimiter::new(2);
        let now = Instant::now();
        let allowed = (0..100).filter(|_| limiter.allow(7, now)).count();
        assert_eq!(allowed, 20);
        assert!(limiter.allow(8, now));
        assert!(limiter.allow(7, now + std::time::Duration::from_secs(1)));
    }
}
