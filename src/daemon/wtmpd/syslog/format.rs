//! One wtmp or btmp record as one syslog message (docs/SYSLOG.md): RFC
//! 5424 with the record's fields as structured data `utmp@32473`, or RFC
//! 3164 with them as key="value" after the text. A pure function of the
//! record and its context, so a replayed record reads as it did live
//! (the MSGID is its stable id).

use crate::record::{inet, Record, RecordKind};

/// The documentation enterprise number (RFC 5612) until a real one exists.
pub const SD_ID: &str = "utmp@32473";
/// authpriv (10), as login(1) and sshd log.
const FACILITY: u8 = 10;
const INFO: u8 = 6;
const NOTICE: u8 = 5;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Rfc5424,
    Rfc3164,
}

impl Format {
    pub fn from_name(name: &str) -> Option<Format> {
        match name {
            "5424" => Some(Format::Rfc5424),
            "3164" => Some(Format::Rfc3164),
            _ => None,
        }
    }
}

/// What a message says besides the record: who sends it, from where.
pub struct Context {
    pub format: Format,
    /// This machine's name (printable ASCII, at most 255 bytes), or "-".
    pub hostname: Vec<u8>,
    pub pid: u32,
    /// This boot's id and start (µs), for the boot_id of records made
    /// during it; a record from before it carries no boot_id.
    pub boot_id: Option<Vec<u8>>,
    pub boot_us: i64,
    /// The local time of a 3164 timestamp, `Mmm dd hh:mm:ss`.
    pub local_stamp: fn(i64) -> Vec<u8>,
}

/// Where a record comes from, and what only its neighbours tell.
pub struct Origin<'a> {
    pub btmp: bool,
    /// The stable id: database, index and checksum (`wtmp-12-89abcdef`).
    pub msgid: &'a str,
    /// A boot record after a boot that never shut down.
    pub after_crash: bool,
}

/// `DB-INDEX-CRC`: at most 31 printable ASCII characters (an index is
/// below 2^55 for any file the kernel can hold, 17 digits), the same on
/// every replay, and different after a rotation restarts the indexes.
pub fn msgid(btmp: bool, index: u64, crc: u32) -> String {
    let db = if btmp { "btmp" } else { "wtmp" };
    format!("{db}-{index}-{crc:08x}")
}

fn is_shutdown(r: &Record) -> bool {
    r.kind == RecordKind::RunLevel && r.user == b"shutdown"
}

pub fn is_boot(r: &Record) -> bool {
    r.kind == RecordKind::BootTime || (r.line == b"~" && r.user == b"reboot")
}

/// The record's ut_type as utmp.h names it.
fn kind_name(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Empty => "EMPTY",
        RecordKind::RunLevel => "RUN_LVL",
        RecordKind::BootTime => "BOOT_TIME",
        RecordKind::NewTime => "NEW_TIME",
        RecordKind::OldTime => "OLD_TIME",
        RecordKind::InitProcess => "INIT_PROCESS",
        RecordKind::LoginProcess => "LOGIN_PROCESS",
        RecordKind::UserProcess => "USER_PROCESS",
        RecordKind::DeadProcess => "DEAD_PROCESS",
        RecordKind::Accounting => "ACCOUNTING",
        RecordKind::Other(_) => "OTHER",
    }
}

/// Append one message (without transport framing) to `out`.
pub fn message(record: &Record, origin: &Origin, ctx: &Context, out: &mut Vec<u8>) {
    let notice = origin.btmp || origin.after_crash;
    let pri = FACILITY * 8 + if notice { NOTICE } else { INFO };
    out.push(b'<');
    out.extend_from_slice(pri.to_string().as_bytes());
    out.push(b'>');
    match ctx.format {
        Format::Rfc5424 => {
            out.extend_from_slice(b"1 ");
            if !rfc3339(record.time_us, out) {
                out.push(b'-');
            }
            out.push(b' ');
            out.extend_from_slice(&ctx.hostname);
            out.extend_from_slice(
                format!(" wtmpd {} {} [{SD_ID}", ctx.pid, origin.msgid).as_bytes(),
            );
            for_each_field(record, ctx, |name, value| {
                out.push(b' ');
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"=\"");
                escape(value, b"\"\\]", out);
                out.push(b'"');
            });
            out.extend_from_slice(b"] ");
            summary(record, origin, out);
        }
        Format::Rfc3164 => {
            out.extend_from_slice(&(ctx.local_stamp)(record.time_secs()));
            out.push(b' ');
            out.extend_from_slice(&ctx.hostname);
            out.extend_from_slice(format!(" wtmpd[{}]: ", ctx.pid).as_bytes());
            summary(record, origin, out);
            out.extend_from_slice(b" msgid=");
            out.extend_from_slice(origin.msgid.as_bytes());
            for_each_field(record, ctx, |name, value| {
                out.push(b' ');
                out.extend_from_slice(name.as_bytes());
                out.extend_from_slice(b"=\"");
                escape(value, b"\"\\", out);
                out.push(b'"');
            });
        }
    }
}

