//! The Lua states, their sandbox, the `redis` API and the Reply ⇄ Lua conversions.
//!
//! # Sandbox
//! Stock Lua 5.1 has no read-only tables (Redis 7.0 patches its VM for that), so the same
//! behaviour is built from metatables: every library table (`redis`, `string`, `math`,
//! `table`, `coroutine`, `cjson`, …) is reached through a proxy whose `__newindex` raises
//! `Attempt to modify a readonly table`; user chunks are compiled with a proxy of the
//! globals as their environment, and the globals table itself raises
//! `Script attempted to access nonexistent global variable 'x'` for a missing name. `rawset`
//! refuses the proxies too. What Redis removes (`dofile`, `loadfile`, `print`, `setfenv`,
//! `getfenv`, `newproxy`, `module`, `require`, `package`, `io`, `os`, `debug`) is gone.
//!
//! # Errors
//! Scripts run under `xpcall` with a message handler (Lua, below) that turns any error into
//! Redis's error table `{err = "CODE message"}` and adds the source and line of the user
//! frame; the reply is then `-CODE message script: <sha or function>, on @user_script:N.`,
//! as Redis 7.0 builds it. The `redis` API is written as thin Lua wrappers over Rust
//! functions that never raise: a wrapper raises the error table itself, so errors keep
//! Redis's shape (a table, not a Rust error object).
//!
//! # Reaching the running command from Lua
//! `redis.call` needs the shards the script holds and the caller's session. The script's
//! runner stores a pointer to its [`CallCtx`] in a thread-local for the duration of the
//! Lua call (the script runs synchronously on this thread) and clears it on every path.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use bytes::Bytes;
use mlua::{Function, HookTriggers, Lua, LuaOptions, StdLib, Table, Value, Variadic, VmState};

use crate::commands::{self, table, CommandSpec};
use crate::protocol::Reply;
use crate::session::Session;
use crate::shared::Shared;
use crate::storage::Locked;

use super::{Gate, Stats};

/// Script flags (`#!lua flags=…`).
pub const NO_WRITES: u32 = 1;
/// `allow-oom`: the script may run write commands while over `maxmemory`.
pub const ALLOW_OOM: u32 = 2;
/// `allow-stale`: accepted (no replicas here).
pub const ALLOW_STALE: u32 = 4;
/// `no-cluster`: accepted (no cluster mode here).
pub const NO_CLUSTER: u32 = 8;
/// `allow-cross-slot-keys`: accepted (no cluster mode here).
pub const ALLOW_CROSS_SLOT: u32 = 16;
/// No shebang: EVAL's backwards-compatible mode.
pub const EVAL_COMPAT: u32 = 32;

/// The flag names shebangs and `register_function` accept, with their bits.
pub const FLAG_NAMES: &[(&str, u32)] = &[
    ("no-writes", NO_WRITES),
    ("allow-oom", ALLOW_OOM),
    ("allow-stale", ALLOW_STALE),
    ("no-cluster", NO_CLUSTER),
    ("allow-cross-slot-keys", ALLOW_CROSS_SLOT),
];

/// The Lua prelude: the error handler, the runner, the `redis` API wrappers and the
/// sandbox. Chunk name `=api`: the handler skips frames of this chunk when it looks for the
/// user's line.
const PRELUDE: &str = r#"
local raw, G, functions_vm = ...
local error, type, select, tostring, tonumber, setmetatable, rawget, rawset, ipairs, xpcall =
      error, type, select, tostring, tonumber, setmetatable, rawget, rawset, ipairs, xpcall
local floor, concat, sub, find, gsub = math.floor, table.concat, string.sub, string.find, string.gsub
local dbg = debug

local function handler(err)
  local level = 2
  local i = dbg.getinfo(level, 'Sl')
  while i and (i.what == 'C' or i.source == '=api') do
    level = level + 1
    i = dbg.getinfo(level, 'Sl')
  end
  if type(err) == 'string' then
    err = {err = 'ERR ' .. err}
  elseif type(err) ~= 'table' then
    local k = raw.killed()
    if k then err = {err = 'ERR ' .. k} else err = {err = 'ERR ' .. raw.errtext(err)} end
  end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end

local function run(f, keys, args)
  if keys == nil then return xpcall(f, handler) end
  return xpcall(function() return f(keys, args) end, handler)
end

local R = raw.raiser
local function raise(msg) return {err = 'ERR ' .. msg}, true end

local function push_error(e)
  local code, msg
  if sub(e, 1, 1) == '-' then
    local sp = find(e, ' ', 1, true)
    if sp then code, msg = sub(e, 2, sp - 1), sub(e, sp + 1) else code, msg = 'ERR', sub(e, 2) end
  else
    code, msg = 'ERR', e
  end
  msg = gsub(msg, '^[\r\n]+', '')
  msg = gsub(msg, '[\r\n]+$', '')
  return {err = code .. ' ' .. msg}
end

-- Where a C library function's caller is, as luaL_error prefixes it ("user_script:3: "):
-- from an implementation called by a raiser, the caller is three levels up.
local function where()
  local i = dbg.getinfo(4, 'Sl')
  if i and i.currentline > 0 then return i.short_src .. ':' .. i.currentline .. ': ' end
  return ''
end

