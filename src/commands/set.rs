//! Set commands. Parsing, replies and effects here; the data logic is [`SetValue`]'s.
//!
//! Multi-key commands (SINTER, SUNION, SDIFF and their STORE/CARD forms) read their keys in
//! two passes, because the keyspace lends one value at a time: the first pass looks every
//! key up as Redis's read lookups do (hit/miss counting, lazy expiry, WRONGTYPE at the first
//! key of another type) and notes each set's size; the second visits the sets again, in the
//! order the algorithm wants, folding them into an accumulator.

use bytes::Bytes;

use super::keys::parse_cursor;
use super::table::*;
use super::Ctx;
use crate::notify;
use crate::protocol::error::INVALID_CURSOR;
use crate::protocol::number::parse_i64;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::shared::EncodingLimits;
use crate::storage::glob::glob_match;
use crate::storage::set::Member;
use crate::storage::{Db, Expiry, SetValue, Value};

const S: u32 = SET;

const RW_INSERT: &[&str] = &["RW", "insert"];
const RO_ACCESS: &[&str] = &["RO", "access"];
const ORDER: &[&str] = &["nondeterministic_output_order"];
const RANDOM: &[&str] = &["nondeterministic_output"];

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, WRITE | DENYOOM | FAST, S, Keys::ONE, sadd)
        .doc("Adds members to a set, creating it if needed.", "1.0.0")
        .key_flags(RW_INSERT),
    CommandSpec::new("srem", -3, WRITE | FAST, S, Keys::ONE, srem)
        .doc(
            "Removes members from a set, deleting it once empty.",
            "1.0.0",
        )
        .key_flags(&["RW", "delete"]),
    CommandSpec::new("smembers", 2, READONLY, S, Keys::ONE, smembers)
        .doc("Returns every member of a set.", "1.0.0")
        .tips(ORDER)
        .key_flags(RO_ACCESS),
    CommandSpec::new("sismember", 3, READONLY | FAST, S, Keys::ONE, sismember)
        .doc("Tells whether a value is a member of a set.", "1.0.0")
        .key_flags(&["RO"]),
    CommandSpec::new("smismember", -3, READONLY | FAST, S, Keys::ONE, smismember)
        .doc(
            "Tells, for each of several values, whether it is a member of a set.",
            "6.2.0",
        )
        .key_flags(RO_ACCESS),
    CommandSpec::new("scard", 2, READONLY | FAST, S, Keys::ONE, scard)
        .doc("Returns how many members a set has.", "1.0.0")
        .key_flags(&["RO"]),
    CommandSpec::new("spop", -2, WRITE | FAST, S, Keys::ONE, spop)
        .doc(
            "Removes random members from a set and returns them.",
            "1.0.0",
        )
        .tips(RANDOM)
        .key_flags(&["RW", "access", "delete"]),
    CommandSpec::new("srandmember", -2, READONLY, S, Keys::ONE, srandmember)
        .doc(
            "Returns random members of a set, leaving it unchanged.",
            "1.0.0",
        )
        .tips(RANDOM)
        .key_flags(RO_ACCESS),
    CommandSpec::new("smove", 4, WRITE | FAST, S, Keys::TWO, smove)
        .doc("Moves a member from one set to another.", "1.0.0")
        .key_specs(&[
            KeySpec::at(1, &["RW", "access", "delete"]),
            KeySpec::at(2, RW_INSERT),
        ]),
    CommandSpec::new("sinter", -2, READONLY, S, Keys::ALL, sinter)
        .doc("Returns the members every given set has.", "1.0.0")
        .tips(ORDER)
        .key_flags(RO_ACCESS),
    CommandSpec::new("sintercard", -3, READONLY, S, Keys::NONE, sintercard)
        .doc(
            "Counts the members every given set has, optionally stopping at a limit.",
            "7.0.0",
        )
        .key_specs(&[KeySpec::at(1, RO_ACCESS).keynum(0, 1, 1)]),
    CommandSpec::new(
        "sinterstore",
        -3,
        WRITE | DENYOOM,
        S,
        Keys::ALL,
        sinterstore,
    )
    .doc("Stores the members every given set has in a key.", "1.0.0")
    .key_specs(&[
        KeySpec::at(1, &["RW", "update"]),
        KeySpec::at(2, RO_ACCESS).range(-1, 1, 0),
    ]),
    CommandSpec::new("sunion", -2, READONLY, S, Keys::ALL, sunion)
        .doc("Returns the members any of the given sets has.", "1.0.0")
        .tips(ORDER)
        .key_flags(RO_ACCESS),
    CommandSpec::new(
        "sunionstore",
        -3,
        WRITE | DENYOOM,
        S,
        Keys::ALL,
        sunionstore,
    )
    .doc(
        "Stores the members any of the given sets has in a key.",
        "1.0.0",
    )
    .key_specs(&[
        KeySpec::at(1, &["OW", "update"]),
        KeySpec::at(2, RO_ACCESS).range(-1, 1, 0),
    ]),
    CommandSpec::new("sdiff", -2, READONLY, S, Keys::ALL, sdiff)
        .doc(
            "Returns the members of the first set that no other given set has.",
            "1.0.0",
        )
        .tips(ORDER)
        .key_flags(RO_ACCESS),
    CommandSpec::new("sdiffstore", -3, WRITE | DENYOOM, S, Keys::ALL, sdiffstore)
        .doc(
            "Stores the members of the first set that no other given set has in a key.",
            "1.0.0",
        )
        .key_specs(&[
            KeySpec::at(1, &["OW", "update"]),
            KeySpec::at(2, RO_ACCESS).range(-1, 1, 0),
        ]),
    CommandSpec::new("sscan", -3, READONLY, S, Keys::ONE, sscan)
        .doc("Iterates over the members of a set.", "2.8.0")
        .tips(RANDOM)
        .key_flags(RO_ACCESS),
];

