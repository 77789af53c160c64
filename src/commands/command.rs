//! `COMMAND` and its subcommands, answered from the command table itself, so what clients
//! learn about a command is what dispatch enforces.

use super::docs::{doc, Arg};
use super::table::*;
use super::{all_commands, connection::help_reply, lookup, lookup_sub, visible, Ctx, KeySpec};
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::storage::glob::glob_match;

const F: u32 = LOADING | STALE;

pub(super) const COMMANDS: &[CommandSpec] = &[CommandSpec {
    handler: Some(command_all),
    subcommands: COMMAND_SUBS,
    arity: -1,
    ..CommandSpec::new("command", -1, F, CONNECTION, Keys::NONE, command_all)
        .doc("Returns detailed information about all commands.", "2.8.13")
        .tips(&["nondeterministic_output_order"])
}];

const COMMAND_SUBS: &[CommandSpec] = &[
    CommandSpec::new("command|count", 2, F, CONNECTION, Keys::NONE, count)
        .doc("Returns a count of commands.", "2.8.13"),
    CommandSpec::new("command|list", -2, F, CONNECTION, Keys::NONE, list)
        .doc("Returns a list of command names.", "7.0.0")
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("command|info", -2, F, CONNECTION, Keys::NONE, info)
        .doc(
            "Returns information about one, multiple or all commands.",
            "2.8.13",
        )
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("command|docs", -2, F, CONNECTION, Keys::NONE, docs)
        .doc(
            "Returns documentary information about one, multiple or all commands.",
            "7.0.0",
        )
        .tips(&["nondeterministic_output_order"]),
    CommandSpec::new("command|getkeys", -4, F, CONNECTION, Keys::NONE, getkeys).doc(
        "Extracts the key names from an arbitrary command.",
        "2.8.13",
    ),
    CommandSpec::new(
        "command|getkeysandflags",
        -4,
        F,
        CONNECTION,
        Keys::NONE,
        getkeysandflags,
    )
    .doc(
        "Extracts the key names and access flags for an arbitrary command.",
        "7.0.0",
    ),
    CommandSpec::new("command|help", 2, F, CONNECTION, Keys::NONE, help).doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

fn statuses(items: impl IntoIterator<Item = String>) -> Reply {
    Reply::Set(items.into_iter().map(|s| Reply::Status(s.into())).collect())
}

fn search_entry(kind: &'static str, spec: Vec<(&'static str, Reply)>) -> Reply {
    Reply::Map(vec![
        (Reply::bulk("type"), Reply::bulk(kind)),
        (
            Reply::bulk("spec"),
            Reply::Map(spec.into_iter().map(|(k, v)| (Reply::bulk(k), v)).collect()),
        ),
    ])
}

/// One key spec as `COMMAND INFO` shows it: notes (when any), flags, begin_search, find_keys.
fn key_spec_entry(k: &KeySpec) -> Reply {
    let int = |n: i32| Reply::Int(n as i64);
    let begin = match k.begin {
        BeginSearch::Index(i) => search_entry("index", vec![("index", int(i))]),
        BeginSearch::Keyword { keyword, startfrom } => search_entry(
            "keyword",
            vec![
                ("keyword", Reply::bulk(keyword)),
                ("startfrom", int(startfrom)),
            ],
        ),
        BeginSearch::Unknown => search_entry("unknown", vec![]),
    };
    let find = match k.find {
        FindKeys::Range {
            lastkey,
            keystep,
            limit,
        } => search_entry(
            "range",
            vec![
                ("lastkey", int(lastkey)),
                ("keystep", int(keystep)),
                ("limit", int(limit)),
            ],
        ),
        FindKeys::Keynum {
            keynumidx,
            firstkey,
            keystep,
        } => search_entry(
            "keynum",
            vec![
                ("keynumidx", int(keynumidx)),
                ("firstkey", int(firstkey)),
                ("keystep", int(keystep)),
            ],
        ),
        FindKeys::Unknown => search_entry("unknown", vec![]),
    };
    let mut fields = Vec::with_capacity(4);
    if !k.notes.is_empty() {
        fields.push((Reply::bulk("notes"), Reply::bulk(k.notes)));
    }
    fields.extend([
        (
            Reply::bulk("flags"),
            statuses(k.flags.iter().map(|f| f.to_string())),
        ),
        (Reply::bulk("begin_search"), begin),
        (Reply::bulk("find_keys"), find),
    ]);
    Reply::Map(fields)
}

