//! List commands (Redis 7.0), except the blocking pops. Parsing and replies here; the data
//! logic is [`ListValue`]'s.
//!
//! # For the blocking commands
//! BLPOP, BRPOP, BLMOVE, BRPOPLPUSH and BLMPOP are built on the plain functions below, which
//! do the whole write under the caller's locks — the pop or move, its keyspace events
//! (`lpop`/`rpop`, `lpush`/`rpush` on a destination, `del` when a list empties), WATCH
//! invalidation and the `dirty` count — and leave the reply and (except [`mpop`]) the
//! propagation to the caller:
//!
//! - [`pop`] — up to `count` elements from one end of one key.
//! - [`mpop`] — [`pop`] on the first non-empty key of several, propagated as
//!   `LPOP|RPOP key n` (what Redis writes for LMPOP and BLMPOP).
//! - [`move_element`] — LMOVE's pop-then-push, same-key rotation included.
//! - [`propagate_pop`] — the `LPOP key` / `RPOP key` a served BLPOP/BRPOP propagates as.
//!
//! A BLMOVE served later propagates as `LMOVE src dst from to` and a BRPOPLPUSH as
//! `RPOPLPUSH src dst`; the immediate (non-blocking) paths of both propagate that way too in
//! Redis. A push wakes clients blocked on its key through the effects path
//! (`Ctx::modified` marks the key ready; see [`crate::blocking`]), so nothing here has to.

use bytes::Bytes;

use super::table::*;
use super::Ctx;
use crate::notify;
use crate::protocol::error::NO_SUCH_KEY;
use crate::protocol::number::parse_i64;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::storage::list::Fill;
use crate::storage::{Db, Expiry, ListValue, Value};

