//! SORT and SORT_RO: sort (or just page through) a list, set or sorted set, optionally by
//! weights read from other keys (`BY`), returning or storing other keys' values (`GET`).
//!
//! The pure parts sit at the top and are unit-tested alone: option parsing, LIMIT clamping
//! ([`clamp_limit`]), the weight conversion ([`parse_weight`], C's `strtod` rules), pattern
//! substitution ([`Pattern`]) and the ordering ([`order`]). The handler below them loads the
//! elements, reads the weights, sorts, and answers or stores.
//!
//! # Redis 7.0's rules, reproduced
//! - Options are read left to right; the last `BY`, `LIMIT` and `STORE` win, `GET`s add up.
//!   A `BY` pattern without `*` (`BY nosort`) turns sorting off for good, even if another
//!   `BY` with `*` follows. Option errors come before the key's lookup (and WRONGTYPE).
//! - Without sorting, lists and sorted sets keep their own order (reversed by `DESC`) and
//!   LIMIT picks from it; a set keeps its storage order — except with `STORE`, where Redis
//!   sorts the set `ALPHA` (byte order) so the stored list replays identically.
//! - Numeric weights follow `strtod`: leading spaces, hex, `inf` are accepted, an empty
//!   string is 0; trailing garbage, NaN and out-of-range values (overflow, or underflow to
//!   0 or a subnormal) fail the whole command with `ERR One or more scores can't be
//!   converted into double`. Equal weights fall back to comparing the elements' bytes.
//! - `ALPHA` compares bytes. Redis uses `strcoll` (C locale: `strcmp`, which stops at a NUL
//!   byte) when replying and a full binary compare when storing; both are reproduced. With
//!   `BY`, a missing weight key sorts first; equal `ALPHA` weights keep the load order (glibc's
//!   `qsort` is a stable merge sort; Rust's `sort_by` too).
//! - A sorted set read by SORT is converted to its skiplist encoding first, as Redis does.
//! - `STORE` replaces the destination with a list (no TTL) and fires `sortstore`; an empty
//!   result deletes it (`del`). `dirty` grows by the stored length (1 for a deletion).
//!
//! # Known differences
//! Ties among equal `ALPHA` `BY` weights depend on the order elements are loaded in: for
//! hash-table sets and sorted sets (Redis loads from its dict) and when `LIMIT` narrows a
//! `BY` sort (Redis then uses its own partial quicksort, which is not stable) the order of
//! such ties may differ from Redis's. So may the storage order of hash-table sets under `BY
//! nosort` without `STORE` — which Redis does not define either.
//!
//! # Locking
//! `BY` and `GET` patterns name keys derived from the data, so no key spec can list them
//! ahead of time (Redis marks that spec `unknown`; outside cluster mode it allows any key).
//! Both rows are therefore `GLOBAL`: dispatch locks every shard for every SORT, which keeps
//! pattern lookups atomic and never trips the outside-key-spec check. A per-request choice
//! (lock globally only when a pattern contains `*`) would need a second locking mode in
//! `lock_for`; SORT is O(N log N) already, so the full lock's extra cost is not worth it.
//! The key specs and the `keys_fn` (Redis's `sortGetKeys`) still describe the keys for
//! `COMMAND INFO` / `GETKEYS`.

use std::cmp::Ordering;

use bytes::Bytes;

use super::table::*;
use super::Ctx;
use crate::notify;
use crate::protocol::{Args, CmdError, CmdResult, Reply};
use crate::storage::list::Fill;
use crate::storage::{Db, Expiry, ListValue, Value};

const ACL: u32 = SET | SORTEDSET | LIST | DANGEROUS;

const SORTED_KEY: KeySpec = KeySpec::at(1, &["RO", "access"]);
const PATTERN_KEYS: KeySpec = KeySpec::unknown(&["RO", "access"]).notes(
    "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
);
const STORE_KEY: KeySpec = KeySpec::unknown(&["OW", "update"]).notes(
    "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
);

