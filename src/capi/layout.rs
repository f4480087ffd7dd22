//! The host libc's `struct utmpx` (and `struct utmp`, the same struct on
//! both libcs) as bytes in memory: musl's 400-byte layout with 64-bit
//! times, or glibc's 384-byte x86_64 layout with 32-bit `ut_tv` and
//! `ut_session`. On little-endian x86_64 the memory image is the on-disk
//! image, so `record::legacy` decodes and encodes it: no second codec.

use crate::record::legacy::{self, Layout};
use crate::record::{c_field, Record};

/// The layout of the libc this library is built for.
#[cfg(target_env = "musl")]
pub const LAYOUT: Layout = Layout::UTMPX;
#[cfg(not(target_env = "musl"))]
pub const LAYOUT: Layout = Layout::GLIBC;

pub const SIZE: usize = LAYOUT.size;

/// Whether `ut_tv.tv_sec` is 64 bits wide (musl) or 32 (glibc on x86_64).
const WIDE_TIME: bool = cfg!(target_env = "musl");

/// The C declaration this library answers to, kept only to check at
/// compile time that `LAYOUT` is what the C compiler sees (the header
/// dist/include/utmpx.h declares the musl one).
#[cfg(target_env = "musl")]
#[repr(C)]
#[allow(dead_code)]
struct CUtmpx {
    ut_type: i16,
    pad1: i16,
    ut_pid: i32,
    ut_line: [u8; 32],
    ut_id: [u8; 4],
    ut_user: [u8; 32],
    ut_host: [u8; 256],
    ut_exit: [i16; 2],
    ut_session: i32,
    pad2: i32,
    ut_tv: [i64; 2],
    ut_addr_v6: [u32; 4],
    unused: [u8; 20],
}

#[cfg(not(target_env = "musl"))]
#[repr(C)]
#[allow(dead_code)]
struct CUtmpx {
    ut_type: i16,
    ut_pid: i32,
    ut_line: [u8; 32],
    ut_id: [u8; 4],
    ut_user: [u8; 32],
    ut_host: [u8; 256],
    ut_exit: [i16; 2],
    ut_session: i32,
    ut_tv: [i32; 2],
    ut_addr_v6: [i32; 4],
    unused: [u8; 20],
}

#[cfg(target_env = "musl")]
const _: () = {
    assert!(std::mem::size_of::<CUtmpx>() == 400);
    assert!(std::mem::offset_of!(CUtmpx, ut_tv) == 344);
    assert!(std::mem::offset_of!(CUtmpx, ut_addr_v6) == 360);
};
#[cfg(not(target_env = "musl"))]
const _: () = {
    assert!(std::mem::size_of::<CUtmpx>() == 384);
    assert!(std::mem::offset_of!(CUtmpx, ut_tv) == 340);
    assert!(std::mem::offset_of!(CUtmpx, ut_addr_v6) == 348);
};
const _: () = assert!(std::mem::size_of::<CUtmpx>() == SIZE);

/// An opaque `struct utmpx` as C passes it: read and written as bytes.
#[repr(C, align(8))]
pub struct Utmpx {
    pub bytes: [u8; SIZE],
}

impl Utmpx {
    pub const ZERO: Utmpx = Utmpx { bytes: [0; SIZE] };
}

/// The record a C caller handed in. `ptr` must be non-null and point to
/// a whole struct (the C API's contract); it need not be aligned.
///
/// # Safety
/// `ptr` points to SIZE readable bytes.
pub unsafe fn read(ptr: *const Utmpx) -> Record {
    let mut bytes = [0u8; SIZE];
    // SAFETY: the caller's contract; a byte copy needs no alignment.
    unsafe { std::ptr::copy_nonoverlapping(ptr as *const u8, bytes.as_mut_ptr(), SIZE) };
    legacy::decode(&bytes, LAYOUT)
}

/// `record` in the C layout. A field wider than the struct's (a native
/// user name may be 64 bytes) is cut to the width as strncpy would, and
/// a time glibc's 32-bit `tv_sec` cannot hold is clamped to its range.
pub fn encode(record: &Record) -> Utmpx {
    let mut fitted = record.clone();
    fitted.line.truncate(32);
    fitted.id.truncate(4);
    fitted.user.truncate(32);
    fitted.host.truncate(256);
    if !WIDE_TIME {
        let lo = i32::MIN as i64 * 1_000_000;
        let hi = i32::MAX as i64 * 1_000_000;
        fitted.time_us = fitted.time_us.clamp(lo, hi);
    }
    let mut out = Utmpx::ZERO;
    // Cannot fail once fitted; should it, the zeroed struct (EMPTY) is
    // what the caller sees rather than a panic.
    if let Ok(bytes) = legacy::encode(&fitted, LAYOUT) {
        out.bytes.copy_from_slice(&bytes);
    }
    out
}

/// Write `record` to the caller's struct at `ptr`.
///
/// # Safety
/// `ptr` points to SIZE writable bytes.
pub unsafe fn write(record: &Record, ptr: *mut Utmpx) {
    let c = encode(record);
    // SAFETY: the caller's contract; a byte copy needs no alignment.
    unsafe { std::ptr::copy_nonoverlapping(c.bytes.as_ptr(), ptr as *mut u8, SIZE) };
}

/// A C string's bytes up to its NUL, at most `max` of them (strncpy's
/// view of a fixed-width field).
///
/// # Safety
/// `ptr` is non-null and NUL-terminated, or readable for `max` bytes.
pub unsafe fn c_bytes(ptr: *const libc::c_char, max: usize) -> Vec<u8> {
    // SAFETY: strnlen reads at most `max` bytes, then that many are copied.
    let len = unsafe { libc::strnlen(ptr, max) };
    let bytes = unsafe { std::slice::from_raw_parts(ptr as *const u8, len) };
    c_field(bytes).to_vec()
}