/// Largest reply SRANDMEMBER builds for a negative count. Redis streams such a reply and
/// would run out of memory long before `-9223372036854775807` members; a reply here is a
/// value built before it is sent, so a count beyond this is refused instead.
const MAX_RANDOM_REPLY: u64 = 1 << 26;

/// `set-max-intset-entries` as writes read it.
fn max_intset(ctx: &Ctx) -> u64 {
    EncodingLimits::get(&ctx.shared.encodings.set_max_intset_entries)
}

/// The set at `key` for a read command (a counted lookup): `None` when missing, WRONGTYPE
/// for other types.
fn read_set<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d SetValue>, CmdError> {
    super::read_as(db, key)
}

/// The set at `key` for a write command (no hit/miss counting).
fn write_set<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d mut SetValue>, CmdError> {
    super::write_as(db, key)
}

/// The server's random source for one call (see [`crate::rng`]).
struct Rng(crate::rng::Stream);

impl Rng {
    fn new(ctx: &Ctx) -> Rng {
        Rng(ctx.rng())
    }

    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
}

fn bulks(members: Vec<Bytes>) -> Vec<Reply> {
    members.into_iter().map(Reply::Bulk).collect()
}

/// `SADD key member [member ...]` — O(1) per member (O(N) into an intset).
fn sadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let max = max_intset(ctx);
    let mut db = ctx.db();
    let added = match write_set(&mut db, &key)? {
        Some(set) => members.iter().filter(|m| set.insert(m, max)).count(),
        None => {
            let set = SetValue::from_members(members.iter().map(|m| m.as_ref()), max);
            let n = set.len();
            db.set(&key, Value::Set(set), Expiry::Persist);
            n
        }
    };
    if added > 0 {
        ctx.modified(&key, notify::SET, "sadd");
        ctx.modified_many(added as u64 - 1);
    }
    Ok(Reply::Int(added as i64))
}

/// `SREM key member [member ...]` — O(N) members.
fn srem(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let mut db = ctx.db();
    let Some(set) = write_set(&mut db, &key)? else {
        return Ok(Reply::Int(0));
    };
    let mut removed = 0u64;
    for m in &members {
        if set.remove(m) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    let emptied = set.is_empty();
    if emptied {
        db.remove(&key);
    }
    if removed > 0 {
        ctx.modified(&key, notify::SET, "srem");
        ctx.modified_many(removed - 1);
        if emptied {
            ctx.event(&key, notify::GENERIC, "del");
        }
    }
    Ok(Reply::Int(removed as i64))
}

/// `SMEMBERS key` — O(N).
fn smembers(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let members = read_set(&mut db, &key)?.map(SetValue::members);
    Ok(Reply::Set(bulks(members.unwrap_or_default())))
}

/// `SISMEMBER key member` — O(1) (O(log N) in an intset).
fn sismember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let mut db = ctx.db();
    let hit = read_set(&mut db, &key)?.is_some_and(|s| s.contains(&member));
    Ok(Reply::Int(i64::from(hit)))
}

/// `SMISMEMBER key member [member ...]` — O(N) members.
fn smismember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let mut db = ctx.db();
    let set = read_set(&mut db, &key)?;
    Ok(Reply::Array(
        members
            .iter()
            .map(|m| Reply::Int(i64::from(set.is_some_and(|s| s.contains(m)))))
            .collect(),
    ))
}

