//! AOF persistence: restart round trips of every type, rewrites while clients write,
//! truncated / corrupt / missing files, `kill -9` of the real binary under `appendfsync
//! always` and `everysec`, and interoperability with `redis-server` 7 (skipped when it is
//! not installed).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use emberkv::config::AppendFsync;
use emberkv::{BackgroundServer, Config, Server};
use redis::Value;

/// A scratch directory removed at the end of the test.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "emberkv-aof-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    fn aofdir(&self) -> PathBuf {
        self.0.join("appendonlydir")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(dir: &Path, fsync: AppendFsync) -> Config {
    Config {
        port: 0,
        dir: dir.to_path_buf(),
        appendonly: true,
        appendfsync: fsync,
        save: String::new(),
        ..Default::default()
    }
}

fn start(c: Config) -> BackgroundServer {
    Server::builder()
        .config(c)
        .start_background()
        .expect("server starts")
}

fn try_start(c: Config) -> Result<BackgroundServer, String> {
    Server::builder()
        .config(c)
        .start_background()
        .map_err(|e| e.to_string())
}

fn con_at(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .expect("valid url")
        .get_connection()
        .expect("connects")
}

fn run(con: &mut redis::Connection, words: &[&str]) -> Value {
    let mut c = redis::cmd(words[0]);
    for w in &words[1..] {
        c.arg(*w);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{words:?} failed: {e}"))
}

fn text(v: &Value) -> String {
    match v {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Nil => "(nil)".into(),
        Value::Array(a) | Value::Set(a) => {
            let parts: Vec<String> = a.iter().map(text).collect();
            format!("[{}]", parts.join(","))
        }
        Value::Map(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}={}", text(k), text(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        other => format!("{other:?}"),
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) | Value::Set(a) => a.iter().map(text).collect(),
        _ => vec![text(v)],
    }
}

/// Fields of an XINFO-style flat reply, keeping only `keep`.
fn fields(v: &Value, keep: &[&str]) -> String {
    let items = strings_raw(v);
    let mut out = Vec::new();
    for pair in items.chunks(2) {
        if pair.len() == 2 && keep.contains(&text(&pair[0]).as_str()) {
            out.push(format!("{}={}", text(&pair[0]), text(&pair[1])));
        }
    }
    out.join(" ")
}

fn strings_raw(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Map(m) => m.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect(),
        _ => Vec::new(),
    }
}

/// A canonical text of every database: keys, types, values, absolute expiries, stream
/// metadata, groups, consumers and pending entries (idle times left out). A group's
/// `entries-read` is left out too: Redis 7.0 propagates XREADGROUP as `XCLAIM … LASTID`,
/// which does not carry it, so replaying an incremental file loses it in Redis as in
/// emberkv; a rewritten base keeps it (`XGROUP CREATE … ENTRIESREAD`), checked apart.
fn dump(con: &mut redis::Connection) -> String {
    let mut out = Vec::new();
    for db in 0..16 {
        run(con, &["SELECT", &db.to_string()]);
        let mut keys = Vec::new();
        let mut cursor = "0".to_string();
        loop {
            let r = strings_raw(&run(con, &["SCAN", &cursor, "COUNT", "1000"]));
            cursor = text(&r[0]);
            keys.extend(strings(&r[1]));
            if cursor == "0" {
                break;
            }
        }
        keys.sort();
        for k in keys {
            let ty = text(&run(con, &["TYPE", &k]));
            let value = match ty.as_str() {
                "string" => text(&run(con, &["GET", &k])),
                "list" => text(&run(con, &["LRANGE", &k, "0", "-1"])),
                "set" => {
                    let mut m = strings(&run(con, &["SMEMBERS", &k]));
                    m.sort();
                    m.join(",")
                }
                "zset" => text(&run(con, &["ZRANGE", &k, "0", "-1", "WITHSCORES"])),
                "hash" => {
                    let flat = strings(&run(con, &["HGETALL", &k]));
                    let mut pairs: Vec<String> = flat.chunks(2).map(|p| p.join("=")).collect();
                    pairs.sort();
                    pairs.join(",")
                }
                "stream" => {
                    let mut s = text(&run(con, &["XRANGE", &k, "-", "+"]));
                    s += " | ";
                    s += &fields(
                        &run(con, &["XINFO", "STREAM", &k]),
                        &[
                            "length",
                            "last-generated-id",
                            "max-deleted-entry-id",
                            "entries-added",
                        ],
                    );
                    for g in strings_raw(&run(con, &["XINFO", "GROUPS", &k])) {
                        let gf = fields(&g, &["name", "consumers", "pending", "last-delivered-id"]);
                        let name = gf
                            .split(' ')
                            .find_map(|f| f.strip_prefix("name="))
                            .unwrap_or("")
                            .to_string();
                        s += &format!(" | group {gf}");
                        for c in strings_raw(&run(con, &["XINFO", "CONSUMERS", &k, &name])) {
                            s += &format!(" consumer {}", fields(&c, &["name", "pending"]));
                        }
                        for p in strings_raw(&run(con, &["XPENDING", &k, &name, "-", "+", "1000"]))
                        {
                            let e = strings_raw(&p);
                            s += &format!(" pel {}:{}:{}", text(&e[0]), text(&e[1]), text(&e[3]));
                        }
                    }
                    s
                }
                other => panic!("unexpected type {other}"),
            };
            let at = text(&run(con, &["PEXPIRETIME", &k]));
            out.push(format!("db{db} {k} {ty} exp={at} {value}"));
        }
    }
    run(con, &["SELECT", "0"]);
    out.join("\n")
}