const L: u32 = LIST;
const POP_KEY: &[KeySpec] = &[KeySpec::at(1, &["RW", "access", "delete"])];
const MOVE_KEYS: &[KeySpec] = &[
    KeySpec::at(1, &["RW", "access", "delete"]),
    KeySpec::at(2, &["RW", "insert"]),
];

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("blpop", -3, WRITE | NOSCRIPT | BLOCKING, L, Keys::range(1, -2, 1), blpop)
        .key_specs(BPOP_KEYS)
        .doc("Removes and returns the first element of the first non-empty list, blocking until one is available.", "2.0.0"),
    CommandSpec::new("brpop", -3, WRITE | NOSCRIPT | BLOCKING, L, Keys::range(1, -2, 1), brpop)
        .key_specs(BPOP_KEYS)
        .doc("Removes and returns the last element of the first non-empty list, blocking until one is available.", "2.0.0"),
    CommandSpec::new("blmove", 6, WRITE | DENYOOM | NOSCRIPT | BLOCKING, L, Keys::TWO, blmove)
        .key_specs(MOVE_KEYS)
        .doc("Pops an element from a list, pushes it to another and returns it, blocking until one is available.", "6.2.0"),
    CommandSpec::new("brpoplpush", 4, WRITE | DENYOOM | NOSCRIPT | BLOCKING, L, Keys::TWO, brpoplpush)
        .key_specs(MOVE_KEYS)
        .doc("Pops an element from a list, pushes it to another and returns it, blocking until one is available.", "2.2.0"),
    CommandSpec::new("blmpop", -5, WRITE | BLOCKING, L, Keys::NONE, blmpop)
        .key_specs(&[KeySpec::at(2, &["RW", "access", "delete"]).keynum(0, 1, 1)])
        .doc("Pops elements from the first non-empty list, blocking until one is available.", "7.0.0"),
    CommandSpec::new("lpush", -3, WRITE | DENYOOM | FAST, L, Keys::ONE, lpush)
        .doc(
            "Prepends elements to a list, creating it when missing.",
            "1.0.0",
        )
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("rpush", -3, WRITE | DENYOOM | FAST, L, Keys::ONE, rpush)
        .doc(
            "Appends elements to a list, creating it when missing.",
            "1.0.0",
        )
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("lpushx", -3, WRITE | DENYOOM | FAST, L, Keys::ONE, lpushx)
        .doc("Prepends elements to an existing list only.", "2.2.0")
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("rpushx", -3, WRITE | DENYOOM | FAST, L, Keys::ONE, rpushx)
        .doc("Appends elements to an existing list only.", "2.2.0")
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("lpop", -2, WRITE | FAST, L, Keys::ONE, lpop)
        .doc(
            "Removes and returns elements from the head of a list.",
            "1.0.0",
        )
        .key_specs(POP_KEY),
    CommandSpec::new("rpop", -2, WRITE | FAST, L, Keys::ONE, rpop)
        .doc(
            "Removes and returns elements from the tail of a list.",
            "1.0.0",
        )
        .key_specs(POP_KEY),
    CommandSpec::new("llen", 2, READONLY | FAST, L, Keys::ONE, llen)
        .doc("Returns how many elements a list holds.", "1.0.0")
        .key_flags(&["RO"]),
    CommandSpec::new("lrange", 4, READONLY, L, Keys::ONE, lrange)
        .doc(
            "Returns the elements of a list between two indexes.",
            "1.0.0",
        )
        .key_flags(&["RO", "access"]),
    CommandSpec::new("lindex", 3, READONLY, L, Keys::ONE, lindex)
        .doc("Returns the list element at an index.", "1.0.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("lset", 4, WRITE | DENYOOM, L, Keys::ONE, lset)
        .doc("Replaces the list element at an index.", "1.0.0")
        .key_flags(&["RW", "update"]),
    CommandSpec::new("linsert", 5, WRITE | DENYOOM, L, Keys::ONE, linsert)
        .doc(
            "Inserts an element next to the first occurrence of a pivot.",
            "2.2.0",
        )
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("lrem", 4, WRITE, L, Keys::ONE, lrem)
        .doc("Removes occurrences of an element from a list.", "1.0.0")
        .key_flags(&["RW", "delete"]),
    CommandSpec::new("ltrim", 4, WRITE, L, Keys::ONE, ltrim)
        .doc("Keeps only a range of a list's elements.", "1.0.0")
        .key_flags(&["RW", "delete"]),
    CommandSpec::new("lpos", -3, READONLY, L, Keys::ONE, lpos)
        .doc("Returns the indexes of matching list elements.", "6.0.6")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("lmove", 5, WRITE | DENYOOM, L, Keys::TWO, lmove)
        .doc(
            "Moves an element from one end of a list to an end of another.",
            "6.2.0",
        )
        .key_specs(MOVE_KEYS),
    CommandSpec::new("rpoplpush", 3, WRITE | DENYOOM, L, Keys::TWO, rpoplpush)
        .doc(
            "Moves the last element of a list to the head of another.",
            "1.2.0",
        )
        .key_specs(MOVE_KEYS),
    CommandSpec::new("lmpop", -4, WRITE, L, Keys::NONE, lmpop)
        .doc(
            "Pops elements from the first non-empty list of several.",
            "7.0.0",
        )
        .key_specs(&[KeySpec::at(1, &["RW", "access", "delete"]).keynum(0, 1, 1)]),
];

const POSITIVE_COUNT: &str = "ERR value is out of range, must be positive";
const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
const NUMKEYS: &str = "ERR numkeys should be greater than 0";
const MPOP_COUNT: &str = "ERR count should be greater than 0";
const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
const MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";

/// The node limit writes use (`list-max-listpack-size`).
fn fill(ctx: &Ctx) -> Fill {
    Fill(
        ctx.shared
            .encodings
            .list_max_listpack_size
            .load(std::sync::atomic::Ordering::Relaxed),
    )
}

/// The list at `key` for a read command (a counted lookup): `None` when missing.
fn read_list<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d ListValue>, CmdError> {
    super::read_as(db, key)
}

/// The list at `key` for a write command (no hit/miss counting): `None` when missing.
fn write_list<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d mut ListValue>, CmdError> {
    super::write_as(db, key)
}

/// `LEFT` → true, `RIGHT` → false, anything else a syntax error.
fn side(arg: &[u8]) -> Result<bool, CmdError> {
    if arg.eq_ignore_ascii_case(b"left") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

fn pop_event(left: bool) -> &'static str {
    if left {
        "lpop"
    } else {
        "rpop"
    }
}

fn push_event(left: bool) -> &'static str {
    if left {
        "lpush"
    } else {
        "rpush"
    }
}