/// `SCARD key` — O(1).
fn scard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        read_set(&mut db, &key)?.map_or(0, SetValue::len) as i64,
    ))
}

/// `SPOP key [count]` — O(1) without a count, O(count) with one. Replays as `SREM` of each
/// popped member (one per member, as Redis writes them), or as `DEL` (`UNLINK` under
/// `lazyfree-lazy-server-del`) when the count takes the whole set.
fn spop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    if args.remaining() > 1 {
        return Err(CmdError::syntax());
    }
    let count = match args.peek() {
        None => None,
        Some(c) => match parse_i64(c) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => return Err(CmdError::new("ERR value is out of range, must be positive")),
        },
    };
    let max = max_intset(ctx);
    let mut rng = Rng::new(ctx);
    let mut db = ctx.db();
    let Some(set) = write_set(&mut db, &key)? else {
        return Ok(match count {
            None => Reply::Nil,
            Some(_) => Reply::Set(Vec::new()),
        });
    };
    let Some(count) = count else {
        let i = (rng.next() % set.len() as u64) as usize;
        let member = set.remove_nth(i);
        let emptied = set.is_empty();
        if emptied {
            db.remove(&key);
        }
        ctx.modified(&key, notify::SET, "spop");
        if emptied {
            ctx.event(&key, notify::GENERIC, "del");
        }
        if ctx.propagating() {
            ctx.propagate(vec![Bytes::from_static(b"SREM"), key, member.clone()]);
        }
        return Ok(Reply::Bulk(member));
    };
    if count == 0 {
        return Ok(Reply::Set(Vec::new()));
    }
    let whole = count >= set.len() as u64;
    let popped = set.pop_random(count as usize, max, &mut || rng.next());
    if whole {
        db.remove(&key);
    }
    ctx.modified(&key, notify::SET, "spop");
    ctx.modified_many(popped.len() as u64 - 1);
    if whole {
        ctx.event(&key, notify::GENERIC, "del");
    }
    if ctx.propagating() {
        if whole {
            let del: &'static [u8] = if ctx.shared.config.read().lazyfree_lazy_server_del {
                b"UNLINK"
            } else {
                b"DEL"
            };
            ctx.propagate(vec![Bytes::from_static(del), key]);
        } else {
            for m in &popped {
                ctx.propagate(vec![Bytes::from_static(b"SREM"), key.clone(), m.clone()]);
            }
        }
    }
    Ok(Reply::Set(bulks(popped)))
}

/// `SRANDMEMBER key [count]` — O(1) without a count, O(|count|) with one.
fn srandmember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    if args.remaining() > 1 {
        return Err(CmdError::syntax());
    }
    let count = match args.peek() {
        None => None,
        Some(c) => {
            let n = parse_i64(c).ok_or(CmdError::not_integer())?;
            if n == i64::MIN {
                return Err(CmdError::new("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"));
            }
            Some(n)
        }
    };
    let mut rng = Rng::new(ctx);
    let mut db = ctx.db();
    let set = read_set(&mut db, &key)?;
    let Some(count) = count else {
        return Ok(set.map_or(Reply::Nil, |s| {
            let i = (rng.next() % s.len() as u64) as usize;
            Reply::Bulk(s.nth(i).to_bytes())
        }));
    };
    let Some(set) = set else {
        return Ok(Reply::Array(Vec::new()));
    };
    if count < 0 && count.unsigned_abs() > MAX_RANDOM_REPLY {
        return Err(CmdError::new(
            "ERR count is too large: a reply is limited to 67108864 members",
        ));
    }
    Ok(Reply::Array(bulks(
        set.random_members(count, &mut || rng.next()),
    )))
}

/// What a key holds, for commands that check several keys before acting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holds {
    Nothing,
    Set,
    Other,
}

fn holds(db: &mut Db, key: &[u8]) -> Holds {
    match db.get_mut(key).map(|e| e.value()) {
        None => Holds::Nothing,
        Some(Value::Set(_)) => Holds::Set,
        Some(_) => Holds::Other,
    }
}

