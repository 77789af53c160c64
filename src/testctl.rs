//! Test controls: time, randomness, fault injection and direct data access, for test suites
//! that use emberkv as their Redis — from Rust in-process, and over the wire for any language.
//!
//! # What there is
//! - **Time**: the server's [`Clock`](crate::Clock). Moving it (`advance`, `set`) freezes it
//!   at the new instant; expiry (lazy and active), TTL, OBJECT IDLETIME, LRU/LFU ages,
//!   stream IDs and INFO's uptime follow it (see [`crate::clock`]).
//! - **Randomness**: one seedable source per server (see [`crate::rng`]): RANDOMKEY, SPOP,
//!   SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, eviction sampling and the LFU draw.
//! - **Faults** ([`Faults`]), each undoable:
//!   - *fail* the next N commands (optionally only those named) with a chosen error;
//!   - *delay* every reply by D (a pipelined batch is held once, as network latency would);
//!   - *stall*: connections are accepted and requests read, but nothing is answered until
//!     released (like a SIGSTOPped server; requests then run in order);
//!   - *drop* every open connection now (the CLIENT KILL path: [`ClientHandle::kill`]);
//!   - *refuse* new connections for a while (accepted and reset at once, with `SO_LINGER 0`);
//!   - *slow fsync*: every AOF fsync takes D longer, as on a busy disk (what
//!     `appendfsync always` clients and INFO's `aof_pending_bio_fsync` / `aof_delayed_fsync`
//!     then see).
//! - **Data** ([`DbAccess`]): read and write keys of every type, list keys, TTLs, FLUSHALL,
//!   command counters and connection counts, without a client.
//!
//! # From Rust
//! [`ServerHandle`](crate::ServerHandle) and [`BackgroundServer`](crate::BackgroundServer)
//! both give [`Controls`] (`handle.controls()`, an owned, cloneable view) and the shortcuts
//! `clock()`, `faults()`, `db(n)`, `flushall()`, `commands_processed()`,
//! `connected_clients()`. The in-process controls need no configuration directive: code that
//! links the server is trusted.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! let server = emberkv::Server::builder().port(0).seed(7).start().await?;
//! server.db(0).set("session", "abc")?;
//! server.db(0).expire("session", Duration::from_secs(3600))?;
//! server.clock().advance_by(Duration::from_secs(3601));
//! assert_eq!(server.db(0).get("session")?, None);
//! server.faults().fail_next(1, "READONLY You can't write against a read only replica.");
//! # Ok(()) }
//! ```
//!
//! # Over the wire: `TESTCTL`
//! The `TESTCTL` command family exists only when the server is started with
//! `enable-test-controls yes` (config file, command line, or the builder's
//! `.test_controls(true)`). The directive is immutable — CONFIG SET refuses it — and off by
//! default, and without it every `TESTCTL` request answers exactly what any unknown command
//! answers (`-ERR unknown command 'testctl', with args beginning with: …`) and `COMMAND`
//! does not list it: a production configuration cannot reach it. TESTCTL is never failed,
//! delayed or stalled by the faults it arms, so a test can always undo them.
//!
//! Faults apply to every client, including what client libraries send on their own when
//! they connect (`HELLO`, `CLIENT SETINFO`, `SELECT`): a connection opened during a stall
//! stalls in its handshake, and `FAIL n` counts handshake commands. `COMMANDS name …`
//! targets what the test means; control connections opened before arming are not affected.
//!
//! | request | effect | reply |
//! |---|---|---|
//! | `TESTCTL CLOCK GET` | | the server time, ms |
//! | `TESTCTL CLOCK ADVANCE ms` | freeze the clock (from now, the first time) and move it | new time, ms |
//! | `TESTCTL CLOCK SET ms` | freeze the clock at `ms` since the epoch | `OK` |
//! | `TESTCTL CLOCK RESUME` | back to the wall clock | `OK` |
//! | `TESTCTL SEED n` | reseed the server's random source | `OK` |
//! | `TESTCTL FAIL count [ERR text \| ERROR line] [COMMANDS name …]` | fail the next `count` commands (only those named) with `-ERR text` or `-line` (default `ERR injected fault`); `count` 0 disarms | `OK` |
//! | `TESTCTL DELAY ms` | delay replies by `ms` (0: off) | `OK` |
//! | `TESTCTL STALL` / `TESTCTL RELEASE` | stop answering / answer again | `OK` |
//! | `TESTCTL DROP` | close every other connection now | how many |
//! | `TESTCTL REFUSE ms` | refuse new connections for `ms` (0: accept again) | `OK` |
//! | `TESTCTL SLOWFSYNC ms` | every AOF fsync takes `ms` longer (0: off) | `OK` |
//! | `TESTCTL RESET` | undo every fault and resume the wall clock | `OK` |
//!
//! # Cost when nothing is armed
//! The request path reads one relaxed atomic ([`Faults::armed`]) per command (in `admit`)
//! and one per batch of pipelined requests (in the connection task); everything else is
//! behind those. The accept loop reads it once per accepted connection.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::clock::Clock;
use crate::protocol::{CmdError, Reply};
use crate::session::{ClientHandle, Session};
use crate::shared::Shared;

