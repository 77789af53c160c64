//! Keyspace commands: deletion, expiry (lazy and active, driven by a manual clock), type,
//! enumeration, renaming, databases, OBJECT.

use std::collections::HashSet;
use std::time::Duration;

use redis::Value;

use crate::common::{bulk, con, err, eventually, manual_server, q, server, v, T0};

#[test]
fn del_unlink_exists_touch_count_keys() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(
        v(&mut c, &["MSET", "a", "1", "b", "2", "c", "3"]),
        Value::Okay
    );
    // A key named twice counts twice for EXISTS and TOUCH, once for DEL.
    assert_eq!(v(&mut c, &["EXISTS", "a", "a", "missing"]), Value::Int(2));
    assert_eq!(v(&mut c, &["TOUCH", "a", "b", "missing"]), Value::Int(2));
    assert_eq!(v(&mut c, &["DEL", "a", "a", "missing"]), Value::Int(1));
    assert_eq!(v(&mut c, &["UNLINK", "b", "c"]), Value::Int(2));
    assert_eq!(v(&mut c, &["DBSIZE"]), Value::Int(0));
    assert_eq!(
        err(&mut c, &["DEL"]),
        "ERR wrong number of arguments for 'del' command"
    );
}

#[test]
fn expire_ttl_persist() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["TTL", "missing"]), Value::Int(-2));
    assert_eq!(v(&mut c, &["PTTL", "missing"]), Value::Int(-2));
    assert_eq!(v(&mut c, &["EXPIRE", "missing", "10"]), Value::Int(0));
    assert_eq!(v(&mut c, &["SET", "k", "v"]), Value::Okay);
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(-1));
    assert_eq!(v(&mut c, &["EXPIRETIME", "k"]), Value::Int(-1));
    assert_eq!(v(&mut c, &["EXPIRE", "k", "100"]), Value::Int(1));
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(100));
    assert_eq!(v(&mut c, &["PTTL", "k"]), Value::Int(100_000));
    assert_eq!(
        v(&mut c, &["EXPIRETIME", "k"]),
        Value::Int((T0 / 1000 + 100) as i64)
    );
    assert_eq!(
        v(&mut c, &["PEXPIRETIME", "k"]),
        Value::Int((T0 + 100_000) as i64)
    );
    assert_eq!(v(&mut c, &["PEXPIRE", "k", "1500"]), Value::Int(1));
    // TTL rounds to the nearest second.
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(2));
    s.clock().advance(1_000);
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(1));
    assert_eq!(v(&mut c, &["PTTL", "k"]), Value::Int(500));
    assert_eq!(v(&mut c, &["PERSIST", "k"]), Value::Int(1));
    assert_eq!(v(&mut c, &["PERSIST", "k"]), Value::Int(0));
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(-1));
    // Absolute deadlines; the clock is now at T0 + 1 s.
    let at = (T0 / 1000 + 30).to_string();
    assert_eq!(v(&mut c, &["EXPIREAT", "k", &at]), Value::Int(1));
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(29));
    let pat = (T0 + 4_000).to_string();
    assert_eq!(v(&mut c, &["PEXPIREAT", "k", &pat]), Value::Int(1));
    assert_eq!(v(&mut c, &["PTTL", "k"]), Value::Int(3_000));
}

#[test]
fn expire_in_the_past_deletes() {
    let s = manual_server();
    let mut c = con(&s);
    for args in [
        &["EXPIRE", "k", "0"][..],
        &["EXPIRE", "k", "-5"],
        &["PEXPIRE", "k", "-1"],
        &["EXPIREAT", "k", "1"],
        &["PEXPIREAT", "k", "0"],
    ] {
        assert_eq!(v(&mut c, &["SET", "k", "v"]), Value::Okay);
        assert_eq!(v(&mut c, args), Value::Int(1), "{args:?}");
        assert_eq!(v(&mut c, &["EXISTS", "k"]), Value::Int(0), "{args:?}");
    }
}

