//! The operator's commands: SLOWLOG, LATENCY, MONITOR, TIME, LASTSAVE, ROLE and DEBUG (a
//! subset, behind `enable-debug-command`). The state they read lives in [`crate::ops`];
//! CLIENT PAUSE/UNPAUSE are in `connection.rs` with the rest of CLIENT.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::connection::help_reply;
use super::table::*;
use super::Ctx;
use crate::protocol::{Args, CmdError, CmdResult, Reply};

const ADMIN_ONLY: u32 = ADMIN | LOADING | STALE;
const LATENCY_FLAGS: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const LATENCY_TIPS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
];

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::container(
        "slowlog",
        0,
        "A container for slow log commands.",
        SLOWLOG_SUBS,
    )
    .doc("A container for slow log commands.", "2.2.12"),
    CommandSpec::container(
        "latency",
        0,
        "A container for latency diagnostics commands.",
        LATENCY_SUBS,
    )
    .doc("A container for latency diagnostics commands.", "2.8.13"),
    CommandSpec::new(
        "monitor",
        1,
        ADMIN | NOSCRIPT | LOADING | STALE,
        0,
        Keys::NONE,
        monitor,
    )
    .doc(
        "Listens for all requests received by the server in real-time.",
        "1.0.0",
    ),
    CommandSpec::new("time", 1, LOADING | STALE | FAST, 0, Keys::NONE, time)
        .doc("Returns the server time.", "2.6.0")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new(
        "lastsave",
        1,
        LOADING | STALE | FAST,
        CAT_ADMIN | DANGEROUS,
        Keys::NONE,
        lastsave,
    )
    .doc(
        "Returns the Unix timestamp of the last successful save to disk.",
        "1.0.0",
    )
    .tips(&["nondeterministic_output"]),
    CommandSpec::new(
        "role",
        1,
        NOSCRIPT | LOADING | STALE | FAST,
        CAT_ADMIN | DANGEROUS,
        Keys::NONE,
        role,
    )
    .doc("Returns the replication role.", "2.8.12"),
    CommandSpec::new(
        "debug",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE | GLOBAL,
        0,
        Keys::NONE,
        debug,
    )
    .doc("A container for debugging commands.", "1.0.0"),
];

const SLOWLOG_SUBS: &[CommandSpec] = &[
    CommandSpec::new("slowlog|get", -2, ADMIN_ONLY, 0, Keys::NONE, slowlog_get)
        .doc("Returns the slow log's entries.", "2.2.12")
        .tips(&["request_policy:all_nodes", "nondeterministic_output"]),
    CommandSpec::new("slowlog|len", 2, ADMIN_ONLY, 0, Keys::NONE, slowlog_len)
        .doc("Returns the number of entries in the slow log.", "2.2.12")
        .tips(&[
            "request_policy:all_nodes",
            "response_policy:agg_sum",
            "nondeterministic_output",
        ]),
    CommandSpec::new("slowlog|reset", 2, ADMIN_ONLY, 0, Keys::NONE, slowlog_reset)
        .doc("Clears all entries from the slow log.", "2.2.12")
        .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "slowlog|help",
        2,
        LOADING | STALE,
        0,
        Keys::NONE,
        slowlog_help,
    )
    .doc("Show helpful text about the different subcommands", "6.2.0"),
];

const LATENCY_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "latency|latest",
        2,
        LATENCY_FLAGS,
        0,
        Keys::NONE,
        latency_latest,
    )
    .doc(
        "Returns the latest latency samples for all events.",
        "2.8.13",
    )
    .tips(LATENCY_TIPS),
    CommandSpec::new(
        "latency|history",
        3,
        LATENCY_FLAGS,
        0,
        Keys::NONE,
        latency_history,
    )
    .doc("Returns timestamp-latency samples for an event.", "2.8.13")
    .tips(LATENCY_TIPS),
    CommandSpec::new(
        "latency|reset",
        -2,
        LATENCY_FLAGS,
        0,
        Keys::NONE,
        latency_reset,
    )
    .doc("Resets the latency data for one or more events.", "2.8.13")
    .tips(&["request_policy:all_nodes", "response_policy:agg_sum"]),
    CommandSpec::new(
        "latency|doctor",
        2,
        LATENCY_FLAGS,
        0,
        Keys::NONE,
        latency_doctor,
    )
    .doc(
        "Returns a human-readable latency analysis report.",
        "2.8.13",
    )
    .tips(LATENCY_TIPS),
    CommandSpec::new(
        "latency|graph",
        3,
        LATENCY_FLAGS,
        0,
        Keys::NONE,
        latency_graph,
    )
    .doc("Returns a latency graph for an event.", "2.8.13")
    .tips(LATENCY_TIPS),
    CommandSpec::new(
        "latency|histogram",
        -2,
        LATENCY_FLAGS,
        0,
        Keys::NONE,
        latency_histogram,
    )
    .doc(
        "Returns the cumulative distribution of latencies of a subset or all commands.",
        "7.0.0",
    )
    .tips(LATENCY_TIPS),
    CommandSpec::new(
        "latency|help",
        2,
        LOADING | STALE,
        0,
        Keys::NONE,
        latency_help,
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "2.8.13",
    ),
];

