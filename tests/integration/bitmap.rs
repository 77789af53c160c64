//! Bitmap commands: bits of ordinary strings (SETBIT, GETBIT), counting and searching with
//! byte or bit ranges (BITCOUNT, BITPOS), BITOP, and BITFIELD's integers with their overflow
//! policies — as a client sees them, in RESP2 and RESP3, plus their keyspace events.

use std::time::Duration;

use redis::Value;

use crate::common::{bulk, cmd, con, con3, err, q, server, v, RedisOracle};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
const BAD_OFFSET: &str = "ERR bit offset is not an integer or out of range";
const BAD_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

fn ints(v: &Value) -> Vec<Option<i64>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Int(n) => Some(*n),
                Value::Nil => None,
                other => panic!("not an integer: {other:?}"),
            })
            .collect(),
        other => panic!("not an array: {other:?}"),
    }
}

#[test]
fn setbit_and_getbit_edit_the_string_get_returns() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "k", "1", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "k", "7", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "k", "7", "1"]), 1);
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("A"));
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "k", "1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "k", "2"]), 0);
    // Past the end reads 0; a missing key too.
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "k", "1000000"]), 0);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "nokey", "3"]), 0);
    // Growing pads with zero bytes.
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "k", "23", "1"]), 0);
    assert_eq!(
        v(&mut c, &["GET", "k"]),
        Value::BulkString(b"A\x00\x01".to_vec())
    );
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "k"]), "raw");
    // The other way round: string commands write what the bit commands read.
    let _: () = q(&mut c, &["SET", "s", "12"]);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "s", "2"]), 1); // '1' = 0x31
    assert_eq!(q::<i64>(&mut c, &["APPEND", "s", "\u{1}"]), 3);
    assert_eq!(q::<i64>(&mut c, &["GETBIT", "s", "23"]), 1);
    // Editing keeps the TTL.
    let _: () = q(&mut c, &["SET", "t", "x", "EX", "1000"]);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "t", "100", "1"]), 0);
    assert!(q::<i64>(&mut c, &["TTL", "t"]) > 990);

    assert_eq!(err(&mut c, &["SETBIT", "k", "-1", "1"]), BAD_OFFSET);
    assert_eq!(err(&mut c, &["SETBIT", "k", "x", "1"]), BAD_OFFSET);
    assert_eq!(err(&mut c, &["GETBIT", "k", "1.5"]), BAD_OFFSET);
    assert_eq!(
        err(&mut c, &["SETBIT", "k", "1", "2"]),
        "ERR bit is not an integer or out of range"
    );
    let _: () = q(&mut c, &["LPUSH", "list", "a"]);
    assert_eq!(err(&mut c, &["SETBIT", "list", "0", "1"]), WRONGTYPE);
    assert_eq!(err(&mut c, &["GETBIT", "list", "0"]), WRONGTYPE);
    // Arguments are checked before the type.
    assert_eq!(err(&mut c, &["SETBIT", "list", "x", "1"]), BAD_OFFSET);
}

#[test]
fn setbit_beyond_2_pow_32_and_the_proto_max_bulk_len_limit() {
    let s = server();
    let mut c = con(&s);
    // 512 MB hold bits 0..2^32-1: offset 2^32 is out of range, for reads too.
    assert_eq!(
        err(&mut c, &["SETBIT", "big", "4294967296", "1"]),
        BAD_OFFSET
    );
    assert_eq!(err(&mut c, &["GETBIT", "big", "4294967296"]), BAD_OFFSET);
    assert_eq!(
        err(&mut c, &["BITFIELD", "big", "SET", "u8", "4294967296", "1"]),
        BAD_OFFSET
    );
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "big"]), 0);
    // The limit follows proto-max-bulk-len (checked at 1 MB so the test stays small).
    let _: () = q(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    assert_eq!(q::<i64>(&mut c, &["SETBIT", "big", "8388607", "1"]), 0);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "big"]), 1024 * 1024);
    assert_eq!(err(&mut c, &["SETBIT", "big", "8388608", "1"]), BAD_OFFSET);
    assert_eq!(
        err(&mut c, &["BITFIELD", "big", "GET", "u8", "#1048576"]),
        BAD_OFFSET
    );
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "big"]), 1);
}

