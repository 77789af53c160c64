//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO. Parsing,
//! replies and effects here; the bit logic is `storage/bitops.rs`.
//!
//! Bitmaps are strings: every command reads and writes the same [`StrValue`] GET and SET
//! see. Writes edit the value in place ([`edit_string`]), so setting a bit of a large bitmap
//! neither copies it nor touches its TTL; like Redis, a string edited this way reports the
//! `raw` encoding afterwards.
//!
//! Redis 7.0 details kept on purpose:
//! - SETBIT and BITFIELD count a change (dirty, WATCH, the `setbit` event, propagation)
//!   only when the string grew or a value really changed; BITFIELD counts one per such
//!   operation. A BITFIELD whose writes all fail under `OVERFLOW FAIL` still creates or
//!   pads the key, silently.
//! - BITCOUNT and BITPOS answer a missing key before looking at their range arguments, so
//!   `BITCOUNT nokey 1` is 0 while `BITCOUNT key 1` is a syntax error.

use bytes::Bytes;

use super::table::*;
use super::Ctx;
use crate::notify;
use crate::protocol::error::STRING_TOO_LONG;
use crate::protocol::number::parse_i64;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::storage::bitops::{self, BitOp, FieldType, Overflow, Unit};
use crate::storage::{Db, Expiry, StrValue, Value};

const B: u32 = BITMAP;

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("setbit", 4, WRITE | DENYOOM, B, Keys::ONE, setbit)
        .doc("Sets or clears one bit of a string, growing it with zero bytes as needed; returns the old bit.", "2.2.0")
        .key_flags(&["RW", "access", "update"]),
    CommandSpec::new("getbit", 3, READONLY | FAST, B, Keys::ONE, getbit)
        .doc("Returns one bit of a string (0 past its end).", "2.2.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("bitcount", -2, READONLY, B, Keys::ONE, bitcount)
        .doc("Counts the bits set to 1 in a string, or in a range of its bytes or bits.", "2.6.0")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("bitpos", -3, READONLY, B, Keys::ONE, bitpos)
        .doc("Finds the first bit set to 1, or to 0, in a string or a range of it.", "2.8.7")
        .key_flags(&["RO", "access"]),
    CommandSpec::new("bitop", -4, WRITE | DENYOOM, B, Keys::range(2, -1, 1), bitop)
        .doc("Stores the bitwise AND, OR, XOR or NOT of strings in a key.", "2.6.0")
        .key_specs(&[
            KeySpec::at(2, &["OW", "update"]),
            KeySpec::at(3, &["RO", "access"]).range(-1, 1, 0),
        ]),
    CommandSpec::new("bitfield", -2, WRITE | DENYOOM, B, Keys::ONE, bitfield)
        .doc("Reads, writes and increments integers of any width up to 64 bits at any bit offset of a string.", "3.2.0")
        .key_specs(&[KeySpec::at(1, &["RW", "access", "update", "variable_flags"])
            .notes("This command allows both access and modification of the key")]),
    CommandSpec::new("bitfield_ro", -2, READONLY | FAST, B, Keys::ONE, bitfield_ro)
        .doc("Reads integers at bit offsets of a string: BITFIELD limited to GET.", "6.0.0")
        .key_flags(&["RO", "access"]),
];

const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_BIT: &str = "ERR bit is not an integer or out of range";
const BAD_BITPOS_BIT: &str = "ERR The bit argument must be 1 or 0.";
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const BAD_OVERFLOW: &str = "ERR Invalid OVERFLOW type specified";
const NOT_SINGLE: &str = "ERR BITOP NOT must be called with a single source key.";
const RO_ONLY_GET: &str = "ERR BITFIELD_RO only supports the GET subcommand";

/// proto-max-bulk-len: no bit offset may reach a byte at or past it.
fn max_bytes(ctx: &Ctx) -> u64 {
    ctx.shared.config.read().proto_max_bulk_len
}

fn offset(ctx: &Ctx, arg: &[u8], field_bits: Option<u32>) -> Result<u64, CmdError> {
    bitops::parse_offset(arg, field_bits, max_bytes(ctx)).ok_or(CmdError::new(BAD_OFFSET))
}

/// The string at `key` for a read (a counted lookup): `None` when missing, WRONGTYPE for
/// other types.
fn read(db: &mut Db, key: &[u8]) -> Result<Option<Bytes>, CmdError> {
    Ok(super::read_as::<StrValue>(db, key)?.map(StrValue::to_bytes))
}

