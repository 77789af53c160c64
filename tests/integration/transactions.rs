//! MULTI / EXEC / DISCARD / WATCH / UNWATCH as a client sees them: replies and error texts
//! (checked against Redis 7.0.15 with `resp-diff.py`), what aborts a WATCH and what does not,
//! atomicity under concurrent clients, and the propagation stream over the wire.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use redis::Value;

use crate::common::{bulk, con, err, manual_server, q, server, Raw};

/// Sends EXEC and returns its raw reply.
fn exec_raw(r: &mut Raw) -> String {
    r.call(&["EXEC"])
}

/// Runs `MULTI`, the given commands (each must answer `+QUEUED`) and `EXEC`; returns EXEC's
/// raw reply.
fn transaction(r: &mut Raw, cmds: &[&[&str]]) -> String {
    assert_eq!(r.call(&["MULTI"]), "+OK\r\n");
    for c in cmds {
        assert_eq!(r.call(c), "+QUEUED\r\n", "{c:?}");
    }
    exec_raw(r)
}

const NIL_ARRAY: &str = "*-1\r\n";

#[test]
fn multi_exec_replies() {
    let s = server();
    let mut c = con(&s);
    let ok: String = q(&mut c, &["MULTI"]);
    assert_eq!(ok, "OK");
    let queued: String = q(&mut c, &["SET", "k", "1"]);
    assert_eq!(queued, "QUEUED");
    let _: String = q(&mut c, &["INCR", "k"]);
    let replies: Vec<Value> = q(&mut c, &["EXEC"]);
    assert_eq!(replies, vec![Value::Okay, Value::Int(2)]);

    // The redis crate's atomic pipeline sends MULTI … EXEC and unpacks EXEC's array.
    let (set, n): (String, i64) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("k")
        .arg("1")
        .cmd("INCR")
        .arg("k")
        .query(&mut c)
        .expect("atomic pipeline");
    assert_eq!((set.as_str(), n), ("OK", 2));

    // An empty transaction answers an empty array.
    let mut r = Raw::connect(&s);
    assert_eq!(transaction(&mut r, &[]), "*0\r\n");
    // Reads see the transaction's own writes.
    assert_eq!(
        transaction(&mut r, &[&["SET", "a", "x"], &["GET", "a"], &["DEL", "a"]]),
        "*3\r\n+OK\r\n$1\r\nx\r\n:1\r\n"
    );
}

#[test]
fn watch_aborts_on_another_clients_write() {
    let s = server();
    let mut r = Raw::connect(&s);
    let mut other = con(&s);
    assert_eq!(r.call(&["WATCH", "k"]), "+OK\r\n");
    let _: () = q(&mut other, &["SET", "k", "changed"]);
    assert_eq!(transaction(&mut r, &[&["SET", "k", "mine"]]), NIL_ARRAY);
    let v: String = q(&mut other, &["GET", "k"]);
    assert_eq!(v, "changed");
    // The watch is gone after EXEC: the next transaction runs.
    assert_eq!(
        transaction(&mut r, &[&["SET", "k", "mine"]]),
        "*1\r\n+OK\r\n"
    );

    // The redis crate sees the aborted EXEC as nil.
    let mut c = con(&s);
    let _: () = q(&mut c, &["WATCH", "k"]);
    let _: () = q(&mut other, &["SET", "k", "again"]);
    let got: Option<(String,)> = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg("k")
        .arg("x")
        .query(&mut c)
        .expect("exec");
    assert_eq!(got, None);
}

/// Watches `k` (in db 0) on one connection, lets `change` run on another, then EXECs.
fn aborted_by(setup: &[&[&str]], change: &[&[&str]]) -> bool {
    let s = server();
    let mut r = Raw::connect(&s);
    let mut other = Raw::connect(&s);
    for c in setup {
        other.call(c);
    }
    assert_eq!(r.call(&["WATCH", "k"]), "+OK\r\n");
    for c in change {
        let reply = other.call(c);
        assert!(!reply.starts_with('-'), "{c:?}: {reply}");
    }
    match transaction(&mut r, &[&["PING"]]).as_str() {
        NIL_ARRAY => true,
        "*1\r\n+PONG\r\n" => false,
        other => panic!("unexpected EXEC reply {other:?}"),
    }
}

