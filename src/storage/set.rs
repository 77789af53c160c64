//! Sets of byte strings: the type's data logic, with no protocol in sight.
//!
//! # Representation
//! Redis 7.0 keeps a set as an *intset* — a sorted array of integers that all share one
//! width (2, 4 or 8 bytes) — while every member is an integer in canonical form and there
//! are at most `set-max-intset-entries` of them, and as a hash table otherwise. A set
//! converts on growth and never back (with one exception Redis has too: `SPOP` with a count
//! close to the size rebuilds the set from what remains, see [`SetValue::pop_random`]).
//! `OBJECT ENCODING` reports which shape a set has, so we keep the same two shapes and the
//! same conversion points:
//!
//! - **Inline intset.** Caches hold millions of small sets, so the common small case costs
//!   no allocation at all: up to 21 bytes of integers (ten 16-bit, five 32-bit or two
//!   64-bit members) live inside the 24-byte [`SetValue`], which `Value` holds unboxed in
//!   the key's slot (it fits beside a string's representation, so no entry grows). Redis
//!   spends a 16-byte object header plus the intset's own allocation per set; measured with
//!   100 000 sets of 10 small integers, this saves about 32 bytes per set over a boxed value
//!   (see the crate's memory notes in `benches/set.rs`).
//! - **Boxed intset.** Beyond that, an exact-size boxed slice (no spare capacity: an insert
//!   is O(n) anyway, as in Redis, so it simply rebuilds).
//! - **Hash table.** The keyspace's own [`Dict`] with `()` values: members up to 22 bytes are
//!   stored inline in their slot, SSCAN gets Redis's reverse-binary cursor guarantee, and a
//!   uniformly random member (SPOP, SRANDMEMBER) is one index into the slab.
//!
//! # Reading sets from other families
//! [`SetValue::iter`], [`SetValue::contains`], [`SetValue::len`] and [`Member`] are the read
//! API for commands that take sets as input (ZUNIONSTORE/ZINTER with set keys, SORT).
//! Members of an intset are integers; [`Member::to_bytes`] / [`Member::with_bytes`] give the
//! string form every member has to a client.
//!
//! # Set algebra one set at a time
//! The keyspace hands out one value at a time, so SINTER/SUNION/SDIFF are written as an
//! accumulator that visits the input sets in turn: [`SetValue::retain_members_in`] (keep the
//! candidates another set also has), [`SetValue::add_all`] and [`SetValue::remove_all`].

use std::hash::BuildHasher;
use std::sync::OnceLock;

use bytes::Bytes;

use super::dict::Dict;
use super::small::SmallBytes;
use crate::protocol::number::parse_i64;

/// Bytes of integers an intset keeps inside the [`SetValue`] itself.
const INLINE_BYTES: usize = 21;

/// The width every integer of an intset is stored with; the smallest that fits all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
enum Width {
    W16 = 2,
    W32 = 4,
    W64 = 8,
}

impl Width {
    fn of(v: i64) -> Width {
        if i16::try_from(v).is_ok() {
            Width::W16
        } else if i32::try_from(v).is_ok() {
            Width::W32
        } else {
            Width::W64
        }
    }

    #[inline]
    fn bytes(self) -> usize {
        self as usize
    }

    /// The `i`-th integer of `b`.
    #[inline]
    fn read(self, b: &[u8], i: usize) -> i64 {
        let w = self.bytes();
        let s = &b[i * w..i * w + w];
        match self {
            Width::W16 => i64::from(i16::from_le_bytes([s[0], s[1]])),
            Width::W32 => i64::from(i32::from_le_bytes([s[0], s[1], s[2], s[3]])),
            Width::W64 => i64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]),
        }
    }

    /// `v` (which must fit) in this width.
    fn encode(self, v: i64, out: &mut Vec<u8>) {
        match self {
            Width::W16 => out.extend_from_slice(&(v as i16).to_le_bytes()),
            Width::W32 => out.extend_from_slice(&(v as i32).to_le_bytes()),
            Width::W64 => out.extend_from_slice(&v.to_le_bytes()),
        }
    }
}

