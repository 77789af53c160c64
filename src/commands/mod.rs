//! Commands: the table, dispatch, and one file per family.
//!
//! [`execute`] runs one request: it finds the row (and subcommand), checks arity and
//! authentication in one place, locks the shards of the row's keys (or the whole keyspace for
//! `GLOBAL` commands), runs the handler and returns its reply. Handlers parse with
//! [`Args`], reach data through [`Ctx::db`], and report writes with [`Ctx::modified`].
//!
//! # Keys and locking
//! A row declares its keys once, as Redis 7 key specs (`table.rs`): the legacy
//! first/last/step of [`CommandSpec::new`] for plain commands, or `.key_specs(&[...])`
//! (index or keyword begin, range or keynum find) when keys move with the arguments, plus
//! a `keys_fn` for what no spec expresses. [`lock_for`] walks those specs over argv to pick
//! the shards, and `COMMAND INFO`/`GETKEYS` read the same specs.
//!
//! # While a script runs
//! A Lua script holds every shard for as long as it runs, so [`execute`] first checks the
//! scripting gate (one relaxed load): while a script holds the server, a request is handed
//! back to its connection in `Session::deferred` (the connection waits asynchronously and
//! sends it again), or answered `-BUSY` once the script passed `busy-reply-threshold`
//! (`allow-busy` commands still run). Rows flagged `EXCLUSIVE` (scripts, and changes to
//! the Lua state) claim the gate before locking; ordinary locking ([`lock_for`]) gives up
//! and defers instead of waiting on a shard once a claim is set. See `crate::scripting`.
//!
//! A handler that reaches a key outside those shards has a wrong row. That is caught in
//! every build: the keyspace records the violation (and still serves the access safely,
//! see [`Locked`]), and [`run`] logs it and replaces the command's reply with
//! [`OUTSIDE_KEY_SPEC`], so the bug shows instead of silently breaking atomicity.
//!
//! # Statistics
//! [`run`] accounts every command it runs — top-level, inside EXEC, from a script — for
//! INFO commandstats/latencystats, `/metrics`, the slow log, the latency monitor and MONITOR
//! (see [`crate::ops`] for the costs: one clock read, per-thread counters indexed by
//! [`CommandSpec::id`], one threshold compare). The rows the dispatcher serves are copies of
//! the family tables carrying that id (see `table()`). Commands refused before they run
//! count as `rejected_calls` ([`execute`]); a script engine feeds MONITOR through
//! [`feed_monitors`] for its own line (EVAL is `SKIP_MONITOR`, as in Redis).
//!
//! # AOF
//! [`admit`] reads one atomic of the AOF (`Aof::gate`): nonzero only while the AOF loads
//! (`-LOADING` for commands without the `loading` flag; the loader's own session, client id
//! 0, passes) or cannot be written (`-MISCONF` for writes and PING).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

use bytes::Bytes;

use crate::protocol::error::NOAUTH;
use crate::protocol::{Args, CmdError, Reply};
use crate::session::Session;
use crate::shared::Shared;
use crate::storage::{Db, Locked};

pub mod docs;
pub mod table;

mod bitmap;
pub mod blocking;
mod command;
mod config;
mod connection;
mod geo;
mod hash;
mod hll;
mod keys;
mod list;
pub mod memory;
mod ops;
mod pubsub;
mod scripting;
mod server;
mod set;
mod sort;
mod stream;
mod string;
mod testctl;
pub mod transaction;
pub mod zset;

#[cfg(test)]
mod propagation_tests;

pub use connection::REDIS_VERSION;
pub use server::cpu_times;
pub use table::{BeginSearch, CommandSpec, FindKeys, KeySpec, Keys};

/// Whether `COMMAND` (COUNT, LIST, INFO, DOCS) shows `spec` on this server: the `TESTCTL`
/// family only when `enable-test-controls` is on.
pub fn visible(shared: &Shared, spec: &CommandSpec) -> bool {
    spec.flags & table::TEST_CONTROL == 0 || shared.test_controls
}

/// Every family's rows.
fn families() -> &'static [&'static [CommandSpec]] {
    &[
        connection::COMMANDS,
        string::COMMANDS,
        keys::COMMANDS,
        pubsub::COMMANDS,
        server::COMMANDS,
        memory::COMMANDS,
        command::COMMANDS,
        config::COMMANDS,
        transaction::COMMANDS,
        zset::COMMANDS,
        hash::COMMANDS,
        list::COMMANDS,
        set::COMMANDS,
        sort::COMMANDS,
        bitmap::COMMANDS,
        hll::COMMANDS,
        geo::COMMANDS,
        stream::COMMANDS,
        ops::COMMANDS,
        testctl::COMMANDS,
        scripting::COMMANDS,
    ]
}

/// The dispatcher's table: copies of every family's rows, each with its dense `id` (the
/// index of its statistics slot, see [`crate::ops`]), built once. Every row the dispatcher
/// hands out ([`lookup`], [`resolve`], [`all_commands`], a copy's `subcommands`) is one of
/// these copies, so reading a row's id on the request path is a field load.
struct Table {
    /// Top-level rows, in family order.
    top: &'static [CommandSpec],
    /// Every row (top-level, then each container's subcommands) by id.
    by_id: Vec<&'static CommandSpec>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let originals: Vec<&'static CommandSpec> =
            families().iter().flat_map(|f| f.iter()).collect();
        let mut next = originals.len();
        let mut top: Vec<CommandSpec> = Vec::with_capacity(originals.len());
        for (i, c) in originals.iter().enumerate() {
            let mut row = **c;
            row.id = i as u16;
            if !c.subcommands.is_empty() {
                let subs: Vec<CommandSpec> = c
                    .subcommands
                    .iter()
                    .map(|s| {
                        let mut s = *s;
                        s.id = next as u16;
                        next += 1;
                        s
                    })
                    .collect();
                row.subcommands = Vec::leak(subs);
            }
            top.push(row);
        }
        let top: &'static [CommandSpec] = Vec::leak(top);
        let mut by_id: Vec<&'static CommandSpec> = top.iter().collect();
        by_id.extend(top.iter().flat_map(|c| c.subcommands.iter()));
        debug_assert!(by_id.iter().enumerate().all(|(i, c)| c.id as usize == i));
        Table { top, by_id }
    })
}

/// Every command, in table order.
pub fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    table().top.iter()
}

/// Name → row. foldhash rather than SipHash: the lookup runs once per command.
type Index = HashMap<&'static str, &'static CommandSpec, foldhash::fast::RandomState>;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| all_commands().map(|c| (c.name, c)).collect())
}

/// The dense id of a row (`None` for a row that is not the dispatcher's copy).
#[inline]
pub fn command_id(spec: &CommandSpec) -> Option<usize> {
    (spec.id != table::NO_ID).then_some(spec.id as usize)
}

/// Every row by id (see [`command_id`]).
pub fn rows_by_id() -> &'static [&'static CommandSpec] {
    &table().by_id
}

/// Finds a top-level command by name, ASCII case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let s = std::str::from_utf8(lower).ok()?;
    index().get(s).copied()
}

/// Finds a subcommand row of a container.
pub fn lookup_sub(container: &CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    container
        .subcommands
        .iter()
        .find(|s| s.short_name().as_bytes().eq_ignore_ascii_case(sub))
}

/// Resolves `argv` to the row that runs it, with Redis's errors for unknown commands,
/// unknown subcommands and wrong arity.
pub fn resolve(argv: &[Bytes]) -> Result<&'static CommandSpec, CmdError> {
    let Some(cmd) = argv.first().and_then(|n| lookup(n)) else {
        return Err(CmdError::unknown_command(argv));
    };
    let spec = if !cmd.subcommands.is_empty() && argv.len() >= 2 {
        match lookup_sub(cmd, &argv[1]) {
            Some(sub) => sub,
            None => return Err(CmdError::unknown_subcommand(&argv[1], cmd.name)),
        }
    } else {
        cmd
    };
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::arity(spec.name));
    }
    Ok(spec)
}

