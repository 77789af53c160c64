//! The keyspace: every database's keys, split into shards by key hash, and the only way
//! commands reach stored data.
//!
//! # Atomicity
//! A shard holds its slice of *every* database, so a key lives in the same shard whatever
//! database it is in: MOVE and COPY … DB stay inside one shard and SWAPDB is a per-shard swap.
//! A command locks the shards of its keys, in ascending shard order (no deadlock), before it
//! runs and releases them after; commands without fixed keys (KEYS, SCAN, FLUSHALL, SWAPDB,
//! RANDOMKEY, DBSIZE, and later EXEC and scripts) lock every shard, which is a consistent view
//! of the whole keyspace. Locks are never held across an `.await`: handlers are synchronous.
//!
//! # Expiry
//! Each database shard keeps its deadlines in an ordered set beside the table. Reads expire
//! lazily (a key past its deadline is deleted when looked up) and a background task calls
//! [`Keyspace::active_expire`], which removes due keys in deadline order without waiting to
//! be touched. One timestamp per command ([`Locked::now`]) keeps a command's view stable,
//! as Redis does: a key does not expire halfway through a command.
//!
//! # Eviction
//! [`Keyspace::evict`] approximates LRU, LFU and TTL as Redis does: each round samples
//! `maxmemory-samples` keys per database into a 16-entry pool kept across rounds and evicts
//! its best candidate. A round samples one shard (keys hash uniformly, so that is a uniform
//! sample of the database) and walks on to further shards only while it has fewer keys than
//! wanted, so a small keyspace is ranked exactly. Recency is kept in ms (Redis: s) and the
//! LFU counter sits in the same word ([`Entry`]). `volatile-ttl` reads each shard's deadline
//! index, so its candidates are the soonest to expire rather than a sample.
//!
//! # Point-in-time dumps (AOF rewrite)
//! [`Keyspace::begin_dump`] (called with every shard locked: the cut point) marks every
//! shard "not yet dumped" and installs a [`ShardDumper`]. From then on, whoever next locks
//! a marked shard — the rewriter walking the shards, or any command about to change it —
//! first hands it to the dumper, under that lock, and clears the mark: every shard is
//! serialized exactly as it was at the cut, one shard at a time, without a copy of the
//! dataset. While no dump is pending, a lock acquisition pays one relaxed load.
//!
//! # Loading
//! While the AOF loads, [`Keyspace::freeze_expiry`] makes every unit's time 0: nothing
//! expires and no deadline is "already past" while commands are replayed (Redis's
//! `keyIsExpired` returns false while loading), so `SET … PXAT t` followed by `PERSIST` or a
//! later `PEXPIREAT` replays as it ran even when `t` has passed since. The same atomic as the
//! dump marks carries the flag, so the lock path still pays one load.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};

use super::dict::Dict;
use super::effects::{Effects, KeyEvent, Propagation};
use super::small::SmallBytes;
use super::value::{decayed_counter, fresh_access, touched_access, Entry, LfuParams, Value};
use crate::clock::Clock;
use crate::config::MaxmemoryPolicy;

/// Number of shards (a power of two). Two cores need little more; 16 keeps contention low
/// when a larger machine runs many connections.
pub const SHARDS: usize = 16;
const SHARD_SHIFT: u32 = 64 - SHARDS.trailing_zeros();
/// Bits of a SCAN cursor that select the shard.
const CURSOR_SHARD_BITS: u32 = SHARDS.trailing_zeros();

/// Keyspace-wide counters (INFO stats).
#[derive(Debug, Default)]
pub struct Stats {
    /// Lookups that found their key (INFO `keyspace_hits`).
    pub hits: AtomicU64,
    /// Lookups that missed (INFO `keyspace_misses`).
    pub misses: AtomicU64,
    /// Keys removed because they expired (INFO `expired_keys`).
    pub expired: AtomicU64,
    /// Writes since start (Redis's `dirty`).
    pub dirty: AtomicU64,
    /// Keys removed by eviction (INFO `evicted_keys`).
    pub evicted: AtomicU64,
}

#[derive(Debug, Default)]
struct DbShard {
    dict: Dict<Entry>,
    /// `(deadline_ms, key)` of every key with an expiry.
    expires: BTreeSet<(u64, SmallBytes)>,
    /// Sum of the deadlines in `expires`, so INFO's `avg_ttl` costs O(1).
    expire_sum: u128,
}

impl DbShard {
    fn set_deadline(&mut self, key: &SmallBytes, old: u64, new: u64) {
        if old == new {
            return;
        }
        if old != 0 && self.expires.remove(&(old, key.clone())) {
            self.expire_sum -= u128::from(old);
        }
        if new != 0 && self.expires.insert((new, key.clone())) {
            self.expire_sum += u128::from(new);
        }
    }

    /// `None` when `key` is not stored; otherwise whether it is past its deadline.
    fn expired(&self, hash: u64, key: &[u8], now: u64) -> Option<bool> {
        let i = self.dict.find(hash, key)?;
        let deadline = self.dict.slot(i).value.expire_at;
        Some(deadline != 0 && deadline < now)
    }

    fn remove_at(&mut self, index: usize) -> Entry {
        let (key, entry) = self.dict.remove_at(index);
        if entry.expire_at != 0 && self.expires.remove(&(entry.expire_at, key)) {
            self.expire_sum -= u128::from(entry.expire_at);
        }
        entry
    }
}

/// One client watching one key.
#[derive(Debug)]
struct Watcher {
    client: u64,
    /// The client's "a watched key changed" flag.
    flag: Arc<AtomicBool>,
    /// The key was already past its deadline (but not reclaimed) when WATCH ran. As in
    /// Redis, such a key is logically missing: reclaiming it later, or flushing it, is no
    /// change; a write that brings it back is.
    expired: bool,
}

type Watchers = Vec<Watcher>;

#[derive(Debug)]
struct Shard {
    dbs: Vec<DbShard>,
    /// WATCHed keys of this shard, by `(db, key)`. Guarded by the shard lock, so a write and
    /// the invalidation of its watchers are one step.
    watched: HashMap<(usize, Bytes), Watchers>,
    /// Clients blocked on keys of this shard (BLPOP…), by `(db, key)`, in arrival order.
    /// Guarded by the shard lock, so "the key is empty" and "now waiting" are one step and
    /// no push can slip between them unseen.
    waiting: HashMap<(usize, Bytes), VecDeque<u64>>,
}

/// All databases.
pub struct Keyspace {
    shards: Box<[Mutex<Shard>]>,
    hasher: foldhash::fast::FixedState,
    databases: usize,
    clock: Clock,
    /// Hit, miss, expiry, write and eviction counters.
    pub stats: Stats,
    /// `notify-keyspace-events` bits: which events writes record.
    notify_flags: AtomicU32,
    /// How many `(db, key)` are watched: writes skip the registry while it is 0.
    watching: AtomicUsize,
    /// How many `(db, key)` have blocked clients: writes skip the registry while it is 0.
    blocked_keys: AtomicUsize,
    /// The writes in replayable form (see [`Propagation`]).
    pub propagation: Propagation,
    /// Whether an LFU policy is selected: accesses then also bump the keys' counters.
    lfu: AtomicBool,
    /// `lfu-log-factor << 32 | lfu-decay-time`, read only while `lfu` is set.
    lfu_params: AtomicU64,
    /// Redis's eviction pool: the best candidates sampled so far, kept across rounds. Its
    /// lock also makes one evictor run at a time, so two connections over the limit do not
    /// both free the same excess.
    evict_pool: Mutex<(MaxmemoryPolicy, Vec<Candidate>)>,
    /// Every random choice: RANDOMKEY, SPOP…, eviction samples, LFU draws.
    rng: crate::rng::Rng,
    /// Shards not yet dumped since [`Keyspace::begin_dump`] (one bit each), and
    /// [`FROZEN`] while expiry is frozen.
    dump_pending: AtomicU32,
    dumper: Mutex<Option<Arc<dyn ShardDumper>>>,
}

