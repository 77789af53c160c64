//! Hash commands: fields, counters, random picks, scanning, encodings, and the shapes RESP2
//! and RESP3 clients see.

use std::collections::{HashMap, HashSet};

use redis::Value;

use crate::common::{bulk, con, con3, err, q, server, v};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
                other => panic!("not a bulk string: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn set_get_and_delete_fields() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(q::<i64>(&mut c, &["HSET", "h", "a", "1", "b", "2"]), 2);
    assert_eq!(q::<i64>(&mut c, &["HSET", "h", "a", "10", "c", "3"]), 1);
    assert_eq!(v(&mut c, &["HMSET", "h", "d", "4"]), Value::Okay);
    assert_eq!(v(&mut c, &["HGET", "h", "a"]), bulk("10"));
    assert_eq!(v(&mut c, &["HGET", "h", "nosuch"]), Value::Nil);
    assert_eq!(v(&mut c, &["HGET", "nokey", "a"]), Value::Nil);
    assert_eq!(
        v(&mut c, &["HMGET", "h", "a", "nosuch", "d"]),
        Value::Array(vec![bulk("10"), Value::Nil, bulk("4")])
    );
    assert_eq!(
        v(&mut c, &["HMGET", "nokey", "a"]),
        Value::Array(vec![Value::Nil])
    );
    assert_eq!(q::<i64>(&mut c, &["HLEN", "h"]), 4);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "a"]), 2);
    assert_eq!(q::<i64>(&mut c, &["HSTRLEN", "h", "nosuch"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "h", "b"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HEXISTS", "h", "nosuch"]), 0);
    // A small hash keeps insertion order, updates in place.
    assert_eq!(
        strings(&v(&mut c, &["HGETALL", "h"])),
        ["a", "10", "b", "2", "c", "3", "d", "4"]
    );
    assert_eq!(strings(&v(&mut c, &["HKEYS", "h"])), ["a", "b", "c", "d"]);
    assert_eq!(strings(&v(&mut c, &["HVALS", "h"])), ["10", "2", "3", "4"]);

    assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "a", "x"]), 0);
    assert_eq!(q::<i64>(&mut c, &["HSETNX", "h", "e", "5"]), 1);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "h", "a", "nosuch", "b"]), 2);
    assert_eq!(q::<i64>(&mut c, &["HDEL", "nokey", "a"]), 0);
    // Emptying the hash removes the key.
    assert_eq!(q::<i64>(&mut c, &["HDEL", "h", "c", "d", "e"]), 3);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "h"]), 0);
    assert_eq!(v(&mut c, &["HGETALL", "h"]), Value::Array(vec![]));

    // Binary-safe fields and values, the empty string included.
    let field = b"f\x00\r\n".to_vec();
    let value: Vec<u8> = (0..=255u8).collect();
    let n: i64 = redis::cmd("HSET")
        .arg("bin")
        .arg(&field)
        .arg(&value)
        .arg("")
        .arg("")
        .query(&mut c)
        .unwrap();
    assert_eq!(n, 2);
    let got: Vec<u8> = redis::cmd("HGET")
        .arg("bin")
        .arg(&field)
        .query(&mut c)
        .unwrap();
    assert_eq!(got, value);
    assert_eq!(v(&mut c, &["HGET", "bin", ""]), bulk(""));
}