/// [`Faults::armed`] bit: commands fail.
pub const FAIL: u32 = 1;
/// [`Faults::armed`] bit: replies are delayed.
pub const DELAY: u32 = 1 << 1;
/// [`Faults::armed`] bit: requests are not answered.
pub const STALL: u32 = 1 << 2;
/// [`Faults::armed`] bit: new connections are refused.
pub const REFUSE: u32 = 1 << 3;

/// The default text of an injected failure.
pub const DEFAULT_ERROR: &str = "ERR injected fault";

/// The fault state of one server (in `Shared`); see the [module docs](self).
#[derive(Debug, Default)]
pub struct Faults {
    /// What is armed ([`FAIL`] | [`DELAY`] | [`STALL`] | [`REFUSE`]): the only thing hot paths
    /// read while it is 0.
    armed: AtomicU32,
    fail: Mutex<FailRule>,
    delay_ms: AtomicU64,
    released: Notify,
    /// When refusing ends (`None`: until undone).
    refuse_until: Mutex<Option<Instant>>,
    /// Added to every AOF fsync (read only by the AOF's passes, never on the request path).
    fsync_delay_ms: AtomicU64,
}

#[derive(Debug, Default)]
struct FailRule {
    remaining: u64,
    error: Cow<'static, str>,
    /// Lower-case command names (`get`, or `client|kill`); empty: every command.
    only: Vec<String>,
}

impl Faults {
    /// The armed bits (one relaxed load): 0 when no fault is armed.
    #[inline]
    pub fn armed(&self) -> u32 {
        self.armed.load(Ordering::Relaxed)
    }

    fn arm(&self, bit: u32, on: bool) {
        if on {
            self.armed.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.armed.fetch_and(!bit, Ordering::Relaxed);
        }
    }

    /// Fails the next `count` commands with `error` (the full error line without `-`, e.g.
    /// `"ERR boom"` or `"LOADING Redis is loading the dataset in memory"`; empty: the
    /// default). `count` 0 disarms.
    pub fn fail_next(&self, count: u64, error: &str) {
        self.fail_next_commands(count, error, &[]);
    }

    /// [`Faults::fail_next`] counting only the commands named in `commands` (any case; a
    /// container's subcommand as `client|kill`, or the container alone for all of them).
    pub fn fail_next_commands(&self, count: u64, error: &str, commands: &[&str]) {
        let line: String = error
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        let mut rule = self.fail.lock();
        rule.remaining = count;
        rule.error = if line.trim().is_empty() {
            Cow::Borrowed(DEFAULT_ERROR)
        } else {
            Cow::Owned(line)
        };
        rule.only = commands.iter().map(|c| c.to_ascii_lowercase()).collect();
        self.arm(FAIL, count > 0);
    }

