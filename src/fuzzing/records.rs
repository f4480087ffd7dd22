//! Bodies for the record decoders and the utmpdump text parser.

use bstr::ByteSlice;

use super::assert_only_zeroed;
use crate::read::logfile;
use crate::record::lastlog::{self, LastlogLayout};
use crate::record::native::{self, HEADER_SIZE, RECORD_SIZE};
use crate::record::{
    self, legacy, text, view, ExitStatus, Format, FormatError, Record, RecordKind,
};

const MICROS: i64 = 1_000_000;

/// One native record and a native header. The input's checksum is set
/// right first, or nothing would get past it to the field decoding.
pub fn native_record(data: &[u8]) {
    if let Ok(kind) = native::parse_header(data) {
        let canonical = native::header(kind);
        assert_only_zeroed(
            &data[..HEADER_SIZE],
            &canonical,
            HEADER_SIZE - 4..HEADER_SIZE,
        );
    }
    let checksum_ok = data.len() >= RECORD_SIZE
        && data[RECORD_SIZE - 4..RECORD_SIZE]
            == native::crc32(&data[..RECORD_SIZE - 4]).to_le_bytes();
    assert_eq!(native::decode(data).is_some(), checksum_ok);

    let mut raw = [0u8; RECORD_SIZE];
    let n = data.len().min(RECORD_SIZE);
    raw[..n].copy_from_slice(&data[..n]);
    let crc = native::crc32(&raw[..RECORD_SIZE - 4]);
    raw[RECORD_SIZE - 4..].copy_from_slice(&crc.to_le_bytes());
    let Some(record) = native::decode(&raw) else {
        panic!("a record with a good checksum does not decode");
    };
    for field in [&record.line, &record.id, &record.user, &record.host] {
        assert!(!field.contains(&0), "a decoded field holds a NUL");
    }
    let encoded = match native::encode(&record) {
        Ok(encoded) => encoded,
        Err(e) => panic!("a decoded record does not fit its own format: {e}"),
    };
    assert_eq!(native::decode(&encoded).as_ref(), Some(&record));
    assert_only_zeroed(&raw, &encoded, RECORD_SIZE - 4..RECORD_SIZE);
    assert_text_round_trip(&record);
}

/// One glibc 384-byte and one utmpx 400-byte record from the same bytes.
pub fn legacy_record(data: &[u8]) {
    for layout in [legacy::Layout::GLIBC, legacy::Layout::UTMPX] {
        let Some(bytes) = data.get(..layout.size) else {
            continue;
        };
        let record = legacy::decode(bytes, layout);
        let (sec, usec) = legacy::raw_time(bytes, layout);
        // A time stored the way libc writes it comes back as stored.
        let normal = (0..MICROS).contains(&usec) && sec.checked_mul(MICROS).is_some();
        if normal {
            assert_eq!((record.time_secs(), record.time_subsec_us()), (sec, usec));
        }
        match legacy::encode(&record, layout) {
            Ok(encoded) => {
                assert_eq!(legacy::decode(&encoded, layout), record);
                if normal {
                    assert_only_zeroed(bytes, &encoded, 0..0);
                }
            }
            // Only glibc's 32-bit seconds can fail to hold what was read,
            // when tv_usec carries the time past 2038.
            Err(FormatError::TimeOutOfRange { .. }) if layout == legacy::Layout::GLIBC => {
                assert!(!normal)
            }
            Err(e) => panic!("a decoded {} record does not re-encode: {e}", layout.size),
        }
        // Migrating to native (utmpdump -r --format native) loses nothing.
        match native::encode(&record) {
            Ok(encoded) => assert_eq!(native::decode(&encoded).as_ref(), Some(&record)),
            Err(e) => panic!("a legacy record does not fit the native format: {e}"),
        }
        assert_text_round_trip(&record);
    }
}

