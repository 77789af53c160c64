//! A hash: field → value, in one of two representations, as Redis keeps them.
//!
//! # Small hashes: one packed buffer
//! Caches hold millions of small hashes, so while a hash is within
//! `hash-max-listpack-entries` pairs and every field and value within
//! `hash-max-listpack-value` bytes it is one exactly-sized heap buffer of pairs, reported
//! as `listpack` (Redis's name for its own packed form). Each pair is a header followed by
//! the field's and the value's bytes:
//!
//! - one byte `ffff_vvvv` when the field is at most 14 bytes and the value at most 15
//!   (`f0`/`v0`, `name`/`alice`, `age`/`31`: most cache fields), or
//! - `0xFF` then the two lengths as LEB128 varints.
//!
//! A pair of short strings costs one byte of overhead where Redis's listpack spends four
//! (two entry headers, two back-lengths); there is no back-length because nothing walks the
//! buffer backwards. The pair count lives beside the buffer pointer (in what would be
//! padding), so `HLEN` is O(1). Lookups are linear, as in a listpack, which is cheap at
//! these sizes; order is insertion order, an update keeps its pair's place and a deletion
//! keeps the order of the rest — the order `HGETALL` shows for Redis's listpack.
//!
//! # Large hashes: a table
//! Past either threshold the hash becomes a [`Dict`] of [`SmallBytes`] (fields and values of
//! up to 22 bytes stored inline), reported as `hashtable`, and never goes back, as in
//! Redis. The table brings `HSCAN` cursors with Redis's guarantee (a field present for the
//! whole iteration is returned) and O(1) uniform sampling for `HRANDFIELD`.
//!
//! # Layout in a key's entry
//! `Value::Hash` holds a `HashValue` directly (24 bytes, no box): a small hash costs its
//! entry slot plus one allocation, the packed buffer.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use super::dict::{Dict, Slot};
use super::small::SmallBytes;
use crate::protocol::long_double::{self, LongDouble, Parsed};
use crate::protocol::number::parse_i64;

/// The encoding thresholds a write converts by (`hash-max-listpack-entries` and
/// `hash-max-listpack-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `hash-max-listpack-entries`: most fields the packed form holds.
    pub max_entries: usize,
    /// `hash-max-listpack-value`: longest field or value, in bytes, the packed form holds.
    pub max_value: usize,
}

impl Limits {
    /// Redis 7.0's built-in defaults.
    pub const DEFAULT: Limits = Limits {
        max_entries: 512,
        max_value: 64,
    };
}

/// Why an increment was refused (the command layer maps these to Redis's texts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncrError {
    /// The stored value is not an integer (`HINCRBY`).
    NotInteger,
    /// The stored value is not a float (`HINCRBYFLOAT`).
    NotFloat,
    /// The integer sum leaves the `i64` range.
    Overflow,
    /// The float sum is infinite (or the stored value was).
    NanOrInfinity,
}

/// Largest packed buffer: Redis refuses to grow a listpack past 1 GiB (`lpSafeToAdd`)
/// and converts instead.
const PACKED_MAX_BYTES: usize = 1 << 30;
/// Header byte announcing two varint lengths.
const LONG: u8 = 0xFF;

/// A hash value. See the module docs for the two representations.
#[derive(Clone)]
pub struct HashValue {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// Pairs back to back (see the module docs); `len` pairs.
    Packed {
        buf: Box<[u8]>,
        len: u32,
    },
    Table(Box<Table>),
}

/// The large form: field → value with a process-wide random hash seed (a client cannot
/// pick fields that collide).
struct Table {
    dict: Dict<SmallBytes>,
}

fn hash_field(field: &[u8]) -> u64 {
    static SEED: OnceLock<foldhash::fast::FixedState> = OnceLock::new();
    SEED.get_or_init(|| {
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x6861_7368u64);
        foldhash::fast::FixedState::with_seed(seed)
    })
    .hash_one(field)
}

impl Clone for Table {
    fn clone(&self) -> Self {
        let mut dict = Dict::new();
        for s in self.dict.iter() {
            dict.insert_new(s.hash, s.key.clone(), s.value.clone());
        }
        Table { dict }
    }
}

impl Table {
    fn get(&self, field: &[u8]) -> Option<&[u8]> {
        self.dict
            .get(hash_field(field), field)
            .map(SmallBytes::as_slice)
    }

