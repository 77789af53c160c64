//! A stream: entries ordered by ID, plus its consumer groups (Redis 7.0 semantics).
//!
//! # Representation
//! Entries live in *nodes* of at most [`NODE_MAX_ENTRIES`] entries (live or deleted) and
//! about [`NODE_MAX_BYTES`] bytes, keyed in a `BTreeMap` by their *master ID* (the ID of the
//! first entry ever added to the node), as Redis's radix tree of listpacks does. A node is
//! one byte buffer: each entry is a flags byte, the ID as varint deltas from the master ID,
//! and its values as length-prefixed bytes. The field names of the node's first entry are
//! kept once per node; an entry with the same field names (the common case: producers add
//! the same shape again and again) stores only its values. That is what makes 1M small
//! entries cost tens of bytes each instead of a `Vec<Bytes>` per entry.
//!
//! Node boundaries follow Redis's rule (a new node when the current one holds
//! [`NODE_MAX_ENTRIES`] entries or its *listpack* would reach [`NODE_MAX_BYTES`]; the
//! listpack size is estimated with Redis's element encodings), because approximate trimming
//! (`MAXLEN ~`) removes whole nodes only and its counts must match Redis's.
//!
//! Deletion (XDEL, exact trimming inside a node) marks entries deleted in place; a node whose
//! entries are all deleted is dropped.
//!
//! # Consumer groups
//! [`Group`]s keep the last delivered ID, the logical `entries_read` counter, a pending
//! entries list (PEL) of [`Nack`]s and the consumers, each with its own PEL (a set of IDs
//! that point into the group's). `entries_read` and `lag` follow Redis 7.0's rules
//! ([`Stream::estimate_entries_read`], [`Stream::range_has_tombstones`]).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

/// Entries per node (live and deleted), Redis's `stream-node-max-entries` default.
pub const NODE_MAX_ENTRIES: u32 = 100;
/// Listpack bytes per node, Redis's `stream-node-max-bytes` default.
pub const NODE_MAX_BYTES: usize = 4096;
/// `entries_read` when it is unknown (Redis's `SCG_INVALID_ENTRIES_READ`).
pub const INVALID_ENTRIES_READ: i64 = -1;

const DELETED: u8 = 1;
const SAME_FIELDS: u8 = 2;

/// A stream entry ID: milliseconds and a sequence number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    /// The milliseconds part (by default the Unix time the entry was added).
    pub ms: u64,
    /// The sequence number within the millisecond.
    pub seq: u64,
}

impl StreamId {
    /// `0-0`, the smallest ID (never a valid entry ID).
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID, `18446744073709551615-18446744073709551615`.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// The ID `ms-seq`.
    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The next ID, `None` after the last possible one.
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID, `None` before `0-0`.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// Whether this is `0-0`.
    pub fn is_zero(self) -> bool {
        self == StreamId::MIN
    }

    /// `ms-seq`, as replies show IDs.
    pub fn to_bytes(self) -> Bytes {
        Bytes::from(self.to_string())
    }

