//! `COMMAND DOCS` data: each command's group, complexity, history, deprecation and argument
//! tree, keyed by full command name (`config|get`).
//!
//! # Why a separate table keyed by name
//! Rows live in the family files and several people add rows at once; docs are long and
//! change for different reasons (wording, history) than a row's behaviour (arity, flags,
//! keys). Keeping them here means a new row needs no docs edit to compile, a docs entry can
//! exist before its row lands (MULTI, the pub/sub and CONFIG commands, and the hash, list,
//! set, sorted-set, SORT and CLIENT UNBLOCK commands below are ready for rows being
//! written in parallel) and is picked up automatically once the row is in the
//! table, and a unit test checks that every row has an entry and every argument's
//! `key_spec_index` points at one of the row's key specs. The row still carries the summary
//! (`CommandSpec::doc`); `since` here wins, as it is checked against Redis.
//!
//! # Provenance
//! Argument names, types, tokens, flags, `since` versions and complexity notation are
//! interface facts and match Redis 7.0 (`COMMAND DOCS`), as redis-cli's hints depend on them
//! (CLIENT SETINFO and CLIENT NO-TOUCH follow Redis 7.2, where they appeared). Complexity
//! explanations and history notes are our own wording.

/// An argument's type, as `COMMAND DOCS` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgType {
    /// `string`: any bulk string.
    String,
    /// `integer`: a whole number.
    Integer,
    /// `double`: a floating-point number.
    Double,
    /// `key`: a key name.
    Key,
    /// `pattern`: a glob-style pattern.
    Pattern,
    /// `unix-time`: a Unix time, in seconds or milliseconds.
    UnixTime,
    /// `pure-token`: a bare keyword (`NX`, `WITHSCORES`…), given in [`Arg::token`].
    PureToken,
    /// `oneof`: exactly one of the child arguments.
    Oneof,
    /// `block`: the child arguments, in order.
    Block,
}

impl ArgType {
    /// The type's name in `COMMAND DOCS` (`unix-time`, `pure-token`…).
    pub fn name(self) -> &'static str {
        match self {
            ArgType::String => "string",
            ArgType::Integer => "integer",
            ArgType::Double => "double",
            ArgType::Key => "key",
            ArgType::Pattern => "pattern",
            ArgType::UnixTime => "unix-time",
            ArgType::PureToken => "pure-token",
            ArgType::Oneof => "oneof",
            ArgType::Block => "block",
        }
    }
}

/// [`Arg::flags`] bit: the argument may be left out.
pub const OPTIONAL: u8 = 1;
/// [`Arg::flags`] bit: the argument may repeat.
pub const MULTIPLE: u8 = 2;
/// [`Arg::flags`] bit: the argument repeats together with its token (`GET pattern [GET pattern …]`).
pub const MULTIPLE_TOKEN: u8 = 4;

/// One node of a command's argument tree.
#[derive(Clone, Copy, Debug)]
pub struct Arg {
    /// The argument's name (`key`, `seconds`…).
    pub name: &'static str,
    /// The argument's type.
    pub kind: ArgType,
    /// Index into the row's key specs, for `key` arguments and the patterns SORT reads keys
    /// through (-1 otherwise).
    pub key_spec_index: i32,
    /// The keyword that introduces the argument (`EX`, `LIMIT`…); empty when none.
    pub token: &'static str,
    /// The Redis version that added the argument; empty when it came with the command.
    pub since: &'static str,
    /// The Redis version that deprecated the argument; empty when it is not deprecated.
    pub deprecated_since: &'static str,
    /// [`OPTIONAL`], [`MULTIPLE`] and [`MULTIPLE_TOKEN`] bits.
    pub flags: u8,
    /// Children of `oneof` and `block` arguments.
    pub args: &'static [Arg],
}

const fn arg(name: &'static str, kind: ArgType) -> Arg {
    Arg {
        name,
        kind,
        key_spec_index: -1,
        token: "",
        since: "",
        deprecated_since: "",
        flags: 0,
        args: &[],
    }
}

/// A `key` argument, described by the row's key spec `key_spec_index`.
pub const fn key(name: &'static str, key_spec_index: i32) -> Arg {
    let mut a = arg(name, ArgType::Key);
    a.key_spec_index = key_spec_index;
    a
}
/// A `string` argument.
pub const fn string(name: &'static str) -> Arg {
    arg(name, ArgType::String)
}
/// An `integer` argument.
pub const fn integer(name: &'static str) -> Arg {
    arg(name, ArgType::Integer)
}
/// A `double` argument.
pub const fn double(name: &'static str) -> Arg {
    arg(name, ArgType::Double)
}
/// A `pattern` argument.
pub const fn pattern(name: &'static str) -> Arg {
    arg(name, ArgType::Pattern)
}
/// A `unix-time` argument.
pub const fn unix_time(name: &'static str) -> Arg {
    arg(name, ArgType::UnixTime)
}
/// A `pure-token` argument: the keyword `token` alone.
pub const fn pure_token(name: &'static str, token: &'static str) -> Arg {
    arg(name, ArgType::PureToken).token(token)
}
/// A `oneof` argument: exactly one of `args`.
pub const fn oneof(name: &'static str, args: &'static [Arg]) -> Arg {
    let mut a = arg(name, ArgType::Oneof);
    a.args = args;
    a
}
/// A `block` argument: `args` together, in order.
pub const fn block(name: &'static str, args: &'static [Arg]) -> Arg {
    let mut a = arg(name, ArgType::Block);
    a.args = args;
    a
}

impl Arg {
    /// Points a non-`key` argument at a key spec (SORT's `BY` and `GET` patterns name keys).
    pub const fn key_spec(mut self, key_spec_index: i32) -> Arg {
        self.key_spec_index = key_spec_index;
        self
    }
    /// Sets the keyword that introduces the argument.
    pub const fn token(mut self, token: &'static str) -> Arg {
        self.token = token;
        self
    }
    /// Sets the Redis version that added the argument.
    pub const fn since(mut self, since: &'static str) -> Arg {
        self.since = since;
        self
    }
    /// Sets the Redis version that deprecated the argument.
    pub const fn deprecated_since(mut self, v: &'static str) -> Arg {
        self.deprecated_since = v;
        self
    }
    /// Marks the argument optional.
    pub const fn optional(mut self) -> Arg {
        self.flags |= OPTIONAL;
        self
    }
    /// Marks the argument repeatable.
    pub const fn multiple(mut self) -> Arg {
        self.flags |= MULTIPLE;
        self
    }
    /// Marks the argument repeatable together with its token.
    pub const fn multiple_token(mut self) -> Arg {
        self.flags |= MULTIPLE_TOKEN;
        self
    }

    /// Flag names in `COMMAND DOCS` order.
    pub fn flag_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        [
            (OPTIONAL, "optional"),
            (MULTIPLE, "multiple"),
            (MULTIPLE_TOKEN, "multiple_token"),
        ]
        .into_iter()
        .filter(|(bit, _)| self.flags & bit != 0)
        .map(|(_, n)| n)
    }
}

/// One command's docs (the summary is on its row).
#[derive(Clone, Copy, Debug)]
pub struct CommandDoc {
    /// The full lower-case command name (`get`, `config|get`).
    pub name: &'static str,
    /// The Redis version that introduced the command (checked against Redis; wins over the row's).
    pub since: &'static str,
    /// The command group (`string`, `generic`, `server`…).
    pub group: &'static str,
    /// The time complexity, in Redis's notation.
    pub complexity: &'static str,
    /// Set for deprecated commands (doc flag `deprecated`), with `replaced_by`.
    pub deprecated_since: &'static str,
    /// The command to use instead of a deprecated one (empty when not deprecated).
    pub replaced_by: &'static str,
    /// Doc flag `syscmd`: an internal command (PFDEBUG, PFSELFTEST) users are not meant to
    /// call.
    pub syscmd: bool,
    /// `(version, what changed)`, oldest first.
    pub history: &'static [(&'static str, &'static str)],
    /// The argument tree.
    pub args: &'static [Arg],
}

impl CommandDoc {
    /// Docs with a name, version, group and complexity; not deprecated, no history, no arguments.
    pub const fn new(
        name: &'static str,
        since: &'static str,
        group: &'static str,
        complexity: &'static str,
    ) -> CommandDoc {
        CommandDoc {
            name,
            since,
            group,
            complexity,
            deprecated_since: "",
            replaced_by: "",
            syscmd: false,
            history: &[],
            args: &[],
        }
    }
    /// Marks the command deprecated since version `since`, replaced by `replaced_by`.
    pub const fn deprecated(mut self, since: &'static str, replaced_by: &'static str) -> Self {
        self.deprecated_since = since;
        self.replaced_by = replaced_by;
        self
    }
    /// Marks the command `syscmd`.
    pub const fn syscmd(mut self) -> Self {
        self.syscmd = true;
        self
    }
    /// Sets the history: `(version, what changed)`, oldest first.
    pub const fn history(mut self, h: &'static [(&'static str, &'static str)]) -> Self {
        self.history = h;
        self
    }
    /// Sets the argument tree.
    pub const fn args(mut self, args: &'static [Arg]) -> Self {
        self.args = args;
        self
    }
}

/// The docs of a command or `container|sub`, by lower-case full name.
pub fn doc(name: &str) -> Option<&'static CommandDoc> {
    DOCS.binary_search_by(|d| d.name.cmp(name))
        .ok()
        .map(|i| &DOCS[i])
}

