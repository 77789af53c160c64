//! Sorted-set commands (Redis 7.0's `t_zset.c` command half). Parsing, replies, effects and
//! propagation here; the data logic is [`ZSetValue`] in `storage/zset.rs`.
//!
//! The blocking pops (BZPOPMIN, BZPOPMAX, BZMPOP) are built on [`pop`] + [`record_pop`],
//! which a blocked client's wake-up can call under its shard lock.

use bytes::Bytes;

use super::table::*;
use super::Ctx;
use crate::notify;
use crate::protocol::number::{format_g17, parse_i64};
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::shared::EncodingLimits;
use crate::storage::glob::glob_match;
use crate::storage::zset::{AddFlags, Added, LexBound, LexRange, Limits, ScoreRange};
use crate::storage::{Db, Expiry, SetValue, Value, ZSetValue};

const Z: u32 = SORTEDSET;

const RW_UPDATE: &[&str] = &["RW", "update"];
const RO: &[&str] = &["RO", "access"];
const OW: &[&str] = &["OW", "update"];
const RW_DELETE: &[&str] = &["RW", "delete"];
const POP: &[&str] = &["RW", "access", "delete"];
const STORE_SPECS: &[KeySpec] = &[KeySpec::at(1, OW), KeySpec::at(2, RO).keynum(0, 1, 1)];
const READ_MANY: &[KeySpec] = &[KeySpec::at(1, RO).keynum(0, 1, 1)];

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("zadd", -4, WRITE | DENYOOM | FAST, Z, Keys::ONE, zadd)
        .doc("Adds members with scores to a sorted set, or updates their scores; creates the key if needed.", "1.2.0")
        .key_flags(RW_UPDATE),
    CommandSpec::new("zincrby", 4, WRITE | DENYOOM | FAST, Z, Keys::ONE, zincrby)
        .doc("Adds an increment to one member's score.", "1.2.0")
        .key_flags(&["RW", "access", "update"]),
    CommandSpec::new("zrem", -3, WRITE | FAST, Z, Keys::ONE, zrem)
        .doc("Removes members from a sorted set; deletes the key when it empties.", "1.2.0")
        .key_flags(RW_DELETE),
    CommandSpec::new("zcard", 2, READONLY | FAST, Z, Keys::ONE, zcard)
        .doc("Counts the members of a sorted set.", "1.2.0")
        .key_flags(&["RO"]),
    CommandSpec::new("zcount", 4, READONLY | FAST, Z, Keys::ONE, zcount)
        .doc("Counts the members whose score lies in a range.", "2.0.0")
        .key_flags(RO),
    CommandSpec::new("zlexcount", 4, READONLY | FAST, Z, Keys::ONE, zlexcount)
        .doc("Counts the members in a lexicographic range.", "2.8.9")
        .key_flags(RO),
    CommandSpec::new("zscore", 3, READONLY | FAST, Z, Keys::ONE, zscore)
        .doc("Reads one member's score.", "1.2.0")
        .key_flags(RO),
    CommandSpec::new("zmscore", -3, READONLY | FAST, Z, Keys::ONE, zmscore)
        .doc("Reads the scores of several members.", "6.2.0")
        .key_flags(RO),
    CommandSpec::new("zrank", 3, READONLY | FAST, Z, Keys::ONE, zrank)
        .doc("A member's position in ascending score order.", "2.0.0")
        .key_flags(RO),
    CommandSpec::new("zrevrank", 3, READONLY | FAST, Z, Keys::ONE, zrevrank)
        .doc("A member's position in descending score order.", "2.0.0")
        .key_flags(RO),
    CommandSpec::new("zrange", -4, READONLY, Z, Keys::ONE, zrange)
        .doc("Returns members in a range of positions, scores or names.", "1.2.0")
        .key_flags(RO),
    CommandSpec::new("zrangestore", -5, WRITE | DENYOOM, Z, Keys::TWO, zrangestore)
        .doc("Stores a range of a sorted set in another key.", "6.2.0")
        .key_specs(&[KeySpec::at(1, OW), KeySpec::at(2, RO)]),
    CommandSpec::new("zrevrange", -4, READONLY, Z, Keys::ONE, zrevrange)
        .doc("Returns members in a range of positions, highest score first.", "1.2.0")
        .key_flags(RO),
    CommandSpec::new("zrangebyscore", -4, READONLY, Z, Keys::ONE, zrangebyscore)
        .doc("Returns members whose score lies in a range.", "1.0.5")
        .key_flags(RO),
    CommandSpec::new("zrevrangebyscore", -4, READONLY, Z, Keys::ONE, zrevrangebyscore)
        .doc("Returns members whose score lies in a range, highest first.", "2.2.0")
        .key_flags(RO),
    CommandSpec::new("zrangebylex", -4, READONLY, Z, Keys::ONE, zrangebylex)
        .doc("Returns members in a lexicographic range.", "2.8.9")
        .key_flags(RO),
    CommandSpec::new("zrevrangebylex", -4, READONLY, Z, Keys::ONE, zrevrangebylex)
        .doc("Returns members in a lexicographic range, in reverse order.", "2.8.9")
        .key_flags(RO),
    CommandSpec::new("zremrangebyscore", 4, WRITE, Z, Keys::ONE, zremrangebyscore)
        .doc("Removes the members whose score lies in a range.", "1.2.0")
        .key_flags(RW_DELETE),
    CommandSpec::new("zremrangebyrank", 4, WRITE, Z, Keys::ONE, zremrangebyrank)
        .doc("Removes the members in a range of positions.", "2.0.0")
        .key_flags(RW_DELETE),
    CommandSpec::new("zremrangebylex", 4, WRITE, Z, Keys::ONE, zremrangebylex)
        .doc("Removes the members in a lexicographic range.", "2.8.9")
        .key_flags(RW_DELETE),
    CommandSpec::new("zpopmin", -2, WRITE | FAST, Z, Keys::ONE, zpopmin)
        .doc("Removes and returns the lowest-scored members.", "5.0.0")
        .key_flags(POP),
    CommandSpec::new("zpopmax", -2, WRITE | FAST, Z, Keys::ONE, zpopmax)
        .doc("Removes and returns the highest-scored members.", "5.0.0")
        .key_flags(POP),
    CommandSpec::new("bzpopmin", -3, WRITE | NOSCRIPT | BLOCKING | FAST, Z, Keys::range(1, -2, 1), bzpopmin)
        .doc("Removes and returns the lowest-scored member of the first non-empty sorted set, blocking until one is available.", "5.0.0")
        .key_specs(&[KeySpec::at(1, POP).range(-2, 1, 0)]),
    CommandSpec::new("bzpopmax", -3, WRITE | NOSCRIPT | BLOCKING | FAST, Z, Keys::range(1, -2, 1), bzpopmax)
        .doc("Removes and returns the highest-scored member of the first non-empty sorted set, blocking until one is available.", "5.0.0")
        .key_specs(&[KeySpec::at(1, POP).range(-2, 1, 0)]),
    CommandSpec::new("bzmpop", -5, WRITE | BLOCKING, Z, Keys::NONE, bzmpop)
        .doc("Pops members from the first non-empty sorted set of several keys, blocking until one is available.", "7.0.0")
        .key_specs(&[KeySpec::at(2, POP).keynum(0, 1, 1)]),
    CommandSpec::new("zmpop", -4, WRITE, Z, Keys::NONE, zmpop)
        .doc("Pops members from the first non-empty sorted set of several keys.", "7.0.0")
        .key_specs(&[KeySpec::at(1, POP).keynum(0, 1, 1)]),
    CommandSpec::new("zrandmember", -2, READONLY, Z, Keys::ONE, zrandmember)
        .doc("Returns random members of a sorted set.", "6.2.0")
        .tips(&["nondeterministic_output"])
        .key_flags(RO),
    CommandSpec::new("zunion", -3, READONLY, Z, Keys::NONE, zunion)
        .doc("Returns the union of sorted sets.", "6.2.0")
        .key_specs(READ_MANY),
    CommandSpec::new("zinter", -3, READONLY, Z, Keys::NONE, zinter)
        .doc("Returns the intersection of sorted sets.", "6.2.0")
        .key_specs(READ_MANY),
    CommandSpec::new("zdiff", -3, READONLY, Z, Keys::NONE, zdiff)
        .doc("Returns the difference of the first sorted set and the others.", "6.2.0")
        .key_specs(READ_MANY),
    CommandSpec::new("zunionstore", -4, WRITE | DENYOOM, Z, Keys::ONE, zunionstore)
        .doc("Stores the union of sorted sets in a key.", "2.0.0")
        .key_specs(STORE_SPECS),
    CommandSpec::new("zinterstore", -4, WRITE | DENYOOM, Z, Keys::ONE, zinterstore)
        .doc("Stores the intersection of sorted sets in a key.", "2.0.0")
        .key_specs(STORE_SPECS),
    CommandSpec::new("zdiffstore", -4, WRITE | DENYOOM, Z, Keys::ONE, zdiffstore)
        .doc("Stores the difference of sorted sets in a key.", "6.2.0")
        .key_specs(STORE_SPECS),
    CommandSpec::new("zintercard", -3, READONLY, Z, Keys::NONE, zintercard)
        .doc("Counts the members of the intersection of sorted sets.", "7.0.0")
        .key_specs(READ_MANY),
    CommandSpec::new("zscan", -3, READONLY, Z, Keys::ONE, zscan)
        .doc("Iterates over the members and scores of a sorted set.", "2.8.0")
        .tips(&["nondeterministic_output"])
        .key_flags(RO),
];