#[test]
fn watch_aborts_on_every_kind_of_change() {
    let k: &[&str] = &["SET", "k", "v"];
    assert!(aborted_by(&[k], &[&["DEL", "k"]]));
    assert!(aborted_by(&[k], &[&["UNLINK", "k"]]));
    assert!(aborted_by(&[k], &[&["EXPIRE", "k", "100"]]));
    assert!(aborted_by(&[k], &[&["APPEND", "k", "x"]]));
    assert!(aborted_by(&[], &[&["SET", "k", "new"]]));
    assert!(aborted_by(&[k], &[&["FLUSHDB"]]));
    assert!(aborted_by(&[k], &[&["FLUSHALL"]]));
    // SWAPDB of the watched key's database, either way round.
    assert!(aborted_by(&[k], &[&["SWAPDB", "0", "1"]]));
    assert!(aborted_by(&[&["SELECT", "1"], k], &[&["SWAPDB", "1", "0"]]));
    // RENAME away from and onto the watched key.
    assert!(aborted_by(&[k], &[&["RENAME", "k", "k2"]]));
    assert!(aborted_by(
        &[&["SET", "src", "v"]],
        &[&["RENAME", "src", "k"]]
    ));
    assert!(aborted_by(
        &[&["SET", "src", "v"]],
        &[&["COPY", "src", "k"]]
    ));
    assert!(aborted_by(
        &[&["SELECT", "1"], &["SET", "k", "v"]],
        &[&["MOVE", "k", "0"]]
    ));
}

#[test]
fn watch_survives_unrelated_writes() {
    let k: &[&str] = &["SET", "k", "v"];
    assert!(!aborted_by(&[k], &[&["SET", "other", "x"]]));
    assert!(!aborted_by(&[k], &[&["DEL", "other"]]));
    // The same key name in another database is another key.
    assert!(!aborted_by(&[k], &[&["SELECT", "1"], &["SET", "k", "x"]]));
    assert!(!aborted_by(&[k], &[&["SELECT", "1"], &["FLUSHDB"]]));
    assert!(!aborted_by(&[k], &[&["SWAPDB", "1", "2"]]));
    // Commands that change nothing.
    assert!(!aborted_by(&[k], &[&["GET", "k"], &["EXISTS", "k"]]));
    assert!(!aborted_by(&[k], &[&["SET", "k", "x", "NX"]]));
    assert!(!aborted_by(&[k], &[&["DEL", "nosuch"]]));
    // Watching a missing key that stays missing.
    assert!(!aborted_by(&[], &[&["DEL", "k"]]));
}

#[test]
fn watch_aborts_when_the_key_expires() {
    let s = manual_server();
    let mut r = Raw::connect(&s);
    let mut other = Raw::connect(&s);
    assert_eq!(r.call(&["SET", "k", "v", "PX", "1000"]), "+OK\r\n");
    assert_eq!(r.call(&["WATCH", "k"]), "+OK\r\n");
    s.clock().advance(2_000);
    assert_eq!(transaction(&mut r, &[&["PING"]]), NIL_ARRAY);

    // Also when another client's read reclaimed it first.
    assert_eq!(r.call(&["SET", "k", "v", "PX", "1000"]), "+OK\r\n");
    assert_eq!(r.call(&["WATCH", "k"]), "+OK\r\n");
    s.clock().advance(2_000);
    assert_eq!(other.call(&["GET", "k"]), "$-1\r\n");
    assert_eq!(transaction(&mut r, &[&["PING"]]), NIL_ARRAY);

    // A deadline not yet reached aborts nothing.
    assert_eq!(r.call(&["SET", "k", "v", "PX", "1000"]), "+OK\r\n");
    assert_eq!(r.call(&["WATCH", "k"]), "+OK\r\n");
    s.clock().advance(500);
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");
}

