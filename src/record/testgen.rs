//! Random records for property tests: every kind, empty and full-width
//! fields, odd bytes, IPv4 and IPv6 addresses, times either side of 1970.

use super::{ExitStatus, Record, RecordKind};

/// xorshift64*: small, deterministic, good enough to spread test inputs.
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

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// A field of up to `max` non-NUL bytes: often empty or full, sometimes odd.
pub fn field(rng: &mut Rng, max: usize) -> Vec<u8> {
    let len = match rng.below(4) {
        0 => 0,
        1 => max,
        _ => rng.below(max as u64 + 1) as usize,
    };
    (0..len)
        .map(|_| match rng.below(8) {
            0 => (rng.below(255) + 1) as u8,
            _ => b"abcxyz0123/._-:~"[rng.below(16) as usize],
        })
        .collect()
}

/// A record that the legacy layouts can hold (32-bit times, 32-byte user).
pub fn legacy_record(rng: &mut Rng) -> Record {
    let mut record = record_with(rng, 32);
    record.time_us =
        (rng.below(1 << 32) as i64 - (1 << 31)) * 1_000_000 + rng.below(1_000_000) as i64;
    record
}

/// A record for the native layout: 64-bit times far past 2038 and a wider user.
pub fn native_record(rng: &mut Rng) -> Record {
    let mut record = record_with(rng, 64);
    record.time_us = rng.next() as i64;
    record
}

fn record_with(rng: &mut Rng, user_max: usize) -> Record {
    let mut addr = [0u8; 16];
    match rng.below(3) {
        0 => {}
        1 => addr[..4].copy_from_slice(&rng.bytes(4)),
        _ => addr.copy_from_slice(&rng.bytes(16)),
    }
    Record {
        kind: RecordKind::from_raw(rng.below(10) as i16),
        pid: rng.next() as i32,
        session: rng.next() as i32,
        line: field(rng, 32),
        id: field(rng, 4),
        user: field(rng, user_max),
        host: field(rng, 256),
        exit: ExitStatus {
            termination: rng.next() as i16,
            exit: rng.next() as i16,
        },
        addr,
        time_us: 0,
    }
}
