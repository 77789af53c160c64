//! `bit`: 32-bit bit operations as LuaBitOp 1.0.2 gives them on Lua 5.1 (Redis 7.0's
//! `bit` global).
//!
//! Every argument goes through the library's normalisation: the number (strings convert as
//! `lua_tonumber` converts them) plus 2^52+2^51, whose low 32 mantissa bits are the operand.
//! That maps any double — fractional, negative, beyond 2^32 — to the same 32 bits as the C
//! library, and results come back as signed 32-bit numbers. `band`/`bor`/`bxor` check their
//! arguments from the last to the second, then the first, as the C loop does, so the same
//! argument is reported when several are bad. `tohex(x, n)` takes the digit count from `n`
//! (negative for upper case, at most 8; `-2^31` too gives 8 upper-case digits, as in Redis).

use super::{lib_function, one, Args, LibResult};
use mlua::{Lua, MultiValue, Table, Value};

/// The `bit` table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.raw_set("tobit", lib_function(lua, |_, a| unary(&a, |b| b))?)?;
    t.raw_set("bnot", lib_function(lua, |_, a| unary(&a, |b| !b))?)?;
    t.raw_set(
        "bswap",
        lib_function(lua, |_, a| unary(&a, u32::swap_bytes))?,
    )?;
    t.raw_set("band", lib_function(lua, |_, a| fold(&a, |x, y| x & y))?)?;
    t.raw_set("bor", lib_function(lua, |_, a| fold(&a, |x, y| x | y))?)?;
    t.raw_set("bxor", lib_function(lua, |_, a| fold(&a, |x, y| x ^ y))?)?;
    t.raw_set(
        "lshift",
        lib_function(lua, |_, a| shift(&a, |b, n| b << n))?,
    )?;
    t.raw_set(
        "rshift",
        lib_function(lua, |_, a| shift(&a, |b, n| b >> n))?,
    )?;
    t.raw_set(
        "arshift",
        lib_function(lua, |_, a| shift(&a, |b, n| ((b as i32) >> n) as u32))?,
    )?;
    t.raw_set(
        "rol",
        lib_function(lua, |_, a| shift(&a, u32::rotate_left))?,
    )?;
    t.raw_set(
        "ror",
        lib_function(lua, |_, a| shift(&a, u32::rotate_right))?,
    )?;
    t.raw_set("tohex", lib_function(lua, tohex)?)?;
    Ok(t)
}

/// The 32 bits LuaBitOp takes from a double.
pub(crate) fn normalise(n: f64) -> u32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32
}

/// `barg`: argument `i` as 32 bits; "number expected" unless it converts to a number.
fn barg(a: &Args<'_>, i: usize) -> LibResult<u32> {
    match a.to_number(i)? {
        Some(n) => Ok(normalise(n)),
        None => a.check_number(i).map(normalise),
    }
}

fn result(b: u32) -> LibResult<MultiValue> {
    Ok(one(Value::Number(b as i32 as f64)))
}

fn unary(a: &Args<'_>, f: impl Fn(u32) -> u32) -> LibResult<MultiValue> {
    result(f(barg(a, 1)?))
}

fn fold(a: &Args<'_>, f: impl Fn(u32, u32) -> u32) -> LibResult<MultiValue> {
    let mut b = barg(a, 1)?;
    for i in (2..=a.len()).rev() {
        b = f(b, barg(a, i)?);
    }
    result(b)
}

fn shift(a: &Args<'_>, f: impl Fn(u32, u32) -> u32) -> LibResult<MultiValue> {
    let b = barg(a, 1)?;
    let n = barg(a, 2)? & 31;
    result(f(b, n))
}

