//! Generated histories for the `last` tests: a small PRNG, records and
//! their glibc, utmpx and native encodings (written here independently of
//! the crate's codecs), plausible histories and random option sets.

pub use crate::utmpfile::{now, Entry as Rec, Rng};

/// glibc x86_64 `struct utmp` (384 bytes) or the 64-bit-time utmpx (400).
pub fn encode(records: &[Rec], wide: bool) -> Vec<u8> {
    records.iter().flat_map(|r| r.encode(wide)).collect()
}

pub const USERS: &[&[u8]] = &[
    b"alice",
    b"bob",
    b"root",
    b"nobody",
    b"carol_longname",
    b"nosuchuser_x",
    b"u",
    b"a_user_name_of_32_bytes_exactly_",
    b"esc\x1b[31mred",
    b"caf\xc3\xa9",
    b"daemon",
];
pub const LINES: &[&[u8]] = &[
    b"pts/0",
    b"pts/1",
    b"pts/2",
    b"pts/13",
    b"tty1",
    b"tty2",
    b"tty7",
    b":0",
    b"ftp123",
    b"uucp4",
    b"ssh:notty",
    b"a_very_long_line_name_of_32_byte",
];
pub const HOSTS: &[&[u8]] = &[
    b"",
    b"192.168.1.10",
    b"10.0.0.5",
    b"2001:db8::1",
    b":0",
    b"very.long.hostname.example.com",
    b"tab\there",
    b"h\xff\x01st",
    b"localhost",
    // The whole 256-byte field, no NUL (util-linux shows 255 of it), and
    // one byte less.
    b"hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh.example.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg.exam",
    b"trailing-tab\t",
];
/// util-linux's output as utmpbox prints the same entries: the TAB
/// (and BEL, CR) util-linux lets through raw from a stored field are
/// escaped (`*I`, `*G`, `*M`; docs/COMPAT.md, "Every reader"). Stored
/// fields hold no LF here, so every LF of the peer's output ends a line.
pub fn escaped_as_ours(peer: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(peer.len());
    for &b in peer {
        match b {
            b'\t' | b'\x07' | b'\r' => out.extend_from_slice(&[b'*', b ^ 0x40]),
            _ => out.push(b),
        }
    }
    out
}

pub const KERNELS: &[&[u8]] = &[b"6.1.0-28-amd64", b"5.10.0-9-generic-with-a-long-name"];

pub fn random_addr(rng: &mut Rng) -> [u8; 16] {
    let mut a = [0u8; 16];
    match rng.below(6) {
        0 | 1 => {}
        2 => a[..4].copy_from_slice(&[192, 168, 1, rng.below(256) as u8]),
        3 => a[..4].copy_from_slice(&[127, 0, 0, 1]),
        4 => {
            a[10] = 0xff;
            a[11] = 0xff;
            a[12..].copy_from_slice(&[10, 0, 0, rng.below(256) as u8]);
        }
        _ => {
            a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
            for b in a[4..].iter_mut() {
                if rng.chance(30) {
                    *b = rng.below(256) as u8;
                }
            }
        }
    }
    a
}

