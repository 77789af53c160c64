//! The declarative command table: one [`CommandSpec`] row per command, next to its handler in
//! the family file. Dispatch (arity, auth, key locking), `COMMAND` and later MULTI queuing and
//! scripts all read these rows, so a command's rules live in one place.

use super::Ctx;
use crate::protocol::{Args, CmdResult};

/// A command handler: arguments after the name (and subcommand) → reply.
pub type Handler = fn(&mut Ctx<'_, '_>, &mut Args) -> CmdResult;

// Command flags, in the order `COMMAND INFO` prints them.
/// `write`: the command may modify the keyspace (refused in read-only scripts; its effects propagate).
pub const WRITE: u32 = 1 << 0;
/// `readonly`: the command only reads data (MONITOR shows it; implies the `@read` category).
pub const READONLY: u32 = 1 << 1;
/// `denyoom`: the command may grow memory, so it is refused with `-OOM` when over `maxmemory`.
pub const DENYOOM: u32 = 1 << 2;
/// `admin`: an administrative command (`@admin` and `@dangerous`; never shown to MONITOR).
pub const ADMIN: u32 = 1 << 3;
/// `pubsub`: a Pub/Sub command (implies the `@pubsub` category).
pub const PUBSUB: u32 = 1 << 4;
/// `noscript`: not allowed inside Lua scripts and functions.
pub const NOSCRIPT: u32 = 1 << 5;
/// `blocking`: the command may block the client (implies the `@blocking` category).
pub const BLOCKING: u32 = 1 << 6;
/// `loading`: allowed while the dataset is loading (others get `-LOADING`).
pub const LOADING: u32 = 1 << 7;
/// `stale`: allowed on a replica with stale data (printed by COMMAND INFO only).
pub const STALE: u32 = 1 << 8;
/// `skip_monitor`: not fed to MONITOR clients.
pub const SKIP_MONITOR: u32 = 1 << 9;
/// `skip_slowlog`: never recorded in the slow log.
pub const SKIP_SLOWLOG: u32 = 1 << 10;
/// `fast`: O(1) or O(log N) (implies `@fast`; anything else is `@slow`); its latency is sampled as `fast-command`.
pub const FAST: u32 = 1 << 11;
/// `no_auth`: allowed before the client authenticates (AUTH, HELLO…).
pub const NO_AUTH: u32 = 1 << 12;
/// `may_replicate`: may propagate writes though not flagged `write` (refused in read-only scripts).
pub const MAY_REPLICATE: u32 = 1 << 13;
/// `no_mandatory_keys`: the command's keys may be absent (COMMAND GETKEYS then does not fail).
pub const NO_MANDATORY_KEYS: u32 = 1 << 14;
/// `no_multi`: refused inside MULTI.
pub const NO_MULTI: u32 = 1 << 15;
/// `allow_busy`: allowed while a script is running (others get `-BUSY`).
pub const ALLOW_BUSY: u32 = 1 << 16;
/// Not a Redis flag: the command needs the whole keyspace locked (KEYS, SCAN, FLUSHALL…).
pub const GLOBAL: u32 = 1 << 31;
/// Not a Redis flag: a `TESTCTL` row, which exists only with `enable-test-controls yes`
/// (see [`crate::testctl`]). Never printed by COMMAND INFO.
pub const TEST_CONTROL: u32 = 1 << 30;
/// Not a Redis flag: the command runs a script or changes the Lua state, so dispatch claims
/// the server for it before locking (see `crate::scripting`). Always with [`GLOBAL`].
pub const EXCLUSIVE: u32 = 1 << 29;

const FLAG_NAMES: &[(u32, &str)] = &[
    (WRITE, "write"),
    (READONLY, "readonly"),
    (DENYOOM, "denyoom"),
    (ADMIN, "admin"),
    (PUBSUB, "pubsub"),
    (NOSCRIPT, "noscript"),
    (BLOCKING, "blocking"),
    (LOADING, "loading"),
    (STALE, "stale"),
    (SKIP_MONITOR, "skip_monitor"),
    (SKIP_SLOWLOG, "skip_slowlog"),
    (FAST, "fast"),
    (NO_AUTH, "no_auth"),
    (MAY_REPLICATE, "may_replicate"),
    (NO_MANDATORY_KEYS, "no_mandatory_keys"),
    (NO_MULTI, "no_multi"),
    (ALLOW_BUSY, "allow_busy"),
];

