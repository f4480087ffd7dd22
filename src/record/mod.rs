//! The one record-format module: the `Record` every applet and daemon uses,
//! and every codec that turns records into bytes and back.
//!
//! Codecs:
//! - `native`: utmpbox's own files (header, fixed 512-byte LE records, CRC).
//! - `legacy`: glibc 384-byte utmp/wtmp/btmp and the 400-byte 64-bit-time
//!   utmpx layout (musl >= 1.2, skarnet utmps, glibc aarch64).
//! - `lastlog`: legacy lastlog, 292 and 296 bytes, indexed by uid.
//! - `text`: util-linux `utmpdump` lines (`inet`: their address column).
//!
//! Every decoder takes arbitrary bytes and never panics: bad input is an
//! error value, and a partial record at the end of a file is reported as
//! `trailing` so the caller can warn about it.

mod crc32;
pub mod inet;
pub mod last_kind;
pub mod lastlog;
pub mod legacy;
pub mod native;
pub mod text;
pub mod view;

use std::fmt;

/// The ten ut_type kinds, plus any other value found in a legacy file so that
/// it survives a dump and an undump unchanged.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Empty,
    RunLevel,
    BootTime,
    NewTime,
    OldTime,
    InitProcess,
    LoginProcess,
    UserProcess,
    DeadProcess,
    Accounting,
    Other(i16),
}

impl RecordKind {
    pub fn from_raw(raw: i16) -> RecordKind {
        match raw {
            0 => RecordKind::Empty,
            1 => RecordKind::RunLevel,
            2 => RecordKind::BootTime,
            3 => RecordKind::NewTime,
            4 => RecordKind::OldTime,
            5 => RecordKind::InitProcess,
            6 => RecordKind::LoginProcess,
            7 => RecordKind::UserProcess,
            8 => RecordKind::DeadProcess,
            9 => RecordKind::Accounting,
            other => RecordKind::Other(other),
        }
    }

    pub fn raw(self) -> i16 {
        match self {
            RecordKind::Empty => 0,
            RecordKind::RunLevel => 1,
            RecordKind::BootTime => 2,
            RecordKind::NewTime => 3,
            RecordKind::OldTime => 4,
            RecordKind::InitProcess => 5,
            RecordKind::LoginProcess => 6,
            RecordKind::UserProcess => 7,
            RecordKind::DeadProcess => 8,
            RecordKind::Accounting => 9,
            RecordKind::Other(other) => other,
        }
    }
}

impl fmt::Debug for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.raw())
    }
}

/// One utmp/wtmp/btmp/lastlog entry, independent of any on-disk layout.
///
/// Text fields are bytes as stored (never assumed UTF-8), without the NUL
/// padding of the fixed-width layouts. `addr` holds the 16 bytes of
/// `ut_addr_v6` in network order: an IPv4 address sits in the first four.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Record {
    pub kind: RecordKind,
    pub pid: i32,
    pub session: i32,
    pub line: Vec<u8>,
    pub id: Vec<u8>,
    pub user: Vec<u8>,
    pub host: Vec<u8>,
    pub exit: ExitStatus,
    pub addr: [u8; 16],
    /// Microseconds since the epoch; negative before 1970.
    pub time_us: i64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ExitStatus {
    pub termination: i16,
    pub exit: i16,
}

impl Default for Record {
    fn default() -> Record {
        Record {
            kind: RecordKind::Empty,
            pid: 0,
            session: 0,
            line: Vec::new(),
            id: Vec::new(),
            user: Vec::new(),
            host: Vec::new(),
            exit: ExitStatus::default(),
            addr: [0; 16],
            time_us: 0,
        }
    }
}

impl Record {
    /// Whole seconds, rounded towards negative infinity.
    pub fn time_secs(&self) -> i64 {
        self.time_us.div_euclid(1_000_000)
    }

    /// The microseconds part, always 0..1_000_000.
    pub fn time_subsec_us(&self) -> i64 {
        self.time_us.rem_euclid(1_000_000)
    }
}

/// Why a buffer could not be turned into records, or records into bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum FormatError {
    /// A native file with a header this build does not understand.
    BadHeader(&'static str),
    /// A field longer than the target layout can hold.
    FieldTooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    /// A time the target layout cannot represent (e.g. after 2038 in glibc).
    TimeOutOfRange { time_us: i64 },
    /// Text that is not a utmpdump line.
    BadText { line: u64, why: &'static str },
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::BadHeader(why) => write!(f, "bad native header: {why}"),
            FormatError::FieldTooLong { field, len, max } => {
                write!(f, "{field} is {len} bytes, this format holds at most {max}")
            }
            FormatError::TimeOutOfRange { time_us } => write!(
                f,
                "time {} does not fit this format",
                time_us.div_euclid(1_000_000)
            ),
            FormatError::BadText { line, why } => write!(f, "line {line}: {why}"),
        }
    }
}

/// Every binary layout utmpbox reads and writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Native,
    /// glibc x86_64/i386/x32: 384 bytes, 32-bit times.
    Glibc,
    /// 64-bit-time utmpx: 400 bytes.
    Utmpx,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Glibc => "glibc",
            Format::Utmpx => "utmpx",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "native" => Some(Format::Native),
            "glibc" | "384" => Some(Format::Glibc),
            "utmpx" | "400" | "musl" => Some(Format::Utmpx),
            _ => None,
        }
    }
}

