//! maxmemory and eviction (every policy), OBJECT FREQ/IDLETIME and MEMORY.
//!
//! Eviction is made deterministic by pinning the `used_memory` reading
//! (`shared().memory.used_override`): eviction lowers it by the estimated size of each key it
//! removes, so being over by `n` bytes evicts the fewest keys whose sizes reach `n`.
//! `maxmemory-samples` above the key count makes the sampled policies rank every key.

use std::sync::atomic::Ordering;

use emberkv::BackgroundServer;

use crate::common::*;

const MAX: u64 = 1_000_000;
const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

/// Sets `maxmemory` (with the reading pinned under it, so CONFIG SET itself evicts nothing)
/// and the policy.
fn limit(s: &BackgroundServer, c: &mut redis::Connection, policy: &str) {
    s.shared().memory.used_override.store(0, Ordering::Relaxed);
    let _: () = q(c, &["CONFIG", "SET", "maxmemory-policy", policy]);
    let _: () = q(c, &["CONFIG", "SET", "maxmemory-samples", "64"]);
    let _: () = q(c, &["CONFIG", "SET", "maxmemory", &MAX.to_string()]);
}

/// Pins `used_memory` `bytes` over the limit: the next command evicts.
fn over_by(s: &BackgroundServer, bytes: u64) {
    s.shared()
        .memory
        .used_override
        .store(MAX + bytes, Ordering::Relaxed);
}

fn exists(c: &mut redis::Connection, keys: &[&str]) -> Vec<bool> {
    keys.iter()
        .map(|k| q::<i64>(c, &["EXISTS", k]) == 1)
        .collect()
}

fn evicted(c: &mut redis::Connection) -> u64 {
    let info: String = q(c, &["INFO", "stats"]);
    info.lines()
        .find_map(|l| l.strip_prefix("evicted_keys:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("evicted_keys")
}

/// Ten 100-byte strings `k0`..`k9` written 1 s apart (`k0` oldest); returns one key's
/// MEMORY USAGE.
fn ten_keys(
    s: &BackgroundServer,
    c: &mut redis::Connection,
    ttl: impl Fn(usize) -> Option<u64>,
) -> u64 {
    let value = "v".repeat(100);
    for i in 0..10 {
        let k = format!("k{i}");
        match ttl(i) {
            Some(t) => {
                let _: () = q(c, &["SET", &k, &value, "EX", &t.to_string()]);
            }
            None => {
                let _: () = q(c, &["SET", &k, &value]);
            }
        }
        s.clock().advance(1_000);
    }
    q(c, &["MEMORY", "USAGE", "k0"])
}

const KEYS: [&str; 10] = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"];

#[test]
fn allkeys_lru_evicts_the_least_recently_used() {
    let s = manual_server();
    let mut c = con(&s);
    let size = ten_keys(&s, &mut c, |_| None);
    // k0 is read last: now the most recent.
    let _: String = q(&mut c, &["GET", "k0"]);
    limit(&s, &mut c, "allkeys-lru");
    over_by(&s, size + 1); // two keys' worth
    let _: String = q(&mut c, &["PING"]);
    assert_eq!(
        exists(&mut c, &KEYS),
        [true, false, false, true, true, true, true, true, true, true]
    );
    assert_eq!(evicted(&mut c), 2);
}

#[test]
fn allkeys_lfu_evicts_the_least_frequently_used() {
    let s = manual_server();
    let mut c = con(&s);
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    );
    let size = ten_keys(&s, &mut c, |_| None);
    // A first read always lifts a new key's counter (5 -> 6): every key but k0..k2.
    for k in &KEYS[3..] {
        let _: String = q(&mut c, &["GET", k]);
    }
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "FREQ", "k0"]), 5);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "FREQ", "k3"]), 6);
    limit(&s, &mut c, "allkeys-lfu");
    over_by(&s, 2 * size + 1);
    let _: String = q(&mut c, &["PING"]);
    assert_eq!(
        exists(&mut c, &KEYS),
        [false, false, false, true, true, true, true, true, true, true]
    );
}

