//! What a key costs, in Redis's terms: the figure `MEMORY USAGE` reports and the amount
//! eviction counts as freed.
//!
//! Redis sums the allocations behind a key (its dict entry, key string, object header and
//! the value's encoding) as jemalloc sizes them. We estimate the same sum from the value's
//! shape — the encoding Redis would use for it, element sizes, jemalloc's size classes —
//! rather than from our own allocations, so a client sees figures close to Redis's (a
//! 1000-byte string under a 7-byte key is 1080 in both). Collections in table form are
//! estimated from `samples` elements (0: all), as Redis's `MEMORY USAGE … SAMPLES`.
//!
//! Eviction counts freed memory with the same estimate, not by reading the allocator before
//! and after each deletion as Redis does: our counter is folded per thread every 64 KiB, so
//! one deletion rarely shows up in it. The estimate only decides how many keys one round
//! evicts; whether memory is over the limit is always read from the real counter.

use super::small::SmallBytes;
use super::value::{StrValue, Value};

/// `sizeof(robj)`.
const ROBJ: usize = 16;
/// `sizeof(dictEntry)`.
const DICT_ENTRY: usize = 24;
/// `sizeof(dict)`.
const DICT: usize = 56;
/// `sizeof(quicklist)` and `sizeof(quicklistNode)`.
const QUICKLIST: usize = 40;
const QUICKLIST_NODE: usize = 32;
/// Elements per quicklist node under the default `list-max-listpack-size -2` (8 KiB nodes)
/// are bounded by bytes; this is the node payload we assume.
const NODE_BYTES: usize = 8 * 1024;

/// The size jemalloc hands out for a request of `n` bytes (its size classes: 8, then steps
/// of 16 up to 128, then four classes per doubling).
pub fn jemalloc_size(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    let pow = usize::BITS - (n - 1).leading_zeros(); // 2^pow >= n > 2^(pow-1)
    let step = 1usize << (pow - 3);
    n.div_ceil(step) * step
}

/// Allocation size of an sds string holding `len` bytes, created by length as Redis does
/// for keys and collection elements.
pub fn sds_size(len: usize) -> usize {
    let header = if len < 32 {
        1
    } else if len < 256 {
        3
    } else if len < 65_536 {
        5
    } else {
        9
    };
    jemalloc_size(header + len + 1)
}

/// Bytes one element takes in a listpack (encoding header, data, back-length).
fn listpack_entry(data: &[u8]) -> usize {
    if data.len() <= 20 {
        if let Some(n) = crate::protocol::number::parse_i64(data) {
            let body = match n {
                0..=127 => 1,
                -4096..=4095 => 2,
                -32_768..=32_767 => 3,
                -8_388_608..=8_388_607 => 4,
                -2_147_483_648..=2_147_483_647 => 5,
                _ => 9,
            };
            return body + 1;
        }
    }
    let len = data.len();
    let header = if len < 64 {
        1
    } else if len < 4096 {
        2
    } else {
        5
    };
    let body = header + len;
    let back = match body {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    };
    body + back
}

/// Listpack allocation for elements of these sizes: 6-byte header, entries, end byte.
fn listpack_size(entries: usize) -> usize {
    jemalloc_size(6 + entries + 1)
}

/// An estimate from `samples` elements (all when 0 or larger than `len`), scaled to `len`.
fn sampled<I: Iterator<Item = usize>>(iter: I, len: usize, samples: usize) -> usize {
    let take = if samples == 0 { len } else { samples.min(len) };
    if take == 0 {
        return 0;
    }
    let sum: usize = iter.take(take).sum();
    (sum as f64 / take as f64 * len as f64) as usize
}

