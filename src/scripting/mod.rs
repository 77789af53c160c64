//! Lua scripting and functions: EVAL/EVALSHA/SCRIPT and FUNCTION/FCALL, with Redis 7.0's
//! semantics (the commands themselves are in `commands/scripting.rs`).
//!
//! - `engine.rs` — the Lua 5.1 states (one for EVAL scripts, one for function libraries,
//!   as in Redis), the sandbox (read-only globals, the allowed libraries), the `redis` API,
//!   and the conversions between [`Reply`](crate::Reply) values and Lua values.
//! - `functions.rs` — the function libraries, and the FUNCTION DUMP/RESTORE payload.
//! - `lib/` — `cjson`, `cmsgpack`, `bit`, `struct`.
//!
//! # A script is one exclusive unit — and the server stays responsive meanwhile
//!
//! A script locks every shard (as EXEC does) and runs its `redis.call`s through
//! `commands::run` under those locks, so no client sees a partial script and its writes
//! reach WATCH, keyspace events and the propagation stream as one unit (wrapped in
//! MULTI/EXEC when it wrote more than once). But connections run their commands
//! synchronously on the runtime's few worker threads: a command that waited on a shard
//! mutex held by a long script would pin a worker, and with every worker pinned nobody could
//! even read a SCRIPT KILL. So the server never lets a connection wait on a lock a script
//! holds:
//!
//! 1. **The gate.** A script *claims* the server ([`Scripting::claim`], one CAS on
//!    `running`) before it takes the shard locks, and releases the claim when it is done.
//!    Commands that touch the Lua state or run scripts (EVAL, FCALL, SCRIPT LOAD/FLUSH,
//!    FUNCTION LOAD/DELETE/FLUSH/RESTORE) are the rows flagged `EXCLUSIVE`: dispatch claims
//!    for them, so at most one runs at a time and the Lua mutex is never contended.
//! 2. **Every other command checks the gate first** (`commands::execute`: one relaxed load
//!    of `running` per command). While a script runs, the command is *deferred*: `execute`
//!    hands its argv back in `Session::deferred` and the connection task awaits
//!    [`Scripting::wait`] — asynchronously, no worker held — until the script ends (then it
//!    runs the command normally) or passes `busy-reply-threshold` (then it runs it through
//!    `execute` again, which answers `-BUSY …` unless the command is `allow-busy`: SCRIPT
//!    KILL, FUNCTION KILL, SHUTDOWN NOSAVE, MULTI…, which need no shard lock).
//! 3. **The race** (a script claims between a command's check and its lock): ordinary
//!    commands lock with [`Keyspace::lock_mask_unless`](crate::storage::Keyspace), which
//!    tries each shard and, when one is taken, waits for it in 1 ms slices only while no
//!    claim is set; once one is, it gives up its locks and the command is deferred as in 2.
//!    The uncontended path is the same single CAS per shard as a plain lock.
//! 4. **The script's own thread**: the Lua body runs under `tokio::task::block_in_place`
//!    when the runtime is multi-threaded, so the runtime hands this worker's queue to another
//!    thread and keeps all its workers for other connections.
//! 5. **Time and kill**: a Lua count hook (every [`HOOK_EVERY`] instructions) marks the
//!    script busy once the threshold passed (waking the deferred connections) and aborts it
//!    when SCRIPT KILL / FUNCTION KILL (only before its first write: `-UNKILLABLE`
//!    otherwise) or SHUTDOWN NOSAVE asked.
//!
//! Background work that locks shards (active expiry, blocked-client timeouts, a
//! disconnecting client's WATCH cleanup) checks the gate too and waits or skips.

pub mod engine;
pub mod functions;
pub mod lib;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

pub use engine::Engine;

/// Instructions between two runs of the timeout/kill hook (Redis uses 100000).
pub const HOOK_EVERY: u32 = 100_000;

/// What a running script is, for SCRIPT KILL vs FUNCTION KILL and the BUSY wording.
pub const KIND_NONE: u8 = 0;
/// An EVAL script is running.
pub const KIND_EVAL: u8 = 1;
/// A function (FCALL) is running.
pub const KIND_FUNCTION: u8 = 2;

/// `-BUSY` for an EVAL script and for a function.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// `-BUSY` while a function runs (names FUNCTION KILL).
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// The run state other tasks read: the gate, busy and kill flags. Shared with the Lua hook.
#[derive(Debug)]
pub struct Gate {
    /// Claimed by an exclusive unit (see the module docs).
    running: AtomicBool,
    /// The client id of the claim.
    owner: AtomicU64,
    /// The running script passed `busy-reply-threshold`.
    busy: AtomicBool,
    /// [`KIND_EVAL`] / [`KIND_FUNCTION`] while a script body executes.
    kind: AtomicU8,
    /// 1: SCRIPT/FUNCTION KILL asked; 2: SHUTDOWN NOSAVE (kills even a script that wrote).
    kill: AtomicU8,
    /// The running script has called a write command.
    wrote: AtomicBool,
    threshold_ms: AtomicU64,
    started: Mutex<Instant>,
    /// Bumped when a claim ends or a script turns busy: deferred connections wait on it.
    signal: tokio::sync::watch::Sender<u64>,
    /// The function running now (FUNCTION STATS): name, command, start.
    pub running_function: Mutex<Option<(String, Vec<bytes::Bytes>, Instant)>>,
}

