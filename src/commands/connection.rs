//! Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, RESET and the CLIENT family.
//!
//! These change the calling client's [`Session`](crate::session::Session) (and, through its
//! handle, what CLIENT LIST shows); CLIENT LIST/KILL read the shared client registry.

use std::sync::atomic::Ordering;

use bytes::Bytes;

use super::table::*;
use super::Ctx;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::session::{ClientHandle, ReplyMode};

/// The Redis version we answer as: clients (BullMQ, redis-py) gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";

const CONN: u32 = CONNECTION;
const CLIENT_FLAGS: u32 = NOSCRIPT | LOADING | STALE;

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, FAST, CONN, Keys::NONE, ping)
        .doc("Returns the server's liveliness response.", "1.0.0")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("echo", 2, LOADING | STALE | FAST, CONN, Keys::NONE, echo)
        .doc("Returns the given string.", "1.0.0"),
    CommandSpec::new(
        "quit",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        CONN,
        Keys::NONE,
        quit,
    )
    .doc("Closes the connection.", "1.0.0"),
    CommandSpec::new(
        "select",
        2,
        LOADING | STALE | FAST,
        CONN,
        Keys::NONE,
        select,
    )
    .doc("Changes the selected database.", "1.0.0"),
    CommandSpec::new(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        CONN,
        Keys::NONE,
        hello,
    )
    .doc(
        "Handshakes with the server: protocol version, authentication, name.",
        "6.0.0",
    ),
    CommandSpec::new(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        CONN,
        Keys::NONE,
        auth,
    )
    .doc("Authenticates the connection.", "1.0.0"),
    CommandSpec::new(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        CONN,
        Keys::NONE,
        reset,
    )
    .doc("Resets the connection.", "6.2.0"),
    CommandSpec::container(
        "client",
        0,
        "A container for client connection commands.",
        CLIENT_SUBS,
    ),
];

const CLIENT_SUBS: &[CommandSpec] = &[
    CommandSpec::new("client|id", 2, CLIENT_FLAGS, CONN, Keys::NONE, client_id)
        .doc("Returns the unique client ID of the connection.", "5.0.0"),
    CommandSpec::new(
        "client|setname",
        3,
        CLIENT_FLAGS,
        CONN,
        Keys::NONE,
        client_setname,
    )
    .doc("Sets the connection name.", "2.6.9"),
    CommandSpec::new(
        "client|getname",
        2,
        CLIENT_FLAGS,
        CONN,
        Keys::NONE,
        client_getname,
    )
    .doc("Returns the name of the connection.", "2.6.9"),
    CommandSpec::new(
        "client|setinfo",
        4,
        CLIENT_FLAGS,
        CONN,
        Keys::NONE,
        client_setinfo,
    )
    .doc(
        "Sets information specific to the client or connection.",
        "7.2.0",
    )
    .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"]),
    CommandSpec::new(
        "client|list",
        -2,
        ADMIN | CLIENT_FLAGS,
        CONN,
        Keys::NONE,
        client_list,
    )
    .doc("Lists open connections.", "2.4.0")
    .tips(&["nondeterministic_output"]),
    CommandSpec::new(
        "client|info",
        2,
        CLIENT_FLAGS,
        CONN,
        Keys::NONE,
        client_info,
    )
    .doc("Returns information about the connection.", "6.2.0")
    .tips(&["nondeterministic_output"]),
    CommandSpec::new(
        "client|kill",
        -3,
        ADMIN | CLIENT_FLAGS,
        CONN,
        Keys::NONE,
        client_kill,
    )
    .doc("Terminates open connections.", "2.4.0"),
    CommandSpec::new(
        "client|no-evict",
        3,
        ADMIN | CLIENT_FLAGS,
        CONN,
        Keys::NONE,
        client_no_evict,
    )
    .doc("Sets the client eviction mode of the connection.", "7.0.0"),
    CommandSpec::new(
        "client|no-touch",
        3,
        CLIENT_FLAGS | FAST,
        CONN,
        Keys::NONE,
        client_no_touch,
    )
    .doc(
        "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.",
        "7.2.0",
    ),
    CommandSpec::new(
        "client|unblock",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        CONN,
        Keys::NONE,
        client_unblock,
    )
    .doc(
        "Unblocks a client blocked by a blocking command from a different connection.",
        "5.0.0",
    ),
    CommandSpec::new(
        "client|reply",
        3,
        CLIENT_FLAGS,
        CONN,
        Keys::NONE,
        client_reply,
    )
    .doc(
        "Instructs the server whether to reply to commands.",
        "3.2.0",
    ),
    CommandSpec::new(
        "client|pause",
        -3,
        ADMIN | CLIENT_FLAGS,
        CONN,
        Keys::NONE,
        client_pause,
    )
    .doc("Suspends commands processing.", "3.0.0"),
    CommandSpec::new(
        "client|unpause",
        2,
        ADMIN | CLIENT_FLAGS,
        CONN,
        Keys::NONE,
        client_unpause,
    )
    .doc("Resumes processing commands from paused clients.", "6.2.0"),
    CommandSpec::new(
        "client|help",
        2,
        LOADING | STALE,
        CONN,
        Keys::NONE,
        client_help,
    )
    .doc(
        "Returns helpful text about the different subcommands.",
        "5.0.0",
    ),
];

