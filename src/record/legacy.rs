//! The C `struct utmp`/`struct utmpx` layouts written by libc on disk.
//!
//! Both share offsets up to `ut_session`; they differ in where the time sits
//! and how wide it is. Legacy files are read as little-endian (x86, aarch64,
//! riscv: every platform utmpbox targets).
//!
//! | field        | glibc 384   | utmpx 400        |
//! |--------------|-------------|------------------|
//! | ut_type i16  | 0           | 0                |
//! | ut_pid i32   | 4           | 4                |
//! | ut_line[32]  | 8           | 8                |
//! | ut_id[4]     | 40          | 40               |
//! | ut_user[32]  | 44          | 44               |
//! | ut_host[256] | 76          | 76               |
//! | ut_exit      | 332         | 332              |
//! | ut_session   | 336 i32     | 336 i32 + pad    |
//! | tv_sec       | 340 i32     | 344 i64          |
//! | tv_usec      | 344 i32     | 352 i64          |
//! | ut_addr_v6   | 348         | 360              |
//! | reserved     | 364..384    | 376..400         |

use super::{
    c_field, le_i16, le_i32, le_i64, put_field, Decoded, ExitStatus, Format, FormatError, Record,
    RecordKind,
};

const LINE: usize = 8;
const ID: usize = 40;
const USER: usize = 44;
const HOST: usize = 76;
const EXIT: usize = 332;
const SESSION: usize = 336;

/// Where a layout keeps the fields that move between the two.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Layout {
    pub size: usize,
    time: usize,
    wide_time: bool,
    addr: usize,
    format: Format,
}

impl Layout {
    pub const GLIBC: Layout = Layout {
        size: 384,
        time: 340,
        wide_time: false,
        addr: 348,
        format: Format::Glibc,
    };
    pub const UTMPX: Layout = Layout {
        size: 400,
        time: 344,
        wide_time: true,
        addr: 360,
        format: Format::Utmpx,
    };
}

/// `tv_sec` and `tv_usec` as stored, before any normalisation; `bytes`
/// must be at least `layout.size` long.
pub fn raw_time(bytes: &[u8], layout: Layout) -> (i64, i64) {
    if layout.wide_time {
        (le_i64(bytes, layout.time), le_i64(bytes, layout.time + 8))
    } else {
        (
            le_i32(bytes, layout.time) as i64,
            le_i32(bytes, layout.time + 4) as i64,
        )
    }
}

/// Decode one record; `bytes` must be at least `layout.size` long.
pub fn decode(bytes: &[u8], layout: Layout) -> Record {
    let (sec, usec) = raw_time(bytes, layout);
    let mut addr = [0u8; 16];
    addr.copy_from_slice(&bytes[layout.addr..layout.addr + 16]);
    Record {
        kind: RecordKind::from_raw(le_i16(bytes, 0)),
        pid: le_i32(bytes, 4),
        session: le_i32(bytes, SESSION),
        line: c_field(&bytes[LINE..LINE + 32]).to_vec(),
        id: c_field(&bytes[ID..ID + 4]).to_vec(),
        user: c_field(&bytes[USER..USER + 32]).to_vec(),
        host: c_field(&bytes[HOST..HOST + 256]).to_vec(),
        exit: ExitStatus {
            termination: le_i16(bytes, EXIT),
            exit: le_i16(bytes, EXIT + 2),
        },
        addr,
        time_us: micros(sec, usec),
    }
}

