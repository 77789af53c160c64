//! Set commands: membership, random picks, moves, algebra and its STORE forms, SSCAN,
//! encodings, keyspace events, `dirty` and what each write propagates (checked against
//! Redis 7.0.15 by hand; `tests/resp-diff/sets.txt` holds the byte-level cases).

use std::collections::BTreeSet;
use std::time::Duration;

use redis::Value;

use crate::common::*;

fn members(c: &mut redis::Connection, key: &str) -> BTreeSet<String> {
    q(c, &["SMEMBERS", key])
}

fn list(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn set_of(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn encoding(c: &mut redis::Connection, key: &str) -> String {
    q(c, &["OBJECT", "ENCODING", key])
}

fn dirty(c: &mut redis::Connection) -> i64 {
    let info: String = q(c, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save")
}

/// Everything propagated since the last call, one line per command.
fn propagated(s: &emberkv::BackgroundServer) -> Vec<String> {
    s.propagation().drain_text()
}

#[test]
fn add_remove_and_membership() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(q::<i64>(&mut c, &["SADD", "s", "a", "b", "a"]), 2);
    assert_eq!(q::<i64>(&mut c, &["SADD", "s", "b", "c"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 3);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", "a"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "s", "z"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SISMEMBER", "nosuch", "z"]), 0);
    assert_eq!(
        q::<Vec<i64>>(&mut c, &["SMISMEMBER", "s", "a", "z", "c"]),
        [1, 0, 1]
    );
    assert_eq!(q::<Vec<i64>>(&mut c, &["SMISMEMBER", "nosuch", "a"]), [0]);
    assert_eq!(members(&mut c, "s"), set_of(&["a", "b", "c"]));
    assert_eq!(q::<i64>(&mut c, &["SREM", "s", "a", "z"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SREM", "nosuch", "a"]), 0);
    // Emptying a set deletes its key.
    assert_eq!(q::<i64>(&mut c, &["SREM", "s", "b", "c", "d"]), 2);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "s"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SCARD", "s"]), 0);
    // Binary members round-trip.
    let bin: Vec<u8> = vec![0, 255, b'\r', b'\n'];
    let added: i64 = redis::cmd("SADD").arg("b").arg(&bin).query(&mut c).unwrap();
    assert_eq!(added, 1);
    let got: Vec<Vec<u8>> = redis::cmd("SMEMBERS").arg("b").query(&mut c).unwrap();
    assert_eq!(got, vec![bin]);
}

#[test]
fn wrong_types_and_argument_errors() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["SET", "str", "x"]);
    let _: i64 = q(&mut c, &["SADD", "s", "1"]);
    const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
    for cmd in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SMEMBERS", "str"],
        &["SISMEMBER", "str", "a"],
        &["SCARD", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "0"],
        &["SRANDMEMBER", "str", "0"],
        &["SINTER", "nosuch", "str"],
        &["SUNION", "s", "str"],
        &["SDIFF", "nosuch", "str"],
        &["SINTERSTORE", "d", "s", "str"],
        &["SINTERCARD", "2", "nosuch", "str"],
        &["SMOVE", "s", "str", "1"],
        &["SMOVE", "str", "s", "1"],
        &["SSCAN", "str", "0"],
    ] {
        assert_eq!(err(&mut c, cmd), WRONGTYPE, "{cmd:?}");
    }
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "nosuch", "str", "1"]), 0);
    let range = "ERR value is out of range, must be positive";
    assert_eq!(err(&mut c, &["SPOP", "s", "-1"]), range);
    assert_eq!(err(&mut c, &["SPOP", "s", "x"]), range);
    assert_eq!(err(&mut c, &["SPOP", "s", "1", "2"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["SRANDMEMBER", "s", "x"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["SRANDMEMBER", "s", "-9223372036854775808"]),
        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    );
    assert_eq!(
        err(&mut c, &["SISMEMBER", "s"]),
        "ERR wrong number of arguments for 'sismember' command"
    );
    let numkeys = "ERR numkeys should be greater than 0";
    assert_eq!(err(&mut c, &["SINTERCARD", "0", "s"]), numkeys);
    assert_eq!(err(&mut c, &["SINTERCARD", "x", "s"]), numkeys);
    assert_eq!(
        err(&mut c, &["SINTERCARD", "2", "s"]),
        "ERR Number of keys can't be greater than number of args"
    );
    let limit = "ERR LIMIT can't be negative";
    assert_eq!(err(&mut c, &["SINTERCARD", "1", "s", "LIMIT", "-1"]), limit);
    assert_eq!(err(&mut c, &["SINTERCARD", "1", "s", "LIMIT", "x"]), limit);
    for bad in [
        &["SINTERCARD", "1", "s", "LIMIT"][..],
        &["SINTERCARD", "1", "s", "foo", "1"],
        &["SSCAN", "s", "0", "COUNT", "0"],
        &["SSCAN", "s", "0", "TYPE", "set"],
        &["SSCAN", "s", "0", "MATCH"],
    ] {
        assert_eq!(err(&mut c, bad), "ERR syntax error", "{bad:?}");
    }
    assert_eq!(err(&mut c, &["SSCAN", "s", "x"]), "ERR invalid cursor");
    // A missing key answers an empty page before its options are read.
    assert_eq!(
        v(&mut c, &["SSCAN", "nosuch", "0", "bogus"]),
        Value::Array(vec![bulk("0"), Value::Array(vec![])])
    );
}

#[test]
fn resp3_shapes() {
    let s = server();
    let mut c = con3(&s);
    let _: i64 = q(&mut c, &["SADD", "s", "3", "1", "2"]);
    let ints = |w: &[&str]| w.iter().map(|x| bulk(x)).collect::<Vec<_>>();
    assert_eq!(
        v(&mut c, &["SMEMBERS", "s"]),
        Value::Set(ints(&["1", "2", "3"]))
    );
    assert_eq!(v(&mut c, &["SMEMBERS", "nosuch"]), Value::Set(vec![]));
    assert_eq!(
        v(&mut c, &["SUNION", "s", "nosuch"]),
        Value::Set(ints(&["1", "2", "3"]))
    );
    assert_eq!(v(&mut c, &["SINTER", "s", "nosuch"]), Value::Set(vec![]));
    assert_eq!(
        v(&mut c, &["SDIFF", "s"]),
        Value::Set(ints(&["1", "2", "3"]))
    );
    assert_eq!(v(&mut c, &["SPOP", "s", "0"]), Value::Set(vec![]));
    assert_eq!(v(&mut c, &["SPOP", "nosuch", "2"]), Value::Set(vec![]));
    assert_eq!(v(&mut c, &["SPOP", "nosuch"]), Value::Nil);
    assert_eq!(v(&mut c, &["SRANDMEMBER", "nosuch"]), Value::Nil);
    // SRANDMEMBER answers an array (a negative count repeats members).
    assert_eq!(
        v(&mut c, &["SRANDMEMBER", "s", "100"]),
        Value::Array(ints(&["1", "2", "3"]))
    );
    assert!(matches!(v(&mut c, &["SRANDMEMBER", "s", "-5"]), Value::Array(a) if a.len() == 5));
    assert_eq!(
        v(&mut c, &["SPOP", "s", "10"]),
        Value::Set(ints(&["1", "2", "3"]))
    );
    assert_eq!(v(&mut c, &["EXISTS", "s"]), Value::Int(0));
}

#[test]
fn encodings_follow_the_intset_rules_and_config() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(
        &mut c,
        &["SADD", "i", "5", "-3", "70000", "9223372036854775807"],
    );
    assert_eq!(encoding(&mut c, "i"), "intset");
    // Intsets answer in ascending order.
    let got: Vec<String> = q(&mut c, &["SMEMBERS", "i"]);
    assert_eq!(got, list(&["-3", "5", "70000", "9223372036854775807"]));
    for not_int in ["a", "01", "-0", "+1", "9223372036854775808"] {
        let key = format!("k{not_int}");
        let _: i64 = q(&mut c, &["SADD", &key, "1", not_int]);
        assert_eq!(encoding(&mut c, &key), "hashtable", "{not_int}");
    }
    let _: () = q(&mut c, &["CONFIG", "SET", "set-max-intset-entries", "3"]);
    let _: i64 = q(&mut c, &["SADD", "g", "1", "2", "3"]);
    assert_eq!(encoding(&mut c, "g"), "intset");
    let _: i64 = q(&mut c, &["SADD", "g", "4"]);
    assert_eq!(encoding(&mut c, "g"), "hashtable");
    // Never back on shrinking.
    let _: i64 = q(&mut c, &["SREM", "g", "4", "3", "2"]);
    assert_eq!(encoding(&mut c, "g"), "hashtable");
    // Results of the STORE forms are encoded as new sets are.
    let _: i64 = q(&mut c, &["SINTERSTORE", "d", "g", "g"]);
    assert_eq!(encoding(&mut c, "d"), "intset");
    let _: () = q(&mut c, &["CONFIG", "SET", "set-max-intset-entries", "512"]);
    // SDIFFSTORE's algorithm shows in the encoding, as in Redis: with three sets the
    // copy-and-remove algorithm adds "a" (a hash table), with two the filter does not.
    let _: i64 = q(
        &mut c,
        &["SADD", "s0", "1", "2", "3", "4", "5", "6", "7", "8", "a"],
    );
    let _: i64 = q(&mut c, &["SADD", "s1", "a"]);
    let _: i64 = q(&mut c, &["SADD", "s2", "x"]);
    assert_eq!(q::<i64>(&mut c, &["SDIFFSTORE", "d3", "s0", "s1", "s2"]), 8);
    assert_eq!(encoding(&mut c, "d3"), "hashtable");
    assert_eq!(q::<i64>(&mut c, &["SDIFFSTORE", "d2", "s0", "s1"]), 8);
    assert_eq!(encoding(&mut c, "d2"), "intset");
}

