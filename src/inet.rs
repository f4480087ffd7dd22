//! Addresses as text, exactly as glibc's `inet_ntop` writes them (Rust's
//! `Ipv6Addr` differs for IPv4-compatible addresses such as `::1.2.3.4`).

/// Dotted quad of four bytes in network order.
pub fn ntop_v4(addr: &[u8; 4], out: &mut Vec<u8>) {
    let text = format!("{}.{}.{}.{}", addr[0], addr[1], addr[2], addr[3]);
    out.extend_from_slice(text.as_bytes());
}

/// RFC 5952-style text of 16 bytes: the longest run of two or more zero
/// words (the first, on a tie) becomes `::`, and `::a.b.c.d` /
/// `::ffff:a.b.c.d` keep their IPv4 tail, as glibc writes them.
pub fn ntop_v6(addr: &[u8; 16], out: &mut Vec<u8>) {
    let words: Vec<u16> = addr
        .chunks(2)
        .map(|w| u16::from_be_bytes([w[0], w[1]]))
        .collect();
    let (mut best_base, mut best_len) = (None, 0);
    let (mut cur_base, mut cur_len) = (None, 0);
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            if cur_base.is_none() {
                cur_base = Some(i);
                cur_len = 1;
            } else {
                cur_len += 1;
            }
        } else if let Some(base) = cur_base {
            if best_base.is_none() || cur_len > best_len {
                best_base = Some(base);
                best_len = cur_len;
            }
            cur_base = None;
        }
    }
    if let Some(base) = cur_base {
        if best_base.is_none() || cur_len > best_len {
            best_base = Some(base);
            best_len = cur_len;
        }
    }
    if best_len < 2 {
        best_base = None;
    }
    let mut i = 0;
    while i < 8 {
        if let Some(base) = best_base {
            if i >= base && i < base + best_len {
                if i == base {
                    out.push(b':');
                }
                i += 1;
                continue;
            }
        }
        if i != 0 {
            out.push(b':');
        }
        if i == 6
            && best_base == Some(0)
            && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))
        {
            ntop_v4(&[addr[12], addr[13], addr[14], addr[15]], out);
            return;
        }
        out.extend_from_slice(format!("{:x}", words[i]).as_bytes());
        i += 1;
    }
    if let Some(base) = best_base {
        if base + best_len == 8 {
            out.push(b':');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(hex: &str) -> String {
        let mut addr = [0u8; 16];
        for (i, byte) in addr.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap();
        }
        let mut out = Vec::new();
        ntop_v6(&addr, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn like_glibc() {
        assert_eq!(v6("20010db8000000000000000000000001"), "2001:db8::1");
        assert_eq!(v6("00000000000000000000000000000000"), "::");
        assert_eq!(v6("00000000000000000000000000000001"), "::1");
        assert_eq!(v6("00000000000000000000000001020304"), "::1.2.3.4");
        assert_eq!(v6("00000000000000000000ffff01020304"), "::ffff:1.2.3.4");
        assert_eq!(v6("20000000000000000000ffff01020304"), "2000::ffff:102:304");
        assert_eq!(v6("20010db8000000000000000100000000"), "2001:db8::1:0:0");
        assert_eq!(v6("00010000000100000000000000000000"), "1:0:1::");
        assert_eq!(v6("00010000000100010000000000010000"), "1:0:1:1::1:0");
    }
}
