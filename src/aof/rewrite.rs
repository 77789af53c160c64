//! Writing a new base file from a point-in-time view of the keyspace, without fork and
//! without a copy of the dataset.
//!
//! # Design
//! At the cut point (every shard locked, see `Aof::begin_rewrite`) the writes from then on
//! are directed to a new incremental file and [`Keyspace::begin_dump`] marks every shard
//! "not yet dumped". The rewriter thread then locks the shards one at a time; whoever
//! locks a marked shard first — the rewriter, or a command about to change it — serializes
//! it into the base file under that lock (the [`ShardDumper`] below). Each shard is thus
//! written exactly as it was at the cut, and every write after the cut is in the new
//! incremental file: nothing is applied twice, nothing is lost. Memory stays flat: values
//! go straight from the shard into a 256 KB buffered writer; the only cost is that the first
//! command to touch a not-yet-dumped shard waits while that shard (1/16 of the keyspace) is
//! written. Keys already past their deadline at the cut are left out (a replay would drop
//! them anyway).
//!
//! Each type is written as Redis 7.0's `rewriteAppendOnlyFileRio` writes it: `SET`,
//! `RPUSH`/`SADD`/`ZADD`/`HMSET` in batches of 64 items, streams as `XADD`… `XSETID …
//! ENTRIESADDED … MAXDELETEDID …`, `XGROUP CREATE … ENTRIESREAD …`, `XCLAIM … JUSTID FORCE`
//! per pending entry and `XGROUP CREATECONSUMER` for consumers without one, then
//! `PEXPIREAT` for keys with a deadline, every database's keys after its `SELECT`.
//!
//! # Extension point: sections before the keyspace
//! Redis writes `FUNCTION LOAD` lines for every function library at the start of the base.
//! A subsystem with such state registers a [`BaseSection`] with
//! [`crate::aof::register_base_section`]; the rewriter calls each one (at the cut, under
//! every shard lock) and writes the commands it returns before the keyspace.

use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;

use crate::protocol::number::format_g17;
use crate::shared::Shared;
use crate::storage::effects::{encode_bulk, encode_command};
use crate::storage::stream::StreamId;
use crate::storage::{Entry, ShardDumper, ShardView, StrValue, Value};

/// Items per command for collections (Redis's `AOF_REWRITE_ITEMS_PER_CMD`).
const ITEMS_PER_CMD: usize = 64;

/// Commands to write at the start of every base file (e.g. `FUNCTION LOAD <code>` per
/// function library), computed at the cut point.
pub type BaseSection = fn(&Shared) -> Vec<Vec<Bytes>>;

/// The dumper of one rewrite: serializes shards into the temporary base file.
pub struct BaseWriter {
    /// The file, and the database its last `SELECT` chose.
    out: Mutex<(Option<BufWriter<std::fs::File>>, Option<usize>)>,
    /// The cut point's time: keys that expired before it are not written.
    cut_ms: u64,
    /// First I/O error, if any (the rewrite then fails, the old files stay).
    error: Mutex<Option<std::io::Error>>,
    /// Keys written (for the log).
    pub keys: AtomicU64,
}

impl BaseWriter {
    /// A writer of a base file to `file`, skipping keys expired before `cut_ms`.
    pub fn new(file: std::fs::File, cut_ms: u64) -> Self {
        BaseWriter {
            out: Mutex::new((Some(BufWriter::with_capacity(256 * 1024, file)), None)),
            cut_ms,
            error: Mutex::new(None),
            keys: AtomicU64::new(0),
        }
    }

    /// Writes raw bytes (the preamble: timestamp, sections).
    pub fn write_raw(&self, data: &[u8]) {
        let mut out = self.out.lock();
        if let Some(w) = out.0.as_mut() {
            if let Err(e) = w.write_all(data) {
                self.fail(e);
            }
        }
    }

    fn fail(&self, e: std::io::Error) {
        let mut err = self.error.lock();
        if err.is_none() {
            *err = Some(e);
        }
    }

    /// Flushes and fsyncs the file; the first error of the whole dump if there was one.
    pub fn finish(&self) -> std::io::Result<u64> {
        if let Some(e) = self.error.lock().take() {
            return Err(e);
        }
        let Some(w) = self.out.lock().0.take() else {
            return Err(std::io::Error::other("base file already finished"));
        };
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(f.metadata()?.len())
    }
}

impl ShardDumper for BaseWriter {
    fn dump_shard(&self, _index: usize, view: ShardView<'_>) {
        let mut out = self.out.lock();
        let (Some(w), last_db) = &mut *out else {
            return;
        };
        if self.error.lock().is_some() {
            return;
        }
        let mut buf = Vec::with_capacity(64 * 1024);
        let mut n = 0u64;
        let mut result = Ok(());
        for db in 0..view.databases() {
            view.for_each(db, |key, entry| {
                if result.is_err() {
                    return;
                }
                if entry.expire_at().is_some_and(|t| t < self.cut_ms) {
                    return;
                }
                if *last_db != Some(db) {
                    *last_db = Some(db);
                    let d = db.to_string();
                    encode_command(&mut buf, &[Bytes::from_static(b"SELECT"), Bytes::from(d)]);
                }
                write_key(&mut buf, key, entry);
                n += 1;
                if buf.len() >= 32 * 1024 {
                    result = w.write_all(&buf);
                    buf.clear();
                }
            });
        }
        if result.is_ok() && !buf.is_empty() {
            result = w.write_all(&buf);
        }
        if let Err(e) = result {
            self.fail(e);
        }
        self.keys.fetch_add(n, Ordering::Relaxed);
    }
}

