//! The Lua libraries Redis 7.0 preloads for scripts: `cjson`, `cmsgpack`, `bit` and `struct`,
//! written in Rust on top of mlua (Lua 5.1) to behave like the C libraries Redis 7.0.15
//! embeds (lua-cjson 2.1.0 with Redis's patches, lua-cmsgpack 0.4.0, LuaBitOp 1.0.2 and
//! lua-struct 0.9.2): same results, same byte output, same error texts.
//!
//! [`register_all`] installs the four tables as globals; the scripting core calls it on a
//! fresh state before it locks the globals read-only.
//!
//! # How errors reach scripts
//! The C libraries raise Lua *string* errors (`luaL_error`, `luaL_argerror`), so a script's
//! `pcall(cjson.decode, s)` gets a string back, prefixed with the caller's position
//! (`user_script:1: `) when the caller is a Lua function, and `bad argument #1 to 'decode'`
//! names the function as the *caller* spelled it. An mlua callback that fails raises a
//! userdata instead, and a Lua wrapper would lose names and positions on tail calls. So
//! every library function is a small C closure (`trampoline`) around the Rust
//! implementation: the implementation never raises for script-level errors, it returns
//! `false, message[, argument]`, and the trampoline — a frame holding no Rust values —
//! raises the error with Lua's own `luaL_where`/`luaL_argerror`, exactly as the C library
//! would from the same stack position. Functions that may return thousands of values
//! (`cmsgpack.unpack*`, `struct.unpack`) hand them over in a table the trampoline spreads.
//!
//! # Stack limits
//! The C libraries hit Lua 5.1's 8000-slot C stack limit on very many results or very deep
//! nesting; the Rust code counts the slots the C code would use and fails at the same sizes
//! with the same "stack overflow (...)" texts. Deep recursion runs on growable stack
//! segments (`stacker`), so nesting never overflows a thread's stack.
//!
//! # Deliberate differences
//! - cjson with `encode_max_depth`/`decode_max_depth` raised near 4000+: the nesting error
//!   comes a few levels earlier (mlua's handle stack), see `cjson`.
//! - `struct.unpack` with an offset that wraps around reports "data string too short"
//!   where the C bounds check would wrap and read outside the string.
//! - Redis also makes these tables read-only; that belongs to the scripting core, which
//!   locks the globals after `register_all`.
//!
//! # Tests
//! `testdata/*.txt` hold about 1800 snippets with the results Redis 7.0.15 gave for them
//! (hand-written edge cases per library, msgpackr payloads as BullMQ sends them, and
//! random cases); each module replays its file. The ignored `diff::run_cases` test runs a
//! snippet file through the same wrapper so new cases can be compared with a live Redis.

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

use mlua::{ffi, Function, Lua, MultiValue, Table, Value};
use std::os::raw::c_int;

/// Installs the globals `cjson`, `cmsgpack`, `bit` and `struct` (tables of functions, as
/// Redis registers them) into `lua`'s global table.
pub fn register_all(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    globals.raw_set("cjson", cjson::module(lua)?)?;
    globals.raw_set("cmsgpack", cmsgpack::module(lua)?)?;
    globals.raw_set("bit", bit::module(lua)?)?;
    globals.raw_set("struct", structlib::module(lua)?)?;
    Ok(())
}

/// Why a library function failed.
#[derive(Debug)]
pub(crate) enum Fail {
    /// `luaL_error(msg)`: the message, prefixed with the caller's position.
    Msg(Vec<u8>),
    /// `luaL_argerror(narg, msg)`: "bad argument #narg to 'name' (msg)".
    Arg(i32, Vec<u8>),
    /// `lua_error(msg)` as the Lua core raises it from a C function: no position prefix
    /// (e.g. "table index is nil").
    Raw(Vec<u8>),
    /// An error of the Lua state itself (memory, stack): raised as mlua raises it.
    Lua(mlua::Error),
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Self {
        Fail::Lua(e)
    }
}

pub(crate) type LibResult<T> = Result<T, Fail>;

/// `luaL_error`.
pub(crate) fn err<T>(msg: impl Into<Vec<u8>>) -> LibResult<T> {
    Err(Fail::Msg(msg.into()))
}

/// `luaL_argerror`.
pub(crate) fn arg_err<T>(narg: usize, msg: impl Into<Vec<u8>>) -> LibResult<T> {
    Err(Fail::Arg(narg as i32, msg.into()))
}

