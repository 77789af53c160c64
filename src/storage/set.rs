//! A set of byte strings. (Skeleton: the set work fills in the representation — integers compact as Redis's intset — and its API.)

/// A set of byte strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SetValue {}

impl SetValue {
    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Name reported by `OBJECT ENCODING`.
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }
}