/// Redis's size of the value alone (`objectComputeSize`).
pub fn value_usage(value: &Value, samples: usize) -> usize {
    match value {
        Value::Str(s) => match s {
            StrValue::Int(_) => ROBJ,
            _ if s.encoding() == "embstr" => jemalloc_size(ROBJ + 3 + s.len() + 1),
            _ => ROBJ + sds_size(s.len()),
        },
        Value::Hash(h) => {
            if h.is_packed() {
                let bytes: usize = h
                    .iter()
                    .map(|(f, v)| listpack_entry(f) + listpack_entry(v))
                    .sum();
                ROBJ + listpack_size(bytes)
            } else {
                let n = h.len();
                let each = h
                    .iter()
                    .map(|(f, v)| DICT_ENTRY + sds_size(f.len()) + sds_size(v.len()));
                ROBJ + DICT + 8 * n.next_power_of_two() + sampled(each, n, samples)
            }
        }
        Value::Set(s) => {
            let n = s.len();
            if s.encoding() == "intset" {
                let width = s
                    .iter()
                    .map(|m| match m {
                        super::set::Member::Int(i) if i16::try_from(i).is_ok() => 2,
                        super::set::Member::Int(i) if i32::try_from(i).is_ok() => 4,
                        _ => 8,
                    })
                    .max()
                    .unwrap_or(2);
                ROBJ + jemalloc_size(8 + width * n)
            } else {
                let each = s.iter().map(|m| {
                    let len = match m {
                        super::set::Member::Int(i) => itoa::Buffer::new().format(i).len(),
                        super::set::Member::Str(b) => b.len(),
                    };
                    DICT_ENTRY + sds_size(len)
                });
                ROBJ + DICT + 8 * n.next_power_of_two() + sampled(each, n, samples)
            }
        }
        Value::List(l) => {
            let bytes: usize = {
                let n = l.len();
                sampled(l.iter().map(listpack_entry), n, samples)
            };
            let nodes = bytes.div_ceil(NODE_BYTES).max(1);
            let per_node = bytes / nodes;
            ROBJ + QUICKLIST + nodes * (QUICKLIST_NODE + listpack_size(per_node))
        }
        Value::ZSet(z) => {
            let n = z.len();
            if z.encoding() == "listpack" {
                let bytes: usize = z
                    .iter()
                    .map(|(score, m)| {
                        listpack_entry(m) + listpack_entry(score_text(score).as_bytes())
                    })
                    .sum();
                ROBJ + listpack_size(bytes)
            } else {
                // zset + skiplist headers, the dict, the skiplist's 32-level header node, and
                // per element a node (1.33 levels on average), a dict entry and the member.
                let each = z
                    .iter()
                    .map(|(_, m)| sds_size(m.len()) + DICT_ENTRY + jemalloc_size(24 + 16 * 2));
                ROBJ + 16
                    + 32
                    + DICT
                    + 8 * n.next_power_of_two()
                    + jemalloc_size(24 + 16 * 32)
                    + sampled(each, n, samples)
            }
        }
        // A stream: its packed nodes plus a radix-tree node's worth of overhead per node,
        // close to what Redis's estimate adds up to for listpack-packed entries.
        Value::Stream(st) => ROBJ + 64 + st.nodes_bytes() + st.node_count() * 48,
    }
}

fn score_text(score: f64) -> String {
    if score.fract() == 0.0 && score.abs() < 1e17 {
        format!("{}", score as i64)
    } else {
        format!("{score}")
    }
}

/// What `MEMORY USAGE` reports for `key` holding `value`: the value, the key string and its
/// dict entry.
pub fn key_usage(key: &[u8], value: &Value, samples: usize) -> usize {
    value_usage(value, samples) + sds_size(key.len()) + DICT_ENTRY
}

/// What eviction counts as freed by deleting a key (a quick estimate: collections from a
/// few samples).
pub fn evicted_size(key: &SmallBytes, value: &Value) -> usize {
    key_usage(key, value, 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jemalloc_classes() {
        assert_eq!(jemalloc_size(1), 8);
        assert_eq!(jemalloc_size(9), 16);
        assert_eq!(jemalloc_size(23), 32);
        assert_eq!(jemalloc_size(129), 160);
        assert_eq!(jemalloc_size(1006), 1024);
        assert_eq!(jemalloc_size(1025), 1280);
        assert_eq!(jemalloc_size(4096), 4096);
    }

    #[test]
    fn strings_cost_what_redis_reports() {
        let s = |v: &[u8]| Value::Str(StrValue::from_bytes(v));
        // Figures from Redis 7.0.15's MEMORY USAGE.
        assert_eq!(key_usage(b"n", &s(b"5"), 0), 48);
        assert_eq!(key_usage(b"s", &s(b"abc"), 0), 64);
        assert_eq!(key_usage(b"k:19999", &s(&[b'x'; 1000]), 0), 1080);
    }
}