    /// Parses `ms-seq` or `ms` (the sequence is then `missing_seq`). `None` when it is not
    /// an ID. Returns whether the sequence was given.
    pub fn parse(s: &[u8], missing_seq: u64) -> Option<(StreamId, bool)> {
        let parse_u64 = |d: &[u8]| -> Option<u64> {
            // strtoull-like as Redis uses it through string2ull: digits only.
            if d.is_empty() || d.len() > 20 || !d.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(d).ok()?.parse::<u64>().ok()
        };
        if s.len() > 127 {
            return None;
        }
        match s.iter().position(|&c| c == b'-') {
            Some(dash) => {
                let ms = parse_u64(&s[..dash])?;
                let seq = parse_u64(&s[dash + 1..])?;
                Some((StreamId::new(ms, seq), true))
            }
            None => Some((StreamId::new(parse_u64(s)?, missing_seq), false)),
        }
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// One entry as read: its ID and `field, value, field, value…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamEntry {
    /// The entry's ID.
    pub id: StreamId,
    /// Its fields and values, alternating.
    pub fields: Vec<Bytes>,
}

// ---------------------------------------------------------------------------------------
// Encoding helpers.

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(data: &[u8], pos: &mut usize) -> u64 {
    let mut v: u64 = 0;
    let mut shift = 0;
    while let Some(&b) = data.get(*pos) {
        *pos += 1;
        if shift < 64 {
            v |= u64::from(b & 0x7f) << shift;
        }
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    v
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn skip_bytes(data: &[u8], pos: &mut usize) {
    let n = get_varint(data, pos) as usize;
    *pos = (*pos + n).min(data.len());
}

fn get_bytes(data: &[u8], pos: &mut usize) -> Bytes {
    let n = get_varint(data, pos) as usize;
    let start = (*pos).min(data.len());
    let end = (start + n).min(data.len());
    *pos = end;
    Bytes::copy_from_slice(&data[start..end])
}

/// Size of a listpack element's back-length field for an element of `l` bytes.
fn lp_backlen(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Bytes a listpack spends on integer `v`.
fn lp_int_size(v: i64) -> usize {
    let enc = if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if i16::try_from(v).is_ok() {
        3
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        4
    } else if i32::try_from(v).is_ok() {
        5
    } else {
        9
    };
    enc + lp_backlen(enc)
}

/// Bytes a listpack spends on string `s` (integers in canonical form are stored as such).
fn lp_str_size(s: &[u8]) -> usize {
    if let Some(v) = crate::protocol::number::parse_i64(s) {
        return lp_int_size(v);
    }
    let enc = match s.len() {
        0..=63 => 1,
        64..=4095 => 2,
        _ => 5,
    };
    let l = enc + s.len();
    l + lp_backlen(l)
}

/// A copy of `b` that owns its bytes. Arguments are slices of a connection's read buffer;
/// keeping one (a node's field names, a consumer's name) would pin the whole buffer.
fn own(b: &[u8]) -> Bytes {
    Bytes::copy_from_slice(b)
}

// ---------------------------------------------------------------------------------------
// Nodes.

#[derive(Clone, Debug, PartialEq, Eq)]
struct Node {
    /// Field names of the master entry.
    fields: Box<[Bytes]>,
    data: Vec<u8>,
    live: u32,
    deleted: u32,
    /// Estimated size of the equivalent Redis listpack (for node boundaries).
    lp_bytes: u32,
}

/// One decoded entry header inside a node.
#[derive(Clone, Copy, Debug)]
struct Raw {
    /// Offset of the flags byte.
    at: usize,
    flags: u8,
    id: StreamId,
    /// Offset of the field count (not same-fields) or the first value.
    body: usize,
    /// Offset just past the entry.
    end: usize,
}

impl Raw {
    fn deleted(&self) -> bool {
        self.flags & DELETED != 0
    }
}

impl Node {
    fn new(fields: &[Bytes]) -> Node {
        let mut lp = 6 + 1 + lp_int_size(0) * 3 + lp_int_size(fields.len() as i64);
        for f in fields {
            lp += lp_str_size(f);
        }
        Node {
            fields: fields.iter().map(|f| own(f)).collect(),
            data: Vec::new(),
            live: 0,
            deleted: 0,
            lp_bytes: lp as u32,
        }
    }

    fn count(&self) -> u32 {
        self.live + self.deleted
    }

    fn decode(&self, master: StreamId, at: usize) -> Option<Raw> {
        let data = &self.data;
        let flags = *data.get(at)?;
        let mut pos = at + 1;
        let ms_delta = get_varint(data, &mut pos);
        let seq_delta = get_varint(data, &mut pos);
        let id = StreamId::new(
            master.ms.wrapping_add(ms_delta),
            master.seq.wrapping_add(seq_delta),
        );
        let body = pos;
        let n = if flags & SAME_FIELDS != 0 {
            self.fields.len()
        } else {
            let n = get_varint(data, &mut pos) as usize;
            for _ in 0..n {
                skip_bytes(data, &mut pos);
            }
            n
        };
        for _ in 0..n {
            skip_bytes(data, &mut pos);
        }
        Some(Raw {
            at,
            flags,
            id,
            body,
            end: pos,
        })
    }

    fn raws(&self, master: StreamId) -> impl Iterator<Item = Raw> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            let raw = self.decode(master, at)?;
            at = raw.end.max(at + 1);
            Some(raw)
        })
    }

    fn fields_of(&self, raw: &Raw) -> Vec<Bytes> {
        let data = &self.data;
        let mut pos = raw.body;
        if raw.flags & SAME_FIELDS != 0 {
            let mut out = Vec::with_capacity(self.fields.len() * 2);
            for f in self.fields.iter() {
                out.push(f.clone());
                out.push(get_bytes(data, &mut pos));
            }
            out
        } else {
            let n = get_varint(data, &mut pos) as usize;
            let names: Vec<Bytes> = (0..n).map(|_| get_bytes(data, &mut pos)).collect();
            let mut out = Vec::with_capacity(n * 2);
            for f in names {
                out.push(f);
                out.push(get_bytes(data, &mut pos));
            }
            out
        }
    }

    /// The listpack bytes an entry of `pairs` adds to this node, and its elements' length.
    fn entry_lp_size(&self, master: StreamId, id: StreamId, pairs: &[Bytes]) -> (usize, usize) {
        let same = self.same_fields(pairs);
        let n = pairs.len() / 2;
        let mut size = lp_int_size(0)
            + lp_int_size(id.ms.wrapping_sub(master.ms) as i64)
            + lp_int_size(id.seq.wrapping_sub(master.seq) as i64);
        let mut elems = 0;
        for (i, p) in pairs.iter().enumerate() {
            elems += p.len();
            if i % 2 == 1 || !same {
                size += lp_str_size(p);
            }
        }
        let lp_count = if same { n + 3 } else { n * 2 + 4 };
        if !same {
            size += lp_int_size(n as i64);
        }
        size += lp_int_size(lp_count as i64);
        (size, elems)
    }

    fn same_fields(&self, pairs: &[Bytes]) -> bool {
        pairs.len() / 2 == self.fields.len()
            && pairs
                .chunks(2)
                .zip(self.fields.iter())
                .all(|(p, f)| p[0] == *f)
    }

    fn append(&mut self, master: StreamId, id: StreamId, pairs: &[Bytes], lp_size: usize) {
        let same = self.same_fields(pairs);
        self.data.push(if same { SAME_FIELDS } else { 0 });
        put_varint(&mut self.data, id.ms.wrapping_sub(master.ms));
        put_varint(&mut self.data, id.seq.wrapping_sub(master.seq));
        if same {
            for v in pairs.iter().skip(1).step_by(2) {
                put_bytes(&mut self.data, v);
            }
        } else {
            put_varint(&mut self.data, (pairs.len() / 2) as u64);
            for f in pairs.iter().step_by(2) {
                put_bytes(&mut self.data, f);
            }
            for v in pairs.iter().skip(1).step_by(2) {
                put_bytes(&mut self.data, v);
            }
        }
        self.live += 1;
        self.lp_bytes = self.lp_bytes.saturating_add(lp_size as u32);
    }

    fn mark_deleted(&mut self, raw: &Raw) {
        if let Some(f) = self.data.get_mut(raw.at) {
            *f |= DELETED;
        }
        self.live -= 1;
        self.deleted += 1;
    }
}

// ---------------------------------------------------------------------------------------
// Consumer groups.

/// A pending (delivered, not acknowledged) entry of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    /// Last delivery, ms.
    pub delivery_time: u64,
    /// How many times the entry was delivered (XINFO/XPENDING's delivery counter).
    pub delivery_count: u64,
    /// The consumer that owns the entry.
    pub consumer: Bytes,
}

