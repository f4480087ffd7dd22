//! Addresses for the readers: the family choice Debian's `who --ips`
//! makes, text through `record::inet` (glibc `inet_ntop`, shared with the
//! utmpdump codec), and the two resolver questions the readers ask (through libc: musl's
//! resolver in the static build, /etc/hosts then DNS), and the one a
//! daemon asks for a `--syslog` host.

use std::ffi::CStr;

use nix::sys::socket::{SockaddrIn, SockaddrIn6};

use crate::record::inet;

/// An IPv4 or IPv6 address in network byte order.
pub enum Address {
    V4([u8; 4]),
    V6([u8; 16]),
}

pub fn address_text(address: &Address, out: &mut Vec<u8>) {
    match address {
        Address::V4(v4) => inet::format_v4(v4, out),
        Address::V6(v6) => inet::format_v6(v6, out),
    }
}

/// The name the resolver gives for an address (getnameinfo with
/// NI_NAMEREQD), None when it has none.
pub fn reverse_lookup(address: &Address) -> Option<Vec<u8>> {
    let mut host = [0u8; 1025];
    // Raw libc: nix has no getnameinfo.
    // SAFETY: the sockaddr structs are plain data, filled before the call;
    // getnameinfo writes a NUL-terminated name into `host`.
    let rc = unsafe {
        match address {
            Address::V4(v4) => {
                let mut sa: libc::sockaddr_in = std::mem::zeroed();
                sa.sin_family = libc::AF_INET as libc::sa_family_t;
                sa.sin_addr.s_addr = u32::from_ne_bytes(*v4);
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    host.as_mut_ptr().cast(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
            Address::V6(v6) => {
                let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
                sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sa.sin6_addr.s6_addr = *v6;
                libc::getnameinfo(
                    (&sa as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    host.as_mut_ptr().cast(),
                    host.len() as libc::socklen_t,
                    std::ptr::null_mut(),
                    0,
                    libc::NI_NAMEREQD,
                )
            }
        }
    };
    if rc != 0 {
        return None;
    }
    CStr::from_bytes_until_nul(&host)
        .ok()
        .map(|name| name.to_bytes().to_vec())
}

/// The resolver's canonical name for `host` (gnulib `canon_host`), None
/// when it has none.
pub fn canonical_name(host: &[u8]) -> Option<Vec<u8>> {
    let name = std::ffi::CString::new(host).ok()?;
    // Raw libc: nix has no getaddrinfo.
    // SAFETY: hints is plain data; getaddrinfo fills `res`, which is freed
    // below; ai_canonname is a NUL-terminated string owned by `res`.
    unsafe {
        let mut hints: libc::addrinfo = std::mem::zeroed();
        hints.ai_flags = libc::AI_CANONNAME;
        let mut res: *mut libc::addrinfo = std::ptr::null_mut();
        if libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut res) != 0 {
            return None;
        }
        let canonical = if res.is_null() || (*res).ai_canonname.is_null() {
            host.to_vec()
        } else {
            CStr::from_ptr((*res).ai_canonname).to_bytes().to_vec()
        };
        libc::freeaddrinfo(res);
        Some(canonical)
    }
}

/// How Debian's `who --ips` patch reads `ut_addr_v6`: an address with only its
/// first word set, or one outside 2000::/3 and fc00::/7, is IPv4 from the
/// first word; a v4-mapped one IPv4 from the last word; the rest IPv6.
/// (Found by probing the installed who; tests pin it.)
pub fn debian_who_ips(addr: &[u8; 16]) -> Address {
    let v4_only = addr[4..].iter().all(|&b| b == 0);
    let mapped = addr[..10].iter().all(|&b| b == 0) && addr[10] == 0xff && addr[11] == 0xff;
    let global_or_ula = (addr[0] & 0xe0) == 0x20 || (addr[0] & 0xfe) == 0xfc;
    if !v4_only && mapped {
        Address::V4([addr[12], addr[13], addr[14], addr[15]])
    } else if !v4_only && global_or_ula {
        Address::V6(*addr)
    } else {
        Address::V4([addr[0], addr[1], addr[2], addr[3]])
    }
}

/// An IPv4 or IPv6 socket address as the resolver gives it (a link-local
/// IPv6 address keeps its scope).
#[derive(Clone, Copy)]
pub enum Endpoint {
    V4(SockaddrIn),
    V6(SockaddrIn6),
}

/// The first IPv4 or IPv6 address `getaddrinfo` gives for `host` (a name
/// or an address literal), with `port`: the address std's
/// `(host, port).to_socket_addrs()` gives first (it parses a literal
/// itself, which `getaddrinfo` reads the same), and std's error wording,
/// without linking std's own address parser and resolver iterator.
pub fn resolve(host: &str, port: u16) -> Result<Endpoint, String> {
    let name = std::ffi::CString::new(host)
        .map_err(|_| "file name contained an unexpected NUL byte".to_string())?;
    // Raw libc: nix has no getaddrinfo.
    // SAFETY: hints is plain data; getaddrinfo fills `res`, which is freed
    // below; each ai_addr holds a sockaddr of its sa_family, ai_addrlen
    // bytes long, and is copied out before the free.
    unsafe {
        let mut hints: libc::addrinfo = std::mem::zeroed();
        hints.ai_socktype = libc::SOCK_STREAM;
        let mut res: *mut libc::addrinfo = std::ptr::null_mut();
        let rc = libc::getaddrinfo(name.as_ptr(), std::ptr::null(), &hints, &mut res);
        if rc == libc::EAI_SYSTEM {
            return Err(std::io::Error::last_os_error().to_string());
        }
        if rc != 0 {
            return Err(format!(
                "failed to lookup address information: {}",
                CStr::from_ptr(libc::gai_strerror(rc)).to_string_lossy()
            ));
        }
        let mut found = None;
        let mut cur = res;
        while let Some(ai) = cur.as_ref() {
            cur = ai.ai_next;
            if ai.ai_addr.is_null() {
                continue;
            }
            let len = ai.ai_addrlen as usize;
            match i32::from((*ai.ai_addr).sa_family) {
                libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
                    let mut sa = *ai.ai_addr.cast::<libc::sockaddr_in>();
                    sa.sin_port = port.to_be();
                    found = Some(Endpoint::V4(SockaddrIn::from(sa)));
                }
                libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
                    let mut sa = *ai.ai_addr.cast::<libc::sockaddr_in6>();
                    sa.sin6_port = port.to_be();
                    found = Some(Endpoint::V6(SockaddrIn6::from(sa)));
                }
                _ => continue,
            }
            break;
        }
        libc::freeaddrinfo(res);
        found.ok_or_else(|| "no address".to_string())
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
        inet::format_v6(&addr, &mut out);
        String::from_utf8(out).unwrap()
    }

    fn ips(hex: &str) -> String {
        let mut addr = [0u8; 16];
        for (i, byte) in addr.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).unwrap();
        }
        let mut out = Vec::new();
        address_text(&debian_who_ips(&addr), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ips_family_as_debian_who_chooses() {
        assert_eq!(ips("c0a8010a000000000000000000000000"), "192.168.1.10");
        assert_eq!(ips("20010db8000000000000000000000001"), "2001:db8::1");
        assert_eq!(ips("fd000000000000000000000000000001"), "fd00::1");
        assert_eq!(ips("fe800000000000000000000000000001"), "254.128.0.0");
        assert_eq!(ips("20010db8000000000000000000000000"), "32.1.13.184");
        assert_eq!(ips("00000000000000000000ffff01020304"), "1.2.3.4");
        assert_eq!(ips("00000000000000000000000000000001"), "0.0.0.0");
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

    /// The same first address and the same error text as std's
    /// `to_socket_addrs`, for literals, /etc/hosts and a failure (none of
    /// which asks DNS).
    #[test]
    fn resolves_as_std() {
        use std::net::{SocketAddr, ToSocketAddrs};
        for host in [
            "127.0.0.1",
            "::1",
            "127.1",
            "::ffff:1.2.3.4",
            "localhost",
            "",
        ] {
            let ours = resolve(host, 514).map(|e| match e {
                Endpoint::V4(a) => SocketAddr::from(a),
                Endpoint::V6(a) => SocketAddr::from(a),
            });
            let std = (host, 514)
                .to_socket_addrs()
                .map_err(|e| e.to_string())
                .and_then(|mut a| a.next().ok_or_else(|| "no address".to_string()));
            assert_eq!(ours, std, "{host:?}");
        }
    }
}