impl Gate {
    fn new() -> Self {
        Gate {
            running: AtomicBool::new(false),
            owner: AtomicU64::new(0),
            busy: AtomicBool::new(false),
            kind: AtomicU8::new(KIND_NONE),
            kill: AtomicU8::new(0),
            wrote: AtomicBool::new(false),
            threshold_ms: AtomicU64::new(5000),
            started: Mutex::new(Instant::now()),
            signal: tokio::sync::watch::Sender::new(0),
            running_function: Mutex::new(None),
        }
    }

    /// Called by the Lua hook: turns busy past the threshold; `Some(message)` aborts.
    pub(crate) fn check(&self) -> Option<&'static str> {
        if !self.busy.load(Ordering::Relaxed) && self.kind.load(Ordering::Relaxed) != KIND_NONE {
            let limit = Duration::from_millis(self.threshold_ms.load(Ordering::Relaxed));
            if self.started.lock().elapsed() >= limit {
                self.busy.store(true, Ordering::Release);
                self.signal.send_modify(|g| *g += 1);
            }
        }
        match self.kill.load(Ordering::Relaxed) {
            0 => None,
            _ => Some(KILLED),
        }
    }
}

/// The error a killed script ends with.
pub const KILLED: &str = "Script killed by user with SCRIPT KILL...";

/// Server-wide scripting state (one per server, in `Shared`).
pub struct Scripting {
    /// The claim gate: who holds the server, busy and kill state.
    pub gate: std::sync::Arc<Gate>,
    /// The Lua states, the script cache and the libraries. Only the claim holder locks it.
    pub engine: Mutex<Engine>,
    /// Figures INFO reads without the engine lock (INFO may run inside a script).
    pub stats: Stats,
}

/// Memory and counts for INFO memory, refreshed after every script run and cache change.
#[derive(Debug, Default)]
pub struct Stats {
    /// Memory of the EVAL Lua state, bytes (INFO `used_memory_vm_eval`).
    pub vm_eval: AtomicU64,
    /// Memory of the functions Lua state, bytes (INFO `used_memory_vm_functions`).
    pub vm_functions: AtomicU64,
    /// Memory of the cached EVAL scripts, bytes (INFO `used_memory_scripts_eval`).
    pub scripts_eval: AtomicU64,
    /// Number of cached EVAL scripts (INFO `number_of_cached_scripts`).
    pub cached_scripts: AtomicU64,
    /// Memory of the function libraries, bytes (INFO `used_memory_functions`).
    pub functions_mem: AtomicU64,
    /// Number of functions (INFO `number_of_functions`).
    pub functions: AtomicU64,
    /// Number of function libraries (INFO `number_of_libraries`).
    pub libraries: AtomicU64,
}

impl std::fmt::Debug for Scripting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scripting")
            .field("gate", &self.gate)
            .finish_non_exhaustive()
    }
}

impl Default for Scripting {
    fn default() -> Self {
        Self::new()
    }
}

impl Scripting {
    /// Fresh scripting state: empty caches, no libraries.
    pub fn new() -> Self {
        // Function libraries go at the start of every rewritten AOF base.
        crate::aof::register_base_section(functions::aof_base_section);
        let gate = std::sync::Arc::new(Gate::new());
        let engine = Engine::new(gate.clone()).expect("building the Lua states");
        let s = Scripting {
            gate,
            engine: Mutex::new(engine),
            stats: Stats::default(),
        };
        s.engine.lock().refresh_stats(&s.stats);
        s
    }

    /// Whether an exclusive unit holds the server: the one check every command pays.
    #[inline]
    pub fn running(&self) -> bool {
        self.gate.running.load(Ordering::Relaxed)
    }

    /// The flag ordinary lock acquisition watches (see [`crate::storage::Keyspace::lock_mask_unless`]).
    pub fn running_flag(&self) -> &AtomicBool {
        &self.gate.running
    }

    /// Whether the running script passed `busy-reply-threshold`.
    pub fn busy(&self) -> bool {
        self.gate.busy.load(Ordering::Acquire)
    }

