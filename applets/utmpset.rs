//! utmpset: write accounting records through utmpd and wtmpd, for init
//! systems, login scripts and session wrappers.
//!
//! ```text
//! Usage: utmpset [OPTIONS] boot            record this boot (once per boot)
//!        utmpset [OPTIONS] shutdown        record a shutdown in wtmp
//!        utmpset [OPTIONS] runlevel NEW [PREV]
//!        utmpset [OPTIONS] login           a session starts (utmp + wtmp)
//!        utmpset [OPTIONS] logout          a session ends (utmp + wtmp)
//!        utmpset [OPTIONS] fail            a failed login (btmp)
//!        utmpset [OPTIONS] run -- COMMAND [ARG...]
//!                                          a session for COMMAND's lifetime
//!        utmpset wait [-t SECONDS]         until both daemons answer (5 s)
//!        utmpset -a LINE | -d LINE         sysvinit style: add / end LINE
//!        utmpset [-w] LINE                 runit style: end LINE (-w: wtmp too);
//!                                          LINE has a digit or '/', or is in /dev
//!
//! Options: -u USER  -l LINE  -i ID  -H HOST  -A ADDRESS  -p PID
//!          -e STATUS (logout's exit status)  -T SECONDS (record time)
//!          -t MS (deadline per daemon call, 5000; for wait: SECONDS, 5)
//! ```
//!
//! Defaults: USER is the caller's name, LINE the terminal on stdin (without
//! /dev/), ID the last four bytes of LINE (as login and sshd do), PID the
//! parent process (the session's shell: `sh -c 'utmpset login; ...'`
//! records the shell's pid, which utmpd watches to end the session when
//! it exits), the time now. `run` records the
//! login with the command's pid before it starts, forwards signals to it,
//! records the logout with its exit status, and exits as the command did;
//! the command runs even when the daemons are unreachable.
//!
//! Each write waits, within its deadline, for a daemon that is still
//! starting (no socket yet, or refusing), so `wtmpd & utmpd & utmpset
//! boot` needs no wait in between. `wait` is for init scripts that want
//! to know the daemons are up: it returns once each answers a request
//! (`wtmpd & utmpd & utmpset wait -t 5 && utmpset boot`).
//!
//! Exit: 0 done, 1 a daemon refused the record (its reason is printed),
//! 100 usage, 111 a daemon could not be reached.
//!
//! Peers: skarnet utmps-write, sessreg, runit's utmpset, wtmpdb boot.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::sys::signal::{kill, sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::unistd::{execvp, fork, getppid, getuid, pipe2, read, write, ForkResult, Pid};

use crate::front::args::{self, OsArg};
use crate::front::cli;
use crate::front::table::{Command, Kind, Opt};
use crate::protocol::LogDb;
use crate::read::client::{Client, Error};
use crate::record::{ExitStatus, Record, RecordKind};
use crate::sys::{boot, peer};

mod wait;

#[rustfmt::skip]
const COMMAND: Command = Command {
    about: "Write utmp, wtmp and btmp records through utmpd and wtmpd.",
    options: &[
        Opt { long: "user", short: b'u', kind: Kind::Bytes, help: "user name (default: yours)" },
        Opt { long: "line", short: b'l', kind: Kind::Bytes, help: "terminal line without /dev/ (default: stdin's)" },
        Opt { long: "id", short: b'i', kind: Kind::Bytes, help: "the inittab-style id (default: the last 4 bytes of the line)" },
        Opt { long: "host", short: b'H', kind: Kind::Bytes, help: "remote host" },
        Opt { long: "address", short: b'A', kind: Kind::Word, help: "remote address (IPv4 or IPv6)" },
        Opt { long: "pid", short: b'p', kind: Kind::I32, help: "session pid (default: the parent process, i.e. the shell or program that ran utmpset)" },
        Opt { long: "exit", short: b'e', kind: Kind::I16, help: "exit status for a logout" },
        Opt { long: "time", short: b'T', kind: Kind::Word, help: "record time in seconds since the epoch (default: now)" },
        Opt { long: "timeout", short: b't', kind: Kind::Word, help: "deadline in ms for each daemon call (5000); for wait, SECONDS to wait in all (5)" },
        Opt { long: "add", short: b'a', kind: Kind::Bytes, help: "sysvinit: add a LOGIN entry for LINE" },
        Opt { long: "dead", short: b'd', kind: Kind::Bytes, help: "sysvinit: end the session on LINE" },
        Opt { long: "wtmp", short: b'w', kind: Kind::Switch, help: "runit: with LINE, write the logout to wtmp too" },
    ],
    operands: Some(("rest", "the command and its arguments (after `--` for `run`)")),
    help: true,
    notes: "Commands:
  boot                   record this boot (once per boot)
  shutdown               record a shutdown in wtmp
  runlevel NEW [PREV]    record a run-level change
  login                  a session starts (utmp and wtmp)
  logout                 a session ends (utmp and wtmp)
  fail                   a failed login (btmp)
  run -- COMMAND [ARG]   a session for COMMAND's lifetime
  wait                   return once utmpd and wtmpd both answer a
                         request; -t SECONDS in all (default 5)
  LINE                   runit: end LINE in utmp (-w: and in wtmp); LINE
                         has a digit or '/' (tty1, pts/3) or is in /dev

Exit status: 0 done, 1 a daemon refused the record, 100 usage,
111 a daemon could not be reached.",
};

