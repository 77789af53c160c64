//! String commands. Parsing and replies here; values are [`StrValue`]s in the keyspace.

use bytes::Bytes;

use super::keys::{absolute_deadline, Unit};
use super::table::*;
use super::Ctx;
use crate::notify;
use crate::protocol::error::{OVERFLOW, STRING_TOO_LONG};
use crate::protocol::long_double::{self, LongDouble, Parsed};
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::storage::{Db, Expiry, StrValue, Value};

const S: u32 = STRING;

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("get", 2, READONLY | FAST, S, Keys::ONE, get)
        .doc("Returns the string value of a key.", "1.0.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("set", -3, WRITE | DENYOOM, S, Keys::ONE, set)
        .doc("Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0")
        .key_specs(&[KeySpec::at(1, &["RW", "access", "update", "variable_flags"])
            .notes("RW and ACCESS due to the optional `GET` argument")]),
    CommandSpec::new("setnx", 3, WRITE | DENYOOM | FAST, S, Keys::ONE, setnx)
        .doc("Set the string value of a key only when the key doesn't exist.", "1.0.0")
        .key_flags(&["OW", "insert"]),
    CommandSpec::new("setex", 4, WRITE | DENYOOM, S, Keys::ONE, setex)
        .doc("Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "2.0.0")
        .key_flags(&["OW", "update"]),
    CommandSpec::new("psetex", 4, WRITE | DENYOOM, S, Keys::ONE, psetex)
        .doc("Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "2.6.0")
        .key_flags(&["OW", "update"]),
    CommandSpec::new("getset", 3, WRITE | DENYOOM | FAST, S, Keys::ONE, getset)
        .doc("Returns the previous string value of a key after setting it to a new value.", "1.0.0")
        .key_flags(&["RW", "access", "update"]),
    CommandSpec::new("getdel", 2, WRITE | FAST, S, Keys::ONE, getdel)
        .doc("Returns the string value of a key after deleting the key.", "6.2.0")
        .key_flags(&["RW", "access", "delete"]),
    CommandSpec::new("getex", -2, WRITE | FAST, S, Keys::ONE, getex)
        .doc("Returns the string value of a key after setting its expiration time.", "6.2.0")
        .key_specs(&[KeySpec::at(1, &["RW", "access", "update"])
            .notes("RW and UPDATE because it changes the TTL")]),
    CommandSpec::new("mget", -2, READONLY | FAST, S, Keys::ALL, mget)
        .doc("Atomically returns the string values of one or more keys.", "1.0.0")
        .tips(&["request_policy:multi_shard"])
        .key_flags(&["RO", "access"]),
    CommandSpec::new("mset", -3, WRITE | DENYOOM, S, Keys::range(1, -1, 2), mset)
        .doc("Atomically creates or modifies the string values of one or more keys.", "1.0.1")
        .tips(&["request_policy:multi_shard", "response_policy:all_succeeded"])
        .key_flags(&["OW", "update"]),
    CommandSpec::new("msetnx", -3, WRITE | DENYOOM, S, Keys::range(1, -1, 2), msetnx)
        .doc("Atomically modifies the string values of one or more keys only when all keys don't exist.", "1.0.1")
        .tips(&["request_policy:multi_shard", "response_policy:agg_min"])
        .key_flags(&["OW", "insert"]),
    CommandSpec::new("incr", 2, WRITE | DENYOOM | FAST, S, Keys::ONE, incr)
        .doc("Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0")
        .key_flags(&["RW", "access", "update"]),
    CommandSpec::new("decr", 2, WRITE | DENYOOM | FAST, S, Keys::ONE, decr)
        .doc("Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0")
        .key_flags(&["RW", "access", "update"]),
    CommandSpec::new("incrby", 3, WRITE | DENYOOM | FAST, S, Keys::ONE, incrby)
        .doc("Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "1.0.0")
        .key_flags(&["RW", "access", "update"]),
    CommandSpec::new("decrby", 3, WRITE | DENYOOM | FAST, S, Keys::ONE, decrby)
        .doc("Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "1.0.0")
        .key_flags(&["RW", "access", "update"]),
    CommandSpec::new("incrbyfloat", 3, WRITE | DENYOOM | FAST, S, Keys::ONE, incrbyfloat)
        .doc("Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "2.6.0")
        .key_flags(&["RW", "access", "update"]),
    CommandSpec::new("append", 3, WRITE | DENYOOM | FAST, S, Keys::ONE, append)
        .doc("Appends a string to the value of a key. Creates the key if it doesn't exist.", "2.0.0")
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("strlen", 2, READONLY | FAST, S, Keys::ONE, strlen)
        .doc("Returns the length of a string value.", "2.2.0")
        .key_flags(&["RO"]),
    CommandSpec::new("getrange", 4, READONLY, S, Keys::ONE, getrange)
        .doc("Returns a substring of the string stored at a key.", "2.4.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("setrange", 4, WRITE | DENYOOM, S, Keys::ONE, setrange)
        .doc("Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "2.2.0")
        .key_flags(&["RW", "update"]),
    CommandSpec::new("substr", 4, READONLY, S, Keys::ONE, getrange)
        .doc("Returns a substring from a string value.", "1.0.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("lcs", -3, READONLY, S, Keys::TWO, lcs)
        .doc("Finds the longest common substring.", "7.0.0")
        .key_flags(&["RO", "access"]),
];

/// The string at `key` for a read command: `None` when missing, WRONGTYPE for other types.
fn read_str<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d StrValue>, CmdError> {
    super::read_as(db, key)
}

/// Same as [`read_str`] for write commands (no hit/miss counting), as an owned copy.
fn write_str(db: &mut Db, key: &[u8]) -> Result<Option<StrValue>, CmdError> {
    Ok(super::write_as::<StrValue>(db, key)?.cloned())
}

fn string(data: &[u8]) -> Value {
    Value::Str(StrValue::from_bytes(data))
}

/// `GET key` — O(1).
fn get(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::opt_bulk(
        read_str(&mut db, &key)?.map(StrValue::to_bytes),
    ))
}

/// Which command an option list belongs to: SET and GETEX share Redis's parser
/// (`parseExtendedStringArgumentsOrReply`), each accepting its own subset.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OptsFor {
    Set,
    GetEx,
}

/// An expiry option as given: the raw number is validated only after the whole option list
/// parsed (a syntax error anywhere wins over a bad number) — and for GETEX only once the key
/// is known to exist, as in Redis.
struct ExpireArg {
    word: &'static str,
    value: Bytes,
    unit: Unit,
    relative: bool,
}

impl ExpireArg {
    /// The absolute deadline in ms, or Redis's errors for a non-integer, non-positive or
    /// overflowing time.
    fn deadline(&self, now: u64, cmd: &str) -> Result<u64, CmdError> {
        let n = crate::protocol::number::parse_i64(&self.value).ok_or(CmdError::not_integer())?;
        if n <= 0 {
            return Err(CmdError::invalid_expire(cmd));
        }
        absolute_deadline(now, n, self.unit, self.relative)
            .filter(|&t| t > 0)
            .map(|t| t as u64)
            .ok_or_else(|| CmdError::invalid_expire(cmd))
    }
}

/// SET's and GETEX's options.
#[derive(Default)]
struct StringOptions {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<ExpireArg>,
}

/// Parses `[NX|XX] [GET] [EX|PX|EXAT|PXAT n|KEEPTTL|PERSIST]` with Redis's rules: an option
/// may repeat (`EX 1 EX 2`: the last wins) but may not meet a conflicting one.
fn parse_string_options(args: &mut Args, cmd: OptsFor) -> Result<StringOptions, CmdError> {
    let mut o = StringOptions::default();
    let set = cmd == OptsFor::Set;
    while let Some(word) = args.peek().cloned() {
        args.next_bytes()?;
        let w = word.to_ascii_lowercase();
        let expire_kind = match w.as_slice() {
            b"ex" => Some(("ex", Unit::Seconds, true)),
            b"px" => Some(("px", Unit::Millis, true)),
            b"exat" => Some(("exat", Unit::Seconds, false)),
            b"pxat" => Some(("pxat", Unit::Millis, false)),
            _ => None,
        };
        match w.as_slice() {
            b"nx" if set && !o.xx => o.nx = true,
            b"xx" if set && !o.nx => o.xx = true,
            b"get" if set => o.get = true,
            b"keepttl" if set && !o.persist && o.expire.is_none() => o.keepttl = true,
            b"persist" if !set && !o.keepttl && o.expire.is_none() => o.persist = true,
            _ => match expire_kind {
                Some((kind, unit, relative))
                    if !o.keepttl
                        && !o.persist
                        && o.expire.as_ref().is_none_or(|e| e.word == kind)
                        && !args.is_empty() =>
                {
                    o.expire = Some(ExpireArg {
                        word: kind,
                        value: args.next_bytes()?,
                        unit,
                        relative,
                    });
                }
                _ => return Err(CmdError::syntax()),
            },
        }
    }
    Ok(o)
}

/// `SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms|KEEPTTL]` — O(1).
fn set(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let o = parse_string_options(args, OptsFor::Set)?;
    let deadline = match &o.expire {
        Some(e) => Some(e.deadline(ctx.now(), "set")?),
        None => None,
    };
    let mut db = ctx.db();
    // SET … GET reads the old value the way GET does (a counted read lookup).
    let old = if o.get {
        read_str(&mut db, &key)?.cloned()
    } else {
        None
    };
    let exists = o.get && old.is_some() || (o.nx || o.xx) && db.contains(&key);
    if (o.nx && exists) || (o.xx && !exists) {
        return Ok(if o.get {
            Reply::opt_bulk(old.map(|s| s.to_bytes()))
        } else {
            Reply::Nil
        });
    }
    let expiry = match (deadline, o.keepttl) {
        (Some(t), _) => Expiry::At(t),
        (None, true) => Expiry::Keep,
        (None, false) => Expiry::Persist,
    };
    db.set(&key, string(&value), expiry);
    ctx.modified(&key, notify::STRING, "set");
    if let Some(at) = deadline {
        ctx.event(&key, notify::GENERIC, "expire");
        // Replays must not depend on when they run, nor on what the key held: any expiry
        // becomes `SET key value PXAT ms`, without NX/XX/GET (as Redis writes it, even when
        // PXAT was given).
        if ctx.propagating() {
            ctx.propagate(set_pxat(&key, &value, at));
        }
    } else if o.get && ctx.propagating() {
        // The old value is no business of a replay: SET … GET propagates without GET.
        let argv: Vec<Bytes> = args
            .argv()
            .iter()
            .enumerate()
            .filter(|(i, a)| *i < 3 || !a.eq_ignore_ascii_case(b"get"))
            .map(|(_, a)| a.clone())
            .collect();
        ctx.propagate(argv);
    }
    Ok(if o.get {
        Reply::opt_bulk(old.map(|s| s.to_bytes()))
    } else {
        Reply::Ok
    })
}

/// `SETNX key value` — O(1).
fn setnx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let mut db = ctx.db();
    if db.contains(&key) {
        return Ok(Reply::Int(0));
    }
    db.set(&key, string(&value), Expiry::Persist);
    ctx.modified(&key, notify::STRING, "set");
    Ok(Reply::Int(1))
}

fn set_with_ttl(ctx: &mut Ctx, args: &mut Args, unit: Unit, name: &str) -> CmdResult {
    let key = args.next_bytes()?;
    let n = args.next_i64()?;
    let value = args.next_bytes()?;
    if n <= 0 {
        return Err(CmdError::invalid_expire(name));
    }
    let at = absolute_deadline(ctx.now(), n, unit, true)
        .filter(|&t| t > 0)
        .ok_or_else(|| CmdError::invalid_expire(name))?;
    ctx.db().set(&key, string(&value), Expiry::At(at as u64));
    ctx.modified(&key, notify::STRING, "set");
    ctx.event(&key, notify::GENERIC, "expire");
    if ctx.propagating() {
        ctx.propagate(set_pxat(&key, &value, at as u64));
    }
    Ok(Reply::Ok)
}

/// `SETEX key seconds value` — O(1).
fn setex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    set_with_ttl(ctx, args, Unit::Seconds, "setex")
}

/// `PSETEX key milliseconds value` — O(1).
fn psetex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    set_with_ttl(ctx, args, Unit::Millis, "psetex")
}

/// `GETSET key value` — O(1).
fn getset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let value = args.next_bytes()?;
    let mut db = ctx.db();
    let old = read_str(&mut db, &key)?.cloned();
    db.set(&key, string(&value), Expiry::Persist);
    ctx.modified(&key, notify::STRING, "set");
    if ctx.propagating() {
        ctx.propagate(vec![Bytes::from_static(b"SET"), key, value]);
    }
    Ok(Reply::opt_bulk(old.map(|s| s.to_bytes())))
}

/// `GETDEL key` — O(1).
fn getdel(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(old) = read_str(&mut db, &key)?.map(StrValue::to_bytes) else {
        return Ok(Reply::Nil);
    };
    db.remove(&key);
    ctx.modified(&key, notify::GENERIC, "del");
    if ctx.propagating() {
        ctx.propagate(vec![Bytes::from_static(b"DEL"), key]);
    }
    Ok(Reply::Bulk(old))
}

/// `GETEX key [EX s|PX ms|EXAT ts|PXAT ms|PERSIST]` — O(1). A missing key answers nil
/// before the expiry time is even validated, as in Redis.
fn getex(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let o = parse_string_options(args, OptsFor::GetEx)?;
    let now = ctx.now();
    let mut db = ctx.db();
    let Some(value) = read_str(&mut db, &key)?.map(StrValue::to_bytes) else {
        return Ok(Reply::Nil);
    };
    let deadline = match &o.expire {
        Some(e) => Some(e.deadline(now, "getex")?),
        None => None,
    };
    if let Some(at) = deadline {
        if at <= now {
            db.remove(&key);
            ctx.modified(&key, notify::GENERIC, "del");
            if ctx.propagating() {
                ctx.propagate(vec![Bytes::from_static(b"DEL"), key]);
            }
        } else {
            db.set_expiry(&key, Some(at));
            ctx.modified(&key, notify::GENERIC, "expire");
            if ctx.propagating() {
                let at = Bytes::from(at.to_string());
                ctx.propagate(vec![Bytes::from_static(b"PEXPIREAT"), key, at]);
            }
        }
    } else if o.persist && db.expiry_of(&key).flatten().is_some() {
        db.set_expiry(&key, None);
        ctx.modified(&key, notify::GENERIC, "persist");
        if ctx.propagating() {
            ctx.propagate(vec![Bytes::from_static(b"PERSIST"), key]);
        }
    }
    Ok(Reply::Bulk(value))
}

/// `MGET key [key ...]` — O(N). Keys of other types read as nil.
fn mget(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    let mut db = ctx.db();
    let values = keys
        .iter()
        .map(|k| match db.get(k).map(|e| e.value()) {
            Some(Value::Str(s)) => Reply::Bulk(s.to_bytes()),
            _ => Reply::Nil,
        })
        .collect();
    Ok(Reply::Array(values))
}

fn pairs(ctx: &Ctx, args: &mut Args) -> Result<Vec<(Bytes, Bytes)>, CmdError> {
    if !args.remaining().is_multiple_of(2) {
        return Err(CmdError::arity(ctx.spec.name));
    }
    let mut out = Vec::with_capacity(args.remaining() / 2);
    while !args.is_empty() {
        out.push((args.next_bytes()?, args.next_bytes()?));
    }
    Ok(out)
}

/// `MSET key value [key value ...]` — O(N).
fn mset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let pairs = pairs(ctx, args)?;
    for (k, v) in &pairs {
        ctx.db().set(k, string(v), Expiry::Persist);
        ctx.modified(k, notify::STRING, "set");
    }
    Ok(Reply::Ok)
}

/// `MSETNX key value [key value ...]` — O(N). All or nothing.
fn msetnx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let pairs = pairs(ctx, args)?;
    let mut db = ctx.db();
    if pairs.iter().any(|(k, _)| db.contains(k)) {
        return Ok(Reply::Int(0));
    }
    for (k, v) in &pairs {
        ctx.db().set(k, string(v), Expiry::Persist);
        ctx.modified(k, notify::STRING, "set");
    }
    Ok(Reply::Int(1))
}

