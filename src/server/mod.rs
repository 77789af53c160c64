//! The network side: listeners, the per-connection task, background jobs and shutdown.
//!
//! [`start`] binds every `bind` address on `port` (0 = an ephemeral port), spawns the accept
//! loops and the active-expiry task on the current tokio runtime, and returns a
//! [`ServerHandle`] with the bound addresses and a way to stop. [`run`] is what the binary
//! calls: start, then wait for SIGINT/SIGTERM or SHUTDOWN.
//!
//! # AOF
//! With `appendonly yes`, [`start`] loads the append-only file after the listeners are up
//! (clients connecting meanwhile get `-LOADING`, INFO shows `loading:1`) and returns once it
//! is loaded — or fails with the loader's error (corrupt file, missing file…). The cron
//! checks the automatic rewrite; [`ServerHandle::shutdown`] flushes and fsyncs the AOF after
//! the listeners stop (SHUTDOWN, NOSAVE included, and SIGTERM take that path). [`run`]
//! changes the working directory to `dir` first, as Redis does, so relative paths behave
//! the same (in-process servers keep the working directory and use `dir` as an absolute
//! prefix instead).

mod conn;
pub mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::{AppendFsync, Config};
use crate::shared::Shared;
use crate::testctl::Controls;

/// Periodic tasks (active expiry, stats sampling) run this often (Redis's default `hz 10`).
const EXPIRE_PERIOD: Duration = Duration::from_millis(100);
/// Keys one shard may expire per pass before the task yields and goes again.
const EXPIRE_BATCH: usize = 200;

/// A running server on the current tokio runtime.
///
/// Dropping the handle stops the server: the listeners close and every connection is told
/// to close, exactly as [`ServerHandle::shutdown`] does — only without waiting for the tasks
/// to finish (a destructor cannot await). Call `shutdown().await` to know they are done.
/// [`crate::BackgroundServer`] goes through the same stop signal.
///
/// The test controls (see [`crate::testctl`]) are here as shortcuts — [`clock`],
/// [`faults`], [`db`], [`flushall`], [`commands_processed`], [`connected_clients`] — and as
/// an owned [`Controls`] from [`ServerHandle::controls`].
///
/// [`clock`]: ServerHandle::clock
/// [`faults`]: ServerHandle::faults
/// [`db`]: ServerHandle::db
/// [`flushall`]: ServerHandle::flushall
/// [`commands_processed`]: ServerHandle::commands_processed
/// [`connected_clients`]: ServerHandle::connected_clients
pub struct ServerHandle {
    addrs: Vec<SocketAddr>,
    /// Where `/metrics` is served (`metrics-port`), if on.
    metrics_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addrs", &self.addrs)
            .finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// The first bound address (where `--port 0` landed).
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// Every bound address (one per `bind` entry).
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// Where `GET /metrics` is served, when `metrics-port` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// `redis://host:port/` for clients, as [`crate::BackgroundServer::url`].
    pub fn url(&self) -> String {
        format!("redis://{}/", self.addr())
    }

    /// The clock the server reads; moving it freezes it there (see [`crate::clock`]):
    /// `server.clock().advance_by(Duration::from_secs(3601))` expires a one-hour TTL.
    pub fn clock(&self) -> &Clock {
        self.shared.clock()
    }

    /// Fault injection (see [`crate::testctl::Faults`]).
    pub fn faults(&self) -> &crate::testctl::Faults {
        &self.shared.faults
    }

    /// An owned view of the test controls, to move into other tasks or threads.
    pub fn controls(&self) -> Controls {
        Controls::new(self.shared.clone())
    }

    /// Database `index`, read and written without a client (see
    /// [`crate::testctl::DbAccess`]).
    pub fn db(&self, index: usize) -> crate::testctl::DbAccess {
        self.controls().db(index)
    }

    /// Empties every database.
    pub fn flushall(&self) {
        self.controls().flushall()
    }

    /// Commands processed so far (INFO `total_commands_processed`).
    pub fn commands_processed(&self) -> u64 {
        self.controls().commands_processed()
    }

