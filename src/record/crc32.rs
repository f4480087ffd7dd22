//! CRC-32 (IEEE 802.3, as zlib) of native records. Every record read or
//! written is checked, so this is on the hot path of the daemons and of
//! `last`: wtmpd serving a history spent over half its time here with
//! slicing-by-8 tables. On x86_64 CPUs with PCLMULQDQ (every one since
//! 2010) the data is folded 64 bytes at a time with carry-less
//! multiplication (Intel, "Fast CRC Computation for Generic Polynomials
//! Using PCLMULQDQ Instruction", 2009, in the bit-reflected form that
//! zlib, Linux and Chromium use); elsewhere, and for short inputs and
//! tails, slicing-by-8.

use std::sync::OnceLock;

/// CRC-32 of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if bytes.len() >= 64 && has_clmul() {
            // SAFETY: the CPU has the features the function is compiled
            // for (checked just above).
            return unsafe { clmul::crc32(bytes) };
        }
    }
    update(0, bytes)
}

/// Whether the CPU has PCLMULQDQ and SSE4.1: CPUID leaf 1, ECX bits 1
/// and 19 (what `is_x86_feature_detected!` reads for these two), asked
/// once. Not the macro: it links std's whole feature detector (1.6 KB).
#[cfg(target_arch = "x86_64")]
fn has_clmul() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    // 0: not asked yet, 1: no, 2: yes.
    static KNOWN: AtomicU8 = AtomicU8::new(0);
    match KNOWN.load(Ordering::Relaxed) {
        0 => {
            // SAFETY: every x86_64 CPU has CPUID and its leaf 1. (The
            // call is safe in newer Rust, unsafe in older.)
            #[allow(unused_unsafe)]
            let ecx = unsafe { std::arch::x86_64::__cpuid(1) }.ecx;
            let yes = ecx & (1 << 1) != 0 && ecx & (1 << 19) != 0;
            KNOWN.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
        known => known == 2,
    }
}

/// The slicing-by-8 tables, built on first use rather than at compile
/// time: as a constant they were 8 KiB of the binary's file size, and
/// building them takes microseconds once per process. Boxed: an inline
/// array would make the static 8 KiB of initialised data instead.
fn crc_tables() -> &'static [[u32; 256]; 8] {
    static TABLES: OnceLock<Box<[[u32; 256]; 8]>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut t = Box::new([[0u32; 256]; 8]);
        for i in 0..256 {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            t[0][i] = c;
        }
        for n in 1..8 {
            for i in 0..256 {
                let prev = t[n - 1][i];
                t[n][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            }
        }
        t
    })
}

