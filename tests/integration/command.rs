//! `COMMAND` and its subcommands: what clients (and cluster-aware libraries) learn about
//! commands, answered from the same table dispatch enforces.

use redis::Value;

use crate::common::{bulk, con, con3, err, q, server, v};

#[test]
fn command_count_matches_the_full_listing() {
    let s = server();
    let mut c = con(&s);
    let count: i64 = q(&mut c, &["COMMAND", "COUNT"]);
    let all: Vec<Value> = q(&mut c, &["COMMAND"]);
    assert_eq!(all.len() as i64, count);
    let names: Vec<String> = q(&mut c, &["COMMAND", "LIST"]);
    for name in [
        "get",
        "set",
        "scan",
        "client",
        "client|list",
        "command|getkeys",
    ] {
        assert!(
            names.iter().any(|n| n == name),
            "{name} missing from COMMAND LIST"
        );
    }
    assert_eq!(
        err(&mut c, &["COMMAND", "COUNT", "x"]),
        "ERR wrong number of arguments for 'command|count' command"
    );
}

fn strs(items: &[&str]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|s| Value::SimpleString(s.to_string()))
            .collect(),
    )
}

#[test]
fn command_info_describes_arity_flags_keys_and_categories() {
    let s = server();
    let mut c = con(&s);
    let Value::Array(entries) = v(&mut c, &["COMMAND", "INFO", "get", "nosuch", "mset"]) else {
        panic!("COMMAND INFO should be an array");
    };
    assert_eq!(entries.len(), 3);
    let Value::Array(get) = &entries[0] else {
        panic!("entry should be an array");
    };
    assert_eq!(get.len(), 10);
    assert_eq!(get[0], bulk("get"));
    assert_eq!(get[1], Value::Int(2));
    assert_eq!(get[2], strs(&["readonly", "fast"]));
    assert_eq!(&get[3..6], &[Value::Int(1), Value::Int(1), Value::Int(1)]);
    assert_eq!(get[6], strs(&["@read", "@string", "@fast"]));
    assert_eq!(entries[1], Value::Nil, "unknown commands give nil");
    let Value::Array(mset) = &entries[2] else {
        panic!("entry should be an array");
    };
    assert_eq!(mset[1], Value::Int(-3));
    assert_eq!(&mset[3..6], &[Value::Int(1), Value::Int(-1), Value::Int(2)]);
    // Tips are bulk strings.
    assert_eq!(
        mset[7],
        Value::Array(vec![
            bulk("request_policy:multi_shard"),
            bulk("response_policy:all_succeeded")
        ])
    );
}

#[test]
fn command_info_key_specs_for_keys_in_different_roles() {
    let s = server();
    let mut c = con(&s);
    let Value::Array(entries) = v(&mut c, &["COMMAND", "INFO", "copy"]) else {
        panic!("COMMAND INFO should be an array");
    };
    let Value::Array(copy) = &entries[0] else {
        panic!("entry should be an array");
    };
    let Value::Array(specs) = &copy[8] else {
        panic!("key specs should be an array in RESP2");
    };
    assert_eq!(specs.len(), 2, "source and destination have separate specs");
    let flags = |spec: &Value| -> Value {
        let Value::Array(fields) = spec else {
            panic!("spec should be a flat map");
        };
        let i = fields.iter().position(|f| *f == bulk("flags")).unwrap();
        fields[i + 1].clone()
    };
    assert_eq!(flags(&specs[0]), strs(&["RO", "access"]));
    assert_eq!(flags(&specs[1]), strs(&["OW", "update"]));
}

#[test]
fn command_info_subcommands_and_resp3_sets() {
    let s = server();
    let mut c = con3(&s);
    let Value::Array(entries) = v(&mut c, &["COMMAND", "INFO", "client", "ping"]) else {
        panic!("COMMAND INFO should be an array");
    };
    let Value::Array(client) = &entries[0] else {
        panic!("entry should be an array");
    };
    let Value::Array(subs) = &client[9] else {
        panic!("subcommands should be an array, got {:?}", client[9]);
    };
    assert!(subs.iter().any(|sub| matches!(
        sub,
        Value::Array(f) if f[0] == bulk("client|setname")
    )));
    let Value::Array(ping) = &entries[1] else {
        panic!("entry should be an array");
    };
    assert!(matches!(ping[2], Value::Set(_)), "flags are a set in RESP3");
    assert_eq!(ping[9], Value::Set(vec![]), "no subcommands: an empty set");
}

