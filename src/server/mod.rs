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

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Config;
use crate::shared::Shared;

/// Periodic tasks (active expiry, stats sampling) run this often (Redis's default `hz 10`).
const EXPIRE_PERIOD: Duration = Duration::from_millis(100);
/// Keys one shard may expire per pass before the task yields and goes again.
const EXPIRE_BATCH: usize = 200;

/// A running server.
pub struct ServerHandle {
    addrs: Vec<SocketAddr>,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl ServerHandle {
    /// The first bound address (where `--port 0` landed).
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The clock the server reads; a manual clock can be advanced by tests.
    pub fn clock(&self) -> &Clock {
        self.shared.clock()
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

/// Binds and starts serving on the current tokio runtime.
pub async fn start(config: Config, clock: Clock) -> std::io::Result<ServerHandle> {
    let port = config.port;
    let binds = config.bind.clone();
    let shared = Arc::new(Shared::new(config, clock));
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
    tasks.push(tokio::spawn(cron(shared.clone(), stop_rx.clone())));
    tasks.push(tokio::spawn(shutdown_watch(shared.clone(), stop.clone())));
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
                // Keep going while shards report more due keys, yielding between passes.
                for _ in 0..16 {
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
async fn shutdown_watch(shared: Arc<Shared>, stop: watch::Sender<bool>) {
    let mut rx = stop.subscribe();
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
        tracing::info!("Ready to accept connections on {a}");
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
