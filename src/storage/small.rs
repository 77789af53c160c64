//! [`SmallBytes`]: a byte string that keeps up to 22 bytes inline.
//!
//! Most cache keys (and many values: counters, flags, short tokens) are short. Storing them
//! inline in the table slot saves a heap allocation per key — the allocation's bookkeeping
//! is as large as the key — and a pointer chase on every lookup. Longer strings live in a
//! boxed slice. The type is 24 bytes, the size of a `Vec` header.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::Bytes;

/// Longest string stored inline.
pub const INLINE: usize = 22;

/// An immutable byte string, inline when short.
#[derive(Clone)]
pub enum SmallBytes {
    /// Up to [`INLINE`] bytes, stored in place.
    Inline {
        /// How many bytes of `buf` are used.
        len: u8,
        /// The bytes, zero-padded.
        buf: [u8; INLINE],
    },
    /// A longer string, on the heap.
    Heap(Box<[u8]>),
}

impl SmallBytes {
    /// The bytes of `data`, inline when they fit [`INLINE`].
    pub fn new(data: &[u8]) -> Self {
        if data.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..data.len()].copy_from_slice(data);
            SmallBytes::Inline {
                len: data.len() as u8,
                buf,
            }
        } else {
            SmallBytes::Heap(data.into())
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, buf } => &buf[..*len as usize],
            SmallBytes::Heap(b) => b,
        }
    }

    /// A `Bytes` copy, for replies.
    pub fn to_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(self.as_slice())
    }
}

impl Deref for SmallBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Borrow<[u8]> for SmallBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SmallBytes {}

impl PartialOrd for SmallBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl Hash for SmallBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

impl From<&[u8]> for SmallBytes {
    fn from(b: &[u8]) -> Self {
        SmallBytes::new(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_as_small_as_a_vec_header() {
        assert_eq!(std::mem::size_of::<SmallBytes>(), 24);
    }

    #[test]
    fn round_trips_short_and_long_strings() {
        for len in [0, 1, 21, 22, 23, 100] {
            let data: Vec<u8> = (0..len as u8).collect();
            let s = SmallBytes::new(&data);
            assert_eq!(s.as_slice(), &data[..]);
            assert_eq!(s.to_bytes(), data);
            assert_eq!(matches!(s, SmallBytes::Inline { .. }), len <= INLINE);
        }
    }

    #[test]
    fn orders_and_compares_by_content() {
        let a = SmallBytes::new(b"abc");
        let b = SmallBytes::new(&[b'a'; 40]);
        assert!(a > b);
        assert_eq!(a, SmallBytes::new(b"abc"));
    }
}
