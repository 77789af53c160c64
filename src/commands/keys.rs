//! Generic keyspace commands: deletion, expiry, type, enumeration (KEYS, SCAN, RANDOMKEY),
//! renaming, copying between databases, OBJECT, and the database-wide DBSIZE, FLUSHDB,
//! FLUSHALL and SWAPDB.

use bytes::Bytes;

use super::connection::help_reply;
use super::table::*;
use super::Ctx;
use crate::notify;
use crate::protocol::error::{INVALID_CURSOR, NO_SUCH_KEY};
use crate::protocol::number::parse_i64;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::storage::glob::glob_match;
use crate::storage::Entry;

const K: u32 = KEYSPACE;

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("del", -2, WRITE, K, Keys::ALL, del)
        .doc("Deletes one or more keys.", "1.0.0")
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .key_flags(&["RM", "delete"]),
    CommandSpec::new("unlink", -2, WRITE | FAST, K, Keys::ALL, del)
        .doc("Asynchronously deletes one or more keys.", "4.0.0")
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .key_flags(&["RM", "delete"]),
    CommandSpec::new("exists", -2, READONLY | FAST, K, Keys::ALL, exists)
        .doc("Determines whether one or more keys exist.", "1.0.0")
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .key_flags(&["RO"]),
    CommandSpec::new("expire", -3, WRITE | FAST, K, Keys::ONE, expire)
        .doc("Sets the expiration time of a key in seconds.", "1.0.0")
        .key_flags(&["RW", "update"]),
    CommandSpec::new("pexpire", -3, WRITE | FAST, K, Keys::ONE, pexpire)
        .doc("Sets the expiration time of a key in milliseconds.", "2.6.0")
        .key_flags(&["RW", "update"]),
    CommandSpec::new("expireat", -3, WRITE | FAST, K, Keys::ONE, expireat)
        .doc("Sets the expiration time of a key to a Unix timestamp.", "1.2.0")
        .key_flags(&["RW", "update"]),
    CommandSpec::new("pexpireat", -3, WRITE | FAST, K, Keys::ONE, pexpireat)
        .doc("Sets the expiration time of a key to a Unix milliseconds timestamp.", "2.6.0")
        .key_flags(&["RW", "update"]),
    CommandSpec::new("ttl", 2, READONLY | FAST, K, Keys::ONE, ttl)
        .doc("Returns the expiration time in seconds of a key.", "1.0.0")
        .tips(&["nondeterministic_output"])
        .key_flags(&["RO", "access"]),
    CommandSpec::new("pttl", 2, READONLY | FAST, K, Keys::ONE, pttl)
        .doc("Returns the expiration time in milliseconds of a key.", "2.6.0")
        .tips(&["nondeterministic_output"])
        .key_flags(&["RO", "access"]),
    CommandSpec::new("expiretime", 2, READONLY | FAST, K, Keys::ONE, expiretime)
        .doc("Returns the expiration time of a key as a Unix timestamp.", "7.0.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("pexpiretime", 2, READONLY | FAST, K, Keys::ONE, pexpiretime)
        .doc("Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("persist", 2, WRITE | FAST, K, Keys::ONE, persist)
        .doc("Removes the expiration time of a key.", "2.2.0")
        .key_flags(&["RW", "update"]),
    CommandSpec::new("type", 2, READONLY | FAST, K, Keys::ONE, type_)
        .doc("Determines the type of value stored at a key.", "1.0.0")
        .key_flags(&["RO"]),
    CommandSpec::new("keys", 2, READONLY | GLOBAL, K | DANGEROUS, Keys::NONE, keys)
        .doc("Returns all key names that match a pattern.", "1.0.0")
        .tips(&["request_policy:all_shards", "nondeterministic_output_order"]),
    CommandSpec::new("scan", -2, READONLY | GLOBAL, K, Keys::NONE, scan)
        .doc("Iterates over the key names in the database.", "2.8.0")
        .tips(&["nondeterministic_output", "request_policy:special"]),
    CommandSpec::new("rename", 3, WRITE, K, Keys::TWO, rename)
        .doc("Renames a key and overwrites the destination.", "1.0.0")
        .key_specs(&[
            KeySpec::at(1, &["RW", "access", "delete"]),
            KeySpec::at(2, &["OW", "update"]),
        ]),
    CommandSpec::new("renamenx", 3, WRITE | FAST, K, Keys::TWO, renamenx)
        .doc("Renames a key only when the target key name doesn't exist.", "1.0.0")
        .key_specs(&[
            KeySpec::at(1, &["RW", "access", "delete"]),
            KeySpec::at(2, &["OW", "insert"]),
        ]),
    CommandSpec::new("randomkey", 1, READONLY | GLOBAL, K, Keys::NONE, randomkey)
        .doc("Returns a random key name from the database.", "1.0.0")
        .tips(&["request_policy:all_shards", "nondeterministic_output"]),
    CommandSpec::new("dbsize", 1, READONLY | FAST | GLOBAL, K, Keys::NONE, dbsize)
        .doc("Returns the number of keys in the database.", "1.0.0")
        .tips(&["request_policy:all_shards", "response_policy:agg_sum"]),
    CommandSpec::new("flushdb", -1, WRITE | GLOBAL, K | DANGEROUS, Keys::NONE, flushdb)
        .doc("Remove all keys from the current database.", "1.0.0")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("flushall", -1, WRITE | GLOBAL, K | DANGEROUS, Keys::NONE, flushall)
        .doc("Removes all keys from all databases.", "1.0.0")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("swapdb", 3, WRITE | FAST | GLOBAL, K | DANGEROUS, Keys::NONE, swapdb)
        .doc("Swaps two Redis databases.", "4.0.0"),
    CommandSpec::new("copy", -3, WRITE | DENYOOM, K, Keys::TWO, copy)
        .doc("Copies the value of a key to a new key.", "6.2.0")
        .key_specs(&[KeySpec::at(1, &["RO", "access"]), KeySpec::at(2, &["OW", "update"])]),
    CommandSpec::new("move", 3, WRITE | FAST, K, Keys::ONE, move_)
        .doc("Moves a key to another database.", "1.0.0")
        .key_flags(&["RW", "access", "update"]),
    CommandSpec::new("touch", -2, READONLY | FAST, K, Keys::ALL, touch)
        .doc("Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1")
        .tips(&["request_policy:multi_shard", "response_policy:agg_sum"])
        .key_flags(&["RO"]),
    CommandSpec::container("object", 0, "A container for object introspection commands.", OBJECT_SUBS),
];

const OBJECT_KEY: Keys = Keys::range(2, 2, 1);
const OBJECT_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "object|encoding",
        3,
        READONLY,
        K,
        OBJECT_KEY,
        object_encoding,
    )
    .doc("Returns the internal encoding of a Redis object.", "2.2.3")
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO"]),
    CommandSpec::new("object|freq", 3, READONLY, K, OBJECT_KEY, object_freq)
        .doc(
            "Returns the logarithmic access frequency counter of a Redis object.",
            "4.0.0",
        )
        .tips(&["nondeterministic_output"])
        .key_flags(&["RO"]),
    CommandSpec::new(
        "object|idletime",
        3,
        READONLY,
        K,
        OBJECT_KEY,
        object_idletime,
    )
    .doc(
        "Returns the time since the last access to a Redis object.",
        "2.2.3",
    )
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO"]),
    CommandSpec::new(
        "object|refcount",
        3,
        READONLY,
        K,
        OBJECT_KEY,
        object_refcount,
    )
    .doc("Returns the reference count of a value of a key.", "2.2.3")
    .tips(&["nondeterministic_output"])
    .key_flags(&["RO"]),
    CommandSpec::new(
        "object|help",
        2,
        LOADING | STALE,
        K,
        Keys::NONE,
        object_help,
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "6.2.0",
    ),
];

