//! Hash commands. Parsing and replies here; the data logic (both representations, encoding
//! conversions, increments, random picks, scanning) is [`HashValue`]'s, in `storage/hash.rs`.
//!
//! Writes read the encoding thresholds from `shared.encodings` (no config lock per write),
//! report `hset`/`hdel`/`hincrby`/`hincrbyfloat` in the hash class — plus `del` when a
//! write empties the hash, which removes the key — and count `dirty` as Redis does: one per
//! pair for HSET/HMSET, one per removed field for HDEL.

use bytes::Bytes;

use super::keys::parse_cursor;
use super::table::*;
use super::Ctx;
use crate::notify;
use crate::protocol::error::INVALID_CURSOR;
use crate::protocol::long_double::{self, Parsed};
use crate::protocol::number::parse_i64;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::shared::EncodingLimits;
use crate::storage::glob::glob_match;
use crate::storage::hash::{IncrError, Limits};
use crate::storage::{Db, Expiry, HashValue, Value};

const H: u32 = HASH;

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("hset", -4, WRITE | DENYOOM | FAST, H, Keys::ONE, hset)
        .doc(
            "Sets fields of a hash, creating the key when missing.",
            "2.0.0",
        )
        .key_flags(&["RW", "update"]),
    CommandSpec::new("hsetnx", 4, WRITE | DENYOOM | FAST, H, Keys::ONE, hsetnx)
        .doc(
            "Sets a hash field only if the field is not there yet.",
            "2.0.0",
        )
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("hget", 3, READONLY | FAST, H, Keys::ONE, hget)
        .doc("Returns one field's value from a hash.", "2.0.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("hmget", -3, READONLY | FAST, H, Keys::ONE, hmget)
        .doc("Returns several fields' values from a hash.", "2.0.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("hmset", -4, WRITE | DENYOOM | FAST, H, Keys::ONE, hset)
        .doc(
            "Sets fields of a hash (the older form of HSET, replying OK).",
            "2.0.0",
        )
        .key_flags(&["RW", "update"]),
    CommandSpec::new("hgetall", 2, READONLY, H, Keys::ONE, hgetall)
        .doc("Returns every field and value of a hash.", "2.0.0")
        .tips(&["nondeterministic_output_order"])
        .key_flags(&["RO", "access"]),
    CommandSpec::new("hdel", -3, WRITE | FAST, H, Keys::ONE, hdel)
        .doc(
            "Removes fields from a hash, and the key once no field is left.",
            "2.0.0",
        )
        .key_flags(&["RW", "delete"]),
    CommandSpec::new("hexists", 3, READONLY | FAST, H, Keys::ONE, hexists)
        .doc("Tells whether a hash has a field.", "2.0.0")
        .key_flags(&["RO"]),
    CommandSpec::new("hlen", 2, READONLY | FAST, H, Keys::ONE, hlen)
        .doc("Returns how many fields a hash has.", "2.0.0")
        .key_flags(&["RO"]),
    CommandSpec::new("hstrlen", 3, READONLY | FAST, H, Keys::ONE, hstrlen)
        .doc(
            "Returns the length of one field's value in a hash.",
            "3.2.0",
        )
        .key_flags(&["RO"]),
    CommandSpec::new("hkeys", 2, READONLY, H, Keys::ONE, hkeys)
        .doc("Returns every field name of a hash.", "2.0.0")
        .tips(&["nondeterministic_output_order"])
        .key_flags(&["RO", "access"]),
    CommandSpec::new("hvals", 2, READONLY, H, Keys::ONE, hvals)
        .doc("Returns every value of a hash.", "2.0.0")
        .tips(&["nondeterministic_output_order"])
        .key_flags(&["RO", "access"]),
    CommandSpec::new("hincrby", 4, WRITE | DENYOOM | FAST, H, Keys::ONE, hincrby)
        .doc(
            "Adds an integer to a hash field's integer value (0 when missing).",
            "2.0.0",
        )
        .key_flags(&["RW", "access", "update"]),
    CommandSpec::new(
        "hincrbyfloat",
        4,
        WRITE | DENYOOM | FAST,
        H,
        Keys::ONE,
        hincrbyfloat,
    )
    .doc(
        "Adds a decimal number to a hash field's numeric value (0 when missing).",
        "2.6.0",
    )
    .key_flags(&["RW", "access", "update"]),
    CommandSpec::new("hrandfield", -2, READONLY, H, Keys::ONE, hrandfield)
        .doc(
            "Returns random fields (optionally with their values) of a hash.",
            "6.2.0",
        )
        .tips(&["nondeterministic_output"])
        .key_flags(&["RO", "access"]),
    CommandSpec::new("hscan", -3, READONLY, H, Keys::ONE, hscan)
        .doc("Iterates over the fields and values of a hash.", "2.8.0")
        .tips(&["nondeterministic_output"])
        .key_flags(&["RO", "access"]),
];

/// The hash at `key` for a read command (a counted lookup): `None` when missing,
/// WRONGTYPE for other types.
fn read_hash<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d HashValue>, CmdError> {
    super::read_as(db, key)
}

/// The hash at `key` for a write command (no hit/miss counting), to change in place.
fn write_hash<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d mut HashValue>, CmdError> {
    super::write_as(db, key)
}

/// Applies `write` to the hash at `key`, creating the key (with no expiry) when missing,
/// as Redis's `hashTypeLookupWriteOrCreate` does.
fn upsert<T>(
    db: &mut Db,
    key: &[u8],
    write: impl FnOnce(&mut HashValue) -> Result<T, CmdError>,
) -> Result<T, CmdError> {
    if let Some(h) = write_hash(db, key)? {
        return write(h);
    }
    let mut h = HashValue::new();
    let out = write(&mut h)?;
    db.set(key, Value::Hash(h), Expiry::Persist);
    Ok(out)
}

/// `hash-max-listpack-entries` / `-value` as writes convert by.
fn limits(ctx: &Ctx) -> Limits {
    let e = &ctx.shared.encodings;
    let get = |v| usize::try_from(EncodingLimits::get(v)).unwrap_or(usize::MAX);
    Limits {
        max_entries: get(&e.hash_max_listpack_entries),
        max_value: get(&e.hash_max_listpack_value),
    }
}

fn bulk(b: &[u8]) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(b))
}

