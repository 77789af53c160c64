//! SORT and SORT_RO: numeric and ALPHA orders, LIMIT, BY and GET patterns (strings and hash
//! fields), no-sort paging, STORE (replies, events, dirty, propagation), errors, key specs,
//! and pattern keys in every shard (SORT locks the whole keyspace). Checked against Redis
//! 7.0.15; `tests/resp-diff/sort.txt` holds the byte-level cases.

use std::time::Duration;

use redis::Value;

use crate::common::*;

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn dirty(c: &mut redis::Connection) -> i64 {
    let info: String = q(c, &["INFO", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix("rdb_changes_since_last_save:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("rdb_changes_since_last_save")
}

#[test]
fn sorts_lists_sets_and_sorted_sets() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["RPUSH", "l", "3", "1", "2", "10", "-5", "2.5"]);
    let sorted: Vec<String> = q(&mut c, &["SORT", "l"]);
    assert_eq!(sorted, strings(&["-5", "1", "2", "2.5", "3", "10"]));
    let desc: Vec<String> = q(&mut c, &["SORT_RO", "l", "DESC"]);
    assert_eq!(desc, strings(&["10", "3", "2.5", "2", "1", "-5"]));
    let alpha: Vec<String> = q(&mut c, &["SORT", "l", "ALPHA"]);
    assert_eq!(alpha, strings(&["-5", "1", "10", "2", "2.5", "3"]));
    let _: i64 = q(&mut c, &["SADD", "s", "b", "a", "C"]);
    let alpha: Vec<String> = q(&mut c, &["SORT", "s", "ALPHA"]);
    assert_eq!(alpha, strings(&["C", "a", "b"]));
    let _: i64 = q(&mut c, &["ZADD", "z", "1", "30", "2", "10", "3", "20"]);
    let by_value: Vec<String> = q(&mut c, &["SORT", "z"]);
    assert_eq!(by_value, strings(&["10", "20", "30"]));
    // Without sorting a sorted set keeps its score order; DESC reverses it.
    let by_score: Vec<String> = q(&mut c, &["SORT", "z", "BY", "nosort", "DESC"]);
    assert_eq!(by_score, strings(&["20", "10", "30"]));
    // SORT reads a sorted set in its skiplist form, as Redis converts it.
    assert_eq!(
        q::<String>(&mut c, &["OBJECT", "ENCODING", "z"]),
        "skiplist"
    );
    let empty: Vec<String> = q(&mut c, &["SORT", "nosuch"]);
    assert!(empty.is_empty());
}

#[test]
fn limit_clamps_and_nosort_pages_in_place() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["RPUSH", "l", "3", "1", "2", "10"]);
    let cases: &[(&[&str], &[&str])] = &[
        (&["LIMIT", "1", "2"], &["2", "3"]),
        (&["LIMIT", "-5", "2"], &["1", "2"]),
        (&["LIMIT", "2", "-1"], &["3", "10"]),
        (&["LIMIT", "1", "0"], &[]),
        (&["LIMIT", "4", "1"], &[]),
        (&["LIMIT", "1", "9223372036854775807"], &["2", "3", "10"]),
        (&["BY", "nosort"], &["3", "1", "2", "10"]),
        (&["BY", "nosort", "DESC", "LIMIT", "1", "2"], &["2", "1"]),
        (&["BY", "nosort", "LIMIT", "3", "100"], &["10"]),
        // A later BY with `*` does not turn sorting back on.
        (&["BY", "nosort", "BY", "w_*"], &["3", "1", "2", "10"]),
    ];
    for (opts, want) in cases {
        let mut words = vec!["SORT", "l"];
        words.extend_from_slice(opts);
        let got: Vec<String> = q(&mut c, &words);
        assert_eq!(got, strings(want), "{opts:?}");
    }
}

