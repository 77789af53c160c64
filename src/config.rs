//! Server configuration: `redis.conf`-style files, command-line options, and
//! the parameter registry that `CONFIG GET` / `CONFIG SET` work through.
//!
//! # Sources and precedence
//!
//! Settings start from [`Config::default`], then come (in this order) from
//! the config file named as the first command-line argument, from standard
//! input when `-` is given, and finally from `--name value...` options. Each
//! later directive overrides earlier ones, with one exception that mirrors
//! Redis: while loading, the first `save` line replaces the default save
//! points and later `save` lines *add* to them (`save ""` clears them).
//!
//! Every source ends up in the same place: a directive is a name plus its
//! argument strings, and it is applied by looking the name up in one
//! declarative table (`PARAMS`) that also drives `CONFIG GET`/`CONFIG SET`.
//! Adding a parameter means adding one row there.
//!
//! # Why the command line is parsed by hand
//!
//! `emberkv` must accept exactly what `redis-server` accepts, so deployment
//! scripts keep working:
//!
//! ```text
//! emberkv [configfile | -] [--directive value...]... [-]
//! ```
//!
//! Each `--name` starts a *config-file line* and the arguments that follow it
//! (up to the next `--...`) are its values; that line is then handled by the
//! same code as a line of the file, `include` included. Directives are open
//! ended (`--bind a b c`), option-looking values are legal right after a name
//! (`--requirepass --secret`), `--save` with no value means `--save ""`, and
//! `"--port 6380"` as one argument is split like a file line. Argument
//! parsers such as clap model a fixed set of flags with typed values, so
//! they cannot express "any config directive with any number of values,
//! validated later by the directive table" without fighting them; a small
//! hand-written scanner is both shorter and exactly compatible.
//!
//! # Differences from Redis
//!
//! * We never fork, so `daemonize yes` is refused rather than ignored.
//! * `dir` is validated and remembered but the process does not `chdir`;
//!   relative `include` paths are therefore always relative to the directory
//!   emberkv was started from.
//! * There are no Unix sockets, so an empty `bind` (which would listen
//!   nowhere and make Redis exit at startup) is refused while parsing.
//! * `include` nesting is limited to [`MAX_INCLUDE_DEPTH`] levels so that an
//!   include loop is reported instead of recursing until the stack overflows.
//! * Error messages say where the bad directive came from
//!   (`file:line: 'line': problem` or `option --name value: problem`); the `problem` part
//!   is Redis's CONFIG SET text (`argument must be between 0 and 65535 inclusive`).
//! * `port` and `bind` cannot be changed with CONFIG SET (Redis rebinds its listeners).
//! * CONFIG GET and CONFIG REWRITE list parameters in registry order; Redis uses the order
//!   of its hash table, which differs between runs, so no client can rely on it.
//! * CONFIG REWRITE writes `requirepass` like any other string: there are no ACL `user`
//!   lines to carry the password.
//! * The `loglevel` error lists Redis 7.0's four levels, but `nothing` (7.2) is accepted.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::protocol::split::split_args;

/// How deeply `include` directives may nest. Real configurations use one or
/// two levels; the limit exists only to turn an include cycle into an error.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// Redis refuses more than this many `bind` addresses; we keep the limit so
/// the same configuration files are accepted or refused by both servers.
const MAX_BIND_ADDRS: usize = 16;

/// One mebibyte, the lower bound Redis puts on its protocol size limits.
const MB: u64 = 1024 * 1024;

/// Largest value Redis accepts for its `long`-typed memory limits.
const LONG_MAX: u64 = i64::MAX as u64;

/// Largest value Redis accepts for its `int`-typed settings.
const INT_MAX: i64 = i32::MAX as i64;

/// Text for `emberkv --help`, kept next to the parser it describes.
pub const USAGE: &str = "\
Usage: emberkv [/path/to/emberkv.conf] [options] [-]
       emberkv - (read the configuration from standard input)
       emberkv -v or --version
       emberkv -h or --help

Every --name option is a configuration directive; the arguments after it,
up to the next --option, are its values. Options are applied after the
configuration file, so they override it.

Examples:
       emberkv                      (use the built-in defaults)
       emberkv /etc/emberkv/emberkv.conf
       emberkv --port 7777
       emberkv --bind 127.0.0.1 -::1 --databases 4
       emberkv /etc/emberkv/emberkv.conf --loglevel verbose --save ''
       echo 'port 7777' | emberkv -
";

/// Verbosity of the server log, named as in `redis.conf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogLevel {
    /// `debug`: everything.
    Debug,
    /// `verbose`: more than notice, less than debug.
    Verbose,
    /// `notice`: the default; moderately verbose.
    Notice,
    /// `warning`: only important messages.
    Warning,
    /// `nothing`: no logging.
    Nothing,
}

impl LogLevel {
    /// All levels in `redis.conf` spelling, used for parsing and for the
    /// error message listing the accepted words.
    const ALL: [(LogLevel, &'static str); 5] = [
        (LogLevel::Debug, "debug"),
        (LogLevel::Verbose, "verbose"),
        (LogLevel::Notice, "notice"),
        (LogLevel::Warning, "warning"),
        (LogLevel::Nothing, "nothing"),
    ];

    /// The level's name as written in a config file and shown by CONFIG GET.
    pub fn as_str(&self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Verbose => "verbose",
            LogLevel::Notice => "notice",
            LogLevel::Warning => "warning",
            LogLevel::Nothing => "nothing",
        }
    }

    /// Case-insensitive parse, as Redis matches enum values.
    fn parse(s: &str) -> Option<LogLevel> {
        Self::ALL
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(s))
            .map(|(level, _)| level.clone())
    }
}

/// The complete server configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// TCP port; 0 asks the OS for an ephemeral port.
    pub port: u16,
    /// Addresses to listen on, kept exactly as written. A leading `-` (e.g.
    /// `-::1`) marks an address as optional: skip it if it is unavailable.
    /// `*` means every IPv4 interface and `::*` every IPv6 interface. Never
    /// empty: parsing refuses an empty list because it would listen nowhere.
    pub bind: Vec<String>,
    /// Number of logical databases (SELECT 0..databases-1), at least 1.
    pub databases: usize,
    /// Password for AUTH; `None` means no authentication.
    pub requirepass: Option<String>,
    /// Close clients idle for this many seconds; 0 disables the timeout.
    pub timeout: u64,
    /// Maximum simultaneous client connections, at least 1.
    pub maxclients: usize,
    /// Working directory for persistence files. Default `.`; once set from a
    /// config it holds the canonical absolute path of an existing directory.
    pub dir: PathBuf,
    /// Log verbosity.
    pub loglevel: LogLevel,
    /// Log file path; empty means standard output.
    pub logfile: String,
    /// Snapshot points as normalised `"<seconds> <changes> ..."` pairs; empty
    /// means snapshots are disabled. See [`Config::save_params`].
    pub save: String,
    /// Largest bulk string a client may send, in bytes (at least 1mb).
    pub proto_max_bulk_len: u64,
    /// Largest query buffer a single client may accumulate, in bytes.
    pub client_query_buffer_limit: u64,
    /// Always `false`: emberkv never forks into the background.
    pub daemonize: bool,
    /// `notify-keyspace-events` as flag bits (see [`crate::notify`]); 0 = off.
    pub notify_keyspace_events: u32,
    /// `client-output-buffer-limit` for the classes normal, replica and pubsub, in that order.
    pub client_output_buffer_limit: [OutputLimit; 3],
    /// The config file the server was started from (absolute), for CONFIG REWRITE and INFO
    /// `config_file`. `None` when started without one (defaults, options or stdin only).
    pub config_file: Option<PathBuf>,
    /// `maxmemory` in bytes; 0 = no limit.
    pub maxmemory: u64,
    /// `maxmemory-policy`: what a write over `maxmemory` evicts (default `noeviction`: it fails with `-OOM`).
    pub maxmemory_policy: MaxmemoryPolicy,
    /// `maxmemory-samples`: how many keys eviction samples per pick (default 5, at least 1).
    pub maxmemory_samples: u32,
    /// `maxmemory-eviction-tenacity`: how long one eviction round may run, 0..=100 (default 10).
    pub maxmemory_eviction_tenacity: u32,
    /// `lfu-log-factor`: how slowly the LFU counter grows with accesses (default 10).
    pub lfu_log_factor: u32,
    /// `lfu-decay-time`: minutes for the LFU counter to decay by one (default 1; 0 = never).
    pub lfu_decay_time: u32,
    /// `appendonly`: whether AOF persistence is on (default off in redis.conf and in-process builders).
    pub appendonly: bool,
    /// `appendfsync`: when AOF writes reach the disk: every command, every second (default) or when the OS decides.
    pub appendfsync: AppendFsync,
    /// `appendfilename`: the base name of the AOF files and their manifest (default `appendonly.aof`).
    pub appendfilename: String,
    /// `appenddirname`: the directory under `dir` holding the AOF files (default `appendonlydir`).
    pub appenddirname: String,
    /// `no-appendfsync-on-rewrite`: skip fsyncs while a rewrite runs (default no).
    pub no_appendfsync_on_rewrite: bool,
    /// Rewrite automatically once the AOF grew by this many percent since the last rewrite
    /// (0: never).
    pub auto_aof_rewrite_percentage: u64,
    /// ... and is at least this big, in bytes.
    pub auto_aof_rewrite_min_size: u64,
    /// Load an AOF whose last file ends inside a command (dropping that command).
    pub aof_load_truncated: bool,
    /// Write `#TS:` annotations in the AOF.
    pub aof_timestamp_enabled: bool,
    /// Reported as set; base files are always written in AOF form (see README).
    pub aof_use_rdb_preamble: bool,
    /// Microseconds; -1 disables the slow log, 0 logs every command.
    pub slowlog_log_slower_than: i64,
    /// `slowlog-max-len`: how many entries the slow log keeps (default 128).
    pub slowlog_max_len: u64,
    /// Milliseconds; 0 disables the latency monitor.
    pub latency_monitor_threshold: u64,
    /// `latency-tracking`: whether INFO latencystats reports per-command percentiles.
    pub latency_tracking: bool,
    /// `latency-tracking-info-percentiles`: the percentiles INFO latencystats prints, as
    /// validated labels (`99.9`; see [`percentile_label`]).
    pub latency_tracking_info_percentiles: Vec<String>,
    /// `metrics-port`: where `GET /metrics` is served in the Prometheus text format; 0 = off.
    pub metrics_port: u16,
    /// Background task frequency (1..=500; larger or smaller requests are clamped, as Redis does).
    pub hz: u32,
    /// `busy-reply-threshold` (alias `lua-time-limit`), milliseconds.
    pub busy_reply_threshold: u64,
    /// `tcp-keepalive`: seconds (default 300); accepted and reported by CONFIG GET, without effect.
    pub tcp_keepalive: u32,
    /// `tcp-backlog`: the listen backlog (default 511, startup only); accepted and reported, without effect.
    pub tcp_backlog: u32,
    /// `protected-mode`: accepted and reported (default yes); emberkv has no protected mode.
    pub protected_mode: bool,
    /// `lazyfree-lazy-eviction`: accepted and reported (default no), without effect.
    pub lazyfree_lazy_eviction: bool,
    /// `lazyfree-lazy-expire`: accepted and reported (default no), without effect.
    pub lazyfree_lazy_expire: bool,
    /// `lazyfree-lazy-server-del`: implicit deletions (SPOP emptying a set…) propagate as UNLINK instead of DEL (default no).
    pub lazyfree_lazy_server_del: bool,
    /// `lazyfree-lazy-user-del`: accepted and reported (default no), without effect.
    pub lazyfree_lazy_user_del: bool,
    /// `lazyfree-lazy-user-flush`: accepted and reported (default no), without effect.
    pub lazyfree_lazy_user_flush: bool,
    /// `activerehashing`: accepted and reported (default yes), without effect.
    pub activerehashing: bool,
    /// `list-max-listpack-size` (alias `list-max-ziplist-size`): bounds a list node, in elements when positive, in bytes when -1..=-5 (4..=64 KiB); default -2 (8 KiB).
    pub list_max_listpack_size: i32,
    /// `list-compress-depth`: accepted and reported (default 0), without effect.
    pub list_compress_depth: u32,
    /// `hash-max-listpack-entries` (alias `hash-max-ziplist-entries`): a hash with more fields is `hashtable`-encoded (default 512).
    pub hash_max_listpack_entries: u64,
    /// `hash-max-listpack-value` (alias `hash-max-ziplist-value`): a hash with a longer field or value, in bytes, is `hashtable`-encoded (default 64).
    pub hash_max_listpack_value: u64,
    /// `set-max-intset-entries`: a set of integers with more members is `hashtable`-encoded (default 512).
    pub set_max_intset_entries: u64,
    /// `zset-max-listpack-entries` (alias `zset-max-ziplist-entries`): a sorted set with more members is `skiplist`-encoded (default 128).
    pub zset_max_listpack_entries: u64,
    /// `zset-max-listpack-value` (alias `zset-max-ziplist-value`): a sorted set with a longer member, in bytes, is `skiplist`-encoded (default 64).
    pub zset_max_listpack_value: u64,
    /// `hll-sparse-max-bytes`: the largest sparse HyperLogLog (header included); a write
    /// that would make one larger converts it to the dense form.
    pub hll_sparse_max_bytes: u64,
    /// `enable-debug-command`: whether DEBUG may run (startup only).
    pub enable_debug_command: DebugCommand,
    /// `enable-test-controls`: whether the `TESTCTL` command family exists (clock, seed,
    /// fault injection; see [`crate::testctl`]). Off by default and immutable: only a config
    /// file, the command line or the in-process builder turn it on, never CONFIG SET.
    pub enable_test_controls: bool,
}