fn tohex(lua: &Lua, a: Args<'_>) -> LibResult<MultiValue> {
    let mut b = barg(&a, 1)?;
    let n: i32 = if a.get(2).is_none() {
        8
    } else {
        barg(&a, 2)? as i32
    };
    let digits: &[u8; 16] = if n < 0 {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    // |n| capped at 8; -2^31 gives 8 upper-case digits, as Redis's build does.
    let n = (n as i64).unsigned_abs().min(8) as usize;
    let mut buf = vec![0u8; n];
    for slot in buf.iter_mut().rev() {
        *slot = digits[(b & 15) as usize];
        b >>= 4;
    }
    Ok(one(Value::String(lua.create_string(&buf)?)))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{error_of, eval_str, lua};

    fn check(cases: &[(&str, &str)]) {
        let lua = lua();
        for (code, want) in cases {
            let got = eval_str(&lua, &format!("return tostring({code})"));
            assert_eq!(&got, want, "{code}");
        }
    }

    #[test]
    fn normalisation_of_edge_values() {
        check(&[
            ("bit.tobit(0)", "0"),
            ("bit.tobit(-1)", "-1"),
            ("bit.tobit(2^31)", "-2147483648"),
            ("bit.tobit(2^32)", "0"),
            ("bit.tobit(2^32 + 5)", "5"),
            ("bit.tobit(0xffffffff)", "-1"),
            ("bit.tobit(1e20)", "2025163840"),
            ("bit.tobit(-1e20)", "2025163840"),
            ("bit.tobit(0.5)", "0"),
            ("bit.tobit(1.5)", "2"),
            ("bit.tobit(2.5)", "2"),
            ("bit.tobit(-0.5)", "0"),
            ("bit.tobit(-1.5)", "-2"),
            ("bit.tobit('12')", "12"),
            ("bit.tobit(' 0x10 ')", "16"),
            ("bit.tobit(1/0)", "0"),
            ("bit.tobit(2^53)", "0"),
            ("bit.tobit(2^52 + 3)", "2"),
        ]);
    }

    #[test]
    fn operations() {
        check(&[
            ("bit.bnot(0)", "-1"),
            ("bit.bnot(-1)", "0"),
            ("bit.band(0xff, 0x0f, 0x3)", "3"),
            ("bit.band(7)", "7"),
            ("bit.bor(1, 2, 4, 8)", "15"),
            ("bit.bxor(0xff, 0x0f)", "240"),
            ("bit.bxor(1, 1, 1)", "1"),
            ("bit.lshift(1, 31)", "-2147483648"),
            ("bit.lshift(1, 32)", "1"),
            ("bit.lshift(1, 33)", "2"),
            ("bit.lshift(1, -1)", "-2147483648"),
            ("bit.rshift(-1, 28)", "15"),
            ("bit.rshift(-256, 4)", "268435440"),
            ("bit.arshift(-256, 4)", "-16"),
            ("bit.arshift(256, 4)", "16"),
            ("bit.rol(0x12345678, 12)", "1164411171"),
            ("bit.ror(0x12345678, 12)", "1736516421"),
            ("bit.rol(1, 0)", "1"),
            ("bit.bswap(0x12345678)", "2018915346"),
            ("bit.bswap(-1)", "-1"),
        ]);
    }

    #[test]
    fn tohex() {
        check(&[
            ("bit.tohex(1)", "00000001"),
            ("bit.tohex(-1)", "ffffffff"),
            ("bit.tohex(0xDEADBEEF)", "deadbeef"),
            ("bit.tohex(255, 2)", "ff"),
            ("bit.tohex(255, -2)", "FF"),
            ("bit.tohex(255, -4)", "00FF"),
            ("bit.tohex(0x12345678, 20)", "12345678"),
            ("bit.tohex(0x12345678, -20)", "12345678"),
            ("bit.tohex(0x1234abcd, -8)", "1234ABCD"),
            ("bit.tohex(5, 0)", ""),
            ("bit.tohex(2^32 + 10)", "0000000a"),
            ("bit.tohex(0xabcdef, -2^31)", "00ABCDEF"),
            ("bit.tohex(0xabcdef, 2^31)", "00ABCDEF"),
        ]);
    }

    #[test]
    fn argument_errors() {
        let lua = lua();
        assert_eq!(
            error_of(&lua, "return bit.band('x')"),
            "user_script:1: bad argument #1 to 'band' (number expected, got string)"
        );
        assert_eq!(
            error_of(&lua, "return bit.bor(1, 2, {}, nil)"),
            "user_script:1: bad argument #4 to 'bor' (number expected, got nil)"
        );
        assert_eq!(
            error_of(&lua, "return bit.tobit()"),
            "user_script:1: bad argument #1 to 'tobit' (number expected, got no value)"
        );
        assert_eq!(
            error_of(&lua, "local f = bit.lshift return f(1, true)"),
            "user_script:1: bad argument #2 to 'f' (number expected, got boolean)"
        );
        assert_eq!(
            error_of(&lua, "return bit.tohex(1, nil)"),
            "user_script:1: bad argument #2 to 'tohex' (number expected, got nil)"
        );
        assert_eq!(
            eval_str(&lua, "local ok, e = pcall(bit.bnot, {}) return e"),
            "bad argument #1 to '?' (number expected, got table)"
        );
    }

    #[test]
    fn matches_redis_recorded_cases() {
        let n = super::super::testutil::check_recorded(include_str!("testdata/bit.txt"));
        assert!(n > 10);
    }
}
