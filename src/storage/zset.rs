//! A sorted set: member → score, ordered by (score, member) with O(log n) rank. (Skeleton: the sorted-set work fills in the representation and its API.)

/// A sorted set: member → score, ordered by (score, member) with O(log n) rank.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZSetValue {}

impl ZSetValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Name reported by `OBJECT ENCODING`.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }
}