#[test]
fn expire_nx_xx_gt_lt() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "k", "v"]), Value::Okay);
    assert_eq!(v(&mut c, &["EXPIRE", "k", "100", "XX"]), Value::Int(0));
    // No TTL counts as infinite: GT never applies, LT always does.
    assert_eq!(v(&mut c, &["EXPIRE", "k", "100", "GT"]), Value::Int(0));
    assert_eq!(v(&mut c, &["EXPIRE", "k", "100", "NX"]), Value::Int(1));
    assert_eq!(v(&mut c, &["EXPIRE", "k", "200", "NX"]), Value::Int(0));
    assert_eq!(v(&mut c, &["EXPIRE", "k", "50", "GT"]), Value::Int(0));
    assert_eq!(v(&mut c, &["EXPIRE", "k", "200", "gt"]), Value::Int(1));
    assert_eq!(v(&mut c, &["EXPIRE", "k", "300", "LT"]), Value::Int(0));
    assert_eq!(v(&mut c, &["EXPIRE", "k", "150", "LT"]), Value::Int(1));
    assert_eq!(
        v(&mut c, &["EXPIRE", "k", "120", "XX", "LT"]),
        Value::Int(1)
    );
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(120));
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "100", "NX", "XX"]),
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "100", "GT", "LT"]),
        "ERR GT and LT options at the same time are not compatible"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "100", "bogus"]),
        "ERR Unsupported option bogus"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "ten"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["EXPIRE", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'expire' command"
    );
    assert_eq!(
        err(&mut c, &["PEXPIRE", "k", "9223372036854775807"]),
        "ERR invalid expire time in 'pexpire' command"
    );
}

#[test]
fn expiretime_of_a_far_deadline_does_not_overflow() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "k", "v"]), Value::Okay);
    assert_eq!(
        v(&mut c, &["PEXPIREAT", "k", "9223372036854775807"]),
        Value::Int(1)
    );
    assert_eq!(
        v(&mut c, &["EXPIRETIME", "k"]),
        Value::Int(9223372036854776)
    );
    assert_eq!(
        v(&mut c, &["PEXPIRETIME", "k"]),
        Value::Int(9223372036854775807)
    );
    assert_eq!(v(&mut c, &["PING"]), Value::SimpleString("PONG".into()));
}

#[test]
fn keys_expire_lazily_when_read() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "k", "v", "PX", "1000"]), Value::Okay);
    s.clock().advance(999);
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("v"));
    assert_eq!(v(&mut c, &["PTTL", "k"]), Value::Int(1));
    s.clock().advance(2);
    assert_eq!(v(&mut c, &["GET", "k"]), Value::Nil);
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(-2));
    assert_eq!(v(&mut c, &["EXISTS", "k"]), Value::Int(0));
    // Expired keys are invisible to every command, writes included.
    assert_eq!(v(&mut c, &["SET", "n", "5", "EX", "1"]), Value::Okay);
    s.clock().advance(1_001);
    assert_eq!(v(&mut c, &["INCR", "n"]), Value::Int(1));
    assert_eq!(v(&mut c, &["TTL", "n"]), Value::Int(-1));
    assert_eq!(v(&mut c, &["SET", "x", "1", "EX", "1"]), Value::Okay);
    s.clock().advance(1_001);
    assert_eq!(v(&mut c, &["SETNX", "x", "2"]), Value::Int(1));
    assert_eq!(v(&mut c, &["GET", "x"]), bulk("2"));
}

#[test]
fn keys_expire_actively_without_being_read() {
    let s = manual_server();
    let mut c = con(&s);
    for i in 0..20 {
        let k = format!("tmp:{i}");
        assert_eq!(v(&mut c, &["SET", &k, "v", "EX", "5"]), Value::Okay);
    }
    assert_eq!(v(&mut c, &["SET", "keep", "v"]), Value::Okay);
    assert_eq!(v(&mut c, &["DBSIZE"]), Value::Int(21));
    s.clock().advance(6_000);
    // DBSIZE counts keys not yet reclaimed; only the background expiry can shrink it.
    let reclaimed = eventually(Duration::from_secs(5), || {
        q::<i64>(&mut c, &["DBSIZE"]) == 1
    });
    assert!(reclaimed, "active expiry did not remove the expired keys");
    assert_eq!(v(&mut c, &["GET", "keep"]), bulk("v"));
}

