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
//!   (`file:line: 'line': problem` or `option --name value: problem`).

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
    Debug,
    Verbose,
    Notice,
    Warning,
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
}

/// One class of `client-output-buffer-limit`: a client whose pending output exceeds `hard`
/// bytes, or stays above `soft` bytes for `soft_seconds`, is disconnected. 0 = no limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// Indexes of [`Config::client_output_buffer_limit`].
pub const OBUF_NORMAL: usize = 0;
pub const OBUF_REPLICA: usize = 1;
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
        }
    }
}

/// What the command line asks the binary to do.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once at start-up
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
    },
    Param {
        name: "bind",
        aliases: &[],
        access: Access::Immutable,
        arity: Arity::Many,
        set: set_bind,
        get: |c| c.bind.join(" "),
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
    },
    Param {
        name: "dir",
        aliases: &[],
        access: Access::Protected,
        arity: Arity::One,
        set: set_dir,
        get: |c| display_dir(&c.dir),
    },
    Param {
        name: "loglevel",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::One,
        set: |c, v, _| {
            let word = one(v)?;
            c.loglevel = LogLevel::parse(word).ok_or_else(|| {
                let names: Vec<&str> = LogLevel::ALL.iter().map(|(_, n)| *n).collect();
                format!("argument must be one of: {}", names.join(", "))
            })?;
            Ok(())
        },
        get: |c| c.loglevel.as_str().to_string(),
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
    },
    Param {
        name: "save",
        aliases: &[],
        access: Access::Mutable,
        arity: Arity::Many,
        set: set_save,
        get: |c| c.save.clone(),
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
    },
];

/// Finds a parameter by name or alias, ignoring ASCII case.
fn lookup(name: &str) -> Option<&'static Param> {
    PARAMS.iter().find(|p| {
        p.name.eq_ignore_ascii_case(name) || p.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The single value of a one-value directive. Setters call this instead of
/// indexing so a wrong count can never panic, whoever calls them.
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
        .ok_or_else(|| format!("argument must be a number between {min} and {max}"))
}

/// Parses a bounded memory-size setting (see [`parse_memory`]).
fn memory_value(s: &str, min: u64, max: u64) -> Result<u64, String> {
    let n = parse_memory(s).ok_or_else(|| {
        "argument must be a memory value (bytes, or a number with a k/kb/m/mb/g/gb unit)"
            .to_string()
    })?;
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(format!("argument must be between {min} and {max} bytes"))
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
    const BAD: &str = "invalid save parameters: expected pairs of <seconds> <changes> \
                       with seconds >= 1 and changes >= 0";
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
            assert!(e.contains("invalid save parameters"), "{bad}: {e}");
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
            e.starts_with(&format!("{inner}:2: 'port abc': argument must be a number")),
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
            "test.conf:3: 'port abc': argument must be a number between 0 and 65535"
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
            "option --port abc: argument must be a number between 0 and 65535"
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
            "option --save x: invalid save parameters: expected pairs of <seconds> <changes> \
             with seconds >= 1 and changes >= 0"
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
            Err("argument must be a number between 0 and 65535".to_string())
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
