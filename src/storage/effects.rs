//! What a write did, beyond its reply: the one effects path.
//!
//! Every change to the keyspace — a command's write, a lazily or actively expired key, a
//! flush, a swap, and later an eviction — reports itself here, while the shards it touched
//! are still locked:
//!
//! - **WATCH**: the shard's watch registry flags every client watching `(db, key)`
//!   ([`Locked::touch_watched`](super::Locked::touch_watched)), so an EXEC that later takes
//!   the locks sees the flag; doing it under the lock leaves no window for a stale EXEC.
//! - **dirty**: the keyspace's `dirty` counter (INFO `rdb_changes_since_last_save`).
//! - **keyspace notifications**: a [`KeyEvent`] is recorded in [`Effects::events`] when its
//!   class is enabled in `notify-keyspace-events`; the caller publishes them after the locks
//!   are released (publishing never needs a shard).
//! - **propagation**: the argv a replica or an append-only file must replay, in its
//!   deterministic form, collected per execution unit (one command, one EXEC, later one
//!   script) in [`Effects::propagate`] and appended to the [`Propagation`] stream when the
//!   unit ends — still under its locks, so the stream's order is the execution order. A unit
//!   of more than one write is wrapped in `MULTI`/`EXEC`; `SELECT` is written whenever the
//!   database changes, as Redis's `propagatePendingCommands` and AOF feed do.
//!
//! - **blocked clients**: a write to a key some client is blocked on (BLPOP…) records the key
//!   in [`Effects::ready`]; once the unit's locks are released, the waiters are served.
//!
//! Eviction reports `evicted` (class `notify::EVICTED`) through
//! [`Locked::deleted_by_server`](super::Locked::deleted_by_server); later consumers plug in
//! here rather than beside it.
//!
//! # The AOF feed
//! The append-only file (`crate::aof`) consumes the stream through its *feed*
//! ([`Propagation::aof_start`]): while it is on, each unit is encoded as RESP straight into
//! one buffer under the log's mutex (no per-command allocation is kept), with `#TS:`
//! annotations when `aof-timestamp-enabled`, and a unit counter ([`Propagation::aof_seq`])
//! advances. [`encode_command`] reserves once and writes headers as whole words (small
//! arguments as two word moves): a logged SET costs ≈ 50 instructions of encoding, and AOF on
//! adds ≈ 370 instructions per dispatched SET over AOF off (callgrind; it was ≈ 730 when each
//! unit was encoded piece by piece into a thread-local scratch buffer and then copied in).
//! An AOF pass takes the buffer ([`Propagation::aof_take`]) and writes it; a connection under
//! `appendfsync always` waits until a pass has fsynced the counter it saw after its batch.
//! Writers on both workers take the feed's mutex for every unit, so one that finds it taken
//! spins briefly before it waits (`Propagation::log`).

use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// One keyspace event: `event` happened to `key` in database `db`; `class` is its
/// notification class (a `crate::notify` bit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    /// The database.
    pub db: usize,
    /// The key.
    pub key: Bytes,
    /// The notification class (a `crate::notify` bit).
    pub class: u32,
    /// The event name (`set`, `expired`, `lpush`…).
    pub event: &'static str,
}

/// The effects one execution unit collected under its locks.
#[derive(Debug, Default)]
pub struct Effects {
    /// Events to publish once the locks are released, in the order they happened.
    pub events: Vec<KeyEvent>,
    /// `(db, argv)` to propagate, in execution order.
    pub propagate: Vec<(usize, Vec<Bytes>)>,
    /// Keys written while clients were blocked on them, `(db, key)` in the order they were
    /// first written: after the locks are released their waiters are served, in arrival
    /// order (see `commands::blocking`).
    pub ready: Vec<(usize, Bytes)>,
}

impl Effects {
    /// Whether nothing was collected.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.propagate.is_empty() && self.ready.is_empty()
    }
}

/// How many times a writer looks at the taken feed mutex before it waits (see
/// `Propagation::log`).
const FEED_SPINS: u32 = 20;

