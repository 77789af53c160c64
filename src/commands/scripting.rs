//! Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT …, FCALL, FCALL_RO and
//! FUNCTION …. Parsing and replies; the Lua side is `crate::scripting`.
//!
//! The rows that run a script or touch the Lua state are `GLOBAL | EXCLUSIVE`: dispatch
//! claims the server for them (see `crate::scripting`'s module docs) and locks every shard,
//! so a script's `redis.call`s run under those locks through [`super::run`] and its writes
//! form one unit. Inside EXEC (which already holds every shard) the handler claims itself.
//! SCRIPT KILL, FUNCTION KILL and FUNCTION STATS take no lock and read only the run state,
//! so they answer while a script runs.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::table::*;
use super::{CommandSpec, Ctx, KeySpec, Keys};
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::scripting::engine::{self, CallCtx, ALLOW_OOM, EVAL_COMPAT, NO_WRITES};
use crate::scripting::{KIND_EVAL, KIND_FUNCTION};
use crate::session::BlockMode;

const SC: u32 = SCRIPTING;
const EVAL_FLAGS: u32 = NOSCRIPT | SKIP_MONITOR | NO_MANDATORY_KEYS | STALE | GLOBAL | EXCLUSIVE;
const RW_SPEC: &[KeySpec] = &[KeySpec::at(2, &["RW", "access", "update"])
    .keynum(0, 1, 1)
    .notes("We cannot tell how the keys will be used so we assume the worst, RW and UPDATE")];
const RW_SPEC_NO_NOTES: &[KeySpec] = &[KeySpec::at(2, &["RW", "access", "update"]).keynum(0, 1, 1)];
const RO_SPEC: &[KeySpec] = &[KeySpec::at(2, &["RO", "access"])
    .keynum(0, 1, 1)
    .notes("We cannot tell how the keys will be used so we assume the worst, RO and ACCESS")];
const RO_SPEC_NO_NOTES: &[KeySpec] = &[KeySpec::at(2, &["RO", "access"]).keynum(0, 1, 1)];

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("eval", -3, EVAL_FLAGS | MAY_REPLICATE, SC, Keys::NONE, eval)
        .doc("Executes a server-side Lua script.", "2.6.0")
        .key_specs(RW_SPEC),
    CommandSpec::new(
        "evalsha",
        -3,
        EVAL_FLAGS | MAY_REPLICATE,
        SC,
        Keys::NONE,
        evalsha,
    )
    .doc("Executes a server-side Lua script by SHA1 digest.", "2.6.0")
    .key_specs(RW_SPEC_NO_NOTES),
    CommandSpec::new(
        "eval_ro",
        -3,
        EVAL_FLAGS | READONLY,
        SC,
        Keys::NONE,
        eval_ro,
    )
    .doc("Executes a read-only server-side Lua script.", "7.0.0")
    .key_specs(RO_SPEC),
    CommandSpec::new(
        "evalsha_ro",
        -3,
        EVAL_FLAGS | READONLY,
        SC,
        Keys::NONE,
        evalsha_ro,
    )
    .doc(
        "Executes a read-only server-side Lua script by SHA1 digest.",
        "7.0.0",
    )
    .key_specs(RO_SPEC_NO_NOTES),
    CommandSpec::new(
        "fcall",
        -3,
        EVAL_FLAGS | MAY_REPLICATE,
        SC,
        Keys::NONE,
        fcall,
    )
    .doc("Invokes a function.", "7.0.0")
    .key_specs(RW_SPEC),
    CommandSpec::new(
        "fcall_ro",
        -3,
        EVAL_FLAGS | READONLY,
        SC,
        Keys::NONE,
        fcall_ro,
    )
    .doc("Invokes a read-only function.", "7.0.0")
    .key_specs(RO_SPEC),
    CommandSpec::container(
        "script",
        SC,
        "A container for Lua scripts management commands.",
        SCRIPT_SUBS,
    )
    .doc("A container for Lua scripts management commands.", "2.6.0"),
    CommandSpec::container(
        "function",
        SC,
        "A container for function commands.",
        FUNCTION_SUBS,
    )
    .doc("A container for function commands.", "7.0.0"),
];

