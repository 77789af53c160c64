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
use crate::config::Config;
use crate::session::ClientHandle;
use crate::storage::Keyspace;

/// Server-wide state, one per running server.
#[derive(Debug)]
pub struct Shared {
    pub keyspace: Keyspace,
    pub config: RwLock<Config>,
    pub clients: DashMap<u64, Arc<ClientHandle>>,
    next_client_id: AtomicU64,
    pub started_ms: u64,
    pub stats: ServerStats,
    /// Set when SHUTDOWN or a signal asks the server to stop.
    pub shutdown: Notify,
    /// The addresses the listeners are bound to (CLIENT LIST `laddr`, logs).
    pub listen_addrs: RwLock<Vec<std::net::SocketAddr>>,
}

/// Counters reported by INFO.
#[derive(Debug, Default)]
pub struct ServerStats {
    pub connections_received: AtomicU64,
    pub commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
}

impl Shared {
    pub fn new(config: Config, clock: Clock) -> Self {
        let started_ms = clock.now_ms();
        Shared {
            keyspace: Keyspace::new(config.databases, clock),
            config: RwLock::new(config),
            clients: DashMap::new(),
            next_client_id: AtomicU64::new(1),
            started_ms,
            stats: ServerStats::default(),
            shutdown: Notify::new(),
            listen_addrs: RwLock::new(Vec::new()),
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
