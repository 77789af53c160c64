//! `cjson`: JSON for scripts, as lua-cjson 2.1.0 (with Redis 7.0's patches) behaves.
//!
//! - `encode(v)`: numbers as C's `%.14g` (precision settable 1..14; `-0`, `1e+20`,
//!   `1e-05`), NaN/±inf refused ("Cannot serialise number: must not be NaN or Inf") unless
//!   `encode_invalid_numbers` is on (`nan`, `inf`, `-inf`) or `"null"`. Strings escape `"`,
//!   `\`, `/`, control characters (`\b \t \n \f \r`, else `\u00XX`) and DEL (`\u007f`);
//!   other bytes pass through. A table whose keys are all positive integers is an array
//!   (holes become `null`) unless excessively sparse (largest key > count × ratio and >
//!   safe: an error, or an object when `encode_sparse_array(true)`); every other table,
//!   including `{}`, is an object in `next` order with number keys written as strings.
//!   Nesting deeper than `encode_max_depth` (1000) fails with "Cannot serialise, excessive
//!   nesting (N)". `cjson.null` (a NULL light userdata) and nil encode as `null`.
//! - `decode(s)`: the lua-cjson tokenizer and its error texts ("Expected value but found
//!   invalid token at character 1", T_* token names); NUL ends the input; numbers parsed as
//!   C's `strtod` (hex, `inf`, `nan`, leading `+` and zeros accepted while
//!   `decode_invalid_numbers` is on, its default in Redis); `\uXXXX` escapes (surrogate
//!   pairs included) become UTF-8; `null` becomes `cjson.null`; nesting beyond
//!   `decode_max_depth` (1000) fails with "Found too many nested data structures".
//! - The configuration functions (`encode_sparse_array`, `encode_max_depth`,
//!   `decode_max_depth`, `encode_number_precision`, `encode_keep_buffer`,
//!   `encode_invalid_numbers`, `decode_invalid_numbers`) take and return the same values as
//!   lua-cjson and reject bad values with its messages; the settings belong to the module
//!   table (`cjson.new()` makes an independent one), and persist as in Redis, where the Lua
//!   state lives as long as the server. `encode_keep_buffer` only reports its flag: there is
//!   no buffer to keep.
//! - Lua stack limits of the C code (8000 slots) are counted, so nesting with raised depth
//!   limits fails about where the C library would. Deliberate difference: each level also
//!   holds an mlua handle, and mlua's handle stack (8000 slots too, a few taken by the
//!   state) runs out a few levels earlier — e.g. 7993 instead of 7998 nested arrays, 3997
//!   instead of 4000 nested objects; the error text is the library's, with that depth.
//!   Only scripts that raise `encode_max_depth`/`decode_max_depth` near 4000 can see it.

use super::{arg_err, deeper, err, lib_function, number_to_int, one, Args};
use super::{type_name, Fail, LibResult};
use mlua::{LightUserData, Lua, MultiValue, Table, Value};
use std::sync::{Arc, Mutex};

const MAX_C_STACK: usize = 8000;

/// One module instance's settings.
#[derive(Clone, Debug)]
struct Config {
    sparse_convert: i64,
    sparse_ratio: i64,
    sparse_safe: i64,
    encode_max_depth: i64,
    decode_max_depth: i64,
    encode_invalid_numbers: i64,
    decode_invalid_numbers: i64,
    keep_buffer: i64,
    precision: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sparse_convert: 0,
            sparse_ratio: 2,
            sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: 0,
            decode_invalid_numbers: 1,
            keep_buffer: 1,
            precision: 14,
        }
    }
}

type Shared = Arc<Mutex<Config>>;

fn config(c: &Shared) -> Config {
    lock(c).clone()
}

fn lock(c: &Shared) -> std::sync::MutexGuard<'_, Config> {
    c.lock().unwrap_or_else(|p| p.into_inner())
}