/// `SMOVE source destination member` — O(1).
fn smove(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let src = args.next_bytes()?;
    let dst = args.next_bytes()?;
    let member = args.next_bytes()?;
    let max = max_intset(ctx);
    let mut db = ctx.db();
    let (from, to) = (holds(&mut db, &src), holds(&mut db, &dst));
    if from == Holds::Nothing {
        return Ok(Reply::Int(0));
    }
    if from == Holds::Other || to == Holds::Other {
        return Err(CmdError::wrongtype());
    }
    let Some(set) = write_set(&mut db, &src)? else {
        return Ok(Reply::Int(0));
    };
    if src == dst {
        return Ok(Reply::Int(i64::from(set.contains(&member))));
    }
    if !set.remove(&member) {
        return Ok(Reply::Int(0));
    }
    let emptied = set.is_empty();
    if emptied {
        db.remove(&src);
    }
    // Redis's order: the source's events, then the destination's (created if needed).
    ctx.modified(&src, notify::SET, "srem");
    if emptied {
        ctx.event(&src, notify::GENERIC, "del");
    }
    let mut db = ctx.db();
    let added = match write_set(&mut db, &dst)? {
        Some(set) => set.insert(&member, max),
        None => {
            let set = SetValue::from_members([member.as_ref()], max);
            db.set(&dst, Value::Set(set), Expiry::Persist);
            true
        }
    };
    if added {
        ctx.modified(&dst, notify::SET, "sadd");
    } else {
        // Already a member: no change to count or announce, but WATCH still sees the touch.
        let index = ctx.session.db;
        ctx.locked().touch_watched(index, &dst);
    }
    Ok(Reply::Int(1))
}

/// First pass of a multi-key read: every key looked up as a read (counted), each set's size
/// (`None`: no such key). Stops with WRONGTYPE at the first key of another type.
fn sizes(db: &mut Db, keys: &[Bytes]) -> Result<Vec<Option<usize>>, CmdError> {
    keys.iter()
        .map(|k| read_set(db, k).map(|s| s.map(SetValue::len)))
        .collect()
}

/// The members every set of `keys` has, in the order of the smallest set (as Redis walks
/// it); empty as soon as one key is missing.
fn intersect(db: &mut Db, keys: &[Bytes]) -> Result<Vec<Bytes>, CmdError> {
    let sizes = sizes(db, keys)?;
    let Some(sizes) = sizes.into_iter().collect::<Option<Vec<usize>>>() else {
        return Ok(Vec::new());
    };
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let mut candidates = Vec::new();
    for (n, &i) in order.iter().enumerate() {
        let Some(Value::Set(set)) = db.get_mut(&keys[i]).map(|e| e.value()) else {
            return Ok(Vec::new());
        };
        if n == 0 {
            candidates = set.members();
        } else {
            set.retain_members_in(&mut candidates);
        }
        if candidates.is_empty() {
            break;
        }
    }
    Ok(candidates)
}

/// The union (`diff == false`) or difference of the sets of `keys`, built as Redis builds
/// it — an intset that converts as members arrive — so its encoding matches once stored.
fn union_or_diff(db: &mut Db, keys: &[Bytes], diff: bool, max: u64) -> Result<SetValue, CmdError> {
    let sizes = sizes(db, keys)?;
    let mut result = SetValue::new();
    let visit = |db: &mut Db, i: usize, f: &mut dyn FnMut(&SetValue)| {
        if let Some(Value::Set(set)) = db.get_mut(&keys[i]).map(|e| e.value()) {
            f(set);
        }
    };
    if !diff {
        for i in 0..keys.len() {
            visit(db, i, &mut |s| {
                result.add_all(s, max);
            });
        }
        return Ok(result);
    }
    let Some(first) = sizes[0] else {
        return Ok(result);
    };
    // Redis picks between two algorithms by estimated work, and the choice shows in the
    // stored encoding: (1) keep the first set's members no other set has, checking the
    // largest sets first; (2) copy the first set and remove every other set's members.
    let present = sizes.iter().flatten().count();
    let one = first * present / 2;
    let two: usize = sizes.iter().flatten().sum();
    if one <= two {
        let mut candidates = Vec::new();
        visit(db, 0, &mut |s| candidates = s.members());
        let mut others: Vec<usize> = (1..keys.len()).filter(|&i| sizes[i].is_some()).collect();
        others.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
        for i in others {
            if candidates.is_empty() {
                break;
            }
            visit(db, i, &mut |s| candidates.retain(|m| !s.contains(m)));
        }
        Ok(SetValue::from_members(
            candidates.iter().map(|m| m.as_ref()),
            max,
        ))
    } else {
        visit(db, 0, &mut |s| {
            result.add_all(s, max);
        });
        for i in 1..keys.len() {
            if result.is_empty() {
                break;
            }
            visit(db, i, &mut |s| result.remove_all(s));
        }
        Ok(result)
    }
}

