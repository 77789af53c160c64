//! The x87 80-bit `long double` arithmetic behind `INCRBYFLOAT`, emulated exactly.
//!
//! Redis parses both operands with `strtold`, adds them in `long double` (64-bit significand
//! on x86-64 Linux) and stores `printf("%.17Lf")` with trailing zeros trimmed. The extra 11
//! bits are what make `0.1 + 0.2` come out as `0.3` rather than `0.30000000000000004`, so an
//! `f64` cannot reproduce Redis's replies. Rust has no `f80`; this module does the three steps
//! with exact big-integer arithmetic and round-half-to-even, which is what glibc does:
//! [`parse`] (`strtold` with Redis's `string2ld` checks), [`LongDouble::checked_add`] and
//! [`LongDouble::to_human`].

use std::cmp::Ordering;

/// Significand bits of the x87 extended format (explicit integer bit).
const MANT_BITS: u32 = 64;
/// Smallest exponent `e` of `mant * 2^e` (the subnormal range's, with the integer bit at 63).
const MIN_EXP: i64 = -16382 - 63;
/// Largest exponent of a finite value with a normalised significand.
const MAX_EXP: i64 = 16383 - 63;
/// Longest string `string2ld` accepts (`MAX_LONG_DOUBLE_CHARS` - 1).
const MAX_CHARS: usize = 5 * 1024 - 1;

/// A finite `long double`: `(-1)^neg * mant * 2^exp`. `mant == 0` is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongDouble {
    neg: bool,
    mant: u64,
    exp: i64,
}

/// What `strtold` produced from a string Redis accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A finite value.
    Finite(LongDouble),
    /// `inf`/`infinity` (either sign): accepted, but every sum with it is refused.
    Infinite,
}

impl LongDouble {
    /// Zero.
    pub const ZERO: LongDouble = LongDouble {
        neg: false,
        mant: 0,
        exp: 0,
    };

    /// `self + other` rounded to nearest-even; `None` when the sum overflows to infinity.
    pub fn checked_add(self, other: LongDouble) -> Option<LongDouble> {
        if other.mant == 0 {
            return Some(if self.mant == 0 {
                // -0 + -0 is -0; any other sum of zeros is +0.
                LongDouble {
                    neg: self.neg && other.neg,
                    ..LongDouble::ZERO
                }
            } else {
                self
            });
        }
        if self.mant == 0 {
            return Some(other);
        }
        let e = self.exp.min(other.exp);
        let a = Big::from_u64(self.mant).shl((self.exp - e) as usize);
        let b = Big::from_u64(other.mant).shl((other.exp - e) as usize);
        let (neg, sum) = if self.neg == other.neg {
            (self.neg, a.add(&b))
        } else {
            match a.cmp(&b) {
                Ordering::Equal => return Some(LongDouble::ZERO),
                Ordering::Greater => (self.neg, a.sub(&b)),
                Ordering::Less => (other.neg, b.sub(&a)),
            }
        };
        round(neg, sum, e, false)
    }

    /// The exact value of a finite double (every double is a `long double`); `None` for
    /// infinities and NaN.
    pub fn from_f64(d: f64) -> Option<LongDouble> {
        if !d.is_finite() {
            return None;
        }
        let bits = d.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1 << 52) - 1);
        let (mant, exp) = if biased == 0 {
            (frac, -1074)
        } else {
            (frac | (1 << 52), biased - 1075)
        };
        Some(LongDouble {
            neg: bits >> 63 == 1,
            mant,
            exp,
        })
    }

    /// `printf("%.17Lf")` with trailing zeros (and a trailing `.`) removed, `-0` shown as `0`:
    /// Redis's `ld2string(LD_STR_HUMAN)`.
    pub fn to_human(self) -> String {
        const DECIMALS: usize = 17;
        let scaled = Big::from_u64(self.mant).mul_pow10(DECIMALS as u32);
        let q = if self.exp >= 0 {
            scaled.shl(self.exp as usize)
        } else {
            let shift = (-self.exp) as usize;
            let mut q = scaled.shr(shift);
            let half = scaled.bit(shift - 1);
            let rest = scaled.any_below(shift - 1);
            if half && (rest || q.bit(0)) {
                q = q.add(&Big::from_u64(1));
            }
            q
        };
        let digits = q.to_decimal();
        let digits = format!("{digits:0>width$}", width = DECIMALS + 1);
        let (int, frac) = digits.split_at(digits.len() - DECIMALS);
        let frac = frac.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if self.neg {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        if out == "-0" {
            out.remove(0);
        }
        out
    }
}

