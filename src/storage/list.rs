//! Lists: a *quicklist* — a deque of packed nodes — as Redis 7.0 stores every list (so
//! `OBJECT ENCODING` always answers `quicklist`).
//!
//! # Representation
//! Each [`Node`] packs its elements back to back in one byte buffer, each as
//! `len · bytes · len-backwards` (LEB128 lengths, the trailing one stored reversed), so a node
//! can be walked from either end — the same idea as Redis's listpack `backlen`. An element
//! shorter than 128 bytes costs 2 bytes of framing and no allocation of its own; a list of
//! ten short strings is one node, i.e. three allocations in all (the boxed [`ListValue`],
//! nothing for the node array, one buffer).
//!
//! Nodes are bounded by `list-max-listpack-size` ([`Fill`]): negative values cap a node's
//! bytes (-1 = 4 KiB … -5 = 64 KiB), positive ones its element count (with Redis's 8 KiB
//! safety cap). Bounded nodes make push and pop at either end O(1) in the list's length
//! (the head node's bytes move on a push-front, as a listpack's do), and keep index walks
//! at O(n / node size) node hops plus one node scan.
//!
//! A list with one node keeps it inline ([`Nodes::One`]); only lists that outgrow one node
//! pay for the node deque.
//!
//! Mid-list edits (LSET, LINSERT, LREM, LTRIM) rewrite only the nodes they touch, splitting a
//! node that outgrows its limit. Nothing here panics on any content: element bytes are
//! opaque, and offsets only ever come from the node's own framing.

use std::collections::VecDeque;
use std::fmt;

use bytes::Bytes;

/// Redis's node limit for positive fills: no node grows past 8 KiB by count alone.
const SAFETY_LIMIT: usize = 8192;

/// How full a node may get: `list-max-listpack-size`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill(pub i64);

impl Fill {
    /// Redis's default, `-2` (8 KiB nodes).
    pub const DEFAULT: Fill = Fill(-2);

    /// Whether a node of `count` elements and `bytes` bytes is within the limit.
    fn allows(self, count: usize, bytes: usize) -> bool {
        if self.0 < 0 {
            let level = self.0.unsigned_abs().min(5) as u32;
            bytes <= 4096usize << (level - 1)
        } else {
            count <= self.0.max(1) as usize && bytes <= SAFETY_LIMIT
        }
    }
}

impl Default for Fill {
    fn default() -> Self {
        Fill::DEFAULT
    }
}

/// Bytes a LEB128 encoding of `n` takes.
fn varint_len(mut n: usize) -> usize {
    let mut l = 1;
    while n >= 0x80 {
        n >>= 7;
        l += 1;
    }
    l
}

/// Bytes one element takes in a node.
fn framed_len(len: usize) -> usize {
    2 * varint_len(len) + len
}

/// Writes `data` framed into `dst`, which is exactly `framed_len(data.len())` long.
fn write_entry(dst: &mut [u8], data: &[u8]) {
    let n = varint_len(data.len());
    let (head, rest) = dst.split_at_mut(n);
    let (body, tail) = rest.split_at_mut(data.len());
    let mut v = data.len();
    for b in head.iter_mut() {
        *b = (v & 0x7f) as u8 | 0x80;
        v >>= 7;
    }
    head[n - 1] &= 0x7f;
    body.copy_from_slice(data);
    // The trailing length is the same groups in reverse: read backwards, it starts with the
    // low group and ends at the byte without the continuation bit.
    for (i, b) in tail.iter_mut().enumerate() {
        let g = head[n - 1 - i] & 0x7f;
        *b = if i == 0 { g } else { g | 0x80 };
    }
}

/// One packed node.
#[derive(Clone, Default)]
struct Node {
    buf: Vec<u8>,
    count: u32,
}

impl Node {
    fn of<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Node {
        let mut n = Node::default();
        for i in items {
            n.push_back(i);
        }
        n
    }

    fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether `extra` more bytes (one element) still fit under `fill`.
    fn fits(&self, extra: usize, fill: Fill) -> bool {
        self.count == 0 || fill.allows(self.len() + 1, self.buf.len() + extra)
    }