/// A consumer of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consumer {
    /// Last time it read or claimed, ms.
    pub seen_time: u64,
    /// IDs it owns in the group's PEL.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group (XGROUP CREATE).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// The group's last delivered ID: `>` reads entries after it.
    pub last_id: StreamId,
    /// Logical count of entries read; [`INVALID_ENTRIES_READ`] when unknown.
    pub entries_read: i64,
    /// The group's pending entries list (PEL): delivered, not yet acknowledged.
    pub pel: BTreeMap<StreamId, Nack>,
    /// The group's consumers, by name.
    pub consumers: BTreeMap<Bytes, Consumer>,
}

impl Group {
    /// A group with no consumers and nothing pending, at `last_id`.
    pub fn new(last_id: StreamId, entries_read: i64) -> Group {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// The consumer `name`, created (seen now) when missing; returns whether it was created.
    pub fn consumer(&mut self, name: &Bytes, now: u64) -> (&mut Consumer, bool) {
        let created = !self.consumers.contains_key(name);
        if created {
            let c = Consumer {
                seen_time: now,
                pel: BTreeSet::new(),
            };
            self.consumers.insert(own(name), c);
        }
        // Occupied now: `entry` keeps the stored (owned) key and drops this cheap clone.
        let c = self
            .consumers
            .entry(name.clone())
            .or_insert_with(|| Consumer {
                seen_time: now,
                pel: BTreeSet::new(),
            });
        (c, created)
    }

    /// Removes a consumer and its pending entries; how many were pending.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    /// Assigns pending entry `id` to `consumer` (creating the NACK when missing), with the
    /// given delivery time and count.
    pub fn assign(&mut self, id: StreamId, consumer: &Bytes, time: u64, count: u64) {
        // Share the consumer's own copy of its name rather than the caller's slice.
        let consumer = match self.consumers.get_key_value(consumer) {
            Some((k, _)) => k.clone(),
            None => own(consumer),
        };
        let consumer = &consumer;
        if let Some(old) = self.pel.get(&id).map(|n| n.consumer.clone()) {
            if let Some(c) = self.consumers.get_mut(&old) {
                c.pel.remove(&id);
            }
        }
        self.pel.insert(
            id,
            Nack {
                delivery_time: time,
                delivery_count: count,
                consumer: consumer.clone(),
            },
        );
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Acknowledges `id`; whether it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(n) => {
                if let Some(c) = self.consumers.get_mut(&n.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The stream.

/// Why an ID could not be used for XADD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddError {
    /// The ID is not above the stream's last ID.
    TooSmall,
    /// The last possible ID was already used.
    Exhausted,
}

/// How XADD names the new entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NewId {
    /// `*`
    Auto,
    /// `ms-*`
    Seq(u64),
    /// `ms-seq`
    Exact(StreamId),
}

/// What to trim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trim {
    /// `MAXLEN`: keep at most this many entries.
    MaxLen(u64),
    /// `MINID`: drop entries with IDs below this one.
    MinId(StreamId),
}

/// A stream value: entries in listpack-like nodes, plus its consumer groups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stream {
    nodes: BTreeMap<StreamId, Node>,
    length: u64,
    /// The ID of the last entry ever added (deletions don't move it back).
    pub last_id: StreamId,
    /// The largest ID ever deleted (XINFO `max-deleted-entry-id`).
    pub max_deleted: StreamId,
    /// How many entries were ever added (XINFO `entries-added`).
    pub entries_added: u64,
    /// The consumer groups, by name.
    pub groups: BTreeMap<Bytes, Group>,
}

impl Stream {
    /// An empty stream (last ID `0-0`, no groups).
    pub fn new() -> Stream {
        Stream::default()
    }