/// As in Redis 7.0: a key already past its deadline when WATCH ran is logically missing, so
/// reclaiming or flushing it later is no change — but writing it is.
#[test]
fn watching_an_already_expired_key() {
    let s = manual_server();
    let mut r = Raw::connect(&s);
    let mut other = Raw::connect(&s);
    let expired_watch = |r: &mut Raw| {
        assert_eq!(r.call(&["SET", "k", "v", "PX", "1000"]), "+OK\r\n");
        s.clock().advance(2_000);
        assert_eq!(r.call(&["WATCH", "k"]), "+OK\r\n");
    };
    expired_watch(&mut r);
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");
    expired_watch(&mut r);
    assert_eq!(other.call(&["GET", "k"]), "$-1\r\n");
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");
    expired_watch(&mut r);
    assert_eq!(other.call(&["FLUSHDB"]), "+OK\r\n");
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");
    expired_watch(&mut r);
    assert_eq!(other.call(&["SET", "k", "new"]), "+OK\r\n");
    assert_eq!(transaction(&mut r, &[&["PING"]]), NIL_ARRAY);
    // Reclaimed, then written again: a change.
    other.call(&["DEL", "k"]);
    expired_watch(&mut r);
    assert_eq!(other.call(&["GET", "k"]), "$-1\r\n");
    assert_eq!(other.call(&["SET", "k", "again"]), "+OK\r\n");
    assert_eq!(transaction(&mut r, &[&["PING"]]), NIL_ARRAY);
    // A live key swapped in is a change; swapped out while expired is not.
    other.call(&["FLUSHALL"]);
    other.call(&["SELECT", "1"]);
    other.call(&["SET", "k", "in1"]);
    expired_watch(&mut r);
    assert_eq!(other.call(&["SWAPDB", "0", "1"]), "+OK\r\n");
    assert_eq!(transaction(&mut r, &[&["PING"]]), NIL_ARRAY);
    other.call(&["FLUSHALL"]);
    expired_watch(&mut r);
    assert_eq!(other.call(&["SWAPDB", "0", "1"]), "+OK\r\n");
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");
}

#[test]
fn unwatch_discard_and_exec_forget_watches() {
    let s = server();
    let mut r = Raw::connect(&s);
    let mut other = Raw::connect(&s);
    r.call(&["WATCH", "k"]);
    assert_eq!(r.call(&["UNWATCH"]), "+OK\r\n");
    other.call(&["SET", "k", "1"]);
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");

    r.call(&["WATCH", "k"]);
    r.call(&["MULTI"]);
    assert_eq!(r.call(&["DISCARD"]), "+OK\r\n");
    other.call(&["SET", "k", "2"]);
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");

    r.call(&["WATCH", "k"]);
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");
    other.call(&["SET", "k", "3"]);
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");

    // An aborted EXEC forgets them too, and so does an EXECABORT.
    r.call(&["WATCH", "k"]);
    other.call(&["SET", "k", "4"]);
    assert_eq!(transaction(&mut r, &[&["PING"]]), NIL_ARRAY);
    r.call(&["WATCH", "k"]);
    r.call(&["MULTI"]);
    r.call(&["NOSUCH"]);
    assert!(exec_raw(&mut r).starts_with("-EXECABORT"));
    other.call(&["SET", "k", "5"]);
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");
    // UNWATCH inside MULTI is queued and harmless.
    assert_eq!(transaction(&mut r, &[&["UNWATCH"]]), "*1\r\n+OK\r\n");
}

