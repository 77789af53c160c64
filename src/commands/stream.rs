//! Stream commands (Redis 7.0): XADD, XRANGE, XREAD, consumer groups, XINFO. Parsing,
//! replies, effects and propagation here; the data logic is [`Stream`]'s.
//!
//! # Effects and propagation (as Redis 7.0 writes them)
//! - XADD with `*` or `ms-*` propagates the ID it generated; an approximate trim (`~`)
//!   propagates as an exact one at the length (MAXLEN) or first ID (MINID) it reached, so a
//!   replay trims the same entries. Events: `xadd`, then `xtrim` when entries went.
//! - XREADGROUP propagates one `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE
//!   JUSTID LASTID last` per delivered entry, or (NOACK) `XGROUP SETID key group last
//!   ENTRIESREAD n`; XCLAIM and XAUTOCLAIM propagate the same XCLAIM form per claimed (or
//!   dropped, because deleted) entry. History reads propagate nothing.
//! - Events: `xdel`, `xtrim`, `xsetid`, `xgroup-create`, `xgroup-setid`, `xgroup-destroy`,
//!   `xgroup-createconsumer` (also when XREADGROUP / XCLAIM create a consumer),
//!   `xgroup-delconsumer`. Reads, acks and claims fire none (Redis fires none).
//!
//! # Blocking
//! XREAD BLOCK and XREADGROUP BLOCK use the blocked-client mechanism ([`crate::blocking`]):
//! the command blocks on its stream keys and is run again in serving mode when one is
//! written. XREAD's `$` is replaced by the stream's last ID at block time, so the re-run
//! reads what arrived after it blocked. A re-run XREADGROUP whose key was deleted (or
//! replaced by another type) or whose group was destroyed answers Redis's errors instead of
//! staying blocked.

use bytes::Bytes;

use super::table::*;
use super::Ctx;
use crate::notify;
use crate::protocol::error::NO_SUCH_KEY;
use crate::protocol::number::parse_i64;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::storage::stream::{
    AddError, Group, NewId, StreamEntry, StreamId, Trim, INVALID_ENTRIES_READ,
};
use crate::storage::{Db, Expiry, Stream, Value};

const X: u32 = STREAM;
const RO_ACCESS: &[&str] = &["RO", "access"];
const XREAD_KEYS: &[KeySpec] = &[KeySpec::keyword("STREAMS", 1, RO_ACCESS).range(-1, 1, 2)];
const XREADGROUP_KEYS: &[KeySpec] = &[KeySpec::keyword("STREAMS", 4, RO_ACCESS).range(-1, 1, 2)];
const GROUP_KEY: Keys = Keys::range(2, 2, 1);

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("xadd", -5, WRITE | DENYOOM | FAST, X, Keys::ONE, xadd)
        .key_flags(&["RW", "update"])
        .doc(
            "Appends an entry to a stream, creating it when missing.",
            "5.0.0",
        ),
    CommandSpec::new("xlen", 2, READONLY | FAST, X, Keys::ONE, xlen)
        .key_flags(&["RO"])
        .doc("Returns how many entries a stream holds.", "5.0.0"),
    CommandSpec::new("xrange", -4, READONLY, X, Keys::ONE, xrange)
        .key_flags(RO_ACCESS)
        .doc("Returns the entries of a stream between two IDs.", "5.0.0"),
    CommandSpec::new("xrevrange", -4, READONLY, X, Keys::ONE, xrevrange)
        .key_flags(RO_ACCESS)
        .doc(
            "Returns the entries of a stream between two IDs, newest first.",
            "5.0.0",
        ),
    CommandSpec::new("xdel", -3, WRITE | FAST, X, Keys::ONE, xdel)
        .key_flags(&["RW", "delete"])
        .doc("Deletes entries from a stream by ID.", "5.0.0"),
    CommandSpec::new("xtrim", -4, WRITE, X, Keys::ONE, xtrim)
        .key_flags(&["RW", "delete"])
        .doc("Removes the oldest entries of a stream.", "5.0.0"),
    CommandSpec::new("xsetid", -3, WRITE | DENYOOM | FAST, X, Keys::ONE, xsetid)
        .key_flags(&["RW", "update"])
        .doc(
            "Sets a stream's last ID and counters (internal use).",
            "5.0.0",
        ),
    CommandSpec::new("xread", -4, READONLY | BLOCKING, X, Keys::NONE, xread)
        .key_specs(XREAD_KEYS)
        .doc(
            "Reads entries from streams after given IDs, optionally blocking until some arrive.",
            "5.0.0",
        ),
    CommandSpec::new(
        "xreadgroup",
        -7,
        WRITE | BLOCKING,
        X,
        Keys::NONE,
        xreadgroup,
    )
    .key_specs(XREADGROUP_KEYS)
    .doc(
        "Reads entries from streams for a consumer of a group, optionally blocking.",
        "5.0.0",
    ),
    CommandSpec::new("xack", -4, WRITE | FAST, X, Keys::ONE, xack)
        .key_flags(&["RW", "update"])
        .doc("Acknowledges entries pending in a consumer group.", "5.0.0"),
    CommandSpec::new("xpending", -3, READONLY, X, Keys::ONE, xpending)
        .key_flags(RO_ACCESS)
        .doc("Returns the pending entries of a consumer group.", "5.0.0"),
    CommandSpec::new("xclaim", -6, WRITE | FAST, X, Keys::ONE, xclaim)
        .key_flags(&["RW", "update"])
        .doc(
            "Transfers pending entries to another consumer of the group.",
            "5.0.0",
        ),
    CommandSpec::new("xautoclaim", -6, WRITE | FAST, X, Keys::ONE, xautoclaim)
        .key_flags(&["RW", "delete"])
        .doc(
            "Transfers idle pending entries to a consumer, scanning the group's PEL.",
            "6.2.0",
        ),
    CommandSpec::container(
        "xgroup",
        0,
        "A container for consumer groups commands.",
        XGROUP_SUBS,
    )
    .doc("A container for consumer groups commands.", "5.0.0"),
    CommandSpec::container(
        "xinfo",
        0,
        "A container for stream introspection commands.",
        XINFO_SUBS,
    )
    .doc("A container for stream introspection commands.", "5.0.0"),
];