fn incr_by(ctx: &mut Ctx, key: &[u8], delta: i64) -> CmdResult {
    let mut db = ctx.db();
    // An existing counter is updated in place: one lookup, its expiry untouched.
    let n = match db.get_mut(key).map(|e| e.value_mut()) {
        Some(Value::Str(s)) => {
            let current = s.as_i64().ok_or(CmdError::not_integer())?;
            let n = current.checked_add(delta).ok_or(CmdError::new(OVERFLOW))?;
            *s = StrValue::Int(n);
            n
        }
        Some(_) => return Err(CmdError::wrongtype()),
        None => {
            db.set(key, Value::Str(StrValue::Int(delta)), Expiry::Keep);
            delta
        }
    };
    ctx.modified(key, notify::STRING, "incrby");
    Ok(Reply::Int(n))
}

/// `INCR key` — O(1).
fn incr(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    incr_by(ctx, &key, 1)
}

/// `DECR key` — O(1).
fn decr(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    incr_by(ctx, &key, -1)
}

/// `INCRBY key increment` — O(1).
fn incrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let delta = args.next_i64()?;
    incr_by(ctx, &key, delta)
}

/// `DECRBY key decrement` — O(1).
fn decrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let delta = args.next_i64()?;
    if delta == i64::MIN {
        return Err(CmdError::new("ERR decrement would overflow"));
    }
    incr_by(ctx, &key, -delta)
}

