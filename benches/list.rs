//! Criterion benchmarks for lists through dispatch (no socket): LPUSH and LPOP at the head of
//! a list holding about 10, 1 000 and 200 000 elements, and LRANGE of the whole list.
//!
//! Run: `cargo bench --bench list` (add `-- --quick` for a fast pass).
//!
//! LPUSH and LPOP are timed in chunks (at most `min(N/2, 1000)` commands); the list is put
//! back to its size untimed between chunks, so it stays within N..1.5N (LPUSH) or
//! N/2..N (LPOP). LRANGE is `LRANGE key 0 -1` (reply built, not encoded).
//!
//! Last results (`--quick`, 16-byte elements, rustc 1.95, 2026-12-01). The 2 cores were
//! shared with four other builds (load average ~8), which makes everything ~3.5x slower
//! than on an idle machine: `core`'s dispatch/set measured 1.09 µs in the same minutes
//! (~330 ns idle). Read these against that, not as absolute numbers:
//! - list/lpush/10 1.13 µs, list/lpush/1000 1.19 µs, list/lpush/200000 1.26 µs
//! - list/lpop/10 1.11 µs, list/lpop/1000 1.18 µs, list/lpop/200000 1.17 µs
//! - list/lrange/10 2.6 µs, list/lrange/1000 186 µs, list/lrange/200000 40 ms
//!   (~190-200 ns per element returned under that load: one `Bytes` copy each)
//!
//! So a push or pop costs what a SET does at any length (O(1) per end), and LRANGE is linear.
//!
//! At 200 000 elements the head node is full (8 KiB, `list-max-listpack-size -2`), so a
//! push at the head moves those bytes, as a Redis listpack insert does.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

use emberkv::commands::execute;
use emberkv::session::{ClientHandle, Session};
use emberkv::shared::Shared;

fn argv(words: &[&str]) -> Vec<Bytes> {
    words
        .iter()
        .map(|w| Bytes::copy_from_slice(w.as_bytes()))
        .collect()
}

const SIZES: [usize; 3] = [10, 1_000, 200_000];
const ELEMENT: &str = "element-00000000";

fn setup(n: usize) -> (Shared, Session) {
    let shared = Shared::new(emberkv::Config::default(), emberkv::Clock::system());
    let handle = Arc::new(ClientHandle::new(1, "bench".into(), "bench".into(), -1, 0));
    let mut session = Session::new(handle, true);
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut a = argv(&["RPUSH", "list"]);
        a.extend(chunk.iter().map(|i| Bytes::from(format!("element-{i:08}"))));
        execute(&shared, &mut session, a);
    }
    (shared, session)
}

/// Times `timed` `iters` times in chunks, running `restore` untimed after each chunk.
fn chunked(
    shared: &Shared,
    session: &mut Session,
    iters: u64,
    chunk: u64,
    timed: &[&str],
    restore: &[&str],
) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let k = left.min(chunk);
        let t = Instant::now();
        for _ in 0..k {
            black_box(execute(shared, session, argv(timed)));
        }
        total += t.elapsed();
        for _ in 0..k {
            execute(shared, session, argv(restore));
        }
        left -= k;
    }
    total
}

fn list(c: &mut Criterion) {
    let mut g = c.benchmark_group("list");
    for n in SIZES {
        let (shared, mut session) = setup(n);
        let chunk = (n as u64 / 2).clamp(1, 1000);
        g.bench_with_input(BenchmarkId::new("lpush", n), &n, |b, _| {
            b.iter_custom(|iters| {
                chunked(
                    &shared,
                    &mut session,
                    iters,
                    chunk,
                    &["LPUSH", "list", ELEMENT],
                    &["LPOP", "list"],
                )
            })
        });
        g.bench_with_input(BenchmarkId::new("lpop", n), &n, |b, _| {
            b.iter_custom(|iters| {
                chunked(
                    &shared,
                    &mut session,
                    iters,
                    chunk,
                    &["LPOP", "list"],
                    &["LPUSH", "list", ELEMENT],
                )
            })
        });
        if n >= 200_000 {
            g.sample_size(10);
        }
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("lrange", n), &n, |b, _| {
            b.iter(|| {
                black_box(execute(
                    &shared,
                    &mut session,
                    argv(&["LRANGE", "list", "0", "-1"]),
                ))
            })
        });
        g.throughput(Throughput::Elements(1));
    }
    g.finish();
}

criterion_group!(benches, list);
criterion_main!(benches);