/// `enable-debug-command`: `no`, `yes`, or `local` (loopback connections only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugCommand {
    /// DEBUG is refused.
    No,
    /// DEBUG is allowed from any connection.
    Yes,
    /// DEBUG is allowed from loopback connections only.
    Local,
}

impl DebugCommand {
    /// Every setting, in the order Redis lists them in its error text.
    pub const ALL: [DebugCommand; 3] = [DebugCommand::No, DebugCommand::Yes, DebugCommand::Local];

    /// The setting as written in a config file and shown by CONFIG GET.
    pub fn as_str(self) -> &'static str {
        match self {
            DebugCommand::No => "no",
            DebugCommand::Yes => "yes",
            DebugCommand::Local => "local",
        }
    }
}

/// `maxmemory-policy`: what to do when a write would exceed `maxmemory`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    /// `volatile-lru`: evict the least recently used key among those with a TTL.
    VolatileLru,
    /// `volatile-lfu`: evict the least frequently used key among those with a TTL.
    VolatileLfu,
    /// `volatile-random`: evict a random key among those with a TTL.
    VolatileRandom,
    /// `volatile-ttl`: evict the key with the nearest expiry.
    VolatileTtl,
    /// `allkeys-lru`: evict the least recently used key.
    AllkeysLru,
    /// `allkeys-lfu`: evict the least frequently used key.
    AllkeysLfu,
    /// `allkeys-random`: evict a random key.
    AllkeysRandom,
    /// `noeviction`: evict nothing; writes that need memory fail with `-OOM`.
    NoEviction,
}

impl MaxmemoryPolicy {
    /// Every policy in the order Redis lists them in its error text.
    pub const ALL: [MaxmemoryPolicy; 8] = [
        MaxmemoryPolicy::VolatileLru,
        MaxmemoryPolicy::VolatileLfu,
        MaxmemoryPolicy::VolatileRandom,
        MaxmemoryPolicy::VolatileTtl,
        MaxmemoryPolicy::AllkeysLru,
        MaxmemoryPolicy::AllkeysLfu,
        MaxmemoryPolicy::AllkeysRandom,
        MaxmemoryPolicy::NoEviction,
    ];

    /// The policy as written in a config file and shown by CONFIG GET.
    pub fn as_str(self) -> &'static str {
        match self {
            MaxmemoryPolicy::VolatileLru => "volatile-lru",
            MaxmemoryPolicy::VolatileLfu => "volatile-lfu",
            MaxmemoryPolicy::VolatileRandom => "volatile-random",
            MaxmemoryPolicy::VolatileTtl => "volatile-ttl",
            MaxmemoryPolicy::AllkeysLru => "allkeys-lru",
            MaxmemoryPolicy::AllkeysLfu => "allkeys-lfu",
            MaxmemoryPolicy::AllkeysRandom => "allkeys-random",
            MaxmemoryPolicy::NoEviction => "noeviction",
        }
    }
}

/// `appendfsync`: when the AOF is flushed to disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendFsync {
    /// `always`: fsync after every write.
    Always,
    /// `everysec`: fsync once a second (the default).
    EverySec,
    /// `no`: never fsync; the OS flushes when it chooses.
    No,
}

impl AppendFsync {
    /// In the order Redis lists them in its error text.
    pub const ALL: [AppendFsync; 3] = [AppendFsync::EverySec, AppendFsync::Always, AppendFsync::No];

    /// The setting as written in a config file and shown by CONFIG GET.
    pub fn as_str(self) -> &'static str {
        match self {
            AppendFsync::Always => "always",
            AppendFsync::EverySec => "everysec",
            AppendFsync::No => "no",
        }
    }
}

/// Parses one of an enum's names, case-insensitively, with Redis's error text.
fn choice<T: Copy>(word: &str, all: &[T], name: fn(T) -> &'static str) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|v| name(*v).eq_ignore_ascii_case(word))
        .ok_or_else(|| {
            let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
            one_of(&names)
        })
}

/// One class of `client-output-buffer-limit`: a client whose pending output exceeds `hard`
/// bytes, or stays above `soft` bytes for `soft_seconds`, is disconnected. 0 = no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputLimit {
    /// The hard limit in bytes: exceeding it disconnects at once (0 = none).
    pub hard: u64,
    /// The soft limit in bytes (0 = none).
    pub soft: u64,
    /// Seconds the output may stay above `soft` before the client is disconnected.
    pub soft_seconds: u64,
}

/// Indexes of [`Config::client_output_buffer_limit`].
pub const OBUF_NORMAL: usize = 0;
/// Index of the `replica` class.
pub const OBUF_REPLICA: usize = 1;
/// Index of the `pubsub` class.
pub const OBUF_PUBSUB: usize = 2;

impl Default for Config {
    /// The defaults match Redis 7.0, except `bind`, which is loopback-only
    /// because emberkv has no protected mode to guard a public default.
    fn default() -> Self {
        Config {
            port: 6379,
            bind: vec!["127.0.0.1".to_string()],
            databases: 16,
            requirepass: None,
            timeout: 0,
            maxclients: 10000,
            dir: PathBuf::from("."),
            loglevel: LogLevel::Notice,
            logfile: String::new(),
            save: "3600 1 300 100 60 10000".to_string(),
            proto_max_bulk_len: 512 * MB,
            client_query_buffer_limit: 1024 * MB,
            daemonize: false,
            notify_keyspace_events: 0,
            client_output_buffer_limit: [
                OutputLimit {
                    hard: 0,
                    soft: 0,
                    soft_seconds: 0,
                },
                OutputLimit {
                    hard: 256 * MB,
                    soft: 64 * MB,
                    soft_seconds: 60,
                },
                OutputLimit {
                    hard: 32 * MB,
                    soft: 8 * MB,
                    soft_seconds: 60,
                },
            ],
            config_file: None,
            maxmemory: 0,
            maxmemory_policy: MaxmemoryPolicy::NoEviction,
            maxmemory_samples: 5,
            maxmemory_eviction_tenacity: 10,
            lfu_log_factor: 10,
            lfu_decay_time: 1,
            appendonly: false,
            appendfsync: AppendFsync::EverySec,
            enable_debug_command: DebugCommand::No,
            appendfilename: "appendonly.aof".to_string(),
            appenddirname: "appendonlydir".to_string(),
            no_appendfsync_on_rewrite: false,
            auto_aof_rewrite_percentage: 100,
            auto_aof_rewrite_min_size: 64 * MB,
            aof_load_truncated: true,
            aof_timestamp_enabled: false,
            aof_use_rdb_preamble: true,
            slowlog_log_slower_than: 10_000,
            slowlog_max_len: 128,
            latency_monitor_threshold: 0,
            latency_tracking: true,
            latency_tracking_info_percentiles: vec!["50".into(), "99".into(), "99.9".into()],
            metrics_port: 0,
            hz: 10,
            busy_reply_threshold: 5000,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            protected_mode: true,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            activerehashing: true,
            list_max_listpack_size: -2,
            list_compress_depth: 0,
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            hll_sparse_max_bytes: 3000,
            enable_test_controls: false,
        }
    }
}

/// What the command line asks the binary to do.
// Built once at startup, so the size of the `Run` variant costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum CliAction {
    /// Start the server with this configuration.
    Run(Config),
    /// Print the version and exit.
    Version,
    /// Print [`USAGE`] and exit.
    Help,
}

/// A configuration problem, with enough context (file and line, or the
/// command-line option) for the user to find and fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    fn new(message: impl Into<String>) -> Self {
        ConfigError {
            message: message.into(),
        }
    }

    /// The full human-readable message (same text as `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Whether a parameter may be changed with CONFIG SET.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Mutable,
    /// Only settable at startup (file or command line).
    Immutable,
    /// Settable at startup; Redis refuses it at runtime by default because
    /// it can be abused to write files in arbitrary places.
    Protected,
}

/// How many values a directive takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arity {
    /// Exactly one value; anything else is "wrong number of arguments".
    One,
    /// Any number; the setter validates the count. A single non-empty value
    /// is split like a config line, so `--bind "a b"` means `--bind a b`.
    Many,
}

/// State that lives for one load (file + stdin + command line) so that
/// directives can behave as Redis does while reading configuration.
struct LoadCtx {
    /// True while reading a file or the command line, false for CONFIG SET.
    loading: bool,
    /// Whether a `save` directive has been seen during this load.
    save_seen: bool,
    /// Current `include` nesting depth.
    depth: usize,
}

impl LoadCtx {
    fn loading() -> Self {
        LoadCtx {
            loading: true,
            save_seen: false,
            depth: 0,
        }
    }

    fn runtime() -> Self {
        LoadCtx {
            loading: false,
            ..LoadCtx::loading()
        }
    }
}

type Setter = fn(&mut Config, &[String], &mut LoadCtx) -> Result<(), String>;
type Getter = fn(&Config) -> String;

/// How CONFIG REWRITE writes a parameter into the config file.
#[derive(Clone, Copy)]
enum Rewrite {
    /// `name value` with the CONFIG GET value as is (numbers, yes/no, enum words, lists).
    Plain,
    /// `name value` with the value shown in the largest exact unit (`64mb`, `1gb`).
    Memory,
    /// `name "value"`, quoted and escaped like Redis writes strings.
    Quoted,
    /// Whole lines, each with whether it must be written even when absent from the file.
    Lines(fn(&Config) -> Vec<(String, bool)>),
}

/// One row of the parameter registry.
struct Param {
    /// Canonical lower-case name, as CONFIG GET reports it.
    name: &'static str,
    /// Other accepted names (case-insensitive), if any.
    aliases: &'static [&'static str],
    access: Access,
    arity: Arity,
    /// Validates the values and, only if they are all valid, stores them, so
    /// a failed CONFIG SET leaves the configuration unchanged.
    set: Setter,
    /// Formats the current value the way Redis prints it for CONFIG GET.
    get: Getter,
    rewrite: Rewrite,
}

/// A mutable parameter with an integer value in `min..=max`.
macro_rules! int_param {
    ($name:literal, $aliases:expr, $field:ident, $min:expr, $max:expr) => {
        Param {
            name: $name,
            aliases: $aliases,
            access: Access::Mutable,
            arity: Arity::One,
            set: |c, v, _| {
                c.$field = int_value(one(v)?, $min, $max)?;
                Ok(())
            },
            get: |c| c.$field.to_string(),
            rewrite: Rewrite::Plain,
        }
    };
}

/// A mutable `yes`/`no` parameter.
macro_rules! bool_param {
    ($name:literal, $field:ident) => {
        Param {
            name: $name,
            aliases: &[],
            access: Access::Mutable,
            arity: Arity::One,
            set: |c, v, _| {
                c.$field = bool_value(one(v)?)?;
                Ok(())
            },
            get: |c| yes_no(c.$field),
            rewrite: Rewrite::Plain,
        }
    };
}

