//! `GET /metrics` in the Prometheus text format, on `metrics-port` (0 = off), so dashboards
//! built for Redis work without running an exporter beside us.
//!
//! The metric names are those oliver006/redis_exporter publishes from Redis's INFO
//! (`redis_up`, `redis_connected_clients`, `redis_memory_used_bytes`,
//! `redis_commands_processed_total`, `redis_keyspace_hits_total`, `redis_db_keys{db="db0"}`,
//! per command `redis_commands_total{cmd="get"}` and
//! `redis_commands_duration_seconds_total{cmd="get"}`…), read from the same counters as INFO.
//!
//! # Crates
//! - **HTTP: hyper 1 + hyper-util** — the HTTP/1.1 server the tokio ecosystem builds on; it
//!   runs on our runtime, and one endpoint needs nothing of a framework (axum, warp would
//!   add routing and middleware layers for a single path).
//! - **Exposition: `prometheus` (tikv)**, without default features (no protobuf): its
//!   `TextEncoder` writes the classic text format 0.0.4 that every Prometheus and
//!   Prometheus-compatible agent scrapes, with escaping and `# HELP`/`# TYPE` lines. The
//!   other candidate, `prometheus-client`, only writes OpenMetrics and appends `_total` to
//!   counter names itself, which would fight the exporter's names. A scrape builds a fresh
//!   registry from a snapshot of the counters (a few hundred series): nothing is kept or
//!   updated on the request path.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus::{
    Counter, CounterVec, Encoder, Gauge, GaugeVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::shared::Shared;