/// LPUSH, RPUSH and (`existing_only`) LPUSHX, RPUSHX: one change per element, one event.
fn push_generic(ctx: &mut Ctx, args: &mut Args, left: bool, existing_only: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let values = args.rest();
    let fill = fill(ctx);
    let mut db = ctx.db();
    let len = match write_list(&mut db, &key)? {
        Some(list) => {
            for v in &values {
                list.push(v, left, fill);
            }
            list.len()
        }
        None if existing_only => return Ok(Reply::Int(0)),
        None => {
            let mut list = ListValue::new();
            for v in &values {
                list.push(v, left, fill);
            }
            let len = list.len();
            db.set(&key, Value::List(Box::new(list)), Expiry::Persist);
            len
        }
    };
    ctx.modified(&key, notify::LIST, push_event(left));
    ctx.modified_many(values.len().saturating_sub(1) as u64);
    Ok(Reply::Int(len as i64))
}

/// `LPUSH key element [element ...]` — O(1) per element.
fn lpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push_generic(ctx, args, true, false)
}

/// `RPUSH key element [element ...]` — O(1) per element.
fn rpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push_generic(ctx, args, false, false)
}

/// `LPUSHX key element [element ...]` — O(1) per element; 0 when the key is missing.
fn lpushx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push_generic(ctx, args, true, true)
}

/// `RPUSHX key element [element ...]` — O(1) per element; 0 when the key is missing.
fn rpushx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    push_generic(ctx, args, false, true)
}

/// Pops up to `count` elements from the head (`left`) or tail of the list at `key`, with the
/// write's effects: the `lpop`/`rpop` event and WATCH invalidation, one `dirty` change per
/// element, and — when the list empties — the key's removal with a `del` event.
///
/// `Ok(None)`: no such key. `Ok(Some(vec![]))` only for `count == 0` on an existing list
/// (no effects then). WRONGTYPE for a key of another type. Propagation is the caller's: a
/// command that is not propagated as sent calls [`propagate_pop`].
pub(crate) fn pop(
    ctx: &mut Ctx,
    key: &Bytes,
    left: bool,
    count: usize,
) -> Result<Option<Vec<Bytes>>, CmdError> {
    let mut db = ctx.db();
    let Some(list) = write_list(&mut db, key)? else {
        return Ok(None);
    };
    let items = list.pop_many(left, count);
    if items.is_empty() {
        return Ok(Some(items));
    }
    let emptied = list.is_empty();
    if emptied {
        db.remove(key);
    }
    ctx.modified(key, notify::LIST, pop_event(left));
    ctx.modified_many(items.len() as u64 - 1);
    if emptied {
        ctx.event(key, notify::GENERIC, "del");
    }
    Ok(Some(items))
}

/// Propagates `LPOP key [count]` / `RPOP key [count]`: how Redis replays LMPOP, BLMPOP
/// (with the number of elements actually popped) and BLPOP/BRPOP (without a count).
pub(crate) fn propagate_pop(ctx: &mut Ctx, key: &Bytes, left: bool, count: Option<usize>) {
    if ctx.propagating() {
        let name: &'static [u8] = if left { b"LPOP" } else { b"RPOP" };
        let mut argv = vec![Bytes::from_static(name), key.clone()];
        if let Some(n) = count {
            argv.push(Bytes::from(n.to_string()));
        }
        ctx.propagate(argv);
    }
}

/// LMPOP's pop: [`pop`] of up to `count` (≥ 1) elements from the first of `keys` that holds
/// a list, propagated as `LPOP|RPOP key n`. `Ok(None)`: every key is missing. WRONGTYPE
/// for the first key of another type met before a list.
pub(crate) fn mpop(
    ctx: &mut Ctx,
    keys: &[Bytes],
    left: bool,
    count: usize,
) -> Result<Option<(Bytes, Vec<Bytes>)>, CmdError> {
    for key in keys {
        if let Some(items) = pop(ctx, key, left, count.max(1))? {
            propagate_pop(ctx, key, left, Some(items.len()));
            return Ok(Some((key.clone(), items)));
        }
    }
    Ok(None)
}