/// `PING [message]` — O(1). A RESP2 client in subscribed mode gets `["pong", message]`.
fn ping(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let subscribed = ctx.session.in_subscribed_mode();
    match args.remaining() {
        0 if subscribed => Ok(Reply::Array(vec![Reply::bulk("pong"), Reply::bulk("")])),
        0 => Ok(Reply::status("PONG")),
        1 if subscribed => Ok(Reply::Array(vec![
            Reply::bulk("pong"),
            Reply::Bulk(args.next_bytes()?),
        ])),
        1 => Ok(Reply::Bulk(args.next_bytes()?)),
        _ => Err(CmdError::arity("ping")),
    }
}

/// `ECHO message` — O(1).
fn echo(_ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    Ok(Reply::Bulk(args.next_bytes()?))
}

/// `QUIT` — replies OK, then the connection closes.
fn quit(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.session.close_after_reply = true;
    Ok(Reply::Ok)
}

/// `SELECT index` — O(1).
fn select(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let arg = args.next_bytes()?;
    let db = ctx.db_index(&arg)?;
    ctx.session.select(db);
    Ok(Reply::Ok)
}

/// Checks a password (AUTH, HELLO … AUTH). Only the `default` user exists.
fn check_password(ctx: &mut Ctx, user: Option<&[u8]>, pass: &[u8]) -> Result<(), CmdError> {
    let Some(required) = ctx.shared.requirepass() else {
        if user.is_none() {
            return Err(CmdError::new(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ));
        }
        // Without requirepass the default user accepts any password ("nopass").
        if user == Some(b"default") {
            ctx.session.authenticated = true;
            return Ok(());
        }
        return Err(wrongpass());
    };
    let user_ok = user.is_none_or(|u| u == b"default");
    if user_ok && pass == required.as_bytes() {
        ctx.session.authenticated = true;
        Ok(())
    } else {
        Err(wrongpass())
    }
}

fn wrongpass() -> CmdError {
    CmdError::new("WRONGPASS invalid username-password pair or user is disabled.")
}

/// `AUTH [username] password` — O(N) in the password length.
fn auth(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    match args.remaining() {
        1 => {
            let pass = args.next_bytes()?;
            check_password(ctx, None, &pass)?;
        }
        2 => {
            let user = args.next_bytes()?;
            let pass = args.next_bytes()?;
            check_password(ctx, Some(&user), &pass)?;
        }
        _ => return Err(CmdError::syntax()),
    }
    Ok(Reply::Ok)
}

