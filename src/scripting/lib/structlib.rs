//! `struct`: binary packing as lua-struct 0.9.2 does it inside Redis 7.0 (x86-64 sizes:
//! `h` 2, `i` 4, `l`/`T` 8, native little-endian).
//!
//! Formats: `<` `>` set the byte order, `![n]` the maximum alignment (default 8, a power
//! of two), spaces are ignored; `b/B h/H l/L T i[n]/I[n]` (n ≤ 32) integers, `f` `d`
//! floats, `s` zero-terminated strings, `c[n]` fixed strings (`c0`: the whole string when
//! packing; when unpacking, the length is the previous result), `x` a zero byte. The
//! format ends at its first NUL, as a C string does.
//!
//! Integers convert as the C code does on x86-64: numbers are truncated; negative ones wrap
//! through `long`, out-of-range ones give the "integer indefinite" bit pattern; sizes above
//! 8 bytes pad with zeros and read only 8 bytes, with the sign mask shift taken modulo 64.
//! `unpack(fmt, s, pos)` accepts any `pos` ≥ 1 (and, as Redis's copy does, values that wrap
//! when 1 is subtracted); one deliberate difference: where Redis's bounds check
//! (`pos + size <= len`) would wrap around and read outside the string, this one reports
//! "data string too short".

use super::{arg_err, err, lib_function, number_to_integer, Args, LibResult, Results, Ret};
use mlua::{Lua, MultiValue, Table, Value};

const MAX_INT_SIZE: usize = 32;
const MAX_ALIGN: usize = 8;
const MAX_C_STACK: usize = 8000;

/// The `struct` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("pack", lib_function(lua, pack)?)?;
    t.raw_set("unpack", lib_function(lua, unpack)?)?;
    t.raw_set("size", lib_function(lua, size)?)?;
    Ok(t)
}

#[derive(Clone, Copy, PartialEq)]
enum Endian {
    Little,
    Big,
}

struct Header {
    endian: Endian,
    align: usize,
}

impl Default for Header {
    fn default() -> Self {
        Header {
            endian: Endian::Little,
            align: 1,
        }
    }
}

/// The format string, read as C reads it (up to its first NUL).
struct Format {
    bytes: Vec<u8>,
    pos: usize,
}

impl Format {
    fn new(mut bytes: Vec<u8>) -> Self {
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            bytes.truncate(nul);
        }
        Format { bytes, pos: 0 }
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.bytes.get(self.pos).copied()?;
        self.pos += 1;
        Some(c)
    }

    /// `getnum`: a decimal number at the cursor, or `default`.
    fn number(&mut self, default: usize) -> LibResult<usize> {
        if !self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            return Ok(default);
        }
        let mut a: i32 = 0;
        while let Some(&c) = self.bytes.get(self.pos).filter(|c| c.is_ascii_digit()) {
            let d = (c - b'0') as i32;
            if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
                return err("integral size overflow");
            }
            a = a * 10 + d;
            self.pos += 1;
        }
        Ok(a as usize)
    }

    /// `optsize`: the size of option `opt`, reading its count.
    fn size(&mut self, opt: u8) -> LibResult<usize> {
        Ok(match opt {
            b'B' | b'b' => 1,
            b'H' | b'h' => 2,
            b'L' | b'l' | b'T' | b'd' => 8,
            b'f' => 4,
            b'x' => 1,
            b'c' => self.number(1)?,
            b'i' | b'I' => {
                let sz = self.number(4)?;
                if sz > MAX_INT_SIZE {
                    return err(format!(
                        "integral size {sz} is larger than limit of {MAX_INT_SIZE}"
                    ));
                }
                sz
            }
            _ => 0,
        })
    }

    /// `controloptions`: byte order, alignment, spaces; anything else is invalid.
    fn control(&mut self, opt: u8, h: &mut Header) -> LibResult<()> {
        match opt {
            b' ' => {}
            b'>' => h.endian = Endian::Big,
            b'<' => h.endian = Endian::Little,
            b'!' => {
                let a = self.number(MAX_ALIGN)?;
                if a == 0 || a & (a - 1) != 0 {
                    return err(format!("alignment {a} is not a power of 2"));
                }
                h.align = a;
            }
            _ => {
                let mut msg = b"invalid format option '".to_vec();
                msg.push(opt);
                msg.push(b'\'');
                return arg_err(1, msg);
            }
        }
        Ok(())
    }
}

