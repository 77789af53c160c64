//! Blocked clients: BLPOP and friends across connections — wake-up by a push, FIFO order of
//! waiters, timeouts, MULTI, CLIENT UNBLOCK, disconnects, and a held-back pipeline.

use std::thread;

use crate::common::*;

#[test]
fn blpop_is_woken_by_a_push_from_another_client() {
    let s = server();
    let mut waiter = con(&s);
    let t = thread::spawn(move || -> Option<(String, String)> {
        q(&mut waiter, &["BLPOP", "jobs", "0"])
    });
    let mut c = con(&s);
    wait_blocked(&mut c, 1);
    let list: String = q(&mut c, &["CLIENT", "LIST"]);
    assert!(list.contains("flags=b"), "{list}");
    let n: i64 = q(&mut c, &["RPUSH", "jobs", "a", "b"]);
    assert_eq!(n, 2);
    assert_eq!(t.join().unwrap(), Some(("jobs".into(), "a".into())));
    let rest: Vec<String> = q(&mut c, &["LRANGE", "jobs", "0", "-1"]);
    assert_eq!(rest, vec!["b"]);
    wait_blocked(&mut c, 0);
}

#[test]
fn blpop_times_out_with_nil() {
    let s = server();
    let mut c = con(&s);
    let got: Option<(String, String)> = q(&mut c, &["BLPOP", "nothing", "0.05"]);
    assert_eq!(got, None);
    let mut c3 = con3(&s);
    assert_eq!(v(&mut c3, &["BRPOP", "nothing", "0.05"]), redis::Value::Nil);
    // The connection is usable afterwards and nothing stays blocked.
    let _: () = q(&mut c, &["SET", "k", "v"]);
    wait_blocked(&mut c, 0);
}

#[test]
fn waiters_on_a_key_are_served_in_arrival_order() {
    let s = server();
    let mut c = con(&s);
    let mut handles = Vec::new();
    for i in 0..3 {
        let mut w = con(&s);
        handles.push(thread::spawn(
            move || -> (usize, Option<(String, String)>) { (i, q(&mut w, &["BLPOP", "q", "10"])) },
        ));
        wait_blocked(&mut c, i + 1);
    }
    let _: i64 = q(&mut c, &["RPUSH", "q", "first", "second", "third"]);
    let mut got: Vec<(usize, String)> = handles
        .into_iter()
        .map(|h| {
            let (i, r) = h.join().unwrap();
            (i, r.expect("served").1)
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (0, "first".into()),
            (1, "second".into()),
            (2, "third".into())
        ]
    );
}

#[test]
fn a_push_inside_multi_wakes_after_exec_and_blocking_inside_multi_does_not_block() {
    let s = server();
    let mut waiter = con(&s);
    let t =
        thread::spawn(move || -> Option<(String, String)> { q(&mut waiter, &["BLPOP", "k", "0"]) });
    let mut c = con(&s);
    wait_blocked(&mut c, 1);
    // Inside MULTI the push and the pop see each other first: the waiter gets nothing of it.
    let _: () = q(&mut c, &["MULTI"]);
    let _: String = q(&mut c, &["RPUSH", "k", "x"]);
    let _: String = q(&mut c, &["LPOP", "k"]);
    let _: String = q(&mut c, &["RPUSH", "k", "y"]);
    let replies: Vec<redis::Value> = q(&mut c, &["EXEC"]);
    assert_eq!(replies.len(), 3);
    assert_eq!(t.join().unwrap(), Some(("k".into(), "y".into())));
    // A blocking command inside MULTI answers as its non-blocking form.
    let _: () = q(&mut c, &["MULTI"]);
    let _: String = q(&mut c, &["BLPOP", "empty", "0"]);
    let replies: Vec<redis::Value> = q(&mut c, &["EXEC"]);
    assert_eq!(replies, vec![redis::Value::Nil]);
}

#[test]
fn client_unblock_ends_a_wait_as_timeout_or_error() {
    let s = server();
    let mut w1 = con(&s);
    let id1: i64 = q(&mut w1, &["CLIENT", "ID"]);
    let t1 =
        thread::spawn(move || -> Option<(String, String)> { q(&mut w1, &["BLPOP", "k", "0"]) });
    let mut c = con(&s);
    wait_blocked(&mut c, 1);
    let n: i64 = q(&mut c, &["CLIENT", "UNBLOCK", &id1.to_string()]);
    assert_eq!(n, 1);
    assert_eq!(t1.join().unwrap(), None);

    let mut w2 = con(&s);
    let id2: i64 = q(&mut w2, &["CLIENT", "ID"]);
    let t2 = thread::spawn(move || err(&mut w2, &["BLPOP", "k", "0"]));
    wait_blocked(&mut c, 1);
    let n: i64 = q(&mut c, &["CLIENT", "UNBLOCK", &id2.to_string(), "ERROR"]);
    assert_eq!(n, 1);
    assert_eq!(
        t2.join().unwrap(),
        "UNBLOCKED client unblocked via CLIENT UNBLOCK"
    );
    let n: i64 = q(&mut c, &["CLIENT", "UNBLOCK", &id2.to_string()]);
    assert_eq!(n, 0, "not blocked any more");
    assert_eq!(
        err(&mut c, &["CLIENT", "UNBLOCK", "1", "NOW"]),
        "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
    );
}