/// The value of type `T` at `key` for a read command (a counted lookup): `None` when the
/// key is missing, WRONGTYPE when it holds another type. Every family's typed read goes
/// through here.
#[inline]
pub(crate) fn read_as<'d, T: crate::storage::ValueType>(
    db: &'d mut Db,
    key: &[u8],
) -> Result<Option<&'d T>, CmdError> {
    match db.get(key) {
        None => Ok(None),
        Some(e) => T::of(e.value()).map(Some).ok_or_else(CmdError::wrongtype),
    }
}

/// [`read_as`] for a write command (no hit/miss counting), to change the value in place.
#[inline]
pub(crate) fn write_as<'d, T: crate::storage::ValueType>(
    db: &'d mut Db,
    key: &[u8],
) -> Result<Option<&'d mut T>, CmdError> {
    match db.get_mut(key) {
        None => Ok(None),
        Some(e) => T::of_mut(e.value_mut())
            .map(Some)
            .ok_or_else(CmdError::wrongtype),
    }
}

/// What one command may touch while it runs: server state, its client's session, and the
/// shards locked for it (`'k`).
pub struct Ctx<'a, 'k> {
    /// Server-wide state.
    pub shared: &'a Shared,
    /// The calling client's session.
    pub session: &'a mut Session,
    /// The command's table row.
    pub spec: &'static CommandSpec,
    locked: &'a mut Locked<'k>,
    touch: bool,
    /// Changes this command made (its part of the `dirty` counter).
    changes: u64,
    /// Whether the handler chose what to propagate itself (see [`Ctx::propagate`]).
    propagated: bool,
}

impl<'k> Ctx<'_, 'k> {
    /// The client's selected database.
    pub fn db(&mut self) -> Db<'_, 'k> {
        let index = self.session.db;
        self.locked.db(index, self.touch)
    }

    /// Database `index` (callers check the range).
    pub fn db_at(&mut self, index: usize) -> Db<'_, 'k> {
        self.locked.db(index, self.touch)
    }

    /// The session and the locked shards at once (a script runs commands with both).
    pub fn session_and_locked(&mut self) -> (&mut Session, &mut Locked<'k>) {
        (self.session, self.locked)
    }

    /// The locked shards, for operations across databases (SWAPDB, FLUSHALL).
    pub fn locked(&mut self) -> &mut Locked<'k> {
        self.locked
    }

    /// The command's timestamp in ms.
    pub fn now(&self) -> u64 {
        self.locked.now()
    }

    /// Random numbers for this command, from the server's seedable source (see
    /// [`crate::rng`]): the same seed and the same commands give the same picks.
    pub fn rng(&self) -> crate::rng::Stream {
        self.shared.keyspace.rng().stream()
    }

    /// Records a write to `key` in the selected database: the dirty counter, WATCH
    /// invalidation and the keyspace event `event` of notification class `class` (a
    /// [`crate::notify`] bit), all while the key's shard is still locked. Unless the handler
    /// calls [`Ctx::propagate`], a command that recorded a write is propagated as sent.
    #[inline]
    pub fn modified(&mut self, key: &[u8], class: u32, event: &'static str) {
        let db = self.session.db;
        self.modified_in(db, key, class, event);
    }

    /// [`Ctx::modified`] for a key of database `db` (MOVE, COPY … DB).
    #[inline]
    pub fn modified_in(&mut self, db: usize, key: &[u8], class: u32, event: &'static str) {
        self.changes += 1;
        self.locked.touch_watched(db, key);
        self.locked.signal_ready(db, key);
        self.locked.event(db, key, class, event);
    }

    /// A second key written by the same change (RENAME's destination, MOVE's target): its
    /// WATCH invalidation and event, without counting another change — Redis's `dirty`
    /// counts a RENAME or MOVE once.
    pub fn also_modified_in(&mut self, db: usize, key: &[u8], class: u32, event: &'static str) {
        self.locked.touch_watched(db, key);
        self.locked.signal_ready(db, key);
        self.locked.event(db, key, class, event);
    }

    /// Blocks the client on `keys` (a blocking command that found nothing to serve it): it
    /// waits, without holding any lock, until a write to one of them lets its command run,
    /// `timeout` passes (`None`: forever) and it answers `timeout_reply`, or CLIENT UNBLOCK.
    /// Inside EXEC (later, a script) it answers `timeout_reply` at once, as the non-blocking
    /// form would. See [`crate::blocking`].
    pub fn block(
        &mut self,
        args: &Args,
        keys: &[Bytes],
        timeout: Option<std::time::Duration>,
        timeout_reply: Reply,
    ) -> crate::protocol::CmdResult {
        use crate::session::BlockMode;
        if self.session.in_exec {
            return Ok(timeout_reply);
        }
        match self.session.block_mode {
            BlockMode::NoBlock => return Ok(timeout_reply),
            BlockMode::Serving => {
                self.session.unserved = true;
                return Ok(Reply::Multi(Vec::new()));
            }
            BlockMode::Block => {}
        }
        let mut unique: Vec<Bytes> = Vec::with_capacity(keys.len());
        for k in keys {
            if !unique.contains(k) {
                unique.push(k.clone());
            }
        }
        let db = self.session.db;
        let id = self.session.id;
        for k in &unique {
            self.locked.block_on(db, k, id);
        }
        let waiter = std::sync::Arc::new(crate::blocking::Waiter::new(
            self.session.handle.clone(),
            db,
            self.session.resp3,
            args.argv().to_vec(),
            unique,
            timeout,
            timeout_reply,
        ));
        self.ctx_register(waiter);
        self.propagate_nothing();
        Ok(Reply::Multi(Vec::new()))
    }

    fn ctx_register(&mut self, waiter: std::sync::Arc<crate::blocking::Waiter>) {
        self.shared.blocked.insert(waiter.clone());
        self.session.handle.meta.lock().blocked = true;
        self.session.blocked = Some(waiter);
    }

    /// Whether this run serves a blocked client (its command is run again on its behalf).
    pub fn serving_blocked(&self) -> bool {
        self.session.block_mode == crate::session::BlockMode::Serving
    }

    /// A further keyspace event for a key already recorded as modified (SET … EX fires
    /// `set` then `expire`).
    pub fn event(&mut self, key: &[u8], class: u32, event: &'static str) {
        let db = self.session.db;
        self.locked.event(db, key, class, event);
    }

    /// Counts `n` changes not tied to one key (FLUSHDB, FLUSHALL, SWAPDB); their WATCH
    /// invalidation happens in the keyspace operation itself.
    pub fn modified_many(&mut self, n: u64) {
        self.changes += n;
    }

    /// Whether the propagation stream is recording: handlers that rewrite their argv for
    /// replay build the rewritten form only then.
    pub fn propagating(&self) -> bool {
        self.locked.propagating()
    }

    /// Propagates `argv` (in the selected database) instead of the command as sent: the
    /// deterministic form a replay needs (`PXAT` for relative expiries, `DEL` for GETDEL…).
    /// May be called several times; calling it with nothing to propagate is not needed —
    /// a handler that recorded no write propagates nothing.
    pub fn propagate(&mut self, argv: Vec<Bytes>) {
        self.propagated = true;
        let db = self.session.db;
        self.locked.propagate(db, argv);
    }

    /// Propagates the command as sent even if it counted no change (FLUSHDB of an empty
    /// database, as Redis forces it).
    pub fn propagate_as_sent(&mut self, args: &Args) {
        if self.propagating() {
            self.propagate(args.argv().to_vec());
        } else {
            self.propagated = true;
        }
    }

    /// Suppresses the default propagation of the command as sent (a handler that already
    /// propagated what it did in another form, or a write that must not replay).
    pub fn propagate_nothing(&mut self) {
        self.propagated = true;
    }

    /// Validates a database index argument as SELECT, MOVE and COPY do.
    pub fn db_index(&self, arg: &[u8]) -> Result<usize, CmdError> {
        let n = crate::protocol::number::parse_i64(arg).ok_or(CmdError::not_integer())?;
        if n < 0 || n as u64 >= self.shared.keyspace.databases() as u64 {
            return Err(CmdError::new(crate::protocol::error::DB_OUT_OF_RANGE));
        }
        Ok(n as usize)
    }
}

