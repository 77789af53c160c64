//! State shared by every connection and by the background tasks: the keyspace, the running
//! configuration, the client registry and server-wide counters.
//!
//! It sits below `commands/` (which reads it) and `server/` (which builds it), so commands
//! never import the network layer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use parking_lot::RwLock;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::{Config, MaxmemoryPolicy};
use crate::session::ClientHandle;
use crate::storage::Keyspace;

/// Server-wide state, one per running server.
#[derive(Debug)]
pub struct Shared {
    pub keyspace: Keyspace,
    /// Append-only file persistence (see [`crate::aof`]).
    pub aof: crate::aof::Aof,
    pub config: RwLock<Config>,
    /// Bumped by [`Shared::apply_config`] (every successful CONFIG SET). Connections keep
    /// copies of the settings they read per request (timeout, proto-max-bulk-len, query
    /// buffer limit, maxclients) and refresh them when this moves: one relaxed load per read.
    pub config_epoch: AtomicU64,
    /// Channel and pattern subscriptions.
    pub pubsub: crate::pubsub::PubSub,
    /// The collection encoding thresholds, as writes read them (no config lock per write).
    pub encodings: EncodingLimits,
    /// `maxmemory` and the eviction settings, as the check before every command reads them.
    pub memory: MemoryLimits,
    /// Clients blocked in BLPOP and friends (see [`crate::blocking`]).
    pub blocked: crate::blocking::Blocked,
    /// `client-output-buffer-limit` as pushes into client outboxes read it (a copy refreshed
    /// by [`Shared::apply_config`]); shared with `pubsub`.
    pub output: Arc<crate::session::OutputPolicy>,
    pub clients: DashMap<u64, Arc<ClientHandle>>,
    next_client_id: AtomicU64,
    pub started_ms: u64,
    /// `used_memory` when the server was built (INFO `used_memory_startup`).
    pub startup_memory: u64,
    pub stats: ServerStats,
    /// Set when SHUTDOWN or a signal asks the server to stop.
    pub shutdown: Notify,
    /// The addresses the listeners are bound to (CLIENT LIST `laddr`, logs).
    pub listen_addrs: RwLock<Vec<std::net::SocketAddr>>,
    /// 40 hex digits identifying this run (INFO `run_id`).
    pub run_id: String,
    ops: parking_lot::Mutex<OpsSampler>,
}

/// Command-rate samples for INFO `instantaneous_ops_per_sec`: (time ms, commands so far),
/// one per cron tick, averaged over the last 16 like Redis.
#[derive(Debug, Default)]
struct OpsSampler {
    samples: std::collections::VecDeque<(u64, u64)>,
}

/// Counters reported by INFO.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    pub error_replies: AtomicU64,
}

impl Shared {
    pub fn new(config: Config, clock: Clock) -> Self {
        let started_ms = clock.now_ms();
        let output = Arc::new(crate::session::OutputPolicy::new(
            &config.client_output_buffer_limit,
            clock.clone(),
        ));
        let shared = Shared {
            keyspace: Keyspace::new(config.databases, clock),
            aof: crate::aof::Aof::default(),
            config: RwLock::new(config),
            config_epoch: AtomicU64::new(0),
            pubsub: crate::pubsub::PubSub::new(output.clone()),
            encodings: EncodingLimits::default(),
            memory: MemoryLimits::default(),
            blocked: crate::blocking::Blocked::default(),
            output,
            clients: DashMap::new(),
            next_client_id: AtomicU64::new(1),
            started_ms,
            startup_memory: crate::memory::used_memory() as u64,
            stats: ServerStats::default(),
            shutdown: Notify::new(),
            listen_addrs: RwLock::new(Vec::new()),
            run_id: run_id(started_ms),
            ops: parking_lot::Mutex::new(OpsSampler::default()),
        };
        shared.apply_config();
        shared
    }

