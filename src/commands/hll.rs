//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFSELFTEST, PFDEBUG. Parsing, replies and
//! effects here; the representation and the estimator live in [`crate::storage::hll`].
//!
//! An HLL is a string value (a [`StrValue`]), so GET and SET move it between servers, Redis
//! included. PFADD, PFMERGE (its destination), PFCOUNT of one key and PFDEBUG leave the
//! value `raw`-encoded, as Redis does when it unshares a string to change it in place.
//!
//! What each command does to the keyspace, checked against Redis 7.0.15 (its AOF, keyspace
//! events, `rdb_changes_since_last_save` and `keyspace_hits`/`misses`):
//! - PFADD: event `pfadd`, one dirty change per register raised (plus one for a new key),
//!   propagated as sent; nothing when no register changed. A write lookup.
//! - PFCOUNT of one key refreshes the cardinality cached in the header when it was stale: a
//!   write (WATCH sees it, one dirty change, propagated as sent — Redis's AOF does hold such
//!   a PFCOUNT) without an event. A cache hit, or a count over several keys, writes nothing.
//!   Read lookups either way.
//! - PFMERGE: event `pfadd` on the destination, one dirty change, propagated as sent. Every
//!   key, the destination included, is read as a source first.
//! - PFDEBUG GETREG/TODENSE convert a sparse value to dense: one dirty change, propagated,
//!   no event and no WATCH invalidation. A write lookup.

use bytes::Bytes;

use super::table::*;
use super::Ctx;
use crate::notify;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::shared::EncodingLimits;
use crate::storage::hll::{self, Corrupt, Encoding, Registers};
use crate::storage::{Entry, Expiry, StrValue, Value};

const H: u32 = HYPERLOGLOG;

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("pfadd", -2, WRITE | DENYOOM | FAST, H, Keys::ONE, pfadd)
        .doc("Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.", "2.8.9")
        .key_flags(&["RW", "insert"]),
    CommandSpec::new("pfcount", -2, READONLY | MAY_REPLICATE, H, Keys::ALL, pfcount)
        .doc("Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).", "2.8.9")
        .key_specs(&[KeySpec::at(1, &["RW", "access"]).range(-1, 1, 0)
            .notes("RW because it may change the internal representation of the key, and propagate to replicas")]),
    CommandSpec::new("pfmerge", -2, WRITE | DENYOOM, H, Keys::ALL, pfmerge)
        .doc("Merges one or more HyperLogLog values into a single key.", "2.8.9")
        .key_specs(&[
            KeySpec::at(1, &["RW", "access", "insert"]),
            KeySpec::at(2, &["RO", "access"]).range(-1, 1, 0),
        ]),
    CommandSpec::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, H, Keys::range(2, 2, 1), pfdebug)
        .doc("Internal commands for debugging HyperLogLog values.", "2.8.9")
        .key_flags(&["RW", "access"]),
    CommandSpec::new("pfselftest", 1, ADMIN, H, Keys::NONE, pfselftest)
        .doc("An internal command for testing HyperLogLog values.", "2.8.9"),
];

const INVALID_HLL: &str = "INVALIDOBJ Corrupted HLL object detected";
const NOT_HLL: &str = "WRONGTYPE Key is not a valid HyperLogLog string value.";

impl From<Corrupt> for CmdError {
    fn from(_: Corrupt) -> CmdError {
        CmdError::new(INVALID_HLL)
    }
}

/// The HLL string of an entry: WRONGTYPE for other types, Redis's HyperLogLog WRONGTYPE for
/// strings whose header is not an HLL's (integers included: Redis stores them unencoded).
fn hll_of(entry: &mut Entry) -> Result<(&mut StrValue, Encoding), CmdError> {
    let Value::Str(s) = entry.value_mut() else {
        return Err(CmdError::wrongtype());
    };
    let enc = match &*s {
        StrValue::Int(_) => None,
        other => hll::encoding(&other.to_bytes()),
    };
    match enc {
        Some(enc) => Ok((s, enc)),
        None => Err(CmdError::new(NOT_HLL)),
    }
}

/// Runs `f` on the bytes of a string value and stores them back `raw` (an HLL changed in
/// place is never shared). Moves the buffer out instead of copying it when it is the only
/// reference, which it is unless a reply still holds it.
fn with_bytes<R>(s: &mut StrValue, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut v = match std::mem::replace(s, StrValue::Int(0)) {
        StrValue::Bytes { data, .. } => Vec::from(data),
        other => other.to_bytes().to_vec(),
    };
    let r = f(&mut v);
    *s = StrValue::raw(v);
    r
}

fn sparse_max(ctx: &Ctx) -> usize {
    let limit = EncodingLimits::get(&ctx.shared.encodings.hll_sparse_max_bytes);
    usize::try_from(limit).unwrap_or(usize::MAX)
}

/// `PFADD key [element ...]` — O(1) per element. 1 when a register changed (or the key was
/// created), else 0.
fn pfadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let elements = args.rest();
    let max = sparse_max(ctx);
    let mut db = ctx.db();
    let mut updated = 0u64;
    if db.get_mut(&key).is_none() {
        db.set(
            &key,
            Value::Str(StrValue::raw(hll::new_sparse())),
            Expiry::Persist,
        );
        updated += 1;
    }
    let Some(entry) = db.get_mut(&key) else {
        return Ok(Reply::Int(0));
    };
    let (s, _) = hll_of(entry)?;
    with_bytes(s, |v| -> Result<(), Corrupt> {
        for e in &elements {
            // A corrupt value stops here with the registers raised so far kept, and no
            // event or dirty count, as in Redis.
            if hll::add(v, e, max)? {
                updated += 1;
            }
        }
        if updated > 0 {
            hll::invalidate(v);
        }
        Ok(())
    })?;
    if updated == 0 {
        return Ok(Reply::Int(0));
    }
    ctx.modified(&key, notify::STRING, "pfadd");
    ctx.modified_many(updated - 1);
    Ok(Reply::Int(1))
}

