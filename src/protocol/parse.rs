//! Incremental request decoder for the two forms Redis accepts: multibulk (`*2\r\n$3\r\nGET…`)
//! and inline (`GET key\r\n`, what telnet users and `redis-benchmark`'s PING_INLINE send).
//!
//! Written by hand rather than with `redis-protocol`: that crate has no inline form, keeps no
//! state across partial frames and has no length limits, and measured ~2× slower per frame.
//! The decoder keeps its place inside a multibulk request, so a large request that arrives
//! in many reads is scanned once; bulk arguments are zero-copy slices of the read buffer.
//! Error texts are Redis's, byte for byte; after one the connection is closed.

use bytes::{Buf, Bytes, BytesMut};

use super::number::parse_i64;
use super::split::split_args;

/// Longest inline request, and longest `*N`/`$N` header line, before it is refused.
pub const INLINE_MAX: usize = 64 * 1024;
/// Multibulk and bulk limits for clients that have not authenticated yet.
const UNAUTH_MAX_ARGS: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16384;

/// A protocol error: the text after `-ERR ` on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(pub String);

impl ParseError {
    fn new(s: &str) -> Self {
        ParseError(format!("Protocol error: {s}"))
    }
}

/// Decoder state for one connection.
#[derive(Debug)]
pub struct RequestParser {
    max_bulk: i64,
    /// Arguments still expected in the current multibulk request (0 = between requests).
    remaining: usize,
    /// Length of the bulk argument whose header has been read, if any.
    bulk_len: Option<usize>,
    args: Vec<Bytes>,
}

impl RequestParser {
    /// `max_bulk` is `proto-max-bulk-len`.
    pub fn new(max_bulk: u64) -> Self {
        RequestParser {
            max_bulk: max_bulk.min(i64::MAX as u64) as i64,
            remaining: 0,
            bulk_len: None,
            args: Vec::new(),
        }
    }

    /// Changes the largest bulk length accepted (`proto-max-bulk-len`).
    pub fn set_max_bulk(&mut self, max_bulk: u64) {
        self.max_bulk = max_bulk.min(i64::MAX as u64) as i64;
    }

    /// Takes one complete request off the front of `buf`. `Ok(None)`: more bytes needed.
    /// Empty requests (`*0`, blank inline lines) are skipped. `unauthenticated` applies the
    /// tighter limits Redis uses before `AUTH`.
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        unauthenticated: bool,
    ) -> Result<Option<Vec<Bytes>>, ParseError> {
        loop {
            if self.remaining == 0 {
                if buf.is_empty() {
                    return Ok(None);
                }
                if buf[0] != b'*' {
                    match self.inline(buf)? {
                        Inline::Incomplete => return Ok(None),
                        Inline::Empty => continue,
                        Inline::Request(args) => return Ok(Some(args)),
                    }
                }
                let Some(n) = header(buf, "too big mbulk count string")? else {
                    return Ok(None);
                };
                let n = match n {
                    Some(n) if n <= i32::MAX as i64 => n,
                    _ => return Err(ParseError::new("invalid multibulk length")),
                };
                if n > UNAUTH_MAX_ARGS && unauthenticated {
                    return Err(ParseError::new("unauthenticated multibulk length"));
                }
                if n <= 0 {
                    continue;
                }
                self.remaining = n as usize;
                self.args = Vec::with_capacity(self.remaining.min(1024));
            }
            while self.remaining > 0 {
                let len = match self.bulk_len {
                    Some(len) => len,
                    None => {
                        if buf.is_empty() {
                            return Ok(None);
                        }
                        if buf[0] != b'$' {
                            return Err(ParseError(format!(
                                "Protocol error: expected '$', got '{}'",
                                buf[0] as char
                            )));
                        }
                        let Some(n) = header(buf, "too big bulk count string")? else {
                            return Ok(None);
                        };
                        let n = match n {
                            Some(n) if n >= 0 && n <= self.max_bulk => n,
                            _ => return Err(ParseError::new("invalid bulk length")),
                        };
                        if n > UNAUTH_MAX_BULK && unauthenticated {
                            return Err(ParseError::new("unauthenticated bulk length"));
                        }
                        self.bulk_len = Some(n as usize);
                        n as usize
                    }
                };
                if buf.len() < len + 2 {
                    // Make room for the whole argument at once so a big value is not
                    // reallocated on every read.
                    buf.reserve(len + 2 - buf.len());
                    return Ok(None);
                }
                let arg = buf.split_to(len).freeze();
                buf.advance(2);
                self.args.push(arg);
                self.bulk_len = None;
                self.remaining -= 1;
            }
            return Ok(Some(std::mem::take(&mut self.args)));
        }
    }

    fn inline(&mut self, buf: &mut BytesMut) -> Result<Inline, ParseError> {
        let Some(nl) = memchr(b'\n', buf) else {
            if buf.len() > INLINE_MAX {
                return Err(ParseError::new("too big inline request"));
            }
            return Ok(Inline::Incomplete);
        };
        let line = buf.split_to(nl + 1);
        let mut text = &line[..nl];
        if text.last() == Some(&b'\r') {
            text = &text[..text.len() - 1];
        }
        let Some(parts) = split_args(text) else {
            return Err(ParseError::new("unbalanced quotes in request"));
        };
        if parts.is_empty() {
            return Ok(Inline::Empty);
        }
        Ok(Inline::Request(
            parts.into_iter().map(Bytes::from).collect(),
        ))
    }
}

