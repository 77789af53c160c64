//! Streams: XADD ID rules, blocking XREAD woken from another connection (in arrival
//! order), a consumer-group round trip, and XINFO GROUPS's `entries-read` / `lag` after a
//! mixed sequence (expected values taken from Redis 7.0.15).

use std::thread;

use redis::Value;

use crate::common::*;

#[test]
fn xadd_rejects_ids_that_do_not_grow() {
    let s = manual_server();
    let mut c = con(&s);
    let id: String = q(&mut c, &["XADD", "s", "5-1", "f", "v"]);
    assert_eq!(id, "5-1");
    for bad in ["5-1", "4-9", "5"] {
        assert_eq!(
            err(&mut c, &["XADD", "s", bad, "f", "v"]),
            "ERR The ID specified in XADD is equal or smaller than the target stream top item"
        );
    }
    assert_eq!(
        err(&mut c, &["XADD", "s", "0-0", "f", "v"]),
        "ERR The ID specified in XADD must be greater than 0-0"
    );
    assert_eq!(
        err(&mut c, &["XADD", "s", "1-x", "f", "v"]),
        "ERR Invalid stream ID specified as stream command argument"
    );
    assert_eq!(
        err(&mut c, &["XADD", "s", "6-1", "f"]),
        "ERR wrong number of arguments for 'xadd' command"
    );
    let id: String = q(&mut c, &["XADD", "s", "5-*", "f", "v"]);
    assert_eq!(id, "5-2");
    // `*` takes the server clock (manual: T0).
    let id: String = q(&mut c, &["XADD", "s", "*", "f", "v"]);
    assert_eq!(id, format!("{T0}-0"));
    let id: String = q(&mut c, &["XADD", "s", "*", "f", "v"]);
    assert_eq!(id, format!("{T0}-1"));
    let n: i64 = q(&mut c, &["XLEN", "s"]);
    assert_eq!(n, 4);
    let t: String = q(&mut c, &["TYPE", "s"]);
    assert_eq!(t, "stream");
    let _: () = q(&mut c, &["SET", "str", "x"]);
    assert!(err(&mut c, &["XADD", "str", "*", "f", "v"]).starts_with("WRONGTYPE"));
}

