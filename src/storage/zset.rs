//! A sorted set: member → score, ordered by (score, member), with O(log n) rank.
//!
//! # Representation
//! Two forms, chosen as Redis 7.0 chooses its encodings so `OBJECT ENCODING` answers alike:
//!
//! - **small** (`listpack`): one `Vec` of `(score, member)` kept in order. Every operation is
//!   a scan or a binary search over a few dozen entries — what Redis's listpack does, and the
//!   most compact form (one allocation plus the members' bytes).
//! - **big** (`skiplist`): a member → score hash map for O(1) `ZSCORE`, plus a [`Ranked`]
//!   order-statistic list for rank, index and range queries in O(log n).
//!
//! A set starts small when the elements it is created for fit `zset-max-listpack-entries` /
//! `-value` ([`Limits`]) and converts to big the first time it outgrows them; it never
//! converts back (only the `*STORE` commands build a fresh value, see
//! [`ZSetValue::from_sorted`]).
//!
//! # Why a chunked list rather than a skiplist or a tree
//! [`Ranked`] is a sorted list cut into chunks of at most [`CHUNK`] entries, with a Fenwick
//! tree over the chunk sizes. Rank = binary search over chunks + binary search inside one +
//! a Fenwick prefix sum; the element at index `i` = a Fenwick descent + an array access. All
//! O(log n); inserts pay an O(CHUNK) memmove inside one chunk, which is cheaper than the
//! pointer chasing and allocation of a node per element (std `BTreeSet` has no rank, and a
//! skiplist needs unsafe code or an arena in Rust). Ranges are contiguous slices.
//!
//! Scores are never NaN (callers reject it) and `-0.0` is stored as `0.0`, so ordering with
//! `f64::total_cmp` equals numeric ordering.

use std::cmp::Ordering;
use std::collections::HashMap;

use bytes::Bytes;

/// Largest chunk of a [`Ranked`] list; a fuller chunk splits in two. (Tests use tiny
/// chunks so splits and chunk removals happen constantly.)
#[cfg(not(test))]
const CHUNK: usize = 256;
#[cfg(test)]
const CHUNK: usize = 4;

/// The encoding thresholds a write applies (`zset-max-listpack-entries` / `-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `zset-max-listpack-entries`: most members the small form holds.
    pub entries: u64,
    /// `zset-max-listpack-value`: longest member, in bytes, the small form holds.
    pub value: u64,
}

impl Limits {
    /// Whether `n` elements whose longest member has `max_len` bytes fit the small form.
    pub fn fits(&self, n: usize, max_len: usize) -> bool {
        n as u64 <= self.entries && max_len as u64 <= self.value
    }
}

/// `-0.0` → `0.0` (NaN is rejected before reaching storage).
#[inline]
pub fn normalize(score: f64) -> f64 {
    if score == 0.0 {
        0.0
    } else {
        score
    }
}

#[inline]
fn cmp(a: (f64, &[u8]), b: (f64, &[u8])) -> Ordering {
    a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1))
}

/// An order-statistic list of `(score, member)`: see the module docs.
#[derive(Clone, Debug, Default)]
pub struct Ranked {
    /// Non-empty sorted chunks, in global order.
    chunks: Vec<Vec<(f64, Bytes)>>,
    /// Fenwick tree (1-based) over `chunks[i].len()`.
    fenwick: Vec<usize>,
    len: usize,
}

impl Ranked {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn rebuild(&mut self) {
        let n = self.chunks.len();
        self.fenwick = vec![0; n + 1];
        for i in 1..=n {
            self.fenwick[i] += self.chunks[i - 1].len();
            let j = i + (i & i.wrapping_neg());
            if j <= n {
                let v = self.fenwick[i];
                self.fenwick[j] += v;
            }
        }
    }

