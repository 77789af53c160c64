//! Criterion benchmarks for sets: SADD and SISMEMBER through dispatch (no socket) on sets of
//! 10, 1 000 and 200 000 members — an inline intset, a 1 000-integer intset (with
//! `set-max-intset-entries` raised for it) and a 1 000-string hash table, and a large hash
//! table.
//!
//! Run: `cargo bench --bench set` (add `-- --quick` for a fast pass).
//!
//! Last results (`--quick`, medians; 2 cores shared with four other builds, so ±30% noise —
//! compare runs made back to back; rustc 1.95, release profile):
//!
//! | set                      | SADD existing | SADD + SREM new | SISMEMBER |
//! |--------------------------|---------------|-----------------|-----------|
//! | intset, 10 (inline)      | 515 ns        | 1150 ns         | 414 ns    |
//! | intset, 1 000            | 399 ns        | 1119 ns         | 421 ns    |
//! | hashtable, 1 000         | 395 ns        | 1067 ns         | 751 ns    |
//! | hashtable, 200 000       | 589 ns        | 1666 ns         | 420 ns    |
//!
//! Each includes building the argv and dispatch (lookup, locking), as `benches/core.rs`'s
//! `dispatch/get_hit` (~290 ns) does. SADD of a present member is a lookup; "SADD + SREM new"
//! inserts and removes an absent member (two commands), so the set keeps its size.
//!
//! Memory (release build, RSS after `SADD set:N` of 10 integers below 1000 for N < 100 000,
//! loaded with `redis-cli --pipe`): emberkv 15.4 MB (used_memory 10.7 MB), redis-server
//! 7.0.15 18.6 MB (used_memory 11.6 MB).

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::sync::Arc;

use emberkv::commands::execute;
use emberkv::session::{ClientHandle, Session};
use emberkv::shared::Shared;

fn argv(words: &[&str]) -> Vec<Bytes> {
    words
        .iter()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect()
}

/// A server state holding the set `s` of `n` members: integers or `member:<i>` strings.
fn fill(n: usize, ints: bool) -> (Shared, Session) {
    let shared = Shared::new(emberkv::Config::default(), emberkv::Clock::system());
    let handle = Arc::new(ClientHandle::new(1, "bench".into(), "bench".into(), -1, 0));
    let mut session = Session::new(handle, true);
    if ints {
        // Keep a 1 000-integer set an intset, as a server configured for it would.
        let limit = n.max(512).to_string();
        execute(
            &shared,
            &mut session,
            argv(&["CONFIG", "SET", "set-max-intset-entries", &limit]),
        );
    }
    let members: Vec<String> = (0..n)
        .map(|i| {
            if ints {
                (i * 3).to_string()
            } else {
                format!("member:{i}")
            }
        })
        .collect();
    for chunk in members.chunks(1000) {
        let mut words = vec!["SADD", "s"];
        words.extend(chunk.iter().map(String::as_str));
        execute(&shared, &mut session, argv(&words));
    }
    (shared, session)
}

fn sets(c: &mut Criterion) {
    for (encoding, n, ints) in [
        ("intset", 10usize, true),
        ("intset", 1000, true),
        ("hashtable", 1000, false),
        ("hashtable", 200_000, false),
    ] {
        let (shared, mut session) = fill(n, ints);
        let (present, absent) = if ints {
            (((n / 2) * 3).to_string(), "1".to_string())
        } else {
            (format!("member:{}", n / 2), "absent".to_string())
        };
        let id = BenchmarkId::new(encoding, n);
        let mut g = c.benchmark_group("sadd_existing");
        g.bench_function(id.clone(), |b| {
            b.iter(|| {
                black_box(execute(
                    &shared,
                    &mut session,
                    argv(&["SADD", "s", &present]),
                ))
            })
        });
        g.finish();
        // A real insertion (O(n) memmove in an intset), undone by SREM to keep the size.
        let mut g = c.benchmark_group("sadd_then_srem_new");
        g.bench_function(id.clone(), |b| {
            b.iter(|| {
                black_box(execute(
                    &shared,
                    &mut session,
                    argv(&["SADD", "s", &absent]),
                ));
                black_box(execute(
                    &shared,
                    &mut session,
                    argv(&["SREM", "s", &absent]),
                ))
            })
        });
        g.finish();
        let mut g = c.benchmark_group("sismember");
        g.bench_function(id, |b| {
            b.iter(|| {
                black_box(execute(
                    &shared,
                    &mut session,
                    argv(&["SISMEMBER", "s", &present]),
                ))
            })
        });
        g.finish();
    }
}

criterion_group!(benches, sets);
criterion_main!(benches);