#[test]
fn xread_block_is_woken_by_xadd_from_another_connection() {
    let s = server();
    let mut waiter = con(&s);
    let t = thread::spawn(move || v(&mut waiter, &["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]));
    let mut c = con(&s);
    wait_blocked(&mut c, 1);
    let _: String = q(&mut c, &["XADD", "s", "7-1", "f", "v"]);
    let got = t.join().unwrap();
    assert_eq!(
        got,
        Value::Array(vec![Value::Array(vec![
            bulk("s"),
            Value::Array(vec![Value::Array(vec![
                bulk("7-1"),
                Value::Array(vec![bulk("f"), bulk("v")]),
            ])]),
        ])])
    );
    // A timeout answers a null array.
    assert_eq!(
        v(&mut c, &["XREAD", "BLOCK", "20", "STREAMS", "s", "$"]),
        Value::Nil
    );
    wait_blocked(&mut c, 0);
}

#[test]
fn two_blocked_readers_are_both_served_in_arrival_order() {
    let s = server();
    let mut c = con(&s);
    let mut handles = Vec::new();
    for i in 0..2 {
        let mut w = con(&s);
        handles.push(thread::spawn(move || {
            v(
                &mut w,
                &["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "$"],
            )
        }));
        wait_blocked(&mut c, i + 1);
    }
    let _: String = q(&mut c, &["XADD", "s", "1-1", "f", "v"]);
    let a = handles.remove(0).join().unwrap();
    let b = handles.remove(0).join().unwrap();
    // XREAD does not consume: both see the entry.
    assert_eq!(a, b);
    assert!(matches!(a, Value::Array(_)));

    // Group readers each take a different entry, in arrival order.
    let _: () = q(&mut c, &["XGROUP", "CREATE", "s", "g", "$"]);
    let mut handles = Vec::new();
    for (i, name) in ["first", "second"].into_iter().enumerate() {
        let mut w = con(&s);
        handles.push(thread::spawn(move || {
            v(
                &mut w,
                &[
                    "XREADGROUP",
                    "GROUP",
                    "g",
                    name,
                    "COUNT",
                    "1",
                    "BLOCK",
                    "0",
                    "STREAMS",
                    "s",
                    ">",
                ],
            )
        }));
        wait_blocked(&mut c, i + 1);
    }
    let _: String = q(&mut c, &["XADD", "s", "2-1", "f", "v", "f2", "v2"]);
    let _: String = q(&mut c, &["XADD", "s", "3-1", "f", "v"]);
    let first = handles.remove(0).join().unwrap();
    let second = handles.remove(0).join().unwrap();
    let id_of = |r: &Value| -> Value {
        match r {
            Value::Array(streams) => match &streams[0] {
                Value::Array(kv) => match &kv[1] {
                    Value::Array(es) => match &es[0] {
                        Value::Array(e) => e[0].clone(),
                        o => panic!("{o:?}"),
                    },
                    o => panic!("{o:?}"),
                },
                o => panic!("{o:?}"),
            },
            o => panic!("{o:?}"),
        }
    };
    assert_eq!(id_of(&first), bulk("2-1"));
    assert_eq!(id_of(&second), bulk("3-1"));
}

#[test]
fn blocked_group_reader_gets_an_error_when_its_stream_goes() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let mut w = con(&s);
    let t = thread::spawn(move || {
        err(
            &mut w,
            &[
                "XREADGROUP",
                "GROUP",
                "g",
                "c",
                "BLOCK",
                "0",
                "STREAMS",
                "s",
                ">",
            ],
        )
    });
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["DEL", "s"]);
    assert_eq!(
        t.join().unwrap(),
        "UNBLOCKED the stream key no longer exists"
    );
}

#[test]
fn group_round_trip_readgroup_pending_ack() {
    let s = manual_server();
    let mut c = con(&s);
    for id in ["1-1", "2-1", "3-1"] {
        let _: String = q(&mut c, &["XADD", "s", id, "f", "v"]);
    }
    let _: () = q(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]);
    let got = v(
        &mut c,
        &[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "s",
            ">",
        ],
    );
    let Value::Array(streams) = got else { panic!() };
    assert_eq!(streams.len(), 1);
    s.clock().advance(1500);
    let summary = v(&mut c, &["XPENDING", "s", "g"]);
    assert_eq!(
        summary,
        Value::Array(vec![
            Value::Int(2),
            bulk("1-1"),
            bulk("2-1"),
            Value::Array(vec![Value::Array(vec![bulk("alice"), bulk("2")])]),
        ])
    );
    let ext = v(
        &mut c,
        &[
            "XPENDING", "s", "g", "IDLE", "1000", "-", "+", "10", "alice",
        ],
    );
    assert_eq!(
        ext,
        Value::Array(vec![
            Value::Array(vec![
                bulk("1-1"),
                bulk("alice"),
                Value::Int(1500),
                Value::Int(1)
            ]),
            Value::Array(vec![
                bulk("2-1"),
                bulk("alice"),
                Value::Int(1500),
                Value::Int(1)
            ]),
        ])
    );
    let n: i64 = q(&mut c, &["XACK", "s", "g", "1-1", "2-1", "9-9"]);
    assert_eq!(n, 2);
    let summary = v(&mut c, &["XPENDING", "s", "g"]);
    assert_eq!(
        summary,
        Value::Array(vec![Value::Int(0), Value::Nil, Value::Nil, Value::Nil])
    );
    assert_eq!(
        err(
            &mut c,
            &["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"]
        ),
        "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option"
    );
    assert_eq!(
        err(&mut c, &["XGROUP", "CREATE", "s", "g", "0"]),
        "BUSYGROUP Consumer Group name already exists"
    );
}

#[test]
fn xinfo_groups_lag_and_entries_read_follow_redis() {
    let s = server();
    let mut c = con(&s);
    for line in [
        "XADD m 1-1 f v",
        "XADD m 2-1 f v",
        "XADD m 3-1 f v",
        "XGROUP CREATE m a 0",
        "XGROUP CREATE m b $",
        "XGROUP CREATE m c 0 ENTRIESREAD 1",
        "XREADGROUP GROUP a x COUNT 1 STREAMS m >",
        "XDEL m 3-1",
        "XREADGROUP GROUP a x STREAMS m >",
        "XADD m 4-1 f v",
        "XREADGROUP GROUP c x STREAMS m >",
    ] {
        let words: Vec<&str> = line.split(' ').collect();
        let _ = v(&mut c, &words);
    }
    let groups = v(&mut c, &["XINFO", "GROUPS", "m"]);
    let g = |name: &str, consumers: i64, pending: i64, last: &str, read: Value, lag: Value| {
        Value::Array(vec![
            bulk("name"),
            bulk(name),
            bulk("consumers"),
            Value::Int(consumers),
            bulk("pending"),
            Value::Int(pending),
            bulk("last-delivered-id"),
            bulk(last),
            bulk("entries-read"),
            read,
            bulk("lag"),
            lag,
        ])
    };
    // Redis 7.0.15 answers exactly this for the sequence above.
    assert_eq!(
        groups,
        Value::Array(vec![
            g("a", 1, 2, "2-1", Value::Nil, Value::Nil),
            g("b", 0, 0, "3-1", Value::Nil, Value::Nil),
            g("c", 1, 3, "4-1", Value::Int(4), Value::Int(0)),
        ])
    );
}
