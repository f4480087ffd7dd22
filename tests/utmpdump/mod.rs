//! utmpdump against util-linux 2.38.1 `utmpdump`: random glibc files dumped
//! by both, random texts undumped by both, compared byte for byte, and
//! where it deliberately differs (docs/COMPAT.md). `beyond` tests what only
//! utmpbox does: other formats, times past 2038, -o, -f.

mod beyond;
mod gen;

use crate::util::{assert_same, peer, run, Scratch};
use gen::{glibc_file, random_raw, random_text_line, undumpable_raw, Raw, Rng};
use std::process::Output;

pub fn ours(s: &Scratch, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = s.applet("utmpdump");
    cmd.args(args);
    run(&mut cmd, stdin)
}

pub fn theirs(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = peer("utmpdump");
    cmd.args(args);
    run(&mut cmd, stdin)
}

#[track_caller]
pub fn assert_same_run(ours: &Output, theirs: &Output, what: &str) {
    assert_same(
        &ours.stdout,
        &theirs.stdout,
        format_args!("{what} (stdout)"),
    );
    assert_same(
        &ours.stderr,
        &theirs.stderr,
        format_args!("{what} (stderr)"),
    );
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{what}: exit status"
    );
}

#[test]
fn dump_matches_util_linux_on_random_glibc_files() {
    let s = Scratch::new("ud-dump");
    let mut rng = Rng::new(1);
    for n in 0..60 {
        let records: Vec<Raw> = (0..rng.below(40)).map(|_| random_raw(&mut rng)).collect();
        let path = s.write(&format!("wtmp{n}"), &glibc_file(&records));
        let path = path.to_str().unwrap();
        let a = ours(&s, &[path], None);
        let b = theirs(&[path], None);
        assert_same_run(&a, &b, &format!("file {n}"));
        // Whatever TZ says, times are UTC.
        let mut cmd = s.applet("utmpdump");
        cmd.arg(path).env("TZ", "Asia/Kolkata");
        assert_same(&run(&mut cmd, None).stdout, &b.stdout, "TZ=Asia/Kolkata");
    }
}

#[test]
fn dump_reads_stdin_like_util_linux() {
    let s = Scratch::new("ud-stdin");
    let mut rng = Rng::new(2);
    let records: Vec<Raw> = (0..20).map(|_| random_raw(&mut rng)).collect();
    let file = glibc_file(&records);
    assert_same_run(
        &ours(&s, &[], Some(&file)),
        &theirs(&[], Some(&file)),
        "stdin",
    );
}

#[test]
fn undump_matches_util_linux_on_random_texts() {
    let s = Scratch::new("ud-undump");
    let mut rng = Rng::new(3);
    for n in 0..60 {
        let mut text = String::new();
        for _ in 0..rng.below(30) {
            text.push_str(&random_text_line(&mut rng));
            text.push('\n');
        }
        let a = ours(&s, &["-r"], Some(text.as_bytes()));
        let b = theirs(&["-r"], Some(text.as_bytes()));
        assert!(
            a.status.success(),
            "{}\n{text}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert_same_run(&a, &b, &format!("text {n}:\n{text}"));
    }
}

#[test]
fn undump_of_util_linux_dumps_matches_util_linux() {
    let s = Scratch::new("ud-redump");
    let mut rng = Rng::new(4);
    for n in 0..40 {
        let records: Vec<Raw> = (0..rng.below(30))
            .map(|_| undumpable_raw(&mut rng))
            .collect();
        let path = s.write(&format!("wtmp{n}"), &glibc_file(&records));
        let text = theirs(&[path.to_str().unwrap()], None).stdout;
        let a = ours(&s, &["-r"], Some(&text));
        let b = theirs(&["-r"], Some(&text));
        assert_same_run(&a, &b, &format!("dump {n}"));
        // -o FILE holds the same bytes.
        let out = s.path(&format!("out{n}"));
        let o = ours(&s, &["-r", "-o", out.to_str().unwrap()], Some(&text));
        assert!(o.status.success());
        assert_same(&std::fs::read(&out).unwrap(), &b.stdout, "-o file");
    }
}

#[test]
fn partial_record_is_dumped_whole_and_reported() {
    let s = Scratch::new("ud-partial");
    let mut rng = Rng::new(7);
    let records: Vec<Raw> = (0..5).map(|_| random_raw(&mut rng)).collect();
    let mut file = glibc_file(&records);
    file.extend_from_slice(&[7u8; 100]);
    let path = s.write("wtmp", &file);
    let path = path.to_str().unwrap();
    let a = ours(&s, &[path], None);
    let b = theirs(&[path], None);
    assert_same(&a.stdout, &b.stdout, "records before the partial one");
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        format!("Utmp dump of {path}\nutmpdump: {path}: ignoring 100 trailing bytes (a partial record)\n")
    );
    assert_eq!(a.status.code(), Some(0));
}