const MINMAX_NOT_FLOAT: &str = "ERR min or max is not a float";
const MINMAX_NOT_LEX: &str = "ERR min or max not valid string range item";
const NAN_RESULT: &str = "ERR resulting score is not a number (NaN)";

// ---------------------------------------------------------------------------------------
// Shared helpers: lookups, number parsing, replies.

/// The encoding thresholds in force (read per write, no config lock).
pub fn limits(ctx: &Ctx) -> Limits {
    let e = &ctx.shared.encodings;
    Limits {
        entries: EncodingLimits::get(&e.zset_max_listpack_entries),
        value: EncodingLimits::get(&e.zset_max_listpack_value),
    }
}

/// The sorted set at `key` for a read (a counted lookup): `None` when missing.
pub(super) fn read<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d ZSetValue>, CmdError> {
    super::read_as(db, key)
}

/// The sorted set at `key` for a write: `None` when missing.
pub(super) fn write<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d mut ZSetValue>, CmdError> {
    super::write_as(db, key)
}

/// C's `strtod` over `s`: the value, how many bytes it used (0: no number) and whether it
/// overflowed or underflowed to zero (`ERANGE`). Leading whitespace, `inf`/`infinity`,
/// `nan`, hex floats and decimal forms are accepted, as glibc does.
fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let start = i;
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let sign = if neg { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"infinity") {
        return (sign * f64::INFINITY, i + 8, false);
    }
    if starts(b"inf") {
        return (sign * f64::INFINITY, i + 3, false);
    }
    if starts(b"nan") {
        let mut end = i + 3;
        if s.get(end) == Some(&b'(') {
            if let Some(close) = s[end..].iter().position(|&c| c == b')') {
                let inner = &s[end + 1..end + close];
                if inner
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    end += close + 1;
                }
            }
        }
        return (f64::NAN, end, false);
    }
    if starts(b"0x") {
        if let Some((v, used)) = hex_float(&rest[2..]) {
            let v = sign * v;
            return (v, i + 2 + used, v.is_infinite());
        }
    }
    let mut j = i;
    let mut digits = 0;
    let mut nonzero = false;
    while j < s.len() && s[j].is_ascii_digit() {
        nonzero |= s[j] != b'0';
        digits += 1;
        j += 1;
    }
    if j < s.len() && s[j] == b'.' {
        j += 1;
        while j < s.len() && s[j].is_ascii_digit() {
            nonzero |= s[j] != b'0';
            digits += 1;
            j += 1;
        }
    }
    if digits == 0 {
        return (0.0, 0, false);
    }
    if j < s.len() && (s[j] == b'e' || s[j] == b'E') {
        let mut k = j + 1;
        if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
            k += 1;
        }
        if k < s.len() && s[k].is_ascii_digit() {
            while k < s.len() && s[k].is_ascii_digit() {
                k += 1;
            }
            j = k;
        }
    }
    let text = std::str::from_utf8(&s[start..j]).unwrap_or("");
    // Rust's grammar wants a digit after '.', C's does not: "1." and "1.e5" are numbers.
    let v = text
        .parse::<f64>()
        .or_else(|_| {
            text.replacen(".e", ".0e", 1)
                .replacen(".E", ".0E", 1)
                .parse()
        })
        .or_else(|_| format!("{text}0").parse())
        .unwrap_or(0.0);
    let erange = v.is_infinite() || (v == 0.0 && nonzero);
    (v, j, erange)
}

/// The hex digits (and optional `.fraction` and `p` exponent) after `0x`.
fn hex_float(s: &[u8]) -> Option<(f64, usize)> {
    let mut v = 0.0f64;
    let mut i = 0;
    let mut digits = 0;
    let mut scale = 0i32;
    while i < s.len() && s[i].is_ascii_hexdigit() {
        v = v * 16.0 + f64::from((s[i] as char).to_digit(16)?);
        digits += 1;
        i += 1;
    }
    if i < s.len() && s[i] == b'.' {
        i += 1;
        while i < s.len() && s[i].is_ascii_hexdigit() {
            v = v * 16.0 + f64::from((s[i] as char).to_digit(16)?);
            scale -= 4;
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if i < s.len() && (s[i] == b'p' || s[i] == b'P') {
        let mut k = i + 1;
        let neg = match s.get(k) {
            Some(b'-') => {
                k += 1;
                true
            }
            Some(b'+') => {
                k += 1;
                false
            }
            _ => false,
        };
        let from = k;
        let mut e: i32 = 0;
        while k < s.len() && s[k].is_ascii_digit() {
            e = e.saturating_mul(10).saturating_add(i32::from(s[k] - b'0'));
            k += 1;
        }
        if k > from {
            scale = scale.saturating_add(if neg { -e } else { e });
            i = k;
        }
    }
    Some((v * 2f64.powi(scale), i))
}

/// A score argument as Redis's `getDoubleFromObject` reads it: the whole string, no leading
/// space, no overflow, not NaN.
pub(super) fn parse_score(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || arg[0].is_ascii_whitespace() || arg[0] == 0x0b {
        return None;
    }
    let (v, used, erange) = strtod(arg);
    if used != arg.len() || used == 0 || erange || v.is_nan() {
        return None;
    }
    Some(v)
}

fn score_arg(arg: &[u8], error: &'static str) -> Result<f64, CmdError> {
    parse_score(arg).ok_or(CmdError::new(error))
}

/// One bound of a score range: `(x` exclusive, else inclusive; `strtod` rules (spaces
/// before, an empty number reads as 0), NaN refused.
fn score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (text, ex) = match arg.first() {
        Some(b'(') => (&arg[1..], true),
        _ => (arg, false),
    };
    let (v, used, _) = strtod(text);
    if used != text.len() && !(used == 0 && text.iter().all(|c| c.is_ascii_whitespace())) {
        return None;
    }
    if v.is_nan() {
        return None;
    }
    Some((v, ex))
}

fn score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    let bad = || CmdError::new(MINMAX_NOT_FLOAT);
    let (min, minex) = score_bound(min).ok_or_else(bad)?;
    let (max, maxex) = score_bound(max).ok_or_else(bad)?;
    Ok(ScoreRange {
        min,
        minex,
        max,
        maxex,
    })
}