// ACL categories, in the order Redis prints them. The ones implied by flags (read, write,
// admin, dangerous, pubsub, fast, slow, blocking) are added by [`CommandSpec::categories`].
/// ACL category `@keyspace`: generic key commands.
pub const KEYSPACE: u32 = 1 << 0;
/// ACL category `@read`: reads data (implied by [`READONLY`]).
pub const CAT_READ: u32 = 1 << 1;
/// ACL category `@write`: writes data (implied by [`WRITE`]).
pub const CAT_WRITE: u32 = 1 << 2;
/// ACL category `@set`: set commands.
pub const SET: u32 = 1 << 3;
/// ACL category `@sortedset`: sorted-set commands.
pub const SORTEDSET: u32 = 1 << 4;
/// ACL category `@list`: list commands.
pub const LIST: u32 = 1 << 5;
/// ACL category `@hash`: hash commands.
pub const HASH: u32 = 1 << 6;
/// ACL category `@string`: string commands.
pub const STRING: u32 = 1 << 7;
/// ACL category `@bitmap`: bitmap commands.
pub const BITMAP: u32 = 1 << 8;
/// ACL category `@hyperloglog`: HyperLogLog commands.
pub const HYPERLOGLOG: u32 = 1 << 9;
/// ACL category `@geo`: geospatial commands.
pub const GEO: u32 = 1 << 10;
/// ACL category `@stream`: stream commands.
pub const STREAM: u32 = 1 << 11;
/// ACL category `@pubsub`: Pub/Sub commands (implied by [`PUBSUB`]).
pub const CAT_PUBSUB: u32 = 1 << 12;
/// ACL category `@admin`: administrative commands (implied by [`ADMIN`]).
pub const CAT_ADMIN: u32 = 1 << 13;
/// ACL category `@fast`: O(1)/O(log N) commands (implied by [`FAST`]).
pub const CAT_FAST: u32 = 1 << 14;
/// ACL category `@slow`: every command not in `@fast`.
pub const CAT_SLOW: u32 = 1 << 15;
/// ACL category `@blocking`: commands that may block (implied by [`BLOCKING`]).
pub const CAT_BLOCKING: u32 = 1 << 16;
/// ACL category `@dangerous`: potentially dangerous commands (implied by [`ADMIN`]).
pub const DANGEROUS: u32 = 1 << 17;
/// ACL category `@connection`: commands about the connection.
pub const CONNECTION: u32 = 1 << 18;
/// ACL category `@transaction`: MULTI/EXEC/WATCH and friends.
pub const TRANSACTION: u32 = 1 << 19;
/// ACL category `@scripting`: Lua scripts and functions.
pub const SCRIPTING: u32 = 1 << 20;

/// Every ACL category bit with its name, in the order Redis prints them.
pub const CATEGORY_NAMES: &[(u32, &str)] = &[
    (KEYSPACE, "keyspace"),
    (CAT_READ, "read"),
    (CAT_WRITE, "write"),
    (SET, "set"),
    (SORTEDSET, "sortedset"),
    (LIST, "list"),
    (HASH, "hash"),
    (STRING, "string"),
    (BITMAP, "bitmap"),
    (HYPERLOGLOG, "hyperloglog"),
    (GEO, "geo"),
    (STREAM, "stream"),
    (CAT_PUBSUB, "pubsub"),
    (CAT_ADMIN, "admin"),
    (CAT_FAST, "fast"),
    (CAT_SLOW, "slow"),
    (CAT_BLOCKING, "blocking"),
    (DANGEROUS, "dangerous"),
    (CONNECTION, "connection"),
    (TRANSACTION, "transaction"),
    (SCRIPTING, "scripting"),
];

/// Where a command's keys are: argv positions `first..=last` every `step` (negative `last`
/// counts from the end), as in Redis's legacy key spec. `first == 0`: no keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keys {
    /// Argv position of the first key (0: the command takes no keys).
    pub first: i32,
    /// Argv position of the last key; negative counts from the end (`-1` = the last argument).
    pub last: i32,
    /// Distance between keys (2 for `MSET key value …`).
    pub step: i32,
}

impl Keys {
    /// No keys.
    pub const NONE: Keys = Keys::range(0, 0, 0);
    /// One key, the first argument.
    pub const ONE: Keys = Keys::range(1, 1, 1);
    /// Two keys, the first two arguments.
    pub const TWO: Keys = Keys::range(1, 2, 1);
    /// Every argument is a key.
    pub const ALL: Keys = Keys::range(1, -1, 1);

    /// Keys at argv positions `first..=last` every `step`.
    pub const fn range(first: i32, last: i32, step: i32) -> Keys {
        Keys { first, last, step }
    }

    /// Positions of the keys in `argv`; empty when the spec does not fit the argument count.
    /// (An iterator, not a Vec: dispatch calls this for every command.)
    pub fn positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let argc = argc as i64;
        let first = self.first as i64;
        let last = if self.last < 0 {
            argc + self.last as i64
        } else {
            self.last as i64
        };
        let valid = self.first > 0 && self.step > 0 && first < argc && last >= first;
        let (from, to) = if valid {
            (first as usize, last.min(argc - 1) as usize)
        } else {
            (1, 0)
        };
        (from..=to).step_by(self.step.max(1) as usize)
    }
}

/// How a key spec finds its first key (Redis 7's `begin_search`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argv position (the command name is position 0).
    Index(i32),
    /// Just after `keyword` (ASCII case-insensitive), searched from argv position
    /// `startfrom` towards the end, or, when `startfrom` is negative, from `argc + startfrom`
    /// backwards. No keyword: the spec finds no keys.
    Keyword {
        /// The keyword the keys follow.
        keyword: &'static str,
        /// Where the search starts (negative: from the end, backwards).
        startfrom: i32,
    },
    /// Not expressible (SORT's STORE, which may appear anywhere): the row's
    /// [`CommandSpec::keys_fn`] finds these keys.
    Unknown,
}