/// `SLOWLOG GET [count]` — O(N) in the entries returned. `count` defaults to 10; -1 means
/// every entry.
fn slowlog_get(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let count =
        match args.remaining() {
            0 => Some(10),
            1 => {
                let n = crate::protocol::number::parse_i64(&args.next_bytes()?);
                match n {
                    Some(-1) => None,
                    Some(n) if n >= 0 => Some(n as usize),
                    _ => {
                        return Err(CmdError::new(
                            "ERR count should be greater than or equal to -1",
                        ))
                    }
                }
            }
            _ => return Err(CmdError::new(
                "ERR unknown subcommand or wrong number of arguments for 'get'. Try SLOWLOG HELP.",
            )),
        };
    let entries = ctx.shared.ops.slowlog_get(count);
    Ok(Reply::Array(
        entries
            .into_iter()
            .map(|e| {
                Reply::Array(vec![
                    Reply::Int(e.id as i64),
                    Reply::Int(e.time as i64),
                    Reply::Int(e.usec as i64),
                    Reply::Array(e.argv.into_iter().map(Reply::Bulk).collect()),
                    Reply::bulk(e.addr),
                    Reply::Bulk(e.name),
                ])
            })
            .collect(),
    ))
}

/// `SLOWLOG LEN` — O(1).
fn slowlog_len(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Reply::Int(ctx.shared.ops.slowlog_len() as i64))
}

/// `SLOWLOG RESET` — O(N) in the entries dropped.
fn slowlog_reset(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.shared.ops.slowlog_reset();
    Ok(Reply::Ok)
}

/// `SLOWLOG HELP`.
fn slowlog_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "SLOWLOG",
        &[
            (
                "GET [<count>]",
                "Show the newest <count> slow log entries (10 by default, -1 for all). Each entry holds: an id, the Unix time, the run time in microseconds, the arguments, the client's address and the client's name.",
            ),
            ("LEN", "Show how many entries the slow log holds."),
            ("RESET", "Empty the slow log."),
            ("HELP", "Print this help."),
        ],
    ))
}

/// `LATENCY LATEST` — O(events): `[event, time, latest ms, max ms]` per event.
fn latency_latest(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let events = ctx.shared.ops.latency_events();
    Ok(Reply::Array(
        events
            .into_iter()
            .map(|(name, s)| {
                let (t, ms) = s.latest();
                Reply::Array(vec![
                    Reply::bulk(name),
                    Reply::Int(t as i64),
                    Reply::Int(ms as i64),
                    Reply::Int(s.max as i64),
                ])
            })
            .collect(),
    ))
}

fn series(ctx: &Ctx, event: &[u8]) -> Option<crate::ops::LatencySeries> {
    ctx.shared
        .ops
        .latency_events()
        .into_iter()
        .find(|(n, _)| n.as_bytes() == event)
        .map(|(_, s)| s)
}

/// `LATENCY HISTORY event` — O(samples): `[time, ms]` pairs, oldest first.
fn latency_history(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let event = args.next_bytes()?;
    let history = series(ctx, &event).map(|s| s.history()).unwrap_or_default();
    Ok(Reply::Array(
        history
            .into_iter()
            .map(|(t, ms)| Reply::Array(vec![Reply::Int(t as i64), Reply::Int(ms as i64)]))
            .collect(),
    ))
}

/// `LATENCY RESET [event ...]` — O(events): the number of events reset.
fn latency_reset(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let events = args.rest();
    Ok(Reply::Int(ctx.shared.ops.latency_reset(&events) as i64))
}

