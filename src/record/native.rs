//! utmpbox's own on-disk format (docs/FORMAT.md has the full table).
//!
//! A 64-byte header, then fixed 512-byte little-endian records, each ending
//! in a CRC-32 of the bytes before it. Fixed size lets files be read
//! backwards and slots be rewritten in place; the checksum means a torn or
//! corrupted record is detected, never misread.

use super::{
    c_field, le_i16, le_i32, le_i64, le_u32, put_field, Decoded, ExitStatus, Format, FormatError,
    Record, RecordKind,
};

pub const MAGIC: &[u8; 8] = b"UTMPBOX\0";
pub const VERSION: u16 = 1;
pub const HEADER_SIZE: usize = 64;
pub const RECORD_SIZE: usize = 512;

pub const LINE_MAX: usize = 32;
pub const ID_MAX: usize = 4;
pub const USER_MAX: usize = 64;
pub const HOST_MAX: usize = 256;

pub(crate) const LINE: usize = 40;
const ID: usize = LINE + LINE_MAX; // 72
pub(crate) const USER: usize = ID + ID_MAX; // 76
pub(crate) const HOST: usize = USER + USER_MAX; // 140
const CRC: usize = RECORD_SIZE - 4; // 508

/// What a native file holds; recorded in the header so a daemon never
/// mistakes one file for another.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FileKind {
    /// An append-only history: wtmp, btmp, or a converted legacy file.
    Log = 1,
    /// The current-sessions table, one slot per session.
    Utmp = 2,
    /// Last login per user, one slot per user name.
    Lastlog = 3,
}

impl FileKind {
    fn from_raw(raw: u32) -> Option<FileKind> {
        match raw {
            1 => Some(FileKind::Log),
            2 => Some(FileKind::Utmp),
            3 => Some(FileKind::Lastlog),
            _ => None,
        }
    }
}

pub fn has_magic(bytes: &[u8]) -> bool {
    bytes.len() >= MAGIC.len() && &bytes[..MAGIC.len()] == MAGIC
}

