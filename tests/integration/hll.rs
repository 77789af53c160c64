//! HyperLogLog commands. The estimates and the stored bytes are Redis's: when
//! `redis-server` is installed, the same elements are added to both servers and the counts,
//! and HLLs copied between them with GET/SET, are compared (without it those tests skip).

use crate::common::*;

fn elements(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("element:{i}")).collect()
}

/// PFADDs in batches, so 100 000 elements take 100 round trips.
fn add(con: &mut redis::Connection, key: &str, elements: &[String]) {
    for batch in elements.chunks(1000) {
        let _: i64 = redis::cmd("PFADD")
            .arg(key)
            .arg(batch)
            .query(con)
            .expect("pfadd");
    }
}

fn get_bytes(con: &mut redis::Connection, key: &str) -> Vec<u8> {
    redis::cmd("GET").arg(key).query(con).expect("get")
}

fn set_bytes(con: &mut redis::Connection, key: &str, value: &[u8]) {
    let _: () = redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query(con)
        .expect("set");
}

#[test]
fn pfadd_reports_changes_and_pfcount_estimates() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h"]), 1, "created");
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h", "a", "b", "c"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFADD", "h", "a", "b", "c"]), 0);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "h"]), 3);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "nosuch"]), 0);
    assert_eq!(q::<String>(&mut c, &["TYPE", "h"]), "string");
    assert_eq!(q::<String>(&mut c, &["OBJECT", "ENCODING", "h"]), "raw");
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "ENCODING", "h"]), "sparse");
    add(&mut c, "big", &elements(0..20_000));
    let n: i64 = q(&mut c, &["PFCOUNT", "big"]);
    assert!((n - 20_000).abs() < 400, "{n}");
    assert_eq!(
        q::<String>(&mut c, &["PFDEBUG", "ENCODING", "big"]),
        "dense"
    );
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "big"]), 12304);
}

#[test]
fn pfmerge_and_multi_key_pfcount_take_the_union() {
    let s = server();
    let mut c = con(&s);
    add(&mut c, "a", &elements(0..600));
    add(&mut c, "b", &elements(400..1000));
    add(&mut c, "all", &elements(0..1000));
    let all: i64 = q(&mut c, &["PFCOUNT", "all"]);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "a", "b"]), all);
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "a", "b", "nosuch"]), all);
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "m", "a", "b"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "m"]), all);
    // The merged registers are exactly those of the union.
    let regs = |c: &mut redis::Connection, k: &str| -> Vec<i64> { q(c, &["PFDEBUG", "GETREG", k]) };
    assert_eq!(regs(&mut c, "m"), regs(&mut c, "all"));
    // The destination is also a source; a missing one is created empty.
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "m"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "m"]), all);
    assert_eq!(q::<String>(&mut c, &["PFMERGE", "empty"]), "OK");
    assert_eq!(q::<i64>(&mut c, &["PFCOUNT", "empty"]), 0);
}

