//! The operator's toolbox: SLOWLOG, MONITOR, INFO commandstats/errorstats, CLIENT PAUSE.

use std::time::Duration;

use crate::common::*;

#[test]
fn slowlog_records_commands_with_trimmed_arguments() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["client", "setname", "me"]);
    let _: () = q(&mut c, &["config", "set", "slowlog-log-slower-than", "0"]);
    let _: () = q(&mut c, &["slowlog", "reset"]);
    let long = "x".repeat(200);
    let _: () = q(&mut c, &["set", "k", &long]);
    let mut many = vec!["rpush", "l"];
    let items: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    many.extend(items.iter().map(|s| s.as_str()));
    let _: i64 = q(&mut c, &many);
    let mut raw = Raw::connect(&s);
    let got = raw.call(&["slowlog", "get", "2"]);
    // Newest first: the RPUSH cut to 32 arguments, then the SET with its value cut.
    assert!(got.starts_with("*2\r\n*6\r\n:"), "{got}");
    assert!(got.contains("$23\r\n... (11 more arguments)\r\n"), "{got}");
    assert!(
        got.contains(&format!("{}... (72 more bytes)", "x".repeat(128))),
        "{got}"
    );
    assert!(got.contains("$2\r\nme\r\n"), "{got}");
    let n: i64 = q(&mut c, &["slowlog", "len"]);
    assert!(n >= 3);
    let _: () = q(&mut c, &["config", "set", "slowlog-log-slower-than", "-1"]);
    let _: () = q(&mut c, &["slowlog", "reset"]);
    let _: () = q(&mut c, &["set", "k", "v"]);
    assert_eq!(q::<i64>(&mut c, &["slowlog", "len"]), 0);
    assert_eq!(
        err(&mut c, &["slowlog", "get", "-2"]),
        "ERR count should be greater than or equal to -1"
    );
}

#[test]
fn monitor_sees_other_clients_commands_including_exec() {
    let s = server();
    let mut m = Raw::connect(&s);
    assert_eq!(m.call(&["monitor"]), "+OK\r\n");
    let mut c = con(&s);
    let _: () = q(&mut c, &["set", "k", "a b\"\n"]);
    let _: () = redis::pipe()
        .atomic()
        .cmd("incr")
        .arg("n")
        .ignore()
        .query(&mut c)
        .expect("exec");
    let _ = cmd(&["auth", "secret"]).query::<redis::Value>(&mut c);
    let mut lines = Vec::new();
    // (redis-rs announces itself with CLIENT SETINFO first: skip those lines.)
    while lines.len() < 5 {
        let l = String::from_utf8_lossy(&m.reply()).into_owned();
        if !l.contains("] \"CLIENT\"") {
            lines.push(l);
        }
    }
    let tail = |l: &str| {
        l.split_once("] ")
            .map(|(_, t)| t.to_string())
            .unwrap_or_default()
    };
    assert!(
        lines[0].starts_with('+') && lines[0].contains(" [0 127.0.0.1:"),
        "{lines:?}"
    );
    assert_eq!(tail(&lines[0]), "\"set\" \"k\" \"a b\\\"\\n\"\r\n");
    assert_eq!(tail(&lines[1]), "\"MULTI\"\r\n");
    assert_eq!(tail(&lines[2]), "\"incr\" \"n\"\r\n");
    assert_eq!(tail(&lines[3]), "\"EXEC\"\r\n");
    assert_eq!(tail(&lines[4]), "\"auth\" \"(redacted)\"\r\n");
    // The monitor may not touch the keyspace, and shows as `O` in CLIENT LIST.
    assert_eq!(
        m.call(&["get", "k"]),
        "-ERR Replica can't interact with the keyspace\r\n"
    );
    let list: String = q(&mut c, &["client", "list"]);
    assert!(list.contains("flags=O"), "{list}");
}

