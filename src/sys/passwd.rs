//! The user database, read from a passwd file the way glibc's `files`
//! backend reads it, without NSS: musl systems have no NSS, and `lastlog -R`
//! must read another root's file.
//!
//! What glibc (nss_files + `fgetpwent_r`'s parser) does, and this follows:
//! - leading whitespace of a line is skipped; empty lines and `#` lines are
//!   ignored; a NUL ends the line;
//! - fields are split on `:`; missing trailing fields are empty;
//! - uid and gid go through `strtoul` (so ` 5` and `+5` are 5) and must end
//!   at `:` or the end of the line, and fit 32 bits; otherwise the line is
//!   skipped;
//! - a name starting with `+` or `-` (NIS compat) may have empty ids (0);
//!   `getpwent` returns such lines, `getpwnam`/`getpwuid` never match them.
//!
//! The file is read once and kept whole; entries are offsets into it, so a
//! large passwd costs one allocation for the text and 40 bytes per user.

use std::io;
use std::path::Path;

pub const PATH: &str = "/etc/passwd";

/// One user, borrowing its fields from the loaded file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct User<'a> {
    pub name: &'a [u8],
    pub passwd: &'a [u8],
    pub uid: u32,
    pub gid: u32,
    pub gecos: &'a [u8],
    pub dir: &'a [u8],
    pub shell: &'a [u8],
}

impl User<'_> {
    /// A NIS compat line (`+name`, `-name`), which lookups skip.
    pub fn is_compat(&self) -> bool {
        matches!(self.name.first(), Some(b'+') | Some(b'-'))
    }
}

#[derive(Clone, Copy)]
struct Entry {
    /// Byte ranges of name, passwd, gecos, dir, shell in `Passwd::data`.
    fields: [(u32, u32); 5],
    uid: u32,
    gid: u32,
}

/// A loaded passwd file, in file order (which is `getpwent` order).
pub struct Passwd {
    data: Vec<u8>,
    entries: Vec<Entry>,
}

impl Passwd {
    /// Parse the text of a passwd file. Never fails: bad lines are skipped,
    /// as glibc skips them.
    pub fn parse(data: Vec<u8>) -> Passwd {
        let mut entries = Vec::new();
        let mut start = 0;
        while start < data.len() {
            let end = data[start..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |n| start + n);
            if let Some(entry) = parse_line(&data, start, end) {
                entries.push(entry);
            }
            start = end + 1;
        }
        Passwd { data, entries }
    }

    /// Read and parse a passwd file.
    pub fn read(path: &Path) -> io::Result<Passwd> {
        Ok(Passwd::parse(crate::sys::infile::read(path)?))
    }

    /// Read a passwd file; a missing or unreadable one is an empty database,
    /// as `getpwent` sees it.
    pub fn read_or_empty(path: &Path) -> Passwd {
        Passwd::read(path).unwrap_or_else(|_| Passwd::parse(Vec::new()))
    }

    /// The system's users (`/etc/passwd`).
    pub fn system() -> Passwd {
        Passwd::read_or_empty(Path::new(PATH))
    }

    #[allow(dead_code)] // for who, w and last
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[allow(dead_code)] // for who, w and last
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every entry in file order, compat lines included (`getpwent`).
    pub fn iter(&self) -> impl Iterator<Item = User<'_>> + '_ {
        self.entries.iter().map(move |e| self.user(e))
    }

    /// The first user named `name` (`getpwnam`).
    pub fn by_name(&self, name: &[u8]) -> Option<User<'_>> {
        self.iter().find(|u| !u.is_compat() && u.name == name)
    }

    /// The first user with `uid` (`getpwuid`).
    pub fn by_uid(&self, uid: u32) -> Option<User<'_>> {
        self.iter().find(|u| !u.is_compat() && u.uid == uid)
    }

    fn user(&self, e: &Entry) -> User<'_> {
        let field = |i: usize| &self.data[e.fields[i].0 as usize..e.fields[i].1 as usize];
        User {
            name: field(0),
            passwd: field(1),
            uid: e.uid,
            gid: e.gid,
            gecos: field(2),
            dir: field(3),
            shell: field(4),
        }
    }
}