    /// Commands still to fail.
    pub fn failures_left(&self) -> u64 {
        self.fail.lock().remaining
    }

    /// The check `admit` runs while [`FAIL`] is armed: the injected error if the command
    /// named `name` (a row name such as `get` or `client|kill`) is to fail. TESTCTL never is.
    #[cold]
    pub fn take_failure(&self, name: &str) -> Option<CmdError> {
        if name.starts_with("testctl") {
            return None;
        }
        let mut rule = self.fail.lock();
        if rule.remaining == 0 {
            return None;
        }
        if !rule.only.is_empty() {
            let container = name.split('|').next().unwrap_or(name);
            if !rule.only.iter().any(|n| n == name || n == container) {
                return None;
            }
        }
        rule.remaining -= 1;
        if rule.remaining == 0 {
            self.arm(FAIL, false);
        }
        Some(CmdError(rule.error.clone()))
    }

    /// Delays every reply by `d` (zero: no delay).
    pub fn delay(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.delay_ms.store(ms, Ordering::Relaxed);
        self.arm(DELAY, ms > 0);
    }

    /// The current reply delay.
    pub fn current_delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(Ordering::Relaxed))
    }

    /// Stops answering: connections are still accepted and read, but no request runs until
    /// [`Faults::release`].
    pub fn stall(&self) {
        self.arm(STALL, true);
    }

    /// Ends a stall: held requests run, in order.
    pub fn release(&self) {
        self.arm(STALL, false);
        self.released.notify_waiters();
    }

    /// Whether requests are stalled.
    pub fn is_stalled(&self) -> bool {
        self.armed() & STALL != 0
    }

    /// Refuses new connections for `d` (`None`: until [`Faults::accept_connections`]).
    /// Clients connecting meanwhile are accepted and reset at once.
    pub fn refuse_connections(&self, d: Option<Duration>) {
        // A duration too long to represent as an instant means "until undone".
        *self.refuse_until.lock() = d.and_then(|d| Instant::now().checked_add(d));
        self.arm(REFUSE, true);
    }

    /// Accepts new connections again.
    pub fn accept_connections(&self) {
        *self.refuse_until.lock() = None;
        self.arm(REFUSE, false);
    }

    /// Whether a connection accepted now must be refused (the accept loop asks while
    /// [`REFUSE`] is armed).
    pub fn refusing(&self) -> bool {
        if self.armed() & REFUSE == 0 {
            return false;
        }
        let mut until = self.refuse_until.lock();
        match *until {
            Some(t) if Instant::now() >= t => {
                *until = None;
                self.arm(REFUSE, false);
                false
            }
            _ => true,
        }
    }

    /// Makes every AOF fsync take `d` longer, as a busy disk would (zero: off).
    pub fn slow_fsync(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.fsync_delay_ms.store(ms, Ordering::Relaxed);
    }

    /// What [`Faults::slow_fsync`] adds to each AOF fsync.
    pub fn fsync_delay(&self) -> Duration {
        Duration::from_millis(self.fsync_delay_ms.load(Ordering::Relaxed))
    }

    /// Undoes every fault (fail, delay, stall, refuse, slow fsync).
    pub fn reset(&self) {
        self.fail_next(0, "");
        self.delay(Duration::ZERO);
        self.slow_fsync(Duration::ZERO);
        self.accept_connections();
        self.release();
    }

    /// What the connection task runs before a batch of requests while anything is armed:
    /// waits out a stall, then the delay. False when `closed` (the connection was killed or
    /// the server is stopping) resolved first.
    pub async fn hold<F: std::future::Future<Output = ()>>(
        &self,
        mut closed: std::pin::Pin<&mut F>,
    ) -> bool {
        loop {
            // Registered before the check, so a release in between is not missed.
            let released = self.released.notified();
            if !self.is_stalled() {
                break;
            }
            tokio::select! {
                _ = released => {}
                _ = closed.as_mut() => return false,
            }
        }
        let d = self.current_delay();
        if !d.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(d) => {}
                _ = closed.as_mut() => return false,
            }
        }
        true
    }
}