/// The reply to LMPOP (and BLMPOP): `[key, [elements…]]`, or a null array.
pub(crate) fn mpop_reply(popped: Option<(Bytes, Vec<Bytes>)>) -> Reply {
    match popped {
        None => Reply::NilArray,
        Some((key, items)) => Reply::Array(vec![Reply::Bulk(key), Reply::bulks(items)]),
    }
}

/// LMOVE's write: pops one element from the head (`from_left`) or tail of `src` and pushes
/// it to the head (`to_left`) or tail of `dst`, creating `dst` when missing. Effects in
/// Redis's order: `dst`'s `lpush`/`rpush` event, then `src`'s `lpop`/`rpop`, then `del` if
/// `src` emptied; one `dirty` change. `src == dst` rotates the list (never emptying it).
///
/// `Ok(None)`: `src` is missing (`dst` is then not even looked up). WRONGTYPE when either
/// key holds another type (nothing is moved). The command is propagated as sent.
pub(crate) fn move_element(
    ctx: &mut Ctx,
    src: &Bytes,
    dst: &Bytes,
    from_left: bool,
    to_left: bool,
) -> Result<Option<Bytes>, CmdError> {
    let fill = fill(ctx);
    let mut db = ctx.db();
    if write_list(&mut db, src)?.is_none() {
        return Ok(None);
    }
    if src != dst {
        write_list(&mut db, dst)?;
    }
    let Some(value) = write_list(&mut db, src)?.and_then(|l| l.pop(from_left)) else {
        return Ok(None);
    };
    match write_list(&mut db, dst)? {
        Some(list) => list.push(&value, to_left, fill),
        None => {
            let list = ListValue::from_items([&value[..]], fill);
            db.set(dst, Value::List(Box::new(list)), Expiry::Persist);
        }
    }
    let emptied = write_list(&mut db, src)?.is_some_and(|l| l.is_empty());
    if emptied {
        db.remove(src);
    }
    ctx.modified(dst, notify::LIST, push_event(to_left));
    let index = ctx.session.db;
    ctx.also_modified_in(index, src, notify::LIST, pop_event(from_left));
    if emptied {
        ctx.event(src, notify::GENERIC, "del");
    }
    Ok(Some(value))
}

/// LPOP/RPOP: `key [count]`. Without a count one element or nil; with one an array, or a
/// null array for a missing key.
fn pop_command(ctx: &mut Ctx, args: &mut Args, left: bool) -> CmdResult {
    let key = args.next_bytes()?;
    if args.remaining() > 1 {
        return Err(CmdError::arity(ctx.spec.name));
    }
    let count = match args.next() {
        None => None,
        Some(a) => Some(
            parse_i64(&a)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(CmdError::new(POSITIVE_COUNT))?,
        ),
    };
    let popped = pop(ctx, &key, left, count.unwrap_or(1))?;
    Ok(match (popped, count) {
        (None, None) => Reply::Nil,
        (None, Some(_)) => Reply::NilArray,
        (Some(items), None) => Reply::opt_bulk(items.into_iter().next()),
        (Some(items), Some(_)) => Reply::bulks(items),
    })
}

/// `LPOP key [count]` — O(count).
fn lpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    pop_command(ctx, args, true)
}

/// `RPOP key [count]` — O(count).
fn rpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    pop_command(ctx, args, false)
}

/// `LLEN key` — O(1).
fn llen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        read_list(&mut db, &key)?.map_or(0, ListValue::len) as i64,
    ))
}

/// `LRANGE key start stop` — O(S + N): S to reach `start`, N elements returned.
fn lrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    let mut db = ctx.db();
    let Some(list) = read_list(&mut db, &key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    Ok(Reply::bulks(
        list.range(start, end).map(Bytes::copy_from_slice),
    ))
}

/// `LINDEX key index` — O(N) in the distance from the nearer end, by node.
fn lindex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(list) = read_list(&mut db, &key)? else {
        return Ok(Reply::Nil);
    };
    let index = args.next_i64()?;
    Ok(Reply::opt_bulk(list.get(index).map(Bytes::copy_from_slice)))
}

/// `LSET key index element` — O(N) to reach the index.
fn lset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let fill = fill(ctx);
    let mut db = ctx.db();
    let Some(list) = write_list(&mut db, &key)? else {
        return Err(CmdError::new(NO_SUCH_KEY));
    };
    let index = args.next_i64()?;
    let value = args.next_bytes()?;
    if !list.set(index, &value, fill) {
        return Err(CmdError::new(INDEX_OUT_OF_RANGE));
    }
    ctx.modified(&key, notify::LIST, "lset");
    Ok(Reply::Ok)
}