/// Writes a STORE command's result to `dst`: an empty result deletes it.
fn store(ctx: &mut Ctx, dst: &[u8], result: SetValue, event: &'static str) -> CmdResult {
    let n = result.len();
    let mut db = ctx.db();
    if n == 0 {
        if db.remove(dst).is_some() {
            ctx.modified(dst, notify::GENERIC, "del");
        }
    } else {
        db.set(dst, Value::Set(result), Expiry::Persist);
        ctx.modified(dst, notify::SET, event);
    }
    Ok(Reply::Int(n as i64))
}

/// `SINTER key [key ...]` — O(N*M): N the smallest set's size, M the number of sets.
fn sinter(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    let members = intersect(&mut ctx.db(), &keys)?;
    Ok(Reply::Set(bulks(members)))
}

/// `SINTERCARD numkeys key [key ...] [LIMIT limit]` — O(N*M).
fn sintercard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let numkeys = args.next_bytes()?;
    let numkeys = parse_i64(&numkeys)
        .filter(|&n| n > 0)
        .ok_or(CmdError::new("ERR numkeys should be greater than 0"))?;
    if numkeys as u64 > args.remaining() as u64 {
        return Err(CmdError::new(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let keys: Vec<Bytes> = (0..numkeys)
        .map(|_| args.next_bytes())
        .collect::<Result<_, _>>()?;
    let mut limit = 0u64;
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("limit") {
            let l = args.next_bytes()?;
            limit = parse_i64(&l)
                .filter(|&n| n >= 0)
                .ok_or(CmdError::new("ERR LIMIT can't be negative"))? as u64;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let n = intersect(&mut ctx.db(), &keys)?.len() as u64;
    Ok(Reply::Int(if limit > 0 { n.min(limit) } else { n } as i64))
}

/// `SINTERSTORE destination key [key ...]` — O(N*M).
fn sinterstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    let keys = args.rest();
    let max = max_intset(ctx);
    let members = intersect(&mut ctx.db(), &keys)?;
    let result = SetValue::from_members(members.iter().map(|m| m.as_ref()), max);
    store(ctx, &dst, result, "sinterstore")
}

/// `SUNION key [key ...]` — O(N) members in all.
fn sunion(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    let max = max_intset(ctx);
    let result = union_or_diff(&mut ctx.db(), &keys, false, max)?;
    Ok(Reply::Set(bulks(result.members())))
}

/// `SUNIONSTORE destination key [key ...]` — O(N) members in all.
fn sunionstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    let keys = args.rest();
    let max = max_intset(ctx);
    let result = union_or_diff(&mut ctx.db(), &keys, false, max)?;
    store(ctx, &dst, result, "sunionstore")
}

/// `SDIFF key [key ...]` — O(N) members in all.
fn sdiff(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    let max = max_intset(ctx);
    let result = union_or_diff(&mut ctx.db(), &keys, true, max)?;
    Ok(Reply::Set(bulks(result.members())))
}

/// `SDIFFSTORE destination key [key ...]` — O(N) members in all.
fn sdiffstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    let keys = args.rest();
    let max = max_intset(ctx);
    let result = union_or_diff(&mut ctx.db(), &keys, true, max)?;
    store(ctx, &dst, result, "sdiffstore")
}

/// `SSCAN key cursor [MATCH pattern] [COUNT count]` — O(1) per call (an intset answers
/// whole, with cursor 0). A missing key answers an empty page before the options are read,
/// as in Redis.
fn sscan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let cursor = args.next_bytes()?;
    let cursor = parse_cursor(&cursor).ok_or(CmdError::new(INVALID_CURSOR))?;
    let mut db = ctx.db();
    let Some(set) = read_set(&mut db, &key)? else {
        return Ok(Reply::Array(vec![
            Reply::bulk("0"),
            Reply::Array(Vec::new()),
        ]));
    };
    let mut count = 10usize;
    let mut pattern: Option<Bytes> = None;
    while !args.is_empty() {
        if args.remaining() >= 2 && args.eat("count") {
            let n = args.next_i64()?;
            if n < 1 {
                return Err(CmdError::syntax());
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if args.remaining() >= 2 && args.eat("match") {
            pattern = Some(args.next_bytes()?);
        } else {
            return Err(CmdError::syntax());
        }
    }
    let pattern = pattern.filter(|p| p.as_ref() != b"*");
    let mut out = Vec::new();
    let next = set.scan(cursor, count, |m: Member<'_>| {
        let keep = pattern
            .as_ref()
            .is_none_or(|p| m.with_bytes(|b| glob_match(p, b, false)));
        if keep {
            out.push(Reply::Bulk(m.to_bytes()));
        }
    });
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::Array(out),
    ]))
}