local function trunc(x)
  if x >= 0 then return floor(x) end
  return -floor(-x)
end

-- Functions that may raise are C closures made by raw.raiser over an implementation that
-- returns (value, raise): raised from a C frame, the error keeps the user's line even when
-- the user's call was a tail call.
local redis = {}
redis.call = R(function(...) return raw.call(true, ...) end)
redis.pcall = function(...)
  local r = raw.call(false, ...)
  return r
end
redis.sha1hex = R(function(...)
  if select('#', ...) ~= 1 then return 'wrong number of arguments', true end
  local s = ...
  if type(s) ~= 'string' and type(s) ~= 'number' then s = '' end
  return raw.sha1hex(s), false
end)
redis.error_reply = function(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then
    return push_error('wrong number or type of arguments')
  end
  if sub(e, 1, 1) ~= '-' then e = '-' .. e end
  return push_error(e)
end
redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return push_error('wrong number or type of arguments')
  end
  return {ok = s}
end
local log = R(function(...)
  local n = select('#', ...)
  if n < 2 then return raise('redis.log() requires two arguments or more.') end
  local level = ...
  if tonumber(level) == nil then return raise('First argument must be a number (log level).') end
  level = tonumber(level)
  if level < 0 or level > 3 then return raise('Invalid debug level.') end
  local parts = {}
  for i = 2, n do
    local v = select(i, ...)
    if type(v) == 'string' or type(v) == 'number' then parts[#parts + 1] = tostring(v) end
  end
  raw.log(level, concat(parts, ' '))
  return nil, false
end)
redis.log = log
redis.setresp = R(function(...)
  if select('#', ...) ~= 1 then return raise('redis.setresp() requires one argument.') end
  local v = tonumber((...))
  if v ~= 2 and v ~= 3 then return raise('RESP version must be 2 or 3.') end
  raw.setresp(v)
  return nil, false
end)
redis.set_repl = R(function(...)
  if select('#', ...) ~= 1 then return raise('redis.set_repl() requires two arguments.') end
  local f = tonumber((...)) or -1
  if f ~= 0 and f ~= 1 and f ~= 2 and f ~= 3 then
    return raise('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')
  end
  raw.set_repl(f)
  return nil, false
end)
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.acl_check_cmd = R(function(...) return raw.acl_check_cmd(...) end)
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = raw.version, raw.version_num

-- math.random with Redis's own generator.
local rand, srand = raw.rand, raw.srand
local math_t = G.math
math_t.random = R(function(...)
  local r = rand()
  local n = select('#', ...)
  if n == 0 then return r, false end
  if n == 1 then
    local u = tonumber((...))
    if u == nil then return where() .. "bad argument #1 to 'random' (number expected, got " .. type((...)) .. ")", true end
    u = trunc(u)
    if u < 1 then return where() .. "bad argument #1 to 'random' (interval is empty)", true end
    return floor(r * u) + 1, false
  end
  if n == 2 then
    local l, u = ...
    if tonumber(l) == nil then return where() .. "bad argument #1 to 'random' (number expected, got " .. type(l) .. ")", true end
    if tonumber(u) == nil then return where() .. "bad argument #2 to 'random' (number expected, got " .. type(u) .. ")", true end
    l, u = trunc(tonumber(l)), trunc(tonumber(u))
    if l > u then return where() .. "bad argument #2 to 'random' (interval is empty)", true end
    return floor(r * (u - l + 1)) + l, false
  end
  return 'wrong number of arguments', true
end)
math_t.randomseed = function(...)
  srand(trunc(tonumber((...)) or 0))
end

-- The sandbox.
local function readonly() error('Attempt to modify a readonly table', 2) end
local protected = setmetatable({}, {__mode = 'k'})
local function protect(t)
  local proxy = setmetatable({}, {__index = t, __newindex = readonly, __metatable = false})
  protected[proxy] = true
  return proxy
end
local function missing(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
setmetatable(redis, {__index = missing})

for _, name in ipairs({'dofile', 'loadfile', 'print', 'setfenv', 'getfenv', 'newproxy', 'module',
                       'require', 'package', 'io', 'os', 'debug', 'gcinfo_'}) do
  rawset(G, name, nil)
end
G.redis = protect(redis)
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct'}) do
  local t = rawget(G, name)
  if type(t) == 'table' then rawset(G, name, protect(t)) end
end
G.__redis__err__handler = handler
G.rawset = function(t, k, v)
  if protected[t] then error('Attempt to modify a readonly table', 0) end
  return rawset(t, k, v)
end
-- Redis's pcall hands back the message of an error table ({err = ...}) rather than the
-- table itself.
local real_pcall, unpack = pcall, unpack
local function pack(...) return select('#', ...), {...} end
G.pcall = function(...)
  local n, r = pack(real_pcall(...))
  if r[1] == false and type(r[2]) == 'table' and rawget(r[2], 'err') ~= nil then
    return false, rawget(r[2], 'err')
  end
  return unpack(r, 1, n)
end
local env = protect(G)
rawset(G, '_G', env)
setmetatable(G, {__index = missing, __newindex = readonly, __metatable = false})

-- Function libraries: the globals a library sees while it loads (only
-- redis.register_function, redis.log and the constants), switched to the full globals
-- once it has loaded.
local load_redis = {
  register_function = R(function(...)
    local err = raw.register_function(...)
    if err then return {err = err}, true end
    return nil, false
  end),
  log = log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = raw.version, REDIS_VERSION_NUM = raw.version_num,
}
setmetatable(load_redis, {__index = missing})
local load_api = setmetatable({redis = protect(load_redis)}, {__index = missing})
local function library_env()
  local mt = {__index = load_api, __newindex = readonly, __metatable = false}
  local e = setmetatable({}, mt)
  protected[e] = true
  return e, function() mt.__index = G end
end

return run, env, library_env
"#;

/// One Lua state with its sandbox.
pub(crate) struct Vm {
    pub lua: Lua,
    /// The real globals (KEYS/ARGV are set here).
    globals: Table,
    /// The environment user chunks are compiled with (a read-only proxy of the globals).
    pub env: Table,
    runner: Function,
    /// Makes a fresh environment for a function library (with its "loaded" switch).
    pub library_env: Function,
}

/// A cached EVAL script.
pub struct Script {
    /// The compiled script body.
    pub func: Function,
    /// The script source, as sent to EVAL / SCRIPT LOAD.
    pub body: Bytes,
    /// Its shebang flags ([`NO_WRITES`]…, or [`EVAL_COMPAT`] without a shebang).
    pub flags: u32,
}

/// The Lua states, the EVAL script cache and the function libraries.
pub struct Engine {
    pub(crate) eval: Vm,
    pub(crate) func: Vm,
    pub(crate) scripts: HashMap<String, Script>,
    scripts_bytes: usize,
    pub(crate) libraries: super::functions::Libraries,
}

/// What a running script reaches through `redis.call`.
pub struct CallCtx<'a, 'k> {
    /// The server state.
    pub shared: &'a Shared,
    /// The calling client's session (its database, protocol…).
    pub session: &'a mut Session,
    /// The shards the script holds (the whole keyspace, claimed for the script).
    pub locked: &'a mut Locked<'k>,
    /// `redis.setresp(3)` was called.
    pub resp3: bool,
    /// EVAL_RO / FCALL_RO, or a `no-writes` script: write commands are refused.
    pub read_only: bool,
    /// The `allow-oom` flag: writes are allowed over `maxmemory`.
    pub allow_oom: bool,
    /// The server was over `maxmemory` when the script started.
    pub oom_at_start: bool,
    /// The script called a write command.
    pub wrote: bool,
    /// `redis.set_repl(REPL_NONE)` turned propagation off for the commands that follow
    /// (one stream serves both AOF and replicas, so any other flag keeps it on).
    pub no_propagation: bool,
}

thread_local! {
    static CURRENT: Cell<*mut ()> = const { Cell::new(std::ptr::null_mut()) };
    /// Functions registered by the library being loaded.
    pub(crate) static LOADING: RefCell<Option<Vec<super::functions::Registered>>> =
        const { RefCell::new(None) };
}

/// Runs `f` with the current script's context, if a script is running on this thread.
fn with_ctx<R>(f: impl FnOnce(&mut CallCtx<'_, '_>) -> R) -> Option<R> {
    let p = CURRENT.with(|c| c.get());
    if p.is_null() {
        return None;
    }
    // SAFETY: `run` stores a pointer to a live `CallCtx` for exactly the duration of the Lua
    // call on this thread, and clears it (in a guard) before the context goes away; Lua
    // callbacks run synchronously inside that call, and never re-enter one another.
    let ctx = unsafe { &mut *(p as *mut CallCtx<'_, '_>) };
    Some(f(ctx))
}

/// Clears the thread-local context pointer when dropped.
struct CtxGuard;
impl Drop for CtxGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(std::ptr::null_mut()));
    }
}

