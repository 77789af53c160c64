//! The test controls (issue 12): clock, seed, faults and data access, from Rust and over the
//! wire (`TESTCTL`, with `enable-test-controls yes`). Nothing here sleeps to wait for time to
//! pass; the only timing asserts are lower bounds (a delay is at least its length) and the
//! generous bound on the must-show TTL test, whose real figure is printed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use emberkv::{BackgroundServer, Server};

use crate::common::{con, err, q, v, Raw};

/// A background server with `TESTCTL` on.
fn ctl_server() -> BackgroundServer {
    Server::builder()
        .port(0)
        .test_controls(true)
        .start_background()
        .expect("server starts")
}

// ---------------------------------------------------------------------------------------
// Time.

/// Must-show: SET with EX 3600, advance 3601 s, the key is gone — no sleeping, well under
/// 50 ms (asserted with a wide margin for loaded machines; the real figure is printed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_hour_ttl_expires_after_advancing_the_clock() {
    let started = Instant::now();
    let server = Server::builder().port(0).start().await.expect("starts");
    let client = redis::Client::open(server.url()).expect("url");
    let mut c = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .arg("EX")
        .arg(3600)
        .query_async(&mut c)
        .await
        .expect("set");
    let ttl: i64 = redis::cmd("TTL")
        .arg("k")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(ttl, 3600);
    server.clock().advance_by(Duration::from_secs(3601));
    let got: Option<String> = redis::cmd("GET")
        .arg("k")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(got, None);
    assert!(!server.db(0).exists("k").unwrap());
    let took = started.elapsed();
    println!("TTL test (start, SET EX 3600, advance 3601 s, GET): {took:?}");
    assert!(took < Duration::from_millis(500), "{took:?}");
    server.shutdown().await;
}

#[test]
fn active_expiry_ttl_idletime_and_stream_ids_follow_the_clock() {
    let s = ctl_server();
    let mut c = con(&s);
    // Over the wire: the first CLOCK SET freezes the clock.
    let _: () = q(&mut c, &["TESTCTL", "CLOCK", "SET", "1000000"]);
    assert_eq!(q::<i64>(&mut c, &["TESTCTL", "CLOCK", "GET"]), 1_000_000);
    assert_eq!(
        q::<String>(&mut c, &["XADD", "s", "*", "f", "v"]),
        "1000000-0"
    );
    let _: () = q(&mut c, &["SET", "k", "v", "PX", "1500"]);
    let _: () = q(&mut c, &["SET", "idle", "v"]);
    assert_eq!(
        q::<i64>(&mut c, &["TESTCTL", "CLOCK", "ADVANCE", "1000"]),
        1_001_000
    );
    assert_eq!(q::<i64>(&mut c, &["PTTL", "k"]), 500);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "idle"]), 1);
    assert_eq!(
        q::<String>(&mut c, &["XADD", "s", "*", "f", "v"]),
        "1001000-0"
    );
    // Past the deadline: the active-expiry pass removes it without anyone reading it.
    s.clock().advance(1000);
    assert_eq!(s.controls().expire_now(), 1);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 2);
    // RESUME: the wall clock again (later than 1970 + 1000 s).
    let _: () = q(&mut c, &["TESTCTL", "CLOCK", "RESUME"]);
    assert!(q::<i64>(&mut c, &["TESTCTL", "CLOCK", "GET"]) > 1_600_000_000_000);
    assert!(!s.clock().is_manual());
}

// ---------------------------------------------------------------------------------------
// Randomness.