#[test]
fn bitcount_with_byte_and_bit_ranges() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["SET", "f", "foobar"]);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "f"]), 26);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "f", "0", "0"]), 4);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "f", "1", "1"]), 6);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "f", "1", "1", "BYTE"]), 6);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "f", "5", "30", "BIT"]), 17);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "f", "-5", "-1", "bit"]), 2);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "f", "-2", "-1"]), 7);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "f", "3", "1"]), 0);
    // Both negative and inverted is empty, even where clamping would give byte 0.
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "f", "-100", "-200"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "f", "-100", "0"]), 4);
    assert_eq!(
        q::<i64>(&mut c, &["BITCOUNT", "nokey", "0", "-1", "BIT"]),
        0
    );
    assert_eq!(err(&mut c, &["BITCOUNT", "f", "1"]), "ERR syntax error");
    assert_eq!(
        err(&mut c, &["BITCOUNT", "f", "0", "1", "bits"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["BITCOUNT", "f", "0", "x"]),
        "ERR value is not an integer or out of range"
    );
    // A missing key answers before its range is looked at (Redis 7.0).
    assert_eq!(q::<i64>(&mut c, &["BITCOUNT", "nokey", "1"]), 0);
}

#[test]
fn bitpos_with_byte_and_bit_ranges_and_the_end_of_string_rules() {
    let s = server();
    let mut c = con(&s);
    // "\xff\xf0\x00"
    let _: () = q(&mut c, &["SETBIT", "z", "23", "0"]);
    let _: i64 = q(&mut c, &["BITOP", "NOT", "o", "z"]);
    let _: i64 = q(&mut c, &["SETRANGE", "o", "1", "\u{0}\u{0}"]);
    for i in 8..12 {
        let _: i64 = q(&mut c, &["SETBIT", "o", &i.to_string(), "1"]);
    }
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "o", "0"]), 12);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "o", "1", "1"]), 8);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "o", "1", "2"]), -1);
    assert_eq!(
        q::<i64>(&mut c, &["BITPOS", "o", "0", "4", "11", "BIT"]),
        -1
    );
    assert_eq!(
        q::<i64>(&mut c, &["BITPOS", "o", "0", "4", "12", "BIT"]),
        12
    );
    assert_eq!(
        q::<i64>(&mut c, &["BITPOS", "o", "1", "-15", "-1", "bit"]),
        9
    );
    // All ones: looking for a 0 answers the first bit past the string (the string reads
    // as zero-padded) unless an explicit end bounds the search.
    let _: i64 = q(&mut c, &["BITOP", "NOT", "ones", "z"]);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "0"]), 24);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "0", "1"]), 24);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "ones", "0", "0", "-1"]), -1);
    assert_eq!(
        q::<i64>(&mut c, &["BITPOS", "ones", "0", "0", "23", "BIT"]),
        -1
    );
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "z", "1"]), -1);
    // A missing key is all zeros; an empty string has no bits at all.
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "nokey", "0"]), 0);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "nokey", "1"]), -1);
    let _: () = q(&mut c, &["SET", "e", ""]);
    assert_eq!(q::<i64>(&mut c, &["BITPOS", "e", "0"]), -1);
    assert_eq!(
        err(&mut c, &["BITPOS", "o", "2"]),
        "ERR The bit argument must be 1 or 0."
    );
    assert_eq!(
        err(&mut c, &["BITPOS", "o", "1", "0", "1", "bits"]),
        "ERR syntax error"
    );
    let _: () = q(&mut c, &["LPUSH", "list", "a"]);
    assert_eq!(err(&mut c, &["BITPOS", "list", "1"]), WRONGTYPE);
}