/// Binary search of a sorted intset.
fn search(w: Width, b: &[u8], v: i64) -> Result<usize, usize> {
    if Width::of(v) > w {
        // Wider than every member: outside their range, at one end.
        return Err(if v < 0 { 0 } else { b.len() / w.bytes() });
    }
    let (mut lo, mut hi) = (0, b.len() / w.bytes());
    while lo < hi {
        let mid = (lo + hi) / 2;
        match w.read(b, mid).cmp(&v) {
            std::cmp::Ordering::Less => lo = mid + 1,
            std::cmp::Ordering::Greater => hi = mid,
            std::cmp::Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

enum Repr {
    /// An intset of `len` bytes kept in `buf`.
    Inline {
        width: Width,
        len: u8,
        buf: [u8; INLINE_BYTES],
    },
    /// An intset too long to be inline.
    Heap { width: Width, data: Box<[u8]> },
    /// Any members (Redis's `hashtable` encoding).
    Table(Box<Dict<()>>),
}

impl Repr {
    const EMPTY: Repr = Repr::Inline {
        width: Width::W16,
        len: 0,
        buf: [0; INLINE_BYTES],
    };

    /// An intset of `width` holding the concatenation of `parts`.
    fn ints(width: Width, parts: &[&[u8]]) -> Repr {
        let total: usize = parts.iter().map(|p| p.len()).sum();
        if total <= INLINE_BYTES {
            let mut buf = [0u8; INLINE_BYTES];
            let mut at = 0;
            for p in parts {
                buf[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
            Repr::Inline {
                width,
                len: total as u8,
                buf,
            }
        } else {
            let mut v = Vec::with_capacity(total);
            for p in parts {
                v.extend_from_slice(p);
            }
            Repr::Heap {
                width,
                data: v.into_boxed_slice(),
            }
        }
    }
}

/// The hash every table-encoded set uses: seeded once per process, so members cannot be
/// chosen to collide on every server.
fn member_hash(m: &[u8]) -> u64 {
    static STATE: OnceLock<foldhash::fast::FixedState> = OnceLock::new();
    STATE
        .get_or_init(|| {
            let local = 0u8;
            let seed = crate::clock::system_ms()
                ^ (std::process::id() as u64).rotate_left(24)
                ^ (&local as *const u8 as u64).rotate_left(48);
            foldhash::fast::FixedState::with_seed(seed)
        })
        .hash_one(m)
}

/// One member as a set stores it: an integer (intset) or bytes (hash table).
#[derive(Clone, Copy, Debug)]
pub enum Member<'a> {
    /// An integer member (intset form).
    Int(i64),
    /// A member's bytes (hash-table form).
    Str(&'a [u8]),
}

impl Member<'_> {
    /// The member's string form, as clients see it.
    pub fn to_bytes(&self) -> Bytes {
        match self {
            Member::Int(v) => Bytes::copy_from_slice(itoa::Buffer::new().format(*v).as_bytes()),
            Member::Str(s) => Bytes::copy_from_slice(s),
        }
    }

    /// Calls `f` with the member's string form without allocating.
    pub fn with_bytes<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Member::Int(v) => f(itoa::Buffer::new().format(*v).as_bytes()),
            Member::Str(s) => f(s),
        }
    }
}

impl PartialEq for Member<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Member::Int(a), Member::Int(b)) => a == b,
            _ => self.with_bytes(|a| other.with_bytes(|b| a == b)),
        }
    }
}

/// A set of byte strings (see the module docs for its representation).
pub struct SetValue {
    repr: Repr,
}

impl Default for SetValue {
    fn default() -> Self {
        Self::new()
    }
}

impl SetValue {
    /// An empty set, encoded as an intset until a member says otherwise (as Redis's
    /// `createIntsetObject`).
    pub const fn new() -> Self {
        SetValue { repr: Repr::EMPTY }
    }