    /// Grows the buffer for `extra` bytes: exactly while small (small lists stay tight),
    /// by a quarter once past 64 bytes (amortised O(1) per push in a filling node).
    fn reserve(&mut self, extra: usize) {
        let need = self.buf.len() + extra;
        if need > self.buf.capacity() {
            let cap = self.buf.capacity();
            let target = if cap < 64 {
                need
            } else {
                need.max(cap + cap / 4)
            };
            self.buf.reserve_exact(target - self.buf.len());
        }
    }

    fn push_back(&mut self, data: &[u8]) {
        let add = framed_len(data.len());
        self.reserve(add);
        let old = self.buf.len();
        self.buf.resize(old + add, 0);
        write_entry(&mut self.buf[old..], data);
        self.count += 1;
    }

    fn push_front(&mut self, data: &[u8]) {
        let add = framed_len(data.len());
        self.reserve(add);
        let old = self.buf.len();
        self.buf.resize(old + add, 0);
        self.buf.copy_within(0..old, add);
        write_entry(&mut self.buf[..add], data);
        self.count += 1;
    }

    /// `(data start, data end, next entry)` of the entry at byte offset `at`.
    fn entry_at(&self, at: usize) -> (usize, usize, usize) {
        let (mut len, mut shift, mut p) = (0usize, 0u32, at);
        while let Some(&b) = self.buf.get(p) {
            len |= ((b & 0x7f) as usize) << shift;
            p += 1;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let end = p + len;
        (p, end, end + varint_len(len))
    }

    /// `(previous entry's end, data start, data end)` of the entry ending at byte `end`.
    fn entry_before(&self, end: usize) -> (usize, usize, usize) {
        let (mut len, mut shift, mut p) = (0usize, 0u32, end);
        while p > 0 {
            p -= 1;
            let b = self.buf[p];
            len |= ((b & 0x7f) as usize) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                break;
            }
        }
        let start = p.saturating_sub(len);
        (start.saturating_sub(varint_len(len)), start, p)
    }

    fn pop_front(&mut self) -> Option<Bytes> {
        if self.count == 0 {
            return None;
        }
        let (s, e, next) = self.entry_at(0);
        let out = Bytes::copy_from_slice(&self.buf[s..e]);
        self.buf.drain(..next);
        self.count -= 1;
        Some(out)
    }

    fn pop_back(&mut self) -> Option<Bytes> {
        if self.count == 0 {
            return None;
        }
        let (prev, s, e) = self.entry_before(self.buf.len());
        let out = Bytes::copy_from_slice(&self.buf[s..e]);
        self.buf.truncate(prev);
        self.count -= 1;
        Some(out)
    }

    /// Byte offset of the `i`th entry (`i <= count`).
    fn offset_of(&self, i: usize) -> usize {
        if i * 2 <= self.len() {
            let mut at = 0;
            for _ in 0..i {
                at = self.entry_at(at).2;
            }
            at
        } else {
            let mut end = self.buf.len();
            for _ in i..self.len() {
                end = self.entry_before(end).0;
            }
            end
        }
    }

    fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len() {
            return None;
        }
        let (s, e, _) = self.entry_at(self.offset_of(i));
        Some(&self.buf[s..e])
    }

    /// Drops the first `n` entries.
    fn drop_front(&mut self, n: usize) {
        let n = n.min(self.len());
        let at = self.offset_of(n);
        self.buf.drain(..at);
        self.count -= n as u32;
    }

    /// Drops the last `n` entries.
    fn drop_back(&mut self, n: usize) {
        let n = n.min(self.len());
        let at = self.offset_of(self.len() - n);
        self.buf.truncate(at);
        self.count -= n as u32;
    }

    fn iter(&self) -> NodeIter<'_> {
        NodeIter {
            node: self,
            front: 0,
            back: self.buf.len(),
            left: self.len(),
        }
    }
}

/// A node's elements, from either end.
#[derive(Clone)]
struct NodeIter<'a> {
    node: &'a Node,
    front: usize,
    back: usize,
    left: usize,
}

