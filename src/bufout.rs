//! Output assembled in place, for readers that print millions of short
//! lines. Short byte strings are copied with a few fixed-size moves
//! instead of a `memcpy` call: musl's `memcpy` starts with `rep movs`,
//! whose start-up cost dwarfed the copy itself for 8..80-byte fields
//! (it was a quarter of `last`'s time on a big wtmp).

use std::io::{self, Write};

/// Copy `src` into the front of `dst` (which must be at least as long).
#[inline(always)]
pub fn copy(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    let dst = &mut dst[..n];
    if n >= 16 {
        if n > 64 {
            dst.copy_from_slice(src);
            return;
        }
        // Whole 16-byte blocks from the front, then the last 16 bytes
        // again (overlapping), so every length is a few moves.
        let mut at = 0;
        while at + 16 < n {
            let block: [u8; 16] = src[at..at + 16].try_into().unwrap_or([0; 16]);
            dst[at..at + 16].copy_from_slice(&block);
            at += 16;
        }
        let last: [u8; 16] = src[n - 16..].try_into().unwrap_or([0; 16]);
        dst[n - 16..].copy_from_slice(&last);
    } else if n >= 8 {
        let a: [u8; 8] = src[..8].try_into().unwrap_or([0; 8]);
        let b: [u8; 8] = src[n - 8..].try_into().unwrap_or([0; 8]);
        dst[..8].copy_from_slice(&a);
        dst[n - 8..].copy_from_slice(&b);
    } else if n >= 4 {
        let a: [u8; 4] = src[..4].try_into().unwrap_or([0; 4]);
        let b: [u8; 4] = src[n - 4..].try_into().unwrap_or([0; 4]);
        dst[..4].copy_from_slice(&a);
        dst[n - 4..].copy_from_slice(&b);
    } else if n > 0 {
        // 1..=3 bytes: first, middle and last (some the same byte).
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
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
    #[inline]
    pub fn reserve(&mut self, len: usize) -> bool {
        if self.n + len > self.buf.len() {
            self.flush_buffer();
        }
        len <= self.buf.len()
    }

    /// The free space after what has been written.
    #[inline(always)]
    pub fn tail(&mut self) -> &mut [u8] {
        &mut self.buf[self.n..]
    }

    /// What has been written since position `from` (see `len`).
    pub fn since(&mut self, from: usize) -> &mut [u8] {
        &mut self.buf[from..self.n]
    }

    #[inline(always)]
    pub fn len(&self) -> usize {
        self.n
    }

    /// Keep `k` more bytes of the tail.
    #[inline(always)]
    pub fn advance(&mut self, k: usize) {
        self.n = (self.n + k).min(self.buf.len());
    }

    /// Forget everything after position `to`.
    #[inline(always)]
    pub fn truncate(&mut self, to: usize) {
        self.n = self.n.min(to);
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