#[test]
fn random_picks() {
    let s = server();
    let mut c = con(&s);
    let all: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    let mut add = vec!["SADD", "s"];
    add.extend(all.iter().map(String::as_str));
    let _: i64 = q(&mut c, &add);
    let everything: BTreeSet<String> = all.iter().cloned().collect();
    for count in [1, 5, 20, 40, 49] {
        let got: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", &count.to_string()]);
        let distinct: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(distinct.len(), count, "distinct for {count}");
        assert!(distinct.is_subset(&everything));
    }
    let got: Vec<String> = q(&mut c, &["SRANDMEMBER", "s", "-200"]);
    assert_eq!(got.len(), 200);
    assert!(got.iter().all(|m| everything.contains(m)));
    assert!(
        got.iter().collect::<BTreeSet<_>>().len() > 10,
        "repeats only"
    );
    // Successive single picks are not all the same.
    let picks: BTreeSet<String> = (0..40)
        .map(|_| q::<String>(&mut c, &["SRANDMEMBER", "s"]))
        .collect();
    assert!(picks.len() > 5, "{picks:?}");
    // SPOP removes what it returns, whatever the strategy the count selects.
    let mut left = everything.clone();
    for count in [1, 3, 30] {
        let popped: Vec<String> = q(&mut c, &["SPOP", "s", &count.to_string()]);
        assert_eq!(popped.len(), count);
        for p in popped {
            assert!(left.remove(&p), "{p} popped twice or never there");
        }
        assert_eq!(members(&mut c, "s"), left);
    }
    let one: String = q(&mut c, &["SPOP", "s"]);
    assert!(left.remove(&one));
    let rest: BTreeSet<String> = q(&mut c, &["SPOP", "s", "100"]);
    assert_eq!(rest, left);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "s"]), 0);
    // A huge negative count is refused rather than built.
    let _: i64 = q(&mut c, &["SADD", "x", "1"]);
    assert!(err(&mut c, &["SRANDMEMBER", "x", "-9223372036854775807"]).starts_with("ERR "));
}