#[test]
fn queuing_errors_abort_exec() {
    let s = server();
    let mut r = Raw::connect(&s);
    let execabort = "-EXECABORT Transaction discarded because of previous errors.\r\n";
    r.call(&["MULTI"]);
    r.call(&["SET", "a", "1"]);
    assert_eq!(
        r.call(&["NOSUCHCMD", "x"]),
        "-ERR unknown command 'NOSUCHCMD', with args beginning with: 'x' \r\n"
    );
    assert_eq!(exec_raw(&mut r), execabort);
    r.call(&["MULTI"]);
    assert_eq!(
        r.call(&["SET", "a"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
    assert_eq!(r.call(&["SET", "a", "1"]), "+QUEUED\r\n");
    assert_eq!(exec_raw(&mut r), execabort);
    // Nothing of an aborted transaction ran, and the connection is out of MULTI.
    assert_eq!(r.call(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(exec_raw(&mut r), "-ERR EXEC without MULTI\r\n");
    // A no-multi command is refused while queuing, and dooms the transaction.
    r.call(&["MULTI"]);
    assert_eq!(
        r.call(&["SHUTDOWN"]),
        "-ERR Command not allowed inside a transaction\r\n"
    );
    assert_eq!(exec_raw(&mut r), execabort);
    // DISCARD after an error is fine.
    r.call(&["MULTI"]);
    r.call(&["NOSUCH"]);
    assert_eq!(r.call(&["DISCARD"]), "+OK\r\n");
}

#[test]
fn runtime_errors_stay_inside_execs_array() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.call(&["SET", "a", "x"]);
    assert_eq!(
        transaction(
            &mut r,
            &[
                &["INCR", "a"],
                &["SET", "b", "1"],
                &["SET", "c", "1", "EX", "0"],
                &["GET", "b"],
            ]
        ),
        "*4\r\n-ERR value is not an integer or out of range\r\n+OK\r\n\
         -ERR invalid expire time in 'set' command\r\n$1\r\n1\r\n"
    );
    // The redis crate reports the error without losing the rest.
    let mut c = con(&s);
    let got: redis::RedisResult<Vec<Value>> = redis::pipe()
        .atomic()
        .cmd("INCR")
        .arg("a")
        .cmd("GET")
        .arg("b")
        .query(&mut c);
    let e = got.expect_err("the INCR failed");
    assert!(e.to_string().contains("value is not an integer"), "{e}");
    // The rest of the transaction ran, and the connection is usable.
    let v: Value = q(&mut c, &["GET", "b"]);
    assert_eq!(v, bulk("1"));
}

#[test]
fn misplaced_transaction_commands() {
    let s = server();
    let mut c = con(&s);
    assert_eq!(err(&mut c, &["EXEC"]), "ERR EXEC without MULTI");
    assert_eq!(err(&mut c, &["DISCARD"]), "ERR DISCARD without MULTI");
    let mut r = Raw::connect(&s);
    r.call(&["MULTI"]);
    assert_eq!(r.call(&["MULTI"]), "-ERR MULTI calls can not be nested\r\n");
    assert_eq!(
        r.call(&["WATCH", "a"]),
        "-ERR WATCH inside MULTI is not allowed\r\n"
    );
    // Neither error dooms the transaction.
    assert_eq!(r.call(&["SET", "a", "1"]), "+QUEUED\r\n");
    assert_eq!(exec_raw(&mut r), "*1\r\n+OK\r\n");
    assert_eq!(
        r.call(&["EXEC", "x"]),
        "-ERR wrong number of arguments for 'exec' command\r\n"
    );
}

#[test]
fn select_and_swapdb_inside_multi() {
    let s = server();
    let mut r = Raw::connect(&s);
    assert_eq!(
        transaction(
            &mut r,
            &[&["SELECT", "2"], &["SET", "a", "in2"], &["GET", "a"]]
        ),
        "*3\r\n+OK\r\n+OK\r\n$3\r\nin2\r\n"
    );
    // The SELECT outlives the transaction.
    assert_eq!(r.call(&["GET", "a"]), "$3\r\nin2\r\n");
    r.call(&["SELECT", "0"]);
    assert_eq!(r.call(&["GET", "a"]), "$-1\r\n");
    assert_eq!(
        transaction(&mut r, &[&["SWAPDB", "0", "2"], &["GET", "a"]]),
        "*2\r\n+OK\r\n$3\r\nin2\r\n"
    );
    assert_eq!(r.call(&["GET", "a"]), "$3\r\nin2\r\n");
    // A bad SELECT fails inside the array only.
    assert_eq!(
        transaction(&mut r, &[&["SELECT", "99"], &["GET", "a"]]),
        "*2\r\n-ERR DB index is out of range\r\n$3\r\nin2\r\n"
    );
}

#[test]
fn whole_keyspace_commands_answer_inside_exec() {
    let s = server();
    let mut r = Raw::connect(&s);
    r.call(&["SET", "a", "1"]);
    r.call(&["SET", "b", "2"]);
    r.call(&["MULTI"]);
    for c in [
        &["DBSIZE"][..],
        &["KEYS", "a"],
        &["SCAN", "0", "MATCH", "b"],
        &["INFO", "keyspace"],
        &["RANDOMKEY"],
        &["FLUSHALL"],
        &["DBSIZE"],
        &["INFO", "keyspace"],
    ] {
        assert_eq!(r.call(c), "+QUEUED\r\n");
    }
    let reply = exec_raw(&mut r);
    assert!(
        reply.starts_with("*8\r\n:2\r\n*1\r\n$1\r\na\r\n*2\r\n$1\r\n0\r\n*1\r\n$1\r\nb\r\n"),
        "{reply:?}"
    );
    assert!(reply.contains("db0:keys=2,expires=0"), "{reply:?}");
    // RANDOMKEY's pick varies; after FLUSHALL the keyspace is empty.
    assert!(
        reply.ends_with("+OK\r\n:0\r\n$12\r\n# Keyspace\r\n\r\n"),
        "{reply:?}"
    );
    assert_eq!(r.call(&["DBSIZE"]), ":0\r\n");
}

#[test]
fn reset_leaves_multi_and_watch() {
    let s = server();
    let mut r = Raw::connect(&s);
    let mut other = Raw::connect(&s);
    r.call(&["WATCH", "k"]);
    r.call(&["MULTI"]);
    r.call(&["SET", "k", "mine"]);
    assert_eq!(r.call(&["RESET"]), "+RESET\r\n");
    assert_eq!(exec_raw(&mut r), "-ERR EXEC without MULTI\r\n");
    assert_eq!(r.call(&["EXISTS", "k"]), ":0\r\n");
    other.call(&["SET", "k", "theirs"]);
    assert_eq!(transaction(&mut r, &[&["PING"]]), "*1\r\n+PONG\r\n");
}

/// Two clients each run many `MULTI INCR k INCR k EXEC`; a third reading `k` must never see
/// an odd value (it would have seen half a transaction).
#[test]
fn transactions_are_atomic() {
    let s = server();
    let rounds = 300;
    let done = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|_| {
            let mut c = con(&s);
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    let (a, b): (i64, i64) = redis::pipe()
                        .atomic()
                        .cmd("INCR")
                        .arg("k")
                        .cmd("INCR")
                        .arg("k")
                        .query(&mut c)
                        .expect("exec");
                    assert_eq!(b, a + 1);
                }
            })
        })
        .collect();
    let reader = {
        let mut c = con(&s);
        let done = done.clone();
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) || reads == 0 {
                let v: Option<i64> = q(&mut c, &["GET", "k"]);
                let v = v.unwrap_or(0);
                assert_eq!(v % 2, 0, "saw half a transaction: {v}");
                reads += 1;
            }
        })
    };
    for w in writers {
        w.join().expect("writer");
    }
    done.store(true, Ordering::Relaxed);
    reader.join().expect("reader");
    let mut c = con(&s);
    let total: i64 = q(&mut c, &["GET", "k"]);
    assert_eq!(total, 2 * 2 * rounds);
}

#[test]
fn transactions_propagate_over_the_wire() {
    let s = manual_server();
    s.propagation().set_enabled(true);
    let mut r = Raw::connect(&s);
    r.call(&["SET", "a", "1"]);
    transaction(
        &mut r,
        &[
            &["INCR", "a"],
            &["GET", "a"],
            &["SET", "b", "x", "EX", "10"],
        ],
    );
    transaction(
        &mut r,
        &[&["SELECT", "3"], &["DEL", "a"], &["SET", "c", "1"]],
    );
    transaction(&mut r, &[&["GET", "c"]]);
    transaction(&mut r, &[&["INCR", "c"]]);
    let px = format!("SET b x PXAT {}", crate::common::T0 + 10_000);
    let got: Vec<String> = s.propagation().drain_text();
    assert_eq!(
        got,
        ["SELECT 0", "SET a 1", "MULTI", "INCR a", &px, "EXEC", "SELECT 3", "SET c 1", "INCR c",]
    );
}
