//! `cmsgpack`: MessagePack for scripts, as lua-cmsgpack 0.4.0 behaves inside Redis 7.0.
//!
//! - `pack(v1, v2, ...)` encodes each argument and concatenates the results. Strings become
//!   fixstr/str8/str16/str32; booleans and nil their codes (functions, userdata and
//!   `cjson.null` encode as nil); a number with an exact `int64` value becomes the smallest
//!   integer format (-0 packs as 0), any other number a float32 when the float32 holds it
//!   exactly (1.5, ±inf) else a float64. A table whose keys are exactly 1..n (including the
//!   empty table) is an array, anything else a map in `next` order; tables nested 16 deep
//!   encode as nil (the library's guard against cycles).
//! - `unpack(s)` returns every value of the stream; `unpack_one(s [, offset])` and
//!   `unpack_limit(s, limit [, offset])` return the next offset first (-1 once the input is
//!   consumed); `unpack_limit(s, 0)` with no offset decodes everything and returns no offset,
//!   as the C code does. Offsets and limits are 0-based byte positions / counts.
//! - Decoding knows the formats lua-cmsgpack 0.4.0 knows: fixint, int/uint 8..64 (uint64
//!   beyond 2^63 comes back negative, as the C cast gives it), float32/64, nil, booleans,
//!   fixstr/str8/16/32, fixarray/array16/32, fixmap/map16/32. bin, ext and 0xc1 are
//!   "Bad data format in input."; truncated input "Missing bytes in input.".
//! - The Lua stack limits of the C library are reproduced by counting the slots it would
//!   use, so too many values or too deep a nesting fail with the same "stack overflow (...)"
//!   messages at the same sizes (8000 slots): unpacking 8000 values or 4000 nested arrays,
//!   packing more than 4000 arguments ("Too many arguments for MessagePack pack.") or
//!   tables among nearly as many. Results are handed to Lua through a table as they are
//!   decoded, so thousands of string results never hold thousands of mlua handles.

use super::{
    arg_err, deeper, err, lib_function, number_to_int, number_to_integer, one, Args, Fail,
};
use super::{LibResult, Results, Ret, Value};
use mlua::{Lua, MultiValue, Table};

/// Tables nested this deep are packed as nil.
const MAX_NESTING: u32 = 16;
/// Lua 5.1's `LUAI_MAXCSTACK`: the most slots a C function may use.
const MAX_C_STACK: usize = 8000;

/// The `cmsgpack` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", lib_function(lua, pack)?)?;
    t.raw_set("unpack", lib_function(lua, unpack)?)?;
    t.raw_set("unpack_one", lib_function(lua, unpack_one)?)?;
    t.raw_set("unpack_limit", lib_function(lua, unpack_limit)?)?;
    t.raw_set("_NAME", "cmsgpack")?;
    t.raw_set("_VERSION", "lua-cmsgpack 0.4.0")?;
    t.raw_set("_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo")?;
    t.raw_set("_DESCRIPTION", "MessagePack C implementation for Lua")?;
    Ok(t)
}

// ---------------------------------------------------------------- encoding

fn pack(lua: &Lua, a: Args<'_>) -> LibResult<MultiValue> {
    if a.len() == 0 {
        return arg_err(0, "MessagePack pack needs input.");
    }
    // The C code asks Lua for one more stack slot per argument.
    if a.len() * 2 > MAX_C_STACK {
        return arg_err(0, "Too many arguments for MessagePack pack.");
    }
    let mut buf = Vec::new();
    let nargs = a.len();
    for (i, v) in a.vals.iter().enumerate() {
        // On the C stack: the arguments, the chunks encoded so far, this value.
        encode_value(&mut buf, v, 0, nargs + i + 1)?;
    }
    Ok(one(Value::String(lua.create_string(&buf)?)))
}