#[test]
fn by_and_get_read_strings_and_hash_fields() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["RPUSH", "ids", "1", "2", "3", "4"]);
    let _: () = q(&mut c, &["MSET", "w_1", "40", "w_2", "10", "w_3", "30"]);
    let _: () = q(
        &mut c,
        &["MSET", "o_1", "one", "o_2", "two", "o_3", "three"],
    );
    for (id, f, g) in [("1", "3", "z"), ("2", "1", "x"), ("3", "2", "y")] {
        let _: i64 = q(&mut c, &["HSET", &format!("h_{id}"), "f", f, "g", g]);
    }
    // A missing weight counts as 0.
    let by: Vec<String> = q(&mut c, &["SORT", "ids", "BY", "w_*"]);
    assert_eq!(by, strings(&["4", "2", "3", "1"]));
    let by_field: Vec<String> = q(&mut c, &["SORT", "ids", "BY", "h_*->f", "DESC"]);
    assert_eq!(by_field, strings(&["1", "3", "2", "4"]));
    // ALPHA: a missing weight sorts first.
    let alpha: Vec<String> = q(&mut c, &["SORT", "ids", "BY", "h_*->g", "ALPHA"]);
    assert_eq!(alpha, strings(&["4", "2", "3", "1"]));
    let got = v(
        &mut c,
        &[
            "SORT", "ids", "BY", "w_*", "GET", "#", "GET", "o_*", "GET", "h_*->g", "LIMIT", "0",
            "2",
        ],
    );
    assert_eq!(
        got,
        Value::Array(vec![
            bulk("4"),
            Value::Nil,
            Value::Nil,
            bulk("2"),
            bulk("two"),
            bulk("x"),
        ])
    );
    // A GET pattern without `*` names no key; a hash read as a string is nil too.
    let got = v(
        &mut c,
        &[
            "SORT_RO", "ids", "GET", "o_1", "GET", "h_*", "LIMIT", "0", "1",
        ],
    );
    assert_eq!(got, Value::Array(vec![Value::Nil, Value::Nil]));
    let mut c3 = con3(&s);
    let got = v(&mut c3, &["SORT", "ids", "GET", "o_*", "LIMIT", "3", "1"]);
    assert_eq!(got, Value::Array(vec![Value::Nil]));
}