#[test]
fn info_commandstats_and_errorstats() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["set", "k", "v"]);
    let _ = err(&mut c, &["incr", "k"]);
    let _ = err(&mut c, &["get"]);
    let _ = err(&mut c, &["lpush", "k", "x"]);
    let _: String = q(&mut c, &["client", "list"]);
    let info: String = q(&mut c, &["info", "commandstats"]);
    assert!(info.contains("cmdstat_set:calls=1,usec="), "{info}");
    assert!(
        info.contains("rejected_calls=0,failed_calls=1\r\n"),
        "{info}"
    );
    assert!(
        info.contains(
            "cmdstat_get:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"
        ),
        "{info}"
    );
    assert!(info.contains("cmdstat_client|list:calls=1"), "{info}");
    let info: String = q(&mut c, &["info", "errorstats"]);
    assert!(info.contains("errorstat_ERR:count=2\r\n"), "{info}");
    assert!(info.contains("errorstat_WRONGTYPE:count=1\r\n"), "{info}");
    let info: String = q(&mut c, &["info", "stats"]);
    assert!(info.contains("total_error_replies:3\r\n"), "{info}");
    let _: () = q(&mut c, &["config", "resetstat"]);
    let info: String = q(&mut c, &["info", "errorstats"]);
    assert_eq!(info.trim_end(), "# Errorstats");
}

#[test]
fn client_pause_write_holds_a_set_until_unpause_while_get_answers() {
    let s = server();
    let mut admin = con(&s);
    let _: () = q(&mut admin, &["set", "k", "old"]);
    let _: () = q(&mut admin, &["client", "pause", "20000", "write"]);
    let url = s.url();
    let writer = std::thread::spawn(move || {
        let mut w = redis::Client::open(url).unwrap().get_connection().unwrap();
        let _: () = redis::cmd("set").arg("k").arg("new").query(&mut w).unwrap();
    });
    let mut r = con(&s);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(q::<String>(&mut r, &["get", "k"]), "old");
    assert!(!writer.is_finished());
    let _: () = q(&mut admin, &["client", "unpause"]);
    writer.join().expect("writer");
    assert_eq!(q::<String>(&mut r, &["get", "k"]), "new");
}

#[test]
fn time_role_lastsave_and_debug_disabled() {
    let s = server();
    let mut c = con(&s);
    let t: Vec<String> = q(&mut c, &["time"]);
    assert!(t[0].parse::<u64>().unwrap() > 1_600_000_000);
    let mut raw = Raw::connect(&s);
    assert_eq!(raw.call(&["role"]), "*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n");
    assert!(q::<i64>(&mut c, &["lastsave"]) > 1_600_000_000);
    assert!(err(&mut c, &["debug", "sleep", "0"]).starts_with("ERR DEBUG command not allowed."));
}

/// A port nothing listens on right now (for `metrics-port`, where 0 means off).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `GET path` over HTTP/1.1: (status line, body).
fn http_get(port: u16, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("metrics port");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).expect("response");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