/// `LATENCY DOCTOR` — a plain-text summary of the recorded events (our own wording).
fn latency_doctor(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let events = ctx.shared.ops.latency_events();
    let threshold = ctx.shared.ops.latency_threshold.load(Ordering::Relaxed);
    let mut out = String::new();
    if events.is_empty() {
        if threshold == 0 {
            out.push_str("The latency monitor is off: set latency-monitor-threshold (in milliseconds) with CONFIG SET to record events.\n");
        } else {
            out.push_str("No latency spike at or above the threshold was recorded.\n");
        }
    } else {
        out.push_str("Latency events recorded:\n\n");
        for (i, (name, s)) in events.iter().enumerate() {
            let h = s.history();
            let avg = h.iter().map(|x| x.1).sum::<u64>() / (h.len().max(1) as u64);
            let (t, ms) = s.latest();
            out.push_str(&format!(
                "{}. {name}: {} spikes (one per second at most), average {avg}ms, worst {}ms, latest {ms}ms at {t}.\n",
                i + 1,
                h.len(),
                s.max
            ));
        }
        out.push_str("\nSlow commands are listed by SLOWLOG GET; LATENCY HISTOGRAM shows each command's latency distribution.\n");
    }
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

/// `LATENCY GRAPH event` — an ASCII chart of the event's samples, oldest on the left (our
/// own layout).
fn latency_graph(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let event = args.next_bytes()?;
    let Some(s) = series(ctx, &event) else {
        return Err(CmdError::msg(format!(
            "ERR No samples available for event '{}'",
            String::from_utf8_lossy(&event)
        )));
    };
    let h = s.history();
    let max = h.iter().map(|x| x.1).max().unwrap_or(0).max(1);
    let min = h.iter().map(|x| x.1).min().unwrap_or(0);
    let (latest_t, _) = s.latest();
    let now = ctx.shared.now_ms() / 1000;
    let mut out = format!(
        "{} - high {max} ms, low {min} ms (all time high {} ms)\n",
        String::from_utf8_lossy(&event),
        s.max
    );
    out.push_str(&"-".repeat(80));
    out.push('\n');
    const ROWS: u64 = 4;
    for row in (1..=ROWS).rev() {
        let line: String = h
            .iter()
            .map(|&(_, ms)| if ms * ROWS >= row * max { '#' } else { ' ' })
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let ages: Vec<String> = h
        .iter()
        .map(|&(t, _)| format!("{}s", now.saturating_sub(t)))
        .collect();
    out.push_str(&format!(
        "\nsamples, oldest first (age): {}\nlatest sample at {latest_t}\n",
        ages.join(" ")
    ));
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

/// `LATENCY HISTOGRAM [command ...]` — O(N) in the commands reported: per command its calls
/// and cumulative counts per power-of-two microsecond bucket (commands never called are
/// left out).
fn latency_histogram(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let names = args.rest();
    let rows = super::rows_by_id();
    let mut wanted: Vec<usize> = Vec::new();
    if names.is_empty() {
        wanted.extend(0..rows.len());
    } else {
        for n in &names {
            let spec = match n.iter().position(|&b| b == b'|') {
                Some(bar) => {
                    super::lookup(&n[..bar]).and_then(|c| super::lookup_sub(c, &n[bar + 1..]))
                }
                None => super::lookup(n),
            };
            let Some(spec) = spec else { continue };
            // A container stands for its subcommands.
            let specs: Vec<&CommandSpec> = if spec.subcommands.is_empty() {
                vec![spec]
            } else {
                spec.subcommands.iter().collect()
            };
            for s in specs {
                if let Some(id) = super::command_id(s) {
                    if !wanted.contains(&id) {
                        wanted.push(id);
                    }
                }
            }
        }
    }
    let stats = ctx.shared.ops.stats.rows(true);
    let mut out = Vec::new();
    for id in wanted {
        let (Some(st), Some(spec)) = (stats.get(id), rows.get(id)) else {
            continue;
        };
        if st.calls == 0 {
            continue;
        }
        out.push((
            Reply::bulk(spec.name),
            Reply::Map(vec![
                (Reply::bulk("calls"), Reply::Int(st.calls as i64)),
                (
                    Reply::bulk("histogram_usec"),
                    Reply::Map(
                        crate::ops::power_of_two_cdf(&st.hist)
                            .into_iter()
                            .map(|(us, n)| (Reply::Int(us as i64), Reply::Int(n as i64)))
                            .collect(),
                    ),
                ),
            ]),
        ));
    }
    Ok(Reply::Map(out))
}

/// `LATENCY HELP`.
fn latency_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "LATENCY",
        &[
            ("DOCTOR", "Summarise the recorded latency events."),
            (
                "GRAPH <event>",
                "Draw the samples of <event> as an ASCII chart.",
            ),
            (
                "HISTORY <event>",
                "List the (time, latency) samples of <event>.",
            ),
            ("LATEST", "List each event's latest and worst latency."),
            (
                "RESET [<event> ...]",
                "Forget the samples of the given events, or of all.",
            ),
            (
                "HISTOGRAM [COMMAND ...]",
                "Show the latency distribution of the given commands, or of every command called.",
            ),
            ("HELP", "Print this help."),
        ],
    ))
}

