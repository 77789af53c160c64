//! Criterion benchmarks for hashes through dispatch (no socket): HSET updating one field of
//! a hash of 10, 1 000 and 200 000 fields (packed / table / large table with the default
//! thresholds), HSET creating a 10-field hash, and HGETALL of each size including the
//! RESP2 encoding of its reply.
//!
//! Run: `cargo bench --bench hash` (add `-- --quick` for a fast pass).
//!
//! Last results (2 cores shared with four other engineers' builds — load average ~6.7, under
//! which `core`'s dispatch/set measured 731 ns against its recorded 331 ns — rustc 1.95,
//! `--quick`):
//! - hash/hset_update/10        ~1.11 µs   (packed: linear scan of 10 pairs; reply encoded)
//! - hash/hset_update/1000      ~1.17 µs   (hashtable)
//! - hash/hset_update/200000    ~1.39 µs
//! - hash/hset_new_10_pairs     ~6.15 µs   (HSET of 10 pairs on a missing key, then DEL)
//! - hash/hgetall/10            ~3.48 µs
//! - hash/hgetall/1000          ~193 µs    (~97 ns per field and value, reply encoded)
//! - hash/hgetall/200000        ~81 ms

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
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

fn hash(c: &mut Criterion) {
    let shared = Shared::new(emberkv::Config::default(), emberkv::Clock::system());
    let handle = Arc::new(ClientHandle::new(1, "bench".into(), "bench".into(), -1, 0));
    let mut session = Session::new(handle, true);
    let sizes = [10usize, 1_000, 200_000];
    for &n in &sizes {
        let key = format!("h{n}");
        // Filled in batches of 100 pairs per HSET.
        let fields: Vec<String> = (0..n).map(|i| format!("field:{i}")).collect();
        for chunk in fields.chunks(100) {
            let mut words = vec!["HSET", key.as_str()];
            for f in chunk {
                words.push(f);
                words.push("value");
            }
            execute(&shared, &mut session, argv(&words));
        }
    }
    let mut g = c.benchmark_group("hash");
    let mut out = BytesMut::with_capacity(1 << 20);
    for &n in &sizes {
        let key = format!("h{n}");
        let mut i = 0usize;
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("hset_update/{n}"), |b| {
            b.iter(|| {
                i = (i + 7919) % n;
                let f = format!("field:{i}");
                let r = execute(&shared, &mut session, argv(&["HSET", &key, &f, "other"]));
                out.clear();
                r.encode(&mut out, false);
                black_box(out.len())
            })
        });
    }
    g.bench_function("hset_new_10_pairs", |b| {
        let words: Vec<String> = std::iter::once("HSET".to_string())
            .chain(std::iter::once("fresh".to_string()))
            .chain((0..10).flat_map(|i| [format!("f{i}"), format!("v{i}")]))
            .collect();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        b.iter(|| {
            black_box(execute(&shared, &mut session, argv(&words)));
            execute(&shared, &mut session, argv(&["DEL", "fresh"]))
        })
    });
    for &n in &sizes {
        let key = format!("h{n}");
        g.throughput(Throughput::Elements(n as u64));
        if n >= 100_000 {
            g.sample_size(10);
        }
        g.bench_function(format!("hgetall/{n}"), |b| {
            b.iter(|| {
                let r = execute(&shared, &mut session, argv(&["HGETALL", &key]));
                out.clear();
                r.encode(&mut out, false);
                black_box(out.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, hash);
criterion_main!(benches);
