//! Bit logic over strings: what SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP and BITFIELD compute,
//! apart from parsing and replies (`commands/bitmap.rs`).
//!
//! A bitmap is an ordinary string ([`super::StrValue`]); bit 0 is the most significant bit of
//! byte 0, and everything past the end of the string reads as zero. Ranges follow Redis's
//! rules: indexes in bytes or bits, negative ones count from the end, and out-of-range ends
//! are clamped. Rather than mirror Redis's byte-mask bookkeeping, every range is turned into
//! an inclusive *bit* range once ([`range`]) and the counting/searching works on that, a byte
//! or a 64-bit word at a time in the middle. The property tests at the bottom check each
//! operation against a naive bit-by-bit model.

/// Whether a range's indexes count bytes (the default) or bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// `BYTE`: indexes count bytes.
    Byte,
    /// `BIT`: indexes count bits.
    Bit,
}

/// The inclusive bit range `[first, last]` that `start..=end` selects in a string of `len`
/// bytes, after Redis's normalisation (negative indexes from the end, clamping to the
/// string); `None` when it is empty. `empty_if_both_negative_and_inverted` is BITCOUNT's
/// extra rule: with both indexes negative and `start > end` the answer is empty even when
/// clamping would make both 0 (BITPOS lacks that rule).
pub fn range(
    len: usize,
    start: i64,
    end: i64,
    unit: Unit,
    empty_if_both_negative_and_inverted: bool,
) -> Option<(u64, u64)> {
    if empty_if_both_negative_and_inverted && start < 0 && end < 0 && start > end {
        return None;
    }
    let total = match unit {
        Unit::Byte => len as i64,
        Unit::Bit => (len as i64).saturating_mul(8),
    };
    let norm = |i: i64| {
        if i < 0 {
            total.saturating_add(i).max(0)
        } else {
            i
        }
    };
    let start = norm(start);
    let end = norm(end).min(total - 1);
    if start > end {
        return None;
    }
    let (start, end) = (start as u64, end as u64);
    Some(match unit {
        Unit::Byte => (start * 8, end * 8 + 7),
        Unit::Bit => (start, end),
    })
}

/// The bit at `offset` (zero past the end).
pub fn get_bit(data: &[u8], offset: u64) -> bool {
    let Ok(byte) = usize::try_from(offset >> 3) else {
        return false;
    };
    data.get(byte)
        .is_some_and(|b| b & (0x80 >> (offset & 7)) != 0)
}

/// Sets or clears the bit at `offset`, which must be inside `data`; returns the old bit.
pub fn set_bit(data: &mut [u8], offset: u64, on: bool) -> bool {
    let Some(b) = usize::try_from(offset >> 3)
        .ok()
        .and_then(|i| data.get_mut(i))
    else {
        return false;
    };
    let mask = 0x80u8 >> (offset & 7);
    let old = *b & mask != 0;
    if on {
        *b |= mask;
    } else {
        *b &= !mask;
    }
    old
}

/// The byte length a string needs for bit `last` to exist.
pub fn bytes_for_bit(last: u64) -> u64 {
    (last >> 3) + 1
}

/// Bits of `byte` inside `[lo, hi]`, positions counted from the byte's most significant bit.
fn byte_mask(lo: u32, hi: u32) -> u8 {
    ((0xFFu16 >> lo) & (0xFF00u16 >> (hi + 1))) as u8
}

/// Set bits in the inclusive bit range `[first, last]` of `data` (bits past the end are 0).
pub fn count(data: &[u8], first: u64, last: u64) -> u64 {
    let bits = data.len() as u64 * 8;
    if first > last || first >= bits {
        return 0;
    }
    let last = last.min(bits - 1);
    let (fb, lb) = ((first >> 3) as usize, (last >> 3) as usize);
    if fb == lb {
        let m = byte_mask((first & 7) as u32, (last & 7) as u32);
        return u64::from((data[fb] & m).count_ones());
    }
    let head = data[fb] & byte_mask((first & 7) as u32, 7);
    let tail = data[lb] & byte_mask(0, (last & 7) as u32);
    u64::from(head.count_ones()) + popcount(&data[fb + 1..lb]) + u64::from(tail.count_ones())
}