#[test]
fn smove_between_sets() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["SADD", "a", "1", "2"]);
    let _: i64 = q(&mut c, &["SADD", "b", "2", "3"]);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "a", "b", "1"]), 1);
    assert_eq!(members(&mut c, "b"), set_of(&["1", "2", "3"]));
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "a", "b", "9"]), 0);
    // Already in the destination: still moved out of the source, which empties.
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "a", "b", "2"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "a"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "b", "new", "x"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "b", "new", "3"]), 1);
    assert_eq!(members(&mut c, "new"), set_of(&["3"]));
    assert_eq!(encoding(&mut c, "new"), "intset");
    // Same source and destination: membership only.
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "b", "b", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["SMOVE", "b", "b", "9"]), 0);
    assert_eq!(members(&mut c, "b"), set_of(&["1", "2"]));
}

#[test]
fn intersections_unions_differences_and_store() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(
        &mut c,
        &["SADD", "i1", "1", "2", "3", "4", "5", "6", "x", "y"],
    );
    let _: i64 = q(&mut c, &["SADD", "i2", "2", "4", "6", "8", "y"]);
    let _: i64 = q(&mut c, &["SADD", "i3", "4", "6", "y", "z"]);
    let got: BTreeSet<String> = q(&mut c, &["SINTER", "i1", "i2", "i3"]);
    assert_eq!(got, set_of(&["4", "6", "y"]));
    assert!(q::<Vec<String>>(&mut c, &["SINTER", "i1", "nosuch"]).is_empty());
    assert_eq!(q::<i64>(&mut c, &["SINTERCARD", "3", "i1", "i2", "i3"]), 3);
    assert_eq!(
        q::<i64>(&mut c, &["SINTERCARD", "2", "i1", "i2", "LIMIT", "2"]),
        2
    );
    assert_eq!(
        q::<i64>(&mut c, &["SINTERCARD", "2", "i1", "i2", "limit", "0"]),
        4
    );
    let got: BTreeSet<String> = q(&mut c, &["SUNION", "i2", "i3", "nosuch"]);
    assert_eq!(got, set_of(&["2", "4", "6", "8", "y", "z"]));
    let got: BTreeSet<String> = q(&mut c, &["SDIFF", "i1", "i2", "nosuch", "i3"]);
    assert_eq!(got, set_of(&["1", "3", "5", "x"]));
    assert!(q::<Vec<String>>(&mut c, &["SDIFF", "nosuch", "i1"]).is_empty());

    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", "d", "i1", "i2"]), 4);
    assert_eq!(members(&mut c, "d"), set_of(&["2", "4", "6", "y"]));
    assert_eq!(q::<i64>(&mut c, &["SUNIONSTORE", "d", "d", "i3"]), 5);
    assert_eq!(members(&mut c, "d"), set_of(&["2", "4", "6", "y", "z"]));
    assert_eq!(q::<i64>(&mut c, &["SDIFFSTORE", "d", "i1", "i2", "i3"]), 4);
    assert_eq!(members(&mut c, "d"), set_of(&["1", "3", "5", "x"]));
    // The destination's old type and TTL do not matter; an empty result deletes it.
    let _: () = q(&mut c, &["SET", "str", "v", "EX", "100"]);
    assert_eq!(q::<i64>(&mut c, &["SUNIONSTORE", "str", "i3"]), 4);
    assert_eq!(q::<String>(&mut c, &["TYPE", "str"]), "set");
    assert_eq!(q::<i64>(&mut c, &["TTL", "str"]), -1);
    assert_eq!(q::<i64>(&mut c, &["SINTERSTORE", "str", "i1", "nosuch"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "str"]), 0);
}

