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
    if ctx.shared.scripting.busy() {
        // Only SHUTDOWN NOSAVE may stop a server whose script is busy; it kills the script.
        if !nosave {
            return Err(CmdError::new(ctx.shared.scripting.busy_error()));
        }
        ctx.shared.scripting.kill_for_shutdown();
    }
    tracing::warn!("User requested shutdown...");
    ctx.shared.shutdown.notify_one();
    ctx.session.close_after_reply = true;
    ctx.session.reply_mode = ReplyMode::Off;
    Ok(Reply::Ok)
}

/// Every section, in the order Redis 7.0 prints them whatever order they were asked in.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

/// The sections left out of `default` (and of INFO without arguments).
const NOT_DEFAULT: &[&str] = &["commandstats", "latencystats"];

/// `INFO [section [section ...]]` — O(1) per section (keyspace: O(databases); commandstats
/// and latencystats: O(commands × threads)). `default` (or nothing) prints every section but
/// commandstats and latencystats, `all` and `everything` print them all; names are
/// case-insensitive, may repeat, and unknown ones print nothing, as in Redis.
fn info(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut wanted: Vec<&str> = Vec::new();
    let mut any = false;
    for a in args.by_ref() {
        any = true;
        let s = String::from_utf8_lossy(&a).to_ascii_lowercase();
        match s.as_str() {
            "all" | "everything" => wanted.extend(SECTIONS),
            "default" => wanted.extend(SECTIONS.iter().filter(|s| !NOT_DEFAULT.contains(s))),
            other => wanted.extend(SECTIONS.iter().filter(|s| **s == other)),
        }
    }
    if !any {
        wanted.extend(SECTIONS.iter().filter(|s| !NOT_DEFAULT.contains(s)));
    }
    let mut out = String::new();
    for name in SECTIONS.iter().filter(|s| wanted.contains(s)) {
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
            // What we allocate is what the counting allocator counts: no allocator-level
            // fragmentation to report apart from the process's RSS.
            kv(out, "allocator_allocated", &used);
            kv(out, "allocator_active", &used);
            kv(out, "allocator_resident", &rss);
            kv(out, "total_system_memory", &total);
            kv(
                out,
                "total_system_memory_human",
                &memory::human_bytes(total),
            );
            {
                let s = &shared.scripting.stats;
                let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
                let (vm_eval, vm_functions) = (get(&s.vm_eval), get(&s.vm_functions));
                let (scripts, functions_mem) = (get(&s.scripts_eval), get(&s.functions_mem));
                kv(out, "used_memory_lua", &vm_eval);
                kv(out, "used_memory_vm_eval", &vm_eval);
                kv(out, "used_memory_lua_human", &memory::human_bytes(vm_eval));
                kv(out, "used_memory_scripts_eval", &scripts);
                kv(out, "number_of_cached_scripts", &get(&s.cached_scripts));
                kv(out, "number_of_functions", &get(&s.functions));
                kv(out, "number_of_libraries", &get(&s.libraries));
                kv(out, "used_memory_vm_functions", &vm_functions);
                kv(out, "used_memory_vm_total", &(vm_eval + vm_functions));
                kv(
                    out,
                    "used_memory_vm_total_human",
                    &memory::human_bytes(vm_eval + vm_functions),
                );
                kv(out, "used_memory_functions", &functions_mem);
                kv(out, "used_memory_scripts", &(scripts + functions_mem));
                kv(
                    out,
                    "used_memory_scripts_human",
                    &memory::human_bytes(scripts + functions_mem),
                );
            }
            kv(out, "maxmemory", &maxmemory);
            kv(out, "maxmemory_human", &memory::human_bytes(maxmemory));
            kv(out, "maxmemory_policy", &policy);
            kv(out, "allocator_frag_ratio", &"1.00");
            kv(out, "allocator_frag_bytes", &0);
            kv(
                out,
                "allocator_rss_ratio",
                &format!("{:.2}", rss as f64 / used.max(1) as f64),
            );
            kv(out, "allocator_rss_bytes", &(rss as i64 - used as i64));
            kv(out, "rss_overhead_ratio", &"1.00");
            kv(out, "rss_overhead_bytes", &0);
            kv(
                out,
                "mem_fragmentation_ratio",
                &format!("{:.2}", rss as f64 / used.max(1) as f64),
            );
            kv(out, "mem_fragmentation_bytes", &(rss as i64 - used as i64));
            kv(out, "mem_not_counted_for_evict", &o.aof_buffer);
            kv(out, "mem_replication_backlog", &0);
            kv(out, "mem_total_replication_buffers", &0);
            kv(out, "mem_clients_slaves", &0);
            kv(out, "mem_clients_normal", &o.clients_normal);
            kv(out, "mem_cluster_links", &0);
            kv(out, "mem_aof_buffer", &o.aof_buffer);
            kv(
                out,
                "mem_allocator",
                &if memory::counting() {
                    "libc (counted)"
                } else {
                    "libc"
                },
            );
            kv(out, "active_defrag_running", &0);
            kv(
                out,
                "lazyfree_pending_objects",
                &crate::storage::lazyfree::pending(),
            );
            kv(out, "lazyfreed_objects", &crate::storage::lazyfree::freed());
        }
        "persistence" => {
            out.push_str("# Persistence\r\n");
            kv(out, "loading", &u8::from(shared.aof.loading()));
            kv(out, "async_loading", &0);
            // No fork and no RDB snapshots: the copy-on-write and save-progress fields are
            // Redis's idle values.
            kv(out, "current_cow_peak", &0);
            kv(out, "current_cow_size", &0);
            kv(out, "current_cow_size_age", &0);
            kv(out, "current_fork_perc", &"0.00");
            kv(out, "current_save_keys_processed", &0);
            kv(out, "current_save_keys_total", &0);
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
            kv(out, "rdb_last_cow_size", &0);
            kv(out, "rdb_last_load_keys_expired", &0);
            kv(out, "rdb_last_load_keys_loaded", &0);
            shared.aof.info(shared, out);
        }
        "stats" => {
            out.push_str("# Stats\r\n");
            let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            let rates = shared.rates();
            let net = shared.ops.stats.net();
            kv(
                out,
                "total_connections_received",
                &load(&stats.connections_received),
            );
            kv(
                out,
                "total_commands_processed",
                &shared.ops.stats.total_calls(),
            );
            kv(out, "instantaneous_ops_per_sec", &rates.ops_per_sec);
            kv(out, "total_net_input_bytes", &net.input);
            kv(out, "total_net_output_bytes", &net.output);
            kv(out, "total_net_repl_input_bytes", &0);
            kv(out, "total_net_repl_output_bytes", &0);
            kv(
                out,
                "instantaneous_input_kbps",
                &format!("{:.2}", rates.input_kbps),
            );
            kv(
                out,
                "instantaneous_output_kbps",
                &format!("{:.2}", rates.output_kbps),
            );
            kv(out, "instantaneous_input_repl_kbps", &"0.00");
            kv(out, "instantaneous_output_repl_kbps", &"0.00");
            kv(
                out,
                "rejected_connections",
                &load(&stats.rejected_connections),
            );
            kv(out, "sync_full", &0);
            kv(out, "sync_partial_ok", &0);
            kv(out, "sync_partial_err", &0);
            kv(out, "expired_keys", &load(&ks.expired));
            kv(out, "expired_stale_perc", &"0.00");
            kv(out, "expired_time_cap_reached_count", &0);
            kv(out, "expire_cycle_cpu_milliseconds", &0);
            kv(out, "evicted_keys", &load(&ks.evicted));
            kv(out, "evicted_clients", &0);
            kv(out, "total_eviction_exceeded_time", &0);
            kv(out, "current_eviction_exceeded_time", &0);
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
            kv(out, "migrate_cached_sockets", &0);
            kv(out, "slave_expires_tracked_keys", &0);
            kv(out, "active_defrag_hits", &0);
            kv(out, "active_defrag_misses", &0);
            kv(out, "active_defrag_key_hits", &0);
            kv(out, "active_defrag_key_misses", &0);
            kv(out, "total_active_defrag_time", &0);
            kv(out, "current_active_defrag_time", &0);
            kv(out, "tracking_total_keys", &0);
            kv(out, "tracking_total_items", &0);
            kv(out, "tracking_total_prefixes", &0);
            kv(out, "unexpected_error_replies", &0);
            kv(out, "total_error_replies", &load(&shared.ops.error_replies));
            kv(out, "dump_payload_sanitizations", &0);
            kv(out, "total_reads_processed", &net.reads);
            kv(out, "total_writes_processed", &net.writes);
            kv(out, "io_threaded_reads_processed", &0);
            kv(out, "io_threaded_writes_processed", &0);
            kv(out, "reply_buffer_shrinks", &0);
            kv(out, "reply_buffer_expands", &0);
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
            // No main thread here: the thread serving this INFO stands for it.
            let (user, sys) = cpu_times_of("/proc/thread-self/stat");
            kv(out, "used_cpu_sys_main_thread", &format!("{sys:.6}"));
            kv(out, "used_cpu_user_main_thread", &format!("{user:.6}"));
        }
        "modules" => out.push_str("# Modules\r\n"),
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            for (code, n) in shared.ops.error_stats() {
                let _ = write!(out, "errorstat_{code}:count={n}\r\n");
            }
        }
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
        "commandstats" => {
            out.push_str("# Commandstats\r\n");
            let rows = shared.ops.stats.rows(false);
            for (spec, st) in super::rows_by_id().iter().zip(&rows) {
                if st.is_empty() {
                    continue;
                }
                let usec = st.nanos() / 1000;
                let per_call = if st.calls > 0 {
                    usec as f64 / st.calls as f64
                } else {
                    0.0
                };
                let _ = write!(
                    out,
                    "cmdstat_{}:calls={},usec={usec},usec_per_call={per_call:.2},rejected_calls={},failed_calls={}\r\n",
                    spec.name, st.calls, st.rejected, st.failed
                );
            }
        }
        "latencystats" => {
            out.push_str("# Latencystats\r\n");
            let (tracking, percentiles) = {
                let c = shared.config.read();
                (
                    c.latency_tracking,
                    c.latency_tracking_info_percentiles.clone(),
                )
            };
            if !tracking {
                return;
            }
            let rows = shared.ops.stats.rows(true);
            for (spec, st) in super::rows_by_id().iter().zip(&rows) {
                if st.calls == 0 {
                    continue;
                }
                let _ = write!(out, "latency_percentiles_usec_{}:", spec.name);
                for (i, p) in percentiles.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let usec = st.percentile(p.parse().unwrap_or(0.0)) as f64 / 1000.0;
                    let _ = write!(out, "p{p}={usec:.3}");
                }
                out.push_str("\r\n");
            }
        }
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
pub fn cpu_times() -> (f64, f64) {
    cpu_times_of("/proc/self/stat")
}

/// (user, system) CPU seconds from a `/proc/.../stat` file (zeros where there is none).
fn cpu_times_of(path: &str) -> (f64, f64) {
    let Ok(stat) = std::fs::read_to_string(path) else {
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
