//! skarnet utmps 0.1.x's wire protocol, as libutmps speaks it
//! (docs/PROTOCOL.md, "The utmps protocol"): a one-byte opcode, then a
//! payload whose size the opcode fixes; replies are `0x00` and a raw
//! `struct utmpx`, or one errno byte. Records are the 400-byte x86_64
//! `struct utmpx`, native-endian (little-endian on every target).
//!
//! This module only frames and converts; the daemons decide what a
//! request does (utmpd/utmps.rs, wtmpd/utmps.rs) with the native
//! protocol's policy.

use crate::protocol::Status;
use crate::record::legacy::{self, Layout};
use crate::record::{c_field, Record, RecordKind};

/// Size of `struct utmpx` on the wire.
pub const UTMPX_SIZE: usize = 400;

/// utmpd's requests.
pub const GETENT: u8 = b'e';
pub const GETID: u8 = b'i';
pub const GETLINE: u8 = b'l';
pub const PUTLINE: u8 = b'E';
pub const REWIND: u8 = b'r';
/// wtmpd's one request.
pub const APPEND: u8 = b'+';

/// The payload of getid: a big-endian `unsigned short` ut_type, then the
/// 4-byte ut_id.
pub const GETID_LEN: usize = 2 + 4;
/// The payload of getline: the 32-byte ut_line.
pub const GETLINE_LEN: usize = 32;

/// Payload size of each utmpd request; None: not a utmpd request.
pub fn utmpd_request_len(op: u8) -> Option<usize> {
    match op {
        GETENT | REWIND => Some(0),
        GETID => Some(GETID_LEN),
        GETLINE => Some(GETLINE_LEN),
        PUTLINE => Some(UTMPX_SIZE),
        _ => None,
    }
}

/// Payload size of each wtmpd request; None: not a wtmpd request.
pub fn wtmpd_request_len(op: u8) -> Option<usize> {
    (op == APPEND).then_some(UTMPX_SIZE)
}

/// The most a request occupies (opcode and payload).
pub const MAX_REQUEST: usize = 1 + UTMPX_SIZE;

/// What the input buffer of a utmps connection holds.
pub enum Incoming {
    /// Not yet a whole request.
    Partial,
    /// A whole request, removed from the buffer.
    Request { op: u8, payload: Vec<u8> },
    /// An opcode the daemon does not serve.
    Unknown,
}

/// Take the first whole request off `input`; `len_of` gives the payload
/// size of each opcode the daemon serves.
pub fn take_request(input: &mut Vec<u8>, len_of: impl Fn(u8) -> Option<usize>) -> Incoming {
    let Some(&op) = input.first() else {
        return Incoming::Partial;
    };
    let Some(len) = len_of(op) else {
        return Incoming::Unknown;
    };
    if input.len() < 1 + len {
        return Incoming::Partial;
    }
    let payload = input[1..1 + len].to_vec();
    input.drain(..1 + len);
    Incoming::Request { op, payload }
}

/// The errno byte a refusal or failure travels as. utmps answers only
/// errno values; the native statuses map onto the nearest ones.
pub fn errno_of(status: Status) -> u8 {
    let errno = match status {
        Status::Ok => 0,
        Status::NotFound => libc::ESRCH,
        Status::Denied => libc::EPERM,
        Status::Invalid | Status::BadRequest | Status::TooLarge => libc::EINVAL,
        Status::Limit => libc::EAGAIN,
        Status::Io => libc::EIO,
        Status::Unsupported => libc::EPROTO,
    };
    errno as u8
}

/// A reply of one errno byte (0: success).
pub fn status_reply(errno: u8) -> Vec<u8> {
    vec![errno]
}

/// A struct utmpx off the wire, as a record. Text fields end at their
/// first NUL (or fill the field), as utmps' own `strncmp`s read them.
pub fn decode(bytes: &[u8]) -> Option<Record> {
    (bytes.len() == UTMPX_SIZE).then(|| legacy::decode(bytes, Layout::UTMPX))
}