/// `gettoalign`: padding before an item of `size` at offset `len`.
fn to_align(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align);
    (size.wrapping_sub(len & size.wrapping_sub(1))) & size.wrapping_sub(1)
}

/// `(unsigned long)n` as x86-64 code computes it.
fn to_unsigned(n: f64) -> u64 {
    if n >= 9_223_372_036_854_775_808.0 {
        (number_to_integer(n - 9_223_372_036_854_775_808.0) as u64) ^ (1 << 63)
    } else {
        number_to_integer(n) as u64
    }
}

fn put_integer(out: &mut Vec<u8>, n: f64, endian: Endian, size: usize) {
    let mut value = if n < 0.0 {
        number_to_integer(n) as u64
    } else {
        to_unsigned(n)
    };
    let mut buf = vec![0u8; size];
    for i in 0..size {
        let slot = if endian == Endian::Little {
            i
        } else {
            size - 1 - i
        };
        buf[slot] = (value & 0xff) as u8;
        value = value.checked_shr(8).unwrap_or(0);
    }
    out.extend_from_slice(&buf);
}

fn get_integer(buf: &[u8], endian: Endian, signed: bool) -> f64 {
    let size = buf.len();
    let mut l: u64 = 0;
    for i in 0..size {
        let b = if endian == Endian::Big {
            buf[i]
        } else {
            buf[size - 1 - i]
        };
        l = (l << 8) | b as u64;
    }
    if !signed {
        return l as f64;
    }
    let shift = ((size * 8).wrapping_sub(1) & 63) as u32;
    let mask = u64::MAX << shift;
    if l & mask != 0 {
        l |= mask;
    }
    l as i64 as f64
}

fn pack(lua: &Lua, mut a: Args<'_>) -> LibResult<MultiValue> {
    let mut fmt = Format::new(a.check_bytes(1)?);
    // The C code pushes a nil mark above the arguments, so a missing first extra argument
    // reads as nil ("got nil", not "got no value").
    a.vals.push(Value::Nil);
    let mut h = Header::default();
    let mut arg = 2;
    let mut out: Vec<u8> = Vec::new();
    let mut total: usize = 0;
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(opt)?;
        let pad = to_align(total, &h, opt, size);
        total = total.wrapping_add(pad);
        out.resize(out.len() + pad, 0);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let n = a.check_number(arg)?;
                arg += 1;
                put_integer(&mut out, n, h.endian, size);
            }
            b'x' => out.push(0),
            b'f' => {
                let f = a.check_number(arg)? as f32;
                arg += 1;
                out.extend_from_slice(&match h.endian {
                    Endian::Little => f.to_le_bytes(),
                    Endian::Big => f.to_be_bytes(),
                });
            }
            b'd' => {
                let d = a.check_number(arg)?;
                arg += 1;
                out.extend_from_slice(&match h.endian {
                    Endian::Little => d.to_le_bytes(),
                    Endian::Big => d.to_be_bytes(),
                });
            }
            b'c' | b's' => {
                let s = a.check_bytes(arg)?;
                arg += 1;
                if size == 0 {
                    size = s.len();
                }
                if s.len() < size {
                    // lua-struct names the argument after the one it read.
                    return arg_err(arg, "string too short");
                }
                out.extend_from_slice(&s[..size]);
                if opt == b's' {
                    out.push(0);
                    size += 1;
                }
            }
            _ => fmt.control(opt, &mut h)?,
        }
        total = total.wrapping_add(size);
    }
    Ok(MultiValue::from_vec(vec![Value::String(
        lua.create_string(&out)?,
    )]))
}

