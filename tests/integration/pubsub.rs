//! Pub/sub: subscriptions, delivery in RESP2 and RESP3, PUBSUB introspection, subscribed
//! mode, and the output-buffer limit that disconnects a subscriber that stopped reading.

use std::io::Read;
use std::time::Duration;

use emberkv::config::{OutputLimit, OBUF_PUBSUB};
use emberkv::{Config, Server};

use crate::common::*;

#[test]
fn psubscribe_receives_publish() {
    let s = server();
    let mut sub_con = con(&s);
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe("news.*").expect("psubscribe");
    pubsub.subscribe("news.tech").expect("subscribe");
    let mut p = con(&s);
    let n: i64 = q(&mut p, &["PUBLISH", "news.tech", "rust 2.0"]);
    assert_eq!(n, 2, "channel and pattern subscriptions both count");
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut got = Vec::new();
    for _ in 0..2 {
        let msg = pubsub.get_message().expect("message");
        let payload: String = msg.get_payload().expect("payload");
        got.push((
            msg.get_channel_name().to_string(),
            msg.get_pattern::<Option<String>>().expect("pattern"),
            payload,
        ));
    }
    got.sort();
    assert_eq!(
        got,
        vec![
            ("news.tech".into(), None, "rust 2.0".into()),
            ("news.tech".into(), Some("news.*".into()), "rust 2.0".into()),
        ]
    );
    let n: i64 = q(&mut p, &["PUBLISH", "sports", "x"]);
    assert_eq!(n, 0);
}