/// The propagation stream: every write in the form a replica or an append-only file replays,
/// in execution order. Recording is off until a consumer turns it on, so a server without one
/// pays one atomic load per write.
#[derive(Debug, Default)]
pub struct Propagation {
    enabled: AtomicBool,
    /// Units appended to the AOF feed so far.
    aof_seq: AtomicU64,
    /// Bytes waiting in the AOF feed (INFO `aof_buffer_length`).
    aof_len: AtomicU64,
    log: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    /// The database the stream last selected (`None`: nothing selected yet).
    selected: Option<usize>,
    /// Whether `entries` records (tests and in-process consumers: [`Propagation::drain`]).
    record: bool,
    entries: Vec<Vec<Bytes>>,
    /// The AOF feed, while the append-only file is on.
    aof: Option<AofFeed>,
}

/// The AOF's share of the stream: RESP bytes not yet taken by the writer.
#[derive(Debug, Default)]
struct AofFeed {
    buf: Vec<u8>,
    /// The database the feed last selected.
    selected: Option<usize>,
    /// `aof-timestamp-enabled`: a `#TS:<unix seconds>` line precedes the first unit of
    /// every new second.
    timestamps: bool,
    last_ts: u64,
}

/// Appends one command as a RESP multibulk.
///
/// On the write path of every logged command (see the module docs): one `reserve` for an
/// upper bound, then headers written as whole words and arguments copied once, with no
/// capacity checks or length updates per piece.
pub fn encode_command(out: &mut Vec<u8>, argv: &[Bytes]) {
    let need = HEADER_MAX + argv.iter().map(|a| a.len() + HEADER_MAX + 2).sum::<usize>();
    out.reserve(need);
    // SAFETY: `need` bytes are reserved past `out.len()`, and at most that many are written:
    // each header is at most `HEADER_MAX` bytes (`put_header`), each argument its length
    // plus `\r\n`. Every byte up to the new length is initialised before `set_len`.
    unsafe {
        let start = out.as_mut_ptr();
        let mut p = start.add(out.len());
        p = put_header(p, b'*', argv.len());
        for a in argv {
            p = put_header(p, b'$', a.len());
            copy_arg(a, p);
            p = p.add(a.len());
            p.cast::<[u8; 2]>().write_unaligned(*b"\r\n");
            p = p.add(2);
        }
        out.set_len(p.offset_from(start) as usize);
    }
}

/// Copies `a` to `p`; arguments of up to 16 bytes (keys, small values, command names) with
/// two possibly overlapping word moves instead of a call to `memcpy`.
///
/// # Safety
/// `p` must be valid for writes of `a.len()` bytes and not overlap `a`.
#[inline(always)]
unsafe fn copy_arg(a: &[u8], p: *mut u8) {
    let n = a.len();
    let s = a.as_ptr();
    if (8..=16).contains(&n) {
        let head = s.cast::<u64>().read_unaligned();
        let tail = s.add(n - 8).cast::<u64>().read_unaligned();
        p.cast::<u64>().write_unaligned(head);
        p.add(n - 8).cast::<u64>().write_unaligned(tail);
    } else if (4..8).contains(&n) {
        let head = s.cast::<u32>().read_unaligned();
        let tail = s.add(n - 4).cast::<u32>().read_unaligned();
        p.cast::<u32>().write_unaligned(head);
        p.add(n - 4).cast::<u32>().write_unaligned(tail);
    } else {
        std::ptr::copy_nonoverlapping(s, p, n);
    }
}

/// The longest `<kind><n>\r\n`: one byte, 20 digits, CRLF.
const HEADER_MAX: usize = 23;

/// Writes `<kind><n>\r\n` at `p` and returns the end (at most [`HEADER_MAX`] bytes). One
/// or two digits, the usual case, are a single 4- or 5-byte store.
///
/// # Safety
/// `p` must be valid for writes of `HEADER_MAX` bytes.
#[inline(always)]
unsafe fn put_header(p: *mut u8, kind: u8, n: usize) -> *mut u8 {
    if n < 10 {
        p.cast::<[u8; 4]>()
            .write_unaligned([kind, b'0' + n as u8, b'\r', b'\n']);
        p.add(4)
    } else if n < 100 {
        p.cast::<[u8; 5]>().write_unaligned([
            kind,
            b'0' + (n / 10) as u8,
            b'0' + (n % 10) as u8,
            b'\r',
            b'\n',
        ]);
        p.add(5)
    } else {
        let mut digits = itoa::Buffer::new();
        let d = digits.format(n).as_bytes();
        *p = kind;
        std::ptr::copy_nonoverlapping(d.as_ptr(), p.add(1), d.len());
        let p = p.add(1 + d.len());
        p.cast::<[u8; 2]>().write_unaligned(*b"\r\n");
        p.add(2)
    }
}

