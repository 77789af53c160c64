//! `maxmemory` enforcement and the `MEMORY` command family.
//!
//! # Before every command
//! As Redis's `processCommand`, [`before_command`] runs before every admitted command while
//! `maxmemory` is set (one relaxed load otherwise): when `used_memory` is over the limit —
//! less the AOF's buffers, which Redis does not count either (`mem_not_counted_for_evict`,
//! [`Shared::used_for_eviction`]) — it evicts keys as `maxmemory-policy` says
//! ([`crate::storage::Keyspace::evict`]), within the time `maxmemory-eviction-tenacity`
//! allows, holding no lock of the command's. If it could
//! not get under the limit, commands flagged `denyoom` (and EXEC of a transaction that
//! queued one, and anything queued inside MULTI) are refused with
//! [`OOM`] and write nothing; other commands — reads, DEL, CONFIG — still run.
//! `CLIENT NO-EVICT` is about evicting *clients* (`maxmemory-clients`) and changes nothing
//! here, as in Redis.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::connection::help_reply;
use super::table::*;
use super::Ctx;
use crate::config::MaxmemoryPolicy;
use crate::memory;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::session::Session;
use crate::shared::{Shared, NO_OVERRIDE};
use crate::storage::usage;

/// Redis's reply to a command refused for memory.
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

pub(super) const COMMANDS: &[CommandSpec] = &[CommandSpec::container(
    "memory",
    0,
    "A container for memory diagnostics commands.",
    SUBS,
)];

const SUBS: &[CommandSpec] = &[
    CommandSpec::new("memory|doctor", 2, 0, 0, Keys::NONE, doctor)
        .doc("Outputs a memory problems report.", "4.0.0")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ]),
    CommandSpec::new("memory|help", 2, LOADING | STALE, 0, Keys::NONE, help).doc(
        "Returns helpful text about the different subcommands.",
        "4.0.0",
    ),
    CommandSpec::new("memory|malloc-stats", 2, 0, 0, Keys::NONE, malloc_stats)
        .doc("Returns the allocator statistics.", "4.0.0")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ]),
    CommandSpec::new("memory|purge", 2, 0, 0, Keys::NONE, purge)
        .doc("Asks the allocator to release memory.", "4.0.0")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("memory|stats", 2, GLOBAL, 0, Keys::NONE, stats)
        .doc("Returns details about memory usage.", "4.0.0")
        .tips(&[
            "nondeterministic_output",
            "request_policy:all_shards",
            "response_policy:special",
        ]),
    CommandSpec::new(
        "memory|usage",
        -3,
        READONLY,
        0,
        Keys::range(2, 2, 1),
        usage_cmd,
    )
    .doc("Estimates the memory usage of a key.", "4.0.0")
    .key_flags(&["RO"]),
];

/// What the memory check decided for one command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Under the limit (or got there by evicting).
    Ok,
    /// Eviction ran out of time before getting under the limit; the command runs and the
    /// next one continues (Redis's `EVICT_RUNNING`).
    Running,
    /// Over the limit with nothing left to evict.
    Fail,
}

/// The eviction time budget of `maxmemory-eviction-tenacity` (Redis's curve: 50 µs per step
/// up to 10, then 15 % more per step; 100 means no limit).
fn time_limit(tenacity: u32) -> Option<std::time::Duration> {
    let us = match tenacity {
        0..=10 => 50 * u64::from(tenacity),
        100.. => return None,
        t => (500.0 * 1.15f64.powi(t as i32 - 10)) as u64,
    };
    Some(std::time::Duration::from_micros(us))
}