fn lex_bound(arg: &Bytes) -> Option<LexBound> {
    match arg.first() {
        Some(b'+') if arg.len() == 1 => Some(LexBound::Max),
        Some(b'-') if arg.len() == 1 => Some(LexBound::Min),
        Some(b'[') => Some(LexBound::Incl(arg.slice(1..))),
        Some(b'(') => Some(LexBound::Excl(arg.slice(1..))),
        _ => None,
    }
}

fn lex_range(min: &Bytes, max: &Bytes) -> Result<LexRange, CmdError> {
    match (lex_bound(min), lex_bound(max)) {
        (Some(min), Some(max)) => Ok(LexRange { min, max }),
        _ => Err(CmdError::new(MINMAX_NOT_LEX)),
    }
}

fn long_arg(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::not_integer())
}

/// Members, with scores when asked: nested `[member, score]` pairs in RESP3, flat in RESP2
/// (scores are doubles, which RESP2 shows as bulk strings).
fn members_reply(ctx: &Ctx, items: Vec<(Bytes, f64)>, withscores: bool) -> Reply {
    if !withscores {
        return Reply::bulks(items.into_iter().map(|(m, _)| m));
    }
    if ctx.session.resp3 {
        Reply::Array(
            items
                .into_iter()
                .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
                .collect(),
        )
    } else {
        let mut out = Vec::with_capacity(items.len() * 2);
        for (m, s) in items {
            out.push(Reply::Bulk(m));
            out.push(Reply::Double(s));
        }
        Reply::Array(out)
    }
}

/// Records that a write removed `n` (> 0) elements of `key` with `event`, and `del` when the
/// set emptied (the caller removed the key). Dirty counts every element, as Redis does.
fn removed(ctx: &mut Ctx, key: &[u8], event: &'static str, n: usize, emptied: bool) {
    ctx.modified(key, notify::ZSET, event);
    ctx.modified_many(n.saturating_sub(1) as u64);
    if emptied {
        ctx.event(key, notify::GENERIC, "del");
    }
}

// ---------------------------------------------------------------------------------------
// ZADD, ZINCRBY, ZREM, and the reads of single members.

