//! One client's state: selected database, protocol version, authentication, name, reply mode.
//!
//! [`Session`] is owned by the connection task and handed to commands; [`ClientHandle`] is the
//! part other connections can see (CLIENT LIST, CLIENT KILL) and lives in the registry.

use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

/// Whether replies are sent (CLIENT REPLY).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
}

/// The per-connection state commands read and change.
#[derive(Debug)]
pub struct Session {
    pub id: u64,
    pub db: usize,
    pub resp3: bool,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    /// Set by CLIENT REPLY SKIP for the command after it.
    pub skip_next: bool,
    /// Close the connection once pending replies are written (QUIT, protocol errors).
    pub close_after_reply: bool,
    /// CLIENT NO-TOUCH (mirrored in the handle for CLIENT LIST).
    pub no_touch: bool,
    pub handle: std::sync::Arc<ClientHandle>,
    /// Commands queued since MULTI; `None` outside a transaction.
    pub multi: Option<Multi>,
    /// Keys this client WATCHes, as `(db, key)`.
    pub watched: Vec<(usize, Bytes)>,
    /// Set (under the key's shard lock) by any write to a watched key; EXEC then aborts.
    pub watch_dirty: std::sync::Arc<AtomicBool>,
}

/// A transaction being queued (MULTI … EXEC).
#[derive(Debug, Default)]
pub struct Multi {
    /// The queued requests, in order, as sent.
    pub queue: Vec<Vec<Bytes>>,
    /// A command was rejected while queuing (unknown, wrong arity…): EXEC answers EXECABORT.
    pub failed: bool,
}

impl Session {
    pub fn new(handle: std::sync::Arc<ClientHandle>, authenticated: bool) -> Self {
        Session {
            id: handle.id,
            db: 0,
            resp3: false,
            authenticated,
            reply_mode: ReplyMode::On,
            skip_next: false,
            close_after_reply: false,
            no_touch: false,
            handle,
            multi: None,
            watched: Vec::new(),
            watch_dirty: std::sync::Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn meta(&self) -> parking_lot::MutexGuard<'_, ClientMeta> {
        self.handle.meta.lock()
    }

    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.handle.meta.lock().db = db;
    }

    pub fn set_resp3(&mut self, resp3: bool) {
        self.resp3 = resp3;
        self.handle.meta.lock().resp = if resp3 { 3 } else { 2 };
    }

    /// Sets CLIENT NO-TOUCH: this client's reads leave keys' access time alone.
    pub fn set_no_touch(&mut self, on: bool) {
        self.no_touch = on;
        self.handle.meta.lock().no_touch = on;
    }
}

/// What CLIENT LIST shows about a client, updated as it runs.
#[derive(Debug, Clone)]
pub struct ClientMeta {
    pub name: Option<Bytes>,
    pub lib_name: Option<Bytes>,
    pub lib_ver: Option<Bytes>,
    pub db: usize,
    pub resp: u8,
    /// Full name of the last command run (`client|list`).
    pub last_cmd: &'static str,
    /// Time of the last command, ms.
    pub last_active_ms: u64,
    pub no_evict: bool,
    pub no_touch: bool,
    pub query_buf: usize,
    pub query_buf_free: usize,
    pub out_buf: usize,
}

/// A client as the registry holds it.
#[derive(Debug)]
pub struct ClientHandle {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    /// The socket's file descriptor (CLIENT LIST `fd`), -1 where there is none.
    pub fd: i64,
    pub created_ms: u64,
    pub meta: Mutex<ClientMeta>,
    killed: AtomicBool,
    kill_notify: Notify,
}

impl ClientHandle {
    pub fn new(id: u64, addr: String, laddr: String, fd: i64, now_ms: u64) -> Self {
        ClientHandle {
            id,
            addr,
            laddr,
            fd,
            created_ms: now_ms,
            meta: Mutex::new(ClientMeta {
                name: None,
                lib_name: None,
                lib_ver: None,
                db: 0,
                resp: 2,
                last_cmd: "NULL",
                last_active_ms: now_ms,
                no_evict: false,
                no_touch: false,
                query_buf: 0,
                query_buf_free: 0,
                out_buf: 0,
            }),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
        }
    }

    /// Asks the client's connection to close (CLIENT KILL).
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill_notify.notify_one();
    }

    pub fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Resolves once [`ClientHandle::kill`] was called.
    pub async fn killed(&self) {
        while !self.is_killed() {
            self.kill_notify.notified().await;
        }
    }
}