/// `INCRBYFLOAT key increment` — O(1). Computed in emulated `long double`, as Redis does,
/// so replies match digit for digit (`0.1` + `0.2` is `0.3`).
fn incrbyfloat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let delta = args.next_bytes()?;
    let mut db = ctx.db();
    let current = match write_str(&mut db, &key)? {
        None => Parsed::Finite(LongDouble::ZERO),
        Some(s) => long_double::parse(&s.to_bytes()).ok_or(CmdError::not_float())?,
    };
    let delta = long_double::parse(&delta).ok_or(CmdError::not_float())?;
    let sum = match (current, delta) {
        (Parsed::Finite(a), Parsed::Finite(b)) => a.checked_add(b),
        _ => None,
    }
    .ok_or(CmdError::new("ERR increment would produce NaN or Infinity"))?;
    let text = Bytes::from(sum.to_human());
    db.set(&key, Value::Str(StrValue::text(&text)), Expiry::Keep);
    ctx.modified(&key, notify::STRING, "incrbyfloat");
    // Float formatting may differ where a replay runs: propagate the result itself.
    if ctx.propagating() {
        let argv = vec![
            Bytes::from_static(b"SET"),
            key,
            text.clone(),
            Bytes::from_static(b"KEEPTTL"),
        ];
        ctx.propagate(argv);
    }
    Ok(Reply::Bulk(text))
}

