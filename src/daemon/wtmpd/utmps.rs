//! wtmpd's answer to utmps' one request (`--utmps-socket`): `'+'` and a
//! struct utmpx, appended to wtmp under the native policy and answered
//! with one errno byte only once the turn's commit has made it durable.
//! A login appended this way updates lastlog as any other does.
//!
//! libutmps' `updwtmpx` ignores its file argument, so whatever a program
//! meant for btmp arrives here too and goes to wtmp: the protocol cannot
//! tell them apart.

use super::Wtmpd;
use crate::daemon::event::Response;
use crate::protocol::utmps as wire;
use crate::protocol::LogDb;
use crate::sys::peer::Peer;

impl Wtmpd {
    pub(super) fn utmps_append(&mut self, peer: &Peer, payload: &[u8]) -> Response {
        let Some(record) = wire::decode(payload) else {
            return Response::Now(wire::status_reply(libc::EINVAL as u8));
        };
        match self.queue_append(peer, LogDb::Wtmp, record) {
            Ok(Some(tag)) => Response::Durable {
                tag,
                reply: wire::status_reply(0),
            },
            Ok(None) => Response::Now(wire::status_reply(0)),
            Err((status, _)) => Response::Now(wire::status_reply(wire::errno_of(status))),
        }
    }
}
