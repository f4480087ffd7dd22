//! Every decoder fed random, truncated and bit-flipped buffers: whatever
//! the bytes, each returns a value or an error and never panics.

use super::*;

/// Buffers worth trying: random ones of many sizes, and valid files cut at
/// every length and with bytes flipped.
fn buffers() -> Vec<Vec<u8>> {
    let mut rng = testgen::Rng::new(99);
    let mut out = Vec::new();
    for len in [
        0usize, 1, 7, 8, 63, 64, 65, 292, 296, 383, 384, 385, 399, 400, 511, 512, 576, 1000, 4096,
    ] {
        for _ in 0..4 {
            out.push(rng.bytes(len));
        }
    }
    let legacy: Vec<Record> = (0..3).map(|_| testgen::legacy_record(&mut rng)).collect();
    let native: Vec<Record> = (0..3).map(|_| testgen::native_record(&mut rng)).collect();
    let files = [
        encode_file(&legacy, Format::Glibc).unwrap(),
        encode_file(&legacy, Format::Utmpx).unwrap(),
        encode_file(&native, Format::Native).unwrap(),
    ];
    for file in files {
        for cut in (0..file.len()).step_by(7) {
            out.push(file[..cut].to_vec());
        }
        for _ in 0..50 {
            let mut bad = file.clone();
            let at = rng.below(bad.len() as u64) as usize;
            bad[at] ^= 1 << rng.below(8);
            out.push(bad);
        }
    }
    // Native magic followed by junk.
    let mut junk = native::MAGIC.to_vec();
    junk.extend(rng.bytes(700));
    out.push(junk);
    out
}

#[test]
fn no_decoder_panics_on_any_buffer() {
    let glibc_ll = lastlog::LastlogLayout::GLIBC;
    let musl_ll = lastlog::LastlogLayout::MUSL;
    for buf in buffers() {
        let _ = native::decode_all(&buf);
        let _ = native::decode(&buf);
        let _ = native::parse_header(&buf);
        let _ = legacy::decode_all(&buf, legacy::Layout::GLIBC);
        let _ = legacy::decode_all(&buf, legacy::Layout::UTMPX);
        let _ = decode_file(&buf);
        for format in [Format::Native, Format::Glibc, Format::Utmpx] {
            let _ = decode_as(&buf, format);
        }
        for uid in [0, 1, 2, 13, 1000, u32::MAX] {
            let _ = lastlog::entry_for_uid(&buf, uid, glibc_ll);
            let _ = lastlog::entry_for_uid(&buf, uid, musl_ll);
        }
        let _ = lastlog::detect(&buf);
        let _ = text::parse_line(&buf, 1);
        for line in buf.split(|&b| b == b'\n') {
            let _ = text::parse_line(line, 1);
        }
    }
}

#[test]
fn parse_line_never_panics_on_cut_or_mangled_lines() {
    let mut rng = testgen::Rng::new(17);
    let alphabet = b"[] 0123456789-+:,.TZabc~/\t";
    for _ in 0..300 {
        let mut line = Vec::new();
        text::format_line(&testgen::native_record(&mut rng), &mut line);
        line.pop();
        for cut in 0..=line.len() {
            let _ = text::parse_line(&line[..cut], 1);
        }
        for _ in 0..40 {
            let mut bad = line.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(bad.len() as u64) as usize;
                match rng.below(3) {
                    0 => bad[at] = alphabet[rng.below(alphabet.len() as u64) as usize],
                    1 => {
                        bad.remove(at);
                    }
                    _ => bad.insert(at, alphabet[rng.below(alphabet.len() as u64) as usize]),
                }
                if bad.is_empty() {
                    break;
                }
            }
            let _ = text::parse_line(&bad, 1);
        }
    }
    for _ in 0..5000 {
        let len = rng.below(120) as usize;
        let junk: Vec<u8> = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
            .collect();
        let _ = text::parse_line(&junk, 1);
    }
}
