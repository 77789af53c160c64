//! Append-only file persistence, compatible with Redis 7's multi-part AOF.
//!
//! # Layout on disk
//! `<dir>/<appenddirname>/` holds a manifest (`<appendfilename>.manifest`, see
//! [`manifest`]), one base file (`<appendfilename>.<n>.base.aof`) and incremental files
//! (`<appendfilename>.<n>.incr.aof`), named and formatted as redis-server 7.0 does with
//! `aof-use-rdb-preamble no`, so either server loads the other's directory. Base files are
//! always written in AOF form (RESP commands); a base in RDB form is refused when loading.
//!
//! # What is logged
//! The propagation stream of `storage::effects` (deterministic commands, `SELECT` on database
//! changes, `MULTI`/`EXEC` around units of several writes, expired and evicted keys as
//! `DEL`), through its AOF feed: each unit is encoded into one buffer while its shard locks
//! are still held, so the file's order is the execution order.
//!
//! # The writer and the fsync policies
//! A pass takes the feed's buffer, `write`s it to the current incremental file, fsyncs as the
//! policy says and publishes the unit counter it reached. One pass runs at a time (the
//! `leading` flag). One thread (`aof-writer`) runs a pass every 10 ms or when kicked;
//! - `always`: a connection that ran writes in a batch holds the batch's replies until the
//!   published counter covers the units it saw (`server::conn`, [`Aof::wait_synced`]). The
//!   pass runs where Redis's runs, at the end of the event loop's iteration: when a worker
//!   of a runtime built by `server::runtime` has run every task that was ready and is about
//!   to sleep, its `on_thread_park` hook ([`end_of_loop`]) runs the pass for the servers
//!   whose connections wait on it. By then every client whose request arrived in that
//!   iteration has appended its writes, so one fsync covers them all (group commit), and
//!   the worker is blocked for the fsync as Redis's event loop is. A worker that never runs
//!   out of ready tasks (a client flooding reads) does not hold writers up: under `always`
//!   the writer thread looks every millisecond and runs a pass for units that were already
//!   waiting at its previous look. On threads without the hook (a server started on the
//!   caller's runtime), a waiting connection runs the pass itself when none is running,
//!   and those that find one running wait for it; the first it did not cover runs the next.
//!
//!   The binary serves from a single worker when it starts with `appendfsync always` (see
//!   `server::runtime`): one event loop sees every client's request before it sleeps, so
//!   a pass covers them all. redis-benchmark SET against Redis 7.0.15's `always`, fresh
//!   processes, medians of 3 rounds, two runs (fsyncs 0.04–0.2 ms): 50 clients 0.87–0.88×
//!   → 1.02–1.12×, 10 clients 0.80–0.86× → 0.95–1.04×, 1 client 0.94–1.03× → 0.98–1.05×,
//!   50 clients with `-P 16` 1.26–1.37× → 1.31×. With two workers the same hook measured
//!   0.75–0.84× at 10 and 50 clients (each worker's pass covers only its own clients, and
//!   waking a task on the other worker costs a futex round trip); the group commit this
//!   replaced (connections running the pass on their workers, gathering the expected
//!   arrivals first) measured 0.83–0.87× there.
//!
//!   A client whose blocking pop (BLPOP…) another client's write served waits the same way
//!   before its reply goes out: the pop is on the stream before the waiter sees it served
//!   (`commands::blocking`). If the write or fsync fails, the waiting connections are closed
//!   without their replies (nothing unsaved is acknowledged).
//! - `everysec`: fsyncs when a second has passed since the last fsync (so a crash of the
//!   machine loses about a second; `kill -9` loses at most the last 10 ms buffer).
//! - `no`: never fsyncs; the OS decides.
//!
//! The fsync runs outside the files mutex: INFO, CONFIG SET and a rewrite's cut point (taken
//! under every shard lock) never wait behind a slow disk. INFO shows an fsync in progress as
//! `aof_pending_bio_fsync:1`, and `aof_delayed_fsync` counts `everysec` fsyncs that took 2 s
//! or more (what was written meanwhile waited that long, as Redis counts a write it held for
//! a background fsync for 2 s). `TESTCTL SLOWFSYNC` (see `crate::testctl`) slows every
//! pass's fsync, to show these.
//!
//! A failed write or fsync sets `aof_last_write_status:err` (INFO) and is logged; while it
//! lasts, write commands (and PING) are refused with `-MISCONF Errors writing to the AOF
//! file: …`, as Redis 7.0 does. The writer retries, and clears the error once a write works.
//!
//! # Rewrite
//! See [`rewrite`]: the cut point opens a new incremental file (manifest updated atomically)
//! and marks every shard for a point-in-time dump; the rewriter writes the new base into a
//! temporary file; when it is complete and fsynced it is renamed into the directory, the new
//! manifest (new base + the incremental file opened at the cut) replaces the old one, and
//! only then are the old files deleted. A crash at any moment leaves a manifest whose files
//! all exist.
//!
//! # Shared mechanisms this module relies on (changes outside `aof/`)
//! - `storage::effects::Propagation`: the AOF feed (`aof_start`, `aof_take`, `aof_seq`).
//! - `storage::keyspace`: `begin_dump`/`finish_dump` and the per-lock dump check.
//! - `commands::admit`: one relaxed load of [`Aof::gate`] (`-LOADING`, `-MISCONF`).
//! - `server::conn`: the `always` wait before writing a batch's replies.
//! - `server`: start (load, open), cron (auto rewrite), shutdown (final flush and fsync).
//! - `shared::Shared::apply_config`: fsync policy and `appendonly` switches.
//! - `shared::Shared::used_for_eviction`: the feed's and the writer's buffers
//!   ([`Aof::buffer_memory`], INFO `mem_aof_buffer`) are not counted against `maxmemory`.

pub mod loader;
pub mod manifest;
pub mod rewrite;

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use tokio::sync::watch;