const XGROUP_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "xgroup|create",
        -5,
        WRITE | DENYOOM,
        X,
        GROUP_KEY,
        xgroup_create,
    )
    .key_flags(&["RW", "insert"])
    .doc("Creates a consumer group.", "5.0.0"),
    CommandSpec::new("xgroup|setid", -5, WRITE, X, GROUP_KEY, xgroup_setid)
        .key_flags(&["RW", "update"])
        .doc("Sets a consumer group's last delivered ID.", "5.0.0"),
    CommandSpec::new("xgroup|destroy", 4, WRITE, X, GROUP_KEY, xgroup_destroy)
        .key_flags(&["RW", "delete"])
        .doc("Destroys a consumer group.", "5.0.0"),
    CommandSpec::new(
        "xgroup|createconsumer",
        5,
        WRITE | DENYOOM,
        X,
        GROUP_KEY,
        xgroup_createconsumer,
    )
    .key_flags(&["RW", "insert"])
    .doc("Creates a consumer in a consumer group.", "6.2.0"),
    CommandSpec::new(
        "xgroup|delconsumer",
        5,
        WRITE,
        X,
        GROUP_KEY,
        xgroup_delconsumer,
    )
    .key_flags(&["RW", "delete"])
    .doc("Deletes a consumer from a consumer group.", "5.0.0"),
    CommandSpec::new(
        "xgroup|help",
        2,
        LOADING | STALE,
        X,
        Keys::NONE,
        xgroup_help,
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

const XINFO_SUBS: &[CommandSpec] = &[
    CommandSpec::new("xinfo|stream", -3, READONLY, X, GROUP_KEY, xinfo_stream)
        .key_flags(RO_ACCESS)
        .doc("Returns information about a stream.", "5.0.0"),
    CommandSpec::new("xinfo|groups", 3, READONLY, X, GROUP_KEY, xinfo_groups)
        .key_flags(RO_ACCESS)
        .doc("Returns the consumer groups of a stream.", "5.0.0"),
    CommandSpec::new(
        "xinfo|consumers",
        4,
        READONLY,
        X,
        GROUP_KEY,
        xinfo_consumers,
    )
    .key_flags(RO_ACCESS)
    .doc("Returns the consumers of a consumer group.", "5.0.0"),
    CommandSpec::new("xinfo|help", 2, LOADING | STALE, X, Keys::NONE, xinfo_help).doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

pub const INVALID_ID: &str = "ERR Invalid stream ID specified as stream command argument";
const ADD_TOO_SMALL: &str =
    "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const ADD_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
const EXHAUSTED: &str =
    "ERR The stream has exhausted the last possible ID, unable to add more items";
const XGROUP_NEEDS_KEY: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
const BUSYGROUP: &str = "BUSYGROUP Consumer Group name already exists";
const UNBLOCKED_DELETED: &str = "UNBLOCKED the stream key no longer exists";
const UNBLOCKED_NOGROUP: &str =
    "NOGROUP the consumer group this client was blocked on no longer exists";

// ---------------------------------------------------------------------------------------
// Shared helpers.

fn read_stream<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d Stream>, CmdError> {
    super::read_as(db, key)
}

fn write_stream<'d>(db: &'d mut Db, key: &[u8]) -> Result<Option<&'d mut Stream>, CmdError> {
    super::write_as(db, key)
}

/// A full `ms-seq` (or `ms`, sequence 0) ID.
fn parse_id(arg: &[u8]) -> Result<StreamId, CmdError> {
    StreamId::parse(arg, 0)
        .map(|(id, _)| id)
        .ok_or(CmdError::new(INVALID_ID))
}

/// A range bound: `-`, `+`, an ID (a missing sequence is 0 for a start, max for an end),
/// and with `exclusive_ok` an `(`-prefixed exclusive ID.
fn parse_bound(arg: &[u8], start: bool, exclusive_ok: bool) -> Result<StreamId, CmdError> {
    if arg == b"-" {
        return Ok(StreamId::MIN);
    }
    if arg == b"+" {
        return Ok(StreamId::MAX);
    }
    let missing = if start { 0 } else { u64::MAX };
    if exclusive_ok {
        if let Some(rest) = arg.strip_prefix(b"(") {
            let (id, _) = StreamId::parse(rest, missing).ok_or(CmdError::new(INVALID_ID))?;
            let stepped = if start { id.next() } else { id.prev() };
            return stepped.ok_or_else(|| {
                CmdError::new(if start {
                    "ERR invalid start ID for the interval"
                } else {
                    "ERR invalid end ID for the interval"
                })
            });
        }
    }
    StreamId::parse(arg, missing)
        .map(|(id, _)| id)
        .ok_or(CmdError::new(INVALID_ID))
}

fn id_reply(id: StreamId) -> Reply {
    Reply::Bulk(id.to_bytes())
}

fn entry_reply(e: StreamEntry) -> Reply {
    Reply::Array(vec![id_reply(e.id), Reply::bulks(e.fields)])
}

fn entries_reply(es: Vec<StreamEntry>) -> Reply {
    Reply::Array(es.into_iter().map(entry_reply).collect())
}

/// Redis's error for a subcommand's bad options, naming the subcommand as sent.
fn sub_syntax(args: &Args, container: &str) -> CmdError {
    let sub = args.argv().get(1).cloned().unwrap_or_default();
    CmdError::msg(format!(
        "ERR unknown subcommand or wrong number of arguments for '{}'. Try {container} HELP.",
        String::from_utf8_lossy(&sub)
    ))
}

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::msg(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

fn nogroup_for_key(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::msg(format!(
        "NOGROUP No such consumer group '{}' for key name '{}'",
        String::from_utf8_lossy(group),
        String::from_utf8_lossy(key)
    ))
}

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}

fn num(n: impl itoa::Integer) -> Bytes {
    Bytes::copy_from_slice(itoa::Buffer::new().format(n).as_bytes())
}

/// `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID last`: how
/// Redis replays a delivery or a claim.
#[allow(clippy::too_many_arguments)]
fn propagate_xclaim(
    ctx: &mut Ctx,
    key: &Bytes,
    group: &Bytes,
    consumer: &Bytes,
    id: StreamId,
    time: u64,
    count: u64,
    last: StreamId,
) {
    if ctx.propagating() {
        ctx.propagate(vec![
            b("XCLAIM"),
            key.clone(),
            group.clone(),
            consumer.clone(),
            b("0"),
            id.to_bytes(),
            b("TIME"),
            num(time),
            b("RETRYCOUNT"),
            num(count),
            b("FORCE"),
            b("JUSTID"),
            b("LASTID"),
            last.to_bytes(),
        ]);
    }
}

// ---------------------------------------------------------------------------------------
// XADD / XTRIM.

/// Parsed trimming options (shared by XADD and XTRIM).
struct TrimArgs {
    how: Option<Trim>,
    approx: bool,
    limit: u64,
    /// argv index of the threshold (rewritten for propagation).
    arg_idx: usize,
}

