//! Bodies for the wire protocols: the native request payload parsers,
//! the daemons' frame reader, and utmps' framing.

use crate::protocol::utmps;
use crate::protocol::{self, op, Incoming, ReadQuery, Reader, BODY_HEADER, MAX_REQUEST, PREFIX};
use crate::record::native::{self, RECORD_SIZE};
use crate::record::Record;

/// One request body (after the length prefix), parsed as the daemons
/// parse each op, and the reply payloads the client parses.
pub fn request(data: &[u8]) {
    let Ok((code, payload)) = protocol::split_body(data) else {
        assert!(data.len() < BODY_HEADER || data[0] != protocol::VERSION || data[2..4] != [0, 0]);
        return;
    };
    assert_eq!(code, data[1]);
    assert_eq!(payload, &data[BODY_HEADER..]);
    let mut r = Reader::new(payload);
    match code {
        op::UTMP_GET_ID | op::UTMP_PUT | op::LASTLOG_SET => {
            if let Ok(record) = r.record().and_then(|x| r.end().map(|_| x)) {
                assert_record_reencodes(payload, &record);
            }
        }
        op::UTMP_GET_LINE | op::LASTLOG_GET | op::LASTLOG_CLEAR => {
            if let Ok(bytes) = r.short_bytes().and_then(|x| r.end().map(|_| x)) {
                let mut again = Vec::new();
                protocol::put_short_bytes(&mut again, bytes);
                assert_eq!(again, payload);
            }
        }
        op::LOG_APPEND => {
            let parsed = r.u8().and_then(|_| Ok((r.record()?, r.end()?)));
            if let Ok((record, ())) = parsed {
                assert_record_reencodes(&payload[1..], &record);
            }
        }
        op::LOG_READ => {
            if let Ok((db, query)) = ReadQuery::decode(payload) {
                let again = query.encode(db);
                assert_eq!(ReadQuery::decode(&again), Ok((db, query.clone())));
                // Filters not asked for are skipped, whatever their
                // bytes, and written as zeros: only they may differ.
                assert_eq!(again[..4], payload[..4]);
                if payload[1] == protocol::READ_FLAGS {
                    assert_eq!(again, payload);
                }
            }
        }
        _ => {}
    }
    // What a client reads back: a path or a u64, then records.
    let mut r = Reader::new(payload);
    if let Ok(path) = r.bytes16() {
        if let Ok(records) = r.records() {
            assert_records_reencode(&payload[2 + path.len()..], &records);
        }
    }
    let mut r = Reader::new(payload);
    if r.u64().is_ok() {
        if let Ok(records) = r.records() {
            assert_records_reencode(&payload[8..], &records);
        }
    }
}

/// A record read from `bytes` encodes again to them, but for zeroed
/// padding (and so the checksum over it).
fn assert_record_reencodes(bytes: &[u8], record: &Record) {
    let mut again = Vec::new();
    protocol::put_record(&mut again, record).expect("a decoded record fits");
    assert_eq!(native::decode(&again).as_ref(), Some(record));
    super::assert_only_zeroed(&bytes[..RECORD_SIZE], &again, RECORD_SIZE - 4..RECORD_SIZE);
}

/// Records read from `bytes` (a u32 count, then that many) likewise.
fn assert_records_reencode(bytes: &[u8], records: &[Record]) {
    let mut again = Vec::new();
    protocol::put_records(&mut again, records.iter()).expect("decoded records fit");
    assert_eq!(again[..4], bytes[..4]);
    assert_eq!(Reader::new(&again).records().as_deref(), Ok(records));
    for (record, at) in records.iter().zip((4..).step_by(RECORD_SIZE)) {
        assert_record_reencodes(&bytes[at..], record);
    }
}

/// What happened to one request in a stream, as a daemon sees it.
#[derive(PartialEq, Eq, Debug)]
enum Event {
    Request(u8, Vec<u8>),
    BadLength(usize),
    Malformed,
}

/// The daemons' frame reader fed a byte stream in arbitrary pieces, as a
/// socket may deliver it: it must find the same requests wherever the
/// stream is cut, never hold more than one largest request, and never
/// wait for more bytes once it holds that many (the loop stops reading
/// there, so waiting would stall the connection).
///
/// The first byte says how many of the next bytes are piece sizes; the
/// rest is the stream.
pub fn frame_reader(data: &[u8]) {
    let Some((&cuts, rest)) = data.split_first() else {
        return;
    };
    let (sizes, stream) = rest.split_at((cuts as usize % 32).min(rest.len()));
    let expected = reference_frames(stream);

    let mut events = Vec::new();
    let mut input = Vec::new();
    let mut sent = 0;
    let mut pieces = sizes.iter().map(|&s| s as usize + 1);
    'stream: while sent < stream.len() {
        // The loop reads at most what fits one largest request.
        let room = PREFIX + MAX_REQUEST - input.len();
        let piece = pieces.next().unwrap_or(usize::MAX).min(room);
        let piece = piece.min(stream.len() - sent);
        input.extend_from_slice(&stream[sent..sent + piece]);
        sent += piece;
        loop {
            let before = input.len();
            match protocol::take_request(&mut input) {
                Incoming::Partial => {
                    assert_eq!(input.len(), before, "Partial changed the buffer");
                    assert!(
                        before < PREFIX + MAX_REQUEST,
                        "a full buffer waits for more"
                    );
                    break;
                }
                Incoming::BadLength(len) => {
                    events.push(Event::BadLength(len));
                    break 'stream;
                }
                Incoming::Malformed(_) => {
                    events.push(Event::Malformed);
                    break 'stream;
                }
                Incoming::Request(request) => {
                    let payload = request.payload().to_vec();
                    assert_eq!(before - input.len(), PREFIX + BODY_HEADER + payload.len());
                    events.push(Event::Request(request.code, payload));
                }
            }
        }
    }
    assert_eq!(events, expected);
}