enum Inline {
    Incomplete,
    Empty,
    Request(Vec<Bytes>),
}

/// Reads a `*N\r\n` or `$N\r\n` header. `Ok(None)`: incomplete. `Ok(Some(None))`: the number
/// is malformed. The header is consumed when complete.
#[allow(clippy::type_complexity)]
fn header(buf: &mut BytesMut, too_big: &str) -> Result<Option<Option<i64>>, ParseError> {
    let Some(cr) = memchr(b'\r', buf) else {
        if buf.len() > INLINE_MAX {
            return Err(ParseError::new(too_big));
        }
        return Ok(None);
    };
    if cr + 1 >= buf.len() {
        return Ok(None);
    }
    let n = parse_i64(&buf[1..cr]);
    buf.advance(cr + 2);
    Ok(Some(n))
}

#[inline]
fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &[u8]) -> (Vec<Vec<String>>, Option<String>, usize) {
        let mut p = RequestParser::new(512 * 1024 * 1024);
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        loop {
            match p.next(&mut buf, false) {
                Ok(Some(args)) => out.push(
                    args.iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect(),
                ),
                Ok(None) => return (out, None, buf.len()),
                Err(e) => return (out, Some(e.0), buf.len()),
            }
        }
    }

    #[test]
    fn multibulk_and_inline_pipelined() {
        let (reqs, err, left) =
            parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a \"b c\"\n*0\r\n\r\n");
        assert_eq!(err, None);
        assert_eq!(left, 0);
        assert_eq!(
            reqs,
            vec![vec!["GET", "k"], vec!["PING"], vec!["set", "a", "b c"]]
        );
    }

    #[test]
    fn partial_frames_resume_byte_by_byte() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        let mut p = RequestParser::new(1 << 20);
        let mut buf = BytesMut::new();
        let mut got = None;
        for &b in input.iter() {
            buf.extend_from_slice(&[b]);
            if let Some(args) = p.next(&mut buf, false).unwrap() {
                got = Some(args);
            }
        }
        let args = got.unwrap();
        assert_eq!(args, vec!["SET", "key", "value"]);
        assert!(buf.is_empty());
    }

    #[test]
    fn protocol_errors_have_redis_texts() {
        let cases: &[(&[u8], &str)] = &[
            (b"*x\r\n", "Protocol error: invalid multibulk length"),
            (b"*1\r\n$x\r\n", "Protocol error: invalid bulk length"),
            (b"*1\r\n$-5\r\n", "Protocol error: invalid bulk length"),
            (b"*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'"),
            (
                b"set \"a\r\n",
                "Protocol error: unbalanced quotes in request",
            ),
            (
                b"*9999999999\r\n",
                "Protocol error: invalid multibulk length",
            ),
        ];
        for (input, want) in cases {
            let (_, err, _) = parse_all(input);
            assert_eq!(
                err.as_deref(),
                Some(*want),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn bulk_over_the_limit_is_refused() {
        let mut p = RequestParser::new(10);
        let mut buf = BytesMut::from(&b"*1\r\n$11\r\n"[..]);
        assert_eq!(
            p.next(&mut buf, false).unwrap_err().0,
            "Protocol error: invalid bulk length"
        );
    }

    #[test]
    fn too_big_inline_and_headers() {
        let big = vec![b'a'; INLINE_MAX + 1];
        let (_, err, _) = parse_all(&big);
        assert_eq!(
            err.as_deref(),
            Some("Protocol error: too big inline request")
        );
        let mut star = b"*".to_vec();
        star.extend(vec![b'1'; INLINE_MAX + 1]);
        let (_, err, _) = parse_all(&star);
        assert_eq!(
            err.as_deref(),
            Some("Protocol error: too big mbulk count string")
        );
    }

    #[test]
    fn unauthenticated_limits() {
        let mut p = RequestParser::new(1 << 20);
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        assert_eq!(
            p.next(&mut buf, true).unwrap_err().0,
            "Protocol error: unauthenticated multibulk length"
        );
    }

    #[test]
    fn binary_values_are_kept_intact() {
        let (reqs, err, _) = parse_all(b"*2\r\n$3\r\na\r\n\r\n$0\r\n\r\n");
        assert_eq!(err, None);
        assert_eq!(reqs, vec![vec!["a\r\n".to_string(), String::new()]]);
    }
}

/// Property tests: arbitrary bytes, split arbitrarily, never panic the decoder, and
/// well-formed requests survive any split.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn encode(args: &[Vec<u8>]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn garbage_never_panics(data in prop::collection::vec(any::<u8>(), 0..300), cut in 1usize..40) {
            let mut p = RequestParser::new(1 << 20);
            let mut buf = BytesMut::new();
            for chunk in data.chunks(cut) {
                buf.extend_from_slice(chunk);
                while let Ok(Some(_)) = p.next(&mut buf, false) {}
            }
        }

        #[test]
        fn requests_survive_any_split(
            reqs in prop::collection::vec(prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 1..5), 1..5),
            cut in 1usize..30,
        ) {
            let wire: Vec<u8> = reqs.iter().flat_map(|r| encode(r)).collect();
            let mut p = RequestParser::new(1 << 20);
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for chunk in wire.chunks(cut) {
                buf.extend_from_slice(chunk);
                while let Some(args) = p.next(&mut buf, false).unwrap() {
                    got.push(args.iter().map(|a| a.to_vec()).collect::<Vec<_>>());
                }
            }
            prop_assert_eq!(got, reqs);
        }
    }
}
