//! One client's state: selected database, protocol version, authentication, name, reply mode,
//! subscriptions — and the way to reach a client from outside its own connection.
//!
//! [`Session`] is owned by the connection task and handed to commands; [`ClientHandle`] is the
//! part other connections can see (CLIENT LIST, CLIENT KILL, PUBLISH) and lives in the
//! registry.
//!
//! For the statistics (`crate::ops`) a session carries `stat_mark`, when its current command
//! started, and `in_script`, which a script engine sets so MONITOR shows its commands at
//! `lua`; the handle carries `last_cmd`, the table id of the last command (CLIENT LIST
//! `cmd=`), an atomic so that admitting a command takes no lock.
//!
//! # Reaching a connection from outside: the outbox
//!
//! Every [`ClientHandle`] has an [`Outbox`]: a queue of [`Outbound`] items guarded by a
//! `parking_lot` mutex, a byte count, and a [`Notify`] the connection task selects on beside
//! its socket. This is THE mechanism for anything that must reach a client from another task:
//! pub/sub messages, the reply of a blocked command served by another client's write
//! ([`crate::blocking`]), CLIENT UNBLOCK; client-side-caching invalidations and the like
//! later.
//!
//! * **Pushing never blocks or awaits.** [`ClientHandle::push`] appends a frame already
//!   encoded in the client's protocol ([`ClientHandle::resp3`] tells which; RESP3 out-of-band
//!   data is a `>` push frame, RESP2 an array), or [`Outbound::Wake`] to nudge the task
//!   without data. It takes the outbox lock for a few instructions and notifies. A publisher
//!   never waits for a subscriber, and never writes a socket.
//! * **Output limits are checked at push time**, on the pusher's side, against
//!   [`OutputPolicy`] (a cached copy of `client-output-buffer-limit`, refreshed by
//!   `Shared::apply_config`). Pending output = queued outbox bytes + the reply bytes the
//!   connection is currently writing ([`Outbox::set_inflight`]). Over the hard limit, or over
//!   the soft limit for longer than its seconds, the queue is dropped at once (memory freed)
//!   and the client is killed: its task sees [`ClientHandle::killed`] resolve — even while
//!   it is stuck writing to a full socket — and closes. The class is `pubsub` while the
//!   client has subscriptions, `normal` otherwise.
//! * **Delivery**: the connection task drains the queue into its write buffer (in chunks) and
//!   writes it. It also drains before each reply it encodes, so a message pushed to a client
//!   by its own command (PUBLISH to itself in RESP3) comes out before that command's reply,
//!   as in Redis.
//! * **Kill** ([`ClientHandle::kill`]) preempts the queue: it empties it and wakes the task,
//!   which closes without writing what was pending.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::config::{OutputLimit, OBUF_NORMAL, OBUF_PUBSUB};
use crate::protocol::Reply;

/// Whether replies are sent (CLIENT REPLY).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyMode {
    /// Every command is answered (the default).
    On,
    /// No replies until CLIENT REPLY ON.
    Off,
    /// Skip the reply of the next command only.
    Skip,
}

