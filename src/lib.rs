//! # emberkv
//!
//! A Redis-compatible in-memory cache server: RESP2/RESP3 (and inline commands) over TCP,
//! 16 databases in a sharded keyspace with lazy and active expiry, and Redis 7.0's replies
//! and error texts byte for byte.
//!
//! The library runs the same server the binary does, in-process — handy in tests:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! let server = emberkv::Server::builder()
//!     .port(0)
//!     .set("maxmemory", "10mb")?      // any directive, through CONFIG SET's registry
//!     .seed(42)                        // deterministic RANDOMKEY, SPOP, eviction…
//!     .start()
//!     .await?;
//! let url = server.url();              // redis://127.0.0.1:PORT/
//! // ... talk to it with any Redis client ...
//! server.clock().advance_by(Duration::from_secs(3601)); // time travel: TTLs expire
//! server.faults().fail_next(1, "ERR boom");             // the next command fails
//! server.shutdown().await;             // or just drop it
//! # Ok(()) }
//! ```
//!
//! # Testing with emberkv
//! [`testctl`] describes the test controls: a controllable clock, a deterministic seed,
//! fault injection (failures, delays, stalls, dropped and refused connections) and direct
//! data access — from Rust through [`ServerHandle`] / [`BackgroundServer`], and over the
//! wire through the `TESTCTL` command when the server runs with `enable-test-controls yes`.
//!
//! # Layout
//! - `protocol/` — request decoding (multibulk + inline), [`Reply`] encoding in RESP2/RESP3,
//!   the argument cursor and the shared error texts.
//! - `commands/` — the declarative command table and dispatch (`mod.rs`, `table.rs`, whose
//!   key specs drive locking and `COMMAND`), `COMMAND DOCS` data keyed by name (`docs.rs`),
//!   one file per family (`string.rs`, `keys.rs`, `hash.rs`, `list.rs`, `set.rs`, `zset.rs`,
//!   `sort.rs`, `bitmap.rs`, `hll.rs`, `geo.rs`, `stream.rs`,
//!   `connection.rs`, `command.rs`, `config.rs`, `transaction.rs`, `pubsub.rs`,
//!   `scripting.rs`), and
//!   `blocking.rs`, which serves, times out and unblocks blocked clients.
//! - `storage/` — the sharded [`Keyspace`](storage::Keyspace), its hash table (`dict.rs`),
//!   the effects path every write reports through (`effects.rs`: WATCH, keyspace events,
//!   the propagation stream, keys made ready for blocked clients), value types (`hash.rs`,
//!   `list.rs`, `set.rs`, `zset.rs`: sorted sets with an order-statistic list), lazy freeing
//!   of big values (`lazyfree.rs`), the bit logic of bitmaps over strings (`bitops.rs`), Redis's HyperLogLog
//!   representation kept in string values (`hll.rs`), geohashes and
//!   distances (`geo.rs`),
//!   glob matching.
//! - `server/` — listeners, the per-connection task (pipelining, blocked waits), background
//!   expiry, shutdown, and `metrics.rs`: `GET /metrics` for Prometheus on `metrics-port`. `session.rs` is one client's state and its *outbox*, the queue through
//!   which other tasks reach a connection (pub/sub messages, served blocked pops, CLIENT
//!   UNBLOCK); `shared.rs` the server-wide state; `pubsub.rs` the subscription registry;
//!   `blocking.rs` the blocked-client registry and how a wait begins and ends; `notify.rs` the
//!   keyspace-notification classes.
//! - `scripting/` — Lua scripts and functions: the Lua 5.1 states, their sandbox and the
//!   `redis` API (`engine.rs`), function libraries and the FUNCTION DUMP payload
//!   (`functions.rs`), the bundled Lua libraries (`lib/`), and the gate that keeps other
//!   clients waiting — never blocked on a shard — while a script runs (`mod.rs`); the
//!   commands are in `commands/scripting.rs`.
//! - `aof/` — append-only file persistence in Redis 7's multi-part layout: the manifest,
//!   the writer and fsync policies (the `always` pass at the end of a worker's loop),
//!   loading at start, and the rewrite from a point-in-time view (see its module docs).
//! - `config.rs` — redis.conf and command-line options; `clock.rs` — the injectable clock;
//!   `memory.rs` — the counting allocator behind `used_memory`; `ops.rs` — command and
//!   error statistics (per-thread counters, one clock read per command), slow log, latency
//!   monitor, MONITOR feeds and CLIENT PAUSE state.
//!
//! The whole public API is documented, and `#![warn(missing_docs)]` is on crate-wide, so an
//! undocumented public item fails `cargo clippy --all-targets -- -D warnings` in CI.
//!
//! Data flows one way: `server` → `commands` → `storage`; no command imports `server`.

#![warn(missing_docs)]

pub mod aof;
pub mod blocking;
pub mod clock;
pub mod commands;
pub mod config;
pub mod memory;
pub mod notify;
pub mod ops;
pub mod protocol;
pub mod pubsub;
pub mod rng;
pub mod scripting;
pub mod server;
pub mod session;
pub mod shared;
pub mod storage;
pub mod testctl;

pub use clock::Clock;
pub use config::Config;
pub use protocol::Reply;
pub use server::ServerHandle;
pub use testctl::{Controls, DbAccess, Faults};

/// Starts servers in-process.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A builder with the defaults of `redis-server` (port 6379 on 127.0.0.1) except
    /// persistence: no snapshots (`save ""`) and no AOF, so an in-process server leaves no
    /// files behind. Tests usually call `.port(0)` for an ephemeral port.
    pub fn builder() -> ServerBuilder {
        let mut config = Config::default();
        config.save.clear();
        config.appendonly = false;
        ServerBuilder {
            config,
            clock: Clock::system(),
            seed: None,
        }
    }
}

