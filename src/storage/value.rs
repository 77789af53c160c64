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
    Int(i64),
    Small { data: SmallBytes, raw: bool },
    Bytes { data: Bytes, raw: bool },
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

    pub fn len(&self) -> usize {
        match self {
            StrValue::Int(n) => itoa::Buffer::new().format(*n).len(),
            StrValue::Small { data, .. } => data.len(),
            StrValue::Bytes { data, .. } => data.len(),
        }
    }

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
    Str(StrValue),
    Hash(super::HashValue),
    List(Box<super::ListValue>),
    Set(super::SetValue),
    ZSet(Box<super::ZSetValue>),
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

/// A value with its expiry and access metadata.
#[derive(Clone, Debug)]
pub struct Entry {
    pub(super) value: Value,
    /// Absolute expiry in ms since the epoch; 0 = persistent.
    pub(super) expire_at: u64,
    /// Last access, in seconds since the epoch (truncated), for `OBJECT IDLETIME` and LRU.
    pub(super) access: u32,
}

impl Entry {
    pub fn value(&self) -> &Value {
        &self.value
    }

    pub fn value_mut(&mut self) -> &mut Value {
        &mut self.value
    }

    /// Absolute expiry in ms, if any.
    pub fn expire_at(&self) -> Option<u64> {
        (self.expire_at != 0).then_some(self.expire_at)
    }

    pub fn access_secs(&self) -> u32 {
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
    fn shared_integers_report_the_shared_refcount() {
        assert_eq!(Value::Str(StrValue::Int(5)).refcount(), 2147483647);
        assert_eq!(Value::Str(StrValue::Int(10_000)).refcount(), 1);
    }
}
