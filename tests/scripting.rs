//! Lua scripting and functions as clients see them: EVAL with KEYS/ARGV, error shapes,
//! atomicity under concurrent clients (a redlock-style compare-and-delete, a script over
//! keys in several shards whose writes nobody sees half of), a WATCH retry loop around a
//! script, BUSY and SCRIPT KILL on a `while true do end` script while the server keeps
//! answering, functions and their dump payload, and the cjson/cmsgpack round trips.
//! Texts were checked against Redis 7.0.15 (`tests/resp-diff/scripting.txt`).

#[path = "integration/common.rs"]
#[allow(dead_code)]
mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use redis::Value;

use common::{bulk, con, con3, err, eventually, q, server, v};

const UNLOCK: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then \
                      return redis.call('del', KEYS[1]) else return 0 end";

#[test]
fn eval_with_keys_and_argv_and_the_script_cache() {
    let s = server();
    let mut c = con(&s);
    let r: Vec<String> = q(
        &mut c,
        &[
            "EVAL",
            "return {KEYS[1], KEYS[2], ARGV[1]}",
            "2",
            "a",
            "b",
            "x",
        ],
    );
    assert_eq!(r, ["a", "b", "x"]);
    let sha: String = q(&mut c, &["SCRIPT", "LOAD", "return ARGV[1] .. '!'"]);
    assert_eq!(sha.len(), 40);
    let r: String = q(&mut c, &["EVALSHA", &sha, "0", "hi"]);
    assert_eq!(r, "hi!");
    let exists: Vec<i64> = q(&mut c, &["SCRIPT", "EXISTS", &sha, "0000"]);
    assert_eq!(exists, [1, 0]);
    let _: () = q(&mut c, &["SCRIPT", "FLUSH"]);
    assert_eq!(
        err(&mut c, &["EVALSHA", &sha, "0"]),
        "NOSCRIPT No matching script. Please use EVAL."
    );
    // Conversions: numbers truncate, tables stop at the first nil, false is nil.
    let r = v(&mut c, &["EVAL", "return {1.9, 'x', false, nil, 4}", "0"]);
    assert_eq!(r, Value::Array(vec![Value::Int(1), bulk("x"), Value::Nil]));
    let r = v(&mut c, &["EVAL", "return {ok='FINE'}", "0"]);
    assert_eq!(r, Value::SimpleString("FINE".into()));
}

