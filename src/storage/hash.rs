//! A hash: field → value. (Skeleton: the hash work fills in the representation, compact while small as Redis's listpack, and its API.)

/// A hash: field → value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HashValue {}

impl HashValue {
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