/// How a key spec finds the rest of its keys, from the first (Redis 7's `find_keys`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKeys {
    /// Keys from the first to `lastkey` positions further (negative: counted from argv's
    /// end, `-1` = the last argument) every `keystep`. With a negative `lastkey` and `limit`
    /// above 1 only the first `1/limit` of the remaining arguments count (XREAD's STREAMS:
    /// half are keys, half are IDs).
    Range {
        /// Last key, relative to the first (negative: counted from argv's end).
        lastkey: i32,
        /// Distance between keys.
        keystep: i32,
        /// With a negative `lastkey`: only the first `1/limit` of the remaining arguments are keys (0 or 1: all).
        limit: i32,
    },
    /// The number of keys is the argument `keynumidx` positions after the begin position;
    /// the keys start `firstkey` positions after it, every `keystep` (EVAL, ZUNIONSTORE…).
    Keynum {
        /// Where the key count is, relative to the begin position.
        keynumidx: i32,
        /// Where the first key is, relative to the begin position.
        firstkey: i32,
        /// Distance between keys.
        keystep: i32,
    },
    /// See [`BeginSearch::Unknown`].
    Unknown,
}

/// `a == b` in a const context.
const fn const_str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The key-spec flags Redis 7.0 knows, for validation and `COMMAND INFO`.
pub const KEY_SPEC_FLAGS: &[&str] = &[
    "RO",
    "RW",
    "OW",
    "RM",
    "access",
    "update",
    "insert",
    "delete",
    "not_key",
    "incomplete",
    "variable_flags",
];

/// One key spec (Redis 7): where some of a command's keys are and how the command uses them.
/// Built with [`KeySpec::at`] / [`KeySpec::keyword`] / [`KeySpec::unknown`], then
/// [`KeySpec::range`] or [`KeySpec::keynum`] (the default finds one key):
///
/// ```
/// use emberkv::commands::KeySpec;
/// // EVAL script numkeys key [key ...] arg [arg ...]
/// let eval = KeySpec::at(2, &["RW", "access", "update"]).keynum(0, 1, 1);
/// // XREAD ... STREAMS key [key ...] id [id ...]
/// let xread = KeySpec::keyword("STREAMS", 1, &["RO", "access"]).range(-1, 1, 2);
/// # let _ = (eval, xread);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// Where the first key is.
    pub begin: BeginSearch,
    /// How the other keys follow the first.
    pub find: FindKeys,
    /// The spec's flags, from [`KEY_SPEC_FLAGS`] (e.g. `["RW", "access", "update"]`).
    pub flags: &'static [&'static str],
    /// Free-text notes shown by `COMMAND DOCS`/`COMMAND INFO` (empty: none).
    pub notes: &'static str,
}

/// The keys one spec found in an argv: positions `first..=last` every `step` (both range
/// and keynum specs find an arithmetic progression, so no allocation is needed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// Argv position of the first key.
    pub first: usize,
    /// Argv position of the last key (below `first`: no keys).
    pub last: usize,
    /// Distance between keys.
    pub step: usize,
}

impl Found {
    const NONE: Found = Found {
        first: 1,
        last: 0,
        step: 1,
    };

    /// The key positions, in order.
    pub fn positions(self) -> impl Iterator<Item = usize> {
        (self.first..=self.last).step_by(self.step.max(1))
    }

    /// Whether argv position `pos` is one of the found keys.
    pub fn contains(self, pos: usize) -> bool {
        pos >= self.first && pos <= self.last && (pos - self.first).is_multiple_of(self.step.max(1))
    }
}

impl KeySpec {
    const ONE_KEY: FindKeys = FindKeys::Range {
        lastkey: 0,
        keystep: 1,
        limit: 0,
    };

