//! Writing utmp files for the reader tests, independently of the crate's
//! own codecs (so a codec bug cannot hide behind itself): glibc 384-byte
//! records (what the peers read), 400-byte utmpx and native files, and a
//! random generator of printable records.

#![allow(dead_code)]

/// One entry, with the fields the readers show.
#[derive(Clone, Debug)]
pub struct Entry {
    pub kind: i16,
    pub pid: i32,
    pub line: Vec<u8>,
    pub id: Vec<u8>,
    pub user: Vec<u8>,
    pub host: Vec<u8>,
    pub term: i16,
    pub exit: i16,
    pub session: i32,
    pub sec: i64,
    pub usec: i64,
    pub addr: [u8; 16],
}

impl Entry {
    /// An entry whose id is the line's last four bytes; the time is cut
    /// to 32 bits, as the 384-byte layout keeps it.
    pub fn new(kind: i16, pid: i32, line: &str, user: &str, host: &str, sec: i64) -> Entry {
        let (line, user, host) = (line.as_bytes(), user.as_bytes(), host.as_bytes());
        let mut e = Entry::of_bytes(kind, line, user, host, i64::from(sec as i32));
        e.pid = pid;
        e
    }

    /// As `new` from bytes, pid 0, the time kept whole (for utmpx and
    /// native files).
    pub fn of_bytes(kind: i16, line: &[u8], user: &[u8], host: &[u8], sec: i64) -> Entry {
        Entry {
            kind,
            pid: 0,
            line: line.to_vec(),
            id: line[line.len().saturating_sub(4)..].to_vec(),
            user: user.to_vec(),
            host: host.to_vec(),
            term: 0,
            exit: 0,
            session: 0,
            sec,
            usec: 0,
            addr: [0; 16],
        }
    }

    /// glibc x86_64 `struct utmp` (384 bytes) or the 64-bit-time `struct
    /// utmpx` (400): the 32-bit layout cuts the time to 32 bits.
    pub fn encode(&self, wide: bool) -> Vec<u8> {
        let mut r = vec![0u8; if wide { 400 } else { 384 }];
        r[0..2].copy_from_slice(&self.kind.to_le_bytes());
        r[4..8].copy_from_slice(&self.pid.to_le_bytes());
        put(&mut r[8..40], &self.line);
        put(&mut r[40..44], &self.id);
        put(&mut r[44..76], &self.user);
        put(&mut r[76..332], &self.host);
        r[332..334].copy_from_slice(&self.term.to_le_bytes());
        r[334..336].copy_from_slice(&self.exit.to_le_bytes());
        r[336..340].copy_from_slice(&self.session.to_le_bytes());
        if wide {
            r[344..352].copy_from_slice(&self.sec.to_le_bytes());
            r[352..360].copy_from_slice(&self.usec.to_le_bytes());
            r[360..376].copy_from_slice(&self.addr);
        } else {
            r[340..344].copy_from_slice(&(self.sec as i32).to_le_bytes());
            r[344..348].copy_from_slice(&(self.usec as i32).to_le_bytes());
            r[348..364].copy_from_slice(&self.addr);
        }
        r
    }

    /// The fields of a 384-byte record (for rewriting it as 400 bytes).
    pub fn decode_glibc(b: &[u8]) -> Entry {
        let cut = |f: &[u8]| f[..f.iter().position(|&c| c == 0).unwrap_or(f.len())].to_vec();
        let i32_at = |at: usize| i32::from_le_bytes(b[at..at + 4].try_into().unwrap());
        let i16_at = |at: usize| i16::from_le_bytes(b[at..at + 2].try_into().unwrap());
        Entry {
            kind: i16_at(0),
            pid: i32_at(4),
            line: cut(&b[8..40]),
            id: cut(&b[40..44]),
            user: cut(&b[44..76]),
            host: cut(&b[76..332]),
            term: i16_at(332),
            exit: i16_at(334),
            session: i32_at(336),
            sec: i32_at(340) as i64,
            usec: i32_at(344) as i64,
            addr: b[348..364].try_into().unwrap(),
        }
    }
}

/// A field's bytes, cut to the field's width.
pub fn put(dest: &mut [u8], value: &[u8]) {
    let n = value.len().min(dest.len());
    dest[..n].copy_from_slice(&value[..n]);
}

/// glibc x86_64 `struct utmp`, 384 bytes each.
pub fn glibc(entries: &[Entry]) -> Vec<u8> {
    entries.iter().flat_map(|e| e.encode(false)).collect()
}

/// 64-bit-time `struct utmpx`, 400 bytes each.
pub fn utmpx(entries: &[Entry]) -> Vec<u8> {
    entries.iter().flat_map(|e| e.encode(true)).collect()
}

/// CRC-32 (IEEE, as zlib), bit by bit: independent of the crate's table.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// utmpbox's native layout (docs/FORMAT.md): a utmp table.
pub fn native(entries: &[Entry]) -> Vec<u8> {
    native_file(2, entries)
}

