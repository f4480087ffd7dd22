//! `ut_addr_v6` as text, the way util-linux prints and reads it.
//!
//! util-linux prints an IPv4 address when words 1..3 of the four 32-bit
//! words are zero, else an IPv6 one, through glibc's `inet_ntop`. That
//! function writes an embedded IPv4 tail for `::a.b.c.d` and
//! `::ffff:a.b.c.d`, so the printer below does too: dumps match byte for byte.

/// Append the address as util-linux's `utmpdump` and `last -i` print it.
pub fn format(addr: &[u8; 16], out: &mut Vec<u8>) {
    if addr[4..].iter().all(|&b| b == 0) {
        format_v4(&addr[..4], out);
    } else {
        format_v6(addr, out);
    }
}

pub fn format_v4(b: &[u8], out: &mut Vec<u8>) {
    for (i, octet) in b.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_decimal(*octet as u32, out);
    }
}

fn push_decimal(value: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(value.to_string().as_bytes());
}

/// glibc `inet_ntop6`: the first longest run of two or more zero words
/// becomes `::`, hex digits are lower case without leading zeros, and an
/// IPv4 tail is written dotted after six zero words or after `::ffff`.
pub fn format_v6(addr: &[u8; 16], out: &mut Vec<u8>) {
    let words: Vec<u16> = addr
        .chunks_exact(2)
        .map(|w| u16::from_be_bytes([w[0], w[1]]))
        .collect();
    let (mut best_base, mut best_len) = (usize::MAX, 0);
    let mut i = 0;
    while i < 8 {
        if words[i] == 0 {
            let start = i;
            while i < 8 && words[i] == 0 {
                i += 1;
            }
            if i - start > best_len {
                best_base = start;
                best_len = i - start;
            }
        } else {
            i += 1;
        }
    }
    if best_len < 2 {
        best_base = usize::MAX;
    }
    for (i, word) in words.iter().enumerate() {
        if best_base != usize::MAX && i >= best_base && i < best_base + best_len {
            if i == best_base {
                out.push(b':');
            }
            continue;
        }
        if i != 0 {
            out.push(b':');
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            format_v4(&addr[12..], out);
            return;
        }
        out.extend_from_slice(format!("{word:x}").as_bytes());
    }
    if best_base != usize::MAX && best_base + best_len == 8 {
        out.push(b':');
    }
}

/// Read an address as `utmpdump -r` does: empty is no address, a dotted
/// quad is IPv4 (strict, as glibc `inet_pton`: no leading zeros, each part
/// at most 255), anything with a colon is IPv6. Unlike util-linux, an IPv6
/// address with an IPv4 tail (`::ffff:1.2.3.4`, which its own dump prints)
/// is read as IPv6 instead of silently becoming 0.0.0.0. None when invalid.
pub fn parse(text: &[u8]) -> Option<[u8; 16]> {
    let mut addr = [0u8; 16];
    if text.is_empty() {
        return Some(addr);
    }
    if text.contains(&b':') {
        parse_v6(text, &mut addr)?;
    } else {
        addr[..4].copy_from_slice(&parse_v4(text)?);
    }
    Some(addr)
}

