//! utmpdump: utmp/wtmp/btmp files as text, and text back into files.
//!
//! ```text
//! Usage:
//!  utmpdump [options] [filename]
//!
//! Dump UTMP and WTMP files in raw format.
//!
//! Options:
//!  -f, --follow         output appended data as the file grows
//!  -r, --reverse        write back dumped data into utmp file
//!  -o, --output <file>  write to file instead of standard output
//!      --format <name>  what -r writes: glibc (default), utmpx or native
//!  -h, --help           display this help
//!  -V, --version        display version
//! ```
//!
//! Peer: util-linux 2.38.1 `utmpdump`. A glibc file dumps to exactly the
//! bytes it prints (stdout and the `Utmp dump of FILE` line on stderr), and
//! `-r` writes exactly the glibc bytes it writes for the same text.
//!
//! Beyond the peer: any format utmpbox reads can be dumped (native, glibc
//! 384-byte, utmpx 400-byte, detected by content), and `--format` chooses
//! what `-r` writes, so `utmpdump wtmp | utmpdump -r --format native -o
//! wtmp.native` migrates a legacy file losslessly. Deliberate differences
//! (docs/COMPAT.md): a text line it cannot read exactly, or a value the
//! target format cannot hold (a time after 2038 in glibc), is an error
//! naming the line, and nothing is written; `-o` writes a temporary file
//! and renames it, so a failed run never leaves half a file; a partial
//! record at the end of a file, or a corrupt native record, is reported on
//! stderr instead of being skipped silently.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use nix::sys::stat::fstat;

mod follow;
mod outfile;

use crate::front::args;
use crate::front::cli;
use crate::front::table::{Command, Kind, Opt};
use crate::read::logfile::{self, Geometry, LogFile};
use crate::record::{self, legacy, native, text, Format, FormatError, Record};
use crate::sys::infile;
use outfile::OutFile;

const HELP: &str = "
Usage:
 utmpdump [options] [filename]

Dump UTMP and WTMP files in raw format.

Options:
 -f, --follow         output appended data as the file grows
 -r, --reverse        write back dumped data into utmp file
 -o, --output <file>  write to file instead of standard output
     --format <name>  what -r writes: glibc (default), utmpx or native
 -h, --help           display this help
 -V, --version        display version

For more details see utmpdump(1).
";

/// Its help is `HELP`, answered before the walk: `--help` and `help`
/// are no help triggers here, so this table gives only the options.
#[rustfmt::skip]
const COMMAND: Command = Command {
    about: "Dump UTMP and WTMP files in raw format.",
    options: &[
        Opt { long: "follow", short: b'f', kind: Kind::Switch, help: "" },
        Opt { long: "reverse", short: b'r', kind: Kind::Switch, help: "" },
        Opt { long: "output", short: b'o', kind: Kind::Bytes, help: "" },
        Opt { long: "format", short: 0, kind: Kind::Word, help: "" },
    ],
    // Later files are ignored, as util-linux does.
    operands: Some(("files", "")),
    help: false,
    notes: "",
};

/// What to do, with argv gone.
struct Job {
    reverse: bool,
    follow: bool,
    input: Option<PathBuf>,
    output: Option<PathBuf>,
    format: Format,
}

pub fn main(applet: &str, args: &[OsString]) -> i32 {
    if wants_help(args) {
        return cli::print_all(applet, HELP.as_bytes());
    }
    // -V and --version are answered by cli::parse.
    let opts = match cli::parse(applet, args, &COMMAND, 1) {
        Ok(opts) => opts,
        Err(status) => return status,
    };
    let format = match opts.text("format").as_deref() {
        None => Format::Glibc,
        Some(name) => match Format::from_name(name) {
            Some(format) => format,
            None => {
                let name = crate::front::args::shown(name);
                let message = format!("unknown format '{name}' (glibc, utmpx or native)");
                return cli::usage_error(applet, &message, 1);
            }
        },
    };
    let job = Job {
        reverse: opts.flag("reverse"),
        follow: opts.flag("follow"),
        input: opts.operands().into_iter().next().map(PathBuf::from),
        output: opts.bytes("output").map(PathBuf::from),
        format,
    };
    run(applet, &job)
}