/// `LINSERT key BEFORE|AFTER pivot element` — O(N) to find the pivot. The new length, 0 for
/// a missing key, -1 when the pivot is not found.
fn linsert(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let place = args.next_bytes()?;
    let after = if place.eq_ignore_ascii_case(b"after") {
        true
    } else if place.eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(CmdError::syntax());
    };
    let pivot = args.next_bytes()?;
    let value = args.next_bytes()?;
    let fill = fill(ctx);
    let mut db = ctx.db();
    let Some(list) = write_list(&mut db, &key)? else {
        return Ok(Reply::Int(0));
    };
    let Some(len) = list.insert(&pivot, after, &value, fill) else {
        return Ok(Reply::Int(-1));
    };
    ctx.modified(&key, notify::LIST, "linsert");
    Ok(Reply::Int(len as i64))
}

/// `LREM key count element` — O(N). Removes the first `count` matches (from the tail when
/// negative, all when 0); one change per removed element.
fn lrem(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let count = args.next_i64()?;
    let value = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(list) = write_list(&mut db, &key)? else {
        return Ok(Reply::Int(0));
    };
    let removed = list.remove(&value, count);
    let emptied = list.is_empty();
    if removed == 0 {
        return Ok(Reply::Int(0));
    }
    if emptied {
        db.remove(&key);
    }
    ctx.modified(&key, notify::LIST, "lrem");
    ctx.modified_many(removed as u64 - 1);
    if emptied {
        ctx.event(&key, notify::GENERIC, "del");
    }
    Ok(Reply::Int(removed as i64))
}

/// `LTRIM key start stop` — O(N) in the elements removed. The `ltrim` event fires even when
/// nothing is removed (as in Redis), but only removed elements count as changes, so a no-op
/// trim is not propagated.
fn ltrim(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    let mut db = ctx.db();
    let Some(list) = write_list(&mut db, &key)? else {
        return Ok(Reply::Ok);
    };
    let removed = list.trim(start, end);
    let emptied = list.is_empty();
    if emptied {
        db.remove(&key);
    }
    let index = ctx.session.db;
    ctx.also_modified_in(index, &key, notify::LIST, "ltrim");
    ctx.modified_many(removed as u64);
    if emptied {
        ctx.event(&key, notify::GENERIC, "del");
    }
    Ok(Reply::Ok)
}

/// `LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]` — O(N). One index or
/// nil without COUNT; an array with it (COUNT 0: every match).
fn lpos(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let element = args.next_bytes()?;
    let (mut rank, mut count, mut maxlen) = (1i64, None, 0i64);
    while let Some(opt) = args.next() {
        let more = !args.is_empty();
        if opt.eq_ignore_ascii_case(b"rank") && more {
            rank = args.next_i64()?;
            if rank == 0 {
                return Err(CmdError::new(RANK_ZERO));
            }
        } else if opt.eq_ignore_ascii_case(b"count") && more {
            // Anything but a non-negative integer gets the same text, as in Redis.
            let n = parse_i64(&args.next_bytes()?).filter(|&n| n >= 0);
            count = Some(n.ok_or(CmdError::new(COUNT_NEGATIVE))?);
        } else if opt.eq_ignore_ascii_case(b"maxlen") && more {
            maxlen = parse_i64(&args.next_bytes()?)
                .filter(|&n| n >= 0)
                .ok_or(CmdError::new(MAXLEN_NEGATIVE))?;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let mut db = ctx.db();
    let Some(list) = read_list(&mut db, &key)? else {
        return Ok(match count {
            Some(_) => Reply::Array(Vec::new()),
            None => Reply::Nil,
        });
    };
    let limit = count.map_or(1, |n| n as usize);
    let found = list.positions(&element, rank, limit, maxlen as usize);
    Ok(match count {
        Some(_) => Reply::Array(found.into_iter().map(|i| Reply::Int(i as i64)).collect()),
        None => found.first().map_or(Reply::Nil, |&i| Reply::Int(i as i64)),
    })
}

/// `LMOVE source destination LEFT|RIGHT LEFT|RIGHT` — O(1).
fn lmove(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let from_left = side(&args.next_bytes()?)?;
    let to_left = side(&args.next_bytes()?)?;
    Ok(Reply::opt_bulk(move_element(
        ctx, &src, &dst, from_left, to_left,
    )?))
}

/// `RPOPLPUSH source destination` — O(1); LMOVE `source destination RIGHT LEFT`.
fn rpoplpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    Ok(Reply::opt_bulk(move_element(ctx, &src, &dst, false, true)?))
}

/// `LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]` — O(N + M): N keys looked at, M
/// elements popped.
fn lmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (keys, left, count) = parse_mpop(args)?;
    Ok(mpop_reply(mpop(ctx, &keys, left, count)?))
}