/// A successful record reply: `0x00` and the record as a struct utmpx.
/// A field wider than utmpx's (a native client may store a longer user
/// or host) is cut to fit, as glibc's getutxent would show it.
pub fn record_reply(record: &Record) -> Vec<u8> {
    let mut fitted = record.clone();
    fitted.line.truncate(32);
    fitted.id.truncate(4);
    fitted.user.truncate(32);
    fitted.host.truncate(256);
    let mut out = Vec::with_capacity(1 + UTMPX_SIZE);
    out.push(0);
    match legacy::encode(&fitted, Layout::UTMPX) {
        Ok(bytes) => out.extend_from_slice(&bytes),
        Err(_) => return status_reply(libc::EIO as u8),
    }
    out
}

/// utmps-utmpd's `idmatch`: boot and clock-change records match on type
/// alone; process records match any process record with the same ut_id
/// (compared as `strncmp` does, up to a NUL); anything else (RUN_LVL,
/// EMPTY, ACCOUNTING) never matches.
pub fn id_matches(kind: i16, id: &[u8], entry: &Record) -> bool {
    use RecordKind::*;
    let process =
        |k: RecordKind| matches!(k, InitProcess | LoginProcess | UserProcess | DeadProcess);
    match RecordKind::from_raw(kind) {
        BootTime | OldTime | NewTime => entry.kind.raw() == kind,
        k if process(k) => process(entry.kind) && c_field(id) == entry.id.as_slice(),
        _ => false,
    }
}

/// utmps-utmpd's getline match: a LOGIN or USER record on that line.
pub fn line_matches(line: &[u8], entry: &Record) -> bool {
    matches!(
        entry.kind,
        RecordKind::LoginProcess | RecordKind::UserProcess
    ) && c_field(line) == entry.line.as_slice()
}

/// The payload of getid: (ut_type, ut_id). The type is an `unsigned
/// short` in network order; utmps compares it with ut_type as such.
pub fn getid_key(payload: &[u8]) -> (i16, &[u8]) {
    let raw = u16::from_be_bytes([payload[0], payload[1]]);
    (raw as i16, &payload[2..GETID_LEN])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(kind: RecordKind, id: &[u8], line: &[u8]) -> Record {
        Record {
            kind,
            id: id.to_vec(),
            line: line.to_vec(),
            ..Record::default()
        }
    }

    #[test]
    fn requests_are_framed_by_their_opcode() {
        let mut input = b"e".to_vec();
        input.extend_from_slice(b"i\x00\x07ab");
        assert!(matches!(
            take_request(&mut input, utmpd_request_len),
            Incoming::Request { op: GETENT, ref payload } if payload.is_empty()
        ));
        assert!(matches!(
            take_request(&mut input, utmpd_request_len),
            Incoming::Partial
        ));
        input.extend_from_slice(b"\x00\x00");
        match take_request(&mut input, utmpd_request_len) {
            Incoming::Request { op: GETID, payload } => {
                assert_eq!(getid_key(&payload), (7, &b"ab\0\0"[..]))
            }
            _ => panic!("getid not framed"),
        }
        assert!(input.is_empty());
        input.push(b'+');
        assert!(matches!(
            take_request(&mut input, utmpd_request_len),
            Incoming::Unknown
        ));
    }

    #[test]
    fn matching_follows_utmps_utmpd() {
        use RecordKind::*;
        let user = rec(UserProcess, b"ts/1", b"pts/1");
        assert!(id_matches(8, b"ts/1", &user));
        assert!(!id_matches(8, b"ts/2", &user));
        assert!(id_matches(2, b"", &rec(BootTime, b"~~", b"~")));
        assert!(!id_matches(1, b"~~", &rec(RunLevel, b"~~", b"~")));
        assert!(!id_matches(0, b"", &rec(Empty, b"", b"")));
        assert!(line_matches(b"pts/1\0garbage", &user));
        assert!(!line_matches(
            b"pts/1",
            &rec(DeadProcess, b"ts/1", b"pts/1")
        ));
    }

    #[test]
    fn replies_fit_struct_utmpx() {
        let mut r = rec(RecordKind::UserProcess, b"ts/1", b"pts/1");
        r.user = vec![b'u'; 40];
        let reply = record_reply(&r);
        assert_eq!(reply.len(), 1 + UTMPX_SIZE);
        assert_eq!(reply[0], 0);
        let back = decode(&reply[1..]).unwrap_or_default();
        assert_eq!(back.user, vec![b'u'; 32]);
        assert_eq!(errno_of(Status::Denied), libc::EPERM as u8);
    }
}
