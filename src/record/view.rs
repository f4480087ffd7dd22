//! Records read in place: a borrowed view of each entry, decoded field by
//! field only when asked, for readers that walk a whole history file
//! (`last` over millions of records) without allocating per record.
//!
//! Records are viewed straight from a chunk of a file's bytes (offsets as
//! in `legacy` and `native`, checked against them by a test); a native
//! record is viewed only once `valid` has checked its checksum.

use super::{c_field, native, Format};

/// One record's fields as `last` needs them; text fields are C strings
/// (up to the first NUL), times whole seconds.
#[derive(Clone, Copy)]
pub struct View<'a> {
    pub kind: i16,
    pub pid: i32,
    pub line: &'a [u8],
    pub user: &'a [u8],
    /// The host field as stored; `host()` cuts it at its NUL. Left raw
    /// because most records never print it and it is 256 bytes wide.
    pub host_raw: &'a [u8],
    pub addr: [u8; 16],
    pub secs: i64,
}

impl<'a> View<'a> {
    pub fn host(&self) -> &'a [u8] {
        let raw = self.host_raw;
        let mut at = 0;
        while at + 32 <= raw.len() {
            let part = c_field32(raw, at);
            if part.len() < 32 {
                return &raw[..at + part.len()];
            }
            at += 32;
        }
        c_field(raw)
    }
}

// Field access for `get`, which runs for every record of files with
// millions of them: each checks its bounds once and then reads with
// constant-size moves, so no slice-indexing or memcpy call is left in
// the loop even in the size-optimised build.

/// N bytes at `at` as an array (for from_le_bytes).
#[inline(always)]
fn word<const N: usize>(r: &[u8], at: usize) -> [u8; N] {
    assert!(at + N <= r.len());
    // SAFETY: in bounds by the assert; [u8; N] has no alignment needs.
    unsafe { std::ptr::read_unaligned(r.as_ptr().add(at) as *const [u8; N]) }
}

/// `len` bytes at `at`.
#[inline(always)]
fn sub(r: &[u8], at: usize, len: usize) -> &[u8] {
    assert!(at + len <= r.len());
    // SAFETY: in bounds by the assert, borrowed from `r`.
    unsafe { std::slice::from_raw_parts(r.as_ptr().add(at), len) }
}

/// The 32-byte C field at `at`, up to its first NUL, a word at a time.
#[inline(always)]
fn c_field32(r: &[u8], at: usize) -> &[u8] {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut len = 32;
    for i in 0..4 {
        let x = u64::from_le_bytes(word(r, at + 8 * i));
        let zero = x.wrapping_sub(LO) & !x & HI;
        if zero != 0 {
            len = i * 8 + (zero.trailing_zeros() / 8) as usize;
            break;
        }
    }
    sub(r, at, len)
}

/// Where a legacy layout keeps what moves between glibc and utmpx.
#[derive(Clone, Copy)]
struct Layout {
    size: usize,
    time: usize,
    wide_time: bool,
    addr: usize,
}

const GLIBC: Layout = Layout {
    size: 384,
    time: 340,
    wide_time: false,
    addr: 348,
};
const UTMPX: Layout = Layout {
    size: 400,
    time: 344,
    wide_time: true,
    addr: 360,
};

/// A run of records, indexable from either end: a chunk of a file's bytes
/// (`chunk`) or a daemon's answer, which carries native records.
pub enum Records<'a> {
    Legacy {
        bytes: &'a [u8],
        layout: LayoutRef,
    },
    /// Native records, each to be checked with `valid` before `get`.
    Native {
        bytes: &'a [u8],
    },
}

/// Opaque handle on a legacy layout.
#[derive(Clone, Copy)]
pub struct LayoutRef(Layout);

/// The whole records of `bytes`, a run of `format` records.
pub fn chunk(format: Format, bytes: &[u8]) -> Records<'_> {
    let layout = match format {
        Format::Native => return Records::Native { bytes },
        Format::Utmpx => UTMPX,
        Format::Glibc => GLIBC,
    };
    let whole = bytes.len() - bytes.len() % layout.size;
    Records::Legacy {
        bytes: &bytes[..whole],
        layout: LayoutRef(layout),
    }
}

