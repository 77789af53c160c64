//! The operator's toolbox, server-wide: per-command statistics (INFO commandstats and
//! latencystats, LATENCY HISTOGRAM, `/metrics`), error statistics (INFO errorstats), the slow
//! log, the latency monitor, MONITOR subscribers and CLIENT PAUSE.
//!
//! # Cost on the request path
//! Every command is counted and timed, so this is paid on every request; it was measured
//! (callgrind on `commands::execute`, redis-benchmark; see `benches/core.rs`) and kept to:
//! - **One clock read per command**, of the CPU's time-stamp counter through `quanta`
//!   (~13 ns here against ~25 ns for `std::time::Instant`, which goes through the vDSO). A
//!   command's time runs from the previous one's end on the same connection — or from the
//!   moment its batch of pipelined requests was read — to its own end, so it includes
//!   parsing it and encoding the previous reply, a few hundred nanoseconds at most. The mark
//!   lives in [`crate::session::Session::stat_mark`]; a command that runs others (EXEC, a
//!   script) puts it back when it is done, so its own time covers theirs (see
//!   `commands::run`).
//! - **No shared writes.** The counters are per thread: each thread that runs commands owns
//!   a [`ThreadStats`] block per server, with one lazily allocated [`RowStats`] per command
//!   row (calls, time, rejected and failed calls, a latency histogram) plus the network byte
//!   counters. Only the owning thread writes it, with a relaxed load and store (no locked
//!   read-modify-write, no cache line bouncing between cores); readers (INFO, `/metrics`,
//!   the once-per-100-ms ops/sec sample) add up every thread's block. A thread finds its
//!   block through a thread-local one-entry cache keyed by the server's id (several servers
//!   live in one test process); blocks are registered once in [`Ops`] and stay until the
//!   server is dropped, so counts of threads that ended are kept. CONFIG RESETSTAT cannot
//!   zero another thread's counters, so it records a baseline that reads subtract.
//! - **The row's id is a field** of the dispatcher's copy of the row
//!   (`CommandSpec::id`, see `commands::table()`), no hashing or search.
//! - **A histogram per row**: four log-linear buckets per power of two of nanoseconds
//!   (16 ns to ~18 min, ±12 %), whose update is a leading-zero count and a shift; INFO
//!   latencystats reads p50/p99/p99.9 from it, as Redis reads its HdrHistogram.
//! - Everything else — the slow log, the latency monitor, MONITOR lines, error statistics —
//!   sits behind one comparison each (duration against the lower of the two thresholds, a
//!   relaxed "monitors exist" load, "the reply is an error") and is `#[cold]`.
//!
//! Net of what it replaced (a shared `fetch_add` per command, CLIENT LIST's metadata lock
//! per command, shared network byte counters per read and write), the toolbox costs ~35
//! instructions per SET and ~20 per GET in `commands::execute`, ≤ 1.7 % over the whole
//! connection path (see `benches/core.rs` for the numbers).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use parking_lot::Mutex;

use crate::session::ClientHandle;

/// Room for every command and subcommand row (a test checks the table fits).
pub const MAX_ROWS: usize = 512;
/// Distinct error codes INFO errorstats tracks, as Redis caps them.
const MAX_ERROR_CODES: usize = 128;
/// Samples kept per latency event (Redis keeps 160).
const LATENCY_SAMPLES: usize = 160;
/// The slow log keeps at most this many arguments of a command…
pub const SLOWLOG_MAX_ARGS: usize = 32;
/// …and this many bytes of each.
pub const SLOWLOG_MAX_ARG_LEN: usize = 128;
/// Smallest and (exclusive) largest power of two of clock ticks the histograms tell apart
/// (at a few GHz: about a nanosecond to over an hour).
const HIST_MIN_EXP: u32 = 2;
const HIST_MAX_EXP: u32 = 44;
/// Histogram buckets per row: four per power of two.
pub const HIST_BUCKETS: usize = ((HIST_MAX_EXP - HIST_MIN_EXP) * 4) as usize;

/// The clock command times are read from: the time-stamp counter, calibrated once per
/// process (~1 ms), or the OS's monotonic clock where there is no usable counter.
#[inline]
fn clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}

/// A raw clock reading: ticks of an unspecified length (see [`ticks_to_nanos`]). The
/// counters add up raw differences; they become nanoseconds only when read.
#[inline]
pub fn ticks() -> u64 {
    clock().raw()
}

/// A duration in ticks (a difference of two [`ticks`] readings) in nanoseconds.
pub fn ticks_to_nanos(ticks: u64) -> u64 {
    clock().delta_as_nanos(0, ticks)
}

/// A duration in nanoseconds in ticks (rounded up), for thresholds.
pub fn nanos_to_ticks(nanos: u64) -> u64 {
    const PROBE: u64 = 1 << 40;
    let probe_ns = u128::from(ticks_to_nanos(PROBE).max(1));
    let t = (u128::from(nanos) * u128::from(PROBE)).div_ceil(probe_ns);
    u64::try_from(t).unwrap_or(u64::MAX)
}

