//! The hash table behind every database shard.
//!
//! A chained table whose entries live in one dense `Vec` (a slab) and whose buckets are `u32`
//! heads of index chains. Two things no off-the-shelf map gives us:
//! - **SCAN cursors with Redis's guarantee.** Bucket count is a power of two and the cursor
//!   walks bucket indexes in reverse-binary order, so a key present for the whole scan is
//!   returned even when the table grows or shrinks between calls (open-addressing maps move
//!   keys away from their home bucket, which breaks this).
//! - **Uniform random sampling in O(1)** — an index into the slab — for RANDOMKEY and for
//!   sampled LRU/LFU eviction.
//!
//! Removal swaps the last slab entry into the hole and re-points the one link to it.

use super::small::SmallBytes;

const NIL: u32 = u32::MAX;
const MIN_BUCKETS: usize = 4;

/// One stored key and its value.
#[derive(Debug)]
pub struct Slot<V> {
    /// The key's hash, as the caller computed it.
    pub hash: u64,
    next: u32,
    /// The key.
    pub key: SmallBytes,
    /// The value.
    pub value: V,
}

/// A hash table keyed by bytes with caller-supplied hashes.
#[derive(Debug)]
pub struct Dict<V> {
    heads: Vec<u32>,
    slots: Vec<Slot<V>>,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Dict {
            heads: Vec::new(),
            slots: Vec::new(),
        }
    }
}

impl<V> Dict<V> {
    /// An empty table (allocates on the first insert).
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the table has no keys.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Number of buckets (a power of two, or 0 before the first insert).
    pub fn buckets(&self) -> usize {
        self.heads.len()
    }

    #[inline]
    fn bucket(&self, hash: u64) -> usize {
        hash as usize & (self.heads.len() - 1)
    }

    /// Slab index of `key`, if present.
    #[inline]
    pub fn find(&self, hash: u64, key: &[u8]) -> Option<usize> {
        if self.heads.is_empty() {
            return None;
        }
        let mut i = self.heads[self.bucket(hash)];
        while i != NIL {
            let s = &self.slots[i as usize];
            if s.hash == hash && s.key.as_slice() == key {
                return Some(i as usize);
            }
            i = s.next;
        }
        None
    }

    /// The slot at slab index `index` (from [`Dict::find`]); panics when out of range.
    pub fn slot(&self, index: usize) -> &Slot<V> {
        &self.slots[index]
    }

    /// The slot at slab index `index`, mutably; panics when out of range.
    pub fn slot_mut(&mut self, index: usize) -> &mut Slot<V> {
        &mut self.slots[index]
    }

    /// The value of `key` (hashed to `hash`), if present.
    pub fn get(&self, hash: u64, key: &[u8]) -> Option<&V> {
        self.find(hash, key).map(|i| &self.slots[i].value)
    }

    /// Adds a key the caller knows is absent; returns its slab index.
    pub fn insert_new(&mut self, hash: u64, key: SmallBytes, value: V) -> usize {
        if self.slots.len() >= self.heads.len() {
            let size = (self.heads.len() * 2).max(MIN_BUCKETS);
            self.rehash(size);
        }
        if self.slots.len() == self.slots.capacity() {
            // Grow the slab by a quarter, not double: large slabs are reallocated by
            // remapping pages, and a doubling slab would waste a third of its slots on average.
            let extra = (self.slots.capacity() / 4).max(8);
            self.slots.reserve_exact(extra);
        }
        let b = self.bucket(hash);
        let index = self.slots.len();
        self.slots.push(Slot {
            hash,
            next: self.heads[b],
            key,
            value,
        });
        self.heads[b] = index as u32;
        index
    }

    /// Inserts or replaces; returns the old value.
    pub fn insert(&mut self, hash: u64, key: SmallBytes, value: V) -> Option<V> {
        match self.find(hash, &key) {
            Some(i) => Some(std::mem::replace(&mut self.slots[i].value, value)),
            None => {
                self.insert_new(hash, key, value);
                None
            }
        }
    }

    /// Removes the entry at a slab index.
    pub fn remove_at(&mut self, index: usize) -> (SmallBytes, V) {
        let next = self.slots[index].next;
        self.repoint(index, next);
        let last = self.slots.len() - 1;
        if index != last {
            self.repoint(last, index as u32);
        }
        let slot = self.slots.swap_remove(index);
        if self.heads.len() > MIN_BUCKETS && self.slots.len() * 8 < self.heads.len() {
            let size = self.slots.len().next_power_of_two().max(MIN_BUCKETS);
            self.rehash(size);
        }
        (slot.key, slot.value)
    }

    /// Removes `key` (hashed to `hash`), returning its key and value; may shrink the table.
    pub fn remove(&mut self, hash: u64, key: &[u8]) -> Option<(SmallBytes, V)> {
        self.find(hash, key).map(|i| self.remove_at(i))
    }