/// Redis's version as scripts see it.
pub const VERSION: &str = "7.0.15";
/// [`VERSION`] as `0x00MMmmpp` (REDIS_VERSION_NUM).
pub const VERSION_NUM: i64 = 0x07_00_0f;

impl Engine {
    /// The two Lua states (EVAL and functions) with their sandboxes, reporting to `gate`.
    pub fn new(gate: std::sync::Arc<Gate>) -> mlua::Result<Self> {
        Ok(Engine {
            eval: new_vm(gate.clone(), false)?,
            func: new_vm(gate, true)?,
            scripts: HashMap::new(),
            scripts_bytes: 0,
            libraries: Default::default(),
        })
    }

    /// Updates the INFO figures.
    pub fn refresh_stats(&self, stats: &Stats) {
        use std::sync::atomic::Ordering::Relaxed;
        stats
            .vm_eval
            .store(self.eval.lua.used_memory() as u64, Relaxed);
        stats
            .vm_functions
            .store(self.func.lua.used_memory() as u64, Relaxed);
        stats
            .cached_scripts
            .store(self.scripts.len() as u64, Relaxed);
        // Redis counts each cached script's dict entry and body (sds + robj overhead).
        let overhead = self.scripts.len() * (40 + 16 + 48);
        stats
            .scripts_eval
            .store((self.scripts_bytes + overhead) as u64, Relaxed);
        let (functions, libs, mem) = self.libraries.figures();
        stats.functions.store(functions as u64, Relaxed);
        stats.libraries.store(libs as u64, Relaxed);
        stats.functions_mem.store(mem as u64, Relaxed);
    }

