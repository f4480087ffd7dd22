//! Random inputs for the utmpdump tests, written by the test itself (not
//! by the code under test): glibc and utmpx records, and text lines.

pub use crate::utmpfile::{civil_from_days, Entry as Raw, Rng};

/// Bytes for a field of up to `max`: often empty or full, sometimes odd.
pub fn field(rng: &mut Rng, max: usize) -> Vec<u8> {
    let len = match rng.below(4) {
        0 => 0,
        1 => max,
        _ => rng.below(max as u64 + 1) as usize,
    };
    (0..len)
        .map(|_| match rng.below(8) {
            0 => (rng.below(255) + 1) as u8,
            1 => *rng.pick(b"[] \t\x1b\x7f"),
            _ => *rng.pick(b"abcxyz0123/._-:~"),
        })
        .collect()
}

pub fn address(rng: &mut Rng) -> [u8; 16] {
    let mut addr = [0u8; 16];
    match rng.below(6) {
        0 => {}
        1 | 2 => addr[..4].iter_mut().for_each(|b| *b = rng.next() as u8),
        3 => addr.iter_mut().for_each(|b| *b = rng.next() as u8),
        4 => {
            // Zero runs of every length and place, for '::' compression.
            for w in 0..8 {
                if rng.below(2) == 0 {
                    addr[w * 2] = rng.next() as u8;
                    addr[w * 2 + 1] = rng.next() as u8;
                }
            }
        }
        _ => {
            // ::ffff:a.b.c.d and ::a.b.c.d, which inet_ntop prints dotted.
            if rng.below(2) == 0 {
                addr[10] = 0xff;
                addr[11] = 0xff;
            }
            addr[12..].iter_mut().for_each(|b| *b = rng.next() as u8);
        }
    }
    addr
}

pub fn random_raw(rng: &mut Rng) -> Raw {
    Raw {
        kind: if rng.below(10) == 0 {
            rng.next() as i16
        } else {
            rng.below(10) as i16
        },
        pid: match rng.below(3) {
            0 => rng.below(100_000) as i32,
            1 => rng.next() as i32,
            _ => rng.below(1000) as i32,
        },
        line: field(rng, 32),
        id: field(rng, 4),
        user: field(rng, 32),
        host: field(rng, 256),
        term: rng.next() as i16,
        exit: rng.next() as i16,
        session: rng.next() as i32,
        sec: match rng.below(4) {
            0 => 0,
            1 => rng.next() as i32 as i64,
            _ => 1_600_000_000 + rng.below(200_000_000) as i64,
        },
        usec: rng.below(1_000_000) as i64,
        addr: address(rng),
    }
}

/// A random record whose dump util-linux reads back as it meant to: its
/// type and pid leave the id's `[` before byte 19, where util-linux starts
/// looking for the user field (see `lines_util_linux_would_misread_are_errors`),
/// and its address has no dotted IPv4 tail.
pub fn undumpable_raw(rng: &mut Rng) -> Raw {
    let mut raw = random_raw(rng);
    if raw.kind.to_string().len() + format!("{:05}", raw.pid).len() > 12 {
        raw.pid = raw.pid.rem_euclid(100_000);
    }
    // An IPv6 address printed with a dotted IPv4 tail (::ffff:a.b.c.d) is
    // one util-linux reads back as 0.0.0.0 (differences_from_util_linux_on_undump).
    if raw.addr[..10].iter().all(|&b| b == 0) && raw.addr[4..].iter().any(|&b| b != 0) {
        raw.addr[0] = 0x20;
    }
    raw
}

pub fn glibc_file(records: &[Raw]) -> Vec<u8> {
    crate::utmpfile::glibc(records)
}

/// A utmpdump line util-linux reads exactly: its own layout, with the
/// variations people type (spaces inside fields, odd gaps between them,
/// no microseconds, other address spellings, the old time format).
pub fn random_text_line(rng: &mut Rng) -> String {
    let printable = |rng: &mut Rng, max: usize| -> String {
        let len = rng.below(max as u64 + 1) as usize;
        (0..len)
            .map(|_| {
                let c = *rng.pick(b"abcdefxyz0189/._-:~@#?!(){}<>'\"*=, ");
                c as char
            })
            .collect()
    };
    let kind = rng.below(10);
    let pid = match rng.below(3) {
        0 => format!("{:05}", rng.below(100_000)),
        1 => format!("{:05}", -(rng.below(10_000) as i64)),
        _ => format!("{:05}", rng.below(1000)),
    };
    let id: String = (0..4).map(|_| *rng.pick(b"ab~0 /:") as char).collect();
    let user = printable(rng, 32);
    let term = printable(rng, 32);
    let host_max = if rng.below(4) == 0 { 256 } else { 40 };
    let host = printable(rng, host_max);
    let addr = rng
        .pick(&[
            "",
            "0.0.0.0",
            "10.1.2.3",
            "255.255.255.255",
            "192.168.100.7",
            "::",
            "::1",
            "2001:db8::1",
            "2001:DB8:0:0:8:800:200C:417A",
            "fe80:0000:0000:0000:0204:61ff:fe9d:f156",
            "1::",
            "1:2:3:4:5:6:7:8",
            "ff02::1:ff00:42",
        ])
        .to_string();
    let secs = rng.next() as i32 as i64;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let tod = secs.rem_euclid(86_400);
    let (h, mi, se) = (tod / 3600, tod % 3600 / 60, tod % 60);
    let usec = rng.below(1_000_000);
    let time = match rng.below(8) {
        0 => String::new(),
        1 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}+00:00"),
        2 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}"),
        3 => {
            let day = rng.pick(&["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]);
            let month = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ][mo as usize - 1];
            format!("{day} {month} {d:02} {h:02}:{mi:02}:{se:02} {y} GMT")
        }
        _ => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02},{usec:06}+00:00"),
    };
    let gap = |rng: &mut Rng| " ".repeat(rng.below(3) as usize);
    let pad = |s: &str, w: usize| format!("{s:<w$}");
    format!(
        "[{kind}] [{pid}] [{id}] [{}]{}[{}] {}[{}]{} [{}] [{time}]",
        pad(&user, 8),
        gap(rng),
        pad(&term, 12),
        gap(rng),
        pad(&host, 20),
        gap(rng),
        pad(&addr, 15),
    )
}
