//! Output assembled in place, for readers that print millions of short
//! lines. Short byte strings are copied with a few fixed-size moves
//! instead of a `memcpy` call: musl's `memcpy` starts with `rep movs`,
//! whose start-up cost dwarfed the copy itself for 8..80-byte fields
//! (it was a quarter of `last`'s time on a big wtmp).

use std::io::{self, Write};

/// Copy `src` into the front of `dst`; panics only if `dst` is shorter.
#[inline(always)]
pub fn copy(dst: &mut [u8], src: &[u8]) {
    copy_at(dst, 0, src);
}

/// Copy `src` into `dst` at `at`; panics only if it does not fit. (One
/// check here rather than slicing `dst` first: the slice was a call in
/// the size-optimised build.)
#[inline(always)]
pub fn copy_at(dst: &mut [u8], at: usize, src: &[u8]) {
    let n = src.len();
    assert!(at <= dst.len() && dst.len() - at >= n);
    // SAFETY: `at` is within `dst` (checked above).
    let dst = unsafe { std::slice::from_raw_parts_mut(dst.as_mut_ptr().add(at), dst.len() - at) };
    if n > 64 {
        dst[..n].copy_from_slice(src);
        return;
    }
    let (d, s) = (dst.as_mut_ptr(), src.as_ptr());
    // SAFETY: both ranges are in bounds (checked above: dst holds n, src
    // is n long) and distinct borrows, so they do not overlap. Each move
    // is a constant size, which the compiler emits as plain loads and
    // stores; for n >= 8 the last block overlaps the previous ones.
    unsafe {
        if n >= 16 {
            let mut at = 0;
            while at + 16 < n {
                std::ptr::copy_nonoverlapping(s.add(at), d.add(at), 16);
                at += 16;
            }
            std::ptr::copy_nonoverlapping(s.add(n - 16), d.add(n - 16), 16);
        } else if n >= 8 {
            std::ptr::copy_nonoverlapping(s, d, 8);
            std::ptr::copy_nonoverlapping(s.add(n - 8), d.add(n - 8), 8);
        } else if n >= 4 {
            std::ptr::copy_nonoverlapping(s, d, 4);
            std::ptr::copy_nonoverlapping(s.add(n - 4), d.add(n - 4), 4);
        } else if n > 0 {
            // 1..=3 bytes: first, middle and last (some the same byte).
            *d = *s;
            *d.add(n / 2) = *s.add(n / 2);
            *d.add(n - 1) = *s.add(n - 1);
        }
    }
}

/// `x / D` by a multiply and a shift: under opt-level "z" LLVM keeps
/// each division by a constant a `div` instruction, tens of cycles, and
/// the stamps of every line of `last` took a dozen. Exact for
/// x < 2^32 / D: with M = ceil(2^32 / D) = (2^32 + e) / D, e < D, the
/// product is x / D + x * e / (D * 2^32), whose error x * e / 2^32 < 1
/// cannot reach the next multiple of 1/D.
#[inline(always)]
pub fn div<const D: u32>(x: u32) -> u32 {
    let m = ((1u64 << 32) + D as u64 - 1) / D as u64;
    ((x as u64 * m) >> 32) as u32
}

/// The two decimal digits of `x` (< 100).
#[inline(always)]
pub fn two_digits(x: u32) -> [u8; 2] {
    let tens = div::<10>(x);
    [b'0' + tens as u8, b'0' + (x - 10 * tens) as u8]
}

/// A fixed output buffer in front of a writer, flushed when nearly full.
/// Callers `reserve` room for what they are about to write, then write
/// into `tail` and `advance`.
pub struct OutBuf<W: Write> {
    buf: Box<[u8]>,
    n: usize,
    sink: W,
    error: Option<io::Error>,
}

impl<W: Write> OutBuf<W> {
    pub fn new(sink: W) -> OutBuf<W> {
        OutBuf {
            buf: vec![0u8; 1 << 17].into_boxed_slice(),
            n: 0,
            sink,
            error: None,
        }
    }