    /// The cached script `sha` (lowercase hex).
    pub fn script(&self, sha: &str) -> Option<&Script> {
        self.scripts.get(sha)
    }

    /// Compiles and caches `body` (SCRIPT LOAD, or EVAL of an unknown script); returns its
    /// sha. Errors are complete reply texts.
    pub fn load_script(&mut self, body: &Bytes) -> Result<String, String> {
        let sha = sha1_hex(body);
        if self.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, skip) = parse_shebang(body)?;
        let code = &body[skip..];
        let func = self
            .eval
            .lua
            .load(code)
            .set_name("@user_script")
            .set_environment(self.eval.env.clone())
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling script (new function): {}",
                    lua_error_text(&e)
                )
            })?;
        self.scripts_bytes += body.len();
        self.scripts.insert(
            sha.clone(),
            Script {
                func,
                body: body.clone(),
                flags,
            },
        );
        Ok(sha)
    }

    /// SCRIPT FLUSH: forgets every script and starts a fresh Lua state, as Redis does.
    pub fn flush_scripts(&mut self, gate: std::sync::Arc<Gate>) {
        self.scripts.clear();
        self.scripts_bytes = 0;
        if let Ok(vm) = new_vm(gate, false) {
            self.eval = vm;
        }
    }

    /// Runs a compiled function as a script: `name` is what errors report (the sha, or the
    /// function's name); `keys_args` is `None` for EVAL (KEYS and ARGV are globals) and the
    /// two tables' contents for FCALL.
    pub fn run(
        &self,
        functions: bool,
        func: &Function,
        name: &str,
        keys: &[Bytes],
        args: &[Bytes],
        ctx: &mut CallCtx<'_, '_>,
    ) -> Reply {
        let vm = if functions { &self.func } else { &self.eval };
        let lua = &vm.lua;
        let result = (|| -> mlua::Result<(bool, Value)> {
            let k = bytes_table(lua, keys)?;
            let a = bytes_table(lua, args)?;
            CURRENT.with(|c| c.set(ctx as *mut CallCtx<'_, '_> as *mut ()));
            let _guard = CtxGuard;
            if functions {
                vm.runner.call::<(bool, Value)>((func, k, a))
            } else {
                vm.globals.raw_set("KEYS", k)?;
                vm.globals.raw_set("ARGV", a)?;
                vm.runner.call::<(bool, Value)>(func)
            }
        })();
        let resp3 = ctx.resp3;
        let reply = match result {
            Ok((true, v)) => lua_to_reply(&v, resp3),
            Ok((false, v)) => error_reply_from(&v, name),
            Err(e) => Reply::Error(
                format!(
                    "ERR Error running script {name}, {:.100}",
                    lua_error_text(&e)
                )
                .into(),
            ),
        };
        if !functions {
            let _ = vm.globals.raw_set("KEYS", Value::Nil);
            let _ = vm.globals.raw_set("ARGV", Value::Nil);
        }
        reply
    }
}

/// The reply for a failed script: Redis's `-<err> script: <name>, on <source>:<line>.`
fn error_reply_from(v: &Value, name: &str) -> Reply {
    let Value::Table(t) = v else {
        return Reply::Error(format!("ERR Error running script {name}, execution failure").into());
    };
    let msg = match t.raw_get::<Value>("err") {
        Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        _ => "ERR unknown error".to_string(),
    };
    let source = t
        .raw_get::<Option<mlua::LuaString>>("source")
        .ok()
        .flatten();
    let line = t.raw_get::<Option<i64>>("line").ok().flatten();
    match (source, line) {
        (Some(s), Some(l)) if l >= 0 => Reply::Error(
            format!(
                "{msg} script: {name}, on {}:{l}.",
                String::from_utf8_lossy(&s.as_bytes())
            )
            .into(),
        ),
        _ => Reply::Error(msg.into()),
    }
}

/// The message of a Lua error without mlua's decorations (tracebacks, wrappers).
pub fn lua_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::RuntimeError(m) => m.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_error_text(cause),
        mlua::Error::WithContext { cause, .. } => lua_error_text(cause),
        other => other.to_string(),
    }
}

fn bytes_table(lua: &Lua, items: &[Bytes]) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(items.len(), 0)?;
    for (i, b) in items.iter().enumerate() {
        t.raw_set(i + 1, lua.create_string(b)?)?;
    }
    Ok(t)
}