    /// The number of live entries (XLEN).
    pub fn len(&self) -> usize {
        self.length as usize
    }

    /// Whether no live entries remain (a stream may exist empty).
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    /// Nodes, for XINFO STREAM FULL's `radix-tree-nodes`-like figures.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The ID an XADD would give its entry, at time `now`.
    pub fn next_id(&self, want: NewId, now: u64) -> Result<StreamId, AddError> {
        let last = self.last_id;
        let id = match want {
            NewId::Auto => {
                if now > last.ms {
                    StreamId::new(now, 0)
                } else {
                    last.next().ok_or(AddError::Exhausted)?
                }
            }
            NewId::Seq(ms) => {
                if ms == last.ms {
                    if last.seq == u64::MAX {
                        return Err(AddError::TooSmall);
                    }
                    StreamId::new(ms, last.seq + 1)
                } else {
                    StreamId::new(ms, 0)
                }
            }
            NewId::Exact(id) => id,
        };
        if id <= last {
            return Err(AddError::TooSmall);
        }
        Ok(id)
    }

    /// Appends an entry (`pairs` = field, value, …) with an ID from [`Stream::next_id`].
    pub fn append(&mut self, id: StreamId, pairs: &[Bytes]) {
        let fits = match self.nodes.last_key_value() {
            Some((master, node)) => {
                let (_, elems) = node.entry_lp_size(*master, id, pairs);
                node.count() < NODE_MAX_ENTRIES && (node.lp_bytes as usize) + elems < NODE_MAX_BYTES
            }
            None => false,
        };
        if !fits {
            // The last node is sealed: give back its growth slack.
            if let Some(mut e) = self.nodes.last_entry() {
                e.get_mut().data.shrink_to_fit();
            }
            let fields: Vec<Bytes> = pairs.iter().step_by(2).cloned().collect();
            self.nodes.insert(id, Node::new(&fields));
        }
        if let Some(mut e) = self.nodes.last_entry() {
            let master = *e.key();
            let node = e.get_mut();
            let (size, _) = node.entry_lp_size(master, id, pairs);
            node.append(master, id, pairs, size);
        }
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
    }