    /// A set of `members`, encoded as adding them one by one would.
    pub fn from_members<'m>(members: impl IntoIterator<Item = &'m [u8]>, max_intset: u64) -> Self {
        let mut s = SetValue::new();
        for m in members {
            s.insert(m, max_intset);
        }
        s
    }

    /// The intset's width and bytes, when the set is one.
    #[inline]
    fn int_bytes(&self) -> Option<(Width, &[u8])> {
        match &self.repr {
            Repr::Inline { width, len, buf } => Some((*width, &buf[..*len as usize])),
            Repr::Heap { width, data } => Some((*width, data)),
            Repr::Table(_) => None,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Inline { width, len, .. } => *len as usize / width.bytes(),
            Repr::Heap { width, data } => data.len() / width.bytes(),
            Repr::Table(t) => t.len(),
        }
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Name reported by `OBJECT ENCODING`.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Table(_) => "hashtable",
            _ => "intset",
        }
    }

    /// Whether `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        match self.int_bytes() {
            Some((w, b)) => parse_i64(member).is_some_and(|v| search(w, b, v).is_ok()),
            None => self.table_find(member).is_some(),
        }
    }

    /// Whether `member` (of another set) is in this one; compares integers directly when
    /// both sides are intsets.
    pub fn contains_member(&self, member: Member<'_>) -> bool {
        match (member, self.int_bytes()) {
            (Member::Int(v), Some((w, b))) => search(w, b, v).is_ok(),
            (m, _) => m.with_bytes(|s| self.contains(s)),
        }
    }

    fn table_find(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Table(t) => t.find(member_hash(member), member),
            _ => None,
        }
    }

    /// The member at position `i` (`i < len`) of the set's storage order: ascending for an
    /// intset, slab order for a table. O(1); the basis of random picks.
    pub fn nth(&self, i: usize) -> Member<'_> {
        match &self.repr {
            Repr::Table(t) => Member::Str(t.slot(i).key.as_slice()),
            _ => {
                let (w, b) = self.int_bytes().unwrap_or((Width::W16, &[]));
                Member::Int(w.read(b, i))
            }
        }
    }

    /// Every member, in storage order (ascending integers for an intset, as Redis).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            set: self,
            next: 0,
            end: self.len(),
        }
    }

    /// Every member's string form, in storage order.
    pub fn members(&self) -> Vec<Bytes> {
        self.iter().map(|m| m.to_bytes()).collect()
    }

    /// Adds `member`; false when it was already there. The set turns into a hash table when
    /// the member is not an integer or the intset would grow past `max_intset` entries.
    pub fn insert(&mut self, member: &[u8], max_intset: u64) -> bool {
        if let Repr::Table(t) = &mut self.repr {
            return table_insert(t, member);
        }
        let Some(v) = parse_i64(member) else {
            self.convert();
            return self.insert(member, max_intset);
        };
        let added = self.insert_int(v);
        if added && self.len() as u64 > max_intset {
            self.convert();
        }
        added
    }

    /// Inserts into an intset (which the set must be).
    fn insert_int(&mut self, v: i64) -> bool {
        let Some((w, b)) = self.int_bytes() else {
            return false;
        };
        let need = Width::of(v);
        let repr = if need > w {
            // A wider value lies outside every member's range: it goes at one end, and
            // every member is re-encoded at the new width.
            let mut out = Vec::with_capacity(b.len() / w.bytes() * need.bytes() + need.bytes());
            if v < 0 {
                need.encode(v, &mut out);
            }
            for i in 0..b.len() / w.bytes() {
                need.encode(w.read(b, i), &mut out);
            }
            if v >= 0 {
                need.encode(v, &mut out);
            }
            Repr::ints(need, &[&out])
        } else {
            let Err(at) = search(w, b, v) else {
                return false;
            };
            let mut enc = Vec::with_capacity(8);
            w.encode(v, &mut enc);
            let split = at * w.bytes();
            Repr::ints(w, &[&b[..split], &enc, &b[split..]])
        };
        self.repr = repr;
        true
    }

    /// Turns an intset into a hash table.
    fn convert(&mut self) {
        let Some((w, b)) = self.int_bytes() else {
            return;
        };
        let mut t = Dict::new();
        let mut buf = itoa::Buffer::new();
        for i in 0..b.len() / w.bytes() {
            let s = buf.format(w.read(b, i)).as_bytes();
            t.insert_new(member_hash(s), SmallBytes::new(s), ());
        }
        self.repr = Repr::Table(Box::new(t));
    }

    /// Removes `member`; false when it was not there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        let at = match self.int_bytes() {
            Some((w, b)) => parse_i64(member).and_then(|v| search(w, b, v).ok()),
            None => self.table_find(member),
        };
        match at {
            Some(i) => {
                self.remove_nth(i);
                true
            }
            None => false,
        }
    }

    /// Removes the member at storage position `i` (see [`SetValue::nth`]) and returns it.
    pub fn remove_nth(&mut self, i: usize) -> Bytes {
        if let Repr::Table(t) = &mut self.repr {
            return t.remove_at(i).0.to_bytes();
        }
        let (w, b) = self.int_bytes().unwrap_or((Width::W16, &[]));
        let v = w.read(b, i);
        let at = i * w.bytes();
        let repr = Repr::ints(w, &[&b[..at], &b[at + w.bytes()..]]);
        self.repr = repr;
        Member::Int(v).to_bytes()
    }

    /// Keeps only the members for which `keep` holds.
    pub fn retain(&mut self, mut keep: impl FnMut(Member<'_>) -> bool) {
        match &mut self.repr {
            Repr::Table(t) => {
                let mut i = 0;
                while i < t.len() {
                    if keep(Member::Str(t.slot(i).key.as_slice())) {
                        i += 1;
                    } else {
                        // The last slot moves into `i`: look at it next.
                        t.remove_at(i);
                    }
                }
            }
            _ => {
                let Some((w, b)) = self.int_bytes() else {
                    return;
                };
                let mut out = Vec::with_capacity(b.len());
                for i in 0..b.len() / w.bytes() {
                    let v = w.read(b, i);
                    if keep(Member::Int(v)) {
                        w.encode(v, &mut out);
                    }
                }
                if out.len() != b.len() {
                    self.repr = Repr::ints(w, &[&out]);
                }
            }
        }
    }

    /// Adds every member of `other` (SUNION); returns how many were new.
    pub fn add_all(&mut self, other: &SetValue, max_intset: u64) -> usize {
        let mut added = 0;
        for m in other.iter() {
            let new = match m {
                Member::Int(v) if self.int_bytes().is_some() => {
                    let new = self.insert_int(v);
                    if new && self.len() as u64 > max_intset {
                        self.convert();
                    }
                    new
                }
                m => m.with_bytes(|s| self.insert(s, max_intset)),
            };
            added += usize::from(new);
        }
        added
    }

    /// Removes every member of `other` (SDIFF), walking whichever set is smaller.
    pub fn remove_all(&mut self, other: &SetValue) {
        if other.len() < self.len() {
            for m in other.iter() {
                m.with_bytes(|s| self.remove(s));
            }
        } else {
            self.retain(|m| !other.contains_member(m));
        }
    }

    /// Keeps the candidates that are also members of this set (one SINTER step).
    pub fn retain_members_in(&self, candidates: &mut Vec<Bytes>) {
        candidates.retain(|m| self.contains(m));
    }

    /// Removes `count` random members and returns them; `rand` gives uniformly random
    /// numbers. `count >= len` takes every member (in storage order) and leaves the set
    /// empty. As Redis's SPOP: when the members left would be few (`count * 5 > len`), it
    /// picks those instead and rebuilds the set from them — so the rebuilt set is encoded as
    /// a new one would be, and a hash table left with few integers becomes an intset again.
    pub fn pop_random(
        &mut self,
        count: usize,
        max_intset: u64,
        rand: &mut impl FnMut() -> u64,
    ) -> Vec<Bytes> {
        let len = self.len();
        if count >= len {
            let all = self.members();
            self.repr = Repr::EMPTY;
            return all;
        }
        if count.saturating_mul(5) > len {
            let mut keep = SetValue::new();
            for _ in 0..len - count {
                let i = (rand() % self.len() as u64) as usize;
                let m = self.remove_nth(i);
                keep.insert(&m, max_intset);
            }
            let popped = self.members();
            *self = keep;
            return popped;
        }
        (0..count)
            .map(|_| {
                let i = (rand() % self.len() as u64) as usize;
                self.remove_nth(i)
            })
            .collect()
    }

    /// `count` random members as SRANDMEMBER returns them: a negative count picks `-count`
    /// times with repeats; a positive one distinct members, every member (in storage
    /// order) when `count >= len`.
    pub fn random_members(&self, count: i64, rand: &mut impl FnMut() -> u64) -> Vec<Bytes> {
        let len = self.len();
        if len == 0 || count == 0 {
            return Vec::new();
        }
        let pick = |rand: &mut dyn FnMut() -> u64| (rand() % len as u64) as usize;
        if count < 0 {
            let n = count.unsigned_abs() as usize;
            return (0..n).map(|_| self.nth(pick(rand)).to_bytes()).collect();
        }
        let count = count as usize;
        if count >= len {
            return self.members();
        }
        let mut positions: Vec<usize>;
        if count * 3 > len {
            // Most members are wanted: drop random ones from the whole list instead.
            positions = (0..len).collect();
            while positions.len() > count {
                let i = (rand() % positions.len() as u64) as usize;
                positions.swap_remove(i);
            }
        } else {
            let mut seen = std::collections::HashSet::with_capacity(count);
            positions = Vec::with_capacity(count);
            while positions.len() < count {
                let i = pick(rand);
                if seen.insert(i) {
                    positions.push(i);
                }
            }
        }
        positions
            .into_iter()
            .map(|i| self.nth(i).to_bytes())
            .collect()
    }

    /// One SSCAN step: visits members from `cursor` and returns the next cursor (0: done).
    /// An intset is visited whole in one call (cursor 0), as in Redis; a hash table bucket by
    /// bucket until `count` members were seen or `10 * count` buckets were visited.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(Member<'_>)) -> u64 {
        let Repr::Table(t) = &self.repr else {
            self.iter().for_each(visit);
            return 0;
        };
        let mut cursor = cursor;
        let mut seen = 0usize;
        let mut steps = count.saturating_mul(10);
        loop {
            cursor = t.scan(cursor, |slot| {
                seen += 1;
                visit(Member::Str(slot.key.as_slice()));
            });
            if cursor == 0 || steps == 0 || seen >= count {
                return cursor;
            }
            steps -= 1;
        }
    }
}