#[test]
fn sscan_pages_tables_and_answers_intsets_whole() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["SADD", "ints", "3", "1", "2", "10", "20"]);
    assert_eq!(
        v(&mut c, &["SSCAN", "ints", "0", "COUNT", "1"]),
        Value::Array(vec![
            bulk("0"),
            Value::Array(vec![
                bulk("1"),
                bulk("2"),
                bulk("3"),
                bulk("10"),
                bulk("20")
            ])
        ])
    );
    assert_eq!(
        v(&mut c, &["SSCAN", "ints", "0", "MATCH", "*0"]),
        Value::Array(vec![bulk("0"), Value::Array(vec![bulk("10"), bulk("20")])])
    );
    let mut add = vec!["SADD".to_string(), "t".to_string()];
    add.extend((0..500).map(|i| format!("member:{i}")));
    let words: Vec<&str> = add.iter().map(String::as_str).collect();
    let _: i64 = q(&mut c, &words);
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, page): (String, Vec<String>) =
            q(&mut c, &["SSCAN", "t", &cursor, "MATCH", "member:1*"]);
        seen.extend(page);
        calls += 1;
        cursor = next;
        if cursor == "0" {
            break;
        }
    }
    assert!(calls > 5, "a hash table pages ({calls} calls)");
    let expected: BTreeSet<String> = (0..500)
        .map(|i| format!("member:{i}"))
        .filter(|m| m.starts_with("member:1"))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn writes_keep_the_ttl_and_fire_redis_events() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEAn"]);
    let mut sub_con = con(&s);
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe("__keyevent@0__:*").expect("psubscribe");
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let script: &[&[&str]] = &[
        &["SADD", "a", "1", "2"],
        &["SADD", "a", "2"],
        &["SREM", "a", "9"],
        &["SADD", "b", "2"],
        &["SMOVE", "a", "b", "1"],
        &["SMOVE", "a", "b", "2"],
        &["SMOVE", "b", "c", "2"],
        &["SUNIONSTORE", "d", "b", "c"],
        &["SINTERSTORE", "d", "b", "nosuch"],
        &["SDIFFSTORE", "d", "nosuch"],
        &["SPOP", "c"],
        &["SADD", "e", "1", "2", "3"],
        &["SPOP", "e", "3"],
        &["SREM", "b", "1"],
    ];
    for cmd in script {
        let _: Value = q(&mut c, cmd);
    }
    let expected = [
        "new:a",
        "sadd:a",
        "new:b",
        "sadd:b",
        "srem:a",
        "sadd:b",
        "srem:a",
        "del:a",
        "srem:b",
        "new:c",
        "sadd:c",
        "new:d",
        "sunionstore:d",
        "del:d",
        "spop:c",
        "del:c",
        "new:e",
        "sadd:e",
        "spop:e",
        "del:e",
        "srem:b",
        "del:b",
    ];
    let got: Vec<String> = (0..expected.len())
        .map(|_| {
            let m = pubsub.get_message().expect("a message within 5 s");
            let event = m.get_channel_name().trim_start_matches("__keyevent@0__:");
            format!("{event}:{}", m.get_payload::<String>().expect("payload"))
        })
        .collect();
    assert_eq!(got, expected);
    // Writes to an existing set keep its TTL.
    let _: i64 = q(&mut c, &["SADD", "t", "1"]);
    let _: i64 = q(&mut c, &["EXPIRE", "t", "100"]);
    let _: i64 = q(&mut c, &["SADD", "t", "2"]);
    let _: i64 = q(&mut c, &["SREM", "t", "1"]);
    let _: Value = q(&mut c, &["SPOP", "t", "0"]);
    assert!(q::<i64>(&mut c, &["TTL", "t"]) > 0);
}