#[test]
fn errors_use_redis_texts() {
    let s = server();
    let mut c = con(&s);
    let not_hll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    let _: () = q(&mut c, &["SET", "s", "foo"]);
    let _: () = q(&mut c, &["SET", "i", "12345"]);
    let _: i64 = q(&mut c, &["RPUSH", "l", "x"]);
    let _: i64 = q(&mut c, &["PFADD", "h", "x"]);
    assert_eq!(err(&mut c, &["PFADD", "s", "a"]), not_hll);
    assert_eq!(err(&mut c, &["PFADD", "i", "a"]), not_hll);
    assert_eq!(err(&mut c, &["PFCOUNT", "h", "s"]), not_hll);
    assert_eq!(err(&mut c, &["PFMERGE", "h", "s"]), not_hll);
    assert!(err(&mut c, &["PFADD", "l", "a"]).starts_with("WRONGTYPE Operation"));
    assert!(err(&mut c, &["PFCOUNT", "l"]).starts_with("WRONGTYPE Operation"));
    assert_eq!(
        err(&mut c, &["PFDEBUG", "GETREG", "nosuch"]),
        "ERR The specified key does not exist"
    );
    assert_eq!(
        err(&mut c, &["PFDEBUG", "bogus", "h"]),
        "ERR Unknown PFDEBUG subcommand 'bogus'"
    );
    assert_eq!(
        err(&mut c, &["PFDEBUG", "DECODE", "h", "x"]),
        "ERR wrong number of arguments for 'pfdebug' command"
    );
    assert_eq!(q::<String>(&mut c, &["PFSELFTEST"]), "OK");

    // Sparse runs that cover one register too few: a corrupt HLL, never a panic.
    let mut corrupt = b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80".to_vec();
    corrupt.extend_from_slice(&[0x7f, 0xfe]);
    set_bytes(&mut c, "bad", &corrupt);
    let invalid = "INVALIDOBJ Corrupted HLL object detected";
    assert_eq!(err(&mut c, &["PFCOUNT", "bad"]), invalid);
    assert_eq!(err(&mut c, &["PFCOUNT", "bad", "h"]), invalid);
    assert_eq!(err(&mut c, &["PFMERGE", "m", "bad"]), invalid);
    assert_eq!(err(&mut c, &["PFDEBUG", "TODENSE", "bad"]), invalid);
    // A dense header on a string of the wrong size is no HLL at all.
    set_bytes(&mut c, "short", b"HYLL\0\0\0\0\0\0\0\0\0\0\0\0");
    assert_eq!(err(&mut c, &["PFCOUNT", "short"]), not_hll);
}

#[test]
fn sparse_max_bytes_decides_the_promotion() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "hll-sparse-max-bytes"]),
        ["hll-sparse-max-bytes", "3000"]
    );
    let _: () = q(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", "40"]);
    add(&mut c, "h", &elements(0..3));
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "ENCODING", "h"]), "sparse");
    add(&mut c, "h", &elements(3..20));
    assert_eq!(q::<String>(&mut c, &["PFDEBUG", "ENCODING", "h"]), "dense");
    let _: () = q(&mut c, &["CONFIG", "SET", "hll-sparse-max-bytes", "3kb"]);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "hll-sparse-max-bytes"]),
        ["hll-sparse-max-bytes", "3072"]
    );
    // TODENSE converts once.
    add(&mut c, "t", &elements(0..10));
    assert_eq!(q::<i64>(&mut c, &["PFDEBUG", "TODENSE", "t"]), 1);
    assert_eq!(q::<i64>(&mut c, &["PFDEBUG", "TODENSE", "t"]), 0);
}

/// Refreshing the cardinality cached in the header is a write: WATCH sees it. A count
/// served from the cache is not.
#[test]
fn a_stale_cache_refresh_touches_watchers() {
    let s = server();
    let mut c = con(&s);
    let mut other = con(&s);
    let _: i64 = q(&mut c, &["PFADD", "h", "a"]);
    let _: () = q(&mut c, &["WATCH", "h"]);
    let _: i64 = q(&mut other, &["PFCOUNT", "h"]);
    let _: () = q(&mut c, &["MULTI"]);
    let _: () = q(&mut c, &["PING"]);
    assert_eq!(v(&mut c, &["EXEC"]), redis::Value::Nil);
    let _: () = q(&mut c, &["WATCH", "h"]);
    let _: i64 = q(&mut other, &["PFCOUNT", "h"]);
    let _: () = q(&mut c, &["MULTI"]);
    let _: () = q(&mut c, &["PING"]);
    assert_ne!(v(&mut c, &["EXEC"]), redis::Value::Nil);
}

#[test]
fn pfcount_of_100k_elements_matches_redis() {
    let Some(oracle) = RedisOracle::start() else {
        return;
    };
    let s = server();
    let (mut ours, mut theirs) = (con(&s), oracle.con());
    let all = elements(0..100_000);
    add(&mut ours, "h", &all);
    add(&mut theirs, "h", &all);
    let ours_n: i64 = q(&mut ours, &["PFCOUNT", "h"]);
    let theirs_n: i64 = q(&mut theirs, &["PFCOUNT", "h"]);
    assert_eq!(ours_n, theirs_n);
    assert!((ours_n - 100_000).abs() < 2_000, "{ours_n}");
    // Same registers, same cached cardinality: the same bytes.
    assert_eq!(get_bytes(&mut ours, "h"), get_bytes(&mut theirs, "h"));
}