/// Redis's `lookupStringForBitCommand`: the string at `key`, created or zero-padded to at
/// least `min_len` bytes, handed to `edit` as a buffer and stored back in place (TTL kept).
/// Returns `edit`'s result and whether the string was created or grew.
fn edit_string<R>(
    db: &mut Db,
    key: &[u8],
    min_len: u64,
    edit: impl FnOnce(&mut Vec<u8>) -> R,
) -> Result<(R, bool), CmdError> {
    let too_long = || CmdError::new(STRING_TOO_LONG);
    let min_len = usize::try_from(min_len).map_err(|_| too_long())?;
    let Some(entry) = db.get_mut(key) else {
        let mut v = Vec::new();
        v.try_reserve_exact(min_len).map_err(|_| too_long())?;
        v.resize(min_len, 0);
        let r = edit(&mut v);
        db.set(key, Value::Str(StrValue::raw(v)), Expiry::Persist);
        return Ok((r, true));
    };
    let Value::Str(s) = entry.value_mut() else {
        return Err(CmdError::wrongtype());
    };
    let mut v = std::mem::replace(s, StrValue::Int(0)).into_vec();
    let grew = v.len() < min_len;
    if grew {
        if v.try_reserve(min_len - v.len()).is_err() {
            *s = StrValue::raw(v);
            return Err(too_long());
        }
        v.resize(min_len, 0);
    }
    let r = edit(&mut v);
    *s = StrValue::raw(v);
    Ok((r, grew))
}

/// `SETBIT key offset value` — O(1), plus the zero padding when the string grows.
fn setbit(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let at = offset(ctx, &args.next_bytes()?, None)?;
    let on = match parse_i64(&args.next_bytes()?) {
        Some(0) => false,
        Some(1) => true,
        _ => return Err(CmdError::new(BAD_BIT)),
    };
    let mut db = ctx.db();
    let (old, grew) = edit_string(&mut db, &key, bitops::bytes_for_bit(at), |v| {
        bitops::set_bit(v, at, on)
    })?;
    if grew || old != on {
        ctx.modified(&key, notify::STRING, "setbit");
    }
    Ok(Reply::Int(i64::from(old)))
}

/// `GETBIT key offset` — O(1).
fn getbit(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let at = offset(ctx, &args.next_bytes()?, None)?;
    let mut db = ctx.db();
    let bit = read(&mut db, &key)?.is_some_and(|d| bitops::get_bit(&d, at));
    Ok(Reply::Int(i64::from(bit)))
}

fn unit(word: &[u8]) -> Result<Unit, CmdError> {
    if word.eq_ignore_ascii_case(b"byte") {
        Ok(Unit::Byte)
    } else if word.eq_ignore_ascii_case(b"bit") {
        Ok(Unit::Bit)
    } else {
        Err(CmdError::syntax())
    }
}

/// `BITCOUNT key [start end [BYTE|BIT]]` — O(N) in the range's length.
fn bitcount(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(data) = read(&mut db, &key)? else {
        return Ok(Reply::Int(0));
    };
    let n = match args.remaining() {
        0 => bitops::popcount(&data),
        2 | 3 => {
            let start = args.next_i64()?;
            let end = args.next_i64()?;
            let unit = match args.peek() {
                Some(w) => unit(w)?,
                None => Unit::Byte,
            };
            bitops::range(data.len(), start, end, unit, true)
                .map_or(0, |(first, last)| bitops::count(&data, first, last))
        }
        _ => return Err(CmdError::syntax()),
    };
    Ok(Reply::Int(n as i64))
}

/// `BITPOS key bit [start [end [BYTE|BIT]]]` — O(N) in the range's length.
fn bitpos(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let bit = match args.next_i64()? {
        0 => false,
        1 => true,
        _ => return Err(CmdError::new(BAD_BITPOS_BIT)),
    };
    let mut db = ctx.db();
    let Some(data) = read(&mut db, &key)? else {
        // A missing key is an endless run of zeros.
        return Ok(Reply::Int(if bit { -1 } else { 0 }));
    };
    let rest = args.rest();
    let (start, end, unit) = match rest.as_slice() {
        [] => (None, None, Unit::Byte),
        [start, more @ ..] if more.len() <= 2 => {
            let start = parse_i64(start).ok_or(CmdError::not_integer())?;
            // As Redis: the unit word is checked before the end index is parsed.
            let unit = match more.get(1) {
                Some(w) => unit(w)?,
                None => Unit::Byte,
            };
            let end = match more.first() {
                Some(e) => Some(parse_i64(e).ok_or(CmdError::not_integer())?),
                None => None,
            };
            (Some(start), end, unit)
        }
        _ => return Err(CmdError::syntax()),
    };
    Ok(Reply::Int(bitops::bitpos(&data, bit, start, end, unit)))
}