/// Closes every client connection now, through the CLIENT KILL path ([`ClientHandle::kill`]),
/// except `skip` (the caller of `TESTCTL DROP`). Returns how many were dropped.
pub fn drop_connections(shared: &Shared, skip: Option<u64>) -> usize {
    let victims: Vec<Arc<ClientHandle>> = shared
        .clients
        .iter()
        .filter(|c| Some(c.id) != skip)
        .map(|c| c.value().clone())
        .collect();
    for c in &victims {
        c.kill();
    }
    victims.len()
}

/// An owned view of a running server's test controls; cheap to clone and `Send + Sync`, so
/// it can be moved into another thread or task (e.g. to release a stall later).
#[derive(Clone, Debug)]
pub struct Controls {
    shared: Arc<Shared>,
}

impl Controls {
    /// Controls of the server whose state is `shared`.
    pub fn new(shared: Arc<Shared>) -> Self {
        Controls { shared }
    }

    /// The server's clock: `advance`, `advance_by`, `set`, `resume` (see [`crate::clock`]).
    pub fn clock(&self) -> &Clock {
        self.shared.clock()
    }

    /// Fault injection (see [`Faults`]).
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Reseeds the server's random source: the same seed and the same commands give the same
    /// RANDOMKEY, SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER picks and eviction samples.
    pub fn seed(&self, seed: u64) {
        self.shared.keyspace.rng().reseed(seed);
    }

    /// The current seed (drawn at start when none was chosen).
    pub fn current_seed(&self) -> u64 {
        self.shared.seed()
    }

    /// Undoes every fault and puts the clock back on the wall clock (`TESTCTL RESET`).
    pub fn reset(&self) {
        self.shared.faults.reset();
        self.shared.clock().resume();
    }

    /// Closes every open client connection now; returns how many.
    pub fn drop_connections(&self) -> usize {
        drop_connections(&self.shared, None)
    }

    /// Database `index` for direct reads and writes (see [`DbAccess`]).
    pub fn db(&self, index: usize) -> DbAccess {
        DbAccess {
            shared: self.shared.clone(),
            index,
        }
    }

    /// Empties every database (FLUSHALL, with its effects: WATCH, keyspace events).
    pub fn flushall(&self) {
        let _ = self.db(0).command(["FLUSHALL"]);
    }

    /// Commands processed since start or CONFIG RESETSTAT (INFO `total_commands_processed`;
    /// direct data access does not count).
    pub fn commands_processed(&self) -> u64 {
        self.shared.ops.stats.total_calls()
    }

    /// Open client connections (INFO `connected_clients`).
    pub fn connected_clients(&self) -> usize {
        self.shared.clients.len()
    }

    /// Connections accepted since start (INFO `total_connections_received`).
    pub fn connections_received(&self) -> u64 {
        self.shared
            .stats
            .connections_received
            .load(Ordering::Relaxed)
    }

    /// Runs the active-expiry pass now instead of waiting for the next background tick
    /// (handy after moving the clock when a test counts keys with DBSIZE, which — as in
    /// Redis — still counts keys that expired but were not reclaimed yet). Returns how many
    /// keys it removed.
    pub fn expire_now(&self) -> usize {
        let mut total = 0;
        loop {
            let (n, more, events) = self.shared.keyspace.active_expire(1000);
            self.shared.publish_events(events);
            total += n;
            if !more {
                return total;
            }
        }
    }