/// Unit of an expiry argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Unit {
    Seconds,
    Millis,
}

/// Turns an expiry argument into an absolute time in ms, or `None` on overflow (which the
/// caller reports as `invalid expire time in '<cmd>' command`).
pub(super) fn absolute_deadline(now: u64, n: i64, unit: Unit, relative: bool) -> Option<i64> {
    let ms = match unit {
        Unit::Seconds => n.checked_mul(1000)?,
        Unit::Millis => n,
    };
    if relative {
        ms.checked_add(now as i64)
    } else {
        Some(ms)
    }
}

/// `DEL key [key ...]` and `UNLINK` — O(N) keys.
fn del(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    let mut db = ctx.db();
    let mut n = 0;
    let mut removed = Vec::new();
    for k in &keys {
        if let Some(entry) = db.remove(k) {
            n += 1;
            removed.push(k);
            // A big collection is freed off the request path (DEL and UNLINK alike).
            if entry.value().free_effort() > crate::storage::lazyfree::THRESHOLD {
                crate::storage::lazyfree::drop_later(entry);
            }
        }
    }
    for k in removed {
        ctx.modified(k, notify::GENERIC, "del");
    }
    Ok(Reply::Int(n))
}

/// `EXISTS key [key ...]` — O(N); a key named twice counts twice.
fn exists(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    let mut db = ctx.db();
    Ok(Reply::Int(
        keys.iter().filter(|k| db.peek(k).is_some()).count() as i64,
    ))
}

