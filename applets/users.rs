//! users: print the user names of who is logged on.
//!
//! ```text
//! Usage: users [OPTION]... [FILE]
//! ```
//!
//! Peer: GNU coreutils 9.1 `users`, byte for byte: the names of the
//! USER_PROCESS entries, sorted, duplicates kept, on one line (nothing at
//! all when there are none). With no FILE the default utmp table is read
//! and entries whose process is gone are dropped; a FILE (any supported
//! format) is read as it is, a missing one is an empty table.
//!
//! Deliberate differences (docs/COMPAT.md, `## who`): unprintable bytes
//! are escaped as util-linux escapes them; names sort by bytes (coreutils
//! uses strcoll, which is the same order in the C and C.UTF-8 locales).

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::front::cli;
use crate::front::escape;
use crate::front::getopt::{self, Item, Table};
use crate::read::sessions;
use crate::sys::locale;

const USAGE: &str = "\
Usage: users [OPTION]... [FILE]
Output who is currently logged in according to FILE.
If FILE is not specified, use the utmpbox utmp table, else /var/run/utmp.
/var/log/wtmp as FILE is common.

      --help        display this help and exit
      --version     output version information and exit
";

const TABLE: Table = Table {
    shorts: &[],
    longs: &[("help", "help"), ("version", "version")],
    with_value: &[],
};

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    let mut operands = Vec::new();
    for item in getopt::parse(args, &TABLE) {
        match item {
            Item::Opt("help") => {
                return cli::print_all(applet, USAGE.as_bytes());
            }
            Item::Opt(_) | Item::Value(..) => return cli::print_version(applet),
            Item::Operand(operand) => operands.push(operand),
            Item::Error(error) => return getopt::usage_error(applet, &error),
        }
    }
    if operands.len() > 1 {
        let message = format!(
            "extra operand {}",
            String::from_utf8_lossy(&locale::quote(operands[1].as_bytes()))
        );
        return cli::usage_error(applet, &message, 1);
    }
    let file = operands.first().map(Path::new);
    let records = match sessions::users(applet, file, file.is_none()) {
        Ok(records) => records,
        Err(status) => return status,
    };
    let mut names: Vec<&[u8]> = records.iter().map(sessions::trimmed_name).collect();
    names.sort_unstable();
    let mut text = Vec::new();
    for (i, name) in names.iter().enumerate() {
        escape::careful(name, &mut text);
        text.push(if i + 1 < names.len() { b' ' } else { b'\n' });
    }
    cli::print_all(applet, &text)
}
