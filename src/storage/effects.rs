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
//! here rather than beside it: the AOF writer drains
//! [`Propagation`].

use bytes::Bytes;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// One keyspace event: `event` happened to `key` in database `db`; `class` is its
/// notification class (a `crate::notify` bit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    pub db: usize,
    pub key: Bytes,
    pub class: u32,
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
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.propagate.is_empty() && self.ready.is_empty()
    }
}

/// The propagation stream: every write in the form a replica or an append-only file replays,
/// in execution order. Recording is off until a consumer turns it on, so a server without one
/// pays one atomic load per write.
#[derive(Debug, Default)]
pub struct Propagation {
    enabled: AtomicBool,
    log: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    /// The database the stream last selected (`None`: nothing selected yet).
    selected: Option<usize>,
    entries: Vec<Vec<Bytes>>,
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
        let mut log = self.log.lock();
        self.enabled.store(on, Ordering::Relaxed);
        if !on {
            log.selected = None;
            log.entries.clear();
        }
    }

    /// Takes everything recorded so far, oldest first.
    pub fn drain(&self) -> Vec<Vec<Bytes>> {
        std::mem::take(&mut self.log.lock().entries)
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
        let mut log = self.log.lock();
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
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