/// `HSET key field value [field value ...]` — O(N) pairs; also `HMSET`, which replies OK.
fn hset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    if !args.remaining().is_multiple_of(2) {
        return Err(CmdError::arity(ctx.spec.name));
    }
    let rest = args.rest();
    let pairs = rest.len() / 2;
    let limits = limits(ctx);
    let mut db = ctx.db();
    let created = upsert(&mut db, &key, |h| {
        Ok(h.set_pairs(rest.chunks_exact(2).map(|p| (&p[0][..], &p[1][..])), limits))
    })?;
    ctx.modified(&key, notify::HASH, "hset");
    ctx.modified_many(pairs as u64 - 1);
    Ok(if ctx.spec.name == "hmset" {
        Reply::Ok
    } else {
        Reply::Int(created as i64)
    })
}

/// `HSETNX key field value` — O(1).
fn hsetnx(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let value = args.next_bytes()?;
    let limits = limits(ctx);
    let mut db = ctx.db();
    let set = upsert(&mut db, &key, |h| {
        Ok(!h.contains(&field) && h.set(&field, &value, limits))
    })?;
    if !set {
        return Ok(Reply::Int(0));
    }
    ctx.modified(&key, notify::HASH, "hset");
    Ok(Reply::Int(1))
}

/// `HGET key field` — O(1).
fn hget(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(read_hash(&mut db, &key)?
        .and_then(|h| h.get(&field))
        .map_or(Reply::Nil, bulk))
}

/// `HMGET key field [field ...]` — O(N) fields; missing fields (or key) read as nil.
fn hmget(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let fields = args.rest();
    let mut db = ctx.db();
    let h = read_hash(&mut db, &key)?;
    Ok(Reply::Array(
        fields
            .iter()
            .map(|f| h.and_then(|h| h.get(f)).map_or(Reply::Nil, bulk))
            .collect(),
    ))
}

/// `HGETALL key` — O(N): a map in RESP3, a flat field/value array in RESP2.
fn hgetall(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Map(
        read_hash(&mut db, &key)?.map_or_else(Vec::new, |h| {
            h.iter().map(|(f, v)| (bulk(f), bulk(v))).collect()
        }),
    ))
}

/// `HKEYS key` — O(N).
fn hkeys(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Array(
        read_hash(&mut db, &key)?
            .map_or_else(Vec::new, |h| h.iter().map(|(f, _)| bulk(f)).collect()),
    ))
}

/// `HVALS key` — O(N).
fn hvals(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Array(
        read_hash(&mut db, &key)?
            .map_or_else(Vec::new, |h| h.iter().map(|(_, v)| bulk(v)).collect()),
    ))
}