    /// Open client connections (INFO `connected_clients`).
    pub fn connected_clients(&self) -> usize {
        self.shared.clients.len()
    }

    /// The server's shared state (keyspace, configuration, clients), for in-process tests.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// The propagation stream: every write in the deterministic form a replica or an
    /// append-only file replays. Call `set_enabled(true)` to start recording, then `drain()`.
    pub fn propagation(&self) -> &crate::storage::Propagation {
        &self.shared.keyspace.propagation
    }

    /// Resolves when a client ran SHUTDOWN or [`ServerHandle::shutdown`] was called.
    pub async fn stopped(&self) {
        let mut rx = self.stop.subscribe();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Stops accepting, closes every connection and waits for the tasks to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.drain(..) {
            let _ = t.await;
        }
        self.shared.aof.shutdown(&self.shared);
    }
}

/// Builds the tokio runtime a server runs on (the binary's and
/// [`crate::ServerBuilder::start_background`]'s): `workers` worker threads (`None`: one per
/// core), or a single one when `config` starts with `appendonly yes` and `appendfsync
/// always` — one event loop, as Redis's, sees every client's request before it sleeps, so
/// its end-of-loop AOF pass covers them all with one fsync (see `crate::aof`, "The writer
/// and the fsync policies", for the measurements). Workers run [`crate::aof::end_of_loop`]
/// before they sleep.
pub fn runtime(
    config: &Config,
    workers: Option<usize>,
) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    let always = config.appendonly && config.appendfsync == AppendFsync::Always;
    let workers = if always { Some(1) } else { workers };
    if let Some(n) = workers {
        builder.worker_threads(n);
    }
    builder
        .on_thread_park(crate::aof::end_of_loop)
        .enable_all()
        .build()
}

/// Binds and starts serving on the current tokio runtime.
pub async fn start(config: Config, clock: Clock) -> std::io::Result<ServerHandle> {
    start_seeded(config, clock, None).await
}

