//! Load generator for scripts/bench_daemons.sh: speaks the utmpbox wire
//! protocol (docs/PROTOCOL.md) with std only, so the script can build it
//! with a bare `rustc -O`.
//!
//!   bench_client put SOCKET COUNT            pututxline rate, one connection
//!   bench_client list SOCKET SECONDS         whole-table reads, records/s
//!   bench_client append SOCKET WRITERS COUNT durable wtmp appends/s
//!   bench_client utmps-append SOCKET WRITERS COUNT
//!                                 the same against skarnet's utmps-wtmpd,
//!                                 one connection per append as libutmps
//!   bench_client utmps-put SOCKET COUNT   pututxline rate over utmps'
//!                                 protocol, one connection as libutmps
//!                                 keeps it ('E' + 400 bytes, 1-byte reply)
//!   bench_client utmps-getent SOCKET SECONDS
//!                                 whole-table getutxent over utmps'
//!                                 protocol ('r', then 'e' until ESRCH),
//!                                 records/s
//!   bench_client disk FILE COUNT  the disk's own durable 4 KiB overwrites/s
//!                                 (what dd oflag=direct,dsync measures): the
//!                                 ceiling for one synchronous writer
//!   bench_client sink             a TCP syslog receiver that accepts on
//!                                 127.0.0.1 (its port printed) and never
//!                                 reads, until killed

use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
        }
        *slot = c;
    }
    let mut crc = !0u32;
    for &b in bytes {
        crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

fn record(kind: i16, pid: i32, line: &[u8], user: &[u8]) -> [u8; 512] {
    let mut b = [0u8; 512];
    b[0..2].copy_from_slice(&kind.to_le_bytes());
    b[4..8].copy_from_slice(&pid.to_le_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0);
    b[16..24].copy_from_slice(&now.to_le_bytes());
    b[40..40 + line.len()].copy_from_slice(line);
    let id = &line[line.len().saturating_sub(4)..];
    b[72..72 + id.len()].copy_from_slice(id);
    b[76..76 + user.len()].copy_from_slice(user);
    b[140..151].copy_from_slice(b"example.org");
    let crc = crc32(&b[..508]);
    b[508..].copy_from_slice(&crc.to_le_bytes());
    b
}

fn frame(code: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = ((4 + payload.len()) as u32).to_le_bytes().to_vec();
    f.extend_from_slice(&[1, code, 0, 0]);
    f.extend_from_slice(payload);
    f
}

/// One request, one reply; the reply usually arrives in one read, as with
/// the utmpbox client library.
fn call(s: &mut UnixStream, request: &[u8], body: &mut Vec<u8>) -> u8 {
    s.write_all(request).expect("send");
    // As src/read/client.rs: no spinning for durable writes (append, lastlog set
    // and clear), whose replies wait for the disk.
    let spin = !matches!(request[1], 0x10 | 0x22 | 0x23);
    body.resize(64 * 1024, 0);
    let mut got = 0;
    while got < 4 {
        let n = read_some(s, &mut body[got..], spin);
        assert!(n > 0, "daemon closed the connection");
        got += n;
    }
    let total = 4 + u32::from_le_bytes([body[0], body[1], body[2], body[3]]) as usize;
    body.resize(total.max(got), 0);
    while got < total {
        let n = read_some(s, &mut body[got..total], spin);
        assert!(n > 0, "daemon closed the connection");
        got += n;
    }
    body.drain(..4);
    body[1]
}

/// Wait for a reply as src/read/client.rs does: retry a non-blocking read for
/// up to 100 us (when `spin`), then sleep in a blocking read.
fn read_some(s: &mut UnixStream, buf: &mut [u8], spin: bool) -> usize {
    let start = std::time::Instant::now();
    loop {
        match s.read(buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if spin && start.elapsed() < Duration::from_micros(100) {
                    std::thread::yield_now();
                    continue;
                }
                s.set_nonblocking(false).expect("blocking");
                let n = s.read(buf).expect("reply");
                s.set_nonblocking(true).expect("nonblocking");
                break n;
            }
            Err(e) => panic!("reply: {e}"),
        }
    }
}