/// `BITOP AND|OR|XOR|NOT destkey key [key ...]` — O(N) in the longest source. The result is
/// as long as the longest source; an empty result deletes `destkey`.
fn bitop(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let op = args.next_bytes()?.to_ascii_lowercase();
    let op = match op.as_slice() {
        b"and" => BitOp::And,
        b"or" => BitOp::Or,
        b"xor" => BitOp::Xor,
        b"not" => BitOp::Not,
        _ => return Err(CmdError::syntax()),
    };
    let dest = args.next_bytes()?;
    let keys = args.rest();
    if op == BitOp::Not && keys.len() != 1 {
        return Err(CmdError::new(NOT_SINGLE));
    }
    let mut db = ctx.db();
    let mut sources = Vec::with_capacity(keys.len());
    for k in &keys {
        sources.push(read(&mut db, k)?.unwrap_or_default());
    }
    let refs: Vec<&[u8]> = sources.iter().map(|s| s.as_ref()).collect();
    let result = bitops::bitop(op, &refs);
    let len = result.len() as i64;
    if result.is_empty() {
        if db.remove(&dest).is_some() {
            ctx.modified(&dest, notify::GENERIC, "del");
        }
    } else {
        db.set(&dest, Value::Str(StrValue::raw(result)), Expiry::Persist);
        ctx.modified(&dest, notify::STRING, "set");
    }
    Ok(Reply::Int(len))
}

#[derive(Clone, Copy)]
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

struct Field {
    op: FieldOp,
    ty: FieldType,
    offset: u64,
    overflow: Overflow,
}

/// BITFIELD's operations, all parsed (and every error found) before anything runs.
fn parse_fields(ctx: &Ctx, args: &mut Args) -> Result<Vec<Field>, CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    while let Some(word) = args.peek().cloned() {
        args.next_bytes()?;
        let left = args.remaining();
        let w = word.to_ascii_lowercase();
        let kind = match w.as_slice() {
            b"get" if left >= 2 => 0,
            b"set" if left >= 3 => 1,
            b"incrby" if left >= 3 => 2,
            b"overflow" if left >= 1 => {
                let policy = args.next_bytes()?.to_ascii_lowercase();
                overflow = match policy.as_slice() {
                    b"wrap" => Overflow::Wrap,
                    b"sat" => Overflow::Sat,
                    b"fail" => Overflow::Fail,
                    _ => return Err(CmdError::new(BAD_OVERFLOW)),
                };
                continue;
            }
            _ => return Err(CmdError::syntax()),
        };
        let ty = FieldType::parse(&args.next_bytes()?).ok_or(CmdError::new(BAD_TYPE))?;
        let offset = offset(ctx, &args.next_bytes()?, Some(ty.bits))?;
        let op = match kind {
            0 => FieldOp::Get,
            1 => FieldOp::Set(args.next_i64()?),
            _ => FieldOp::IncrBy(args.next_i64()?),
        };
        fields.push(Field {
            op,
            ty,
            offset,
            overflow,
        });
    }
    Ok(fields)
}

/// `BITFIELD key [GET type offset | [OVERFLOW WRAP|SAT|FAIL] SET type offset value |
/// [OVERFLOW …] INCRBY type offset increment ...]` — O(1) per operation (plus the padding
/// when the string grows).
fn bitfield(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bitfield_generic(ctx, args, false)
}

/// `BITFIELD_RO key [GET type offset ...]` — O(1) per operation.
fn bitfield_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    bitfield_generic(ctx, args, true)
}

fn bitfield_generic(ctx: &mut Ctx, args: &mut Args, read_only: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let fields = parse_fields(ctx, args)?;
    let mut db = ctx.db();
    let writes = fields.iter().filter(|f| !matches!(f.op, FieldOp::Get));
    let Some(last_bit) = writes.map(|f| f.offset + u64::from(f.ty.bits) - 1).max() else {
        // Only reads: the key is not created, and keeps its encoding.
        let data = read(&mut db, &key)?.unwrap_or_default();
        return Ok(Reply::Array(
            fields
                .iter()
                .map(|f| Reply::Int(bitops::get_field(&data, f.offset, f.ty)))
                .collect(),
        ));
    };
    if read_only {
        return Err(CmdError::new(RO_ONLY_GET));
    }
    // Redis counts a write as a change when the value differs, or when the string grew.
    let ((replies, written, changed), grew) =
        edit_string(&mut db, &key, bitops::bytes_for_bit(last_bit), |v| {
            let (mut written, mut changed) = (0u64, 0u64);
            let replies: Vec<Reply> = fields
                .iter()
                .map(|f| {
                    let old = bitops::get_field(v, f.offset, f.ty);
                    let (new, reply) = match f.op {
                        FieldOp::Get => return Reply::Int(old),
                        FieldOp::Set(value) => (bitops::set_value(f.ty, value, f.overflow), old),
                        FieldOp::IncrBy(incr) => {
                            let new = bitops::incr_field(f.ty, old, incr, f.overflow);
                            (new, new.unwrap_or(old))
                        }
                    };
                    // OVERFLOW FAIL: nothing written, a null reply.
                    let Some(new) = new else {
                        return Reply::Nil;
                    };
                    bitops::set_field(v, f.offset, f.ty, new);
                    written += 1;
                    changed += u64::from(new != old);
                    Reply::Int(reply)
                })
                .collect();
            (replies, written, changed)
        })?;
    let changes = if grew { written } else { changed };
    if changes > 0 {
        ctx.modified(&key, notify::STRING, "setbit");
        ctx.modified_many(changes - 1);
    }
    Ok(Reply::Array(replies))
}
