#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| utmpbox::fuzzing::utmps_request(data));