/// `-h` or `--help` anywhere before `--`, not as the value of an option:
/// answered before the walk so the text is util-linux's layout.
fn wants_help(args: &[OsString]) -> bool {
    let Ok(normalised) = args::normalise(args, COMMAND.options) else {
        return false;
    };
    let mut strings = normalised.strings.iter();
    while let Some(arg) = strings.next() {
        match arg.as_str() {
            "--" => return false,
            "-h" | "--help" => return true,
            "-o" | "--output" | "--format" => {
                strings.next();
            }
            _ => {}
        }
    }
    false
}

fn run(applet: &str, job: &Job) -> i32 {
    if job.follow && job.input.is_none() {
        return cli::fail(applet, "following standard input is unsupported", 1);
    }
    let name: &[u8] = match &job.input {
        Some(path) => path.as_os_str().as_bytes(),
        None => b"/dev/stdin",
    };
    if job.reverse {
        let input = match read_text(job.input.as_deref()) {
            Ok(bytes) => bytes,
            Err(e) => return fail_on(applet, b"cannot open ", name, &cli::os_reason(&e)),
        };
        say(&[b"Utmp undump of ", name]);
        let bytes = match undump(&input, job.format) {
            Ok(bytes) => bytes,
            Err(message) => return fail_on(applet, b"", name, &message),
        };
        return write_all(applet, job.output.as_deref(), &bytes);
    }
    let (input, len) = match open_input(job.input.as_deref()) {
        Ok(input) => input,
        Err(e) => return fail_on(applet, b"cannot open ", name, &cli::os_reason(&e)),
    };
    say(&[b"Utmp dump of ", name]);
    if let (true, Some(path)) = (job.follow, &job.input) {
        return follow(applet, path, job.output.as_deref());
    }
    dump(applet, name, input, len, job.output.as_deref())
}

/// Dump a whole file, record by record, read in chunks and written
/// through a 64 KiB buffer: memory stays flat whatever the input's size.
fn dump(
    applet: &str,
    name: &[u8],
    input: impl Read,
    len: Option<u64>,
    output: Option<&Path>,
) -> i32 {
    let mut sink = match Sink::open(output) {
        Ok(sink) => sink,
        Err((what, path, e)) => return fail_on(applet, what, path, &cli::os_reason(&e)),
    };
    let mut corrupt = 0u64;
    let mut failed = None;
    let mut text = Vec::with_capacity(72 * 1024);
    let scanned = logfile::scan(input, len, |geometry, index, raw| {
        match geometry.decode(raw) {
            Some(record) => text::format_line(&record, &mut text),
            None => {
                report_corrupt(applet, name, index);
                corrupt += 1;
            }
        }
        if text.len() >= 64 * 1024 {
            if let Err(e) = sink.write_all(&text) {
                failed = Some(e);
                return false;
            }
            text.clear();
        }
        true
    });
    if let Some(e) = failed {
        return sink.fail(applet, &e);
    }
    let scanned = match scanned {
        Ok(scanned) => scanned,
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            return fail_on(applet, b"", name, &e.to_string())
        }
        Err(e) => return fail_on(applet, b"cannot read ", name, &cli::os_reason(&e)),
    };
    let status = match sink.write_all(&text) {
        Ok(()) => sink.finish(applet),
        Err(e) => sink.fail(applet, &e),
    };
    if scanned.trailing > 0 {
        let path = Path::new(std::ffi::OsStr::from_bytes(name));
        record::say_trailing(applet, path, scanned.trailing);
    }
    if status == 0 && corrupt > 0 {
        1
    } else {
        status
    }
}

/// Where output goes: stdout, or `-o FILE` through a temporary file.
enum Sink {
    Stdout(cli::Output),
    File(OutFile, PathBuf),
}

type OpenError<'a> = (&'static [u8], &'a [u8], io::Error);

