//! What the tiny build (`make tiny`: `-Zfmt-debug=none`, under which
//! `{:?}` prints nothing) must still say as the stable build does.

use crate::util::Scratch;

/// The quoted TARGET and port in wtmpd's usage errors (they were empty in
/// the tiny build: `bad port ` and `bad syslog target : control character`).
#[test]
fn syslog_usage_errors_quote_what_was_given() {
    let s = Scratch::new("tiny-text");
    for (target, want) in [
        (
            "udp:h:x",
            "wtmpd: bad syslog target udp:h:x: bad port \"x\"\n",
        ),
        (
            "unix:/a\tb",
            "wtmpd: bad syslog target \"unix:/a\\tb\": control character\n",
        ),
    ] {
        let out = s
            .applet("wtmpd")
            .args(["--syslog", target])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(100), "{target:?}: {err}");
        assert!(err.starts_with(want), "{target:?}: {err}");
    }
}