#[test]
fn bitop_combines_sources_and_deletes_on_an_empty_result() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["SET", "a", "abc"]);
    let _: () = q(&mut c, &["SET", "b", "\u{7f}"]);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "AND", "d", "a", "b"]), 3);
    assert_eq!(
        v(&mut c, &["GET", "d"]),
        Value::BulkString(b"a\x00\x00".to_vec())
    );
    assert_eq!(
        q::<i64>(&mut c, &["BITOP", "or", "d", "a", "b", "nokey"]),
        3
    );
    assert_eq!(
        v(&mut c, &["GET", "d"]),
        Value::BulkString(b"\x7fbc".to_vec())
    );
    assert_eq!(q::<i64>(&mut c, &["BITOP", "XOR", "d", "a", "a", "b"]), 3);
    assert_eq!(
        v(&mut c, &["GET", "d"]),
        Value::BulkString(b"\x7f\x00\x00".to_vec())
    );
    assert_eq!(q::<i64>(&mut c, &["BITOP", "NOT", "d", "b"]), 1);
    assert_eq!(v(&mut c, &["GET", "d"]), Value::BulkString(vec![0x80]));
    // The destination is overwritten whatever it held, and loses its TTL.
    let _: () = q(&mut c, &["LPUSH", "list", "x"]);
    let _: () = q(&mut c, &["EXPIRE", "list", "100"]);
    assert_eq!(q::<i64>(&mut c, &["BITOP", "OR", "list", "a"]), 3);
    assert_eq!(v(&mut c, &["GET", "list"]), bulk("abc"));
    assert_eq!(q::<i64>(&mut c, &["TTL", "list"]), -1);
    // Only missing or empty sources: the destination is deleted.
    assert_eq!(q::<i64>(&mut c, &["BITOP", "AND", "d", "nokey", "no2"]), 0);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);

    assert_eq!(
        err(&mut c, &["BITOP", "NOT", "d", "a", "b"]),
        "ERR BITOP NOT must be called with a single source key."
    );
    assert_eq!(
        err(&mut c, &["BITOP", "NAND", "d", "a"]),
        "ERR syntax error"
    );
    let _: () = q(&mut c, &["SADD", "set", "x"]);
    assert_eq!(err(&mut c, &["BITOP", "AND", "d", "a", "set"]), WRONGTYPE);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "d"]), 0);
}