/// The parameter registry: every supported directive, in CONFIG GET order.
static PARAMS: &[Param] = &[
    Param {
        name: "port",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.port = int_value(one(v)?, 0, 65535)?;
            Ok(())
        },
        get: |c| c.port.to_string(),
        rewrite: Rewrite::Plain,
    },
    Param {
        name: "bind",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::Many,
        set: set_bind,
        get: |c| c.bind.join(" "),
        rewrite: Rewrite::Plain,
    },
    Param {
        name: "databases",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.databases = int_value(one(v)?, 1, INT_MAX)?;
            Ok(())
        },
        get: |c| c.databases.to_string(),
        rewrite: Rewrite::Plain,
    },
    Param {
        name: "requirepass",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            let pass = one(v)?;
            c.requirepass = (!pass.is_empty()).then(|| pass.to_string());
            Ok(())
        },
        get: |c| c.requirepass.clone().unwrap_or_default(),
        rewrite: Rewrite::Quoted,
    },
    Param {
        name: "timeout",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.timeout = int_value(one(v)?, 0, INT_MAX)?;
            Ok(())
        },
        get: |c| c.timeout.to_string(),
        rewrite: Rewrite::Plain,
    },
    Param {
        name: "maxclients",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.maxclients = int_value(one(v)?, 1, i64::from(u32::MAX))?;
            Ok(())
        },
        get: |c| c.maxclients.to_string(),
        rewrite: Rewrite::Plain,
    },
    Param {
        name: "dir",
        aliases: &[],
        access: Access::Protected,
        arity: Arity::One,
        set: set_dir,
        get: |c| display_dir(&c.dir),
        rewrite: Rewrite::Lines(|c| vec![(format!("dir {}", quote(&display_dir(&c.dir))), true)]),
    },
    Param {
        name: "loglevel",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            let word = one(v)?;
            // Redis 7.0 lists the four levels it knows; `nothing` (from 7.2) is accepted too.
            c.loglevel = LogLevel::parse(word)
                .ok_or_else(|| one_of(&["debug", "verbose", "notice", "warning"]))?;
            Ok(())
        },
        get: |c| c.loglevel.as_str().to_string(),
        rewrite: Rewrite::Plain,
    },
    Param {
        name: "logfile",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.logfile = one(v)?.to_string();
            Ok(())
        },
        get: |c| c.logfile.clone(),
        rewrite: Rewrite::Quoted,
    },
    Param {
        name: "save",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::Many,
        set: set_save,
        get: |c| c.save.clone(),
        rewrite: Rewrite::Lines(rewrite_save),
    },
    Param {
        name: "proto-max-bulk-len",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.proto_max_bulk_len = memory_value(one(v)?, MB, LONG_MAX)?;
            Ok(())
        },
        get: |c| c.proto_max_bulk_len.to_string(),
        rewrite: Rewrite::Memory,
    },
    Param {
        name: "client-query-buffer-limit",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.client_query_buffer_limit = memory_value(one(v)?, MB, LONG_MAX)?;
            Ok(())
        },
        get: |c| c.client_query_buffer_limit.to_string(),
        rewrite: Rewrite::Memory,
    },
    Param {
        name: "daemonize",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::One,
        set: |c, v, _| {
            if bool_value(one(v)?)? {
                return Err("daemonize yes is not supported: emberkv never forks; \
                            run it in the foreground under a process supervisor"
                    .to_string());
            }
            c.daemonize = false;
            Ok(())
        },
        get: |c| if c.daemonize { "yes" } else { "no" }.to_string(),
        rewrite: Rewrite::Plain,
    },
    Param {
        name: "notify-keyspace-events",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.notify_keyspace_events = crate::notify::parse(one(v)?).ok_or_else(|| {
                "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string()
            })?;
            Ok(())
        },
        get: |c| crate::notify::format(c.notify_keyspace_events),
        rewrite: Rewrite::Quoted,
    },
    Param {
        name: "client-output-buffer-limit",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::Many,
        set: set_output_limits,
        get: |c| {
            let names = ["normal", "slave", "pubsub"];
            let parts: Vec<String> = c
                .client_output_buffer_limit
                .iter()
                .zip(names)
                .map(|(l, n)| format!("{n} {} {} {}", l.hard, l.soft, l.soft_seconds))
                .collect();
            parts.join(" ")
        },
        rewrite: Rewrite::Lines(rewrite_output_limits),
    },
    Param {
        name: "maxmemory",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.maxmemory = memory_value(one(v)?, 0, u64::MAX)?;
            Ok(())
        },
        get: |c| c.maxmemory.to_string(),
        rewrite: Rewrite::Memory,
    },
    Param {
        name: "maxmemory-policy",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.maxmemory_policy = choice(one(v)?, &MaxmemoryPolicy::ALL, MaxmemoryPolicy::as_str)?;
            Ok(())
        },
        get: |c| c.maxmemory_policy.as_str().to_string(),
        rewrite: Rewrite::Plain,
    },
    int_param!("maxmemory-samples", &[], maxmemory_samples, 1, INT_MAX),
    int_param!(
        "maxmemory-eviction-tenacity",
        &[],
        maxmemory_eviction_tenacity,
        0,
        100
    ),
    int_param!("lfu-log-factor", &[], lfu_log_factor, 0, INT_MAX),
    int_param!("lfu-decay-time", &[], lfu_decay_time, 0, INT_MAX),
    bool_param!("appendonly", appendonly),
    Param {
        name: "appendfsync",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.appendfsync = choice(one(v)?, &AppendFsync::ALL, AppendFsync::as_str)?;
            Ok(())
        },
        get: |c| c.appendfsync.as_str().to_string(),
        rewrite: Rewrite::Plain,
    },
    Param {
        name: "appendfilename",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.appendfilename = file_name_value(one(v)?)?;
            Ok(())
        },
        get: |c| c.appendfilename.clone(),
        rewrite: Rewrite::Quoted,
    },
    Param {
        name: "appenddirname",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.appenddirname = file_name_value(one(v)?)?;
            Ok(())
        },
        get: |c| c.appenddirname.clone(),
        rewrite: Rewrite::Quoted,
    },
    bool_param!("no-appendfsync-on-rewrite", no_appendfsync_on_rewrite),
    int_param!(
        "auto-aof-rewrite-percentage",
        &[],
        auto_aof_rewrite_percentage,
        0,
        INT_MAX
    ),
    Param {
        name: "auto-aof-rewrite-min-size",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.auto_aof_rewrite_min_size = memory_value(one(v)?, 0, LONG_MAX)?;
            Ok(())
        },
        get: |c| c.auto_aof_rewrite_min_size.to_string(),
        rewrite: Rewrite::Memory,
    },
    bool_param!("aof-load-truncated", aof_load_truncated),
    bool_param!("aof-timestamp-enabled", aof_timestamp_enabled),
    bool_param!("aof-use-rdb-preamble", aof_use_rdb_preamble),
    int_param!(
        "slowlog-log-slower-than",
        &[],
        slowlog_log_slower_than,
        -1,
        i64::MAX
    ),
    int_param!("slowlog-max-len", &[], slowlog_max_len, 0, i64::MAX),
    Param {
        name: "enable-debug-command",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.enable_debug_command = choice(one(v)?, &DebugCommand::ALL, DebugCommand::as_str)?;
            Ok(())
        },
        get: |c| c.enable_debug_command.as_str().to_string(),
        rewrite: Rewrite::Plain,
    },
    int_param!(
        "latency-monitor-threshold",
        &[],
        latency_monitor_threshold,
        0,
        i64::MAX
    ),
    bool_param!("latency-tracking", latency_tracking),
    Param {
        name: "latency-tracking-info-percentiles",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::Many,
        set: |c, v, _| {
            c.latency_tracking_info_percentiles = percentiles_value(v)?;
            Ok(())
        },
        get: |c| c.latency_tracking_info_percentiles.join(" "),
        rewrite: Rewrite::Plain,
    },
    Param {
        name: "metrics-port",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.metrics_port = int_value(one(v)?, 0, 65535)?;
            Ok(())
        },
        get: |c| c.metrics_port.to_string(),
        rewrite: Rewrite::Plain,
    },
    Param {
        name: "hz",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            let hz: u32 = int_value(one(v)?, 0, INT_MAX)?;
            c.hz = hz.clamp(1, 500);
            Ok(())
        },
        get: |c| c.hz.to_string(),
        rewrite: Rewrite::Plain,
    },
    int_param!(
        "busy-reply-threshold",
        &["lua-time-limit"],
        busy_reply_threshold,
        0,
        i64::MAX
    ),
    int_param!("tcp-keepalive", &[], tcp_keepalive, 0, INT_MAX),
    Param {
        access: Access::Immutable,
        ..int_param!("tcp-backlog", &[], tcp_backlog, 0, INT_MAX)
    },
    bool_param!("protected-mode", protected_mode),
    bool_param!("lazyfree-lazy-eviction", lazyfree_lazy_eviction),
    bool_param!("lazyfree-lazy-expire", lazyfree_lazy_expire),
    bool_param!("lazyfree-lazy-server-del", lazyfree_lazy_server_del),
    bool_param!("lazyfree-lazy-user-del", lazyfree_lazy_user_del),
    bool_param!("lazyfree-lazy-user-flush", lazyfree_lazy_user_flush),
    bool_param!("activerehashing", activerehashing),
    int_param!(
        "list-max-listpack-size",
        &["list-max-ziplist-size"],
        list_max_listpack_size,
        i64::from(i32::MIN),
        INT_MAX
    ),
    int_param!("list-compress-depth", &[], list_compress_depth, 0, INT_MAX),
    int_param!(
        "hash-max-listpack-entries",
        &["hash-max-ziplist-entries"],
        hash_max_listpack_entries,
        0,
        i64::MAX
    ),
    Param {
        name: "hash-max-listpack-value",
        aliases: &["hash-max-ziplist-value"],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.hash_max_listpack_value = memory_value(one(v)?, 0, LONG_MAX)?;
            Ok(())
        },
        get: |c| c.hash_max_listpack_value.to_string(),
        rewrite: Rewrite::Memory,
    },
    int_param!(
        "set-max-intset-entries",
        &[],
        set_max_intset_entries,
        0,
        i64::MAX
    ),
    int_param!(
        "zset-max-listpack-entries",
        &["zset-max-ziplist-entries"],
        zset_max_listpack_entries,
        0,
        i64::MAX
    ),
    Param {
        name: "zset-max-listpack-value",
        aliases: &["zset-max-ziplist-value"],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.zset_max_listpack_value = memory_value(one(v)?, 0, LONG_MAX)?;
            Ok(())
        },
        get: |c| c.zset_max_listpack_value.to_string(),
        rewrite: Rewrite::Memory,
    },
    Param {
        name: "hll-sparse-max-bytes",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.hll_sparse_max_bytes = memory_value(one(v)?, 0, LONG_MAX)?;
            Ok(())
        },
        get: |c| c.hll_sparse_max_bytes.to_string(),
        rewrite: Rewrite::Memory,
    },
    Param {
        name: "enable-test-controls",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::One,
        set: |c, v, _| {
            c.enable_test_controls = bool_value(one(v)?)?;
            Ok(())
        },
        get: |c| yes_no(c.enable_test_controls),
        rewrite: Rewrite::Plain,
    },
];

/// The comment CONFIG REWRITE puts before the lines it appends.
const REWRITE_MARKER: &str = "# Generated by CONFIG REWRITE";

/// Why CONFIG SET refused a request; [`SetError::redis_text`] is the error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetError {
    /// No such parameter (the name as given).
    Unknown(String),
    /// The parameter exists but cannot take this value now.
    Refused {
        /// The parameter's name, from the request.
        name: String,
        /// Why the value was refused (the error text's tail).
        reason: String,
    },
}

impl SetError {
    /// The error reply, as Redis words it.
    pub fn redis_text(&self) -> String {
        match self {
            SetError::Unknown(name) => {
                format!("ERR Unknown option or number of arguments for CONFIG SET - '{name}'")
            }
            SetError::Refused { name, reason } => {
                format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
            }
        }
    }
}

/// Why CONFIG REWRITE failed.
#[derive(Debug)]
pub enum RewriteError {
    /// The server was not started from a config file.
    NoFile,
    /// Reading or writing the config file failed.
    Io(std::io::Error),
}

impl RewriteError {
    /// The error reply, as Redis words it.
    pub fn redis_text(&self) -> String {
        match self {
            RewriteError::NoFile => "ERR The server is running without a config file".to_string(),
            RewriteError::Io(e) => format!("ERR Rewriting config file: {}", io_reason(e)),
        }
    }
}