fn parse_line(data: &[u8], start: usize, end: usize) -> Option<Entry> {
    let mut line = &data[start..end];
    if let Some(nul) = line.iter().position(|&b| b == 0) {
        line = &line[..nul];
    }
    let skip = line.iter().take_while(|&&b| is_c_space(b)).count();
    let base = start + skip;
    let line = &line[skip..];
    if line.is_empty() || line[0] == b'#' {
        return None;
    }
    // Files over 4 GiB are not passwd files; offsets are u32 to stay small.
    u32::try_from(base + line.len()).ok()?;
    let mut fields = [(0u32, 0u32); 5];
    let mut at = 0;
    // The next field up to ':' (or the end), and where the one after starts.
    let next = |at: &mut usize| {
        let from = *at;
        let to = line[from..]
            .iter()
            .position(|&b| b == b':')
            .map_or(line.len(), |n| from + n);
        *at = (to + 1).min(line.len());
        ((base + from) as u32, (base + to) as u32)
    };
    fields[0] = next(&mut at);
    let compat = matches!(line.first(), Some(b'+') | Some(b'-'));
    let empty = ((base + line.len()) as u32, (base + line.len()) as u32);
    if compat && at >= line.len() {
        // `+` or `+name:` alone: everything else empty, ids 0.
        fields[1..].fill(empty);
        return Some(Entry {
            fields,
            uid: 0,
            gid: 0,
        });
    }
    fields[1] = next(&mut at);
    let uid = id_field(line, &mut at, compat)?;
    let gid = id_field(line, &mut at, compat)?;
    fields[2] = next(&mut at);
    fields[3] = next(&mut at);
    // The shell is the rest of the line, colons and all.
    fields[4] = ((base + at) as u32, (base + line.len()) as u32);
    Some(Entry { fields, uid, gid })
}

/// glibc's INT_FIELD: strtoul, then ':' or the end of the line.
fn id_field(line: &[u8], at: &mut usize, maybe_empty: bool) -> Option<u32> {
    let rest = &line[*at..];
    if maybe_empty && (rest.is_empty() || rest[0] == b':') {
        *at = (*at + 1).min(line.len());
        return Some(0);
    }
    let parsed = strtoul(rest, 10);
    if parsed.used == 0 || parsed.overflow || parsed.value > u32::MAX as u64 {
        return None;
    }
    match rest.get(parsed.used) {
        None => *at = line.len(),
        Some(b':') => *at += parsed.used + 1,
        Some(_) => return None,
    }
    Some(parsed.value as u32)
}

/// strtol's optional sign at `*i`, stepped over: true for `-`.
pub fn take_sign(s: &[u8], i: &mut usize) -> bool {
    let sign = s.get(*i).copied();
    if matches!(sign, Some(b'-') | Some(b'+')) {
        *i += 1;
    }
    sign == Some(b'-')
}

/// C's isspace in the C locale.
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// What C's `strtoul` makes of some bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Strtoul {
    /// The value; a leading `-` negates it modulo 2^64, as C does.
    pub value: u64,
    /// Bytes consumed (C's `endptr - nptr`); 0 when no digits were found.
    pub used: usize,
    /// ERANGE: the digits did not fit 64 bits (value is then `u64::MAX`).
    pub overflow: bool,
}