#[test]
fn dirty_counts_as_redis_counts() {
    let s = server();
    let mut c = con(&s);
    let mut step = |cmd: &[&str]| {
        let before = dirty(&mut c);
        let _: Value = q(&mut c, cmd);
        dirty(&mut c) - before
    };
    assert_eq!(step(&["SADD", "s", "1", "2", "3"]), 3);
    assert_eq!(step(&["SADD", "s", "3", "4"]), 1);
    assert_eq!(step(&["SADD", "s", "4"]), 0);
    assert_eq!(step(&["SREM", "s", "1", "2", "9"]), 2);
    assert_eq!(step(&["SPOP", "s"]), 1);
    assert_eq!(step(&["SPOP", "s", "0"]), 0);
    assert_eq!(step(&["SADD", "t", "1", "2", "3", "4", "5", "6"]), 6);
    assert_eq!(step(&["SPOP", "t", "2"]), 2);
    assert_eq!(step(&["SPOP", "t", "20"]), 4);
    assert_eq!(step(&["SADD", "a", "1", "2"]), 2);
    assert_eq!(step(&["SADD", "b", "2"]), 1);
    assert_eq!(step(&["SMOVE", "a", "b", "1"]), 2);
    assert_eq!(step(&["SMOVE", "a", "b", "2"]), 1);
    assert_eq!(step(&["SMOVE", "b", "b", "2"]), 0);
    assert_eq!(step(&["SUNIONSTORE", "d", "b"]), 1);
    assert_eq!(step(&["SDIFFSTORE", "d", "nosuch"]), 1);
    assert_eq!(step(&["SDIFFSTORE", "d", "nosuch"]), 0);
    assert_eq!(step(&["SINTERSTORE", "d", "b", "nosuch"]), 0);
}