    /// The single key at argv `index` (add [`KeySpec::range`] for more).
    pub const fn at(index: i32, flags: &'static [&'static str]) -> KeySpec {
        KeySpec {
            begin: BeginSearch::Index(index),
            find: Self::ONE_KEY,
            flags,
            notes: "",
        }
    }

    /// The single key after `keyword` (see [`BeginSearch::Keyword`]).
    pub const fn keyword(
        keyword: &'static str,
        startfrom: i32,
        flags: &'static [&'static str],
    ) -> KeySpec {
        KeySpec {
            begin: BeginSearch::Keyword { keyword, startfrom },
            find: Self::ONE_KEY,
            flags,
            notes: "",
        }
    }

    /// Keys the row's [`CommandSpec::keys_fn`] finds (shown as `unknown`).
    pub const fn unknown(flags: &'static [&'static str]) -> KeySpec {
        KeySpec {
            begin: BeginSearch::Unknown,
            find: FindKeys::Unknown,
            flags,
            notes: "",
        }
    }

    /// Keys from the first up to `lastkey` positions further every `keystep` (see [`FindKeys::Range`]).
    pub const fn range(mut self, lastkey: i32, keystep: i32, limit: i32) -> KeySpec {
        self.find = FindKeys::Range {
            lastkey,
            keystep,
            limit,
        };
        self
    }

    /// A key count `keynumidx` positions after the begin position, keys from `firstkey` after it every `keystep` (see [`FindKeys::Keynum`]).
    pub const fn keynum(mut self, keynumidx: i32, firstkey: i32, keystep: i32) -> KeySpec {
        self.find = FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        };
        self
    }

    /// A fixed index with a plain range and real keys: what the legacy first/last/step
    /// range describes exactly (see [`CommandSpec::lock_keys`]).
    pub const fn is_plain(&self) -> bool {
        let begin = matches!(self.begin, BeginSearch::Index(_));
        let find = matches!(self.find, FindKeys::Range { limit, keystep, .. } if limit <= 1 && keystep > 0);
        let mut data = true;
        let mut i = 0;
        while i < self.flags.len() {
            data &= !const_str_eq(self.flags[i], "not_key");
            i += 1;
        }
        begin && find && data
    }

    /// Notes for `COMMAND INFO`.
    pub const fn notes(mut self, notes: &'static str) -> KeySpec {
        self.notes = notes;
        self
    }

    /// Whether the spec carries key-spec flag `flag` (e.g. `"not_key"`).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// The keys this spec finds in `argv` (`argv[0]` is the command name). `None`: the spec
    /// cannot tell (unknown, or a key count that is not a positive number that fits the
    /// arguments) — locking then takes no keys from it and the handler reports the error.
    /// Positions past the end are cut off (variadic commands check their syntax later).
    pub fn find<A: AsRef<[u8]>>(&self, argv: &[A]) -> Option<Found> {
        let argc = argv.len() as i64;
        let first = match self.begin {
            BeginSearch::Index(i) => i as i64,
            BeginSearch::Keyword { keyword, startfrom } => {
                let hit = |i: &i64| {
                    argv[*i as usize]
                        .as_ref()
                        .eq_ignore_ascii_case(keyword.as_bytes())
                };
                let found = if startfrom >= 0 {
                    (startfrom as i64..argc).find(hit)
                } else {
                    (1..=(argc + startfrom as i64).min(argc - 1))
                        .rev()
                        .find(hit)
                };
                match found {
                    Some(i) => i + 1,
                    None => return Some(Found::NONE),
                }
            }
            BeginSearch::Unknown => return None,
        };
        let (first, last, step) = match self.find {
            FindKeys::Range {
                lastkey,
                keystep,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey as i64
                } else if limit <= 1 {
                    argc + lastkey as i64
                } else {
                    first + (argc - first).max(0) / limit as i64 + lastkey as i64
                };
                (first, last, keystep as i64)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                keystep,
            } => {
                let at = first + keynumidx as i64;
                if at < 1 || at >= argc {
                    return None;
                }
                let n = crate::protocol::number::parse_i64(argv[at as usize].as_ref())?;
                let step = (keystep as i64).max(1);
                let start = first + firstkey as i64;
                if n <= 0 || n > (argc - start + step - 1) / step {
                    return None;
                }
                (start, start + (n - 1) * step, step)
            }
            FindKeys::Unknown => return None,
        };
        let last = last.min(argc - 1);
        if first < 1 || step < 1 || last < first {
            return Some(Found::NONE);
        }
        Some(Found {
            first: first as usize,
            last: last as usize,
            step: step as usize,
        })
    }
}

/// A hand-written key finder, for rows whose keys no spec describes (SORT … STORE): calls
/// `found(position, spec_index)` for each key of `argv`.
pub type KeysFn = fn(argv: &[bytes::Bytes], found: &mut dyn FnMut(usize, usize));

/// One command (or subcommand: `name` is then `container|sub`).
#[derive(Clone, Copy, Debug)]
pub struct CommandSpec {
    /// The lowercase name (`get`; `client|list` for a subcommand).
    pub name: &'static str,
    /// Exact argument count (name included) when positive, minimum when negative.
    pub arity: i32,
    /// Command flags: the `WRITE`, `READONLY`, … bits of this module.
    pub flags: u32,
    /// The family's ACL categories (those not implied by flags).
    pub acl: u32,
    /// The legacy first/last/step key range (COMMAND INFO; locking when the specs are plain).
    pub keys: Keys,
    /// Key-spec flags for `COMMAND INFO` (e.g. `["RW", "access", "update"]`); derived from
    /// the command flags when empty.
    pub key_flags: &'static [&'static str],
    /// Key specs, when one derived from `keys` and `key_flags` does not describe the command
    /// (keys in different roles, notes).
    pub key_specs: &'static [KeySpec],
    /// Finds the keys of specs that are `unknown` or `incomplete` (Redis's `getkeys_proc`).
    pub keys_fn: Option<KeysFn>,
    /// Whether locking may read the legacy `keys` range instead of walking the key specs:
    /// true unless a spec searches by keyword or key count, limits its range, or names no
    /// data (`not_key`), or `keys_fn` is set. Computed by the builder methods at compile
    /// time, so dispatch pays nothing for rows whose specs only carry flags (SET).
    pub(crate) lock_by_range: bool,
    /// Command tips for `COMMAND DOCS` (e.g. `"request_policy:all_shards"`).
    pub tips: &'static [&'static str],
    /// One-line summary for `COMMAND DOCS`.
    pub summary: &'static str,
    /// The Redis version that introduced the command (`"1.0.0"` unless set).
    pub since: &'static str,
    /// The handler; `None` for a container, which dispatches to `subcommands`.
    pub handler: Option<Handler>,
    /// A container's subcommands (empty for a plain command).
    pub subcommands: &'static [CommandSpec],
    /// The row's dense position in the table (statistics slots, see `crate::ops`): set on
    /// the copies the dispatcher serves (`commands::lookup`, `resolve`, `all_commands`);
    /// [`NO_ID`] on the family constants themselves.
    pub id: u16,
}

/// The `id` of a row that is not the dispatcher's copy.
pub const NO_ID: u16 = u16::MAX;

