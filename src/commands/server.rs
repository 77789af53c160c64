//! Server commands: INFO, SHUTDOWN, BGREWRITEAOF.
//!
//! INFO reports Redis 7.0's sections and field names (clients such as ioredis and BullMQ parse
//! them: `redis_version`, `maxmemory_policy`, `loading`…) with our own live values; fields
//! for machinery we do not have (replication links, forks, modules) report its idle state,
//! as a Redis without it would.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::connection::REDIS_VERSION;
use super::table::*;
use super::Ctx;
use crate::memory;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::session::ReplyMode;

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new(
        "info",
        -1,
        LOADING | STALE | GLOBAL,
        DANGEROUS,
        Keys::NONE,
        info,
    )
    .doc(
        "Returns information and statistics about the server.",
        "1.0.0",
    )
    .tips(&[
        "nondeterministic_output",
        "request_policy:all_shards",
        "response_policy:special",
    ]),
    CommandSpec::new(
        "shutdown",
        -1,
        ADMIN | NOSCRIPT | LOADING | STALE | NO_MULTI | ALLOW_BUSY,
        0,
        Keys::NONE,
        shutdown,
    )
    .doc(
        "Synchronously saves the database(s) to disk and shuts down the Redis server.",
        "1.0.0",
    ),
    CommandSpec::new(
        "bgrewriteaof",
        1,
        ADMIN | NOSCRIPT,
        DANGEROUS,
        Keys::NONE,
        bgrewriteaof,
    )
    .doc(
        "Asynchronously rewrites the append-only file to disk.",
        "1.0.0",
    ),
];

