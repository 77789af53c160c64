//! Stored values and their per-key metadata.
//!
//! Each data type family adds its variant here (with its own module for the type's logic);
//! the keyspace only needs a value's type name and encoding.

use bytes::Bytes;

use super::small::{SmallBytes, INLINE};
use crate::protocol::number::parse_i64;

/// Longest string Redis stores with the `embstr` encoding.
const EMBSTR_MAX: usize = 44;

/// A string value in the representation Redis would pick, so `OBJECT ENCODING` and
/// `INCR` behave alike: integers are kept as integers. Short strings are stored inline
/// (no allocation); long ones as shared `Bytes`, so GET of a large value copies nothing.
/// `raw` marks strings that were modified in place (APPEND, SETRANGE), which Redis always
/// reports as `raw`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrValue {
    /// An integer (encoding `int`).
    Int(i64),
    /// A short string stored inline (no allocation).
    Small {
        /// The bytes.
        data: SmallBytes,
        /// Modified in place: reported as `raw`.
        raw: bool,
    },
    /// A longer string, as shared bytes.
    Bytes {
        /// The bytes.
        data: Bytes,
        /// Modified in place: reported as `raw` (else `embstr` up to 44 bytes).
        raw: bool,
    },
}

impl StrValue {
    /// The encoding Redis chooses for a freshly written string (`tryObjectEncoding`).
    #[inline]
    pub fn from_bytes(data: &[u8]) -> StrValue {
        if data.len() <= 20 {
            if let Some(n) = parse_i64(data) {
                return StrValue::Int(n);
            }
        }
        Self::text(data)
    }

    /// A string kept as text even when it looks like an integer (INCRBYFLOAT's result).
    pub fn text(data: &[u8]) -> StrValue {
        if data.len() <= INLINE {
            StrValue::Small {
                data: SmallBytes::new(data),
                raw: false,
            }
        } else {
            StrValue::Bytes {
                data: Bytes::copy_from_slice(data),
                raw: false,
            }
        }
    }

    /// A string that was modified in place.
    pub fn raw(data: Vec<u8>) -> StrValue {
        if data.len() <= INLINE {
            StrValue::Small {
                data: SmallBytes::new(&data),
                raw: true,
            }
        } else {
            StrValue::Bytes {
                data: Bytes::from(data),
                raw: true,
            }
        }
    }

    /// The value's bytes without copying, when it has them (integers do not).
    fn as_slice(&self) -> Option<&[u8]> {
        match self {
            StrValue::Int(_) => None,
            StrValue::Small { data, .. } => Some(data.as_slice()),
            StrValue::Bytes { data, .. } => Some(data),
        }
    }

    /// The value as bytes (integers are formatted).
    pub fn to_bytes(&self) -> Bytes {
        match self {
            StrValue::Int(n) => Bytes::copy_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            StrValue::Small { data, .. } => data.to_bytes(),
            StrValue::Bytes { data, .. } => data.clone(),
        }
    }

    /// The value's bytes as a growable buffer, for edits in place (SETBIT, BITFIELD): a
    /// long string's `Bytes` that nothing else holds gives its allocation back without a
    /// copy, so setting one bit of a large bitmap does not copy the bitmap. Store the
    /// result back with [`StrValue::raw`].
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            StrValue::Bytes { data, .. } => Vec::from(data),
            StrValue::Small { data, .. } => data.as_slice().to_vec(),
            StrValue::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
        }
    }

    /// The length in bytes (of the decimal text, for integers): STRLEN.
    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(n) => itoa::Buffer::new().format(*n).len(),
            StrValue::Small { data, .. } => data.len(),
            StrValue::Bytes { data, .. } => data.len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as an integer, if it is one in canonical form.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            StrValue::Int(n) => Some(*n),
            other => other.as_slice().and_then(parse_i64),
        }
    }

    /// The encoding OBJECT ENCODING reports: `int`, `embstr` (up to 44 bytes) or `raw`.
    pub fn encoding(&self) -> &'static str {
        match self {
            StrValue::Int(_) => "int",
            StrValue::Small { raw: true, .. } | StrValue::Bytes { raw: true, .. } => "raw",
            StrValue::Small { .. } => "embstr",
            StrValue::Bytes { data, .. } if data.len() <= EMBSTR_MAX => "embstr",
            StrValue::Bytes { .. } => "raw",
        }
    }
}

