//! Test plumbing for the C API (tests/capi.rs): the dist dir `make capi`
//! left, and the C programs of tests/capi/ built against it for glibc
//! (run under LD_PRELOAD) or musl (static).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{peer, run, Scratch};

/// dist/ as `make capi` left it: the Makefile passes it as UTMPBOX_CAPI.
pub fn dist() -> PathBuf {
    let dir = match std::env::var_os("UTMPBOX_CAPI") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("dist"),
    };
    for file in [
        "lib/libutmpbox.a",
        "lib/libutmpbox.so",
        "include/utmpx.h",
        "include/utmp.h",
        "lib/pkgconfig/utmpbox.pc",
    ] {
        assert!(
            dir.join(file).is_file(),
            "the C API is not built: {} is missing (run `make capi`; `make test` runs it \
             and passes its dist dir as UTMPBOX_CAPI)",
            dir.join(file).display()
        );
    }
    dir
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Libc {
    Glibc,
    Musl,
}

pub const BOTH: [Libc; 2] = [Libc::Glibc, Libc::Musl];

/// A C program of tests/capi/ built for one libc.
pub struct Program {
    pub path: PathBuf,
    pub libc: Libc,
    pub dist: PathBuf,
}

pub fn build(s: &Scratch, source: &str, libc: Libc) -> Program {
    let dist = dist();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/capi")
        .join(source);
    let path = s.path(&format!("{}-{libc:?}", source.trim_end_matches(".c")));
    let mut cmd = match libc {
        Libc::Glibc => peer("gcc"),
        Libc::Musl => peer("musl-gcc"),
    };
    cmd.args(["-Wall", "-Werror", "-o"]).arg(&path).arg(&src);
    if libc == Libc::Musl {
        cmd.arg("-static")
            .arg("-I")
            .arg(dist.join("include"))
            .arg(dist.join("lib/libutmpbox.a"));
    }
    let out = run(&mut cmd, None);
    assert!(
        out.status.success(),
        "building {source} for {libc:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Program { path, libc, dist }
}

impl Program {
    /// The program with `args`, the scratch dir's daemons and files, and
    /// for glibc the library preloaded.
    pub fn cmd(&self, s: &Scratch, args: &[&str]) -> Command {
        let mut cmd = peer(self.path.to_str().unwrap());
        cmd.args(args)
            .env("UTMPBOX_RUNDIR", s.path("run"))
            .env("UTMPBOX_LOGDIR", s.path("log"))
            .env("UTMPX_DEMO_TIME", "1000000000")
            .env("UTMP_DEMO_TIME", "1000000000");
        if self.libc == Libc::Glibc {
            cmd.env("LD_PRELOAD", self.dist.join("lib/libutmpbox.so"));
        }
        cmd
    }

    pub fn run(&self, s: &Scratch, args: &[&str]) -> Output {
        let out = run(&mut self.cmd(s, args), None);
        assert!(
            out.status.code().is_some(),
            "{:?} {args:?} was killed by a signal: {:?}",
            self.libc,
            out.status
        );
        out
    }

    /// Run to success; its stdout.
    pub fn ok(&self, s: &Scratch, args: &[&str]) -> String {
        let out = self.run(s, args);
        assert!(
            out.status.success(),
            "{:?} {args:?}: exit {:?}\n{}{}",
            self.libc,
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}