#[test]
fn error_shapes() {
    let s = server();
    let mut c = con(&s);
    let sha = "82903a0434f1503e152f89c03c9acd881a0e8150";
    assert_eq!(
        err(&mut c, &["EVAL", "error('boom')", "0"]),
        format!("ERR user_script:1: boom script: {sha}, on @user_script:1.")
    );
    let _: () = q(&mut c, &["SET", "s", "x"]);
    let e = err(
        &mut c,
        &["EVAL", "return redis.call('lpush', KEYS[1], 'a')", "1", "s"],
    );
    assert!(
        e.starts_with("WRONGTYPE Operation against a key holding the wrong kind of value script: "),
        "{e}"
    );
    assert!(err(&mut c, &["EVAL", "return redis.call('nosuch')", "0"])
        .starts_with("ERR Unknown Redis command called from script script: "));
    assert!(err(&mut c, &["EVAL", "x = 1", "0"])
        .starts_with("ERR user_script:1: Attempt to modify a readonly table script: "));
    assert!(err(&mut c, &["EVAL", "return y", "0"]).starts_with(
        "ERR user_script:1: Script attempted to access nonexistent global variable 'y' script: "
    ));
    assert_eq!(
        err(&mut c, &["EVAL", "retur 1", "0"]),
        "ERR Error compiling script (new function): user_script:1: '=' expected near '1'"
    );
    assert!(err(
        &mut c,
        &["EVAL", "return redis.call('eval', 'return 1', '0')", "0"]
    )
    .starts_with("ERR This Redis command is not allowed from script script: "));
    // pcall returns the error as a value; error_reply builds one.
    let e = err(
        &mut c,
        &["EVAL", "return redis.pcall('lpush', 's', 'a')", "0"],
    );
    assert_eq!(
        e,
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    assert_eq!(
        err(
            &mut c,
            &["EVAL", "return redis.error_reply('MY oops')", "0"]
        ),
        "MY oops"
    );
    // The state survives all of that.
    let n: i64 = q(&mut c, &["EVAL", "return 42", "0"]);
    assert_eq!(n, 42);
}

#[test]
fn resp3_conversions() {
    let s = server();
    let mut c = con3(&s);
    let _: () = q(&mut c, &["HSET", "h", "f", "v"]);
    let r = v(
        &mut c,
        &[
            "EVAL",
            "redis.setresp(3) return redis.call('hgetall', KEYS[1])",
            "1",
            "h",
        ],
    );
    assert_eq!(r, Value::Map(vec![(bulk("f"), bulk("v"))]));
    let r = v(&mut c, &["EVAL", "redis.setresp(3) return true", "0"]);
    assert_eq!(r, Value::Boolean(true));
    let r = v(&mut c, &["EVAL", "return {double=1.5}", "0"]);
    assert_eq!(r, Value::Double(1.5));
    let r = v(&mut c, &["EVAL", "return nil", "0"]);
    assert_eq!(r, Value::Nil);
}

/// A redlock-style lock: SET NX PX to take it, a compare-and-delete script to release it.
/// Under contention the lock is never held by two clients at once.
#[test]
fn redlock_compare_and_delete_under_concurrent_clients() {
    let s = Arc::new(server());
    let inside = Arc::new(AtomicBool::new(false));
    let acquired = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for id in 0..6 {
        let (s, inside, acquired) = (s.clone(), inside.clone(), acquired.clone());
        workers.push(thread::spawn(move || {
            let mut c = con(&s);
            let token = format!("token-{id}");
            let mut got = 0;
            while got < 20 {
                let ok: Option<String> = q(&mut c, &["SET", "lock", &token, "NX", "PX", "10000"]);
                if ok.is_none() {
                    // Someone else's: our release must not delete it.
                    let n: i64 = q(&mut c, &["EVAL", UNLOCK, "1", "lock", &token]);
                    assert_eq!(n, 0);
                    continue;
                }
                assert!(!inside.swap(true, Ordering::SeqCst), "two holders");
                got += 1;
                acquired.fetch_add(1, Ordering::Relaxed);
                inside.store(false, Ordering::SeqCst);
                let n: i64 = q(&mut c, &["EVAL", UNLOCK, "1", "lock", &token]);
                assert_eq!(n, 1);
            }
        }));
    }
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(acquired.load(Ordering::Relaxed), 120);
}

/// A script writes keys that live in different shards; a concurrent reader sees all of
/// its writes or none — never a partial script.
#[test]
fn a_script_over_several_shards_is_atomic() {
    let s = Arc::new(server());
    let keys: Vec<String> = (0..16).map(|i| format!("k{i}")).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (s, stop, keys) = (s.clone(), stop.clone(), keys.clone());
        thread::spawn(move || {
            let mut c = con(&s);
            let mut mget = vec!["MGET"];
            mget.extend(keys.iter().map(String::as_str));
            let mut seen = 0;
            while !stop.load(Ordering::Relaxed) || seen == 0 {
                let vals: Vec<Option<i64>> = q(&mut c, &mget);
                let first = vals[0];
                assert!(vals.iter().all(|v| *v == first), "partial script: {vals:?}");
                seen += 1;
            }
        })
    };
    let mut c = con(&s);
    let script = "for i, k in ipairs(KEYS) do redis.call('incr', k) \
                  for j = 1, 2000 do end end return #KEYS";
    let mut args = vec!["EVAL", script, "16"];
    args.extend(keys.iter().map(String::as_str));
    for _ in 0..50 {
        let n: i64 = q(&mut c, &args);
        assert_eq!(n, 16);
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    let n: i64 = q(&mut c, &["GET", "k15"]);
    assert_eq!(n, 50);
}

/// The optimistic pattern around a script: WATCH, read, MULTI + EVALSHA, EXEC; a
/// concurrent change aborts the transaction and the client retries.
#[test]
fn watch_retry_loop_around_a_script() {
    let s = server();
    let mut c = con(&s);
    let mut other = con(&s);
    let sha: String = q(
        &mut c,
        &[
            "SCRIPT",
            "LOAD",
            "return redis.call('set', KEYS[1], tonumber(ARGV[1]) + 1)",
        ],
    );
    let _: () = q(&mut c, &["SET", "counter", "0"]);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let _: () = q(&mut c, &["WATCH", "counter"]);
        let cur: String = q(&mut c, &["GET", "counter"]);
        if attempts == 1 {
            // Someone else changes it (through a script too) before EXEC.
            let _: Value = q(&mut other, &["EVALSHA", &sha, "1", "counter", "100"]);
        }
        let _: () = q(&mut c, &["MULTI"]);
        let _: String = q(&mut c, &["EVALSHA", &sha, "1", "counter", &cur]);
        let r: Value = q(&mut c, &["EXEC"]);
        if r != Value::Nil {
            break;
        }
    }
    assert_eq!(attempts, 2);
    let n: i64 = q(&mut c, &["GET", "counter"]);
    assert_eq!(n, 102);
    // A script's write invalidates another client's WATCH too.
    let _: () = q(&mut c, &["WATCH", "counter"]);
    let _: Value = q(&mut other, &["EVALSHA", &sha, "1", "counter", "7"]);
    let _: () = q(&mut c, &["MULTI"]);
    let _: String = q(&mut c, &["GET", "counter"]);
    let r: Value = q(&mut c, &["EXEC"]);
    assert_eq!(r, Value::Nil);
}

