//! INFO: the sections and fields clients parse, with live values.

use crate::common::*;

/// `field:value` of one INFO line.
fn field(info: &str, name: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(str::to_string)
}

#[test]
fn info_reports_version_and_default_sections() {
    let s = server();
    let mut c = con(&s);
    let info: String = q(&mut c, &["INFO"]);
    assert_eq!(field(&info, "redis_version").as_deref(), Some("7.0.15"));
    assert_eq!(
        field(&info, "maxmemory_policy").as_deref(),
        Some("noeviction")
    );
    assert_eq!(field(&info, "loading").as_deref(), Some("0"));
    assert_eq!(
        field(&info, "tcp_port").as_deref(),
        Some(s.addr().port().to_string().as_str())
    );
    for header in [
        "# Server",
        "# Clients",
        "# Memory",
        "# Persistence",
        "# Stats",
        "# Replication",
        "# CPU",
        "# Cluster",
        "# Keyspace",
    ] {
        assert!(info.contains(&format!("{header}\r\n")), "missing {header}");
    }
    let used: u64 = field(&info, "used_memory").unwrap().parse().unwrap();
    assert!(used > 0);
}

#[test]
fn info_section_selects_only_that_section() {
    let s = server();
    let mut c = con(&s);
    let info: String = q(&mut c, &["INFO", "stats"]);
    assert!(info.starts_with("# Stats\r\n"));
    assert!(!info.contains("# Server"));
    let none: String = q(&mut c, &["INFO", "nosuchsection"]);
    assert_eq!(none, "");
}

#[test]
fn keyspace_hits_and_misses_count_read_lookups() {
    let s = server();
    let mut c = con(&s);
    let stats = |c: &mut redis::Connection| -> (u64, u64) {
        let info: String = q(c, &["INFO", "stats"]);
        (
            field(&info, "keyspace_hits").unwrap().parse().unwrap(),
            field(&info, "keyspace_misses").unwrap().parse().unwrap(),
        )
    };
    let _: () = q(&mut c, &["SET", "k", "1"]);
    let (h0, m0) = stats(&mut c);
    for _ in 0..3 {
        let _: String = q(&mut c, &["GET", "k"]);
    }
    let _: Option<String> = q(&mut c, &["GET", "missing"]);
    let _: i64 = q(&mut c, &["EXISTS", "missing"]);
    // writes do not count
    let _: i64 = q(&mut c, &["INCR", "counter"]);
    let (h1, m1) = stats(&mut c);
    assert_eq!((h1 - h0, m1 - m0), (3, 2));
}

#[test]
fn keyspace_section_lists_databases_with_keys() {
    let s = manual_server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["SET", "a", "1"]);
    let _: () = q(&mut c, &["SET", "b", "1", "PX", "10000"]);
    let _: () = q(&mut c, &["SELECT", "5"]);
    let _: () = q(&mut c, &["SET", "c", "1"]);
    let info: String = q(&mut c, &["INFO", "keyspace"]);
    assert_eq!(
        info,
        "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=10000\r\ndb5:keys=1,expires=0,avg_ttl=0\r\n"
    );
}

#[test]
fn counters_follow_connections_and_commands() {
    let s = server();
    let mut c = con(&s);
    let _c2 = con(&s);
    let info: String = q(&mut c, &["INFO", "clients"]);
    assert_eq!(field(&info, "connected_clients").as_deref(), Some("2"));
    let before: String = q(&mut c, &["INFO", "stats"]);
    let n0: u64 = field(&before, "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    let _: String = q(&mut c, &["PING"]);
    let after: String = q(&mut c, &["INFO", "stats"]);
    let n1: u64 = field(&after, "total_commands_processed")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(n1 - n0, 2, "PING and the second INFO");
}

#[test]
fn shutdown_closes_the_connection_and_stops_the_server() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(
        err(&mut c, &["SHUTDOWN", "SAVE", "NOSAVE"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SHUTDOWN", "ABORT"]),
        "ERR No shutdown in progress."
    );
    let mut raw = Raw::connect(&s);
    raw.send_cmd(&[b"SHUTDOWN", b"NOSAVE"]);
    raw.assert_closed();
    let addr = s.addr();
    assert!(
        eventually(std::time::Duration::from_secs(5), || {
            std::net::TcpStream::connect(addr).is_err()
        }),
        "the listener should be gone after SHUTDOWN"
    );
}