/// The per-connection state commands read and change.
#[derive(Debug)]
pub struct Session {
    /// The client id (CLIENT ID), unique for the server's lifetime.
    pub id: u64,
    /// The selected database (SELECT).
    pub db: usize,
    /// Whether the client speaks RESP3 (HELLO 3); RESP2 otherwise.
    pub resp3: bool,
    /// Whether the client may run commands: AUTH succeeded, or no password is required.
    pub authenticated: bool,
    /// CLIENT REPLY's setting.
    pub reply_mode: ReplyMode,
    /// Set by CLIENT REPLY SKIP for the command after it.
    pub skip_next: bool,
    /// Close the connection once pending replies are written (QUIT, protocol errors).
    pub close_after_reply: bool,
    /// CLIENT NO-TOUCH (mirrored in the handle for CLIENT LIST).
    pub no_touch: bool,
    /// Channels, patterns and shard channels this client is subscribed to (the registry in
    /// [`crate::pubsub`] holds the other direction).
    pub subs: Subscriptions,
    /// The part of this client other tasks see (CLIENT LIST, CLIENT KILL, PUBLISH).
    pub handle: std::sync::Arc<ClientHandle>,
    /// Commands queued since MULTI; `None` outside a transaction.
    pub multi: Option<Multi>,
    /// Set by a blocking command that found nothing to pop (see [`crate::blocking`]): the
    /// connection then waits instead of running the rest of its pipeline.
    pub blocked: Option<std::sync::Arc<crate::blocking::Waiter>>,
    /// Whether a blocking command may block now, or must answer as its non-blocking form.
    pub block_mode: BlockMode,
    /// Set in [`BlockMode::Serving`] by a blocking command that still found nothing.
    pub unserved: bool,
    /// True while EXEC runs the queued commands: replies that would otherwise go through the
    /// outbox (SUBSCRIBE confirmations) are returned inline, as Redis writes them inside
    /// EXEC's reply.
    pub in_exec: bool,
    /// In MONITOR mode: every command run by anyone is fed to this client's outbox, and it
    /// may no longer run commands that touch the keyspace.
    pub monitor: bool,
    /// When this client's current command started, as a raw [`crate::ops::ticks`] reading:
    /// the end of its previous command, or when the connection read its batch. `run` reads
    /// the clock once per command and moves this mark (see [`crate::ops`]).
    pub stat_mark: u64,
    /// Set by a script engine while a script's commands run through `commands::run`:
    /// MONITOR then shows them at the address `lua`, as Redis does.
    pub in_script: bool,
    /// A command that could not run because a script holds the server: its argv and
    /// whether it must wait for the script's end (`true`) or only until the script turns
    /// busy. The connection waits asynchronously and runs it again (see `crate::scripting`).
    pub deferred: Option<(Vec<Bytes>, bool)>,
    /// Keys this client WATCHes, as `(db, key)`.
    pub watched: Vec<(usize, Bytes)>,
    /// Set (under the key's shard lock) by any write to a watched key; EXEC then aborts.
    pub watch_dirty: std::sync::Arc<AtomicBool>,
}

/// What a blocking command does when nothing can serve it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockMode {
    /// Block (a plain client request).
    Block,
    /// Answer at once as the non-blocking form would (inside EXEC, later scripts).
    NoBlock,
    /// The command is being run again to serve a blocked client: when nothing can serve it
    /// yet, it stays blocked as it was.
    Serving,
}

/// A transaction being queued (MULTI … EXEC).
#[derive(Debug, Default)]
pub struct Multi {
    /// The queued requests, in order, as sent.
    pub queue: Vec<Vec<Bytes>>,
    /// A command was rejected while queuing (unknown, wrong arity…): EXEC answers EXECABORT.
    pub failed: bool,
    /// A queued command is flagged `denyoom`: EXEC is refused when over `maxmemory`.
    pub denyoom: bool,
}

/// One client's subscriptions.
#[derive(Debug, Default)]
pub struct Subscriptions {
    /// Channels (SUBSCRIBE).
    pub channels: HashSet<Bytes>,
    /// Patterns (PSUBSCRIBE).
    pub patterns: HashSet<Bytes>,
    /// Shard channels (SSUBSCRIBE).
    pub shard_channels: HashSet<Bytes>,
}

impl Subscriptions {
    /// Channels + patterns: the count SUBSCRIBE/PSUBSCRIBE confirmations report.
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// Every subscription, shard channels included: nonzero means "subscribed mode".
    pub fn total(&self) -> usize {
        self.count() + self.shard_channels.len()
    }
}