/// The requests in a whole stream, by the letter of docs/PROTOCOL.md:
/// a u32 length, then a body of version 1, the op, two zero bytes and the
/// payload. A length outside 4..=2048 or a bad body header ends the stream.
fn reference_frames(mut stream: &[u8]) -> Vec<Event> {
    let mut events = Vec::new();
    while stream.len() >= 4 {
        let len = u32::from_le_bytes([stream[0], stream[1], stream[2], stream[3]]) as usize;
        if !(4..=2048).contains(&len) {
            events.push(Event::BadLength(len));
            break;
        }
        let Some(body) = stream.get(4..4 + len) else {
            break;
        };
        if body[0] != 1 || body[2] != 0 || body[3] != 0 {
            events.push(Event::Malformed);
            break;
        }
        events.push(Event::Request(body[1], body[4..].to_vec()));
        stream = &stream[4 + len..];
    }
    events
}

/// utmps' framing as utmpd and wtmpd read it (`--utmps-socket`): a
/// one-byte opcode and a payload of the size it fixes, fed in arbitrary
/// pieces. The same requests come out wherever the stream is cut, an
/// unknown opcode ends the stream, a buffer of one largest request never
/// waits for more, and a record a client sends comes back, as getutxent
/// returns it, as the same record.
///
/// The first byte picks the daemon (its top bit: wtmpd) and how many of
/// the next bytes are piece sizes; the rest is the stream.
pub fn utmps_request(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let len_of: fn(u8) -> Option<usize> = if first & 0x80 == 0 {
        utmps::utmpd_request_len
    } else {
        utmps::wtmpd_request_len
    };
    let (sizes, stream) = rest.split_at(((first & 0x1f) as usize).min(rest.len()));

    let mut expected = Vec::new();
    let mut whole = stream.to_vec();
    loop {
        match utmps::take_request(&mut whole, len_of) {
            utmps::Incoming::Partial => break,
            utmps::Incoming::Unknown => {
                expected.push(None);
                break;
            }
            utmps::Incoming::Request { op, payload } => expected.push(Some((op, payload))),
        }
    }

    let mut events = Vec::new();
    let mut input = Vec::new();
    let mut sent = 0;
    let mut pieces = sizes.iter().map(|&s| s as usize + 1);
    'stream: while sent < stream.len() {
        // As the loop reads a utmps connection: at most one largest request.
        let room = utmps::MAX_REQUEST.saturating_sub(input.len()).max(1);
        let piece = pieces
            .next()
            .unwrap_or(usize::MAX)
            .min(room)
            .min(stream.len() - sent);
        input.extend_from_slice(&stream[sent..sent + piece]);
        sent += piece;
        loop {
            let before = input.len();
            match utmps::take_request(&mut input, len_of) {
                utmps::Incoming::Partial => {
                    assert_eq!(input.len(), before, "Partial changed the buffer");
                    assert!(before < utmps::MAX_REQUEST, "a full buffer waits for more");
                    break;
                }
                utmps::Incoming::Unknown => {
                    events.push(None);
                    break 'stream;
                }
                utmps::Incoming::Request { op, payload } => {
                    assert_eq!(Some(payload.len()), len_of(op));
                    if payload.len() == utmps::UTMPX_SIZE {
                        assert_utmpx_round_trip(&payload);
                    }
                    events.push(Some((op, payload)));
                }
            }
        }
    }
    assert_eq!(events, expected);
}

/// A struct utmpx read off the wire and answered back (getutxent's reply)
/// reads as the same record, unless its time does not fit utmpx (EIO).
fn assert_utmpx_round_trip(payload: &[u8]) {
    let Some(record) = utmps::decode(payload) else {
        panic!("a whole struct utmpx did not decode");
    };
    let reply = utmps::record_reply(&record);
    if reply.len() == 1 {
        assert_eq!(reply[0], libc::EIO as u8);
        return;
    }
    assert_eq!(reply[0], 0);
    assert_eq!(utmps::decode(&reply[1..]).as_ref(), Some(&record));
}
