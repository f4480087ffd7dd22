//! util-linux `utmpdump` text lines, both ways.
//!
//! (Being written: see the utmpdump work.)

use super::{FormatError, Record};

/// Append the utmpdump line for `record` (with its newline) to `out`.
pub fn format_line(_record: &Record, _out: &mut Vec<u8>) {}

/// Parse one utmpdump line (without its newline).
pub fn parse_line(_line: &[u8], lineno: u64) -> Result<Record, FormatError> {
    Err(FormatError::BadText {
        line: lineno,
        why: "not implemented",
    })
}
