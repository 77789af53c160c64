//! Sorted sets: ZADD's flags, ranges by rank/score/lex, pops, set operations, random
//! members, ZSCAN, encodings, and what writes propagate — in RESP2 and RESP3.
//! (`tests/resp-diff/zset.txt` holds the byte-for-byte comparison with Redis 7.0.15.)

use redis::Value;

use crate::common::{bulk, con, con3, err, q, server, v};

fn d(x: f64) -> Value {
    Value::Double(x)
}

fn strs(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| bulk(s)).collect())
}

#[test]
fn zadd_flags_and_replies() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(q::<i64>(&mut c, &["ZADD", "z", "1", "a", "2", "b"]), 2);
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "CH", "5", "a", "3", "c"]),
        2
    );
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "NX", "9", "a", "4", "d"]),
        1
    );
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "XX", "9", "a", "4", "e"]),
        0
    );
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "GT", "CH", "1", "a", "7", "b"]),
        1
    );
    assert_eq!(
        q::<i64>(&mut c, &["ZADD", "z", "LT", "CH", "1", "a", "70", "b"]),
        1
    );
    assert_eq!(v(&mut c, &["ZADD", "z", "INCR", "1.5", "a"]), bulk("2.5"));
    assert_eq!(
        v(&mut c, &["ZADD", "z", "INCR", "NX", "1", "a"]),
        Value::Nil
    );
    assert_eq!(
        v(&mut c, &["ZINCRBY", "z", "0.1", "a"]),
        bulk("2.6000000000000001")
    );
    assert_eq!(v(&mut c, &["ZSCORE", "z", "a"]), bulk("2.6000000000000001"));
    assert_eq!(
        err(&mut c, &["ZADD", "z", "NX", "XX", "1", "a"]),
        "ERR XX and NX options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["ZADD", "z", "GT", "LT", "1", "a"]),
        "ERR GT, LT, and/or NX options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["ZADD", "z", "INCR", "1", "a", "2", "b"]),
        "ERR INCR option supports a single increment-element pair"
    );
    assert_eq!(
        err(&mut c, &["ZADD", "z", "nan", "a"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        err(&mut c, &["ZADD", "z", "1e400", "a"]),
        "ERR value is not a valid float"
    );
    assert_eq!(
        err(&mut c, &["ZADD", "z", "1", "a", "2"]),
        "ERR syntax error"
    );
    let _: i64 = q(&mut c, &["ZADD", "inf", "inf", "x"]);
    assert_eq!(
        err(&mut c, &["ZINCRBY", "inf", "-inf", "x"]),
        "ERR resulting score is not a number (NaN)"
    );
    assert_eq!(v(&mut c, &["ZSCORE", "inf", "x"]), bulk("inf"));
    let _: () = q(&mut c, &["SET", "str", "x"]);
    assert!(err(&mut c, &["ZADD", "str", "1", "a"]).starts_with("WRONGTYPE"));
    // -0 is stored as 0.
    let _: i64 = q(&mut c, &["ZADD", "zero", "-0", "m"]);
    assert_eq!(v(&mut c, &["ZSCORE", "zero", "m"]), bulk("0"));
}

#[test]
fn ranges_by_rank_score_and_lex_in_both_protocols() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    );
    assert_eq!(
        v(&mut c, &["ZRANGE", "z", "0", "-1"]),
        strs(&["a", "b", "c", "d"])
    );
    assert_eq!(
        v(&mut c, &["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        strs(&["a", "1", "b", "2"])
    );
    assert_eq!(v(&mut c, &["ZREVRANGE", "z", "0", "1"]), strs(&["d", "c"]));
    assert_eq!(
        v(&mut c, &["ZRANGEBYSCORE", "z", "(1", "3"]),
        strs(&["b", "c"])
    );
    assert_eq!(
        v(
            &mut c,
            &["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"]
        ),
        strs(&["c", "b"])
    );
    assert_eq!(
        v(
            &mut c,
            &["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "0", "1"]
        ),
        strs(&["d"])
    );
    assert_eq!(q::<i64>(&mut c, &["ZCOUNT", "z", "(1", "+inf"]), 3);
    assert_eq!(q::<i64>(&mut c, &["ZRANK", "z", "c"]), 2);
    assert_eq!(q::<i64>(&mut c, &["ZREVRANK", "z", "c"]), 1);
    assert_eq!(v(&mut c, &["ZRANK", "z", "nosuch"]), Value::Nil);
    assert_eq!(
        err(&mut c, &["ZRANGEBYSCORE", "z", "x", "1"]),
        "ERR min or max is not a float"
    );
    assert_eq!(
        err(&mut c, &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"]),
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    );
    let _: i64 = q(
        &mut c,
        &["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"],
    );
    assert_eq!(
        v(&mut c, &["ZRANGEBYLEX", "lex", "[b", "(d"]),
        strs(&["b", "c"])
    );
    assert_eq!(
        v(
            &mut c,
            &["ZREVRANGEBYLEX", "lex", "+", "-", "LIMIT", "0", "2"]
        ),
        strs(&["d", "c"])
    );
    assert_eq!(q::<i64>(&mut c, &["ZLEXCOUNT", "lex", "-", "+"]), 4);
    assert_eq!(
        err(&mut c, &["ZRANGEBYLEX", "lex", "b", "+"]),
        "ERR min or max not valid string range item"
    );

    // RESP3: scores are doubles, WITHSCORES pairs are nested.
    let mut c3 = con3(&s);
    assert_eq!(v(&mut c3, &["ZSCORE", "z", "b"]), d(2.0));
    assert_eq!(
        v(&mut c3, &["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        Value::Array(vec![
            Value::Array(vec![bulk("a"), d(1.0)]),
            Value::Array(vec![bulk("b"), d(2.0)]),
        ])
    );
    assert_eq!(
        v(&mut c3, &["ZMSCORE", "z", "a", "nosuch"]),
        Value::Array(vec![d(1.0), Value::Nil])
    );
}

#[test]
fn removal_empties_and_deletes_the_key() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    );
    assert_eq!(q::<i64>(&mut c, &["ZREM", "z", "a", "nosuch"]), 1);
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYSCORE", "z", "(2", "3"]), 1);
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYRANK", "z", "-1", "-1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["ZCARD", "z"]), 1);
    assert_eq!(q::<i64>(&mut c, &["ZREMRANGEBYLEX", "z", "-", "+"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "z"]), 0);
}