/// `tv_sec` and `tv_usec` as microseconds, clamped to what an i64 holds.
/// Clamped once, on the exact sum: saturating the product first, then
/// adding, would turn a time `encode` wrote near the limit into another
/// one (found by the legacy_record fuzz target).
fn micros(sec: i64, usec: i64) -> i64 {
    let exact = sec as i128 * 1_000_000 + usec as i128;
    exact.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// Encode one record; a field or time the layout cannot hold is an error.
pub fn encode(record: &Record, layout: Layout) -> Result<Vec<u8>, FormatError> {
    let mut out = vec![0u8; layout.size];
    out[0..2].copy_from_slice(&record.kind.raw().to_le_bytes());
    out[4..8].copy_from_slice(&record.pid.to_le_bytes());
    put_field(&mut out[LINE..LINE + 32], &record.line, "line")?;
    put_field(&mut out[ID..ID + 4], &record.id, "id")?;
    put_field(&mut out[USER..USER + 32], &record.user, "user")?;
    put_field(&mut out[HOST..HOST + 256], &record.host, "host")?;
    out[EXIT..EXIT + 2].copy_from_slice(&record.exit.termination.to_le_bytes());
    out[EXIT + 2..EXIT + 4].copy_from_slice(&record.exit.exit.to_le_bytes());
    out[SESSION..SESSION + 4].copy_from_slice(&record.session.to_le_bytes());
    let sec = record.time_secs();
    let usec = record.time_subsec_us();
    if layout.wide_time {
        out[layout.time..layout.time + 8].copy_from_slice(&sec.to_le_bytes());
        out[layout.time + 8..layout.time + 16].copy_from_slice(&usec.to_le_bytes());
    } else {
        let sec = i32::try_from(sec).map_err(|_| FormatError::TimeOutOfRange {
            time_us: record.time_us,
        })?;
        out[layout.time..layout.time + 4].copy_from_slice(&sec.to_le_bytes());
        out[layout.time + 4..layout.time + 8].copy_from_slice(&(usec as i32).to_le_bytes());
    }
    out[layout.addr..layout.addr + 16].copy_from_slice(&record.addr);
    Ok(out)
}

/// Decode every whole record; the remainder is reported as `trailing`.
pub fn decode_all(bytes: &[u8], layout: Layout) -> Decoded {
    let records = bytes
        .chunks_exact(layout.size)
        .map(|chunk| decode(chunk, layout))
        .collect();
    Decoded {
        format: layout.format,
        records,
        trailing: bytes.len() % layout.size,
        corrupt: Vec::new(),
    }
}

/// How much a file that starts with `bytes` and is `len` bytes long looks
/// like a file of this layout: a score where higher is more plausible,
/// comparable between layouts for the same file.
pub fn plausibility(bytes: &[u8], len: u64, layout: Layout) -> u64 {
    let sample: Vec<&[u8]> = bytes.chunks_exact(layout.size).take(256).collect();
    if sample.is_empty() {
        return 0;
    }
    let good = sample.iter().filter(|r| looks_valid(r, layout)).count() as u64;
    // Per-mille of plausible records, then a whole-file bonus that breaks
    // ties between files whose sizes only one layout divides.
    let mut score = good * 1000 / sample.len() as u64 * 2;
    if len % layout.size as u64 == 0 {
        score += 1;
    }
    score
}

fn looks_valid(record: &[u8], layout: Layout) -> bool {
    let kind = le_i16(record, 0);
    if !(0..=9).contains(&kind) || record[2] != 0 || record[3] != 0 {
        return false;
    }
    let usec = if layout.wide_time {
        if record[340..344].iter().any(|&b| b != 0) {
            return false;
        }
        let sec = le_i64(record, layout.time);
        // 1 << 40 seconds is about 35,000 years either side of 1970.
        if !(-(1i64 << 40)..(1i64 << 40)).contains(&sec) {
            return false;
        }
        le_i64(record, layout.time + 8)
    } else {
        le_i32(record, layout.time + 4) as i64
    };
    (0..1_000_000).contains(&usec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::testgen;

    fn sample() -> Record {
        Record {
            kind: RecordKind::UserProcess,
            pid: 1001,
            session: 7,
            line: b"pts/0".to_vec(),
            id: b"ts/0".to_vec(),
            user: b"alice".to_vec(),
            host: b"192.168.1.10".to_vec(),
            exit: ExitStatus {
                termination: 1,
                exit: 2,
            },
            addr: [192, 168, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            time_us: 1_763_630_100_000_042,
        }
    }

    #[test]
    fn glibc_golden_bytes() {
        let bytes = encode(&sample(), Layout::GLIBC).unwrap();
        assert_eq!(bytes.len(), 384);
        assert_eq!(&bytes[0..8], &[7, 0, 0, 0, 0xe9, 0x03, 0, 0]);
        assert_eq!(&bytes[8..14], b"pts/0\0");
        assert_eq!(&bytes[40..44], b"ts/0");
        assert_eq!(&bytes[44..50], b"alice\0");
        assert_eq!(&bytes[76..89], b"192.168.1.10\0");
        assert_eq!(&bytes[332..340], &[1, 0, 2, 0, 7, 0, 0, 0]);
        // 1763630100 = 0x691EDC14, usec 42
        assert_eq!(&bytes[340..348], &[0x14, 0xdc, 0x1e, 0x69, 42, 0, 0, 0]);
        assert_eq!(&bytes[348..352], &[192, 168, 1, 10]);
        assert!(bytes[352..].iter().all(|&b| b == 0));
        assert_eq!(decode(&bytes, Layout::GLIBC), sample());
    }

    #[test]
    fn utmpx_golden_bytes() {
        let bytes = encode(&sample(), Layout::UTMPX).unwrap();
        assert_eq!(bytes.len(), 400);
        assert_eq!(&bytes[336..344], &[7, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            &bytes[344..360],
            &[0x14, 0xdc, 0x1e, 0x69, 0, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(&bytes[360..364], &[192, 168, 1, 10]);
        assert_eq!(decode(&bytes, Layout::UTMPX), sample());
    }

    #[test]
    fn glibc_refuses_times_past_2038_and_before_1901() {
        let mut record = sample();
        record.time_us = (i32::MAX as i64 + 1) * 1_000_000;
        assert_eq!(
            encode(&record, Layout::GLIBC),
            Err(FormatError::TimeOutOfRange {
                time_us: record.time_us
            })
        );
        record.time_us = (i32::MIN as i64 - 1) * 1_000_000;
        assert!(encode(&record, Layout::GLIBC).is_err());
        // The wide layout holds both.
        assert_eq!(
            decode(&encode(&record, Layout::UTMPX).unwrap(), Layout::UTMPX),
            record
        );
    }

    #[test]
    fn negative_times_round_trip() {
        let mut record = sample();
        record.time_us = -1_500_001; // 1969-12-31T23:59:58.499999
        for layout in [Layout::GLIBC, Layout::UTMPX] {
            assert_eq!(decode(&encode(&record, layout).unwrap(), layout), record);
        }
    }

    #[test]
    fn times_at_the_i64_limits_round_trip_in_utmpx() {
        let mut record = sample();
        for time_us in [i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 1] {
            record.time_us = time_us;
            let bytes = encode(&record, Layout::UTMPX).unwrap();
            assert_eq!(decode(&bytes, Layout::UTMPX), record);
        }
    }

    #[test]
    fn too_long_fields_are_errors() {
        let mut record = sample();
        record.user = vec![b'u'; 33];
        assert_eq!(
            encode(&record, Layout::GLIBC),
            Err(FormatError::FieldTooLong {
                field: "user",
                len: 33,
                max: 32
            })
        );
        record.user = vec![b'u'; 32];
        assert_eq!(
            decode(&encode(&record, Layout::GLIBC).unwrap(), Layout::GLIBC),
            record
        );
    }

    #[test]
    fn partial_tail_is_counted_not_decoded() {
        let mut bytes = encode(&sample(), Layout::GLIBC).unwrap();
        bytes.extend_from_slice(&[1, 2, 3]);
        let decoded = decode_all(&bytes, Layout::GLIBC);
        assert_eq!(decoded.records.len(), 1);
        assert_eq!(decoded.trailing, 3);
    }

    #[test]
    fn detection_tells_the_layouts_apart() {
        let mut rng = testgen::Rng::new(7);
        for n in 1..60 {
            let records: Vec<Record> = (0..n).map(|_| testgen::legacy_record(&mut rng)).collect();
            for (layout, format) in [
                (Layout::GLIBC, Format::Glibc),
                (Layout::UTMPX, Format::Utmpx),
            ] {
                let bytes: Vec<u8> = records
                    .iter()
                    .flat_map(|r| encode(r, layout).unwrap())
                    .collect();
                assert_eq!(crate::record::detect(&bytes), format, "{n} records");
            }
        }
    }

    #[test]
    fn round_trip_random_records() {
        let mut rng = testgen::Rng::new(1);
        for _ in 0..2000 {
            let record = testgen::legacy_record(&mut rng);
            for layout in [Layout::GLIBC, Layout::UTMPX] {
                let bytes = encode(&record, layout).unwrap();
                assert_eq!(decode(&bytes, layout), record);
                assert_eq!(encode(&decode(&bytes, layout), layout).unwrap(), bytes);
            }
        }
    }
}