fn zadd_generic(ctx: &mut Ctx, args: &mut Args, incr_cmd: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let mut f = AddFlags {
        incr: incr_cmd,
        ..AddFlags::default()
    };
    let mut ch = false;
    while let Some(w) = args.peek() {
        let w = w.to_ascii_lowercase();
        match w.as_slice() {
            b"nx" => f.nx = true,
            b"xx" => f.xx = true,
            b"gt" => f.gt = true,
            b"lt" => f.lt = true,
            b"ch" => ch = true,
            b"incr" => f.incr = true,
            _ => break,
        }
        args.next_bytes()?;
    }
    let rest = args.rest();
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CmdError::syntax());
    }
    if f.nx && f.xx {
        return Err(CmdError::new(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(CmdError::new(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && rest.len() > 2 {
        return Err(CmdError::new(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    let mut pairs = Vec::with_capacity(rest.len() / 2);
    for p in rest.chunks_exact(2) {
        pairs.push((score_arg(&p[0], crate::protocol::error::NOT_FLOAT)?, &p[1]));
    }
    let limits = limits(ctx);
    let mut db = ctx.db();
    let (mut added, mut updated, mut processed, mut last) = (0usize, 0usize, 0usize, 0.0);
    let mut apply = |z: &mut ZSetValue| -> Result<(), CmdError> {
        for (score, member) in &pairs {
            match z.add(member, *score, f, limits) {
                Added::Added(s) => (added, processed, last) = (added + 1, processed + 1, s),
                Added::Updated(s) => (updated, processed, last) = (updated + 1, processed + 1, s),
                Added::Same(s) => (processed, last) = (processed + 1, s),
                Added::Skipped => {}
                Added::NaN => return Err(CmdError::new(NAN_RESULT)),
            }
        }
        Ok(())
    };
    match write(&mut db, &key)? {
        Some(z) => apply(z)?,
        None if f.xx => {}
        None => {
            let mut z = ZSetValue::new(1, pairs[0].1.len(), limits);
            apply(&mut z)?;
            db.set(&key, Value::ZSet(Box::new(z)), Expiry::Persist);
        }
    }
    if added + updated > 0 {
        ctx.modified(&key, notify::ZSET, if f.incr { "zincr" } else { "zadd" });
        ctx.modified_many((added + updated - 1) as u64);
    }
    Ok(if f.incr {
        if processed > 0 {
            Reply::Double(last)
        } else {
            Reply::Nil
        }
    } else {
        Reply::Int((if ch { added + updated } else { added }) as i64)
    })
}

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]` — O(log n) per
/// element. With INCR, the new score (nil when a flag prevented the write).
fn zadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    zadd_generic(ctx, args, false)
}

/// `ZINCRBY key increment member` — O(log n).
fn zincrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    zadd_generic(ctx, args, true)
}

/// `ZREM key member [member ...]` — O(m log n).
fn zrem(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let mut db = ctx.db();
    let Some(z) = write(&mut db, &key)? else {
        return Ok(Reply::Int(0));
    };
    let n = members.iter().filter(|m| z.remove(m)).count();
    let emptied = z.is_empty();
    if emptied {
        db.remove(&key);
    }
    if n > 0 {
        removed(ctx, &key, "zrem", n, emptied);
    }
    Ok(Reply::Int(n as i64))
}

/// `ZCARD key` — O(1).
fn zcard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        read(&mut db, &key)?.map_or(0, |z| z.len()) as i64
    ))
}

/// `ZSCORE key member` — O(1) (O(n) while small).
fn zscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(read(&mut db, &key)?
        .and_then(|z| z.score(&member))
        .map_or(Reply::Nil, Reply::Double))
}

/// `ZMSCORE key member [member ...]` — O(m).
fn zmscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let members = args.rest();
    let mut db = ctx.db();
    let z = read(&mut db, &key)?;
    Ok(Reply::Array(
        members
            .iter()
            .map(|m| z.and_then(|z| z.score(m)).map_or(Reply::Nil, Reply::Double))
            .collect(),
    ))
}

fn rank_generic(ctx: &mut Ctx, args: &mut Args, rev: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let member = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(z) = read(&mut db, &key)? else {
        return Ok(Reply::Nil);
    };
    let len = z.len();
    Ok(z.rank(&member).map_or(Reply::Nil, |r| {
        Reply::Int(if rev { len - 1 - r } else { r } as i64)
    }))
}

/// `ZRANK key member` — O(log n).
fn zrank(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rank_generic(ctx, args, false)
}

/// `ZREVRANK key member` — O(log n).
fn zrevrank(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    rank_generic(ctx, args, true)
}

/// `ZCOUNT key min max` — O(log n).
fn zcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let (min, max) = (args.next_bytes()?, args.next_bytes()?);
    let range = score_range(&min, &max)?;
    let mut db = ctx.db();
    Ok(Reply::Int(read(&mut db, &key)?.map_or(0, |z| {
        let (a, b) = z.score_span(&range);
        b - a
    }) as i64))
}

/// `ZLEXCOUNT key min max` — O(log n).
fn zlexcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let (min, max) = (args.next_bytes()?, args.next_bytes()?);
    let range = lex_range(&min, &max)?;
    let mut db = ctx.db();
    Ok(Reply::Int(read(&mut db, &key)?.map_or(0, |z| {
        let (a, b) = z.lex_span(&range);
        b - a
    }) as i64))
}

// ---------------------------------------------------------------------------------------
// The ZRANGE family (Redis's `zrangeGenericCommand`).

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeBy {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Which command form parses: ZRANGE accepts every option, the legacy forms fix the type
/// and direction, ZRANGESTORE refuses WITHSCORES.
struct RangeForm {
    by: RangeBy,
    rev: Option<bool>,
    store: bool,
}

/// A parsed range request.
enum Span {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange),
}

struct RangeRequest {
    key: Bytes,
    span: Span,
    rev: bool,
    withscores: bool,
    offset: i64,
    limit: i64,
}

fn parse_range(args: &mut Args, form: RangeForm) -> Result<RangeRequest, CmdError> {
    let key = args.next_bytes()?;
    let mut min = args.next_bytes()?;
    let mut max = args.next_bytes()?;
    let (mut by, mut rev) = (form.by, form.rev);
    let (mut withscores, mut offset, mut limit) = (false, 0i64, -1i64);
    let mut limit_given = false;
    while let Some(w) = args.peek().cloned() {
        args.next_bytes()?;
        let w = w.to_ascii_lowercase();
        match w.as_slice() {
            b"withscores" if !form.store => withscores = true,
            b"limit" if args.remaining() >= 2 => {
                offset = long_arg(&args.next_bytes()?)?;
                limit = long_arg(&args.next_bytes()?)?;
                limit_given = true;
            }
            b"rev" if rev.is_none() => rev = Some(true),
            b"bylex" if by == RangeBy::Auto => by = RangeBy::Lex,
            b"byscore" if by == RangeBy::Auto => by = RangeBy::Score,
            _ => return Err(CmdError::syntax()),
        }
    }
    let rev = rev.unwrap_or(false);
    if by == RangeBy::Auto {
        by = RangeBy::Rank;
    }
    if limit_given && by == RangeBy::Rank {
        return Err(CmdError::new(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && by == RangeBy::Lex {
        return Err(CmdError::new(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if rev && by != RangeBy::Rank {
        std::mem::swap(&mut min, &mut max);
    }
    let span = match by {
        RangeBy::Score => Span::Score(score_range(&min, &max)?),
        RangeBy::Lex => Span::Lex(lex_range(&min, &max)?),
        _ => Span::Rank(long_arg(&min)?, long_arg(&max)?),
    };
    Ok(RangeRequest {
        key,
        span,
        rev,
        withscores,
        offset,
        limit,
    })
}

/// Redis's rank clamping: negative from the end; `None` when the range is empty.
fn rank_span(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end };
    if start > end || start >= len {
        return None;
    }
    Some((start as usize, end.min(len - 1) as usize + 1))
}

/// The elements a range request selects, in reply order.
fn select(z: &ZSetValue, r: &RangeRequest) -> Vec<(Bytes, f64)> {
    let len = z.len();
    let (from, to) = match &r.span {
        Span::Rank(a, b) => match rank_span(*a, *b, len) {
            // Reverse ranks count from the top.
            Some((a, b)) if r.rev => (len - b, len - a),
            Some(span) => span,
            None => return Vec::new(),
        },
        Span::Score(range) => z.score_span(range),
        Span::Lex(range) => z.lex_span(range),
    };
    let (mut from, mut to) = (from, to);
    if !matches!(r.span, Span::Rank(..)) {
        // LIMIT: a negative offset selects nothing, a negative count everything.
        if r.offset < 0 {
            return Vec::new();
        }
        let n = to - from;
        let skip = (r.offset as u64).min(n as u64) as usize;
        let take = if r.limit < 0 {
            n - skip
        } else {
            (r.limit as u64).min((n - skip) as u64) as usize
        };
        if r.rev {
            to -= skip;
            from = to - take;
        } else {
            from += skip;
            to = from + take;
        }
    }
    z.range(from, to, r.rev)
}

fn range_generic(ctx: &mut Ctx, args: &mut Args, form: RangeForm) -> CmdResult {
    let r = parse_range(args, form)?;
    let mut db = ctx.db();
    let items = match read(&mut db, &r.key)? {
        None => Vec::new(),
        Some(z) => select(z, &r),
    };
    Ok(members_reply(ctx, items, r.withscores))
}

/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]` —
/// O(log n + m).
fn zrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let form = RangeForm {
        by: RangeBy::Auto,
        rev: None,
        store: false,
    };
    range_generic(ctx, args, form)
}

/// `ZREVRANGE key start stop [WITHSCORES]` — O(log n + m).
fn zrevrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let form = RangeForm {
        by: RangeBy::Rank,
        rev: Some(true),
        store: false,
    };
    range_generic(ctx, args, form)
}

/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]` — O(log n + m).
fn zrangebyscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let form = RangeForm {
        by: RangeBy::Score,
        rev: Some(false),
        store: false,
    };
    range_generic(ctx, args, form)
}

/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]` — O(log n + m).
fn zrevrangebyscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let form = RangeForm {
        by: RangeBy::Score,
        rev: Some(true),
        store: false,
    };
    range_generic(ctx, args, form)
}

/// `ZRANGEBYLEX key min max [LIMIT offset count]` — O(log n + m).
fn zrangebylex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let form = RangeForm {
        by: RangeBy::Lex,
        rev: Some(false),
        store: false,
    };
    range_generic(ctx, args, form)
}

/// `ZREVRANGEBYLEX key max min [LIMIT offset count]` — O(log n + m).
fn zrevrangebylex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let form = RangeForm {
        by: RangeBy::Lex,
        rev: Some(true),
        store: false,
    };
    range_generic(ctx, args, form)
}