/// Runs one request and returns its reply: resolve, check, queue it inside MULTI, or lock
/// the command's shards, run it and finish its effects (propagation under the locks, keyspace
/// events after them).
pub fn execute(shared: &Shared, session: &mut Session, argv: Vec<Bytes>) -> Reply {
    // A script holds the server: wait, answer BUSY, or go on (see `crate::scripting`).
    // One relaxed load while none runs.
    if shared.scripting.running() {
        match while_script_runs(shared, session, &argv) {
            Busy::Defer => return defer(session, argv, false),
            Busy::DeferToEnd => return defer(session, argv, true),
            Busy::Answer(r) => return r,
            Busy::Proceed => {}
        }
    }
    let spec = match admit(shared, session, &argv) {
        Ok(spec) => spec,
        Err(e) => {
            // A rejected command inside MULTI dooms the transaction (EXECABORT).
            if let Some(multi) = session.multi.as_mut() {
                multi.failed = true;
            }
            return rejected(shared, &argv, e);
        }
    };
    // maxmemory: evict before the command takes its locks, refuse it if it may not run
    // over the limit (see `memory`). One relaxed load while no limit is set.
    if shared.memory.maxmemory.load(Ordering::Relaxed) != 0 {
        if let Err(e) = memory::before_command(shared, session, spec) {
            if spec.name == "exec" && session.multi.is_some() {
                // A refused EXEC discards the transaction, saying why (`execCommandAbort`).
                transaction::discard_transaction(shared, session);
                return CmdError::msg(format!(
                    "EXECABORT Transaction discarded because of: {}",
                    e.text()
                ))
                .into();
            }
            if let Some(multi) = session.multi.as_mut() {
                multi.failed = true;
            }
            return rejected(shared, &argv, e);
        }
    }
    if session.multi.is_some() && !transaction::runs_in_multi(spec) {
        let reply = transaction::queue(session, spec, argv);
        if let Reply::Error(e) = &reply {
            if let Some(id) = command_id(spec) {
                shared.ops.stats.record_rejected(id);
            }
            shared.ops.record_error(e);
        }
        return reply;
    }
    if spec.flags & table::EXCLUSIVE != 0 {
        return exclusive_unit(shared, session, spec, argv);
    }
    let mut locked = lock_for(shared, spec, &argv);
    if locked.gave_up() {
        // A script claimed the server while this command was taking its locks.
        return defer(session, argv, true);
    }
    let reply = run(shared, session, spec, argv, &mut locked);
    let done = locked.finish();
    drop(locked);
    after_unit(shared, done);
    reply
}

/// Counts a command refused before it ran: `rejected_calls` of its row (when it has one) and
/// the error reply.
#[cold]
fn rejected(shared: &Shared, argv: &[Bytes], e: CmdError) -> Reply {
    let spec = argv.first().and_then(|n| lookup(n)).map(|c| {
        match argv.get(1).filter(|_| !c.subcommands.is_empty()) {
            Some(sub) => lookup_sub(c, sub).unwrap_or(c),
            None => c,
        }
    });
    if let Some(id) = spec.and_then(command_id) {
        shared.ops.stats.record_rejected(id);
    }
    shared.ops.record_error(e.text());
    e.into()
}

/// What `execute` does with a request while a script holds the server.
enum Busy {
    /// Wait until the script ends or turns busy (before the threshold a client just waits,
    /// as Redis does not read it meanwhile).
    Defer,
    /// Wait until the script ends: an `allow-busy` command that would take shard locks
    /// (DISCARD, UNWATCH or RESET of a client with watched keys).
    DeferToEnd,
    /// Answered at once (`-BUSY …`).
    Answer(Reply),
    /// Run normally: an `allow-busy` command once the script is busy, or a request that
    /// fails before the busy check (unknown command, bad arity).
    Proceed,
}

#[cold]
#[inline(never)]
fn while_script_runs(shared: &Shared, session: &mut Session, argv: &[Bytes]) -> Busy {
    let scripting = &shared.scripting;
    if !scripting.busy() {
        return Busy::Defer;
    }
    match resolve(argv) {
        Ok(spec) if spec.has(table::ALLOW_BUSY) => {
            let lockless = matches!(
                spec.name,
                "script|kill" | "function|kill" | "function|stats" | "shutdown"
            );
            if session.watched.is_empty() || lockless {
                Busy::Proceed
            } else {
                Busy::DeferToEnd
            }
        }
        Ok(_) => {
            if let Some(multi) = session.multi.as_mut() {
                multi.failed = true;
            }
            Busy::Answer(Reply::error(scripting.busy_error()))
        }
        Err(_) => Busy::Proceed,
    }
}

/// Hands `argv` back to the connection to run once the script ends (`until_end`) or turns
/// busy. The reply returned is a placeholder the connection does not send.
#[cold]
#[inline(never)]
fn defer(session: &mut Session, argv: Vec<Bytes>, until_end: bool) -> Reply {
    session.deferred = Some((argv, until_end));
    Reply::Multi(Vec::new())
}

/// Runs an `EXCLUSIVE` command (a script, or a change to the Lua state): claims the server
/// before taking every shard, so other clients wait instead of blocking on the shards, and
/// releases the claim once the locks are dropped.
#[cold]
#[inline(never)]
fn exclusive_unit(
    shared: &Shared,
    session: &mut Session,
    spec: &'static CommandSpec,
    argv: Vec<Bytes>,
) -> Reply {
    if !shared.scripting.claim(session.id) {
        return defer(session, argv, true);
    }
    let mut locked = shared.keyspace.lock_all();
    let reply = run(shared, session, spec, argv, &mut locked);
    let done = locked.finish();
    drop(locked);
    shared.scripting.release();
    after_unit(shared, done);
    reply
}

/// What a unit leaves for after its locks are released: keyspace events to publish, and
/// clients blocked on keys it wrote to serve.
#[inline]
pub fn after_unit(shared: &Shared, done: crate::storage::Finished) {
    if !done.events.is_empty() {
        shared.publish_events(done.events);
    }
    if !done.ready.is_empty() {
        blocking::serve_ready(shared, done.ready);
    }
}

/// The checks every request passes before it runs: a known command with the right arity,
/// and authentication. Records its name for CLIENT LIST (the connection records the time
/// once per batch of requests); `run` counts it.
pub fn admit(
    shared: &Shared,
    session: &mut Session,
    argv: &[Bytes],
) -> Result<&'static CommandSpec, CmdError> {
    let spec = match resolve(argv) {
        Ok(spec) => spec,
        Err(e) => return Err(test_control_gate(shared, argv, e)),
    };
    // The test controls (see `crate::testctl`), in one branch: a TESTCTL row on a server
    // without `enable-test-controls`, or an armed fault. Costs one relaxed load (and the
    // row's flags) while neither.
    if (spec.flags & table::TEST_CONTROL) | shared.faults.armed() != 0 {
        test_controls(shared, spec, argv)?;
    }
    if !session.authenticated && !spec.has(table::NO_AUTH) {
        return Err(CmdError::new(NOAUTH));
    }
    // Loading the AOF, or the AOF cannot be written: one relaxed load otherwise.
    let gate = shared.aof.gate();
    if gate != 0 {
        aof_gate(shared, session, spec, gate)?;
    }
    session.handle.last_cmd.store(spec.id, Ordering::Relaxed);
    if session.in_subscribed_mode() && !allowed_when_subscribed(spec) {
        return Err(not_in_subscribed_mode(spec));
    }
    if session.monitor && spec.has(table::READONLY | table::WRITE | table::MAY_REPLICATE) {
        return Err(CmdError::new(
            "ERR Replica can't interact with the keyspace",
        ));
    }
    Ok(spec)
}

