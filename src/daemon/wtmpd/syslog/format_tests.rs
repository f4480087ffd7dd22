use super::*;
use crate::record::ExitStatus;

fn utc_stamp(secs: i64) -> Vec<u8> {
    format!("Nov 29 {secs}").into_bytes()
}

fn ctx(format: Format) -> Context {
    Context {
        format,
        hostname: b"fleet1".to_vec(),
        pid: 42,
        boot_id: Some(b"b0-07".to_vec()),
        boot_us: 1_700_000_000_000_000,
        local_stamp: utc_stamp,
    }
}

fn login() -> Record {
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&[192, 0, 2, 7]);
    Record {
        kind: RecordKind::UserProcess,
        pid: 1234,
        session: 7,
        line: b"pts/3".to_vec(),
        id: b"ts/3".to_vec(),
        user: b"alice".to_vec(),
        host: b"example.org".to_vec(),
        exit: ExitStatus::default(),
        addr,
        time_us: 1_700_000_100_123_456,
    }
}

fn text(record: &Record, btmp: bool, crash: bool, format: Format) -> String {
    let origin = Origin {
        btmp,
        msgid: "wtmp-5-0badcafe",
        after_crash: crash,
    };
    let mut out = Vec::new();
    message(record, &origin, &ctx(format), &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn rfc5424_login_carries_every_field() {
    assert_eq!(
        text(&login(), false, false, Format::Rfc5424),
        "<86>1 2023-11-14T22:15:00.123456Z fleet1 wtmpd 42 wtmp-5-0badcafe \
         [utmp@32473 type=\"USER_PROCESS\" user=\"alice\" line=\"pts/3\" id=\"ts/3\" \
         host=\"example.org\" address=\"192.0.2.7\" pid=\"1234\" session=\"7\" \
         termination=\"0\" exit=\"0\" time=\"2023-11-14T22:15:00.123456Z\" boot_id=\"b0-07\"] \
         login alice on pts/3 from example.org"
    );
}

#[test]
fn rfc3164_puts_the_fields_after_the_text() {
    assert_eq!(
        text(&login(), false, false, Format::Rfc3164),
        "<86>Nov 29 1700000100 fleet1 wtmpd[42]: login alice on pts/3 from example.org \
         msgid=wtmp-5-0badcafe type=\"USER_PROCESS\" user=\"alice\" line=\"pts/3\" id=\"ts/3\" \
         host=\"example.org\" address=\"192.0.2.7\" pid=\"1234\" session=\"7\" \
         termination=\"0\" exit=\"0\" time=\"2023-11-14T22:15:00.123456Z\" boot_id=\"b0-07\""
    );
}

#[test]
fn sd_values_escape_quote_backslash_and_bracket() {
    let mut r = login();
    r.user = br#"a"b\c]d"#.to_vec();
    let t = text(&r, false, false, Format::Rfc5424);
    assert!(t.contains(r#" user="a\"b\\c\]d" "#), "{t}");
    // The human text needs no escaping but for control bytes.
    assert!(
        t.ends_with(r#"login a"b\c]d on pts/3 from example.org"#),
        "{t}"
    );
    let t = text(&r, false, false, Format::Rfc3164);
    assert!(t.contains(r#" user="a\"b\\c]d" "#), "{t}");
}

#[test]
fn control_bytes_and_non_utf8_become_hex_escapes() {
    let mut r = login();
    r.host = b"ev\nil\xff\xc3\xa9".to_vec();
    let t = text(&r, false, false, Format::Rfc5424);
    assert!(t.contains(r#" host="ev\x0ail\xffé" "#), "{t}");
    assert!(!t.contains('\n'));
}

#[test]
fn failed_login_and_crash_are_notice() {
    let mut r = login();
    r.kind = RecordKind::LoginProcess;
    let t = text(&r, true, false, Format::Rfc5424);
    assert!(t.starts_with("<85>1 "), "{t}");
    assert!(
        t.ends_with("] failed login alice on pts/3 from example.org"),
        "{t}"
    );
    let boot = Record {
        kind: RecordKind::BootTime,
        line: b"~".to_vec(),
        user: b"reboot".to_vec(),
        host: b"6.1.0".to_vec(),
        time_us: 1_700_000_000_000_000,
        ..Record::default()
    };
    let t = text(&boot, false, true, Format::Rfc5424);
    assert!(t.starts_with("<85>1 "), "{t}");
    assert!(t.ends_with("] boot after a crash, kernel 6.1.0"), "{t}");
    let t = text(&boot, false, false, Format::Rfc5424);
    assert!(t.starts_with("<86>1 "), "{t}");
    assert!(t.ends_with("] boot, kernel 6.1.0"), "{t}");
}

#[test]
fn other_kinds_read_as_words() {
    let mut r = Record {
        kind: RecordKind::RunLevel,
        line: b"~".to_vec(),
        user: b"shutdown".to_vec(),
        host: b"6.1.0".to_vec(),
        time_us: 1_700_000_000_000_000,
        ..Record::default()
    };
    assert!(text(&r, false, false, Format::Rfc5424).ends_with("] shutdown, kernel 6.1.0"));
    r.user = b"runlevel".to_vec();
    r.pid = i32::from(b'N') << 8 | i32::from(b'3');
    assert!(text(&r, false, false, Format::Rfc5424).ends_with("] runlevel 3"));
    let logout = Record {
        kind: RecordKind::DeadProcess,
        line: b"pts/3".to_vec(),
        time_us: 1_700_000_000_000_000,
        ..Record::default()
    };
    assert!(text(&logout, false, false, Format::Rfc5424).ends_with("] logout on pts/3"));
}

#[test]
fn boot_id_only_for_records_of_this_boot_and_odd_times_survive() {
    let mut r = login();
    r.time_us = 1_600_000_000_000_000;
    assert!(!text(&r, false, false, Format::Rfc5424).contains("boot_id"));
    r.time_us = -1;
    let t = text(&r, false, false, Format::Rfc5424);
    assert!(t.starts_with("<86>1 1969-12-31T23:59:59.999999Z "), "{t}");
    r.time_us = i64::MAX;
    let t = text(&r, false, false, Format::Rfc5424);
    assert!(t.starts_with("<86>1 - fleet1 "), "{t}");
    assert!(t.contains(&format!(" time=\"{}\"", i64::MAX)), "{t}");
}

#[test]
fn msgid_is_short_printable_ascii() {
    let id = msgid(true, (1u64 << 55) - 1, u32::MAX);
    assert_eq!(id, "btmp-36028797018963967-ffffffff");
    assert!(id.len() <= 32 && id.bytes().all(|b| b.is_ascii_graphic()));
}
