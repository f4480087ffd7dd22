//! Golden lines for the utmpdump text codec. Every expected line below was
//! printed by util-linux 2.38.1 `utmpdump` for the same record.

use super::*;
use crate::record::{testgen, ExitStatus};

fn sample() -> Record {
    Record {
        kind: RecordKind::UserProcess,
        pid: 1234,
        line: b"pts/0".to_vec(),
        id: b"ts/0".to_vec(),
        user: b"alice".to_vec(),
        host: b"example.org".to_vec(),
        time_us: 1_763_630_100_000_042,
        ..Record::default()
    }
}

fn line_of(record: &Record) -> String {
    let mut out = Vec::new();
    format_line(record, &mut out);
    String::from_utf8(out).unwrap()
}

fn parse(line: &str) -> Result<Record, FormatError> {
    parse_line(line.as_bytes(), 1)
}

const SAMPLE_LINE: &str = "[7] [01234] [ts/0] [alice   ] [pts/0       ] [example.org         ] [0.0.0.0        ] [2025-11-20T09:15:00,000042+00:00]\n";

#[test]
fn golden_lines() {
    assert_eq!(line_of(&sample()), SAMPLE_LINE);

    let reboot = Record {
        kind: RecordKind::BootTime,
        line: b"~".to_vec(),
        id: b"~~".to_vec(),
        user: b"reboot".to_vec(),
        host: b"6.1.0".to_vec(),
        ..Record::default()
    };
    assert_eq!(
        line_of(&reboot),
        "[2] [00000] [~~  ] [reboot  ] [~           ] [6.1.0               ] [0.0.0.0        ] [1970-01-01T00:00:00,000000+00:00]\n"
    );

    let mut odd = sample();
    odd.user = b"a b[c]\x01\xff".to_vec();
    odd.id = b"a ".to_vec();
    odd.addr = core::array::from_fn(|i| i as u8 + 1);
    odd.time_us = -1;
    assert_eq!(
        line_of(&odd),
        "[7] [01234] [a   ] [a b?c???] [pts/0       ] [example.org         ] [102:304:506:708:90a:b0c:d0e:f10] [1969-12-31T23:59:59,999999+00:00]\n"
    );

    let mut wide = sample();
    wide.user = vec![b'u'; 32];
    wide.line = vec![b'l'; 32];
    wide.host = vec![b'h'; 256];
    wide.id = b"abcd".to_vec();
    wide.addr[..4].copy_from_slice(&[10, 0, 0, 1]);
    let text = line_of(&wide);
    assert!(text.starts_with("[7] [01234] [abcd] [uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu] [llllllllllllllllllllllllllllllll] [hhhh"));
    assert!(text.ends_with("hhhh] [10.0.0.1       ] [2025-11-20T09:15:00,000042+00:00]\n"));

    let mut negative = sample();
    negative.kind = RecordKind::Other(-3);
    negative.pid = -5;
    negative.time_us = i32::MIN as i64 * 1_000_000;
    assert_eq!(
        line_of(&negative),
        "[-3] [-0005] [ts/0] [alice   ] [pts/0       ] [example.org         ] [0.0.0.0        ] [1901-12-13T20:45:52,000000+00:00]\n"
    );
}

#[test]
fn times_beyond_32_bits_print_and_parse() {
    for (time_us, text) in [
        (
            i32::MAX as i64 * 1_000_000,
            "2038-01-19T03:14:07,000000+00:00",
        ),
        (4_102_444_800_000_001, "2100-01-01T00:00:00,000001+00:00"),
        (-62_135_596_800_000_000, "0001-01-01T00:00:00,000000+00:00"),
        (-62_167_219_200_000_000, "0000-01-01T00:00:00,000000+00:00"),
        (-62_198_755_200_000_000, "-0001-01-01T00:00:00,000000+00:00"),
        (253_402_300_800_000_000, "10000-01-01T00:00:00,000000+00:00"),
        (i64::MAX, "294247-01-10T04:00:54,775807+00:00"),
        (i64::MIN, "-290308-12-21T19:59:05,224192+00:00"),
    ] {
        let mut out = Vec::new();
        format_time(time_us, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), text);
        assert_eq!(parse_time(text.as_bytes()), Ok(time_us), "{text}");
    }
    assert!(parse_time(b"294247-01-10T04:00:54,775808+00:00").is_err());
}

#[test]
fn parse_reads_what_util_linux_reads() {
    let record = parse(SAMPLE_LINE.trim_end()).unwrap();
    assert_eq!(record, sample().clone_with_id(b"ts/0"));
    // The 4 id bytes are kept with their padding.
    let reboot = parse("[2] [00000] [~~  ] [reboot  ] [~           ] [6.1.0               ] [0.0.0.0        ] [1970-01-01T00:00:00,000000+00:00]").unwrap();
    assert_eq!(reboot.id, b"~~  ");
    assert_eq!(reboot.user, b"reboot");
    assert_eq!(reboot.kind, RecordKind::BootTime);
    // Fields are cut at their first space, the time is not; anything
    // between fields and after the last is ignored.
    let cut = parse("[7] [01234] [ts/0] [ali ce] x [pts/0] [ex ample] [fe80::1 x] [2026-11-20T09:15:00+00:00]\r").unwrap();
    assert_eq!(cut.user, b"ali");
    assert_eq!(cut.host, b"ex");
    assert_eq!(cut.addr[..2], [0xfe, 0x80]);
    assert_eq!(cut.time_us, 1_795_166_100_000_000);
    // Long type and pid fields still leave the user field past byte 19.
    let long = parse("[300] [1234567] [ts/0] [u] [l] [h] [] []").unwrap();
    assert_eq!(
        (long.kind.raw(), long.pid, long.time_us),
        (300, 1_234_567, 0)
    );
    assert_eq!(long.user, b"u");
}