/// Evicts while `used_memory` is over `maxmemory` (Redis's `performEvictions`). Takes no
/// lock the caller could hold: call it outside any command's locks.
pub fn perform_evictions(shared: &Shared) -> Verdict {
    let limits = &shared.memory;
    let max = limits.maxmemory.load(Ordering::Relaxed);
    if max == 0 {
        return Verdict::Ok;
    }
    if limits.used() <= max {
        return Verdict::Ok;
    }
    let used = shared.used_for_eviction();
    if used <= max {
        return Verdict::Ok;
    }
    let policy = limits.policy();
    if policy == MaxmemoryPolicy::NoEviction {
        return Verdict::Fail;
    }
    let to_free = (used - max) as usize;
    let samples = limits.samples.load(Ordering::Relaxed) as usize;
    let deadline =
        time_limit(limits.tenacity.load(Ordering::Relaxed)).map(|d| std::time::Instant::now() + d);
    let out = shared.keyspace.evict(policy, samples, to_free, deadline);
    if limits.used_override.load(Ordering::Relaxed) != NO_OVERRIDE {
        let _ = limits
            .used_override
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                Some(v.saturating_sub(out.freed as u64))
            });
    }
    shared.publish_events(out.events);
    if out.freed >= to_free {
        Verdict::Ok
    } else if out.exhausted {
        // Our figure per key is an estimate: trust the counter over it.
        if shared.used_for_eviction() <= max || lazily_freed_enough(shared, max) {
            Verdict::Ok
        } else {
            Verdict::Fail
        }
    } else {
        Verdict::Running
    }
}

/// Nothing is left to evict, but big values deleted by UNLINK/FLUSH*ASYNC may still be
/// being freed in the background, their memory still counted: wait for them a little (at
/// most 1 ms, as Redis's `performEvictions` waits on its lazy-free jobs) before refusing
/// writes with OOM.
#[cold]
fn lazily_freed_enough(shared: &Shared, max: u64) -> bool {
    let until = std::time::Instant::now() + std::time::Duration::from_millis(1);
    while crate::storage::lazyfree::pending() > 0 && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_micros(50));
        if shared.used_for_eviction() <= max {
            return true;
        }
    }
    shared.used_for_eviction() <= max
}

/// The check before a command while `maxmemory` is set (see the module docs): evicts, then
/// refuses what may not run over the limit.
#[cold]
#[inline(never)]
pub(super) fn before_command(
    shared: &Shared,
    session: &Session,
    spec: &CommandSpec,
) -> Result<(), CmdError> {
    if perform_evictions(shared) != Verdict::Fail {
        return Ok(());
    }
    let in_multi = session.multi.is_some();
    let denied = spec.has(DENYOOM)
        || (spec.name == "exec" && session.multi.as_ref().is_some_and(|m| m.denyoom))
        || (in_multi && !matches!(spec.name, "exec" | "discard" | "quit" | "reset"));
    if denied {
        return Err(CmdError::new(OOM));
    }
    Ok(())
}

/// `MEMORY USAGE key [SAMPLES count]` — O(N) in the elements sampled (default 5; 0: all):
/// Redis's estimate for the key, its value and its table entry.
fn usage_cmd(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let key = args.next_bytes()?;
    let mut samples = 5usize;
    while let Some(word) = args.next() {
        if !word.eq_ignore_ascii_case(b"samples") {
            return Err(CmdError::syntax());
        }
        let Some(n) = args.next() else {
            return Err(CmdError::syntax());
        };
        let n = crate::protocol::number::parse_i64(&n).ok_or(CmdError::not_integer())?;
        if n < 0 {
            return Err(CmdError::syntax());
        }
        samples = usize::try_from(n).unwrap_or(usize::MAX);
    }
    let mut db = ctx.db();
    Ok(match db.peek(&key) {
        None => Reply::Nil,
        Some(e) => Reply::Int(usage::key_usage(&key, e.value(), samples) as i64),
    })
}

/// The figures MEMORY STATS and INFO memory share.
pub struct Overview {
    /// `used_memory`: bytes allocated now.
    pub used: u64,
    /// `used_memory_peak`: the most bytes ever allocated.
    pub peak: u64,
    /// `used_memory_startup`: bytes allocated once the server had started.
    pub startup: u64,
    /// `used_memory_rss`: the resident set size, bytes.
    pub rss: u64,
    /// `mem_clients_normal`: client buffers, bytes (see [`clients_memory`]).
    pub clients_normal: u64,
    /// `mem_aof_buffer`: the AOF's buffers, bytes (`Aof::buffer_memory`).
    pub aof_buffer: u64,
    /// Per non-empty database: `(db, main table overhead, expires overhead)`.
    pub dbs: Vec<(usize, u64, u64)>,
    /// Keys in every database.
    pub keys: u64,
}

