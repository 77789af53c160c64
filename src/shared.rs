//! State shared by every connection and by the background tasks: the keyspace, the running
//! configuration, the client registry and server-wide counters.
//!
//! It sits below `commands/` (which reads it) and `server/` (which builds it), so commands
//! never import the network layer.
//!
//! Counters that change on every request (commands processed, network bytes, reads and
//! writes) are not here but in [`crate::ops::Stats`], per thread, so the request path makes
//! no shared writes; [`ServerStats`] keeps the per-connection ones.

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
    /// Every database, sharded; the clock and the random source live here too.
    pub keyspace: Keyspace,
    /// Append-only file persistence (see [`crate::aof`]).
    pub aof: crate::aof::Aof,
    /// The running configuration (CONFIG GET/SET read and write it).
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
    /// Lua scripts and functions, and the gate that keeps other clients off the shards
    /// while a script runs (see [`crate::scripting`]).
    pub scripting: crate::scripting::Scripting,
    /// `client-output-buffer-limit` as pushes into client outboxes read it (a copy refreshed
    /// by [`Shared::apply_config`]); shared with `pubsub`.
    pub output: Arc<crate::session::OutputPolicy>,
    /// Connected clients by id (CLIENT LIST/KILL, TESTCTL DROP).
    pub clients: DashMap<u64, Arc<ClientHandle>>,
    next_client_id: AtomicU64,
    /// Server time at start, ms (INFO uptime).
    pub started_ms: u64,
    /// `used_memory` when the server was built (INFO `used_memory_startup`).
    pub startup_memory: u64,
    /// Counters INFO reports.
    pub stats: ServerStats,
    /// Command and error statistics, slow log, latency monitor, MONITOR, CLIENT PAUSE.
    pub ops: crate::ops::Ops,
    /// Set when SHUTDOWN or a signal asks the server to stop.
    pub shutdown: Notify,
    /// The addresses the listeners are bound to (CLIENT LIST `laddr`, logs).
    pub listen_addrs: RwLock<Vec<std::net::SocketAddr>>,
    /// 40 hex digits identifying this run (INFO `run_id`).
    pub run_id: String,
    ops_samples: parking_lot::Mutex<OpsSampler>,
    /// Injected faults (see [`crate::testctl`]); `faults.armed()` is 0 unless a test armed one.
    pub faults: crate::testctl::Faults,
    /// `enable-test-controls` as the server started (immutable): whether `TESTCTL` exists.
    pub test_controls: bool,
}

/// Rate samples for INFO `instantaneous_ops_per_sec` and `instantaneous_input_kbps` /
/// `output_kbps`: (time ms, commands, bytes in, bytes out so far), one per cron tick,
/// averaged over the last 16 like Redis.
#[derive(Debug, Default)]
struct OpsSampler {
    samples: std::collections::VecDeque<(u64, u64, u64, u64)>,
}

/// The recent rates INFO reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rates {
    /// `instantaneous_ops_per_sec`.
    pub ops_per_sec: u64,
    /// `instantaneous_input_kbps`.
    pub input_kbps: f64,
    /// `instantaneous_output_kbps`.
    pub output_kbps: f64,
}

/// Counters reported by INFO that are not per command. Commands processed and network
/// bytes are counted per thread in [`crate::ops::Stats`] (they change on every request).
#[derive(Debug, Default)]
pub struct ServerStats {
    /// `total_connections_received`.
    pub connections_received: AtomicU64,
    /// `rejected_connections` (maxclients).
    pub rejected_connections: AtomicU64,
}

impl Shared {
    /// Server state for `config`, reading time from `clock`, with randomness drawn at start
    /// (or fixed, see [`Shared::with_seed`], when `enable-test-controls` is on).
    pub fn new(config: Config, clock: Clock) -> Self {
        Self::with_seed(config, clock, None)
    }