/// Set bits of a whole slice, eight bytes at a time.
pub fn popcount(data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    let mut n: u64 = chunks
        .by_ref()
        .map(|c| {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            u64::from(u64::from_ne_bytes(w).count_ones())
        })
        .sum();
    n += chunks
        .remainder()
        .iter()
        .map(|b| u64::from(b.count_ones()))
        .sum::<u64>();
    n
}

/// The first bit equal to `bit` in `[first, last]` (bits past the end of `data` are 0).
pub fn find(data: &[u8], bit: bool, first: u64, last: u64) -> Option<u64> {
    if first > last {
        return None;
    }
    let bits = data.len() as u64 * 8;
    if first >= bits {
        // Only padding: zeros.
        return (!bit).then_some(first);
    }
    let in_data_last = last.min(bits - 1);
    let (fb, lb) = ((first >> 3) as usize, (in_data_last >> 3) as usize);
    // A byte with every bit unlike the target can be skipped whole.
    let skip = if bit { 0x00u8 } else { 0xFF };
    let mut i = fb;
    while i <= lb {
        let lo = if i == fb { (first & 7) as u32 } else { 0 };
        let hi = if i == lb {
            (in_data_last & 7) as u32
        } else {
            7
        };
        if lo == 0 && hi == 7 {
            // Whole bytes: skip eight at a time while they hold nothing of interest.
            while i + 8 <= lb && data[i..i + 8].iter().all(|&b| b == skip) {
                i += 8;
            }
            if data[i] == skip {
                i += 1;
                continue;
            }
        }
        let m = byte_mask(lo, hi);
        let hits = if bit { data[i] & m } else { !data[i] & m };
        if hits != 0 {
            return Some(i as u64 * 8 + u64::from(hits.leading_zeros()));
        }
        i += 1;
    }
    // Past the data, inside the range: zeros.
    (!bit && last >= bits).then_some(bits.max(first))
}

/// BITPOS's answer for `bit` over the whole string or a range (`start`, and `end` when the
/// caller gave one). Looking for a 1 that is not there answers -1. Looking for a 0 in a
/// string of all ones answers the first bit past the string — the string is taken as
/// padded with zeros — unless an explicit `end` bounds the search, which makes it -1.
/// A missing key is the caller's business (0 for a clear bit, -1 for a set one).
pub fn bitpos(data: &[u8], bit: bool, start: Option<i64>, end: Option<i64>, unit: Unit) -> i64 {
    let (start, end_given) = (start.unwrap_or(0), end.is_some());
    let end = end.unwrap_or(match unit {
        Unit::Byte => data.len() as i64 - 1,
        Unit::Bit => data.len() as i64 * 8 - 1,
    });
    let Some((first, last)) = range(data.len(), start, end, unit, false) else {
        return -1;
    };
    match find(data, bit, first, last) {
        Some(p) => p as i64,
        None if !bit && !end_given => last as i64 + 1,
        None => -1,
    }
}

/// A BITOP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    /// `AND`: bitwise and of every source.
    And,
    /// `OR`: bitwise or of every source.
    Or,
    /// `XOR`: bitwise xor of every source.
    Xor,
    /// `NOT`: the inverse of the single source.
    Not,
}