#[test]
fn command_getkeys() {
    let s = server();
    let mut c = con(&s);
    let keys = |c: &mut redis::Connection, words: &[&str]| -> Vec<String> {
        let mut all = vec!["COMMAND", "GETKEYS"];
        all.extend_from_slice(words);
        q(c, &all)
    };
    assert_eq!(keys(&mut c, &["GET", "k"]), ["k"]);
    assert_eq!(keys(&mut c, &["SET", "k", "v", "EX", "10"]), ["k"]);
    assert_eq!(keys(&mut c, &["MSET", "a", "1", "b", "2"]), ["a", "b"]);
    assert_eq!(keys(&mut c, &["MGET", "a", "b", "c"]), ["a", "b", "c"]);
    assert_eq!(
        keys(&mut c, &["COPY", "src", "dst", "DB", "1"]),
        ["src", "dst"]
    );
    assert_eq!(keys(&mut c, &["OBJECT", "ENCODING", "k"]), ["k"]);
    assert_eq!(
        err(&mut c, &["COMMAND", "GETKEYS", "PING", "x"]),
        "ERR The command has no key arguments"
    );
    assert_eq!(
        err(&mut c, &["COMMAND", "GETKEYS", "NOSUCH", "k"]),
        "ERR Invalid command specified"
    );
    assert_eq!(
        err(&mut c, &["COMMAND", "GETKEYS", "GET", "a", "b"]),
        "ERR Invalid number of arguments specified for command"
    );
}

#[test]
fn command_getkeysandflags_reports_each_keys_access() {
    let s = server();
    let mut c = con(&s);
    let flags = |c: &mut redis::Connection, words: &[&str]| -> Value {
        let mut all = vec!["COMMAND", "GETKEYSANDFLAGS"];
        all.extend_from_slice(words);
        v(c, &all)
    };
    let entry = |k: &str, f: &[&str]| Value::Array(vec![bulk(k), strs(f)]);
    assert_eq!(
        flags(&mut c, &["SET", "k", "v"]),
        Value::Array(vec![entry("k", &["OW", "update"])])
    );
    assert_eq!(
        flags(&mut c, &["SET", "k", "v", "GET"]),
        Value::Array(vec![entry("k", &["RW", "access", "update"])])
    );
    assert_eq!(
        flags(&mut c, &["RENAME", "a", "b"]),
        Value::Array(vec![
            entry("a", &["RW", "access", "delete"]),
            entry("b", &["OW", "update"])
        ])
    );
    assert_eq!(
        flags(&mut c, &["GET", "k"]),
        Value::Array(vec![entry("k", &["RO", "access"])])
    );
}

#[test]
fn command_list_filters() {
    let s = server();
    let mut c = con(&s);
    let mut by_pattern: Vec<String> =
        q(&mut c, &["COMMAND", "LIST", "FILTERBY", "PATTERN", "get*"]);
    by_pattern.sort();
    assert_eq!(
        by_pattern,
        ["get", "getbit", "getdel", "getex", "getrange", "getset"]
    );
    let strings: Vec<String> = q(&mut c, &["COMMAND", "LIST", "FILTERBY", "ACLCAT", "string"]);
    assert!(strings.iter().any(|n| n == "incrbyfloat"));
    assert!(!strings.iter().any(|n| n == "del"));
    let none: Vec<String> = q(&mut c, &["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]);
    assert!(none.is_empty());
    assert_eq!(
        err(&mut c, &["COMMAND", "LIST", "FILTERBY", "bogus", "x"]),
        "ERR syntax error"
    );
}

#[test]
fn command_docs_and_help() {
    let s = server();
    let mut c = con3(&s);
    let Value::Map(docs) = v(&mut c, &["COMMAND", "DOCS", "get"]) else {
        panic!("COMMAND DOCS should be a map in RESP3");
    };
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].0, bulk("get"));
    let Value::Map(fields) = &docs[0].1 else {
        panic!("doc entry should be a map");
    };
    assert!(fields.contains(&(bulk("group"), bulk("string"))));
    assert!(fields.contains(&(bulk("since"), bulk("1.0.0"))));
    let help: Vec<String> = q(&mut c, &["COMMAND", "HELP"]);
    assert!(help[0].starts_with("COMMAND <subcommand>"));
}