/// The SPOP / RANDOMKEY / SRANDMEMBER / HRANDFIELD / ZRANDMEMBER picks of one run.
fn random_picks(s: &BackgroundServer) -> Vec<String> {
    let mut c = con(s);
    for i in 0..50 {
        let _: () = q(&mut c, &["SET", &format!("key:{i}"), "v"]);
        let _: () = q(&mut c, &["SADD", "set", &format!("m{i}")]);
        let _: () = q(&mut c, &["HSET", "hash", &format!("f{i}"), "v"]);
        let _: () = q(&mut c, &["ZADD", "zset", &i.to_string(), &format!("z{i}")]);
    }
    let mut out = Vec::new();
    for _ in 0..10 {
        out.push(q::<String>(&mut c, &["RANDOMKEY"]));
        out.push(q::<String>(&mut c, &["SPOP", "set"]));
        out.push(q::<Vec<String>>(&mut c, &["SRANDMEMBER", "set", "-3"]).join(","));
        out.push(q::<String>(&mut c, &["HRANDFIELD", "hash"]));
        out.push(q::<Vec<String>>(&mut c, &["ZRANDMEMBER", "zset", "2"]).join(","));
    }
    out
}

/// Must-show: the same seed gives the same SPOP / RANDOMKEY sequence on two runs.
#[test]
fn the_same_seed_gives_the_same_random_picks() {
    let run = |seed| {
        let s = Server::builder()
            .port(0)
            .seed(seed)
            .start_background()
            .unwrap();
        random_picks(&s)
    };
    let a = run(42);
    let b = run(42);
    assert_eq!(a, b);
    let c = run(43);
    assert_ne!(a, c, "another seed, other picks");
}

#[test]
fn testctl_seed_reproduces_a_sequence_over_the_wire() {
    let picks = |s: &BackgroundServer| {
        let mut c = con(s);
        let _: () = q(&mut c, &["TESTCTL", "SEED", "7"]);
        random_picks(s)
    };
    let (a, b) = (ctl_server(), ctl_server());
    assert_eq!(picks(&a), picks(&b));
    assert_eq!(a.shared().seed(), 7);
}

#[test]
fn allkeys_random_eviction_is_deterministic_for_a_seed() {
    let survivors = || {
        let s = Server::builder()
            .port(0)
            .seed(5)
            .set("maxmemory-policy", "allkeys-random")
            .unwrap()
            .start_background()
            .unwrap();
        let mut c = con(&s);
        for i in 0..200 {
            let _: () = q(&mut c, &["SET", &format!("k{i}"), "x"]);
        }
        let limits = &s.shared().memory;
        limits
            .used_override
            .store(2_000_000, std::sync::atomic::Ordering::Relaxed);
        let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "1999000"]);
        let _: () = q(&mut c, &["SET", "trigger", "x"]);
        s.db(0).keys("*").unwrap()
    };
    let a = survivors();
    assert!(a.len() < 201, "something was evicted");
    assert_eq!(a, survivors());
}

// ---------------------------------------------------------------------------------------
// The TESTCTL gate.

#[test]
fn testctl_is_an_unknown_command_without_the_directive() {
    let s = crate::common::server();
    let mut c = con(&s);
    assert_eq!(
        err(&mut c, &["TESTCTL", "CLOCK", "GET"]),
        err(&mut c, &["NOSUCHCMD", "CLOCK", "GET"]).replace("NOSUCHCMD", "TESTCTL")
    );
    assert_eq!(
        err(&mut c, &["testctl"]),
        "ERR unknown command 'testctl', with args beginning with: "
    );
    assert_eq!(
        v(&mut c, &["COMMAND", "INFO", "testctl"]),
        redis::Value::Array(vec![redis::Value::Nil])
    );
    let names: Vec<String> = q(&mut c, &["COMMAND", "LIST"]);
    assert!(!names.iter().any(|n| n.starts_with("testctl")));
    assert_eq!(
        err(&mut c, &["CONFIG", "SET", "enable-test-controls", "yes"]),
        "ERR CONFIG SET failed (possibly related to argument 'enable-test-controls') - can't set immutable config"
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "enable-test-controls"]),
        ["enable-test-controls", "no"]
    );
    // On: listed, documented, and immutable still.
    let s = ctl_server();
    let mut c = con(&s);
    let names: Vec<String> = q(
        &mut c,
        &["COMMAND", "LIST", "FILTERBY", "PATTERN", "testctl*"],
    );
    assert_eq!(names.len(), 12);
    let help: Vec<String> = q(&mut c, &["TESTCTL", "HELP"]);
    assert!(help[0].starts_with("TESTCTL <subcommand>"));
    // The slow-disk fault reaches the AOF writer's setting, and RESET undoes it.
    assert_eq!(q::<String>(&mut c, &["TESTCTL", "SLOWFSYNC", "250"]), "OK");
    assert_eq!(s.faults().fsync_delay(), Duration::from_millis(250));
    assert_eq!(q::<String>(&mut c, &["TESTCTL", "RESET"]), "OK");
    assert_eq!(s.faults().fsync_delay(), Duration::ZERO);
    assert_eq!(
        err(&mut c, &["TESTCTL", "CLOCK", "BACKWARDS"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["TESTCTL", "NOPE"]),
        "ERR unknown subcommand 'NOPE'. Try TESTCTL HELP."
    );
}

