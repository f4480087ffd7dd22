//! Integration tests: the built binary driven through its applet symlinks,
//! compared with the peer tools installed on the machine.

mod lastlog;
mod uptime;
mod util;
mod utmpdump;
mod utmpfile;
mod who;