/// The `cjson` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let cfg: Shared = Arc::new(Mutex::new(Config::default()));

    let c = cfg.clone();
    t.raw_set(
        "encode",
        lib_function(lua, move |lua, a| encode(lua, a, &config(&c)))?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode",
        lib_function(lua, move |lua, a| decode(lua, a, &config(&c)))?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_sparse_array",
        lib_function(lua, move |lua, a| {
            arg_count(&a, 3)?;
            // Each option is stored as soon as it is read: a bad third argument leaves the
            // first two set, as in lua-cjson.
            let mut cur = lock(&c);
            let convert = enum_option(&a, 1, &mut cur.sparse_convert, None)?;
            let ratio = integer_option(&a, 2, &mut cur.sparse_ratio, 0, i32::MAX as i64)?;
            let safe = integer_option(&a, 3, &mut cur.sparse_safe, 0, i32::MAX as i64)?;
            drop(cur);
            Ok(MultiValue::from_vec(vec![
                convert.into_value(lua)?,
                ratio,
                safe,
            ]))
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_max_depth",
        lib_function(lua, move |_, a| {
            int_setting(&a, &c, 1, i32::MAX as i64, |x| &mut x.encode_max_depth)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "decode_max_depth",
        lib_function(lua, move |_, a| {
            int_setting(&a, &c, 1, i32::MAX as i64, |x| &mut x.decode_max_depth)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_number_precision",
        lib_function(lua, move |_, a| {
            int_setting(&a, &c, 1, 14, |x| &mut x.precision)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_keep_buffer",
        lib_function(lua, move |lua, a| {
            enum_setting(lua, &a, &c, None, |x| &mut x.keep_buffer)
        })?,
    )?;
    let c = cfg.clone();
    t.raw_set(
        "encode_invalid_numbers",
        lib_function(lua, move |lua, a| {
            enum_setting(lua, &a, &c, Some(&["off", "on", "null"]), |x| {
                &mut x.encode_invalid_numbers
            })
        })?,
    )?;
    let c = cfg;
    t.raw_set(
        "decode_invalid_numbers",
        lib_function(lua, move |lua, a| {
            enum_setting(lua, &a, &c, None, |x| &mut x.decode_invalid_numbers)
        })?,
    )?;
    t.raw_set(
        "new",
        lib_function(lua, |lua, _| Ok(one(Value::Table(module(lua)?))))?,
    )?;
    t.raw_set(
        "null",
        Value::LightUserData(LightUserData(std::ptr::null_mut())),
    )?;
    t.raw_set("_NAME", "cjson")?;
    t.raw_set("_VERSION", "2.1.0")?;
    Ok(t)
}

// ---------------------------------------------------------------- configuration

/// `json_arg_init`: at most `n` arguments.
fn arg_count(a: &Args<'_>, n: usize) -> LibResult<()> {
    if a.len() > n {
        return arg_err(n + 1, "found too many arguments");
    }
    Ok(())
}

/// `json_integer_option`: sets from argument `i` when it is not nil; the range error names
/// argument #1 whatever `i` is, as lua-cjson does.
fn integer_option(
    a: &Args<'_>,
    i: usize,
    setting: &mut i64,
    min: i64,
    max: i64,
) -> LibResult<Value> {
    if !a.is_none_or_nil(i) {
        let v = a.check_integer(i)?;
        if v < min || v > max {
            return arg_err(1, format!("expected integer between {min} and {max}"));
        }
        *setting = v;
    }
    Ok(Value::Number(*setting as f64))
}

enum EnumOut {
    Bool(bool),
    Name(&'static str),
}

impl EnumOut {
    fn into_value(self, lua: &Lua) -> mlua::Result<Value> {
        Ok(match self {
            EnumOut::Bool(b) => Value::Boolean(b),
            EnumOut::Name(s) => Value::String(lua.create_string(s)?),
        })
    }
}

/// `json_enum_option` with `bool_true == 1`: a boolean, or one of the option names
/// (`off`/`on` when `options` is `None`).
fn enum_option(
    a: &Args<'_>,
    i: usize,
    setting: &mut i64,
    options: Option<&[&'static str]>,
) -> LibResult<EnumOut> {
    let options = options.unwrap_or(&["off", "on"]);
    match a.get(i) {
        None | Some(Value::Nil) => {}
        Some(Value::Boolean(b)) => *setting = *b as i64,
        Some(_) => {
            let name = a.check_bytes(i)?;
            match options.iter().position(|o| o.as_bytes() == name.as_slice()) {
                Some(p) => *setting = p as i64,
                None => {
                    let mut msg = b"invalid option '".to_vec();
                    msg.extend_from_slice(&name);
                    msg.push(b'\'');
                    return arg_err(i, msg);
                }
            }
        }
    }
    Ok(if *setting == 0 || *setting == 1 {
        EnumOut::Bool(*setting == 1)
    } else {
        EnumOut::Name(options[*setting as usize])
    })
}

fn int_setting(
    a: &Args<'_>,
    c: &Shared,
    min: i64,
    max: i64,
    field: impl Fn(&mut Config) -> &mut i64,
) -> LibResult<MultiValue> {
    arg_count(a, 1)?;
    let v = integer_option(a, 1, field(&mut lock(c)), min, max)?;
    Ok(one(v))
}

fn enum_setting(
    lua: &Lua,
    a: &Args<'_>,
    c: &Shared,
    options: Option<&[&'static str]>,
    field: impl Fn(&mut Config) -> &mut i64,
) -> LibResult<MultiValue> {
    arg_count(a, 1)?;
    let v = enum_option(a, 1, field(&mut lock(c)), options)?;
    Ok(one(v.into_value(lua)?))
}

// ---------------------------------------------------------------- number formatting

/// C's `printf("%.<precision>g", n)` for finite `n`, and lua-cjson's `nan`/`inf`/`-inf`.
pub(crate) fn format_g(n: f64, precision: usize) -> String {
    if n.is_nan() {
        return "nan".into();
    }
    if n.is_infinite() {
        return if n < 0.0 { "-inf".into() } else { "inf".into() };
    }
    if n == 0.0 {
        return if n.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let p = precision.max(1);
    let e = format!("{:.*e}", p - 1, n);
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let x: i32 = exp.parse().unwrap_or(0);
    if x < -4 || x >= p as i32 {
        let m = strip_zeros(mantissa);
        let sign = if x < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", x.unsigned_abs())
    } else {
        let f = format!("{:.*}", (p as i32 - 1 - x).max(0) as usize, n);
        strip_zeros(&f).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

// ---------------------------------------------------------------- encoding

struct Encoder<'a> {
    cfg: &'a Config,
    out: Vec<u8>,
    /// Lua stack slots the C encoder would hold.
    slots: usize,
    /// The deepest table level entered.
    deepest: i64,
}

fn encode(lua: &Lua, a: Args<'_>, cfg: &Config) -> LibResult<MultiValue> {
    if a.len() != 1 {
        return arg_err(1, "expected 1 argument");
    }
    let mut enc = Encoder {
        cfg,
        out: Vec::new(),
        slots: 1,
        deepest: 0,
    };
    match enc.value(&a.vals[0], 0) {
        Ok(()) => {}
        Err(Fail::Lua(mlua::Error::StackError)) => {
            // mlua's handles ran out before the C library's stack would (see module docs).
            return err(format!(
                "Cannot serialise, excessive nesting ({})",
                enc.deepest
            ));
        }
        Err(e) => return Err(e),
    }
    Ok(one(Value::String(lua.create_string(&enc.out)?)))
}

fn cannot_serialise<T>(what: &str, why: &str) -> LibResult<T> {
    err(format!("Cannot serialise {what}: {why}"))
}

impl Encoder<'_> {
    fn number(&mut self, n: f64) -> LibResult<()> {
        if !n.is_finite() {
            match self.cfg.encode_invalid_numbers {
                0 => return cannot_serialise("number", "must not be NaN or Inf"),
                1 => {}
                _ => {
                    self.out.extend_from_slice(b"null");
                    return Ok(());
                }
            }
        }
        let s = format_g(n, self.cfg.precision as usize);
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn string(&mut self, s: &[u8]) {
        self.out.reserve(s.len() + 2);
        self.out.push(b'"');
        for &c in s {
            match c {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'/' => self.out.extend_from_slice(b"\\/"),
                0x08 => self.out.extend_from_slice(b"\\b"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                0x0c => self.out.extend_from_slice(b"\\f"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                0..=0x1f | 0x7f => {
                    self.out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
                }
                _ => self.out.push(c),
            }
        }
        self.out.push(b'"');
    }

    fn value(&mut self, v: &Value, depth: i64) -> LibResult<()> {
        match v {
            Value::String(s) => self.string(&s.as_bytes()),
            Value::Integer(i) => self.number(*i as f64)?,
            Value::Number(n) => self.number(*n)?,
            Value::Boolean(b) => self
                .out
                .extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            Value::Table(t) => self.table(t, depth + 1)?,
            other => return cannot_serialise(type_name(Some(other)), "type not supported"),
        }
        Ok(())
    }

    /// `lua_array_length`: the array length, or `None` for an object.
    fn array_length(&self, t: &Table) -> LibResult<Option<i32>> {
        let mut max: i32 = 0;
        let mut items: i32 = 0;
        let mut array = true;
        t.for_each::<Value, Value>(|k, _| {
            if !array {
                return Ok(());
            }
            let k = match k {
                Value::Integer(i) => i as f64,
                Value::Number(n) => n,
                _ => {
                    array = false;
                    return Ok(());
                }
            };
            if k == 0.0 || k.floor() != k || k < 1.0 {
                array = false;
                return Ok(());
            }
            if k > max as f64 {
                max = number_to_int(k);
            }
            items = items.wrapping_add(1);
            Ok(())
        })?;
        if !array {
            return Ok(None);
        }
        let ratio = self.cfg.sparse_ratio as i32;
        if ratio > 0 && max > items.wrapping_mul(ratio) && max as i64 > self.cfg.sparse_safe {
            if self.cfg.sparse_convert == 0 {
                return cannot_serialise("table", "excessively sparse array");
            }
            return Ok(None);
        }
        Ok(Some(max))
    }

    fn table(&mut self, t: &Table, depth: i64) -> LibResult<()> {
        if depth > self.cfg.encode_max_depth || self.slots + 3 > MAX_C_STACK {
            return err(format!("Cannot serialise, excessive nesting ({depth})"));
        }
        self.deepest = depth;
        match self.array_length(t)? {
            Some(len) if len > 0 => {
                self.out.push(b'[');
                self.slots += 1;
                for i in 1..=len {
                    if i > 1 {
                        self.out.push(b',');
                    }
                    let v: Value = t.raw_get(i as i64)?;
                    deeper(|| self.value(&v, depth))?;
                }
                self.slots -= 1;
                self.out.push(b']');
            }
            _ => {
                self.out.push(b'{');
                self.slots += 2;
                for (n, pair) in t.pairs::<Value, Value>().enumerate() {
                    let (k, v) = pair?;
                    if n > 0 {
                        self.out.push(b',');
                    }
                    match &k {
                        Value::Integer(_) | Value::Number(_) => {
                            let k = match k {
                                Value::Integer(i) => i as f64,
                                Value::Number(x) => x,
                                _ => 0.0,
                            };
                            self.out.push(b'"');
                            self.number(k)?;
                            self.out.extend_from_slice(b"\":");
                        }
                        Value::String(s) => {
                            self.string(&s.as_bytes());
                            self.out.push(b':');
                        }
                        other => {
                            return cannot_serialise(
                                type_name(Some(other)),
                                "table key must be a number or string",
                            )
                        }
                    }
                    deeper(|| self.value(&v, depth))?;
                }
                self.slots -= 2;
                self.out.push(b'}');
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- decoding

#[derive(Clone, Copy, PartialEq, Debug)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    Str,
    Num,
    Bool,
    Null,
    Colon,
    Comma,
    End,
    Error,
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::Str => "T_STRING",
            Tok::Num => "T_NUMBER",
            Tok::Bool => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Error => "T_ERROR",
        }
    }
}

struct Token {
    kind: Tok,
    index: usize,
    num: f64,
    boolean: bool,
    string: Vec<u8>,
    error: &'static str,
}

struct Parser<'a> {
    lua: &'a Lua,
    cfg: &'a Config,
    data: &'a [u8],
    pos: usize,
    depth: i64,
    slots: usize,
}

fn decode(lua: &Lua, a: Args<'_>, cfg: &Config) -> LibResult<MultiValue> {
    if a.len() != 1 {
        return arg_err(1, "expected 1 argument");
    }
    let data = a.check_bytes(1)?;
    if data.len() >= 2 && (data[0] == 0 || data[1] == 0) {
        return err("JSON parser does not support UTF-16 or UTF-32");
    }
    let mut p = Parser {
        lua,
        cfg,
        data: &data,
        pos: 0,
        depth: 0,
        slots: 1,
    };
    let tok = p.next_token();
    let v = match p.value(tok) {
        Ok(v) => v,
        Err(Fail::Lua(mlua::Error::StackError)) => {
            // mlua's handles ran out before the C library's stack would (see module docs).
            return err(format!(
                "Found too many nested data structures ({}) at character {}",
                p.depth, p.pos
            ));
        }
        Err(e) => return Err(e),
    };
    let tok = p.next_token();
    if tok.kind != Tok::End {
        return p.parse_error("the end", &tok);
    }
    Ok(one(v))
}

/// `strtod` on the start of `s`: the value and the number of bytes it used (0: no number).
pub(crate) fn strtod(s: &[u8]) -> (f64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut i = 0;
    while matches!(at(i), b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let negative = at(i) == b'-';
    if matches!(at(i), b'+' | b'-') {
        i += 1;
    }
    let sign = |v: f64| if negative { -v } else { v };
    let rest = &s[i.min(s.len())..];
    let starts = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
    if starts(b"infinity") {
        return (sign(f64::INFINITY), i + 8);
    }
    if starts(b"inf") {
        return (sign(f64::INFINITY), i + 3);
    }
    if starts(b"nan") {
        let mut end = i + 3;
        if at(end) == b'(' {
            let mut j = end + 1;
            while at(j).is_ascii_alphanumeric() || at(j) == b'_' {
                j += 1;
            }
            if at(j) == b')' {
                end = j + 1;
            }
        }
        return (sign(f64::NAN), end);
    }
    if at(i) == b'0'
        && (at(i + 1) | 0x20) == b'x'
        && (at(i + 2).is_ascii_hexdigit() || (at(i + 2) == b'.' && at(i + 3).is_ascii_hexdigit()))
    {
        let (v, used) = hex_float(&s[i + 2..]);
        return (sign(v), i + 2 + used);
    }
    // Decimal: digits [. digits] [e [sign] digits], at least one mantissa digit.
    let start = i;
    let mut digits = 0;
    while at(i).is_ascii_digit() {
        i += 1;
        digits += 1;
    }
    if at(i) == b'.' {
        i += 1;
        while at(i).is_ascii_digit() {
            i += 1;
            digits += 1;
        }
    }
    if digits == 0 {
        return (0.0, 0);
    }
    let mantissa_end = i;
    let mut end = i;
    if (at(i) | 0x20) == b'e' {
        let mut j = i + 1;
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            while at(j).is_ascii_digit() {
                j += 1;
            }
            end = j;
        }
    }
    let mut text = String::with_capacity(end - start + 2);
    let mantissa = std::str::from_utf8(&s[start..mantissa_end]).unwrap_or("0");
    if mantissa.starts_with('.') {
        text.push('0');
    }
    text.push_str(mantissa);
    if mantissa.ends_with('.') {
        text.push('0');
    }
    text.push_str(std::str::from_utf8(&s[mantissa_end..end]).unwrap_or(""));
    let v: f64 = text.parse().unwrap_or(0.0);
    (sign(v), end)
}

/// A hexadecimal float after its `0x`: `hh[.hh][p[sign]dd]`, correctly rounded.
fn hex_float(s: &[u8]) -> (f64, usize) {
    let at = |i: usize| s.get(i).copied().unwrap_or(0);
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut i = 0;
    let mut seen_point = false;
    loop {
        let c = at(i);
        if c == b'.' && !seen_point {
            seen_point = true;
            i += 1;
            continue;
        }
        let Some(d) = (c as char).to_digit(16) else {
            break;
        };
        if mant >> 60 == 0 {
            mant = (mant << 4) | d as u64;
            if seen_point {
                exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !seen_point {
                exp += 4;
            }
        }
        i += 1;
    }
    if (at(i) | 0x20) == b'p' {
        let mut j = i + 1;
        let neg = at(j) == b'-';
        if matches!(at(j), b'+' | b'-') {
            j += 1;
        }
        if at(j).is_ascii_digit() {
            let mut e: i64 = 0;
            while at(j).is_ascii_digit() {
                e = (e * 10 + (at(j) - b'0') as i64).min(1 << 40);
                j += 1;
            }
            exp += if neg { -e } else { e };
            i = j;
        }
    }
    if mant == 0 {
        return (0.0, i);
    }
    // Normalise to 64 significant bits, then round to the 53 (or fewer, if subnormal)
    // the double keeps.
    let lead = mant.leading_zeros() as i64;
    let m = mant << lead;
    let e = exp - lead + 63; // value = m / 2^63 * 2^e
    let keep: i64 = if e < -1022 {
        (53 - (-1022 - e)).max(0)
    } else {
        53
    };
    let drop = 64 - keep;
    let (mut q, rem, half) = if drop >= 64 {
        (0u64, m, 1u64 << 63)
    } else {
        (m >> drop, m & ((1u64 << drop) - 1), 1u64 << (drop - 1))
    };
    let rem_sticky = drop < 64 && (rem > half || (rem == half && (sticky || q & 1 == 1)));
    let rem_sticky = if drop >= 64 {
        rem > half || (rem == half && sticky)
    } else {
        rem_sticky
    };
    if rem_sticky {
        q += 1;
    }
    // value = q * 2^(e - keep + 1)
    let mut v = q as f64;
    let mut scale = e - keep + 1;
    while scale > 0 {
        let s = scale.min(1000);
        v *= 2f64.powi(s as i32);
        scale -= s;
    }
    while scale < 0 {
        let s = (-scale).min(1000);
        v /= 2f64.powi(s as i32);
        scale += s;
    }
    (v, i)
}

impl Parser<'_> {
    fn at(&self, i: usize) -> u8 {
        self.data.get(i).copied().unwrap_or(0)
    }

    fn token(&self, kind: Tok, index: usize) -> Token {
        Token {
            kind,
            index,
            num: 0.0,
            boolean: false,
            string: Vec::new(),
            error: "",
        }
    }

    fn error_token(&self, error: &'static str) -> Token {
        let mut t = self.token(Tok::Error, self.pos);
        t.error = error;
        t
    }

    /// lua-cjson's `json_is_invalid_number`: numbers that are not strict JSON.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let c2 = self.at(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        }
        if c <= b'9' {
            return false;
        }
        let rest = &self.data[p.min(self.data.len())..];
        let starts = |w: &[u8]| rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(w);
        starts(b"inf") || starts(b"nan")
    }

    fn number_token(&mut self) -> Token {
        let (n, used) = strtod(&self.data[self.pos..]);
        if used == 0 {
            return self.error_token("invalid number");
        }
        let mut t = self.token(Tok::Num, self.pos);
        t.num = n;
        self.pos += used;
        t
    }

    fn next_token(&mut self) -> Token {
        while matches!(self.at(self.pos), b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
        let start = self.pos;
        let c = self.at(start);
        let single = match c {
            0 => return self.token(Tok::End, start),
            b'{' => Some(Tok::ObjBegin),
            b'}' => Some(Tok::ObjEnd),
            b'[' => Some(Tok::ArrBegin),
            b']' => Some(Tok::ArrEnd),
            b':' => Some(Tok::Colon),
            b',' => Some(Tok::Comma),
            _ => None,
        };
        if let Some(kind) = single {
            self.pos += 1;
            return self.token(kind, start);
        }
        let unknown = matches!(
            c,
            b'"' | b'-' | b'+' | b'0'..=b'9' | b't' | b'f' | b'n' | b'i' | b'I' | b'N'
        );
        if !unknown {
            return self.error_token("invalid token");
        }
        if c == b'"' {
            return self.string_token();
        }
        let invalid_ok = self.cfg.decode_invalid_numbers != 0;
        if c == b'-' || c.is_ascii_digit() {
            if !invalid_ok && self.is_invalid_number() {
                return self.error_token("invalid number");
            }
            return self.number_token();
        }
        let rest = &self.data[start..];
        for (word, kind, b) in [
            (&b"true"[..], Tok::Bool, true),
            (&b"false"[..], Tok::Bool, false),
            (&b"null"[..], Tok::Null, false),
        ] {
            if rest.starts_with(word) {
                self.pos += word.len();
                let mut t = self.token(kind, start);
                t.boolean = b;
                return t;
            }
        }
        if invalid_ok && self.is_invalid_number() {
            return self.number_token();
        }
        self.error_token("invalid token")
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let mut v = 0;
        for i in 0..4 {
            v = (v << 4) | (self.at(at + i) as char).to_digit(16)?;
        }
        Some(v)
    }

    /// `\uXXXX` (and a following low surrogate) at `self.pos`, appended as UTF-8.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let mut cp = self.hex4(self.pos + 2)?;
        let mut len = 6;
        if cp & 0xf800 == 0xd800 {
            if cp & 0x400 != 0 {
                return None;
            }
            if self.at(self.pos + 6) != b'\\' || self.at(self.pos + 7) != b'u' {
                return None;
            }
            let low = self.hex4(self.pos + 8)?;
            if low & 0xfc00 != 0xdc00 {
                return None;
            }
            cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
            len = 12;
        }
        let ch = char::from_u32(cp)?;
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        self.pos += len;
        Some(())
    }

    fn string_token(&mut self) -> Token {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let c = self.at(self.pos);
            if c == b'"' {
                break;
            }
            if c == 0 {
                return self.error_token("unexpected end of string");
            }
            if c == b'\\' {
                let e = match self.at(self.pos + 1) {
                    b'"' => b'"',
                    b'\\' => b'\\',
                    b'/' => b'/',
                    b'b' => 0x08,
                    b'f' => 0x0c,
                    b'n' => b'\n',
                    b'r' => b'\r',
                    b't' => b'\t',
                    b'u' => {
                        if self.unicode_escape(&mut out).is_none() {
                            return self.error_token("invalid unicode escape code");
                        }
                        continue;
                    }
                    _ => return self.error_token("invalid escape code"),
                };
                out.push(e);
                self.pos += 2;
                continue;
            }
            out.push(c);
            self.pos += 1;
        }
        self.pos += 1;
        let mut t = self.token(Tok::Str, start);
        t.string = out;
        t
    }

    fn parse_error<T>(&self, expected: &str, tok: &Token) -> LibResult<T> {
        let found = if tok.kind == Tok::Error {
            tok.error
        } else {
            tok.kind.name()
        };
        err(format!(
            "Expected {expected} but found {found} at character {}",
            tok.index + 1
        ))
    }

    fn descend(&mut self, slots: usize) -> LibResult<()> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && self.slots + slots <= MAX_C_STACK {
            return Ok(());
        }
        err(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.pos
        ))
    }

    fn value(&mut self, tok: Token) -> LibResult<Value> {
        Ok(match tok.kind {
            Tok::Str => Value::String(self.lua.create_string(&tok.string)?),
            Tok::Num => Value::Number(tok.num),
            Tok::Bool => Value::Boolean(tok.boolean),
            Tok::Null => Value::LightUserData(LightUserData(std::ptr::null_mut())),
            Tok::ObjBegin => self.object()?,
            Tok::ArrBegin => self.array()?,
            _ => return self.parse_error("value", &tok),
        })
    }

    fn object(&mut self) -> LibResult<Value> {
        self.descend(3)?;
        let t = self.lua.create_table()?;
        self.slots += 1;
        let mut tok = self.next_token();
        if tok.kind != Tok::ObjEnd {
            loop {
                if tok.kind != Tok::Str {
                    return self.parse_error("object key string", &tok);
                }
                let key = self.lua.create_string(&tok.string)?;
                self.slots += 1;
                tok = self.next_token();
                if tok.kind != Tok::Colon {
                    return self.parse_error("colon", &tok);
                }
                tok = self.next_token();
                let v = deeper(|| self.value(tok))?;
                t.raw_set(key, v)?;
                self.slots -= 1;
                tok = self.next_token();
                if tok.kind == Tok::ObjEnd {
                    break;
                }
                if tok.kind != Tok::Comma {
                    return self.parse_error("comma or object end", &tok);
                }
                tok = self.next_token();
            }
        }
        self.slots -= 1;
        self.depth -= 1;
        Ok(Value::Table(t))
    }

    fn array(&mut self) -> LibResult<Value> {
        self.descend(2)?;
        let t = self.lua.create_table()?;
        self.slots += 1;
        let mut tok = self.next_token();
        if tok.kind != Tok::ArrEnd {
            let mut i: i64 = 1;
            loop {
                let v = deeper(|| self.value(tok))?;
                t.raw_set(i, v)?;
                i += 1;
                tok = self.next_token();
                if tok.kind == Tok::ArrEnd {
                    break;
                }
                if tok.kind != Tok::Comma {
                    return self.parse_error("comma or array end", &tok);
                }
                tok = self.next_token();
            }
        }
        self.slots -= 1;
        self.depth -= 1;
        Ok(Value::Table(t))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{error_of, eval_str, lua};
    use super::{format_g, strtod};

    fn encodes(cases: &[(&str, &str)]) {
        let lua = lua();
        for (v, want) in cases {
            assert_eq!(
                &eval_str(&lua, &format!("return cjson.encode({v})")),
                want,
                "{v}"
            );
        }
    }

    #[test]
    fn encode_values() {
        encodes(&[
            ("{1,2,{a=1}}", "[1,2,{\"a\":1}]"),
            ("0.1", "0.1"),
            ("1e20", "1e+20"),
            ("3", "3"),
            ("-0.0", "-0"),
            ("1/3", "0.33333333333333"),
            ("123456789012345678", "1.2345678901235e+17"),
            ("1e-5", "1e-05"),
            ("0.0001", "0.0001"),
            ("1e15", "1e+15"),
            ("5e-324", "4.9406564584125e-324"),
            ("-1.5e-7", "-1.5e-07"),
            ("99999999999999.9", "1e+14"),
            ("{}", "{}"),
            ("{[1]=1,[2]=nil,[3]=3}", "[1,null,3]"),
            (
                "{[1]=1,[10]=1}",
                "[1,null,null,null,null,null,null,null,null,1]",
            ),
            ("{[0]=1}", "{\"0\":1}"),
            ("{[1.5]=1}", "{\"1.5\":1}"),
            ("{1,2,x=3}", "{\"1\":1,\"2\":2,\"x\":3}"),
            ("{[2^40]=1}", "{\"1099511627776\":1}"),
            ("cjson.null", "null"),
            ("nil", "null"),
            ("true", "true"),
            ("{a={b={c={}}}}", "{\"a\":{\"b\":{\"c\":{}}}}"),
            (
                "string.char(127,0,1,8,9,10,11,12,13,31,32,34,39,47,92)",
                "\"\\u007f\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\\"'\\/\\\\\"",
            ),
            (
                "string.char(128,255)) == '\"\\128\\255\"' and 'raw' or cjson.encode(nil",
                "raw",
            ),
        ]);
    }

    #[test]
    fn encode_errors() {
        let lua = lua();
        for (v, want) in [
            ("1/0", "Cannot serialise number: must not be NaN or Inf"),
            (
                "{[1]=1,[11]=1}",
                "Cannot serialise table: excessively sparse array",
            ),
            (
                "{[true]=1}",
                "Cannot serialise boolean: table key must be a number or string",
            ),
            (
                "function() end",
                "Cannot serialise function: type not supported",
            ),
            (
                "coroutine.create(function() end)",
                "Cannot serialise thread: type not supported",
            ),
        ] {
            assert_eq!(
                error_of(&lua, &format!("return cjson.encode({v})")),
                format!("user_script:1: {want}"),
                "{v}"
            );
        }
        assert_eq!(
            error_of(&lua, "return cjson.encode(1, 2)"),
            "user_script:1: bad argument #1 to 'encode' (expected 1 argument)"
        );
        let nested = |n: usize| {
            format!("local t = {{}} local c = t for i = 1, {n} do c[1] = {{}} c = c[1] end return cjson.encode(t)")
        };
        assert_eq!(
            eval_str(&lua, &format!("return #(function() {} end)()", nested(999))),
            "2000"
        );
        assert_eq!(
            error_of(&lua, &nested(1000)),
            "user_script:1: Cannot serialise, excessive nesting (1001)"
        );
    }

    #[test]
    fn decode_values_and_round_trips() {
        let lua = lua();
        let cases = [
            ("return cjson.decode('[null]')[1] == cjson.null", "true"),
            ("return cjson.decode('\"\\\\ud83d\\\\ude00\"') == '\\240\\159\\152\\128'", "true"),
            ("return cjson.decode('\"\\\\u00e9\"') == '\\195\\169'", "true"),
            ("return tostring(cjson.decode('0x10'))", "16"),
            ("return tostring(cjson.decode('-Infinity'))", "-inf"),
            ("return tostring(cjson.decode('1e400'))", "inf"),
            ("return tostring(cjson.decode('-0'))", "-0"),
            ("return tostring(cjson.decode('[1]' .. string.char(0) .. 'x')[1])", "1"),
            (
                "return cjson.encode(cjson.decode('{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":{\"e\":true}}'))",
                // Redis 7.0.15 gives this order (Lua 5.1's `next` over the decoded table).
                "{\"a\":1,\"d\":{\"e\":true},\"b\":[1,2,{\"c\":null}]}",
            ),
            ("return cjson.encode(cjson.decode('[1,null,3]'))", "[1,null,3]"),
        ];
        for (code, want) in cases {
            assert_eq!(eval_str(&lua, code), want, "{code}");
        }
    }

    #[test]
    fn decode_errors() {
        let lua = lua();
        for (json, want) in [
            ("[1,", "Expected value but found T_END at character 4"),
            ("[1,]", "Expected value but found T_ARR_END at character 4"),
            (
                "{\"a\":1,}",
                "Expected object key string but found T_OBJ_END at character 8",
            ),
            (
                "{\"a\" 1}",
                "Expected colon but found T_NUMBER at character 6",
            ),
            (
                "[1 2]",
                "Expected comma or array end but found T_NUMBER at character 4",
            ),
            ("x", "Expected value but found invalid token at character 1"),
            (
                "\"abc",
                "Expected value but found unexpected end of string at character 5",
            ),
            (
                "\"a\\x\"",
                "Expected value but found invalid escape code at character 3",
            ),
            (
                "\"\\ud800\"",
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                "[1] x",
                "Expected the end but found invalid token at character 5",
            ),
            (
                "-",
                "Expected value but found invalid number at character 1",
            ),
            (
                ".5",
                "Expected value but found invalid token at character 1",
            ),
        ] {
            let code = format!("return cjson.decode({json:?})");
            assert_eq!(
                error_of(&lua, &code),
                format!("user_script:1: {want}"),
                "{json}"
            );
        }
        let deep = "return cjson.decode(string.rep('[', 1001) .. string.rep(']', 1001))";
        assert_eq!(
            error_of(&lua, deep),
            "user_script:1: Found too many nested data structures (1001) at character 1001"
        );
    }

    #[test]
    fn configuration() {
        let lua = lua();
        let code = "local a = {cjson.encode_sparse_array()} \
            local b = cjson.encode_invalid_numbers('null') local c = cjson.encode({1/0}) \
            cjson.encode_invalid_numbers(false) \
            local d = cjson.encode_number_precision(3) local e = cjson.encode(3.14159) \
            cjson.encode_number_precision(14) \
            return table.concat({tostring(a[1]), a[2], a[3], b, c, d, e}, ' ')";
        assert_eq!(eval_str(&lua, code), "false 2 10 null [null] 3 3.14");
        assert_eq!(
            error_of(&lua, "cjson.encode_max_depth(0)"),
            "user_script:1: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"
        );
        assert_eq!(
            error_of(&lua, "cjson.encode_keep_buffer('x')"),
            "user_script:1: bad argument #1 to 'encode_keep_buffer' (invalid option 'x')"
        );
        // A new instance has its own settings.
        assert_eq!(
            eval_str(&lua, "local c = cjson.new() c.encode_max_depth(3) return c.encode_max_depth() .. ' ' .. cjson.encode_max_depth()"),
            "3 1000"
        );
    }

    #[test]
    fn printf_g_and_strtod() {
        assert_eq!(format_g(0.1, 14), "0.1");
        assert_eq!(format_g(1e20, 14), "1e+20");
        assert_eq!(format_g(100000000000000.0, 14), "1e+14");
        assert_eq!(format_g(12345.0, 3), "1.23e+04");
        assert_eq!(format_g(0.125, 2), "0.12");
        assert_eq!(format_g(-0.0, 14), "-0");
        assert_eq!(strtod(b"1e"), (1.0, 1));
        assert_eq!(strtod(b"-.5x"), (-0.5, 3));
        assert_eq!(strtod(b"0x1p3"), (8.0, 5));
        assert_eq!(strtod(b"0x"), (0.0, 1));
        assert_eq!(strtod(b"infinity!"), (f64::INFINITY, 8));
        assert_eq!(strtod(b"- 1"), (0.0, 0));
    }

    #[test]
    fn matches_redis_recorded_cases() {
        let n = super::super::testutil::check_recorded(include_str!("testdata/cjson.txt"));
        assert!(n > 10);
    }
}
