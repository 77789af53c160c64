//! # emberkv
//!
//! A Redis-compatible in-memory cache server: RESP2/RESP3 (and inline commands) over TCP,
//! 16 databases in a sharded keyspace with lazy and active expiry, and Redis 7.0's replies
//! and error texts byte for byte.
//!
//! The library runs the same server the binary does, in-process — handy in tests:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let server = emberkv::Server::builder().port(0).start().await?;
//! let url = format!("redis://{}", server.addr());
//! // ... talk to it with any Redis client ...
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - `protocol/` — request decoding (multibulk + inline), [`Reply`] encoding in RESP2/RESP3,
//!   the argument cursor and the shared error texts.
//! - `commands/` — the declarative command table and dispatch (`mod.rs`, `table.rs`, whose
//!   key specs drive locking and `COMMAND`), `COMMAND DOCS` data keyed by name (`docs.rs`),
//!   one file per family (`string.rs`, `keys.rs`, `hash.rs`, `list.rs`, `set.rs`, `zset.rs`,
//!   `sort.rs`, `bitmap.rs`, `hll.rs`, `geo.rs`, `stream.rs`,
//!   `connection.rs`, `command.rs`, `config.rs`, `transaction.rs`, `pubsub.rs`), and
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
//!   expiry, shutdown. `session.rs` is one client's state and its *outbox*, the queue through
//!   which other tasks reach a connection (pub/sub messages, served blocked pops, CLIENT
//!   UNBLOCK); `shared.rs` the server-wide state; `pubsub.rs` the subscription registry;
//!   `blocking.rs` the blocked-client registry and how a wait begins and ends; `notify.rs` the
//!   keyspace-notification classes.
//! - `aof/` — append-only file persistence in Redis 7's multi-part layout: the manifest,
//!   the writer thread and fsync policies, loading at start, and the rewrite from a
//!   point-in-time view (see its module docs).
//! - `config.rs` — redis.conf and command-line options; `clock.rs` — the injectable clock;
//!   `memory.rs` — the counting allocator behind `used_memory`.
//!
//! Data flows one way: `server` → `commands` → `storage`; no command imports `server`.

pub mod aof;
pub mod blocking;
pub mod clock;
pub mod commands;
pub mod config;
pub mod memory;
pub mod notify;
pub mod protocol;
pub mod pubsub;
pub mod server;
pub mod session;
pub mod shared;
pub mod storage;

pub use clock::Clock;
pub use config::Config;
pub use protocol::Reply;
pub use server::ServerHandle;

/// Starts servers in-process.
pub struct Server;

impl Server {
    /// A builder with the defaults of `redis-server` (port 6379 on 127.0.0.1); tests usually
    /// call `.port(0)` for an ephemeral port.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            config: Config::default(),
            clock: Clock::system(),
        }
    }
}

/// Options for an in-process server.
pub struct ServerBuilder {
    config: Config,
    clock: Clock,
}

impl ServerBuilder {
    /// Uses a whole configuration (e.g. parsed from a redis.conf). A configuration read with
    /// [`Config::from_file`] (or the command line) remembers its file in
    /// [`Config::config_file`], which CONFIG REWRITE updates.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
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

    /// The clock every expiry reads; pass [`Clock::manual`] to test TTLs without sleeping.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Binds and serves on the current tokio runtime.
    pub async fn start(self) -> std::io::Result<ServerHandle> {
        server::start(self.config, self.clock).await
    }

    /// Starts the server on a runtime of its own in a background thread, for synchronous
    /// tests. The server stops when the returned guard is dropped.
    pub fn start_background(self) -> std::io::Result<BackgroundServer> {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("emberkv-server".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
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
            shared,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A server running on its own thread; dropping it stops the server.
pub struct BackgroundServer {
    addr: std::net::SocketAddr,
    shared: std::sync::Arc<shared::Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundServer {
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// `redis://host:port/` for clients.
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    pub fn clock(&self) -> &Clock {
        self.shared.clock()
    }

    /// The server's shared state (keyspace, configuration, clients).
    pub fn shared(&self) -> &std::sync::Arc<shared::Shared> {
        &self.shared
    }

    /// The propagation stream (see [`ServerHandle::propagation`]).
    pub fn propagation(&self) -> &storage::Propagation {
        &self.shared.keyspace.propagation
    }
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
