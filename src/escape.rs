//! Printing stored bytes safely, as util-linux does (`fputs_careful`):
//! nothing stored in a record can drive the terminal.

/// Append `field` to `out` with util-linux's escaping: printable ASCII and
/// BEL, TAB, CR, LF as is, other bytes below 0x80 as `*` then the byte XOR
/// 0x40 (so ESC prints as `*[`), bytes from 0x80 as `\ooo` octal. (The
/// daemons never store control bytes; this is for legacy files.)
pub fn careful(field: &[u8], out: &mut Vec<u8>) {
    for &b in field {
        if (0x20..0x7f).contains(&b) || matches!(b, b'\x07' | b'\t' | b'\r' | b'\n') {
            out.push(b);
        } else if b < 0x80 {
            out.push(b'*');
            out.push(b ^ 0x40);
        } else {
            out.push(b'\\');
            out.push(b'0' + (b >> 6));
            out.push(b'0' + ((b >> 3) & 7));
            out.push(b'0' + (b & 7));
        }
    }
}

/// The escaped form as a new vector.
pub fn careful_vec(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    careful(field, &mut out);
    out
}

/// A JSON string of stored bytes: escaped as util-linux escapes them
/// first (so the result is plain ASCII and cannot drive a terminal), then
/// `"` and `\` as JSON needs (util-linux's and shadow's `--json`).
pub fn json_string(out: &mut Vec<u8>, field: &[u8]) {
    let safe = careful_vec(field);
    out.push(b'"');
    for &b in &safe {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x07 => out.extend_from_slice(b"\\u0007"),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_util_linux() {
        assert_eq!(
            careful_vec(b"plain host-1.example"),
            b"plain host-1.example"
        );
        assert_eq!(careful_vec(b"a\x1b[2Jb"), b"a*[[2Jb");
        assert_eq!(careful_vec(b"\x7f\t\x01"), b"*?\t*A");
        assert_eq!(careful_vec(b"\xc3\xa9"), b"\\303\\251");
    }
}