#[test]
fn metrics_endpoint_serves_the_exporters_names() {
    let port = free_port();
    let config = emberkv::Config {
        port: 0,
        metrics_port: port,
        ..Default::default()
    };
    let s = emberkv::Server::builder()
        .config(config)
        .start_background()
        .expect("server starts");
    let mut c = con(&s);
    let _: () = q(&mut c, &["set", "k", "v"]);
    let _: () = q(&mut c, &["set", "e", "v", "ex", "100"]);
    let _: String = q(&mut c, &["get", "k"]);
    let _: Option<String> = q(&mut c, &["get", "nosuch"]);
    let _ = err(&mut c, &["incr", "k"]);
    let _ = err(&mut c, &["get"]);
    let (status, body) = http_get(port, "/metrics");
    assert_eq!(status, "HTTP/1.1 200 OK");
    for line in [
        "redis_up 1",
        "redis_commands_total{cmd=\"set\"} 2",
        "redis_commands_total{cmd=\"get\"} 2",
        "redis_commands_rejected_calls_total{cmd=\"get\"} 1",
        "redis_commands_failed_calls_total{cmd=\"incr\"} 1",
        "redis_db_keys{db=\"db0\"} 2",
        "redis_db_keys_expiring{db=\"db0\"} 1",
        "redis_keyspace_hits_total 1",
        "redis_keyspace_misses_total 1",
        "redis_evicted_keys_total 0",
        "redis_errors_total{err=\"ERR\"} 2",
        "# TYPE redis_commands_processed_total counter",
        "# TYPE redis_connected_clients gauge",
    ] {
        assert!(body.lines().any(|l| l == line), "no {line:?} in\n{body}");
    }
    for prefix in [
        "redis_commands_processed_total ",
        "redis_connected_clients ",
        "redis_memory_used_bytes ",
        "redis_commands_duration_seconds_total{cmd=\"get\"} ",
        "redis_uptime_in_seconds ",
        "redis_instance_info{",
    ] {
        assert!(
            body.lines().any(|l| l.starts_with(prefix)),
            "no {prefix:?} in\n{body}"
        );
    }
    assert_eq!(http_get(port, "/nosuch").0, "HTTP/1.1 404 Not Found");
    let cfg: Vec<String> = q(&mut c, &["config", "get", "metrics-port"]);
    assert_eq!(cfg, vec!["metrics-port".to_string(), port.to_string()]);
}

#[test]
fn info_sections_follow_redis_order_for_any_selection() {
    let s = server();
    let mut c = con(&s);
    let heads = |c: &mut redis::Connection, args: &[&str]| -> Vec<String> {
        let text: String = q(c, args);
        text.lines()
            .filter(|l| l.starts_with("# "))
            .map(|l| l[2..].to_string())
            .collect()
    };
    let default = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Modules",
        "Errorstats",
        "Cluster",
        "Keyspace",
    ];
    assert_eq!(heads(&mut c, &["info"]), default);
    assert_eq!(heads(&mut c, &["info", "default"]), default);
    let all = [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Modules",
        "Commandstats",
        "Errorstats",
        "Latencystats",
        "Cluster",
        "Keyspace",
    ];
    assert_eq!(heads(&mut c, &["info", "all"]), all);
    assert_eq!(heads(&mut c, &["info", "everything"]), all);
    assert_eq!(
        heads(
            &mut c,
            &["info", "KEYSPACE", "commandstats", "server", "server"]
        ),
        ["Server", "Commandstats", "Keyspace"]
    );
    assert_eq!(q::<String>(&mut c, &["info", "nosuch"]), "");
    let text: String = q(&mut c, &["info", "server", "stats", "memory", "cpu"]);
    for field in [
        "redis_version:7.0.15\r\n",
        "emberkv_version:",
        "run_id:",
        "tcp_port:",
        "uptime_in_seconds:",
        "process_id:",
        "executable:",
        "config_file:",
        "io_threads_active:0\r\n",
        "instantaneous_input_kbps:",
        "instantaneous_output_kbps:",
        "total_reads_processed:",
        "allocator_allocated:",
        "lazyfreed_objects:",
        "used_cpu_user_main_thread:",
    ] {
        assert!(text.contains(field), "no {field} in {text}");
    }
    assert!(!text.contains("server_name"));
}