const SCRIPT_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "script|load",
        3,
        NOSCRIPT | STALE | GLOBAL | EXCLUSIVE,
        SC,
        Keys::NONE,
        script_load,
    )
    .doc(
        "Loads a server-side Lua script to the script cache.",
        "2.6.0",
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "script|exists",
        -3,
        NOSCRIPT | GLOBAL | EXCLUSIVE,
        SC,
        Keys::NONE,
        script_exists,
    )
    .doc(
        "Determines whether server-side Lua scripts exist in the script cache.",
        "2.6.0",
    )
    .tips(&[
        "request_policy:all_shards",
        "response_policy:agg_logical_and",
    ]),
    CommandSpec::new(
        "script|flush",
        -2,
        NOSCRIPT | GLOBAL | EXCLUSIVE,
        SC,
        Keys::NONE,
        script_flush,
    )
    .doc(
        "Removes all server-side Lua scripts from the script cache.",
        "2.6.0",
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "script|kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        SC,
        Keys::NONE,
        script_kill,
    )
    .doc(
        "Terminates a server-side Lua script during execution.",
        "2.6.0",
    )
    .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    CommandSpec::new(
        "script|help",
        2,
        LOADING | STALE,
        SC,
        Keys::NONE,
        script_help,
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

const FUNCTION_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "function|load",
        -3,
        WRITE | DENYOOM | NOSCRIPT | GLOBAL | EXCLUSIVE,
        SC,
        Keys::NONE,
        function_load,
    )
    .doc("Creates a library.", "7.0.0")
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "function|delete",
        3,
        WRITE | NOSCRIPT | GLOBAL | EXCLUSIVE,
        SC,
        Keys::NONE,
        function_delete,
    )
    .doc("Deletes a library and its functions.", "7.0.0")
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "function|flush",
        -2,
        WRITE | NOSCRIPT | GLOBAL | EXCLUSIVE,
        SC,
        Keys::NONE,
        function_flush,
    )
    .doc("Deletes all libraries and functions.", "7.0.0")
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "function|list",
        -2,
        NOSCRIPT | GLOBAL | EXCLUSIVE,
        SC,
        Keys::NONE,
        function_list,
    )
    .doc("Returns information about all libraries.", "7.0.0")
    .tips(&["nondeterministic_output_order"]),
    CommandSpec::new(
        "function|dump",
        2,
        NOSCRIPT | GLOBAL | EXCLUSIVE,
        SC,
        Keys::NONE,
        function_dump,
    )
    .doc(
        "Dumps all libraries into a serialized binary payload.",
        "7.0.0",
    ),
    CommandSpec::new(
        "function|restore",
        -3,
        WRITE | DENYOOM | NOSCRIPT | GLOBAL | EXCLUSIVE,
        SC,
        Keys::NONE,
        function_restore,
    )
    .doc("Restores all libraries from a payload.", "7.0.0")
    .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "function|stats",
        2,
        NOSCRIPT | ALLOW_BUSY,
        SC,
        Keys::NONE,
        function_stats,
    )
    .doc(
        "Returns information about a function during execution.",
        "7.0.0",
    )
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ]),
    CommandSpec::new(
        "function|kill",
        2,
        NOSCRIPT | ALLOW_BUSY,
        SC,
        Keys::NONE,
        function_kill,
    )
    .doc("Terminates a function during execution.", "7.0.0")
    .tips(&["request_policy:all_shards", "response_policy:one_succeeded"]),
    CommandSpec::new(
        "function|help",
        2,
        LOADING | STALE,
        SC,
        Keys::NONE,
        function_help,
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "7.0.0",
    ),
];

/// Claims the server for this handler unless dispatch already did (the EXEC path); true
/// when the handler must release the claim.
fn claim_here(ctx: &Ctx) -> bool {
    let s = &ctx.shared.scripting;
    !s.claimed_by(ctx.session.id) && s.claim(ctx.session.id)
}

fn release_if(ctx: &Ctx, claimed: bool) {
    if claimed {
        ctx.shared.scripting.release();
    }
}