/// Serializes shards for a point-in-time dump (see the module docs).
pub trait ShardDumper: Send + Sync {
    /// Called once per shard, under its lock, before anything changes it after the cut.
    fn dump_shard(&self, index: usize, view: ShardView<'_>);
}

/// Read access to one locked shard, for a [`ShardDumper`].
pub struct ShardView<'a> {
    shard: &'a Shard,
}

impl ShardView<'_> {
    /// Number of databases.
    pub fn databases(&self) -> usize {
        self.shard.dbs.len()
    }

    /// Calls `visit` for every key of database `db` in this shard (expired ones included).
    pub fn for_each(&self, db: usize, mut visit: impl FnMut(&[u8], &Entry)) {
        if let Some(d) = self.shard.dbs.get(db) {
            for slot in d.dict.iter() {
                visit(&slot.key, &slot.value);
            }
        }
    }
}

thread_local! {
    /// A finished unit's [`Effects`], kept for the next unit of this thread (its
    /// `propagate` vector empty, with its capacity).
    static SPARE_EFFECTS: Cell<Option<Box<Effects>>> = const { Cell::new(None) };
}

/// [`Keyspace::dump_pending`]'s bit for "expiry frozen" (loading); above every shard bit.
const FROZEN: u32 = 1 << 31;
const _: () = assert!(SHARDS < 31);

/// Size of the eviction pool (Redis's `EVPOOL_SIZE`).
const POOL_SIZE: usize = 16;

/// A key sampled for eviction: the higher `score`, the better a victim (idle ms for LRU,
/// 255 − counter for LFU, the inverted deadline for TTL).
#[derive(Debug)]
struct Candidate {
    score: u64,
    db: usize,
    hash: u64,
    key: SmallBytes,
}

/// What one eviction pass did.
#[derive(Debug, Default)]
pub struct EvictOutcome {
    /// Keys evicted.
    pub keys: usize,
    /// Their estimated size (see [`super::usage`]).
    pub freed: usize,
    /// Keyspace events to publish (after the pass; no lock is held by then).
    pub events: Vec<KeyEvent>,
    /// Nothing was left to evict (no key, or no key with an expiry for `volatile-*`).
    pub exhausted: bool,
}

impl std::fmt::Debug for Keyspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyspace")
            .field("databases", &self.databases)
            .finish_non_exhaustive()
    }
}

impl Keyspace {
    /// `databases` empty databases on `clock`, with unseeded randomness.
    pub fn new(databases: usize, clock: Clock) -> Self {
        Self::with_seed(databases, clock, None)
    }