/// The options, with argv gone.
struct Opts {
    user: Option<OsArg>,
    line: Option<OsArg>,
    id: Option<OsArg>,
    host: Option<OsArg>,
    address: Option<String>,
    pid: Option<i32>,
    exit: Option<i16>,
    time: Option<String>,
    timeout: Option<String>,
    add: Option<OsArg>,
    dead: Option<OsArg>,
    wtmp: bool,
}

const USAGE: &str =
    "usage: utmpset [OPTIONS] boot|shutdown|runlevel NEW [PREV]|login|logout|fail|run COMMAND...|wait";

/// A failure already worded for the user, with its exit status.
struct Fail(i32, String);

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    let parsed = match cli::parse(applet, args, &COMMAND, 100) {
        Ok(parsed) => parsed,
        Err(status) => return status,
    };
    let opts = Opts {
        user: parsed.bytes("user"),
        line: parsed.bytes("line"),
        id: parsed.bytes("id"),
        host: parsed.bytes("host"),
        address: parsed.text("address"),
        pid: parsed.number("pid"),
        exit: parsed.number("exit"),
        time: parsed.text("time"),
        timeout: parsed.text("timeout"),
        add: parsed.bytes("add"),
        dead: parsed.bytes("dead"),
        wtmp: parsed.flag("wtmp"),
    };
    let rest: Vec<OsString> = parsed.operands().into_iter().map(|a| a.0).collect();
    match run(&opts, &rest) {
        Ok(status) => status,
        Err(Fail(status, message)) => cli::fail("utmpset", message, status),
    }
}

fn usage(message: &str) -> Fail {
    cli::say(format_args!("utmpset: {message}"));
    Fail(100, USAGE.to_string())
}

