#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| utmpbox::fuzzing::frame_reader(data));