// ---------------------------------------------------------------------------------------
// Faults.

#[test]
fn fail_answers_the_chosen_error_for_the_next_commands_only() {
    let s = ctl_server();
    let mut ctl = con(&s);
    let mut app = con(&s);
    let _: () = q(&mut ctl, &["TESTCTL", "FAIL", "2", "ERR", "boom"]);
    assert_eq!(err(&mut app, &["SET", "a", "1"]), "ERR boom");
    // TESTCTL itself is never failed.
    let _: Vec<String> = q(&mut ctl, &["TESTCTL", "HELP"]);
    assert_eq!(err(&mut app, &["GET", "a"]), "ERR boom");
    assert_eq!(v(&mut app, &["GET", "a"]), redis::Value::Nil);
    // Only the commands named; any error line.
    let _: () = q(
        &mut ctl,
        &[
            "TESTCTL",
            "FAIL",
            "1",
            "ERROR",
            "READONLY You can't write against a read only replica.",
            "COMMANDS",
            "set",
        ],
    );
    assert_eq!(v(&mut app, &["GET", "a"]), redis::Value::Nil);
    assert_eq!(
        err(&mut app, &["SET", "a", "1"]),
        "READONLY You can't write against a read only replica."
    );
    let _: () = q(&mut app, &["SET", "a", "1"]);
    // From Rust, and undone.
    s.faults().fail_next(5, "");
    assert_eq!(err(&mut app, &["PING"]), "ERR injected fault");
    assert_eq!(s.faults().failures_left(), 4);
    s.controls().reset();
    assert_eq!(q::<String>(&mut app, &["PING"]), "PONG");
    // A failure while queuing dooms the transaction, as any queuing error does.
    s.faults().fail_next_commands(1, "ERR nope", &["incr"]);
    let _: () = q(&mut app, &["MULTI"]);
    assert_eq!(err(&mut app, &["INCR", "n"]), "ERR nope");
    assert!(err(&mut app, &["EXEC"]).starts_with("EXECABORT"));
}

#[test]
fn delay_holds_every_reply() {
    let s = ctl_server();
    let mut c = con(&s);
    s.faults().delay(Duration::from_millis(60));
    let t = Instant::now();
    assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
    assert!(
        t.elapsed() >= Duration::from_millis(60),
        "{:?}",
        t.elapsed()
    );
    // TESTCTL is not delayed: it can always undo.
    let _: () = q(&mut c, &["TESTCTL", "DELAY", "0"]);
    assert_eq!(s.faults().armed(), 0);
}

#[test]
fn stall_reads_but_never_answers_until_released() {
    let s = ctl_server();
    let mut raw = Raw::connect(&s);
    raw.stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    s.faults().stall();
    raw.send(b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
    let mut buf = [0u8; 64];
    let r = raw.stream.read(&mut buf);
    assert!(
        matches!(&r, Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)),
        "{r:?}"
    );
    // Held, not run.
    assert_eq!(s.db(0).get("n").unwrap(), None);
    // New connections are still accepted (and stall too), TESTCTL still answers. (Raw: a
    // client library's handshake on connect would stall.)
    let mut ctl = Raw::connect(&s);
    ctl.send(b"TESTCTL RELEASE\r\n");
    assert_eq!(ctl.reply(), b"+OK\r\n");
    assert_eq!(s.connected_clients(), 2);
    raw.stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(raw.reply(), b":1\r\n");
}

