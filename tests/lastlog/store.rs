//! lastlog's writes (`-S`, `-C`) on legacy and native files, and what
//! the name-keyed native file changes.

use std::path::Path;

use super::{
    is_root, legacy_entry, legacy_logins, native_file, native_logins, same_output, Root,
    CLEAN_PASSWD, NOW_ISH, QUIRKY_PASSWD,
};

#[test]
fn huge_uid_costs_nothing() {
    // No peer needed: this is about what utmpbox reads and writes.
    let passwd = "root:x:0:0::/:/bin/sh\nhuge:x:4000000000:1::/:/bin/sh\n";
    let root = Root::new("ll-huge", passwd, None);
    std::fs::write(
        root.native(),
        native_file(&[("huge", NOW_ISH, b"pts/7", b"far.example")]),
    )
    .unwrap();
    let out = root.ours(&[], "UTC");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Username         Port     From                                       Latest\n\
         root                                                                **Never logged in**\n\
         huge             pts/7    far.example                               Wed Nov 26 18:11:00 +0000 2025\n"
    );
    // Setting it rewrites one 512-byte slot, in a file of two records.
    let out = root.ours(&["-S", "-u", "huge"], "UTC");
    assert_eq!(out.status.code(), Some(0), "{:?}", out);
    assert_eq!(std::fs::metadata(root.native()).unwrap().len(), 64 + 512);
    // The legacy reader stats first and never reads past the end.
    std::fs::remove_file(root.native()).unwrap();
    std::fs::write(root.legacy(), legacy_entry(292, NOW_ISH, b"tty1", b"")).unwrap();
    let out = root.ours(&["-u", "huge"], "UTC");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("huge "));
    assert_eq!(std::fs::metadata(root.legacy()).unwrap().len(), 292);
}

/// The lastlog file after `args` run by each tool on its own copy, with
/// the time of `-S` entries (now) masked.
fn after_update(name: &str, args: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let a = Root::new(name, QUIRKY_PASSWD, Some("LASTLOG_UID_MAX 50000\n"));
    let b = Root::new(name, QUIRKY_PASSWD, Some("LASTLOG_UID_MAX 50000\n"));
    a.write_legacy(292, &legacy_logins());
    b.write_legacy(292, &legacy_logins());
    let ours = a.ours(args, "UTC");
    let theirs = b.theirs(args, "UTC");
    same_output(&ours, &theirs, &format!("{args:?}"));
    let mask = |path: &Path| {
        let mut bytes = std::fs::read(path).unwrap();
        for entry in bytes.chunks_mut(292) {
            if entry.len() == 292 && entry[4..12] == *b"lastlog\0" {
                entry[0..4].copy_from_slice(b"TIME");
            }
        }
        bytes
    };
    (mask(&a.legacy()), mask(&b.legacy()))
}

#[test]
fn set_and_clear_legacy_write_what_shadow_writes() {
    need_root!();
    for args in [
        &["-S", "-u", "bob"][..],
        &["-C", "-u", "root"],
        &["-S", "-u", "1000-1002"],
        &["-C", "-u", "-1001"],
        &["-S", "-u", "7777"],
        &["-S", "-u", "60000"],
        &["-S", "-u", "big"],
        &["--set", "--user", "dupuid"],
    ] {
        let (ours, theirs) = after_update("ll-update", args);
        assert!(ours == theirs, "{args:?}: files differ");
    }
    // And the set entry is "now".
    let root = Root::new("ll-set-now", CLEAN_PASSWD, None);
    root.write_legacy(292, &legacy_logins());
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert_eq!(
        root.ours(&["-S", "-u", "carol"], "UTC").status.code(),
        Some(0)
    );
    let bytes = std::fs::read(root.legacy()).unwrap();
    let entry = &bytes[1001 * 292..1002 * 292];
    let t = i32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]) as i64;
    assert!(t >= before && t <= before + 60, "time {t}");
    assert_eq!(&entry[4..12], b"lastlog\0");
    assert_eq!(&entry[36..46], b"localhost\0");
}