/// [`start`] with the random source seeded (see [`crate::rng`]).
pub async fn start_seeded(
    config: Config,
    clock: Clock,
    seed: Option<u64>,
) -> std::io::Result<ServerHandle> {
    let port = config.port;
    let binds = config.bind.clone();
    let shared = Arc::new(Shared::with_seed(config, clock, seed));
    shared.aof.hold_clients_until_loaded(&shared.config.read());
    let (stop, stop_rx) = watch::channel(false);

    let mut listeners = Vec::new();
    let mut chosen_port = port;
    for b in &binds {
        let (optional, host) = match b.strip_prefix('-') {
            Some(h) => (true, h),
            None => (false, b.as_str()),
        };
        let host = if host == "*" { "0.0.0.0" } else { host };
        let addr = if host.contains(':') {
            format!("[{host}]:{chosen_port}")
        } else {
            format!("{host}:{chosen_port}")
        };
        match TcpListener::bind(&addr).await {
            Ok(l) => {
                // With port 0, every further address shares the port the first one got.
                if chosen_port == 0 {
                    chosen_port = l.local_addr()?.port();
                }
                listeners.push(l);
            }
            Err(e) if optional => tracing::warn!("skipping optional bind {addr}: {e}"),
            Err(e) => {
                return Err(std::io::Error::new(
                    e.kind(),
                    format!("could not bind {addr}: {e}"),
                ))
            }
        }
    }
    if listeners.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            "no address to listen on",
        ));
    }
    let addrs: Vec<SocketAddr> = listeners
        .iter()
        .map(|l| l.local_addr())
        .collect::<Result<_, _>>()?;
    *shared.listen_addrs.write() = addrs.clone();

    let mut tasks = Vec::new();
    for l in listeners {
        tasks.push(tokio::spawn(accept_loop(
            l,
            shared.clone(),
            stop_rx.clone(),
        )));
    }
    let metrics_port = shared.config.read().metrics_port;
    let mut metrics_addr = None;
    if metrics_port != 0 {
        let l = metrics::bind(&shared, metrics_port).await.map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("could not bind metrics-port {metrics_port}: {e}"),
            )
        })?;
        metrics_addr = Some(l.local_addr()?);
        tasks.push(tokio::spawn(metrics::serve(
            l,
            shared.clone(),
            stop_rx.clone(),
        )));
    }
    tasks.push(tokio::spawn(cron(shared.clone(), stop_rx.clone())));
    tasks.push(tokio::spawn(shutdown_watch(
        shared.clone(),
        stop.clone(),
        stop_rx.clone(),
    )));
    // Load (and open) the AOF while the listeners already answer `-LOADING`.
    let aof_shared = shared.clone();
    let opened = tokio::task::spawn_blocking(move || aof_shared.aof.start(&aof_shared))
        .await
        .unwrap_or_else(|e| Err(format!("AOF loading panicked: {e}")));
    if let Err(e) = opened {
        let _ = stop.send(true);
        for t in tasks {
            let _ = t.await;
        }
        return Err(std::io::Error::other(e));
    }
    Ok(ServerHandle {
        addrs,
        metrics_addr,
        shared,
        stop,
        tasks,
    })
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            res = listener.accept() => match res {
                Ok((socket, peer)) => {
                    if shared.faults.armed() & crate::testctl::REFUSE != 0 && shared.faults.refusing() {
                        // An injected refusal: reset the connection at once.
                        let _ = socket.set_zero_linger();
                        drop(socket);
                        continue;
                    }
                    let _ = socket.set_nodelay(true);
                    tokio::spawn(conn::serve(socket, peer, shared.clone(), stop.clone()));
                }
                Err(e) => {
                    // Out of file descriptors and similar: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

/// Periodic work, ten times a second: active expiry and the samples INFO reports.
async fn cron(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(EXPIRE_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                shared.sample_ops();
                crate::memory::used_memory();
                shared.aof.cron(&shared);
                if shared.aof.loading() {
                    // Nothing expires while the dataset loads (as Redis's `keyIsExpired`).
                    continue;
                }
                // Keep going while shards report more due keys, yielding between passes;
                // not while a script holds the shards (see `crate::scripting`).
                let expiring = shared.ops.active_expire.load(std::sync::atomic::Ordering::Relaxed);
                for _ in 0..16 {
                    if !expiring || shared.scripting.running() {
                        break;
                    }
                    let (_, more, events) = shared.keyspace.active_expire(EXPIRE_BATCH);
                    shared.publish_events(events);
                    if !more {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// Turns a SHUTDOWN command into the stop signal.
/// Turns SHUTDOWN's notification into the stop signal, and ends when the server stops.
/// `rx` is made before the task is spawned: a receiver subscribed inside the task would
/// miss a stop sent before the task first ran (a start that failed while loading), and the
/// start would then wait for this task forever.
async fn shutdown_watch(
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    mut rx: watch::Receiver<bool>,
) {
    if *rx.borrow_and_update() {
        return;
    }
    tokio::select! {
        _ = shared.shutdown.notified() => { let _ = stop.send(true); }
        _ = rx.changed() => {}
    }
}

/// Runs a server until SIGINT, SIGTERM or SHUTDOWN: what the `emberkv` binary does.
pub async fn run(config: Config) -> std::io::Result<()> {
    // As Redis: persistence files are relative to `dir`.
    if let Err(e) = std::env::set_current_dir(&config.dir) {
        return Err(std::io::Error::new(
            e.kind(),
            format!("Can't chdir to '{}': {e}", config.dir.display()),
        ));
    }
    let handle = start(config, Clock::system()).await?;
    for a in handle.addrs() {
        // One machine-readable line per listener: tests started with `--port 0` read the
        // port from it (`port=(\d+)`).
        tracing::info!(
            "Ready to accept connections on {a} addr={a} port={} pid={}",
            a.port(),
            std::process::id()
        );
    }
    tokio::select! {
        _ = signal_received() => tracing::info!("Received signal, shutting down"),
        _ = handle.stopped() => tracing::info!("SHUTDOWN requested"),
    }
    handle.shutdown().await;
    tracing::info!("emberkv is now ready to exit, bye bye...");
    Ok(())
}

#[cfg(unix)]
async fn signal_received() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(not(unix))]
async fn signal_received() {
    let _ = tokio::signal::ctrl_c().await;
}