    /// True when the field is new.
    fn set(&mut self, field: &[u8], value: &[u8]) -> bool {
        let h = hash_field(field);
        match self.dict.find(h, field) {
            Some(i) => {
                self.dict.slot_mut(i).value = SmallBytes::new(value);
                false
            }
            None => {
                self.dict
                    .insert_new(h, SmallBytes::new(field), SmallBytes::new(value));
                true
            }
        }
    }

    fn remove(&mut self, field: &[u8]) -> bool {
        self.dict.remove(hash_field(field), field).is_some()
    }
}

// ---- the packed buffer ----

fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn get_varint(buf: &[u8], pos: &mut usize) -> Option<usize> {
    let mut n = 0usize;
    let mut shift = 0u32;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        n |= usize::from(b & 0x7F).checked_shl(shift)?;
        if b & 0x80 == 0 {
            return Some(n);
        }
        shift += 7;
        if shift >= usize::BITS {
            return None;
        }
    }
}

fn is_short(field: usize, value: usize) -> bool {
    field <= 14 && value <= 15
}

/// Bytes one pair takes in the buffer.
fn encoded_len(field: usize, value: usize) -> usize {
    let header = if is_short(field, value) {
        1
    } else {
        1 + varint_len(field) + varint_len(value)
    };
    header + field + value
}

fn put_pair(out: &mut Vec<u8>, field: &[u8], value: &[u8]) {
    if is_short(field.len(), value.len()) {
        out.push(((field.len() as u8) << 4) | value.len() as u8);
    } else {
        out.push(LONG);
        put_varint(out, field.len());
        put_varint(out, value.len());
    }
    out.extend_from_slice(field);
    out.extend_from_slice(value);
}

/// Where one pair sits in the buffer.
#[derive(Clone, Copy, Debug)]
struct At {
    start: usize,
    value: usize,
    end: usize,
}

impl At {
    fn field<'b>(&self, buf: &'b [u8], field_start: usize) -> &'b [u8] {
        &buf[field_start..self.value]
    }
}

/// Decodes the pair at `pos`: `(where, field start)`. `None` at the end (or on a malformed
/// buffer, which only this module writes).
fn decode(buf: &[u8], pos: usize) -> Option<(At, usize)> {
    let h = *buf.get(pos)?;
    let mut p = pos + 1;
    let (flen, vlen) = if h == LONG {
        let f = get_varint(buf, &mut p)?;
        let v = get_varint(buf, &mut p)?;
        (f, v)
    } else {
        (usize::from(h >> 4), usize::from(h & 0x0F))
    };
    let value = p.checked_add(flen)?;
    let end = value.checked_add(vlen)?;
    if end > buf.len() {
        return None;
    }
    Some((
        At {
            start: pos,
            value,
            end,
        },
        p,
    ))
}

/// The pairs of a packed buffer, in order.
struct PackedIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let (at, f) = decode(self.buf, self.pos)?;
        self.pos = at.end;
        Some((at.field(self.buf, f), &self.buf[at.value..at.end]))
    }
}

fn packed_find(buf: &[u8], field: &[u8]) -> Option<At> {
    let mut pos = 0;
    while let Some((at, f)) = decode(buf, pos) {
        if at.field(buf, f) == field {
            return Some(at);
        }
        pos = at.end;
    }
    None
}

/// Sets `field` in a packed buffer; true when it is new.
fn packed_set(buf: &mut Vec<u8>, field: &[u8], value: &[u8]) -> bool {
    match packed_find(buf, field) {
        Some(at) => {
            let same_size = at.end - at.start == encoded_len(field.len(), value.len());
            if same_size && at.end - at.value == value.len() {
                buf[at.value..at.end].copy_from_slice(value);
            } else {
                let mut pair = Vec::with_capacity(encoded_len(field.len(), value.len()));
                put_pair(&mut pair, field, value);
                buf.splice(at.start..at.end, pair);
            }
            false
        }
        None => {
            put_pair(buf, field, value);
            true
        }
    }
}

/// Either representation's pairs, in order.
pub struct Iter<'a> {
    inner: IterInner<'a>,
}

enum IterInner<'a> {
    Packed(PackedIter<'a>),
    Table {
        dict: &'a Dict<SmallBytes>,
        next: usize,
    },
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            IterInner::Packed(p) => p.next(),
            IterInner::Table { dict, next } => {
                if *next >= dict.len() {
                    return None;
                }
                let s: &'a Slot<SmallBytes> = dict.slot(*next);
                *next += 1;
                Some((s.key.as_slice(), s.value.as_slice()))
            }
        }
    }
}