#[test]
fn set_and_clear_native() {
    let root = Root::new("ll-native-set", CLEAN_PASSWD, None);
    std::fs::write(root.native(), native_file(&native_logins())).unwrap();
    let before_len = std::fs::metadata(root.native()).unwrap().len();
    let out = root.ours(&["-S", "-u", "nobody"], "UTC");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // nobody had no slot: one is appended.
    let bytes = std::fs::read(root.native()).unwrap();
    assert_eq!(bytes.len() as u64, before_len + 512);
    let slot = &bytes[bytes.len() - 512..];
    assert_eq!(&slot[76..83], b"nobody\0");
    assert_eq!(&slot[40..48], b"lastlog\0");
    assert_eq!(&slot[140..150], b"localhost\0");
    // Clearing bob rewrites his slot in place (the second record).
    let out = root.ours(&["-C", "-u", "bob"], "UTC");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let after = std::fs::read(root.native()).unwrap();
    assert_eq!(after.len(), bytes.len());
    let bob = &after[64 + 512..64 + 1024];
    assert_eq!(&bob[76..80], b"bob\0");
    assert_eq!(&bob[16..24], &[0u8; 8]);
    assert_eq!(
        &after[..64 + 512],
        &bytes[..64 + 512],
        "root's slot untouched"
    );
    let out = root.ours(&["-u", "1000-"], "UTC");
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    assert!(lines[1].starts_with("bob ") && lines[1].ends_with("**Never logged in**"));
    assert!(lines[6].starts_with("nobody           lastlog  localhost"));
}

#[test]
fn native_lastlog_is_keyed_by_name() {
    // Two passwd lines named bob share the name's record in the native
    // file; in a legacy file each uid has its own entry.
    let passwd =
        "bob:x:1000:1000::/:/bin/sh\nbob:x:1005:1005::/:/bin/sh\nsame:x:1000:1::/:/bin/sh\n";
    let root = Root::new("ll-native-key", passwd, None);
    std::fs::write(
        root.native(),
        native_file(&[("bob", NOW_ISH, b"pts/1", b"h")]),
    )
    .unwrap();
    let out = root.ours(&[], "UTC");
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    let stamp = "Wed Nov 26 18:11:00 +0000 2025";
    assert_eq!(rows.len(), 3, "{text}");
    assert!(rows[0].starts_with("bob ") && rows[0].ends_with(stamp));
    assert!(rows[1].starts_with("bob ") && rows[1].ends_with(stamp));
    assert!(rows[2].starts_with("same ") && rows[2].ends_with("**Never logged in**"));
}

#[test]
fn set_on_a_musl_file_writes_296_bytes() {
    let root = Root::new("ll-296-set", CLEAN_PASSWD, None);
    root.write_legacy(296, &legacy_logins());
    let before = std::fs::read(root.legacy()).unwrap();
    let out = root.ours(&["-S", "-u", "bob"], "UTC");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let after = std::fs::read(root.legacy()).unwrap();
    assert_eq!(after.len(), before.len());
    let entry = &after[1000 * 296..1001 * 296];
    let mut t = [0u8; 8];
    t.copy_from_slice(&entry[0..8]);
    assert!(i64::from_le_bytes(t) > NOW_ISH);
    assert_eq!(&entry[8..16], b"lastlog\0");
    assert_eq!(&entry[40..50], b"localhost\0");
    assert!(entry[50..].iter().all(|&b| b == 0));
    assert_eq!(&after[..1000 * 296], &before[..1000 * 296]);
    assert_eq!(&after[1001 * 296..], &before[1001 * 296..]);
}

#[test]
fn a_damaged_native_file_is_an_error_not_a_panic() {
    let root = Root::new("ll-native-bad", CLEAN_PASSWD, None);
    std::fs::write(root.native(), b"UTMPBOX\0 but not a header").unwrap();
    let out = root.ours(&[], "UTC");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(out.stdout, b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("lastlog: /var/log/utmpbox/lastlog: bad native header"),
        "{err}"
    );
    // A corrupt record is reported and read as never logged in.
    let mut bytes = native_file(&native_logins());
    bytes[64 + 100] ^= 1; // root's record
    std::fs::write(root.native(), &bytes).unwrap();
    let out = root.ours(&["-u", "root"], "UTC");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "lastlog: /var/log/utmpbox/lastlog: record 0 is corrupt (checksum mismatch), skipped\n"
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("**Never logged in**\n"));
}
