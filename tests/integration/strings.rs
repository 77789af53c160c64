//! String commands: values, options, counters, ranges, TTLs set through string commands.

use redis::Value;

use crate::common::{bulk, con, con3, err, manual_server, q, server, v, T0};

#[test]
fn set_and_get_round_trip_binary_and_empty_values() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["GET", "missing"]), Value::Nil);
    assert_eq!(v(&mut c, &["SET", "k", "v"]), Value::Okay);
    assert_eq!(q::<String>(&mut c, &["GET", "k"]), "v");
    assert_eq!(v(&mut c, &["SET", "empty", ""]), Value::Okay);
    assert_eq!(v(&mut c, &["GET", "empty"]), bulk(""));
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "empty"]), 0);

    let binary: Vec<u8> = (0..=255u8).collect();
    let key = b"bin\x00key\r\n".to_vec();
    let () = redis::cmd("SET")
        .arg(&key)
        .arg(&binary)
        .query(&mut c)
        .unwrap();
    let got: Vec<u8> = redis::cmd("GET").arg(&key).query(&mut c).unwrap();
    assert_eq!(got, binary);
    assert_eq!(
        redis::cmd("STRLEN").arg(&key).query::<i64>(&mut c).unwrap(),
        256
    );
}

#[test]
fn set_nx_xx_get_options() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "k", "1", "NX"]), Value::Okay);
    assert_eq!(v(&mut c, &["SET", "k", "2", "NX"]), Value::Nil);
    assert_eq!(v(&mut c, &["SET", "other", "1", "XX"]), Value::Nil);
    assert_eq!(v(&mut c, &["EXISTS", "other"]), Value::Int(0));
    assert_eq!(v(&mut c, &["SET", "k", "3", "XX"]), Value::Okay);
    assert_eq!(v(&mut c, &["SET", "k", "4", "GET"]), bulk("3"));
    assert_eq!(v(&mut c, &["SET", "new", "x", "GET"]), Value::Nil);
    // NX GET on an existing key: nothing is written, the old value comes back.
    assert_eq!(v(&mut c, &["SET", "k", "5", "NX", "GET"]), bulk("4"));
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("4"));
    // Options are case-insensitive and may repeat when they do not conflict.
    assert_eq!(v(&mut c, &["set", "k", "6", "xx", "Xx", "gEt"]), bulk("4"));
}

#[test]
fn set_option_errors() {
    let s = server();
    let mut c = con(&s);
    for bad in [
        &["SET", "k", "v", "NX", "XX"][..],
        &["SET", "k", "v", "EX", "10", "PX", "100"],
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k", "v", "KEEPTTL", "EXAT", "10"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "bogus"],
        &["SET", "k", "v", "PERSIST"],
        // A syntax error anywhere wins over a bad number.
        &["SET", "k", "v", "EX", "abc", "bogus"],
    ] {
        assert_eq!(err(&mut c, bad), "ERR syntax error", "{bad:?}");
    }
    assert_eq!(
        err(&mut c, &["SET", "k", "v", "EX", "abc"]),
        "ERR value is not an integer or out of range"
    );
    for bad in [
        &["SET", "k", "v", "EX", "0"][..],
        &["SET", "k", "v", "PX", "-5"],
        &["SET", "k", "v", "EXAT", "0"],
        &["SET", "k", "v", "EX", "9223372036854775807"],
        &["SET", "k", "v", "PX", "9223372036854775807"],
    ] {
        assert_eq!(
            err(&mut c, bad),
            "ERR invalid expire time in 'set' command",
            "{bad:?}"
        );
    }
    assert_eq!(
        err(&mut c, &["SET", "k"]),
        "ERR wrong number of arguments for 'set' command"
    );
    assert_eq!(v(&mut c, &["EXISTS", "k"]), Value::Int(0));
}