    /// The BUSY error for the script running now.
    pub fn busy_error(&self) -> &'static str {
        if self.gate.kind.load(Ordering::Relaxed) == KIND_FUNCTION {
            BUSY_FUNCTION
        } else {
            BUSY_EVAL
        }
    }

    /// Claims the server for client `id`; false when another unit holds it.
    pub fn claim(&self, id: u64) -> bool {
        if self
            .gate
            .running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            self.gate.owner.store(id, Ordering::Relaxed);
            self.gate.busy.store(false, Ordering::Relaxed);
            true
        } else {
            false
        }
    }

    /// Whether client `id` holds the claim.
    pub fn claimed_by(&self, id: u64) -> bool {
        self.running() && self.gate.owner.load(Ordering::Relaxed) == id
    }

    /// Ends a claim and wakes every deferred connection.
    pub fn release(&self) {
        let g = &self.gate;
        g.owner.store(0, Ordering::Relaxed);
        g.busy.store(false, Ordering::Relaxed);
        g.kind.store(KIND_NONE, Ordering::Relaxed);
        g.kill.store(0, Ordering::Relaxed);
        g.running.store(false, Ordering::Release);
        g.signal.send_modify(|n| *n += 1);
    }

    /// Marks a script body as started (the hook measures from here).
    pub(crate) fn begin_script(&self, kind: u8, threshold_ms: u64) {
        let g = &self.gate;
        *g.started.lock() = Instant::now();
        g.threshold_ms.store(threshold_ms, Ordering::Relaxed);
        g.busy.store(false, Ordering::Relaxed);
        g.wrote.store(false, Ordering::Relaxed);
        g.kill.store(0, Ordering::Relaxed);
        g.kind.store(kind, Ordering::Relaxed);
    }

    /// Marks the script body as finished (the claim may go on a little longer).
    pub(crate) fn end_script(&self) {
        let g = &self.gate;
        g.kind.store(KIND_NONE, Ordering::Relaxed);
        g.kill.store(0, Ordering::Relaxed);
    }

    /// Records that the running script wrote (SCRIPT KILL then answers UNKILLABLE).
    pub(crate) fn set_wrote(&self) {
        self.gate.wrote.store(true, Ordering::Relaxed);
    }

    /// SCRIPT KILL (`eval`) / FUNCTION KILL: Redis's checks and texts.
    pub fn kill(&self, eval: bool) -> Result<(), &'static str> {
        let g = &self.gate;
        let kind = g.kind.load(Ordering::Acquire);
        if kind == KIND_NONE {
            return Err("NOTBUSY No scripts in execution right now.");
        }
        if g.wrote.load(Ordering::Relaxed) {
            return Err("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.");
        }
        if eval && kind == KIND_FUNCTION {
            return Err(BUSY_FUNCTION);
        }
        if !eval && kind == KIND_EVAL {
            return Err(BUSY_EVAL);
        }
        let _ = g
            .kill
            .compare_exchange(0, 1, Ordering::AcqRel, Ordering::Relaxed);
        Ok(())
    }

    /// SHUTDOWN NOSAVE while a script runs: stop it even if it wrote.
    pub fn kill_for_shutdown(&self) {
        self.gate.kill.store(2, Ordering::Release);
    }

    /// Waits (asynchronously) until no unit holds the server, or — unless `until_end` —
    /// until the running script turned busy. Polls now and then as a safety net.
    pub async fn wait(&self, until_end: bool) {
        let mut rx = self.gate.signal.subscribe();
        loop {
            if !self.running() || (!until_end && self.busy()) {
                return;
            }
            tokio::select! {
                _ = rx.changed() => {}
                _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
    }

    /// Redis's `redisLrand48` state, shared by every script and function.
    pub(crate) fn rng() -> &'static Mutex<u64> {
        static RNG: Mutex<u64> = Mutex::new(RAND48_INIT);
        &RNG
    }
}

/// The state `redisLrand48` starts from (its `X2 X1 X0` = `0x1234 0xABCD 0x330E`).
pub const RAND48_INIT: u64 = 0x1234_ABCD_330E;

/// One step of the 48-bit linear congruential generator `drand48` uses (a = 0x5DEECE66D,
/// c = 0xB), returning the top 31 bits as `lrand48` does.
pub fn lrand48(state: &mut u64) -> u32 {
    *state = (state.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB)) & ((1 << 48) - 1);
    (*state >> 17) as u32
}

/// `srand48(seed)`: the seed's low 32 bits above the constant `0x330E`.
pub fn srand48(state: &mut u64, seed: i32) {
    *state = (u64::from(seed as u32) << 16) | 0x330E;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lrand48_matches_redis_sequence() {
        // Redis 7.0: `EVAL "return math.random(1000)" 0` on a fresh server answers 397,
        // then 841; after `math.randomseed(1)` it answers 42.
        let mut s = RAND48_INIT;
        let r = |s: &mut u64| (lrand48(s) % 0x7fff_ffff) as f64 / 0x7fff_ffff as f64;
        assert_eq!((r(&mut s) * 1000.0).floor() as i64 + 1, 397);
        assert_eq!((r(&mut s) * 1000.0).floor() as i64 + 1, 841);
        srand48(&mut s, 1);
        assert_eq!((r(&mut s) * 1000.0).floor() as i64 + 1, 42);
    }
}