#[test]
fn allkeys_random_evicts_as_many_as_needed() {
    let s = manual_server();
    let mut c = con(&s);
    let size = ten_keys(&s, &mut c, |_| None);
    limit(&s, &mut c, "allkeys-random");
    over_by(&s, 2 * size + 1);
    let _: String = q(&mut c, &["PING"]);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 7);
    assert_eq!(evicted(&mut c), 3);
}

#[test]
fn volatile_ttl_evicts_the_soonest_to_expire() {
    let s = manual_server();
    let mut c = con(&s);
    // k0..k4 persistent; k5..k9 expire in 1000, 900, … 600 s.
    let size = ten_keys(&s, &mut c, |i| {
        (i >= 5).then(|| 1000 - 100 * (i as u64 - 5))
    });
    limit(&s, &mut c, "volatile-ttl");
    over_by(&s, size + 1);
    let _: String = q(&mut c, &["PING"]);
    assert_eq!(
        exists(&mut c, &KEYS),
        [true, true, true, true, true, true, true, true, false, false]
    );
}

#[test]
fn volatile_policies_never_evict_persistent_keys() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let s = manual_server();
        let mut c = con(&s);
        let _ = ten_keys(&s, &mut c, |i| (i % 2 == 1).then_some(1000));
        limit(&s, &mut c, policy);
        over_by(&s, 10 * MAX);
        // Every key with an expiry goes, then there is nothing left to evict: a write is
        // refused, a read and a DEL (not `denyoom`) still run.
        assert_eq!(err(&mut c, &["SET", "new", "x"]), OOM, "{policy}");
        assert_eq!(
            exists(&mut c, &KEYS),
            [true, false, true, false, true, false, true, false, true, false],
            "{policy}"
        );
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "new"]), 0);
        assert_eq!(q::<i64>(&mut c, &["DEL", "k0"]), 1);
        assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 4);
        assert_eq!(evicted(&mut c), 5, "{policy}");
    }
}

#[test]
fn volatile_lru_picks_the_least_recently_used_key_with_an_expiry() {
    let s = manual_server();
    let mut c = con(&s);
    let size = ten_keys(&s, &mut c, |i| (i >= 2).then_some(1000));
    let _: String = q(&mut c, &["GET", "k2"]);
    limit(&s, &mut c, "volatile-lru");
    over_by(&s, size + 1);
    let _: String = q(&mut c, &["PING"]);
    assert_eq!(
        exists(&mut c, &KEYS),
        [true, true, true, false, false, true, true, true, true, true]
    );
}

#[test]
fn noeviction_refuses_denyoom_commands_and_writes_nothing() {
    let s = manual_server();
    let mut c = con(&s);
    let _ = ten_keys(&s, &mut c, |_| None);
    limit(&s, &mut c, "noeviction");
    over_by(&s, 1);
    assert_eq!(err(&mut c, &["SET", "new", "x"]), OOM);
    assert_eq!(err(&mut c, &["APPEND", "k0", "x"]), OOM);
    assert_eq!(err(&mut c, &["LPUSH", "l", "x"]), OOM);
    assert_eq!(q::<i64>(&mut c, &["STRLEN", "k0"]), 100);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "new", "l"]), 0);
    // Commands that free memory or only read still run.
    assert_eq!(q::<i64>(&mut c, &["DEL", "k1"]), 1);
    assert_eq!(q::<i64>(&mut c, &["EXPIRE", "k2", "100"]), 1);
    assert_eq!(q::<i64>(&mut c, &["DBSIZE"]), 9);
    assert_eq!(evicted(&mut c), 0);
    // Inside MULTI anything queued is refused, and EXEC then aborts; DISCARD still works.
    let _: () = q(&mut c, &["MULTI"]);
    assert_eq!(err(&mut c, &["GET", "k0"]), OOM);
    assert_eq!(
        err(&mut c, &["EXEC"]),
        "EXECABORT Transaction discarded because of previous errors."
    );
    // A transaction queued under the limit that writes is refused at EXEC once over it.
    s.shared().memory.used_override.store(0, Ordering::Relaxed);
    let _: () = q(&mut c, &["MULTI"]);
    let _: String = q(&mut c, &["SET", "t", "1"]);
    over_by(&s, 1);
    assert_eq!(
        err(&mut c, &["EXEC"]),
        format!("EXECABORT Transaction discarded because of: {OOM}")
    );
    // The transaction is gone.
    assert_eq!(err(&mut c, &["DISCARD"]), "ERR DISCARD without MULTI");
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "t"]), 0);
    // Back under the limit, writes run again.
    s.shared().memory.used_override.store(0, Ordering::Relaxed);
    let _: () = q(&mut c, &["SET", "new", "x"]);
}