/// Splits `numkeys key… arg…` with EVAL's errors.
fn split_keys(args: &mut Args, fcall: bool) -> Result<(Vec<Bytes>, Vec<Bytes>), CmdError> {
    let raw = args.next_bytes()?;
    let n = match crate::protocol::number::parse_i64(&raw) {
        Some(n) => n,
        None if fcall => return Err(CmdError::new("ERR Bad number of keys provided")),
        None => return Err(CmdError::not_integer()),
    };
    let rest = args.rest();
    if n < 0 {
        return Err(CmdError::new("ERR Number of keys can't be negative"));
    }
    if n as u64 > rest.len() as u64 {
        return Err(CmdError::new(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let mut keys = rest;
    let argv = keys.split_off(n as usize);
    Ok((keys, argv))
}

fn eval(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    eval_generic(ctx, args, false, false)
}
fn evalsha(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    eval_generic(ctx, args, true, false)
}
fn eval_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    eval_generic(ctx, args, false, true)
}
fn evalsha_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    eval_generic(ctx, args, true, true)
}

const NOSCRIPT_ERR: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// `EVAL script numkeys [key …] [arg …]` and friends — the script's cost.
fn eval_generic(ctx: &mut Ctx, args: &mut Args, by_sha: bool, ro: bool) -> CmdResult {
    // EVAL/FCALL are `skip_monitor`: their own line goes first, before their commands'.
    if ctx.shared.ops.has_monitors() {
        crate::commands::feed_monitors(ctx.shared, ctx.session, args.argv());
    }
    let body = args.next_bytes()?;
    let (keys, argv) = split_keys(args, false)?;
    ctx.propagate_nothing();
    let claimed = claim_here(ctx);
    let result = (|| {
        let shared = ctx.shared;
        let mut engine = shared.scripting.engine.lock();
        let sha = if by_sha {
            if body.len() != 40 {
                return Err(CmdError::new(NOSCRIPT_ERR));
            }
            let sha = String::from_utf8_lossy(&body).to_ascii_lowercase();
            if engine.script(&sha).is_none() {
                return Err(CmdError::new(NOSCRIPT_ERR));
            }
            sha
        } else {
            let sha = engine.load_script(&body).map_err(CmdError::msg)?;
            engine.refresh_stats(&shared.scripting.stats);
            sha
        };
        let Some(script) = engine.script(&sha) else {
            return Err(CmdError::new(NOSCRIPT_ERR));
        };
        let (func, flags) = (script.func.clone(), script.flags);
        let reply = run_script(ctx, &engine, false, &func, &sha, flags, ro, &keys, &argv)?;
        engine.refresh_stats(&shared.scripting.stats);
        Ok(reply)
    })();
    release_if(ctx, claimed);
    result
}

/// Redis's `scriptPrepareForRun` checks, then the run with the session set up for a
/// script (its own db selection and RESP, blocking commands not blocking).
#[allow(clippy::too_many_arguments)]
fn run_script(
    ctx: &mut Ctx,
    engine: &crate::scripting::Engine,
    function: bool,
    func: &mlua::Function,
    name: &str,
    flags: u32,
    ro: bool,
    keys: &[Bytes],
    argv: &[Bytes],
) -> CmdResult {
    let shared = ctx.shared;
    let maxmemory = shared.memory.maxmemory.load(Ordering::Relaxed);
    let oom = maxmemory != 0
        && shared.memory.used() > maxmemory
        && shared.used_for_eviction() > maxmemory;
    if flags & EVAL_COMPAT == 0 {
        if flags & ALLOW_OOM == 0 && oom {
            return Err(CmdError::new("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"));
        }
        if flags & NO_WRITES == 0 && ro {
            return Err(CmdError::new(
                "ERR Can not execute a script with write flag using *_ro command.",
            ));
        }
    }
    let threshold = shared.config.read().busy_reply_threshold;
    let (session, locked) = ctx.session_and_locked();
    let saved = (
        session.db,
        session.resp3,
        session.in_exec,
        session.block_mode,
    );
    session.in_exec = true;
    session.block_mode = BlockMode::NoBlock;
    let scripting = &shared.scripting;
    let kind = if function { KIND_FUNCTION } else { KIND_EVAL };
    if function {
        let mut command = vec![Bytes::from_static(b"fcall")];
        command.push(Bytes::copy_from_slice(name.as_bytes()));
        command.push(Bytes::from(keys.len().to_string()));
        command.extend(keys.iter().cloned());
        command.extend(argv.iter().cloned());
        *scripting.gate.running_function.lock() =
            Some((name.to_string(), command, std::time::Instant::now()));
    }
    scripting.begin_script(kind, threshold);
    let mut call = CallCtx {
        shared,
        session,
        locked,
        resp3: false,
        read_only: ro || flags & NO_WRITES != 0,
        allow_oom: flags & ALLOW_OOM != 0,
        oom_at_start: oom,
        wrote: false,
        no_propagation: false,
    };
    call.session.in_script = true;
    let reply = in_place(|| engine.run(function, func, name, keys, argv, &mut call));
    call.session.in_script = false;
    scripting.end_script();
    *scripting.gate.running_function.lock() = None;
    let session = &mut *call.session;
    (
        session.db,
        session.resp3,
        session.in_exec,
        session.block_mode,
    ) = saved;
    Ok(reply)
}

/// Runs `f` so that a long script does not take a worker from the runtime (see the module
/// docs of `crate::scripting`); only on a multi-threaded runtime.
fn in_place<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

fn fcall(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    fcall_generic(ctx, args, false)
}
fn fcall_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    fcall_generic(ctx, args, true)
}