/// The 64-byte file header.
pub fn header(kind: FileKind) -> [u8; HEADER_SIZE] {
    let mut h = [0u8; HEADER_SIZE];
    h[0..8].copy_from_slice(MAGIC);
    h[8..10].copy_from_slice(&VERSION.to_le_bytes());
    h[10..12].copy_from_slice(&(HEADER_SIZE as u16).to_le_bytes());
    h[12..16].copy_from_slice(&(RECORD_SIZE as u32).to_le_bytes());
    h[16..20].copy_from_slice(&(kind as u32).to_le_bytes());
    let crc = crc32(&h[..HEADER_SIZE - 4]);
    h[HEADER_SIZE - 4..].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Check a header and say what kind of file it starts.
pub fn parse_header(bytes: &[u8]) -> Result<FileKind, FormatError> {
    if bytes.len() < HEADER_SIZE || !has_magic(bytes) {
        return Err(FormatError::BadHeader("too short or no magic"));
    }
    if le_u32(bytes, HEADER_SIZE - 4) != crc32(&bytes[..HEADER_SIZE - 4]) {
        return Err(FormatError::BadHeader("header checksum mismatch"));
    }
    if le_i16(bytes, 8) as u16 != VERSION {
        return Err(FormatError::BadHeader("unsupported version"));
    }
    if le_i16(bytes, 10) as usize != HEADER_SIZE || le_u32(bytes, 12) as usize != RECORD_SIZE {
        return Err(FormatError::BadHeader("unexpected header or record size"));
    }
    FileKind::from_raw(le_u32(bytes, 16)).ok_or(FormatError::BadHeader("unknown file kind"))
}

pub fn encode(record: &Record) -> Result<[u8; RECORD_SIZE], FormatError> {
    let mut out = [0u8; RECORD_SIZE];
    out[0..2].copy_from_slice(&record.kind.raw().to_le_bytes());
    out[4..8].copy_from_slice(&record.pid.to_le_bytes());
    out[8..12].copy_from_slice(&record.session.to_le_bytes());
    out[12..14].copy_from_slice(&record.exit.termination.to_le_bytes());
    out[14..16].copy_from_slice(&record.exit.exit.to_le_bytes());
    out[16..24].copy_from_slice(&record.time_us.to_le_bytes());
    out[24..40].copy_from_slice(&record.addr);
    put_field(&mut out[LINE..ID], &record.line, "line")?;
    put_field(&mut out[ID..USER], &record.id, "id")?;
    put_field(&mut out[USER..HOST], &record.user, "user")?;
    put_field(&mut out[HOST..HOST + HOST_MAX], &record.host, "host")?;
    let crc = crc32(&out[..CRC]);
    out[CRC..].copy_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// The checksum stored in a whole record (`bytes` of RECORD_SIZE).
pub fn stored_crc(bytes: &[u8]) -> u32 {
    le_u32(bytes, CRC)
}

/// True when `bytes` holds a whole record whose checksum matches.
pub fn checksum_ok(bytes: &[u8]) -> bool {
    bytes.len() >= RECORD_SIZE && le_u32(bytes, CRC) == crc32(&bytes[..CRC])
}

/// Decode one record; `None` when its checksum does not match.
pub fn decode(bytes: &[u8]) -> Option<Record> {
    if !checksum_ok(bytes) {
        return None;
    }
    let mut addr = [0u8; 16];
    addr.copy_from_slice(&bytes[24..40]);
    Some(Record {
        kind: RecordKind::from_raw(le_i16(bytes, 0)),
        pid: le_i32(bytes, 4),
        session: le_i32(bytes, 8),
        exit: ExitStatus {
            termination: le_i16(bytes, 12),
            exit: le_i16(bytes, 14),
        },
        time_us: le_i64(bytes, 16),
        addr,
        line: c_field(&bytes[LINE..ID]).to_vec(),
        id: c_field(&bytes[ID..USER]).to_vec(),
        user: c_field(&bytes[USER..HOST]).to_vec(),
        host: c_field(&bytes[HOST..HOST + HOST_MAX]).to_vec(),
    })
}

/// Decode a whole native file: header, then records. Corrupt records are
/// listed by index and skipped; a partial record at the end is `trailing`;
/// zero records at the end (before any partial one) are free space.
pub fn decode_all(bytes: &[u8]) -> Result<Decoded, FormatError> {
    parse_header(bytes)?;
    let body = &bytes[HEADER_SIZE..];
    let whole = body.len() - body.len() % RECORD_SIZE;
    let used = used_len(&body[..whole]);
    let mut records = Vec::with_capacity(used / RECORD_SIZE);
    let mut corrupt = Vec::new();
    for (index, chunk) in body[..used].chunks_exact(RECORD_SIZE).enumerate() {
        match decode(chunk) {
            Some(record) => records.push(record),
            None => corrupt.push(index as u64),
        }
    }
    Ok(Decoded {
        format: Format::Native,
        records,
        trailing: body.len() % RECORD_SIZE,
        corrupt,
    })
}

/// How much of `body` (whole records) holds records: all of it but the
/// run of all-zero records at its end, which is a log's reserve of free
/// space. A zero record cannot be a record: its checksum field would be 0,
/// and crc32 of 508 zero bytes is not.
pub fn used_len(body: &[u8]) -> usize {
    let mut end = body.len() - body.len() % RECORD_SIZE;
    while end >= RECORD_SIZE && is_zero(&body[end - RECORD_SIZE..end]) {
        end -= RECORD_SIZE;
    }
    end
}

/// True when every byte is zero: free space in a native log.
pub fn is_zero(bytes: &[u8]) -> bool {
    // Eight bytes at a time: a reserve can be many KiB to skip.
    let mut words = bytes.chunks_exact(8);
    words.all(|w| u64::from_ne_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]) == 0)
        && words.remainder().iter().all(|&b| b == 0)
}

/// Byte offset of record `index` in a native file.
pub fn offset_of(index: u64) -> u64 {
    HEADER_SIZE as u64 + index * RECORD_SIZE as u64
}

