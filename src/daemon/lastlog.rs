//! wtmpd's native lastlog: one slot per user name (docs/FORMAT.md), found
//! through an in-memory index, rewritten in place, freed slots reused.

use std::collections::HashMap;
use std::io;
use std::path::Path;

use super::files::SlotFile;
use crate::record::native::FileKind;
use crate::record::{Record, RecordKind};

pub struct Lastlog {
    file: SlotFile,
    index: HashMap<Vec<u8>, usize>,
    dirty: bool,
}

impl Lastlog {
    pub fn open(path: &Path, mode: u32) -> Result<(Lastlog, Vec<String>), String> {
        let (file, warnings) = SlotFile::open(path, FileKind::Lastlog, mode)?;
        let mut index = HashMap::new();
        for (i, record) in file.slots.iter().enumerate() {
            if record.kind != RecordKind::Empty && !record.user.is_empty() {
                index.insert(record.user.clone(), i);
            }
        }
        Ok((
            Lastlog {
                file,
                index,
                dirty: false,
            },
            warnings,
        ))
    }

    pub fn path(&self) -> &Path {
        &self.file.path
    }

    pub fn get(&self, user: &[u8]) -> Option<&Record> {
        self.index.get(user).map(|&i| &self.file.slots[i])
    }

    /// Every user's entry, in slot order.
    pub fn list(&self) -> Vec<Record> {
        self.file
            .slots
            .iter()
            .filter(|r| r.kind != RecordKind::Empty && !r.user.is_empty())
            .cloned()
            .collect()
    }

    /// Record a login: the user's slot, else a free one, else a new one.
    pub fn set(&mut self, login: &Record) -> io::Result<()> {
        let entry = Record {
            kind: RecordKind::UserProcess,
            pid: login.pid,
            session: login.session,
            line: login.line.clone(),
            id: login.id.clone(),
            user: login.user.clone(),
            host: login.host.clone(),
            exit: Default::default(),
            addr: login.addr,
            time_us: login.time_us,
        };
        let slot = match self.index.get(&login.user) {
            Some(&i) => i,
            None => self
                .file
                .slots
                .iter()
                .position(|r| r.kind == RecordKind::Empty)
                .unwrap_or(self.file.slots.len()),
        };
        self.file.write(slot, entry)?;
        self.index.insert(login.user.clone(), slot);
        self.dirty = true;
        Ok(())
    }

    /// Forget a user; false if there was nothing to forget.
    pub fn clear(&mut self, user: &[u8]) -> io::Result<bool> {
        let Some(&slot) = self.index.get(user) else {
            return Ok(false);
        };
        self.file.write(slot, Record::default())?;
        self.index.remove(user);
        self.dirty = true;
        Ok(true)
    }

    pub fn sync(&mut self) -> io::Result<()> {
        if self.dirty {
            self.file.sync()?;
            self.dirty = false;
        }
        Ok(())
    }
}