/// Builds one sandboxed Lua state. `functions`: the state for function libraries.
fn new_vm(gate: std::sync::Arc<Gate>, functions: bool) -> mlua::Result<Vm> {
    // SAFETY: the debug library is loaded only for the error handler, which captures it in
    // a local before the prelude removes it from the globals.
    let lua = unsafe {
        Lua::unsafe_new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
            LuaOptions::default(),
        )
    };
    super::lib::register_all(&lua)?;
    let raw = lua.create_table()?;
    raw.set(
        "call",
        lua.create_function(|lua, args: Variadic<Value>| {
            let mut it = args.into_iter();
            let raise = matches!(it.next(), Some(Value::Boolean(true)));
            let rest: Vec<Value> = it.collect();
            let r = redis_call(lua, &rest)?;
            Ok(match r {
                Ok(v) => (v, false),
                Err(t) => (Value::Table(t), raise),
            })
        })?,
    )?;
    raw.set(
        "acl_check_cmd",
        lua.create_function(|lua, args: Variadic<Value>| {
            let Some(Value::String(name)) = args.first() else {
                let t = err_table(
                    lua,
                    "ERR Please specify at least one argument for this redis lib call",
                )?;
                return Ok((Value::Table(t), true));
            };
            if commands::lookup(&name.as_bytes()).is_none() {
                let t = err_table(lua, "ERR Invalid command passed to redis.acl_check_cmd()")?;
                return Ok((Value::Table(t), true));
            }
            Ok((Value::Boolean(true), false))
        })?,
    )?;
    raw.set(
        "sha1hex",
        lua.create_function(|_, s: mlua::LuaString| Ok(sha1_hex(&s.as_bytes())))?,
    )?;
    raw.set(
        "log",
        lua.create_function(|_, (level, msg): (i64, mlua::LuaString)| {
            let msg = String::from_utf8_lossy(&msg.as_bytes()).into_owned();
            match level {
                0 => tracing::debug!("{msg}"),
                1 | 2 => tracing::info!("{msg}"),
                _ => tracing::warn!("{msg}"),
            }
            Ok(())
        })?,
    )?;
    raw.set(
        "setresp",
        lua.create_function(|_, v: i64| {
            with_ctx(|c| c.resp3 = v == 3);
            Ok(())
        })?,
    )?;
    raw.set(
        "set_repl",
        lua.create_function(|_, v: i64| {
            with_ctx(|c| c.no_propagation = v == 0);
            Ok(())
        })?,
    )?;
    raw.set(
        "rand",
        lua.create_function(|_, ()| {
            let mut s = super::Scripting::rng().lock();
            let r = super::lrand48(&mut s) % 0x7fff_ffff;
            Ok(f64::from(r) / f64::from(0x7fff_ffffu32))
        })?,
    )?;
    raw.set(
        "srand",
        lua.create_function(|_, seed: f64| {
            let mut s = super::Scripting::rng().lock();
            super::srand48(&mut s, seed as i32);
            Ok(())
        })?,
    )?;
    {
        let gate = gate.clone();
        raw.set(
            "killed",
            lua.create_function(move |_, ()| Ok(gate.check().map(|_| super::KILLED)))?,
        )?;
    }
    raw.set(
        "errtext",
        lua.create_function(|_, v: Value| {
            Ok(match v {
                Value::Error(e) => lua_error_text(&e),
                other => format!("{other:?}"),
            })
        })?,
    )?;
    raw.set(
        "register_function",
        lua.create_function(|lua, args: Variadic<Value>| {
            Ok(super::functions::register(lua, &args).err())
        })?,
    )?;
    raw.set(
        "raiser",
        lua.create_function(|lua, imp: Function| {
            // SAFETY: pushes one C closure over the single argument (the implementation),
            // which `exec_raw` placed on the stack.
            unsafe {
                lua.exec_raw::<Function>(imp, |state| {
                    mlua::ffi::lua_pushcclosure(state, c_raiser, 1);
                })
            }
        })?,
    )?;
    raw.set("version", VERSION)?;
    raw.set("version_num", VERSION_NUM)?;

    let globals = lua.globals();
    let (runner, env, library_env): (Function, Table, Function) = lua
        .load(PRELUDE)
        .set_name("=api")
        .call((raw, globals.clone(), functions))?;
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(super::HOOK_EVERY),
        move |_, _| match gate.check() {
            None => Ok(VmState::Continue),
            Some(m) => Err(mlua::Error::RuntimeError(m.to_string())),
        },
    )?;
    Ok(Vm {
        lua,
        globals,
        env,
        runner,
        library_env,
    })
}

/// The C closure behind the `redis` functions that raise: calls its upvalue (a Lua
/// implementation returning `(value, raise)`) with the same arguments and either returns
/// `value` or raises it. Being a C function, it keeps the calling Lua frame on the stack
/// (a Lua wrapper called in tail position would erase it), so the error handler finds the
/// user's line as in Redis, whose API functions are C functions.
unsafe extern "C-unwind" fn c_raiser(l: *mut mlua::ffi::lua_State) -> std::os::raw::c_int {
    use mlua::ffi;
    let n = ffi::lua_gettop(l);
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    ffi::lua_insert(l, 1);
    ffi::lua_call(l, n, 2);
    let raise = ffi::lua_toboolean(l, -1) != 0;
    ffi::lua_settop(l, -2);
    if raise {
        ffi::lua_error(l);
    }
    1
}

/// A fresh state for function libraries (FUNCTION FLUSH).
pub(crate) fn new_functions_vm(gate: std::sync::Arc<Gate>) -> mlua::Result<Vm> {
    new_vm(gate, true)
}

/// `{err = text}` as a Lua table.
fn err_table(lua: &Lua, text: &str) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("err", text)?;
    Ok(t)
}

/// Redis's `luaPushErrorBuff`: `-CODE msg` keeps its code, anything else gets `ERR`.
fn push_error(lua: &Lua, e: &str) -> mlua::Result<Table> {
    let (code, msg) = match e.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((c, m)) => (c, m),
            None => ("ERR", rest),
        },
        None => ("ERR", e),
    };
    let msg = msg.trim_matches(|c| c == '\r' || c == '\n');
    err_table(lua, &format!("{code} {msg}"))
}

