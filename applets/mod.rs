//! One module per applet; each starts with its usage text and its peer.
pub mod uptime;
pub mod users;
pub mod utmpdump;
pub mod w;
pub mod who;
