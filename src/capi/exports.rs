//! The exported C functions: glibc's and POSIX's signatures, return
//! values, static buffer and errno. Each checks its pointers (NULL is
//! EINVAL), then runs its body under `guard`. The utmp.h names are the
//! utmpx.h ones: `struct utmp` is `struct utmpx` on both libcs.

use std::ffi::{c_char, c_int, CStr};
use std::ptr::null_mut;
use std::sync::Mutex;

use super::layout::{self, Utmpx, SIZE};
use super::table::{self, Miss};
use super::write::{self, io_errno};
use super::{guard, set_errno};
use crate::record::Record;

/// The static result of getutxent, getutxid, getutxline and pututxline,
/// overwritten by each call, as the manual says.
static RESULT: Mutex<Utmpx> = Mutex::new(Utmpx::ZERO);

fn into_static(record: &Record) -> *mut Utmpx {
    let mut result = RESULT.lock().unwrap_or_else(|e| e.into_inner());
    *result = layout::encode(record);
    // The buffer lives in a static: the pointer outlives the lock.
    &mut *result as *mut Utmpx
}

/// A search's answer as the non-_r functions return it.
fn found(outcome: Result<Record, Miss>, miss_errno: Option<i32>) -> *mut Utmpx {
    match outcome {
        Ok(record) => into_static(&record),
        Err(Miss::End) => {
            if let Some(code) = miss_errno {
                set_errno(code);
            }
            null_mut()
        }
        Err(Miss::Failed(e)) => {
            set_errno(io_errno(&e));
            null_mut()
        }
    }
}

/// A search's answer as the _r functions return it: 0 and `*result` set
/// to `buffer`, or -1 and `*result` NULL.
///
/// # Safety
/// `buffer` and `result` are non-null and writable.
unsafe fn found_r(
    outcome: Result<Record, Miss>,
    miss_errno: Option<i32>,
    buffer: *mut Utmpx,
    result: *mut *mut Utmpx,
) -> c_int {
    match outcome {
        Ok(record) => {
            // SAFETY: the caller's contract.
            unsafe {
                layout::write(&record, buffer);
                *result = buffer;
            }
            0
        }
        Err(miss) => {
            match miss {
                Miss::End => miss_errno.into_iter().for_each(set_errno),
                Miss::Failed(e) => set_errno(io_errno(&e)),
            }
            // SAFETY: the caller's contract.
            unsafe { *result = null_mut() };
            -1
        }
    }
}

/// The record at `ptr`, or None (errno EINVAL) for NULL.
fn record_at(ptr: *const Utmpx) -> Option<Record> {
    if ptr.is_null() {
        set_errno(libc::EINVAL);
        return None;
    }
    // SAFETY: non-null; a whole struct by the C API's contract.
    Some(unsafe { layout::read(ptr) })
}

/// The bytes of a C string, or None (errno EINVAL) for NULL.
fn path_at(ptr: *const c_char) -> Option<Vec<u8>> {
    if ptr.is_null() {
        set_errno(libc::EINVAL);
        return None;
    }
    // SAFETY: non-null and NUL-terminated by the C API's contract.
    Some(unsafe { CStr::from_ptr(ptr) }.to_bytes().to_vec())
}

/// A fixed-width field's text from a C string (strncpy's cut), or None
/// (errno EINVAL) for NULL.
fn field_at(ptr: *const c_char, width: usize) -> Option<Vec<u8>> {
    if ptr.is_null() {
        set_errno(libc::EINVAL);
        return None;
    }
    // SAFETY: non-null, NUL-terminated or `width` bytes long.
    Some(unsafe { layout::c_bytes(ptr, width) })
}

#[no_mangle]
pub extern "C" fn setutxent() {
    guard((), || {
        if let Err(e) = table::rewind() {
            set_errno(io_errno(&e));
        }
    })
}

#[no_mangle]
pub extern "C" fn endutxent() {
    guard((), table::end)
}

#[no_mangle]
pub extern "C" fn getutxent() -> *mut Utmpx {
    guard(null_mut(), || found(table::next(), None))
}

#[no_mangle]
pub extern "C" fn getutxid(id: *const Utmpx) -> *mut Utmpx {
    guard(null_mut(), || match record_at(id) {
        Some(template) => found(table::find_id(&template), Some(libc::ESRCH)),
        None => null_mut(),
    })
}

#[no_mangle]
pub extern "C" fn getutxline(line: *const Utmpx) -> *mut Utmpx {
    guard(null_mut(), || match record_at(line) {
        Some(template) => found(table::find_line(&template.line), Some(libc::ESRCH)),
        None => null_mut(),
    })
}