/// The body of `redis.call` / `redis.pcall`: the checks Redis's `scriptCall` makes, then
/// the command through `commands::run`. `Err(table)` is an error table (raised by
/// `redis.call`, returned by `redis.pcall`).
fn redis_call(lua: &Lua, args: &[Value]) -> mlua::Result<Result<Value, Table>> {
    if args.is_empty() {
        return Ok(Err(push_error(
            lua,
            "Please specify at least one argument for this redis lib call",
        )?));
    }
    let mut argv = Vec::with_capacity(args.len());
    for a in args {
        match a {
            Value::String(s) => argv.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(i) => argv.push(Bytes::from(i.to_string())),
            Value::Number(n) => argv.push(Bytes::from(lua_number_text(*n))),
            _ => {
                return Ok(Err(push_error(
                    lua,
                    "Lua redis lib command arguments must be strings or integers",
                )?))
            }
        }
    }
    let outcome = with_ctx(|ctx| call_command(ctx, argv));
    match outcome {
        None => Ok(Err(push_error(
            lua,
            "redis.call can only be called inside a script invocation",
        )?)),
        Some(Err(e)) => Ok(Err(push_error(lua, e)?)),
        Some(Ok((reply, resp3))) => {
            if let Reply::Error(e) = &reply {
                return Ok(Err(push_error(lua, &format!("-{e}"))?));
            }
            Ok(Ok(reply_to_lua(lua, &reply, resp3)?))
        }
    }
}

/// Finds, checks and runs one command for a script.
fn call_command(
    ctx: &mut CallCtx<'_, '_>,
    argv: Vec<Bytes>,
) -> Result<(Reply, bool), &'static str> {
    let spec = script_lookup(&argv)?;
    if spec.has(table::NOSCRIPT) {
        return Err("This Redis command is not allowed from script");
    }
    if ctx.read_only && spec.has(table::WRITE | table::MAY_REPLICATE) {
        return Err("Write commands are not allowed from read-only scripts.");
    }
    if !ctx.allow_oom
        && !ctx.wrote
        && ctx.oom_at_start
        && spec.has(table::DENYOOM)
        && ctx
            .shared
            .memory
            .maxmemory
            .load(std::sync::atomic::Ordering::Relaxed)
            != 0
    {
        return Err("-OOM command not allowed when used memory > 'maxmemory'.");
    }
    if spec.has(table::WRITE) {
        ctx.wrote = true;
        ctx.shared.scripting.set_wrote();
    }
    let saved = ctx.session.resp3;
    ctx.session.resp3 = ctx.resp3;
    let mark = ctx.locked.propagated_len();
    let reply = commands::run(ctx.shared, ctx.session, spec, argv, ctx.locked);
    if ctx.no_propagation {
        ctx.locked.truncate_propagated(mark);
    }
    ctx.session.resp3 = saved;
    Ok((reply, ctx.resp3))
}

/// `lookupCommand` + `scriptVerifyCommandArity`, with the texts scripts get.
fn script_lookup(argv: &[Bytes]) -> Result<&'static CommandSpec, &'static str> {
    const UNKNOWN: &str = "Unknown Redis command called from script";
    let cmd = commands::lookup(&argv[0]).ok_or(UNKNOWN)?;
    let spec = if !cmd.subcommands.is_empty() && argv.len() >= 2 {
        commands::lookup_sub(cmd, &argv[1]).ok_or(UNKNOWN)?
    } else {
        cmd
    };
    if !spec.arity_ok(argv.len()) || spec.handler.is_none() {
        return Err("Wrong number of args calling Redis command from script");
    }
    Ok(spec)
}

/// A Lua number as `lua_tostring` prints it (`%.14g`).
pub fn lua_number_text(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf" } else { "inf" }.into();
    }
    if n == 0.0 {
        return if n.is_sign_negative() { "-0" } else { "0" }.into();
    }
    const P: i32 = 14;
    let sci = format!("{:.*e}", (P - 1) as usize, n);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..P).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", trim(mant), sign, exp.abs())
    } else {
        trim(&format!("{:.*}", (P - 1 - exp).max(0) as usize, n))
    }
}