    /// Copies the settings that hot paths read without the config lock into their atomics;
    /// called once at start and after every successful CONFIG SET.
    pub fn apply_config(&self) {
        let config = self.config.read();
        self.keyspace
            .set_notify_flags(config.notify_keyspace_events);
        self.output.set(&config.client_output_buffer_limit);
        self.encodings.set(&config);
        self.memory.set(&config);
        let lfu = matches!(
            config.maxmemory_policy,
            MaxmemoryPolicy::AllkeysLfu | MaxmemoryPolicy::VolatileLfu
        );
        self.keyspace
            .set_lfu(lfu, config.lfu_log_factor, config.lfu_decay_time);
        // fsync policy; `appendonly` switched by CONFIG SET turns the AOF on or off.
        self.aof.apply_config(&config);
        self.config_epoch.fetch_add(1, Ordering::Release);
    }

    /// Publishes keyspace notifications for `events` (called after the locks that recorded
    /// them are released): `__keyspace@<db>__:<key>` with the event name and
    /// `__keyevent@<db>__:<event>` with the key, as `notify-keyspace-events` selects.
    pub fn publish_events(&self, events: Vec<crate::storage::KeyEvent>) {
        if events.is_empty() {
            return;
        }
        let flags = self.keyspace.notify_flags();
        let mut channel = Vec::with_capacity(64);
        for e in events {
            if flags & crate::notify::KEYSPACE != 0 {
                channel.clear();
                channel.extend_from_slice(format!("__keyspace@{}__:", e.db).as_bytes());
                channel.extend_from_slice(&e.key);
                self.pubsub.publish(&channel, e.event.as_bytes());
            }
            if flags & crate::notify::KEYEVENT != 0 {
                channel.clear();
                channel.extend_from_slice(format!("__keyevent@{}__:{}", e.db, e.event).as_bytes());
                self.pubsub.publish(&channel, &e.key);
            }
        }
    }