/// The arguments of one call, with lauxlib's checks (`luaL_checknumber` & co).
pub(crate) struct Args<'a> {
    pub lua: &'a Lua,
    pub vals: Vec<Value>,
}

/// `luaL_typename`: the type name used in "X expected, got Y".
pub(crate) fn type_name(v: Option<&Value>) -> &'static str {
    match v {
        None => "no value",
        Some(Value::Nil) => "nil",
        Some(Value::Boolean(_)) => "boolean",
        Some(Value::LightUserData(_)) | Some(Value::UserData(_)) => "userdata",
        Some(Value::Integer(_)) | Some(Value::Number(_)) => "number",
        Some(Value::String(_)) => "string",
        Some(Value::Table(_)) => "table",
        Some(Value::Function(_)) => "function",
        Some(Value::Thread(_)) => "thread",
        Some(_) => "userdata",
    }
}

/// Lua 5.1's `lua_Number` to `lua_Integer` cast on x86-64 (`cvttsd2si`): truncation, and
/// the "integer indefinite" value for NaN and out-of-range numbers.
pub(crate) fn number_to_integer(n: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&n) {
        n as i64
    } else {
        i64::MIN
    }
}

/// The same cast to a C `int` (`cvttsd2si` 32-bit form).
pub(crate) fn number_to_int(n: f64) -> i32 {
    if n > -2_147_483_649.0 && n < 2_147_483_648.0 {
        n as i32
    } else {
        i32::MIN
    }
}

impl<'a> Args<'a> {
    pub fn new(lua: &'a Lua, args: MultiValue) -> Self {
        Args {
            lua,
            vals: args.into_vec(),
        }
    }

    /// Number of arguments (`lua_gettop`).
    pub fn len(&self) -> usize {
        self.vals.len()
    }

    /// Argument `i` (1-based); `None` when absent ("none").
    pub fn get(&self, i: usize) -> Option<&Value> {
        self.vals.get(i.wrapping_sub(1))
    }

    pub fn is_none_or_nil(&self, i: usize) -> bool {
        matches!(self.get(i), None | Some(Value::Nil))
    }

    /// `lua_tonumber`: `None` when the value is not a number nor a numeric string.
    pub fn to_number(&self, i: usize) -> LibResult<Option<f64>> {
        to_number(self.lua, self.get(i))
    }

    fn type_error<T>(&self, i: usize, expected: &str) -> LibResult<T> {
        arg_err(
            i,
            format!("{expected} expected, got {}", type_name(self.get(i))),
        )
    }

    /// `luaL_checknumber`.
    pub fn check_number(&self, i: usize) -> LibResult<f64> {
        match self.to_number(i)? {
            Some(n) => Ok(n),
            None => self.type_error(i, "number"),
        }
    }

    /// `luaL_checkinteger` (Lua 5.1: the number truncated as C does).
    pub fn check_integer(&self, i: usize) -> LibResult<i64> {
        self.check_number(i).map(number_to_integer)
    }

    /// `luaL_optinteger`.
    pub fn opt_integer(&self, i: usize, default: i64) -> LibResult<i64> {
        if self.is_none_or_nil(i) {
            Ok(default)
        } else {
            self.check_integer(i)
        }
    }

    /// `luaL_checklstring`: strings, and numbers converted as Lua converts them.
    pub fn check_bytes(&self, i: usize) -> LibResult<Vec<u8>> {
        match self.get(i) {
            Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
            Some(v @ (Value::Integer(_) | Value::Number(_))) => {
                match self.lua.coerce_string(v.clone())? {
                    Some(s) => Ok(s.as_bytes().to_vec()),
                    None => self.type_error(i, "string"),
                }
            }
            _ => self.type_error(i, "string"),
        }
    }
}

/// `lua_tonumber` on an optional value (numbers, and strings Lua can convert).
pub(crate) fn to_number(lua: &Lua, v: Option<&Value>) -> LibResult<Option<f64>> {
    Ok(match v {
        Some(Value::Integer(i)) => Some(*i as f64),
        Some(Value::Number(n)) => Some(*n),
        Some(v @ Value::String(_)) => lua.coerce_number(v.clone())?,
        _ => None,
    })
}

