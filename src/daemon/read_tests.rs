//! The read layer against live daemons: both daemons run in threads of
//! the test, and what a reader gets from them must match the files they
//! keep. Here, above both, so the read layer never imports the daemons.

use std::io;
use std::path::{Path, PathBuf};

use crate::daemon::{self, event, utmpd, wtmpd};
use crate::protocol::LogDb;
use crate::read::client;
use crate::read::sources::*;
use crate::record::testgen;
use crate::record::{self, Decoded};
use std::time::Duration;

fn serve<S: event::Service + 'static>(prepared: daemon::Prepared, service: S) {
    let limits = event::Limits::default();
    event::EventLoop::new(service, prepared.listener, prepared.signals, limits, None).run();
}

/// Run both daemons in threads of this test, sockets and files in `dir`.
fn start_daemons(dir: &Path) {
    let run = dir.join("run");
    let log = dir.join("log");
    for (name, socket) in [("utmpd", "utmpd.sock"), ("wtmpd", "wtmpd.sock")] {
        let (run, log) = (run.clone(), log.clone());
        std::thread::spawn(move || {
            let setup = daemon::Setup {
                name,
                socket: run.join(socket),
                listen_fd: None,
                utmps_socket: None,
                utmps_listen_fd: None,
                dirs: vec![run.clone(), log.clone()],
                own: Vec::new(),
                files: Vec::new(),
                user: None,
                group: "utmp".into(),
            };
            let prepared = daemon::prepare(&setup).unwrap();
            if name == "utmpd" {
                let (service, _) = utmpd::Utmpd::open(utmpd::Options {
                    file: run.join("utmp"),
                    wtmpd_socket: run.join("wtmpd.sock"),
                    max_slots: 4096,
                    max_conns: 1000,
                    max_sessions_per_uid: 64,
                    rate: 10,
                    sweep: Duration::ZERO,
                    record_boot: false,
                    private: false,
                    mode: 0o644,
                    import: None,
                })
                .unwrap();
                serve(prepared, service);
            } else {
                let (service, _) = wtmpd::Wtmpd::open(wtmpd::Options {
                    wtmp: log.join("wtmp"),
                    btmp: log.join("btmp"),
                    lastlog: log.join("lastlog"),
                    rate: 10,
                    record_boot: false,
                    private: false,
                    mode: 0o644,
                    syslog: Default::default(),
                })
                .unwrap();
                serve(prepared, service);
            }
        });
    }
    for socket in ["utmpd.sock", "wtmpd.sock"] {
        let path = run.join(socket);
        let start = std::time::Instant::now();
        while client::Client::connect(&path, DAEMON_DEADLINE).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{socket} never came up"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Every record of a file, as a reader gets them.
fn read_file(path: &Path) -> io::Result<Decoded> {
    let mut records = Vec::new();
    Source::open_file(path)?.each("test", |r| records.push(r.clone()))?;
    Ok(Decoded {
        format: record::Format::Native,
        records,
        trailing: 0,
        corrupt: Vec::new(),
    })
}

type Fields = (i16, i32, Vec<u8>, Vec<u8>, Vec<u8>, i64);

/// A history's path and the fields `last` reads of each record, newest
/// first.
fn history_newest_first(
    history: io::Result<crate::read::history::History>,
) -> (PathBuf, Vec<Fields>) {
    let mut history = history.unwrap();
    let mut all = Vec::new();
    let filter = crate::read::history::Filter::default();
    history
        .newest_first("test", &filter, |v| {
            all.push((
                v.kind,
                v.pid,
                v.line.to_vec(),
                v.user.to_vec(),
                v.host().to_vec(),
                v.secs,
            ));
            true
        })
        .unwrap();
    (history.path().to_path_buf(), all)
}

fn valid(rng: &mut testgen::Rng, kind: record::RecordKind, i: usize) -> record::Record {
    let mut r = testgen::native_record(rng);
    r.kind = kind;
    r.line = format!("pts/{i}").into_bytes();
    r.id = format!("{:04}", i % 10000).into_bytes();
    r.user = format!("user{}", i % 37).into_bytes();
    r.host = b"host.example".to_vec();
    r
}

#[test]
fn a_hung_daemon_costs_a_reader_one_deadline() {
    use std::os::unix::net::UnixListener;
    let dir = std::env::temp_dir().join(format!("utmpbox-hung-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Listening but never accepting nor answering.
    let _listener = UnixListener::bind(dir.join("utmpd.sock")).unwrap();
    let start = std::time::Instant::now();
    let result = load_from_daemon_in(Database::Utmp, &dir);
    let took = start.elapsed();
    assert!(
        matches!(result, Err(client::Error::Io(_))),
        "{:?}",
        result.err()
    );
    assert!(
        took >= DAEMON_DEADLINE && took < DAEMON_DEADLINE * 2,
        "{took:?}"
    );
    // No socket at all is immediate.
    let start = std::time::Instant::now();
    let result = load_from_daemon_in(Database::Lastlog, &dir);
    assert!(matches!(result, Err(client::Error::NoDaemon(_))));
    assert!(start.elapsed() < Duration::from_millis(100));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn daemon_answers_match_the_files_they_keep() {
    let dir = std::env::temp_dir().join(format!("utmpbox-sources-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    start_daemons(&dir);
    let run = dir.join("run");
    let mut rng = testgen::Rng::new(11);
    let mut u = client::Client::connect(&run.join("utmpd.sock"), DAEMON_DEADLINE).unwrap();
    for i in 0..40 {
        // Our own pid, alive all test long: a random one is dead, and utmpd
        // would end the session and forward its logout into the wtmp the
        // test counts, whenever its watch noticed (a race under load).
        let mut r = valid(&mut rng, record::RecordKind::UserProcess, i);
        r.pid = std::process::id() as i32;
        u.utmp_put(&r).unwrap();
    }
    let mut w = client::Client::connect(&run.join("wtmpd.sock"), DAEMON_DEADLINE).unwrap();
    // More than one batch, so the backwards batches must join up.
    for i in 0..2500 {
        let kind = if i % 3 == 0 {
            record::RecordKind::DeadProcess
        } else {
            record::RecordKind::UserProcess
        };
        w.log_append(LogDb::Wtmp, &valid(&mut rng, kind, i))
            .unwrap();
    }
    for i in 0..5 {
        w.log_append(
            LogDb::Btmp,
            &valid(&mut rng, record::RecordKind::LoginProcess, i),
        )
        .unwrap();
    }
    for (db, file) in [
        (Database::Wtmp, dir.join("log/wtmp")),
        (Database::Btmp, dir.join("log/btmp")),
    ] {
        let streamed =
            history_newest_first(crate::read::history::History::open_default_in(db, &run));
        let on_disk = history_newest_first(crate::read::history::History::open_file(&file));
        assert_eq!(streamed.0, file);
        assert_eq!(streamed.1.len(), on_disk.1.len(), "{db:?}");
        assert!(streamed.1 == on_disk.1, "{db:?} differs");
    }
    for (db, file) in [
        (Database::Utmp, run.join("utmp")),
        (Database::Lastlog, dir.join("log/lastlog")),
    ] {
        let loaded = load_from_daemon_in(db, &run).unwrap();
        let on_disk = read_file(&file).unwrap();
        assert_eq!(loaded.path, file);
        assert_eq!(loaded.records.len(), on_disk.records.len(), "{db:?}");
        assert!(loaded.records == on_disk.records, "{db:?} differs");
    }
    let all = history_newest_first(crate::read::history::History::open_default_in(
        Database::Wtmp,
        &run,
    ));
    assert_eq!(all.1.len(), 2500);
    assert_eq!(
        load_from_daemon_in(Database::Lastlog, &run)
            .unwrap()
            .records
            .len(),
        37
    );
    // lastlog get, clear (the slot stays, zeroed), set (a new slot), list.
    let got = w.lastlog_get(b"user5").unwrap().unwrap();
    assert_eq!(got.user, b"user5");
    w.lastlog_clear(b"user5").unwrap();
    let cleared = w.lastlog_get(b"user5").unwrap().unwrap();
    assert_eq!(
        (cleared.time_us, cleared.line.len(), cleared.host.len()),
        (0, 0, 0)
    );
    assert_eq!(w.lastlog_get(b"nobody-here").unwrap(), None);
    let mut set = got.clone();
    set.time_us = 42;
    set.user = b"newcomer".to_vec();
    w.lastlog_set(&set).unwrap();
    assert_eq!(w.lastlog_get(b"newcomer").unwrap().unwrap().time_us, 42);
    let (path, list) = w.lastlog_list().unwrap();
    assert_eq!(path, dir.join("log/lastlog"));
    assert_eq!(list.len(), 38);
    assert!(list.iter().any(|r| r.user == b"newcomer"));
    assert!(list.iter().any(|r| r == &cleared));
    assert!(read_file(&path).unwrap().records == list);
    // An unknown op gets an answer, not a hang.
    assert!(matches!(
        w.call(0x7f, b""),
        Err(client::Error::Refused {
            status: crate::protocol::Status::Unsupported,
            ..
        })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