/// `path` made absolute against the current directory, without resolving symlinks (as
/// Redis remembers its config file).
fn absolute_path(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Finds a parameter by name or alias, ignoring ASCII case.
fn lookup(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| {
        p.name.eq_ignore_ascii_case(name) || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The single value of a one-value directive. Setters call this instead of
/// indexing so a wrong count can never panic, whoever calls them.
/// `latency-tracking-info-percentiles`: numbers in `[0, 100]`, space-separated (an empty
/// value clears the list), with Redis's texts for what it refuses.
fn percentiles_value(values: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for w in values.iter().flat_map(|v| v.split_whitespace()) {
        let p: f64 = w
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .to_string(),
            );
        }
        out.push(percentile_label(p));
    }
    Ok(out)
}

/// A percentile as Redis prints it in names and CONFIG GET: shortest decimal form (`50`,
/// `99.9`).
pub fn percentile_label(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn one(values: &[String]) -> Result<&str, String> {
    match values {
        [v] => Ok(v),
        _ => Err("wrong number of arguments".to_string()),
    }
}

/// Parses an integer with the same strictness as Redis's `string2ll`: an
/// optional `-`, then digits with no leading zeros, no `+`, no spaces.
fn strict_i64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s).as_bytes();
    let well_formed = match digits {
        [] => false,
        [b'0'] => !s.starts_with('-'),
        [b'0', ..] => false,
        _ => digits.iter().all(u8::is_ascii_digit),
    };
    if well_formed {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses a bounded integer setting and converts it to its field type.
fn int_value<T: TryFrom<i64>>(s: &str, min: i64, max: i64) -> Result<T, String> {
    strict_i64(s)
        .filter(|n| (min..=max).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| match strict_i64(s) {
            None => "argument couldn't be parsed into an integer".to_string(),
            Some(_) => format!("argument must be between {min} and {max} inclusive"),
        })
}

/// Redis's text for an enumerated setting given a word it does not know.
fn one_of(names: &[&str]) -> String {
    format!(
        "argument(s) must be one of the following: {}",
        names.join(", ")
    )
}

/// Parses a bounded memory-size setting (see [`parse_memory`]).
fn memory_value(s: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = parse_memory(s).ok_or_else(|| "argument must be a memory value".to_string())?;
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "argument must be between {min} and {max} inclusive"
        ))
    }
}

/// Parses `yes`/`no` (any case), the only booleans Redis accepts.
fn bool_value(s: &str) -> Result<bool, String> {
    if s.eq_ignore_ascii_case("yes") {
        Ok(true)
    } else if s.eq_ignore_ascii_case("no") {
        Ok(false)
    } else {
        Err("argument must be 'yes' or 'no'".to_string())
    }
}

/// Parses a size the way Redis's `memtoll` does: decimal digits followed by
/// an optional unit, where `k`/`m`/`g` are powers of 1000 and `kb`/`mb`/`gb`
/// powers of 1024 (units are case-insensitive; `b` or no unit means bytes).
///
/// Returns `None` for anything else, including signs, decimals, spaces, a
/// missing number, or a result that does not fit in a `u64`.
pub fn parse_memory(s: &str) -> Option<u64> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    if number.is_empty() {
        return None;
    }
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(multiplier)
}

/// `yes`/`no` as CONFIG GET shows booleans.
fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

/// `appendfilename`/`appenddirname`: a plain name inside `dir`, never a path.
fn file_name_value(s: &str) -> Result<String, String> {
    if s.is_empty() || s.contains('/') {
        return Err("can't be a path, just a file name".to_string());
    }
    Ok(s.to_string())
}

/// `client-output-buffer-limit <class> <hard> <soft> <soft-seconds> [...]`: any subset of
/// the classes `normal`, `replica` (or `slave`) and `pubsub`; classes not named keep their
/// limits. Everything is validated before anything is stored.
fn set_output_limits(c: &mut Config, values: &[String], _: &mut LoadCtx) -> Result<(), String> {
    if !values.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".to_string());
    }
    let mut limits = c.client_output_buffer_limit;
    for group in values.chunks_exact(4) {
        let class = match group[0].to_ascii_lowercase().as_str() {
            "normal" => OBUF_NORMAL,
            "replica" | "slave" => OBUF_REPLICA,
            "pubsub" => OBUF_PUBSUB,
            _ => {
                return Err(
                    "Invalid client class specified in buffer limit configuration.".to_string(),
                )
            }
        };
        let hard = parse_memory(&group[1]);
        let soft = parse_memory(&group[2]);
        let seconds = save_number(&group[3]).and_then(|n| u64::try_from(n).ok());
        let (Some(hard), Some(soft), Some(soft_seconds)) = (hard, soft, seconds) else {
            return Err(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                    .to_string(),
            );
        };
        limits[class] = OutputLimit {
            hard,
            soft,
            soft_seconds,
        };
    }
    c.client_output_buffer_limit = limits;
    Ok(())
}

/// One rewrite line per class, written when the class differs from its default.
fn rewrite_output_limits(c: &Config) -> Vec<(String, bool)> {
    let defaults = Config::default().client_output_buffer_limit;
    ["normal", "replica", "pubsub"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let l = c.client_output_buffer_limit[i];
            let line = format!(
                "client-output-buffer-limit {name} {} {} {}",
                memory_text(l.hard),
                memory_text(l.soft),
                l.soft_seconds
            );
            (line, l != defaults[i])
        })
        .collect()
}

/// `save` lines: one per point, or `save ""`; always written, as Redis does, so the file
/// never falls back to defaults it did not ask for.
fn rewrite_save(c: &Config) -> Vec<(String, bool)> {
    let points = c.save_params();
    if points.is_empty() {
        return vec![("save \"\"".to_string(), true)];
    }
    points
        .into_iter()
        .map(|(s, ch)| (format!("save {s} {ch}"), true))
        .collect()
}

/// A size in the largest unit that divides it exactly (`1gb`, `64mb`, `2kb`, `100`).
fn memory_text(n: u64) -> String {
    const KB: u64 = 1024;
    const GB: u64 = 1024 * MB;
    match n {
        0 => "0".to_string(),
        _ if n.is_multiple_of(GB) => format!("{}gb", n / GB),
        _ if n.is_multiple_of(MB) => format!("{}mb", n / MB),
        _ if n.is_multiple_of(KB) => format!("{}kb", n / KB),
        _ => n.to_string(),
    }
}

/// A string as a double-quoted config argument: `\\`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`
/// escaped, other non-printable bytes as `\xHH` (what the config parser reads back).
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// `bind`: one or more addresses, stored verbatim.
fn set_bind(c: &mut Config, values: &[String], _: &mut LoadCtx) -> Result<(), String> {
    if values.iter().all(String::is_empty) {
        return Err("at least one address is required \
                    (without Unix sockets an empty bind would listen nowhere)"
            .to_string());
    }
    if values.len() > MAX_BIND_ADDRS {
        return Err(format!(
            "too many bind addresses specified (at most {MAX_BIND_ADDRS})"
        ));
    }
    if values.iter().any(String::is_empty) {
        return Err("bind addresses must not be empty".to_string());
    }
    c.bind = values.to_vec();
    Ok(())
}

/// `dir`: must name an existing directory. Relative paths are resolved
/// against the previous `dir`, which is what Redis's `chdir` amounts to, and
/// the canonical absolute path is stored so it never depends on the cwd.
fn set_dir(c: &mut Config, values: &[String], _: &mut LoadCtx) -> Result<(), String> {
    let given = one(values)?;
    if given.is_empty() {
        return Err("No such file or directory".to_string());
    }
    let path = c.dir.join(given);
    let canonical = path.canonicalize().map_err(|e| io_reason(&e))?;
    if !canonical.is_dir() {
        return Err("Not a directory".to_string());
    }
    c.dir = canonical;
    Ok(())
}

/// How `dir` is shown by CONFIG GET: as an absolute path, like Redis's
/// `getcwd`, even while it still holds the relative default.
fn display_dir(dir: &Path) -> String {
    dir.canonicalize()
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf())
        .display()
        .to_string()
}

/// Parses one `save` number the way Redis does (`strtoll` over the whole
/// string: leading whitespace, a sign and leading zeros are allowed).
/// Unlike Redis, a value too large for 64 bits is an error rather than being
/// silently clamped.
fn save_number(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r']);
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Rust's integer parser accepts the same optional sign.
    t.parse().ok()
}

/// `save`: pairs of `<seconds> <changes>` (seconds >= 1, changes >= 0);
/// `save ""` or no values disables snapshots. While loading, the first `save`
/// replaces the defaults and later ones append, as in Redis; CONFIG SET
/// always replaces.
fn set_save(c: &mut Config, values: &[String], ctx: &mut LoadCtx) -> Result<(), String> {
    let explicit_reset = matches!(values, [v] if v.is_empty());
    let values = if explicit_reset { &[][..] } else { values };
    const BAD: &str = "Invalid save parameters";
    if values.len() % 2 != 0 {
        return Err(BAD.to_string());
    }
    let mut points = Vec::with_capacity(values.len() / 2);
    for pair in values.chunks_exact(2) {
        let seconds = save_number(&pair[0]).filter(|&n| n >= 1);
        let changes = save_number(&pair[1]).filter(|&n| (0..=INT_MAX).contains(&n));
        match (seconds, changes) {
            (Some(s), Some(ch)) => points.push(format!("{s} {ch}")),
            _ => return Err(BAD.to_string()),
        }
    }

    let append = ctx.loading && ctx.save_seen && !explicit_reset;
    ctx.save_seen |= ctx.loading;
    if append && !c.save.is_empty() {
        points.insert(0, std::mem::take(&mut c.save));
    }
    c.save = points.join(" ");
    Ok(())
}

/// The reason part of an I/O error, e.g. "No such file or directory",
/// without Rust's "(os error N)" suffix.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Shows one argument of a command-line directive in error messages, quoted
/// when it would otherwise be invisible or ambiguous (empty, spaces, quotes).
fn show_arg(arg: &str) -> Cow<'_, str> {
    let plain = !arg.is_empty()
        && !arg
            .chars()
            .any(|ch| ch.is_whitespace() || ch.is_control() || matches!(ch, '"' | '\'' | '\\'));
    if plain {
        Cow::Borrowed(arg)
    } else {
        Cow::Owned(format!("{arg:?}"))
    }
}

/// Why a directive failed: either a plain message that the caller prefixes
/// with the directive's location, or an error from an included file, which
/// already carries its own location.
enum DirectiveError {
    Message(String),
    Included(ConfigError),
}

impl DirectiveError {
    /// Attaches the location of the directive (`file:line: 'text'` or
    /// `option --name value`).
    fn locate(self, location: &str) -> ConfigError {
        match self {
            DirectiveError::Message(m) => ConfigError::new(format!("{location}: {m}")),
            DirectiveError::Included(e) => {
                ConfigError::new(format!("{e}\n  (included from {location})"))
            }
        }
    }
}

/// The command line after scanning, before anything is loaded.
enum CliPlan {
    Version,
    Help,
    Run {
        file: Option<String>,
        stdin: bool,
        /// Each entry is a directive name followed by its values.
        directives: Vec<Vec<String>>,
    },
}

/// Scans `emberkv` arguments with redis-server's rules (see module docs).
fn scan_cli(args: &[String]) -> Result<CliPlan, ConfigError> {
    let Some(first) = args.first() else {
        return Ok(CliPlan::Run {
            file: None,
            stdin: false,
            directives: Vec::new(),
        });
    };
    // Like redis-server, only the first argument is checked for these.
    match first.as_str() {
        "-v" | "--version" => return Ok(CliPlan::Version),
        "-h" | "--help" => return Ok(CliPlan::Help),
        _ => {}
    }

    let (file, start) = if first.starts_with('-') {
        (None, 0)
    } else {
        (Some(first.clone()), 1)
    };
    let last = args.len() - 1;
    let mut stdin = false;
    let mut directives: Vec<Vec<String>> = Vec::new();
    // True right after a bare `--name`: the next argument is its value even
    // if it starts with `--` (so `--requirepass --x` sets the password).
    let mut awaiting_value = false;

    for (j, arg) in args.iter().enumerate().skip(start) {
        if arg == "-" && (j == 0 || j == last) {
            stdin = true;
        } else if !awaiting_value && arg.starts_with("--") {
            let words = split_args(&arg.as_bytes()[2..])
                .ok_or_else(|| ConfigError::new(format!("option {arg}: unbalanced quotes")))?;
            let mut words =
                utf8_args(words).map_err(|m| ConfigError::new(format!("option {arg}: {m}")))?;
            if words.is_empty() {
                return Err(ConfigError::new(format!(
                    "option {}: missing directive name after '--'",
                    show_arg(arg)
                )));
            }
            awaiting_value = words.len() == 1;
            // `--save` with nothing after it means `--save ""`, which is how
            // scripts that build the command line from a list disable saving.
            if awaiting_value && arg.eq_ignore_ascii_case("--save") {
                let next_is_option = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
                if j == last || next_is_option {
                    words.push(String::new());
                    awaiting_value = false;
                }
            }
            directives.push(words);
        } else {
            match directives.last_mut() {
                Some(directive) => directive.push(arg.clone()),
                None => {
                    return Err(ConfigError::new(format!(
                        "unexpected argument {}: expected a config file or --directive",
                        show_arg(arg)
                    )))
                }
            }
            awaiting_value = false;
        }
    }
    Ok(CliPlan::Run {
        file,
        stdin,
        directives,
    })
}

