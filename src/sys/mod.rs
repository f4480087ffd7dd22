//! System facts: what the kernel, libc and /etc say (users and groups,
//! the boot, /proc, local time, the locale, addresses), and the one way
//! to open a named input file and to word an error. Above `record` only.
pub mod boot;
pub mod diag;
pub mod hash;
pub mod inet;
pub mod infile;
pub mod locale;
pub mod passwd;
pub mod peer;
pub mod strtod;
pub mod time;
pub mod tty;
pub mod uptime;