/// Options for an in-process server. Every method consumes and returns the builder;
/// [`ServerBuilder::set`] returns configuration errors as values.
#[derive(Debug)]
pub struct ServerBuilder {
    config: Config,
    clock: Clock,
    seed: Option<u64>,
}

impl ServerBuilder {
    /// Uses a whole configuration (e.g. parsed from a redis.conf), replacing what earlier
    /// calls set. A configuration read with [`Config::from_file`] (or the command line)
    /// remembers its file in [`Config::config_file`], which CONFIG REWRITE updates.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets any configuration directive, as a config-file line would, through the registry
    /// CONFIG SET uses (same names, aliases, validation and units); immutable directives
    /// (`port`, `databases`, `enable-test-controls`…) included. A bad name or value comes
    /// back as a [`config::ConfigError`] saying which and why.
    ///
    /// ```
    /// let b = emberkv::Server::builder()
    ///     .set("maxmemory", "10mb")?
    ///     .set("maxmemory-policy", "allkeys-lru")?
    ///     .set("save", "")?;
    /// assert!(emberkv::Server::builder().set("maxmemory", "ten").is_err());
    /// # Ok::<(), emberkv::config::ConfigError>(())
    /// ```
    pub fn set(mut self, name: &str, value: &str) -> Result<Self, config::ConfigError> {
        self.config.set_startup(name, value)?;
        Ok(self)
    }

    /// The TCP port; 0 picks a free one (see [`ServerHandle::addr`]).
    pub fn port(mut self, port: u16) -> Self {
        self.config.port = port;
        self
    }

    /// Requires `AUTH password` from clients.
    pub fn requirepass(mut self, password: &str) -> Self {
        self.config.requirepass = Some(password.to_string());
        self
    }

    /// The clock every time-dependent decision reads. The default system clock can be moved
    /// too (moving it freezes it, see [`clock`]); [`Clock::manual`] starts frozen at a
    /// chosen instant.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Seeds the server's random source: RANDOMKEY, SPOP, SRANDMEMBER, HRANDFIELD,
    /// ZRANDMEMBER, eviction sampling (and scripts' `math.random`) give the same results for
    /// the same seed and the same commands (see [`rng`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Turns on the `TESTCTL` command (`enable-test-controls yes`), so clients in the test
    /// can move the clock, reseed and inject faults over the wire (see [`testctl`]). The
    /// in-process controls work without it.
    pub fn test_controls(mut self, on: bool) -> Self {
        self.config.enable_test_controls = on;
        self
    }

    /// Binds and serves on the current tokio runtime.
    pub async fn start(self) -> std::io::Result<ServerHandle> {
        server::start_seeded(self.config, self.clock, self.seed).await
    }

    /// Starts the server on a runtime of its own in a background thread, for synchronous
    /// tests. The server stops when the returned guard is dropped.
    pub fn start_background(self) -> std::io::Result<BackgroundServer> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("emberkv-server".into())
            .spawn(move || {
                let rt = match server::runtime(&self.config, Some(2)) {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    match self.start().await {
                        Ok(handle) => {
                            let _ = tx.send(Ok((handle.addr(), handle.shared().clone())));
                            tokio::select! {
                                _ = stop_rx => {}
                                _ = handle.stopped() => {}
                            }
                            handle.shutdown().await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        let (addr, shared) = rx
            .recv()
            .map_err(|_| std::io::Error::other("server thread ended before starting"))??;
        Ok(BackgroundServer {
            addr,
            controls: testctl::Controls::new(shared),
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A server running on its own thread and runtime, for synchronous tests.
///
/// Dropping it (or calling [`BackgroundServer::shutdown`]) stops the server the way
/// [`ServerHandle::shutdown`] does — the same stop signal: listeners close, connections
/// close, tasks end — and also waits for its thread, so the port is free afterwards.
#[derive(Debug)]
pub struct BackgroundServer {
    addr: std::net::SocketAddr,
    controls: testctl::Controls,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundServer {
    /// The first bound address (where port 0 landed).
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// `redis://host:port/` for clients.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// The server's clock (see [`ServerHandle::clock`]).
    pub fn clock(&self) -> &Clock {
        self.controls.clock()
    }

    /// Fault injection (see [`testctl::Faults`]).
    pub fn faults(&self) -> &testctl::Faults {
        self.controls.faults()
    }

    /// An owned view of the test controls, to move into other threads.
    pub fn controls(&self) -> testctl::Controls {
        self.controls.clone()
    }

    /// Database `index`, read and written without a client (see [`testctl::DbAccess`]).
    pub fn db(&self, index: usize) -> testctl::DbAccess {
        self.controls.db(index)
    }

    /// Empties every database.
    pub fn flushall(&self) {
        self.controls.flushall()
    }

    /// Commands processed so far (INFO `total_commands_processed`).
    pub fn commands_processed(&self) -> u64 {
        self.controls.commands_processed()
    }

    /// Open client connections (INFO `connected_clients`).
    pub fn connected_clients(&self) -> usize {
        self.controls.connected_clients()
    }

    /// The server's shared state (keyspace, configuration, clients).
    pub fn shared(&self) -> &std::sync::Arc<shared::Shared> {
        self.controls.shared()
    }

    /// The propagation stream (see [`ServerHandle::propagation`]).
    pub fn propagation(&self) -> &storage::Propagation {
        &self.shared().keyspace.propagation
    }

    /// Stops the server and waits for its thread (what dropping it does).
    pub fn shutdown(self) {}
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
