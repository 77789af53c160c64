//! HyperLogLog: Redis's published representation, so an HLL moves between Redis and emberkv
//! with GET/SET and counts the same on both.
//!
//! # Representation (all byte layouts are Redis 7's)
//! A value is a plain string: a 16-byte header — the magic `HYLL`, an encoding byte (0 dense,
//! 1 sparse), three unused bytes and a cached cardinality (8 bytes, little endian, whose top
//! bit set means "stale") — followed by the registers:
//! - **dense**: 16384 registers of 6 bits, packed least significant bit first (register `i`
//!   starts at bit `6 i`), 12288 bytes;
//! - **sparse**: run-length opcodes — `00xxxxxx` a run of 1..64 zero registers, `01xxxxxx
//!   yyyyyyyy` a run of 1..16384 zero registers (14 bits), `1vvvvvxx` a run of 1..4 registers
//!   holding the value 1..32.
//!
//! An element is hashed with MurmurHash64A (seed `0xadc83b19`); the low 14 bits pick the
//! register and the position of the lowest set bit among the remaining 50 (plus one) is the
//! candidate value. The estimate is Ertl's improved raw estimator over the register histogram
//! ("New cardinality estimation algorithms for HyperLogLog sketches", 2017), which Redis 7
//! uses.
//!
//! Updates to a sparse value follow the same splitting and merging of opcodes as Redis's, so
//! the bytes (and so GET, DUMP-free replication by value, and the counts) match: a register
//! update replaces the opcode covering it by up to three opcodes, then adjacent equal-valued
//! runs near the change are merged. A value is promoted to dense when a register needs more
//! than 32 or the sparse form would outgrow `hll-sparse-max-bytes`.
//!
//! Every function takes bytes a client may have written with SET: none panics on malformed
//! input; structural damage comes back as [`Corrupt`].

/// Registers per HLL (2^14).
pub const REGISTERS: usize = 1 << P;
const P: u32 = 14;
/// Hash bits left after the register index.
const Q: u32 = 64 - P;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Header size.
pub const HDR: usize = 16;
/// Size of a whole dense value.
pub const DENSE_SIZE: usize = HDR + REGISTERS * BITS / 8;
const SEED: u64 = 0xadc8_3b19;

const ZERO_MAX_LEN: usize = 64;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;

const ENC_DENSE: u8 = 0;
const ENC_SPARSE: u8 = 1;

/// `1 / (2 ln 2)`, the estimator's constant for an infinite number of registers.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The value is an HLL whose registers cannot be read back (Redis's `INVALIDOBJ`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

/// How the registers are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// Dense: 16384 registers of 6 bits.
    Dense,
    /// Sparse: run-length coded registers, for small cardinalities.
    Sparse,
}

impl Encoding {
    /// What `PFDEBUG ENCODING` answers.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// Whether `s` is an HLL as far as its header tells: long enough, the magic, a known
/// encoding and, when dense, exactly the dense size. `None`: not an HLL string.
pub fn encoding(s: &[u8]) -> Option<Encoding> {
    if s.len() < HDR || &s[..4] != b"HYLL" {
        return None;
    }
    match s[4] {
        ENC_DENSE if s.len() == DENSE_SIZE => Some(Encoding::Dense),
        ENC_SPARSE => Some(Encoding::Sparse),
        _ => None,
    }
}

/// A new, empty HLL: sparse, one XZERO run over every register, cached cardinality 0.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.push(ENC_SPARSE);
    v.extend_from_slice(&[0; 11]);
    push_xzero(&mut v, REGISTERS);
    v
}

/// The cached cardinality, when the header holds a valid one.
pub fn cached(s: &[u8]) -> Option<u64> {
    let card: [u8; 8] = s.get(8..16)?.try_into().ok()?;
    (card[7] & 0x80 == 0).then(|| u64::from_le_bytes(card))
}