/// Converts split arguments to strings; all our settings are text.
fn utf8_args(words: Vec<Vec<u8>>) -> Result<Vec<String>, String> {
    words
        .into_iter()
        .map(|w| String::from_utf8(w).map_err(|_| "argument is not valid UTF-8".to_string()))
        .collect()
}

/// Trims the characters Redis strips from both ends of a config line.
fn trim_line(mut line: &[u8]) -> &[u8] {
    let strip = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    while let [first, rest @ ..] = line {
        if !strip(first) {
            break;
        }
        line = rest;
    }
    while let [rest @ .., last] = line {
        if !strip(last) {
            break;
        }
        line = rest;
    }
    line
}

/// Whether an `include` path is a glob pattern (Redis checks for these).
fn has_glob_magic(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// Expands a glob pattern into the sorted list of existing paths it matches,
/// like `glob(3)`: wildcards never match `/`, and a name starting with `.`
/// only matches a pattern component that starts with `.`. No match is not an
/// error (Redis ignores a wildcard include that matches nothing).
fn expand_glob(pattern: &str) -> Vec<PathBuf> {
    use std::path::Component;

    let mut candidates = vec![PathBuf::new()];
    for component in Path::new(pattern).components() {
        let text = match component {
            Component::Normal(part) => part.to_str(),
            _ => None,
        };
        let Some(text) = text.filter(|t| has_glob_magic(t)) else {
            for c in &mut candidates {
                c.push(component.as_os_str());
            }
            continue;
        };
        let pat: Vec<char> = text.chars().collect();
        let mut next = Vec::new();
        for base in &candidates {
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let Some(name) = file_name.to_str() else {
                    continue;
                };
                if name.starts_with('.') && !text.starts_with('.') {
                    continue;
                }
                let name_chars: Vec<char> = name.chars().collect();
                if wildcard_match(&pat, &name_chars) {
                    next.push(base.join(name));
                }
            }
        }
        candidates = next;
    }
    let mut found: Vec<PathBuf> = candidates.into_iter().filter(|p| p.exists()).collect();
    found.sort();
    found
}

/// Matches one path component against a shell wildcard pattern supporting
/// `*`, `?`, `[...]` classes (with `!`/`^` negation and ranges) and `\`
/// escapes. Uses the classic backtrack-to-last-star loop, so it is linear
/// in practice and cannot blow up on hostile patterns.
fn wildcard_match(pat: &[char], name: &[char]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pat.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some('?') => Some(p + 1),
            Some('[') => match class_match(pat, p + 1, name[n]) {
                Some((matched, after)) => matched.then_some(after),
                // No closing bracket: the `[` is an ordinary character.
                None => (name[n] == '[').then_some(p + 1),
            },
            Some('\\') if p + 1 < pat.len() => (pat[p + 1] == name[n]).then_some(p + 2),
            Some(&c) => (c == name[n]).then_some(p + 1),
            None => None,
        };
        match (step, star) {
            (Some(next_p), _) => {
                p = next_p;
                n += 1;
            }
            (None, Some((star_p, star_n))) => {
                p = star_p + 1;
                n = star_n + 1;
                star = Some((star_p, star_n + 1));
            }
            (None, None) => return false,
        }
    }
    pat[p..].iter().all(|&c| c == '*')
}

/// Matches `ch` against the bracket class whose body starts at `start`
/// (just after `[`). Returns whether it matched and the index after the
/// closing `]`, or `None` if the class is never closed.
fn class_match(pat: &[char], start: usize, ch: char) -> Option<(bool, usize)> {
    let mut i = start;
    let negate = matches!(pat.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let c = *pat.get(i)?;
        if c == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if pat.get(i + 1) == Some(&'-') && pat.get(i + 2).is_some_and(|&e| e != ']') {
            let end = *pat.get(i + 2)?;
            matched |= (c..=end).contains(&ch);
            i += 3;
        } else {
            matched |= c == ch;
            i += 1;
        }
    }
}

impl Config {
    /// Builds the configuration from the command line (`args` excludes
    /// `argv[0]`): optional config file, optional `-` for stdin, then
    /// `--directive value...` options applied last so they override the file.
    pub fn from_args<I: IntoIterator<Item = String>>(args: I) -> Result<CliAction, ConfigError> {
        let args: Vec<String> = args.into_iter().collect();
        let (file, stdin, directives) = match scan_cli(&args)? {
            CliPlan::Version => return Ok(CliAction::Version),
            CliPlan::Help => return Ok(CliAction::Help),
            CliPlan::Run {
                file,
                stdin,
                directives,
            } => (file, stdin, directives),
        };

        let mut config = Config::default();
        if let Some(file) = &file {
            config.config_file = Some(absolute_path(Path::new(file)));
        }
        // One context for the whole load, so `save` lines from the file,
        // stdin and options accumulate exactly as they do in Redis.
        let mut ctx = LoadCtx::loading();
        if let Some(file) = file {
            config.load_path(Path::new(&file), &mut ctx)?;
        }
        if stdin {
            let mut text = Vec::new();
            std::io::stdin().read_to_end(&mut text).map_err(|e| {
                ConfigError::new(format!("can't read configuration from stdin: {e}"))
            })?;
            config.apply_bytes(&text, "stdin", &mut ctx)?;
        }
        for directive in &directives {
            let shown: Vec<Cow<'_, str>> = directive.iter().map(|a| show_arg(a)).collect();
            config
                .run_directive(directive, &mut ctx)
                .map_err(|e| e.locate(&format!("option --{}", shown.join(" "))))?;
        }
        Ok(CliAction::Run(config))
    }