/// Stores `items` (sorted, distinct) at `dst` replacing whatever was there, or deletes
/// `dst` when empty; records `event` (or `del`) as Redis's `*STORE` commands do.
pub(super) fn store_result(
    ctx: &mut Ctx,
    dst: &[u8],
    items: Vec<(f64, Bytes)>,
    event: &'static str,
) -> Reply {
    let n = items.len();
    let limits = limits(ctx);
    let mut db = ctx.db();
    if n == 0 {
        if db.remove(dst).is_some() {
            ctx.modified(dst, notify::GENERIC, "del");
        }
        return Reply::Int(0);
    }
    let z = ZSetValue::from_sorted(items, limits);
    db.set(dst, Value::ZSet(Box::new(z)), Expiry::Persist);
    ctx.modified(dst, notify::ZSET, event);
    Reply::Int(n as i64)
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]` —
/// O(log n + m).
fn zrangestore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    let form = RangeForm {
        by: RangeBy::Auto,
        rev: None,
        store: true,
    };
    let r = parse_range(args, form)?;
    let mut db = ctx.db();
    let mut items: Vec<(f64, Bytes)> = match read(&mut db, &r.key)? {
        None => Vec::new(),
        Some(z) => select(z, &r).into_iter().map(|(m, s)| (s, m)).collect(),
    };
    if r.rev {
        items.reverse();
    }
    Ok(store_result(ctx, &dst, items, "zrangestore"))
}

// ---------------------------------------------------------------------------------------
// Removal by range.

fn remrange(ctx: &mut Ctx, args: &mut Args, by: RangeBy) -> CmdResult {
    let key = args.next_bytes()?;
    let (min, max) = (args.next_bytes()?, args.next_bytes()?);
    let (span, event) = match by {
        RangeBy::Score => (Span::Score(score_range(&min, &max)?), "zremrangebyscore"),
        RangeBy::Lex => (Span::Lex(lex_range(&min, &max)?), "zremrangebylex"),
        _ => (
            Span::Rank(long_arg(&min)?, long_arg(&max)?),
            "zremrangebyrank",
        ),
    };
    let mut db = ctx.db();
    let Some(z) = write(&mut db, &key)? else {
        return Ok(Reply::Int(0));
    };
    let (from, to) = match &span {
        Span::Rank(a, b) => rank_span(*a, *b, z.len()).unwrap_or((0, 0)),
        Span::Score(r) => z.score_span(r),
        Span::Lex(r) => z.lex_span(r),
    };
    let n = z.remove_span(from, to).len();
    let emptied = z.is_empty();
    if emptied {
        db.remove(&key);
    }
    if n > 0 {
        removed(ctx, &key, event, n, emptied);
    }
    Ok(Reply::Int(n as i64))
}

/// `ZREMRANGEBYSCORE key min max` — O(log n + m).
fn zremrangebyscore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    remrange(ctx, args, RangeBy::Score)
}

/// `ZREMRANGEBYRANK key start stop` — O(log n + m).
fn zremrangebyrank(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    remrange(ctx, args, RangeBy::Rank)
}

/// `ZREMRANGEBYLEX key min max` — O(log n + m).
fn zremrangebylex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    remrange(ctx, args, RangeBy::Lex)
}

// ---------------------------------------------------------------------------------------
// Pops.

/// What [`pop`] took from a key.
#[derive(Clone, Debug, PartialEq)]
pub struct Popped {
    /// `(member, score)` in pop order (lowest first for MIN, highest first for MAX).
    pub items: Vec<(Bytes, f64)>,
    /// Whether the pop emptied the set (the key was then deleted).
    pub emptied: bool,
}

/// Pops up to `count` elements from the low (`min`) or high end of the sorted set at `key`
/// — the data half of ZPOPMIN/ZPOPMAX/ZMPOP, and of BZPOPMIN/BZPOPMAX/BZMPOP when a blocked
/// client is served. Call it with the key's shard locked; an emptied set's key is deleted
/// here. `Ok(None)`: no such key (nothing changed); `Err`: WRONGTYPE.
///
/// It records no effects: after a non-empty pop, call [`record_pop`] (events, dirty, WATCH)
/// and propagate [`pop_propagation`] when the command as sent is not what a replica should
/// replay (ZMPOP, the blocking forms):
///
/// ```ignore
/// if let Some(p) = zset::pop(&mut ctx.db(), &key, true, 1)? {
///     zset::record_pop(ctx, &key, true, &p);
///     if ctx.propagating() {
///         ctx.propagate(zset::pop_propagation(&key, true, p.items.len()));
///     }
/// }
/// ```
pub fn pop(db: &mut Db, key: &[u8], min: bool, count: usize) -> Result<Option<Popped>, CmdError> {
    let Some(z) = write(db, key)? else {
        return Ok(None);
    };
    let items = z.pop(min, count);
    let emptied = z.is_empty();
    if emptied {
        db.remove(key);
    }
    Ok(Some(Popped { items, emptied }))
}

/// The effects of a pop: `zpopmin`/`zpopmax` (and `del` when emptied), WATCH, and one dirty
/// change per popped element. Nothing for an empty pop.
pub fn record_pop(ctx: &mut Ctx, key: &[u8], min: bool, popped: &Popped) {
    if popped.items.is_empty() {
        return;
    }
    let event = if min { "zpopmin" } else { "zpopmax" };
    removed(ctx, key, event, popped.items.len(), popped.emptied);
}

/// What a pop replays as: `ZPOPMIN|ZPOPMAX key count` (Redis rewrites ZMPOP and the
/// blocking pops to this).
pub fn pop_propagation(key: &[u8], min: bool, count: usize) -> Vec<Bytes> {
    let name: &'static [u8] = if min { b"ZPOPMIN" } else { b"ZPOPMAX" };
    vec![
        Bytes::from_static(name),
        Bytes::copy_from_slice(key),
        Bytes::from(count.to_string()),
    ]
}

/// `[member, score]` pairs, as ZMPOP and RESP3 ZPOPMIN … count reply.
fn pairs_nested(items: Vec<(Bytes, f64)>) -> Reply {
    Reply::Array(
        items
            .into_iter()
            .map(|(m, s)| Reply::Array(vec![Reply::Bulk(m), Reply::Double(s)]))
            .collect(),
    )
}

fn zpop_generic(ctx: &mut Ctx, args: &mut Args, min: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let count = match args.peek() {
        None => None,
        Some(_) => {
            let msg = "ERR value is out of range, must be positive";
            match parse_i64(&args.next_bytes()?) {
                Some(n) if n >= 0 => Some(n as usize),
                _ => return Err(CmdError::new(msg)),
            }
        }
    };
    args.finish()?;
    if count == Some(0) {
        return Ok(Reply::Array(Vec::new()));
    }
    let popped = pop(&mut ctx.db(), &key, min, count.unwrap_or(1))?;
    let Some(p) = popped else {
        return Ok(Reply::Array(Vec::new()));
    };
    record_pop(ctx, &key, min, &p);
    if ctx.session.resp3 && count.is_some() {
        return Ok(pairs_nested(p.items));
    }
    Ok(members_reply_flat(p.items))
}

/// Flat `member, score, …` (scores as doubles).
fn members_reply_flat(items: Vec<(Bytes, f64)>) -> Reply {
    let mut out = Vec::with_capacity(items.len() * 2);
    for (m, s) in items {
        out.push(Reply::Bulk(m));
        out.push(Reply::Double(s));
    }
    Reply::Array(out)
}