/// `HDEL key field [field ...]` — O(N) fields. Deletes the key once the hash is empty.
fn hdel(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let fields = args.rest();
    let mut db = ctx.db();
    let Some(h) = write_hash(&mut db, &key)? else {
        return Ok(Reply::Int(0));
    };
    let removed = h.remove_fields(fields.iter().map(|f| &f[..]));
    let emptied = h.is_empty();
    if emptied {
        db.remove(&key);
    }
    if removed > 0 {
        ctx.modified(&key, notify::HASH, "hdel");
        ctx.modified_many(removed as u64 - 1);
        if emptied {
            ctx.event(&key, notify::GENERIC, "del");
        }
    }
    Ok(Reply::Int(removed as i64))
}

/// `HEXISTS key field` — O(1).
fn hexists(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let mut db = ctx.db();
    let found = read_hash(&mut db, &key)?.is_some_and(|h| h.contains(&field));
    Ok(Reply::Int(i64::from(found)))
}

/// `HLEN key` — O(1).
fn hlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        read_hash(&mut db, &key)?.map_or(0, |h| h.len()) as i64
    ))
}

/// `HSTRLEN key field` — O(1); 0 for a missing field or key.
fn hstrlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let mut db = ctx.db();
    let len = read_hash(&mut db, &key)?
        .and_then(|h| h.get(&field))
        .map_or(0, <[u8]>::len);
    Ok(Reply::Int(len as i64))
}

fn incr_error(e: IncrError) -> CmdError {
    CmdError::new(match e {
        IncrError::NotInteger => "ERR hash value is not an integer",
        IncrError::NotFloat => "ERR hash value is not a float",
        IncrError::Overflow => crate::protocol::error::OVERFLOW,
        IncrError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
    })
}

/// `HINCRBY key field increment` — O(1). The increment is validated before the key is
/// looked up, as in Redis.
fn hincrby(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let delta = args.next_i64()?;
    let limits = limits(ctx);
    let mut db = ctx.db();
    let n = upsert(&mut db, &key, |h| {
        h.incr_by(&field, delta, limits).map_err(incr_error)
    })?;
    ctx.modified(&key, notify::HASH, "hincrby");
    Ok(Reply::Int(n))
}

/// `HINCRBYFLOAT key field increment` — O(1). Computed in emulated `long double` and
/// formatted as Redis does (see `INCRBYFLOAT`), and propagated as `HSET key field result`
/// so a replay does not depend on float arithmetic.
fn hincrbyfloat(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let field = args.next_bytes()?;
    let delta = match long_double::parse(&args.next_bytes()?) {
        None => return Err(CmdError::not_float()),
        Some(Parsed::Infinite) => return Err(CmdError::new("ERR value is NaN or Infinity")),
        Some(Parsed::Finite(d)) => d,
    };
    let limits = limits(ctx);
    let mut db = ctx.db();
    let text = upsert(&mut db, &key, |h| {
        h.incr_by_float(&field, delta, limits).map_err(incr_error)
    })?;
    let text = Bytes::from(text);
    ctx.modified(&key, notify::HASH, "hincrbyfloat");
    if ctx.propagating() {
        ctx.propagate(vec![Bytes::from_static(b"HSET"), key, field, text.clone()]);
    }
    Ok(Reply::Bulk(text))
}

/// The server's random source for one call (see [`crate::rng`]).
fn rng(ctx: &Ctx) -> impl FnMut() -> u64 {
    let s = ctx.rng();
    move || s.next_u64()
}

/// Most picks a negative `HRANDFIELD` count may ask for. Redis has no such limit and builds
/// whatever reply is asked for (exhausting memory for counts near `-LONG_MAX`); replies here
/// are built before they are written, so a larger count is refused with Redis's
/// `value is out of range` text instead.
const MAX_RANDOM_PICKS: u64 = 1 << 24;