#[test]
fn hlls_move_between_redis_and_emberkv() {
    let Some(oracle) = RedisOracle::start() else {
        return;
    };
    let s = server();
    let (mut ours, mut theirs) = (con(&s), oracle.con());
    // Sparse (few elements) and dense (many), made by Redis, counted by us.
    for (key, n) in [("sparse", 300), ("dense", 30_000)] {
        add(&mut theirs, key, &elements(0..n));
        let bytes = get_bytes(&mut theirs, key);
        set_bytes(&mut ours, key, &bytes);
        let want: i64 = q(&mut theirs, &["PFCOUNT", key]);
        assert_eq!(q::<i64>(&mut ours, &["PFCOUNT", key]), want, "{key}");
        // Further additions keep both copies identical, byte for byte.
        add(&mut theirs, key, &elements(n..n + 500));
        add(&mut ours, key, &elements(n..n + 500));
        assert_eq!(
            get_bytes(&mut ours, key),
            get_bytes(&mut theirs, key),
            "{key}"
        );
    }
    // And the other way: made by us, counted by Redis.
    for (key, n) in [("ours-sparse", 200), ("ours-dense", 50_000)] {
        add(&mut ours, key, &elements(1_000_000..1_000_000 + n));
        let bytes = get_bytes(&mut ours, key);
        set_bytes(&mut theirs, key, &bytes);
        let want: i64 = q(&mut ours, &["PFCOUNT", key]);
        assert_eq!(q::<i64>(&mut theirs, &["PFCOUNT", key]), want, "{key}");
    }
    // Merges agree too.
    for con in [&mut ours, &mut theirs] {
        let _: () = q(con, &["PFMERGE", "m", "sparse", "ours-sparse"]);
        let _: () = q(con, &["PFMERGE", "m2", "dense", "ours-dense", "sparse"]);
    }
    for key in ["m", "m2"] {
        assert_eq!(
            get_bytes(&mut ours, key),
            get_bytes(&mut theirs, key),
            "{key}"
        );
    }
    let union = ["PFCOUNT", "sparse", "dense", "ours-sparse", "ours-dense"];
    assert_eq!(q::<i64>(&mut ours, &union), q::<i64>(&mut theirs, &union));
}

/// Which lookups count as keyspace hits and misses (Redis 7.0.15): reads by PFCOUNT and by
/// PFMERGE's sources do; PFADD, PFMERGE's destination and PFDEBUG do not.
#[test]
fn lookups_count_hits_and_misses_like_redis() {
    let s = server();
    let mut c = con(&s);
    let stats = |c: &mut redis::Connection| -> (i64, i64) {
        let info: String = q(c, &["INFO", "stats"]);
        let field = |name: &str| -> i64 {
            info.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':')?.trim().parse().ok())
                .expect(name)
        };
        (field("keyspace_hits"), field("keyspace_misses"))
    };
    let cases: &[(&[&str], (i64, i64))] = &[
        (&["PFADD", "h", "a"], (0, 0)),
        (&["PFCOUNT", "h"], (1, 0)),
        (&["PFCOUNT", "nosuch"], (0, 1)),
        (&["PFCOUNT", "h", "nosuch"], (1, 1)),
        (&["PFMERGE", "d", "h", "nosuch"], (1, 2)),
        (&["PFDEBUG", "ENCODING", "h"], (0, 0)),
    ];
    for (words, want) in cases {
        let before = stats(&mut c);
        let _: redis::Value = q(&mut c, words);
        let after = stats(&mut c);
        assert_eq!((after.0 - before.0, after.1 - before.1), *want, "{words:?}");
    }
}