#[test]
fn bitfield_get_set_incrby_with_overflow_sat_wrap_and_fail() {
    let s = server();
    let mut c = con(&s);
    // Several operations in one call, signed and unsigned, `#` offsets.
    assert_eq!(
        ints(&v(
            &mut c,
            &[
                "BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0", "INCRBY", "i8", "0",
                "100", "SET", "u8", "#1", "255", "GET", "i8", "#1",
            ]
        )),
        [Some(0), Some(100), Some(-56), Some(0), Some(-1)]
    );
    assert_eq!(
        v(&mut c, &["GET", "bf"]),
        Value::BulkString(vec![0xC8, 0xFF])
    );
    // OVERFLOW SAT clamps, and applies to the operations after it only.
    assert_eq!(
        ints(&v(
            &mut c,
            &[
                "BITFIELD", "sat", "INCRBY", "u2", "0", "5", "OVERFLOW", "SAT", "INCRBY", "u2",
                "2", "5", "INCRBY", "i8", "8", "-1000", "SET", "u8", "16", "-1", "GET", "u8", "16",
            ]
        )),
        [Some(1), Some(3), Some(-128), Some(0), Some(255)]
    );
    // OVERFLOW FAIL answers nil and writes nothing.
    assert_eq!(
        ints(&v(
            &mut c,
            &[
                "BITFIELD", "sat", "OVERFLOW", "FAIL", "INCRBY", "u2", "2", "1", "INCRBY", "u2",
                "2", "-1", "GET", "u2", "2",
            ]
        )),
        [None, Some(2), Some(2)]
    );
    // 64-bit signed fields wrap like machine integers by default.
    assert_eq!(
        ints(&v(
            &mut c,
            &[
                "BITFIELD",
                "w",
                "SET",
                "i64",
                "3",
                "9223372036854775807",
                "INCRBY",
                "i64",
                "3",
                "1",
            ]
        )),
        [Some(0), Some(i64::MIN)]
    );
    // Only GETs: a missing key reads zeros and is not created.
    assert_eq!(
        ints(&v(&mut c, &["BITFIELD", "nokey", "GET", "u8", "0"])),
        [Some(0)]
    );
    assert_eq!(v(&mut c, &["BITFIELD", "nokey"]), Value::Array(vec![]));
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "nokey"]), 0);

    assert_eq!(
        err(&mut c, &["BITFIELD", "bf", "GET", "u64", "0"]),
        BAD_TYPE
    );
    assert_eq!(
        err(&mut c, &["BITFIELD", "bf", "GET", "i65", "0"]),
        BAD_TYPE
    );
    assert_eq!(
        err(&mut c, &["BITFIELD", "bf", "GET", "u8", "-1"]),
        BAD_OFFSET
    );
    assert_eq!(
        err(&mut c, &["BITFIELD", "bf", "OVERFLOW", "BOUNCE"]),
        "ERR Invalid OVERFLOW type specified"
    );
    assert_eq!(
        err(&mut c, &["BITFIELD", "bf", "GET", "u8"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["BITFIELD", "bf", "SET", "u8", "0", "x"]),
        "ERR value is not an integer or out of range"
    );
    // Nothing runs when any operation is malformed.
    assert_eq!(
        err(
            &mut c,
            &["BITFIELD", "bf", "SET", "u8", "0", "7", "GET", "x1", "0"]
        ),
        BAD_TYPE
    );
    assert_eq!(
        ints(&v(&mut c, &["BITFIELD", "bf", "GET", "u8", "0"])),
        [Some(0xC8)]
    );
    let _: () = q(&mut c, &["LPUSH", "list", "a"]);
    assert_eq!(
        err(&mut c, &["BITFIELD", "list", "GET", "u8", "0"]),
        WRONGTYPE
    );
}

#[test]
fn bitfield_ro_reads_only() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["SET", "k", "A"]);
    assert_eq!(
        ints(&v(
            &mut c,
            &["BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i4", "#1"]
        )),
        [Some(65), Some(1)]
    );
    assert_eq!(
        err(&mut c, &["BITFIELD_RO", "k", "SET", "u8", "0", "1"]),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
    assert_eq!(
        err(
            &mut c,
            &[
                "BITFIELD_RO",
                "k",
                "GET",
                "u8",
                "0",
                "INCRBY",
                "u8",
                "0",
                "1"
            ]
        ),
        "ERR BITFIELD_RO only supports the GET subcommand"
    );
    assert_eq!(v(&mut c, &["GET", "k"]), bulk("A"));
}

#[test]
fn resp3_shapes() {
    let s = server();
    let mut c = con3(&s);
    assert_eq!(
        v(
            &mut c,
            &["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u1", "0", "2", "GET", "u1", "0"]
        ),
        Value::Array(vec![Value::Nil, Value::Int(0)])
    );
    assert_eq!(v(&mut c, &["SETBIT", "k", "0", "1"]), Value::Int(0));
    assert_eq!(
        v(&mut c, &["BITCOUNT", "k", "0", "0", "BIT"]),
        Value::Int(1)
    );
}