/// `MONITOR` — from now on this client receives a line for every command run by any client.
/// A second MONITOR is not answered, as in Redis.
fn monitor(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    if ctx.session.in_exec {
        return Err(CmdError::new(
            "ERR MONITOR isn't allowed for DENY BLOCKING client",
        ));
    }
    if ctx.session.monitor {
        return Ok(Reply::Multi(Vec::new()));
    }
    ctx.session.monitor = true;
    ctx.session.meta().monitor = true;
    ctx.shared.ops.add_monitor(ctx.session.handle.clone());
    Ok(Reply::Ok)
}

/// `TIME` — O(1): Unix seconds and microseconds, as two bulk strings.
fn time(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    let micros = if ctx.shared.clock().is_manual() {
        ctx.shared.now_ms() * 1000
    } else {
        crate::ops::unix_micros()
    };
    Ok(Reply::Array(vec![
        Reply::bulk((micros / 1_000_000).to_string()),
        Reply::bulk((micros % 1_000_000).to_string()),
    ]))
}

/// `LASTSAVE` — O(1).
fn lastsave(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Reply::Int(
        ctx.shared.ops.lastsave.load(Ordering::Relaxed) as i64
    ))
}

/// `ROLE` — O(1): always a master without replicas.
fn role(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Reply::Array(vec![
        Reply::bulk("master"),
        Reply::Int(0),
        Reply::Array(Vec::new()),
    ]))
}

/// Whether DEBUG may run for this client (`enable-debug-command`: no, yes, or local —
/// loopback connections only).
fn debug_allowed(ctx: &Ctx) -> bool {
    let mode = ctx.shared.config.read().enable_debug_command;
    match mode {
        crate::config::DebugCommand::Yes => true,
        crate::config::DebugCommand::No => false,
        crate::config::DebugCommand::Local => {
            let addr = &ctx.session.handle.addr;
            addr.starts_with("127.") || addr.starts_with("[::1]") || addr.starts_with("unix:")
        }
    }
}

/// `DEBUG subcommand ...` — the subset we support: SLEEP, SET-ACTIVE-EXPIRE, OBJECT,
/// CHANGE-REPL-ID, QUICKLIST-PACKED-THRESHOLD and HELP.
fn debug(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if !debug_allowed(ctx) {
        return Err(CmdError::new(
            "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
        ));
    }
    let sub = args.next_bytes()?;
    let lower = sub.to_ascii_lowercase();
    let n = args.remaining();
    match (lower.as_slice(), n) {
        (b"help", 0) => Ok(help_reply(
            "DEBUG",
            &[
                ("CHANGE-REPL-ID", "Give the server a new replication id."),
                (
                    "OBJECT <key>",
                    "Show low-level information about the key's value.",
                ),
                (
                    "QUICKLIST-PACKED-THRESHOLD <size>",
                    "Set the size above which list elements are stored apart.",
                ),
                (
                    "SET-ACTIVE-EXPIRE <0|1>",
                    "Turn the background expiry cycle off or on.",
                ),
                (
                    "SLEEP <seconds>",
                    "Pause the server for <seconds> (decimals allowed).",
                ),
                ("HELP", "Print this help."),
            ],
        )),
        (b"sleep", 1) => {
            let secs = args.next_f64()?;
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
            }
            Ok(Reply::Ok)
        }
        (b"set-active-expire", 1) => {
            let on = args.next_i64()?;
            ctx.shared
                .ops
                .active_expire
                .store(on != 0, Ordering::Relaxed);
            Ok(Reply::Ok)
        }
        (b"change-repl-id", 0) => Ok(Reply::Ok),
        (b"quicklist-packed-threshold", 1) => {
            // A memory value (`1k`, `2mb`…) up to 4 GB less 1 MB; 0 means the default.
            let v = args.next_bytes()?;
            let ok = std::str::from_utf8(&v)
                .ok()
                .and_then(crate::config::parse_memory)
                .is_some_and(|n| n <= (1u64 << 32) - (1 << 20));
            if !ok {
                return Err(CmdError::new(
                    "ERR argument must be a memory value bigger than 1 and smaller than 4gb",
                ));
            }
            Ok(Reply::Ok)
        }
        (b"object", 1) => {
            let key = args.next_bytes()?;
            let now = ctx.now();
            let info = ctx.db().peek(&key).map(|e| {
                let idle = now.saturating_sub(e.access_ms()) / 1000;
                format!(
                    "Value at:{:p} refcount:{} encoding:{} serializedlength:0 lru:{} lru_seconds_idle:{idle}",
                    e as *const _,
                    e.value().refcount(),
                    e.value().encoding(),
                    (e.access_ms() / 1000) & ((1 << 24) - 1),
                )
            });
            match info {
                Some(text) => Ok(Reply::Status(text.into())),
                None => Err(CmdError::new("ERR no such key")),
            }
        }
        _ => Err(CmdError::msg(format!(
            "ERR unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(&sub)
        ))),
    }
}
