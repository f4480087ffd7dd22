//! One module per applet; each starts with its usage text and its peer.
pub mod last;
pub mod utmpdump;