#[test]
fn pops_and_zmpop() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(
        &mut c,
        &["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    );
    assert_eq!(v(&mut c, &["ZPOPMIN", "z"]), strs(&["a", "1"]));
    assert_eq!(
        v(&mut c, &["ZPOPMAX", "z", "2"]),
        strs(&["d", "4", "c", "3"])
    );
    assert_eq!(v(&mut c, &["ZPOPMIN", "nosuch"]), Value::Array(vec![]));
    assert_eq!(
        err(&mut c, &["ZPOPMIN", "z", "-1"]),
        "ERR value is out of range, must be positive"
    );
    assert_eq!(
        v(&mut c, &["ZMPOP", "2", "nosuch", "z", "MIN", "COUNT", "5"]),
        Value::Array(vec![
            bulk("z"),
            Value::Array(vec![Value::Array(vec![bulk("b"), bulk("2")])]),
        ])
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "z"]), 0);
    assert_eq!(v(&mut c, &["ZMPOP", "1", "z", "MAX"]), Value::Nil);
    assert_eq!(
        err(&mut c, &["ZMPOP", "0", "z", "MAX"]),
        "ERR numkeys should be greater than 0"
    );
    // RESP3: a count makes ZPOPMIN's pairs nested.
    let mut c3 = con3(&s);
    let _: i64 = q(&mut c3, &["ZADD", "y", "1", "a", "2", "b"]);
    assert_eq!(
        v(&mut c3, &["ZPOPMIN", "y", "1"]),
        Value::Array(vec![Value::Array(vec![bulk("a"), d(1.0)])])
    );
    assert_eq!(
        v(&mut c3, &["ZPOPMAX", "y"]),
        Value::Array(vec![bulk("b"), d(2.0)])
    );
}

#[test]
fn set_operations_weights_and_aggregates() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["ZADD", "a", "1", "x", "2", "y"]);
    let _: i64 = q(&mut c, &["ZADD", "b", "10", "y", "20", "z"]);
    assert_eq!(
        v(
            &mut c,
            &["ZUNION", "2", "a", "b", "WEIGHTS", "2", "1", "WITHSCORES"]
        ),
        strs(&["x", "2", "y", "14", "z", "20"])
    );
    assert_eq!(
        v(
            &mut c,
            &["ZINTER", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"]
        ),
        strs(&["y", "2"])
    );
    assert_eq!(v(&mut c, &["ZDIFF", "2", "a", "b"]), strs(&["x"]));
    assert_eq!(q::<i64>(&mut c, &["ZUNIONSTORE", "d", "2", "a", "b"]), 3);
    assert_eq!(
        q::<i64>(&mut c, &["ZINTERSTORE", "d", "2", "a", "nosuch"]),
        0
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);
    assert_eq!(q::<i64>(&mut c, &["ZDIFFSTORE", "d", "2", "a", "b"]), 1);
    assert_eq!(q::<i64>(&mut c, &["ZINTERCARD", "2", "a", "b"]), 1);
    assert_eq!(q::<i64>(&mut c, &["ZINTERCARD", "1", "a", "LIMIT", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["ZRANGESTORE", "r", "a", "0", "0"]), 1);
    assert_eq!(v(&mut c, &["ZRANGE", "r", "0", "-1"]), strs(&["x"]));
    assert_eq!(
        err(&mut c, &["ZUNION", "0", "a"]),
        "ERR at least 1 input key is needed for 'zunion' command"
    );
    assert_eq!(
        err(&mut c, &["ZUNION", "1", "a", "WEIGHTS", "x"]),
        "ERR weight value is not a float"
    );
}

#[test]
fn random_members_and_zscan() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    // A count of at least the size returns the whole set, highest first (as Redis 7.0).
    assert_eq!(
        v(&mut c, &["ZRANDMEMBER", "z", "5"]),
        strs(&["c", "b", "a"])
    );
    let two: Vec<String> = q(&mut c, &["ZRANDMEMBER", "z", "2"]);
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    let rep: Vec<String> = q(&mut c, &["ZRANDMEMBER", "z", "-10"]);
    assert_eq!(rep.len(), 10);
    let one: String = q(&mut c, &["ZRANDMEMBER", "z"]);
    assert!(["a", "b", "c"].contains(&one.as_str()));
    let ws: Vec<String> = q(&mut c, &["ZRANDMEMBER", "z", "-3", "WITHSCORES"]);
    assert_eq!(ws.len(), 6);
    assert_eq!(
        v(&mut c, &["ZSCAN", "z", "0", "MATCH", "b*"]),
        Value::Array(vec![bulk("0"), strs(&["b", "2"])])
    );
    // A big set is scanned in pieces; every member comes back once.
    let _: () = q(&mut c, &["CONFIG", "SET", "zset-max-listpack-entries", "4"]);
    for i in 0..50 {
        let _: i64 = q(&mut c, &["ZADD", "big", &i.to_string(), &format!("m{i}")]);
    }
    assert_eq!(v(&mut c, &["OBJECT", "ENCODING", "big"]), bulk("skiplist"));
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    loop {
        let (next, items): (String, Vec<String>) =
            q(&mut c, &["ZSCAN", "big", &cursor, "COUNT", "7"]);
        seen.extend(items.chunks(2).map(|p| p[0].clone()));
        if next == "0" {
            break;
        }
        cursor = next;
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 50);
}