/// Parses `[NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]]` (and for XADD the
/// ID) from argv position 2, as Redis does. Returns the options, NOMKSTREAM, and for XADD
/// the position of the ID argument.
fn parse_trim_args(argv: &[Bytes], xadd: bool) -> Result<(TrimArgs, bool, usize), CmdError> {
    let mut t = TrimArgs {
        how: None,
        approx: false,
        limit: 0,
        arg_idx: 0,
    };
    let mut nomk = false;
    let mut limit_given = false;
    let mut i = 2;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i];
        if xadd && opt.as_ref() == b"*" {
            break;
        } else if (opt.eq_ignore_ascii_case(b"maxlen") || opt.eq_ignore_ascii_case(b"minid"))
            && more > 0
        {
            let maxlen = opt.eq_ignore_ascii_case(b"maxlen");
            if t.how.is_some() {
                return Err(CmdError::new("ERR syntax error, MAXLEN and MINID options at the same time are not compatible"));
            }
            t.approx = false;
            let next = &argv[i + 1];
            if more >= 2 && next.as_ref() == b"~" {
                t.approx = true;
                i += 1;
            } else if more >= 2 && next.as_ref() == b"=" {
                i += 1;
            }
            let v = &argv[i + 1];
            if maxlen {
                let n = parse_i64(v).ok_or(CmdError::not_integer())?;
                if n < 0 {
                    return Err(CmdError::new("ERR The MAXLEN argument must be >= 0."));
                }
                t.how = Some(Trim::MaxLen(n as u64));
            } else {
                t.how = Some(Trim::MinId(parse_id(v)?));
            }
            i += 1;
            t.arg_idx = i;
        } else if opt.eq_ignore_ascii_case(b"limit") && more > 0 {
            let n = parse_i64(&argv[i + 1]).ok_or(CmdError::not_integer())?;
            if n < 0 {
                return Err(CmdError::new("ERR The LIMIT argument must be >= 0."));
            }
            t.limit = n as u64;
            limit_given = true;
            i += 1;
        } else if xadd && opt.eq_ignore_ascii_case(b"nomkstream") {
            nomk = true;
        } else if xadd {
            break;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if t.limit > 0 && t.how.is_none() {
        return Err(CmdError::new(
            "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && t.how.is_none() {
        return Err(CmdError::new(
            "ERR syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    if limit_given {
        if !t.approx {
            return Err(CmdError::new(
                "ERR syntax error, LIMIT cannot be used without the special ~ option",
            ));
        }
    } else if t.approx {
        t.limit = 100 * u64::from(crate::storage::stream::NODE_MAX_ENTRIES);
    }
    Ok((t, nomk, i))
}

/// The argv an approximate trim propagates as: `=` for `~`, and the threshold it reached.
fn rewrite_trim(argv: &mut [Bytes], t: &TrimArgs, s: &Stream) {
    if !t.approx || t.arg_idx < 1 || t.arg_idx >= argv.len() {
        return;
    }
    argv[t.arg_idx - 1] = b("=");
    argv[t.arg_idx] = match t.how {
        Some(Trim::MaxLen(_)) => num(s.len()),
        _ => s.first_id().to_bytes(),
    };
}

/// `XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value
/// [field value ...]` — O(1) to add (O(N) for the entries a trim removes); the new ID.
fn xadd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut argv = args.argv().to_vec();
    let (trim, nomk, id_pos) = parse_trim_args(&argv, true)?;
    let field_pos = id_pos + 1;
    let nfields = argv.len().saturating_sub(field_pos);
    if nfields < 2 || !nfields.is_multiple_of(2) {
        return Err(CmdError::arity("xadd"));
    }
    let id_arg = &argv[id_pos];
    let want = if id_arg.as_ref() == b"*" {
        NewId::Auto
    } else if let Some(ms) = id_arg.strip_suffix(b"-*") {
        let (id, _) = StreamId::parse(ms, 0).ok_or(CmdError::new(INVALID_ID))?;
        if ms.contains(&b'-') {
            return Err(CmdError::new(INVALID_ID));
        }
        NewId::Seq(id.ms)
    } else {
        let (id, _) = StreamId::parse(id_arg, 0).ok_or(CmdError::new(INVALID_ID))?;
        if id.is_zero() {
            return Err(CmdError::new(ADD_ZERO));
        }
        NewId::Exact(id)
    };
    let key = argv[1].clone();
    let now = ctx.now();
    let mut db = ctx.db();
    let created = match write_stream(&mut db, &key)? {
        Some(_) => false,
        None if nomk => return Ok(Reply::Nil),
        None => true,
    };
    if created {
        db.set(&key, Value::Stream(Box::default()), Expiry::Persist);
    }
    let Some(s) = write_stream(&mut db, &key)? else {
        return Ok(Reply::Nil);
    };
    if s.last_id == StreamId::MAX {
        return Err(CmdError::new(EXHAUSTED));
    }
    let id = match s.next_id(want, now) {
        Ok(id) => id,
        Err(e) => {
            if created {
                db.remove(&key);
            }
            return Err(CmdError::new(match e {
                AddError::TooSmall => ADD_TOO_SMALL,
                AddError::Exhausted => EXHAUSTED,
            }));
        }
    };
    s.append(id, &argv[field_pos..]);
    let mut trimmed = 0;
    if let Some(how) = trim.how {
        trimmed = s.trim(how, trim.approx, trim.limit);
        rewrite_trim(&mut argv, &trim, s);
    }
    ctx.modified(&key, notify::STREAM, "xadd");
    if trimmed > 0 {
        ctx.event(&key, notify::STREAM, "xtrim");
    }
    if ctx.propagating() {
        if !matches!(want, NewId::Exact(_)) {
            argv[id_pos] = id.to_bytes();
        }
        ctx.propagate(argv);
    }
    Ok(id_reply(id))
}

/// `XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]` — O(N) removed entries; how many.
fn xtrim(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut argv = args.argv().to_vec();
    let key = argv[1].clone();
    let mut db = ctx.db();
    if write_stream(&mut db, &key)?.is_none() {
        return Ok(Reply::Int(0));
    }
    let (trim, _, _) = parse_trim_args(&argv, false)?;
    let Some(s) = write_stream(&mut db, &key)? else {
        return Ok(Reply::Int(0));
    };
    let Some(how) = trim.how else {
        return Err(CmdError::syntax());
    };
    let n = s.trim(how, trim.approx, trim.limit);
    if n > 0 {
        rewrite_trim(&mut argv, &trim, s);
        ctx.modified(&key, notify::STREAM, "xtrim");
        ctx.modified_many(n - 1);
        if ctx.propagating() {
            ctx.propagate(argv);
        }
    }
    Ok(Reply::Int(n as i64))
}

/// `XLEN key` — O(1).
fn xlen(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    Ok(Reply::Int(
        read_stream(&mut db, &key)?.map_or(0, |s| s.len() as i64),
    ))
}

/// `XRANGE key start end [COUNT count]` — O(N) entries returned (plus a node seek).
fn xrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_generic(ctx, args, false)
}

/// `XREVRANGE key end start [COUNT count]` — as XRANGE, newest first.
fn xrevrange(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    range_generic(ctx, args, true)
}

fn range_generic(ctx: &mut Ctx, args: &mut Args, rev: bool) -> CmdResult {
    let key = args.next_bytes()?;
    let a = args.next_bytes()?;
    let z = args.next_bytes()?;
    let (start, end) = if rev {
        (parse_bound(&z, true, true)?, parse_bound(&a, false, true)?)
    } else {
        (parse_bound(&a, true, true)?, parse_bound(&z, false, true)?)
    };
    let mut count = None;
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"count") && !args.is_empty() {
            let n = args.next_i64()?;
            count = Some(n.max(0) as usize);
        } else {
            return Err(CmdError::syntax());
        }
    }
    let mut db = ctx.db();
    let Some(s) = read_stream(&mut db, &key)? else {
        return Ok(Reply::Array(Vec::new()));
    };
    if count == Some(0) {
        return Ok(Reply::NilArray);
    }
    Ok(entries_reply(s.range(start, end, count, rev)))
}