impl Session {
    /// A fresh session for a new connection: database 0, RESP2, replies on, no subscriptions.
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
            subs: Subscriptions::default(),
            handle,
            multi: None,
            blocked: None,
            block_mode: BlockMode::Block,
            unserved: false,
            in_exec: false,
            monitor: false,
            stat_mark: crate::ops::ticks(),
            in_script: false,
            deferred: None,
            watched: Vec::new(),
            watch_dirty: std::sync::Arc::new(AtomicBool::new(false)),
        }
    }

    /// RESP2 clients with subscriptions may only run (P|S)(UN)SUBSCRIBE, PING, QUIT, RESET.
    #[inline]
    pub fn in_subscribed_mode(&self) -> bool {
        !self.resp3 && self.subs.total() > 0
    }

    /// Mirrors the subscription counts into the handle (CLIENT LIST, output-limit class).
    pub fn sync_subs(&self) {
        let h = &self.handle;
        h.sub.store(self.subs.channels.len(), Ordering::Relaxed);
        h.psub.store(self.subs.patterns.len(), Ordering::Relaxed);
        h.ssub
            .store(self.subs.shard_channels.len(), Ordering::Relaxed);
    }

    /// Locks and returns this client's CLIENT LIST data.
    pub fn meta(&self) -> parking_lot::MutexGuard<'_, ClientMeta> {
        self.handle.meta.lock()
    }

    /// Mirrors the transaction state into CLIENT LIST's `multi` (queued commands, -1 outside
    /// MULTI) and `watch` fields.
    pub fn sync_tx_meta(&self) {
        let mut m = self.handle.meta.lock();
        m.multi = self.multi.as_ref().map_or(-1, |q| q.queue.len() as i64);
        m.watch = self.watched.len();
    }

    /// Selects database `db` (SELECT), also for CLIENT LIST.
    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.handle.meta.lock().db = db;
    }

    /// Switches between RESP3 and RESP2 (HELLO), also for pushes and CLIENT LIST.
    pub fn set_resp3(&mut self, resp3: bool) {
        self.resp3 = resp3;
        self.handle.resp3.store(resp3, Ordering::Relaxed);
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
    /// CLIENT SETNAME's name (CLIENT LIST `name`); `None` until set.
    pub name: Option<Bytes>,
    /// CLIENT SETINFO LIB-NAME (CLIENT LIST `lib-name`).
    pub lib_name: Option<Bytes>,
    /// CLIENT SETINFO LIB-VER (CLIENT LIST `lib-ver`).
    pub lib_ver: Option<Bytes>,
    /// The selected database (CLIENT LIST `db`).
    pub db: usize,
    /// The protocol version, 2 or 3 (CLIENT LIST `resp`).
    pub resp: u8,
    /// Time of the last command, ms.
    pub last_active_ms: u64,
    /// CLIENT NO-EVICT (CLIENT LIST flag `e`).
    pub no_evict: bool,
    /// CLIENT NO-TOUCH (CLIENT LIST flag `T`).
    pub no_touch: bool,
    /// Bytes in the query buffer (CLIENT LIST `qbuf`).
    pub query_buf: usize,
    /// Free bytes in the query buffer (CLIENT LIST `qbuf-free`).
    pub query_buf_free: usize,
    /// Reply-buffer bytes, counted in CLIENT LIST `tot-mem`.
    pub out_buf: usize,
    /// Bytes of the arguments of the command being run (CLIENT LIST `argv-mem`).
    pub argv_mem: usize,
    /// Commands queued by MULTI, -1 outside a transaction (CLIENT LIST `multi`).
    pub multi: i64,
    /// Keys WATCHed (CLIENT LIST `watch`, where the version prints it).
    pub watch: usize,
    /// Blocked in BLPOP and friends (CLIENT LIST flag `b`).
    pub blocked: bool,
    /// In MONITOR mode (CLIENT LIST flag `O`).
    pub monitor: bool,
}

