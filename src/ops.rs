//! The operator's toolbox, server-wide: per-command statistics (INFO commandstats), error
//! statistics (INFO errorstats), the slow log, the latency monitor, MONITOR subscribers and
//! CLIENT PAUSE.
//!
//! # Cost on the request path
//! [`crate::commands::run`] times every command with two reads of the monotonic clock and
//! then calls [`Ops::record`]: two relaxed `fetch_add`s into a table indexed by the row's
//! dense id (no hashing), plus relaxed loads of the slow-log threshold, the latency threshold
//! and the MONITOR count. Everything else (formatting an entry, a MONITOR line, taking a
//! mutex) happens only when one of those says it is wanted.
//!
//! The row id comes from [`crate::commands::command_id`]; this module only needs a bound on
//! it ([`MAX_ROWS`]), so `shared` stays below `commands`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

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
/// Histogram buckets per command: power-of-two nanosecond ranges from 1024 ns up.
pub const HIST_BUCKETS: usize = 40;

/// One command row's counters.
#[derive(Debug)]
pub struct CmdStat {
    pub calls: AtomicU64,
    pub usec: AtomicU64,
    pub rejected: AtomicU64,
    pub failed: AtomicU64,
    /// Latency histogram: bucket `i` counts calls that took at most `1024 << i` ns.
    pub hist: [AtomicU64; HIST_BUCKETS],
}

impl Default for CmdStat {
    fn default() -> Self {
        CmdStat {
            calls: AtomicU64::new(0),
            usec: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            hist: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// One slow-log entry.
#[derive(Debug, Clone)]
pub struct SlowEntry {
    pub id: u64,
    pub time: u64,
    pub usec: u64,
    pub argv: Vec<Bytes>,
    pub addr: String,
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
    cmd: Box<[CmdStat]>,
    errors: Mutex<BTreeMap<String, u64>>,
    /// `total_error_replies`.
    pub error_replies: AtomicU64,
    slowlog: Mutex<SlowLog>,
    /// `slowlog-log-slower-than` (µs; negative: off) and `slowlog-max-len`, copied here by
    /// `Shared::apply_config`.
    pub slow_threshold: AtomicI64,
    pub slow_max: AtomicU64,
    /// `latency-monitor-threshold` (ms; 0: off).
    pub latency_threshold: AtomicU64,
    latency: Mutex<BTreeMap<&'static str, LatencySeries>>,
    /// MONITOR clients; `monitor_count` is what the request path reads.
    monitors: Mutex<Vec<Arc<ClientHandle>>>,
    monitor_count: AtomicUsize,
    pub pause: Pause,
    /// Unix seconds of the last successful save (LASTSAVE): the start time until there is one.
    pub lastsave: AtomicU64,
    /// DEBUG SET-ACTIVE-EXPIRE: whether the background expiry cycle runs.
    pub active_expire: std::sync::atomic::AtomicBool,
}

impl Ops {
    pub fn new(now_ms: u64) -> Self {
        Ops {
            cmd: (0..MAX_ROWS).map(|_| CmdStat::default()).collect(),
            errors: Mutex::new(BTreeMap::new()),
            error_replies: AtomicU64::new(0),
            slowlog: Mutex::new(SlowLog::default()),
            slow_threshold: AtomicI64::new(10_000),
            slow_max: AtomicU64::new(128),
            latency_threshold: AtomicU64::new(0),
            latency: Mutex::new(BTreeMap::new()),
            monitors: Mutex::new(Vec::new()),
            monitor_count: AtomicUsize::new(0),
            pause: Pause::default(),
            lastsave: AtomicU64::new(now_ms / 1000),
            active_expire: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// The counters of row `id` (see [`crate::commands::command_id`]).
    #[inline]
    pub fn stat(&self, id: usize) -> Option<&CmdStat> {
        self.cmd.get(id)
    }

    /// Counts a call of row `id` that took `nanos`.
    #[inline]
    pub fn record_call(&self, id: usize, nanos: u64, failed: bool) {
        if let Some(s) = self.cmd.get(id) {
            s.calls.fetch_add(1, Ordering::Relaxed);
            s.usec.fetch_add(nanos / 1000, Ordering::Relaxed);
            let bucket = (64 - ((nanos.max(1) - 1) | 1023).leading_zeros() as usize)
                .saturating_sub(10)
                .min(HIST_BUCKETS - 1);
            s.hist[bucket].fetch_add(1, Ordering::Relaxed);
            if failed {
                s.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Counts a command refused before it ran (arity, NOAUTH, not allowed in this state).
    pub fn record_rejected(&self, id: Option<usize>) {
        if let Some(s) = id.and_then(|id| self.cmd.get(id)) {
            s.rejected.fetch_add(1, Ordering::Relaxed);
        }
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

    /// CONFIG RESETSTAT's part: command and error statistics.
    pub fn reset_stats(&self) {
        for s in self.cmd.iter() {
            s.calls.store(0, Ordering::Relaxed);
            s.usec.store(0, Ordering::Relaxed);
            s.rejected.store(0, Ordering::Relaxed);
            s.failed.store(0, Ordering::Relaxed);
            for h in &s.hist {
                h.store(0, Ordering::Relaxed);
            }
        }
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

    pub fn slowlog_len(&self) -> usize {
        self.slowlog.lock().entries.len()
    }

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
        self.monitor_count.load(Ordering::Relaxed) > 0
    }

    pub fn add_monitor(&self, c: Arc<ClientHandle>) {
        let mut m = self.monitors.lock();
        m.push(c);
        self.monitor_count.store(m.len(), Ordering::Relaxed);
    }

    pub fn remove_monitor(&self, id: u64) {
        let mut m = self.monitors.lock();
        m.retain(|c| c.id != id);
        self.monitor_count.store(m.len(), Ordering::Relaxed);
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
    fn histogram_buckets_are_powers_of_two_from_1024ns() {
        let ops = Ops::new(0);
        for ns in [1, 1024, 1025, 2048, 5000] {
            ops.record_call(0, ns, false);
        }
        let h: Vec<u64> = ops.cmd[0].hist[..4]
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .collect();
        assert_eq!(h, vec![2, 2, 0, 1]);
    }
}