/// `numkeys key [key ...] LEFT|RIGHT [COUNT count]` of LMPOP and BLMPOP.
fn parse_mpop(args: &mut Args) -> Result<(Vec<Bytes>, bool, usize), CmdError> {
    let numkeys = parse_i64(&args.next_bytes()?)
        .filter(|&n| n > 0)
        .ok_or(CmdError::new(NUMKEYS))?;
    // The side must follow the keys.
    if numkeys as u64 >= args.remaining() as u64 {
        return Err(CmdError::syntax());
    }
    let keys: Vec<Bytes> = (0..numkeys)
        .map(|_| args.next_bytes())
        .collect::<Result<_, _>>()?;
    let left = side(&args.next_bytes()?)?;
    let mut count = None;
    while let Some(opt) = args.next() {
        if count.is_none() && opt.eq_ignore_ascii_case(b"count") && !args.is_empty() {
            let n = parse_i64(&args.next_bytes()?)
                .filter(|&n| n > 0)
                .ok_or(CmdError::new(MPOP_COUNT))?;
            count = Some(n as usize);
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok((keys, left, count.unwrap_or(1)))
}

fn side_word(left: bool) -> &'static [u8] {
    if left {
        b"LEFT"
    } else {
        b"RIGHT"
    }
}

/// The keys of BLPOP/BRPOP: every argument but the trailing timeout.
const BPOP_KEYS: &[KeySpec] = &[KeySpec::at(1, &["RW", "access", "delete"]).range(-2, 1, 0)];

/// `BLPOP key [key ...] timeout` — O(N) keys: pops the head of the first non-empty list, or
/// blocks (see [`crate::blocking`]); `[key, element]`, or a null array on timeout.
fn blpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bpop(ctx, args, true)
}

/// `BRPOP key [key ...] timeout` — as BLPOP, from the tail.
fn brpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bpop(ctx, args, false)
}

fn bpop(ctx: &mut Ctx, args: &mut Args, left: bool) -> CmdResult {
    let mut keys = args.rest();
    let timeout = super::blocking::parse_timeout(&keys.pop().unwrap_or_default())?;
    for key in &keys {
        // Served later, a key that now holds another type is passed over (Redis serves only
        // waiters of the key's type); on the first call it is WRONGTYPE.
        match pop(ctx, key, left, 1) {
            Ok(Some(mut items)) if !items.is_empty() => {
                propagate_pop(ctx, key, left, None);
                let item = items.swap_remove(0);
                return Ok(Reply::Array(vec![
                    Reply::Bulk(key.clone()),
                    Reply::Bulk(item),
                ]));
            }
            Ok(_) => {}
            Err(_) if ctx.serving_blocked() => {}
            Err(e) => return Err(e),
        }
    }
    ctx.block(args, &keys, timeout, Reply::NilArray)
}

/// `BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout` — O(1): LMOVE, or blocks until
/// `source` has an element; the element, or nil on timeout.
fn blmove(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let from_left = side(&args.next_bytes()?)?;
    let to_left = side(&args.next_bytes()?)?;
    let timeout = super::blocking::parse_timeout(&args.next_bytes()?)?;
    bmove(ctx, args, "blmove", src, dst, from_left, to_left, timeout)
}

/// `BRPOPLPUSH source destination timeout` — BLMOVE … RIGHT LEFT.
fn brpoplpush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let timeout = super::blocking::parse_timeout(&args.next_bytes()?)?;
    bmove(ctx, args, "brpoplpush", src, dst, false, true, timeout)
}