fn parse_v4(text: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = text.split(|&b| b == b'.');
    for slot in out.iter_mut() {
        let part = parts.next()?;
        if part.is_empty()
            || part.len() > 3
            || !part.iter().all(u8::is_ascii_digit)
            || (part.len() > 1 && part[0] == b'0')
        {
            return None;
        }
        let value = part
            .iter()
            .fold(0u32, |acc, &d| acc * 10 + (d - b'0') as u32);
        *slot = u8::try_from(value).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(out)
}

/// RFC 4291 text form, as glibc `inet_pton6` accepts it: `::` at most once
/// and standing for at least one zero group, 1..4 hex digits per group, an
/// optional dotted IPv4 tail.
fn parse_v6(text: &[u8], out: &mut [u8; 16]) -> Option<()> {
    let (head, tail) = match find(text, b"::") {
        Some(at) => (&text[..at], Some(&text[at + 2..])),
        None => (text, None),
    };
    let head_words = parse_groups(head, tail.is_none())?;
    let tail_words = match tail {
        Some(tail) => parse_groups(tail, true)?,
        None => Vec::new(),
    };
    let total = head_words.len() + tail_words.len();
    let words = match tail {
        None if total == 8 => head_words,
        Some(_) if total < 8 => {
            let mut words = head_words;
            words.resize(8 - tail_words.len(), 0);
            words.extend_from_slice(&tail_words);
            words
        }
        _ => return None,
    };
    for (i, word) in words.iter().enumerate() {
        out[i * 2..i * 2 + 2].copy_from_slice(&word.to_be_bytes());
    }
    Some(())
}

/// Colon-separated groups; the last may be a dotted quad if `v4_tail_ok`.
fn parse_groups(text: &[u8], v4_tail_ok: bool) -> Option<Vec<u16>> {
    let mut words = Vec::new();
    if text.is_empty() {
        return Some(words);
    }
    let groups: Vec<&[u8]> = text.split(|&b| b == b':').collect();
    for (i, group) in groups.iter().enumerate() {
        if v4_tail_ok && i == groups.len() - 1 && group.contains(&b'.') {
            let v4 = parse_v4(group)?;
            words.push(u16::from_be_bytes([v4[0], v4[1]]));
            words.push(u16::from_be_bytes([v4[2], v4[3]]));
            continue;
        }
        if group.is_empty() || group.len() > 4 || !group.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let text = std::str::from_utf8(group).ok()?;
        words.push(u16::from_str_radix(text, 16).ok()?);
    }
    Some(words)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(addr: [u8; 16]) -> String {
        let mut out = Vec::new();
        format(&addr, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn v6(words: [u16; 8]) -> [u8; 16] {
        let mut addr = [0u8; 16];
        for (i, w) in words.iter().enumerate() {
            addr[i * 2..i * 2 + 2].copy_from_slice(&w.to_be_bytes());
        }
        addr
    }

    #[test]
    fn formats_like_glibc_inet_ntop() {
        let mut v4 = [0u8; 16];
        v4[..4].copy_from_slice(&[192, 168, 1, 10]);
        assert_eq!(shown(v4), "192.168.1.10");
        assert_eq!(shown([0; 16]), "0.0.0.0");
        assert_eq!(shown(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])), "2001:db8::1");
        assert_eq!(shown(v6([0, 0, 0, 0, 0, 0, 0, 1])), "::1");
        assert_eq!(shown(v6([1, 0, 0, 2, 0, 0, 3, 4])), "1::2:0:0:3:4");
        assert_eq!(shown(v6([1, 0, 2, 3, 4, 5, 6, 7])), "1:0:2:3:4:5:6:7");
        assert_eq!(shown(v6([1, 2, 3, 4, 5, 6, 0, 0])), "1:2:3:4:5:6::");
        assert_eq!(
            shown(v6([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304])),
            "::ffff:1.2.3.4"
        );
        assert_eq!(shown(v6([0, 0, 0, 0, 0, 0, 0x0102, 0x0304])), "::1.2.3.4");
        assert_eq!(shown(v6([0, 0, 0, 0, 0, 0, 0, 0x0102])), "::102");
        assert_eq!(
            shown(v6([0xfe80, 0, 0, 0, 0xabcd, 0, 0, 0])),
            "fe80::abcd:0:0:0"
        );
    }

    #[test]
    fn parses_what_it_formats() {
        for words in [
            [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304],
            [0, 0, 0, 0, 0, 0, 0x0102, 0x0304],
            [1, 2, 3, 4, 5, 6, 7, 8],
            [1, 2, 3, 4, 5, 6, 0, 0],
        ] {
            let addr = v6(words);
            assert_eq!(parse(shown(addr).as_bytes()), Some(addr), "{words:?}");
        }
        assert_eq!(parse(b""), Some([0; 16]));
        assert_eq!(parse(b"0.0.0.0"), Some([0; 16]));
        assert_eq!(parse(b"10.0.0.1").unwrap()[..4], [10, 0, 0, 1]);
    }

    #[test]
    fn rejects_what_inet_pton_rejects() {
        for bad in [
            &b"1.2.3"[..],
            b"1.2.3.4.5",
            b"01.2.3.4",
            b"256.1.1.1",
            b"1..2.3",
            b"garbage",
            b"1234",
            b"1:2:3:4:5:6:7:8:9",
            b"1::2::3",
            b"12345::",
            b"1:2:3:4:5:6:7::8",
            b":1::",
            b"fe80::1%eth0",
            b"::1.2.3",
        ] {
            assert_eq!(parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
