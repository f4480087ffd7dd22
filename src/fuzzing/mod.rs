//! The bodies of the fuzz targets. Each target in fuzz/fuzz_targets/ is
//! one line calling the body of the same name here, and `make test`
//! replays every saved crash input (fuzz/regressions/TARGET/FILE) through
//! the same body, so a crash once found stays fixed.
//!
//! A body takes arbitrary bytes and asserts what must hold of whatever a
//! decoder makes of them (re-encoding round-trips, two readers of the same
//! bytes agree, a stream split anywhere parses the same), not only that
//! nothing panics. Compiled only for tests and for cargo-fuzz, which
//! builds with `--cfg fuzzing`: none of it is in the binary.

mod records;
mod wire;

/// Every fuzz target by name, sorted; fuzz/Cargo.toml has one `[[bin]]`
/// per entry.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("decode_file", records::decode_file),
    ("frame_reader", wire::frame_reader),
    ("lastlog_record", records::lastlog_record),
    ("legacy_record", records::legacy_record),
    ("native_record", records::native_record),
    ("request", wire::request),
    ("text_line", records::text_line),
    ("utmps_request", wire::utmps_request),
];

pub use records::{decode_file, lastlog_record, legacy_record, native_record, text_line};
pub use wire::{frame_reader, request, utmps_request};

/// Assert that `encoded`, a re-encoding of `original`, differs from it
/// only where it is zero (padding after a field's NUL, reserved bytes)
/// outside `except`: an encoder that writes what it decoded changes
/// nothing else.
fn assert_only_zeroed(original: &[u8], encoded: &[u8], except: std::ops::Range<usize>) {
    assert_eq!(original.len(), encoded.len());
    for (at, (&was, &now)) in original.iter().zip(encoded).enumerate() {
        assert!(
            was == now || now == 0 || except.contains(&at),
            "re-encoding changed byte {at} from {was:#04x} to {now:#04x}"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn targets_are_sorted_and_listed_in_the_fuzz_crate() {
        for pair in super::TARGETS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        for (name, _) in super::TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{name}\"")),
                "fuzz/Cargo.toml has no target {name}"
            );
            let source = root.join("fuzz_targets").join(format!("{name}.rs"));
            let text = std::fs::read_to_string(&source).unwrap();
            assert!(
                text.contains(&format!("utmpbox::fuzzing::{name}(")),
                "{} does not call utmpbox::fuzzing::{name}",
                source.display()
            );
        }
    }

    /// Every crash input the fuzzers ever found, run through its target's
    /// body: each must now pass.
    #[test]
    fn saved_crash_inputs_pass() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        let mut failed = Vec::new();
        let mut ran = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let target_dir = entry.unwrap().path();
            if !target_dir.is_dir() {
                continue; // the README
            }
            let name = target_dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let Some(&(_, body)) = super::TARGETS.iter().find(|(n, _)| *n == name) else {
                panic!("{}: no fuzz target of that name", target_dir.display());
            };
            for input in std::fs::read_dir(&target_dir).unwrap() {
                let path = input.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                ran += 1;
                if std::panic::catch_unwind(|| body(&bytes)).is_err() {
                    failed.push(path.display().to_string());
                }
            }
        }
        assert!(
            failed.is_empty(),
            "crash inputs that fail again: {failed:?}"
        );
        eprintln!("{ran} saved crash inputs pass");
    }
}