/// Serves `/metrics` on `listener` until `stop` changes.
pub(super) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            res = listener.accept() => match res {
                Ok((socket, _)) => {
                    let shared = shared.clone();
                    let stop = stop.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let shared = shared.clone();
                            async move { Ok::<_, Infallible>(respond(&req, &shared)) }
                        });
                        let conn = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(socket), service);
                        let mut stop = stop;
                        tokio::select! {
                            _ = conn => {}
                            _ = stop.changed() => {}
                        }
                    });
                }
                Err(e) => {
                    tracing::warn!("metrics accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

/// Binds the metrics listener on the host of the first `bind` address.
pub(super) async fn bind(shared: &Shared, port: u16) -> std::io::Result<TcpListener> {
    let host = shared
        .listen_addrs
        .read()
        .first()
        .map(|a| a.ip())
        .unwrap_or(std::net::IpAddr::from([127, 0, 0, 1]));
    TcpListener::bind(SocketAddr::new(host, port)).await
}

fn respond(req: &Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, ctype: &str, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header("content-type", ctype)
            .body(Full::new(Bytes::from(body)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
    };
    match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => match render(shared) {
            Ok(text) => reply(StatusCode::OK, prometheus::TEXT_FORMAT, text),
            Err(e) => reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                format!("metrics unavailable: {e}\n").into_bytes(),
            ),
        },
        (&Method::GET, "/") => reply(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            b"emberkv metrics: see /metrics\n".to_vec(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            b"not found\n".to_vec(),
        ),
    }
}

/// A fresh registry filled from the server's counters, in the text format.
pub fn render(shared: &Shared) -> prometheus::Result<Vec<u8>> {
    let r = Registry::new();
    let gauge = |name: &str, help: &str, v: f64| -> prometheus::Result<()> {
        let g = Gauge::new(name, help)?;
        g.set(v);
        r.register(Box::new(g))
    };
    let counter = |name: &str, help: &str, v: u64| -> prometheus::Result<()> {
        let c = IntCounter::new(name, help)?;
        c.inc_by(v);
        r.register(Box::new(c))
    };
    let load = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
    let now = shared.now_ms();
    let (maxclients, maxmemory, policy) = {
        let c = shared.config.read();
        (c.maxclients, c.maxmemory, c.maxmemory_policy.as_str())
    };
    let port = shared.listen_addrs.read().first().map_or(0, |a| a.port());

    let up = IntGauge::new("redis_up", "Information about the Redis instance")?;
    up.set(1);
    r.register(Box::new(up))?;
    let info = IntGaugeVec::new(
        Opts::new(
            "redis_instance_info",
            "Information about the Redis instance",
        ),
        &[
            "redis_version",
            "redis_mode",
            "role",
            "os",
            "maxmemory_policy",
            "tcp_port",
            "run_id",
            "process_id",
            "emberkv_version",
        ],
    )?;
    info.with_label_values(&[
        crate::commands::REDIS_VERSION,
        "standalone",
        "master",
        std::env::consts::OS,
        policy,
        &port.to_string(),
        &shared.run_id,
        &std::process::id().to_string(),
        env!("CARGO_PKG_VERSION"),
    ])
    .set(1);
    r.register(Box::new(info))?;
    gauge(
        "redis_uptime_in_seconds",
        "uptime_in_seconds metric",
        (now.saturating_sub(shared.started_ms) / 1000) as f64,
    )?;
    gauge(
        "redis_start_time_seconds",
        "Start time of the Redis instance since unix epoch in seconds.",
        (shared.started_ms / 1000) as f64,
    )?;

    // Clients.
    gauge(
        "redis_connected_clients",
        "connected_clients metric",
        shared.clients.len() as f64,
    )?;
    gauge(
        "redis_blocked_clients",
        "blocked_clients metric",
        shared.blocked.len() as f64,
    )?;
    gauge(
        "redis_config_maxclients",
        "config_maxclients metric",
        maxclients as f64,
    )?;

    // Memory.
    let used = shared.memory.used();
    gauge(
        "redis_memory_used_bytes",
        "memory_used_bytes metric",
        used as f64,
    )?;
    gauge(
        "redis_memory_used_rss_bytes",
        "memory_used_rss_bytes metric",
        crate::memory::rss() as f64,
    )?;
    gauge(
        "redis_memory_used_peak_bytes",
        "memory_used_peak_bytes metric",
        (crate::memory::peak_memory() as u64).max(used) as f64,
    )?;
    gauge(
        "redis_memory_used_startup_bytes",
        "memory_used_startup_bytes metric",
        shared.startup_memory.min(used) as f64,
    )?;
    gauge(
        "redis_memory_max_bytes",
        "memory_max_bytes metric",
        maxmemory as f64,
    )?;
    gauge(
        "redis_total_system_memory_bytes",
        "total_system_memory_bytes metric",
        crate::memory::total_system_memory() as f64,
    )?;

    // Stats.
    let stats = &shared.stats;
    let ks = &shared.keyspace.stats;
    let net = shared.ops.stats.net();
    let rates = shared.rates();
    counter(
        "redis_connections_received_total",
        "connections_received_total metric",
        load(&stats.connections_received),
    )?;
    counter(
        "redis_rejected_connections_total",
        "rejected_connections_total metric",
        load(&stats.rejected_connections),
    )?;
    counter(
        "redis_commands_processed_total",
        "commands_processed_total metric",
        shared.ops.stats.total_calls(),
    )?;
    gauge(
        "redis_instantaneous_ops_per_sec",
        "instantaneous_ops_per_sec metric",
        rates.ops_per_sec as f64,
    )?;
    gauge(
        "redis_instantaneous_input_kbps",
        "instantaneous_input_kbps metric",
        rates.input_kbps,
    )?;
    gauge(
        "redis_instantaneous_output_kbps",
        "instantaneous_output_kbps metric",
        rates.output_kbps,
    )?;
    counter(
        "redis_net_input_bytes_total",
        "net_input_bytes_total metric",
        net.input,
    )?;
    counter(
        "redis_net_output_bytes_total",
        "net_output_bytes_total metric",
        net.output,
    )?;
    counter(
        "redis_keyspace_hits_total",
        "keyspace_hits_total metric",
        load(&ks.hits),
    )?;
    counter(
        "redis_keyspace_misses_total",
        "keyspace_misses_total metric",
        load(&ks.misses),
    )?;
    counter(
        "redis_expired_keys_total",
        "expired_keys_total metric",
        load(&ks.expired),
    )?;
    counter(
        "redis_evicted_keys_total",
        "evicted_keys_total metric",
        load(&ks.evicted),
    )?;
    counter(
        "redis_total_error_replies",
        "total_error_replies metric",
        load(&shared.ops.error_replies),
    )?;
    gauge(
        "redis_pubsub_channels",
        "pubsub_channels metric",
        shared.pubsub.channel_count(crate::pubsub::Kind::Channel) as f64,
    )?;
    gauge(
        "redis_pubsub_patterns",
        "pubsub_patterns metric",
        shared.pubsub.numpat() as f64,
    )?;
    gauge(
        "redis_pubsubshard_channels",
        "pubsubshard_channels metric",
        shared.pubsub.channel_count(crate::pubsub::Kind::Shard) as f64,
    )?;
    gauge(
        "redis_slowlog_length",
        "Total slowlog",
        shared.ops.slowlog_len() as f64,
    )?;
    gauge(
        "redis_rdb_changes_since_last_save",
        "rdb_changes_since_last_save metric",
        load(&ks.dirty) as f64,
    )?;

    // Replication: always a master without replicas.
    gauge("redis_connected_slaves", "connected_slaves metric", 0.0)?;

    // CPU.
    let (user, sys) = crate::commands::cpu_times();
    for (name, help, v) in [
        (
            "redis_cpu_user_seconds_total",
            "cpu_user_seconds_total metric",
            user,
        ),
        (
            "redis_cpu_sys_seconds_total",
            "cpu_sys_seconds_total metric",
            sys,
        ),
    ] {
        let c = Counter::new(name, help)?;
        c.inc_by(v);
        r.register(Box::new(c))?;
    }

    // Per command.
    let calls = IntCounterVec::new(
        Opts::new("redis_commands_total", "Total number of calls per command"),
        &["cmd"],
    )?;
    let duration = CounterVec::new(
        Opts::new(
            "redis_commands_duration_seconds_total",
            "Total amount of time in seconds spent per command",
        ),
        &["cmd"],
    )?;
    let rejected = IntCounterVec::new(
        Opts::new(
            "redis_commands_rejected_calls_total",
            "Total number of errors prior command execution per command",
        ),
        &["cmd"],
    )?;
    let failed = IntCounterVec::new(
        Opts::new(
            "redis_commands_failed_calls_total",
            "Total number of errors within command execution per command",
        ),
        &["cmd"],
    )?;
    let latency = GaugeVec::new(
        Opts::new(
            "redis_latency_percentiles_usec",
            "A summary of latency percentile distribution per command",
        ),
        &["cmd", "quantile"],
    )?;
    let rows = shared.ops.stats.rows(true);
    for (spec, st) in crate::commands::rows_by_id().iter().zip(&rows) {
        if st.is_empty() {
            continue;
        }
        let cmd = [spec.name];
        calls.with_label_values(&cmd).inc_by(st.calls);
        duration
            .with_label_values(&cmd)
            .inc_by(st.nanos() as f64 / 1e9);
        rejected.with_label_values(&cmd).inc_by(st.rejected);
        failed.with_label_values(&cmd).inc_by(st.failed);
        if st.calls > 0 {
            for (q, p) in [("0.5", 50.0), ("0.99", 99.0), ("0.999", 99.9)] {
                latency
                    .with_label_values(&[spec.name, q])
                    .set(st.percentile(p) as f64 / 1000.0);
            }
        }
    }
    r.register(Box::new(calls))?;
    r.register(Box::new(duration))?;
    r.register(Box::new(rejected))?;
    r.register(Box::new(failed))?;
    r.register(Box::new(latency))?;

    let errors = IntCounterVec::new(
        Opts::new(
            "redis_errors_total",
            "Total number of errors per error type",
        ),
        &["err"],
    )?;
    for (code, n) in shared.ops.error_stats() {
        errors.with_label_values(&[code.as_str()]).inc_by(n);
    }
    r.register(Box::new(errors))?;

    // Keyspace.
    let keys = GaugeVec::new(
        Opts::new("redis_db_keys", "Total number of keys by DB"),
        &["db"],
    )?;
    let expiring = GaugeVec::new(
        Opts::new(
            "redis_db_keys_expiring",
            "Total number of expiring keys by DB",
        ),
        &["db"],
    )?;
    let avg_ttl = GaugeVec::new(
        Opts::new("redis_db_avg_ttl_seconds", "Avg TTL in seconds"),
        &["db"],
    )?;
    for db in 0..shared.keyspace.databases() {
        let (n, exp, ttl_ms) = shared.keyspace.db_stats(db, now);
        if n == 0 {
            continue;
        }
        let label = [format!("db{db}")];
        let label: Vec<&str> = label.iter().map(String::as_str).collect();
        keys.with_label_values(&label).set(n as f64);
        expiring.with_label_values(&label).set(exp as f64);
        avg_ttl
            .with_label_values(&label)
            .set(ttl_ms as f64 / 1000.0);
    }
    r.register(Box::new(keys))?;
    r.register(Box::new(expiring))?;
    r.register(Box::new(avg_ttl))?;

    let mut out = Vec::new();
    TextEncoder::new().encode(&r.gather(), &mut out)?;
    Ok(out)
}
