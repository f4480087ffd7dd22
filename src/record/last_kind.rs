//! How `last` reads a record's type: util-linux 2.38.1
//! `process_wtmp_file`'s fix-ups from the line and user fields. `last`
//! pairs records by the kind this gives; wtmpd, asked for the sessions of
//! some names (protocol filter 64), uses the same function to tell which
//! records the pairing needs, so the two can never disagree.

/// util-linux's private type for a shutdown record.
pub const SHUTDOWN_TIME: i16 = 254;

/// A login (7) or a logout (8): `last` pairs these on their line.
pub const LOGIN: i16 = 7;
pub const LOGOUT: i16 = 8;

/// The kind `last` acts on for a record of stored kind `kind`.
#[inline(always)]
pub fn last_kind(kind: i16, line: &[u8], user: &[u8]) -> i16 {
    let mut kind = kind;
    if line.first() == Some(&b'~') {
        if prefix(user, b"shutdown") {
            kind = SHUTDOWN_TIME;
        } else if prefix(user, b"reboot") {
            kind = 2;
        } else if prefix(user, b"runlevel") {
            kind = 1;
        }
    } else {
        if kind != LOGOUT && !user.is_empty() && !line.is_empty() && !prefix(user, b"LOGIN") {
            kind = LOGIN;
        }
        if user.is_empty() {
            kind = LOGOUT;
        }
        if prefix(user, b"date") {
            match line.first() {
                Some(b'|') => kind = 4,
                Some(b'{') => kind = 3,
                _ => {}
            }
        }
    }
    kind
}

/// Kinds `last` passes over without a trace: no entry, no state.
pub fn ignored(kind: i16) -> bool {
    matches!(kind, 0 | 5 | 6 | 9)
}

/// `field.starts_with(pattern)` for the short constant patterns of the
/// type checks, compared byte by byte in line (the library call showed
/// in profiles: it runs for every record).
#[inline(always)]
pub fn prefix(field: &[u8], pattern: &[u8]) -> bool {
    let n = pattern.len();
    if field.len() < n {
        return false;
    }
    if n > 8 {
        return field.starts_with(pattern);
    }
    // Most fields differ at once: one byte decides without the loop.
    if n > 0 && field[0] != pattern[0] {
        return false;
    }
    // Both as little-endian words of their first n bytes (a loop that
    // builds values, which the compiler does not turn into memcmp).
    let (mut a, mut b) = (0u64, 0u64);
    for i in (0..n).rev() {
        a = (a << 8) | field[i] as u64;
        b = (b << 8) | pattern[i] as u64;
    }
    a == b
}

/// A line as `last` tells lines apart (C compares the 32-byte field up
/// to its NUL): its bytes in four little-endian words, zero after the
/// end. Its own hash and comparison: SipHash and the memcmp of the
/// derived array comparison were far slower over millions of records.
#[derive(Eq, Clone, Copy)]
pub struct LineKey([u64; 4]);

impl PartialEq for LineKey {
    #[inline(always)]
    fn eq(&self, other: &LineKey) -> bool {
        let (a, b) = (&self.0, &other.0);
        (a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) == 0
    }
}

impl LineKey {
    /// FxHash over the four words, unrolled (the array iterator was not,
    /// in the size-optimised build).
    #[inline(always)]
    fn fold(&self) -> u64 {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let [a, b, c, d] = self.0;
        let mut h = a.wrapping_mul(K);
        h = (h.rotate_left(5) ^ b).wrapping_mul(K);
        h = (h.rotate_left(5) ^ c).wrapping_mul(K);
        (h.rotate_left(5) ^ d).wrapping_mul(K)
    }
}

impl std::hash::Hash for LineKey {
    #[inline(always)]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(self.fold());
    }
}

/// A map from line to a time for `last`'s pairing over millions of
/// records: open addressing with linear probing over a power-of-two
/// table of at most half load, and a clear (at every boot and shutdown)
/// that only bumps a generation. A history has few lines, so a probe
/// mostly ends at its first slot.
pub struct LineTimes {
    /// (key, time, generation): a slot is used when its generation is
    /// the table's.
    slots: Vec<(LineKey, i64, u32)>,
    generation: u32,
    len: usize,
}

impl Default for LineTimes {
    fn default() -> LineTimes {
        LineTimes {
            slots: vec![(LineKey([0; 4]), 0, 0); 256],
            generation: 1,
            len: 0,
        }
    }
}

impl LineTimes {
    /// Set `key`'s time to `t`; the time it had, if any.
    #[inline(always)]
    pub fn insert(&mut self, key: LineKey, t: i64) -> Option<i64> {
        let mask = self.slots.len() - 1;
        let mut at = (key.fold() >> 32) as usize & mask;
        loop {
            // `at` is masked: always a slot.
            let Some(slot) = self.slots.get_mut(at) else {
                return None;
            };
            if slot.2 != self.generation {
                return self.add(at, key, t);
            }
            if slot.0 == key {
                return Some(std::mem::replace(&mut slot.1, t));
            }
            at = (at + 1) & mask;
        }
    }