/// `TOUCH key [key ...]` — O(N): updates access times, counts existing keys.
fn touch(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    let mut db = ctx.db();
    Ok(Reply::Int(
        keys.iter().filter(|k| db.get(k).is_some()).count() as i64,
    ))
}

#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

fn expire_generic(ctx: &mut Ctx, args: &mut Args, unit: Unit, relative: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let when = args.next_bytes()?;
    let mut f = ExpireFlags::default();
    let opts = args.rest();
    for opt in &opts {
        match opt.to_ascii_lowercase().as_slice() {
            b"nx" => f.nx = true,
            b"xx" => f.xx = true,
            b"gt" => f.gt = true,
            b"lt" => f.lt = true,
            _ => {
                return Err(CmdError::msg(format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(opt)
                )))
            }
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        return Err(CmdError::new(
            "ERR NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if f.gt && f.lt {
        return Err(CmdError::new(
            "ERR GT and LT options at the same time are not compatible",
        ));
    }
    let n = parse_i64(&when).ok_or(CmdError::not_integer())?;
    let now = ctx.now();
    let at = absolute_deadline(now, n, unit, relative)
        .ok_or_else(|| CmdError::invalid_expire(ctx.spec.name))?;
    let mut db = ctx.db();
    let Some(entry) = db.get_mut(&key) else {
        return Ok(Reply::Int(0));
    };
    let current = entry.expire_at().map(|t| t as i64);
    let refused = (f.nx && current.is_some())
        || (f.xx && current.is_none())
        || (f.gt && current.is_none_or(|c| at <= c))
        || (f.lt && current.is_some_and(|c| at >= c));
    if refused {
        return Ok(Reply::Int(0));
    }
    if at <= now as i64 {
        // A deadline already past deletes the key, and replays as the DEL it was.
        db.remove(&key);
        ctx.modified(&key, notify::GENERIC, "del");
        if ctx.propagating() {
            ctx.propagate(vec![Bytes::from_static(b"DEL"), key]);
        }
    } else {
        db.set_expiry(&key, Some(at as u64));
        ctx.modified(&key, notify::GENERIC, "expire");
        // Replays must not depend on when they run: anything but PEXPIREAT becomes one,
        // keeping the NX/XX/GT/LT options as sent (as Redis does).
        if ctx.propagating() && (relative || unit == Unit::Seconds) {
            let at = Bytes::from(at.to_string());
            let mut argv = vec![Bytes::from_static(b"PEXPIREAT"), key, at];
            argv.extend(opts);
            ctx.propagate(argv);
        }
    }
    Ok(Reply::Int(1))
}

/// `EXPIRE key seconds [NX|XX|GT|LT]` — O(1).
fn expire(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, Unit::Seconds, true)
}

/// `PEXPIRE key milliseconds [NX|XX|GT|LT]` — O(1).
fn pexpire(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, Unit::Millis, true)
}

/// `EXPIREAT key unix-time-seconds [NX|XX|GT|LT]` — O(1).
fn expireat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, Unit::Seconds, false)
}

/// `PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]` — O(1).
fn pexpireat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    expire_generic(ctx, args, Unit::Millis, false)
}