impl Sink {
    fn open(output: Option<&Path>) -> Result<Sink, OpenError<'_>> {
        match output {
            None => Ok(Sink::Stdout(cli::Output::new())),
            Some(path) => match OutFile::create(path) {
                Ok(file) => Ok(Sink::File(file, path.to_path_buf())),
                Err(e) => Err((b"cannot open ", path.as_os_str().as_bytes(), e)),
            },
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.write(bytes),
            Sink::File(file, _) => file.write_all(bytes),
        }
    }

    /// Flush (and put the file in place); the exit status.
    fn finish(self, applet: &str) -> i32 {
        match self {
            Sink::Stdout(out) => out.finish(applet),
            Sink::File(file, path) => match file.commit() {
                Ok(()) => 0,
                Err(e) => write_failed(applet, &path, &e),
            },
        }
    }

    fn fail(&self, applet: &str, e: &io::Error) -> i32 {
        match self {
            Sink::Stdout(_) => {
                let reason = cli::os_reason(e);
                cli::fail(applet, format_args!("write error: {reason}"), 1)
            }
            Sink::File(_, path) => write_failed(applet, path, e),
        }
    }
}

/// One line on stderr from byte pieces: file names need not be UTF-8 and
/// are printed as they are, as the C tools print them.
fn say(parts: &[&[u8]]) {
    let mut line = parts.concat();
    line.push(b'\n');
    let _ = io::stderr().write_all(&line);
}

/// `applet: WHAT NAME: reason` (WHAT may be empty), and exit status 1.
fn fail_on(applet: &str, what: &[u8], name: &[u8], reason: &str) -> i32 {
    say(&[
        applet.as_bytes(),
        b": ",
        what,
        name,
        b": ",
        reason.as_bytes(),
    ]);
    1
}

fn write_failed(applet: &str, path: &Path, e: &io::Error) -> i32 {
    fail_on(
        applet,
        b"cannot write ",
        path.as_os_str().as_bytes(),
        &cli::os_reason(e),
    )
}

fn report_corrupt(applet: &str, name: &[u8], index: u64) {
    record::say_corrupt(applet, Path::new(std::ffi::OsStr::from_bytes(name)), index);
}

/// The binary input to dump and its length when known: a named file
/// (regular only: a FIFO or a device is refused, never read), or standard
/// input, which may be a pipe.
fn open_input(path: Option<&Path>) -> io::Result<(Input, Option<u64>)> {
    match path {
        Some(path) => {
            let file = infile::open(path)?;
            let len = file.metadata()?.len();
            Ok((Input::File(file), Some(len)))
        }
        None => {
            let len = fstat(io::stdin())
                .ok()
                .filter(|st| st.st_mode & libc::S_IFMT == libc::S_IFREG)
                .map(|st| st.st_size as u64);
            Ok((Input::Stdin(io::stdin().lock()), len))
        }
    }
}

/// A file or standard input. An enum, not a `Box<dyn Read>`: a trait
/// object links every `Read` method of both types (their read_to_end and
/// read_to_string among them), and only `read` is used.
enum Input {
    File(std::fs::File),
    Stdin(io::StdinLock<'static>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::File(file) => file.read(buf),
            Input::Stdin(stdin) => stdin.read(buf),
        }
    }
}

/// The text to undump: a named regular file, or standard input.
fn read_text(path: Option<&Path>) -> io::Result<Vec<u8>> {
    match path {
        Some(path) => infile::read(path),
        None => {
            let mut bytes = Vec::new();
            infile::read_to_end(&mut io::stdin().lock(), &mut bytes)?;
            Ok(bytes)
        }
    }
}

