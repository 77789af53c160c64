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