/// The `COMMAND INFO` entry of one row (10 fields, as Redis 7). Like Redis, tips are bulk
/// strings, tips and key specs are sets in RESP3, and subcommands are an empty set when
/// there are none but an array otherwise.
fn info_entry(c: &CommandSpec) -> Reply {
    let (k, _) = c.legacy_keys();
    let subcommands: Vec<Reply> = c.subcommands.iter().map(info_entry).collect();
    Reply::Array(vec![
        Reply::bulk(c.name),
        Reply::Int(c.arity as i64),
        statuses(c.flag_names().into_iter().map(String::from)),
        Reply::Int(k.first as i64),
        Reply::Int(k.last as i64),
        Reply::Int(k.step as i64),
        statuses(c.category_names().into_iter().map(|n| format!("@{n}"))),
        Reply::Set(c.tips.iter().map(|t| Reply::bulk(*t)).collect()),
        Reply::Set(c.specs().iter().map(key_spec_entry).collect()),
        if subcommands.is_empty() {
            Reply::Set(subcommands)
        } else {
            Reply::Array(subcommands)
        },
    ])
}

/// `COMMAND` — every command's info.
fn command_all(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Reply::Array(
        all_commands()
            .filter(|c| visible(ctx.shared, c))
            .map(info_entry)
            .collect(),
    ))
}

/// `COMMAND COUNT`.
fn count(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Reply::Int(
        all_commands().filter(|c| visible(ctx.shared, c)).count() as i64,
    ))
}

/// Finds a command or `container|sub` by name.
fn find(name: &[u8]) -> Option<&'static CommandSpec> {
    match name.iter().position(|&b| b == b'|') {
        Some(bar) => lookup(&name[..bar]).and_then(|c| lookup_sub(c, &name[bar + 1..])),
        None => lookup(name),
    }
}

/// `COMMAND INFO [command-name ...]`; unknown names give nil.
fn info(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.is_empty() {
        return command_all(_ctx, args);
    }
    Ok(Reply::Array(
        args.by_ref()
            .map(|n| {
                find(&n)
                    .filter(|c| visible(_ctx.shared, c))
                    .map_or(Reply::Nil, info_entry)
            })
            .collect(),
    ))
}

/// The group of a row without a docs entry, guessed from its ACL categories.
fn group(c: &CommandSpec) -> &'static str {
    if c.acl & STRING != 0 {
        "string"
    } else if c.acl & KEYSPACE != 0 {
        "generic"
    } else if c.acl & CONNECTION != 0 {
        "connection"
    } else {
        "server"
    }
}

/// One argument of a `COMMAND DOCS` tree, with Redis 7.0's fields in its order.
fn arg_entry(a: &Arg) -> Reply {
    let mut f = vec![
        (Reply::bulk("name"), Reply::bulk(a.name)),
        (Reply::bulk("type"), Reply::bulk(a.kind.name())),
    ];
    if a.key_spec_index >= 0 {
        f.push((
            Reply::bulk("key_spec_index"),
            Reply::Int(a.key_spec_index as i64),
        ));
    }
    for (name, value) in [
        ("token", a.token),
        ("since", a.since),
        ("deprecated_since", a.deprecated_since),
    ] {
        if !value.is_empty() {
            f.push((Reply::bulk(name), Reply::bulk(value)));
        }
    }
    if a.flags != 0 {
        f.push((
            Reply::bulk("flags"),
            statuses(a.flag_names().map(String::from)),
        ));
    }
    if !a.args.is_empty() {
        f.push((
            Reply::bulk("arguments"),
            Reply::Array(a.args.iter().map(arg_entry).collect()),
        ));
    }
    Reply::Map(f)
}