#[test]
fn set_expiry_options_and_keepttl() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "k", "v", "EX", "100"]), Value::Okay);
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(100));
    assert_eq!(v(&mut c, &["SET", "k", "v", "PX", "2500"]), Value::Okay);
    assert_eq!(v(&mut c, &["PTTL", "k"]), Value::Int(2500));
    let at = (T0 / 1000 + 50).to_string();
    assert_eq!(v(&mut c, &["SET", "k", "v", "EXAT", &at]), Value::Okay);
    assert_eq!(
        v(&mut c, &["EXPIRETIME", "k"]),
        Value::Int(T0 as i64 / 1000 + 50)
    );
    let pat = (T0 + 7_000).to_string();
    assert_eq!(v(&mut c, &["SET", "k", "v", "PXAT", &pat]), Value::Okay);
    assert_eq!(
        v(&mut c, &["PEXPIRETIME", "k"]),
        Value::Int(T0 as i64 + 7_000)
    );
    // The last of repeated EX options wins.
    assert_eq!(
        v(&mut c, &["SET", "k", "v", "EX", "10", "EX", "20"]),
        Value::Okay
    );
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(20));
    // KEEPTTL keeps the deadline; a plain SET clears it.
    assert_eq!(v(&mut c, &["SET", "k", "w", "KEEPTTL"]), Value::Okay);
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(20));
    assert_eq!(v(&mut c, &["SET", "k", "x"]), Value::Okay);
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(-1));
}

#[test]
fn setnx_setex_psetex() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SETNX", "k", "1"]), Value::Int(1));
    assert_eq!(v(&mut c, &["SETNX", "k", "2"]), Value::Int(0));
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("1"));
    assert_eq!(v(&mut c, &["SETEX", "e", "10", "v"]), Value::Okay);
    assert_eq!(v(&mut c, &["TTL", "e"]), Value::Int(10));
    assert_eq!(v(&mut c, &["PSETEX", "p", "1500", "v"]), Value::Okay);
    assert_eq!(v(&mut c, &["PTTL", "p"]), Value::Int(1500));
    assert_eq!(
        err(&mut c, &["SETEX", "e", "0", "v"]),
        "ERR invalid expire time in 'setex' command"
    );
    assert_eq!(
        err(&mut c, &["PSETEX", "e", "-1", "v"]),
        "ERR invalid expire time in 'psetex' command"
    );
    assert_eq!(
        err(&mut c, &["SETEX", "e", "ten", "v"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(
        err(&mut c, &["SETEX", "e", "9223372036854775807", "v"]),
        "ERR invalid expire time in 'setex' command"
    );
}

#[test]
fn getset_getdel() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["GETSET", "k", "1"]), Value::Nil);
    assert_eq!(v(&mut c, &["SET", "k", "2", "EX", "100"]), Value::Okay);
    assert_eq!(v(&mut c, &["GETSET", "k", "3"]), bulk("2"));
    // GETSET discards the TTL, like SET.
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(-1));
    assert_eq!(v(&mut c, &["GETDEL", "k"]), bulk("3"));
    assert_eq!(v(&mut c, &["GETDEL", "k"]), Value::Nil);
    assert_eq!(v(&mut c, &["EXISTS", "k"]), Value::Int(0));
}

#[test]
fn getex_changes_or_removes_the_ttl() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["GETEX", "missing", "EX", "10"]), Value::Nil);
    // A missing key answers nil before the time is validated.
    assert_eq!(v(&mut c, &["GETEX", "missing", "EX", "0"]), Value::Nil);
    assert_eq!(v(&mut c, &["SET", "k", "v"]), Value::Okay);
    assert_eq!(v(&mut c, &["GETEX", "k"]), bulk("v"));
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(-1));
    assert_eq!(v(&mut c, &["GETEX", "k", "EX", "100"]), bulk("v"));
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(100));
    assert_eq!(v(&mut c, &["GETEX", "k", "PX", "1234"]), bulk("v"));
    assert_eq!(v(&mut c, &["PTTL", "k"]), Value::Int(1234));
    assert_eq!(v(&mut c, &["GETEX", "k", "PERSIST"]), bulk("v"));
    assert_eq!(v(&mut c, &["TTL", "k"]), Value::Int(-1));
    let pat = (T0 + 9_000).to_string();
    assert_eq!(v(&mut c, &["GETEX", "k", "PXAT", &pat]), bulk("v"));
    assert_eq!(v(&mut c, &["PTTL", "k"]), Value::Int(9_000));
    // A deadline in the past deletes the key after returning it.
    assert_eq!(v(&mut c, &["GETEX", "k", "EXAT", "1"]), bulk("v"));
    assert_eq!(v(&mut c, &["EXISTS", "k"]), Value::Int(0));

    assert_eq!(v(&mut c, &["SET", "k", "v"]), Value::Okay);
    assert_eq!(
        err(&mut c, &["GETEX", "k", "EX", "0"]),
        "ERR invalid expire time in 'getex' command"
    );
    assert_eq!(
        err(&mut c, &["GETEX", "k", "EX", "ten"]),
        "ERR value is not an integer or out of range"
    );
    for bad in [
        &["GETEX", "k", "EX", "10", "PX", "10"][..],
        &["GETEX", "k", "PERSIST", "EX", "10"],
        &["GETEX", "k", "KEEPTTL"],
        &["GETEX", "k", "EX"],
        &["GETEX", "k", "NX"],
    ] {
        assert_eq!(err(&mut c, bad), "ERR syntax error", "{bad:?}");
    }
}

