//! The wire protocol between clients and utmpd/wtmpd (docs/PROTOCOL.md).
//!
//! Every message is a frame: a little-endian u32 length of the body, then
//! the body: version (1 byte), op or status (1 byte), two reserved zero
//! bytes, then the payload. Records travel in the native 512-byte encoding
//! with its CRC, so a damaged record is detected like on disk. Every
//! decoder here takes hostile bytes and never panics: a short, long or
//! malformed payload is an error value.

// The decoders of replies are used by the client's read half (see
// src/read/client.rs).
#![allow(dead_code)]

use crate::record::native::{self, RECORD_SIZE};
use crate::record::Record;

pub const VERSION: u8 = 1;
/// Bytes of the length prefix.
pub const PREFIX: usize = 4;
/// Bytes of the body header: version, op/status, two reserved.
pub const BODY_HEADER: usize = 4;
/// The largest request body a daemon accepts: a record plus a filter fits
/// with room to spare; anything larger is hostile or broken.
pub const MAX_REQUEST: usize = 2048;
/// The largest reply body a client accepts (a full utmp table is 2 MiB).
pub const MAX_REPLY: usize = 16 << 20;
/// The most records a history read returns in one batch.
pub const MAX_BATCH: usize = 1024;

pub const SOCKET_UTMPD: &str = "utmpd.sock";
pub const SOCKET_WTMPD: &str = "wtmpd.sock";

/// Requests. utmpd answers 0x0_, wtmpd 0x1_ (history) and 0x2_ (lastlog).
pub mod utmps;

pub mod op {
    pub const UTMP_LIST: u8 = 0x01;
    pub const UTMP_GET_ID: u8 = 0x02;
    pub const UTMP_GET_LINE: u8 = 0x03;
    pub const UTMP_PUT: u8 = 0x04;
    pub const LOG_APPEND: u8 = 0x10;
    pub const LOG_STAT: u8 = 0x11;
    pub const LOG_READ: u8 = 0x12;
    pub const LASTLOG_GET: u8 = 0x20;
    pub const LASTLOG_LIST: u8 = 0x21;
    pub const LASTLOG_SET: u8 = 0x22;
    pub const LASTLOG_CLEAR: u8 = 0x23;
}

/// Reply status: 0 is success, anything else carries a message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Status {
    Ok = 0,
    NotFound = 1,
    BadRequest = 2,
    TooLarge = 3,
    Denied = 4,
    Invalid = 5,
    Limit = 6,
    Io = 7,
    Unsupported = 8,
}

impl Status {
    pub fn from_raw(raw: u8) -> Status {
        match raw {
            0 => Status::Ok,
            1 => Status::NotFound,
            2 => Status::BadRequest,
            3 => Status::TooLarge,
            4 => Status::Denied,
            5 => Status::Invalid,
            6 => Status::Limit,
            7 => Status::Io,
            _ => Status::Unsupported,
        }
    }
}

/// The history files wtmpd keeps.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum LogDb {
    Wtmp = 1,
    Btmp = 2,
}

impl LogDb {
    pub fn from_raw(raw: u8) -> Option<LogDb> {
        match raw {
            1 => Some(LogDb::Wtmp),
            2 => Some(LogDb::Btmp),
            _ => None,
        }
    }
}

/// A whole frame: prefix, body header, payload.
pub fn frame(code: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX + BODY_HEADER + payload.len());
    out.extend_from_slice(&((BODY_HEADER + payload.len()) as u32).to_le_bytes());
    out.extend_from_slice(&[VERSION, code, 0, 0]);
    out.extend_from_slice(payload);
    out
}

/// A whole frame whose payload `payload` writes in place (a history
/// batch is half a megabyte: built once, not copied into a frame).
pub fn frame_with(code: u8, capacity: usize, payload: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(PREFIX + BODY_HEADER + capacity);
    out.extend_from_slice(&[0, 0, 0, 0, VERSION, code, 0, 0]);
    payload(&mut out);
    let body = (out.len() - PREFIX) as u32;
    out[..PREFIX].copy_from_slice(&body.to_le_bytes());
    out
}