impl<'a> Records<'a> {
    pub fn len(&self) -> usize {
        match self {
            Records::Legacy { bytes, layout } => bytes.len() / layout.0.size,
            Records::Native { bytes } => bytes.len() / native::RECORD_SIZE,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// False for a native record whose checksum fails: it is corrupt and
    /// must be skipped, never read.
    #[inline]
    pub fn valid(&self, index: usize) -> bool {
        match *self {
            Records::Native { bytes } => {
                let size = native::RECORD_SIZE;
                native::checksum_ok(sub(bytes, index * size, size))
            }
            _ => true,
        }
    }

    /// The record at `index` (< len).
    #[inline(always)]
    pub fn get(&self, index: usize) -> View<'a> {
        match *self {
            Records::Legacy { bytes, layout } => {
                let l = layout.0;
                let r = &bytes[index * l.size..(index + 1) * l.size];
                let secs = if l.wide_time {
                    i64::from_le_bytes(word(r, l.time))
                } else {
                    i32::from_le_bytes(word(r, l.time)) as i64
                };
                View {
                    kind: i16::from_le_bytes(word(r, 0)),
                    pid: i32::from_le_bytes(word(r, 4)),
                    line: c_field32(r, 8),
                    user: c_field32(r, 44),
                    host_raw: sub(r, 76, 256),
                    addr: word(r, l.addr),
                    secs,
                }
            }
            Records::Native { bytes } => {
                let size = native::RECORD_SIZE;
                let r = sub(bytes, index * size, size);
                // The user field is 64 bytes: two 32-byte halves.
                let mut user = c_field32(r, native::USER);
                if user.len() == 32 {
                    user = sub(r, native::USER, 32 + c_field32(r, native::USER + 32).len());
                }
                View {
                    kind: i16::from_le_bytes(word(r, 0)),
                    pid: i32::from_le_bytes(word(r, 4)),
                    line: c_field32(r, native::LINE),
                    user,
                    host_raw: sub(r, native::HOST, native::HOST_MAX),
                    addr: word(r, 24),
                    secs: i64::from_le_bytes(word(r, 16)).div_euclid(1_000_000),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{encode_file, testgen, Record};

    #[test]
    fn views_agree_with_the_decoders() {
        let mut rng = testgen::Rng::new(11);
        let mut records: Vec<Record> = (0..300).map(|_| testgen::legacy_record(&mut rng)).collect();
        records.extend((0..100).map(|_| testgen::native_record(&mut rng)));
        for format in [Format::Glibc, Format::Utmpx, Format::Native] {
            let fits: Vec<Record> = records
                .iter()
                .filter(|r| format == Format::Native || r.user.len() <= 32)
                .filter(|r| format != Format::Glibc || i32::try_from(r.time_secs()).is_ok())
                .cloned()
                .collect();
            let bytes = encode_file(&fits, format).unwrap();
            assert_eq!(crate::record::detect(&bytes), format);
            let base = if format == Format::Native { 64 } else { 0 };
            let view = chunk(format, &bytes[base..]);
            assert_eq!(view.len(), fits.len());
            for (i, r) in fits.iter().enumerate() {
                assert!(view.valid(i));
                let v = view.get(i);
                assert_eq!(v.kind, r.kind.raw());
                assert_eq!(v.pid, r.pid);
                assert_eq!(v.line, &r.line[..]);
                assert_eq!(v.user, &r.user[..]);
                assert_eq!(v.host(), &r.host[..]);
                assert_eq!(v.addr, r.addr);
                assert_eq!(v.secs, r.time_secs());
            }
        }
    }

    #[test]
    fn word_at_a_time_nul_search() {
        for len in 0..=32 {
            let mut field = [b'x'; 32];
            if len < 31 {
                field[31] = 0x80;
            }
            if len < 32 {
                field[len] = 0;
            }
            assert_eq!(c_field32(&field, 0).len(), len);
        }
        assert_eq!(
            c_field32(
                b"\x01\x80\xff\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
                0
            ),
            b"\x01\x80\xff"
        );
    }

    #[test]
    fn partial_tail_is_left_out_and_corrupt_records_are_not_valid() {
        let mut rng = testgen::Rng::new(3);
        let records: Vec<Record> = (0..5).map(|_| testgen::legacy_record(&mut rng)).collect();
        let mut bytes = encode_file(&records, Format::Glibc).unwrap();
        bytes.extend_from_slice(&[7; 100]);
        assert_eq!(chunk(Format::Glibc, &bytes).len(), 5);
        let mut native = encode_file(&records, Format::Native).unwrap();
        native[64 + 512 + 9] ^= 1;
        let view = chunk(Format::Native, &native[64..]);
        assert_eq!(view.len(), 5);
        assert!(view.valid(0) && !view.valid(1) && view.valid(2));
    }
}