/// `XDEL key id [id ...]` — O(1) per ID (a node scan); how many were deleted.
fn xdel(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let ids: Vec<StreamId> = args
        .rest()
        .iter()
        .map(|a| parse_id(a))
        .collect::<Result<_, _>>()?;
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, &key)? else {
        return Ok(Reply::Int(0));
    };
    let n = ids.into_iter().filter(|id| s.delete(*id)).count();
    if n > 0 {
        ctx.modified(&key, notify::STREAM, "xdel");
        ctx.modified_many(n as u64 - 1);
    }
    Ok(Reply::Int(n as i64))
}

/// `XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]` — O(1).
fn xsetid(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let id = parse_id(&args.next_bytes()?)?;
    let mut added: Option<u64> = None;
    let mut maxdel: Option<StreamId> = None;
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"entriesadded") && !args.is_empty() {
            let n = args.next_i64()?;
            if n < 0 {
                return Err(CmdError::new("ERR entries_added must be positive"));
            }
            added = Some(n as u64);
        } else if opt.eq_ignore_ascii_case(b"maxdeletedid") && !args.is_empty() {
            let m = parse_id(&args.next_bytes()?)?;
            if id < m {
                return Err(CmdError::new(
                    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ));
            }
            maxdel = Some(m);
        } else {
            return Err(CmdError::syntax());
        }
    }
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, &key)? else {
        return Err(CmdError::new(NO_SUCH_KEY));
    };
    if let Some(top) = s.last_entry_id() {
        if id < top {
            return Err(CmdError::new(
                "ERR The ID specified in XSETID is smaller than the target stream top item",
            ));
        }
    }
    if added.is_some_and(|a| (s.len() as u64) > a) {
        return Err(CmdError::new(
            "ERR The entries_added specified in XSETID is smaller than the target stream length",
        ));
    }
    s.last_id = id;
    if let Some(a) = added {
        s.entries_added = a;
    }
    if let Some(m) = maxdel {
        s.max_deleted = m;
    }
    ctx.modified(&key, notify::STREAM, "xsetid");
    Ok(Reply::Ok)
}

// ---------------------------------------------------------------------------------------
// XREAD / XREADGROUP.

/// Parses a BLOCK argument in milliseconds.
fn parse_block(arg: &[u8]) -> Result<Option<std::time::Duration>, CmdError> {
    super::blocking::parse_timeout_ms(arg)
}

struct ReadArgs {
    count: usize,
    block: Option<Option<std::time::Duration>>,
    group: Option<(Bytes, Bytes)>,
    noack: bool,
    /// argv index of the first key.
    streams: usize,
    n: usize,
}

fn parse_read_args(argv: &[Bytes], group_cmd: bool) -> Result<ReadArgs, CmdError> {
    let mut r = ReadArgs {
        count: 0,
        block: None,
        group: None,
        noack: false,
        streams: 0,
        n: 0,
    };
    let mut i = 1;
    while i < argv.len() {
        let more = argv.len() - 1 - i;
        let opt = &argv[i];
        if opt.eq_ignore_ascii_case(b"block") && more > 0 {
            i += 1;
            r.block = Some(parse_block(&argv[i])?);
        } else if opt.eq_ignore_ascii_case(b"count") && more > 0 {
            i += 1;
            let n = parse_i64(&argv[i]).ok_or(CmdError::not_integer())?;
            r.count = n.max(0) as usize;
        } else if opt.eq_ignore_ascii_case(b"streams") && more > 0 {
            r.streams = i + 1;
            let left = argv.len() - r.streams;
            if !left.is_multiple_of(2) {
                return Err(CmdError::new("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."));
            }
            r.n = left / 2;
            break;
        } else if group_cmd && opt.eq_ignore_ascii_case(b"group") && more >= 2 {
            r.group = Some((argv[i + 1].clone(), argv[i + 2].clone()));
            i += 2;
        } else if group_cmd && opt.eq_ignore_ascii_case(b"noack") {
            r.noack = true;
        } else {
            return Err(CmdError::syntax());
        }
        i += 1;
    }
    if r.streams == 0 {
        return Err(CmdError::syntax());
    }
    if group_cmd && r.group.is_none() {
        return Err(CmdError::new("ERR Missing GROUP option for XREADGROUP"));
    }
    Ok(r)
}

/// One stream's part of an XREAD reply.
fn read_result(resp3: bool, results: Vec<(Bytes, Reply)>) -> Reply {
    if resp3 {
        Reply::Map(
            results
                .into_iter()
                .map(|(k, v)| (Reply::Bulk(k), v))
                .collect(),
        )
    } else {
        Reply::Array(
            results
                .into_iter()
                .map(|(k, v)| Reply::Array(vec![Reply::Bulk(k), v]))
                .collect(),
        )
    }
}

/// `XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]` — O(N)
/// entries returned; blocks (see the module docs) when none is newer than its ID.
fn xread(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let argv = args.argv().to_vec();
    let r = parse_read_args(&argv, false)?;
    let keys: Vec<Bytes> = argv[r.streams..r.streams + r.n].to_vec();
    let mut ids = Vec::with_capacity(r.n);
    let mut resolved = argv.clone();
    let serving = ctx.serving_blocked();
    {
        let mut db = ctx.db();
        for (i, key) in keys.iter().enumerate() {
            let s = match read_stream(&mut db, key) {
                Ok(s) => s,
                Err(_) if serving => None,
                Err(e) => return Err(e),
            };
            let arg = &argv[r.streams + r.n + i];
            let id = if arg.as_ref() == b"$" {
                let last = s.map_or(StreamId::MIN, |s| s.last_id);
                resolved[r.streams + r.n + i] = last.to_bytes();
                last
            } else if arg.as_ref() == b">" {
                return Err(CmdError::new("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."));
            } else {
                parse_id(arg)?
            };
            ids.push(id);
        }
    }
    let mut results = Vec::new();
    {
        let mut db = ctx.db();
        for (key, id) in keys.iter().zip(&ids) {
            let s = match read_stream(&mut db, key) {
                Ok(Some(s)) => s,
                Ok(None) => continue,
                Err(_) if serving => continue,
                Err(e) => return Err(e),
            };
            if s.is_empty() || s.last_id <= *id {
                continue;
            }
            let Some(start) = id.next() else { continue };
            let count = (r.count > 0).then_some(r.count);
            let es = s.range(start, StreamId::MAX, count, false);
            results.push((key.clone(), entries_reply(es)));
        }
    }
    if !results.is_empty() {
        return Ok(read_result(ctx.session.resp3, results));
    }
    match r.block {
        None => Ok(Reply::NilArray),
        Some(timeout) => {
            let block_args = Args::new(resolved, 1);
            ctx.block(&block_args, &keys, timeout, Reply::NilArray)
        }
    }
}