/// A reply frame with an error status and a one-line message.
pub fn error_frame(status: Status, message: &str) -> Vec<u8> {
    let bytes = message.as_bytes();
    frame(status as u8, &bytes[..bytes.len().min(512)])
}

/// The body length announced by a prefix.
pub fn body_len(prefix: &[u8]) -> usize {
    u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize
}

/// Split a body into (op or status, payload), checking version and size.
pub fn split_body(body: &[u8]) -> Result<(u8, &[u8]), &'static str> {
    if body.len() < BODY_HEADER {
        return Err("frame shorter than its header");
    }
    if body[0] != VERSION {
        return Err("unsupported protocol version");
    }
    if body[2] != 0 || body[3] != 0 {
        return Err("reserved bytes are not zero");
    }
    Ok((body[1], &body[BODY_HEADER..]))
}

/// What the front of a daemon's input buffer holds (see `take_request`).
#[derive(PartialEq, Eq, Debug)]
pub enum Incoming {
    /// Not a whole request yet: read more. The buffer is untouched.
    Partial,
    /// The prefix announces a body length outside `BODY_HEADER..=MAX_REQUEST`.
    /// The stream cannot be resynchronised after it: end the connection.
    BadLength(usize),
    /// A whole frame was taken, but its body header is wrong (version,
    /// reserved bytes): end the connection with this reason.
    Malformed(&'static str),
    /// A whole request, taken off the front of the buffer.
    Request(Request),
}

/// One request frame a daemon read, split into its op and payload.
#[derive(PartialEq, Eq, Debug)]
pub struct Request {
    pub code: u8,
    /// The whole frame, prefix and body header included.
    frame: Vec<u8>,
}

impl Request {
    pub fn payload(&self) -> &[u8] {
        &self.frame[PREFIX + BODY_HEADER..]
    }
}

/// Take the first request off a daemon's input buffer, leaving any bytes
/// after it (the start of a pipelined request) in the buffer. Never
/// `Partial` once the buffer holds `PREFIX + MAX_REQUEST` bytes, so a
/// reader that stops reading at that size cannot stall.
pub fn take_request(input: &mut Vec<u8>) -> Incoming {
    if input.len() < PREFIX {
        return Incoming::Partial;
    }
    let len = body_len(input);
    if !(BODY_HEADER..=MAX_REQUEST).contains(&len) {
        return Incoming::BadLength(len);
    }
    if input.len() < PREFIX + len {
        return Incoming::Partial;
    }
    let rest = input.split_off(PREFIX + len);
    let frame = std::mem::replace(input, rest);
    match split_body(&frame[PREFIX..]) {
        Ok((code, _)) => Incoming::Request(Request { code, frame }),
        Err(why) => Incoming::Malformed(why),
    }
}

/// A cursor over a payload; every read checks the length.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.bytes.len() < n {
            return Err("payload too short");
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, &'static str> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32, &'static str> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64, &'static str> {
        let mut w = [0u8; 8];
        w.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(w))
    }

    pub fn i64(&mut self) -> Result<i64, &'static str> {
        Ok(self.u64()? as i64)
    }

    /// A u8-length-prefixed byte string.
    pub fn short_bytes(&mut self) -> Result<&'a [u8], &'static str> {
        let n = self.u8()? as usize;
        self.take(n)
    }

    /// A u16-length-prefixed byte string.
    pub fn bytes16(&mut self) -> Result<&'a [u8], &'static str> {
        let n = self.u16()? as usize;
        self.take(n)
    }

    pub fn record(&mut self) -> Result<Record, &'static str> {
        native::decode(self.take(RECORD_SIZE)?).ok_or("record checksum mismatch")
    }

    /// A u32 count, then that many records, left in their native bytes
    /// (each checksum checked): readers view them in place.
    pub fn raw_records(&mut self) -> Result<&'a [u8], &'static str> {
        let count = self.u32()? as usize;
        if count > self.bytes.len() / RECORD_SIZE {
            return Err("record count exceeds payload");
        }
        let raw = self.take(count * RECORD_SIZE)?;
        if raw.chunks_exact(RECORD_SIZE).all(native::checksum_ok) {
            Ok(raw)
        } else {
            Err("record checksum mismatch")
        }
    }

    /// A u32 count, then that many records.
    pub fn records(&mut self) -> Result<Vec<Record>, &'static str> {
        let count = self.u32()? as usize;
        if count > self.bytes.len() / RECORD_SIZE {
            return Err("record count exceeds payload");
        }
        (0..count).map(|_| self.record()).collect()
    }

    /// Nothing may follow the last field.
    pub fn end(&self) -> Result<(), &'static str> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err("trailing bytes after the payload")
        }
    }
}

