//! Random inputs for the utmpdump tests, written by the test itself (not
//! by the code under test): glibc and utmpx records, and text lines.

/// xorshift64*: deterministic inputs, independent of the code under test.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// One glibc `struct utmp` field set, as the test writes it on disk itself.
#[derive(Clone)]
pub struct Raw {
    pub kind: i16,
    pub pid: i32,
    pub line: Vec<u8>,
    pub id: Vec<u8>,
    pub user: Vec<u8>,
    pub host: Vec<u8>,
    pub exit: [i16; 2],
    pub session: i32,
    pub sec: i64,
    pub usec: i64,
    pub addr: [u8; 16],
}

impl Raw {
    /// 384 bytes (glibc x86_64) or 400 (64-bit-time utmpx).
    pub fn encode(&self, wide: bool) -> Vec<u8> {
        let mut b = vec![0u8; if wide { 400 } else { 384 }];
        b[0..2].copy_from_slice(&self.kind.to_le_bytes());
        b[4..8].copy_from_slice(&self.pid.to_le_bytes());
        b[8..8 + self.line.len()].copy_from_slice(&self.line);
        b[40..40 + self.id.len()].copy_from_slice(&self.id);
        b[44..44 + self.user.len()].copy_from_slice(&self.user);
        b[76..76 + self.host.len()].copy_from_slice(&self.host);
        b[332..334].copy_from_slice(&self.exit[0].to_le_bytes());
        b[334..336].copy_from_slice(&self.exit[1].to_le_bytes());
        b[336..340].copy_from_slice(&self.session.to_le_bytes());
        if wide {
            b[344..352].copy_from_slice(&self.sec.to_le_bytes());
            b[352..360].copy_from_slice(&self.usec.to_le_bytes());
            b[360..376].copy_from_slice(&self.addr);
        } else {
            b[340..344].copy_from_slice(&(self.sec as i32).to_le_bytes());
            b[344..348].copy_from_slice(&(self.usec as i32).to_le_bytes());
            b[348..364].copy_from_slice(&self.addr);
        }
        b
    }

    /// The fields of a 384-byte record (for rewriting it as 400 bytes).
    pub fn decode_glibc(b: &[u8]) -> Raw {
        let cut = |f: &[u8]| f[..f.iter().position(|&c| c == 0).unwrap_or(f.len())].to_vec();
        let i32_at = |at: usize| i32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let i16_at = |at: usize| i16::from_le_bytes(b[at..at + 2].try_into().unwrap());
        Raw {
            kind: i16_at(0),
            pid: i32_at(4),
            line: cut(&b[8..40]),
            id: cut(&b[40..44]),
            user: cut(&b[44..76]),
            host: cut(&b[76..332]),
            exit: [i16_at(332), i16_at(334)],
            session: i32_at(336),
            sec: i32_at(340) as i64,
            usec: i32_at(344) as i64,
            addr: b[348..364].try_into().unwrap(),
        }
    }
}

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
        exit: [rng.next() as i16, rng.next() as i16],
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
    records.iter().flat_map(|r| r.encode(false)).collect()
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

pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}