const BUSY: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

/// Polls PING (on fresh connections: the server keeps accepting) until it answers BUSY.
fn wait_for_busy(s: &emberkv::BackgroundServer) {
    assert!(
        eventually(Duration::from_secs(20), || {
            let mut c = con(s);
            matches!(cmd_err(&mut c, &["PING"]), Some(e) if e == BUSY)
        }),
        "never BUSY"
    );
}

fn cmd_err(c: &mut redis::Connection, words: &[&str]) -> Option<String> {
    match common::cmd(words).query::<Value>(c) {
        Ok(_) => None,
        Err(_) => Some(err(c, words)),
    }
}

#[test]
fn busy_then_script_kill_on_an_endless_script() {
    let s = Arc::new(server());
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    assert_eq!(
        err(&mut c, &["SCRIPT", "KILL"]),
        "NOTBUSY No scripts in execution right now."
    );
    let runner = {
        let s = s.clone();
        thread::spawn(move || {
            let mut c = con(&s);
            err(&mut c, &["EVAL", "while true do end", "0"])
        })
    };
    wait_for_busy(&s);
    // Other commands get BUSY; FUNCTION KILL names the right kind.
    assert_eq!(err(&mut c, &["GET", "x"]), BUSY);
    assert_eq!(err(&mut c, &["FUNCTION", "KILL"]), BUSY);
    let ok: String = q(&mut c, &["SCRIPT", "KILL"]);
    assert_eq!(ok, "OK");
    let e = runner.join().unwrap();
    assert!(
        e.starts_with("ERR Script killed by user with SCRIPT KILL... script: "),
        "{e}"
    );
    let pong: String = q(&mut c, &["PING"]);
    assert_eq!(pong, "PONG");
    // The Lua state still works.
    let n: i64 = q(&mut c, &["EVAL", "return 1", "0"]);
    assert_eq!(n, 1);
}

#[test]
fn a_script_that_wrote_is_unkillable() {
    let s = Arc::new(server());
    let mut c = con(&s);
    let _: () = q(&mut c, &["CONFIG", "SET", "busy-reply-threshold", "100"]);
    let runner = {
        let s = s.clone();
        thread::spawn(move || {
            let mut c = con(&s);
            // Writes, then spins for two seconds of server time (far longer than the 100 ms
            // threshold, however fast the machine runs Lua).
            let script = "redis.call('set', 'w', '1') \
                          local t = redis.call('time') local n \
                          repeat n = redis.call('time') \
                          until (n[1] - t[1]) * 1000000 + (n[2] - t[2]) >= 2000000 \
                          return 'done'";
            let r: String = q(&mut c, &["EVAL", script, "0"]);
            r
        })
    };
    wait_for_busy(&s);
    let e = err(&mut c, &["SCRIPT", "KILL"]);
    assert!(
        e.starts_with("UNKILLABLE Sorry the script already executed write commands"),
        "{e}"
    );
    assert_eq!(runner.join().unwrap(), "done");
    let w: String = q(&mut c, &["GET", "w"]);
    assert_eq!(w, "1");
}

#[test]
fn clients_wait_for_a_short_script_instead_of_blocking() {
    // Below the threshold other clients are answered once the script ends.
    let s = Arc::new(server());
    let runner = {
        let s = s.clone();
        thread::spawn(move || {
            let mut c = con(&s);
            let r: i64 = q(
                &mut c,
                &["EVAL", "redis.call('set','a','1') for i = 1, 3000000 do end redis.call('set','b','2') return 1", "0"],
            );
            r
        })
    };
    let mut c = con(&s);
    for _ in 0..200 {
        let (a, b): (Option<String>, Option<String>) =
            (q(&mut c, &["GET", "a"]), q(&mut c, &["GET", "b"]));
        // Never a (set) without b.
        if a.is_some() {
            let b2: Option<String> = q(&mut c, &["GET", "b"]);
            assert!(b.is_some() || b2.is_some());
        }
    }
    assert_eq!(runner.join().unwrap(), 1);
}