#[test]
fn parse_times() {
    let t = |s: &str| parse_time(s.as_bytes());
    assert_eq!(t(""), Ok(0));
    assert_eq!(t(" 2026-11-20T09:15:00,000000+00:00"), Ok(0));
    assert_eq!(t("2026-11-20T09:15:00"), Ok(1_795_166_100_000_000));
    assert_eq!(t("2026-11-20T09:15:00Z"), Ok(1_795_166_100_000_000));
    assert_eq!(t("2026-11-20T09:15:00.000007"), Ok(1_795_166_100_000_007));
    // A non-zero offset is applied (util-linux ignores it).
    assert_eq!(
        t("2026-11-20T09:15:00,000000+05:30"),
        Ok(1_795_166_100_000_000 - 19_800_000_000)
    );
    assert_eq!(
        t("2026-11-20T09:15:00,000000-0100"),
        Ok(1_795_166_100_000_000 + 3_600_000_000)
    );
    assert_eq!(
        t("1960-11-20T09:15:00,000001+00:00"),
        Ok(-287_592_300_000_000 + 1)
    );
    assert_eq!(t("Tue Sep 01 00:00:00 1998 GMT"), Ok(904_608_000_000_000));
    assert_eq!(t("tue sep 1 00:00:00 1998"), Ok(904_608_000_000_000));
    for bad in [
        "2026-11-20T09:15:00,5+00:00",
        "2026-11-20T09:15:00,1234567+00:00",
        "2026-13-01T00:00:00",
        "2026-02-29T00:00:00",
        "2026-11-20T24:00:00",
        "2026-11-20T09:15:60",
        "2026-11-20T09:15",
        "2026-11-20T09:15:00+00:00 junk",
        "2026-11-20T09:15:00+25:00",
        "xyz",
        "[",
        "Tue Foo 01 00:00:00 1998",
    ] {
        assert!(t(bad).is_err(), "{bad}");
    }
    assert_eq!(t("2024-02-29T00:00:00"), Ok(1_709_164_800_000_000));
}

#[test]
fn lines_util_linux_would_misread_are_errors() {
    for bad in [
        "",
        "garbage",
        "[2] [0] [~~] [reboot] [~] [] [] []",
        "[2] [0] [~~  ] [reboot] [~] [] [] []",
        "[7] [1234] [ts/0] [alice] [pts/0] [h] [] []",
        "[-300] [-1234567890] [ts/0] [u] [l] [h] [] []",
        "[7] [01234] [ts/0] [alice   ] [pts/0       ] [example.org         ] [0.0.0.0        ]",
        "[7] [01234] [ts/0] [alice   ] [pts/0       ] [example.org         ] [0.0.0.0        ] [2026",
        "[7] [01234] [ts/0] [alice   ] [pts/0       ] [example.org         ] [1.2.3] []",
        "[7] [01234] [ts/0] [alice   ] [pts/0       ] [example.org         ] [garbage] []",
        "[70000] [01234] [ts/0] [a] [b] [c] [] []",
        "[7] [99999999999] [ts/0] [a] [b] [c] [] []",
        "[x] [01234] [ts/0] [a] [b] [c] [] []",
        "[7] [01234] [ts/] [a] [b] [c] [] []",
        "[7] [01234] [ts/0] [a\0] [b] [c] [] []",
    ] {
        match parse(bad) {
            Err(FormatError::BadText { line: 1, .. }) => {}
            other => panic!("{bad:?} gave {other:?}"),
        }
    }
    let long = format!("[7] [01234] [ts/0] [a] [b] [c] [] [] {}", " ".repeat(1000));
    assert!(parse(&long).is_err());
}

#[test]
fn random_records_round_trip_through_text() {
    // Text keeps neither session nor exit status, pads the id to 4 bytes,
    // and shows unprintable bytes as '?': round trip the printable ones.
    let mut rng = testgen::Rng::new(11);
    for _ in 0..3000 {
        let mut record = testgen::native_record(&mut rng);
        for field in [&mut record.user, &mut record.line, &mut record.host] {
            field.retain(|&b| (0x21..0x7f).contains(&b) && b != b'[' && b != b']');
        }
        record
            .id
            .retain(|&b| (0x20..0x7f).contains(&b) && b != b'[' && b != b']');
        record.id.resize(4, b' ');
        record.session = 0;
        record.exit = ExitStatus::default();
        let text = line_of(&record);
        let back = parse_line(text.trim_end_matches('\n').as_bytes(), 1)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(back, record, "{text}");
    }
}

impl Record {
    fn clone_with_id(&self, id: &[u8]) -> Record {
        Record {
            id: id.to_vec(),
            ..self.clone()
        }
    }
}