#[test]
fn mget_mset_msetnx() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["MSET", "a", "1", "b", "2"]), Value::Okay);
    assert_eq!(
        v(&mut c, &["MGET", "a", "missing", "b"]),
        Value::Array(vec![bulk("1"), Value::Nil, bulk("2")])
    );
    assert_eq!(
        err(&mut c, &["MSET", "a", "1", "b"]),
        "ERR wrong number of arguments for 'mset' command"
    );
    // All or nothing.
    assert_eq!(v(&mut c, &["MSETNX", "a", "x", "c", "3"]), Value::Int(0));
    assert_eq!(v(&mut c, &["EXISTS", "c"]), Value::Int(0));
    assert_eq!(v(&mut c, &["MSETNX", "c", "3", "d", "4"]), Value::Int(1));
    assert_eq!(
        v(&mut c, &["MGET", "c", "d"]),
        Value::Array(vec![bulk("3"), bulk("4")])
    );
    assert_eq!(
        err(&mut c, &["MSETNX", "e", "1", "f"]),
        "ERR wrong number of arguments for 'msetnx' command"
    );
    // A repeated key in MSET: the last value wins.
    assert_eq!(v(&mut c, &["MSET", "r", "1", "r", "2"]), Value::Okay);
    assert_eq!(v(&mut c, &["GET", "r"]), bulk("2"));
}

#[test]
fn incr_decr_family() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["INCR", "n"]), Value::Int(1));
    assert_eq!(v(&mut c, &["INCRBY", "n", "10"]), Value::Int(11));
    assert_eq!(v(&mut c, &["DECR", "n"]), Value::Int(10));
    assert_eq!(v(&mut c, &["DECRBY", "n", "-5"]), Value::Int(15));
    assert_eq!(v(&mut c, &["INCRBY", "n", "-20"]), Value::Int(-5));
    assert_eq!(v(&mut c, &["GET", "n"]), bulk("-5"));
    assert_eq!(v(&mut c, &["DECR", "fresh"]), Value::Int(-1));
    assert_eq!(v(&mut c, &["OBJECT", "ENCODING", "n"]), bulk("int"));
}

#[test]
fn incr_errors_and_overflow() {
    let s = server();
    let mut c = con(&s);
    for value in [
        "abc",
        " 1",
        "1 ",
        "01",
        "+1",
        "1.0",
        "",
        "99999999999999999999",
    ] {
        assert_eq!(v(&mut c, &["SET", "s", value]), Value::Okay);
        assert_eq!(
            err(&mut c, &["INCR", "s"]),
            "ERR value is not an integer or out of range",
            "{value:?}"
        );
    }
    assert_eq!(
        err(&mut c, &["INCRBY", "n", "1.5"]),
        "ERR value is not an integer or out of range"
    );
    assert_eq!(v(&mut c, &["SET", "n", "9223372036854775807"]), Value::Okay);
    assert_eq!(
        err(&mut c, &["INCR", "n"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        v(&mut c, &["SET", "n", "-9223372036854775808"]),
        Value::Okay
    );
    assert_eq!(
        err(&mut c, &["DECRBY", "n", "1"]),
        "ERR increment or decrement would overflow"
    );
    assert_eq!(
        err(&mut c, &["DECRBY", "n", "-9223372036854775808"]),
        "ERR decrement would overflow"
    );
    assert_eq!(v(&mut c, &["GET", "n"]), bulk("-9223372036854775808"));
}

#[test]
fn incr_keeps_the_ttl() {
    let s = manual_server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "n", "1", "EX", "100"]), Value::Okay);
    assert_eq!(v(&mut c, &["INCR", "n"]), Value::Int(2));
    assert_eq!(v(&mut c, &["INCRBYFLOAT", "n", "0.5"]), bulk("2.5"));
    assert_eq!(v(&mut c, &["APPEND", "n", "0"]), Value::Int(4));
    assert_eq!(v(&mut c, &["SETRANGE", "n", "0", "9"]), Value::Int(4));
    assert_eq!(v(&mut c, &["TTL", "n"]), Value::Int(100));
    assert_eq!(v(&mut c, &["GET", "n"]), bulk("9.50"));
}

