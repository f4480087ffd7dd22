//! util-linux `utmpdump` text lines, both ways.
//!
//! ```text
//! [7] [01234] [ts/0] [alice   ] [pts/0       ] [10.0.0.1            ] [10.0.0.1       ] [2026-11-20T09:15:00,000042+00:00]
//!  type pid    id     user 8    line 12         host 20                addr 15           time, always UTC
//! ```
//!
//! Dumping matches util-linux 2.38.1 byte for byte: fields are printed up
//! to their first NUL, unprintable bytes and `[` `]` become `?`, the id is
//! padded to 4, user to 8, line to 12, host to 20, addr to 15, and nothing
//! is ever cut. Times are printed in UTC whatever `TZ` says.
//!
//! Reading follows util-linux too: the id is exactly the 4 bytes between
//! its brackets (trailing spaces are kept: `[~~  ]` gives the id `~~  `),
//! user, line, host and addr are cut at their first space, the time is
//! not, and anything between the bracketed fields is skipped. util-linux
//! starts looking for the user field at byte 19 blindly; a line where that
//! lands elsewhere (`[2] [0] [~~  ] ...`, which crashes it) is an error
//! here, as is anything else it would misread (see `parse_line`).
//!
//! Beyond the peer, times are not limited to 32 bits: years before 1000 or
//! after 9999 print with at least four digits and a sign when negative, so
//! every time a native file holds survives a dump and an undump.

use super::{inet, FormatError, Record, RecordKind};

/// Longest line util-linux reads whole (`fgets(buf, 1023)`, newline kept).
const MAX_LINE: usize = 1021;

/// Where util-linux starts looking for the user field, whatever came before.
const USER_SEARCH_FROM: usize = 19;

/// Append the utmpdump line for `record` (with its newline) to `out`.
pub fn format_line(record: &Record, out: &mut Vec<u8>) {
    out.push(b'[');
    push_int(record.kind.raw() as i64, 1, out);
    out.extend_from_slice(b"] [");
    push_int(record.pid as i64, 5, out);
    out.extend_from_slice(b"] [");
    padded(&record.id, 4, out);
    out.extend_from_slice(b"] [");
    padded(&record.user, 8, out);
    out.extend_from_slice(b"] [");
    padded(&record.line, 12, out);
    out.extend_from_slice(b"] [");
    padded(&record.host, 20, out);
    out.extend_from_slice(b"] [");
    let start = out.len();
    inet::format(&record.addr, out);
    let width = out.len() - start;
    out.resize(out.len() + 15usize.saturating_sub(width), b' ');
    out.extend_from_slice(b"] [");
    format_time(record.time_us, out);
    out.extend_from_slice(b"]\n");
}

/// A field cleansed as util-linux does, left-aligned in `width` bytes.
fn padded(field: &[u8], width: usize, out: &mut Vec<u8>) {
    for &b in field {
        let printable = (0x20..0x7f).contains(&b) && b != b'[' && b != b']';
        out.push(if printable { b } else { b'?' });
    }
    out.resize(out.len() + width.saturating_sub(field.len()), b' ');
}

/// printf `%0*d`: at least `width` characters, zero-padded after the sign.
/// (Dumps are written by the hundred thousand; this avoids `format!`.)
fn push_int(value: i64, width: usize, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut n = value.unsigned_abs();
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if value < 0 {
        out.push(b'-');
    }
    let sign = usize::from(value < 0);
    out.resize(out.len() + width.saturating_sub(len + sign), b'0');
    out.extend(digits[..len].iter().rev());
}

/// `YYYY-MM-DDTHH:MM:SS,uuuuuu+00:00` in UTC.
pub fn format_time(time_us: i64, out: &mut Vec<u8>) {
    let secs = time_us.div_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    push_int(year, if year < 0 { 5 } else { 4 }, out);
    for (sep, value) in [
        (b'-', month),
        (b'-', day),
        (b'T', of_day / 3600),
        (b':', of_day % 3600 / 60),
        (b':', of_day % 60),
    ] {
        out.push(sep);
        push_int(value, 2, out);
    }
    out.push(b',');
    push_int(time_us.rem_euclid(1_000_000), 6, out);
    out.extend_from_slice(b"+00:00");
}