#[test]
fn drop_closes_every_connection_and_service_resumes() {
    let s = ctl_server();
    let mut a = con(&s);
    let mut b = con(&s);
    let _: () = q(&mut a, &["SET", "k", "v"]);
    assert_eq!(s.connected_clients(), 2);
    assert_eq!(s.controls().drop_connections(), 2);
    assert!(cmd_fails(&mut a) && cmd_fails(&mut b));
    // Over the wire the caller stays.
    let mut ctl = con(&s);
    let mut c = con(&s);
    assert_eq!(q::<i64>(&mut ctl, &["TESTCTL", "DROP"]), 1);
    assert!(cmd_fails(&mut c));
    assert_eq!(q::<String>(&mut ctl, &["GET", "k"]), "v");
    let mut again = con(&s);
    assert_eq!(q::<String>(&mut again, &["GET", "k"]), "v");
}

fn cmd_fails(c: &mut redis::Connection) -> bool {
    redis::cmd("PING").query::<String>(c).is_err()
}

#[test]
fn refuse_resets_new_connections_until_undone() {
    let s = ctl_server();
    let mut ctl = con(&s);
    let _: () = q(&mut ctl, &["TESTCTL", "REFUSE", "60000"]);
    assert!(!can_ping(&s));
    // Existing connections keep working.
    assert_eq!(q::<String>(&mut ctl, &["PING"]), "PONG");
    let _: () = q(&mut ctl, &["TESTCTL", "REFUSE", "0"]);
    assert!(can_ping(&s));
    // A refusal for a while ends by itself.
    s.faults()
        .refuse_connections(Some(Duration::from_millis(1)));
    std::thread::sleep(Duration::from_millis(5));
    assert!(can_ping(&s));
}

fn can_ping(s: &BackgroundServer) -> bool {
    let Ok(mut t) = TcpStream::connect(s.addr()) else {
        return false;
    };
    let _ = t.set_read_timeout(Some(Duration::from_secs(5)));
    if t.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    matches!(t.read(&mut buf), Ok(n) if &buf[..n] == b"+PONG\r\n")
}

#[test]
fn reset_undoes_every_fault_and_the_clock() {
    let s = ctl_server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["TESTCTL", "CLOCK", "ADVANCE", "5000"]);
    let _: () = q(&mut c, &["TESTCTL", "FAIL", "10", "COMMANDS", "get"]);
    let _: () = q(&mut c, &["TESTCTL", "DELAY", "1"]);
    let _: () = q(&mut c, &["TESTCTL", "REFUSE", "100000"]);
    assert_ne!(s.faults().armed(), 0);
    let _: () = q(&mut c, &["TESTCTL", "RESET"]);
    assert_eq!(s.faults().armed(), 0);
    assert!(!s.clock().is_manual());
    assert_eq!(v(&mut c, &["GET", "x"]), redis::Value::Nil);
}

// ---------------------------------------------------------------------------------------
// Clients under faults: retries, reconnection, a circuit breaker.