/// One legacy lastlog entry in both layouts, and telling them apart.
pub fn lastlog_record(data: &[u8]) {
    for layout in [LastlogLayout::GLIBC, LastlogLayout::MUSL] {
        let Some(bytes) = data.get(..layout.size) else {
            continue;
        };
        let Some(record) = lastlog::decode(bytes, layout) else {
            continue;
        };
        assert_eq!(record.kind, RecordKind::UserProcess);
        assert_ne!(record.time_us, 0, "a login at time 0 reads as never");
        let encoded = match lastlog::encode(&record, layout) {
            Ok(encoded) => encoded,
            Err(e) => panic!("a decoded lastlog entry does not re-encode: {e}"),
        };
        // Whole seconds, unless the time saturated (a 64-bit time beyond
        // what microseconds hold): then it cannot come back as stored.
        if record.time_us % MICROS == 0 {
            assert_eq!(lastlog::decode(&encoded, layout), Some(record));
            assert_only_zeroed(bytes, &encoded, 0..0);
        }
    }
    let tail = &data[data.len().saturating_sub(296)..];
    let layout = lastlog::detect_tail(data.len() as u64, tail);
    match (data.len() % 292 == 0, data.len() % 296 == 0) {
        (true, false) => assert_eq!(layout, LastlogLayout::GLIBC),
        (false, true) => assert_eq!(layout, LastlogLayout::MUSL),
        _ => {}
    }
    // A sparse file's apparent size says nothing about the bytes read.
    if let Some(len) = data.get(..8) {
        let len = u64::from_le_bytes([
            len[0], len[1], len[2], len[3], len[4], len[5], len[6], len[7],
        ]);
        let _ = lastlog::detect_tail(len, tail);
    }
}

fn legacy_layout(format: Format) -> legacy::Layout {
    match format {
        Format::Utmpx => legacy::Layout::UTMPX,
        _ => legacy::Layout::GLIBC,
    }
}

/// A whole file: format detection, decoding, and the in-place view the
/// history readers use, which must agree with the decoder record by record.
pub fn decode_file(data: &[u8]) {
    let format = record::detect(data);
    let decoded = match record::decode_file(data) {
        Ok(decoded) => decoded,
        Err(_) => {
            assert_eq!(
                format,
                Format::Native,
                "only a native header can be refused"
            );
            assert!(native::parse_header(data).is_err());
            return;
        }
    };
    assert_eq!(decoded.format, format);
    match format {
        Format::Native => {
            let body = &data[HEADER_SIZE..];
            assert_eq!(decoded.trailing, body.len() % RECORD_SIZE);
            let whole = &body[..body.len() - decoded.trailing];
            let used = native::used_len(whole) / RECORD_SIZE;
            assert_eq!(decoded.records.len() + decoded.corrupt.len(), used);
            let mut good = decoded.records.iter();
            for (index, chunk) in whole.chunks_exact(RECORD_SIZE).take(used).enumerate() {
                match native::decode(chunk) {
                    Some(record) => assert_eq!(good.next(), Some(&record)),
                    None => assert!(decoded.corrupt.contains(&(index as u64))),
                }
            }
        }
        Format::Glibc | Format::Utmpx => {
            let layout = legacy_layout(format);
            assert_eq!(decoded.trailing, data.len() % layout.size);
            assert!(decoded.corrupt.is_empty());
            let chunks = data.chunks_exact(layout.size);
            assert_eq!(chunks.len(), decoded.records.len());
            for (chunk, record) in chunks.zip(&decoded.records) {
                assert_eq!(&legacy::decode(chunk, layout), record);
            }
        }
    }

    // The streaming reader every applet reads files through agrees with
    // the decoder: the same records, the same corrupt indexes.
    let mut seen = Vec::new();
    let mut corrupt = Vec::new();
    let scanned = logfile::scan(data, Some(data.len() as u64), |geometry, index, raw| {
        match geometry.decode(raw) {
            Some(record) => seen.push(record),
            None => corrupt.push(index),
        }
        true
    })
    .unwrap_or_else(|e| panic!("the streaming reader refuses what the decoder read: {e}"));
    assert_eq!(seen, decoded.records);
    assert_eq!(corrupt, decoded.corrupt);
    assert_eq!(scanned.trailing as usize, decoded.trailing);

    // And so does the in-place view `last` reads chunks through.
    let body = match format {
        Format::Native => &data[HEADER_SIZE..],
        _ => data,
    };
    let records = view::chunk(format, body);
    let mut good = decoded.records.iter();
    for index in 0..records.len() {
        if !records.valid(index) {
            continue;
        }
        let seen = records.get(index);
        let Some(record) = good.next() else {
            // Past the last record: only the native reserve of zeros.
            assert_eq!(format, Format::Native);
            assert!(native::is_zero(&body[index * RECORD_SIZE..][..RECORD_SIZE]));
            continue;
        };
        assert_eq!(seen.kind, record.kind.raw());
        assert_eq!(seen.pid, record.pid);
        assert_eq!(seen.line, &record.line[..]);
        assert_eq!(seen.user, &record.user[..]);
        assert_eq!(seen.host(), &record.host[..]);
        assert_eq!(seen.addr, record.addr);
        let secs = match format {
            Format::Native => record.time_secs(),
            _ => {
                let layout = legacy_layout(format);
                let at = index * layout.size;
                legacy::raw_time(&data[at..at + layout.size], layout).0
            }
        };
        assert_eq!(seen.secs, secs);
    }
}