/// `FCALL function numkeys [key …] [arg …]` — the function's cost.
fn fcall_generic(ctx: &mut Ctx, args: &mut Args, ro: bool) -> CmdResult {
    // EVAL/FCALL are `skip_monitor`: their own line goes first, before their commands'.
    if ctx.shared.ops.has_monitors() {
        crate::commands::feed_monitors(ctx.shared, ctx.session, args.argv());
    }
    let name = args.next_bytes()?;
    let name = String::from_utf8_lossy(&name).into_owned();
    ctx.propagate_nothing();
    let claimed = claim_here(ctx);
    let result = (|| {
        let shared = ctx.shared;
        let engine = shared.scripting.engine.lock();
        let Some((_, f)) = engine.libraries.find(&name) else {
            return Err(CmdError::new("ERR Function not found"));
        };
        let (func, flags) = (f.func.clone(), f.flags);
        let (keys, argv) = split_keys(args, true)?;
        let reply = run_script(ctx, &engine, true, &func, &name, flags, ro, &keys, &argv)?;
        engine.refresh_stats(&shared.scripting.stats);
        Ok(reply)
    })();
    release_if(ctx, claimed);
    result
}

/// `SCRIPT LOAD script` — O(N) in the script's length.
fn script_load(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let body = args.next_bytes()?;
    let claimed = claim_here(ctx);
    let r = {
        let mut engine = ctx.shared.scripting.engine.lock();
        let r = engine.load_script(&body);
        engine.refresh_stats(&ctx.shared.scripting.stats);
        r
    };
    release_if(ctx, claimed);
    r.map(Reply::bulk).map_err(CmdError::msg)
}

/// `SCRIPT EXISTS sha1 [sha1 …]` — O(N) in the digests.
fn script_exists(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let shas = args.rest();
    let engine = ctx.shared.scripting.engine.lock();
    Ok(Reply::Array(
        shas.iter()
            .map(|s| {
                let s = String::from_utf8_lossy(s).to_ascii_lowercase();
                Reply::Int(i64::from(engine.script(&s).is_some()))
            })
            .collect(),
    ))
}

/// `SYNC|ASYNC` of the FLUSH subcommands.
fn flush_mode(args: &mut Args, err: &'static str) -> Result<(), CmdError> {
    if let Some(a) = args.peek() {
        if !(a.eq_ignore_ascii_case(b"sync") || a.eq_ignore_ascii_case(b"async"))
            || args.remaining() > 1
        {
            return Err(CmdError::new(err));
        }
    }
    Ok(())
}