    /// Make room for `len` more bytes (flushing if needed); false when the
    /// request is larger than the buffer, which callers write directly.
    #[inline(always)]
    pub fn reserve(&mut self, len: usize) -> bool {
        if self.n + len > self.buf.len() {
            self.flush_buffer();
        }
        len <= self.buf.len()
    }

    /// The free space after what has been written.
    #[inline(always)]
    pub fn tail(&mut self) -> &mut [u8] {
        let len = self.buf.len();
        // `advance` and `flush_buffer` keep n <= len. Not the range
        // index, which the size-optimised build left a call, once per
        // line.
        assert!(self.n <= len);
        // SAFETY: n <= len, checked above; borrowed from `self.buf`.
        unsafe { std::slice::from_raw_parts_mut(self.buf.as_mut_ptr().add(self.n), len - self.n) }
    }

    /// Keep `k` more bytes of the tail.
    #[inline(always)]
    pub fn advance(&mut self, k: usize) {
        self.n = (self.n + k).min(self.buf.len());
    }

    pub fn write_all(&mut self, bytes: &[u8]) {
        if self.reserve(bytes.len()) {
            copy(self.tail(), bytes);
            self.advance(bytes.len());
        } else {
            self.flush_buffer();
            if let Err(e) = self.sink.write_all(bytes) {
                self.error.get_or_insert(e);
            }
        }
    }

    fn flush_buffer(&mut self) {
        if self.n > 0 {
            if let Err(e) = self.sink.write_all(&self.buf[..self.n]) {
                self.error.get_or_insert(e);
            }
            self.n = 0;
        }
    }

    /// Write out everything; the first error met, if any.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_buffer();
        if let Err(e) = self.sink.flush() {
            self.error.get_or_insert(e);
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(self.sink),
        }
    }

    /// Flush what is buffered so far (before a message on stderr).
    pub fn flush(&mut self) {
        self.flush_buffer();
        if let Err(e) = self.sink.flush() {
            self.error.get_or_insert(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn divides_as_the_division_does() {
        // Every value the stamps divide (seconds in a day and less),
        // and the edge of the stated range.
        for x in 0..200_000u32 {
            assert_eq!(div::<10>(x), x / 10, "{x}");
            assert_eq!(div::<60>(x), x / 60, "{x}");
            assert_eq!(div::<3600>(x), x / 3600, "{x}");
        }
        for d in [10u32, 60, 3600] {
            let top = u32::MAX / d;
            for x in top - 100_000..top {
                let q = match d {
                    10 => div::<10>(x),
                    60 => div::<60>(x),
                    _ => div::<3600>(x),
                };
                assert_eq!(q, x / d, "{d} {x}");
            }
        }
        for x in 0..100 {
            assert_eq!(two_digits(x), *format!("{x:02}").as_bytes(), "{x}");
        }
    }

    #[test]
    fn copies_every_length() {
        let src: Vec<u8> = (0..200u8).collect();
        for n in 0..200 {
            let mut dst = vec![0xAAu8; 210];
            copy(&mut dst, &src[..n]);
            assert_eq!(&dst[..n], &src[..n]);
            assert!(dst[n..].iter().all(|&b| b == 0xAA), "{n}");
        }
    }

    #[test]
    fn copies_at_every_offset() {
        let src: Vec<u8> = (0..80u8).collect();
        for at in 0..40 {
            for n in 0..80 {
                let mut dst = vec![0xAAu8; 130];
                copy_at(&mut dst, at, &src[..n]);
                assert_eq!(&dst[at..at + n], &src[..n]);
                assert!(dst[..at].iter().all(|&b| b == 0xAA), "{at} {n}");
                assert!(dst[at + n..].iter().all(|&b| b == 0xAA), "{at} {n}");
            }
        }
    }

    #[test]
    fn buffers_and_flushes_in_order() {
        let mut out = OutBuf::new(Vec::new());
        let mut want = Vec::new();
        for i in 0..20_000u32 {
            let line = format!("line {i}\n");
            out.write_all(line.as_bytes());
            want.extend_from_slice(line.as_bytes());
        }
        out.write_all(&vec![b'x'; 300_000]);
        want.extend_from_slice(&vec![b'x'; 300_000]);
        assert_eq!(out.finish().unwrap(), want);
    }
}
