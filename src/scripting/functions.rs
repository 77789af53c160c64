//! Function libraries (FUNCTION LOAD … FCALL) and the FUNCTION DUMP/RESTORE payload.
//!
//! A library is Lua code with a `#!lua name=<lib>` first line; loading runs it once in an
//! environment that only has `redis.register_function`, `redis.log` and the version
//! constants (as Redis 7.0 does), collecting the functions it registers; afterwards the
//! environment is switched to the full sandboxed globals, which the function bodies then see.
//!
//! The dump payload is Redis's: for each library the RDB opcode `FUNCTION2` (245) and the
//! library code as an RDB string, then the RDB version (2 bytes little endian, 10) and the
//! CRC-64 (Jones) of everything before it (8 bytes little endian). RDB strings are read in
//! every encoding Redis writes (plain, integer, LZF-compressed) and written as Redis writes
//! them (LZF with Redis's liblzf parameters), so a library dumps to the same bytes here and
//! in Redis (libraries come out in name order; Redis's order is its hash table's).

use std::collections::BTreeMap;

use bytes::Bytes;
use mlua::{Function, Lua, Table, Value};

use super::engine::{self, Engine, FLAG_NAMES, LOADING};

/// One registered function.
pub struct Registered {
    /// The function name (unique across libraries).
    pub name: String,
    /// The Lua function.
    pub func: Function,
    /// Its flags (`no-writes`, `allow-oom`…; see `engine`'s flag constants).
    pub flags: u32,
    /// The description given to `redis.register_function`, if any.
    pub description: Option<String>,
}

/// One loaded library.
pub struct Library {
    /// The library name (`#!lua name=…`).
    pub name: String,
    /// The library source, as loaded.
    pub code: Bytes,
    /// Its functions, by name.
    pub functions: BTreeMap<String, Registered>,
}

/// Every loaded library, by name.
#[derive(Default)]
pub struct Libraries {
    /// The libraries, by name.
    pub libs: BTreeMap<String, Library>,
}

impl Libraries {
    /// (functions, libraries, bytes of code and names) for INFO.
    pub fn figures(&self) -> (usize, usize, usize) {
        let functions = self.libs.values().map(|l| l.functions.len()).sum();
        let mem = self
            .libs
            .values()
            .map(|l| {
                l.code.len()
                    + l.name.len()
                    + 64
                    + l.functions
                        .values()
                        .map(|f| f.name.len() + 48 + f.description.as_ref().map_or(0, |d| d.len()))
                        .sum::<usize>()
            })
            .sum();
        (functions, self.libs.len(), mem)
    }

    /// The library and function named `name`.
    pub fn find(&self, name: &str) -> Option<(&Library, &Registered)> {
        self.libs
            .values()
            .find_map(|l| l.functions.get(name).map(|f| (l, f)))
    }
}

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// `redis.register_function` (called from Lua while a library loads): `Err` is the error
/// text the Lua wrapper raises.
pub fn register(_lua: &Lua, args: &[Value]) -> Result<(), String> {
    let parsed = parse_register(args)?;
    LOADING.with(|l| {
        let mut l = l.borrow_mut();
        let Some(list) = l.as_mut() else {
            return Err(
                "ERR redis.register_function can only be called on FUNCTION LOAD command".into(),
            );
        };
        if !valid_name(&parsed.name) {
            // (Redis 7.0 reuses its library-name text here.)
            return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
        }
        if list.iter().any(|f| f.name == parsed.name) {
            return Err("ERR Function already exists in the library".into());
        }
        list.push(parsed);
        Ok(())
    })
}