    fn fenwick_add(&mut self, chunk: usize, delta: isize) {
        let mut i = chunk + 1;
        while i < self.fenwick.len() {
            self.fenwick[i] = self.fenwick[i].wrapping_add_signed(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Number of elements in chunks `0..chunk`.
    fn prefix(&self, chunk: usize) -> usize {
        let mut i = chunk;
        let mut sum = 0;
        while i > 0 {
            sum += self.fenwick[i];
            i -= i & i.wrapping_neg();
        }
        sum
    }

    /// The chunk holding index `k` (< len) and the offset inside it.
    fn find_index(&self, mut k: usize) -> (usize, usize) {
        let n = self.chunks.len();
        let mut pos = 0;
        let mut step = n.next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next <= n && self.fenwick[next] <= k {
                pos = next;
                k -= self.fenwick[next];
            }
            step >>= 1;
        }
        (pos, k)
    }

    /// First chunk whose last element is not before the boundary, and the position inside
    /// it of the first element not before it. `before` must be true then false in order.
    fn locate(&self, before: impl Fn(f64, &[u8]) -> bool) -> (usize, usize) {
        let ci = self.chunks.partition_point(|c| match c.last() {
            Some((s, m)) => before(*s, m),
            None => true,
        });
        if ci == self.chunks.len() {
            return (ci, 0);
        }
        let pos = self.chunks[ci].partition_point(|(s, m)| before(*s, m));
        (ci, pos)
    }

    /// How many elements are before the boundary (`before` as in [`Ranked::locate`]).
    pub fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        let (ci, pos) = self.locate(before);
        if ci == self.chunks.len() {
            self.len
        } else {
            self.prefix(ci) + pos
        }
    }

    /// Inserts an element that is not present.
    pub fn insert(&mut self, score: f64, member: Bytes) {
        let (mut ci, mut pos) = self.locate(|s, m| cmp((s, m), (score, &member)).is_lt());
        if self.chunks.is_empty() {
            self.chunks.push(Vec::with_capacity(8));
            self.rebuild();
        }
        if ci == self.chunks.len() {
            ci -= 1;
            pos = self.chunks[ci].len();
        }
        self.chunks[ci].insert(pos, (score, member));
        self.len += 1;
        if self.chunks[ci].len() > CHUNK {
            let tail = self.chunks[ci].split_off(CHUNK / 2);
            self.chunks.insert(ci + 1, tail);
            self.rebuild();
        } else {
            self.fenwick_add(ci, 1);
        }
    }

    /// Removes an element; false when absent.
    pub fn remove(&mut self, score: f64, member: &[u8]) -> bool {
        let (ci, pos) = self.locate(|s, m| cmp((s, m), (score, member)).is_lt());
        let Some(chunk) = self.chunks.get_mut(ci) else {
            return false;
        };
        match chunk.get(pos) {
            Some((s, m)) if s.total_cmp(&score).is_eq() && m.as_ref() == member => {}
            _ => return false,
        }
        chunk.remove(pos);
        self.len -= 1;
        if chunk.is_empty() {
            self.chunks.remove(ci);
            self.rebuild();
        } else {
            self.fenwick_add(ci, -1);
        }
        true
    }

    /// The 0-based rank of a present element.
    pub fn rank(&self, score: f64, member: &[u8]) -> usize {
        self.count_before(|s, m| cmp((s, m), (score, member)).is_lt())
    }

    /// The element at index `k`.
    pub fn get(&self, k: usize) -> Option<(f64, &Bytes)> {
        if k >= self.len {
            return None;
        }
        let (ci, off) = self.find_index(k);
        self.chunks.get(ci)?.get(off).map(|(s, m)| (*s, m))
    }

    /// Elements at indexes `from..to`, in order.
    pub fn range(&self, from: usize, to: usize) -> impl Iterator<Item = (f64, &Bytes)> + '_ {
        let to = to.min(self.len);
        let n = to.saturating_sub(from);
        let (ci, off) = if n > 0 { self.find_index(from) } else { (0, 0) };
        self.chunks
            .iter()
            .skip(ci)
            .flat_map(|c| c.iter())
            .skip(off)
            .take(n)
            .map(|(s, m)| (*s, m))
    }