/// A stored value. Lists and sorted sets are boxed so a string key's entry stays small;
/// hashes and sets keep a 24-byte handle unboxed, which saves small ones an allocation
/// (`hash.rs`, `set.rs`).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string (also holding bitmaps and HyperLogLogs).
    Str(StrValue),
    /// A hash.
    Hash(super::HashValue),
    /// A list.
    List(Box<super::ListValue>),
    /// A set.
    Set(super::SetValue),
    /// A sorted set.
    ZSet(Box<super::ZSetValue>),
    /// A stream.
    Stream(Box<super::Stream>),
}

impl Value {
    /// Name reported by `TYPE` and matched by `SCAN … TYPE`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// Name reported by `OBJECT ENCODING`.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::List(l) => l.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    /// How many elements freeing the value walks (1 for a string): above
    /// [`super::lazyfree::THRESHOLD`] it is freed in the background.
    pub fn free_effort(&self) -> usize {
        match self {
            Value::Str(_) => 1,
            Value::Hash(h) => h.len(),
            Value::List(l) => l.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
            Value::Stream(s) => s.node_count() + s.groups.len(),
        }
    }

    /// What `OBJECT REFCOUNT` shows: Redis shares the integers 0..10000 between keys.
    pub fn refcount(&self) -> i64 {
        match self {
            Value::Str(StrValue::Int(n)) if (0..10_000).contains(n) => i32::MAX as i64,
            _ => 1,
        }
    }
}

/// A type stored under one [`Value`] variant: how typed lookups (a family's "the hash at
/// `key`, or WRONGTYPE") reach it. See `commands::read_as` / `write_as`.
pub trait ValueType {
    /// The value as this type, `None` when the variant differs (WRONGTYPE).
    fn of(value: &Value) -> Option<&Self>;
    /// The value as this type, mutably; `None` when the variant differs.
    fn of_mut(value: &mut Value) -> Option<&mut Self>;
}

macro_rules! value_type {
    ($ty:ty, $variant:ident) => {
        impl ValueType for $ty {
            #[inline]
            fn of(value: &Value) -> Option<&Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
            #[inline]
            fn of_mut(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(v) => Some(v),
                    _ => None,
                }
            }
        }
    };
}

value_type!(StrValue, Str);
value_type!(super::HashValue, Hash);
value_type!(super::ListValue, List);
value_type!(super::SetValue, Set);
value_type!(super::ZSetValue, ZSet);
value_type!(super::Stream, Stream);

/// A value with its expiry and access metadata.
#[derive(Clone, Debug)]
pub struct Entry {
    pub(super) value: Value,
    /// Absolute expiry in ms since the epoch; 0 = persistent.
    pub(super) expire_at: u64,
    /// Access metadata in one word, as Redis packs its `lru` field: the low 48 bits are the
    /// last access in ms since the epoch (LRU eviction, `OBJECT IDLETIME`), the top 8 bits the
    /// logarithmic access counter kept while an LFU policy is selected (LFU eviction,
    /// `OBJECT FREQ`). Its decay reads the same access time, which is what Redis's
    /// "last decrement time" amounts to (it is reset on every access).
    pub(super) access: u64,
}

/// Mask of the access time in [`Entry::access`].
const ACCESS_MS: u64 = (1 << 48) - 1;
/// The counter a new key starts with under LFU (Redis's `LFU_INIT_VAL`), so a fresh key is
/// not evicted before it has had a chance to be read.
pub const LFU_INIT: u8 = 5;

/// The access word of a key created at `now_ms`.
#[inline]
pub(super) fn fresh_access(now_ms: u64) -> u64 {
    (u64::from(LFU_INIT) << 56) | (now_ms & ACCESS_MS)
}

/// The LFU settings an access reads (`lfu-log-factor`, `lfu-decay-time`).
#[derive(Clone, Copy, Debug)]
pub struct LfuParams {
    /// `lfu-log-factor`: how slowly the counter grows.
    pub log_factor: u32,
    /// `lfu-decay-time`: minutes per decrement of an idle key's counter (0: no decay).
    pub decay_minutes: u32,
}