/// Shared by TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 missing, -1 persistent.
fn ttl_generic(ctx: &mut Ctx, args: &mut Args, ms: bool, absolute: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let now = ctx.now();
    let mut db = ctx.db();
    let Some(entry) = db.peek(&key) else {
        return Ok(Reply::Int(-2));
    };
    let Some(at) = entry.expire_at() else {
        return Ok(Reply::Int(-1));
    };
    let v = if absolute {
        at as i64
    } else {
        at.saturating_sub(now) as i64
    };
    // Rounded to the nearest second; i128 so a deadline near i64::MAX does not overflow.
    Ok(Reply::Int(if ms {
        v
    } else {
        ((i128::from(v) + 500) / 1000) as i64
    }))
}

/// `TTL key` — O(1), rounded to the nearest second.
fn ttl(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, false, false)
}

/// `PTTL key` — O(1).
fn pttl(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, true, false)
}

/// `EXPIRETIME key` — O(1).
fn expiretime(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, false, true)
}

/// `PEXPIRETIME key` — O(1).
fn pexpiretime(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    ttl_generic(ctx, args, true, true)
}

/// `PERSIST key` — O(1).
fn persist(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let had = db.get_mut(&key).and_then(|e| e.expire_at()).is_some();
    if !had {
        return Ok(Reply::Int(0));
    }
    db.set_expiry(&key, None);
    ctx.modified(&key, notify::GENERIC, "persist");
    Ok(Reply::Int(1))
}

/// `TYPE key` — O(1).
fn type_(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::status(
        db.peek(&key).map_or("none", |e| e.value().type_name()),
    ))
}

/// Pattern filter; `*` alone matches every key (even the empty one), as in Redis.
fn key_filter(pattern: Option<&[u8]>) -> impl Fn(&[u8]) -> bool + '_ {
    move |k: &[u8]| match pattern {
        None | Some(b"*") => true,
        Some(p) => glob_match(p, k, false),
    }
}

/// `KEYS pattern` — O(N) keys.
fn keys(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let pattern = args.next_bytes()?;
    let matches = key_filter(Some(&pattern));
    let mut out = Vec::new();
    ctx.db().for_each_live(|k, _| {
        if matches(k) {
            out.push(Reply::Bulk(Bytes::copy_from_slice(k)));
        }
    });
    Ok(Reply::Array(out))
}

/// `SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]` — O(1) per call, O(N) per
/// full iteration. Every key present for the whole iteration is returned at least once.
fn scan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let cursor = args.next_bytes()?;
    let cursor = parse_cursor(&cursor).ok_or(CmdError::new(INVALID_CURSOR))?;
    let mut count = 10usize;
    let mut pattern: Option<Bytes> = None;
    let mut type_name: Option<Bytes> = None;
    while !args.is_empty() {
        let opt = args.next_bytes()?.to_ascii_lowercase();
        if args.is_empty() {
            return Err(CmdError::syntax());
        }
        match opt.as_slice() {
            b"count" => {
                let n = args.next_i64()?;
                if n < 1 {
                    return Err(CmdError::syntax());
                }
                count = n as usize;
            }
            b"match" => pattern = Some(args.next_bytes()?),
            b"type" => type_name = Some(args.next_bytes()?),
            _ => return Err(CmdError::syntax()),
        }
    }
    let matches = key_filter(pattern.as_deref());
    let mut keys = Vec::new();
    let next = ctx.db().scan(cursor, count, |k, e: &Entry| {
        let type_ok = type_name
            .as_ref()
            .is_none_or(|t| t.eq_ignore_ascii_case(e.value().type_name().as_bytes()));
        if type_ok && matches(k) {
            keys.push(Reply::Bulk(Bytes::copy_from_slice(k)));
        }
    });
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::Array(keys),
    ]))
}