/// `SCRIPT FLUSH [ASYNC|SYNC]` — O(N) in the cached scripts.
fn script_flush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    flush_mode(args, "ERR SCRIPT FLUSH only support SYNC|ASYNC option")?;
    let claimed = claim_here(ctx);
    {
        let scripting = &ctx.shared.scripting;
        let mut engine = scripting.engine.lock();
        engine.flush_scripts(scripting.gate.clone());
        engine.refresh_stats(&scripting.stats);
    }
    release_if(ctx, claimed);
    Ok(Reply::Ok)
}

/// `SCRIPT KILL` — O(1); runs while a script is busy.
fn script_kill(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.shared
        .scripting
        .kill(true)
        .map(|_| Reply::Ok)
        .map_err(CmdError::new)
}

/// `FUNCTION KILL` — O(1); runs while a function is busy.
fn function_kill(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.shared
        .scripting
        .kill(false)
        .map(|_| Reply::Ok)
        .map_err(CmdError::new)
}

fn help_lines(lines: &[&str]) -> Reply {
    Reply::Array(
        lines
            .iter()
            .map(|l| Reply::Status(l.to_string().into()))
            .collect(),
    )
}

/// `SCRIPT HELP`.
fn script_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_lines(&[
        "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        "HELP",
        "    Prints this help.",
    ]))
}

/// `FUNCTION HELP`.
fn function_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_lines(&[
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    ]))
}

/// `FUNCTION LOAD [REPLACE] code` — O(1) (plus the library's own load time).
fn function_load(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut replace = false;
    let mut rest = args.rest();
    while rest.len() > 1 {
        let a = rest.remove(0);
        if a.eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unknown option given: {}",
                String::from_utf8_lossy(&a)
            )));
        }
    }
    let Some(code) = rest.pop() else {
        return Err(CmdError::new("ERR Function code is missing"));
    };
    let claimed = claim_here(ctx);
    let r = {
        let scripting = &ctx.shared.scripting;
        let mut engine = scripting.engine.lock();
        let r = engine.load_library(code, replace);
        engine.refresh_stats(&scripting.stats);
        r
    };
    release_if(ctx, claimed);
    let name = r.map_err(CmdError::msg)?;
    ctx.propagate_as_sent(args);
    Ok(Reply::bulk(name))
}

/// `FUNCTION DELETE library` — O(1).
fn function_delete(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let name = String::from_utf8_lossy(&args.next_bytes()?).into_owned();
    let found = {
        let scripting = &ctx.shared.scripting;
        let mut engine = scripting.engine.lock();
        let found = engine.libraries.libs.remove(&name).is_some();
        engine.refresh_stats(&scripting.stats);
        found
    };
    if !found {
        return Err(CmdError::new("ERR Library not found"));
    }
    ctx.propagate_as_sent(args);
    Ok(Reply::Ok)
}

/// `FUNCTION FLUSH [ASYNC|SYNC]` — O(N) in the functions.
fn function_flush(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    flush_mode(args, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option")?;
    {
        let scripting = &ctx.shared.scripting;
        let mut engine = scripting.engine.lock();
        engine.flush_functions(scripting.gate.clone());
        engine.refresh_stats(&scripting.stats);
    }
    ctx.propagate_as_sent(args);
    Ok(Reply::Ok)
}

/// `FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]` — O(N) in the functions.
fn function_list(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (mut with_code, mut pattern): (bool, Option<Bytes>) = (false, None);
    while let Ok(a) = args.next_bytes() {
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            pattern = Some(
                args.next_bytes()
                    .map_err(|_| CmdError::new("ERR library name argument was not given"))?,
            );
        } else {
            return Err(CmdError::msg(format!(
                "ERR Unknown argument {}",
                String::from_utf8_lossy(&a)
            )));
        }
    }
    let engine = ctx.shared.scripting.engine.lock();
    let mut out = Vec::new();
    for lib in engine.libraries.libs.values() {
        if let Some(p) = &pattern {
            if !crate::storage::glob::glob_match(p, lib.name.as_bytes(), true) {
                continue;
            }
        }
        let functions = lib
            .functions
            .values()
            .map(|f| {
                Reply::Map(vec![
                    (Reply::bulk("name"), Reply::bulk(f.name.clone())),
                    (
                        Reply::bulk("description"),
                        f.description.clone().map_or(Reply::Nil, Reply::bulk),
                    ),
                    (
                        Reply::bulk("flags"),
                        Reply::Set(
                            engine::FLAG_NAMES
                                .iter()
                                .filter(|(_, bit)| f.flags & bit != 0)
                                .map(|(n, _)| Reply::status(n))
                                .collect(),
                        ),
                    ),
                ])
            })
            .collect();
        let mut entry = vec![
            (Reply::bulk("library_name"), Reply::bulk(lib.name.clone())),
            (Reply::bulk("engine"), Reply::bulk("LUA")),
            (Reply::bulk("functions"), Reply::Array(functions)),
        ];
        if with_code {
            entry.push((Reply::bulk("library_code"), Reply::Bulk(lib.code.clone())));
        }
        out.push(Reply::Map(entry));
    }
    Ok(Reply::Array(out))
}