impl Overview {
    /// Bookkeeping that is not data: startup memory, clients, the tables.
    pub fn overhead(&self) -> u64 {
        self.startup
            + self.clients_normal
            + self.aof_buffer
            + self.dbs.iter().map(|(_, m, e)| m + e).sum::<u64>()
    }

    /// `used_memory_dataset`.
    pub fn dataset(&self) -> u64 {
        self.used.saturating_sub(self.overhead())
    }

    fn dataset_perc(&self) -> f64 {
        let net = self.used.saturating_sub(self.startup);
        if net == 0 {
            0.0
        } else {
            self.dataset() as f64 * 100.0 / net as f64
        }
    }
}

/// Memory of every client's buffers (INFO `mem_clients_normal`), as CLIENT LIST's `tot-mem`
/// counts them.
pub fn clients_memory(shared: &Shared) -> u64 {
    shared
        .clients
        .iter()
        .map(|c| {
            let (omem, _) = c.outbox.stats();
            let m = c.meta.lock();
            (m.query_buf + m.query_buf_free + m.argv_mem + m.out_buf + c.outbox.inflight() + omem)
                as u64
        })
        .sum()
}

/// Gathers the [`Overview`]; needs every shard locked (INFO and MEMORY STATS are global).
pub fn overview(ctx: &mut Ctx) -> Overview {
    let shared = ctx.shared;
    let used = shared.memory.used();
    let mut dbs = Vec::new();
    let mut keys = 0;
    for db in 0..shared.keyspace.databases() {
        let (n, main, expires) = ctx.locked().db_overhead(db);
        if n > 0 {
            dbs.push((db, main as u64, expires as u64));
            keys += n as u64;
        }
    }
    Overview {
        used,
        peak: (memory::peak_memory() as u64).max(used),
        startup: shared.startup_memory.min(used),
        rss: memory::rss() as u64,
        clients_normal: clients_memory(shared),
        aof_buffer: shared.mem_not_counted_for_evict(),
        dbs,
        keys,
    }
}

/// `MEMORY STATS` — O(databases): Redis's fields, from our counters.
fn stats(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let o = overview(ctx);
    let int = |v: u64| Reply::Int(v.min(i64::MAX as u64) as i64);
    let name = |s: &str| Reply::Bulk(Bytes::copy_from_slice(s.as_bytes()));
    let ratio = |a: u64, b: u64| a as f64 / b.max(1) as f64;
    let mut m: Vec<(Reply, Reply)> = vec![
        (name("peak.allocated"), int(o.peak)),
        (name("total.allocated"), int(o.used)),
        (name("startup.allocated"), int(o.startup)),
        (name("replication.backlog"), int(0)),
        (name("clients.slaves"), int(0)),
        (name("clients.normal"), int(o.clients_normal)),
        (name("cluster.links"), int(0)),
        (name("aof.buffer"), int(o.aof_buffer)),
        (name("lua.caches"), int(0)),
        (name("functions.caches"), int(0)),
    ];
    for (db, main, expires) in &o.dbs {
        m.push((
            name(&format!("db.{db}")),
            Reply::Map(vec![
                (name("overhead.hashtable.main"), int(*main)),
                (name("overhead.hashtable.expires"), int(*expires)),
                (name("overhead.hashtable.slot-to-keys"), int(0)),
            ]),
        ));
    }
    let net = o.used.saturating_sub(o.startup);
    let per_key = net.checked_div(o.keys).unwrap_or(0);
    m.extend([
        (name("overhead.total"), int(o.overhead())),
        (name("keys.count"), int(o.keys)),
        (name("keys.bytes-per-key"), int(per_key)),
        (name("dataset.bytes"), int(o.dataset())),
        (name("dataset.percentage"), Reply::Double(o.dataset_perc())),
        (
            name("peak.percentage"),
            Reply::Double(ratio(o.used, o.peak) * 100.0),
        ),
        (name("allocator.allocated"), int(o.used)),
        (name("allocator.active"), int(o.used)),
        (name("allocator.resident"), int(o.rss)),
        (name("allocator-fragmentation.ratio"), Reply::Double(1.0)),
        (name("allocator-fragmentation.bytes"), int(0)),
        (
            name("allocator-rss.ratio"),
            Reply::Double(ratio(o.rss, o.used)),
        ),
        (
            name("allocator-rss.bytes"),
            Reply::Int(o.rss as i64 - o.used as i64),
        ),
        (name("rss-overhead.ratio"), Reply::Double(1.0)),
        (name("rss-overhead.bytes"), int(0)),
        (name("fragmentation"), Reply::Double(ratio(o.rss, o.used))),
        (
            name("fragmentation.bytes"),
            Reply::Int(o.rss as i64 - o.used as i64),
        ),
    ]);
    Ok(Reply::Map(m))
}