#[test]
fn incrbyfloat_matches_redis_long_double_output() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["INCRBYFLOAT", "f", "0.1"]), bulk("0.1"));
    // long double arithmetic: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    assert_eq!(v(&mut c, &["INCRBYFLOAT", "f", "0.2"]), bulk("0.3"));
    assert_eq!(v(&mut c, &["SET", "f", "10.50"]), Value::Okay);
    assert_eq!(v(&mut c, &["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    assert_eq!(v(&mut c, &["SET", "f", "5.0e3"]), Value::Okay);
    assert_eq!(v(&mut c, &["INCRBYFLOAT", "f", "2.0e2"]), bulk("5200"));
    assert_eq!(v(&mut c, &["INCRBYFLOAT", "f", "-5200"]), bulk("0"));
    assert_eq!(
        v(&mut c, &["INCRBYFLOAT", "f", "1e20"]),
        bulk("100000000000000000000")
    );
    assert_eq!(v(&mut c, &["SET", "f", "3"]), Value::Okay);
    assert_eq!(v(&mut c, &["INCRBYFLOAT", "f", "0x10"]), bulk("19"));
    assert_eq!(
        v(&mut c, &["INCRBYFLOAT", "f", "1.23456789012345678"]),
        bulk("20.23456789012345678")
    );
    assert_eq!(v(&mut c, &["OBJECT", "ENCODING", "f"]), bulk("embstr"));
}

#[test]
fn incrbyfloat_errors() {
    let s = server();
    let mut c = con(&s);
    for bad in ["abc", "", " 1", "1 ", "nan", "1e", "1e5000"] {
        assert_eq!(
            err(&mut c, &["INCRBYFLOAT", "f", bad]),
            "ERR value is not a valid float",
            "{bad:?}"
        );
    }
    assert_eq!(
        err(&mut c, &["INCRBYFLOAT", "f", "inf"]),
        "ERR increment would produce NaN or Infinity"
    );
    assert_eq!(v(&mut c, &["SET", "s", "hello"]), Value::Okay);
    assert_eq!(
        err(&mut c, &["INCRBYFLOAT", "s", "1"]),
        "ERR value is not a valid float"
    );
    assert_eq!(v(&mut c, &["EXISTS", "f"]), Value::Int(0));
}

#[test]
fn append_and_strlen() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["APPEND", "k", "Hello"]), Value::Int(5));
    assert_eq!(v(&mut c, &["APPEND", "k", " World"]), Value::Int(11));
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("Hello World"));
    assert_eq!(v(&mut c, &["STRLEN", "k"]), Value::Int(11));
    assert_eq!(v(&mut c, &["STRLEN", "missing"]), Value::Int(0));
    // Appending nothing still creates the key.
    assert_eq!(v(&mut c, &["APPEND", "e", ""]), Value::Int(0));
    assert_eq!(v(&mut c, &["EXISTS", "e"]), Value::Int(1));
    assert_eq!(v(&mut c, &["SET", "n", "12"]), Value::Okay);
    assert_eq!(v(&mut c, &["APPEND", "n", "3"]), Value::Int(3));
    assert_eq!(v(&mut c, &["OBJECT", "ENCODING", "n"]), bulk("raw"));
}