/// A client as the registry holds it.
#[derive(Debug)]
pub struct ClientHandle {
    /// The client id (CLIENT ID).
    pub id: u64,
    /// The peer's address, `ip:port` (CLIENT LIST `addr`).
    pub addr: String,
    /// The local address the client connected to, `ip:port` (CLIENT LIST `laddr`).
    pub laddr: String,
    /// The socket's file descriptor (CLIENT LIST `fd`), -1 where there is none.
    pub fd: i64,
    /// When the connection was accepted, in the server clock's milliseconds (CLIENT LIST `age`).
    pub created_ms: u64,
    /// What CLIENT LIST shows, under a lock.
    pub meta: Mutex<ClientMeta>,
    /// The table id (`CommandSpec::id`) of the last command run (CLIENT LIST `cmd`), kept
    /// outside `meta` so admitting a command takes no lock; `u16::MAX` before the first.
    pub last_cmd: AtomicU16,
    /// What other tasks send this client; see the module docs.
    pub outbox: Outbox,
    /// The protocol frames pushed to this client must be encoded in.
    resp3: AtomicBool,
    /// Subscription counts (mirrors of [`Session::subs`]).
    pub sub: AtomicUsize,
    /// Pattern subscriptions.
    pub psub: AtomicUsize,
    /// Shard-channel subscriptions.
    pub ssub: AtomicUsize,
    killed: AtomicBool,
    kill_notify: Notify,
}

impl ClientHandle {
    /// A handle for a new connection, created at `now_ms`.
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
                last_active_ms: now_ms,
                no_evict: false,
                no_touch: false,
                query_buf: 0,
                query_buf_free: 0,
                out_buf: 0,
                argv_mem: 0,
                multi: -1,
                watch: 0,
                blocked: false,
                monitor: false,
            }),
            last_cmd: AtomicU16::new(u16::MAX),
            outbox: Outbox::default(),
            resp3: AtomicBool::new(false),
            sub: AtomicUsize::new(0),
            psub: AtomicUsize::new(0),
            ssub: AtomicUsize::new(0),
            killed: AtomicBool::new(false),
            kill_notify: Notify::new(),
        }
    }

    /// Asks the client's connection to close (CLIENT KILL, output limits). What was queued
    /// for it is dropped now; the connection task closes as soon as it is woken.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.outbox.clear();
        self.kill_notify.notify_one();
    }

    /// Whether frames pushed to this client must be RESP3.
    #[inline]
    pub fn resp3(&self) -> bool {
        self.resp3.load(Ordering::Relaxed)
    }

    /// Whether the client has any subscription (its output-limit class is then `pubsub`).
    pub fn is_pubsub(&self) -> bool {
        self.sub.load(Ordering::Relaxed)
            + self.psub.load(Ordering::Relaxed)
            + self.ssub.load(Ordering::Relaxed)
            > 0
    }

    /// Queues an item for the connection and wakes it; never blocks. Returns false when the
    /// item was not queued: the client is closing, or this push took it over its output
    /// limit (it is then killed, its queue freed, and the event logged as Redis does).
    pub fn push(&self, item: Outbound, policy: &OutputPolicy) -> bool {
        if self.is_killed() {
            return false;
        }
        let class = if self.is_pubsub() {
            OBUF_PUBSUB
        } else {
            OBUF_NORMAL
        };
        let limit = policy.limit(class);
        let verdict = self.outbox.push(item, &limit, policy);
        if verdict {
            return true;
        }
        let name = self
            .meta
            .lock()
            .name
            .as_ref()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        tracing::warn!(
            "Client id={} addr={} laddr={} fd={} name={} scheduled to be closed ASAP for overcoming of output buffer limits.",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            name
        );
        self.kill();
        false
    }

    /// Encodes `reply` in this client's protocol and pushes it (see [`ClientHandle::push`]).
    pub fn push_reply(&self, reply: &Reply, policy: &OutputPolicy) -> bool {
        let mut out = bytes::BytesMut::new();
        reply.encode(&mut out, self.resp3());
        self.push(Outbound::Frame(out.freeze()), policy)
    }

    /// Whether [`ClientHandle::kill`] was called.
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

