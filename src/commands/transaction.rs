//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! Inside MULTI, [`super::execute`] queues every command but the few that act on the
//! transaction itself ([`runs_in_multi`]); a command rejected while queuing (unknown, wrong
//! arity, NOAUTH, `no-multi`) dooms the transaction and EXEC answers EXECABORT.
//!
//! EXEC is a `GLOBAL` command: dispatch locks every shard for it, and its handler runs each
//! queued command through [`super::run`] under those same locks — no client sees half a
//! transaction, and commands that need the whole keyspace (KEYS, FLUSHALL, INFO keyspace…)
//! read through the locks already held instead of taking them again. The queued commands'
//! writes form one propagation unit, wrapped in MULTI/EXEC when there is more than one.
//!
//! WATCH registers the client in the watch registry of each key's shard (under the key's
//! lock); every write to a watched key sets the client's flag under the same lock, so EXEC,
//! holding every shard, sees any change made before it — including expiry, flushes and
//! swaps, which take the same effects path.

use bytes::Bytes;

use super::table::*;
use super::{run, CommandSpec, Ctx, Keys};
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::session::{Multi, Session};
use crate::shared::Shared;

const FLAGS: u32 = NOSCRIPT | LOADING | STALE;

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "multi",
        1,
        FLAGS | FAST | ALLOW_BUSY,
        TRANSACTION,
        Keys::NONE,
        multi,
    )
    .doc("Starts a transaction.", "1.2.0"),
    CommandSpec::new(
        "exec",
        1,
        FLAGS | SKIP_SLOWLOG | GLOBAL,
        TRANSACTION,
        Keys::NONE,
        exec,
    )
    .doc("Executes all commands in a transaction.", "1.2.0"),
    CommandSpec::new(
        "discard",
        1,
        FLAGS | FAST | ALLOW_BUSY,
        TRANSACTION,
        Keys::NONE,
        discard,
    )
    .doc("Discards a transaction.", "2.0.0"),
    CommandSpec::new(
        "watch",
        -2,
        FLAGS | FAST | ALLOW_BUSY,
        TRANSACTION,
        Keys::ALL,
        watch,
    )
    .key_flags(&["RO"])
    .doc(
        "Monitors changes to keys to determine the execution of a transaction.",
        "2.2.0",
    ),
    CommandSpec::new(
        "unwatch",
        1,
        FLAGS | FAST | ALLOW_BUSY,
        TRANSACTION,
        Keys::NONE,
        unwatch,
    )
    .doc("Forgets about watched keys of a transaction.", "2.2.0"),
];