#[test]
fn eviction_takes_the_effects_path() {
    let s = manual_server();
    let mut c = con(&s);
    let size = ten_keys(&s, &mut c, |_| None);
    let _: () = q(&mut c, &["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
    let mut sub_con = con(&s);
    let mut sub = sub_con.as_pubsub();
    sub.subscribe("__keyevent@0__:evicted").expect("subscribe");
    let mut watcher = con(&s);
    let _: () = q(&mut watcher, &["WATCH", "k0"]);
    let _: () = q(&mut watcher, &["MULTI"]);
    let _: String = q(&mut watcher, &["SET", "k0", "mine"]);
    s.propagation().set_enabled(true);
    limit(&s, &mut c, "allkeys-lru");
    over_by(&s, size);
    let _: String = q(&mut c, &["PING"]);
    assert_eq!(q::<i64>(&mut c, &["EXISTS", "k0"]), 0);
    // WATCH saw the eviction.
    assert_eq!(v(&mut watcher, &["EXEC"]), redis::Value::Nil);
    // One plain DEL propagated.
    let log: Vec<Vec<String>> = s
        .propagation()
        .drain()
        .iter()
        .map(|a| {
            a.iter()
                .map(|w| String::from_utf8_lossy(w).into_owned())
                .collect()
        })
        .collect();
    assert!(
        log.contains(&vec!["DEL".to_string(), "k0".to_string()]),
        "{log:?}"
    );
    // The `evicted` event.
    sub.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    let msg = sub.get_message().expect("an event");
    assert_eq!(msg.get_channel_name(), "__keyevent@0__:evicted");
    assert_eq!(msg.get_payload::<String>().expect("payload"), "k0");
}

#[test]
fn object_idletime_and_freq_follow_the_policy() {
    let s = manual_server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["SET", "k", "v"]);
    s.clock().advance(5_500);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "k"]), 5);
    assert_eq!(
        err(&mut c, &["OBJECT", "FREQ", "k"]),
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    );
    assert_eq!(v(&mut c, &["OBJECT", "FREQ", "nosuch"]), redis::Value::Nil);
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    );
    assert_eq!(
        err(&mut c, &["OBJECT", "IDLETIME", "k"]),
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    );
    let _: () = q(&mut c, &["SET", "f", "v"]);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "FREQ", "f"]), 5);
    let _: String = q(&mut c, &["GET", "f"]);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "FREQ", "f"]), 6);
    // One period of lfu-decay-time (1 minute) idle takes one off.
    s.clock().advance(61_000);
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "FREQ", "f"]), 5);
    // LRU again: idle time reads in seconds, at ms resolution underneath.
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    );
    assert_eq!(q::<i64>(&mut c, &["OBJECT", "IDLETIME", "f"]), 61);
}