use crate::config::{AppendFsync, Config};
use crate::shared::Shared;
use manifest::{FileInfo, Kind, Manifest};
pub use rewrite::BaseSection;

/// [`Aof::gate`] bit: the dataset is loading (`-LOADING`).
pub const GATE_LOADING: u8 = 1;
/// [`Aof::gate`] bit: the last AOF write or fsync failed (`-MISCONF`).
pub const GATE_WRITE_ERROR: u8 = 2;

/// The `-LOADING` error text.
pub const LOADING_ERR: &str = "LOADING Redis is loading the dataset in memory";

/// How long the writer sleeps between passes when nobody kicks it.
const WRITER_PERIOD: Duration = Duration::from_millis(10);
/// How often the writer looks for units left waiting under `always` (a worker that never
/// went idle did not run its end-of-loop pass).
const ALWAYS_LOOK: Duration = Duration::from_millis(1);
/// The largest buffer capacity the writer keeps between passes (steady writes at a million
/// SETs a second fill about 0.5 MB per pass).
const RETAIN_BUFFER: usize = 1 << 20;

/// What the writer has made durable: the unit counter reached, and whether the last
/// attempt failed.
#[derive(Clone, Copy, Debug, Default)]
struct Synced {
    seq: u64,
    failed: bool,
}

thread_local! {
    /// On a worker whose runtime runs [`end_of_loop`] before it sleeps (`Some` from its
    /// first run on): the servers whose `always` waiters this worker holds.
    static LOOP_PASSES: RefCell<Option<Vec<Weak<Shared>>>> = const { RefCell::new(None) };
}

/// The `on_thread_park` hook of the server's runtime (`server::runtime`): a worker that ran
/// every ready task runs the `appendfsync always` pass its waiting connections left to it,
/// as Redis's event loop writes and fsyncs before it sleeps (see the module docs).
pub fn end_of_loop() {
    let due = LOOP_PASSES.with(|p| match &mut *p.borrow_mut() {
        Some(due) => std::mem::take(due),
        unset => {
            *unset = Some(Vec::new());
            Vec::new()
        }
    });
    for server in due {
        if let Some(shared) = server.upgrade() {
            shared.aof.pass_if_behind(&shared);
        }
    }
}

/// The AOF state of one server.
pub struct Aof {
    files: Mutex<Files>,
    /// AOF logging is on (`aof_enabled`).
    on: AtomicBool,
    /// `appendfsync always` while on: connections wait for the group fsync.
    always: AtomicBool,
    gate: AtomicU8,
    synced: watch::Sender<Synced>,
    /// The writer thread is asked for a pass now.
    kick: Mutex<bool>,
    kick_cv: Condvar,
    stop_writer: AtomicBool,
    /// The writer is in an fsync (INFO `aof_pending_bio_fsync`).
    fsyncing: AtomicBool,
    /// A pass is running (on the writer thread or, under `always`, on a worker): passes
    /// never overlap, so one fsync covers everything taken before it.
    leading: AtomicBool,
    /// `everysec` fsyncs that took 2 s or more (INFO `aof_delayed_fsync`).
    delayed_fsyncs: AtomicU64,
    /// Capacity of the writer's buffer (`Files::pending`), for [`Aof::buffer_memory`].
    pending_alloc: AtomicU64,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    shared: OnceLock<Weak<Shared>>,
    /// Bumped every time AOF is switched off: a rewrite started before is abandoned.
    epoch: AtomicU64,
    rewriting: AtomicBool,
    /// An enabling rewrite (CONFIG SET appendonly yes) failed and is retried by the cron.
    scheduled: AtomicBool,
    rewrite_started: Mutex<Option<Instant>>,
    last_rewrite_secs: AtomicI64,
    last_rewrite_ok: AtomicBool,
    /// Failed rewrites since the last one that worked (INFO `aof_rewrites_consecutive_failures`).
    rewrite_failures: AtomicU64,
    rewrites: AtomicU64,
    last_write_error: Mutex<String>,
    pub(crate) load_total: AtomicU64,
    pub(crate) load_done: AtomicU64,
    load_started: Mutex<Option<(Instant, u64)>>,
}

