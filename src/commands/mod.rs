//! Commands: the table, dispatch, and one file per family.
//!
//! [`execute`] runs one request: it finds the row (and subcommand), checks arity and
//! authentication in one place, locks the shards of the row's keys (or the whole keyspace for
//! `GLOBAL` commands), runs the handler and returns its reply. Handlers parse with
//! [`Args`], reach data through [`Ctx::db`], and report writes with [`Ctx::modified`].

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

use bytes::Bytes;

use crate::protocol::error::NOAUTH;
use crate::protocol::{Args, CmdError, Reply};
use crate::session::Session;
use crate::shared::Shared;
use crate::storage::{Db, Locked};

pub mod table;

mod command;
mod connection;
mod keys;
mod pubsub;
mod server;
mod string;

pub use table::{CommandSpec, KeySpec, Keys};

/// Every family's rows.
fn families() -> [&'static [CommandSpec]; 6] {
    [
        connection::COMMANDS,
        string::COMMANDS,
        keys::COMMANDS,
        pubsub::COMMANDS,
        server::COMMANDS,
        command::COMMANDS,
    ]
}

/// Every command, in table order.
pub fn all_commands() -> impl Iterator<Item = &'static CommandSpec> {
    families().into_iter().flat_map(|f| f.iter())
}

/// Name → row. foldhash rather than SipHash: the lookup runs once per command.
type Index = HashMap<&'static str, &'static CommandSpec, foldhash::fast::RandomState>;

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| all_commands().map(|c| (c.name, c)).collect())
}

/// Finds a top-level command by name, ASCII case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    let mut buf = [0u8; 32];
    if name.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    let s = std::str::from_utf8(lower).ok()?;
    index().get(s).copied()
}

/// Finds a subcommand row of a container.
pub fn lookup_sub(container: &CommandSpec, sub: &[u8]) -> Option<&'static CommandSpec> {
    container
        .subcommands
        .iter()
        .find(|s| s.short_name().as_bytes().eq_ignore_ascii_case(sub))
}

/// Resolves `argv` to the row that runs it, with Redis's errors for unknown commands,
/// unknown subcommands and wrong arity.
pub fn resolve(argv: &[Bytes]) -> Result<&'static CommandSpec, CmdError> {
    let Some(cmd) = argv.first().and_then(|n| lookup(n)) else {
        return Err(CmdError::unknown_command(argv));
    };
    let spec = if !cmd.subcommands.is_empty() && argv.len() >= 2 {
        match lookup_sub(cmd, &argv[1]) {
            Some(sub) => sub,
            None => return Err(CmdError::unknown_subcommand(&argv[1], cmd.name)),
        }
    } else {
        cmd
    };
    if !spec.arity_ok(argv.len()) {
        return Err(CmdError::arity(spec.name));
    }
    Ok(spec)
}

/// What one command may touch while it runs: server state, its client's session, and the
/// shards locked for it (`'k`).
pub struct Ctx<'a, 'k> {
    pub shared: &'a Shared,
    pub session: &'a mut Session,
    pub spec: &'static CommandSpec,
    locked: &'a mut Locked<'k>,
    touch: bool,
}

impl<'k> Ctx<'_, 'k> {
    /// The client's selected database.
    pub fn db(&mut self) -> Db<'_, 'k> {
        let index = self.session.db;
        self.locked.db(index, self.touch)
    }

    /// Database `index` (callers check the range).
    pub fn db_at(&mut self, index: usize) -> Db<'_, 'k> {
        self.locked.db(index, self.touch)
    }

    /// The locked shards, for operations across databases (SWAPDB, FLUSHALL).
    pub fn locked(&mut self) -> &mut Locked<'k> {
        self.locked
    }

    /// The command's timestamp in ms.
    pub fn now(&self) -> u64 {
        self.locked.now()
    }

    /// Records a write to `key`: one place for the dirty counter (and, as they arrive,
    /// WATCH invalidation, keyspace events and AOF propagation).
    pub fn modified(&self, _key: &[u8]) {
        self.shared
            .keyspace
            .stats
            .dirty
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Records `n` writes that are not tied to one key (FLUSHDB, SWAPDB…).
    pub fn modified_many(&self, n: u64) {
        self.shared
            .keyspace
            .stats
            .dirty
            .fetch_add(n, Ordering::Relaxed);
    }

    /// Validates a database index argument as SELECT, MOVE and COPY do.
    pub fn db_index(&self, arg: &[u8]) -> Result<usize, CmdError> {
        let n = crate::protocol::number::parse_i64(arg).ok_or(CmdError::not_integer())?;
        if n < 0 || n as u64 >= self.shared.keyspace.databases() as u64 {
            return Err(CmdError::new(crate::protocol::error::DB_OUT_OF_RANGE));
        }
        Ok(n as usize)
    }
}

