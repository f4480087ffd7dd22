//! Integration tests: the built binary driven through its applet symlinks,
//! compared with the peer tools installed on the machine.

mod boot;
mod capi;
mod capi_programs;
mod capi_programs_writers;
mod capi_util;
mod daemon_util;
mod daemons;
mod daemons_files;
mod daemons_limits;
mod daemons_policy;
mod daemons_robust;
mod frontend;
mod getopt;
mod last;
mod last_name_filters;
mod lastlog;
mod read_layer;
mod readers_hardening;
mod services;
mod startup;
mod syslog;
mod syslog_util;
mod tiny_text;
mod uptime;
mod util;
mod utmpdump;
mod utmpfile;
mod utmps;
mod utmps_import;
mod utmps_services;
mod utmps_sockets;
mod w;
mod w_edges;
mod who;
mod who_json;