/// `MEMORY DOCTOR` — O(1): a short report on what looks wrong, in our own words.
fn doctor(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let used = ctx.shared.memory.used();
    let peak = (memory::peak_memory() as u64).max(used);
    let rss = memory::rss() as u64;
    let max = ctx.shared.memory.maxmemory.load(Ordering::Relaxed);
    let mut issues = Vec::new();
    if used < 5 * 1024 * 1024 {
        return Ok(Reply::Verbatim(
            "txt",
            Bytes::from_static(
                b"This instance holds very little data (under 5 MB): there is nothing to diagnose yet.",
            ),
        ));
    }
    if peak > used.saturating_mul(3) / 2 {
        issues.push(format!(
            " * Peak memory: used memory peaked at {}, more than 150% of the {} in use now. Fragmentation figures may reflect that peak.",
            memory::human_bytes(peak),
            memory::human_bytes(used)
        ));
    }
    if rss > used.saturating_mul(14) / 10 {
        issues.push(format!(
            " * High RSS: the process's resident memory ({}) is more than 1.4 times what it has allocated ({}); the allocator keeps freed pages, often after a larger peak.",
            memory::human_bytes(rss),
            memory::human_bytes(used)
        ));
    }
    if max != 0 && used > max {
        issues.push(format!(
            " * Over maxmemory: {} in use against a limit of {} (policy {}).",
            memory::human_bytes(used),
            memory::human_bytes(max),
            ctx.shared.memory.policy().as_str()
        ));
    }
    let text = if issues.is_empty() {
        "No memory problems found in this instance.".to_string()
    } else {
        format!(
            "A few memory issues were found in this instance:\n\n{}\n",
            issues.join("\n\n")
        )
    };
    Ok(Reply::Verbatim("txt", Bytes::from(text)))
}

/// `MEMORY MALLOC-STATS` — O(1): the counting allocator's figures (Redis prints jemalloc's
/// report; with the system allocator it answers a fixed line, as we do with ours).
fn malloc_stats(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let used = ctx.shared.memory.used();
    let text = format!(
        "Stats not supported for the current allocator (libc, counted): allocated={} peak={} resident={}",
        used,
        memory::peak_memory(),
        memory::rss()
    );
    Ok(Reply::Verbatim("txt", Bytes::from(text)))
}

/// `MEMORY PURGE` — O(1): the system allocator returns memory by itself; answers OK as
/// Redis does with an allocator that has nothing to purge.
fn purge(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Reply::Ok)
}

/// `MEMORY HELP`.
fn help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let Reply::Array(mut lines) = help_reply(
        "MEMORY",
        &[
            ("DOCTOR", "Return memory problems reports."),
            (
                "MALLOC-STATS",
                "Return internal statistics report from the memory allocator.",
            ),
            (
                "PURGE",
                "Attempt to purge dirty pages for reclamation by the allocator.",
            ),
            (
                "STATS",
                "Return information about the memory usage of the server.",
            ),
            (
                "USAGE <key> [SAMPLES <count>]",
                "Return memory in bytes used by <key> and its value. Nested values are",
            ),
            ("HELP", "Prints this help."),
        ],
    ) else {
        return Ok(Reply::Nil);
    };
    // USAGE's description takes two lines.
    let at = lines.len() - 2;
    lines.insert(
        at,
        Reply::Status("    sampled up to <count> times (default: 5, 0 means sample all).".into()),
    );
    Ok(Reply::Array(lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenacity_budget_follows_redis_curve() {
        assert_eq!(time_limit(0), Some(std::time::Duration::ZERO));
        assert_eq!(time_limit(10), Some(std::time::Duration::from_micros(500)));
        assert!(time_limit(20).unwrap() > std::time::Duration::from_micros(2000));
        assert_eq!(time_limit(100), None);
    }
}