/// Parse one utmpdump line (without its newline). `lineno` is only used in
/// the error. Session and exit status are not in the text and come back 0.
pub fn parse_line(line: &[u8], lineno: u64) -> Result<Record, FormatError> {
    let bad = |why| FormatError::BadText { line: lineno, why };
    if line.contains(&0) {
        return Err(bad("NUL byte in line"));
    }
    if line.len() > MAX_LINE {
        return Err(bad("line longer than 1021 bytes"));
    }
    let mut cur = Cursor { line, pos: 0 };
    // What sscanf("[%hd] [%d] [%4c] ") reads.
    cur.expect(b'[').ok_or(bad("no [type] field"))?;
    let kind = cur.integer().ok_or(bad("type is not a number"))?;
    let kind = i16::try_from(kind).map_err(|_| bad("type out of range"))?;
    cur.expect(b']').ok_or(bad("no ] after type"))?;
    cur.skip_space();
    cur.expect(b'[').ok_or(bad("no [pid] field"))?;
    let pid = cur.integer().ok_or(bad("pid is not a number"))?;
    let pid = i32::try_from(pid).map_err(|_| bad("pid out of range"))?;
    cur.expect(b']').ok_or(bad("no ] after pid"))?;
    cur.skip_space();
    cur.expect(b'[').ok_or(bad("no [id] field"))?;
    let id = cur.take(4).ok_or(bad("id shorter than 4 characters"))?;
    cur.expect(b']')
        .ok_or(bad("id is not exactly 4 characters"))?;
    // util-linux skips 19 bytes, then looks for '['; it reads the fields we
    // read only if no '[' lies between where the id ended and byte 19.
    let from_id = next_bracket(line, cur.pos);
    let from_19 = if line.len() >= USER_SEARCH_FROM {
        next_bracket(line, USER_SEARCH_FROM)
    } else {
        None
    };
    if from_id != from_19 {
        return Err(bad(
            "type, pid and id do not span the 19 bytes utmpdump expects",
        ));
    }
    let user = cur.token(true).ok_or(bad("no [user] field"))?;
    let term = cur.token(true).ok_or(bad("no [line] field"))?;
    let host = cur.token(true).ok_or(bad("no [host] field"))?;
    let addr = cur.token(true).ok_or(bad("no [addr] field"))?;
    let time = cur.token(false).ok_or(bad("no [time] field"))?;
    Ok(Record {
        kind: RecordKind::from_raw(kind),
        pid,
        session: 0,
        line: term.to_vec(),
        id: id.to_vec(),
        user: user.to_vec(),
        host: host.to_vec(),
        exit: Default::default(),
        addr: inet::parse(addr).ok_or(bad("invalid address"))?,
        time_us: parse_time(time).map_err(bad)?,
    })
}

fn next_bracket(line: &[u8], from: usize) -> Option<usize> {
    line[from.min(line.len())..]
        .iter()
        .position(|&b| b == b'[')
        .map(|i| i + from)
}

struct Cursor<'a> {
    line: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.line.get(self.pos).copied()
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        (self.peek()? == want).then(|| self.pos += 1)
    }

    /// A space in a scanf format matches any run of white space, even none.
    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.line.get(self.pos..self.pos + n)?;
        self.pos += n;
        Some(bytes)
    }

    /// scanf `%d`: white space, an optional sign, decimal digits.
    fn integer(&mut self) -> Option<i64> {
        self.skip_space();
        let negative = self.peek() == Some(b'-');
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        let start = self.pos;
        let mut value: i64 = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            value = value.checked_mul(10)?.checked_add((d - b'0') as i64)?;
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        Some(if negative { -value } else { value })
    }

    /// util-linux `gettok`: the bytes between the next `[` and the `]`
    /// after it, cut at the first space if `cut_at_space`.
    fn token(&mut self, cut_at_space: bool) -> Option<&'a [u8]> {
        let open = next_bracket(self.line, self.pos)?;
        let close = self.line[open + 1..].iter().position(|&b| b == b']')? + open + 1;
        self.pos = close + 1;
        let token = &self.line[open + 1..close];
        Some(match token.iter().position(|&b| b == b' ') {
            Some(space) if cut_at_space => &token[..space],
            _ => token,
        })
    }
}

/// The time field. Empty or starting with a space is 0, as in util-linux.
/// ISO 8601 `YYYY-MM-DDTHH:MM:SS[,uuuuuu][offset]` as utmpdump writes it,
/// or the `Tue Sep 01 00:00:00 1998 GMT` form of old dumps (read as UTC,
/// as util-linux does).
///
/// Where util-linux silently stores something else, this is stricter or
/// says what the text means: a fraction must have 6 digits (util-linux
/// reads `,5` as 5 microseconds); a non-zero UTC offset is applied (util-linux
/// ignores it); an impossible date is an error (util-linux stores garbage).
fn parse_time(text: &[u8]) -> Result<i64, &'static str> {
    match text.first() {
        None | Some(b' ') => Ok(0),
        Some(b) if b.is_ascii_digit() || *b == b'-' || *b == b'+' => parse_iso(text),
        Some(b) if b.is_ascii_alphabetic() => parse_legacy(text),
        Some(_) => Err("time is not a date"),
    }
}