pub(super) const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sort", -2, WRITE | DENYOOM | GLOBAL, ACL, Keys::ONE, sort)
        .doc(
            "Sorts a list, set or sorted set, or pages through it, and returns or stores the result.",
            "1.0.0",
        )
        .key_specs(&[SORTED_KEY, PATTERN_KEYS, STORE_KEY])
        .keys_fn(sort_keys),
    CommandSpec::new("sort_ro", -2, READONLY | GLOBAL, ACL, Keys::ONE, sort_ro)
        .doc(
            "Sorts a list, set or sorted set, or pages through it (the read-only SORT).",
            "7.0.0",
        )
        .key_specs(&[SORTED_KEY, PATTERN_KEYS])
        .keys_fn(sort_ro_keys),
];

const NOT_DOUBLE: &str = "ERR One or more scores can't be converted into double";

/// SORT's keys as `COMMAND GETKEYS` reports them (Redis's `sortGetKeys`): the sorted key, and
/// the argument after the last `STORE`, skipping the arguments of LIMIT, GET and BY.
fn sort_keys(argv: &[Bytes], found: &mut dyn FnMut(usize, usize)) {
    if argv.len() < 2 {
        return;
    }
    found(1, 0);
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i];
        if a.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"store") && i + 1 < argv.len() {
            // Not skipped: `STORE STORE d` stores into `d`, as in Redis.
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(p) = store {
        found(p, 2);
    }
}

/// SORT_RO's one key: Redis finds it from the first spec and skips the `unknown` one.
fn sort_ro_keys(argv: &[Bytes], found: &mut dyn FnMut(usize, usize)) {
    if argv.len() >= 2 {
        found(1, 0);
    }
}

/// The options of one SORT, as Redis reads them.
#[derive(Debug, Default, PartialEq)]
struct Options {
    desc: bool,
    alpha: bool,
    /// LIMIT offset and count (count -1: to the end).
    offset: i64,
    count: i64,
    /// The last BY pattern.
    by: Option<Bytes>,
    /// Set once any BY pattern has no `*`.
    dont_sort: bool,
    gets: Vec<Bytes>,
    store: Option<Bytes>,
}

/// Reads SORT's options (`opts`: the arguments after the key). `STORE` only when
/// `!readonly` (SORT_RO treats it as a syntax error).
fn parse_options(opts: &[Bytes], readonly: bool) -> Result<Options, CmdError> {
    let mut o = Options {
        count: -1,
        ..Options::default()
    };
    let mut j = 0;
    while j < opts.len() {
        let a = &opts[j];
        let left = opts.len() - j - 1;
        let is = |w: &str| a.eq_ignore_ascii_case(w.as_bytes());
        if is("asc") {
            o.desc = false;
        } else if is("desc") {
            o.desc = true;
        } else if is("alpha") {
            o.alpha = true;
        } else if is("limit") && left >= 2 {
            let n =
                |b: &Bytes| crate::protocol::number::parse_i64(b).ok_or(CmdError::not_integer());
            o.offset = n(&opts[j + 1])?;
            o.count = n(&opts[j + 2])?;
            j += 2;
        } else if !readonly && is("store") && left >= 1 {
            o.store = Some(opts[j + 1].clone());
            j += 1;
        } else if is("by") && left >= 1 {
            let p = opts[j + 1].clone();
            if star(&p).is_none() {
                o.dont_sort = true;
            }
            o.by = Some(p);
            j += 1;
        } else if is("get") && left >= 1 {
            o.gets.push(opts[j + 1].clone());
            j += 1;
        } else {
            return Err(CmdError::syntax());
        }
        j += 1;
    }
    Ok(o)
}