    /// Makes whatever links to slab index `from` link to `to` instead.
    fn repoint(&mut self, from: usize, to: u32) {
        let b = self.bucket(self.slots[from].hash);
        if self.heads[b] == from as u32 {
            self.heads[b] = to;
            return;
        }
        let mut p = self.heads[b];
        while p != NIL {
            let next = self.slots[p as usize].next;
            if next == from as u32 {
                self.slots[p as usize].next = to;
                return;
            }
            p = next;
        }
    }

    fn rehash(&mut self, size: usize) {
        self.heads.clear();
        self.heads.resize(size, NIL);
        let mask = size - 1;
        for i in 0..self.slots.len() {
            let b = self.slots[i].hash as usize & mask;
            self.slots[i].next = self.heads[b];
            self.heads[b] = i as u32;
        }
    }

    /// Removes every key and frees the table.
    pub fn clear(&mut self) {
        self.heads = Vec::new();
        self.slots = Vec::new();
    }

    /// Visits one bucket (chosen by `cursor`) and returns the next cursor, 0 when done.
    /// Cursor order is reverse-binary over bucket indexes, as Redis's `dictScan`.
    pub fn scan(&self, cursor: u64, mut visit: impl FnMut(&Slot<V>)) -> u64 {
        if self.heads.is_empty() {
            return 0;
        }
        let mask = (self.heads.len() - 1) as u64;
        let mut i = self.heads[(cursor & mask) as usize];
        while i != NIL {
            let s = &self.slots[i as usize];
            visit(s);
            i = s.next;
        }
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// Every slot, in slab order (not bucket order).
    pub fn iter(&self) -> impl Iterator<Item = &Slot<V>> {
        self.slots.iter()
    }

    /// Every slot mutably, in slab order.
    pub fn slots_mut(&mut self) -> impl Iterator<Item = &mut Slot<V>> {
        self.slots.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn h(k: &str) -> u64 {
        // A deliberately poor hash makes long chains, which exercises unlinking.
        k.bytes()
            .fold(7u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)))
            % 64
    }

    #[test]
    fn behaves_like_a_map_under_inserts_and_removes() {
        let mut d = Dict::new();
        let mut model = HashMap::new();
        for i in 0..2000u32 {
            let k = format!("k{}", (i * 7919) % 500);
            if i % 3 == 0 {
                assert_eq!(
                    d.remove(h(&k), k.as_bytes()).map(|(_, v)| v),
                    model.remove(&k)
                );
            } else {
                assert_eq!(
                    d.insert(h(&k), SmallBytes::new(k.as_bytes()), i),
                    model.insert(k, i)
                );
            }
            assert_eq!(d.len(), model.len());
        }
        for (k, v) in &model {
            assert_eq!(d.get(h(k), k.as_bytes()), Some(v));
        }
        assert!(d.buckets() >= d.len());
    }

    #[test]
    fn shrinks_when_mostly_empty() {
        let mut d = Dict::new();
        for i in 0..1000 {
            let k = format!("{i}");
            d.insert(i as u64 * 2654435761, SmallBytes::new(k.as_bytes()), i);
        }
        let big = d.buckets();
        for i in 0..990 {
            let k = format!("{i}");
            assert!(d.remove(i as u64 * 2654435761, k.as_bytes()).is_some());
        }
        assert!(d.buckets() < big);
        assert_eq!(d.len(), 10);
    }

    fn full_scan(d: &Dict<u32>, mut cursor: u64, seen: &mut HashSet<Vec<u8>>) {
        loop {
            cursor = d.scan(cursor, |s| {
                seen.insert(s.key.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
    }

    #[test]
    fn scan_returns_every_key_even_when_the_table_resizes_midway() {
        let hash = |k: &str| foldhash::fast::FixedState::with_seed(1).hash_one(k);
        use std::hash::BuildHasher;
        let mut d = Dict::new();
        for i in 0..300 {
            let k = format!("stay{i}");
            d.insert(hash(&k), SmallBytes::new(k.as_bytes()), i);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        for step in 0..5 {
            cursor = d.scan(cursor, |s| {
                seen.insert(s.key.to_vec());
            });
            // grow the table between calls
            for j in 0..200 {
                let k = format!("new{step}-{j}");
                d.insert(hash(&k), SmallBytes::new(k.as_bytes()), 0);
            }
        }
        full_scan(&d, cursor, &mut seen);
        for i in 0..300 {
            assert!(
                seen.contains(format!("stay{i}").as_bytes()),
                "missed stay{i}"
            );
        }
        // and when it shrinks
        let mut seen = HashSet::new();
        let mut cursor = 0;
        for _ in 0..3 {
            cursor = d.scan(cursor, |s| {
                seen.insert(s.key.to_vec());
            });
        }
        let doomed: Vec<SmallBytes> = d
            .iter()
            .filter(|s| s.key.starts_with(b"new"))
            .map(|s| s.key.clone())
            .collect();
        for k in doomed {
            let hk = hash(std::str::from_utf8(&k).unwrap());
            d.remove(hk, &k);
        }
        full_scan(&d, cursor, &mut seen);
        for i in 0..300 {
            assert!(
                seen.contains(format!("stay{i}").as_bytes()),
                "missed stay{i}"
            );
        }
    }
}