fn run(opts: &Opts, rest: &[OsString]) -> Result<i32, Fail> {
    if rest.first().is_some_and(|c| c.as_bytes() == b"wait") && opts.add.is_none() {
        if let Some(extra) = rest.get(1) {
            return Err(usage(&format!(
                "extra operand '{}'",
                extra.to_string_lossy()
            )));
        }
        let text = opts.timeout.as_deref().unwrap_or("5");
        return wait::both(text, wait::seconds(text)?);
    }
    let ms = match opts.timeout.as_deref() {
        None => 5000,
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| usage(&format!("invalid deadline '{}' (ms)", args::shown(text))))?,
    };
    let w = Writer {
        timeout: Duration::from_millis(ms.max(1)),
    };
    if let Some(line) = &opts.add {
        let mut r = session(opts, RecordKind::LoginProcess, Some(line.as_bytes()))?;
        r.user = b"LOGIN".to_vec();
        w.utmp(&r)?;
        return Ok(0);
    }
    if let Some(line) = &opts.dead {
        let r = logout_record(opts, line.as_bytes(), &w)?;
        w.utmp(&r)?;
        w.log(LogDb::Wtmp, &r)?;
        return Ok(0);
    }
    let Some(command) = rest.first() else {
        return Err(usage("missing command"));
    };
    let args = &rest[1..];
    let word = command.as_bytes();
    let no_args = |n: usize| {
        if args.len() > n {
            Err(usage(&format!(
                "extra operand '{}'",
                args[n].to_string_lossy()
            )))
        } else {
            Ok(())
        }
    };
    match word {
        b"boot" => {
            no_args(0)?;
            let time = match time_of(opts)? {
                Some(t) => t,
                None => {
                    boot::boot_time_us().ok_or(Fail(111, "unable to find the boot time".into()))?
                }
            };
            let r = boot::boot_record(time);
            w.utmp(&r)?;
            w.log(LogDb::Wtmp, &r)?;
        }
        b"shutdown" => {
            no_args(0)?;
            let r = tilde_record(opts, RecordKind::RunLevel, b"shutdown", 0)?;
            w.log(LogDb::Wtmp, &r)?;
        }
        b"runlevel" => {
            let level = |a: Option<&OsString>, default: u8| -> Result<i32, Fail> {
                match a.map(|a| a.as_bytes()) {
                    None => Ok(default as i32),
                    Some([c]) if c.is_ascii_alphanumeric() => Ok(*c as i32),
                    Some(_) => Err(usage("a run level is one character, like 3 or S")),
                }
            };
            if args.is_empty() {
                return Err(usage("runlevel needs the new level"));
            }
            no_args(2)?;
            let pid = level(args.first(), b'N')? + 256 * level(args.get(1), b'N')?;
            let r = tilde_record(opts, RecordKind::RunLevel, b"runlevel", pid)?;
            w.utmp(&r)?;
            w.log(LogDb::Wtmp, &r)?;
        }
        b"login" => {
            no_args(0)?;
            let r = session(opts, RecordKind::UserProcess, None)?;
            w.utmp(&r)?;
            w.log(LogDb::Wtmp, &r)?;
        }
        b"logout" => {
            no_args(0)?;
            let line = line_of(opts, None)?;
            let r = logout_record(opts, &line, &w)?;
            w.utmp(&r)?;
            w.log(LogDb::Wtmp, &r)?;
        }
        b"fail" => {
            no_args(0)?;
            let r = session(opts, RecordKind::LoginProcess, None)?;
            w.log(LogDb::Btmp, &r)?;
        }
        b"run" => {
            let argv = match args.first().map(|a| a.as_bytes()) {
                Some(b"--") => &args[1..],
                _ => args,
            };
            if argv.is_empty() {
                return Err(usage("run needs a command"));
            }
            return run_session(opts, &w, argv);
        }
        line if args.is_empty() && looks_like_a_line(line) => {
            // runit's `utmpset [-w] LINE`.
            let r = logout_record(opts, line, &w)?;
            w.utmp(&r)?;
            if opts.wtmp {
                w.log(LogDb::Wtmp, &r)?;
            }
        }
        _ => {
            return Err(usage(&format!(
                "unknown command '{}'",
                command.to_string_lossy()
            )))
        }
    }
    Ok(0)
}

/// Whether a word that is no command is runit's LINE: it must look like a
/// terminal line (a digit or a '/': tty1, ttyS0, pts/3, /dev/console) or
/// name an entry in /dev (console). A mistyped command (`lgoin`) is then
/// a usage error, not a logout for a line of that name.
fn looks_like_a_line(word: &[u8]) -> bool {
    if word.is_empty() || word.starts_with(b"-") {
        return false;
    }
    if word.contains(&b'/') || word.iter().any(u8::is_ascii_digit) {
        return true;
    }
    word != b"."
        && word != b".."
        && std::fs::symlink_metadata(std::path::Path::new("/dev").join(OsStr::from_bytes(word)))
            .is_ok()
}

/// Sends records with a deadline and words the failures. Each call waits
/// for a daemon that is still starting (`Client::connect_waiting`).
struct Writer {
    timeout: Duration,
}

impl Writer {
    fn utmp(&self, record: &Record) -> Result<Record, Fail> {
        Client::utmpd_waiting(self.timeout)
            .and_then(|mut c| c.utmp_put(record))
            .map_err(|e| explain("utmpd", e))
    }

    fn log(&self, db: LogDb, record: &Record) -> Result<(), Fail> {
        Client::wtmpd_waiting(self.timeout)
            .and_then(|mut c| c.log_append(db, record))
            .map_err(|e| explain("wtmpd", e))
    }

    fn utmp_line(&self, line: &[u8]) -> Option<Record> {
        Client::utmpd_waiting(self.timeout)
            .and_then(|mut c| c.utmp_get_line(line))
            .ok()
            .flatten()
    }
}