fn connect(path: &str) -> UnixStream {
    let s = UnixStream::connect(path).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    s.set_nonblocking(true).expect("nonblocking");
    s
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |i: usize| -> u64 { args.get(i).and_then(|a| a.parse().ok()).expect("number") };
    let mut body = Vec::new();
    match args.get(1).map(String::as_str) {
        Some("put") => {
            let count = num(3);
            let mut s = connect(&args[2]);
            let requests: Vec<Vec<u8>> = (0..64)
                .map(|i| frame(0x04, &record(7, 1, format!("pts/{i}").as_bytes(), b"bench")))
                .collect();
            let start = Instant::now();
            for i in 0..count {
                assert_eq!(call(&mut s, &requests[(i % 64) as usize], &mut body), 0);
            }
            let secs = start.elapsed().as_secs_f64();
            println!("{:.0}", count as f64 / secs);
        }
        Some("ping") => {
            let count = num(3);
            let mut s = connect(&args[2]);
            let request = frame(0x11, &[1]);
            let start = Instant::now();
            for _ in 0..count {
                assert_eq!(call(&mut s, &request, &mut body), 0);
            }
            println!("{:.0}", count as f64 / start.elapsed().as_secs_f64());
        }
        Some("list") => {
            let seconds = num(3);
            let mut s = connect(&args[2]);
            let request = frame(0x01, b"");
            let start = Instant::now();
            let mut records = 0u64;
            while start.elapsed() < Duration::from_secs(seconds) {
                assert_eq!(call(&mut s, &request, &mut body), 0);
                let path_len = u16::from_le_bytes([body[4], body[5]]) as usize;
                let at = 6 + path_len;
                records += u32::from_le_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]])
                    as u64;
            }
            println!("{:.0}", records as f64 / start.elapsed().as_secs_f64());
        }
        Some("append") => {
            let rate = concurrent(&args[2], num(3), num(4), |path, w, per| {
                let mut s = connect(path);
                let mut body = Vec::new();
                let line = format!("pts/{w}");
                for i in 0..per {
                    let mut payload = vec![1u8];
                    payload.extend_from_slice(&record(7, i as i32 + 1, line.as_bytes(), b"bench"));
                    assert_eq!(call(&mut s, &frame(0x10, &payload), &mut body), 0);
                }
            });
            println!("{rate:.0}");
        }
        Some("utmps-append") => {
            let rate = concurrent(&args[2], num(3), num(4), |path, w, per| {
                let line = format!("pts/{w}");
                for i in 0..per {
                    utmps_append(path, &utmpx(7, i as i32 + 1, line.as_bytes(), b"bench"));
                }
            });
            println!("{rate:.0}");
        }
        Some("utmps-put") => {
            let count = num(3);
            let mut s = UnixStream::connect(&args[2]).expect("connect to the utmps socket");
            // pid 1 as `put`: a process that outlives the run, so utmpd
            // never ends these sessions in the middle of it.
            let pid = 1;
            let requests: Vec<Vec<u8>> = (0..64)
                .map(|i| {
                    let mut r = vec![b'E'];
                    r.extend_from_slice(&utmpx(7, pid, format!("pts/{i}").as_bytes(), b"bench"));
                    r
                })
                .collect();
            let mut answer = [0u8; 1];
            let start = Instant::now();
            for i in 0..count {
                s.write_all(&requests[(i % 64) as usize]).expect("send");
                s.read_exact(&mut answer).expect("answer");
                assert_eq!(answer[0], 0, "pututxline refused");
            }
            println!("{:.0}", count as f64 / start.elapsed().as_secs_f64());
        }
        Some("utmps-getent") => {
            let seconds = num(3);
            let mut s = UnixStream::connect(&args[2]).expect("connect to the utmps socket");
            let mut reply = [0u8; 401];
            let start = Instant::now();
            let mut records = 0u64;
            while start.elapsed() < Duration::from_secs(seconds) {
                s.write_all(b"r").expect("send");
                s.read_exact(&mut reply[..1]).expect("answer");
                assert_eq!(reply[0], 0, "setutxent refused");
                loop {
                    s.write_all(b"e").expect("send");
                    s.read_exact(&mut reply[..1]).expect("answer");
                    if reply[0] != 0 {
                        assert_eq!(reply[0], 3, "getutxent: not ESRCH at the end");
                        break;
                    }
                    s.read_exact(&mut reply[1..]).expect("record");
                    records += 1;
                }
            }
            println!("{:.0}", records as f64 / start.elapsed().as_secs_f64());
        }
        Some("disk") => {
            let count = num(3);
            println!("{:.0}", disk(&args[2], count));
        }
        Some("sink") => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            println!("{}", listener.local_addr().expect("port").port());
            let mut held = Vec::new();
            for conn in listener.incoming().flatten() {
                held.push(conn);
            }
        }
        _ => {
            eprintln!(
                "usage: bench_client put|list|append|utmps-append|utmps-put|utmps-getent SOCKET ... | disk FILE COUNT | sink"
            );
            std::process::exit(100);
        }
    }
}