/// Appends one bulk string (`$len\r\ndata\r\n`).
#[inline]
pub fn encode_bulk(out: &mut Vec<u8>, a: &[u8]) {
    push_header(out, b'$', a.len());
    out.extend_from_slice(a);
    out.extend_from_slice(b"\r\n");
}

/// `<kind><n>\r\n` in one copy.
#[inline]
fn push_header(out: &mut Vec<u8>, kind: u8, n: usize) {
    out.reserve(HEADER_MAX);
    // SAFETY: `HEADER_MAX` bytes are reserved; `put_header` writes at most that many, and
    // the length covers exactly the bytes it wrote.
    unsafe {
        let start = out.as_mut_ptr();
        let end = put_header(start.add(out.len()), kind, n);
        out.set_len(end.offset_from(start) as usize);
    }
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Propagation {
    /// Whether writes are being recorded.
    #[inline]
    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Starts or stops recording. Stopping forgets the selected database, so the next
    /// recorded write starts with a `SELECT` again.
    pub fn set_enabled(&self, on: bool) {
        let mut log = self.log();
        log.record = on;
        self.enabled
            .store(on || log.aof.is_some(), Ordering::Relaxed);
        if !on {
            log.selected = None;
            log.entries.clear();
        }
    }

    /// Turns the AOF feed on (see the module docs). The next unit starts with a `SELECT`.
    pub fn aof_start(&self, timestamps: bool) {
        let mut log = self.log();
        log.aof = Some(AofFeed {
            buf: Vec::new(),
            selected: None,
            timestamps,
            last_ts: 0,
        });
        self.aof_len.store(0, Ordering::Relaxed);
        self.enabled.store(true, Ordering::Relaxed);
    }

    /// Turns the AOF feed off and returns what it still held.
    pub fn aof_stop(&self) -> Vec<u8> {
        let mut log = self.log();
        let feed = log.aof.take();
        self.enabled.store(log.record, Ordering::Relaxed);
        self.aof_len.store(0, Ordering::Relaxed);
        feed.map(|f| f.buf).unwrap_or_default()
    }

    /// Whether the AOF feed is on.
    pub fn aof_on(&self) -> bool {
        self.log().aof.is_some()
    }

    /// Changes `aof-timestamp-enabled` for the running feed.
    pub fn aof_set_timestamps(&self, on: bool) {
        if let Some(f) = self.log().aof.as_mut() {
            f.timestamps = on;
        }
    }

    /// Moves the feed's bytes to the end of `out` and returns the unit counter they reach.
    /// `reselect`: the bytes after this point go to a new file, which must start with its
    /// own `SELECT` (and timestamp).
    pub fn aof_take(&self, out: &mut Vec<u8>, reselect: bool) -> u64 {
        let mut log = self.log();
        if let Some(f) = log.aof.as_mut() {
            if out.is_empty() {
                std::mem::swap(out, &mut f.buf);
            } else {
                out.append(&mut f.buf);
            }
            if reselect {
                f.last_ts = 0;
                f.selected = None;
            }
        }
        self.aof_len.store(0, Ordering::Relaxed);
        self.aof_seq.load(Ordering::Relaxed)
    }

    /// Units appended to the AOF feed so far (one relaxed load).
    #[inline]
    pub fn aof_seq(&self) -> u64 {
        self.aof_seq.load(Ordering::Relaxed)
    }

    /// Bytes the AOF feed's buffer has allocated (takes the feed's mutex).
    pub fn aof_allocated(&self) -> u64 {
        self.log()
            .aof
            .as_ref()
            .map_or(0, |f| f.buf.capacity() as u64)
    }

    /// Bytes waiting in the AOF feed.
    pub fn aof_buffered(&self) -> u64 {
        self.aof_len.load(Ordering::Relaxed)
    }

    /// Takes everything recorded so far, oldest first.
    pub fn drain(&self) -> Vec<Vec<Bytes>> {
        std::mem::take(&mut self.log().entries)
    }

    /// [`Propagation::drain`] with each entry's words joined by spaces (bytes that are not
    /// UTF-8 shown lossily): what tests compare against.
    pub fn drain_text(&self) -> Vec<String> {
        self.drain()
            .iter()
            .map(|argv| {
                argv.iter()
                    .map(|w| String::from_utf8_lossy(w).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// The log's mutex. Writes on both workers take it for each unit, for about a hundred
    /// instructions, while holding their shard locks; so a writer that finds it taken
    /// spins (up to [`FEED_SPINS`] looks, about a microsecond) before falling back to
    /// `parking_lot`'s wait, whose early `sched_yield`s give the core away for a whole time
    /// slice when another process shares it. redis-benchmark SET `-c 50` with `appendfsync
    /// everysec` against AOF off on 2 cores (fresh processes, medians of 4-5 rounds, three
    /// runs): `-P 16` -18…-22% → -7.6…-9.4% (sched_yield calls per million SETs 54k → 39k,
    /// 28k with AOF off); `-P 1` within noise. 100 looks measured the same; encoding into a
    /// thread-local buffer outside the mutex (a shorter critical section) no better.
    #[inline]
    fn log(&self) -> MutexGuard<'_, Log> {
        if let Some(log) = self.log.try_lock() {
            return log;
        }
        for _ in 0..FEED_SPINS {
            std::hint::spin_loop();
            if !self.log.is_locked() {
                if let Some(log) = self.log.try_lock() {
                    return log;
                }
            }
        }
        self.log.lock()
    }

    /// [`Propagation::append`] for a unit of exactly one write (the common case: no
    /// intermediate vector).
    fn append_one(&self, db: usize, argv: Vec<Bytes>) {
        if !self.enabled() {
            return;
        }
        // Encoded straight into the feed under the log's mutex: one copy of each argument,
        // about a hundred instructions in the critical section (encoding into a thread-local
        // scratch first and copying it in cost more instructions and measured no better,
        // with the mutex waited for in `parking_lot`'s way and with spinning).
        let mut log = self.log();
        if let Some(f) = log.aof.as_mut() {
            if f.timestamps {
                f.timestamp();
            }
            f.select(db);
            encode_command(&mut f.buf, &argv);
            let len = f.buf.len();
            self.aof_len.store(len as u64, Ordering::Relaxed);
            // Only written under the log's mutex: a plain increment, no atomic RMW.
            let seq = self.aof_seq.load(Ordering::Relaxed);
            self.aof_seq.store(seq + 1, Ordering::Relaxed);
        }
        if log.record {
            log.select(db);
            log.entries.push(argv);
        }
    }

    /// Appends one unit's writes: `SELECT` when the database changes, and `MULTI`/`EXEC`
    /// around a unit of more than one write.
    pub(super) fn append(&self, ops: &mut Vec<(usize, Vec<Bytes>)>) {
        if ops.is_empty() {
            return;
        }
        if !self.enabled() {
            ops.clear();
            return;
        }
        if ops.len() == 1 {
            if let Some((db, argv)) = ops.pop() {
                self.append_one(db, argv);
            }
            return;
        }
        let mut log = self.log();
        if log.aof.is_some() {
            let len = log.feed_aof(ops);
            self.aof_len.store(len as u64, Ordering::Relaxed);
            let seq = self.aof_seq.load(Ordering::Relaxed);
            self.aof_seq.store(seq + 1, Ordering::Relaxed);
            if !log.record {
                ops.clear();
                return;
            }
        }
        let wrap = ops.len() > 1;
        if wrap {
            let db = ops[0].0;
            log.select(db);
            log.entries.push(vec![Bytes::from_static(b"MULTI")]);
        }
        for (db, argv) in ops.drain(..) {
            log.select(db);
            log.entries.push(argv);
        }
        if wrap {
            log.entries.push(vec![Bytes::from_static(b"EXEC")]);
        }
    }
}

impl Log {
    fn select(&mut self, db: usize) {
        if self.selected != Some(db) {
            self.selected = Some(db);
            self.entries.push(vec![
                Bytes::from_static(b"SELECT"),
                Bytes::from(db.to_string()),
            ]);
        }
    }

    /// Encodes one unit into the AOF feed; returns the feed's length.
    fn feed_aof(&mut self, ops: &[(usize, Vec<Bytes>)]) -> usize {
        let Some(f) = self.aof.as_mut() else {
            return 0;
        };
        if f.timestamps {
            f.timestamp();
        }
        let wrap = ops.len() > 1;
        if wrap {
            f.select(ops[0].0);
            encode_command(&mut f.buf, &[Bytes::from_static(b"MULTI")]);
        }
        for (db, argv) in ops {
            f.select(*db);
            encode_command(&mut f.buf, argv);
        }
        if wrap {
            encode_command(&mut f.buf, &[Bytes::from_static(b"EXEC")]);
        }
        f.buf.len()
    }
}

impl AofFeed {
    /// `#TS:<unix seconds>` when a new second began since the last one written.
    fn timestamp(&mut self) {
        let now = unix_seconds();
        if now > self.last_ts {
            self.last_ts = now;
            self.buf
                .extend_from_slice(format!("#TS:{now}\r\n").as_bytes());
        }
    }

    #[inline]
    fn select(&mut self, db: usize) {
        if self.selected != Some(db) {
            self.selected = Some(db);
            let mut n = itoa::Buffer::new();
            let db = n.format(db).as_bytes();
            self.buf.extend_from_slice(b"*2\r\n$6\r\nSELECT\r\n");
            encode_bulk(&mut self.buf, db);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
    }

    #[test]
    fn encoding_matches_resp() {
        let long = "x".repeat(12345);
        for n in 0..=40 {
            let w: String = (0..n).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let mut out = Vec::new();
            encode_command(&mut out, &argv(&[&w]));
            assert_eq!(out, format!("*1\r\n${n}\r\n{w}\r\n").as_bytes());
        }
        let words = ["SET", "", "k", "0123456789", &long];
        let mut want = Vec::new();
        for n in [0usize, 1, 2, 3, 5] {
            let argv = argv(&words[..n]);
            want.extend_from_slice(format!("*{n}\r\n").as_bytes());
            for a in &argv {
                want.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                want.extend_from_slice(a);
                want.extend_from_slice(b"\r\n");
            }
            let mut out = b"prefix".to_vec();
            encode_command(&mut out, &argv);
            assert_eq!(&out[..6], b"prefix");
            assert_eq!(&out[6..], &want[..]);
            want.clear();
        }
        let many: Vec<String> = (0..150).map(|i| i.to_string()).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let mut out = Vec::new();
        encode_command(&mut out, &argv(&many));
        assert!(out.starts_with(b"*150\r\n$1\r\n0\r\n"));
        assert!(out.ends_with(b"$3\r\n149\r\n"));
        for n in [0usize, 9, 10, 99, 100, 999, 1000, usize::MAX] {
            let mut out = Vec::new();
            push_header(&mut out, b'$', n);
            assert_eq!(out, format!("${n}\r\n").as_bytes());
        }
    }

    #[test]
    fn units_select_and_wrap() {
        let p = Propagation::default();
        p.append(&mut vec![(0, argv(&["SET", "a", "1"]))]);
        assert!(p.drain().is_empty(), "nothing is recorded until enabled");
        p.set_enabled(true);
        p.append(&mut vec![(0, argv(&["SET", "a", "1"]))]);
        p.append(&mut vec![
            (0, argv(&["DEL", "a"])),
            (3, argv(&["INCR", "b"])),
        ]);
        p.append(&mut vec![(3, argv(&["INCR", "b"]))]);
        let got: Vec<String> = p.drain_text();
        assert_eq!(
            got,
            ["SELECT 0", "SET a 1", "MULTI", "DEL a", "SELECT 3", "INCR b", "EXEC", "INCR b"]
        );
    }
}