/// The structured fields, in a fixed order; every one is present (empty
/// when the record has nothing there) except boot_id, which only records
/// made during this boot carry.
fn for_each_field(record: &Record, ctx: &Context, mut put: impl FnMut(&str, &[u8])) {
    put("type", kind_name(record.kind).as_bytes());
    put("user", &record.user);
    put("line", &record.line);
    put("id", &record.id);
    put("host", &record.host);
    let mut address = Vec::new();
    if record.addr != [0; 16] {
        inet::format(&record.addr, &mut address);
    }
    put("address", &address);
    put("pid", record.pid.to_string().as_bytes());
    put("session", record.session.to_string().as_bytes());
    put(
        "termination",
        record.exit.termination.to_string().as_bytes(),
    );
    put("exit", record.exit.exit.to_string().as_bytes());
    let mut time = Vec::new();
    if !rfc3339(record.time_us, &mut time) {
        time.extend_from_slice(record.time_us.to_string().as_bytes());
    }
    put("time", &time);
    if let Some(id) = &ctx.boot_id {
        // Two seconds of slack: the boot time is derived from two clocks.
        if record.time_us >= ctx.boot_us - 2_000_000 {
            put("boot_id", id);
        }
    }
}

/// The short human text: `login alice on pts/3 from example.org`.
fn summary(record: &Record, origin: &Origin, out: &mut Vec<u8>) {
    let mut words: Vec<&[u8]> = Vec::new();
    let runlevel;
    if origin.btmp {
        words.extend([&b"failed login"[..], &record.user]);
    } else if is_boot(record) {
        words.push(if origin.after_crash {
            b"boot after a crash, kernel"
        } else {
            b"boot, kernel"
        });
        words.push(&record.host);
    } else if is_shutdown(record) {
        words.extend([&b"shutdown, kernel"[..], &record.host]);
    } else {
        match record.kind {
            RecordKind::UserProcess => words.extend([&b"login"[..], &record.user]),
            RecordKind::DeadProcess => words.extend([&b"logout"[..], &record.user]),
            RecordKind::RunLevel => {
                // sysvinit keeps the new level in the pid's low byte.
                let level = (record.pid & 0xff) as u8;
                runlevel = [level];
                words.push(b"runlevel");
                if level.is_ascii_graphic() {
                    words.push(&runlevel);
                }
            }
            RecordKind::NewTime => words.push(b"clock set, new time"),
            RecordKind::OldTime => words.push(b"clock set, old time"),
            RecordKind::InitProcess => words.push(b"init process"),
            RecordKind::LoginProcess => words.push(b"login process"),
            _ => words.push(b"record"),
        }
    }
    // Boot, shutdown and runlevel records (line "~") hold the kernel
    // release where others hold the remote host.
    if record.line != b"~" && !is_boot(record) {
        if !record.line.is_empty() {
            words.extend([&b"on"[..], &record.line]);
        }
        if !record.host.is_empty() {
            words.extend([&b"from"[..], &record.host]);
        }
    }
    let mut first = true;
    for word in words.into_iter().filter(|w| !w.is_empty()) {
        if !first {
            out.push(b' ');
        }
        first = false;
        escape(word, b"", out);
    }
}

/// `bytes` as UTF-8 text that holds no control character: valid UTF-8
/// passes, `special` bytes and a backslash get a backslash before them,
/// and control bytes or bytes that are not UTF-8 become `\xHH`, so no
/// record can end a message, a frame or a parameter early.
pub fn escape(bytes: &[u8], special: &[u8], out: &mut Vec<u8>) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s.len(), 0),
            Err(e) => (
                e.valid_up_to(),
                e.error_len().unwrap_or(rest.len() - e.valid_up_to()),
            ),
        };
        for &b in &rest[..valid] {
            if b < 0x20 || b == 0x7f {
                out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
            } else {
                if special.contains(&b) {
                    out.push(b'\\');
                }
                out.push(b);
            }
        }
        for &b in &rest[valid..valid + bad] {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
        rest = &rest[valid + bad..];
    }
}

/// `YYYY-MM-DDTHH:MM:SS.uuuuuuZ`; false (nothing written) for a time
/// outside the years 0000..=9999 that RFC 3339 can write.
pub fn rfc3339(time_us: i64, out: &mut Vec<u8>) -> bool {
    let secs = time_us.div_euclid(1_000_000);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = crate::record::text::civil_from_days(secs.div_euclid(86_400));
    if !(0..=9999).contains(&year) {
        return false;
    }
    out.extend_from_slice(
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            of_day / 3600,
            of_day % 3600 / 60,
            of_day % 60,
            time_us.rem_euclid(1_000_000)
        )
        .as_bytes(),
    );
    true
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