    /// A keyspace whose randomness ([`Keyspace::rng`]) and shard hashing follow `seed`:
    /// with `Some`, which shard a key lands in — and so RANDOMKEY's and eviction sampling's
    /// picks — is the same on every run (see [`crate::rng`]). `None` draws both at random.
    pub fn with_seed(databases: usize, clock: Clock, seed: Option<u64>) -> Self {
        let rng = crate::rng::Rng::new(seed);
        let seed = match seed {
            Some(s) => s ^ 0x5EED_5EED_5EED_5EED,
            None => crate::clock::system_ms() ^ (std::process::id() as u64).rotate_left(32),
        };
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    dbs: (0..databases).map(|_| DbShard::default()).collect(),
                    watched: HashMap::new(),
                    waiting: HashMap::new(),
                })
            })
            .collect();
        Keyspace {
            shards,
            hasher: foldhash::fast::FixedState::with_seed(seed),
            databases,
            clock,
            stats: Stats::default(),
            notify_flags: AtomicU32::new(0),
            watching: AtomicUsize::new(0),
            blocked_keys: AtomicUsize::new(0),
            propagation: Propagation::default(),
            lfu: AtomicBool::new(false),
            lfu_params: AtomicU64::new((10 << 32) | 1),
            evict_pool: Mutex::new((MaxmemoryPolicy::NoEviction, Vec::with_capacity(POOL_SIZE))),
            rng,
            dump_pending: AtomicU32::new(0),
            dumper: Mutex::new(None),
        }
    }

    /// Starts a point-in-time dump (see the module docs). `_all` proves every shard is
    /// locked: the state at this moment is what `dumper` will see, shard by shard.
    pub fn begin_dump(&self, _all: &Locked<'_>, dumper: Arc<dyn ShardDumper>) {
        *self.dumper.lock() = Some(dumper);
        self.dump_pending
            .store((1u64 << SHARDS).wrapping_sub(1) as u32, Ordering::Release);
    }

    /// Freezes expiry (see the module docs: AOF loading) or thaws it. Thawing gives every
    /// key the current time as its last access (and stream consumers created while frozen
    /// their seen time), as keys loaded by Redis have.
    pub fn freeze_expiry(&self, on: bool) {
        if on {
            self.dump_pending.fetch_or(FROZEN, Ordering::AcqRel);
            return;
        }
        self.dump_pending.fetch_and(!FROZEN, Ordering::AcqRel);
        let now = self.clock.now_ms();
        for i in 0..SHARDS {
            let mut shard = self.shards[i].lock();
            for db in shard.dbs.iter_mut() {
                for x in 0..db.dict.len() {
                    let e = &mut db.dict.slot_mut(x).value;
                    e.access = fresh_access(now);
                    if let Value::Stream(s) = &mut e.value {
                        for g in s.groups.values_mut() {
                            for c in g.consumers.values_mut() {
                                if c.seen_time == 0 {
                                    c.seen_time = now;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Dumps every shard still pending (locking each in turn) and removes the dumper.
    pub fn finish_dump(&self) {
        for i in 0..SHARDS {
            drop(self.lock_mask(1 << i));
        }
        *self.dumper.lock() = None;
    }

    #[cold]
    #[inline(never)]
    fn dump_locked(&self, mask: u32, guards: &[Option<MutexGuard<'_, Shard>>; SHARDS]) {
        let dumper = self.dumper.lock().clone();
        for (i, g) in guards.iter().enumerate() {
            let bit = 1u32 << i;
            if mask & bit == 0 || self.dump_pending.load(Ordering::Acquire) & bit == 0 {
                continue;
            }
            if let (Some(d), Some(shard)) = (dumper.as_ref(), g.as_deref()) {
                d.dump_shard(i, ShardView { shard });
            }
            self.dump_pending.fetch_and(!bit, Ordering::Release);
        }
    }

    /// The server's random source (see [`crate::rng`]).
    pub fn rng(&self) -> &crate::rng::Rng {
        &self.rng
    }

    /// Selects LFU access tracking (an LFU `maxmemory-policy`) with its `lfu-log-factor`
    /// and `lfu-decay-time`.
    pub fn set_lfu(&self, on: bool, log_factor: u32, decay_minutes: u32) {
        self.lfu_params.store(
            (u64::from(log_factor) << 32) | u64::from(decay_minutes),
            Ordering::Relaxed,
        );
        self.lfu.store(on, Ordering::Relaxed);
    }

    /// Whether an LFU policy is selected.
    #[inline]
    pub fn lfu(&self) -> bool {
        self.lfu.load(Ordering::Relaxed)
    }

    /// `lfu-log-factor` and `lfu-decay-time` as accesses read them.
    pub fn lfu_params(&self) -> LfuParams {
        let p = self.lfu_params.load(Ordering::Relaxed);
        LfuParams {
            log_factor: (p >> 32) as u32,
            decay_minutes: p as u32,
        }
    }

    /// The access word of a key touched at `now` (see [`Entry`]'s `access`).
    #[inline]
    fn touch_word(&self, old: u64, now: u64) -> u64 {
        let lfu = self.lfu().then(|| (self.lfu_params(), self.rng.unit()));
        touched_access(old, now, lfu)
    }

    /// Evicts keys as `policy` ranks them until an estimated `to_free` bytes are freed,
    /// nothing is left to evict, or `deadline` passes (checked every 16 keys, as Redis's
    /// `maxmemory-eviction-tenacity` time limit). LRU, LFU and TTL keep Redis's eviction
    /// pool: each round samples `samples` keys per database and evicts the best candidate
    /// seen so far; the random policies pick a random key. Every eviction goes through the
    /// effects path ([`Locked::deleted_by_server`]: `evicted` event, WATCH, a propagated
    /// `DEL`) one key at a time, and counts in [`Stats::evicted`]. No shard may be locked by
    /// the caller.
    pub fn evict(
        &self,
        policy: MaxmemoryPolicy,
        samples: usize,
        to_free: usize,
        deadline: Option<std::time::Instant>,
    ) -> EvictOutcome {
        let mut out = EvictOutcome::default();
        if policy == MaxmemoryPolicy::NoEviction {
            out.exhausted = true;
            return out;
        }
        let mut guard = self.evict_pool.lock();
        let (pooled_for, pool) = &mut *guard;
        if *pooled_for != policy {
            // Scores of another policy do not compare with this one's.
            pool.clear();
            *pooled_for = policy;
        }
        let volatile = matches!(
            policy,
            MaxmemoryPolicy::VolatileLru
                | MaxmemoryPolicy::VolatileLfu
                | MaxmemoryPolicy::VolatileRandom
                | MaxmemoryPolicy::VolatileTtl
        );
        let random = matches!(
            policy,
            MaxmemoryPolicy::AllkeysRandom | MaxmemoryPolicy::VolatileRandom
        );
        if random {
            pool.clear();
        }
        // The databases worth sampling, found once per pass.
        let mut dbs: Vec<usize> = Vec::new();
        for i in 0..SHARDS {
            let shard = self.shards[i].lock();
            for (db, d) in shard.dbs.iter().enumerate() {
                let n = if volatile {
                    d.expires.len()
                } else {
                    d.dict.len()
                };
                if n > 0 && !dbs.contains(&db) {
                    dbs.push(db);
                }
            }
        }
        dbs.sort_unstable();
        let mut next_db = 0usize;
        while out.freed < to_free {
            let victim = if random {
                let mut found = None;
                for _ in 0..dbs.len() {
                    let db = dbs[next_db % dbs.len()];
                    next_db += 1;
                    pool.clear();
                    self.sample(pool, db, 1, policy, volatile);
                    if let Some(c) = pool.pop() {
                        found = Some(c);
                        break;
                    }
                }
                found
            } else {
                for &db in &dbs {
                    self.sample(pool, db, samples.max(1), policy, volatile);
                }
                pool.pop()
            };
            let Some(c) = victim else {
                out.exhausted = true;
                break;
            };
            let i = Self::shard_of(c.hash);
            let mut locked = self.lock_mask(1 << i);
            let slice = &mut locked.shard(i).dbs[c.db];
            let Some(at) = slice.dict.find(c.hash, &c.key) else {
                continue; // gone since it was sampled
            };
            if volatile && slice.dict.slot(at).value.expire_at == 0 {
                continue; // persisted since it was sampled
            }
            let entry = slice.remove_at(at);
            out.freed += super::usage::evicted_size(&c.key, &entry.value);
            out.keys += 1;
            self.stats.evicted.fetch_add(1, Ordering::Relaxed);
            locked.deleted_by_server(c.db, &c.key, crate::notify::EVICTED, "evicted");
            out.events.append(&mut locked.finish().events);
            drop(locked);
            drop(entry);
            if out.keys % 16 == 0 && deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                break;
            }
        }
        out
    }

    /// Samples up to `want` keys of database `db` into `pool`, from shards in turn starting
    /// at a random one: keys hash uniformly over shards, so `want` random keys of one shard
    /// are `want` random keys of the database. A shard with no more keys than still wanted
    /// gives all of them (so a small keyspace is ranked exactly).
    fn sample(
        &self,
        pool: &mut Vec<Candidate>,
        db: usize,
        want: usize,
        policy: MaxmemoryPolicy,
        volatile: bool,
    ) {
        let now = self.clock.now_ms();
        let lfu = self.lfu_params();
        let rng = self.rng.stream();
        let start = rng.below(SHARDS as u64) as usize;
        let mut left = want;
        for step in 0..SHARDS {
            if left == 0 {
                break;
            }
            let i = (start + step) % SHARDS;
            let shard = self.shards[i].lock();
            let Some(d) = shard.dbs.get(db) else {
                return;
            };
            let score = |e: &Entry| match policy {
                MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru => {
                    now.saturating_sub(e.access_ms())
                }
                MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu => {
                    255 - u64::from(decayed_counter(e.access_word(), now, lfu))
                }
                MaxmemoryPolicy::VolatileTtl => u64::MAX - e.expire_at,
                _ => rng.next_u64(),
            };
            let offer = |pool: &mut Vec<Candidate>, index: usize| {
                let slot = d.dict.slot(index);
                pool_insert(
                    pool,
                    Candidate {
                        score: score(&slot.value),
                        db,
                        hash: slot.hash,
                        key: slot.key.clone(),
                    },
                );
            };
            let hasher = &self.hasher;
            let index_of = |key: &SmallBytes| d.dict.find(hasher.hash_one(key.as_slice()), key);
            if !volatile {
                let n = d.dict.len();
                if n == 0 {
                    continue;
                }
                if n <= left {
                    (0..n).for_each(|x| offer(pool, x));
                    left -= n;
                } else {
                    for _ in 0..left {
                        offer(pool, rng.below(n as u64) as usize);
                    }
                    left = 0;
                }
                continue;
            }
            let n = d.expires.len();
            if n == 0 {
                continue;
            }
            if n <= left || policy == MaxmemoryPolicy::VolatileTtl {
                // All of them, or (TTL) the soonest to expire: exactly the best candidates.
                for (_, key) in d.expires.iter().take(left) {
                    if let Some(x) = index_of(key) {
                        offer(pool, x);
                    }
                }
                left = left.saturating_sub(n);
                continue;
            }
            // Random keys with an expiry: probe the slab, then fall back to a random point
            // of the deadline order when keys with an expiry are rare.
            let total = d.dict.len() as u64;
            let mut probes = left * 8;
            while left > 0 && probes > 0 {
                probes -= 1;
                let x = rng.below(total) as usize;
                if d.dict.slot(x).value.expire_at != 0 {
                    offer(pool, x);
                    left -= 1;
                }
            }
            if left > 0 {
                let (lo, hi) = match (d.expires.first(), d.expires.last()) {
                    (Some(a), Some(b)) => (a.0, b.0),
                    _ => continue,
                };
                let from = lo + rng.below(hi - lo + 1);
                let picks: Vec<usize> = d
                    .expires
                    .range((from, SmallBytes::new(b""))..)
                    .chain(d.expires.iter())
                    .take(left)
                    .filter_map(|(_, k)| index_of(k))
                    .collect();
                picks.into_iter().for_each(|x| offer(pool, x));
                left = 0;
            }
        }
    }

    /// Sets which keyspace events are recorded (`notify-keyspace-events` bits).
    pub fn set_notify_flags(&self, flags: u32) {
        self.notify_flags.store(flags, Ordering::Relaxed);
    }

    /// The `notify-keyspace-events` bits writes record events for.
    #[inline]
    pub fn notify_flags(&self) -> u32 {
        self.notify_flags.load(Ordering::Relaxed)
    }

    /// Removes `client` from the watchers of `keys` (UNWATCH, DISCARD, disconnect), locking
    /// their shards; [`Locked::unwatch`] does it under locks already held (EXEC).
    pub fn unwatch(&self, client: u64, keys: &[(usize, Bytes)]) {
        if keys.is_empty() {
            return;
        }
        let mut locked = self.lock(keys.iter().map(|(_, k)| k.as_ref()));
        locked.unwatch(client, keys);
    }

    /// The number of databases.
    pub fn databases(&self) -> usize {
        self.databases
    }

    /// The clock expiry decisions read.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    #[inline]
    pub(crate) fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    #[inline]
    fn shard_of(hash: u64) -> usize {
        (hash >> SHARD_SHIFT) as usize
    }

    /// The bit of `key`'s shard in a [`Keyspace::lock_mask`] mask.
    #[inline]
    pub fn shard_bit(&self, key: &[u8]) -> u32 {
        1 << Self::shard_of(self.hash(key))
    }

    /// Locks the shards holding `keys`, in ascending order.
    pub fn lock<'k, I>(&self, keys: I) -> Locked<'_>
    where
        I: IntoIterator<Item = &'k [u8]>,
    {
        let mut mask = 0u32;
        for k in keys {
            mask |= 1 << Self::shard_of(self.hash(k));
        }
        self.lock_mask(mask)
    }

    /// Locks every shard: a consistent view of the whole keyspace.
    pub fn lock_all(&self) -> Locked<'_> {
        self.lock_mask(u32::MAX)
    }

    /// Locks the shards whose bits are set in `mask` (see [`Keyspace::shard_bit`]), in
    /// ascending order.
    #[inline]
    pub fn lock_mask(&self, mask: u32) -> Locked<'_> {
        let mut guards: [Option<MutexGuard<'_, Shard>>; SHARDS] = [const { None }; SHARDS];
        for (i, g) in guards.iter_mut().enumerate() {
            if mask & (1 << i) != 0 {
                *g = Some(self.shards[i].lock());
            }
        }
        self.held(mask, guards, false)
    }

    /// [`Keyspace::lock_mask`] for a command that must not wait on a shard while `stop` is
    /// set (a script claimed the server, see `crate::scripting`): each shard is tried, and
    /// a taken one is waited for in 1 ms slices that end as soon as `stop` is seen — then
    /// every lock taken so far is released and the result says it gave up. Uncontended, this is the
    /// same single CAS per shard as a plain lock.
    /// (Returned by value rather than in an `Option`: the guard array is built in place, as
    /// [`Keyspace::lock_mask`] does; check [`Locked::gave_up`].)
    #[inline]
    pub fn lock_mask_unless(&self, mask: u32, stop: &AtomicBool) -> Locked<'_> {
        let mut guards: [Option<MutexGuard<'_, Shard>>; SHARDS] = [const { None }; SHARDS];
        let mut gave_up = false;
        // Only the set bits: most commands lock one shard.
        let mut rest = mask & (u32::MAX >> (32 - SHARDS));
        while rest != 0 {
            let i = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            let m = &self.shards[i];
            match m.try_lock() {
                Some(guard) => guards[i] = Some(guard),
                None => match Self::lock_slow(m, stop) {
                    Some(guard) => guards[i] = Some(guard),
                    None => {
                        gave_up = true;
                        break;
                    }
                },
            }
        }
        if gave_up {
            guards = [const { None }; SHARDS];
        }
        self.held(mask, guards, gave_up)
    }

    /// The [`Locked`] both lock paths return once they hold `mask`'s shards (none when
    /// `gave_up`), after [`Keyspace::locked_now`]'s post-lock step.
    #[inline(always)]
    fn held<'k>(
        &'k self,
        mask: u32,
        guards: [Option<MutexGuard<'k, Shard>>; SHARDS],
        gave_up: bool,
    ) -> Locked<'k> {
        let now = if gave_up {
            0
        } else {
            self.locked_now(mask, &guards)
        };
        Locked {
            ks: self,
            guards,
            now,
            effects: None,
            violation: false,
            scratch: None,
            gave_up,
            #[cfg(test)]
            touched: Vec::new(),
        }
    }

    /// What both lock paths do once they hold `mask`'s shards: the time the unit reads (0
    /// while expiry is frozen for loading), and a pending point-in-time dump of those shards
    /// (see the module docs) before anything changes them. One relaxed load otherwise.
    #[inline]
    fn locked_now(&self, mask: u32, guards: &[Option<MutexGuard<'_, Shard>>; SHARDS]) -> u64 {
        let mut now = self.clock.now_ms();
        let flags = self.dump_pending.load(Ordering::Relaxed);
        if flags & (mask | FROZEN) != 0 {
            if flags & FROZEN != 0 {
                now = 0;
            }
            if flags & mask & !FROZEN != 0 {
                self.dump_locked(mask & !FROZEN, guards);
            }
        }
        now
    }

    #[cold]
    #[inline(never)]
    fn lock_slow<'m>(m: &'m Mutex<Shard>, stop: &AtomicBool) -> Option<MutexGuard<'m, Shard>> {
        loop {
            if stop.load(Ordering::Acquire) {
                return None;
            }
            if let Some(g) = m.try_lock_for(std::time::Duration::from_millis(1)) {
                return Some(g);
            }
        }
    }

    /// Deletes keys whose deadline has passed, at most `limit` per shard. Each deletion goes
    /// through the effects path (`expired` event, WATCH, propagated `DEL`) one shard at a
    /// time; the returned events are for the caller to publish. Also returns how many keys
    /// were deleted and whether some shard had more due.
    pub fn active_expire(&self, limit: usize) -> (usize, bool, Vec<KeyEvent>) {
        let now = self.clock.now_ms();
        let mut total = 0;
        let mut more = false;
        let mut events = Vec::new();
        for i in 0..SHARDS {
            let mut locked = self.lock_mask(1 << i);
            let mut n = 0;
            for db in 0..self.databases {
                loop {
                    let due = matches!(
                        locked.shard(i).dbs[db].expires.first(),
                        Some((deadline, _)) if *deadline < now
                    );
                    if !due {
                        break;
                    }
                    if n >= limit {
                        more = true;
                        break;
                    }
                    let shard = locked.shard(i);
                    let slice = &mut shard.dbs[db];
                    let Some((deadline, key)) = slice.expires.pop_first() else {
                        break;
                    };
                    slice.expire_sum -= u128::from(deadline);
                    slice.dict.remove(self.hash(&key), &key);
                    locked.deleted_by_server(db, &key, crate::notify::EXPIRED, "expired");
                    // Each expired key is its own unit, as Redis's active expiry propagates
                    // one plain `DEL` per key (never a MULTI block).
                    events.append(&mut locked.finish().events);
                    n += 1;
                }
            }
            total += n;
            events.append(&mut locked.finish().events);
        }
        (total, more, events)
    }

    /// `(keys, keys with an expiry, average remaining TTL in ms)` of one database, for
    /// INFO keyspace. Locks every shard; [`Locked::db_stats`] reads through locks held.
    pub fn db_stats(&self, db: usize, now: u64) -> (usize, usize, u64) {
        self.lock_all().db_stats(db, now)
    }
}

/// Adds a candidate to the pool, kept sorted by score (best last) and at most
/// [`POOL_SIZE`] long: a candidate worse than every pooled one is dropped when it is full.
fn pool_insert(pool: &mut Vec<Candidate>, c: Candidate) {
    if let Some(old) = pool.iter().position(|p| p.db == c.db && p.key == c.key) {
        pool.remove(old);
    }
    if pool.len() >= POOL_SIZE {
        if pool.first().is_some_and(|w| w.score >= c.score) {
            return;
        }
        pool.remove(0);
    }
    let at = pool.partition_point(|p| p.score <= c.score);
    pool.insert(at, c);
}

/// The shards one command holds, plus the command's timestamp and the effects collected
/// under them (see [`super::effects`]).
///
/// # Touching a shard that is not locked
/// A command locks the shards of the keys its key specs name. Reaching another shard means
/// the row's specs are wrong; in every build that is recorded ([`Locked::take_violation`],
/// which dispatch turns into an error reply) and logged, and the access is still served
/// without risk: the shard is locked on the spot when that keeps the ascending lock order
/// (its index is above every held shard) or when it is free; otherwise (another command
/// holds it and may be waiting for ours) the command gets an empty scratch shard instead
/// of deadlocking — its reply is an error anyway.
pub struct Locked<'a> {
    ks: &'a Keyspace,
    guards: [Option<MutexGuard<'a, Shard>>; SHARDS],
    now: u64,
    /// Allocated by the first effect recorded: most commands record none (reads, and writes
    /// with no notification or propagation consumer), and a smaller `Locked` moves faster.
    effects: Option<Box<Effects>>,
    violation: bool,
    scratch: Option<Box<Shard>>,
    /// [`Keyspace::lock_mask_unless`] gave up: nothing is locked.
    gave_up: bool,
    /// Hashes of the keys looked up, so tests can check a command touched exactly the keys
    /// its specs name.
    #[cfg(test)]
    touched: Vec<u64>,
}

impl<'a> Locked<'a> {
    /// Whether [`Keyspace::lock_mask_unless`] gave up (a script claimed the server): nothing
    /// is locked and the command must not run.
    #[inline]
    pub fn gave_up(&self) -> bool {
        self.gave_up
    }

    /// The command's time, in ms: every expiry decision of the command uses it.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The keyspace these locks belong to.
    pub fn keyspace(&self) -> &'a Keyspace {
        self.ks
    }

    /// Registers `client` as watching `(db, key)`: its `flag` is set when the key changes.
    /// The key's shard must be locked (WATCH locks its keys).
    pub fn watch(&mut self, db: usize, key: &[u8], client: u64, flag: &Arc<AtomicBool>) {
        let hash = self.ks.hash(key);
        #[cfg(test)]
        self.touched.push(hash);
        let i = Keyspace::shard_of(hash);
        let now = self.now;
        let shard = self.shard(i);
        let expired = shard.dbs[db].expired(hash, key, now) == Some(true);
        let watchers = shard
            .watched
            .entry((db, Bytes::copy_from_slice(key)))
            .or_default();
        if watchers.iter().all(|w| w.client != client) {
            watchers.push(Watcher {
                client,
                flag: flag.clone(),
                expired,
            });
            self.ks.watching.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether a key `client` watches has passed its deadline since WATCH (EXEC aborts then,
    /// without reclaiming the key: a read does that later, as in Redis).
    pub fn watched_key_expired(&mut self, client: u64, db: usize, key: &[u8]) -> bool {
        let hash = self.ks.hash(key);
        let now = self.now;
        let shard = self.shard(Keyspace::shard_of(hash));
        let at_watch = shard
            .watched
            .get(&(db, Bytes::copy_from_slice(key)))
            .and_then(|ws| ws.iter().find(|w| w.client == client))
            .is_some_and(|w| w.expired);
        !at_watch && shard.dbs[db].expired(hash, key, now) == Some(true)
    }

    /// Removes `client` from the watchers of `keys`, whose shards are locked.
    pub fn unwatch(&mut self, client: u64, keys: &[(usize, Bytes)]) {
        for (db, key) in keys {
            let i = Keyspace::shard_of(self.ks.hash(key));
            let shard = self.shard(i);
            let id = (*db, key.clone());
            if let Some(watchers) = shard.watched.get_mut(&id) {
                let before = watchers.len();
                watchers.retain(|w| w.client != client);
                let gone = before - watchers.len();
                if watchers.is_empty() {
                    shard.watched.remove(&id);
                }
                self.ks.watching.fetch_sub(gone, Ordering::Relaxed);
            }
        }
    }

    /// `(keys, keys with an expiry, average remaining TTL in ms)` of database `db`. Needs
    /// every shard locked.
    pub fn db_stats(&mut self, db: usize, now: u64) -> (usize, usize, u64) {
        let mut keys = 0;
        let mut expires = 0;
        let mut sum = 0u128;
        for i in 0..SHARDS {
            if let Some(d) = self.shard(i).dbs.get(db) {
                keys += d.dict.len();
                expires += d.expires.len();
                sum += d.expire_sum;
            }
        }
        let avg_ttl = if expires == 0 {
            0
        } else {
            let remaining = sum.saturating_sub(u128::from(now) * expires as u128);
            (remaining / expires as u128) as u64
        };
        (keys, expires, avg_ttl)
    }

    /// `(keys, main table overhead, expires overhead)` in bytes of database `db`: what the
    /// tables spend beyond keys and values (bucket heads and per-slot links; per entry of
    /// the deadline index). Needs every shard locked.
    pub fn db_overhead(&mut self, db: usize) -> (usize, usize, usize) {
        let (mut keys, mut main, mut expires) = (0, 0, 0);
        for i in 0..SHARDS {
            if let Some(d) = self.shard(i).dbs.get(db) {
                keys += d.dict.len();
                main += d.dict.buckets() * 4 + d.dict.len() * 16;
                expires += d.expires.len() * 40;
            }
        }
        (keys, main, expires)
    }

    /// Queues `client` as blocked on `(db, key)` (after any client already waiting there).
    /// The key's shard must be locked: the blocking command holds its keys.
    pub fn block_on(&mut self, db: usize, key: &[u8], client: u64) {
        let ks = self.ks;
        let i = Keyspace::shard_of(ks.hash(key));
        let queue = self
            .shard(i)
            .waiting
            .entry((db, Bytes::copy_from_slice(key)))
            .or_default();
        if queue.is_empty() {
            ks.blocked_keys.fetch_add(1, Ordering::Relaxed);
        }
        queue.push_back(client);
    }

    /// Removes `client` from the queues of `keys` in `db` (served, timed out, unblocked,
    /// disconnected). Their shards must be locked.
    pub fn unblock(&mut self, db: usize, keys: &[Bytes], client: u64) {
        let ks = self.ks;
        for key in keys {
            let i = Keyspace::shard_of(ks.hash(key));
            let shard = self.shard(i);
            let id = (db, key.clone());
            if let Some(queue) = shard.waiting.get_mut(&id) {
                queue.retain(|c| *c != client);
                if queue.is_empty() {
                    shard.waiting.remove(&id);
                    ks.blocked_keys.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// The client blocked longest on `(db, key)`, if any. The key's shard must be locked.
    pub fn first_waiter(&mut self, db: usize, key: &[u8]) -> Option<u64> {
        if self.ks.blocked_keys.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let i = Keyspace::shard_of(self.ks.hash(key));
        self.shard(i)
            .waiting
            .get(&(db, Bytes::copy_from_slice(key)))
            .and_then(|q| q.front().copied())
    }

    /// Records that `(db, key)` was written: if clients are blocked on it, it goes on the
    /// unit's ready list, for them to be served once the locks are released.
    #[inline]
    pub fn signal_ready(&mut self, db: usize, key: &[u8]) {
        if self.ks.blocked_keys.load(Ordering::Relaxed) != 0 {
            self.signal_ready_slow(db, key);
        }
    }

    #[cold]
    #[inline(never)]
    fn signal_ready_slow(&mut self, db: usize, key: &[u8]) {
        let i = Keyspace::shard_of(self.ks.hash(key));
        let id = (db, Bytes::copy_from_slice(key));
        if !self.shard(i).waiting.contains_key(&id) {
            return;
        }
        let ready = &mut self.effects_mut().ready;
        if !ready.contains(&id) {
            ready.push(id);
        }
    }

    /// Flags every client watching `(db, key)`: the key changed.
    #[inline]
    pub fn touch_watched(&mut self, db: usize, key: &[u8]) {
        if self.ks.watching.load(Ordering::Relaxed) != 0 {
            self.touch_watched_slow(db, key);
        }
    }

    #[cold]
    #[inline(never)]
    fn touch_watched_slow(&mut self, db: usize, key: &[u8]) {
        let hash = self.ks.hash(key);
        let shard = self.shard(Keyspace::shard_of(hash));
        let gone = shard.dbs[db].dict.find(hash, key).is_none();
        if let Some(watchers) = shard.watched.get_mut(&(db, Bytes::copy_from_slice(key))) {
            for w in watchers {
                if w.expired && gone {
                    // A key already expired at WATCH was reclaimed: no logical change.
                    w.expired = false;
                } else {
                    w.flag.store(true, Ordering::Relaxed);
                }
            }
        }
    }

    /// Flags the watchers of every key of `dbs` that exists in any of them (FLUSHDB,
    /// FLUSHALL, SWAPDB), before the change. Needs every shard locked.
    pub fn touch_watched_in(&mut self, dbs: &[usize]) {
        if self.ks.watching.load(Ordering::Relaxed) == 0 {
            return;
        }
        let ks = self.ks;
        let now = self.now;
        for i in 0..SHARDS {
            let shard = self.shard(i);
            for ((db, key), watchers) in shard.watched.iter_mut() {
                if !dbs.contains(db) {
                    continue;
                }
                let h = ks.hash(key);
                // What the watched database holds now, and what it will hold: another of
                // `dbs` is swapped in (SWAPDB); a flush leaves nothing.
                let here = shard.dbs[*db].expired(h, key, now);
                let incoming = dbs
                    .iter()
                    .filter(|&&d| d != *db)
                    .find_map(|&d| shard.dbs[d].expired(h, key, now));
                for w in watchers.iter_mut() {
                    if w.expired {
                        // Logically missing before: only a live key swapped in changes it.
                        match incoming {
                            Some(false) => w.flag.store(true, Ordering::Relaxed),
                            Some(true) => {}
                            None => w.expired = false,
                        }
                    } else if here.is_none() && incoming == Some(true) {
                        // Missing, and an already expired key arrives: still missing.
                        w.expired = true;
                    } else if here.is_some() || incoming.is_some() {
                        w.flag.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
    }

    /// Records a keyspace event if its class is enabled.
    #[inline]
    pub fn event(&mut self, db: usize, key: &[u8], class: u32, event: &'static str) {
        if self.ks.notify_flags() & class != 0 {
            self.push_event(db, key, class, event);
        }
    }

    #[cold]
    #[inline(never)]
    fn push_event(&mut self, db: usize, key: &[u8], class: u32, event: &'static str) {
        self.effects_mut().events.push(KeyEvent {
            db,
            key: Bytes::copy_from_slice(key),
            class,
            event,
        });
    }

    /// Counts `n` changes (the `dirty` counter).
    #[inline]
    pub fn dirty(&self, n: u64) {
        self.ks.stats.dirty.fetch_add(n, Ordering::Relaxed);
    }

    /// Whether the propagation stream is recording (so rewriting argv is worth it).
    #[inline]
    pub fn propagating(&self) -> bool {
        self.ks.propagation.enabled()
    }

    /// Queues `argv` for propagation in database `db`, as part of the current unit.
    pub fn propagate(&mut self, db: usize, argv: Vec<Bytes>) {
        if self.propagating() {
            self.effects_mut().propagate.push((db, argv));
        }
    }

    /// How many writes the current unit has queued for propagation so far.
    pub fn propagated_len(&self) -> usize {
        self.effects.as_ref().map_or(0, |e| e.propagate.len())
    }

    /// Forgets the writes queued after the first `len` (a script's `redis.set_repl(REPL_NONE)`).
    pub fn truncate_propagated(&mut self, len: usize) {
        if let Some(e) = self.effects.as_mut() {
            e.propagate.truncate(len);
        }
    }

    /// The effects path for a key the server itself removed (expiry, later eviction): the
    /// event, WATCH, and a propagated `DEL` so replays remove it too. Not counted in `dirty`:
    /// Redis does not count expired keys as changes either.
    pub fn deleted_by_server(&mut self, db: usize, key: &[u8], class: u32, event: &'static str) {
        if class == crate::notify::EXPIRED {
            self.ks.stats.expired.fetch_add(1, Ordering::Relaxed);
        }
        self.touch_watched(db, key);
        self.event(db, key, class, event);
        if self.propagating() {
            let argv = vec![Bytes::from_static(b"DEL"), Bytes::copy_from_slice(key)];
            self.effects_mut().propagate.push((db, argv));
        }
    }

    /// The unit's effects, allocated on first use — or taken from this thread's spare (the
    /// last unit's, with its vectors' capacity), so a write unit with a propagation consumer
    /// (the AOF) allocates nothing in the steady state.
    fn effects_mut(&mut self) -> &mut Effects {
        self.effects
            .get_or_insert_with(|| SPARE_EFFECTS.with(Cell::take).unwrap_or_default())
    }

    /// Ends an execution unit: appends its propagated writes to the stream (under the locks
    /// still held) and hands back its events, to publish after the locks are dropped.
    #[inline]
    pub fn finish(&mut self) -> Finished {
        match self.effects.take() {
            None => Finished::default(),
            Some(mut e) => {
                self.ks.propagation.append(&mut e.propagate);
                let done = Finished {
                    events: std::mem::take(&mut e.events),
                    ready: std::mem::take(&mut e.ready),
                };
                SPARE_EFFECTS.with(|s| s.set(Some(e)));
                done
            }
        }
    }

    /// A view of database `index` (`index < databases`; callers validate). `touch`: whether
    /// reads update the keys' access time (false for `CLIENT NO-TOUCH` clients).
    pub fn db(&mut self, index: usize, touch: bool) -> Db<'_, 'a> {
        Db {
            locked: self,
            index,
            touch,
        }
    }

    #[inline]
    fn shard(&mut self, i: usize) -> &mut Shard {
        if self.guards[i].is_none() {
            self.outside_spec(i);
        }
        match self.guards[i].as_deref_mut() {
            Some(s) => s,
            None => {
                let databases = self.ks.databases;
                self.scratch.get_or_insert_with(|| {
                    Box::new(Shard {
                        dbs: (0..databases).map(|_| DbShard::default()).collect(),
                        watched: HashMap::new(),
                        waiting: HashMap::new(),
                    })
                })
            }
        }
    }

    /// See the type's docs: record, log, and lock shard `i` if that cannot deadlock.
    #[cold]
    #[inline(never)]
    fn outside_spec(&mut self, i: usize) {
        if !self.violation {
            tracing::error!(
                shard = i,
                "command touched a shard it did not lock (key spec bug)"
            );
        }
        self.violation = true;
        let above_held = self.guards[i + 1..].iter().all(Option::is_none);
        self.guards[i] = if above_held {
            Some(self.ks.shards[i].lock())
        } else {
            self.ks.shards[i].try_lock()
        };
        if self.ks.dump_pending.load(Ordering::Relaxed) & (1 << i) & !FROZEN != 0 {
            self.ks.dump_locked(1 << i, &self.guards);
        }
    }

    /// Whether the command touched a shard it had not locked since the last call.
    pub fn take_violation(&mut self) -> bool {
        std::mem::take(&mut self.violation)
    }

    /// Hashes of the keys looked up so far (tests).
    #[cfg(test)]
    pub(crate) fn take_touched(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.touched)
    }

    /// Swaps two databases (SWAPDB). Needs every shard locked.
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        self.touch_watched_in(&[a, b]);
        for i in 0..SHARDS {
            self.shard(i).dbs.swap(a, b);
        }
    }

    /// Empties every database (FLUSHALL). Needs every shard locked. `lazy`: the data is
    /// freed on a background thread (FLUSHALL ASYNC), so the command returns at once.
    pub fn flush_all(&mut self, lazy: bool) {
        let all: Vec<usize> = (0..self.ks.databases).collect();
        self.touch_watched_in(&all);
        let mut garbage = Vec::new();
        for i in 0..SHARDS {
            for db in self.shard(i).dbs.iter_mut() {
                garbage.push(std::mem::take(db));
            }
        }
        free(garbage, lazy);
    }
}

/// What an execution unit leaves to do once its locks are released.
#[derive(Debug, Default)]
pub struct Finished {
    /// Keyspace events to publish.
    pub events: Vec<KeyEvent>,
    /// Keys clients are blocked on that the unit wrote, to serve.
    pub ready: Vec<(usize, Bytes)>,
}

/// Drops flushed data, on a background thread when `lazy` and there is enough of it to
/// matter (freeing millions of keys takes a while; the lock is already released by then).
fn free(garbage: Vec<DbShard>, lazy: bool) {
    let keys: usize = garbage.iter().map(|d| d.dict.len()).sum();
    if lazy && keys > super::lazyfree::THRESHOLD {
        super::lazyfree::drop_later(garbage);
    }
}

/// What to do with a key's expiry when its value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// No expiry (a plain SET).
    Persist,
    /// Keep the existing expiry (KEEPTTL, APPEND, INCR…).
    Keep,
    /// Expire at this absolute time in ms.
    At(u64),
}

/// One database as seen by one command.
pub struct Db<'l, 'a> {
    locked: &'l mut Locked<'a>,
    index: usize,
    touch: bool,
}

impl Db<'_, '_> {
    /// This database's number (SELECT index).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The command's time, in ms (see [`Locked::now`]).
    pub fn now(&self) -> u64 {
        self.locked.now
    }

    fn slice(&mut self, hash: u64) -> &mut DbShard {
        let index = self.index;
        #[cfg(test)]
        self.locked.touched.push(hash);
        &mut self.locked.shard(Keyspace::shard_of(hash)).dbs[index]
    }

    /// Finds a live key (deleting it if it has expired) and returns its slab position.
    fn find_live(&mut self, key: &[u8]) -> Option<(u64, usize)> {
        let hash = self.locked.ks.hash(key);
        let now = self.locked.now;
        let shard = self.slice(hash);
        let i = shard.dict.find(hash, key)?;
        let deadline = shard.dict.slot(i).value.expire_at;
        if deadline != 0 && deadline < now {
            shard.remove_at(i);
            let index = self.index;
            self.locked
                .deleted_by_server(index, key, crate::notify::EXPIRED, "expired");
            return None;
        }
        Some((hash, i))
    }

    fn entry_at(&mut self, hash: u64, i: usize, touch: bool) -> &mut Entry {
        let now = self.locked.now;
        let ks = self.locked.ks;
        let entry = &mut self.slice(hash).dict.slot_mut(i).value;
        if touch {
            entry.access = ks.touch_word(entry.access, now);
        }
        entry
    }

    /// Finds a live key; `touch` updates its access time, `count` records a keyspace hit or
    /// miss (Redis counts read lookups only).
    fn lookup(&mut self, key: &[u8], touch: bool, count: bool) -> Option<&mut Entry> {
        let found = self.find_live(key);
        if count {
            let stats = &self.locked.ks.stats;
            let counter = if found.is_some() {
                &stats.hits
            } else {
                &stats.misses
            };
            counter.fetch_add(1, Ordering::Relaxed);
            if found.is_none() {
                let index = self.index;
                self.locked
                    .event(index, key, crate::notify::KEY_MISS, "keymiss");
            }
        }
        let (hash, i) = found?;
        Some(self.entry_at(hash, i, touch && self.touch))
    }

    /// Looks a key up for reading: touches it and counts a keyspace hit or miss.
    pub fn get(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(key, true, true)
    }

    /// Looks a key up for writing: touches it, no hit/miss counting.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.lookup(key, true, false)
    }

    /// Looks a key up for reading without touching it (TTL, TYPE, EXISTS, OBJECT…); counts
    /// a hit or miss as Redis's no-touch read lookups do.
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        self.lookup(key, false, true).map(|e| &*e)
    }

    /// A key's expiry without touching or counting: `None` when the key is missing.
    pub fn expiry_of(&mut self, key: &[u8]) -> Option<Option<u64>> {
        self.lookup(key, false, false).map(|e| e.expire_at())
    }

    /// Whether a live (unexpired) `key` exists.
    pub fn contains(&mut self, key: &[u8]) -> bool {
        self.find_live(key).is_some()
    }

    /// Writes a value. `Expiry::Keep` keeps the old deadline of an existing key.
    pub fn set(&mut self, key: &[u8], value: Value, expiry: Expiry) {
        let live = self.find_live(key);
        let now = self.locked.now;
        let ks = self.locked.ks;
        let hash = live.map_or_else(|| self.locked.ks.hash(key), |(h, _)| h);
        let shard = self.slice(hash);
        match live {
            Some((_, i)) => {
                let slot = shard.dict.slot_mut(i);
                let old = slot.value.expire_at;
                let new = match expiry {
                    Expiry::Persist => 0,
                    Expiry::Keep => old,
                    Expiry::At(t) => t,
                };
                slot.value.value = value;
                slot.value.expire_at = new;
                slot.value.access = ks.touch_word(slot.value.access, now);
                let key = slot.key.clone();
                shard.set_deadline(&key, old, new);
            }
            None => {
                let deadline = match expiry {
                    Expiry::At(t) => t,
                    Expiry::Persist | Expiry::Keep => 0,
                };
                let small = SmallBytes::new(key);
                shard.set_deadline(&small, 0, deadline);
                shard.dict.insert_new(
                    hash,
                    small,
                    Entry {
                        value,
                        expire_at: deadline,
                        access: fresh_access(now),
                    },
                );
                let index = self.index;
                self.locked.event(index, key, crate::notify::NEW, "new");
            }
        }
    }

    /// Re-inserts a whole entry (RENAME, MOVE, COPY) keeping its deadline.
    pub fn set_entry(&mut self, key: &[u8], entry: Entry) {
        let deadline = entry.expire_at;
        let value = entry.value;
        let expiry = if deadline == 0 {
            Expiry::Persist
        } else {
            Expiry::At(deadline)
        };
        self.set(key, value, expiry);
    }

    /// Deletes a key; returns its entry if it was live.
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (hash, i) = self.find_live(key)?;
        Some(self.slice(hash).remove_at(i))
    }

    /// Sets or clears a key's deadline; false when the key does not exist.
    pub fn set_expiry(&mut self, key: &[u8], deadline: Option<u64>) -> bool {
        let Some((hash, i)) = self.find_live(key) else {
            return false;
        };
        let shard = self.slice(hash);
        let slot = shard.dict.slot_mut(i);
        let old = slot.value.expire_at;
        let new = deadline.unwrap_or(0);
        slot.value.expire_at = new;
        let key = slot.key.clone();
        shard.set_deadline(&key, old, new);
        true
    }

    /// Number of keys, including expired ones not yet reclaimed (as Redis's DBSIZE).
    /// Needs every shard locked.
    pub fn len(&mut self) -> usize {
        let index = self.index;
        (0..SHARDS)
            .map(|i| self.locked.shard(i).dbs[index].dict.len())
            .sum()
    }

    /// Whether the database has no keys.
    pub fn is_empty(&mut self) -> bool {
        self.len() == 0
    }

    /// Empties this database (FLUSHDB). Needs every shard locked. `lazy`: free the data on a
    /// background thread.
    pub fn clear(&mut self, lazy: bool) {
        let index = self.index;
        self.locked.touch_watched_in(&[index]);
        let garbage = (0..SHARDS)
            .map(|i| std::mem::take(&mut self.locked.shard(i).dbs[index]))
            .collect();
        free(garbage, lazy);
    }

    /// Calls `visit` for every live key (KEYS). Needs every shard locked.
    pub fn for_each_live(&mut self, mut visit: impl FnMut(&[u8], &Entry)) {
        let index = self.index;
        let now = self.locked.now;
        for i in 0..SHARDS {
            for slot in self.locked.shard(i).dbs[index].dict.iter() {
                let e = &slot.value;
                if e.expire_at == 0 || e.expire_at >= now {
                    visit(&slot.key, e);
                }
            }
        }
    }

    /// One SCAN step: visits buckets from `cursor` until at least `count` keys were seen or
    /// `10 * count` buckets were visited, and returns the next cursor (0 = done). Expired keys
    /// are skipped. The cursor's low bits pick the shard, the rest walk that shard's table.
    /// Needs every shard locked.
    pub fn scan(&mut self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &Entry)) -> u64 {
        let index = self.index;
        let now = self.locked.now;
        let mut shard = (cursor & (SHARDS as u64 - 1)) as usize;
        let mut inner = cursor >> CURSOR_SHARD_BITS;
        let mut seen = 0usize;
        let mut steps = 0usize;
        let max_steps = count.saturating_mul(10).max(1);
        loop {
            let dict = &self.locked.shard(shard).dbs[index].dict;
            inner = dict.scan(inner, |slot| {
                seen += 1;
                let e = &slot.value;
                if e.expire_at == 0 || e.expire_at >= now {
                    visit(&slot.key, e);
                }
            });
            steps += 1;
            if inner == 0 {
                shard += 1;
                if shard == SHARDS {
                    return 0;
                }
            }
            if seen >= count || steps >= max_steps {
                return (inner << CURSOR_SHARD_BITS) | shard as u64;
            }
        }
    }

    /// A random live key (RANDOMKEY). Needs every shard locked.
    pub fn random_key(&mut self, mut rand: impl FnMut() -> u64) -> Option<Bytes> {
        let index = self.index;
        for _ in 0..100 {
            let total = self.len();
            if total == 0 {
                return None;
            }
            let mut pick = (rand() % total as u64) as usize;
            for i in 0..SHARDS {
                let now = self.locked.now;
                let db = &mut self.locked.shard(i).dbs[index];
                if pick >= db.dict.len() {
                    pick -= db.dict.len();
                    continue;
                }
                let slot = db.dict.slot(pick);
                if slot.value.expire_at != 0 && slot.value.expire_at < now {
                    let key = slot.key.to_bytes();
                    db.remove_at(pick);
                    self.locked
                        .deleted_by_server(index, &key, crate::notify::EXPIRED, "expired");
                    break;
                }
                return Some(slot.key.to_bytes());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::value::StrValue;
    use std::collections::HashSet;

    /// `(keys, keys with an expiry)` of one database.
    fn sizes(ks: &Keyspace, db: usize) -> (usize, usize) {
        let (keys, expires, _) = ks.db_stats(db, 0);
        (keys, expires)
    }

    fn s(v: &str) -> Value {
        Value::Str(StrValue::from_bytes(v.as_bytes()))
    }

    #[test]
    fn keys_expire_lazily_at_their_deadline() {
        let clock = Clock::manual(10_000);
        let ks = Keyspace::new(16, clock.clone());
        {
            let mut l = ks.lock([&b"k"[..]]);
            l.db(0, true).set(b"k", s("v"), Expiry::At(10_100));
        }
        clock.advance(100);
        assert!(ks.lock([&b"k"[..]]).db(0, true).contains(b"k"));
        clock.advance(1);
        let mut l = ks.lock([&b"k"[..]]);
        assert!(!l.db(0, true).contains(b"k"));
        drop(l);
        assert_eq!(sizes(&ks, 0), (0, 0));
    }

    #[test]
    fn active_expiry_reclaims_untouched_keys() {
        let clock = Clock::manual(1_000);
        let ks = Keyspace::new(2, clock.clone());
        {
            let mut l = ks.lock_all();
            let mut db = l.db(1, true);
            for i in 0..50 {
                let k = format!("k{i}");
                db.set(k.as_bytes(), s("v"), Expiry::At(1_500));
            }
            db.set(b"forever", s("v"), Expiry::Persist);
        }
        assert_eq!(sizes(&ks, 1), (51, 50));
        clock.advance(1_000);
        let (n, more, _) = ks.active_expire(1_000);
        assert_eq!((n, more), (50, false));
        assert_eq!(sizes(&ks, 1), (1, 0));
    }

    #[test]
    fn databases_are_separate_and_swap() {
        let ks = Keyspace::new(16, Clock::manual(0));
        let mut l = ks.lock_all();
        l.db(0, true).set(b"a", s("zero"), Expiry::Persist);
        l.db(3, true).set(b"a", s("three"), Expiry::Persist);
        l.swap_dbs(0, 3);
        let got = l.db(0, true).get(b"a").map(|e| e.value().clone());
        assert_eq!(got, Some(s("three")));
        l.flush_all(false);
        assert!(l.db(3, true).is_empty());
    }

    #[test]
    fn scan_visits_every_key_across_shards() {
        let ks = Keyspace::new(1, Clock::manual(0));
        let mut l = ks.lock_all();
        let mut db = l.db(0, true);
        for i in 0..500 {
            db.set(format!("key:{i}").as_bytes(), s("v"), Expiry::Persist);
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut calls = 0;
        loop {
            cursor = db.scan(cursor, 10, |k, _| {
                seen.insert(k.to_vec());
            });
            calls += 1;
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 500);
        assert!(calls > 10, "SCAN should page, took {calls} calls");
    }

    #[test]
    fn expiry_index_follows_overwrites_and_persist() {
        let ks = Keyspace::new(1, Clock::manual(0));
        let mut l = ks.lock_all();
        let mut db = l.db(0, true);
        db.set(b"k", s("1"), Expiry::At(50));
        db.set(b"k", s("2"), Expiry::Keep);
        assert_eq!(db.peek(b"k").and_then(Entry::expire_at), Some(50));
        db.set(b"k", s("3"), Expiry::Persist);
        assert_eq!(db.peek(b"k").and_then(Entry::expire_at), None);
        assert!(db.set_expiry(b"k", Some(70)));
        drop(l);
        assert_eq!(sizes(&ks, 0), (1, 1));
        assert_eq!(ks.db_stats(0, 20), (1, 1, 50));
    }
}