    /// The first live entry's ID (`0-0` when empty).
    pub fn first_id(&self) -> StreamId {
        self.first_entry_id().unwrap_or_default()
    }

    fn first_entry_id(&self) -> Option<StreamId> {
        for (master, node) in &self.nodes {
            if let Some(r) = node.raws(*master).find(|r| !r.deleted()) {
                return Some(r.id);
            }
        }
        None
    }

    /// The last live entry's ID.
    pub fn last_entry_id(&self) -> Option<StreamId> {
        for (master, node) in self.nodes.iter().rev() {
            if let Some(r) = node.raws(*master).filter(|r| !r.deleted()).last() {
                return Some(r.id);
            }
        }
        None
    }

    /// Entries with `start <= id <= end`, in order (`rev`: from `end` down), at most `count`.
    pub fn range(
        &self,
        start: StreamId,
        end: StreamId,
        count: Option<usize>,
        rev: bool,
    ) -> Vec<StreamEntry> {
        let mut out = Vec::new();
        self.for_range(start, end, rev, |e| {
            if count.is_some_and(|c| out.len() >= c) {
                return false;
            }
            out.push(e);
            true
        });
        out
    }

    /// Calls `visit` for each live entry in `[start, end]` until it returns false.
    pub fn for_range(
        &self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        mut visit: impl FnMut(StreamEntry) -> bool,
    ) {
        if start > end {
            return;
        }
        if !rev {
            let first_key = self
                .nodes
                .range(..=start)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(StreamId::MIN);
            for (master, node) in self.nodes.range(first_key..=end) {
                for r in node.raws(*master) {
                    if r.id > end {
                        return;
                    }
                    if r.deleted() || r.id < start {
                        continue;
                    }
                    let e = StreamEntry {
                        id: r.id,
                        fields: node.fields_of(&r),
                    };
                    if !visit(e) {
                        return;
                    }
                }
            }
        } else {
            for (master, node) in self.nodes.range(..=end).rev() {
                let raws: Vec<Raw> = node.raws(*master).collect();
                for r in raws.iter().rev() {
                    if r.id < start {
                        return;
                    }
                    if r.deleted() || r.id > end {
                        continue;
                    }
                    let e = StreamEntry {
                        id: r.id,
                        fields: node.fields_of(r),
                    };
                    if !visit(e) {
                        return;
                    }
                }
            }
        }
    }

    /// The live entry `id`.
    pub fn get(&self, id: StreamId) -> Option<StreamEntry> {
        self.range(id, id, Some(1), false).pop()
    }