/// `HELLO [protover [AUTH username password] [SETNAME clientname]]` — O(1).
fn hello(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut version = None;
    if let Some(v) = args.peek() {
        let v = crate::protocol::number::parse_i64(v).ok_or(CmdError::new(
            "ERR Protocol version is not an integer or out of range",
        ))?;
        args.next_bytes()?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::new("NOPROTO unsupported protocol version"));
        }
        version = Some(v);
    }
    let mut auth = None;
    let mut name = None;
    while let Some(opt) = args.peek().cloned() {
        args.next_bytes()?;
        let left = args.remaining();
        if opt.eq_ignore_ascii_case(b"auth") && left >= 2 {
            auth = Some((args.next_bytes()?, args.next_bytes()?));
        } else if opt.eq_ignore_ascii_case(b"setname") && left >= 1 {
            let n = args.next_bytes()?;
            validate_name(&n)?;
            name = Some(n);
        } else {
            return Err(CmdError::msg(format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(&opt)
            )));
        }
    }
    if let Some((user, pass)) = auth {
        check_password(ctx, Some(&user), &pass)?;
    }
    if !ctx.session.authenticated {
        return Err(CmdError::new(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
        ));
    }
    if let Some(n) = name {
        ctx.session.meta().name = (!n.is_empty()).then_some(n);
    }
    if let Some(v) = version {
        ctx.session.set_resp3(v == 3);
    }
    let proto = if ctx.session.resp3 { 3 } else { 2 };
    Ok(Reply::Map(vec![
        (Reply::bulk("server"), Reply::bulk("redis")),
        (Reply::bulk("version"), Reply::bulk(REDIS_VERSION)),
        (Reply::bulk("proto"), Reply::Int(proto)),
        (Reply::bulk("id"), Reply::Int(ctx.session.id as i64)),
        (Reply::bulk("mode"), Reply::bulk("standalone")),
        (Reply::bulk("role"), Reply::bulk("master")),
        (Reply::bulk("modules"), Reply::Array(vec![])),
    ]))
}

/// `RESET` — back to a fresh connection's state.
fn reset(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    super::transaction::discard_transaction(ctx.shared, ctx.session);
    let s = &mut *ctx.session;
    ctx.shared.pubsub.unsubscribe_all(s.id, &mut s.subs);
    s.sync_subs();
    s.select(0);
    s.set_resp3(false);
    s.reply_mode = ReplyMode::On;
    s.skip_next = false;
    s.authenticated = ctx.shared.requirepass().is_none();
    s.set_no_touch(false);
    if s.monitor {
        s.monitor = false;
        ctx.shared.ops.remove_monitor(s.id);
    }
    {
        let mut meta = s.meta();
        meta.name = None;
        meta.no_evict = false;
        meta.monitor = false;
    }
    Ok(Reply::status("RESET"))
}

/// `CLIENT UNBLOCK client-id [TIMEOUT|ERROR]` — O(log N): ends another client's blocking
/// wait as a timeout (default) or with an `-UNBLOCKED` error; 1 if it was blocked.
fn client_unblock(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let id = args.next_i64()?;
    let error = match args.next() {
        None => false,
        Some(w) if w.eq_ignore_ascii_case(b"timeout") => false,
        Some(w) if w.eq_ignore_ascii_case(b"error") => true,
        Some(_) => {
            return Err(CmdError::new(
                "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ))
        }
    };
    args.finish()?;
    let done =
        u64::try_from(id).is_ok_and(|id| super::blocking::unblock_client(ctx.shared, id, error));
    Ok(Reply::Int(i64::from(done)))
}

/// Client names and library fields may not contain spaces, newlines or control bytes.
fn valid_client_text(n: &[u8]) -> bool {
    n.iter().all(|&b| (b'!'..=b'~').contains(&b))
}

fn validate_name(n: &[u8]) -> Result<(), CmdError> {
    if valid_client_text(n) {
        Ok(())
    } else {
        Err(CmdError::new(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ))
    }
}

/// `CLIENT ID` — O(1).
fn client_id(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Reply::Int(ctx.session.id as i64))
}

/// `CLIENT SETNAME name` — O(1). An empty name clears it.
fn client_setname(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let n = args.next_bytes()?;
    validate_name(&n)?;
    ctx.session.meta().name = (!n.is_empty()).then_some(n);
    Ok(Reply::Ok)
}

/// `CLIENT GETNAME` — O(1).
fn client_getname(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(Reply::opt_bulk(ctx.session.meta().name.clone()))
}

/// `CLIENT SETINFO LIB-NAME name | LIB-VER version` — O(1).
fn client_setinfo(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let attr = args.next_bytes()?;
    let value = args.next_bytes()?;
    let field = if attr.eq_ignore_ascii_case(b"lib-name") {
        "lib-name"
    } else if attr.eq_ignore_ascii_case(b"lib-ver") {
        "lib-ver"
    } else {
        return Err(CmdError::msg(format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(&attr)
        )));
    };
    if !valid_client_text(&value) {
        return Err(CmdError::msg(format!(
            "ERR {field} cannot contain spaces, newlines or special characters."
        )));
    }
    let value = (!value.is_empty()).then_some(value);
    let mut meta = ctx.session.meta();
    if field == "lib-name" {
        meta.lib_name = value;
    } else {
        meta.lib_ver = value;
    }
    Ok(Reply::Ok)
}