#[test]
fn resp3_clients_get_push_frames_and_may_run_any_command() {
    let s = server();
    let mut r = Raw::connect(&s);
    assert!(r.call(&["HELLO", "3"]).starts_with("%7\r\n"));
    assert_eq!(
        r.call(&["SUBSCRIBE", "a", "b"]),
        ">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    assert_eq!(r.reply(), b">3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n");
    // Not in RESP2's subscribed mode: any command runs, PING is a plain PONG.
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
    assert_eq!(r.call(&["GET", "k"]), "_\r\n");
    let mut p = con(&s);
    let n: i64 = q(&mut p, &["PUBLISH", "a", "hello"]);
    assert_eq!(n, 1);
    assert_eq!(
        String::from_utf8_lossy(&r.reply()),
        ">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$5\r\nhello\r\n"
    );
    // Publishing to itself: the message comes before the reply, as in Redis.
    assert_eq!(
        r.call(&["PUBLISH", "b", "me"]),
        ">3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$2\r\nme\r\n"
    );
    assert_eq!(r.reply(), b":1\r\n");
    assert_eq!(
        r.call(&["UNSUBSCRIBE", "a", "zz"]),
        ">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n"
    );
    assert_eq!(r.reply(), b">3\r\n$11\r\nunsubscribe\r\n$2\r\nzz\r\n:1\r\n");
}

#[test]
fn publish_counts_receivers_and_pubsub_introspects() {
    let s = server();
    let mut a = Raw::connect(&s);
    let mut b = Raw::connect(&s);
    a.call(&["SUBSCRIBE", "c1"]);
    a.call(&["PSUBSCRIBE", "c*"]);
    b.call(&["SUBSCRIBE", "c1"]);
    b.call(&["PSUBSCRIBE", "c*"]);
    b.call(&["SSUBSCRIBE", "s1"]);
    let mut p = con(&s);
    let n: i64 = q(&mut p, &["PUBLISH", "c1", "m"]);
    assert_eq!(n, 4);
    let n: i64 = q(&mut p, &["PUBLISH", "c2", "m"]);
    assert_eq!(n, 2);
    let n: i64 = q(&mut p, &["SPUBLISH", "s1", "m"]);
    assert_eq!(n, 1);
    assert_eq!(
        v(&mut p, &["PUBSUB", "NUMSUB", "c1", "nope"]),
        redis::Value::Array(vec![
            bulk("c1"),
            redis::Value::Int(2),
            bulk("nope"),
            redis::Value::Int(0)
        ])
    );
    let n: i64 = q(&mut p, &["PUBSUB", "NUMPAT"]);
    assert_eq!(n, 1, "distinct patterns");
    let chans: Vec<String> = q(&mut p, &["PUBSUB", "CHANNELS"]);
    assert_eq!(chans, vec!["c1"]);
    let chans: Vec<String> = q(&mut p, &["PUBSUB", "CHANNELS", "x*"]);
    assert!(chans.is_empty());
    let chans: Vec<String> = q(&mut p, &["PUBSUB", "SHARDCHANNELS"]);
    assert_eq!(chans, vec!["s1"]);
    assert_eq!(
        err(&mut p, &["PUBSUB", "CHANNELS", "a", "b"]),
        "ERR unknown subcommand or wrong number of arguments for 'channels'. Try PUBSUB HELP."
    );
    let list: String = q(&mut p, &["CLIENT", "LIST", "TYPE", "pubsub"]);
    assert_eq!(list.lines().count(), 2);
    assert!(list.contains("flags=P db=0 sub=1 psub=1 ssub=1 multi=-1"));
    // Disconnecting and RESET both drop subscriptions.
    drop(a);
    // b has messages waiting; they come before RESET's reply.
    let mut frame = b.call(&["RESET"]);
    while frame.starts_with("*3\r\n$7\r\nmessage")
        || frame.starts_with("*4\r\n$8\r\npmessage")
        || frame.starts_with("*3\r\n$8\r\nsmessage")
    {
        frame = String::from_utf8_lossy(&b.reply()).into_owned();
    }
    assert_eq!(frame, "+RESET\r\n");
    assert!(eventually(Duration::from_secs(5), || {
        let n: i64 = q(&mut p, &["PUBLISH", "c1", "m"]);
        n == 0
    }));
    let n: i64 = q(&mut p, &["PUBSUB", "NUMPAT"]);
    assert_eq!(n, 0);
    let list: String = q(&mut p, &["CLIENT", "LIST", "TYPE", "pubsub"]);
    assert!(list.is_empty());
}

#[test]
fn resp2_subscribed_mode_allows_only_pubsub_commands() {
    let s = server();
    let mut r = Raw::connect(&s);
    assert_eq!(
        r.call(&["UNSUBSCRIBE"]),
        "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    );
    assert_eq!(
        r.call(&["SSUBSCRIBE", "s"]),
        "*3\r\n$10\r\nssubscribe\r\n$1\r\ns\r\n:1\r\n"
    );
    assert_eq!(
        r.call(&["GET", "a"]),
        "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(
        r.call(&["CLIENT", "INFO"]),
        "-ERR Can't execute 'client|info': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"
    );
    assert_eq!(r.call(&["PING"]), "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
    assert_eq!(r.call(&["PING", "hi"]), "*2\r\n$4\r\npong\r\n$2\r\nhi\r\n");
    // Shard subscriptions count apart from channels and patterns.
    assert_eq!(
        r.call(&["SUBSCRIBE", "c"]),
        "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
    );
    assert_eq!(
        r.call(&["SUNSUBSCRIBE"]),
        "*3\r\n$12\r\nsunsubscribe\r\n$1\r\ns\r\n:0\r\n"
    );
    assert!(r.call(&["GET", "a"]).starts_with("-ERR Can't execute"));
    assert_eq!(
        r.call(&["UNSUBSCRIBE"]),
        "*3\r\n$11\r\nunsubscribe\r\n$1\r\nc\r\n:0\r\n"
    );
    assert_eq!(r.call(&["GET", "a"]), "$-1\r\n");
    assert_eq!(r.call(&["PING"]), "+PONG\r\n");
}

#[test]
fn subscribe_confirms_before_any_message() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.call(&["SUBSCRIBE", "first"]);
    // A flood on the channel subscribed to next: its confirmation must still come first.
    let addr = s.addr();
    let flood = std::thread::spawn(move || {
        let mut p = redis::Client::open(format!("redis://{addr}/"))
            .expect("url")
            .get_connection()
            .expect("connects");
        for _ in 0..200 {
            let _: i64 = redis::cmd("PUBLISH")
                .arg("second")
                .arg("m")
                .query(&mut p)
                .expect("publish");
        }
    });
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(
        r.call(&["SUBSCRIBE", "second"]),
        "*3\r\n$9\r\nsubscribe\r\n$6\r\nsecond\r\n:2\r\n"
    );
    flood.join().expect("publisher");
    let n = r.call(&["PING"]);
    let mut frame = n;
    while frame.starts_with("*3\r\n$7\r\nmessage") {
        frame = String::from_utf8_lossy(&r.reply()).into_owned();
    }
    assert_eq!(frame, "*2\r\n$4\r\npong\r\n$0\r\n\r\n");
}

#[test]
fn a_subscriber_that_stops_reading_is_disconnected() {
    let mut config = Config {
        port: 0,
        ..Config::default()
    };
    config.client_output_buffer_limit[OBUF_PUBSUB] = OutputLimit {
        hard: 256 * 1024,
        soft: 0,
        soft_seconds: 0,
    };
    let s = Server::builder()
        .config(config)
        .start_background()
        .expect("server starts");
    let mut slow = Raw::connect(&s);
    assert_eq!(
        slow.call(&["SUBSCRIBE", "flood"]),
        "*3\r\n$9\r\nsubscribe\r\n$5\r\nflood\r\n:1\r\n"
    );
    // The subscriber reads nothing more; a publisher pushes ~8 MB at it in pipelines.
    let mut p = Raw::connect(&s);
    let payload = "x".repeat(4096);
    let mut batch = Vec::new();
    for _ in 0..64 {
        batch.extend_from_slice(
            format!(
                "*3\r\n$7\r\nPUBLISH\r\n$5\r\nflood\r\n${}\r\n{payload}\r\n",
                payload.len()
            )
            .as_bytes(),
        );
    }
    let mut receivers = Vec::new();
    for _ in 0..32 {
        p.send(&batch);
        for _ in 0..64 {
            receivers.push(p.reply());
        }
    }
    assert_eq!(
        receivers.first().map(|r| r.as_slice()),
        Some(&b":1\r\n"[..])
    );
    // Once over the limit it is gone: its subscription with it, PUBLISH still answering.
    let mut c = con(&s);
    assert!(eventually(Duration::from_secs(5), || {
        let n: Vec<redis::Value> = q(&mut c, &["PUBSUB", "NUMSUB", "flood"]);
        n.get(1) == Some(&redis::Value::Int(0))
    }));
    assert_eq!(p.call(&["PUBLISH", "flood", "late"]), ":0\r\n");
    // The subscriber's socket ends (EOF or reset) after whatever the kernel had buffered.
    slow.stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0usize;
    loop {
        match slow.stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("expected the server to close the connection: {e}"),
        }
    }
    assert!(total < 8 * 1024 * 1024, "read {total} bytes");
}

#[test]
fn unsubscribe_without_subscriptions_and_redis_crate_pubsub_roundtrip() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(
        v(&mut c, &["PUNSUBSCRIBE"]),
        redis::Value::Array(vec![
            bulk("punsubscribe"),
            redis::Value::Nil,
            redis::Value::Int(0)
        ])
    );
    let mut sub_con = con(&s);
    let mut ps = sub_con.as_pubsub();
    ps.subscribe("ch").expect("subscribe");
    ps.unsubscribe("ch").expect("unsubscribe");
    drop(ps);
    // Back in normal mode after the last unsubscribe.
    let pong: String = q(&mut sub_con, &["PING"]);
    assert_eq!(pong, "PONG");
}
