//! The server's one seedable source of randomness.
//!
//! Every random choice the server makes goes through the [`Rng`] its keyspace owns
//! (`Shared::rng()`): RANDOMKEY, SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, eviction
//! sampling (`allkeys-random`, the LRU/LFU/TTL samples) and the LFU counter's probabilistic
//! increment. Scripts seed `math.random` from [`Rng::seed`].
//!
//! # How determinism holds
//! An operation that needs random numbers takes a [`Stream`] with [`Rng::stream`]: one relaxed
//! `fetch_add` on a shared counter, whose value is mixed with the seed (SplitMix64) into the
//! stream's starting state; the stream then draws with wyrand (two multiplications per
//! number, no shared state). So the n-th random operation since the seed was set always gets
//! the same stream. **For a given seed and the same sequence of commands from one client, the
//! results are the same** on every run. Commands from several clients at once interleave
//! their streams in whatever order they run, as they would on any server.
//!
//! The LFU counter draw happens on every key access when an LFU policy is on; unseeded it uses
//! a per-thread generator (no shared cache line), seeded it takes the shared counter too.
//!
//! Unseeded (the default), the seed comes from the wall clock, the process id and an address,
//! so runs differ as they do on Redis. [`Rng::reseed`] (the builder's `.seed(n)`,
//! `TESTCTL SEED n`) restarts the sequence.
//!
//! ```
//! let rng = emberkv::rng::Rng::new(Some(42));
//! let a: Vec<u64> = { let s = rng.stream(); (0..3).map(|_| s.next_u64()).collect() };
//! rng.reseed(42);
//! let b: Vec<u64> = { let s = rng.stream(); (0..3).map(|_| s.next_u64()).collect() };
//! assert_eq!(a, b);
//! ```

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The server-wide random source; see the [module docs](self).
#[derive(Debug)]
pub struct Rng {
    seed: AtomicU64,
    /// Streams handed out since the seed was set.
    counter: AtomicU64,
    /// Whether a seed was chosen (the LFU draw then uses the shared sequence too).
    seeded: AtomicBool,
}

impl Rng {
    /// A generator seeded with `seed`, or from the time and process when `None`.
    pub fn new(seed: Option<u64>) -> Self {
        let rng = Rng {
            seed: AtomicU64::new(0),
            counter: AtomicU64::new(0),
            seeded: AtomicBool::new(false),
        };
        match seed {
            Some(s) => rng.reseed(s),
            None => rng.seed.store(entropy(), Ordering::Relaxed),
        }
        rng
    }

    /// Restarts the sequence from `seed`: the same seed gives the same streams again.
    pub fn reseed(&self, seed: u64) {
        self.seed.store(seed, Ordering::Relaxed);
        self.counter.store(0, Ordering::Relaxed);
        self.seeded.store(true, Ordering::Relaxed);
    }

    /// The current seed (chosen, or drawn at start when none was).
    pub fn seed(&self) -> u64 {
        self.seed.load(Ordering::Relaxed)
    }

    /// Whether the seed was chosen with [`Rng::new`]`(Some(_))` or [`Rng::reseed`].
    pub fn is_seeded(&self) -> bool {
        self.seeded.load(Ordering::Relaxed)
    }

    /// The random numbers for one operation (one relaxed `fetch_add`).
    pub fn stream(&self) -> Stream {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let seed = self.seed.load(Ordering::Relaxed);
        Stream(Cell::new(splitmix64(
            seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        )))
    }

    /// A uniform `f64` in `[0, 1)` for a one-off draw (the LFU counter increment).
    #[inline]
    pub fn unit(&self) -> f64 {
        if self.is_seeded() {
            self.stream().unit()
        } else {
            thread_stream_unit()
        }
    }
}

/// Random numbers for one operation; see [`Rng::stream`]. Draws through `&self` so closures
/// that both score and pick can share one.
#[derive(Debug)]
pub struct Stream(Cell<u64>);

impl Stream {
    /// A stream starting from `seed` directly (unit tests, fixed sequences).
    pub fn from_seed(seed: u64) -> Self {
        Stream(Cell::new(seed))
    }

    /// The next 64 random bits (wyrand).
    #[inline]
    pub fn next_u64(&self) -> u64 {
        let s = self.0.get().wrapping_add(0xA076_1D64_78BD_642F);
        self.0.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xE703_7ED1_A0B4_28DB);
        ((t >> 64) as u64) ^ (t as u64)
    }

    /// A uniform index in `0..n` (0 when `n` is 0).
    #[inline]
    pub fn below(&self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform `f64` in `[0, 1)`.
    #[inline]
    pub fn unit(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for an unseeded server: the wall clock, the process id and a stack address.
fn entropy() -> u64 {
    let local = 0u8;
    splitmix64(
        crate::clock::system_ms()
            ^ u64::from(std::process::id()).rotate_left(32)
            ^ (&local as *const u8 as u64).rotate_left(17),
    )
}

fn thread_stream_unit() -> f64 {
    thread_local! {
        static STREAM: Stream = Stream::from_seed(entropy());
    }
    STREAM.with(Stream::unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_streams_and_streams_differ() {
        let a = Rng::new(Some(7));
        let b = Rng::new(Some(7));
        let (a1, a2) = (a.stream().next_u64(), a.stream().next_u64());
        let (b1, b2) = (b.stream().next_u64(), b.stream().next_u64());
        assert_eq!((a1, a2), (b1, b2));
        assert_ne!(a1, a2);
        assert!(a.is_seeded());
        assert!(!Rng::new(None).is_seeded());
    }

    #[test]
    fn below_stays_in_range_and_spreads() {
        let s = Stream::from_seed(1);
        let mut seen = [0u32; 10];
        for _ in 0..10_000 {
            seen[s.below(10) as usize] += 1;
        }
        assert!(seen.iter().all(|&n| n > 800), "{seen:?}");
        assert_eq!(s.below(0), 0);
        let u = s.unit();
        assert!((0.0..1.0).contains(&u));
    }
}