/// Append a record in the native encoding. Records that reach here were
/// validated or decoded, so their fields fit; a too-long field is dropped
/// to the error the caller reports.
pub fn put_record(out: &mut Vec<u8>, record: &Record) -> Result<(), &'static str> {
    let bytes = native::encode(record).map_err(|_| "record field too long")?;
    out.extend_from_slice(&bytes);
    Ok(())
}

pub fn put_records<'r>(
    out: &mut Vec<u8>,
    records: impl ExactSizeIterator<Item = &'r Record>,
) -> Result<(), &'static str> {
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    for record in records {
        put_record(out, record)?;
    }
    Ok(())
}

pub fn put_short_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len().min(255);
    out.push(n as u8);
    out.extend_from_slice(&bytes[..n]);
}

pub fn put_bytes16(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len().min(u16::MAX as usize);
    out.extend_from_slice(&(n as u16).to_le_bytes());
    out.extend_from_slice(&bytes[..n]);
}

/// What a history read asks for: records older than `before` (an index in
/// the file; `u64::MAX` for the end), newest first, at most `max`, only
/// those matching every filter given.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct ReadQuery {
    pub before: u64,
    pub max: u16,
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    pub user: Option<Vec<u8>>,
    pub line: Option<Vec<u8>>,
    /// Only records whose user or line equals one of these (`lastb
    /// alice pts/3`); None for no such filter.
    pub any: Option<Vec<Vec<u8>>>,
    /// The reply also lists the index of each corrupt record the batch
    /// skipped, so a reader reports it as it would from the file.
    pub report_corrupt: bool,
    /// With `any`: instead of only the records naming one of `any`, what
    /// `last NAMES` needs to pair their sessions as it would over the
    /// whole history (docs/PROTOCOL.md, filter 64; `log_store`).
    pub sessions: bool,
}

const F_SINCE: u8 = 1;
const F_UNTIL: u8 = 2;
const F_USER: u8 = 4;
const F_LINE: u8 = 8;
const F_CORRUPT: u8 = 16;
const F_ANY: u8 = 32;
const F_SESSIONS: u8 = 64;
/// Every filter flag a daemon knows.
pub const READ_FLAGS: u8 = F_SINCE | F_UNTIL | F_USER | F_LINE | F_CORRUPT | F_ANY | F_SESSIONS;
/// The most names an `any` filter carries; a client sends names of at
/// most 32 bytes (a native record's user and line), so the request stays
/// far under MAX_REQUEST.
pub const MAX_ANY: usize = 16;

impl ReadQuery {
    pub fn encode(&self, db: LogDb) -> Vec<u8> {
        let mut out = vec![db as u8];
        let flags = self.since_us.map_or(0, |_| F_SINCE)
            | self.until_us.map_or(0, |_| F_UNTIL)
            | self.user.as_ref().map_or(0, |_| F_USER)
            | self.line.as_ref().map_or(0, |_| F_LINE)
            | if self.report_corrupt { F_CORRUPT } else { 0 }
            | self.any.as_ref().map_or(0, |_| F_ANY)
            | if self.sessions && self.any.is_some() {
                F_SESSIONS
            } else {
                0
            };
        out.push(flags);
        out.extend_from_slice(&self.max.to_le_bytes());
        out.extend_from_slice(&self.before.to_le_bytes());
        out.extend_from_slice(&self.since_us.unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&self.until_us.unwrap_or(0).to_le_bytes());
        put_short_bytes(&mut out, self.user.as_deref().unwrap_or(b""));
        put_short_bytes(&mut out, self.line.as_deref().unwrap_or(b""));
        // Appended only when asked for, so a query without it is byte for
        // byte what version 1 daemons before it read.
        if let Some(any) = &self.any {
            let any = &any[..any.len().min(u8::MAX as usize)];
            out.push(any.len() as u8);
            for name in any {
                put_short_bytes(&mut out, name);
            }
        }
        out
    }