/// `XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key
/// [key ...] id [id ...]` — O(N) entries returned; `>` delivers new entries (and blocks
/// when there are none), other IDs re-read the consumer's pending entries.
fn xreadgroup(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let argv = args.argv().to_vec();
    let r = parse_read_args(&argv, true)?;
    let Some((group, consumer)) = r.group.clone() else {
        return Err(CmdError::syntax());
    };
    ctx.propagate_nothing();
    let serving = ctx.serving_blocked();
    let keys: Vec<Bytes> = argv[r.streams..r.streams + r.n].to_vec();
    // Validate every key, group and ID first, as Redis does.
    let mut ids: Vec<Option<StreamId>> = Vec::with_capacity(r.n);
    {
        let mut db = ctx.db();
        for (i, key) in keys.iter().enumerate() {
            let s = match read_stream(&mut db, key) {
                Ok(s) => s,
                Err(_) if serving => return Err(CmdError::new(UNBLOCKED_DELETED)),
                Err(e) => return Err(e),
            };
            let has_group = s.is_some_and(|s| s.groups.contains_key(&group));
            if !has_group {
                if serving {
                    return Err(CmdError::new(if s.is_none() {
                        UNBLOCKED_DELETED
                    } else {
                        UNBLOCKED_NOGROUP
                    }));
                }
                return Err(CmdError::msg(format!(
                    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(&group)
                )));
            }
            let arg = &argv[r.streams + r.n + i];
            if arg.as_ref() == b"$" {
                return Err(CmdError::new("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set."));
            }
            ids.push(if arg.as_ref() == b">" {
                None
            } else {
                Some(parse_id(arg)?)
            });
        }
    }
    let now = ctx.now();
    let mut results = Vec::new();
    for (key, id) in keys.iter().zip(&ids) {
        let mut db = ctx.db();
        let Ok(Some(s)) = write_stream(&mut db, key) else {
            continue;
        };
        let Some(g) = s.groups.get(&group) else {
            continue;
        };
        match id {
            None => {
                if s.is_empty() || s.last_id <= g.last_id {
                    continue;
                }
                let start = g.last_id.next().unwrap_or(StreamId::MAX);
                let count = (r.count > 0).then_some(r.count);
                let es = s.range(start, StreamId::MAX, count, false);
                let mut created = false;
                if let Some(g) = s.groups.get_mut(&group) {
                    let (c, new) = g.consumer(&consumer, now);
                    c.seen_time = now;
                    created = new;
                }
                let mut claims = Vec::new();
                for e in &es {
                    s.advance_group(&group, e.id);
                    let Some(g) = s.groups.get_mut(&group) else {
                        break;
                    };
                    if !r.noack {
                        g.assign(e.id, &consumer, now, 1);
                        claims.push((e.id, g.last_id));
                    }
                }
                let (last, read) = s
                    .groups
                    .get(&group)
                    .map_or((StreamId::MIN, 0), |g| (g.last_id, g.entries_read));
                if created {
                    ctx.modified(key, notify::STREAM, "xgroup-createconsumer");
                }
                ctx.modified_many(es.len() as u64);
                for (id, last) in claims {
                    propagate_xclaim(ctx, key, &group, &consumer, id, now, 1, last);
                }
                if r.noack && !es.is_empty() && ctx.propagating() {
                    ctx.propagate(vec![
                        b("XGROUP"),
                        b("SETID"),
                        key.clone(),
                        group.clone(),
                        last.to_bytes(),
                        b("ENTRIESREAD"),
                        num(read),
                    ]);
                }
                results.push((key.clone(), entries_reply(es)));
            }
            Some(from) => {
                let from = from.next().unwrap_or(StreamId::MAX);
                let mut created = false;
                let pending: Vec<StreamId> = match s.groups.get_mut(&group) {
                    Some(g) => {
                        let (c, new) = g.consumer(&consumer, now);
                        c.seen_time = now;
                        created = new;
                        let it = c.pel.range(from..).copied();
                        if r.count > 0 {
                            it.take(r.count).collect()
                        } else {
                            it.collect()
                        }
                    }
                    None => Vec::new(),
                };
                let mut out = Vec::with_capacity(pending.len());
                for id in pending {
                    match s.get(id) {
                        Some(e) => {
                            if let Some(n) =
                                s.groups.get_mut(&group).and_then(|g| g.pel.get_mut(&id))
                            {
                                n.delivery_time = now;
                                n.delivery_count += 1;
                            }
                            out.push(entry_reply(e));
                        }
                        None => out.push(Reply::Array(vec![id_reply(id), Reply::NilArray])),
                    }
                }
                if created {
                    ctx.modified(key, notify::STREAM, "xgroup-createconsumer");
                }
                results.push((key.clone(), Reply::Array(out)));
            }
        }
    }
    if !results.is_empty() {
        return Ok(read_result(ctx.session.resp3, results));
    }
    match r.block {
        None => Ok(Reply::NilArray),
        Some(timeout) => ctx.block(args, &keys, timeout, Reply::NilArray),
    }
}

// ---------------------------------------------------------------------------------------
// XACK / XPENDING / XCLAIM / XAUTOCLAIM.

/// `XACK key group id [id ...]` — O(1) per ID; how many were pending.
fn xack(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let ids: Vec<StreamId> = args
        .rest()
        .iter()
        .map(|a| parse_id(a))
        .collect::<Result<_, _>>()?;
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, &key)? else {
        return Ok(Reply::Int(0));
    };
    let Some(g) = s.groups.get_mut(&group) else {
        return Ok(Reply::Int(0));
    };
    let n = ids.into_iter().filter(|id| g.ack(*id)).count() as u64;
    if n > 0 {
        ctx.modified_many(n);
    }
    Ok(Reply::Int(n as i64))
}

/// `XPENDING key group [[IDLE min-idle-time] start end count [consumer]]` — O(N) entries
/// returned (the summary is O(consumers)).
fn xpending(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let extended = !args.is_empty();
    let argc = args.argv().len();
    if extended && !(6..=9).contains(&argc) {
        return Err(CmdError::syntax());
    }
    let mut min_idle = 0i64;
    let mut range = None;
    let mut consumer_filter = None;
    if extended {
        if args.eat("idle") {
            min_idle = args.next_i64()?;
            if args.remaining() < 3 {
                return Err(CmdError::syntax());
            }
        }
        let start = parse_bound(&args.next_bytes()?, true, true)?;
        let end = parse_bound(&args.next_bytes()?, false, true)?;
        let count = args.next_i64()?.max(0) as usize;
        // Arguments past the consumer are ignored, as in Redis.
        consumer_filter = args.next();
        range = Some((start, end, count));
    }
    let now = ctx.now();
    let mut db = ctx.db();
    let s = read_stream(&mut db, &key)?;
    let Some(g) = s.and_then(|s| s.groups.get(&group)) else {
        return Err(nogroup(&key, &group));
    };
    let Some((start, end, count)) = range else {
        if g.pel.is_empty() {
            return Ok(Reply::Array(vec![
                Reply::Int(0),
                Reply::Nil,
                Reply::Nil,
                Reply::NilArray,
            ]));
        }
        let first = g.pel.keys().next().copied().unwrap_or_default();
        let last = g.pel.keys().next_back().copied().unwrap_or_default();
        let consumers: Vec<Reply> = g
            .consumers
            .iter()
            .filter(|(_, c)| !c.pel.is_empty())
            .map(|(n, c)| Reply::Array(vec![Reply::Bulk(n.clone()), Reply::Bulk(num(c.pel.len()))]))
            .collect();
        return Ok(Reply::Array(vec![
            Reply::Int(g.pel.len() as i64),
            id_reply(first),
            id_reply(last),
            Reply::Array(consumers),
        ]));
    };
    let mut out = Vec::new();
    if start <= end && count > 0 {
        let line = |id: &StreamId, n: &crate::storage::stream::Nack| {
            let idle = now.saturating_sub(n.delivery_time) as i64;
            (idle >= min_idle).then(|| {
                Reply::Array(vec![
                    id_reply(*id),
                    Reply::Bulk(n.consumer.clone()),
                    Reply::Int(idle),
                    Reply::Int(n.delivery_count as i64),
                ])
            })
        };
        match &consumer_filter {
            Some(name) => {
                if let Some(c) = g.consumers.get(name) {
                    for id in c.pel.range(start..=end) {
                        if out.len() >= count {
                            break;
                        }
                        if let Some(r) = g.pel.get(id).and_then(|n| line(id, n)) {
                            out.push(r);
                        }
                    }
                }
            }
            None => {
                for (id, n) in g.pel.range(start..=end) {
                    if out.len() >= count {
                        break;
                    }
                    if let Some(r) = line(id, n) {
                        out.push(r);
                    }
                }
            }
        }
    }
    Ok(Reply::Array(out))
}