/// BITOP over `sources` (missing keys are empty strings): the result is as long as the
/// longest source, shorter ones read as zero-padded. NOT takes exactly one source (the
/// caller checks).
pub fn bitop(op: BitOp, sources: &[&[u8]]) -> Vec<u8> {
    let len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let Some((head, rest)) = sources.split_first() else {
        return Vec::new();
    };
    let mut out = vec![0u8; len];
    out[..head.len()].copy_from_slice(head);
    match op {
        BitOp::Not => out.iter_mut().for_each(|b| *b = !*b),
        BitOp::And => {
            for s in rest {
                out[s.len()..].fill(0);
                out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o &= b);
            }
        }
        BitOp::Or => {
            for s in rest {
                out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o |= b);
            }
        }
        BitOp::Xor => {
            for s in rest {
                out.iter_mut().zip(s.iter()).for_each(|(o, b)| *o ^= b);
            }
        }
    }
    out
}

/// A BITFIELD integer type: `i1`…`i64` or `u1`…`u63`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldType {
    /// Signed (`i`) or unsigned (`u`).
    pub signed: bool,
    /// Width in bits: 1..=64 signed, 1..=63 unsigned.
    pub bits: u32,
}

impl FieldType {
    /// Parses `i16`, `u8`…; `None` for anything else: `u64`, and upper-case `I8`/`U8`,
    /// which Redis 7.0 refuses too.
    pub fn parse(s: &[u8]) -> Option<FieldType> {
        let (&kind, digits) = s.split_first()?;
        let signed = match kind {
            b'i' => true,
            b'u' => false,
            _ => return None,
        };
        let bits = crate::protocol::number::parse_i64(digits)?;
        let max = if signed { 64 } else { 63 };
        (1..=max).contains(&bits).then_some(FieldType {
            signed,
            bits: bits as u32,
        })
    }

    fn max(self) -> i128 {
        if self.signed {
            (1i128 << (self.bits - 1)) - 1
        } else {
            (1i128 << self.bits) - 1
        }
    }

    fn min(self) -> i128 {
        if self.signed {
            -(1i128 << (self.bits - 1))
        } else {
            0
        }
    }

    /// `v` reduced modulo 2^bits into the type's range (two's complement for signed types).
    fn wrap(self, v: i128) -> i64 {
        let m = 1i128 << self.bits;
        let r = v.rem_euclid(m);
        (if self.signed && r > self.max() {
            r - m
        } else {
            r
        }) as i64
    }
}

/// What BITFIELD does when a value does not fit its type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// `WRAP`: wrap around (the default).
    Wrap,
    /// `SAT`: saturate at the type's minimum or maximum.
    Sat,
    /// `FAIL`: do nothing and answer nil.
    Fail,
}

/// A bit offset argument of SETBIT, GETBIT or BITFIELD: a non-negative integer whose byte
/// (`offset / 8`) lies below `max_bytes` (proto-max-bulk-len). With `field_bits` (BITFIELD),
/// `#n` means the n-th field of that width: offset `n * bits`.
pub fn parse_offset(arg: &[u8], field_bits: Option<u32>, max_bytes: u64) -> Option<u64> {
    let (digits, scale) = match (arg.first(), field_bits) {
        (Some(b'#'), Some(bits)) => (&arg[1..], i64::from(bits)),
        _ => (arg, 1),
    };
    // Redis multiplies in C, where an overflowing `#n` wraps; the wrapped value fails the
    // range check the same way.
    let offset = crate::protocol::number::parse_i64(digits)?.wrapping_mul(scale);
    (offset >= 0 && ((offset as u64) >> 3) < max_bytes).then_some(offset as u64)
}

/// The field of type `ty` at bit `offset` (bits past the end of `data` read as zero).
pub fn get_field(data: &[u8], offset: u64, ty: FieldType) -> i64 {
    let raw = read_window(data, offset, ty.bits);
    if ty.signed && ty.bits < 64 && raw & (1 << (ty.bits - 1)) != 0 {
        (raw | (u64::MAX << ty.bits)) as i64
    } else {
        raw as i64
    }
}