/// Parses like Redis's `string2ld`: the whole string must be a `strtold` number (decimal,
/// hex `0x…p…`, or `inf`/`infinity`), no leading space, no NaN, and not out of range
/// (overflow, or a nonzero value that underflows to zero).
pub fn parse(s: &[u8]) -> Option<Parsed> {
    // C's isspace(): Rust's is_ascii_whitespace() lacks the vertical tab.
    let space = |c: u8| c.is_ascii_whitespace() || c == 0x0b;
    if s.is_empty() || s.len() > MAX_CHARS || space(s[0]) {
        return None;
    }
    // Redis hands strtold a C string, so the number ends at a NUL byte (and an empty one
    // reads as zero).
    let s = &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())];
    if s.is_empty() {
        return Some(Parsed::Finite(LongDouble::ZERO));
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    if lower == b"inf" || lower == b"infinity" {
        return Some(Parsed::Infinite);
    }
    let value = if lower.starts_with(b"0x") {
        parse_hex(neg, &lower[2..])?
    } else {
        parse_decimal(neg, &lower)?
    };
    Some(Parsed::Finite(value))
}

/// Digits before and after an optional `.`, then the rest of the string.
fn split_mantissa(s: &[u8], is_digit: impl Fn(u8) -> bool) -> (&[u8], &[u8], &[u8]) {
    let int_len = s.iter().take_while(|&&c| is_digit(c)).count();
    let (int, rest) = s.split_at(int_len);
    if rest.first() == Some(&b'.') {
        let frac_len = rest[1..].iter().take_while(|&&c| is_digit(c)).count();
        (int, &rest[1..1 + frac_len], &rest[1 + frac_len..])
    } else {
        (int, &[], rest)
    }
}

/// An exponent suffix (`e-12`, `p+3`) without its letter; saturates far beyond any range.
fn parse_exponent(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        v = (v * 10 + i64::from(d - b'0')).min(1 << 40);
    }
    Some(if neg { -v } else { v })
}

fn parse_decimal(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let (int, frac, rest) = split_mantissa(s, |c| c.is_ascii_digit());
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match rest {
        [] => 0,
        [b'e', e @ ..] => parse_exponent(e)?,
        _ => return None,
    };
    let digits: Vec<u8> = int.iter().chain(frac).copied().collect();
    let first = digits.iter().position(|&d| d != b'0');
    let Some(first) = first else {
        return Some(LongDouble {
            neg,
            ..LongDouble::ZERO
        });
    };
    let digits = &digits[first..];
    let e10 = exp - frac.len() as i64;
    // The value is about 10^(magnitude - 1): far outside the range means overflow (refused)
    // or underflow to zero (refused too, as strtold reports ERANGE with 0).
    let magnitude = digits.len() as i64 + e10;
    if !(-4952..=4933).contains(&magnitude) {
        return None;
    }
    let d = Big::from_decimal(digits);
    if e10 >= 0 {
        return round(neg, d.mul_pow10(e10 as u32), 0, false);
    }
    // d / 10^k with at least 66 significant quotient bits, and a sticky bit for the rest.
    let den = Big::from_u64(1).mul_pow10((-e10) as u32);
    let s = (MANT_BITS as i64 + 2 + den.bits() as i64 - d.bits() as i64).max(0) as usize;
    let (q, r) = d.shl(s).div_rem(&den);
    let value = round(neg, q, -(s as i64), !r.is_zero())?;
    (value.mant != 0).then_some(value)
}

fn parse_hex(neg: bool, s: &[u8]) -> Option<LongDouble> {
    let (int, frac, rest) = split_mantissa(s, |c| c.is_ascii_hexdigit());
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match rest {
        [] => 0,
        [b'p', e @ ..] => parse_exponent(e)?,
        _ => return None,
    };
    let mut m = Big::default();
    for &c in int.iter().chain(frac) {
        let v = (c as char).to_digit(16)?;
        m = m.shl(4).add(&Big::from_u64(u64::from(v)));
    }
    if m.is_zero() {
        return Some(LongDouble {
            neg,
            ..LongDouble::ZERO
        });
    }
    let e2 = exp - 4 * frac.len() as i64;
    let magnitude = m.bits() as i64 + e2;
    if !(-16450..=16385).contains(&magnitude) {
        return None;
    }
    let value = round(neg, m, e2, false)?;
    (value.mant != 0).then_some(value)
}

