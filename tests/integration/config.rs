//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP, and settings changed at run time reaching
//! connections that were already open.

use emberkv::{Config, Server};

use crate::common::*;

/// `field:value` of one INFO line, as a number.
fn info_field(c: &mut redis::Connection, section: &str, name: &str) -> u64 {
    let info: String = q(c, &["INFO", section]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} in INFO"))
        .parse()
        .expect("number")
}

#[test]
fn config_get_takes_globs_and_several_patterns() {
    let s = server();
    let mut c = con(&s);
    let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "maxmemory*", "hz", "timeout"]);
    let pairs: Vec<(&str, &str)> = got
        .chunks_exact(2)
        .map(|p| (p[0].as_str(), p[1].as_str()))
        .collect();
    let mut names: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "hz",
            "maxmemory",
            "maxmemory-eviction-tenacity",
            "maxmemory-policy",
            "maxmemory-samples",
            "timeout"
        ]
    );
    assert!(pairs.contains(&("maxmemory-policy", "noeviction")));
    assert!(pairs.contains(&("hz", "10")));

    // Aliases match too, and an unknown exact name is simply absent.
    let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "lua-time-limit", "nosuch"]);
    assert_eq!(got, ["lua-time-limit", "5000"]);

    // RESP3: a map.
    let mut c3 = con3(&s);
    let reply = v(&mut c3, &["CONFIG", "GET", "appendfsync"]);
    assert_eq!(
        reply,
        redis::Value::Map(vec![(bulk("appendfsync"), bulk("everysec"))])
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "GET"]),
        "ERR wrong number of arguments for 'config|get' command"
    );
}

#[test]
fn config_set_applies_all_pairs_or_none() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(
        err(
            &mut c,
            &[
                "CONFIG",
                "SET",
                "maxmemory",
                "10mb",
                "maxmemory-policy",
                "sometimes"
            ]
        ),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) \
         must be one of the following: volatile-lru, volatile-lfu, volatile-random, \
         volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
    );
    let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "maxmemory"]);
    assert_eq!(got, ["maxmemory", "0"]);

    let _: () = q(
        &mut c,
        &[
            "CONFIG",
            "SET",
            "maxmemory",
            "10mb",
            "maxmemory-policy",
            "allkeys-lru",
        ],
    );
    let got: Vec<String> = q(&mut c, &["CONFIG", "GET", "maxmemory", "maxmemory-policy"]);
    assert_eq!(
        got,
        ["maxmemory", "10485760", "maxmemory-policy", "allkeys-lru"]
    );
    assert_eq!(info_field_str(&mut c, "maxmemory_policy"), "allkeys-lru");

    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "foo", "1"]),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "hz", "1", "foo"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "port", "1"]),
        "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"
    );
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "hz", "1", "HZ", "2"]),
        "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"
    );
}

fn info_field_str(c: &mut redis::Connection, name: &str) -> String {
    let info: String = q(c, &["INFO"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn timeout_set_later_closes_an_already_open_idle_connection() {
    let s = server();
    let mut idle = Raw::connect(&s);
    assert_eq!(idle.call(&["PING"]), "+PONG\r\n");
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "timeout", "1"]);
    // The idle connection is closed within about two seconds (the read waits up to 10 s).
    idle.assert_closed();
}

#[test]
fn proto_max_bulk_len_set_later_applies_to_an_open_connection() {
    let s = server();
    let mut r = Raw::connect(&s);
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    r.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n");
    assert_eq!(
        String::from_utf8_lossy(&r.reply()),
        "-ERR Protocol error: invalid bulk length\r\n"
    );
    r.assert_closed();
}

#[test]
fn requirepass_set_later_keeps_open_connections_logged_in() {
    let s = server();
    let mut old = con(&s);
    let _: () = q(&mut old, &["CONFIG", "SET", "requirepass", "pw"]);
    assert_eq!(q::<String>(&mut old, &["PING"]), "PONG");
    let mut new = Raw::connect(&s);
    assert_eq!(new.call(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(new.call(&["AUTH", "pw"]), "+OK\r\n");
    // Clearing the password lets a connection that never logged in through.
    let mut waiting = Raw::connect(&s);
    let _: () = q(&mut old, &["CONFIG", "SET", "requirepass", ""]);
    assert_eq!(waiting.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn resetstat_zeroes_info_stats() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let _: Option<String> = q(&mut c, &["GET", "k"]);
    let _: Option<String> = q(&mut c, &["GET", "missing"]);
    let _ = err(&mut c, &["INCR", "k"]);
    assert!(info_field(&mut c, "stats", "keyspace_hits") >= 1);
    assert!(info_field(&mut c, "stats", "total_error_replies") >= 1);
    let dirty = info_field(&mut c, "persistence", "rdb_changes_since_last_save");

    let _: () = q(&mut c, &["CONFIG", "RESETSTAT"]);
    assert_eq!(info_field(&mut c, "stats", "keyspace_hits"), 0);
    assert_eq!(info_field(&mut c, "stats", "keyspace_misses"), 0);
    assert_eq!(info_field(&mut c, "stats", "total_error_replies"), 0);
    assert_eq!(info_field(&mut c, "stats", "total_connections_received"), 0);
    // Only the four INFOs above and this one have run since, as Redis counts them.
    assert_eq!(info_field(&mut c, "stats", "total_commands_processed"), 5);
    // Changes since the last save are not a statistic.
    assert_eq!(
        info_field(&mut c, "persistence", "rdb_changes_since_last_save"),
        dirty
    );
}

#[test]
fn rewrite_needs_a_config_file() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(
        err(&mut c, &["CONFIG", "REWRITE"]),
        "ERR The server is running without a config file"
    );
    let help: Vec<String> = q(&mut c, &["CONFIG", "HELP"]);
    assert_eq!(
        help[0],
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    );
    assert!(help.iter().any(|l| l == "REWRITE"));
}

#[test]
fn rewrite_updates_the_file_keeping_comments_and_order() {
    let dir = std::env::temp_dir().join(format!("emberkv-it-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("emberkv.conf");
    std::fs::write(
        &path,
        "# my server\nport 0\n\n# idle clients\ntimeout 30\nTIMEOUT 40\nloglevel notice\n",
    )
    .expect("write config");
    let config = Config::from_file(&path).expect("loads");
    let s = Server::builder()
        .config(config)
        .start_background()
        .expect("server starts");
    let mut c = con(&s);
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "timeout", "60", "maxmemory", "1gb"],
    );
    let _: () = q(&mut c, &["CONFIG", "REWRITE"]);
    let text = std::fs::read_to_string(&path).expect("read back");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        &lines[..7],
        [
            "# my server",
            "port 0",
            "",
            "# idle clients",
            "timeout 60",
            "",
            "loglevel notice"
        ]
    );
    assert!(lines.contains(&"# Generated by CONFIG REWRITE"));
    assert!(lines.contains(&"maxmemory 1gb"));
    // The rewritten file loads to the running values.
    let back = Config::from_file(&path).expect("loads again");
    assert_eq!((back.timeout, back.maxmemory), (60, 1 << 30));
    let _ = std::fs::remove_dir_all(&dir);
}