#[test]
fn latencystats_report_the_configured_percentiles() {
    let s = server();
    let mut c = con(&s);
    for _ in 0..10 {
        let _: () = q(&mut c, &["set", "k", "v"]);
    }
    let text: String = q(&mut c, &["info", "latencystats"]);
    let line = text
        .lines()
        .find(|l| l.starts_with("latency_percentiles_usec_set:"))
        .unwrap_or_else(|| panic!("{text}"));
    let rest = line.split_once(':').unwrap().1;
    let keys: Vec<&str> = rest
        .split(',')
        .map(|kv| kv.split('=').next().unwrap())
        .collect();
    assert_eq!(keys, ["p50", "p99", "p99.9"]);
    let _: () = q(
        &mut c,
        &[
            "config",
            "set",
            "latency-tracking-info-percentiles",
            "50 90.5 100",
        ],
    );
    let got: Vec<String> = q(
        &mut c,
        &["config", "get", "latency-tracking-info-percentiles"],
    );
    assert_eq!(got[1], "50 90.5 100");
    let text: String = q(&mut c, &["info", "latencystats"]);
    assert!(text.contains("latency_percentiles_usec_set:p50="), "{text}");
    assert!(text.contains(",p90.5="), "{text}");
    assert!(text.contains(",p100="), "{text}");
    assert!(err(
        &mut c,
        &["config", "set", "latency-tracking-info-percentiles", "101"]
    )
    .contains("should sit between [0.0,100.0]"));
    let _: () = q(&mut c, &["config", "set", "latency-tracking", "no"]);
    let text: String = q(&mut c, &["info", "latencystats"]);
    assert_eq!(text.trim_end(), "# Latencystats");
}

#[test]
fn commands_from_many_connections_add_up() {
    let s = server();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let url = s.url();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                for _ in 0..50 {
                    let _: () = redis::cmd("set").arg("k").arg("v").query(&mut c).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client");
    }
    let mut c = con(&s);
    let info: String = q(&mut c, &["info", "commandstats"]);
    assert!(info.contains("cmdstat_set:calls=200,"), "{info}");
    let _: () = q(&mut c, &["config", "resetstat"]);
    let _: () = q(&mut c, &["set", "k", "v"]);
    let info: String = q(&mut c, &["info", "commandstats"]);
    assert!(info.contains("cmdstat_set:calls=1,"), "{info}");
    let stats: String = q(&mut c, &["info", "stats"]);
    // CONFIG RESETSTAT itself, SET and INFO COMMANDSTATS (as Redis counts them: a command
    // counts once it finished).
    assert!(stats.contains("total_commands_processed:3\r\n"), "{stats}");
}

#[test]
fn monitor_shows_the_db_after_select_and_skips_admin_commands() {
    let s = server();
    let mut m = Raw::connect(&s);
    assert_eq!(m.call(&["monitor"]), "+OK\r\n");
    let mut c = Raw::connect(&s);
    c.call(&["select", "3"]);
    c.call(&["config", "get", "maxmemory"]);
    c.call(&["set", "a"]);
    c.call(&["get", "a"]);
    let l1 = String::from_utf8_lossy(&m.reply()).into_owned();
    let l2 = String::from_utf8_lossy(&m.reply()).into_owned();
    assert!(
        l1.contains(" [3 127.0.0.1:") && l1.ends_with("] \"select\" \"3\"\r\n"),
        "{l1}"
    );
    assert!(l2.ends_with("] \"get\" \"a\"\r\n"), "{l2}");
}

#[test]
fn slowlog_get_entries_carry_redis_fields() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["config", "set", "slowlog-log-slower-than", "0"]);
    let _: () = q(&mut c, &["config", "set", "slowlog-max-len", "3"]);
    for i in 0..5 {
        let _: () = q(&mut c, &["set", &format!("k{i}"), "v"]);
    }
    assert_eq!(q::<i64>(&mut c, &["slowlog", "len"]), 3);
    let entries: Vec<redis::Value> = q(&mut c, &["slowlog", "get", "-1"]);
    assert_eq!(entries.len(), 3);
    let redis::Value::Array(first) = &entries[0] else {
        panic!("{entries:?}")
    };
    assert_eq!(first.len(), 6);
    // Ids grow, newest first.
    let id = |v: &redis::Value| match v {
        redis::Value::Array(e) => match e[0] {
            redis::Value::Int(n) => n,
            _ => -1,
        },
        _ => -1,
    };
    assert!(id(&entries[0]) > id(&entries[1]));
    let _: () = q(&mut c, &["config", "set", "slowlog-max-len", "1"]);
    assert_eq!(q::<i64>(&mut c, &["slowlog", "len"]), 1);
}