/// The bytes C sees of `s`: up to its first NUL.
fn c_str(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// Where C's `strchr(pattern, '*')` finds the star.
fn star(pattern: &[u8]) -> Option<usize> {
    c_str(pattern).iter().position(|&b| b == b'*')
}

/// LIMIT as Redis clamps it for `len` elements: the inclusive output range `(start, end)`,
/// empty when `end < start`. A negative offset is 0, a negative count means "to the end",
/// an offset past the end gives nothing; huge counts saturate.
pub(crate) fn clamp_limit(offset: i64, count: i64, len: usize) -> (i64, i64) {
    let len = len as i128;
    let mut start = offset.max(0) as i128;
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count as i128 - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start as i64, end as i64)
}

/// Converts a weight as SORT does with C's `strtod` over the string (up to a NUL): `None`
/// when text is left over, the value is NaN, or it is out of range (overflow; underflow to
/// 0 or to a subnormal). The empty string converts to 0, as `strtod` leaves nothing over.
pub(crate) fn parse_weight(s: &[u8]) -> Option<f64> {
    let s = c_str(s);
    if s.is_empty() {
        return Some(0.0);
    }
    let t = s.trim_ascii_start();
    let (neg, body) = match t.first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let lower = body.to_ascii_lowercase();
    let (v, nonzero_digits) = if lower == b"inf" || lower == b"infinity" {
        return Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    } else if lower.starts_with(b"nan") {
        return None;
    } else if let Some(hex) = lower.strip_prefix(b"0x") {
        parse_hex(hex)?
    } else {
        // Rust's grammar for the rest is strtod's decimal one; inf/nan are handled above.
        if !body
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        let v: f64 = std::str::from_utf8(body).ok()?.parse().ok()?;
        let mantissa = body.split(|b| matches!(b, b'e' | b'E')).next()?;
        (v, mantissa.iter().any(|b| (b'1'..=b'9').contains(b)))
    };
    if v.is_nan() || v.is_infinite() || (v == 0.0 && nonzero_digits) || (v != 0.0 && !v.is_normal())
    {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// A hex float body after `0x` (`h[.h][p[+-]d]`): its value and whether a digit is nonzero.
fn parse_hex(s: &[u8]) -> Option<(f64, bool)> {
    let (mant, exp) = match s.iter().position(|&b| b == b'p') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mant.iter().position(|&b| b == b'.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, &[][..]),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    let mut nonzero = false;
    for &b in int.iter().chain(frac) {
        let d = (b as char).to_digit(16)?;
        nonzero |= d != 0;
        v = v * 16.0 + d as f64;
    }
    let mut e: i64 = -4 * frac.len() as i64;
    if let Some(x) = exp {
        let (eneg, digits) = match x.first() {
            Some(b'-') => (true, &x[1..]),
            Some(b'+') => (false, &x[1..]),
            _ => (false, x),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n: i64 = std::str::from_utf8(digits)
            .ok()?
            .parse()
            .unwrap_or(i64::MAX / 2);
        e = e.saturating_add(if eneg { -n } else { n });
    }
    let e = e.clamp(-5000, 5000) as i32;
    // Two steps so that 2^e itself does not overflow or underflow before the product.
    let half = e / 2;
    Some((v * 2f64.powi(half) * 2f64.powi(e - half), nonzero))
}

/// A BY or GET pattern, split as Redis's `lookupKeyByPattern` splits it.
#[derive(Debug, PartialEq)]
enum Pattern<'p> {
    /// `#`: the element itself.
    Element,
    /// No `*`: names no key (GET answers nil).
    Nothing,
    /// The key is `prefix` + element + `suffix`; with `field`, that hash field.
    Key {
        prefix: &'p [u8],
        suffix: &'p [u8],
        field: Option<&'p [u8]>,
    },
}

impl<'p> Pattern<'p> {
    fn parse(p: &'p [u8]) -> Pattern<'p> {
        if p.first() == Some(&b'#') && (p.len() == 1 || p[1] == 0) {
            return Pattern::Element;
        }
        let Some(at) = star(p) else {
            return Pattern::Nothing;
        };
        // `->` after the star, followed by at least one (non-NUL) byte, names a field.
        let c = c_str(p);
        let arrow = c[at + 1..]
            .windows(2)
            .position(|w| w == b"->")
            .map(|i| at + 1 + i)
            .filter(|&f| f + 2 < c.len());
        match arrow {
            Some(f) => Pattern::Key {
                prefix: &p[..at],
                suffix: &p[at + 1..f],
                field: Some(&p[f + 2..]),
            },
            None => Pattern::Key {
                prefix: &p[..at],
                suffix: &p[at + 1..],
                field: None,
            },
        }
    }

    /// The value the pattern names for `element` (a counted read lookup, as Redis's).
    fn lookup(&self, db: &mut Db, element: &Bytes) -> Option<Bytes> {
        let (prefix, suffix, field) = match self {
            Pattern::Element => return Some(element.clone()),
            Pattern::Nothing => return None,
            Pattern::Key {
                prefix,
                suffix,
                field,
            } => (prefix, suffix, field),
        };
        let mut key = Vec::with_capacity(prefix.len() + element.len() + suffix.len());
        key.extend_from_slice(prefix);
        key.extend_from_slice(element);
        key.extend_from_slice(suffix);
        match (db.get(&key).map(|e| e.value()), field) {
            (Some(Value::Hash(h)), Some(f)) => h.get(f).map(Bytes::copy_from_slice),
            (Some(Value::Str(s)), None) => Some(s.to_bytes()),
            _ => None,
        }
    }
}

/// One element to sort, with what it sorts by.
#[derive(Debug)]
struct Item {
    element: Bytes,
    score: f64,
    /// The BY value for ALPHA sorts (`None`: its key or field is missing).
    weight: Option<Bytes>,
}

/// How items compare, as Redis's `sortCompare` (before DESC reverses it).
#[derive(Clone, Copy, Debug)]
struct Order {
    alpha: bool,
    by: bool,
    /// Storing compares binary; replying compares C strings (`strcoll` in the C locale).
    store: bool,
}

fn text_cmp(a: &[u8], b: &[u8], store: bool) -> Ordering {
    if store {
        a.cmp(b)
    } else {
        c_str(a).cmp(c_str(b))
    }
}

fn order(o: Order, a: &Item, b: &Item) -> Ordering {
    if !o.alpha {
        return match a.score.partial_cmp(&b.score) {
            Some(Ordering::Equal) | None => a.element.cmp(&b.element),
            Some(ord) => ord,
        };
    }
    if o.by {
        match (&a.weight, &b.weight) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => text_cmp(x, y, o.store),
        }
    } else {
        text_cmp(&a.element, &b.element, o.store)
    }
}

/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]` — O(N + M log M): N elements read, M sorted (O(N) when not sorting).
fn sort(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    sort_generic(ctx, args, false)
}

/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]` —
/// SORT without STORE.
fn sort_ro(ctx: &mut Ctx, args: &mut Args) -> CmdResult {
    sort_generic(ctx, args, true)
}

/// The elements of the value at `key` to sort, in load order, and the output range. Fails
/// with WRONGTYPE for a type SORT cannot read; a missing key is an empty list.
/// Turns sorting back on for a set being stored (see the module docs).
fn load(db: &mut Db, key: &[u8], o: &mut Options) -> Result<(Vec<Bytes>, i64, i64), CmdError> {
    let value = match db.get(key) {
        None => return Ok((Vec::new(), 0, -1)),
        Some(e) => e.value_mut(),
    };
    if let Value::ZSet(z) = value {
        z.convert();
    }
    let len = match &*value {
        Value::List(l) => l.len(),
        Value::Set(s) => s.len(),
        Value::ZSet(z) => z.len(),
        _ => return Err(CmdError::wrongtype()),
    };
    // A set that is not sorted has no defined order: to store it, Redis sorts it ALPHA so
    // the stored list (and its replay) is deterministic.
    if o.dont_sort && o.store.is_some() && matches!(value, Value::Set(_)) {
        o.dont_sort = false;
        o.alpha = true;
        o.by = None;
    }
    let (start, end) = clamp_limit(o.offset, o.count, len);
    // Lists and sorted sets without sorting: read just the range, in their own order.
    let window = (end >= start).then(|| (start as usize, (end - start + 1) as usize));
    let items = match &*value {
        Value::List(l) if o.dont_sort => {
            let Some((skip, take)) = window else {
                return Ok((Vec::new(), 0, -1));
            };
            let pick = |it: &mut dyn Iterator<Item = &[u8]>| -> Vec<Bytes> {
                it.skip(skip)
                    .take(take)
                    .map(Bytes::copy_from_slice)
                    .collect()
            };
            let items = if o.desc {
                pick(&mut l.iter_rev())
            } else {
                pick(&mut l.iter())
            };
            let n = items.len() as i64;
            return Ok((items, 0, n - 1));
        }
        Value::ZSet(z) if o.dont_sort => {
            let Some((skip, take)) = window else {
                return Ok((Vec::new(), 0, -1));
            };
            let (from, to) = if o.desc {
                (len - skip - take, len - skip)
            } else {
                (skip, skip + take)
            };
            let items: Vec<Bytes> = z
                .range(from, to, o.desc)
                .into_iter()
                .map(|(m, _)| m)
                .collect();
            let n = items.len() as i64;
            return Ok((items, 0, n - 1));
        }
        Value::List(l) => l.iter().map(Bytes::copy_from_slice).collect(),
        Value::Set(s) => s.members(),
        Value::ZSet(z) => z.iter().map(|(_, m)| m.clone()).collect(),
        _ => return Err(CmdError::wrongtype()),
    };
    Ok((items, start, end))
}

fn sort_generic(ctx: &mut Ctx, args: &mut Args, readonly: bool) -> CmdResult {
    let argv = args.argv();
    let key = argv.get(1).cloned().ok_or(CmdError::syntax())?;
    let mut o = parse_options(argv.get(2..).unwrap_or(&[]), readonly)?;
    let mut db = ctx.db();
    let (elements, start, end) = load(&mut db, &key, &mut o)?;
    let mut items: Vec<Item> = elements
        .into_iter()
        .map(|element| Item {
            element,
            score: 0.0,
            weight: None,
        })
        .collect();
    if !o.dont_sort {
        let by = o.by.as_deref().map(Pattern::parse);
        let mut bad = false;
        for item in &mut items {
            let value = match &by {
                Some(p) => match p.lookup(&mut db, &item.element) {
                    Some(v) => v,
                    None => continue,
                },
                None => item.element.clone(),
            };
            if o.alpha {
                if by.is_some() {
                    item.weight = Some(value);
                }
            } else {
                match parse_weight(&value) {
                    Some(s) => item.score = s,
                    None => bad = true,
                }
            }
        }
        if bad {
            return Err(CmdError::new(NOT_DOUBLE));
        }
        let ord = Order {
            alpha: o.alpha,
            by: by.is_some(),
            store: o.store.is_some(),
        };
        items.sort_by(|a, b| {
            let c = order(ord, a, b);
            if o.desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    let picked: &[Item] = if end >= start && start >= 0 {
        items.get(start as usize..=end as usize).unwrap_or(&[])
    } else {
        &[]
    };
    let gets: Vec<Pattern> = o.gets.iter().map(|g| Pattern::parse(g)).collect();
    let Some(dst) = o.store.clone() else {
        let mut out = Vec::with_capacity(picked.len() * gets.len().max(1));
        for item in picked {
            if gets.is_empty() {
                out.push(Reply::Bulk(item.element.clone()));
            }
            for g in &gets {
                out.push(Reply::opt_bulk(g.lookup(&mut db, &item.element)));
            }
        }
        return Ok(Reply::Array(out));
    };
    let mut stored: Vec<Bytes> = Vec::with_capacity(picked.len() * gets.len().max(1));
    for item in picked {
        if gets.is_empty() {
            stored.push(item.element.clone());
        }
        for g in &gets {
            stored.push(g.lookup(&mut db, &item.element).unwrap_or_default());
        }
    }
    let n = stored.len();
    let fill = Fill(
        ctx.shared
            .encodings
            .list_max_listpack_size
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    let mut db = ctx.db();
    if n > 0 {
        let list = ListValue::from_items(stored.iter().map(|b| b.as_ref()), fill);
        db.set(&dst, Value::List(Box::new(list)), Expiry::Persist);
        ctx.modified(&dst, notify::LIST, "sortstore");
        ctx.modified_many(n as u64 - 1);
    } else if db.remove(&dst).is_some() {
        ctx.modified(&dst, notify::GENERIC, "del");
    }
    Ok(Reply::Int(n as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<Bytes> {
        line.split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| Bytes::from(w.to_string()))
            .collect()
    }

    #[test]
    fn limit_clamps_as_redis() {
        // No LIMIT: everything.
        assert_eq!(clamp_limit(0, -1, 4), (0, 3));
        assert_eq!(clamp_limit(1, 2, 4), (1, 2));
        // A negative offset is 0; a negative count is "to the end".
        assert_eq!(clamp_limit(-5, 2, 4), (0, 1));
        assert_eq!(clamp_limit(2, -1, 4), (2, 3));
        // A zero count or an offset past the end: nothing.
        let (s, e) = clamp_limit(1, 0, 4);
        assert!(e < s);
        let (s, e) = clamp_limit(4, 10, 4);
        assert!(e < s);
        assert_eq!(clamp_limit(4, 10, 4), (3, 2));
        // Empty values, huge numbers: no overflow, nothing or the tail.
        assert_eq!(clamp_limit(0, -1, 0), (-1, -2));
        assert_eq!(clamp_limit(i64::MAX, i64::MAX, 4), (3, 2));
        assert_eq!(clamp_limit(2, i64::MAX, 4), (2, 3));
        assert_eq!(clamp_limit(i64::MIN, 3, 4), (0, 2));
        assert_eq!(clamp_limit(1, i64::MIN, 4), (1, 3));
    }

    #[test]
    fn weights_follow_strtod() {
        for (text, want) in [
            ("", Some(0.0)),
            ("12", Some(12.0)),
            (" \t12", Some(12.0)),
            ("+5", Some(5.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("-1e3", Some(-1000.0)),
            ("0x1A", Some(26.0)),
            ("0x1p3", Some(8.0)),
            ("-0X.8", Some(-0.5)),
            ("infinity", Some(f64::INFINITY)),
            ("-INF", Some(f64::NEG_INFINITY)),
            ("0e-400", Some(0.0)),
            ("2.4e-308", Some(2.4e-308)),
            ("12\0junk", Some(12.0)),
            ("12 ", None),
            (" ", None),
            ("1e", None),
            ("nan", None),
            ("1e400", None),
            ("1e-400", None),
            ("1e-310", None),
            ("0x", None),
            ("0xg", None),
            ("abc", None),
            ("1_0", None),
        ] {
            assert_eq!(parse_weight(text.as_bytes()), want, "{text:?}");
        }
    }

    #[test]
    fn patterns_split_as_redis() {
        assert_eq!(Pattern::parse(b"#"), Pattern::Element);
        assert_eq!(Pattern::parse(b"nosort"), Pattern::Nothing);
        assert_eq!(Pattern::parse(b"a\0*"), Pattern::Nothing);
        assert_eq!(
            Pattern::parse(b"w_*->f"),
            Pattern::Key {
                prefix: b"w_",
                suffix: b"",
                field: Some(b"f")
            }
        );
        // `->` with nothing after it, or before the star, is part of the key name.
        assert_eq!(
            Pattern::parse(b"a->*->"),
            Pattern::Key {
                prefix: b"a->",
                suffix: b"->",
                field: None
            }
        );
        assert_eq!(
            Pattern::parse(b"*x->f->g"),
            Pattern::Key {
                prefix: b"",
                suffix: b"x",
                field: Some(b"f->g")
            }
        );
    }

    #[test]
    fn options_read_left_to_right() {
        let o = parse_options(
            &words("by nosort by w_* limit 1 2 get # get o_* desc alpha store d"),
            false,
        )
        .unwrap();
        assert!(o.dont_sort && o.desc && o.alpha);
        assert_eq!(o.by.as_deref(), Some(&b"w_*"[..]));
        assert_eq!((o.offset, o.count), (1, 2));
        assert_eq!(o.gets.len(), 2);
        assert_eq!(o.store.as_deref(), Some(&b"d"[..]));
        let syntax = |line: &str, ro| {
            parse_options(&words(line), ro)
                .unwrap_err()
                .text()
                .to_string()
        };
        assert_eq!(syntax("limit 1", false), "ERR syntax error");
        assert_eq!(syntax("store d", true), "ERR syntax error");
        assert_eq!(syntax("by", false), "ERR syntax error");
        assert_eq!(
            syntax("limit x 1", false),
            "ERR value is not an integer or out of range"
        );
        assert!(!parse_options(&words("asc desc asc"), false).unwrap().desc);
    }

    fn item(e: &str, score: f64, weight: Option<&str>) -> Item {
        Item {
            element: Bytes::from(e.to_string()),
            score,
            weight: weight.map(|w| Bytes::from(w.to_string())),
        }
    }

    #[test]
    fn ordering_follows_sort_compare() {
        let num = Order {
            alpha: false,
            by: false,
            store: false,
        };
        // Equal scores fall back to the elements' bytes.
        assert_eq!(
            order(num, &item("b", 1.0, None), &item("a", 1.0, None)),
            Ordering::Greater
        );
        assert_eq!(
            order(num, &item("b", 1.0, None), &item("a", 2.0, None)),
            Ordering::Less
        );
        let alpha_by = Order {
            alpha: true,
            by: true,
            store: false,
        };
        // A missing weight sorts first; equal weights are equal (the sort keeps load order).
        assert_eq!(
            order(alpha_by, &item("a", 0.0, None), &item("b", 0.0, Some("x"))),
            Ordering::Less
        );
        assert_eq!(
            order(
                alpha_by,
                &item("b", 0.0, Some("x")),
                &item("a", 0.0, Some("x"))
            ),
            Ordering::Equal
        );
        // Replying compares C strings (to a NUL), storing compares every byte.
        let alpha = Order {
            alpha: true,
            by: false,
            store: false,
        };
        assert_eq!(
            order(alpha, &item("a\0b", 0.0, None), &item("a\0a", 0.0, None)),
            Ordering::Equal
        );
        let alpha_store = Order {
            store: true,
            ..alpha
        };
        assert_eq!(
            order(
                alpha_store,
                &item("a\0b", 0.0, None),
                &item("a\0a", 0.0, None)
            ),
            Ordering::Greater
        );
        assert_eq!(
            order(alpha, &item("B", 0.0, None), &item("a", 0.0, None)),
            Ordering::Less
        );
    }

    #[test]
    fn getkeys_finds_the_last_store() {
        let keys = |line: &str, f: KeysFn| {
            let argv = words(line);
            let mut out = Vec::new();
            f(&argv, &mut |p, s| out.push((p, s)));
            out
        };
        assert_eq!(
            keys("sort k by w_* get o_* store d", sort_keys),
            vec![(1, 0), (7, 2)]
        );
        assert_eq!(keys("sort k get store", sort_keys), vec![(1, 0)]);
        assert_eq!(
            keys("sort k store store d", sort_keys),
            vec![(1, 0), (4, 2)]
        );
        assert_eq!(
            keys("sort k limit store 1 store d", sort_keys),
            vec![(1, 0), (6, 2)]
        );
        assert_eq!(keys("sort_ro k store d", sort_ro_keys), vec![(1, 0)]);
    }
}
