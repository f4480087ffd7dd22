//! Stores: the files the daemons own, created, opened and repaired
//! through a checked directory, and the lastlog store that wtmpd writes
//! and the lastlog reader's file fallback reads.
pub mod datadir;
pub mod files;
pub mod lastlog;
