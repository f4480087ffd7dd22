//! One module per applet; each starts with its usage text and its peer.
pub mod last;
pub mod lastlog;
pub mod uptime;
pub mod users;
pub mod utmpd;
pub mod utmpdump;
pub mod utmpset;
pub mod w;
pub mod who;
pub mod wtmpd;