/// C's `strtoul` for base 10, or base 0 (`0x` hex, `0` octal, else decimal),
/// as the shadow tools use it on options and login.defs values.
pub fn strtoul(s: &[u8], base: u32) -> Strtoul {
    let none = Strtoul {
        value: 0,
        used: 0,
        overflow: false,
    };
    let mut i = s.iter().take_while(|&&b| is_c_space(b)).count();
    let negative = take_sign(s, &mut i);
    let mut radix = if base == 0 { 10 } else { base };
    if base == 0 && s.get(i) == Some(&b'0') {
        let hex_digit = s.get(i + 2).is_some_and(|b| b.is_ascii_hexdigit());
        if matches!(s.get(i + 1), Some(b'x') | Some(b'X')) && hex_digit {
            radix = 16;
            i += 2;
        } else {
            radix = 8;
        }
    }
    let digits_start = i;
    let mut value: u64 = 0;
    let mut overflow = false;
    while let Some(d) = s.get(i).and_then(|&b| (b as char).to_digit(radix)) {
        match value
            .checked_mul(radix as u64)
            .and_then(|v| v.checked_add(d as u64))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return none;
    }
    if overflow {
        value = u64::MAX;
    } else if negative {
        value = value.wrapping_neg();
    }
    Strtoul {
        value,
        used: i,
        overflow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[u8] = b"root:x:0:0:root:/root:/bin/bash
# comment

   carol:x:1001:1001::/home/carol:/bin/sh
short:x:1003:1003
eve:x:abc:1::/:/bin/sh
neg:x:-5:1::/:/bin/sh
huge:x:4294967296:1::/:/bin/sh
max:x:4294967295:1::/:/bin/sh
plus:x:+7:1::/:/bin/sh
trail:x:8x:1::/:/bin/sh
nogid:x:9
+:
+comp:x::::
-minus:x:11:1::/:/bin/sh
dup:x:0:5:a:b:c:d
root:x:42:42::/:/bin/sh
";

    fn names(p: &Passwd) -> Vec<(String, u32)> {
        p.iter()
            .map(|u| (String::from_utf8_lossy(u.name).into_owned(), u.uid))
            .collect()
    }

    #[test]
    fn lines_are_accepted_and_skipped_as_glibc_does() {
        let p = Passwd::parse(TEXT.to_vec());
        let want = [
            ("root", 0),
            ("carol", 1001),
            ("short", 1003),
            ("max", u32::MAX),
            ("plus", 7),
            ("+", 0),
            ("+comp", 0),
            ("-minus", 11),
            ("dup", 0),
            ("root", 42),
        ];
        let want: Vec<(String, u32)> = want.iter().map(|(n, u)| (n.to_string(), *u)).collect();
        assert_eq!(names(&p), want);
    }

    #[test]
    fn fields_and_lookups() {
        let p = Passwd::parse(TEXT.to_vec());
        let carol = p.by_name(b"carol").unwrap();
        assert_eq!(carol.dir, b"/home/carol");
        assert_eq!(carol.shell, b"/bin/sh");
        assert_eq!(carol.gid, 1001);
        let short = p.by_name(b"short").unwrap();
        assert_eq!(
            (short.gecos, short.dir, short.shell),
            (&b""[..], &b""[..], &b""[..])
        );
        // The first match wins; compat lines never match.
        assert_eq!(p.by_name(b"root").unwrap().uid, 0);
        assert_eq!(p.by_uid(0).unwrap().name, b"root");
        assert_eq!(p.by_uid(42).unwrap().name, b"root");
        assert!(p.by_name(b"+comp").is_none());
        assert!(p.by_uid(11).is_none());
        assert_eq!(p.by_name(b"dup").unwrap().shell, b"c:d");
    }

    #[test]
    fn strtoul_like_c() {
        let v = |s: &[u8], b| {
            let r = strtoul(s, b);
            (r.value, r.used, r.overflow)
        };
        assert_eq!(v(b"42", 10), (42, 2, false));
        assert_eq!(v(b"  +42x", 10), (42, 5, false));
        assert_eq!(v(b"-1", 10), (u64::MAX, 2, false));
        assert_eq!(v(b"abc", 10), (0, 0, false));
        assert_eq!(v(b"", 10), (0, 0, false));
        assert_eq!(v(b"99999999999999999999", 10), (u64::MAX, 20, true));
        assert_eq!(v(b"0x10", 0), (16, 4, false));
        assert_eq!(v(b"010", 0), (8, 3, false));
        assert_eq!(v(b"0x", 0), (0, 1, false));
        assert_eq!(v(b"09", 0), (0, 1, false));
    }
}