/// `admit`'s test-control branch: TESTCTL rows are unknown commands unless
/// `enable-test-controls` is on; an armed failure (`TESTCTL FAIL`, `Faults::fail_next`)
/// answers its error instead of running the command.
#[cold]
fn test_controls(shared: &Shared, spec: &CommandSpec, argv: &[Bytes]) -> Result<(), CmdError> {
    if spec.flags & table::TEST_CONTROL != 0 && !shared.test_controls {
        return Err(CmdError::unknown_command(argv));
    }
    if shared.faults.armed() & crate::testctl::FAIL != 0 {
        if let Some(e) = shared.faults.take_failure(spec.name) {
            return Err(e);
        }
    }
    Ok(())
}

/// `-LOADING` while the AOF loads (except for the loader itself and `LOADING`-flagged
/// commands); `-MISCONF` for writes (and PING) while the AOF cannot be written, as Redis's
/// `writeCommandsDeniedByDiskError`.
#[cold]
fn aof_gate(
    shared: &Shared,
    session: &Session,
    spec: &CommandSpec,
    gate: u8,
) -> Result<(), CmdError> {
    if gate & crate::aof::GATE_LOADING != 0
        && session.id != crate::aof::loader::LOADER_ID
        && !spec.has(table::LOADING)
    {
        return Err(CmdError::new(crate::aof::LOADING_ERR));
    }
    if gate & crate::aof::GATE_WRITE_ERROR != 0
        && (spec.has(table::WRITE) || spec.name == "ping")
        && session.id != crate::aof::loader::LOADER_ID
    {
        return Err(CmdError::msg(shared.aof.misconf_text()));
    }
    Ok(())
}

/// A TESTCTL request that did not resolve (`TESTCTL`, `TESTCTL nosuch`) on a server without
/// test controls answers as an unknown command, like every other TESTCTL request there.
#[cold]
fn test_control_gate(shared: &Shared, argv: &[Bytes], e: CmdError) -> CmdError {
    let testctl = argv
        .first()
        .and_then(|n| lookup(n))
        .is_some_and(|c| c.flags & table::TEST_CONTROL != 0);
    if testctl && !shared.test_controls {
        CmdError::unknown_command(argv)
    } else {
        e
    }
}

#[cold]
fn not_in_subscribed_mode(spec: &CommandSpec) -> CmdError {
    CmdError::msg(format!(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
        spec.name
    ))
}

/// The commands a RESP2 client may run while it has subscriptions.
fn allowed_when_subscribed(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "subscribe"
            | "ssubscribe"
            | "psubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// Locks what `spec` needs: its keys' shards (found by walking its key specs over `argv`,
/// see [`CommandSpec::lock_keys`]; no allocation), or every shard for `GLOBAL` commands.
/// Specs that cannot find their keys (a bad key count) add none: the handler then reports
/// the error without touching a key.
///
/// Gives up ([`Locked::gave_up`]) when a script claimed the server while a shard was taken
/// (the command is then deferred, see `crate::scripting`): a connection never waits on a
/// shard a script holds.
#[inline]
pub fn lock_for<'s>(shared: &'s Shared, spec: &CommandSpec, argv: &[Bytes]) -> Locked<'s> {
    lock_for_unless(shared, spec, argv, shared.scripting.running_flag())
}

/// [`lock_for`] that waits for its shards whatever runs (serving blocked clients after a
/// unit, where deferring is not possible).
pub fn lock_for_waiting<'s>(shared: &'s Shared, spec: &CommandSpec, argv: &[Bytes]) -> Locked<'s> {
    static NEVER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    lock_for_unless(shared, spec, argv, &NEVER)
}

#[inline]
fn lock_for_unless<'s>(
    shared: &'s Shared,
    spec: &CommandSpec,
    argv: &[Bytes],
    stop: &std::sync::atomic::AtomicBool,
) -> Locked<'s> {
    if spec.has(table::GLOBAL) {
        return shared.keyspace.lock_mask_unless(u32::MAX, stop);
    }
    let ks = &shared.keyspace;
    let mut mask = 0;
    if spec.lock_by_range {
        // The common case, written out so it inlines (see `CommandSpec::lock_keys`).
        for i in spec.keys.positions(argv.len()) {
            mask |= ks.shard_bit(&argv[i]);
        }
    } else {
        spec.lock_keys(argv, |i| mask |= ks.shard_bit(&argv[i]));
    }
    ks.lock_mask_unless(mask, stop)
}

/// Runs an admitted command under locks the caller holds. `execute` locks per command;
/// a transaction or script locks every shard once and runs each of its commands here.
pub fn run(
    shared: &Shared,
    session: &mut Session,
    spec: &'static CommandSpec,
    argv: Vec<Bytes>,
    locked: &mut Locked<'_>,
) -> Reply {
    run_with::<true>(shared, session, spec, argv, locked)
}

/// [`run`] for the server's own internal commands (the test controls' data access): the
/// same effects, but no statistics, slow log or MONITOR line — they are not clients'.
pub fn run_unaccounted(
    shared: &Shared,
    session: &mut Session,
    spec: &'static CommandSpec,
    argv: Vec<Bytes>,
    locked: &mut Locked<'_>,
) -> Reply {
    run_with::<false>(shared, session, spec, argv, locked)
}

#[inline(always)]
fn run_with<const ACCOUNT: bool>(
    shared: &Shared,
    session: &mut Session,
    spec: &'static CommandSpec,
    argv: Vec<Bytes>,
    locked: &mut Locked<'_>,
) -> Reply {
    let Some(handler) = spec.handler else {
        return CmdError::arity(spec.name).into();
    };
    let skip = spec.words();
    let mut args = Args::new(argv, skip);
    let touch = !session.no_touch;
    let mut ctx = Ctx {
        shared,
        session,
        spec,
        locked,
        touch,
        changes: 0,
        propagated: false,
    };
    // A command that runs others (EXEC, a script) moves the mark through `run`; putting it
    // back makes its own time cover theirs (see `crate::ops`).
    let mark = ctx.session.stat_mark;
    let mut reply = match handler(&mut ctx, &mut args) {
        Ok(reply) => reply,
        Err(e) => e.into(),
    };
    ctx.session.stat_mark = mark;
    let violated = ctx.locked.take_violation();
    if violated {
        tracing::error!(
            command = spec.name,
            "a command touched a key outside its key spec: its reply was replaced by an error"
        );
        reply = CmdError::new(OUTSIDE_KEY_SPEC).into();
    }
    if ACCOUNT {
        account(shared, ctx.session, spec, &args, &reply);
    }
    if violated {
        return reply;
    }
    if ctx.changes > 0 {
        ctx.locked.dirty(ctx.changes);
        if !ctx.propagated && ctx.locked.propagating() {
            let db = ctx.session.db;
            ctx.locked.propagate(db, args.take_argv());
        }
    }
    reply
}

/// After a command ran: its statistics (one clock read, per-thread counters), and — only
/// when they are on — the slow log, the latency monitor and the MONITOR feed (see
/// [`crate::ops`] for the costs).
#[inline(always)]
fn account(
    shared: &Shared,
    session: &mut Session,
    spec: &'static CommandSpec,
    args: &Args,
    reply: &Reply,
) {
    let end = crate::ops::ticks();
    let ticks = end.saturating_sub(session.stat_mark);
    session.stat_mark = end;
    let ops = &shared.ops;
    let failed = reply.is_error();
    ops.stats.record_call(spec.id as usize, ticks, failed);
    if failed {
        record_failure(shared, reply);
    }
    if ops.watched(ticks) {
        watched_command(shared, session, spec, args.argv(), ticks);
    }
}

#[cold]
fn record_failure(shared: &Shared, reply: &Reply) {
    if let Reply::Error(e) = reply {
        shared.ops.record_error(e);
    }
}

/// A command that may be slow enough for the slow log or the latency monitor, or that
/// MONITOR clients should see.
#[cold]
fn watched_command(
    shared: &Shared,
    session: &Session,
    spec: &'static CommandSpec,
    argv: &[Bytes],
    ticks: u64,
) {
    let ops = &shared.ops;
    if ops.has_monitors() && !spec.has(table::SKIP_MONITOR | table::ADMIN) {
        feed_monitors(shared, session, argv);
    }
    let usec = crate::ops::ticks_to_nanos(ticks) / 1000;
    if ops.is_slow(usec) && !spec.has(table::SKIP_SLOWLOG) {
        let name = session.meta().name.clone().unwrap_or_default();
        let redacted = crate::ops::redacted(argv);
        let argv = redacted.as_deref().unwrap_or(argv);
        let now = shared.now_ms() / 1000;
        ops.slowlog_push(argv, usec, now, &session.handle.addr, name);
    }
    let event = if spec.has(table::FAST) {
        "fast-command"
    } else {
        "command"
    };
    ops.latency_sample(event, usec / 1000, shared.now_ms() / 1000);
}