/// `FUNCTION DUMP` — O(N) in the libraries.
fn function_dump(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let engine = ctx.shared.scripting.engine.lock();
    Ok(Reply::bulk(engine.dump_libraries()))
}

/// `FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]` — O(N) in the libraries.
fn function_restore(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let payload = args.next_bytes()?;
    let policy = match args.next_bytes() {
        Err(_) => b"append".to_vec(),
        Ok(p) => p.to_ascii_lowercase(),
    };
    if !matches!(policy.as_slice(), b"append" | b"replace" | b"flush") || args.remaining() > 0 {
        return Err(CmdError::new(
            "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
        ));
    }
    let libs = crate::scripting::functions::parse_dump(&payload).map_err(CmdError::new)?;
    let scripting = &ctx.shared.scripting;
    let result = {
        let mut engine = scripting.engine.lock();
        let r = (|| {
            if policy == b"flush" {
                engine.flush_functions(scripting.gate.clone());
            } else if policy == b"append" {
                for code in &libs {
                    let name = crate::scripting::functions::parse_metadata(code)?;
                    if engine.libraries.libs.contains_key(&name) {
                        return Err(format!("ERR Library {name} already exists"));
                    }
                }
            }
            for code in libs {
                engine.load_library(code, policy == b"replace")?;
            }
            Ok(())
        })();
        engine.refresh_stats(&scripting.stats);
        r
    };
    result.map_err(CmdError::msg)?;
    ctx.propagate_as_sent(args);
    Ok(Reply::Ok)
}