/// Nanoseconds from one raw reading to a later one (0 when `end` is not later, as across
/// cores whose counters disagree slightly).
pub fn nanos_between(start: u64, end: u64) -> u64 {
    ticks_to_nanos(end.saturating_sub(start))
}

/// The histogram bucket of a duration in ticks.
#[inline]
fn bucket(ticks: u64) -> usize {
    // Setting the lowest bit rather than clamping: it only blurs durations under 64 ticks
    // (~20 ns), which no command takes.
    let v = ticks | (1 << HIST_MIN_EXP);
    let e = 63 - v.leading_zeros();
    let i = ((((e - HIST_MIN_EXP) << 2) as u64) | ((v >> (e - 2)) & 3)) as usize;
    i.min(HIST_BUCKETS - 1)
}

/// The longest duration bucket `i` holds, in ticks.
pub fn bucket_high(i: usize) -> u64 {
    let e = i as u32 / 4 + HIST_MIN_EXP;
    let sub = (i % 4) as u64;
    ((5 + sub) << (e - 2)) - 1
}

/// A histogram as LATENCY HISTOGRAM reports it: `(µs, calls so far)` at each power of two
/// of nanoseconds from 1024 where the count grew, the microseconds truncated as Redis prints
/// them. A bucket counts under the first power of two its longest duration fits.
pub fn power_of_two_cdf(hist: &[u64]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let (mut cumulative, mut reported) = (0u64, 0u64);
    let mut limit = 1024u64;
    for (i, n) in hist.iter().enumerate() {
        if *n == 0 {
            continue;
        }
        while ticks_to_nanos(bucket_high(i)) > limit {
            if cumulative > reported {
                out.push((limit / 1000, cumulative));
                reported = cumulative;
            }
            limit *= 2;
        }
        cumulative += n;
    }
    if cumulative > reported {
        out.push((limit / 1000, cumulative));
    }
    out
}

/// One command row's counters in one thread's block. Written only by that thread.
#[derive(Debug)]
pub struct RowStats {
    calls: AtomicU64,
    /// Time in ticks.
    ticks: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
    hist: [AtomicU64; HIST_BUCKETS],
}