impl<'a> Iterator for NodeIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (s, e, next) = self.node.entry_at(self.front);
        self.front = next;
        Some(&self.node.buf[s..e])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl DoubleEndedIterator for NodeIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (prev, s, e) = self.node.entry_before(self.back);
        self.back = prev;
        Some(&self.node.buf[s..e])
    }
}

type NodesIter<'a> = std::iter::Chain<std::slice::Iter<'a, Node>, std::slice::Iter<'a, Node>>;

/// The node sequence: one node inline (every small list), a deque beyond.
#[derive(Clone)]
enum Nodes {
    One(Node),
    /// Boxed so the enum stays the size of one node (the box fits beside `Vec`'s niche):
    /// every small list saves 16 bytes, a long one pays an allocation it does not notice.
    #[allow(clippy::box_collection)]
    Many(Box<VecDeque<Node>>),
}

impl Nodes {
    fn len(&self) -> usize {
        match self {
            Nodes::One(_) => 1,
            Nodes::Many(v) => v.len(),
        }
    }

    fn slices(&self) -> (&[Node], &[Node]) {
        match self {
            Nodes::One(n) => (std::slice::from_ref(n), &[]),
            Nodes::Many(v) => v.as_slices(),
        }
    }

    fn iter(&self) -> NodesIter<'_> {
        let (a, b) = self.slices();
        a.iter().chain(b.iter())
    }

    fn get(&self, i: usize) -> &Node {
        match self {
            Nodes::One(n) => n,
            Nodes::Many(v) => &v[i],
        }
    }

    fn get_mut(&mut self, i: usize) -> &mut Node {
        match self {
            Nodes::One(n) => n,
            Nodes::Many(v) => &mut v[i],
        }
    }

    /// Inserts a node at `i` (`i <= len`).
    fn insert(&mut self, i: usize, node: Node) {
        match self {
            Nodes::Many(v) => v.insert(i, node),
            Nodes::One(first) => {
                let mut v = Box::new(VecDeque::with_capacity(4));
                v.push_back(std::mem::take(first));
                v.insert(i, node);
                *self = Nodes::Many(v);
            }
        }
    }

    /// Removes node `i`; the last remaining node is emptied instead (the list always has
    /// one node), and a deque down to one node goes back inline.
    fn remove(&mut self, i: usize) {
        match self {
            Nodes::One(n) => *n = Node::default(),
            Nodes::Many(v) => {
                v.remove(i);
                if v.len() <= 1 {
                    *self = Nodes::One(v.pop_front().unwrap_or_default());
                }
            }
        }
    }
}

/// A list of byte strings (see the module docs for the representation).
#[derive(Clone)]
pub struct ListValue {
    nodes: Nodes,
    len: usize,
}

impl Default for ListValue {
    fn default() -> Self {
        ListValue {
            nodes: Nodes::One(Node::default()),
            len: 0,
        }
    }
}

impl fmt::Debug for ListValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

impl PartialEq for ListValue {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

/// Redis's LRANGE/LTRIM window: negative indexes count from the end; `None` = empty.
pub fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize))
}

impl ListValue {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// A list of `items`, in order.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a [u8]>, fill: Fill) -> Self {
        let mut l = ListValue::new();
        for i in items {
            l.push(i, false, fill);
        }
        l
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Name reported by `OBJECT ENCODING`: Redis 7.0 stores every list as a quicklist.
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Pushes at the head (`left`) or the tail. O(1) in the list's length.
    pub fn push(&mut self, value: &[u8], left: bool, fill: Fill) {
        let size = framed_len(value.len());
        let n = self.nodes.len();
        let end = if left { 0 } else { n - 1 };
        let node = self.nodes.get_mut(end);
        if node.fits(size, fill) {
            if left {
                node.push_front(value);
            } else {
                node.push_back(value);
            }
        } else {
            self.nodes
                .insert(if left { 0 } else { n }, Node::of([value]));
        }
        self.len += 1;
    }