fn header(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn bulk_u64(out: &mut Vec<u8>, v: u64) {
    encode_bulk(out, itoa::Buffer::new().format(v).as_bytes());
}

fn bulk_i64(out: &mut Vec<u8>, v: i64) {
    encode_bulk(out, itoa::Buffer::new().format(v).as_bytes());
}

fn bulk_id(out: &mut Vec<u8>, id: StreamId) {
    encode_bulk(out, format!("{}-{}", id.ms, id.seq).as_bytes());
}

/// Writes a collection as `CMD key item…` commands of at most [`ITEMS_PER_CMD`] items
/// (`width` words per item).
fn batched<'a>(
    out: &mut Vec<u8>,
    cmd: &[u8],
    key: &[u8],
    total: usize,
    width: usize,
    items: impl Iterator<Item = Vec<std::borrow::Cow<'a, [u8]>>>,
) {
    let mut left = total;
    let mut in_cmd = 0;
    for item in items {
        if in_cmd == 0 {
            let count = left.min(ITEMS_PER_CMD);
            header(out, 2 + count * width);
            encode_bulk(out, cmd);
            encode_bulk(out, key);
        }
        for w in &item {
            encode_bulk(out, w);
        }
        in_cmd += 1;
        left -= 1;
        if in_cmd == ITEMS_PER_CMD {
            in_cmd = 0;
        }
    }
}

/// Appends the commands that rebuild `key` (and its deadline).
pub fn write_key(out: &mut Vec<u8>, key: &[u8], entry: &Entry) {
    use std::borrow::Cow;
    match entry.value() {
        Value::Str(s) => {
            header(out, 3);
            encode_bulk(out, b"SET");
            encode_bulk(out, key);
            match s {
                StrValue::Int(n) => bulk_i64(out, *n),
                other => encode_bulk(out, &other.to_bytes()),
            }
        }
        Value::List(l) => batched(
            out,
            b"RPUSH",
            key,
            l.len(),
            1,
            l.iter().map(|e| vec![Cow::Borrowed(e)]),
        ),
        Value::Set(s) => batched(
            out,
            b"SADD",
            key,
            s.len(),
            1,
            s.iter().map(|m| vec![Cow::Owned(m.to_bytes().to_vec())]),
        ),
        Value::ZSet(z) => batched(
            out,
            b"ZADD",
            key,
            z.len(),
            2,
            z.iter().map(|(score, m)| {
                vec![
                    Cow::Owned(format_g17(score).into_bytes()),
                    Cow::Borrowed(m.as_ref()),
                ]
            }),
        ),
        Value::Hash(h) => batched(
            out,
            b"HMSET",
            key,
            h.len(),
            2,
            h.iter()
                .map(|(f, v)| vec![Cow::Borrowed(f), Cow::Borrowed(v)]),
        ),
        Value::Stream(s) => write_stream(out, key, s),
    }
    if let Some(t) = entry.expire_at() {
        header(out, 3);
        encode_bulk(out, b"PEXPIREAT");
        encode_bulk(out, key);
        bulk_u64(out, t);
    }
}

fn write_stream(out: &mut Vec<u8>, key: &[u8], s: &crate::storage::Stream) {
    if s.is_empty() {
        // The XADD MAXLEN 0 trick: an empty stream.
        header(out, 7);
        for w in [&b"XADD"[..], key, b"MAXLEN", b"0", b"0-1", b"x", b"y"] {
            encode_bulk(out, w);
        }
    } else {
        s.for_range(StreamId::MIN, StreamId::MAX, false, |e| {
            header(out, 3 + e.fields.len());
            encode_bulk(out, b"XADD");
            encode_bulk(out, key);
            bulk_id(out, e.id);
            for f in &e.fields {
                encode_bulk(out, f);
            }
            true
        });
    }
    header(out, 7);
    encode_bulk(out, b"XSETID");
    encode_bulk(out, key);
    bulk_id(out, s.last_id);
    encode_bulk(out, b"ENTRIESADDED");
    bulk_u64(out, s.entries_added);
    encode_bulk(out, b"MAXDELETEDID");
    bulk_id(out, s.max_deleted);
    for (name, g) in &s.groups {
        header(out, 7);
        encode_bulk(out, b"XGROUP");
        encode_bulk(out, b"CREATE");
        encode_bulk(out, key);
        encode_bulk(out, name);
        bulk_id(out, g.last_id);
        encode_bulk(out, b"ENTRIESREAD");
        bulk_i64(out, g.entries_read);
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                header(out, 5);
                encode_bulk(out, b"XGROUP");
                encode_bulk(out, b"CREATECONSUMER");
                encode_bulk(out, key);
                encode_bulk(out, name);
                encode_bulk(out, cname);
                continue;
            }
            for id in &c.pel {
                let Some(nack) = g.pel.get(id) else { continue };
                header(out, 12);
                encode_bulk(out, b"XCLAIM");
                encode_bulk(out, key);
                encode_bulk(out, name);
                encode_bulk(out, cname);
                encode_bulk(out, b"0");
                bulk_id(out, *id);
                encode_bulk(out, b"TIME");
                bulk_u64(out, nack.delivery_time);
                encode_bulk(out, b"RETRYCOUNT");
                bulk_u64(out, nack.delivery_count);
                encode_bulk(out, b"JUSTID");
                encode_bulk(out, b"FORCE");
            }
        }
    }
}
