//! The front end applets share: argument normalising and parsing, help
//! and version, the buffered stdout and its write errors, and safe
//! printing of stored bytes. Nothing below the applets imports it.
pub mod args;
pub mod cli;
pub mod daemon;
pub mod escape;
pub mod getopt;
pub mod table;