    /// Elements at indexes `from..to` in reverse order, without collecting.
    pub fn range_rev(&self, from: usize, to: usize) -> impl Iterator<Item = (f64, &Bytes)> + '_ {
        let to = to.min(self.len);
        let n = to.saturating_sub(from);
        let (ci, off) = if n > 0 {
            self.find_index(to - 1)
        } else {
            (0, 0)
        };
        let skip_back = if n > 0 {
            self.chunks[ci].len() - off - 1
        } else {
            0
        };
        self.chunks
            .iter()
            .take(ci + 1)
            .rev()
            .flat_map(|c| c.iter().rev())
            .skip(skip_back)
            .take(n)
            .map(|(s, m)| (*s, m))
    }

    /// Every `(score, member)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (f64, &Bytes)> + '_ {
        self.chunks.iter().flatten().map(|(s, m)| (*s, m))
    }

    /// Removes indexes `from..to`, returning the removed elements in order.
    pub fn drain(&mut self, from: usize, to: usize) -> Vec<(f64, Bytes)> {
        let to = to.min(self.len);
        if from >= to {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(to - from);
        let (mut ci, off) = self.find_index(from);
        let mut off = off;
        let mut left = to - from;
        while left > 0 && ci < self.chunks.len() {
            let chunk = &mut self.chunks[ci];
            let take = (chunk.len() - off).min(left);
            out.extend(chunk.drain(off..off + take));
            left -= take;
            off = 0;
            if chunk.is_empty() {
                self.chunks.remove(ci);
            } else {
                ci += 1;
            }
        }
        self.len -= out.len();
        self.rebuild();
        out
    }
}

/// What [`ZSetValue::add`] should do (ZADD's flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AddFlags {
    /// `NX`: only add new members.
    pub nx: bool,
    /// `XX`: only update existing members.
    pub xx: bool,
    /// `GT`: only update when the new score is greater.
    pub gt: bool,
    /// `LT`: only update when the new score is less.
    pub lt: bool,
    /// `INCR`: add to the score instead of setting it.
    pub incr: bool,
}

/// What [`ZSetValue::add`] did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Added {
    /// A new member, with its score.
    Added(f64),
    /// An existing member whose score changed.
    Updated(f64),
    /// An existing member whose score stayed (same score, or INCR by 0): the score.
    Same(f64),
    /// The flags prevented the write.
    Skipped,
    /// INCR would make the score NaN; nothing changed.
    NaN,
}

/// A score range bound: `(1.5` is exclusive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    /// The lower bound.
    pub min: f64,
    /// Whether the lower bound is exclusive (`(min`).
    pub minex: bool,
    /// The upper bound.
    pub max: f64,
    /// Whether the upper bound is exclusive (`(max`).
    pub maxex: bool,
}

impl ScoreRange {
    /// Whether a score below `score` … is before the range start.
    fn before_min(&self, s: f64) -> bool {
        if self.minex {
            s <= self.min
        } else {
            s < self.min
        }
    }

    fn within_max(&self, s: f64) -> bool {
        if self.maxex {
            s < self.max
        } else {
            s <= self.max
        }
    }

    /// Redis's early "empty range" test.
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// A lexicographic bound: `-`, `+`, `[x` (inclusive) or `(x` (exclusive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LexBound {
    /// `-`: below every member.
    Min,
    /// `+`: above every member.
    Max,
    /// `[x`: `x` included.
    Incl(Bytes),
    /// `(x`: `x` excluded.
    Excl(Bytes),
}

/// A lexicographic range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexRange {
    /// The start bound.
    pub min: LexBound,
    /// The end bound.
    pub max: LexBound,
}

impl LexRange {
    /// Whether `m` lies before the range's start.
    fn before_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(b) => m < b.as_ref(),
            LexBound::Excl(b) => m <= b.as_ref(),
        }
    }

    fn within_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::Min => false,
            LexBound::Max => true,
            LexBound::Incl(b) => m <= b.as_ref(),
            LexBound::Excl(b) => m < b.as_ref(),
        }
    }

    /// Redis's early "empty range" test.
    pub fn is_empty(&self) -> bool {
        use LexBound::*;
        match (&self.min, &self.max) {
            (Max, _) | (_, Min) => true,
            (Min, _) | (_, Max) => false,
            (Incl(a), Incl(b)) => a > b,
            (Incl(a), Excl(b)) | (Excl(a), Incl(b)) | (Excl(a), Excl(b)) => a >= b,
        }
    }
}