/// Every entry, sorted by name (binary search).
#[rustfmt::skip]
pub const DOCS: &[CommandDoc] = &[
    CommandDoc::new("append", "2.0.0", "string", "O(1) amortized for a small appended value: the string grows its spare room geometrically.")
        .args(&[
            key("key", 0),
            string("value"),
        ]),
    CommandDoc::new("auth", "1.0.0", "connection", "O(N), N being the passwords the user has.")
        .history(&[("6.0.0", "ACL form with a username and a password.")])
        .args(&[
            string("username").since("6.0.0").optional(),
            string("password"),
        ]),
    CommandDoc::new("bgrewriteaof", "1.0.0", "server", "O(1) to start; the rewrite runs in the background."),
    CommandDoc::new("bitcount", "2.6.0", "bitmap", "O(N), N being the number of bytes the range covers.")
        .history(&[("7.0.0", "The range may count bits with the new `BYTE|BIT` unit.")])
        .args(&[
            key("key", 0),
            block("index", &[
                integer("start"),
                integer("end"),
                oneof("index_unit", &[
                    pure_token("byte", "BYTE"),
                    pure_token("bit", "BIT"),
                ]).since("7.0.0").optional(),
            ]).optional(),
        ]),
    CommandDoc::new("bitfield", "3.2.0", "bitmap", "O(1) per operation given.")
        .args(&[
            key("key", 0),
            oneof("operation", &[
                block("encoding_offset", &[
                    string("encoding"),
                    integer("offset"),
                ]).token("GET"),
                block("write", &[
                    oneof("wrap_sat_fail", &[
                        pure_token("wrap", "WRAP"),
                        pure_token("sat", "SAT"),
                        pure_token("fail", "FAIL"),
                    ]).token("OVERFLOW").optional(),
                    oneof("write_operation", &[
                        block("encoding_offset_value", &[
                            string("encoding"),
                            integer("offset"),
                            integer("value"),
                        ]).token("SET"),
                        block("encoding_offset_increment", &[
                            string("encoding"),
                            integer("offset"),
                            integer("increment"),
                        ]).token("INCRBY"),
                    ]),
                ]),
            ]).optional().multiple(),
        ]),
    CommandDoc::new("bitfield_ro", "6.0.0", "bitmap", "O(1) per operation given.")
        .args(&[
            key("key", 0),
            block("encoding_offset", &[
                string("encoding"),
                integer("offset"),
            ]).token("GET").optional().multiple().multiple_token(),
        ]),
    CommandDoc::new("bitop", "2.6.0", "bitmap", "O(N), N being the length of the longest source string.")
        .args(&[
            string("operation"),
            key("destkey", 0),
            key("key", 1).multiple(),
        ]),
    CommandDoc::new("bitpos", "2.8.7", "bitmap", "O(N), N being the number of bytes searched before the answer is found.")
        .history(&[("7.0.0", "The range may count bits with the new `BYTE|BIT` unit.")])
        .args(&[
            key("key", 0),
            integer("bit"),
            block("index", &[
                integer("start"),
                block("end_index", &[
                    integer("end"),
                    oneof("index_unit", &[
                        pure_token("byte", "BYTE"),
                        pure_token("bit", "BIT"),
                    ]).since("7.0.0").optional(),
                ]).optional(),
            ]).optional(),
        ]),
    CommandDoc::new("blmove", "6.2.0", "list", "O(1)")
        .args(&[
            key("source", 0),
            key("destination", 1),
            oneof("wherefrom", &[
                pure_token("left", "LEFT"),
                pure_token("right", "RIGHT"),
            ]),
            oneof("whereto", &[
                pure_token("left", "LEFT"),
                pure_token("right", "RIGHT"),
            ]),
            double("timeout"),
        ]),
    CommandDoc::new("blmpop", "7.0.0", "list", "O(N+M), N being the number of keys given and M the number of elements popped.")
        .args(&[
            double("timeout"),
            integer("numkeys"),
            key("key", 0).multiple(),
            oneof("where", &[
                pure_token("left", "LEFT"),
                pure_token("right", "RIGHT"),
            ]),
            integer("count").token("COUNT").optional(),
        ]),
    CommandDoc::new("blpop", "2.0.0", "list", "O(N), N being the number of keys given.")
        .history(&[("6.0.0", "`timeout` accepts fractional seconds (it was an integer).")])
        .args(&[
            key("key", 0).multiple(),
            double("timeout"),
        ]),
    CommandDoc::new("brpop", "2.0.0", "list", "O(N), N being the number of keys given.")
        .history(&[("6.0.0", "`timeout` accepts fractional seconds (it was an integer).")])
        .args(&[
            key("key", 0).multiple(),
            double("timeout"),
        ]),
    CommandDoc::new("brpoplpush", "2.2.0", "list", "O(1)")
        .deprecated("6.2.0", "`BLMOVE` with `RIGHT` and `LEFT`")
        .history(&[("6.0.0", "`timeout` accepts fractional seconds (it was an integer).")])
        .args(&[
            key("source", 0),
            key("destination", 1),
            double("timeout"),
        ]),
    CommandDoc::new("bzmpop", "7.0.0", "sorted-set", "O(K) + O(M*log(N)), K being the number of keys given, N the size of the sorted set and M the number of elements popped.")
        .args(&[
            double("timeout"),
            integer("numkeys"),
            key("key", 0).multiple(),
            oneof("where", &[
                pure_token("min", "MIN"),
                pure_token("max", "MAX"),
            ]),
            integer("count").token("COUNT").optional(),
        ]),
    CommandDoc::new("bzpopmax", "5.0.0", "sorted-set", "O(log(N)), N being the size of the sorted set.")
        .history(&[("6.0.0", "`timeout` accepts fractional seconds (it was an integer).")])
        .args(&[
            key("key", 0).multiple(),
            double("timeout"),
        ]),
    CommandDoc::new("bzpopmin", "5.0.0", "sorted-set", "O(log(N)), N being the size of the sorted set.")
        .history(&[("6.0.0", "`timeout` accepts fractional seconds (it was an integer).")])
        .args(&[
            key("key", 0).multiple(),
            double("timeout"),
        ]),
    CommandDoc::new("client", "2.4.0", "connection", "Depends on the subcommand."),
    CommandDoc::new("client|getname", "2.6.9", "connection", "O(1)"),
    CommandDoc::new("client|help", "5.0.0", "connection", "O(1)"),
    CommandDoc::new("client|id", "5.0.0", "connection", "O(1)"),
    CommandDoc::new("client|info", "6.2.0", "connection", "O(1)"),
    CommandDoc::new("client|kill", "2.4.0", "connection", "O(N), N being the number of connected clients.")
        .history(&[("2.8.12", "New filter syntax."), ("2.8.12", "New `ID` filter."), ("3.2.0", "`TYPE` accepts `master`."), ("5.0.0", "`TYPE replica` replaces `slave`, which still works."), ("6.2.0", "New `LADDR` filter.")])
        .args(&[
            oneof("filter", &[
                string("ip:port").deprecated_since("2.8.12"),
                oneof("new-format", &[
                    integer("client-id").token("ID").since("2.8.12").optional(),
                    oneof("normal_master_slave_pubsub", &[
                        pure_token("normal", "NORMAL"),
                        pure_token("master", "MASTER").since("3.2.0"),
                        pure_token("slave", "SLAVE"),
                        pure_token("replica", "REPLICA").since("5.0.0"),
                        pure_token("pubsub", "PUBSUB"),
                    ]).token("TYPE").since("2.8.12").optional(),
                    string("username").token("USER").optional(),
                    string("ip:port").token("ADDR").optional(),
                    string("ip:port").token("LADDR").since("6.2.0").optional(),
                    string("yes/no").token("SKIPME").optional(),
                ]).multiple(),
            ]),
        ]),
    CommandDoc::new("client|list", "2.4.0", "connection", "O(N), N being the number of connected clients.")
        .history(&[("2.8.12", "New `id` field."), ("5.0.0", "New optional `TYPE` filter."), ("6.0.0", "New `user` field."), ("6.2.0", "New `argv-mem`, `tot-mem`, `laddr` and `redir` fields; new optional `ID` filter."), ("7.0.0", "New `resp`, `multi-mem`, `rbs` and `rbp` fields."), ("7.0.3", "New `ssub` field.")])
        .args(&[
            oneof("normal_master_replica_pubsub", &[
                pure_token("normal", "NORMAL"),
                pure_token("master", "MASTER"),
                pure_token("replica", "REPLICA"),
                pure_token("pubsub", "PUBSUB"),
            ]).token("TYPE").since("5.0.0").optional(),
            block("id", &[
                integer("client-id").multiple(),
            ]).token("ID").since("6.2.0").optional(),
        ]),
    CommandDoc::new("client|no-evict", "7.0.0", "connection", "O(1)")
        .args(&[
            oneof("enabled", &[
                pure_token("on", "ON"),
                pure_token("off", "OFF"),
            ]),
        ]),
    CommandDoc::new("client|no-touch", "7.2.0", "connection", "O(1)")
        .args(&[
            oneof("enabled", &[
                pure_token("on", "ON"),
                pure_token("off", "OFF"),
            ]),
        ]),
    CommandDoc::new("client|pause", "2.9.50", "connection", "O(1)")
        .history(&[("6.2.0", "New `mode` argument: `WRITE` pauses only writes, `ALL` everything.")])
        .args(&[
            integer("timeout"),
            oneof("mode", &[
                pure_token("write", "WRITE"),
                pure_token("all", "ALL"),
            ]).since("6.2.0").optional(),
        ]),
    CommandDoc::new("client|reply", "3.2.0", "connection", "O(1)")
        .args(&[
            oneof("on_off_skip", &[
                pure_token("on", "ON"),
                pure_token("off", "OFF"),
                pure_token("skip", "SKIP"),
            ]),
        ]),
    CommandDoc::new("client|setinfo", "7.2.0", "connection", "O(1)")
        .args(&[
            oneof("attr", &[
                string("libname").token("LIB-NAME"),
                string("libver").token("LIB-VER"),
            ]),
        ]),
    CommandDoc::new("client|setname", "2.6.9", "connection", "O(1)")
        .args(&[
            string("connection-name"),
        ]),
    CommandDoc::new("client|unblock", "5.0.0", "connection", "O(log N), N being the number of connected clients.")
        .args(&[
            integer("client-id"),
            oneof("timeout_error", &[
                pure_token("timeout", "TIMEOUT"),
                pure_token("error", "ERROR"),
            ]).optional(),
        ]),
    CommandDoc::new("client|unpause", "6.2.0", "connection", "O(N), N being the clients that were paused."),
    CommandDoc::new("command", "2.8.13", "server", "O(N), N being the number of commands."),
    CommandDoc::new("command|count", "2.8.13", "server", "O(1)"),
    CommandDoc::new("command|docs", "7.0.0", "server", "O(N), N being the number of commands looked up.")
        .args(&[
            string("command-name").optional().multiple(),
        ]),
    CommandDoc::new("command|getkeys", "2.8.13", "server", "O(N), N being the number of arguments."),
    CommandDoc::new("command|getkeysandflags", "7.0.0", "server", "O(N), N being the number of arguments."),
    CommandDoc::new("command|help", "5.0.0", "server", "O(1)"),
    CommandDoc::new("command|info", "2.8.13", "server", "O(N), N being the number of commands looked up.")
        .history(&[("7.0.0", "Can be called without arguments to describe every command.")])
        .args(&[
            string("command-name").optional().multiple(),
        ]),
    CommandDoc::new("command|list", "7.0.0", "server", "O(N), N being the number of commands.")
        .args(&[
            oneof("filterby", &[
                string("module-name").token("MODULE"),
                string("category").token("ACLCAT"),
                pattern("pattern").token("PATTERN"),
            ]).token("FILTERBY").optional(),
        ]),
    CommandDoc::new("config", "2.0.0", "server", "Depends on the subcommand."),
    CommandDoc::new("config|get", "2.0.0", "server", "O(N), N being the number of parameters given.")
        .history(&[("7.0.0", "Takes several patterns.")])
        .args(&[
            block("parameter", &[
                string("parameter"),
            ]).multiple(),
        ]),
    CommandDoc::new("config|help", "5.0.0", "server", "O(1)"),
    CommandDoc::new("config|resetstat", "2.0.0", "server", "O(1)"),
    CommandDoc::new("config|rewrite", "2.8.0", "server", "O(1)"),
    CommandDoc::new("config|set", "2.0.0", "server", "O(N), N being the number of parameters given.")
        .history(&[("7.0.0", "Sets several parameters in one call.")])
        .args(&[
            block("parameter_value", &[
                string("parameter"),
                string("value"),
            ]).multiple(),
        ]),
    CommandDoc::new("copy", "6.2.0", "generic", "O(N) for a collection of N items; O(1) for a string.")
        .args(&[
            key("source", 0),
            key("destination", 1),
            integer("destination-db").token("DB").optional(),
            pure_token("replace", "REPLACE").optional(),
        ]),
    CommandDoc::new("dbsize", "1.0.0", "server", "O(1)"),
    CommandDoc::new("debug", "1.0.0", "server", "Depends on the subcommand."),
    CommandDoc::new("decr", "1.0.0", "string", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("decrby", "1.0.0", "string", "O(1)")
        .args(&[
            key("key", 0),
            integer("decrement"),
        ]),
    CommandDoc::new("del", "1.0.0", "generic", "O(N), N being the keys removed; a collection costs O(M) in its M elements, a string O(1).")
        .args(&[
            key("key", 0).multiple(),
        ]),
    CommandDoc::new("discard", "2.0.0", "transactions", "O(N), N being the number of queued commands."),
    CommandDoc::new("echo", "1.0.0", "connection", "O(1)")
        .args(&[
            string("message"),
        ]),
    CommandDoc::new("eval", "2.6.0", "scripting", "Depends on the script that is executed.")
        .args(&[
            string("script"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    CommandDoc::new("eval_ro", "7.0.0", "scripting", "Depends on the script that is executed.")
        .args(&[
            string("script"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    CommandDoc::new("evalsha", "2.6.0", "scripting", "Depends on the script that is executed.")
        .args(&[
            string("sha1"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    CommandDoc::new("evalsha_ro", "7.0.0", "scripting", "Depends on the script that is executed.")
        .args(&[
            string("sha1"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    CommandDoc::new("exec", "1.2.0", "transactions", "Depends on the queued commands."),
    CommandDoc::new("exists", "1.0.0", "generic", "O(N), N being the number of keys checked.")
        .history(&[("3.0.3", "Takes several keys.")])
        .args(&[
            key("key", 0).multiple(),
        ]),
    CommandDoc::new("expire", "1.0.0", "generic", "O(1)")
        .history(&[("7.0.0", "New `NX`, `XX`, `GT` and `LT` options.")])
        .args(&[
            key("key", 0),
            integer("seconds"),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
                pure_token("gt", "GT"),
                pure_token("lt", "LT"),
            ]).since("7.0.0").optional(),
        ]),
    CommandDoc::new("expireat", "1.2.0", "generic", "O(1)")
        .history(&[("7.0.0", "New `NX`, `XX`, `GT` and `LT` options.")])
        .args(&[
            key("key", 0),
            unix_time("unix-time-seconds"),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
                pure_token("gt", "GT"),
                pure_token("lt", "LT"),
            ]).since("7.0.0").optional(),
        ]),
    CommandDoc::new("expiretime", "7.0.0", "generic", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("fcall", "7.0.0", "scripting", "Depends on the function that is executed.")
        .args(&[
            string("function"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    CommandDoc::new("fcall_ro", "7.0.0", "scripting", "Depends on the function that is executed.")
        .args(&[
            string("function"),
            integer("numkeys"),
            key("key", 0).optional().multiple(),
            string("arg").optional().multiple(),
        ]),
    CommandDoc::new("flushall", "1.0.0", "server", "O(N), N being the keys of all databases.")
        .history(&[("4.0.0", "New `ASYNC` mode."), ("6.2.0", "New `SYNC` mode.")])
        .args(&[
            oneof("async", &[
                pure_token("async", "ASYNC").since("4.0.0"),
                pure_token("sync", "SYNC").since("6.2.0"),
            ]).optional(),
        ]),
    CommandDoc::new("flushdb", "1.0.0", "server", "O(N), N being the keys in the selected database.")
        .history(&[("4.0.0", "New `ASYNC` mode."), ("6.2.0", "New `SYNC` mode.")])
        .args(&[
            oneof("async", &[
                pure_token("async", "ASYNC").since("4.0.0"),
                pure_token("sync", "SYNC").since("6.2.0"),
            ]).optional(),
        ]),
    CommandDoc::new("function", "7.0.0", "scripting", "Depends on the subcommand."),
    CommandDoc::new("function|delete", "7.0.0", "scripting", "O(1)")
        .args(&[
            string("library-name"),
        ]),
    CommandDoc::new("function|dump", "7.0.0", "scripting", "O(N), N being the number of functions."),
    CommandDoc::new("function|flush", "7.0.0", "scripting", "O(N), N being the number of functions deleted.")
        .args(&[
            oneof("flush-type", &[
                pure_token("async", "ASYNC"),
                pure_token("sync", "SYNC"),
            ]).optional(),
        ]),
    CommandDoc::new("function|help", "7.0.0", "scripting", "O(1)"),
    CommandDoc::new("function|kill", "7.0.0", "scripting", "O(1)"),
    CommandDoc::new("function|list", "7.0.0", "scripting", "O(N), N being the number of functions.")
        .args(&[
            string("library-name-pattern").token("LIBRARYNAME").optional(),
            pure_token("withcode", "WITHCODE").optional(),
        ]),
    CommandDoc::new("function|load", "7.0.0", "scripting", "O(1) (the library's own code runs once).")
        .args(&[
            pure_token("replace", "REPLACE").optional(),
            string("function-code"),
        ]),
    CommandDoc::new("function|restore", "7.0.0", "scripting", "O(N), N being the number of functions in the payload.")
        .args(&[
            string("serialized-value"),
            oneof("policy", &[
                pure_token("flush", "FLUSH"),
                pure_token("append", "APPEND"),
                pure_token("replace", "REPLACE"),
            ]).optional(),
        ]),
    CommandDoc::new("function|stats", "7.0.0", "scripting", "O(1)"),
    CommandDoc::new("geoadd", "3.2.0", "geo", "O(log(N)) per point, N being the size of the geo set.")
        .history(&[("6.2.0", "New `CH`, `NX` and `XX` options.")])
        .args(&[
            key("key", 0),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
            ]).since("6.2.0").optional(),
            pure_token("change", "CH").since("6.2.0").optional(),
            block("longitude_latitude_member", &[
                double("longitude"),
                double("latitude"),
                string("member"),
            ]).multiple(),
        ]),
    CommandDoc::new("geodist", "3.2.0", "geo", "O(1) once both members are found; O(log(N)) lookups, N being the size of the geo set.")
        .args(&[
            key("key", 0),
            string("member1"),
            string("member2"),
            oneof("unit", &[
                pure_token("m", "M"),
                pure_token("km", "KM"),
                pure_token("ft", "FT"),
                pure_token("mi", "MI"),
            ]).optional(),
        ]),
    CommandDoc::new("geohash", "3.2.0", "geo", "O(log(N)) per member asked for, N being the size of the geo set.")
        .args(&[
            key("key", 0),
            string("member").multiple(),
        ]),
    CommandDoc::new("geopos", "3.2.0", "geo", "O(N), N being the number of members asked for.")
        .args(&[
            key("key", 0),
            string("member").multiple(),
        ]),
    CommandDoc::new("georadius", "3.2.0", "geo", "O(N+log(M)), N being the points in the cells around the circle that are read and M the size of the geo set.")
        .deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument")
        .history(&[("6.2.0", "`COUNT` takes an optional `ANY`."), ("7.0.0", "Units may be given in upper case.")])
        .args(&[
            key("key", 0),
            double("longitude"),
            double("latitude"),
            double("radius"),
            oneof("unit", &[
                pure_token("m", "M"),
                pure_token("km", "KM"),
                pure_token("ft", "FT"),
                pure_token("mi", "MI"),
            ]),
            pure_token("withcoord", "WITHCOORD").optional(),
            pure_token("withdist", "WITHDIST").optional(),
            pure_token("withhash", "WITHHASH").optional(),
            block("count", &[
                integer("count").token("COUNT"),
                pure_token("any", "ANY").since("6.2.0").optional(),
            ]).optional(),
            oneof("order", &[
                pure_token("asc", "ASC"),
                pure_token("desc", "DESC"),
            ]).optional(),
            key("key", 1).token("STORE").optional(),
            key("key", 2).token("STOREDIST").optional(),
        ]),
    CommandDoc::new("georadius_ro", "3.2.10", "geo", "O(N+log(M)), N being the points in the cells around the circle that are read and M the size of the geo set.")
        .deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` argument")
        .history(&[("6.2.0", "`COUNT` takes an optional `ANY`.")])
        .args(&[
            key("key", 0),
            double("longitude"),
            double("latitude"),
            double("radius"),
            oneof("unit", &[
                pure_token("m", "M"),
                pure_token("km", "KM"),
                pure_token("ft", "FT"),
                pure_token("mi", "MI"),
            ]),
            pure_token("withcoord", "WITHCOORD").optional(),
            pure_token("withdist", "WITHDIST").optional(),
            pure_token("withhash", "WITHHASH").optional(),
            block("count", &[
                integer("count").token("COUNT"),
                pure_token("any", "ANY").since("6.2.0").optional(),
            ]).optional(),
            oneof("order", &[
                pure_token("asc", "ASC"),
                pure_token("desc", "DESC"),
            ]).optional(),
        ]),
    CommandDoc::new("georadiusbymember", "3.2.0", "geo", "O(N+log(M)), N being the points in the cells around the circle that are read and M the size of the geo set.")
        .deprecated("6.2.0", "`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and `FROMMEMBER` arguments")
        .history(&[("7.0.0", "Units may be given in upper case.")])
        .args(&[
            key("key", 0),
            string("member"),
            double("radius"),
            oneof("unit", &[
                pure_token("m", "M"),
                pure_token("km", "KM"),
                pure_token("ft", "FT"),
                pure_token("mi", "MI"),
            ]),
            pure_token("withcoord", "WITHCOORD").optional(),
            pure_token("withdist", "WITHDIST").optional(),
            pure_token("withhash", "WITHHASH").optional(),
            block("count", &[
                integer("count").token("COUNT"),
                pure_token("any", "ANY").optional(),
            ]).optional(),
            oneof("order", &[
                pure_token("asc", "ASC"),
                pure_token("desc", "DESC"),
            ]).optional(),
            key("key", 1).token("STORE").optional(),
            key("key", 2).token("STOREDIST").optional(),
        ]),
    CommandDoc::new("georadiusbymember_ro", "3.2.10", "geo", "O(N+log(M)), N being the points in the cells around the circle that are read and M the size of the geo set.")
        .deprecated("6.2.0", "`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments")
        .args(&[
            key("key", 0),
            string("member"),
            double("radius"),
            oneof("unit", &[
                pure_token("m", "M"),
                pure_token("km", "KM"),
                pure_token("ft", "FT"),
                pure_token("mi", "MI"),
            ]),
            pure_token("withcoord", "WITHCOORD").optional(),
            pure_token("withdist", "WITHDIST").optional(),
            pure_token("withhash", "WITHHASH").optional(),
            block("count", &[
                integer("count").token("COUNT"),
                pure_token("any", "ANY").optional(),
            ]).optional(),
            oneof("order", &[
                pure_token("asc", "ASC"),
                pure_token("desc", "DESC"),
            ]).optional(),
        ]),
    CommandDoc::new("geosearch", "6.2.0", "geo", "O(N+log(M)), N being the points in the grid cells covering the circle or box and M the size of the geo set.")
        .history(&[("7.0.0", "Units may be given in upper case.")])
        .args(&[
            key("key", 0),
            oneof("from", &[
                string("member").token("FROMMEMBER"),
                block("longitude_latitude", &[
                    double("longitude"),
                    double("latitude"),
                ]).token("FROMLONLAT"),
            ]),
            oneof("by", &[
                block("circle", &[
                    double("radius").token("BYRADIUS"),
                    oneof("unit", &[
                        pure_token("m", "M"),
                        pure_token("km", "KM"),
                        pure_token("ft", "FT"),
                        pure_token("mi", "MI"),
                    ]),
                ]),
                block("box", &[
                    double("width").token("BYBOX"),
                    double("height"),
                    oneof("unit", &[
                        pure_token("m", "M"),
                        pure_token("km", "KM"),
                        pure_token("ft", "FT"),
                        pure_token("mi", "MI"),
                    ]),
                ]),
            ]),
            oneof("order", &[
                pure_token("asc", "ASC"),
                pure_token("desc", "DESC"),
            ]).optional(),
            block("count", &[
                integer("count").token("COUNT"),
                pure_token("any", "ANY").optional(),
            ]).optional(),
            pure_token("withcoord", "WITHCOORD").optional(),
            pure_token("withdist", "WITHDIST").optional(),
            pure_token("withhash", "WITHHASH").optional(),
        ]),
    CommandDoc::new("geosearchstore", "6.2.0", "geo", "O(N+log(M)), N being the points in the grid cells covering the circle or box and M the size of the geo set.")
        .history(&[("7.0.0", "Units may be given in upper case.")])
        .args(&[
            key("destination", 0),
            key("source", 1),
            oneof("from", &[
                string("member").token("FROMMEMBER"),
                block("longitude_latitude", &[
                    double("longitude"),
                    double("latitude"),
                ]).token("FROMLONLAT"),
            ]),
            oneof("by", &[
                block("circle", &[
                    double("radius").token("BYRADIUS"),
                    oneof("unit", &[
                        pure_token("m", "M"),
                        pure_token("km", "KM"),
                        pure_token("ft", "FT"),
                        pure_token("mi", "MI"),
                    ]),
                ]),
                block("box", &[
                    double("width").token("BYBOX"),
                    double("height"),
                    oneof("unit", &[
                        pure_token("m", "M"),
                        pure_token("km", "KM"),
                        pure_token("ft", "FT"),
                        pure_token("mi", "MI"),
                    ]),
                ]),
            ]),
            oneof("order", &[
                pure_token("asc", "ASC"),
                pure_token("desc", "DESC"),
            ]).optional(),
            block("count", &[
                integer("count").token("COUNT"),
                pure_token("any", "ANY").optional(),
            ]).optional(),
            pure_token("storedist", "STOREDIST").optional(),
        ]),
    CommandDoc::new("get", "1.0.0", "string", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("getbit", "2.2.0", "bitmap", "O(1)")
        .args(&[
            key("key", 0),
            integer("offset"),
        ]),
    CommandDoc::new("getdel", "6.2.0", "string", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("getex", "6.2.0", "string", "O(1)")
        .args(&[
            key("key", 0),
            oneof("expiration", &[
                integer("seconds").token("EX"),
                integer("milliseconds").token("PX"),
                unix_time("unix-time-seconds").token("EXAT"),
                unix_time("unix-time-milliseconds").token("PXAT"),
                pure_token("persist", "PERSIST"),
            ]).optional(),
        ]),
    CommandDoc::new("getrange", "2.4.0", "string", "O(N), N being the length of the returned substring.")
        .args(&[
            key("key", 0),
            integer("start"),
            integer("end"),
        ]),
    CommandDoc::new("getset", "1.0.0", "string", "O(1)")
        .deprecated("6.2.0", "`SET` with the `GET` option")
        .args(&[
            key("key", 0),
            string("value"),
        ]),
    CommandDoc::new("hdel", "2.0.0", "hash", "O(N), N being the number of fields given.")
        .history(&[("2.4.0", "Takes several fields.")])
        .args(&[
            key("key", 0),
            string("field").multiple(),
        ]),
    CommandDoc::new("hello", "6.0.0", "connection", "O(1)")
        .history(&[("6.2.0", "`protover` became optional; with no arguments the reply describes the connection.")])
        .args(&[
            block("arguments", &[
                integer("protover"),
                block("username_password", &[
                    string("username"),
                    string("password"),
                ]).token("AUTH").optional(),
                string("clientname").token("SETNAME").optional(),
            ]).optional(),
        ]),
    CommandDoc::new("hexists", "2.0.0", "hash", "O(1)")
        .args(&[
            key("key", 0),
            string("field"),
        ]),
    CommandDoc::new("hget", "2.0.0", "hash", "O(1)")
        .args(&[
            key("key", 0),
            string("field"),
        ]),
    CommandDoc::new("hgetall", "2.0.0", "hash", "O(N), N being the number of fields in the hash.")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("hincrby", "2.0.0", "hash", "O(1)")
        .args(&[
            key("key", 0),
            string("field"),
            integer("increment"),
        ]),
    CommandDoc::new("hincrbyfloat", "2.6.0", "hash", "O(1)")
        .args(&[
            key("key", 0),
            string("field"),
            double("increment"),
        ]),
    CommandDoc::new("hkeys", "2.0.0", "hash", "O(N), N being the number of fields in the hash.")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("hlen", "2.0.0", "hash", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("hmget", "2.0.0", "hash", "O(N), N being the number of fields asked for.")
        .args(&[
            key("key", 0),
            string("field").multiple(),
        ]),
    CommandDoc::new("hmset", "2.0.0", "hash", "O(N), N being the number of fields written.")
        .deprecated("4.0.0", "`HSET` with several field-value pairs")
        .args(&[
            key("key", 0),
            block("field_value", &[
                string("field"),
                string("value"),
            ]).multiple(),
        ]),
    CommandDoc::new("hrandfield", "6.2.0", "hash", "O(N), N being the number of fields returned.")
        .args(&[
            key("key", 0),
            block("options", &[
                integer("count"),
                pure_token("withvalues", "WITHVALUES").optional(),
            ]).optional(),
        ]),
    CommandDoc::new("hscan", "2.8.0", "hash", "O(1) per call; O(N) for a whole iteration back to cursor 0, N being the number of fields in the hash.")
        .args(&[
            key("key", 0),
            integer("cursor"),
            pattern("pattern").token("MATCH").optional(),
            integer("count").token("COUNT").optional(),
        ]),
    CommandDoc::new("hset", "2.0.0", "hash", "O(1) per field written; O(N) for N field-value pairs.")
        .history(&[("4.0.0", "Takes several field-value pairs.")])
        .args(&[
            key("key", 0),
            block("field_value", &[
                string("field"),
                string("value"),
            ]).multiple(),
        ]),
    CommandDoc::new("hsetnx", "2.0.0", "hash", "O(1)")
        .args(&[
            key("key", 0),
            string("field"),
            string("value"),
        ]),
    CommandDoc::new("hstrlen", "3.2.0", "hash", "O(1)")
        .args(&[
            key("key", 0),
            string("field"),
        ]),
    CommandDoc::new("hvals", "2.0.0", "hash", "O(N), N being the number of fields in the hash.")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("incr", "1.0.0", "string", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("incrby", "1.0.0", "string", "O(1)")
        .args(&[
            key("key", 0),
            integer("increment"),
        ]),
    CommandDoc::new("incrbyfloat", "2.6.0", "string", "O(1)")
        .args(&[
            key("key", 0),
            double("increment"),
        ]),
    CommandDoc::new("info", "1.0.0", "server", "O(1)")
        .history(&[("7.0.0", "Takes several section names.")])
        .args(&[
            string("section").optional().multiple(),
        ]),
    CommandDoc::new("keys", "1.0.0", "generic", "O(N), N being the keys in the database (short names and pattern assumed).")
        .args(&[
            pattern("pattern"),
        ]),
    CommandDoc::new("lastsave", "1.0.0", "server", "O(1)"),
    CommandDoc::new("latency", "2.8.13", "server", "Depends on the subcommand."),
    CommandDoc::new("latency|doctor", "2.8.13", "server", "O(1)"),
    CommandDoc::new("latency|graph", "2.8.13", "server", "O(1)")
        .args(&[
            string("event"),
        ]),
    CommandDoc::new("latency|help", "2.8.13", "server", "O(1)"),
    CommandDoc::new("latency|histogram", "7.0.0", "server", "O(N), N being the commands whose histograms are returned.")
        .args(&[
            string("command").optional().multiple(),
        ]),
    CommandDoc::new("latency|history", "2.8.13", "server", "O(1)")
        .args(&[
            string("event"),
        ]),
    CommandDoc::new("latency|latest", "2.8.13", "server", "O(1)"),
    CommandDoc::new("latency|reset", "2.8.13", "server", "O(1)")
        .args(&[
            string("event").optional().multiple(),
        ]),
    CommandDoc::new("lcs", "7.0.0", "string", "O(N*M), N and M being the two strings' lengths.")
        .args(&[
            key("key1", 0),
            key("key2", 0),
            pure_token("len", "LEN").optional(),
            pure_token("idx", "IDX").optional(),
            integer("len").token("MINMATCHLEN").optional(),
            pure_token("withmatchlen", "WITHMATCHLEN").optional(),
        ]),
    CommandDoc::new("lindex", "1.0.0", "list", "O(N), N being the elements walked to reach the index; the first and last elements are O(1).")
        .args(&[
            key("key", 0),
            integer("index"),
        ]),
    CommandDoc::new("linsert", "2.2.0", "list", "O(N), N being the elements walked before the pivot is found: close to O(1) near the head, O(N) near the tail.")
        .args(&[
            key("key", 0),
            oneof("where", &[
                pure_token("before", "BEFORE"),
                pure_token("after", "AFTER"),
            ]),
            string("pivot"),
            string("element"),
        ]),
    CommandDoc::new("llen", "1.0.0", "list", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("lmove", "6.2.0", "list", "O(1)")
        .args(&[
            key("source", 0),
            key("destination", 1),
            oneof("wherefrom", &[
                pure_token("left", "LEFT"),
                pure_token("right", "RIGHT"),
            ]),
            oneof("whereto", &[
                pure_token("left", "LEFT"),
                pure_token("right", "RIGHT"),
            ]),
        ]),
    CommandDoc::new("lmpop", "7.0.0", "list", "O(N+M), N being the number of keys given and M the number of elements popped.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            oneof("where", &[
                pure_token("left", "LEFT"),
                pure_token("right", "RIGHT"),
            ]),
            integer("count").token("COUNT").optional(),
        ]),
    CommandDoc::new("lpop", "1.0.0", "list", "O(N), N being the number of elements popped.")
        .history(&[("6.2.0", "New optional `count` argument.")])
        .args(&[
            key("key", 0),
            integer("count").since("6.2.0").optional(),
        ]),
    CommandDoc::new("lpos", "6.0.6", "list", "O(N), N being the length of the list, on average; matches near either end, or a `MAXLEN` bound, bring it close to constant time.")
        .args(&[
            key("key", 0),
            string("element"),
            integer("rank").token("RANK").optional(),
            integer("num-matches").token("COUNT").optional(),
            integer("len").token("MAXLEN").optional(),
        ]),
    CommandDoc::new("lpush", "1.0.0", "list", "O(1) per element pushed; O(N) for N elements.")
        .history(&[("2.4.0", "Takes several elements.")])
        .args(&[
            key("key", 0),
            string("element").multiple(),
        ]),
    CommandDoc::new("lpushx", "2.2.0", "list", "O(1) per element pushed; O(N) for N elements.")
        .history(&[("4.0.0", "Takes several elements.")])
        .args(&[
            key("key", 0),
            string("element").multiple(),
        ]),
    CommandDoc::new("lrange", "1.0.0", "list", "O(S+N), S being the walk to the start index (from the head of a small list, from the closer end of a large one) and N the number of elements returned.")
        .args(&[
            key("key", 0),
            integer("start"),
            integer("stop"),
        ]),
    CommandDoc::new("lrem", "1.0.0", "list", "O(N+M), N being the length of the list and M the number of elements removed.")
        .args(&[
            key("key", 0),
            integer("count"),
            string("element"),
        ]),
    CommandDoc::new("lset", "1.0.0", "list", "O(N), N being the length of the list; the first and last elements are O(1).")
        .args(&[
            key("key", 0),
            integer("index"),
            string("element"),
        ]),
    CommandDoc::new("ltrim", "1.0.0", "list", "O(N), N being the number of elements trimmed away.")
        .args(&[
            key("key", 0),
            integer("start"),
            integer("stop"),
        ]),
    CommandDoc::new("memory", "4.0.0", "server", "Depends on the subcommand."),
    CommandDoc::new("memory|doctor", "4.0.0", "server", "O(1)"),
    CommandDoc::new("memory|help", "4.0.0", "server", "O(1)"),
    CommandDoc::new("memory|malloc-stats", "4.0.0", "server", "Proportional to the memory the allocator manages; may be slow."),
    CommandDoc::new("memory|purge", "4.0.0", "server", "Proportional to the memory the allocator manages; may be slow."),
    CommandDoc::new("memory|stats", "4.0.0", "server", "O(1) per database."),
    CommandDoc::new("memory|usage", "4.0.0", "server", "O(N), N being the number of elements sampled.")
        .args(&[
            key("key", 0),
            integer("count").token("SAMPLES").optional(),
        ]),
    CommandDoc::new("mget", "1.0.0", "string", "O(N), N being the number of keys read.")
        .args(&[
            key("key", 0).multiple(),
        ]),
    CommandDoc::new("monitor", "1.0.0", "server", "O(1) to start; every later command costs O(M) more, M being the monitoring clients."),
    CommandDoc::new("move", "1.0.0", "generic", "O(1)")
        .args(&[
            key("key", 0),
            integer("db"),
        ]),
    CommandDoc::new("mset", "1.0.1", "string", "O(N), N being the number of keys written.")
        .args(&[
            block("key_value", &[
                key("key", 0),
                string("value"),
            ]).multiple(),
        ]),
    CommandDoc::new("msetnx", "1.0.1", "string", "O(N), N being the number of keys written.")
        .args(&[
            block("key_value", &[
                key("key", 0),
                string("value"),
            ]).multiple(),
        ]),
    CommandDoc::new("multi", "1.2.0", "transactions", "O(1)"),
    CommandDoc::new("object", "2.2.3", "generic", "Depends on the subcommand."),
    CommandDoc::new("object|encoding", "2.2.3", "generic", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("object|freq", "4.0.0", "generic", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("object|help", "6.2.0", "generic", "O(1)"),
    CommandDoc::new("object|idletime", "2.2.3", "generic", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("object|refcount", "2.2.3", "generic", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("persist", "2.2.0", "generic", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("pexpire", "2.6.0", "generic", "O(1)")
        .history(&[("7.0.0", "New `NX`, `XX`, `GT` and `LT` options.")])
        .args(&[
            key("key", 0),
            integer("milliseconds"),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
                pure_token("gt", "GT"),
                pure_token("lt", "LT"),
            ]).since("7.0.0").optional(),
        ]),
    CommandDoc::new("pexpireat", "2.6.0", "generic", "O(1)")
        .history(&[("7.0.0", "New `NX`, `XX`, `GT` and `LT` options.")])
        .args(&[
            key("key", 0),
            unix_time("unix-time-milliseconds"),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
                pure_token("gt", "GT"),
                pure_token("lt", "LT"),
            ]).since("7.0.0").optional(),
        ]),
    CommandDoc::new("pexpiretime", "7.0.0", "generic", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("pfadd", "2.8.9", "hyperloglog", "O(1) per element added.")
        .args(&[
            key("key", 0),
            string("element").optional().multiple(),
        ]),
    CommandDoc::new("pfcount", "2.8.9", "hyperloglog", "O(1) for one key whose cached estimate is current (usually the case), else one pass over its registers; with N keys, N register merges, each costing far more than the one-key path.")
        .args(&[
            key("key", 0).multiple(),
        ]),
    CommandDoc::new("pfdebug", "2.8.9", "hyperloglog", "N/A")
        .syscmd()
        .args(&[
            string("subcommand"),
            key("key", 0),
        ]),
    CommandDoc::new("pfmerge", "2.8.9", "hyperloglog", "O(N) for N HyperLogLogs, each a full pass over its registers.")
        .args(&[
            key("destkey", 0),
            key("sourcekey", 1).multiple(),
        ]),
    CommandDoc::new("pfselftest", "2.8.9", "hyperloglog", "N/A")
        .syscmd(),
    CommandDoc::new("ping", "1.0.0", "connection", "O(1)")
        .args(&[
            string("message").optional(),
        ]),
    CommandDoc::new("psetex", "2.6.0", "string", "O(1)")
        .args(&[
            key("key", 0),
            integer("milliseconds"),
            string("value"),
        ]),
    CommandDoc::new("psubscribe", "2.0.0", "pubsub", "O(N), N being the patterns the client is subscribed to.")
        .args(&[
            block("pattern", &[
                pattern("pattern"),
            ]).multiple(),
        ]),
    CommandDoc::new("pttl", "2.6.0", "generic", "O(1)")
        .history(&[("2.8.0", "Replies -2 when the key does not exist.")])
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("publish", "2.0.0", "pubsub", "O(N+M), N being the channel's subscribers and M all clients' pattern subscriptions.")
        .args(&[
            string("channel"),
            string("message"),
        ]),
    CommandDoc::new("pubsub", "2.8.0", "pubsub", "Depends on the subcommand."),
    CommandDoc::new("pubsub|channels", "2.8.0", "pubsub", "O(N), N being the number of active channels (pattern matching taken as constant).")
        .args(&[
            pattern("pattern").optional(),
        ]),
    CommandDoc::new("pubsub|help", "6.2.0", "pubsub", "O(1)"),
    CommandDoc::new("pubsub|numpat", "2.8.0", "pubsub", "O(1)"),
    CommandDoc::new("pubsub|numsub", "2.8.0", "pubsub", "O(N), N being the number of channels asked about.")
        .args(&[
            string("channel").optional().multiple(),
        ]),
    CommandDoc::new("pubsub|shardchannels", "7.0.0", "pubsub", "O(N), N being the number of active shard channels (pattern matching taken as constant).")
        .args(&[
            pattern("pattern").optional(),
        ]),
    CommandDoc::new("pubsub|shardnumsub", "7.0.0", "pubsub", "O(N), N being the number of shard channels asked about.")
        .args(&[
            string("shardchannel").optional().multiple(),
        ]),
    CommandDoc::new("punsubscribe", "2.0.0", "pubsub", "O(N+M), N being this client's patterns and M every client's patterns.")
        .args(&[
            pattern("pattern").optional().multiple(),
        ]),
    CommandDoc::new("quit", "1.0.0", "connection", "O(1)"),
    CommandDoc::new("randomkey", "1.0.0", "generic", "O(1)"),
    CommandDoc::new("rename", "1.0.0", "generic", "O(1)")
        .args(&[
            key("key", 0),
            key("newkey", 1),
        ]),
    CommandDoc::new("renamenx", "1.0.0", "generic", "O(1)")
        .history(&[("3.2.0", "Renaming a key to itself is no longer an error.")])
        .args(&[
            key("key", 0),
            key("newkey", 1),
        ]),
    CommandDoc::new("reset", "6.2.0", "connection", "O(1)"),
    CommandDoc::new("role", "2.8.12", "server", "O(1)"),
    CommandDoc::new("rpop", "1.0.0", "list", "O(N), N being the number of elements popped.")
        .history(&[("6.2.0", "New optional `count` argument.")])
        .args(&[
            key("key", 0),
            integer("count").since("6.2.0").optional(),
        ]),
    CommandDoc::new("rpoplpush", "1.2.0", "list", "O(1)")
        .deprecated("6.2.0", "`LMOVE` with `RIGHT` and `LEFT`")
        .args(&[
            key("source", 0),
            key("destination", 1),
        ]),
    CommandDoc::new("rpush", "1.0.0", "list", "O(1) per element pushed; O(N) for N elements.")
        .history(&[("2.4.0", "Takes several elements.")])
        .args(&[
            key("key", 0),
            string("element").multiple(),
        ]),
    CommandDoc::new("rpushx", "2.2.0", "list", "O(1) per element pushed; O(N) for N elements.")
        .history(&[("4.0.0", "Takes several elements.")])
        .args(&[
            key("key", 0),
            string("element").multiple(),
        ]),
    CommandDoc::new("sadd", "1.0.0", "set", "O(1) per member added; O(N) for N members.")
        .history(&[("2.4.0", "Takes several members.")])
        .args(&[
            key("key", 0),
            string("member").multiple(),
        ]),
    CommandDoc::new("scan", "2.8.0", "generic", "O(1) per call; O(N) for a whole iteration back to cursor 0, N being the number of elements.")
        .history(&[("6.0.0", "New `TYPE` option.")])
        .args(&[
            integer("cursor"),
            pattern("pattern").token("MATCH").optional(),
            integer("count").token("COUNT").optional(),
            string("type").token("TYPE").since("6.0.0").optional(),
        ]),
    CommandDoc::new("scard", "1.0.0", "set", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("script", "2.6.0", "scripting", "Depends on the subcommand."),
    CommandDoc::new("script|exists", "2.6.0", "scripting", "O(N), N being the number of digests checked.")
        .args(&[
            string("sha1").multiple(),
        ]),
    CommandDoc::new("script|flush", "2.6.0", "scripting", "O(N), N being the number of scripts in the cache.")
        .history(&[("6.2.0", "New `ASYNC` and `SYNC` modes.")])
        .args(&[
            oneof("flush-type", &[
                pure_token("async", "ASYNC").since("6.2.0"),
                pure_token("sync", "SYNC").since("6.2.0"),
            ]).optional(),
        ]),
    CommandDoc::new("script|help", "5.0.0", "scripting", "O(1)"),
    CommandDoc::new("script|kill", "2.6.0", "scripting", "O(1)"),
    CommandDoc::new("script|load", "2.6.0", "scripting", "O(N), N being the length of the script.")
        .args(&[
            string("script"),
        ]),
    CommandDoc::new("sdiff", "1.0.0", "set", "O(N), N being the total number of members of the sets given.")
        .args(&[
            key("key", 0).multiple(),
        ]),
    CommandDoc::new("sdiffstore", "1.0.0", "set", "O(N), N being the total number of members of the sets given.")
        .args(&[
            key("destination", 0),
            key("key", 1).multiple(),
        ]),
    CommandDoc::new("select", "1.0.0", "connection", "O(1)")
        .args(&[
            integer("index"),
        ]),
    CommandDoc::new("set", "1.0.0", "string", "O(1)")
        .history(&[("2.6.12", "New `EX`, `PX`, `NX` and `XX` options."), ("6.0.0", "New `KEEPTTL` option."), ("6.2.0", "New `GET`, `EXAT` and `PXAT` options."), ("7.0.0", "`NX` and `GET` may be combined.")])
        .args(&[
            key("key", 0),
            string("value"),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
            ]).since("2.6.12").optional(),
            pure_token("get", "GET").since("6.2.0").optional(),
            oneof("expiration", &[
                integer("seconds").token("EX").since("2.6.12"),
                integer("milliseconds").token("PX").since("2.6.12"),
                unix_time("unix-time-seconds").token("EXAT").since("6.2.0"),
                unix_time("unix-time-milliseconds").token("PXAT").since("6.2.0"),
                pure_token("keepttl", "KEEPTTL").since("6.0.0"),
            ]).optional(),
        ]),
    CommandDoc::new("setbit", "2.2.0", "bitmap", "O(1), plus O(M) to pad the string with M zero bytes when it grows.")
        .args(&[
            key("key", 0),
            integer("offset"),
            integer("value"),
        ]),
    CommandDoc::new("setex", "2.0.0", "string", "O(1)")
        .args(&[
            key("key", 0),
            integer("seconds"),
            string("value"),
        ]),
    CommandDoc::new("setnx", "1.0.0", "string", "O(1)")
        .args(&[
            key("key", 0),
            string("value"),
        ]),
    CommandDoc::new("setrange", "2.2.0", "string", "O(1), plus O(M) to copy the value in, M being its length.")
        .args(&[
            key("key", 0),
            integer("offset"),
            string("value"),
        ]),
    CommandDoc::new("shutdown", "1.0.0", "server", "O(N) when saving, N being the keys of all databases; O(1) otherwise.")
        .history(&[("7.0.0", "New `NOW`, `FORCE` and `ABORT` options.")])
        .args(&[
            oneof("nosave_save", &[
                pure_token("nosave", "NOSAVE"),
                pure_token("save", "SAVE"),
            ]).optional(),
            pure_token("now", "NOW").since("7.0.0").optional(),
            pure_token("force", "FORCE").since("7.0.0").optional(),
            pure_token("abort", "ABORT").since("7.0.0").optional(),
        ]),
    CommandDoc::new("sinter", "1.0.0", "set", "O(N*M) in the worst case, N being the size of the smallest set and M the number of sets.")
        .args(&[
            key("key", 0).multiple(),
        ]),
    CommandDoc::new("sintercard", "7.0.0", "set", "O(N*M) in the worst case, N being the size of the smallest set and M the number of sets.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            integer("limit").token("LIMIT").optional(),
        ]),
    CommandDoc::new("sinterstore", "1.0.0", "set", "O(N*M) in the worst case, N being the size of the smallest set and M the number of sets.")
        .args(&[
            key("destination", 0),
            key("key", 1).multiple(),
        ]),
    CommandDoc::new("sismember", "1.0.0", "set", "O(1)")
        .args(&[
            key("key", 0),
            string("member"),
        ]),
    CommandDoc::new("slowlog", "2.2.12", "server", "Depends on the subcommand."),
    CommandDoc::new("slowlog|get", "2.2.12", "server", "O(N), N being the entries returned.")
        .history(&[("4.0.0", "Entries also carry the client's address and name.")])
        .args(&[
            integer("count").optional(),
        ]),
    CommandDoc::new("slowlog|help", "6.2.0", "server", "O(1)"),
    CommandDoc::new("slowlog|len", "2.2.12", "server", "O(1)"),
    CommandDoc::new("slowlog|reset", "2.2.12", "server", "O(N), N being the entries dropped."),
    CommandDoc::new("smembers", "1.0.0", "set", "O(N), N being the number of members of the set.")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("smismember", "6.2.0", "set", "O(N), N being the number of members checked.")
        .args(&[
            key("key", 0),
            string("member").multiple(),
        ]),
    CommandDoc::new("smove", "1.0.0", "set", "O(1)")
        .args(&[
            key("source", 0),
            key("destination", 1),
            string("member"),
        ]),
    CommandDoc::new("sort", "1.0.0", "generic", "O(N+M*log(M)), N being the elements of the list or set and M the elements returned; O(N) when nothing is sorted.")
        .args(&[
            key("key", 0),
            pattern("pattern").key_spec(1).token("BY").optional(),
            block("offset_count", &[
                integer("offset"),
                integer("count"),
            ]).token("LIMIT").optional(),
            pattern("pattern").key_spec(1).token("GET").optional().multiple().multiple_token(),
            oneof("order", &[
                pure_token("asc", "ASC"),
                pure_token("desc", "DESC"),
            ]).optional(),
            pure_token("sorting", "ALPHA").optional(),
            key("destination", 2).token("STORE").optional(),
        ]),
    CommandDoc::new("sort_ro", "7.0.0", "generic", "O(N+M*log(M)), N being the elements of the list or set and M the elements returned; O(N) when nothing is sorted.")
        .args(&[
            key("key", 0),
            pattern("pattern").key_spec(1).token("BY").optional(),
            block("offset_count", &[
                integer("offset"),
                integer("count"),
            ]).token("LIMIT").optional(),
            pattern("pattern").key_spec(1).token("GET").optional().multiple().multiple_token(),
            oneof("order", &[
                pure_token("asc", "ASC"),
                pure_token("desc", "DESC"),
            ]).optional(),
            pure_token("sorting", "ALPHA").optional(),
        ]),
    CommandDoc::new("spop", "1.0.0", "set", "O(1) without `count`; O(N) with it, N being the count.")
        .history(&[("3.2.0", "New optional `count` argument.")])
        .args(&[
            key("key", 0),
            integer("count").since("3.2.0").optional(),
        ]),
    CommandDoc::new("spublish", "7.0.0", "pubsub", "O(N), N being the clients subscribed to the shard channel.")
        .args(&[
            string("shardchannel"),
            string("message"),
        ]),
    CommandDoc::new("srandmember", "1.0.0", "set", "O(1) without `count`; O(N) with it, N being the count's absolute value.")
        .history(&[("2.6.0", "New optional `count` argument.")])
        .args(&[
            key("key", 0),
            integer("count").since("2.6.0").optional(),
        ]),
    CommandDoc::new("srem", "1.0.0", "set", "O(N), N being the number of members given.")
        .history(&[("2.4.0", "Takes several members.")])
        .args(&[
            key("key", 0),
            string("member").multiple(),
        ]),
    CommandDoc::new("sscan", "2.8.0", "set", "O(1) per call; O(N) for a whole iteration back to cursor 0, N being the number of members of the set.")
        .args(&[
            key("key", 0),
            integer("cursor"),
            pattern("pattern").token("MATCH").optional(),
            integer("count").token("COUNT").optional(),
        ]),
    CommandDoc::new("ssubscribe", "7.0.0", "pubsub", "O(N), N being the number of shard channels given.")
        .args(&[
            string("shardchannel").multiple(),
        ]),
    CommandDoc::new("strlen", "2.2.0", "string", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("subscribe", "2.0.0", "pubsub", "O(N), N being the number of channels given.")
        .args(&[
            string("channel").multiple(),
        ]),
    CommandDoc::new("substr", "1.0.0", "string", "O(N), N being the length of the returned substring.")
        .deprecated("2.0.0", "`GETRANGE`")
        .args(&[
            key("key", 0),
            integer("start"),
            integer("end"),
        ]),
    CommandDoc::new("sunion", "1.0.0", "set", "O(N), N being the total number of members of the sets given.")
        .args(&[
            key("key", 0).multiple(),
        ]),
    CommandDoc::new("sunionstore", "1.0.0", "set", "O(N), N being the total number of members of the sets given.")
        .args(&[
            key("destination", 0),
            key("key", 1).multiple(),
        ]),
    CommandDoc::new("sunsubscribe", "7.0.0", "pubsub", "O(N), N being the clients subscribed to a shard channel.")
        .args(&[
            string("shardchannel").optional().multiple(),
        ]),
    CommandDoc::new("swapdb", "4.0.0", "server", "O(N), N being the clients watching or blocked on keys of either database.")
        .args(&[
            integer("index1"),
            integer("index2"),
        ]),
    // emberkv's own: the test controls (only with enable-test-controls yes).
    CommandDoc::new("testctl", "7.0.0", "server", "Depends on the subcommand."),
    CommandDoc::new("testctl|clock", "7.0.0", "server", "O(1)")
        .args(&[
            oneof("operation", &[
                pure_token("get", "GET"),
                integer("advance-ms").token("ADVANCE"),
                integer("unix-time-milliseconds").token("SET"),
                pure_token("resume", "RESUME"),
            ]),
        ]),
    CommandDoc::new("testctl|delay", "7.0.0", "server", "O(1)")
        .args(&[
            integer("milliseconds"),
        ]),
    CommandDoc::new("testctl|drop", "7.0.0", "server", "O(N), N being the number of connected clients."),
    CommandDoc::new("testctl|fail", "7.0.0", "server", "O(N), N being the number of command names given.")
        .args(&[
            integer("count"),
            oneof("error", &[
                string("text").token("ERR"),
                string("line").token("ERROR"),
            ]).optional(),
            string("command").token("COMMANDS").multiple().optional(),
        ]),
    CommandDoc::new("testctl|help", "7.0.0", "server", "O(1)"),
    CommandDoc::new("testctl|refuse", "7.0.0", "server", "O(1)")
        .args(&[
            integer("milliseconds"),
        ]),
    CommandDoc::new("testctl|release", "7.0.0", "server", "O(1)"),
    CommandDoc::new("testctl|reset", "7.0.0", "server", "O(1)"),
    CommandDoc::new("testctl|seed", "7.0.0", "server", "O(1)")
        .args(&[
            integer("seed"),
        ]),
    CommandDoc::new("testctl|slowfsync", "7.0.0", "server", "O(1)")
        .args(&[
            integer("milliseconds"),
        ]),
    CommandDoc::new("testctl|stall", "7.0.0", "server", "O(1)"),
    CommandDoc::new("time", "2.6.0", "server", "O(1)"),
    CommandDoc::new("touch", "3.2.1", "generic", "O(N), N being the number of keys touched.")
        .args(&[
            key("key", 0).multiple(),
        ]),
    CommandDoc::new("ttl", "1.0.0", "generic", "O(1)")
        .history(&[("2.8.0", "Replies -2 when the key does not exist.")])
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("type", "1.0.0", "generic", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("unlink", "4.0.0", "generic", "O(1) per key; the memory is then reclaimed in O(N) on another thread, N being the allocations freed.")
        .args(&[
            key("key", 0).multiple(),
        ]),
    CommandDoc::new("unsubscribe", "2.0.0", "pubsub", "O(N), N being the clients subscribed to a channel.")
        .args(&[
            string("channel").optional().multiple(),
        ]),
    CommandDoc::new("unwatch", "2.2.0", "transactions", "O(1)"),
    CommandDoc::new("watch", "2.2.0", "transactions", "O(1) per key.")
        .args(&[
            key("key", 0).multiple(),
        ]),
    CommandDoc::new("xack", "5.0.0", "stream", "O(1) per ID.")
        .args(&[
            key("key", 0),
            string("group"),
            string("id").multiple(),
        ]),
    CommandDoc::new("xadd", "5.0.0", "stream", "O(1) to add; a trim costs O(N) in the entries it removes.")
        .history(&[("6.2.0", "New `NOMKSTREAM`, `MINID` and `LIMIT` options."), ("7.0.0", "IDs of the form `<ms>-*` let the server pick the sequence.")])
        .args(&[
            key("key", 0),
            pure_token("nomkstream", "NOMKSTREAM").since("6.2.0").optional(),
            block("trim", &[
                oneof("strategy", &[
                    pure_token("maxlen", "MAXLEN"),
                    pure_token("minid", "MINID").since("6.2.0"),
                ]),
                oneof("operator", &[
                    pure_token("equal", "="),
                    pure_token("approximately", "~"),
                ]).optional(),
                string("threshold"),
                integer("count").token("LIMIT").since("6.2.0").optional(),
            ]).optional(),
            oneof("id_or_auto", &[
                pure_token("auto_id", "*"),
                string("id"),
            ]),
            block("field_value", &[
                string("field"),
                string("value"),
            ]).multiple(),
        ]),
    CommandDoc::new("xautoclaim", "6.2.0", "stream", "O(1) when COUNT is small, O(log N) per examined entry otherwise.")
        .history(&[("7.0.0", "Replies with a third element: the IDs of deleted entries dropped from the PEL.")])
        .args(&[
            key("key", 0),
            string("group"),
            string("consumer"),
            string("min-idle-time"),
            string("start"),
            integer("count").token("COUNT").optional(),
            pure_token("justid", "JUSTID").optional(),
        ]),
    CommandDoc::new("xclaim", "5.0.0", "stream", "O(log N) per ID, N being the PEL's size.")
        .args(&[
            key("key", 0),
            string("group"),
            string("consumer"),
            string("min-idle-time"),
            string("id").multiple(),
            integer("ms").token("IDLE").optional(),
            unix_time("unix-time-milliseconds").token("TIME").optional(),
            integer("count").token("RETRYCOUNT").optional(),
            pure_token("force", "FORCE").optional(),
            pure_token("justid", "JUSTID").optional(),
            string("id").token("LASTID").optional(),
        ]),
    CommandDoc::new("xdel", "5.0.0", "stream", "O(1) per ID.")
        .args(&[
            key("key", 0),
            string("id").multiple(),
        ]),
    CommandDoc::new("xgroup", "5.0.0", "stream", "Depends on the subcommand."),
    CommandDoc::new("xgroup|create", "5.0.0", "stream", "O(1)")
        .history(&[("7.0.0", "New `ENTRIESREAD` option.")])
        .args(&[
            key("key", 0),
            string("groupname"),
            oneof("id", &[
                string("id"),
                pure_token("new_id", "$"),
            ]),
            pure_token("mkstream", "MKSTREAM").optional(),
            integer("entries_read").token("ENTRIESREAD").optional(),
        ]),
    CommandDoc::new("xgroup|createconsumer", "6.2.0", "stream", "O(1)")
        .args(&[
            key("key", 0),
            string("groupname"),
            string("consumername"),
        ]),
    CommandDoc::new("xgroup|delconsumer", "5.0.0", "stream", "O(1)")
        .args(&[
            key("key", 0),
            string("groupname"),
            string("consumername"),
        ]),
    CommandDoc::new("xgroup|destroy", "5.0.0", "stream", "O(N), N being the entries pending in the group.")
        .args(&[
            key("key", 0),
            string("groupname"),
        ]),
    CommandDoc::new("xgroup|help", "5.0.0", "stream", "O(1)"),
    CommandDoc::new("xgroup|setid", "5.0.0", "stream", "O(1)")
        .history(&[("7.0.0", "New `ENTRIESREAD` option.")])
        .args(&[
            key("key", 0),
            string("groupname"),
            oneof("id", &[
                string("id"),
                pure_token("new_id", "$"),
            ]),
            integer("entries_read").token("ENTRIESREAD").optional(),
        ]),
    CommandDoc::new("xinfo", "5.0.0", "stream", "Depends on the subcommand."),
    CommandDoc::new("xinfo|consumers", "5.0.0", "stream", "O(1)")
        .args(&[
            key("key", 0),
            string("groupname"),
        ]),
    CommandDoc::new("xinfo|groups", "5.0.0", "stream", "O(1)")
        .history(&[("7.0.0", "Reports `entries-read` and `lag`.")])
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("xinfo|help", "5.0.0", "stream", "O(1)"),
    CommandDoc::new("xinfo|stream", "5.0.0", "stream", "O(1); with FULL, O(N) in the entries, PEL and consumers shown.")
        .history(&[("6.0.0", "New `FULL` modifier."), ("7.0.0", "Reports `max-deleted-entry-id`, `entries-added`, `recorded-first-entry-id`, `entries-read` and `lag`.")])
        .args(&[
            key("key", 0),
            block("full", &[
                integer("count").token("COUNT").optional(),
            ]).token("FULL").optional(),
        ]),
    CommandDoc::new("xlen", "5.0.0", "stream", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("xpending", "5.0.0", "stream", "O(N) in the entries returned; the summary form is O(1) in the PEL size.")
        .history(&[("6.2.0", "New `IDLE` filter and exclusive ranges.")])
        .args(&[
            key("key", 0),
            string("group"),
            block("filters", &[
                integer("min-idle-time").token("IDLE").since("6.2.0").optional(),
                string("start"),
                string("end"),
                integer("count"),
                string("consumer").optional(),
            ]).optional(),
        ]),
    CommandDoc::new("xrange", "5.0.0", "stream", "O(N) in the entries returned, after an O(log N) seek.")
        .history(&[("6.2.0", "Exclusive ranges.")])
        .args(&[
            key("key", 0),
            string("start"),
            string("end"),
            integer("count").token("COUNT").optional(),
        ]),
    CommandDoc::new("xread", "5.0.0", "stream", "O(N) in the entries returned per stream.")
        .args(&[
            integer("count").token("COUNT").optional(),
            integer("milliseconds").token("BLOCK").optional(),
            block("streams", &[
                key("key", 0).multiple(),
                string("id").multiple(),
            ]).token("STREAMS"),
        ]),
    CommandDoc::new("xreadgroup", "5.0.0", "stream", "O(M) in the entries returned per stream.")
        .args(&[
            block("group_consumer", &[
                string("group"),
                string("consumer"),
            ]).token("GROUP"),
            integer("count").token("COUNT").optional(),
            integer("milliseconds").token("BLOCK").optional(),
            pure_token("noack", "NOACK").optional(),
            block("streams", &[
                key("key", 0).multiple(),
                string("id").multiple(),
            ]).token("STREAMS"),
        ]),
    CommandDoc::new("xrevrange", "5.0.0", "stream", "O(N) in the entries returned, after an O(log N) seek.")
        .history(&[("6.2.0", "Exclusive ranges.")])
        .args(&[
            key("key", 0),
            string("end"),
            string("start"),
            integer("count").token("COUNT").optional(),
        ]),
    CommandDoc::new("xsetid", "5.0.0", "stream", "O(1)")
        .history(&[("7.0.0", "New `ENTRIESADDED` and `MAXDELETEDID` options.")])
        .args(&[
            key("key", 0),
            string("last-id"),
            integer("entries_added").token("ENTRIESADDED").since("7.0.0").optional(),
            string("max_deleted_entry_id").token("MAXDELETEDID").since("7.0.0").optional(),
        ]),
    CommandDoc::new("xtrim", "5.0.0", "stream", "O(N) in the entries removed.")
        .history(&[("6.2.0", "New `MINID` strategy and `LIMIT` option.")])
        .args(&[
            key("key", 0),
            block("trim", &[
                oneof("strategy", &[
                    pure_token("maxlen", "MAXLEN"),
                    pure_token("minid", "MINID").since("6.2.0"),
                ]),
                oneof("operator", &[
                    pure_token("equal", "="),
                    pure_token("approximately", "~"),
                ]).optional(),
                string("threshold"),
                integer("count").token("LIMIT").since("6.2.0").optional(),
            ]),
        ]),
    CommandDoc::new("zadd", "1.2.0", "sorted-set", "O(log(N)) per member added, N being the size of the sorted set.")
        .history(&[("2.4.0", "Takes several score-member pairs."), ("3.0.2", "New `XX`, `NX`, `CH` and `INCR` options."), ("6.2.0", "New `GT` and `LT` options.")])
        .args(&[
            key("key", 0),
            oneof("condition", &[
                pure_token("nx", "NX"),
                pure_token("xx", "XX"),
            ]).since("3.0.2").optional(),
            oneof("comparison", &[
                pure_token("gt", "GT"),
                pure_token("lt", "LT"),
            ]).since("6.2.0").optional(),
            pure_token("change", "CH").since("3.0.2").optional(),
            pure_token("increment", "INCR").since("3.0.2").optional(),
            block("score_member", &[
                double("score"),
                string("member"),
            ]).multiple(),
        ]),
    CommandDoc::new("zcard", "1.2.0", "sorted-set", "O(1)")
        .args(&[
            key("key", 0),
        ]),
    CommandDoc::new("zcount", "2.0.0", "sorted-set", "O(log(N)), N being the size of the sorted set.")
        .args(&[
            key("key", 0),
            double("min"),
            double("max"),
        ]),
    CommandDoc::new("zdiff", "6.2.0", "sorted-set", "O(L + (N-K)log(N)) in the worst case, L being the total size of all the input sets, N the size of the first one and K the size of the result.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            pure_token("withscores", "WITHSCORES").optional(),
        ]),
    CommandDoc::new("zdiffstore", "6.2.0", "sorted-set", "O(L + (N-K)log(N)) in the worst case, L being the total size of all the input sets, N the size of the first one and K the size of the result.")
        .args(&[
            key("destination", 0),
            integer("numkeys"),
            key("key", 1).multiple(),
        ]),
    CommandDoc::new("zincrby", "1.2.0", "sorted-set", "O(log(N)), N being the size of the sorted set.")
        .args(&[
            key("key", 0),
            integer("increment"),
            string("member"),
        ]),
    CommandDoc::new("zinter", "6.2.0", "sorted-set", "O(N*K)+O(M*log(M)) in the worst case, N being the size of the smallest input set, K the number of input sets and M the size of the result.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            integer("weight").token("WEIGHTS").optional().multiple(),
            oneof("aggregate", &[
                pure_token("sum", "SUM"),
                pure_token("min", "MIN"),
                pure_token("max", "MAX"),
            ]).token("AGGREGATE").optional(),
            pure_token("withscores", "WITHSCORES").optional(),
        ]),
    CommandDoc::new("zintercard", "7.0.0", "sorted-set", "O(N*K) in the worst case, N being the size of the smallest input set and K the number of input sets.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            integer("limit").token("LIMIT").optional(),
        ]),
    CommandDoc::new("zinterstore", "2.0.0", "sorted-set", "O(N*K)+O(M*log(M)) in the worst case, N being the size of the smallest input set, K the number of input sets and M the size of the result.")
        .args(&[
            key("destination", 0),
            integer("numkeys"),
            key("key", 1).multiple(),
            integer("weight").token("WEIGHTS").optional().multiple(),
            oneof("aggregate", &[
                pure_token("sum", "SUM"),
                pure_token("min", "MIN"),
                pure_token("max", "MAX"),
            ]).token("AGGREGATE").optional(),
        ]),
    CommandDoc::new("zlexcount", "2.8.9", "sorted-set", "O(log(N)), N being the size of the sorted set.")
        .args(&[
            key("key", 0),
            string("min"),
            string("max"),
        ]),
    CommandDoc::new("zmpop", "7.0.0", "sorted-set", "O(K) + O(M*log(N)), K being the number of keys given, N the size of the sorted set and M the number of elements popped.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            oneof("where", &[
                pure_token("min", "MIN"),
                pure_token("max", "MAX"),
            ]),
            integer("count").token("COUNT").optional(),
        ]),
    CommandDoc::new("zmscore", "6.2.0", "sorted-set", "O(N), N being the number of members asked for.")
        .args(&[
            key("key", 0),
            string("member").multiple(),
        ]),
    CommandDoc::new("zpopmax", "5.0.0", "sorted-set", "O(log(N)*M), N being the size of the sorted set and M the number of elements popped.")
        .args(&[
            key("key", 0),
            integer("count").optional(),
        ]),
    CommandDoc::new("zpopmin", "5.0.0", "sorted-set", "O(log(N)*M), N being the size of the sorted set and M the number of elements popped.")
        .args(&[
            key("key", 0),
            integer("count").optional(),
        ]),
    CommandDoc::new("zrandmember", "6.2.0", "sorted-set", "O(N), N being the number of members returned.")
        .args(&[
            key("key", 0),
            block("options", &[
                integer("count"),
                pure_token("withscores", "WITHSCORES").optional(),
            ]).optional(),
        ]),
    CommandDoc::new("zrange", "1.2.0", "sorted-set", "O(log(N)+M), N being the size of the sorted set and M the number of elements returned.")
        .history(&[("6.2.0", "New `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options.")])
        .args(&[
            key("key", 0),
            string("start"),
            string("stop"),
            oneof("sortby", &[
                pure_token("byscore", "BYSCORE"),
                pure_token("bylex", "BYLEX"),
            ]).since("6.2.0").optional(),
            pure_token("rev", "REV").since("6.2.0").optional(),
            block("offset_count", &[
                integer("offset"),
                integer("count"),
            ]).token("LIMIT").since("6.2.0").optional(),
            pure_token("withscores", "WITHSCORES").optional(),
        ]),
    CommandDoc::new("zrangebylex", "2.8.9", "sorted-set", "O(log(N)+M), N being the size of the sorted set and M the number of elements returned; O(log(N)) when `LIMIT` keeps M constant.")
        .deprecated("6.2.0", "`ZRANGE` with `BYLEX`")
        .args(&[
            key("key", 0),
            string("min"),
            string("max"),
            block("offset_count", &[
                integer("offset"),
                integer("count"),
            ]).token("LIMIT").optional(),
        ]),
    CommandDoc::new("zrangebyscore", "1.0.5", "sorted-set", "O(log(N)+M), N being the size of the sorted set and M the number of elements returned; O(log(N)) when `LIMIT` keeps M constant.")
        .deprecated("6.2.0", "`ZRANGE` with `BYSCORE`")
        .history(&[("2.0.0", "New `WITHSCORES` option.")])
        .args(&[
            key("key", 0),
            double("min"),
            double("max"),
            pure_token("withscores", "WITHSCORES").since("2.0.0").optional(),
            block("offset_count", &[
                integer("offset"),
                integer("count"),
            ]).token("LIMIT").optional(),
        ]),
    CommandDoc::new("zrangestore", "6.2.0", "sorted-set", "O(log(N)+M), N being the size of the sorted set and M the number of elements stored.")
        .args(&[
            key("dst", 0),
            key("src", 1),
            string("min"),
            string("max"),
            oneof("sortby", &[
                pure_token("byscore", "BYSCORE"),
                pure_token("bylex", "BYLEX"),
            ]).optional(),
            pure_token("rev", "REV").optional(),
            block("offset_count", &[
                integer("offset"),
                integer("count"),
            ]).token("LIMIT").optional(),
        ]),
    CommandDoc::new("zrank", "2.0.0", "sorted-set", "O(log(N))")
        .args(&[
            key("key", 0),
            string("member"),
        ]),
    CommandDoc::new("zrem", "1.2.0", "sorted-set", "O(M*log(N)), N being the size of the sorted set and M the number of members removed.")
        .history(&[("2.4.0", "Takes several members.")])
        .args(&[
            key("key", 0),
            string("member").multiple(),
        ]),
    CommandDoc::new("zremrangebylex", "2.8.9", "sorted-set", "O(log(N)+M), N being the size of the sorted set and M the number of elements removed.")
        .args(&[
            key("key", 0),
            string("min"),
            string("max"),
        ]),
    CommandDoc::new("zremrangebyrank", "2.0.0", "sorted-set", "O(log(N)+M), N being the size of the sorted set and M the number of elements removed.")
        .args(&[
            key("key", 0),
            integer("start"),
            integer("stop"),
        ]),
    CommandDoc::new("zremrangebyscore", "1.2.0", "sorted-set", "O(log(N)+M), N being the size of the sorted set and M the number of elements removed.")
        .args(&[
            key("key", 0),
            double("min"),
            double("max"),
        ]),
    CommandDoc::new("zrevrange", "1.2.0", "sorted-set", "O(log(N)+M), N being the size of the sorted set and M the number of elements returned.")
        .deprecated("6.2.0", "`ZRANGE` with `REV`")
        .args(&[
            key("key", 0),
            integer("start"),
            integer("stop"),
            pure_token("withscores", "WITHSCORES").optional(),
        ]),
    CommandDoc::new("zrevrangebylex", "2.8.9", "sorted-set", "O(log(N)+M), N being the size of the sorted set and M the number of elements returned; O(log(N)) when `LIMIT` keeps M constant.")
        .deprecated("6.2.0", "`ZRANGE` with `REV` and `BYLEX`")
        .args(&[
            key("key", 0),
            string("max"),
            string("min"),
            block("offset_count", &[
                integer("offset"),
                integer("count"),
            ]).token("LIMIT").optional(),
        ]),
    CommandDoc::new("zrevrangebyscore", "2.2.0", "sorted-set", "O(log(N)+M), N being the size of the sorted set and M the number of elements returned; O(log(N)) when `LIMIT` keeps M constant.")
        .deprecated("6.2.0", "`ZRANGE` with `REV` and `BYSCORE`")
        .history(&[("2.1.6", "`min` and `max` may be exclusive bounds.")])
        .args(&[
            key("key", 0),
            double("max"),
            double("min"),
            pure_token("withscores", "WITHSCORES").optional(),
            block("offset_count", &[
                integer("offset"),
                integer("count"),
            ]).token("LIMIT").optional(),
        ]),
    CommandDoc::new("zrevrank", "2.0.0", "sorted-set", "O(log(N))")
        .args(&[
            key("key", 0),
            string("member"),
        ]),
    CommandDoc::new("zscan", "2.8.0", "sorted-set", "O(1) per call; O(N) for a whole iteration back to cursor 0, N being the number of members of the sorted set.")
        .args(&[
            key("key", 0),
            integer("cursor"),
            pattern("pattern").token("MATCH").optional(),
            integer("count").token("COUNT").optional(),
        ]),
    CommandDoc::new("zscore", "1.2.0", "sorted-set", "O(1)")
        .args(&[
            key("key", 0),
            string("member"),
        ]),
    CommandDoc::new("zunion", "6.2.0", "sorted-set", "O(N)+O(M*log(M)), N being the total size of the input sets and M the size of the result.")
        .args(&[
            integer("numkeys"),
            key("key", 0).multiple(),
            integer("weight").token("WEIGHTS").optional().multiple(),
            oneof("aggregate", &[
                pure_token("sum", "SUM"),
                pure_token("min", "MIN"),
                pure_token("max", "MAX"),
            ]).token("AGGREGATE").optional(),
            pure_token("withscores", "WITHSCORES").optional(),
        ]),
    CommandDoc::new("zunionstore", "2.0.0", "sorted-set", "O(N)+O(M log(M)), N being the total size of the input sets and M the size of the result.")
        .args(&[
            key("destination", 0),
            integer("numkeys"),
            key("key", 1).multiple(),
            integer("weight").token("WEIGHTS").optional().multiple(),
            oneof("aggregate", &[
                pure_token("sum", "SUM"),
                pure_token("min", "MIN"),
                pure_token("max", "MAX"),
            ]).token("AGGREGATE").optional(),
        ]),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::all_commands;

    #[test]
    fn entries_are_sorted_and_unique() {
        for w in DOCS.windows(2) {
            assert!(w[0].name < w[1].name, "{} / {}", w[0].name, w[1].name);
        }
    }

    fn check_args(row: &crate::commands::CommandSpec, args: &[Arg]) {
        for a in args {
            let nested = matches!(a.kind, ArgType::Oneof | ArgType::Block);
            assert_eq!(nested, !a.args.is_empty(), "{}: {}", row.name, a.name);
            // Keys, and SORT's patterns, which name keys too.
            if a.kind == ArgType::Key || a.key_spec_index >= 0 {
                let specs = row.specs();
                assert!(
                    a.key_spec_index >= 0 && (a.key_spec_index as usize) < specs.len(),
                    "{}: {} points at key spec {}",
                    row.name,
                    a.name,
                    a.key_spec_index
                );
            }
            if a.kind == ArgType::PureToken {
                assert!(!a.token.is_empty(), "{}: {}", row.name, a.name);
            }
            check_args(row, a.args);
        }
    }

    #[test]
    fn every_row_has_docs_that_fit_its_key_specs() {
        for c in all_commands().flat_map(|c| std::iter::once(c).chain(c.subcommands)) {
            let d = doc(c.name).unwrap_or_else(|| panic!("no COMMAND DOCS entry for {}", c.name));
            check_args(c, d.args);
        }
    }

    fn get(name: &str) -> &'static CommandDoc {
        doc(name).unwrap_or_else(|| panic!("no entry for {name}"))
    }

    fn tokens(a: &Arg) -> Vec<&'static str> {
        a.args.iter().map(|c| c.token).collect()
    }

    fn flags(a: &Arg) -> Vec<&'static str> {
        a.flag_names().collect()
    }

    #[test]
    fn zadd_has_two_optional_oneofs_then_the_pairs() {
        let d = get("zadd");
        assert_eq!(d.group, "sorted-set");
        assert_eq!(d.history.len(), 3);
        let names: Vec<_> = d.args.iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            [
                "key",
                "condition",
                "comparison",
                "change",
                "increment",
                "score_member"
            ]
        );
        let (cond, cmp) = (&d.args[1], &d.args[2]);
        assert_eq!((cond.kind, cond.since), (ArgType::Oneof, "3.0.2"));
        assert_eq!(tokens(cond), ["NX", "XX"]);
        assert_eq!((cmp.kind, cmp.since), (ArgType::Oneof, "6.2.0"));
        assert_eq!(tokens(cmp), ["GT", "LT"]);
        assert!(cond
            .args
            .iter()
            .chain(cmp.args)
            .all(|c| c.kind == ArgType::PureToken));
        assert_eq!(flags(cond), ["optional"]);
        let pairs = &d.args[5];
        assert_eq!(pairs.kind, ArgType::Block);
        assert_eq!(flags(pairs), ["multiple"]);
        let kinds: Vec<_> = pairs.args.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, [ArgType::Double, ArgType::String]);
    }

    #[test]
    fn sort_get_repeats_its_token_and_its_patterns_name_keys() {
        for name in ["sort", "sort_ro"] {
            let d = get(name);
            let by = d.args.iter().find(|a| a.token == "BY").unwrap();
            let get_ = d.args.iter().find(|a| a.token == "GET").unwrap();
            for p in [by, get_] {
                assert_eq!((p.kind, p.key_spec_index), (ArgType::Pattern, 1), "{name}");
            }
            assert_eq!(flags(get_), ["optional", "multiple", "multiple_token"]);
            let limit = d.args.iter().find(|a| a.token == "LIMIT").unwrap();
            assert_eq!(limit.kind, ArgType::Block);
            assert_eq!(limit.args.len(), 2);
        }
        let store = get("sort").args.last().unwrap();
        assert_eq!(
            (store.kind, store.token, store.key_spec_index),
            (ArgType::Key, "STORE", 2)
        );
        assert!(get("sort_ro").args.iter().all(|a| a.token != "STORE"));
    }

    #[test]
    fn collection_entries_follow_redis_key_spec_order_and_deprecations() {
        // Destination first where Redis's key specs put it first.
        let keys = |name: &str| -> Vec<(&'static str, i32)> {
            get(name)
                .args
                .iter()
                .filter(|a| a.kind == ArgType::Key)
                .map(|a| (a.name, a.key_spec_index))
                .collect()
        };
        assert_eq!(keys("lmove"), [("source", 0), ("destination", 1)]);
        assert_eq!(keys("smove"), [("source", 0), ("destination", 1)]);
        assert_eq!(keys("zrangestore"), [("dst", 0), ("src", 1)]);
        assert_eq!(keys("zunionstore"), [("destination", 0), ("key", 1)]);
        assert_eq!(keys("sinterstore"), [("destination", 0), ("key", 1)]);
        // Blocking pops: timeout first for the 7.0 forms, last for the old ones.
        assert_eq!(get("blmpop").args[0].kind, ArgType::Double);
        assert_eq!(get("blpop").args.last().unwrap().kind, ArgType::Double);
        let lmove_dirs = &get("blmove").args[2];
        assert_eq!(tokens(lmove_dirs), ["LEFT", "RIGHT"]);
        for (name, since) in [
            ("hmset", "4.0.0"),
            ("rpoplpush", "6.2.0"),
            ("brpoplpush", "6.2.0"),
            ("zrevrange", "6.2.0"),
            ("zrangebyscore", "6.2.0"),
            ("zrevrangebylex", "6.2.0"),
        ] {
            let d = get(name);
            assert_eq!(d.deprecated_since, since, "{name}");
            assert!(!d.replaced_by.is_empty(), "{name}");
        }
        assert!(get("lmove").deprecated_since.is_empty());
        let unblock = get("client|unblock");
        assert_eq!(unblock.args.len(), 2);
        assert_eq!(tokens(&unblock.args[1]), ["TIMEOUT", "ERROR"]);
    }
}
