//! One module per applet; each starts with its usage text and its peer.
pub mod utmpd;
pub mod utmpdump;
pub mod utmpset;
pub mod wtmpd;
