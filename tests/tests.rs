//! Integration tests: the built binary driven through its applet symlinks,
//! compared with the peer tools installed on the machine.

mod last;
mod util;