/// One utmpdump text line: whatever reads as a record a file could hold
/// prints as a line that reads back as the same record.
pub fn text_line(data: &[u8]) {
    let Ok(record) = text::parse_line(data, 1) else {
        return;
    };
    assert_eq!((record.session, record.exit), (0, ExitStatus::default()));
    assert_eq!(record.id.len(), 4, "the id is exactly its 4 bytes");
    for field in [&record.user, &record.line, &record.host] {
        assert!(!field.contains(&b' '), "a field was not cut at its space");
    }
    if native::encode(&record).is_ok() {
        assert_text_round_trip(&record);
    }
}

/// `utmpdump` prints a record and `utmpdump -r` reads the line back: the
/// same record but for what text does not carry. Session and exit status
/// are not printed; unprintable bytes and brackets print as `?`; the id is
/// padded to 4 bytes and the others are read up to their first space.
///
/// Like util-linux, a line whose type and pid take 13 characters or more
/// pushes the id past byte 19, where util-linux looks for the user field:
/// such a line is refused rather than misread.
fn assert_text_round_trip(record: &Record) {
    let mut line = Vec::new();
    text::format_line(record, &mut line);
    assert_eq!(line.pop(), Some(b'\n'));
    let back = match text::parse_line(&line, 1) {
        Ok(back) => back,
        Err(FormatError::BadText { why, .. })
            if why.starts_with("type, pid and id do not span") =>
        {
            let id_open = line.iter().enumerate().filter(|(_, &b)| b == b'[').nth(2);
            assert!(
                id_open.is_some_and(|(at, _)| at >= 19),
                "{:?}",
                line.as_bstr()
            );
            return;
        }
        Err(e) => panic!(
            "utmpdump cannot read its own line {:?}: {e}",
            line.as_bstr()
        ),
    };
    let printed = |field: &[u8]| -> Vec<u8> {
        field
            .iter()
            .map(|&b| match b {
                b'[' | b']' => b'?',
                0x20..=0x7e => b,
                _ => b'?',
            })
            .collect()
    };
    let read = |field: &[u8]| -> Vec<u8> {
        let field = printed(field);
        let end = field.iter().position(|&b| b == b' ').unwrap_or(field.len());
        field[..end].to_vec()
    };
    let mut id = printed(&record.id);
    id.resize(id.len().max(4), b' ');
    let expected = Record {
        session: 0,
        exit: ExitStatus::default(),
        id,
        user: read(&record.user),
        line: read(&record.line),
        host: read(&record.host),
        ..record.clone()
    };
    assert_eq!(back, expected, "line {:?}", line.as_bstr());
}