    /// CONFIG RESETSTAT: zeroes what Redis's `resetServerStats` does — commands, connections,
    /// rejections, network bytes, error replies, keyspace hits/misses and expired keys — but
    /// not `dirty` (changes since the last save), which is persistence state, not a stat.
    pub fn reset_stats(&self) {
        let s = &self.stats;
        for counter in [
            &s.connections_received,
            &s.commands_processed,
            &s.rejected_connections,
            &s.net_input_bytes,
            &s.net_output_bytes,
            &s.error_replies,
            &self.keyspace.stats.hits,
            &self.keyspace.stats.misses,
            &self.keyspace.stats.expired,
            &self.keyspace.stats.evicted,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.ops.lock().samples.clear();
    }

    /// Records a command-rate sample (called by the server's periodic task).
    pub fn sample_ops(&self) {
        let now = self.now_ms();
        let n = self.stats.commands_processed.load(Ordering::Relaxed);
        let mut ops = self.ops.lock();
        ops.samples.push_back((now, n));
        if ops.samples.len() > 16 {
            ops.samples.pop_front();
        }
    }

    /// Commands per second over the recent samples.
    pub fn ops_per_sec(&self) -> u64 {
        let ops = self.ops.lock();
        match (ops.samples.front(), ops.samples.back()) {
            (Some(&(t0, n0)), Some(&(t1, n1))) if t1 > t0 => (n1 - n0) * 1000 / (t1 - t0),
            _ => 0,
        }
    }

    pub fn clock(&self) -> &Clock {
        self.keyspace.clock()
    }

    pub fn now_ms(&self) -> u64 {
        self.clock().now_ms()
    }

    /// A fresh client id (never reused, as Redis's).
    pub fn next_client_id(&self) -> u64 {
        self.next_client_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The password clients must give, if any.
    pub fn requirepass(&self) -> Option<String> {
        self.config.read().requirepass.clone()
    }
}

/// A run id: 40 hex digits mixed from the time, the process id and a stack address.
fn run_id(now_ms: u64) -> String {
    use std::hash::BuildHasher;
    let local = 0u8;
    let seed = now_ms ^ (std::process::id() as u64).rotate_left(40) ^ (&local as *const u8 as u64);
    let mut out = String::with_capacity(40);
    let mut i = 0u64;
    while out.len() < 40 {
        let h = foldhash::fast::FixedState::with_seed(seed).hash_one(i);
        out.push_str(&format!("{h:016x}"));
        i += 1;
    }
    out.truncate(40);
    out
}

/// `maxmemory`, `maxmemory-policy`, `maxmemory-samples` and `maxmemory-eviction-tenacity`,
/// copied by [`Shared::apply_config`]. With `maxmemory` 0 a command pays one relaxed load of
/// [`MemoryLimits::maxmemory`] for all of this.
#[derive(Debug)]
pub struct MemoryLimits {
    pub maxmemory: AtomicU64,
    policy: std::sync::atomic::AtomicUsize,
    pub samples: std::sync::atomic::AtomicU32,
    pub tenacity: std::sync::atomic::AtomicU32,
    /// A `used_memory` reading to use instead of the allocator's ([`NO_OVERRIDE`]: none).
    /// For tests that need eviction to be deterministic: eviction then lowers it by the
    /// estimated size of each key it removes.
    pub used_override: AtomicU64,
}

/// [`MemoryLimits::used_override`] when the real reading is used.
pub const NO_OVERRIDE: u64 = u64::MAX;

impl Default for MemoryLimits {
    fn default() -> Self {
        MemoryLimits {
            maxmemory: AtomicU64::new(0),
            policy: std::sync::atomic::AtomicUsize::new(7),
            samples: std::sync::atomic::AtomicU32::new(5),
            tenacity: std::sync::atomic::AtomicU32::new(10),
            used_override: AtomicU64::new(NO_OVERRIDE),
        }
    }
}

impl MemoryLimits {
    fn set(&self, c: &Config) {
        let r = Ordering::Relaxed;
        let policy = MaxmemoryPolicy::ALL
            .iter()
            .position(|p| *p == c.maxmemory_policy)
            .unwrap_or(MaxmemoryPolicy::ALL.len() - 1);
        self.policy.store(policy, r);
        self.samples.store(c.maxmemory_samples, r);
        self.tenacity.store(c.maxmemory_eviction_tenacity, r);
        self.maxmemory.store(c.maxmemory, r);
    }

    pub fn policy(&self) -> MaxmemoryPolicy {
        MaxmemoryPolicy::ALL
            .get(self.policy.load(Ordering::Relaxed))
            .copied()
            .unwrap_or(MaxmemoryPolicy::NoEviction)
    }

    /// `used_memory` as INFO and eviction see it.
    pub fn used(&self) -> u64 {
        match self.used_override.load(Ordering::Relaxed) {
            NO_OVERRIDE => crate::memory::used_memory() as u64,
            v => v,
        }
    }
}

/// `hash-max-listpack-*`, `set-max-intset-entries`, `zset-max-listpack-*`,
/// `list-max-listpack-size` and `hll-sparse-max-bytes`, copied into atomics by
/// [`Shared::apply_config`] so a write choosing a value's encoding reads them without the
/// config lock.
#[derive(Debug, Default)]
pub struct EncodingLimits {
    pub hash_max_listpack_entries: AtomicU64,
    pub hash_max_listpack_value: AtomicU64,
    pub set_max_intset_entries: AtomicU64,
    pub zset_max_listpack_entries: AtomicU64,
    pub zset_max_listpack_value: AtomicU64,
    pub list_max_listpack_size: std::sync::atomic::AtomicI64,
    pub hll_sparse_max_bytes: AtomicU64,
}

impl EncodingLimits {
    fn set(&self, c: &Config) {
        let r = Ordering::Relaxed;
        self.hash_max_listpack_entries
            .store(c.hash_max_listpack_entries, r);
        self.hash_max_listpack_value
            .store(c.hash_max_listpack_value, r);
        self.set_max_intset_entries
            .store(c.set_max_intset_entries, r);
        self.zset_max_listpack_entries
            .store(c.zset_max_listpack_entries, r);
        self.zset_max_listpack_value
            .store(c.zset_max_listpack_value, r);
        self.list_max_listpack_size
            .store(i64::from(c.list_max_listpack_size), r);
        self.hll_sparse_max_bytes.store(c.hll_sparse_max_bytes, r);
    }

    /// Reads one threshold.
    #[inline]
    pub fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }
}