    /// Whether the live entry `id` exists.
    pub fn contains(&self, id: StreamId) -> bool {
        let Some((master, node)) = self.nodes.range(..=id).next_back() else {
            return false;
        };
        node.raws(*master)
            .take_while(|r| r.id <= id)
            .any(|r| r.id == id && !r.deleted())
    }

    /// XDEL of one ID: whether it was there.
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, node)) = self.nodes.range_mut(..=id).next_back() else {
            return false;
        };
        let found = node
            .raws(master)
            .take_while(|r| r.id <= id)
            .find(|r| r.id == id && !r.deleted());
        let Some(raw) = found else {
            return false;
        };
        node.mark_deleted(&raw);
        if node.live == 0 {
            self.nodes.remove(&master);
        }
        self.length -= 1;
        if id > self.max_deleted {
            self.max_deleted = id;
        }
        true
    }

    /// Trims from the head (Redis's `streamTrim`): by length or minimum ID; `approx` removes
    /// whole nodes only; `limit` (> 0) caps the entries removed, node by node. Returns how
    /// many entries were removed.
    pub fn trim(&mut self, how: Trim, approx: bool, limit: u64) -> u64 {
        let mut deleted = 0u64;
        loop {
            if let Trim::MaxLen(max) = how {
                if self.length <= max {
                    break;
                }
            }
            let Some(mut e) = self.nodes.first_entry() else {
                break;
            };
            let master = *e.key();
            let node = e.get_mut();
            let entries = u64::from(node.live);
            if limit > 0 && deleted + entries > limit {
                break;
            }
            let remove = match how {
                Trim::MaxLen(max) => self.length - entries >= max,
                Trim::MinId(min) => node.raws(master).last().is_some_and(|r| r.id < min),
            };
            if remove {
                e.remove();
                self.length -= entries;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            let raws: Vec<Raw> = node.raws(master).collect();
            for r in raws {
                let stop = match how {
                    Trim::MaxLen(max) => self.length <= max,
                    Trim::MinId(min) => r.id >= min,
                };
                if stop {
                    break;
                }
                if !r.deleted() {
                    node.mark_deleted(&r);
                    self.length -= 1;
                    deleted += 1;
                }
            }
            break;
        }
        deleted
    }

    // -- consumer group bookkeeping (Redis 7.0 rules) --------------------------------

    /// Whether a tombstone (XDEL'd entry) may lie in `[start, end]` (end `None` = the top).
    pub fn range_has_tombstones(&self, start: StreamId, end: Option<StreamId>) -> bool {
        if self.length == 0 || self.max_deleted.is_zero() {
            return false;
        }
        if self.first_id() > self.max_deleted {
            return false;
        }
        let end = end.unwrap_or(StreamId::MAX);
        start <= self.max_deleted && self.max_deleted <= end
    }

    /// The logical position of `id` counted from the first entry ever added, when it can be
    /// known; [`INVALID_ENTRIES_READ`] otherwise.
    pub fn estimate_entries_read(&self, id: StreamId) -> i64 {
        if self.entries_added == 0 {
            return 0;
        }
        let added = self.entries_added as i64;
        if self.length == 0 && id <= self.last_id {
            return added;
        }
        if id == self.last_id {
            return added;
        }
        if id > self.last_id {
            return INVALID_ENTRIES_READ;
        }
        let first = self.first_id();
        if self.max_deleted.is_zero() || self.max_deleted < first {
            if id < first {
                return added - self.length as i64;
            }
            if id == first {
                return added - self.length as i64 + 1;
            }
        }
        INVALID_ENTRIES_READ
    }

    /// A group's lag (`None`: unknown), as XINFO reports it.
    pub fn lag(&self, g: &Group) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if g.entries_read != INVALID_ENTRIES_READ && !self.range_has_tombstones(g.last_id, None) {
            return Some(self.entries_added as i64 - g.entries_read);
        }
        let read = self.estimate_entries_read(g.last_id);
        (read != INVALID_ENTRIES_READ).then(|| self.entries_added as i64 - read)
    }

    /// Moves group `name`'s last delivered ID forward to `id` for a delivery, updating its
    /// `entries_read` as Redis does.
    pub fn advance_group(&mut self, name: &[u8], id: StreamId) {
        let tomb = self.range_has_tombstones(id, None);
        let estimate = self.estimate_entries_read(id);
        let added = self.entries_added;
        if let Some(g) = self.groups.get_mut(name) {
            if id > g.last_id {
                if g.entries_read != INVALID_ENTRIES_READ && !tomb {
                    g.entries_read += 1;
                } else if added > 0 {
                    g.entries_read = estimate;
                }
                g.last_id = id;
            }
        }
    }

    /// Approximate heap bytes (MEMORY USAGE-like figures, lazy-free effort).
    pub fn nodes_bytes(&self) -> usize {
        self.nodes.values().map(|n| n.data.capacity()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn b(s: &str) -> Bytes {
        Bytes::from(s.to_string())
    }

    fn pairs(i: u64) -> Vec<Bytes> {
        vec![b("a"), b(&i.to_string()), b("b"), b("x")]
    }

    #[test]
    fn ids_parse_and_step() {
        assert_eq!(
            StreamId::parse(b"5-3", 0),
            Some((StreamId::new(5, 3), true))
        );
        assert_eq!(StreamId::parse(b"5", 7), Some((StreamId::new(5, 7), false)));
        assert_eq!(StreamId::parse(b"5-", 0), None);
        assert_eq!(StreamId::parse(b"-5", 0), None);
        assert_eq!(StreamId::parse(b"+5", 0), None);
        assert_eq!(StreamId::parse(b"18446744073709551616", 0), None);
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MAX.next(), None);
        assert_eq!(StreamId::new(2, 0).prev(), Some(StreamId::new(1, u64::MAX)));
        assert_eq!(StreamId::MIN.prev(), None);
    }

    #[test]
    fn next_id_follows_redis() {
        let mut s = Stream::new();
        assert_eq!(s.next_id(NewId::Seq(0), 5), Ok(StreamId::new(0, 1)));
        assert_eq!(s.next_id(NewId::Auto, 5), Ok(StreamId::new(5, 0)));
        s.append(StreamId::new(5, 0), &pairs(1));
        assert_eq!(s.next_id(NewId::Auto, 3), Ok(StreamId::new(5, 1)));
        assert_eq!(s.next_id(NewId::Seq(5), 3), Ok(StreamId::new(5, 1)));
        assert_eq!(s.next_id(NewId::Seq(4), 3), Err(AddError::TooSmall));
        assert_eq!(
            s.next_id(NewId::Exact(StreamId::new(5, 0)), 3),
            Err(AddError::TooSmall)
        );
        s.last_id = StreamId::MAX;
        assert_eq!(s.next_id(NewId::Auto, 3), Err(AddError::Exhausted));
    }

    #[test]
    fn entries_share_field_names_and_read_back() {
        let mut s = Stream::new();
        for i in 1..=250 {
            s.append(StreamId::new(i, 0), &pairs(i));
        }
        s.append(StreamId::new(300, 0), &[b("other"), b("v")]);
        assert_eq!(s.len(), 251);
        assert_eq!(s.node_count(), 3);
        let e = s.get(StreamId::new(300, 0)).unwrap();
        assert_eq!(e.fields, vec![b("other"), b("v")]);
        let r = s.range(StreamId::new(99, 0), StreamId::new(102, 0), None, false);
        assert_eq!(
            r.iter().map(|e| e.id.ms).collect::<Vec<_>>(),
            vec![99, 100, 101, 102]
        );
        assert_eq!(r[0].fields, pairs(99));
        let r = s.range(StreamId::MIN, StreamId::MAX, Some(2), true);
        assert_eq!(
            r.iter().map(|e| e.id.ms).collect::<Vec<_>>(),
            vec![300, 250]
        );
    }

    #[test]
    fn trims_whole_nodes_when_approximate() {
        let mut s = Stream::new();
        for i in 1..=250 {
            s.append(StreamId::new(i, 0), &pairs(i));
        }
        assert_eq!(s.trim(Trim::MaxLen(180), true, 10_000), 0);
        assert_eq!(s.trim(Trim::MaxLen(150), true, 10_000), 100);
        assert_eq!(s.trim(Trim::MaxLen(120), false, 0), 30);
        assert_eq!(s.first_id(), StreamId::new(131, 0));
        assert_eq!(s.trim(Trim::MinId(StreamId::new(200, 0)), false, 0), 69);
        assert_eq!(s.len(), 51);
        assert!(s.delete(StreamId::new(220, 0)));
        assert!(!s.delete(StreamId::new(220, 0)));
        assert_eq!(s.max_deleted, StreamId::new(220, 0));
        assert_eq!(s.len(), 50);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Add(u8, u8),
        Del(u16),
        TrimLen(u16, bool),
        TrimMin(u16, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0u8..3, 0u8..4).prop_map(|(g, s)| Op::Add(g, s)),
            2 => (0u16..400).prop_map(Op::Del),
            1 => (0u16..300, any::<bool>()).prop_map(|(n, a)| Op::TrimLen(n, a)),
            1 => (0u16..400, any::<bool>()).prop_map(|(n, a)| Op::TrimMin(n, a)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Against a `BTreeMap` model: every read agrees; approximate trims remove no more
        /// than exact ones would and never cut below the threshold.
        #[test]
        fn matches_a_model(ops in prop::collection::vec(op(), 1..400)) {
            let mut s = Stream::new();
            let mut model: BTreeMap<StreamId, Vec<Bytes>> = BTreeMap::new();
            let mut ms = 0u64;
            for op in ops {
                match op {
                    Op::Add(gap, shape) => {
                        ms += u64::from(gap);
                        let id = s.next_id(NewId::Auto, ms).unwrap();
                        let p: Vec<Bytes> = match shape {
                            0 => pairs(id.ms),
                            1 => vec![b("a"), b("1")],
                            2 => vec![b("z"), b(&"y".repeat(700)), b("b"), b("x")],
                            _ => pairs(id.seq),
                        };
                        s.append(id, &p);
                        model.insert(id, p);
                    }
                    Op::Del(i) => {
                        let id = model.keys().nth(i as usize).copied()
                            .unwrap_or(StreamId::new(u64::from(i), 0));
                        prop_assert_eq!(s.delete(id), model.remove(&id).is_some());
                    }
                    Op::TrimLen(n, approx) => {
                        let n = u64::from(n);
                        let d = s.trim(Trim::MaxLen(n), approx, if approx { 10_000 } else { 0 });
                        for _ in 0..d { let k = *model.keys().next().unwrap(); model.remove(&k); }
                        prop_assert!(model.len() as u64 >= n.min(model.len() as u64 + d));
                        if !approx { prop_assert!(model.len() as u64 <= n); }
                    }
                    Op::TrimMin(n, approx) => {
                        let min = StreamId::new(u64::from(n), 0);
                        let d = s.trim(Trim::MinId(min), approx, if approx { 10_000 } else { 0 });
                        for _ in 0..d { let k = *model.keys().next().unwrap(); prop_assert!(k < min); model.remove(&k); }
                        if !approx { prop_assert!(model.keys().all(|k| *k >= min)); }
                    }
                }
                prop_assert_eq!(s.len(), model.len());
                prop_assert_eq!(s.first_id(), model.keys().next().copied().unwrap_or_default());
            }
            let all = s.range(StreamId::MIN, StreamId::MAX, None, false);
            let want: Vec<StreamEntry> = model.iter().map(|(id, f)| StreamEntry { id: *id, fields: f.clone() }).collect();
            prop_assert_eq!(&all, &want);
            let mut rev = s.range(StreamId::MIN, StreamId::MAX, None, true);
            rev.reverse();
            prop_assert_eq!(&rev, &want);
            if let Some((k, _)) = model.iter().nth(model.len() / 2) {
                let part = s.range(*k, StreamId::MAX, Some(3), false);
                let want: Vec<StreamId> = model.range(*k..).take(3).map(|(id, _)| *id).collect();
                prop_assert_eq!(part.iter().map(|e| e.id).collect::<Vec<_>>(), want);
            }
        }
    }
}