    #[inline(never)]
    fn add(&mut self, at: usize, key: LineKey, t: i64) -> Option<i64> {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
            return self.insert(key, t);
        }
        self.slots[at] = (key, t, self.generation);
        self.len += 1;
        None
    }

    /// Forget every line.
    pub fn clear(&mut self) {
        self.len = 0;
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Once in four billion clears: no slot may look current.
            for slot in &mut self.slots {
                slot.2 = 0;
            }
            self.generation = 1;
        }
    }

    #[cold]
    fn grow(&mut self) {
        let bigger = vec![(LineKey([0; 4]), 0, 0); self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        let generation = self.generation;
        self.len = 0;
        for (key, t, g) in old {
            if g == generation {
                self.insert(key, t);
            }
        }
    }
}

/// The key of `line` (its first 32 bytes). Whole words, then the rest
/// as two overlapping 4-byte reads or single bytes: a loop over the bytes
/// cost `last` a tenth of its time.
#[inline(always)]
pub fn line_key(line: &[u8]) -> LineKey {
    let line = &line[..line.len().min(32)];
    let mut w = [0u64; 4];
    let full = line.len() / 8;
    let mut k = 0;
    while k < full {
        w[k] = u64::from_le_bytes(le_bytes(line, 8 * k));
        k += 1;
    }
    // The tail (line[at..]) read at offsets into `line`, not sliced: the
    // range index was a call per record in the size-optimised build.
    let at = 8 * full;
    let n = line.len() - at;
    let rest = if n >= 4 {
        let lo = u32::from_le_bytes(le_bytes(line, at)) as u64;
        let hi = u32::from_le_bytes(le_bytes(line, at + n - 4)) as u64;
        // The bytes both reads hold are the same: or-ing them is exact.
        lo | hi << (8 * (n - 4))
    } else if n > 0 {
        let mut b = line[at] as u64;
        b |= (line[at + n / 2] as u64) << (8 * (n / 2));
        b | (line[at + n - 1] as u64) << (8 * (n - 1))
    } else {
        0
    };
    if full < 4 {
        w[full] = rest;
    }
    LineKey(w)
}

/// N bytes at `at` (in bounds: callers check).
#[inline(always)]
fn le_bytes<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = b.get(at..at + N) {
        out.copy_from_slice(src);
    }
    out
}

/// The hasher for `LineKey` maps: the key hashes itself.
#[derive(Default, Clone, Copy)]
pub struct LineHash;

impl std::hash::BuildHasher for LineHash {
    type Hasher = LineHasher;
    fn build_hasher(&self) -> LineHasher {
        LineHasher(0)
    }
}

pub struct LineHasher(u64);

impl std::hash::Hasher for LineHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_ups_as_util_linux_makes_them() {
        assert_eq!(last_kind(2, b"~", b"shutdown"), SHUTDOWN_TIME);
        assert_eq!(last_kind(1, b"~", b"reboot"), 2);
        assert_eq!(last_kind(8, b"~", b"runlevel"), 1);
        // A dead process with a user on a terminal is a login; any
        // record without a user is a logout.
        assert_eq!(last_kind(6, b"pts/1", b"alice"), LOGIN);
        assert_eq!(last_kind(6, b"tty1", b"LOGIN"), 6);
        assert_eq!(last_kind(2, b"pts/1", b""), LOGOUT);
        assert_eq!(last_kind(7, b"{", b"date"), 3);
        assert_eq!(last_kind(7, b"|", b"date"), 4);
        // No line: the stored kind stands.
        assert_eq!(last_kind(2, b"", b"kernel"), 2);
        assert!(ignored(last_kind(5, b"", b"init")));
    }

    #[test]
    fn line_times_as_a_map() {
        let mut times = LineTimes::default();
        let mut model = std::collections::HashMap::new();
        for i in 0..20000i64 {
            let line = format!("pts/{}", (i * 7919) % 900);
            let key = line_key(line.as_bytes());
            assert_eq!(times.insert(key, i), model.insert(line, i), "{i}");
            if i % 3000 == 2999 {
                times.clear();
                model.clear();
            }
        }
    }

    #[test]
    fn line_keys_tell_lines_apart_as_c_strings() {
        // The key is the bytes as four little-endian words, zero after
        // the end, for every length.
        let bytes: Vec<u8> = (1..=40).collect();
        for n in 0..=40 {
            let mut padded = [0u8; 32];
            let k = n.min(32);
            padded[..k].copy_from_slice(&bytes[..k]);
            let mut want = [0u64; 4];
            for (i, w) in want.iter_mut().enumerate() {
                *w = u64::from_le_bytes(padded[8 * i..8 * i + 8].try_into().unwrap());
            }
            assert!(line_key(&bytes[..n]) == LineKey(want), "{n}");
        }
        assert!(line_key(b"pts/1") == line_key(b"pts/1"));
        assert!(line_key(b"pts/1") != line_key(b"pts/10"));
        assert!(line_key(b"") != line_key(b"a"));
        let long = [b'x'; 32];
        assert!(line_key(&long) == line_key(&long));
        let mut other = long;
        other[31] = b'y';
        assert!(line_key(&long) != line_key(&other));
    }
}