#[test]
fn missing_file_and_stdin_follow_fail_like_util_linux() {
    let s = Scratch::new("ud-missing");
    for args in [
        &["/nonexistent/wtmp"][..],
        &["-r", "/nonexistent/wtmp"],
        &["-f"],
    ] {
        let a = ours(&s, args, None);
        let b = theirs(args, None);
        assert_same_run(&a, &b, &format!("{args:?}"));
    }
    let a = ours(&s, &["/nonexistent/wtmp"], None);
    assert_eq!(
        a.stderr,
        b"utmpdump: cannot open /nonexistent/wtmp: No such file or directory\n"
    );
    // A file name that is not UTF-8 is printed as its bytes, as the peer does.
    use std::os::unix::ffi::OsStrExt;
    let name = std::ffi::OsStr::from_bytes(b"/nonexistent/w\xfftmp");
    let mut cmd = s.applet("utmpdump");
    cmd.arg(name);
    let a = run(&mut cmd, None);
    let mut cmd = peer("utmpdump");
    cmd.arg(name);
    assert_same_run(&a, &run(&mut cmd, None), "non-UTF-8 name");
}

#[test]
fn lines_util_linux_would_misread_are_errors() {
    // util-linux skips 19 bytes blindly and crashes on this line.
    let s = Scratch::new("ud-badline");
    let good = "[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [0.0.0.0        ] [2026-11-20T09:15:00,000000+00:00]\n";
    let text = format!("{good}[2] [0] [~~] [reboot] [~] [] [] []\n");
    let a = ours(&s, &["-r"], Some(text.as_bytes()));
    assert_eq!(a.status.code(), Some(1));
    assert!(a.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&a.stderr),
        "Utmp undump of /dev/stdin\nutmpdump: /dev/stdin: line 2: id is not exactly 4 characters\n"
    );
    assert_ne!(
        theirs(&["-r"], Some(text.as_bytes())).status.code(),
        Some(0)
    );
}

#[test]
fn differences_from_util_linux_on_undump() {
    // docs/COMPAT.md: a non-zero UTC offset is applied, and an IPv6
    // address with an IPv4 tail is kept (util-linux stores 0.0.0.0).
    let s = Scratch::new("ud-compat");
    let text = "[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [::ffff:10.0.0.1] [2026-11-20T09:15:00,000000+05:30]\n";
    let a = ours(&s, &["-r"], Some(text.as_bytes()));
    assert!(a.status.success());
    let back = ours(&s, &[], Some(&a.stdout));
    assert_eq!(
        String::from_utf8_lossy(&back.stdout),
        "[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [::ffff:10.0.0.1] [2026-11-20T03:45:00,000000+00:00]\n"
    );
    let b = theirs(&["-r"], Some(text.as_bytes()));
    let theirs_back = theirs(&[], Some(&b.stdout));
    assert_eq!(
        String::from_utf8_lossy(&theirs_back.stdout),
        "[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [0.0.0.0        ] [2026-11-20T09:15:00,000000+00:00]\n"
    );
}

#[test]
fn help_version_and_bad_options() {
    let s = Scratch::new("ud-help");
    let help = ours(&s, &["--help"], None);
    assert!(help.status.success());
    let text = String::from_utf8(help.stdout).unwrap();
    assert!(text.starts_with("\nUsage:\n utmpdump [options] [filename]\n"));
    assert!(text.contains(" -r, --reverse        write back dumped data into utmp file\n"));
    assert!(text.contains("--format <name>"));
    assert_eq!(ours(&s, &["-h"], None).stdout, text.as_bytes());
    let version = ours(&s, &["-V"], None);
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("utmpdump (utmpbox) "));
    let bad = ours(&s, &["-x"], None);
    assert_eq!(bad.status.code(), theirs(&["-x"], None).status.code());
    let format = ours(&s, &["-r", "--format", "bogus"], None);
    assert_eq!(format.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&format.stderr).contains("unknown format 'bogus'"));
}