impl std::fmt::Debug for Aof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Aof")
            .field("on", &self.on.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The files side, under one mutex: the writer's pass, the cut point and the end of a
/// rewrite take it in turn.
struct Files {
    /// `<dir>/<appenddirname>`, absolute.
    dir: PathBuf,
    /// `appendfilename`.
    prefix: String,
    manifest: Manifest,
    /// The incremental file being appended to.
    file: Option<Arc<File>>,
    /// Its length as this process wrote it (a failed write is cut back to it), when known.
    file_len: Option<u64>,
    /// Bytes taken from the feed but not written yet (a failed write is retried).
    pending: Vec<u8>,
    base_size: u64,
    /// Sum of the incremental files' sizes.
    incr_size: u64,
    /// `aof_current_size` right after the last rewrite (auto rewrite's reference).
    rewrite_base: u64,
    unsynced: bool,
    last_fsync: Instant,
    fsync: AppendFsync,
    no_fsync_on_rewrite: bool,
    /// The manifest on disk must not name the current incremental file yet (AOF switched on
    /// at run time: only the first rewrite's end writes the manifest).
    manifest_deferred: bool,
}

impl Files {
    /// Makes `file` the incremental file appended to.
    fn install(&mut self, file: File) {
        self.file_len = file.metadata().map(|m| m.len()).ok();
        self.file = Some(Arc::new(file));
    }
}

impl Default for Aof {
    fn default() -> Self {
        Aof {
            files: Mutex::new(Files {
                dir: PathBuf::new(),
                prefix: String::new(),
                manifest: Manifest::default(),
                file: None,
                file_len: None,
                pending: Vec::new(),
                base_size: 0,
                incr_size: 0,
                rewrite_base: 0,
                unsynced: false,
                last_fsync: Instant::now(),
                fsync: AppendFsync::EverySec,
                no_fsync_on_rewrite: false,
                manifest_deferred: false,
            }),
            on: AtomicBool::new(false),
            always: AtomicBool::new(false),
            gate: AtomicU8::new(0),
            synced: watch::Sender::new(Synced::default()),
            kick: Mutex::new(false),
            kick_cv: Condvar::new(),
            stop_writer: AtomicBool::new(false),
            fsyncing: AtomicBool::new(false),
            leading: AtomicBool::new(false),
            delayed_fsyncs: AtomicU64::new(0),
            pending_alloc: AtomicU64::new(0),
            writer: Mutex::new(None),
            shared: OnceLock::new(),
            epoch: AtomicU64::new(0),
            rewriting: AtomicBool::new(false),
            scheduled: AtomicBool::new(false),
            rewrite_started: Mutex::new(None),
            last_rewrite_secs: AtomicI64::new(-1),
            last_rewrite_ok: AtomicBool::new(true),
            rewrite_failures: AtomicU64::new(0),
            rewrites: AtomicU64::new(0),
            last_write_error: Mutex::new(String::new()),
            load_total: AtomicU64::new(0),
            load_done: AtomicU64::new(0),
            load_started: Mutex::new(None),
        }
    }
}

/// Registered [`BaseSection`]s (see [`rewrite`]'s docs).
static SECTIONS: Mutex<Vec<BaseSection>> = Mutex::new(Vec::new());

/// Adds a section written at the start of every new base file (e.g. `FUNCTION LOAD`
/// commands for function libraries). Call once at start-up.
pub fn register_base_section(section: BaseSection) {
    let mut s = SECTIONS.lock();
    if !s.iter().any(|f| std::ptr::fn_addr_eq(*f, section)) {
        s.push(section);
    }
}

/// An I/O error as Redis prints `strerror`: without Rust's " (os error N)".
pub fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

fn aof_dir(c: &Config) -> PathBuf {
    c.dir.join(&c.appenddirname)
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Aof {
    /// `GATE_*` bits; 0 in normal operation (the only load on the command path).
    #[inline]
    pub fn gate(&self) -> u8 {
        self.gate.load(Ordering::Relaxed)
    }

    /// Whether the AOF is being loaded (commands get `-LOADING`).
    pub fn loading(&self) -> bool {
        self.gate() & GATE_LOADING != 0
    }

    /// Whether AOF persistence is on now.
    pub fn enabled(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Whether connections must hold replies for the group fsync (one relaxed load).
    #[inline]
    pub fn always(&self) -> bool {
        self.always.load(Ordering::Relaxed)
    }

    /// The `-MISCONF` reply while writes are refused.
    pub fn misconf_text(&self) -> String {
        format!(
            "MISCONF Errors writing to the AOF file: {}",
            self.last_write_error.lock()
        )
    }

    fn set_gate(&self, bit: u8, on: bool) {
        if on {
            self.gate.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.gate.fetch_and(!bit, Ordering::Relaxed);
        }
    }

    /// Wakes the writer for a pass now.
    fn kick(&self) {
        let mut kicked = self.kick.lock();
        if !*kicked {
            *kicked = true;
            self.kick_cv.notify_one();
        }
    }

    /// Waits until every unit up to `seq` is written and fsynced (`appendfsync always`),
    /// leaving the pass to this worker's end of loop, or running it itself on a thread
    /// without that hook when none is running (see the module docs). False when it could
    /// not be saved (write or fsync error): the caller must not acknowledge the writes.
    pub async fn wait_synced(&self, shared: &Shared, seq: u64) -> bool {
        let mut rx = self.synced.subscribe();
        loop {
            let s = *rx.borrow_and_update();
            if s.seq >= seq {
                return true;
            }
            if s.failed {
                return false;
            }
            // Switched off meanwhile: `stop` publishes once everything is fsynced.
            if self.enabled() && !self.pass_at_end_of_loop() && self.pass(shared) {
                continue;
            }
            if rx.changed().await.is_err() {
                return false;
            }
        }
    }

    /// Leaves the pass to this worker's [`end_of_loop`]; false on a thread without it.
    fn pass_at_end_of_loop(&self) -> bool {
        let Some(server) = self.shared.get() else {
            return false;
        };
        LOOP_PASSES.with(|p| match p.borrow_mut().as_mut() {
            Some(due) => {
                if !due.iter().any(|d| d.ptr_eq(server)) {
                    due.push(server.clone());
                }
                true
            }
            None => false,
        })
    }

    /// Runs a pass if units are waiting for one (see [`Aof::pass`]).
    fn pass_if_behind(&self, shared: &Shared) {
        if self.enabled() && self.synced.borrow().seq < shared.keyspace.propagation.aof_seq() {
            self.pass(shared);
        }
    }

    /// Runs a pass unless one is running (that one covers what this one would take, and
    /// publishes; whoever it did not cover asks again). True if it ran.
    fn pass(&self, shared: &Shared) -> bool {
        if !self.lead() {
            return false;
        }
        self.flush(shared, false);
        self.unlead();
        true
    }

    /// Starts a pass: false when one is running.
    fn lead(&self) -> bool {
        !self.leading.swap(true, Ordering::Acquire)
    }

    fn unlead(&self) {
        self.leading.store(false, Ordering::Release);
    }

    fn shared(&self) -> Option<Arc<Shared>> {
        self.shared.get().and_then(Weak::upgrade)
    }

    /// Links the AOF to its server (for threads it starts later).
    pub fn attach(&self, shared: &Arc<Shared>) {
        let _ = self.shared.set(Arc::downgrade(shared));
    }

    /// Copies the settings the writer reads; switches AOF on or off when `appendonly`
    /// changed (CONFIG SET). Switching on writes a new base in the background first.
    pub fn apply_config(&self, c: &Config) {
        {
            let mut f = self.files.lock();
            f.fsync = c.appendfsync;
            f.no_fsync_on_rewrite = c.no_appendfsync_on_rewrite;
        }
        self.always.store(
            self.enabled() && c.appendfsync == AppendFsync::Always,
            Ordering::Relaxed,
        );
        let Some(shared) = self.shared() else {
            return;
        };
        shared
            .keyspace
            .propagation
            .aof_set_timestamps(c.aof_timestamp_enabled);
        if c.appendonly && !self.enabled() {
            let s = shared.clone();
            // Not here: CONFIG SET may run inside EXEC, holding every shard.
            let _ = std::thread::Builder::new()
                .name("aof-enable".into())
                .spawn(move || {
                    if let Err(e) = s.aof.enable_at_runtime(&s) {
                        tracing::warn!("Redis needs to enable the AOF but can't: {e}");
                    }
                });
        } else if !c.appendonly && self.enabled() {
            self.stop(&shared);
        }
    }

    /// Called before the listeners accept anyone: with `appendonly yes`, clients get
    /// `-LOADING` from their first command until [`Aof::start`] has loaded the file and turned
    /// the feed on (a read answered before would miss loaded keys; a write would not be
    /// logged).
    pub fn hold_clients_until_loaded(&self, config: &Config) {
        if config.appendonly {
            self.set_gate(GATE_LOADING, true);
        }
    }

    /// Opens (and loads) the AOF at start, when `appendonly yes`. Loading happens with
    /// `loading:1`; the listeners are already accepting and answer `-LOADING`.
    pub fn start(&self, shared: &Arc<Shared>) -> Result<(), String> {
        self.attach(shared);
        if !shared.config.read().appendonly {
            return Ok(());
        }
        // Clients may connect already: until the feed is on, they get -LOADING (a write
        // accepted now would not be logged).
        self.set_gate(GATE_LOADING, true);
        let result = self.open_at_start(shared);
        self.set_gate(GATE_LOADING, false);
        result
    }

    fn open_at_start(&self, shared: &Arc<Shared>) -> Result<(), String> {
        let config = shared.config.read().clone();
        if config.aof_use_rdb_preamble {
            tracing::debug!(
                "aof-use-rdb-preamble yes: emberkv writes base files in AOF form only (as with 'no')"
            );
        }
        let dir = aof_dir(&config);
        std::fs::create_dir_all(&dir).map_err(|e| {
            format!(
                "Can't create the append-only directory {}: {}",
                dir.display(),
                io_text(&e)
            )
        })?;
        let manifest_name = format!("{}.manifest", config.appendfilename);
        let manifest_path = dir.join(&manifest_name);
        let mut manifest = match std::fs::read(&manifest_path) {
            Ok(text) => Manifest::parse(&text)
                .map_err(|e| format!("{e} in the AOF manifest {}", manifest_path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if config.dir.join(&config.appendfilename).exists() {
                    tracing::warn!(
                        "An old-style AOF file {} exists in {} but has no manifest: it is not loaded \
                         (upgrade it with redis-server 7 first)",
                        config.appendfilename,
                        config.dir.display()
                    );
                }
                Manifest::default()
            }
            Err(e) => {
                return Err(format!(
                    "Can't read the AOF manifest {}: {}",
                    manifest_path.display(),
                    io_text(&e)
                ))
            }
        };
        let has_data = manifest.base.is_some() || !manifest.incrs.is_empty();
        if has_data {
            *self.load_started.lock() = Some((Instant::now(), shared.now_ms() / 1000));
            let result = loader::load(shared, &dir, &manifest);
            *self.load_started.lock() = None;
            result?;
        }
        let mut f = self.files.lock();
        f.dir = dir.clone();
        f.prefix = config.appendfilename.clone();
        let persist_err =
            |e: std::io::Error| format!("Can't persist the AOF manifest: {}", io_text(&e));
        if manifest.base.is_none() && manifest.incrs.is_empty() {
            // Nothing on disk: an empty base file, as Redis creates on a first start.
            let base = manifest.next_base(&config.appendfilename);
            let mut file = File::create(dir.join(&base.name)).map_err(|e| {
                format!(
                    "Can't create the AOF base file {}: {}",
                    base.name,
                    io_text(&e)
                )
            })?;
            if config.aof_timestamp_enabled {
                let _ = file.write_all(format!("#TS:{}\r\n", shared.now_ms() / 1000).as_bytes());
            }
            file.sync_all().map_err(persist_err)?;
            manifest.base = Some(base);
        }
        let mut created = false;
        if manifest.incrs.is_empty() {
            let incr = manifest.next_incr(&config.appendfilename);
            manifest.incrs.push(incr);
            created = true;
        }
        let last = manifest
            .incrs
            .last()
            .map(|i| i.name.clone())
            .unwrap_or_default();
        let file = open_append(&dir.join(&last))
            .map_err(|e| format!("Can't open the append-only file {last}: {}", io_text(&e)))?;
        // Files left as history by a crash between a rewrite's end and their deletion.
        let history = std::mem::take(&mut manifest.history);
        if created || !history.is_empty() {
            manifest
                .persist(&dir, &manifest_name)
                .map_err(persist_err)?;
        }
        for h in &history {
            let _ = std::fs::remove_file(dir.join(&h.name));
        }
        f.base_size = manifest
            .base
            .as_ref()
            .and_then(|b| std::fs::metadata(dir.join(&b.name)).ok())
            .map_or(0, |m| m.len());
        f.incr_size = manifest
            .incrs
            .iter()
            .filter_map(|i| std::fs::metadata(dir.join(&i.name)).ok())
            .map(|m| m.len())
            .sum();
        f.rewrite_base = f.base_size + f.incr_size;
        f.manifest = manifest;
        f.install(file);
        f.fsync = config.appendfsync;
        f.no_fsync_on_rewrite = config.no_appendfsync_on_rewrite;
        f.manifest_deferred = false;
        drop(f);
        shared
            .keyspace
            .propagation
            .aof_start(config.aof_timestamp_enabled);
        self.turned_on(shared, config.appendfsync);
        Ok(())
    }

    fn turned_on(&self, shared: &Arc<Shared>, fsync: AppendFsync) {
        self.on.store(true, Ordering::Relaxed);
        self.always
            .store(fsync == AppendFsync::Always, Ordering::Relaxed);
        self.stop_writer.store(false, Ordering::Relaxed);
        let s = shared.clone();
        let handle = std::thread::Builder::new()
            .name("aof-writer".into())
            .spawn(move || s.aof.writer_loop(&s));
        match handle {
            Ok(h) => *self.writer.lock() = Some(h),
            Err(e) => tracing::error!("can't start the AOF writer thread: {e}"),
        }
    }

    fn writer_loop(&self, shared: &Shared) {
        // Under `always`: the unit counter at the last look.
        let mut seen = 0;
        loop {
            let always = self.always();
            let kicked = {
                let mut kicked = self.kick.lock();
                if !*kicked {
                    let period = if always { ALWAYS_LOOK } else { WRITER_PERIOD };
                    self.kick_cv.wait_for(&mut kicked, period);
                }
                std::mem::take(&mut *kicked)
            };
            if self.stop_writer.load(Ordering::Relaxed) {
                return;
            }
            if always && !kicked {
                // End-of-loop passes cover the units unless a worker stayed busy all along.
                let behind = self.synced.borrow().seq < seen;
                seen = shared.keyspace.propagation.aof_seq();
                if !behind {
                    continue;
                }
            }
            self.pass(shared);
        }
    }

    /// One writer pass: write what the feed holds, fsync as the policy says, publish.
    /// `force`: fsync whatever the policy (shutdown, switching off).
    ///
    /// The fsync runs without the files mutex, so INFO, CONFIG SET and a rewrite's cut point
    /// (which holds every shard) never wait behind a slow disk; a cut meanwhile fsyncs what
    /// it adds to the old file itself.
    fn flush(&self, shared: &Shared, force: bool) {
        let mut f = self.files.lock();
        let Some(file) = f.file.clone() else {
            return;
        };
        let mut pending = std::mem::take(&mut f.pending);
        let seq = shared.keyspace.propagation.aof_take(&mut pending, false);
        self.pending_alloc
            .store(pending.capacity() as u64, Ordering::Relaxed);
        let mut ok = true;
        if !pending.is_empty() {
            match (&*file).write_all(&pending) {
                Ok(()) => {
                    f.incr_size += pending.len() as u64;
                    f.file_len = f.file_len.map(|l| l + pending.len() as u64);
                    f.unsynced = true;
                    pending.clear();
                }
                Err(e) => {
                    ok = false;
                    // Drop a partial write so the retry does not duplicate it.
                    if let Some(size) = f.file_len {
                        if file.set_len(size).is_err() {
                            f.file_len = file.metadata().map(|m| m.len()).ok();
                        }
                    }
                    self.write_failed(&e, "write");
                }
            }
        }
        self.shelve(&mut f, pending);
        let rewriting = self.rewriting.load(Ordering::Relaxed);
        let skip = f.no_fsync_on_rewrite && rewriting;
        let due = match f.fsync {
            AppendFsync::Always => !skip,
            AppendFsync::EverySec => !skip && f.last_fsync.elapsed() >= Duration::from_secs(1),
            AppendFsync::No => false,
        };
        let everysec = f.fsync == AppendFsync::EverySec;
        if ok && f.unsynced && (due || force) {
            drop(f);
            self.fsyncing.store(true, Ordering::Relaxed);
            let started = Instant::now();
            let slow = shared.faults.fsync_delay();
            if !slow.is_zero() {
                std::thread::sleep(slow);
            }
            let synced = file.sync_data();
            let took = started.elapsed();
            self.fsyncing.store(false, Ordering::Relaxed);
            if everysec && took >= Duration::from_secs(2) {
                self.delayed_fsyncs.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    "Asynchronous AOF fsync is taking too long (disk is busy?): writes to the AOF waited {} ms for it.",
                    took.as_millis()
                );
            }
            f = self.files.lock();
            match synced {
                Ok(()) => {
                    // Unless a cut switched files meanwhile (it fsynced the old one itself).
                    if f.file.as_ref().is_some_and(|c| Arc::ptr_eq(c, &file)) {
                        f.unsynced = false;
                    }
                    f.last_fsync = Instant::now();
                }
                Err(e) => {
                    ok = false;
                    self.write_failed(&e, "fsync");
                }
            }
        }
        drop(f);
        if ok {
            if self.gate() & GATE_WRITE_ERROR != 0 {
                tracing::warn!("AOF write error looks solved, Redis can write again.");
                self.set_gate(GATE_WRITE_ERROR, false);
            }
            self.synced.send_modify(|s| {
                s.seq = s.seq.max(seq);
                s.failed = false;
            });
        } else {
            self.synced.send_modify(|s| s.failed = true);
        }
    }

    /// Keeps the pass's buffer (what could not be written, or an empty buffer for the feed
    /// to swap with next time). The writer's buffer and the feed's trade places at every
    /// pass: after a burst (a big pipeline) neither keeps its high-water size, as Redis frees
    /// a big `aof_buf` once written.
    fn shelve(&self, f: &mut Files, mut pending: Vec<u8>) {
        if pending.is_empty() && pending.capacity() > RETAIN_BUFFER {
            pending = Vec::new();
        }
        self.pending_alloc
            .store(pending.capacity() as u64, Ordering::Relaxed);
        f.pending = pending;
    }

    /// Memory the AOF's buffers hold (the feed and the writer's): INFO `mem_aof_buffer`,
    /// and not counted against `maxmemory`, as Redis leaves its `aof_buf` out.
    pub fn buffer_memory(&self, shared: &Shared) -> u64 {
        shared.keyspace.propagation.aof_allocated() + self.pending_alloc.load(Ordering::Relaxed)
    }

    fn write_failed(&self, e: &std::io::Error, what: &str) {
        let text = io_text(e);
        if self.gate() & GATE_WRITE_ERROR == 0 {
            tracing::warn!("Error {what} to the AOF file: {text}");
        }
        *self.last_write_error.lock() = text;
        self.set_gate(GATE_WRITE_ERROR, true);
    }

    /// Switches AOF off: the writer's last pass, then what the feed still holds, written
    /// and fsynced; a rewrite in progress is abandoned.
    pub fn stop(&self, shared: &Shared) {
        if !self.on.swap(false, Ordering::Relaxed) {
            return;
        }
        self.always.store(false, Ordering::Relaxed);
        self.epoch.fetch_add(1, Ordering::Relaxed);
        self.stop_writer.store(true, Ordering::Relaxed);
        self.kick();
        if let Some(h) = self.writer.lock().take() {
            let _ = h.join();
        }
        // A connection's pass may be running: let it end, and let none start until the end.
        while !self.lead() {
            std::thread::sleep(Duration::from_micros(100));
        }
        let mut f = self.files.lock();
        let mut rest = std::mem::take(&mut f.pending);
        self.pending_alloc.store(0, Ordering::Relaxed);
        rest.extend_from_slice(&shared.keyspace.propagation.aof_stop());
        // After the feed stopped no unit can follow: everything up to here is in `rest`.
        let seq = shared.keyspace.propagation.aof_seq();
        let mut ok = true;
        if let Some(file) = f.file.take() {
            if !rest.is_empty() {
                if let Err(e) = (&*file).write_all(&rest) {
                    self.write_failed(&e, "write");
                    ok = false;
                }
            }
            if let Err(e) = file.sync_data() {
                self.write_failed(&e, "fsync");
                ok = false;
            }
        }
        drop(f);
        self.synced.send_modify(|s| {
            if ok {
                s.seq = s.seq.max(seq);
            }
            s.failed = !ok;
        });
        self.set_gate(GATE_WRITE_ERROR, false);
        self.unlead();
    }

    /// The final flush at shutdown (SHUTDOWN, NOSAVE included, SIGTERM).
    pub fn shutdown(&self, shared: &Shared) {
        if self.enabled() {
            tracing::info!("Calling fsync() on the AOF file.");
            self.stop(shared);
        }
    }

    /// Turns AOF on at run time (CONFIG SET appendonly yes): from a cut point, writes go to
    /// a new incremental file, and a new base is written from the point-in-time view; the
    /// manifest naming both is written when the base is complete.
    fn enable_at_runtime(&self, shared: &Arc<Shared>) -> Result<(), String> {
        if self.rewriting.swap(true, Ordering::AcqRel) {
            self.scheduled.store(true, Ordering::Relaxed);
            return Err("a rewrite is already in progress".into());
        }
        let config = shared.config.read().clone();
        let dir = aof_dir(&config);
        let result = (|| {
            std::fs::create_dir_all(&dir).map_err(|e| io_text(&e))?;
            let manifest_path = dir.join(format!("{}.manifest", config.appendfilename));
            let manifest = match std::fs::read(&manifest_path) {
                Ok(t) => Manifest::parse(&t).unwrap_or_default(),
                Err(_) => Manifest::default(),
            };
            let mut f = self.files.lock();
            f.dir = dir.clone();
            f.prefix = config.appendfilename.clone();
            f.manifest = manifest;
            f.base_size = 0;
            f.incr_size = 0;
            f.fsync = config.appendfsync;
            f.no_fsync_on_rewrite = config.no_appendfsync_on_rewrite;
            f.pending.clear();
            Ok::<_, String>(())
        })();
        if let Err(e) = result {
            self.rewriting.store(false, Ordering::Release);
            return Err(e);
        }
        let job = {
            let all = shared.keyspace.lock_all();
            let mut f = self.files.lock();
            let incr = f.manifest.next_incr(&config.appendfilename);
            let file = match open_append(&dir.join(&incr.name)) {
                Ok(file) => file,
                Err(e) => {
                    drop(f);
                    drop(all);
                    self.rewriting.store(false, Ordering::Release);
                    return Err(io_text(&e));
                }
            };
            f.manifest.incrs.push(incr);
            f.install(file);
            f.manifest_deferred = true;
            drop(f);
            shared
                .keyspace
                .propagation
                .aof_start(config.aof_timestamp_enabled);
            let job = self.begin_dump(shared, &all);
            drop(all);
            job
        };
        self.turned_on(shared, config.appendfsync);
        self.run_rewrite(shared, job);
        Ok(())
    }

    /// BGREWRITEAOF: `Err` with Redis's text when one is already running.
    pub fn bgrewrite(&self, _shared: &Shared) -> Result<(), String> {
        let Some(shared) = self.shared() else {
            return Err("ERR the AOF is not available in this server".into());
        };
        if self.rewriting.swap(true, Ordering::AcqRel) {
            return Err("ERR Background append only file rewriting already in progress".into());
        }
        let s = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("aof-rewrite".into())
            .spawn(move || {
                if let Err(e) = s.aof.rewrite_now(&s) {
                    tracing::warn!("Background AOF rewrite failed: {e}");
                }
            });
        if let Err(e) = spawned {
            self.rewriting.store(false, Ordering::Release);
            return Err(format!("ERR Can't start the rewrite: {e}"));
        }
        Ok(())
    }

    /// A rewrite (the caller set `rewriting`): the cut, then the dump, then the switch.
    fn rewrite_now(&self, shared: &Arc<Shared>) -> Result<(), String> {
        let config = shared.config.read().clone();
        let job = {
            let all = shared.keyspace.lock_all();
            let cut = if self.enabled() {
                self.cut(shared)
            } else {
                // AOF off: a base file and a manifest naming only it. The manifest on disk
                // (if any) gives the sequence numbers, and its files become history.
                let mut f = self.files.lock();
                f.dir = aof_dir(&config);
                f.prefix = config.appendfilename.clone();
                let path = f.dir.join(format!("{}.manifest", config.appendfilename));
                if let Ok(text) = std::fs::read(&path) {
                    if let Ok(m) = Manifest::parse(&text) {
                        f.manifest = m;
                    }
                }
                std::fs::create_dir_all(&f.dir).map_err(|e| io_text(&e))
            };
            if let Err(e) = cut {
                drop(all);
                self.rewrite_failed();
                return Err(e);
            }
            let job = self.begin_dump(shared, &all);
            drop(all);
            job
        };
        self.run_rewrite(shared, job);
        Ok(())
    }

    /// The cut point of a rewrite with AOF on (every shard locked by the caller): what the
    /// feed holds goes to the current file, a new incremental file takes what follows, and
    /// the manifest names it.
    fn cut(&self, shared: &Shared) -> Result<(), String> {
        let mut f = self.files.lock();
        let mut pending = std::mem::take(&mut f.pending);
        shared.keyspace.propagation.aof_take(&mut pending, true);
        self.pending_alloc
            .store(pending.capacity() as u64, Ordering::Relaxed);
        if let Some(file) = f.file.clone() {
            if !pending.is_empty() {
                match (&*file).write_all(&pending) {
                    Ok(()) => {
                        f.incr_size += pending.len() as u64;
                        pending.clear();
                    }
                    Err(e) => self.write_failed(&e, "write"),
                }
            }
            let _ = file.sync_data();
        }
        // Anything that could not be written goes first into the new file.
        self.shelve(&mut f, pending);
        let prefix = f.prefix.clone();
        let incr = f.manifest.next_incr(&prefix);
        let file = open_append(&f.dir.join(&incr.name)).map_err(|e| io_text(&e))?;
        f.manifest.incrs.push(incr);
        if !f.manifest_deferred {
            let name = format!("{prefix}.manifest");
            if let Err(e) = f.manifest.persist(&f.dir, &name) {
                f.manifest.incrs.pop();
                f.manifest.incr_seq -= 1;
                return Err(format!("Can't persist the AOF manifest: {}", io_text(&e)));
            }
        }
        f.install(file);
        f.unsynced = false;
        Ok(())
    }

    fn begin_dump(&self, shared: &Shared, all: &crate::storage::Locked<'_>) -> Option<RewriteJob> {
        *self.rewrite_started.lock() = Some(Instant::now());
        let f = self.files.lock();
        let tmp = f
            .dir
            .parent()
            .unwrap_or(&f.dir)
            .join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
        drop(f);
        let file = match File::create(&tmp) {
            Ok(file) => file,
            Err(e) => {
                tracing::warn!("Can't create the temporary rewrite file: {}", io_text(&e));
                return None;
            }
        };
        let writer = Arc::new(rewrite::BaseWriter::new(file, all.now()));
        let config = shared.config.read();
        if config.aof_timestamp_enabled {
            writer.write_raw(format!("#TS:{}\r\n", shared.now_ms() / 1000).as_bytes());
        }
        drop(config);
        let sections: Vec<BaseSection> = SECTIONS.lock().clone();
        for section in sections {
            let mut buf = Vec::new();
            for argv in section(shared) {
                crate::storage::effects::encode_command(&mut buf, &argv);
            }
            writer.write_raw(&buf);
        }
        shared.keyspace.begin_dump(all, writer.clone());
        Some(RewriteJob {
            writer,
            tmp,
            epoch: self.epoch.load(Ordering::Relaxed),
        })
    }

    /// Dumps what is left, then switches to the new base.
    fn run_rewrite(&self, shared: &Shared, job: Option<RewriteJob>) {
        let Some(job) = job else {
            self.rewrite_failed();
            return;
        };
        shared.keyspace.finish_dump();
        match self.switch_base(shared, &job) {
            Ok(()) => {
                let secs = self
                    .rewrite_started
                    .lock()
                    .map_or(0, |t| t.elapsed().as_secs() as i64);
                self.last_rewrite_secs.store(secs, Ordering::Relaxed);
                self.last_rewrite_ok.store(true, Ordering::Relaxed);
                self.rewrite_failures.store(0, Ordering::Relaxed);
                self.scheduled.store(false, Ordering::Relaxed);
                self.rewrites.fetch_add(1, Ordering::Relaxed);
                *self.rewrite_started.lock() = None;
                self.rewriting.store(false, Ordering::Release);
                tracing::info!(
                    "Background AOF rewrite finished successfully ({} keys)",
                    job.writer.keys.load(Ordering::Relaxed)
                );
            }
            Err(e) => {
                let _ = std::fs::remove_file(&job.tmp);
                tracing::warn!("Background AOF rewrite failed: {e}");
                self.rewrite_failed();
            }
        }
    }

    fn rewrite_failed(&self) {
        let secs = self
            .rewrite_started
            .lock()
            .take()
            .map_or(-1, |t| t.elapsed().as_secs() as i64);
        self.last_rewrite_secs.store(secs, Ordering::Relaxed);
        self.last_rewrite_ok.store(false, Ordering::Relaxed);
        self.rewrite_failures.fetch_add(1, Ordering::Relaxed);
        if self.files.lock().manifest_deferred && self.enabled() {
            // AOF switched on at run time still has no base on disk: try again later.
            self.scheduled.store(true, Ordering::Relaxed);
        }
        self.rewriting.store(false, Ordering::Release);
    }

    /// The end of a rewrite: the new base renamed in, the manifest switched, old files
    /// removed.
    fn switch_base(&self, _shared: &Shared, job: &RewriteJob) -> Result<(), String> {
        let size = job.writer.finish().map_err(|e| io_text(&e))?;
        let mut f = self.files.lock();
        if self.epoch.load(Ordering::Relaxed) != job.epoch {
            return Err("AOF was switched off during the rewrite".into());
        }
        let on = self.enabled();
        let prefix = f.prefix.clone();
        let dir = f.dir.clone();
        let mut m = f.manifest.clone();
        let base = m.next_base(&prefix);
        std::fs::rename(&job.tmp, dir.join(&base.name)).map_err(|e| io_text(&e))?;
        let keep = if on { m.incrs.pop() } else { None };
        let mut history: Vec<FileInfo> = m.base.take().into_iter().collect();
        history.append(&mut m.incrs);
        for h in &mut history {
            h.kind = Kind::History;
        }
        m.history.extend(history);
        m.incrs = keep.into_iter().collect();
        m.base = Some(base.clone());
        let name = format!("{prefix}.manifest");
        if let Err(e) = m.persist(&dir, &name) {
            let _ = std::fs::remove_file(dir.join(&base.name));
            return Err(format!("Can't persist the AOF manifest: {}", io_text(&e)));
        }
        // The switch is done; the old files are history and can go.
        for h in std::mem::take(&mut m.history) {
            let _ = std::fs::remove_file(dir.join(&h.name));
        }
        let _ = m.persist(&dir, &name);
        f.manifest = m;
        f.manifest_deferred = false;
        f.base_size = size;
        f.incr_size = f
            .manifest
            .incrs
            .iter()
            .filter_map(|i| std::fs::metadata(dir.join(&i.name)).ok())
            .map(|m| m.len())
            .sum::<u64>();
        f.rewrite_base = f.base_size + f.incr_size;
        Ok(())
    }

    /// Called by the server's cron: automatic rewrite by size and growth, and retries of a
    /// rewrite that must happen (AOF switched on at run time).
    pub fn cron(&self, shared: &Shared) {
        if !self.enabled() || self.rewriting.load(Ordering::Relaxed) {
            return;
        }
        let (pct, min) = {
            let c = shared.config.read();
            (c.auto_aof_rewrite_percentage, c.auto_aof_rewrite_min_size)
        };
        let want = self.scheduled.load(Ordering::Relaxed) || {
            let f = self.files.lock();
            let current = f.base_size + f.incr_size;
            let base = f.rewrite_base.max(1);
            pct > 0 && current > min && (current * 100 / base).saturating_sub(100) >= pct
        };
        if want {
            tracing::info!("Starting automatic rewriting of AOF");
            let _ = self.bgrewrite(shared);
        }
    }

    /// INFO persistence's AOF and loading fields.
    pub fn info(&self, shared: &Shared, out: &mut String) {
        use std::fmt::Write as _;
        let on = self.enabled();
        let rewriting = self.rewriting.load(Ordering::Relaxed);
        let _ = write!(out, "aof_enabled:{}\r\n", u8::from(on));
        let _ = write!(out, "aof_rewrite_in_progress:{}\r\n", u8::from(rewriting));
        let _ = write!(
            out,
            "aof_rewrite_scheduled:{}\r\n",
            u8::from(self.scheduled.load(Ordering::Relaxed) && !rewriting)
        );
        let _ = write!(
            out,
            "aof_last_rewrite_time_sec:{}\r\n",
            self.last_rewrite_secs.load(Ordering::Relaxed)
        );
        let current = self
            .rewrite_started
            .lock()
            .map_or(-1, |t| t.elapsed().as_secs() as i64);
        let _ = write!(out, "aof_current_rewrite_time_sec:{current}\r\n");
        let ok = |b: bool| if b { "ok" } else { "err" };
        let _ = write!(
            out,
            "aof_last_bgrewrite_status:{}\r\n",
            ok(self.last_rewrite_ok.load(Ordering::Relaxed))
        );
        let _ = write!(
            out,
            "aof_rewrites:{}\r\n",
            self.rewrites.load(Ordering::Relaxed)
        );
        let _ = write!(
            out,
            "aof_rewrites_consecutive_failures:{}\r\n",
            self.rewrite_failures.load(Ordering::Relaxed)
        );
        let _ = write!(
            out,
            "aof_last_write_status:{}\r\n",
            ok(self.gate() & GATE_WRITE_ERROR == 0)
        );
        // No fork here: the rewrite copies nothing (see `rewrite`), and there are no modules.
        let _ = write!(
            out,
            "aof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n"
        );
        if on {
            let f = self.files.lock();
            let _ = write!(out, "aof_current_size:{}\r\n", f.base_size + f.incr_size);
            let _ = write!(out, "aof_base_size:{}\r\n", f.base_size);
            let _ = write!(out, "aof_pending_rewrite:0\r\n");
            let _ = write!(
                out,
                "aof_buffer_length:{}\r\n",
                shared.keyspace.propagation.aof_buffered() + f.pending.len() as u64
            );
            let _ = write!(
                out,
                "aof_pending_bio_fsync:{}\r\naof_delayed_fsync:{}\r\n",
                u8::from(self.fsyncing.load(Ordering::Relaxed)),
                self.delayed_fsyncs.load(Ordering::Relaxed)
            );
        }
        if let Some((t, start_s)) = *self.load_started.lock() {
            let total = self.load_total.load(Ordering::Relaxed);
            let done = self.load_done.load(Ordering::Relaxed);
            let perc = if total == 0 {
                0.0
            } else {
                done as f64 * 100.0 / total as f64
            };
            let secs = t.elapsed().as_secs_f64();
            let eta = if done == 0 {
                1
            } else {
                ((total.saturating_sub(done)) as f64 * secs / done as f64) as u64
            };
            let _ = write!(out, "loading_start_time:{start_s}\r\n");
            let _ = write!(out, "loading_total_bytes:{total}\r\n");
            let _ = write!(out, "loading_rdb_used_mem:0\r\n");
            let _ = write!(out, "loading_loaded_bytes:{done}\r\n");
            let _ = write!(out, "loading_loaded_perc:{perc:.2}\r\n");
            let _ = write!(out, "loading_eta_seconds:{eta}\r\n");
        }
    }
}

/// One rewrite in progress.
struct RewriteJob {
    writer: Arc<rewrite::BaseWriter>,
    tmp: PathBuf,
    epoch: u64,
}
