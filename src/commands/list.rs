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
//! Redis. Every place where a push leaves a key holding a non-empty list carries a
//! `// READY:` line for the wake-up hook.

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
    CommandSpec::new("lpush", -3, WRITE | DENYOOM | FAST, L, Keys::ONE, lpush)
        .doc("Prepends elements to a list, creating it when missing.", "1.0.0")
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("rpush", -3, WRITE | DENYOOM | FAST, L, Keys::ONE, rpush)
        .doc("Appends elements to a list, creating it when missing.", "1.0.0")
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("lpushx", -3, WRITE | DENYOOM | FAST, L, Keys::ONE, lpushx)
        .doc("Prepends elements to an existing list only.", "2.2.0")
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("rpushx", -3, WRITE | DENYOOM | FAST, L, Keys::ONE, rpushx)
        .doc("Appends elements to an existing list only.", "2.2.0")
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("lpop", -2, WRITE | FAST, L, Keys::ONE, lpop)
        .doc("Removes and returns elements from the head of a list.", "1.0.0")
        .key_specs(POP_KEY),
    CommandSpec::new("rpop", -2, WRITE | FAST, L, Keys::ONE, rpop)
        .doc("Removes and returns elements from the tail of a list.", "1.0.0")
        .key_specs(POP_KEY),
    CommandSpec::new("llen", 2, READONLY | FAST, L, Keys::ONE, llen)
        .doc("Returns how many elements a list holds.", "1.0.0")
        .key_flags(&["RO"]),
    CommandSpec::new("lrange", 4, READONLY, L, Keys::ONE, lrange)
        .doc("Returns the elements of a list between two indexes.", "1.0.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("lindex", 3, READONLY, L, Keys::ONE, lindex)
        .doc("Returns the list element at an index.", "1.0.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("lset", 4, WRITE | DENYOOM, L, Keys::ONE, lset)
        .doc("Replaces the list element at an index.", "1.0.0")
        .key_flags(&["RW", "update"]),
    CommandSpec::new("linsert", 5, WRITE | DENYOOM, L, Keys::ONE, linsert)
        .doc("Inserts an element next to the first occurrence of a pivot.", "2.2.0")
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
        .doc("Moves an element from one end of a list to an end of another.", "6.2.0")
        .key_specs(MOVE_KEYS),
    CommandSpec::new("rpoplpush", 3, WRITE | DENYOOM, L, Keys::TWO, rpoplpush)
        .doc("Moves the last element of a list to the head of another.", "1.2.0")
        .key_specs(MOVE_KEYS),
    CommandSpec::new("lmpop", -4, WRITE, L, Keys::NONE, lmpop)
        .doc("Pops elements from the first non-empty list of several.", "7.0.0")
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
    match db.get(key).map(|e| e.value()) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(CmdError::wrongtype()),
    }
}

/// The list at `key` for a write command (no hit/miss counting): `None` when missing.
fn write_list<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d mut ListValue>, CmdError> {
    match db.get_mut(key).map(|e| e.value_mut()) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(CmdError::wrongtype()),
    }
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
    // READY: `key` holds a non-empty list (created by or pushed to by LPUSH/RPUSH/LPUSHX/RPUSHX)
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
    // READY: `dst` holds a non-empty list (the LMOVE/RPOPLPUSH destination)
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
    // READY: `key` holds a non-empty list (LINSERT added an element)
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
            let n = args.next_i64()?;
            if n < 0 {
                return Err(CmdError::new(COUNT_NEGATIVE));
            }
            count = Some(n);
        } else if opt.eq_ignore_ascii_case(b"maxlen") && more {
            maxlen = args.next_i64()?;
            if maxlen < 0 {
                return Err(CmdError::new(MAXLEN_NEGATIVE));
            }
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
        None => found
            .first()
            .map_or(Reply::Nil, |&i| Reply::Int(i as i64)),
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
    Ok(mpop_reply(mpop(ctx, &keys, left, count.unwrap_or(1))?))
}