/// `SET key value PXAT ms`: how a write with an expiry is propagated.
fn set_pxat(key: &Bytes, value: &Bytes, at: u64) -> Vec<Bytes> {
    vec![
        Bytes::from_static(b"SET"),
        key.clone(),
        value.clone(),
        Bytes::from_static(b"PXAT"),
        Bytes::from(at.to_string()),
    ]
}

fn max_string(ctx: &Ctx) -> u64 {
    ctx.shared.config.read().proto_max_bulk_len
}

/// `APPEND key value` — O(1) amortised.
fn append(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let tail = args.next_bytes()?;
    let limit = max_string(ctx);
    let mut db = ctx.db();
    let new = match write_str(&mut db, &key)? {
        None => StrValue::from_bytes(&tail),
        Some(s) => {
            let old = s.to_bytes();
            if (old.len() + tail.len()) as u64 > limit {
                return Err(CmdError::new(STRING_TOO_LONG));
            }
            let mut v = Vec::with_capacity(old.len() + tail.len());
            v.extend_from_slice(&old);
            v.extend_from_slice(&tail);
            StrValue::raw(v)
        }
    };
    let len = new.len();
    db.set(&key, Value::Str(new), Expiry::Keep);
    ctx.modified(&key, notify::STRING, "append");
    Ok(Reply::Int(len as i64))
}