/// The `bits` bits at `offset`, as an unsigned number.
fn read_window(data: &[u8], offset: u64, bits: u32) -> u64 {
    let byte = usize::try_from(offset >> 3).unwrap_or(usize::MAX);
    let mut w: u128 = 0;
    for i in 0..9 {
        let b = byte.checked_add(i).and_then(|j| data.get(j)).copied();
        w = (w << 8) | u128::from(b.unwrap_or(0));
    }
    let shift = 72 - (offset & 7) as u32 - bits;
    ((w >> shift) & ((1u128 << bits) - 1)) as u64
}

/// Writes the low `ty.bits` bits of `value` at bit `offset`. Bits that would fall past the
/// end of `data` are dropped: callers grow the string first.
pub fn set_field(data: &mut [u8], offset: u64, ty: FieldType, value: i64) {
    let Ok(byte) = usize::try_from(offset >> 3) else {
        return;
    };
    let mut w: u128 = 0;
    for i in 0..9 {
        let b = byte.checked_add(i).and_then(|j| data.get(j)).copied();
        w = (w << 8) | u128::from(b.unwrap_or(0));
    }
    let shift = 72 - (offset & 7) as u32 - ty.bits;
    let mask = ((1u128 << ty.bits) - 1) << shift;
    w = (w & !mask) | ((u128::from(value as u64) << shift) & mask);
    for i in 0..9 {
        if let Some(b) = byte.checked_add(i).and_then(|j| data.get_mut(j)) {
            *b = (w >> (64 - 8 * i)) as u8;
        }
    }
}

/// The value `old + incr` takes in a field of type `ty` under `overflow`; `None` when it
/// does not fit and the policy is FAIL.
pub fn incr_field(ty: FieldType, old: i64, incr: i64, overflow: Overflow) -> Option<i64> {
    fit(ty, i128::from(old) + i128::from(incr), overflow)
}

/// The value `SET` stores for `value` in a field of type `ty` under `overflow`; `None` for
/// FAIL. For unsigned types Redis reads the argument as an unsigned 64-bit number, so a
/// negative value is *too large* (SAT stores the maximum, not 0).
pub fn set_value(ty: FieldType, value: i64, overflow: Overflow) -> Option<i64> {
    let v = if ty.signed {
        i128::from(value)
    } else {
        i128::from(value as u64)
    };
    fit(ty, v, overflow)
}