/// One CLIENT LIST line (without the newline). `argv_mem` is the size of the arguments of
/// the command the client is running: the caller's own CLIENT LIST/INFO for itself, none for
/// the others (they are between commands).
fn client_line(c: &ClientHandle, now_ms: u64, argv_mem: usize) -> String {
    let m = c.meta.lock().clone();
    let text = |b: &Option<Bytes>| {
        b.as_ref()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .unwrap_or_default()
    };
    let sub = c.sub.load(Ordering::Relaxed);
    let psub = c.psub.load(Ordering::Relaxed);
    let ssub = c.ssub.load(Ordering::Relaxed);
    // Flags in Redis's order: P (pubsub), x (MULTI), …, e (no-evict), T (no-touch).
    let mut flags = String::new();
    if m.monitor {
        flags.push('O');
    }
    if sub + psub + ssub > 0 {
        flags.push('P');
    }
    if m.multi >= 0 {
        flags.push('x');
    }
    if m.blocked {
        flags.push('b');
    }
    if m.no_evict {
        flags.push('e');
    }
    if m.no_touch {
        flags.push('T');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    let obl = c.outbox.inflight();
    let (omem, oll) = c.outbox.stats();
    let qbuf_mem = m.query_buf + m.query_buf_free;
    format!(
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem=0 rbs={} rbp=0 obl={} oll={} omem={} tot-mem={} events=r cmd={} user=default redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        text(&m.name),
        now_ms.saturating_sub(c.created_ms) / 1000,
        now_ms.saturating_sub(m.last_active_ms) / 1000,
        flags,
        m.db,
        sub,
        psub,
        ssub,
        m.multi,
        m.query_buf,
        m.query_buf_free,
        argv_mem,
        qbuf_mem,
        obl,
        oll,
        omem,
        qbuf_mem + argv_mem + m.out_buf + obl + omem,
        super::rows_by_id()
            .get(usize::from(c.last_cmd.load(Ordering::Relaxed)))
            .map_or("NULL", |c| c.name),
        m.resp,
        text(&m.lib_name),
        text(&m.lib_ver),
    )
}

/// Bytes of the current command's arguments (CLIENT LIST `argv-mem` of the caller).
fn argv_mem(args: &Args) -> usize {
    args.argv().iter().map(|a| a.len()).sum()
}

/// `CLIENT INFO` — O(1).
fn client_info(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let mut line = client_line(&ctx.session.handle, ctx.shared.now_ms(), argv_mem(args));
    line.push('\n');
    Ok(Reply::Verbatim("txt", Bytes::from(line)))
}

/// `CLIENT LIST [TYPE normal|master|replica|pubsub] [ID id [id ...]]` — O(N) clients.
fn client_list(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let now = ctx.shared.now_ms();
    let own_argv = argv_mem(args);
    let own_id = ctx.session.id;
    let line = |c: &ClientHandle| client_line(c, now, if c.id == own_id { own_argv } else { 0 });
    let mut out = String::new();
    if args.remaining() >= 2 && args.eat("id") {
        // One line per id asked for, in that order (repeats included); unknown ids are
        // skipped, any integer is a valid id.
        for a in args.by_ref() {
            let id = crate::protocol::number::parse_i64(&a)
                .ok_or(CmdError::new("ERR Invalid client ID"))?;
            let found = u64::try_from(id)
                .ok()
                .and_then(|id| ctx.shared.clients.get(&id).map(|c| c.value().clone()));
            if let Some(c) = found {
                out.push_str(&line(&c));
                out.push('\n');
            }
        }
        return Ok(Reply::Verbatim("txt", Bytes::from(out)));
    }
    let mut wanted = None;
    if args.remaining() == 2 && args.eat("type") {
        let t = args.next_bytes()?;
        wanted = Some(client_type(&t)?);
    } else {
        args.finish()?;
    }
    let mut clients: Vec<_> = ctx
        .shared
        .clients
        .iter()
        .map(|e| e.value().clone())
        .collect();
    clients.sort_by_key(|c| c.id);
    for c in clients
        .iter()
        .filter(|c| wanted.is_none_or(|t| t == ClientType::of(c)))
    {
        out.push_str(&line(c));
        out.push('\n');
    }
    Ok(Reply::Verbatim("txt", Bytes::from(out)))
}

/// The client classes of CLIENT LIST/KILL TYPE (and of `client-output-buffer-limit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClientType {
    Normal,
    Pubsub,
    /// Master or replica: no such clients yet.
    Replication,
}