pub use super::crc32::crc32;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::testgen;

    #[test]
    fn crc32_matches_zlib() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
        // Every length and alignment agrees with the bytewise definition.
        let data: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
        for start in 0..9 {
            for end in start..data.len() {
                let slice = &data[start..end];
                let mut c = !0u32;
                for &b in slice {
                    c ^= b as u32;
                    for _ in 0..8 {
                        c = if c & 1 != 0 {
                            0xEDB8_8320 ^ (c >> 1)
                        } else {
                            c >> 1
                        };
                    }
                }
                assert_eq!(crc32(slice), !c, "{start}..{end}");
            }
        }
    }

    #[test]
    fn header_golden_bytes() {
        let h = header(FileKind::Log);
        assert_eq!(
            &h[..20],
            b"UTMPBOX\0\x01\x00\x40\x00\x00\x02\x00\x00\x01\x00\x00\x00"
        );
        assert!(h[20..60].iter().all(|&b| b == 0));
        assert_eq!(parse_header(&h), Ok(FileKind::Log));
        let mut bad = h;
        bad[16] = 9;
        assert!(parse_header(&bad).is_err());
    }

    #[test]
    fn record_golden_bytes() {
        let record = Record {
            kind: RecordKind::UserProcess,
            pid: 0x0102_0304,
            session: -1,
            line: b"pts/0".to_vec(),
            id: b"ts/0".to_vec(),
            user: vec![b'u'; 64],
            host: b"h".to_vec(),
            exit: ExitStatus {
                termination: 3,
                exit: -2,
            },
            addr: [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            time_us: 4_102_444_800_000_001, // 2100-01-01T00:00:00.000001Z
        };
        let b = encode(&record).unwrap();
        assert_eq!(
            &b[0..16],
            &[7, 0, 0, 0, 4, 3, 2, 1, 0xff, 0xff, 0xff, 0xff, 3, 0, 0xfe, 0xff]
        );
        assert_eq!(&b[16..24], &4_102_444_800_000_001i64.to_le_bytes());
        assert_eq!(&b[24..28], &[0x20, 0x01, 0x0d, 0xb8]);
        assert_eq!(&b[40..46], b"pts/0\0");
        assert_eq!(&b[72..76], b"ts/0");
        assert_eq!(&b[76..140], &[b'u'; 64][..]);
        assert_eq!(&b[140..142], b"h\0");
        assert!(b[396..508].iter().all(|&x| x == 0));
        assert_eq!(le_u32(&b, 508), crc32(&b[..508]));
        assert_eq!(decode(&b), Some(record));
    }

    #[test]
    fn any_flipped_bit_is_detected() {
        let mut rng = testgen::Rng::new(3);
        let record = testgen::native_record(&mut rng);
        let good = encode(&record).unwrap();
        for bit in 0..RECORD_SIZE * 8 {
            let mut bad = good;
            bad[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(decode(&bad), None, "bit {bit}");
        }
    }

    #[test]
    fn corrupt_and_partial_records_are_reported() {
        let mut rng = testgen::Rng::new(4);
        let records: Vec<Record> = (0..3).map(|_| testgen::native_record(&mut rng)).collect();
        let mut file = crate::record::encode_file(&records, Format::Native).unwrap();
        file[HEADER_SIZE + RECORD_SIZE + 100] ^= 0x40;
        file.extend_from_slice(&[0u8; 100]);
        let decoded = decode_all(&file).unwrap();
        assert_eq!(
            decoded.records,
            vec![records[0].clone(), records[2].clone()]
        );
        assert_eq!(decoded.corrupt, vec![1]);
        assert_eq!(decoded.trailing, 100);
    }

    #[test]
    fn trailing_zero_records_are_free_space() {
        let mut rng = testgen::Rng::new(6);
        let records: Vec<Record> = (0..3).map(|_| testgen::native_record(&mut rng)).collect();
        let plain = crate::record::encode_file(&records, Format::Native).unwrap();
        // A reserve of zero records: not records, not corrupt.
        let mut file = plain.clone();
        file.extend_from_slice(&[0u8; 5 * RECORD_SIZE]);
        let decoded = decode_all(&file).unwrap();
        assert_eq!(decoded.records, records);
        assert_eq!((decoded.corrupt.len(), decoded.trailing), (0, 0));
        // A partial record after it is still reported.
        file.extend_from_slice(&[0u8; 100]);
        let decoded = decode_all(&file).unwrap();
        assert_eq!((decoded.records.len(), decoded.trailing), (3, 100));
        // A file that is all reserve holds no records.
        let mut empty = plain[..HEADER_SIZE].to_vec();
        empty.extend_from_slice(&[0u8; 4 * RECORD_SIZE]);
        let decoded = decode_all(&empty).unwrap();
        assert!(decoded.records.is_empty() && decoded.corrupt.is_empty());
        // A zero record with a real one after it is corrupt, as before.
        let mut middle = plain[..HEADER_SIZE + RECORD_SIZE].to_vec();
        middle.extend_from_slice(&[0u8; RECORD_SIZE]);
        middle.extend_from_slice(&plain[HEADER_SIZE + RECORD_SIZE..]);
        middle.extend_from_slice(&[0u8; 2 * RECORD_SIZE]);
        let decoded = decode_all(&middle).unwrap();
        assert_eq!(decoded.records, records);
        assert_eq!(decoded.corrupt, vec![1]);
        // Why a zero record can never be a real one.
        assert_ne!(crc32(&[0u8; CRC]), 0);
        assert_eq!(decode(&[0u8; RECORD_SIZE]), None);
    }

    #[test]
    fn extreme_times_round_trip() {
        let mut rng = testgen::Rng::new(5);
        for time_us in [
            i64::MIN,
            i64::MAX,
            -1,
            0,
            2_147_483_648_000_000,
            -62_135_596_800_000_000,
        ] {
            let mut record = testgen::native_record(&mut rng);
            record.time_us = time_us;
            assert_eq!(decode(&encode(&record).unwrap()), Some(record));
        }
    }

    #[test]
    fn round_trip_random_records() {
        let mut rng = testgen::Rng::new(6);
        for _ in 0..2000 {
            let record = testgen::native_record(&mut rng);
            assert_eq!(decode(&encode(&record).unwrap()), Some(record));
        }
    }
}