impl Default for HashValue {
    fn default() -> Self {
        Self::new()
    }
}

impl HashValue {
    /// An empty hash in the small form (as Redis creates every hash).
    pub fn new() -> Self {
        HashValue {
            repr: Repr::Packed {
                buf: Box::default(),
                len: 0,
            },
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Packed { len, .. } => *len as usize,
            Repr::Table(t) => t.dict.len(),
        }
    }

    /// Whether the hash has no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Name reported by `OBJECT ENCODING`.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Packed { .. } => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Whether the hash is in the small (packed) form.
    pub fn is_packed(&self) -> bool {
        matches!(self.repr, Repr::Packed { .. })
    }

    /// Heap bytes the value owns (an estimate for the table form).
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Packed { buf, .. } => buf.len(),
            Repr::Table(t) => {
                let inline = std::mem::size_of::<Slot<SmallBytes>>() + 4;
                let spilled: usize = t
                    .dict
                    .iter()
                    .map(|s| {
                        let big = |b: &SmallBytes| {
                            if matches!(b, SmallBytes::Heap(_)) {
                                b.len()
                            } else {
                                0
                            }
                        };
                        big(&s.key) + big(&s.value)
                    })
                    .sum();
                std::mem::size_of::<Table>() + t.dict.len() * inline + spilled
            }
        }
    }

    /// The value of `field`, if present.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Packed { buf, .. } => packed_find(buf, field).map(|at| &buf[at.value..at.end]),
            Repr::Table(t) => t.get(field),
        }
    }

    /// Whether `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// The pairs in order: insertion order while packed, table order after.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: match &self.repr {
                Repr::Packed { buf, .. } => IterInner::Packed(PackedIter { buf, pos: 0 }),
                Repr::Table(t) => IterInner::Table {
                    dict: &t.dict,
                    next: 0,
                },
            },
        }
    }

    /// Converts to the table form (never back).
    fn convert(&mut self) {
        if let Repr::Packed { buf, len } = &self.repr {
            let mut dict = Dict::new();
            for (f, v) in (PackedIter { buf, pos: 0 }) {
                dict.insert_new(hash_field(f), SmallBytes::new(f), SmallBytes::new(v));
            }
            debug_assert_eq!(dict.len(), *len as usize);
            self.repr = Repr::Table(Box::new(Table { dict }));
        }
    }

    /// Sets one field; true when it is new. Converts as Redis's `hashTypeSet` does: before
    /// the write when the field or value is longer than `max_value`, after it when the hash
    /// has more than `max_entries` fields.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: Limits) -> bool {
        self.set_pairs([(field, value)], limits) == 1
    }

    /// Sets several fields in order (HSET, HMSET); returns how many were new. The packed
    /// buffer is reallocated once per call, not once per pair.
    pub fn set_pairs<'p, I>(&mut self, pairs: I, limits: Limits) -> usize
    where
        I: IntoIterator<Item = (&'p [u8], &'p [u8])>,
    {
        let mut created = 0;
        let mut pairs = pairs.into_iter();
        if let Repr::Packed { buf, len } = &mut self.repr {
            let mut v = Vec::from(std::mem::take(buf));
            let mut n = *len as usize;
            let mut rest = None;
            for (f, val) in pairs.by_ref() {
                let too_long = f.len() > limits.max_value || val.len() > limits.max_value;
                let too_big = v.len() + encoded_len(f.len(), val.len()) > PACKED_MAX_BYTES;
                if too_long || too_big {
                    rest = Some((f, val));
                    break;
                }
                if packed_set(&mut v, f, val) {
                    n += 1;
                    created += 1;
                }
                if n > limits.max_entries {
                    break;
                }
            }
            *buf = v.into_boxed_slice();
            *len = n as u32;
            let convert = rest.is_some() || n > limits.max_entries;
            if convert {
                self.convert();
            }
            if let (Some((f, val)), Repr::Table(t)) = (rest, &mut self.repr) {
                created += usize::from(t.set(f, val));
            }
        }
        if let Repr::Table(t) = &mut self.repr {
            for (f, val) in pairs {
                created += usize::from(t.set(f, val));
            }
        }
        created
    }

    /// Removes one field; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        self.remove_fields([field]) == 1
    }

    /// Removes fields (HDEL) and returns how many were there; stops once the hash is empty,
    /// as Redis does (the key is deleted then).
    pub fn remove_fields<'f, I>(&mut self, fields: I) -> usize
    where
        I: IntoIterator<Item = &'f [u8]>,
    {
        let mut removed = 0;
        match &mut self.repr {
            Repr::Packed { buf, len } => {
                let mut v = Vec::from(std::mem::take(buf));
                for f in fields {
                    if let Some(at) = packed_find(&v, f) {
                        v.drain(at.start..at.end);
                        removed += 1;
                        *len -= 1;
                        if *len == 0 {
                            break;
                        }
                    }
                }
                *buf = v.into_boxed_slice();
            }
            Repr::Table(t) => {
                for f in fields {
                    if t.remove(f) {
                        removed += 1;
                        if t.dict.is_empty() {
                            break;
                        }
                    }
                }
            }
        }
        removed
    }

    /// `HINCRBY`: adds `delta` to the integer in `field` (0 when missing) and returns the sum.
    pub fn incr_by(&mut self, field: &[u8], delta: i64, limits: Limits) -> Result<i64, IncrError> {
        let current = match self.get(field) {
            None => 0,
            Some(v) => parse_i64(v).ok_or(IncrError::NotInteger)?,
        };
        let sum = current.checked_add(delta).ok_or(IncrError::Overflow)?;
        self.set(field, itoa::Buffer::new().format(sum).as_bytes(), limits);
        Ok(sum)
    }

    /// `HINCRBYFLOAT`: adds `delta` to the number in `field` (0 when missing) in `long
    /// double`, as Redis does, stores the sum in Redis's human format and returns that text.
    pub fn incr_by_float(
        &mut self,
        field: &[u8],
        delta: LongDouble,
        limits: Limits,
    ) -> Result<String, IncrError> {
        let current = match self.get(field) {
            None => LongDouble::ZERO,
            Some(v) => match long_double::parse(v).ok_or(IncrError::NotFloat)? {
                Parsed::Finite(x) => x,
                Parsed::Infinite => return Err(IncrError::NanOrInfinity),
            },
        };
        let sum = current.checked_add(delta).ok_or(IncrError::NanOrInfinity)?;
        let text = sum.to_human();
        self.set(field, text.as_bytes(), limits);
        Ok(text)
    }

    /// Calls `visit(index, field, value)` for `count` pairs picked uniformly at random,
    /// repeats allowed (`HRANDFIELD` with a negative count, or a count of 1). `index` tells
    /// equal picks apart cheaply (callers may cache per index). `rand` supplies randomness.
    pub fn random_with_repeats(
        &self,
        count: usize,
        mut rand: impl FnMut() -> u64,
        mut visit: impl FnMut(usize, &[u8], &[u8]),
    ) {
        let n = self.len() as u64;
        if n == 0 {
            return;
        }
        match &self.repr {
            Repr::Packed { buf, .. } => {
                // Random access into the buffer is a walk: index the pairs once.
                let pairs: Vec<(&[u8], &[u8])> = PackedIter { buf, pos: 0 }.collect();
                for _ in 0..count {
                    let i = (rand() % n) as usize;
                    if let Some(&(f, v)) = pairs.get(i) {
                        visit(i, f, v);
                    }
                }
            }
            Repr::Table(t) => {
                for _ in 0..count {
                    let i = (rand() % n) as usize;
                    let s = t.dict.slot(i);
                    visit(i, &s.key, &s.value);
                }
            }
        }
    }

    /// `count` distinct pairs picked at random, in random order. A count of `len` or more is
    /// every pair (callers usually serve that with [`HashValue::iter`], as Redis does).
    pub fn random_distinct(
        &self,
        count: usize,
        mut rand: impl FnMut() -> u64,
    ) -> Vec<(&[u8], &[u8])> {
        let n = self.len();
        let count = count.min(n);
        match &self.repr {
            Repr::Packed { buf, .. } => {
                let pairs: Vec<(&[u8], &[u8])> = PackedIter { buf, pos: 0 }.collect();
                partial_shuffle(n, count, &mut rand)
                    .into_iter()
                    .filter_map(|i| pairs.get(i).copied())
                    .collect()
            }
            Repr::Table(t) => {
                let pick = |i: usize| {
                    let s = t.dict.slot(i);
                    (s.key.as_slice(), s.value.as_slice())
                };
                if count.saturating_mul(3) > n {
                    // A large share: shuffle indexes.
                    partial_shuffle(n, count, &mut rand)
                        .into_iter()
                        .map(pick)
                        .collect()
                } else {
                    // A small share: draw until enough distinct indexes.
                    let mut seen = std::collections::HashSet::with_capacity(count);
                    let mut out = Vec::with_capacity(count);
                    while out.len() < count {
                        let i = (rand() % n as u64) as usize;
                        if seen.insert(i) {
                            out.push(pick(i));
                        }
                    }
                    out
                }
            }
        }
    }

    /// One `HSCAN` step. The packed form returns everything at once and cursor 0, as Redis
    /// does for a listpack. The table form visits buckets from `cursor` until `count`
    /// elements were seen (a field and its value count as two, as in Redis) or `10 * count`
    /// buckets were visited, and returns the next cursor (0: done).
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.repr {
            Repr::Packed { buf, .. } => {
                for (f, v) in (PackedIter { buf, pos: 0 }) {
                    visit(f, v);
                }
                0
            }
            Repr::Table(t) => {
                let mut cursor = cursor;
                let mut seen = 0usize;
                let mut budget = count.saturating_mul(10);
                loop {
                    cursor = t.dict.scan(cursor, |s| {
                        seen += 2;
                        visit(&s.key, &s.value);
                    });
                    if cursor == 0 || budget == 0 || seen >= count {
                        return cursor;
                    }
                    budget -= 1;
                }
            }
        }
    }
}

