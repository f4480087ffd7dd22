//! utmpbox: Linux user accounting in one multicall binary (see src/lib.rs).

fn main() {
    std::process::exit(utmpbox::run());
}