/// The `redis` crate's connection manager reconnects by itself after the server drops its
/// connection: the command in flight fails, the next one is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_manager_reconnects_after_a_drop() {
    let server = Server::builder().port(0).start().await.unwrap();
    let client = redis::Client::open(server.url()).unwrap();
    let mut m = redis::aio::ConnectionManager::new(client).await.unwrap();
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query_async(&mut m)
        .await
        .unwrap();
    assert_eq!(server.controls().drop_connections(), 1);
    let mut got = None;
    for _ in 0..50 {
        match redis::cmd("GET")
            .arg("k")
            .query_async::<String>(&mut m)
            .await
        {
            Ok(v) => {
                got = Some(v);
                break;
            }
            Err(e) => assert!(e.is_io_error() || e.is_connection_dropped(), "{e}"),
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(got.as_deref(), Some("v"));
    assert!(server.connected_clients() >= 1);
}

/// A small circuit breaker, as an application would wrap its cache: after `threshold`
/// consecutive failures it opens and answers from its fallback without calling Redis until
/// `cooldown` (on the server's clock, so the test moves time instead of sleeping) has passed.
struct Breaker {
    client: redis::Client,
    conn: Option<redis::Connection>,
    failures: u32,
    open_until: Option<u64>,
    threshold: u32,
    cooldown_ms: u64,
    calls: u32,
}

impl Breaker {
    fn get(&mut self, key: &str, now_ms: u64) -> Result<Option<String>, &'static str> {
        if self.open_until.is_some_and(|t| now_ms < t) {
            return Err("open");
        }
        self.calls += 1;
        if self.conn.is_none() {
            self.conn = self.client.get_connection().ok();
        }
        let Some(conn) = self.conn.as_mut() else {
            return self.failed(now_ms);
        };
        match redis::cmd("GET").arg(key).query::<Option<String>>(conn) {
            Ok(v) => {
                self.failures = 0;
                self.open_until = None;
                Ok(v)
            }
            Err(e) => {
                if e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() {
                    self.conn = None;
                }
                self.failed(now_ms)
            }
        }
    }

    fn failed(&mut self, now_ms: u64) -> Result<Option<String>, &'static str> {
        self.failures += 1;
        if self.failures >= self.threshold {
            self.open_until = Some(now_ms + self.cooldown_ms);
        }
        Err("failed")
    }
}

#[test]
fn a_circuit_breaker_opens_under_injected_faults_and_closes_after_recovery() {
    let s = ctl_server();
    s.db(0).set("k", "v").unwrap();
    let clock = s.clock().clone();
    clock.advance(0); // freeze: the breaker's cooldown follows the server clock
    let mut b = Breaker {
        client: redis::Client::open(s.url()).unwrap(),
        conn: None,
        failures: 0,
        open_until: None,
        threshold: 3,
        cooldown_ms: 30_000,
        calls: 0,
    };
    assert_eq!(b.get("k", clock.now_ms()), Ok(Some("v".into())));
    // The server starts failing: three errors open the breaker.
    s.faults()
        .fail_next(100, "LOADING Redis is loading the dataset in memory");
    for _ in 0..3 {
        assert_eq!(b.get("k", clock.now_ms()), Err("failed"));
    }
    let calls = b.calls;
    assert_eq!(b.get("k", clock.now_ms()), Err("open"));
    assert_eq!(b.calls, calls, "an open breaker does not call Redis");
    // The server recovers, but its connections were dropped: after the cooldown the
    // breaker half-opens, its probe fails on the dead connection and it opens again; after
    // the next cooldown it reconnects and closes.
    s.faults().reset();
    s.controls().drop_connections();
    clock.advance(30_001);
    assert_eq!(
        b.get("k", clock.now_ms()),
        Err("failed"),
        "the dropped connection"
    );
    assert_eq!(b.get("k", clock.now_ms()), Err("open"));
    clock.advance(30_001);
    assert_eq!(
        b.get("k", clock.now_ms()),
        Ok(Some("v".into())),
        "reconnected"
    );
    assert_eq!(b.failures, 0);
}

// ---------------------------------------------------------------------------------------
// Data access, counters, configuration, lifecycle.