/// Runs one request and returns its reply: resolve, check, lock the command's shards, run.
pub fn execute(shared: &Shared, session: &mut Session, argv: Vec<Bytes>) -> Reply {
    let spec = match admit(shared, session, &argv) {
        Ok(spec) => spec,
        Err(e) => return e.into(),
    };
    let mut locked = lock_for(shared, spec, &argv);
    run(shared, session, spec, argv, &mut locked)
}

/// The checks every request passes before it runs: a known command with the right arity,
/// and authentication. Counts the command and records its name for CLIENT LIST (the
/// connection records the time once per batch of requests).
pub fn admit(
    shared: &Shared,
    session: &mut Session,
    argv: &[Bytes],
) -> Result<&'static CommandSpec, CmdError> {
    let spec = resolve(argv)?;
    if !session.authenticated && !spec.has(table::NO_AUTH) {
        return Err(CmdError::new(NOAUTH));
    }
    session.meta().last_cmd = spec.name;
    if session.in_subscribed_mode() && !allowed_when_subscribed(spec) {
        return Err(CmdError::msg(format!(
            "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            spec.name
        )));
    }
    shared
        .stats
        .commands_processed
        .fetch_add(1, Ordering::Relaxed);
    Ok(spec)
}

/// The commands a RESP2 client may run while it has subscriptions.
fn allowed_when_subscribed(spec: &CommandSpec) -> bool {
    matches!(
        spec.name,
        "subscribe"
            | "ssubscribe"
            | "psubscribe"
            | "unsubscribe"
            | "sunsubscribe"
            | "punsubscribe"
            | "ping"
            | "quit"
            | "reset"
    )
}

/// Locks what `spec` needs: its keys' shards, or every shard for `GLOBAL` commands.
pub fn lock_for<'s>(shared: &'s Shared, spec: &CommandSpec, argv: &[Bytes]) -> Locked<'s> {
    if spec.has(table::GLOBAL) {
        shared.keyspace.lock_all()
    } else {
        shared
            .keyspace
            .lock(spec.keys.positions(argv.len()).map(|i| argv[i].as_ref()))
    }
}

