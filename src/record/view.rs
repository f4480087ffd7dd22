//! Records read in place: a borrowed view of each entry, decoded field by
//! field only when asked, for readers that walk a whole history file
//! (`last` over millions of records) without allocating per record.
//!
//! Legacy files are viewed straight from their bytes (offsets as in
//! `legacy`, checked against it by a test); native files, whose records
//! carry checksums, are decoded once by `decode_file` and viewed from there.

use super::{c_field, Decoded, Format, FormatError, Record};

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

/// A whole file's records, indexable from either end.
pub enum Records<'a> {
    Legacy { bytes: &'a [u8], layout: LayoutRef },
    Decoded(&'a [Record]),
}

/// Opaque handle on a legacy layout.
#[derive(Clone, Copy)]
pub struct LayoutRef(Layout);

/// A native file decoded (checksums checked), or None for a legacy file,
/// which `records` views in place.
pub fn decode_if_native(bytes: &[u8]) -> Result<Option<Decoded>, FormatError> {
    match super::detect(bytes) {
        Format::Native => super::decode_as(bytes, Format::Native).map(Some),
        _ => Ok(None),
    }
}

/// The records of a file's bytes: from `native` when `decode_if_native`
/// gave one, else viewed in place. The second value is the count of
/// trailing bytes that make no whole record.
pub fn records<'a>(bytes: &'a [u8], native: Option<&'a Decoded>) -> (Records<'a>, usize) {
    if let Some(decoded) = native {
        return (Records::Decoded(&decoded.records), decoded.trailing);
    }
    let layout = match super::detect(bytes) {
        Format::Utmpx => UTMPX,
        _ => GLIBC,
    };
    let whole = bytes.len() - bytes.len() % layout.size;
    (
        Records::Legacy {
            bytes: &bytes[..whole],
            layout: LayoutRef(layout),
        },
        bytes.len() - whole,
    )
}

impl<'a> Records<'a> {
    pub fn len(&self) -> usize {
        match self {
            Records::Legacy { bytes, layout } => bytes.len() / layout.0.size,
            Records::Decoded(records) => records.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The record at `index` (< len).
    #[inline]
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
            Records::Decoded(records) => {
                let r = &records[index];
                View {
                    kind: r.kind.raw(),
                    pid: r.pid,
                    line: &r.line,
                    user: &r.user,
                    host_raw: &r.host,
                    addr: r.addr,
                    secs: r.time_secs(),
                }
            }
        }
    }
}

/// The bytes of a file: mapped when it is a regular file (so a history of
/// hundreds of megabytes is neither copied nor held twice), read otherwise
/// (pipes, /dev/stdin).
pub struct FileBytes {
    map: Option<(*mut libc::c_void, usize)>,
    data: Vec<u8>,
    /// The file's status-change time, which `last` prints for an empty file.
    pub ctime: i64,
}

impl FileBytes {
    pub fn open(path: &std::path::Path) -> std::io::Result<FileBytes> {
        use std::io::Read;
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        let mut file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        let ctime = meta.ctime();
        let len = meta.len() as usize;
        if meta.is_file() && len > 0 {
            // SAFETY: a read-only private mapping of a file we hold open;
            // the pointer is checked and unmapped in Drop. A writer that
            // truncates the file underneath could raise SIGBUS, as with
            // any mapped reader; wtmp is only ever appended to.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE,
                    file.as_raw_fd(),
                    0,
                )
            };
            if ptr != libc::MAP_FAILED {
                return Ok(FileBytes {
                    map: Some((ptr, len)),
                    data: Vec::new(),
                    ctime,
                });
            }
        }
        let mut data = Vec::new();
        file.read_to_end(&mut data)?;
        Ok(FileBytes {
            map: None,
            data,
            ctime,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        match self.map {
            // SAFETY: the mapping is `len` readable bytes until Drop.
            Some((ptr, len)) => unsafe { std::slice::from_raw_parts(ptr as *const u8, len) },
            None => &self.data,
        }
    }
}

impl Drop for FileBytes {
    fn drop(&mut self) {
        if let Some((ptr, len)) = self.map {
            // SAFETY: unmapping exactly what open() mapped.
            unsafe {
                libc::munmap(ptr, len);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{encode_file, testgen};

    #[test]
    fn views_agree_with_the_decoders() {
        let mut rng = testgen::Rng::new(11);
        let records: Vec<Record> = (0..300).map(|_| testgen::legacy_record(&mut rng)).collect();
        for format in [Format::Glibc, Format::Utmpx, Format::Native] {
            let bytes = encode_file(&records, format).unwrap();
            assert_eq!(crate::record::detect(&bytes), format);
            let native = decode_if_native(&bytes).unwrap();
            let (view, trailing) = super::records(&bytes, native.as_ref());
            assert_eq!(trailing, 0);
            assert_eq!(view.len(), records.len());
            for (i, r) in records.iter().enumerate() {
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
    fn partial_tail_is_left_out() {
        let mut rng = testgen::Rng::new(3);
        let records: Vec<Record> = (0..5).map(|_| testgen::legacy_record(&mut rng)).collect();
        let mut bytes = encode_file(&records, Format::Glibc).unwrap();
        bytes.extend_from_slice(&[7; 100]);
        let (view, trailing) = super::records(&bytes, None);
        assert_eq!((view.len(), trailing), (5, 100));
    }

    #[test]
    fn a_native_reserve_is_not_records_but_legacy_zeros_are() {
        let mut rng = testgen::Rng::new(12);
        let records: Vec<Record> = (0..4).map(|_| testgen::legacy_record(&mut rng)).collect();
        let mut native = encode_file(&records, Format::Native).unwrap();
        native.extend_from_slice(&[0u8; 8 * crate::record::native::RECORD_SIZE]);
        let decoded = decode_if_native(&native).unwrap();
        let (view, trailing) = super::records(&native, decoded.as_ref());
        assert_eq!((view.len(), trailing), (4, 0));
        assert_eq!(view.get(3).pid, records[3].pid);
        // A glibc file's zero records are empty entries: still records.
        let mut glibc = encode_file(&records, Format::Glibc).unwrap();
        glibc.extend_from_slice(&[0u8; 2 * 384]);
        let (view, trailing) = super::records(&glibc, None);
        assert_eq!((view.len(), trailing), (6, 0));
    }
}