    /// The server's shared state.
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

/// One database of a running server, read and written without a client.
///
/// Each call runs the real command (same parsing, locking, effects: WATCH invalidation,
/// keyspace events, propagation, blocked clients served) on an internal session that is not
/// a client: it does not count in `commands_processed`, is never failed by [`Faults`],
/// leaves keys' access times alone (CLIENT NO-TOUCH) and never blocks. Errors come back as
/// values: [`CmdError`] with Redis's text (e.g. WRONGTYPE).
///
/// ```no_run
/// # fn demo(server: &emberkv::BackgroundServer) -> Result<(), emberkv::protocol::CmdError> {
/// let db = server.db(0);
/// db.hset("user:1", "name", "ada")?;
/// assert_eq!(db.hget("user:1", "name")?.as_deref(), Some(&b"ada"[..]));
/// assert_eq!(db.keys("user:*")?, vec![bytes::Bytes::from("user:1")]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DbAccess {
    shared: Arc<Shared>,
    index: usize,
}

/// A stream entry: its ID and its field/value pairs.
pub type StreamEntry = (Bytes, Vec<(Bytes, Bytes)>);

/// A key's value, whatever its type ([`DbAccess::value`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A string.
    String(Bytes),
    /// A list, head first.
    List(Vec<Bytes>),
    /// A set's members, sorted bytewise.
    Set(Vec<Bytes>),
    /// A hash's fields and values, sorted by field.
    Hash(Vec<(Bytes, Bytes)>),
    /// A sorted set's members with scores, in rank order.
    ZSet(Vec<(Bytes, f64)>),
    /// A stream's entries: ID and field/value pairs, oldest first.
    Stream(Vec<StreamEntry>),
}