/// Writes of every type: strings (with TTLs, integers, HyperLogLogs), hashes, lists, sets
/// (integers and strings), sorted sets, streams with deleted entries, groups, consumers and
/// pending entries; several databases; a MULTI block; keys that expire and are deleted.
fn populate(con: &mut redis::Connection, tag: &str) {
    let cmds: Vec<Vec<String>> = [
        "SET {t}s:plain hello",
        "SET {t}s:int 12345",
        "SET {t}s:ttl v EX 1000",
        "SET {t}s:pxat v PXAT 4102444800000",
        "SET {t}s:gone v PX 1",
        "APPEND {t}s:plain _world",
        "INCRBY {t}counter 41",
        "INCR {t}counter",
        "INCRBYFLOAT {t}s:float 1.5",
        "PFADD {t}hll a b c d e",
        "HSET {t}h f1 v1 f2 v2 f3 3",
        "HINCRBY {t}h f3 4",
        "HDEL {t}h f2",
        "RPUSH {t}l a b c d e",
        "LPUSH {t}l z",
        "LPOP {t}l",
        "LINSERT {t}l BEFORE c x",
        "SADD {t}si 1 2 3 100",
        "SADD {t}ss alpha beta gamma",
        "SREM {t}ss beta",
        "ZADD {t}z 1 one 2.5 two -3 minus 1e10 big",
        "ZINCRBY {t}z 0.25 one",
        "ZADD {t}zinf +inf top -inf bottom",
        "XADD {t}x 1-1 f v",
        "XADD {t}x 2-1 f2 v2",
        "XADD {t}x 3-1 f3 v3",
        "XADD {t}x 4-1 f4 v4",
        "XDEL {t}x 2-1",
        "XGROUP CREATE {t}x g1 0",
        "XGROUP CREATE {t}x g2 $",
        "XREADGROUP GROUP g1 c1 COUNT 2 STREAMS {t}x >",
        "XREADGROUP GROUP g1 c2 COUNT 1 STREAMS {t}x >",
        "XACK {t}x g1 1-1",
        "XGROUP CREATECONSUMER {t}x g1 idle",
        "XADD {t}empty MAXLEN 0 * a b",
        "EXPIRE {t}h 5000",
        "PEXPIREAT {t}l 4102444800000",
        "SELECT 5",
        "SET {t}db5 five",
        "RPUSH {t}db5:l 1 2 3",
        "SELECT 0",
        "MULTI",
        "SET {t}tx:a 1",
        "INCR {t}tx:a",
        "EXEC",
        "SET {t}tmp 1",
        "DEL {t}tmp",
        "RENAME {t}s:int {t}s:renamed",
    ]
    .iter()
    .map(|l| {
        l.split(' ')
            .map(|w| w.replace("{t}", &format!("{tag}:")))
            .collect()
    })
    .collect();
    for c in cmds {
        let words: Vec<&str> = c.iter().map(String::as_str).collect();
        let mut cmd = redis::cmd(words[0]);
        for w in &words[1..] {
            cmd.arg(*w);
        }
        let _: Value = cmd.query(con).unwrap_or_else(|e| panic!("{words:?}: {e}"));
    }
    for i in 0..200 {
        run(con, &["SET", &format!("{tag}:k{i}"), &i.to_string()]);
        run(con, &["RPUSH", &format!("{tag}:list"), &i.to_string()]);
        run(
            con,
            &[
                "HSET",
                &format!("{tag}:hash"),
                &format!("f{i}"),
                &i.to_string(),
            ],
        );
        run(
            con,
            &[
                "ZADD",
                &format!("{tag}:z"),
                &i.to_string(),
                &format!("m{i}"),
            ],
        );
        run(con, &["SADD", &format!("{tag}:set"), &format!("m{i}")]);
    }
    // Let s:gone expire (it is then reclaimed as a DEL or skipped by a rewrite).
    std::thread::sleep(Duration::from_millis(5));
    let _ = run(con, &["GET", &format!("{tag}:s:gone")]);
}

/// Asserts two dumps are equal, showing only the lines that differ.
fn same(got: &str, want: &str, what: &str) {
    if got == want {
        return;
    }
    let g: std::collections::BTreeSet<&str> = got.lines().collect();
    let w: std::collections::BTreeSet<&str> = want.lines().collect();
    let missing: Vec<&&str> = w.difference(&g).collect();
    let extra: Vec<&&str> = g.difference(&w).collect();
    panic!("{what}: missing {missing:#?}\nunexpected {extra:#?}");
}

fn entries_read(con: &mut redis::Connection, key: &str) -> String {
    let groups = strings_raw(&run(con, &["XINFO", "GROUPS", key]));
    fields(&groups[0], &["entries-read"]).replace("entries-read=", "")
}

/// A field of an INFO section, as text.
fn info_in(con: &mut redis::Connection, section: &str, field: &str) -> String {
    let info = text(&run(con, &["INFO", section]));
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
        .trim()
        .to_string()
}

/// A field of INFO persistence.
fn info_field(con: &mut redis::Connection, field: &str) -> String {
    info_in(con, "persistence", field)
}