    /// Pops from the head (`left`) or the tail. O(1) in the list's length.
    pub fn pop(&mut self, left: bool) -> Option<Bytes> {
        let n = self.nodes.len();
        let end = if left { 0 } else { n - 1 };
        let node = self.nodes.get_mut(end);
        let out = if left {
            node.pop_front()
        } else {
            node.pop_back()
        }?;
        if node.count == 0 {
            self.nodes.remove(end);
        }
        self.len -= 1;
        Some(out)
    }

    /// Pops up to `n` elements from one end, in pop order.
    pub fn pop_many(&mut self, left: bool, n: usize) -> Vec<Bytes> {
        let n = n.min(self.len);
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            match self.pop(left) {
                Some(v) => out.push(v),
                None => break,
            }
        }
        out
    }

    /// Node and position inside it of element `i` (`i < len`).
    fn locate(&self, i: usize) -> (usize, usize) {
        if i * 2 <= self.len {
            let mut i = i;
            for (ni, node) in self.nodes.iter().enumerate() {
                if i < node.len() {
                    return (ni, i);
                }
                i -= node.len();
            }
        } else {
            let mut from_end = self.len - i;
            let count = self.nodes.len();
            for (k, node) in self.nodes.iter().rev().enumerate() {
                if from_end <= node.len() {
                    return (count - 1 - k, node.len() - from_end);
                }
                from_end -= node.len();
            }
        }
        (0, 0)
    }

    /// Normalises an index that may count from the end (`-1` = last).
    fn index(&self, index: i64) -> Option<usize> {
        let i = if index < 0 {
            index.checked_add(self.len as i64)?
        } else {
            index
        };
        (0..self.len as i64).contains(&i).then_some(i as usize)
    }

    /// The element at `index` (negative: from the end), as LINDEX reads it.
    pub fn get(&self, index: i64) -> Option<&[u8]> {
        let i = self.index(index)?;
        let (ni, pos) = self.locate(i);
        self.nodes.get(ni).get(pos)
    }

    /// Replaces node `ni` by `items`, split into as many nodes as `fill` needs.
    fn rebuild_node<'a>(
        &mut self,
        ni: usize,
        items: impl IntoIterator<Item = &'a [u8]>,
        fill: Fill,
    ) {
        let mut packed: Vec<Node> = vec![Node::default()];
        for item in items {
            let size = framed_len(item.len());
            let last = packed.len() - 1;
            if packed[last].fits(size, fill) {
                packed[last].push_back(item);
            } else {
                packed.push(Node::of([item]));
            }
        }
        let mut packed = packed.into_iter().filter(|n| n.count > 0);
        match packed.next() {
            None => self.nodes.remove(ni),
            Some(first) => {
                *self.nodes.get_mut(ni) = first;
                for (k, n) in packed.enumerate() {
                    self.nodes.insert(ni + 1 + k, n);
                }
            }
        }
    }

    /// Sets the element at `index` (negative: from the end); false when out of range.
    pub fn set(&mut self, index: i64, value: &[u8], fill: Fill) -> bool {
        let Some(i) = self.index(index) else {
            return false;
        };
        let (ni, pos) = self.locate(i);
        let old = self.nodes.get(ni).clone();
        let items = old
            .iter()
            .enumerate()
            .map(|(k, e)| if k == pos { value } else { e });
        self.rebuild_node(ni, items, fill);
        true
    }

    /// Inserts `value` before or `after` the first element equal to `pivot`; the new length,
    /// or `None` when no element equals `pivot`.
    pub fn insert(&mut self, pivot: &[u8], after: bool, value: &[u8], fill: Fill) -> Option<usize> {
        let (ni, pos) = self
            .nodes
            .iter()
            .enumerate()
            .find_map(|(ni, node)| node.iter().position(|e| e == pivot).map(|pos| (ni, pos)))?;
        let at = if after { pos + 1 } else { pos };
        let old = self.nodes.get(ni).clone();
        let items = old
            .iter()
            .take(at)
            .chain([value])
            .chain(old.iter().skip(at));
        self.rebuild_node(ni, items, fill);
        self.len += 1;
        Some(self.len)
    }

    /// Removes elements equal to `value`: the first `count` from the head when `count > 0`,
    /// the last `-count` from the tail when negative, all when 0 (LREM). Returns how many.
    pub fn remove(&mut self, value: &[u8], count: i64) -> usize {
        let limit = match count {
            0 => usize::MAX,
            c => usize::try_from(c.unsigned_abs()).unwrap_or(usize::MAX),
        };
        let from_tail = count < 0;
        // Which entries of which nodes go, walking in the requested direction.
        let mut doomed: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut found = 0;
        let n = self.nodes.len();
        for k in 0..n {
            if found == limit {
                break;
            }
            let ni = if from_tail { n - 1 - k } else { k };
            let node = self.nodes.get(ni);
            let mut hits = Vec::new();
            if from_tail {
                for (j, e) in node.iter().rev().enumerate() {
                    if found == limit {
                        break;
                    }
                    if e == value {
                        hits.push(node.len() - 1 - j);
                        found += 1;
                    }
                }
            } else {
                for (j, e) in node.iter().enumerate() {
                    if found == limit {
                        break;
                    }
                    if e == value {
                        hits.push(j);
                        found += 1;
                    }
                }
            }
            if !hits.is_empty() {
                doomed.push((ni, hits));
            }
        }
        // Rewrite from the last node back, so earlier node indexes stay valid.
        doomed.sort_by_key(|d| std::cmp::Reverse(d.0));
        for (ni, hits) in doomed {
            let old = self.nodes.get(ni).clone();
            let kept = old
                .iter()
                .enumerate()
                .filter(|(j, _)| !hits.contains(j))
                .map(|(_, e)| e);
            // Removal never grows a node: the fill cannot be exceeded.
            let node = Node::of(kept);
            if node.count == 0 {
                self.nodes.remove(ni);
            } else {
                *self.nodes.get_mut(ni) = node;
            }
        }
        self.len -= found;
        found
    }

    /// Drops `n` elements from the head (`left`) or the tail, whole nodes at a time where
    /// possible.
    fn drop_end(&mut self, left: bool, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let end = if left { 0 } else { self.nodes.len() - 1 };
            let node = self.nodes.get_mut(end);
            if n >= node.len() {
                n -= node.len();
                self.nodes.remove(end);
            } else {
                if left {
                    node.drop_front(n);
                } else {
                    node.drop_back(n);
                }
                n = 0;
            }
        }
    }

    /// Keeps only the LTRIM window `start..=end` (negative: from the end); returns how many
    /// elements were removed.
    pub fn trim(&mut self, start: i64, end: i64) -> usize {
        let len = self.len;
        let (ltrim, rtrim) = match clamp_range(start, end, len) {
            None => (len, 0),
            Some((s, e)) => (s, len - e - 1),
        };
        self.drop_end(true, ltrim);
        self.drop_end(false, rtrim);
        ltrim + rtrim
    }

    /// Every element, head to tail.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_from(0)
    }

    /// Elements from index `start` on.
    fn iter_from(&self, start: usize) -> Iter<'_> {
        let mut nodes = self.nodes.iter();
        let mut skip = start;
        let mut current = None;
        for node in nodes.by_ref() {
            if skip < node.len() {
                let mut it = node.iter();
                for _ in 0..skip {
                    it.next();
                }
                current = Some(it);
                break;
            }
            skip -= node.len();
        }
        Iter {
            nodes,
            current,
            left: self.len.saturating_sub(start),
        }
    }

    /// Every element, tail to head.
    pub fn iter_rev(&self) -> impl Iterator<Item = &[u8]> {
        self.nodes.iter().rev().flat_map(|n| n.iter().rev())
    }

    /// The LRANGE window `start..=end` (negative: from the end).
    pub fn range(&self, start: i64, end: i64) -> impl Iterator<Item = &[u8]> {
        let (from, take) = match clamp_range(start, end, self.len) {
            Some((s, e)) => (s, e - s + 1),
            None => (self.len, 0),
        };
        self.iter_from(from).take(take)
    }

    /// LPOS: indexes (from the head) of elements equal to `element`, skipping the first
    /// `|rank| - 1` matches, searching from the tail when `rank < 0`, stopping after `count`
    /// results (0: all) or after comparing `maxlen` elements (0: no limit).
    ///
    /// `rank == i64::MIN` reproduces Redis 7.0, whose negation of it overflows: the search
    /// runs from the tail, starts at the first match and never stops at `count`.
    pub fn positions(&self, element: &[u8], rank: i64, count: usize, maxlen: usize) -> Vec<usize> {
        let (from_tail, skip, count) = if rank == i64::MIN {
            (true, 0, 0)
        } else {
            (
                rank < 0,
                (rank.unsigned_abs() as usize).saturating_sub(1),
                count,
            )
        };
        let limit = if maxlen == 0 { self.len } else { maxlen };
        let hits = |it: &mut dyn Iterator<Item = &[u8]>| -> Vec<usize> {
            let mut out = Vec::new();
            let mut matches = 0usize;
            for (i, e) in it.take(limit).enumerate() {
                if e == element {
                    matches += 1;
                    if matches > skip {
                        out.push(if from_tail { self.len - 1 - i } else { i });
                        if count != 0 && out.len() >= count {
                            break;
                        }
                    }
                }
            }
            out
        };
        if from_tail {
            hits(&mut self.iter_rev())
        } else {
            hits(&mut self.iter())
        }
    }

    /// Number of nodes (tests and memory accounting).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