/// Guess the layout of a utmp/wtmp/btmp file from its bytes alone: the
/// native magic first, then whichever legacy stride makes the records look
/// plausible. An empty file is glibc, as the peers assume.
// Whole-buffer decoding, for a file small enough to hold: utmpd's
// --import of a table. Readers stream files (src/read/logfile.rs).
pub fn detect(bytes: &[u8]) -> Format {
    detect_sample(bytes, bytes.len() as u64)
}

/// `detect` from the start of a file (`sample`, at least `DETECT_SAMPLE`
/// bytes unless the file is shorter) and the file's whole length, so a
/// reader can tell the layout without holding the file.
pub fn detect_sample(sample: &[u8], len: u64) -> Format {
    if native::has_magic(sample) {
        return Format::Native;
    }
    let glibc = legacy::plausibility(sample, len, legacy::Layout::GLIBC);
    let utmpx = legacy::plausibility(sample, len, legacy::Layout::UTMPX);
    if utmpx > glibc {
        Format::Utmpx
    } else {
        Format::Glibc
    }
}

/// Enough of a file's start for `detect_sample`: the 256 records
/// `legacy::plausibility` samples in the wider layout, rounded up to a
/// multiple of both record sizes (9,600 bytes), so that the sample of a
/// stream of unknown length divides both and favours neither.
pub const DETECT_SAMPLE: usize = 105_600;

/// Records decoded from a whole file, with what was left over.
pub struct Decoded {
    #[allow(dead_code)] // read by the tests and fuzz targets only
    pub format: Format,
    pub records: Vec<Record>,
    /// Bytes at the end that did not make a whole record.
    pub trailing: usize,
    /// Indexes of native records whose checksum failed; they are skipped,
    /// never misread, and the caller reports them.
    pub corrupt: Vec<u64>,
}

impl Decoded {
    /// Warn on stderr about what could not be read, as `applet: FILE: ...`
    /// (the file name as its bytes, which need not be UTF-8).
    pub fn warn(&self, applet: &str, path: &std::path::Path) {
        for &index in &self.corrupt {
            say_corrupt(applet, path, index);
        }
        if self.trailing > 0 {
            say_trailing(applet, path, self.trailing as u64);
        }
    }
}

/// `applet: FILE` then `what` on stderr, the name as its bytes.
fn say_about(applet: &str, path: &std::path::Path, what: std::fmt::Arguments) {
    use std::io::Write;
    use std::os::unix::ffi::OsStrExt;
    let mut line = format!("{applet}: ").into_bytes();
    line.extend_from_slice(path.as_os_str().as_bytes());
    line.extend_from_slice(format!("{what}\n").as_bytes());
    let _ = std::io::stderr().write_all(&line);
}

/// The warning for a native record whose checksum fails.
pub fn say_corrupt(applet: &str, path: &std::path::Path, index: u64) {
    let what = format_args!(": record {index} is corrupt (checksum mismatch), skipped");
    say_about(applet, path, what);
}

/// The warning for a partial record at the end of a file.
pub fn say_trailing(applet: &str, path: &std::path::Path, bytes: u64) {
    let what = format_args!(": ignoring {bytes} trailing bytes (a partial record)");
    say_about(applet, path, what);
}

/// Decode a whole utmp/wtmp/btmp file of any supported layout.
pub fn decode_file(bytes: &[u8]) -> Result<Decoded, FormatError> {
    decode_as(bytes, detect(bytes))
}

pub fn decode_as(bytes: &[u8], format: Format) -> Result<Decoded, FormatError> {
    match format {
        Format::Native => native::decode_all(bytes),
        Format::Glibc => Ok(legacy::decode_all(bytes, legacy::Layout::GLIBC)),
        Format::Utmpx => Ok(legacy::decode_all(bytes, legacy::Layout::UTMPX)),
    }
}

/// Encode records as a whole file of `format` (with a header for native).
#[cfg(test)]
pub fn encode_file(records: &[Record], format: Format) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::new();
    match format {
        Format::Native => {
            out.extend_from_slice(&native::header(native::FileKind::Log));
            for record in records {
                out.extend_from_slice(&native::encode(record)?);
            }
        }
        Format::Glibc | Format::Utmpx => {
            let layout = if format == Format::Glibc {
                legacy::Layout::GLIBC
            } else {
                legacy::Layout::UTMPX
            };
            for record in records {
                out.extend_from_slice(&legacy::encode(record, layout)?);
            }
        }
    }
    Ok(out)
}

/// The bytes of a NUL-padded C field up to its first NUL (bstr's memchr
/// search: a byte loop was a tenth of wtmpd's time serving a history).
pub fn c_field(bytes: &[u8]) -> &[u8] {
    use bstr::ByteSlice;
    match bytes.find_byte(0) {
        Some(end) => &bytes[..end],
        None => bytes,
    }
}

/// Copy `value` into a fixed field, NUL-padded; too long is an error.
pub fn put_field(dest: &mut [u8], value: &[u8], field: &'static str) -> Result<(), FormatError> {
    if value.len() > dest.len() {
        return Err(FormatError::FieldTooLong {
            field,
            len: value.len(),
            max: dest.len(),
        });
    }
    dest[..value.len()].copy_from_slice(value);
    dest[value.len()..].fill(0);
    Ok(())
}

pub(crate) fn le_i16(b: &[u8], at: usize) -> i16 {
    i16::from_le_bytes([b[at], b[at + 1]])
}

pub(crate) fn le_i32(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(crate) fn le_i64(b: &[u8], at: usize) -> i64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    i64::from_le_bytes(w)
}

#[cfg(test)]
pub(crate) mod testgen;

#[cfg(test)]
mod fuzz_tests;
