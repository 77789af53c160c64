//! List commands: pushes and pops at both ends, ranges and indexes, in-place edits, LPOS,
//! moves between lists, LMPOP, their RESP2/RESP3 nil shapes, keyspace events and WATCH.

use std::time::Duration;

use redis::Value;

use crate::common::{bulk, con, con3, err, q, server, v};

fn strings(c: &mut redis::Connection, key: &str) -> Vec<String> {
    q(c, &["LRANGE", key, "0", "-1"])
}

#[test]
fn push_pop_both_ends_and_lengths() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(q::<i64>(&mut c, &["RPUSH", "l", "b", "c"]), 2);
    assert_eq!(q::<i64>(&mut c, &["LPUSH", "l", "a", "z"]), 4);
    assert_eq!(strings(&mut c, "l"), ["z", "a", "b", "c"]);
    assert_eq!(q::<i64>(&mut c, &["LPUSHX", "l", "y"]), 5);
    assert_eq!(q::<i64>(&mut c, &["RPUSHX", "l", "d", "e"]), 7);
    assert_eq!(q::<i64>(&mut c, &["LPUSHX", "nosuch", "x"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "nosuch"]), 0);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "l"]), 7);
    assert_eq!(v(&mut c, &["LPOP", "l"]), bulk("y"));
    assert_eq!(v(&mut c, &["RPOP", "l"]), bulk("e"));
    assert_eq!(q::<Vec<String>>(&mut c, &["LPOP", "l", "2"]), ["z", "a"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["RPOP", "l", "10"]),
        ["d", "c", "b"]
    );
    // Emptied: the key is gone.
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "l"]), 0);
    assert_eq!(q::<i64>(&mut c, &["LLEN", "l"]), 0);
    assert_eq!(q::<String>(&mut c, &["TYPE", "l"]), "none");
}

#[test]
fn pop_nil_shapes_in_resp2_and_resp3() {
    let s = server();
    let mut c2 = con(&s);
    let _: i64 = q(&mut c2, &["RPUSH", "l", "a"]);
    assert_eq!(v(&mut c2, &["LPOP", "nosuch"]), Value::Nil);
    assert_eq!(v(&mut c2, &["LPOP", "nosuch", "1"]), Value::Nil);
    assert_eq!(v(&mut c2, &["LPOP", "l", "0"]), Value::Array(vec![]));
    assert_eq!(v(&mut c2, &["LMPOP", "1", "nosuch", "LEFT"]), Value::Nil);
    let mut c3 = con3(&s);
    assert_eq!(v(&mut c3, &["LPOP", "nosuch"]), Value::Nil);
    assert_eq!(v(&mut c3, &["RPOP", "nosuch", "3"]), Value::Nil);
    assert_eq!(v(&mut c3, &["LPOP", "l", "0"]), Value::Array(vec![]));
    assert_eq!(v(&mut c3, &["LINDEX", "nosuch", "0"]), Value::Nil);
    // The byte-level shapes (`$-1` vs `*-1`, `_`) are checked against Redis by
    // tests/resp-diff/lists.txt; here the errors.
    assert_eq!(
        err(&mut c2, &["LPOP", "l", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        err(&mut c2, &["LPOP", "l", "1", "2"]),
        "ERR wrong number of arguments for 'lpop' command"
    );
    let _: () = q(&mut c2, &["SET", "str", "x"]);
    assert_eq!(
        err(&mut c2, &["LPOP", "str", "0"]),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
}

#[test]
fn ranges_indexes_and_edits() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["RPUSH", "l", "a", "b", "c", "d", "e"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["LRANGE", "l", "-2", "100"]),
        ["d", "e"]
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["LRANGE", "l", "3", "1"]),
        Vec::<String>::new()
    );
    assert_eq!(v(&mut c, &["LINDEX", "l", "-1"]), bulk("e"));
    assert_eq!(v(&mut c, &["LINDEX", "l", "5"]), Value::Nil);
    assert_eq!(v(&mut c, &["LSET", "l", "1", "B"]), Value::Okay);
    assert_eq!(
        err(&mut c, &["LSET", "l", "9", "x"]),
        "ERR index out of range"
    );
    assert_eq!(
        err(&mut c, &["LSET", "nosuch", "0", "x"]),
        "ERR no such key"
    );
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "BEFORE", "c", "bc"]), 6);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "after", "e", "f"]), 7);
    assert_eq!(q::<i64>(&mut c, &["LINSERT", "l", "after", "zz", "f"]), -1);
    assert_eq!(
        q::<i64>(&mut c, &["LINSERT", "nosuch", "after", "zz", "f"]),
        0
    );
    assert_eq!(
        err(&mut c, &["LINSERT", "l", "middle", "a", "x"]),
        "ERR syntax error"
    );
    assert_eq!(strings(&mut c, "l"), ["a", "B", "bc", "c", "d", "e", "f"]);
    let _: i64 = q(&mut c, &["RPUSH", "l", "a", "x", "a"]);
    assert_eq!(q::<i64>(&mut c, &["LREM", "l", "-2", "a"]), 2);
    assert_eq!(
        strings(&mut c, "l"),
        ["a", "B", "bc", "c", "d", "e", "f", "x"]
    );
    assert_eq!(v(&mut c, &["LTRIM", "l", "1", "-2"]), Value::Okay);
    assert_eq!(strings(&mut c, "l"), ["B", "bc", "c", "d", "e", "f"]);
    assert_eq!(v(&mut c, &["LTRIM", "l", "10", "20"]), Value::Okay);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "l"]), 0);
}