/// `HRANDFIELD key [count [WITHVALUES]]` — O(N) in the count. A negative count allows
/// repeats; WITHVALUES pairs are `[field, value]` arrays in RESP3 and a flat list in RESP2,
/// as Redis 7.0 answers.
fn hrandfield(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut rand = rng(ctx);
    if args.is_empty() {
        let mut db = ctx.db();
        let mut out = Reply::Nil;
        if let Some(h) = read_hash(&mut db, &key)? {
            h.random_with_repeats(1, &mut rand, |_, f, _| out = bulk(f));
        }
        return Ok(out);
    }
    let l = parse_i64(&args.next_bytes()?).ok_or(CmdError::not_integer())?;
    if l == i64::MIN {
        return Err(CmdError::new(
            "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
        ));
    }
    let withvalues = match args.remaining() {
        0 => false,
        1 if args.eat("withvalues") => true,
        _ => return Err(CmdError::syntax()),
    };
    if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&l) {
        return Err(CmdError::new("ERR value is out of range"));
    }
    let resp3 = ctx.session.resp3;
    let mut db = ctx.db();
    let Some(h) = read_hash(&mut db, &key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    let count = l.unsigned_abs();
    if count == 0 {
        return Ok(Reply::Array(Vec::new()));
    }
    let per_pick = if withvalues && !resp3 { 2 } else { 1 };
    let push = |out: &mut Vec<Reply>, f: Reply, v: Option<Reply>| match v {
        None => out.push(f),
        Some(v) if resp3 => out.push(Reply::Array(vec![f, v])),
        Some(v) => {
            out.push(f);
            out.push(v);
        }
    };
    let len = h.len() as u64;
    if l < 0 || count == 1 {
        if count > MAX_RANDOM_PICKS {
            return Err(CmdError::new("ERR value is out of range"));
        }
        let mut out = Vec::with_capacity(count as usize * per_pick);
        // More picks than fields: copy each field once and share it between repeats.
        let mut cache: Vec<Option<(Bytes, Bytes)>> = if count > len {
            vec![None; len as usize]
        } else {
            Vec::new()
        };
        h.random_with_repeats(count as usize, &mut rand, |i, f, v| {
            let (f, v) = match cache.get_mut(i) {
                Some(slot) => slot
                    .get_or_insert_with(|| {
                        let v = if withvalues {
                            Bytes::copy_from_slice(v)
                        } else {
                            Bytes::new()
                        };
                        (Bytes::copy_from_slice(f), v)
                    })
                    .clone(),
                None => (Bytes::copy_from_slice(f), Bytes::copy_from_slice(v)),
            };
            push(
                &mut out,
                Reply::Bulk(f),
                withvalues.then_some(Reply::Bulk(v)),
            );
        });
        return Ok(Reply::Array(out));
    }
    let mut out = Vec::with_capacity(count.min(len) as usize * per_pick);
    let mut emit = |(f, v): (&[u8], &[u8])| push(&mut out, bulk(f), withvalues.then(|| bulk(v)));
    if count >= len {
        h.iter().for_each(&mut emit);
    } else {
        h.random_distinct(count as usize, &mut rand)
            .into_iter()
            .for_each(&mut emit);
    }
    Ok(Reply::Array(out))
}