/// `ZPOPMIN key [count]` — O(log n + m).
fn zpopmin(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    zpop_generic(ctx, args, true)
}

/// `ZPOPMAX key [count]` — O(log n + m).
fn zpopmax(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    zpop_generic(ctx, args, false)
}

/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]` — O(k + m log n). Pops from the first
/// non-empty key; replies `[key, [[member, score], ...]]` or a null array. Replays as
/// `ZPOPMIN|ZPOPMAX key popped`.
fn zmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (keys, min, count) = parse_mpop(args)?;
    Ok(mpop(ctx, &keys, min, count)?.unwrap_or(Reply::NilArray))
}

/// `numkeys key [key ...] MIN|MAX [COUNT count]` of ZMPOP and BZMPOP.
fn parse_mpop(args: &mut Args) -> Result<(Vec<Bytes>, bool, usize), CmdError> {
    let numkeys_msg = "ERR numkeys should be greater than 0";
    let numkeys = parse_i64(&args.next_bytes()?).ok_or(CmdError::new(numkeys_msg))?;
    if numkeys < 1 {
        return Err(CmdError::new(numkeys_msg));
    }
    if numkeys as u64 >= args.remaining() as u64 {
        return Err(CmdError::syntax());
    }
    let keys: Vec<Bytes> = (0..numkeys)
        .map(|_| args.next_bytes())
        .collect::<Result<_, _>>()?;
    let min = match args.next_bytes()?.to_ascii_lowercase().as_slice() {
        b"min" => true,
        b"max" => false,
        _ => return Err(CmdError::syntax()),
    };
    let mut count: Option<i64> = None;
    while let Some(w) = args.peek().cloned() {
        args.next_bytes()?;
        if w.eq_ignore_ascii_case(b"count") && count.is_none() && !args.is_empty() {
            let msg = "ERR count should be greater than 0";
            let n = parse_i64(&args.next_bytes()?).ok_or(CmdError::new(msg))?;
            if n < 1 {
                return Err(CmdError::new(msg));
            }
            count = Some(n);
        } else {
            return Err(CmdError::syntax());
        }
    }
    Ok((keys, min, count.unwrap_or(1) as usize))
}

/// ZMPOP's pop: up to `count` members of the first of `keys` holding a sorted set, replayed
/// as `ZPOPMIN|ZPOPMAX key popped`; `None` when every key is missing.
fn mpop(ctx: &mut Ctx, keys: &[Bytes], min: bool, count: usize) -> Result<Option<Reply>, CmdError> {
    for key in keys {
        let Some(p) = pop(&mut ctx.db(), key, min, count)? else {
            continue;
        };
        record_pop(ctx, key, min, &p);
        if ctx.propagating() {
            ctx.propagate(pop_propagation(key, min, p.items.len()));
        }
        return Ok(Some(Reply::Array(vec![
            Reply::Bulk(key.clone()),
            pairs_nested(p.items),
        ])));
    }
    Ok(None)
}

/// `BZPOPMIN key [key ...] timeout` — O(log n): ZPOPMIN of the first non-empty key, or blocks
/// (see [`crate::blocking`]); `[key, member, score]`, or a null array on timeout. Replays as
/// `ZPOPMIN key`.
fn bzpopmin(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bzpop(ctx, args, true)
}

/// `BZPOPMAX key [key ...] timeout` — as BZPOPMIN, highest score first.
fn bzpopmax(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bzpop(ctx, args, false)
}

fn bzpop(ctx: &mut Ctx, args: &mut Args, min: bool) -> CmdResult {
    let mut keys = args.rest();
    let timeout = super::blocking::parse_timeout(&keys.pop().unwrap_or_default())?;
    for key in &keys {
        // Served later, a key that now holds another type is passed over.
        let popped = match pop(&mut ctx.db(), key, min, 1) {
            Ok(p) => p,
            Err(_) if ctx.serving_blocked() => None,
            Err(e) => return Err(e),
        };
        let Some(p) = popped else { continue };
        record_pop(ctx, key, min, &p);
        if ctx.propagating() {
            let name: &'static [u8] = if min { b"ZPOPMIN" } else { b"ZPOPMAX" };
            ctx.propagate(vec![Bytes::from_static(name), key.clone()]);
        }
        let Some((member, score)) = p.items.into_iter().next() else {
            continue;
        };
        return Ok(Reply::Array(vec![
            Reply::Bulk(key.clone()),
            Reply::Bulk(member),
            Reply::Double(score),
        ]));
    }
    ctx.block(args, &keys, timeout, Reply::NilArray)
}

/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]` — ZMPOP, or blocks.
fn bzmpop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let timeout = super::blocking::parse_timeout(&args.next_bytes()?)?;
    let (keys, min, count) = parse_mpop(args)?;
    match mpop(ctx, &keys, min, count) {
        Ok(Some(reply)) => return Ok(reply),
        Ok(None) => {}
        Err(_) if ctx.serving_blocked() => {}
        Err(e) => return Err(e),
    }
    ctx.block(args, &keys, timeout, Reply::NilArray)
}

// ---------------------------------------------------------------------------------------
// ZRANDMEMBER.

/// The server's random source for one call (see [`crate::rng`]).
fn rng(ctx: &Ctx) -> impl FnMut() -> u64 {
    let s = ctx.rng();
    move || s.next_u64()
}