/// `BGREWRITEAOF` — starts a rewrite of the AOF in the background (see `crate::aof`).
fn bgrewriteaof(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    match ctx.shared.aof.bgrewrite(ctx.shared) {
        Ok(()) => Ok(Reply::Status(
            "Background append only file rewriting started".into(),
        )),
        Err(e) => Err(CmdError::msg(e)),
    }
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]` — stops the server. There are no RDB
/// snapshots, so SAVE and NOSAVE behave alike; the AOF, when on, is always flushed and
/// fsynced on the way out (by the server's shutdown path), as in Redis. A successful SHUTDOWN sends no reply: the
/// connection closes, as with Redis.
fn shutdown(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (mut save, mut nosave, mut abort) = (false, false, false);
    for a in args.by_ref() {
        match a.to_ascii_lowercase().as_slice() {
            b"save" => save = true,
            b"nosave" => nosave = true,
            b"abort" => abort = true,
            b"now" | b"force" => {}
            _ => return Err(CmdError::syntax()),
        }
    }
    if (save && nosave) || (abort && (save || nosave)) {
        return Err(CmdError::syntax());
    }
    if abort {
        return Err(CmdError::new("ERR No shutdown in progress."));
    }
    tracing::warn!("User requested shutdown...");
    ctx.shared.shutdown.notify_one();
    ctx.session.close_after_reply = true;
    ctx.session.reply_mode = ReplyMode::Off;
    Ok(Reply::Ok)
}

/// Sections INFO prints with no argument (`default`), in order.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

/// `INFO [section [section ...]]` — O(1) per section (keyspace: O(databases)).
fn info(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut wanted: Vec<String> = Vec::new();
    for a in args.by_ref() {
        let s = String::from_utf8_lossy(&a).to_ascii_lowercase();
        match s.as_str() {
            "default" | "all" | "everything" => {
                wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
                if s != "default" {
                    wanted.push("commandstats".into());
                    wanted.push("latencystats".into());
                }
            }
            _ => wanted.push(s),
        }
    }
    if wanted.is_empty() {
        wanted.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    let mut out = String::new();
    let mut done: Vec<&str> = Vec::new();
    for name in DEFAULT_SECTIONS
        .iter()
        .chain(["commandstats", "latencystats"].iter())
    {
        if !wanted.iter().any(|w| w == name) || done.contains(name) {
            continue;
        }
        done.push(name);
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        section(ctx, name, &mut out);
    }
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

fn section(ctx: &mut Ctx, name: &str, out: &mut String) {
    let shared = ctx.shared;
    let now = shared.now_ms();
    let stats = &shared.stats;
    let ks = &shared.keyspace.stats;
    let (maxclients, port, hz, maxmemory, policy, config_file) = {
        let c = shared.config.read();
        let file = c.config_file.as_ref().map(|p| p.display().to_string());
        (
            c.maxclients,
            c.port,
            c.hz,
            c.maxmemory,
            c.maxmemory_policy.as_str(),
            file.unwrap_or_default(),
        )
    };
    let port = shared
        .listen_addrs
        .read()
        .first()
        .map_or(port, |a| a.port());
    match name {
        "server" => {
            out.push_str("# Server\r\n");
            let uptime = now.saturating_sub(shared.started_ms) / 1000;
            kv(out, "redis_version", &REDIS_VERSION);
            kv(out, "redis_git_sha1", &"00000000");
            kv(out, "redis_git_dirty", &0);
            kv(out, "redis_build_id", &"0");
            kv(out, "redis_mode", &"standalone");
            kv(out, "os", &os_name());
            kv(out, "arch_bits", &(usize::BITS));
            kv(out, "monotonic_clock", &"POSIX clock_gettime");
            kv(out, "multiplexing_api", &"epoll");
            kv(out, "atomicvar_api", &"c11-builtin");
            kv(out, "gcc_version", &"0.0.0");
            kv(out, "process_id", &std::process::id());
            kv(out, "process_supervised", &"no");
            kv(out, "run_id", &shared.run_id);
            kv(out, "tcp_port", &port);
            kv(out, "server_time_usec", &(now * 1000));
            kv(out, "uptime_in_seconds", &uptime);
            kv(out, "uptime_in_days", &(uptime / 86_400));
            kv(out, "hz", &hz);
            kv(out, "configured_hz", &hz);
            kv(out, "lru_clock", &((now / 1000) & ((1 << 24) - 1)));
            kv(
                out,
                "executable",
                &std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            );
            kv(out, "config_file", &config_file);
            kv(out, "io_threads_active", &0);
            kv(out, "emberkv_version", &env!("CARGO_PKG_VERSION"));
        }
        "clients" => {
            out.push_str("# Clients\r\n");
            kv(out, "connected_clients", &shared.clients.len());
            kv(out, "cluster_connections", &0);
            kv(out, "maxclients", &maxclients);
            kv(out, "client_recent_max_input_buffer", &0);
            let max_out = shared
                .clients
                .iter()
                .map(|c| c.outbox.pending())
                .max()
                .unwrap_or(0);
            kv(out, "client_recent_max_output_buffer", &max_out);
            kv(out, "blocked_clients", &shared.blocked.len());
            kv(out, "tracking_clients", &0);
            kv(out, "clients_in_timeout_table", &0);
        }
        "memory" => {
            out.push_str("# Memory\r\n");
            let o = super::memory::overview(ctx);
            let (used, peak, rss) = (o.used, o.peak, o.rss);
            let total = memory::total_system_memory();
            kv(out, "used_memory", &used);
            kv(out, "used_memory_human", &memory::human_bytes(used));
            kv(out, "used_memory_rss", &rss);
            kv(out, "used_memory_rss_human", &memory::human_bytes(rss));
            kv(out, "used_memory_peak", &peak);
            kv(out, "used_memory_peak_human", &memory::human_bytes(peak));
            kv(
                out,
                "used_memory_peak_perc",
                &format!("{:.2}%", used as f64 * 100.0 / peak.max(1) as f64),
            );
            kv(out, "used_memory_overhead", &o.overhead());
            kv(out, "used_memory_startup", &o.startup);
            kv(out, "used_memory_dataset", &o.dataset());
            let net = used.saturating_sub(o.startup).max(1);
            kv(
                out,
                "used_memory_dataset_perc",
                &format!("{:.2}%", o.dataset() as f64 * 100.0 / net as f64),
            );
            kv(out, "total_system_memory", &total);
            kv(
                out,
                "total_system_memory_human",
                &memory::human_bytes(total),
            );
            kv(out, "maxmemory", &maxmemory);
            kv(out, "maxmemory_human", &memory::human_bytes(maxmemory));
            kv(out, "maxmemory_policy", &policy);
            kv(
                out,
                "mem_fragmentation_ratio",
                &format!("{:.2}", rss as f64 / used.max(1) as f64),
            );
            kv(out, "mem_fragmentation_bytes", &(rss as i64 - used as i64));
            kv(out, "mem_not_counted_for_evict", &0);
            kv(out, "mem_replication_backlog", &0);
            kv(out, "mem_clients_slaves", &0);
            kv(out, "mem_clients_normal", &o.clients_normal);
            kv(out, "mem_aof_buffer", &0);
            kv(
                out,
                "mem_allocator",
                &if memory::counting() {
                    "libc (counted)"
                } else {
                    "libc"
                },
            );
            kv(out, "lazyfree_pending_objects", &0);
        }
        "persistence" => {
            out.push_str("# Persistence\r\n");
            kv(out, "loading", &u8::from(shared.aof.loading()));
            kv(out, "async_loading", &0);
            kv(
                out,
                "rdb_changes_since_last_save",
                &ks.dirty.load(Ordering::Relaxed),
            );
            kv(out, "rdb_bgsave_in_progress", &0);
            kv(out, "rdb_last_save_time", &(shared.started_ms / 1000));
            kv(out, "rdb_last_bgsave_status", &"ok");
            kv(out, "rdb_last_bgsave_time_sec", &-1);
            kv(out, "rdb_current_bgsave_time_sec", &-1);
            kv(out, "rdb_saves", &0);
            shared.aof.info(shared, out);
        }
        "stats" => {
            out.push_str("# Stats\r\n");
            let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            kv(
                out,
                "total_connections_received",
                &load(&stats.connections_received),
            );
            kv(
                out,
                "total_commands_processed",
                &load(&stats.commands_processed),
            );
            kv(out, "instantaneous_ops_per_sec", &shared.ops_per_sec());
            kv(out, "total_net_input_bytes", &load(&stats.net_input_bytes));
            kv(
                out,
                "total_net_output_bytes",
                &load(&stats.net_output_bytes),
            );
            kv(
                out,
                "rejected_connections",
                &load(&stats.rejected_connections),
            );
            kv(out, "expired_keys", &load(&ks.expired));
            kv(out, "evicted_keys", &load(&ks.evicted));
            kv(out, "evicted_clients", &0);
            kv(out, "keyspace_hits", &load(&ks.hits));
            kv(out, "keyspace_misses", &load(&ks.misses));
            let ps = &shared.pubsub;
            kv(
                out,
                "pubsub_channels",
                &ps.channel_count(crate::pubsub::Kind::Channel),
            );
            kv(out, "pubsub_patterns", &ps.numpat());
            kv(
                out,
                "pubsubshard_channels",
                &ps.channel_count(crate::pubsub::Kind::Shard),
            );
            kv(out, "latest_fork_usec", &0);
            kv(out, "total_forks", &0);
            kv(out, "total_error_replies", &load(&stats.error_replies));
        }
        "replication" => {
            out.push_str("# Replication\r\n");
            kv(out, "role", &"master");
            kv(out, "connected_slaves", &0);
            kv(out, "master_failover_state", &"no-failover");
            kv(out, "master_replid", &shared.run_id);
            kv(
                out,
                "master_replid2",
                &"0000000000000000000000000000000000000000",
            );
            kv(out, "master_repl_offset", &0);
            kv(out, "second_repl_offset", &-1);
            kv(out, "repl_backlog_active", &0);
            kv(out, "repl_backlog_size", &1_048_576);
            kv(out, "repl_backlog_first_byte_offset", &0);
            kv(out, "repl_backlog_histlen", &0);
        }
        "cpu" => {
            out.push_str("# CPU\r\n");
            let (user, sys) = cpu_times();
            kv(out, "used_cpu_sys", &format!("{sys:.6}"));
            kv(out, "used_cpu_user", &format!("{user:.6}"));
            kv(out, "used_cpu_sys_children", &"0.000000");
            kv(out, "used_cpu_user_children", &"0.000000");
        }
        "modules" => out.push_str("# Modules\r\n"),
        "errorstats" => out.push_str("# Errorstats\r\n"),
        "cluster" => {
            out.push_str("# Cluster\r\n");
            kv(out, "cluster_enabled", &0);
        }
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            for db in 0..shared.keyspace.databases() {
                let (keys, expires, avg_ttl) = ctx.locked().db_stats(db, now);
                if keys > 0 {
                    let _ = write!(
                        out,
                        "db{db}:keys={keys},expires={expires},avg_ttl={avg_ttl}\r\n"
                    );
                }
            }
        }
        "commandstats" => out.push_str("# Commandstats\r\n"),
        "latencystats" => out.push_str("# Latencystats\r\n"),
        _ => {}
    }
}

fn os_name() -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let os = match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        other => other,
    };
    format!("{os} {} {}", release.trim(), std::env::consts::ARCH)
}

/// (user, system) CPU seconds of this process, from `/proc/self/stat` (zeros elsewhere).
fn cpu_times() -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return (0.0, 0.0);
    };
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    (ticks(11) / 100.0, ticks(12) / 100.0)
}

/// One `field:value` line.
fn kv(out: &mut String, k: &str, v: &dyn std::fmt::Display) {
    let _ = write!(out, "{k}:{v}\r\n");
}