/// `HSCAN key cursor [MATCH pattern] [COUNT count]` — O(1) per call, O(N) per full
/// iteration. A small (packed) hash comes back whole with cursor 0. Options are parsed only
/// once the key is known to be a hash, as in Redis (a missing key answers an empty scan
/// whatever follows).
fn hscan(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let cursor = parse_cursor(&args.next_bytes()?).ok_or(CmdError::new(INVALID_CURSOR))?;
    let mut db = ctx.db();
    let Some(h) = read_hash(&mut db, &key)? else {
        return Ok(Reply::Array(vec![
            Reply::bulk("0"),
            Reply::Array(Vec::new()),
        ]));
    };
    let mut count = 10usize;
    let mut pattern: Option<Bytes> = None;
    while !args.is_empty() {
        let opt = args.next_bytes()?;
        if args.is_empty() {
            return Err(CmdError::syntax());
        }
        if opt.eq_ignore_ascii_case(b"count") {
            let n = args.next_i64()?;
            if n < 1 {
                return Err(CmdError::syntax());
            }
            count = usize::try_from(n).unwrap_or(usize::MAX);
        } else if opt.eq_ignore_ascii_case(b"match") {
            pattern = Some(args.next_bytes()?);
        } else {
            return Err(CmdError::syntax());
        }
    }
    let pattern = pattern.filter(|p| p.as_ref() != b"*");
    let mut items = Vec::new();
    let next = h.scan(cursor, count, |f, v| {
        if pattern.as_ref().is_none_or(|p| glob_match(p, f, false)) {
            items.push(bulk(f));
            items.push(bulk(v));
        }
    });
    Ok(Reply::Array(vec![
        Reply::bulk(next.to_string()),
        Reply::Array(items),
    ]))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::{Bytes, BytesMut};
    use proptest::prelude::*;

    use crate::clock::Clock;
    use crate::commands::execute;
    use crate::config::Config;
    use crate::protocol::Reply;
    use crate::session::{ClientHandle, Session};
    use crate::shared::Shared;

    fn argv(line: &str) -> Vec<Bytes> {
        line.split(' ')
            .map(|w| Bytes::from(w.to_string()))
            .collect()
    }

    fn harness() -> (Shared, Session) {
        let shared = Shared::new(Config::default(), Clock::manual(1_700_000_000_000));
        let handle = Arc::new(ClientHandle::new(1, "t".into(), "t".into(), -1, 0));
        (shared, Session::new(handle, true))
    }

    /// What Redis 7.0.15 wrote to its AOF for the same commands (`--appendonly yes
    /// --aof-use-rdb-preamble no`): everything as sent, failed or no-op writes not at all,
    /// HINCRBYFLOAT as `HSET key field result`.
    #[test]
    fn propagates_what_redis_writes_to_its_aof() {
        let (shared, mut session) = harness();
        shared.keyspace.propagation.set_enabled(true);
        for line in [
            "HSET h a 1 b 2",
            "HMSET h c 3",
            "HSETNX h a 1",
            "HSETNX h z 1",
            "HDEL h nosuch",
            "HDEL h a b nosuch",
            "HINCRBY h n 5",
            "HINCRBYFLOAT h f 1.5",
            "HINCRBYFLOAT h f 0.1",
            "HINCRBYFLOAT h f 1e3",
            "HINCRBYFLOAT h f inf",
            "HINCRBY h f 1",
            "HDEL h c z n f",
        ] {
            execute(&shared, &mut session, argv(line));
        }
        let got: Vec<String> = shared.keyspace.propagation.drain_text();
        assert_eq!(
            got,
            [
                "SELECT 0",
                "HSET h a 1 b 2",
                "HMSET h c 3",
                "HSETNX h z 1",
                "HDEL h a b nosuch",
                "HINCRBY h n 5",
                "HSET h f 1.5",
                "HSET h f 1.6",
                "HSET h f 1001.59999999999999998",
                "HDEL h c z n f",
            ]
        );
    }

    const WORDS: &[&str] = &[
        "h",
        "h2",
        "s",
        "f",
        "g",
        "",
        "0",
        "1",
        "-1",
        "3",
        "-3",
        "1.5",
        "inf",
        "-inf",
        "nan",
        "1e400",
        "9223372036854775807",
        "-9223372036854775808",
        "4611686018427387904",
        "WITHVALUES",
        "MATCH",
        "COUNT",
        "TYPE",
        "f*",
        "*",
        "[",
        "\\",
        "18446744073709551615",
    ];

    fn request() -> impl Strategy<Value = Vec<Bytes>> {
        let names: Vec<&str> = super::COMMANDS.iter().map(|c| c.name).collect();
        let word = prop_oneof![
            5 => prop::sample::select(WORDS).prop_map(|w| Bytes::from(w.as_bytes().to_vec())),
            1 => prop::collection::vec(any::<u8>(), 0..70).prop_map(Bytes::from),
        ];
        (
            prop::sample::select(names),
            prop::collection::vec(word, 0..7),
        )
            .prop_map(|(name, args)| {
                let mut argv = vec![Bytes::from(name.as_bytes().to_vec())];
                argv.extend(args);
                argv
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]
        /// Any mix of hash commands (with small thresholds, so both encodings are hit, and a
        /// string key for WRONGTYPE) answers in both protocols and never panics; a hash left
        /// in the keyspace is never empty.
        #[test]
        fn hash_commands_never_panic(reqs in prop::collection::vec(request(), 1..25)) {
            let (shared, mut session) = harness();
            for setup in ["set s x", "config set hash-max-listpack-entries 4",
                          "config set hash-max-listpack-value 8"] {
                execute(&shared, &mut session, argv(setup));
            }
            for (i, argv) in reqs.into_iter().enumerate() {
                session.resp3 = i % 2 == 1;
                let reply = execute(&shared, &mut session, argv);
                let mut out = BytesMut::new();
                reply.encode(&mut out, session.resp3);
                prop_assert!(!out.is_empty());
                for key in ["h", "h2"] {
                    let r = execute(&shared, &mut session, super::tests::argv(&format!("hlen {key}")));
                    let exists = execute(&shared, &mut session, super::tests::argv(&format!("exists {key}")));
                    prop_assert!(r != Reply::Int(0) || exists == Reply::Int(0), "empty hash left at {key}");
                }
            }
        }
    }
}