#[test]
fn type_reports_string_and_none() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "k", "v"]), Value::Okay);
    assert_eq!(
        v(&mut c, &["TYPE", "k"]),
        Value::SimpleString("string".into())
    );
    assert_eq!(
        v(&mut c, &["TYPE", "missing"]),
        Value::SimpleString("none".into())
    );
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn keys_glob_patterns() {
    let s = server();
    let mut c = con(&s);
    for k in [
        "hello", "hallo", "hxllo", "hllo", "heeeello", "foo", "foobar", "a*b", "a?b", "",
    ] {
        assert_eq!(v(&mut c, &["SET", k, "1"]), Value::Okay);
    }
    let keys = |c: &mut redis::Connection, p: &str| sorted(q::<Vec<String>>(c, &["KEYS", p]));
    assert_eq!(keys(&mut c, "h?llo"), ["hallo", "hello", "hxllo"]);
    assert_eq!(
        keys(&mut c, "h*llo"),
        ["hallo", "heeeello", "hello", "hllo", "hxllo"]
    );
    assert_eq!(keys(&mut c, "h[ae]llo"), ["hallo", "hello"]);
    assert_eq!(keys(&mut c, "h[^e]llo"), ["hallo", "hxllo"]);
    assert_eq!(keys(&mut c, "h[a-b]llo"), ["hallo"]);
    assert_eq!(keys(&mut c, "foo*"), ["foo", "foobar"]);
    assert_eq!(keys(&mut c, "a\\*b"), ["a*b"]);
    assert_eq!(keys(&mut c, "a?b"), ["a*b", "a?b"]);
    assert_eq!(keys(&mut c, "nomatch*"), Vec::<String>::new());
    assert_eq!(keys(&mut c, "*").len(), 10, "`*` matches the empty key too");
    assert_eq!(
        err(&mut c, &["KEYS"]),
        "ERR wrong number of arguments for 'keys' command"
    );
}

#[test]
fn keys_skips_expired_keys() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "a", "1", "PX", "10"]), Value::Okay);
    assert_eq!(v(&mut c, &["SET", "b", "1"]), Value::Okay);
    s.clock().advance(11);
    assert_eq!(q::<Vec<String>>(&mut c, &["KEYS", "*"]), ["b"]);
}

/// Runs a whole SCAN iteration; returns every key seen and how many calls it took.
fn scan_all(c: &mut redis::Connection, extra: &[&str]) -> (Vec<String>, usize) {
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    let mut calls = 0;
    loop {
        let mut words = vec!["SCAN", cursor.as_str()];
        words.extend_from_slice(extra);
        let (next, keys): (String, Vec<String>) = q(c, &words);
        seen.extend(keys);
        calls += 1;
        assert!(calls < 10_000, "SCAN never finished");
        if next == "0" {
            return (seen, calls);
        }
        cursor = next;
    }
}

