//! What every write propagates, and how it counts in `dirty`, checked against what Redis
//! 7.0.15 writes to its append-only file for the same commands (recorded by hand with
//! `--appendonly yes --aof-use-rdb-preamble no` and `DEBUG SET-ACTIVE-EXPIRE 0`; absolute
//! times differ only because Redis's clock is the wall clock). Commands run through
//! [`execute`] on a `Shared` with a manual clock, no socket.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::execute;
use crate::clock::Clock;
use crate::config::Config;
use crate::protocol::Reply;
use crate::session::{ClientHandle, Session};
use crate::shared::Shared;

const T0: u64 = 1_700_000_000_000;

struct H {
    shared: Shared,
    session: Session,
}

/// Splits a line into argv; `""` is an empty argument.
fn argv(line: &str) -> Vec<Bytes> {
    line.split(' ')
        .map(|w| match w {
            "\"\"" => Bytes::new(),
            w => Bytes::from(w.to_string()),
        })
        .collect()
}

fn show(entries: Vec<Vec<Bytes>>) -> Vec<String> {
    entries
        .iter()
        .map(|a| {
            a.iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

impl H {
    fn new() -> H {
        let shared = Shared::new(Config::default(), Clock::manual(T0));
        shared.keyspace.propagation.set_enabled(true);
        let handle = Arc::new(ClientHandle::new(1, "t".into(), "t".into(), -1, 0));
        H {
            shared,
            session: Session::new(handle, true),
        }
    }

    /// A harness whose stream already selected database 0 (so expectations start clean).
    fn selected() -> H {
        let mut h = H::new();
        h.setup(&["set __init 1", "del __init"]);
        h
    }

    fn run(&mut self, line: &str) -> Reply {
        execute(&self.shared, &mut self.session, argv(line))
    }

    /// Runs commands and forgets what they propagated.
    fn setup(&mut self, lines: &[&str]) {
        for l in lines {
            let r = self.run(l);
            assert!(!matches!(r, Reply::Error(_)), "{l}: {r:?}");
        }
        self.drain();
    }

    fn drain(&self) -> Vec<String> {
        show(self.shared.keyspace.propagation.drain())
    }

    /// Runs `line` and asserts exactly what it propagated; returns its reply.
    #[track_caller]
    fn check(&mut self, line: &str, expected: &[&str]) -> Reply {
        let reply = self.run(line);
        assert_eq!(self.drain(), expected, "{line} (reply {reply:?})");
        reply
    }

    fn advance(&self, ms: u64) {
        self.shared.clock().advance(ms);
    }

    fn dirty(&self) -> u64 {
        self.shared.keyspace.stats.dirty.load(Ordering::Relaxed)
    }

    /// Runs `line` and returns how much it added to `dirty`.
    fn dirtied(&mut self, line: &str) -> u64 {
        let before = self.dirty();
        self.run(line);
        self.dirty() - before
    }
}

fn bulk(s: &str) -> Reply {
    Reply::Bulk(Bytes::from(s.to_string()))
}

fn at(ms_from_t0: u64) -> String {
    (T0 + ms_from_t0).to_string()
}

#[test]
fn first_write_selects_and_reads_propagate_nothing() {
    let mut h = H::new();
    h.check("get a", &[]);
    h.check("set a 1", &["SELECT 0", "set a 1"]);
    h.check("get a", &[]);
    h.check("set a 2", &["set a 2"]);
    // Turning recording off and on forgets the selected database.
    h.shared.keyspace.propagation.set_enabled(false);
    h.check("set a 3", &[]);
    h.shared.keyspace.propagation.set_enabled(true);
    h.check("set a 4", &["SELECT 0", "set a 4"]);
}

#[test]
fn set_options() {
    let mut h = H::selected();
    let px = format!("SET a 2 PXAT {}", at(100_000));
    h.check("set a 2 ex 100", &[&px]);
    let px = format!("SET a 3 PXAT {}", at(100_000));
    h.check("set a 3 px 100000", &[&px]);
    h.check("set a 4 exat 4000000000", &["SET a 4 PXAT 4000000000000"]);
    // Redis rewrites PXAT too (upper case, other options dropped).
    h.check(
        "set a 5 pxat 4000000000000",
        &["SET a 5 PXAT 4000000000000"],
    );
    h.check(
        "set h v NX pxat 4000000000000",
        &["SET h v PXAT 4000000000000"],
    );
    let r = h.check(
        "set h w XX GET PXAT 4000000000000",
        &["SET h w PXAT 4000000000000"],
    );
    assert_eq!(r, bulk("v"));
    h.check("set a 6 keepttl", &["set a 6 keepttl"]);
    assert_eq!(h.check("set a 7 get", &["set a 7"]), bulk("6"));
    assert_eq!(h.check("set a 8 nx", &[]), Reply::Nil);
    h.check("set b 8 nx", &["set b 8 nx"]);
    h.check("set b 9 xx", &["set b 9 xx"]);
    assert_eq!(h.check("set c 9 xx", &[]), Reply::Nil);
    let px = format!("SET a 10 PXAT {}", at(100_000));
    assert_eq!(h.check("set a 10 xx get ex 100", &[&px]), bulk("7"));
    assert_eq!(h.check("set a 11 nx get", &[]), bulk("10"));
    assert_eq!(
        h.check("set n 1 keepttl get", &["set n 1 keepttl"]),
        Reply::Nil
    );
    assert!(matches!(h.check("set a 1 ex 0", &[]), Reply::Error(_)));
    assert!(matches!(h.check("set a 1 nx xx", &[]), Reply::Error(_)));
}

#[test]
fn setnx_setex_getset_getdel() {
    let mut h = H::selected();
    h.setup(&["set a 1"]);
    assert_eq!(h.check("setnx a x", &[]), Reply::Int(0));
    h.check("setnx d x", &["setnx d x"]);
    let px = format!("SET e v PXAT {}", at(100_000));
    h.check("setex e 100 v", &[&px]);
    h.check("psetex e 100000 v", &[&px]);
    assert!(matches!(h.check("setex e 0 v", &[]), Reply::Error(_)));
    assert_eq!(h.check("getset a new", &["SET a new"]), bulk("1"));
    assert_eq!(h.check("getdel a", &["DEL a"]), bulk("new"));
    assert_eq!(h.check("getdel nosuch", &[]), Reply::Nil);
}

#[test]
fn getex() {
    let mut h = H::selected();
    h.setup(&["set g v"]);
    let pexpireat = format!("PEXPIREAT g {}", at(100_000));
    h.check("getex g ex 100", &[&pexpireat]);
    h.check("getex g persist", &["PERSIST g"]);
    h.check("getex g persist", &[]);
    h.check("getex g", &[]);
    h.check("getex g exat 4000000001", &["PEXPIREAT g 4000000001000"]);
    h.check("getex g pxat 4000000000000", &["PEXPIREAT g 4000000000000"]);
    let pexpireat = format!("PEXPIREAT g {}", at(5_000));
    h.check("getex g PX 5000", &[&pexpireat]);
    // A deadline in the past deletes the key, and replays as that DEL.
    assert_eq!(h.check("getex g pxat 1000", &["DEL g"]), bulk("v"));
    assert_eq!(h.check("getex g ex 100", &[]), Reply::Nil);
}

#[test]
fn mset_and_msetnx() {
    let mut h = H::selected();
    h.check("mset m1 1 m2 2", &["mset m1 1 m2 2"]);
    assert_eq!(h.check("msetnx m1 1 m3 3", &[]), Reply::Int(0));
    assert_eq!(
        h.check("msetnx m3 3 m4 4", &["msetnx m3 3 m4 4"]),
        Reply::Int(1)
    );
    assert!(matches!(h.check("mset m1 1 m2", &[]), Reply::Error(_)));
}

#[test]
fn counters_append_setrange() {
    let mut h = H::selected();
    h.check("incr i", &["incr i"]);
    h.check("decr i", &["decr i"]);
    h.check("incrby i 5", &["incrby i 5"]);
    h.check("decrby i 3", &["decrby i 3"]);
    // Floats propagate their result, so a replay cannot format them differently.
    h.check("incrbyfloat f 1.5", &["SET f 1.5 KEEPTTL"]);
    h.check("incrbyfloat f 1.1e1", &["SET f 12.5 KEEPTTL"]);
    h.setup(&["set s abc"]);
    assert!(matches!(h.check("incr s", &[]), Reply::Error(_)));
    assert!(matches!(h.check("incrbyfloat s 1", &[]), Reply::Error(_)));
    h.check("append ap x", &["append ap x"]);
    h.check("setrange ap 3 y", &["setrange ap 3 y"]);
    assert_eq!(h.check("setrange ap 0 \"\"", &[]), Reply::Int(4));
    assert_eq!(h.check("setrange none 0 \"\"", &[]), Reply::Int(0));
}

#[test]
fn del_and_unlink() {
    let mut h = H::selected();
    h.setup(&["set ap 1", "set i 1", "set f 1"]);
    assert_eq!(
        h.check("del ap nosuch i", &["del ap nosuch i"]),
        Reply::Int(2)
    );
    h.check("unlink f nosuch", &["unlink f nosuch"]);
    assert_eq!(h.check("del nosuch", &[]), Reply::Int(0));
}

#[test]
fn expire_family() {
    let mut h = H::selected();
    h.setup(&["set k v"]);
    let e = |ms: u64| format!("PEXPIREAT k {}", at(ms));
    h.check("expire k 100", &[&e(100_000)]);
    h.check("pexpire k 100000", &[&e(100_000)]);
    h.check("expireat k 4000000000", &["PEXPIREAT k 4000000000000"]);
    h.check("pexpireat k 4000000000000", &["pexpireat k 4000000000000"]);
    assert_eq!(h.check("expire k 100 nx", &[]), Reply::Int(0));
    // The options stay, as sent.
    h.check("expire k 200 xx", &[&format!("{} xx", e(200_000))]);
    assert_eq!(h.check("expire k 100 gt", &[]), Reply::Int(0));
    h.check("expire k 50 lt", &[&format!("{} lt", e(50_000))]);
    h.check(
        "pexpireat k 4000000000001 gt",
        &["pexpireat k 4000000000001 gt"],
    );
    h.check(
        "pexpire k 100000 xx LT",
        &[&format!("{} xx LT", e(100_000))],
    );
    h.check(
        "expireat k 4000000000 XX",
        &["PEXPIREAT k 4000000000000 XX"],
    );
    assert_eq!(h.check("expire nosuch 100", &[]), Reply::Int(0));
    assert!(matches!(
        h.check("expire k 100 bogus", &[]),
        Reply::Error(_)
    ));
    // Deadlines already past delete the key: a DEL is what replays.
    assert_eq!(h.check("expire k -1", &["DEL k"]), Reply::Int(1));
    h.setup(&["set k v"]);
    h.check("expireat k 1000", &["DEL k"]);
    h.setup(&["set k v"]);
    h.check("pexpire k 0", &["DEL k"]);
    h.setup(&["set k v"]);
    h.check("pexpireat k 1 xx", &[]);
    h.setup(&["expire k 100"]);
    h.check("pexpireat k 1 xx", &["DEL k"]);
}

#[test]
fn persist() {
    let mut h = H::selected();
    h.setup(&["set k v", "expire k 100"]);
    assert_eq!(h.check("persist k", &["persist k"]), Reply::Int(1));
    assert_eq!(h.check("persist k", &[]), Reply::Int(0));
    assert_eq!(h.check("persist nosuch", &[]), Reply::Int(0));
}

#[test]
fn rename_copy_move() {
    let mut h = H::selected();
    h.setup(&["set r v", "set r4 x"]);
    h.check("rename r r2", &["rename r r2"]);
    assert_eq!(h.check("rename r2 r2", &[]), Reply::Ok);
    assert!(matches!(h.check("rename nosuch x", &[]), Reply::Error(_)));
    h.check("renamenx r2 r3", &["renamenx r2 r3"]);
    assert_eq!(h.check("renamenx r3 r4", &[]), Reply::Int(0));
    h.check("copy r3 c1", &["copy r3 c1"]);
    assert_eq!(h.check("copy r3 c1", &[]), Reply::Int(0));
    h.check("copy r3 c1 replace", &["copy r3 c1 replace"]);
    // COPY … DB runs (and replays) in the source database.
    h.check("copy r3 c1 db 2", &["copy r3 c1 db 2"]);
    assert_eq!(h.check("copy nosuch c5", &[]), Reply::Int(0));
    h.check("move r3 3", &["move r3 3"]);
    assert_eq!(h.check("move nosuch 3", &[]), Reply::Int(0));
    h.setup(&["select 3"]);
    assert_eq!(h.check("get r3", &[]), bulk("v"));
}

#[test]
fn select_flush_swap() {
    let mut h = H::selected();
    h.check("select 3", &[]);
    h.check("set x y", &["SELECT 3", "set x y"]);
    h.check("select 0", &[]);
    h.check("flushdb", &["SELECT 0", "flushdb"]);
    // Flushes propagate even when there was nothing to remove.
    h.check("flushdb", &["flushdb"]);
    h.check("flushdb async", &["flushdb async"]);
    assert!(matches!(h.check("flushdb bogus", &[]), Reply::Error(_)));
    h.check("flushall", &["flushall"]);
    h.check("flushall", &["flushall"]);
    h.check("swapdb 0 1", &["swapdb 0 1"]);
    h.check("swapdb 1 1", &["swapdb 1 1"]);
    assert!(matches!(h.check("swapdb 0 99", &[]), Reply::Error(_)));
}

#[test]
fn lazy_expiry_propagates_a_del_before_the_command() {
    let mut h = H::selected();
    h.setup(&[
        "psetex e1 100 v",
        "psetex e2 100 v",
        "psetex e3 100 v",
        "psetex e4 100 v",
        "psetex e5 100 v",
        "psetex e6 100 v",
    ]);
    h.advance(101);
    // A read alone: just the DEL.
    assert_eq!(h.check("get e1", &["DEL e1"]), Reply::Nil);
    assert_eq!(h.check("ttl e2", &["DEL e2"]), Reply::Int(-2));
    // A write: the DEL and the command form one unit.
    h.check("set e3 new", &["MULTI", "DEL e3", "set e3 new", "EXEC"]);
    h.check("mget e4 e5", &["MULTI", "DEL e4", "DEL e5", "EXEC"]);
    assert!(matches!(
        h.check("rename e6 foo", &["DEL e6"]),
        Reply::Error(_)
    ));
    h.setup(&["psetex e1 100 v"]);
    h.advance(101);
    assert_eq!(h.check("expire e1 100", &["DEL e1"]), Reply::Int(0));
    // In another database, under its SELECT.
    h.setup(&["select 2", "psetex e1 100 v", "select 0", "set x 1"]);
    h.advance(101);
    h.setup(&["select 2"]);
    h.check(
        "incr e1",
        &["SELECT 2", "MULTI", "DEL e1", "incr e1", "EXEC"],
    );
    // A key exactly at its deadline is still alive.
    h.setup(&["psetex e2 100 v"]);
    h.advance(100);
    h.check("get e2", &[]);
}

#[test]
fn active_expiry_propagates_one_del_per_key() {
    let mut h = H::selected();
    h.setup(&[
        "psetex a 100 v",
        "psetex b 100 v",
        "psetex c 100 v",
        "psetex d 100 v",
        "set keep v",
        "select 2",
        "psetex z 100 v",
    ]);
    h.advance(101);
    let (n, more, _) = h.shared.keyspace.active_expire(100);
    assert_eq!((n, more), (5, false));
    let got = h.drain();
    assert!(!got.iter().any(|l| l == "MULTI" || l == "EXEC"), "{got:?}");
    // Shard order depends on the hash seed: follow the SELECTs, starting from the database
    // the stream last selected (setup's last write was in db 2).
    let mut db = "2".to_string();
    let mut dels = Vec::new();
    for l in &got {
        match l.strip_prefix("SELECT ") {
            Some(n) => db = n.to_string(),
            None => dels.push(format!("{db}:{l}")),
        }
    }
    dels.sort();
    assert_eq!(
        dels,
        ["0:DEL a", "0:DEL b", "0:DEL c", "0:DEL d", "2:DEL z"],
        "{got:?}"
    );
    let (n, _, _) = h.shared.keyspace.active_expire(100);
    assert_eq!(n, 0);
    assert!(h.drain().is_empty());
}

#[test]
fn transactions_propagate_as_one_unit() {
    let mut h = H::selected();
    for l in ["multi", "set a 1", "incr n"] {
        h.check(l, &[]);
    }
    h.check("exec", &["MULTI", "set a 1", "incr n", "EXEC"]);
    // One write: not wrapped.
    h.setup(&["multi", "set a 1", "get a"]);
    h.check("exec", &["set a 1"]);
    // No write: nothing.
    h.setup(&["multi", "get a"]);
    h.check("exec", &[]);
    // SELECT inside: the first write's database is selected before MULTI.
    h.setup(&["multi", "select 2", "set a 1", "select 0", "set b 2"]);
    h.check(
        "exec",
        &[
            "SELECT 2", "MULTI", "set a 1", "SELECT 0", "set b 2", "EXEC",
        ],
    );
    h.setup(&["multi", "select 4", "set a 1"]);
    h.check("exec", &["SELECT 4", "set a 1"]);
    assert_eq!(h.session.db, 4);
    h.setup(&["select 0"]);
    // Rewritten forms inside a block.
    h.setup(&["multi", "set a 1 ex 100", "expire a 100"]);
    let t = at(100_000);
    let (set, exp) = (format!("SET a 1 PXAT {t}"), format!("PEXPIREAT a {t}"));
    // (The stream last selected 4.)
    h.check("exec", &["SELECT 0", "MULTI", &set, &exp, "EXEC"]);
    // A command failing at run time propagates nothing; the others still do.
    h.setup(&["del a", "multi", "incr a", "set a b", "incr a"]);
    h.check("exec", &["MULTI", "incr a", "set a b", "EXEC"]);
    h.setup(&["multi", "swapdb 0 1", "flushdb"]);
    h.check("exec", &["MULTI", "swapdb 0 1", "flushdb", "EXEC"]);
    // DISCARD, EXECABORT and a failed WATCH propagate nothing.
    h.setup(&["multi", "set q 1"]);
    h.check("discard", &[]);
    h.setup(&["multi", "set q 1"]);
    h.check("nosuchcmd", &[]);
    assert!(matches!(h.check("exec", &[]), Reply::Error(_)));
    h.setup(&["watch w", "set w 1", "multi", "set q 1"]);
    assert_eq!(h.check("exec", &[]), Reply::NilArray);
    // A watched key that expired since WATCH aborts EXEC without a DEL of EXEC's own: the
    // key is reclaimed (and its DEL propagated) when something reads it, as in Redis.
    h.setup(&["psetex w 100 v", "watch w", "multi", "set q 1"]);
    h.advance(101);
    assert_eq!(h.check("exec", &[]), Reply::NilArray);
    h.check("get w", &["DEL w"]);
}

#[test]
fn lazy_expiry_inside_exec_joins_the_block() {
    let mut h = H::selected();
    h.setup(&["psetex e1 100 v", "psetex e2 100 v", "set x 1"]);
    h.advance(101);
    h.setup(&["multi", "get e1", "set x 2", "incr e2"]);
    h.check(
        "exec",
        &["MULTI", "DEL e1", "set x 2", "DEL e2", "incr e2", "EXEC"],
    );
    h.setup(&["psetex e1 100 v"]);
    h.advance(101);
    h.setup(&["multi", "get e1"]);
    h.check("exec", &["DEL e1"]);
    h.setup(&["psetex e1 100 v"]);
    h.advance(101);
    h.setup(&["multi", "set x 3", "get e1"]);
    h.check("exec", &["MULTI", "set x 3", "DEL e1", "EXEC"]);
}

/// `dirty` (INFO `rdb_changes_since_last_save`) per command, as Redis 7.0.15 counts it
/// with `save ""`.
#[test]
fn dirty_counts_like_redis() {
    let mut h = H::selected();
    let cases: &[(&str, u64)] = &[
        ("set a 1", 1),
        ("set a 1 nx", 0),
        ("mset a 1 b 2 c 3", 3),
        ("msetnx d 1 e 2", 2),
        ("msetnx d 1 f 2", 0),
        ("del a b nosuch", 2),
        ("incr n", 1),
        ("incrbyfloat n 1.5", 1),
        ("append n x", 1),
        ("setrange n 0 \"\"", 0),
        ("setrange n 0 y", 1),
        ("expire c 100", 1),
        ("expire c 100 nx", 0),
        ("persist c", 1),
        ("persist c", 0),
        ("expire c -1", 1),
        ("rename d dd", 1),
        ("rename dd dd", 0),
        ("copy dd d2", 1),
        ("move d2 3", 1),
        ("getdel e", 1),
        ("getex n ex 100", 1),
        ("getex n", 0),
        ("set g 1 get", 1),
        ("getset g 2", 1),
        ("flushdb", 3),
        ("flushdb", 0),
        ("swapdb 0 1", 1),
        ("swapdb 1 1", 1),
        ("set a 1", 1),
        ("select 5", 0),
        ("set a 1", 1),
        ("set b 1", 1),
        ("select 0", 0),
        ("flushall", 4),
        ("flushall", 0),
    ];
    for (line, want) in cases {
        assert_eq!(h.dirtied(line), *want, "{line}");
    }
    // An expired key is no change of the client's.
    h.setup(&["psetex p 50 v"]);
    h.advance(51);
    assert_eq!(h.dirtied("get p"), 0);
    // A transaction counts its commands' changes.
    h.setup(&["multi", "set a 1", "incr n", "get a"]);
    assert_eq!(h.dirtied("exec"), 2);
}

#[test]
fn bitmap_writes_propagate_as_sent_only_when_they_change_something() {
    let mut h = H::selected();
    h.check("setbit b 7 1", &["setbit b 7 1"]);
    h.check("setbit b 7 1", &[]);
    h.check("setbit b 100 0", &["setbit b 100 0"]);
    h.check("getbit b 7", &[]);
    let before = h.dirty();
    let line = "bitfield b set u8 0 2 set u8 8 1 get u8 0";
    h.check(line, &[line]);
    // One change per write that changed a value.
    assert_eq!(h.dirty() - before, 2);
    h.check("bitfield b set u8 0 2 get u8 0", &[]);
    h.check(
        "bitfield b incrby u8 0 1 overflow fail incrby u2 0 9",
        &["bitfield b incrby u8 0 1 overflow fail incrby u2 0 9"],
    );
    // Every write failing: the key is padded but nothing counts, as in Redis.
    assert_eq!(h.dirtied("bitfield c overflow fail incrby u2 0 9"), 0);
    h.check("bitfield c overflow fail incrby u2 0 9", &[]);
    assert_eq!(h.run("exists c"), Reply::Int(1));
    h.check("bitfield_ro b get u8 0", &[]);
    h.check("bitop and d b c", &["bitop and d b c"]);
    h.check("bitop and e nosuch", &[]);
    h.check("bitop and d nosuch", &["bitop and d nosuch"]);
    assert_eq!(h.run("exists d"), Reply::Int(0));
}

/// HyperLogLogs: PFCOUNT that refreshes the cached cardinality in the header is a write
/// Redis propagates as sent (its AOF holds `pfcount h`); a cache hit or a multi-key count is
/// not. PFADD counts one change per register raised, plus one for a new key.
#[test]
fn hyperloglog_commands() {
    let mut h = H::selected();
    h.check("pfadd h", &["pfadd h"]);
    h.check("pfadd h", &[]);
    h.check("pfadd h a b c", &["pfadd h a b c"]);
    h.check("pfadd h a b c", &[]);
    h.check("pfcount h", &["pfcount h"]);
    h.check("pfcount h", &[]);
    h.check("pfadd h2 x", &["pfadd h2 x"]);
    h.check("pfcount h h2", &[]);
    h.check("pfmerge m h h2", &["pfmerge m h h2"]);
    h.check("pfdebug encoding m", &[]);
    h.check("pfdebug todense m", &["pfdebug todense m"]);
    h.check("pfdebug todense m", &[]);
    h.check("pfdebug getreg h2", &["pfdebug getreg h2"]);
    h.check("pfdebug getreg h2", &[]);
    h.check("pfselftest", &[]);
    h.setup(&["set s foo"]);
    h.check("pfadd s a", &[]);
    let cases: &[(&str, u64)] = &[
        ("pfadd n", 1),
        ("pfadd n a b c", 3),
        ("pfadd n a b c", 0),
        ("pfadd n d e", 2),
        ("pfcount n", 1),
        ("pfcount n", 0),
        ("pfadd n2 x", 2),
        ("pfcount n n2", 0),
        ("pfmerge m2 n n2", 1),
        ("pfdebug todense n", 1),
        ("pfdebug todense n", 0),
        ("pfdebug getreg n2", 1),
        ("pfdebug encoding n2", 0),
    ];
    for (line, want) in cases {
        assert_eq!(h.dirtied(line), *want, "{line}");
    }
}

/// GEOADD replays as the ZADD it is (integer geohash scores, the options as sent), only
/// when something changed; the STORE searches replay as sent. Recorded
/// from Redis 7.0.15's AOF.
#[test]
fn geo_writes() {
    let mut h = H::selected();
    h.check(
        "geoadd k 13.361389 38.115556 Palermo",
        &["zadd k 3479099956230698 Palermo"],
    );
    assert_eq!(
        h.check("geoadd k 13.361389 38.115556 Palermo", &[]),
        Reply::Int(0)
    );
    h.check(
        "geoadd k ch xx 1 2 Palermo 3 4 x",
        &["zadd k ch xx 3378080408407459 Palermo 3379626039612548 x"],
    );
    h.check(
        "geoadd k NX 1 2 Palermo 5 6 y",
        &["zadd k NX 3378080408407459 Palermo 3382888239524122 y"],
    );
    assert_eq!(h.dirtied("geoadd k ch 7 7 Palermo 7 7 y 8 8 z"), 3);
    h.drain();
    h.check(
        "georadius k 0 0 10000 km store d",
        &["georadius k 0 0 10000 km store d"],
    );
    h.check(
        "geosearchstore d2 k fromlonlat 0 0 byradius 10000 km storedist",
        &["geosearchstore d2 k fromlonlat 0 0 byradius 10000 km storedist"],
    );
    assert_eq!(
        h.dirtied("geosearchstore d2 k fromlonlat 0 0 byradius 10000 km"),
        3
    );
    h.drain();
    // Nothing matched: the destination is deleted, and the command replays as sent.
    h.check(
        "georadius k 0 0 1 km store d2",
        &["georadius k 0 0 1 km store d2"],
    );
    h.check("georadius k 0 0 1 km store d2", &[]);
    h.check("geosearch k fromlonlat 0 0 byradius 10000 km", &[]);
}
