//! Integration tests: the built binary driven through its applet symlinks,
//! compared with the peer tools installed on the machine.

mod uptime;
mod util;
mod utmpfile;
mod w;
mod w_edges;
mod who;