/// `FUNCTION STATS` — O(1); runs while a function is busy.
fn function_stats(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let scripting = &ctx.shared.scripting;
    if scripting.gate.running_function.lock().is_none() && scripting.busy() {
        // A busy EVAL script: Redis answers with the EVAL wording.
        return Err(CmdError::new(crate::scripting::BUSY_EVAL));
    }
    let running = match &*scripting.gate.running_function.lock() {
        None => Reply::Nil,
        Some((name, command, started)) => Reply::Map(vec![
            (Reply::bulk("name"), Reply::bulk(name.clone())),
            (
                Reply::bulk("command"),
                Reply::bulks(command.iter().cloned()),
            ),
            (
                Reply::bulk("duration_ms"),
                Reply::Int(started.elapsed().as_millis() as i64),
            ),
        ]),
    };
    let s = &scripting.stats;
    Ok(Reply::Map(vec![
        (Reply::bulk("running_script"), running),
        (
            Reply::bulk("engines"),
            Reply::Map(vec![(
                Reply::bulk("LUA"),
                Reply::Map(vec![
                    (
                        Reply::bulk("libraries_count"),
                        Reply::Int(s.libraries.load(Ordering::Relaxed) as i64),
                    ),
                    (
                        Reply::bulk("functions_count"),
                        Reply::Int(s.functions.load(Ordering::Relaxed) as i64),
                    ),
                ]),
            )]),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use bytes::Bytes;

    use crate::clock::Clock;
    use crate::commands::execute;
    use crate::config::Config;
    use crate::protocol::Reply;
    use crate::session::{ClientHandle, Session};
    use crate::shared::Shared;

    fn argv(words: &[&str]) -> Vec<Bytes> {
        words.iter().map(|w| Bytes::from(w.to_string())).collect()
    }

    fn setup() -> (Shared, Session) {
        let shared = Shared::new(Config::default(), Clock::manual(1_700_000_000_000));
        let handle = Arc::new(ClientHandle::new(1, "t".into(), "t".into(), -1, 0));
        (shared, Session::new(handle, true))
    }

    /// Redis 7 replicates a script's effects, not the EVAL: its writes as one unit, wrapped
    /// in MULTI/EXEC when there are several, with SELECT where the script changed database.
    #[test]
    fn a_script_propagates_its_writes_as_one_unit() {
        let (shared, mut s) = setup();
        shared.keyspace.propagation.set_enabled(true);
        let script = "redis.call('set', KEYS[1], 'v') redis.call('incr', 'n') \
                      redis.call('select', '3') redis.call('del', 'x') redis.call('set', 'y', 1) \
                      return redis.call('get', 'nosuch')";
        let r = execute(&shared, &mut s, argv(&["eval", script, "1", "k"]));
        assert_eq!(r, Reply::Nil);
        assert_eq!(
            shared.keyspace.propagation.drain_text(),
            ["SELECT 0", "MULTI", "set k v", "incr n", "SELECT 3", "set y 1", "EXEC"]
        );
        // The caller's database is not changed by the script's SELECT (Redis 7).
        assert_eq!(s.db, 0);
        // redis.set_repl(redis.REPL_NONE) keeps what follows out of the stream.
        let script = "redis.call('set','a','1') redis.set_repl(redis.REPL_NONE) \
                      redis.call('set','b','2') redis.set_repl(redis.REPL_ALL) redis.call('set','c','3')";
        execute(&shared, &mut s, argv(&["eval", script, "0"]));
        assert_eq!(
            shared.keyspace.propagation.drain_text(),
            ["SELECT 0", "MULTI", "set a 1", "set c 3", "EXEC"]
        );
        // A read-only script propagates nothing; one write is not wrapped.
        execute(
            &shared,
            &mut s,
            argv(&["eval", "return redis.call('get','k')", "0"]),
        );
        execute(
            &shared,
            &mut s,
            argv(&["eval", "return redis.call('del','k')", "0"]),
        );
        assert_eq!(shared.keyspace.propagation.drain_text(), ["del k"]);
        // FUNCTION LOAD propagates as sent.
        let code = "#!lua name=lib\nredis.register_function('f', function() return 1 end)";
        let r = execute(&shared, &mut s, argv(&["function", "load", code]));
        assert_eq!(r, Reply::bulk("lib"));
        assert_eq!(
            shared.keyspace.propagation.drain_text(),
            [format!("function load {code}")]
        );
    }

    /// A failing script keeps what it wrote before the error (as Redis) and leaves the state
    /// usable.
    #[test]
    fn errors_leave_the_state_usable() {
        let (shared, mut s) = setup();
        let r = execute(
            &shared,
            &mut s,
            argv(&["eval", "redis.call('set','a','1') error('boom')", "0"]),
        );
        assert!(matches!(r, Reply::Error(e) if e.starts_with("ERR user_script:1: boom script: ")));
        let r = execute(&shared, &mut s, argv(&["get", "a"]));
        assert_eq!(r, Reply::bulk("1"));
        let r = execute(&shared, &mut s, argv(&["eval", "return 7", "0"]));
        assert_eq!(r, Reply::Int(7));
        assert!(!shared.scripting.running());
    }

    /// EVAL inside MULTI runs under EXEC's locks.
    #[test]
    fn eval_inside_exec() {
        let (shared, mut s) = setup();
        execute(&shared, &mut s, argv(&["multi"]));
        execute(
            &shared,
            &mut s,
            argv(&["eval", "return redis.call('incr','c')", "0"]),
        );
        execute(&shared, &mut s, argv(&["incr", "c"]));
        let r = execute(&shared, &mut s, argv(&["exec"]));
        assert_eq!(r, Reply::Array(vec![Reply::Int(1), Reply::Int(2)]));
        assert!(!shared.scripting.running());
    }
}