fn unpack(lua: &Lua, a: Args<'_>) -> LibResult<Ret> {
    let mut fmt = Format::new(a.check_bytes(1)?);
    let data = a.check_bytes(2)?;
    let ld = data.len();
    let start = a.opt_integer(3, 1)? as u64 as usize;
    if start == 0 {
        return arg_err(3, "offset must be 1 or greater");
    }
    let mut pos = start - 1;
    let base_slots = a.len();
    let mut h = Header::default();
    let mut out = Results::new(lua)?;
    let too_short = |pos: usize, size: usize| size > ld || pos > ld - size;
    while let Some(opt) = fmt.next() {
        let mut size = fmt.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if too_short(pos, size) {
            return arg_err(2, "data string too short");
        }
        if base_slots + out.len() + 2 > MAX_C_STACK {
            return err("stack overflow (too many results)");
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let signed = opt.is_ascii_lowercase();
                let n = get_integer(&data[pos..pos + size], h.endian, signed);
                out.push(Value::Number(n))?;
            }
            b'x' => {}
            b'f' => {
                let b: [u8; 4] = data[pos..pos + 4].try_into().unwrap_or([0; 4]);
                let f = match h.endian {
                    Endian::Little => f32::from_le_bytes(b),
                    Endian::Big => f32::from_be_bytes(b),
                };
                out.push(Value::Number(f as f64))?;
            }
            b'd' => {
                let b: [u8; 8] = data[pos..pos + 8].try_into().unwrap_or([0; 8]);
                let d = match h.endian {
                    Endian::Little => f64::from_le_bytes(b),
                    Endian::Big => f64::from_be_bytes(b),
                };
                out.push(Value::Number(d))?;
            }
            b'c' => {
                if size == 0 {
                    let prev = match out.last()? {
                        Some(v) => super::to_number(lua, Some(&v))?,
                        None => None,
                    };
                    let Some(n) = prev else {
                        return err("format 'c0' needs a previous size");
                    };
                    out.pop()?;
                    size = to_unsigned(n) as usize;
                    if too_short(pos, size) {
                        return arg_err(2, "data string too short");
                    }
                }
                out.push(Value::String(lua.create_string(&data[pos..pos + size])?))?;
            }
            b's' => {
                let Some(len) = data[pos..].iter().position(|&b| b == 0) else {
                    return err("unfinished string in data");
                };
                out.push(Value::String(lua.create_string(&data[pos..pos + len])?))?;
                size = len + 1;
            }
            _ => fmt.control(opt, &mut h)?,
        }
        pos = pos.wrapping_add(size);
    }
    out.push(Value::Number(pos.wrapping_add(1) as i64 as f64))?;
    Ok(out.done())
}