/// One command's `COMMAND DOCS` entry: the row's summary, then its docs entry (see
/// `docs.rs`) in Redis 7.0's field order, then the subcommands'.
fn docs_entry(c: &CommandSpec) -> Reply {
    let d = doc(c.name);
    let mut fields = vec![
        (Reply::bulk("summary"), Reply::bulk(c.summary)),
        (
            Reply::bulk("since"),
            Reply::bulk(d.map_or(c.since, |d| d.since)),
        ),
        (
            Reply::bulk("group"),
            Reply::bulk(d.map_or(group(c), |d| d.group)),
        ),
    ];
    if let Some(d) = d {
        fields.push((Reply::bulk("complexity"), Reply::bulk(d.complexity)));
        let deprecated = !d.deprecated_since.is_empty();
        if deprecated || d.syscmd {
            let flags = [(deprecated, "deprecated"), (d.syscmd, "syscmd")]
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, name)| name.to_string());
            fields.push((Reply::bulk("doc_flags"), statuses(flags)));
        }
        if deprecated {
            fields.extend([
                (
                    Reply::bulk("deprecated_since"),
                    Reply::bulk(d.deprecated_since),
                ),
                (Reply::bulk("replaced_by"), Reply::bulk(d.replaced_by)),
            ]);
        }
        if !d.history.is_empty() {
            fields.push((
                Reply::bulk("history"),
                Reply::Set(
                    d.history
                        .iter()
                        .map(|(v, what)| Reply::Array(vec![Reply::bulk(*v), Reply::bulk(*what)]))
                        .collect(),
                ),
            ));
        }
        if !d.args.is_empty() {
            fields.push((
                Reply::bulk("arguments"),
                Reply::Array(d.args.iter().map(arg_entry).collect()),
            ));
        }
    }
    if !c.subcommands.is_empty() {
        fields.push((
            Reply::bulk("subcommands"),
            Reply::Map(
                c.subcommands
                    .iter()
                    .map(|s| (Reply::bulk(s.name), docs_entry(s)))
                    .collect(),
            ),
        ));
    }
    Reply::Map(fields)
}

/// `COMMAND DOCS [command-name ...]` — each command's summary, version, group, complexity,
/// history and argument tree (what redis-cli shows as hints); unknown names are skipped.
fn docs(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let rows: Vec<&CommandSpec> = if args.is_empty() {
        all_commands().collect()
    } else {
        args.by_ref().filter_map(|n| find(&n)).collect()
    };
    let rows: Vec<&CommandSpec> = rows
        .into_iter()
        .filter(|c| visible(ctx.shared, c))
        .collect();
    Ok(Reply::Map(
        rows.into_iter()
            .map(|c| (Reply::bulk(c.name), docs_entry(c)))
            .collect(),
    ))
}

/// `COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]`.
fn list(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut names: Vec<&'static str> = all_commands()
        .filter(|c| visible(ctx.shared, c))
        .flat_map(|c| std::iter::once(c).chain(c.subcommands.iter()))
        .map(|c| c.name)
        .collect();
    if !args.is_empty() {
        if !args.eat("filterby") || args.remaining() != 2 {
            return Err(CmdError::syntax());
        }
        let kind = args.next_bytes()?.to_ascii_lowercase();
        let value = args.next_bytes()?;
        match kind.as_slice() {
            b"module" => names.clear(),
            b"pattern" => names.retain(|n| glob_match(&value, n.as_bytes(), true)),
            b"aclcat" => {
                let Some(bit) = CATEGORY_NAMES
                    .iter()
                    .find(|(_, n)| n.as_bytes().eq_ignore_ascii_case(&value))
                    .map(|(b, _)| *b)
                else {
                    return Ok(Reply::Array(vec![]));
                };
                names.retain(|n| find(n.as_bytes()).is_some_and(|c| c.categories() & bit != 0));
            }
            _ => return Err(CmdError::syntax()),
        }
    }
    Ok(Reply::Array(names.into_iter().map(Reply::bulk).collect()))
}