/// utmpbox's native layout (docs/FORMAT.md): header of file kind `kind`
/// (1 log, 2 utmp table), 512-byte records.
pub fn native_file(kind: u32, entries: &[Entry]) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    out[..8].copy_from_slice(b"UTMPBOX\0");
    out[8..10].copy_from_slice(&1u16.to_le_bytes());
    out[10..12].copy_from_slice(&64u16.to_le_bytes());
    out[12..16].copy_from_slice(&512u32.to_le_bytes());
    out[16..20].copy_from_slice(&kind.to_le_bytes());
    let crc = crc32(&out[..60]);
    out[60..64].copy_from_slice(&crc.to_le_bytes());
    for e in entries {
        let mut r = [0u8; 512];
        r[0..2].copy_from_slice(&e.kind.to_le_bytes());
        r[4..8].copy_from_slice(&e.pid.to_le_bytes());
        r[8..12].copy_from_slice(&e.session.to_le_bytes());
        r[12..14].copy_from_slice(&e.term.to_le_bytes());
        r[14..16].copy_from_slice(&e.exit.to_le_bytes());
        let us = e.sec * 1_000_000 + e.usec;
        r[16..24].copy_from_slice(&us.to_le_bytes());
        r[24..40].copy_from_slice(&e.addr);
        put(&mut r[40..72], &e.line);
        put(&mut r[72..76], &e.id);
        put(&mut r[76..140], &e.user);
        put(&mut r[140..396], &e.host);
        let crc = crc32(&r[..508]);
        r[508..512].copy_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&r);
    }
    out
}

/// xorshift64*, deterministic per seed: every test generator's stream.
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
    pub fn bytes(&mut self, items: &[&'static [u8]]) -> &'static [u8] {
        items[self.below(items.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    /// Printable ASCII (space included), `min..=max` bytes.
    pub fn text(&mut self, min: usize, max: usize) -> Vec<u8> {
        let len = min + self.below((max - min + 1) as u64) as usize;
        (0..len).map(|_| 0x20 + self.below(95) as u8).collect()
    }
}

/// Lines no device of this machine has (so IDLE and mesg are `?` for both
/// tools), plus tty1-style names whose atime is old anyway.
fn random_line(rng: &mut Rng) -> Vec<u8> {
    match rng.below(6) {
        0 => format!("pts/{}", 100 + rng.below(900)).into_bytes(),
        1 => format!("ttyQ{}", rng.below(100)).into_bytes(),
        2 => b":0".to_vec(),
        3 => {
            let mut line = b"zz".to_vec();
            line.extend(
                rng.text(0, 30)
                    .into_iter()
                    .map(|b| if b == b'/' { b'_' } else { b }),
            );
            line
        }
        4 => b"~".to_vec(),
        _ => format!("pts/{}x", rng.below(1000)).into_bytes(),
    }
}

fn random_host(rng: &mut Rng) -> Vec<u8> {
    match rng.below(8) {
        0 | 1 => Vec::new(),
        2 => format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            rng.below(256)
        )
        .into_bytes(),
        3 => b"2001:db8::1".to_vec(),
        4 => format!(":{}", rng.below(3)).into_bytes(),
        5 => format!("host{}.example.org:{}.0", rng.below(100), rng.below(3)).into_bytes(),
        6 => {
            // Long hosts, up to the full 256 bytes with no NUL.
            let mut host = b"very.long.hostname.".to_vec();
            host.extend(rng.text(0, 237));
            host
        }
        _ => rng.text(1, 40),
    }
}

fn random_addr(rng: &mut Rng) -> [u8; 16] {
    let mut addr = [0u8; 16];
    match rng.below(5) {
        0 => {}
        1 => addr[..4].copy_from_slice(&(rng.next() as u32).to_be_bytes()),
        2 => {
            addr[0] = 0x20;
            addr[1] = 0x01;
            addr[2] = 0x0d;
            addr[3] = 0xb8;
            addr[15] = rng.below(256) as u8;
        }
        3 => {
            addr[10] = 0xff;
            addr[11] = 0xff;
            addr[12..].copy_from_slice(&(rng.next() as u32).to_be_bytes());
        }
        _ => addr.copy_from_slice(&rng.next().to_le_bytes().repeat(2)),
    }
    addr
}

/// A random printable entry of any kind. `now` anchors times so some fall
/// near it (boot records, idle rules), others anywhere in 32-bit time.
pub fn random_entry(rng: &mut Rng, now: i64) -> Entry {
    let kind = match rng.below(12) {
        0..=3 => 7,
        _ => rng.below(10) as i16,
    };
    let sec = match rng.below(3) {
        0 => now - rng.below(3 * 86400) as i64,
        1 => (rng.next() as u32) as i32 as i64,
        _ => rng.below(1 << 31) as i64,
    };
    let mut e = Entry::new(kind, 0, "", "", "", sec);
    e.line = random_line(rng);
    e.id = rng.text(0, 4);
    e.user = match rng.below(6) {
        0 => Vec::new(),
        1 => rng.text(32, 32),
        2 => b"root".to_vec(),
        3 => b"alice  ".to_vec(),
        _ => rng.text(1, 12),
    };
    e.host = random_host(rng);
    e.addr = random_addr(rng);
    e.pid = match rng.below(4) {
        0 => rng.next() as i32,
        1 => 0,
        _ => rng.below(100_000) as i32,
    };
    if kind == 1 {
        // Run-level records: pid = previous * 256 + current, printable (or
        // NUL) current level; an unprintable one is the escaping test's.
        let curr = *rng.pick(b"0123456S\0sNq");
        let last = *rng.pick(b"N0123456\x01 ~");
        e.pid = i32::from(last) * 256 + i32::from(curr);
    }
    e.term = rng.next() as i16;
    e.exit = rng.next() as i16;
    e.usec = rng.below(1_000_000) as i64;
    e
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// (year, month 1..=12, day) of a day count since 1970-01-01 (Howard
/// Hinnant's days-to-civil), written here apart from the crate's.
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