/// A plausible history: boots, run levels, logins and logouts on a few
/// lines, shutdowns, crashes, clock changes, noise records. Once a boot
/// has been followed by another boot, no shutdown follows (that is the
/// case where utmpbox deliberately follows util-linux 2.40).
pub fn history(rng: &mut Rng, start: i64, count: usize) -> Vec<Rec> {
    let mut out = Vec::new();
    let mut t = start;
    let mut open: Vec<Vec<u8>> = Vec::new();
    let mut booted_since_down = false;
    let mut no_more_shutdowns = false;
    for _ in 0..count {
        t += match rng.below(10) {
            0 => rng.below(3 * 86400) as i64,
            1 => 0,
            _ => rng.below(4000) as i64,
        };
        let roll = rng.below(100);
        let mut r = if roll < 6 {
            if booted_since_down {
                no_more_shutdowns = true;
            }
            booted_since_down = true;
            open.clear();
            Rec::of_bytes(2, b"~", b"reboot", rng.bytes(KERNELS), t)
        } else if roll < 9 && !no_more_shutdowns {
            booted_since_down = false;
            Rec::of_bytes(1, b"~", b"shutdown", rng.bytes(KERNELS), t)
        } else if roll < 13 {
            let level = *rng.pick(&[b'5', b'3', b'S', b'0', b'6', b'1', 0u8, 0xe9]);
            if (level == b'0' || level == b'6') && no_more_shutdowns {
                continue;
            }
            if level == b'0' || level == b'6' {
                booted_since_down = false;
            }
            let mut r = Rec::of_bytes(1, b"~", b"runlevel", rng.bytes(KERNELS), t);
            r.pid = (b'N' as i32) * 256 + level as i32;
            r
        } else if roll < 15 {
            let line: &[u8] = if rng.chance(50) { b"|" } else { b"{" };
            if rng.chance(50) {
                t -= rng.below(7200) as i64;
            }
            Rec::of_bytes(if line == b"|" { 4 } else { 3 }, line, b"date", b"", t)
        } else if roll < 20 {
            let kind = *rng.pick(&[0i16, 5, 6, 9, 42, -3, 300]);
            let user: &[u8] = if kind == 6 { b"LOGIN" } else { b"" };
            Rec::of_bytes(kind, rng.bytes(LINES), user, b"", t)
        } else if roll < 60 || open.is_empty() {
            let line = rng.bytes(LINES).to_vec();
            let mut r = Rec::of_bytes(7, &line, rng.bytes(USERS), rng.bytes(HOSTS), t);
            if rng.chance(3) {
                r.user.clear();
            }
            if rng.chance(2) {
                r.line.clear();
            }
            r.addr = random_addr(rng);
            open.push(line);
            r
        } else {
            let i = rng.below(open.len() as u64) as usize;
            let line = open.swap_remove(i);
            // Some logout records keep the user name (util-linux#2364).
            let user: &[u8] = if rng.chance(10) { b"bob" } else { b"" };
            Rec::of_bytes(8, &line, user, b"", t)
        };
        if r.pid == 0 {
            r.pid = 1_000_000_000 + rng.below(1000) as i32;
        }
        out.push(r);
    }
    out
}

/// Options for one comparison, chosen at random from what 2.38.1 accepts.
pub fn random_options(rng: &mut Rng, recs: &[Rec]) -> Vec<Vec<u8>> {
    let mut args: Vec<Vec<u8>> = Vec::new();
    let when = |rng: &mut Rng| -> Vec<u8> {
        let t = recs[rng.below(recs.len() as u64) as usize].sec + rng.below(600) as i64 - 300;
        let tm = format_utc(t);
        match rng.below(3) {
            0 => tm.into_bytes(),
            1 => tm.replace(['-', ':', ' '], "").into_bytes(),
            _ => tm[..10].as_bytes().to_vec(),
        }
    };
    for _ in 0..rng.below(4) {
        match rng.below(16) {
            0 => args.push(b"-x".to_vec()),
            1 => args.push(b"-a".to_vec()),
            2 => args.push(b"-i".to_vec()),
            3 => args.push(b"-w".to_vec()),
            4 => args.push(b"-F".to_vec()),
            5 => args.push(b"-R".to_vec()),
            6 => {
                args.push(b"-n".to_vec());
                args.push(format!("{}", rng.below(12)).into_bytes());
            }
            7 => args.push(format!("-{}", 1 + rng.below(9)).into_bytes()),
            8 => {
                args.push(b"--time-format".to_vec());
                args.push(
                    rng.pick(&["notime", "short", "full", "iso"])
                        .as_bytes()
                        .to_vec(),
                );
            }
            9 => {
                args.push(b"-s".to_vec());
                args.push(when(rng));
            }
            10 => {
                args.push(b"-t".to_vec());
                args.push(when(rng));
            }
            11 => {
                args.push(b"-p".to_vec());
                args.push(when(rng));
            }
            12 => args.push(rng.bytes(USERS).to_vec()),
            13 => args.push(
                rng.pick(&[
                    &b"pts/1"[..],
                    b"1",
                    b"tty2",
                    b"ftp",
                    b"uucp",
                    b"7",
                    b"reboot",
                ])
                .to_vec(),
            ),
            14 => args.push(b"-xai".to_vec()),
            _ => args.push(b"-wx".to_vec()),
        }
    }
    // -F and --time-format together are an error; keep the first.
    if args.iter().any(|a| a == b"-F") {
        if let Some(i) = args.iter().position(|a| a == b"--time-format") {
            args.drain(i..i + 2);
        }
    }
    args
}

/// `YYYY-MM-DD hh:mm:ss` in UTC, by the civil-from-days algorithm.
pub fn format_utc(t: i64) -> String {
    let rem = t.rem_euclid(86400);
    let (y, m, d) = crate::utmpfile::civil_from_days(t.div_euclid(86400));
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// utmpbox's own log format (docs/FORMAT.md), written independently of
/// the crate's codec.
pub fn encode_native(records: &[Rec]) -> Vec<u8> {
    crate::utmpfile::native_file(1, records)
}