#[test]
fn direct_data_access_reads_and_writes_every_type() {
    use emberkv::testctl::Value;
    let s = crate::common::manual_server();
    let db = s.db(0);
    db.set("s", "v").unwrap();
    db.rpush("l", &["a", "b"]).unwrap();
    db.lpush("l", &["z"]).unwrap();
    db.sadd("set", &["y", "x"]).unwrap();
    db.hset("h", "f", "1").unwrap();
    db.zadd("z", 2.5, "m").unwrap();
    db.xadd("x", "1-1", &[("f", "v")]).unwrap();
    assert_eq!(db.value("s").unwrap(), Some(Value::String("v".into())));
    assert_eq!(
        db.value("l").unwrap(),
        Some(Value::List(vec!["z".into(), "a".into(), "b".into()]))
    );
    assert_eq!(
        db.value("set").unwrap(),
        Some(Value::Set(vec!["x".into(), "y".into()]))
    );
    assert_eq!(
        db.value("h").unwrap(),
        Some(Value::Hash(vec![("f".into(), "1".into())]))
    );
    assert_eq!(
        db.value("z").unwrap(),
        Some(Value::ZSet(vec![("m".into(), 2.5)]))
    );
    assert_eq!(
        db.value("x").unwrap(),
        Some(Value::Stream(vec![(
            "1-1".into(),
            vec![("f".into(), "v".into())]
        )]))
    );
    assert_eq!(db.value("nope").unwrap(), None);
    assert_eq!(db.keys("*").unwrap().len(), 6);
    assert_eq!(
        db.get("l").unwrap_err().text(),
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    );
    // TTLs on the server clock.
    db.set_ex("t", "v", Duration::from_secs(10)).unwrap();
    assert_eq!(db.ttl("t").unwrap(), Some(Duration::from_secs(10)));
    s.clock().advance(4_000);
    assert_eq!(db.ttl("t").unwrap(), Some(Duration::from_secs(6)));
    assert!(db.persist("t").unwrap());
    assert_eq!(db.ttl("t").unwrap(), None);
    // What a client sees, and what it does not count.
    let mut c = con(&s);
    assert_eq!(q::<String>(&mut c, &["GET", "s"]), "v");
    let before = s.commands_processed();
    assert_eq!(s.db(1).get("s").unwrap(), None);
    assert_eq!(s.commands_processed(), before);
    assert_eq!(s.connected_clients(), 1);
    s.flushall();
    assert_eq!(db.dbsize().unwrap(), 0);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 0);
}

#[test]
fn builder_set_goes_through_the_config_registry() {
    let s = Server::builder()
        .port(0)
        .set("maxmemory", "10mb")
        .unwrap()
        .set("hz", "20")
        .unwrap()
        .set("databases", "4")
        .unwrap()
        .start_background()
        .unwrap();
    let mut c = con(&s);
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "maxmemory"]),
        ["maxmemory", "10485760"]
    );
    assert_eq!(
        q::<Vec<String>>(&mut c, &["CONFIG", "GET", "save"]),
        ["save", ""]
    );
    assert_eq!(
        err(&mut c, &["SELECT", "4"]),
        "ERR DB index is out of range"
    );
    let e = Server::builder().set("maxmemory", "lots").unwrap_err();
    assert!(e.message().contains("maxmemory"), "{e}");
    assert!(Server::builder().set("no-such-directive", "1").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_server_handle_stops_the_server() {
    let server = Server::builder().port(0).start().await.unwrap();
    let addr = server.addr();
    let client = redis::Client::open(server.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("PING").query_async(&mut c).await.unwrap();
    drop(server);
    let mut closed = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(closed, "the listener is gone");
    assert!(redis::cmd("PING")
        .query_async::<String>(&mut c)
        .await
        .is_err());
}

/// Start-to-first-PONG in-process (the binary's is measured by `benches/start.py`). The
/// figure is printed; the assert only catches a pathological regression.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_start_to_first_pong() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut times = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let server = Server::builder().port(0).start().await.unwrap();
        let mut sock = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        sock.write_all(b"PING\r\n").await.unwrap();
        let mut buf = [0u8; 7];
        sock.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"+PONG\r\n");
        times.push(t.elapsed());
        server.shutdown().await;
    }
    times.sort();
    let median = times[times.len() / 2];
    println!("in-process start to first PONG: median {median:?} of 20");
    assert!(median < Duration::from_millis(200), "{median:?}");
}
