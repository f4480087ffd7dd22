//! libutmpbox: the utmpx.h and utmp.h C API (getutxent & co, login,
//! logout, logwtmp) over utmpd and wtmpd, for programs linked against
//! it (musl, static) or run under LD_PRELOAD (glibc). docs/CAPI.md.
//!
//! A client like the applets: reads ask utmpd for the table once and
//! iterate it here (`table`), with the readers' file fallback; writes go
//! to the daemons only (`write`). Every exported function (`exports`)
//! runs under `catch_unwind`: whatever happens inside, the host program
//! gets an error return and an errno, never an abort.

mod exports;
mod layout;
mod table;
mod write;

use std::cell::Cell;

thread_local! {
    /// The errno this call reports, if it failed.
    static FAILED_WITH: Cell<Option<i32>> = const { Cell::new(None) };
}

/// Report `code` as this call's errno (set when the call returns).
fn set_errno(code: i32) {
    FAILED_WITH.with(|f| f.set(Some(code)));
}

fn errno_slot() -> *mut i32 {
    // SAFETY: __errno_location returns this thread's errno, on glibc and musl.
    unsafe { libc::__errno_location() }
}

/// Run an exported function's body; a panic becomes `failed` with errno
/// EIO (the profile `capi` unwinds so that this can catch it). The
/// caller's errno is left as it was unless the call fails: the system
/// calls inside (a non-blocking receive's EAGAIN) must not show through
/// a call that succeeded.
fn guard<T>(failed: T, body: impl FnOnce() -> T) -> T {
    // SAFETY: reading this thread's errno.
    let saved = unsafe { *errno_slot() };
    let outer = FAILED_WITH.with(|f| f.take());
    let value = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(_) => {
            set_errno(libc::EIO);
            failed
        }
    };
    let code = FAILED_WITH.with(|f| f.replace(outer)).unwrap_or(saved);
    // SAFETY: writing this thread's errno.
    unsafe { *errno_slot() = code };
    value
}