/// Stores a freshly computed cardinality in the header.
pub fn set_cached(s: &mut [u8], card: u64) {
    if let Some(c) = s.get_mut(8..16) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale.
pub fn invalidate(s: &mut [u8]) {
    if let Some(b) = s.get_mut(15) {
        *b |= 0x80;
    }
}

/// MurmurHash64A (Austin Appleby's 64-bit hash), reading blocks little endian as Redis does
/// on every platform.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut blocks = key.chunks_exact(8);
    for block in blocks.by_ref() {
        let mut b = [0u8; 8];
        b.copy_from_slice(block);
        let mut k = u64::from_le_bytes(b).wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element updates and the value it proposes (1..=51): one plus the number
/// of trailing zeros of the hash bits above the index, with a sentinel bit capping the run.
pub fn register_for(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

// --- dense registers -------------------------------------------------------------------

fn dense_get(regs: &[u8], i: usize) -> u8 {
    let bit = i * BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let lo = u32::from(regs.get(byte).copied().unwrap_or(0));
    let hi = u32::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((lo | (hi << 8)) >> shift) as u8) & REGISTER_MAX
}

fn dense_set(regs: &mut [u8], i: usize, v: u8) {
    let bit = i * BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let v = u32::from(v & REGISTER_MAX) << shift;
    let mask = u32::from(REGISTER_MAX) << shift;
    if let Some(b) = regs.get_mut(byte) {
        *b = (*b & !(mask as u8)) | v as u8;
    }
    if mask >> 8 != 0 {
        if let Some(b) = regs.get_mut(byte + 1) {
            *b = (*b & !((mask >> 8) as u8)) | (v >> 8) as u8;
        }
    }
}

/// Raises register `i` of a dense value to `v`; whether it changed.
fn dense_raise(s: &mut [u8], i: usize, v: u8) -> bool {
    let start = HDR.min(s.len());
    let regs = &mut s[start..];
    if dense_get(regs, i) < v {
        dense_set(regs, i, v);
        true
    } else {
        false
    }
}

// --- sparse opcodes --------------------------------------------------------------------

/// One decoded sparse opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// A run of zero registers; `wide` for the two-byte form.
    Zero {
        len: usize,
        wide: bool,
    },
    Val {
        value: u8,
        len: usize,
    },
}

impl Op {
    fn len(self) -> usize {
        match self {
            Op::Zero { len, .. } | Op::Val { len, .. } => len,
        }
    }

    /// Bytes the opcode takes.
    fn size(self) -> usize {
        match self {
            Op::Zero { wide: true, .. } => 2,
            _ => 1,
        }
    }
}

/// Decodes the opcode at `ops[at]`. A two-byte opcode cut short by the end reads its
/// missing byte as 0, as Redis does (it reads the string's terminator).
fn op_at(ops: &[u8], at: usize) -> Op {
    let b = ops[at];
    if b & 0x80 != 0 {
        Op::Val {
            value: ((b >> 2) & 0x1f) + 1,
            len: usize::from(b & 0x03) + 1,
        }
    } else if b & 0x40 == 0 {
        Op::Zero {
            len: usize::from(b & 0x3f) + 1,
            wide: false,
        }
    } else {
        let lo = ops.get(at + 1).copied().unwrap_or(0);
        Op::Zero {
            len: ((usize::from(b & 0x3f) << 8) | usize::from(lo)) + 1,
            wide: true,
        }
    }
}

/// Walks the opcodes of sparse register bytes: `(offset, op)`.
fn ops(sparse: &[u8]) -> impl Iterator<Item = (usize, Op)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= sparse.len() {
            return None;
        }
        let op = op_at(sparse, at);
        let here = at;
        at += op.size();
        Some((here, op))
    })
}

fn val_byte(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len as u8 - 1)
}

fn push_xzero(out: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    out.push(0x40 | ((l >> 8) as u8 & 0x3f));
    out.push(l as u8);
}

/// A zero run as one opcode: ZERO up to 64 registers, XZERO above.
fn push_zero_run(out: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        push_xzero(out, len);
    } else {
        out.push((len - 1) as u8);
    }
}