/// `XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]` — O(log N) per ID.
fn xclaim(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let argv = args.argv().to_vec();
    let key = argv[1].clone();
    let group = argv[2].clone();
    let consumer = argv[3].clone();
    let now = ctx.now();
    {
        let mut db = ctx.db();
        let s = read_stream(&mut db, &key)?;
        if !s.is_some_and(|s| s.groups.contains_key(&group)) {
            return Err(nogroup(&key, &group));
        }
    }
    let min_idle = parse_i64(&argv[4])
        .ok_or(CmdError::new(
            "ERR Invalid min-idle-time argument for XCLAIM",
        ))?
        .max(0) as u64;
    let mut j = 5;
    let mut ids = Vec::new();
    while j < argv.len() {
        match StreamId::parse(&argv[j], 0) {
            Some((id, _)) => ids.push(id),
            None => break,
        }
        j += 1;
    }
    let mut delivery: Option<i64> = None;
    let mut retry: Option<i64> = None;
    let (mut force, mut justid) = (false, false);
    let mut lastid: Option<StreamId> = None;
    while j < argv.len() {
        let opt = &argv[j];
        let more = argv.len() - 1 - j;
        if opt.eq_ignore_ascii_case(b"force") {
            force = true;
        } else if opt.eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else if opt.eq_ignore_ascii_case(b"idle") && more > 0 {
            j += 1;
            let n = parse_i64(&argv[j])
                .ok_or(CmdError::new("ERR Invalid IDLE option argument for XCLAIM"))?;
            delivery = Some(now as i64 - n);
        } else if opt.eq_ignore_ascii_case(b"time") && more > 0 {
            j += 1;
            let n = parse_i64(&argv[j])
                .ok_or(CmdError::new("ERR Invalid TIME option argument for XCLAIM"))?;
            delivery = Some(n);
        } else if opt.eq_ignore_ascii_case(b"retrycount") && more > 0 {
            j += 1;
            let n = parse_i64(&argv[j]).ok_or(CmdError::new(
                "ERR Invalid RETRYCOUNT option argument for XCLAIM",
            ))?;
            retry = Some(n);
        } else if opt.eq_ignore_ascii_case(b"lastid") && more > 0 {
            j += 1;
            lastid = Some(parse_id(&argv[j])?);
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unrecognized XCLAIM option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
        j += 1;
    }
    let delivery_time = match delivery {
        Some(t) if t >= 0 && (t as u64) <= now => t as u64,
        _ => now,
    };
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, &key)? else {
        return Err(nogroup(&key, &group));
    };
    let mut propagate_last = false;
    if let Some(l) = lastid {
        if let Some(g) = s.groups.get_mut(&group) {
            if l > g.last_id {
                g.last_id = l;
                propagate_last = true;
            }
        }
    }
    let mut out = Vec::new();
    let mut props: Vec<(Bytes, StreamId, u64, u64)> = Vec::new();
    let mut created = false;
    let mut changes = 0u64;
    for id in ids {
        let exists = s.contains(id);
        let entry = if exists && !justid { s.get(id) } else { None };
        let Some(g) = s.groups.get_mut(&group) else {
            break;
        };
        let nack = g.pel.get(&id).cloned();
        if !exists {
            if let Some(n) = nack {
                props.push((n.consumer.clone(), id, n.delivery_time, n.delivery_count));
                g.ack(id);
                changes += 1;
                propagate_last = false;
            }
            continue;
        }
        let (owner, count) = match &nack {
            Some(n) => {
                if min_idle > 0 && now.saturating_sub(n.delivery_time) < min_idle {
                    continue;
                }
                (Some(n.consumer.clone()), n.delivery_count)
            }
            None if force => (None, 0),
            None => continue,
        };
        let (c, new) = g.consumer(&consumer, now);
        c.seen_time = now;
        created |= new;
        let count = match retry {
            Some(r) => r.max(0) as u64,
            None if !justid => count + 1,
            None => count,
        };
        let _ = owner;
        g.assign(id, &consumer, delivery_time, count);
        out.push(if justid {
            id_reply(id)
        } else {
            entry.map_or(Reply::Nil, entry_reply)
        });
        props.push((consumer.clone(), id, delivery_time, count));
        changes += 1;
        propagate_last = false;
    }
    let (glast, gread) = s
        .groups
        .get(&group)
        .map_or((StreamId::MIN, INVALID_ENTRIES_READ), |g| {
            (g.last_id, g.entries_read)
        });
    ctx.propagate_nothing();
    if created {
        ctx.modified(&key, notify::STREAM, "xgroup-createconsumer");
    }
    ctx.modified_many(changes);
    for (c, id, t, n) in props {
        propagate_xclaim(ctx, &key, &group, &c, id, t, n, glast);
    }
    if propagate_last {
        ctx.modified_many(1);
        if ctx.propagating() {
            ctx.propagate(vec![
                b("XGROUP"),
                b("SETID"),
                key.clone(),
                group.clone(),
                glast.to_bytes(),
                b("ENTRIESREAD"),
                num(gread),
            ]);
        }
    }
    Ok(Reply::Array(out))
}