/// Rounds `big * 2^exp` (plus a little more when `sticky`) to the nearest `long double`,
/// ties to even, with gradual underflow. `None` on overflow.
fn round(neg: bool, big: Big, exp: i64, sticky: bool) -> Option<LongDouble> {
    let bits = big.bits() as i64;
    if bits == 0 {
        return Some(LongDouble {
            neg,
            ..LongDouble::ZERO
        });
    }
    let mut shift = (bits - MANT_BITS as i64).max(MIN_EXP - exp);
    let mut mant;
    if shift > 0 {
        let s = shift as usize;
        let q = big.shr(s);
        mant = q.low_u64();
        let half = big.bit(s - 1);
        let rest = sticky || big.any_below(s - 1);
        if half && (rest || mant & 1 == 1) {
            mant = mant.wrapping_add(1);
            if mant == 0 {
                mant = 1 << 63;
                shift += 1;
            }
        }
    } else {
        mant = big.shl((-shift) as usize).low_u64();
    }
    let e = exp + shift;
    if mant != 0 && e + i64::from(63 - mant.leading_zeros()) > MAX_EXP + 63 {
        return None;
    }
    Some(LongDouble { neg, mant, exp: e })
}

/// A little unsigned big integer (little-endian 32-bit limbs, no trailing zero limbs):
/// just what exact decimal/binary conversion needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v as u32, (v >> 32) as u32]);
        b.trim();
        b
    }

    fn from_decimal(digits: &[u8]) -> Big {
        let mut b = Big::default();
        for chunk in digits.chunks(9) {
            let mut v = 0u32;
            for &d in chunk {
                v = v * 10 + u32::from(d - b'0');
            }
            b = b
                .mul_small(10u32.pow(chunk.len() as u32))
                .add(&Big::from_u64(u64::from(v)));
        }
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bits(&self) -> usize {
        match self.0.last() {
            None => 0,
            Some(&top) => self.0.len() * 32 - top.leading_zeros() as usize,
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 32).is_some_and(|w| w >> (i % 32) & 1 == 1)
    }

    /// Whether any bit below position `i` is set.
    fn any_below(&self, i: usize) -> bool {
        let (words, rem) = (i / 32, i % 32);
        self.0.iter().take(words).any(|&w| w != 0)
            || (rem > 0
                && self
                    .0
                    .get(words)
                    .is_some_and(|&w| w & ((1 << rem) - 1) != 0))
    }

    fn low_u64(&self) -> u64 {
        let lo = self.0.first().copied().unwrap_or(0);
        let hi = self.0.get(1).copied().unwrap_or(0);
        u64::from(lo) | u64::from(hi) << 32
    }

    fn shl(&self, n: usize) -> Big {
        if self.is_zero() {
            return Big::default();
        }
        let (words, bits) = (n / 32, n % 32);
        let mut out = vec![0u32; words];
        out.reserve(self.0.len() + 1);
        let mut carry = 0u32;
        for &w in &self.0 {
            if bits == 0 {
                out.push(w);
            } else {
                out.push(w << bits | carry);
                carry = w >> (32 - bits);
            }
        }
        out.push(carry);
        let mut b = Big(out);
        b.trim();
        b
    }

    fn shr(&self, n: usize) -> Big {
        let (words, bits) = (n / 32, n % 32);
        if words >= self.0.len() {
            return Big::default();
        }
        let src = &self.0[words..];
        let mut out = Vec::with_capacity(src.len());
        for (i, &w) in src.iter().enumerate() {
            let next = src.get(i + 1).copied().unwrap_or(0);
            out.push(if bits == 0 {
                w
            } else {
                w >> bits | next << (32 - bits)
            });
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn add(&self, other: &Big) -> Big {
        let n = self.0.len().max(other.0.len());
        let mut out = Vec::with_capacity(n + 1);
        let mut carry = 0u64;
        for i in 0..n {
            let s = u64::from(self.0.get(i).copied().unwrap_or(0))
                + u64::from(other.0.get(i).copied().unwrap_or(0))
                + carry;
            out.push(s as u32);
            carry = s >> 32;
        }
        out.push(carry as u32);
        let mut b = Big(out);
        b.trim();
        b
    }

    /// `self - other`; `self >= other`.
    fn sub(&self, other: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let mut d =
                i64::from(self.0[i]) - i64::from(other.0.get(i).copied().unwrap_or(0)) - borrow;
            borrow = 0;
            if d < 0 {
                d += 1 << 32;
                borrow = 1;
            }
            out.push(d as u32);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn mul_small(&self, m: u32) -> Big {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut carry = 0u64;
        for &w in &self.0 {
            let p = u64::from(w) * u64::from(m) + carry;
            out.push(p as u32);
            carry = p >> 32;
        }
        out.push(carry as u32);
        let mut b = Big(out);
        b.trim();
        b
    }

    fn mul_pow10(&self, mut n: u32) -> Big {
        let mut b = self.clone();
        while n > 0 {
            let step = n.min(9);
            b = b.mul_small(10u32.pow(step));
            n -= step;
        }
        b
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    /// Quotient and remainder by shift-and-subtract: the quotients here are ~70 bits.
    fn div_rem(&self, den: &Big) -> (Big, Big) {
        let mut rem = self.clone();
        let mut q = Big::default();
        if self.bits() < den.bits() {
            return (q, rem);
        }
        for i in (0..=self.bits() - den.bits()).rev() {
            let t = den.shl(i);
            if rem.cmp(&t) != Ordering::Less {
                rem = rem.sub(&t);
                q = q.add(&Big::from_u64(1).shl(i));
            }
        }
        (q, rem)
    }

    /// `(self / d, self % d)` for a one-limb divisor.
    fn div_small(&self, d: u32) -> (Big, u32) {
        let mut out = vec![0u32; self.0.len()];
        let mut rem = 0u64;
        for i in (0..self.0.len()).rev() {
            let cur = rem << 32 | u64::from(self.0[i]);
            out[i] = (cur / u64::from(d)) as u32;
            rem = cur % u64::from(d);
        }
        let mut b = Big(out);
        b.trim();
        (b, rem as u32)
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut chunks = Vec::new();
        let mut cur = self.clone();
        while !cur.is_zero() {
            let (q, r) = cur.div_small(1_000_000_000);
            chunks.push(r);
            cur = q;
        }
        let mut s = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
        for c in chunks.iter().rev() {
            s.push_str(&format!("{c:09}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld(s: &str) -> LongDouble {
        match parse(s.as_bytes()) {
            Some(Parsed::Finite(v)) => v,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn incr(a: &str, b: &str) -> String {
        ld(a).checked_add(ld(b)).unwrap().to_human()
    }

    #[test]
    fn sums_match_redis_incrbyfloat() {
        assert_eq!(incr("0.1", "0.2"), "0.3");
        assert_eq!(incr("10.50", "0.1"), "10.6");
        assert_eq!(incr("5.0e3", "2.0e2"), "5200");
        assert_eq!(incr("5010.5", "1e20"), "100000000000000005008");
        assert_eq!(incr("0", "1.23456789012345678"), "1.23456789012345678");
        assert_eq!(incr("17.23456789022345678", ".5"), "17.73456789022345678");
        assert_eq!(incr("3", "-3"), "0");
        assert_eq!(incr("-0.0", "-0"), "0");
        assert_eq!(incr("1", "0x10"), "17");
        assert_eq!(incr("0", "0x1.8p1"), "3");
        assert_eq!(
            incr("1.7976931348623157e308", "1.7976931348623157e308"),
            "359538626972463139991842093548208868096772893888658356970628841530353257046248792709403737216774171128857586838851041378617416726902272110715794556052955234146997955372576789671236326588091188869859074894581254961338834769297758245552436667197907705664206565009503223382416235440319971852753604933726679072768"
        );
    }

    #[test]
    fn parse_follows_string2ld() {
        for bad in [
            "", " 1", "1 ", "abc", "1e", "1.5x", "nan", "-nan", "0x", "1e5000", "1e-5000", ".",
            "+", "e5",
        ] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
        }
        assert_eq!(parse(b"-inf"), Some(Parsed::Infinite));
        assert_eq!(parse(b"Infinity"), Some(Parsed::Infinite));
        assert!(parse(b"0e-99999").is_some());
        assert!(parse(b"5.").is_some());
        assert!(parse(b"1e-4940").is_some(), "subnormals are accepted");
    }

    #[test]
    fn overflow_is_reported() {
        let max = ld("1.18e4932");
        assert_eq!(max.checked_add(max), None);
    }
}