/// Text to a whole file of `format`, or a one-line reason naming the line.
/// Blank lines are skipped (util-linux warns "parse error" and skips them).
fn undump(input: &[u8], format: Format) -> Result<Vec<u8>, String> {
    let lines = input.iter().filter(|&&b| b == b'\n').count() + 1;
    let size = match format {
        Format::Native => native::RECORD_SIZE,
        Format::Glibc => legacy::Layout::GLIBC.size,
        Format::Utmpx => legacy::Layout::UTMPX.size,
    };
    let mut out = Vec::with_capacity(lines * size + native::HEADER_SIZE);
    if format == Format::Native {
        out.extend_from_slice(&native::header(native::FileKind::Log));
    }
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    if body.is_empty() {
        return Ok(out);
    }
    for (index, line) in body.split(|&b| b == b'\n').enumerate() {
        let lineno = index as u64 + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = text::parse_line(line, lineno).map_err(|e| e.to_string())?;
        let encoded = encode(&record, format).map_err(|e| explain(&e, lineno, format))?;
        out.extend_from_slice(&encoded);
    }
    Ok(out)
}

fn encode(record: &Record, format: Format) -> Result<Vec<u8>, FormatError> {
    match format {
        Format::Native => native::encode(record).map(|r| r.to_vec()),
        Format::Glibc => legacy::encode(record, legacy::Layout::GLIBC),
        Format::Utmpx => legacy::encode(record, legacy::Layout::UTMPX),
    }
}

/// Why a parsed line does not fit the format it is written in.
fn explain(e: &FormatError, lineno: u64, format: Format) -> String {
    match e {
        FormatError::TimeOutOfRange { time_us } => {
            let mut when = Vec::new();
            text::format_time(*time_us, &mut when);
            format!(
                "line {lineno}: time {} does not fit the {} format (1901-12-13 to 2038-01-19); use --format utmpx or native",
                String::from_utf8_lossy(&when),
                format.name()
            )
        }
        FormatError::FieldTooLong { field, len, max } => format!(
            "line {lineno}: {field} is {len} bytes, the {} format holds at most {max}",
            format.name()
        ),
        other => format!("line {lineno}: {other}"),
    }
}

/// Write everything to stdout, or to `-o FILE` through a temporary file.
fn write_all(applet: &str, output: Option<&Path>, bytes: &[u8]) -> i32 {
    let mut sink = match Sink::open(output) {
        Ok(sink) => sink,
        Err((what, path, e)) => return fail_on(applet, what, path, &cli::os_reason(&e)),
    };
    match sink.write_all(bytes) {
        Ok(()) => sink.finish(applet),
        Err(e) => sink.fail(applet, &e),
    }
}

/// At most this much is read per wake of `-f`.
const FOLLOW_CHUNK: usize = 1024 * native::RECORD_SIZE;

/// `-f`: the last ten records, then every record appended, until the file
/// is removed or renamed. Output goes straight to `-o FILE` here (there is
/// no end at which to rename a temporary file).
fn follow(applet: &str, path: &Path, output: Option<&Path>) -> i32 {
    let name = path.as_os_str().as_bytes();
    let log = match LogFile::open(path) {
        Ok(log) => log,
        Err(e) if e.kind() == io::ErrorKind::InvalidData => {
            return fail_on(applet, b"", name, &e.to_string())
        }
        Err(e) => return fail_on(applet, b"cannot open ", name, &cli::os_reason(&e)),
    };
    let Geometry { format, base, size } = log.geometry;
    // The last ten records: before a native log's reserve, if it has one.
    let end = match log.used_end() {
        Ok(end) => end as usize,
        Err(e) => return fail_on(applet, b"cannot read ", name, &cli::os_reason(&e)),
    };
    drop(log);
    let mut out = match output {
        None => follow::Out::Stdout(cli::Output::new()),
        Some(out_path) => match File::create(out_path) {
            Ok(file) => follow::Out::File(io::BufWriter::new(file)),
            Err(e) => {
                let out_name = out_path.as_os_str().as_bytes();
                return fail_on(applet, b"cannot open ", out_name, &cli::os_reason(&e));
            }
        },
    };
    let whole = |len: usize| base + len.saturating_sub(base) / size * size;
    let mut pos = end.saturating_sub(10 * size).max(base);
    let mut watch = follow::Watch::new(path);
    let geometry = Geometry { format, base, size };
    loop {
        let chunk = match read_from(path, pos as u64) {
            Ok(chunk) => chunk,
            Err(_) => return 0,
        };
        let mut used = records_of(&chunk, format, size);
        // Before a native log's reserve, a record that fails its checksum
        // may be one being written right now: read it again next time.
        if used.len() < chunk.len() - chunk.len() % size {
            if let Some(last) = used.len().checked_sub(size) {
                if native::decode(&used[last..]).is_none() {
                    used = &used[..last];
                }
            }
        }
        let mut text = Vec::new();
        for (i, raw) in used.chunks_exact(size).enumerate() {
            let index = ((pos - base) / size + i) as u64;
            match geometry.decode(raw) {
                Some(record) => text::format_line(&record, &mut text),
                None => report_corrupt(applet, name, index),
            }
        }
        pos += used.len();
        if let Err(e) = out.send(&text) {
            let reason = cli::os_reason(&e);
            return cli::fail(applet, format_args!("write error: {reason}"), 1);
        }
        if used.len() == FOLLOW_CHUNK {
            // More was there than one read takes: no need to wait.
            continue;
        }
        // wtmpd writes native records into the reserve without growing
        // the file: wake on any write, not on growth.
        let change = match format {
            Format::Native => watch.wait_write(pos as u64),
            _ => watch.wait(pos as u64, (pos + size) as u64),
        };
        match change {
            follow::Change::Grew => {}
            follow::Change::Shrank(len) => pos = whole(len as usize),
            follow::Change::Gone => return 0,
        }
    }
}