#[test]
fn argument_and_type_errors() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(
        err(&mut c, &["HSET", "h", "a", "1", "b"]),
        "ERR wrong number of arguments for 'hset' command"
    );
    assert_eq!(
        err(&mut c, &["HMSET", "h", "a", "1", "b"]),
        "ERR wrong number of arguments for 'hmset' command"
    );
    let _: () = q(&mut c, &["SET", "str", "x"]);
    for cmd in [
        &["HSET", "str", "a", "1"][..],
        &["HSETNX", "str", "a", "1"],
        &["HGET", "str", "a"],
        &["HMGET", "str", "a"],
        &["HGETALL", "str"],
        &["HDEL", "str", "a"],
        &["HLEN", "str"],
        &["HSTRLEN", "str", "a"],
        &["HEXISTS", "str", "a"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HINCRBY", "str", "a", "1"],
        &["HINCRBYFLOAT", "str", "a", "1"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "2"],
        &["HSCAN", "str", "0"],
    ] {
        assert_eq!(err(&mut c, cmd), WRONGTYPE, "{cmd:?}");
    }
    // Arguments are checked before the key's type.
    assert_eq!(
        err(&mut c, &["HINCRBY", "str", "a", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["HINCRBYFLOAT", "str", "a", "x"]),
        "ERR value is not a valid float"
    );
    assert_eq!(err(&mut c, &["HSCAN", "str", "x"]), "ERR invalid cursor");
}

#[test]
fn integer_and_float_increments() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(q::<i64>(&mut c, &["HINCRBY", "h", "n", "5"]), 5);
    assert_eq!(q::<i64>(&mut c, &["HINCRBY", "h", "n", "-8"]), -3);
    let _: i64 = q(
        &mut c,
        &["HSET", "h", "s", "abc", "max", "9223372036854775807"],
    );
    assert_eq!(
        err(&mut c, &["HINCRBY", "h", "s", "1"]),
        "ERR hash value is not an integer"
    );
    assert_eq!(
        err(&mut c, &["HINCRBY", "h", "max", "1"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        err(&mut c, &["HINCRBY", "h", "n", "1.5"]),
        "ERR value is not an integer or out of range"
    );

    assert_eq!(v(&mut c, &["HINCRBYFLOAT", "h", "f", "0.1"]), bulk("0.1"));
    assert_eq!(v(&mut c, &["HINCRBYFLOAT", "h", "f", "0.2"]), bulk("0.3"));
    assert_eq!(v(&mut c, &["HINCRBYFLOAT", "h", "n", "1.5"]), bulk("-1.5"));
    // Long double, as Redis: 0.3 is not exact, and 1000 more shows it.
    assert_eq!(
        v(&mut c, &["HINCRBYFLOAT", "h", "f", "1e3"]),
        bulk("1000.29999999999999999")
    );
    assert_eq!(
        err(&mut c, &["HINCRBYFLOAT", "h", "s", "1"]),
        "ERR hash value is not a float"
    );
    assert_eq!(
        err(&mut c, &["HINCRBYFLOAT", "h", "f", "inf"]),
        "ERR value is NaN or Infinity"
    );
    assert_eq!(
        err(&mut c, &["HINCRBYFLOAT", "h", "f", "nan"]),
        "ERR value is not a valid float"
    );
    let _: i64 = q(&mut c, &["HSET", "h", "i", "inf"]);
    assert_eq!(
        err(&mut c, &["HINCRBYFLOAT", "h", "i", "1"]),
        "ERR increment would produce NaN or Infinity"
    );
    // The RESP3 reply is the same bulk string.
    let mut c3 = con3(&s);
    assert_eq!(
        v(&mut c3, &["HINCRBYFLOAT", "h", "f", "1"]),
        bulk("1001.29999999999999999")
    );
}

#[test]
fn hgetall_is_a_map_in_resp3() {
    let s = server();
    let mut c3 = con3(&s);
    let _: i64 = q(&mut c3, &["HSET", "h", "a", "1", "b", "2"]);
    assert_eq!(
        v(&mut c3, &["HGETALL", "h"]),
        Value::Map(vec![(bulk("a"), bulk("1")), (bulk("b"), bulk("2"))])
    );
    assert_eq!(v(&mut c3, &["HGETALL", "nokey"]), Value::Map(vec![]));
    assert_eq!(v(&mut c3, &["HGET", "h", "nosuch"]), Value::Nil);
    assert_eq!(
        v(&mut c3, &["HMGET", "h", "nosuch", "a"]),
        Value::Array(vec![Value::Nil, bulk("1")])
    );
    let mut c = con(&s);
    assert_eq!(
        v(&mut c, &["HGETALL", "h"]),
        Value::Array(vec![bulk("a"), bulk("1"), bulk("b"), bulk("2")])
    );
}

#[test]
fn hrandfield_counts_repeats_and_shapes() {
    let s = server();
    let mut c = con(&s);
    let mut c3 = con3(&s);
    assert_eq!(v(&mut c, &["HRANDFIELD", "nokey"]), Value::Nil);
    assert_eq!(
        v(&mut c, &["HRANDFIELD", "nokey", "3"]),
        Value::Array(vec![])
    );
    for i in 0..10 {
        let f = format!("f{i}");
        let val = format!("v{i}");
        let _: i64 = q(&mut c, &["HSET", "h", &f, &val]);
    }
    let all: HashSet<String> = (0..10).map(|i| format!("f{i}")).collect();
    let one: String = q(&mut c, &["HRANDFIELD", "h"]);
    assert!(all.contains(&one));
    assert_eq!(v(&mut c, &["HRANDFIELD", "h", "0"]), Value::Array(vec![]));

    // Positive: distinct, at most the hash.
    let five = strings(&v(&mut c, &["HRANDFIELD", "h", "5"]));
    assert_eq!(five.iter().collect::<HashSet<_>>().len(), 5);
    let every = strings(&v(&mut c, &["HRANDFIELD", "h", "100"]));
    assert_eq!(every.into_iter().collect::<HashSet<_>>(), all);

    // Negative: exactly that many, repeats allowed, and over many picks every field shows.
    let many = strings(&v(&mut c, &["HRANDFIELD", "h", "-500"]));
    assert_eq!(many.len(), 500);
    assert_eq!(many.into_iter().collect::<HashSet<_>>(), all);

    // WITHVALUES: flat in RESP2, [field, value] pairs in RESP3.
    let flat = strings(&v(&mut c, &["HRANDFIELD", "h", "-4", "WITHVALUES"]));
    assert_eq!(flat.len(), 8);
    for p in flat.chunks(2) {
        assert_eq!(p[1], p[0].replace('f', "v"));
    }
    match v(&mut c3, &["HRANDFIELD", "h", "3", "WITHVALUES"]) {
        Value::Array(pairs) => {
            assert_eq!(pairs.len(), 3);
            for p in &pairs {
                let p = strings(p);
                assert_eq!(p.len(), 2);
                assert_eq!(p[1], p[0].replace('f', "v"));
            }
        }
        other => panic!("{other:?}"),
    }

    assert_eq!(
        err(&mut c, &["HRANDFIELD", "h", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        err(
            &mut c,
            &["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"]
        ),
        "ERR value is out of range"
    );
    assert_eq!(
        err(&mut c, &["HRANDFIELD", "h", "1", "WITHVALUE"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["HRANDFIELD", "h", "x"]),
        "ERR value is not an integer or out of range"
    );

    // The same on a large (hashtable) hash.
    let _: () = q(&mut c, &["CONFIG", "SET", "hash-max-listpack-entries", "4"]);
    let _: i64 = q(&mut c, &["HSET", "h", "f10", "v10"]);
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "h"]),
        "hashtable"
    );
    let many = strings(&v(&mut c, &["HRANDFIELD", "h", "-1000"]));
    assert_eq!(many.into_iter().collect::<HashSet<_>>().len(), 11);
    let some = strings(&v(&mut c, &["HRANDFIELD", "h", "2"]));
    assert_eq!(some.iter().collect::<HashSet<_>>().len(), 2);
    let most = strings(&v(&mut c, &["HRANDFIELD", "h", "9", "WITHVALUES"]));
    assert_eq!(most.len(), 18);
}

/// Runs a whole HSCAN iteration; returns field → value and the number of calls.
fn full_scan(
    c: &mut redis::Connection,
    key: &str,
    extra: &[&str],
) -> (HashMap<String, String>, usize) {
    let mut cursor = "0".to_string();
    let mut seen = HashMap::new();
    let mut calls = 0;
    loop {
        let mut words = vec!["HSCAN", key, &cursor];
        words.extend_from_slice(extra);
        let reply = v(c, &words);
        calls += 1;
        let Value::Array(parts) = reply else {
            panic!("{reply:?}")
        };
        let next = match &parts[0] {
            Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("{other:?}"),
        };
        for p in strings(&parts[1]).chunks(2) {
            seen.insert(p[0].clone(), p[1].clone());
        }
        if next == "0" {
            return (seen, calls);
        }
        cursor = next;
    }
}

#[test]
fn hscan_small_hashes_in_one_call_large_ones_in_pages() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["HSET", "small", "a", "1", "b", "2", "ab", "3"]);
    assert_eq!(
        v(&mut c, &["HSCAN", "small", "0", "COUNT", "1"]),
        Value::Array(vec![
            bulk("0"),
            Value::Array(vec![
                bulk("a"),
                bulk("1"),
                bulk("b"),
                bulk("2"),
                bulk("ab"),
                bulk("3")
            ])
        ])
    );
    assert_eq!(
        strings(&match v(&mut c, &["HSCAN", "small", "0", "MATCH", "a*"]) {
            Value::Array(p) => p[1].clone(),
            other => panic!("{other:?}"),
        }),
        ["a", "1", "ab", "3"]
    );
    assert_eq!(
        v(&mut c, &["HSCAN", "nokey", "0", "BOGUS"]),
        Value::Array(vec![bulk("0"), Value::Array(vec![])])
    );
    assert_eq!(
        err(&mut c, &["HSCAN", "small", "0", "BOGUS"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["HSCAN", "small", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["HSCAN", "small", "0", "TYPE", "hash"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["HSCAN", "small", "0", "COUNT", "x"]),
        "ERR value is not an integer or out of range"
    );

    for i in 0..1000 {
        let f = format!("field:{i}");
        let val = i.to_string();
        let _: i64 = q(&mut c, &["HSET", "big", &f, &val]);
    }
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "big"]),
        "hashtable"
    );
    let (seen, calls) = full_scan(&mut c, "big", &[]);
    assert_eq!(seen.len(), 1000);
    assert_eq!(seen["field:42"], "42");
    assert!(calls > 10, "a large hash pages ({calls} calls)");
    let (seen, _) = full_scan(&mut c, "big", &["MATCH", "field:1?", "COUNT", "50"]);
    assert_eq!(seen.len(), 10);
}