/// One item in a client's [`Outbox`].
#[derive(Debug, Clone)]
pub enum Outbound {
    /// Bytes to write as they are: a frame already encoded in the client's protocol
    /// (pub/sub messages are encoded once per protocol and shared by every subscriber).
    Frame(Bytes),
    /// No data: wakes the connection task so it re-checks its own state (e.g. a blocked
    /// command whose key became ready).
    Wake,
}

/// What a connection task found when it drained its outbox.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Bytes appended to the write buffer.
    pub bytes: usize,
    /// Whether an [`Outbound::Wake`] was among the items.
    pub woken: bool,
    /// Whether items are left (the chunk limit was reached).
    pub more: bool,
}

/// A client's queue of outbound items; see the [module docs](self).
#[derive(Debug, Default)]
pub struct Outbox {
    state: Mutex<OutboxState>,
    /// Queued bytes, readable without the lock (the request loop checks it per command).
    queued: AtomicUsize,
    /// Bytes the connection is writing right now (its unflushed replies).
    inflight: AtomicUsize,
    notify: Notify,
}

#[derive(Debug, Default)]
struct OutboxState {
    items: VecDeque<Outbound>,
    bytes: usize,
    /// When pending output first went over the soft limit (ms), while it stays over.
    soft_since: Option<u64>,
}

impl Outbox {
    /// Appends `item` unless that takes pending output over `limit`; false then (the
    /// queue is left to the caller to drop).
    fn push(&self, item: Outbound, limit: &OutputLimit, policy: &OutputPolicy) -> bool {
        let size = match &item {
            Outbound::Frame(b) => b.len(),
            Outbound::Wake => 0,
        };
        {
            let mut st = self.state.lock();
            let pending = (st.bytes + size + self.inflight.load(Ordering::Relaxed)) as u64;
            if limit.hard > 0 && pending > limit.hard {
                return false;
            }
            if limit.soft > 0 && pending > limit.soft {
                let now = policy.clock.now_ms();
                let since = *st.soft_since.get_or_insert(now);
                if now.saturating_sub(since) >= limit.soft_seconds * 1000 {
                    return false;
                }
            } else {
                st.soft_since = None;
            }
            st.items.push_back(item);
            st.bytes += size;
            self.queued.store(st.bytes, Ordering::Relaxed);
        }
        self.notify.notify_one();
        true
    }

    /// Drops everything queued.
    pub fn clear(&self) {
        let items = {
            let mut st = self.state.lock();
            st.bytes = 0;
            st.soft_since = None;
            self.queued.store(0, Ordering::Relaxed);
            std::mem::take(&mut st.items)
        };
        // Freed outside the lock.
        drop(items);
    }

    /// Whether anything is queued (cheap: one atomic load).
    #[inline]
    pub fn has_queued(&self) -> bool {
        self.queued.load(Ordering::Relaxed) > 0
    }

    /// Queued bytes and items (CLIENT LIST `omem`, `oll`).
    pub fn stats(&self) -> (usize, usize) {
        let st = self.state.lock();
        (st.bytes, st.items.len())
    }

    /// Pending output: queued plus being written (INFO `client_recent_max_output_buffer`).
    pub fn pending(&self) -> usize {
        self.queued.load(Ordering::Relaxed) + self.inflight.load(Ordering::Relaxed)
    }

    /// Bytes the connection is writing now (CLIENT LIST `obl`).
    pub fn inflight(&self) -> usize {
        self.inflight.load(Ordering::Relaxed)
    }

    /// Records how many reply bytes the connection is writing (0 once written), so pushes
    /// count them against the output limit.
    #[inline]
    pub fn set_inflight(&self, n: usize) {
        self.inflight.store(n, Ordering::Relaxed);
    }