/// Elements head to tail (see [`ListValue::iter`]).
pub struct Iter<'a> {
    nodes: NodesIter<'a>,
    current: Option<NodeIter<'a>>,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            if let Some(e) = self.current.as_mut().and_then(Iterator::next) {
                self.left -= 1;
                return Some(e);
            }
            self.current = Some(self.nodes.next()?.iter());
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(l: &ListValue) -> Vec<String> {
        l.iter()
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    }

    fn list(words: &[&str], fill: Fill) -> ListValue {
        ListValue::from_items(words.iter().map(|w| w.as_bytes()), fill)
    }

    #[test]
    fn framing_round_trips_every_length_class() {
        for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut n = Node::default();
            n.push_back(b"x");
            n.push_back(&data);
            n.push_front(&data);
            assert_eq!(n.buf.len(), 2 * framed_len(len) + framed_len(1));
            assert_eq!(
                n.iter().collect::<Vec<_>>(),
                vec![&data[..], b"x", &data[..]]
            );
            assert_eq!(
                n.iter().rev().collect::<Vec<_>>(),
                vec![&data[..], b"x", &data[..]]
            );
            assert_eq!(n.pop_back().unwrap(), data);
            assert_eq!(n.pop_front().unwrap(), data);
            assert_eq!(n.pop_front().unwrap(), "x");
            assert!(n.buf.is_empty());
        }
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = ListValue::new();
        for w in ["b", "c"] {
            l.push(w.as_bytes(), false, Fill::DEFAULT);
        }
        l.push(b"a", true, Fill::DEFAULT);
        assert_eq!(items(&l), ["a", "b", "c"]);
        assert_eq!(l.pop(true).unwrap(), "a");
        assert_eq!(l.pop(false).unwrap(), "c");
        assert_eq!(l.pop(false).unwrap(), "b");
        assert_eq!(l.pop(false), None);
        assert!(l.is_empty());
        assert_eq!(l.node_count(), 1);
    }

    #[test]
    fn small_lists_are_one_tight_node() {
        let l = list(&["aaaaa"; 10], Fill::DEFAULT);
        assert_eq!(l.node_count(), 1);
        let n = l.nodes.get(0);
        assert_eq!(n.buf.len(), 70);
        assert!(n.buf.capacity() <= 80, "{}", n.buf.capacity());
        assert!(std::mem::size_of::<ListValue>() <= 40);
    }

    #[test]
    fn nodes_respect_the_fill() {
        let l = list(&["x"; 10], Fill(3));
        assert_eq!(l.node_count(), 4);
        let big = vec![b'a'; 5000];
        let l = ListValue::from_items([&big[..], &big[..], b"z"], Fill(-1));
        assert_eq!(
            l.node_count(),
            3,
            "a 5000-byte element fills a 4 KiB node alone"
        );
        let l = ListValue::from_items([&big[..], b"z", b"y"], Fill(-2));
        assert_eq!(l.node_count(), 1);
    }

    #[test]
    fn index_set_insert() {
        let mut l = list(&["a", "b", "c", "d", "e"], Fill(2));
        assert_eq!(l.get(0).unwrap(), b"a");
        assert_eq!(l.get(-1).unwrap(), b"e");
        assert_eq!(l.get(3).unwrap(), b"d");
        assert_eq!(l.get(5), None);
        assert_eq!(l.get(-6), None);
        assert_eq!(l.get(i64::MIN), None);
        assert!(l.set(-2, b"D", Fill(2)));
        assert!(!l.set(5, b"x", Fill(2)));
        assert_eq!(l.insert(b"c", false, b"bc", Fill(2)), Some(6));
        assert_eq!(l.insert(b"e", true, b"f", Fill(2)), Some(7));
        assert_eq!(l.insert(b"zz", true, b"f", Fill(2)), None);
        assert_eq!(items(&l), ["a", "b", "bc", "c", "D", "e", "f"]);
    }

    #[test]
    fn remove_by_direction_and_count() {
        let w = ["a", "x", "a", "y", "a", "z", "a"];
        let mut l = list(&w, Fill(2));
        assert_eq!(l.remove(b"a", 2), 2);
        assert_eq!(items(&l), ["x", "y", "a", "z", "a"]);
        let mut l = list(&w, Fill(2));
        assert_eq!(l.remove(b"a", -3), 3);
        assert_eq!(items(&l), ["a", "x", "y", "z"]);
        let mut l = list(&w, Fill(3));
        assert_eq!(l.remove(b"a", 0), 4);
        assert_eq!(l.remove(b"q", i64::MIN), 0);
        assert_eq!(l.remove(b"x", i64::MIN), 1);
        assert_eq!(items(&l), ["y", "z"]);
    }

    #[test]
    fn ranges_and_trims_follow_redis_windows() {
        let l = list(&["a", "b", "c", "d"], Fill(3));
        let r = |s, e| -> Vec<&[u8]> { l.range(s, e).collect() };
        assert_eq!(r(0, -1).len(), 4);
        assert_eq!(r(1, 2), vec![b"b", b"c"]);
        assert_eq!(r(-100, 0), vec![b"a"]);
        assert_eq!(r(2, 100), vec![b"c", b"d"]);
        assert!(r(3, 1).is_empty());
        assert!(r(4, 10).is_empty());
        assert!(r(-1, -2).is_empty());
        let mut t = list(&["a", "b", "c", "d", "e"], Fill(2));
        assert_eq!(t.trim(1, -2), 2);
        assert_eq!(items(&t), ["b", "c", "d"]);
        assert_eq!(t.trim(5, 10), 3);
        assert!(t.is_empty());
    }

    #[test]
    fn lpos_ranks_counts_and_maxlen() {
        let l = list(&["a", "b", "c", "a", "b", "c", "a"], Fill(2));
        assert_eq!(l.positions(b"a", 1, 1, 0), vec![0]);
        assert_eq!(l.positions(b"a", 2, 0, 0), vec![3, 6]);
        assert_eq!(l.positions(b"a", -1, 2, 0), vec![6, 3]);
        assert_eq!(l.positions(b"a", 1, 0, 4), vec![0, 3]);
        assert_eq!(l.positions(b"a", -1, 0, 2), vec![6]);
        assert_eq!(l.positions(b"a", i64::MIN, 1, 0), vec![6, 3, 0]);
        assert_eq!(l.positions(b"a", i64::MAX, 0, 0), Vec::<usize>::new());
    }
}

