#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| utmpbox::fuzzing::text_line(data));
