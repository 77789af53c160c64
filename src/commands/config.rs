//! `CONFIG GET | SET | RESETSTAT | REWRITE | HELP`: thin glue over the parameter registry in
//! `crate::config`, which owns names, validation, formatting and the file rewrite. After a
//! successful CONFIG SET, [`Shared::apply_config`](crate::shared::Shared::apply_config)
//! pushes the new values to the hot paths and tells connections to refresh their copies.

use super::connection::help_reply;
use super::table::*;
use super::Ctx;
use crate::protocol::{Args, CmdError, CmdResult, Reply};

const F: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

pub(super) const COMMANDS: &[CommandSpec] = &[CommandSpec::container(
    "config",
    0,
    "A container for server configuration commands",
    CONFIG_SUBS,
)
.doc("A container for server configuration commands", "2.0.0")];

const CONFIG_SUBS: &[CommandSpec] = &[
    CommandSpec::new("config|get", -3, F, 0, Keys::NONE, get).doc(
        "Returns the effective values of configuration parameters.",
        "2.0.0",
    ),
    CommandSpec::new("config|set", -4, F, 0, Keys::NONE, set)
        .doc("Sets configuration parameters in-flight.", "2.0.0")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new("config|resetstat", 2, F, 0, Keys::NONE, resetstat)
        .doc("Resets the server's statistics.", "2.0.0"),
    CommandSpec::new("config|rewrite", 2, F, 0, Keys::NONE, rewrite)
        .doc("Persists the effective configuration to file.", "2.8.0"),
    CommandSpec::new("config|help", 2, LOADING | STALE, 0, Keys::NONE, help).doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

/// `CONFIG GET pattern [pattern ...]` — O(parameters × patterns). A map of name → value
/// (a flat array in RESP2).
fn get(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let patterns = args.rest();
    let refs: Vec<&[u8]> = patterns.iter().map(|p| p.as_ref()).collect();
    let found = ctx.shared.config.read().get_matching(&refs);
    Ok(Reply::Map(
        found
            .into_iter()
            .map(|(k, v)| (Reply::bulk(k), Reply::bulk(v)))
            .collect(),
    ))
}

/// `CONFIG SET name value [name value ...]` — all pairs are validated, then applied
/// together or not at all.
fn set(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let words = args.rest();
    if !words.len().is_multiple_of(2) {
        return Err(CmdError::syntax());
    }
    let mut pairs = Vec::with_capacity(words.len() / 2);
    for pair in words.chunks_exact(2) {
        let name = String::from_utf8_lossy(&pair[0]).into_owned();
        let Ok(value) = String::from_utf8(pair[1].to_vec()) else {
            return Err(CmdError::msg(format!(
                "ERR CONFIG SET failed (possibly related to argument '{}') - \
                 argument must be valid UTF-8",
                name.to_ascii_lowercase()
            )));
        };
        pairs.push((name, value));
    }
    ctx.shared
        .config
        .write()
        .set_many(&pairs)
        .map_err(|e| CmdError::msg(e.redis_text()))?;
    ctx.shared.apply_config();
    // A maxmemory below what is used evicts now, as Redis's `performEvictions` on CONFIG SET.
    // This command holds no shard lock, except inside EXEC (which locks them all): there the
    // next command's check evicts instead.
    let maxmemory_set = pairs
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("maxmemory"));
    if maxmemory_set && !ctx.session.in_exec {
        let _ = super::memory::perform_evictions(ctx.shared);
    }
    Ok(Reply::Ok)
}

/// `CONFIG RESETSTAT` — zeroes the INFO stats counters (not `dirty`).
fn resetstat(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.shared.reset_stats();
    Ok(Reply::Ok)
}

/// `CONFIG REWRITE` — writes the running configuration back into the file the server was
/// started from, keeping its comments and order.
fn rewrite(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let config = ctx.shared.config.read().clone();
    match config.rewrite_file() {
        Ok(()) => {
            tracing::info!("CONFIG REWRITE executed with success.");
            Ok(Reply::Ok)
        }
        Err(e) => {
            tracing::warn!("CONFIG REWRITE failed: {}", e.redis_text());
            Err(CmdError::msg(e.redis_text()))
        }
    }
}

/// `CONFIG HELP`.
fn help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "CONFIG",
        &[
            (
                "GET <pattern>",
                "Return the parameters whose names match the glob-style <pattern>, with their values.",
            ),
            (
                "SET <directive> <value>",
                "Change the configuration <directive> to <value>.",
            ),
            ("RESETSTAT", "Zero the statistics INFO reports."),
            (
                "REWRITE",
                "Write the running configuration back into the config file.",
            ),
            ("HELP", "Print this help."),
        ],
    ))
}