#[test]
fn memory_usage_matches_redis_figures() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["SET", "n", "5"]);
    let _: () = q(&mut c, &["SET", "s", "abc"]);
    let _: () = q(&mut c, &["SET", "k:19999", &"x".repeat(1000)]);
    let _: () = q(&mut c, &["HSET", "h", "a", "1", "b", "hello", "c", "world"]);
    let _: () = q(&mut c, &["SADD", "si", "1", "2", "3"]);
    let _: () = q(&mut c, &["SADD", "ss", "a", "b", "c"]);
    let _: () = q(&mut c, &["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    // Redis 7.0.15's answers for the same values.
    for (key, redis) in [
        ("n", 48),
        ("s", 64),
        ("k:19999", 1080),
        ("h", 80),
        ("si", 64),
        ("ss", 232),
        ("z", 80),
    ] {
        assert_eq!(q::<i64>(&mut c, &["MEMORY", "USAGE", key]), redis, "{key}");
    }
    assert_eq!(v(&mut c, &["MEMORY", "USAGE", "nosuch"]), redis::Value::Nil);
    assert_eq!(
        q::<i64>(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES", "0"]),
        80
    );
    assert_eq!(
        err(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES", "-1"]),
        "ERR syntax error"
    );
    assert_eq!(
        err(&mut c, &["MEMORY", "USAGE", "h", "SAMPLES", "x"]),
        "ERR value is not an integer or out of range"
    );
    // A big hash in table form: Redis says 72296.
    for i in 0..1000 {
        let _: () = q(&mut c, &["HSET", "bh", &format!("f{i}"), &"v".repeat(20)]);
    }
    let big: i64 = q(&mut c, &["MEMORY", "USAGE", "bh", "SAMPLES", "0"]);
    assert!((70_000..75_000).contains(&big), "{big}");
}

#[test]
fn memory_stats_and_info_memory_report_live_fields() {
    let s = server();
    let mut c = con(&s);
    let _: () = q(&mut c, &["SET", "a", "1"]);
    let stats: Vec<redis::Value> = q(&mut c, &["MEMORY", "STATS"]);
    let names: Vec<String> = stats
        .iter()
        .step_by(2)
        .map(|v| match v {
            redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            other => format!("{other:?}"),
        })
        .collect();
    for f in [
        "peak.allocated",
        "total.allocated",
        "startup.allocated",
        "clients.normal",
        "db.0",
        "overhead.total",
        "keys.count",
        "dataset.bytes",
        "fragmentation",
    ] {
        assert!(names.iter().any(|n| n == f), "missing {f}: {names:?}");
    }
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", "64mb"]);
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    );
    let info: String = q(&mut c, &["INFO", "memory"]);
    for f in [
        "used_memory_rss:",
        "used_memory_peak:",
        "used_memory_dataset:",
        "mem_fragmentation_ratio:",
        "mem_clients_normal:",
    ] {
        assert!(info.contains(f), "missing {f}");
    }
    assert!(info.contains("maxmemory:67108864\r\n"));
    assert!(info.contains("maxmemory_human:64.00M\r\n"));
    assert!(info.contains("maxmemory_policy:allkeys-lru\r\n"));
    let help: Vec<String> = q(&mut c, &["MEMORY", "HELP"]);
    assert_eq!(help.len(), 14);
    let _: () = q(&mut c, &["MEMORY", "PURGE"]);
    let _: String = q(&mut c, &["MEMORY", "DOCTOR"]);
    let _: String = q(&mut c, &["MEMORY", "MALLOC-STATS"]);
}

#[test]
fn config_set_maxmemory_below_usage_evicts_before_it_answers() {
    let s = manual_server();
    let mut c = con(&s);
    let _: () = q(
        &mut c,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
    );
    for i in 0..10 {
        let _: () = q(&mut c, &["SET", &format!("k{i}"), &"v".repeat(100)]);
    }
    // The reading is pinned over the limit: CONFIG SET itself must evict (the pin drops by
    // what it frees), without waiting for a next command.
    s.shared()
        .memory
        .used_override
        .store(MAX + 150, Ordering::Relaxed);
    let _: () = q(&mut c, &["CONFIG", "SET", "maxmemory", &MAX.to_string()]);
    let evicted_now = s.shared().keyspace.stats.evicted.load(Ordering::Relaxed);
    assert!(evicted_now >= 1, "CONFIG SET evicted nothing");
    assert!(s.shared().memory.used() <= MAX);
}
