//! `utmpset wait`: until both daemons answer a request, for init scripts
//! (`wtmpd & utmpd & utmpset wait -t 5 && utmpset boot`). A socket that
//! exists is not enough: a daemon counts once it has answered.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::front::cli;
use crate::protocol::LogDb;
use crate::read::client::{Client, Error};
use crate::read::sources;

use super::Fail;

/// After the deadline, a daemon not yet asked still gets this long, so
/// the message can name every daemon that is down, not just the first.
const LAST_CHANCE: Duration = Duration::from_millis(100);

/// Wait up to `limit` (as typed: `shown`) for wtmpd, then utmpd; 0 once
/// both answered, else exit 111 naming those that did not.
pub(super) fn both(shown: &str, limit: Duration) -> Result<i32, Fail> {
    let deadline = Instant::now() + limit;
    let daemons: [(&str, PathBuf, Probe); 2] = [
        ("wtmpd", sources::wtmpd_socket(), |c| {
            c.log_stat(LogDb::Wtmp).map(|_| ())
        }),
        ("utmpd", sources::utmpd_socket(), |c| {
            c.utmp_get_line(b"~").map(|_| ())
        }),
    ];
    let mut silent = Vec::new();
    for (name, path, probe) in &daemons {
        let until = deadline.max(Instant::now() + LAST_CHANCE);
        if let Err(why) = answered(path, *probe, until) {
            silent.push(format!("{name} ({}: {why})", path.display()));
        }
    }
    if silent.is_empty() {
        return Ok(0);
    }
    Err(Fail(
        111,
        format!(
            "fatal: no answer within {shown} s from {}",
            silent.join(" or ")
        ),
    ))
}

/// `wait -t SECONDS`: a decimal number of seconds, to the millisecond.
pub(super) fn seconds(text: &str) -> Result<Duration, Fail> {
    let bad = || {
        super::usage(&format!(
            "invalid time '{}' (seconds)",
            crate::front::args::shown(text)
        ))
    };
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 3 {
        return Err(bad());
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let ms: u64 = format!("{frac:0<3}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(1000)
        .and_then(|w| w.checked_add(ms))
        .map(Duration::from_millis)
        .ok_or_else(bad)
}

/// A request every daemon of that kind answers, to anyone.
type Probe = fn(&mut Client) -> crate::read::client::Result<()>;

/// Ask the daemon at `path` until it answers or `until` passes; why not.
fn answered(path: &PathBuf, probe: Probe, until: Instant) -> Result<(), String> {
    loop {
        let left = until.saturating_duration_since(Instant::now());
        let why = match Client::connect_waiting(path, left.max(Duration::from_millis(1))) {
            Ok(mut client) => match probe(&mut client) {
                // A refusal is an answer too: the daemon is up.
                Ok(()) | Err(Error::Refused { .. }) => return Ok(()),
                Err(Error::NoDaemon(e) | Error::Io(e)) => cli::os_reason(&e),
                Err(e) => e.to_string(),
            },
            Err(Error::NoDaemon(e)) => cli::os_reason(&e),
            Err(e) => e.to_string(),
        };
        if Instant::now() >= until {
            return Err(why);
        }
        // Accepted, then dropped or not answered: a daemon that is
        // starting or restarting; ask again shortly.
        std::thread::sleep(Duration::from_millis(20).min(left));
    }
}