/// Reads a cursor as Redis does with `strtoul`: an optional sign (`-1` wraps to the largest
/// cursor), decimal digits, nothing after them; no leading space; no overflow. An empty
/// string reads as 0, and a NUL byte ends the number (Redis passes a C string).
pub(super) fn parse_cursor(s: &[u8]) -> Option<u64> {
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    let (neg, digits) = match s.first() {
        None => return Some(0),
        Some(c) if c.is_ascii_whitespace() || *c == 0x0b => return None,
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

fn rename_generic(ctx: &mut Ctx, args: &mut Args, nx: bool) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let mut db = ctx.db();
    if !db.contains(&src) {
        return Err(CmdError::new(NO_SUCH_KEY));
    }
    if src == dst {
        return Ok(if nx { Reply::Int(0) } else { Reply::Ok });
    }
    if nx && db.contains(&dst) {
        return Ok(Reply::Int(0));
    }
    if let Some(entry) = db.remove(&src) {
        db.set_entry(&dst, entry);
    }
    ctx.modified(&src, notify::GENERIC, "rename_from");
    ctx.also_modified_in(ctx.session.db, &dst, notify::GENERIC, "rename_to");
    Ok(if nx { Reply::Int(1) } else { Reply::Ok })
}

/// `RENAME key newkey` — O(1).
fn rename(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rename_generic(ctx, args, false)
}

/// `RENAMENX key newkey` — O(1).
fn renamenx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rename_generic(ctx, args, true)
}

/// `RANDOMKEY` — O(1).
fn randomkey(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let rng = ctx.rng();
    Ok(Reply::opt_bulk(ctx.db().random_key(|| rng.next_u64())))
}

/// `DBSIZE` — O(1) per shard.
fn dbsize(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Reply::Int(ctx.db().len() as i64))
}

/// `[ASYNC|SYNC]` of FLUSHDB/FLUSHALL. Both free memory before replying here.
/// Parses `[ASYNC|SYNC]`; true for ASYNC (free the data in the background).
fn flush_mode(args: &mut Args) -> Result<bool, CmdError> {
    match args.remaining() {
        0 => Ok(false),
        1 if args.eat("async") => Ok(true),
        1 if args.eat("sync") => Ok(false),
        _ => Err(CmdError::syntax()),
    }
}

/// `FLUSHDB [ASYNC|SYNC]` — O(N).
fn flushdb(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let lazy = flush_mode(args)?;
    let mut db = ctx.db();
    let n = db.len() as u64;
    db.clear(lazy);
    // Redis counts the keys removed (none for an empty database) but propagates the flush
    // whatever it removed.
    ctx.modified_many(n);
    ctx.propagate_as_sent(args);
    Ok(Reply::Ok)
}

/// `FLUSHALL [ASYNC|SYNC]` — O(N).
fn flushall(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let lazy = flush_mode(args)?;
    let n: u64 = (0..ctx.shared.keyspace.databases())
        .map(|i| ctx.db_at(i).len() as u64)
        .sum();
    ctx.locked().flush_all(lazy);
    // As FLUSHDB: the keys removed count, and the flush propagates even when there were none.
    ctx.modified_many(n);
    ctx.propagate_as_sent(args);
    Ok(Reply::Ok)
}

/// `SWAPDB index1 index2` — O(1) per shard.
fn swapdb(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let a = args.next_bytes()?;
    let b = args.next_bytes()?;
    let a = parse_i64(&a).ok_or(CmdError::new("ERR invalid first DB index"))?;
    let b = parse_i64(&b).ok_or(CmdError::new("ERR invalid second DB index"))?;
    let n = ctx.shared.keyspace.databases() as i64;
    if !(0..n).contains(&a) || !(0..n).contains(&b) {
        return Err(CmdError::new(crate::protocol::error::DB_OUT_OF_RANGE));
    }
    if a != b {
        ctx.locked().swap_dbs(a as usize, b as usize);
    }
    // Swapping a database with itself changes nothing, but Redis still counts and
    // propagates it.
    ctx.modified_many(1);
    Ok(Reply::Ok)
}

/// `COPY source destination [DB destination-db] [REPLACE]` — O(N) in the value size.
fn copy(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let mut target = ctx.session.db;
    let mut replace = false;
    while !args.is_empty() {
        if args.eat("replace") {
            replace = true;
        } else if args.remaining() >= 2 && args.eat("db") {
            let n = args.next_bytes()?;
            target = ctx.db_index(&n)?;
        } else {
            return Err(CmdError::syntax());
        }
    }
    if src == dst && target == ctx.session.db {
        return Err(CmdError::new(
            "ERR source and destination objects are the same",
        ));
    }
    let Some(entry) = ctx.db().get(&src).cloned() else {
        return Ok(Reply::Int(0));
    };
    let mut to = ctx.db_at(target);
    if to.contains(&dst) && !replace {
        return Ok(Reply::Int(0));
    }
    to.set_entry(&dst, entry);
    ctx.modified_in(target, &dst, notify::GENERIC, "copy_to");
    Ok(Reply::Int(1))
}