/// `XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]` — O(1) per
/// entry examined (at most 10 × COUNT): `[next cursor, claimed, deleted IDs]`.
fn xautoclaim(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let consumer = args.next_bytes()?;
    let now = ctx.now();
    {
        let mut db = ctx.db();
        let s = read_stream(&mut db, &key)?;
        if !s.is_some_and(|s| s.groups.contains_key(&group)) {
            return Err(nogroup(&key, &group));
        }
    }
    let min_idle = parse_i64(&args.next_bytes()?)
        .ok_or(CmdError::new(
            "ERR Invalid min-idle-time argument for XAUTOCLAIM",
        ))?
        .max(0) as u64;
    let start = parse_bound(&args.next_bytes()?, true, false)?;
    let mut count: usize = 100;
    let mut justid = false;
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"count") && !args.is_empty() {
            let n = parse_i64(&args.next_bytes()?)
                .filter(|n| *n >= 1 && *n <= i64::MAX / 16)
                .ok_or(CmdError::new("ERR COUNT must be > 0"))?;
            count = n as usize;
        } else if opt.eq_ignore_ascii_case(b"justid") {
            justid = true;
        } else {
            return Err(CmdError::syntax());
        }
    }
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, &key)? else {
        return Err(nogroup(&key, &group));
    };
    let mut attempts = count.saturating_mul(10);
    let mut claimed = Vec::new();
    let mut deleted = Vec::new();
    let mut props: Vec<(Bytes, StreamId, u64, u64)> = Vec::new();
    let mut created = false;
    let mut cursor_from = start;
    let mut visited_any = false;
    let mut last_visited = StreamId::MIN;
    loop {
        if attempts == 0 || count == 0 {
            break;
        }
        attempts -= 1;
        let next = s.groups.get(&group).and_then(|g| {
            g.pel
                .range(cursor_from..)
                .next()
                .map(|(id, n)| (*id, n.clone()))
        });
        let Some((id, nack)) = next else {
            break;
        };
        visited_any = true;
        last_visited = id;
        cursor_from = match id.next() {
            Some(n) => n,
            None => {
                attempts = 0;
                id
            }
        };
        let exists = s.contains(id);
        let entry = if exists && !justid { s.get(id) } else { None };
        let Some(g) = s.groups.get_mut(&group) else {
            break;
        };
        if !exists {
            props.push((
                nack.consumer.clone(),
                id,
                nack.delivery_time,
                nack.delivery_count,
            ));
            g.ack(id);
            deleted.push(id_reply(id));
            count -= 1;
            continue;
        }
        if min_idle > 0 && now.saturating_sub(nack.delivery_time) < min_idle {
            continue;
        }
        let (c, new) = g.consumer(&consumer, now);
        c.seen_time = now;
        created |= new;
        let n = if justid {
            nack.delivery_count
        } else {
            nack.delivery_count + 1
        };
        g.assign(id, &consumer, now, n);
        claimed.push(if justid {
            id_reply(id)
        } else {
            entry.map_or(Reply::Nil, entry_reply)
        });
        count -= 1;
        props.push((consumer.clone(), id, now, n));
    }
    let cursor = if visited_any {
        s.groups
            .get(&group)
            .and_then(|g| {
                g.pel
                    .range((
                        std::ops::Bound::Excluded(last_visited),
                        std::ops::Bound::Unbounded,
                    ))
                    .next()
                    .map(|(id, _)| *id)
            })
            .unwrap_or(StreamId::MIN)
    } else {
        StreamId::MIN
    };
    let glast = s.groups.get(&group).map_or(StreamId::MIN, |g| g.last_id);
    ctx.propagate_nothing();
    if created {
        ctx.modified(&key, notify::STREAM, "xgroup-createconsumer");
    }
    ctx.modified_many(props.len() as u64);
    for (c, id, t, n) in props {
        propagate_xclaim(ctx, &key, &group, &c, id, t, n, glast);
    }
    Ok(Reply::Array(vec![
        id_reply(cursor),
        Reply::Array(claimed),
        Reply::Array(deleted),
    ]))
}

// ---------------------------------------------------------------------------------------
// XGROUP.

/// `XGROUP CREATE key group id|$ [MKSTREAM] [ENTRIESREAD entries-read]` — O(1).
fn xgroup_create(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let id_arg = args.next_bytes()?;
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"mkstream") {
            mkstream = true;
        } else if opt.eq_ignore_ascii_case(b"entriesread") && !args.is_empty() {
            entries_read = parse_entries_read(&args.next_bytes()?)?;
        } else {
            return Err(sub_syntax(args, "XGROUP"));
        }
    }
    let mut db = ctx.db();
    let exists = write_stream(&mut db, &key)?.is_some();
    if !exists && !mkstream {
        return Err(CmdError::new(XGROUP_NEEDS_KEY));
    }
    let id = if id_arg.as_ref() == b"$" {
        None
    } else {
        Some(parse_id(&id_arg)?)
    };
    if !exists {
        db.set(&key, Value::Stream(Box::default()), Expiry::Persist);
    }
    let Some(s) = write_stream(&mut db, &key)? else {
        return Err(CmdError::new(XGROUP_NEEDS_KEY));
    };
    if s.groups.contains_key(&group) {
        return Err(CmdError::new(BUSYGROUP));
    }
    let id = id.unwrap_or(s.last_id);
    // An owned copy: the argument is a slice of the connection's read buffer.
    s.groups
        .insert(Bytes::copy_from_slice(&group), Group::new(id, entries_read));
    ctx.modified(&key, notify::STREAM, "xgroup-create");
    Ok(Reply::Ok)
}

fn parse_entries_read(arg: &[u8]) -> Result<i64, CmdError> {
    let n = parse_i64(arg).ok_or(CmdError::not_integer())?;
    if n < 0 && n != INVALID_ENTRIES_READ {
        return Err(CmdError::new(
            "ERR value for ENTRIESREAD must be positive or -1",
        ));
    }
    Ok(n)
}

/// `XGROUP SETID key group id|$ [ENTRIESREAD entries-read]` — O(1).
fn xgroup_setid(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let id_arg = args.next_bytes()?;
    let mut entries_read = INVALID_ENTRIES_READ;
    while let Some(opt) = args.next() {
        if opt.eq_ignore_ascii_case(b"entriesread") && !args.is_empty() {
            entries_read = parse_entries_read(&args.next_bytes()?)?;
        } else {
            return Err(sub_syntax(args, "XGROUP"));
        }
    }
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, &key)? else {
        return Err(CmdError::new(XGROUP_NEEDS_KEY));
    };
    let id = if id_arg.as_ref() == b"$" {
        s.last_id
    } else {
        parse_id(&id_arg)?
    };
    let Some(g) = s.groups.get_mut(&group) else {
        return Err(nogroup_for_key(&key, &group));
    };
    g.last_id = id;
    g.entries_read = entries_read;
    ctx.modified(&key, notify::STREAM, "xgroup-setid");
    Ok(Reply::Ok)
}

/// `XGROUP DESTROY key group` — O(N) pending entries; 1 when it existed.
fn xgroup_destroy(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, &key)? else {
        return Err(CmdError::new(XGROUP_NEEDS_KEY));
    };
    if s.groups.remove(&group).is_none() {
        return Ok(Reply::Int(0));
    }
    ctx.modified(&key, notify::STREAM, "xgroup-destroy");
    Ok(Reply::Int(1))
}

/// `XGROUP CREATECONSUMER key group consumer` — O(1); 1 when created.
fn xgroup_createconsumer(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let consumer = args.next_bytes()?;
    let now = ctx.now();
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, &key)? else {
        return Err(CmdError::new(XGROUP_NEEDS_KEY));
    };
    let Some(g) = s.groups.get_mut(&group) else {
        return Err(nogroup_for_key(&key, &group));
    };
    let (_, created) = g.consumer(&consumer, now);
    if !created {
        return Ok(Reply::Int(0));
    }
    ctx.modified(&key, notify::STREAM, "xgroup-createconsumer");
    Ok(Reply::Int(1))
}

