//! The read layer every reader uses: where the data is, the client of
//! the daemons, log files read in bounded chunks, and the streams
//! (tables oldest first, histories newest first) built on them.
pub mod client;
pub mod history;
pub mod logfile;
pub mod paths;
pub mod sessions;
pub mod sources;