impl Default for RowStats {
    fn default() -> Self {
        RowStats {
            calls: AtomicU64::new(0),
            ticks: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            hist: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// Adds `n` to a counter only this thread writes: a relaxed load and store, which readers
/// on other threads may see a little late but never torn.
#[inline(always)]
fn bump(a: &AtomicU64, n: u64) {
    a.store(a.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

/// One thread's counters for one server.
#[derive(Debug)]
pub struct ThreadStats {
    rows: Box<[OnceLock<Box<RowStats>>]>,
    net_in: AtomicU64,
    net_out: AtomicU64,
    reads: AtomicU64,
    writes: AtomicU64,
}

impl ThreadStats {
    fn new() -> Self {
        ThreadStats {
            rows: (0..MAX_ROWS).map(|_| OnceLock::new()).collect(),
            net_in: AtomicU64::new(0),
            net_out: AtomicU64::new(0),
            reads: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        }
    }

    #[inline]
    fn row(&self, id: usize) -> Option<&RowStats> {
        Some(self.rows.get(id)?.get_or_init(Box::default))
    }
}

thread_local! {
    /// This thread's block for the server it ran a command for last: `(server id, block)`.
    /// The block is kept alive by `HELD` (and by the server's list).
    static CACHED: Cell<(u64, *const ThreadStats)> = const { Cell::new((0, std::ptr::null())) };
    /// Every block this thread owns, with its server's id.
    static HELD: RefCell<Vec<(u64, Arc<ThreadStats>)>> = const { RefCell::new(Vec::new()) };
}

/// Sums of a row's counters over every thread.
#[derive(Debug, Clone, Default)]
pub struct RowTotals {
    /// Calls that ran (INFO commandstats `calls`).
    pub calls: u64,
    /// Time in ticks (see [`RowTotals::nanos`]).
    pub ticks: u64,
    /// Calls refused before running: arity, NOAUTH, OOM… (`rejected_calls`).
    pub rejected: u64,
    /// Calls that ran and answered an error (`failed_calls`).
    pub failed: u64,
    /// Empty unless asked for.
    pub hist: Vec<u64>,
}

impl RowTotals {
    fn minus(&mut self, base: &RowTotals) {
        self.calls = self.calls.saturating_sub(base.calls);
        self.ticks = self.ticks.saturating_sub(base.ticks);
        self.rejected = self.rejected.saturating_sub(base.rejected);
        self.failed = self.failed.saturating_sub(base.failed);
        for (h, b) in self.hist.iter_mut().zip(&base.hist) {
            *h = h.saturating_sub(*b);
        }
    }

    /// Time spent in the row's calls, in nanoseconds.
    pub fn nanos(&self) -> u64 {
        ticks_to_nanos(self.ticks)
    }

    /// Whether the row was ever called or refused.
    pub fn is_empty(&self) -> bool {
        self.calls == 0 && self.rejected == 0 && self.failed == 0
    }

    /// The duration (ns) below which `pct` percent of the calls fall, read from the
    /// histogram as the longest duration of the bucket that reaches it (0 without calls).
    pub fn percentile(&self, pct: f64) -> u64 {
        let total: u64 = self.hist.iter().sum();
        if total == 0 {
            return 0;
        }
        let want = ((pct / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.hist.iter().enumerate() {
            seen += n;
            if seen >= want {
                return ticks_to_nanos(bucket_high(i));
            }
        }
        ticks_to_nanos(bucket_high(HIST_BUCKETS - 1))
    }
}

/// Server-wide network counts: bytes, and socket reads and writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct NetTotals {
    /// Bytes read from clients (`total_net_input_bytes`).
    pub input: u64,
    /// Bytes written to clients (`total_net_output_bytes`).
    pub output: u64,
    /// Socket reads (`total_reads_processed`).
    pub reads: u64,
    /// Socket writes (`total_writes_processed`).
    pub writes: u64,
}

/// Everything CONFIG RESETSTAT zeroes, as read at the reset.
#[derive(Debug, Default)]
struct Baseline {
    rows: HashMap<usize, RowTotals>,
    net: NetTotals,
}

/// The next server id (0 is "none" in the thread-local cache).
static NEXT_SERVER: AtomicU64 = AtomicU64::new(1);

/// The counters of one server (see the module docs).
#[derive(Debug)]
pub struct Stats {
    server: u64,
    /// Every thread's block. Never shrinks while the server lives: [`Stats::local`] hands
    /// out references into these blocks on that guarantee.
    threads: Mutex<Vec<Arc<ThreadStats>>>,
    base: Mutex<Baseline>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            server: NEXT_SERVER.fetch_add(1, Ordering::Relaxed),
            threads: Mutex::new(Vec::new()),
            base: Mutex::new(Baseline::default()),
        }
    }
}

impl Stats {
    /// The calling thread's block for this server.
    #[inline]
    pub fn local(&self) -> &ThreadStats {
        let (server, block) = CACHED.get();
        if server == self.server {
            // SAFETY: `block` came from an `Arc` this server's `threads` list holds (see
            // `register`), which is never shrunk while `self` lives, so it outlives `&self`.
            return unsafe { &*block };
        }
        self.register()
    }

    #[cold]
    fn register(&self) -> &ThreadStats {
        let held = HELD.try_with(|held| {
            let mut held = held.borrow_mut();
            if let Some((_, b)) = held.iter().find(|(s, _)| *s == self.server) {
                return b.clone();
            }
            // Blocks of servers that are gone (only this thread still holds them).
            held.retain(|(_, b)| Arc::strong_count(b) > 1);
            let b = Arc::new(ThreadStats::new());
            self.threads.lock().push(b.clone());
            held.push((self.server, b.clone()));
            b
        });
        let block = match held {
            Ok(b) => {
                CACHED.set((self.server, Arc::as_ptr(&b)));
                b
            }
            Err(_) => {
                // The thread is exiting (its thread-locals are gone): a block of its own,
                // not cached, still counted.
                let b = Arc::new(ThreadStats::new());
                self.threads.lock().push(b.clone());
                b
            }
        };
        // SAFETY: as in `local`: `threads` holds this block for as long as `self` lives.
        unsafe { &*Arc::as_ptr(&block) }
    }

    /// Counts a call of row `id` that took `ticks`.
    #[inline]
    pub fn record_call(&self, id: usize, ticks: u64, failed: bool) {
        if let Some(r) = self.local().row(id) {
            bump(&r.calls, 1);
            bump(&r.ticks, ticks);
            bump(&r.hist[bucket(ticks)], 1);
            if failed {
                bump(&r.failed, 1);
            }
        }
    }

    /// Counts a command refused before it ran (arity, NOAUTH, OOM, not allowed now).
    pub fn record_rejected(&self, id: usize) {
        if let Some(r) = self.local().row(id) {
            bump(&r.rejected, 1);
        }
    }

    /// Counts one read of `n` bytes from a client.
    #[inline]
    pub fn net_input(&self, n: u64) {
        let t = self.local();
        bump(&t.net_in, n);
        bump(&t.reads, 1);
    }

    /// Counts one write of `n` bytes to a client.
    #[inline]
    pub fn net_output(&self, n: u64) {
        let t = self.local();
        bump(&t.net_out, n);
        bump(&t.writes, 1);
    }

    fn raw_rows(&self, hist: bool) -> Vec<RowTotals> {
        let mut out = vec![
            RowTotals {
                hist: if hist {
                    vec![0; HIST_BUCKETS]
                } else {
                    Vec::new()
                },
                ..RowTotals::default()
            };
            MAX_ROWS
        ];
        for t in self.threads.lock().iter() {
            for (o, r) in out.iter_mut().zip(t.rows.iter()) {
                let Some(r) = r.get() else { continue };
                let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
                o.calls += load(&r.calls);
                o.ticks += load(&r.ticks);
                o.rejected += load(&r.rejected);
                o.failed += load(&r.failed);
                for (h, c) in o.hist.iter_mut().zip(r.hist.iter()) {
                    *h += load(c);
                }
            }
        }
        out
    }

    /// Every row's totals by id (histograms too when `hist`), since the last reset.
    pub fn rows(&self, hist: bool) -> Vec<RowTotals> {
        let mut rows = self.raw_rows(hist);
        for (id, b) in self.base.lock().rows.iter() {
            if let Some(r) = rows.get_mut(*id) {
                r.minus(b);
            }
        }
        rows
    }

    /// Commands run since the last reset (INFO `total_commands_processed`): the sum of
    /// every row's calls, read without building the rows (the ops/sec sampler reads it ten
    /// times a second).
    pub fn total_calls(&self) -> u64 {
        let mut n = 0u64;
        for t in self.threads.lock().iter() {
            for r in t.rows.iter().filter_map(OnceLock::get) {
                n = n.wrapping_add(r.calls.load(Ordering::Relaxed));
            }
        }
        let base: u64 = self.base.lock().rows.values().map(|r| r.calls).sum();
        n.saturating_sub(base)
    }

    fn raw_net(&self) -> NetTotals {
        let mut n = NetTotals::default();
        for t in self.threads.lock().iter() {
            n.input += t.net_in.load(Ordering::Relaxed);
            n.output += t.net_out.load(Ordering::Relaxed);
            n.reads += t.reads.load(Ordering::Relaxed);
            n.writes += t.writes.load(Ordering::Relaxed);
        }
        n
    }

    /// Network bytes since the last reset.
    pub fn net(&self) -> NetTotals {
        let n = self.raw_net();
        let b = self.base.lock().net;
        NetTotals {
            input: n.input.saturating_sub(b.input),
            output: n.output.saturating_sub(b.output),
            reads: n.reads.saturating_sub(b.reads),
            writes: n.writes.saturating_sub(b.writes),
        }
    }

    /// CONFIG RESETSTAT: from now on reads count from the current values.
    pub fn reset(&self) {
        let rows = self.raw_rows(true);
        let net = self.raw_net();
        let mut base = self.base.lock();
        base.rows = rows
            .into_iter()
            .enumerate()
            .filter(|(_, r)| !r.is_empty())
            .collect();
        base.net = net;
    }
}

/// One slow-log entry.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    /// The entry's unique, increasing id.
    pub id: u64,
    /// When the command ran, Unix seconds.
    pub time: u64,
    /// How long it ran, microseconds.
    pub usec: u64,
    /// Its arguments, shortened as [`slowlog_argv`] says.
    pub argv: Vec<Bytes>,
    /// The client's address, `ip:port`.
    pub addr: String,
    /// The client's name (CLIENT SETNAME), empty when unset.
    pub name: Bytes,
}

#[derive(Debug, Default)]
struct SlowLog {
    /// Newest first.
    entries: VecDeque<SlowEntry>,
    next_id: u64,
}

/// One latency event's samples (`LATENCY HISTORY`) and its maximum.
#[derive(Debug, Clone)]
pub struct LatencySeries {
    /// `(unix seconds, ms)`, a ring of [`LATENCY_SAMPLES`]; time 0 = unused.
    samples: Vec<(u64, u64)>,
    idx: usize,
    /// The highest sample, ms.
    pub max: u64,
}

impl LatencySeries {
    fn new() -> Self {
        LatencySeries {
            samples: vec![(0, 0); LATENCY_SAMPLES],
            idx: 0,
            max: 0,
        }
    }

    fn add(&mut self, now_s: u64, ms: u64) {
        self.max = self.max.max(ms);
        let prev = (self.idx + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES;
        if self.samples[prev].0 == now_s {
            // One sample per second: the worst of that second.
            self.samples[prev].1 = self.samples[prev].1.max(ms);
            return;
        }
        self.samples[self.idx] = (now_s, ms);
        self.idx = (self.idx + 1) % LATENCY_SAMPLES;
    }

    /// Samples oldest first.
    pub fn history(&self) -> Vec<(u64, u64)> {
        (0..LATENCY_SAMPLES)
            .map(|i| self.samples[(self.idx + i) % LATENCY_SAMPLES])
            .filter(|s| s.0 != 0)
            .collect()
    }

    /// The newest sample.
    pub fn latest(&self) -> (u64, u64) {
        self.samples[(self.idx + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES]
    }
}

/// CLIENT PAUSE state.
#[derive(Debug, Default)]
pub struct Pause {
    /// Unix ms the pause ends at; 0 = not paused (the one load the request path pays).
    end_ms: AtomicU64,
    /// Whether everything is paused (ALL) rather than writes only.
    all: std::sync::atomic::AtomicBool,
    /// Woken by CLIENT UNPAUSE (and a new, longer pause).
    pub changed: tokio::sync::Notify,
}

impl Pause {
    /// Whether some pause may be in force (cheap: one relaxed load).
    #[inline]
    pub fn maybe_active(&self) -> bool {
        self.end_ms.load(Ordering::Relaxed) != 0
    }

    /// The pause in force at `now_ms`: `Some((end_ms, all))`.
    pub fn current(&self, now_ms: u64) -> Option<(u64, bool)> {
        let end = self.end_ms.load(Ordering::Acquire);
        (end > now_ms).then(|| (end, self.all.load(Ordering::Acquire)))
    }

    /// CLIENT PAUSE: the later end and the stricter mode win, as in Redis.
    pub fn pause(&self, end_ms: u64, all: bool, now_ms: u64) {
        if self.end_ms.load(Ordering::Acquire) <= now_ms {
            // A pause that already ended does not make the new one stricter.
            self.all.store(false, Ordering::Release);
        }
        if all {
            self.all.store(true, Ordering::Release);
        }
        self.end_ms.fetch_max(end_ms, Ordering::AcqRel);
        self.changed.notify_waiters();
    }

    /// CLIENT UNPAUSE.
    pub fn unpause(&self) {
        self.end_ms.store(0, Ordering::Release);
        self.all.store(false, Ordering::Release);
        self.changed.notify_waiters();
    }
}

/// The toolbox's state; one per server, in [`crate::shared::Shared`].
#[derive(Debug)]
pub struct Ops {
    /// Per-command and network counters (per thread; see the module docs).
    pub stats: Stats,
    errors: Mutex<BTreeMap<String, u64>>,
    /// `total_error_replies`.
    pub error_replies: AtomicU64,
    slowlog: Mutex<SlowLog>,
    /// `slowlog-log-slower-than` (µs; negative: off) and `slowlog-max-len`, copied here by
    /// `Shared::apply_config`.
    pub slow_threshold: AtomicI64,
    /// `slowlog-max-len`: entries kept.
    pub slow_max: AtomicU64,
    /// `latency-monitor-threshold` (ms; 0: off).
    pub latency_threshold: AtomicU64,
    /// The shorter of the two thresholds above, in ticks (`u64::MAX` when both are off)…
    slow_ticks: AtomicU64,
    /// …or 0 while MONITOR clients exist: the one comparison the request path makes for the
    /// slow log, the latency monitor and MONITOR ([`Ops::watched`]).
    watch_ticks: AtomicU64,
    latency: Mutex<BTreeMap<&'static str, LatencySeries>>,
    /// MONITOR clients; `monitoring` is what the request path reads.
    monitors: Mutex<Vec<Arc<ClientHandle>>>,
    monitoring: AtomicBool,
    monitor_count: AtomicUsize,
    /// CLIENT PAUSE / UNPAUSE state.
    pub pause: Pause,
    /// Unix seconds of the last successful save (LASTSAVE): the start time until there is one.
    pub lastsave: AtomicU64,
    /// DEBUG SET-ACTIVE-EXPIRE: whether the background expiry cycle runs.
    pub active_expire: AtomicBool,
}

impl Ops {
    /// Fresh state for a server started at `now_ms` (LASTSAVE starts there).
    pub fn new(now_ms: u64) -> Self {
        Ops {
            stats: Stats::default(),
            errors: Mutex::new(BTreeMap::new()),
            error_replies: AtomicU64::new(0),
            slowlog: Mutex::new(SlowLog::default()),
            slow_threshold: AtomicI64::new(10_000),
            slow_max: AtomicU64::new(128),
            latency_threshold: AtomicU64::new(0),
            slow_ticks: AtomicU64::new(u64::MAX),
            watch_ticks: AtomicU64::new(u64::MAX),
            latency: Mutex::new(BTreeMap::new()),
            monitors: Mutex::new(Vec::new()),
            monitoring: AtomicBool::new(false),
            monitor_count: AtomicUsize::new(0),
            pause: Pause::default(),
            lastsave: AtomicU64::new(now_ms / 1000),
            active_expire: AtomicBool::new(true),
        }
    }

    /// Applies `slowlog-log-slower-than`, `slowlog-max-len` and `latency-monitor-threshold`.
    pub fn configure(&self, slower_than_us: i64, max_len: u64, latency_ms: u64) {
        self.slow_threshold.store(slower_than_us, Ordering::Relaxed);
        self.slow_max.store(max_len, Ordering::Relaxed);
        self.latency_threshold.store(latency_ms, Ordering::Relaxed);
        let slow = u64::try_from(slower_than_us).map_or(u64::MAX, |us| us.saturating_mul(1000));
        let latency = if latency_ms == 0 {
            u64::MAX
        } else {
            latency_ms.saturating_mul(1_000_000)
        };
        let ns = slow.min(latency);
        let ticks = if ns == u64::MAX {
            u64::MAX
        } else {
            nanos_to_ticks(ns)
        };
        self.slow_ticks.store(ticks, Ordering::Relaxed);
        self.update_watch();
        self.slowlog_trim();
    }

    fn update_watch(&self) {
        let w = if self.monitoring.load(Ordering::Relaxed) {
            0
        } else {
            self.slow_ticks.load(Ordering::Relaxed)
        };
        self.watch_ticks.store(w, Ordering::Relaxed);
    }

    /// Whether a command that took `ticks` needs a closer look: it may belong in the slow
    /// log or the latency monitor ([`Ops::is_slow`] and [`Ops::latency_sample`] decide), or
    /// MONITOR clients exist. One relaxed load.
    #[inline]
    pub fn watched(&self, ticks: u64) -> bool {
        ticks >= self.watch_ticks.load(Ordering::Relaxed)
    }

    /// Counts an error reply under its code (the text's first word, `ERR` when there is no
    /// space in its first 32 bytes).
    pub fn record_error(&self, text: &str) {
        self.error_replies.fetch_add(1, Ordering::Relaxed);
        let code = error_code(text);
        let mut errors = self.errors.lock();
        if let Some(n) = errors.get_mut(code) {
            *n += 1;
        } else if errors.len() < MAX_ERROR_CODES {
            errors.insert(code.to_string(), 1);
        }
    }

    /// `(code, count)` in code order (INFO errorstats).
    pub fn error_stats(&self) -> Vec<(String, u64)> {
        self.errors
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// CONFIG RESETSTAT's part: command, network and error statistics.
    pub fn reset_stats(&self) {
        self.stats.reset();
        self.errors.lock().clear();
        self.error_replies.store(0, Ordering::Relaxed);
    }

    /// Whether a command that took `usec` belongs in the slow log.
    #[inline]
    pub fn is_slow(&self, usec: u64) -> bool {
        let t = self.slow_threshold.load(Ordering::Relaxed);
        t >= 0 && usec >= t as u64
    }

    /// Adds an entry (argv trimmed as Redis does), dropping the oldest past `slowlog-max-len`.
    pub fn slowlog_push(&self, argv: &[Bytes], usec: u64, now_s: u64, addr: &str, name: Bytes) {
        let argv = slowlog_argv(argv);
        let max = self.slow_max.load(Ordering::Relaxed) as usize;
        let mut log = self.slowlog.lock();
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(SlowEntry {
            id,
            time: now_s,
            usec,
            argv,
            addr: addr.to_string(),
            name,
        });
        log.entries.truncate(max);
    }

    /// The newest `count` entries (all for `None`).
    pub fn slowlog_get(&self, count: Option<usize>) -> Vec<SlowEntry> {
        let log = self.slowlog.lock();
        let n = count.unwrap_or(usize::MAX).min(log.entries.len());
        log.entries.iter().take(n).cloned().collect()
    }

    /// The number of slow-log entries (SLOWLOG LEN).
    pub fn slowlog_len(&self) -> usize {
        self.slowlog.lock().entries.len()
    }

    /// Empties the slow log (SLOWLOG RESET).
    pub fn slowlog_reset(&self) {
        self.slowlog.lock().entries.clear();
    }

    /// Applies a lowered `slowlog-max-len` at once.
    pub fn slowlog_trim(&self) {
        let max = self.slow_max.load(Ordering::Relaxed) as usize;
        self.slowlog.lock().entries.truncate(max);
    }

    /// Records a latency sample for `event` when the monitor is on and `ms` reaches the
    /// threshold.
    #[inline]
    pub fn latency_sample(&self, event: &'static str, ms: u64, now_s: u64) {
        let t = self.latency_threshold.load(Ordering::Relaxed);
        if t > 0 && ms >= t {
            self.latency
                .lock()
                .entry(event)
                .or_insert_with(LatencySeries::new)
                .add(now_s, ms);
        }
    }

    /// Every event's series, by name.
    pub fn latency_events(&self) -> Vec<(&'static str, LatencySeries)> {
        self.latency
            .lock()
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }

    /// LATENCY RESET: the named events (every one when empty); how many were reset.
    pub fn latency_reset(&self, events: &[Bytes]) -> usize {
        let mut l = self.latency.lock();
        if events.is_empty() {
            let n = l.len();
            l.clear();
            return n;
        }
        let mut n = 0;
        for e in events {
            let name = String::from_utf8_lossy(e);
            if l.remove(name.as_ref()).is_some() {
                n += 1;
            }
        }
        n
    }

    /// Whether any client is in MONITOR mode (one relaxed load).
    #[inline]
    pub fn has_monitors(&self) -> bool {
        self.monitoring.load(Ordering::Relaxed)
    }

    /// How many clients are in MONITOR mode.
    pub fn monitor_count(&self) -> usize {
        self.monitor_count.load(Ordering::Relaxed)
    }

    /// Adds a MONITOR client: every command is fed to it from now on.
    pub fn add_monitor(&self, c: Arc<ClientHandle>) {
        let mut m = self.monitors.lock();
        m.push(c);
        self.monitor_count.store(m.len(), Ordering::Relaxed);
        self.monitoring.store(true, Ordering::Relaxed);
        self.update_watch();
    }

    /// Removes the MONITOR client with id `id` (it left or closed).
    pub fn remove_monitor(&self, id: u64) {
        let mut m = self.monitors.lock();
        m.retain(|c| c.id != id);
        self.monitor_count.store(m.len(), Ordering::Relaxed);
        self.monitoring.store(!m.is_empty(), Ordering::Relaxed);
        self.update_watch();
    }

    /// Sends one MONITOR line to every monitor (through their outboxes).
    pub fn feed_monitors(&self, line: Bytes, policy: &crate::session::OutputPolicy) {
        let monitors = self.monitors.lock().clone();
        for m in monitors {
            m.push(crate::session::Outbound::Frame(line.clone()), policy);
        }
    }
}

/// The error code INFO errorstats files an error under.
pub fn error_code(text: &str) -> &str {
    let head = &text.as_bytes()[..text.len().min(32)];
    match head.iter().position(|&b| b == b' ') {
        Some(i) if i > 0 => &text[..i],
        _ => "ERR",
    }
}

/// A command's arguments as the slow log keeps them: at most [`SLOWLOG_MAX_ARGS`] (the last
/// kept one then says how many more there were) and [`SLOWLOG_MAX_ARG_LEN`] bytes each (a
/// longer one ends with how many more bytes it had).
pub fn slowlog_argv(argv: &[Bytes]) -> Vec<Bytes> {
    let n = argv.len().min(SLOWLOG_MAX_ARGS);
    let mut out = Vec::with_capacity(n);
    for (j, a) in argv.iter().take(n).enumerate() {
        if n != argv.len() && j == n - 1 {
            out.push(Bytes::from(format!(
                "... ({} more arguments)",
                argv.len() - n + 1
            )));
        } else if a.len() > SLOWLOG_MAX_ARG_LEN {
            let mut v = a[..SLOWLOG_MAX_ARG_LEN].to_vec();
            v.extend_from_slice(
                format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_ARG_LEN).as_bytes(),
            );
            out.push(Bytes::from(v));
        } else {
            out.push(a.clone());
        }
    }
    out
}

/// Appends `s` quoted and escaped as Redis's `sdscatrepr` does: `"…"` with `\\ \" \n \r \t
/// \a \b` escaped, other printable ASCII as is, everything else as `\xNN`.
pub fn repr_into(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            b' '..=b'~' => out.push(b),
            _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// Which arguments MONITOR and the slow log must not show (passwords): AUTH's, and HELLO's
/// after its AUTH option, as Redis redacts them.
pub fn redacted(argv: &[Bytes]) -> Option<Vec<Bytes>> {
    const R: Bytes = Bytes::from_static(b"(redacted)");
    let name = argv.first()?;
    if name.eq_ignore_ascii_case(b"auth") {
        let mut v = argv.to_vec();
        for a in v.iter_mut().skip(1).take(2) {
            *a = R;
        }
        return Some(v);
    }
    if name.eq_ignore_ascii_case(b"hello") && argv.len() > 2 {
        let mut v = argv.to_vec();
        let mut j = 2;
        while j < v.len() {
            let more = v.len() - j - 1;
            if v[j].eq_ignore_ascii_case(b"auth") && more >= 2 {
                v[j + 1] = R;
                v[j + 2] = R;
                j += 3;
            } else if v[j].eq_ignore_ascii_case(b"setname") && more >= 1 {
                j += 2;
            } else {
                break;
            }
        }
        return Some(v);
    }
    None
}

/// One MONITOR line, as a RESP simple string: `+<secs>.<micros> [<db> <addr>] "arg" …`.
pub fn monitor_line(unix_micros: u64, db: usize, addr: &str, argv: &[Bytes]) -> Bytes {
    let mut out = Vec::with_capacity(64 + argv.iter().map(|a| a.len() + 3).sum::<usize>());
    out.extend_from_slice(
        format!(
            "+{}.{:06} [{} {}] ",
            unix_micros / 1_000_000,
            unix_micros % 1_000_000,
            db,
            addr
        )
        .as_bytes(),
    );
    for (i, a) in argv.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        repr_into(&mut out, a);
    }
    out.extend_from_slice(b"\r\n");
    Bytes::from(out)
}

/// Wall-clock microseconds (MONITOR timestamps, TIME).
pub fn unix_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Bytes {
        Bytes::from(s.to_string())
    }

    #[test]
    fn slowlog_keeps_32_args_and_128_bytes_each() {
        let argv: Vec<Bytes> = (0..40).map(|i| b(&i.to_string())).collect();
        let t = slowlog_argv(&argv);
        assert_eq!(t.len(), 32);
        assert_eq!(t[30], b("30"));
        assert_eq!(t[31], b("... (9 more arguments)"));
        let exact: Vec<Bytes> = (0..32).map(|i| b(&i.to_string())).collect();
        assert_eq!(slowlog_argv(&exact), exact);
        let long = Bytes::from(vec![b'x'; 200]);
        let t = slowlog_argv(&[b("set"), b("k"), long]);
        assert_eq!(
            t[2],
            Bytes::from(format!("{}... (72 more bytes)", "x".repeat(128)))
        );
        let just = Bytes::from(vec![b'y'; 128]);
        assert_eq!(slowlog_argv(std::slice::from_ref(&just))[0], just);
    }

    #[test]
    fn monitor_lines_quote_as_sdscatrepr() {
        let line = monitor_line(
            1_700_000_000_000_042,
            3,
            "127.0.0.1:5000",
            &[
                b("set"),
                b("k"),
                Bytes::from_static(b"a\x00b\"\\\n\r\t\x07\x08\xff \xc3\xa9"),
            ],
        );
        assert_eq!(
            &line[..],
            &b"+1700000000.000042 [3 127.0.0.1:5000] \"set\" \"k\" \"a\\x00b\\\"\\\\\\n\\r\\t\\a\\b\\xff \\xc3\\xa9\"\r\n"[..]
        );
    }

    #[test]
    fn auth_and_hello_passwords_are_redacted() {
        let r = redacted(&[b("AUTH"), b("user"), b("pw")]).unwrap();
        assert_eq!(r, vec![b("AUTH"), b("(redacted)"), b("(redacted)")]);
        let r = redacted(&[
            b("hello"),
            b("3"),
            b("setname"),
            b("n"),
            b("AUTH"),
            b("u"),
            b("p"),
        ])
        .unwrap();
        assert_eq!(r[3], b("n"));
        assert_eq!(&r[5..], &[b("(redacted)"), b("(redacted)")]);
        assert!(redacted(&[b("get"), b("k")]).is_none());
    }

    #[test]
    fn error_codes_are_the_first_word() {
        assert_eq!(error_code("ERR wrong"), "ERR");
        assert_eq!(error_code("WRONGTYPE Operation"), "WRONGTYPE");
        assert_eq!(error_code("NOSPACEHERE"), "ERR");
    }

    #[test]
    fn latency_keeps_the_worst_sample_of_each_second() {
        let mut s = LatencySeries::new();
        s.add(10, 5);
        s.add(10, 7);
        s.add(10, 3);
        s.add(11, 2);
        assert_eq!(s.history(), vec![(10, 7), (11, 2)]);
        assert_eq!((s.latest(), s.max), ((11, 2), 7));
    }

    #[test]
    fn histogram_buckets_are_log_linear_and_cover_their_values() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(4), 0);
        assert_eq!(bucket(64), 16);
        assert_eq!(bucket(79), 16);
        assert_eq!(bucket(80), 17);
        assert_eq!(bucket(127), 19);
        assert_eq!(bucket(128), 20);
        assert_eq!(bucket(u64::MAX), HIST_BUCKETS - 1);
        for v in (64..100_000u64).chain([1 << 30, (1 << 30) + 12345, (1 << 44) - 1]) {
            let b = bucket(v);
            assert!(v <= bucket_high(b), "{v} in {b}");
            assert!(b < HIST_BUCKETS - 1 || v >= 1 << (HIST_MAX_EXP - 1));
            assert!(b == 0 || v > bucket_high(b - 1), "{v} in {b}");
        }
    }

    #[test]
    fn counters_add_up_over_threads_and_reset_to_a_baseline() {
        let stats = Arc::new(Stats::default());
        stats.record_call(3, 1500, false);
        stats.record_call(3, 900, true);
        stats.record_rejected(3);
        stats.net_input(10);
        let s2 = stats.clone();
        std::thread::spawn(move || {
            s2.record_call(3, 2000, false);
            s2.net_output(7);
        })
        .join()
        .unwrap();
        // A second server in the same threads keeps its own counts.
        let other = Stats::default();
        other.record_call(3, 5, false);
        let rows = stats.rows(true);
        let r = &rows[3];
        assert_eq!((r.calls, r.ticks, r.failed, r.rejected), (3, 4400, 1, 1));
        assert_eq!(r.hist.iter().sum::<u64>(), 3);
        assert_eq!(stats.total_calls(), 3);
        assert_eq!((stats.net().input, stats.net().output), (10, 7));
        assert_eq!(other.total_calls(), 1);
        stats.reset();
        assert_eq!(stats.total_calls(), 0);
        assert_eq!(stats.net().input, 0);
        stats.record_call(3, 100, false);
        assert_eq!(stats.rows(false)[3].calls, 1);
        assert_eq!(other.total_calls(), 1);
    }

    #[test]
    fn percentiles_come_from_the_histogram() {
        let stats = Stats::default();
        let t = |ns| nanos_to_ticks(ns);
        for _ in 0..98 {
            stats.record_call(0, t(1000), false);
        }
        stats.record_call(0, t(50_000), false);
        stats.record_call(0, t(2_000_000), false);
        let r = &stats.rows(true)[0];
        // Bucket bounds are within 25 % (and tick/ns rounding within a few ns).
        let near = |got: u64, want: u64| got + 5 >= want && got <= want + want / 4 + 5;
        let p50 = r.percentile(50.0);
        assert!(near(p50, 1000), "{p50}");
        let p99 = r.percentile(99.0);
        assert!(near(p99, 50_000), "{p99}");
        let p999 = r.percentile(99.9);
        assert!(near(p999, 2_000_000), "{p999}");
        assert_eq!(RowTotals::default().percentile(50.0), 0);
    }
}