/// `count` distinct indexes out of `0..n` in random order (a partial Fisher–Yates shuffle).
fn partial_shuffle(n: usize, count: usize, rand: &mut impl FnMut() -> u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    let count = count.min(n);
    for i in 0..count {
        let j = i + (rand() % (n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(count);
    idx
}

impl PartialEq for HashValue {
    /// Same fields with the same values, whatever the representations.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(f, v)| other.get(f) == Some(v))
    }
}

impl std::fmt::Debug for HashValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.iter() {
            m.entry(&String::from_utf8_lossy(k), &String::from_utf8_lossy(v));
        }
        m.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SMALL: Limits = Limits {
        max_entries: 4,
        max_value: 8,
    };

    fn pairs(h: &HashValue) -> Vec<(String, String)> {
        h.iter()
            .map(|(f, v)| {
                (
                    String::from_utf8_lossy(f).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                )
            })
            .collect()
    }

    fn rng(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    #[test]
    fn the_value_is_small() {
        assert_eq!(std::mem::size_of::<HashValue>(), 24);
        assert!(std::mem::size_of::<crate::storage::Value>() <= 40);
    }

    #[test]
    fn short_pairs_cost_one_header_byte() {
        let mut h = HashValue::new();
        for i in 0..10 {
            h.set(
                format!("f{i}").as_bytes(),
                format!("v{i}").as_bytes(),
                Limits::DEFAULT,
            );
        }
        assert_eq!(h.heap_bytes(), 50);
        let long = [b'x'; 40];
        h.set(b"long", &long, Limits::DEFAULT);
        assert_eq!(h.heap_bytes(), 50 + 3 + 4 + 40);
        assert_eq!(h.get(b"long"), Some(&long[..]));
        assert_eq!(h.len(), 11);
    }

    #[test]
    fn keeps_insertion_order_through_updates_and_deletes() {
        let mut h = HashValue::new();
        let l = Limits::DEFAULT;
        assert_eq!(
            h.set_pairs([(&b"a"[..], &b"1"[..]), (b"b", b"2"), (b"a", b"3")], l),
            2
        );
        h.set(b"c", b"a much longer value than before", l);
        h.set(b"b", b"22", l);
        assert_eq!(
            pairs(&h),
            [
                ("a", "3"),
                ("b", "22"),
                ("c", "a much longer value than before")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert!(h.remove(b"b"));
        assert!(!h.remove(b"b"));
        assert_eq!(pairs(&h)[1].0, "c");
        assert_eq!(h.encoding(), "listpack");
    }

    #[test]
    fn converts_on_too_many_entries_or_a_long_value_and_never_back() {
        let mut h = HashValue::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", SMALL);
        }
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f4", b"v", SMALL);
        assert_eq!(h.encoding(), "hashtable");
        h.remove_fields([&b"f0"[..], b"f1", b"f2"]);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 2);

        let mut h = HashValue::new();
        h.set(b"f", b"12345678", SMALL);
        assert_eq!(h.encoding(), "listpack");
        h.set(b"f", b"123456789", SMALL);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"f"), Some(&b"123456789"[..]));

        // A long field converts too, and HSET's pairs after the conversion still land.
        let mut h = HashValue::new();
        let n = h.set_pairs(
            [
                (&b"a"[..], &b"1"[..]),
                (b"a-long-field", b"2"),
                (b"c", b"3"),
            ],
            SMALL,
        );
        assert_eq!((n, h.len(), h.encoding()), (3, 3, "hashtable"));

        // A threshold lowered under an existing packed hash converts it on the next write.
        let mut h = HashValue::new();
        for i in 0..4 {
            h.set(format!("f{i}").as_bytes(), b"v", SMALL);
        }
        let lower = Limits {
            max_entries: 2,
            ..SMALL
        };
        h.set(b"f0", b"w", lower);
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn zero_entries_threshold_means_always_a_table() {
        let mut h = HashValue::new();
        h.set(
            b"f",
            b"v",
            Limits {
                max_entries: 0,
                max_value: 64,
            },
        );
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn increments() {
        let mut h = HashValue::new();
        let l = Limits::DEFAULT;
        assert_eq!(h.incr_by(b"n", 5, l), Ok(5));
        assert_eq!(h.incr_by(b"n", -7, l), Ok(-2));
        assert_eq!(h.get(b"n"), Some(&b"-2"[..]));
        h.set(b"s", b"abc", l);
        assert_eq!(h.incr_by(b"s", 1, l), Err(IncrError::NotInteger));
        h.set(b"max", b"9223372036854775807", l);
        assert_eq!(h.incr_by(b"max", 1, l), Err(IncrError::Overflow));
        let d = |s: &str| match long_double::parse(s.as_bytes()) {
            Some(Parsed::Finite(x)) => x,
            _ => panic!("{s}"),
        };
        assert_eq!(h.incr_by_float(b"x", d("0.1"), l).as_deref(), Ok("0.1"));
        assert_eq!(h.incr_by_float(b"x", d("0.2"), l).as_deref(), Ok("0.3"));
        assert_eq!(h.incr_by_float(b"n", d("1.5"), l).as_deref(), Ok("-0.5"));
        assert_eq!(h.incr_by_float(b"s", d("1"), l), Err(IncrError::NotFloat));
        h.set(b"inf", b"inf", l);
        assert_eq!(
            h.incr_by_float(b"inf", d("1"), l),
            Err(IncrError::NanOrInfinity)
        );
        // A long result converts the hash.
        let r = h.incr_by_float(b"big", d("1e100"), l);
        assert!(r.is_ok_and(|t| t.len() > 64));
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn random_picks_cover_and_respect_distinctness() {
        for big in [false, true] {
            let mut h = HashValue::new();
            let limits = if big { SMALL } else { Limits::DEFAULT };
            for i in 0..20 {
                h.set(format!("f{i}").as_bytes(), b"v", limits);
            }
            assert_eq!(h.is_packed(), !big);
            let mut r = rng(7);
            let mut seen = std::collections::HashSet::new();
            h.random_with_repeats(2000, &mut r, |_, f, _| {
                seen.insert(f.to_vec());
            });
            assert_eq!(seen.len(), 20);
            for count in [1, 5, 7, 19] {
                let got = h.random_distinct(count, &mut r);
                let set: std::collections::HashSet<_> = got.iter().collect();
                assert_eq!((got.len(), set.len()), (count, count));
            }
        }
    }

    #[test]
    fn scan_of_a_table_finds_every_field() {
        let mut h = HashValue::new();
        for i in 0..1000 {
            h.set(format!("f{i}").as_bytes(), b"v", Limits::DEFAULT);
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            cursor = h.scan(cursor, 10, |f, _| {
                seen.insert(f.to_vec());
            });
            calls += 1;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        assert!(calls > 20);
        // Packed: everything at once, cursor 0.
        let mut p = HashValue::new();
        p.set(b"a", b"1", Limits::DEFAULT);
        let mut n = 0;
        assert_eq!(p.scan(12345, 1, |_, _| n += 1), 0);
        assert_eq!(n, 1);
    }

    #[test]
    fn varints_round_trip() {
        for n in [0usize, 1, 127, 128, 300, 16383, 16384, 1 << 40] {
            let mut v = Vec::new();
            put_varint(&mut v, n);
            assert_eq!(v.len(), varint_len(n));
            let mut p = 0;
            assert_eq!(get_varint(&v, &mut p), Some(n));
        }
        let mut p = 0;
        assert_eq!(get_varint(&[0x80, 0x80], &mut p), None);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Set(Vec<u8>, Vec<u8>),
        SetMany(Vec<(Vec<u8>, Vec<u8>)>),
        Remove(Vec<Vec<u8>>),
        Incr(Vec<u8>, i64),
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            3 => prop::collection::vec(prop::sample::select(b"abc".to_vec()), 0..3),
            1 => prop::collection::vec(any::<u8>(), 0..20),
            1 => prop::collection::vec(any::<u8>(), 100..300),
            1 => (-20i64..20).prop_map(|n| n.to_string().into_bytes()),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (bytes(), bytes()).prop_map(|(f, v)| Op::Set(f, v)),
            2 => prop::collection::vec((bytes(), bytes()), 1..6).prop_map(Op::SetMany),
            3 => prop::collection::vec(bytes(), 1..4).prop_map(Op::Remove),
            1 => (bytes(), -5i64..5).prop_map(|(f, d)| Op::Incr(f, d)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        /// Against an insertion-ordered model: same contents always, same order while
        /// packed, and the encoding Redis would report.
        #[test]
        fn behaves_like_an_ordered_map(
            ops in prop::collection::vec(op(), 1..60),
            max_entries in 0usize..12,
            max_value in 0usize..40,
        ) {
            let limits = Limits { max_entries, max_value };
            let mut h = HashValue::new();
            let mut model: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
            let mut converted = false;
            let set = |model: &mut Vec<(Vec<u8>, Vec<u8>)>, f: &[u8], v: &[u8]| -> bool {
                match model.iter_mut().find(|(k, _)| k == f) {
                    Some(p) => { p.1 = v.to_vec(); false }
                    None => { model.push((f.to_vec(), v.to_vec())); true }
                }
            };
            for op in ops {
                match op {
                    Op::Set(f, v) => {
                        converted |= f.len() > max_value || v.len() > max_value;
                        let new = set(&mut model, &f, &v);
                        prop_assert_eq!(h.set(&f, &v, limits), new);
                    }
                    Op::SetMany(ps) => {
                        let mut created = 0;
                        for (f, v) in &ps {
                            converted |= f.len() > max_value || v.len() > max_value;
                            created += usize::from(set(&mut model, f, v));
                            converted |= model.len() > max_entries;
                        }
                        let got = h.set_pairs(ps.iter().map(|(f, v)| (&f[..], &v[..])), limits);
                        prop_assert_eq!(got, created);
                    }
                    Op::Remove(fs) => {
                        let mut removed = 0;
                        for f in &fs {
                            if model.is_empty() { break; }
                            if let Some(i) = model.iter().position(|(k, _)| k == f) {
                                model.remove(i);
                                removed += 1;
                            }
                        }
                        prop_assert_eq!(h.remove_fields(fs.iter().map(|f| &f[..])), removed);
                    }
                    Op::Incr(f, d) => {
                        let cur = model.iter().find(|(k, _)| *k == f).map(|(_, v)| v.clone());
                        let expect = match cur {
                            None => Ok(d),
                            Some(v) => parse_i64(&v).ok_or(IncrError::NotInteger)
                                .and_then(|c| c.checked_add(d).ok_or(IncrError::Overflow)),
                        };
                        prop_assert_eq!(h.incr_by(&f, d, limits), expect);
                        if let Ok(n) = expect {
                            let text = n.to_string().into_bytes();
                            converted |= f.len() > max_value || text.len() > max_value;
                            set(&mut model, &f, &text);
                        }
                    }
                }
                converted |= model.len() > max_entries;
                prop_assert_eq!(h.len(), model.len());
                prop_assert_eq!(h.is_packed(), !converted);
                if h.is_packed() {
                    let got: Vec<(Vec<u8>, Vec<u8>)> =
                        h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                    prop_assert_eq!(&got, &model);
                } else {
                    let mut got: Vec<(Vec<u8>, Vec<u8>)> =
                        h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
                    got.sort();
                    let mut want = model.clone();
                    want.sort();
                    prop_assert_eq!(got, want);
                }
                for (f, v) in &model {
                    prop_assert_eq!(h.get(f), Some(&v[..]));
                }
                prop_assert_eq!(h.clone(), h.clone());
            }
        }
    }
}