/// GETKEYS' command line, its row, and `(position, spec index)` of each key.
type FoundKeys = (Vec<bytes::Bytes>, &'static CommandSpec, Vec<(usize, usize)>);

/// Resolves the command named by GETKEYS' arguments and finds its keys, with Redis's
/// errors, checked in its order: unknown command, a command without keys, wrong arity, keys
/// that cannot be found (a bad key count…) or none at all — except that commands whose
/// keys are optional (EVAL, FCALL) then answer an empty list.
fn keys_of(args: &mut Args) -> Result<FoundKeys, CmdError> {
    let argv = args.rest();
    let invalid = || CmdError::new("ERR Invalid command specified");
    let cmd = lookup(&argv[0]).ok_or_else(invalid)?;
    let spec = if !cmd.subcommands.is_empty() && argv.len() >= 2 {
        lookup_sub(cmd, &argv[1]).ok_or_else(invalid)?
    } else {
        cmd
    };
    if !spec.has_keys() {
        return Err(CmdError::new("ERR The command has no key arguments"));
    }
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::new(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let keys = spec.find_keys(&argv).unwrap_or_default();
    if keys.is_empty() && !spec.has(NO_MANDATORY_KEYS) {
        return Err(CmdError::new("ERR Invalid arguments specified for command"));
    }
    Ok((argv, spec, keys))
}

/// `COMMAND GETKEYS command [arg ...]`.
fn getkeys(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (argv, _, keys) = keys_of(args)?;
    Ok(Reply::bulks(keys.into_iter().map(|(i, _)| argv[i].clone())))
}

/// The flags of a key found by spec `spec_index`. Specs flagged `variable_flags` depend on
/// the arguments, as Redis's per-command key functions decide; SET's: `RW access update`
/// with GET, `OW update` without.
fn key_flags(
    spec: &CommandSpec,
    argv: &[bytes::Bytes],
    spec_index: usize,
) -> &'static [&'static str] {
    if spec.name == "set" {
        let get = argv.iter().skip(3).any(|a| a.eq_ignore_ascii_case(b"get"));
        return if get {
            &["RW", "access", "update"]
        } else {
            &["OW", "update"]
        };
    }
    spec.specs().get(spec_index).map_or(&[], |k| k.flags)
}

/// `COMMAND GETKEYSANDFLAGS command [arg ...]`.
fn getkeysandflags(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let (argv, spec, keys) = keys_of(args)?;
    Ok(Reply::Array(
        keys.into_iter()
            .map(|(i, s)| {
                Reply::Array(vec![
                    Reply::Bulk(argv[i].clone()),
                    statuses(key_flags(spec, &argv, s).iter().map(|f| f.to_string())),
                ])
            })
            .collect(),
    ))
}

/// `COMMAND HELP`.
fn help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "COMMAND",
        &[
            ("(no subcommand)", "Return details about all commands."),
            ("COUNT", "Return the number of commands."),
            (
                "DOCS [<command-name> ...]",
                "Return the documentation of the named commands, or of all of them.",
            ),
            (
                "GETKEYS <full-command>",
                "Return the keys of a full command.",
            ),
            (
                "GETKEYSANDFLAGS <full-command>",
                "Return the keys of a full command and their access flags.",
            ),
            (
                "INFO [<command-name> ...]",
                "Return details about the named commands, or all of them.",
            ),
            (
                "LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <pattern>)]",
                "Return the names of commands, optionally filtered.",
            ),
            ("HELP", "Print this help."),
        ],
    ))
}