#[test]
fn writes_propagate_in_redis_form() {
    let s = server();
    s.propagation().set_enabled(true);
    let mut c = con(&s);
    let twelve = [
        "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
    ];
    let mut add = vec!["SADD", "s"];
    add.extend(twelve);
    let _: i64 = q(&mut c, &add);
    let _: i64 = q(&mut c, &["SADD", "s", "3"]);
    let _: i64 = q(&mut c, &["SREM", "s", "99"]);
    let popped: String = q(&mut c, &["SPOP", "s"]);
    let two: Vec<String> = q(&mut c, &["SPOP", "s", "2"]);
    let _: i64 = q(&mut c, &["SADD", "t", "x"]);
    let _: Vec<String> = q(&mut c, &["SPOP", "t", "5"]);
    let _: Vec<String> = q(&mut c, &["SPOP", "t", "5"]);
    let _: i64 = q(&mut c, &["SADD", "a", "1"]);
    let _: i64 = q(&mut c, &["SMOVE", "a", "a", "1"]);
    let _: i64 = q(&mut c, &["SMOVE", "a", "b", "1"]);
    let _: i64 = q(&mut c, &["SUNIONSTORE", "d", "b"]);
    let _: i64 = q(&mut c, &["SINTERSTORE", "e", "nosuch"]);
    let _: i64 = q(&mut c, &["SDIFFSTORE", "d", "nosuch"]);
    assert_eq!(
        propagated(&s),
        [
            "SELECT 0".to_string(),
            format!("SADD s {}", twelve.join(" ")),
            format!("SREM s {popped}"),
            "MULTI".into(),
            format!("SREM s {}", two[0]),
            format!("SREM s {}", two[1]),
            "EXEC".into(),
            "SADD t x".into(),
            "DEL t".into(),
            "SADD a 1".into(),
            "SMOVE a b 1".into(),
            "SUNIONSTORE d b".into(),
            "SDIFFSTORE d nosuch".into(),
        ]
    );
    // Under lazyfree-lazy-server-del, taking a whole set replays as UNLINK.
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "lazyfree-lazy-server-del", "yes"],
    );
    let _: i64 = q(&mut c, &["SADD", "u", "1"]);
    propagated(&s);
    let _: Vec<String> = q(&mut c, &["SPOP", "u", "1"]);
    assert_eq!(propagated(&s), ["UNLINK u"]);
}