/// Runs an admitted command under locks the caller holds. `execute` locks per command;
/// a transaction or script locks every shard once and runs each of its commands here.
pub fn run(
    shared: &Shared,
    session: &mut Session,
    spec: &'static CommandSpec,
    argv: Vec<Bytes>,
    locked: &mut Locked<'_>,
) -> Reply {
    let Some(handler) = spec.handler else {
        return CmdError::arity(spec.name).into();
    };
    let skip = if spec.name.contains('|') { 2 } else { 1 };
    let mut args = Args::new(argv, skip);
    let touch = !session.no_touch;
    let mut ctx = Ctx {
        shared,
        session,
        spec,
        locked,
        touch,
    };
    match handler(&mut ctx, &mut args) {
        Ok(reply) => reply,
        Err(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for c in all_commands() {
            assert!(seen.insert(c.name), "duplicate row {}", c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(c.arity != 0, "{}", c.name);
            assert!(
                c.handler.is_some() || !c.subcommands.is_empty(),
                "{}: a row needs a handler or subcommands",
                c.name
            );
            for s in c.subcommands {
                assert!(s.name.starts_with(&format!("{}|", c.name)), "{}", s.name);
                assert!(s.handler.is_some(), "{}", s.name);
            }
        }
    }

    #[test]
    fn resolve_reports_redis_errors() {
        let argv =
            |w: &[&str]| -> Vec<Bytes> { w.iter().map(|s| Bytes::from(s.to_string())).collect() };
        assert_eq!(resolve(&argv(&["GeT", "k"])).unwrap().name, "get");
        assert_eq!(
            resolve(&argv(&["get"])).unwrap_err().text(),
            "ERR wrong number of arguments for 'get' command"
        );
        assert_eq!(
            resolve(&argv(&["nosuch", "x"])).unwrap_err().text(),
            "ERR unknown command 'nosuch', with args beginning with: 'x' "
        );
        assert_eq!(
            resolve(&argv(&["client"])).unwrap_err().text(),
            "ERR wrong number of arguments for 'client' command"
        );
        assert_eq!(
            resolve(&argv(&["client", "bogus"])).unwrap_err().text(),
            "ERR unknown subcommand 'bogus'. Try CLIENT HELP."
        );
        assert_eq!(
            resolve(&argv(&["CLIENT", "SETNAME"])).unwrap_err().text(),
            "ERR wrong number of arguments for 'client|setname' command"
        );
    }
}

/// Property tests: whatever a client sends, dispatch answers and never panics.
#[cfg(test)]
mod robustness {
    use super::*;
    use crate::clock::Clock;
    use crate::config::Config;
    use crate::session::ClientHandle;
    use proptest::prelude::*;
    use std::sync::Arc;

    /// Words that make handlers take their interesting paths: options, numbers at the
    /// edges, patterns, empty and binary strings.
    const WORDS: &[&str] = &[
        "k",
        "k2",
        "",
        "0",
        "1",
        "-1",
        "10",
        "-100",
        "2147483648",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999",
        "1.5",
        "-0.0",
        "inf",
        "nan",
        "1e400",
        "EX",
        "PX",
        "EXAT",
        "PXAT",
        "NX",
        "XX",
        "GT",
        "LT",
        "GET",
        "KEEPTTL",
        "PERSIST",
        "LEN",
        "IDX",
        "MINMATCHLEN",
        "WITHMATCHLEN",
        "MATCH",
        "COUNT",
        "TYPE",
        "DB",
        "REPLACE",
        "*",
        "[",
        "\\",
        "ID",
        "ADDR",
        "SKIPME",
        "ON",
        "OFF",
        "SKIP",
        "ASYNC",
        "string",
        "\u{0}\u{ff}",
    ];

    fn word() -> impl Strategy<Value = Bytes> {
        prop_oneof![
            4 => prop::sample::select(WORDS).prop_map(|w| Bytes::from(w.as_bytes().to_vec())),
            1 => prop::collection::vec(any::<u8>(), 0..8).prop_map(Bytes::from),
        ]
    }

    fn request() -> impl Strategy<Value = Vec<Bytes>> {
        let names: Vec<String> = all_commands()
            .flat_map(|c| {
                let subs = c.subcommands.iter().map(|s| s.name.replace('|', " "));
                std::iter::once(c.name.to_string()).chain(subs)
            })
            // Commands that act on other connections or the server itself.
            .filter(|n| !n.starts_with("client kill") && n != "quit")
            .collect();
        (
            prop::sample::select(names),
            prop::collection::vec(word(), 0..6),
        )
            .prop_map(|(name, args)| {
                let mut argv: Vec<Bytes> = name
                    .split(' ')
                    .map(|w| Bytes::from(w.as_bytes().to_vec()))
                    .collect();
                argv.extend(args);
                argv
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn dispatch_never_panics(reqs in prop::collection::vec(request(), 1..12)) {
            let shared = Shared::new(Config::default(), Clock::manual(1_700_000_000_000));
            let handle = Arc::new(ClientHandle::new(1, "t".into(), "t".into(), -1, 0));
            let mut session = Session::new(handle, true);
            for argv in reqs {
                let reply = execute(&shared, &mut session, argv);
                // As the connection does: what the command queued for its own client
                // (SUBSCRIBE's confirmations), then the reply.
                let mut out = bytes::BytesMut::new();
                session.handle.outbox.drain_into(&mut out, usize::MAX);
                reply.encode(&mut out, session.resp3);
                prop_assert!(!out.is_empty());
                shared.clock().advance(250);
            }
        }
    }
}