    pub fn decode(payload: &[u8]) -> Result<(LogDb, ReadQuery), &'static str> {
        let mut r = Reader::new(payload);
        let db = LogDb::from_raw(r.u8()?).ok_or("unknown database")?;
        let flags = r.u8()?;
        if flags & !READ_FLAGS != 0 {
            return Err("unknown filter flags");
        }
        if flags & F_SESSIONS != 0 && flags & F_ANY == 0 {
            return Err("filter 64 without names");
        }
        let max = r.u16()?;
        let before = r.u64()?;
        let since = r.i64()?;
        let until = r.i64()?;
        let user = r.short_bytes()?.to_vec();
        let line = r.short_bytes()?.to_vec();
        let any = if flags & F_ANY != 0 {
            let count = r.u8()? as usize;
            if count > MAX_ANY {
                return Err("too many names");
            }
            let mut any = Vec::with_capacity(count);
            for _ in 0..count {
                any.push(r.short_bytes()?.to_vec());
            }
            Some(any)
        } else {
            None
        };
        r.end()?;
        Ok((
            db,
            ReadQuery {
                before,
                max,
                since_us: (flags & F_SINCE != 0).then_some(since),
                until_us: (flags & F_UNTIL != 0).then_some(until),
                user: (flags & F_USER != 0).then_some(user),
                line: (flags & F_LINE != 0).then_some(line),
                any,
                report_corrupt: flags & F_CORRUPT != 0,
                sessions: flags & F_SESSIONS != 0,
            },
        ))
    }

    /// Whether a record's native bytes pass every filter; with
    /// `sessions`, every filter but the names, which `log_store` applies.
    pub fn matches_raw(&self, raw: &[u8]) -> bool {
        let time_us = crate::record::le_i64(raw, 16);
        if !(self.since_us.map_or(true, |t| time_us >= t)
            && self.until_us.map_or(true, |t| time_us <= t))
        {
            return false;
        }
        let names_here = self.any.is_some() && !self.sessions;
        if self.user.is_none() && self.line.is_none() && !names_here {
            // Most reads: no field to look at.
            return true;
        }
        let field = |at: usize, len: usize| crate::record::c_field(&raw[at..at + len]);
        let user = field(native::USER, native::USER_MAX);
        let line = field(native::LINE, native::LINE_MAX);
        self.user.as_ref().map_or(true, |u| user == &u[..])
            && self.line.as_ref().map_or(true, |l| line == &l[..])
            && (self.sessions || self.any.as_ref().map_or(true, |any| names(any, user, line)))
    }
}