fn explain(daemon: &str, e: Error) -> Fail {
    match e {
        Error::NoDaemon(io) => Fail(
            111,
            format!(
                "fatal: unable to reach {daemon} at {}: {}",
                if daemon == "utmpd" {
                    crate::read::sources::utmpd_socket()
                } else {
                    crate::read::sources::wtmpd_socket()
                }
                .display(),
                cli::os_reason(&io)
            ),
        ),
        Error::Refused { message, .. } => {
            Fail(1, format!("{daemon} refused the record: {message}"))
        }
        other => Fail(111, format!("fatal: {daemon}: {other}")),
    }
}

fn time_of(opts: &Opts) -> Result<Option<i64>, Fail> {
    let Some(text) = &opts.time else {
        return Ok(None);
    };
    let text = text.strip_prefix('@').unwrap_or(text);
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let bad = || {
        let shown = args::shown(text);
        usage(&format!("invalid time '{shown}' (seconds since the epoch)"))
    };
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let micros: i64 = format!("{frac:0<6}").parse().map_err(|_| bad())?;
    let us = secs
        .checked_mul(1_000_000)
        .and_then(|s| s.checked_add(if secs < 0 { -micros } else { micros }))
        .ok_or_else(bad)?;
    Ok(Some(us))
}

fn now_or(opts: &Opts) -> Result<i64, Fail> {
    Ok(time_of(opts)?.unwrap_or_else(crate::sys::time::now_us))
}

/// The terminal: -l, else stdin's, without /dev/.
fn line_of(opts: &Opts, given: Option<&[u8]>) -> Result<Vec<u8>, Fail> {
    if let Some(line) = given.or(opts.line.as_ref().map(OsArg::as_bytes)) {
        return Ok(line.strip_prefix(b"/dev/").unwrap_or(line).to_vec());
    }
    crate::sys::tty::stdin_line()
        .ok_or_else(|| usage("stdin is not a terminal; name the line with -l LINE"))
}

fn id_of(opts: &Opts, line: &[u8]) -> Vec<u8> {
    match &opts.id {
        Some(id) => id.as_bytes().to_vec(),
        None => line[line.len().saturating_sub(4)..].to_vec(),
    }
}

fn addr_of(opts: &Opts) -> Result<[u8; 16], Fail> {
    match &opts.address {
        // The record module's inet_pton-strict reader (one parser in the
        // binary, not std's too); it reads "" as no address, -a does not.
        Some(text) => match crate::record::inet::parse(text.as_bytes()) {
            Some(addr) if !text.is_empty() => Ok(addr),
            _ => Err(usage(&format!("invalid address '{}'", args::shown(text)))),
        },
        None => Ok([0u8; 16]),
    }
}

fn my_name() -> Result<Vec<u8>, Fail> {
    let uid = getuid().as_raw();
    peer::user_by_uid(uid)
        .map(|u| u.name)
        .ok_or_else(|| Fail(111, format!("uid {uid} has no user name; give -u USER")))
}

/// A login, a failed login or a LOGIN entry from the options.
fn session(opts: &Opts, kind: RecordKind, line: Option<&[u8]>) -> Result<Record, Fail> {
    let line = line_of(opts, line)?;
    let user = match &opts.user {
        Some(u) => u.as_bytes().to_vec(),
        None => my_name()?,
    };
    Ok(Record {
        kind,
        pid: opts.pid.unwrap_or_else(|| getppid().as_raw()),
        id: id_of(opts, &line),
        line,
        user,
        host: opts
            .host
            .as_ref()
            .map_or(Vec::new(), |h| h.as_bytes().to_vec()),
        addr: addr_of(opts)?,
        time_us: now_or(opts)?,
        ..Record::default()
    })
}

/// A logout for `line`: the id and pid of its current entry unless given.
fn logout_record(opts: &Opts, line: &[u8], w: &Writer) -> Result<Record, Fail> {
    let line = line.strip_prefix(b"/dev/").unwrap_or(line).to_vec();
    let current = w.utmp_line(&line);
    let id = match (&opts.id, &current) {
        (Some(id), _) => id.as_bytes().to_vec(),
        (None, Some(entry)) => entry.id.clone(),
        (None, None) => id_of(opts, &line),
    };
    Ok(Record {
        kind: RecordKind::DeadProcess,
        pid: opts.pid.or(current.as_ref().map(|c| c.pid)).unwrap_or(0),
        id,
        line,
        exit: ExitStatus {
            termination: 0,
            exit: opts.exit.unwrap_or(0),
        },
        time_us: now_or(opts)?,
        ..Record::default()
    })
}