fn parse_register(args: &[Value]) -> Result<Registered, String> {
    let e = |m: &str| format!("ERR {m}");
    if let [Value::Table(t)] = args {
        let (mut name, mut func, mut flags, mut description) = (None, None, 0, None);
        for pair in t.pairs::<Value, Value>() {
            let (k, v) =
                pair.map_err(|_| e("unknown argument given to redis.register_function"))?;
            let key = match &k {
                Value::String(s) => s.to_string_lossy(),
                _ => return Err(e("unknown argument given to redis.register_function")),
            };
            match key.as_str() {
                "function_name" => match v {
                    Value::String(s) => name = Some(s.to_string_lossy()),
                    _ => return Err(e(
                        "function_name argument given to redis.register_function must be a string",
                    )),
                },
                "description" => match v {
                    Value::String(s) => description = Some(s.to_string_lossy()),
                    _ => return Err(e(
                        "description argument given to redis.register_function must be a string",
                    )),
                },
                "callback" => {
                    match v {
                        Value::Function(f) => func = Some(f),
                        _ => return Err(e(
                            "callback argument given to redis.register_function must be a function",
                        )),
                    }
                }
                "flags" => {
                    let Value::Table(ft) = v else {
                        return Err(e("flags argument to redis.register_function must be a table representing function flags"));
                    };
                    flags = parse_flags(&ft).ok_or_else(|| e("unknown flag given"))?;
                }
                _ => return Err(e("unknown argument given to redis.register_function")),
            }
        }
        let name =
            name.ok_or_else(|| e("redis.register_function must get a function name argument"))?;
        let func = func.ok_or_else(|| e("redis.register_function must get a callback argument"))?;
        return Ok(Registered {
            name,
            func,
            flags,
            description,
        });
    }
    if args.len() != 2 {
        return Err(e("wrong number of arguments to redis.register_function"));
    }
    let Value::String(name) = &args[0] else {
        return Err(e(
            "first argument to redis.register_function must be a string",
        ));
    };
    let Value::Function(func) = &args[1] else {
        return Err(e(
            "second argument to redis.register_function must be a function",
        ));
    };
    Ok(Registered {
        name: name.to_string_lossy(),
        func: func.clone(),
        flags: 0,
        description: None,
    })
}

fn parse_flags(t: &Table) -> Option<u32> {
    let mut flags = 0;
    for v in t.sequence_values::<Value>() {
        let Ok(Value::String(s)) = v else {
            return None;
        };
        let s = s.to_string_lossy();
        flags |= FLAG_NAMES.iter().find(|(n, _)| *n == s)?.1;
    }
    Some(flags)
}

/// The library name in a `#!lua name=<lib>` first line.
pub fn parse_metadata(code: &[u8]) -> Result<String, String> {
    parse_metadata_at(code).map(|(name, _)| name)
}