#[test]
fn encodings_follow_the_thresholds_and_never_shrink_back() {
    let s = server();
    let mut c = con(&s);
    let enc = |c: &mut redis::Connection, k: &str| q::<String>(c, &["OBJECT", "ENCODING", k]);
    let _: i64 = q(&mut c, &["HSET", "h", "a", "1"]);
    assert_eq!(enc(&mut c, "h"), "listpack");
    let long = "x".repeat(65);
    let _: i64 = q(&mut c, &["HSET", "h", "b", &long]);
    assert_eq!(enc(&mut c, "h"), "hashtable");
    let _: i64 = q(&mut c, &["HDEL", "h", "b"]);
    assert_eq!(enc(&mut c, "h"), "hashtable");

    let _: () = q(&mut c, &["CONFIG", "SET", "hash-max-listpack-entries", "3"]);
    let _: i64 = q(&mut c, &["HSET", "n", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(enc(&mut c, "n"), "listpack");
    let _: i64 = q(&mut c, &["HSET", "n", "d", "4"]);
    assert_eq!(enc(&mut c, "n"), "hashtable");
    let _: () = q(&mut c, &["CONFIG", "SET", "hash-max-listpack-value", "2"]);
    let _: String = q(&mut c, &["HINCRBYFLOAT", "f", "x", "1.5"]);
    assert_eq!(enc(&mut c, "f"), "hashtable");
    // The renamed option's old name works too.
    let _: () = q(&mut c, &["CONFIG", "SET", "hash-max-ziplist-value", "64"]);
    let _: i64 = q(&mut c, &["HSET", "g", "a", "1"]);
    assert_eq!(enc(&mut c, "g"), "listpack");
}

#[test]
fn writes_count_as_redis_counts_them() {
    let s = server();
    let mut c = con(&s);
    let dirty = |c: &mut redis::Connection| -> i64 {
        let info: String = q(c, &["INFO", "persistence"]);
        info.lines()
            .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("dirty in INFO")
    };
    let d0 = dirty(&mut c);
    let _: i64 = q(&mut c, &["HSET", "h", "a", "1", "b", "2", "a", "3"]);
    assert_eq!(dirty(&mut c) - d0, 3);
    let d0 = dirty(&mut c);
    let _: i64 = q(&mut c, &["HDEL", "h", "a", "b", "nosuch"]);
    assert_eq!(dirty(&mut c) - d0, 2);
    let d0 = dirty(&mut c);
    let _: i64 = q(&mut c, &["HSETNX", "x", "a", "1"]);
    let _: i64 = q(&mut c, &["HSETNX", "x", "a", "1"]);
    assert_eq!(dirty(&mut c) - d0, 1);
}