#[allow(clippy::too_many_arguments)]
fn bmove(
    ctx: &mut Ctx,
    args: &Args,
    name: &str,
    src: Bytes,
    dst: Bytes,
    from_left: bool,
    to_left: bool,
    timeout: Option<std::time::Duration>,
) -> CmdResult {
    let blocked_on = src.clone();
    match move_element(ctx, &src, &dst, from_left, to_left) {
        Ok(Some(item)) => {
            if ctx.propagating() {
                let argv = match name {
                    "blmove" => vec![
                        Bytes::from_static(b"LMOVE"),
                        src,
                        dst,
                        Bytes::from_static(side_word(from_left)),
                        Bytes::from_static(side_word(to_left)),
                    ],
                    _ => vec![Bytes::from_static(b"RPOPLPUSH"), src, dst],
                };
                ctx.propagate(argv);
            }
            return Ok(Reply::Bulk(item));
        }
        Ok(None) => {}
        Err(_) if ctx.serving_blocked() => {}
        Err(e) => return Err(e),
    }
    // On timeout Redis answers every blocking list command with a null array.
    ctx.block(args, &[blocked_on], timeout, Reply::NilArray)
}

/// `BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]` — LMPOP, or blocks.
fn blmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let timeout = super::blocking::parse_timeout(&args.next_bytes()?)?;
    let (keys, left, count) = parse_mpop(args)?;
    match mpop(ctx, &keys, left, count) {
        Ok(Some(popped)) => return Ok(mpop_reply(Some(popped))),
        Ok(None) => {}
        Err(_) if ctx.serving_blocked() => {}
        Err(e) => return Err(e),
    }
    ctx.block(args, &keys, timeout, Reply::NilArray)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;
    use proptest::prelude::*;

    use crate::clock::Clock;
    use crate::commands::execute;
    use crate::config::Config;
    use crate::protocol::Reply;
    use crate::session::{ClientHandle, Session};
    use crate::shared::Shared;

    fn argv(line: &str) -> Vec<Bytes> {
        line.split(' ')
            .map(|w| Bytes::from(w.as_bytes().to_vec()))
            .collect()
    }

    fn harness() -> (Shared, Session) {
        let shared = Shared::new(Config::default(), Clock::manual(1_700_000_000_000));
        let handle = Arc::new(ClientHandle::new(1, "t".into(), "t".into(), -1, 0));
        (shared, Session::new(handle, true))
    }

    /// What each command propagates, as Redis 7.0.15 wrote it to its AOF for the same
    /// sequence (`--appendonly yes --aof-use-rdb-preamble no`): LMPOP becomes `LPOP|RPOP key
    /// n` with the number actually popped; no-op writes (an LTRIM keeping everything, an LREM
    /// or LINSERT finding nothing, LPOP … 0) propagate nothing; the rest goes as sent.
    #[test]
    fn propagates_what_redis_writes_to_its_aof() {
        let (shared, mut session) = harness();
        shared.keyspace.propagation.set_enabled(true);
        let cases: &[(&str, &[&str])] = &[
            ("rpush l a b c", &["SELECT 0", "rpush l a b c"]),
            ("lpush l z", &["lpush l z"]),
            ("lpop l", &["lpop l"]),
            ("rpop l 2", &["rpop l 2"]),
            ("lpop l 0", &[]),
            ("lpop nosuch", &[]),
            ("rpush l a b c a", &["rpush l a b c a"]),
            ("linsert l after b q", &["linsert l after b q"]),
            ("linsert l after zz q", &[]),
            ("lset l 1 w", &["lset l 1 w"]),
            ("lrem l 0 a", &["lrem l 0 a"]),
            ("lrem l 0 zz", &[]),
            ("ltrim l 0 -1", &[]),
            ("ltrim l 1 10", &["ltrim l 1 10"]),
            ("rpush s 1 2 3", &["rpush s 1 2 3"]),
            ("lmove s s left right", &["lmove s s left right"]),
            ("lmove s d right left", &["lmove s d right left"]),
            ("rpoplpush s d", &["rpoplpush s d"]),
            ("lmpop 2 x s right count 5", &["RPOP s 1"]),
            ("rpush s 1 2", &["rpush s 1 2"]),
            ("lmpop 1 s left", &["LPOP s 1"]),
            ("lmpop 1 nosuch left", &[]),
            ("lpushx nosuch a", &[]),
            ("lpos d 1", &[]),
        ];
        for (line, want) in cases {
            let reply = execute(&shared, &mut session, argv(line));
            assert!(!reply.is_error(), "{line}: {reply:?}");
            let got: Vec<String> = shared.keyspace.propagation.drain_text();
            assert_eq!(got, *want, "{line}");
        }
    }

    #[test]
    fn dirty_counts_elements_like_redis() {
        let (shared, mut session) = harness();
        let dirty = |s: &Shared| {
            s.keyspace
                .stats
                .dirty
                .load(std::sync::atomic::Ordering::Relaxed)
        };
        // Deltas Redis 7.0.15 reported in INFO `rdb_changes_since_last_save`.
        let cases = [
            ("rpush l a b c d e", 5),
            ("lpop l", 1),
            ("lpop l 2", 2),
            ("lpop l 0", 0),
            ("lpop l 10", 2),
            ("rpush l a b c a b c a", 7),
            ("lrem l 2 a", 2),
            ("ltrim l 0 -1", 0),
            ("ltrim l 1 1", 4),
            ("lset l 0 y", 1),
            ("rpush l2 1 2 3", 3),
            ("lmpop 2 nosuch l2 left count 2", 2),
            ("lmove l2 l2 left right", 1),
            ("lmove l2 dst left left", 1),
            ("lpushx nosuch a b", 0),
            ("rpushx dst c d", 2),
        ];
        for (line, want) in cases {
            let before = dirty(&shared);
            execute(&shared, &mut session, argv(line));
            assert_eq!(dirty(&shared) - before, want, "{line}");
        }
    }

    #[test]
    fn lists_report_quicklist_and_vanish_when_emptied() {
        let (shared, mut session) = harness();
        let mut run = |line: &str| execute(&shared, &mut session, argv(line));
        run("rpush l a");
        assert_eq!(run("object encoding l"), Reply::Bulk("quicklist".into()));
        assert_eq!(run("type l"), Reply::Status("list".into()));
        run("rpop l");
        assert_eq!(run("exists l"), Reply::Int(0));
    }

    const WORDS: &[&str] = &[
        "l",
        "m",
        "s",
        "a",
        "0",
        "1",
        "2",
        "-1",
        "-2",
        "3",
        "100",
        "-100",
        "LEFT",
        "RIGHT",
        "left",
        "BEFORE",
        "AFTER",
        "RANK",
        "COUNT",
        "MAXLEN",
        "x",
        "",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999",
    ];
    const NAMES: &[&str] = &[
        "lpush",
        "rpush",
        "lpushx",
        "rpushx",
        "lpop",
        "rpop",
        "llen",
        "lrange",
        "lindex",
        "lset",
        "linsert",
        "lrem",
        "ltrim",
        "lpos",
        "lmove",
        "rpoplpush",
        "lmpop",
        "set",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Whatever list requests arrive, dispatch answers, never panics, and no empty list
        /// is ever left stored.
        #[test]
        fn list_requests_never_panic(
            reqs in prop::collection::vec(
                (prop::sample::select(NAMES), prop::collection::vec(prop::sample::select(WORDS), 0..7)),
                1..25,
            )
        ) {
            let (shared, mut session) = harness();
            execute(&shared, &mut session, argv("config set list-max-listpack-size 2"));
            for (name, words) in reqs {
                let mut a = vec![Bytes::from_static(name.as_bytes())];
                a.extend(words.iter().map(|w| Bytes::from_static(w.as_bytes())));
                let reply = execute(&shared, &mut session, a);
                let mut out = bytes::BytesMut::new();
                reply.encode(&mut out, session.resp3);
                prop_assert!(!out.is_empty());
                for key in ["l", "m", "s", "a"] {
                    let len = execute(&shared, &mut session, argv(&format!("llen {key}")));
                    let exists = execute(&shared, &mut session, argv(&format!("exists {key}")));
                    if len == Reply::Int(0) {
                        prop_assert_eq!(exists, Reply::Int(0));
                    }
                }
            }
        }
    }
}
