//! utmpdump: placeholder until the codec lands.
use std::ffi::OsString;
pub fn main(_applet: &str, _args: &[OsString]) -> i32 {
    1
}