    /// A future that resolves when something is pushed (or was pushed since the last
    /// drain). Create it once and re-create it after it fires.
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// Moves queued frames into `out`, stopping once `out` holds `max` bytes.
    pub fn drain_into(&self, out: &mut bytes::BytesMut, max: usize) -> Drained {
        let mut d = Drained::default();
        let mut st = self.state.lock();
        while out.len() < max {
            let Some(item) = st.items.pop_front() else {
                break;
            };
            match item {
                Outbound::Frame(b) => {
                    st.bytes -= b.len();
                    d.bytes += b.len();
                    out.extend_from_slice(&b);
                }
                Outbound::Wake => d.woken = true,
            }
        }
        d.more = !st.items.is_empty();
        if st.items.is_empty() {
            st.soft_since = None;
        }
        self.queued.store(st.bytes, Ordering::Relaxed);
        d
    }
}

/// The `client-output-buffer-limit` classes as pushes read them: a copy of the config kept
/// in atomics (refreshed by `Shared::apply_config`), plus the clock soft limits are timed
/// with.
#[derive(Debug, Default)]
pub struct OutputPolicy {
    limits: [[AtomicU64; 3]; 3],
    clock: Clock,
}

impl OutputPolicy {
    /// A policy with these limits (normal, replica, pubsub), timing soft limits with `clock`.
    pub fn new(limits: &[OutputLimit; 3], clock: Clock) -> Self {
        let p = OutputPolicy {
            clock,
            ..OutputPolicy::default()
        };
        p.set(limits);
        p
    }

    /// Copies the configured limits in.
    pub fn set(&self, limits: &[OutputLimit; 3]) {
        for (slot, l) in self.limits.iter().zip(limits) {
            slot[0].store(l.hard, Ordering::Relaxed);
            slot[1].store(l.soft, Ordering::Relaxed);
            slot[2].store(l.soft_seconds, Ordering::Relaxed);
        }
    }

    /// The limit of class `class` (`OBUF_NORMAL`, `OBUF_REPLICA`, `OBUF_PUBSUB`).
    pub fn limit(&self, class: usize) -> OutputLimit {
        let slot = &self.limits[class];
        OutputLimit {
            hard: slot[0].load(Ordering::Relaxed),
            soft: slot[1].load(Ordering::Relaxed),
            soft_seconds: slot[2].load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle() -> ClientHandle {
        ClientHandle::new(1, "a".into(), "l".into(), -1, 0)
    }

    #[test]
    fn outbox_drains_in_chunks_and_reports_wakes() {
        let h = handle();
        let policy = OutputPolicy::default();
        for _ in 0..3 {
            assert!(h.push(Outbound::Frame(Bytes::from_static(b"+12345\r\n")), &policy));
        }
        assert!(h.push(Outbound::Wake, &policy));
        assert!(h.outbox.has_queued());
        assert_eq!(h.outbox.stats(), (24, 4));
        let mut out = bytes::BytesMut::new();
        let d = h.outbox.drain_into(&mut out, 10);
        assert_eq!((d.bytes, d.woken, d.more), (16, false, true));
        let d = h.outbox.drain_into(&mut out, usize::MAX);
        assert_eq!((d.bytes, d.woken, d.more), (8, true, false));
        assert!(!h.outbox.has_queued());
        assert_eq!(out.len(), 24);
    }

    #[test]
    fn kill_drops_the_queue_and_refuses_more() {
        let h = handle();
        let policy = OutputPolicy::default();
        assert!(h.push_reply(&Reply::Int(1), &policy));
        h.kill();
        assert_eq!(h.outbox.stats(), (0, 0));
        assert!(!h.push_reply(&Reply::Int(2), &policy));
        assert!(h.is_killed());
    }

    #[test]
    fn unflushed_replies_count_against_the_limit() {
        let lim = OutputLimit {
            hard: 100,
            soft: 0,
            soft_seconds: 0,
        };
        let policy = OutputPolicy::new(&[lim, lim, lim], Clock::manual(0));
        let h = handle();
        h.outbox.set_inflight(95);
        assert!(!h.push(Outbound::Frame(Bytes::from_static(b"+123456\r\n")), &policy));
        assert!(h.is_killed());
    }
}