impl DbAccess {
    /// Runs any command in this database and returns its reply (errors as
    /// [`Reply::Error`]); the typed methods are built on it.
    pub fn command<I, A>(&self, argv: I) -> Reply
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        let argv: Vec<Bytes> = argv
            .into_iter()
            .map(|a| Bytes::copy_from_slice(a.as_ref()))
            .collect();
        run_internal(&self.shared, self.index, argv)
    }

    fn call<I, A>(&self, argv: I) -> Result<Reply, CmdError>
    where
        I: IntoIterator<Item = A>,
        A: AsRef<[u8]>,
    {
        match self.command(argv) {
            Reply::Error(e) => Err(CmdError(e)),
            r => Ok(r),
        }
    }

    /// `GET key`.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Bytes>, CmdError> {
        Ok(opt_bulk(self.call([b"GET".as_ref(), key.as_ref()])?))
    }

    /// `SET key value`.
    pub fn set(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), CmdError> {
        self.call([b"SET".as_ref(), key.as_ref(), value.as_ref()])
            .map(drop)
    }

    /// `SET key value PX ms`.
    pub fn set_ex(
        &self,
        key: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
        ttl: Duration,
    ) -> Result<(), CmdError> {
        let ms = ttl.as_millis().max(1).to_string();
        self.call([
            b"SET".as_ref(),
            key.as_ref(),
            value.as_ref(),
            b"PX",
            ms.as_bytes(),
        ])
        .map(drop)
    }

    /// `DEL key`: whether it existed.
    pub fn del(&self, key: impl AsRef<[u8]>) -> Result<bool, CmdError> {
        Ok(int(self.call([b"DEL".as_ref(), key.as_ref()])?) > 0)
    }

    /// `EXISTS key`.
    pub fn exists(&self, key: impl AsRef<[u8]>) -> Result<bool, CmdError> {
        Ok(int(self.call([b"EXISTS".as_ref(), key.as_ref()])?) > 0)
    }

    /// `TYPE key`: `"string"`, `"list"`, … or `"none"`.
    pub fn key_type(&self, key: impl AsRef<[u8]>) -> Result<String, CmdError> {
        match self.call([b"TYPE".as_ref(), key.as_ref()])? {
            Reply::Status(s) => Ok(s.into_owned()),
            other => Err(unexpected(&other)),
        }
    }

    /// `KEYS pattern`, sorted bytewise.
    pub fn keys(&self, pattern: impl AsRef<[u8]>) -> Result<Vec<Bytes>, CmdError> {
        let mut keys = bulks(self.call([b"KEYS".as_ref(), pattern.as_ref()])?);
        keys.sort();
        Ok(keys)
    }

    /// `DBSIZE`.
    pub fn dbsize(&self) -> Result<u64, CmdError> {
        Ok(int(self.call(["DBSIZE"])?).max(0) as u64)
    }

    /// `PTTL key` as a duration: `None` when the key is missing or has no expiry.
    pub fn ttl(&self, key: impl AsRef<[u8]>) -> Result<Option<Duration>, CmdError> {
        let ms = int(self.call([b"PTTL".as_ref(), key.as_ref()])?);
        Ok((ms >= 0).then(|| Duration::from_millis(ms as u64)))
    }

    /// `PEXPIRE key ms`: whether the key exists (and now expires).
    pub fn expire(&self, key: impl AsRef<[u8]>, ttl: Duration) -> Result<bool, CmdError> {
        let ms = ttl.as_millis().to_string();
        Ok(int(self.call([b"PEXPIRE".as_ref(), key.as_ref(), ms.as_bytes()])?) > 0)
    }

    /// `PERSIST key`: whether an expiry was removed.
    pub fn persist(&self, key: impl AsRef<[u8]>) -> Result<bool, CmdError> {
        Ok(int(self.call([b"PERSIST".as_ref(), key.as_ref()])?) > 0)
    }

    /// `HSET key field value`: whether the field is new.
    pub fn hset(
        &self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
        value: impl AsRef<[u8]>,
    ) -> Result<bool, CmdError> {
        let r = self.call([
            b"HSET".as_ref(),
            key.as_ref(),
            field.as_ref(),
            value.as_ref(),
        ])?;
        Ok(int(r) > 0)
    }

    /// `HGET key field`.
    pub fn hget(
        &self,
        key: impl AsRef<[u8]>,
        field: impl AsRef<[u8]>,
    ) -> Result<Option<Bytes>, CmdError> {
        Ok(opt_bulk(self.call([
            b"HGET".as_ref(),
            key.as_ref(),
            field.as_ref(),
        ])?))
    }

    /// `HGETALL key`, sorted by field.
    pub fn hgetall(&self, key: impl AsRef<[u8]>) -> Result<Vec<(Bytes, Bytes)>, CmdError> {
        let mut pairs = pairs(bulks(self.call([b"HGETALL".as_ref(), key.as_ref()])?));
        pairs.sort();
        Ok(pairs)
    }

    /// `RPUSH key value …`: the list's new length.
    pub fn rpush<V: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        values: &[V],
    ) -> Result<u64, CmdError> {
        self.push(b"RPUSH", key.as_ref(), values)
    }

    /// `LPUSH key value …`: the list's new length.
    pub fn lpush<V: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        values: &[V],
    ) -> Result<u64, CmdError> {
        self.push(b"LPUSH", key.as_ref(), values)
    }

    fn push<V: AsRef<[u8]>>(&self, cmd: &[u8], key: &[u8], vals: &[V]) -> Result<u64, CmdError> {
        let mut argv: Vec<&[u8]> = vec![cmd, key];
        argv.extend(vals.iter().map(|v| v.as_ref()));
        Ok(int(self.call(argv)?).max(0) as u64)
    }

    /// `LRANGE key 0 -1`: the whole list, head first.
    pub fn list(&self, key: impl AsRef<[u8]>) -> Result<Vec<Bytes>, CmdError> {
        Ok(bulks(self.call([
            b"LRANGE".as_ref(),
            key.as_ref(),
            b"0",
            b"-1",
        ])?))
    }

    /// `SADD key member …`: how many were new.
    pub fn sadd<M: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        members: &[M],
    ) -> Result<u64, CmdError> {
        self.push(b"SADD", key.as_ref(), members)
    }

    /// `SMEMBERS key`, sorted bytewise.
    pub fn smembers(&self, key: impl AsRef<[u8]>) -> Result<Vec<Bytes>, CmdError> {
        let mut m = bulks(self.call([b"SMEMBERS".as_ref(), key.as_ref()])?);
        m.sort();
        Ok(m)
    }

    /// `ZADD key score member`: whether the member is new.
    pub fn zadd(
        &self,
        key: impl AsRef<[u8]>,
        score: f64,
        member: impl AsRef<[u8]>,
    ) -> Result<bool, CmdError> {
        let s = score.to_string();
        let r = self.call([
            b"ZADD".as_ref(),
            key.as_ref(),
            s.as_bytes(),
            member.as_ref(),
        ])?;
        Ok(int(r) > 0)
    }

    /// `ZRANGE key 0 -1 WITHSCORES`: members with scores, lowest first.
    pub fn zrange(&self, key: impl AsRef<[u8]>) -> Result<Vec<(Bytes, f64)>, CmdError> {
        let r = self.call([b"ZRANGE".as_ref(), key.as_ref(), b"0", b"-1", b"WITHSCORES"])?;
        let Reply::Array(items) = r else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(items.len() / 2);
        let mut it = items.into_iter();
        while let (Some(m), Some(s)) = (it.next(), it.next()) {
            let score = match s {
                Reply::Double(d) => d,
                other => opt_bulk(other)
                    .and_then(|b| std::str::from_utf8(&b).ok()?.parse().ok())
                    .unwrap_or(f64::NAN),
            };
            out.push((opt_bulk(m).unwrap_or_default(), score));
        }
        Ok(out)
    }

    /// `XADD key id field value …` (`id` may be `*`): the entry's ID.
    pub fn xadd<F: AsRef<[u8]>, V: AsRef<[u8]>>(
        &self,
        key: impl AsRef<[u8]>,
        id: &str,
        fields: &[(F, V)],
    ) -> Result<Bytes, CmdError> {
        let mut argv: Vec<&[u8]> = vec![b"XADD", key.as_ref(), id.as_bytes()];
        for (f, v) in fields {
            argv.push(f.as_ref());
            argv.push(v.as_ref());
        }
        opt_bulk(self.call(argv)?).ok_or_else(|| CmdError::new("ERR unexpected reply"))
    }

    /// `XRANGE key - +`: every entry, oldest first.
    pub fn xrange(&self, key: impl AsRef<[u8]>) -> Result<Vec<StreamEntry>, CmdError> {
        let r = self.call([b"XRANGE".as_ref(), key.as_ref(), b"-", b"+"])?;
        let Reply::Array(entries) = r else {
            return Ok(Vec::new());
        };
        Ok(entries
            .into_iter()
            .filter_map(|e| match e {
                Reply::Array(mut parts) if parts.len() == 2 => {
                    let fields = parts.pop().map(bulks).unwrap_or_default();
                    let id = parts.pop().and_then(opt_bulk).unwrap_or_default();
                    Some((id, pairs(fields)))
                }
                _ => None,
            })
            .collect())
    }

    /// The key's value whatever its type, `None` when it does not exist.
    pub fn value(&self, key: impl AsRef<[u8]>) -> Result<Option<Value>, CmdError> {
        let key = key.as_ref();
        Ok(Some(match self.key_type(key)?.as_str() {
            "string" => match self.get(key)? {
                Some(v) => Value::String(v),
                None => return Ok(None),
            },
            "list" => Value::List(self.list(key)?),
            "set" => Value::Set(self.smembers(key)?),
            "hash" => Value::Hash(self.hgetall(key)?),
            "zset" => Value::ZSet(self.zrange(key)?),
            "stream" => Value::Stream(self.xrange(key)?),
            _ => return Ok(None),
        }))
    }

    /// `FLUSHDB`.
    pub fn flushdb(&self) -> Result<(), CmdError> {
        self.call(["FLUSHDB"]).map(drop)
    }
}