fn table_insert(t: &mut Dict<()>, member: &[u8]) -> bool {
    let h = member_hash(member);
    if t.find(h, member).is_some() {
        return false;
    }
    t.insert_new(h, SmallBytes::new(member), ());
    true
}

impl Clone for SetValue {
    fn clone(&self) -> Self {
        let repr = match &self.repr {
            Repr::Inline { width, len, buf } => Repr::Inline {
                width: *width,
                len: *len,
                buf: *buf,
            },
            Repr::Heap { width, data } => Repr::Heap {
                width: *width,
                data: data.clone(),
            },
            Repr::Table(t) => {
                let mut copy = Dict::new();
                for s in t.iter() {
                    copy.insert_new(s.hash, s.key.clone(), ());
                }
                Repr::Table(Box::new(copy))
            }
        };
        SetValue { repr }
    }
}

/// Sets are equal when they have the same members, whatever their encodings.
impl PartialEq for SetValue {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|m| other.contains_member(m))
    }
}

impl std::fmt::Debug for SetValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_set();
        for m in self.iter() {
            match m {
                Member::Int(v) => l.entry(&v),
                Member::Str(s) => l.entry(&String::from_utf8_lossy(s)),
            };
        }
        l.finish()
    }
}

/// Members in storage order (see [`SetValue::iter`]).
pub struct Iter<'a> {
    set: &'a SetValue,
    next: usize,
    end: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Member<'a>;

    fn next(&mut self) -> Option<Member<'a>> {
        if self.next >= self.end {
            return None;
        }
        self.next += 1;
        Some(self.set.nth(self.next - 1))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    const MAX: u64 = 512;

    fn set(members: &[&str]) -> SetValue {
        SetValue::from_members(members.iter().map(|m| m.as_bytes()), MAX)
    }

    fn strings(s: &SetValue) -> Vec<String> {
        s.iter()
            .map(|m| String::from_utf8_lossy(&m.to_bytes()).into_owned())
            .collect()
    }

    #[test]
    fn a_small_set_lives_in_the_key_slot() {
        assert_eq!(std::mem::size_of::<SetValue>(), 24);
        // Unboxed in `Value` without making any key's entry larger.
        assert_eq!(
            std::mem::size_of::<crate::storage::Value>(),
            std::mem::size_of::<crate::storage::StrValue>()
        );
        let s = set(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
        assert!(matches!(s.repr, Repr::Inline { .. }));
        assert!(matches!(set(&["70000"; 1]).repr, Repr::Inline { .. }));
        let wide = set(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"]);
        assert!(matches!(wide.repr, Repr::Heap { .. }));
    }

    #[test]
    fn intsets_stay_sorted_and_widen() {
        let mut s = set(&["3", "-1", "2"]);
        assert_eq!(strings(&s), ["-1", "2", "3"]);
        assert!(s.insert(b"100000", MAX));
        assert!(s.insert(b"-9223372036854775808", MAX));
        assert!(s.insert(b"9223372036854775807", MAX));
        assert!(!s.insert(b"2", MAX));
        assert_eq!(
            strings(&s),
            [
                "-9223372036854775808",
                "-1",
                "2",
                "3",
                "100000",
                "9223372036854775807"
            ]
        );
        assert_eq!(s.encoding(), "intset");
        assert!(s.contains(b"100000") && !s.contains(b"4") && !s.contains(b"x"));
        assert!(s.remove(b"-1") && !s.remove(b"-1"));
        assert_eq!(s.len(), 5);
    }

    #[test]
    fn non_canonical_integers_and_strings_make_a_table() {
        for m in ["a", "01", "-0", "+1", " 1", "9223372036854775808", ""] {
            let s = set(&["1", m]);
            assert_eq!(s.encoding(), "hashtable", "{m:?}");
            assert!(s.contains(m.as_bytes()) && s.contains(b"1"));
        }
    }

    #[test]
    fn the_entry_limit_converts_on_growth_only() {
        let mut s = SetValue::new();
        assert!(s.insert(b"1", 2) && s.insert(b"2", 2));
        assert_eq!(s.encoding(), "intset");
        assert!(s.insert(b"3", 2));
        assert_eq!(s.encoding(), "hashtable");
        s.remove(b"3");
        s.remove(b"2");
        assert_eq!(s.encoding(), "hashtable");
        let mut z = SetValue::new();
        z.insert(b"1", 0);
        assert_eq!(z.encoding(), "hashtable");
    }

    #[test]
    fn pop_all_and_pop_most_rebuild_as_redis() {
        let mut rng = 7u64;
        let mut rand = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut s = set(&["a", "1", "2", "3", "4", "5"]);
        let popped = s.pop_random(5, MAX, &mut rand);
        assert_eq!(popped.len(), 5);
        assert_eq!(s.len(), 1);
        let left = s.nth(0).to_bytes();
        let expect = if left == "a" { "hashtable" } else { "intset" };
        assert_eq!(s.encoding(), expect);
        assert!(!popped.contains(&left));
        let all = s.pop_random(9, MAX, &mut rand);
        assert_eq!(all, vec![left]);
        assert!(s.is_empty());
    }

    #[test]
    fn random_members_follow_the_count_rules() {
        let mut n = 0u64;
        let mut rand = move || {
            n = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
            n ^ (n >> 29)
        };
        let s = set(&["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]);
        assert_eq!(s.random_members(100, &mut rand).len(), 10);
        assert_eq!(s.random_members(0, &mut rand).len(), 0);
        assert_eq!(s.random_members(-25, &mut rand).len(), 25);
        for count in [2, 5, 9] {
            let got = s.random_members(count, &mut rand);
            let distinct: BTreeSet<_> = got.iter().collect();
            assert_eq!(distinct.len(), count as usize);
            assert!(got.iter().all(|m| s.contains(m)));
        }
    }

    #[test]
    fn clone_eq_and_debug_ignore_encoding() {
        let a = set(&["1", "2", "x"]);
        let b = a.clone();
        assert_eq!(a, b);
        let mut c = set(&["1", "2"]);
        assert_ne!(a, c);
        c.insert(b"x", MAX);
        assert_eq!(a, c);
        assert_eq!(format!("{:?}", set(&["2", "1"])), "{1, 2}");
    }

    #[test]
    fn scan_of_a_table_pages_and_sees_everything() {
        let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let s = SetValue::from_members(members.iter().map(|m| m.as_bytes()), MAX);
        let mut seen = BTreeSet::new();
        let (mut cursor, mut calls) = (0, 0);
        loop {
            cursor = s.scan(cursor, 10, |m| {
                seen.insert(m.to_bytes());
            });
            calls += 1;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 1000);
        assert!(calls > 10);
        let ints = set(&["1", "2", "3"]);
        let mut n = 0;
        assert_eq!(ints.scan(0, 1, |_| n += 1), 0);
        assert_eq!(n, 3);
    }

    /// Members drawn from a small pool mixing integers of every width and strings, so
    /// operations collide, widen intsets and convert them.
    fn member() -> impl Strategy<Value = String> {
        prop_oneof![
            (-40i64..40).prop_map(|v| v.to_string()),
            prop::sample::select(vec![
                "40000".to_string(),
                "-40000".to_string(),
                "5000000000".to_string(),
                "-9223372036854775808".to_string(),
                "9223372036854775807".to_string(),
            ]),
            prop::sample::select(vec!["a".to_string(), "b".to_string(), "07".to_string()]),
        ]
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(String),
        Remove(String),
        Pop(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => member().prop_map(Op::Insert),
            2 => member().prop_map(Op::Remove),
            1 => (0usize..6).prop_map(Op::Pop),
        ]
    }

    fn model_of(s: &SetValue) -> BTreeSet<Vec<u8>> {
        s.iter().map(|m| m.to_bytes().to_vec()).collect()
    }

    proptest! {
        #[test]
        fn behaves_like_a_btreeset(ops in prop::collection::vec(op(), 0..120), max in 0u64..20) {
            let mut s = SetValue::new();
            let mut model = BTreeSet::new();
            let mut seed = 1u64;
            let mut rand = move || { seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); seed >> 11 };
            let mut was_table = false;
            for op in ops {
                match op {
                    Op::Insert(m) => {
                        prop_assert_eq!(s.insert(m.as_bytes(), max), model.insert(m.into_bytes()));
                    }
                    Op::Remove(m) => {
                        prop_assert_eq!(s.remove(m.as_bytes()), model.remove(m.as_bytes()));
                    }
                    Op::Pop(n) => {
                        let popped = s.pop_random(n, max, &mut rand);
                        prop_assert_eq!(popped.len(), n.min(model.len()));
                        for p in popped {
                            prop_assert!(model.remove(p.as_ref()), "popped a non-member");
                        }
                        was_table = s.encoding() == "hashtable";
                    }
                }
                prop_assert_eq!(s.len(), model.len());
                prop_assert_eq!(&model_of(&s), &model);
                // Never back to an intset on its own (SPOP's rebuild aside).
                let table = s.encoding() == "hashtable";
                prop_assert!(table || !was_table);
                was_table = table;
                let all_ints = model.iter().all(|m| parse_i64(m).is_some());
                if !all_ints || model.len() as u64 > max {
                    prop_assert!(table);
                }
                if !table {
                    let v: Vec<i64> = s.iter().map(|m| match m { Member::Int(v) => v, Member::Str(_) => i64::MIN }).collect();
                    prop_assert!(v.windows(2).all(|w| w[0] < w[1]), "intset not sorted");
                }
                for m in &model {
                    prop_assert!(s.contains(m));
                }
            }
        }

        #[test]
        fn algebra_matches_the_model(
            a in prop::collection::btree_set(member(), 0..30),
            b in prop::collection::btree_set(member(), 0..30),
            max in 0u64..40,
        ) {
            let sa = SetValue::from_members(a.iter().map(|m| m.as_bytes()), max);
            let sb = SetValue::from_members(b.iter().map(|m| m.as_bytes()), max);
            let mut union = SetValue::new();
            union.add_all(&sa, max);
            union.add_all(&sb, max);
            let mut diff = SetValue::new();
            diff.add_all(&sa, max);
            diff.remove_all(&sb);
            let mut inter: Vec<Bytes> = sa.members();
            sb.retain_members_in(&mut inter);
            let m = |s: &BTreeSet<String>| -> BTreeSet<Vec<u8>> { s.iter().map(|x| x.as_bytes().to_vec()).collect() };
            let (ma, mb) = (m(&a), m(&b));
            prop_assert_eq!(model_of(&union), ma.union(&mb).cloned().collect::<BTreeSet<_>>());
            prop_assert_eq!(model_of(&diff), ma.difference(&mb).cloned().collect::<BTreeSet<_>>());
            let inter: BTreeSet<Vec<u8>> = inter.iter().map(|x| x.to_vec()).collect();
            prop_assert_eq!(inter, ma.intersection(&mb).cloned().collect::<BTreeSet<_>>());
        }
    }
}