#[test]
fn encodings_follow_the_thresholds() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "zset-max-listpack-entries", "2"]);
    let _: i64 = q(&mut c, &["ZADD", "z", "1", "a", "2", "b"]);
    assert_eq!(v(&mut c, &["OBJECT", "ENCODING", "z"]), bulk("listpack"));
    let _: i64 = q(&mut c, &["ZADD", "z", "3", "c"]);
    assert_eq!(v(&mut c, &["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    let _: i64 = q(&mut c, &["ZREM", "z", "a", "b"]);
    assert_eq!(v(&mut c, &["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    // A stored result is compact again when it fits.
    let _: i64 = q(&mut c, &["ZUNIONSTORE", "u", "1", "z"]);
    assert_eq!(v(&mut c, &["OBJECT", "ENCODING", "u"]), bulk("listpack"));
    let _: () = q(&mut c, &["CONFIG", "SET", "zset-max-listpack-value", "3"]);
    let _: i64 = q(&mut c, &["ZADD", "long", "1", "abcd"]);
    assert_eq!(v(&mut c, &["OBJECT", "ENCODING", "long"]), bulk("skiplist"));
}

#[test]
fn rank_is_fast_on_a_large_set() {
    let s = server();
    let mut c = con(&s);
    let mut pipe = redis::pipe();
    for chunk in 0..20 {
        let mut cmd = redis::cmd("ZADD");
        cmd.arg("big");
        for i in 0..5_000 {
            let n = chunk * 5_000 + i;
            cmd.arg(n).arg(format!("member:{n:06}"));
        }
        pipe.add_command(cmd).ignore();
    }
    let () = pipe.query(&mut c).expect("zadd");
    assert_eq!(q::<i64>(&mut c, &["ZCARD", "big"]), 100_000);
    let start = std::time::Instant::now();
    for n in (0..100_000).step_by(997) {
        let r: i64 = q(&mut c, &["ZRANK", "big", &format!("member:{n:06}")]);
        assert_eq!(r, n);
    }
    // ~100 round trips; an O(n) rank would take far longer in a debug build.
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    assert_eq!(
        v(&mut c, &["ZRANGE", "big", "50000", "50001"]),
        strs(&["member:050000", "member:050001"])
    );
}

#[test]
fn writes_propagate_as_redis_writes_its_aof() {
    let s = server();
    s.propagation().set_enabled(true);
    let mut c = con(&s);
    for cmd in [
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"][..],
        &["ZINCRBY", "z", "1", "a"],
        &["ZPOPMIN", "z"],
        &["ZMPOP", "1", "z", "MAX", "COUNT", "10"],
        &["ZMPOP", "1", "z", "MAX"],
        &["ZREM", "z", "nosuch"],
        &["ZADD", "y", "1", "a"],
        &["ZRANGESTORE", "d", "y", "0", "-1"],
        &["ZRANGESTORE", "d", "nosuch", "0", "-1"],
        &["ZRANGESTORE", "d", "nosuch", "0", "-1"],
    ] {
        let _: Value = q(&mut c, cmd);
    }
    let got: Vec<String> = s.propagation().drain_text();
    assert_eq!(
        got,
        [
            "SELECT 0",
            "ZADD z 1 a 2 b 3 c",
            "ZINCRBY z 1 a",
            "ZPOPMIN z",
            // ZMPOP replays as ZPOPMAX with the number popped.
            "ZPOPMAX z 2",
            "ZADD y 1 a",
            "ZRANGESTORE d y 0 -1",
            "ZRANGESTORE d nosuch 0 -1",
        ]
    );
}
