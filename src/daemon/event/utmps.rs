//! The loop's side of utmps' protocol: framing a connection's input into
//! requests by opcode and handing each to the service. Deadlines,
//! admission and one-request-per-turn are the native connections' own.

use std::time::Instant;

use super::{Loop, Response};
use crate::protocol::utmps::{self as wire, Incoming};

impl Loop {
    /// If a whole utmps request is buffered on connection `i`, hand it to
    /// the service. utmps-utmpd dies with EPROTO on an unknown opcode;
    /// here only that connection ends, after one EPROTO byte so a libutmps
    /// client sees why.
    pub(super) fn dispatch_utmps(&mut self, i: usize, now: Instant) -> bool {
        let service = &mut self.service;
        let conn = &mut self.conns[i];
        let response = match wire::take_request(&mut conn.input, |op| service.utmps_request_len(op))
        {
            Incoming::Partial => return true,
            Incoming::Unknown => {
                self.incidents.bad += 1;
                Response::Close(wire::status_reply(libc::EPROTO as u8))
            }
            Incoming::Request { op, payload } => {
                service.handle_utmps(&conn.peer, &mut conn.cursor, op, &payload)
            }
        };
        self.reply(i, response, now)
    }
}