/// Feeds one command line to every MONITOR client, in Redis's format
/// (`+<unix secs>.<micros> [<db> <addr>] "arg" ...`, passwords redacted). `commands::run`
/// calls it after each command it runs — inside EXEC and scripts too, where the lines show
/// the address `lua` while [`Session::in_script`] is set, as Redis writes them. A command
/// whose row is `SKIP_MONITOR` (EVAL, as in Redis) feeds its own line, before those of the
/// commands it runs. Call it only behind [`crate::ops::Ops::has_monitors`].
#[cold]
pub fn feed_monitors(shared: &Shared, session: &Session, argv: &[Bytes]) {
    let addr = if session.in_script {
        "lua"
    } else {
        &session.handle.addr
    };
    feed_monitors_as(shared, session.db, addr, argv);
}

/// [`feed_monitors`] with the database and the client address given (a script's commands
/// show `lua` as the address).
#[cold]
pub fn feed_monitors_as(shared: &Shared, db: usize, addr: &str, argv: &[Bytes]) {
    let redacted = crate::ops::redacted(argv);
    let argv = redacted.as_deref().unwrap_or(argv);
    let micros = if shared.clock().is_manual() {
        shared.now_ms() * 1000
    } else {
        crate::ops::unix_micros()
    };
    let line = crate::ops::monitor_line(micros, db, addr, argv);
    shared.ops.feed_monitors(line, &shared.output);
}

/// What a command answers when it touched a key its key specs did not name (a bug in its
/// table row): see [`Locked`]'s docs.
pub const OUTSIDE_KEY_SPEC: &str = "ERR internal error: command touched a key outside its key spec";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for c in all_commands() {
            assert!(seen.insert(c.name), "duplicate row {}", c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(c.arity != 0, "{}", c.name);
            assert!(
                c.handler.is_some() || !c.subcommands.is_empty(),
                "{}: a row needs a handler or subcommands",
                c.name
            );
            for s in c.subcommands {
                assert!(s.name.starts_with(&format!("{}|", c.name)), "{}", s.name);
                assert!(s.handler.is_some(), "{}", s.name);
            }
        }
    }

    #[test]
    fn key_specs_agree_with_the_legacy_range() {
        for c in all_commands().flat_map(|c| std::iter::once(c).chain(c.subcommands)) {
            for ks in c.specs() {
                for f in ks.flags {
                    assert!(table::KEY_SPEC_FLAGS.contains(f), "{}: flag {f}", c.name);
                }
            }
            // A row's first/last/step is what COMMAND INFO computes from its specs.
            let (legacy, _) = c.legacy_keys();
            assert_eq!(legacy, c.keys, "{}: Keys disagree with key_specs", c.name);
        }
    }

    #[test]
    fn resolve_reports_redis_errors() {
        let argv =
            |w: &[&str]| -> Vec<Bytes> { w.iter().map(|s| Bytes::from(s.to_string())).collect() };
        assert_eq!(resolve(&argv(&["GeT", "k"])).unwrap().name, "get");
        assert_eq!(
            resolve(&argv(&["get"])).unwrap_err().text(),
            "ERR wrong number of arguments for 'get' command"
        );
        assert_eq!(
            resolve(&argv(&["nosuch", "x"])).unwrap_err().text(),
            "ERR unknown command 'nosuch', with args beginning with: 'x' "
        );
        assert_eq!(
            resolve(&argv(&["client"])).unwrap_err().text(),
            "ERR wrong number of arguments for 'client' command"
        );
        assert_eq!(
            resolve(&argv(&["client", "bogus"])).unwrap_err().text(),
            "ERR unknown subcommand 'bogus'. Try CLIENT HELP."
        );
        assert_eq!(
            resolve(&argv(&["CLIENT", "SETNAME"])).unwrap_err().text(),
            "ERR wrong number of arguments for 'client|setname' command"
        );
    }
}