#[test]
fn scan_returns_every_key_and_pages_with_count() {
    let s = server();
    let mut c = con(&s);
    for i in 0..50 {
        assert_eq!(v(&mut c, &["SET", &format!("key:{i}"), "v"]), Value::Okay);
    }
    let (seen, _) = scan_all(&mut c, &[]);
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), 50);
    assert!(unique.contains("key:0") && unique.contains("key:49"));

    let (small, small_calls) = scan_all(&mut c, &["COUNT", "2"]);
    let (_, big_calls) = scan_all(&mut c, &["COUNT", "1000"]);
    assert_eq!(small.into_iter().collect::<HashSet<_>>(), unique);
    assert!(
        small_calls > big_calls,
        "COUNT 2 took {small_calls} calls, COUNT 1000 took {big_calls}"
    );
    assert_eq!(big_calls, 1);

    let (matched, _) = scan_all(&mut c, &["MATCH", "key:1*", "COUNT", "7"]);
    let matched: HashSet<_> = matched.into_iter().collect();
    let want: HashSet<String> = std::iter::once("key:1".to_string())
        .chain((10..20).map(|i| format!("key:{i}")))
        .collect();
    assert_eq!(matched, want);
    let (strings, _) = scan_all(&mut c, &["TYPE", "string"]);
    assert_eq!(strings.len(), 50);
    let (hashes, _) = scan_all(&mut c, &["TYPE", "hash"]);
    assert!(hashes.is_empty());
}

#[test]
fn scan_errors() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(err(&mut c, &["SCAN", "abc"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["SCAN", "1.5"]), "ERR invalid cursor");
    assert_eq!(err(&mut c, &["SCAN", " 0"]), "ERR invalid cursor");
    assert_eq!(
        err(&mut c, &["SCAN", "18446744073709551616"]),
        "ERR invalid cursor"
    );
    assert_eq!(
        err(&mut c, &["SCAN", "0", "COUNT", "0"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SCAN", "0", "COUNT", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(err(&mut c, &["SCAN", "0", "MATCH"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["SCAN", "0", "BOGUS", "x"]),
        "ERR syntax error"
    );
    // strtoul rules: a sign is allowed, `-1` is the largest cursor.
    let (next, keys): (String, Vec<String>) = q(&mut c, &["SCAN", "+0"]);
    assert_eq!((next.as_str(), keys.len()), ("0", 0));
    let (next, _): (String, Vec<String>) = q(&mut c, &["SCAN", "-1"]);
    assert_eq!(next, "0");
}

#[test]
fn rename_and_renamenx() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(err(&mut c, &["RENAME", "missing", "x"]), "ERR no such key");
    assert_eq!(
        err(&mut c, &["RENAMENX", "missing", "x"]),
        "ERR no such key"
    );
    assert_eq!(v(&mut c, &["SET", "a", "1", "EX", "100"]), Value::Okay);
    assert_eq!(v(&mut c, &["RENAME", "a", "b"]), Value::Okay);
    assert_eq!(v(&mut c, &["GET", "b"]), bulk("1"));
    assert_eq!(
        v(&mut c, &["TTL", "b"]),
        Value::Int(100),
        "the TTL moves along"
    );
    assert_eq!(v(&mut c, &["EXISTS", "a"]), Value::Int(0));
    assert_eq!(v(&mut c, &["RENAME", "b", "b"]), Value::Okay);
    assert_eq!(v(&mut c, &["SET", "c", "2"]), Value::Okay);
    assert_eq!(v(&mut c, &["RENAMENX", "b", "c"]), Value::Int(0));
    assert_eq!(v(&mut c, &["RENAMENX", "b", "d"]), Value::Int(1));
    // RENAME overwrites the destination, TTL included.
    assert_eq!(v(&mut c, &["SET", "e", "3", "EX", "50"]), Value::Okay);
    assert_eq!(v(&mut c, &["RENAME", "c", "e"]), Value::Okay);
    assert_eq!(v(&mut c, &["GET", "e"]), bulk("2"));
    assert_eq!(v(&mut c, &["TTL", "e"]), Value::Int(-1));
}

#[test]
fn randomkey_dbsize_flushdb_flushall() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["RANDOMKEY"]), Value::Nil);
    assert_eq!(v(&mut c, &["SET", "only", "v"]), Value::Okay);
    assert_eq!(v(&mut c, &["RANDOMKEY"]), bulk("only"));
    assert_eq!(v(&mut c, &["MSET", "a", "1", "b", "2"]), Value::Okay);
    let k: String = q(&mut c, &["RANDOMKEY"]);
    assert!(["only", "a", "b"].contains(&k.as_str()));
    assert_eq!(v(&mut c, &["DBSIZE"]), Value::Int(3));
    assert_eq!(v(&mut c, &["SELECT", "1"]), Value::Okay);
    assert_eq!(v(&mut c, &["SET", "in1", "v"]), Value::Okay);
    assert_eq!(v(&mut c, &["FLUSHDB"]), Value::Okay);
    assert_eq!(v(&mut c, &["DBSIZE"]), Value::Int(0));
    assert_eq!(v(&mut c, &["SELECT", "0"]), Value::Okay);
    assert_eq!(
        v(&mut c, &["DBSIZE"]),
        Value::Int(3),
        "FLUSHDB clears one db"
    );
    assert_eq!(v(&mut c, &["SELECT", "2"]), Value::Okay);
    assert_eq!(v(&mut c, &["SET", "in2", "v"]), Value::Okay);
    assert_eq!(v(&mut c, &["FLUSHALL", "SYNC"]), Value::Okay);
    assert_eq!(v(&mut c, &["DBSIZE"]), Value::Int(0));
    assert_eq!(v(&mut c, &["SELECT", "0"]), Value::Okay);
    assert_eq!(v(&mut c, &["DBSIZE"]), Value::Int(0));
    assert_eq!(v(&mut c, &["FLUSHDB", "ASYNC"]), Value::Okay);
    assert_eq!(err(&mut c, &["FLUSHDB", "bogus"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["FLUSHALL", "ASYNC", "SYNC"]),
        "ERR syntax error"
    );
}