#[test]
fn keyspace_events_name_the_write() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "E$g"]);
    let mut sub_con = con(&s);
    let mut pubsub = sub_con.as_pubsub();
    pubsub.psubscribe("__keyevent@0__:*").expect("psubscribe");
    pubsub
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _: i64 = q(&mut c, &["SETBIT", "a", "1", "1"]);
    // Unchanged: no event.
    let _: i64 = q(&mut c, &["SETBIT", "a", "1", "1"]);
    let _: Value = q(&mut c, &["BITFIELD", "a", "SET", "u8", "8", "1"]);
    let _: i64 = q(&mut c, &["BITOP", "NOT", "d", "a"]);
    let _: i64 = q(&mut c, &["BITOP", "AND", "d", "nokey"]);
    let got: Vec<(String, String)> = (0..4)
        .map(|_| {
            let m = pubsub.get_message().expect("a message within 5 s");
            (
                m.get_channel_name().to_string(),
                m.get_payload::<String>().expect("payload"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("__keyevent@0__:setbit".to_string(), "a".to_string()),
            ("__keyevent@0__:setbit".to_string(), "a".to_string()),
            ("__keyevent@0__:set".to_string(), "d".to_string()),
            ("__keyevent@0__:del".to_string(), "d".to_string()),
        ]
    );
}

/// BITFIELD, BITCOUNT, BITPOS and BITOP on generated inputs give the same replies as
/// `redis-server` (skipped when it is not installed).
#[test]
fn bit_commands_match_redis_on_generated_inputs() {
    let Some(oracle) = RedisOracle::start() else {
        return;
    };
    let s = server();
    let mut ours = con(&s);
    let mut theirs = oracle.con();
    // xorshift64*: the same sequence every run.
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |n: u64| {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    };
    let types = [
        "i1", "u1", "i5", "u7", "i8", "u8", "i16", "u15", "i32", "u31", "i63", "i64", "u63",
    ];
    let overflows = ["WRAP", "SAT", "FAIL"];
    let keys = ["b1", "b2", "b3"];
    for i in 0..1500 {
        let key = keys[next(3) as usize];
        let words: Vec<String> = match next(6) {
            0 | 1 => {
                let mut w = vec!["BITFIELD".to_string(), key.to_string()];
                for _ in 0..1 + next(3) {
                    let t = types[next(types.len() as u64) as usize];
                    let off = if next(4) == 0 {
                        format!("#{}", next(20))
                    } else {
                        next(200).to_string()
                    };
                    let v = (next(1 << 20) as i64 - (1 << 19)).to_string();
                    match next(4) {
                        0 => w.extend(["GET".into(), t.into(), off]),
                        1 => w.extend(["SET".into(), t.into(), off, v]),
                        2 => w.extend(["INCRBY".into(), t.into(), off, v]),
                        _ => w.extend([
                            "OVERFLOW".into(),
                            overflows[next(3) as usize].into(),
                            "INCRBY".into(),
                            t.into(),
                            off,
                            v,
                        ]),
                    }
                }
                w
            }
            2 => vec![
                "SETBIT".into(),
                key.into(),
                next(300).to_string(),
                next(2).to_string(),
            ],
            3 => {
                let mut w = vec!["BITCOUNT".into(), key.into()];
                if next(2) == 0 {
                    w.push((next(40) as i64 - 20).to_string());
                    w.push((next(40) as i64 - 20).to_string());
                    w.push(if next(2) == 0 { "BIT" } else { "BYTE" }.into());
                }
                w
            }
            4 => {
                let mut w = vec!["BITPOS".into(), key.into(), next(2).to_string()];
                if next(2) == 0 {
                    w.push((next(40) as i64 - 20).to_string());
                    if next(2) == 0 {
                        w.push((next(40) as i64 - 20).to_string());
                        w.push(if next(2) == 0 { "BIT" } else { "BYTE" }.into());
                    }
                }
                w
            }
            _ => {
                let op = ["AND", "OR", "XOR", "NOT"][next(4) as usize];
                let mut w = vec!["BITOP".into(), op.into(), keys[next(3) as usize].into()];
                w.push(key.into());
                if op != "NOT" {
                    w.push(keys[next(3) as usize].into());
                }
                w
            }
        };
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let a: redis::RedisResult<redis::Value> = cmd(&words).query(&mut ours);
        let b: redis::RedisResult<redis::Value> = cmd(&words).query(&mut theirs);
        assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "step {i}: {words:?} differs from redis-server"
        );
    }
    for key in keys {
        let a: Option<Vec<u8>> = q(&mut ours, &["GET", key]);
        let b: Option<Vec<u8>> = q(&mut theirs, &["GET", key]);
        assert_eq!(a, b, "stored bytes of {key}");
    }
}
