//! utmpd's answers to utmps' requests (`--utmps-socket`), mapped onto
//! the slot table with utmps-utmpd's cursor rules (docs/PROTOCOL.md):
//!
//! - The cursor is a slot index, one per connection (utmps-utmpd's file
//!   offset: a process per client). Empty slots are free room, not
//!   records: getent steps over them.
//! - getent returns the next record and moves past it; getid and getline
//!   scan forward from the cursor with utmps' matching rules and move
//!   past the hit. At the end: ESRCH, with the cursor at the end, as
//!   utmps reads to EOF.
//! - rewind puts the cursor back at the first slot.
//! - putline goes through the native write path (policy, rate, quota,
//!   and pututxline's one entry per ut_id over the whole table, which is
//!   stricter than utmps' "scan forward from one record back, replace if
//!   id and line match, else append"), then leaves the cursor just past
//!   the slot written, where utmps leaves its file offset.

use super::{RecordKind, Utmpd};
use crate::daemon::event::Response;
use crate::daemon::policy;
use crate::protocol::utmps::{self as wire, GETENT, GETID, GETLINE, PUTLINE, REWIND};
use crate::record::Record;
use crate::sys::peer::Peer;

fn errno(e: i32) -> Response {
    Response::Now(wire::status_reply(e as u8))
}

impl Utmpd {
    pub(super) fn utmps_request(
        &mut self,
        peer: &Peer,
        cursor: &mut usize,
        op: u8,
        payload: &[u8],
    ) -> Response {
        match op {
            GETENT => self.utmps_scan(peer, cursor, |r| r.kind != RecordKind::Empty),
            GETID => {
                let (kind, id) = wire::getid_key(payload);
                self.utmps_scan(peer, cursor, |r| wire::id_matches(kind, id, r))
            }
            GETLINE => self.utmps_scan(peer, cursor, |r| wire::line_matches(payload, r)),
            REWIND => {
                *cursor = 0;
                errno(0)
            }
            PUTLINE => {
                let Some(record) = wire::decode(payload) else {
                    return errno(libc::EINVAL);
                };
                match self.put_checked(peer, record) {
                    Ok((slot, _)) => {
                        *cursor = slot + 1;
                        errno(0)
                    }
                    Err((status, _)) => Response::Now(wire::status_reply(wire::errno_of(status))),
                }
            }
            _ => Response::Close(wire::status_reply(libc::EPROTO as u8)),
        }
    }

    /// The first record from the cursor on that `wanted` accepts: sent,
    /// and the cursor moved past it; else ESRCH and the cursor at the end.
    fn utmps_scan(
        &self,
        peer: &Peer,
        cursor: &mut usize,
        wanted: impl Fn(&Record) -> bool,
    ) -> Response {
        let slots = &self.table.slots;
        let start = (*cursor).min(slots.len());
        match slots[start..].iter().position(wanted) {
            Some(k) => {
                let slot = start + k;
                *cursor = slot + 1;
                let mut record = slots[slot].clone();
                if self.opts.private && !peer.privileged {
                    policy::redact(std::slice::from_mut(&mut record), peer);
                }
                Response::Now(wire::record_reply(&record))
            }
            None => {
                *cursor = slots.len();
                errno(libc::ESRCH)
            }
        }
    }
}