fn parse_iso(text: &[u8]) -> Result<i64, &'static str> {
    const BAD: &str = "time is not YYYY-MM-DDTHH:MM:SS,uuuuuu+00:00";
    let mut cur = Cursor { line: text, pos: 0 };
    let negative = cur.peek() == Some(b'-');
    if matches!(cur.peek(), Some(b'-' | b'+')) {
        cur.pos += 1;
    }
    let year_digits = cur.digits(4, 7).ok_or(BAD)?;
    let year = if negative { -year_digits } else { year_digits };
    let month = cur.field(b'-').ok_or(BAD)?;
    let day = cur.field(b'-').ok_or(BAD)?;
    let hour = cur.field(b'T').ok_or(BAD)?;
    let minute = cur.field(b':').ok_or(BAD)?;
    let second = cur.field(b':').ok_or(BAD)?;
    let mut usec = 0;
    if matches!(cur.peek(), Some(b',' | b'.')) {
        cur.pos += 1;
        let start = cur.pos;
        usec = cur.digits(1, 9).ok_or(BAD)?;
        if cur.pos - start != 6 {
            return Err("fraction of a second must have 6 digits");
        }
    }
    let offset = match cur.peek() {
        None => 0,
        Some(b'Z') => {
            cur.pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            cur.pos += 1;
            let hours = cur.digits(2, 2).ok_or(BAD)?;
            if cur.peek() == Some(b':') {
                cur.pos += 1;
            }
            let minutes = cur.digits(2, 2).ok_or(BAD)?;
            if hours > 23 || minutes > 59 {
                return Err("UTC offset out of range");
            }
            let offset = hours * 3600 + minutes * 60;
            if sign == b'-' {
                -offset
            } else {
                offset
            }
        }
        Some(_) => return Err(BAD),
    };
    if cur.pos != text.len() {
        return Err(BAD);
    }
    to_micros(year, month, day, hour, minute, second, usec, offset)
}

/// `%a %b %d %T %Y` and whatever zone name follows, read as UTC.
fn parse_legacy(text: &[u8]) -> Result<i64, &'static str> {
    const BAD: &str = "time is not YYYY-MM-DDTHH:MM:SS,uuuuuu+00:00";
    let words: Vec<&[u8]> = text
        .split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() < 5 || words.len() > 6 {
        return Err(BAD);
    }
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = |w: &[u8]| w.to_ascii_lowercase();
    if !DAYS.iter().any(|d| lower(words[0]) == d.as_bytes()) {
        return Err(BAD);
    }
    let month = MONTHS
        .iter()
        .position(|m| lower(words[1]) == m.as_bytes())
        .ok_or(BAD)? as i64
        + 1;
    let number = |w: &[u8], max_len: usize| -> Result<i64, &'static str> {
        if w.is_empty() || w.len() > max_len || !w.iter().all(u8::is_ascii_digit) {
            return Err(BAD);
        }
        Ok(w.iter().fold(0, |acc, &d| acc * 10 + (d - b'0') as i64))
    };
    let day = number(words[2], 2)?;
    let hms: Vec<&[u8]> = words[3].split(|&b| b == b':').collect();
    if hms.len() != 3 {
        return Err(BAD);
    }
    let (hour, minute, second) = (number(hms[0], 2)?, number(hms[1], 2)?, number(hms[2], 2)?);
    let year = number(words[4], 4)?;
    to_micros(year, month, day, hour, minute, second, 0, 0)
}

impl Cursor<'_> {
    /// Between `min` and `max` decimal digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.pos;
        let mut value = 0i64;
        while self.pos - start < max {
            match self.peek() {
                Some(d) if d.is_ascii_digit() => {
                    value = value * 10 + (d - b'0') as i64;
                    self.pos += 1;
                }
                _ => break,
            }
        }
        (self.pos - start >= min).then_some(value)
    }

    /// `sep` then two digits (the separator before the first date field is
    /// the `-` after the year).
    fn field(&mut self, sep: u8) -> Option<i64> {
        self.expect(sep)?;
        self.digits(2, 2)
    }
}

#[allow(clippy::too_many_arguments)]
fn to_micros(
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    usec: i64,
    offset: i64,
) -> Result<i64, &'static str> {
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err("no such date");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("no such time of day");
    }
    let secs = days_from_civil(year, month, day) as i128 * 86_400
        + (hour * 3600 + minute * 60 + second - offset) as i128;
    i64::try_from(secs * 1_000_000 + usec as i128).map_err(|_| "time out of range")
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1..=12, day) of a day count since 1970-01-01 (Howard
/// Hinnant's days-to-civil).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