impl ClientType {
    fn of(c: &ClientHandle) -> ClientType {
        if c.is_pubsub() {
            ClientType::Pubsub
        } else {
            ClientType::Normal
        }
    }
}

/// Parses a client type.
fn client_type(t: &[u8]) -> Result<ClientType, CmdError> {
    let lower = t.to_ascii_lowercase();
    match lower.as_slice() {
        b"normal" => Ok(ClientType::Normal),
        b"pubsub" => Ok(ClientType::Pubsub),
        b"master" | b"replica" | b"slave" => Ok(ClientType::Replication),
        _ => Err(CmdError::msg(format!(
            "ERR Unknown client type '{}'",
            String::from_utf8_lossy(t)
        ))),
    }
}

/// `CLIENT KILL ip:port` or `CLIENT KILL [ID id] [TYPE t] [ADDR a] [LADDR a] [USER u]
/// [SKIPME yes|no]` — O(N) clients.
fn client_kill(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() == 1 {
        let addr = args.next_bytes()?;
        let victim = ctx
            .shared
            .clients
            .iter()
            .find(|c| c.addr.as_bytes() == addr.as_ref())
            .map(|c| c.value().clone());
        return match victim {
            Some(c) => {
                kill(ctx, &c);
                Ok(Reply::Ok)
            }
            None => Err(CmdError::new("ERR No such client")),
        };
    }
    let mut id = None;
    let mut addr = None;
    let mut laddr = None;
    let mut user = None;
    let mut normal = None;
    let mut skipme = true;
    while !args.is_empty() {
        let opt = args.next_bytes()?.to_ascii_lowercase();
        let val = args.next_bytes()?;
        match opt.as_slice() {
            b"id" => match crate::protocol::number::parse_i64(&val) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => return Err(CmdError::new("ERR client-id should be greater than 0")),
            },
            b"type" => normal = Some(client_type(&val)?),
            b"addr" => addr = Some(val),
            b"laddr" => laddr = Some(val),
            b"user" => {
                // Only the `default` user exists.
                if val.as_ref() != b"default" {
                    return Err(CmdError::msg(format!(
                        "ERR No such user '{}'",
                        String::from_utf8_lossy(&val)
                    )));
                }
                user = Some(val);
            }
            b"skipme" => {
                skipme = if val.eq_ignore_ascii_case(b"yes") {
                    true
                } else if val.eq_ignore_ascii_case(b"no") {
                    false
                } else {
                    return Err(CmdError::syntax());
                }
            }
            _ => return Err(CmdError::syntax()),
        }
    }
    let victims: Vec<_> = ctx
        .shared
        .clients
        .iter()
        .map(|c| c.value().clone())
        .filter(|c| id.is_none_or(|i| c.id == i))
        .filter(|c| {
            addr.as_ref()
                .is_none_or(|a| c.addr.as_bytes() == a.as_ref())
        })
        .filter(|c| {
            laddr
                .as_ref()
                .is_none_or(|a| c.laddr.as_bytes() == a.as_ref())
        })
        .filter(|_| user.as_ref().is_none_or(|u| u.as_ref() == b"default"))
        .filter(|c| normal.is_none_or(|t| t == ClientType::of(c)))
        .filter(|c| !(skipme && c.id == ctx.session.id))
        .collect();
    for c in &victims {
        kill(ctx, c);
    }
    Ok(Reply::Int(victims.len() as i64))
}

/// Kills a client; killing ourselves closes after this reply.
fn kill(ctx: &mut Ctx, c: &ClientHandle) {
    if c.id == ctx.session.id {
        ctx.session.close_after_reply = true;
    } else {
        c.kill();
    }
}

fn on_off(args: &mut Args) -> Result<bool, CmdError> {
    let v = args.next_bytes()?;
    if v.eq_ignore_ascii_case(b"on") {
        Ok(true)
    } else if v.eq_ignore_ascii_case(b"off") {
        Ok(false)
    } else {
        Err(CmdError::syntax())
    }
}