#[test]
fn errors_match_redis() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["SET", "str", "x"]);
    let _: i64 = q(&mut c, &["RPUSH", "l", "1", "a"]);
    let wrongtype = "WRONGTYPE Operation against a key holding the wrong kind of value";
    assert_eq!(err(&mut c, &["SORT", "str"]), wrongtype);
    // Options are checked before the key.
    assert_eq!(
        err(&mut c, &["SORT", "str", "LIMIT", "a", "1"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["SORT", "nosuch", "LIMIT", "1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["SORT_RO", "l", "STORE", "d"]),
        "ERR syntax error"
    );
    assert_eq!(err(&mut c, &["SORT", "l", "GET"]), "ERR syntax error");
    let not_double = "ERR One or more scores can't be converted into double";
    assert_eq!(err(&mut c, &["SORT", "l"]), not_double);
    assert_eq!(err(&mut c, &["SORT", "l", "STORE", "d"]), not_double);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);
    let _: i64 = q(&mut c, &["RPUSH", "n", " 7", "0x1A", "", "1e3", "12 "]);
    assert_eq!(err(&mut c, &["SORT", "n"]), not_double);
    let _: String = q(&mut c, &["RPOP", "n"]);
    let got: Vec<String> = q(&mut c, &["SORT", "n"]);
    assert_eq!(got, strings(&["", " 7", "0x1A", "1e3"]));
}

#[test]
fn store_writes_a_list_and_reports_its_effects() {
    let s = server();
    s.propagation().set_enabled(true);
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "KEA"]);
    let mut sub_con = con(&s);
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe("__keyevent@0__:*").expect("psubscribe");
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _: i64 = q(&mut c, &["RPUSH", "l", "3", "1", "2"]);
    let _: () = q(&mut c, &["SET", "d", "x", "EX", "100"]);
    let before = dirty(&mut c);
    assert_eq!(q::<i64>(&mut c, &["SORT", "l", "DESC", "STORE", "d"]), 3);
    assert_eq!(dirty(&mut c) - before, 3);
    let stored: Vec<String> = q(&mut c, &["LRANGE", "d", "0", "-1"]);
    assert_eq!(stored, strings(&["3", "2", "1"]));
    assert_eq!(q::<i64>(&mut c, &["TTL", "d"]), -1);
    // GET with STORE keeps a place for missing values: the empty string.
    let _: () = q(&mut c, &["SET", "o_2", "two"]);
    assert_eq!(
        q::<i64>(
            &mut c,
            &["SORT", "l", "GET", "o_*", "GET", "#", "STORE", "d"]
        ),
        6
    );
    let stored: Vec<String> = q(&mut c, &["LRANGE", "d", "0", "-1"]);
    assert_eq!(stored, strings(&["", "1", "two", "2", "", "3"]));
    // Unsorted sets are stored sorted ALPHA.
    let _: i64 = q(&mut c, &["SADD", "s", "b", "c", "a"]);
    assert_eq!(
        q::<i64>(&mut c, &["SORT", "s", "BY", "nosort", "STORE", "d"]),
        3
    );
    let stored: Vec<String> = q(&mut c, &["LRANGE", "d", "0", "-1"]);
    assert_eq!(stored, strings(&["a", "b", "c"]));
    // An empty result deletes the destination (once).
    let before = dirty(&mut c);
    assert_eq!(q::<i64>(&mut c, &["SORT", "nosuch", "STORE", "d"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SORT", "nosuch", "STORE", "d"]), 0);
    assert_eq!(dirty(&mut c) - before, 1);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);
    let expected = [
        "rpush:l",
        "set:d",
        "expire:d",
        "sortstore:d",
        "set:o_2",
        "sortstore:d",
        "sadd:s",
        "sortstore:d",
        "del:d",
    ];
    let got: Vec<String> = (0..expected.len())
        .map(|_| {
            let m = pubsub.get_message().expect("a message within 5 s");
            let event = m.get_channel_name().trim_start_matches("__keyevent@0__:");
            format!("{event}:{}", m.get_payload::<String>().expect("payload"))
        })
        .collect();
    assert_eq!(got, expected);
    // Propagated as sent, and only when something changed; plain SORT is not propagated.
    let _: Vec<String> = q(&mut c, &["SORT", "l"]);
    let propagated: Vec<String> = s
        .propagation()
        .drain()
        .iter()
        .map(|a| {
            a.iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|l| l.to_ascii_lowercase().starts_with("sort"))
        .collect();
    assert_eq!(
        propagated,
        strings(&[
            "SORT l DESC STORE d",
            "SORT l GET o_* GET # STORE d",
            "SORT s BY nosort STORE d",
            "SORT nosuch STORE d",
        ])
    );
}

/// BY and GET name keys from the data, anywhere in the keyspace: SORT locks every shard, so
/// none of them trips the outside-key-spec check, inside MULTI too.
#[test]
fn patterns_reach_keys_in_every_shard() {
    let s = server();
    let mut c = con(&s);
    let ids: Vec<String> = (0..200).map(|i| i.to_string()).collect();
    let mut push = vec!["RPUSH", "ids"];
    push.extend(ids.iter().map(|s| s.as_str()));
    let _: i64 = q(&mut c, &push);
    for i in 0..200 {
        let _: () = q(&mut c, &["SET", &format!("w_{i}"), &(1000 - i).to_string()]);
        let _: () = q(&mut c, &["SET", &format!("o_{i}"), &format!("v{i}")]);
    }
    let got: Vec<String> = q(
        &mut c,
        &["SORT", "ids", "BY", "w_*", "GET", "o_*", "LIMIT", "0", "3"],
    );
    assert_eq!(got, strings(&["v199", "v198", "v197"]));
    let _: () = q(&mut c, &["MULTI"]);
    let _: String = q(
        &mut c,
        &["SORT", "ids", "BY", "w_*", "GET", "o_*", "STORE", "dst"],
    );
    let _: String = q(&mut c, &["LINDEX", "dst", "0"]);
    let replies: Vec<Value> = q(&mut c, &["EXEC"]);
    assert_eq!(replies, vec![Value::Int(200), bulk("v199")]);
}

#[test]
fn key_specs_match_redis() {
    let s = server();
    let mut c = con(&s);
    let keys: Vec<String> = q(
        &mut c,
        &[
            "COMMAND", "GETKEYS", "SORT", "k", "BY", "w_*", "GET", "o_*", "STORE", "d",
        ],
    );
    assert_eq!(keys, strings(&["k", "d"]));
    let keys: Vec<String> = q(
        &mut c,
        &["COMMAND", "GETKEYS", "SORT", "k", "STORE", "STORE", "d"],
    );
    assert_eq!(keys, strings(&["k", "d"]));
    let keys: Vec<String> = q(&mut c, &["COMMAND", "GETKEYS", "SORT_RO", "k", "BY", "w_*"]);
    assert_eq!(keys, strings(&["k"]));
    let info = v(&mut c, &["COMMAND", "INFO", "SORT"]);
    let Value::Array(rows) = info else {
        panic!("{info:?}")
    };
    let Value::Array(row) = &rows[0] else {
        panic!("{rows:?}")
    };
    assert_eq!(row[1], Value::Int(-2));
    assert_eq!(
        row[2],
        Value::Array(vec![
            Value::SimpleString("write".into()),
            Value::SimpleString("denyoom".into()),
            Value::SimpleString("movablekeys".into()),
        ])
    );
    assert_eq!(&row[3..6], &[Value::Int(1), Value::Int(1), Value::Int(1)]);
    let Value::Array(specs) = &row[8] else {
        panic!("{row:?}")
    };
    assert_eq!(specs.len(), 3);
}