/// A command's reply as a Lua value, read as a client of RESP `resp3` would (Redis's
/// `redisProtocolToLuaType`).
pub fn reply_to_lua(lua: &Lua, reply: &Reply, resp3: bool) -> mlua::Result<Value> {
    let s = |b: &[u8]| -> mlua::Result<Value> { Ok(Value::String(lua.create_string(b)?)) };
    let single = |k: &str, v: Value| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        t.raw_set(k, v)?;
        Ok(Value::Table(t))
    };
    let array = |items: &mut dyn Iterator<Item = &Reply>| -> mlua::Result<Value> {
        let t = lua.create_table()?;
        for (i, r) in items.enumerate() {
            t.raw_set(i + 1, reply_to_lua(lua, r, resp3)?)?;
        }
        Ok(Value::Table(t))
    };
    match reply {
        Reply::Ok => single("ok", s(b"OK")?),
        Reply::Status(st) => single("ok", s(st.as_bytes())?),
        Reply::Error(e) => single("err", s(e.as_bytes())?),
        Reply::Int(n) => Ok(Value::Number(*n as f64)),
        Reply::Bulk(b) => s(b),
        Reply::Nil | Reply::NilArray => Ok(if resp3 {
            Value::Nil
        } else {
            Value::Boolean(false)
        }),
        Reply::Array(items) | Reply::Push(items) | Reply::Multi(items) => array(&mut items.iter()),
        Reply::Map(pairs) => {
            if resp3 {
                let t = lua.create_table()?;
                for (k, v) in pairs {
                    t.raw_set(reply_to_lua(lua, k, resp3)?, reply_to_lua(lua, v, resp3)?)?;
                }
                single("map", Value::Table(t))
            } else {
                array(&mut pairs.iter().flat_map(|(k, v)| [k, v]))
            }
        }
        Reply::Set(items) => {
            if resp3 {
                let t = lua.create_table()?;
                for k in items {
                    t.raw_set(reply_to_lua(lua, k, resp3)?, true)?;
                }
                single("set", Value::Table(t))
            } else {
                array(&mut items.iter())
            }
        }
        Reply::Double(_) | Reply::HumanDouble(_) => {
            let mut buf = bytes::BytesMut::new();
            reply.encode(&mut buf, resp3);
            // `,text\r\n` in RESP3, `$n\r\ntext\r\n` in RESP2.
            let text = strip_frame(&buf);
            if resp3 {
                let d = crate::protocol::number::parse_f64(text).unwrap_or(0.0);
                single("double", Value::Number(d))
            } else {
                s(text)
            }
        }
        Reply::Bool(b) => Ok(if resp3 {
            Value::Boolean(*b)
        } else {
            Value::Number(if *b { 1.0 } else { 0.0 })
        }),
        Reply::Verbatim(fmt, data) => {
            if resp3 {
                let t = lua.create_table()?;
                t.raw_set("format", *fmt)?;
                t.raw_set("string", lua.create_string(data)?)?;
                single("verbatim_string", Value::Table(t))
            } else {
                s(data)
            }
        }
        Reply::BigNumber(d) => {
            if resp3 {
                single("big_number", s(d)?)
            } else {
                s(d)
            }
        }
    }
}

/// The payload of a one-line or bulk frame.
fn strip_frame(frame: &[u8]) -> &[u8] {
    let body = frame.strip_suffix(b"\r\n").unwrap_or(frame);
    if body.first() == Some(&b'$') {
        match body.iter().position(|&c| c == b'\n') {
            Some(i) => &body[i + 1..],
            None => body,
        }
    } else {
        body.get(1..).unwrap_or_default()
    }
}

/// A script's return value as a reply (Redis's `luaReplyToRedisReply`); `resp3`: the
/// script called `redis.setresp(3)` (booleans then stay booleans).
pub fn lua_to_reply(v: &Value, resp3: bool) -> Reply {
    match v {
        Value::Nil => Reply::Nil,
        Value::Boolean(b) => {
            if resp3 {
                Reply::Bool(*b)
            } else if *b {
                Reply::Int(1)
            } else {
                Reply::Nil
            }
        }
        Value::Integer(i) => Reply::Int(*i),
        Value::Number(n) => Reply::Int(*n as i64),
        Value::String(s) => Reply::Bulk(Bytes::copy_from_slice(&s.as_bytes())),
        Value::Table(t) => table_to_reply(t, resp3),
        _ => Reply::Nil,
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(String::from_utf8_lossy(&s.as_bytes()).into_owned()),
        _ => None,
    }
}

fn table_to_reply(t: &Table, resp3: bool) -> Reply {
    let field = |k: &str| t.raw_get::<Value>(k).unwrap_or(Value::Nil);
    if let Some(e) = text_of(&field("err")) {
        return Reply::Error(e.into());
    }
    if let Some(ok) = text_of(&field("ok")) {
        return Reply::Status(ok.replace(['\r', '\n'], " ").into());
    }
    match field("double") {
        Value::Number(n) => return Reply::Double(n),
        Value::Integer(i) => return Reply::Double(i as f64),
        _ => {}
    }
    if let Value::String(s) = field("big_number") {
        let digits: Vec<u8> = s
            .as_bytes()
            .iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect();
        return Reply::BigNumber(Bytes::from(digits));
    }
    if let Value::Table(v) = field("verbatim_string") {
        if let (Ok(Value::String(f)), Ok(Value::String(s))) =
            (v.raw_get::<Value>("format"), v.raw_get::<Value>("string"))
        {
            return Reply::Verbatim(
                verbatim_format(&f.as_bytes()),
                Bytes::copy_from_slice(&s.as_bytes()),
            );
        }
    }
    if let Value::Table(m) = field("map") {
        let mut pairs = Vec::new();
        for (k, v) in m.pairs::<Value, Value>().flatten() {
            pairs.push((lua_to_reply(&k, resp3), lua_to_reply(&v, resp3)));
        }
        return Reply::Map(pairs);
    }
    if let Value::Table(m) = field("set") {
        let mut items = Vec::new();
        for (k, _) in m.pairs::<Value, Value>().flatten() {
            items.push(lua_to_reply(&k, resp3));
        }
        return Reply::Set(items);
    }
    let mut items = Vec::new();
    let mut i = 1;
    loop {
        match t.raw_get::<Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(lua_to_reply(&v, resp3)),
        }
        i += 1;
    }
    Reply::Array(items)
}

