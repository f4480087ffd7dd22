//! The shared glibc-style option reader (`src/front/getopt.rs`) against the
//! glibc getopt programs it stands in for: usage errors with bytes that
//! are not UTF-8, long options with values they do not take, and
//! `POSIXLY_CORRECT`, compared on stderr and exit status with each peer.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use crate::util::{assert_same, peer, run, Scratch};

/// (applet, args, POSIXLY_CORRECT, compare only stderr's first line).
/// procps w's usage text lacks utmpbox's `-p` line (docs/COMPAT.md `## w`),
/// so for w only the error line itself is compared.
const CASES: &[(&str, &[&[u8]], bool, bool)] = &[
    ("who", &[b"-a\xc3\xa9"], false, false),
    ("who", &[b"--bogus=\xff"], false, false),
    ("who", &[b"a", b"b", b"-x"], true, false),
    ("users", &[b"-\xc3"], false, false),
    ("users", &[b"a", b"-x"], true, false),
    ("uptime", &[b"-\xc3\xa9"], false, false),
    ("uptime", &[b"foo", b"-s"], true, false),
    ("w", &[b"-\xc3\xa9"], false, true),
    ("w", &[b"--fr=1"], false, true),
    ("last", &[b"-x\xe9"], false, false),
    ("last", &[b"--fu"], false, false),
    ("last", &[b"--lim"], false, false),
    ("lastlog", &[b"-\xc3\xa9"], false, false),
    ("lastlog", &[b"--bogus=1"], false, false),
    ("lastlog", &[b"--clear=1"], false, false),
    ("lastlog", &[b"foo", b"-x"], true, false),
    ("lastlog", &[b"-t"], false, false),
];

#[test]
fn usage_errors_match_the_getopt_peers() {
    let s = Scratch::new("getopt-errors");
    for &(applet, args, posix, first_line) in CASES {
        let args: Vec<OsString> = args
            .iter()
            .map(|a| OsString::from_vec(a.to_vec()))
            .collect();
        let mut ours = s.applet(applet);
        let mut theirs = peer(applet);
        for cmd in [&mut ours, &mut theirs] {
            cmd.args(&args);
            if posix {
                cmd.env("POSIXLY_CORRECT", "1");
            }
        }
        let (ours, theirs) = (run(&mut ours, None), run(&mut theirs, None));
        let what = format!("{applet} {args:?} POSIXLY_CORRECT={posix}");
        let cut = |err: &[u8]| -> Vec<u8> {
            match err.iter().position(|&b| b == b'\n') {
                Some(end) if first_line => err[..=end].to_vec(),
                _ => err.to_vec(),
            }
        };
        assert!(!ours.stderr.is_empty(), "{what}: no error");
        assert_same(&cut(&ours.stderr), &cut(&theirs.stderr), &what);
        assert_same(&ours.stdout, &theirs.stdout, &what);
        assert_eq!(ours.status.code(), theirs.status.code(), "{what}");
    }
}