/// Raises register `index` of a sparse value to `count` in place, splitting the opcode that
/// covers it and merging equal neighbours afterwards. `Ok(None)`: the change does not fit
/// the sparse form (a value above 32, or growth past `max_bytes`): the caller promotes.
fn sparse_raise(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    max_bytes: usize,
) -> Result<Option<bool>, Corrupt> {
    if count > VAL_MAX_VALUE {
        return Ok(None);
    }
    // Find the opcode covering `index`, the first register it covers, and the opcode
    // before it (where merging starts).
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut found = None;
    for (at, op) in ops(&s[HDR..]) {
        if index < first + op.len() {
            found = Some((at, op));
            break;
        }
        prev = Some(at);
        first += op.len();
    }
    let Some((at, op)) = found else {
        return Err(Corrupt);
    };
    let pos = HDR + at;
    match op {
        Op::Val { value, .. } if value >= count => return Ok(Some(false)),
        Op::Val { len: 1, .. }
        | Op::Zero {
            len: 1,
            wide: false,
        } => {
            s[pos] = val_byte(count, 1);
        }
        _ => {
            let last = first + op.len() - 1;
            let mut seq = Vec::with_capacity(5);
            match op {
                Op::Zero { .. } => {
                    if index != first {
                        push_zero_run(&mut seq, index - first);
                    }
                    seq.push(val_byte(count, 1));
                    if index != last {
                        push_zero_run(&mut seq, last - index);
                    }
                }
                Op::Val { value, .. } => {
                    if index != first {
                        seq.push(val_byte(value, index - first));
                    }
                    seq.push(val_byte(count, 1));
                    if index != last {
                        seq.push(val_byte(value, last - index));
                    }
                }
            }
            let old = op.size();
            if seq.len() > old && s.len() + (seq.len() - old) > max_bytes {
                return Ok(None);
            }
            // A two-byte opcode cut short by the end of the string only has one byte.
            let end = (pos + old).min(s.len());
            s.splice(pos..end, seq);
        }
    }
    merge_adjacent(s, prev.map_or(HDR, |p| HDR + p));
    invalidate(s);
    Ok(Some(true))
}

/// Merges runs of equal values next to each other, looking at no more than five opcodes
/// from `from` (the opcode before the one just changed), as Redis does after an update.
fn merge_adjacent(s: &mut Vec<u8>, from: usize) {
    let mut p = from;
    let mut budget = 5;
    while p < s.len() && budget > 0 {
        budget -= 1;
        let b = s[p];
        if b & 0x80 == 0 {
            p += if b & 0x40 != 0 { 2 } else { 1 };
            continue;
        }
        if let Some(&n) = s.get(p + 1) {
            if n & 0x80 != 0 {
                let (a, b) = (op_at(s, p), op_at(s, p + 1));
                if let (Op::Val { value: v1, len: l1 }, Op::Val { value: v2, len: l2 }) = (a, b) {
                    if v1 == v2 && l1 + l2 <= VAL_MAX_LEN {
                        s[p + 1] = val_byte(v1, l1 + l2);
                        s.remove(p);
                        // Stay here: the merged run may merge with the next one too.
                        continue;
                    }
                }
            }
        }
        p += 1;
    }
}