    /// Reads and applies a config file. `include` paths inside it that are
    /// relative are resolved against the current working directory, as
    /// Redis does, not against the including file.
    pub fn load_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        self.load_path(path, &mut LoadCtx::loading())
    }

    /// Applies config-file text; `origin` names it in error messages.
    pub fn apply_text(&mut self, text: &str, origin: &str) -> Result<(), ConfigError> {
        self.apply_bytes(text.as_bytes(), origin, &mut LoadCtx::loading())
    }

    /// Applies one directive (`include` or a parameter; name is
    /// case-insensitive, values already split) with config-file semantics.
    /// The file, the command line and CONFIG SET all end up in the same
    /// per-parameter setters, so validation can never diverge between them.
    pub fn apply(&mut self, name: &str, values: &[String]) -> Result<(), String> {
        let mut argv = Vec::with_capacity(values.len() + 1);
        argv.push(name.to_string());
        argv.extend_from_slice(values);
        self.run_directive(&argv, &mut LoadCtx::loading())
            .map_err(|e| match e {
                DirectiveError::Message(m) => m,
                DirectiveError::Included(e) => e.to_string(),
            })
    }

    /// Every parameter with its current value, formatted as CONFIG GET
    /// prints it (numbers in plain bytes/seconds, booleans as yes/no).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        PARAMS.iter().map(|p| (p.name, (p.get)(self))).collect()
    }

    /// One parameter's CONFIG GET value; `None` if the name is unknown.
    pub fn get_param(&self, name: &str) -> Option<String> {
        lookup(name).map(|p| (p.get)(self))
    }

    /// CONFIG SET: validates and applies `value`, or returns the reason it
    /// was refused (unknown, immutable or protected parameter, bad value).
    /// Multi-value parameters such as `save` take their values separated by
    /// single spaces, as Redis splits them. Nothing changes on error.
    pub fn set_param(&mut self, name: &str, value: &str) -> Result<(), String> {
        let param = lookup(name).ok_or_else(|| format!("unknown parameter '{name}'"))?;
        match param.access {
            Access::Mutable => {}
            Access::Immutable => return Err("can't set immutable config".to_string()),
            Access::Protected => return Err("can't set protected config".to_string()),
        }
        let values: Vec<String> = match param.arity {
            Arity::One => vec![value.to_string()],
            Arity::Many if value.is_empty() => Vec::new(),
            Arity::Many => value.split(' ').map(str::to_string).collect(),
        };
        (param.set)(self, &values, &mut LoadCtx::runtime())
    }

    /// Sets one directive with startup semantics, as a config-file line or a command-line
    /// option would (immutable directives such as `port` or `enable-test-controls` included):
    /// the in-process builder's `.set(name, value)`. The value is split like CONFIG SET
    /// splits it (`save` takes `"3600 1 300 100"`, `""` clears it). Nothing changes on
    /// error, which names the directive and says why, as CONFIG SET would.
    ///
    /// ```
    /// let mut c = emberkv::Config::default();
    /// c.set_startup("maxmemory", "10mb").unwrap();
    /// assert_eq!(c.maxmemory, 10 * 1024 * 1024);
    /// let e = c.set_startup("maxmemory", "lots").unwrap_err();
    /// assert!(e.message().contains("maxmemory"));
    /// assert!(c.set_startup("no-such-thing", "1").is_err());
    /// ```
    pub fn set_startup(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let param = lookup(name)
            .ok_or_else(|| ConfigError::new(format!("unknown configuration directive '{name}'")))?;
        let values: Vec<String> = match param.arity {
            Arity::One => vec![value.to_string()],
            Arity::Many if value.is_empty() => Vec::new(),
            Arity::Many => value.split(' ').map(str::to_string).collect(),
        };
        let mut next = self.clone();
        (param.set)(&mut next, &values, &mut LoadCtx::loading()).map_err(|e| {
            ConfigError::new(format!(
                "invalid value for '{}' ({value:?}): {e}",
                param.name
            ))
        })?;
        *self = next;
        Ok(())
    }

    /// Reads a config file into a fresh configuration that remembers the file (absolute), so
    /// CONFIG REWRITE can update it: what [`crate::ServerBuilder::config`] wants for a server
    /// started from a file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        config.load_file(path)?;
        config.config_file = Some(absolute_path(path));
        Ok(config)
    }

    /// CONFIG GET: every parameter matching one of `patterns`, as `(name, value)` pairs.
    ///
    /// A pattern without glob characters (`*?[`) is looked up directly, by name or alias in
    /// any case, and reported under the name as given. A glob is matched case-insensitively
    /// against every name *and* alias, each reported as matched (so `*` lists
    /// `busy-reply-threshold` and `lua-time-limit`). A parameter is reported once per name.
    pub fn get_matching(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let add = |out: &mut Vec<(String, String)>, key: &str, p: &'static Param| {
            if !out.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
                out.push((key.to_string(), (p.get)(self)));
            }
        };
        for &pattern in patterns {
            if !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                let name = String::from_utf8_lossy(pattern);
                if let Some(p) = lookup(&name) {
                    add(&mut out, &name, p);
                }
                continue;
            }
            for p in PARAMS {
                for key in std::iter::once(&p.name).chain(p.aliases) {
                    if crate::storage::glob::glob_match(pattern, key.as_bytes(), true) {
                        add(&mut out, key, p);
                    }
                }
            }
        }
        out
    }

    /// CONFIG SET with several `(name, value)` pairs, applied all or none.
    ///
    /// As in Redis, every name is checked first (unknown, immutable or protected, given
    /// twice), then the values are applied in order to a copy; the first bad value refuses
    /// the whole command and nothing changes.
    pub fn set_many(&mut self, pairs: &[(String, String)]) -> Result<(), SetError> {
        let mut params = Vec::with_capacity(pairs.len());
        for (i, (name, _)) in pairs.iter().enumerate() {
            let param = lookup(name).ok_or_else(|| SetError::Unknown(name.clone()))?;
            let refuse = |reason: &str| SetError::Refused {
                name: name.clone(),
                reason: reason.to_string(),
            };
            match param.access {
                Access::Mutable => {}
                Access::Immutable => return Err(refuse("can't set immutable config")),
                Access::Protected => return Err(refuse("can't set protected config")),
            }
            if pairs[..i].iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                return Err(refuse("duplicate parameter"));
            }
            params.push(param);
        }
        let mut next = self.clone();
        for (param, (name, value)) in params.into_iter().zip(pairs) {
            let values: Vec<String> = match param.arity {
                Arity::One => vec![value.clone()],
                Arity::Many if value.is_empty() => Vec::new(),
                Arity::Many => value.split(' ').map(str::to_string).collect(),
            };
            (param.set)(&mut next, &values, &mut LoadCtx::runtime()).map_err(|reason| {
                SetError::Refused {
                    name: name.to_ascii_lowercase(),
                    reason,
                }
            })?;
        }
        *self = next;
        Ok(())
    }

    /// CONFIG REWRITE: the new text of a config file whose current text is `old`.
    ///
    /// Comments, blank lines, `include` and unknown lines stay where they are (runs of blank
    /// lines become one). For each parameter, the lines it would write replace its lines in
    /// the file in order, starting at its first occurrence (aliases count as the parameter);
    /// leftover occurrences become blank. A line whose value differs from the default and
    /// has no place in the file is appended after a blank line and, once per file, the
    /// `# Generated by CONFIG REWRITE` marker. Parameters at their default that the file does
    /// not mention stay unmentioned.
    pub fn rewrite_text(&self, old: &str) -> String {
        let mut lines: Vec<String> = Vec::new();
        // Lines of the file per canonical (or lower-cased unknown) option name, in order.
        let mut by_option: Vec<(String, std::collections::VecDeque<usize>)> = Vec::new();
        let mut has_marker = false;
        let mut pieces: Vec<&str> = old.split('\n').collect();
        if pieces.last() == Some(&"") {
            pieces.pop();
        }
        for raw in pieces {
            let line = String::from_utf8_lossy(trim_line(raw.as_bytes())).into_owned();
            if line.is_empty() || line.starts_with('#') {
                has_marker |= line == REWRITE_MARKER;
                lines.push(line);
                continue;
            }
            let name = split_args(line.as_bytes())
                .and_then(|words| words.into_iter().next())
                .map(|w| String::from_utf8_lossy(&w).to_ascii_lowercase());
            if let Some(name) = name {
                let key = lookup(&name).map_or(name, |p| p.name.to_string());
                match by_option.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, at)) => at.push_back(lines.len()),
                    None => by_option.push((key, [lines.len()].into())),
                }
            }
            lines.push(line);
        }

        let defaults = Config::default();
        let mut appended: Vec<String> = Vec::new();
        for p in PARAMS {
            let new_lines = match p.rewrite {
                Rewrite::Lines(f) => f(self),
                kind => {
                    let value = (p.get)(self);
                    let force = value != (p.get)(&defaults);
                    let shown = match kind {
                        Rewrite::Memory => value.parse().map_or(value, memory_text),
                        Rewrite::Quoted => quote(&value),
                        _ => value,
                    };
                    vec![(format!("{} {shown}", p.name), force)]
                }
            };
            let mut slots = by_option
                .iter_mut()
                .find(|(k, _)| k == p.name)
                .map(|(_, at)| at);
            for (line, force) in new_lines {
                match slots.as_mut().and_then(|at| at.pop_front()) {
                    Some(i) => lines[i] = line,
                    None if force => appended.push(line),
                    None => {}
                }
            }
            // Occurrences the parameter no longer needs (duplicates, fewer save points).
            if let Some(at) = slots {
                for i in at.drain(..) {
                    lines[i].clear();
                }
            }
        }
        if !appended.is_empty() {
            lines.push(String::new());
            if !has_marker {
                lines.push(REWRITE_MARKER.to_string());
            }
            lines.extend(appended);
        }

        let mut out = String::new();
        let mut previous_blank = false;
        for line in &lines {
            let blank = line.is_empty();
            if blank && previous_blank {
                continue;
            }
            previous_blank = blank;
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// CONFIG REWRITE: rewrites [`Config::config_file`] (see [`Config::rewrite_text`])
    /// atomically: the new text goes to a temporary file in the same directory, is synced,
    /// and replaces the old file with a rename, so a crash never leaves half a file.
    pub fn rewrite_file(&self) -> Result<(), RewriteError> {
        use std::io::Write;
        let path = self.config_file.as_ref().ok_or(RewriteError::NoFile)?;
        let old = match std::fs::read(path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            // Redis recreates a config file that has disappeared.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(RewriteError::Io(e)),
        };
        let text = self.rewrite_text(&old);
        let dir = path.parent().unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.rewrite-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            if let Ok(meta) = std::fs::metadata(path) {
                let _ = std::fs::set_permissions(&tmp, meta.permissions());
            }
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            RewriteError::Io(e)
        })
    }

    /// The `save` points as `(seconds, changes)` pairs, for the snapshot
    /// scheduler. Empty when snapshots are disabled.
    pub fn save_params(&self) -> Vec<(u64, u64)> {
        let numbers: Vec<u64> = self
            .save
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        numbers
            .chunks_exact(2)
            .map(|pair| (pair[0], pair[1]))
            .collect()
    }

    /// Reads a file and applies it as configuration text.
    fn load_path(&mut self, path: &Path, ctx: &mut LoadCtx) -> Result<(), ConfigError> {
        let text = std::fs::read(path).map_err(|e| {
            ConfigError::new(format!(
                "can't open config file '{}': {}",
                path.display(),
                io_reason(&e)
            ))
        })?;
        self.apply_bytes(&text, &path.display().to_string(), ctx)
    }

    /// Applies configuration text line by line. Works on bytes so that a
    /// stray non-UTF-8 byte in a comment is harmless; only arguments must be
    /// valid UTF-8.
    fn apply_bytes(
        &mut self,
        text: &[u8],
        origin: &str,
        ctx: &mut LoadCtx,
    ) -> Result<(), ConfigError> {
        for (index, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = trim_line(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let location = format!(
                "{origin}:{}: '{}'",
                index + 1,
                String::from_utf8_lossy(line)
            );
            let words = split_args(line).ok_or_else(|| {
                ConfigError::new(format!(
                    "{location}: unbalanced quotes in configuration line"
                ))
            })?;
            let argv =
                utf8_args(words).map_err(|m| ConfigError::new(format!("{location}: {m}")))?;
            if argv.is_empty() {
                continue;
            }
            self.run_directive(&argv, ctx)
                .map_err(|e| e.locate(&location))?;
        }
        Ok(())
    }

    /// Applies one split directive line (name followed by values).
    fn run_directive(&mut self, argv: &[String], ctx: &mut LoadCtx) -> Result<(), DirectiveError> {
        let Some((name, values)) = argv.split_first() else {
            return Ok(());
        };
        if name.eq_ignore_ascii_case("include") {
            return match values {
                [path] => self.include(path, ctx),
                _ => Err(DirectiveError::Message(
                    "wrong number of arguments: include takes exactly one path".to_string(),
                )),
            };
        }
        let param = lookup(name)
            .ok_or_else(|| DirectiveError::Message(format!("unknown directive '{name}'")))?;
        let split;
        let values = match (param.arity, values) {
            (Arity::One, [_]) => values,
            (Arity::One, _) => {
                return Err(DirectiveError::Message(
                    "wrong number of arguments".to_string(),
                ))
            }
            (Arity::Many, [single]) if !single.is_empty() => {
                let words = split_args(single.as_bytes()).ok_or_else(|| {
                    DirectiveError::Message("unbalanced quotes in argument".to_string())
                })?;
                split = utf8_args(words).map_err(DirectiveError::Message)?;
                &split[..]
            }
            (Arity::Many, _) => values,
        };
        (param.set)(self, values, ctx).map_err(DirectiveError::Message)
    }

    /// Handles `include <path-or-glob>`.
    fn include(&mut self, path: &str, ctx: &mut LoadCtx) -> Result<(), DirectiveError> {
        if ctx.depth >= MAX_INCLUDE_DEPTH {
            return Err(DirectiveError::Message(format!(
                "includes nested more than {MAX_INCLUDE_DEPTH} levels deep \
                 (does a file include itself?)"
            )));
        }
        let files = if has_glob_magic(path) {
            expand_glob(path)
        } else {
            vec![PathBuf::from(path)]
        };
        for file in files {
            ctx.depth += 1;
            let result = self.load_path(&file, ctx);
            ctx.depth -= 1;
            result.map_err(DirectiveError::Included)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh scratch directory per test (tests run in parallel and must
    /// not share files); removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("emberkv-config-{}-{tag}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("create temp dir");
            TempDir(dir)
        }

        /// Writes `name` inside the directory and returns its path as text.
        fn write(&self, name: &str, text: &str) -> String {
            let path = self.0.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("create parent");
            }
            std::fs::write(&path, text).expect("write file");
            path.display().to_string()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn run(list: &[&str]) -> Config {
        match Config::from_args(args(list)) {
            Ok(CliAction::Run(c)) => c,
            Ok(other) => panic!("expected Run for {list:?}, got {other:?}"),
            Err(e) => panic!("unexpected error for {list:?}: {e}"),
        }
    }

    fn cli_err(list: &[&str]) -> String {
        match Config::from_args(args(list)) {
            Err(e) => e.to_string(),
            Ok(other) => panic!("expected error for {list:?}, got {other:?}"),
        }
    }

    fn text(conf: &str) -> Result<Config, String> {
        let mut c = Config::default();
        c.apply_text(conf, "test.conf").map_err(|e| e.to_string())?;
        Ok(c)
    }

    fn text_err(conf: &str) -> String {
        match text(conf) {
            Err(e) => e,
            Ok(c) => panic!("expected error for {conf:?}, got {c:?}"),
        }
    }

    #[test]
    fn defaults_match_redis() {
        let c = Config::default();
        assert_eq!(c.port, 6379);
        assert_eq!(c.bind, ["127.0.0.1"]);
        assert_eq!(c.databases, 16);
        assert_eq!(c.requirepass, None);
        assert_eq!(c.timeout, 0);
        assert_eq!(c.maxclients, 10000);
        assert_eq!(c.dir, PathBuf::from("."));
        assert_eq!(c.loglevel, LogLevel::Notice);
        assert_eq!(c.logfile, "");
        assert_eq!(c.save, "3600 1 300 100 60 10000");
        assert_eq!(c.proto_max_bulk_len, 536_870_912);
        assert_eq!(c.client_query_buffer_limit, 1_073_741_824);
        assert!(!c.daemonize);
        assert_eq!(c.save_params(), [(3600, 1), (300, 100), (60, 10000)]);
    }

    #[test]
    fn params_print_like_config_get() {
        let c = Config::default();
        let get = |n: &str| c.get_param(n).expect("known param");
        assert_eq!(get("port"), "6379");
        assert_eq!(get("bind"), "127.0.0.1");
        assert_eq!(get("save"), "3600 1 300 100 60 10000");
        assert_eq!(get("proto-max-bulk-len"), "536870912");
        assert_eq!(get("client-query-buffer-limit"), "1073741824");
        assert_eq!(get("requirepass"), "");
        assert_eq!(get("daemonize"), "no");
        assert_eq!(get("loglevel"), "notice");
        assert!(Path::new(&get("dir")).is_absolute());
        assert_eq!(get("PORT"), "6379");
        assert_eq!(c.get_param("nope"), None);

        let names: Vec<&str> = c.params().iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), PARAMS.len());
        for p in PARAMS {
            assert!(names.contains(&p.name));
        }
    }

    #[test]
    fn no_arguments_runs_with_defaults() {
        assert_eq!(run(&[]), Config::default());
    }

    #[test]
    fn version_and_help() {
        for flag in ["-v", "--version"] {
            assert!(matches!(
                Config::from_args(args(&[flag])),
                Ok(CliAction::Version)
            ));
        }
        for flag in ["-h", "--help"] {
            assert!(matches!(
                Config::from_args(args(&[flag])),
                Ok(CliAction::Help)
            ));
        }
        // Like redis-server, only the first argument is a flag; later it is
        // a (nonexistent) directive.
        let e = cli_err(&["--port", "1", "--version"]);
        assert!(e.contains("unknown directive 'version'"), "{e}");
    }

    #[test]
    fn file_with_comments_quotes_and_case() {
        let c = text(
            "# a comment\n\
             \n\
             \t   # indented comment\r\n\
             PORT 7000\r\n\
             bind 127.0.0.1 \"-::1\"\n\
             requirepass 'it\\'s \"secret\"'\n\
             LogLevel WARNING\n\
             proto-max-bulk-len 2MB\n\
             client-query-buffer-limit 1gb\n\
             timeout 300\n\
             maxclients 128\n\
             databases 4\n\
             logfile \"/tmp/ember log.txt\"\n\
             daemonize no\n",
        )
        .expect("valid config");
        assert_eq!(c.port, 7000);
        assert_eq!(c.bind, ["127.0.0.1", "-::1"]);
        assert_eq!(c.requirepass.as_deref(), Some("it's \"secret\""));
        assert_eq!(c.loglevel, LogLevel::Warning);
        assert_eq!(c.proto_max_bulk_len, 2 * MB);
        assert_eq!(c.client_query_buffer_limit, 1024 * MB);
        assert_eq!(c.timeout, 300);
        assert_eq!(c.maxclients, 128);
        assert_eq!(c.databases, 4);
        assert_eq!(c.logfile, "/tmp/ember log.txt");
        assert_eq!(c.get_param("bind").as_deref(), Some("127.0.0.1 -::1"));
    }

    #[test]
    fn later_lines_override_earlier_ones() {
        let c = text("port 1\nport 2\nrequirepass x\nrequirepass \"\"\n").expect("valid");
        assert_eq!(c.port, 2);
        assert_eq!(c.requirepass, None);
    }

    #[test]
    fn multi_value_directive_given_as_one_quoted_value_is_split() {
        let c = text("bind \"10.0.0.1 10.0.0.2\"\nsave \"60  1\"\n").expect("valid");
        assert_eq!(c.bind, ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(c.save, "60 1");
    }

    #[test]
    fn save_lines_replace_defaults_then_accumulate() {
        assert_eq!(
            text("save 900 1\nsave 300 10\n").expect("valid").save,
            "900 1 300 10"
        );
        assert_eq!(text("save 900 1\nsave \"\"\n").expect("valid").save, "");
        assert_eq!(
            text("save 900 1\nsave \"\"\nsave 60 5\n")
                .expect("valid")
                .save,
            "60 5"
        );
        // No values at all also disables saving, like Redis.
        assert_eq!(text("save\n").expect("valid").save, "");
        // Numbers are normalised as Redis stores them.
        assert_eq!(text("save +05 007\n").expect("valid").save, "5 7");
        assert_eq!(text("save 60 0\n").expect("valid").save_params(), [(60, 0)]);
    }

    #[test]
    fn save_validation() {
        for bad in [
            "save 60",
            "save 0 1",
            "save -1 1",
            "save 1 -1",
            "save 1 1x",
            "save x",
            "save 60 1 \"\"",
        ] {
            let e = text_err(bad);
            assert!(e.contains("Invalid save parameters"), "{bad}: {e}");
        }
    }

    #[test]
    fn include_files_and_globs() {
        let tmp = TempDir::new("include");
        let inner = tmp.write("inner.conf", "port 7001\ntimeout 5\n");
        let main = tmp.write(
            "main.conf",
            &format!("port 7000\ninclude {inner}\ndatabases 3\n"),
        );
        let mut c = Config::default();
        c.load_file(Path::new(&main)).expect("valid");
        assert_eq!((c.port, c.timeout, c.databases), (7001, 5, 3));

        // Wildcards: matching files in alphabetical order, dotfiles and
        // non-matching names skipped, and no match at all is not an error.
        tmp.write("frag/b.conf", "port 2\n");
        tmp.write("frag/a.conf", "port 1\nmaxclients 7\n");
        tmp.write("frag/.hidden.conf", "port 3\n");
        tmp.write("frag/c.txt", "port 4\n");
        let pattern = tmp.0.join("frag").join("*.conf");
        let nothing = tmp.0.join("nowhere").join("*.conf");
        let c = text(&format!(
            "include {}\ninclude {}\n",
            pattern.display(),
            nothing.display()
        ))
        .expect("valid");
        assert_eq!((c.port, c.maxclients), (2, 7));
        let c = text(&format!(
            "include {}\n",
            tmp.0.join("frag").join("[a]?conf").display()
        ))
        .expect("valid");
        assert_eq!(c.port, 1);
        let c = text(&format!(
            "include {}\n",
            tmp.0.join("fr*").join("[!b].c?nf").display()
        ))
        .expect("valid");
        assert_eq!(c.port, 1);
    }

    #[test]
    fn include_errors_are_located() {
        let tmp = TempDir::new("include-err");
        let inner = tmp.write("inner.conf", "# hi\nport abc\n");
        let main = tmp.write("main.conf", &format!("\ninclude {inner}\n"));
        let mut c = Config::default();
        let e = c
            .load_file(Path::new(&main))
            .expect_err("bad port")
            .to_string();
        assert!(
            e.starts_with(&format!(
                "{inner}:2: 'port abc': argument couldn't be parsed"
            )),
            "{e}"
        );
        assert!(
            e.contains(&format!("included from {main}:2: 'include {inner}'")),
            "{e}"
        );

        let e = text_err("include /nonexistent/emberkv.conf");
        assert!(
            e.contains("can't open config file '/nonexistent/emberkv.conf'"),
            "{e}"
        );
        assert!(e.contains("No such file or directory"), "{e}");

        let e = text_err("include a b");
        assert!(
            e.starts_with("test.conf:1: 'include a b': wrong number of arguments"),
            "{e}"
        );
    }

    #[test]
    fn include_loop_is_refused() {
        let tmp = TempDir::new("loop");
        let path = tmp.0.join("self.conf");
        tmp.write("self.conf", &format!("include {}\n", path.display()));
        let mut c = Config::default();
        let e = c.load_file(&path).expect_err("loop").to_string();
        assert!(e.contains("nested more than 16 levels"), "{e}");
    }

    #[test]
    fn file_errors_name_file_and_line() {
        assert_eq!(
            text_err("# c\n\nport abc\n"),
            "test.conf:3: 'port abc': argument couldn't be parsed into an integer"
        );
        assert_eq!(
            text_err("foo bar"),
            "test.conf:1: 'foo bar': unknown directive 'foo'"
        );
        assert_eq!(
            text_err("port 1 2"),
            "test.conf:1: 'port 1 2': wrong number of arguments"
        );
        assert_eq!(
            text_err("port"),
            "test.conf:1: 'port': wrong number of arguments"
        );
        assert_eq!(
            text_err("port 6379 # trailing comment"),
            "test.conf:1: 'port 6379 # trailing comment': wrong number of arguments"
        );
        assert_eq!(
            text_err("port 1\nrequirepass \"abc"),
            "test.conf:2: 'requirepass \"abc': unbalanced quotes in configuration line"
        );
        assert_eq!(
            text_err("requirepass \"abc\"def"),
            "test.conf:1: 'requirepass \"abc\"def': unbalanced quotes in configuration line"
        );
        let e = text_err("requirepass \"\\xff\"");
        assert!(e.ends_with("argument is not valid UTF-8"), "{e}");
    }

    #[test]
    fn values_are_validated_like_redis() {
        let bad = [
            "port 65536",
            "port -1",
            "port 007",
            "port +1",
            "port \" 1\"",
            "databases 0",
            "databases 2147483648",
            "timeout -1",
            "timeout 2147483648",
            "maxclients 0",
            "maxclients 4294967296",
            "loglevel warn",
            "daemonize 1",
            "daemonize yes",
            "proto-max-bulk-len 1048575",
            "proto-max-bulk-len 1.5mb",
            "proto-max-bulk-len -1",
            "proto-max-bulk-len 9223372036854775808",
            "client-query-buffer-limit 1kb",
            "dir /nonexistent/really",
            "dir \"\"",
            "bind \"\"",
            "bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17",
            "requirepass a b",
            "logfile",
        ];
        for line in bad {
            assert!(text(line).is_err(), "{line} should be refused");
        }
        let good = [
            "port 0",
            "port 65535",
            "databases 2147483647",
            "timeout 2147483647",
            "maxclients 4294967295",
            "loglevel DEBUG",
            "loglevel nothing",
            "daemonize NO",
            "proto-max-bulk-len 1mb",
            "proto-max-bulk-len 01MB",
            "proto-max-bulk-len 9223372036854775807",
            "client-query-buffer-limit 1g",
            "requirepass \"\"",
            "logfile \"\"",
            "bind * -::*",
        ];
        for line in good {
            assert!(
                text(line).is_ok(),
                "{line} should be accepted: {:?}",
                text(line)
            );
        }
        let e = text_err("daemonize yes");
        assert!(e.contains("not supported"), "{e}");
        let e = text_err("dir /etc/hostname");
        assert!(e.ends_with("Not a directory"), "{e}");
    }

    #[test]
    fn dir_is_stored_absolute_and_resolves_relative_to_previous_dir() {
        let tmp = TempDir::new("dir");
        std::fs::create_dir_all(tmp.0.join("sub")).expect("mkdir");
        let base = tmp.0.canonicalize().expect("canonical");
        let c = text(&format!("dir {}\ndir sub\n", tmp.0.display())).expect("valid");
        assert_eq!(c.dir, base.join("sub"));
        assert_eq!(
            c.get_param("dir"),
            Some(base.join("sub").display().to_string())
        );
    }

    #[test]
    fn cli_overrides_file_in_order() {
        let tmp = TempDir::new("cli");
        let conf = tmp.write("e.conf", "port 7000\ntimeout 10\nsave 60 1\n");
        let c = run(&[&conf, "--port", "7001", "--timeout", "20", "--port", "7002"]);
        assert_eq!((c.port, c.timeout), (7002, 20));
        // `save` accumulates across the file and options, as in Redis...
        assert_eq!(run(&[&conf, "--save", "30", "2"]).save, "60 1 30 2");
        // ...and `--save ''` clears it.
        assert_eq!(run(&[&conf, "--save", ""]).save, "");
    }

    #[test]
    fn cli_save_forms() {
        assert_eq!(run(&["--save", ""]).save, "");
        assert_eq!(run(&["--save"]).save, "");
        let c = run(&["--save", "--port", "7000"]);
        assert_eq!((c.save.as_str(), c.port), ("", 7000));
        assert_eq!(run(&["--save", "60 1"]).save, "60 1");
        assert_eq!(
            run(&["--save", "60", "1", "--save", "30", "2"]).save,
            "60 1 30 2"
        );
        assert_eq!(
            run(&["--save", "60", "1", "--save", "", "--save", "30", "2"]).save,
            "30 2"
        );
    }

    #[test]
    fn cli_multi_value_and_odd_forms() {
        assert_eq!(
            run(&["--bind", "127.0.0.1", "-::1"]).bind,
            ["127.0.0.1", "-::1"]
        );
        assert_eq!(
            run(&["--bind", "10.0.0.1 10.0.0.2"]).bind,
            ["10.0.0.1", "10.0.0.2"]
        );
        // Name and value in one argument, as redis-server allows.
        assert_eq!(run(&["--port 7005"]).port, 7005);
        // The first value may look like an option.
        assert_eq!(
            run(&["--requirepass", "--weird"]).requirepass.as_deref(),
            Some("--weird")
        );
        assert_eq!(run(&["--PORT", "1"]).port, 1);
        assert_eq!(
            run(&["--requirepass", "a b"]).requirepass.as_deref(),
            Some("a b")
        );
    }

    #[test]
    fn cli_errors_name_the_option() {
        assert_eq!(
            cli_err(&["--port", "abc"]),
            "option --port abc: argument couldn't be parsed into an integer"
        );
        assert_eq!(
            cli_err(&["--port"]),
            "option --port: wrong number of arguments"
        );
        assert_eq!(
            cli_err(&["--port", "1", "2"]),
            "option --port 1 2: wrong number of arguments"
        );
        assert_eq!(
            cli_err(&["--foo", "1"]),
            "option --foo 1: unknown directive 'foo'"
        );
        assert_eq!(
            cli_err(&["--save", "x"]),
            "option --save x: Invalid save parameters"
        );
        assert_eq!(
            cli_err(&["--requirepass", "a", "b c"]),
            "option --requirepass a \"b c\": wrong number of arguments"
        );
        let e = cli_err(&["-x"]);
        assert!(e.starts_with("unexpected argument -x"), "{e}");
        let e = cli_err(&["--port \"1"]);
        assert!(e.contains("unbalanced quotes"), "{e}");
        let e = cli_err(&["/nonexistent/emberkv.conf"]);
        assert!(
            e.starts_with("can't open config file '/nonexistent/emberkv.conf'"),
            "{e}"
        );
    }

    #[test]
    fn cli_include_works_like_a_file_line() {
        let tmp = TempDir::new("cli-include");
        let conf = tmp.write("i.conf", "maxclients 9\n");
        assert_eq!(run(&["--include", &conf]).maxclients, 9);
    }

    #[test]
    fn apply_is_the_shared_entry_point() {
        let mut c = Config::default();
        c.apply("Port", &args(&["1234"])).expect("valid");
        c.apply("bind", &args(&["::1", "127.0.0.1"]))
            .expect("valid");
        assert_eq!(
            (c.port, c.bind.clone()),
            (1234, args(&["::1", "127.0.0.1"]))
        );
        assert_eq!(
            c.apply("nope", &[]),
            Err("unknown directive 'nope'".to_string())
        );
        assert_eq!(
            c.apply("port", &args(&["x"])),
            Err("argument couldn't be parsed into an integer".to_string())
        );
    }

    #[test]
    fn set_param_round_trips() {
        let mut c = Config::default();
        let cases = [
            ("timeout", "30", "30"),
            ("maxclients", "50", "50"),
            ("requirepass", "s3cret", "s3cret"),
            ("requirepass", "", ""),
            ("loglevel", "VERBOSE", "verbose"),
            ("save", "60 1 30 2", "60 1 30 2"),
            ("save", "", ""),
            ("proto-max-bulk-len", "2mb", "2097152"),
            ("client-query-buffer-limit", "1gb", "1073741824"),
        ];
        for (name, value, shown) in cases {
            c.set_param(name, value)
                .unwrap_or_else(|e| panic!("{name} {value}: {e}"));
            assert_eq!(c.get_param(name).as_deref(), Some(shown), "{name}");
        }
        // Runtime save replaces rather than appends.
        c.set_param("save", "100 1").expect("valid");
        c.set_param("save", "200 2").expect("valid");
        assert_eq!(c.save, "200 2");
        assert_eq!(c.requirepass, None);
    }

    #[test]
    fn set_param_refusals_leave_config_unchanged() {
        let mut c = Config::default();
        let before = c.clone();
        for name in ["port", "bind", "databases", "daemonize", "logfile"] {
            let value = c.get_param(name).expect("known");
            assert_eq!(
                c.set_param(name, &value),
                Err("can't set immutable config".to_string())
            );
        }
        assert_eq!(
            c.set_param("dir", "/tmp"),
            Err("can't set protected config".to_string())
        );
        assert_eq!(
            c.set_param("nope", "1"),
            Err("unknown parameter 'nope'".to_string())
        );
        // Redis splits CONFIG SET values on single spaces, so stray spaces
        // produce empty words and are refused.
        for value in ["60", "60  1", " 60 1", "60 1 ", "60\t1", "0 1"] {
            assert!(c.set_param("save", value).is_err(), "save {value:?}");
        }
        assert!(c.set_param("timeout", "abc").is_err());
        assert!(c.set_param("maxclients", "0").is_err());
        assert!(c.set_param("loglevel", "loud").is_err());
        assert!(c.set_param("proto-max-bulk-len", "1k").is_err());
        assert_eq!(c, before);
    }

    #[test]
    fn config_set_errors_are_redis_texts() {
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
            list.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        let err = |list: &[(&str, &str)]| {
            let mut c = Config::default();
            let before = c.clone();
            let e = c.set_many(&pairs(list)).expect_err("refused").redis_text();
            assert_eq!(c, before, "{list:?} changed the config");
            e
        };
        let failed = |name: &str, reason: &str| {
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
        };
        assert_eq!(
            err(&[("maxmemory", "1"), ("foo", "bar")]),
            "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
        );
        assert_eq!(
            err(&[("maxmemory", "abc")]),
            failed("maxmemory", "argument must be a memory value")
        );
        assert_eq!(
            err(&[("MAXmemory", "1"), ("MAXMEMORY", "2")]),
            failed("MAXMEMORY", "duplicate parameter")
        );
        // Names are all checked before any value.
        assert_eq!(
            err(&[("maxmemory", "x"), ("DIR", "/tmp")]),
            failed("DIR", "can't set protected config")
        );
        assert_eq!(
            err(&[("tcp-backlog", "5")]),
            failed("tcp-backlog", "can't set immutable config")
        );
        // Applied all or none: the good first pair is not kept.
        assert_eq!(
            err(&[("maxmemory", "1mb"), ("MAXMEMORY-samples", "0")]),
            failed(
                "maxmemory-samples",
                "argument must be between 1 and 2147483647 inclusive"
            )
        );
        assert_eq!(
            err(&[("timeout", "007")]),
            failed("timeout", "argument couldn't be parsed into an integer")
        );
        assert_eq!(
            err(&[("notify-keyspace-events", "Z")]),
            failed(
                "notify-keyspace-events",
                "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
            )
        );
        assert_eq!(
            err(&[("appendfsync", "x")]),
            failed(
                "appendfsync",
                "argument(s) must be one of the following: everysec, always, no"
            )
        );
        assert_eq!(
            err(&[("protected-mode", "maybe")]),
            failed("protected-mode", "argument must be 'yes' or 'no'")
        );
        for (value, reason) in [
            (
                "normal 0 0",
                "Wrong number of arguments in buffer limit configuration.",
            ),
            (
                "master 0 0 0",
                "Invalid client class specified in buffer limit configuration.",
            ),
            (
                "normal 1 2 3 pubsub a 0 0",
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
            ),
        ] {
            assert_eq!(
                err(&[("client-output-buffer-limit", value)]),
                failed("client-output-buffer-limit", reason)
            );
        }

        let mut c = Config::default();
        c.set_many(&pairs(&[
            ("maxmemory", "1mb"),
            ("maxmemory-policy", "ALLKEYS-LRU"),
            ("lua-time-limit", "100"),
            ("hz", "1000"),
            ("client-output-buffer-limit", "Slave 1mb 2 3"),
        ]))
        .expect("valid");
        assert_eq!(c.maxmemory, MB);
        assert_eq!(c.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
        assert_eq!(c.busy_reply_threshold, 100);
        assert_eq!(c.hz, 500);
        assert_eq!(
            c.get_param("client-output-buffer-limit").as_deref(),
            Some("normal 0 0 0 slave 1048576 2 3 pubsub 33554432 8388608 60")
        );
    }

    #[test]
    fn config_get_matches_names_and_aliases() {
        let c = Config::default();
        let get = |patterns: &[&str]| {
            let p: Vec<&[u8]> = patterns.iter().map(|p| p.as_bytes()).collect();
            c.get_matching(&p)
        };
        let names = |patterns: &[&str]| -> Vec<String> {
            get(patterns).into_iter().map(|(n, _)| n).collect()
        };
        assert_eq!(
            get(&["MAXMEMORY"]),
            [("MAXMEMORY".to_string(), "0".to_string())]
        );
        assert_eq!(names(&["maxmemory", "maxmemory"]), ["maxmemory"]);
        assert_eq!(names(&["lua*"]), ["lua-time-limit"]);
        let mut all = names(&["*"]);
        assert!(all.contains(&"busy-reply-threshold".to_string()));
        assert!(all.contains(&"list-max-ziplist-size".to_string()));
        let n = all.len();
        all.dedup();
        assert_eq!(all.len(), n);
        let mut mm = names(&["Maxmemory*", "hz"]);
        mm.sort();
        assert_eq!(
            mm,
            [
                "hz",
                "maxmemory",
                "maxmemory-eviction-tenacity",
                "maxmemory-policy",
                "maxmemory-samples"
            ]
        );
        assert!(names(&["nosuch", "nosuch*"]).is_empty());
        assert_eq!(
            get(&["client-output-buffer-limit"])[0].1,
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
    }

    #[test]
    fn rewrite_updates_in_place_and_appends_the_rest() {
        let old = "port 7153\nlua-time-limit 100\nLUA-TIME-LIMIT 200\nmaxmemory 1024\n\
                   # comment\n   # indented\n\n\n\ninclude /x.conf\n\
                   client-output-buffer-limit normal 1gb 2mb 3\n\
                   client-output-buffer-limit pubsub 1kb 3 3\n\
                   save 100 1\nsave 200 2\ntimeout 5\nrequirepass foo\n";
        let mut c = text(&old.replace("include /x.conf\n", "")).expect("valid");
        c.dir = PathBuf::from("/tmp");
        c.set_many(&[
            ("maxmemory".into(), "2048".into()),
            ("save".into(), "3600 1".into()),
            ("timeout".into(), "0".into()),
            ("requirepass".into(), "".into()),
            ("maxmemory-policy".into(), "allkeys-lfu".into()),
            ("notify-keyspace-events".into(), "Ex".into()),
        ])
        .expect("valid");
        let new = c.rewrite_text(old);
        assert_eq!(
            new,
            "port 7153\nbusy-reply-threshold 200\n\nmaxmemory 2kb\n# comment\n# indented\n\n\
             include /x.conf\n\
             client-output-buffer-limit normal 1gb 2mb 3\n\
             client-output-buffer-limit replica 256mb 64mb 60\n\
             save 3600 1\n\ntimeout 0\nrequirepass \"\"\n\n\
             # Generated by CONFIG REWRITE\n\
             dir \"/tmp\"\n\
             notify-keyspace-events \"xE\"\n\
             client-output-buffer-limit pubsub 1kb 3 3\n\
             maxmemory-policy allkeys-lfu\n"
        );
        // A second rewrite finds the marker and changes nothing.
        assert_eq!(c.rewrite_text(&new), new);
        // The result loads back to the same settings.
        let again = text(&new.replace("include /x.conf\n", "")).expect("valid");
        assert_eq!(again.params(), c.params());
    }

    #[test]
    fn rewrite_formats() {
        assert_eq!(memory_text(0), "0");
        assert_eq!(memory_text(100), "100");
        assert_eq!(memory_text(2048), "2kb");
        assert_eq!(memory_text(3 * MB), "3mb");
        assert_eq!(memory_text(1024 * MB), "1gb");
        assert_eq!(
            quote("a \"b\"\\\n\u{1}é"),
            "\"a \\\"b\\\"\\\\\\n\\x01\\xc3\\xa9\""
        );
        let c = text(&format!("requirepass {}\n", quote("p \"w\"\\\té"))).expect("valid");
        assert_eq!(c.requirepass.as_deref(), Some("p \"w\"\\\té"));
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("0"), Some(0));
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("100b"), Some(100));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1kb"), Some(1024));
        assert_eq!(parse_memory("1KB"), Some(1024));
        assert_eq!(parse_memory("2m"), Some(2_000_000));
        assert_eq!(parse_memory("2Mb"), Some(2 * 1024 * 1024));
        assert_eq!(parse_memory("3g"), Some(3_000_000_000));
        assert_eq!(parse_memory("3gB"), Some(3 * 1024 * 1024 * 1024));
        assert_eq!(parse_memory("007mb"), Some(7 * 1024 * 1024));
        for bad in [
            "",
            "mb",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1.5mb",
            "1tb",
            "1kbb",
            "x",
            "18446744073709551616",
            "17179869184gb",
        ] {
            assert_eq!(parse_memory(bad), None, "{bad:?}");
        }
        assert_eq!(parse_memory("18446744073709551615"), Some(u64::MAX));
    }

    #[test]
    fn wildcard_matching() {
        let m = |p: &str, n: &str| {
            let p: Vec<char> = p.chars().collect();
            let n: Vec<char> = n.chars().collect();
            wildcard_match(&p, &n)
        };
        assert!(m("*.conf", "a.conf"));
        assert!(m("*", ""));
        assert!(!m("*.conf", "a.conf.bak"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
        assert!(m("?.c", "x.c"));
        assert!(!m("?.c", ".c"));
        assert!(m("[a-c]x", "bx"));
        assert!(!m("[!a-c]x", "bx"));
        assert!(m("[^a-c]x", "dx"));
        assert!(m("[]]", "]"));
        assert!(m("[x", "[x"));
        assert!(m("\\*", "*"));
        assert!(!m("\\*", "a"));
    }

    #[test]
    fn example_config_documents_every_parameter_and_loads_as_defaults() {
        let example = include_str!("../redis.conf.example");
        for p in PARAMS {
            let documented = example.lines().any(|l| {
                l.trim_start_matches("# ")
                    .starts_with(&format!("{} ", p.name))
            });
            assert!(
                documented,
                "redis.conf.example does not document '{}'",
                p.name
            );
        }
        assert!(example.contains("# include "));
        let c = text(example).expect("example must load");
        assert_eq!(c.params(), Config::default().params());
    }
}