/// Whether `user` or `line` equals one of `names`.
pub fn names(names: &[Vec<u8>], user: &[u8], line: &[u8]) -> bool {
    names.iter().any(|n| user == &n[..] || line == &n[..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::testgen;

    #[test]
    fn frame_golden_bytes() {
        assert_eq!(
            frame(op::UTMP_LIST, b""),
            vec![4, 0, 0, 0, VERSION, 0x01, 0, 0]
        );
        let f = error_frame(Status::Denied, "no");
        assert_eq!(f, vec![6, 0, 0, 0, VERSION, 4, 0, 0, b'n', b'o']);
        assert_eq!(body_len(&f), 6);
        assert_eq!(split_body(&f[4..]), Ok((4, &b"no"[..])));
    }

    #[test]
    fn bad_bodies_are_errors() {
        assert!(split_body(b"\x01\x01\x00").is_err());
        assert!(split_body(b"\x02\x01\x00\x00").is_err());
        assert!(split_body(b"\x01\x01\x00\x01").is_err());
    }

    #[test]
    fn take_request_splits_pipelined_frames() {
        let mut input = frame(op::UTMP_LIST, b"");
        input.extend(frame(op::LOG_STAT, &[1]));
        input.extend_from_slice(&[9, 0]); // the start of a third
        let Incoming::Request(first) = take_request(&mut input) else {
            panic!("no first request");
        };
        assert_eq!((first.code, first.payload()), (op::UTMP_LIST, &b""[..]));
        let Incoming::Request(second) = take_request(&mut input) else {
            panic!("no second request");
        };
        assert_eq!((second.code, second.payload()), (op::LOG_STAT, &[1u8][..]));
        assert_eq!(take_request(&mut input), Incoming::Partial);
        assert_eq!(input, [9, 0]);
    }

    #[test]
    fn take_request_refuses_bad_lengths_and_headers() {
        let mut short = vec![3, 0, 0, 0, VERSION, 1, 0];
        assert_eq!(take_request(&mut short), Incoming::BadLength(3));
        let mut long = ((MAX_REQUEST + 1) as u32).to_le_bytes().to_vec();
        assert_eq!(
            take_request(&mut long),
            Incoming::BadLength(MAX_REQUEST + 1)
        );
        let mut reserved = vec![4, 0, 0, 0, VERSION, 1, 0, 7, 0xaa];
        assert_eq!(
            take_request(&mut reserved),
            Incoming::Malformed("reserved bytes are not zero")
        );
        assert_eq!(reserved, [0xaa]);
        // The largest request fills the buffer the loop reads into.
        let mut full = frame(op::LOG_APPEND, &[0; MAX_REQUEST - BODY_HEADER]);
        assert_eq!(full.len(), PREFIX + MAX_REQUEST);
        assert!(matches!(take_request(&mut full), Incoming::Request(_)));
        assert!(full.is_empty());
    }

    #[test]
    fn read_query_round_trips_and_rejects_garbage() {
        let q = ReadQuery {
            before: 77,
            max: 10,
            since_us: Some(-5),
            until_us: None,
            user: Some(b"alice".to_vec()),
            line: None,
            any: Some(vec![b"bob".to_vec(), b"pts/3".to_vec()]),
            report_corrupt: true,
            sessions: true,
        };
        let bytes = q.encode(LogDb::Btmp);
        assert_eq!(ReadQuery::decode(&bytes), Ok((LogDb::Btmp, q.clone())));
        for cut in 0..bytes.len() {
            assert!(ReadQuery::decode(&bytes[..cut]).is_err());
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(ReadQuery::decode(&extra).is_err());
        // Filter 64 qualifies the names of filter 32: alone it is refused.
        let alone = ReadQuery {
            any: None,
            ..q.clone()
        };
        let mut bytes = alone.encode(LogDb::Wtmp);
        assert_eq!(bytes[1] & 64, 0, "not sent without names");
        assert!(ReadQuery::decode(&bytes).is_ok());
        bytes[1] |= 64;
        assert!(ReadQuery::decode(&bytes).is_err());
    }

    #[test]
    fn records_round_trip_and_count_is_bounded() {
        let mut rng = testgen::Rng::new(9);
        let records: Vec<Record> = (0..5).map(|_| testgen::native_record(&mut rng)).collect();
        let mut out = Vec::new();
        put_records(&mut out, records.iter()).unwrap();
        assert_eq!(Reader::new(&out).records().unwrap(), records);
        out[0] = 200;
        assert!(Reader::new(&out).records().is_err());
        // Random garbage never panics.
        for _ in 0..500 {
            let len = rng.below(2000) as usize;
            let junk = rng.bytes(len);
            let _ = Reader::new(&junk).records();
            let _ = ReadQuery::decode(&junk);
            let _ = split_body(&junk);
        }
    }
}