fn wait_rewrite(con: &mut redis::Connection, rewrites: u64) {
    let start = Instant::now();
    while info_field(con, "aof_rewrites").parse::<u64>().unwrap_or(0) < rewrites
        || info_field(con, "aof_rewrite_in_progress") != "0"
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "rewrite never ended"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("aof dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn restart_round_trip_of_every_type() {
    let tmp = TempDir::new("roundtrip");
    let before = {
        let s = start(config(&tmp.0, AppendFsync::EverySec));
        let mut con = con_at(&s.url());
        populate(&mut con, "a");
        dump(&mut con)
    };
    assert!(before.contains("stream"), "{before}");
    assert_eq!(
        files(&tmp.aofdir()),
        [
            "appendonly.aof.1.base.aof",
            "appendonly.aof.1.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    let s = start(config(&tmp.0, AppendFsync::EverySec));
    let mut con = con_at(&s.url());
    same(&dump(&mut con), &before, "after restart");
    assert_eq!(info_field(&mut con, "aof_enabled"), "1");
    assert_eq!(info_field(&mut con, "loading"), "0");
    // A second restart after more writes appends to the same incremental file.
    run(&mut con, &["SET", "later", "1"]);
    let before = dump(&mut con);
    drop(con);
    drop(s);
    let s = start(config(&tmp.0, AppendFsync::Always));
    let mut con = con_at(&s.url());
    same(&dump(&mut con), &before, "after restart");
}

/// `threads` clients at once, each INCRementing its own key `<prefix><n>` `times` times and
/// checking every reply.
fn incr_from_threads(url: &str, prefix: &str, threads: usize, times: usize) {
    let writers: Vec<_> = (0..threads)
        .map(|t| {
            let url = url.to_string();
            let key = format!("{prefix}{t}");
            std::thread::spawn(move || {
                let mut con = con_at(&url);
                for i in 0..times {
                    assert_eq!(text(&run(&mut con, &["INCR", &key])), (i + 1).to_string());
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
}

/// `appendfsync always` with clients that come and go: writes of many at once, then of one
/// alone after the others stopped, must all be acknowledged (none left waiting for a pass
/// that never runs) and all be in the file.
#[test]
fn always_serves_clients_that_come_and_go() {
    let tmp = TempDir::new("always-group");
    {
        let s = start(config(&tmp.0, AppendFsync::Always));
        let url = s.url();
        incr_from_threads(&url, "c", 8, 100);
        // One client alone, and one that writes once and then only reads.
        let mut once = con_at(&url);
        run(&mut once, &["SET", "once", "1"]);
        let mut alone = con_at(&url);
        for i in 0..100 {
            assert_eq!(
                text(&run(&mut alone, &["INCR", "alone"])),
                (i + 1).to_string()
            );
            if i % 10 == 0 {
                assert_eq!(text(&run(&mut once, &["GET", "once"])), "1");
            }
        }
    }
    let s = start(config(&tmp.0, AppendFsync::Always));
    let mut con = con_at(&s.url());
    for t in 0..8 {
        assert_eq!(text(&run(&mut con, &["GET", &format!("c{t}")])), "100");
    }
    assert_eq!(text(&run(&mut con, &["GET", "alone"])), "100");
    assert_eq!(text(&run(&mut con, &["GET", "once"])), "1");
}

/// `appendfsync always` on a runtime the embedding program built (without the server's
/// end-of-loop hook): waiting connections run the passes themselves, and every
/// acknowledged write is in the file.
#[test]
fn always_on_the_callers_runtime_saves_what_it_acknowledges() {
    let tmp = TempDir::new("always-own-runtime");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let handle = rt
        .block_on(
            Server::builder()
                .config(config(&tmp.0, AppendFsync::Always))
                .start(),
        )
        .expect("server starts");
    incr_from_threads(&handle.url(), "n", 4, 50);
    rt.block_on(handle.shutdown());
    drop(rt);
    let s = start(config(&tmp.0, AppendFsync::Always));
    let mut con = con_at(&s.url());
    for t in 0..4 {
        assert_eq!(text(&run(&mut con, &["GET", &format!("n{t}")])), "50");
    }
}

/// Polls INFO persistence until `field` reads `want` (panics after `secs`).
fn wait_info(con: &mut redis::Connection, field: &str, want: &str, secs: u64) {
    let start = Instant::now();
    while info_field(con, field) != want {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "{field} never became {want}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A slow disk (the slow-fsync fault): while the writer's fsync lasts, INFO answers and
/// shows it (`aof_pending_bio_fsync:1`), writes are acknowledged (everysec) and a rewrite
/// starts; an everysec fsync of 2 s or more is counted in `aof_delayed_fsync`; nothing is
/// lost.
#[test]
fn slow_fsync_shows_in_info_and_holds_nothing_up() {
    let tmp = TempDir::new("slowfsync");
    let before = {
        let s = start(config(&tmp.0, AppendFsync::EverySec));
        let mut con = con_at(&s.url());
        assert_eq!(info_field(&mut con, "aof_pending_bio_fsync"), "0");
        assert_eq!(info_field(&mut con, "aof_delayed_fsync"), "0");
        s.faults().slow_fsync(Duration::from_millis(2500));
        run(&mut con, &["SET", "k", "1"]);
        // The writer fsyncs within about a second of the write; INFO sees it in progress,
        // which it could not if it waited for the fsync to end.
        wait_info(&mut con, "aof_pending_bio_fsync", "1", 10);
        run(&mut con, &["SET", "k2", "2"]);
        assert_eq!(
            text(&run(&mut con, &["BGREWRITEAOF"])),
            "Background append only file rewriting started"
        );
        wait_info(&mut con, "aof_delayed_fsync", "1", 20);
        wait_rewrite(&mut con, 1);
        s.faults().slow_fsync(Duration::ZERO);
        run(&mut con, &["SET", "k3", "3"]);
        dump(&mut con)
    };
    let s = start(config(&tmp.0, AppendFsync::EverySec));
    let mut con = con_at(&s.url());
    same(&dump(&mut con), &before, "after restart");
    assert!(before.contains("k3"), "{before}");
}

#[test]
fn function_libraries_survive_a_rewrite_and_a_restart() {
    let tmp = TempDir::new("functions");
    let lib = "#!lua name=mylib\nredis.register_function('double', function(keys, args) return args[1] * 2 end)";
    {
        let s = start(config(&tmp.0, AppendFsync::EverySec));
        let mut con = con_at(&s.url());
        assert_eq!(text(&run(&mut con, &["FUNCTION", "LOAD", lib])), "mylib");
        run(&mut con, &["SET", "k", "v"]);
        run(&mut con, &["BGREWRITEAOF"]);
        wait_rewrite(&mut con, 1);
    }
    let base = std::fs::read(tmp.aofdir().join("appendonly.aof.2.base.aof")).expect("base");
    assert!(
        base.starts_with(b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n"),
        "{}",
        String::from_utf8_lossy(&base)
    );
    let s = start(config(&tmp.0, AppendFsync::EverySec));
    let mut con = con_at(&s.url());
    assert_eq!(text(&run(&mut con, &["FCALL", "double", "0", "21"])), "42");
    assert_eq!(text(&run(&mut con, &["GET", "k"])), "v");
}

#[test]
fn rewrite_while_another_client_writes_then_restart() {
    let tmp = TempDir::new("rewrite");
    let before = {
        let s = start(config(&tmp.0, AppendFsync::EverySec));
        let url = s.url();
        let mut con = con_at(&url);
        populate(&mut con, "a");
        for i in 0..3000 {
            run(&mut con, &["SET", &format!("bulk:{i}"), &"x".repeat(100)]);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            let url = url.clone();
            std::thread::spawn(move || {
                let mut con = con_at(&url);
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) || n < 200 {
                    run(&mut con, &["INCR", "w:counter"]);
                    run(&mut con, &["RPUSH", "w:list", &n.to_string()]);
                    run(&mut con, &["XADD", "w:stream", "*", "n", &n.to_string()]);
                    run(
                        &mut con,
                        &["SET", &format!("bulk:{}", n % 3000), &n.to_string()],
                    );
                    run(&mut con, &["SET", &format!("w:ttl{n}"), "v", "EX", "1000"]);
                    n += 1;
                }
                n
            })
        };
        std::thread::sleep(Duration::from_millis(30));
        let r = run(&mut con, &["BGREWRITEAOF"]);
        assert_eq!(text(&r), "Background append only file rewriting started");
        wait_rewrite(&mut con, 1);
        stop.store(true, Ordering::Relaxed);
        let n = writer.join().expect("writer");
        assert_eq!(text(&run(&mut con, &["GET", "w:counter"])), n.to_string());
        populate(&mut con, "b");
        assert_eq!(
            files(&tmp.aofdir()),
            [
                "appendonly.aof.2.base.aof",
                "appendonly.aof.2.incr.aof",
                "appendonly.aof.manifest"
            ]
        );
        assert_eq!(info_field(&mut con, "aof_last_bgrewrite_status"), "ok");
        assert_eq!(entries_read(&mut con, "a:x"), "4");
        dump(&mut con)
    };
    let s = start(config(&tmp.0, AppendFsync::EverySec));
    let mut con = con_at(&s.url());
    same(&dump(&mut con), &before, "after restart");
    // Rewritten into the base: the group's entries-read survives the restart.
    assert_eq!(entries_read(&mut con, "a:x"), "4");
    // A rewrite of the restarted server, then a third start: the same dataset again.
    run(&mut con, &["BGREWRITEAOF"]);
    wait_rewrite(&mut con, 1);
    drop(con);
    drop(s);
    let s = start(config(&tmp.0, AppendFsync::EverySec));
    let mut con = con_at(&s.url());
    same(&dump(&mut con), &before, "after restart");
}

#[test]
fn one_rewrite_at_a_time_and_config_set_appendonly() {
    let tmp = TempDir::new("cfgset");
    let mut c = config(&tmp.0, AppendFsync::EverySec);
    c.appendonly = false;
    let before = {
        let s = start(c.clone());
        let mut con = con_at(&s.url());
        populate(&mut con, "a");
        assert_eq!(info_field(&mut con, "aof_enabled"), "0");
        run(&mut con, &["CONFIG", "SET", "appendonly", "yes"]);
        wait_rewrite(&mut con, 1);
        assert_eq!(info_field(&mut con, "aof_enabled"), "1");
        run(&mut con, &["SET", "after", "switch"]);
        // Many keys make the rewrite last long enough to be seen running.
        for i in 0..20000 {
            run(&mut con, &["SET", &format!("k{i}"), &i.to_string()]);
        }
        let mut refused = false;
        run(&mut con, &["BGREWRITEAOF"]);
        for _ in 0..50 {
            let c = redis::cmd("BGREWRITEAOF");
            match c.query::<Value>(&mut con) {
                Ok(_) => wait_rewrite(&mut con, 2),
                Err(e) => {
                    assert_eq!(
                        e.detail(),
                        Some("Background append only file rewriting already in progress")
                    );
                    refused = true;
                    break;
                }
            }
        }
        assert!(refused, "a second BGREWRITEAOF was never refused");
        wait_rewrite(&mut con, 2);
        dump(&mut con)
    };
    c.appendonly = true;
    let s = start(c);
    let mut con = con_at(&s.url());
    same(&dump(&mut con), &before, "after restart");
}

fn last_incr(dir: &Path) -> PathBuf {
    let f = files(dir)
        .into_iter()
        .rfind(|f| f.ends_with(".incr.aof"))
        .expect("an incremental file");
    dir.join(f)
}

#[test]
fn truncated_last_file_loads_all_but_the_cut_command() {
    let tmp = TempDir::new("trunc");
    {
        let s = start(config(&tmp.0, AppendFsync::EverySec));
        let mut con = con_at(&s.url());
        run(&mut con, &["SET", "a", "1"]);
        run(&mut con, &["SET", "b", "2"]);
        run(&mut con, &["SET", "c", "3"]);
    }
    let incr = last_incr(&tmp.aofdir());
    let len = std::fs::metadata(&incr).expect("incr").len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&incr)
        .expect("open");
    f.set_len(len - 7).expect("cut 7 bytes");
    drop(f);
    // aof-load-truncated no: the start fails, saying where.
    let mut strict = config(&tmp.0, AppendFsync::EverySec);
    strict.aof_load_truncated = false;
    let e = try_start(strict).expect_err("refused");
    assert!(
        e.contains("Unexpected end of file") && e.contains("appendonly.aof.1.incr.aof"),
        "{e}"
    );
    // yes (the default): all but the cut command, and the file is truncated.
    let s = start(config(&tmp.0, AppendFsync::EverySec));
    let mut con = con_at(&s.url());
    assert_eq!(
        text(&run(&mut con, &["MGET", "a", "b", "c"])),
        "[1,2,(nil)]"
    );
    run(&mut con, &["SET", "d", "4"]);
    drop(con);
    drop(s);
    let s = start(config(&tmp.0, AppendFsync::EverySec));
    let mut con = con_at(&s.url());
    assert_eq!(
        text(&run(&mut con, &["MGET", "a", "b", "c", "d"])),
        "[1,2,(nil),4]"
    );
}

#[test]
fn truncated_multi_block_is_dropped_whole() {
    let tmp = TempDir::new("truncmulti");
    {
        let s = start(config(&tmp.0, AppendFsync::EverySec));
        let mut con = con_at(&s.url());
        run(&mut con, &["SET", "a", "1"]);
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg("b")
            .arg("2")
            .cmd("SET")
            .arg("c")
            .arg("3")
            .query::<Value>(&mut con)
            .expect("exec");
    }
    let incr = last_incr(&tmp.aofdir());
    let data = std::fs::read(&incr).expect("incr");
    // Cut right after the second SET, before EXEC.
    let exec = b"*1\r\n$4\r\nEXEC\r\n";
    let at = data
        .windows(exec.len())
        .rposition(|w| w == exec)
        .expect("EXEC in file");
    std::fs::write(&incr, &data[..at]).expect("write");
    let s = start(config(&tmp.0, AppendFsync::EverySec));
    let mut con = con_at(&s.url());
    assert_eq!(
        text(&run(&mut con, &["MGET", "a", "b", "c"])),
        "[1,(nil),(nil)]"
    );
}

#[test]
fn corrupt_missing_and_rdb_files_stop_the_start() {
    let tmp = TempDir::new("corrupt");
    {
        let s = start(config(&tmp.0, AppendFsync::EverySec));
        let mut con = con_at(&s.url());
        run(&mut con, &["SET", "a", "1"]);
        run(&mut con, &["SET", "b", "2"]);
    }
    let incr = last_incr(&tmp.aofdir());
    let good = std::fs::read(&incr).expect("incr");
    // Garbage in the middle: error with file name and byte offset.
    let mut bad = good.clone();
    let second = bad
        .windows(4)
        .rposition(|w| w == b"*3\r\n")
        .expect("second command");
    bad[second] = b'!';
    std::fs::write(&incr, &bad).expect("write");
    let e = try_start(config(&tmp.0, AppendFsync::EverySec)).expect_err("refused");
    assert!(
        e.contains("Bad file format")
            && e.contains("appendonly.aof.1.incr.aof")
            && e.contains(&format!("byte offset {second}")),
        "{e}"
    );
    // A bad bulk length.
    let mut bad = good.clone();
    let dollar = bad.iter().rposition(|&b| b == b'$').expect("bulk");
    bad[dollar + 1] = b'x';
    std::fs::write(&incr, &bad).expect("write");
    assert!(try_start(config(&tmp.0, AppendFsync::EverySec)).is_err());
    std::fs::write(&incr, &good).expect("restore");
    // A file named in the manifest that does not exist.
    let manifest = tmp.aofdir().join("appendonly.aof.manifest");
    let text_m = std::fs::read_to_string(&manifest).expect("manifest");
    std::fs::write(
        &manifest,
        format!("{text_m}file appendonly.aof.9.incr.aof seq 9 type i\n"),
    )
    .expect("write");
    let e = try_start(config(&tmp.0, AppendFsync::EverySec)).expect_err("refused");
    assert!(e.contains("appendonly.aof.9.incr.aof"), "{e}");
    // A base in RDB form is refused by name, never misread.
    std::fs::write(&manifest, &text_m).expect("restore");
    std::fs::write(
        tmp.aofdir().join("appendonly.aof.1.base.aof"),
        b"REDIS0010\xfa",
    )
    .expect("rdb");
    let e = try_start(config(&tmp.0, AppendFsync::EverySec)).expect_err("refused");
    assert!(
        e.contains("appendonly.aof.1.base.aof") && e.contains("RDB"),
        "{e}"
    );
    // Restored: it loads.
    std::fs::write(tmp.aofdir().join("appendonly.aof.1.base.aof"), b"").expect("base");
    let s = start(config(&tmp.0, AppendFsync::EverySec));
    let mut con = con_at(&s.url());
    assert_eq!(text(&run(&mut con, &["MGET", "a", "b"])), "[1,2]");
}

#[test]
fn timestamps_are_written_and_skipped_when_loading() {
    let tmp = TempDir::new("ts");
    let mut c = config(&tmp.0, AppendFsync::EverySec);
    c.aof_timestamp_enabled = true;
    {
        let s = start(c.clone());
        let mut con = con_at(&s.url());
        run(&mut con, &["SET", "a", "1"]);
    }
    let data = std::fs::read(last_incr(&tmp.aofdir())).expect("incr");
    assert!(
        data.starts_with(b"#TS:"),
        "{:?}",
        String::from_utf8_lossy(&data)
    );
    let s = start(c);
    let mut con = con_at(&s.url());
    assert_eq!(text(&run(&mut con, &["GET", "a"])), "1");
}

// ---------------------------------------------------------------------------------------
// Child processes: the real binary, killed with SIGKILL.

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

struct Child9(Child);

impl Drop for Child9 {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(dir: &Path, port: u16, extra: &[&str]) -> Child9 {
    let child = Command::new(env!("CARGO_BIN_EXE_emberkv"))
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "yes",
        ])
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn emberkv");
    Child9(child)
}

/// A connection to `port` if the server there is process `pid` (INFO works while loading):
/// a port chosen free may be taken by another test's server before the child binds it.
fn ours(port: u16, pid: u32) -> Option<redis::Connection> {
    let url = format!("redis://127.0.0.1:{port}/");
    let mut c = redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection())
        .ok()?;
    let info: String = redis::cmd("INFO").arg("server").query(&mut c).ok()?;
    let theirs = info
        .lines()
        .find_map(|l| l.strip_prefix("process_id:"))?
        .trim()
        .parse::<u32>()
        .ok()?;
    (theirs == pid).then_some(c)
}

/// Starts a server process with `make(port)` on a free port, again on another port when
/// the child exits (it could not bind), until the port answers as the child.
fn start_child(make: impl Fn(u16) -> Child9) -> (Child9, u16) {
    let start = Instant::now();
    loop {
        let port = free_port();
        let mut child = make(port);
        let pid = child.0.id();
        loop {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "server never started"
            );
            if ours(port, pid).is_some() {
                return (child, port);
            }
            if child.0.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// Waits until the child on `port` answers PING (not -LOADING).
fn wait_ready(child: &Child9, port: u16) -> redis::Connection {
    let start = Instant::now();
    loop {
        if let Some(mut c) = ours(port, child.0.id()) {
            if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                return c;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "server never ready"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Writers each SET `w<t>:<i>` for i = 0, 1, … recording when each was acknowledged; the
/// server is killed with SIGKILL; what the restarted server has is checked against `lost`:
/// every write acknowledged before `kill - lost` must be there.
fn kill9_under_load(fsync: &str, lost: Duration) {
    let tmp = TempDir::new(&format!("kill9-{fsync}"));
    let (mut child, port) = start_child(|p| spawn(&tmp.0, p, &["--appendfsync", fsync]));
    drop(wait_ready(&child, port));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let url = format!("redis://127.0.0.1:{port}/");
                let mut con = con_at(&url);
                let mut acked: Vec<Instant> = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = redis::cmd("SET")
                        .arg(format!("w{t}:{i}"))
                        .arg(i)
                        .query::<String>(&mut con);
                    if r.is_err() {
                        break;
                    }
                    acked.push(Instant::now());
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    let killed_at = Instant::now();
    child.0.kill().expect("SIGKILL");
    let _ = child.0.wait();
    stop.store(true, Ordering::Relaxed);
    let acks: Vec<Vec<Instant>> = writers
        .into_iter()
        .map(|w| w.join().expect("writer"))
        .collect();
    let total: usize = acks.iter().map(Vec::len).sum();
    assert!(total > 50, "too few writes ({total}) to test anything");
    let (restarted, port) = start_child(|p| spawn(&tmp.0, p, &["--appendfsync", fsync]));
    let mut con = wait_ready(&restarted, port);
    for (t, times) in acks.iter().enumerate() {
        for (i, at) in times.iter().enumerate() {
            if *at + lost > killed_at {
                continue;
            }
            let v: Option<String> = redis::cmd("GET")
                .arg(format!("w{t}:{i}"))
                .query(&mut con)
                .expect("GET");
            if v.as_deref() != Some(i.to_string().as_str()) {
                let n: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap_or(-1);
                let files: Vec<String> = files(&tmp.aofdir());
                let sizes: Vec<u64> = files
                    .iter()
                    .map(|f| std::fs::metadata(tmp.aofdir().join(f)).map_or(0, |m| m.len()))
                    .collect();
                let incr = std::fs::read(last_incr(&tmp.aofdir())).unwrap_or_default();
                let head =
                    String::from_utf8_lossy(&incr[..incr.len().min(300)]).replace("\r\n", " ");
                let key = format!("w{t}:{i}");
                let at = incr.windows(key.len()).position(|w| w == key.as_bytes());
                panic!(
                    "acknowledged write w{t}:{i} lost ({fsync}): got {v:?}; dbsize {n}, \
                     {total} acknowledged, files {files:?} {sizes:?}; key at {at:?}; head {head}"
                );
            }
        }
    }
}

fn info_number(con: &mut redis::Connection, section: &str, field: &str) -> u64 {
    let v = info_in(con, section, field);
    v.parse()
        .unwrap_or_else(|_| panic!("INFO {section} {field} is not a number: {v}"))
}

/// What the AOF buffers is not counted against `maxmemory`, as Redis leaves its `aof_buf`
/// out. The real binary (its allocator counts `used_memory`): while a slow fsync holds the
/// writer, 6 MB of writes pile up in the feed, and an `allkeys-lru` server with 2 MB of
/// room keeps accepting them (evicting keys) instead of refusing them with OOM; INFO shows
/// the buffer as `mem_aof_buffer` and `mem_not_counted_for_evict`.
#[test]
fn aof_buffers_are_not_counted_against_maxmemory() {
    let tmp = TempDir::new("aofmem");
    let (child, port) = start_child(|p| spawn(&tmp.0, p, &["--enable-test-controls", "yes"]));
    let mut con = wait_ready(&child, port);
    run(&mut con, &["TESTCTL", "SLOWFSYNC", "5000"]);
    run(&mut con, &["SET", "first", "1"]);
    wait_info(&mut con, "aof_pending_bio_fsync", "1", 10);
    let used = info_number(&mut con, "memory", "used_memory");
    run(
        &mut con,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    );
    let limit = (used + 2 * 1024 * 1024).to_string();
    run(&mut con, &["CONFIG", "SET", "maxmemory", &limit]);
    let value = "x".repeat(10_000);
    for batch in 0..6 {
        let mut pipe = redis::pipe();
        for i in 0..100 {
            pipe.cmd("SET")
                .arg(format!("k:{batch}:{i}"))
                .arg(&value)
                .ignore();
        }
        let r: redis::RedisResult<()> = pipe.query(&mut con);
        assert!(r.is_ok(), "batch {batch} refused: {r:?}");
    }
    assert_eq!(info_field(&mut con, "aof_pending_bio_fsync"), "1");
    let aof = info_number(&mut con, "memory", "mem_aof_buffer");
    assert!(aof >= 6_000_000, "mem_aof_buffer {aof}");
    assert_eq!(
        info_number(&mut con, "memory", "mem_not_counted_for_evict"),
        aof
    );
    assert!(info_number(&mut con, "stats", "evicted_keys") > 0);
    run(&mut con, &["CONFIG", "SET", "maxmemory", "0"]);
    run(&mut con, &["TESTCTL", "SLOWFSYNC", "0"]);
}

#[test]
fn kill9_under_always_keeps_every_acknowledged_write() {
    kill9_under_load("always", Duration::ZERO);
}

#[test]
fn kill9_under_everysec_loses_at_most_a_second() {
    kill9_under_load("everysec", Duration::from_secs(1));
}

#[test]
fn loading_answers_loading_and_info_shows_it() {
    let tmp = TempDir::new("loading");
    let dir = tmp.aofdir();
    std::fs::create_dir_all(&dir).expect("dir");
    // A big enough AOF (written directly) that loading takes a while.
    let mut data = Vec::new();
    for i in 0..300_000 {
        let k = format!("key:{i}");
        let v = format!("{i}");
        data.extend_from_slice(
            format!(
                "*3\r\n$3\r\nSET\r\n${}\r\n{k}\r\n${}\r\n{v}\r\n",
                k.len(),
                v.len()
            )
            .as_bytes(),
        );
    }
    std::fs::write(dir.join("appendonly.aof.1.base.aof"), &data).expect("base");
    std::fs::write(dir.join("appendonly.aof.1.incr.aof"), b"").expect("incr");
    std::fs::write(
        dir.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .expect("manifest");
    let (child, port) = start_child(|p| spawn(&tmp.0, p, &[]));
    let start = Instant::now();
    let (mut saw_loading, mut saw_info, mut raced) = (false, false, false);
    loop {
        assert!(start.elapsed() < Duration::from_secs(30), "never loaded");
        let Some(mut c) = ours(port, child.0.id()) else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        match redis::cmd("GET")
            .arg("key:1")
            .query::<Option<String>>(&mut c)
        {
            Err(e) => {
                assert_eq!(e.code(), Some("LOADING"), "{e}");
                assert_eq!(e.detail(), Some("Redis is loading the dataset in memory"));
                saw_loading = true;
                if let Ok(info) = redis::cmd("INFO")
                    .arg("persistence")
                    .query::<String>(&mut c)
                {
                    if info.contains("loading:1") && info.contains("loading_loaded_bytes:") {
                        saw_info = true;
                    } else if info.contains("loading:0") {
                        // Loading ended between the GET and the INFO (a slow machine).
                        raced = true;
                    }
                }
            }
            Ok(v) => {
                assert_eq!(v.as_deref(), Some("1"));
                let n: u64 = redis::cmd("DBSIZE").query(&mut c).expect("dbsize");
                assert_eq!(n, 300_000);
                break;
            }
        }
    }
    assert!(saw_loading, "no -LOADING reply seen while loading");
    assert!(saw_info || raced, "INFO never showed loading:1");
}

// ---------------------------------------------------------------------------------------
// Interoperability with redis-server 7 (skipped when it is not installed).

fn redis_server() -> Option<String> {
    let out = Command::new("redis-server")
        .arg("--version")
        .output()
        .ok()?;
    let v = String::from_utf8_lossy(&out.stdout).into_owned();
    v.contains("v=7.").then_some(v)
}

fn spawn_redis(dir: &Path, port: u16) -> Child9 {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "yes",
            "--aof-use-rdb-preamble",
            "no",
        ])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server");
    Child9(child)
}

#[test]
fn redis_server_loads_our_directory_and_we_load_its() {
    if redis_server().is_none() {
        eprintln!("redis-server 7 not installed: skipped");
        return;
    }
    // Ours → Redis: a base written by our rewrite plus an incremental file.
    let tmp = TempDir::new("interop-ours");
    let ours = {
        let s = start(config(&tmp.0, AppendFsync::EverySec));
        let mut con = con_at(&s.url());
        populate(&mut con, "a");
        run(&mut con, &["BGREWRITEAOF"]);
        wait_rewrite(&mut con, 1);
        populate(&mut con, "b");
        dump(&mut con)
    };
    {
        let (redis, port) = start_child(|p| spawn_redis(&tmp.0, p));
        let mut con = wait_ready(&redis, port);
        same(
            &dump(&mut con),
            &ours,
            "redis-server read our AOF differently",
        );
        // Redis's own writes on top, then Redis's rewrite: we load its directory.
        populate(&mut con, "c");
        run(&mut con, &["BGREWRITEAOF"]);
        let start_t = Instant::now();
        loop {
            let info = text(&run(&mut con, &["INFO", "persistence"]));
            if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrites:1") {
                break;
            }
            assert!(start_t.elapsed() < Duration::from_secs(20));
            std::thread::sleep(Duration::from_millis(20));
        }
        populate(&mut con, "d");
        let theirs = dump(&mut con);
        let _: Result<Value, _> = redis::cmd("SHUTDOWN").query(&mut con);
        std::thread::sleep(Duration::from_millis(300));
        let s = start(config(&tmp.0, AppendFsync::EverySec));
        let mut con = con_at(&s.url());
        same(
            &dump(&mut con),
            &theirs,
            "we read redis-server's AOF differently",
        );
    }
}

#[test]
fn deadlines_passed_since_are_replayed_as_they_ran() {
    // Keys whose first deadline has passed by the restart but that were persisted or given
    // a later deadline before it: nothing expires while the AOF is replayed (as in Redis).
    let tmp = TempDir::new("frozen");
    let t0 = 1_700_000_000_000u64;
    {
        let s = Server::builder()
            .config(config(&tmp.0, AppendFsync::EverySec))
            .clock(emberkv::Clock::manual(t0))
            .start_background()
            .expect("server starts");
        let mut con = con_at(&s.url());
        run(&mut con, &["SET", "extended", "v", "PX", "1000"]);
        run(&mut con, &["PEXPIRE", "extended", "100000"]);
        run(&mut con, &["SET", "persisted", "v", "PX", "1000"]);
        run(&mut con, &["PERSIST", "persisted"]);
        run(&mut con, &["SET", "renamed", "v", "PX", "1000"]);
        run(&mut con, &["RENAME", "renamed", "target"]);
        run(&mut con, &["PERSIST", "target"]);
        run(&mut con, &["SET", "short", "v", "PX", "1000"]);
    }
    let s = Server::builder()
        .config(config(&tmp.0, AppendFsync::EverySec))
        .clock(emberkv::Clock::manual(t0 + 5000))
        .start_background()
        .expect("server starts");
    let mut con = con_at(&s.url());
    assert_eq!(
        text(&run(&mut con, &["PEXPIRETIME", "extended"])),
        (t0 + 100_000).to_string()
    );
    assert_eq!(text(&run(&mut con, &["PEXPIRETIME", "persisted"])), "-1");
    assert_eq!(text(&run(&mut con, &["GET", "target"])), "v");
    assert_eq!(text(&run(&mut con, &["EXISTS", "short"])), "0");
    // Loaded keys were accessed "now", not at time 0.
    let idle: i64 = redis::cmd("OBJECT")
        .arg("IDLETIME")
        .arg("persisted")
        .query(&mut con)
        .expect("idletime");
    assert!(idle < 10, "{idle}");
}

#[test]
fn always_answers_a_served_pop_only_once_the_file_holds_it() {
    // A BLPOP served by another client's LPUSH is acknowledged like any write under
    // `appendfsync always`: when its reply arrives, the pop is already in the file.
    let tmp = TempDir::new("served");
    let s = start(config(&tmp.0, AppendFsync::Always));
    let url = s.url();
    let incr = last_incr(&tmp.aofdir());
    for i in 0..40 {
        let key = format!("queue:{i}");
        let waiter = {
            let (url, key, incr) = (url.clone(), key.clone(), incr.clone());
            std::thread::spawn(move || {
                let mut con = con_at(&url);
                let got = run(&mut con, &["BLPOP", &key, "0"]);
                // Read the file the moment the reply is here.
                let file = std::fs::read(&incr).expect("incr file");
                (got, file)
            })
        };
        let mut con = con_at(&url);
        // Push once the waiter is blocked, so the pop is served by this push.
        let start = Instant::now();
        while !text(&run(&mut con, &["INFO", "clients"])).contains("blocked_clients:1\r\n") {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the BLPOP never blocked"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        run(&mut con, &["LPUSH", &key, "job"]);
        let (got, file) = waiter.join().expect("waiter");
        assert_eq!(strings(&got), [key.as_str(), "job"]);
        let pop = format!("*2\r\n$4\r\nLPOP\r\n${}\r\n{key}\r\n", key.len());
        let file = String::from_utf8_lossy(&file);
        assert!(
            file.contains(&pop),
            "round {i}: the pop is not in the file yet"
        );
    }
}