/// Runs `argv` in database `db` as the server's own internal client: resolve, lock, run,
/// finish effects — the tail of `commands::execute` without `admit` (no counting, no faults,
/// no authentication).
fn run_internal(shared: &Shared, db: usize, argv: Vec<Bytes>) -> Reply {
    let spec = match crate::commands::resolve(&argv) {
        Ok(s) => s,
        Err(e) => return e.into(),
    };
    if db >= shared.keyspace.databases() {
        return CmdError::new(crate::protocol::error::DB_OUT_OF_RANGE).into();
    }
    let handle = Arc::new(ClientHandle::new(
        0,
        "internal".into(),
        String::new(),
        -1,
        0,
    ));
    let mut session = Session::new(handle, true);
    session.db = db;
    session.no_touch = true;
    session.block_mode = crate::session::BlockMode::NoBlock;
    let mut locked = crate::commands::lock_for(shared, spec, &argv);
    let reply = crate::commands::run_unaccounted(shared, &mut session, spec, argv, &mut locked);
    let done = locked.finish();
    drop(locked);
    crate::commands::after_unit(shared, done);
    reply
}

fn unexpected(r: &Reply) -> CmdError {
    CmdError::msg(format!("ERR unexpected reply {r:?}"))
}

fn int(r: Reply) -> i64 {
    match r {
        Reply::Int(n) => n,
        Reply::Bool(b) => i64::from(b),
        _ => 0,
    }
}