/// `CLIENT NO-EVICT ON|OFF` — O(1).
fn client_no_evict(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let on = on_off(args)?;
    ctx.session.meta().no_evict = on;
    Ok(Reply::Ok)
}

/// `CLIENT NO-TOUCH ON|OFF` — O(1). Reads by this client leave keys' access time alone.
fn client_no_touch(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let on = on_off(args)?;
    ctx.session.set_no_touch(on);
    Ok(Reply::Ok)
}

/// `CLIENT REPLY ON|OFF|SKIP` — O(1). OFF and SKIP are themselves not answered.
fn client_reply(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    let v = args.next_bytes()?;
    ctx.session.reply_mode = if v.eq_ignore_ascii_case(b"on") {
        ReplyMode::On
    } else if v.eq_ignore_ascii_case(b"off") {
        ReplyMode::Off
    } else if v.eq_ignore_ascii_case(b"skip") {
        ReplyMode::Skip
    } else {
        return Err(CmdError::syntax());
    };
    Ok(Reply::Ok)
}

/// `CLIENT PAUSE timeout [WRITE|ALL]` — O(1). Until `timeout` ms pass (or CLIENT UNPAUSE),
/// other clients' commands wait before running (only writes with WRITE); the wait happens in
/// the connection task, holding no lock. Overlapping pauses keep the later end and the
/// stricter mode.
fn client_pause(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    if args.remaining() > 2 {
        return Err(CmdError::new(
            "ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP.",
        ));
    }
    let timeout = args.next_bytes()?;
    let all = match args.next() {
        None => true,
        Some(m) if m.eq_ignore_ascii_case(b"write") => false,
        Some(m) if m.eq_ignore_ascii_case(b"all") => true,
        Some(_) => return Err(CmdError::new("ERR CLIENT PAUSE mode must be WRITE or ALL")),
    };
    let ms = crate::protocol::number::parse_i64(&timeout).ok_or(CmdError::new(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(CmdError::new("ERR timeout is negative"));
    }
    let now = ctx.shared.now_ms();
    if ms > 0 {
        ctx.shared
            .ops
            .pause
            .pause(now.saturating_add(ms as u64), all, now);
    }
    Ok(Reply::Ok)
}

/// `CLIENT UNPAUSE` — O(N) in the paused clients, which resume at once.
fn client_unpause(ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    ctx.shared.ops.pause.unpause();
    Ok(Reply::Ok)
}

/// `CLIENT HELP`.
fn client_help(_ctx: &mut Ctx, _args: &mut Args) -> CmdResult {
    Ok(help_reply(
        "CLIENT",
        &[
            ("GETNAME", "Return the name of this connection."),
            ("ID", "Return the ID of this connection."),
            ("INFO", "Return information about this connection."),
            ("KILL <ip:port>", "Close the connection from <ip:port>."),
            (
                "KILL <option> <value> [<option> <value> ...]",
                "Close connections matching every filter: ID, ADDR, LADDR, TYPE, USER, SKIPME (YES|NO).",
            ),
            ("LIST [TYPE <type>] [ID <id> ...]", "List client connections."),
            (
                "PAUSE <timeout> [WRITE|ALL]",
                "Hold other clients' commands (or only their writes) for <timeout> ms.",
            ),
            ("UNPAUSE", "End a CLIENT PAUSE early."),
            ("NO-EVICT (ON|OFF)", "Protect this connection from client eviction."),
            ("NO-TOUCH (ON|OFF)", "Keep this connection's reads from changing keys' LRU/LFU data."),
            ("REPLY (ON|OFF|SKIP)", "Control whether replies are sent to this connection."),
            ("SETINFO <LIB-NAME|LIB-VER> <value>", "Record the client library's name or version."),
            ("SETNAME <name>", "Name this connection."),
            (
                "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                "End the blocking wait of another connection, as a timeout or with an error.",
            ),
            ("HELP", "Print this help."),
        ],
    ))
}

/// The shape of every `… HELP` reply: a header line, then each entry and its description.
pub(super) fn help_reply(container: &str, entries: &[(&str, &str)]) -> Reply {
    let mut lines = vec![Reply::Status(
        format!("{container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:").into(),
    )];
    for (syntax, text) in entries {
        lines.push(Reply::Status(syntax.to_string().into()));
        lines.push(Reply::Status(format!("    {text}").into()));
    }
    Reply::Array(lines)
}