/// A verbatim string's three-letter format as a `'static` str (the few formats in use are
/// interned once).
fn verbatim_format(f: &[u8]) -> &'static str {
    match f {
        b"txt" => "txt",
        b"mkd" => "mkd",
        other => {
            static SEEN: parking_lot::Mutex<Vec<&'static str>> =
                parking_lot::Mutex::new(Vec::new());
            let text: String = String::from_utf8_lossy(other).chars().take(3).collect();
            let mut seen = SEEN.lock();
            if let Some(s) = seen.iter().find(|s| **s == text) {
                return s;
            }
            if seen.len() >= 64 {
                return "txt";
            }
            let leaked: &'static str = Box::leak(text.into_boxed_str());
            seen.push(leaked);
            leaked
        }
    }
}

/// SHA-1 of `data` in lowercase hex.
pub fn sha1_hex(data: &[u8]) -> String {
    sha1_smol::Sha1::from(data).digest().to_string()
}

/// Parses a `#!lua flags=…` first line: the script flags and how many bytes the shebang
/// takes (the code compiled starts at its newline, so line numbers stay right). No shebang:
/// [`EVAL_COMPAT`].
pub fn parse_shebang(body: &[u8]) -> Result<(u32, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&c| c == b'\n') else {
        return Err("ERR Invalid script shebang".into());
    };
    let line = String::from_utf8_lossy(&body[..end]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    if engine != "#!lua" {
        return Err(format!("ERR Unexpected engine in script shebang: {engine}"));
    }
    let mut flags = 0;
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {part}"));
        };
        for f in list.split(',').filter(|f| !f.is_empty()) {
            match FLAG_NAMES.iter().find(|(n, _)| *n == f) {
                Some((_, bit)) => flags |= bit,
                None => return Err(format!("ERR Unexpected flag in script shebang: {f}")),
            }
        }
    }
    Ok((flags, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(parse_shebang(b"return 1").unwrap(), (EVAL_COMPAT, 0));
        assert_eq!(parse_shebang(b"#!lua\nreturn 1").unwrap(), (0, 5));
        assert_eq!(
            parse_shebang(b"#!lua flags=no-writes,allow-oom\nx").unwrap(),
            (NO_WRITES | ALLOW_OOM, 31)
        );
        assert_eq!(
            parse_shebang(b"#!lua flags=foo\n").unwrap_err(),
            "ERR Unexpected flag in script shebang: foo"
        );
        assert_eq!(
            parse_shebang(b"#!luax\n").unwrap_err(),
            "ERR Unexpected engine in script shebang: #!luax"
        );
        assert_eq!(
            parse_shebang(b"#!lua bar=1\n").unwrap_err(),
            "ERR Unknown lua shebang option: bar=1"
        );
        assert_eq!(
            parse_shebang(b"#!lua").unwrap_err(),
            "ERR Invalid script shebang"
        );
    }

    #[test]
    fn lua_numbers_print_like_lua() {
        assert_eq!(lua_number_text(1.5), "1.5");
        assert_eq!(lua_number_text(0.1), "0.1");
        assert_eq!(lua_number_text(1e20), "1e+20");
        assert_eq!(lua_number_text(123456789012345.0), "1.2345678901234e+14");
        assert_eq!(lua_number_text(-2.25), "-2.25");
        assert_eq!(lua_number_text(1e-5), "1e-05");
    }

    #[test]
    fn conversions_both_ways() {
        let lua = Lua::new();
        let v = reply_to_lua(
            &lua,
            &Reply::Array(vec![Reply::Int(1), Reply::Nil, Reply::bulk("x")]),
            false,
        )
        .unwrap();
        // Tables are cut at the first nil (false is not nil).
        assert_eq!(
            lua_to_reply(&v, false),
            Reply::Array(vec![Reply::Int(1), Reply::Nil, Reply::bulk("x")])
        );
        let m = reply_to_lua(
            &lua,
            &Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1))]),
            true,
        )
        .unwrap();
        assert_eq!(
            lua_to_reply(&m, true),
            Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1))])
        );
        let d = reply_to_lua(&lua, &Reply::Double(1.5), false).unwrap();
        assert_eq!(lua_to_reply(&d, false), Reply::bulk("1.5"));
        let d = reply_to_lua(&lua, &Reply::Double(1.5), true).unwrap();
        assert_eq!(lua_to_reply(&d, true), Reply::Double(1.5));
        assert_eq!(lua_to_reply(&Value::Number(3.99), false), Reply::Int(3));
        assert_eq!(lua_to_reply(&Value::Boolean(true), false), Reply::Int(1));
        assert_eq!(lua_to_reply(&Value::Boolean(true), true), Reply::Bool(true));
        assert_eq!(lua_to_reply(&Value::Boolean(false), false), Reply::Nil);
        let st = reply_to_lua(&lua, &Reply::Ok, false).unwrap();
        assert_eq!(lua_to_reply(&st, false), Reply::Status("OK".into()));
    }

    #[test]
    fn sha1_of_empty() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    }
}
