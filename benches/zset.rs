//! Criterion benchmarks for sorted sets through dispatch (no socket): ZADD (update of an
//! existing member, so the size stays put), ZRANK and ZRANGE of 10 elements from the middle,
//! at 10, 1 000 and 200 000 members. 10 members are `listpack` (the compact form), the
//! larger sets `skiplist` (member map + chunked order-statistic list).
//!
//! Run: `cargo bench --bench zset` (add `-- --quick` for a fast pass).
//!
//! Last results (2 cores shared with other builds, rustc 1.95, `--quick`):
//! - zadd_update: 10 → 1.53 µs, 1 000 → 1.84 µs, 200 000 → 2.07 µs
//! - zrank:       10 → 1.12 µs, 1 000 → 0.88 µs, 200 000 → 0.93 µs
//! - zrange_10:   10 → 1.68 µs, 1 000 → 2.07 µs, 200 000 → 2.14 µs (WITHSCORES)
//!
//! Flat from 1 000 to 200 000 members: rank and index lookups are O(log n) (std `BTreeSet`
//! rank would be ~350 µs at 200 000). Absolute numbers include dispatch (argv allocation,
//! lookup, locking) and were taken while other builds shared the machine.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
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

fn zset(c: &mut Criterion) {
    let shared = Shared::new(emberkv::Config::default(), emberkv::Clock::system());
    let handle = Arc::new(ClientHandle::new(1, "bench".into(), "bench".into(), -1, 0));
    let mut session = Session::new(handle, true);
    let mut g = c.benchmark_group("zset");
    for n in [10usize, 1_000, 200_000] {
        let key = format!("z{n}");
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            let mut cmd = vec!["ZADD".to_string(), key.clone()];
            for i in chunk {
                cmd.push(i.to_string());
                cmd.push(format!("member:{i:07}"));
            }
            let words: Vec<&str> = cmd.iter().map(String::as_str).collect();
            execute(&shared, &mut session, argv(&words));
        }
        let mid = format!("member:{:07}", n / 2);
        let (from, to) = ((n / 2).to_string(), (n / 2 + 9).to_string());
        let mut score = 0u64;
        g.bench_function(format!("zadd_update/{n}"), |b| {
            b.iter(|| {
                score += 1;
                let s = (score % n as u64).to_string();
                black_box(execute(
                    &shared,
                    &mut session,
                    argv(&["ZADD", &key, &s, &mid]),
                ))
            })
        });
        g.bench_function(format!("zrank/{n}"), |b| {
            b.iter(|| black_box(execute(&shared, &mut session, argv(&["ZRANK", &key, &mid]))))
        });
        g.bench_function(format!("zrange_10/{n}"), |b| {
            b.iter(|| {
                black_box(execute(
                    &shared,
                    &mut session,
                    argv(&["ZRANGE", &key, &from, &to, "WITHSCORES"]),
                ))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, zset);
criterion_main!(benches);