/// `STRLEN key` — O(1).
fn strlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        read_str(&mut db, &key)?.map_or(0, StrValue::len) as i64,
    ))
}

/// Redis's GETRANGE index rules: negative from the end, clamped, empty when inverted.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let mut start = if start < 0 { len + start } else { start };
    let mut end = if end < 0 { len + end } else { end };
    start = start.max(0);
    end = end.max(0);
    if end >= len {
        end = len - 1;
    }
    if start > end || len == 0 {
        return None;
    }
    Some((start as usize, end as usize))
}

/// `GETRANGE key start end` (and `SUBSTR`) — O(N) in the returned length.
fn getrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let start = args.next_i64()?;
    let end = args.next_i64()?;
    let mut db = ctx.db();
    let Some(s) = read_str(&mut db, &key)?.map(StrValue::to_bytes) else {
        return Ok(Reply::bulk(Bytes::new()));
    };
    Ok(Reply::Bulk(match clamp_range(start, end, s.len()) {
        Some((a, b)) => s.slice(a..=b),
        None => Bytes::new(),
    }))
}

/// `SETRANGE key offset value` — O(1) plus the copy.
fn setrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let offset = args.next_i64()?;
    let patch = args.next_bytes()?;
    if offset < 0 {
        return Err(CmdError::new("ERR offset is out of range"));
    }
    let limit = max_string(ctx);
    let mut db = ctx.db();
    let old = write_str(&mut db, &key)?;
    let old_len = old.as_ref().map_or(0, StrValue::len);
    if patch.is_empty() {
        return Ok(Reply::Int(old_len as i64));
    }
    let offset = offset as u64;
    if offset + patch.len() as u64 > limit {
        return Err(CmdError::new(STRING_TOO_LONG));
    }
    let offset = offset as usize;
    let mut v = old.map(|s| s.to_bytes().to_vec()).unwrap_or_default();
    if v.len() < offset + patch.len() {
        v.resize(offset + patch.len(), 0);
    }
    v[offset..offset + patch.len()].copy_from_slice(&patch);
    let len = v.len();
    db.set(&key, Value::Str(StrValue::raw(v)), Expiry::Keep);
    ctx.modified(&key, notify::STRING, "setrange");
    Ok(Reply::Int(len as i64))
}

