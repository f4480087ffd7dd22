//! The hash maps' hasher: a multiply-rotate hash (FxHash's), not std's
//! randomly keyed SipHash. std's default costs the tiny build its SipHash
//! code per key type and the random keys' start-up; the maps here are
//! keyed by uids, table slots and user names that only root or the utmp
//! group can choose in bulk, so flooding one with collisions is no threat
//! an attacker holds.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with the fast hasher: make one with `Map::default()`.
pub type Map<K, V> = HashMap<K, V, BuildHasherDefault<Fast>>;

#[derive(Default)]
pub struct Fast(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl Fast {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
    }
}

impl Hasher for Fast {
    fn finish(&self) -> u64 {
        // hashbrown takes its control byte from the top bits and the
        // bucket from the low ones: fold the well-mixed top into both.
        self.0 ^ (self.0 >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_kind_are_found() {
        let mut by_name: Map<Vec<u8>, u64> = Map::default();
        let mut by_uid: Map<u32, usize> = Map::default();
        for i in 0..2000u32 {
            by_name.insert(format!("user{i}").into_bytes(), u64::from(i));
            by_uid.insert(i * 7, i as usize);
        }
        assert_eq!(by_name.len(), 2000);
        assert_eq!(by_name.get(&b"user1234"[..]), Some(&1234));
        assert_eq!(by_uid.get(&(7 * 1999)), Some(&1999));
        assert_eq!(by_uid.get(&5), None);
    }
}