/// Property tests: whatever a client sends, dispatch answers and never panics.
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::clock::Clock;
    use crate::config::Config;
    use crate::session::ClientHandle;
    use proptest::prelude::*;
    use std::sync::Arc;

    /// Words that make handlers take their interesting paths: options, numbers at the
    /// edges, patterns, empty and binary strings.
    const WORDS: &[&str] = &[
        "k",
        "k2",
        "",
        "0",
        "1",
        "-1",
        "10",
        "-100",
        "2147483648",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999",
        "1.5",
        "-0.0",
        "inf",
        "nan",
        "1e400",
        "EX",
        "PX",
        "EXAT",
        "PXAT",
        "NX",
        "XX",
        "GT",
        "LT",
        "GET",
        "KEEPTTL",
        "PERSIST",
        "LEN",
        "IDX",
        "MINMATCHLEN",
        "WITHMATCHLEN",
        "MATCH",
        "COUNT",
        "TYPE",
        "DB",
        "REPLACE",
        "*",
        "[",
        "\\",
        "ID",
        "ADDR",
        "SKIPME",
        "ON",
        "OFF",
        "SKIP",
        "ASYNC",
        "string",
        "\u{0}\u{ff}",
        "GETREG",
        "TODENSE",
        "DECODE",
    ];

    fn word() -> impl Strategy<Value = Bytes> {
        prop_oneof![
            4 => prop::sample::select(WORDS).prop_map(|w| Bytes::from(w.as_bytes().to_vec())),
            1 => prop::collection::vec(any::<u8>(), 0..8).prop_map(Bytes::from),
        ]
    }

    fn request() -> impl Strategy<Value = Vec<Bytes>> {
        let names: Vec<String> = all_commands()
            .flat_map(|c| {
                let subs = c.subcommands.iter().map(|s| s.name.replace('|', " "));
                std::iter::once(c.name.to_string()).chain(subs)
            })
            // Commands that act on other connections or the server itself.
            .filter(|n| !n.starts_with("client kill") && n != "quit")
            .collect();
        (
            prop::sample::select(names),
            prop::collection::vec(word(), 0..6),
        )
            .prop_map(|(name, args)| {
                let mut argv: Vec<Bytes> = name
                    .split(' ')
                    .map(|w| Bytes::from(w.as_bytes().to_vec()))
                    .collect();
                argv.extend(args);
                argv
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn dispatch_never_panics(reqs in prop::collection::vec(request(), 1..12)) {
            let shared = Shared::new(Config::default(), Clock::manual(1_700_000_000_000));
            let handle = Arc::new(ClientHandle::new(1, "t".into(), "t".into(), -1, 0));
            let mut session = Session::new(handle, true);
            for argv in reqs {
                let reply = execute(&shared, &mut session, argv);
                // As the connection does: what the command queued for its own client
                // (SUBSCRIBE's confirmations), then the reply.
                let mut out = bytes::BytesMut::new();
                session.handle.outbox.drain_into(&mut out, usize::MAX);
                reply.encode(&mut out, session.resp3);
                // A blocked command answers later; as the connection would on its timeout,
                // end the wait and answer its timeout reply.
                if let Some(w) = session.blocked.take() {
                    prop_assert!(blocking::time_out(&shared, &w));
                    w.timeout_reply.encode(&mut out, session.resp3);
                }
                prop_assert!(!out.is_empty());
                shared.clock().advance(250);
            }
        }
    }
}

/// Every row's key specs against its handler: for sample arguments of every command and
/// subcommand, the keys the handler looks up must be exactly the keys the specs name (no
/// touch outside the locked shards, no spec key the handler ignores).
#[cfg(test)]
mod key_specs_match_handlers {
    use super::*;
    use crate::clock::Clock;
    use crate::config::Config;
    use crate::session::ClientHandle;
    use std::collections::{BTreeSet, HashSet};
    use std::sync::Arc;

    /// Sample requests per row. A leading `~` marks a request whose handler may stop before
    /// looking every key up (an error, an early answer): its keys must then only be a subset.
    const SAMPLES: &[(&str, &[&str])] = &[
        ("command", &["command"]),
        ("command|count", &["command count"]),
        ("command|list", &["command list filterby pattern g*"]),
        ("command|info", &["command info get set"]),
        ("command|docs", &["command docs get client"]),
        ("command|getkeys", &["command getkeys mset a 1 b 2"]),
        (
            "command|getkeysandflags",
            &["command getkeysandflags set a 1 get"],
        ),
        ("command|help", &["command help"]),
        ("ping", &["ping", "ping x"]),
        ("echo", &["echo x"]),
        ("quit", &["quit"]),
        ("select", &["select 1"]),
        ("hello", &["hello 3", "hello"]),
        ("auth", &["auth secret"]),
        ("reset", &["reset"]),
        ("client|id", &["client id"]),
        ("client|setname", &["client setname me"]),
        ("client|getname", &["client getname"]),
        ("client|setinfo", &["client setinfo lib-name x"]),
        ("client|list", &["client list"]),
        ("client|info", &["client info"]),
        ("client|kill", &["client kill id 999999"]),
        ("client|no-evict", &["client no-evict on"]),
        ("client|no-touch", &["client no-touch on"]),
        ("client|reply", &["client reply on"]),
        (
            "client|unblock",
            &["client unblock 999999", "client unblock 1 error"],
        ),
        ("client|help", &["client help"]),
        ("client|pause", &["client pause 0", "client pause 0 write"]),
        ("client|unpause", &["client unpause"]),
        ("slowlog|get", &["slowlog get", "slowlog get -1"]),
        ("slowlog|len", &["slowlog len"]),
        ("slowlog|reset", &["slowlog reset"]),
        ("slowlog|help", &["slowlog help"]),
        ("latency|latest", &["latency latest"]),
        ("latency|history", &["latency history command"]),
        ("latency|reset", &["latency reset", "latency reset command"]),
        ("latency|doctor", &["latency doctor"]),
        ("latency|graph", &["latency graph command"]),
        (
            "latency|histogram",
            &["latency histogram", "latency histogram get client"],
        ),
        ("latency|help", &["latency help"]),
        ("monitor", &["monitor"]),
        ("time", &["time"]),
        ("lastsave", &["lastsave"]),
        ("role", &["role"]),
        ("debug", &["debug help", "debug object a"]),
        ("del", &["del a b nosuch"]),
        ("unlink", &["unlink a b"]),
        ("exists", &["exists a b nosuch a"]),
        ("expire", &["expire a 100", "expire a 100 nx"]),
        ("pexpire", &["pexpire a 100000"]),
        ("expireat", &["expireat a 4000000000"]),
        ("pexpireat", &["pexpireat a 4000000000000"]),
        ("ttl", &["ttl a"]),
        ("pttl", &["pttl a"]),
        ("expiretime", &["expiretime a"]),
        ("pexpiretime", &["pexpiretime a"]),
        ("persist", &["persist a"]),
        ("type", &["type a"]),
        ("keys", &["keys *"]),
        ("scan", &["scan 0 match * count 100"]),
        ("rename", &["rename a c", "~rename nosuch c"]),
        ("renamenx", &["renamenx a b", "renamenx a c"]),
        ("randomkey", &["randomkey"]),
        ("dbsize", &["dbsize"]),
        ("flushdb", &["flushdb"]),
        ("flushall", &["flushall"]),
        ("swapdb", &["swapdb 0 1"]),
        (
            "copy",
            &["copy a c", "copy a b db 0 replace", "copy a c db 3"],
        ),
        ("move", &["move a 1"]),
        ("touch", &["touch a b nosuch"]),
        ("object|encoding", &["object encoding a"]),
        ("object|freq", &["~object freq a"]),
        ("object|idletime", &["object idletime a"]),
        ("object|refcount", &["object refcount a"]),
        ("object|help", &["object help"]),
        ("info", &["info", "info keyspace"]),
        (
            "memory|usage",
            &["memory usage a", "memory usage a samples 0"],
        ),
        ("memory|stats", &["memory stats"]),
        ("memory|doctor", &["memory doctor"]),
        ("memory|malloc-stats", &["memory malloc-stats"]),
        ("memory|purge", &["memory purge"]),
        ("memory|help", &["memory help"]),
        ("bgrewriteaof", &["bgrewriteaof"]),
        ("shutdown", &["shutdown abort"]),
        ("get", &["get a", "get nosuch"]),
        (
            "set",
            &["set a x", "set c x nx get", "set a x xx ex 100 get"],
        ),
        ("setnx", &["setnx c x", "setnx a x"]),
        ("setex", &["setex c 10 x"]),
        ("psetex", &["psetex c 10000 x"]),
        ("getset", &["getset a x"]),
        ("getdel", &["getdel a"]),
        ("getex", &["getex a persist", "getex a ex 100"]),
        ("mget", &["mget a b nosuch"]),
        ("mset", &["mset a 1 b 2 c 3"]),
        ("msetnx", &["msetnx c 1 d 2", "~msetnx a 1 c 2"]),
        ("incr", &["incr n"]),
        ("decr", &["decr n"]),
        ("incrby", &["incrby n 5"]),
        ("decrby", &["decrby n 5"]),
        ("incrbyfloat", &["incrbyfloat n 1.5"]),
        ("append", &["append a x", "append c x"]),
        ("strlen", &["strlen a"]),
        ("getrange", &["getrange a 0 -1"]),
        ("setrange", &["setrange a 1 x"]),
        ("substr", &["substr a 0 1"]),
        ("lcs", &["lcs a b", "lcs a b len"]),
        (
            "setbit",
            &["setbit a 5 1", "setbit c 100 1", "setbit a 1 1"],
        ),
        ("getbit", &["getbit a 1", "getbit nosuch 0"]),
        (
            "bitcount",
            &["bitcount a", "bitcount a 0 -1 bit", "bitcount c 1"],
        ),
        (
            "bitpos",
            &["bitpos a 1", "bitpos a 0 1 -1 byte", "bitpos c 0"],
        ),
        (
            "bitop",
            &["bitop and d a b", "bitop not a a", "bitop xor d nosuch c"],
        ),
        (
            "bitfield",
            &[
                "bitfield a get u8 0 set i5 #1 3 overflow fail incrby u2 0 1",
                "bitfield c get u8 0",
                "bitfield c",
            ],
        ),
        (
            "bitfield_ro",
            &["bitfield_ro a get u8 0 get i4 #3", "bitfield_ro nosuch"],
        ),
        ("sadd", &["sadd s x y"]),
        ("srem", &["srem s x"]),
        ("smembers", &["smembers s"]),
        ("sismember", &["sismember s x"]),
        ("smismember", &["smismember s x y"]),
        ("scard", &["scard s"]),
        ("spop", &["spop s", "spop s 2"]),
        ("srandmember", &["srandmember s", "srandmember s -3"]),
        ("smove", &["smove s t x", "smove s s x"]),
        ("sinter", &["sinter s t u"]),
        (
            "sintercard",
            &["sintercard 2 s t limit 1", "~sintercard 3 s t"],
        ),
        ("sinterstore", &["sinterstore d s t"]),
        ("sunion", &["sunion s t"]),
        ("sunionstore", &["sunionstore d s t"]),
        ("sdiff", &["sdiff s t"]),
        ("sdiffstore", &["sdiffstore d s t"]),
        ("sscan", &["sscan s 0 match * count 5"]),
        ("pfadd", &["pfadd h x y", "pfadd h", "pfadd a x"]),
        (
            "pfcount",
            &["pfcount h", "pfcount h h2 nosuch", "~pfcount a h"],
        ),
        (
            "pfmerge",
            &["pfmerge d h h2", "pfmerge d", "~pfmerge d a h"],
        ),
        ("pfdebug", &["pfdebug encoding h", "pfdebug getreg a"]),
        ("pfselftest", &["pfselftest"]),
        ("config|get", &["config get maxmemory*"]),
        ("config|set", &["config set timeout 0"]),
        ("config|resetstat", &["config resetstat"]),
        ("config|rewrite", &["config rewrite"]),
        ("config|help", &["config help"]),
        ("multi", &["multi"]),
        ("exec", &["exec"]),
        ("discard", &["discard"]),
        ("watch", &["watch a b nosuch"]),
        ("unwatch", &["unwatch"]),
        ("subscribe", &["subscribe ch1 ch2"]),
        ("unsubscribe", &["unsubscribe", "unsubscribe ch1"]),
        ("psubscribe", &["psubscribe p*"]),
        ("punsubscribe", &["punsubscribe p*"]),
        ("publish", &["publish ch1 hello"]),
        ("ssubscribe", &["ssubscribe ch1 ch2"]),
        ("sunsubscribe", &["sunsubscribe ch1"]),
        ("spublish", &["spublish ch1 hello"]),
        (
            "pubsub|channels",
            &["pubsub channels", "pubsub channels c*"],
        ),
        ("pubsub|numpat", &["pubsub numpat"]),
        ("pubsub|numsub", &["pubsub numsub ch1"]),
        ("pubsub|shardchannels", &["pubsub shardchannels"]),
        ("pubsub|shardnumsub", &["pubsub shardnumsub ch1"]),
        ("pubsub|help", &["pubsub help"]),
        ("zadd", &["zadd z 1 x", "zadd z xx ch 1 x", "~zadd a 1 x"]),
        ("zincrby", &["zincrby z 1 x"]),
        ("zrem", &["zrem z x y"]),
        ("zcard", &["zcard z"]),
        ("zcount", &["zcount z -inf (1"]),
        ("zlexcount", &["zlexcount z - [x"]),
        ("zscore", &["zscore z x"]),
        ("zmscore", &["zmscore z x y"]),
        ("zrank", &["zrank z x"]),
        ("zrevrank", &["zrevrank z x"]),
        (
            "zrange",
            &[
                "zrange z 0 -1 withscores",
                "zrange z +inf 0 byscore rev limit 0 1",
            ],
        ),
        (
            "zrangestore",
            &["zrangestore d z 0 -1", "~zrangestore d a 0 -1"],
        ),
        ("zrevrange", &["zrevrange z 0 -1"]),
        (
            "zrangebyscore",
            &["zrangebyscore z 0 1 withscores limit 0 1"],
        ),
        ("zrevrangebyscore", &["zrevrangebyscore z 1 0"]),
        ("zrangebylex", &["zrangebylex z - +"]),
        ("zrevrangebylex", &["zrevrangebylex z + -"]),
        ("zremrangebyscore", &["zremrangebyscore z 0 1"]),
        ("zremrangebyrank", &["zremrangebyrank z 0 1"]),
        ("zremrangebylex", &["zremrangebylex z - +"]),
        ("zpopmin", &["zpopmin z", "zpopmin z 2"]),
        ("zpopmax", &["zpopmax z 2"]),
        ("zmpop", &["zmpop 2 z y min count 2", "~zmpop 2 a z max"]),
        ("bzpopmin", &["bzpopmin z y 0", "bzpopmin x 0.5"]),
        ("bzpopmax", &["bzpopmax z 1"]),
        (
            "bzmpop",
            &["bzmpop 0 2 z y min count 2", "bzmpop 0.5 1 x max"],
        ),
        (
            "zrandmember",
            &["zrandmember z", "zrandmember z -2 withscores"],
        ),
        ("zunion", &["zunion 2 z y weights 1 2 withscores"]),
        ("zinter", &["zinter 2 z y aggregate max"]),
        ("zdiff", &["zdiff 2 z y"]),
        ("zunionstore", &["zunionstore d 2 z y", "zunionstore a 1 z"]),
        ("zinterstore", &["zinterstore d 2 z y weights 1 1"]),
        ("zdiffstore", &["zdiffstore d 2 z y"]),
        ("zintercard", &["zintercard 2 z y limit 1"]),
        ("zscan", &["zscan z 0 match * count 5"]),
        ("hset", &["hset h f v g w", "hset a f v"]),
        ("hsetnx", &["hsetnx h f v"]),
        ("hget", &["hget h f", "hget a f"]),
        ("hmget", &["hmget h f g"]),
        ("hmset", &["hmset h f v"]),
        ("hgetall", &["hgetall h"]),
        ("hdel", &["hdel h f g", "hdel a f"]),
        ("hexists", &["hexists h f"]),
        ("hlen", &["hlen h"]),
        ("hstrlen", &["hstrlen h f"]),
        ("hkeys", &["hkeys h"]),
        ("hvals", &["hvals h"]),
        ("hincrby", &["hincrby h f 5"]),
        ("hincrbyfloat", &["hincrbyfloat h f 1.5"]),
        (
            "hrandfield",
            &["hrandfield h", "hrandfield h -3 withvalues"],
        ),
        ("hscan", &["hscan h 0 match f* count 10", "hscan a 0"]),
        ("lpush", &["lpush l x y", "lpush a x"]),
        ("rpush", &["rpush l x y"]),
        ("lpushx", &["lpushx l x", "lpushx a x"]),
        ("rpushx", &["rpushx l x y"]),
        ("lpop", &["lpop l", "lpop a 2", "~lpop l -1"]),
        ("rpop", &["rpop l 0", "rpop a"]),
        ("llen", &["llen l", "llen a"]),
        ("lrange", &["lrange l 0 -1", "lrange a 0 1"]),
        ("lindex", &["lindex l 0"]),
        ("lset", &["lset l 0 x", "lset a 0 x"]),
        ("linsert", &["linsert l before p x", "linsert a after p x"]),
        ("lrem", &["lrem l 0 x"]),
        ("ltrim", &["ltrim l 0 1", "ltrim a 0 1"]),
        ("lpos", &["lpos l x rank -1 count 0 maxlen 5", "lpos a x"]),
        ("lmove", &["lmove l l left right", "~lmove a c left right"]),
        ("rpoplpush", &["~rpoplpush l c", "~rpoplpush a c"]),
        ("blpop", &["blpop l m 0", "blpop x y 0.5"]),
        ("brpop", &["brpop l 1"]),
        (
            "blmove",
            &["~blmove l c left right 0", "~blmove x c left right 0"],
        ),
        ("brpoplpush", &["~brpoplpush l c 0", "~brpoplpush x c 0"]),
        (
            "blmpop",
            &["blmpop 0 2 l m left count 2", "blmpop 0.5 1 x right"],
        ),
        (
            "lmpop",
            &[
                "lmpop 2 l m left count 2",
                "lmpop 1 a right",
                "lmpop 0 a left",
            ],
        ),
        // GLOBAL rows (every shard locked: BY/GET patterns read keys named by the data).
        (
            "sort",
            &[
                "sort a",
                "sort nosuch by w_* get # get o_*->f store d",
                "sort nosuch by nosort limit 0 1 desc alpha",
                "sort l store l",
            ],
        ),
        (
            "sort_ro",
            &["sort_ro nosuch by w_* get #", "sort_ro a alpha"],
        ),
        (
            "geoadd",
            &["geoadd g 13.4 38.1 p 15.1 37.5 c", "~geoadd a 1 2 m"],
        ),
        ("geodist", &["geodist g p c km", "geodist a p c"]),
        ("geohash", &["geohash g p nosuch"]),
        ("geopos", &["geopos g p c"]),
        (
            "geosearch",
            &[
                "geosearch g fromlonlat 15 37 byradius 200 km asc withdist",
                "geosearch g frommember p bybox 400 400 km count 1 any",
            ],
        ),
        (
            "geosearchstore",
            &[
                "geosearchstore d g fromlonlat 15 37 byradius 200 km storedist",
                "geosearchstore d nosuch frommember p byradius 1 km",
            ],
        ),
        (
            "georadius",
            &[
                "georadius g 15 37 200 km withcoord",
                "georadius g 15 37 200 km store d",
                "~georadius g 15 37 200 km store d storedist e",
                "~georadius g 15 37 200 km store d store e",
            ],
        ),
        ("georadius_ro", &["georadius_ro g 15 37 200 km count 1"]),
        (
            "georadiusbymember",
            &[
                "georadiusbymember g p 200 km desc",
                "georadiusbymember g p 200 km storedist d",
            ],
        ),
        (
            "georadiusbymember_ro",
            &["georadiusbymember_ro g p 200 km withhash"],
        ),
        ("xadd", &["xadd x 1-1 f v", "xadd x maxlen ~ 0 * f v"]),
        ("xlen", &["xlen x"]),
        ("xrange", &["xrange x - + count 2"]),
        ("xrevrange", &["xrevrange x + -"]),
        ("xdel", &["xdel x 1-1"]),
        ("xtrim", &["xtrim x maxlen 0"]),
        ("xsetid", &["xsetid x 1-1"]),
        ("xread", &["xread count 1 streams x y 0 $"]),
        ("xreadgroup", &["~xreadgroup group g c streams x y > >"]),
        ("xack", &["xack x g 1-1"]),
        ("xpending", &["xpending x g", "xpending x g - + 10"]),
        ("xclaim", &["xclaim x g c 0 1-1"]),
        ("xautoclaim", &["xautoclaim x g c 0 0"]),
        ("xgroup|create", &["xgroup create x g $ mkstream"]),
        ("xgroup|setid", &["xgroup setid x g 0"]),
        ("xgroup|destroy", &["xgroup destroy x g"]),
        ("xgroup|createconsumer", &["xgroup createconsumer x g c"]),
        ("xgroup|delconsumer", &["xgroup delconsumer x g c"]),
        ("xgroup|help", &["xgroup help"]),
        ("xinfo|stream", &["xinfo stream x", "xinfo stream a full"]),
        ("xinfo|groups", &["xinfo groups x"]),
        ("xinfo|consumers", &["xinfo consumers x g"]),
        ("xinfo|help", &["xinfo help"]),
        (
            "testctl|clock",
            &[
                "testctl clock get",
                "testctl clock advance 1000",
                "testctl clock set 5",
                "testctl clock resume",
            ],
        ),
        ("testctl|seed", &["testctl seed 42"]),
        (
            "testctl|fail",
            &[
                "testctl fail 2 err boom commands get set",
                "testctl fail 1 error LOADING",
                "testctl fail 0",
            ],
        ),
        ("testctl|delay", &["testctl delay 0"]),
        ("testctl|stall", &["testctl stall"]),
        ("testctl|release", &["testctl release"]),
        ("testctl|drop", &["testctl drop"]),
        ("testctl|refuse", &["testctl refuse 0"]),
        ("testctl|slowfsync", &["testctl slowfsync 0"]),
        ("testctl|reset", &["testctl reset"]),
        ("testctl|help", &["testctl help"]),
        // Scripts are GLOBAL (every shard locked); keys are whatever the script touches.
        ("eval", &["eval return 1 k", "eval return 0"]),
        (
            "evalsha",
            &["evalsha ffffffffffffffffffffffffffffffffffffffff 1 k"],
        ),
        ("eval_ro", &["eval_ro return 1 k"]),
        (
            "evalsha_ro",
            &["evalsha_ro ffffffffffffffffffffffffffffffffffffffff 0"],
        ),
        ("fcall", &["fcall nosuch 1 k"]),
        ("fcall_ro", &["fcall_ro nosuch 0"]),
        ("script|load", &["script load return"]),
        ("script|exists", &["script exists abc"]),
        ("script|flush", &["script flush", "script flush async"]),
        ("script|kill", &["script kill"]),
        ("script|help", &["script help"]),
        ("function|load", &["function load x"]),
        ("function|delete", &["function delete x"]),
        ("function|flush", &["function flush"]),
        ("function|list", &["function list withcode"]),
        ("function|dump", &["function dump"]),
        ("function|restore", &["function restore x"]),
        ("function|stats", &["function stats"]),
        ("function|kill", &["function kill"]),
        ("function|help", &["function help"]),
    ];

    fn argv(line: &str) -> Vec<Bytes> {
        line.split(' ')
            .map(|w| Bytes::from(w.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn every_row_has_samples() {
        let sampled: HashSet<&str> = SAMPLES.iter().map(|(n, _)| *n).collect();
        for c in all_commands() {
            let rows: Vec<&CommandSpec> = if c.subcommands.is_empty() {
                vec![c]
            } else {
                c.subcommands.iter().collect()
            };
            for r in rows {
                assert!(
                    sampled.contains(r.name),
                    "no key-spec sample for {}",
                    r.name
                );
            }
        }
    }

    #[test]
    fn handlers_touch_exactly_the_keys_their_specs_name() {
        for (name, lines) in SAMPLES {
            for line in *lines {
                let (subset, line) = match line.strip_prefix('~') {
                    Some(l) => (true, l),
                    None => (false, *line),
                };
                let config = Config {
                    enable_test_controls: true,
                    ..Config::default()
                };
                let shared = Shared::new(config, Clock::manual(1_700_000_000_000));
                let handle = Arc::new(ClientHandle::new(1, "t".into(), "t".into(), -1, 0));
                let mut session = Session::new(handle, true);
                for setup in [
                    "set a hello",
                    "set b world",
                    "set n 10",
                    "geoadd g 13.361389 38.115556 p 15.087269 37.502669 c",
                ] {
                    execute(&shared, &mut session, argv(setup));
                }
                let argv = argv(line);
                let spec = match admit(&shared, &mut session, &argv) {
                    Ok(s) => s,
                    Err(e) => panic!("{line}: {}", e.text()),
                };
                assert_eq!(spec.name, *name, "{line}");
                let mut expected = BTreeSet::new();
                spec.lock_keys(&argv, |i| {
                    expected.insert(shared.keyspace.hash(&argv[i]));
                });
                let mut locked = lock_for(&shared, spec, &argv);
                let reply = run(&shared, &mut session, spec, argv, &mut locked);
                if let Reply::Error(e) = &reply {
                    assert_ne!(e.as_ref(), OUTSIDE_KEY_SPEC, "{line}");
                }
                if spec.has(table::GLOBAL) {
                    continue;
                }
                let touched: BTreeSet<u64> = locked.take_touched().into_iter().collect();
                assert!(
                    touched.is_subset(&expected),
                    "{line}: looked up a key its specs do not name"
                );
                if !subset {
                    assert_eq!(touched, expected, "{line}: a spec key was not looked up");
                }
            }
        }
    }

    /// The safety net itself: a row whose spec misses a key gets an error reply, in every
    /// build, and the server state stays usable.
    #[test]
    fn touching_an_unlocked_shard_turns_the_reply_into_an_error() {
        fn bad(ctx: &mut Ctx, args: &mut Args) -> crate::protocol::CmdResult {
            let mut last = Reply::Nil;
            for k in args.by_ref() {
                last = ctx.db().get(&k).map_or(Reply::Nil, |_| Reply::Ok);
            }
            Ok(last)
        }
        static BAD: CommandSpec = CommandSpec::new("bad", -2, table::READONLY, 0, Keys::ONE, bad);
        let shared = Shared::new(Config::default(), Clock::manual(1_700_000_000_000));
        let handle = Arc::new(ClientHandle::new(1, "t".into(), "t".into(), -1, 0));
        let mut session = Session::new(handle, true);
        // Enough keys that some land outside the first key's shard.
        let mut argv = vec![Bytes::from_static(b"bad")];
        argv.extend((0..64).map(|i| Bytes::from(format!("key{i}"))));
        let mut locked = lock_for(&shared, &BAD, &argv);
        let reply = run(&shared, &mut session, &BAD, argv.clone(), &mut locked);
        assert!(matches!(&reply, Reply::Error(e) if e == OUTSIDE_KEY_SPEC));
        drop(locked);
        // Nothing stays locked: a later command over every shard still runs.
        let reply = execute(&shared, &mut session, vec![Bytes::from_static(b"dbsize")]);
        assert!(matches!(reply, Reply::Int(0)));
    }
}