/// Run `writer(socket, index, per)` on `writers` threads, `count / writers`
/// appends each; the appends per second over all of them.
fn concurrent(socket: &str, writers: u64, count: u64, writer: fn(&str, u64, u64)) -> f64 {
    let per = count / writers;
    let start = Instant::now();
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let socket = socket.to_string();
            std::thread::spawn(move || writer(&socket, w, per))
        })
        .collect();
    for h in handles {
        h.join().expect("writer");
    }
    (per * writers) as f64 / start.elapsed().as_secs_f64()
}

/// A glibc x86_64 `struct utmpx` (400 bytes, the layout utmps sends as is):
/// type 0, pid 4, line 8, id 40, user 44, host 76, tv 344.
fn utmpx(kind: i16, pid: i32, line: &[u8], user: &[u8]) -> [u8; 400] {
    let mut b = [0u8; 400];
    b[0..2].copy_from_slice(&kind.to_le_bytes());
    b[4..8].copy_from_slice(&pid.to_le_bytes());
    b[8..8 + line.len()].copy_from_slice(line);
    let id = &line[line.len().saturating_sub(4)..];
    b[40..40 + id.len()].copy_from_slice(id);
    b[44..44 + user.len()].copy_from_slice(user);
    b[76..87].copy_from_slice(b"example.org");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    b[344..352].copy_from_slice(&(now.as_secs() as i64).to_le_bytes());
    b[352..360].copy_from_slice(&(now.subsec_micros() as i64).to_le_bytes());
    b
}

/// One append as libutmps's updwtmpx does it: connect, send '+' and the
/// record, read the one-byte answer (0 or an errno), close.
fn utmps_append(path: &str, record: &[u8; 400]) {
    let mut s = UnixStream::connect(path).expect("connect to utmps-wtmpd");
    let mut request = vec![b'+'];
    request.extend_from_slice(record);
    s.write_all(&request).expect("send");
    let mut answer = [0u8; 1];
    s.read_exact(&mut answer).expect("answer");
    assert_eq!(answer[0], 0, "utmps-wtmpd refused the append");
}

/// Durable 4 KiB overwrites of already written blocks, one at a time, as
/// O_DIRECT|O_DSYNC writes: one device write and flush each, no journal.
fn disk(path: &str, count: u64) -> f64 {
    const BLOCK: usize = 4096;
    let blocks = count.min(1024) as usize;
    std::fs::write(path, vec![0u8; blocks * BLOCK]).expect("create the test file");
    std::fs::File::open(path).and_then(|f| f.sync_all()).expect("sync");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(0o40000 | 0o10000) // O_DIRECT | O_DSYNC on x86_64
        .open(path)
        .expect("open O_DIRECT");
    let mut raw = vec![0u8; 2 * BLOCK];
    let skip = raw.as_ptr().align_offset(BLOCK);
    let buf = &mut raw[skip..skip + BLOCK];
    let start = Instant::now();
    for i in 0..count {
        buf[0] = i as u8;
        file.write_all_at(buf, (i as usize % blocks * BLOCK) as u64)
            .expect("direct write");
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(path);
    rate
}