#[no_mangle]
pub extern "C" fn pututxline(ut: *const Utmpx) -> *mut Utmpx {
    guard(null_mut(), || {
        let Some(record) = record_at(ut) else {
            return null_mut();
        };
        match write::put(&record) {
            Ok(stored) => into_static(&stored),
            Err(code) => {
                set_errno(code);
                null_mut()
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn utmpxname(file: *const c_char) -> c_int {
    guard(-1, || match path_at(file) {
        Some(path) => {
            table::set_name(&path);
            0
        }
        None => -1,
    })
}

#[no_mangle]
pub extern "C" fn updwtmpx(file: *const c_char, ut: *const Utmpx) {
    guard((), || {
        let Some(path) = path_at(file) else { return };
        if ut.is_null() {
            return set_errno(libc::EINVAL);
        }
        let mut raw = Utmpx::ZERO;
        // SAFETY: non-null; a whole struct by the C API's contract.
        unsafe { std::ptr::copy_nonoverlapping(ut as *const u8, raw.bytes.as_mut_ptr(), SIZE) };
        if let Err(code) = write::updwtmp(&path, &raw) {
            set_errno(code);
        }
    })
}

/// Copy one struct to the other (getutmp, getutmpx): the same layout.
fn copy_struct(from: *const Utmpx, to: *mut Utmpx) {
    if from.is_null() || to.is_null() {
        return set_errno(libc::EINVAL);
    }
    // SAFETY: both non-null, whole structs; `copy` allows them to overlap.
    unsafe { std::ptr::copy(from as *const u8, to as *mut u8, SIZE) };
}

#[no_mangle]
pub extern "C" fn getutmp(ux: *const Utmpx, u: *mut Utmpx) {
    guard((), || copy_struct(ux, u))
}

#[no_mangle]
pub extern "C" fn getutmpx(u: *const Utmpx, ux: *mut Utmpx) {
    guard((), || copy_struct(u, ux))
}

// utmp.h: the same functions under their older names.

#[no_mangle]
pub extern "C" fn setutent() {
    setutxent()
}

#[no_mangle]
pub extern "C" fn endutent() {
    endutxent()
}

#[no_mangle]
pub extern "C" fn getutent() -> *mut Utmpx {
    getutxent()
}

#[no_mangle]
pub extern "C" fn getutid(id: *const Utmpx) -> *mut Utmpx {
    getutxid(id)
}

#[no_mangle]
pub extern "C" fn getutline(line: *const Utmpx) -> *mut Utmpx {
    getutxline(line)
}

#[no_mangle]
pub extern "C" fn pututline(ut: *const Utmpx) -> *mut Utmpx {
    pututxline(ut)
}

#[no_mangle]
pub extern "C" fn utmpname(file: *const c_char) -> c_int {
    utmpxname(file)
}

#[no_mangle]
pub extern "C" fn updwtmp(file: *const c_char, ut: *const Utmpx) {
    updwtmpx(file, ut)
}

/// Run an _r function's body once its out-pointers are checked.
fn reentrant(
    buffer: *mut Utmpx,
    result: *mut *mut Utmpx,
    body: impl FnOnce() -> Option<(Result<Record, Miss>, Option<i32>)>,
) -> c_int {
    guard(-1, || {
        if result.is_null() {
            set_errno(libc::EINVAL);
            return -1;
        }
        if buffer.is_null() {
            set_errno(libc::EINVAL);
            // SAFETY: non-null, the caller's.
            unsafe { *result = null_mut() };
            return -1;
        }
        match body() {
            // SAFETY: both checked non-null above.
            Some((outcome, miss)) => unsafe { found_r(outcome, miss, buffer, result) },
            None => {
                // SAFETY: non-null, the caller's.
                unsafe { *result = null_mut() };
                -1
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn getutent_r(buffer: *mut Utmpx, result: *mut *mut Utmpx) -> c_int {
    reentrant(buffer, result, || Some((table::next(), None)))
}

#[no_mangle]
pub extern "C" fn getutid_r(
    id: *const Utmpx,
    buffer: *mut Utmpx,
    result: *mut *mut Utmpx,
) -> c_int {
    reentrant(buffer, result, || {
        record_at(id).map(|t| (table::find_id(&t), Some(libc::ESRCH)))
    })
}

#[no_mangle]
pub extern "C" fn getutline_r(
    line: *const Utmpx,
    buffer: *mut Utmpx,
    result: *mut *mut Utmpx,
) -> c_int {
    reentrant(buffer, result, || {
        record_at(line).map(|t| (table::find_line(&t.line), Some(libc::ESRCH)))
    })
}

// login.h / utmp.h (glibc): the session-level writers.

#[no_mangle]
pub extern "C" fn login(ut: *const Utmpx) {
    guard((), || {
        if let Some(record) = record_at(ut) {
            if let Err(code) = write::login(record) {
                set_errno(code);
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn logout(line: *const c_char) -> c_int {
    guard(0, || {
        let Some(line) = field_at(line, 32) else {
            return 0;
        };
        match write::logout(&line) {
            Ok(done) => done as c_int,
            Err(code) => {
                set_errno(code);
                0
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn logwtmp(line: *const c_char, name: *const c_char, host: *const c_char) {
    guard((), || {
        let (Some(line), Some(user), Some(host)) =
            (field_at(line, 32), field_at(name, 32), field_at(host, 256))
        else {
            return;
        };
        if let Err(code) = write::logwtmp(line, user, host) {
            set_errno(code);
        }
    })
}
