//! Legacy lastlog files: one record per uid at `uid * size`, a sparse file.
//!
//! | layout      | ll_time    | ll_line[32] | ll_host[256] | size |
//! |-------------|------------|-------------|--------------|------|
//! | glibc       | 0 (i32)    | 4           | 36           | 292  |
//! | musl/utmps  | 0 (i64)    | 8           | 40           | 296  |
//!
//! A lastlog entry is a `Record` of kind `UserProcess` holding time, line and
//! host; the user name is not stored in the legacy file (the uid is the
//! index), so callers fill it in. The native lastlog is a native file of
//! `FileKind::Lastlog` keyed by user name instead.

use super::{c_field, le_i32, le_i64, put_field, FormatError, Record, RecordKind};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct LastlogLayout {
    pub size: usize,
    wide_time: bool,
}

impl LastlogLayout {
    pub const GLIBC: LastlogLayout = LastlogLayout {
        size: 292,
        wide_time: false,
    };
    pub const MUSL: LastlogLayout = LastlogLayout {
        size: 296,
        wide_time: true,
    };

    fn line_at(self) -> usize {
        if self.wide_time {
            8
        } else {
            4
        }
    }
}

/// Decode the entry at `bytes` (at least `layout.size` long). A zero time
/// means "never logged in", as shadow reads it.
pub fn decode(bytes: &[u8], layout: LastlogLayout) -> Option<Record> {
    let secs = if layout.wide_time {
        le_i64(bytes, 0)
    } else {
        le_i32(bytes, 0) as i64
    };
    if secs == 0 {
        return None;
    }
    let line = layout.line_at();
    Some(Record {
        kind: RecordKind::UserProcess,
        line: c_field(&bytes[line..line + 32]).to_vec(),
        host: c_field(&bytes[line + 32..line + 32 + 256]).to_vec(),
        time_us: secs.saturating_mul(1_000_000),
        ..Record::default()
    })
}

/// The entry for `uid` in a whole legacy file, or None if never logged in
/// (past the end of the file counts as never, as in shadow).
#[cfg(test)]
pub fn entry_for_uid(file: &[u8], uid: u32, layout: LastlogLayout) -> Option<Record> {
    let start = (uid as usize).checked_mul(layout.size)?;
    let end = start.checked_add(layout.size)?;
    decode(file.get(start..end)?, layout)
}

pub fn encode(record: &Record, layout: LastlogLayout) -> Result<Vec<u8>, FormatError> {
    let mut out = vec![0u8; layout.size];
    let secs = record.time_secs();
    if layout.wide_time {
        out[0..8].copy_from_slice(&secs.to_le_bytes());
    } else {
        let secs = i32::try_from(secs).map_err(|_| FormatError::TimeOutOfRange {
            time_us: record.time_us,
        })?;
        out[0..4].copy_from_slice(&secs.to_le_bytes());
    }
    let line = layout.line_at();
    put_field(&mut out[line..line + 32], &record.line, "line")?;
    put_field(&mut out[line + 32..line + 32 + 256], &record.host, "host")?;
    Ok(out)
}

/// Tell 292-byte from 296-byte files. The size settles it when only one
/// stride divides it; otherwise look at the last record (the highest uid
/// that ever logged in, so never a hole): a 296-byte record has the high
/// half of a 64-bit time there, zero for any time before year 2106.
#[cfg(test)]
pub fn detect(file: &[u8]) -> LastlogLayout {
    let tail = &file[file.len().saturating_sub(296)..];
    detect_tail(file.len() as u64, tail)
}

/// `detect` from the file's size and its last 296 bytes (or the whole file
/// when shorter), so a reader can decide without reading a sparse file
/// whose apparent size may be a terabyte.
pub fn detect_tail(len: u64, tail: &[u8]) -> LastlogLayout {
    let glibc = len % 292 == 0;
    let musl = len % 296 == 0;
    match (glibc, musl) {
        (true, false) => LastlogLayout::GLIBC,
        (false, true) => LastlogLayout::MUSL,
        _ if len >= 296 && tail.len() >= 296 => {
            let last = &tail[tail.len() - 296..];
            if last[4..8] == [0, 0, 0, 0] && last[0..4] != [0, 0, 0, 0] {
                LastlogLayout::MUSL
            } else {
                LastlogLayout::GLIBC
            }
        }
        _ => LastlogLayout::GLIBC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Record {
        Record {
            kind: RecordKind::UserProcess,
            line: b"pts/0".to_vec(),
            host: b"192.168.1.10".to_vec(),
            time_us: 1_764_180_660_000_000,
            ..Record::default()
        }
    }

    #[test]
    fn golden_bytes_292() {
        let b = encode(&entry(), LastlogLayout::GLIBC).unwrap();
        assert_eq!(b.len(), 292);
        assert_eq!(&b[0..4], &1_764_180_660i32.to_le_bytes());
        assert_eq!(&b[4..10], b"pts/0\0");
        assert_eq!(&b[36..49], b"192.168.1.10\0");
        assert_eq!(decode(&b, LastlogLayout::GLIBC), Some(entry()));
    }

    #[test]
    fn golden_bytes_296() {
        let b = encode(&entry(), LastlogLayout::MUSL).unwrap();
        assert_eq!(b.len(), 296);
        assert_eq!(&b[0..8], &1_764_180_660i64.to_le_bytes());
        assert_eq!(&b[8..14], b"pts/0\0");
        assert_eq!(&b[40..53], b"192.168.1.10\0");
        assert_eq!(decode(&b, LastlogLayout::MUSL), Some(entry()));
    }

    #[test]
    fn indexed_by_uid_and_past_end_is_never() {
        for layout in [LastlogLayout::GLIBC, LastlogLayout::MUSL] {
            let mut file = vec![0u8; layout.size * 3];
            let b = encode(&entry(), layout).unwrap();
            file[layout.size * 2..].copy_from_slice(&b);
            assert_eq!(detect(&file), layout);
            assert_eq!(entry_for_uid(&file, 2, layout), Some(entry()));
            assert_eq!(entry_for_uid(&file, 1, layout), None);
            assert_eq!(entry_for_uid(&file, 3, layout), None);
            assert_eq!(entry_for_uid(&file, u32::MAX, layout), None);
        }
    }

    #[test]
    fn glibc_refuses_time_past_2038() {
        let mut e = entry();
        e.time_us = 3_000_000_000_000_000;
        assert!(encode(&e, LastlogLayout::GLIBC).is_err());
        assert_eq!(
            decode(
                &encode(&e, LastlogLayout::MUSL).unwrap(),
                LastlogLayout::MUSL
            ),
            Some(e)
        );
    }
}