#[derive(Clone, Debug)]
enum Repr {
    /// Sorted by (score, member): Redis's `listpack`.
    Small(Vec<(f64, Bytes)>),
    /// Redis's `skiplist`.
    Big {
        scores: HashMap<Bytes, f64, foldhash::fast::RandomState>,
        order: Ranked,
    },
}

/// A sorted set: member → score, ordered by (score, member) with O(log n) rank.
#[derive(Clone, Debug)]
pub struct ZSetValue {
    repr: Repr,
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue {
            repr: Repr::Small(Vec::new()),
        }
    }
}

impl PartialEq for ZSetValue {
    fn eq(&self, other: &Self) -> bool {
        self.encoding() == other.encoding()
            && self.len() == other.len()
            && self.iter().eq(other.iter())
    }
}

impl ZSetValue {
    /// An empty set for `size_hint` elements whose longest member is `max_len` bytes: small
    /// when they fit the limits (Redis's `zsetTypeCreate`).
    pub fn new(size_hint: usize, max_len: usize, limits: Limits) -> ZSetValue {
        if limits.entries > 0 && limits.fits(size_hint, max_len) {
            ZSetValue::default()
        } else {
            ZSetValue::big()
        }
    }

    fn big() -> ZSetValue {
        ZSetValue {
            repr: Repr::Big {
                scores: HashMap::default(),
                order: Ranked::default(),
            },
        }
    }