/// `XGROUP DELCONSUMER key group consumer` — O(N) of its pending entries; how many it had.
fn xgroup_delconsumer(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let consumer = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(s) = write_stream(&mut db, &key)? else {
        return Err(CmdError::new(XGROUP_NEEDS_KEY));
    };
    let Some(g) = s.groups.get_mut(&group) else {
        return Err(nogroup_for_key(&key, &group));
    };
    let Some(pending) = g.delete_consumer(&consumer) else {
        return Ok(Reply::Int(0));
    };
    ctx.modified(&key, notify::STREAM, "xgroup-delconsumer");
    Ok(Reply::Int(pending as i64))
}

fn status_lines(lines: &[&str]) -> Reply {
    Reply::Array(
        lines
            .iter()
            .map(|l| Reply::Status(l.to_string().into()))
            .collect(),
    )
}

fn xgroup_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(status_lines(&[
        "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        "HELP",
        "    Prints this help.",
    ]))
}

// ---------------------------------------------------------------------------------------
// XINFO.

fn opt_int(v: Option<i64>) -> Reply {
    v.map_or(Reply::Nil, Reply::Int)
}

fn entries_read_reply(g: &Group) -> Reply {
    opt_int((g.entries_read != INVALID_ENTRIES_READ).then_some(g.entries_read))
}

/// Redis reports its radix tree's node count; ours is a B-tree, so this is the count a
/// radix tree over the node keys would have for the common layouts (1 for an empty stream,
/// one more than the keys otherwise).
fn rax_nodes(s: &Stream) -> i64 {
    let k = s.node_count() as i64;
    if k == 0 {
        1
    } else {
        k + 1
    }
}

fn st(s: &'static str) -> Reply {
    Reply::Bulk(b(s))
}

/// `XINFO STREAM key [FULL [COUNT count]]` — O(1), or O(N) with FULL.
fn xinfo_stream(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(s) = read_stream(&mut db, &key)? else {
        return Err(CmdError::new(NO_SUCH_KEY));
    };
    let mut full = false;
    let mut count: usize = 10;
    if !args.is_empty() {
        if !args.eat("full") {
            return Err(sub_syntax(args, "XINFO"));
        }
        full = true;
        if args.remaining() == 2 && args.eat("count") {
            let n = args.next_i64()?;
            count = if n <= 0 { 0 } else { n as usize };
        } else if !args.is_empty() {
            return Err(sub_syntax(args, "XINFO"));
        }
    }
    let mut m = vec![
        (st("length"), Reply::Int(s.len() as i64)),
        (st("radix-tree-keys"), Reply::Int(s.node_count() as i64)),
        (st("radix-tree-nodes"), Reply::Int(rax_nodes(s))),
        (st("last-generated-id"), id_reply(s.last_id)),
        (st("max-deleted-entry-id"), id_reply(s.max_deleted)),
        (st("entries-added"), Reply::Int(s.entries_added as i64)),
        (st("recorded-first-entry-id"), id_reply(s.first_id())),
    ];
    if !full {
        m.push((st("groups"), Reply::Int(s.groups.len() as i64)));
        let first = s.range(StreamId::MIN, StreamId::MAX, Some(1), false).pop();
        let last = s.range(StreamId::MIN, StreamId::MAX, Some(1), true).pop();
        m.push((st("first-entry"), first.map_or(Reply::Nil, entry_reply)));
        m.push((st("last-entry"), last.map_or(Reply::Nil, entry_reply)));
        return Ok(Reply::Map(m));
    }
    let limit = (count > 0).then_some(count);
    m.push((
        st("entries"),
        entries_reply(s.range(StreamId::MIN, StreamId::MAX, limit, false)),
    ));
    let mut groups = Vec::new();
    for (name, g) in &s.groups {
        let pel: Vec<Reply> = g
            .pel
            .iter()
            .take(limit.unwrap_or(usize::MAX))
            .map(|(id, n)| {
                Reply::Array(vec![
                    id_reply(*id),
                    Reply::Bulk(n.consumer.clone()),
                    Reply::Int(n.delivery_time as i64),
                    Reply::Int(n.delivery_count as i64),
                ])
            })
            .collect();
        let consumers: Vec<Reply> = g
            .consumers
            .iter()
            .map(|(cn, c)| {
                let pending: Vec<Reply> = c
                    .pel
                    .iter()
                    .take(limit.unwrap_or(usize::MAX))
                    .filter_map(|id| {
                        g.pel.get(id).map(|n| {
                            Reply::Array(vec![
                                id_reply(*id),
                                Reply::Int(n.delivery_time as i64),
                                Reply::Int(n.delivery_count as i64),
                            ])
                        })
                    })
                    .collect();
                Reply::Map(vec![
                    (st("name"), Reply::Bulk(cn.clone())),
                    (st("seen-time"), Reply::Int(c.seen_time as i64)),
                    (st("pel-count"), Reply::Int(c.pel.len() as i64)),
                    (st("pending"), Reply::Array(pending)),
                ])
            })
            .collect();
        groups.push(Reply::Map(vec![
            (st("name"), Reply::Bulk(name.clone())),
            (st("last-delivered-id"), id_reply(g.last_id)),
            (st("entries-read"), entries_read_reply(g)),
            (st("lag"), opt_int(s.lag(g))),
            (st("pel-count"), Reply::Int(g.pel.len() as i64)),
            (st("pending"), Reply::Array(pel)),
            (st("consumers"), Reply::Array(consumers)),
        ]));
    }
    m.push((st("groups"), Reply::Array(groups)));
    Ok(Reply::Map(m))
}

/// `XINFO GROUPS key` — O(groups).
fn xinfo_groups(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut db = ctx.db();
    let Some(s) = read_stream(&mut db, &key)? else {
        return Err(CmdError::new(NO_SUCH_KEY));
    };
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| {
            Reply::Map(vec![
                (st("name"), Reply::Bulk(name.clone())),
                (st("consumers"), Reply::Int(g.consumers.len() as i64)),
                (st("pending"), Reply::Int(g.pel.len() as i64)),
                (st("last-delivered-id"), id_reply(g.last_id)),
                (st("entries-read"), entries_read_reply(g)),
                (st("lag"), opt_int(s.lag(g))),
            ])
        })
        .collect();
    Ok(Reply::Array(groups))
}

/// `XINFO CONSUMERS key group` — O(consumers).
fn xinfo_consumers(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let group = args.next_bytes()?;
    let now = ctx.now();
    let mut db = ctx.db();
    let Some(s) = read_stream(&mut db, &key)? else {
        return Err(CmdError::new(NO_SUCH_KEY));
    };
    let Some(g) = s.groups.get(&group) else {
        return Err(nogroup_for_key(&key, &group));
    };
    let out = g
        .consumers
        .iter()
        .map(|(name, c)| {
            Reply::Map(vec![
                (st("name"), Reply::Bulk(name.clone())),
                (st("pending"), Reply::Int(c.pel.len() as i64)),
                (
                    st("idle"),
                    Reply::Int(now.saturating_sub(c.seen_time) as i64),
                ),
            ])
        })
        .collect();
    Ok(Reply::Array(out))
}

fn xinfo_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(status_lines(&[
        "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        "HELP",
        "    Prints this help.",
    ]))
}