/// The access word after an access at `now_ms`; `lfu`: also bump the access counter
/// (decayed first, then incremented with probability `1 / ((c - LFU_INIT) * factor + 1)`,
/// as Redis's `updateLFU`). `rand` is a uniform value in `[0, 1)`.
#[inline]
pub(super) fn touched_access(old: u64, now_ms: u64, lfu: Option<(LfuParams, f64)>) -> u64 {
    let counter = match lfu {
        None => (old >> 56) as u8,
        Some((params, rand)) => {
            let c = decayed_counter(old, now_ms, params);
            lfu_log_incr(c, params.log_factor, rand)
        }
    };
    (u64::from(counter) << 56) | (now_ms & ACCESS_MS)
}

/// The access counter of `word` decayed by one per `decay_minutes` elapsed since the last
/// access (Redis's `LFUDecrAndReturn`).
#[inline]
pub fn decayed_counter(word: u64, now_ms: u64, params: LfuParams) -> u8 {
    let counter = (word >> 56) as u8;
    if params.decay_minutes == 0 {
        return counter;
    }
    let elapsed_min = now_ms.saturating_sub(word & ACCESS_MS) / 60_000;
    let periods = elapsed_min / u64::from(params.decay_minutes);
    counter.saturating_sub(periods.min(255) as u8)
}

/// Redis's `LFULogIncr`: the higher the counter, the less likely an access increments it.
#[inline]
fn lfu_log_incr(counter: u8, factor: u32, rand: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = f64::from(counter.saturating_sub(LFU_INIT));
    let p = 1.0 / (base * f64::from(factor) + 1.0);
    if rand < p {
        counter + 1
    } else {
        counter
    }
}

impl Entry {
    /// The stored value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The stored value, mutably.
    pub fn value_mut(&mut self) -> &mut Value {
        &mut self.value
    }

    /// Absolute expiry in ms, if any.
    pub fn expire_at(&self) -> Option<u64> {
        (self.expire_at != 0).then_some(self.expire_at)
    }

    /// Last access, in ms since the epoch.
    pub fn access_ms(&self) -> u64 {
        self.access & ACCESS_MS
    }

    /// The raw LFU access counter (not decayed; see [`decayed_counter`]).
    pub fn lfu_counter(&self) -> u8 {
        (self.access >> 56) as u8
    }

    /// The whole access word (see the field's docs).
    pub fn access_word(&self) -> u64 {
        self.access
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_redis_choices() {
        assert_eq!(StrValue::from_bytes(b"123").encoding(), "int");
        assert_eq!(StrValue::from_bytes(b"0123").encoding(), "embstr");
        assert_eq!(StrValue::from_bytes(&[b'a'; 44]).encoding(), "embstr");
        assert_eq!(StrValue::from_bytes(&[b'a'; 45]).encoding(), "raw");
        assert_eq!(StrValue::raw(b"ab".to_vec()).encoding(), "raw");
        assert_eq!(StrValue::from_bytes(b"-42").to_bytes(), "-42");
        assert_eq!(StrValue::from_bytes(b"-42").len(), 3);
    }

    #[test]
    fn lfu_counter_grows_logarithmically_and_decays() {
        let params = LfuParams {
            log_factor: 10,
            decay_minutes: 1,
        };
        let mut w = fresh_access(1_000);
        assert_eq!(decayed_counter(w, 1_000, params), LFU_INIT);
        // An access that always wins the draw increments by one.
        w = touched_access(w, 2_000, Some((params, 0.0)));
        assert_eq!((w >> 56) as u8, LFU_INIT + 1);
        // One that never does keeps the counter.
        w = touched_access(w, 3_000, Some((params, 0.999)));
        assert_eq!((w >> 56) as u8, LFU_INIT + 1);
        assert_eq!(w & ACCESS_MS, 3_000);
        // Three minutes idle: three periods of decay.
        assert_eq!(decayed_counter(w, 3_000 + 180_000, params), LFU_INIT - 2);
        // Without LFU an access keeps the counter and moves the time.
        let w2 = touched_access(w, 9_000, None);
        assert_eq!(((w2 >> 56) as u8, w2 & ACCESS_MS), (LFU_INIT + 1, 9_000));
    }

    #[test]
    fn shared_integers_report_the_shared_refcount() {
        assert_eq!(Value::Str(StrValue::Int(5)).refcount(), 2147483647);
        assert_eq!(Value::Str(StrValue::Int(10_000)).refcount(), 1);
    }
}