/// Above this many results, a body's values travel to the trampoline in a table.
const MANY_RESULTS: usize = 32;

/// What a library function's Rust body returns.
pub(crate) enum Ret {
    /// A few values, returned as they are.
    Values(MultiValue),
    /// `n` values stored at `1..=n` in a table: for results that may number in the
    /// thousands, which would otherwise each hold an mlua handle at once.
    Spread(usize, Table),
}

impl From<MultiValue> for Ret {
    fn from(v: MultiValue) -> Self {
        Ret::Values(v)
    }
}

/// Collects results into a table ([`Ret::Spread`]) as they are produced.
pub(crate) struct Results {
    table: Table,
    len: usize,
}

impl Results {
    pub fn new(lua: &Lua) -> mlua::Result<Self> {
        Ok(Results {
            table: lua.create_table()?,
            len: 0,
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn push(&mut self, v: Value) -> mlua::Result<()> {
        self.len += 1;
        self.table.raw_set(self.len as i64, v)
    }

    /// The last value pushed.
    pub fn last(&self) -> mlua::Result<Option<Value>> {
        if self.len == 0 {
            return Ok(None);
        }
        self.table.raw_get(self.len as i64).map(Some)
    }

    /// Removes the last value.
    pub fn pop(&mut self) -> mlua::Result<()> {
        if self.len > 0 {
            self.table.raw_set(self.len as i64, Value::Nil)?;
            self.len -= 1;
        }
        Ok(())
    }

    /// Sets value `i` (1-based, at most `len`).
    pub fn set(&self, i: usize, v: Value) -> mlua::Result<()> {
        self.table.raw_set(i as i64, v)
    }

    pub fn done(self) -> Ret {
        Ret::Spread(self.len, self.table)
    }
}

/// Wraps a Rust body as a Lua function that raises errors as the C libraries do (see the
/// module docs).
pub(crate) fn lib_function<R: Into<Ret>>(
    lua: &Lua,
    body: impl Fn(&Lua, Args<'_>) -> LibResult<R> + Send + 'static,
) -> mlua::Result<Function> {
    let inner = lua.create_function(move |lua, args: MultiValue| {
        let mut out = match body(lua, Args::new(lua, args)).map(Into::into) {
            Ok(Ret::Spread(n, t)) => vec![Value::Integer(n as i64), Value::Table(t)],
            Ok(Ret::Values(values)) if values.len() > MANY_RESULTS => {
                // Too many to return through mlua (which counts its own slots): hand them
                // over in a table that the trampoline unpacks.
                let n = values.len();
                let t = lua.create_table_with_capacity(n, 0)?;
                for (i, v) in values.into_iter().enumerate() {
                    t.raw_set(i as i64 + 1, v)?;
                }
                vec![Value::Integer(n as i64), Value::Table(t)]
            }
            Ok(Ret::Values(values)) => {
                let mut out = values.into_vec();
                out.insert(0, Value::Boolean(true));
                out
            }
            Err(Fail::Lua(e)) => return Err(e),
            Err(Fail::Msg(m)) => vec![Value::Boolean(false), Value::String(lua.create_string(m)?)],
            Err(Fail::Raw(m)) => vec![
                Value::Boolean(false),
                Value::String(lua.create_string(m)?),
                Value::Boolean(true),
            ],
            Err(Fail::Arg(n, m)) => vec![
                Value::Boolean(false),
                Value::String(lua.create_string(m)?),
                Value::Integer(n as i64),
            ],
        };
        out.shrink_to_fit();
        Ok(MultiValue::from_vec(out))
    })?;
    // SAFETY: `exec_raw` runs the closure in a protected call with `inner` pushed as its
    // only argument; `lua_pushcclosure` pops it as the closure's upvalue and pushes one
    // function, which `exec_raw` returns.
    unsafe {
        lua.exec_raw::<Function>(inner, |state| {
            ffi::lua_pushcclosure(state, trampoline, 1);
        })
    }
}

/// The C face of every library function: calls the Rust body (upvalue 1) with the same
/// arguments; on `true, ...` returns the rest, on `false, msg[, narg | true]` raises the error
/// from this frame as the C library would. Holds no Rust values, so `lua_error`'s longjmp
/// skips no destructor.
unsafe extern "C-unwind" fn trampoline(state: *mut ffi::lua_State) -> c_int {
    let nargs = ffi::lua_gettop(state);
    if ffi::lua_checkstack(state, 1) == 0 {
        ffi::luaL_error(state, c"stack overflow".as_ptr());
    }
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, nargs, ffi::LUA_MULTRET);
    let top = ffi::lua_gettop(state);
    if ffi::lua_type(state, 1) == ffi::LUA_TNUMBER {
        // `n, table`: results 1..n in the table (see `MANY_RESULTS`).
        let n = ffi::lua_tointeger(state, 1) as c_int;
        ffi::lua_settop(state, 2);
        ffi::lua_remove(state, 1);
        if ffi::lua_checkstack(state, n) == 0 {
            ffi::luaL_error(state, c"stack overflow (too many results)".as_ptr());
        }
        for i in 1..=n {
            ffi::lua_rawgeti(state, 1, i as _);
        }
        return n;
    }
    if ffi::lua_toboolean(state, 1) != 0 {
        return top - 1;
    }
    if top >= 3 && ffi::lua_type(state, 3) == ffi::LUA_TBOOLEAN {
        ffi::lua_settop(state, 2);
        ffi::lua_error(state);
    }
    if top >= 3 {
        let narg = ffi::lua_tointeger(state, 3) as c_int;
        ffi::luaL_argerror(state, narg, ffi::lua_tostring(state, 2));
    }
    ffi::luaL_where(state, 1);
    ffi::lua_pushvalue(state, 2);
    ffi::lua_concat(state, 2);
    ffi::lua_error(state)
}

/// Runs one level of a recursive encoder/decoder, moving to a fresh stack segment when the
/// thread's stack runs low: nesting is bounded only by the Lua limits the C libraries
/// hit (a few thousand levels), more than a 2 MiB thread stack holds in a debug build.
pub(crate) fn deeper<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

/// `MultiValue` of one value.
pub(crate) fn one(v: Value) -> MultiValue {
    MultiValue::from_vec(vec![v])
}

#[cfg(test)]
pub(crate) mod testutil {
    use mlua::Lua;

    /// A bare state with the libraries installed.
    pub fn lua() -> Lua {
        let lua = Lua::new();
        super::register_all(&lua).expect("register_all");
        lua
    }

    /// Runs `code` as a chunk named like Redis's scripts and returns its string result.
    pub fn eval_str(lua: &Lua, code: &str) -> String {
        let v: mlua::Value = lua
            .load(code)
            .set_name("@user_script")
            .eval()
            .unwrap_or_else(|e| panic!("{code}: {e}"));
        let tostring: mlua::Function = lua.globals().get("tostring").expect("tostring");
        let s: mlua::LuaString = tostring.call(v).expect("tostring");
        String::from_utf8_lossy(&s.as_bytes()).into_owned()
    }

    /// Runs `code` under pcall and returns the error message it raised.
    pub fn error_of(lua: &Lua, code: &str) -> String {
        let wrapped = format!(
            "local ok, e = pcall(function() {code} end) assert(not ok, 'no error') return e"
        );
        eval_str(lua, &wrapped)
    }

    /// Runs every snippet of a recorded case file (`testdata/*.txt`: a snippet line, then
    /// `=> ` and what Redis 7.0.15 returned for it through [`super::diff::DIFF_WRAPPER`]) in
    /// one state, in order (configuration calls carry over, as in Redis), and fails listing
    /// every snippet whose result differs. Returns the number of cases checked.
    pub fn check_recorded(data: &str) -> usize {
        let lua = lua();
        let mut lines = data
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
        let mut failures = Vec::new();
        let mut count = 0;
        while let Some(case) = lines.next() {
            let want = lines
                .next()
                .and_then(|l| l.strip_prefix("=> "))
                .unwrap_or_else(|| panic!("no recorded result for {case}"));
            let got = eval_str(&lua, &super::diff::DIFF_WRAPPER.replace("%s", case));
            if got != want {
                failures.push(format!("{case}\n  redis: {want}\n  ours:  {got}"));
            }
            count += 1;
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        count
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{check_recorded, eval_str, lua};

    #[test]
    fn random_cases_match_redis() {
        let n = check_recorded(include_str!("testdata/fuzz.txt"));
        assert!(n > 1000, "{n}");
    }

    #[test]
    fn register_all_installs_the_four_tables() {
        let lua = lua();
        let code = "local out = {} for _, lib in ipairs({'cjson', 'cmsgpack', 'bit', 'struct'}) do \
                    local ks = {} for k, v in pairs(_G[lib]) do ks[#ks + 1] = k .. ':' .. type(v) end \
                    table.sort(ks) out[#out + 1] = lib .. ' ' .. table.concat(ks, ' ') end \
                    return table.concat(out, '\\n')";
        assert_eq!(
            eval_str(&lua, code),
            "cjson _NAME:string _VERSION:string decode:function decode_invalid_numbers:function \
             decode_max_depth:function encode:function encode_invalid_numbers:function \
             encode_keep_buffer:function encode_max_depth:function encode_number_precision:function \
             encode_sparse_array:function new:function null:userdata\n\
             cmsgpack _COPYRIGHT:string _DESCRIPTION:string _NAME:string _VERSION:string \
             pack:function unpack:function unpack_limit:function unpack_one:function\n\
             bit arshift:function band:function bnot:function bor:function bswap:function \
             bxor:function lshift:function rol:function ror:function rshift:function \
             tobit:function tohex:function\n\
             struct pack:function size:function unpack:function"
        );
    }

    #[test]
    fn errors_are_strings_with_the_callers_position() {
        let lua = lua();
        // Direct pcall: no position (the caller is pcall, a C function).
        assert_eq!(
            eval_str(
                &lua,
                "local ok, e = pcall(cjson.decode, 'x') return type(e) .. ' ' .. e"
            ),
            "string Expected value but found invalid token at character 1"
        );
        // A tail call keeps the caller's position and the function's name.
        assert_eq!(
            eval_str(
                &lua,
                "local ok, e = pcall(function() return bit.band('x') end) return e"
            ),
            "user_script:1: bad argument #1 to 'band' (number expected, got string)"
        );
        // Errors raised by the Lua core from inside a library carry no position.
        assert_eq!(
            eval_str(&lua, "local ok, e = pcall(function() return cmsgpack.unpack('\\129\\192\\1') end) return e"),
            "table index is nil"
        );
    }
}

/// Differential check against a live Redis: `LUALIB_CASES=cases.lua LUALIB_OUT=out.txt cargo
/// test --lib scripting::lib::diff -- --ignored` runs each line of the case file (a Lua
/// chunk body) wrapped by [`DIFF_WRAPPER`] and writes one result line per case; sending the
/// same wrapped lines through `EVAL` to Redis and comparing the outputs shows any
/// difference in values, table order or error text.
#[cfg(test)]
pub(crate) mod diff {
    /// `%s` is the case; the result is a one-line serialisation of pcall's results.
    pub const DIFF_WRAPPER: &str = "local function S(v, d) d = d or 0 local t = type(v) if t == 'string' then return '\"' .. (v:gsub('[^%w ]', function(c) return string.format('\\\\x%02x', c:byte()) end)) .. '\"' elseif t == 'number' then return string.format('%.17g', v) elseif t == 'table' then if d > 20 then return '{...}' end local o = {} for k, x in pairs(v) do o[#o+1] = '[' .. S(k, d+1) .. ']=' .. S(x, d+1) end return '{' .. table.concat(o, ',') .. '}' elseif v == cjson.null then return 'cjson.null' else return type(v) end end local function P(...) local o = {} for i=1,select('#',...) do o[i] = S((select(i,...))) end return table.concat(o, ' | ') end return P(pcall(function() %s end))";

    #[test]
    #[ignore]
    fn run_cases() {
        let (Ok(cases), Ok(out)) = (std::env::var("LUALIB_CASES"), std::env::var("LUALIB_OUT"))
        else {
            return;
        };
        let lua = super::testutil::lua();
        let mut lines = Vec::new();
        for case in std::fs::read_to_string(cases).expect("cases").lines() {
            if case.trim().is_empty() || case.starts_with("--") {
                continue;
            }
            let code = DIFF_WRAPPER.replace("%s", case);
            let r = lua
                .load(&code)
                .set_name("@user_script")
                .eval::<mlua::LuaString>();
            lines.push(match r {
                Ok(s) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                Err(e) => format!("HARNESS ERROR {e}"),
            });
        }
        std::fs::write(out, lines.join("\n") + "\n").expect("write");
    }
}