#[test]
fn a_blocked_client_that_disconnects_leaves_nothing_behind() {
    let s = server();
    {
        let mut r = Raw::connect(&s);
        r.send_cmd(&[b"BLPOP", b"gone", b"0"]);
        let mut c = con(&s);
        wait_blocked(&mut c, 1);
    }
    let mut c = con(&s);
    wait_blocked(&mut c, 0);
    let _: i64 = q(&mut c, &["RPUSH", "gone", "kept"]);
    let len: i64 = q(&mut c, &["LLEN", "gone"]);
    assert_eq!(len, 1, "no departed waiter took the element");
}

#[test]
fn a_blocked_connection_runs_nothing_else_from_its_pipeline() {
    let s = server();
    let mut r = Raw::connect(&s);
    // BLPOP and PING in one write: PING must wait for BLPOP to be served.
    r.send(b"*3\r\n$5\r\nBLPOP\r\n$1\r\np\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n");
    let mut c = con(&s);
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["RPUSH", "p", "v"]);
    assert_eq!(r.reply(), b"*2\r\n$1\r\np\r\n$1\r\nv\r\n");
    assert_eq!(r.reply(), b"+PONG\r\n");
}

#[test]
fn blmove_and_brpoplpush_move_between_lists_when_woken() {
    let s = server();
    let mut w = con(&s);
    let t = thread::spawn(move || -> Option<String> {
        q(&mut w, &["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"])
    });
    let mut c = con(&s);
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["RPUSH", "src", "a"]);
    assert_eq!(t.join().unwrap(), Some("a".into()));
    let dst: Vec<String> = q(&mut c, &["LRANGE", "dst", "0", "-1"]);
    assert_eq!(dst, vec!["a"]);
    let got: Option<String> = q(&mut c, &["BRPOPLPUSH", "dst", "other", "0"]);
    assert_eq!(got, Some("a".into()));
    let none: Option<String> = q(&mut c, &["BRPOPLPUSH", "empty", "other", "0.02"]);
    assert_eq!(none, None);
}

#[test]
fn blmpop_pops_up_to_count_from_the_first_nonempty_key() {
    let s = server();
    let mut c = con(&s);
    let _: i64 = q(&mut c, &["RPUSH", "b", "1", "2", "3"]);
    let got: (String, Vec<String>) = q(
        &mut c,
        &["BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "2"],
    );
    assert_eq!(got, ("b".into(), vec!["1".into(), "2".into()]));
    let none: Option<(String, Vec<String>)> = q(&mut c, &["BLMPOP", "0.02", "1", "a", "RIGHT"]);
    assert_eq!(none, None);
    assert_eq!(
        err(&mut c, &["BLPOP", "k", "-1"]),
        "ERR timeout is negative"
    );
    assert_eq!(
        err(&mut c, &["BLPOP", "k", "soon"]),
        "ERR timeout is not a float or out of range"
    );
}

#[test]
fn a_served_pop_is_propagated_as_the_pop_it_performed() {
    let s = server();
    s.propagation().set_enabled(true);
    let mut waiter = con(&s);
    let t = thread::spawn(move || -> Option<(String, String)> {
        q(&mut waiter, &["BLPOP", "jobs", "0"])
    });
    let mut c = con(&s);
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["RPUSH", "jobs", "a"]);
    assert!(t.join().unwrap().is_some());
    let log: Vec<String> = s.propagation().drain_text();
    assert_eq!(log, ["SELECT 0", "RPUSH jobs a", "LPOP jobs"]);
}

#[test]
fn bzpopmin_and_bzmpop_wait_for_a_sorted_set() {
    let s = server();
    let mut w = con(&s);
    let t = thread::spawn(move || -> Option<(String, String, f64)> {
        q(&mut w, &["BZPOPMIN", "board", "0"])
    });
    let mut c = con(&s);
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["ZADD", "board", "5", "five", "1", "one"]);
    assert_eq!(t.join().unwrap(), Some(("board".into(), "one".into(), 1.0)));
    let got: (String, Vec<(String, f64)>) =
        q(&mut c, &["BZMPOP", "0", "1", "board", "MAX", "COUNT", "3"]);
    assert_eq!(got, ("board".into(), vec![("five".into(), 5.0)]));
    let none: Option<(String, String, f64)> = q(&mut c, &["BZPOPMAX", "board", "0.02"]);
    assert_eq!(none, None);
    // A RESP3 client gets the score as a double.
    let mut c3 = con3(&s);
    let _: i64 = q(&mut c3, &["ZADD", "z3", "2.5", "m"]);
    assert_eq!(
        v(&mut c3, &["BZPOPMAX", "z3", "0"]),
        redis::Value::Array(vec![
            redis::Value::BulkString(b"z3".to_vec()),
            redis::Value::BulkString(b"m".to_vec()),
            redis::Value::Double(2.5),
        ])
    );
}

#[test]
fn a_waiter_on_a_key_that_becomes_another_type_stays_blocked() {
    let s = server();
    let mut w = con(&s);
    let t = thread::spawn(move || -> Option<(String, String)> { q(&mut w, &["BLPOP", "k", "0"]) });
    let mut c = con(&s);
    wait_blocked(&mut c, 1);
    let _: () = q(&mut c, &["SET", "k", "a string"]);
    let _: i64 = q(&mut c, &["DEL", "k"]);
    wait_blocked(&mut c, 1);
    let _: i64 = q(&mut c, &["LPUSH", "k", "x"]);
    assert_eq!(t.join().unwrap(), Some(("k".into(), "x".into())));
}