/// Boot, run-level and shutdown records: line "~", id "~~".
fn tilde_record(opts: &Opts, kind: RecordKind, user: &[u8], pid: i32) -> Result<Record, Fail> {
    Ok(Record {
        kind,
        pid,
        line: b"~".to_vec(),
        id: b"~~".to_vec(),
        user: user.to_vec(),
        host: boot::kernel_release(),
        time_us: now_or(opts)?,
        ..Record::default()
    })
}

static CHILD: AtomicI32 = AtomicI32::new(0);

/// Forward a signal to the command, unless the terminal already sent it
/// to the whole process group (the command got its own copy).
extern "C" fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: info is valid in an SA_SIGINFO handler.
    if !info.is_null() && unsafe { (*info).si_code } == libc::SI_KERNEL {
        return;
    }
    let child = CHILD.load(Ordering::Relaxed);
    // kill is async-signal-safe.
    if let (true, Ok(sig)) = (child > 0, Signal::try_from(sig)) {
        let _ = kill(Pid::from_raw(child), sig);
    }
}

const FORWARDED: [Signal; 8] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
    Signal::SIGALRM,
];

/// `run`: login with the command's pid before it starts, logout with its
/// exit status after.
fn run_session(opts: &Opts, w: &Writer, argv: &[OsString]) -> Result<i32, Fail> {
    let mut login = session(opts, RecordKind::UserProcess, None)?;
    let cargs: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<Result<_, _>>()
        .map_err(|_| usage("an argument contains a NUL byte"))?;
    let (gate_out, gate_in) =
        pipe2(OFlag::O_CLOEXEC).map_err(|_| Fail(111, "fatal: unable to create a pipe".into()))?;
    // SAFETY: fork in a single-threaded process; the child only waits on
    // the gate and execs (or _exits).
    let pid = match unsafe { fork() } {
        Err(_) => return Err(Fail(111, "fatal: unable to fork".into())),
        Ok(ForkResult::Parent { child }) => child.as_raw(),
        Ok(ForkResult::Child) => {
            drop(gate_in);
            let _ = read(&gate_out, &mut [0u8]);
            let _ = execvp(&cargs[0], &cargs);
            let _ = write(std::io::stderr(), b"utmpset: unable to run the command\n");
            // Raw libc: nix has no _exit, and exit would run the parent's
            // exit handlers in the child. SAFETY: ends this process.
            unsafe { libc::_exit(127) }
        }
    };
    CHILD.store(pid, Ordering::Relaxed);
    let action = SigAction::new(
        SigHandler::SigAction(forward),
        SaFlags::SA_SIGINFO | SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for sig in FORWARDED {
        // SAFETY: the handler only reads its siginfo and calls kill.
        let _ = unsafe { sigaction(sig, &action) };
    }
    drop(gate_out);
    login.pid = pid;
    let logged_in = match w.utmp(&login).and_then(|_| w.log(LogDb::Wtmp, &login)) {
        Ok(()) => true,
        Err(Fail(_, why)) => {
            cli::say(format_args!(
                "utmpset: warning: session not recorded: {why}"
            ));
            false
        }
    };
    // Closing the gate lets the child exec.
    drop(gate_in);
    let mut status = 0;
    loop {
        // Raw libc: nix's WaitStatus has no real-time signals, so a
        // command they kill would lose its status. SAFETY: waiting for
        // our own child into a status we own.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        if rc < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Err(Fail(111, "fatal: unable to wait for the command".into()));
        }
    }
    let (termination, code, exit_status) = if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        (sig as i16, 0i16, 128 + sig)
    } else {
        let code = libc::WEXITSTATUS(status);
        (0, code as i16, code)
    };
    if logged_in {
        let logout = Record {
            kind: RecordKind::DeadProcess,
            pid,
            line: login.line.clone(),
            id: login.id.clone(),
            exit: ExitStatus {
                termination,
                exit: code,
            },
            time_us: crate::sys::time::now_us(),
            ..Record::default()
        };
        if let Err(Fail(_, why)) = w.utmp(&logout).and_then(|_| w.log(LogDb::Wtmp, &logout)) {
            cli::say(format_args!("utmpset: warning: logout not recorded: {why}"));
        }
    }
    Ok(exit_status)
}