/// `PFCOUNT key [key ...]` — O(1) for one key with a fresh cache (a full count otherwise);
/// O(N) merges for N keys.
fn pfcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let keys = args.rest();
    if keys.len() > 1 {
        let mut regs = Registers::new();
        let mut db = ctx.db();
        for k in &keys {
            let Some(entry) = db.get(k) else { continue };
            let (s, _) = hll_of(entry)?;
            regs.merge(&s.to_bytes())?;
        }
        return Ok(Reply::Int(regs.count() as i64));
    }
    let Some(key) = keys.into_iter().next() else {
        return Err(CmdError::arity(ctx.spec.name));
    };
    let mut db = ctx.db();
    // A read lookup (a keyspace hit or miss), even though it may write the cache.
    let Some(entry) = db.get(&key) else {
        return Ok(Reply::Int(0));
    };
    let (s, _) = hll_of(entry)?;
    let (card, refreshed) = with_bytes(s, |v| -> Result<(u64, bool), Corrupt> {
        if let Some(card) = hll::cached(v) {
            return Ok((card, false));
        }
        let card = hll::count(v)?;
        hll::set_cached(v, card);
        Ok((card, true))
    })?;
    if refreshed {
        // The cache lives in the value: a change WATCH must see, counted and propagated
        // (Redis replicates PFCOUNT for it), but no keyspace event.
        let db = ctx.session.db;
        ctx.locked().touch_watched(db, &key);
        ctx.modified_many(1);
    }
    Ok(Reply::Int(card as i64))
}

/// `PFMERGE destkey [sourcekey ...]` — O(N) in the number of HLLs (each a full register
/// pass). The destination is one of the sources, and is created when missing.
fn pfmerge(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let dest = args.next_bytes()?;
    let sources = args.rest();
    let max = sparse_max(ctx);
    let mut regs = Registers::new();
    let mut dense = false;
    let mut db = ctx.db();
    for k in std::iter::once(&dest).chain(&sources) {
        let Some(entry) = db.get(k) else { continue };
        let (s, enc) = hll_of(entry)?;
        dense |= enc == Encoding::Dense;
        regs.merge(&s.to_bytes())?;
    }
    if db.get_mut(&dest).is_none() {
        db.set(
            &dest,
            Value::Str(StrValue::raw(hll::new_sparse())),
            Expiry::Persist,
        );
    }
    let Some(entry) = db.get_mut(&dest) else {
        return Ok(Reply::Ok);
    };
    let (s, _) = hll_of(entry)?;
    with_bytes(s, |v| -> Result<(), Corrupt> {
        // With a dense source the result is written dense straight away.
        if dense {
            hll::to_dense(v)?;
        }
        regs.write_into(v, max);
        hll::invalidate(v);
        Ok(())
    })?;
    ctx.modified(&dest, notify::STRING, "pfadd");
    Ok(Reply::Ok)
}

/// `PFSELFTEST` — checks the register packing and that the sparse and dense forms agree.
fn pfselftest(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    match hll::self_test() {
        Ok(()) => Ok(Reply::Ok),
        Err(e) => Err(CmdError::msg(e)),
    }
}

/// What a PFDEBUG subcommand produced, before its effects are recorded.
enum Debug {
    Reply(Reply),
    /// Converted to dense: counted and propagated.
    Converted(Reply),
}

/// `PFDEBUG GETREG|DECODE|ENCODING|TODENSE key` — O(N) in the registers (GETREG, DECODE,
/// TODENSE), O(1) for ENCODING.
fn pfdebug(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let sub = args.next_bytes()?;
    let key = args.next_bytes()?;
    // Redis compares the subcommand as a C string: a NUL byte ends it.
    let sub = &sub[..sub.iter().position(|&b| b == 0).unwrap_or(sub.len())];
    let mut db = ctx.db();
    let Some(entry) = db.get_mut(&key) else {
        return Err(CmdError::new("ERR The specified key does not exist"));
    };
    let (s, enc) = hll_of(entry)?;
    let lower = sub.to_ascii_lowercase();
    let out = with_bytes(s, |v| -> Result<Debug, CmdError> {
        Ok(match lower.as_slice() {
            b"getreg" => {
                let converted = hll::to_dense(v)?;
                let regs = hll::dense_registers(v)
                    .into_iter()
                    .map(|r| Reply::Int(i64::from(r)))
                    .collect();
                if converted {
                    Debug::Converted(Reply::Array(regs))
                } else {
                    Debug::Reply(Reply::Array(regs))
                }
            }
            b"decode" => {
                if enc != Encoding::Sparse {
                    return Err(CmdError::new("ERR HLL encoding is not sparse"));
                }
                Debug::Reply(Reply::Bulk(Bytes::from(hll::decode_sparse(v))))
            }
            b"encoding" => Debug::Reply(Reply::status(enc.name())),
            b"todense" => {
                if hll::to_dense(v)? {
                    Debug::Converted(Reply::Int(1))
                } else {
                    Debug::Reply(Reply::Int(0))
                }
            }
            _ => {
                return Err(CmdError::msg(format!(
                    "ERR Unknown PFDEBUG subcommand '{}'",
                    String::from_utf8_lossy(sub)
                )))
            }
        })
    })?;
    Ok(match out {
        Debug::Reply(r) => r,
        Debug::Converted(r) => {
            ctx.modified_many(1);
            r
        }
    })
}
