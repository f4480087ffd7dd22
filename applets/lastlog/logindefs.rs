//! `/etc/login.defs`, read as shadow's getdef reads it: `NAME value` lines,
//! `#` comments, the value starting after blanks and double quotes and
//! ending at the next double quote; a later line for the same name wins.

use std::io::Write;
use std::path::Path;

use crate::sys::passwd::{is_c_space, strtoul};

pub const PATH: &str = "/etc/login.defs";

/// The settings of one login.defs file, in file order.
pub struct LoginDefs {
    items: Vec<(Vec<u8>, Vec<u8>)>,
}

impl LoginDefs {
    pub fn parse(text: &[u8]) -> LoginDefs {
        let mut items = Vec::new();
        for line in text.split(|&b| b == b'\n') {
            let end = line
                .iter()
                .rposition(|&b| !is_c_space(b))
                .map_or(0, |i| i + 1);
            let line = &line[..end];
            let start = line
                .iter()
                .position(|&b| b != b' ' && b != b'\t')
                .unwrap_or(line.len());
            let line = &line[start..];
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            // A name alone on its line is skipped, as getdef skips it.
            let Some(name_end) = line.iter().position(|&b| b == b' ' || b == b'\t') else {
                continue;
            };
            let rest = &line[name_end + 1..];
            let skip = rest
                .iter()
                .position(|&b| !matches!(b, b' ' | b'"' | b'\t'))
                .unwrap_or(rest.len());
            let value = &rest[skip..];
            let value = &value[..value.iter().position(|&b| b == b'"').unwrap_or(value.len())];
            items.push((line[..name_end].to_vec(), value.to_vec()));
        }
        LoginDefs { items }
    }

    /// Read a login.defs; a missing or unreadable file has no settings
    /// (shadow exits on a read error other than ENOENT; the readers here
    /// only want defaults).
    pub fn read(path: &Path) -> LoginDefs {
        LoginDefs::parse(&crate::sys::infile::read(path).unwrap_or_default())
    }

    /// The value of `name` (the last line naming it).
    pub fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.items
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// shadow's getdef_ulong: `strtoul` base 0 over the whole value. A
    /// value it cannot take is reported on stderr exactly as shadow 4.13
    /// does (with no newline) and `default` is used.
    pub fn get_ulong(&self, name: &str, default: u64) -> u64 {
        let Some(value) = self.get(name.as_bytes()) else {
            return default;
        };
        let parsed = strtoul(value, 0);
        if !value.is_empty() && parsed.used == value.len() && !parsed.overflow {
            return parsed.value;
        }
        let mut msg = format!("configuration error - cannot parse {name} value: '").into_bytes();
        msg.extend_from_slice(value);
        msg.push(b'\'');
        let _ = std::io::stderr().write_all(&msg);
        default
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_as_getdef() {
        let defs = LoginDefs::parse(
            b"# c\n  UID_MAX\t\"60000\"  \nA=1\nB\nLASTLOG_UID_MAX 5\nLASTLOG_UID_MAX 0x10\nC  x y\n",
        );
        assert_eq!(defs.get(b"UID_MAX"), Some(&b"60000"[..]));
        assert_eq!(defs.get(b"A=1"), None);
        assert_eq!(defs.get(b"B"), None);
        assert_eq!(defs.get(b"C"), Some(&b"x y"[..]));
        assert_eq!(defs.get_ulong("LASTLOG_UID_MAX", 7), 16);
        assert_eq!(defs.get_ulong("MISSING", 7), 7);
    }
}