    /// [`Shared::new`] with the random source seeded with `seed` (see [`crate::rng`]). With
    /// `None` and `enable-test-controls yes`, the seed is 0: a server under test is
    /// deterministic until `TESTCTL SEED` says otherwise.
    pub fn with_seed(config: Config, clock: Clock, seed: Option<u64>) -> Self {
        let seed = seed.or(config.enable_test_controls.then_some(0));
        let test_controls = config.enable_test_controls;
        let started_ms = clock.now_ms();
        let output = Arc::new(crate::session::OutputPolicy::new(
            &config.client_output_buffer_limit,
            clock.clone(),
        ));
        let shared = Shared {
            keyspace: Keyspace::with_seed(config.databases, clock, seed),
            aof: crate::aof::Aof::default(),
            config: RwLock::new(config),
            config_epoch: AtomicU64::new(0),
            pubsub: crate::pubsub::PubSub::new(output.clone()),
            encodings: EncodingLimits::default(),
            memory: MemoryLimits::default(),
            blocked: crate::blocking::Blocked::default(),
            scripting: crate::scripting::Scripting::new(),
            output,
            clients: DashMap::new(),
            next_client_id: AtomicU64::new(1),
            started_ms,
            startup_memory: crate::memory::used_memory() as u64,
            stats: ServerStats::default(),
            ops: crate::ops::Ops::new(started_ms),
            shutdown: Notify::new(),
            listen_addrs: RwLock::new(Vec::new()),
            run_id: run_id(started_ms),
            ops_samples: parking_lot::Mutex::new(OpsSampler::default()),
            faults: crate::testctl::Faults::default(),
            test_controls,
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
        self.ops.configure(
            config.slowlog_log_slower_than,
            config.slowlog_max_len,
            config.latency_monitor_threshold,
        );
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
    /// rejections, network bytes, error replies, keyspace hits/misses, expired keys and the
    /// command and error statistics — but
    /// not `dirty` (changes since the last save), which is persistence state, not a stat.
    pub fn reset_stats(&self) {
        let s = &self.stats;
        for counter in [
            &s.connections_received,
            &s.rejected_connections,
            &self.keyspace.stats.hits,
            &self.keyspace.stats.misses,
            &self.keyspace.stats.expired,
            &self.keyspace.stats.evicted,
        ] {
            counter.store(0, Ordering::Relaxed);
        }
        self.ops_samples.lock().samples.clear();
        self.ops.reset_stats();
    }

    /// Records a rate sample (called by the server's periodic task).
    pub fn sample_ops(&self) {
        let now = self.now_ms();
        let n = self.ops.stats.total_calls();
        let net = self.ops.stats.net();
        let mut ops = self.ops_samples.lock();
        ops.samples.push_back((now, n, net.input, net.output));
        if ops.samples.len() > 16 {
            ops.samples.pop_front();
        }
    }

    /// Commands per second and network kilobytes per second over the recent samples.
    pub fn rates(&self) -> Rates {
        let ops = self.ops_samples.lock();
        match (ops.samples.front(), ops.samples.back()) {
            (Some(&(t0, n0, i0, o0)), Some(&(t1, n1, i1, o1))) if t1 > t0 => {
                let ms = (t1 - t0) as f64;
                Rates {
                    ops_per_sec: n1.saturating_sub(n0) * 1000 / (t1 - t0),
                    input_kbps: i1.saturating_sub(i0) as f64 / 1024.0 * 1000.0 / ms,
                    output_kbps: o1.saturating_sub(o0) as f64 / 1024.0 * 1000.0 / ms,
                }
            }
            _ => Rates::default(),
        }
    }

    /// Commands per second over the recent samples.
    pub fn ops_per_sec(&self) -> u64 {
        self.rates().ops_per_sec
    }

    /// The server's clock: every time-dependent command reads it (TIME should too), so
    /// tests can move time (see [`crate::clock`]).
    pub fn clock(&self) -> &Clock {
        self.keyspace.clock()
    }

    /// The server's random source (see [`crate::rng`]).
    pub fn rng(&self) -> &crate::rng::Rng {
        self.keyspace.rng()
    }

    /// The current random seed: what scripts seed `math.random` from, so EVAL's randomness
    /// is as deterministic as the server's for a given seed.
    pub fn seed(&self) -> u64 {
        self.keyspace.rng().seed()
    }

    /// Memory `maxmemory` does not count (INFO `mem_not_counted_for_evict`): the AOF's
    /// buffers, as in Redis (which also leaves out replica buffers; there are none here).
    pub fn mem_not_counted_for_evict(&self) -> u64 {
        if self.aof.enabled() {
            self.aof.buffer_memory(self)
        } else {
            0
        }
    }

    /// `used_memory` less [`Shared::mem_not_counted_for_evict`]: what `maxmemory` is
    /// compared with.
    pub fn used_for_eviction(&self) -> u64 {
        self.memory
            .used()
            .saturating_sub(self.mem_not_counted_for_evict())
    }

    /// The server's time in ms since the epoch (its [`Clock`]).
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
    /// `maxmemory` in bytes (0: no limit).
    pub maxmemory: AtomicU64,
    policy: std::sync::atomic::AtomicUsize,
    /// `maxmemory-samples`.
    pub samples: std::sync::atomic::AtomicU32,
    /// `maxmemory-eviction-tenacity`.
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

    /// `maxmemory-policy`.
    pub fn policy(&self) -> MaxmemoryPolicy {
        MaxmemoryPolicy::ALL
            .get(self.policy.load(Ordering::Relaxed))
            .copied()
            .unwrap_or(MaxmemoryPolicy::NoEviction)
    }

    /// `used_memory` as INFO sees it (eviction leaves out what
    /// [`Shared::mem_not_counted_for_evict`] says).
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
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: AtomicU64,
    /// `hash-max-listpack-value`.
    pub hash_max_listpack_value: AtomicU64,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: AtomicU64,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: AtomicU64,
    /// `zset-max-listpack-value`.
    pub zset_max_listpack_value: AtomicU64,
    /// `list-max-listpack-size`.
    pub list_max_listpack_size: std::sync::atomic::AtomicI64,
    /// `hll-sparse-max-bytes`.
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