/// [`parse_metadata`], and where the code after the first line starts (at its newline, so
/// line numbers count the metadata line, as in Redis).
fn parse_metadata_at(code: &[u8]) -> Result<(String, usize), String> {
    if !code.starts_with(b"#!") {
        return Err("ERR Missing library metadata".into());
    }
    let Some(end) = code.iter().position(|&c| c == b'\n') else {
        return Err("ERR Invalid library metadata".into());
    };
    let line = String::from_utf8_lossy(&code[2..end]).into_owned();
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("");
    let mut name = None;
    for p in parts {
        match p.strip_prefix("name=") {
            Some(n) => name = Some(n.to_string()),
            None => return Err(format!("ERR Invalid metadata value given: {p}")),
        }
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    if !valid_name(&name) {
        return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    Ok((name, end))
}

impl Engine {
    /// FUNCTION LOAD: compiles and runs the library code, then installs its functions.
    /// Returns the library name; `Err` is a reply text.
    pub fn load_library(&mut self, code: Bytes, replace: bool) -> Result<String, String> {
        let (name, body_at) = parse_metadata_at(&code)?;
        if self.libraries.libs.contains_key(&name) && !replace {
            return Err(format!("ERR Library '{name}' already exists"));
        }
        let vm = &self.func;
        let (env, done): (Table, Function) = vm
            .library_env
            .call(())
            .map_err(|e| format!("ERR {}", engine::lua_error_text(&e)))?;
        let chunk = vm
            .lua
            .load(&code[body_at..])
            .set_name("@user_function")
            .set_environment(env)
            .into_function()
            .map_err(|e| {
                format!(
                    "ERR Error compiling function: {}",
                    engine::lua_error_text(&e)
                )
            })?;
        LOADING.with(|l| *l.borrow_mut() = Some(Vec::new()));
        let ran = vm
            .lua
            .load("local f = ... ; return xpcall(f, function(e) return e end)")
            .set_name("=api")
            .call::<(bool, Value)>(chunk);
        let registered = LOADING.with(|l| l.borrow_mut().take()).unwrap_or_default();
        match ran {
            Ok((true, _)) => {}
            Ok((false, v)) => {
                let msg = match &v {
                    Value::Table(t) => t
                        .raw_get::<Option<String>>("err")
                        .ok()
                        .flatten()
                        .unwrap_or_default(),
                    Value::String(s) => format!("ERR {}", s.to_string_lossy()),
                    Value::Error(e) => format!("ERR {}", engine::lua_error_text(e)),
                    _ => "ERR unknown error".into(),
                };
                return Err(format!("ERR Error registering functions: {msg}"));
            }
            Err(e) => {
                return Err(format!(
                    "ERR Error registering functions: ERR {}",
                    engine::lua_error_text(&e)
                ))
            }
        }
        if registered.is_empty() {
            return Err("ERR No functions registered".into());
        }
        for f in &registered {
            if let Some((lib, _)) = self.libraries.find(&f.name) {
                if lib.name != name {
                    return Err(format!("ERR Function {} already exists", f.name));
                }
            }
        }
        let _ = done.call::<()>(());
        let functions = registered
            .into_iter()
            .map(|f| (f.name.clone(), f))
            .collect();
        self.libraries.libs.insert(
            name.clone(),
            Library {
                name: name.clone(),
                code,
                functions,
            },
        );
        Ok(name)
    }

    /// FUNCTION FLUSH: every library goes, and the functions' Lua state is rebuilt.
    pub fn flush_functions(&mut self, gate: std::sync::Arc<super::Gate>) {
        self.libraries.libs.clear();
        if let Ok(vm) = engine::new_functions_vm(gate) {
            self.func = vm;
        }
    }

    /// FUNCTION DUMP's payload.
    pub fn dump_libraries(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for lib in self.libraries.libs.values() {
            out.push(OPCODE_FUNCTION2);
            write_rdb_string(&mut out, &lib.code);
        }
        out.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(0, &out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }
}

/// RDB opcode of a function library in a dump (Redis 7.0's `RDB_OPCODE_FUNCTION2`).
pub const OPCODE_FUNCTION2: u8 = 245;
/// The RDB version Redis 7.0 writes.
pub const RDB_VERSION: u16 = 10;

/// Checks a FUNCTION RESTORE payload's footer and returns the libraries' code.
pub fn parse_dump(payload: &[u8]) -> Result<Vec<Bytes>, &'static str> {
    const BAD: &str = "ERR DUMP payload version or checksum are wrong";
    if payload.len() < 10 {
        return Err(BAD);
    }
    let (body, footer) = payload.split_at(payload.len() - 10);
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    let crc = u64::from_le_bytes(crc);
    if version > RDB_VERSION || crc64(0, &payload[..payload.len() - 8]) != crc {
        return Err(BAD);
    }
    let mut pos = 0;
    let mut libs = Vec::new();
    while pos < body.len() {
        if body[pos] != OPCODE_FUNCTION2 {
            return Err("ERR given type is not a function");
        }
        pos += 1;
        let s = read_rdb_string(body, &mut pos).ok_or("ERR Bad data format")?;
        libs.push(Bytes::from(s));
    }
    Ok(libs)
}

fn write_rdb_len(out: &mut Vec<u8>, n: usize) {
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u32::MAX as usize {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
}

/// An RDB string as Redis writes it with `rdbcompression yes`: LZF-compressed (`0xC3`,
/// compressed length, length, data) when it is longer than 20 bytes and compresses into
/// less than its length minus 4; plain otherwise. (Library code is never integer-like.)
fn write_rdb_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() > 20 {
        if let Some(c) = lzf_compress(s, s.len() - 4) {
            out.push(0xC3);
            write_rdb_len(out, c.len());
            write_rdb_len(out, s.len());
            out.extend_from_slice(&c);
            return;
        }
    }
    write_rdb_len(out, s.len());
    out.extend_from_slice(s);
}

/// LZF compression with the parameters Redis builds liblzf with (a 2^16-slot hash table of
/// 3-byte prefixes, "very fast" mode: after a match only the last two positions are
/// rehashed), so the output is byte for byte what Redis writes. `None` when the result
/// would not fit in `max_out` bytes.
pub fn lzf_compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    const HLOG: u32 = 16;
    const HSIZE: usize = 1 << HLOG;
    const MAX_LIT: usize = 1 << 5;
    const MAX_OFF: usize = 1 << 13;
    const MAX_REF: usize = (1 << 8) + (1 << 3);
    let n = input.len();
    if n < 3 {
        return None;
    }
    let idx = |h: u32| -> usize {
        ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
    };
    let first = |p: usize| -> u32 { (u32::from(input[p]) << 8) | u32::from(input[p + 1]) };
    let next = |v: u32, p: usize| -> u32 { (v << 8) | u32::from(input[p + 2]) };
    // Positions + 1 (0: empty slot).
    let mut htab = vec![0usize; HSIZE];
    let mut out: Vec<u8> = Vec::with_capacity(max_out + 1);
    let mut lit: usize = 0;
    out.push(0); // the first literal run's length byte
    let mut ip = 0usize;
    let mut hval = first(ip);
    while ip + 2 < n {
        hval = next(hval, ip);
        let slot = idx(hval);
        let reference = htab[slot];
        htab[slot] = ip + 1;
        let found = reference != 0 && {
            let r = reference - 1;
            let off = ip - r - 1;
            off < MAX_OFF
                && r > 0
                && input[r + 2] == input[ip + 2]
                && input[r] == input[ip]
                && input[r + 1] == input[ip + 1]
        };
        if found {
            let r = reference - 1;
            let off = ip - r - 1;
            let mut len = 2;
            let maxlen = (n - ip - len).min(MAX_REF);
            if out.len() + 3 + 1 >= max_out && out.len() - usize::from(lit == 0) + 3 + 1 >= max_out
            {
                return None;
            }
            let at = out.len() - lit - 1;
            out[at] = (lit as u8).wrapping_sub(1);
            if lit == 0 {
                out.pop();
            }
            loop {
                len += 1;
                if len >= maxlen || input[r + len] != input[ip + len] {
                    break;
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out.push(((off >> 8) + (len << 5)) as u8);
            } else {
                out.push(((off >> 8) + (7 << 5)) as u8);
                out.push((len - 7) as u8);
            }
            out.push(off as u8);
            lit = 0;
            out.push(0);
            ip += len + 1;
            if ip + 2 >= n {
                break;
            }
            ip -= 2;
            hval = first(ip);
            hval = next(hval, ip);
            htab[idx(hval)] = ip + 1;
            ip += 1;
            hval = next(hval, ip);
            htab[idx(hval)] = ip + 1;
            ip += 1;
        } else {
            if out.len() >= max_out {
                return None;
            }
            lit += 1;
            out.push(input[ip]);
            ip += 1;
            if lit == MAX_LIT {
                let at = out.len() - lit - 1;
                out[at] = (lit - 1) as u8;
                lit = 0;
                out.push(0);
            }
        }
    }
    if out.len() + 3 > max_out {
        return None;
    }
    while ip < n {
        lit += 1;
        out.push(input[ip]);
        ip += 1;
        if lit == MAX_LIT {
            let at = out.len() - lit - 1;
            out[at] = (lit - 1) as u8;
            lit = 0;
            out.push(0);
        }
    }
    let at = out.len() - lit - 1;
    out[at] = (lit as u8).wrapping_sub(1);
    if lit == 0 {
        out.pop();
    }
    Some(out)
}

/// A length, or `Err(encoding)` for the special string encodings (`11xxxxxx`).
fn read_rdb_len(b: &[u8], pos: &mut usize) -> Option<Result<usize, u8>> {
    let first = *b.get(*pos)?;
    *pos += 1;
    Some(match first >> 6 {
        0 => Ok(usize::from(first & 0x3f)),
        1 => {
            let second = *b.get(*pos)?;
            *pos += 1;
            Ok((usize::from(first & 0x3f) << 8) | usize::from(second))
        }
        2 => match first {
            0x80 => {
                let v = b.get(*pos..*pos + 4)?;
                *pos += 4;
                Ok(u32::from_be_bytes([v[0], v[1], v[2], v[3]]) as usize)
            }
            0x81 => {
                let v = b.get(*pos..*pos + 8)?;
                *pos += 8;
                let mut a = [0u8; 8];
                a.copy_from_slice(v);
                Ok(usize::try_from(u64::from_be_bytes(a)).ok()?)
            }
            _ => return None,
        },
        _ => Err(first & 0x3f),
    })
}

fn read_rdb_string(b: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    match read_rdb_len(b, pos)? {
        Ok(n) => {
            let s = b.get(*pos..*pos + n)?.to_vec();
            *pos += n;
            Some(s)
        }
        Err(0) => {
            let v = *b.get(*pos)? as i8;
            *pos += 1;
            Some(v.to_string().into_bytes())
        }
        Err(1) => {
            let v = b.get(*pos..*pos + 2)?;
            *pos += 2;
            Some(i16::from_le_bytes([v[0], v[1]]).to_string().into_bytes())
        }
        Err(2) => {
            let v = b.get(*pos..*pos + 4)?;
            *pos += 4;
            Some(
                i32::from_le_bytes([v[0], v[1], v[2], v[3]])
                    .to_string()
                    .into_bytes(),
            )
        }
        Err(3) => {
            let clen = read_rdb_len(b, pos)?.ok()?;
            let len = read_rdb_len(b, pos)?.ok()?;
            let data = b.get(*pos..*pos + clen)?;
            *pos += clen;
            lzf_decompress(data, len)
        }
        Err(_) => None,
    }
}

/// LZF decompression (the format RDB strings are compressed with): literal runs
/// (`000LLLLL` + L+1 bytes) and back references (`LLLooooo [L+] oooooooo`: length+2 bytes
/// from `offset+1` back).
pub fn lzf_decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len);
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            out.extend_from_slice(input.get(i..i + run)?);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(i)?);
                i += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(i)?) + 1;
            i += 1;
            let start = out.len().checked_sub(back)?;
            for k in 0..len + 2 {
                let c = out[start + k];
                out.push(c);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

/// CRC-64 with the Jones polynomial (reflected), as Redis's DUMP and RDB use.
pub fn crc64(mut crc: u64, data: &[u8]) -> u64 {
    static TABLE: std::sync::OnceLock<[u64; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        const POLY: u64 = 0x95ac_9329_ac4b_c9b5;
        let mut t = [0u64; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u64;
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            }
            *slot = c;
        }
        t
    });
    for &b in data {
        crc = table[((crc ^ u64::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// The AOF base section of function libraries (see [`crate::aof::register_base_section`]):
/// `FUNCTION LOAD <code>` per library, as Redis writes them at the start of a rewritten base,
/// so a restart loads the libraries before the keys.
pub fn aof_base_section(shared: &crate::shared::Shared) -> Vec<Vec<bytes::Bytes>> {
    let engine = shared.scripting.engine.lock();
    engine
        .libraries
        .libs
        .values()
        .map(|lib| {
            vec![
                bytes::Bytes::from_static(b"FUNCTION"),
                bytes::Bytes::from_static(b"LOAD"),
                lib.code.clone(),
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_jones_test_vector() {
        assert_eq!(crc64(0, b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn redis_dump_parses() {
        // FUNCTION DUMP from Redis 7.0.15 (two libraries, LZF-compressed code).
        let payload = b"\xf5\xc3@w@\x81\x1f#!lua name=l2\nredis.register_fun\x05ction{\xc0\x08\x00_`(\x0e'f2', callback=\xc0\x1c\x1f() return 1 end, flags={'no-writ\x0ces'}, descrip@V\x04='d'}\xf5\xc3@`@g\x1f#!lua name=l1\nredis.register_fun\x0bction('f1', \xe0\x00\x0e\x11keys, args) return \x06@9\x08call('get -@$\x08[1]) end)\n\x00\xb7\xce$\x16\x1c\x02W@";
        let libs = parse_dump(payload).unwrap();
        assert_eq!(libs.len(), 2);
        assert_eq!(
            &libs[0][..],
            &b"#!lua name=l2\nredis.register_function{function_name='f2', callback=function() return 1 end, flags={'no-writes'}, description='d'}"[..]
        );
        assert_eq!(
            &libs[1][..],
            &b"#!lua name=l1\nredis.register_function('f1', function(keys, args) return redis.call('get', keys[1]) end)"[..]
        );
    }

    /// FUNCTION DUMP writes what Redis 7.0.15 writes for the same library, byte for byte.
    #[test]
    fn dump_matches_redis() {
        let code = b"#!lua name=l1\nredis.register_function(\"f1\", function(keys, args) return redis.call(\"get\", keys[1]) end)";
        let redis: &[u8] = b"\xf5\xc3@`@g\x1f#!lua name=l1\nredis.register_fun\x0bction(\"f1\", \xe0\x00\x0e\x11keys, args) return \x06@9\x08call(\"get -@$\x08[1]) end)\n\x00\xf9\x91\x1e\xb1\x0b\r\xb7\xea";
        let mut out = Vec::new();
        out.push(OPCODE_FUNCTION2);
        write_rdb_string(&mut out, code);
        out.extend_from_slice(&RDB_VERSION.to_le_bytes());
        let crc = crc64(0, &out);
        out.extend_from_slice(&crc.to_le_bytes());
        assert_eq!(out, redis);
        let libs = parse_dump(&out).unwrap();
        assert_eq!(&libs[0][..], &code[..]);
    }

    #[test]
    fn lzf_round_trips() {
        let text: Vec<u8> = (0..5000u32)
            .flat_map(|i| format!("line {} of {}\n", i % 37, i % 11).into_bytes())
            .collect();
        let c = lzf_compress(&text, text.len()).unwrap();
        assert!(c.len() < text.len() / 3);
        assert_eq!(lzf_decompress(&c, text.len()).unwrap(), text);
        // Incompressible data does not fit.
        let noise: Vec<u8> = (0..200u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(lzf_compress(&noise, noise.len() - 4).is_none());
    }

    #[test]
    fn metadata() {
        assert_eq!(parse_metadata(b"#!lua name=x\n").unwrap(), "x");
        assert_eq!(
            parse_metadata(b"xx").unwrap_err(),
            "ERR Missing library metadata"
        );
        assert_eq!(
            parse_metadata(b"#!lu name=x\n").unwrap_err(),
            "ERR Engine 'lu' not found"
        );
        assert_eq!(
            parse_metadata(b"#!lua\n").unwrap_err(),
            "ERR Library name was not given"
        );
    }
}
