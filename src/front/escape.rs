//! Printing stored bytes safely, as util-linux does (`fputs_careful`) and
//! stricter: nothing stored in a record can drive the terminal or fake a
//! line of output.

/// Append `field` to `out` with util-linux's escaping, made stricter:
/// printable ASCII as is, every other byte below 0x80 as `*` then the
/// byte XOR 0x40 (ESC prints as `*[`, and BEL, TAB, LF, CR as `*G`, `*I`,
/// `*J`, `*M`), bytes from 0x80 as `\ooo` octal. util-linux's
/// fputs_careful lets BEL, TAB, CR and LF through raw; from a legacy file
/// a CR can overwrite a line already on screen and an LF fake one, so
/// they are escaped as the other control bytes (docs/COMPAT.md). (The
/// daemons never store control bytes; this is for legacy files.)
pub fn careful(field: &[u8], out: &mut Vec<u8>) {
    for &b in field {
        if (0x20..0x7f).contains(&b) {
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

/// A JSON string of stored bytes: escaped as `careful` escapes them first
/// (so the result is printable ASCII and cannot drive a terminal), then
/// `"` and `\` as JSON needs.
pub fn json_string(out: &mut Vec<u8>, field: &[u8]) {
    let safe = careful_vec(field);
    out.push(b'"');
    for &b in &safe {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
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
        assert_eq!(careful_vec(b"\x7f\t\x01"), b"*?*I*A");
        assert_eq!(careful_vec(b"a\x07b\tc\rd\ne"), b"a*Gb*Ic*Md*Je");
        assert_eq!(careful_vec(b"\xc3\xa9"), b"\\303\\251");
    }

    #[test]
    fn json_strings_stay_printable_and_valid() {
        let mut out = Vec::new();
        json_string(&mut out, b"q\"b\\\x07\t\r\n\x1b\xff");
        assert_eq!(out, b"\"q\\\"b\\\\*G*I*M*J*[\\\\377\"");
    }
}