impl CommandSpec {
    /// A row with a handler, no subcommands, no docs, `since` 1.0.0 and key specs derived from `keys`.
    pub const fn new(
        name: &'static str,
        arity: i32,
        flags: u32,
        acl: u32,
        keys: Keys,
        handler: Handler,
    ) -> Self {
        CommandSpec {
            name,
            arity,
            flags,
            acl,
            keys,
            key_flags: &[],
            key_specs: &[],
            keys_fn: None,
            lock_by_range: true,
            tips: &[],
            summary: "",
            since: "1.0.0",
            handler: Some(handler),
            subcommands: &[],
            id: NO_ID,
        }
    }

    /// A container command (CLIENT, OBJECT, COMMAND…) dispatching on its first argument.
    pub const fn container(
        name: &'static str,
        acl: u32,
        summary: &'static str,
        subcommands: &'static [CommandSpec],
    ) -> Self {
        CommandSpec {
            name,
            arity: -2,
            flags: 0,
            acl,
            keys: Keys::NONE,
            key_flags: &[],
            key_specs: &[],
            keys_fn: None,
            lock_by_range: true,
            tips: &[],
            summary,
            since: "1.0.0",
            handler: None,
            subcommands,
            id: NO_ID,
        }
    }

    /// Sets the `COMMAND DOCS` summary and the version that introduced the command.
    pub const fn doc(mut self, summary: &'static str, since: &'static str) -> Self {
        self.summary = summary;
        self.since = since;
        self
    }