fn size(_: &Lua, a: Args<'_>) -> LibResult<MultiValue> {
    let mut fmt = Format::new(a.check_bytes(1)?);
    let mut h = Header::default();
    let mut pos: usize = 0;
    while let Some(opt) = fmt.next() {
        let size = fmt.size(opt)?;
        pos = pos.wrapping_add(to_align(pos, &h, opt, size));
        if opt == b's' {
            return arg_err(1, "option 's' has no fixed size");
        } else if opt == b'c' && size == 0 {
            return arg_err(1, "option 'c0' has no fixed size");
        }
        if !opt.is_ascii_alphanumeric() {
            fmt.control(opt, &mut h)?;
        }
        pos = pos.wrapping_add(size);
    }
    Ok(MultiValue::from_vec(vec![Value::Number(pos as i64 as f64)]))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{error_of, eval_str, lua};

    const HEX: &str = "local function hex(s) return (s:gsub('.', function(c) \
                       return string.format('%02x', c:byte()) end)) end ";

    #[test]
    fn pack_each_format() {
        let lua = lua();
        for (args, want) in [
            ("'<b B h H', -1, 255, -2, 65535", "ffff feff ffff"),
            ("'>i I l', -2, 3, 1", "fffffffe 00000003 0000000000000001"),
            ("'<L T', 2^40, 7", "0000000000010000 0700000000000000"),
            ("'<i3 >I3', -1, 0x123456", "ffffff 123456"),
            ("'<f >f', 1.5, 1.5", "0000c03f 3fc00000"),
            ("'<d', 0.1", "9a9999999999b93f"),
            ("'s c3 c0', 'ab', 'xyzw', 'q'", "616200 78797a 71"),
            ("'b x b', 1, 2", "01 00 02"),
            ("'!4 b i', 1, 2", "01000000 02000000"),
            ("'!2 b i', 1, 2", "0100 02000000"),
            ("'<i9', -1", "ffffffffffffffff00"),
            ("'<L l', 2^64, -2^70", "0000000000000000 0000000000000080"),
            ("'<L', 0/0", "0000000000000080"),
            ("'<B h', 256, -1.9", "00 ffff"),
        ] {
            let got = eval_str(&lua, &format!("{HEX} return hex(struct.pack({args}))"));
            assert_eq!(got, want.replace(' ', ""), "pack({args})");
        }
    }

    #[test]
    fn unpack_and_size() {
        let lua = lua();
        for (code, want) in [
            (
                "struct.unpack('<I8', string.rep('\\255', 8))",
                "1.844674407371e+19",
            ),
            ("struct.unpack('<i9', string.rep('\\255', 9))", "-1"),
            ("select(2, struct.unpack('c1c0', '3abc'))", "5"),
            ("struct.unpack('c1c0', '3abc')", "abc"),
            ("select(2, struct.unpack('s s', 'ab\\0cd\\0'))", "cd"),
            ("select(2, struct.unpack('b', 'abc', 2.7))", "3"),
            ("struct.unpack('', 'abc', -1)", "-1"),
            ("struct.size('xbhilTfd')", "36"),
            ("struct.size('!8 b d')", "16"),
            ("struct.unpack('>d', struct.pack('>d', -0.1))", "-0.1"),
            (
                "struct.unpack('<f', struct.pack('<f', 0.1))",
                "0.10000000149012",
            ),
        ] {
            assert_eq!(eval_str(&lua, &format!("return {code}")), want, "{code}");
        }
    }

    #[test]
    fn errors() {
        let lua = lua();
        for (code, want) in [
            (
                "struct.pack('=i', 1)",
                "bad argument #1 to 'pack' (invalid format option '=')",
            ),
            (
                "struct.pack('i33', 1)",
                "integral size 33 is larger than limit of 32",
            ),
            ("struct.pack('i99999999999', 1)", "integral size overflow"),
            ("struct.pack('!3', 1)", "alignment 3 is not a power of 2"),
            (
                "struct.size('s')",
                "bad argument #1 to 'size' (option 's' has no fixed size)",
            ),
            (
                "struct.size('c0')",
                "bad argument #1 to 'size' (option 'c0' has no fixed size)",
            ),
            (
                "struct.unpack('c0', 'abc')",
                "format 'c0' needs a previous size",
            ),
            ("struct.unpack('s', 'abc')", "unfinished string in data"),
            (
                "struct.unpack('i', 'ab')",
                "bad argument #2 to 'unpack' (data string too short)",
            ),
            (
                "struct.unpack('b', 'a', 0)",
                "bad argument #3 to 'unpack' (offset must be 1 or greater)",
            ),
            (
                "struct.pack('c5', 'ab')",
                "bad argument #3 to 'pack' (string too short)",
            ),
            (
                "struct.pack('<i')",
                "bad argument #2 to 'pack' (number expected, got nil)",
            ),
            (
                "struct.pack()",
                "bad argument #1 to 'pack' (string expected, got no value)",
            ),
        ] {
            assert_eq!(
                error_of(&lua, &format!("return {code}")),
                format!("user_script:1: {want}"),
                "{code}"
            );
        }
    }

    #[test]
    fn matches_redis_recorded_cases() {
        let n = super::super::testutil::check_recorded(include_str!("testdata/struct.txt"));
        assert!(n > 10);
    }
}