/// `LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]` — O(N·M) time and memory.
fn lcs(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let k1 = args.next_bytes()?;
    let k2 = args.next_bytes()?;
    let (mut len_only, mut idx, mut withmatchlen, mut minmatchlen) = (false, false, false, 0i64);
    while let Some(word) = args.peek().cloned() {
        args.next_bytes()?;
        let w = word.to_ascii_lowercase();
        match w.as_slice() {
            b"len" => len_only = true,
            b"idx" => idx = true,
            b"withmatchlen" => withmatchlen = true,
            b"minmatchlen" if !args.is_empty() => minmatchlen = args.next_i64()?.max(0),
            _ => return Err(CmdError::syntax()),
        }
    }
    let limit = max_string(ctx);
    let mut db = ctx.db();
    let mut fetch = |k: &[u8]| -> Result<Bytes, CmdError> {
        match db.get(k).map(|e| e.value()) {
            None => Ok(Bytes::new()),
            Some(Value::Str(s)) => Ok(s.to_bytes()),
            #[allow(unreachable_patterns)]
            Some(_) => Err(CmdError::new(
                "ERR The specified keys must contain string values",
            )),
        }
    };
    let a = fetch(&k1)?;
    let b = fetch(&k2)?;
    if len_only && idx {
        return Err(CmdError::new(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let cells = (a.len() as u64 + 1).saturating_mul(b.len() as u64 + 1);
    if cells.saturating_mul(4) > limit {
        return Err(CmdError::new(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let out = lcs_compute(&a, &b, minmatchlen as usize);
    if len_only {
        return Ok(Reply::Int(out.len as i64));
    }
    if !idx {
        return Ok(Reply::Bulk(Bytes::from(out.common)));
    }
    let matches = out
        .ranges
        .iter()
        .map(|r| {
            let mut m = vec![
                Reply::Array(vec![Reply::Int(r.a.0 as i64), Reply::Int(r.a.1 as i64)]),
                Reply::Array(vec![Reply::Int(r.b.0 as i64), Reply::Int(r.b.1 as i64)]),
            ];
            if withmatchlen {
                m.push(Reply::Int((r.a.1 - r.a.0 + 1) as i64));
            }
            Reply::Array(m)
        })
        .collect();
    Ok(Reply::Map(vec![
        (Reply::bulk("matches"), Reply::Array(matches)),
        (Reply::bulk("len"), Reply::Int(out.len as i64)),
    ]))
}

/// One matched run: inclusive byte ranges in each string.
#[derive(Debug, PartialEq, Eq)]
struct MatchRange {
    a: (usize, usize),
    b: (usize, usize),
}

struct LcsResult {
    len: usize,
    common: Vec<u8>,
    /// Runs from the end of the strings backwards, as Redis reports them.
    ranges: Vec<MatchRange>,
}

/// Dynamic-programming LCS with Redis's backtracking, so match ranges come out identical.
fn lcs_compute(a: &[u8], b: &[u8], minmatchlen: usize) -> LcsResult {
    let (n, m) = (a.len(), b.len());
    let w = m + 1;
    let mut t = vec![0u32; (n + 1) * w];
    for i in 1..=n {
        for j in 1..=m {
            t[i * w + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * w + j - 1] + 1
            } else {
                t[(i - 1) * w + j].max(t[i * w + j - 1])
            };
        }
    }
    let len = t[n * w + m] as usize;
    let mut common = vec![0u8; len];
    let mut ranges = Vec::new();
    let (mut i, mut j, mut k) = (n, m, len);
    // `None` = no run in progress.
    let mut run: Option<MatchRange> = None;
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            common[k - 1] = a[i - 1];
            match &mut run {
                None => {
                    run = Some(MatchRange {
                        a: (i - 1, i - 1),
                        b: (j - 1, j - 1),
                    })
                }
                Some(r) if r.a.0 == i && r.b.0 == j => {
                    r.a.0 -= 1;
                    r.b.0 -= 1;
                }
                Some(_) => emit = true,
            }
            if let Some(r) = &run {
                if r.a.0 == 0 || r.b.0 == 0 {
                    emit = true;
                }
            }
            k -= 1;
            i -= 1;
            j -= 1;
        } else {
            if t[(i - 1) * w + j] > t[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if run.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some(r) = run.take() {
                if minmatchlen == 0 || r.a.1 - r.a.0 + 1 >= minmatchlen {
                    ranges.push(r);
                }
            }
        }
    }
    LcsResult {
        len,
        common,
        ranges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcs_matches_redis_example() {
        let r = lcs_compute(b"ohmytext", b"mynewtext", 0);
        assert_eq!(r.len, 6);
        assert_eq!(r.common, b"mytext");
        assert_eq!(
            r.ranges,
            vec![
                MatchRange {
                    a: (4, 7),
                    b: (5, 8)
                },
                MatchRange {
                    a: (2, 3),
                    b: (0, 1)
                },
            ]
        );
        let r = lcs_compute(b"ohmytext", b"mynewtext", 4);
        assert_eq!(r.ranges.len(), 1);
    }

    #[test]
    fn lcs_of_empty_strings() {
        let r = lcs_compute(b"", b"abc", 0);
        assert_eq!((r.len, r.common.len(), r.ranges.len()), (0, 0, 0));
    }

    #[test]
    fn getrange_index_rules() {
        assert_eq!(clamp_range(0, -1, 5), Some((0, 4)));
        assert_eq!(clamp_range(-3, -1, 5), Some((2, 4)));
        assert_eq!(clamp_range(-1, -3, 5), None);
        assert_eq!(clamp_range(2, 100, 5), Some((2, 4)));
        assert_eq!(clamp_range(3, 1, 5), None);
        assert_eq!(clamp_range(0, 0, 0), None);
        assert_eq!(clamp_range(-100, 1, 5), Some((0, 1)));
    }
}