#[test]
fn lpos_options_and_errors() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["RPUSH", "l", "a", "b", "c", "a", "b", "c", "a"]);
    assert_eq!(q::<i64>(&mut c, &["LPOS", "l", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["LPOS", "l", "a", "RANK", "-1"]), 6);
    assert_eq!(
        q::<Vec<i64>>(&mut c, &["LPOS", "l", "a", "COUNT", "0"]),
        [0, 3, 6]
    );
    assert_eq!(
        q::<Vec<i64>>(&mut c, &["LPOS", "l", "a", "RANK", "-2", "COUNT", "5"]),
        [3, 0]
    );
    assert_eq!(
        q::<Vec<i64>>(&mut c, &["LPOS", "l", "a", "COUNT", "0", "MAXLEN", "4"]),
        [0, 3]
    );
    assert_eq!(v(&mut c, &["LPOS", "l", "zz"]), Value::Nil);
    assert_eq!(
        v(&mut c, &["LPOS", "nosuch", "a", "COUNT", "1"]),
        Value::Array(vec![])
    );
    assert!(err(&mut c, &["LPOS", "l", "a", "RANK", "0"]).starts_with("ERR RANK can't be zero"));
    assert_eq!(
        err(&mut c, &["LPOS", "l", "a", "COUNT", "-1"]),
        "ERR COUNT can't be negative"
    );
    assert_eq!(
        err(&mut c, &["LPOS", "l", "a", "MAXLEN", "x"]),
        "ERR MAXLEN can't be negative"
    );
    assert_eq!(err(&mut c, &["LPOS", "l", "a", "RANK"]), "ERR syntax error");
}

#[test]
fn lmove_rpoplpush_and_rotation() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["RPUSH", "src", "1", "2", "3"]);
    assert_eq!(
        v(&mut c, &["LMOVE", "src", "src", "LEFT", "RIGHT"]),
        bulk("1")
    );
    assert_eq!(strings(&mut c, "src"), ["2", "3", "1"]);
    assert_eq!(v(&mut c, &["RPOPLPUSH", "src", "dst"]), bulk("1"));
    assert_eq!(
        v(&mut c, &["LMOVE", "src", "dst", "left", "right"]),
        bulk("2")
    );
    assert_eq!(strings(&mut c, "dst"), ["1", "2"]);
    assert_eq!(
        v(&mut c, &["LMOVE", "src", "dst", "right", "left"]),
        bulk("3")
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "src"]), 0);
    assert_eq!(
        v(&mut c, &["LMOVE", "src", "dst", "left", "left"]),
        Value::Nil
    );
    // A one-element list rotated onto itself survives.
    let _: i64 = q(&mut c, &["RPUSH", "one", "x"]);
    assert_eq!(v(&mut c, &["RPOPLPUSH", "one", "one"]), bulk("x"));
    assert_eq!(strings(&mut c, "one"), ["x"]);
    let _: () = q(&mut c, &["SET", "str", "v"]);
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    assert_eq!(
        err(&mut c, &["LMOVE", "dst", "str", "left", "left"]),
        wrongtype
    );
    assert_eq!(strings(&mut c, "dst"), ["3", "1", "2"], "nothing moved");
    assert_eq!(
        err(&mut c, &["LMOVE", "dst", "x", "up", "left"]),
        "ERR syntax error"
    );
}