/// `ZRANDMEMBER key [count [WITHSCORES]]` — O(m) (O(m log n) when big). A negative count
/// may repeat members; a count at least the size returns the whole set (highest first, as
/// Redis 7.0 does).
fn zrandmember(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut rand = rng(ctx);
    if args.is_empty() {
        let mut db = ctx.db();
        return Ok(match read(&mut db, &key)? {
            Some(z) if !z.is_empty() => {
                let i = (rand() % z.len() as u64) as usize;
                Reply::opt_bulk(z.at(i).map(|(m, _)| m))
            }
            _ => Reply::Nil,
        });
    }
    let n = long_arg(&args.next_bytes()?)?;
    if n == i64::MIN {
        return Err(CmdError::new(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let withscores = match args.next() {
        None => false,
        Some(w) if w.eq_ignore_ascii_case(b"withscores") => true,
        Some(_) => return Err(CmdError::syntax()),
    };
    args.finish()?;
    if withscores && n.unsigned_abs() > (i64::MAX / 2) as u64 {
        return Err(CmdError::new("ERR value is out of range"));
    }
    let mut db = ctx.db();
    let Some(z) = read(&mut db, &key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let len = z.len();
    let items: Vec<(Bytes, f64)> = if n == 0 || len == 0 {
        Vec::new()
    } else if n < 0 {
        (0..n.unsigned_abs())
            .filter_map(|_| z.at((rand() % len as u64) as usize))
            .collect()
    } else if n as u64 >= len as u64 {
        z.range(0, len, true)
    } else if (n as u64) * 3 > len as u64 {
        // Most of the set: drop random elements until `n` are left.
        let mut all = z.range(0, len, false);
        while all.len() > n as usize {
            let i = (rand() % all.len() as u64) as usize;
            all.swap_remove(i);
        }
        all
    } else {
        let mut seen = std::collections::HashSet::with_capacity(n as usize);
        let mut out = Vec::with_capacity(n as usize);
        while out.len() < n as usize {
            let i = (rand() % len as u64) as usize;
            if seen.insert(i) {
                out.extend(z.at(i));
            }
        }
        out
    };
    Ok(members_reply(ctx, items, withscores))
}

// ---------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD.

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// The members of a plain set input, each counting with score 1.
fn set_members(s: &SetValue) -> Vec<Bytes> {
    s.members()
}

/// One input: `(member, score)` in the input's own order.
fn input_of(value: Option<&Value>) -> Result<Vec<(Bytes, f64)>, CmdError> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::ZSet(z)) => Ok(z.iter().map(|(s, m)| (m.clone(), s)).collect()),
        Some(Value::Set(s)) => Ok(set_members(s).into_iter().map(|m| (m, 1.0)).collect()),
        Some(_) => Err(CmdError::wrongtype()),
    }
}

fn aggregate(acc: &mut f64, v: f64, how: Aggregate) {
    match how {
        Aggregate::Sum => {
            *acc += v;
            if acc.is_nan() {
                *acc = 0.0;
            }
        }
        // Written as Redis compares, so a NaN `v` (inf × 0 weights) leaves `acc` alone.
        Aggregate::Min => {
            if v < *acc {
                *acc = v
            }
        }
        Aggregate::Max => {
            if v > *acc {
                *acc = v
            }
        }
    }
}

/// Computes a union / intersection / difference (Redis's aggregation order: inputs by
/// ascending size for an intersection, in argument order otherwise), sorted by
/// (score, member). A weighted score that is NaN (±inf × 0) counts as 0 in a union and for
/// the intersection's smallest input, and is ignored by the aggregation otherwise — what
/// Redis 7.0 does.
fn combine(
    mut inputs: Vec<(Vec<(Bytes, f64)>, f64)>,
    op: SetOp,
    how: Aggregate,
) -> Vec<(f64, Bytes)> {
    type Map = std::collections::HashMap<Bytes, f64, foldhash::fast::RandomState>;
    let weighted = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut out: Vec<(f64, Bytes)> = match op {
        SetOp::Union => {
            let mut acc: Map = Map::default();
            let mut order: Vec<Bytes> = Vec::new();
            for (items, w) in &inputs {
                for (m, s) in items {
                    let v = weighted(*s, *w);
                    match acc.get_mut(m) {
                        Some(a) => aggregate(a, v, how),
                        None => {
                            acc.insert(m.clone(), v);
                            order.push(m.clone());
                        }
                    }
                }
            }
            order
                .into_iter()
                .filter_map(|m| acc.get(&m).map(|s| (*s, m)))
                .collect()
        }
        SetOp::Inter => {
            inputs.sort_by_key(|(items, _)| items.len());
            let Some(((first, w0), rest)) = inputs.split_first() else {
                return Vec::new();
            };
            let maps: Vec<(Map, f64)> = rest
                .iter()
                .map(|(items, w)| (items.iter().cloned().collect(), *w))
                .collect();
            first
                .iter()
                .filter_map(|(m, s)| {
                    let mut acc = weighted(*s, *w0);
                    // Redis maps a NaN product to 0 for the first input only.
                    for (map, w) in &maps {
                        aggregate(&mut acc, *map.get(m)? * *w, how);
                    }
                    Some((acc, m.clone()))
                })
                .collect()
        }
        SetOp::Diff => {
            let Some(((first, _), rest)) = inputs.split_first() else {
                return Vec::new();
            };
            let others: Vec<Map> = rest
                .iter()
                .map(|(items, _)| items.iter().cloned().collect())
                .collect();
            first
                .iter()
                .filter(|(m, _)| !others.iter().any(|o| o.contains_key(m)))
                .map(|(m, s)| (*s, m.clone()))
                .collect()
        }
    };
    for (s, _) in &mut out {
        *s = crate::storage::zset::normalize(*s);
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    out
}

/// Parses `numkeys key... [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]` (each
/// option where the command allows it), reading the inputs as Redis does: every key is
/// looked up and type-checked before the options are parsed.
fn setop(ctx: &mut Ctx, args: &mut Args, op: SetOp, dst: Option<Bytes>) -> CmdResult {
    let name = ctx.spec.name;
    let numkeys = long_arg(&args.next_bytes()?)?;
    if numkeys < 1 {
        return Err(CmdError::msg(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if numkeys as u64 > args.remaining() as u64 {
        return Err(CmdError::syntax());
    }
    let keys: Vec<Bytes> = (0..numkeys)
        .map(|_| args.next_bytes())
        .collect::<Result<_, _>>()?;
    let mut inputs = Vec::with_capacity(keys.len());
    {
        let store = dst.is_some();
        let mut db = ctx.db();
        for k in &keys {
            let v = if store { db.get_mut(k) } else { db.get(k) }.map(|e| e.value());
            inputs.push((input_of(v)?, 1.0));
        }
    }
    let (mut how, mut withscores) = (Aggregate::Sum, false);
    while let Some(w) = args.peek().cloned() {
        let w = w.to_ascii_lowercase();
        let left = args.remaining();
        if op != SetOp::Diff && w == b"weights" && left > inputs.len() {
            args.next_bytes()?;
            for input in inputs.iter_mut() {
                input.1 = score_arg(&args.next_bytes()?, "ERR weight value is not a float")?;
            }
        } else if op != SetOp::Diff && w == b"aggregate" && left >= 2 {
            args.next_bytes()?;
            how = match args.next_bytes()?.to_ascii_lowercase().as_slice() {
                b"sum" => Aggregate::Sum,
                b"min" => Aggregate::Min,
                b"max" => Aggregate::Max,
                _ => return Err(CmdError::syntax()),
            };
        } else if dst.is_none() && w == b"withscores" {
            args.next_bytes()?;
            withscores = true;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let result = combine(inputs, op, how);
    match dst {
        Some(dst) => {
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            Ok(store_result(ctx, &dst, result, event))
        }
        None => {
            let items = result.into_iter().map(|(s, m)| (m, s)).collect();
            Ok(members_reply(ctx, items, withscores))
        }
    }
}

/// `ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]` —
/// O(N) + O(m log m).
fn zunion(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    setop(ctx, args, SetOp::Union, None)
}

/// `ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]` —
/// O(N·K) + O(m log m).
fn zinter(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    setop(ctx, args, SetOp::Inter, None)
}

/// `ZDIFF numkeys key [key ...] [WITHSCORES]` — O(N) + O(m log m).
fn zdiff(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    setop(ctx, args, SetOp::Diff, None)
}

/// `ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS …] [AGGREGATE …]`.
fn zunionstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    setop(ctx, args, SetOp::Union, Some(dst))
}

/// `ZINTERSTORE destination numkeys key [key ...] [WEIGHTS …] [AGGREGATE …]`.
fn zinterstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    setop(ctx, args, SetOp::Inter, Some(dst))
}

/// `ZDIFFSTORE destination numkeys key [key ...]`.
fn zdiffstore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dst = args.next_bytes()?;
    setop(ctx, args, SetOp::Diff, Some(dst))
}

/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]` — O(N·K), stopping at `limit`.
fn zintercard(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let numkeys = long_arg(&args.next_bytes()?)?;
    if numkeys < 1 {
        return Err(CmdError::new(
            "ERR at least 1 input key is needed for 'zintercard' command",
        ));
    }
    if numkeys as u64 > args.remaining() as u64 {
        return Err(CmdError::syntax());
    }
    let keys: Vec<Bytes> = (0..numkeys)
        .map(|_| args.next_bytes())
        .collect::<Result<_, _>>()?;
    let mut inputs = Vec::with_capacity(keys.len());
    {
        let mut db = ctx.db();
        for k in &keys {
            inputs.push((input_of(db.get(k).map(|e| e.value()))?, 1.0));
        }
    }
    let mut limit = 0u64;
    while let Some(w) = args.peek().cloned() {
        args.next_bytes()?;
        if w.eq_ignore_ascii_case(b"limit") && !args.is_empty() {
            let msg = "ERR LIMIT can't be negative";
            let n = parse_i64(&args.next_bytes()?).ok_or(CmdError::new(msg))?;
            if n < 0 {
                return Err(CmdError::new(msg));
            }
            limit = n as u64;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let n = combine(inputs, SetOp::Inter, Aggregate::Sum).len() as u64;
    Ok(Reply::Int(if limit > 0 { n.min(limit) } else { n } as i64))
}

// ---------------------------------------------------------------------------------------
// ZSCAN.

/// `ZSCAN key cursor [MATCH pattern] [COUNT count]` — O(1) per call. A small set comes back
/// whole with cursor 0 (as Redis's listpack does); a big one in rank order, the cursor
/// being the next rank: members present for the whole scan and whose rank does not drop
/// meanwhile are returned (Redis's hash-order cursor has no such caveat).
fn zscan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let cursor = super::keys::parse_cursor(&args.next_bytes()?)
        .ok_or(CmdError::new(crate::protocol::error::INVALID_CURSOR))?;
    let empty = || {
        Reply::Array(vec![
            Reply::bulk(Bytes::from_static(b"0")),
            Reply::Array(Vec::new()),
        ])
    };
    {
        let mut db = ctx.db();
        if read(&mut db, &key)?.is_none() {
            return Ok(empty());
        }
    }
    let (mut count, mut pattern) = (10usize, None::<Bytes>);
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
            _ => return Err(CmdError::syntax()),
        }
    }
    let mut db = ctx.db();
    let Some(z) = read(&mut db, &key)? else {
        return Ok(empty());
    };
    let len = z.len() as u64;
    let (from, to) = if z.encoding() == "listpack" {
        (0, len)
    } else {
        (
            cursor.min(len),
            cursor.saturating_add(count as u64).min(len),
        )
    };
    let next = if to >= len { 0 } else { to };
    let mut out = Vec::new();
    for (m, s) in z.range(from as usize, to as usize, false) {
        let keep = match &pattern {
            None => true,
            Some(p) => p.as_ref() == b"*" || glob_match(p, &m, false),
        };
        if keep {
            out.push(Reply::Bulk(m));
            out.push(Reply::bulk(d2string(s)));
        }
    }
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::Array(out),
    ]))
}

/// A score as Redis stores it in text (and ZSCAN shows it): integral values within
/// ±2^62 as integers, the rest with `%.17g`.
fn d2string(s: f64) -> String {
    const LIMIT: f64 = (i64::MAX / 2) as f64;
    if s.is_finite() && (-LIMIT..=LIMIT).contains(&s) && s == (s as i64) as f64 {
        (s as i64).to_string()
    } else {
        format_g17(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_scores_print_integers_exactly() {
        assert_eq!(d2string(123456789012345678.0), "123456789012345680");
        assert_eq!(d2string(1e20), "1e+20");
        assert_eq!(d2string(-2.5), "-2.5");
        assert_eq!(d2string(f64::INFINITY), "inf");
        assert_eq!(d2string(3.0), "3");
    }

    #[test]
    fn scores_parse_like_get_double_from_object() {
        assert_eq!(parse_score(b"1.5"), Some(1.5));
        assert_eq!(parse_score(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_score(b"+Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_score(b"1."), Some(1.0));
        assert_eq!(parse_score(b".5e1"), Some(5.0));
        assert_eq!(parse_score(b"0x10"), Some(16.0));
        assert_eq!(parse_score(b"1e308"), Some(1e308));
        for bad in [
            &b""[..],
            b" 1",
            b"1 ",
            b"nan",
            b"1e400",
            b"1e-400",
            b"abc",
            b"1e",
            b"--1",
        ] {
            assert_eq!(parse_score(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_score(b"0e-400"), Some(0.0));
    }

    #[test]
    fn range_bounds_parse_like_zsl_parse_range() {
        assert_eq!(score_bound(b"(1.5"), Some((1.5, true)));
        assert_eq!(score_bound(b"("), Some((0.0, true)));
        assert_eq!(score_bound(b""), Some((0.0, false)));
        assert_eq!(score_bound(b" 1"), Some((1.0, false)));
        assert_eq!(score_bound(b"1e400"), Some((f64::INFINITY, false)));
        assert_eq!(score_bound(b"nan"), None);
        assert_eq!(score_bound(b"1x"), None);
        assert!(lex_range(&Bytes::from("-"), &Bytes::from("+")).is_ok());
        assert!(lex_range(&Bytes::from("a"), &Bytes::from("+")).is_err());
        assert!(lex_range(&Bytes::from("--"), &Bytes::from("+")).is_err());
    }

    #[test]
    fn rank_spans_clamp_like_redis() {
        assert_eq!(rank_span(0, -1, 5), Some((0, 5)));
        assert_eq!(rank_span(-2, -1, 5), Some((3, 5)));
        assert_eq!(rank_span(3, 1, 5), None);
        assert_eq!(rank_span(5, 10, 5), None);
        assert_eq!(rank_span(-100, 100, 5), Some((0, 5)));
        assert_eq!(rank_span(0, 0, 0), None);
    }

    #[test]
    fn combine_aggregates_and_sorts() {
        let b = |s: &str| Bytes::copy_from_slice(s.as_bytes());
        let a = vec![(b("x"), 1.0), (b("y"), 2.0)];
        let c = vec![(b("y"), 3.0), (b("z"), f64::INFINITY)];
        let u = combine(
            vec![(a.clone(), 1.0), (c.clone(), 2.0)],
            SetOp::Union,
            Aggregate::Sum,
        );
        assert_eq!(
            u,
            vec![(1.0, b("x")), (8.0, b("y")), (f64::INFINITY, b("z"))]
        );
        let i = combine(
            vec![(a.clone(), 1.0), (c.clone(), 1.0)],
            SetOp::Inter,
            Aggregate::Max,
        );
        assert_eq!(i, vec![(3.0, b("y"))]);
        let d = combine(
            vec![(a, 1.0), (c.clone(), 1.0)],
            SetOp::Diff,
            Aggregate::Sum,
        );
        assert_eq!(d, vec![(1.0, b("x"))]);
        // inf * 0 is NaN: Redis counts it as 0.
        let z = combine(vec![(c, 0.0)], SetOp::Union, Aggregate::Sum);
        assert_eq!(z, vec![(0.0, b("y")), (0.0, b("z"))]);
    }
}