/// The CRC-32 of the bytes before `bytes` (whose CRC was `prev`) and
/// `bytes`, slicing-by-8.
fn update(prev: u32, bytes: &[u8]) -> u32 {
    let t = crc_tables();
    let mut crc = !prev;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let lo = u32::from_le_bytes([c[0], c[1], c[2], c[3]]) ^ crc;
        let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        crc = t[7][(lo & 0xff) as usize]
            ^ t[6][((lo >> 8) & 0xff) as usize]
            ^ t[5][((lo >> 16) & 0xff) as usize]
            ^ t[4][(lo >> 24) as usize]
            ^ t[3][(hi & 0xff) as usize]
            ^ t[2][((hi >> 8) & 0xff) as usize]
            ^ t[1][((hi >> 16) & 0xff) as usize]
            ^ t[0][(hi >> 24) as usize];
    }
    for &b in chunks.remainder() {
        crc = t[0][((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(target_arch = "x86_64")]
mod clmul {
    use std::arch::x86_64::*;

    // x^n mod P(x), bit-reflected, for the folding distances: 4 x 128
    // bits (K1, K2), 128 bits (K3, K4), 64 and 32 bits (K5), and the
    // Barrett reduction's P(x) and mu.
    const K1: i64 = 0x1_5444_2bd4;
    const K2: i64 = 0x1_c6e4_1596;
    const K3: i64 = 0x1_7519_97d0;
    const K4: i64 = 0x0_ccaa_009e;
    const K5: i64 = 0x1_63cd_6124;
    const P_X: i64 = 0x1_DB71_0641;
    const U_PRIME: i64 = 0x1_F701_1641;

    /// `a` folded over the distance of `keys` onto `b`.
    macro_rules! fold {
        ($a:expr, $b:expr, $keys:expr) => {{
            let a = $a;
            let lo = _mm_clmulepi64_si128(a, $keys, 0x00);
            let hi = _mm_clmulepi64_si128(a, $keys, 0x11);
            _mm_xor_si128(_mm_xor_si128($b, lo), hi)
        }};
    }

    /// CRC-32 of `data` (at least 64 bytes).
    ///
    /// SAFETY: the caller checks that the CPU has PCLMULQDQ and SSE4.1.
    #[target_feature(enable = "pclmulqdq", enable = "sse2", enable = "sse4.1")]
    pub unsafe fn crc32(data: &[u8]) -> u32 {
        // The 16 bytes at `at`; every use below is in bounds: 64 bytes at
        // the start, then only while 64 or 16 more are left. loadu has no
        // alignment needs.
        let base = data.as_ptr();
        let load = |at: usize| _mm_loadu_si128(base.add(at) as *const __m128i);
        let len = data.len();
        let mut x3 = load(0);
        let mut x2 = load(16);
        let mut x1 = load(32);
        let mut x0 = load(48);
        let mut at = 64;
        // The initial value !0 goes in with the first bytes.
        x3 = _mm_xor_si128(x3, _mm_cvtsi32_si128(!0));
        let k1k2 = _mm_set_epi64x(K2, K1);
        while len - at >= 64 {
            x3 = fold!(x3, load(at), k1k2);
            x2 = fold!(x2, load(at + 16), k1k2);
            x1 = fold!(x1, load(at + 32), k1k2);
            x0 = fold!(x0, load(at + 48), k1k2);
            at += 64;
        }
        let k3k4 = _mm_set_epi64x(K4, K3);
        let mut x = fold!(x3, x2, k3k4);
        x = fold!(x, x1, k3k4);
        x = fold!(x, x0, k3k4);
        while len - at >= 16 {
            x = fold!(x, load(at), k3k4);
            at += 16;
        }
        // 128 bits to 64, then to 32 by Barrett reduction.
        let x = _mm_xor_si128(_mm_clmulepi64_si128(x, k3k4, 0x10), _mm_srli_si128(x, 8));
        let low32 = _mm_set_epi32(0, 0, 0, !0);
        let x = _mm_xor_si128(
            _mm_clmulepi64_si128(_mm_and_si128(x, low32), _mm_set_epi64x(0, K5), 0x00),
            _mm_srli_si128(x, 4),
        );
        let pu = _mm_set_epi64x(U_PRIME, P_X);
        let t1 = _mm_clmulepi64_si128(_mm_and_si128(x, low32), pu, 0x10);
        let t2 = _mm_clmulepi64_si128(_mm_and_si128(t1, low32), pu, 0x00);
        let crc = !(_mm_extract_epi32(_mm_xor_si128(x, t2), 1) as u32);
        super::update(crc, &data[at..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn cpuid_check_is_std_s() {
        let std = std::arch::is_x86_feature_detected!("pclmulqdq")
            && std::arch::is_x86_feature_detected!("sse4.1");
        assert_eq!(has_clmul(), std);
        assert_eq!(has_clmul(), std);
    }

    #[test]
    fn folding_agrees_with_the_tables() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let data: Vec<u8> = (0..2000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for len in (0..700).chain([1000, 1999, 2000]) {
            for start in [0, 1, 7] {
                let bytes = &data[start..start + len.min(2000 - start)];
                assert_eq!(crc32(bytes), update(0, bytes), "{start} {len}");
            }
        }
    }
}