    /// Sets the command tips.
    pub const fn tips(mut self, tips: &'static [&'static str]) -> Self {
        self.tips = tips;
        self
    }

    /// Sets the key-spec flags of the derived key spec.
    pub const fn key_flags(mut self, flags: &'static [&'static str]) -> Self {
        self.key_flags = flags;
        self
    }

    /// Sets explicit key specs (and whether locking may use the legacy range instead).
    pub const fn key_specs(mut self, specs: &'static [KeySpec]) -> Self {
        self.key_specs = specs;
        let mut plain = true;
        let mut i = 0;
        while i < specs.len() {
            plain &= specs[i].is_plain();
            i += 1;
        }
        self.lock_by_range = plain && self.keys_fn.is_none();
        self
    }

    /// Sets the hand-written key finder; locking then walks the key specs and calls it.
    pub const fn keys_fn(mut self, f: KeysFn) -> Self {
        self.keys_fn = Some(f);
        self.lock_by_range = false;
        self
    }

    /// Calls `found(position)` for every argv position whose shard the command must lock:
    /// the keys of every spec (incomplete ones included, `not_key` ones excluded) plus those
    /// of `keys_fn`. May
    /// repeat a position; never allocates. Rows without explicit specs use the legacy range.
    #[inline]
    pub fn lock_keys(&self, argv: &[bytes::Bytes], mut found: impl FnMut(usize)) {
        // Plain specs are exactly the legacy range (a test checks every row's range against
        // its specs), which is cheaper to walk.
        if self.lock_by_range {
            self.keys.positions(argv.len()).for_each(&mut found);
        } else {
            // `not_key` specs (SPUBLISH's shard channel) name no data: nothing to lock.
            for ks in self.key_specs.iter().filter(|k| !k.has_flag("not_key")) {
                if let Some(f) = ks.find(argv) {
                    f.positions().for_each(&mut found);
                }
            }
        }
        if let Some(f) = self.keys_fn {
            f(argv, &mut |pos, _| found(pos));
        }
    }

    /// `(position, spec index)` of each key, as `COMMAND GETKEYS` reports them: from the
    /// specs when they all apply and are complete, else from `keys_fn`. `None`: the
    /// arguments do not let the keys be found (a key count that is not a number or is too
    /// large…).
    pub fn find_keys(&self, argv: &[bytes::Bytes]) -> Option<Vec<(usize, usize)>> {
        let mut keys = Vec::new();
        if self.key_specs.is_empty() && self.keys_fn.is_none() {
            keys.extend(self.keys.positions(argv.len()).map(|p| (p, 0)));
            return Some(keys);
        }
        let mut complete = true;
        for (i, ks) in self.key_specs.iter().enumerate() {
            match ks.find(argv) {
                Some(f) if !ks.has_flag("incomplete") => {
                    keys.extend(f.positions().map(|p| (p, i)));
                }
                _ => complete = false,
            }
        }
        if complete {
            return Some(keys);
        }
        let f = self.keys_fn?;
        keys.clear();
        f(argv, &mut |pos, spec| keys.push((pos, spec)));
        Some(keys)
    }

    /// Whether the command has keys at all (`COMMAND GETKEYS` refuses commands without).
    pub fn has_keys(&self) -> bool {
        self.keys.first > 0 || !self.key_specs.is_empty() || self.keys_fn.is_some()
    }

    /// The legacy first/last/step `COMMAND INFO` shows and whether the command has
    /// `movablekeys`, computed from the specs as Redis does: range specs that begin at an
    /// index, step 1 and follow each other merge into the range; any other spec (keyword,
    /// keynum, unknown, a gap, a step, an `incomplete` flag) makes the keys movable.
    pub fn legacy_keys(&self) -> (Keys, bool) {
        let movable_fn = self.keys_fn.is_some();
        match self.key_specs {
            [] => return (self.keys, movable_fn),
            [KeySpec {
                begin: BeginSearch::Index(index),
                find: FindKeys::Range {
                    lastkey, keystep, ..
                },
                flags,
                ..
            }] => {
                let last = if *lastkey < 0 {
                    *lastkey
                } else {
                    index + lastkey
                };
                let movable = movable_fn || flags.contains(&"incomplete");
                return (Keys::range(*index, last, *keystep), movable);
            }
            _ => {}
        }
        let mut movable = movable_fn;
        let (mut first, mut last, mut prev_last) = (i32::MAX, 0i32, 0i32);
        for ks in self.key_specs {
            let (
                BeginSearch::Index(index),
                FindKeys::Range {
                    lastkey, keystep, ..
                },
            ) = (ks.begin, ks.find)
            else {
                movable = true;
                continue;
            };
            if keystep != 1 || (prev_last != 0 && prev_last != index - 1) {
                movable = true;
                continue;
            }
            if ks.has_flag("incomplete") {
                movable = true;
            }
            first = first.min(index);
            let abs = if lastkey >= 0 {
                lastkey + index
            } else {
                lastkey
            };
            // A negative (from the end) last key wins over any positive one.
            last = if (abs as u32) > (last as u32) {
                abs
            } else {
                last
            };
            prev_last = last;
        }
        if first == i32::MAX {
            return (Keys::NONE, true);
        }
        (Keys::range(first, last, 1), movable)
    }

    /// The key specs `COMMAND INFO` and `COMMAND GETKEYSANDFLAGS` report: the explicit ones,
    /// or one derived from the legacy range and the key flags (`RW update` for writes, `RO
    /// access` otherwise, when none are given).
    pub fn specs(&self) -> Vec<KeySpec> {
        if !self.key_specs.is_empty() {
            return self.key_specs.to_vec();
        }
        let k = self.keys;
        if k.first <= 0 {
            return Vec::new();
        }
        let flags: &'static [&'static str] = if !self.key_flags.is_empty() {
            self.key_flags
        } else if self.has(WRITE) {
            &["RW", "update"]
        } else {
            &["RO", "access"]
        };
        let lastkey = if k.last < 0 { k.last } else { k.last - k.first };
        vec![KeySpec::at(k.first, flags).range(lastkey, k.step, 0)]
    }

    /// Whether the row has any of the command-flag bits in `flag`.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// How many argv words name the command: 2 for a subcommand (`client list`), else 1.
    #[inline]
    pub const fn words(&self) -> usize {
        let name = self.name.as_bytes();
        let mut i = 0;
        while i < name.len() {
            if name[i] == b'|' {
                return 2;
            }
            i += 1;
        }
        1
    }

    /// The part after `|` for subcommands.
    pub fn short_name(&self) -> &'static str {
        self.name.rsplit('|').next().unwrap_or(self.name)
    }

    /// The container's name for subcommands, the name itself otherwise.
    pub fn group_name(&self) -> &'static str {
        self.name.split('|').next().unwrap_or(self.name)
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// Flag names as `COMMAND INFO` lists them: `movablekeys` (computed from the key specs)
    /// goes between `no_multi` and `allow_busy`, and `may_replicate` is not shown (as in Redis).
    pub fn flag_names(&self) -> Vec<&'static str> {
        let movable = self.legacy_keys().1;
        let mut names = Vec::new();
        for &(bit, name) in FLAG_NAMES {
            if bit == ALLOW_BUSY && movable {
                names.push("movablekeys");
            }
            if self.flags & bit != 0 && bit != MAY_REPLICATE {
                names.push(name);
            }
        }
        names
    }

    /// ACL categories, the family's plus those its flags imply (as Redis derives them).
    pub fn categories(&self) -> u32 {
        let mut c = self.acl;
        if self.has(WRITE) {
            c |= CAT_WRITE;
        }
        if self.has(READONLY) && c & SCRIPTING == 0 {
            c |= CAT_READ;
        }
        if self.has(ADMIN) {
            c |= CAT_ADMIN | DANGEROUS;
        }
        if self.has(PUBSUB) {
            c |= CAT_PUBSUB;
        }
        if self.has(FAST) {
            c |= CAT_FAST;
        }
        if self.has(BLOCKING) {
            c |= CAT_BLOCKING;
        }
        if c & CAT_FAST == 0 {
            c |= CAT_SLOW;
        }
        c
    }

    /// The ACL category names (`keyspace`, `read`, `fast`…), implied ones included, in Redis's order.
    pub fn category_names(&self) -> Vec<&'static str> {
        let c = self.categories();
        CATEGORY_NAMES
            .iter()
            .filter(|(bit, _)| c & bit != 0)
            .map(|(_, n)| *n)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_positions_follow_first_last_step() {
        let pos = |k: Keys, argc| k.positions(argc).collect::<Vec<_>>();
        assert_eq!(pos(Keys::ONE, 2), vec![1]);
        assert_eq!(pos(Keys::ALL, 4), vec![1, 2, 3]);
        assert_eq!(pos(Keys::range(1, -1, 2), 5), vec![1, 3]);
        assert_eq!(pos(Keys::range(2, 2, 1), 3), vec![2]);
        assert!(pos(Keys::NONE, 3).is_empty());
        assert!(pos(Keys::ONE, 1).is_empty());
    }

    fn nop(_: &mut Ctx<'_, '_>, _: &mut Args) -> CmdResult {
        Ok(crate::protocol::Reply::Ok)
    }

    fn row(flags: u32, specs: &'static [KeySpec]) -> CommandSpec {
        CommandSpec::new("x", -1, flags, 0, Keys::NONE, nop).key_specs(specs)
    }

    fn argv(line: &str) -> Vec<bytes::Bytes> {
        line.split(' ')
            .map(|w| bytes::Bytes::from(w.replace("''", "")))
            .collect()
    }

    /// The keys `COMMAND GETKEYS` would report (`None`: it cannot tell).
    fn keys(c: &CommandSpec, line: &str) -> Option<Vec<String>> {
        let a = argv(line);
        let found = c.find_keys(&a)?;
        Some(
            found
                .into_iter()
                .map(|(p, _)| String::from_utf8_lossy(&a[p]).into_owned())
                .collect(),
        )
    }

    /// The keys whose shards locking takes, deduplicated in argv order.
    fn locked(c: &CommandSpec, line: &str) -> Vec<String> {
        let a = argv(line);
        let mut pos = Vec::new();
        c.lock_keys(&a, |p| pos.push(p));
        pos.sort_unstable();
        pos.dedup();
        pos.into_iter()
            .map(|p| String::from_utf8_lossy(&a[p]).into_owned())
            .collect()
    }

    fn v(words: &str) -> Option<Vec<String>> {
        Some(
            words
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(String::from)
                .collect(),
        )
    }

    const RW: &[&str] = &["RW", "access", "update"];
    const RO: &[&str] = &["RO", "access"];
    const OW: &[&str] = &["OW", "update"];
    const RMW: &[&str] = &["RW", "access", "delete"];

    #[test]
    fn eval_and_fcall_take_a_key_count_at_2() {
        const SPECS: &[KeySpec] = &[KeySpec::at(2, RW).keynum(0, 1, 1)];
        let eval = row(NO_MANDATORY_KEYS, SPECS);
        assert_eq!(keys(&eval, "eval s 2 a b x y"), v("a b"));
        assert_eq!(keys(&eval, "fcall f 1 a b"), v("a"));
        // A count of 0, not a number, negative or past the arguments: no keys to lock.
        for bad in [
            "eval s 0",
            "eval s x a",
            "eval s -1 a",
            "eval s 5 a b",
            "eval s",
        ] {
            assert_eq!(keys(&eval, bad), None, "{bad}");
            assert!(locked(&eval, bad).is_empty(), "{bad}");
        }
        assert_eq!(eval.legacy_keys(), (Keys::NONE, true));
        assert!(eval.flag_names().contains(&"movablekeys"));
    }

    #[test]
    fn zunionstore_has_a_destination_and_counted_sources() {
        const SPECS: &[KeySpec] = &[KeySpec::at(1, OW), KeySpec::at(2, RO).keynum(0, 1, 1)];
        let z = row(WRITE, SPECS);
        assert_eq!(keys(&z, "zunionstore d 2 a b weights 1 2"), v("d a b"));
        assert_eq!(keys(&z, "zunionstore d 1 a b"), v("d a"));
        assert_eq!(keys(&z, "zunionstore d 3 a b"), None);
        assert_eq!(locked(&z, "zunionstore d 3 a b"), v("d").unwrap());
        assert_eq!(z.legacy_keys(), (Keys::ONE, true));
        assert_eq!(
            z.find_keys(&argv("zunionstore d 2 a b")).unwrap()[1],
            (3, 1)
        );
    }

    #[test]
    fn mpop_and_sintercard_count_their_keys() {
        const LMPOP: &[KeySpec] = &[KeySpec::at(1, RMW).keynum(0, 1, 1)];
        const BLMPOP: &[KeySpec] = &[KeySpec::at(2, RMW).keynum(0, 1, 1)];
        let (lmpop, blmpop) = (row(WRITE, LMPOP), row(WRITE | BLOCKING, BLMPOP));
        assert_eq!(keys(&lmpop, "lmpop 2 a b left count 3"), v("a b"));
        assert_eq!(keys(&lmpop, "zmpop 1 z min"), v("z"));
        assert_eq!(keys(&lmpop, "sintercard 2 a b limit 1"), v("a b"));
        assert_eq!(keys(&lmpop, "lmpop 0 a left"), None);
        assert_eq!(keys(&lmpop, "lmpop 5 a b left"), None);
        assert_eq!(keys(&blmpop, "blmpop 0.5 2 a b right"), v("a b"));
        assert_eq!(blmpop.legacy_keys(), (Keys::NONE, true));
    }

    #[test]
    fn xread_keys_are_the_first_half_after_streams() {
        const XREAD: &[KeySpec] = &[KeySpec::keyword("STREAMS", 1, RO).range(-1, 1, 2)];
        const XREADGROUP: &[KeySpec] = &[KeySpec::keyword("STREAMS", 4, RO).range(-1, 1, 2)];
        let (xread, group) = (row(READONLY, XREAD), row(WRITE, XREADGROUP));
        assert_eq!(keys(&xread, "xread count 1 streams a b 0 0"), v("a b"));
        assert_eq!(keys(&xread, "xread STREAMS a b c d e"), v("a b"));
        assert_eq!(keys(&xread, "xread streams streams a b"), v("streams"));
        assert_eq!(keys(&xread, "xread count 1"), v(""));
        assert_eq!(keys(&group, "xreadgroup group g c streams s 0"), v("s"));
        // GROUP's name is "streams": the search starts after it.
        assert_eq!(
            keys(&group, "xreadgroup group streams c streams s t 0 0"),
            v("s t")
        );
        assert_eq!(xread.legacy_keys(), (Keys::NONE, true));
    }

    /// SORT's STORE may appear anywhere among the options, so Redis marks that spec
    /// `unknown` and finds it by walking the options; a `keys_fn` does the same here.
    fn sort_keys(argv: &[bytes::Bytes], found: &mut dyn FnMut(usize, usize)) {
        if argv.len() > 1 {
            found(1, 0);
        }
        let mut i = 2;
        let mut store = None;
        while i < argv.len() {
            let a = &argv[i];
            if a.eq_ignore_ascii_case(b"limit") {
                i += 2;
            } else if a.eq_ignore_ascii_case(b"by") || a.eq_ignore_ascii_case(b"get") {
                i += 1;
            } else if a.eq_ignore_ascii_case(b"store") && i + 1 < argv.len() {
                store = Some(i + 1);
                i += 1;
            }
            i += 1;
        }
        if let Some(p) = store {
            found(p, 2);
        }
    }

    #[test]
    fn sort_store_is_found_by_a_keys_fn() {
        const SPECS: &[KeySpec] = &[
            KeySpec::at(1, RO),
            KeySpec::unknown(RO).notes("BY and GET patterns name keys derived from the data"),
            KeySpec::unknown(OW).notes("STORE may appear anywhere among the options"),
        ];
        let sort = row(WRITE, SPECS).keys_fn(sort_keys);
        assert_eq!(keys(&sort, "sort k by w_* get o_* store d"), v("k d"));
        assert_eq!(keys(&sort, "sort k get store"), v("k"));
        assert_eq!(keys(&sort, "sort k get store store d2"), v("k d2"));
        assert_eq!(locked(&sort, "sort k limit 0 1 store d"), v("k d").unwrap());
        assert_eq!(sort.legacy_keys(), (Keys::ONE, true));
        let d = sort.find_keys(&argv("sort k store d")).unwrap();
        assert_eq!(d, vec![(1, 0), (3, 2)]);
    }

    #[test]
    fn migrate_and_georadius_find_keys_after_keywords() {
        const MIGRATE: &[KeySpec] = &[
            KeySpec::at(3, RMW),
            KeySpec::keyword("KEYS", -2, &["RW", "access", "delete", "incomplete"]).range(-1, 1, 0),
        ];
        let migrate = row(WRITE, MIGRATE);
        // The KEYS spec is incomplete (KEYS could be a key name): locking takes both specs'
        // keys, an over-approximation that is always safe.
        assert_eq!(
            locked(&migrate, "migrate h p '' 0 5 keys a b"),
            vec!["", "a", "b"]
        );
        assert_eq!(locked(&migrate, "migrate h p k 0 5"), v("k").unwrap());
        assert_eq!(
            keys(&migrate, "migrate h p k 0 5"),
            None,
            "incomplete, no keys_fn"
        );
        assert_eq!(migrate.legacy_keys(), (Keys::range(3, 3, 1), true));

        const GEORADIUS: &[KeySpec] = &[
            KeySpec::at(1, RO),
            KeySpec::keyword("STORE", 6, OW),
            KeySpec::keyword("STOREDIST", 6, OW),
        ];
        let geo = row(WRITE, GEORADIUS);
        assert_eq!(
            keys(&geo, "georadius k 1 2 3 m store d storedist e"),
            v("k d e")
        );
        assert_eq!(keys(&geo, "georadius k 1 2 3 m withdist"), v("k"));
        assert_eq!(keys(&geo, "georadius k 1 2 3 m store"), v("k"));
        assert_eq!(geo.legacy_keys(), (Keys::ONE, true));

        // SPUBLISH's channel is a spec (for cluster routing) but not data: GETKEYS shows
        // it, locking skips it.
        const SPUBLISH: &[KeySpec] = &[KeySpec::at(1, &["not_key"])];
        let spublish = row(0, SPUBLISH);
        assert_eq!(keys(&spublish, "spublish ch msg"), v("ch"));
        assert!(locked(&spublish, "spublish ch msg").is_empty());
    }

    #[test]
    fn legacy_ranges_follow_redis() {
        const MSET: &[KeySpec] = &[KeySpec::at(1, OW).range(-1, 2, 0)];
        const RENAME: &[KeySpec] = &[KeySpec::at(1, RMW), KeySpec::at(2, OW)];
        const GAP: &[KeySpec] = &[KeySpec::at(1, RO), KeySpec::at(3, OW)];
        assert_eq!(
            row(WRITE, MSET).legacy_keys(),
            (Keys::range(1, -1, 2), false)
        );
        assert_eq!(keys(&row(WRITE, MSET), "mset a 1 b 2"), v("a b"));
        assert_eq!(row(WRITE, RENAME).legacy_keys(), (Keys::TWO, false));
        assert_eq!(row(WRITE, GAP).legacy_keys(), (Keys::ONE, true));
        let plain = CommandSpec::new("get", 2, READONLY, 0, Keys::ONE, nop);
        assert_eq!(plain.legacy_keys(), (Keys::ONE, false));
        assert_eq!(keys(&plain, "get k"), v("k"));
        assert!(!plain.flag_names().contains(&"movablekeys"));
    }
}