fn opt_bulk(r: Reply) -> Option<Bytes> {
    match r {
        Reply::Bulk(b) => Some(b),
        Reply::Status(s) => Some(Bytes::from(s.into_owned())),
        _ => None,
    }
}

fn bulks(r: Reply) -> Vec<Bytes> {
    match r {
        Reply::Array(v) | Reply::Set(v) => v.into_iter().filter_map(opt_bulk).collect(),
        Reply::Map(m) => m
            .into_iter()
            .flat_map(|(k, v)| [k, v])
            .filter_map(opt_bulk)
            .collect(),
        _ => Vec::new(),
    }
}

fn pairs(flat: Vec<Bytes>) -> Vec<(Bytes, Bytes)> {
    let mut out = Vec::with_capacity(flat.len() / 2);
    let mut it = flat.into_iter();
    while let (Some(a), Some(b)) = (it.next(), it.next()) {
        out.push((a, b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_counts_down_and_filters_by_name() {
        let f = Faults::default();
        assert_eq!(f.armed(), 0);
        f.fail_next_commands(2, "", &["GET"]);
        assert_eq!(f.armed(), FAIL);
        assert!(f.take_failure("set").is_none());
        assert!(f.take_failure("testctl|fail").is_none());
        assert_eq!(f.take_failure("get").unwrap().text(), DEFAULT_ERROR);
        assert!(f.take_failure("get").is_some());
        assert!(f.take_failure("get").is_none());
        assert_eq!(f.armed(), 0);
        f.fail_next_commands(1, "X y\r\nz", &["client"]);
        assert_eq!(f.take_failure("client|kill").unwrap().text(), "X y  z");
    }

    #[test]
    fn reset_disarms_everything() {
        let f = Faults::default();
        f.fail_next(3, "ERR x");
        f.delay(Duration::from_millis(5));
        f.stall();
        f.refuse_connections(None);
        assert!(f.refusing());
        assert_eq!(f.armed(), FAIL | DELAY | STALL | REFUSE);
        f.reset();
        assert_eq!(f.armed(), 0);
        assert!(!f.refusing());
        f.refuse_connections(Some(Duration::ZERO));
        assert!(!f.refusing(), "an elapsed refusal ends by itself");
        f.refuse_connections(Some(Duration::MAX));
        assert!(f.refusing());
        f.delay(Duration::MAX);
        assert_eq!(f.current_delay(), Duration::from_millis(u64::MAX));
    }
}