    /// A set from elements already sorted by (score, member) and distinct, in the encoding
    /// Redis gives a freshly stored result (`zsetConvertToListpackIfNeeded`).
    pub fn from_sorted(items: Vec<(f64, Bytes)>, limits: Limits) -> ZSetValue {
        let max_len = items.iter().map(|(_, m)| m.len()).max().unwrap_or(0);
        if limits.fits(items.len(), max_len) {
            return ZSetValue {
                repr: Repr::Small(items),
            };
        }
        let mut z = ZSetValue::big();
        for (s, m) in items {
            z.insert_new(s, m);
        }
        z
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Small(v) => v.len(),
            Repr::Big { order, .. } => order.len(),
        }
    }

    /// Whether the sorted set has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Name reported by `OBJECT ENCODING`.
    pub fn encoding(&self) -> &'static str {
        match &self.repr {
            Repr::Small(_) => "listpack",
            Repr::Big { .. } => "skiplist",
        }
    }

    /// Converts to the big form (never back). Also what SORT does to the sorted sets it
    /// reads, as Redis converts them to a skiplist before sorting (`OBJECT ENCODING` shows it).
    pub fn convert(&mut self) {
        if let Repr::Small(v) = &mut self.repr {
            let items = std::mem::take(v);
            *self = ZSetValue::big();
            for (s, m) in items {
                self.insert_new(s, m);
            }
        }
    }

    /// Inserts a member known to be absent, without encoding checks.
    fn insert_new(&mut self, score: f64, member: Bytes) {
        match &mut self.repr {
            Repr::Small(v) => {
                let pos = v.partition_point(|(s, m)| cmp((*s, m), (score, &member)).is_lt());
                v.insert(pos, (score, member));
            }
            Repr::Big { scores, order } => {
                scores.insert(member.clone(), score);
                order.insert(score, member);
            }
        }
    }

    /// A member's score.
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match &self.repr {
            Repr::Small(v) => v
                .iter()
                .find(|(_, m)| m.as_ref() == member)
                .map(|(s, _)| *s),
            Repr::Big { scores, .. } => scores.get(member).copied(),
        }
    }

    /// Moves an existing member to a new score.
    fn rescore(&mut self, member: &[u8], old: f64, new: f64) {
        match &mut self.repr {
            Repr::Small(v) => {
                if let Some(i) = v.iter().position(|(_, m)| m.as_ref() == member) {
                    let (_, m) = v.remove(i);
                    let pos = v.partition_point(|(s, x)| cmp((*s, x), (new, &m)).is_lt());
                    v.insert(pos, (new, m));
                }
            }
            Repr::Big { scores, order } => {
                if let Some((key, s)) = scores.get_key_value(member) {
                    let key = key.clone();
                    debug_assert_eq!(*s, old);
                    order.remove(old, member);
                    order.insert(new, key.clone());
                    scores.insert(key, new);
                }
            }
        }
    }

    /// ZADD/ZINCRBY for one element (Redis's `zsetAdd`), converting to the big form when the
    /// set outgrows `limits`. `score` must not be NaN.
    pub fn add(&mut self, member: &Bytes, score: f64, f: AddFlags, limits: Limits) -> Added {
        let score = normalize(score);
        match self.score(member) {
            Some(cur) => {
                if f.nx {
                    return Added::Skipped;
                }
                let new = if f.incr {
                    let n = cur + score;
                    if n.is_nan() {
                        return Added::NaN;
                    }
                    normalize(n)
                } else {
                    score
                };
                if (f.lt && new >= cur) || (f.gt && new <= cur) {
                    return Added::Skipped;
                }
                if new == cur {
                    return Added::Same(new);
                }
                self.rescore(member, cur, new);
                Added::Updated(new)
            }
            None if f.xx => Added::Skipped,
            None => {
                if matches!(self.repr, Repr::Small(_)) && !limits.fits(self.len() + 1, member.len())
                {
                    self.convert();
                }
                self.insert_new(score, member.clone());
                Added::Added(score)
            }
        }
    }

    /// Removes a member; false when absent.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Small(v) => match v.iter().position(|(_, m)| m.as_ref() == member) {
                Some(i) => {
                    v.remove(i);
                    true
                }
                None => false,
            },
            Repr::Big { scores, order } => match scores.remove(member) {
                Some(s) => order.remove(s, member),
                None => false,
            },
        }
    }

    /// A member's 0-based rank, ascending, in O(log n) (O(n) while small).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match &self.repr {
            Repr::Small(v) => v.iter().position(|(_, m)| m.as_ref() == member),
            Repr::Big { scores, order } => {
                let s = *scores.get(member)?;
                Some(order.rank(s, member))
            }
        }
    }

    /// How many elements come before the boundary (`before` true then false in order).
    fn count_before(&self, before: impl Fn(f64, &[u8]) -> bool) -> usize {
        match &self.repr {
            Repr::Small(v) => v.partition_point(|(s, m)| before(*s, m)),
            Repr::Big { order, .. } => order.count_before(before),
        }
    }

    /// The index range `start..end` of the elements within a score range.
    pub fn score_span(&self, r: &ScoreRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        let start = self.count_before(|s, _| r.before_min(s));
        let end = self.count_before(|s, _| r.within_max(s));
        (start, end.max(start))
    }

    /// The index range `start..end` of the elements within a lexicographic range (meaningful
    /// when all scores are equal, as in Redis).
    ///
    /// With mixed scores the members are not in lexicographic order and no answer is
    /// "right"; the small form then answers as Redis's listpack does (the first member from
    /// the start that is not below `min`, and the run after it that is not above `max`),
    /// the big form by binary search, as Redis's skiplist descent does.
    pub fn lex_span(&self, r: &LexRange) -> (usize, usize) {
        if r.is_empty() {
            return (0, 0);
        }
        if let Repr::Small(v) = &self.repr {
            let Some(start) = v.iter().position(|(_, m)| !r.before_min(m)) else {
                return (v.len(), v.len());
            };
            let run = v[start..]
                .iter()
                .take_while(|(_, m)| r.within_max(m))
                .count();
            return (start, start + run);
        }
        let start = self.count_before(|_, m| r.before_min(m));
        let end = self.count_before(|_, m| r.within_max(m));
        (start, end.max(start))
    }

    /// Elements at indexes `from..to`, ascending, or descending from `to - 1` when `rev`.
    pub fn range(&self, from: usize, to: usize, rev: bool) -> Vec<(Bytes, f64)> {
        let to = to.min(self.len());
        if from >= to {
            return Vec::new();
        }
        let pick = |(s, m): (f64, &Bytes)| (m.clone(), s);
        match &self.repr {
            Repr::Small(v) => {
                let slice = v[from..to].iter().map(|(s, m)| (m.clone(), *s));
                if rev {
                    slice.rev().collect()
                } else {
                    slice.collect()
                }
            }
            Repr::Big { order, .. } => {
                if rev {
                    order.range_rev(from, to).map(pick).collect()
                } else {
                    order.range(from, to).map(pick).collect()
                }
            }
        }
    }

    /// The element at index `i`.
    pub fn at(&self, i: usize) -> Option<(Bytes, f64)> {
        match &self.repr {
            Repr::Small(v) => v.get(i).map(|(s, m)| (m.clone(), *s)),
            Repr::Big { order, .. } => order.get(i).map(|(s, m)| (m.clone(), s)),
        }
    }

    /// All elements in order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (f64, &Bytes)> + '_> {
        match &self.repr {
            Repr::Small(v) => Box::new(v.iter().map(|(s, m)| (*s, m))),
            Repr::Big { order, .. } => Box::new(order.iter()),
        }
    }

    /// Removes the elements at indexes `from..to`; returns them in order.
    pub fn remove_span(&mut self, from: usize, to: usize) -> Vec<(Bytes, f64)> {
        let to = to.min(self.len());
        if from >= to {
            return Vec::new();
        }
        match &mut self.repr {
            Repr::Small(v) => v.drain(from..to).map(|(s, m)| (m, s)).collect(),
            Repr::Big { scores, order } => {
                let out = order.drain(from, to);
                for (_, m) in &out {
                    scores.remove(m);
                }
                out.into_iter().map(|(s, m)| (m, s)).collect()
            }
        }
    }

    /// Pops up to `count` elements from the low (`min`) or high end, in pop order.
    pub fn pop(&mut self, min: bool, count: usize) -> Vec<(Bytes, f64)> {
        let n = count.min(self.len());
        if min {
            self.remove_span(0, n)
        } else {
            let len = self.len();
            let mut v = self.remove_span(len - n, len);
            v.reverse();
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const SMALL: Limits = Limits {
        entries: 4,
        value: 8,
    };
    const NO_SMALL: Limits = Limits {
        entries: 0,
        value: 0,
    };

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn add(z: &mut ZSetValue, m: &str, s: f64) -> Added {
        z.add(&b(m), s, AddFlags::default(), SMALL)
    }

    #[test]
    fn orders_by_score_then_member_and_converts_on_growth() {
        let mut z = ZSetValue::new(1, 1, SMALL);
        assert_eq!(z.encoding(), "listpack");
        assert_eq!(add(&mut z, "b", 1.0), Added::Added(1.0));
        assert_eq!(add(&mut z, "a", 1.0), Added::Added(1.0));
        assert_eq!(add(&mut z, "c", 0.5), Added::Added(0.5));
        let names: Vec<_> = z.range(0, 10, false).into_iter().map(|(m, _)| m).collect();
        assert_eq!(names, vec![b("c"), b("a"), b("b")]);
        assert_eq!(z.rank(b"b"), Some(2));
        add(&mut z, "d", 3.0);
        assert_eq!(z.encoding(), "listpack");
        add(&mut z, "e", 3.0);
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.rank(b"e"), Some(4));
        // Never back.
        z.remove(b"e");
        z.remove(b"d");
        assert_eq!(z.encoding(), "skiplist");
        // A long member converts too.
        let mut y = ZSetValue::new(1, 1, SMALL);
        add(&mut y, "123456789", 1.0);
        assert_eq!(y.encoding(), "skiplist");
    }

    #[test]
    fn flags_follow_zadd() {
        let mut z = ZSetValue::default();
        let f = |nx, xx, gt, lt, incr| AddFlags {
            nx,
            xx,
            gt,
            lt,
            incr,
        };
        assert_eq!(
            z.add(&b("a"), 1.0, f(false, true, false, false, false), SMALL),
            Added::Skipped
        );
        assert_eq!(
            z.add(&b("a"), 1.0, f(true, false, false, false, false), SMALL),
            Added::Added(1.0)
        );
        assert_eq!(
            z.add(&b("a"), 5.0, f(true, false, false, false, false), SMALL),
            Added::Skipped
        );
        assert_eq!(
            z.add(&b("a"), 0.5, f(false, false, true, false, false), SMALL),
            Added::Skipped
        );
        assert_eq!(
            z.add(&b("a"), 2.0, f(false, false, true, false, true), SMALL),
            Added::Updated(3.0)
        );
        assert_eq!(
            z.add(
                &b("a"),
                f64::INFINITY,
                f(false, false, false, false, false),
                SMALL
            ),
            Added::Updated(f64::INFINITY)
        );
        assert_eq!(
            z.add(
                &b("a"),
                f64::NEG_INFINITY,
                f(false, false, false, false, true),
                SMALL
            ),
            Added::NaN
        );
        assert_eq!(
            z.add(
                &b("a"),
                f64::INFINITY,
                f(false, false, false, false, false),
                SMALL
            ),
            Added::Same(f64::INFINITY)
        );
        assert_eq!(
            z.add(&b("z"), -0.0, AddFlags::default(), SMALL),
            Added::Added(0.0)
        );
        assert!(z.score(b"z").is_some_and(|s| s.is_sign_positive()));
    }

    #[test]
    fn score_and_lex_spans() {
        let mut z = ZSetValue::new(0, 0, NO_SMALL);
        for (m, s) in [("a", 1.0), ("b", 2.0), ("c", 2.0), ("d", 3.0)] {
            add(&mut z, m, s);
        }
        let r = |min, minex, max, maxex| ScoreRange {
            min,
            minex,
            max,
            maxex,
        };
        assert_eq!(z.score_span(&r(2.0, false, 2.0, false)), (1, 3));
        assert_eq!(z.score_span(&r(1.0, true, 3.0, true)), (1, 3));
        assert_eq!(
            z.score_span(&r(f64::NEG_INFINITY, false, f64::INFINITY, false)),
            (0, 4)
        );
        assert_eq!(z.score_span(&r(2.0, true, 2.0, false)), (0, 0));
        let mut l = ZSetValue::default();
        for m in ["a", "b", "c", "d"] {
            add(&mut l, m, 0.0);
        }
        let lr = |min, max| LexRange { min, max };
        assert_eq!(
            l.lex_span(&lr(LexBound::Incl(b("b")), LexBound::Excl(b("d")))),
            (1, 3)
        );
        assert_eq!(l.lex_span(&lr(LexBound::Min, LexBound::Max)), (0, 4));
        assert_eq!(l.lex_span(&lr(LexBound::Max, LexBound::Max)), (0, 0));
        assert_eq!(
            l.lex_span(&lr(LexBound::Excl(b("a")), LexBound::Incl(b("a")))),
            (0, 0)
        );
    }

    #[test]
    fn pops_and_spans_remove_in_order() {
        let mut z = ZSetValue::new(0, 0, NO_SMALL);
        for i in 0..1000 {
            add(&mut z, &format!("m{i:04}"), i as f64);
        }
        let low = z.pop(true, 2);
        assert_eq!(low, vec![(b("m0000"), 0.0), (b("m0001"), 1.0)]);
        let high = z.pop(false, 2);
        assert_eq!(high, vec![(b("m0999"), 999.0), (b("m0998"), 998.0)]);
        let mid = z.remove_span(100, 400);
        assert_eq!(mid.len(), 300);
        assert_eq!(mid[0].0, b("m0102"));
        assert_eq!(z.len(), 696);
        assert_eq!(z.rank(b("m0402").as_ref()), Some(100));
        assert_eq!(z.score(b"m0150"), None);
        assert_eq!(z.range(694, 700, true).len(), 2);
    }

    /// The model: a BTreeMap ordered by (score bits made orderable, member).
    #[derive(Debug, Clone)]
    enum Op {
        Add(u8, i8),
        Incr(u8, i8),
        Remove(u8),
        Pop(bool, u8),
        RemoveSpan(u16, u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<i8>()).prop_map(|(m, s)| Op::Add(m, s)),
            1 => (any::<u8>(), any::<i8>()).prop_map(|(m, s)| Op::Incr(m, s)),
            2 => any::<u8>().prop_map(Op::Remove),
            1 => (any::<bool>(), 0..5u8).prop_map(|(a, n)| Op::Pop(a, n)),
            1 => (0..300u16, 0..300u16).prop_map(|(a, n)| Op::RemoveSpan(a, n)),
        ]
    }

    fn sorted(model: &BTreeMap<Vec<u8>, f64>) -> Vec<(Bytes, f64)> {
        let mut v: Vec<(Bytes, f64)> = model
            .iter()
            .map(|(m, s)| (Bytes::copy_from_slice(m), *s))
            .collect();
        v.sort_by(|a, b| cmp((a.1, &a.0), (b.1, &b.0)));
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn agrees_with_a_model(ops in prop::collection::vec(op(), 1..1500), small in any::<bool>()) {
            let limits = if small { Limits { entries: 64, value: 64 } } else { NO_SMALL };
            let mut z = ZSetValue::new(0, 0, limits);
            let mut model: BTreeMap<Vec<u8>, f64> = BTreeMap::new();
            for o in ops {
                match o {
                    Op::Add(m, s) | Op::Incr(m, s) => {
                        let incr = matches!(o, Op::Incr(..));
                        let key = format!("m{m}").into_bytes();
                        let f = AddFlags { incr, ..AddFlags::default() };
                        z.add(&Bytes::from(key.clone()), s as f64, f, limits);
                        let e = model.entry(key).or_insert(0.0);
                        *e = if incr { *e + s as f64 } else { s as f64 };
                    }
                    Op::Remove(m) => {
                        let key = format!("m{m}").into_bytes();
                        prop_assert_eq!(z.remove(&key), model.remove(&key).is_some());
                    }
                    Op::Pop(min, n) => {
                        let want = sorted(&model);
                        let got = z.pop(min, n as usize);
                        let expect: Vec<_> = if min {
                            want.iter().take(n as usize).cloned().collect()
                        } else {
                            want.iter().rev().take(n as usize).cloned().collect()
                        };
                        prop_assert_eq!(&got, &expect);
                        for (m, _) in got { model.remove(m.as_ref()); }
                    }
                    Op::RemoveSpan(a, n) => {
                        let want = sorted(&model);
                        let (a, e) = (a as usize, a as usize + n as usize);
                        let got = z.remove_span(a, e);
                        let expect: Vec<_> = want.iter().skip(a).take(e.saturating_sub(a)).cloned().collect();
                        prop_assert_eq!(&got, &expect);
                        for (m, _) in got { model.remove(m.as_ref()); }
                    }
                }
                prop_assert_eq!(z.len(), model.len());
            }
            let want = sorted(&model);
            prop_assert_eq!(z.range(0, usize::MAX, false), want.clone());
            let mut rev = want.clone();
            rev.reverse();
            prop_assert_eq!(z.range(0, usize::MAX, true), rev);
            for (i, (m, s)) in want.iter().enumerate() {
                prop_assert_eq!(z.rank(m), Some(i));
                prop_assert_eq!(z.score(m), Some(*s));
                prop_assert_eq!(z.at(i), Some((m.clone(), *s)));
                let k = i.min(3);
                prop_assert_eq!(z.range(i - k, i + 1, true).first().cloned(), Some((m.clone(), *s)));
            }
            let r = ScoreRange { min: -10.0, minex: true, max: 20.0, maxex: false };
            let (a, e) = z.score_span(&r);
            let expect = want.iter().filter(|(_, s)| *s > -10.0 && *s <= 20.0).count();
            prop_assert_eq!(e - a, expect);
        }
    }
}