/// Whether `spec` runs at once inside MULTI rather than being queued: the commands that act
/// on the transaction or the connection itself.
pub(super) fn runs_in_multi(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// Queues a command inside MULTI (`+QUEUED`), or rejects a `no-multi` one.
pub(super) fn queue(session: &mut Session, spec: &CommandSpec, argv: Vec<Bytes>) -> Reply {
    let Some(multi) = session.multi.as_mut() else {
        return Reply::Ok;
    };
    if spec.has(NO_MULTI) {
        multi.failed = true;
        return Reply::Error("ERR Command not allowed inside a transaction".into());
    }
    // A doomed transaction needs no more of its commands.
    if !multi.failed {
        multi.queue.push(argv);
        multi.denyoom |= spec.has(super::table::DENYOOM);
    }
    session.sync_tx_meta();
    Reply::Status("QUEUED".into())
}

/// Forgets every watched key of the session (UNWATCH, EXEC, DISCARD, RESET, disconnect).
pub fn unwatch_all(shared: &Shared, session: &mut Session) {
    if !session.watched.is_empty() {
        let keys = std::mem::take(&mut session.watched);
        shared.keyspace.unwatch(session.id, &keys);
    }
    session
        .watch_dirty
        .store(false, std::sync::atomic::Ordering::Relaxed);
}

/// Ends a transaction, queued or not, and forgets its watched keys.
pub fn discard_transaction(shared: &Shared, session: &mut Session) {
    session.multi = None;
    unwatch_all(shared, session);
    session.sync_tx_meta();
}

/// `MULTI` — O(1).
fn multi(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    if ctx.session.multi.is_some() {
        return Err(CmdError::new("ERR MULTI calls can not be nested"));
    }
    ctx.session.multi = Some(Multi::default());
    ctx.session.sync_tx_meta();
    Ok(Reply::Ok)
}

/// `DISCARD` — O(N) in the queued commands.
fn discard(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    if ctx.session.multi.is_none() {
        return Err(CmdError::new("ERR DISCARD without MULTI"));
    }
    discard_transaction(ctx.shared, ctx.session);
    Ok(Reply::Ok)
}

/// `EXEC` — runs the queued commands atomically (every shard is locked for it).
fn exec(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let Some(multi) = ctx.session.multi.take() else {
        return Err(CmdError::new("ERR EXEC without MULTI"));
    };
    if multi.failed {
        let keys = std::mem::take(&mut ctx.session.watched);
        let id = ctx.session.id;
        ctx.locked().unwatch(id, &keys);
        ctx.session
            .watch_dirty
            .store(false, std::sync::atomic::Ordering::Relaxed);
        ctx.session.sync_tx_meta();
        return Err(CmdError::new(
            "EXECABORT Transaction discarded because of previous errors.",
        ));
    }
    // A watched key that expired since WATCH but was not reclaimed yet counts as changed
    // too (one already expired at WATCH does not). Checked without reclaiming it, so EXEC
    // propagates no DEL of its own, as in Redis.
    let id = ctx.session.id;
    let watched = ctx.session.watched.clone();
    let expired = watched
        .iter()
        .any(|(db, key)| ctx.locked().watched_key_expired(id, *db, key));
    if ctx
        .session
        .watch_dirty
        .swap(false, std::sync::atomic::Ordering::Relaxed)
        || expired
    {
        let keys = std::mem::take(&mut ctx.session.watched);
        let id = ctx.session.id;
        ctx.locked().unwatch(id, &keys);
        ctx.session.sync_tx_meta();
        return Ok(Reply::NilArray);
    }
    let keys = std::mem::take(&mut ctx.session.watched);
    let id = ctx.session.id;
    ctx.locked().unwatch(id, &keys);
    let mut replies = Vec::with_capacity(multi.queue.len());
    ctx.session.in_exec = true;
    for argv in multi.queue {
        // Resolved again: the queue holds what the client sent, and resolving is a lookup.
        let reply = match super::resolve(&argv) {
            Ok(spec) => run(ctx.shared, ctx.session, spec, argv, ctx.locked),
            Err(e) => e.into(),
        };
        replies.push(reply);
    }
    ctx.session.in_exec = false;
    ctx.session.sync_tx_meta();
    // EXEC itself propagates nothing: its commands did, as one unit.
    ctx.propagate_nothing();
    Ok(Reply::Array(replies))
}

/// `WATCH key [key ...]` — O(1) per key.
fn watch(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if ctx.session.multi.is_some() {
        return Err(CmdError::new("ERR WATCH inside MULTI is not allowed"));
    }
    let db = ctx.session.db;
    let flag = ctx.session.watch_dirty.clone();
    let id = ctx.session.id;
    for key in args.rest() {
        if ctx
            .session
            .watched
            .iter()
            .any(|(d, k)| *d == db && *k == key)
        {
            continue;
        }
        ctx.locked().watch(db, &key, id, &flag);
        ctx.session.watched.push((db, key));
    }
    ctx.session.sync_tx_meta();
    Ok(Reply::Ok)
}

/// `UNWATCH` — O(N) in the watched keys.
fn unwatch(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    unwatch_all(ctx.shared, ctx.session);
    ctx.session.sync_tx_meta();
    Ok(Reply::Ok)
}