#[test]
fn functions_load_call_list_dump_restore() {
    let s = server();
    let mut c = con(&s);
    let code = "#!lua name=mylib\n\
                redis.register_function('getk', function(keys, args) return redis.call('get', keys[1]) end)\n\
                redis.register_function{function_name='ro', callback=function() return 'r' end, flags={'no-writes'}}";
    let name: String = q(&mut c, &["FUNCTION", "LOAD", code]);
    assert_eq!(name, "mylib");
    assert_eq!(
        err(&mut c, &["FUNCTION", "LOAD", code]),
        "ERR Library 'mylib' already exists"
    );
    let _: () = q(&mut c, &["SET", "k", "v"]);
    let r: String = q(&mut c, &["FCALL", "getk", "1", "k"]);
    assert_eq!(r, "v");
    let r: String = q(&mut c, &["FCALL_RO", "ro", "0"]);
    assert_eq!(r, "r");
    assert_eq!(
        err(&mut c, &["FCALL_RO", "getk", "1", "k"]),
        "ERR Can not execute a script with write flag using *_ro command."
    );
    assert_eq!(
        err(&mut c, &["FCALL", "nosuch", "0"]),
        "ERR Function not found"
    );
    let e = err(&mut c, &["FCALL", "getk", "0"]);
    assert_eq!(
        e,
        "ERR Lua redis lib command arguments must be strings or integers script: getk, on @user_function:2."
    );
    let list = v(&mut c, &["FUNCTION", "LIST", "WITHCODE"]);
    let text = format!("{list:?}");
    assert!(
        text.contains("mylib") && text.contains("no-writes"),
        "{text}"
    );
    // Dump, flush, restore.
    let dump: Vec<u8> = q(&mut c, &["FUNCTION", "DUMP"]);
    let _: () = q(&mut c, &["FUNCTION", "FLUSH"]);
    assert_eq!(
        err(&mut c, &["FCALL", "getk", "1", "k"]),
        "ERR Function not found"
    );
    let _: () = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(&dump)
        .query(&mut c)
        .unwrap();
    let r: String = q(&mut c, &["FCALL", "getk", "1", "k"]);
    assert_eq!(r, "v");
    // A payload Redis 7.0.15 produced (two libraries, LZF-compressed code) restores here.
    let redis_dump: &[u8] = b"\xf5\xc3@w@\x81\x1f#!lua name=l2\nredis.register_fun\x05ction{\xc0\x08\x00_`(\x0e'f2', callback=\xc0\x1c\x1f() return 1 end, flags={'no-writ\x0ces'}, descrip@V\x04='d'}\xf5\xc3@`@g\x1f#!lua name=l1\nredis.register_fun\x0bction('f1', \xe0\x00\x0e\x11keys, args) return \x06@9\x08call('get -@$\x08[1]) end)\n\x00\xb7\xce$\x16\x1c\x02W@";
    let _: () = redis::cmd("FUNCTION")
        .arg("RESTORE")
        .arg(redis_dump)
        .query(&mut c)
        .unwrap();
    let r: String = q(&mut c, &["FCALL", "f1", "1", "k"]);
    assert_eq!(r, "v");
    let r: i64 = q(&mut c, &["FCALL_RO", "f2", "0"]);
    assert_eq!(r, 1);
    let stats = v(&mut c, &["FUNCTION", "STATS"]);
    assert!(format!("{stats:?}").contains("libraries_count"));
}

/// The libraries from the lualib work (installed by `scripting::lib`); skipped when they
/// are not compiled in.
fn has_lib(c: &mut redis::Connection, name: &str) -> bool {
    let script = format!("return pcall(function() return {name}.encode end) and 1 or 0");
    let r: i64 = q(c, &["EVAL", &script, "0"]);
    if r == 0 {
        eprintln!("{name} not installed: skipped");
    }
    r == 1
}

#[test]
fn cjson_round_trip() {
    let s = server();
    let mut c = con(&s);
    if !has_lib(&mut c, "cjson") {
        return;
    }
    let r: String = q(
        &mut c,
        &[
            "EVAL",
            "return cjson.encode(cjson.decode(ARGV[1]))",
            "0",
            "{\"a\":[1,2,3]}",
        ],
    );
    assert_eq!(r, "{\"a\":[1,2,3]}");
}

#[test]
fn cmsgpack_round_trip() {
    let s = server();
    let mut c = con(&s);
    if !has_lib(&mut c, "cmsgpack") {
        return;
    }
    let r: Vec<Value> = q(
        &mut c,
        &[
            "EVAL",
            "return cmsgpack.unpack(cmsgpack.pack({1, 'two', 3}))",
            "0",
        ],
    );
    assert_eq!(r, vec![Value::Int(1), bulk("two"), Value::Int(3)]);
}

#[test]
fn info_reports_scripts() {
    let s = server();
    let mut c = con(&s);
    let _: String = q(&mut c, &["SCRIPT", "LOAD", "return 'a'"]);
    let info: String = q(&mut c, &["INFO", "memory"]);
    assert!(info.contains("number_of_cached_scripts:1"), "{info}");
    assert!(info.contains("used_memory_lua:"));
    let _: () = q(&mut c, &["SCRIPT", "FLUSH"]);
    let info: String = q(&mut c, &["INFO", "memory"]);
    assert!(info.contains("number_of_cached_scripts:0"), "{info}");
    assert!(info.contains("used_memory_scripts_eval:0"), "{info}");
}