/// Encodes `v`, which the C code would hold as the top of `slots` stack slots.
fn encode_value(buf: &mut Vec<u8>, v: &Value, level: u32, slots: usize) -> LibResult<()> {
    match v {
        Value::String(s) => encode_bytes(buf, &s.as_bytes()),
        Value::Boolean(b) => buf.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => encode_number(buf, *i as f64),
        Value::Number(n) => encode_number(buf, *n),
        Value::Table(t) if level < MAX_NESTING => encode_table(buf, t, level, slots)?,
        _ => buf.push(0xc0),
    }
    Ok(())
}

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_number(buf: &mut Vec<u8>, n: f64) {
    if !n.is_infinite() && number_to_integer(n) as f64 == n {
        encode_int(buf, number_to_integer(n));
    } else {
        let f = n as f32;
        if f as f64 == n {
            buf.push(0xca);
            buf.extend_from_slice(&f.to_be_bytes());
        } else {
            buf.push(0xcb);
            buf.extend_from_slice(&n.to_be_bytes());
        }
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        buf.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        buf.push(0xd2);
        buf.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_len(buf: &mut Vec<u8>, n: usize, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        buf.push(fix | n as u8);
    } else if n <= 0xffff {
        buf.push(b16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(b32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// One pass over the keys: whether they are exactly 1..n (lua-cmsgpack's test: every key
/// a positive number with a C `int` value, and the largest equal to the count), and the
/// count.
fn scan_keys(t: &Table) -> mlua::Result<(bool, usize)> {
    let mut max: i64 = 0;
    let mut count: usize = 0;
    let mut array = true;
    t.for_each::<Value, Value>(|k, _| {
        count += 1;
        if array {
            let n = match k {
                Value::Integer(i) => i as f64,
                Value::Number(n) => n,
                _ => {
                    array = false;
                    return Ok(());
                }
            };
            if n <= 0.0 || number_to_int(n) as f64 != n {
                array = false;
            } else {
                max = max.max(n as i64);
            }
        }
        Ok(())
    })?;
    Ok((array && max == count as i64, count))
}

fn check_stack(slots: usize, more: usize, function: &str) -> LibResult<()> {
    if slots + more > MAX_C_STACK {
        return err(format!("stack overflow (in function {function})"));
    }
    Ok(())
}

fn encode_table(buf: &mut Vec<u8>, t: &Table, level: u32, slots: usize) -> LibResult<()> {
    check_stack(slots, 2, "table_is_an_array")?;
    let (is_array, count) = scan_keys(t)?;
    if is_array {
        check_stack(slots, 1, "mp_encode_lua_table_as_array")?;
        let len = t.raw_len();
        encode_len(buf, len, 0x90, 0xdc, 0xdd);
        for j in 1..=len {
            let v: Value = t.get(j as i64)?;
            encode_value(buf, &v, level + 1, slots + 1)?;
        }
    } else {
        check_stack(slots, 3, "mp_encode_lua_table_as_map")?;
        encode_len(buf, count, 0x80, 0xde, 0xdf);
        for pair in t.pairs::<Value, Value>() {
            let (k, v) = pair?;
            encode_value(buf, &k, level + 1, slots + 3)?;
            encode_value(buf, &v, level + 1, slots + 2)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- decoding

enum DecodeError {
    Eof,
    BadFormat,
    Fail(Fail),
}

impl From<mlua::Error> for DecodeError {
    fn from(e: mlua::Error) -> Self {
        DecodeError::Fail(Fail::Lua(e))
    }
}

fn stack_overflow(what: &str) -> DecodeError {
    DecodeError::Fail(Fail::Msg(format!("stack overflow ({what})").into_bytes()))
}

/// A cursor over the input, counting the Lua stack slots the C decoder would hold.
struct Decoder<'a> {
    lua: &'a Lua,
    data: &'a [u8],
    pos: usize,
    slots: usize,
}

impl Decoder<'_> {
    fn left(&self) -> usize {
        self.data.len() - self.pos
    }

    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.left() < n {
            Err(DecodeError::Eof)
        } else {
            Ok(())
        }
    }

    fn be(&self, from: usize, n: usize) -> u64 {
        self.data[self.pos + from..self.pos + from + n]
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | *b as u64)
    }

    /// Decodes one value; on return it counts as one more slot.
    fn value(&mut self) -> Result<Value, DecodeError> {
        self.need(1)?;
        if self.slots + 1 > MAX_C_STACK {
            return Err(stack_overflow(
                "too many return values at once; use unpack_one or unpack_limit instead.",
            ));
        }
        let b = self.data[self.pos];
        let fixed = |me: &mut Self, n: usize| -> Result<u64, DecodeError> {
            me.need(1 + n)?;
            let v = me.be(1, n);
            me.pos += 1 + n;
            Ok(v)
        };
        let v = match b {
            0xcc..=0xcf => {
                let n = 1usize << (b - 0xcc);
                Value::Number(fixed(self, n)? as i64 as f64)
            }
            0xd0 => Value::Number(fixed(self, 1)? as u8 as i8 as f64),
            0xd1 => Value::Number(fixed(self, 2)? as u16 as i16 as f64),
            0xd2 => Value::Number(fixed(self, 4)? as u32 as i32 as f64),
            0xd3 => Value::Number(fixed(self, 8)? as i64 as f64),
            0xc0 => {
                self.pos += 1;
                Value::Nil
            }
            0xc2 | 0xc3 => {
                self.pos += 1;
                Value::Boolean(b == 0xc3)
            }
            0xca => Value::Number(f32::from_bits(fixed(self, 4)? as u32) as f64),
            0xcb => Value::Number(f64::from_bits(fixed(self, 8)?)),
            0xd9 => {
                self.need(2)?;
                let l = self.data[self.pos + 1] as usize;
                self.string(2, l)?
            }
            0xda | 0xdb => {
                let n = if b == 0xda { 2 } else { 4 };
                self.need(1 + n)?;
                let l = self.be(1, n) as usize;
                self.string(1 + n, l)?
            }
            0xdc | 0xdd => {
                let n = if b == 0xdc { 2 } else { 4 };
                self.need(1 + n)?;
                let l = self.be(1, n) as usize;
                self.pos += 1 + n;
                return self.array(l);
            }
            0xde | 0xdf => {
                let n = if b == 0xde { 2 } else { 4 };
                self.need(1 + n)?;
                let l = self.be(1, n) as usize;
                self.pos += 1 + n;
                return self.map(l);
            }
            _ if b & 0x80 == 0 => {
                self.pos += 1;
                Value::Number(b as f64)
            }
            _ if b & 0xe0 == 0xe0 => {
                self.pos += 1;
                Value::Number(b as i8 as f64)
            }
            _ if b & 0xe0 == 0xa0 => self.string(1, (b & 0x1f) as usize)?,
            _ if b & 0xf0 == 0x90 => {
                self.pos += 1;
                return self.array((b & 0x0f) as usize);
            }
            _ if b & 0xf0 == 0x80 => {
                self.pos += 1;
                return self.map((b & 0x0f) as usize);
            }
            _ => return Err(DecodeError::BadFormat),
        };
        self.slots += 1;
        Ok(v)
    }

    /// A string of `len` bytes after a header of `header` bytes.
    fn string(&mut self, header: usize, len: usize) -> Result<Value, DecodeError> {
        if self.left() < header || self.left() - header < len {
            return Err(DecodeError::Eof);
        }
        let start = self.pos + header;
        let s = self.lua.create_string(&self.data[start..start + len])?;
        self.pos = start + len;
        Ok(Value::String(s))
    }

    fn array(&mut self, len: usize) -> Result<Value, DecodeError> {
        let t = self.lua.create_table()?;
        self.slots += 1;
        if self.slots + 1 > MAX_C_STACK {
            return Err(stack_overflow("in function mp_decode_to_lua_array"));
        }
        for i in 1..=len {
            self.slots += 1;
            let v = deeper(|| self.value())?;
            t.raw_set(i as i64, v)?;
            self.slots -= 2;
        }
        Ok(Value::Table(t))
    }

    fn map(&mut self, len: usize) -> Result<Value, DecodeError> {
        let t = self.lua.create_table()?;
        self.slots += 1;
        for _ in 0..len {
            let k = deeper(|| self.value())?;
            let v = deeper(|| self.value())?;
            match &k {
                Value::Nil => {
                    return Err(DecodeError::Fail(Fail::Raw(b"table index is nil".to_vec())))
                }
                Value::Number(n) if n.is_nan() => {
                    return Err(DecodeError::Fail(Fail::Raw(b"table index is NaN".to_vec())))
                }
                _ => {}
            }
            t.raw_set(k, v)?;
            self.slots -= 2;
        }
        Ok(Value::Table(t))
    }
}

/// lua-cmsgpack's `mp_unpack_full`: `limit == 0 && offset == 0` decodes everything and
/// returns no offset.
fn unpack_full(lua: &Lua, a: &Args<'_>, limit: i64, offset: i64, slots: usize) -> LibResult<Ret> {
    let data = a.check_bytes(1)?;
    let len = data.len();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        return err(format!(
            "Invalid request to unpack with offset of {} and limit of {}.",
            offset as i32, len as i32
        ));
    }
    if offset as u64 > len as u64 {
        return err(format!(
            "Start offset {} greater than input length {}.",
            offset as i32, len as i32
        ));
    }
    let limit = if decode_all { i32::MAX as i64 } else { limit };
    let mut dec = Decoder {
        lua,
        data: &data,
        pos: offset as usize,
        slots,
    };
    let mut out = Results::new(lua)?;
    if !decode_all {
        out.push(Value::Nil)?; // the next offset goes first, once known
    }
    let mut count: i64 = 0;
    while dec.left() > 0 && count < limit {
        match dec.value() {
            Ok(v) => out.push(v)?,
            Err(DecodeError::Eof) => return err("Missing bytes in input."),
            Err(DecodeError::BadFormat) => return err("Bad data format in input."),
            Err(DecodeError::Fail(f)) => return Err(f),
        }
        count += 1;
    }
    if !decode_all {
        if dec.slots + 1 > MAX_C_STACK {
            return err("stack overflow (in function mp_unpack_full)");
        }
        let next = if dec.left() == 0 {
            -1
        } else {
            (len - dec.left()) as i32 as i64
        };
        out.set(1, Value::Integer(next))?;
    }
    Ok(out.done())
}

fn unpack(lua: &Lua, a: Args<'_>) -> LibResult<Ret> {
    let slots = a.len();
    unpack_full(lua, &a, 0, 0, slots)
}

fn unpack_one(lua: &Lua, a: Args<'_>) -> LibResult<Ret> {
    let offset = a.opt_integer(2, 0)?;
    unpack_full(lua, &a, 1, offset, 1)
}

fn unpack_limit(lua: &Lua, a: Args<'_>) -> LibResult<Ret> {
    let limit = a.check_integer(2)?;
    let offset = a.opt_integer(3, 0)?;
    unpack_full(lua, &a, limit, offset, 1)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{error_of, eval_str, lua};

    const HEX: &str = "local function hex(s) return (s:gsub('.', function(c) \
                       return string.format('%02x', c:byte()) end)) end ";
    const UNHEX: &str = "local function unhex(h) return (h:gsub('..', function(x) \
                         return string.char(tonumber(x, 16)) end)) end ";
    const SER: &str = "local function S(v) local t = type(v) if t == 'string' then \
        return string.format('%q', v) elseif t == 'number' then return string.format('%.17g', v) \
        elseif t == 'table' then local ks = {} for k in pairs(v) do ks[#ks+1] = k end \
        table.sort(ks, function(a, b) return tostring(a) < tostring(b) end) local o = {} \
        for _, k in ipairs(ks) do o[#o+1] = '[' .. S(k) .. ']=' .. S(v[k]) end \
        return '{' .. table.concat(o, ',') .. '}' else return tostring(v) end end \
        local function P(...) local o = {} for i = 1, select('#', ...) do \
        o[i] = S((select(i, ...))) end return table.concat(o, ' ') end ";

    fn packs(cases: &[(&str, &str)]) {
        let lua = lua();
        for (args, want) in cases {
            let got = eval_str(&lua, &format!("{HEX} return hex(cmsgpack.pack({args}))"));
            assert_eq!(&got, want, "pack({args})");
        }
    }

    fn unpacks(func: &str, cases: &[(&str, &str, &str)]) {
        let lua = lua();
        for (hex, extra, want) in cases {
            let code = format!("{UNHEX}{SER} return P(cmsgpack.{func}(unhex('{hex}'){extra}))");
            assert_eq!(&eval_str(&lua, &code), want, "{func}({hex}{extra})");
        }
    }

    #[test]
    fn pack_numbers() {
        packs(&[
            ("0", "00"),
            ("127", "7f"),
            ("128", "cc80"),
            ("255", "ccff"),
            ("256", "cd0100"),
            ("65535", "cdffff"),
            ("65536", "ce00010000"),
            ("2^31", "ce80000000"),
            ("4294967296", "cf0000000100000000"),
            ("2^53+1", "cf0020000000000000"),
            ("-1", "ff"),
            ("-32", "e0"),
            ("-33", "d0df"),
            ("-128", "d080"),
            ("-129", "d1ff7f"),
            ("-32769", "d2ffff7fff"),
            ("-2^31", "d280000000"),
            ("-2^31-1", "d3ffffffff7fffffff"),
            ("-2^63", "d38000000000000000"),
            ("-0.0", "00"),
            ("1.5", "ca3fc00000"),
            ("0.1", "cb3fb999999999999a"),
            ("1/0", "ca7f800000"),
            ("-1/0", "caff800000"),
            ("2^63", "ca5f000000"),
            ("2^64", "ca5f800000"),
            ("1e300", "cb7e37e43c8800759c"),
            ("3.4028234663852886e38", "ca7f7fffff"),
        ]);
    }

    #[test]
    fn pack_other_types() {
        packs(&[
            ("''", "a0"),
            ("'abc'", "a3616263"),
            (
                "string.rep('a', 31)",
                "bf61616161616161616161616161616161616161616161616161616161616161",
            ),
            (
                "string.rep('a', 32)",
                "d9206161616161616161616161616161616161616161616161616161616161616161",
            ),
            ("string.rep('a', 255):sub(1, 0)", "a0"),
            ("true, false, nil", "c3c2c0"),
            ("function() end", "c0"),
            ("cjson.null", "c0"),
            ("{}", "90"),
            ("{1, 2, 3}", "93010203"),
            ("{a = 1}", "81a16101"),
            ("{[1] = 1, [3] = 3}", "8201010303"),
            ("{[0] = 1}", "810001"),
            ("{[1.5] = 1}", "81ca3fc0000001"),
            ("{1.5}", "91ca3fc00000"),
            ("{{}, {{}}}", "92909190"),
            ("1, 'a', {2}", "01a1619102"),
        ]);
    }

    #[test]
    fn pack_long_headers() {
        let lua = lua();
        let got = eval_str(
            &lua,
            &format!(
                "{HEX} local s = cmsgpack.pack(string.rep('x', 256)) \
                 local t = {{}} for i = 1, 16 do t[i] = i end local a = cmsgpack.pack(t) \
                 local m = {{}} for i = 1, 16 do m['k' .. i] = i end local h = cmsgpack.pack(m) \
                 local big = {{}} for i = 1, 70000 do big[i] = 0 end local b = cmsgpack.pack(big) \
                 return hex(s:sub(1, 4)) .. ' ' .. #s .. ' ' .. hex(a:sub(1, 4)) .. ' ' .. \
                 hex(h:sub(1, 3)) .. ' ' .. hex(b:sub(1, 6)) .. ' ' .. #b"
            ),
        );
        assert_eq!(got, "da010078 259 dc001001 de0010 dd0001117000 70005");
    }

    #[test]
    fn pack_nesting_limit() {
        let lua = lua();
        let got = eval_str(
            &lua,
            &format!(
                "{HEX} local t = {{}} local cur = t for i = 1, 20 do cur[1] = {{}} cur = cur[1] end \
                 return hex(cmsgpack.pack(t))"
            ),
        );
        // 16 array headers, then nil where the 17th table is.
        assert_eq!(got, format!("{}c0", "91".repeat(16)));
        // A cycle terminates the same way.
        let got = eval_str(
            &lua,
            &format!("{HEX} local t = {{}} t[1] = t return hex(cmsgpack.pack(t))"),
        );
        assert_eq!(got, format!("{}c0", "91".repeat(16)));
    }

    #[test]
    fn unpack_formats() {
        unpacks(
            "unpack",
            &[
                ("", "", ""),
                ("01020304", "", "1 2 3 4"),
                ("cfffffffffffffffff", "", "-1"),
                ("cf8000000000000000", "", "-9.2233720368547758e+18"),
                ("d3ffffffffffffffff", "", "-1"),
                ("d080", "", "-128"),
                ("d18000", "", "-32768"),
                ("d280000000", "", "-2147483648"),
                ("cdffff", "", "65535"),
                ("ceffffffff", "", "4294967295"),
                ("e0ff", "", "-32 -1"),
                ("ca3fc00000", "", "1.5"),
                ("cb3fb999999999999a", "", "0.10000000000000001"),
                ("c0c2c3", "", "nil false true"),
                ("a3616263c0c3", "", "\"abc\" nil true"),
                ("d903616263", "", "\"abc\""),
                ("da0003616263", "", "\"abc\""),
                ("db00000003616263", "", "\"abc\""),
                ("92c0c0", "", "{}"),
                ("93c001c0", "", "{[2]=1}"),
                ("dc0002c3c2", "", "{[1]=true,[2]=false}"),
                ("dd00000001c0", "", "{}"),
                ("de0001a178a179", "", "{[\"x\"]=\"y\"}"),
                ("df00000001a178a179", "", "{[\"x\"]=\"y\"}"),
                ("82a161c0a16201", "", "{[\"b\"]=1}"),
                ("810102", "", "{[1]=2}"),
                ("81ca3fc0000001", "", "{[1.5]=1}"),
                ("9192a1619190", "", "{[1]={[1]=\"a\",[2]={[1]={}}}}"),
            ],
        );
    }

    #[test]
    fn unpack_one_and_limit_shapes() {
        unpacks(
            "unpack_one",
            &[
                ("010203", "", "1 1"),
                ("010203", ", 1", "2 2"),
                ("010203", ", 2", "-1 3"),
                ("010203", ", 3", "-1"),
                ("", "", "-1"),
                ("010203", ", '1'", "2 2"),
                ("010203", ", 1.9", "2 2"),
                ("010203", ", nil", "1 1"),
                ("93010203a0", "", "4 {[1]=1,[2]=2,[3]=3}"),
            ],
        );
        unpacks(
            "unpack_limit",
            &[
                ("010203", ", 2", "2 1 2"),
                ("010203", ", 0", "1 2 3"),
                ("010203", ", 0, 0", "1 2 3"),
                ("010203", ", 0, 1", "1"),
                ("010203", ", 5, 1", "-1 2 3"),
                ("010203", ", 4294967298", "-1 1 2 3"),
            ],
        );
    }

    #[test]
    fn unpack_errors() {
        let lua = lua();
        let cases = [
            (
                "unpack(unhex('cb'))",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "unpack(unhex('9301'))",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "unpack(unhex('db0000'))",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "unpack(unhex('d9'))",
                "user_script:1: Missing bytes in input.",
            ),
            (
                "unpack(unhex('c1'))",
                "user_script:1: Bad data format in input.",
            ),
            (
                "unpack(unhex('c403616263'))",
                "user_script:1: Bad data format in input.",
            ),
            (
                "unpack(unhex('d40102'))",
                "user_script:1: Bad data format in input.",
            ),
            (
                "unpack(unhex('c7020101'))",
                "user_script:1: Bad data format in input.",
            ),
            ("unpack(unhex('81c001'))", "table index is nil"),
            ("unpack(unhex('81ca7fc0000001'))", "table index is NaN"),
            (
                "unpack_one(unhex('010203'), 4)",
                "user_script:1: Start offset 4 greater than input length 3.",
            ),
            (
                "unpack_one(unhex('010203'), -1)",
                "user_script:1: Invalid request to unpack with offset of -1 and limit of 3.",
            ),
            (
                "unpack_limit(unhex('010203'), -1)",
                "user_script:1: Invalid request to unpack with offset of 0 and limit of 3.",
            ),
            (
                "unpack_one(unhex('010203'), 4294967297)",
                "user_script:1: Start offset 1 greater than input length 3.",
            ),
            (
                "unpack_limit(unhex('010203'))",
                "user_script:1: bad argument #2 to 'unpack_limit' (number expected, got no value)",
            ),
            (
                "unpack()",
                "user_script:1: bad argument #1 to 'unpack' (string expected, got no value)",
            ),
            (
                "unpack({})",
                "user_script:1: bad argument #1 to 'unpack' (string expected, got table)",
            ),
            (
                "pack()",
                "user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)",
            ),
        ];
        for (call, want) in cases {
            let got = error_of(&lua, &format!("{UNHEX} return cmsgpack.{call}"));
            assert_eq!(got, want, "{call}");
        }
        assert_eq!(
            eval_str(&lua, "local ok, e = pcall(cmsgpack.pack) return e"),
            "bad argument #0 to '?' (MessagePack pack needs input.)"
        );
    }

    #[test]
    fn stack_limits_match_the_c_library() {
        let lua = lua();
        let count = |n: usize| {
            eval_str(
                &lua,
                &format!(
                    "local ok, e = pcall(function() return select('#', \
                     cmsgpack.unpack(string.rep(string.char(0xc0), {n}))) end) return tostring(e)"
                ),
            )
        };
        assert_eq!(count(7999), "7999");
        assert_eq!(
            count(8000),
            "user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
        );
        let nest = |prefix: &str, n: usize| {
            eval_str(
                &lua,
                &format!(
                    "local ok, e = pcall(function() cmsgpack.unpack(string.rep('{prefix}', {n}) .. '\\1') \
                     return 'ok' end) return e"
                ),
            )
        };
        assert_eq!(nest("\\145", 3999), "ok");
        assert_eq!(
            nest("\\145", 4000),
            "user_script:1: stack overflow (in function mp_decode_to_lua_array)"
        );
        assert_eq!(nest("\\129\\1", 3999), "ok");
        assert_eq!(
            nest("\\129\\1", 4000),
            "user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
        );
    }

    #[test]
    fn round_trips_and_bullmq_like_usage() {
        let lua = lua();
        let code = format!(
            "{SER} local opts = {{attempts = 3, delay = 0, backoff = {{type = 'exponential', delay = 1000}}, \
             removeOnComplete = true, priority = 2.5, jobId = 'job:42', timestamp = 1733000000123, \
             tags = {{'a', 'b'}}, parent = {{id = 'p1', queue = 'bull:q'}}}} \
             local packed = cmsgpack.pack(opts) local back = cmsgpack.unpack(packed) \
             assert(S(back) == S(opts), S(back)) \
             local a, b, c = cmsgpack.unpack(cmsgpack.pack('x', {{1, {{2, {{3}}}}}}, -7.25)) \
             return S(a) .. ' ' .. S(b) .. ' ' .. S(c) .. ' ' .. cjson.encode(back.tags)"
        );
        assert_eq!(
            eval_str(&lua, &code),
            "\"x\" {[1]=1,[2]={[1]=2,[2]={[1]=3}}} -7.25 [\"a\",\"b\"]"
        );
        // A msgpackr-style payload: map16 of str8 keys, float64 and uint32 values.
        let got = eval_str(
            &lua,
            &format!(
                "{UNHEX}{SER} local t = cmsgpack.unpack(unhex('de0002d90564656c6179cb3ff8000000000000d90474696d65ce6744f3c0')) \
                 return S(t)"
            ),
        );
        assert_eq!(got, "{[\"delay\"]=1.5,[\"time\"]=1732572096}");
    }

    #[test]
    fn matches_redis_recorded_cases() {
        let n = super::super::testutil::check_recorded(include_str!("testdata/cmsgpack.txt"));
        assert!(n > 10);
    }
}