#[test]
fn select_keeps_databases_apart() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "k", "zero"]), Value::Okay);
    assert_eq!(v(&mut c, &["SELECT", "15"]), Value::Okay);
    assert_eq!(v(&mut c, &["GET", "k"]), Value::Nil);
    assert_eq!(v(&mut c, &["SET", "k", "fifteen"]), Value::Okay);
    assert_eq!(v(&mut c, &["SELECT", "0"]), Value::Okay);
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("zero"));
    assert_eq!(
        err(&mut c, &["SELECT", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["SELECT", "-1"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["SELECT", "one"]),
        "ERR value is not an integer or out of range"
    );
    // Each connection has its own selected database.
    let mut other = con(&s);
    assert_eq!(v(&mut other, &["GET", "k"]), bulk("zero"));
}

#[test]
fn swapdb_swaps_contents_for_every_client() {
    let s = server();
    let mut c = con(&s);
    let mut in1 = con(&s);
    assert_eq!(v(&mut in1, &["SELECT", "1"]), Value::Okay);
    assert_eq!(v(&mut c, &["SET", "k", "from0"]), Value::Okay);
    assert_eq!(v(&mut in1, &["SET", "k", "from1"]), Value::Okay);
    assert_eq!(v(&mut c, &["SWAPDB", "0", "1"]), Value::Okay);
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("from1"));
    assert_eq!(v(&mut in1, &["GET", "k"]), bulk("from0"));
    assert_eq!(v(&mut c, &["SWAPDB", "3", "3"]), Value::Okay);
    assert_eq!(
        err(&mut c, &["SWAPDB", "0", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["SWAPDB", "x", "1"]),
        "ERR invalid first DB index"
    );
    assert_eq!(
        err(&mut c, &["SWAPDB", "0", "y"]),
        "ERR invalid second DB index"
    );
}

#[test]
fn move_between_databases() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "k", "v", "EX", "100"]), Value::Okay);
    assert_eq!(v(&mut c, &["MOVE", "k", "3"]), Value::Int(1));
    assert_eq!(v(&mut c, &["EXISTS", "k"]), Value::Int(0));
    assert_eq!(v(&mut c, &["MOVE", "k", "3"]), Value::Int(0));
    assert_eq!(v(&mut c, &["SELECT", "3"]), Value::Okay);
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("v"));
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(100));
    // The destination already has the key: nothing moves.
    assert_eq!(v(&mut c, &["SELECT", "0"]), Value::Okay);
    assert_eq!(v(&mut c, &["SET", "k", "zero"]), Value::Okay);
    assert_eq!(v(&mut c, &["MOVE", "k", "3"]), Value::Int(0));
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("zero"));
    assert_eq!(
        err(&mut c, &["MOVE", "k", "0"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut c, &["MOVE", "k", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["MOVE", "k", "x"]),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn copy_within_and_across_databases() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "src", "v", "EX", "100"]), Value::Okay);
    assert_eq!(v(&mut c, &["COPY", "src", "dst"]), Value::Int(1));
    assert_eq!(v(&mut c, &["GET", "dst"]), bulk("v"));
    assert_eq!(v(&mut c, &["TTL", "dst"]), Value::Int(100));
    assert_eq!(v(&mut c, &["COPY", "src", "dst"]), Value::Int(0));
    assert_eq!(v(&mut c, &["SET", "src", "v2"]), Value::Okay);
    assert_eq!(v(&mut c, &["COPY", "src", "dst", "REPLACE"]), Value::Int(1));
    assert_eq!(v(&mut c, &["GET", "dst"]), bulk("v2"));
    assert_eq!(v(&mut c, &["COPY", "missing", "x"]), Value::Int(0));
    assert_eq!(v(&mut c, &["COPY", "src", "src", "DB", "5"]), Value::Int(1));
    assert_eq!(v(&mut c, &["SELECT", "5"]), Value::Okay);
    assert_eq!(v(&mut c, &["GET", "src"]), bulk("v2"));
    assert_eq!(v(&mut c, &["SELECT", "0"]), Value::Okay);
    assert_eq!(
        err(&mut c, &["COPY", "src", "src"]),
        "ERR source and destination objects are the same"
    );
    assert_eq!(
        err(&mut c, &["COPY", "src", "x", "DB", "16"]),
        "ERR DB index is out of range"
    );
    assert_eq!(
        err(&mut c, &["COPY", "src", "x", "bogus"]),
        "ERR syntax error"
    );
    assert_eq!(err(&mut c, &["COPY", "src", "x", "DB"]), "ERR syntax error");
}