/// The whole records of `body` that hold records: for a native log, not
/// the run of zero records (its reserve of free space) at the end.
fn records_of(body: &[u8], format: Format, size: usize) -> &[u8] {
    match format {
        Format::Native => &body[..native::used_len(body)],
        _ => &body[..body.len() - body.len() % size],
    }
}

/// Up to `FOLLOW_CHUNK` bytes of `path` from `pos`: opened again each time
/// (it may have been replaced), and a regular file only.
fn read_from(path: &Path, pos: u64) -> io::Result<Vec<u8>> {
    let file = infile::open(path)?;
    let mut bytes = vec![0u8; FOLLOW_CHUNK];
    let got = infile::read_full_at(&file, &mut bytes, pos)?;
    bytes.truncate(got);
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn help_is_found_but_not_in_values() {
        assert!(wants_help(&os(&["-h"])));
        assert!(wants_help(&os(&["-rh"])));
        assert!(wants_help(&os(&["--he"])));
        assert!(!wants_help(&os(&["-o", "-h"])));
        assert!(!wants_help(&os(&["--format", "-h"])));
        assert!(!wants_help(&os(&["--", "-h"])));
        assert!(!wants_help(&os(&["file"])));
    }

    #[test]
    fn help_is_the_usage_in_the_doc_block() {
        // The usage text is written twice (the //! block and HELP): keep
        // them the same.
        let source = include_str!("utmpdump.rs");
        for line in HELP
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("For more"))
        {
            let doc = format!("//! {line}").trim_end().to_string();
            assert!(
                source.lines().any(|l| l == doc),
                "{line:?} not in the //! block"
            );
        }
    }

    #[test]
    fn undump_names_the_line_that_does_not_fit() {
        let ok = "[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [0.0.0.0        ] [2026-11-20T09:15:00,000000+00:00]\n";
        let late = "[7] [01234] [ts/0] [alice   ] [pts/0       ] [h                   ] [0.0.0.0        ] [2040-11-20T09:15:00,000000+00:00]\n";
        let text = format!("{ok}\n{late}");
        let err = undump(text.as_bytes(), Format::Glibc).unwrap_err();
        assert_eq!(
            err,
            "line 3: time 2040-11-20T09:15:00,000000+00:00 does not fit the glibc format (1901-12-13 to 2038-01-19); use --format utmpx or native"
        );
        assert_eq!(undump(text.as_bytes(), Format::Utmpx).unwrap().len(), 800);
        let native = undump(text.as_bytes(), Format::Native).unwrap();
        assert_eq!(native.len(), native::HEADER_SIZE + 2 * native::RECORD_SIZE);
        assert_eq!(undump(b"", Format::Glibc).unwrap(), b"");
    }
}