/// Calls `f(first_register, op)` for each opcode of a sparse value and checks the runs
/// cover exactly [`REGISTERS`]. A run reaching past the last register stops the walk and
/// fails the check (Redis 7.0.15 rejects such a value even when the runs before it add up
/// to exactly the register count: checked against it).
fn walk_sparse(s: &[u8], mut f: impl FnMut(usize, Op)) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    for (_, op) in ops(s.get(HDR..).unwrap_or_default()) {
        if idx + op.len() > REGISTERS {
            return Err(Corrupt);
        }
        f(idx, op);
        idx += op.len();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Converts a sparse value to dense in place (the header, cached cardinality included, is
/// kept). `Ok(false)`: it was dense already.
pub fn to_dense(s: &mut Vec<u8>) -> Result<bool, Corrupt> {
    if encoding(s) != Some(Encoding::Sparse) {
        return Ok(false);
    }
    let mut dense = vec![0u8; DENSE_SIZE];
    dense[..HDR].copy_from_slice(&s[..HDR]);
    dense[4] = ENC_DENSE;
    let regs = &mut dense[HDR..];
    walk_sparse(s, |first, op| {
        if let Op::Val { value, len } = op {
            for i in first..first + len {
                dense_set(regs, i, value);
            }
        }
    })?;
    *s = dense;
    Ok(true)
}

/// Raises register `index` to `count` (if lower), promoting a sparse value to dense when the
/// sparse form cannot hold the change. Whether the register changed. A corrupt sparse value
/// (no run covers `index`, or a promotion finds the runs do not add up) is left unchanged.
pub fn raise(
    s: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max_bytes: usize,
) -> Result<bool, Corrupt> {
    match encoding(s) {
        Some(Encoding::Dense) => Ok(dense_raise(s, index, count)),
        Some(Encoding::Sparse) => match sparse_raise(s, index, count, sparse_max_bytes)? {
            Some(changed) => Ok(changed),
            None => {
                to_dense(s)?;
                // Promotion only happens for a change the sparse form could not hold, so
                // the register does change.
                Ok(dense_raise(s, index, count))
            }
        },
        None => Err(Corrupt),
    }
}

/// Adds one element (PFADD): whether a register changed.
pub fn add(s: &mut Vec<u8>, element: &[u8], sparse_max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = register_for(element);
    raise(s, index, count, sparse_max_bytes)
}

/// Register values of an HLL, merged by maximum: PFCOUNT over several keys and PFMERGE.
pub struct Registers(Box<[u8; REGISTERS]>);

impl Default for Registers {
    fn default() -> Self {
        Registers(Box::new([0; REGISTERS]))
    }
}

impl Registers {
    /// Every register at 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every register becomes the larger of its value and the HLL's.
    pub fn merge(&mut self, s: &[u8]) -> Result<(), Corrupt> {
        let max = &mut self.0;
        match encoding(s) {
            Some(Encoding::Dense) => {
                let regs = &s[HDR..];
                for (i, m) in max.iter_mut().enumerate() {
                    *m = (*m).max(dense_get(regs, i));
                }
                Ok(())
            }
            Some(Encoding::Sparse) => walk_sparse(s, |first, op| {
                if let Op::Val { value, len } = op {
                    for m in &mut max[first..first + len] {
                        *m = (*m).max(value);
                    }
                }
            }),
            None => Err(Corrupt),
        }
    }

    /// Register `i` (0 out of range).
    pub fn get(&self, i: usize) -> u8 {
        self.0.get(i).copied().unwrap_or(0)
    }

    /// The cardinality estimate of the merged registers.
    pub fn count(&self) -> u64 {
        let mut histo = [0u32; 64];
        for &r in self.0.iter() {
            histo[usize::from(r & 63)] += 1;
        }
        estimate(&histo)
    }

    /// Writes the merged registers into an HLL (PFMERGE's destination), register by
    /// register in index order, so a sparse destination evolves exactly as in Redis.
    /// Errors on a sparse destination are ignored, as Redis does (its sources were
    /// validated while merging).
    pub fn write_into(&self, s: &mut Vec<u8>, sparse_max_bytes: usize) {
        for (i, &v) in self.0.iter().enumerate() {
            if v != 0 {
                let _ = raise(s, i, v, sparse_max_bytes);
            }
        }
    }
}

/// The cardinality estimate of an HLL, ignoring its cache; `Corrupt` when its sparse runs
/// do not cover exactly the registers.
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    let mut histo = [0u32; 64];
    match encoding(s) {
        Some(Encoding::Dense) => {
            let regs = &s[HDR..];
            for i in 0..REGISTERS {
                histo[usize::from(dense_get(regs, i))] += 1;
            }
        }
        Some(Encoding::Sparse) => {
            // Unlike a merge, counting does not stop at a run past the end: it only checks
            // the total.
            let mut idx = 0usize;
            for (_, op) in ops(&s[HDR..]) {
                let (v, len) = match op {
                    Op::Zero { len, .. } => (0, len),
                    Op::Val { value, len } => (value, len),
                };
                histo[usize::from(v)] += len as u32;
                idx += len;
            }
            if idx != REGISTERS {
                return Err(Corrupt);
            }
        }
        None => return Err(Corrupt),
    }
    Ok(estimate(&histo))
}

/// Ertl's improved raw estimator over the histogram of register values.
fn estimate(histo: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - f64::from(histo[q + 1])) / m);
    for j in (1..=q).rev() {
        z += f64::from(histo[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histo[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k-1), summed until it stops changing.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

/// τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))² 2^−k) / 3, summed until it stops changing.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// Every register of a dense value (PFDEBUG GETREG).
pub fn dense_registers(s: &[u8]) -> Vec<u8> {
    let regs = s.get(HDR..).unwrap_or_default();
    (0..REGISTERS).map(|i| dense_get(regs, i)).collect()
}

/// The opcodes of a sparse value as PFDEBUG DECODE prints them: `z:len` (ZERO), `Z:len`
/// (XZERO), `v:value,len`, separated by spaces.
pub fn decode_sparse(s: &[u8]) -> String {
    let mut out = Vec::new();
    for (_, op) in ops(s.get(HDR..).unwrap_or_default()) {
        out.push(match op {
            Op::Zero { len, wide: false } => format!("z:{len}"),
            Op::Zero { len, wide: true } => format!("Z:{len}"),
            Op::Val { value, len } => format!("v:{value},{len}"),
        });
    }
    out.join(" ")
}

/// PFSELFTEST: register packing round-trips on every register, and sparse and dense forms
/// of the same elements agree, register for register and in their estimate, which stays
/// within a generous error bound. Sized to run in a few milliseconds.
pub fn self_test() -> Result<(), String> {
    let mut regs = vec![0u8; REGISTERS * BITS / 8];
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for _ in 0..4 {
        let want: Vec<u8> = (0..REGISTERS).map(|_| (next() & 63) as u8).collect();
        for (i, &v) in want.iter().enumerate() {
            dense_set(&mut regs, i, v);
        }
        for (i, &v) in want.iter().enumerate() {
            if dense_get(&regs, i) != v {
                return Err(format!("TESTFAILED Register error at {i}"));
            }
        }
    }
    let mut sparse = new_sparse();
    let mut dense = new_sparse();
    to_dense(&mut dense).map_err(|_| "TESTFAILED dense conversion".to_string())?;
    for n in 1..=300u64 {
        let e = (next() ^ n).to_le_bytes();
        let a = add(&mut sparse, &e, usize::MAX).map_err(|_| "TESTFAILED sparse add")?;
        let b = add(&mut dense, &e, usize::MAX).map_err(|_| "TESTFAILED dense add")?;
        if a != b {
            return Err(format!("TESTFAILED sparse/dense update mismatch at {n}"));
        }
    }
    let (cs, cd) = (count(&sparse), count(&dense));
    let mut promoted = sparse.clone();
    let _ = to_dense(&mut promoted);
    if cs != cd || promoted[HDR..] != dense[HDR..] {
        return Err("TESTFAILED sparse and dense representations differ".into());
    }
    match cd {
        Ok(c) if c.abs_diff(300) <= 30 => Ok(()),
        other => Err(format!("TESTFAILED estimate {other:?} for 300 elements")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registers of any HLL, through the merge path.
    fn registers(s: &[u8]) -> Vec<u8> {
        let mut r = Registers::new();
        r.merge(s).expect("valid");
        r.0.to_vec()
    }

    fn elements(n: usize) -> impl Iterator<Item = Vec<u8>> {
        (0..n).map(|i| format!("element:{i}").into_bytes())
    }

    /// Register and value per element, as Redis 7.0.15's `PFDEBUG DECODE` showed them after
    /// adding each element alone (covers 0-, 1-, 7-, 8- and 9-byte tails of the hash).
    #[test]
    fn elements_land_where_redis_puts_them() {
        let cases: &[(&[u8], usize, u8)] = &[
            (b"a", 12711, 2),
            (b"b", 15780, 1),
            (b"c", 8436, 1),
            (b"", 5938, 2),
            (b"hello", 9216, 1),
            (b"element:0", 8322, 1),
            (b"12345678", 10579, 3),
            (b"123456789", 9293, 2),
        ];
        for &(e, index, count) in cases {
            assert_eq!(
                register_for(e),
                (index, count),
                "{:?}",
                String::from_utf8_lossy(e)
            );
        }
    }

    #[test]
    fn a_new_hll_is_one_xzero_run_with_a_valid_zero_cache() {
        let h = new_sparse();
        assert_eq!(h.len(), HDR + 2);
        assert_eq!(&h[..5], b"HYLL\x01");
        assert_eq!(&h[HDR..], &[0x7f, 0xff]);
        assert_eq!(cached(&h), Some(0));
        assert_eq!(count(&h), Ok(0));
        assert_eq!(decode_sparse(&h), "Z:16384");
        assert_eq!(encoding(&h), Some(Encoding::Sparse));
    }

    #[test]
    fn headers_are_validated() {
        assert_eq!(encoding(b"HYLL"), None);
        assert_eq!(encoding(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\0"), None);
        assert_eq!(encoding(b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0"), None);
        // Dense must be exactly the dense size.
        assert_eq!(encoding(b"HYLL\x00\0\0\0\0\0\0\0\0\0\0\0"), None);
        let mut d = new_sparse();
        to_dense(&mut d).unwrap();
        assert_eq!(d.len(), DENSE_SIZE);
        assert_eq!(encoding(&d), Some(Encoding::Dense));
    }

    #[test]
    fn cache_is_little_endian_with_a_stale_bit() {
        let mut h = new_sparse();
        set_cached(&mut h, 0x0102);
        assert_eq!(&h[8..16], &[2, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(cached(&h), Some(0x0102));
        invalidate(&mut h);
        assert_eq!(h[15], 0x80);
        assert_eq!(cached(&h), None);
    }

    #[test]
    fn dense_registers_pack_lsb_first() {
        let mut regs = vec![0u8; REGISTERS * BITS / 8];
        dense_set(&mut regs, 0, 0b111111);
        assert_eq!(regs[0], 0b0011_1111);
        dense_set(&mut regs, 1, 0b000011);
        assert_eq!((regs[0], regs[1]), (0b1111_1111, 0));
        dense_set(&mut regs, 1, 0b101100);
        assert_eq!((regs[0] >> 6, regs[1]), (0b00, 0b1011));
        dense_set(&mut regs, REGISTERS - 1, 51);
        assert_eq!(dense_get(&regs, REGISTERS - 1), 51);
        assert_eq!(dense_get(&regs, 1), 0b101100);
        assert_eq!(dense_get(&regs, 0), 0b111111);
    }

    #[test]
    fn sparse_updates_split_and_merge_opcodes() {
        let mut h = new_sparse();
        assert_eq!(raise(&mut h, 100, 3, 3000), Ok(true));
        assert_eq!(decode_sparse(&h), "Z:100 v:3,1 Z:16283");
        assert_eq!(cached(&h), None, "an update invalidates the cache");
        assert_eq!(raise(&mut h, 100, 2, 3000), Ok(false));
        assert_eq!(raise(&mut h, 101, 3, 3000), Ok(true));
        assert_eq!(decode_sparse(&h), "Z:100 v:3,2 Z:16282");
        assert_eq!(raise(&mut h, 0, 1, 3000), Ok(true));
        assert_eq!(decode_sparse(&h), "v:1,1 Z:99 v:3,2 Z:16282");
        // A value run split in the middle.
        assert_eq!(raise(&mut h, 102, 3, 3000), Ok(true));
        assert_eq!(raise(&mut h, 101, 5, 3000), Ok(true));
        assert_eq!(decode_sparse(&h), "v:1,1 Z:99 v:3,1 v:5,1 v:3,1 Z:16281");
        let regs = registers(&h);
        assert_eq!((regs[0], regs[100], regs[101], regs[102]), (1, 3, 5, 3));
    }

    #[test]
    fn values_above_32_promote_to_dense() {
        let mut h = new_sparse();
        raise(&mut h, 7, 2, 3000).unwrap();
        set_cached(&mut h, 1);
        assert_eq!(raise(&mut h, 9, 33, 3000), Ok(true));
        assert_eq!(encoding(&h), Some(Encoding::Dense));
        let regs = registers(&h);
        assert_eq!((regs[7], regs[9]), (2, 33));
        assert_eq!(regs.iter().filter(|&&r| r != 0).count(), 2);
    }

    /// The limit is inclusive: a value may grow to exactly `max_bytes`. ("a" splits the
    /// single XZERO run into XZERO, VAL, XZERO: 18 bytes become 21. Redis 7.0.15 keeps it
    /// sparse with `hll-sparse-max-bytes 21` and promotes it with 20.)
    #[test]
    fn promotion_happens_just_past_the_limit() {
        let mut h = new_sparse();
        assert_eq!(add(&mut h, b"a", 21), Ok(true));
        assert_eq!((encoding(&h), h.len()), (Some(Encoding::Sparse), 21));
        let mut h = new_sparse();
        assert_eq!(add(&mut h, b"a", 20), Ok(true));
        assert_eq!((encoding(&h), h.len()), (Some(Encoding::Dense), DENSE_SIZE));
        assert_eq!(dense_registers(&h)[12711], 2);
        // Changes that do not grow the value never promote, whatever the limit.
        let mut h = new_sparse();
        add(&mut h, b"a", 21).unwrap();
        assert_eq!(raise(&mut h, 12711, 5, 0), Ok(true));
        assert_eq!(encoding(&h), Some(Encoding::Sparse));
    }

    #[test]
    fn sparse_promotes_when_it_would_outgrow_the_limit() {
        let limit = 60;
        let mut h = new_sparse();
        let mut promoted_at = None;
        for (n, e) in elements(200).enumerate() {
            let before = h.clone();
            add(&mut h, &e, limit).unwrap();
            if encoding(&h) == Some(Encoding::Dense) {
                promoted_at = Some(n);
                // Everything the sparse form held survives the promotion.
                let old = registers(&before);
                let new = registers(&h);
                assert!(old.iter().zip(&new).all(|(a, b)| a <= b));
                break;
            }
            assert!(h.len() <= limit, "{} bytes", h.len());
        }
        assert!(promoted_at.is_some());
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        to_dense(&mut dense).unwrap();
        for e in elements(1500) {
            assert_eq!(
                add(&mut sparse, &e, usize::MAX),
                add(&mut dense, &e, usize::MAX)
            );
        }
        assert_eq!(encoding(&sparse), Some(Encoding::Sparse));
        assert_eq!(registers(&sparse), registers(&dense));
        assert_eq!(count(&sparse), count(&dense));
        let mut converted = sparse.clone();
        assert_eq!(to_dense(&mut converted), Ok(true));
        assert_eq!(converted[HDR..], dense[HDR..]);
        assert_eq!(to_dense(&mut converted), Ok(false));
    }

    #[test]
    fn merge_takes_the_maximum_and_rewrites_identically() {
        let (mut a, mut b) = (new_sparse(), new_sparse());
        for e in elements(300) {
            add(&mut a, &e, 3000).unwrap();
        }
        for e in elements(600).skip(200) {
            add(&mut b, &e, 3000).unwrap();
        }
        let mut all = new_sparse();
        for e in elements(600) {
            add(&mut all, &e, 3000).unwrap();
        }
        let mut r = Registers::new();
        r.merge(&a).unwrap();
        r.merge(&b).unwrap();
        assert_eq!(r.0.to_vec(), registers(&all));
        assert_eq!(Ok(r.count()), count(&all));
        let mut dest = new_sparse();
        r.write_into(&mut dest, 3000);
        assert_eq!(registers(&dest), registers(&all));
    }

    #[test]
    fn estimates_stay_close() {
        let mut h = new_sparse();
        for (n, e) in elements(20_000).enumerate() {
            add(&mut h, &e, 3000).unwrap();
            let n = n as u64 + 1;
            if [1, 10, 100, 1000, 5000, 20_000].contains(&n) {
                let c = count(&h).unwrap();
                // 0.81% standard error; allow 5%.
                assert!(c.abs_diff(n) * 20 <= n.max(20), "{n}: {c}");
            }
        }
        assert_eq!(encoding(&h), Some(Encoding::Dense));
    }

    #[test]
    fn corrupt_sparse_values_are_errors_not_panics() {
        let base = new_sparse();
        let cases: Vec<Vec<u8>> = vec![
            // Runs covering too few registers.
            [&base[..HDR], &[0x7f, 0xfe]].concat(),
            // Too many.
            [&base[..HDR], &[0x7f, 0xff, 0x00]].concat(),
            // A value run past the end.
            [&base[..HDR], &[0x7f, 0xfe, 0x83]].concat(),
            // A value run after runs that already cover every register.
            [&base[..HDR], &[0x7f, 0xff, 0x80]].concat(),
            // A cut-off XZERO.
            [&base[..HDR], &[0x7f]].concat(),
            // No opcodes at all.
            base[..HDR].to_vec(),
        ];
        for c in cases {
            assert_eq!(count(&c), Err(Corrupt), "{c:?}");
            assert_eq!(Registers::new().merge(&c), Err(Corrupt), "{c:?}");
            assert_eq!(to_dense(&mut c.clone()), Err(Corrupt), "{c:?}");
            // Adding may succeed (when the register's run exists) or fail; never panic.
            let mut m = c.clone();
            for e in elements(50) {
                let _ = add(&mut m, &e, 3000);
            }
            let _ = decode_sparse(&c);
        }
    }

    proptest::proptest! {
        /// Whatever follows a sparse or dense header, every operation answers without
        /// panicking, and a value that counts also converts and merges.
        #[test]
        fn arbitrary_register_bytes_never_panic(
            dense in proptest::bool::ANY,
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            fill in proptest::num::u8::ANY,
            elements in proptest::collection::vec(proptest::num::u64::ANY, 0..20),
            max in 0usize..200,
        ) {
            let mut s = new_sparse();
            s.truncate(HDR);
            if dense {
                s[4] = ENC_DENSE;
                s.resize(DENSE_SIZE, fill);
                let n = body.len().min(DENSE_SIZE - HDR);
                s[HDR..HDR + n].copy_from_slice(&body[..n]);
            } else {
                s.extend_from_slice(&body);
            }
            let counted = count(&s);
            let mut r = Registers::new();
            proptest::prop_assert_eq!(r.merge(&s).is_ok(), counted.is_ok());
            let mut d = s.clone();
            proptest::prop_assert_eq!(to_dense(&mut d).is_ok(), counted.is_ok());
            if counted.is_ok() {
                proptest::prop_assert_eq!(count(&d), counted);
            }
            let _ = decode_sparse(&s);
            for e in elements {
                let _ = add(&mut s, &e.to_le_bytes(), max);
            }
            let _ = count(&s);
        }
    }

    #[test]
    fn self_test_passes() {
        assert_eq!(self_test(), Ok(()));
    }
}