#[test]
fn lmpop_picks_the_first_non_empty_list() {
    let s = server();
    for resp3 in [false, true] {
        let mut c = if resp3 { con3(&s) } else { con(&s) };
        let _: () = q(&mut c, &["FLUSHALL"]);
        let _: i64 = q(&mut c, &["RPUSH", "b", "1", "2", "3"]);
        let got = v(&mut c, &["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "2"]);
        assert_eq!(
            got,
            Value::Array(vec![bulk("b"), Value::Array(vec![bulk("3"), bulk("2")])])
        );
        let got = v(&mut c, &["LMPOP", "2", "a", "b", "LEFT", "COUNT", "9"]);
        assert_eq!(
            got,
            Value::Array(vec![bulk("b"), Value::Array(vec![bulk("1")])])
        );
        assert_eq!(v(&mut c, &["LMPOP", "2", "a", "b", "LEFT"]), Value::Nil);
    }
    let mut c = con(&s);
    for (args, text) in [
        (
            &["LMPOP", "0", "a", "LEFT"][..],
            "ERR numkeys should be greater than 0",
        ),
        (&["LMPOP", "2", "a", "LEFT"], "ERR syntax error"),
        (
            &["LMPOP", "1", "a", "LEFT", "COUNT", "0"],
            "ERR count should be greater than 0",
        ),
        (
            &["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"],
            "ERR syntax error",
        ),
    ] {
        assert_eq!(err(&mut c, args), text, "{args:?}");
    }
}

#[test]
fn large_lists_span_many_nodes() {
    let s = server();
    let mut c = con(&s);
    let n = 20_000;
    let mut push = redis::cmd("RPUSH");
    push.arg("big");
    for i in 0..n {
        push.arg(format!("element-{i:06}"));
    }
    let len: i64 = push.query(&mut c).unwrap();
    assert_eq!(len, n);
    assert_eq!(
        v(&mut c, &["LINDEX", "big", "12345"]),
        bulk("element-012345")
    );
    assert_eq!(q::<i64>(&mut c, &["LPOS", "big", "element-019999"]), n - 1);
    let mid: Vec<String> = q(&mut c, &["LRANGE", "big", "9999", "10001"]);
    assert_eq!(mid, ["element-009999", "element-010000", "element-010001"]);
    assert_eq!(
        q::<i64>(&mut c, &["LINSERT", "big", "BEFORE", "element-010000", "x"]),
        n + 1
    );
    assert_eq!(v(&mut c, &["LINDEX", "big", "10000"]), bulk("x"));
    assert_eq!(v(&mut c, &["LTRIM", "big", "10000", "10001"]), Value::Okay);
    assert_eq!(strings(&mut c, "big"), ["x", "element-010000"]);
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "big"]),
        "quicklist"
    );
}

/// Event names and order, as Redis 7.0.15 publishes them for the same commands.
#[test]
fn keyspace_events_match_redis() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub_con = con(&s);
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe("__keyevent@0__:*").expect("psubscribe");
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    for line in [
        "RPUSH s 1",
        "LMOVE s s LEFT RIGHT",
        "LMOVE s d RIGHT LEFT",
        "RPUSH l a b",
        "LINSERT l AFTER a x",
        "LSET l 0 y",
        "LREM l 0 x",
        "LTRIM l 5 9",
    ] {
        let words: Vec<&str> = line.split(' ').collect();
        let _: Value = q(&mut c, &words);
    }
    let expected = [
        ("rpush", "s"),
        ("rpush", "s"),
        ("lpop", "s"),
        ("lpush", "d"),
        ("rpop", "s"),
        ("del", "s"),
        ("rpush", "l"),
        ("linsert", "l"),
        ("lset", "l"),
        ("lrem", "l"),
        ("ltrim", "l"),
        ("del", "l"),
    ];
    for (event, key) in expected {
        let m = pubsub.get_message().expect("an event within 5 s");
        assert_eq!(m.get_channel_name(), format!("__keyevent@0__:{event}"));
        assert_eq!(m.get_payload::<String>().unwrap(), key);
    }
}

#[test]
fn a_list_write_aborts_a_watching_transaction() {
    let s = server();
    let mut c = con(&s);
    let mut other = con(&s);
    let _: i64 = q(&mut c, &["RPUSH", "l", "a", "b"]);
    let _: () = q(&mut c, &["WATCH", "l"]);
    let _: Value = q(&mut other, &["LMOVE", "l", "l", "LEFT", "RIGHT"]);
    let _: () = q(&mut c, &["MULTI"]);
    let _: () = q(&mut c, &["LPOP", "l"]);
    assert_eq!(v(&mut c, &["EXEC"]), Value::Nil);
    assert_eq!(strings(&mut c, "l"), ["b", "a"]);
}