#[test]
fn getrange_and_substr_index_rules() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "k", "This is a string"]), Value::Okay);
    let cases = [
        ("0", "3", "This"),
        ("-3", "-1", "ing"),
        ("0", "-1", "This is a string"),
        ("10", "100", "string"),
        ("5", "1", ""),
        ("-1", "-5", ""),
        ("-100", "3", "This"),
        ("100", "200", ""),
    ];
    for (a, b, want) in cases {
        assert_eq!(v(&mut c, &["GETRANGE", "k", a, b]), bulk(want), "{a} {b}");
    }
    assert_eq!(v(&mut c, &["SUBSTR", "k", "0", "3"]), bulk("This"));
    assert_eq!(v(&mut c, &["GETRANGE", "missing", "0", "-1"]), bulk(""));
    assert_eq!(
        err(&mut c, &["GETRANGE", "k", "a", "1"]),
        "ERR value is not an integer or out of range"
    );
}

#[test]
fn setrange_pads_with_zero_bytes_and_checks_offsets() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(v(&mut c, &["SET", "k", "Hello World"]), Value::Okay);
    assert_eq!(v(&mut c, &["SETRANGE", "k", "6", "Redis"]), Value::Int(11));
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("Hello Redis"));
    assert_eq!(v(&mut c, &["SETRANGE", "pad", "3", "ab"]), Value::Int(5));
    let got: Vec<u8> = q(&mut c, &["GET", "pad"]);
    assert_eq!(got, b"\0\0\0ab");
    // An empty patch on a missing key creates nothing.
    assert_eq!(v(&mut c, &["SETRANGE", "none", "5", ""]), Value::Int(0));
    assert_eq!(v(&mut c, &["EXISTS", "none"]), Value::Int(0));
    assert_eq!(
        err(&mut c, &["SETRANGE", "k", "-1", "x"]),
        "ERR offset is out of range"
    );
    assert_eq!(
        err(&mut c, &["SETRANGE", "k", "536870912", "x"]),
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    );
}

#[test]
fn lcs_string_len_and_idx() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(
        v(&mut c, &["MSET", "a", "ohmytext", "b", "mynewtext"]),
        Value::Okay
    );
    assert_eq!(v(&mut c, &["LCS", "a", "b"]), bulk("mytext"));
    assert_eq!(v(&mut c, &["LCS", "a", "b", "LEN"]), Value::Int(6));
    let range = |x: i64, y: i64| Value::Array(vec![Value::Int(x), Value::Int(y)]);
    assert_eq!(
        v(
            &mut c,
            &["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]
        ),
        Value::Array(vec![
            bulk("matches"),
            Value::Array(vec![Value::Array(vec![
                range(4, 7),
                range(5, 8),
                Value::Int(4)
            ])]),
            bulk("len"),
            Value::Int(6),
        ])
    );
    assert_eq!(
        err(&mut c, &["LCS", "a", "b", "LEN", "IDX"]),
        "ERR If you want both the length and indexes, please just use IDX."
    );
    assert_eq!(err(&mut c, &["LCS", "a", "b", "bogus"]), "ERR syntax error");
    assert_eq!(v(&mut c, &["LCS", "a", "missing"]), bulk(""));
}

#[test]
fn resp3_nulls_and_maps() {
    let s = server();
    let mut c = con3(&s);
    assert_eq!(v(&mut c, &["GET", "missing"]), Value::Nil);
    assert_eq!(v(&mut c, &["SET", "a", "ohmytext"]), Value::Okay);
    assert_eq!(v(&mut c, &["SET", "b", "mynewtext"]), Value::Okay);
    match v(&mut c, &["LCS", "a", "b", "IDX"]) {
        Value::Map(fields) => {
            assert_eq!(fields.len(), 2);
            assert_eq!(fields[0].0, bulk("matches"));
            assert_eq!(fields[1], (bulk("len"), Value::Int(6)));
        }
        other => panic!("LCS IDX should be a RESP3 map, got {other:?}"),
    }
}

#[test]
fn string_arity_errors() {
    let s = server();
    let mut c = con(&s);
    for (name, words) in [
        ("get", &["GET"][..]),
        ("get", &["GET", "a", "b"]),
        ("incr", &["INCR"]),
        ("mget", &["MGET"]),
        ("getrange", &["GETRANGE", "k", "0"]),
        ("setrange", &["SETRANGE", "k", "0"]),
    ] {
        assert_eq!(
            err(&mut c, words),
            format!("ERR wrong number of arguments for '{name}' command")
        );
    }
}