fn fit(ty: FieldType, v: i128, overflow: Overflow) -> Option<i64> {
    if v >= ty.min() && v <= ty.max() {
        return Some(v as i64);
    }
    match overflow {
        Overflow::Fail => None,
        Overflow::Wrap => Some(ty.wrap(v)),
        Overflow::Sat if v > ty.max() => Some(ty.max() as i64),
        Overflow::Sat => Some(ty.min() as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const U8: FieldType = FieldType {
        signed: false,
        bits: 8,
    };
    const I8: FieldType = FieldType {
        signed: true,
        bits: 8,
    };

    #[test]
    fn bits_are_numbered_from_the_most_significant() {
        let mut d = vec![0u8; 2];
        assert!(!set_bit(&mut d, 1, true));
        assert!(!set_bit(&mut d, 15, true));
        assert_eq!(d, [0x40, 0x01]);
        assert!(get_bit(&d, 1) && get_bit(&d, 15) && !get_bit(&d, 0));
        assert!(!get_bit(&d, 1_000_000));
        assert!(set_bit(&mut d, 1, false));
        assert_eq!(d, [0x00, 0x01]);
        assert_eq!(bytes_for_bit(7), 1);
        assert_eq!(bytes_for_bit(8), 2);
    }

    #[test]
    fn ranges_follow_redis_rules() {
        assert_eq!(range(6, 0, -1, Unit::Byte, true), Some((0, 47)));
        assert_eq!(range(6, 1, 1, Unit::Byte, true), Some((8, 15)));
        assert_eq!(range(6, 5, 30, Unit::Bit, true), Some((5, 30)));
        assert_eq!(range(6, -5, -1, Unit::Bit, true), Some((43, 47)));
        assert_eq!(range(6, 3, 1, Unit::Byte, true), None);
        assert_eq!(range(0, 0, -1, Unit::Byte, true), None);
        // Both negative and inverted: empty for BITCOUNT; clamped to byte 0 for BITPOS.
        assert_eq!(range(6, -100, -200, Unit::Byte, true), None);
        assert_eq!(range(6, -100, -200, Unit::Byte, false), Some((0, 7)));
    }

    #[test]
    fn count_and_find_in_foobar() {
        let d = b"foobar";
        assert_eq!(popcount(d), 26);
        assert_eq!(count(d, 0, 47), 26);
        assert_eq!(count(d, 8, 15), 6);
        assert_eq!(count(d, 5, 30), 17);
        let ones = [0xFFu8, 0xF0, 0x00];
        assert_eq!(bitpos(&ones, false, None, None, Unit::Byte), 12);
        assert_eq!(bitpos(&[0xFF, 0xFF], false, None, None, Unit::Byte), 16);
        assert_eq!(
            bitpos(&[0xFF, 0xFF], false, Some(0), Some(-1), Unit::Byte),
            -1
        );
        assert_eq!(bitpos(&[0x00, 0x00], true, None, None, Unit::Byte), -1);
        assert_eq!(
            bitpos(&[0x00, 0x01], true, Some(7), Some(15), Unit::Bit),
            15
        );
        assert_eq!(bitpos(&[], false, None, None, Unit::Byte), -1);
    }

    #[test]
    fn bitop_pads_short_sources_with_zeros() {
        let (a, b): (&[u8], &[u8]) = (&[0xFF, 0x0F], &[0xF0]);
        assert_eq!(bitop(BitOp::And, &[a, b]), [0xF0, 0x00]);
        assert_eq!(bitop(BitOp::Or, &[b, a]), [0xFF, 0x0F]);
        assert_eq!(bitop(BitOp::Xor, &[a, b]), [0x0F, 0x0F]);
        assert_eq!(bitop(BitOp::Not, &[a]), [0x00, 0xF0]);
        assert_eq!(bitop(BitOp::And, &[&[], &[]]), Vec::<u8>::new());
    }

    #[test]
    fn field_types_and_offsets() {
        assert_eq!(FieldType::parse(b"i64").map(|t| t.bits), Some(64));
        assert_eq!(FieldType::parse(b"u63").map(|t| t.signed), Some(false));
        for bad in [
            &b"u64"[..],
            b"U8",
            b"I8",
            b"i65",
            b"i0",
            b"x8",
            b"u",
            b"u08",
            b"i-1",
            b"",
        ] {
            assert_eq!(FieldType::parse(bad), None, "{bad:?}");
        }
        let max = 512 * 1024 * 1024;
        assert_eq!(parse_offset(b"100", None, max), Some(100));
        assert_eq!(parse_offset(b"#2", Some(8), max), Some(16));
        assert_eq!(parse_offset(b"#2", None, max), None);
        assert_eq!(parse_offset(b"-1", None, max), None);
        assert_eq!(parse_offset(b"4294967295", None, max), Some(4_294_967_295));
        assert_eq!(parse_offset(b"4294967296", None, max), None);
        assert_eq!(parse_offset(b"#9223372036854775807", Some(8), max), None);
    }

    #[test]
    fn fields_read_and_write_across_bytes() {
        let mut d = vec![0u8; 3];
        set_field(&mut d, 4, U8, 0xAB);
        assert_eq!(d, [0x0A, 0xB0, 0x00]);
        assert_eq!(get_field(&d, 4, U8), 0xAB);
        assert_eq!(get_field(&d, 4, I8), -85);
        let i64t = FieldType {
            signed: true,
            bits: 64,
        };
        let mut d = vec![0u8; 9];
        set_field(&mut d, 3, i64t, i64::MIN + 5);
        assert_eq!(get_field(&d, 3, i64t), i64::MIN + 5);
        // Past the end reads zero.
        assert_eq!(get_field(b"\xff", 4, U8), 0xF0);
    }

    #[test]
    fn overflow_policies() {
        let u2 = FieldType {
            signed: false,
            bits: 2,
        };
        assert_eq!(incr_field(u2, 3, 1, Overflow::Wrap), Some(0));
        assert_eq!(incr_field(u2, 3, 1, Overflow::Sat), Some(3));
        assert_eq!(incr_field(u2, 3, 1, Overflow::Fail), None);
        assert_eq!(incr_field(u2, 0, -1, Overflow::Sat), Some(0));
        assert_eq!(incr_field(I8, 127, 1, Overflow::Wrap), Some(-128));
        assert_eq!(incr_field(I8, -128, -1, Overflow::Sat), Some(-128));
        // SET of a negative value into an unsigned field saturates high.
        assert_eq!(set_value(U8, -1, Overflow::Sat), Some(255));
        assert_eq!(set_value(U8, -1, Overflow::Wrap), Some(255));
        assert_eq!(set_value(I8, 200, Overflow::Wrap), Some(-56));
        let i64t = FieldType {
            signed: true,
            bits: 64,
        };
        assert_eq!(
            incr_field(i64t, i64::MAX, 1, Overflow::Wrap),
            Some(i64::MIN)
        );
        assert_eq!(incr_field(i64t, i64::MAX, 1, Overflow::Sat), Some(i64::MAX));
    }

    // Naive models: one bit at a time.
    fn bit_at(d: &[u8], i: u64) -> bool {
        (i / 8) < d.len() as u64 && d[(i / 8) as usize] >> (7 - i % 8) & 1 == 1
    }

    fn naive_range(len: usize, start: i64, end: i64, unit: Unit, rule: bool) -> Vec<u64> {
        let total = match unit {
            Unit::Byte => len as i64,
            Unit::Bit => len as i64 * 8,
        };
        if rule && start < 0 && end < 0 && start > end {
            return vec![];
        }
        let s = if start < 0 {
            (total + start).max(0)
        } else {
            start
        };
        let e = if end < 0 { (total + end).max(0) } else { end }.min(total - 1);
        let units: Vec<i64> = (s..=e).collect();
        match unit {
            Unit::Byte => units
                .iter()
                .flat_map(|&b| (b as u64 * 8)..(b as u64 * 8 + 8))
                .collect(),
            Unit::Bit => units.iter().map(|&b| b as u64).collect(),
        }
    }

    fn unit() -> impl Strategy<Value = Unit> {
        prop_oneof![Just(Unit::Byte), Just(Unit::Bit)]
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        // Runs of 0x00/0xFF exercise the word-skipping paths.
        prop::collection::vec(prop_oneof![Just(0u8), Just(0xFFu8), any::<u8>()], 0..40)
    }

    proptest! {
        #[test]
        fn count_matches_the_naive_model(d in bytes(), s in -400i64..400, e in -400i64..400, u in unit()) {
            let want = naive_range(d.len(), s, e, u, true).iter().filter(|&&i| bit_at(&d, i)).count() as u64;
            let got = range(d.len(), s, e, u, true).map_or(0, |(a, b)| count(&d, a, b));
            prop_assert_eq!(got, want);
        }

        #[test]
        fn bitpos_matches_the_naive_model(
            d in bytes(), bit in any::<bool>(), s in prop::option::of(-400i64..400),
            e in prop::option::of(-400i64..400), u in unit(),
        ) {
            let e = if s.is_none() { None } else { e };
            let u = if e.is_none() { Unit::Byte } else { u };
            let total = match u { Unit::Byte => d.len() as i64, Unit::Bit => d.len() as i64 * 8 };
            let bits = naive_range(d.len(), s.unwrap_or(0), e.unwrap_or(total - 1), u, false);
            let want = match bits.iter().find(|&&i| bit_at(&d, i) == bit) {
                Some(&p) => p as i64,
                None if bits.is_empty() => -1,
                None if !bit && e.is_none() => *bits.last().unwrap_or(&0) as i64 + 1,
                None => -1,
            };
            prop_assert_eq!(bitpos(&d, bit, s, e, u), want);
        }

        #[test]
        fn bitop_matches_the_naive_model(srcs in prop::collection::vec(bytes(), 1..4), op in 0..4u8) {
            let op = [BitOp::And, BitOp::Or, BitOp::Xor, BitOp::Not][op as usize];
            let srcs = if op == BitOp::Not { srcs[..1].to_vec() } else { srcs };
            let refs: Vec<&[u8]> = srcs.iter().map(|s| s.as_slice()).collect();
            let got = bitop(op, &refs);
            let len = srcs.iter().map(|s| s.len()).max().unwrap_or(0);
            prop_assert_eq!(got.len(), len);
            for i in 0..len as u64 * 8 {
                let bits: Vec<bool> = srcs.iter().map(|s| bit_at(s, i)).collect();
                let want = match op {
                    BitOp::And => bits.iter().all(|&b| b),
                    BitOp::Or => bits.iter().any(|&b| b),
                    BitOp::Xor => bits.iter().filter(|&&b| b).count() % 2 == 1,
                    BitOp::Not => !bits[0],
                };
                prop_assert_eq!(bit_at(&got, i), want);
            }
        }

        #[test]
        fn fields_match_the_naive_model(
            d in bytes(), offset in 0u64..300, signed in any::<bool>(), bits in 1u32..=64, value in any::<i64>(),
        ) {
            let bits = if signed { bits } else { bits.min(63) };
            let ty = FieldType { signed, bits };
            // Read: bit by bit, most significant first, sign-extended.
            let mut raw: u64 = 0;
            for i in 0..u64::from(bits) {
                raw = (raw << 1) | u64::from(bit_at(&d, offset + i));
            }
            let want = if signed && bits < 64 && raw >> (bits - 1) & 1 == 1 {
                (raw | (u64::MAX << bits)) as i64
            } else {
                raw as i64
            };
            prop_assert_eq!(get_field(&d, offset, ty), want);
            // Write into a string long enough, then only the field's bits changed.
            let mut w = d.clone();
            let need = bytes_for_bit(offset + u64::from(bits) - 1) as usize;
            if w.len() < need { w.resize(need, 0); }
            let before = w.clone();
            set_field(&mut w, offset, ty, value);
            for i in 0..w.len() as u64 * 8 {
                if i >= offset && i < offset + u64::from(bits) {
                    let k = offset + u64::from(bits) - 1 - i;
                    prop_assert_eq!(bit_at(&w, i), (value as u64) >> k & 1 == 1);
                } else {
                    prop_assert_eq!(bit_at(&w, i), bit_at(&before, i));
                }
            }
            // What was written reads back, wrapped to the type.
            prop_assert_eq!(get_field(&w, offset, ty), ty.wrap(i128::from(value)));
        }

        #[test]
        fn incr_matches_arbitrary_precision(old in any::<i64>(), incr in any::<i64>(), signed in any::<bool>(), bits in 1u32..=64) {
            let bits = if signed { bits } else { bits.min(63) };
            let ty = FieldType { signed, bits };
            let old = ty.wrap(i128::from(old));
            let sum = i128::from(old) + i128::from(incr);
            let fits = sum >= ty.min() && sum <= ty.max();
            prop_assert_eq!(incr_field(ty, old, incr, Overflow::Fail).is_some(), fits);
            let wrapped = incr_field(ty, old, incr, Overflow::Wrap);
            prop_assert_eq!(wrapped.map(i128::from).map(|w| (w - sum).rem_euclid(1i128 << bits)), Some(0));
            let sat = incr_field(ty, old, incr, Overflow::Sat).map(i128::from);
            prop_assert_eq!(sat, Some(sum.clamp(ty.min(), ty.max())));
        }
    }
}