/// `MOVE key db` — O(1).
fn move_(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let target = args.next_bytes()?;
    let target = ctx.db_index(&target)?;
    if target == ctx.session.db {
        return Err(CmdError::new(
            "ERR source and destination objects are the same",
        ));
    }
    if !ctx.db().contains(&key) || ctx.db_at(target).contains(&key) {
        return Ok(Reply::Int(0));
    }
    if let Some(entry) = ctx.db().remove(&key) {
        ctx.db_at(target).set_entry(&key, entry);
    }
    ctx.modified(&key, notify::GENERIC, "move_from");
    ctx.also_modified_in(target, &key, notify::GENERIC, "move_to");
    Ok(Reply::Int(1))
}

fn object_entry<T>(
    ctx: &mut Ctx,
    args: &mut Args,
    f: impl FnOnce(&Entry, u64) -> T,
) -> Result<Option<T>, CmdError> {
    let key = args.next_bytes()?;
    let now = ctx.now();
    let mut db = ctx.db();
    Ok(db.peek(&key).map(|e| f(e, now)))
}

/// `OBJECT ENCODING key` — O(1).
fn object_encoding(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    Ok(object_entry(ctx, args, |e, _| e.value().encoding())?.map_or(Reply::Nil, Reply::bulk))
}

/// `OBJECT REFCOUNT key` — O(1).
fn object_refcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    Ok(object_entry(ctx, args, |e, _| e.value().refcount())?.map_or(Reply::Nil, Reply::Int))
}

/// `OBJECT IDLETIME key` — O(1): seconds since the key was last read or written. Under an
/// LFU policy access times are not what is tracked, and Redis refuses.
fn object_idletime(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let lfu = ctx.shared.keyspace.lfu();
    match object_entry(ctx, args, |e, now| now.saturating_sub(e.access_ms()) / 1000)? {
        None => Ok(Reply::Nil),
        Some(_) if lfu => Err(CmdError::new(
            "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        )),
        Some(idle) => Ok(Reply::Int(idle as i64)),
    }
}

/// `OBJECT FREQ key` — O(1): the key's logarithmic access counter, decayed to now; only
/// tracked under an LFU eviction policy.
fn object_freq(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let ks = &ctx.shared.keyspace;
    let (lfu, params) = (ks.lfu(), ks.lfu_params());
    let Some(freq) = object_entry(ctx, args, |e, now| {
        crate::storage::value::decayed_counter(e.access_word(), now, params)
    })?
    else {
        return Ok(Reply::Nil);
    };
    if !lfu {
        return Err(CmdError::new(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
        ));
    }
    Ok(Reply::Int(i64::from(freq)))
}

/// `OBJECT HELP`.
fn object_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "OBJECT",
        &[
            (
                "ENCODING <key>",
                "Return the internal representation used to store the value at <key>.",
            ),
            (
                "FREQ <key>",
                "Return the logarithmic access frequency counter of <key> (LFU policies only).",
            ),
            (
                "IDLETIME <key>",
                "Return the seconds since <key> was last read or written.",
            ),
            (
                "REFCOUNT <key>",
                "Return the number of references to the value at <key>.",
            ),
            ("HELP", "Print this help."),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"007"), Some(7));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b"18446744073709551616"[..],
            b" 0",
            b"1.5",
            b"abc",
            b"+",
            b"-",
            b"1 ",
        ] {
            assert_eq!(
                parse_cursor(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn deadlines_detect_overflow() {
        assert_eq!(
            absolute_deadline(1_000, 5, Unit::Seconds, true),
            Some(6_000)
        );
        assert_eq!(absolute_deadline(1_000, 5, Unit::Millis, false), Some(5));
        assert_eq!(absolute_deadline(0, i64::MAX, Unit::Seconds, true), None);
        assert_eq!(absolute_deadline(10, i64::MAX, Unit::Millis, true), None);
    }
}