/// The list against a `VecDeque` model, with tiny node limits so every operation crosses
/// node boundaries.
#[cfg(test)]
mod model {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Push(bool, Vec<u8>),
        Pop(bool),
        Set(i64, Vec<u8>),
        Insert(Vec<u8>, bool, Vec<u8>),
        Remove(Vec<u8>, i64),
        Trim(i64, i64),
    }

    fn elem() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => prop::sample::select(vec![b"a".to_vec(), b"b".to_vec(), b"".to_vec()]),
            1 => prop::collection::vec(any::<u8>(), 0..300),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<bool>(), elem()).prop_map(|(l, e)| Op::Push(l, e)),
            2 => any::<bool>().prop_map(Op::Pop),
            1 => (-12i64..12, elem()).prop_map(|(i, e)| Op::Set(i, e)),
            1 => (elem(), any::<bool>(), elem()).prop_map(|(p, a, e)| Op::Insert(p, a, e)),
            1 => (elem(), -3i64..3).prop_map(|(e, c)| Op::Remove(e, c)),
            1 => (-12i64..12, -12i64..12).prop_map(|(s, e)| Op::Trim(s, e)),
        ]
    }

    fn norm(i: i64, len: usize) -> Option<usize> {
        let i = if i < 0 { i + len as i64 } else { i };
        (0..len as i64).contains(&i).then_some(i as usize)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn behaves_like_a_vecdeque(
            fill in prop::sample::select(vec![1i64, 2, 3, 5, -1, -2]),
            ops in prop::collection::vec(op(), 1..120),
        ) {
            let fill = Fill(fill);
            let mut l = ListValue::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for op in ops {
                match op {
                    Op::Push(left, e) => {
                        l.push(&e, left, fill);
                        if left { m.push_front(e) } else { m.push_back(e) }
                    }
                    Op::Pop(left) => {
                        let want = if left { m.pop_front() } else { m.pop_back() };
                        prop_assert_eq!(l.pop(left).map(|b| b.to_vec()), want);
                    }
                    Op::Set(i, e) => {
                        let ok = l.set(i, &e, fill);
                        match norm(i, m.len()) {
                            Some(i) => { prop_assert!(ok); m[i] = e; }
                            None => prop_assert!(!ok),
                        }
                    }
                    Op::Insert(p, after, e) => {
                        let got = l.insert(&p, after, &e, fill);
                        match m.iter().position(|x| *x == p) {
                            Some(i) => {
                                m.insert(if after { i + 1 } else { i }, e);
                                prop_assert_eq!(got, Some(m.len()));
                            }
                            None => prop_assert_eq!(got, None),
                        }
                    }
                    Op::Remove(e, c) => {
                        let got = l.remove(&e, c);
                        let mut idx: Vec<usize> =
                            (0..m.len()).filter(|&i| m[i] == e).collect();
                        if c < 0 { idx.reverse(); }
                        if c != 0 { idx.truncate(c.unsigned_abs() as usize); }
                        idx.sort_unstable();
                        for i in idx.iter().rev() { m.remove(*i); }
                        prop_assert_eq!(got, idx.len());
                    }
                    Op::Trim(s, e) => {
                        let removed = l.trim(s, e);
                        let before = m.len();
                        match clamp_range(s, e, before) {
                            None => m.clear(),
                            Some((a, b)) => { m.truncate(b + 1); m.drain(..a); }
                        }
                        prop_assert_eq!(removed, before - m.len());
                    }
                }
                prop_assert_eq!(l.len(), m.len());
                let got: Vec<&[u8]> = l.iter().collect();
                let want: Vec<&[u8]> = m.iter().map(|v| &v[..]).collect();
                prop_assert_eq!(&got, &want);
                let rev: Vec<&[u8]> = l.iter_rev().collect();
                let want_rev: Vec<&[u8]> = m.iter().rev().map(|v| &v[..]).collect();
                prop_assert_eq!(rev, want_rev);
                for i in [-1i64, 0, 1, 3, 7] {
                    prop_assert_eq!(l.get(i), norm(i, m.len()).map(|i| &m[i][..]));
                }
                let window: Vec<&[u8]> = l.range(1, -2).collect();
                let want_window: Vec<&[u8]> = match clamp_range(1, -2, m.len()) {
                    Some((a, b)) => m.range(a..=b).map(|v| &v[..]).collect(),
                    None => vec![],
                };
                prop_assert_eq!(window, want_window);
                // Invariant: no empty node unless the list is empty.
                prop_assert!(l.is_empty() || l.nodes.iter().all(|n| n.count > 0));
                prop_assert_eq!(l.nodes.iter().map(Node::len).sum::<usize>(), l.len());
            }
        }
    }
}