#[test]
fn object_encoding_refcount_idletime_freq() {
    let s = manual_server();
    let mut c = con(&s);
    for (value, enc) in [
        ("12345", "int"),
        ("-1", "int"),
        ("01", "embstr"),
        ("hello", "embstr"),
        ("a string longer than forty-four bytes, stored raw", "raw"),
    ] {
        assert_eq!(v(&mut c, &["SET", "k", value]), Value::Okay);
        assert_eq!(
            v(&mut c, &["OBJECT", "ENCODING", "k"]),
            bulk(enc),
            "{value}"
        );
    }
    assert_eq!(v(&mut c, &["OBJECT", "ENCODING", "missing"]), Value::Nil);
    assert_eq!(v(&mut c, &["SET", "k", "hello"]), Value::Okay);
    assert_eq!(v(&mut c, &["OBJECT", "REFCOUNT", "k"]), Value::Int(1));
    s.clock().advance(12_000);
    assert_eq!(v(&mut c, &["OBJECT", "IDLETIME", "k"]), Value::Int(12));
    // OBJECT itself does not count as an access; GET does.
    assert_eq!(v(&mut c, &["OBJECT", "IDLETIME", "k"]), Value::Int(12));
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("hello"));
    assert_eq!(v(&mut c, &["OBJECT", "IDLETIME", "k"]), Value::Int(0));
    assert!(err(&mut c, &["OBJECT", "FREQ", "k"])
        .starts_with("ERR An LFU maxmemory policy is not selected"));
    assert_eq!(
        err(&mut c, &["OBJECT", "BOGUS", "k"]),
        "ERR unknown subcommand 'BOGUS'. Try OBJECT HELP."
    );
    let help: Vec<String> = q(&mut c, &["OBJECT", "HELP"]);
    assert!(help[0].starts_with("OBJECT <subcommand>"));
}
